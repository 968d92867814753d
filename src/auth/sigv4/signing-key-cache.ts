import { sha256Base64 } from './sha256-hex.js';
import { deriveSigningKey, type CredentialScope } from './signing-key.js';

interface Entry {
  key: Buffer;
  lastUsed: number;
}

/**
 * A bounded LRU of derived SigV4 signing keys. Deriving costs four HMACs; a key only changes
 * with its scope (daily) or the secret, so one derivation serves every request of the day.
 * Entries are keyed by a SHA-256 fingerprint of the secret rather than the secret itself, so
 * a rotated secret can never be served a stale key and secrets never become map keys.
 */
export class SigningKeyCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private tick = 0;

  constructor(maxEntries = 1024) {
    this.maxEntries = Math.max(1, Math.floor(maxEntries));
  }

  /** The signing key for (access key, secret, scope), derived on a miss; the returned buffer is shared and must not be modified. */
  get(accessKeyId: string, secret: string, scope: CredentialScope): Buffer {
    const id = `${accessKeyId}\n${sha256Base64(secret)}\n${scope.date}/${scope.region}/${scope.service}`;
    const hit = this.entries.get(id);
    if (hit !== undefined) {
      // A hit only stamps the entry; the scan for the oldest happens on the rare insert into a
      // full cache (a new key or a new day), keeping the per-request path to one lookup.
      hit.lastUsed = ++this.tick;
      return hit.key;
    }
    const key = deriveSigningKey(secret, scope);
    if (this.entries.size >= this.maxEntries) this.evictOldest();
    this.entries.set(id, { key, lastUsed: ++this.tick });
    return key;
  }

  private evictOldest(): void {
    let oldestId: string | undefined;
    let oldest = Infinity;
    for (const [id, e] of this.entries) {
      if (e.lastUsed < oldest) {
        oldest = e.lastUsed;
        oldestId = id;
      }
    }
    if (oldestId !== undefined) this.entries.delete(oldestId);
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
