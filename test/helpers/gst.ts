import { run } from './media.js';

/** The one error rtspsrc raises from its own shutdown race (below), as gst-launch prints it. */
const PAUSE_RACE =
  /^ERROR: from element \S+rtspsrc\d+: Could not write to resource\.\nAdditional debug info:\n\S+gstrtspsrc\.c\(\d+\): gst_rtspsrc_(try_send|pause) \(\): \S+\nCould not send message\. \(Received end-of-file\)$/;

/** gst-launch's error blocks ("ERROR: from element ..." up to the next blank line or ERROR). */
function errorBlocks(stderr: string): string[] {
  return stderr
    .split(/\n(?=ERROR: )/)
    .map((block) => block.trim())
    .filter((block) => block.startsWith('ERROR: '));
}

/**
 * Runs `gst-launch-1.0 -e <pipeline>` until its EOS and returns its stdout.
 *
 * On its way down after EOS, rtspsrc sends PAUSE from its task thread while the change to READY flushes
 * the same connection from another; when the flush lands first, the PAUSE "could not send" and gst-launch
 * exits 1. The server is not involved: in a GST_DEBUG=rtspsrc:6 trace of it (1 run in 100 beside a
 * loaded test suite) the TEARDOWN that follows on the same connection is answered 200. Only that race,
 * after "Got EOS", is let through; any other error, or an exit before EOS, fails the caller.
 */
export async function gstUntilEos(pipeline: string[], timeoutMs = 30_000): Promise<string> {
  try {
    const { stdout } = await run('gst-launch-1.0', ['-e', ...pipeline], {
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
    return String(stdout);
  } catch (err) {
    const failed = err as { code?: unknown; stdout?: unknown; stderr?: unknown };
    const stdout = String(failed.stdout ?? '');
    const blocks = errorBlocks(String(failed.stderr ?? ''));
    const raced =
      failed.code === 1 &&
      stdout.includes('Got EOS from element') &&
      blocks.length > 0 &&
      blocks.every((block) => PAUSE_RACE.test(block));
    if (!raced) throw err;
    return stdout;
  }
}

/**
 * `frames` access units of an RTSP stream as GStreamer's depayloader gives them (TCP), written as
 * Annex-B to `out`: what a byte-for-byte check compares with the input.
 */
export async function gstDepayToFile(url: string, codec: 'h264' | 'h265', frames: number, out: string) {
  return gstUntilEos([
    ...['rtspsrc', `location=${url}`, 'protocols=tcp', '!', `rtp${codec}depay`, '!'],
    ...[`${codec}parse`, '!', `video/x-${codec},stream-format=byte-stream,alignment=au`, '!'],
    ...['identity', `eos-after=${frames}`, '!', 'filesink', `location=${out}`],
  ]);
}

/** `frames` pictures of an RTSP stream decoded by GStreamer over UDP (libav's decoder). */
export async function gstDecodeUdp(url: string, codec: 'h264' | 'h265', frames: number) {
  return gstUntilEos([
    ...['rtspsrc', `location=${url}`, 'protocols=udp', '!', `rtp${codec}depay`, '!'],
    ...[`${codec}parse`, '!', `avdec_${codec}`, '!', 'identity', `eos-after=${frames}`, '!', 'fakesink'],
  ]);
}
