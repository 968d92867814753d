import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatAmzDate, isScopeDate, isoSeconds, parseAmzDate, parseHttpDate } from './amz-date.js';

describe('parseAmzDate / formatAmzDate', () => {
  it('round-trips the compact ISO 8601 form', () => {
    const d = parseAmzDate('20130524T000000Z');
    assert.equal(d?.toISOString(), '2013-05-24T00:00:00.000Z');
    assert.equal(formatAmzDate(d!), '20130524T000000Z');
  });
  it('rejects malformed or impossible instants', () => {
    for (const s of ['', '20130524T000000', '20130524 000000Z', '2013-05-24T00:00:00Z', '20130230T000000Z', '20131324T000000Z', '20130524T240000Z', '2013052AT000000Z', '20130524T000060Z']) {
      assert.equal(parseAmzDate(s), undefined, s);
    }
  });
});

describe('isScopeDate', () => {
  it('accepts real yyyyMMdd days only', () => {
    assert.equal(isScopeDate('20130524'), true);
    assert.equal(isScopeDate('20240229'), true);
    assert.equal(isScopeDate('20230229'), false);
    assert.equal(isScopeDate('2013052'), false);
    assert.equal(isScopeDate('2013-5-1'), false);
  });
});

describe('isoSeconds', () => {
  it('drops milliseconds', () => {
    assert.equal(isoSeconds(new Date('2013-05-24T00:00:00.999Z')), '2013-05-24T00:00:00Z');
  });
});

describe('parseHttpDate', () => {
  it('parses RFC 1123 dates with GMT or numeric zones', () => {
    assert.equal(parseHttpDate('Fri, 24 May 2013 00:00:00 GMT')?.toISOString(), '2013-05-24T00:00:00.000Z');
    assert.equal(parseHttpDate('Tue, 27 Mar 2007 19:36:42 +0000')?.toISOString(), '2007-03-27T19:36:42.000Z');
    assert.equal(parseHttpDate('Tue, 27 Mar 2007 21:36:42 +0200')?.toISOString(), '2007-03-27T19:36:42.000Z');
    assert.equal(parseHttpDate('27 Mar 2007 19:36:42 GMT')?.toISOString(), '2007-03-27T19:36:42.000Z');
  });
  it('rejects anything else', () => {
    for (const s of ['', 'yesterday', '20130524T000000Z', 'Fri, 32 May 2013 00:00:00 GMT', 'Fri, 24 Foo 2013 00:00:00 GMT', 'Fri, 24 May 2013 00:00 GMT', 'Fri, 24 May 2013 00:00:00 PST', 'x'.repeat(100)]) {
      assert.equal(parseHttpDate(s), undefined, s);
    }
  });
});
