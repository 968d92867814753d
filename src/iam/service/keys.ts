/**
 * Access keys: CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey and
 * GetAccessKeyLastUsed. Without UserName an action applies to the caller: an IAM user's
 * own keys, or the root's keys when the root calls. Key ids and secrets are generated and
 * sealed exactly as the admin tooling does (util/ids.ts, crypto/sse/envelope.ts).
 */
import { secretContext } from '../../auth/credentials.js';
import { sealSecret } from '../../crypto/sse/envelope.js';
import type { AccessKeyRecord } from '../../storage/ports.js';
import { newAccessKeyId, newSecretAccessKey } from '../../util/ids.js';
import { RULES } from '../api/query.js';
import { IamError } from '../api/xml.js';
import { type Ctx, type Handler, date, errors, impliedUserName, nameKey, nowIso, pageResult, paginate, readPaging, reader } from './common.js';
import { keysOf, requireUser } from './users.js';

const KEYS_PER_USER = 2;

/** The user an access-key action targets: its stored name, or null for the root. */
async function targetUser(ctx: Ctx, given: string | undefined): Promise<string | null> {
  const name = given ?? impliedUserName(ctx.caller);
  if (name === null) return null;
  return (await requireUser(ctx, name)).name;
}

const noSuchKey = (id: string): IamError => new IamError('NoSuchEntity', `The Access Key with id ${id} cannot be found.`);

/** The key, if it belongs to this account and to the target user (null: root). */
async function ownedKey(ctx: Ctx, id: string, user: string | null): Promise<AccessKeyRecord> {
  const k = await ctx.meta.getAccessKey(id);
  const owned = k !== undefined && k.accountId === ctx.accountId
    && (user === null ? k.userName === null : k.userName !== null && nameKey(k.userName) === nameKey(user));
  if (!owned) throw noSuchKey(id);
  return k;
}

const createAccessKey: Handler = async (ctx) => {
  const r = reader(ctx);
  const given = r.string('UserName', RULES.existingUserName);
  r.done();
  const user = await targetUser(ctx, given);
  if ((await keysOf(ctx, user)).length >= KEYS_PER_USER) throw errors.quota('AccessKeysPerUser', KEYS_PER_USER);
  let accessKeyId = newAccessKeyId();
  while (await ctx.meta.getAccessKey(accessKeyId)) accessKeyId = newAccessKeyId();
  const secret = newSecretAccessKey();
  const rec: AccessKeyRecord = {
    accessKeyId, accountId: ctx.accountId, userName: user, status: 'Active', createdAt: nowIso(ctx),
    secretSealed: sealSecret(ctx.keyring, secret, secretContext(accessKeyId)),
  };
  await ctx.meta.createAccessKey(rec);
  return {
    AccessKey: { UserName: user ?? undefined, AccessKeyId: accessKeyId, Status: rec.status, SecretAccessKey: secret, CreateDate: date(rec.createdAt) },
  };
};

const listAccessKeys: Handler = async (ctx) => {
  const r = reader(ctx);
  const given = r.string('UserName', RULES.existingUserName);
  const paging = readPaging(r);
  r.done();
  const user = await targetUser(ctx, given);
  const page = paginate(await keysOf(ctx, user), (k) => `${k.createdAt}/${k.accessKeyId}`, paging);
  const items = page.page.map((k) => ({ UserName: k.userName ?? undefined, AccessKeyId: k.accessKeyId, Status: k.status, CreateDate: date(k.createdAt) }));
  return pageResult('AccessKeyMetadata', items, page);
};

const updateAccessKey: Handler = async (ctx) => {
  const r = reader(ctx);
  const given = r.string('UserName', RULES.existingUserName);
  const id = r.string('AccessKeyId', { ...RULES.accessKeyId, required: true });
  const status = r.enum('Status', ['Active', 'Inactive'] as const, { required: true });
  r.done();
  const k = await ownedKey(ctx, id, await targetUser(ctx, given));
  await ctx.meta.setAccessKeyStatus(k.accessKeyId, status);
  return undefined;
};

const deleteAccessKey: Handler = async (ctx) => {
  const r = reader(ctx);
  const given = r.string('UserName', RULES.existingUserName);
  const id = r.string('AccessKeyId', { ...RULES.accessKeyId, required: true });
  r.done();
  const k = await ownedKey(ctx, id, await targetUser(ctx, given));
  await ctx.meta.deleteAccessKey(k.accessKeyId);
  return undefined;
};

const getAccessKeyLastUsed: Handler = async (ctx) => {
  const r = reader(ctx);
  const id = r.string('AccessKeyId', { ...RULES.accessKeyId, required: true });
  r.done();
  const k = await ctx.meta.getAccessKey(id);
  if (!k || k.accountId !== ctx.accountId) throw noSuchKey(id);
  // Kura does not record key use; AWS answers N/A (and no date) for a key never used.
  return { UserName: k.userName ?? undefined, AccessKeyLastUsed: { ServiceName: 'N/A', Region: 'N/A' } };
};

export const KEY_ACTIONS = {
  CreateAccessKey: createAccessKey,
  ListAccessKeys: listAccessKeys,
  UpdateAccessKey: updateAccessKey,
  DeleteAccessKey: deleteAccessKey,
  GetAccessKeyLastUsed: getAccessKeyLastUsed,
} satisfies Record<string, Handler>;
