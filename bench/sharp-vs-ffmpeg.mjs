// sharp (libvips) against ffmpeg's scaler for the two small pictures a camera is asked for: an alarm
// thumbnail (320x180) and a Home Assistant camera picture (640x360), both from a 1080p JPEG snapshot.
// sharp is not a dependency of the project (docs/dependencies.md says why), so this runs from a scratch
// install outside the repository:
//
//   npm install --prefix /tmp/sharp-try sharp
//   cp bench/sharp-vs-ffmpeg.mjs /tmp/sharp-try/ && cd /tmp/sharp-try
//   ffmpeg -f lavfi -i testsrc2=size=1920x1080:rate=1 -frames:v 1 -q:v 3 in.jpg
//   node --expose-gc sharp-vs-ffmpeg.mjs
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const rss = (pid = 'self') =>
  Number(/^Rss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))[1]) / 1024;
const pss = (pid = 'self') =>
  Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))[1]) / 1024;
const jpeg = readFileSync('in.jpg');
const sizes = [
  [320, 180, 'alarm thumbnail'],
  [640, 360, 'Home Assistant picture'],
];
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const runs = 15;

function ffmpegScale(w, h) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(
      'ffmpeg',
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'mjpeg',
        '-i',
        'pipe:0',
        '-vf',
        `scale=${w}:${h}`,
        '-frames:v',
        '1',
        '-q:v',
        '4',
        '-f',
        'mjpeg',
        'pipe:1',
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const out = [];
    let peak = 0,
      peakPss = 0;
    const t = setInterval(() => {
      try {
        const r = rss(child.pid);
        if (r > peak) {
          peak = r;
          peakPss = pss(child.pid);
        }
      } catch {}
    }, 5);
    child.stdout.on('data', (d) => out.push(d));
    child.once('close', (code) => {
      clearInterval(t);
      code === 0
        ? resolve({ ms: performance.now() - t0, bytes: Buffer.concat(out).length, peak, peakPss })
        : reject(new Error(`ffmpeg ${code}`));
    });
    child.stdin.end(jpeg);
  });
}
const base = rss();
for (const [w, h, what] of sizes) {
  const f = [];
  let p = 0,
    pp = 0,
    bytes = 0;
  for (let i = 0; i < runs; i++) {
    const r = await ffmpegScale(w, h);
    f.push(r.ms);
    p = Math.max(p, r.peak);
    pp = Math.max(pp, r.peakPss);
    bytes = r.bytes;
  }
  console.log(
    `ffmpeg scale ${w}x${h} (${what}): median ${med(f).toFixed(1)} ms per picture (process start included), child peak RSS ${p.toFixed(1)} MB / PSS ${pp.toFixed(1)} MB, ${bytes} B`,
  );
}
const before = rss();
const t0 = performance.now();
const sharp = (await import('sharp')).default;
const loadMs = performance.now() - t0;
const loaded = rss();
let peak = loaded;
for (const [w, h, what] of sizes) {
  const f = [];
  let bytes = 0;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const out = await sharp(jpeg).resize(w, h).jpeg({ quality: 80 }).toBuffer();
    f.push(performance.now() - t);
    bytes = out.length;
    peak = Math.max(peak, rss());
  }
  console.log(`sharp resize ${w}x${h} (${what}): median ${med(f).toFixed(1)} ms per picture, ${bytes} B`);
}
global.gc?.();
await new Promise((r) => setTimeout(r, 500));
console.log(
  `sharp: import ${loadMs.toFixed(0)} ms; process RSS ${before.toFixed(1)} MB -> ${loaded.toFixed(1)} MB loaded (+${(loaded - before).toFixed(1)}), peak ${peak.toFixed(1)} (+${(peak - before).toFixed(1)}), after work ${rss().toFixed(1)} (+${(rss() - before).toFixed(1)}); sharp.concurrency ${sharp.concurrency()}, cache ${JSON.stringify(sharp.cache())}`,
);
console.log(
  `node ${process.version}, sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}; baseline RSS ${base.toFixed(1)}`,
);
