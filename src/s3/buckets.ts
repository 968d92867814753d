/** Bucket lifecycle and simple bucket sub-resources: ListBuckets, Create/Delete/Head, location, versioning, tagging, ACL, encryption. */
import { s3error } from '../errors/s3-errors.js';
import { header } from '../http/request.js';
import { escapeXml, parseXml, S3_XMLNS, textOf } from '../http/xml.js';
import type { S3Result } from '../http/request.js';
import { StorageConflict, type VersioningState } from '../storage/ports.js';
import { emptyResult, readSmallBody, xmlResult } from './common.js';
import type { AuthorizedRequest, Handler, Services } from './context.js';
import { loadForRead } from './objects.js';
import { checkAclHeadersDisabled } from './sse-request.js';
import { parseTaggingXml, taggingXml } from './tags.js';
import { ALL_BLOCKED } from '../authz/bpa/settings.js';

export const listBuckets: Handler<'ListBuckets'> = async (ctx, svc) => {
  const p = ctx.principal;
  if (p.kind === 'anonymous') throw s3error('AccessDenied');
  const account = await svc.meta.getAccount(p.accountId);
  const buckets = await svc.meta.listBuckets(p.accountId);
  const prefix = ctx.req.query.get('prefix');
  const filtered = prefix ? buckets.filter((b) => b.name.startsWith(prefix)) : buckets;
  return xmlResult('ListAllMyBucketsResult', {
    Owner: { ID: account?.canonicalId ?? p.canonicalId, DisplayName: account?.name },
    Buckets: { Bucket: filtered.map((b) => ({ Name: b.name, CreationDate: b.createdAt, BucketRegion: b.region })) },
    Prefix: prefix,
  });
};

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
      if (lc !== svc.config.region) {
        throw svc.config.region === 'us-east-1'
          ? s3error('InvalidLocationConstraint', 'The specified location-constraint is not valid', { LocationConstraint: lc })
          : s3error('IllegalLocationConstraintException', `The ${lc} location constraint is incompatible for the region specific endpoint this request was sent to.`);
      }
      region = lc;
    } else if (svc.config.region !== 'us-east-1') {
      throw s3error('IllegalLocationConstraintException');
    }
  }
  // BucketOwnerEnforced is the default ownership: ACLs other than private are refused.
  const acl = header(req, 'x-amz-acl');
  const ownership = header(req, 'x-amz-object-ownership');
  if (ownership !== undefined && ownership !== 'BucketOwnerEnforced') {
    throw s3error('NotImplemented', 'Object ownership modes other than BucketOwnerEnforced are not implemented yet');
  }
  if ((acl !== undefined && acl !== 'private') || Object.keys(req.headers).some((h) => h.startsWith('x-amz-grant-'))) {
    throw s3error('InvalidBucketAclWithObjectOwnership');
  }
  if (header(req, 'x-amz-bucket-object-lock-enabled')?.toLowerCase() === 'true') {
    throw s3error('NotImplemented', 'Object Lock is not implemented yet');
  }
  try {
    // Block Public Access all on, committed with the bucket itself (S3's default since 2023).
    await svc.meta.createBucket(
      { name: op.bucket, accountId: principal.accountId, region, createdAt: svc.clock.now().toISOString(), versioning: 'Unversioned' },
      { 'public-access-block': JSON.stringify(ALL_BLOCKED) },
    );
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
    svc.authorizer.policies.invalidate(ctx.op.bucket);
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
  return emptyResult(204);
};

export const deleteBucketTagging: Handler<'DeleteBucketTagging'> = async (ctx, svc) => {
  await svc.meta.putBucketConfig(ctx.op.bucket, 'tagging', null);
  return emptyResult(204);
};

/** The owner's FULL_CONTROL grant: the whole ACL under BucketOwnerEnforced (ACLs disabled). */
async function ownerOnlyAcl(svc: Services, accountId: string): Promise<S3Result> {
  const account = await svc.meta.getAccount(accountId);
  const id = escapeXml(account?.canonicalId ?? '');
  const name = escapeXml(account?.name ?? '');
  const body = '<?xml version="1.0" encoding="UTF-8"?>\n'
    + `<AccessControlPolicy xmlns="${S3_XMLNS}"><Owner><ID>${id}</ID><DisplayName>${name}</DisplayName></Owner>`
    + '<AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">'
    + `<ID>${id}</ID><DisplayName>${name}</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>`;
  return { status: 200, headers: { 'Content-Type': 'application/xml' }, body };
}

export const getBucketAcl: Handler<'GetBucketAcl'> = async (ctx, svc) => ownerOnlyAcl(svc, ctx.bucket!.accountId);

/** Under BucketOwnerEnforced only the owner-only ACLs are accepted (S3's behaviour with ACLs disabled). */
async function refuseAclChange(ctx: AuthorizedRequest<'PutBucketAcl' | 'PutObjectAcl'>): Promise<void> {
  checkAclHeadersDisabled(ctx.req);
  if ((await readSmallBody(ctx.body(), 64 * 1024)).length > 0) throw s3error('AccessControlListNotSupported');
}

export const putBucketAcl: Handler<'PutBucketAcl'> = async (ctx) => {
  await refuseAclChange(ctx);
  return emptyResult(200);
};

export const getObjectAcl: Handler<'GetObjectAcl'> = async (ctx, svc) => {
  await loadForRead(ctx, svc);
  return ownerOnlyAcl(svc, ctx.bucket!.accountId);
};

export const putObjectAcl: Handler<'PutObjectAcl'> = async (ctx, svc) => {
  await loadForRead(ctx, svc);
  await refuseAclChange(ctx);
  return emptyResult(200);
};

/** Every bucket encrypts with SSE-S3; this is the default configuration S3 reports. */
export const getBucketEncryption: Handler<'GetBucketEncryption'> = async () => xmlResult('ServerSideEncryptionConfiguration', {
  Rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false },
});

export const getBucketOwnershipControls: Handler<'GetBucketOwnershipControls'> = async () => xmlResult('OwnershipControls', {
  Rule: { ObjectOwnership: 'BucketOwnerEnforced' },
});

const OWNERSHIP_MODES = new Set(['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter']);

/**
 * Only BucketOwnerEnforced (ACLs disabled) exists until ACLs are implemented: the other
 * modes would enable ACLs Kura cannot evaluate yet, so they are refused, not pretended.
 */
export const putBucketOwnershipControls: Handler<'PutBucketOwnershipControls'> = async (ctx) => {
  const root = parseXml((await readSmallBody(ctx.body(), 64 * 1024)).toString('utf8'), 'OwnershipControls', ['OwnershipControls.Rule']);
  const rules = root.Rule;
  const list = Array.isArray(rules) ? rules : [];
  if (list.length !== 1) throw s3error('MalformedXML');
  const mode = textOf(list[0] as Record<string, unknown>, 'ObjectOwnership');
  if (mode === undefined || !OWNERSHIP_MODES.has(mode)) throw s3error('MalformedXML');
  if (mode !== 'BucketOwnerEnforced') throw s3error('NotImplemented', `ObjectOwnership ${mode} (ACLs enabled) is not implemented yet`);
  return emptyResult(200);
};

