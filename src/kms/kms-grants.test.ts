import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Via } from './kms-service.js';
import { A, B, REGION, T0, b64, harness, keyPolicyRule, root, user, type Harness, type Rule } from './testing.js';

let h: Harness;
before(async () => {
  h = await harness();
});
after(async () => {
  await h.close();
});

const bob = user(A, 'bob');
const BOB = `arn:aws:iam::${A}:user/bob`;
const ret = user(A, 'retirer');
const RET = `arn:aws:iam::${A}:user/retirer`;
const carol = user(B, 'carol');
const CAROL = `arn:aws:iam::${B}:user/carol`;
const CTX = { Tenant: 'acme', 'aws:s3:arn': 'arn:aws:s3:::bucket/key' };
const via = (): Via => ({ service: 's3', region: REGION, requestId: 's3-req' });

/** No key-policy or IAM permission at all for bob, carol and the retirer. */
const nobodyButRoot: Rule = (r) => (r.caller.kind === 'iam-user' ? { effect: 'ImplicitDeny', reason: 'no policy allows' } : undefined);

beforeEach(() => {
  h.reset();
  h.rules = [nobodyButRoot];
});

async function grant(keyId: string, extra: Record<string, unknown> = {}): Promise<{ GrantId: string; GrantToken: string }> {
  const out = await h.call('CreateGrant', { KeyId: keyId, GranteePrincipal: BOB, Operations: ['Decrypt', 'GenerateDataKey'], ...extra });
  return out as { GrantId: string; GrantToken: string };
}

async function blob(keyId: string, ctx: Record<string, string> = CTX): Promise<string> {
  return (await h.call('Encrypt', { KeyId: keyId, Plaintext: b64('secret'), EncryptionContext: ctx })).CiphertextBlob as string;
}

