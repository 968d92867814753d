import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv, randomBytes } from 'node:crypto';
import { Readable, type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { IntegrityError } from '../errors.js';
import {
  CIPHER_CHUNK_SIZE,
  PLAIN_CHUNK_SIZE,
  TAG_SIZE,
  chunkCount,
  cipherRangeFor,
  createDecryptStream,
  createEncryptStream,
  encryptedSize,
  plainSizeFor,
  type DecryptOptions,
} from './stream-cipher.js';

const C = PLAIN_CHUNK_SIZE;
const dek = randomBytes(32);
const prefix = Buffer.from('kura:stream:v1\n{"bucket":"b","key":"k","versionId":"v1"}');
const isIntegrity = (e: unknown): boolean => e instanceof IntegrityError;

async function run(t: Transform, pieces: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(pieces, { objectMode: false }),
    t,
    new Writable({
      write(chunk: Buffer, _e, cb) {
        out.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(out);
}

function split(buf: Buffer, size: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let o = 0; o < buf.length; o += size) pieces.push(buf.subarray(o, o + size));
  return pieces;
}

const encrypt = (pt: Buffer, pieceSize = 1 << 20, key = dek, aad = prefix): Promise<Buffer> =>
  run(createEncryptStream(key, aad), split(pt, pieceSize));

function fullRange(plainSize: number): DecryptOptions {
  return plainSize === 0
    ? { plainSize, firstChunk: 0, skip: 0, take: 0 }
    : { plainSize, ...cipherRangeFor(plainSize, 0, plainSize - 1) };
}

const decrypt = (ct: Buffer, opts: DecryptOptions, pieceSize = 1 << 20, key = dek, aad = prefix): Promise<Buffer> =>
  run(createDecryptStream(key, aad, opts), split(ct, pieceSize));

/** An independent decoder written from the README spec, not from the implementation. */
function specDecrypt(ct: Buffer, plainSize: number, key: Buffer, aadPrefix: Buffer): Buffer {
  const n = Math.floor(plainSize / C) + 1;
  const out: Buffer[] = [];
  let off = 0;
  for (let i = 0; i < n; i++) {
    const len = i < n - 1 ? C : plainSize % C;
    const nonce = Buffer.alloc(12);
    nonce.writeBigUInt64BE(BigInt(i), 4);
    const idx = Buffer.alloc(9);
    idx.writeBigUInt64BE(BigInt(i), 0);
    idx[8] = i === n - 1 ? 1 : 0;
    const d = createDecipheriv('aes-256-gcm', key, nonce);
    d.setAAD(Buffer.concat([aadPrefix, idx]));
    d.setAuthTag(ct.subarray(off + len, off + len + 16));
    out.push(d.update(ct.subarray(off, off + len)), d.final());
    off += len + 16;
  }
  assert.equal(off, ct.length);
  return Buffer.concat(out);
}

test('sizes and chunk arithmetic', () => {
  assert.equal(PLAIN_CHUNK_SIZE, 65536);
  assert.equal(TAG_SIZE, 16);
  assert.equal(chunkCount(0), 1);
  assert.equal(chunkCount(1), 1);
  assert.equal(chunkCount(C - 1), 1);
  assert.equal(chunkCount(C), 2); // the last chunk is always short: here empty
  assert.equal(chunkCount(C + 1), 2);
  assert.equal(encryptedSize(0), 16);
  assert.equal(encryptedSize(1), 17);
  assert.equal(encryptedSize(C), C + 32);
  assert.equal(encryptedSize(5 * 2 ** 40), 5 * 2 ** 40 + 16 * (5 * 2 ** 24 + 1));
  for (const n of [0, 1, 15, 16, 17, C - 1, C, C + 1, 10 * C + 7, 2 ** 45 + 3]) assert.equal(plainSizeFor(encryptedSize(n)), n);
  for (const bad of [0, 15, CIPHER_CHUNK_SIZE + 15]) assert.throws(() => plainSizeFor(bad), isIntegrity, String(bad));
  assert.throws(() => encryptedSize(-1), RangeError);
  assert.throws(() => encryptedSize(1.5), RangeError);
});

test('round trips: 0, 1, 65535, 65536, 65537 and several MiB, with many input splittings', async () => {
  for (const size of [0, 1, 15, 16, 17, C - 1, C, C + 1, 2 * C, 3 * C - 1, (5 << 20) + 12345]) {
    const pt = randomBytes(size);
    for (const piece of [1 << 20, C, C - 1, C + 1, 1000, 16384]) {
      if (size > 4 * C && piece === 1000) continue; // slow, covered by smaller sizes
      const ct = await encrypt(pt, piece);
      assert.equal(ct.length, encryptedSize(size), `size ${size} piece ${piece}`);
      assert.deepEqual(specDecrypt(ct, size, dek, prefix), pt, `spec decode, size ${size} piece ${piece}`);
      assert.deepEqual(await decrypt(ct, fullRange(size), piece), pt, `size ${size} piece ${piece}`);
    }
  }
});

test('byte-at-a-time input on both sides', async () => {
  const pt = randomBytes(C + 100);
  const ct = await encrypt(pt, 1);
  assert.equal(ct.length, encryptedSize(pt.length));
  assert.deepEqual(await decrypt(ct, fullRange(pt.length), 1), pt);
});

test('the encryptor copies what it keeps: a producer reusing its buffer does not corrupt output', async () => {
  const pt = randomBytes(3 * C + 999);
  const enc = createEncryptStream(dek, prefix);
  const out: Buffer[] = [];
  enc.on('data', (b: Buffer) => out.push(b));
  const done = new Promise((resolve) => enc.on('end', resolve));
  const scratch = Buffer.alloc(10_000);
  for (let o = 0; o < pt.length; o += scratch.length) {
    const n = pt.copy(scratch, 0, o, o + scratch.length);
    await new Promise<void>((resolve, reject) => enc.write(scratch.subarray(0, n), (err) => (err ? reject(err) : resolve())));
    scratch.fill(0xaa); // the producer reuses its buffer once the write completed
  }
  enc.end();
  await done;
  assert.deepEqual(await decrypt(Buffer.concat(out), fullRange(pt.length)), pt);
});

test('same plaintext under a different DEK or prefix gives unrelated ciphertext', async () => {
  const pt = randomBytes(1000);
  const a = await encrypt(pt);
  assert.deepEqual(await encrypt(pt), a); // deterministic given (DEK, prefix): the nonce is the chunk index
  assert.notDeepEqual(await encrypt(pt, 1 << 20, randomBytes(32)), a);
  assert.notDeepEqual((await encrypt(pt, 1 << 20, dek, Buffer.from('other'))).subarray(1000), a.subarray(1000));
});

test('every range of a small object', async () => {
  const size = 97;
  const pt = randomBytes(size);
  const ct = await encrypt(pt);
  for (let s = 0; s < size; s++) {
    for (let e = s; e < size; e++) {
      const r = cipherRangeFor(size, s, e);
      const got = await decrypt(ct.subarray(r.cipherStart, r.cipherEnd + 1), { plainSize: size, ...r });
      assert.deepEqual(got, pt.subarray(s, e + 1), `[${s}, ${e}]`);
    }
  }
});

test('every range between interesting offsets of a multi-chunk object', async () => {
  for (const size of [2 * C, 2 * C + 10]) {
    const pt = randomBytes(size);
    const ct = await encrypt(pt);
    const points = [...new Set([0, 1, C - 2, C - 1, C, C + 1, 2 * C - 1, 2 * C, 2 * C + 1, size - 2, size - 1])].filter((p) => p < size);
    for (const s of points) {
      for (const e of points) {
        if (e < s) continue;
        const r = cipherRangeFor(size, s, e);
        assert.ok(r.cipherStart >= 0 && r.cipherEnd < ct.length);
        const got = await decrypt(ct.subarray(r.cipherStart, r.cipherEnd + 1), { plainSize: size, ...r }, 7000);
        assert.deepEqual(got, pt.subarray(s, e + 1), `size ${size} [${s}, ${e}]`);
      }
    }
  }
});

test('a range reaching the end of a chunk-aligned object includes the empty final chunk', () => {
  const r = cipherRangeFor(2 * C, C, 2 * C - 1);
  assert.equal(r.firstChunk, 1);
  assert.equal(r.cipherStart, CIPHER_CHUNK_SIZE);
  assert.equal(r.cipherEnd, encryptedSize(2 * C) - 1);
  const mid = cipherRangeFor(2 * C, 0, C - 1);
  assert.equal(mid.cipherEnd, CIPHER_CHUNK_SIZE - 1);
  const empty = cipherRangeFor(0, 0, -1);
  assert.deepEqual(empty, { cipherStart: 0, cipherEnd: 15, firstChunk: 0, skip: 0, take: 0 });
  for (const [size, s, e] of [[10, -1, 3], [10, 3, 2], [10, 0, 10], [0, 0, 0], [10, 0, -1]] as const) {
    assert.throws(() => cipherRangeFor(size, s, e), RangeError, `${size} [${s}, ${e}]`);
  }
});

test('random ranges of random objects (property)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 3 * C + 50 }),
      fc.nat(),
      fc.nat(),
      fc.integer({ min: 1, max: 3 * C }),
      async (size, a, b, piece) => {
        const pt = randomBytes(size);
        const ct = await encrypt(pt, piece);
        const s = Math.min(a % size, b % size);
        const e = Math.max(a % size, b % size);
        const r = cipherRangeFor(size, s, e);
        const got = await decrypt(ct.subarray(r.cipherStart, r.cipherEnd + 1), { plainSize: size, ...r }, piece);
        assert.deepEqual(got, pt.subarray(s, e + 1));
      },
    ),
    { numRuns: 60 },
  );
});

