import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Principal } from '../auth/principal.js';
import { compilePolicy } from '../iam/policy/compile.js';
import { parsePolicy } from '../iam/policy/parse.js';
import type { ContextValue } from '../iam/policy/request.js';
import { decide } from './decide.js';

const OWNER = '111111111111';
const OTHER = '222222222222';
const root = (a: string): Principal => ({ kind: 'account-root', accountId: a, canonicalId: '', accessKeyId: 'AK' });
const anon: Principal = { kind: 'anonymous' };

function policy(statements: unknown[]) {
  const p = parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: statements }));
  if (!('ast' in p)) throw new Error(p.errors[0]!.message);
  return compilePolicy(p.ast);
}

function run(principal: Principal, action: string, resource: string, statements?: unknown[], context: Record<string, ContextValue> = {}) {
  return decide({
    principal,
    checks: [{ action, resource, bucket: 'b' }],
    bucketOwners: new Map([['b', OWNER]]),
    bucketPolicies: statements ? new Map([['b', policy(statements)]]) : new Map(),
    context: new Map(Object.entries(context)),
  });
}

describe('decide: the evaluation order for account principals', () => {
  it('lets the owner account root do everything without a policy, and nobody else anything', () => {
    assert.equal(run(root(OWNER), 's3:GetObject', 'arn:aws:s3:::b/k').effect, 'Allow');
    assert.equal(run(root(OTHER), 's3:GetObject', 'arn:aws:s3:::b/k').effect, 'ImplicitDeny');
    assert.equal(run(anon, 's3:GetObject', 'arn:aws:s3:::b/k').effect, 'ImplicitDeny');
  });

  it('grants across accounts by account id, root ARN or "*", within the statement only', () => {
    for (const principal of [{ AWS: OTHER }, { AWS: `arn:aws:iam::${OTHER}:root` }, { AWS: '*' }, '*']) {
      const st = [{ Effect: 'Allow', Principal: principal, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/shared/*' }];
      assert.equal(run(root(OTHER), 's3:GetObject', 'arn:aws:s3:::b/shared/x', st).effect, 'Allow', JSON.stringify(principal));
      assert.equal(run(root(OTHER), 's3:GetObject', 'arn:aws:s3:::b/private/x', st).effect, 'ImplicitDeny');
      assert.equal(run(root(OTHER), 's3:PutObject', 'arn:aws:s3:::b/shared/x', st).effect, 'ImplicitDeny');
    }
  });

  it('lets anonymous callers in only through an everyone principal', () => {
    const named = [{ Effect: 'Allow', Principal: { AWS: OTHER }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }];
    assert.equal(run(anon, 's3:GetObject', 'arn:aws:s3:::b/k', named).effect, 'ImplicitDeny');
    const open = [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }];
    assert.equal(run(anon, 's3:GetObject', 'arn:aws:s3:::b/k', open).effect, 'Allow');
  });

  it('makes an explicit deny win everywhere, and names the statement in the trace', () => {
    const st = [
      { Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::b/*' },
      { Sid: 'NoHttp', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::b/*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
    ];
    const d = run(root(OWNER), 's3:GetObject', 'arn:aws:s3:::b/k', st, { 'aws:securetransport': 'false' });
    assert.equal(d.effect, 'ExplicitDeny');
    assert.match(d.trace[0]!.reason, /statement 1 \(Sid "NoHttp"\)/);
    assert.equal(run(root(OWNER), 's3:GetObject', 'arn:aws:s3:::b/k', st, { 'aws:securetransport': 'true' }).effect, 'Allow');
  });

  it('never locks the owner root out of managing the bucket policy', () => {
    const st = [{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'] }];
    for (const a of ['s3:GetBucketPolicy', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy']) {
      assert.equal(run(root(OWNER), a, 'arn:aws:s3:::b', st).effect, 'Allow', a);
      assert.equal(run(root(OTHER), a, 'arn:aws:s3:::b', st).effect, 'ExplicitDeny', a);
    }
    assert.equal(run(root(OWNER), 's3:ListBucket', 'arn:aws:s3:::b', st).effect, 'ExplicitDeny');
  });

  it('treats NotPrincipal Deny as "everyone except"', () => {
    const st = [
      { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' },
      { Effect: 'Deny', NotPrincipal: { AWS: OTHER }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' },
    ];
    assert.equal(run(root(OTHER), 's3:GetObject', 'arn:aws:s3:::b/k', st).effect, 'Allow');
    assert.equal(run(anon, 's3:GetObject', 'arn:aws:s3:::b/k', st).effect, 'ExplicitDeny');
  });

  it('RestrictPublicBuckets voids a public policy outside the owner account, denies still apply', () => {
    const st = [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }];
    const restricted = (p: Principal) => decide({
      principal: p, checks: [{ action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', bucket: 'b' }],
      bucketOwners: new Map([['b', OWNER]]), bucketPolicies: new Map([['b', policy(st)]]), restrictedBuckets: new Set(['b']),
    });
    assert.equal(restricted(anon).effect, 'ImplicitDeny');
    assert.equal(restricted(root(OTHER)).effect, 'ImplicitDeny');
    assert.equal(restricted(root(OWNER)).effect, 'Allow');
    assert.equal(restricted(anon).trace[0]!.layer, 'block-public-access');
  });
});
