import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Finding } from './ast.js';
import { parsePolicy } from './parse.js';
import { isValidCidr, validatePolicy, type ValidationContext } from './validate.js';
import { isPublicPolicy } from './is-public.js';

const BUCKET = 'amzn-s3-demo-bucket';
const BA = `arn:aws:s3:::${BUCKET}`;
const OA = `${BA}/*`;
const bucketCtx: ValidationContext = { kind: 'bucket', bucket: BUCKET };

function findings(policy: object | string, ctx: ValidationContext = bucketCtx): Finding[] {
  const r = parsePolicy(typeof policy === 'string' ? policy : JSON.stringify(policy));
  if ('errors' in r) assert.fail(`parse errors: ${JSON.stringify(r.errors)}`);
  return validatePolicy(r.ast, ctx);
}
const errors = (p: object | string, ctx?: ValidationContext): string[] => findings(p, ctx).filter((f) => f.severity === 'error').map((f) => f.message);
const first = (p: object | string, ctx?: ValidationContext): string | undefined => errors(p, ctx)[0];
const st = (extra: object = {}): object => ({ Effect: 'Allow', Principal: { AWS: '111122223333' }, Action: 's3:GetObject', Resource: OA, ...extra });
const pol = (...statements: object[]): object => ({ Version: '2012-10-17', Statement: statements });

