/**
 * Typed access to the IAM entity documents in the metadata store. Documents are JSON the
 * service wrote itself; a document of the wrong kind means a corrupt store, not bad input.
 */
import { StorageConflict, type MetadataStore } from '../../storage/ports.js';
import type { IamError } from '../api/xml.js';
import type { IamGroup, IamManagedPolicy, IamRole, IamUser, MfaDevice, OidcProvider, Tag } from '../model.js';

/**
 * A virtual MFA device as stored. Beyond the model: the device's tags, and the last TOTP
 * counter accepted, persisted so a restart does not reopen the replay window.
 */
export interface MfaDoc extends MfaDevice {
  tags?: Tag[];
  lastCounter?: number;
}

interface Kinds {
  user: IamUser;
  group: IamGroup;
  role: IamRole;
  policy: IamManagedPolicy;
  mfa: MfaDoc;
  'oidc-provider': OidcProvider;
}
export type Kind = keyof Kinds;
export type Entity = Kinds[Kind];

function parse<K extends Kind>(kind: K, doc: string): Kinds[K] {
  const e = JSON.parse(doc) as Entity;
  if (e.kind !== kind) throw new Error(`IAM store: a ${kind} document holds a ${e.kind}`);
  return e as Kinds[K];
}

export async function load<K extends Kind>(meta: MetadataStore, accountId: string, kind: K, name: string): Promise<Kinds[K] | undefined> {
  const doc = await meta.getIamEntity(accountId, kind, name);
  return doc === undefined ? undefined : parse(kind, doc);
}

/** Every entity of a kind, ordered by lower-cased name (the store's order). */
export async function list<K extends Kind>(meta: MetadataStore, accountId: string, kind: K): Promise<Kinds[K][]> {
  return (await meta.listIamEntities(accountId, kind)).map((d) => parse(kind, d));
}

/** Stores a new entity; `exists` is the error when the name is taken (in any case). */
export async function create(meta: MetadataStore, accountId: string, e: Entity, exists: () => IamError): Promise<void> {
  try {
    await meta.putIamEntity(accountId, e.kind, e.name, JSON.stringify(e), 'create');
  } catch (err) {
    if (err instanceof StorageConflict && err.kind === 'entity-exists') throw exists();
    throw err;
  }
}

/** Replaces an entity stored under the same name (case-insensitively). */
export async function save(meta: MetadataStore, accountId: string, e: Entity): Promise<void> {
  await meta.putIamEntity(accountId, e.kind, e.name, JSON.stringify(e), 'replace');
}

export async function remove(meta: MetadataStore, accountId: string, kind: Kind, name: string): Promise<void> {
  await meta.deleteIamEntity(accountId, kind, name);
}

/**
 * Stores `e` under a new name, replacing the document stored under `oldName`; `between`
 * moves what refers to the entity by name (access keys, memberships). A change of case
 * only is the same store key, so it is a plain replace. Otherwise the new document is
 * written first and the old one removed last: interrupted, the entity exists twice
 * rather than not at all, and nothing refers to a name that has no document.
 */
export async function rename(
  meta: MetadataStore, accountId: string, oldName: string, e: Entity, exists: () => IamError, between?: () => Promise<void>,
): Promise<void> {
  if (oldName.toLowerCase() === e.name.toLowerCase()) {
    await save(meta, accountId, e);
    await between?.();
    return;
  }
  await create(meta, accountId, e, exists);
  await between?.();
  await remove(meta, accountId, e.kind, oldName);
}
