/**
 * S3 access control lists (ACLs): the data model, the three ways a request can carry an
 * ACL (canned `x-amz-acl`, `x-amz-grant-*` headers, an `AccessControlPolicy` XML body),
 * the XML S3 returns from GetBucketAcl/GetObjectAcl, the "public" test Block Public
 * Access uses, and the mapping of ACL permissions to IAM actions.
 *
 * Pure: no I/O. Account look-ups (email → canonical user, canonical ID validation) are
 * passed in by the caller.
 *
 * Sources: S3 UG "Access control list (ACL) overview" (grantees, permissions, the
 * permission → action table, the canned ACL table), PutBucketAcl / PutObjectAcl API
 * references (grant headers, XML shape), semantics.md a.3, d.2, e.
 */
import { S3Error, s3error } from '../../errors/s3-errors.js';
import { childOf, escapeXml, listOf, parseXml, S3_XMLNS, textOf } from '../../http/xml.js';

export const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
export const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
export const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery';
export type GroupUri = typeof ALL_USERS | typeof AUTHENTICATED_USERS | typeof LOG_DELIVERY;
const GROUP_URIS: readonly string[] = [ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY];

/**
 * The canonical user `aws-exec-read` grants READ to (Amazon EC2, display name "za-team"),
 * as AWS stores it: a CanonicalUser grant, not a group.
 */
export const EC2_EXEC_READ_ID = '6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c';
export const EC2_EXEC_READ_DISPLAY_NAME = 'za-team';

export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';

export type Permission = 'READ' | 'WRITE' | 'READ_ACP' | 'WRITE_ACP' | 'FULL_CONTROL';
export const PERMISSIONS: readonly Permission[] = ['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP', 'FULL_CONTROL'];

export interface Owner {
  id: string;
  displayName?: string;
}

export type Grantee =
  | { type: 'CanonicalUser'; id: string; displayName?: string }
  | { type: 'Group'; uri: GroupUri };

export interface Grant {
  grantee: Grantee;
  permission: Permission;
}

export interface Acl {
  owner: Owner;
  grants: Grant[];
}

/** Account look-ups supplied by the caller. */
export interface AclResolver {
  /** Email → the account's canonical user; undefined → UnresolvableGrantByEmailAddress. */
  byEmail(email: string): Owner | undefined;
  /**
   * Optional canonical-ID check (and display-name fill-in). When given, an unknown ID →
   * InvalidArgument "Invalid id" (ArgumentName CanonicalUser/ID), as S3 answers.
   */
  byId?(id: string): Owner | undefined;
}

export type AclTarget = 'bucket' | 'object';

export const CANNED_ACLS = [
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'aws-exec-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
  'log-delivery-write',
] as const;
export type CannedAcl = (typeof CANNED_ACLS)[number];

export function isCannedAcl(name: string): name is CannedAcl {
  return (CANNED_ACLS as readonly string[]).includes(name);
}

function userGrant(o: Owner, permission: Permission): Grant {
  const grantee: Grantee = { type: 'CanonicalUser', id: o.id };
  if (o.displayName !== undefined) grantee.displayName = o.displayName;
  return { grantee, permission };
}

function groupGrant(uri: GroupUri, permission: Permission): Grant {
  return { grantee: { type: 'Group', uri }, permission };
}

function copyOwner(o: Owner): Owner {
  return o.displayName === undefined ? { id: o.id } : { id: o.id, displayName: o.displayName };
}

/**
 * The ACL a canned ACL name expands to (S3 UG "Canned ACL" table). The resource owner
 * (bucket owner for a bucket, object owner for an object) always gets FULL_CONTROL.
 * `bucket-owner-read` / `bucket-owner-full-control` are ignored on buckets (the table:
 * "If you specify this canned ACL when creating a bucket, Amazon S3 ignores it"), and
 * add no second grant when the object owner is the bucket owner.
 * Unknown name → InvalidArgument.
 */
