import type { ArtifactFormat } from './document.js';

/** What runs now, as the bootloader step (or the config) tells it. */
export interface RunningFirmware {
  version: string;
  versionCode: number;
  /** The A/B slot booted, where the installer knows it. */
  slot: string | undefined;
  /** This boot fell back from an unconfirmed slot (boot attempts used up, or a bad manifest). */
  fellBack: { slot: string; reason: string } | undefined;
  /** Changes with every boot: tells "rebooted since" from "only the daemon restarted". */
  bootId: string;
}

export interface ExpectedFirmware {
  version: string;
  versionCode: number;
}

/**
 * One way of writing firmware. `install` writes the image into the slot that is not running and
 * makes it the next boot, on trial; after that boot, `markGood` keeps it and `markBad` makes the
 * following boot go back to the old slot.
 */
export interface Installer {
  readonly name: 'ab-dir' | 'rauc' | 'swupdate';
  readonly format: ArtifactFormat;
  /** Filesystems the install writes to besides the download directory, for the free-space check. */
  spaceNeeded(imageSize: number): { path: string; bytes: number }[];
  install(
    image: string,
    expect: ExpectedFirmware,
    signal: AbortSignal,
    onProgress?: (pct: number) => void,
  ): Promise<void>;
  markGood(): Promise<void>;
  markBad(): Promise<void>;
}
