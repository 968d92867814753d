/**
 * ACL handlers (Get/PutBucketAcl, Get/PutObjectAcl) and the ACL a write request carries
 * (PutObject, CopyObject, CreateMultipartUpload, POST uploads, CreateBucket), with the
 * Object Ownership and Block Public Access rules S3 applies to them (semantics.md d.1, e):
 * under BucketOwnerEnforced only owner-only ACLs are accepted (400
 * AccessControlListNotSupported) and nothing is stored; with BlockPublicAcls a public ACL
 * is refused (403 AccessDenied); IgnorePublicAcls acts only in the decision.
 */
import type { Decision } from '../authz/decision.js';
import { s3error } from '../errors/s3-errors.js';
import { header, type S3Request, type S3Result } from '../http/request.js';
import {
  aclFromRequestHeaders, aclToXml, acceptableUnderBucketOwnerEnforced, cannedAcl, enforcedOwnerAcl, hasGrantHeaders, isPublicAcl, parseAclXml,
  type Acl, type AclResolver, type AclTarget, type Owner,
} from '../authz/acl/acl.js';
import type { BucketAccess } from '../authz/bucket-access.js';
import { objectOwnerOf } from '../authz/ownership.js';
import type { BucketRecord } from '../storage/ports.js';
import { emptyResult, readSmallBody } from './common.js';
import type { AuthorizedRequest, Handler, Services } from './context.js';
import { loadForRead } from './objects.js';
import { versionIdHeader } from './versions.js';

/** The canonical user and display name S3 shows for an account. */
export async function accountOwner(svc: Services, accountId: string): Promise<Owner> {
  const a = await svc.meta.getAccount(accountId);
  return a ? { id: a.canonicalId, displayName: a.name } : { id: accountId };
}

/** Resolves grantees against the accounts (only requests that carry grants pay for it). */
async function resolver(svc: Services): Promise<AclResolver> {
  const accounts = await svc.meta.listAccounts();
  const owner = (a: (typeof accounts)[number]): Owner => ({ id: a.canonicalId, displayName: a.name });
  return {
    byEmail: (email) => {
      const a = accounts.find((x) => x.email !== null && x.email.toLowerCase() === email.toLowerCase());
      return a && owner(a);
    },
    byId: (id) => {
      const a = accounts.find((x) => x.canonicalId === id);
      return a && owner(a);
    },
  };
}

function carriesAclHeaders(req: S3Request): boolean {
  return header(req, 'x-amz-acl') !== undefined || hasGrantHeaders(req.headers);
}

/** Whether every grant is FULL_CONTROL to `ownerId` (the only ACL a BucketOwnerEnforced bucket, or one being switched to it, may have). */
export function ownerOnly(acl: Acl | undefined, ownerId: string): boolean {
  return acceptableUnderBucketOwnerEnforced({ acl }, ownerId);
}

/**
 * What a BucketOwnerEnforced bucket accepts: no ACL, bucket-owner-full-control or its
 * explicit equivalent, and `private` — which under enforcement means exactly that too
 * (clients such as rclone send it by default).
 */
function enforcedAccepts(p: { acl: Acl; canned?: string }, bucketOwnerId: string): boolean {
  return p.canned === 'private' || acceptableUnderBucketOwnerEnforced(p.canned !== undefined ? { canned: p.canned } : { acl: p.acl }, bucketOwnerId);
}

function refusePublic(access: { publicAccessBlock: { blockPublicAcls: boolean } }, acl: Acl): void {
  if (access.publicAccessBlock.blockPublicAcls && isPublicAcl(acl)) throw s3error('AccessDenied');
}

/**
 * The ACL a body or the headers of PutBucketAcl/PutObjectAcl carry. A body's Owner must be
 * the resource's owner (S3 will not let an ACL change who owns a resource).
 */
async function requestedAcl(ctx: AuthorizedRequest<'PutBucketAcl' | 'PutObjectAcl'>, svc: Services, c: { bucketOwner: Owner; objectOwner: Owner; target: AclTarget }): Promise<{ acl: Acl; canned?: string }> {
  const body = await readSmallBody(ctx.body(), 64 * 1024);
  const fromHeaders = carriesAclHeaders(ctx.req);
  if (fromHeaders && body.length > 0) throw s3error('UnexpectedContent');
  if (fromHeaders) return aclFromRequestHeaders(ctx.req.headers, c, await resolver(svc))!;
  if (body.length === 0) throw s3error('MissingSecurityHeader', 'Your request was missing a required header', { MissingHeaderName: 'x-amz-acl' });
  const acl = parseAclXml(body.toString('utf8'), await resolver(svc));
  const resourceOwner = c.target === 'bucket' ? c.bucketOwner : c.objectOwner;
  if (acl.owner.id !== resourceOwner.id) throw s3error('AccessDenied');
  return { acl: { owner: resourceOwner, grants: acl.grants } };
}

function aclResult(acl: Acl, extra: S3Result['headers'] = {}): S3Result {
  return { status: 200, headers: { 'Content-Type': 'application/xml', ...extra }, body: aclToXml(acl) };
}

/**
 * What a reader sees: owner-only under BucketOwnerEnforced, else the ACL as stored — also
 * under IgnorePublicAcls, which "doesn't affect the persistence of any existing ACLs": a
 * client that reads, edits and writes back an ACL must not silently lose grants.
 */
function visible(access: BucketAccess, acl: Acl, bucketOwner: Owner): Acl {
  return access.aclsEnabled ? acl : enforcedOwnerAcl(bucketOwner);
}

