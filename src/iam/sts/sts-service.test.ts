import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SignedPrincipal } from '../../auth/principal.js';
import { Keyring } from '../../crypto/keyring.js';
import { SqliteMetadataStore } from '../../storage/sqlite/metadata-store.js';
import { IamError, STS_VERSION } from '../api/xml.js';
import type { IamRole } from '../model.js';
import type { ContextValue } from '../policy/request.js';
import { openSession, principalFromClaims, type SessionClaims } from './session-token.js';
import { StsService, assumeRoleActions, type StsDeps } from './sts-service.js';

const A = '111111111111';
const B = '222222222222';
const canonical = (acct: string): string => acct.slice(0, 1).repeat(64);
const T0 = Date.parse('2026-03-01T12:00:00.250Z');

const root = (acct: string): SignedPrincipal => ({ kind: 'account-root', accountId: acct, canonicalId: canonical(acct), accessKeyId: `AKIAROOT${acct}` });
const user = (acct: string, name: string): SignedPrincipal => ({
  kind: 'iam-user', accountId: acct, canonicalId: canonical(acct), accessKeyId: `AKIAUSER${name.toUpperCase()}`,
  userName: name, userId: `AIDA${name.toUpperCase().padEnd(17, 'X')}`, path: '/',
});
const alice = user(A, 'alice');
const carol = user(A, 'carol');
const bob = user(B, 'bob');

const userArn = (p: SignedPrincipal): string => (p.kind === 'iam-user' ? `arn:aws:iam::${p.accountId}:user/${p.userName}` : '');
const roleArn = (acct: string, name: string, path = '/'): string => `arn:aws:iam::${acct}:role${path}${name}`;

