/**
 * KMS key material: 32 random bytes per version, stored only wrapped under the service
 * master key with (account, key id, version) as the wrap context, so a wrapped version
 * moved to another key or version in the store does not unwrap. Unwrapped material is
 * kept in a bounded LRU: every Encrypt/Decrypt would otherwise pay an unwrap.
 */
import { randomBytes } from 'node:crypto';
import { canonicalContext } from '../crypto/sse/envelope.js';
import { IntegrityError, type Keyring } from '../crypto/keyring.js';
import { KmsError } from './errors.js';
import type { KeyMaterialVersion, KmsKeyDoc } from './model.js';

export const MATERIAL_BYTES = 32;

// Its own use label, so a wrapped KMS material can never be opened as an SSE data key or a sealed secret.
function wrapAad(accountId: string, keyId: string, version: number): Buffer {
  return Buffer.from(`kura:kms-key-material:v1\n${canonicalContext({ accountId, keyId, version: String(version) })}`, 'utf8');
}

/** A fresh material version for a key, wrapped; the plaintext material is returned for caching. */
export function newMaterial(
  keyring: Keyring, accountId: string, keyId: string, version: number, createdAt: string, rotationType?: KeyMaterialVersion['rotationType'],
): { entry: KeyMaterialVersion; material: Buffer } {
  const material = randomBytes(MATERIAL_BYTES);
  const entry: KeyMaterialVersion = { version, createdAt, wrapped: keyring.wrap(material, wrapAad(accountId, keyId, version)) };
  if (rotationType) entry.rotationType = rotationType;
  return { entry, material };
}

const DEFAULT_CAPACITY = 4096;

const cacheId = (k: { accountId: string; keyId: string }, e: KeyMaterialVersion): string => `${k.accountId}/${k.keyId}/${e.version}/${e.wrapped.iv}`;

/**
 * Unwrapped material by (account, key id, version, wrap IV). The wrap's random IV is part
 * of the cache key so that material remembered for a write that then failed (a version
 * number that was never stored, and may later be stored with other material) can never
 * be served for the version that does get stored.
 */
export class MaterialCache {
  private readonly entries = new Map<string, Buffer>();

  constructor(private readonly keyring: Keyring, private readonly capacity = DEFAULT_CAPACITY) {}

  /** The material of one version of a key; undefined when the key has no such version. */
  get(k: KmsKeyDoc, version: number): Buffer | undefined {
    const entry = k.material.find((m) => m.version === version);
    if (!entry) return undefined;
    const id = cacheId(k, entry);
    const hit = this.entries.get(id);
    if (hit) {
      // Re-insert: Map iteration order is insertion order, so the first entry is the least recently used.
      this.entries.delete(id);
      this.entries.set(id, hit);
      return hit;
    }
    let material: Buffer;
    try {
      material = this.keyring.unwrap(entry.wrapped, wrapAad(k.accountId, k.keyId, version));
    } catch (err) {
      if (err instanceof IntegrityError) throw new KmsError('KMSInternalException', 'The key material could not be read.', { cause: err });
      throw err;
    }
    if (material.length !== MATERIAL_BYTES) throw new KmsError('KMSInternalException', 'The key material could not be read.');
    this.put(id, material);
    return material;
  }

  /** Seeds the cache with material just generated (saves the first unwrap). */
  remember(k: { accountId: string; keyId: string }, entry: KeyMaterialVersion, material: Buffer): void {
    this.put(cacheId(k, entry), material);
  }

  /** Drops a deleted key's material. */
  forget(accountId: string, keyId: string): void {
    const prefix = `${accountId}/${keyId}/`;
    for (const id of [...this.entries.keys()]) if (id.startsWith(prefix)) this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }

  private put(id: string, material: Buffer): void {
    this.entries.delete(id);
    this.entries.set(id, material);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
