import { execFile } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ensurePrompts, PROMPTS } from '../../src/hardware/voice/prompts.js';
import { FfmpegVoice, playbackArgs } from '../../src/hardware/voice/voice.js';
import { captureLog, useTempDir } from '../core/fixtures.js';

const run = promisify(execFile);

async function probe(file: string): Promise<{ codec: string; seconds: number }> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'stream=codec_name:format=duration',
    '-of',
    'json',
    file,
  ]);
  const info = JSON.parse(stdout) as { streams: { codec_name: string }[]; format: { duration: string } };
  return { codec: info.streams[0]?.codec_name ?? '', seconds: Number(info.format.duration) };
}

describe('voice prompts', () => {
  const tempDir = useTempDir('voice');

  it('speaks every prompt with espeak-ng into a WAV file, and keeps files already there', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'connected.wav'), 'recorded by the maker');
    expect(await ensurePrompts(dir, { log: captureLog().log })).toBe('espeak');
    const names = (await readdir(dir)).sort();
    expect(names).toEqual(
      Object.keys(PROMPTS)
        .map((n) => `${n}.wav`)
        .sort(),
    );
    expect(await readFile(join(dir, 'connected.wav'), 'utf8')).toBe('recorded by the maker');
    const spoken = await probe(join(dir, 'auth_error.wav'));
    expect(spoken.codec).toBe('pcm_s16le');
    expect(spoken.seconds).toBeGreaterThan(0.5);
    expect(await ensurePrompts(dir, { log: captureLog().log })).toBe('present');
  });

  it('falls back to short tones made by ffmpeg when espeak-ng is missing', async () => {
    const dir = await tempDir();
    const capture = captureLog();
    expect(await ensurePrompts(dir, { log: capture.log, espeak: join(dir, 'no-espeak') })).toBe('tones');
    const tone = await probe(join(dir, 'waiting.wav'));
    expect(tone).toEqual({ codec: 'pcm_s16le', seconds: 0.4 });
    expect((await stat(join(dir, 'waiting.wav'))).size).toBeLessThan(16000);
    expect(capture.records().some((r) => r.msg === 'espeak-ng not found: voice prompts are tones')).toBe(
      true,
    );
  });

  it('builds the ffmpeg argv for ALSA and for the simulator’s files', () => {
    expect(playbackArgs('/p/connected.wav', { kind: 'alsa', device: 'hw:0,0' })).toEqual([
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-i',
      '/p/connected.wav',
      '-f',
      'alsa',
      'hw:0,0',
    ]);
    expect(playbackArgs('/p/a.wav', { kind: 'files', dir: '/s' }, '/s/0001-a.wav').slice(-6)).toEqual([
      '-c:a',
      'pcm_s16le',
      '-f',
      'wav',
      '-y',
      '/s/0001-a.wav',
    ]);
  });

  it('the simulator’s voice plays prompts in order into numbered WAV files', async () => {
    const dir = await tempDir();
    await ensurePrompts(join(dir, 'prompts'), { log: captureLog().log, espeak: join(dir, 'no-espeak') });
    const voice = new FfmpegVoice({
      promptsDir: join(dir, 'prompts'),
      output: { kind: 'files', dir: join(dir, 'spoken') },
      log: captureLog().log,
    });
    const spoken: string[] = [];
    voice.on('spoken', (prompt) => spoken.push(prompt));
    await Promise.all([voice.say('connecting'), voice.say('connected')]);
    expect(spoken).toEqual(['connecting', 'connected']);
    expect((await readdir(join(dir, 'spoken'))).sort()).toEqual([
      '0001-connecting.wav',
      '0002-connected.wav',
    ]);
    expect(await probe(join(dir, 'spoken', '0002-connected.wav'))).toEqual({
      codec: 'pcm_s16le',
      seconds: 0.4,
    });
    await voice.stop();
    await voice.say('waiting');
    expect(spoken).toEqual(['connecting', 'connected']);
  });

  it('logs and skips a prompt the sound device refuses, without throwing', async () => {
    const dir = await tempDir();
    await ensurePrompts(dir, { log: captureLog().log, espeak: join(dir, 'no-espeak') });
    const capture = captureLog();
    const voice = new FfmpegVoice({
      promptsDir: dir,
      output: { kind: 'alsa', device: 'hw:99,0' },
      log: capture.log,
    });
    await voice.say('connected');
    expect(capture.records().some((r) => r.msg === 'voice prompt failed' && r.prompt === 'connected')).toBe(
      true,
    );
  });
});
