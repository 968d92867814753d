/**
 * Storage micro-benchmarks: `node dist/src/storage/bench.js [dir]`. Measures group-committed
 * inserts with concurrent writers, listing pages, and the small-PUT path (blob + metadata).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { FsBlobStore } from './fs/blob-store.js';
import type { ObjectVersion } from './ports.js';
import { SqliteMetadataStore } from './sqlite/metadata-store.js';

function version(key: string, blobId: string): ObjectVersion {
  return {
    bucket: 'bench', key, versionId: 'null', isDeleteMarker: false, size: 1024, etag: '"0123456789abcdef0123456789abcdef"',
    lastModified: new Date().toISOString(), ownerAccountId: '111122223333',
    meta: { contentType: 'application/octet-stream', user: {} }, checksum: { algorithm: 'CRC32', type: 'FULL_OBJECT', value: 'AAAAAA==' },
    tags: {}, uploadId: null,
    pieces: [{ blobId, size: 1024, enc: { scheme: 1, dek: { v: 1, kid: 'mk-20240101-00000000', iv: 'A'.repeat(16), ct: 'B'.repeat(44), tag: 'C'.repeat(24) } } }],
    sse: { algorithm: 'AES256' },
  };
}

async function openMeta(dir: string): Promise<SqliteMetadataStore> {
  const meta = SqliteMetadataStore.open(join(dir, 'meta.db'));
  await meta.createAccount({ id: '111122223333', name: 'bench', canonicalId: 'c'.repeat(64), email: null, createdAt: 'now' });
  await meta.createBucket({ name: 'bench', accountId: '111122223333', region: 'us-east-1', createdAt: 'now', versioning: 'Unversioned' });
  return meta;
}

/** Runs `writers` loops of `op` until `total` operations are done; returns ops/s. */
async function concurrent(writers: number, total: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: writers }, async () => {
    while (next < total) await op(next++);
  }));
  return total / (Number(process.hrtime.bigint() - start) / 1e9);
}

/** Runs every benchmark in a scratch directory under `base` and prints the figures. */
export async function benchStorage(base = tmpdir()): Promise<void> {
  const dir = await mkdtemp(join(base, 'kura-bench-'));
  try {
    {
      const meta = await openMeta(dir);
      for (const writers of [1, 16, 64]) {
        const rate = await concurrent(writers, writers === 1 ? 2000 : 20000,
          (i) => meta.insertVersion(version(`w${writers}/${i}`, `blob${writers}x${i}`), { replaceNullVersion: true }));
        console.log(`insertVersion, ${writers} concurrent writers, file-backed, synchronous=FULL: ${Math.round(rate)} inserts/s`);
      }
      await meta.close();
    }
    {
      await rm(join(dir, 'meta.db'), { force: true });
      await rm(join(dir, 'meta.db-wal'), { force: true });
      await rm(join(dir, 'meta.db-shm'), { force: true });
      const meta = await openMeta(dir);
      await Promise.all(Array.from({ length: 10000 }, (_, i) =>
        meta.insertVersion(version(`photos/2024/${String(i).padStart(5, '0')}.jpg`, `lb${i}`), { replaceNullVersion: true })));
      for (let warm = 0; warm < 3; warm++) await meta.listLatest('bench', { prefix: '', after: '', limit: 1000 });
      const runs = 50;
      let t = process.hrtime.bigint();
      for (let r = 0; r < runs; r++) await meta.listLatest('bench', { prefix: 'photos/', after: 'photos/2024/04000.jpg', limit: 1000 });
      const perPage = Number(process.hrtime.bigint() - t) / 1e6 / runs;
      console.log(`listLatest over 10,000 keys, page of 1000: ${perPage.toFixed(2)} ms/page`);
      t = process.hrtime.bigint();
      let pages = 0;
      let after = '';
      for (;;) {
        const page = await meta.listLatest('bench', { prefix: '', after, limit: 1000 });
        pages++;
        if (!page.truncated) break;
        after = page.items[page.items.length - 1]!.key;
      }
      console.log(`listLatest full scan of 10,000 keys in ${pages} pages: ${(Number(process.hrtime.bigint() - t) / 1e6).toFixed(1)} ms`);
      await meta.close();
    }
    {
      const blobs = await FsBlobStore.open(join(dir, 'blobs'));
      const body = Buffer.alloc(1024, 7);
      for (const writers of [16, 64]) {
        const rate = await concurrent(writers, 5000, (i) => blobs.write(`b${writers}blob${i}`, Readable.from([body])));
        console.log(`FsBlobStore.write 1 KiB, ${writers} concurrent (file + dir fsync): ${Math.round(rate)} blobs/s`);
      }
      const meta = await openMeta(join(dir, 'put'));
      for (const writers of [16, 64]) {
        const rate = await concurrent(writers, 5000, async (i) => {
          const id = `p${writers}blob${i}`;
          await blobs.write(id, Readable.from([body]));
          await meta.insertVersion(version(`put${writers}/${i}`, id), { replaceNullVersion: true });
        });
        console.log(`small PUT path (1 KiB blob write + insertVersion), ${writers} concurrent: ${Math.round(rate)} PUT/s`);
      }
      await meta.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await benchStorage(process.argv[2]);
}
