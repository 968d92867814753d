/**
 * Groups and membership: CreateGroup, GetGroup, ListGroups, UpdateGroup, DeleteGroup,
 * AddUserToGroup, RemoveUserFromGroup, ListGroupsForUser. Membership is recorded in the
 * user documents (IamUser.groups), so a group's members are found by scanning the users.
 */
import { RULES } from '../api/query.js';
import type { IamGroup, IamUser } from '../model.js';
import {
  type Ctx, type Handler, errors, groupShape, iamArn, nameKey, newEntityId, nowIso, pageResult, paginate, readPaging, reader,
  userShape,
} from './common.js';
import { create, list, load, remove, rename, save } from './store.js';
import { requireUser } from './users.js';

const GROUPS_PER_USER = 10;

export async function requireGroup(ctx: Ctx, name: string): Promise<IamGroup> {
  const g = await load(ctx.meta, ctx.accountId, 'group', name);
  if (!g) throw errors.noSuchGroup(name);
  return g;
}

const isMember = (u: IamUser, group: string): boolean => u.groups.some((g) => nameKey(g) === nameKey(group));

export async function membersOf(ctx: Ctx, group: string): Promise<IamUser[]> {
  return (await list(ctx.meta, ctx.accountId, 'user')).filter((u) => isMember(u, group));
}

const createGroup: Handler = async (ctx) => {
  const r = reader(ctx);
  const name = r.string('GroupName', { ...RULES.groupName, required: true });
  const path = r.string('Path', RULES.path) ?? '/';
  r.done();
  const group: IamGroup = {
    kind: 'group', name, id: newEntityId('AGPA'), path, arn: iamArn(ctx.accountId, 'group', path, name), createDate: nowIso(ctx),
    inlinePolicies: {}, attachedPolicies: [],
  };
  await create(ctx.meta, ctx.accountId, group, () => errors.exists('Group', name));
  return { Group: groupShape(group) };
};

const getGroup: Handler = async (ctx) => {
  const r = reader(ctx);
  const name = r.string('GroupName', { ...RULES.groupName, required: true });
  const paging = readPaging(r);
  r.done();
  const group = await requireGroup(ctx, name);
  const page = paginate(await membersOf(ctx, group.name), (u) => nameKey(u.name), paging);
  return { Group: groupShape(group), ...pageResult('Users', page.page.map((u) => userShape(u, false)), page) };
};

const listGroups: Handler = async (ctx) => {
  const r = reader(ctx);
  const prefix = r.string('PathPrefix', RULES.pathPrefix) ?? '/';
  const paging = readPaging(r);
  r.done();
  const groups = (await list(ctx.meta, ctx.accountId, 'group')).filter((g) => g.path.startsWith(prefix));
  const page = paginate(groups, (g) => nameKey(g.name), paging);
  return pageResult('Groups', page.page.map(groupShape), page);
};

const updateGroup: Handler = async (ctx) => {
  const r = reader(ctx);
  const name = r.string('GroupName', { ...RULES.groupName, required: true });
  const newName = r.string('NewGroupName', RULES.groupName);
  const newPath = r.string('NewPath', RULES.path);
  r.done();
  const group = await requireGroup(ctx, name);
  const targetName = newName ?? group.name;
  const path = newPath ?? group.path;
  const updated: IamGroup = { ...group, name: targetName, path, arn: iamArn(ctx.accountId, 'group', path, targetName) };
  await rename(ctx.meta, ctx.accountId, group.name, updated, () => errors.exists('Group', targetName), async () => {
    if (targetName === group.name) return;
    for (const u of await membersOf(ctx, group.name)) {
      const groups = u.groups.map((g) => (nameKey(g) === nameKey(group.name) ? targetName : g));
      await save(ctx.meta, ctx.accountId, { ...u, groups });
    }
  });
  return undefined;
};

const deleteGroup: Handler = async (ctx) => {
  const r = reader(ctx);
  const name = r.string('GroupName', { ...RULES.groupName, required: true });
  r.done();
  const group = await requireGroup(ctx, name);
  if ((await membersOf(ctx, group.name)).length > 0) throw errors.deleteConflict('remove users from group');
  if (Object.keys(group.inlinePolicies).length > 0) throw errors.deleteConflict('delete policies');
  if (group.attachedPolicies.length > 0) throw errors.deleteConflict('detach all policies');
  await remove(ctx.meta, ctx.accountId, 'group', group.name);
  return undefined;
};

function readMembership(ctx: Ctx): { groupName: string; userName: string } {
  const r = reader(ctx);
  const groupName = r.string('GroupName', { ...RULES.groupName, required: true });
  const userName = r.string('UserName', { ...RULES.existingUserName, required: true });
  r.done();
  return { groupName, userName };
}

const addUserToGroup: Handler = async (ctx) => {
  const { groupName, userName } = readMembership(ctx);
  const group = await requireGroup(ctx, groupName);
  const user = await requireUser(ctx, userName);
  if (isMember(user, group.name)) return undefined;
  if (user.groups.length >= GROUPS_PER_USER) throw errors.quota('GroupsPerUser', GROUPS_PER_USER);
  await save(ctx.meta, ctx.accountId, { ...user, groups: [...user.groups, group.name] });
  return undefined;
};

const removeUserFromGroup: Handler = async (ctx) => {
  const { groupName, userName } = readMembership(ctx);
  const group = await requireGroup(ctx, groupName);
  const user = await requireUser(ctx, userName);
  if (!isMember(user, group.name)) throw errors.noSuchUser(userName);
  await save(ctx.meta, ctx.accountId, { ...user, groups: user.groups.filter((g) => nameKey(g) !== nameKey(group.name)) });
  return undefined;
};

/** The groups a user belongs to, skipping names whose group no longer exists. */
export async function groupsOf(ctx: Ctx, user: IamUser): Promise<IamGroup[]> {
  const out: IamGroup[] = [];
  for (const name of user.groups) {
    const g = await load(ctx.meta, ctx.accountId, 'group', name);
    if (g) out.push(g);
  }
  return out;
}

const listGroupsForUser: Handler = async (ctx) => {
  const r = reader(ctx);
  const name = r.string('UserName', { ...RULES.existingUserName, required: true });
  const paging = readPaging(r);
  r.done();
  const user = await requireUser(ctx, name);
  const page = paginate(await groupsOf(ctx, user), (g) => nameKey(g.name), paging);
  return pageResult('Groups', page.page.map(groupShape), page);
};

export const GROUP_ACTIONS = {
  CreateGroup: createGroup,
  GetGroup: getGroup,
  ListGroups: listGroups,
  UpdateGroup: updateGroup,
  DeleteGroup: deleteGroup,
  AddUserToGroup: addUserToGroup,
  RemoveUserFromGroup: removeUserFromGroup,
  ListGroupsForUser: listGroupsForUser,
} satisfies Record<string, Handler>;
