/** Bucket lifecycle and simple bucket sub-resources: ListBuckets, Create/Delete/Head, location, versioning, tagging, ownership, encryption. */
import { s3error } from '../errors/s3-errors.js';
import { header } from '../http/request.js';
import { escapeXml, parseXml, S3_XMLNS, textOf } from '../http/xml.js';
import { StorageConflict, type BucketConfigKind, type VersioningState } from '../storage/ports.js';
import { emptyResult, intParam, isoDate, readSmallBody, xmlResult } from './common.js';
import type { Handler } from './context.js';
import { parseTaggingXml, taggingXml } from './tags.js';
import { accountPublicAccessBlock, combine } from '../authz/bpa/settings.js';
import { isPublicAcl } from '../authz/acl/acl.js';
import { isObjectOwnership, parseOwnershipControls, type ObjectOwnership } from '../authz/ownership.js';
import { createBucketAcl, ownerOnly } from './acl.js';
import { bucketEncryptionOf, bucketEncryptionXml, parseBucketEncryption } from './sse.js';

export const listBuckets: Handler<'ListBuckets'> = async (ctx, svc) => {
  const p = ctx.principal;
  if (p.kind === 'anonymous') throw s3error('AccessDenied');
  const account = await svc.meta.getAccount(p.accountId);
  const buckets = await svc.meta.listBuckets(p.accountId);
  const q = ctx.req.query;
  const prefix = q.get('prefix');
  const region = q.get('bucket-region');
  // Paging (max-buckets, continuation-token): without max-buckets every bucket comes back.
  const max = q.get('max-buckets') === undefined ? Infinity : intParam(ctx.req, 'max-buckets', 10_000, 1, 10_000);
  const token = q.get('continuation-token');
  const after = token === undefined ? undefined : decodeBucketToken(token);
  const filtered = buckets
    .filter((b) => (!prefix || b.name.startsWith(prefix)) && (region === undefined || b.region === region) && (after === undefined || b.name > after))
    .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  const page = filtered.slice(0, max);
  const truncated = filtered.length > page.length;
  return xmlResult('ListAllMyBucketsResult', {
    Owner: { ID: account?.canonicalId ?? p.canonicalId, DisplayName: account?.name },
    Buckets: { Bucket: page.map((b) => ({ Name: b.name, CreationDate: isoDate(b.createdAt), BucketRegion: b.region })) },
    ContinuationToken: truncated ? Buffer.from(page[page.length - 1]!.name, 'utf8').toString('base64url') : undefined,
    Prefix: prefix,
  });
};

/** A ListBuckets continuation token: the last name listed, base64url; anything else is refused. */
function decodeBucketToken(token: string): string {
  const name = /^[A-Za-z0-9_-]{1,400}$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : '';
  if (!/^[a-z0-9][a-z0-9.-]{1,254}$/.test(name)) {
    throw s3error('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token', ArgumentValue: token });
  }
  return name;
}

