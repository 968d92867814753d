/** PutObject, GetObject, HeadObject, DeleteObject, GetObjectAttributes. */
import { s3error } from '../errors/s3-errors.js';
import { bucketArn, existenceCheckRequest } from '../authz/actions.js';
import { versionMemoKey } from '../authz/authorizer.js';
import { header, type S3Result } from '../http/request.js';
import type { InlineBlob, ObjectMeta, ObjectVersion } from '../storage/ports.js';
import { checksumHeader, type ChecksumAlgorithm } from '../util/checksums.js';
import { parseChecksumRequest, verifyChecksums } from './checksum-request.js';
import { emptyResult, httpDate, metaFromHeaders, metaHeaders, xmlResult } from './common.js';
import { checkReadConditions, deletePrecondition, parseRange, readConditionHeaders, writePrecondition } from './conditions.js';
import type { AuthorizedRequest, Handler, Services } from './context.js';
import { discardBlobs, readInlineObject, readObject, storeData, type StoredData } from './object-io.js';
import { checkObjectLockHeaders, encryptionForWrite, objectKeyFor, opaqueEtag, sseDepsOf, sseHeaders, type WriteEncryption } from './sse.js';
import { parseTaggingHeader, tagCount } from './tags.js';
import { nextVersionId, parseVersionIdParam, versionIdHeader, writtenVersionIdHeader } from './versions.js';
import { intHeader, intParam } from './common.js';
import { writeAcl, type WriteAcl } from './acl.js';

export const MIN_PART_SIZE = 5 * 1024 * 1024;

/** Commits a new version and cleans up whatever it replaced. */
export async function commitVersion(
  svc: Services, v: ObjectVersion, replaceNullVersion: boolean, precondition: ((c: ObjectVersion | undefined) => void) | undefined, inline?: InlineBlob,
): Promise<void> {
  const garbage = await svc.meta.insertVersion(v, {
    replaceNullVersion,
    precondition: precondition && wrapPrecondition(precondition),
    inline: inline ? [inline] : undefined,
  });
  discardBlobs(svc, garbage.blobIds);
}

/** The version record of a single-part object whose data was just stored (PUT, POST, Copy). */
export function singlePartVersion(svc: Services, f: {
  bucket: string; key: string; versionId: string; owner: WriteAcl; meta: ObjectMeta; tags: Record<string, string>;
  stored: StoredData; checksum: { algorithm: ChecksumAlgorithm; value: string } | undefined; enc: WriteEncryption;
}): ObjectVersion {
  return {
    bucket: f.bucket,
    key: f.key,
    versionId: f.versionId,
    isDeleteMarker: false,
    size: f.stored.piece.size,
    // The MD5 of the bytes for single-part SSE-S3 objects (a copy is single-part too); opaque for SSE-KMS and SSE-C.
    etag: opaqueEtag(f.enc.objectKey, f.stored.md5),
    lastModified: svc.clock.now().toISOString(),
    ownerAccountId: f.owner.ownerAccountId,
    ...(f.owner.acl ? { acl: f.owner.acl } : {}),
    meta: f.meta,
    checksum: f.checksum ? { ...f.checksum, type: 'FULL_OBJECT' } : null,
    tags: f.tags,
    uploadId: null,
    pieces: [f.stored.piece],
    sse: f.enc.sse,
  };
}

/** Write preconditions look at the live object: a delete marker counts as absent. */
export function wrapPrecondition(p: (c: ObjectVersion | undefined) => void): (c: ObjectVersion | undefined) => void {
  return (c) => p(c && !c.isDeleteMarker ? c : undefined);
}

