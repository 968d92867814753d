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
      const jobs = [pool.start(true, ['CRC32C']), pool.start(true, [])];
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
});
