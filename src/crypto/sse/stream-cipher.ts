/**
 * Object data encryption (SSE-S3, format 1): AES-256-GCM over fixed-size chunks, each
 * authenticated on its own so a range GET decrypts and verifies only the chunks it
 * touches and never releases plaintext that has not been authenticated.
 *
 * Format (specified in ./README.md; every constant here is part of the stored format):
 *   plaintext is cut into chunks of PLAIN_CHUNK_SIZE bytes; the LAST chunk is always
 *   shorter (0..PLAIN_CHUNK_SIZE-1 bytes, so an empty or chunk-aligned plaintext ends with
 *   an empty chunk). Chunk i is stored as ciphertext(len) || tag(16), back to back.
 *   key   = the DEK (32 bytes, fresh per object or part)
 *   nonce = 00 00 00 00 || uint64be(i)
 *   AAD   = aadPrefix || uint64be(i) || final (0x01 on the last chunk, else 0x00)
 *
 * Nonce safety invariant: a DEK encrypts exactly one plaintext stream, once. Each DEK is
 * 32 fresh random bytes (envelope.newDataKey) used for one object or one part and never
 * again (not for a retry, a copy or a re-encryption: those get a new DEK). Under that
 * invariant the counter nonce never repeats under a key, so no IV needs storing. Breaking
 * it (reusing a DEK for a second stream) is catastrophic for GCM: do not.
 */
import { createCipheriv, createDecipheriv, type CipherGCM, type DecipherGCM, type KeyObject } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { IntegrityError } from '../errors.js';

export { IntegrityError };

/**
 * Plaintext bytes per chunk. DO NOT CHANGE: it is part of the stored format; every
 * existing object's ciphertext layout, size and range arithmetic depend on it.
 */
export const PLAIN_CHUNK_SIZE = 65536;
/** GCM tag bytes at the end of every chunk. DO NOT CHANGE (stored format). */
export const TAG_SIZE = 16;
/** Stored bytes of a full chunk. */
export const CIPHER_CHUNK_SIZE = PLAIN_CHUNK_SIZE + TAG_SIZE;
/** The format these functions read and write; recorded with each piece by the caller (PieceEncryption.scheme). */
export const FORMAT_VERSION = 1;

const DEK_BYTES = 32;
const NONCE_BYTES = 12;
const TWO_32 = 2 ** 32;

