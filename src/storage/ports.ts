/**
 * The two storage ports. Handlers speak only these interfaces, so the embedded default
 * (SQLite + files) and a later distributed pair (a PostgreSQL-compatible SQL store and an
 * S3-compatible blob tier) are interchangeable. Every implementation runs
 * `storage/contract.test.ts`.
 *
 * The metadata port is operation-shaped rather than a generic transaction API: each write
 * method is one atomic unit with its preconditions inside it (e.g. If-None-Match on PUT is
 * checked in the same transaction that inserts the version). That keeps the atomicity
 * guarantees in the port's contract, and lets the SQLite implementation group-commit
 * many such units under one fsync.
 */
import type { Readable } from 'node:stream';
import type { WrappedKey } from '../crypto/keyring.js';
import type { Acl } from '../authz/acl/acl.js';

export interface AccountRecord {
  id: string; // 12 digits
  name: string;
  canonicalId: string; // 64 hex
  email: string | null;
  createdAt: string; // ISO 8601
}

export interface AccessKeyRecord {
  accessKeyId: string;
  accountId: string;
  /** null for the account's root credentials. */
  userName: string | null;
  /** The secret, sealed under the service master key (never stored in clear). */
  secretSealed: string;
  status: 'Active' | 'Inactive';
  createdAt: string;
}

export type VersioningState = 'Unversioned' | 'Enabled' | 'Suspended';

export interface BucketRecord {
  name: string;
  accountId: string;
  region: string;
  createdAt: string;
  versioning: VersioningState;
}

/** Bucket sub-resources stored as opaque documents (JSON or XML text the handler owns). */
export type BucketConfigKind =
  | 'cors' | 'tagging' | 'policy' | 'encryption' | 'ownership' | 'public-access-block' | 'acl'
  | 'lifecycle' | 'logging' | 'website' | 'notification';

export type AccountConfigKind = 'public-access-block';

/** IAM (and KMS) entities, stored as documents src/iam and src/kms own; unique per account and kind by case-insensitive name. */
export type IamEntityKind = 'user' | 'group' | 'role' | 'policy' | 'mfa' | 'oidc-provider' | 'org' | 'kms-key' | 'kms-alias';

/** System and user metadata S3 stores with an object and returns on GET/HEAD. */
export interface ObjectMeta {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: string;
  websiteRedirectLocation?: string;
  storageClass?: string;
  /** x-amz-meta-* with the prefix removed, names lower-cased as S3 returns them. */
  user: Record<string, string>;
}

export type ChecksumAlgorithmName = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';

export interface ObjectChecksum {
  algorithm: ChecksumAlgorithmName;
  type: 'FULL_OBJECT' | 'COMPOSITE';
  /** base64, with `-N` for composite multipart checksums. */
  value: string;
}

/** A key wrapped locally (AES-256-GCM) under an object key; base64 fields. */
export interface LocalWrap {
  iv: string;
  ct: string;
  tag: string;
}

/**
 * How one stored piece of an object's data is encrypted. Scheme 1 (SSE-S3): the piece's data
 * key wrapped under the service master key. Scheme 2 (SSE-KMS, SSE-C): wrapped under the
 * object key, which only the request can supply (a KMS data key the caller may decrypt, or
 * the customer's key) — see crypto/sse/README.md.
 */
export type PieceEncryption =
  | { scheme: 1; dek: WrappedKey }
  | { scheme: 2; dek: LocalWrap };

/** An object's server-side encryption, as stored. */
export type ObjectSse =
  | { algorithm: 'AES256' }
  | {
      algorithm: 'aws:kms';
      keyArn: string;
      /** The object key as KMS encrypted it (base64 ciphertext blob), context aws:s3:arn = the object. */
      dataKey?: string;
      /** With an S3 Bucket Key: the bucket key as KMS encrypted it (context aws:s3:arn = the bucket) and the per-object derivation nonce. */
      bucketKey?: { dataKey: string; nonce: string };
      /** x-amz-server-side-encryption-context as given (base64 of a JSON object), replayed to KMS. */
      context?: string;
    }
  | {
      algorithm: 'SSE-C';
      /** base64 MD5 of the customer key (echoed to clients). */
      keyMd5: string;
      /** HMAC-SHA256(salt, key), base64: checks a later request's key without storing it. */
      keyHmac: string;
      salt: string;
    };

/** One stored piece of object data: the whole object, or one part of a multipart object. */
export interface DataPiece {
  blobId: string;
  /** Plaintext size in bytes. */
  size: number;
  enc: PieceEncryption;
  /** For multipart objects: the part number and its ETag and checksum (for partNumber GETs and GetObjectAttributes). */
  partNumber?: number;
  etag?: string;
  checksum?: string;
  /**
   * Where the ciphertext lives: absent = the blob store; 'inline' = the metadata store,
   * written in the same transaction as the record that first references it.
   */
  tier?: 'inline';
}

