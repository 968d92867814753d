import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Principal } from '../auth/principal.js';
import { compilePolicy } from '../iam/policy/compile.js';
import { parsePolicy } from '../iam/policy/parse.js';
import type { ContextValue } from '../iam/policy/request.js';
import { decide, type CheckAcl, type IdentitySide, type NamedPolicy } from './decide.js';
import { ALL_USERS, AUTHENTICATED_USERS, type Acl, type Permission } from './acl/acl.js';

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

describe('decide: ACLs after the policies (ACLs enabled)', () => {
  const OWNER_CID = 'a'.repeat(64);
  const OTHER_CID = 'b'.repeat(64);
  const THIRD = '333333333333';
  const caller = (a: string, cid: string): Principal => ({ kind: 'account-root', accountId: a, canonicalId: cid, accessKeyId: 'AK' });
  const grant = (permission: Permission, grantee: Acl['grants'][number]['grantee']): Acl => ({ owner: { id: OWNER_CID }, grants: [{ grantee, permission }] });
  const toOther = (p: Permission): Acl => grant(p, { type: 'CanonicalUser', id: OTHER_CID });

  function withAcl(principal: Principal, action: string, resource: string, opts: { acl?: CheckAcl; authority?: string; statements?: unknown[]; restricted?: boolean }) {
    const check = { action, resource, bucket: 'b' };
    return decide({
      principal,
      checks: [check],
      bucketOwners: new Map([['b', OWNER]]),
      bucketPolicies: opts.statements ? new Map([['b', policy(opts.statements)]]) : new Map(),
      ...(opts.restricted ? { restrictedBuckets: new Set(['b']) } : {}),
      acls: opts.acl ? new Map([[check, opts.acl]]) : new Map(),
      authorities: opts.authority ? new Map([[check, opts.authority]]) : new Map(),
    });
  }

  it('a bucket ACL grant allows exactly its permission\'s actions and marks the decision aclRequired', () => {
    const read = { acl: toOther('READ'), target: 'bucket' as const };
    const d = withAcl(caller(OTHER, OTHER_CID), 's3:ListBucket', 'arn:aws:s3:::b', { acl: read });
    assert.equal(d.effect, 'Allow');
    assert.equal(d.aclRequired, true);
    assert.equal(d.trace[0]!.layer, 'acl');
    assert.equal(withAcl(caller(OTHER, OTHER_CID), 's3:GetBucketAcl', 'arn:aws:s3:::b', { acl: read }).effect, 'ImplicitDeny');
    assert.equal(withAcl(caller(THIRD, 'c'.repeat(64)), 's3:ListBucket', 'arn:aws:s3:::b', { acl: read }).effect, 'ImplicitDeny');
    const owner = withAcl(caller(OWNER, OWNER_CID), 's3:ListBucket', 'arn:aws:s3:::b', { acl: read });
    assert.equal(owner.effect, 'Allow');
    assert.equal(owner.aclRequired, false);
  });

  it('AllUsers grants reach anonymous callers, AuthenticatedUsers only signed ones', () => {
    const all = { acl: grant('READ', { type: 'Group', uri: ALL_USERS }), target: 'object' as const };
    const authd = { acl: grant('READ', { type: 'Group', uri: AUTHENTICATED_USERS }), target: 'object' as const };
    assert.equal(withAcl(anon, 's3:GetObject', 'arn:aws:s3:::b/k', { acl: all }).effect, 'Allow');
    assert.equal(withAcl(anon, 's3:GetObject', 'arn:aws:s3:::b/k', { acl: authd }).effect, 'ImplicitDeny');
    assert.equal(withAcl(caller(THIRD, 'c'.repeat(64)), 's3:GetObject', 'arn:aws:s3:::b/k', { acl: authd }).effect, 'Allow');
  });

  it('an object owned by another account: its root is allowed, the bucket owner and the bucket policy are not, its ACL can grant', () => {
    const key = 'arn:aws:s3:::b/k';
    assert.equal(withAcl(caller(OTHER, OTHER_CID), 's3:GetObject', key, { authority: OTHER }).effect, 'Allow');
    assert.equal(withAcl(caller(OWNER, OWNER_CID), 's3:GetObject', key, { authority: OTHER }).effect, 'ImplicitDeny');
    const everyone = [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }];
    assert.equal(withAcl(anon, 's3:GetObject', key, { authority: OTHER, statements: everyone }).effect, 'ImplicitDeny');
    const bucketOwnerRead = { acl: grant('READ', { type: 'CanonicalUser', id: OWNER_CID }), target: 'object' as const };
    assert.equal(withAcl(caller(OWNER, OWNER_CID), 's3:GetObject', key, { authority: OTHER, acl: bucketOwnerRead }).effect, 'Allow');
  });

  it('an explicit deny in the bucket policy beats any ACL grant; RestrictPublicBuckets does not void ACL grants', () => {
    const all = { acl: grant('READ', { type: 'Group', uri: ALL_USERS }), target: 'object' as const };
    const deny = [{ Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }];
    assert.equal(withAcl(anon, 's3:GetObject', 'arn:aws:s3:::b/k', { acl: all, statements: deny }).effect, 'ExplicitDeny');
    assert.equal(withAcl(anon, 's3:GetObject', 'arn:aws:s3:::b/k', { acl: all, authority: OTHER, statements: deny }).effect, 'ExplicitDeny');
    const open = [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }];
    const d = withAcl(caller(THIRD, 'c'.repeat(64)), 's3:GetObject', 'arn:aws:s3:::b/k', { statements: open, restricted: true });
    assert.equal(d.effect, 'ImplicitDeny');
    assert.equal(d.trace[0]!.layer, 'block-public-access');
    assert.equal(withAcl(anon, 's3:GetObject', 'arn:aws:s3:::b/k', { statements: open, restricted: true, acl: all }).effect, 'Allow');
  });

  it('checks on a bucket being created are account-level, whoever owns the name', () => {
    const d = decide({ principal: root(OTHER), checks: [{ action: 's3:PutBucketOwnershipControls', resource: 'arn:aws:s3:::b', bucket: 'b', creates: 'bucket' }], bucketOwners: new Map([['b', OWNER]]) });
    assert.equal(d.effect, 'Allow');
    assert.equal(decide({ principal: anon, checks: [{ action: 's3:CreateBucket', resource: 'arn:aws:s3:::b', bucket: 'b', creates: 'bucket' }], bucketOwners: new Map() }).effect, 'ImplicitDeny');
  });
});

