/**
 * The S3 operations Kura knows, as one closed union, and the single place that parses a
 * request line into one. Routing in S3 is dispatch on (method, target level, sub-resource
 * keyword); the tables below are that dispatch, in the order S3 applies it.
 *
 * The union is the domain's vocabulary: authz/actions.ts, s3/registry.ts and audit all
 * key on `Operation['kind']` with `satisfies Record<OperationKind, …>`, so adding a kind
 * fails the build until every table handles it.
 */
import { s3error } from '../errors/s3-errors.js';

export const SERVICE_OPERATIONS = [
  'ListBuckets',
  // S3 Control API (account level), addressed by path /v20180820/… and x-amz-account-id.
  'GetAccountPublicAccessBlock', 'PutAccountPublicAccessBlock', 'DeleteAccountPublicAccessBlock',
] as const;

export const BUCKET_OPERATIONS = [
  'CreateBucket', 'DeleteBucket', 'HeadBucket', 'GetBucketLocation',
  'ListObjects', 'ListObjectsV2', 'ListObjectVersions', 'ListMultipartUploads',
  'DeleteObjects', 'PostObject',
  'GetBucketVersioning', 'PutBucketVersioning',
  'GetBucketTagging', 'PutBucketTagging', 'DeleteBucketTagging',
  'GetBucketCors', 'PutBucketCors', 'DeleteBucketCors',
  'GetBucketAcl', 'PutBucketAcl',
  'GetBucketPolicy', 'PutBucketPolicy', 'DeleteBucketPolicy', 'GetBucketPolicyStatus',
  'GetBucketEncryption', 'PutBucketEncryption', 'DeleteBucketEncryption',
  'GetBucketOwnershipControls', 'PutBucketOwnershipControls', 'DeleteBucketOwnershipControls',
  'GetPublicAccessBlock', 'PutPublicAccessBlock', 'DeletePublicAccessBlock',
  'GetBucketLifecycleConfiguration', 'PutBucketLifecycleConfiguration', 'DeleteBucketLifecycle',
  'GetBucketLogging', 'PutBucketLogging',
  'GetBucketNotificationConfiguration', 'PutBucketNotificationConfiguration',
  'GetBucketWebsite', 'PutBucketWebsite', 'DeleteBucketWebsite',
  'GetBucketReplication', 'PutBucketReplication', 'DeleteBucketReplication',
  'GetObjectLockConfiguration', 'PutObjectLockConfiguration',
  'GetBucketRequestPayment', 'PutBucketRequestPayment',
  'GetBucketAccelerateConfiguration', 'PutBucketAccelerateConfiguration',
  'BucketOptions',
] as const;

export const OBJECT_OPERATIONS = [
  'PutObject', 'GetObject', 'HeadObject', 'DeleteObject', 'CopyObject', 'GetObjectAttributes',
  'GetObjectTagging', 'PutObjectTagging', 'DeleteObjectTagging',
  'GetObjectAcl', 'PutObjectAcl',
  'GetObjectRetention', 'PutObjectRetention', 'GetObjectLegalHold', 'PutObjectLegalHold',
  'RestoreObject', 'SelectObjectContent', 'GetObjectTorrent',
  'CreateMultipartUpload', 'UploadPart', 'UploadPartCopy', 'CompleteMultipartUpload',
  'AbortMultipartUpload', 'ListParts',
  'ObjectOptions',
] as const;

export type ServiceOperationKind = (typeof SERVICE_OPERATIONS)[number];
export type BucketOperationKind = (typeof BUCKET_OPERATIONS)[number];
export type ObjectOperationKind = (typeof OBJECT_OPERATIONS)[number];
export type OperationKind = ServiceOperationKind | BucketOperationKind | ObjectOperationKind;

export type Operation =
  | { kind: ServiceOperationKind; level: 'service' }
  | { kind: BucketOperationKind; level: 'bucket'; bucket: string }
  | { kind: ObjectOperationKind; level: 'object'; bucket: string; key: string };

/** The operation value of one kind (distributes over unions of kinds). */
export type OperationOf<K extends OperationKind> = K extends ServiceOperationKind
  ? { kind: K; level: 'service' }
  : K extends BucketOperationKind
    ? { kind: K; level: 'bucket'; bucket: string }
    : { kind: K; level: 'object'; bucket: string; key: string };

