import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AWS_MANAGED_POLICIES } from '../managed/aws-managed.js';
import { checkIdentityPolicy, policySize } from './policy-docs.js';
import { ACCOUNT, type Harness, type Xml, S3_READ, harness, members, policyDoc } from './testing.js';

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h.close();
});

const S3_FULL = 'arn:aws:iam::aws:policy/AmazonS3FullAccess';
const localArn = (name: string, path = '/'): string => `arn:aws:iam::${ACCOUNT}:policy${path}${name}`;

/** A document of exactly `size` non-whitespace characters. */
function sizedDoc(size: number): string {
  const base = policyDoc([{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/' }]);
  const pad = size - base.replace(/\s/g, '').length;
  return policyDoc([{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::b/${'x'.repeat(pad)}` }]);
}

describe('inline policies', () => {
  it('Put/Get/List/Delete for users, groups and roles', async () => {
    await h.call('CreateUser', { UserName: 'u' });
    await h.call('CreateGroup', { GroupName: 'g' });
    await h.call('CreateRole', { RoleName: 'r', AssumeRolePolicyDocument: policyDoc([{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }]) });
    for (const [kind, param] of [['User', 'u'], ['Group', 'g'], ['Role', 'r']] as const) {
      const key = `${kind}Name`;
      await h.call(`Put${kind}Policy`, { [key]: param, PolicyName: 'b', PolicyDocument: S3_READ });
      await h.call(`Put${kind}Policy`, { [key]: param, PolicyName: 'a', PolicyDocument: S3_READ });
      const got = await h.call(`Get${kind}Policy`, { [key]: param, PolicyName: 'a' });
      assert.equal(got[key], param);
      assert.equal(got.PolicyName, 'a');
      assert.equal(got.PolicyDocument, encodeURIComponent(S3_READ), 'documents come back URL-encoded');
      assert.deepEqual(members((await h.call(`List${kind}Policies`, { [key]: param })).PolicyNames), ['a', 'b']);
      await h.call(`Delete${kind}Policy`, { [key]: param, PolicyName: 'A' });
      await h.fail(`Get${kind}Policy`, { [key]: param, PolicyName: 'a' }, 'NoSuchEntity', `The ${kind.toLowerCase()} policy with name a cannot be found.`);
    }
    await h.fail('PutUserPolicy', { UserName: 'nobody', PolicyName: 'p', PolicyDocument: S3_READ }, 'NoSuchEntity', 'The user with name nobody cannot be found.');
  });

  it('rejects malformed identity policies with IAM messages', async () => {
    await h.call('CreateUser', { UserName: 'u' });
    const put = (doc: string) => ({ UserName: 'u', PolicyName: 'p', PolicyDocument: doc });
    await h.fail('PutUserPolicy', put('not json'), 'MalformedPolicyDocument', 'Syntax errors in policy.');
    await h.fail('PutUserPolicy', put(policyDoc([{ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: '*' }])), 'MalformedPolicyDocument', 'Policy document should not specify a principal.');
    await h.fail('PutUserPolicy', put(policyDoc([{ Effect: 'Allow', Action: 's3:*' }])), 'MalformedPolicyDocument', 'Policy statement must contain resources.');
    await h.fail('PutUserPolicy', put(policyDoc([{ Effect: 'Allow', Action: 'GetObject', Resource: '*' }])), 'MalformedPolicyDocument', 'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.');
    await h.fail('PutUserPolicy', put(policyDoc([{ Effect: 'Allow', Action: 's3:*', Resource: 'bucket' }])), 'MalformedPolicyDocument', 'Resource bucket must be in ARN format or "*".');
    await h.fail('PutUserPolicy', put(policyDoc([{ Effect: 'Maybe', Action: 's3:*', Resource: '*' }])), 'MalformedPolicyDocument', 'Invalid effect: Maybe');
  });

  it('enforces the per-entity aggregate size, whitespace not counted', async () => {
    await h.call('CreateUser', { UserName: 'u' });
    await h.call('PutUserPolicy', { UserName: 'u', PolicyName: 'p1', PolicyDocument: sizedDoc(1000) });
    // Replacing p1 does not count its old version.
    await h.call('PutUserPolicy', { UserName: 'u', PolicyName: 'p1', PolicyDocument: sizedDoc(1048) });
    await h.call('PutUserPolicy', { UserName: 'u', PolicyName: 'p2', PolicyDocument: sizedDoc(1000).replace(/,/g, ',\n    ') });
    await h.fail('PutUserPolicy', { UserName: 'u', PolicyName: 'p3', PolicyDocument: sizedDoc(200) }, 'LimitExceeded', 'Maximum policy size of 2048 bytes exceeded for user u');
    await h.call('CreateGroup', { GroupName: 'g' });
    await h.call('PutGroupPolicy', { GroupName: 'g', PolicyName: 'p', PolicyDocument: sizedDoc(5120) });
    await h.fail('PutGroupPolicy', { GroupName: 'g', PolicyName: 'p', PolicyDocument: sizedDoc(5121) }, 'LimitExceeded', 'Maximum policy size of 5120 bytes exceeded for group g');
  });
});

describe('managed policies', () => {
  it('CreatePolicy, GetPolicy, versions and DeletePolicy', async () => {
    const created = (await h.call('CreatePolicy', { PolicyName: 'read', Path: '/team/', PolicyDocument: S3_READ, Description: 'reads' })).Policy as Xml;
    const arn = localArn('read', '/team/');
    assert.equal(created.Arn, arn);
    assert.match(String(created.PolicyId), /^ANPA[A-Z0-9]{17}$/);
    assert.equal(created.DefaultVersionId, 'v1');
    assert.equal(created.AttachmentCount, '0');
    assert.equal(created.IsAttachable, 'true');
    await h.fail('CreatePolicy', { PolicyName: 'READ', PolicyDocument: S3_READ }, 'EntityAlreadyExists', 'A policy called READ already exists. Duplicate names are not allowed.');
    await h.fail('GetPolicy', { PolicyArn: localArn('read') }, 'NoSuchEntity', `Policy ${localArn('read')} was not found.`);
    await h.fail('GetPolicy', { PolicyArn: 'arn:aws:s3:::not-a-policy' }, 'InvalidInput', 'ARN arn:aws:s3:::not-a-policy is not valid.');

    const doc2 = policyDoc([{ Effect: 'Allow', Action: 's3:*', Resource: '*' }]);
    h.now += 60_000;
    const v2 = (await h.call('CreatePolicyVersion', { PolicyArn: arn, PolicyDocument: doc2, SetAsDefault: 'true' })).PolicyVersion as Xml;
    assert.deepEqual(v2, { VersionId: 'v2', IsDefaultVersion: 'true', CreateDate: '2025-06-01T12:01:00Z' });
    for (let i = 3; i <= 5; i++) await h.call('CreatePolicyVersion', { PolicyArn: arn, PolicyDocument: S3_READ });
    await h.fail('CreatePolicyVersion', { PolicyArn: arn, PolicyDocument: S3_READ }, 'LimitExceeded',
      'A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.');
    const versions = members<Xml>((await h.call('ListPolicyVersions', { PolicyArn: arn })).Versions);
    assert.deepEqual(versions.map((v) => `${String(v.VersionId)}:${String(v.IsDefaultVersion)}`), ['v5:false', 'v4:false', 'v3:false', 'v2:true', 'v1:false']);

    const got = (await h.call('GetPolicyVersion', { PolicyArn: arn, VersionId: 'v2' })).PolicyVersion as Xml;
    assert.equal(decodeURIComponent(String(got.Document)), doc2);
    await h.fail('GetPolicyVersion', { PolicyArn: arn, VersionId: 'v9' }, 'NoSuchEntity');
    await h.fail('GetPolicyVersion', { PolicyArn: arn, VersionId: '2' }, 'ValidationError', /versionId/);

    await h.fail('DeletePolicyVersion', { PolicyArn: arn, VersionId: 'v2' }, 'DeleteConflict', 'Cannot delete the default version of a policy.');
    await h.call('SetDefaultPolicyVersion', { PolicyArn: arn, VersionId: 'v5' });
    const policy = (await h.call('GetPolicy', { PolicyArn: arn })).Policy as Xml;
    assert.equal(policy.DefaultVersionId, 'v5');
    assert.equal(policy.Description, 'reads');
    assert.equal(policy.UpdateDate, '2025-06-01T12:01:00Z');

    await h.fail('DeletePolicy', { PolicyArn: arn }, 'DeleteConflict', /^This policy has more than one version/);
    for (const v of ['v1', 'v2', 'v3', 'v4']) await h.call('DeletePolicyVersion', { PolicyArn: arn, VersionId: v });
    // Version ids are never reused.
    assert.equal(((await h.call('CreatePolicyVersion', { PolicyArn: arn, PolicyDocument: S3_READ })).PolicyVersion as Xml).VersionId, 'v6');
    await h.call('DeletePolicyVersion', { PolicyArn: arn, VersionId: 'v6' });

    await h.call('CreateUser', { UserName: 'u' });
    await h.call('AttachUserPolicy', { UserName: 'u', PolicyArn: arn });
    await h.fail('DeletePolicy', { PolicyArn: arn }, 'DeleteConflict', 'Cannot delete a policy attached to entities.');
    await h.call('DetachUserPolicy', { UserName: 'u', PolicyArn: arn });
    await h.call('DeletePolicy', { PolicyArn: arn });
    await h.fail('GetPolicy', { PolicyArn: arn }, 'NoSuchEntity');
  });

  it('limits managed policy size and rejects malformed documents', async () => {
    await h.call('CreatePolicy', { PolicyName: 'max', PolicyDocument: sizedDoc(6144) });
    await h.fail('CreatePolicy', { PolicyName: 'big', PolicyDocument: sizedDoc(6145) }, 'LimitExceeded', 'Cannot exceed quota for PolicySize: 6144');
    await h.fail('CreatePolicy', { PolicyName: 'bad', PolicyDocument: '{}' }, 'MalformedPolicyDocument', 'Missing required field Statement');
  });

  it('AWS managed policies are built in and read-only', async () => {
    const p = (await h.call('GetPolicy', { PolicyArn: S3_FULL })).Policy as Xml;
    assert.equal(p.PolicyName, 'AmazonS3FullAccess');
    assert.equal(p.DefaultVersionId, 'v2');
    const v = (await h.call('GetPolicyVersion', { PolicyArn: S3_FULL, VersionId: 'v2' })).PolicyVersion as Xml;
    assert.deepEqual(JSON.parse(decodeURIComponent(String(v.Document))).Statement[0].Action, ['s3:*', 's3-object-lambda:*']);
    for (const m of AWS_MANAGED_POLICIES) {
      checkIdentityPolicy(m.document);
      assert.ok(policySize(m.document) <= 6144, m.name);
    }
    await h.fail('DeletePolicy', { PolicyArn: S3_FULL }, 'UnmodifiableEntity');
    await h.fail('CreatePolicyVersion', { PolicyArn: S3_FULL, PolicyDocument: S3_READ }, 'UnmodifiableEntity');
  });

  it('ListPolicies: scope, attachment filter, path and pagination', async () => {
    for (const n of ['p3', 'p1', 'p2']) await h.call('CreatePolicy', { PolicyName: n, PolicyDocument: S3_READ, Path: n === 'p3' ? '/x/' : '/' });
    const local = members<Xml>((await h.call('ListPolicies', { Scope: 'Local' })).Policies);
    assert.deepEqual(local.map((p) => p.PolicyName), ['p1', 'p2', 'p3']);
    assert.equal(local[0]!.Description, undefined, 'ListPolicies leaves descriptions out');
    const aws = members<Xml>((await h.call('ListPolicies', { Scope: 'AWS' })).Policies);
    assert.deepEqual(aws.map((p) => p.PolicyName), ['AdministratorAccess', 'AmazonS3FullAccess', 'AmazonS3ReadOnlyAccess', 'IAMFullAccess', 'IAMReadOnlyAccess']);
    assert.deepEqual(members<Xml>((await h.call('ListPolicies', { Scope: 'Local', PathPrefix: '/x/' })).Policies).map((p) => p.PolicyName), ['p3']);

    await h.call('CreateUser', { UserName: 'u' });
    await h.call('AttachUserPolicy', { UserName: 'u', PolicyArn: localArn('p2') });
    await h.call('AttachUserPolicy', { UserName: 'u', PolicyArn: S3_FULL });
    const attached = members<Xml>((await h.call('ListPolicies', { OnlyAttached: 'true' })).Policies);
    assert.deepEqual(attached.map((p) => `${String(p.PolicyName)}:${String(p.AttachmentCount)}`), ['AmazonS3FullAccess:1', 'p2:1']);

    const names: string[] = [];
    let marker: string | undefined;
    do {
      const page = await h.call('ListPolicies', { MaxItems: '3', ...(marker ? { Marker: marker } : {}) });
      names.push(...members<Xml>(page.Policies).map((p) => String(p.PolicyName)));
      marker = page.IsTruncated === 'true' ? String(page.Marker) : undefined;
    } while (marker);
    assert.equal(names.length, 8);
    assert.equal(new Set(names).size, 8);
    await h.fail('ListPolicies', { Scope: 'Mine' }, 'ValidationError', /satisfy enum value set: \[All, AWS, Local\]/);
  });
});

describe('attachments and boundaries', () => {
  it('Attach/Detach/ListAttached, counts and ListEntitiesForPolicy', async () => {
    const arn = localArn('shared');
    await h.call('CreatePolicy', { PolicyName: 'shared', PolicyDocument: S3_READ });
    await h.call('CreateUser', { UserName: 'u' });
    await h.call('CreateGroup', { GroupName: 'g' });
    await h.call('CreateRole', { RoleName: 'r', AssumeRolePolicyDocument: policyDoc([{ Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'sts:AssumeRole' }]) });
    await h.call('AttachUserPolicy', { UserName: 'u', PolicyArn: arn });
    await h.call('AttachUserPolicy', { UserName: 'u', PolicyArn: arn }); // idempotent
    await h.call('AttachGroupPolicy', { GroupName: 'g', PolicyArn: arn });
    await h.call('AttachRolePolicy', { RoleName: 'r', PolicyArn: arn });
    await h.call('PutRolePermissionsBoundary', { RoleName: 'r', PermissionsBoundary: arn });
    await h.fail('AttachUserPolicy', { UserName: 'u', PolicyArn: localArn('ghost') }, 'NoSuchEntity', `Policy ${localArn('ghost')} does not exist or is not attachable.`);
    await h.fail('AttachUserPolicy', { UserName: 'u', PolicyArn: 'arn:aws:iam::aws:policy/NoSuchAwsPolicy' }, 'NoSuchEntity');
    await h.fail('AttachUserPolicy', { UserName: 'u', PolicyArn: 'arn:aws:iam::aws:role/NotAPolicy' }, 'InvalidInput');
    await h.fail('DetachGroupPolicy', { GroupName: 'g', PolicyArn: S3_FULL }, 'NoSuchEntity', `Policy ${S3_FULL} was not found.`);

    const p = (await h.call('GetPolicy', { PolicyArn: arn })).Policy as Xml;
    assert.equal(p.AttachmentCount, '3');
    assert.equal(p.PermissionsBoundaryUsageCount, '1');

    assert.deepEqual(members((await h.call('ListAttachedUserPolicies', { UserName: 'u' })).AttachedPolicies), [{ PolicyName: 'shared', PolicyArn: arn }]);
    assert.deepEqual(members((await h.call('ListAttachedUserPolicies', { UserName: 'u', PathPrefix: '/other/' })).AttachedPolicies), []);

    const all = await h.call('ListEntitiesForPolicy', { PolicyArn: arn });
    assert.deepEqual(members<Xml>(all.PolicyGroups).map((x) => x.GroupName), ['g']);
    assert.deepEqual(members<Xml>(all.PolicyUsers).map((x) => x.UserName), ['u']);
    assert.deepEqual(members<Xml>(all.PolicyRoles).map((x) => x.RoleName), ['r']);
    const onlyRoles = await h.call('ListEntitiesForPolicy', { PolicyArn: arn, EntityFilter: 'Role', PolicyUsageFilter: 'PermissionsBoundary' });
    assert.deepEqual(members(onlyRoles.PolicyUsers), []);
    assert.equal(members(onlyRoles.PolicyRoles).length, 1);

    await h.fail('DeletePolicy', { PolicyArn: arn }, 'DeleteConflict');
    for (const [a, k, v] of [['DetachUserPolicy', 'UserName', 'u'], ['DetachGroupPolicy', 'GroupName', 'g'], ['DetachRolePolicy', 'RoleName', 'r']] as const) {
      await h.call(a, { [k]: v, PolicyArn: arn });
    }
    await h.fail('DeletePolicy', { PolicyArn: arn }, 'DeleteConflict', 'Cannot delete a policy attached to entities.');
    await h.call('DeleteRolePermissionsBoundary', { RoleName: 'r' });
    assert.equal(((await h.call('GetRole', { RoleName: 'r' })).Role as Xml).PermissionsBoundary, undefined);
    await h.call('DeletePolicy', { PolicyArn: arn });
  });

  it('at most 10 managed policies per entity', async () => {
    await h.call('CreateUser', { UserName: 'u' });
    for (let i = 0; i < 11; i++) await h.call('CreatePolicy', { PolicyName: `p${i}`, PolicyDocument: S3_READ });
    for (let i = 0; i < 10; i++) await h.call('AttachUserPolicy', { UserName: 'u', PolicyArn: localArn(`p${i}`) });
    await h.fail('AttachUserPolicy', { UserName: 'u', PolicyArn: localArn('p10') }, 'LimitExceeded', 'Cannot exceed quota for PoliciesPerUser: 10');
  });

  it('user permissions boundaries', async () => {
    await h.call('CreateUser', { UserName: 'u', PermissionsBoundary: S3_FULL });
    const u = (await h.call('GetUser', { UserName: 'u' })).User as Xml;
    assert.deepEqual(u.PermissionsBoundary, { PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: S3_FULL });
    await h.fail('PutUserPermissionsBoundary', { UserName: 'u', PermissionsBoundary: localArn('none') }, 'NoSuchEntity', `Scope ARN: ${localArn('none')} does not exist or is not attachable.`);
    await h.call('DeleteUserPermissionsBoundary', { UserName: 'u' });
    assert.equal(((await h.call('GetUser', { UserName: 'u' })).User as Xml).PermissionsBoundary, undefined);
  });
});

describe('account', () => {
  it('GetAccountSummary counts entities and reports quotas', async () => {
    await h.call('CreateUser', { UserName: 'u' });
    await h.call('CreateGroup', { GroupName: 'g' });
    await h.call('CreatePolicy', { PolicyName: 'p', PolicyDocument: S3_READ });
    await h.call('CreateAccessKey');
    const summary = (await h.call('GetAccountSummary')).SummaryMap as { entry: { key: string; value: string }[] };
    const map = new Map(summary.entry.map((e) => [e.key, e.value]));
    assert.equal(map.get('Users'), '1');
    assert.equal(map.get('Groups'), '1');
    assert.equal(map.get('Roles'), '0');
    assert.equal(map.get('Policies'), '1');
    assert.equal(map.get('AccessKeysPerUserQuota'), '2');
    assert.equal(map.get('AccountAccessKeysPresent'), '1');
    assert.equal(map.get('PolicySizeQuota'), '6144');
  });

  it('GetAccountAuthorizationDetails lists everything, filtered and paged', async () => {
    await h.call('CreateUser', { UserName: 'u' });
    await h.call('CreateGroup', { GroupName: 'g' });
    await h.call('AddUserToGroup', { GroupName: 'g', UserName: 'u' });
    await h.call('PutUserPolicy', { UserName: 'u', PolicyName: 'inline', PolicyDocument: S3_READ });
    await h.call('AttachGroupPolicy', { GroupName: 'g', PolicyArn: S3_FULL });
    await h.call('CreatePolicy', { PolicyName: 'mine', PolicyDocument: S3_READ, 'Tags.member.1.Key': 'team', 'Tags.member.1.Value': 'a' });
    await h.call('CreateRole', { RoleName: 'r', AssumeRolePolicyDocument: policyDoc([{ Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'sts:AssumeRole' }]) });

    const all = await h.call('GetAccountAuthorizationDetails');
    const [user] = members<Xml>(all.UserDetailList);
    assert.equal(user!.UserName, 'u');
    assert.deepEqual(members(user!.GroupList), ['g']);
    assert.deepEqual(members(user!.UserPolicyList), [{ PolicyName: 'inline', PolicyDocument: encodeURIComponent(S3_READ) }]);
    const [group] = members<Xml>(all.GroupDetailList);
    assert.deepEqual(members(group!.AttachedManagedPolicies), [{ PolicyName: 'AmazonS3FullAccess', PolicyArn: S3_FULL }]);
    assert.deepEqual(members<Xml>(all.RoleDetailList).map((r) => r.RoleName), ['r']);
    const policies = members<Xml>(all.Policies);
    assert.deepEqual(policies.map((p) => p.PolicyName), ['AmazonS3FullAccess', 'mine'], 'AWS managed policies only when used');
    assert.equal(members<Xml>(policies[1]!.PolicyVersionList)[0]!.VersionId, 'v1');
    assert.equal(policies[1]!.AttachmentCount, '0');
    assert.equal(policies[1]!.Tags, undefined, 'ManagedPolicyDetail has no tags');

    const roles = await h.call('GetAccountAuthorizationDetails', { 'Filter.member.1': 'Role' });
    assert.deepEqual(members(roles.UserDetailList), []);
    assert.equal(members(roles.RoleDetailList).length, 1);

    const first = await h.call('GetAccountAuthorizationDetails', { MaxItems: '2' });
    assert.equal(first.IsTruncated, 'true');
    const second = await h.call('GetAccountAuthorizationDetails', { Marker: String(first.Marker) });
    assert.equal(members(second.RoleDetailList).length + members(second.Policies).length, 3);
    await h.fail('GetAccountAuthorizationDetails', { 'Filter.member.1': 'Things' }, 'ValidationError');
  });
});
