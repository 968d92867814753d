import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalHeaderValue, canonicalHeaders, canonicalQuery, canonicalRequest, canonicalUri, trimAll } from './canonical-request.js';
import { parseQuery } from './query.js';

describe('canonicalUri', () => {
  it('is "/" for an empty path', () => {
    assert.equal(canonicalUri(''), '/');
  });
  it('uses the path as sent, re-encoded once, without normalisation', () => {
    assert.equal(canonicalUri('/bucket/a%20b/./../c%2Fd'), '/bucket/a%20b/./../c%2Fd');
    assert.equal(canonicalUri("/b/it's(1)!*"), '/b/it%27s%281%29%21%2A');
  });
});

describe('canonicalQuery', () => {
  it('sorts by encoded name, then value, and keeps empty values as "name="', () => {
    assert.equal(canonicalQuery(parseQuery('b=2&a=2&a=1&c')), 'a=1&a=2&b=2&c=');
  });
  it('sorts by the encoded form (byte order), not the decoded one', () => {
    // '%2B' (for '+') sorts before 'A' and before '%40' ('@').
    assert.equal(canonicalQuery(parseQuery('A=1&%40=2&%2B=3')), '%2B=3&%40=2&A=1');
  });
  it('leaves out the omitted parameter', () => {
    assert.equal(canonicalQuery(parseQuery('X-Amz-Signature=abc&a=1'), 'X-Amz-Signature'), 'a=1');
    assert.equal(canonicalQuery(parseQuery('X-Amz-Signature=abc'), 'X-Amz-Signature'), '');
  });
  it('encodes values with "=" "&" and spaces', () => {
    assert.equal(canonicalQuery(parseQuery('k=a%3Db%26c+d')), 'k=a%3Db%26c%20d');
  });
});

describe('trimAll / canonicalHeaderValue', () => {
  it('trims and collapses inner runs of blanks', () => {
    assert.equal(trimAll('  a   b \t c  '), 'a b c');
    assert.equal(trimAll('a\tb'), 'a b');
    assert.equal(trimAll('plain'), 'plain');
    assert.equal(trimAll('   '), '');
  });
  it('joins repeated headers with ","', () => {
    assert.equal(canonicalHeaderValue([' a ', 'b  c']), 'a,b c');
    assert.equal(canonicalHeaderValue(undefined), '');
  });
});

describe('canonicalHeaders', () => {
  it('emits one line per signed header in the given order', () => {
    const headers = { host: 'h', 'x-amz-date': '20130524T000000Z', other: 'ignored' };
    assert.equal(canonicalHeaders(headers, ['host', 'x-amz-date']), 'host:h\nx-amz-date:20130524T000000Z\n');
  });
  it('signs an absent header as empty', () => {
    assert.equal(canonicalHeaders({}, ['content-length']), 'content-length:\n');
  });
  it('never reads inherited properties for attacker-chosen names', () => {
    assert.equal(canonicalHeaders({ host: 'h' }, ['constructor', '__proto__', 'tostring', 'toString', 'host']), 'constructor:\n__proto__:\ntostring:\ntoString:\nhost:h\n');
  });
});

describe('canonicalRequest', () => {
  it('joins the six parts as in the S3 GET example', () => {
    const creq = canonicalRequest({
      method: 'GET',
      canonicalUri: '/test.txt',
      canonicalQuery: '',
      canonicalHeaders: canonicalHeaders(
        {
          host: 'examplebucket.s3.amazonaws.com',
          range: 'bytes=0-9',
          'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
          'x-amz-date': '20130524T000000Z',
        },
        ['host', 'range', 'x-amz-content-sha256', 'x-amz-date'],
      ),
      signedHeaders: 'host;range;x-amz-content-sha256;x-amz-date',
      payloadHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    });
    assert.equal(
      creq,
      'GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n' +
        'x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n' +
        'x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n' +
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });
});
