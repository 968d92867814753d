import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { CIPHERTEXT_OVERHEAD, FORMAT_V1, openCiphertext, parseCiphertext, sealCiphertext, type CiphertextHeader } from './ciphertext.js';
import { KmsError } from './errors.js';

const material = randomBytes(32);
const header: CiphertextHeader = { accountId: '111122223333', keyId: randomUUID(), version: 3 };

const contextArb = fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ maxLength: 24 }), { maxKeys: 5 });
const plaintextArb = fc.uint8Array({ minLength: 1, maxLength: 300 }).map((u) => Buffer.from(u));

function invalidCiphertext(fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => e instanceof KmsError && e.code === 'InvalidCiphertextException');
}

/** Parse, then open with the material the header names (only `material` exists here). */
function open(blob: Buffer, ctx: Record<string, string>): Buffer {
  const p = parseCiphertext(blob);
  return openCiphertext(material, p, ctx);
}

test('round trip: the header comes back, the plaintext opens under the same context', () => {
  fc.assert(fc.property(plaintextArb, contextArb, (pt, ctx) => {
    const blob = sealCiphertext(material, header, pt, ctx);
    assert.equal(blob.length, CIPHERTEXT_OVERHEAD + pt.length);
    assert.equal(blob[0], FORMAT_V1);
    const p = parseCiphertext(blob);
    assert.deepEqual({ accountId: p.accountId, keyId: p.keyId, version: p.version }, header);
    assert.deepEqual(openCiphertext(material, p, ctx), pt);
    // Context order does not matter: it is canonicalised.
    const reversed = Object.fromEntries(Object.entries(ctx).reverse());
    assert.deepEqual(open(blob, reversed), pt);
  }));
});

test('any flipped bit anywhere → InvalidCiphertextException', () => {
  fc.assert(fc.property(plaintextArb, contextArb, fc.nat(), fc.integer({ min: 0, max: 7 }), (pt, ctx, at, bit) => {
    const blob = sealCiphertext(material, header, pt, ctx);
    const bad = Buffer.from(blob);
    bad[at % bad.length]! ^= 1 << bit;
    invalidCiphertext(() => open(bad, ctx));
  }));
});

test('a different encryption context → InvalidCiphertextException', () => {
  fc.assert(fc.property(plaintextArb, contextArb, contextArb, (pt, ctx, other) => {
    fc.pre(JSON.stringify(Object.entries(ctx).sort()) !== JSON.stringify(Object.entries(other).sort()));
    const blob = sealCiphertext(material, header, pt, ctx);
    invalidCiphertext(() => open(blob, other));
  }));
});

test('truncated, extended or foreign blobs → InvalidCiphertextException', () => {
  fc.assert(fc.property(plaintextArb, fc.nat(), (pt, cut) => {
    const blob = sealCiphertext(material, header, pt, {});
    invalidCiphertext(() => open(blob.subarray(0, cut % blob.length), {}));
    invalidCiphertext(() => open(Buffer.concat([blob, Buffer.from([0])]), {}));
  }));
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (junk) => {
    invalidCiphertext(() => open(Buffer.from(junk), {}));
  }));
});

test('the wrong material (another key or version) → InvalidCiphertextException', () => {
  const blob = sealCiphertext(material, header, Buffer.from('secret'), { a: 'b' });
  invalidCiphertext(() => openCiphertext(randomBytes(32), parseCiphertext(blob), { a: 'b' }));
});

test('context values and keys are bound exactly (no splicing between key and value)', () => {
  const blob = sealCiphertext(material, header, Buffer.from('x'), { ab: 'c' });
  invalidCiphertext(() => open(blob, { a: 'bc' }));
  invalidCiphertext(() => open(blob, { ab: 'c', '': '' }));
  assert.equal(open(blob, { ab: 'c' }).toString(), 'x');
});
