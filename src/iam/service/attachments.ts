/**
 * Where managed policies are used: Attach/Detach{User,Group,Role}Policy,
 * ListAttached{User,Group,Role}Policies, Put/Delete{User,Role}PermissionsBoundary and
 * ListEntitiesForPolicy. Attachments are recorded in the entity documents as ARNs.
 */
import { RULES, type StringRule } from '../api/query.js';
import type { QueryObject } from '../api/xml.js';
import type { IamGroup, IamRole, IamUser } from '../model.js';
import { type Ctx, type Handler, errors, nameKey, pageResult, paginate, parseIamArn, readPaging, reader } from './common.js';
import { requireGroup } from './groups.js';
import { ARN_RULE, findPolicy, isWellFormedPolicyArn, policyUsage } from './policies.js';
import { requireRole } from './roles.js';
import { save } from './store.js';
import { checkBoundary, requireUser } from './users.js';

type Owner = 'user' | 'group' | 'role';

interface Family {
  param: 'UserName' | 'GroupName' | 'RoleName';
  nameRule: StringRule;
  quota: string;
  load: (ctx: Ctx, name: string) => Promise<IamUser | IamGroup | IamRole>;
}

const FAMILIES: Record<Owner, Family> = {
  user: { param: 'UserName', nameRule: RULES.existingUserName, quota: 'PoliciesPerUser', load: requireUser },
  group: { param: 'GroupName', nameRule: RULES.groupName, quota: 'PoliciesPerGroup', load: requireGroup },
  role: { param: 'RoleName', nameRule: RULES.roleName, quota: 'PoliciesPerRole', load: requireRole },
};

/** IAM's default quota of managed policies attached to one user, group or role. */
const ATTACHED_PER_ENTITY = 10;

function readAttachment(ctx: Ctx, f: Family): { entityName: string; arn: string } {
  const r = reader(ctx);
  const entityName = r.string(f.param, { ...f.nameRule, required: true });
  const arn = r.string('PolicyArn', { ...ARN_RULE, required: true });
  r.done();
  return { entityName, arn };
}

function attach(owner: Owner): Handler {
  const f = FAMILIES[owner];
  return async (ctx) => {
    const { entityName, arn } = readAttachment(ctx, f);
    const entity = await f.load(ctx, entityName);
    if (!isWellFormedPolicyArn(arn)) throw errors.invalidArn(arn);
    if (!(await findPolicy(ctx.meta, ctx.accountId, arn))) throw errors.notAttachable(arn);
    if (entity.attachedPolicies.includes(arn)) return undefined;
    if (entity.attachedPolicies.length >= ATTACHED_PER_ENTITY) throw errors.quota(f.quota, ATTACHED_PER_ENTITY);
    await save(ctx.meta, ctx.accountId, { ...entity, attachedPolicies: [...entity.attachedPolicies, arn] });
    return undefined;
  };
}

function detach(owner: Owner): Handler {
  const f = FAMILIES[owner];
  return async (ctx) => {
    const { entityName, arn } = readAttachment(ctx, f);
    const entity = await f.load(ctx, entityName);
    if (!isWellFormedPolicyArn(arn)) throw errors.invalidArn(arn);
    if (!entity.attachedPolicies.includes(arn)) throw errors.policyNotFound(arn);
    await save(ctx.meta, ctx.accountId, { ...entity, attachedPolicies: entity.attachedPolicies.filter((a) => a !== arn) });
    return undefined;
  };
}

function listAttached(owner: Owner): Handler {
  const f = FAMILIES[owner];
  return async (ctx) => {
    const r = reader(ctx);
    const entityName = r.string(f.param, { ...f.nameRule, required: true });
    const prefix = r.string('PathPrefix', RULES.pathPrefix) ?? '/';
    const paging = readPaging(r);
    r.done();
    const entity = await f.load(ctx, entityName);
    const items = entity.attachedPolicies
      .map((arn) => ({ arn, parts: parseIamArn(arn, 'policy') }))
      .filter((a) => (a.parts?.path ?? '/').startsWith(prefix))
      .map((a) => ({ PolicyName: a.parts?.name ?? a.arn, PolicyArn: a.arn }));
    const page = paginate(items, (a) => `${nameKey(a.PolicyName)}/${a.PolicyArn}`, paging);
    return pageResult('AttachedPolicies', page.page, page);
  };
}

function readBoundaryOwner(ctx: Ctx, f: Family, withArn: boolean): { entityName: string; arn: string | undefined } {
  const r = reader(ctx);
  const entityName = r.string(f.param, { ...f.nameRule, required: true });
  const arn = withArn ? r.string('PermissionsBoundary', { ...ARN_RULE, required: true }) : undefined;
  r.done();
  return { entityName, arn };
}

function putBoundary(owner: 'user' | 'role'): Handler {
  const f = FAMILIES[owner];
  return async (ctx) => {
    const { entityName, arn } = readBoundaryOwner(ctx, f, true);
    const entity = owner === 'user' ? await requireUser(ctx, entityName) : await requireRole(ctx, entityName);
    await checkBoundary(ctx, arn!);
    await save(ctx.meta, ctx.accountId, { ...entity, permissionsBoundary: arn });
    return undefined;
  };
}

