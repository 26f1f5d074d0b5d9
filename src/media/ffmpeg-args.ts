import type { AudioCodec, MediaConfig } from './config.js';
import { fileInput } from './probe.js';

/**
 * The ffmpeg command line of the capture pipeline, as a pure function with table tests
 * (test/media/ffmpeg-args.test.ts). One ffmpeg opens the source once and writes:
 *   fd 3: main stream, H.264 + audio in MPEG-TS (the TS carries ffmpeg's own timestamps)
 *   fd 4: sub stream, H.264 in MPEG-TS
 *   fd 5: analysis frames, raw 8-bit grayscale at low resolution and rate (motion, QR)
 * Known ffmpeg 5.1 pitfalls: `-re` and `-t` belong before each `-i`; `-nostdin` unless stdin is ours
 * (it is: `q` stops it politely); x264's repeat-headers and aud give SPS/PPS at every keyframe and
 * access unit delimiters.
 */
export interface StreamProfile {
  width: number;
  height: number;
  fps: number;
  bitrateKbps: number;
}

/** The streams of a `file` source, found by `probeMediaFile` before ffmpeg starts. */
export interface FileStreams {
  /** Absolute stream index of the picture (cover art skipped). */
  video: number;
  /** Absolute stream index of the sound; undefined when the file has none. */
  audio: number | undefined;
  /** A single picture: the image demuxer loops it (`-loop 1`); `-stream_loop` would give one frame. */
  still?: boolean | undefined;
}

export interface CaptureArgs {
  source: MediaConfig['source'];
  /**
   * For a `file` source: which streams it has. Without it (the probe failed) the first video stream
   * is used and the sound is silence, so ffmpeg never waits for an audio stream that is not there.
   */
  file?: FileStreams | undefined;
  audio: MediaConfig['audio'];
  encoder: MediaConfig['encoder'];
  analysis: MediaConfig['analysis'];
  gopSeconds: number;
  main: StreamProfile;
  sub: StreamProfile;
  /**
   * For a `v4l2` source: the device's format as chosen from `v4l2-ctl --list-formats-ext`
   * (media/v4l2-formats.ts). `copy`: the device gives H.264, which goes out as it is.
   */
  v4l2?: { inputFormat: string; copy: boolean } | undefined;
}

export const MAIN_FD = 3;
export const SUB_FD = 4;
export const ANALYSIS_FD = 5;
/** fd 6: the same audio as 8 kHz G.711 µ-law, for WebRTC viewers (PCMU) that cannot take AAC. */
export const PCMU_FD = 6;

// Moves across the picture in the first 8 s of every 30 s, so motion alarms happen on their own.
const MOVING_OBJECT = "x='if(lt(mod(t,30),8),mod(t,30)/8*(W+w)-w,-w-10)':y='H/2-h/2'";

function videoInput(args: CaptureArgs): string[] {
  const { source, main } = args;
  switch (source.kind) {
    case 'test': {
      const size = `${main.width}x${main.height}`;
      const box = Math.max(16, Math.round(main.height / 5));
      const graph = [
        `smptehdbars=size=${size}:rate=${main.fps}[bg]`,
        `color=c=white:size=${box}x${box}:rate=${main.fps}[obj]`,
        `[bg][obj]overlay=${MOVING_OBJECT}:shortest=1,drawtext=text='%{localtime}':x=16:y=16:fontsize=${Math.max(12, Math.round(main.height / 20))}:fontcolor=white:box=1:boxcolor=black@0.6`,
      ].join(';');
      return ['-re', '-f', 'lavfi', '-i', graph];
    }
    case 'file':
      return args.file?.still
        ? ['-re', '-loop', '1', '-i', fileInput(source.path)]
        : ['-re', '-stream_loop', '-1', '-i', fileInput(source.path)];
    case 'v4l2': {
      const inputFormat = args.v4l2?.inputFormat ?? source.inputFormat;
      return [
        '-f',
        'v4l2',
        ...(inputFormat ? ['-input_format', inputFormat] : []),
        '-video_size',
        `${source.width}x${source.height}`,
        '-framerate',
        String(source.fps),
        '-i',
        source.device,
      ];
    }
    case 'pipe':
    case 'rpicam':
    case 'rtsp':
      // Never reaches here: an encoded source has no encoder process (media/encoded-capture.ts).
      throw new Error(`a ${source.kind} source is not captured by ffmpeg`);
  }
}

/**
 * Silence for a source without sound: the main stream, RTSP, WebRTC (PCMU) and clips then always have
 * the same audio track, whatever the file, so no consumer needs a case for "no audio".
 */
function silence(audio: CaptureArgs['audio']): string[] {
  const layout = audio.channels === 2 ? 'stereo' : 'mono';
  return ['-re', '-f', 'lavfi', '-i', `anullsrc=channel_layout=${layout}:sample_rate=${audio.sampleRate}`];
}

/** The file's own sound is used only when the probe found one. */
function fileAudio(args: CaptureArgs): number | undefined {
  return args.source.kind === 'file' && args.audio.source === 'source' ? args.file?.audio : undefined;
}

function audioInput(args: CaptureArgs): string[] {
  const { audio } = args;
  if (audio.codec === 'none') return [];
  switch (audio.source) {
    case 'test':
      return ['-re', '-f', 'lavfi', '-i', `sine=frequency=440:beep_factor=4:sample_rate=${audio.sampleRate}`];
    case 'alsa':
      return [
        '-f',
        'alsa',
        '-ac',
        String(audio.channels),
        '-ar',
        String(audio.sampleRate),
        '-i',
        audio.device,
      ];
    case 'source':
      // A file's own audio comes from input 0: no second input.
      return fileAudio(args) !== undefined ? [] : silence(audio);
  }
}

