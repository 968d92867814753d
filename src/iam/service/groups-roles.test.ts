import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ACCOUNT, type Harness, OTHER_ACCOUNT, type Xml, S3_READ, harness, members, policyDoc, trustFor } from './testing.js';

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h.close();
});

describe('groups', () => {
  it('lifecycle and membership', async () => {
    const g = (await h.call('CreateGroup', { GroupName: 'devs', Path: '/eng/' })).Group as Xml;
    assert.equal(g.Arn, `arn:aws:iam::${ACCOUNT}:group/eng/devs`);
    assert.match(String(g.GroupId), /^AGPA[A-Z0-9]{17}$/);
    await h.fail('CreateGroup', { GroupName: 'DEVS' }, 'EntityAlreadyExists', 'Group with name DEVS already exists.');
    await h.call('CreateUser', { UserName: 'ann' });
    await h.call('CreateUser', { UserName: 'ben' });
    await h.call('AddUserToGroup', { GroupName: 'devs', UserName: 'ann' });
    await h.call('AddUserToGroup', { GroupName: 'DEVS', UserName: 'BEN' });
    await h.call('AddUserToGroup', { GroupName: 'devs', UserName: 'ann' }); // idempotent
    await h.fail('AddUserToGroup', { GroupName: 'nope', UserName: 'ann' }, 'NoSuchEntity', 'The group with name nope cannot be found.');

    const got = await h.call('GetGroup', { GroupName: 'devs', MaxItems: '1' });
    assert.equal((got.Group as Xml).GroupName, 'devs');
    assert.deepEqual(members<Xml>(got.Users).map((u) => u.UserName), ['ann']);
    assert.equal(got.IsTruncated, 'true');
    const rest = await h.call('GetGroup', { GroupName: 'devs', Marker: String(got.Marker) });
    assert.deepEqual(members<Xml>(rest.Users).map((u) => u.UserName), ['ben']);

    assert.deepEqual(members<Xml>((await h.call('ListGroupsForUser', { UserName: 'ann' })).Groups).map((x) => x.GroupName), ['devs']);
    assert.deepEqual(members<Xml>((await h.call('ListGroups', { PathPrefix: '/eng/' })).Groups).map((x) => x.GroupName), ['devs']);
    assert.deepEqual(members((await h.call('ListGroups', { PathPrefix: '/ops/' })).Groups), []);

    await h.call('RemoveUserFromGroup', { GroupName: 'devs', UserName: 'ben' });
    await h.fail('RemoveUserFromGroup', { GroupName: 'devs', UserName: 'ben' }, 'NoSuchEntity');
    assert.deepEqual(members((await h.call('ListGroupsForUser', { UserName: 'ben' })).Groups), []);
  });

  it('UpdateGroup renames and keeps its members', async () => {
    await h.call('CreateGroup', { GroupName: 'old' });
    await h.call('CreateUser', { UserName: 'ann' });
    await h.call('AddUserToGroup', { GroupName: 'old', UserName: 'ann' });
    await h.call('UpdateGroup', { GroupName: 'old', NewGroupName: 'new', NewPath: '/p/' });
    await h.fail('GetGroup', { GroupName: 'old' }, 'NoSuchEntity');
    const got = await h.call('GetGroup', { GroupName: 'new' });
    assert.equal((got.Group as Xml).Arn, `arn:aws:iam::${ACCOUNT}:group/p/new`);
    assert.deepEqual(members<Xml>(got.Users).map((u) => u.UserName), ['ann']);
    assert.deepEqual(members<Xml>((await h.call('ListGroupsForUser', { UserName: 'ann' })).Groups).map((x) => x.GroupName), ['new']);
  });

  it('DeleteGroup refuses with members or policies', async () => {
    await h.call('CreateGroup', { GroupName: 'g' });
    await h.call('CreateUser', { UserName: 'ann' });
    await h.call('AddUserToGroup', { GroupName: 'g', UserName: 'ann' });
    await h.fail('DeleteGroup', { GroupName: 'g' }, 'DeleteConflict', 'Cannot delete entity, must remove users from group first.');
    await h.call('RemoveUserFromGroup', { GroupName: 'g', UserName: 'ann' });
    await h.call('PutGroupPolicy', { GroupName: 'g', PolicyName: 'p', PolicyDocument: S3_READ });
    await h.fail('DeleteGroup', { GroupName: 'g' }, 'DeleteConflict', 'Cannot delete entity, must delete policies first.');
    await h.call('DeleteGroupPolicy', { GroupName: 'g', PolicyName: 'p' });
    await h.call('AttachGroupPolicy', { GroupName: 'g', PolicyArn: 'arn:aws:iam::aws:policy/IAMReadOnlyAccess' });
    await h.fail('DeleteGroup', { GroupName: 'g' }, 'DeleteConflict', 'Cannot delete entity, must detach all policies first.');
    await h.call('DetachGroupPolicy', { GroupName: 'g', PolicyArn: 'arn:aws:iam::aws:policy/IAMReadOnlyAccess' });
    await h.call('DeleteGroup', { GroupName: 'g' });
    await h.fail('GetGroup', { GroupName: 'g' }, 'NoSuchEntity');
  });

  it('a user is in at most 10 groups', async () => {
    await h.call('CreateUser', { UserName: 'ann' });
    for (let i = 0; i < 11; i++) await h.call('CreateGroup', { GroupName: `g${i}` });
    for (let i = 0; i < 10; i++) await h.call('AddUserToGroup', { GroupName: `g${i}`, UserName: 'ann' });
    await h.fail('AddUserToGroup', { GroupName: 'g10', UserName: 'ann' }, 'LimitExceeded', 'Cannot exceed quota for GroupsPerUser: 10');
  });
});

