import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { IntegrityError } from '../errors.js';
import { createDecryptingReader, READ_SIZE, type CipherSource } from './decrypting-reader.js';
import { CIPHER_CHUNK_SIZE, PLAIN_CHUNK_SIZE, cipherRangeFor, createEncryptStream, type DecryptOptions } from './stream-cipher.js';

const dek = randomBytes(32);
const prefix = Buffer.from('kura:stream:v1\n{"bucket":"b","key":"k","versionId":"v1"}');
const isIntegrity = (e: unknown): boolean => e instanceof IntegrityError;

async function encrypt(pt: Buffer): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from([pt], { objectMode: false }),
    createEncryptStream(dek, prefix),
    new Writable({
      write(chunk: Buffer, _e, cb) {
        out.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(out);
}

/** A source over a buffer that records its reads and closes; reads complete on a later tick, as file reads do. */
class MemorySource implements CipherSource {
  closes = 0;
  reads = 0;
  /** What happened, in order: 'read' (started), 'done' (completed), 'close'. */
  readonly events: string[] = [];
  constructor(private readonly data: Buffer, private readonly delayMs = 0) {}
  async readAt(buf: Buffer, length: number, position: number): Promise<number> {
    this.reads++;
    this.events.push('read');
    await new Promise((r) => setTimeout(r, this.delayMs));
    this.events.push('done');
    if (position >= this.data.length) return 0;
    return this.data.copy(buf, 0, position, Math.min(this.data.length, position + length));
  }
  async close(): Promise<void> {
    this.closes++;
    this.events.push('close');
  }
}

function reader(source: CipherSource, plainSize: number, start: number, end: number): Readable {
  const r = plainSize === 0 ? cipherRangeFor(0, 0, -1) : cipherRangeFor(plainSize, start, end);
  const opts: DecryptOptions = { plainSize, firstChunk: r.firstChunk, skip: r.skip, take: r.take };
  return createDecryptingReader(async () => source, r.cipherStart, r.cipherEnd, dek, prefix, opts);
}

async function readAll(r: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r) out.push(c as Buffer);
  return Buffer.concat(out);
}

test('whole objects and ranges come out exactly, across read-buffer and chunk boundaries', async () => {
  const size = 2 * READ_SIZE + 3 * PLAIN_CHUNK_SIZE + 17;
  const pt = randomBytes(size);
  const ct = await encrypt(pt);
  await fc.assert(
    fc.asyncProperty(fc.nat(size - 1), fc.nat(size - 1), async (a, b) => {
      const [s, e] = a <= b ? [a, b] : [b, a];
      const src = new MemorySource(ct);
      assert.ok((await readAll(reader(src, size, s, e))).equals(pt.subarray(s, e + 1)));
      assert.equal(src.closes, 1);
    }),
    { numRuns: 40 },
  );
  assert.ok((await readAll(reader(new MemorySource(ct), size, 0, size - 1))).equals(pt));
});

test('an empty object reads (and verifies) its one empty chunk', async () => {
  const ct = await encrypt(Buffer.alloc(0));
  assert.equal((await readAll(reader(new MemorySource(ct), 0, 0, -1))).length, 0);
  await assert.rejects(readAll(reader(new MemorySource(Buffer.alloc(0)), 0, 0, -1)), isIntegrity);
});

test('tampering, truncation and a wrong key fail with IntegrityError', async () => {
  const size = READ_SIZE + 100;
  const pt = randomBytes(size);
  const ct = await encrypt(pt);
  const bad = Buffer.from(ct);
  bad[CIPHER_CHUNK_SIZE * 3 + 7]! ^= 1;
  await assert.rejects(readAll(reader(new MemorySource(bad), size, 0, size - 1)), isIntegrity);
  await assert.rejects(readAll(reader(new MemorySource(ct.subarray(0, ct.length - 1)), size, 0, size - 1)), isIntegrity);
  // A range that ends inside the object does not need the rest, but one that reaches the end does.
  assert.ok((await readAll(reader(new MemorySource(ct.subarray(0, CIPHER_CHUNK_SIZE)), size, 0, 99))).equals(pt.subarray(0, 100)));
  const r = cipherRangeFor(size, 0, size - 1);
  const other = createDecryptingReader(async () => new MemorySource(ct), r.cipherStart, r.cipherEnd, randomBytes(32), prefix, { plainSize: size, firstChunk: 0, skip: 0, take: size });
  await assert.rejects(readAll(other), isIntegrity);
});

test('no plaintext of a chunk that fails authentication is released', async () => {
  const size = 3 * PLAIN_CHUNK_SIZE;
  const pt = randomBytes(size);
  const bad = Buffer.from(await encrypt(pt));
  bad[CIPHER_CHUNK_SIZE + 5]! ^= 1; // chunk 1 of 3, all in the first read
  const got: Buffer[] = [];
  const r = reader(new MemorySource(bad), size, 0, size - 1);
  r.on('data', (b: Buffer) => got.push(b));
  const err = await new Promise((resolve) => r.on('error', resolve));
  assert.ok(isIntegrity(err));
  assert.ok(Buffer.concat(got).length <= PLAIN_CHUNK_SIZE);
  assert.ok(Buffer.concat(got).equals(pt.subarray(0, Buffer.concat(got).length)));
});

test('concurrent readers share recycled buffers without mixing data', async () => {
  const objects = await Promise.all(
    Array.from({ length: 24 }, async (_, i) => {
      const pt = randomBytes(READ_SIZE + 1000 * i);
      return { pt, ct: await encrypt(pt) };
    }),
  );
  const got = await Promise.all(objects.map(({ pt, ct }, i) => readAll(reader(new MemorySource(ct, i % 3), pt.length, 0, pt.length - 1))));
  got.forEach((g, i) => assert.ok(g.equals(objects[i]!.pt), `object ${i}`));
});

test('destroying mid-read closes the source once, after the read in flight', async () => {
  const size = 4 * READ_SIZE;
  const ct = await encrypt(randomBytes(size));
  const src = new MemorySource(ct, 20);
  const r = reader(src, size, 0, size - 1);
  r.once('data', () => setTimeout(() => r.destroy(), 5)); // the next read (20 ms) is in flight by then
  await new Promise((resolve) => r.on('close', resolve));
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(src.closes, 1);
  // The destroy came while a read was in flight (the stream reads ahead): the close waited for it.
  assert.deepEqual(src.events.slice(-3), ['read', 'done', 'close']);
});

test('a source that cannot be opened errors the stream', async () => {
  const r = createDecryptingReader(() => Promise.reject(Object.assign(new Error('gone'), { code: 'ENOENT' })), 0, 10, dek, prefix, { plainSize: 10, firstChunk: 0, skip: 0, take: 10 });
  await assert.rejects(readAll(r), /gone/);
});
