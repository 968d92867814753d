import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { FsBlobStore } from './fs/blob-store.js';
import { collectGarbage } from './gc.js';
import { MemoryBlobStore } from './memory/blob-store.js';
import type { BlobStore, DataPiece, MetadataStore } from './ports.js';
import { SqliteMetadataStore } from './sqlite/metadata-store.js';

const HOUR = 3_600_000;

function piece(blobId: string): DataPiece {
  return { blobId, size: 1, enc: { scheme: 1, dek: { v: 1, kid: 'k', iv: '', ct: '', tag: '' } } };
}

async function seed(meta: MetadataStore, blobs: BlobStore): Promise<void> {
  await meta.createAccount({ id: '111122223333', name: 'a', canonicalId: 'c'.repeat(64), email: null, createdAt: 'now' });
  await meta.createBucket({ name: 'b', accountId: '111122223333', region: 'us-east-1', createdAt: 'now', versioning: 'Unversioned' });
  for (const id of ['keptVer1', 'keptPart', 'orphanOld', 'orphanNew']) await blobs.write(id, Readable.from([Buffer.from(id)]));
  await meta.insertVersion({
    bucket: 'b', key: 'k', versionId: 'null', isDeleteMarker: false, size: 1, etag: '"e"', lastModified: 'now',
    ownerAccountId: '111122223333', meta: { user: {} }, checksum: null, tags: {}, uploadId: null,
    pieces: [piece('keptVer1')], sse: { algorithm: 'AES256' },
  }, { replaceNullVersion: true });
  await meta.createUpload({
    uploadId: 'u1', bucket: 'b', key: 'k', initiated: 'now', ownerAccountId: '111122223333', meta: { user: {} }, tags: {},
    checksumAlgorithm: null, checksumType: null,
  });
  await meta.putPart({ uploadId: 'u1', partNumber: 1, size: 1, etag: '"p"', lastModified: 'now', checksum: null, piece: piece('keptPart') });
}

async function ids(blobs: BlobStore): Promise<string[]> {
  const out: string[] = [];
  for await (const b of blobs.list()) out.push(b.blobId);
  return out.sort();
}

describe('collectGarbage', () => {
  it('deletes old unreferenced blobs only (memory blobs)', async () => {
    const meta = SqliteMetadataStore.open(':memory:');
    const blobs = new MemoryBlobStore();
    await seed(meta, blobs);
    for (const id of ['keptVer1', 'keptPart', 'orphanOld']) blobs.setMtime(id, Date.now() - 2 * HOUR);
    assert.equal(await collectGarbage(meta, blobs, { olderThanMs: HOUR }), 1);
    assert.deepEqual(await ids(blobs), ['keptPart', 'keptVer1', 'orphanNew']);
    assert.equal(await collectGarbage(meta, blobs, { olderThanMs: HOUR }), 0, 'idempotent');
    await meta.close();
  });

  it('deletes old unreferenced blobs only (file blobs, real mtimes)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kura-gc-'));
    try {
      const meta = SqliteMetadataStore.open(join(dir, 'meta.db'));
      const blobs = await FsBlobStore.open(join(dir, 'blobs'));
      await seed(meta, blobs);
      const old = new Date(Date.now() - 2 * HOUR);
      for (const id of ['keptVer1', 'keptPart', 'orphanOld']) await utimes(join(dir, 'blobs', id.slice(0, 2), id), old, old);
      assert.equal(await collectGarbage(meta, blobs, { olderThanMs: HOUR }), 1);
      assert.deepEqual(await ids(blobs), ['keptPart', 'keptVer1', 'orphanNew']);
      // Once the upload is aborted its part is garbage too (the caller deletes it; GC would have).
      const aborted = await meta.abortUpload('u1');
      assert.deepEqual(aborted.blobIds, ['keptPart']);
      assert.equal(await collectGarbage(meta, blobs, { olderThanMs: HOUR }), 1);
      assert.deepEqual(await ids(blobs), ['keptVer1', 'orphanNew']);
      await meta.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