describe('roles', () => {
  const trust = trustFor({ Service: 'ec2.amazonaws.com' });

  it('lifecycle', async () => {
    const created = (await h.call('CreateRole', {
      RoleName: 'app', Path: '/svc/', AssumeRolePolicyDocument: trust, Description: 'the app', MaxSessionDuration: '7200',
      'Tags.member.1.Key': 'env', 'Tags.member.1.Value': 'prod',
    })).Role as Xml;
    assert.equal(created.Arn, `arn:aws:iam::${ACCOUNT}:role/svc/app`);
    assert.match(String(created.RoleId), /^AROA[A-Z0-9]{17}$/);
    assert.equal(created.AssumeRolePolicyDocument, encodeURIComponent(trust));
    assert.equal(created.MaxSessionDuration, '7200');
    await h.fail('CreateRole', { RoleName: 'APP', AssumeRolePolicyDocument: trust }, 'EntityAlreadyExists', 'Role with name APP already exists.');

    const got = (await h.call('GetRole', { RoleName: 'app' })).Role as Xml;
    assert.equal(decodeURIComponent(String(got.AssumeRolePolicyDocument)), trust);
    assert.equal(got.Description, 'the app');
    assert.equal(got.RoleLastUsed, '');
    assert.deepEqual(members(got.Tags), [{ Key: 'env', Value: 'prod' }]);

    assert.equal(await h.call('UpdateRole', { RoleName: 'app', Description: 'new', MaxSessionDuration: '43200' }), '');
    const updated = (await h.call('GetRole', { RoleName: 'app' })).Role as Xml;
    assert.equal(updated.Description, 'new');
    assert.equal(updated.MaxSessionDuration, '43200');
    await h.fail('UpdateRole', { RoleName: 'app', MaxSessionDuration: '100' }, 'ValidationError',
      "1 validation error detected: Value '100' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600");

    const trust2 = trustFor({ AWS: ACCOUNT });
    await h.call('UpdateAssumeRolePolicy', { RoleName: 'app', PolicyDocument: trust2 });
    assert.equal(decodeURIComponent(String(((await h.call('GetRole', { RoleName: 'app' })).Role as Xml).AssumeRolePolicyDocument)), trust2);

    const listed = members<Xml>((await h.call('ListRoles', { PathPrefix: '/svc/' })).Roles);
    assert.deepEqual(listed.map((r) => r.RoleName), ['app']);
    assert.equal(listed[0]!.Tags, undefined);

    await h.call('TagRole', { RoleName: 'app', 'Tags.member.1.Key': 'tier', 'Tags.member.1.Value': '1' });
    await h.call('UntagRole', { RoleName: 'app', 'TagKeys.member.1': 'env' });
    assert.deepEqual(members((await h.call('ListRoleTags', { RoleName: 'app' })).Tags), [{ Key: 'tier', Value: '1' }]);

    await h.call('PutRolePolicy', { RoleName: 'app', PolicyName: 'p', PolicyDocument: S3_READ });
    await h.fail('DeleteRole', { RoleName: 'app' }, 'DeleteConflict', 'Cannot delete entity, must delete policies first.');
    await h.call('DeleteRolePolicy', { RoleName: 'app', PolicyName: 'p' });
    await h.call('AttachRolePolicy', { RoleName: 'app', PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3FullAccess' });
    await h.fail('DeleteRole', { RoleName: 'app' }, 'DeleteConflict', 'Cannot delete entity, must detach all policies first.');
    await h.call('DetachRolePolicy', { RoleName: 'app', PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3FullAccess' });
    await h.call('PutRolePermissionsBoundary', { RoleName: 'app', PermissionsBoundary: 'arn:aws:iam::aws:policy/AmazonS3FullAccess' });
    await h.call('DeleteRole', { RoleName: 'app' });
    await h.fail('GetRole', { RoleName: 'app' }, 'NoSuchEntity', 'The role with name app cannot be found.');
  });

  it('trust policies are validated as IAM does', async () => {
    const create = (doc: string) => ({ RoleName: 'r', AssumeRolePolicyDocument: doc });
    await h.fail('CreateRole', create(trustFor({ AWS: '999988887777' })), 'MalformedPolicyDocument', 'Invalid principal in policy');
    await h.fail('CreateRole', create(trustFor({ AWS: `arn:aws:iam::${OTHER_ACCOUNT}:role/missing` })), 'MalformedPolicyDocument', 'Invalid principal in policy');
    await h.fail('CreateRole', create(trustFor({ AWS: `arn:aws:iam::${ACCOUNT}:user/nobody` })), 'MalformedPolicyDocument', 'Invalid principal in policy');
    await h.call('CreateUser', { UserName: 'alice', Path: '/eng/' });
    await h.fail('CreateRole', create(trustFor({ AWS: `arn:aws:iam::${ACCOUNT}:user/alice` })), 'MalformedPolicyDocument', 'Invalid principal in policy');
    await h.call('CreateRole', create(trustFor({ AWS: [`arn:aws:iam::${ACCOUNT}:user/eng/alice`, `arn:aws:iam::${OTHER_ACCOUNT}:root`, OTHER_ACCOUNT] })));

    const r2 = (doc: string) => ({ RoleName: 'r2', AssumeRolePolicyDocument: doc });
    await h.fail('CreateRole', r2(policyDoc([{ Effect: 'Allow', Action: 'sts:AssumeRole' }])), 'MalformedPolicyDocument', 'Missing required field Principal');
    await h.fail('CreateRole', r2(policyDoc([{ Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole', Resource: '*' }])), 'MalformedPolicyDocument', 'Has prohibited field Resource');
    await h.fail('CreateRole', r2(policyDoc([{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject' }])), 'MalformedPolicyDocument', 'AssumeRole policy may only specify STS AssumeRole actions.');
    await h.fail('CreateRole', r2('{"Version":'), 'MalformedPolicyDocument', 'Syntax errors in policy.');
    const big = trustFor({ AWS: Array.from({ length: 160 }, () => OTHER_ACCOUNT) });
    await h.fail('CreateRole', r2(big), 'LimitExceeded', 'Cannot exceed quota for ACLSizePerRole: 2048');
    await h.fail('CreateRole', { RoleName: 'r3', AssumeRolePolicyDocument: trust, PermissionsBoundary: `arn:aws:iam::${ACCOUNT}:policy/none` },
      'NoSuchEntity', `Scope ARN: arn:aws:iam::${ACCOUNT}:policy/none does not exist or is not attachable.`);
  });
});
