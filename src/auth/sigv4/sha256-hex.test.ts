import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { sha256Base64, sha256Hex } from './sha256-hex.js';

describe('sha256Hex / sha256Base64', () => {
  it('hash the UTF-8 bytes like createHash does', () => {
    for (const s of ['', 'abc', 'ሴ😀', 'x'.repeat(1000)]) {
      assert.equal(sha256Hex(s), createHash('sha256').update(s, 'utf8').digest('hex'));
      assert.equal(sha256Base64(s), createHash('sha256').update(s, 'utf8').digest('base64'));
    }
    assert.equal(sha256Hex(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
