/** Version ids and the rules that depend on a bucket's versioning state. */
import { s3error } from '../errors/s3-errors.js';
import type { BucketRecord, ObjectVersion } from '../storage/ports.js';
import { newOpaqueId } from '../util/ids.js';

/** The id a new version gets: a fresh one when versioning is enabled, else the null version. */
export function nextVersionId(bucket: BucketRecord): { versionId: string; replaceNullVersion: boolean } {
  return bucket.versioning === 'Enabled'
    ? { versionId: newOpaqueId(24), replaceNullVersion: false }
    : { versionId: 'null', replaceNullVersion: true };
}

const VERSION_ID_RE = /^[A-Za-z0-9_-]{32}$/;

/** A versionId query parameter: 'null' or one of ours; anything else → InvalidArgument. */
export function parseVersionIdParam(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (v === 'null' || VERSION_ID_RE.test(v)) return v;
  throw s3error('InvalidArgument', 'Invalid version id specified', { ArgumentName: 'versionId', ArgumentValue: v });
}

/** Whether responses carry x-amz-version-id for this version. */
export function versionIdHeader(bucket: BucketRecord, v: Pick<ObjectVersion, 'versionId'>): Record<string, string> {
  if (bucket.versioning === 'Unversioned' && v.versionId === 'null') return {};
  return { 'x-amz-version-id': v.versionId };
}

/**
 * x-amz-version-id on the answer to a write (PutObject, POST, CompleteMultipartUpload, the
 * copy's destination): only a real version id. A write that made the null version — in an
 * unversioned or a versioning-suspended bucket — answers without the header, as S3 does.
 */
export function writtenVersionIdHeader(v: Pick<ObjectVersion, 'versionId'>): Record<string, string> {
  return v.versionId === 'null' ? {} : { 'x-amz-version-id': v.versionId };
}
