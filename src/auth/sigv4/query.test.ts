import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseQuery, queryValue } from './query.js';

describe('parseQuery', () => {
  it('is empty for an empty query', () => {
    assert.deepEqual(parseQuery(''), []);
  });
  it('splits pairs and keeps decoded and canonical forms', () => {
    const [a, b, c] = parseQuery('prefix=a+b%2Fc&acl&x=');
    assert.deepEqual(a, { name: 'prefix', value: 'a b/c', hasValue: true, encName: 'prefix', encValue: 'a%20b%2Fc' });
    assert.deepEqual(b, { name: 'acl', value: '', hasValue: false, encName: 'acl', encValue: '' });
    assert.deepEqual(c, { name: 'x', value: '', hasValue: true, encName: 'x', encValue: '' });
  });
  it('drops empty pairs and splits on the first "=" only', () => {
    const params = parseQuery('&&a=b=c&');
    assert.equal(params.length, 1);
    assert.equal(params[0]!.value, 'b=c');
    assert.equal(params[0]!.encValue, 'b%3Dc');
  });
});

describe('queryValue', () => {
  it('returns the first value of a case-sensitive name', () => {
    const params = parseQuery('X-Amz-Date=1&x-amz-date=2&X-Amz-Date=3');
    assert.equal(queryValue(params, 'X-Amz-Date'), '1');
    assert.equal(queryValue(params, 'x-amz-date'), '2');
    assert.equal(queryValue(params, 'missing'), undefined);
  });
});
