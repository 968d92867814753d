import { createHash } from 'node:crypto';
import { deriveSigningKey, type CredentialScope } from './signing-key.js';

/**
 * A bounded LRU of derived SigV4 signing keys. Deriving costs four HMACs; a key only changes
 * with its scope (daily) or the secret, so one derivation serves every request of the day.
 * Entries are keyed by a SHA-256 fingerprint of the secret rather than the secret itself, so
 * a rotated secret can never be served a stale key and secrets never become map keys.
 */
export class SigningKeyCache {
  private readonly entries = new Map<string, Buffer>();
  private readonly maxEntries: number;

  constructor(maxEntries = 1024) {
    this.maxEntries = Math.max(1, Math.floor(maxEntries));
  }

  /** The signing key for (access key, secret, scope), derived on a miss; the returned buffer is shared and must not be modified. */
  get(accessKeyId: string, secret: string, scope: CredentialScope): Buffer {
    const fingerprint = createHash('sha256').update(secret, 'utf8').digest('base64');
    const id = `${accessKeyId}\n${fingerprint}\n${scope.date}/${scope.region}/${scope.service}`;
    const hit = this.entries.get(id);
    if (hit !== undefined) {
      // Re-inserting moves the entry to the young end of the Map's insertion order.
      this.entries.delete(id);
      this.entries.set(id, hit);
      return hit;
    }
    const key = deriveSigningKey(secret, scope);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(id, key);
    return key;
  }

  /** Number of cached keys. */
  get size(): number {
    return this.entries.size;
  }

  /** Drops every cached key (e.g. after a credential store reload). */
  clear(): void {
    this.entries.clear();
  }
}
