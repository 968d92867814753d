import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicy } from './parse.js';
import { isPublicPolicy, type PublicContext } from './is-public.js';

const OA = 'arn:aws:s3:::amzn-s3-demo-bucket/*';

function verdict(statements: object[], ctx: PublicContext = { kind: 'bucket' }, version = '2012-10-17') {
  const r = parsePolicy(JSON.stringify({ Version: version, Statement: statements }));
  if ('errors' in r) assert.fail(JSON.stringify(r.errors));
  return isPublicPolicy(r.ast, ctx);
}
const allow = (principal: unknown, condition?: object): object =>
  ({ Effect: 'Allow', Principal: principal, Action: 's3:GetObject', Resource: OA, ...(condition ? { Condition: condition } : {}) });
const anyone = (condition?: object): object => allow('*', condition);

// [name, statements, public?] — semantics.md d.2 and the S3 UG "The meaning of public" examples first.
const TABLE: [string, object[], boolean][] = [
  ['d.2: Federated graph.facebook.com', [allow({ Federated: 'graph.facebook.com' })], true],
  ['d.2: Principal * without condition', [anyone()], true],
  ['d.2: * + StringLike aws:SourceVpc vpc-*', [anyone({ StringLike: { 'aws:SourceVpc': 'vpc-*' } })], true],
  ['d.2: * + StringEquals aws:SourceVpc vpc-91237329', [anyone({ StringEquals: { 'aws:SourceVpc': 'vpc-91237329' } })], false],
  ['{"AWS":"*"}', [allow({ AWS: '*' })], true],
  ['account principal', [allow({ AWS: '111122223333' })], false],
  ['role principal', [allow({ AWS: 'arn:aws:iam::111122223333:role/R' })], false],
  ['service principal', [allow({ Service: 'logging.s3.amazonaws.com' })], false],
  ['canonical user', [allow({ CanonicalUser: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be' })], false],
  ['account + federated: the union is public', [allow({ AWS: '111122223333', Federated: 'cognito-identity.amazonaws.com' })], true],
  ['wildcard in principal ARN', [allow({ AWS: 'arn:aws:iam::*:root' })], true],
  ['Deny never makes public', [{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: OA }], false],
  ['Allow + NotPrincipal is everyone else', [{ Effect: 'Allow', NotPrincipal: { AWS: '111122223333' }, Action: 's3:GetObject', Resource: OA }], true],
  ['one public statement among private ones', [allow({ AWS: '111122223333' }), anyone()], true],
  ['aws:SourceVpce fixed', [anyone({ StringEquals: { 'aws:SourceVpce': 'vpce-1a2b3c4d' } })], false],
  ['aws:SourceVpc via StringLike without wildcard', [anyone({ StringLike: { 'aws:SourceVpc': 'vpc-1' } })], false],
  ['aws:SourceVpc negated operator', [anyone({ StringNotEquals: { 'aws:SourceVpc': 'vpc-1' } })], true],
  ['aws:SourceVpc IfExists', [anyone({ StringEqualsIfExists: { 'aws:SourceVpc': 'vpc-1' } })], true],
  ['aws:SourceVpc ForAllValues (vacuous when absent)', [anyone({ 'ForAllValues:StringEquals': { 'aws:SourceVpc': 'vpc-1' } })], true],
  ['aws:SourceVpc ForAnyValue', [anyone({ 'ForAnyValue:StringEquals': { 'aws:SourceVpc': 'vpc-1' } })], false],
  ['aws:SourceVpc with one wildcard value among fixed ones', [anyone({ StringLike: { 'aws:SourceVpc': ['vpc-1', 'vpc-?'] } })], true],
  ['one restricting condition among others suffices', [anyone({ StringLike: { 'aws:Referer': '*' }, StringEquals: { 'aws:SourceAccount': '111122223333' } })], false],
  ['aws:Referer does not restrict', [anyone({ StringLike: { 'aws:Referer': 'http://example.com/*' } })], true],
  ['aws:SecureTransport does not restrict', [anyone({ Bool: { 'aws:SecureTransport': 'true' } })], true],
  ['IPv4 /24', [anyone({ IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } })], false],
  ['IPv4 /8 is the limit', [anyone({ IpAddress: { 'aws:SourceIp': '11.0.0.0/8' } })], false],
  ['IPv4 /7 is too broad', [anyone({ IpAddress: { 'aws:SourceIp': '12.0.0.0/7' } })], true],
  ['IPv4 0.0.0.0/0', [anyone({ IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } })], true],
  ['RFC 1918 10/8', [anyone({ IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } })], false],
  ['bare IPv4 address', [anyone({ IpAddress: { 'aws:SourceIp': '203.0.113.7' } })], false],
  ['one broad range among narrow ones', [anyone({ IpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '0.0.0.0/1'] } })], true],
  ['IPv6 /32 is the limit', [anyone({ IpAddress: { 'aws:SourceIp': '2001:db8::/32' } })], false],
  ['IPv6 /31 is too broad', [anyone({ IpAddress: { 'aws:SourceIp': '2001:db8::/31' } })], true],
  ['IPv6 ::/0', [anyone({ IpAddress: { 'aws:SourceIp': '::/0' } })], true],
  ['NotIpAddress does not restrict', [anyone({ NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } })], true],
  ['aws:PrincipalOrgID fixed', [anyone({ StringEquals: { 'aws:PrincipalOrgID': 'o-aa111bb222' } })], false],
  ['aws:PrincipalOrgID from a policy variable', [anyone({ StringEquals: { 'aws:PrincipalOrgID': '${aws:PrincipalTag/org}' } })], true],
  ['aws:PrincipalAccount fixed', [anyone({ StringEquals: { 'aws:PrincipalAccount': '111122223333' } })], false],
  ['aws:PrincipalArn exact', [anyone({ ArnEquals: { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:role/R' } })], false],
  ['aws:PrincipalArn with wildcard', [anyone({ ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:role/*' } })], true],
  ['aws:SourceArn exact', [anyone({ ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::source-bucket' } })], false],
  ['aws:SourceArn wildcard', [anyone({ ArnLike: { 'aws:SourceArn': 'arn:aws:logs:*:111122223333:*' } })], true],
  ['aws:SourceAccount', [anyone({ StringEquals: { 'aws:SourceAccount': '111122223333' } })], false],
  ['aws:SourceOwner', [anyone({ StringEquals: { 'aws:SourceOwner': '111122223333' } })], false],
  ['KMS key id', [anyone({ StringEquals: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'arn:aws:kms:us-east-1:111122223333:key/k' } })], false],
  ['aws:userid of a user', [anyone({ StringEquals: { 'aws:userid': 'AIDAEXAMPLEUSERID' } })], false],
  ['aws:userid AROLEID:* (literal)', [anyone({ StringEquals: { 'aws:userid': 'AROAEXAMPLEROLEID:*' } })], true],
  ['aws:userid AROLEID:* (glob)', [anyone({ StringLike: { 'aws:userid': 'AROAEXAMPLEROLEID:*' } })], true],
  ['s3:DataAccessPointAccount', [anyone({ StringEquals: { 's3:DataAccessPointAccount': '111122223333' } })], false],
  ['s3:DataAccessPointArn, account fixed, name wildcard', [anyone({ ArnLike: { 's3:DataAccessPointArn': 'arn:aws:s3:us-east-1:111122223333:accesspoint/*' } })], false],
  ['s3:DataAccessPointArn, account wildcard', [anyone({ ArnLike: { 's3:DataAccessPointArn': 'arn:aws:s3:us-east-1:*:accesspoint/*' } })], true],
  ['Null does not restrict', [anyone({ Null: { 'aws:SourceVpc': 'false' } })], true],
  ['unrelated key with fixed value', [anyone({ StringEquals: { 's3:x-amz-acl': 'private' } })], true],
];

for (const [name, statements, expected] of TABLE) {
  test(`is-public: ${name}`, () => {
    const v = verdict(statements);
    assert.equal(v.public, expected);
    assert.equal(v.reasons.length > 0, expected);
  });
}

test('reasons name the statement', () => {
  const v = verdict([allow({ AWS: '111122223333' }), anyone(), allow({ Federated: 'graph.facebook.com' })]);
  assert.deepEqual(v.reasons.map((r) => r.statement), [1, 2]);
  assert.match(v.reasons[1]!.why, /Federated/);
});

test('policy variables are literal text under 2008-10-17', () => {
  const st = [anyone({ StringEquals: { 'aws:PrincipalOrgID': '${aws:PrincipalTag/org}' } })];
  assert.equal(verdict(st, { kind: 'bucket' }, '2008-10-17').public, false);
  assert.equal(verdict(st, { kind: 'bucket' }, '2012-10-17').public, true);
});

test('access point policies', () => {
  const ap = { kind: 'access-point' as const };
  const arnGrant = [anyone({ ArnEquals: { 's3:DataAccessPointArn': 'arn:aws:s3:us-east-1:111122223333:accesspoint/ap' } })];
  assert.equal(verdict(arnGrant, ap).public, true, 'any s3:DataAccessPointArn grant in an AP policy is public');
  assert.equal(verdict(arnGrant).public, false);
  assert.equal(verdict([anyone()], { kind: 'access-point', networkOrigin: 'VPC' }).public, false, 'VPC-origin access points are never public');
  assert.equal(verdict([anyone()], { kind: 'access-point', networkOrigin: 'Internet' }).public, true);
  assert.equal(verdict([anyone({ StringEquals: { 'aws:SourceVpc': 'vpc-1' } })], ap).public, false);
});

test('identity-policy statements (no Principal) are not public', () => {
  assert.equal(verdict([{ Effect: 'Allow', Action: 's3:*', Resource: '*' }]).public, false);
});
