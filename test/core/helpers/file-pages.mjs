// Unmaps this process's file pages with the addon named on the command line, after Node has started and
// done some work, then does that work again: prints the file-backed RSS before and after the call, what
// the call reported, and the work's results after it (they must not change: a page discarded that was
// not the file's own, like a library's relocated RELRO, crashes the process instead).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { deflateSync, inflateSync } from 'node:zlib';

const addon = createRequire(import.meta.url)(process.argv[2]);
const rollup = () => readFileSync('/proc/self/smaps_rollup', 'utf8');
const fieldKb = (text, name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN);
const fileKb = () => {
  const text = rollup();
  return fieldKb(text, 'Rss') - fieldKb(text, 'Anonymous');
};

function work() {
  return {
    sha256: createHash('sha256').update('ipcam-agent').digest('hex'),
    json: JSON.stringify(JSON.parse('{"a":[1,2,{"b":"c"}]}')),
    date: new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC' }).format(new Date(0)),
    zlib: inflateSync(deflateSync(Buffer.from('x'.repeat(1000)))).length,
    regexp: /(\d+)-(\d+)/.exec('at 12-34')?.slice(1).join(','),
  };
}

const first = work();
const before = fileKb();
const droppedKb = addon.dropFilePages();
const after = fileKb();
const again = work();
process.stdout.write(JSON.stringify({ before, droppedKb, after, first, again }));