function trust(statements: object[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}
const allow = (principal: unknown, action: string | string[] = 'sts:AssumeRole', condition?: object): object => ({
  Effect: 'Allow', Principal: principal, Action: action, ...(condition ? { Condition: condition } : {}),
});

let dir: string;
let meta: SqliteMetadataStore;
const keyring = Keyring.fromKeys([{ id: 'k1', key: randomBytes(32) }], 'k1');
const now = T0;
const clock = { now: () => new Date(now) };
const managed = new Map<string, string>([[`arn:aws:iam::${A}:policy/ReadOnly`, '{"Version":"2012-10-17","Statement":[]}'], ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess', '{}']]);
const deps = (over: Partial<StsDeps> = {}): StsDeps => ({
  meta, keyring, clock,
  verifyMfaCode: async (acct, serial, code) => acct === A && serial === `arn:aws:iam::${A}:mfa/alice` && code === '123456',
  loadManagedPolicy: async (_acct, arn) => managed.get(arn),
  ...over,
});

let roleSeq = 0;
async function putRole(acct: string, name: string, trustDoc: string, over: Partial<IamRole> = {}): Promise<IamRole> {
  const path = over.path ?? '/';
  const role: IamRole = {
    kind: 'role', name, id: `AROA${String(++roleSeq).padStart(17, '0')}`, path, arn: roleArn(acct, name, path), createDate: new Date(T0).toISOString(),
    assumeRolePolicyDocument: trustDoc, maxSessionDuration: 3600, tags: [], inlinePolicies: {}, attachedPolicies: [], ...over,
  };
  await meta.putIamEntity(acct, 'role', name, JSON.stringify(role), 'create');
  return role;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kura-sts-'));
  meta = SqliteMetadataStore.open(join(dir, 'meta.db'));
  for (const id of [A, B]) await meta.createAccount({ id, name: `acct-${id}`, canonicalId: canonical(id), email: null, createdAt: new Date(T0).toISOString() });
  await putRole(A, 'by-user', trust([allow({ AWS: userArn(alice) })]));
  await putRole(A, 'by-account', trust([allow({ AWS: A })]));
  await putRole(B, 'cross-by-id', trust([allow({ AWS: A })]));
  await putRole(B, 'cross-by-root', trust([allow({ AWS: `arn:aws:iam::${A}:root` })]));
  await putRole(B, 'cross-by-user', trust([allow({ AWS: userArn(alice) })]));
  await putRole(B, 'external', trust([allow({ AWS: A }, 'sts:AssumeRole', { StringEquals: { 'sts:ExternalId': 'Unique-1234' } })]));
  await putRole(A, 'mfa', trust([allow({ AWS: A }, 'sts:AssumeRole', { Bool: { 'aws:MultiFactorAuthPresent': 'true' } })]));
  await putRole(A, 'deny-alice', trust([allow({ AWS: A }), { Effect: 'Deny', Principal: { AWS: userArn(alice) }, Action: 'sts:AssumeRole' }]));
  await putRole(A, 'long', trust([allow({ AWS: A })]), { maxSessionDuration: 43200 });
  const engineeringOnly = trust([allow({ AWS: userArn(alice) }, 'sts:AssumeRole', { StringEquals: { 'aws:ResourceTag/Department': 'Engineering', 'iam:ResourceTag/Department': 'Engineering' } })]);
  await putRole(A, 'tagged-eng', engineeringOnly, { tags: [{ Key: 'Department', Value: 'Engineering' }] });
  await putRole(A, 'tagged-ops', engineeringOnly, { tags: [{ Key: 'Department', Value: 'Operations' }] });
  await putRole(A, 'pathed', trust([allow({ AWS: A })]), { path: '/team/ops/' });
  await putRole(A, 'tagging', trust([allow({ AWS: A }, ['sts:AssumeRole', 'sts:TagSession'], { StringEquals: { 'aws:RequestTag/team': 'storage' } })]));
  await putRole(A, 'tagging-open', trust([allow({ AWS: A }, ['sts:AssumeRole', 'sts:TagSession'])]));
  await putRole(A, 'chain-target', trust([allow({ AWS: roleArn(A, 'tagging-open') }, ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'])]));
  await putRole(A, 'chain-no-tags', trust([allow({ AWS: roleArn(A, 'tagging-open') })]));
  await putRole(A, 'source-identity', trust([allow({ AWS: A }, ['sts:AssumeRole', 'sts:SetSourceIdentity'], { StringLike: { 'sts:SourceIdentity': 'alice*' } })]));
  await putRole(A, 'session-name', trust([allow({ AWS: A }, 'sts:AssumeRole', { StringEquals: { 'sts:RoleSessionName': '${aws:username}' } })]));
});

after(async () => {
  await meta.close();
  rmSync(dir, { recursive: true, force: true });
});

// ---- helpers ----------------------------------------------------------------------------------------

interface Call {
  caller: SignedPrincipal;
  action: string;
  params?: Record<string, string>;
  context?: Map<string, ContextValue>;
  identityAllowed?: Set<string>;
  version?: string;
}

function contextFor(p: SignedPrincipal): Map<string, ContextValue> {
  // What the lead's request-context builds for these keys (enough for the trust policies here).
  const m = new Map<string, ContextValue>();
  if (p.kind === 'iam-user') m.set('aws:username', p.userName);
  if (p.session) m.set('aws:multifactorauthpresent', p.session.mfaAuthenticatedAt !== undefined ? 'true' : 'false');
  return m;
}

async function call(c: Call, d: StsDeps = deps()): Promise<string> {
  return new StsService(d).handle({
    caller: c.caller, requestId: 'req-1',
    query: { action: c.action, version: c.version ?? STS_VERSION, params: new Map(Object.entries(c.params ?? {})) },
    context: c.context ?? contextFor(c.caller),
    ...(c.identityAllowed ? { identityAllowed: c.identityAllowed } : {}),
  });
}

async function fails(c: Call, code: string, message?: string | RegExp, d?: StsDeps): Promise<void> {
  await assert.rejects(call(c, d), (e: unknown) => {
    assert.ok(e instanceof IamError, String(e));
    assert.equal(e.code, code, e.message);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    return true;
  });
}

const field = (xml: string, name: string): string | undefined => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];

/** The session a credentials response carries, opened as the authentication layer would. */
function sessionOf(xml: string): { claims: SessionClaims; principal: SignedPrincipal; secret: string } {
  const akid = field(xml, 'AccessKeyId')!;
  const opened = openSession(keyring, akid, field(xml, 'SessionToken')!, now);
  assert.ok(!('error' in opened), JSON.stringify(opened));
  assert.equal(opened.secretAccessKey, field(xml, 'SecretAccessKey'));
  return { claims: opened.claims, principal: principalFromClaims(opened.claims, akid), secret: opened.secretAccessKey };
}

const assume = (caller: SignedPrincipal, role: string, params: Record<string, string> = {}, extra: Partial<Call> = {}): Call => ({
  caller, action: 'AssumeRole', params: { RoleArn: role, RoleSessionName: 'sess', ...params }, ...extra,
});

const notAuthorized = (caller: string, action: string, resource: string): string => `User: ${caller} is not authorized to perform: ${action} on resource: ${resource}`;

// ---- the endpoint --------------------------------------------------------------------------------------

test('unknown actions and versions are InvalidAction', async () => {
  await fails({ caller: alice, action: 'AssumeRoleWithSAML' }, 'InvalidAction', `Could not find operation AssumeRoleWithSAML for version ${STS_VERSION}`);
  await fails({ caller: alice, action: 'GetCallerIdentity', version: '2010-05-08' }, 'InvalidAction', 'Could not find operation GetCallerIdentity for version 2010-05-08');
});

// ---- GetCallerIdentity -------------------------------------------------------------------------------

describe('GetCallerIdentity', () => {
  test('account root', async () => {
    const xml = await call({ caller: root(A), action: 'GetCallerIdentity' });
    assert.match(xml, /^<GetCallerIdentityResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><GetCallerIdentityResult>/);
    assert.equal(field(xml, 'Arn'), `arn:aws:iam::${A}:root`);
    assert.equal(field(xml, 'UserId'), A);
    assert.equal(field(xml, 'Account'), A);
    assert.equal(field(xml, 'RequestId'), 'req-1');
  });

  test('IAM user, and the user through a GetSessionToken session', async () => {
    const xml = await call({ caller: alice, action: 'GetCallerIdentity' });
    assert.equal(field(xml, 'Arn'), `arn:aws:iam::${A}:user/alice`);
    assert.equal(field(xml, 'UserId'), alice.kind === 'iam-user' ? alice.userId : '');
    const { principal } = sessionOf(await call({ caller: alice, action: 'GetSessionToken' }));
    const again = await call({ caller: principal, action: 'GetCallerIdentity' });
    assert.equal(field(again, 'Arn'), `arn:aws:iam::${A}:user/alice`);
    assert.equal(field(again, 'UserId'), field(xml, 'UserId'));
  });

  test('assumed role', async () => {
    const { principal } = sessionOf(await call(assume(alice, roleArn(A, 'by-user'), { RoleSessionName: 'alice@example.com' })));
    const xml = await call({ caller: principal, action: 'GetCallerIdentity' });
    assert.equal(field(xml, 'Arn'), `arn:aws:sts::${A}:assumed-role/by-user/alice@example.com`);
    assert.match(field(xml, 'UserId')!, /^AROA\d{17}:alice@example\.com$/);
    assert.equal(field(xml, 'Account'), A);
  });
});

// ---- GetSessionToken ---------------------------------------------------------------------------------

describe('GetSessionToken', () => {
  test('keeps the caller identity; default 12 hours for users, 1 hour (capped) for root', async () => {
    const xml = await call({ caller: alice, action: 'GetSessionToken' });
    assert.match(field(xml, 'AccessKeyId')!, /^ASIA[A-Z0-9]{16}$/);
    const { claims, principal } = sessionOf(xml);
    assert.equal(claims.kind, 'iam-user');
    assert.equal(principal.kind === 'iam-user' && principal.userName, 'alice');
    assert.equal(claims.session.issuedAt, new Date(T0).toISOString());
    assert.equal(claims.session.mfaAuthenticatedAt, undefined);
    const whole = Math.floor(T0 / 1000) * 1000;
    assert.equal(field(xml, 'Expiration'), new Date(whole + 43200_000).toISOString().replace('.000', ''));
    assert.equal(Date.parse(claims.session.expiresAt), whole + 43200_000);

    const r = sessionOf(await call({ caller: root(A), action: 'GetSessionToken', params: { DurationSeconds: '7200' } }));
    assert.equal(r.claims.kind, 'account-root');
    assert.equal(Date.parse(r.claims.session.expiresAt), whole + 3600_000);
    const u = sessionOf(await call({ caller: alice, action: 'GetSessionToken', params: { DurationSeconds: '129600' } }));
    assert.equal(Date.parse(u.claims.session.expiresAt), whole + 129600_000);
  });

  test('duration bounds', async () => {
    await fails({ caller: alice, action: 'GetSessionToken', params: { DurationSeconds: '899' } }, 'ValidationError',
      "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900");
    await fails({ caller: alice, action: 'GetSessionToken', params: { DurationSeconds: '129601' } }, 'ValidationError', /less than or equal to 129600/);
    await fails({ caller: alice, action: 'GetSessionToken', params: { DurationSeconds: 'soon' } }, 'InvalidParameterValue');
  });

  test('not with temporary credentials', async () => {
    const { principal } = sessionOf(await call({ caller: alice, action: 'GetSessionToken' }));
    await fails({ caller: principal, action: 'GetSessionToken' }, 'AccessDenied', 'Cannot call GetSessionToken with session credentials');
    const role = sessionOf(await call(assume(alice, roleArn(A, 'by-user')))).principal;
    await fails({ caller: role, action: 'GetSessionToken' }, 'AccessDenied', 'Cannot call GetSessionToken with session credentials');
  });

  test('MFA: a correct code marks the session; a wrong or half-given one is refused', async () => {
    const serial = `arn:aws:iam::${A}:mfa/alice`;
    const { claims } = sessionOf(await call({ caller: alice, action: 'GetSessionToken', params: { SerialNumber: serial, TokenCode: '123456' } }));
    assert.equal(claims.session.mfaAuthenticatedAt, new Date(T0).toISOString());
    await fails({ caller: alice, action: 'GetSessionToken', params: { SerialNumber: serial, TokenCode: '654321' } }, 'AccessDenied',
      'MultiFactorAuthentication failed with invalid MFA one time pass code.');
    await fails({ caller: alice, action: 'GetSessionToken', params: { SerialNumber: serial } }, 'AccessDenied', /must provide both/);
    await fails({ caller: alice, action: 'GetSessionToken', params: { SerialNumber: serial, TokenCode: '12345' } }, 'ValidationError', /tokenCode/);
    // No verifier configured: MFA cannot succeed.
    await fails({ caller: alice, action: 'GetSessionToken', params: { SerialNumber: serial, TokenCode: '123456' } }, 'AccessDenied',
      'MultiFactorAuthentication failed with invalid MFA one time pass code.', deps({ verifyMfaCode: undefined }));
  });
});

// ---- AssumeRole --------------------------------------------------------------------------------------

describe('AssumeRole: trust policies', () => {
  test('same account, trust names the user', async () => {
    const xml = await call(assume(alice, roleArn(A, 'by-user'), { RoleSessionName: 'alice-session' }));
    assert.match(xml, /^<AssumeRoleResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><AssumeRoleResult><Credentials>/);
    assert.equal(field(xml, 'Arn'), `arn:aws:sts::${A}:assumed-role/by-user/alice-session`);
    assert.match(field(xml, 'AssumedRoleId')!, /^AROA\d{17}:alice-session$/);
    assert.equal(field(xml, 'PackedPolicySize'), undefined);
    const { principal, claims } = sessionOf(xml);
    assert.equal(principal.kind, 'assumed-role');
    if (principal.kind !== 'assumed-role') return;
    assert.equal(principal.roleName, 'by-user');
    assert.equal(principal.sessionName, 'alice-session');
    assert.equal(principal.accountId, A);
    assert.equal(principal.canonicalId, canonical(A));
    assert.equal(principal.path, '/');
    assert.equal(`${principal.roleId}:alice-session`, field(xml, 'AssumedRoleId'));
    // Default duration: one hour.
    assert.equal(Date.parse(claims.session.expiresAt), Math.floor(T0 / 1000) * 1000 + 3600_000);
    // Others are not named.
    await fails(assume(carol, roleArn(A, 'by-user')), 'AccessDenied', notAuthorized(`arn:aws:iam::${A}:user/carol`, 'sts:AssumeRole', roleArn(A, 'by-user')));
  });

  test('the trust policy sees the role\'s own tags as aws:ResourceTag/* and iam:ResourceTag/*', async () => {
    sessionOf(await call(assume(alice, roleArn(A, 'tagged-eng'))));
    await fails(assume(alice, roleArn(A, 'tagged-ops')), 'AccessDenied');
  });

  test('cross account: by account id, by root ARN, by user ARN', async () => {
    for (const name of ['cross-by-id', 'cross-by-root', 'cross-by-user']) {
      const { principal } = sessionOf(await call(assume(alice, roleArn(B, name))));
      assert.equal(principal.accountId, B, name);
      assert.equal(principal.canonicalId, canonical(B));
    }
    await fails(assume(carol, roleArn(B, 'cross-by-user')), 'AccessDenied');
    await fails(assume(bob, roleArn(A, 'by-account')), 'AccessDenied', notAuthorized(`arn:aws:iam::${B}:user/bob`, 'sts:AssumeRole', roleArn(A, 'by-account')));
  });

  test('identityAllowed: delegation to the account and cross-account calls need the identity side; a same-account direct grant does not', async () => {
    const none = new Set<string>();
    await fails(assume(alice, roleArn(A, 'by-account'), {}, { identityAllowed: none }), 'AccessDenied');
    await fails(assume(alice, roleArn(B, 'cross-by-user'), {}, { identityAllowed: none }), 'AccessDenied');
    await fails(assume(alice, roleArn(B, 'cross-by-id'), {}, { identityAllowed: none }), 'AccessDenied');
    sessionOf(await call(assume(alice, roleArn(A, 'by-user'), {}, { identityAllowed: none })));
    sessionOf(await call(assume(alice, roleArn(B, 'cross-by-id'), {}, { identityAllowed: new Set(['sts:assumerole']) })));
  });

  test('ExternalId condition', async () => {
    const arn = roleArn(B, 'external');
    await fails(assume(alice, arn), 'AccessDenied');
    await fails(assume(alice, arn, { ExternalId: 'Unique-9999' }), 'AccessDenied');
    sessionOf(await call(assume(alice, arn, { ExternalId: 'Unique-1234' })));
    await fails(assume(alice, arn, { ExternalId: 'x' }), 'ValidationError', /externalId/);
  });

  test('MFA condition: MFA in the request satisfies aws:MultiFactorAuthPresent and marks the session', async () => {
    const arn = roleArn(A, 'mfa');
    await fails(assume(alice, arn), 'AccessDenied');
    const serial = `arn:aws:iam::${A}:mfa/alice`;
    const { claims } = sessionOf(await call(assume(alice, arn, { SerialNumber: serial, TokenCode: '123456' })));
    assert.equal(claims.session.mfaAuthenticatedAt, new Date(T0).toISOString());
    await fails(assume(alice, arn, { SerialNumber: serial, TokenCode: '000000' }), 'AccessDenied', 'MultiFactorAuthentication failed with invalid MFA one time pass code.');
    // A caller whose own session is MFA-authenticated satisfies the trust policy through the request context.
    const mfaSession = sessionOf(await call({ caller: alice, action: 'GetSessionToken', params: { SerialNumber: serial, TokenCode: '123456' } })).principal;
    const chained = sessionOf(await call(assume(mfaSession, arn)));
    assert.equal(chained.claims.session.mfaAuthenticatedAt, undefined);
  });

  test('an explicit deny in the trust policy wins', async () => {
    await fails(assume(alice, roleArn(A, 'deny-alice')), 'AccessDenied', notAuthorized(`arn:aws:iam::${A}:user/alice`, 'sts:AssumeRole', roleArn(A, 'deny-alice')));
    sessionOf(await call(assume(carol, roleArn(A, 'deny-alice'))));
  });

  test('sts:RoleSessionName is in the context (policy variables included)', async () => {
    await fails(assume(alice, roleArn(A, 'session-name'), { RoleSessionName: 'someone-else' }), 'AccessDenied');
    sessionOf(await call(assume(alice, roleArn(A, 'session-name'), { RoleSessionName: 'alice' })));
  });

  test('missing role, wrong path, other kinds of ARN and malformed ARNs', async () => {
    const missing = roleArn(A, 'nope');
    await fails(assume(alice, missing), 'AccessDenied', notAuthorized(`arn:aws:iam::${A}:user/alice`, 'sts:AssumeRole', missing));
    await fails(assume(alice, roleArn('333333333333', 'by-user')), 'AccessDenied');
    await fails(assume(alice, roleArn(A, 'pathed')), 'AccessDenied');
    sessionOf(await call(assume(alice, roleArn(A, 'pathed', '/team/ops/'))));
    await fails(assume(alice, `arn:aws:iam::${A}:user/alice`), 'AccessDenied');
    await fails(assume(alice, 'this-is-not-an-arn-at-all'), 'ValidationError', 'Request ARN is invalid');
    await fails(assume(alice, 'arn:aws'), 'ValidationError', /roleArn/);
    await fails({ caller: alice, action: 'AssumeRole', params: { RoleSessionName: 'x1' } }, 'ValidationError', /'roleArn' failed to satisfy constraint: Member must not be null/);
  });

  test('RoleSessionName constraints', async () => {
    await fails(assume(alice, roleArn(A, 'by-user'), { RoleSessionName: 'a' }), 'ValidationError', /roleSessionName/);
    await fails(assume(alice, roleArn(A, 'by-user'), { RoleSessionName: 'has space' }), 'ValidationError', /regular expression pattern/);
    await fails(assume(alice, roleArn(A, 'by-user'), { RoleSessionName: 'x'.repeat(65) }), 'ValidationError', /less than or equal to 64/);
  });

  test('root credentials cannot assume roles unless allowed', async () => {
    await fails(assume(root(A), roleArn(A, 'by-account')), 'AccessDenied', 'Roles may not be assumed by root accounts.');
    const { principal } = sessionOf(await call(assume(root(A), roleArn(A, 'by-account')), deps({ allowRootAssumeRole: true })));
    assert.equal(principal.kind, 'assumed-role');
  });
});

describe('AssumeRole: durations', () => {
  test('bounded by the role maximum and the model', async () => {
    await fails(assume(alice, roleArn(A, 'by-account'), { DurationSeconds: '7200' }), 'ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    await fails(assume(alice, roleArn(A, 'by-account'), { DurationSeconds: '899' }), 'ValidationError', /greater than or equal to 900/);
    await fails(assume(alice, roleArn(A, 'long'), { DurationSeconds: '43201' }), 'ValidationError', /less than or equal to 43200/);
    const { claims } = sessionOf(await call(assume(alice, roleArn(A, 'long'), { DurationSeconds: '43200' })));
    assert.equal(Date.parse(claims.session.expiresAt), Math.floor(T0 / 1000) * 1000 + 43200_000);
  });

  test('role chaining is limited to one hour', async () => {
    const first = sessionOf(await call(assume(alice, roleArn(A, 'tagging-open')))).principal;
    await fails(assume(first, roleArn(A, 'chain-no-tags'), { DurationSeconds: '3601' }), 'ValidationError',
      'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
    const { claims, principal } = sessionOf(await call(assume(first, roleArn(A, 'chain-no-tags'), { DurationSeconds: '3600' })));
    assert.equal(principal.kind === 'assumed-role' && principal.roleName, 'chain-no-tags');
    assert.equal(Date.parse(claims.session.expiresAt), Math.floor(T0 / 1000) * 1000 + 3600_000);
  });
});

describe('AssumeRole: session policies', () => {
  const arn = roleArn(A, 'by-user');
  const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }] });

  test('an inline policy travels in the session, with PackedPolicySize', async () => {
    const xml = await call(assume(alice, arn, { Policy: policy }));
    const { claims } = sessionOf(xml);
    assert.equal(claims.session.policy, policy);
    const pct = Number(field(xml, 'PackedPolicySize'));
    assert.ok(pct >= 1 && pct <= 20, `PackedPolicySize ${pct}`);
  });

  test('validated as an identity policy', async () => {
    await fails(assume(alice, arn, { Policy: '{"Version":"2012-10-17",' }), 'MalformedPolicyDocument', 'Syntax errors in policy.');
    await fails(assume(alice, arn, { Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: '*' }] }) }),
      'MalformedPolicyDocument', 'Policy document should not specify a principal.');
    await fails(assume(alice, arn, { Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*' }] }) }),
      'MalformedPolicyDocument', 'Policy statement must contain resources.');
    await fails(assume(alice, arn, { Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'GetObject', Resource: '*' }] }) }),
      'MalformedPolicyDocument', /prefaced by a vendor/);
  });

  test('size: 2048 characters of plaintext, and the packed limit', async () => {
    const long = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${'a'.repeat(2000)}` }] });
    assert.ok(long.length > 2048);
    await fails(assume(alice, arn, { Policy: long }), 'ValidationError', /'policy' failed to satisfy constraint: Member must have length less than or equal to 2048/);
    const noise = randomBytes(1300).toString('base64').replace(/[+/]/g, 'x');
    const dense = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${noise}` }] });
    assert.ok(dense.length <= 2048);
    await fails(assume(alice, arn, { Policy: dense }), 'PackedPolicyTooLarge', /^Packed policy consumes 1\d\d% of allotted space/);
  });

  test('managed policy ARNs: resolved, at most 10, same account or AWS managed', async () => {
    const xml = await call(assume(alice, arn, { 'PolicyArns.member.1.arn': `arn:aws:iam::${A}:policy/ReadOnly`, 'PolicyArns.member.2.arn': 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess' }));
    assert.deepEqual(sessionOf(xml).claims.session.policyArns, [`arn:aws:iam::${A}:policy/ReadOnly`, 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess']);
    assert.ok(Number(field(xml, 'PackedPolicySize')) > 0);
    await fails(assume(alice, arn, { 'PolicyArns.member.1.arn': `arn:aws:iam::${A}:policy/Nope` }), 'MalformedPolicyDocument',
      `Policy arn:aws:iam::${A}:policy/Nope does not exist or is not attachable.`);
    await fails(assume(alice, arn, { 'PolicyArns.member.1.arn': `arn:aws:iam::${B}:policy/ReadOnly` }), 'MalformedPolicyDocument');
    const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`PolicyArns.member.${i + 1}.arn`, `arn:aws:iam::${A}:policy/ReadOnly`]));
    await fails(assume(alice, arn, eleven), 'ValidationError', /'policyArns' failed to satisfy constraint: Member must have length less than or equal to 10/);
  });
});

