import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { SigningKeyCache, authenticateV4, type IncomingSignedRequest, type VerifyOptions } from './verify.js';
import { canonicalHeaders, canonicalRequest } from './canonical-request.js';
import { deriveSigningKey } from './signing-key.js';
import { stringToSign } from './string-to-sign.js';
import { TEST_AKID, TEST_SECRET, expectS3Error, sha256Hex, smithyPresign, smithySign, type TestRequest } from './test-support.js';

const E = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const T0 = new Date('2013-05-24T00:00:00Z');
const CRED = 'Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request';

function opts(over: Partial<VerifyOptions> = {}): VerifyOptions {
  return {
    now: T0,
    region: 'us-east-1',
    services: ['s3'],
    lookupSecret: (akid) => (akid === TEST_AKID ? TEST_SECRET : undefined),
    ...over,
  };
}

const at = (d: Date, ms: number): Date => new Date(d.getTime() + ms);

/** The examples of "Signature Calculations for the Authorization Header" and of query-string auth in the S3 API reference. */
const S3_DOC_EXAMPLES: Record<string, IncomingSignedRequest> = {
  'GET object': {
    method: 'GET', rawPath: '/test.txt', rawQuery: '',
    headers: {
      host: 'examplebucket.s3.amazonaws.com', range: 'bytes=0-9', 'x-amz-content-sha256': E, 'x-amz-date': '20130524T000000Z',
      authorization: `AWS4-HMAC-SHA256 ${CRED},SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41`,
    },
  },
  'PUT object': {
    method: 'PUT', rawPath: '/test$file.text', rawQuery: '',
    headers: {
      host: 'examplebucket.s3.amazonaws.com', date: 'Fri, 24 May 2013 00:00:00 GMT', 'x-amz-date': '20130524T000000Z',
      'x-amz-storage-class': 'REDUCED_REDUNDANCY', 'x-amz-content-sha256': '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
      authorization: `AWS4-HMAC-SHA256 ${CRED},SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd`,
    },
  },
  'GET bucket lifecycle': {
    method: 'GET', rawPath: '/', rawQuery: 'lifecycle',
    headers: {
      host: 'examplebucket.s3.amazonaws.com', 'x-amz-content-sha256': E, 'x-amz-date': '20130524T000000Z',
      authorization: `AWS4-HMAC-SHA256 ${CRED},SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543`,
    },
  },
  'GET bucket (list objects)': {
    method: 'GET', rawPath: '/', rawQuery: 'max-keys=2&prefix=J',
    headers: {
      host: 'examplebucket.s3.amazonaws.com', 'x-amz-content-sha256': E, 'x-amz-date': '20130524T000000Z',
      authorization: `AWS4-HMAC-SHA256 ${CRED},SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7`,
    },
  },
  'presigned GET object': {
    method: 'GET', rawPath: '/test.txt',
    rawQuery:
      'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
      '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host' +
      '&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
    headers: { host: 'examplebucket.s3.amazonaws.com' },
  },
};

function withSignature(req: IncomingSignedRequest, mutate: (sig: string) => string): IncomingSignedRequest {
  const h = { ...req.headers };
  if (typeof h['authorization'] === 'string') {
    h['authorization'] = h['authorization'].replace(/Signature=([0-9a-f]+)/, (_, s: string) => `Signature=${mutate(s)}`);
    return { ...req, headers: h };
  }
  return { ...req, rawQuery: req.rawQuery.replace(/X-Amz-Signature=([0-9a-f]+)/, (_, s: string) => `X-Amz-Signature=${mutate(s)}`) };
}

const flipFirst = (s: string): string => (s[0] === '0' ? '1' : '0') + s.slice(1);

