/**
 * Account and access-key administration, shared by the CLI and server start-up. Secrets
 * are sealed under the service master key before they reach the metadata store.
 */
import { secretContext } from '../auth/credentials.js';
import type { Keyring } from '../crypto/keyring.js';
import { sealSecret } from '../crypto/sse/envelope.js';
import type { AccessKeyRecord, AccountRecord, MetadataStore } from '../storage/ports.js';
import { newAccessKeyId, newAccountId, newCanonicalUserId, newSecretAccessKey } from '../util/ids.js';

export class AdminError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminError';
  }
}

export interface NewKey {
  accessKeyId: string;
  secretAccessKey: string;
}

const NAME_RE = /^[A-Za-z0-9+=,.@_-]{1,64}$/;

/** Creates an access key (given or generated) for an account's root. */
export async function createAccessKey(meta: MetadataStore, keyring: Keyring, accountId: string, given?: Partial<NewKey>): Promise<NewKey> {
  const accessKeyId = given?.accessKeyId ?? newAccessKeyId();
  const secretAccessKey = given?.secretAccessKey ?? newSecretAccessKey();
  if (!/^[A-Z0-9]{16,128}$/.test(accessKeyId)) throw new AdminError('access key id must be 16-128 upper-case letters and digits');
  if (secretAccessKey.length < 16 || secretAccessKey.length > 128) throw new AdminError('secret access key must be 16-128 characters');
  if (await meta.getAccessKey(accessKeyId)) throw new AdminError(`access key ${accessKeyId} already exists`);
  const rec: AccessKeyRecord = {
    accessKeyId,
    accountId,
    userName: null,
    secretSealed: sealSecret(keyring, secretAccessKey, secretContext(accessKeyId)),
    status: 'Active',
    createdAt: new Date().toISOString(),
  };
  await meta.createAccessKey(rec);
  return { accessKeyId, secretAccessKey };
}

/** Creates an account (tenant) with a root access key. */
export async function createAccount(meta: MetadataStore, keyring: Keyring, opts: { name: string; email?: string; key?: Partial<NewKey> }): Promise<{ account: AccountRecord; key: NewKey }> {
  if (!NAME_RE.test(opts.name)) throw new AdminError('account name must be 1-64 characters of letters, digits and +=,.@_-');
  if (await meta.getAccountByName(opts.name)) throw new AdminError(`account ${opts.name} already exists`);
  if (opts.key?.accessKeyId && (await meta.getAccessKey(opts.key.accessKeyId))) throw new AdminError(`access key ${opts.key.accessKeyId} already exists`);
  let id = newAccountId();
  while (await meta.getAccount(id)) id = newAccountId();
  const account: AccountRecord = { id, name: opts.name, canonicalId: newCanonicalUserId(), email: opts.email ?? null, createdAt: new Date().toISOString() };
  await meta.createAccount(account);
  const key = await createAccessKey(meta, keyring, id, opts.key);
  return { account, key };
}

/** Finds an account by id or name. */
export async function findAccount(meta: MetadataStore, idOrName: string): Promise<AccountRecord> {
  const a = /^\d{12}$/.test(idOrName) ? await meta.getAccount(idOrName) : await meta.getAccountByName(idOrName);
  if (!a) throw new AdminError(`no such account: ${idOrName}`);
  return a;
}
