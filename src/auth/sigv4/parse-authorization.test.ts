import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { S3Error } from '../../errors/s3-errors.js';
import {
  hasPresignedParams,
  parseAuthorizationHeader,
  parseCredential,
  parsePresignedQuery,
  validateCredentialScope,
} from './parse-authorization.js';
import { parseQuery } from './query.js';
import { expectS3Error } from './test-support.js';

const CRED = 'AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request';
const SIG = 'fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024';

describe('parseAuthorizationHeader', () => {
  const expected = {
    credential: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', date: '20130524', region: 'us-east-1', service: 's3', terminal: 'aws4_request' },
    signedHeaders: ['host', 'range', 'x-amz-date'],
    signature: SIG,
  };
  it('parses the documented form', () => {
    assert.deepEqual(parseAuthorizationHeader(`AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host;range;x-amz-date, Signature=${SIG}`), expected);
  });
  it('is tolerant of spacing and component order, as AWS is', () => {
    for (const h of [
      `AWS4-HMAC-SHA256 Credential=${CRED},SignedHeaders=host;range;x-amz-date,Signature=${SIG}`,
      `AWS4-HMAC-SHA256   Credential=${CRED} ,  SignedHeaders=host;range;x-amz-date ,\tSignature=${SIG}  `,
      `AWS4-HMAC-SHA256 Signature=${SIG}, Credential=${CRED}, SignedHeaders=host;range;x-amz-date`,
      `AWS4-HMAC-SHA256 Credential = ${CRED}, SignedHeaders= host;range;x-amz-date, Signature =${SIG},`,
    ]) {
      assert.deepEqual(parseAuthorizationHeader(h), expected, h);
    }
  });
  it('lower-cases signed header names', () => {
    assert.deepEqual(parseAuthorizationHeader(`AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=Host;X-Amz-Date, Signature=x`).signedHeaders, ['host', 'x-amz-date']);
  });
  it('requires all three components', () => {
    const msg = 'The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.';
    expectS3Error(() => parseAuthorizationHeader('AWS4-HMAC-SHA256'), 'AuthorizationHeaderMalformed', msg);
    expectS3Error(() => parseAuthorizationHeader(`AWS4-HMAC-SHA256 Credential=${CRED}, Signature=${SIG}`), 'AuthorizationHeaderMalformed', msg);
  });
  it('rejects unknown or repeated components', () => {
    expectS3Error(
      () => parseAuthorizationHeader(`AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host, Signature=${SIG}, Foo=bar`),
      'AuthorizationHeaderMalformed',
      'The authorization header is malformed; the authorization component "Foo=bar" is malformed.',
    );
    expectS3Error(() => parseAuthorizationHeader(`AWS4-HMAC-SHA256 Credential=${CRED}, Credential=${CRED}, SignedHeaders=host, Signature=x`), 'AuthorizationHeaderMalformed');
    expectS3Error(() => parseAuthorizationHeader(`AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host;;date, Signature=x`), 'AuthorizationHeaderMalformed');
  });
  it('rejects a mal-formed credential', () => {
    for (const c of ['AKID/20130524/us-east-1/s3', 'AKID/20130524/us-east-1/s3/aws4_request/x', '/20130524/us-east-1/s3/aws4_request', 'AKID']) {
      expectS3Error(
        () => parseAuthorizationHeader(`AWS4-HMAC-SHA256 Credential=${c}, SignedHeaders=host, Signature=x`),
        'AuthorizationHeaderMalformed',
        'The authorization header is malformed; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
      );
    }
  });
  it('rejects another algorithm', () => {
    expectS3Error(() => parseAuthorizationHeader('AWS4-HMAC-SHA512 Credential=x'), 'InvalidArgument', 'Unsupported Authorization Type');
    expectS3Error(() => parseAuthorizationHeader('AWS4-HMAC-SHA256Credential=x'), 'InvalidArgument', 'Unsupported Authorization Type');
  });
  it('only ever throws S3Error, on arbitrary, truncated and oversized input', () => {
    const valid = `AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host;range;x-amz-date, Signature=${SIG}`;
    const tokens = fc.constantFrom('AWS4-HMAC-SHA256', ' ', ',', '=', ';', '/', 'Credential', 'SignedHeaders', 'Signature', CRED, SIG, '\t', '');
    const inputs = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.string({ unit: 'binary', maxLength: 300 }).map((s) => `AWS4-HMAC-SHA256 ${s}`),
      fc.array(tokens, { maxLength: 40 }).map((t) => t.join('')),
      fc.nat({ max: valid.length }).map((n) => valid.slice(0, n)),
      fc.integer({ min: 1, max: 5000 }).map((n) => `${valid}, ${'Credential='.repeat(n)}`),
      fc.integer({ min: 1, max: 200000 }).map((n) => `AWS4-HMAC-SHA256 Credential=${'a/'.repeat(n)}`),
    );
    fc.assert(
      fc.property(inputs, (s) => {
        try {
          parseAuthorizationHeader(s);
        } catch (e) {
          if (!(e instanceof S3Error)) throw e;
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseCredential / validateCredentialScope', () => {
  const opts = ['us-east-1', ['s3']] as const;
  it('validates the scope against the endpoint', () => {
    assert.deepEqual(validateCredentialScope(parseCredential(CRED, 'header'), 'header', ...opts), { date: '20130524', region: 'us-east-1', service: 's3' });
  });
  it('names the wrong part with AWS wording, per form', () => {
    const check = (cred: string, header: string, detailRegion?: string): void => {
      expectS3Error(
        () => validateCredentialScope(parseCredential(cred, 'header'), 'header', ...opts),
        'AuthorizationHeaderMalformed',
        `The authorization header is malformed; ${header}`,
        detailRegion === undefined ? undefined : { Region: detailRegion },
      );
      expectS3Error(
        () => validateCredentialScope(parseCredential(cred, 'query'), 'query', ...opts),
        'AuthorizationQueryParametersError',
        `Error parsing the X-Amz-Credential parameter; ${header}`,
      );
    };
    check('AKID/2013-5-24/us-east-1/s3/aws4_request', 'incorrect date format "2013-5-24". This date in the credential must be in the format "yyyyMMdd".');
    check('AKID/20130524/us-west-2/s3/aws4_request', "the region 'us-west-2' is wrong; expecting 'us-east-1'", 'us-east-1');
    check('AKID/20130524/us-east-1/s4/aws4_request', 'incorrect service "s4". This endpoint belongs to "s3".');
    check('AKID/20130524/us-east-1/s3/aws5_request', 'incorrect terminal "aws5_request". This endpoint uses "aws4_request".');
  });
});

describe('parsePresignedQuery', () => {
  const good: Record<string, string> = {
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': CRED,
    'X-Amz-Date': '20130524T000000Z',
    'X-Amz-Expires': '86400',
    'X-Amz-SignedHeaders': 'host',
    'X-Amz-Signature': SIG,
  };
  const q = (over: Record<string, string | undefined>) =>
    parseQuery(
      Object.entries({ ...good, ...over })
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${encodeURIComponent(v!)}`)
        .join('&'),
    );
  it('reads the presigning parameters', () => {
    const p = parsePresignedQuery(q({ 'X-Amz-Security-Token': 'tok' }));
    assert.equal(p.credential.accessKeyId, 'AKIAIOSFODNN7EXAMPLE');
    assert.equal(p.expiresSeconds, 86400);
    assert.equal(p.requestTime.toISOString(), '2013-05-24T00:00:00.000Z');
    assert.deepEqual(p.signedHeaders, ['host']);
    assert.equal(p.securityToken, 'tok');
  });
  it('detects presigned requests by their X-Amz-* parameters', () => {
    assert.equal(hasPresignedParams(q({})), true);
    assert.equal(hasPresignedParams(parseQuery('X-Amz-Date=1&prefix=a')), false);
  });
  it('requires every parameter', () => {
    for (const name of Object.keys(good)) {
      if (name === 'X-Amz-Algorithm') continue;
      expectS3Error(() => parsePresignedQuery(q({ [name]: undefined })), 'AuthorizationQueryParametersError', /^Query-string authentication version 4 requires/);
    }
  });
  it('checks the algorithm', () => {
    expectS3Error(() => parsePresignedQuery(q({ 'X-Amz-Algorithm': 'AWS4-HMAC-SHA1' })), 'AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
    expectS3Error(() => parsePresignedQuery(q({ 'X-Amz-Algorithm': 'AWS4-ECDSA-P256-SHA256' })), 'NotImplemented');
  });
  it('checks X-Amz-Date', () => {
    expectS3Error(() => parsePresignedQuery(q({ 'X-Amz-Date': '2013-05-24' })), 'AuthorizationQueryParametersError', `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`);
  });
  it('checks X-Amz-Expires with AWS messages', () => {
    expectS3Error(() => parsePresignedQuery(q({ 'X-Amz-Expires': 'abc' })), 'AuthorizationQueryParametersError', 'X-Amz-Expires should be a number');
    expectS3Error(() => parsePresignedQuery(q({ 'X-Amz-Expires': '' })), 'AuthorizationQueryParametersError', 'X-Amz-Expires should be a number');
    expectS3Error(() => parsePresignedQuery(q({ 'X-Amz-Expires': '-1' })), 'AuthorizationQueryParametersError', 'X-Amz-Expires must be non-negative');
    const week = 'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds';
    expectS3Error(() => parsePresignedQuery(q({ 'X-Amz-Expires': '604801' })), 'AuthorizationQueryParametersError', week);
    expectS3Error(() => parsePresignedQuery(q({ 'X-Amz-Expires': '9'.repeat(400) })), 'AuthorizationQueryParametersError', week);
    assert.equal(parsePresignedQuery(q({ 'X-Amz-Expires': '604800' })).expiresSeconds, 604800);
    assert.equal(parsePresignedQuery(q({ 'X-Amz-Expires': '1' })).expiresSeconds, 1);
  });
});