function deleteBoundary(owner: 'user' | 'role'): Handler {
  const f = FAMILIES[owner];
  return async (ctx) => {
    const { entityName } = readBoundaryOwner(ctx, f, false);
    const entity = owner === 'user' ? await requireUser(ctx, entityName) : await requireRole(ctx, entityName);
    if (entity.permissionsBoundary === undefined) return undefined;
    // undefined members are not serialised: the document loses the field.
    await save(ctx.meta, ctx.accountId, { ...entity, permissionsBoundary: undefined });
    return undefined;
  };
}

const ENTITY_FILTERS = ['User', 'Role', 'Group', 'LocalManagedPolicy', 'AWSManagedPolicy'] as const;
const USAGE_FILTERS = ['PermissionsPolicy', 'PermissionsBoundary'] as const;

/**
 * The users, groups and roles using a policy. One Marker pages through all three lists
 * together (groups, then users, then roles — the order of IAM's response members).
 */
const listEntitiesForPolicy: Handler = async (ctx) => {
  const r = reader(ctx);
  const arn = r.string('PolicyArn', { ...ARN_RULE, required: true });
  const entityFilter = r.enum('EntityFilter', ENTITY_FILTERS);
  const prefix = r.string('PathPrefix', RULES.pathPrefix) ?? '/';
  const usageFilter = r.enum('PolicyUsageFilter', USAGE_FILTERS);
  const paging = readPaging(r);
  r.done();
  if (!isWellFormedPolicyArn(arn)) throw errors.invalidArn(arn);
  const policy = await findPolicy(ctx.meta, ctx.accountId, arn);
  if (!policy) throw errors.policyNotFound(arn);
  const u = (await policyUsage(ctx.meta, ctx.accountId)).get(arn);
  const permissions = usageFilter !== 'PermissionsBoundary';
  const boundaries = usageFilter !== 'PermissionsPolicy';
  // The policy filters select by the policy's own kind: they match all or nothing.
  const policyKindOk = entityFilter === 'LocalManagedPolicy' ? !policy.aws : entityFilter === 'AWSManagedPolicy' ? policy.aws : true;
  const kindFilter = entityFilter === 'User' || entityFilter === 'Group' || entityFilter === 'Role' ? entityFilter : undefined;
  const want = (kind: 'User' | 'Group' | 'Role'): boolean => policyKindOk && (kindFilter === undefined || kindFilter === kind);
  type Row = { kind: 0 | 1 | 2; name: string; id: string; path: string };
  const rows = new Map<string, Row>();
  const add = (kind: Row['kind'], e: { name: string; id: string; path: string }): void => {
    if (e.path.startsWith(prefix)) rows.set(`${kind}/${nameKey(e.name)}`, { kind, name: e.name, id: e.id, path: e.path });
  };
  if (want('Group') && permissions) for (const g of u?.groups ?? []) add(0, g);
  if (want('User')) {
    if (permissions) for (const x of u?.users ?? []) add(1, x);
    if (boundaries) for (const x of u?.boundaryUsers ?? []) add(1, x);
  }
  if (want('Role')) {
    if (permissions) for (const x of u?.roles ?? []) add(2, x);
    if (boundaries) for (const x of u?.boundaryRoles ?? []) add(2, x);
  }
  const page = paginate([...rows.entries()], ([k]) => k, paging);
  const of = (kind: Row['kind'], shape: (row: Row) => QueryObject): QueryObject[] => page.page.filter(([, x]) => x.kind === kind).map(([, x]) => shape(x));
  return {
    PolicyGroups: of(0, (x) => ({ GroupName: x.name, GroupId: x.id })),
    PolicyUsers: of(1, (x) => ({ UserName: x.name, UserId: x.id })),
    PolicyRoles: of(2, (x) => ({ RoleName: x.name, RoleId: x.id })),
    IsTruncated: page.IsTruncated,
    Marker: page.Marker,
  };
};

export const ATTACHMENT_ACTIONS = {
  AttachUserPolicy: attach('user'),
  DetachUserPolicy: detach('user'),
  ListAttachedUserPolicies: listAttached('user'),
  AttachGroupPolicy: attach('group'),
  DetachGroupPolicy: detach('group'),
  ListAttachedGroupPolicies: listAttached('group'),
  AttachRolePolicy: attach('role'),
  DetachRolePolicy: detach('role'),
  ListAttachedRolePolicies: listAttached('role'),
  PutUserPermissionsBoundary: putBoundary('user'),
  DeleteUserPermissionsBoundary: deleteBoundary('user'),
  PutRolePermissionsBoundary: putBoundary('role'),
  DeleteRolePermissionsBoundary: deleteBoundary('role'),
  ListEntitiesForPolicy: listEntitiesForPolicy,
} satisfies Record<string, Handler>;
