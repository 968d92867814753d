import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkReadConditions, parseRange } from './conditions.js';

describe('Range', () => {
  it('parses the forms S3 serves', () => {
    assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 });
    assert.deepEqual(parseRange('bytes=90-', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=-10', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=-500', 100), { start: 0, end: 99 });
    assert.deepEqual(parseRange('bytes=50-500', 100), { start: 50, end: 99 });
  });
  it('ignores syntactically invalid ranges as S3 does', () => {
    assert.equal(parseRange('bytes=9-0', 100), undefined);
    assert.equal(parseRange('items=0-1', 100), undefined);
    assert.equal(parseRange('bytes=a-b', 100), undefined);
    assert.equal(parseRange(undefined, 100), undefined);
  });
  it('refuses unsatisfiable and multiple ranges with InvalidRange (416)', () => {
    assert.throws(() => parseRange('bytes=100-', 100), { code: 'InvalidRange', status: 416 });
    assert.throws(() => parseRange('bytes=0-', 0), { code: 'InvalidRange' });
    assert.throws(() => parseRange('bytes=-0', 100), { code: 'InvalidRange' });
    assert.throws(() => parseRange('bytes=0-1,5-6', 100), { code: 'InvalidRange' });
  });
});

describe('conditional reads', () => {
  const v = { etag: '"abc"', lastModified: '2026-01-02T03:04:05.678Z' };
  it('If-Match beats If-Unmodified-Since; If-None-Match beats If-Modified-Since', () => {
    checkReadConditions({ ifMatch: '"abc"', ifUnmodifiedSince: 'Thu, 01 Jan 2026 00:00:00 GMT' }, v);
    assert.throws(() => checkReadConditions({ ifMatch: '"zzz"' }, v), { code: 'PreconditionFailed' });
    assert.throws(() => checkReadConditions({ ifUnmodifiedSince: 'Thu, 01 Jan 2026 00:00:00 GMT' }, v), { code: 'PreconditionFailed' });
    assert.throws(() => checkReadConditions({ ifNoneMatch: 'abc' }, v), { code: 'NotModified' });
    checkReadConditions({ ifNoneMatch: '"zzz"', ifModifiedSince: 'Sat, 03 Jan 2026 00:00:00 GMT' }, v);
    // Compared at the second clients see: 03:04:05.678 shows (and compares) as 03:04:06.
    assert.throws(() => checkReadConditions({ ifModifiedSince: 'Fri, 02 Jan 2026 03:04:06 GMT' }, v), { code: 'NotModified' });
    checkReadConditions({ ifModifiedSince: 'Fri, 02 Jan 2026 03:04:05 GMT' }, v);
    checkReadConditions({ ifUnmodifiedSince: 'Fri, 02 Jan 2026 03:04:06 GMT' }, v);
    assert.throws(() => checkReadConditions({ ifUnmodifiedSince: 'Fri, 02 Jan 2026 03:04:05 GMT' }, v), { code: 'PreconditionFailed' });
    checkReadConditions({ ifModifiedSince: 'not a date' }, v);
  });
});
