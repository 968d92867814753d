import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Principal } from '../auth/principal.js';
import { compilePolicy } from '../iam/policy/compile.js';
import { parsePolicy } from '../iam/policy/parse.js';
import { decideKms } from './decide-kms.js';
import type { IdentitySide, NamedPolicy } from './decide.js';

const A = '111111111111';
const B = '222222222222';
const KEY = `arn:aws:kms:us-east-1:${A}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const compile = (statements: unknown[]) => {
  const p = parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: statements }));
  if (!('ast' in p)) throw new Error(p.errors[0]!.message);
  return compilePolicy(p.ast);
};
const named = (statements: unknown[]): NamedPolicy => ({ id: 'p', compiled: compile(statements) });
const root = (a: string): Principal => ({ kind: 'account-root', accountId: a, canonicalId: '', accessKeyId: 'AK' });
const user = (a: string, name = 'u'): Principal => ({ kind: 'iam-user', accountId: a, canonicalId: '', accessKeyId: 'AK', userName: name, userId: 'AIDA', path: '/' });
const DEFAULT_POLICY = [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: 'kms:*', Resource: '*' }];

function decide(p: Principal, action: string, keyPolicy: unknown[], identity?: IdentitySide): string {
  return decideKms({ principal: p, action, resource: KEY, keyAccountId: A, keyPolicy: compile(keyPolicy), identity, context: new Map() }).effect;
}

describe('decideKms: key policies are authoritative', () => {
  it('the default key policy delegates to IAM: root allowed, users only with an identity policy', () => {
    assert.equal(decide(root(A), 'kms:Decrypt', DEFAULT_POLICY), 'Allow');
    assert.equal(decide(user(A), 'kms:Decrypt', DEFAULT_POLICY, { policies: [] }), 'ImplicitDeny');
    assert.equal(decide(user(A), 'kms:Decrypt', DEFAULT_POLICY, { policies: [named([{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*' }])] }), 'Allow');
    assert.equal(decide(user(A), 'kms:GenerateDataKey', DEFAULT_POLICY, { policies: [named([{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*' }])] }), 'ImplicitDeny');
  });

  it('without the delegation statement, neither the root nor IAM policies grant anything', () => {
    const onlyAlice = [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:user/alice` }, Action: 'kms:*', Resource: '*' }];
    assert.equal(decide(root(A), 'kms:Decrypt', onlyAlice), 'ImplicitDeny');
    assert.equal(decide(user(A, 'bob'), 'kms:Decrypt', onlyAlice, { policies: [named([{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }])] }), 'ImplicitDeny');
    assert.equal(decide(user(A, 'alice'), 'kms:Decrypt', onlyAlice, { policies: [] }), 'Allow', 'a direct grant needs no identity policy in the same account');
  });

  it('an explicit deny in the key policy wins over identity allows', () => {
    const policy = [...DEFAULT_POLICY, { Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${A}:user/u` }, Action: 'kms:Decrypt', Resource: '*' }];
    assert.equal(decide(user(A), 'kms:Decrypt', policy, { policies: [named([{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }])] }), 'ExplicitDeny');
  });

  it('another account needs both the key policy and its own identity policy', () => {
    const crossPolicy = [...DEFAULT_POLICY, { Effect: 'Allow', Principal: { AWS: B }, Action: 'kms:Decrypt', Resource: '*' }];
    assert.equal(decide(root(B), 'kms:Decrypt', DEFAULT_POLICY), 'ImplicitDeny');
    assert.equal(decide(root(B), 'kms:Decrypt', crossPolicy), 'Allow');
    assert.equal(decide(user(B), 'kms:Decrypt', crossPolicy, { policies: [] }), 'ImplicitDeny');
    assert.equal(decide(user(B), 'kms:Decrypt', crossPolicy, { policies: [named([{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: KEY }])] }), 'Allow');
  });

  it('conditions on kms:ViaService and kms:CallerAccount (the aws/s3 key policy) hold only via S3', () => {
    const awsS3 = [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: '*', Condition: { StringEquals: { 'kms:CallerAccount': A, 'kms:ViaService': 's3.us-east-1.amazonaws.com' } } }];
    const via = new Map([['kms:calleraccount', A], ['kms:viaservice', 's3.us-east-1.amazonaws.com']]);
    const eff = (p: Principal, context: Map<string, string>) => decideKms({ principal: p, action: 'kms:Decrypt', resource: KEY, keyAccountId: A, keyPolicy: compile(awsS3), identity: { policies: [] }, context }).effect;
    assert.equal(eff(user(A), via), 'Allow');
    assert.equal(eff(user(A), new Map([['kms:calleraccount', A]])), 'ImplicitDeny', 'not via S3');
    assert.equal(eff(user(B), new Map([['kms:calleraccount', B], ['kms:viaservice', 's3.us-east-1.amazonaws.com']])), 'ImplicitDeny', 'another account');
  });
});
