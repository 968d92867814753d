/**
 * Aliases: CreateAlias, UpdateAlias, DeleteAlias, ListAliases. An alias belongs to the
 * caller's account and points at one of its keys. AWS authorizes alias writes twice: on
 * the alias (identity policies only) and on each key involved (key policy). Names under
 * alias/aws/ belong to AWS managed keys and cannot be written by users.
 */
import { KmsError, constraintError } from './errors.js';
import { NOT_PENDING, notFoundAlias, requireState, type Call } from './core.js';
import { AWS_ALIAS_PREFIX, MAX_ALIASES_PER_KEY, S3_MANAGED_ALIAS, aliasArn, aliasEntry, type KmsAliasDoc, type KmsKeyDoc } from './model.js';
import { KEY_ID_RULE, OWN_KEY, type Op } from './ops-keys.js';
import { paginate, readPaging } from './paging.js';
import * as store from './store.js';

const ALIAS_NAME_RULE = { required: true, min: 1, max: 256 } as const;
/** The model's pattern (it admits ':', which KMS then refuses itself). */
const ALIAS_PATTERN = /^[a-zA-Z0-9:/_-]+$/;

/** Checks an alias name a user wants to write. */
function checkAliasName(name: string): void {
  if (!ALIAS_PATTERN.test(name)) throw constraintError('AliasName', name, `Member must satisfy regular expression pattern: ${ALIAS_PATTERN.source}`);
  if (!name.startsWith('alias/')) {
    throw new KmsError('ValidationException', 'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html');
  }
  if (name.startsWith(AWS_ALIAS_PREFIX)) throw new KmsError('NotAuthorizedException', `The alias prefix ${AWS_ALIAS_PREFIX} is reserved for AWS managed keys.`);
  if (name.includes(':')) throw new KmsError('ValidationException', `${name} contains invalid characters for an alias`);
  if (name === 'alias/') throw new KmsError('InvalidAliasNameException', 'An alias name must have at least one character after alias/.');
}

/** TargetKeyId names a key (id or ARN), never another alias. */
function checkTargetIsKey(ref: string): void {
  if (ref.startsWith('alias/') || /^arn:[^:]*:kms:[^:]*:[^:]*:alias\//.test(ref)) throw new KmsError('ValidationException', 'Aliases must refer to keys. Not aliases');
}

async function checkAliasQuota(call: Call, key: KmsKeyDoc): Promise<void> {
  const count = (await store.listAliases(call.meta, call.accountId)).filter((a) => a.targetKeyId === key.keyId).length;
  if (count >= MAX_ALIASES_PER_KEY) throw new KmsError('LimitExceededException', `A KMS key can have at most ${MAX_ALIASES_PER_KEY} aliases: ${key.arn}`);
}

const createAlias: Op = async (call) => {
  const name = call.input.string('AliasName', ALIAS_NAME_RULE);
  const target = call.input.string('TargetKeyId', KEY_ID_RULE);
  checkAliasName(name);
  checkTargetIsKey(target);
  return call.locked(async () => {
    const { key } = await call.resolveKey(target, OWN_KEY);
    const arn = aliasArn(call.region, call.accountId, name);
    await call.authorize('kms:CreateAlias', { kind: 'alias', arn });
    await call.authorize('kms:CreateAlias', { kind: 'key', key });
    call.refuseManaged(key, 'kms:CreateAlias');
    requireState(key, NOT_PENDING);
    await checkAliasQuota(call, key);
    const now = call.nowIso();
    const doc: KmsAliasDoc = { kind: 'kms-alias', aliasName: name, aliasArn: arn, targetKeyId: key.keyId, creationDate: now, lastUpdatedDate: now };
    if (!(await store.createAlias(call.meta, call.accountId, doc))) throw new KmsError('AlreadyExistsException', `An alias with the name ${arn} already exists`);
    return {};
  });
};

const updateAlias: Op = async (call) => {
  const name = call.input.string('AliasName', ALIAS_NAME_RULE);
  const target = call.input.string('TargetKeyId', KEY_ID_RULE);
  checkAliasName(name);
  checkTargetIsKey(target);
  return call.locked(async () => {
    const arn = aliasArn(call.region, call.accountId, name);
    const alias = await store.loadAlias(call.meta, call.accountId, name);
    if (!alias) throw notFoundAlias(arn);
    const { key } = await call.resolveKey(target, OWN_KEY);
    await call.authorize('kms:UpdateAlias', { kind: 'alias', arn });
    const previous = await call.findKey(call.accountId, alias.targetKeyId);
    if (previous) await call.authorize('kms:UpdateAlias', { kind: 'key', key: previous });
    await call.authorize('kms:UpdateAlias', { kind: 'key', key });
    call.refuseManaged(key, 'kms:UpdateAlias');
    requireState(key, NOT_PENDING);
    if (alias.targetKeyId !== key.keyId) await checkAliasQuota(call, key);
    alias.targetKeyId = key.keyId;
    alias.lastUpdatedDate = call.nowIso();
    await store.saveAlias(call.meta, call.accountId, alias);
    return {};
  });
};

const deleteAlias: Op = async (call) => {
  const name = call.input.string('AliasName', ALIAS_NAME_RULE);
  checkAliasName(name);
  return call.locked(async () => {
    const arn = aliasArn(call.region, call.accountId, name);
    const alias = await store.loadAlias(call.meta, call.accountId, name);
    if (!alias) throw notFoundAlias(arn);
    await call.authorize('kms:DeleteAlias', { kind: 'alias', arn });
    const key = await call.findKey(call.accountId, alias.targetKeyId);
    if (key) {
      call.noteKey(key.arn);
      await call.authorize('kms:DeleteAlias', { kind: 'key', key });
    }
    await store.removeAlias(call.meta, call.accountId, name);
    return {};
  });
};

const listAliases: Op = async (call) => {
  const ref = call.input.string('KeyId', { min: 1, max: 2048 });
  const paging = readPaging(call.input, 100, 50);
  await call.authorize('kms:ListAliases', { kind: 'account' });
  const keyId = ref === undefined ? undefined : (await call.resolveKey(ref, OWN_KEY)).key.keyId;
  // Purging expired keys first also removes the aliases that pointed at them.
  await call.liveKeys();
  const aliases = (await store.listAliases(call.meta, call.accountId)).filter((a) => keyId === undefined || a.targetKeyId === keyId);
  const entries: Record<string, unknown>[] = aliases.map(aliasEntry);
  if (keyId === undefined && !aliases.some((a) => a.aliasName === S3_MANAGED_ALIAS)) {
    // AWS lists the predefined alias of an AWS managed key not created yet, without a target.
    entries.push({ AliasName: S3_MANAGED_ALIAS, AliasArn: aliasArn(call.region, call.accountId, S3_MANAGED_ALIAS) });
  }
  const page = paginate(entries, (e) => e.AliasName as string, paging);
  return { Aliases: page.items, ...page.members };
};

export const ALIAS_OPS: Record<string, Op> = {
  CreateAlias: createAlias,
  UpdateAlias: updateAlias,
  DeleteAlias: deleteAlias,
  ListAliases: listAliases,
};