export const createBucket: Handler<'CreateBucket'> = async (ctx, svc) => {
  const { op, req, principal } = ctx;
  if (principal.kind === 'anonymous') throw s3error('AccessDenied');
  if (ctx.bucket) {
    throw ctx.bucket.accountId === principal.accountId ? s3error('BucketAlreadyOwnedByYou', undefined, { BucketName: op.bucket }) : s3error('BucketAlreadyExists', undefined, { BucketName: op.bucket });
  }
  const raw = (await readSmallBody(ctx.body(), 64 * 1024)).toString('utf8');
  let region = svc.config.region;
  if (raw.trim() !== '') {
    const cfg = parseXml(raw, 'CreateBucketConfiguration', []);
    const lc = textOf(cfg, 'LocationConstraint');
    if (lc !== undefined && lc !== '') {
      // us-east-1 is named by leaving the constraint out: S3 refuses it spelled out.
      if (lc !== svc.config.region || lc === 'us-east-1') {
        throw svc.config.region === 'us-east-1'
          ? s3error('InvalidLocationConstraint', 'The specified location-constraint is not valid', { LocationConstraint: lc })
          : s3error('IllegalLocationConstraintException', `The ${lc} location constraint is incompatible for the region specific endpoint this request was sent to.`);
      }
      region = lc;
    } else if (svc.config.region !== 'us-east-1') {
      throw s3error('IllegalLocationConstraintException');
    }
  }
  const ownershipHeader = header(req, 'x-amz-object-ownership')?.trim();
  if (ownershipHeader !== undefined && !isObjectOwnership(ownershipHeader)) {
    throw s3error('InvalidArgument', 'Invalid x-amz-object-ownership header', { ArgumentName: 'x-amz-object-ownership', ArgumentValue: ownershipHeader });
  }
  const defaults = svc.config.newBuckets;
  const ownership: ObjectOwnership = ownershipHeader ?? defaults.objectOwnership;
  if (header(req, 'x-amz-bucket-object-lock-enabled')?.toLowerCase() === 'true') {
    throw s3error('NotImplemented', 'Object Lock is not implemented yet');
  }
  const acl = await createBucketAcl(svc, req, principal.accountId);
  if (acl && ownership === 'BucketOwnerEnforced' && !ownerOnly(acl, principal.canonicalId)) throw s3error('InvalidBucketAclWithObjectOwnership');
  const pab = defaults.blockPublicAccess === false ? undefined : defaults.blockPublicAccess;
  if (acl && isPublicAcl(acl) && combine(pab, await accountPublicAccessBlock(svc.meta, principal.accountId)).blockPublicAcls) throw s3error('AccessDenied');
  const configs: Partial<Record<BucketConfigKind, string>> = { ownership };
  // Block Public Access and ownership are committed with the bucket itself.
  if (pab) configs['public-access-block'] = JSON.stringify(pab);
  if (acl && ownership !== 'BucketOwnerEnforced') configs.acl = JSON.stringify(acl);
  try {
    await svc.meta.createBucket(
      { name: op.bucket, accountId: principal.accountId, region, createdAt: svc.clock.now().toISOString(), versioning: 'Unversioned' },
      configs,
    );
    svc.authorizer.access.invalidate(op.bucket);
  } catch (e) {
    if (e instanceof StorageConflict && e.kind === 'bucket-exists') {
      const existing = await svc.meta.getBucket(op.bucket);
      throw existing?.accountId === principal.accountId ? s3error('BucketAlreadyOwnedByYou') : s3error('BucketAlreadyExists');
    }
    throw e;
  }
  return emptyResult(200, { Location: `/${op.bucket}` });
};

export const deleteBucket: Handler<'DeleteBucket'> = async (ctx, svc) => {
  try {
    await svc.meta.deleteBucket(ctx.op.bucket);
    svc.authorizer.access.invalidate(ctx.op.bucket);
  } catch (e) {
    if (e instanceof StorageConflict && e.kind === 'bucket-not-empty') throw s3error('BucketNotEmpty', undefined, { BucketName: ctx.op.bucket });
    throw e;
  }
  return emptyResult(204);
};

export const headBucket: Handler<'HeadBucket'> = async (ctx) => emptyResult(200, { 'x-amz-bucket-region': ctx.bucket!.region, 'x-amz-access-point-alias': 'false' });

export const getBucketLocation: Handler<'GetBucketLocation'> = async (ctx) => {
  const region = ctx.bucket!.region;
  // S3 reports us-east-1 as an empty LocationConstraint.
  const text = region === 'us-east-1' ? '' : escapeXml(region);
  return { status: 200, headers: { 'Content-Type': 'application/xml' }, body: `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="${S3_XMLNS}">${text}</LocationConstraint>` };
};

export const getBucketVersioning: Handler<'GetBucketVersioning'> = async (ctx) => {
  const state = ctx.bucket!.versioning;
  return xmlResult('VersioningConfiguration', state === 'Unversioned' ? {} : { Status: state });
};

export const putBucketVersioning: Handler<'PutBucketVersioning'> = async (ctx, svc) => {
  const raw = (await readSmallBody(ctx.body(), 64 * 1024)).toString('utf8');
  const cfg = parseXml(raw, 'VersioningConfiguration', []);
  const status = textOf(cfg, 'Status');
  const mfa = textOf(cfg, 'MfaDelete');
  if (mfa !== undefined && mfa !== 'Disabled') {
    if (mfa !== 'Enabled') throw s3error('MalformedXML');
    throw s3error('NotImplemented', 'MFA Delete is not implemented yet');
  }
  if (status === undefined) return emptyResult(200);
  if (status !== 'Enabled' && status !== 'Suspended') throw s3error('MalformedXML');
  await svc.meta.setVersioning(ctx.op.bucket, status as VersioningState);
  return emptyResult(200);
};

