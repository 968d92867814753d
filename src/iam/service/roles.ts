/**
 * Roles: CreateRole, GetRole, ListRoles, UpdateRole, UpdateRoleDescription,
 * UpdateAssumeRolePolicy, DeleteRole and role tags. Trust policies are validated as IAM
 * validates them, including that the AWS principals they name exist.
 */
import { RULES } from '../api/query.js';
import type { IamRole } from '../model.js';
import {
  type Ctx, type Handler, checkUniqueTagKeys, errors, iamArn, mergeTags, nameKey, newEntityId, nowIso, pageResult, paginate, readPaging, readTagKeys, readTags, reader, removeTags, roleShape, tagsPage,
} from './common.js';
import { ARN_RULE } from './policies.js';
import { checkTrustPolicy } from './policy-docs.js';
import { create, list, load, remove, save } from './store.js';
import { checkBoundary } from './users.js';

export const SESSION_DURATION_RULE = { min: 3600, max: 43200 } as const;
const DEFAULT_SESSION_DURATION = 3600;
const ROLE_DESCRIPTION_RULE = {
  max: 1000,
  pattern: /^[\t\n\r\u0020-\u007E\u00A1-\u00FF]*$/,
  patternText: '[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*',
} as const;

export async function requireRole(ctx: Ctx, name: string): Promise<IamRole> {
  const role = await load(ctx.meta, ctx.accountId, 'role', name);
  if (!role) throw errors.noSuchRole(name);
  return role;
}

const createRole: Handler = async (ctx) => {
  const r = reader(ctx);
  const path = r.string('Path', RULES.path) ?? '/';
  const name = r.string('RoleName', { ...RULES.roleName, required: true });
  const trust = r.string('AssumeRolePolicyDocument', { ...RULES.policyDocument, required: true });
  const description = r.string('Description', ROLE_DESCRIPTION_RULE);
  const maxSessionDuration = r.int('MaxSessionDuration', SESSION_DURATION_RULE) ?? DEFAULT_SESSION_DURATION;
  const boundary = r.string('PermissionsBoundary', ARN_RULE);
  const tags = readTags(r);
  r.done();
  checkUniqueTagKeys(tags);
  await checkTrustPolicy(ctx.meta, trust);
  if (boundary !== undefined) await checkBoundary(ctx, boundary);
  const role: IamRole = {
    kind: 'role', name, id: newEntityId('AROA'), path, arn: iamArn(ctx.accountId, 'role', path, name), createDate: nowIso(ctx),
    assumeRolePolicyDocument: trust, description, maxSessionDuration, tags, inlinePolicies: {}, attachedPolicies: [],
    permissionsBoundary: boundary,
  };
  await create(ctx.meta, ctx.accountId, role, () => errors.exists('Role', name));
  // CreateRole answers with the full role minus RoleLastUsed, which only GetRole reports.
  return { Role: { ...roleShape(role, true), RoleLastUsed: undefined } };
};

function readRoleName(ctx: Ctx): string {
  const r = reader(ctx);
  const name = r.string('RoleName', { ...RULES.roleName, required: true });
  r.done();
  return name;
}

const getRole: Handler = async (ctx) => ({ Role: roleShape(await requireRole(ctx, readRoleName(ctx)), true) });

const listRoles: Handler = async (ctx) => {
  const r = reader(ctx);
  const prefix = r.string('PathPrefix', RULES.pathPrefix) ?? '/';
  const paging = readPaging(r);
  r.done();
  const roles = (await list(ctx.meta, ctx.accountId, 'role')).filter((x) => x.path.startsWith(prefix));
  const page = paginate(roles, (x) => nameKey(x.name), paging);
  return pageResult('Roles', page.page.map((x) => roleShape(x, false)), page);
};

const updateRole: Handler = async (ctx) => {
  const r = reader(ctx);
  const name = r.string('RoleName', { ...RULES.roleName, required: true });
  const description = r.string('Description', ROLE_DESCRIPTION_RULE);
  const maxSessionDuration = r.int('MaxSessionDuration', SESSION_DURATION_RULE);
  r.done();
  const role = await requireRole(ctx, name);
  await save(ctx.meta, ctx.accountId, {
    ...role,
    description: description ?? role.description,
    maxSessionDuration: maxSessionDuration ?? role.maxSessionDuration,
  });
  // UpdateRoleResponse is an empty structure: the Result element is sent, empty.
  return {};
};

const updateRoleDescription: Handler = async (ctx) => {
  const r = reader(ctx);
  const name = r.string('RoleName', { ...RULES.roleName, required: true });
  const description = r.string('Description', { ...ROLE_DESCRIPTION_RULE, required: true });
  r.done();
  const role = { ...(await requireRole(ctx, name)), description };
  await save(ctx.meta, ctx.accountId, role);
  return { Role: roleShape(role, true) };
};

const updateAssumeRolePolicy: Handler = async (ctx) => {
  const r = reader(ctx);
  const name = r.string('RoleName', { ...RULES.roleName, required: true });
  const trust = r.string('PolicyDocument', { ...RULES.policyDocument, required: true });
  r.done();
  const role = await requireRole(ctx, name);
  await checkTrustPolicy(ctx.meta, trust);
  await save(ctx.meta, ctx.accountId, { ...role, assumeRolePolicyDocument: trust });
  return undefined;
};

const deleteRole: Handler = async (ctx) => {
  const role = await requireRole(ctx, readRoleName(ctx));
  if (Object.keys(role.inlinePolicies).length > 0) throw errors.deleteConflict('delete policies');
  if (role.attachedPolicies.length > 0) throw errors.deleteConflict('detach all policies');
  await remove(ctx.meta, ctx.accountId, 'role', role.name);
  return undefined;
};

const tagRole: Handler = async (ctx) => {
  const r = reader(ctx);
  const name = r.string('RoleName', { ...RULES.roleName, required: true });
  const tags = readTags(r, true);
  r.done();
  const role = await requireRole(ctx, name);
  await save(ctx.meta, ctx.accountId, { ...role, tags: mergeTags(role.tags, tags) });
  return undefined;
};

const untagRole: Handler = async (ctx) => {
  const r = reader(ctx);
  const name = r.string('RoleName', { ...RULES.roleName, required: true });
  const keys = readTagKeys(r);
  r.done();
  const role = await requireRole(ctx, name);
  await save(ctx.meta, ctx.accountId, { ...role, tags: removeTags(role.tags, keys) });
  return undefined;
};

const listRoleTags: Handler = async (ctx) => {
  const r = reader(ctx);
  const name = r.string('RoleName', { ...RULES.roleName, required: true });
  const paging = readPaging(r);
  r.done();
  const role = await requireRole(ctx, name);
  return tagsPage(role.tags, paging);
};

export const ROLE_ACTIONS = {
  CreateRole: createRole,
  GetRole: getRole,
  ListRoles: listRoles,
  UpdateRole: updateRole,
  UpdateRoleDescription: updateRoleDescription,
  UpdateAssumeRolePolicy: updateAssumeRolePolicy,
  DeleteRole: deleteRole,
  TagRole: tagRole,
  UntagRole: untagRole,
  ListRoleTags: listRoleTags,
} satisfies Record<string, Handler>;
