import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Keyring } from '../crypto/keyring.js';
import { KmsError } from './errors.js';
import { MaterialCache, newMaterial } from './material.js';
import type { KmsKeyDoc } from './model.js';

const keyring = Keyring.fromKeys([{ id: 'k1', key: randomBytes(32) }], 'k1');
const ACCOUNT = '111122223333';

function keyWith(keyId: string, versions: number): { doc: KmsKeyDoc; materials: Buffer[] } {
  const materials: Buffer[] = [];
  const doc = { kind: 'kms-key', keyId, accountId: ACCOUNT, material: [] as KmsKeyDoc['material'] } as KmsKeyDoc;
  for (let v = 1; v <= versions; v++) {
    const { entry, material } = newMaterial(keyring, ACCOUNT, keyId, v, new Date(0).toISOString());
    doc.material.push(entry);
    materials.push(material);
  }
  return { doc, materials };
}

test('unwraps each version, and only for the key and version it was wrapped for', () => {
  const { doc, materials } = keyWith(randomUUID(), 3);
  const cache = new MaterialCache(keyring);
  for (let v = 1; v <= 3; v++) assert.deepEqual(cache.get(doc, v), materials[v - 1]);
  assert.equal(cache.get(doc, 4), undefined);
  // A wrapped version moved to another key (or version) in the store does not unwrap.
  const moved = { ...doc, keyId: randomUUID() };
  assert.throws(() => new MaterialCache(keyring).get(moved, 1), (e: unknown) => e instanceof KmsError && e.code === 'KMSInternalException');
  const swapped = { ...doc, material: [{ ...doc.material[1]!, version: 1 }] };
  assert.throws(() => new MaterialCache(keyring).get(swapped, 1), (e: unknown) => e instanceof KmsError && e.code === 'KMSInternalException');
});

test('material remembered for a write that never landed is not served for the stored version', () => {
  const keyId = randomUUID();
  const cache = new MaterialCache(keyring);
  const orphan = newMaterial(keyring, ACCOUNT, keyId, 1, new Date(0).toISOString());
  cache.remember({ accountId: ACCOUNT, keyId }, orphan.entry, orphan.material);
  const { doc, materials } = keyWith(keyId, 1);
  assert.deepEqual(cache.get(doc, 1), materials[0]);
});

test('bounded: least recently used entries go first', () => {
  const cache = new MaterialCache(keyring, 2);
  const a = keyWith(randomUUID(), 1);
  const b = keyWith(randomUUID(), 1);
  const c = keyWith(randomUUID(), 1);
  cache.get(a.doc, 1);
  cache.get(b.doc, 1);
  cache.get(a.doc, 1);
  cache.get(c.doc, 1);
  assert.equal(cache.size, 2);
  cache.forget(ACCOUNT, a.doc.keyId);
  assert.equal(cache.size, 1);
});
