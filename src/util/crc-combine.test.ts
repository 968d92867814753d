import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { combineCrc, combineCrcParts, type CrcAlgorithm } from './crc-combine.js';
import { checksumOf } from './checksums.js';

const ALGS: CrcAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME'];

test('combine equals direct computation (property, every CRC)', () => {
  fc.assert(
    fc.property(fc.constantFrom(...ALGS), fc.uint8Array({ maxLength: 2000 }), fc.uint8Array({ maxLength: 2000 }), (alg, a, b) => {
      const A = Buffer.from(a);
      const B = Buffer.from(b);
      const combined = combineCrc(alg, checksumOf(alg, A), checksumOf(alg, B), B.length);
      assert.deepEqual(combined, checksumOf(alg, Buffer.concat([A, B])));
    }),
    { numRuns: 600 },
  );
});

test('combining many parts equals the CRC of their concatenation (property)', () => {
  fc.assert(
    fc.property(fc.constantFrom(...ALGS), fc.array(fc.uint8Array({ maxLength: 700 }), { maxLength: 12 }), (alg, parts) => {
      const bufs = parts.map((p) => Buffer.from(p));
      const got = combineCrcParts(alg, bufs.map((p) => ({ crc: checksumOf(alg, p), length: p.length })));
      assert.deepEqual(got, checksumOf(alg, Buffer.concat(bufs)));
    }),
    { numRuns: 300 },
  );
});

test('combine with large parts (multi-MiB) and the empty string', () => {
  const a = randomBytes(3 << 20);
  const b = randomBytes((5 << 20) + 17);
  for (const alg of ALGS) {
    const direct = checksumOf(alg, Buffer.concat([a, b]));
    assert.deepEqual(combineCrc(alg, checksumOf(alg, a), checksumOf(alg, b), b.length), direct, alg);
    const empty = checksumOf(alg, Buffer.alloc(0));
    assert.deepEqual(combineCrc(alg, checksumOf(alg, a), empty, 0), checksumOf(alg, a), `${alg} A+empty`);
    assert.deepEqual(combineCrc(alg, empty, checksumOf(alg, b), b.length), checksumOf(alg, b), `${alg} empty+B`);
  }
});

test('combine is associative over huge lengths (no data: lengths up to 5 TiB)', () => {
  // crc(A||B||C) must not depend on grouping; this exercises x^(8n) for n far beyond
  // what can be materialised, using a zero block's CRC computed by combination itself.
  for (const alg of ALGS) {
    const w = alg === 'CRC64NVME' ? 8 : 4;
    const cA = randomBytes(w);
    const cB = randomBytes(w);
    const cC = randomBytes(w);
    const lenB = 5 * 2 ** 40 + 3;
    const lenC = 2 ** 33 + 1;
    const left = combineCrc(alg, combineCrc(alg, cA, cB, lenB), cC, lenC);
    const cBC = combineCrc(alg, cB, cC, lenC);
    // crc(A||(B||C)) = cA·x^(8(lenB+lenC)) ⊕ crc(B||C)
    const right = combineCrc(alg, cA, cBC, lenB + lenC);
    assert.deepEqual(left, right, alg);
  }
});

test('combine: zero runs computed by doubling agree with direct zero buffers', () => {
  // crc(zeros(2n)) = combine(crc(zeros(n)), crc(zeros(n)), n)
  for (const alg of ALGS) {
    let z = checksumOf(alg, Buffer.alloc(1));
    let n = 1;
    while (n < 1 << 20) {
      z = combineCrc(alg, z, z, n);
      n *= 2;
    }
    assert.deepEqual(z, checksumOf(alg, Buffer.alloc(1 << 20)), alg);
  }
});

test('combine rejects malformed inputs', () => {
  assert.throws(() => combineCrc('CRC32', Buffer.alloc(8), Buffer.alloc(4), 1), RangeError);
  assert.throws(() => combineCrc('CRC64NVME', Buffer.alloc(4), Buffer.alloc(4), 1), RangeError);
  assert.throws(() => combineCrc('CRC32C', Buffer.alloc(4), Buffer.alloc(4), -1), RangeError);
  assert.throws(() => combineCrc('CRC32C', Buffer.alloc(4), Buffer.alloc(4), 1.5), RangeError);
});

test('combine is fast enough for 10,000 parts', () => {
  for (const alg of ALGS) {
    const parts = Array.from({ length: 10_000 }, () => ({ crc: randomBytes(alg === 'CRC64NVME' ? 8 : 4), length: (5 << 20) + 1 }));
    const t0 = performance.now();
    combineCrcParts(alg, parts);
    const ms = performance.now() - t0;
    assert.ok(ms < 5000, `${alg}: ${ms.toFixed(0)} ms`);
  }
});