/** libx264 and yuv420p need even sizes; settings are validated as even, this keeps old state safe too. */
function even(n: number): number {
  return Math.max(2, Math.floor(n / 2) * 2);
}

function encoderArgs(args: CaptureArgs, profile: StreamProfile): string[] {
  const gop = String(Math.max(1, Math.round(profile.fps * args.gopSeconds)));
  const rate = [
    `-b:v`,
    `${profile.bitrateKbps}k`,
    '-maxrate',
    `${profile.bitrateKbps}k`,
    '-bufsize',
    `${profile.bitrateKbps * 2}k`,
  ];
  const common = ['-g', gop, '-keyint_min', gop, '-bf', '0', '-pix_fmt', 'yuv420p', ...rate];
  if (args.encoder === 'libx264') {
    // Constrained baseline: the profile every WebRTC browser and NVR accepts.
    return [
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-tune',
      'zerolatency',
      '-profile:v',
      'baseline',
      '-sc_threshold',
      '0',
      '-x264-params',
      'repeat-headers=1:aud=1',
      ...common,
    ];
  }
  return ['-c:v', args.encoder, ...common];
}

function audioEncoder(codec: AudioCodec, channels: number, sampleRate: number): string[] {
  return codec === 'aac'
    ? ['-c:a', 'aac', '-b:a', '64k', '-ac', String(channels), '-ar', String(sampleRate)]
    : [];
}

function pcmuOutput(audioStream: string): string[] {
  return [
    '-map',
    audioStream,
    '-c:a',
    'pcm_mulaw',
    '-ar',
    '8000',
    '-ac',
    '1',
    '-f',
    'mulaw',
    `pipe:${PCMU_FD}`,
  ];
}

export function buildCaptureArgs(args: CaptureArgs): string[] {
  if (args.source.kind === 'v4l2' && (args.v4l2?.copy || args.source.inputFormat === 'h264'))
    return copyCaptureArgs(args);
  const { analysis, audio, source } = args;
  const main = { ...args.main, width: even(args.main.width), height: even(args.main.height) };
  const sub = { ...args.sub, width: even(args.sub.width), height: even(args.sub.height) };
  const hasAudio = audio.codec !== 'none';
  const ownAudio = fileAudio(args);
  const audioStream = ownAudio !== undefined ? `0:${ownAudio}` : '1:a:0';
  // A file's picture by its index: `[0:v]` could be cover art or a second video stream.
  const video = source.kind === 'file' ? `[0:${args.file?.video ?? 'v:0'}]` : '[0:v]';
  const graph = [
    `${video}fps=${main.fps},scale=${main.width}:${main.height},split=3[vmain][vs][va]`,
    `[vs]fps=${sub.fps},scale=${sub.width}:${sub.height}[vsub]`,
    // Never above the picture's own rate: duplicated frames would cost analysis and show no change.
    `[va]fps=${Math.min(analysis.fps, main.fps)},scale=${analysis.width}:${analysis.height},format=gray[vana]`,
  ].join(';');
  const ts = ['-f', 'mpegts', '-muxdelay', '0', '-muxpreload', '0', '-flush_packets', '1'];
  return [
    '-hide_banner',
    '-loglevel',
    'warning',
    '-nostats',
    ...videoInput({ ...args, main }),
    ...audioInput(args),
    '-filter_complex',
    graph,
    '-map',
    '[vmain]',
    ...(hasAudio ? ['-map', audioStream] : []),
    ...encoderArgs(args, main),
    ...(hasAudio ? audioEncoder(audio.codec, audio.channels, audio.sampleRate) : []),
    ...ts,
    `pipe:${MAIN_FD}`,
    '-map',
    '[vsub]',
    ...encoderArgs(args, sub),
    ...ts,
    `pipe:${SUB_FD}`,
    '-map',
    '[vana]',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'gray',
    `pipe:${ANALYSIS_FD}`,
    ...(hasAudio ? pcmuOutput(audioStream) : []),
  ];
}

/**
 * A V4L2 device that encodes H.264 itself (UVC H.264, the Pi's bcm2835 camera): its stream goes to
 * main and sub as it is (`-c:v copy`; sub is the main stream, since a smaller one would mean
 * encoding); ffmpeg only decodes it for the analysis frames and muxes. No encoder in this argv.
 */
function copyCaptureArgs(args: CaptureArgs): string[] {
  const { analysis, audio } = args;
  const hasAudio = audio.codec !== 'none';
  const ts = ['-f', 'mpegts', '-muxdelay', '0', '-muxpreload', '0', '-flush_packets', '1'];
  return [
    ...['-hide_banner', '-loglevel', 'warning', '-nostats'],
    ...videoInput({ ...args, v4l2: { inputFormat: 'h264', copy: true } }),
    ...audioInput(args),
    '-filter_complex',
    `[0:v]fps=${analysis.fps},scale=${analysis.width}:${analysis.height},format=gray[vana]`,
    ...['-map', '0:v:0', ...(hasAudio ? ['-map', '1:a:0'] : []), '-c:v', 'copy'],
    ...(hasAudio ? audioEncoder(audio.codec, audio.channels, audio.sampleRate) : []),
    ...ts,
    `pipe:${MAIN_FD}`,
    ...['-map', '0:v:0', '-c:v', 'copy', ...ts, `pipe:${SUB_FD}`],
    ...['-map', '[vana]', '-f', 'rawvideo', '-pix_fmt', 'gray', `pipe:${ANALYSIS_FD}`],
    ...(hasAudio ? pcmuOutput('1:a:0') : []),
  ];
}