export const getBucketTagging: Handler<'GetBucketTagging'> = async (ctx, svc) => {
  const raw = await svc.meta.getBucketConfig(ctx.op.bucket, 'tagging');
  if (raw === undefined) throw s3error('NoSuchTagSet', undefined, { BucketName: ctx.op.bucket });
  return xmlResult('Tagging', taggingXml(JSON.parse(raw) as Record<string, string>));
};

export const putBucketTagging: Handler<'PutBucketTagging'> = async (ctx, svc) => {
  const raw = (await readSmallBody(ctx.body(), 64 * 1024)).toString('utf8');
  const tags = parseTaggingXml(raw, 50);
  await svc.meta.putBucketConfig(ctx.op.bucket, 'tagging', JSON.stringify(tags));
  svc.authorizer.access.invalidate(ctx.op.bucket);
  return emptyResult(204);
};

export const deleteBucketTagging: Handler<'DeleteBucketTagging'> = async (ctx, svc) => {
  await svc.meta.putBucketConfig(ctx.op.bucket, 'tagging', null);
  svc.authorizer.access.invalidate(ctx.op.bucket);
  return emptyResult(204);
};

/** Every bucket has a default encryption: SSE-S3 (and SSE-C blocked) unless configured. */
export const getBucketEncryption: Handler<'GetBucketEncryption'> = async (ctx, svc) => {
  const access = await svc.authorizer.access.get(ctx.op.bucket);
  return { status: 200, headers: { 'Content-Type': 'application/xml' }, body: bucketEncryptionXml(bucketEncryptionOf(access.encryption)) };
};

export const putBucketEncryption: Handler<'PutBucketEncryption'> = async (ctx, svc) => {
  const config = parseBucketEncryption((await readSmallBody(ctx.body(), 64 * 1024)).toString('utf8'));
  if (config.algorithm === 'aws:kms:dsse') throw s3error('NotImplemented', 'DSSE-KMS (dual-layer) is not implemented');
  // Hook for the access-logging issue: a log target bucket may not default to SSE-KMS.
  await svc.meta.putBucketConfig(ctx.op.bucket, 'encryption', JSON.stringify(config));
  svc.authorizer.access.invalidate(ctx.op.bucket);
  return emptyResult(200);
};

/** Back to the default: SSE-S3, SSE-C blocked. */
export const deleteBucketEncryption: Handler<'DeleteBucketEncryption'> = async (ctx, svc) => {
  await svc.meta.putBucketConfig(ctx.op.bucket, 'encryption', null);
  svc.authorizer.access.invalidate(ctx.op.bucket);
  return emptyResult(204);
};

export const getBucketOwnershipControls: Handler<'GetBucketOwnershipControls'> = async (ctx, svc) => {
  const access = await svc.authorizer.access.get(ctx.op.bucket);
  if (!access.ownershipConfigured) throw s3error('OwnershipControlsNotFoundError', undefined, { BucketName: ctx.op.bucket });
  return xmlResult('OwnershipControls', { Rule: { ObjectOwnership: access.ownership } });
};

/**
 * Switching to BucketOwnerEnforced is refused while the bucket ACL grants anyone but the
 * owner (InvalidBucketAclWithObjectOwnership); stored object ACLs are kept, unevaluated,
 * so switching back restores them, as S3 does.
 */
export const putBucketOwnershipControls: Handler<'PutBucketOwnershipControls'> = async (ctx, svc) => {
  const mode = parseOwnershipControls((await readSmallBody(ctx.body(), 64 * 1024)).toString('utf8'));
  if (mode === 'BucketOwnerEnforced') {
    const access = await svc.authorizer.access.get(ctx.op.bucket);
    const owner = await svc.meta.getAccount(ctx.bucket!.accountId);
    if (access.acl && !ownerOnly(access.acl, owner?.canonicalId ?? '')) throw s3error('InvalidBucketAclWithObjectOwnership');
  }
  await svc.meta.putBucketConfig(ctx.op.bucket, 'ownership', mode);
  svc.authorizer.access.invalidate(ctx.op.bucket);
  return emptyResult(200);
};

export const deleteBucketOwnershipControls: Handler<'DeleteBucketOwnershipControls'> = async (ctx, svc) => {
  await svc.meta.putBucketConfig(ctx.op.bucket, 'ownership', null);
  svc.authorizer.access.invalidate(ctx.op.bucket);
  return emptyResult(204);
};
