/**
 * Object data in and out of the blob store, encrypted (SSE-S3) on the way in and
 * decrypted on the way out, streaming end to end. Every piece of data gets a fresh data
 * key wrapped under the service master key, and both the key wrap and each chunk are bound
 * to where the piece belongs (bucket, key, version or upload/part, blob id), so a moved or
 * swapped blob fails authentication instead of being served. See crypto/sse/README.md.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { PassThrough, Readable, Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DEK_BYTES, newDataKey, openDataKey, openUnderObjectKey, streamAadPrefix, wrapUnderObjectKey, type EncryptionContext } from '../crypto/sse/envelope.js';
import { createDecryptingReader } from '../crypto/sse/decrypting-reader.js';
import { PieceKeyCache } from '../crypto/sse/piece-key-cache.js';
import { cipherRangeFor, createDecryptStream, createEncryptStream, decryptBuffer, type Dek } from '../crypto/sse/stream-cipher.js';
import { s3error } from '../errors/s3-errors.js';
import type { DataPiece, InlineBlob, ObjectSse, ObjectVersion, PieceEncryption } from '../storage/ports.js';
import { createChecksum, type ChecksumAlgorithm } from '../util/checksums.js';
import { newOpaqueId } from '../util/ids.js';
import type { HashJob } from '../util/hash-pool.js';
import type { Services } from './context.js';

/** Where a piece belongs; becomes the encryption context. */
export type PiecePlace =
  | { bucket: string; key: string; versionId: string }
  | { bucket: string; key: string; uploadId: string; partNumber: number };

/** The canonical encryption context of a piece. DO NOT CHANGE the field names: stored data depends on them. */
export function pieceContext(place: PiecePlace, blobId: string): EncryptionContext {
  return 'versionId' in place
    ? { bucket: place.bucket, key: place.key, version: place.versionId, blob: blobId }
    : { bucket: place.bucket, key: place.key, upload: place.uploadId, part: String(place.partNumber), blob: blobId };
}

export interface StoreOptions {
  /** Checksums to compute while streaming (the requested/declared algorithms). */
  checksums: readonly ChecksumAlgorithm[];
  /** Largest number of bytes accepted. */
  maxBytes: number;
  /** Bytes the client announced; fewer or more → IncompleteBody. */
  expectedBytes: number | undefined;
  /** SSE-KMS / SSE-C: the object key the piece's DEK is wrapped under (absent: the master key, SSE-S3). */
  objectKey?: Buffer;
}

export interface StoredData {
  piece: DataPiece;
  md5: Buffer;
  digests: Map<ChecksumAlgorithm, Buffer>;
  /** For inline pieces: the ciphertext, to be committed with the record that references it. */
  inline: InlineBlob | undefined;
}

/**
 * Pieces announced at up to this many plaintext bytes are kept inline in the metadata
 * store: their data becomes durable in the same group commit as their metadata, and a GET
 * opens no file. Larger ones stream to the blob store.
 */
export const INLINE_MAX_BYTES = 128 * 1024;

/** Collects ciphertext in memory for an inline piece. */
class Collect extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.chunks.push(chunk);
    cb();
  }
}

/** Counts and hashes bytes as they pass (on a worker thread when given a job); enforces the size limits. */
class Tap extends Transform {
  bytes = 0;
  private readonly md5: Hash | undefined;
  private readonly sums: Map<ChecksumAlgorithm, ReturnType<typeof createChecksum>>;

