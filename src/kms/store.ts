/**
 * Typed access to KMS documents in the metadata store. Keys are stored under their key id;
 * aliases under an encoding of their name, because the store compares names
 * case-insensitively while KMS alias names are case-sensitive (alias/Prod and alias/prod
 * are two aliases). A document of the wrong kind means a corrupt store, not bad input.
 */
import { StorageConflict, type MetadataStore } from '../storage/ports.js';
import type { KmsAliasDoc, KmsKeyDoc } from './model.js';

function parse<T extends KmsKeyDoc | KmsAliasDoc>(kind: T['kind'], doc: string): T {
  const e = JSON.parse(doc) as T;
  if (e.kind !== kind) throw new Error(`KMS store: a ${kind} document holds a ${String((e as { kind?: unknown }).kind)}`);
  return e;
}

/**
 * The store name of an alias: each upper-case letter is preceded by `!`, which alias names
 * cannot contain, so the store's lower-casing maps distinct names to distinct keys.
 */
export const aliasStoreName = (aliasName: string): string => aliasName.replace(/[A-Z]/g, (c) => `!${c}`);

export async function loadKey(meta: MetadataStore, accountId: string, keyId: string): Promise<KmsKeyDoc | undefined> {
  const doc = await meta.getIamEntity(accountId, 'kms-key', keyId);
  return doc === undefined ? undefined : parse<KmsKeyDoc>('kms-key', doc);
}

/** A new key; ids are random UUIDs, so a conflict means a broken generator or store. */
export async function createKey(meta: MetadataStore, k: KmsKeyDoc): Promise<void> {
  await meta.putIamEntity(k.accountId, 'kms-key', k.keyId, JSON.stringify(k), 'create');
}

export async function saveKey(meta: MetadataStore, k: KmsKeyDoc): Promise<void> {
  await meta.putIamEntity(k.accountId, 'kms-key', k.keyId, JSON.stringify(k), 'replace');
}

export async function removeKey(meta: MetadataStore, accountId: string, keyId: string): Promise<void> {
  await meta.deleteIamEntity(accountId, 'kms-key', keyId);
}

export async function listKeys(meta: MetadataStore, accountId: string): Promise<KmsKeyDoc[]> {
  return (await meta.listIamEntities(accountId, 'kms-key')).map((d) => parse<KmsKeyDoc>('kms-key', d));
}

export async function loadAlias(meta: MetadataStore, accountId: string, aliasName: string): Promise<KmsAliasDoc | undefined> {
  const doc = await meta.getIamEntity(accountId, 'kms-alias', aliasStoreName(aliasName));
  return doc === undefined ? undefined : parse<KmsAliasDoc>('kms-alias', doc);
}

/** Stores a new alias; false when the name is taken. */
export async function createAlias(meta: MetadataStore, accountId: string, a: KmsAliasDoc): Promise<boolean> {
  try {
    await meta.putIamEntity(accountId, 'kms-alias', aliasStoreName(a.aliasName), JSON.stringify(a), 'create');
    return true;
  } catch (err) {
    if (err instanceof StorageConflict && err.kind === 'entity-exists') return false;
    throw err;
  }
}

export async function saveAlias(meta: MetadataStore, accountId: string, a: KmsAliasDoc): Promise<void> {
  await meta.putIamEntity(accountId, 'kms-alias', aliasStoreName(a.aliasName), JSON.stringify(a), 'replace');
}

export async function removeAlias(meta: MetadataStore, accountId: string, aliasName: string): Promise<void> {
  await meta.deleteIamEntity(accountId, 'kms-alias', aliasStoreName(aliasName));
}

/** Every alias of the account, ordered by name (code units), so that Marker pagination is stable. */
export async function listAliases(meta: MetadataStore, accountId: string): Promise<KmsAliasDoc[]> {
  const all = (await meta.listIamEntities(accountId, 'kms-alias')).map((d) => parse<KmsAliasDoc>('kms-alias', d));
  return all.sort((a, b) => (a.aliasName < b.aliasName ? -1 : a.aliasName > b.aliasName ? 1 : 0));
}
