// Loaded with `node --import` into a daemon under test: at exit, the built-in modules Node loaded go to
// the file MODULE_LIST_OUT names, one per line (process.moduleLoadList).
import { writeFileSync } from 'node:fs';

const out = process.env.MODULE_LIST_OUT;
if (out) process.on('exit', () => writeFileSync(out, process.moduleLoadList.join('\n')));
