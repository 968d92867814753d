/**
 * Inline policies of users, groups and roles: Put/Get/List/Delete{User,Group,Role}Policy.
 * The three families differ only in the entity they name, so one implementation serves
 * all twelve actions. Inline policy names are matched case-insensitively, like
 * every other IAM name; a Put under another spelling replaces the policy and keeps the
 * new spelling.
 */
import { RULES, type StringRule } from '../api/query.js';
import type { IamGroup, IamRole, IamUser, InlinePolicies } from '../model.js';
import { type Ctx, type Handler, errors, pageResult, paginate, readPaging, reader } from './common.js';
import { requireGroup } from './groups.js';
import { checkIdentityPolicy, checkInlineAggregate } from './policy-docs.js';
import { requireRole } from './roles.js';
import { save } from './store.js';
import { requireUser } from './users.js';

type Owner = 'user' | 'group' | 'role';

interface Family {
  param: 'UserName' | 'GroupName' | 'RoleName';
  nameRule: StringRule;
  load: (ctx: Ctx, name: string) => Promise<IamUser | IamGroup | IamRole>;
}

const FAMILIES: Record<Owner, Family> = {
  user: { param: 'UserName', nameRule: RULES.existingUserName, load: requireUser },
  group: { param: 'GroupName', nameRule: RULES.groupName, load: requireGroup },
  role: { param: 'RoleName', nameRule: RULES.roleName, load: requireRole },
};

const findName = (policies: InlinePolicies, name: string): string | undefined =>
  Object.keys(policies).find((k) => k.toLowerCase() === name.toLowerCase());

function putPolicy(owner: Owner): Handler {
  const f = FAMILIES[owner];
  return async (ctx) => {
    const r = reader(ctx);
    const entityName = r.string(f.param, { ...f.nameRule, required: true });
    const policyName = r.string('PolicyName', { ...RULES.policyName, required: true });
    const document = r.string('PolicyDocument', { ...RULES.policyDocument, required: true });
    r.done();
    const entity = await f.load(ctx, entityName);
    checkIdentityPolicy(document);
    checkInlineAggregate(owner, entity.name, entity.inlinePolicies, policyName, document);
    const policies = { ...entity.inlinePolicies };
    const old = findName(policies, policyName);
    if (old !== undefined) delete policies[old];
    policies[policyName] = document;
    await save(ctx.meta, ctx.accountId, { ...entity, inlinePolicies: policies });
    return undefined;
  };
}

function readNamed(ctx: Ctx, f: Family): { entityName: string; policyName: string } {
  const r = reader(ctx);
  const entityName = r.string(f.param, { ...f.nameRule, required: true });
  const policyName = r.string('PolicyName', { ...RULES.policyName, required: true });
  r.done();
  return { entityName, policyName };
}

/** The stored spelling of an existing inline policy's name; NoSuchEntity otherwise. */
function existingName(owner: Owner, policies: InlinePolicies, policyName: string): string {
  const name = findName(policies, policyName);
  if (name === undefined) throw errors.noSuchInline(owner, policyName);
  return name;
}

function getPolicy(owner: Owner): Handler {
  const f = FAMILIES[owner];
  return async (ctx) => {
    const { entityName, policyName } = readNamed(ctx, f);
    const entity = await f.load(ctx, entityName);
    const name = existingName(owner, entity.inlinePolicies, policyName);
    // IAM returns policy documents URL-encoded (RFC 3986).
    return { [f.param]: entity.name, PolicyName: name, PolicyDocument: encodeURIComponent(entity.inlinePolicies[name]!) };
  };
}

function listPolicies(owner: Owner): Handler {
  const f = FAMILIES[owner];
  return async (ctx) => {
    const r = reader(ctx);
    const entityName = r.string(f.param, { ...f.nameRule, required: true });
    const paging = readPaging(r);
    r.done();
    const entity = await f.load(ctx, entityName);
    const page = paginate(Object.keys(entity.inlinePolicies), (n) => n.toLowerCase(), paging);
    return pageResult('PolicyNames', page.page, page);
  };
}

function deletePolicy(owner: Owner): Handler {
  const f = FAMILIES[owner];
  return async (ctx) => {
    const { entityName, policyName } = readNamed(ctx, f);
    const entity = await f.load(ctx, entityName);
    const name = existingName(owner, entity.inlinePolicies, policyName);
    const policies = { ...entity.inlinePolicies };
    delete policies[name];
    await save(ctx.meta, ctx.accountId, { ...entity, inlinePolicies: policies });
    return undefined;
  };
}

export const INLINE_ACTIONS = {
  PutUserPolicy: putPolicy('user'),
  GetUserPolicy: getPolicy('user'),
  ListUserPolicies: listPolicies('user'),
  DeleteUserPolicy: deletePolicy('user'),
  PutGroupPolicy: putPolicy('group'),
  GetGroupPolicy: getPolicy('group'),
  ListGroupPolicies: listPolicies('group'),
  DeleteGroupPolicy: deletePolicy('group'),
  PutRolePolicy: putPolicy('role'),
  GetRolePolicy: getPolicy('role'),
  ListRolePolicies: listPolicies('role'),
  DeleteRolePolicy: deletePolicy('role'),
} satisfies Record<string, Handler>;