  constructor(private readonly algs: readonly ChecksumAlgorithm[], private readonly maxBytes: number, private readonly expected: number | undefined, private readonly job: HashJob | undefined) {
    super();
    this.md5 = job ? undefined : createHash('md5');
    this.sums = job ? new Map() : new Map(algs.map((a) => [a, createChecksum(a)]));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) return cb(s3error('EntityTooLarge', undefined, { ProposedSize: this.expected ?? this.bytes, MaxSizeAllowed: this.maxBytes }));
    if (this.expected !== undefined && this.bytes > this.expected) return cb(s3error('IncompleteBody'));
    if (this.job) {
      const wait = this.job.update(chunk);
      if (wait) return void wait.then(() => cb(null, chunk));
      return cb(null, chunk);
    }
    this.md5!.update(chunk);
    for (const s of this.sums.values()) s.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.expected !== undefined && this.bytes !== this.expected) return cb(s3error('IncompleteBody'));
    cb();
  }

  override _destroy(err: Error | null, cb: (e: Error | null) => void): void {
    // Streams destroy themselves after a normal end too: only a failure abandons the job.
    if (err) this.job?.drop();
    cb(err);
  }

  /** MD5 and checksums of everything that passed. */
  async digests(): Promise<{ md5: Buffer; sums: Map<ChecksumAlgorithm, Buffer> }> {
    if (this.job) {
      const d = await this.job.digest();
      return { md5: d.md5!, sums: d.sums };
    }
    const sums = new Map<ChecksumAlgorithm, Buffer>();
    for (const [a, sum] of this.sums) sums.set(a, sum.digest());
    return { md5: this.md5!.digest(), sums };
  }
}

/** Bodies larger than this are hashed on a worker thread (when the server has a pool). */
const OFFLOAD_MIN_BYTES = 1024 * 1024;

/**
 * Streams `source` through hashing and encryption into a new blob. Resolves once the blob is
 * durable; the caller commits metadata (the only thing that makes it visible) or deletes it.
 */
export async function storeData(svc: Services, source: Readable, place: PiecePlace, opts: StoreOptions): Promise<StoredData> {
  if (opts.expectedBytes !== undefined && opts.expectedBytes > opts.maxBytes) {
    source.destroy();
    throw s3error('EntityTooLarge', undefined, { ProposedSize: opts.expectedBytes, MaxSizeAllowed: opts.maxBytes });
  }
  const blobId = newOpaqueId(18);
  const ctx = pieceContext(place, blobId);
  const { dek, enc: pieceEnc } = newPieceKey(svc, ctx, opts.objectKey);
  const offload = svc.hashPool !== undefined && (opts.expectedBytes === undefined || opts.expectedBytes >= OFFLOAD_MIN_BYTES);
  const tap = new Tap(opts.checksums, opts.maxBytes, opts.expectedBytes, offload ? svc.hashPool!.start(true, opts.checksums) : undefined);
  const enc = createEncryptStream(dek, streamAadPrefix(ctx));
  if (opts.expectedBytes !== undefined && opts.expectedBytes <= INLINE_MAX_BYTES) {
    const sink = new Collect();
    try {
      await pipeline(source, tap, enc, sink);
    } catch (e) {
      source.destroy();
      throw e;
    }
    const d = await tap.digests();
    return {
      piece: { blobId, size: tap.bytes, enc: pieceEnc, tier: 'inline' },
      md5: d.md5,
      digests: d.sums,
      inline: { blobId, data: Buffer.concat(sink.chunks) },
    };
  }
  const cipherOut = new PassThrough({ highWaterMark: 1024 * 1024 });
  const writing = svc.blobs.write(blobId, cipherOut);
  try {
    await Promise.all([pipeline(source, tap, enc, cipherOut), writing]);
  } catch (e) {
    source.destroy();
    cipherOut.destroy();
    await writing.catch(() => undefined);
    await svc.blobs.delete(blobId).catch(() => undefined);
    throw e;
  }
  const d = await tap.digests();
  return {
    piece: { blobId, size: tap.bytes, enc: pieceEnc },
    md5: d.md5,
    digests: d.sums,
    inline: undefined,
  };
}

/** The place a stored piece of a version belongs to. */
export function placeOf(v: Pick<ObjectVersion, 'bucket' | 'key' | 'versionId' | 'uploadId'>, piece: DataPiece): PiecePlace {
  return v.uploadId !== null && piece.partNumber !== undefined
    ? { bucket: v.bucket, key: v.key, uploadId: v.uploadId, partNumber: piece.partNumber }
    : { bucket: v.bucket, key: v.key, versionId: v.versionId };
}

