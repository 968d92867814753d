import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { S3Error } from '../../errors/s3-errors.js';
import type { IncomingSignedRequest } from '../sigv4/verify.js';
import { expectS3Error, rfc3986 } from '../sigv4/test-support.js';
import { authenticateV2, type VerifyV2Options } from './verify.js';

// The credentials of the SigV2 examples in the S3 documentation ("Signing and authenticating REST requests").
const AKID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

function opts(now: string, virtualHostBucket?: string): VerifyV2Options {
  return { now: new Date(now), lookupSecret: (a) => (a === AKID ? SECRET : undefined), virtualHostBucket };
}

const sign = (sts: string): string => createHmac('sha1', SECRET).update(sts, 'utf8').digest('base64');

describe('authenticateV2: the documented examples', () => {
  const cases: [string, IncomingSignedRequest, VerifyV2Options][] = [
    ['Object GET', { method: 'GET', rawPath: '/photos/puppy.jpg', rawQuery: '', headers: { host: 'awsexamplebucket1.us-west-1.s3.amazonaws.com', date: 'Tue, 27 Mar 2007 19:36:42 +0000', authorization: `AWS ${AKID}:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=` } }, opts('2007-03-27T19:36:42Z', 'awsexamplebucket1')],
    ['Object PUT', { method: 'PUT', rawPath: '/photos/puppy.jpg', rawQuery: '', headers: { 'content-type': 'image/jpeg', 'content-length': '94328', date: 'Tue, 27 Mar 2007 21:15:45 +0000', authorization: `AWS ${AKID}:iqRzw+ileNPu1fhspnRs8nOjjIA=` } }, opts('2007-03-27T21:15:45Z', 'awsexamplebucket1')],
    ['List', { method: 'GET', rawPath: '/', rawQuery: 'prefix=photos&max-keys=50&marker=puppy', headers: { 'user-agent': 'Mozilla/5.0', date: 'Tue, 27 Mar 2007 19:42:41 +0000', authorization: `AWS ${AKID}:m0WP8eCtspQl5Ahe6L1SozdX9YA=` } }, opts('2007-03-27T19:42:41Z', 'awsexamplebucket1')],
    ['Fetch (acl)', { method: 'GET', rawPath: '/', rawQuery: 'acl', headers: { date: 'Tue, 27 Mar 2007 19:44:46 +0000', authorization: `AWS ${AKID}:82ZHiFIjc+WbcwFKGUVEQspPn+0=` } }, opts('2007-03-27T19:44:46Z', 'awsexamplebucket1')],
    ['List all my buckets', { method: 'GET', rawPath: '/', rawQuery: '', headers: { date: 'Wed, 28 Mar 2007 01:29:59 +0000', authorization: `AWS ${AKID}:qGdzdERIC03wnaRNKh6OqZehG9s=` } }, opts('2007-03-28T01:29:59Z')],
    ['Unicode keys', { method: 'GET', rawPath: '/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re', rawQuery: '', headers: { date: 'Wed, 28 Mar 2007 01:49:49 +0000', authorization: `AWS ${AKID}:DNEZGsoieTZ92F3bUfSPQcbGmlM=` } }, opts('2007-03-28T01:49:49Z')],
    // The query-string example's signature was computed for the bucket "johnsmith" (the
    // documentation's earlier example bucket), before the bucket was renamed in the text.
    ['Query string request authentication', { method: 'GET', rawPath: '/photos/puppy.jpg', rawQuery: 'AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620', headers: { host: 'johnsmith.s3.amazonaws.com' } }, opts('2007-03-29T03:40:00Z', 'johnsmith')],
  ];
  for (const [name, req, o] of cases) {
    it(`accepts "${name}"`, () => {
      const auth = authenticateV2(req, o);
      assert.equal(auth?.version, 'v2');
      assert.equal(auth?.accessKeyId, AKID);
    });
    it(`rejects "${name}" with a changed signature`, () => {
      const authz = req.headers['authorization'];
      const bad: IncomingSignedRequest =
        typeof authz === 'string'
          ? { ...req, headers: { ...req.headers, authorization: authz.replace(/:(.)/, (_, c: string) => `:${c === 'A' ? 'B' : 'A'}`) } }
          : { ...req, rawQuery: req.rawQuery.replace('Signature=N', 'Signature=M') };
      expectS3Error(() => authenticateV2(bad, o), 'SignatureDoesNotMatch');
    });
  }

  it('signs x-amz-date as an x-amz-* header with an empty Date slot (the documented rule)', () => {
    // The documentation's Delete example prints the x-amz-date value in the Date slot instead;
    // SDKs and S3 follow the rule stated above it, which this signature is computed with.
    const xAmzDate = 'Tue, 27 Mar 2007 21:20:26 +0000';
    const sts = `DELETE\n\n\n\nx-amz-date:${xAmzDate}\n/awsexamplebucket1/photos/puppy.jpg`;
    const req = {
      method: 'DELETE',
      rawPath: '/awsexamplebucket1/photos/puppy.jpg',
      rawQuery: '',
      headers: { 'user-agent': 'dotnet', date: 'Tue, 27 Mar 2007 21:20:27 +0000', 'x-amz-date': xAmzDate, authorization: `AWS ${AKID}:${sign(sts)}` },
    };
    assert.equal(authenticateV2(req, opts('2007-03-27T21:20:26Z'))?.requestTime.toISOString(), '2007-03-27T21:20:26.000Z');
  });
});

