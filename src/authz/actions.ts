/**
 * Operation → the IAM checks it needs, as data (one table a reviewer can audit).
 * A check is an action on a resource ARN, plus the bucket whose owner the resource belongs
 * to. Some operations need extra checks triggered by headers (ACL or tagging headers on
 * PUT, the copy source): they are declared here, never in handlers.
 * Sources: S3 UG "Required permissions for Amazon S3 API operations" and the SAR.
 */
import type { Operation, OperationKind } from '../operations/operations.js';
import { header, type S3Request } from '../http/request.js';
import { s3error } from '../errors/s3-errors.js';

export interface Check {
  action: string;
  /** Resource ARN, or '*' for actions without a resource (ListAllMyBuckets). */
  resource: string;
  /** The bucket that owns the resource; undefined for service-level actions. */
  bucket: string | undefined;
  /**
   * The resource is created by this very request: the bucket of CreateBucket's extra checks
   * (its ACL, its ownership controls), the object of a write's ACL and tagging checks. The
   * authority for these is the account that will own the new resource.
   */
  creates?: 'bucket' | 'object';
  /** Needed only when the request's copy source has tags (the tags a COPY directive copies). */
  ifCopySourceTagged?: true;
  /** Needed only when the bucket has ACLs enabled: under BucketOwnerEnforced an accepted ACL header sets nothing. */
  ifAclsEnabled?: true;
  /**
   * The version the check names when it is not the request's `versionId` parameter (a copy
   * source's version, a DeleteObjects entry's): its s3:VersionId.
   */
  versionId?: string;
}

export const bucketArn = (bucket: string, partition = 'aws'): string => `arn:${partition}:s3:::${bucket}`;

/**
 * The resource ListAllMyBuckets is checked against (it has no resource type). Policies grant
 * it with `"Resource": "*"` or, as AWS's own examples do, `"arn:aws:s3:::*"`; both match
 * this, no bucket ARN does. The account's Block Public Access actions stay on `*`: a grant
 * of `s3:*` on `arn:aws:s3:::*` ("every bucket") must not let anyone switch it off.
 */
export const ACCOUNT_LEVEL = 'arn:aws:s3:::*';
export const objectArn = (bucket: string, key: string, partition = 'aws'): string => `arn:${partition}:s3:::${bucket}/${key}`;

type CheckFn = (op: Operation, req: S3Request) => Check[];

const bucketAction = (action: string): CheckFn => (op) => {
  if (op.level === 'service') throw new Error('bucket action on service op');
  return [{ action, resource: bucketArn(op.bucket), bucket: op.bucket }];
};

const objectAction = (action: string, versionedAction?: string): CheckFn => (op, req) => {
  if (op.level !== 'object') throw new Error('object action on non-object op');
  const a = versionedAction && req.query.has('versionId') ? versionedAction : action;
  return [{ action: a, resource: objectArn(op.bucket, op.key), bucket: op.bucket }];
};

function hasAclHeaders(req: S3Request): boolean {
  return Object.keys(req.headers).some((h) => h === 'x-amz-acl' || h.startsWith('x-amz-grant-'));
}

/** PutObject-like writes: s3:PutObject plus the extras the request's headers imply. */
const putLike: CheckFn = (op, req) => {
  const checks = objectAction('s3:PutObject')(op, req);
  const obj = checks[0]!;
  if (hasAclHeaders(req)) checks.push({ ...obj, action: 's3:PutObjectAcl', creates: 'object', ifAclsEnabled: true });
  if (header(req, 'x-amz-tagging') !== undefined) checks.push({ ...obj, action: 's3:PutObjectTagging', creates: 'object' });
  if (header(req, 'x-amz-object-lock-mode') !== undefined || header(req, 'x-amz-object-lock-retain-until-date') !== undefined) {
    checks.push({ ...obj, action: 's3:PutObjectRetention', creates: 'object' });
  }
  if (header(req, 'x-amz-object-lock-legal-hold') !== undefined) checks.push({ ...obj, action: 's3:PutObjectLegalHold', creates: 'object' });
  return checks;
};

/** The parsed x-amz-copy-source header: `/bucket/key?versionId=v` (URL-encoded). */
export interface CopySource {
  bucket: string;
  key: string;
  versionId: string | undefined;
}

/** Parses x-amz-copy-source; malformed → InvalidArgument as S3 does. */
export function parseCopySource(value: string | undefined): CopySource {
  if (!value) throw s3error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source' });
  let v = value;
  let versionId: string | undefined;
  const q = v.indexOf('?');
  if (q >= 0) {
    const params = new URLSearchParams(v.slice(q + 1));
    versionId = params.get('versionId') ?? undefined;
    v = v.slice(0, q);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(v);
  } catch {
    throw s3error('InvalidArgument', 'Invalid copy source encoding', { ArgumentName: 'x-amz-copy-source' });
  }
  if (decoded.startsWith('/')) decoded = decoded.slice(1);
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) {
    throw s3error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source' });
  }
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1), versionId };
}