export const putObject: Handler<'PutObject'> = async (ctx, svc) => {
  const { req, op, bucket } = ctx;
  const b = bucket!;
  checkObjectLockHeaders(req);
  const owner = await writeAcl(svc, req, ctx.principal, b, ctx.decision);
  const enc = await encryptionForWrite(svc, req, ctx.principal, op);
  const length = ctx.contentLength;
  if (length === undefined) throw s3error('MissingContentLength');
  const meta = metaFromHeaders(req);
  const tags = parseTaggingHeader(header(req, 'x-amz-tagging'));
  const cr = parseChecksumRequest(req);
  const pre = writePrecondition(req);
  if (pre) wrapPrecondition(pre)(await svc.meta.getObjectVersion(op.bucket, op.key));
  const { versionId, replaceNullVersion } = nextVersionId(b);

  const stored = await storeData(svc, ctx.body(), { bucket: op.bucket, key: op.key, versionId }, {
    checksums: cr.compute,
    maxBytes: svc.config.maxObjectSize,
    expectedBytes: length,
    ...(enc.objectKey ? { objectKey: enc.objectKey } : {}),
  });
  let checksumValue: string | undefined;
  try {
    checksumValue = verifyChecksums(cr, stored.md5, stored.digests, ctx.trailers());
    const v = singlePartVersion(svc, {
      bucket: op.bucket, key: op.key, versionId, owner, meta, tags, stored, enc,
      checksum: cr.algorithm && checksumValue ? { algorithm: cr.algorithm, value: checksumValue } : undefined,
    });
    const etag = v.etag;
    await commitVersion(svc, v, replaceNullVersion, pre, stored.inline);
    const headers: S3Result['headers'] = { ETag: etag, ...sseHeaders(enc.sse), ...writtenVersionIdHeader(v) };
    if (cr.algorithm && checksumValue) {
      headers[checksumHeader(cr.algorithm)] = checksumValue;
      headers['x-amz-checksum-type'] = 'FULL_OBJECT';
    }
    return emptyResult(200, headers);
  } catch (e) {
    discardBlobs(svc, [stored.piece.blobId]);
    throw e;
  }
};

/** Loads the addressed version for reads; maps absence and delete markers to S3's answers. */
export async function loadForRead(ctx: AuthorizedRequest<'GetObject' | 'HeadObject' | 'GetObjectAttributes' | 'GetObjectTagging' | 'PutObjectTagging' | 'DeleteObjectTagging' | 'GetObjectAcl' | 'PutObjectAcl'>, svc: Services): Promise<ObjectVersion> {
  const { req, op, bucket } = ctx;
  const versionId = parseVersionIdParam(req.query.get('versionId'));
  // Authorization may already have read this object (a policy on its tags): read it once.
  const mk = versionMemoKey(op.bucket, op.key, versionId);
  const v = ctx.versions?.has(mk) ? ctx.versions.get(mk) : await svc.meta.getObjectVersion(op.bucket, op.key, versionId);
  if (!v) {
    // S3 says "no such key" only to callers who may list the bucket; others learn nothing.
    const list = await svc.authorizer.authorize({
      req: existenceCheckRequest(req), principal: ctx.principal, auth: ctx.auth, known: [bucket],
      checks: [{ action: 's3:ListBucket', resource: bucketArn(op.bucket), bucket: op.bucket }],
    });
    if (list.effect !== 'Allow') throw s3error('AccessDenied');
    if (versionId !== undefined) throw s3error('NoSuchVersion', undefined, { Key: op.key, VersionId: versionId });
    throw s3error('NoSuchKey', undefined, { Key: op.key });
  }
  if (v.isDeleteMarker) {
    const h = { 'x-amz-delete-marker': 'true', ...versionIdHeader(bucket!, v) };
    if (versionId !== undefined) {
      throw s3error('MethodNotAllowed', undefined, { Method: req.method, ResourceType: 'DeleteMarker' }, { ...h, 'Last-Modified': httpDate(v.lastModified), Allow: 'DELETE' });
    }
    throw s3error('NoSuchKey', undefined, { Key: op.key }, h);
  }
  return v;
}

const OVERRIDES: readonly [string, string][] = [
  ['response-content-type', 'Content-Type'],
  ['response-content-language', 'Content-Language'],
  ['response-expires', 'Expires'],
  ['response-cache-control', 'Cache-Control'],
  ['response-content-disposition', 'Content-Disposition'],
  ['response-content-encoding', 'Content-Encoding'],
];

function objectHeaders(ctx: AuthorizedRequest<'GetObject' | 'HeadObject'>, v: ObjectVersion, lastModified: string): Record<string, string> {
  const h = metaHeaders(v.meta);
  h.ETag = v.etag;
  h['Last-Modified'] = lastModified;
  h['Accept-Ranges'] = 'bytes';
  Object.assign(h, sseHeaders(v.sse), versionIdHeader(ctx.bucket!, v));
  if (tagCount(v.tags) > 0) h['x-amz-tagging-count'] = String(tagCount(v.tags));
  const overrides = OVERRIDES.filter(([q]) => ctx.req.query.has(q));
  if (overrides.length > 0 && ctx.principal.kind === 'anonymous') {
    throw s3error('InvalidRequest', 'Request specific response headers cannot be used for anonymous GET requests.');
  }
  for (const [q, name] of overrides) h[name] = ctx.req.query.get(q)!;
  return h;
}