export type BucketOperation = Extract<Operation, { level: 'bucket' }>;
export type ObjectOperation = Extract<Operation, { level: 'object' }>;

/** What routing needs to know about the request. */
export interface RouteInput {
  method: string;
  bucket: string | undefined;
  key: string | undefined;
  /** Query parameter names present (sub-resources are bare keywords like `?acl`). */
  query: ReadonlyMap<string, string>;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

type Rule<K> = readonly [subresource: string, kind: K];

// Order matters only where two keywords could co-occur; S3 gives sub-resources precedence
// over listing parameters, and the first match wins.
const BUCKET_GET: readonly Rule<BucketOperationKind>[] = [
  ['versioning', 'GetBucketVersioning'], ['tagging', 'GetBucketTagging'], ['cors', 'GetBucketCors'],
  ['acl', 'GetBucketAcl'], ['location', 'GetBucketLocation'], ['policyStatus', 'GetBucketPolicyStatus'],
  ['policy', 'GetBucketPolicy'], ['encryption', 'GetBucketEncryption'],
  ['ownershipControls', 'GetBucketOwnershipControls'], ['publicAccessBlock', 'GetPublicAccessBlock'],
  ['lifecycle', 'GetBucketLifecycleConfiguration'], ['logging', 'GetBucketLogging'],
  ['notification', 'GetBucketNotificationConfiguration'], ['website', 'GetBucketWebsite'],
  ['replication', 'GetBucketReplication'], ['object-lock', 'GetObjectLockConfiguration'],
  ['requestPayment', 'GetBucketRequestPayment'], ['accelerate', 'GetBucketAccelerateConfiguration'],
  ['versions', 'ListObjectVersions'], ['uploads', 'ListMultipartUploads'],
];
const BUCKET_PUT: readonly Rule<BucketOperationKind>[] = [
  ['versioning', 'PutBucketVersioning'], ['tagging', 'PutBucketTagging'], ['cors', 'PutBucketCors'],
  ['acl', 'PutBucketAcl'], ['policy', 'PutBucketPolicy'], ['encryption', 'PutBucketEncryption'],
  ['ownershipControls', 'PutBucketOwnershipControls'], ['publicAccessBlock', 'PutPublicAccessBlock'],
  ['lifecycle', 'PutBucketLifecycleConfiguration'], ['logging', 'PutBucketLogging'],
  ['notification', 'PutBucketNotificationConfiguration'], ['website', 'PutBucketWebsite'],
  ['replication', 'PutBucketReplication'], ['object-lock', 'PutObjectLockConfiguration'],
  ['requestPayment', 'PutBucketRequestPayment'], ['accelerate', 'PutBucketAccelerateConfiguration'],
];
const BUCKET_DELETE: readonly Rule<BucketOperationKind>[] = [
  ['tagging', 'DeleteBucketTagging'], ['cors', 'DeleteBucketCors'], ['policy', 'DeleteBucketPolicy'],
  ['encryption', 'DeleteBucketEncryption'], ['ownershipControls', 'DeleteBucketOwnershipControls'],
  ['publicAccessBlock', 'DeletePublicAccessBlock'], ['lifecycle', 'DeleteBucketLifecycle'],
  ['website', 'DeleteBucketWebsite'], ['replication', 'DeleteBucketReplication'],
];
const OBJECT_GET: readonly Rule<ObjectOperationKind>[] = [
  ['uploadId', 'ListParts'], ['tagging', 'GetObjectTagging'], ['acl', 'GetObjectAcl'],
  ['attributes', 'GetObjectAttributes'], ['retention', 'GetObjectRetention'],
  ['legal-hold', 'GetObjectLegalHold'], ['torrent', 'GetObjectTorrent'],
];
const OBJECT_PUT: readonly Rule<ObjectOperationKind>[] = [
  ['tagging', 'PutObjectTagging'], ['acl', 'PutObjectAcl'], ['retention', 'PutObjectRetention'],
  ['legal-hold', 'PutObjectLegalHold'],
];
const OBJECT_DELETE: readonly Rule<ObjectOperationKind>[] = [
  ['uploadId', 'AbortMultipartUpload'], ['tagging', 'DeleteObjectTagging'],
];
const OBJECT_POST: readonly Rule<ObjectOperationKind>[] = [
  ['uploads', 'CreateMultipartUpload'], ['uploadId', 'CompleteMultipartUpload'],
  ['restore', 'RestoreObject'], ['select', 'SelectObjectContent'],
];

function firstMatch<K>(rules: readonly Rule<K>[], query: ReadonlyMap<string, string>): K | undefined {
  for (const [sub, kind] of rules) if (query.has(sub)) return kind;
  return undefined;
}

function header(h: RouteInput['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function methodNotAllowed(): never {
  throw s3error('MethodNotAllowed');
}

const CONTROL_PREFIX = '/v20180820/';

/**
 * S3 Control requests are recognised by their path, before any bucket addressing (their
 * Host carries the account id as a prefix). undefined when the path is not S3 Control.
 */
export function parseControlOperation(method: string, rawPath: string): Operation | undefined {
  if (!rawPath.startsWith(CONTROL_PREFIX)) return undefined;
  if (rawPath === `${CONTROL_PREFIX}configuration/publicAccessBlock`) {
    switch (method) {
      case 'GET': return { kind: 'GetAccountPublicAccessBlock', level: 'service' };
      case 'PUT': return { kind: 'PutAccountPublicAccessBlock', level: 'service' };
      case 'DELETE': return { kind: 'DeleteAccountPublicAccessBlock', level: 'service' };
      default: return methodNotAllowed();
    }
  }
  throw s3error('NotImplemented', 'This S3 Control operation is not implemented.');
}

/** Parses (method, bucket, key, query) into an Operation, or throws MethodNotAllowed. */
export function parseOperation(input: RouteInput): Operation {
  const { method, bucket, key, query } = input;
  if (bucket === undefined) {
    if (method === 'GET') return { kind: 'ListBuckets', level: 'service' };
    return methodNotAllowed();
  }
  if (key === undefined) {
    const b = (kind: BucketOperationKind): Operation => ({ kind, level: 'bucket', bucket });
    switch (method) {
      case 'GET': {
        const k = firstMatch(BUCKET_GET, query);
        if (k) return b(k);
        return b(query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects');
      }
      case 'HEAD':
        return b('HeadBucket');
      case 'PUT':
        return b(firstMatch(BUCKET_PUT, query) ?? 'CreateBucket');
      case 'DELETE':
        return b(firstMatch(BUCKET_DELETE, query) ?? 'DeleteBucket');
      case 'POST': {
        if (query.has('delete')) return b('DeleteObjects');
        const ct = header(input.headers, 'content-type') ?? '';
        if (ct.toLowerCase().startsWith('multipart/form-data')) return b('PostObject');
        // S3: a POST to a bucket is a form upload, and must be sent as one.
        throw s3error('PreconditionFailed', 'Bucket POST must be of the enclosure-type multipart/form-data', { Condition: 'Bucket POST must be of the enclosure-type multipart/form-data' });
      }
      case 'OPTIONS':
        return b('BucketOptions');
      default:
        return methodNotAllowed();
    }
  }
  const o = (kind: ObjectOperationKind): Operation => ({ kind, level: 'object', bucket, key });
  switch (method) {
    case 'GET':
      return o(firstMatch(OBJECT_GET, query) ?? 'GetObject');
    case 'HEAD':
      return o('HeadObject');
    case 'PUT': {
      const copy = header(input.headers, 'x-amz-copy-source') !== undefined;
      if (query.has('uploadId') && query.has('partNumber')) return o(copy ? 'UploadPartCopy' : 'UploadPart');
      const k = firstMatch(OBJECT_PUT, query);
      if (k) return o(k);
      return o(copy ? 'CopyObject' : 'PutObject');
    }
    case 'DELETE':
      return o(firstMatch(OBJECT_DELETE, query) ?? 'DeleteObject');
    case 'POST': {
      const k = firstMatch(OBJECT_POST, query);
      if (k) return o(k);
      return methodNotAllowed();
    }
    case 'OPTIONS':
      return o('ObjectOptions');
    default:
      return methodNotAllowed();
  }
}