const copyLike = (dest: CheckFn, copyTags: boolean): CheckFn => (op, req) => {
  const src = parseCopySource(header(req, 'x-amz-copy-source'));
  const srcArn = objectArn(src.bucket, src.key);
  const checks: Check[] = [
    { action: src.versionId ? 's3:GetObjectVersion' : 's3:GetObject', resource: srcArn, bucket: src.bucket, ...(src.versionId ? { versionId: src.versionId } : {}) },
    ...dest(op, req),
  ];
  const directive = (header(req, 'x-amz-tagging-directive') ?? 'COPY').toUpperCase();
  if (copyTags && directive === 'COPY') {
    // Reading the source's tags and writing them on the copy: only when there are tags to copy.
    const destination = checks[1]!;
    checks.push(
      { action: src.versionId ? 's3:GetObjectVersionTagging' : 's3:GetObjectTagging', resource: srcArn, bucket: src.bucket, ifCopySourceTagged: true, ...(src.versionId ? { versionId: src.versionId } : {}) },
      { action: 's3:PutObjectTagging', resource: destination.resource, bucket: destination.bucket, creates: 'object', ifCopySourceTagged: true },
    );
  }
  return checks;
};

const none: CheckFn = () => [];

/**
 * The request as the s3:ListBucket check of a read of a missing key sees it (404 only to
 * callers who may list): without its query, so a read carrying ?prefix=… cannot steer that
 * check into revealing whether a key exists.
 */
export const existenceCheckRequest = (req: S3Request): S3Request => ({ ...req, query: new Map() });

/** PutObjectTagging's checks, which its handler decides with the tags of the body. */
export const putObjectTaggingChecks: CheckFn = objectAction('s3:PutObjectTagging', 's3:PutObjectVersionTagging');

/**
 * Every operation's checks. `satisfies` makes the table exhaustive: a new operation kind
 * does not compile until it is listed here.
 */