/** Reads ciphertext bytes [start, end] of an inline piece. */
function readInlineCipher(svc: Services, piece: DataPiece, start: number, end: number): Readable {
  return Readable.from((async function* () {
    const data = await svc.meta.readInline(piece.blobId);
    if (data === undefined) throw new Error(`inline blob ${piece.blobId} is missing`);
    yield data.subarray(start, end + 1);
  })());
}

/** A fresh DEK for a piece and how it is kept: under the master key, or under the object key. */
function newPieceKey(svc: Services, ctx: EncryptionContext, objectKey: Buffer | undefined): { dek: Buffer; enc: PieceEncryption } {
  if (!objectKey) {
    const { dek, wrapped } = newDataKey(svc.keyring, ctx);
    return { dek, enc: { scheme: 1, dek: wrapped } };
  }
  const dek = randomBytes(DEK_BYTES);
  return { dek, enc: { scheme: 2, dek: wrapUnderObjectKey(objectKey, dek, ctx) } };
}

/** Opens a piece's DEK. Scheme 2 needs the object key, which the handler obtained for this request. */
function openPieceKey(svc: Services, piece: DataPiece, ctx: EncryptionContext, objectKey: Buffer | undefined): Buffer {
  if (piece.enc.scheme === 1) return openDataKey(svc.keyring, piece.enc.dek, ctx);
  if (!objectKey) throw new Error(`piece ${piece.blobId} needs its object key`);
  return openUnderObjectKey(objectKey, piece.enc.dek, ctx);
}

/** Opened DEKs of recently read pieces (never SSE-C ones): see crypto/sse/piece-key-cache.ts. */
const openedKeys = new PieceKeyCache(4096, 10 * 60_000);

/** How many opened piece keys are cached (for tests: SSE-C keys must never be among them). */
export function cachedPieceKeyCount(): number {
  return openedKeys.size;
}

/** Everything that determines an opened piece key: the wrapped DEK and the piece's place, length-prefixed. */
function pieceFingerprint(piece: DataPiece, place: PiecePlace): string {
  const e = piece.enc;
  const wrapped = e.scheme === 1 ? `1|${e.dek.kid}|${e.dek.iv}|${e.dek.ct}|${e.dek.tag}` : `2|${e.dek.iv}|${e.dek.ct}|${e.dek.tag}`;
  const where = 'versionId' in place ? `v${place.versionId.length}:${place.versionId}` : `u${place.uploadId.length}:${place.uploadId}|${place.partNumber}`;
  return `${wrapped}|${place.bucket.length}:${place.bucket}|${place.key.length}:${place.key}|${where}`;
}

/** The piece's DEK and stream AAD prefix, from the cache when this exact key was opened before. */
function pieceKey(svc: Services, piece: DataPiece, place: PiecePlace, objectKey: Buffer | undefined, sse: ObjectSse | undefined): { key: Dek; aadPrefix: Buffer } {
  // Never a key made from a customer's SSE-C key; a caller that does not say is not trusted to know.
  const cacheable = piece.enc.scheme === 1 || sse?.algorithm === 'aws:kms';
  const fingerprint = cacheable ? pieceFingerprint(piece, place) : '';
  const hit = cacheable ? openedKeys.get(piece.blobId, fingerprint, piece.enc.scheme === 2 ? objectKey : undefined) : undefined;
  if (hit) return hit;
  const ctx = pieceContext(place, piece.blobId);
  const dek = openPieceKey(svc, piece, ctx, objectKey);
  const aadPrefix = streamAadPrefix(ctx);
  if (!cacheable) return { key: dek, aadPrefix };
  return openedKeys.set(piece.blobId, fingerprint, piece.enc.scheme === 2 ? objectKey : undefined, dek, aadPrefix);
}

