/**
 * Recently opened piece keys, so reading a hot small object does not pay for unwrapping its
 * DEK (an AES-GCM decryption) and rebuilding its canonical contexts on every GET.
 *
 * An entry is used only when the request presents exactly what produced it: the same wrapped
 * DEK bytes, the same context (both part of the fingerprint) and, for a DEK wrapped under an
 * object key, the same object key (its SHA-256 compared in constant time; the key itself is
 * not kept). A hit therefore returns precisely what unwrapping would. The cache holds keys
 * the process could unwrap at any time anyway (SSE-S3 under the master key it holds; SSE-KMS
 * after the caller's KMS permission was checked for this request, which happens before the
 * cache is consulted), for a bounded time. Keys derived from a customer's SSE-C key are never
 * cached: S3 promises to forget those after the request.
 */
import * as crypto from 'node:crypto';

export interface OpenedPieceKey {
  /** The DEK: the cache's own copy, never written after it is stored (streams in flight keep using it). */
  key: Buffer;
  aadPrefix: Buffer;
}

interface Entry extends OpenedPieceKey {
  blobId: string;
  fingerprint: string;
  objectKeyHash: Buffer | undefined;
  expires: number;
}

// crypto.hash (Node >= 20.12) hashes in one call, without a Hash object: a third of the cost
// of createHash for a 32-byte key, which every SSE-KMS read pays (twice on a cache miss).
const oneShot = typeof crypto.hash === 'function' ? crypto.hash : undefined;
const sha256 = (b: Buffer): Buffer =>
  oneShot !== undefined ? (oneShot('sha256', b, 'buffer') as unknown as Buffer) : crypto.createHash('sha256').update(b).digest();

/**
 * The DEK and AAD prefix copied into one allocation of their own. Small Buffers are usually
 * slices of Node's shared 8 KiB pool, and a long-lived entry holding such a slice would keep
 * the whole slab alive. (Raw Buffers rather than KeyObjects: creating and collecting a native
 * KeyObject per cache miss cost more than the cipher calls it feeds, which take a raw key
 * just as fast.)
 */
function ownCopies(dek: Buffer, aadPrefix: Buffer): { key: Buffer; aadPrefix: Buffer } {
  const block = Buffer.allocUnsafeSlow(dek.length + aadPrefix.length);
  dek.copy(block, 0);
  aadPrefix.copy(block, dek.length);
  return { key: block.subarray(0, dek.length), aadPrefix: block.subarray(dek.length) };
}

export class PieceKeyCache {
  private readonly entries = new Map<string, Entry>();
  // Insertion order as a ring: evicting the oldest is O(1). (Map's own order would do, but
  // reaching its first live key after many deletions walks the deleted slots.) A slot whose
  // entry was replaced or expired since is stale: eviction checks identity before deleting.
  private readonly ring: (Entry)[] = [];
  private head = 0;

  constructor(private readonly max: number, private readonly ttlMs: number, private readonly now: () => number = Date.now) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('max must be a positive integer');
  }

  get(blobId: string, fingerprint: string, objectKey: Buffer | undefined): OpenedPieceKey | undefined {
    const e = this.entries.get(blobId);
    if (e === undefined || e.fingerprint !== fingerprint) return undefined;
    if (e.expires <= this.now()) {
      this.entries.delete(blobId);
      return undefined;
    }
    if ((e.objectKeyHash === undefined) !== (objectKey === undefined)) return undefined;
    if (e.objectKeyHash !== undefined && !crypto.timingSafeEqual(e.objectKeyHash, sha256(objectKey!))) return undefined;
    return e;
  }

  set(blobId: string, fingerprint: string, objectKey: Buffer | undefined, dek: Buffer, aadPrefix: Buffer): OpenedPieceKey {
    const e: Entry = { blobId, fingerprint, objectKeyHash: objectKey && sha256(objectKey), ...ownCopies(dek, aadPrefix), expires: this.now() + this.ttlMs };
    // Every live entry sits in its own ring slot, so the map never outgrows the ring.
    const oldest = this.ring[this.head];
    if (oldest !== undefined && this.entries.get(oldest.blobId) === oldest) this.entries.delete(oldest.blobId);
    this.ring[this.head] = e;
    this.head = (this.head + 1) % this.max;
    this.entries.set(blobId, e);
    return e;
  }

  get size(): number {
    return this.entries.size;
  }
}