function checksumHeaders(ctx: AuthorizedRequest<'GetObject' | 'HeadObject'>, v: ObjectVersion, whole: boolean): Record<string, string> {
  if (!v.checksum || !whole || header(ctx.req, 'x-amz-checksum-mode')?.toUpperCase() !== 'ENABLED') return {};
  return { [checksumHeader(v.checksum.algorithm)]: v.checksum.value, 'x-amz-checksum-type': v.checksum.type };
}

/** Shared by GET and HEAD: conditions, partNumber, Range → status, headers and byte range. */
function planRead(ctx: AuthorizedRequest<'GetObject' | 'HeadObject'>, v: ObjectVersion): { status: number; headers: Record<string, string>; start: number; end: number } {
  const { req } = ctx;
  const lastModified = httpDate(v.lastModified);
  checkReadConditions(readConditionHeaders(req), v, { 'Last-Modified': lastModified });
  const headers = objectHeaders(ctx, v, lastModified);
  const partParam = req.query.get('partNumber');
  if (partParam !== undefined) {
    const n = intParam(req, 'partNumber', 1, 1, 10000);
    if (header(req, 'range') !== undefined) throw s3error('InvalidRequest', 'Cannot specify both Range header and partNumber query parameter');
    const multipart = v.uploadId !== null;
    const parts = multipart ? v.pieces : [{ ...v.pieces[0]!, partNumber: 1 }];
    let offset = 0;
    for (const p of parts) {
      if ((p.partNumber ?? 1) === n) {
        const start = offset;
        const end = offset + p.size - 1;
        if (multipart) headers['x-amz-mp-parts-count'] = String(parts.length);
        // An object not made by multipart is its own part 1: the whole object, as a 206.
        if (!multipart && v.size === 0) return { status: 200, headers: { ...headers, 'Content-Length': '0', ...checksumHeaders(ctx, v, true) }, start: 0, end: -1 };
        if (!multipart) return { status: 206, headers: { ...headers, 'Content-Length': String(v.size), 'Content-Range': `bytes 0-${v.size - 1}/${v.size}`, ...checksumHeaders(ctx, v, true) }, start: 0, end: v.size - 1 };
        return { status: 206, headers: { ...headers, 'Content-Length': String(p.size), 'Content-Range': `bytes ${start}-${end}/${v.size}` }, start, end };
      }
      offset += p.size;
    }
    throw s3error('InvalidPartNumber');
  }
  const range = parseRange(header(req, 'range'), v.size);
  if (range) {
    return {
      status: 206,
      headers: { ...headers, 'Content-Length': String(range.end - range.start + 1), 'Content-Range': `bytes ${range.start}-${range.end}/${v.size}` },
      start: range.start,
      end: range.end,
    };
  }
  headers['Content-Length'] = String(v.size);
  return { status: 200, headers: Object.assign(headers, checksumHeaders(ctx, v, true)), start: 0, end: v.size - 1 };
}

function rejectSseOnRead(ctx: AuthorizedRequest<'GetObject' | 'HeadObject'>): void {
  if (header(ctx.req, 'x-amz-server-side-encryption') !== undefined) {
    throw s3error('InvalidArgument', 'x-amz-server-side-encryption header is not supported for this operation.');
  }
}

export const getObject: Handler<'GetObject'> = async (ctx, svc) => {
  rejectSseOnRead(ctx);
  const v = await loadForRead(ctx, svc);
  const plan = planRead(ctx, v);
  const objectKey = await objectKeyFor(sseDepsOf(svc), ctx.req, ctx.principal, ctx.op, v.sse);
  const inline = await readInlineObject(svc, v, plan.start, plan.end, objectKey);
  return { status: plan.status, headers: plan.headers, body: inline ?? readObject(svc, v, plan.start, plan.end, objectKey) };
};

export const headObject: Handler<'HeadObject'> = async (ctx, svc) => {
  rejectSseOnRead(ctx);
  const v = await loadForRead(ctx, svc);
  const plan = planRead(ctx, v);
  // HEAD needs what GET needs: the SSE-C key, or the caller's kms:Decrypt on the object's key.
  await objectKeyFor(sseDepsOf(svc), ctx.req, ctx.principal, ctx.op, v.sse);
  return { status: plan.status, headers: plan.headers };
};

export const deleteObject: Handler<'DeleteObject'> = async (ctx, svc) => {
  const { req, op, bucket } = ctx;
  const result = await deleteOne(svc, bucket!, op.key, parseVersionIdParam(req.query.get('versionId')), header(req, 'if-match'));
  const headers: Record<string, string> = {};
  if (result.deleteMarker) headers['x-amz-delete-marker'] = 'true';
  if (result.versionId !== undefined) headers['x-amz-version-id'] = result.versionId;
  return emptyResult(204, headers);
};

