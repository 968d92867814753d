import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { S3Error } from '../../errors/s3-errors.js';
import { checkPostPolicy, contentLengthRange, parsePostPolicy, verifyPostSignature, type PostPolicy } from './post-policy.js';
import { deriveSigningKey } from './signing-key.js';

function s3err(code: string, message?: string | RegExp): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof S3Error, `expected S3Error ${code}, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (typeof message === 'string') assert.equal(err.message, message);
    else if (message) assert.match(err.message, message);
    return true;
  };
}

const b64 = (doc: unknown): string => Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc)).toString('base64');
const FUTURE = '2099-01-01T00:00:00.000Z';

// ---------------------------------------------------------------------------------------------
// AWS's worked examples
// ---------------------------------------------------------------------------------------------

/** "Example: Browser-Based Upload using HTTP POST (Using AWS Signature Version 4)". */
const V4_POLICY = 'eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9';
const V4_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const V4_NOW = new Date('2015-12-29T12:00:00Z');

function v4ExampleFields(): Map<string, string> {
  return new Map([
    ['key', 'user/user1/${filename}'],
    ['acl', 'public-read'],
    ['success_action_redirect', 'http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html'],
    ['Content-Type', 'image/jpeg'],
    ['x-amz-meta-uuid', '14365123651274'],
    ['x-amz-server-side-encryption', 'AES256'],
    ['X-Amz-Credential', 'AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request'],
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Date', '20151229T000000Z'],
    ['x-amz-meta-tag', ''],
    ['Policy', V4_POLICY],
    ['X-Amz-Signature', '8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e'],
  ]);
}

const v4Opts = { now: V4_NOW, region: 'us-east-1', allowSigV2: false, lookupSecret: (akid: string) => (akid === 'AKIAIOSFODNN7EXAMPLE' ? V4_SECRET : undefined) };

/** "Browser-Based Uploads Using POST (AWS Signature Version 2)". */
const V2_POLICY = 'eyAiZXhwaXJhdGlvbiI6ICIyMDA3LTEyLTAxVDEyOjAwOjAwLjAwMFoiLAogICJjb25kaXRpb25zIjogWwogICAgeyJidWNrZXQiOiAiam9obnNtaXRoIn0sCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci9lcmljLyJdLAogICAgeyJhY2wiOiAicHVibGljLXJlYWQifSwKICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL2pvaG5zbWl0aC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwKICAgIFsic3RhcnRzLXdpdGgiLCAiJENvbnRlbnQtVHlwZSIsICJpbWFnZS8iXSwKICAgIHsieC1hbXotbWV0YS11dWlkIjogIjE0MzY1MTIzNjUxMjc0In0sCiAgICBbInN0YXJ0cy13aXRoIiwgIiR4LWFtei1tZXRhLXRhZyIsICIiXQogIF0KfQo=';
const V2_SECRET = 'uV3F3YluFJax1cknvbcGwgjvx4QpvB+leU8dUj2o';

function v2ExampleFields(): Map<string, string> {
  return new Map([
    ['key', 'user/eric/MyPicture.jpg'],
    ['acl', 'public-read'],
    ['success_action_redirect', 'http://johnsmith.s3.amazonaws.com/successful_upload.html'],
    ['Content-Type', 'image/jpeg'],
    ['x-amz-meta-uuid', '14365123651274'],
    ['x-amz-meta-tag', 'Some,Tag,For,Picture'],
    ['AWSAccessKeyId', 'AKIAIOSFODNN7EXAMPLE'],
    ['Policy', V2_POLICY],
    ['Signature', '0RavWzkygo6QX9caELEqKi9kDbU='],
  ]);
}

const v2Opts = { now: new Date('2007-11-30T00:00:00Z'), region: 'us-east-1', allowSigV2: true, lookupSecret: (akid: string) => (akid === 'AKIAIOSFODNN7EXAMPLE' ? V2_SECRET : undefined) };

describe('AWS worked example, SigV4', () => {
  test('the documented signature verifies and the policy admits the documented form', () => {
    const fields = v4ExampleFields();
    const result = verifyPostSignature(fields, v4Opts);
    assert.ok(result);
    assert.equal(result.version, 'v4');
    assert.equal(result.accessKeyId, 'AKIAIOSFODNN7EXAMPLE');
    assert.equal(result.policy.expiration.toISOString(), '2015-12-30T12:00:00.000Z');
    assert.equal(result.policy.conditions.length, 11);
    // The caller substitutes ${filename} before checking.
    fields.set('key', 'user/user1/photo.jpg');
    checkPostPolicy(result.policy, fields, 'sigv4examplebucket', V4_NOW);
    assert.equal(contentLengthRange(result.policy), undefined);
  });

  test('field names are matched case-insensitively', () => {
    const fields = new Map([...v4ExampleFields()].map(([k, v]) => [k.toUpperCase(), v]));
    assert.equal(verifyPostSignature(fields, v4Opts)?.version, 'v4');
  });

  test('another bucket fails the bucket condition', () => {
    const fields = v4ExampleFields();
    const { policy } = verifyPostSignature(fields, v4Opts) as { policy: PostPolicy };
    assert.throws(() => checkPostPolicy(policy, fields, 'otherbucket', V4_NOW),
      s3err('AccessDenied', 'Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "sigv4examplebucket"]'));
  });

  test('after the expiration the policy is refused', () => {
    const fields = v4ExampleFields();
    const { policy } = verifyPostSignature(fields, v4Opts) as { policy: PostPolicy };
    assert.throws(() => checkPostPolicy(policy, fields, 'sigv4examplebucket', new Date('2015-12-30T12:00:01Z')),
      s3err('AccessDenied', 'Invalid according to Policy: Policy expired.'));
  });

  test('a changed policy or signature is SignatureDoesNotMatch', () => {
    const fields = v4ExampleFields();
    fields.set('X-Amz-Signature', '0'.repeat(64));
    assert.throws(() => verifyPostSignature(fields, v4Opts), s3err('SignatureDoesNotMatch'));
    const other = v4ExampleFields();
    other.set('Policy', b64({ expiration: FUTURE, conditions: [] }));
    assert.throws(() => verifyPostSignature(other, v4Opts), s3err('SignatureDoesNotMatch'));
    const notHex = v4ExampleFields();
    notHex.set('X-Amz-Signature', 'incorrect_signature');
    assert.throws(() => verifyPostSignature(notHex, v4Opts), s3err('SignatureDoesNotMatch'));
  });

  test('unknown access key: InvalidAccessKeyId', () => {
    assert.throws(() => verifyPostSignature(v4ExampleFields(), { ...v4Opts, lookupSecret: () => undefined }), s3err('InvalidAccessKeyId'));
  });

  test('a credential for another region is refused with S3\'s message', () => {
    assert.throws(() => verifyPostSignature(v4ExampleFields(), { ...v4Opts, region: 'eu-west-1' }),
      s3err('InvalidArgument', "the region 'us-east-1' is wrong; expecting 'eu-west-1'"));
  });
});

describe('AWS worked example, SigV2', () => {
  test('the documented signature verifies and the form satisfies the policy', () => {
    const fields = v2ExampleFields();
    const result = verifyPostSignature(fields, v2Opts);
    assert.ok(result);
    assert.equal(result.version, 'v2');
    assert.equal(result.accessKeyId, 'AKIAIOSFODNN7EXAMPLE');
    checkPostPolicy(result.policy, fields, 'johnsmith', v2Opts.now);
  });

  test('refused when SigV2 is not allowed', () => {
    assert.throws(() => verifyPostSignature(v2ExampleFields(), { ...v2Opts, allowSigV2: false }), s3err('InvalidRequest', /Please use AWS4-HMAC-SHA256/));
  });

  test('a wrong signature is SignatureDoesNotMatch', () => {
    const fields = v2ExampleFields();
    fields.set('Signature', '1RavWzkygo6QX9caELEqKi9kDbU=');
    assert.throws(() => verifyPostSignature(fields, v2Opts), s3err('SignatureDoesNotMatch'));
  });
});

// ---------------------------------------------------------------------------------------------
// Signature round trips
// ---------------------------------------------------------------------------------------------

const SECRETS: Record<string, string> = { AKIDEXAMPLE: 'secret/with+chars=', OTHER: 'another' };
const lookupSecret = (akid: string): string | undefined => SECRETS[akid];

function signV4(policy: string, secret: string, date: string, region: string): string {
  return createHmac('sha256', deriveSigningKey(secret, { date, region, service: 's3' })).update(policy).digest('hex');
}

function v4Form(policy: string, extra: Record<string, string> = {}, akid = 'AKIDEXAMPLE'): Map<string, string> {
  return new Map(Object.entries({
    key: 'k',
    'x-amz-algorithm': 'AWS4-HMAC-SHA256',
    'x-amz-credential': `${akid}/20240102/eu-central-1/s3/aws4_request`,
    'x-amz-date': '20240102T030405Z',
    policy,
    'x-amz-signature': signV4(policy, SECRETS[akid] ?? 'x', '20240102', 'eu-central-1'),
    ...extra,
  }));
}

const rtOpts = { now: new Date('2024-01-02T03:04:05Z'), region: 'eu-central-1', allowSigV2: true, lookupSecret };

describe('verifyPostSignature', () => {
  test('property: SigV4 round trip for any policy conditions; any other signature fails', () => {
    const condition = fc.oneof(
      fc.tuple(fc.constantFrom('eq', 'starts-with'), fc.string({ minLength: 1 }), fc.string()).map(([op, f, v]) => [op, `$${f}`, v]),
      fc.dictionary(fc.string({ minLength: 1 }), fc.string(), { minKeys: 1, maxKeys: 1 }),
      fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => ['content-length-range', a, b]),
    );
    fc.assert(fc.property(fc.array(condition, { maxLength: 8 }), fc.stringMatching(/^[0-9a-f]{64}$/), (conditions, otherSig) => {
      const policy = b64({ expiration: FUTURE, conditions });
      const form = v4Form(policy);
      const result = verifyPostSignature(form, rtOpts);
      assert.ok(result);
      assert.equal(result.version, 'v4');
      assert.equal(result.accessKeyId, 'AKIDEXAMPLE');
      assert.equal(result.policy.conditions.length, conditions.length);
      if (otherSig.toLowerCase() !== form.get('x-amz-signature')) {
        form.set('x-amz-signature', otherSig);
        assert.throws(() => verifyPostSignature(form, rtOpts), s3err('SignatureDoesNotMatch'));
      }
    }), { numRuns: 200 });
  });

  test('property: SigV2 round trip', () => {
    fc.assert(fc.property(fc.string(), (prefix) => {
      const policy = b64({ expiration: FUTURE, conditions: [['starts-with', '$key', prefix]] });
      const signature = createHmac('sha1', SECRETS.OTHER as string).update(policy).digest('base64');
      const form = new Map([['key', `${prefix}x`], ['AWSAccessKeyId', 'OTHER'], ['policy', policy], ['signature', signature]]);
      const result = verifyPostSignature(form, rtOpts);
      assert.equal(result?.version, 'v2');
      assert.equal(result?.accessKeyId, 'OTHER');
      checkPostPolicy(result.policy, form, 'b', rtOpts.now);
    }), { numRuns: 100 });
  });

  test('a key of one account cannot sign for another', () => {
    const policy = b64({ expiration: FUTURE, conditions: [] });
    const form = v4Form(policy, { 'x-amz-signature': signV4(policy, 'another', '20240102', 'eu-central-1') });
    assert.throws(() => verifyPostSignature(form, rtOpts), s3err('SignatureDoesNotMatch'));
  });

  test('no credentials at all: anonymous (null)', () => {
    assert.equal(verifyPostSignature(new Map([['key', 'k'], ['acl', 'public-read']]), rtOpts), null);
    assert.equal(verifyPostSignature(new Map([['key', 'k'], ['x-amz-signature', ''], ['policy', '']]), rtOpts), null);
  });

  test('any signing field makes all of them required, named as S3 names them', () => {
    const policy = b64({ expiration: FUTURE, conditions: [] });
    const full = v4Form(policy);
    const names: Array<[string, string]> = [
      ['policy', 'policy'], ['x-amz-algorithm', 'X-Amz-Algorithm'], ['x-amz-credential', 'X-Amz-Credential'],
      ['x-amz-date', 'X-Amz-Date'], ['x-amz-signature', 'X-Amz-Signature'],
    ];
    for (const [field, spelled] of names) {
      const form = new Map(full);
      form.set(field, '');
      assert.throws(() => verifyPostSignature(form, rtOpts),
        s3err('InvalidArgument', `Bucket POST must contain a field named '${spelled}'.  If it is specified, please check the order of the fields.`));
    }
    assert.throws(() => verifyPostSignature(new Map([['AWSAccessKeyId', 'OTHER'], ['policy', policy]]), rtOpts),
      s3err('InvalidArgument', /field named 'signature'/));
    assert.throws(() => verifyPostSignature(new Map([['signature', 'x'], ['policy', policy]]), rtOpts),
      s3err('InvalidArgument', /field named 'AWSAccessKeyId'/));
  });

  test('malformed SigV4 fields', () => {
    const policy = b64({ expiration: FUTURE, conditions: [] });
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ 'x-amz-algorithm': 'AWS4-HMAC-SHA1' }, /AWS4-HMAC-SHA256/],
      [{ 'x-amz-date': '2024-01-02' }, /ISO8601/],
      [{ 'x-amz-credential': 'malformed-no-slashes' }, /the Credential is mal-formed/],
      [{ 'x-amz-credential': 'AKIDEXAMPLE/2024-01-02/eu-central-1/s3/aws4_request' }, /incorrect date format "2024-01-02"/],
      [{ 'x-amz-credential': 'AKIDEXAMPLE/20240102/eu-central-1/ec2/aws4_request' }, /incorrect service "ec2"/],
      [{ 'x-amz-credential': 'AKIDEXAMPLE/20240102/eu-central-1/s3/aws5_request' }, /incorrect terminal "aws5_request"/],
    ];
    for (const [extra, message] of cases) {
      assert.throws(() => verifyPostSignature(v4Form(policy, extra), rtOpts), s3err('InvalidArgument', message));
    }
  });

  test('a validly signed but malformed policy is InvalidPolicyDocument', () => {
    const policy = b64('not json');
    assert.throws(() => verifyPostSignature(v4Form(policy), rtOpts), s3err('InvalidPolicyDocument', 'Invalid Policy: Invalid JSON.'));
  });
});

// ---------------------------------------------------------------------------------------------
// Policy documents
// ---------------------------------------------------------------------------------------------

describe('parsePostPolicy', () => {
  const invalid: Array<[string, string, string]> = [
    ['empty', '', "Invalid Policy: Expecting '{' but found End-of-Input"],
    ['whitespace only', b64('   '), "Invalid Policy: Expecting '{' but found End-of-Input"],
    ['not base64', 'invalid_base64', 'Invalid Policy: invalid Base64 encoding.'],
    ['bad padding', 'eyJ=a', 'Invalid Policy: invalid Base64 encoding.'],
    ['not JSON', 'aW52YWxpZCBqc29u', 'Invalid Policy: Invalid JSON.'],
    ['a JSON array', b64([]), 'Invalid Policy: Invalid JSON.'],
    ['missing expiration', b64({ conditions: [] }), 'Invalid Policy: Policy missing expiration.'],
    ['expiration not a string', b64({ expiration: true, conditions: [{ hello: 'world' }] }), 'Invalid Policy: Invalid JSON.'],
    ['expiration not a date', b64({ expiration: 'invalid', conditions: [{ hello: 'world' }] }), "Invalid Policy: Invalid 'expiration' value: 'invalid'"],
    ['expiration out of range', b64({ expiration: '2015-02-30T00:00:00Z', conditions: [] }), "Invalid Policy: Invalid 'expiration' value: '2015-02-30T00:00:00Z'"],
    ['missing conditions', b64({ expiration: '2144-11-08T04:19:33Z' }), 'Invalid Policy: Policy missing conditions.'],
    ['conditions not a list', b64({ expiration: FUTURE, conditions: true }), "Invalid Policy: Invalid 'conditions' value: must be a List."],
    ['condition not a list or object', b64({ expiration: FUTURE, conditions: [true] }), 'Invalid Policy: Invalid condition test: must be a List or Object.'],
    ['extra top-level field', b64({ conditions: [], expiration: FUTURE, extra: 'field' }), 'Invalid Policy: Unexpected: "extra"'],
    ['empty condition list', b64({ expiration: FUTURE, conditions: [[]] }), 'Invalid Policy: Invalid Condition: missing operation identifier.'],
    ['unknown operation', b64({ expiration: FUTURE, conditions: [['invalid', '$content-type', 'application/json']] }),
      "Invalid Policy: Invalid Condition: unknown operation 'invalid'."],
    ['wrong argument count', b64({ expiration: FUTURE, conditions: [['eq', '$content-type', 'application/json', 'something']] }),
      'Invalid Policy: Invalid eq: wrong number of arguments.'],
    ['range argument count', b64({ expiration: FUTURE, conditions: [['content-length-range', 1]] }),
      'Invalid Policy: Invalid content-length-range: wrong number of arguments.'],
    ['field not a string', b64({ expiration: FUTURE, conditions: [['eq', false, 'application/json']] }), 'Invalid Policy: Invalid JSON.'],
    ['value not a string', b64({ expiration: FUTURE, conditions: [['eq', '$content-type', true]] }), 'Invalid Policy: Invalid JSON.'],
    ['range bound not an integer', b64({ expiration: FUTURE, conditions: [['content-length-range', 12, false]] }), 'Invalid Policy: Invalid JSON.'],
    ['range bound not numeric', b64({ expiration: FUTURE, conditions: [['content-length-range', 'invalid', '14']] }), 'Invalid Policy: Invalid JSON.'],
    ['range bound fractional', b64({ expiration: FUTURE, conditions: [['content-length-range', 1.5, 14]] }), 'Invalid Policy: Invalid JSON.'],
    ['simple condition with two properties', b64({ expiration: FUTURE, conditions: [{ expires: 'exp', cache: 'smth' }] }),
      'Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.'],
    ['simple condition value not a string', b64({ expiration: FUTURE, conditions: [{ expires: true }] }),
      'Invalid Policy: Invalid Simple-Condition: value must be a string.'],
  ];
  for (const [why, policy, message] of invalid) {
    test(`InvalidPolicyDocument: ${why}`, () => {
      assert.throws(() => parsePostPolicy(policy), s3err('InvalidPolicyDocument', message));
    });
  }

  test('a field reference without `$` is a failed condition (AccessDenied), as S3 reports it', () => {
    assert.throws(() => parsePostPolicy(b64({ expiration: FUTURE, conditions: [['eq', 'content-type', 'binary/octet-stream']] })),
      s3err('AccessDenied', 'Invalid according to Policy: Policy Condition failed: ["eq","content-type","binary/octet-stream"]'));
  });

  test('accepts quoted integer bounds, unpadded and line-wrapped base64, and several date forms', () => {
    const doc = JSON.stringify({ expiration: '2030-06-01T10:00:00+02:00', conditions: [['content-length-range', '10', 20]] });
    const wrapped = Buffer.from(doc).toString('base64').replace(/=+$/, '').replace(/(.{20})/g, '$1\r\n');
    const policy = parsePostPolicy(wrapped);
    assert.equal(policy.expiration.toISOString(), '2030-06-01T08:00:00.000Z');
    assert.deepEqual(contentLengthRange(policy), { min: 10, max: 20 });
    assert.equal(parsePostPolicy(b64({ expiration: '2030-06-01T10:00:00Z', conditions: [] })).expiration.toISOString(), '2030-06-01T10:00:00.000Z');
    assert.equal(parsePostPolicy(b64({ expiration: '2030-06-01T10:00:00.123456Z', conditions: [] })).expiration.getTime(),
      Date.UTC(2030, 5, 1, 10, 0, 0, 123));
  });

  test('property: arbitrary input only ever throws InvalidPolicyDocument or AccessDenied', () => {
    const json = fc.json().map((j) => Buffer.from(j).toString('base64'));
    fc.assert(fc.property(fc.oneof(fc.string(), json, fc.jsonValue().map((v) => b64({ expiration: FUTURE, conditions: [v] }))), (input) => {
      try {
        parsePostPolicy(input);
      } catch (err) {
        assert.ok(err instanceof S3Error && (err.code === 'InvalidPolicyDocument' || err.code === 'AccessDenied'), String(err));
      }
    }), { numRuns: 1000 });
  });
});

// ---------------------------------------------------------------------------------------------
// Conditions
// ---------------------------------------------------------------------------------------------

function policyOf(conditions: unknown[], expiration = FUTURE): PostPolicy {
  return parsePostPolicy(b64({ expiration, conditions }));
}

const NOW = new Date('2024-01-01T00:00:00Z');

describe('checkPostPolicy', () => {
  const base: unknown[] = [['eq', '$key', 'test-object'], { bucket: 'bkt' }];
  const fieldsOf = (extra: Record<string, string> = {}): Map<string, string> => new Map(Object.entries({ key: 'test-object', ...extra }));

  const passing: Array<[string, unknown[], Record<string, string>]> = [
    ['eq on content-type', [['eq', '$content-type', 'text/plain']], { 'content-type': 'text/plain' }],
    ['starts-with on a meta field', [['starts-with', '$x-amz-meta-env', 'prod']], { 'x-amz-meta-env': 'production' }],
    ['starts-with with an empty prefix allows any value', [['starts-with', '$x-amz-meta-tag', '']], { 'x-amz-meta-tag': 'anything-goes' }],
    ['object-form condition', [{ 'content-type': 'image/png' }], { 'content-type': 'image/png' }],
    ['eq on $bucket uses the target bucket', [['eq', '$bucket', 'bkt']], {}],
    ['x-ignore-* fields need no condition', [], { 'x-ignore-custom': 'value' }],
    ['file, policy and x-amz-signature need no condition', [], { file: 'f', policy: 'p', 'x-amz-signature': 's' }],
    ['content-length-range covers nothing and is not checked here', [['content-length-range', 1, 2]], {}],
    ['starts-with on content-type: every entry of a comma list matches', [['starts-with', '$content-type', 'text/']], { 'content-type': 'text/plain, text/html' }],
    ['field names in the policy are case-insensitive', [['eq', '$Content-Type', 'image/jpeg']], { 'content-TYPE': 'image/jpeg' }],
    ['values are case-sensitive, and equal here', [['eq', '$x-amz-meta-a', 'MiXeD']], { 'x-amz-meta-a': 'MiXeD' }],
    ['several conditions on one field', [['starts-with', '$x-amz-meta-a', 'ab'], ['starts-with', '$x-amz-meta-a', 'abc']], { 'x-amz-meta-a': 'abcd' }],
    ['operation names are case-insensitive', [['StArTs-WiTh', '$x-amz-meta-a', 'ab'], ['EQ', '$content-type', 'text/plain'], ['Content-Length-Range', 0, 10]], { 'x-amz-meta-a': 'abcd', 'content-type': 'text/plain' }],
  ];
  for (const [why, conditions, extra] of passing) {
    test(`passes: ${why}`, () => {
      checkPostPolicy(policyOf([...base, ...conditions]), fieldsOf(extra), 'bkt', NOW);
    });
  }

  const failing: Array<[string, unknown[], Record<string, string>, string]> = [
    ['eq mismatch', [['eq', '$content-type', 'text/plain']], { 'content-type': 'image/jpeg' },
      'Invalid according to Policy: Policy Condition failed: ["eq","$content-type","text/plain"]'],
    ['starts-with mismatch', [['starts-with', '$x-amz-meta-path', 'allowed/']], { 'x-amz-meta-path': 'forbidden/value' },
      'Invalid according to Policy: Policy Condition failed: ["starts-with","$x-amz-meta-path","allowed/"]'],
    ['bucket mismatch', [['eq', '$bucket', 'wrong-bucket-name']], {},
      'Invalid according to Policy: Policy Condition failed: ["eq","$bucket","wrong-bucket-name"]'],
    ['object-form mismatch', [{ 'content-type': 'application/xml' }], { 'content-type': 'text/html' },
      'Invalid according to Policy: Policy Condition failed: ["eq", "$content-type", "application/xml"]'],
    ['comma list with a non-matching entry', [['starts-with', '$content-type', 'text/']], { 'content-type': 'text/plain, image/jpeg' },
      'Invalid according to Policy: Policy Condition failed: ["starts-with","$content-type","text/"]'],
    ['a condition on a field the form does not have', [['starts-with', '$x-amz-meta-tag', '']], {},
      'Invalid according to Policy: Policy Condition failed: ["starts-with","$x-amz-meta-tag",""]'],
    ['value case differs', [['eq', '$x-amz-meta-a', 'MiXeD']], { 'x-amz-meta-a': 'mixed' },
      'Invalid according to Policy: Policy Condition failed: ["eq","$x-amz-meta-a","MiXeD"]'],
    ['extra input field (meta)', [], { 'x-amz-meta-custom': 'value' }, 'Invalid according to Policy: Extra input fields: x-amz-meta-custom'],
    ['extra input field (content-type, as spelled)', [], { 'Content-Type': 'text/plain' }, 'Invalid according to Policy: Extra input fields: Content-Type'],
    ['extra input field (a bucket form field without a bucket condition)', [], { bucket: 'bkt' }, 'Invalid according to Policy: Extra input fields: bucket'],
    ['SigV4 fields must be covered', [], { 'x-amz-credential': 'c' }, 'Invalid according to Policy: Extra input fields: x-amz-credential'],
  ];
  for (const [why, conditions, extra, message] of failing) {
    test(`AccessDenied: ${why}`, () => {
      const withoutBucket = why.includes('bucket form field') ? [['eq', '$key', 'test-object']] : base;
      assert.throws(() => checkPostPolicy(policyOf([...withoutBucket, ...conditions]), fieldsOf(extra), 'bkt', NOW), s3err('AccessDenied', message));
    });
  }

  test('the key condition applies to the key after ${filename} substitution', () => {
    const policy = policyOf([['starts-with', '$key', 'user/eric/'], { bucket: 'bkt' }]);
    checkPostPolicy(policy, new Map([['key', 'user/eric/photo.jpg']]), 'bkt', NOW);
    assert.throws(() => checkPostPolicy(policy, new Map([['key', 'user/bob/photo.jpg']]), 'bkt', NOW), s3err('AccessDenied'));
  });

  test('SigV2 forms: AWSAccessKeyId and signature need no condition; SigV4 forms must cover a stray signature field', () => {
    const policy = policyOf([{ key: 'k' }]);
    checkPostPolicy(policy, new Map([['key', 'k'], ['AWSAccessKeyId', 'A'], ['signature', 's'], ['policy', 'p']]), 'b', NOW);
    assert.throws(() => checkPostPolicy(policy, new Map([['key', 'k'], ['x-amz-signature', 's'], ['signature', 's']]), 'b', NOW),
      s3err('AccessDenied', 'Invalid according to Policy: Extra input fields: signature'));
  });

  test('a field repeated under another letter case must satisfy the conditions too', () => {
    const policy = policyOf([{ key: 'k' }, ['eq', '$x-amz-meta-a', 'ok']]);
    checkPostPolicy(policy, new Map([['key', 'k'], ['x-amz-meta-a', 'ok'], ['X-Amz-Meta-A', 'ok']]), 'b', NOW);
    assert.throws(() => checkPostPolicy(policy, new Map([['key', 'k'], ['x-amz-meta-a', 'ok'], ['X-Amz-Meta-A', 'evil']]), 'b', NOW),
      s3err('AccessDenied', /Policy Condition failed/));
  });

  test('expiry: valid up to the expiration instant, refused after it', () => {
    const policy = policyOf([{ key: 'k' }], '2024-01-01T00:00:00.000Z');
    checkPostPolicy(policy, new Map([['key', 'k']]), 'b', new Date('2024-01-01T00:00:00.000Z'));
    assert.throws(() => checkPostPolicy(policy, new Map([['key', 'k']]), 'b', new Date('2024-01-01T00:00:00.001Z')),
      s3err('AccessDenied', 'Invalid according to Policy: Policy expired.'));
  });

  test('property: a form built from its own eq conditions always passes; changing one value fails', () => {
    const name = fc.stringMatching(/^x-amz-meta-[a-z]{1,8}$/);
    fc.assert(fc.property(fc.uniqueArray(fc.tuple(name, fc.string()), { selector: ([n]) => n, maxLength: 6 }), fc.nat(), (pairs, pick) => {
      const policy = policyOf([{ bucket: 'b' }, ...pairs.map(([n, v]) => ['eq', `$${n}`, v])]);
      const form = new Map(pairs);
      checkPostPolicy(policy, form, 'b', NOW);
      if (pairs.length > 0) {
        const [n, v] = pairs[pick % pairs.length] as [string, string];
        form.set(n, `${v}!`);
        assert.throws(() => checkPostPolicy(policy, form, 'b', NOW), s3err('AccessDenied', /Policy Condition failed/));
      }
    }), { numRuns: 200 });
  });
});

describe('contentLengthRange', () => {
  test('none, one, and the intersection of several', () => {
    assert.equal(contentLengthRange(policyOf([{ key: 'k' }])), undefined);
    assert.deepEqual(contentLengthRange(policyOf([['content-length-range', 1048576, 10485760]])), { min: 1048576, max: 10485760 });
    assert.deepEqual(contentLengthRange(policyOf([['content-length-range', 0, 100], ['content-length-range', 10, 1000]])), { min: 10, max: 100 });
  });
});
