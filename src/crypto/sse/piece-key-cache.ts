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
import { createHash, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

export interface OpenedPieceKey {
  key: KeyObject;
  aadPrefix: Buffer;
}

interface Entry extends OpenedPieceKey {
  fingerprint: string;
  objectKeyHash: Buffer | undefined;
  expires: number;
}

const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest();

export class PieceKeyCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly max: number, private readonly ttlMs: number, private readonly now: () => number = Date.now) {}

  get(blobId: string, fingerprint: string, objectKey: Buffer | undefined): OpenedPieceKey | undefined {
    const e = this.entries.get(blobId);
    if (e === undefined || e.fingerprint !== fingerprint) return undefined;
    if (e.expires <= this.now()) {
      this.entries.delete(blobId);
      return undefined;
    }
    if ((e.objectKeyHash === undefined) !== (objectKey === undefined)) return undefined;
    if (e.objectKeyHash !== undefined && !timingSafeEqual(e.objectKeyHash, sha256(objectKey!))) return undefined;
    return e;
  }

  set(blobId: string, fingerprint: string, objectKey: Buffer | undefined, dek: Buffer, aadPrefix: Buffer): OpenedPieceKey {
    const e: Entry = { fingerprint, objectKeyHash: objectKey && sha256(objectKey), key: createSecretKey(dek), aadPrefix, expires: this.now() + this.ttlMs };
    this.entries.delete(blobId); // re-inserted last: the eviction order follows insertion
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(blobId, e);
    return e;
  }

  get size(): number {
    return this.entries.size;
  }
}