describe('authenticateV2: rules', () => {
  const base = { method: 'GET', rawPath: '/b/k', rawQuery: '' };
  const date = 'Tue, 27 Mar 2007 19:36:42 +0000';
  const headerReq = (extra: Record<string, string> = {}): IncomingSignedRequest => {
    const headers: Record<string, string> = { date, ...extra };
    const amz = Object.keys(headers).filter((k) => k.startsWith('x-amz-')).sort().map((k) => `${k}:${headers[k]}\n`).join('');
    const sts = `GET\n\n\n${headers['x-amz-date'] !== undefined ? '' : date}\n${amz}/b/k`;
    return { ...base, headers: { ...headers, authorization: `AWS ${AKID}:${sign(sts)}` } };
  };
  const now = '2007-03-27T19:36:42Z';

  it('returns null for anonymous and SigV4 requests', () => {
    assert.equal(authenticateV2({ ...base, headers: {} }, opts(now)), null);
    assert.equal(authenticateV2({ ...base, headers: { authorization: 'AWS4-HMAC-SHA256 Credential=x' } }, opts(now)), null);
  });
  it('describes a header-signed request', () => {
    const auth = authenticateV2(headerReq({ 'x-amz-security-token': 'tok' }), opts('2007-03-27T19:36:52Z'));
    assert.deepEqual(auth, { version: 'v2', form: 'header', accessKeyId: AKID, requestTime: new Date('2007-03-27T19:36:42Z'), signatureAgeMs: 10000, securityToken: 'tok' });
  });
  it('allows 15 minutes of skew, and no more', () => {
    assert.ok(authenticateV2(headerReq(), opts('2007-03-27T19:51:42Z')));
    expectS3Error(() => authenticateV2(headerReq(), opts('2007-03-27T19:51:43Z')), 'RequestTimeTooSkewed', undefined, {
      RequestTime: date,
      ServerTime: '2007-03-27T19:51:43Z',
      MaxAllowedSkewMilliseconds: 900000,
    });
  });
  it('requires a valid date', () => {
    expectS3Error(() => authenticateV2({ ...base, headers: { authorization: `AWS ${AKID}:x` } }, opts(now)), 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
    expectS3Error(() => authenticateV2({ ...base, headers: { date: 'garbage', authorization: `AWS ${AKID}:x` } }, opts(now)), 'AccessDenied');
  });
  it('refuses a malformed header, an unknown key and a wrong signature with S3 details', () => {
    expectS3Error(() => authenticateV2({ ...base, headers: { date, authorization: 'AWS nocolon' } }, opts(now)), 'InvalidArgument', 'AWS authorization header is invalid.  Expected AwsAccessKeyId:signature');
    expectS3Error(() => authenticateV2({ ...base, headers: { date, authorization: 'AWS OTHER:c2ln' } }, opts(now)), 'InvalidAccessKeyId', undefined, { AWSAccessKeyId: 'OTHER' });
    const e = expectS3Error(() => authenticateV2({ ...base, headers: { date, authorization: `AWS ${AKID}:c2ln` } }, opts(now)), 'SignatureDoesNotMatch');
    assert.deepEqual(Object.keys(e.details), ['AWSAccessKeyId', 'StringToSign', 'SignatureProvided', 'StringToSignBytes']);
    assert.equal(e.details['StringToSign'], `GET\n\n\n${date}\n/b/k`);
    assert.equal(e.details['SignatureProvided'], 'c2ln');
  });
  it('binds x-amz-* headers, Content-MD5, Content-Type and signed sub-resources', () => {
    const req = headerReq({ 'x-amz-acl': 'private' });
    assert.ok(authenticateV2(req, opts(now)));
    expectS3Error(() => authenticateV2({ ...req, headers: { ...req.headers, 'x-amz-acl': 'public-read' } }, opts(now)), 'SignatureDoesNotMatch');
    expectS3Error(() => authenticateV2({ ...req, headers: { ...req.headers, 'content-type': 'text/html' } }, opts(now)), 'SignatureDoesNotMatch');
    expectS3Error(() => authenticateV2({ ...req, rawQuery: 'acl' }, opts(now)), 'SignatureDoesNotMatch');
    // Parameters outside the sub-resource list are not signed by SigV2.
    assert.ok(authenticateV2({ ...req, rawQuery: 'prefix=a' }, opts(now)));
  });

  const queryReq = (expires: number, extraQuery = ''): IncomingSignedRequest => {
    const sts = `GET\n\n\n${expires}\n/b/k${extraQuery.startsWith('versionId') ? `?${decodeURIComponent(extraQuery)}` : ''}`;
    const q = `AWSAccessKeyId=${AKID}&Expires=${expires}&Signature=${rfc3986(sign(sts))}${extraQuery ? `&${extraQuery}` : ''}`;
    return { ...base, rawQuery: q, headers: {} };
  };
  it('accepts a query signature until Expires', () => {
    const expires = Date.parse('2007-03-27T20:00:00Z') / 1000;
    const auth = authenticateV2(queryReq(expires, 'versionId=3%2F4'), opts('2007-03-27T20:00:00Z'));
    assert.deepEqual(auth, { version: 'v2', form: 'query', accessKeyId: AKID, requestTime: new Date('2007-03-27T20:00:00Z'), signatureAgeMs: 0 });
    expectS3Error(() => authenticateV2(queryReq(expires), opts('2007-03-27T20:00:01Z')), 'AccessDenied', 'Request has expired', {
      Expires: '2007-03-27T20:00:00Z',
      ServerTime: '2007-03-27T20:00:01Z',
    });
  });
  it('tolerates an unescaped "+" in the query signature', () => {
    for (let e = 1175139620; e < 1175139680; e++) {
      const req = queryReq(e);
      if (!req.rawQuery.includes('%2B')) continue;
      assert.ok(authenticateV2({ ...req, rawQuery: req.rawQuery.replaceAll('%2B', '+') }, opts('2007-03-27T20:00:00Z')));
      return;
    }
    assert.fail('no signature with a "+" in the sample');
  });
  it('requires all query parameters and a numeric Expires', () => {
    expectS3Error(() => authenticateV2({ ...base, rawQuery: `AWSAccessKeyId=${AKID}&Signature=x`, headers: {} }, opts(now)), 'AccessDenied', 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters');
    expectS3Error(() => authenticateV2({ ...base, rawQuery: `AWSAccessKeyId=${AKID}&Signature=x&Expires=soon`, headers: {} }, opts(now)), 'AccessDenied', 'Invalid date (should be seconds since epoch): soon');
  });
  it('refuses a query signature together with an Authorization header', () => {
    expectS3Error(() => authenticateV2({ ...queryReq(2e9), headers: { authorization: `AWS ${AKID}:x` } }, opts(now)), 'InvalidArgument', /^Only one auth mechanism allowed/);
  });
  it('only ever throws S3Error on arbitrary input', () => {
    const s = fc.string({ unit: 'binary', maxLength: 40 });
    fc.assert(
      fc.property(s, s, s, s, s, (a, q, p, d, x) => {
        for (const req of [
          { method: 'GET', rawPath: p, rawQuery: q, headers: { authorization: `AWS ${a}`, date: d, 'x-amz-date': x } },
          { method: 'GET', rawPath: p, rawQuery: `AWSAccessKeyId=${a}&Signature=${q}&Expires=${d}`, headers: { 'x-amz-meta-a': x } },
        ]) {
          try {
            authenticateV2(req, opts(now));
          } catch (e) {
            if (!(e instanceof S3Error)) throw e;
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});
