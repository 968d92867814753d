/**
 * Acknowledged means durable: a child process inserts versions with 16 concurrent writers and
 * prints "acked <n>" as each insert resolves; it is SIGKILLed mid-stream, and every acked row
 * must be there after reopening. (kill -9 loses the process, not the OS page cache; power-loss
 * durability rests on synchronous=FULL making COMMIT fsync the WAL, checked in the pragma test.)
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteMetadataStore } from './metadata-store.js';

const CHILD = `
const [moduleUrl, path, first] = process.argv.slice(1);
const { SqliteMetadataStore } = await import(moduleUrl);
const store = SqliteMetadataStore.open(path);
if (!(await store.getAccount('111122223333'))) {
  await store.createAccount({ id: '111122223333', name: 'a', canonicalId: 'c'.repeat(64), email: null, createdAt: 'now' });
  await store.createBucket({ name: 'b', accountId: '111122223333', region: 'us-east-1', createdAt: 'now', versioning: 'Unversioned' });
}
let next = Number(first);
const dek = { v: 1, kid: 'k', iv: '', ct: '', tag: '' };
async function writer() {
  for (;;) {
    const n = next++;
    await store.insertVersion({
      bucket: 'b', key: 'k' + n, versionId: 'null', isDeleteMarker: false, size: 1, etag: '"e"',
      lastModified: new Date().toISOString(), ownerAccountId: '111122223333', meta: { user: {} }, checksum: null,
      tags: {}, uploadId: null, pieces: [{ blobId: 'blob' + n, size: 1, enc: { scheme: 1, dek } }], sse: { algorithm: 'AES256' },
    }, { replaceNullVersion: true });
    process.stdout.write('acked ' + n + '\\n');
  }
}
for (let i = 0; i < 16; i++) void writer();
`;

/** Runs the writer child until it has acked `killAfter` inserts, SIGKILLs it, and returns every ack it printed. */
async function runAndKill(path: string, first: number, killAfter: number): Promise<number[]> {
  const moduleUrl = new URL('./metadata-store.js', import.meta.url).href;
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, moduleUrl, path, String(first)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const acked: number[] = [];
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    const m = /^acked (\d+)$/.exec(line);
    if (!m) return;
    acked.push(Number(m[1]));
    if (acked.length === killAfter) child.kill('SIGKILL');
  });
  const closed = new Promise<void>((resolve) => lines.on('close', resolve));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const signal = await exited;
  await closed; // acks still in the pipe when the child died count too
  clearTimeout(timer);
  assert.equal(signal, 'SIGKILL', 'the child was killed, not finished');
  return acked;
}

describe('SqliteMetadataStore durability under SIGKILL', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kura-durability-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('every acknowledged insert is present after kill -9, twice in a row', async () => {
    const path = join(dir, 'meta.db');
    const rounds = [await runAndKill(path, 0, 1500)];
    rounds.push(await runAndKill(path, 1_000_000, 1500)); // recovery of a killed WAL, then killed again

    const raw = new Database(path, { readonly: true });
    try {
      assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
    } finally {
      raw.close();
    }
    const store = SqliteMetadataStore.open(path);
    try {
      for (const acked of rounds) {
        assert.ok(acked.length >= 1500, `only ${acked.length} acks`);
        const missing: number[] = [];
        for (const n of acked) if ((await store.getObjectVersion('b', `k${n}`)) === undefined) missing.push(n);
        assert.deepEqual(missing, [], `${missing.length} of ${acked.length} acknowledged inserts were lost`);
      }
    } finally {
      await store.close();
    }
  });
});