/** Ciphertext of an inline piece, handed to the write that first references it. */
export interface InlineBlob {
  blobId: string;
  data: Buffer;
}

export interface ObjectVersion {
  bucket: string;
  key: string;
  /** 'null' for the null version. */
  versionId: string;
  isDeleteMarker: boolean;
  /** Set by the store; monotonically increasing per store, orders versions newest-first. */
  seq?: number;
  isLatest?: boolean;
  size: number;
  etag: string; // quoted
  lastModified: string; // ISO 8601 with milliseconds
  ownerAccountId: string;
  meta: ObjectMeta;
  checksum: ObjectChecksum | null;
  tags: Record<string, string>;
  /** Set when the object was built by CompleteMultipartUpload (its pieces are bound to it). */
  uploadId: string | null;
  pieces: DataPiece[];
  sse: ObjectSse;
  /** The object's ACL as last set; absent = the default (owner FULL_CONTROL only). Kept, not evaluated, under BucketOwnerEnforced. */
  acl?: Acl;
}

export interface UploadRecord {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: string;
  ownerAccountId: string;
  meta: ObjectMeta;
  tags: Record<string, string>;
  checksumAlgorithm: ChecksumAlgorithmName | null;
  checksumType: 'FULL_OBJECT' | 'COMPOSITE' | null;
  /** Account whose principal started the upload (ListParts/ListMultipartUploads Initiator); absent for anonymous. */
  initiatorAccountId?: string;
  /** The ACL the completed object gets (from the CreateMultipartUpload request). */
  acl?: Acl;
  /** Fixed at CreateMultipartUpload: every part is encrypted under the same object key. Absent = SSE-S3. */
  sse?: ObjectSse;
}

export interface PartRecord {
  uploadId: string;
  partNumber: number;
  size: number;
  etag: string; // quoted
  lastModified: string;
  checksum: string | null; // base64 of the part's checksum in the upload's algorithm
  piece: DataPiece;
}

/** Checked inside the write's transaction against the key's current (latest) version. */
export type WritePrecondition = (current: ObjectVersion | undefined) => void;

export interface InsertVersionOptions {
  /** Replace (remove) an existing null version of this key: unversioned or suspended buckets. */
  replaceNullVersion: boolean;
  precondition?: WritePrecondition;
  /** Inline ciphertext of new pieces (tier 'inline'), stored in the same transaction. */
  inline?: readonly InlineBlob[];
}

/** Blob-store blobs no longer referenced after a write; the caller deletes them after the commit (inline ones the store removes itself). */
export interface Garbage {
  blobIds: string[];
}

export interface ListPage<T> {
  items: T[];
  /** True when more items exist after the last one returned. */
  truncated: boolean;
}

export interface MetadataStore {
  // accounts and keys
  createAccount(a: AccountRecord): Promise<void>;
  getAccount(id: string): Promise<AccountRecord | undefined>;
  getAccountByName(name: string): Promise<AccountRecord | undefined>;
  getAccountByCanonicalId(canonicalId: string): Promise<AccountRecord | undefined>;
  listAccounts(): Promise<AccountRecord[]>;
  createAccessKey(k: AccessKeyRecord): Promise<void>;
  getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined>;
  listAccessKeys(accountId: string): Promise<AccessKeyRecord[]>;
  deleteAccessKey(accessKeyId: string): Promise<boolean>;
  /** false when the key does not exist. */
  setAccessKeyStatus(accessKeyId: string, status: AccessKeyRecord['status']): Promise<boolean>;

  /** An IAM entity's document, looked up by name case-insensitively. */
  getIamEntity(accountId: string, kind: IamEntityKind, name: string): Promise<string | undefined>;
  /**
   * 'create' throws StorageConflict('entity-exists') when the name is taken (in any case);
   * 'replace' throws StorageConflict('no-such-entity') when it is absent.
   */
  putIamEntity(accountId: string, kind: IamEntityKind, name: string, doc: string, mode: 'create' | 'replace'): Promise<void>;
  deleteIamEntity(accountId: string, kind: IamEntityKind, name: string): Promise<boolean>;
  /** Every document of a kind in the account, ordered by lower-cased name. */
  listIamEntities(accountId: string, kind: IamEntityKind): Promise<string[]>;

  /** Account-level documents (e.g. 'public-access-block'); null deletes. */
  getAccountConfig(accountId: string, kind: AccountConfigKind): Promise<string | undefined>;
  putAccountConfig(accountId: string, kind: AccountConfigKind, value: string | null): Promise<void>;