export function cannedAcl(name: string, ctx: { bucketOwner: Owner; objectOwner: Owner; target: AclTarget }): Acl {
  if (!isCannedAcl(name)) throw s3error('InvalidArgument', undefined, { ArgumentName: 'x-amz-acl', ArgumentValue: name });
  const owner = ctx.target === 'bucket' ? ctx.bucketOwner : ctx.objectOwner;
  const grants: Grant[] = [userGrant(owner, 'FULL_CONTROL')];
  const bucketOwnerIsOther = ctx.target === 'object' && ctx.bucketOwner.id !== owner.id;
  switch (name) {
    case 'private':
      break;
    case 'public-read':
      grants.push(groupGrant(ALL_USERS, 'READ'));
      break;
    case 'public-read-write':
      grants.push(groupGrant(ALL_USERS, 'READ'), groupGrant(ALL_USERS, 'WRITE'));
      break;
    case 'authenticated-read':
      grants.push(groupGrant(AUTHENTICATED_USERS, 'READ'));
      break;
    case 'aws-exec-read':
      grants.push(userGrant({ id: EC2_EXEC_READ_ID, displayName: EC2_EXEC_READ_DISPLAY_NAME }, 'READ'));
      break;
    case 'bucket-owner-read':
      if (bucketOwnerIsOther) grants.push(userGrant(ctx.bucketOwner, 'READ'));
      break;
    case 'bucket-owner-full-control':
      if (bucketOwnerIsOther) grants.push(userGrant(ctx.bucketOwner, 'FULL_CONTROL'));
      break;
    case 'log-delivery-write':
      // The table lists it for buckets only; on an object the grants are stored as given
      // (as Ceph RGW does): they are inert there, since WRITE means nothing on an object.
      grants.push(groupGrant(LOG_DELIVERY, 'WRITE'), groupGrant(LOG_DELIVERY, 'READ_ACP'));
      break;
  }
  return { owner: copyOwner(owner), grants };
}

// ---------------------------------------------------------------------------------------
// x-amz-grant-* headers

/** Header → permission, in the order their grants are listed in the resulting ACL. */
export const GRANT_HEADERS: readonly (readonly [string, Permission])[] = [
  ['x-amz-grant-read', 'READ'],
  ['x-amz-grant-write', 'WRITE'],
  ['x-amz-grant-read-acp', 'READ_ACP'],
  ['x-amz-grant-write-acp', 'WRITE_ACP'],
  ['x-amz-grant-full-control', 'FULL_CONTROL'],
];

export type HeaderBag = Record<string, string | readonly string[] | undefined>;

function headerValue(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v.join(',');
}

export function hasGrantHeaders(headers: HeaderBag): boolean {
  return GRANT_HEADERS.some(([h]) => headerValue(headers, h) !== undefined);
}

function invalidGrantHeader(header: string, value: string): S3Error {
  return s3error('InvalidArgument', undefined, { ArgumentName: header, ArgumentValue: value });
}