export interface DeleteOutcome {
  deleteMarker: boolean;
  /** Version id to report, if any. */
  versionId: string | undefined;
}

/** DeleteObject semantics for each versioning state; shared with DeleteObjects. */
export async function deleteOne(svc: Services, b: NonNullable<AuthorizedRequest['bucket']>, key: string, versionId: string | undefined, ifMatch?: string): Promise<DeleteOutcome> {
  // Conditional deletes are checked in the delete's own transaction: no other write between.
  const precondition = deletePrecondition(ifMatch);
  if (versionId !== undefined) {
    const { removed, blobIds } = await svc.meta.removeVersion(b.name, key, versionId, precondition);
    discardBlobs(svc, blobIds);
    return { deleteMarker: removed?.isDeleteMarker ?? false, versionId };
  }
  if (b.versioning === 'Unversioned') {
    const { blobIds } = await svc.meta.removeVersion(b.name, key, 'null', precondition);
    discardBlobs(svc, blobIds);
    return { deleteMarker: false, versionId: undefined };
  }
  const { versionId: id, replaceNullVersion } = nextVersionId(b);
  const marker: ObjectVersion = {
    bucket: b.name,
    key,
    versionId: id,
    isDeleteMarker: true,
    size: 0,
    etag: '',
    lastModified: svc.clock.now().toISOString(),
    ownerAccountId: b.accountId,
    meta: { user: {} },
    checksum: null,
    tags: {},
    uploadId: null,
    pieces: [],
    sse: { algorithm: 'AES256' },
  };
  const garbage = await svc.meta.insertVersion(marker, { replaceNullVersion, ...(precondition ? { precondition } : {}) });
  discardBlobs(svc, garbage.blobIds);
  return { deleteMarker: true, versionId: id };
}

const ATTRIBUTES = new Set(['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize']);

export const getObjectAttributes: Handler<'GetObjectAttributes'> = async (ctx, svc) => {
  const { req } = ctx;
  const wanted = (header(req, 'x-amz-object-attributes') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (wanted.length === 0 || wanted.some((a) => !ATTRIBUTES.has(a))) {
    throw s3error('InvalidArgument', 'Invalid attribute name specified.', { ArgumentName: 'x-amz-object-attributes' });
  }
  const v = await loadForRead(ctx, svc);
  // Checksums and ETags are digests of the plaintext: SSE-C needs its key, SSE-KMS kms:Decrypt.
  await objectKeyFor(sseDepsOf(svc), ctx.req, ctx.principal, ctx.op, v.sse);
  checkReadConditions(readConditionHeaders(req), v);
  const body: Record<string, unknown> = {};
  if (wanted.includes('ETag')) body.ETag = v.etag.replace(/"/g, '');
  if (wanted.includes('Checksum') && v.checksum) {
    body.Checksum = { [`Checksum${v.checksum.algorithm}`]: v.checksum.value, ChecksumType: v.checksum.type };
  }
  if (wanted.includes('ObjectParts') && v.uploadId !== null) {
    // Sent as headers (the API's MaxParts / PartNumberMarker), not query parameters.
    const maxParts = intHeader(req, 'x-amz-max-parts', 1000, 0, 1000);
    const marker = intHeader(req, 'x-amz-part-number-marker', 0, 0, 10000);
    const after = v.pieces.filter((p) => (p.partNumber ?? 0) > marker);
    const page = after.slice(0, maxParts);
    const alg = v.checksum?.algorithm as ChecksumAlgorithm | undefined;
    body.ObjectParts = {
      PartsCount: v.pieces.length,
      PartNumberMarker: marker,
      NextPartNumberMarker: page.length ? page[page.length - 1]!.partNumber : marker,
      MaxParts: maxParts,
      IsTruncated: after.length > page.length,
      Part: page.map((p) => ({
        PartNumber: p.partNumber,
        Size: p.size,
        ...(alg && p.checksum ? { [`Checksum${alg}`]: p.checksum } : {}),
      })),
    };
  }
  if (wanted.includes('StorageClass')) body.StorageClass = v.meta.storageClass ?? 'STANDARD';
  if (wanted.includes('ObjectSize')) body.ObjectSize = v.size;
  return xmlResult('GetObjectAttributesResponse', body as never, 200, {
    'Last-Modified': httpDate(v.lastModified),
    ...versionIdHeader(ctx.bucket!, v),
  });
};
