import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { A, B, REGION, b64, harness, keyPolicyRule, root, user, type Harness } from './testing.js';
import type { Via } from './kms-service.js';

let h: Harness;
before(async () => {
  h = await harness();
});
after(async () => {
  await h.close();
});
beforeEach(() => h.reset());

const via = (requestId = 's3-req-1'): Via => ({ service: 's3', region: REGION, requestId });
const CTX = { 'aws:s3:arn': 'arn:aws:s3:::photos/cat.jpg' };
const alice = user(A, 'alice');

describe('the AWS managed key aws/s3', () => {
  test('is created on first use, once, with AWS\'s policy, and resolves for later calls', async () => {
    // Concurrent first uses: one key, not one each.
    const [first, again, viaAlias] = await Promise.all([
      h.kms.resolveKeyFor(alice, undefined, via()), h.kms.resolveKeyFor(alice, undefined, via()), h.kms.resolveKeyFor(alice, 'alias/aws/s3', via()),
    ]);
    assert.match(first.keyArn, new RegExp(`^arn:aws:kms:${REGION}:${A}:key/`));
    assert.equal(first.keyManager, 'AWS');
    assert.equal(again.keyArn, first.keyArn);
    assert.equal(viaAlias.keyArn, first.keyArn);
    const m = (await h.call('DescribeKey', { KeyId: 'alias/aws/s3' })).KeyMetadata as Record<string, unknown>;
    assert.equal(m.Arn, first.keyArn);
    assert.equal(m.KeyManager, 'AWS');
    const policy = JSON.parse((await h.call('GetKeyPolicy', { KeyId: first.keyId })).Policy as string) as { Statement: { Condition?: unknown; Principal: unknown }[] };
    assert.deepEqual(policy.Statement[0]!.Principal, { AWS: '*' });
    assert.deepEqual(policy.Statement[0]!.Condition, { StringEquals: { 'kms:CallerAccount': A, 'kms:ViaService': `s3.${REGION}.amazonaws.com` } });
    assert.equal((await h.call('GetKeyRotationStatus', { KeyId: first.keyId })).KeyRotationEnabled, true);
    const aliases = (await h.call('ListAliases', { KeyId: first.keyId })).Aliases as { AliasName: string }[];
    assert.deepEqual(aliases.map((a) => a.AliasName), ['alias/aws/s3']);
    assert.equal(((await h.call('ListKeys', { Limit: 1000 })).Keys as unknown[]).length, 1);
  });

  test('DescribeKey on alias/aws/s3 creates it too (as AWS documents)', async () => {
    const m = (await h.call('DescribeKey', { KeyId: 'alias/aws/s3' }, root(B))).KeyMetadata as Record<string, unknown>;
    assert.equal(m.AWSAccountId, B);
    assert.equal(m.KeyManager, 'AWS');
  });

  test('users cannot manage it: AccessDenied, even when their own policies would allow', async () => {
    const { keyId, keyArn } = await h.kms.resolveKeyFor(alice, undefined, via());
    const denied = (op: string, input: Record<string, unknown>, action: string) =>
      h.fail(op, input, 'AccessDeniedException', `User: arn:aws:iam::${A}:root is not authorized to perform: ${action} on resource: ${keyArn} because no resource-based policy allows the ${action} action`);
    await denied('DisableKey', { KeyId: keyId }, 'kms:DisableKey');
    await denied('EnableKey', { KeyId: keyId }, 'kms:EnableKey');
    await denied('ScheduleKeyDeletion', { KeyId: keyId }, 'kms:ScheduleKeyDeletion');
    await denied('PutKeyPolicy', { KeyId: keyId, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*' }] }) }, 'kms:PutKeyPolicy');
    await denied('DisableKeyRotation', { KeyId: keyId }, 'kms:DisableKeyRotation');
    await denied('RotateKeyOnDemand', { KeyId: keyId }, 'kms:RotateKeyOnDemand');
    await denied('TagResource', { KeyId: keyId, Tags: [{ TagKey: 'a', TagValue: 'b' }] }, 'kms:TagResource');
    await denied('UpdateKeyDescription', { KeyId: keyId, Description: 'mine now' }, 'kms:UpdateKeyDescription');
    await denied('CreateAlias', { AliasName: 'alias/grab', TargetKeyId: keyId }, 'kms:CreateAlias');
    await h.fail('DeleteAlias', { AliasName: 'alias/aws/s3' }, 'NotAuthorizedException');
    const m = (await h.call('DescribeKey', { KeyId: keyId })).KeyMetadata as Record<string, unknown>;
    assert.deepEqual([m.KeyState, m.Description], ['Enabled', 'Default key that protects my S3 objects when no other key is defined']);
    assert.equal(h.audits.filter((e) => e.outcome === 'denied').length, 9);
  });

  test('its key policy allows use only through S3 by the account (evaluated for real)', async () => {
    h.rules = [keyPolicyRule];
    const dk = await h.kms.generateDataKeyFor(alice, undefined, CTX, via());
    assert.equal(dk.plaintext.length, 32);
    const opened = await h.kms.decryptFor(alice, dk.ciphertextBlob, CTX, via());
    assert.deepEqual(opened.plaintext, dk.plaintext);
    // Directly, without kms:ViaService: the policy does not allow it.
    await h.fail('Decrypt', { CiphertextBlob: b64(dk.ciphertextBlob), EncryptionContext: CTX }, 'AccessDeniedException', undefined, alice);
    await h.fail('Encrypt', { KeyId: 'alias/aws/s3', Plaintext: b64('x') }, 'AccessDeniedException', undefined, alice);
    // Metadata reads are allowed to the account directly.
    await h.call('DescribeKey', { KeyId: 'alias/aws/s3' }, alice);
    // Another account's principal, even through S3: kms:CallerAccount does not match.
    await assert.rejects(h.kms.decryptFor(user(B, 'eve'), dk.ciphertextBlob, CTX, via()), { code: 'AccessDeniedException' });
  });
});

describe('calls on behalf of S3', () => {
  test('generateDataKeyFor / decryptFor: actions, kms:ViaService, context, stats, audit', async () => {
    const k = await h.createKey();
    await h.call('CreateAlias', { AliasName: 'alias/photos', TargetKeyId: k.KeyId });
    h.authCalls.length = 0;
    h.audits.length = 0;
    const stats = { ...h.kms.stats };
    const dk = await h.kms.generateDataKeyFor(alice, 'alias/photos', CTX, via('put-1'));
    assert.equal(dk.keyArn, k.Arn);
    const out = await h.kms.decryptFor(alice, dk.ciphertextBlob, CTX, via('get-1'));
    assert.deepEqual(out, { keyArn: k.Arn, plaintext: dk.plaintext });
    assert.deepEqual(h.kms.stats, { dataKeyOperations: stats.dataKeyOperations + 1, decryptOperations: stats.decryptOperations + 1 });

    assert.deepEqual(h.authCalls.map((c) => [c.action, c.keyArn]), [['kms:GenerateDataKey', k.Arn], ['kms:Decrypt', k.Arn]]);
    for (const c of h.authCalls) {
      assert.equal(c.context.get('kms:viaservice'), `s3.${REGION}.amazonaws.com`);
      assert.equal(c.context.get('kms:calleraccount'), A);
      assert.equal(c.context.get('kms:encryptioncontext:aws:s3:arn'), CTX['aws:s3:arn']);
    }
    assert.deepEqual(h.audits.map((e) => [e.operation, e.viaRequestId, e.keyArn, e.outcome, e.callerArn]), [
      ['GenerateDataKey', 'put-1', k.Arn, 'allowed', `arn:aws:iam::${A}:user/alice`],
      ['Decrypt', 'get-1', k.Arn, 'allowed', `arn:aws:iam::${A}:user/alice`],
    ]);
    assert.notEqual(h.audits[0]!.requestId, 'put-1');
    const serialized = JSON.stringify(h.audits);
    assert.ok(!serialized.includes(dk.plaintext.toString('base64')) && !serialized.includes(dk.plaintext.toString('hex')));
  });

  test('the S3 object context is bound: another object\'s context cannot open the data key', async () => {
    const dk = await h.kms.generateDataKeyFor(alice, undefined, CTX, via());
    await assert.rejects(h.kms.decryptFor(alice, dk.ciphertextBlob, { 'aws:s3:arn': 'arn:aws:s3:::photos/dog.jpg' }, via()), { code: 'InvalidCiphertextException' });
    assert.equal(h.audits.at(-1)?.outcome, 'error');
    assert.equal(h.audits.at(-1)?.errorCode, 'InvalidCiphertextException');
  });

  test('errors S3 must map: unknown key, disabled key, denied', async () => {
    await assert.rejects(h.kms.resolveKeyFor(alice, 'alias/missing', via()), { code: 'NotFoundException' });
    await assert.rejects(h.kms.resolveKeyFor(alice, '00000000-0000-4000-8000-000000000000', via()), { code: 'NotFoundException' });
    const k = await h.createKey();
    await h.call('DisableKey', { KeyId: k.KeyId });
    await assert.rejects(h.kms.generateDataKeyFor(alice, k.KeyId, CTX, via()), { code: 'DisabledException' });
    await h.call('EnableKey', { KeyId: k.KeyId });
    h.rules = [() => ({ effect: 'ImplicitDeny', reason: 'nope' })];
    await assert.rejects(h.kms.generateDataKeyFor(alice, k.Arn, CTX, via()), { code: 'AccessDeniedException', status: 400 });
    assert.equal(h.audits.at(-1)?.outcome, 'denied');
  });

  test('a customer key of another account is usable through S3 by ARN', async () => {
    const theirs = await h.createKey({}, root(B));
    const r = await h.kms.resolveKeyFor(alice, theirs.Arn, via());
    assert.deepEqual([r.keyArn, r.accountId, r.keyManager], [theirs.Arn, B, 'CUSTOMER']);
    const dk = await h.kms.generateDataKeyFor(alice, theirs.Arn, CTX, via());
    assert.equal(h.authCalls.at(-1)?.keyAccountId, B);
    assert.deepEqual((await h.kms.decryptFor(alice, dk.ciphertextBlob, CTX, via())).plaintext, dk.plaintext);
  });
});
