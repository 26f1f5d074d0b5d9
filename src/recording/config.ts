import { type Static, Type as T } from '@sinclair/typebox';

/**
 * Formatting the card on the owner's request (`cmd/formatStorage`, docs/recording.md). Without
 * `device` the command answers `format_unavailable`. Commands are argv arrays, run without a shell;
 * a board whose tools live elsewhere (or need a wrapper) names them here.
 */
export const FormatConfig = T.Object(
  {
    /** The card's block device, e.g. `/dev/mmcblk0p1`. */
    device: T.Optional(T.String({ minLength: 1, pattern: '^/' })),
    fsType: T.Union([T.Literal('vfat'), T.Literal('exfat'), T.Literal('ext4')], { default: 'vfat' }),
    /** Volume label; vfat allows 11 characters, ext4 16. */
    label: T.Optional(T.String({ minLength: 1, maxLength: 11, pattern: '^[A-Za-z0-9_-]+$' })),
    /** Replaces `mkfs.<fsType>`; the options and the device are appended. */
    mkfsCommand: T.Optional(T.Array(T.String({ minLength: 1 }), { minItems: 1 })),
    /** Replaces `umount`; the mount point is appended. */
    umountCommand: T.Optional(T.Array(T.String({ minLength: 1 }), { minItems: 1 })),
    /** Replaces `mount`; `-t <fsType> <device> <root>` is appended. */
    mountCommand: T.Optional(T.Array(T.String({ minLength: 1 }), { minItems: 1 })),
    /** Longest each step may take; mkfs on a large slow card is the long one. */
    stepTimeoutMs: T.Integer({ minimum: 1000, maximum: 600000, default: 120000 }),
  },
  { additionalProperties: false, default: {} },
);
export type FormatConfig = Static<typeof FormatConfig>;

/**
 * How the firmware engineer set recording up (config `recording`); what and how long to record is
 * the owner's, in settings. Every size is in bytes, every time in ms unless named otherwise.
 */
export const RecordingConfig = T.Object(
  {
    enabled: T.Boolean({ default: true }),
    /** The SD card's mount point. */
    root: T.String({ minLength: 1, default: '/mnt/sdcard' }),
    /** The root must be a mount point (on a camera): nothing is written to the root file system. */
    requireMount: T.Boolean({ default: true }),
    segmentSeconds: T.Integer({ minimum: 5, maximum: 600, default: 60 }),
    fragmentMs: T.Integer({ minimum: 200, maximum: 10000, default: 1000 }),
    /** fsync at most this often while writing (0: after every fragment). */
    syncIntervalMs: T.Integer({ minimum: 0, maximum: 60000, default: 1000 }),
    /** Free space on the card that recording never uses. */
    reserveBytes: T.Integer({ minimum: 0, default: 256 * 1024 * 1024 }),
    /** How often the card is looked at (mounted, writable, space). */
    checkIntervalMs: T.Integer({ minimum: 100, maximum: 600000, default: 5000 }),
    /** Most pre-roll kept in memory, whatever the settings ask. */
    preRollMaxBytes: T.Integer({ minimum: 1024 * 1024, default: 32 * 1024 * 1024 }),
    format: FormatConfig,
  },
  { additionalProperties: false, default: {} },
);
export type RecordingConfig = Static<typeof RecordingConfig>;
