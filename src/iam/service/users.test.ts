import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { secretContext } from '../../auth/credentials.js';
import { openSecret } from '../../crypto/sse/envelope.js';
import { ACCOUNT, type Harness, type Xml, S3_READ, harness, members } from './testing.js';

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h.close();
});

describe('users', () => {
  it('CreateUser, GetUser, ListUsers, DeleteUser', async () => {
    const created = (await h.call('CreateUser', { UserName: 'alice', Path: '/eng/', 'Tags.member.1.Key': 'team', 'Tags.member.1.Value': 'storage' })).User as Xml;
    assert.equal(created.UserName, 'alice');
    assert.equal(created.Path, '/eng/');
    assert.equal(created.Arn, `arn:aws:iam::${ACCOUNT}:user/eng/alice`);
    assert.match(String(created.UserId), /^AIDA[A-Z0-9]{17}$/);
    assert.equal(created.CreateDate, '2025-06-01T12:00:00Z');
    assert.deepEqual(members(created.Tags), [{ Key: 'team', Value: 'storage' }]);

    const got = (await h.call('GetUser', { UserName: 'ALICE' })).User as Xml;
    assert.equal(got.UserName, 'alice');
    assert.equal(got.UserId, created.UserId);

    const listed = await h.call('ListUsers');
    assert.deepEqual(members<Xml>(listed.Users).map((u) => u.UserName), ['alice']);
    assert.equal(members<Xml>(listed.Users)[0]!.Tags, undefined, 'ListUsers leaves tags out');
    assert.equal(listed.IsTruncated, 'false');

    assert.equal(await h.call('DeleteUser', { UserName: 'alice' }), undefined);
    await h.fail('GetUser', { UserName: 'alice' }, 'NoSuchEntity', 'The user with name alice cannot be found.');
    assert.ok(h.changes.length >= 2 && h.changes.every((a) => a === ACCOUNT));
  });

  it('names are unique case-insensitively', async () => {
    await h.call('CreateUser', { UserName: 'Alice' });
    await h.fail('CreateUser', { UserName: 'alice' }, 'EntityAlreadyExists', 'User with name alice already exists.');
  });

  it('validates parameters with IAM messages', async () => {
    await h.fail('CreateUser', { UserName: 'a b', Path: 'nope' }, 'ValidationError',
      /^2 validation errors detected: Value 'a b' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: .*; Value 'nope' at 'path'/);
    await h.fail('CreateUser', {}, 'ValidationError', "1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null");
  });

  it('GetUser without a name answers for the caller', async () => {
    await h.call('CreateUser', { UserName: 'bob', Path: '/x/' });
    const self = (await h.call('GetUser', {}, h.userPrincipal('bob', '/x/'))).User as Xml;
    assert.equal(self.UserName, 'bob');
    const root = (await h.call('GetUser')).User as Xml;
    assert.deepEqual(root, { UserId: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:root`, CreateDate: '2024-01-02T03:04:05Z' });
    const role = { ...h.root, kind: 'assumed-role' as const, roleName: 'r', roleId: 'AROAX', path: '/', sessionName: 's', session: { issuedAt: '', expiresAt: '' } };
    await h.fail('GetUser', {}, 'ValidationError', 'Must specify userName when calling with non-User credentials', role);
  });

  it('ListUsers pages with Marker/MaxItems and filters by PathPrefix', async () => {
    for (const n of ['u5', 'u1', 'u4', 'u2', 'u3']) await h.call('CreateUser', { UserName: n, Path: n === 'u4' ? '/other/' : '/' });
    const seen: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await h.call('ListUsers', { MaxItems: '2', ...(marker ? { Marker: marker } : {}) });
      seen.push(...members<Xml>(page.Users).map((u) => String(u.UserName)));
      if (page.IsTruncated !== 'true') {
        assert.equal(page.Marker, undefined);
        break;
      }
      marker = String(page.Marker);
    }
    assert.deepEqual(seen, ['u1', 'u2', 'u3', 'u4', 'u5']);
    const other = await h.call('ListUsers', { PathPrefix: '/other' });
    assert.deepEqual(members<Xml>(other.Users).map((u) => u.UserName), ['u4']);
    await h.fail('ListUsers', { MaxItems: '0' }, 'ValidationError', /maxItems/);
  });

  it('UpdateUser renames, moving keys, memberships and MFA devices', async () => {
    await h.call('CreateUser', { UserName: 'carol' });
    await h.call('CreateGroup', { GroupName: 'devs' });
    await h.call('AddUserToGroup', { GroupName: 'devs', UserName: 'carol' });
    const key = (await h.call('CreateAccessKey', { UserName: 'carol' })).AccessKey as Xml;
    await h.call('CreateUser', { UserName: 'dave' });
    await h.fail('UpdateUser', { UserName: 'carol', NewUserName: 'DAVE' }, 'EntityAlreadyExists', 'User with name DAVE already exists.');

    await h.call('UpdateUser', { UserName: 'carol', NewUserName: 'caroline', NewPath: '/staff/' });
    await h.fail('GetUser', { UserName: 'carol' }, 'NoSuchEntity');
    const u = (await h.call('GetUser', { UserName: 'caroline' })).User as Xml;
    assert.equal(u.Arn, `arn:aws:iam::${ACCOUNT}:user/staff/caroline`);
    const rec = await h.meta.getAccessKey(String(key.AccessKeyId));
    assert.equal(rec?.userName, 'caroline');
    assert.equal(openSecret(h.keyring, rec!.secretSealed, secretContext(rec!.accessKeyId)), key.SecretAccessKey);
    const members_ = members<Xml>((await h.call('GetGroup', { GroupName: 'devs' })).Users);
    assert.deepEqual(members_.map((m) => m.UserName), ['caroline']);

    // A change of case only.
    await h.call('UpdateUser', { UserName: 'caroline', NewUserName: 'Caroline' });
    assert.equal(((await h.call('GetUser', { UserName: 'caroline' })).User as Xml).UserName, 'Caroline');
  });

  it('DeleteUser refuses while subordinate entities remain', async () => {
    await h.call('CreateUser', { UserName: 'erin' });
    const key = (await h.call('CreateAccessKey', { UserName: 'erin' })).AccessKey as Xml;
    await h.fail('DeleteUser', { UserName: 'erin' }, 'DeleteConflict', 'Cannot delete entity, must delete access keys first.');
    await h.call('DeleteAccessKey', { UserName: 'erin', AccessKeyId: String(key.AccessKeyId) });

    await h.call('PutUserPolicy', { UserName: 'erin', PolicyName: 'p', PolicyDocument: S3_READ });
    await h.fail('DeleteUser', { UserName: 'erin' }, 'DeleteConflict', 'Cannot delete entity, must delete policies first.');
    await h.call('DeleteUserPolicy', { UserName: 'erin', PolicyName: 'p' });

    await h.call('AttachUserPolicy', { UserName: 'erin', PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess' });
    await h.fail('DeleteUser', { UserName: 'erin' }, 'DeleteConflict', 'Cannot delete entity, must detach all policies first.');
    await h.call('DetachUserPolicy', { UserName: 'erin', PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess' });

    await h.call('CreateGroup', { GroupName: 'g' });
    await h.call('AddUserToGroup', { GroupName: 'g', UserName: 'erin' });
    await h.fail('DeleteUser', { UserName: 'erin' }, 'DeleteConflict', 'Cannot delete entity, must remove users from group first.');
    await h.call('RemoveUserFromGroup', { GroupName: 'g', UserName: 'erin' });

    // A permissions boundary does not block deletion.
    await h.call('PutUserPermissionsBoundary', { UserName: 'erin', PermissionsBoundary: 'arn:aws:iam::aws:policy/AmazonS3FullAccess' });
    await h.call('DeleteUser', { UserName: 'erin' });
  });

  it('TagUser, UntagUser, ListUserTags', async () => {
    await h.call('CreateUser', { UserName: 'tess' });
    await h.call('TagUser', { UserName: 'tess', 'Tags.member.1.Key': 'Team', 'Tags.member.1.Value': 'a', 'Tags.member.2.Key': 'cost', 'Tags.member.2.Value': '1' });
    // Keys are case-insensitive: this overwrites Team.
    await h.call('TagUser', { UserName: 'tess', 'Tags.member.1.Key': 'team', 'Tags.member.1.Value': 'b' });
    const tags = members<Xml>((await h.call('ListUserTags', { UserName: 'tess' })).Tags);
    assert.deepEqual(tags, [{ Key: 'cost', Value: '1' }, { Key: 'team', Value: 'b' }]);
    await h.call('UntagUser', { UserName: 'tess', 'TagKeys.member.1': 'COST' });
    assert.deepEqual(members((await h.call('ListUserTags', { UserName: 'tess' })).Tags), [{ Key: 'team', Value: 'b' }]);
    await h.fail('TagUser', { UserName: 'tess', 'Tags.member.1.Key': 'x', 'Tags.member.1.Value': '1', 'Tags.member.2.Key': 'X', 'Tags.member.2.Value': '2' },
      'InvalidInput', 'Duplicate tag keys found. Please note that Tag keys are case insensitive.');
    const many: Record<string, string> = { UserName: 'tess' };
    for (let i = 1; i <= 50; i++) Object.assign(many, { [`Tags.member.${i}.Key`]: `k${i}`, [`Tags.member.${i}.Value`]: 'v' });
    await h.fail('TagUser', many, 'LimitExceeded');
    await h.fail('TagUser', { UserName: 'tess', 'Tags.member.1.Key': 'aws:team', 'Tags.member.1.Value': 'a' }, 'InvalidInput', /reserved/);
    await h.fail('CreateUser', { UserName: 'tilly', 'Tags.member.1.Key': 'Aws:x', 'Tags.member.1.Value': 'a' }, 'InvalidInput', /reserved/);
    many['Tags.member.51.Key'] = 'k51';
    many['Tags.member.51.Value'] = 'v';
    await h.fail('TagUser', many, 'ValidationError', /at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50/);
  });
});

describe('access keys', () => {
  it('lifecycle for a user, at most two keys', async () => {
    await h.call('CreateUser', { UserName: 'kim' });
    const k1 = (await h.call('CreateAccessKey', { UserName: 'kim' })).AccessKey as Xml;
    assert.equal(k1.UserName, 'kim');
    assert.equal(k1.Status, 'Active');
    assert.match(String(k1.AccessKeyId), /^AKIA[A-Z0-9]{16}$/);
    assert.equal(String(k1.SecretAccessKey).length, 40);
    const rec = await h.meta.getAccessKey(String(k1.AccessKeyId));
    assert.equal(rec?.userName, 'kim');
    assert.equal(openSecret(h.keyring, rec!.secretSealed, secretContext(rec!.accessKeyId)), k1.SecretAccessKey);

    // Without UserName, an IAM user manages its own keys.
    const kim = h.userPrincipal('kim');
    await h.call('CreateAccessKey', {}, kim);
    await h.fail('CreateAccessKey', { UserName: 'kim' }, 'LimitExceeded', 'Cannot exceed quota for AccessKeysPerUser: 2');
    const listed = members<Xml>((await h.call('ListAccessKeys', {}, kim)).AccessKeyMetadata);
    assert.equal(listed.length, 2);
    assert.ok(listed.every((k) => k.UserName === 'kim' && k.Status === 'Active' && k.SecretAccessKey === undefined));

    await h.call('UpdateAccessKey', { UserName: 'kim', AccessKeyId: String(k1.AccessKeyId), Status: 'Inactive' });
    assert.equal((await h.meta.getAccessKey(String(k1.AccessKeyId)))?.status, 'Inactive');
    await h.fail('UpdateAccessKey', { UserName: 'kim', AccessKeyId: String(k1.AccessKeyId), Status: 'Off' }, 'ValidationError', /satisfy enum value set: \[Active, Inactive\]/);

    const last = await h.call('GetAccessKeyLastUsed', { AccessKeyId: String(k1.AccessKeyId) });
    assert.deepEqual(last, { UserName: 'kim', AccessKeyLastUsed: { ServiceName: 'N/A', Region: 'N/A' } });

    // A key of another user is not found under this one.
    await h.call('CreateUser', { UserName: 'lee' });
    await h.fail('DeleteAccessKey', { UserName: 'lee', AccessKeyId: String(k1.AccessKeyId) }, 'NoSuchEntity', `The Access Key with id ${String(k1.AccessKeyId)} cannot be found.`);
    await h.call('DeleteAccessKey', { AccessKeyId: String(k1.AccessKeyId) }, kim);
    assert.equal(await h.meta.getAccessKey(String(k1.AccessKeyId)), undefined);
  });

  it('the root without UserName manages root keys', async () => {
    const k = (await h.call('CreateAccessKey')).AccessKey as Xml;
    assert.equal(k.UserName, undefined);
    assert.equal((await h.meta.getAccessKey(String(k.AccessKeyId)))?.userName, null);
    const listed = members<Xml>((await h.call('ListAccessKeys')).AccessKeyMetadata);
    assert.deepEqual(listed.map((x) => x.AccessKeyId), [k.AccessKeyId]);
    await h.fail('ListAccessKeys', { UserName: 'ghost' }, 'NoSuchEntity', 'The user with name ghost cannot be found.');
  });
});

describe('dispatch', () => {
  it('an unknown action is InvalidAction', async () => {
    await h.fail('FrobnicateUser', {}, 'InvalidAction', 'Could not find operation FrobnicateUser for version 2010-05-08');
    await h.fail('constructor', {}, 'InvalidAction');
  });

  it('reads do not report changes; writes do', async () => {
    await h.call('ListUsers');
    assert.deepEqual(h.changes, []);
    await h.call('CreateUser', { UserName: 'z' });
    assert.deepEqual(h.changes, [ACCOUNT]);
  });

  it('concurrent writes are serialised per account', async () => {
    await h.call('CreateUser', { UserName: 'race' });
    const attempts = await Promise.allSettled([1, 2, 3, 4].map(() => h.call('CreateAccessKey', { UserName: 'race' })));
    assert.equal(attempts.filter((a) => a.status === 'fulfilled').length, 2);
  });
});