test('flipping any single byte of a small object → IntegrityError', async () => {
  for (const size of [0, 1, 300]) {
    const pt = randomBytes(size);
    const ct = await encrypt(pt);
    for (let i = 0; i < ct.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const bad = Buffer.from(ct);
        bad[i]! ^= bit;
        await assert.rejects(decrypt(bad, fullRange(size)), isIntegrity, `size ${size} byte ${i}`);
      }
    }
  }
});

test('flipping a byte anywhere in a multi-chunk object → IntegrityError (boundaries, tags, random)', async () => {
  const size = 2 * C + 100;
  const pt = randomBytes(size);
  const ct = await encrypt(pt);
  const positions = new Set<number>();
  for (let chunk = 0; chunk < 3; chunk++) {
    const base = chunk * CIPHER_CHUNK_SIZE;
    const len = chunk < 2 ? C : 100;
    for (const p of [0, 1, len - 1]) positions.add(base + p);
    for (let t = 0; t < TAG_SIZE; t++) positions.add(base + len + t);
  }
  for (let k = 0; k < 40; k++) positions.add(Math.floor(Math.random() * ct.length));
  for (const i of positions) {
    const bad = Buffer.from(ct);
    bad[i]! ^= 1 << (i % 8);
    await assert.rejects(decrypt(bad, fullRange(size)), isIntegrity, `byte ${i}`);
  }
});

