/**
 * What every IAM action module shares: the call context, ids and ARNs, IAM's error texts,
 * Marker/MaxItems pagination, tags, and the response shapes that several actions return
 * (User, Group, Role, permissions boundary).
 */
import { randomBytes } from 'node:crypto';
import type { SignedPrincipal } from '../../auth/principal.js';
import type { Keyring } from '../../crypto/keyring.js';
import type { MetadataStore } from '../../storage/ports.js';
import type { Clock } from '../../util/clock.js';
import { INT_RULES, MAX_TAGS, ParamReader, QueryError, RULES, isReservedTagKey } from '../api/query.js';
import { IamError, type QueryObject, type QueryValue } from '../api/xml.js';
import type { IamGroup, IamRole, IamUser, Tag } from '../model.js';

export const PARTITION = 'aws';

export interface Ctx {
  readonly meta: MetadataStore;
  readonly keyring: Keyring;
  readonly clock: Clock;
  readonly accountId: string;
  readonly caller: SignedPrincipal;
  readonly params: ReadonlyMap<string, string>;
}

/** An action: reads ctx.params, returns the {Action}Result content (undefined: no Result element). */
export type Handler = (ctx: Ctx) => Promise<QueryObject | undefined>;

// ---- ids and ARNs ----------------------------------------------------------------------

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** IAM's unique ids: a 4-letter type prefix and 17 random upper-case alphanumerics. */
export function newEntityId(prefix: 'AIDA' | 'AGPA' | 'AROA' | 'ANPA'): string {
  let s = prefix;
  while (s.length < 21) {
    for (const b of randomBytes(24)) {
      // 252 = 7 × 36: rejecting the rest keeps every character equally likely.
      if (b < 252 && s.length < 21) s += ALNUM[b % 36];
    }
  }
  return s;
}

export type ArnType = 'user' | 'group' | 'role' | 'policy' | 'mfa' | 'oidc-provider';

export function iamArn(accountId: string, type: ArnType, path: string, name: string): string {
  return `arn:${PARTITION}:iam::${accountId}:${type}${path}${name}`;
}

export function rootArn(accountId: string): string {
  return `arn:${PARTITION}:iam::${accountId}:root`;
}

/**
 * Splits `arn:aws:iam::<account>:<type><path><name>`; undefined when it is not one.
 * The account may be `aws` (AWS managed policies).
 */
export function parseIamArn(arn: string, type: ArnType): { account: string; path: string; name: string } | undefined {
  const m = /^arn:aws:iam::(\d{12}|aws):([a-z-]+)(\/(?:[\u0021-\u007E]*\/)?)([\w+=,.@-]+)$/.exec(arn);
  if (!m || m[2] !== type) return undefined;
  return { account: m[1]!, path: m[3]!, name: m[4]! };
}

// ---- errors ----------------------------------------------------------------------------

const notFound = (what: string, name: string): IamError => new IamError('NoSuchEntity', `The ${what} with name ${name} cannot be found.`);

export const errors = {
  noSuchUser: (name: string) => notFound('user', name),
  noSuchGroup: (name: string) => notFound('group', name),
  noSuchRole: (name: string) => notFound('role', name),
  noSuchInline: (kind: 'user' | 'group' | 'role', name: string) => notFound(`${kind} policy`, name),
  exists: (what: 'User' | 'Group' | 'Role', name: string) => new IamError('EntityAlreadyExists', `${what} with name ${name} already exists.`),
  deleteConflict: (what: string) => new IamError('DeleteConflict', `Cannot delete entity, must ${what} first.`),
  invalidArn: (arn: string) => new IamError('InvalidInput', `ARN ${arn} is not valid.`),
  notAttachable: (arn: string) => new IamError('NoSuchEntity', `Policy ${arn} does not exist or is not attachable.`),
  policyNotFound: (arn: string) => new IamError('NoSuchEntity', `Policy ${arn} was not found.`),
  quota: (name: string, limit: number) => new IamError('LimitExceeded', `Cannot exceed quota for ${name}: ${limit}`),
};

// ---- the caller ------------------------------------------------------------------------

/**
 * The user an action with an optional UserName applies to when none is given: the calling
 * IAM user, or null for the account root. Role sessions have no user to default to.
 */
export function impliedUserName(caller: SignedPrincipal): string | null {
  switch (caller.kind) {
    case 'iam-user':
      return caller.userName;
    case 'account-root':
      return null;
    case 'assumed-role':
      throw new QueryError('ValidationError', 'Must specify userName when calling with non-User credentials');
  }
}

// ---- dates ---------------------------------------------------------------------------------

export const nowIso = (ctx: Ctx): string => ctx.clock.now().toISOString();
export const date = (iso: string): Date => new Date(iso);

// ---- pagination ----------------------------------------------------------------------------

export interface Paging {
  marker: string | undefined;
  maxItems: number | undefined;
}

export function readPaging(r: ParamReader): Paging {
  return { marker: r.string('Marker', RULES.marker), maxItems: r.int('MaxItems', INT_RULES.maxItems) };
}

const DEFAULT_MAX_ITEMS = 100;

/**
 * One page of `items` by a sort key. The Marker is the last returned key (base64url, so
 * it fits IAM's marker pattern): a page resumes after it, which stays correct when
 * entries are added or removed between calls, unlike an offset.
 */
