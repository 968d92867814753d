import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalizeWirePath, canonicalizeWireQueryComponent, percentDecode, uriEncode } from './uri-encode.js';

describe('uriEncode', () => {
  it('keeps the unreserved set and encodes everything else with upper-case hex', () => {
    assert.equal(uriEncode('AZaz09-._~'), 'AZaz09-._~');
    assert.equal(uriEncode(" !\"#$%&'()*+,/:;<=>?@[\\]^`{|}"), '%20%21%22%23%24%25%26%27%28%29%2A%2B%2C%2F%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E%60%7B%7C%7D');
  });
  it('keeps "/" only when asked', () => {
    assert.equal(uriEncode('a/b c', true), 'a/b%20c');
    assert.equal(uriEncode('a/b c'), 'a%2Fb%20c');
  });
  it('encodes UTF-8, including astral characters, and lone surrogates as U+FFFD', () => {
    assert.equal(uriEncode('é'), '%C3%A9');
    assert.equal(uriEncode('ሴ'), '%E1%88%B4');
    assert.equal(uriEncode('😀'), '%F0%9F%98%80');
    assert.equal(uriEncode('\ud800x'), '%EF%BF%BDx');
  });
});

describe('canonicalizeWirePath', () => {
  it('returns an already canonical path unchanged', () => {
    const p = '/bucket/dir/key-1.txt';
    assert.equal(canonicalizeWirePath(p), p);
  });
  it('decodes each escape and re-encodes once (S3 single-encodes)', () => {
    assert.equal(canonicalizeWirePath('/a%20b'), '/a%20b');
    assert.equal(canonicalizeWirePath('/a%2fb'), '/a%2Fb');
    assert.equal(canonicalizeWirePath('/%7Euser/%41'), '/~user/A');
    assert.equal(canonicalizeWirePath('/test$file.text'), '/test%24file.text');
    assert.equal(canonicalizeWirePath('/a+b'), '/a%2Bb');
    assert.equal(canonicalizeWirePath('/%2525'), '/%2525');
  });
  it('keeps invalid escapes as a literal percent', () => {
    assert.equal(canonicalizeWirePath('/100%'), '/100%25');
    assert.equal(canonicalizeWirePath('/%zz%4'), '/%25zz%254');
  });
  it('does not normalise dot segments or repeated slashes', () => {
    assert.equal(canonicalizeWirePath('//a/./b/../c/'), '//a/./b/../c/');
  });
  it('encodes raw non-ASCII characters as UTF-8', () => {
    assert.equal(canonicalizeWirePath('/ሴ'), '/%E1%88%B4');
  });
});

describe('canonicalizeWireQueryComponent', () => {
  it('reads "+" as a space and encodes "/"', () => {
    assert.equal(canonicalizeWireQueryComponent('a+b/c'), 'a%20b%2Fc');
    assert.equal(canonicalizeWireQueryComponent('a%2Bb'), 'a%2Bb');
    assert.equal(canonicalizeWireQueryComponent('%3d'), '%3D');
  });
});

describe('percentDecode', () => {
  it('decodes escapes and optionally "+"', () => {
    assert.equal(percentDecode('a%2Fb+c', true), 'a/b c');
    assert.equal(percentDecode('a%2Fb+c', false), 'a/b+c');
    assert.equal(percentDecode('%E1%88%B4', false), 'ሴ');
  });
  it('never throws on malformed input', () => {
    assert.equal(percentDecode('%', true), '%');
    assert.equal(percentDecode('%zz%4', true), '%zz%4');
    assert.equal(percentDecode('%FF', true), '\ufffd');
  });
});