test('truncation: dropping the last chunk, or any tail, → IntegrityError', async () => {
  for (const size of [2 * C + 100, 2 * C]) {
    const pt = randomBytes(size);
    const ct = await encrypt(pt);
    const lastStart = 2 * CIPHER_CHUNK_SIZE;
    const dropped = ct.subarray(0, lastStart);
    await assert.rejects(decrypt(dropped, fullRange(size)), isIntegrity);
    // Whole full chunks with no short final chunk is not a size the format produces...
    assert.throws(() => plainSizeFor(dropped.length), isIntegrity);
    // ...and forging the recorded size does not make the shorter ciphertext verify.
    for (const forged of [2 * C - 1, 2 * C, 2 * C + 1, C + 5, C]) {
      await assert.rejects(decrypt(dropped, fullRange(forged)), isIntegrity, `forged size ${forged}`);
    }
    for (const cut of [1, 15, 16, 17, 100]) {
      await assert.rejects(decrypt(ct.subarray(0, ct.length - cut), fullRange(size)), isIntegrity, `cut ${cut}`);
    }
    // Truncated to nothing.
    await assert.rejects(decrypt(Buffer.alloc(0), fullRange(size)), isIntegrity);
  }
  // An empty object's only chunk is required too.
  await assert.rejects(decrypt(Buffer.alloc(0), fullRange(0)), isIntegrity);
});

test('extra data after the end → IntegrityError', async () => {
  for (const size of [0, 100, C]) {
    const ct = await encrypt(randomBytes(size));
    await assert.rejects(decrypt(Buffer.concat([ct, Buffer.from([0])]), fullRange(size)), isIntegrity);
    await assert.rejects(decrypt(Buffer.concat([ct, ct]), fullRange(size)), isIntegrity);
  }
  // Also for a range: reading one byte too many.
  const size = 3 * C;
  const ct = await encrypt(randomBytes(size));
  const r = cipherRangeFor(size, 10, C + 10);
  await assert.rejects(decrypt(ct.subarray(r.cipherStart, r.cipherEnd + 2), { plainSize: size, ...r }), isIntegrity);
});

