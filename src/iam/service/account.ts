/**
 * Account-wide reads: GetAccountSummary (usage and quotas) and
 * GetAccountAuthorizationDetails (every user, group, role and managed policy with its
 * policies, as one snapshot for auditing tools).
 */
import type { QueryObject, QueryValue } from '../api/xml.js';
import type { IamGroup, IamRole, IamUser, InlinePolicies } from '../model.js';
import { type Handler, boundaryShape, nameKey, paginate, parseIamArn, readPaging, reader, roleShape, tagList, userShape, groupShape } from './common.js';
import { attachmentCount, awsViews, boundaryCount, localView, policyShape, policyUsage, type PolicyUsage, type PolicyView, versionShape } from './policies.js';
import { SIZE_QUOTAS } from './policy-docs.js';
import { list } from './store.js';

/** IAM's default quotas, as GetAccountSummary reports them. */
const QUOTAS = {
  UsersQuota: 5000,
  GroupsQuota: 300,
  RolesQuota: 1000,
  PoliciesQuota: 1500,
  InstanceProfilesQuota: 1000,
  ServerCertificatesQuota: 20,
  PolicyVersionsInUseQuota: 10000,
  VersionsPerPolicyQuota: 5,
  AttachedPoliciesPerUserQuota: 10,
  AttachedPoliciesPerGroupQuota: 10,
  AttachedPoliciesPerRoleQuota: 10,
  GroupsPerUserQuota: 10,
  AccessKeysPerUserQuota: 2,
  SigningCertificatesPerUserQuota: 2,
  PolicySizeQuota: SIZE_QUOTAS.managed,
  UserPolicySizeQuota: SIZE_QUOTAS.user,
  GroupPolicySizeQuota: SIZE_QUOTAS.group,
  RolePolicySizeQuota: SIZE_QUOTAS.role,
  AssumeRolePolicySizeQuota: SIZE_QUOTAS.trust,
} as const;

const getAccountSummary: Handler = async (ctx) => {
  reader(ctx).done();
  const { meta, accountId } = ctx;
  const [users, groups, roles, policies, devices, keys] = await Promise.all([
    list(meta, accountId, 'user'), list(meta, accountId, 'group'), list(meta, accountId, 'role'), list(meta, accountId, 'policy'),
    list(meta, accountId, 'mfa'), meta.listAccessKeys(accountId),
  ]);
  const usage = await policyUsage(meta, accountId);
  // Versions of attached customer managed policies, counted as IAM counts "in use".
  const versionsInUse = policies.filter((p) => attachmentCount(usage.get(p.arn)) > 0).reduce((n, p) => n + p.versions.length, 0);
  const summary = new Map<string, QueryValue>([
    ['Users', users.length],
    ['Groups', groups.length],
    ['Roles', roles.length],
    ['Policies', policies.length],
    ['PolicyVersionsInUse', versionsInUse],
    ['MFADevices', devices.length],
    ['MFADevicesInUse', devices.filter((d) => d.userName !== undefined).length],
    ['AccountMFAEnabled', 0],
    ['AccountAccessKeysPresent', keys.some((k) => k.userName === null) ? 1 : 0],
    ['AccountPasswordPresent', 0],
    ['AccountSigningCertificatesPresent', 0],
    ['InstanceProfiles', 0],
    ['Providers', 0],
    ['ServerCertificates', 0],
    ['GlobalEndpointTokenVersion', 1],
    ...Object.entries(QUOTAS),
  ]);
  return { SummaryMap: summary };
};

const FILTERS = ['User', 'Role', 'Group', 'LocalManagedPolicy', 'AWSManagedPolicy'] as const;
type Filter = (typeof FILTERS)[number];

const inlineList = (p: InlinePolicies): QueryObject[] =>
  Object.entries(p).map(([name, doc]) => ({ PolicyName: name, PolicyDocument: encodeURIComponent(doc) }));

const attachedList = (arns: readonly string[]): QueryObject[] =>
  arns.map((arn) => ({ PolicyName: parseIamArn(arn, 'policy')?.name ?? arn, PolicyArn: arn }));