describe('AssumeRole: session tags', () => {
  const tags = (pairs: [string, string][]): Record<string, string> =>
    Object.fromEntries(pairs.flatMap(([k, v], i) => [[`Tags.member.${i + 1}.Key`, k], [`Tags.member.${i + 1}.Value`, v]]));

  test('need sts:TagSession in the trust policy; aws:RequestTag is in the context', async () => {
    await fails(assume(alice, roleArn(A, 'by-account'), tags([['team', 'storage']])), 'AccessDenied',
      notAuthorized(`arn:aws:iam::${A}:user/alice`, 'sts:TagSession', roleArn(A, 'by-account')));
    await fails(assume(alice, roleArn(A, 'tagging'), tags([['team', 'compute']])), 'AccessDenied');
    await fails(assume(alice, roleArn(A, 'tagging')), 'AccessDenied');
    const xml = await call(assume(alice, roleArn(A, 'tagging'), tags([['Team', 'storage'], ['cost', '42']])));
    assert.deepEqual(sessionOf(xml).claims.session.tags, { Team: 'storage', cost: '42' });
    assert.ok(Number(field(xml, 'PackedPolicySize')) > 0);
  });

  test('keys are unique case-insensitively; transitive keys must be session tags; at most 50', async () => {
    const arn = roleArn(A, 'tagging-open');
    await fails(assume(alice, arn, tags([['team', 'a'], ['TEAM', 'b']])), 'InvalidParameterValue', /Duplicate tag keys/);
    await fails(assume(alice, arn, { ...tags([['team', 'a']]), 'TransitiveTagKeys.member.1': 'cost' }), 'InvalidParameterValue', /transitive tag key cost/);
    const many = tags(Array.from({ length: 51 }, (_, i): [string, string] => [`k${i}`, 'v']));
    await fails(assume(alice, arn, many), 'ValidationError', /less than or equal to 50/);
    await fails(assume(alice, arn, tags([['bad key!', 'v']])), 'ValidationError', /tags\.1\.member\.key/);
    await fails(assume(alice, arn, tags([['AWS:team', 'v']])), 'InvalidParameterValue', /reserved/);
  });

  test('transitive tags carry into chained sessions and cannot be overridden', async () => {
    const first = sessionOf(await call(assume(alice, roleArn(A, 'tagging-open'), {
      ...tags([['Team', 'storage'], ['cost', '42']]), 'TransitiveTagKeys.member.1': 'team',
    })));
    assert.deepEqual(first.claims.session.tags, { Team: 'storage', cost: '42' });
    assert.deepEqual(first.claims.session.transitiveTagKeys, ['Team']);

    // Inherited tags need sts:TagSession in the next role's trust policy.
    await fails(assume(first.principal, roleArn(A, 'chain-no-tags')), 'AccessDenied', /sts:TagSession/);

    const second = sessionOf(await call(assume(first.principal, roleArn(A, 'chain-target'), tags([['project', 'kura']]))));
    assert.deepEqual(second.claims.session.tags, { Team: 'storage', project: 'kura' });
    assert.deepEqual(second.claims.session.transitiveTagKeys, ['Team']);

    await fails(assume(first.principal, roleArn(A, 'chain-target'), tags([['TEAM', 'compute']])), 'InvalidParameterValue', /cannot be overridden/);
    assert.deepEqual(assumeRoleActions(first.principal, new Map([['RoleArn', 'r']])).actions, ['sts:AssumeRole', 'sts:TagSession']);
  });
});