/** Decrypting reader for bytes [start, end] of one piece. */
export function readPiece(svc: Services, piece: DataPiece, place: PiecePlace, start: number, end: number, objectKey?: Buffer, sse?: ObjectSse): Readable {
  const { key, aadPrefix } = pieceKey(svc, piece, place, objectKey, sse);
  const r = cipherRangeFor(piece.size, start, end);
  const opts = { plainSize: piece.size, firstChunk: r.firstChunk, skip: r.skip, take: r.take };
  if (piece.tier !== 'inline') return createDecryptingReader(() => svc.blobs.open(piece.blobId), r.cipherStart, r.cipherEnd, key, aadPrefix, opts);
  const raw = readInlineCipher(svc, piece, r.cipherStart, r.cipherEnd);
  const dec = createDecryptStream(key, aadPrefix, opts);
  raw.on('error', (e) => dec.destroy(e));
  return raw.pipe(dec);
}

/**
 * Bytes [start, end] of an object whose data is all inline, decrypted in memory: small GETs
 * skip the stream machinery entirely. undefined when the object is not all inline.
 */
export async function readInlineObject(svc: Services, v: ObjectVersion, start: number, end: number, objectKey?: Buffer): Promise<Buffer | undefined> {
  if (v.pieces.length !== 1 || v.pieces[0]!.tier !== 'inline') return undefined;
  const piece = v.pieces[0]!;
  const data = await svc.meta.readInline(piece.blobId);
  if (data === undefined) throw new Error(`inline blob ${piece.blobId} is missing`);
  const { key, aadPrefix } = pieceKey(svc, piece, placeOf(v, piece), objectKey, v.sse);
  const r = v.size === 0 ? cipherRangeFor(0, 0, -1) : cipherRangeFor(piece.size, start, end);
  return decryptBuffer(key, aadPrefix, data.subarray(r.cipherStart, r.cipherEnd + 1), { plainSize: piece.size, firstChunk: r.firstChunk, skip: r.skip, take: r.take });
}

/** A stream of bytes [start, end] (inclusive) of an object made of one or more pieces. */
export function readObject(svc: Services, v: ObjectVersion, start: number, end: number, objectKey?: Buffer): Readable {
  // One piece (every object not built by multipart): its decrypting stream is the body, no
  // extra stream hop per chunk.
  if (v.pieces.length === 1 && v.size > 0 && end >= start) return readPiece(svc, v.pieces[0]!, placeOf(v, v.pieces[0]!), start, end, objectKey, v.sse);
  async function* gen(): AsyncGenerator<Buffer> {
    if (v.size === 0) {
      // An empty object still has one authenticated (empty, final) chunk: read it so a
      // tampered or truncated blob fails here too.
      for (const piece of v.pieces) for await (const c of readPiece(svc, piece, placeOf(v, piece), 0, -1, objectKey, v.sse)) yield c as Buffer;
      return;
    }
    if (end < start) return;
    let offset = 0;
    for (const piece of v.pieces) {
      const pStart = offset;
      const pEnd = offset + piece.size - 1;
      offset += piece.size;
      if (piece.size === 0 || pEnd < start || pStart > end) continue;
      const s = Math.max(start, pStart) - pStart;
      const e = Math.min(end, pEnd) - pStart;
      for await (const chunk of readPiece(svc, piece, placeOf(v, piece), s, e, objectKey, v.sse)) yield chunk as Buffer;
    }
  }
  return Readable.from(gen(), { objectMode: false, highWaterMark: 1024 * 1024 });
}

/** Deletes blobs that a committed write made unreachable. Failures are left to start-up GC. */
export function discardBlobs(svc: Services, blobIds: readonly string[]): void {
  for (const id of blobIds) {
    svc.blobs.delete(id).catch((e: unknown) => svc.log.warn('blob delete failed; start-up GC will retry', { blobId: id, err: String(e) }));
  }
}