function userDetail(u: IamUser): QueryObject {
  const { Path, UserName, UserId, Arn, CreateDate } = userShape(u, false);
  return {
    Path, UserName, UserId, Arn, CreateDate,
    UserPolicyList: inlineList(u.inlinePolicies),
    GroupList: [...u.groups],
    AttachedManagedPolicies: attachedList(u.attachedPolicies),
    PermissionsBoundary: boundaryShape(u.permissionsBoundary),
    Tags: u.tags.length > 0 ? tagList(u.tags) : undefined,
  };
}

function groupDetail(g: IamGroup): QueryObject {
  return { ...groupShape(g), GroupPolicyList: inlineList(g.inlinePolicies), AttachedManagedPolicies: attachedList(g.attachedPolicies) };
}

function roleDetail(r: IamRole): QueryObject {
  const { Path, RoleName, RoleId, Arn, CreateDate, AssumeRolePolicyDocument } = roleShape(r, false);
  return {
    Path, RoleName, RoleId, Arn, CreateDate, AssumeRolePolicyDocument,
    InstanceProfileList: [],
    RolePolicyList: inlineList(r.inlinePolicies),
    AttachedManagedPolicies: attachedList(r.attachedPolicies),
    PermissionsBoundary: boundaryShape(r.permissionsBoundary),
    Tags: r.tags.length > 0 ? tagList(r.tags) : undefined,
    RoleLastUsed: {},
  };
}

/** ManagedPolicyDetail: the Policy structure without tags, with every version and its document. */
function policyDetail(p: PolicyView, usage: PolicyUsage | undefined): QueryObject {
  return { ...policyShape(p, usage, true), Tags: undefined, PolicyVersionList: p.versions.map((v) => versionShape(p, v, true)) };
}

type Item = { list: 'UserDetailList' | 'GroupDetailList' | 'RoleDetailList' | 'Policies'; key: string; detail: () => QueryObject };

/**
 * One Marker pages through the four lists in response order. AWS managed policies appear
 * only when something in the account uses them, as IAM reports them.
 */
const getAccountAuthorizationDetails: Handler = async (ctx) => {
  const r = reader(ctx);
  const filter = r.stringList('Filter', { each: { pattern: new RegExp(`^(?:${FILTERS.join('|')})$`), patternText: `[${FILTERS.join(', ')}]` } });
  const paging = readPaging(r);
  r.done();
  const want = (f: Filter): boolean => filter.length === 0 || filter.includes(f);
  const { meta, accountId } = ctx;
  const usage = await policyUsage(meta, accountId);
  const items: Item[] = [];
  if (want('User')) for (const u of await list(meta, accountId, 'user')) items.push({ list: 'UserDetailList', key: `0/${nameKey(u.name)}`, detail: () => userDetail(u) });
  if (want('Group')) for (const g of await list(meta, accountId, 'group')) items.push({ list: 'GroupDetailList', key: `1/${nameKey(g.name)}`, detail: () => groupDetail(g) });
  if (want('Role')) for (const x of await list(meta, accountId, 'role')) items.push({ list: 'RoleDetailList', key: `2/${nameKey(x.name)}`, detail: () => roleDetail(x) });
  const policies = [
    ...(want('LocalManagedPolicy') ? (await list(meta, accountId, 'policy')).map(localView) : []),
    ...(want('AWSManagedPolicy') ? awsViews().filter((p) => attachmentCount(usage.get(p.arn)) + boundaryCount(usage.get(p.arn)) > 0) : []),
  ];
  for (const p of policies) {
    const u = usage.get(p.arn);
    items.push({ list: 'Policies', key: `3/${nameKey(p.name)}/${p.aws ? 1 : 0}`, detail: () => policyDetail(p, u) });
  }
  const page = paginate(items, (i) => i.key, paging);
  const of = (name: Item['list']): QueryObject[] => page.page.filter((i) => i.list === name).map((i) => i.detail());
  return {
    UserDetailList: of('UserDetailList'),
    GroupDetailList: of('GroupDetailList'),
    RoleDetailList: of('RoleDetailList'),
    Policies: of('Policies'),
    IsTruncated: page.IsTruncated,
    Marker: page.Marker,
  };
};

export const ACCOUNT_ACTIONS = {
  GetAccountSummary: getAccountSummary,
  GetAccountAuthorizationDetails: getAccountAuthorizationDetails,
} satisfies Record<string, Handler>;