describe('grants allow what the policies do not', () => {
  test('the grantee may Decrypt and GenerateDataKey through a grant, and nothing else', async () => {
    const k = await h.createKey();
    const c = await blob(k.KeyId);
    await h.fail('Decrypt', { CiphertextBlob: c, EncryptionContext: CTX }, 'AccessDeniedException', undefined, bob);

    const g = await grant(k.KeyId);
    assert.match(g.GrantId, /^[0-9a-f]{64}$/);
    assert.equal(typeof g.GrantToken, 'string');
    const authCall = h.authCalls.find((r) => r.action === 'kms:CreateGrant')!;
    assert.equal(authCall.keyArn, k.Arn);
    assert.equal(authCall.context.get('kms:granteeprincipal'), BOB);
    assert.deepEqual(authCall.context.get('kms:grantoperations'), ['Decrypt', 'GenerateDataKey']);

    h.audits.length = 0;
    const dec = await h.call('Decrypt', { CiphertextBlob: c, EncryptionContext: CTX }, bob);
    assert.equal(Buffer.from(dec.Plaintext as string, 'base64').toString(), 'secret');
    assert.equal(h.audits.at(-1)!.outcome, 'allowed');
    assert.equal(h.audits.at(-1)!.reason, `allowed by grant ${g.GrantId}`);
    await h.call('GenerateDataKey', { KeyId: k.Arn, KeySpec: 'AES_256' }, bob);

    await h.fail('Encrypt', { KeyId: k.KeyId, Plaintext: b64('x') }, 'AccessDeniedException', undefined, bob);
    await h.fail('GenerateDataKeyWithoutPlaintext', { KeyId: k.KeyId, KeySpec: 'AES_256' }, 'AccessDeniedException', undefined, bob);
    await h.fail('DescribeKey', { KeyId: k.KeyId }, 'AccessDeniedException', undefined, bob);
    await h.fail('ListGrants', { KeyId: k.KeyId }, 'AccessDeniedException', undefined, bob);
    // Another principal of the account gets nothing from bob's grant.
    await h.fail('Decrypt', { CiphertextBlob: c, EncryptionContext: CTX }, 'AccessDeniedException', undefined, ret);
    // Another key gets nothing from it either.
    const other = await h.createKey();
    await h.fail('GenerateDataKey', { KeyId: other.KeyId, KeySpec: 'AES_256' }, 'AccessDeniedException', undefined, bob);
  });

  test('a grant to another account\'s principal works by key ARN', async () => {
    const k = await h.createKey();
    await h.call('CreateGrant', { KeyId: k.KeyId, GranteePrincipal: CAROL, Operations: ['Encrypt', 'Decrypt', 'DescribeKey'] });
    const enc = await h.call('Encrypt', { KeyId: k.Arn, Plaintext: b64('x') }, carol);
    assert.equal(enc.KeyId, k.Arn);
    await h.call('Decrypt', { CiphertextBlob: enc.CiphertextBlob }, carol);
    await h.call('DescribeKey', { KeyId: k.Arn }, carol);
    // The account root grantee ARN is not the account's users.
    await h.call('CreateGrant', { KeyId: k.KeyId, GranteePrincipal: `arn:aws:iam::${B}:root`, Operations: ['GenerateDataKey'] });
    await h.fail('GenerateDataKey', { KeyId: k.Arn, KeySpec: 'AES_256' }, 'AccessDeniedException', undefined, carol);
  });

  test('EncryptionContextSubset and EncryptionContextEquals are enforced (case-sensitive)', async () => {
    const k = await h.createKey();
    await grant(k.KeyId, { Operations: ['Decrypt'], Constraints: { EncryptionContextSubset: { Tenant: 'acme' } } });
    await h.call('Decrypt', { CiphertextBlob: await blob(k.KeyId), EncryptionContext: CTX }, bob);
    await h.call('Decrypt', { CiphertextBlob: await blob(k.KeyId, { Tenant: 'acme' }), EncryptionContext: { Tenant: 'acme' } }, bob);
    const wrong = { Tenant: 'evil' };
    await h.fail('Decrypt', { CiphertextBlob: await blob(k.KeyId, wrong), EncryptionContext: wrong }, 'AccessDeniedException', undefined, bob);
    const lower = { tenant: 'acme' };
    await h.fail('Decrypt', { CiphertextBlob: await blob(k.KeyId, lower), EncryptionContext: lower }, 'AccessDeniedException', undefined, bob);
    await h.fail('Decrypt', { CiphertextBlob: await blob(k.KeyId, {}) }, 'AccessDeniedException', undefined, bob);

    const k2 = await h.createKey();
    await grant(k2.KeyId, { Operations: ['GenerateDataKey'], Constraints: { EncryptionContextEquals: { Tenant: 'acme' } } });
    await h.call('GenerateDataKey', { KeyId: k2.KeyId, KeySpec: 'AES_256', EncryptionContext: { Tenant: 'acme' } }, bob);
    await h.fail('GenerateDataKey', { KeyId: k2.KeyId, KeySpec: 'AES_256', EncryptionContext: CTX }, 'AccessDeniedException', undefined, bob);
    await h.fail('GenerateDataKey', { KeyId: k2.KeyId, KeySpec: 'AES_256' }, 'AccessDeniedException', undefined, bob);
    const listed = (await h.call('ListGrants', { KeyId: k2.KeyId })).Grants as Record<string, unknown>[];
    assert.deepEqual(listed[0]!.Constraints, { EncryptionContextEquals: { Tenant: 'acme' } });
  });

  test('an explicit Deny in the key policy still wins over a grant', async () => {
    const k = await h.createKey();
    await h.call('PutKeyPolicy', {
      KeyId: k.KeyId,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: 'kms:*', Resource: '*' },
          { Effect: 'Deny', Principal: '*', Action: 'kms:Decrypt', Resource: '*', Condition: { StringEquals: { 'kms:EncryptionContext:Tenant': 'blocked' } } },
        ],
      }),
    });
    await grant(k.KeyId);
    h.rules = [(r) => (r.caller.kind === 'iam-user' ? (keyPolicyRule(r)?.effect === 'ExplicitDeny' ? keyPolicyRule(r) : { effect: 'ImplicitDeny' }) : undefined), keyPolicyRule];
    const blocked = { Tenant: 'blocked' };
    const c = await blob(k.KeyId, blocked);
    await h.fail('Decrypt', { CiphertextBlob: c, EncryptionContext: blocked }, 'AccessDeniedException', /explicit deny/, bob);
    await h.call('Decrypt', { CiphertextBlob: await blob(k.KeyId), EncryptionContext: CTX }, bob);
  });

  test('the S3 path (generateDataKeyFor / decryptFor) honours grants, and a revoked grant stops at once', async () => {
    const k = await h.createKey();
    await assert.rejects(h.kms.generateDataKeyFor(bob, k.Arn, { 'aws:s3:arn': 'arn:aws:s3:::b/o' }, via()), { code: 'AccessDeniedException' });
    const g = await grant(k.KeyId, { Constraints: { EncryptionContextSubset: { 'aws:s3:arn': 'arn:aws:s3:::b/o' } } });
    const ctx = { 'aws:s3:arn': 'arn:aws:s3:::b/o' };
    const dk = await h.kms.generateDataKeyFor(bob, k.Arn, ctx, via());
    const back = await h.kms.decryptFor(bob, dk.ciphertextBlob, ctx, via());
    assert.deepEqual(back.plaintext, dk.plaintext);
    assert.equal(h.audits.at(-1)!.reason, `allowed by grant ${g.GrantId}`);
    await assert.rejects(h.kms.generateDataKeyFor(bob, k.Arn, { 'aws:s3:arn': 'arn:aws:s3:::b/other' }, via()), { code: 'AccessDeniedException' });
    await h.call('RevokeGrant', { KeyId: k.KeyId, GrantId: g.GrantId });
    assert.equal(h.authCalls.at(-1)!.action, 'kms:RevokeGrant');
    await assert.rejects(h.kms.decryptFor(bob, dk.ciphertextBlob, ctx, via()), { code: 'AccessDeniedException' });
  });
});

