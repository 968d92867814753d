import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { HashPool } from './hash-pool.js';
import { createChecksum } from './checksums.js';

describe('HashPool', () => {
  it('computes MD5 and checksums on a worker, equal to inline hashing, with backpressure', async () => {
    const pool = new HashPool(2);
    try {
      const data = randomBytes(20 * 1024 * 1024 + 7);
      const jobs = [pool.start(true, ['CRC32C'])!, pool.start(true, [])!];
      for (const j of jobs) {
        for (let o = 0; o < data.length; o += 100_000) {
          const wait = j.update(data.subarray(o, o + 100_000));
          if (wait) await wait;
        }
      }
      const [a, b] = await Promise.all(jobs.map((j) => j.digest()));
      const md5 = createHash('md5').update(data).digest();
      assert.deepEqual(a!.md5, md5);
      assert.deepEqual(b!.md5, md5);
      const c = createChecksum('CRC32C');
      c.update(data);
      assert.deepEqual(a!.sums.get('CRC32C'), c.digest());
    } finally {
      await pool.close();
    }
  });

  it('reuses batches the worker hands back, and their contents never leak into another job', async () => {
    const pool = new HashPool(1);
    try {
      for (let round = 0; round < 3; round++) {
        const data = randomBytes(5 * 1024 * 1024 + round);
        const j = pool.start(true, ['SHA256'])!;
        for (let o = 0; o < data.length; o += 300_000) {
          const wait = j.update(data.subarray(o, o + 300_000));
          if (wait) await wait;
        }
        const d = await j.digest();
        assert.deepEqual(d.md5, createHash('md5').update(data).digest());
        assert.deepEqual(d.sums.get('SHA256'), createHash('sha256').update(data).digest());
      }
      assert.ok((pool as unknown as { spare: ArrayBuffer[] }).spare.length > 0, 'returned batches are kept for reuse');
    } finally {
      await pool.close();
    }
  });

  it('a dead worker fails its jobs without hanging them, and gets no new ones', async () => {
    const pool = new HashPool(1);
    try {
      const j = pool.start(true, [])!;
      const worker = (pool as unknown as { workers: { terminate(): Promise<number> }[] }).workers[0]!;
      const exited = new Promise((r) => (worker as unknown as { once(e: string, f: () => void): void }).once('exit', () => r(undefined)));
      await worker.terminate();
      await exited;
      // More than the in-flight limit: update must not wait for acknowledgements that never come.
      const data = randomBytes(1024 * 1024);
      for (let i = 0; i < 12; i++) assert.equal(j.update(data), undefined);
      await assert.rejects(j.digest(), /exited/);
      assert.equal(pool.start(true, []), undefined);
    } finally {
      await pool.close();
    }
  });
});