test('order: statement by statement; within one, principal before action before resource', () => {
  assert.equal(first(pol(st({ Principal: { AWS: 'nobody' }, Action: 's3:Nope', Resource: 'x' }))), 'Invalid principal in policy');
  assert.equal(first(pol(st({ Action: 's3:Nope', Resource: 'x' }))), 'Policy has invalid action');
  assert.equal(first(pol(st({ Resource: 'x' }))), 'Policy has invalid resource');
  assert.deepEqual(errors(pol(st({ Resource: 'x' }), st({ Action: 'iam:PassRole' }))), ['Policy has invalid resource', 'Policy has invalid action']);
  const noPrincipal = { Effect: 'Allow', Action: ['s3:GetBucketLocation', 's3:ListAllMyBuckets'], Resource: 'arn:aws:s3:::*' };
  assert.equal(first(pol(noPrincipal)), 'Missing required field Principal');
  assert.equal(first(pol({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject' })), 'Missing required field Resource');
});

test('errors come before warnings', () => {
  const f = findings(pol(st({ NotAction: 's3:GetObject', Action: undefined }), st({ Resource: 'x' })));
  assert.equal(f[0]!.severity, 'error');
  assert.ok(f.slice(1).every((x) => x.severity !== 'error'));
});

test('principals', () => {
  const p = (principal: unknown): string | undefined => first(pol(st({ Principal: principal })));
  for (const good of [
    '*', { AWS: '*' }, { AWS: '111122223333' }, { AWS: 'arn:aws:iam::111122223333:root' },
    { AWS: 'arn:aws:iam::111122223333:user/Dave' }, { AWS: 'arn:aws:iam::111122223333:user/division/team/Dave' },
    { AWS: 'arn:aws:iam::111122223333:role/service-role/R' }, { AWS: 'arn:aws:sts::111122223333:assumed-role/R/session@x' },
    { AWS: 'arn:aws:sts::111122223333:federated-user/Bob' },
    { AWS: 'arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity EH1HDMB1FH2TC' },
    { Service: 'logging.s3.amazonaws.com' }, { Service: ['cloudfront.amazonaws.com', 's3.amazonaws.com'] },
    { Federated: 'cognito-identity.amazonaws.com' }, { Federated: 'arn:aws:iam::111122223333:saml-provider/Okta' },
    { CanonicalUser: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be' },
  ]) assert.equal(p(good), undefined, JSON.stringify(good));
  for (const bad of [
    { AWS: 'user' }, { AWS: '11112222333' }, { AWS: 'arn:aws:iam::111122223333:group/G' }, { AWS: 'arn:aws:iam::*:root' },
    { AWS: 'arn:aws:iam::111122223333:role/*' }, { AWS: 'arn:aws:iam::111122223333:user/a*' }, { AWS: 'arn:aws-cn:iam::111122223333:root' },
    { AWS: [] }, {}, { Service: '*' }, { Service: 'example.com' }, { Federated: '*' }, { CanonicalUser: 'abc' },
  ]) assert.equal(p(bad), 'Invalid principal in policy', JSON.stringify(bad));
  // Existence is the caller's (AWS resolves principals at save time).
  const ctx: ValidationContext = { kind: 'bucket', bucket: BUCKET, principalExists: (x) => x !== 'arn:aws:iam::111122223333:user/Gone' };
  assert.equal(first(pol(st({ Principal: { AWS: 'arn:aws:iam::111122223333:user/Gone' } })), ctx), 'Invalid principal in policy');
  assert.equal(first(pol(st({ Principal: { AWS: 'arn:aws:iam::111122223333:user/Here' } })), ctx), undefined);
  assert.equal(first(pol({ ...st(), Principal: undefined, NotPrincipal: { AWS: '111122223333' } })), 'NotPrincipal is only supported with Effect Deny');
  assert.equal(first(pol({ ...st({ Effect: 'Deny' }), Principal: undefined, NotPrincipal: { AWS: '111122223333' } })), undefined);
});

test('actions', () => {
  const a = (action: unknown): string | undefined => first(pol(st({ Action: action, Resource: [BA, OA] })));
  for (const good of ['*', 's3:*', 's3:Get*', 'S3:getobject', 's3:*Object*', 's3:GetObject?cl', ['s3:GetObject', 's3:ListBucket']]) {
    assert.equal(a(good), undefined, JSON.stringify(good));
  }
  for (const bad of ['s3:GetObjects', 'iam:PassRole', 'ec2:*', 's3:Frob*', 'GetObject', '', 's3:', [], '*:GetObject']) {
    assert.equal(a(bad), 'Policy has invalid action', JSON.stringify(bad));
  }
});

test('resources: this bucket only, wildcards that can reach it', () => {
  const r = (resource: unknown, action: unknown = 's3:*'): string | undefined => first(pol(st({ Action: action, Resource: resource })));
  for (const good of [BA, OA, `${BA}/a/b/*`, `${BA}*`, 'arn:aws:s3:::*', 'arn:aws:s3:::amzn-s3-*', 'arn:aws:s3:::*/*', `arn:aws:s3:::${BUCKET.replace('demo', 'd?mo')}`, `arn:*:s3:::${BUCKET}`, `${BA}/key:with:colons`]) {
    assert.equal(r(good), undefined, good);
  }
  for (const bad of ['*', 'arn:aws:s3:::other', 'arn:aws:s3:::other/*', `${BA}x`, `${BA}x/*`, BUCKET, `arn:aws-cn:s3:::${BUCKET}`,
    `arn:aws:s3:us-east-1::${BUCKET}`, `arn:aws:s3::111122223333:${BUCKET}`, `arn:aws:sqs:::${BUCKET}`, 'arn:aws:s3', `${BA}/`, []]) {
    assert.equal(r(bad), 'Policy has invalid resource', JSON.stringify(bad));
  }
  assert.equal(first(pol(st({ Resource: `arn:aws-cn:s3:::${BUCKET}/*` })), { kind: 'bucket', bucket: BUCKET, partition: 'aws-cn' }), undefined);
  assert.equal(first(pol(st({ Resource: OA }))), undefined);
  assert.equal(first(pol(st({ Resource: undefined, NotResource: `${BA}/private/*`, Effect: 'Deny' }))), undefined);
  assert.equal(first(pol(st({ Resource: undefined, NotResource: 'arn:aws:s3:::other/*', Effect: 'Deny' }))), 'Policy has invalid resource');
});

test('resources: policy variables (2012-10-17 only, resource part only)', () => {
  const v = (resource: string, version = '2012-10-17'): string | undefined =>
    first({ Version: version, Statement: [st({ Resource: resource })] });
  assert.equal(v(`${BA}/home/\${aws:username}/*`), undefined);
  assert.equal(v('arn:aws:s3:::${aws:PrincipalTag/bucket}/*'), undefined); // could be this bucket at request time
  assert.equal(v(`arn:aws:s3:::\${aws:username}${BUCKET}/*`), undefined);
  assert.equal(v(`arn:aws:s3:\${aws:RequestedRegion}::${BUCKET}/*`), 'Policy has invalid resource');
  // Escapes are literal characters; 2008-10-17 has no variables at all.
  assert.equal(v(`arn:aws:s3:::amzn-s3-demo-\${*}/*`), 'Policy has invalid resource');
  assert.equal(v(`arn:aws:s3:::\${aws:username}/*`, '2008-10-17'), 'Policy has invalid resource');
  assert.equal(v(`${BA}/\${aws:username}/*`, '2008-10-17'), undefined);
});

test('action / resource applicability', () => {
  const m = (action: unknown, resource: unknown): string | undefined => first(pol(st({ Action: action, Resource: resource })));
  const mismatch = 'Action does not apply to any resource(s) in statement';
  assert.equal(m('s3:PutObject', BA), mismatch);
  assert.equal(m('s3:ListBucket', OA), mismatch);
  assert.equal(m(['s3:GetObject', 's3:ListBucket'], OA), mismatch);
  assert.equal(m(['s3:GetObject', 's3:ListBucket'], [BA, OA]), undefined);
  assert.equal(m('s3:ListAllMyBuckets', [BA, OA]), mismatch);
  assert.equal(m('s3:CreateJob', [BA, OA]), mismatch);
  assert.equal(m('s3:GetObject', `${BA}*`), undefined);
  assert.equal(m('s3:ListBucket', `${BA}*`), undefined);
  assert.equal(m('s3:*', BA), undefined);
  assert.equal(m('s3:*', OA), undefined);
  assert.equal(m('*', OA), undefined);
  assert.equal(m('s3:Get*', BA), undefined);
  assert.equal(m('s3:GetObject*', BA), mismatch);
  assert.equal(m('s3:ListBucket*', OA), mismatch);
  assert.equal(first(pol(st({ Action: undefined, NotAction: 's3:GetObject', Resource: BA, Effect: 'Deny' }))), undefined);
});

test('condition keys', () => {
  const c = (condition: object, action: unknown = 's3:GetObject', resource: unknown = OA): string | undefined =>
    first(pol(st({ Action: action, Resource: resource, Condition: condition })));
  const invalidKey = 'Policy has an invalid condition key';
  const mismatch = 'Conditions do not apply to combination of actions and resources in statement';
  assert.equal(c({ StringEquals: { 'aws:SourceVpc': 'vpc-1' } }), undefined);
  assert.equal(c({ StringEquals: { 'aws:NoSuchKeyAtAll': 'x' } }), undefined, 'unknown aws: keys are accepted');
  assert.equal(c({ StringEquals: { 'AWS:SourceArn': 'x' } }), undefined);
  assert.equal(c({ StringEquals: { 's3:NoSuchKey': 'x' } }), invalidKey);
  assert.equal(c({ StringEquals: { 'kms:ViaService': 'x' } }), invalidKey);
  assert.equal(c({ StringEquals: { SourceVpc: 'x' } }), invalidKey);
  assert.equal(c({ StringEquals: { 'ec2:SourceInstanceArn': 'x' } }), undefined, 'global keys of other services');
  assert.equal(c({ StringEquals: { 's3:ExistingObjectTag/env': 'prod' } }), undefined);
  assert.equal(c({ StringEquals: { 'S3:EXISTINGOBJECTTAG/env': 'prod' } }), undefined);
  assert.equal(c({ StringEquals: { 's3:ExistingObjectTag/': 'prod' } }), invalidKey);
  assert.equal(c({ StringEquals: { 's3:DataAccessPointAccount': '111122223333' } }), undefined, 'resource-type keys count');
  assert.equal(c({ StringEquals: { 's3:BucketTag/team': 'a' } }, 's3:ListBucket', BA), undefined);
  assert.equal(c({ StringLike: { 's3:prefix': 'home/*' } }), mismatch);
  assert.equal(c({ StringLike: { 's3:prefix': 'home/*' } }, 's3:ListBucket', BA), undefined);
  assert.equal(c({ StringLike: { 's3:prefix': 'home/*' } }, ['s3:ListBucket', 's3:ListBucketVersions'], BA), undefined);
  assert.equal(c({ StringLike: { 's3:prefix': 'home/*' } }, ['s3:ListBucket', 's3:GetBucketAcl'], BA), mismatch);
  assert.equal(c({ StringLike: { 's3:prefix': 'home/*' } }, 's3:List*', BA), undefined, 'a wildcard entry needs one action with the key');
  assert.equal(c({ StringLike: { 's3:prefix': 'home/*' } }, '*', [BA, OA]), undefined);
  assert.equal(c({ StringEquals: { 's3:x-amz-acl': 'private' } }, ['s3:PutObject', 's3:PutObjectAcl']), undefined);
  assert.equal(c({ StringEquals: { 's3:x-amz-acl': 'private' } }, ['s3:PutObject', 's3:GetObject']), mismatch);
  assert.equal(first(pol(st({ Action: undefined, NotAction: 's3:ListBucket', Effect: 'Deny', Condition: { StringLike: { 's3:prefix': 'x' } } }))), undefined);
  // Key checks come before value checks within a condition, conditions in document order.
  assert.equal(c({ IpAddress: { 'aws:SourceIp': 'bad' }, StringEquals: { 's3:nope': 'x' } }), 'Invalid IP address in Conditions');
});

test('condition values by operator', () => {
  const v = (op: string, key: string, value: unknown): string | undefined =>
    first(pol(st({ Action: 's3:*', Resource: [BA, OA], Condition: { [op]: { [key]: value } } })));
  assert.equal(v('IpAddress', 'aws:SourceIp', ['203.0.113.0/24', '2001:DB8:1234:5678::/64', '192.0.2.1', '::1']), undefined);
  for (const bad of ['300.1.2.3', '1.2.3.4/33', '127.1', '1.2.3.4/', '1.2.3.4/8/1', 'vpc-1', '2001:db8::/129', '']) {
    assert.equal(v('NotIpAddress', 'aws:SourceIp', bad), 'Invalid IP address in Conditions', bad);
  }
  assert.equal(v('NumericLessThan', 's3:TlsVersion', 1.2), undefined);
  assert.equal(v('NumericLessThan', 's3:TlsVersion', '-1.5'), undefined);
  assert.equal(v('NumericLessThanIfExists', 's3:TlsVersion', 'x'), 'Invalid value in Conditions for operator NumericLessThanIfExists');
  assert.equal(v('NumericEquals', 's3:max-keys', '${aws:username}'), 'Invalid value in Conditions for operator NumericEquals');
  assert.equal(v('DateGreaterThan', 'aws:CurrentTime', '2026-01-01T00:00:00Z'), undefined);
  assert.equal(v('DateGreaterThan', 'aws:CurrentTime', '2026-01-01'), undefined);
  assert.equal(v('DateGreaterThan', 'aws:EpochTime', 1767225600), undefined);
  assert.equal(v('DateGreaterThan', 'aws:CurrentTime', '2026-13-45'), 'Invalid value in Conditions for operator DateGreaterThan');
  assert.equal(v('Bool', 'aws:SecureTransport', true), undefined);
  assert.equal(v('Bool', 'aws:SecureTransport', 'TRUE'), undefined);
  assert.equal(v('Bool', 'aws:SecureTransport', '${aws:ViaAWSService}'), undefined);
  assert.equal(v('Bool', 'aws:SecureTransport', 1), 'Invalid value in Conditions for operator Bool');
  assert.equal(v('Null', 'aws:SourceVpc', 'maybe'), 'Invalid value in Conditions for operator Null');
  assert.equal(v('BinaryEquals', 'aws:UserAgent', 'QmluYXJ5VmFsdWU='), undefined);
  assert.equal(v('BinaryEquals', 'aws:UserAgent', 'not base64!'), 'Invalid value in Conditions for operator BinaryEquals');
  assert.equal(v('StringLike', 'aws:UserAgent', ['', '*', '${aws:username}']), undefined);
  assert.equal(isValidCidr('::ffff:10.0.0.1'), true);
});

test('identity and trust policies use IAM rules', () => {
  const identity: ValidationContext = { kind: 'identity' };
  assert.deepEqual(errors({ Version: '2012-10-17', Statement: { Effect: 'Allow', Action: 's3:*', Resource: '*' } }, identity), []);
  assert.deepEqual(errors({ Statement: { Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: '*' } }, identity), ['Policy document should not specify a principal.']);
  assert.deepEqual(errors({ Statement: { Effect: 'Allow', Action: 's3:*' } }, identity), ['Policy statement must contain resources.']);
  const trust: ValidationContext = { kind: 'trust' };
  assert.deepEqual(errors({ Statement: { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' } }, trust), []);
  assert.deepEqual(errors({ Statement: { Effect: 'Allow', Action: 'sts:AssumeRole' } }, trust), ['Missing required field Principal']);
  assert.deepEqual(errors({ Statement: { Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole', Resource: '*' } }, trust), ['Has prohibited field Resource']);
  // A Sid may appear once per identity or trust policy.
  const twice = { Version: '2012-10-17', Statement: [{ Sid: 'A', Effect: 'Allow', Action: 's3:*', Resource: '*' }, { Sid: 'B', Effect: 'Allow', Action: 's3:*', Resource: '*' }, { Sid: 'A', Effect: 'Deny', Action: 's3:*', Resource: '*' }] };
  assert.deepEqual(findings(twice, identity).filter((f) => f.severity === 'error').map((f) => `${f.pointer}: ${f.message}`), ['/Statement/2/Sid: Statement IDs (SID) in a single policy must be unique.']);
  assert.deepEqual(errors({ Statement: [{ Sid: 'T', Effect: 'Allow', Principal: { AWS: '111122223333' }, Action: 'sts:AssumeRole' }, { Sid: 'T', Effect: 'Allow', Principal: { AWS: '111122223333' }, Action: 'sts:TagSession' }] }, trust), ['Statement IDs (SID) in a single policy must be unique.']);
  assert.deepEqual(errors({ Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }, { Effect: 'Allow', Action: 's3:*', Resource: '*' }] }, identity), [], 'statements without a Sid are not duplicates');
});

test('warnings: Access-Analyzer-style, modest', () => {
  const w = (p: object): string[] => findings(p).filter((f) => f.severity !== 'error').map((f) => `${f.severity}@${f.pointer}`);
  assert.deepEqual(w(pol(st({ Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['a'] } } }))), ['security-warning@/Statement/0/Condition/ForAllValues:StringEquals/aws:TagKeys']);
  assert.deepEqual(w(pol(st({ Condition: { 'ForAnyValue:StringEquals': { 'aws:SourceVpc': ['a'] } } }))), ['warning@/Statement/0/Condition/ForAnyValue:StringEquals/aws:SourceVpc']);
  assert.deepEqual(w(pol(st({ Condition: { StringEquals: { 'aws:TagKeys': ['a'] } } }))), ['warning@/Statement/0/Condition/StringEquals/aws:TagKeys']);
  assert.deepEqual(w(pol(st({ Action: undefined, NotAction: 's3:DeleteObject' }))), ['security-warning@/Statement/0/NotAction']);
  assert.deepEqual(w(pol(st({ Condition: { StringEquals: { 'aws:SourceVpc': 'a', 'aws:sourcevpc': 'b' } } }))), ['warning@/Statement/0/Condition/StringEquals/aws:sourcevpc']);
  assert.deepEqual(w(pol(st({ Condition: { StringEquals: { 'aws:SourceVpc': 'a' } } }))), []);
});

// ---- robustness: mutated valid policies never crash parse → validate → isPublic ----------

const SEED = {
  Version: '2012-10-17',
  Statement: [
    { Sid: 'a', Effect: 'Allow', Principal: { AWS: ['111122223333', 'arn:aws:iam::111122223333:role/R'], Service: 's3.amazonaws.com' },
      Action: ['s3:GetObject', 's3:List*'], Resource: [BA, `${OA}`],
      Condition: { StringLike: { 's3:prefix': ['', 'home/${aws:username}/*'] }, IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
    { Effect: 'Deny', NotPrincipal: { AWS: '111122223333' }, NotAction: 's3:GetObject', NotResource: OA,
      Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['x'] }, NumericLessThan: { 's3:TlsVersion': 1.2 }, Null: { 'aws:SourceVpc': true } } },
  ],
};

type J = null | boolean | number | string | J[] | { [k: string]: J };
const leaf = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.string(), fc.constantFrom('*', 's3:*', 'Allow', 'Deny', BA, OA, '${aws:username}', '', '10.0.0.0/33'));

/** Replace, delete or wrap the node at a random path. */
function mutate(doc: J, path: number[], replacement: J, op: number): J {
  const walk = (node: J, depth: number): J => {
    if (depth >= path.length || node === null || typeof node !== 'object') {
      return op === 0 ? replacement : op === 1 ? [node] : op === 2 ? { x: node } : replacement;
    }
    if (Array.isArray(node)) {
      if (node.length === 0) return replacement;
      const i = path[depth]! % node.length;
      if (op === 3 && depth === path.length - 1) return node.filter((_, j) => j !== i);
      return node.map((c, j) => (j === i ? walk(c, depth + 1) : c));
    }
    const keys = Object.keys(node);
    if (keys.length === 0) return replacement;
    const k = keys[path[depth]! % keys.length]!;
    if (op === 3 && depth === path.length - 1) { const { [k]: _drop, ...rest } = node; return rest; }
    return { ...node, [k]: walk(node[k]!, depth + 1) };
  };
  return walk(doc, 0);
}

test('property: mutated valid policies give findings, never exceptions', () => {
  fc.assert(fc.property(
    fc.array(fc.nat(), { minLength: 1, maxLength: 7 }), leaf, fc.nat(3), fc.constantFrom<ValidationContext>(bucketCtx, { kind: 'identity' }, { kind: 'trust' }, { kind: 'access-point' }),
    (path, replacement, op, ctx) => {
      const text = JSON.stringify(mutate(SEED as unknown as J, path, replacement, op));
      const r = parsePolicy(text);
      if ('errors' in r) { assert.ok(r.errors.length > 0); return; }
      const f = validatePolicy(r.ast, ctx);
      assert.ok(Array.isArray(f));
      isPublicPolicy(r.ast, { kind: 'bucket' });
    }), { numRuns: 3000 });
});

test('property: arbitrary statements never crash validation', () => {
  const stmtArb = fc.record({
    Effect: fc.constantFrom('Allow', 'Deny'),
    Principal: fc.oneof(fc.constant('*'), fc.record({ AWS: fc.oneof(fc.string(), fc.array(fc.string())) })),
    Action: fc.oneof(fc.string(), fc.array(fc.string())),
    Resource: fc.oneof(fc.string(), fc.array(fc.string())),
    Condition: fc.dictionary(fc.constantFrom('StringEquals', 'IpAddress', 'NumericLessThan', 'DateEquals', 'Bool', 'ForAnyValue:StringLike', 'ArnLike'),
      fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('aws:SourceIp', 's3:prefix', 's3:ExistingObjectTag/x', 'aws:SourceVpc')), fc.oneof(fc.string(), fc.array(fc.string())))),
  }, { requiredKeys: ['Effect', 'Action'] });
  fc.assert(fc.property(fc.array(stmtArb, { minLength: 1, maxLength: 3 }), (statements) => {
    const r = parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: statements }));
    if ('errors' in r) return;
    validatePolicy(r.ast, bucketCtx);
    isPublicPolicy(r.ast, { kind: 'access-point' });
  }), { numRuns: 2000 });
});

test('policy variable warnings (default-value syntax, version, multi-valued keys)', () => {
  const w = (version: string, value: string): string[] =>
    findings({ Version: version, Statement: [st({ Condition: { StringLike: { 'aws:UserAgent': value } } })] })
      .filter((f) => f.severity === 'warning').map((f) => f.message);
  assert.deepEqual(w('2012-10-17', "team/${aws:PrincipalTag/team, 'company-wide'}/*"), []);
  assert.deepEqual(w('2012-10-17', '${aws:username}-${*}-${?}-${$}'), []);
  assert.match(w('2008-10-17', '${aws:username}')[0]!, /Version 2012-10-17/);
  assert.match(w('2012-10-17', '${aws:TagKeys}')[0]!, /multi-valued/);
  assert.match(w('2012-10-17', '${aws:usernme}')[0]!, /not a known condition key/);
  assert.match(w('2012-10-17', "${aws:username, default}")[0]!, /not a valid policy variable/);
  assert.deepEqual(findings(pol(st({ Resource: `${OA.slice(0, -1)}\${aws:username}/*` }))).filter((f) => f.severity === 'warning'), []);
});

test('hostile wildcards in resources stay fast', () => {
  const t0 = Date.now();
  assert.equal(first(pol(st({ Resource: `arn:aws:s3:::z${'*'.repeat(15000)}` }))), 'Policy has invalid resource');
  assert.equal(first(pol(st({ Resource: `arn:aws:s3:::${'*'.repeat(15000)}x` }))), undefined); // B/…x
  assert.equal(first(pol(st({ Resource: `arn:aws:s3:::${'*a'.repeat(7000)}/*` }))), undefined); // `*` crosses `/`
  assert.ok(Date.now() - t0 < 2000);
});
