/**
 * What every KMS operation shares: the service's dependencies, and one call in progress
 * (`Call`) with key-reference resolution, authorization through the injected callback,
 * key-state rules, lazy automatic rotation and lazy deletion of expired keys, and the
 * facts the call's audit record will carry.
 *
 * Locking: every mutation of an account's KMS state runs under a per-account lock (the
 * metadata port makes a document write atomic, not a read-check-write). A call takes locks
 * through `Call.lock`, which is re-entrant for that call.
 */
import { randomUUID } from 'node:crypto';
import { callerArn, type SignedPrincipal } from '../auth/principal.js';
import type { Keyring } from '../crypto/keyring.js';
import { withAccountLock } from '../iam/service/lock.js';
import type { ContextValue } from '../iam/policy/request.js';
import type { MetadataStore } from '../storage/ports.js';
import type { Clock } from '../util/clock.js';
import { KmsError } from './errors.js';
import { grantAllowing } from './grants.js';
import type { Input } from './input.js';
import { MaterialCache, newMaterial } from './material.js';
import {
  PARTITION, ROTATION_DAYS, S3_MANAGED_ALIAS, UUID, aliasArn, keyArn,
  type KeyState, type KmsAliasDoc, type KmsGrant, type KmsKeyDoc,
} from './model.js';
import { s3ManagedKeyPolicy, s3ViaService } from './policy.js';
import * as store from './store.js';

// ---- the injected authorizer and the audit sink -------------------------------------------

export interface KmsAuthorizeRequest {
  caller: SignedPrincipal;
  /** e.g. 'kms:Decrypt'. */
  action: string;
  /**
   * The resource: a key ARN; an alias ARN (the alias half of CreateAlias, UpdateAlias and
   * DeleteAlias, which AWS authorizes on both the alias and the key); or '*' for CreateKey,
   * ListKeys, ListAliases and GenerateRandom.
   */
  keyArn: string;
  /** The account owning the resource (the caller's for '*' and aliases). */
  keyAccountId: string;
  /** The key policy (JSON) when the resource is a key; undefined: identity policies alone decide. */
  keyPolicy: string | undefined;
  /** Request context keys, lower-cased: the caller's plus kms:CallerAccount, kms:ViaService, kms:EncryptionContext:*, … */
  context: ReadonlyMap<string, ContextValue>;
}

export interface KmsAuthorizeResult {
  effect: 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';
  reason?: string;
  /**
   * false when the deny comes from a gate no grant can lift (the caller no longer exists, an
   * SCP, a session policy or the role's boundary): grants are then not consulted.
   */
  grantable?: boolean;
  /** Which kind of policy denied, for AWS's AccessDenied wording ("… in a resource-based policy"). */
  policyType?: 'identity-based' | 'resource-based' | 'service control' | 'permissions boundary' | 'session';
}

export type KmsAuthorize = (r: KmsAuthorizeRequest) => Promise<KmsAuthorizeResult> | KmsAuthorizeResult;

/** One record per KMS call, direct or on behalf of S3. Never holds plaintext, key material or policy text. */
export interface KmsAuditEvent {
  time: string;
  requestId: string;
  /** The S3 request a call was made for. */
  viaRequestId?: string;
  service: 'kms';
  operation: string;
  callerArn: string;
  /** The caller's account. */
  accountId: string;
  keyArn?: string;
  outcome: 'allowed' | 'denied' | 'error';
  errorCode?: string;
  reason?: string;
}

export interface KmsStats {
  dataKeyOperations: number;
  decryptOperations: number;
}

/** A call S3 makes on a principal's behalf (a forward access session). */
export interface Via {
  service: 's3';
  region: string;
  /** The S3 request id, recorded as viaRequestId. */
  requestId: string;
  /** The S3 request's context keys (lower-cased), if condition keys like aws:PrincipalTag should apply. */
  context?: ReadonlyMap<string, ContextValue>;
}

export interface KmsDeps {
  meta: MetadataStore;
  keyring: Keyring;
  clock: Clock;
  /** The region this server's KMS answers for: part of every key and alias ARN. */
  region: string;
  authorize: KmsAuthorize;
  audit?: (e: KmsAuditEvent) => void;
  /** Unwrapped material versions kept in memory (default 4096). */
  materialCacheSize?: number;
}

