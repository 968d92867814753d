/**
 * CopyObject, and the copy-source handling it shares with UploadPartCopy. A copy is a new
 * single-part object: the source is decrypted as it streams and re-encrypted under the
 * destination's own context, so no blob is ever shared between two objects.
 */
import { s3error } from '../errors/s3-errors.js';
import { header, type S3Request, type S3Result } from '../http/request.js';
import { parseCopySource, requiredChecks } from '../authz/actions.js';
import { accessDenied, versionMemoKey } from '../authz/authorizer.js';
import type { BucketRecord, ObjectMeta, ObjectVersion } from '../storage/ports.js';
import { parseChecksumAlgorithm, type ChecksumAlgorithm } from '../util/checksums.js';
import { isoDate, metaFromHeaders, xmlResult } from './common.js';
import { checkCopySourceConditions, writePrecondition } from './conditions.js';
import type { AuthorizedRequest, Handler, Services } from './context.js';
import { discardBlobs, readObject, storeData } from './object-io.js';
import { commitVersion, singlePartVersion, wrapPrecondition } from './objects.js';
import { checkObjectLockHeaders, encryptionForWrite, objectKeyFor, sseDepsOf, sseHeaders } from './sse.js';
import { parseTaggingHeader } from './tags.js';
import { nextVersionId, parseVersionIdParam, versionIdHeader, writtenVersionIdHeader } from './versions.js';
import { writeAcl } from './acl.js';

/** A resolved copy source: the version to read and the bucket it lives in. */
export interface LoadedCopySource {
  bucket: BucketRecord;
  version: ObjectVersion;
  /** The version id named in x-amz-copy-source, if any. */
  requestedVersionId: string | undefined;
}

/** Resolves x-amz-copy-source (already authorized by the pipeline) to a readable version, with S3's copy-specific errors. */
export async function loadCopySource(req: S3Request, svc: Services): Promise<LoadedCopySource> {
  const src = parseCopySource(header(req, 'x-amz-copy-source'));
  const requestedVersionId = parseVersionIdParam(src.versionId);
  const bucket = await svc.meta.getBucket(src.bucket);
  if (!bucket) throw s3error('NoSuchBucket', undefined, { BucketName: src.bucket });
  const expected = header(req, 'x-amz-source-expected-bucket-owner');
  if (expected !== undefined && expected !== bucket.accountId) throw s3error('AccessDenied');
  const v = await svc.meta.getObjectVersion(src.bucket, src.key, requestedVersionId);
  if (!v) {
    if (requestedVersionId !== undefined) throw s3error('NoSuchVersion', undefined, { Key: src.key, VersionId: requestedVersionId });
    throw s3error('NoSuchKey', undefined, { Key: src.key });
  }
  if (v.isDeleteMarker) {
    // Naming a delete marker explicitly is a client error; reaching one as the latest version is "not found".
    if (requestedVersionId !== undefined) throw s3error('InvalidRequest', 'The source of a copy request may not specifically refer to a delete marker by version id.');
    throw s3error('NoSuchKey', undefined, { Key: src.key });
  }
  return { bucket, version: v, requestedVersionId };
}

/**
 * Authorization left out the tag permissions of a copy when the source it read had no tags
 * (actions.ts, ifCopySourceTagged). If the source read here has tags — it was rewritten in
 * between — those permissions are decided now, on this version, before anything is copied.
 */
async function authorizeTagsToCopy(ctx: AuthorizedRequest<'CopyObject'>, svc: Services, sv: ObjectVersion): Promise<void> {
  if (Object.keys(sv.tags).length === 0) return;
  const src = parseCopySource(header(ctx.req, 'x-amz-copy-source'));
  const seen = ctx.versions?.get(versionMemoKey(src.bucket, src.key, src.versionId));
  if (seen !== undefined && seen.versionId === sv.versionId && Object.keys(seen.tags).length > 0) return;
  const checks = requiredChecks(ctx.op, ctx.req).filter((c) => c.ifCopySourceTagged).map(({ ifCopySourceTagged: _, ...c }) => c);
  const decision = await svc.authorizer.authorize({ req: ctx.req, principal: ctx.principal, auth: ctx.auth, checks, known: [ctx.bucket] });
  if (decision.effect !== 'Allow') throw accessDenied(decision, ctx.principal, ctx.bucket?.accountId);
}

/** The key a copy source's data opens with: its SSE-C key from the copy-source headers, or KMS with the caller's rights. */
export async function copySourceKey(svc: Services, req: S3Request, principal: AuthorizedRequest['principal'], src: LoadedCopySource): Promise<Buffer | undefined> {
  return objectKeyFor(sseDepsOf(svc), req, principal, { bucket: src.bucket.name, key: src.version.key }, src.version.sse, 'copy-source');
}

/** x-amz-copy-source-version-id, sent when the source has a real version id or its bucket has versioning configured. */
export function copySourceVersionHeader(src: LoadedCopySource): Record<string, string> {
  const h = versionIdHeader(src.bucket, src.version);
  return h['x-amz-version-id'] !== undefined ? { 'x-amz-copy-source-version-id': h['x-amz-version-id'] } : {};
}

/** The "larger than a copy source may be" refusal, shared with UploadPartCopy. */
export function copySourceTooLarge(max: number): Error {
  return s3error('InvalidRequest', `The specified copy source is larger than the maximum allowable size for a copy source: ${max}`);
}

type Directive = 'COPY' | 'REPLACE';

