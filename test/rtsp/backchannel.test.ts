import { execFile, spawn } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRtp } from '../../src/rtp/packet.js';
import { RawRtspClient } from '../helpers/raw-rtsp.js';
import { type RtspSim, startRtspSim } from '../helpers/rtsp-sim.js';

const run = promisify(execFile);
const REQUIRE = { Require: 'www.onvif.org/ver20/backchannel' };

/** A tone as ffmpeg makes it: G.711 at 8 kHz, mono. */
async function tone(codec: 'mulaw' | 'alaw', frequency: number, seconds: number): Promise<Buffer> {
  const { stdout } = await run(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=${frequency}:duration=${seconds}`,
    ].concat(['-ar', '8000', '-ac', '1', '-f', codec, 'pipe:1']),
    { encoding: 'buffer', maxBuffer: 1 << 20 },
  );
  return stdout;
}

function ulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const magnitude = ((((u & 0x0f) << 3) + 0x84) << ((u >> 4) & 0x07)) - 0x84;
  return u & 0x80 ? -magnitude : magnitude;
}

/** Relative power of one frequency in µ-law audio (Goertzel), normalised by the signal's energy. */
function powerAt(ulaw: Buffer, frequency: number): number {
  const coeff = 2 * Math.cos((2 * Math.PI * frequency) / 8000);
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  for (const byte of ulaw) {
    const x = ulawToLinear(byte) / 32768;
    energy += x * x;
    const s0 = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (energy * ulaw.length || 1);
}

/** RTP packets of 20 ms (160 bytes) of G.711. */
function packets(audio: Buffer, payloadType: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, seq = 1; at < audio.length; at += 160, seq += 1) {
    out.push(
      writeRtp(
        { payloadType, sequenceNumber: seq, timestamp: at, ssrc: 0x1234, marker: seq === 1 },
        audio.subarray(at, at + 160),
      ),
    );
  }
  return out;
}

function interleaved(channel: number, packet: Buffer): Buffer {
  const head = Buffer.from([0x24, channel, 0, 0]);
  head.writeUInt16BE(packet.length, 2);
  return Buffer.concat([head, packet]);
}

/** An even UDP port pair bound for the client's RTP and RTCP. */
async function clientPorts(): Promise<{ rtp: UdpSocket; rtcp: UdpSocket; port: number }> {
  for (;;) {
    const rtp = createSocket('udp4');
    await new Promise<void>((resolve) => rtp.bind(0, '127.0.0.1', resolve));
    const port = rtp.address().port;
    const rtcp = createSocket('udp4');
    const bound = await new Promise<boolean>((resolve) => {
      rtcp.once('error', () => resolve(false));
      rtcp.bind(port + 1, '127.0.0.1', () => resolve(true));
    });
    if (port % 2 === 0 && bound) return { rtp, rtcp, port };
    rtp.close();
    if (bound) rtcp.close();
  }
}

describe('ONVIF Profile T audio back channel over RTSP (real simulator)', () => {
  let sim: RtspSim;
  const speakerFile = () => join(sim.dataDir, 'sim-speaker.ulaw');
  const logsAfter = (count: number, msg: string) =>
    sim.sim.stdout.waitFor(
      (line) => line.includes(`"msg":"${msg}"`) && sim.sim.stdout.lines.indexOf(line) >= count,
      msg,
      30_000,
    );

  beforeAll(async () => {
    sim = await startRtspSim();
  }, 60_000);
  afterAll(async () => {
    await sim?.sim.kill();
  });

  it('adds a sendonly G.711 track for a client that requires the back channel, and refuses unknown options with 551', async () => {
    const client = await RawRtspClient.open(sim.rtspPort, sim.credentials);
    const url = sim.url('/main', false);
    const plain = await client.request('DESCRIBE', url, { Accept: 'application/sdp' });
    expect(plain.status).toBe(200);
    expect(plain.body).not.toContain('sendonly');
    expect(plain.body).not.toContain('trackID=2');

    const withBack = await client.request('DESCRIBE', url, { Accept: 'application/sdp', ...REQUIRE });
    expect(withBack.status).toBe(200);
    const media = withBack.body.split(/(?=m=)/).at(-1) ?? '';
    expect(media).toMatch(/^m=audio 0 RTP\/AVP 0 8\r\n/);
    expect(media).toContain('a=rtpmap:0 PCMU/8000');
    expect(media).toContain('a=rtpmap:8 PCMA/8000');
    expect(media).toContain('a=control:trackID=2');
    expect(media).toContain('a=sendonly');

    const unknown = await client.request('DESCRIBE', url, { Require: 'com.example.teleport' });
    expect(unknown.status).toBe(551);
    expect(unknown.headers.unsupported).toBe('com.example.teleport');
    // Without the Require header the back channel's track does not exist.
    const setup = await client.request('SETUP', `${url}/trackID=2`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=4-5',
    });
    expect(setup.status).toBe(404);
    client.close();
  });

  it('plays G.711 a client sends over TCP on the speaker, drops hostile RTP, and refuses a second talker', async () => {
    const url = sim.url('/main', false);
    const first = await RawRtspClient.open(sim.rtspPort, sim.credentials);
    const setup = await first.request('SETUP', `${url}/trackID=2`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=4-5',
      ...REQUIRE,
    });
    expect(setup.status).toBe(200);
    const session = (setup.headers.session ?? '').split(';')[0] ?? '';
    expect((await first.request('PLAY', url, { Session: session, ...REQUIRE })).status).toBe(200);

    // Someone else wants to talk meanwhile: the speaker is taken.
    const second = await RawRtspClient.open(sim.rtspPort, sim.credentials);
    const refused = await second.request('SETUP', `${url}/trackID=2`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
      ...REQUIRE,
    });
    expect(refused.status).toBe(453);
    second.close();

    const linesBefore = sim.sim.stdout.lines.length;
    const dropped = logsAfter(linesBefore, 'rtsp back channel packet dropped');
    const audio = await tone('mulaw', 440, 1.5);
    const hostile = [
      Buffer.from([0x40, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3]), // RTP version 1
      writeRtp(
        { payloadType: 96, sequenceNumber: 9, timestamp: 0, ssrc: 1, marker: false },
        Buffer.alloc(160),
      ),
      writeRtp(
        { payloadType: 0, sequenceNumber: 9, timestamp: 0, ssrc: 1, marker: false },
        Buffer.alloc(9000, 0xff),
      ),
    ];
    first.send(Buffer.concat([...hostile, ...packets(audio, 0)].map((p) => interleaved(4, p))));
    const played = JSON.parse(await logsAfter(linesBefore, 'talk-back audio played')) as {
      levelDbfs: number;
    };
    // lavfi sine is at 1/8 of full scale: about -21 dBFS RMS; silence would be far below.
    expect(played.levelDbfs).toBeGreaterThan(-30);
    expect(await dropped).toBeTruthy();

    const ended = logsAfter(linesBefore, 'rtsp back channel ended');
    const closed = logsAfter(linesBefore, 'speaker file closed');
    expect((await first.request('TEARDOWN', url, { Session: session })).status).toBe(200);
    expect(JSON.parse(await ended)).toMatchObject({ bytes: audio.length });
    await closed;
    const heard = await readFile(speakerFile());
    expect(heard.equals(audio)).toBe(true);
    expect(powerAt(heard, 440)).toBeGreaterThan(10 * powerAt(heard, 1000));
    first.close();
  }, 60_000);

  it('plays A-law that ffmpeg sends over UDP as a 440 Hz tone (after the first talker left)', async () => {
    const url = sim.url('/sub', false);
    const client = await RawRtspClient.open(sim.rtspPort, sim.credentials);
    const ports = await clientPorts();
    const setup = await client.request('SETUP', `${url}/trackID=2`, {
      Transport: `RTP/AVP;unicast;client_port=${ports.port}-${ports.port + 1}`,
      ...REQUIRE,
    });
    expect(setup.status).toBe(200);
    const serverPort = Number(/server_port=(\d+)/.exec(setup.headers.transport ?? '')?.[1]);
    const session = (setup.headers.session ?? '').split(';')[0] ?? '';
    expect((await client.request('PLAY', url, { Session: session, ...REQUIRE })).status).toBe(200);
    // ffmpeg sends from the client's ports: the server knows the back channel's packets by them.
    ports.rtp.close();
    ports.rtcp.close();
    const linesBefore = sim.sim.stdout.lines.length;
    const ffmpeg = spawn(
      'ffmpeg',
      ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1.5']
        .concat(['-ar', '8000', '-ac', '1', '-c:a', 'pcm_alaw', '-f', 'rtp'])
        .concat([`rtp://127.0.0.1:${serverPort}?localrtpport=${ports.port}&localrtcpport=${ports.port + 1}`]),
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const exit = await new Promise<number | null>((resolve) => ffmpeg.once('close', resolve));
    expect(exit).toBe(0);
    const ended = logsAfter(linesBefore, 'rtsp back channel ended');
    const closed = logsAfter(linesBefore, 'speaker file closed');
    expect((await client.request('TEARDOWN', url, { Session: session })).status).toBe(200);
    const { bytes } = JSON.parse(await ended) as { bytes: number };
    expect(bytes).toBeGreaterThanOrEqual(11_000);
    await closed;
    const heard = await readFile(speakerFile());
    expect(heard.length).toBe(bytes);
    expect(powerAt(heard, 440)).toBeGreaterThan(10 * powerAt(heard, 1000));
    client.close();
  }, 60_000);
});
