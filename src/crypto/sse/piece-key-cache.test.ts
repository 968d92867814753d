import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { PieceKeyCache } from './piece-key-cache.js';

test('a hit needs the same fingerprint and the same object key', () => {
  const c = new PieceKeyCache(10, 60_000);
  const dek = randomBytes(32);
  const ok = randomBytes(32);
  const aad = Buffer.from('aad');
  const e = c.set('blob1', 'fp', ok, dek, aad);
  assert.equal(e.key.equals(dek), true);
  assert.notEqual(e.key.buffer, dek.buffer, 'the cache keeps its own copy of the DEK');
  assert.equal(c.get('blob1', 'fp', Buffer.from(ok)), e);
  assert.equal(c.get('blob1', 'fp2', ok), undefined);
  assert.equal(c.get('blob1', 'fp', randomBytes(32)), undefined);
  assert.equal(c.get('blob1', 'fp', randomBytes(16)), undefined);
  assert.equal(c.get('blob1', 'fp', undefined), undefined);
  assert.equal(c.get('blob2', 'fp', ok), undefined);
  // The cache keeps its own copy of the object key: a caller reusing its buffer changes nothing.
  const mutable = Buffer.from(ok);
  c.set('blob3', 'fp', mutable, dek, aad);
  mutable.fill(0);
  assert.ok(c.get('blob3', 'fp', ok));
  const noKey = c.set('blob4', 'fp', undefined, dek, aad);
  assert.equal(c.get('blob4', 'fp', undefined), noKey);
  assert.equal(c.get('blob4', 'fp', ok), undefined);
});

test('bounded: the oldest entry goes first', () => {
  const c = new PieceKeyCache(3, 60_000);
  for (let i = 0; i < 5; i++) c.set(`b${i}`, 'fp', undefined, randomBytes(32), Buffer.alloc(0));
  assert.equal(c.size, 3);
  assert.equal(c.get('b0', 'fp', undefined), undefined);
  assert.equal(c.get('b1', 'fp', undefined), undefined);
  assert.ok(c.get('b4', 'fp', undefined));
});

test('entries expire', () => {
  let now = 1000;
  const c = new PieceKeyCache(10, 500, () => now);
  c.set('b', 'fp', undefined, randomBytes(32), Buffer.alloc(0));
  now += 499;
  assert.ok(c.get('b', 'fp', undefined));
  now += 1;
  assert.equal(c.get('b', 'fp', undefined), undefined);
  assert.equal(c.size, 0);
});

test('bounded under replacement and expiry: the oldest live entry goes first, never more than max', () => {
  let now = 0;
  const c = new PieceKeyCache(3, 100, () => now);
  const k = (): Buffer => randomBytes(32);
  c.set('a', 'fp', undefined, k(), Buffer.alloc(0));
  c.set('b', 'fp', undefined, k(), Buffer.alloc(0));
  c.set('a', 'fp2', undefined, k(), Buffer.alloc(0)); // replaces a; its old slot is stale
  c.set('c', 'fp', undefined, k(), Buffer.alloc(0)); // evicts the stale slot only
  assert.equal(c.size, 3);
  assert.ok(c.get('a', 'fp2', undefined));
  assert.ok(c.get('b', 'fp', undefined));
  c.set('d', 'fp', undefined, k(), Buffer.alloc(0)); // the oldest live entry (b) goes
  assert.equal(c.get('b', 'fp', undefined), undefined);
  assert.ok(c.get('a', 'fp2', undefined) && c.get('c', 'fp', undefined) && c.get('d', 'fp', undefined));
  now = 1000; // everything expires; lookups drop it
  assert.equal(c.get('a', 'fp2', undefined), undefined);
  for (let i = 0; i < 50; i++) {
    c.set(`x${i % 7}`, 'fp', undefined, k(), Buffer.alloc(0));
    assert.ok(c.size <= 3);
  }
  assert.throws(() => new PieceKeyCache(0, 100), RangeError);
});

test('the cached key and AAD are copies: changing the caller\'s buffers changes nothing', () => {
  const c = new PieceKeyCache(4, 60_000);
  const dek = randomBytes(32);
  const aad = Buffer.from('kura:stream:v1\n{}');
  const keep = [Buffer.from(dek), Buffer.from(aad)];
  c.set('b', 'fp', undefined, dek, aad);
  dek.fill(0);
  aad.fill(0);
  const e = c.get('b', 'fp', undefined)!;
  assert.ok(e.key.equals(keep[0]!) && e.aadPrefix.equals(keep[1]!));
});
