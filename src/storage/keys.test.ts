import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compareUtf8, prefixUpperBound, wellFormed } from './keys.js';

describe('storage key ordering', () => {
  it('compares in UTF-8 byte order', () => {
    assert.ok(compareUtf8('\uFFFF', '😀') < 0, 'U+FFFF before an astral character (UTF-16 says the opposite)');
    assert.ok('\uFFFF' > '😀');
    assert.ok(compareUtf8('a', 'a/') < 0);
    assert.ok(compareUtf8('a/', 'ab') < 0);
    assert.ok(compareUtf8('z', 'é') < 0);
    assert.equal(compareUtf8('日本', '日本'), 0);
  });

  it('computes prefix upper bounds', () => {
    assert.equal(prefixUpperBound(''), undefined);
    assert.equal(prefixUpperBound('a'), 'b');
    assert.equal(prefixUpperBound('a/'), 'a0');
    assert.equal(prefixUpperBound('\uD7FF'), '\uE000', 'skips the surrogate block');
    assert.equal(prefixUpperBound('\uFFFF'), '\u{10000}');
    assert.equal(prefixUpperBound('a\u{10FFFF}'), 'b', 'U+10FFFF has no successor: the one before is bumped');
    assert.equal(prefixUpperBound('\u{10FFFF}\u{10FFFF}'), undefined);
  });

  it('bounds exactly the strings that start with the prefix (property)', () => {
    const text = fc.string({ unit: 'binary', maxLength: 6 });
    const edgy = fc.constantFrom('', 'a', '\uFFFF', '\u{10FFFF}', '\uD7FF', '\uE000', '😀', 'é');
    const str = fc.oneof(text, fc.tuple(edgy, text, edgy).map(([a, b, c]) => a + b + c));
    fc.assert(fc.property(str, str, (prefix, s) => {
      const upper = prefixUpperBound(prefix);
      const inRange = compareUtf8(s, prefix) >= 0 && (upper === undefined || compareUtf8(s, upper) < 0);
      assert.equal(inRange, s.startsWith(prefix));
    }), { numRuns: 5000 });
  });

  it('replaces lone surrogates only', () => {
    assert.equal(wellFormed('a\uD800b\uDC00'), 'a\uFFFDb\uFFFD');
    assert.equal(wellFormed('😀'), '😀');
  });
});