const privateAcl = (owner: Owner): Acl => cannedAcl('private', { bucketOwner: owner, objectOwner: owner, target: 'bucket' });

export const getBucketAcl: Handler<'GetBucketAcl'> = async (ctx, svc) => {
  const access = await svc.authorizer.access.get(ctx.op.bucket);
  const owner = await accountOwner(svc, ctx.bucket!.accountId);
  return aclResult(visible(access, access.acl ?? privateAcl(owner), owner));
};

export const putBucketAcl: Handler<'PutBucketAcl'> = async (ctx, svc) => {
  const access = await svc.authorizer.access.get(ctx.op.bucket);
  const owner = await accountOwner(svc, ctx.bucket!.accountId);
  const { acl, canned } = await requestedAcl(ctx, svc, { bucketOwner: owner, objectOwner: owner, target: 'bucket' });
  if (!access.aclsEnabled) {
    // Accepted only when it changes nothing; nothing is stored.
    if (!enforcedAccepts({ acl, ...(canned !== undefined ? { canned } : {}) }, owner.id)) throw s3error('AccessControlListNotSupported');
    return emptyResult(200);
  }
  refusePublic(access, acl);
  await svc.meta.putBucketConfig(ctx.op.bucket, 'acl', JSON.stringify(acl));
  svc.authorizer.access.invalidate(ctx.op.bucket);
  return emptyResult(200);
};

export const getObjectAcl: Handler<'GetObjectAcl'> = async (ctx, svc) => {
  const v = await loadForRead(ctx, svc);
  const access = await svc.authorizer.access.get(ctx.op.bucket);
  const bucketOwner = await accountOwner(svc, ctx.bucket!.accountId);
  const owner = v.ownerAccountId === ctx.bucket!.accountId ? bucketOwner : await accountOwner(svc, v.ownerAccountId);
  return aclResult(visible(access, v.acl ?? privateAcl(owner), bucketOwner), versionIdHeader(ctx.bucket!, v));
};

export const putObjectAcl: Handler<'PutObjectAcl'> = async (ctx, svc) => {
  const v = await loadForRead(ctx, svc);
  const access = await svc.authorizer.access.get(ctx.op.bucket);
  const bucketOwner = await accountOwner(svc, ctx.bucket!.accountId);
  const objectOwner = v.ownerAccountId === ctx.bucket!.accountId ? bucketOwner : await accountOwner(svc, v.ownerAccountId);
  const { acl, canned } = await requestedAcl(ctx, svc, { bucketOwner, objectOwner, target: 'object' });
  if (!access.aclsEnabled) {
    if (!enforcedAccepts({ acl, ...(canned !== undefined ? { canned } : {}) }, bucketOwner.id)) throw s3error('AccessControlListNotSupported');
    return emptyResult(200, versionIdHeader(ctx.bucket!, v));
  }
  refusePublic(access, acl);
  await svc.meta.setObjectAcl(ctx.op.bucket, ctx.op.key, v.versionId, acl);
  return emptyResult(200, versionIdHeader(ctx.bucket!, v));
};

/** Owner and ACL of an object a request is about to write. */
export interface WriteAcl {
  ownerAccountId: string;
  /** undefined = the default private ACL. */
  acl?: Acl;
}

/**
 * The owner and ACL of a new object written by this request into `bucket`, from
 * `x-amz-acl` / `x-amz-grant-*` (or a POST form's `acl` field, passed as `canned`).
 */
export async function writeAcl(
  svc: Services, req: S3Request, principal: AuthorizedRequest['principal'], bucket: BucketRecord, decision: Decision, form?: { canned: string | undefined },
): Promise<WriteAcl> {
  const access = await svc.authorizer.access.get(bucket.name);
  const canned = form ? form.canned : header(req, 'x-amz-acl')?.trim();
  const headers = form ? (canned === undefined ? {} : { 'x-amz-acl': canned }) : req.headers;
  const carries = canned !== undefined || (!form && hasGrantHeaders(req.headers));
  const writer = principal.kind === 'anonymous' ? undefined : principal.accountId;
  const ownerAccountId = objectOwnerOf(access.ownership, bucket.accountId, writer, canned);
  if (!carries) return { ownerAccountId };
  const bucketOwner = await accountOwner(svc, bucket.accountId);
  const objectOwner = ownerAccountId === bucket.accountId ? bucketOwner : await accountOwner(svc, ownerAccountId);
  const parsed = aclFromRequestHeaders(headers, { bucketOwner, objectOwner, target: 'object' }, await resolver(svc))!;
  if (!access.aclsEnabled) {
    if (!enforcedAccepts(parsed, bucketOwner.id)) throw s3error('AccessControlListNotSupported');
    return { ownerAccountId };
  }
  // Authorized while the bucket had ACLs disabled, no ACL permission was needed (the header
  // would have set nothing); ACLs were enabled since. Refuse rather than set an ACL nobody checked.
  if (!decision.trace.some((t) => t.check.startsWith('s3:PutObjectAcl '))) {
    throw s3error('OperationAborted', 'The bucket\'s Object Ownership changed during this request. Try again.');
  }
  refusePublic(access, parsed.acl);
  return { ownerAccountId, acl: parsed.acl };
}

/** The ACL a CreateBucket request carries, if any (undefined = private). */
export async function createBucketAcl(svc: Services, req: S3Request, ownerAccountId: string): Promise<Acl | undefined> {
  if (!carriesAclHeaders(req)) return undefined;
  const owner = await accountOwner(svc, ownerAccountId);
  return aclFromRequestHeaders(req.headers, { bucketOwner: owner, objectOwner: owner, target: 'bucket' }, await resolver(svc))!.acl;
}
