import { deriveSigningKey, type CredentialScope } from './signing-key.js';

interface Entry {
  key: Buffer;
  /** The secret the key was derived from: a hit must present the same one. */
  secret: string;
  lastUsed: number;
}

/**
 * A bounded LRU of derived SigV4 signing keys. Deriving costs four HMACs; a key only changes
 * with its scope (daily) or the secret, so one derivation serves every request of the day.
 * Entries are keyed by access key and scope; each remembers the secret it was derived from,
 * and a request presenting another secret (a rotated one) gets a fresh derivation, never the
 * stale key. (Comparing the two secrets is not a timing oracle: both come from the server's
 * own credential store, never from the request. Hashing the secret instead, as this cache
 * once did, cost a SHA-256 on every request.) The price: a deleted key's secret stays in
 * this process's memory until its entry is evicted or the day's scope ends.
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
    const id = `${accessKeyId}\n${scope.date}/${scope.region}/${scope.service}`;
    const hit = this.entries.get(id);
    if (hit !== undefined && hit.secret === secret) {
      // A hit only stamps the entry; the scan for the oldest happens on the rare insert into a
      // full cache (a new key or a new day), keeping the per-request path to one lookup.
      hit.lastUsed = ++this.tick;
      return hit.key;
    }
    const key = deriveSigningKey(secret, scope);
    if (hit === undefined && this.entries.size >= this.maxEntries) this.evictOldest();
    this.entries.set(id, { key, secret, lastUsed: ++this.tick });
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
