/** FsBlobStore specifics beyond the contract: layout, id validation, partial files, fsyncs. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FsBlobStore } from './blob-store.js';

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('FsBlobStore', () => {
  let dir: string;
  let store: FsBlobStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kura-fsblob-'));
    store = await FsBlobStore.open(join(dir, 'blobs'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('shards blobs by the first two characters of their id', async () => {
    await store.write('AbCdEf', Readable.from([Buffer.from('x')]));
    assert.ok(existsSync(join(dir, 'blobs', 'Ab', 'AbCdEf')));
  });

  it('refuses ids that are not base64url (no path tricks)', async () => {
    for (const bad of ['../../etc/passwd', 'a/b/c/d', '', 'abc', 'ab.cd', 'x'.repeat(200)]) {
      await assert.rejects(store.write(bad, Readable.from([Buffer.from('x')])), /invalid blob id/, bad);
      await assert.rejects(drain(store.read(bad)), /invalid blob id/, bad);
      await assert.rejects(store.delete(bad), /invalid blob id/, bad);
    }
  });

  it('removes the partial file when the source fails midway', async () => {
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(3 * 1024 * 1024, 7);
      await new Promise((r) => setTimeout(r, 10));
      throw new Error('reset by peer');
    }
    await assert.rejects(store.write('partial1', Readable.from(failing(), { objectMode: false })), /reset by peer/);
    assert.deepEqual(await readdir(join(dir, 'blobs', 'pa')), []);
  });

  it('list ignores foreign files and directories', async () => {
    await store.write('goodblob', Readable.from([Buffer.from('x')]));
    await writeFile(join(dir, 'blobs', 'README'), 'not a shard');
    await mkdir(join(dir, 'blobs', 'lost+found'));
    await writeFile(join(dir, 'blobs', 'go', 'other.tmp'), 'not a blob');
    await writeFile(join(dir, 'blobs', 'go', 'zzzzzz'), 'wrong shard');
    const listed = [];
    for await (const b of store.list()) listed.push(b.blobId);
    assert.deepEqual(listed, ['goodblob']);
  });

  it('a whole-blob reader abandoned midway closes its file, and ranged reads clamp to the blob', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 5, 9);
    await store.write('bigblob1', Readable.from([big]));
    for (let i = 0; i < 50; i++) {
      for await (const chunk of store.read('bigblob1')) {
        assert.ok((chunk as Buffer).length > 0);
        break; // destroys the stream while the next read may be in flight
      }
    }
    assert.equal((await drain(store.read('bigblob1'))).length, big.length);
    assert.equal((await drain(store.read('bigblob1', { start: big.length - 2, end: big.length + 100 }))).length, 2);
    await store.delete('bigblob1');
  });

  it('reopening sees earlier blobs', async () => {
    await store.write('persist1', Readable.from([Buffer.from('kept')]));
    const again = await FsBlobStore.open(join(dir, 'blobs'));
    assert.equal((await drain(again.read('persist1'))).toString(), 'kept');
  });
});
