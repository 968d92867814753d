/**
 * Server-side encryption as requests and objects carry it (semantics.md f): SSE-S3 (the
 * service master key), SSE-KMS (an object key from the built-in KMS, obtained with the
 * *requester's* KMS rights; optionally derived from an S3 Bucket Key), SSE-C (the customer's
 * key, never stored: only a salted HMAC to recognise it), and the bucket default
 * (PutBucketEncryption) with its precedence: request headers win, SSE-C is never a default.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../auth/principal.js';
import { deriveObjectKey } from '../crypto/sse/envelope.js';
import { s3error } from '../errors/s3-errors.js';
import { header, type S3Request } from '../http/request.js';
import { escapeXml, parseXml, S3_XMLNS, textOf, childOf, listOf } from '../http/xml.js';
import type { ObjectSse } from '../storage/ports.js';

/** What S3 needs from the KMS: data keys and decryption on behalf of the caller (kms:ViaService = s3). */
export interface S3Kms {
  /** A new object (or bucket) key under keyRef (undefined: the account's aws/s3 key); needs kms:GenerateDataKey. */
  generateDataKey(caller: Principal, keyRef: string | undefined, context: Record<string, string>, req: S3Request): Promise<{ keyArn: string; plaintext: Buffer; ciphertextBlob: Buffer }>;
  /** Opens a stored key; needs kms:Decrypt. */
  decrypt(caller: Principal, ciphertextBlob: Buffer, context: Record<string, string>, req: S3Request): Promise<{ keyArn: string; plaintext: Buffer }>;
  /** Checks the caller's right to use a key without a KMS operation (Bucket Keys served from cache). */
  authorize(caller: Principal, keyArn: string, action: 'kms:GenerateDataKey' | 'kms:Decrypt', context: Record<string, string>, req: S3Request): Promise<void>;
  /** The ARN a key reference names, in the caller's account (aliases resolve there). */
  resolveKeyArn(caller: Principal, keyRef: string | undefined, req: S3Request): Promise<string>;
}

/** The bucket's default encryption (bucket config 'encryption', JSON). */
export interface BucketEncryption {
  algorithm: 'AES256' | 'aws:kms' | 'aws:kms:dsse';
  kmsKeyId?: string;
  bucketKeyEnabled: boolean;
  /** BlockedEncryptionTypes contains SSE-C. */
  blockSseC: boolean;
}

/**
 * What a bucket without a configuration gets: SSE-S3, and SSE-C blocked — AWS blocks SSE-C
 * on new buckets since April 2026 and on existing buckets without SSE-C objects.
 */
export const DEFAULT_BUCKET_ENCRYPTION: BucketEncryption = { algorithm: 'AES256', bucketKeyEnabled: false, blockSseC: true };

const parsedEncryption = new Map<string, BucketEncryption>();

/** The stored default-encryption document, parsed once per distinct text (it is read on every write). */
export function bucketEncryptionOf(stored: string | undefined): BucketEncryption {
  if (stored === undefined) return DEFAULT_BUCKET_ENCRYPTION;
  let e = parsedEncryption.get(stored);
  if (!e) {
    e = JSON.parse(stored) as BucketEncryption;
    if (parsedEncryption.size >= 1_000) parsedEncryption.clear();
    parsedEncryption.set(stored, e);
  }
  return e;
}