function parseDirective(req: S3Request, name: string): Directive {
  const v = header(req, name);
  if (v === undefined || v === 'COPY') return 'COPY';
  if (v === 'REPLACE') return 'REPLACE';
  const what = name === 'x-amz-metadata-directive' ? 'metadata' : 'tagging';
  throw s3error('InvalidArgument', `Unknown ${what} directive.`, { ArgumentName: name, ArgumentValue: v });
}

/** Source metadata minus what S3 never carries across a copy (storage class, website redirect). */
function copiedMeta(src: ObjectMeta): ObjectMeta {
  const { storageClass: _sc, websiteRedirectLocation: _wr, user, ...rest } = src;
  return { ...rest, user: { ...user } };
}

const SSE_REQUEST_HEADERS = ['x-amz-server-side-encryption', 'x-amz-server-side-encryption-customer-algorithm', 'x-amz-server-side-encryption-aws-kms-key-id', 'x-amz-server-side-encryption-context', 'x-amz-server-side-encryption-bucket-key-enabled'];

/** Whether a request changes anything S3 lets an in-place copy change. */
function changesSomething(req: S3Request, metadataDirective: Directive): boolean {
  if (metadataDirective === 'REPLACE') return true;
  const changing = ['x-amz-storage-class', 'x-amz-website-redirect-location', 'x-amz-checksum-algorithm', ...SSE_REQUEST_HEADERS];
  return changing.some((h) => header(req, h) !== undefined);
}

/** CopyObject: a new single-part object from an existing one, with S3's directive and self-copy rules. */
export const copyObject: Handler<'CopyObject'> = async (ctx, svc) => {
  const { req, op, bucket } = ctx;
  const dest = bucket!;
  checkObjectLockHeaders(req);
  const owner = await writeAcl(svc, req, ctx.principal, dest, ctx.decision);
  const metadataDirective = parseDirective(req, 'x-amz-metadata-directive');
  const taggingDirective = parseDirective(req, 'x-amz-tagging-directive');
  // Validated whatever the directive, so a bad storage class or redirect is refused up front.
  const requestMeta = metaFromHeaders(req);
  const requestTags = taggingDirective === 'REPLACE' ? parseTaggingHeader(header(req, 'x-amz-tagging')) : undefined;
  const algHeader = header(req, 'x-amz-checksum-algorithm');
  const requestedAlg = algHeader !== undefined ? parseChecksumAlgorithm(algHeader, 'x-amz-checksum-algorithm') : undefined;

  const src = await loadCopySource(req, svc);
  const sv = src.version;
  checkCopySourceConditions(req, sv);
  if (taggingDirective !== 'REPLACE') await authorizeTagsToCopy(ctx, svc, sv);

  if (src.bucket.name === op.bucket && sv.key === op.key && !changesSomething(req, metadataDirective)) {
    // An explicit older version copied over its own key is how S3 restores a version; only the current one is "itself".
    const latest = src.requestedVersionId === undefined ? sv : await svc.meta.getObjectVersion(op.bucket, op.key);
    if (latest?.versionId === sv.versionId) {
      throw s3error('InvalidRequest', "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.");
    }
  }
  const max = svc.config.maxObjectSize;
  if (sv.size > max) throw copySourceTooLarge(max);

  let meta: ObjectMeta;
  if (metadataDirective === 'REPLACE') {
    meta = requestMeta;
  } else {
    meta = copiedMeta(sv.meta);
    if (requestMeta.storageClass !== undefined) meta.storageClass = requestMeta.storageClass;
    if (requestMeta.websiteRedirectLocation !== undefined) meta.websiteRedirectLocation = requestMeta.websiteRedirectLocation;
  }
  const tags = requestTags ?? { ...sv.tags };
  const alg: ChecksumAlgorithm | undefined = requestedAlg ?? sv.checksum?.algorithm;

  const pre = writePrecondition(req);
  if (pre) wrapPrecondition(pre)(await svc.meta.getObjectVersion(op.bucket, op.key));
  const { versionId, replaceNullVersion } = nextVersionId(dest);

  const sourceKey = await copySourceKey(svc, req, ctx.principal, src);
  // The destination is encrypted per this request and the destination bucket's default, never as the source was.
  const enc = await encryptionForWrite(svc, req, ctx.principal, op);
  const stored = await storeData(svc, readObject(svc, sv, 0, sv.size - 1, sourceKey), { bucket: op.bucket, key: op.key, versionId }, {
    checksums: alg ? [alg] : [],
    maxBytes: max,
    expectedBytes: sv.size,
    ...(enc.objectKey ? { objectKey: enc.objectKey } : {}),
  });
  try {
    const checksumValue = alg ? stored.digests.get(alg)!.toString('base64') : undefined;
    const v = singlePartVersion(svc, {
      bucket: op.bucket, key: op.key, versionId, owner, meta, tags, stored, enc,
      checksum: alg && checksumValue ? { algorithm: alg, value: checksumValue } : undefined,
    });
    const etag = v.etag;
    await commitVersion(svc, v, replaceNullVersion, pre, stored.inline);
    const headers: S3Result['headers'] = { ...copySourceVersionHeader(src), ...writtenVersionIdHeader(v), ...sseHeaders(enc.sse) };
    return xmlResult('CopyObjectResult', {
      ETag: etag,
      LastModified: isoDate(v.lastModified),
      ChecksumType: v.checksum ? 'FULL_OBJECT' : undefined,
      ...(alg && checksumValue ? { [`Checksum${alg}`]: checksumValue } : {}),
    }, 200, headers);
  } catch (e) {
    discardBlobs(svc, [stored.piece.blobId]);
    throw e;
  }
};