test('swapping or reordering chunks → IntegrityError', async () => {
  const size = 3 * C + 5;
  const ct = await encrypt(randomBytes(size));
  const chunks = [0, 1, 2, 3].map((i) => ct.subarray(i * CIPHER_CHUNK_SIZE, Math.min((i + 1) * CIPHER_CHUNK_SIZE, ct.length)));
  const [c0, c1, c2, c3] = chunks as [Buffer, Buffer, Buffer, Buffer];
  await assert.rejects(decrypt(Buffer.concat([c1, c0, c2, c3]), fullRange(size)), isIntegrity, 'swap 0,1');
  await assert.rejects(decrypt(Buffer.concat([c0, c2, c1, c3]), fullRange(size)), isIntegrity, 'swap 1,2');
  await assert.rejects(decrypt(Buffer.concat([c0, c0, c2, c3]), fullRange(size)), isIntegrity, 'duplicate');
  // A range that starts at chunk 1 but is fed chunk 2.
  const r = cipherRangeFor(size, C, C + 5);
  await assert.rejects(decrypt(c2, { plainSize: size, ...r }), isIntegrity, 'wrong chunk for range');
  // A non-final chunk presented as the final one (size forged to end after chunk 1).
  await assert.rejects(decrypt(Buffer.concat([c0, c1]), fullRange(2 * C - 0)), isIntegrity, 'non-final as final');
});

test('ciphertext of object A with the AAD of object B → IntegrityError', async () => {
  const pt = randomBytes(C + 10);
  const prefixA = Buffer.from('kura:stream:v1\n{"bucket":"b","key":"a","versionId":"1"}');
  const prefixB = Buffer.from('kura:stream:v1\n{"bucket":"b","key":"b","versionId":"1"}');
  const ctA = await encrypt(pt, 1 << 20, dek, prefixA);
  assert.deepEqual(await decrypt(ctA, fullRange(pt.length), 1 << 20, dek, prefixA), pt);
  await assert.rejects(decrypt(ctA, fullRange(pt.length), 1 << 20, dek, prefixB), isIntegrity);
  // Whole-object swap under different DEKs (the normal case: one DEK per object).
  const dekB = randomBytes(32);
  await assert.rejects(decrypt(ctA, fullRange(pt.length), 1 << 20, dekB, prefixA), isIntegrity);
  // A chunk spliced from B into A at the same index, even under the same DEK.
  const ctB = await encrypt(randomBytes(C + 10), 1 << 20, dek, prefixB);
  const spliced = Buffer.concat([ctB.subarray(0, CIPHER_CHUNK_SIZE), ctA.subarray(CIPHER_CHUNK_SIZE)]);
  await assert.rejects(decrypt(spliced, fullRange(pt.length), 1 << 20, dek, prefixA), isIntegrity);
});

test('no unauthenticated plaintext is released from a chunk that fails', async () => {
  const size = 2 * C;
  const pt = randomBytes(size);
  const ct = await encrypt(pt);
  const bad = Buffer.from(ct);
  bad[CIPHER_CHUNK_SIZE + 5]! ^= 1; // corrupt chunk 1
  const dec = createDecryptStream(dek, prefix, fullRange(size));
  const got: Buffer[] = [];
  dec.on('data', (b: Buffer) => got.push(b));
  const failed = new Promise<unknown>((resolve) => dec.on('error', resolve));
  dec.end(bad);
  assert.ok(isIntegrity(await failed));
  assert.deepEqual(Buffer.concat(got), pt.subarray(0, C)); // chunk 0 only
});

test('argument validation', () => {
  assert.throws(() => createEncryptStream(randomBytes(16), prefix), RangeError);
  assert.throws(() => createDecryptStream(randomBytes(31), prefix, fullRange(10)), RangeError);
  const bad: DecryptOptions[] = [
    { plainSize: 10, firstChunk: 1, skip: 0, take: 1 },
    { plainSize: 10, firstChunk: 0, skip: 5, take: 6 },
    { plainSize: 10, firstChunk: 0, skip: 0, take: 0 },
    { plainSize: 10, firstChunk: 0, skip: -1, take: 1 },
    { plainSize: -1, firstChunk: 0, skip: 0, take: 0 },
  ];
  for (const o of bad) assert.throws(() => createDecryptStream(dek, prefix, o), RangeError, JSON.stringify(o));
});
