/**
 * Grants: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant. Grants
 * live in their key's document (`KmsKeyDoc.grants`); what they allow is decided in
 * Call.authorize through grants.ts. Writes run under the lock of the key's account (grants
 * may be created, retired and revoked on another account's key, by key ARN).
 */
import type { ContextValue } from '../iam/policy/request.js';
import { ANY_STATE, NOT_PENDING, isExpired, notFoundKey, requireState, type Call, type ResolveOptions } from './core.js';
import { KmsError, constraintError } from './errors.js';
import {
  GRANT_ID, GRANT_OPERATIONS, PRINCIPAL_ARN, SUPPORTED_GRANT_OPERATIONS, isPrincipal, newGrantId, newGrantToken, parseGrantToken,
} from './grants.js';
import type { Input } from './input.js';
import {
  MAX_GRANTS_PER_KEY, PARTITION, epochSeconds, keyArn,
  type GrantConstraints, type KmsGrant, type KmsKeyDoc,
} from './model.js';
import { KEY_ID_RULE, type Op } from './ops-keys.js';
import { paginate, readPaging } from './paging.js';
import * as store from './store.js';

/** Grant operations name a key by key id or key ARN (no alias), in any account. */
const GRANT_REF: ResolveOptions = { aliases: false, crossAccount: true };
const PRINCIPAL_RULE = { min: 1, max: 256, pattern: /^[\w+=,.@:/-]+$/ } as const;
const NAME_RULE = { min: 1, max: 256, pattern: /^[a-zA-Z0-9:/_-]+$/ } as const;
const GRANT_ID_RULE = { min: 1, max: 128 } as const;
const GRANT_TOKEN_RULE = { min: 1, max: 8192 } as const;

function dryRun(call: Call): void {
  if (call.input.bool('DryRun') === true) throw new KmsError('DryRunOperationException', 'The request would have succeeded, but the DryRun option is set.');
}

function readPrincipal(input: Input, member: string, required: boolean): string | undefined {
  const v = required ? input.string(member, { ...PRINCIPAL_RULE, required: true }) : input.string(member, PRINCIPAL_RULE);
  if (v !== undefined && !PRINCIPAL_ARN.test(v)) throw new KmsError('ValidationException', `${member} '${v}' is not a valid principal: use the ARN of an account (root), IAM user, IAM role or assumed-role session.`);
  return v;
}

function readGrantId(input: Input, required: boolean): string | undefined {
  const v = required ? input.string('GrantId', { ...GRANT_ID_RULE, required: true }) : input.string('GrantId', GRANT_ID_RULE);
  if (v !== undefined && !GRANT_ID.test(v)) throw new KmsError('InvalidGrantIdException', `Invalid grant ID '${v}'.`);
  return v;
}

function readOperations(input: Input): string[] {
  const ops = input.stringList('Operations', { required: true })!;
  if (ops.length === 0) throw constraintError('Operations', null, 'Member must have length greater than or equal to 1');
  for (const op of ops) {
    if (!(GRANT_OPERATIONS as readonly string[]).includes(op)) {
      throw constraintError('Operations', `[${ops.join(', ')}]`, `Member must satisfy constraint: [Member must satisfy enum value set: [${GRANT_OPERATIONS.join(', ')}]]`);
    }
    if (!SUPPORTED_GRANT_OPERATIONS.includes(op)) {
      throw new KmsError('ValidationException', `Grant operation ${op} is not valid for a symmetric encryption KMS key (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT).`);
    }
  }
  return [...new Set(ops)];
}

function readConstraints(input: Input): GrantConstraints | undefined {
  const c = input.struct('Constraints');
  if (!c) return undefined;
  const out: GrantConstraints = {};
  const subset = c.context('EncryptionContextSubset');
  const equals = c.context('EncryptionContextEquals');
  if (subset !== undefined) out.EncryptionContextSubset = subset;
  if (equals !== undefined) out.EncryptionContextEquals = equals;
  return subset === undefined && equals === undefined ? undefined : out;
}

const sorted = (o: Record<string, string> | undefined): [string, string][] | null =>
  o === undefined ? null : Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** What makes two CreateGrant requests "the same parameters" for an idempotent Name. */
const grantParams = (g: Pick<KmsGrant, 'granteePrincipal' | 'retiringPrincipal' | 'operations' | 'constraints'>): string => JSON.stringify([
  g.granteePrincipal, g.retiringPrincipal ?? null, [...g.operations].sort(),
  sorted(g.constraints?.EncryptionContextSubset), sorted(g.constraints?.EncryptionContextEquals),
]);

const contains = (outer: Record<string, string>, inner: Record<string, string>): boolean =>
  Object.entries(inner).every(([k, v]) => Object.hasOwn(outer, k) && outer[k] === v);

/**
 * A grantee creating a grant through a grant that allows CreateGrant may only pass on what
 * it holds: the same operations or fewer, and constraints at least as strict.
 */
