import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { S3Error } from '../../errors/s3-errors.js';
import { HashPool } from '../../util/hash-pool.js';
import { createLengthVerifier, createSha256Verifier } from './payload-verifier.js';

async function through(verifier: Transform, pieces: Buffer[]): Promise<{ out: Buffer; error?: unknown }> {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback): void {
      out.push(chunk);
      callback();
    },
  });
  try {
    await pipeline(Readable.from(pieces), verifier, sink);
    return { out: Buffer.concat(out) };
  } catch (error) {
    return { out: Buffer.concat(out), error };
  }
}

const hex = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

function pieces(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

describe('createSha256Verifier', () => {
  test('passes the bytes through unchanged when the hash matches (any case of hex)', async () => {
    const data = randomBytes(100_000);
    for (const expected of [hex(data), hex(data).toUpperCase()]) {
      const { out, error } = await through(createSha256Verifier(expected), pieces(data, 777));
      assert.equal(error, undefined);
      assert.ok(out.equals(data));
    }
  });

  test('the empty body has the well-known empty hash', async () => {
    const { error } = await through(createSha256Verifier('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'), []);
    assert.equal(error, undefined);
  });

  test('a mismatch is XAmzContentSHA256Mismatch with both hashes', async () => {
    const data = Buffer.from('hello');
    const claimed = hex(Buffer.from('world'));
    const { error } = await through(createSha256Verifier(claimed), [data]);
    assert.ok(error instanceof S3Error);
    assert.equal(error.code, 'XAmzContentSHA256Mismatch');
    assert.equal(error.status, 400);
    assert.deepEqual(error.details, { ClientComputedContentSHA256: claimed, S3ComputedContentSHA256: hex(data) });
  });

  test('a malformed expected hash is refused up front as InvalidArgument', () => {
    for (const bad of ['', 'abc', 'z'.repeat(64), 'UNSIGNED-PAYLOAD']) {
      assert.throws(() => createSha256Verifier(bad), (err: unknown) => err instanceof S3Error && err.code === 'InvalidArgument');
    }
  });

  test('property: verifies iff the claimed hash is the data\'s, for any split', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 5000 }), fc.integer({ min: 1, max: 600 }), fc.boolean(), async (bytes, size, lie) => {
      const data = Buffer.from(bytes);
      const claimed = lie ? hex(Buffer.concat([data, Buffer.from('x')])) : hex(data);
      const { out, error } = await through(createSha256Verifier(claimed), pieces(data, size));
      if (lie) assert.ok(error instanceof S3Error && error.code === 'XAmzContentSHA256Mismatch');
      else {
        assert.equal(error, undefined);
        assert.ok(out.equals(data));
      }
    }), { numRuns: 200 });
  });
});

describe('createSha256Verifier on the hash pool', () => {
  test('matches, mismatches and abandoned bodies behave as inline hashing does', async () => {
    const pool = new HashPool(1);
    try {
      const data = randomBytes(3 * 1024 * 1024 + 5);
      const ok = await through(createSha256Verifier(hex(data), pool.start(false, ['SHA256'])!), pieces(data, 65536));
      assert.equal(ok.error, undefined);
      assert.ok(ok.out.equals(data));
      const claimed = hex(Buffer.from('other'));
      const bad = await through(createSha256Verifier(claimed, pool.start(false, ['SHA256'])!), pieces(data, 100_000));
      assert.ok(bad.error instanceof S3Error && bad.error.code === 'XAmzContentSHA256Mismatch');
      assert.deepEqual(bad.error.details, { ClientComputedContentSHA256: claimed, S3ComputedContentSHA256: hex(data) });
      // A body abandoned midway drops its job; the pool keeps serving others.
      const jobs = (pool as unknown as { jobs: Map<number, unknown> }).jobs;
      const v = createSha256Verifier(hex(data), pool.start(false, ['SHA256'])!);
      v.write(data.subarray(0, 2_000_000));
      assert.equal(jobs.size, 1);
      v.destroy();
      assert.equal(jobs.size, 0, 'an abandoned body drops its job');
      const again = await through(createSha256Verifier(hex(data), pool.start(false, ['SHA256'])!), pieces(data, 1 << 20));
      assert.equal(again.error, undefined);
      assert.throws(() => createSha256Verifier('nope', pool.start(false, ['SHA256'])!), (err: unknown) => err instanceof S3Error && err.code === 'InvalidArgument');
    } finally {
      await pool.close();
    }
  });
});

describe('createLengthVerifier', () => {
  test('exactly the expected bytes pass', async () => {
    const data = randomBytes(10_000);
    const { out, error } = await through(createLengthVerifier(10_000), pieces(data, 333));
    assert.equal(error, undefined);
    assert.ok(out.equals(data));
  });

  test('zero expected and no bytes pass', async () => {
    assert.equal((await through(createLengthVerifier(0), [])).error, undefined);
  });

  test('fewer bytes: IncompleteBody at the end', async () => {
    const { error } = await through(createLengthVerifier(10), [Buffer.from('123456789')]);
    assert.ok(error instanceof S3Error);
    assert.equal(error.code, 'IncompleteBody');
  });

  test('more bytes: IncompleteBody, and the excess write never reaches downstream', async () => {
    const { out, error } = await through(createLengthVerifier(10), [Buffer.from('12345'), Buffer.from('678901')]);
    assert.ok(error instanceof S3Error);
    assert.equal(error.code, 'IncompleteBody');
    assert.ok(out.length <= 10);
  });

  test('property: succeeds iff the byte count is right; output never exceeds the expectation', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 1, max: 500 }),
      async (bytes, expected, size) => {
        const data = Buffer.from(bytes);
        const { out, error } = await through(createLengthVerifier(expected), pieces(data, size));
        if (data.length === expected) assert.equal(error, undefined);
        else assert.ok(error instanceof S3Error && error.code === 'IncompleteBody');
        assert.ok(out.length <= expected);
      }), { numRuns: 200 });
  });

  test('a negative or fractional expectation is a programming error', () => {
    assert.throws(() => createLengthVerifier(-1), RangeError);
    assert.throws(() => createLengthVerifier(1.5), RangeError);
  });
});
