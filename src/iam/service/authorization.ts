/**
 * The IAM action and resource ARN each call is authorized against, from the Service
 * Authorization Reference's resource types per action (policy/data/iam-model.json):
 * a user, group, role, policy or mfa ARN; actions with no resource type (ListUsers,
 * ListPolicies, GetAccountSummary, …) are authorized against "*", as AWS does for actions
 * without resource-level permissions. Calls whose UserName defaults to the caller are
 * authorized against the caller's own user ARN (the root's ARN for the root).
 *
 * AWS evaluates against the real ARN, path included. A request names an existing entity
 * only by name, so resolveAuthorizationTarget looks the path up; iamAuthorizationTarget
 * does not touch the store and assumes the root path '/' for entities it would have to
 * look up (exact for paths given in the request and for the caller's own user).
 */
import { callerArn, type SignedPrincipal } from '../../auth/principal.js';
import type { MetadataStore } from '../../storage/ports.js';
import type { QueryRequest } from '../api/query.js';
import { type ArnType, iamArn, rootArn } from './common.js';
import { oidcProviderArn, providerNameOf } from './oidc.js';
import { load } from './store.js';

export interface AuthorizationTarget {
  /** e.g. iam:CreateUser */
  action: string;
  /** ARN, or "*" */
  resource: string;
}

type Spec =
  | { t: 'none' }
  | { t: 'new'; type: ArnType; name: string }
  | { t: 'existing'; type: 'user' | 'group' | 'role'; param: string }
  | { t: 'self-or-user' }
  | { t: 'arn'; param: string }
  | { t: 'key-owner' }
  | { t: 'oidc-url' };

const NONE: Spec = { t: 'none' };
const USER: Spec = { t: 'existing', type: 'user', param: 'UserName' };
const SELF_OR_USER: Spec = { t: 'self-or-user' };
const GROUP: Spec = { t: 'existing', type: 'group', param: 'GroupName' };
const ROLE: Spec = { t: 'existing', type: 'role', param: 'RoleName' };
const POLICY: Spec = { t: 'arn', param: 'PolicyArn' };
const DEVICE: Spec = { t: 'arn', param: 'SerialNumber' };
const OIDC: Spec = { t: 'arn', param: 'OpenIDConnectProviderArn' };

const SPECS: Record<string, Spec> = {
  CreateUser: { t: 'new', type: 'user', name: 'UserName' },
  GetUser: SELF_OR_USER,
  ListUsers: NONE,
  UpdateUser: USER,
  DeleteUser: USER,
  TagUser: USER,
  UntagUser: USER,
  ListUserTags: USER,
  CreateAccessKey: SELF_OR_USER,
  ListAccessKeys: SELF_OR_USER,
  UpdateAccessKey: SELF_OR_USER,
  DeleteAccessKey: SELF_OR_USER,
  GetAccessKeyLastUsed: { t: 'key-owner' },
  CreateGroup: { t: 'new', type: 'group', name: 'GroupName' },
  GetGroup: GROUP,
  ListGroups: NONE,
  UpdateGroup: GROUP,
  DeleteGroup: GROUP,
  AddUserToGroup: GROUP,
  RemoveUserFromGroup: GROUP,
  ListGroupsForUser: USER,
  CreateRole: { t: 'new', type: 'role', name: 'RoleName' },
  GetRole: ROLE,
  ListRoles: NONE,
  UpdateRole: ROLE,
  UpdateRoleDescription: ROLE,
  UpdateAssumeRolePolicy: ROLE,
  DeleteRole: ROLE,
  TagRole: ROLE,
  UntagRole: ROLE,
  ListRoleTags: ROLE,
  PutUserPolicy: USER,
  GetUserPolicy: USER,
  ListUserPolicies: USER,
  DeleteUserPolicy: USER,
  PutGroupPolicy: GROUP,
  GetGroupPolicy: GROUP,
  ListGroupPolicies: GROUP,
  DeleteGroupPolicy: GROUP,
  PutRolePolicy: ROLE,
  GetRolePolicy: ROLE,
  ListRolePolicies: ROLE,
  DeleteRolePolicy: ROLE,
  CreatePolicy: { t: 'new', type: 'policy', name: 'PolicyName' },
  GetPolicy: POLICY,
  ListPolicies: NONE,
  DeletePolicy: POLICY,
  CreatePolicyVersion: POLICY,
  GetPolicyVersion: POLICY,
  ListPolicyVersions: POLICY,
  SetDefaultPolicyVersion: POLICY,
  DeletePolicyVersion: POLICY,
  TagPolicy: POLICY,
  UntagPolicy: POLICY,
  ListPolicyTags: POLICY,
  ListEntitiesForPolicy: POLICY,
  AttachUserPolicy: USER,
  DetachUserPolicy: USER,
  ListAttachedUserPolicies: USER,
  AttachGroupPolicy: GROUP,
  DetachGroupPolicy: GROUP,
  ListAttachedGroupPolicies: GROUP,
  AttachRolePolicy: ROLE,
  DetachRolePolicy: ROLE,
  ListAttachedRolePolicies: ROLE,
  PutUserPermissionsBoundary: USER,
  DeleteUserPermissionsBoundary: USER,
  PutRolePermissionsBoundary: ROLE,
  DeleteRolePermissionsBoundary: ROLE,
  CreateVirtualMFADevice: { t: 'new', type: 'mfa', name: 'VirtualMFADeviceName' },
  EnableMFADevice: USER,
  DeactivateMFADevice: SELF_OR_USER,
  ListMFADevices: SELF_OR_USER,
  ListVirtualMFADevices: NONE,
  DeleteVirtualMFADevice: DEVICE,
  TagMFADevice: DEVICE,
  UntagMFADevice: DEVICE,
  ListMFADeviceTags: DEVICE,
  CreateOpenIDConnectProvider: { t: 'oidc-url' },
  GetOpenIDConnectProvider: OIDC,
  ListOpenIDConnectProviders: NONE,
  DeleteOpenIDConnectProvider: OIDC,
  AddClientIDToOpenIDConnectProvider: OIDC,
  RemoveClientIDFromOpenIDConnectProvider: OIDC,
  UpdateOpenIDConnectProviderThumbprint: OIDC,
  TagOpenIDConnectProvider: OIDC,
  UntagOpenIDConnectProvider: OIDC,
  ListOpenIDConnectProviderTags: OIDC,
  GetAccountSummary: NONE,
  GetAccountAuthorizationDetails: NONE,
};