/** The service-wide state operations share. */
export interface Env {
  readonly deps: KmsDeps;
  readonly materials: MaterialCache;
  readonly stats: KmsStats;
}

// ---- helpers -----------------------------------------------------------------------------

const DAY_MS = 86_400_000;

export const addDays = (iso: string, days: number): string => new Date(Date.parse(iso) + days * DAY_MS).toISOString();

export const notFoundKey = (arn: string): KmsError => new KmsError('NotFoundException', `Key '${arn}' does not exist`);
export const notFoundAlias = (arn: string): KmsError => new KmsError('NotFoundException', `Alias ${arn} is not found.`);
const invalidKeyId = (ref: string): KmsError => new KmsError('NotFoundException', `Invalid keyId '${ref}'`);

/** Runs fn under the account's KMS lock (a key distinct from IAM's in the shared lock table). */
const withKmsLock = <T>(accountId: string, fn: () => Promise<T>): Promise<T> => withAccountLock(`kms:${accountId}`, fn);

/** Key states an operation accepts; the others fail as AWS's key-state table says. */
export function requireState(k: KmsKeyDoc, allowed: readonly KeyState[]): void {
  if (allowed.includes(k.keyState)) return;
  if (k.keyState === 'PendingDeletion') throw new KmsError('KMSInvalidStateException', `${k.arn} is pending deletion.`);
  // Only CancelKeyDeletion wants a key pending deletion.
  if (!allowed.includes('Enabled')) throw new KmsError('KMSInvalidStateException', `${k.arn} is not pending deletion.`);
  throw new KmsError('DisabledException', `${k.arn} is disabled.`);
}

export const ANY_STATE: readonly KeyState[] = ['Enabled', 'Disabled', 'PendingDeletion'];
export const NOT_PENDING: readonly KeyState[] = ['Enabled', 'Disabled'];
export const ENABLED: readonly KeyState[] = ['Enabled'];

/** The condition keys an encryption context contributes (names lower-cased: KMS matches context keys in conditions case-insensitively). */
export function encryptionContextKeys(ctx: Readonly<Record<string, string>> | undefined): Record<string, ContextValue> {
  const out: Record<string, ContextValue> = {};
  const keys = Object.keys(ctx ?? {});
  if (keys.length === 0) return out;
  out['kms:encryptioncontextkeys'] = keys;
  for (const k of keys) {
    const name = `kms:encryptioncontext:${k.toLowerCase()}`;
    // Two keys differing only in case: the first wins, as a condition can name only one.
    if (!(name in out)) out[name] = ctx![k]!;
  }
  return out;
}

/** aws:RequestTag/* and aws:TagKeys for a request that sets tags. */
export function requestTagKeys(tags: readonly { TagKey: string; TagValue: string }[] | undefined): Record<string, ContextValue> {
  const out: Record<string, ContextValue> = {};
  if (!tags || tags.length === 0) return out;
  out['aws:tagkeys'] = tags.map((t) => t.TagKey);
  for (const t of tags) out[`aws:requesttag/${t.TagKey.toLowerCase()}`] = t.TagValue;
  return out;
}

/** Adds a version of fresh material and makes it current. */
export function addMaterialVersion(env: Env, k: KmsKeyDoc, at: string, type: 'AUTOMATIC' | 'ON_DEMAND'): void {
  const version = Math.max(...k.material.map((m) => m.version)) + 1;
  const { entry, material } = newMaterial(env.deps.keyring, k.accountId, k.keyId, version, at, type);
  k.material.push(entry);
  k.currentVersion = version;
  env.materials.remember(k, entry, material);
}

/** A new key document with its first material version. */
export function newKeyDoc(env: Env, accountId: string, at: string, fields: Pick<KmsKeyDoc, 'description' | 'keyManager' | 'policy' | 'rotation' | 'tags'>): KmsKeyDoc {
  const keyId = randomUUID();
  const { entry, material } = newMaterial(env.deps.keyring, accountId, keyId, 1, at);
  env.materials.remember({ accountId, keyId }, entry, material);
  return {
    kind: 'kms-key', keyId, arn: keyArn(env.deps.region, accountId, keyId), accountId,
    keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT', origin: 'AWS_KMS', keyState: 'Enabled',
    creationDate: at, material: [entry], currentVersion: 1, ...fields,
  };
}

type Lock = <T>(accountId: string, fn: () => Promise<T>) => Promise<T>;

