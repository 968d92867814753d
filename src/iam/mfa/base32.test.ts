import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { base32Decode, base32Encode } from './base32.js';

// RFC 4648 §10, with the padding stripped as base32Encode emits it.
const RFC_VECTORS: [string, string][] = [
  ['', ''],
  ['f', 'MY======'],
  ['fo', 'MZXQ===='],
  ['foo', 'MZXW6==='],
  ['foob', 'MZXW6YQ='],
  ['fooba', 'MZXW6YTB'],
  ['foobar', 'MZXW6YTBOI======'],
];

describe('Base32', () => {
  for (const [plain, padded] of RFC_VECTORS) {
    it(`RFC 4648 vector "${plain}"`, () => {
      assert.equal(base32Encode(Buffer.from(plain)), padded.replace(/=+$/, ''));
      assert.equal(base32Decode(padded).toString(), plain);
      assert.equal(base32Decode(padded.replace(/=+$/, '')).toString(), plain);
      assert.equal(base32Decode(padded.toLowerCase()).toString(), plain);
    });
  }
  it('encodes the RFC 6238 SHA-1 seed as authenticator apps expect', () => {
    assert.equal(base32Encode(Buffer.from('12345678901234567890')), 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  });
  it('rejects characters outside the alphabet, misplaced or wrong-length padding, impossible lengths and stray bits', () => {
    for (const bad of ['MZXW1', 'MZXW0', 'MZ XW6', 'MZ=XW6', 'MY=', 'MY=======', 'MZXW6YTB========', 'A', 'ABC', 'ABCDEF', 'MZ', 'MZXW7', 'é', 'M\u0000']) {
      assert.throws(() => base32Decode(bad), RangeError, bad);
    }
  });
  it('round-trips arbitrary bytes, and decoding accepts lower case and padding', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      const s = base32Encode(bytes);
      assert.match(s, /^[A-Z2-7]*$/);
      assert.deepEqual(new Uint8Array(base32Decode(s)), bytes);
      const padded = s + '='.repeat((8 - (s.length % 8)) % 8);
      assert.deepEqual(new Uint8Array(base32Decode(padded.toLowerCase())), bytes);
    }), { numRuns: 500 });
  });
  it('is canonical: whatever decodes re-encodes to the same text', () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567='), maxLength: 40 }), (s) => {
      let bytes: Buffer;
      try {
        bytes = base32Decode(s);
      } catch (e) {
        assert.ok(e instanceof RangeError);
        return;
      }
      assert.equal(base32Encode(bytes), s.replace(/=+$/, ''));
    }), { numRuns: 1000 });
  });
});
