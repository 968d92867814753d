// Runs every compiled *.test.js under dist/ with node:test. Node 20's --test takes
// file paths, not globs, so the files are collected here.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) collect(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filter = process.argv[2];
const roots = ['dist/src', 'dist/test'];
let files = roots.flatMap((r) => { try { return collect(r, []); } catch { return []; } });
if (filter) files = files.filter((f) => f.includes(filter));
files.sort();
if (files.length === 0) {
  console.error('no test files found under dist/: run `npm run build` first');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--enable-source-maps', '--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
