import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { A, B, DAY, REGION, T0, harness, root, user, type Harness } from './testing.js';
import { aliasStoreName } from './store.js';

let h: Harness;
before(async () => {
  h = await harness();
});
after(async () => {
  await h.close();
});
beforeEach(() => h.reset());

const meta = async (keyId: string): Promise<Record<string, unknown>> => (await h.call('DescribeKey', { KeyId: keyId })).KeyMetadata as Record<string, unknown>;

describe('CreateKey / DescribeKey / ListKeys', () => {
  test('CreateKey returns AWS KeyMetadata; DescribeKey accepts id, ARN, alias and alias ARN', async () => {
    const k = await h.createKey({ Description: 'orders', Tags: [{ TagKey: 'team', TagValue: 'storage' }] });
    assert.match(k.KeyId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual(k, {
      AWSAccountId: A, KeyId: k.KeyId, Arn: `arn:aws:kms:${REGION}:${A}:key/${k.KeyId}`, CreationDate: T0 / 1000, Enabled: true,
      Description: 'orders', KeyUsage: 'ENCRYPT_DECRYPT', KeyState: 'Enabled', Origin: 'AWS_KMS', KeyManager: 'CUSTOMER',
      CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT', KeySpec: 'SYMMETRIC_DEFAULT', EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'], MultiRegion: false,
    });
    await h.call('CreateAlias', { AliasName: 'alias/orders', TargetKeyId: k.KeyId });
    for (const ref of [k.KeyId, k.KeyId.toUpperCase(), k.Arn, 'alias/orders', `arn:aws:kms:${REGION}:${A}:alias/orders`]) {
      assert.equal((await meta(ref)).KeyId, k.KeyId, ref);
    }
  });

  test('unsupported key specs, usages, origins are refused clearly', async () => {
    await h.fail('CreateKey', { KeySpec: 'RSA_2048' }, 'UnsupportedOperationException', /RSA_2048 is not supported/);
    await h.fail('CreateKey', { CustomerMasterKeySpec: 'HMAC_256' }, 'UnsupportedOperationException');
    await h.fail('CreateKey', { KeySpec: 'BOGUS' }, 'ValidationException', /Value 'BOGUS' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set/);
    await h.fail('CreateKey', { KeyUsage: 'SIGN_VERIFY' }, 'ValidationException', 'KeyUsage SIGN_VERIFY is not compatible with KeySpec SYMMETRIC_DEFAULT');
    await h.fail('CreateKey', { Origin: 'EXTERNAL' }, 'UnsupportedOperationException');
    await h.fail('CreateKey', { MultiRegion: true }, 'UnsupportedOperationException');
    await h.fail('CreateKey', { KeySpec: 'SYMMETRIC_DEFAULT', CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT' }, 'ValidationException');
    await h.fail('CreateKey', { Description: 5 }, 'SerializationException');
  });

  test('the default key policy is AWS\'s; a given policy is validated and stored verbatim', async () => {
    const k = await h.createKey();
    const { Policy, PolicyName } = await h.call('GetKeyPolicy', { KeyId: k.KeyId });
    assert.equal(PolicyName, 'default');
    assert.deepEqual(JSON.parse(Policy as string), {
      Version: '2012-10-17', Id: 'key-default-1',
      Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: 'kms:*', Resource: '*' }],
    });
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: A }, Action: 'kms:*', Resource: '*' }] });
    const k2 = await h.createKey({ Policy: policy });
    assert.equal((await h.call('GetKeyPolicy', { KeyId: k2.KeyId, PolicyName: 'default' })).Policy, policy);
    await h.fail('GetKeyPolicy', { KeyId: k2.KeyId, PolicyName: 'other' }, 'NotFoundException');
    assert.deepEqual(await h.call('ListKeyPolicies', { KeyId: k2.KeyId }), { PolicyNames: ['default'], Truncated: false });
  });

  test('malformed key policies → MalformedPolicyDocumentException', async () => {
    const st = (s: object): string => JSON.stringify({ Version: '2012-10-17', Statement: [s] });
    await h.fail('CreateKey', { Policy: '{not json' }, 'MalformedPolicyDocumentException', 'The policy is not valid JSON.');
    await h.fail('CreateKey', { Policy: st({ Effect: 'Allow', Action: 'kms:*', Resource: '*' }) }, 'MalformedPolicyDocumentException', 'Missing required field Principal');
    await h.fail('CreateKey', { Policy: st({ Effect: 'Allow', Principal: { AWS: '999999999999' }, Action: 'kms:*', Resource: '*' }) },
      'MalformedPolicyDocumentException', 'Policy contains a statement with one or more invalid principals.');
    const k = await h.createKey();
    await h.fail('PutKeyPolicy', { KeyId: k.KeyId, Policy: st({ Effect: 'Allow', Principal: '*', Action: 'kms:*' }) }, 'MalformedPolicyDocumentException');
    await h.fail('PutKeyPolicy', { KeyId: k.KeyId, Policy: 'x'.repeat(40_000) }, 'LimitExceededException');
    const ok = st({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B}:root` }, Action: 'kms:Decrypt', Resource: '*' });
    await h.call('PutKeyPolicy', { KeyId: k.KeyId, Policy: ok });
    assert.equal((await h.call('GetKeyPolicy', { KeyId: k.KeyId })).Policy, ok);
  });

  test('ListKeys pages by Limit/Marker and lists only the caller\'s account', async () => {
    const other = await h.createKey({}, root(B));
    const ids = new Set<string>();
    let marker: string | undefined;
    for (;;) {
      const page = await h.call('ListKeys', { Limit: 2, ...(marker ? { Marker: marker } : {}) });
      for (const k of page.Keys as { KeyId: string; KeyArn: string }[]) {
        assert.equal(k.KeyArn, `arn:aws:kms:${REGION}:${A}:key/${k.KeyId}`);
        ids.add(k.KeyId);
      }
      if (!page.Truncated) break;
      marker = page.NextMarker as string;
    }
    const all = (await h.call('ListKeys', { Limit: 1000 })).Keys as { KeyId: string }[];
    assert.equal(ids.size, all.length);
    assert.ok(!ids.has(other.KeyId));
    await h.fail('ListKeys', { Marker: '!!' }, 'InvalidMarkerException');
    await h.fail('ListKeys', { Limit: 0 }, 'ValidationException', /Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1/);
  });

  test('unknown keys, malformed ids and other regions → NotFoundException', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    await h.fail('DescribeKey', { KeyId: missing }, 'NotFoundException', `Key 'arn:aws:kms:${REGION}:${A}:key/${missing}' does not exist`);
    await h.fail('DescribeKey', { KeyId: 'not-a-key' }, 'NotFoundException', "Invalid keyId 'not-a-key'");
    await h.fail('DescribeKey', { KeyId: 'alias/nope' }, 'NotFoundException', `Alias arn:aws:kms:${REGION}:${A}:alias/nope is not found.`);
    const k = await h.createKey();
    await h.fail('DescribeKey', { KeyId: k.Arn.replace(REGION, 'eu-west-1') }, 'NotFoundException');
    await h.fail('DescribeKey', {}, 'ValidationException', "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null");
    await h.fail('NoSuchOperation', {}, 'UnknownOperationException');
    await h.fail('Sign', {}, 'UnsupportedOperationException', 'Sign is not supported by this KMS.');
  });

  test('keys of another account: by ARN only, and only where AWS allows cross-account use', async () => {
    const theirs = await h.createKey({}, root(B));
    assert.equal((await meta(theirs.Arn)).AWSAccountId, B);
    await h.fail('DescribeKey', { KeyId: theirs.KeyId }, 'NotFoundException');
    await h.fail('DisableKey', { KeyId: theirs.Arn }, 'NotFoundException');
    await h.fail('GetKeyPolicy', { KeyId: theirs.Arn }, 'NotFoundException');
  });
});

describe('key states', () => {
  test('Disable/Enable; ScheduleKeyDeletion → PendingDeletion; Cancel → Disabled, as AWS', async () => {
    const k = await h.createKey();
    assert.deepEqual(await h.call('DisableKey', { KeyId: k.KeyId }), {});
    assert.equal((await meta(k.KeyId)).KeyState, 'Disabled');
    assert.equal((await meta(k.KeyId)).Enabled, false);
    await h.call('DisableKey', { KeyId: k.KeyId });
    await h.call('EnableKey', { KeyId: k.Arn });
    assert.equal((await meta(k.KeyId)).KeyState, 'Enabled');

    await h.fail('ScheduleKeyDeletion', { KeyId: k.KeyId, PendingWindowInDays: 6 }, 'ValidationException', /'pendingWindowInDays'/);
    await h.fail('ScheduleKeyDeletion', { KeyId: k.KeyId, PendingWindowInDays: 31 }, 'ValidationException');
    const s = await h.call('ScheduleKeyDeletion', { KeyId: k.KeyId, PendingWindowInDays: 7 });
    assert.deepEqual(s, { KeyId: k.Arn, DeletionDate: (T0 + 7 * DAY) / 1000, KeyState: 'PendingDeletion', PendingWindowInDays: 7 });
    const m = await meta(k.KeyId);
    assert.equal(m.KeyState, 'PendingDeletion');
    assert.equal(m.DeletionDate, (T0 + 7 * DAY) / 1000);
    assert.equal(m.Enabled, false);
    await h.fail('EnableKey', { KeyId: k.KeyId }, 'KMSInvalidStateException', `${k.Arn} is pending deletion.`);
    await h.fail('DisableKey', { KeyId: k.KeyId }, 'KMSInvalidStateException');
    await h.fail('ScheduleKeyDeletion', { KeyId: k.KeyId }, 'KMSInvalidStateException');
    await h.fail('TagResource', { KeyId: k.KeyId, Tags: [{ TagKey: 'a', TagValue: 'b' }] }, 'KMSInvalidStateException');

    assert.deepEqual(await h.call('CancelKeyDeletion', { KeyId: k.KeyId }), { KeyId: k.Arn });
    const c = await meta(k.KeyId);
    assert.equal(c.KeyState, 'Disabled');
    assert.equal(c.DeletionDate, undefined);
    await h.fail('CancelKeyDeletion', { KeyId: k.KeyId }, 'KMSInvalidStateException', `${k.Arn} is not pending deletion.`);
  });

  test('default window is 30 days; after the deletion date the key and its aliases are gone', async () => {
    const k = await h.createKey();
    await h.call('CreateAlias', { AliasName: 'alias/doomed', TargetKeyId: k.KeyId });
    const s = await h.call('ScheduleKeyDeletion', { KeyId: k.KeyId });
    assert.equal(s.PendingWindowInDays, 30);
    h.now = T0 + 30 * DAY - 1;
    assert.equal((await meta(k.KeyId)).KeyState, 'PendingDeletion');
    h.now = T0 + 30 * DAY;
    await h.fail('DescribeKey', { KeyId: k.KeyId }, 'NotFoundException');
    const keys = (await h.call('ListKeys', { Limit: 1000 })).Keys as { KeyId: string }[];
    assert.ok(!keys.some((x) => x.KeyId === k.KeyId));
    const aliases = (await h.call('ListAliases', { Limit: 100 })).Aliases as { AliasName: string }[];
    assert.ok(!aliases.some((a) => a.AliasName === 'alias/doomed'));
    assert.equal(await h.meta.getIamEntity(A, 'kms-key', k.KeyId), undefined);
  });

  test('UpdateKeyDescription', async () => {
    const k = await h.createKey({ Description: 'a' });
    await h.call('UpdateKeyDescription', { KeyId: k.KeyId, Description: 'b' });
    assert.equal((await meta(k.KeyId)).Description, 'b');
  });
});

describe('tags', () => {
  test('TagResource merges, UntagResource removes, ListResourceTags pages', async () => {
    const k = await h.createKey({ Tags: [{ TagKey: 'a', TagValue: '1' }] });
    await h.call('TagResource', { KeyId: k.KeyId, Tags: [{ TagKey: 'a', TagValue: '2' }, { TagKey: 'b', TagValue: '' }, { TagKey: 'B', TagValue: 'x' }] });
    const all = await h.call('ListResourceTags', { KeyId: k.KeyId });
    assert.deepEqual(all, { Tags: [{ TagKey: 'B', TagValue: 'x' }, { TagKey: 'a', TagValue: '2' }, { TagKey: 'b', TagValue: '' }], Truncated: false });
    const p1 = await h.call('ListResourceTags', { KeyId: k.KeyId, Limit: 2 });
    assert.equal(p1.Truncated, true);
    const p2 = await h.call('ListResourceTags', { KeyId: k.KeyId, Limit: 2, Marker: p1.NextMarker });
    assert.deepEqual(p2.Tags, [{ TagKey: 'b', TagValue: '' }]);
    await h.call('UntagResource', { KeyId: k.KeyId, TagKeys: ['a', 'missing'] });
    assert.deepEqual((await h.call('ListResourceTags', { KeyId: k.KeyId })).Tags, [{ TagKey: 'B', TagValue: 'x' }, { TagKey: 'b', TagValue: '' }]);
  });

  test('tag rules: aws: prefix, duplicates, 50 per key', async () => {
    const k = await h.createKey();
    await h.fail('TagResource', { KeyId: k.KeyId, Tags: [{ TagKey: 'aws:x', TagValue: '1' }] }, 'TagException');
    await h.fail('TagResource', { KeyId: k.KeyId, Tags: [{ TagKey: 'a', TagValue: '1' }, { TagKey: 'a', TagValue: '2' }] }, 'TagException');
    const many = Array.from({ length: 50 }, (_, i) => ({ TagKey: `t${i}`, TagValue: '' }));
    await h.call('TagResource', { KeyId: k.KeyId, Tags: many });
    await h.fail('TagResource', { KeyId: k.KeyId, Tags: [{ TagKey: 'one-more', TagValue: '' }] }, 'TagException');
    await h.fail('TagResource', { KeyId: k.KeyId, Tags: [{ TagKey: 'x'.repeat(129), TagValue: '' }] }, 'ValidationException');
  });
});

describe('aliases', () => {
  test('create, list (with the predefined aws/s3), update, delete', async () => {
    const k1 = await h.createKey();
    const k2 = await h.createKey();
    await h.call('CreateAlias', { AliasName: 'alias/app/Prod', TargetKeyId: k1.Arn });
    // Alias names are case-sensitive: this is a second alias.
    await h.call('CreateAlias', { AliasName: 'alias/app/prod', TargetKeyId: k2.KeyId });
    assert.notEqual(aliasStoreName('alias/app/Prod').toLowerCase(), aliasStoreName('alias/app/prod').toLowerCase());
    assert.equal((await meta('alias/app/Prod')).KeyId, k1.KeyId);
    assert.equal((await meta('alias/app/prod')).KeyId, k2.KeyId);
    await h.fail('CreateAlias', { AliasName: 'alias/app/Prod', TargetKeyId: k2.KeyId }, 'AlreadyExistsException',
      `An alias with the name arn:aws:kms:${REGION}:${A}:alias/app/Prod already exists`);

    const forK1 = await h.call('ListAliases', { KeyId: k1.KeyId });
    assert.deepEqual(forK1, {
      Aliases: [{ AliasName: 'alias/app/Prod', AliasArn: `arn:aws:kms:${REGION}:${A}:alias/app/Prod`, TargetKeyId: k1.KeyId, CreationDate: T0 / 1000, LastUpdatedDate: T0 / 1000 }],
      Truncated: false,
    });
    const all = (await h.call('ListAliases')).Aliases as { AliasName: string; TargetKeyId?: string }[];
    assert.ok(all.some((a) => a.AliasName === 'alias/aws/s3' && a.TargetKeyId === undefined));

    h.now = T0 + 1000;
    await h.call('UpdateAlias', { AliasName: 'alias/app/Prod', TargetKeyId: k2.KeyId });
    assert.equal((await meta('alias/app/Prod')).KeyId, k2.KeyId);
    const updated = ((await h.call('ListAliases', { KeyId: k2.KeyId })).Aliases as { AliasName: string; LastUpdatedDate: number }[])
      .find((a) => a.AliasName === 'alias/app/Prod');
    assert.equal(updated?.LastUpdatedDate, (T0 + 1000) / 1000);

    await h.call('DeleteAlias', { AliasName: 'alias/app/Prod' });
    await h.fail('DescribeKey', { KeyId: 'alias/app/Prod' }, 'NotFoundException');
    await h.fail('DeleteAlias', { AliasName: 'alias/app/Prod' }, 'NotFoundException', `Alias arn:aws:kms:${REGION}:${A}:alias/app/Prod is not found.`);
    await h.fail('UpdateAlias', { AliasName: 'alias/app/Prod', TargetKeyId: k1.KeyId }, 'NotFoundException');
  });

  test('alias names: prefix, pattern, reserved alias/aws/, targets must be keys', async () => {
    const k = await h.createKey();
    await h.fail('CreateAlias', { AliasName: 'orders', TargetKeyId: k.KeyId }, 'ValidationException', /Alias must start with the prefix "alias\/"/);
    await h.fail('CreateAlias', { AliasName: 'alias/has space', TargetKeyId: k.KeyId }, 'ValidationException', /regular expression pattern/);
    await h.fail('CreateAlias', { AliasName: 'alias/a:b', TargetKeyId: k.KeyId }, 'ValidationException', /invalid characters/);
    await h.fail('CreateAlias', { AliasName: 'alias/aws/mine', TargetKeyId: k.KeyId }, 'NotAuthorizedException');
    await h.fail('CreateAlias', { AliasName: 'alias/aws/s3', TargetKeyId: k.KeyId }, 'NotAuthorizedException');
    await h.fail('UpdateAlias', { AliasName: 'alias/aws/s3', TargetKeyId: k.KeyId }, 'NotAuthorizedException');
    await h.fail('DeleteAlias', { AliasName: 'alias/aws/s3' }, 'NotAuthorizedException');
    await h.fail('CreateAlias', { AliasName: 'alias/x', TargetKeyId: 'alias/other' }, 'ValidationException', 'Aliases must refer to keys. Not aliases');
    await h.fail('CreateAlias', { AliasName: 'alias/', TargetKeyId: k.KeyId }, 'InvalidAliasNameException');
  });

  test('an alias cannot target a key pending deletion; 50 aliases per key', async () => {
    const k = await h.createKey();
    await h.call('ScheduleKeyDeletion', { KeyId: k.KeyId });
    await h.fail('CreateAlias', { AliasName: 'alias/late', TargetKeyId: k.KeyId }, 'KMSInvalidStateException');
    const k2 = await h.createKey();
    for (let i = 0; i < 50; i++) await h.call('CreateAlias', { AliasName: `alias/many/${i}`, TargetKeyId: k2.KeyId });
    await h.fail('CreateAlias', { AliasName: 'alias/many/50', TargetKeyId: k2.KeyId }, 'LimitExceededException');
  });

  test('alias writes are authorized on the alias and on each key', async () => {
    const k1 = await h.createKey();
    const k2 = await h.createKey();
    h.authCalls.length = 0;
    await h.call('CreateAlias', { AliasName: 'alias/authz', TargetKeyId: k1.KeyId });
    const aliasArn = `arn:aws:kms:${REGION}:${A}:alias/authz`;
    assert.deepEqual(h.authCalls.map((c) => [c.action, c.keyArn, c.keyPolicy === undefined]), [
      ['kms:CreateAlias', aliasArn, true], ['kms:CreateAlias', k1.Arn, false],
    ]);
    h.authCalls.length = 0;
    await h.call('UpdateAlias', { AliasName: 'alias/authz', TargetKeyId: k2.KeyId });
    assert.deepEqual(h.authCalls.map((c) => [c.action, c.keyArn]), [['kms:UpdateAlias', aliasArn], ['kms:UpdateAlias', k1.Arn], ['kms:UpdateAlias', k2.Arn]]);
    h.rules = [(r) => (r.keyArn === aliasArn ? { effect: 'ImplicitDeny' } : undefined)];
    await h.fail('DeleteAlias', { AliasName: 'alias/authz' }, 'AccessDeniedException',
      `User: arn:aws:iam::${A}:root is not authorized to perform: kms:DeleteAlias on resource: ${aliasArn} because no identity-based policy allows the kms:DeleteAlias action`);
  });
});

describe('rotation', () => {
  test('Enable/Disable/GetKeyRotationStatus with periods', async () => {
    const k = await h.createKey();
    assert.deepEqual(await h.call('GetKeyRotationStatus', { KeyId: k.KeyId }), { KeyId: k.KeyId, KeyRotationEnabled: false });
    await h.fail('EnableKeyRotation', { KeyId: k.KeyId, RotationPeriodInDays: 89 }, 'ValidationException');
    await h.fail('EnableKeyRotation', { KeyId: k.KeyId, RotationPeriodInDays: 2561 }, 'ValidationException');
    await h.call('EnableKeyRotation', { KeyId: k.KeyId });
    assert.deepEqual(await h.call('GetKeyRotationStatus', { KeyId: k.Arn }), {
      KeyId: k.KeyId, KeyRotationEnabled: true, RotationPeriodInDays: 365, NextRotationDate: (T0 + 365 * DAY) / 1000,
    });
    await h.call('EnableKeyRotation', { KeyId: k.KeyId, RotationPeriodInDays: 90 });
    assert.equal((await h.call('GetKeyRotationStatus', { KeyId: k.KeyId })).NextRotationDate, (T0 + 90 * DAY) / 1000);
    await h.call('DisableKeyRotation', { KeyId: k.KeyId });
    assert.equal((await h.call('GetKeyRotationStatus', { KeyId: k.KeyId })).KeyRotationEnabled, false);
    await h.call('DisableKey', { KeyId: k.KeyId });
    await h.fail('EnableKeyRotation', { KeyId: k.KeyId }, 'DisabledException', `${k.Arn} is disabled.`);
    await h.fail('RotateKeyOnDemand', { KeyId: k.KeyId }, 'DisabledException');
  });

  test('automatic rotation happens on first use after the due date', async () => {
    const k = await h.createKey();
    await h.call('EnableKeyRotation', { KeyId: k.KeyId, RotationPeriodInDays: 90 });
    assert.deepEqual((await h.call('ListKeyRotations', { KeyId: k.KeyId })).Rotations, []);
    assert.deepEqual((await h.call('ListKeyRotations', { KeyId: k.KeyId, IncludeKeyMaterial: 'ROTATIONS_ONLY' })).Rotations, []);
    await h.fail('ListKeyRotations', { KeyId: k.KeyId, IncludeKeyMaterial: 'BOGUS' }, 'ValidationException', /'includeKeyMaterial'.*ROTATIONS_ONLY, ALL_KEY_MATERIAL/);
    h.now = T0 + 91 * DAY;
    await h.call('Encrypt', { KeyId: k.KeyId, Plaintext: Buffer.from('x').toString('base64') });
    const r = await h.call('ListKeyRotations', { KeyId: k.KeyId });
    assert.deepEqual(r, { Rotations: [{ KeyId: k.KeyId, RotationDate: (T0 + 91 * DAY) / 1000, RotationType: 'AUTOMATIC' }], Truncated: false });
    assert.equal((await h.call('GetKeyRotationStatus', { KeyId: k.KeyId })).NextRotationDate, (T0 + 181 * DAY) / 1000);
  });

  test('RotateKeyOnDemand adds versions up to the limit of 10', async () => {
    const k = await h.createKey();
    for (let i = 0; i < 10; i++) assert.deepEqual(await h.call('RotateKeyOnDemand', { KeyId: k.KeyId }), { KeyId: k.KeyId });
    await h.fail('RotateKeyOnDemand', { KeyId: k.KeyId }, 'LimitExceededException');
    const page = await h.call('ListKeyRotations', { KeyId: k.KeyId, Limit: 4 });
    assert.equal((page.Rotations as unknown[]).length, 4);
    assert.equal(page.Truncated, true);
    const rest = await h.call('ListKeyRotations', { KeyId: k.KeyId, Limit: 100, Marker: page.NextMarker });
    assert.equal((rest.Rotations as { RotationType: string }[]).filter((x) => x.RotationType === 'ON_DEMAND').length, 6);
  });
});

describe('authorization and audit of management calls', () => {
  test('CreateKey/ListKeys/ListAliases are authorized on * without a key policy; tags need kms:TagResource', async () => {
    await h.createKey({ Tags: [{ TagKey: 'Team', TagValue: 'blue' }] });
    assert.deepEqual(h.authCalls.map((c) => [c.action, c.keyArn, c.keyAccountId, c.keyPolicy]), [
      ['kms:CreateKey', '*', A, undefined], ['kms:TagResource', '*', A, undefined],
    ]);
    const ctx = h.authCalls[0]!.context;
    assert.equal(ctx.get('kms:calleraccount'), A);
    assert.equal(ctx.get('kms:keyspec'), 'SYMMETRIC_DEFAULT');
    assert.equal(ctx.get('aws:requesttag/team'), 'blue');
    assert.deepEqual(ctx.get('aws:tagkeys'), ['Team']);
    h.authCalls.length = 0;
    await h.call('ListKeys');
    await h.call('ListAliases');
    assert.deepEqual(h.authCalls.map((c) => [c.action, c.keyArn, c.keyPolicy]), [['kms:ListKeys', '*', undefined], ['kms:ListAliases', '*', undefined]]);
  });

  test('operations on a key pass its ARN, account, policy and tags to authorize', async () => {
    const k = await h.createKey({ Tags: [{ TagKey: 'env', TagValue: 'prod' }] });
    h.authCalls.length = 0;
    await h.call('DisableKey', { KeyId: k.KeyId }, user(A, 'alice'), new Map([['aws:sourceip', '10.0.0.1']]));
    const c = h.authCalls[0]!;
    assert.equal(c.action, 'kms:DisableKey');
    assert.equal(c.keyArn, k.Arn);
    assert.equal(c.keyAccountId, A);
    assert.equal(JSON.parse(c.keyPolicy!).Id, 'key-default-1');
    assert.equal(c.context.get('aws:sourceip'), '10.0.0.1');
    assert.equal(c.context.get('aws:resourcetag/env'), 'prod');
    assert.equal(c.caller.kind, 'iam-user');
  });

  test('denials: AWS wording, nothing changes, audited as denied with the reason', async () => {
    const k = await h.createKey();
    h.audits.length = 0;
    h.rules = [() => ({ effect: 'ImplicitDeny', reason: 'no statement' })];
    await h.fail('ScheduleKeyDeletion', { KeyId: k.KeyId }, 'AccessDeniedException',
      `User: arn:aws:iam::${A}:user/mallory is not authorized to perform: kms:ScheduleKeyDeletion on resource: ${k.Arn} because no resource-based policy allows the kms:ScheduleKeyDeletion action`,
      user(A, 'mallory'));
    h.rules = [() => ({ effect: 'ExplicitDeny', reason: 'deny statement', policyType: 'identity-based' })];
    await h.fail('DisableKey', { KeyId: k.KeyId }, 'AccessDeniedException', /with an explicit deny in an identity-based policy$/);
    h.rules = [];
    assert.equal((await meta(k.KeyId)).KeyState, 'Enabled');
    assert.deepEqual(h.audits.slice(0, 2).map((e) => ({ ...e, time: undefined, requestId: undefined })), [
      { time: undefined, requestId: undefined, service: 'kms', operation: 'ScheduleKeyDeletion', callerArn: `arn:aws:iam::${A}:user/mallory`, accountId: A, keyArn: k.Arn, outcome: 'denied', errorCode: 'AccessDeniedException', reason: 'no statement' },
      { time: undefined, requestId: undefined, service: 'kms', operation: 'DisableKey', callerArn: `arn:aws:iam::${A}:root`, accountId: A, keyArn: k.Arn, outcome: 'denied', errorCode: 'AccessDeniedException', reason: 'deny statement' },
    ]);
  });

  test('every call is audited once, errors included, with no policy text', async () => {
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'SECRET-SID', Effect: 'Allow', Principal: { AWS: A }, Action: 'kms:*', Resource: '*' }] });
    const k = await h.createKey({ Policy: policy });
    await h.call('GetKeyPolicy', { KeyId: k.KeyId });
    await h.fail('EnableKey', { KeyId: 'nope' }, 'NotFoundException');
    assert.deepEqual(h.audits.map((e) => [e.operation, e.outcome, e.errorCode]), [
      ['CreateKey', 'allowed', undefined], ['GetKeyPolicy', 'allowed', undefined], ['EnableKey', 'error', 'NotFoundException'],
    ]);
    assert.ok(!JSON.stringify(h.audits).includes('SECRET-SID'));
    assert.deepEqual(new Set(h.audits.map((e) => e.requestId)).size, 3);
  });
});