/** The account's AWS managed key for S3 (alias aws/s3), created on first use as AWS does. */
export async function ensureS3ManagedKey(env: Env, accountId: string, lock: Lock): Promise<KmsKeyDoc> {
  const { meta, region } = env.deps;
  const existing = async (): Promise<{ alias?: KmsAliasDoc; key?: KmsKeyDoc }> => {
    const alias = await store.loadAlias(meta, accountId, S3_MANAGED_ALIAS);
    return { alias, key: alias ? await store.loadKey(meta, accountId, alias.targetKeyId) : undefined };
  };
  const found = await existing();
  if (found.key) return found.key;
  return lock(accountId, async () => {
    const again = await existing();
    if (again.key) return again.key;
    const now = env.deps.clock.now().toISOString();
    const key = newKeyDoc(env, accountId, now, {
      description: 'Default key that protects my S3 objects when no other key is defined',
      keyManager: 'AWS',
      policy: s3ManagedKeyPolicy(accountId, region),
      // AWS managed keys rotate every year, always.
      rotation: { enabled: true, periodDays: ROTATION_DAYS.default, since: now, nextRotationDate: addDays(now, ROTATION_DAYS.default) },
      tags: [],
    });
    await store.createKey(meta, key);
    const alias: KmsAliasDoc = {
      kind: 'kms-alias', aliasName: S3_MANAGED_ALIAS, aliasArn: aliasArn(region, accountId, S3_MANAGED_ALIAS),
      targetKeyId: key.keyId, creationDate: now, lastUpdatedDate: now,
    };
    if (again.alias) await store.saveAlias(meta, accountId, alias);
    else await store.createAlias(meta, accountId, alias);
    return key;
  });
}

/** Removes a key whose deletion date has passed, and the aliases that pointed at it. Run under the account lock. */
async function purgeKey(env: Env, k: KmsKeyDoc): Promise<void> {
  const { meta } = env.deps;
  await store.removeKey(meta, k.accountId, k.keyId);
  for (const a of await store.listAliases(meta, k.accountId)) {
    if (a.targetKeyId === k.keyId) await store.removeAlias(meta, k.accountId, a.aliasName);
  }
  env.materials.forget(k.accountId, k.keyId);
}

export function isExpired(k: KmsKeyDoc, now: Date): boolean {
  return k.keyState === 'PendingDeletion' && k.deletionDate !== undefined && Date.parse(k.deletionDate) <= now.getTime();
}

// ---- one call ------------------------------------------------------------------------------

export interface ResolveOptions {
  /** Alias names and alias ARNs are accepted (cryptographic operations, DescribeKey). */
  aliases: boolean;
  /** Another account's key (by key ARN or alias ARN) is accepted. */
  crossAccount: boolean;
  /** A reference to the not-yet-created aws/s3 alias creates the AWS managed key (DescribeKey, S3). */
  createManaged?: boolean;
}

export interface Resolved {
  key: KmsKeyDoc;
  /** The alias name the request used, for kms:RequestAlias. */
  requestAlias?: string;
}

/** What an authorization is about. */
export type AuthTarget =
  | { kind: 'key'; key: KmsKeyDoc }
  | { kind: 'alias'; arn: string }
  | { kind: 'account' };

export class Call {
  /** For the audit record: the key the call is about (the first one resolved). */
  keyArn: string | undefined;
  /** For the audit record: why authorization refused. */
  reason: string | undefined;
  /** For the audit record: the grants that allowed what the policies did not, in order. */
  readonly grantsUsed: string[] = [];
  private readonly held = new Set<string>();

  constructor(
    readonly env: Env,
    readonly caller: SignedPrincipal,
    readonly operation: string,
    readonly input: Input,
    readonly context: ReadonlyMap<string, ContextValue>,
    readonly via?: Via,
  ) {}

  get accountId(): string {
    return this.caller.accountId;
  }

  get meta(): MetadataStore {
    return this.env.deps.meta;
  }

  get region(): string {
    return this.env.deps.region;
  }

  now(): Date {
    return this.env.deps.clock.now();
  }

  nowIso(): string {
    return this.now().toISOString();
  }

  noteKey(arn: string): void {
    this.keyArn ??= arn;
  }

