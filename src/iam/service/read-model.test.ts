import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { decodeQuery } from '../api/query.js';
import { awsManagedPolicy } from '../managed/aws-managed.js';
import { parsePolicy } from '../policy/parse.js';
import { iamAuthorizationTarget, isIamAction, resolveAuthorizationTarget } from './authorization.js';
import { loadIdentityPolicies, resolveManagedPolicyDocuments } from './read-model.js';
import { ACCOUNT, type Harness, type Xml, S3_READ, harness, policyDoc } from './testing.js';

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h.close();
});

const S3_FULL = 'arn:aws:iam::aws:policy/AmazonS3FullAccess';
const WRITE = policyDoc([{ Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::b/*' }]);

describe('loadIdentityPolicies', () => {
  it('a user in two groups: own, then each group\'s inline and managed policies, boundary and tags', async () => {
    const managed = `arn:aws:iam::${ACCOUNT}:policy/writers`;
    await h.call('CreatePolicy', { PolicyName: 'writers', PolicyDocument: S3_READ });
    await h.call('CreatePolicyVersion', { PolicyArn: managed, PolicyDocument: WRITE, SetAsDefault: 'true' });
    const user = (await h.call('CreateUser', { UserName: 'alice', Path: '/eng/', 'Tags.member.1.Key': 'team', 'Tags.member.1.Value': 'blue' })).User as Xml;
    await h.call('PutUserPolicy', { UserName: 'alice', PolicyName: 'own', PolicyDocument: S3_READ });
    await h.call('AttachUserPolicy', { UserName: 'alice', PolicyArn: managed });
    await h.call('PutUserPermissionsBoundary', { UserName: 'alice', PermissionsBoundary: S3_FULL });
    for (const g of ['devs', 'ops']) {
      await h.call('CreateGroup', { GroupName: g });
      await h.call('AddUserToGroup', { GroupName: g, UserName: 'alice' });
      await h.call('PutGroupPolicy', { GroupName: g, PolicyName: `${g}-inline`, PolicyDocument: S3_READ });
    }
    await h.call('AttachGroupPolicy', { GroupName: 'devs', PolicyArn: managed }); // also on the user: listed once
    await h.call('AttachGroupPolicy', { GroupName: 'ops', PolicyArn: S3_FULL });

    const got = await loadIdentityPolicies(h.meta, ACCOUNT, { kind: 'user', name: 'ALICE' });
    assert.ok(got);
    assert.deepEqual(got.policies.map((p) => p.id), ['user/alice/inline/own', managed, 'group/devs/inline/devs-inline', 'group/ops/inline/ops-inline', S3_FULL]);
    assert.equal(got.policies[1]!.document, WRITE, 'the default version');
    assert.equal(got.policies[4]!.document, awsManagedPolicy(S3_FULL)!.document);
    assert.deepEqual(got.boundary, { id: S3_FULL, document: awsManagedPolicy(S3_FULL)!.document });
    assert.deepEqual(got.tags, { team: 'blue' });
    assert.equal(got.path, '/eng/');
    assert.equal(got.id, user.UserId);
    for (const p of got.policies) assert.ok('ast' in parsePolicy(p.document), p.id);

    assert.equal(await loadIdentityPolicies(h.meta, ACCOUNT, { kind: 'user', name: 'nobody' }), undefined);
  });

  it('a role: inline and attached', async () => {
    await h.call('CreateRole', { RoleName: 'r', AssumeRolePolicyDocument: policyDoc([{ Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'sts:AssumeRole' }]) });
    await h.call('PutRolePolicy', { RoleName: 'r', PolicyName: 'p', PolicyDocument: S3_READ });
    await h.call('AttachRolePolicy', { RoleName: 'r', PolicyArn: S3_FULL });
    const got = await loadIdentityPolicies(h.meta, ACCOUNT, { kind: 'role', name: 'r' });
    assert.deepEqual(got?.policies.map((p) => p.id), ['role/r/inline/p', S3_FULL]);
    assert.equal(got?.boundary, undefined);
    assert.match(String(got?.id), /^AROA/);
  });

  it('resolveManagedPolicyDocuments for session policies', async () => {
    await h.call('CreatePolicy', { PolicyName: 'mine', PolicyDocument: S3_READ });
    const mine = `arn:aws:iam::${ACCOUNT}:policy/mine`;
    const res = await resolveManagedPolicyDocuments(h.meta, ACCOUNT, [mine, S3_FULL, `arn:aws:iam::${ACCOUNT}:policy/gone`, 'arn:aws:iam::444455556666:policy/mine']);
    assert.deepEqual(res.policies.map((p) => p.id), [mine, S3_FULL]);
    assert.equal(res.policies[0]!.document, S3_READ);
    assert.deepEqual(res.missing, [`arn:aws:iam::${ACCOUNT}:policy/gone`, 'arn:aws:iam::444455556666:policy/mine']);
  });
});

describe('authorization targets', () => {
  const q = (action: string, params: Record<string, string> = {}) => decodeQuery(new URLSearchParams({ Action: action, ...params }).toString());

  it('maps actions to the SAR resource types', async () => {
    const root = h.root;
    const t = (action: string, params?: Record<string, string>) => iamAuthorizationTarget(q(action, params), ACCOUNT, root);
    assert.deepEqual(t('CreateUser', { UserName: 'a', Path: '/x/' }), { action: 'iam:CreateUser', resource: `arn:aws:iam::${ACCOUNT}:user/x/a` });
    assert.deepEqual(t('ListUsers'), { action: 'iam:ListUsers', resource: '*' });
    assert.deepEqual(t('GetAccountSummary'), { action: 'iam:GetAccountSummary', resource: '*' });
    assert.deepEqual(t('AddUserToGroup', { GroupName: 'g', UserName: 'a' }), { action: 'iam:AddUserToGroup', resource: `arn:aws:iam::${ACCOUNT}:group/g` });
    assert.deepEqual(t('GetPolicy', { PolicyArn: S3_FULL }), { action: 'iam:GetPolicy', resource: S3_FULL });
    assert.deepEqual(t('CreatePolicy', { PolicyName: 'p' }), { action: 'iam:CreatePolicy', resource: `arn:aws:iam::${ACCOUNT}:policy/p` });
    assert.deepEqual(t('AttachRolePolicy', { RoleName: 'r', PolicyArn: S3_FULL }), { action: 'iam:AttachRolePolicy', resource: `arn:aws:iam::${ACCOUNT}:role/r` });
    assert.deepEqual(t('CreateVirtualMFADevice', { VirtualMFADeviceName: 'd' }), { action: 'iam:CreateVirtualMFADevice', resource: `arn:aws:iam::${ACCOUNT}:mfa/d` });
    assert.deepEqual(t('CreateAccessKey'), { action: 'iam:CreateAccessKey', resource: `arn:aws:iam::${ACCOUNT}:root` });
    assert.deepEqual(iamAuthorizationTarget(q('ListAccessKeys'), ACCOUNT, h.userPrincipal('bob', '/p/')),
      { action: 'iam:ListAccessKeys', resource: `arn:aws:iam::${ACCOUNT}:user/p/bob` });
    assert.equal(isIamAction('CreateUser'), true);
    assert.equal(isIamAction('toString'), false);
    assert.deepEqual(t('constructor'), { action: 'iam:constructor', resource: '*' });
  });

  it('resolves the real paths of existing entities', async () => {
    await h.call('CreateUser', { UserName: 'alice', Path: '/eng/' });
    await h.call('CreateGroup', { GroupName: 'g', Path: '/teams/' });
    const key = (await h.call('CreateAccessKey', { UserName: 'alice' })).AccessKey as Xml;
    const r = (action: string, params?: Record<string, string>) => resolveAuthorizationTarget(h.meta, q(action, params), ACCOUNT, h.root);
    assert.equal((await r('DeleteUser', { UserName: 'ALICE' })).resource, `arn:aws:iam::${ACCOUNT}:user/eng/alice`);
    assert.equal((await r('GetGroup', { GroupName: 'g' })).resource, `arn:aws:iam::${ACCOUNT}:group/teams/g`);
    assert.equal((await r('GetUser', { UserName: 'nobody' })).resource, `arn:aws:iam::${ACCOUNT}:user/nobody`);
    assert.equal((await r('GetAccessKeyLastUsed', { AccessKeyId: String(key.AccessKeyId) })).resource, `arn:aws:iam::${ACCOUNT}:user/eng/alice`);
    assert.equal((await r('ListUsers')).resource, '*');
  });
});