export const ACTIONS = {
  ListBuckets: () => [{ action: 's3:ListAllMyBuckets', resource: ACCOUNT_LEVEL, bucket: undefined }],
  GetAccountPublicAccessBlock: () => [{ action: 's3:GetAccountPublicAccessBlock', resource: '*', bucket: undefined }],
  PutAccountPublicAccessBlock: () => [{ action: 's3:PutAccountPublicAccessBlock', resource: '*', bucket: undefined }],
  // DeletePublicAccessBlock (account) is governed by the Put permission, as in the SAR.
  DeleteAccountPublicAccessBlock: () => [{ action: 's3:PutAccountPublicAccessBlock', resource: '*', bucket: undefined }],
  CreateBucket: (op, req) => {
    const checks: Check[] = bucketAction('s3:CreateBucket')(op, req).map((c) => ({ ...c, creates: 'bucket' as const }));
    const b = checks[0]!;
    if (hasAclHeaders(req)) checks.push({ ...b, action: 's3:PutBucketAcl' });
    if (header(req, 'x-amz-object-ownership') !== undefined) checks.push({ ...b, action: 's3:PutBucketOwnershipControls' });
    if (header(req, 'x-amz-bucket-object-lock-enabled')?.toLowerCase() === 'true') {
      checks.push({ ...b, action: 's3:PutBucketObjectLockConfiguration' }, { ...b, action: 's3:PutBucketVersioning' });
    }
    return checks;
  },
  DeleteBucket: bucketAction('s3:DeleteBucket'),
  HeadBucket: bucketAction('s3:ListBucket'),
  GetBucketLocation: bucketAction('s3:GetBucketLocation'),
  ListObjects: bucketAction('s3:ListBucket'),
  ListObjectsV2: bucketAction('s3:ListBucket'),
  ListObjectVersions: bucketAction('s3:ListBucketVersions'),
  ListMultipartUploads: bucketAction('s3:ListBucketMultipartUploads'),
  // Evaluated per key inside the handler (per-key errors go in the 200 body); the bucket
  // check here only establishes that the caller may address the bucket at all.
  DeleteObjects: none,
  // Authenticated from the form fields inside the handler.
  PostObject: none,
  GetBucketVersioning: bucketAction('s3:GetBucketVersioning'),
  PutBucketVersioning: bucketAction('s3:PutBucketVersioning'),
  GetBucketTagging: bucketAction('s3:GetBucketTagging'),
  PutBucketTagging: bucketAction('s3:PutBucketTagging'),
  DeleteBucketTagging: bucketAction('s3:PutBucketTagging'),
  GetBucketCors: bucketAction('s3:GetBucketCORS'),
  PutBucketCors: bucketAction('s3:PutBucketCORS'),
  DeleteBucketCors: bucketAction('s3:PutBucketCORS'),
  GetBucketAcl: bucketAction('s3:GetBucketAcl'),
  PutBucketAcl: bucketAction('s3:PutBucketAcl'),
  GetBucketPolicy: bucketAction('s3:GetBucketPolicy'),
  PutBucketPolicy: bucketAction('s3:PutBucketPolicy'),
  DeleteBucketPolicy: bucketAction('s3:DeleteBucketPolicy'),
  GetBucketPolicyStatus: bucketAction('s3:GetBucketPolicyStatus'),
  GetBucketEncryption: bucketAction('s3:GetEncryptionConfiguration'),
  PutBucketEncryption: bucketAction('s3:PutEncryptionConfiguration'),
  DeleteBucketEncryption: bucketAction('s3:PutEncryptionConfiguration'),
  GetBucketOwnershipControls: bucketAction('s3:GetBucketOwnershipControls'),
  PutBucketOwnershipControls: bucketAction('s3:PutBucketOwnershipControls'),
  DeleteBucketOwnershipControls: bucketAction('s3:PutBucketOwnershipControls'),
  GetPublicAccessBlock: bucketAction('s3:GetBucketPublicAccessBlock'),
  PutPublicAccessBlock: bucketAction('s3:PutBucketPublicAccessBlock'),
  DeletePublicAccessBlock: bucketAction('s3:PutBucketPublicAccessBlock'),
  GetBucketLifecycleConfiguration: bucketAction('s3:GetLifecycleConfiguration'),
  PutBucketLifecycleConfiguration: bucketAction('s3:PutLifecycleConfiguration'),
  DeleteBucketLifecycle: bucketAction('s3:PutLifecycleConfiguration'),
  GetBucketLogging: bucketAction('s3:GetBucketLogging'),
  PutBucketLogging: bucketAction('s3:PutBucketLogging'),
  GetBucketNotificationConfiguration: bucketAction('s3:GetBucketNotification'),
  PutBucketNotificationConfiguration: bucketAction('s3:PutBucketNotification'),
  GetBucketWebsite: bucketAction('s3:GetBucketWebsite'),
  PutBucketWebsite: bucketAction('s3:PutBucketWebsite'),
  DeleteBucketWebsite: bucketAction('s3:DeleteBucketWebsite'),
  GetBucketReplication: bucketAction('s3:GetReplicationConfiguration'),
  PutBucketReplication: bucketAction('s3:PutReplicationConfiguration'),
  DeleteBucketReplication: bucketAction('s3:PutReplicationConfiguration'),
  GetObjectLockConfiguration: bucketAction('s3:GetBucketObjectLockConfiguration'),
  PutObjectLockConfiguration: bucketAction('s3:PutBucketObjectLockConfiguration'),
  GetBucketRequestPayment: bucketAction('s3:GetBucketRequestPayment'),
  PutBucketRequestPayment: bucketAction('s3:PutBucketRequestPayment'),
  GetBucketAccelerateConfiguration: bucketAction('s3:GetAccelerateConfiguration'),
  PutBucketAccelerateConfiguration: bucketAction('s3:PutAccelerateConfiguration'),
  // CORS preflight is not authenticated: the bucket's CORS rules decide.
  BucketOptions: none,
  ObjectOptions: none,
  PutObject: putLike,
  GetObject: objectAction('s3:GetObject', 's3:GetObjectVersion'),
  HeadObject: objectAction('s3:GetObject', 's3:GetObjectVersion'),
  DeleteObject: objectAction('s3:DeleteObject', 's3:DeleteObjectVersion'),
  CopyObject: copyLike(putLike, true),
  GetObjectAttributes: objectAction('s3:GetObjectAttributes', 's3:GetObjectVersionAttributes'),
  GetObjectTagging: objectAction('s3:GetObjectTagging', 's3:GetObjectVersionTagging'),
  // Decided inside the handler once the body's tags are read: they are the request's
  // s3:RequestObjectTag/* and s3:RequestObjectTagKeys (putObjectTaggingChecks).
  PutObjectTagging: none,
  DeleteObjectTagging: objectAction('s3:DeleteObjectTagging', 's3:DeleteObjectVersionTagging'),
  GetObjectAcl: objectAction('s3:GetObjectAcl', 's3:GetObjectVersionAcl'),
  PutObjectAcl: objectAction('s3:PutObjectAcl', 's3:PutObjectVersionAcl'),
  GetObjectRetention: objectAction('s3:GetObjectRetention'),
  PutObjectRetention: objectAction('s3:PutObjectRetention'),
  GetObjectLegalHold: objectAction('s3:GetObjectLegalHold'),
  PutObjectLegalHold: objectAction('s3:PutObjectLegalHold'),
  RestoreObject: objectAction('s3:RestoreObject'),
  SelectObjectContent: objectAction('s3:GetObject'),
  GetObjectTorrent: objectAction('s3:GetObjectTorrent'),
  CreateMultipartUpload: putLike,
  UploadPart: objectAction('s3:PutObject'),
  UploadPartCopy: copyLike(objectAction('s3:PutObject'), false),
  CompleteMultipartUpload: objectAction('s3:PutObject'),
  AbortMultipartUpload: objectAction('s3:AbortMultipartUpload'),
  ListParts: objectAction('s3:ListMultipartUploadParts'),
} satisfies Record<OperationKind, CheckFn>;

/** The checks an operation needs for this request. */
export function requiredChecks(op: Operation, req: S3Request): Check[] {
  return ACTIONS[op.kind](op, req);
}