  /**
   * Runs fn under an account's lock. Re-entrant within this call (a call runs its steps
   * one after another, never in parallel), so a step that may need the lock (a purge, the
   * aws/s3 key, a rotation) works both inside and outside a locked section.
   */
  async lock<T>(accountId: string, fn: () => Promise<T>): Promise<T> {
    if (this.held.has(accountId)) return fn();
    return withKmsLock(accountId, async () => {
      this.held.add(accountId);
      try {
        return await fn();
      } finally {
        this.held.delete(accountId);
      }
    });
  }

  /** Runs fn under the caller's account lock. */
  locked<T>(fn: () => Promise<T>): Promise<T> {
    return this.lock(this.accountId, fn);
  }

  /**
   * A key id, key ARN, alias name or alias ARN → the key. Alias names resolve in the
   * caller's account; another account's key is reachable by ARN only.
   */
  async resolveKey(ref: string, opts: ResolveOptions): Promise<Resolved> {
    let account = this.accountId;
    let keyId: string | undefined;
    let aliasName: string | undefined;
    if (ref.startsWith('arn:')) {
      const m = /^arn:([^:]+):kms:([^:]*):(\d{12}):(key\/(.+)|alias\/.+)$/.exec(ref);
      if (!m) throw invalidKeyId(ref);
      const [, partition, region, acct, resource, id] = m as unknown as [string, string, string, string, string, string | undefined];
      const isAlias = id === undefined;
      const gone = (): KmsError => (isAlias ? notFoundAlias(ref) : notFoundKey(ref));
      if (isAlias && !opts.aliases) throw invalidKeyId(ref);
      if (partition !== PARTITION || region !== this.region) throw gone();
      if (acct !== this.accountId && !opts.crossAccount) throw gone();
      account = acct;
      if (isAlias) aliasName = resource;
      else keyId = id;
    } else if (ref.startsWith('alias/')) {
      if (!opts.aliases) throw invalidKeyId(ref);
      aliasName = ref;
    } else {
      keyId = ref;
    }
    if (aliasName !== undefined) {
      const alias = await store.loadAlias(this.meta, account, aliasName);
      if (!alias) {
        if (aliasName === S3_MANAGED_ALIAS && opts.createManaged && account === this.accountId) {
          const key = await ensureS3ManagedKey(this.env, account, (a, fn) => this.lock(a, fn));
          this.noteKey(key.arn);
          return { key, requestAlias: aliasName };
        }
        throw notFoundAlias(aliasArn(this.region, account, aliasName));
      }
      keyId = alias.targetKeyId;
    }
    if (!UUID.test(keyId!)) throw invalidKeyId(ref);
    const key = await this.loadKey(account, keyId!.toLowerCase());
    return aliasName === undefined ? { key } : { key, requestAlias: aliasName };
  }

  /** A key by account and id; a missing or expired one → NotFoundException. */
  async loadKey(account: string, keyId: string): Promise<KmsKeyDoc> {
    const arn = keyArn(this.region, account, keyId);
    const key = await this.findKey(account, keyId);
    if (!key) throw notFoundKey(arn);
    this.noteKey(arn);
    return key;
  }

  /** A key by account and id, or undefined when it does not exist (any more). */
  async findKey(account: string, keyId: string): Promise<KmsKeyDoc | undefined> {
    const key = await store.loadKey(this.meta, account, keyId);
    if (!key) return undefined;
    if (isExpired(key, this.now())) {
      await this.purge(key);
      return undefined;
    }
    return key;
  }

  /** The caller's keys, expired ones purged (which also removes their aliases). */
  async liveKeys(): Promise<KmsKeyDoc[]> {
    const now = this.now();
    const out: KmsKeyDoc[] = [];
    for (const k of await store.listKeys(this.meta, this.accountId)) {
      if (isExpired(k, now)) await this.purge(k);
      else out.push(k);
    }
    return out;
  }

  /** Purges an expired key under its account's lock, so no alias write races the alias clean-up. */
  private async purge(k: KmsKeyDoc): Promise<void> {
    await this.lock(k.accountId, async () => {
      const fresh = await store.loadKey(this.meta, k.accountId, k.keyId);
      if (fresh && isExpired(fresh, this.now())) await purgeKey(this.env, fresh);
    });
  }