describe('creating, listing, retiring and revoking', () => {
  test('RetireGrant by the retiring principal (token or id) removes the effect at once', async () => {
    const k = await h.createKey();
    const c = await blob(k.KeyId);
    const g = await grant(k.KeyId, { RetiringPrincipal: RET });
    await h.call('Decrypt', { CiphertextBlob: c, EncryptionContext: CTX }, bob);
    // bob's grant has no RetireGrant, and bob has no kms:RetireGrant permission.
    await h.fail('RetireGrant', { GrantToken: g.GrantToken }, 'AccessDeniedException', undefined, bob);
    h.authCalls.length = 0;
    await h.call('RetireGrant', { GrantToken: g.GrantToken }, ret);
    assert.equal(h.authCalls.length, 0, 'no policy check for the retiring principal');
    await h.fail('Decrypt', { CiphertextBlob: c, EncryptionContext: CTX }, 'AccessDeniedException', undefined, bob);
    await h.fail('RetireGrant', { GrantToken: g.GrantToken }, 'NotFoundException', undefined, ret);

    const g2 = await grant(k.KeyId, { RetiringPrincipal: RET });
    await h.call('RetireGrant', { KeyId: k.Arn, GrantId: g2.GrantId }, ret);
    // The grantee of a grant with RetireGrant may retire it; so may the key's account root.
    const g3 = await grant(k.KeyId, { Operations: ['Decrypt', 'RetireGrant'] });
    await h.call('RetireGrant', { KeyId: k.KeyId, GrantId: g3.GrantId }, bob);
    const g4 = await grant(k.KeyId);
    await h.call('RetireGrant', { GrantToken: g4.GrantToken });
    assert.deepEqual((await h.call('ListGrants', { KeyId: k.KeyId })).Grants, []);
  });

  test('ListGrants and ListRetirableGrants show the grant; filters and paging', async () => {
    const k = await h.createKey();
    const g = await grant(k.KeyId, { Name: 'first', RetiringPrincipal: RET, Constraints: { EncryptionContextSubset: { Tenant: 'acme' } } });
    h.now = T0 + 1000;
    const g2 = await h.call('CreateGrant', { KeyId: k.Arn, GranteePrincipal: CAROL, Operations: ['Encrypt'] });
    const all = await h.call('ListGrants', { KeyId: k.KeyId });
    assert.equal(all.Truncated, false);
    assert.deepEqual((all.Grants as Record<string, unknown>[])[0], {
      KeyId: k.Arn, GrantId: g.GrantId, Name: 'first', CreationDate: T0 / 1000, GranteePrincipal: BOB, RetiringPrincipal: RET,
      IssuingAccount: `arn:aws:iam::${A}:root`, Operations: ['Decrypt', 'GenerateDataKey'], Constraints: { EncryptionContextSubset: { Tenant: 'acme' } },
    });
    assert.equal((all.Grants as unknown[]).length, 2);
    const byGrantee = (await h.call('ListGrants', { KeyId: k.KeyId, GranteePrincipal: CAROL })).Grants as { GrantId: string }[];
    assert.deepEqual(byGrantee.map((x) => x.GrantId), [g2.GrantId]);
    const byId = (await h.call('ListGrants', { KeyId: k.KeyId, GrantId: g.GrantId })).Grants as { GrantId: string }[];
    assert.deepEqual(byId.map((x) => x.GrantId), [g.GrantId]);
    const p1 = await h.call('ListGrants', { KeyId: k.KeyId, Limit: 1 });
    assert.equal(p1.Truncated, true);
    const p2 = await h.call('ListGrants', { KeyId: k.KeyId, Limit: 1, Marker: p1.NextMarker });
    assert.equal(p2.Truncated, false);
    assert.notEqual((p1.Grants as { GrantId: string }[])[0]!.GrantId, (p2.Grants as { GrantId: string }[])[0]!.GrantId);

    h.authCalls.length = 0;
    // Only the retiring principal's own account may list them (AWS), whichever account owns the key.
    await assert.rejects(h.call('ListRetirableGrants', { RetiringPrincipal: RET }, root(B)), /not authorized/);
    h.authCalls.length = 0;
    const retirable = (await h.call('ListRetirableGrants', { RetiringPrincipal: RET }, root(A))).Grants as { GrantId: string }[];
    assert.ok(retirable.some((x) => x.GrantId === g.GrantId));
    assert.ok(!retirable.some((x) => x.GrantId === g2.GrantId));
    assert.equal(h.authCalls[0]!.action, 'kms:ListRetirableGrants');
    assert.equal(h.authCalls[0]!.keyArn, '*');
  });

  test('a Name makes CreateGrant idempotent for the same parameters', async () => {
    const k = await h.createKey();
    const a = await grant(k.KeyId, { Name: 'app', Constraints: { EncryptionContextSubset: { x: '1', y: '2' } } });
    const b = await grant(k.KeyId, { Name: 'app', Operations: ['GenerateDataKey', 'Decrypt'], Constraints: { EncryptionContextSubset: { y: '2', x: '1' } } });
    assert.equal(b.GrantId, a.GrantId);
    const c = await grant(k.KeyId, { Name: 'app', Operations: ['Decrypt'] });
    assert.notEqual(c.GrantId, a.GrantId);
    const d = await grant(k.KeyId);
    const e = await grant(k.KeyId);
    assert.notEqual(d.GrantId, e.GrantId);
    assert.equal(((await h.call('ListGrants', { KeyId: k.KeyId })).Grants as unknown[]).length, 4);
  });

  test('a grant with CreateGrant passes on at most what it holds', async () => {
    const k = await h.createKey();
    await grant(k.KeyId, { Operations: ['Decrypt', 'CreateGrant'], Constraints: { EncryptionContextSubset: { Tenant: 'acme' } } });
    const sub = { KeyId: k.Arn, GranteePrincipal: CAROL };
    await h.call('CreateGrant', { ...sub, Operations: ['Decrypt'], Constraints: { EncryptionContextSubset: { Tenant: 'acme', extra: '1' } } }, bob);
    await h.call('CreateGrant', { ...sub, Operations: ['Decrypt'], Constraints: { EncryptionContextEquals: { Tenant: 'acme' } } }, bob);
    await h.fail('CreateGrant', { ...sub, Operations: ['Decrypt'] }, 'AccessDeniedException', undefined, bob);
    await h.fail('CreateGrant', { ...sub, Operations: ['Encrypt'], Constraints: { EncryptionContextSubset: { Tenant: 'acme' } } }, 'AccessDeniedException', undefined, bob);
  });

  test('validation and errors', async () => {
    const k = await h.createKey();
    await h.fail('CreateGrant', { KeyId: k.KeyId, GranteePrincipal: BOB, Operations: ['Fly'] }, 'ValidationException', /enum value set/);
    await h.fail('CreateGrant', { KeyId: k.KeyId, GranteePrincipal: BOB, Operations: ['Sign'] }, 'ValidationException', /Sign is not valid/);
    await h.fail('CreateGrant', { KeyId: k.KeyId, GranteePrincipal: BOB, Operations: [] }, 'ValidationException');
    await h.fail('CreateGrant', { KeyId: k.KeyId, GranteePrincipal: 'bob', Operations: ['Decrypt'] }, 'ValidationException');
    await h.fail('CreateGrant', { KeyId: k.KeyId, Operations: ['Decrypt'] }, 'ValidationException');
    await h.call('CreateAlias', { AliasName: 'alias/grants', TargetKeyId: k.KeyId });
    await h.fail('CreateGrant', { KeyId: 'alias/grants', GranteePrincipal: BOB, Operations: ['Decrypt'] }, 'NotFoundException');
    await h.fail('CreateGrant', { KeyId: k.KeyId, GranteePrincipal: BOB, Operations: ['Decrypt'], DryRun: true }, 'DryRunOperationException');
    assert.deepEqual((await h.call('ListGrants', { KeyId: k.KeyId })).Grants, []);
    await h.fail('RevokeGrant', { KeyId: k.KeyId, GrantId: 'nope' }, 'InvalidGrantIdException');
    await h.fail('RevokeGrant', { KeyId: k.KeyId, GrantId: 'a'.repeat(64) }, 'NotFoundException');
    await h.fail('ListGrants', { KeyId: k.KeyId, GrantId: 'xyz' }, 'InvalidGrantIdException');
    await h.fail('RetireGrant', { GrantToken: 'garbage' }, 'InvalidGrantTokenException');
    await h.fail('RetireGrant', { KeyId: k.KeyId }, 'ValidationException');
    const g = await grant(k.KeyId);
    const t = g.GrantToken;
    const forged = t.slice(0, -4) + (t.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    await h.fail('RetireGrant', { GrantToken: forged }, 'InvalidGrantTokenException');
    // A pending-deletion key takes no new grants.
    await h.call('ScheduleKeyDeletion', { KeyId: k.KeyId, PendingWindowInDays: 7 });
    await h.fail('CreateGrant', { KeyId: k.KeyId, GranteePrincipal: BOB, Operations: ['Decrypt'] }, 'KMSInvalidStateException');
    await h.call('RevokeGrant', { KeyId: k.KeyId, GrantId: g.GrantId });
  });

  test('an old key document without grants still works', async () => {
    const k = await h.createKey();
    const doc = JSON.parse((await h.meta.getIamEntity(A, 'kms-key', k.KeyId))!) as Record<string, unknown>;
    assert.equal(doc.grants, undefined);
    assert.deepEqual((await h.call('ListGrants', { KeyId: k.KeyId })).Grants, []);
    await h.fail('Decrypt', { CiphertextBlob: await blob(k.KeyId), EncryptionContext: CTX }, 'AccessDeniedException', undefined, bob);
    await grant(k.KeyId);
    await h.call('Decrypt', { CiphertextBlob: await blob(k.KeyId), EncryptionContext: CTX }, bob);
  });
});