describe('authenticateV4: the S3 documentation examples', () => {
  for (const [name, req] of Object.entries(S3_DOC_EXAMPLES)) {
    it(`accepts "${name}"`, () => {
      const auth = authenticateV4(req, opts());
      assert.ok(auth);
      assert.equal(auth.accessKeyId, TEST_AKID);
      assert.deepEqual(auth.scope, { date: '20130524', region: 'us-east-1', service: 's3' });
      assert.equal(auth.amzDate, '20130524T000000Z');
      assert.deepEqual(auth.signingKey, deriveSigningKey(TEST_SECRET, auth.scope));
    });
    it(`rejects "${name}" with one signature character changed`, () => {
      expectS3Error(() => authenticateV4(withSignature(req, flipFirst), opts()), 'SignatureDoesNotMatch');
    });
  }

  it('reports exactly the elements S3 returns on a mismatch', () => {
    const req = withSignature(S3_DOC_EXAMPLES['GET object']!, flipFirst);
    const e = expectS3Error(() => authenticateV4(req, opts()), 'SignatureDoesNotMatch');
    assert.deepEqual(Object.keys(e.details), ['AWSAccessKeyId', 'StringToSign', 'SignatureProvided', 'StringToSignBytes', 'CanonicalRequest', 'CanonicalRequestBytes']);
    assert.equal(e.details['AWSAccessKeyId'], TEST_AKID);
    assert.equal(
      e.details['StringToSign'],
      'AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972',
    );
    assert.equal(e.details['SignatureProvided'], '00e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
    assert.match(String(e.details['StringToSignBytes']), /^41 57 53 34 2d 48 4d 41 43 2d 53 48 41 32 35 36 0a 32 30/);
    assert.equal(
      e.details['CanonicalRequest'],
      `GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\nx-amz-content-sha256:${E}\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n${E}`,
    );
    assert.equal(e.status, 403);
  });

  it('rejects a truncated, upper-cased or non-hex signature', () => {
    const req = S3_DOC_EXAMPLES['GET object']!;
    for (const m of [(s: string) => s.slice(1), (s: string) => s.toUpperCase(), (s: string) => `${s.slice(0, 63)}\u0161`, () => '']) {
      expectS3Error(() => authenticateV4(withSignature(req, m), opts()), 'SignatureDoesNotMatch');
    }
  });

  it('derives the key through the cache when one is given', () => {
    const cache = new SigningKeyCache(4);
    const a = authenticateV4(S3_DOC_EXAMPLES['GET object']!, opts({ signingKeyCache: cache }));
    const b = authenticateV4(S3_DOC_EXAMPLES['PUT object']!, opts({ signingKeyCache: cache }));
    assert.equal(cache.size, 1);
    assert.equal(a?.signingKey, b?.signingKey);
  });
});

describe('authenticateV4: which requests are SigV4 at all', () => {
  const base = { method: 'GET', rawPath: '/b/k', rawQuery: '' };
  it('returns null for anonymous and SigV2 requests', () => {
    assert.equal(authenticateV4({ ...base, headers: {} }, opts()), null);
    assert.equal(authenticateV4({ ...base, headers: { authorization: 'AWS AKID:c2ln' } }, opts()), null);
    assert.equal(authenticateV4({ ...base, rawQuery: 'AWSAccessKeyId=A&Signature=s&Expires=1', headers: {} }, opts()), null);
    assert.equal(authenticateV4({ ...base, rawQuery: 'X-Amz-Date=20130524T000000Z&prefix=a', headers: {} }, opts()), null);
  });
  it('refuses a presigned URL that also carries an Authorization header', () => {
    const req = S3_DOC_EXAMPLES['presigned GET object']!;
    const authz = String(S3_DOC_EXAMPLES['GET object']!.headers['authorization']);
    expectS3Error(
      () => authenticateV4({ ...req, headers: { ...req.headers, authorization: authz } }, opts()),
      'InvalidArgument',
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
      { ArgumentName: 'Authorization', ArgumentValue: authz },
    );
    // Even a SigV2 header does not get past a presigned SigV4 query.
    expectS3Error(() => authenticateV4({ ...req, headers: { ...req.headers, authorization: 'AWS A:b' } }, opts()), 'InvalidArgument');
    // And a SigV4 header does not get past a SigV2 query signature.
    const hdr = S3_DOC_EXAMPLES['GET object']!;
    expectS3Error(() => authenticateV4({ ...hdr, rawQuery: 'Signature=x' }, opts()), 'InvalidArgument', /^Only one auth mechanism/);
  });
  it('refuses other schemes', () => {
    expectS3Error(() => authenticateV4({ ...base, headers: { authorization: 'Bearer abc' } }, opts()), 'InvalidArgument', 'Unsupported Authorization Type');
    expectS3Error(() => authenticateV4({ ...base, headers: { authorization: 'AWS4-HMAC-SHA512 Credential=x' } }, opts()), 'InvalidArgument', 'Unsupported Authorization Type');
    expectS3Error(() => authenticateV4({ ...base, headers: { authorization: '' } }, opts()), 'InvalidArgument', /one and only one ' ' \(space\) required/);
    expectS3Error(() => authenticateV4({ ...base, headers: { authorization: `AWS4-ECDSA-P256-SHA256 Credential=x` } }, opts()), 'NotImplemented');
  });
});

/** A GET signed by the SDK's signer at `date`, with x-amz-content-sha256 set as the S3 client sets it. */
function sdkGet(date: Date, extra: Record<string, string> = {}, req: Partial<TestRequest> = {}) {
  return smithySign(
    { method: 'GET', path: '/bucket/key', headers: { host: 'localhost:9000', 'x-amz-content-sha256': E, ...extra }, ...req },
    { signingDate: date },
  );
}

describe('authenticateV4: header form rules', () => {
  it('accepts an SDK-signed request and describes it', async () => {
    const auth = authenticateV4(await sdkGet(T0), opts({ now: at(T0, 5000) }));
    assert.ok(auth);
    assert.equal(auth.form, 'header');
    assert.equal(auth.version, 'v4');
    assert.deepEqual(auth.payload, { kind: 'sha256', hex: E });
    assert.equal(auth.signatureAgeMs, 5000);
    assert.equal(auth.requestTime.getTime(), T0.getTime());
    assert.deepEqual(auth.signedHeaders, ['host', 'x-amz-content-sha256', 'x-amz-date']);
    assert.equal(auth.securityToken, undefined);
  });
  it('reports the session token', async () => {
    const req = await smithySign(
      { method: 'GET', path: '/b/k', headers: { host: 'h', 'x-amz-content-sha256': E } },
      { signingDate: T0, sessionToken: 'FQoG//token' },
    );
    assert.equal(authenticateV4(req, opts())?.securityToken, 'FQoG//token');
  });
  it('allows 15 minutes of clock skew either way, and no more', async () => {
    const req = await sdkGet(T0);
    assert.ok(authenticateV4(req, opts({ now: at(T0, 900_000) })));
    assert.ok(authenticateV4(req, opts({ now: at(T0, -900_000) })));
    expectS3Error(() => authenticateV4(req, opts({ now: at(T0, 900_001) })), 'RequestTimeTooSkewed', undefined, {
      RequestTime: '20130524T000000Z',
      ServerTime: '2013-05-24T00:15:00Z',
      MaxAllowedSkewMilliseconds: 900000,
    });
    expectS3Error(() => authenticateV4(req, opts({ now: at(T0, -3_600_000) })), 'RequestTimeTooSkewed');
  });
  it('requires x-amz-content-sha256 for S3', async () => {
    const req = await smithySign({ method: 'GET', path: '/b/k', headers: { host: 'h' } }, { signingDate: T0 });
    expectS3Error(() => authenticateV4(req, opts()), 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  });
  it('rejects an unknown x-amz-content-sha256 value', async () => {
    const req = await sdkGet(T0, { 'x-amz-content-sha256': 'not-a-hash' });
    expectS3Error(() => authenticateV4(req, opts()), 'InvalidArgument', /^x-amz-content-sha256 must be/);
  });
  it('returns the payload mode the client committed to', async () => {
    const cases: [string, unknown][] = [
      ['UNSIGNED-PAYLOAD', { kind: 'unsigned' }],
      ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', { kind: 'streaming-signed', trailer: false }],
      ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', { kind: 'streaming-signed', trailer: true }],
      ['STREAMING-UNSIGNED-PAYLOAD-TRAILER', { kind: 'streaming-unsigned-trailer' }],
    ];
    for (const [value, mode] of cases) {
      const req = await smithySign({ method: 'PUT', path: '/b/k', headers: { host: 'h', 'x-amz-content-sha256': value } }, { signingDate: T0 });
      assert.deepEqual(authenticateV4(req, opts())?.payload, mode, value);
    }
  });
  it('accepts x-amz-content-sha256 unsigned, as AWS does', async () => {
    const req = await smithySign({ method: 'GET', path: '/b/k', headers: { host: 'h' } }, { signingDate: T0 });
    assert.ok(authenticateV4({ ...req, headers: { ...req.headers, 'x-amz-content-sha256': E } }, opts()));
    // ... but the value is still bound by the signature's payload-hash line.
    expectS3Error(() => authenticateV4({ ...req, headers: { ...req.headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }, opts()), 'SignatureDoesNotMatch');
  });
  it('refuses x-amz-* headers that were not signed', async () => {
    const req = await sdkGet(T0);
    expectS3Error(
      () => authenticateV4({ ...req, headers: { ...req.headers, 'x-amz-acl': 'public-read', 'x-amz-meta-a': '1', 'x-amzn-trace-id': 'ok' } }, opts()),
      'AccessDenied',
      'There were headers present in the request which were not signed',
      { HeadersNotSigned: 'x-amz-acl, x-amz-meta-a' },
    );
    // Other headers may ride along unsigned.
    assert.ok(authenticateV4({ ...req, headers: { ...req.headers, 'content-type': 'text/plain', 'user-agent': 'x' } }, opts()));
  });
  it('requires host to be signed', async () => {
    const req = await sdkGet(T0);
    const authz = String(req.headers['authorization']).replace('SignedHeaders=host;', 'SignedHeaders=');
    expectS3Error(() => authenticateV4({ ...req, headers: { ...req.headers, authorization: authz } }, opts()), 'AccessDenied', undefined, { HeadersNotSigned: 'host' });
  });
  it('requires a valid date', async () => {
    const req = await sdkGet(T0);
    const noDate = { ...req.headers };
    delete noDate['x-amz-date'];
    expectS3Error(() => authenticateV4({ ...req, headers: noDate }, opts()), 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
    expectS3Error(() => authenticateV4({ ...req, headers: { ...req.headers, 'x-amz-date': '2013-05-24T00:00:00Z' } }, opts()), 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  });
  it('requires the credential date to be the request date', async () => {
    const req = await sdkGet(T0);
    const authz = String(req.headers['authorization']).replace('/20130524/', '/20130523/');
    expectS3Error(
      () => authenticateV4({ ...req, headers: { ...req.headers, authorization: authz } }, opts()),
      'AuthorizationHeaderMalformed',
      'The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date.',
    );
  });
  it('refuses another region with <Region>, and another service', async () => {
    const req = await smithySign({ method: 'GET', path: '/b/k', headers: { host: 'h', 'x-amz-content-sha256': E } }, { signingDate: T0, region: 'eu-west-1' });
    expectS3Error(() => authenticateV4(req, opts()), 'AuthorizationHeaderMalformed', "The authorization header is malformed; the region 'eu-west-1' is wrong; expecting 'us-east-1'", { Region: 'us-east-1' });
    const iam = await smithySign({ method: 'GET', path: '/', headers: { host: 'h' } }, { signingDate: T0, service: 'iam' });
    expectS3Error(() => authenticateV4(iam, opts()), 'AuthorizationHeaderMalformed', /incorrect service "iam"/);
  });
  it('refuses an unknown access key with its id', async () => {
    const req = await smithySign({ method: 'GET', path: '/b/k', headers: { host: 'h', 'x-amz-content-sha256': E } }, { signingDate: T0, accessKeyId: 'AKIDUNKNOWN' });
    expectS3Error(() => authenticateV4(req, opts()), 'InvalidAccessKeyId', undefined, { AWSAccessKeyId: 'AKIDUNKNOWN' });
  });
  it('refuses a wrong secret, a changed path, query, method or signed header', async () => {
    const req = await sdkGet(T0, { 'x-amz-meta-a': '1' }, { query: { 'list-type': '2' } });
    assert.ok(authenticateV4(req, opts()));
    expectS3Error(() => authenticateV4(req, opts({ lookupSecret: () => 'other' })), 'SignatureDoesNotMatch');
    expectS3Error(() => authenticateV4({ ...req, rawPath: '/bucket/key2' }, opts()), 'SignatureDoesNotMatch');
    expectS3Error(() => authenticateV4({ ...req, rawQuery: 'list-type=1' }, opts()), 'SignatureDoesNotMatch');
    expectS3Error(() => authenticateV4({ ...req, method: 'DELETE' }, opts()), 'SignatureDoesNotMatch');
    expectS3Error(() => authenticateV4({ ...req, headers: { ...req.headers, 'x-amz-meta-a': '2' } }, opts()), 'SignatureDoesNotMatch');
  });
  it('accepts node\'s headersDistinct (every header an array)', async () => {
    const req = await sdkGet(T0, { 'x-amz-meta-a': '1' });
    const distinct = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, [v]]));
    assert.ok(authenticateV4({ ...req, headers: distinct }, opts()));
  });
  it('joins repeated headers (headersDistinct) with ","', async () => {
    const req = await sdkGet(T0, { 'x-amz-meta-list': 'a,b' });
    assert.ok(authenticateV4({ ...req, headers: { ...req.headers, 'x-amz-meta-list': ['a', ' b '] } }, opts()));
  });
  it('accepts the Date header when there is no x-amz-date', () => {
    const date = 'Fri, 24 May 2013 00:00:00 GMT';
    const headers: Record<string, string> = { host: 'h', date, 'x-amz-content-sha256': E };
    const scope = { date: '20130524', region: 'us-east-1', service: 's3' };
    const signed = ['date', 'host', 'x-amz-content-sha256'];
    const creq = canonicalRequest({ method: 'GET', canonicalUri: '/b/k', canonicalQuery: '', canonicalHeaders: canonicalHeaders(headers, signed), signedHeaders: signed.join(';'), payloadHash: E });
    const sig = createHmac('sha256', deriveSigningKey(TEST_SECRET, scope)).update(stringToSign('20130524T000000Z', scope, creq)).digest('hex');
    headers['authorization'] = `AWS4-HMAC-SHA256 ${CRED}, SignedHeaders=${signed.join(';')}, Signature=${sig}`;
    const auth = authenticateV4({ method: 'GET', rawPath: '/b/k', rawQuery: '', headers }, opts());
    assert.equal(auth?.amzDate, '20130524T000000Z');
    // The Date header must then be signed.
    const unsigned = { ...headers, authorization: headers['authorization'].replace('SignedHeaders=date;', 'SignedHeaders=') };
    expectS3Error(() => authenticateV4({ method: 'GET', rawPath: '/b/k', rawQuery: '', headers: unsigned }, opts()), 'AccessDenied', undefined, { HeadersNotSigned: 'date' });
  });
  it('for other services, signs the body hash and does not require x-amz-content-sha256', async () => {
    const body = 'Action=GetCallerIdentity&Version=2011-06-15';
    const req = await smithySign(
      { method: 'POST', path: '/', headers: { host: 'sts.amazonaws.com', 'content-type': 'application/x-www-form-urlencoded' }, body },
      { signingDate: T0, service: 'sts' },
    );
    const o = opts({ services: ['sts'] });
    const auth = authenticateV4({ ...req, bodySha256: sha256Hex(body) }, o);
    assert.deepEqual(auth?.payload, { kind: 'sha256', hex: sha256Hex(body) });
    expectS3Error(() => authenticateV4(req, o), 'SignatureDoesNotMatch');
  });
});

describe('authenticateV4: presigned URLs', () => {
  const get = (o: { expiresIn?: number; headers?: Record<string, string>; query?: Record<string, string> } = {}) =>
    smithyPresign(
      // As @aws-sdk/s3-request-presigner does: the header is hoisted into X-Amz-Content-Sha256.
      { method: 'GET', path: '/bucket/key', query: o.query, headers: { host: 'localhost:9000', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...o.headers } },
      { signingDate: T0, expiresIn: o.expiresIn ?? 3600 },
    );

  it('accepts an SDK-presigned URL with an unsigned payload', async () => {
    const req = await get();
    const auth = authenticateV4(req, opts({ now: at(T0, 60_000) }));
    assert.equal(auth?.form, 'query');
    assert.deepEqual(auth?.payload, { kind: 'unsigned' });
    assert.equal(auth?.signatureAgeMs, 60_000);
  });
  it('is valid until X-Amz-Date + X-Amz-Expires, then "Request has expired"', async () => {
    const req = await get({ expiresIn: 3600 });
    assert.ok(authenticateV4(req, opts({ now: at(T0, 3_600_000) })));
    expectS3Error(() => authenticateV4(req, opts({ now: at(T0, 3_600_001) })), 'AccessDenied', 'Request has expired', {
      'X-Amz-Expires': '3600',
      Expires: '2013-05-24T01:00:00Z',
      ServerTime: '2013-05-24T01:00:00Z',
    });
  });
  it('is not valid yet when signed more than 15 minutes in the future', async () => {
    const req = await get();
    assert.ok(authenticateV4(req, opts({ now: at(T0, -900_000) })));
    expectS3Error(() => authenticateV4(req, opts({ now: at(T0, -900_001) })), 'AccessDenied', 'Request is not yet valid', {
      'X-Amz-Date': T0.getTime(),
      Expires: '2013-05-24T01:00:00Z',
    });
  });
  it('accepts the one-week maximum lifetime and not a second more', async () => {
    assert.ok(authenticateV4(await get({ expiresIn: 604800 }), opts({ now: at(T0, 604_800_000) })));
    const req = await get();
    const tooLong = req.rawQuery.replace('X-Amz-Expires=3600', 'X-Amz-Expires=604801');
    expectS3Error(() => authenticateV4({ ...req, rawQuery: tooLong }, opts()), 'AuthorizationQueryParametersError', /less than a week/);
  });
  it('honours a payload hash pinned in the query or a header', async () => {
    const pinned = await get({ headers: { 'x-amz-content-sha256': E } });
    assert.match(pinned.rawQuery, /x-amz-content-sha256=e3b0/i);
    assert.deepEqual(authenticateV4(pinned, opts())?.payload, { kind: 'sha256', hex: E });
    // Without the header hoisted, the signer signs the hash of an empty body; sending that hash
    // as a header makes the request verifiable, and binds the body to it.
    const bare = await smithyPresign({ method: 'GET', path: '/bucket/key', headers: { host: 'h' } }, { signingDate: T0, expiresIn: 60 });
    expectS3Error(() => authenticateV4(bare, opts()), 'SignatureDoesNotMatch');
    assert.deepEqual(authenticateV4({ ...bare, headers: { ...bare.headers, 'x-amz-content-sha256': E } }, opts())?.payload, { kind: 'sha256', hex: E });
  });
  it('reports the session token', async () => {
    const req = await smithyPresign(
      { method: 'GET', path: '/b/k', headers: { host: 'h', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } },
      { signingDate: T0, expiresIn: 60, sessionToken: 'tok' },
    );
    assert.equal(authenticateV4(req, opts())?.securityToken, 'tok');
  });
  it('refuses unsigned x-amz-* headers and a tampered URL', async () => {
    const req = await get();
    expectS3Error(() => authenticateV4({ ...req, headers: { ...req.headers, 'x-amz-acl': 'public-read' } }, opts()), 'AccessDenied', undefined, { HeadersNotSigned: 'x-amz-acl' });
    expectS3Error(() => authenticateV4({ ...req, rawPath: '/bucket/other' }, opts()), 'SignatureDoesNotMatch');
    expectS3Error(() => authenticateV4({ ...req, rawQuery: `${req.rawQuery}&versionId=1` }, opts()), 'SignatureDoesNotMatch');
    const longer = req.rawQuery.replace('X-Amz-Expires=3600', 'X-Amz-Expires=7200');
    expectS3Error(() => authenticateV4({ ...req, rawQuery: longer }, opts()), 'SignatureDoesNotMatch');
  });
  it('refuses a presigned URL for another region with the query-form message', async () => {
    const req = await smithyPresign({ method: 'GET', path: '/b/k', headers: { host: 'h' } }, { signingDate: T0, expiresIn: 60, region: 'eu-west-1' });
    expectS3Error(() => authenticateV4(req, opts()), 'AuthorizationQueryParametersError', "Error parsing the X-Amz-Credential parameter; the region 'eu-west-1' is wrong; expecting 'us-east-1'");
  });
  it('requires the credential date to be the X-Amz-Date day', async () => {
    const req = await get();
    const q = req.rawQuery.replace('%2F20130524%2F', '%2F20130523%2F');
    expectS3Error(() => authenticateV4({ ...req, rawQuery: q }, opts()), 'AuthorizationQueryParametersError', 'Invalid credential date "20130523". This date is not the same as X-Amz-Date: "20130524".');
  });
});
