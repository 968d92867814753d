import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SigningKeyCache } from './signing-key-cache.js';
import { deriveSigningKey } from './signing-key.js';

const scope = { date: '20130524', region: 'us-east-1', service: 's3' };

describe('SigningKeyCache', () => {
  it('returns the derived key and reuses it', () => {
    const cache = new SigningKeyCache();
    const k1 = cache.get('AKID', 'secret', scope);
    assert.deepEqual(k1, deriveSigningKey('secret', scope));
    assert.equal(cache.get('AKID', 'secret', scope), k1);
    assert.equal(cache.size, 1);
  });
  it('never serves a key derived from another secret, scope or access key', () => {
    const cache = new SigningKeyCache();
    const k1 = cache.get('AKID', 'secret', scope);
    assert.deepEqual(cache.get('AKID', 'rotated', scope), deriveSigningKey('rotated', scope));
    assert.deepEqual(cache.get('AKID', 'secret', { ...scope, date: '20130525' }), deriveSigningKey('secret', { ...scope, date: '20130525' }));
    assert.notEqual(cache.get('OTHER', 'secret', scope), k1);
    // The rotated secret replaced the entry of its key and scope; the old one is derived again.
    assert.equal(cache.size, 3);
    assert.deepEqual(cache.get('AKID', 'secret', scope), k1);
    assert.deepEqual(cache.get('AKID', 'rotated', scope), deriveSigningKey('rotated', scope));
  });
  it('evicts the least recently used entry at capacity', () => {
    const cache = new SigningKeyCache(2);
    const a = cache.get('A', 's', scope);
    cache.get('B', 's', scope);
    assert.equal(cache.get('A', 's', scope), a); // A is now the most recent
    cache.get('C', 's', scope); // evicts B
    assert.equal(cache.size, 2);
    assert.equal(cache.get('A', 's', scope), a);
    cache.clear();
    assert.equal(cache.size, 0);
  });
});
