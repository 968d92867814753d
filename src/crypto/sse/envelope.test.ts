import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Keyring } from '../keyring.js';
import { IntegrityError } from '../errors.js';
import { canonicalContext, newDataKey, openDataKey, openSecret, sealSecret, streamAadPrefix } from './envelope.js';

const ring = Keyring.fromKeys([{ id: 'k1', key: randomBytes(32) }], 'k1');
const isIntegrity = (e: unknown): boolean => e instanceof IntegrityError;

test('canonicalContext: sorted keys, JSON, independent of insertion order', () => {
  assert.equal(canonicalContext({}), '{}');
  assert.equal(canonicalContext({ b: '2', a: '1' }), '{"a":"1","b":"2"}');
  // Integer-like keys sort as strings too (a plain JSON.stringify would not).
  assert.equal(canonicalContext({ 9: 'x', 10: 'y', a: 'z' }), '{"10":"y","9":"x","a":"z"}');
  assert.equal(canonicalContext({ 'k"\n': 'v\u0000é' }), '{"k\\"\\n":"v\\u0000é"}');
  assert.throws(() => canonicalContext({ a: 1 } as unknown as Record<string, string>), TypeError);
  fc.assert(
    fc.property(fc.dictionary(fc.string(), fc.string()), (ctx) => {
      const reversed = Object.fromEntries(Object.entries(ctx).reverse());
      const s = canonicalContext(ctx);
      assert.equal(canonicalContext(reversed), s);
      assert.deepEqual(JSON.parse(s), { ...ctx }); // fast-check may build null-prototype dictionaries
    }),
  );
});

test('canonicalContext is byte for byte the sorted JSON.stringify form (it is stored: AADs of every object)', () => {
  const reference = (ctx: Record<string, string>): string =>
    `{${Object.keys(ctx).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(ctx[k])}`).join(',')}}`;
  const anyString = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.constantFrom('\ud800', 'a\udc00b', '\u2028', '\u007f', '"\\'));
  fc.assert(fc.property(fc.dictionary(anyString, anyString), (ctx) => assert.equal(canonicalContext(ctx), reference(ctx))), { numRuns: 500 });
});

test('newDataKey / openDataKey round trip, bound to the context', () => {
  const ctx = { bucket: 'b', key: 'photos/cat.jpg', versionId: 'v1' };
  const { dek, wrapped } = newDataKey(ring, ctx);
  assert.equal(dek.length, 32);
  assert.deepEqual(openDataKey(ring, wrapped, { versionId: 'v1', key: 'photos/cat.jpg', bucket: 'b' }), dek);
  assert.throws(() => openDataKey(ring, wrapped, { ...ctx, key: 'photos/dog.jpg' }), isIntegrity);
  assert.throws(() => openDataKey(ring, wrapped, { ...ctx, extra: '' }), isIntegrity);
  assert.throws(() => openDataKey(ring, wrapped, { bucket: 'b', key: 'photos/cat.jpg' }), isIntegrity);
  // Two DEKs are never the same.
  assert.notDeepEqual(newDataKey(ring, ctx).dek, dek);
});

test('a wrapped DEK does not open as a secret and vice versa, even with the same context', () => {
  const ctx = { id: 'x' };
  const { wrapped } = newDataKey(ring, ctx);
  assert.throws(() => openSecret(ring, JSON.stringify(wrapped), ctx), isIntegrity);
  const sealed = sealSecret(ring, 'a'.repeat(32), ctx);
  assert.throws(() => openDataKey(ring, JSON.parse(sealed), ctx), isIntegrity);
});

test('sealSecret / openSecret', () => {
  const ctx = { purpose: 'access-key-secret', accessKeyId: 'AKIAEXAMPLE' };
  const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const sealed = sealSecret(ring, secret, ctx);
  assert.equal(typeof sealed, 'string');
  assert.ok(!sealed.includes(secret));
  assert.equal(openSecret(ring, sealed, ctx), secret);
  assert.equal(openSecret(ring, sealed, { accessKeyId: 'AKIAEXAMPLE', purpose: 'access-key-secret' }), secret);
  assert.throws(() => openSecret(ring, sealed, { ...ctx, accessKeyId: 'AKIAOTHER' }), isIntegrity);
  assert.throws(() => openSecret(ring, 'not json', ctx), isIntegrity);
  assert.throws(() => openSecret(ring, '42', ctx), isIntegrity);
  assert.throws(() => openSecret(ring, 'null', ctx), isIntegrity);
  // Unicode secrets survive.
  assert.equal(openSecret(ring, sealSecret(ring, 'ü€𝄞', ctx), ctx), 'ü€𝄞');
});

test('secrets and DEKs wrapped before a rotation still open after it', async () => {
  const r = Keyring.fromKeys([{ id: 'old', key: randomBytes(32) }], 'old');
  const ctx = { a: 'b' };
  const { dek, wrapped } = newDataKey(r, ctx);
  const sealed = sealSecret(r, 's', ctx);
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = await mkdtemp(join(tmpdir(), 'kura-env-'));
  try {
    await r.rotate(join(dir, 'k'));
    assert.notEqual(r.activeKeyId, 'old');
    assert.deepEqual(openDataKey(r, wrapped, ctx), dek);
    assert.equal(openSecret(r, sealed, ctx), 's');
    assert.equal(newDataKey(r, ctx).wrapped.kid, r.activeKeyId);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('streamAadPrefix is canonical and distinct per context', () => {
  assert.deepEqual(streamAadPrefix({ b: '1', a: '2' }), streamAadPrefix({ a: '2', b: '1' }));
  assert.notDeepEqual(streamAadPrefix({ a: '1' }), streamAadPrefix({ a: '2' }));
  assert.ok(streamAadPrefix({ a: '1' }).toString().startsWith('kura:stream:v1\n'));
});