  /**
   * Asks the injected authorizer; a refusal → AccessDeniedException in AWS's words. `extra`
   * adds operation-specific condition keys (names lower-cased here).
   *
   * On a key, when the policies leave an implicit deny (never over an explicit one), a grant
   * of the key for this operation whose grantee is the caller and whose constraints hold for
   * `encryptionContext` allows the call; that grant is returned (undefined: the policies allowed).
   */
  async authorize(
    action: string, target: AuthTarget, extra: Record<string, ContextValue> = {}, encryptionContext?: Readonly<Record<string, string>>,
  ): Promise<KmsGrant | undefined> {
    const context = new Map(this.context);
    context.set('kms:calleraccount', this.caller.accountId);
    if (this.via) {
      context.set('kms:viaservice', s3ViaService(this.via.region));
      context.set('aws:viaawsservice', 'true');
    }
    let resource: string;
    let resourceAccount = this.accountId;
    let policy: string | undefined;
    if (target.kind === 'key') {
      const k = target.key;
      resource = k.arn;
      resourceAccount = k.accountId;
      policy = k.policy;
      context.set('kms:keyspec', k.keySpec);
      context.set('kms:keyusage', k.keyUsage);
      context.set('kms:keyorigin', k.origin);
      context.set('kms:multiregion', 'false');
      for (const t of k.tags) context.set(`aws:resourcetag/${t.TagKey.toLowerCase()}`, t.TagValue);
    } else {
      resource = target.kind === 'alias' ? target.arn : '*';
    }
    for (const [name, v] of Object.entries(extra)) context.set(name.toLowerCase(), v);
    const r = await this.env.deps.authorize({ caller: this.caller, action, keyArn: resource, keyAccountId: resourceAccount, keyPolicy: policy, context });
    if (r.effect === 'Allow') return undefined;
    if (r.effect === 'ImplicitDeny' && r.grantable !== false && target.kind === 'key') {
      const grant = grantAllowing(target.key, this.caller, action, encryptionContext);
      if (grant) {
        this.grantsUsed.push(grant.grantId);
        return grant;
      }
    }
    this.reason = r.reason ?? (r.effect === 'ExplicitDeny' ? 'explicit deny' : 'no policy allows');
    throw this.accessDenied(action, resource, r.effect, r.policyType ?? (policy === undefined ? 'identity-based' : 'resource-based'));
  }

  accessDenied(action: string, resource: string, effect: 'ExplicitDeny' | 'ImplicitDeny', policyType: string): KmsError {
    const who = callerArn(this.caller, PARTITION) ?? this.caller.accountId;
    const why = effect === 'ExplicitDeny'
      ? `with an explicit deny in a${/^[aeiou]/.test(policyType) ? 'n' : ''} ${policyType} policy`
      : `because no ${policyType} policy allows the ${action} action`;
    return new KmsError('AccessDeniedException', `User: ${who} is not authorized to perform: ${action} on resource: ${resource} ${why}`);
  }

  /**
   * AWS managed keys cannot be changed by users: AWS's own key policy for them allows no
   * management action, so even a caller the authorizer let through is refused the same way.
   */
  refuseManaged(k: KmsKeyDoc, action: string): void {
    if (k.keyManager !== 'AWS') return;
    this.reason = 'AWS managed key';
    throw this.accessDenied(action, k.arn, 'ImplicitDeny', 'resource-based');
  }

  /**
   * Performs a due automatic rotation before the key seals anything (rotation is lazy: it
   * happens on the first use after its date).
   */
  async rotateIfDue(k: KmsKeyDoc): Promise<KmsKeyDoc> {
    if (!rotationDue(k, this.now())) return k;
    return this.lock(k.accountId, async () => {
      const fresh = await this.findKey(k.accountId, k.keyId);
      if (!fresh) throw notFoundKey(k.arn);
      const now = this.now();
      if (!rotationDue(fresh, now)) return fresh;
      const at = now.toISOString();
      addMaterialVersion(this.env, fresh, at, 'AUTOMATIC');
      fresh.rotation.since = at;
      fresh.rotation.nextRotationDate = addDays(at, fresh.rotation.periodDays);
      await store.saveKey(this.meta, fresh);
      return fresh;
    });
  }
}

function rotationDue(k: KmsKeyDoc, now: Date): boolean {
  const next = k.rotation.nextRotationDate;
  return k.rotation.enabled && k.keyState === 'Enabled' && next !== undefined && Date.parse(next) <= now.getTime();
}
