import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TalkFloor } from '../../src/media/talk-floor.js';
import { FileSpeaker } from '../../src/webrtc/speaker.js';
import { captureLog, useTempDir } from '../core/fixtures.js';

describe('TalkFloor: one talker at a time on the speaker', () => {
  const tempDir = useTempDir('talk-floor');

  it('refuses a second talker while the first holds the speaker, whichever way each talks', async () => {
    const path = join(await tempDir(), 'speaker.ulaw');
    const captured = captureLog();
    const { log } = captured;
    const floor = new TalkFloor(new FileSpeaker(path, log), log);
    let closes = 0;
    const secondClose = captured.waitFor((r) => r.msg === 'speaker file closed' && ++closes === 2);
    const webrtc = floor.take('webrtc');
    expect(webrtc).toBeDefined();
    await webrtc?.opened;
    expect(floor.take('rtsp')).toBeUndefined();
    expect(floor.talker).toBe('webrtc');
    webrtc?.play(Buffer.from([1, 2, 3]));
    webrtc?.release();
    webrtc?.play(Buffer.from([4, 5, 6])); // after release: not played

    // The next talker's open waits for the last one's close, then starts a new file.
    const rtsp = floor.take('rtsp');
    expect(rtsp).toBeDefined();
    await rtsp?.opened;
    expect(floor.take('webrtc')).toBeUndefined();
    rtsp?.play(Buffer.from([7, 8]));
    rtsp?.release();
    await secondClose;
    expect(await readFile(path)).toEqual(Buffer.from([7, 8]));
    expect(floor.talker).toBeUndefined();
  });

  it('gives nobody a turn without a speaker', () => {
    const { log } = captureLog();
    const floor = new TalkFloor(undefined, log);
    expect(floor.hasSpeaker).toBe(false);
    expect(floor.take('rtsp')).toBeUndefined();
  });
});