describe('decide: IAM users, roles, boundaries, session policies and SCPs', () => {
  const user = (account: string, name = 'alice'): Principal => ({ kind: 'iam-user', accountId: account, canonicalId: '', accessKeyId: 'AK', userName: name, userId: 'AIDAEXAMPLE', path: '/' });
  const session = (account: string): Principal => ({
    kind: 'assumed-role', accountId: account, canonicalId: '', accessKeyId: 'ASIA', roleName: 'r', roleId: 'AROAEXAMPLE', path: '/', sessionName: 's',
    session: { issuedAt: '2024-01-01T00:00:00.000Z', expiresAt: '2099-01-01T00:00:00.000Z' },
  });
  const named = (id: string, statements: unknown[]): NamedPolicy => ({ id, compiled: policy(statements) });
  const allowAll = (id = 'p'): NamedPolicy => named(id, [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }]);
  const allowGet = (id = 'get'): NamedPolicy => named(id, [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }]);

  function eff(principal: Principal, action: string, identity: IdentitySide | undefined, statements?: unknown[]): string {
    return decide({
      principal,
      checks: [{ action, resource: action === 's3:ListBucket' ? 'arn:aws:s3:::b' : 'arn:aws:s3:::b/k', bucket: 'b' }],
      bucketOwners: new Map([['b', OWNER]]),
      bucketPolicies: statements ? new Map([['b', policy(statements)]]) : new Map(),
      ...(identity ? { identity } : {}),
    }).effect;
  }

  it('a user of the owner account needs an identity policy (or a bucket policy naming it or everyone)', () => {
    assert.equal(eff(user(OWNER), 's3:GetObject', { policies: [] }), 'ImplicitDeny');
    assert.equal(eff(user(OWNER), 's3:GetObject', { policies: [allowGet()] }), 'Allow');
    assert.equal(eff(user(OWNER), 's3:PutObject', { policies: [allowGet()] }), 'ImplicitDeny');
    const toUser = [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OWNER}:user/alice` }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }];
    assert.equal(eff(user(OWNER), 's3:GetObject', { policies: [] }, toUser), 'Allow');
    assert.equal(eff(user(OWNER, 'bob'), 's3:GetObject', { policies: [] }, toUser), 'ImplicitDeny');
    const toAccount = [{ Effect: 'Allow', Principal: { AWS: OWNER }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }];
    assert.equal(eff(user(OWNER), 's3:GetObject', { policies: [] }, toAccount), 'ImplicitDeny', 'an account grant delegates; it does not grant the user');
  });

  it('an explicit deny in any identity policy wins over an allow in another', () => {
    const deny = named('deny', [{ Effect: 'Deny', Action: 's3:GetObject', Resource: '*' }]);
    assert.equal(eff(user(OWNER), 's3:GetObject', { policies: [allowAll(), deny] }), 'ExplicitDeny');
  });

  it('a permissions boundary caps what identity policies allow', () => {
    assert.equal(eff(user(OWNER), 's3:PutObject', { policies: [allowAll()], boundary: allowGet('boundary') }), 'ImplicitDeny');
    assert.equal(eff(user(OWNER), 's3:GetObject', { policies: [allowAll()], boundary: allowGet('boundary') }), 'Allow');
  });

  it('across accounts both sides must allow, whichever form the bucket policy names the caller by', () => {
    for (const p of [OTHER, `arn:aws:iam::${OTHER}:root`, `arn:aws:iam::${OTHER}:user/alice`]) {
      const st = [{ Effect: 'Allow', Principal: { AWS: p }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }];
      assert.equal(eff(user(OTHER), 's3:GetObject', { policies: [allowGet()] }, st), 'Allow', p);
      assert.equal(eff(user(OTHER), 's3:GetObject', { policies: [] }, st), 'ImplicitDeny', p);
    }
    assert.equal(eff(user(OTHER), 's3:GetObject', { policies: [allowAll()] }), 'ImplicitDeny');
  });

  it('session policies narrow a role session on both sides', () => {
    assert.equal(eff(session(OWNER), 's3:PutObject', { policies: [allowAll()] }), 'Allow');
    assert.equal(eff(session(OWNER), 's3:PutObject', { policies: [allowAll()], sessionPolicies: [allowGet('session')] }), 'ImplicitDeny');
    assert.equal(eff(session(OWNER), 's3:GetObject', { policies: [allowAll()], sessionPolicies: [allowGet('session')] }), 'Allow');
    const everyone = [{ Effect: 'Allow', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::b/*' }];
    assert.equal(eff(session(OWNER), 's3:PutObject', { policies: [], sessionPolicies: [allowGet('session')] }, everyone), 'ImplicitDeny');
    // A bucket policy naming the role is limited by the session policy…
    const toRole = [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OWNER}:role/r` }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::b/*' }];
    assert.equal(eff(session(OWNER), 's3:PutObject', { policies: [], sessionPolicies: [allowGet('session')] }, toRole), 'ImplicitDeny');
    // …one naming the session's own ARN is not (IAM UG "Session policies"), in the same account.
    const toSession = [{ Effect: 'Allow', Principal: { AWS: `arn:aws:sts::${OWNER}:assumed-role/r/s` }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::b/*' }];
    assert.equal(eff(session(OWNER), 's3:PutObject', { policies: [], sessionPolicies: [allowGet('session')] }, toSession), 'Allow');
    const toOtherSession = [{ ...toSession[0], Principal: { AWS: `arn:aws:sts::${OTHER}:assumed-role/r/s` } }];
    assert.equal(eff(session(OTHER), 's3:PutObject', { policies: [allowAll()] }, toOtherSession), 'Allow', 'across accounts: both sides allow');
    assert.equal(eff(session(OTHER), 's3:PutObject', { policies: [allowAll()], sessionPolicies: [allowGet('session')] }, toOtherSession), 'ImplicitDeny', 'across accounts the identity side, session policy included, must allow');
    // The role's permissions boundary still limits a grant naming the session.
    assert.equal(eff(session(OWNER), 's3:PutObject', { policies: [], boundary: allowGet('boundary') }, toSession), 'ImplicitDeny');
    assert.equal(eff(session(OWNER), 's3:PutObject', { policies: [] }, toSession), 'Allow');
    // Another session of the same role gains nothing from it.
    assert.equal(eff({ ...session(OWNER), sessionName: 'other' } as Principal, 's3:PutObject', { policies: [], sessionPolicies: [allowGet('session')] }, toSession), 'ImplicitDeny');
  });

  it('SCPs bind every principal of a member account, root included, at every level', () => {
    const full = allowAll('FullAWSAccess');
    const noDeleteBucket = named('deny-delete', [{ Effect: 'Deny', Action: 's3:DeleteBucket', Resource: '*' }]);
    assert.equal(eff(root(OWNER), 's3:DeleteBucket', { policies: [], scpLevels: [[full], [full, noDeleteBucket]] }), 'ExplicitDeny');
    assert.equal(eff(root(OWNER), 's3:GetObject', { policies: [], scpLevels: [[full], [full, noDeleteBucket]] }), 'Allow');
    assert.equal(eff(root(OWNER), 's3:GetObject', { policies: [], scpLevels: [[full], [allowGet('only-get')]] }), 'Allow');
    assert.equal(eff(root(OWNER), 's3:PutObject', { policies: [], scpLevels: [[full], [allowGet('only-get')]] }), 'ImplicitDeny');
  });
});