  // buckets
  /**
   * Throws StorageConflict('bucket-exists') when the name is taken. `configs` are stored in
   * the same transaction (a bucket never exists without its initial Block Public Access).
   */
  createBucket(b: BucketRecord, configs?: Partial<Record<BucketConfigKind, string>>): Promise<void>;
  getBucket(name: string): Promise<BucketRecord | undefined>;
  listBuckets(accountId?: string): Promise<BucketRecord[]>;
  /** Throws StorageConflict('bucket-not-empty') when versions or uploads remain. */
  deleteBucket(name: string): Promise<void>;
  setVersioning(name: string, state: VersioningState): Promise<void>;
  getBucketConfig(name: string, kind: BucketConfigKind): Promise<string | undefined>;
  /** null deletes. */
  putBucketConfig(name: string, kind: BucketConfigKind, value: string | null): Promise<void>;

  // objects
  /** The latest version (possibly a delete marker) when versionId is undefined. */
  getObjectVersion(bucket: string, key: string, versionId?: string): Promise<ObjectVersion | undefined>;
  insertVersion(v: ObjectVersion, opts: InsertVersionOptions): Promise<Garbage>;
  /** Removes one version; the previous version becomes latest. undefined when absent. */
  /** Removes one version; `precondition` (checked in the same transaction) sees that version, or undefined when it does not exist. */
  removeVersion(bucket: string, key: string, versionId: string, precondition?: WritePrecondition): Promise<{ removed: ObjectVersion | undefined } & Garbage>;
  setObjectTags(bucket: string, key: string, versionId: string, tags: Record<string, string>): Promise<boolean>;
  /** Replaces a version's ACL; false when the version does not exist. */
  setObjectAcl(bucket: string, key: string, versionId: string, acl: Acl): Promise<boolean>;
  /** Latest non-delete-marker versions with key > after (UTF-8 byte order), starting with prefix. */
  listLatest(bucket: string, opts: { prefix: string; after: string; limit: number }): Promise<ListPage<ObjectVersion>>;
  /**
   * All versions ordered by key, then newest first. Resumes after (afterKey, afterSeq):
   * afterSeq undefined means after every version of afterKey.
   */
  listVersions(bucket: string, opts: { prefix: string; afterKey: string; afterSeq?: number; limit: number }): Promise<ListPage<ObjectVersion>>;
  countObjects(bucket: string): Promise<number>;

  // multipart
  createUpload(u: UploadRecord): Promise<void>;
  getUpload(uploadId: string): Promise<UploadRecord | undefined>;
  /** Ordered by key, then initiation time; resumes after (afterKey, afterUploadId). */
  listUploads(bucket: string, opts: { prefix: string; afterKey: string; afterUploadId?: string; limit: number }): Promise<ListPage<UploadRecord>>;
  /** Replaces a part with the same number; throws StorageConflict('no-such-upload') when the upload is gone. */
  putPart(p: PartRecord, inline?: InlineBlob): Promise<Garbage>;
  listParts(uploadId: string, opts: { afterPartNumber: number; limit: number }): Promise<ListPage<PartRecord>>;
  /** Atomically: the upload must exist, the version is inserted, upload and parts rows go; unused part blobs become garbage. */
  completeUpload(uploadId: string, v: ObjectVersion, opts: InsertVersionOptions): Promise<Garbage>;
  abortUpload(uploadId: string): Promise<(Garbage & { found: boolean })>;

  /** The ciphertext of an inline piece, or undefined when it does not exist. */
  readInline(blobId: string): Promise<Buffer | undefined>;

  // maintenance
  /** Every blob id referenced by a version or a part (for start-up garbage collection). */
  referencedBlobIds(): AsyncIterable<string>;
  close(): Promise<void>;
}

export type ConflictKind = 'bucket-exists' | 'bucket-not-empty' | 'no-such-upload' | 'no-such-bucket' | 'entity-exists' | 'no-such-entity';

/** A storage-level conflict the handler translates into the matching S3 error. */
export class StorageConflict extends Error {
  constructor(readonly kind: ConflictKind) {
    super(kind);
    this.name = 'StorageConflict';
  }
}

/** An open blob: positional reads into the caller's buffer, so a reader can recycle its buffers. */
export interface BlobHandle {
  /** Reads up to `length` bytes at `position` into buf[0..]; resolves with the count read (0 at the end). */
  readAt(buf: Buffer, length: number, position: number): Promise<number>;
  close(): Promise<void>;
}

export interface BlobStore {
  /** Streams `source` into a new blob and makes it durable (fsync) before resolving. */
  write(blobId: string, source: Readable): Promise<{ bytes: number }>;
  /** Reads bytes [start, end] inclusive (whole blob when omitted). */
  read(blobId: string, range?: { start: number; end: number }): Readable;
  /** Opens a blob for positional reads (a missing blob rejects with code ENOENT). */
  open(blobId: string): Promise<BlobHandle>;
  delete(blobId: string): Promise<void>;
  /** Every blob present, with its modification time (for garbage collection). */
  list(): AsyncIterable<{ blobId: string; mtimeMs: number }>;
}