export function paginate<T>(items: readonly T[], key: (t: T) => string, p: Paging): { page: T[]; IsTruncated: boolean; Marker?: string } {
  const keyed = items.map((item) => ({ item, k: key(item) })).sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  const after = p.marker === undefined ? undefined : Buffer.from(p.marker, 'base64url').toString('utf8');
  const rest = after === undefined ? keyed : keyed.filter((e) => e.k > after);
  const max = p.maxItems ?? DEFAULT_MAX_ITEMS;
  const page = rest.slice(0, max);
  if (rest.length <= max) return { page: page.map((e) => e.item), IsTruncated: false };
  return { page: page.map((e) => e.item), IsTruncated: true, Marker: Buffer.from(page[page.length - 1]!.k, 'utf8').toString('base64url') };
}

/** A List…Tags answer: one page of an entity's tags, ordered by key as IAM compares them (case-insensitively). */
export function tagsPage(tags: readonly Tag[], paging: Paging): QueryObject {
  const page = paginate(tags, (t) => t.Key.toLowerCase(), paging);
  return pageResult('Tags', tagList(page.page), page);
}

/** The paging members of a list result, in IAM's order, after the list itself. */
export function pageResult<K extends string>(name: K, list: readonly QueryValue[], page: { IsTruncated: boolean; Marker?: string }): QueryObject {
  return { [name]: list, IsTruncated: page.IsTruncated, Marker: page.Marker };
}

export const nameKey = (name: string): string => name.toLowerCase();

// ---- tags ------------------------------------------------------------------------------------

/** The Tags list of a request (at most 50, keys unique case-insensitively, as IAM requires). */
export function readTags(r: ParamReader, required = false): Tag[] {
  const raw = r.memberList('Tags', {
    required,
    max: MAX_TAGS,
    fields: { Key: { ...RULES.tagKey, required: true }, Value: { ...RULES.tagValue, required: true } },
  });
  const tags = raw.map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' }));
  for (const t of tags) {
    if (isReservedTagKey(t.Key)) throw new IamError('InvalidInput', `Tag key ${t.Key} is not valid: tag keys starting with 'aws:' are reserved for internal AWS use.`);
  }
  return tags;
}

export function checkUniqueTagKeys(tags: readonly Tag[]): void {
  const seen = new Set<string>();
  for (const t of tags) {
    const k = t.Key.toLowerCase();
    if (seen.has(k)) throw new IamError('InvalidInput', 'Duplicate tag keys found. Please note that Tag keys are case insensitive.');
    seen.add(k);
  }
}

/** Adds or overwrites tags (IAM tag keys are case-insensitive: the new spelling wins). */
export function mergeTags(existing: readonly Tag[], added: readonly Tag[]): Tag[] {
  checkUniqueTagKeys(added);
  const out = existing.filter((t) => !added.some((a) => a.Key.toLowerCase() === t.Key.toLowerCase()));
  out.push(...added.map((t) => ({ Key: t.Key, Value: t.Value })));
  if (out.length > MAX_TAGS) throw new IamError('LimitExceeded', `The number of tags has reached the maximum limit of ${MAX_TAGS}.`);
  return out;
}

export function removeTags(existing: readonly Tag[], keys: readonly string[]): Tag[] {
  const drop = new Set(keys.map((k) => k.toLowerCase()));
  return existing.filter((t) => !drop.has(t.Key.toLowerCase()));
}

export function readTagKeys(r: ParamReader): string[] {
  return r.stringList('TagKeys', { required: true, max: MAX_TAGS, each: RULES.tagKey });
}

export const tagList = (tags: readonly Tag[]): QueryObject[] => tags.map((t) => ({ Key: t.Key, Value: t.Value }));

/** Tags in a full entity shape: AWS leaves the member out when there are none. */
const optionalTags = (tags: readonly Tag[]): QueryObject[] | undefined => (tags.length > 0 ? tagList(tags) : undefined);

// ---- response shapes ---------------------------------------------------------------------

export function boundaryShape(arn: string | undefined): QueryObject | undefined {
  return arn === undefined ? undefined : { PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: arn };
}

/** The User structure; `full` adds what Get/Create return and List leaves out (tags, boundary). */
export function userShape(u: IamUser, full: boolean): QueryObject {
  return {
    Path: u.path,
    UserName: u.name,
    UserId: u.id,
    Arn: u.arn,
    CreateDate: date(u.createDate),
    PermissionsBoundary: full ? boundaryShape(u.permissionsBoundary) : undefined,
    Tags: full ? optionalTags(u.tags) : undefined,
  };
}

export function groupShape(g: IamGroup): QueryObject {
  return { Path: g.path, GroupName: g.name, GroupId: g.id, Arn: g.arn, CreateDate: date(g.createDate) };
}

/** The Role structure; the trust policy is URL-encoded as IAM returns every policy document. */
export function roleShape(r: IamRole, full: boolean): QueryObject {
  return {
    Path: r.path,
    RoleName: r.name,
    RoleId: r.id,
    Arn: r.arn,
    CreateDate: date(r.createDate),
    AssumeRolePolicyDocument: encodeURIComponent(r.assumeRolePolicyDocument),
    Description: r.description,
    MaxSessionDuration: r.maxSessionDuration,
    PermissionsBoundary: full ? boundaryShape(r.permissionsBoundary) : undefined,
    Tags: full ? optionalTags(r.tags) : undefined,
    // Kura does not track role use; AWS sends an empty structure for a role never used.
    RoleLastUsed: full ? {} : undefined,
  };
}

/** A reader whose violations are all reported together when done() runs. */
export const reader = (ctx: Ctx): ParamReader => new ParamReader(ctx.params);