/** Parses PutBucketEncryption's body; anything unexpected → MalformedXML / InvalidArgument. */
export function parseBucketEncryption(body: string): BucketEncryption {
  const root = parseXml(body, 'ServerSideEncryptionConfiguration', ['ServerSideEncryptionConfiguration.Rule', 'ServerSideEncryptionConfiguration.Rule.BlockedEncryptionTypes.EncryptionType']);
  const rules = listOf(root, 'Rule');
  if (rules.length !== 1) throw s3error('MalformedXML');
  const rule = rules[0]!;
  const apply = childOf(rule, 'ApplyServerSideEncryptionByDefault');
  const algorithm = apply ? textOf(apply, 'SSEAlgorithm')?.trim() : 'AES256';
  if (algorithm !== 'AES256' && algorithm !== 'aws:kms' && algorithm !== 'aws:kms:dsse') {
    throw s3error('MalformedXML');
  }
  const kmsKeyId = apply ? textOf(apply, 'KMSMasterKeyID')?.trim() : undefined;
  if (kmsKeyId && algorithm === 'AES256') throw s3error('InvalidArgument', 'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse', { ArgumentName: 'ApplyServerSideEncryptionByDefault' });
  const bke = textOf(rule, 'BucketKeyEnabled')?.trim().toLowerCase();
  if (bke !== undefined && bke !== 'true' && bke !== 'false') throw s3error('MalformedXML');
  const blocked = childOf(rule, 'BlockedEncryptionTypes');
  const raw: unknown = blocked?.EncryptionType;
  const types = (raw === undefined ? [] : Array.isArray(raw) ? (raw as unknown[]) : [raw]).map((t) => {
    if (typeof t !== 'string') throw s3error('MalformedXML');
    return t.trim();
  });
  for (const t of types) if (t !== 'SSE-C' && t !== 'NONE') throw s3error('MalformedXML');
  return {
    algorithm,
    ...(kmsKeyId ? { kmsKeyId } : {}),
    bucketKeyEnabled: bke === 'true',
    // Absent BlockedEncryptionTypes keeps SSE-C blocked, as for a new bucket; NONE unblocks it.
    blockSseC: blocked ? types.includes('SSE-C') : true,
  };
}

export function bucketEncryptionXml(e: BucketEncryption): string {
  const kms = e.kmsKeyId ? `<KMSMasterKeyID>${escapeXml(e.kmsKeyId)}</KMSMasterKeyID>` : '';
  return '<?xml version="1.0" encoding="UTF-8"?>\n'
    + `<ServerSideEncryptionConfiguration xmlns="${S3_XMLNS}"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>${e.algorithm}</SSEAlgorithm>${kms}</ApplyServerSideEncryptionByDefault>`
    + `<BucketKeyEnabled>${e.bucketKeyEnabled}</BucketKeyEnabled><BlockedEncryptionTypes><EncryptionType>${e.blockSseC ? 'SSE-C' : 'NONE'}</EncryptionType></BlockedEncryptionTypes></Rule></ServerSideEncryptionConfiguration>`;
}

// ---------------------------------------------------------------------------------------
// SSE-C

const CUSTOMER = 'x-amz-server-side-encryption-customer-';
const COPY_SOURCE_CUSTOMER = 'x-amz-copy-source-server-side-encryption-customer-';

export interface CustomerKey {
  key: Buffer;
  md5: string;
}

/** The customer key a request carries under a header prefix; undefined when none of the three headers is present. */
export function customerKeyOf(req: S3Request, prefix: typeof CUSTOMER | typeof COPY_SOURCE_CUSTOMER = CUSTOMER): CustomerKey | undefined {
  const alg = header(req, `${prefix}algorithm`);
  const keyB64 = header(req, `${prefix}key`);
  const md5 = header(req, `${prefix}key-md5`);
  if (alg === undefined && keyB64 === undefined && md5 === undefined) return undefined;
  if (alg === undefined) {
    throw s3error('InvalidArgument', 'Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.', { ArgumentName: `${prefix}algorithm` });
  }
  if (alg !== 'AES256') throw s3error('InvalidEncryptionAlgorithmError', undefined, { ArgumentName: `${prefix}algorithm`, ArgumentValue: alg });
  if (keyB64 === undefined) throw s3error('InvalidArgument', 'Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.', { ArgumentName: `${prefix}key` });
  const key = Buffer.from(keyB64, 'base64');
  if (key.length !== 32 || key.toString('base64') !== keyB64.replace(/\s/g, '')) {
    throw s3error('InvalidArgument', 'The secret key was invalid for the specified algorithm.', { ArgumentName: `${prefix}key` });
  }
  if (md5 === undefined) throw s3error('InvalidArgument', 'Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.', { ArgumentName: `${prefix}key-MD5` });
  const actual = createHash('md5').update(key).digest('base64');
  if (actual !== md5) throw s3error('InvalidArgument', 'The calculated MD5 hash of the key did not match the hash that was provided.', { ArgumentName: `${prefix}key-MD5` });
  return { key, md5 };
}