describe('AssumeRole: source identity', () => {
  test('needs sts:SetSourceIdentity; is in the context; persists and cannot change', async () => {
    await fails(assume(alice, roleArn(A, 'by-account'), { SourceIdentity: 'alice' }), 'AccessDenied', /sts:SetSourceIdentity/);
    await fails(assume(alice, roleArn(A, 'source-identity'), { SourceIdentity: 'bob' }), 'AccessDenied');
    const xml = await call(assume(alice, roleArn(A, 'source-identity'), { SourceIdentity: 'alice-1' }));
    assert.equal(field(xml, 'SourceIdentity'), 'alice-1');
    const s = sessionOf(xml);
    assert.equal(s.claims.session.sourceIdentity, 'alice-1');
    await fails(assume(s.principal, roleArn(A, 'source-identity'), { SourceIdentity: 'alice-2' }), 'InvalidParameterValue', /cannot be changed/);
    await fails(assume(alice, roleArn(A, 'source-identity'), { SourceIdentity: 'a b' }), 'ValidationError', /sourceIdentity/);
  });

  test('inherited through role chaining', async () => {
    const first = sessionOf(await call(assume(alice, roleArn(A, 'tagging-open')))).principal;
    assert.equal(first.session?.sourceIdentity, undefined);
    const withSi = { ...first, session: { ...first.session!, sourceIdentity: 'alice' } } as SignedPrincipal;
    const second = sessionOf(await call(assume(withSi, roleArn(A, 'chain-target'))));
    assert.equal(second.claims.session.sourceIdentity, 'alice');
    await fails(assume(withSi, roleArn(A, 'chain-no-tags')), 'AccessDenied', /sts:SetSourceIdentity/);
  });
});

test('assumeRoleActions lists what the identity side must allow', () => {
  assert.deepEqual(assumeRoleActions(alice, new Map([['RoleArn', 'arn:x']])), { actions: ['sts:AssumeRole'], resource: 'arn:x' });
  assert.deepEqual(assumeRoleActions(alice, new Map([['Tags', '']])).actions, ['sts:AssumeRole']);
  assert.deepEqual(assumeRoleActions(alice, new Map([['Tags.member.1.Key', 'a'], ['SourceIdentity', 'me']])).actions, ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity']);
});

test('sessions expire on the clock', async () => {
  const xml = await call(assume(alice, roleArn(A, 'by-user'), { DurationSeconds: '900' }));
  const akid = field(xml, 'AccessKeyId')!;
  const token = field(xml, 'SessionToken')!;
  const exp = Date.parse(field(xml, 'Expiration')!);
  assert.ok(!('error' in openSession(keyring, akid, token, exp - 1)));
  assert.deepEqual(openSession(keyring, akid, token, exp), { error: 'ExpiredToken' });
});