function checkSize(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative safe integer, got ${n}`);
}

/** Number of chunks for a plaintext size (always ≥ 1: the last chunk is short, possibly empty). */
export function chunkCount(plainSize: number): number {
  checkSize(plainSize, 'plainSize');
  return Math.floor(plainSize / PLAIN_CHUNK_SIZE) + 1;
}

/** Stored (ciphertext) size for a plaintext size. */
export function encryptedSize(plainSize: number): number {
  return plainSize + TAG_SIZE * chunkCount(plainSize);
}

/** The plaintext size a stored size implies; a size no plaintext produces → IntegrityError. */
export function plainSizeFor(cipherSize: number): number {
  checkSize(cipherSize, 'cipherSize');
  const full = Math.floor(cipherSize / CIPHER_CHUNK_SIZE);
  const last = cipherSize - full * CIPHER_CHUNK_SIZE;
  if (last < TAG_SIZE) throw new IntegrityError(`stored size ${cipherSize} is not a valid encrypted size`);
  return full * PLAIN_CHUNK_SIZE + last - TAG_SIZE;
}

function plainLenOf(index: number, lastIndex: number, plainSize: number): number {
  return index < lastIndex ? PLAIN_CHUNK_SIZE : plainSize - lastIndex * PLAIN_CHUNK_SIZE;
}

/**
 * For a plaintext byte range [start, end] (inclusive) of an object of plainSize, which
 * ciphertext bytes to read and how to trim. A range that reaches the end of the object
 * also covers the (possibly empty) final chunk, so the read proves nothing was cut off.
 * For an empty object pass start = 0, end = -1 (reads and verifies the one empty chunk).
 */
export function cipherRangeFor(
  plainSize: number,
  start: number,
  end: number,
): { cipherStart: number; cipherEnd: number; firstChunk: number; skip: number; take: number } {
  checkSize(plainSize, 'plainSize');
  const empty = plainSize === 0 && start === 0 && end === -1;
  if (!empty && (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end >= plainSize)) {
    throw new RangeError(`invalid range [${start}, ${end}] for size ${plainSize}`);
  }
  const lastIndex = Math.floor(plainSize / PLAIN_CHUNK_SIZE);
  const firstChunk = Math.floor(start / PLAIN_CHUNK_SIZE);
  const endChunk = end === plainSize - 1 ? lastIndex : Math.floor(end / PLAIN_CHUNK_SIZE);
  return {
    cipherStart: firstChunk * CIPHER_CHUNK_SIZE,
    cipherEnd: endChunk * CIPHER_CHUNK_SIZE + plainLenOf(endChunk, lastIndex, plainSize) + TAG_SIZE - 1,
    firstChunk,
    skip: start - firstChunk * PLAIN_CHUNK_SIZE,
    take: end - start + 1,
  };
}

/**
 * A DEK as raw bytes or as a KeyObject. Used as given: createCipheriv takes either equally
 * fast, and wrapping a raw key in a KeyObject per object costs more than it saves.
 * The caller must not change a Buffer DEK while a stream uses it.
 */
export type Dek = Buffer | KeyObject;

function dekKey(dek: Dek): Dek {
  const size = Buffer.isBuffer(dek) ? dek.length : dek.symmetricKeySize;
  if (size !== DEK_BYTES) throw new RangeError(`DEK must be ${DEK_BYTES} bytes`);
  return dek;
}

/** Per-stream nonce and AAD buffers, rewritten for each chunk (createCipheriv copies the IV, setAAD consumes the AAD at once). */
class ChunkParams {
  readonly nonce = Buffer.alloc(NONCE_BYTES);
  readonly aad: Buffer;
  private readonly at: number;
  constructor(aadPrefix: Buffer) {
    this.aad = Buffer.alloc(aadPrefix.length + 9);
    aadPrefix.copy(this.aad, 0);
    this.at = aadPrefix.length;
  }
  set(index: number, final: boolean): void {
    const hi = Math.floor(index / TWO_32);
    const lo = index >>> 0;
    this.nonce.writeUInt32BE(hi, 4);
    this.nonce.writeUInt32BE(lo, 8);
    this.aad.writeUInt32BE(hi, this.at);
    this.aad.writeUInt32BE(lo, this.at + 4);
    this.aad[this.at + 8] = final ? 1 : 0;
  }
}

class EncryptStream extends Transform {
  private readonly key: Dek;
  private readonly params: ChunkParams;
  private index = 0;
  // A chunk's final flag is in its AAD, which GCM takes before any data, and a chunk is
  // final only if the stream ends before it fills. So each chunk is encrypted
  // speculatively as NON-final, straight from the caller's buffers (no copy: the caller
  // may reuse them once the write completes, and update() returns new buffers). A chunk
  // that fills gets its non-final tag. If the stream ends first, the speculative cipher
  // is dropped WITHOUT computing its tag, and the short chunk is redone as final in
  // _flush. Either way exactly one tag is ever released per (DEK, nonce): releasing two
  // tags for one nonce would expose the GHASH key.
  private cipher: CipherGCM | null = null;
  // Ciphertext of the current chunk, held until its tag is known so a chunk leaves whole.
  private held: Buffer[] = [];
  private heldLen = 0;

  constructor(dek: Buffer, aadPrefix: Buffer) {
    super({ readableHighWaterMark: 4 * CIPHER_CHUNK_SIZE, writableHighWaterMark: 4 * PLAIN_CHUNK_SIZE });
    this.key = dekKey(dek);
    this.params = new ChunkParams(aadPrefix);
  }

  private newCipher(final: boolean): CipherGCM {
    this.params.set(this.index, final);
    const c = createCipheriv('aes-256-gcm', this.key, this.params.nonce, { authTagLength: TAG_SIZE });
    c.setAAD(this.params.aad);
    return c;
  }

  private release(tag: Buffer): void {
    for (const b of this.held) this.push(b);
    this.push(tag);
    this.held = [];
    this.heldLen = 0;
    this.cipher = null;
    this.index++;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      const len = chunk.length;
      let off = 0;
      while (off < len) {
        this.cipher ??= this.newCipher(false);
        const n = Math.min(PLAIN_CHUNK_SIZE - this.heldLen, len - off);
        this.held.push(this.cipher.update(chunk.subarray(off, off + n)));
        this.heldLen += n;
        off += n;
        if (this.heldLen === PLAIN_CHUNK_SIZE) {
          this.cipher.final();
          this.release(this.cipher.getAuthTag());
        }
      }
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      const c = this.newCipher(true);
      if (this.heldLen > 0) {
        // GCM's keystream depends on key and nonce only, not on the AAD, so the held
        // ciphertext is also the final-AAD ciphertext; recover its plaintext (CTR, no
        // tag check) and run it through the final cipher to get the final tag.
        const ctr = createDecipheriv('aes-256-gcm', this.key, this.params.nonce, { authTagLength: TAG_SIZE });
        for (const b of this.held) c.update(ctr.update(b));
      }
      c.final();
      this.release(c.getAuthTag());
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }
}

/** plaintext → ciphertext in the chunk format above; dek must be fresh and used for this stream only. */
export function createEncryptStream(dek: Buffer, aadPrefix: Buffer): Transform {
  return new EncryptStream(dek, aadPrefix);
}

/** Options of createDecryptStream: the object's plaintext size and a range as returned by cipherRangeFor. */
export interface DecryptOptions {
  plainSize: number;
  firstChunk: number;
  skip: number;
  take: number;
}

/**
 * The decryption state machine, synchronous and free of streams: ciphertext in (any split),
 * authenticated plaintext out. INVARIANT relied on by callers that recycle their input
 * buffers (createDecryptingReader): update() never keeps a reference to `chunk` after it
 * returns (tag bytes are copied; decipher.update returns new buffers).
 */
export class ChunkDecryptor {
  private readonly key: Dek;
  private readonly params: ChunkParams;
  private readonly plainSize: number;
  private readonly lastIndex: number;
  private readonly endChunk: number;
  private readonly firstChunk: number;
  private readonly skip: number;
  private remainingTake: number;

  private index: number;
  private decipher: DecipherGCM | null = null;
  private bodyLeft = 0; // ciphertext bytes of the current chunk still to come
  private readonly tag = Buffer.alloc(TAG_SIZE);
  private tagLen = 0;
  // Decrypted but not yet authenticated plaintext of the current chunk: owned buffers
  // from decipher.update, released only after the tag verifies.
  private held: Buffer[] = [];

  constructor(dek: Dek, aadPrefix: Buffer, opts: DecryptOptions) {
    const { plainSize, firstChunk, skip, take } = opts;
    checkSize(plainSize, 'plainSize');
    checkSize(firstChunk, 'firstChunk');
    checkSize(skip, 'skip');
    checkSize(take, 'take');
    this.lastIndex = Math.floor(plainSize / PLAIN_CHUNK_SIZE);
    const start = firstChunk * PLAIN_CHUNK_SIZE + skip;
    if (firstChunk > this.lastIndex || skip > plainLenOf(firstChunk, this.lastIndex, plainSize) || start + take > plainSize) {
      throw new RangeError(`invalid decrypt range (chunk ${firstChunk}, skip ${skip}, take ${take}) for size ${plainSize}`);
    }
    // An empty take is only meaningful at the end of the object: it verifies the final chunk.
    if (take === 0 && start !== plainSize) throw new RangeError('take must be > 0 unless the range is the end of the object');
    this.key = dekKey(dek);
    this.params = new ChunkParams(aadPrefix);
    this.plainSize = plainSize;
    this.firstChunk = firstChunk;
    this.skip = skip;
    this.remainingTake = take;
    this.endChunk = start + take === plainSize ? this.lastIndex : Math.floor((start + take - 1) / PLAIN_CHUNK_SIZE);
    this.index = firstChunk;
  }

  private begin(): void {
    const final = this.index === this.lastIndex;
    this.params.set(this.index, final);
    this.decipher = createDecipheriv('aes-256-gcm', this.key, this.params.nonce, { authTagLength: TAG_SIZE });
    this.decipher.setAAD(this.params.aad);
    this.bodyLeft = plainLenOf(this.index, this.lastIndex, this.plainSize);
    this.tagLen = 0;
  }

  private finish(out: Buffer[]): void {
    const d = this.decipher!;
    d.setAuthTag(this.tag);
    try {
      d.final();
    } catch (err) {
      this.held = [];
      throw new IntegrityError(`encrypted chunk ${this.index} failed authentication`, { cause: err });
    }
    // Authenticated: release, trimming the range's head (first chunk) and tail.
    let drop = this.index === this.firstChunk ? this.skip : 0;
    for (const b of this.held) {
      if (this.remainingTake === 0) break;
      if (drop >= b.length) {
        drop -= b.length;
        continue;
      }
      const n = Math.min(b.length - drop, this.remainingTake);
      out.push(drop === 0 && n === b.length ? b : b.subarray(drop, drop + n));
      this.remainingTake -= n;
      drop = 0;
    }
    this.held = [];
    this.decipher = null;
    this.index++;
  }

  /** Feeds ciphertext; appends the plaintext it authenticated to `out`. Tampering, extra input → IntegrityError. */
  update(chunk: Buffer, out: Buffer[]): void {
    const len = chunk.length;
    let off = 0;
    while (off < len) {
      if (this.decipher === null) {
        if (this.index > this.endChunk) throw new IntegrityError('encrypted data continues past its expected end');
        this.begin();
      }
      if (this.bodyLeft > 0) {
        const n = Math.min(this.bodyLeft, len - off);
        const plain = this.decipher!.update(chunk.subarray(off, off + n));
        if (plain.length > 0) this.held.push(plain);
        this.bodyLeft -= n;
        off += n;
        continue;
      }
      const n = Math.min(TAG_SIZE - this.tagLen, len - off);
      chunk.copy(this.tag, this.tagLen, off, off + n);
      this.tagLen += n;
      off += n;
      if (this.tagLen === TAG_SIZE) this.finish(out);
    }
  }

  /** The input ended: anything short of the expected range → IntegrityError. */
  end(): void {
    if (this.index <= this.endChunk) {
      throw new IntegrityError(`encrypted data ended early (in chunk ${this.index}, expected through chunk ${this.endChunk})`);
    }
  }
}

class DecryptStream extends Transform {
  private readonly core: ChunkDecryptor;

  constructor(dek: Dek, aadPrefix: Buffer, opts: DecryptOptions) {
    super({ readableHighWaterMark: 4 * PLAIN_CHUNK_SIZE, writableHighWaterMark: 4 * CIPHER_CHUNK_SIZE });
    this.core = new ChunkDecryptor(dek, aadPrefix, opts);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const out: Buffer[] = [];
    let failure: Error | null = null;
    try {
      this.core.update(chunk, out);
    } catch (err) {
      failure = err as Error;
    }
    // Chunks authenticated before a failing one in the same input are still released.
    for (const b of out) this.push(b);
    cb(failure);
  }

  override _flush(cb: TransformCallback): void {
    try {
      this.core.end();
    } catch (err) {
      return cb(err as Error);
    }
    cb();
  }
}

/** ciphertext (starting at firstChunk) → exactly `take` plaintext bytes; auth failure, short or extra input → IntegrityError. */
export function createDecryptStream(dek: Dek, aadPrefix: Buffer, opts: DecryptOptions): Transform {
  return new DecryptStream(dek, aadPrefix, opts);
}

/**
 * Synchronous counterpart of createDecryptStream for pieces already in memory (the inline
 * tier): `cipher` holds the ciphertext starting at `firstChunk`. Same checks, same output.
 */
export function decryptBuffer(dek: Dek, aadPrefix: Buffer, cipher: Buffer, opts: DecryptOptions): Buffer {
  const core = new ChunkDecryptor(dek, aadPrefix, opts);
  const out: Buffer[] = [];
  core.update(cipher, out);
  core.end();
  return out.length === 1 ? out[0]! : Buffer.concat(out);
}