/** True for the actions IamService implements. */
export function isIamAction(action: string): boolean {
  return Object.hasOwn(SPECS, action);
}

// Own properties only: `constructor` or `toString` as an Action must not reach Object.prototype.
const specOf = (action: string): Spec => (Object.hasOwn(SPECS, action) ? SPECS[action]! : NONE);

/** The caller's own ARN, for calls that default to the caller. */
function selfArn(accountId: string, caller: SignedPrincipal): string {
  if (caller.kind === 'iam-user') return iamArn(accountId, 'user', caller.path, caller.userName);
  if (caller.kind === 'account-root') return rootArn(accountId);
  // A role session has no user: the call fails validation; its own ARN is the honest target.
  return callerArn(caller) ?? rootArn(accountId);
}

/**
 * The action and resource without a store lookup: entities named by the request are
 * assumed to be on the path '/'. Prefer resolveAuthorizationTarget.
 */
export function iamAuthorizationTarget(query: QueryRequest, accountId: string, caller: SignedPrincipal): AuthorizationTarget {
  const action = `iam:${query.action}`;
  const spec = specOf(query.action);
  const p = (name: string): string => query.params.get(name) ?? '';
  switch (spec.t) {
    case 'none':
    case 'key-owner':
      return { action, resource: '*' };
    case 'new':
      return { action, resource: iamArn(accountId, spec.type, query.params.get('Path') ?? '/', p(spec.name)) };
    case 'existing':
      return { action, resource: iamArn(accountId, spec.type, '/', p(spec.param)) };
    case 'self-or-user': {
      const name = query.params.get('UserName');
      return { action, resource: name === undefined ? selfArn(accountId, caller) : iamArn(accountId, 'user', '/', name) };
    }
    case 'arn':
      return { action, resource: p(spec.param) || '*' };
    case 'oidc-url': {
      const name = providerNameOf(p('Url'));
      return { action, resource: name === undefined ? '*' : oidcProviderArn(accountId, name) };
    }
  }
}

/**
 * The action and the real resource ARN: paths of existing users, groups and roles come
 * from the store, and GetAccessKeyLastUsed is authorized against the key's owner. An
 * entity that does not exist is given the path '/' (the call then fails NoSuchEntity).
 */
export async function resolveAuthorizationTarget(meta: MetadataStore, query: QueryRequest, accountId: string, caller: SignedPrincipal): Promise<AuthorizationTarget> {
  const base = iamAuthorizationTarget(query, accountId, caller);
  const spec = specOf(query.action);
  const arnOf = async (type: 'user' | 'group' | 'role', name: string | undefined): Promise<string> =>
    (name ? (await load(meta, accountId, type, name))?.arn : undefined) ?? base.resource;
  switch (spec.t) {
    case 'existing':
      return { ...base, resource: await arnOf(spec.type, query.params.get(spec.param)) };
    case 'self-or-user':
      return query.params.has('UserName') ? { ...base, resource: await arnOf('user', query.params.get('UserName')) } : base;
    case 'key-owner': {
      const key = await meta.getAccessKey(query.params.get('AccessKeyId') ?? '');
      if (!key || key.accountId !== accountId) return base;
      if (key.userName === null) return { ...base, resource: rootArn(accountId) };
      return { ...base, resource: (await load(meta, accountId, 'user', key.userName))?.arn ?? iamArn(accountId, 'user', '/', key.userName) };
    }
    default:
      return base;
  }
}
