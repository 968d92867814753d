/**
 * IAM users: CreateUser, GetUser, ListUsers, UpdateUser, DeleteUser and user tags.
 * A user's groups, attached policies and boundary live in its document; its access keys
 * and MFA devices refer to it by name and move with it on rename.
 */
import type { AccessKeyRecord } from '../../storage/ports.js';
import { RULES } from '../api/query.js';
import type { QueryObject } from '../api/xml.js';
import type { IamUser } from '../model.js';
import { IamError } from '../api/xml.js';
import {
  type Ctx, type Handler, checkUniqueTagKeys, date, errors, iamArn, impliedUserName, mergeTags, nameKey, newEntityId, nowIso, pageResult, paginate, readPaging, readTagKeys, readTags, reader, removeTags, rootArn, userShape, tagsPage,
} from './common.js';
import { ARN_RULE, findPolicy, isWellFormedPolicyArn } from './policies.js';
import { create, list, load, remove, rename, save } from './store.js';

export async function requireUser(ctx: Ctx, name: string): Promise<IamUser> {
  const u = await load(ctx.meta, ctx.accountId, 'user', name);
  if (!u) throw errors.noSuchUser(name);
  return u;
}

/** A permissions boundary must be an existing managed policy (customer or AWS managed). */
export async function checkBoundary(ctx: Ctx, arn: string): Promise<void> {
  const missing = new IamError('NoSuchEntity', `Scope ARN: ${arn} does not exist or is not attachable.`);
  if (!isWellFormedPolicyArn(arn)) throw errors.invalidArn(arn);
  if (!(await findPolicy(ctx.meta, ctx.accountId, arn))) throw missing;
}

/** Access keys of one user (null: the account root), matched as IAM matches names. */
export async function keysOf(ctx: Ctx, userName: string | null): Promise<AccessKeyRecord[]> {
  const all = await ctx.meta.listAccessKeys(ctx.accountId);
  return all.filter((k) => (userName === null ? k.userName === null : k.userName !== null && nameKey(k.userName) === nameKey(userName)));
}

const createUser: Handler = async (ctx) => {
  const r = reader(ctx);
  const name = r.string('UserName', { ...RULES.userName, required: true });
  const path = r.string('Path', RULES.path) ?? '/';
  const boundary = r.string('PermissionsBoundary', ARN_RULE);
  const tags = readTags(r);
  r.done();
  checkUniqueTagKeys(tags);
  if (boundary !== undefined) await checkBoundary(ctx, boundary);
  const user: IamUser = {
    kind: 'user', name, id: newEntityId('AIDA'), path, arn: iamArn(ctx.accountId, 'user', path, name), createDate: nowIso(ctx),
    tags, inlinePolicies: {}, attachedPolicies: [], groups: [], permissionsBoundary: boundary,
  };
  await create(ctx.meta, ctx.accountId, user, () => errors.exists('User', name));
  return { User: userShape(user, true) };
};

const getUser: Handler = async (ctx) => {
  const r = reader(ctx);
  const given = r.string('UserName', RULES.existingUserName);
  r.done();
  const name = given ?? impliedUserName(ctx.caller);
  if (name === null) {
    // The root user: AWS answers with the account id as UserId and no UserName or Path.
    const account = await ctx.meta.getAccount(ctx.accountId);
    const root: QueryObject = { UserId: ctx.accountId, Arn: rootArn(ctx.accountId), CreateDate: account ? date(account.createdAt) : undefined };
    return { User: root };
  }
  return { User: userShape(await requireUser(ctx, name), true) };
};

const listUsers: Handler = async (ctx) => {
  const r = reader(ctx);
  const prefix = r.string('PathPrefix', RULES.pathPrefix) ?? '/';
  const paging = readPaging(r);
  r.done();
  const users = (await list(ctx.meta, ctx.accountId, 'user')).filter((u) => u.path.startsWith(prefix));
  const page = paginate(users, (u) => nameKey(u.name), paging);
  return pageResult('Users', page.page.map((u) => userShape(u, false)), page);
};

const updateUser: Handler = async (ctx) => {
  const r = reader(ctx);
  const name = r.string('UserName', { ...RULES.existingUserName, required: true });
  const newName = r.string('NewUserName', RULES.userName);
  const newPath = r.string('NewPath', RULES.path);
  r.done();
  const user = await requireUser(ctx, name);
  const targetName = newName ?? user.name;
  const path = newPath ?? user.path;
  const updated: IamUser = { ...user, name: targetName, path, arn: iamArn(ctx.accountId, 'user', path, targetName) };
  await rename(ctx.meta, ctx.accountId, user.name, updated, () => errors.exists('User', targetName), async () => {
    if (targetName === user.name) return;
    // Key records name their user; ids and sealed secrets are kept, so the keys keep working.
    for (const k of await keysOf(ctx, user.name)) {
      await ctx.meta.deleteAccessKey(k.accessKeyId);
      await ctx.meta.createAccessKey({ ...k, userName: targetName });
    }
    for (const d of await list(ctx.meta, ctx.accountId, 'mfa')) {
      if (d.userName !== undefined && nameKey(d.userName) === nameKey(user.name)) await save(ctx.meta, ctx.accountId, { ...d, userName: targetName });
    }
  });
  return undefined;
};

const deleteUser: Handler = async (ctx) => {
  const r = reader(ctx);
  const name = r.string('UserName', { ...RULES.existingUserName, required: true });
  r.done();
  const user = await requireUser(ctx, name);
  if ((await keysOf(ctx, user.name)).length > 0) throw errors.deleteConflict('delete access keys');
  const devices = await list(ctx.meta, ctx.accountId, 'mfa');
  if (devices.some((d) => d.userName !== undefined && nameKey(d.userName) === nameKey(user.name))) throw errors.deleteConflict('delete MFA device');
  if (Object.keys(user.inlinePolicies).length > 0) throw errors.deleteConflict('delete policies');
  if (user.attachedPolicies.length > 0) throw errors.deleteConflict('detach all policies');
  if (user.groups.length > 0) throw errors.deleteConflict('remove users from group');
  await remove(ctx.meta, ctx.accountId, 'user', user.name);
  return undefined;
};

const tagUser: Handler = async (ctx) => {
  const r = reader(ctx);
  const name = r.string('UserName', { ...RULES.existingUserName, required: true });
  const tags = readTags(r, true);
  r.done();
  const user = await requireUser(ctx, name);
  await save(ctx.meta, ctx.accountId, { ...user, tags: mergeTags(user.tags, tags) });
  return undefined;
};

const untagUser: Handler = async (ctx) => {
  const r = reader(ctx);
  const name = r.string('UserName', { ...RULES.existingUserName, required: true });
  const keys = readTagKeys(r);
  r.done();
  const user = await requireUser(ctx, name);
  await save(ctx.meta, ctx.accountId, { ...user, tags: removeTags(user.tags, keys) });
  return undefined;
};

const listUserTags: Handler = async (ctx) => {
  const r = reader(ctx);
  const name = r.string('UserName', { ...RULES.existingUserName, required: true });
  const paging = readPaging(r);
  r.done();
  const user = await requireUser(ctx, name);
  return tagsPage(user.tags, paging);
};

export const USER_ACTIONS = {
  CreateUser: createUser,
  GetUser: getUser,
  ListUsers: listUsers,
  UpdateUser: updateUser,
  DeleteUser: deleteUser,
  TagUser: tagUser,
  UntagUser: untagUser,
  ListUserTags: listUserTags,
} satisfies Record<string, Handler>;
