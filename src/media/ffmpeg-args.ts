import type { AudioCodec, MediaConfig } from './config.js';

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

export interface CaptureArgs {
  source: MediaConfig['source'];
  audio: MediaConfig['audio'];
  encoder: MediaConfig['encoder'];
  analysis: MediaConfig['analysis'];
  gopSeconds: number;
  main: StreamProfile;
  sub: StreamProfile;
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
      return ['-re', '-stream_loop', '-1', '-i', source.path];
    case 'v4l2':
      return [
        '-f',
        'v4l2',
        ...(source.inputFormat ? ['-input_format', source.inputFormat] : []),
        '-video_size',
        `${source.width}x${source.height}`,
        '-framerate',
        String(source.fps),
        '-i',
        source.device,
      ];
  }
}

function audioInput(args: CaptureArgs): string[] {
  const { audio, source } = args;
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
      return source.kind === 'file' ? [] : ['-re', '-f', 'lavfi', '-i', 'anullsrc'];
  }
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
  const { main, sub, analysis, audio, source } = args;
  const hasAudio = audio.codec !== 'none';
  // `?`: a file without audio still plays, silently.
  const audioStream = audio.source === 'source' && source.kind === 'file' ? '0:a:0?' : '1:a:0';
  const graph = [
    `[0:v]fps=${main.fps},scale=${main.width}:${main.height},split=3[vmain][vs][va]`,
    `[vs]fps=${sub.fps},scale=${sub.width}:${sub.height}[vsub]`,
    `[va]fps=${analysis.fps},scale=${analysis.width}:${analysis.height},format=gray[vana]`,
  ].join(';');
  const ts = ['-f', 'mpegts', '-muxdelay', '0', '-muxpreload', '0', '-flush_packets', '1'];
  return [
    '-hide_banner',
    '-loglevel',
    'warning',
    '-nostats',
    ...videoInput(args),
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