function withinParent(parent: KmsGrant, ops: readonly string[], c: GrantConstraints | undefined): boolean {
  if (!ops.every((op) => parent.operations.includes(op))) return false;
  const p = parent.constraints;
  if (p?.EncryptionContextEquals) {
    const eq = c?.EncryptionContextEquals;
    if (!eq || JSON.stringify(sorted(eq)) !== JSON.stringify(sorted(p.EncryptionContextEquals))) return false;
  }
  if (p?.EncryptionContextSubset) {
    const need = p.EncryptionContextSubset;
    const ok = (c?.EncryptionContextSubset !== undefined && contains(c.EncryptionContextSubset, need))
      || (c?.EncryptionContextEquals !== undefined && contains(c.EncryptionContextEquals, need));
    if (!ok) return false;
  }
  return true;
}

/** Resolves a key, then runs fn on a fresh copy under its account's lock. */
async function withKeyLocked<R>(call: Call, ref: string, fn: (key: KmsKeyDoc) => Promise<R>): Promise<R> {
  const { key: first } = await call.resolveKey(ref, GRANT_REF);
  return call.lock(first.accountId, async () => {
    const key = await call.findKey(first.accountId, first.keyId);
    if (!key) throw notFoundKey(first.arn);
    return fn(key);
  });
}

const grantNotFound = (grantId: string): KmsError => new KmsError('NotFoundException', `Grant ID ${grantId} not found`);

/** The Grants entry of ListGrants and ListRetirableGrants. */
function grantEntry(key: KmsKeyDoc, g: KmsGrant): Record<string, unknown> {
  return {
    KeyId: key.arn,
    GrantId: g.grantId,
    ...(g.name !== undefined ? { Name: g.name } : {}),
    CreationDate: epochSeconds(g.creationDate),
    GranteePrincipal: g.granteePrincipal,
    ...(g.retiringPrincipal !== undefined ? { RetiringPrincipal: g.retiringPrincipal } : {}),
    IssuingAccount: g.issuingAccount,
    Operations: [...g.operations],
    ...(g.constraints ? { Constraints: g.constraints } : {}),
  };
}

const createGrant: Op = async (call) => {
  const { input } = call;
  const ref = input.string('KeyId', KEY_ID_RULE);
  const grantee = readPrincipal(input, 'GranteePrincipal', true)!;
  const retiring = readPrincipal(input, 'RetiringPrincipal', false);
  const operations = readOperations(input);
  const constraints = readConstraints(input);
  const name = input.string('Name', NAME_RULE);
  input.stringList('GrantTokens', { each: { min: 1, max: 8192 } });

  const extra: Record<string, ContextValue> = { 'kms:GranteePrincipal': grantee, 'kms:GrantOperations': operations };
  if (retiring !== undefined) extra['kms:RetiringPrincipal'] = retiring;
  const types = Object.keys(constraints ?? {});
  if (types.length > 0) extra['kms:GrantConstraintType'] = types.length === 1 ? types[0]! : types;

  return withKeyLocked(call, ref, async (key) => {
    const parent = await call.authorize('kms:CreateGrant', { kind: 'key', key }, extra);
    if (parent && !withinParent(parent, operations, constraints)) {
      call.reason = `grant ${parent.grantId} does not cover the requested grant`;
      throw call.accessDenied('kms:CreateGrant', key.arn, 'ImplicitDeny', 'resource-based');
    }
    requireState(key, NOT_PENDING);
    const grants = key.grants ?? [];
    const params = grantParams({ granteePrincipal: grantee, retiringPrincipal: retiring, operations, constraints });
    if (name !== undefined) {
      const same = grants.find((g) => g.name === name && grantParams(g) === params);
      if (same) {
        dryRun(call);
        return { GrantId: same.grantId, GrantToken: same.grantToken };
      }
    }
    if (grants.length >= MAX_GRANTS_PER_KEY) throw new KmsError('LimitExceededException', `The key ${key.arn} has the maximum number of grants (${MAX_GRANTS_PER_KEY}).`);
    dryRun(call);
    const grantId = newGrantId();
    const grant: KmsGrant = {
      grantId, grantToken: newGrantToken(key.accountId, key.keyId, grantId),
      ...(name !== undefined ? { name } : {}),
      granteePrincipal: grantee,
      ...(retiring !== undefined ? { retiringPrincipal: retiring } : {}),
      operations,
      ...(constraints ? { constraints } : {}),
      issuingAccount: `arn:${PARTITION}:iam::${call.accountId}:root`,
      creationDate: call.nowIso(),
    };
    key.grants = [...grants, grant];
    await store.saveKey(call.meta, key);
    return { GrantId: grant.grantId, GrantToken: grant.grantToken };
  });
};

/** Grants sort by creation, then id: a stable order for Marker. */
const grantOrder = (g: KmsGrant): string => `${g.creationDate}/${g.grantId}`;

