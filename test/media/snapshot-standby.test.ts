import { describe, expect, it } from 'vitest';
import { AccessUnitSplitter } from '../../src/media/au-splitter.js';
import { StreamHub } from '../../src/media/hub.js';
import { SnapshotMaker } from '../../src/media/snapshot.js';
import { ffmpeg } from '../helpers/media-fixtures.js';
import { childProcesses } from '../helpers/proc.js';

/** A hub holding one GOP of a 320x240 stream made by ffmpeg, as a pipe source would leave it. */
async function hubWithGop(): Promise<StreamHub> {
  const { stdout } = await ffmpeg([
    ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10'],
    ...['-frames:v', '10', '-c:v', 'libx264', '-profile:v', 'baseline', '-g', '10', '-f', 'h264', 'pipe:1'],
  ]);
  const hub = new StreamHub('main');
  let pts = 0;
  const splitter = new AccessUnitSplitter(
    (au) => {
      hub.pushVideo({
        kind: 'video',
        codec: 'h264',
        nalus: au.nalus,
        keyframe: au.keyframe,
        pts,
        at: Date.now(),
      });
      pts += 9000;
    },
    () => undefined,
  );
  splitter.push(stdout);
  splitter.end();
  return hub;
}

const snapshotDecoders = async () =>
  (await childProcesses(process.pid)).filter((c) => c.argv.includes('mjpeg')).length;

describe('snapshot standby decoder', () => {
  it('without standby keeps no ffmpeg waiting, before or after a snapshot, and still makes the picture', async () => {
    const hub = await hubWithGop();
    const maker = new SnapshotMaker('ffmpeg', { standby: false });
    maker.warm();
    expect(await snapshotDecoders()).toBe(0);
    const shot = await maker.take(hub);
    expect(shot).toMatchObject({ width: 320, height: 240 });
    expect(shot.jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(await snapshotDecoders()).toBe(0);
    maker.close();
  });

  it('with standby keeps one ffmpeg waiting, started again after each snapshot', async () => {
    const hub = await hubWithGop();
    const maker = new SnapshotMaker('ffmpeg');
    maker.warm();
    expect(await snapshotDecoders()).toBe(1);
    await maker.take(hub);
    expect(await snapshotDecoders()).toBe(1);
    maker.close();
  });
});