/** Splits `a="x,y", b=z` on commas outside double quotes; unbalanced quotes → undefined. */
function splitGrantees(value: string): string[] | undefined {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (const c of value) {
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      parts.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  if (quoted) return undefined;
  parts.push(cur);
  return parts;
}

function resolveId(id: string, resolve: AclResolver, argName: string, displayName?: string): Grantee {
  if (id === '') throw s3error('InvalidArgument', 'Invalid id', { ArgumentName: argName, ArgumentValue: id });
  if (resolve.byId) {
    const found = resolve.byId(id);
    if (!found) throw s3error('InvalidArgument', 'Invalid id', { ArgumentName: argName, ArgumentValue: id });
    return found.displayName === undefined ? { type: 'CanonicalUser', id: found.id } : { type: 'CanonicalUser', id: found.id, displayName: found.displayName };
  }
  // Without an account look-up, a display name the client sent (XML) is kept as given.
  return displayName === undefined ? { type: 'CanonicalUser', id } : { type: 'CanonicalUser', id, displayName };
}

function resolveEmail(email: string, resolve: AclResolver): Grantee {
  const found = email === '' ? undefined : resolve.byEmail(email);
  if (!found) throw s3error('UnresolvableGrantByEmailAddress', undefined, { EmailAddress: email });
  return found.displayName === undefined ? { type: 'CanonicalUser', id: found.id } : { type: 'CanonicalUser', id: found.id, displayName: found.displayName };
}

function resolveGroup(uri: string, argName: string): Grantee {
  if (!GROUP_URIS.includes(uri)) throw s3error('InvalidArgument', 'Invalid group uri', { ArgumentName: argName, ArgumentValue: uri });
  return { type: 'Group', uri: uri as GroupUri };
}

function sameGrantee(a: Grantee, b: Grantee): boolean {
  if (a.type === 'CanonicalUser') return b.type === 'CanonicalUser' && a.id === b.id;
  return b.type === 'Group' && a.uri === b.uri;
}

function pushUnique(grants: Grant[], g: Grant): void {
  if (!grants.some((x) => x.permission === g.permission && sameGrantee(x.grantee, g.grantee))) grants.push(g);
}

/**
 * Builds an ACL from `x-amz-grant-*` headers; undefined when none is present.
 * Each value is a comma-separated list of `id=…`, `uri=…`, `emailAddress=…` (value quoted
 * or bare; key case-insensitive). The ACL holds exactly the listed grants: like S3, the
 * owner gets no implicit FULL_CONTROL grant (owners keep READ_ACP/WRITE_ACP implicitly,
 * which the authorizer handles, not the ACL).
 * Malformed value / unknown group / unknown id → InvalidArgument; unknown email →
 * UnresolvableGrantByEmailAddress. Identical (grantee, permission) pairs are merged.
 */
export function aclFromGrantHeaders(headers: HeaderBag, owner: Owner, resolve: AclResolver): Acl | undefined {
  if (!hasGrantHeaders(headers)) return undefined;
  const grants: Grant[] = [];
  for (const [header, permission] of GRANT_HEADERS) {
    const value = headerValue(headers, header);
    if (value === undefined) continue;
    const parts = splitGrantees(value);
    if (!parts) throw invalidGrantHeader(header, value);
    for (const raw of parts) {
      const part = raw.trim();
      const m = /^([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([^"\s]*))$/.exec(part);
      if (!m) throw invalidGrantHeader(header, value);
      const key = m[1]!.toLowerCase();
      const v = (m[2] ?? m[3] ?? '').trim();
      let grantee: Grantee;
      if (key === 'id') grantee = resolveId(v, resolve, header);
      else if (key === 'uri') grantee = resolveGroup(v, header);
      else if (key === 'emailaddress') grantee = resolveEmail(v, resolve);
      else throw invalidGrantHeader(header, value);
      pushUnique(grants, { grantee, permission });
    }
  }
  return { owner: copyOwner(owner), grants };
}

/**
 * The ACL a write request carries in its headers, if any: `x-amz-acl` or `x-amz-grant-*`.
 * Both at once → InvalidRequest ("Specifying both Canned ACLs and Header Grants is not
 * allowed"). undefined → the request carries no ACL (the caller applies `private`).
 */
export function aclFromRequestHeaders(
  headers: HeaderBag,
  ctx: { bucketOwner: Owner; objectOwner: Owner; target: AclTarget },
  resolve: AclResolver,
): { acl: Acl; canned?: CannedAcl } | undefined {
  const canned = headerValue(headers, 'x-amz-acl');
  const grantHeaders = hasGrantHeaders(headers);
  if (canned !== undefined && grantHeaders) {
    throw s3error('InvalidRequest', 'Specifying both Canned ACLs and Header Grants is not allowed');
  }
  if (canned !== undefined) {
    const acl = cannedAcl(canned.trim(), ctx);
    return { acl, canned: canned.trim() as CannedAcl };
  }
  const owner = ctx.target === 'bucket' ? ctx.bucketOwner : ctx.objectOwner;
  const acl = aclFromGrantHeaders(headers, owner, resolve);
  return acl ? { acl } : undefined;
}

// ---------------------------------------------------------------------------------------
// XML

/** S3's limit on grants in one ACL. */
export const MAX_GRANTS = 100;

function malformed(): S3Error {
  return s3error('MalformedACLError');
}

function requireText(node: Record<string, unknown>, name: string): string {
  const v = textOf(node, name);
  if (v === undefined) throw malformed();
  return v.trim();
}

function parseGrantee(node: Record<string, unknown>, resolve: AclResolver): Grantee {
  const type = node['@_type'];
  if (typeof type !== 'string') throw malformed();
  switch (type) {
    case 'CanonicalUser':
      return resolveId(requireText(node, 'ID'), resolve, 'CanonicalUser/ID', textOf(node, 'DisplayName'));
    case 'Group':
      return resolveGroup(requireText(node, 'URI'), 'Group/URI');
    case 'AmazonCustomerByEmail':
      return resolveEmail(requireText(node, 'EmailAddress'), resolve);
    default:
      throw malformed();
  }
}

/**
 * Parses a PutBucketAcl/PutObjectAcl body. Not well-formed, wrong root, missing Owner/ID,
 * missing or unknown xsi:type / Permission, or more than 100 grants → MalformedACLError.
 * Unknown group URI or canonical ID → InvalidArgument; unknown email →
 * UnresolvableGrantByEmailAddress. The caller must still check the Owner ID against the
 * resource's owner. Email grantees come back as CanonicalUser grants. A grantee's
 * DisplayName is taken from `resolve.byId` when given (S3 reports the account's own name),
 * else kept as sent.
 */
export function parseAclXml(body: string, resolve: AclResolver): Acl {
  let root: Record<string, unknown>;
  let ownerNode: Record<string, unknown> | undefined;
  let grantNodes: Record<string, unknown>[];
  try {
    root = parseXml(body, 'AccessControlPolicy', ['AccessControlPolicy.AccessControlList.Grant']);
    ownerNode = childOf(root, 'Owner');
    const list = childOf(root, 'AccessControlList');
    grantNodes = list ? listOf(list, 'Grant') : [];
  } catch (e) {
    if (e instanceof S3Error && e.code === 'MalformedXML') throw malformed();
    throw e;
  }
  if (!ownerNode) throw malformed();
  if (grantNodes.length > MAX_GRANTS) throw malformed();
  try {
    const ownerId = requireText(ownerNode, 'ID');
    if (ownerId === '') throw malformed();
    const displayName = textOf(ownerNode, 'DisplayName');
    const owner: Owner = displayName === undefined ? { id: ownerId } : { id: ownerId, displayName };
    const grants: Grant[] = [];
    for (const g of grantNodes) {
      const granteeNode = childOf(g, 'Grantee');
      if (!granteeNode) throw malformed();
      const permission = requireText(g, 'Permission');
      if (!(PERMISSIONS as readonly string[]).includes(permission)) throw malformed();
      pushUnique(grants, { grantee: parseGrantee(granteeNode, resolve), permission: permission as Permission });
    }
    return { owner, grants };
  } catch (e) {
    if (e instanceof S3Error && e.code === 'MalformedXML') throw malformed();
    throw e;
  }
}

function granteeXml(g: Grantee): string {
  const open = `<Grantee xmlns:xsi="${XSI_NS}" xsi:type="${g.type}">`;
  if (g.type === 'Group') return `${open}<URI>${escapeXml(g.uri)}</URI></Grantee>`;
  const dn = g.displayName === undefined ? '' : `<DisplayName>${escapeXml(g.displayName)}</DisplayName>`;
  return `${open}<ID>${escapeXml(g.id)}</ID>${dn}</Grantee>`;
}

/** The GetBucketAcl / GetObjectAcl response body. */
export function aclToXml(acl: Acl): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n', `<AccessControlPolicy xmlns="${S3_XMLNS}">`];
  out.push('<Owner>', `<ID>${escapeXml(acl.owner.id)}</ID>`);
  if (acl.owner.displayName !== undefined) out.push(`<DisplayName>${escapeXml(acl.owner.displayName)}</DisplayName>`);
  out.push('</Owner>', '<AccessControlList>');
  for (const g of acl.grants) out.push('<Grant>', granteeXml(g.grantee), `<Permission>${g.permission}</Permission>`, '</Grant>');
  out.push('</AccessControlList>', '</AccessControlPolicy>');
  return out.join('');
}

// ---------------------------------------------------------------------------------------
// Public ACLs (Block Public Access) and Object Ownership

function isPublicGrant(g: Grant): boolean {
  return g.grantee.type === 'Group' && (g.grantee.uri === ALL_USERS || g.grantee.uri === AUTHENTICATED_USERS);
}

/** semantics.md d.2: public iff any grant (any permission) to AllUsers or AuthenticatedUsers. */
export function isPublicAcl(acl: Acl): boolean {
  return acl.grants.some(isPublicGrant);
}

/** The IgnorePublicAcls view: the same ACL without its AllUsers/AuthenticatedUsers grants. */
export function withoutPublicGrants(acl: Acl): Acl {
  return { owner: acl.owner, grants: acl.grants.filter((g) => !isPublicGrant(g)) };
}

/**
 * Whether an ACL-carrying request is acceptable to a BucketOwnerEnforced bucket
 * (semantics.md e): only `bucket-owner-full-control`, or an explicit ACL (headers / XML)
 * whose every grant is FULL_CONTROL to the bucket owner. Otherwise the caller answers
 * 400 AccessControlListNotSupported.
 */
export function acceptableUnderBucketOwnerEnforced(req: { canned?: string; acl?: Acl }, bucketOwnerId: string): boolean {
  if (req.canned !== undefined) return req.canned === 'bucket-owner-full-control';
  if (!req.acl) return true;
  return req.acl.grants.every(
    (g) => g.permission === 'FULL_CONTROL' && g.grantee.type === 'CanonicalUser' && g.grantee.id === bucketOwnerId,
  );
}

/** The ACL S3 reports for a BucketOwnerEnforced bucket or object: owner FULL_CONTROL only. */
export function enforcedOwnerAcl(bucketOwner: Owner): Acl {
  return { owner: copyOwner(bucketOwner), grants: [userGrant(bucketOwner, 'FULL_CONTROL')] };
}

// ---------------------------------------------------------------------------------------
// Permission → action

/**
 * S3 UG "ACL overview", table "Mapping of ACL permissions and access policy permissions".
 * Multipart writes (CreateMultipartUpload, UploadPart, UploadPartCopy,
 * CompleteMultipartUpload) authorize as s3:PutObject, so bucket WRITE covers them.
 * s3:AbortMultipartUpload and s3:ListMultipartUploadParts are not in the table: S3 allows
 * them by default to the bucket owner and the upload's initiator, which the authorizer
 * must handle (it knows the initiator); an ACL grant alone does not give them.
 * s3:DeleteObjectVersion: the UG grants it through bucket WRITE "when the grantee is the
 * bucket owner"; semantics.md a.3 lists it for WRITE generally, which is what we do.
 */
export const ACL_ACTIONS: Readonly<Record<AclTarget, Readonly<Record<Exclude<Permission, 'FULL_CONTROL'>, readonly string[]>>>> = {
  bucket: {
    READ: ['s3:ListBucket', 's3:ListBucketVersions', 's3:ListBucketMultipartUploads'],
    WRITE: ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
    READ_ACP: ['s3:GetBucketAcl'],
    WRITE_ACP: ['s3:PutBucketAcl'],
  },
  object: {
    READ: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectTorrent'],
    WRITE: [],
    READ_ACP: ['s3:GetObjectAcl', 's3:GetObjectVersionAcl'],
    WRITE_ACP: ['s3:PutObjectAcl', 's3:PutObjectVersionAcl'],
  },
};

/** The permissions (FULL_CONTROL included) that give `action` on `target`; empty if none. */
export function permissionsForAction(action: string, target: AclTarget): Permission[] {
  const table = ACL_ACTIONS[target];
  const out: Permission[] = [];
  for (const p of ['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP'] as const) {
    if (table[p].some((a) => a.toLowerCase() === action.toLowerCase())) out.push(p);
  }
  if (out.length > 0) out.push('FULL_CONTROL');
  return out;
}

export type AclRequester = { kind: 'anonymous' } | { kind: 'account'; canonicalId: string } | { kind: 'log-delivery' };

function granteeMatches(g: Grantee, who: AclRequester): boolean {
  if (g.type === 'Group') {
    if (g.uri === ALL_USERS) return true;
    if (g.uri === AUTHENTICATED_USERS) return who.kind !== 'anonymous';
    return who.kind === 'log-delivery';
  }
  return who.kind === 'account' && g.id === who.canonicalId;
}

/**
 * Whether the ACL's grants give `who` the `action` on `target`. AllUsers matches anyone,
 * AuthenticatedUsers any signed requester (log delivery included), LogDelivery only the
 * log-delivery service, a CanonicalUser grant the account with that canonical ID.
 * The owner's implicit rights (READ_ACP/WRITE_ACP on its own resource) are not granted
 * here: the ACL is evaluated as stored.
 */
export function aclAllows(acl: Acl, who: AclRequester, action: string, target: AclTarget): boolean {
  const perms = permissionsForAction(action, target);
  if (perms.length === 0) return false;
  return acl.grants.some((g) => perms.includes(g.permission) && granteeMatches(g.grantee, who));
}