const listGrants: Op = async (call) => {
  const { input } = call;
  const ref = input.string('KeyId', KEY_ID_RULE);
  const paging = readPaging(input, 100, 50);
  const grantId = readGrantId(input, false);
  const grantee = input.string('GranteePrincipal', PRINCIPAL_RULE);
  const { key } = await call.resolveKey(ref, GRANT_REF);
  await call.authorize('kms:ListGrants', { kind: 'key', key });
  requireState(key, ANY_STATE);
  const grants = (key.grants ?? []).filter((g) => (grantId === undefined || g.grantId === grantId) && (grantee === undefined || g.granteePrincipal === grantee));
  const page = paginate(grants, grantOrder, paging);
  return { Grants: page.items.map((g) => grantEntry(key, g)), ...page.members };
};

const listRetirableGrants: Op = async (call) => {
  const { input } = call;
  const retiring = input.string('RetiringPrincipal', { ...PRINCIPAL_RULE, required: true });
  const paging = readPaging(input, 100, 50);
  // As on AWS, the retiring principal must be in the caller's own account: nobody lists the grants another account may retire.
  const principalAccount = /^arn:aws:(?:iam|sts)::(\d{12}):/.exec(retiring ?? '')?.[1];
  if (principalAccount !== call.caller.accountId) {
    throw new KmsError('AccessDeniedException', `User: ${call.caller.accountId} is not authorized to list grants retirable by ${retiring ?? ''}`);
  }
  await call.authorize('kms:ListRetirableGrants', { kind: 'account' });
  const now = call.now();
  const found: { key: KmsKeyDoc; grant: KmsGrant }[] = [];
  // Like AWS, grants on any account's keys: a retiring principal is often in another account than the key.
  for (const account of await call.meta.listAccounts()) {
    for (const key of await store.listKeys(call.meta, account.id)) {
      if (isExpired(key, now)) continue;
      for (const grant of key.grants ?? []) if (grant.retiringPrincipal === retiring) found.push({ key, grant });
    }
  }
  const page = paginate(found, (f) => `${grantOrder(f.grant)}/${f.key.arn}`, paging);
  return { Grants: page.items.map((f) => grantEntry(f.key, f.grant)), ...page.members };
};

const retireGrant: Op = async (call) => {
  const { input } = call;
  const token = input.string('GrantToken', GRANT_TOKEN_RULE);
  const keyRef = input.string('KeyId', { min: 1, max: 2048 });
  const grantIdIn = readGrantId(input, false);
  let ref: string;
  let grantId: string;
  if (token !== undefined) {
    const t = parseGrantToken(token);
    if (!t) throw new KmsError('InvalidGrantTokenException', 'The grant token is not valid.');
    ref = keyArn(call.region, t.accountId, t.keyId);
    grantId = t.grantId;
    if (grantIdIn !== undefined && grantIdIn !== grantId) throw new KmsError('ValidationException', 'The GrantId does not match the grant token.');
  } else {
    if (keyRef === undefined || grantIdIn === undefined) throw new KmsError('ValidationException', 'Specify either a GrantToken, or both a KeyId and a GrantId.');
    ref = keyRef;
    grantId = grantIdIn;
  }
  await withKeyLocked(call, ref, async (key) => {
    if (keyRef !== undefined && token !== undefined) {
      const named = await call.resolveKey(keyRef, GRANT_REF);
      if (named.key.arn !== key.arn) throw new KmsError('ValidationException', 'The KeyId does not match the grant token.');
    }
    const grant = (key.grants ?? []).find((g) => g.grantId === grantId);
    if (!grant) throw grantNotFound(grantId);
    if (token !== undefined && grant.grantToken !== token) throw new KmsError('InvalidGrantTokenException', 'The grant token is not valid.');
    // The retiring principal, the grantee of a grant that includes RetireGrant, and the key's account may retire it without any policy.
    const entitled = isPrincipal(call.caller, grant.retiringPrincipal)
      || (grant.operations.includes('RetireGrant') && isPrincipal(call.caller, grant.granteePrincipal))
      || (call.caller.kind === 'account-root' && call.caller.accountId === key.accountId);
    if (!entitled) await call.authorize('kms:RetireGrant', { kind: 'key', key });
    requireState(key, ANY_STATE);
    dryRun(call);
    key.grants = (key.grants ?? []).filter((g) => g.grantId !== grantId);
    await store.saveKey(call.meta, key);
  });
  return {};
};

const revokeGrant: Op = async (call) => {
  const { input } = call;
  const ref = input.string('KeyId', KEY_ID_RULE);
  const grantId = readGrantId(input, true)!;
  await withKeyLocked(call, ref, async (key) => {
    await call.authorize('kms:RevokeGrant', { kind: 'key', key });
    requireState(key, ANY_STATE);
    if (!(key.grants ?? []).some((g) => g.grantId === grantId)) throw grantNotFound(grantId);
    dryRun(call);
    key.grants = (key.grants ?? []).filter((g) => g.grantId !== grantId);
    await store.saveKey(call.meta, key);
  });
  return {};
};

export const GRANT_OPS: Record<string, Op> = {
  CreateGrant: createGrant,
  ListGrants: listGrants,
  ListRetirableGrants: listRetirableGrants,
  RetireGrant: retireGrant,
  RevokeGrant: revokeGrant,
};