function requireTls(req: S3Request, what: 'customer' | 'kms', allowHttp: boolean): void {
  if (req.tls || allowHttp) return;
  throw s3error('InvalidRequest', what === 'customer'
    ? 'Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.'
    : 'Requests specifying Server Side Encryption with AWS KMS managed keys must be made over a secure connection.');
}

function customerSse(c: CustomerKey): ObjectSse {
  const salt = randomBytes(16);
  return { algorithm: 'SSE-C', keyMd5: c.md5, salt: salt.toString('base64'), keyHmac: createHmac('sha256', salt).update(c.key).digest('base64') };
}

function customerMatches(sse: Extract<ObjectSse, { algorithm: 'SSE-C' }>, key: Buffer): boolean {
  const expected = Buffer.from(sse.keyHmac, 'base64');
  const actual = createHmac('sha256', Buffer.from(sse.salt, 'base64')).update(key).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

// ---------------------------------------------------------------------------------------
// Requests that write

export interface SseDeps {
  kms?: S3Kms;
  /** Testing only: accept SSE-C and SSE-KMS over plain HTTP. */
  allowInsecureSse?: boolean;
  bucketKeys: BucketKeyCache;
}

export interface WriteEncryption {
  sse: ObjectSse;
  /** The key the object's pieces are wrapped under (absent: SSE-S3, the master key). */
  objectKey?: Buffer;
}

/** The user-supplied KMS encryption context: base64 of a JSON object of strings, no aws: keys. */
function parseUserContext(raw: string | undefined): Record<string, string> {
  if (raw === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
  } catch {
    throw s3error('InvalidArgument', 'The header \'x-amz-server-side-encryption-context\' shall be Base64-encoded UTF-8 string holding JSON which represents a string-string map', { ArgumentName: 'x-amz-server-side-encryption-context' });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) {
    throw s3error('InvalidArgument', 'The header \'x-amz-server-side-encryption-context\' shall be Base64-encoded UTF-8 string holding JSON which represents a string-string map', { ArgumentName: 'x-amz-server-side-encryption-context' });
  }
  const ctx = Object.fromEntries(Object.entries(parsed as Record<string, string>));
  if (Object.keys(ctx).some((k) => k.toLowerCase().startsWith('aws:'))) {
    throw s3error('InvalidArgument', 'Encryption context keys cannot start with the reserved prefix aws:', { ArgumentName: 'x-amz-server-side-encryption-context' });
  }
  return ctx;
}

const objectArnOf = (bucket: string, key: string): string => `arn:aws:s3:::${bucket}/${key}`;
const bucketArnOf = (bucket: string): string => `arn:aws:s3:::${bucket}`;

/**
 * The encryption of an object this request writes into `bucket/key`: the request's
 * headers, else the bucket default (semantics.md f.2). `needKey` false (CreateMultipartUpload)
 * fixes the encryption without materialising the object key.
 */
export async function writeEncryption(
  deps: SseDeps, req: S3Request, principal: Principal, target: { bucket: string; key: string }, defaults: BucketEncryption,
): Promise<WriteEncryption> {
  const sseHeader = header(req, 'x-amz-server-side-encryption');
  const kmsKeyHeader = header(req, 'x-amz-server-side-encryption-aws-kms-key-id');
  const ctxHeader = header(req, 'x-amz-server-side-encryption-context');
  const bucketKeyHeader = header(req, 'x-amz-server-side-encryption-bucket-key-enabled');
  const customer = customerKeyOf(req);
  if (customer) {
    if (sseHeader !== undefined) throw s3error('InvalidArgument', 'Server Side Encryption with Customer provided key is incompatible with the encryption method specified', { ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: sseHeader });
    requireTls(req, 'customer', deps.allowInsecureSse === true);
    // BlockedEncryptionTypes: 403, as AWS answers for a bucket that blocks SSE-C.
    if (defaults.blockSseC) throw s3error('AccessDenied', 'Requests specifying Server Side Encryption with Customer provided keys are blocked for this bucket (BlockedEncryptionTypes).');
    return { sse: customerSse(customer), objectKey: customer.key };
  }
  if ((kmsKeyHeader !== undefined || ctxHeader !== undefined) && sseHeader !== 'aws:kms' && sseHeader !== 'aws:kms:dsse') {
    throw s3error('InvalidArgument', 'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms', { ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: sseHeader ?? 'null' });
  }
  if (bucketKeyHeader !== undefined && !/^(true|false)$/i.test(bucketKeyHeader)) {
    throw s3error('InvalidArgument', 'The header x-amz-server-side-encryption-bucket-key-enabled must be true or false', { ArgumentName: 'x-amz-server-side-encryption-bucket-key-enabled' });
  }
  if (sseHeader !== undefined && sseHeader !== 'AES256' && sseHeader !== 'aws:kms' && sseHeader !== 'aws:kms:dsse') {
    throw s3error('InvalidArgument', 'The encryption method specified is not supported', { ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: sseHeader });
  }
  const algorithm = sseHeader ?? defaults.algorithm;
  if (algorithm === 'AES256') return { sse: { algorithm: 'AES256' } };
  if (algorithm === 'aws:kms:dsse') throw s3error('NotImplemented', 'DSSE-KMS (dual-layer) is not implemented; the object was not stored.');
  if (!deps.kms) throw s3error('NotImplemented', 'SSE-KMS needs the KMS, which this server runs without; the object was not stored.');
  requireTls(req, 'kms', deps.allowInsecureSse === true);
  if (principal.kind === 'anonymous') throw s3error('InvalidArgument', 'Requests specifying Server Side Encryption with AWS KMS managed keys require AWS Signature Version 4.', { ArgumentName: 'Authorization' });
  // An explicit aws:kms header without a key id means the aws/s3 key, not the bucket's default key.
  const keyRef = sseHeader !== undefined ? kmsKeyHeader : defaults.kmsKeyId;
  const userContext = parseUserContext(ctxHeader);
  const useBucketKey = bucketKeyHeader !== undefined ? bucketKeyHeader.toLowerCase() === 'true' : defaults.bucketKeyEnabled;
  const context = ctxHeader !== undefined ? { context: ctxHeader } : {};
  if (useBucketKey) {
    const keyArn = await deps.kms.resolveKeyArn(principal, keyRef, req);
    const bucketContext = { 'aws:s3:arn': bucketArnOf(target.bucket) };
    const bk = await deps.bucketKeys.forWrite(deps.kms, principal, target.bucket, keyArn, bucketContext, req);
    const nonce = randomBytes(16);
    return {
      sse: { algorithm: 'aws:kms', keyArn: bk.keyArn, bucketKey: { dataKey: bk.ciphertextBlob.toString('base64'), nonce: nonce.toString('base64') }, ...context },
      objectKey: deriveObjectKey(bk.plaintext, nonce),
    };
  }
  const dk = await deps.kms.generateDataKey(principal, keyRef, { ...userContext, 'aws:s3:arn': objectArnOf(target.bucket, target.key) }, req);
  return { sse: { algorithm: 'aws:kms', keyArn: dk.keyArn, dataKey: dk.ciphertextBlob.toString('base64'), ...context }, objectKey: dk.plaintext };
}

/**
 * The object key of a stored object, for reading it (or, for a multipart upload, writing its
 * parts): SSE-C from the request's headers (copy-source headers for a copy source), SSE-KMS
 * through the KMS with the caller's rights. undefined for SSE-S3.
 */
export async function objectKeyFor(
  deps: SseDeps, req: S3Request, principal: Principal, target: { bucket: string; key: string }, sse: ObjectSse,
  source: 'object' | 'copy-source' = 'object',
): Promise<Buffer | undefined> {
  const customer = customerKeyOf(req, source === 'object' ? CUSTOMER : COPY_SOURCE_CUSTOMER);
  if (sse.algorithm === 'SSE-C') {
    if (!customer) throw s3error('InvalidRequest', 'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.');
    requireTls(req, 'customer', deps.allowInsecureSse === true);
    if (!customerMatches(sse, customer.key)) throw s3error('AccessDenied', 'The provided customer key does not match the one the object was stored with.');
    return customer.key;
  }
  if (customer) throw s3error('InvalidRequest', 'The encryption parameters are not applicable to this object.');
  if (sse.algorithm === 'AES256') return undefined;
  if (!deps.kms) throw s3error('NotImplemented', 'This object is encrypted with SSE-KMS and this server runs without its KMS.');
  requireTls(req, 'kms', deps.allowInsecureSse === true);
  if (principal.kind === 'anonymous') throw s3error('InvalidArgument', 'Requests specifying Server Side Encryption with AWS KMS managed keys require AWS Signature Version 4.', { ArgumentName: 'Authorization' });
  if (sse.bucketKey) {
    const bucketContext = { 'aws:s3:arn': bucketArnOf(target.bucket) };
    return deps.bucketKeys.objectKeyForRead(deps.kms, principal, sse.keyArn, sse.bucketKey, bucketContext, req);
  }
  const userContext = parseUserContext(sse.context);
  const opened = await deps.kms.decrypt(principal, Buffer.from(sse.dataKey!, 'base64'), { ...userContext, 'aws:s3:arn': objectArnOf(target.bucket, target.key) }, req);
  return opened.plaintext;
}

/** The SSE response headers of an object. */
export function sseHeaders(sse: ObjectSse): Record<string, string> {
  switch (sse.algorithm) {
    case 'AES256':
      return { 'x-amz-server-side-encryption': 'AES256' };
    case 'aws:kms':
      return {
        'x-amz-server-side-encryption': 'aws:kms',
        'x-amz-server-side-encryption-aws-kms-key-id': sse.keyArn,
        ...(sse.context !== undefined ? { 'x-amz-server-side-encryption-context': sse.context } : {}),
        ...(sse.bucketKey ? { 'x-amz-server-side-encryption-bucket-key-enabled': 'true' } : {}),
      };
    case 'SSE-C':
      return { 'x-amz-server-side-encryption-customer-algorithm': 'AES256', 'x-amz-server-side-encryption-customer-key-MD5': sse.keyMd5 };
  }
}

/** SSE-KMS and SSE-C ETags are not the MD5 of the data (it would reveal a digest of the plaintext): an HMAC of it under the object key. */
export function opaqueEtag(objectKey: Buffer | undefined, md5: Buffer): string {
  if (!objectKey) return `"${md5.toString('hex')}"`;
  return `"${createHmac('sha256', objectKey).update('kura-etag-v1').update(md5).digest('hex').slice(0, 32)}"`;
}

// ---------------------------------------------------------------------------------------
// S3 Bucket Keys

const BUCKET_KEY_TTL_MS = 5 * 60_000;
const MAX_BUCKET_KEYS = 1_000;
const MAX_DERIVED_KEYS = 10_000;

/**
 * S3 Bucket Keys: one KMS data key per bucket and KMS key, reused for a bounded time to
 * derive object keys, so KMS performs a data-key operation per bucket key rather than per
 * object. Every request is still authorized against the KMS key (kms:GenerateDataKey /
 * kms:Decrypt with the caller's rights); only the cryptographic call is cached.
 */
export class BucketKeyCache {
  private readonly writes = new Map<string, { keyArn: string; plaintext: Buffer; ciphertextBlob: Buffer; until: number }>();
  private readonly reads = new Map<string, { plaintext: Buffer; until: number }>();
  private readonly derived = new Map<string, { key: Buffer; until: number }>();

  constructor(private readonly now: () => number) {}

  async forWrite(kms: S3Kms, caller: Principal, bucket: string, keyArn: string, context: Record<string, string>, req: S3Request): Promise<{ keyArn: string; plaintext: Buffer; ciphertextBlob: Buffer }> {
    const id = `${bucket}\u0000${keyArn}`;
    const hit = this.writes.get(id);
    const now = this.now();
    if (hit && hit.until > now) {
      await kms.authorize(caller, keyArn, 'kms:GenerateDataKey', context, req);
      return hit;
    }
    const dk = await kms.generateDataKey(caller, keyArn, context, req);
    if (this.writes.size >= MAX_BUCKET_KEYS) this.writes.clear();
    const entry = { keyArn: dk.keyArn, plaintext: dk.plaintext, ciphertextBlob: dk.ciphertextBlob, until: now + BUCKET_KEY_TTL_MS };
    this.writes.set(id, entry);
    this.reads.set(dk.ciphertextBlob.toString('base64'), { plaintext: dk.plaintext, until: now + BUCKET_KEY_TTL_MS });
    return entry;
  }

  /**
   * The object key of an object stored under a Bucket Key. The caller is authorized (or KMS
   * decrypts) on every call; the derivation is remembered per object while its bucket key is.
   */
  async objectKeyForRead(kms: S3Kms, caller: Principal, keyArn: string, stored: { dataKey: string; nonce: string }, context: Record<string, string>, req: S3Request): Promise<Buffer> {
    const hit = this.reads.get(stored.dataKey);
    const now = this.now();
    let bucketKey: Buffer;
    if (hit && hit.until > now) {
      await kms.authorize(caller, keyArn, 'kms:Decrypt', context, req);
      bucketKey = hit.plaintext;
    } else {
      bucketKey = (await kms.decrypt(caller, Buffer.from(stored.dataKey, 'base64'), context, req)).plaintext;
      if (this.reads.size >= MAX_BUCKET_KEYS) this.reads.clear();
      this.reads.set(stored.dataKey, { plaintext: bucketKey, until: now + BUCKET_KEY_TTL_MS });
    }
    const id = `${stored.dataKey}\u0000${stored.nonce}`;
    const derived = this.derived.get(id);
    if (derived && derived.until > now) return derived.key;
    const key = deriveObjectKey(bucketKey, Buffer.from(stored.nonce, 'base64'));
    if (this.derived.size >= MAX_DERIVED_KEYS) this.derived.clear();
    this.derived.set(id, { key, until: now + BUCKET_KEY_TTL_MS });
    return key;
  }
}

/** No bucket has Object Lock yet, so lock headers get S3's answer for such a bucket (never silently ignored). */
export function checkObjectLockHeaders(req: S3Request): void {
  for (const h of ['x-amz-object-lock-mode', 'x-amz-object-lock-retain-until-date', 'x-amz-object-lock-legal-hold']) {
    if (header(req, h) !== undefined) throw s3error('InvalidRequest', 'Bucket is missing Object Lock Configuration');
  }
}

const NO_BUCKET_KEYS = new BucketKeyCache(() => Date.now());

/** The SSE dependencies of a server (SSE-S3 and SSE-C only when it runs without a KMS). */
export function sseDepsOf(svc: { sse?: SseDeps }): SseDeps {
  return svc.sse ?? { bucketKeys: NO_BUCKET_KEYS };
}

/** The encryption of an object a request writes into `target`, with the destination bucket's default. */
export async function encryptionForWrite(
  svc: { sse?: SseDeps; authorizer: { access: { get(bucket: string): Promise<{ encryption: string | undefined }> } } },
  req: S3Request, principal: Principal, target: { bucket: string; key: string },
): Promise<WriteEncryption> {
  return writeEncryption(sseDepsOf(svc), req, principal, target, bucketEncryptionOf((await svc.authorizer.access.get(target.bucket)).encryption));
}
