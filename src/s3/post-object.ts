/**
 * Browser-based uploads (POST Object with a signed policy document). The credentials are
 * in the form, so this handler authenticates and authorizes itself — with the same
 * verifier and the same decide() the pipeline uses — before a single byte of the file is
 * stored. Fields after the file are ignored, as S3 does.
 */
import busboy from 'busboy';
import { PassThrough } from 'node:stream';
import { objectArn } from '../authz/actions.js';
import { checkPostPolicy, contentLengthRange, verifyPostSignature } from '../auth/sigv4/post-policy.js';
import { ANONYMOUS, type Principal } from '../auth/principal.js';
import { S3Error, s3error } from '../errors/s3-errors.js';
import { header, type S3Result } from '../http/request.js';
import { toXml } from '../http/xml.js';
import type { ObjectVersion } from '../storage/ports.js';
import type { Handler } from './context.js';
import { commitVersion, singlePartVersion } from './objects.js';
import { discardBlobs, storeData } from './object-io.js';
import { bucketEncryptionOf, sseHeaders } from './sse.js';
import { parseTaggingXml } from './tags.js';
import { nextVersionId, writtenVersionIdHeader } from './versions.js';
import { validateKey } from './names.js';
import { writeAcl } from './acl.js';

const META_FIELDS: Record<string, 'contentType' | 'contentEncoding' | 'contentDisposition' | 'cacheControl' | 'expires' | 'contentLanguage'> = {
  'content-type': 'contentType',
  'content-encoding': 'contentEncoding',
  'content-disposition': 'contentDisposition',
  'cache-control': 'cacheControl',
  expires: 'expires',
  'content-language': 'contentLanguage',
};

/** Form fields for features POST uploads do not implement yet (SSE-C, SSE-KMS options, additional checksums). */
const UNSUPPORTED_POST_FIELD = /^x-amz-(server-side-encryption-(customer-|aws-kms-|context|bucket-key)|checksum-|sdk-checksum-algorithm)/;

interface FileArrival {
  fields: Map<string, string>;
  filename: string;
  stream: NodeJS.ReadableStream;
  contentType: string;
}

/** Largest form field (busboy's fieldSize; the same bound for fields sent as file parts). */
const FIELD_MAX = 64 * 1024;
/** All form data before the file together (S3 answers MaxPostPreDataLengthExceededError beyond its own, smaller, limit). */
const PRE_FILE_MAX = 256 * 1024;

/** Parses the form up to the file, handing over the file stream still unread. */
function readForm(body: NodeJS.ReadableStream, contentType: string): Promise<FileArrival> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: { 'content-type': contentType }, limits: { fieldSize: FIELD_MAX, fields: 100, files: 100, fieldNameSize: 256 } });
    } catch {
      reject(s3error('MalformedPOSTRequest'));
      return;
    }
    const fields = new Map<string, string>();
    const fileFields: Promise<void>[] = [];
    let done = false;
    let preFile = 0;
    const tooMuch = (): void => {
      done = true;
      reject(s3error('MaxPostPreDataLengthExceededError'));
      body.unpipe(bb);
      body.resume(); // drain: the answer goes out on a connection that stays usable
    };
    bb.on('field', (name, value) => {
      if (done) return;
      preFile += name.length + value.length;
      if (preFile > PRE_FILE_MAX) return tooMuch();
      fields.set(name.toLowerCase(), value);
    });
    bb.on('file', (name, stream, info) => {
      if (done) {
        stream.resume(); // fields after the file are ignored, as S3 ignores them
        return;
      }
      if (name.toLowerCase() !== 'file') {
        // A field sent as a file part (HTML forms may, and so do clients such as python
        // requests' files=): only the part named "file" is the upload; this one is a field.
        const parts: Buffer[] = [];
        let size = 0;
        stream.on('data', (c: Buffer) => {
          size += c.length;
          preFile += c.length;
          if (size <= FIELD_MAX) parts.push(c);
          if (preFile > PRE_FILE_MAX && !done) tooMuch();
        });
        // Its end may be reported after the next part begins: the file waits for it.
        fileFields.push(new Promise<void>((resolveField) => stream.on('end', () => {
          if (size > FIELD_MAX) reject(s3error('MaxPostPreDataLengthExceededError'));
          else fields.set(name.toLowerCase(), Buffer.concat(parts).toString('utf8'));
          resolveField();
        })));
        return;
      }
      done = true;
      void Promise.all(fileFields).then(() => resolve({ fields, filename: info.filename ?? '', stream, contentType: info.mimeType }));
    });
    bb.on('error', () => reject(s3error('MalformedPOSTRequest')));
    bb.on('close', () => {
      if (!done) reject(s3error('InvalidArgument', 'POST requires exactly one file upload per request.', { ArgumentName: 'file', ArgumentValue: '0' }));
    });
    body.pipe(bb);
  });
}

export const postObject: Handler<'PostObject'> = async (ctx, svc) => {
  const { req } = ctx;
  const arrival = await readForm(ctx.req.body, header(req, 'content-type') ?? '');
  try {
    return await acceptUpload(ctx, svc, arrival);
  } catch (e) {
    // Drain what is left of the file so the connection stays usable for the error response.
    arrival.stream.resume();
    throw e;
  }
};

async function acceptUpload(ctx: Parameters<Handler<'PostObject'>>[0], svc: Parameters<Handler<'PostObject'>>[1], arrival: FileArrival): Promise<S3Result> {
  const { req, op, bucket } = ctx;
  const b = bucket!;
  const { fields } = arrival;
  const keyTemplate = fields.get('key');
  if (keyTemplate === undefined) {
    arrival.stream.resume();
    throw s3error('InvalidArgument', 'Bucket POST must contain a field named \'key\'.  If it is specified, please check the order of the fields.', { ArgumentName: 'key', ArgumentValue: '' });
  }
  const key = keyTemplate.replace(/\$\{filename\}/g, arrival.filename);
  validateKey(key);

  let principal: Principal = ANONYMOUS;
  let range: { min: number; max: number } | undefined;
  const claimed = fields.get('x-amz-credential')?.split('/')[0] ?? fields.get('awsaccesskeyid');
  if (claimed) await svc.credentials.prefetch(claimed);
  const auth = verifyPostSignature(fields, {
    now: svc.clock.now(),
    region: svc.config.region,
    lookupSecret: (akid) => svc.credentials.get(akid)?.secret,
    allowSigV2: svc.config.allowSigV2,
  });
  if (auth) {
    principal = svc.credentials.get(auth.accessKeyId)!.principal;
    const checkFields = new Map(fields);
    checkFields.set('key', key);
    checkFields.set('bucket', op.bucket);
    checkPostPolicy(auth.policy, checkFields, op.bucket, svc.clock.now());
    range = contentLengthRange(auth.policy);
  }
  const target = objectArn(op.bucket, key);
  // As for PUT: an ACL in the form also needs s3:PutObjectAcl, and policies see it as
  // s3:x-amz-acl; tags need s3:PutObjectTagging, and policies see them as s3:RequestObjectTag/*.
  const acl = fields.get('acl');
  const tagging = fields.get('tagging');
  let tags: Record<string, string> = {};
  try {
    if (tagging) tags = parseTaggingXml(tagging, 10);
  } catch (e) {
    arrival.stream.resume();
    throw e;
  }
  const decision = await svc.authorizer.authorize({
    req, principal, auth: auth ? { kind: 'post-form', version: auth.version } : { kind: 'anonymous' }, known: [b],
    checks: [
      { action: 's3:PutObject', resource: target, bucket: op.bucket },
      ...(acl !== undefined ? [{ action: 's3:PutObjectAcl', resource: target, bucket: op.bucket, creates: 'object' as const, ifAclsEnabled: true as const }] : []),
      ...(tagging ? [{ action: 's3:PutObjectTagging', resource: target, bucket: op.bucket, creates: 'object' as const }] : []),
    ],
    ...(acl !== undefined ? { extraContext: new Map([['s3:x-amz-acl', acl]]) } : {}),
    ...(tagging ? { requestObjectTags: tags } : {}),
  });
  if (decision.effect !== 'Allow') {
    arrival.stream.resume();
    svc.log.debug('access denied', { requestId: req.requestId, operation: 'PostObject', trace: decision.trace });
    throw s3error('AccessDenied');
  }
  const owner = await writeAcl(svc, req, principal, b, decision, { canned: acl });
  const sse = fields.get('x-amz-server-side-encryption');
  if (sse !== undefined && sse !== 'AES256') throw s3error('NotImplemented', 'Only SSE-S3 (AES256) is implemented for POST uploads');
  // Fields asking for what POST does not do yet are refused, never dropped: an SSE-C key
  // ignored would store the object weaker than asked, a checksum ignored would go unchecked.
  for (const name of fields.keys()) {
    if (UNSUPPORTED_POST_FIELD.test(name)) throw s3error('NotImplemented', `The POST form field ${name} is not implemented; the object was not stored.`);
  }
  // Never silently weaker than the bucket's default: POST into an SSE-KMS bucket is refused, not stored as SSE-S3.
  if (sse === undefined && bucketEncryptionOf((await svc.authorizer.access.get(b.name)).encryption).algorithm !== 'AES256') {
    throw s3error('NotImplemented', 'POST uploads into a bucket whose default encryption is SSE-KMS are not implemented; the object was not stored.');
  }

  const meta: ObjectVersion['meta'] = { user: {} };
  for (const [name, value] of fields) {
    if (name.startsWith('x-amz-meta-')) meta.user[name.slice('x-amz-meta-'.length)] = value;
    const m = META_FIELDS[name];
    if (m) meta[m] = value;
  }
  meta.contentType ??= arrival.contentType || 'binary/octet-stream';
  const { versionId, replaceNullVersion } = nextVersionId(b);
  const pass = new PassThrough();
  arrival.stream.pipe(pass);
  const stored = await storeData(svc, pass, { bucket: op.bucket, key, versionId }, {
    checksums: [],
    maxBytes: Math.min(range?.max ?? Infinity, svc.config.maxObjectSize),
    expectedBytes: undefined,
  }).catch((e: unknown) => {
    if (e instanceof S3Error && e.code === 'EntityTooLarge' && range) throw s3error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
    throw e;
  });
  try {
    if (range && stored.piece.size < range.min) throw s3error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size');
    const v = singlePartVersion(svc, { bucket: op.bucket, key, versionId, owner, enc: { sse: { algorithm: 'AES256' } }, meta, tags, stored, checksum: undefined });
    const etag = v.etag;
    await commitVersion(svc, v, replaceNullVersion, undefined, stored.inline);
    const location = `${req.tls ? 'https' : 'http'}://${header(req, 'host') ?? ''}/${encodeURIComponent(op.bucket)}/${encodeURIComponent(key)}`;
    const headers: S3Result['headers'] = { ETag: etag, Location: location, ...sseHeaders(v.sse), ...writtenVersionIdHeader(v) };
    const redirect = fields.get('success_action_redirect') ?? fields.get('redirect');
    if (redirect) {
      try {
        const u = new URL(redirect);
        u.searchParams.set('bucket', op.bucket);
        u.searchParams.set('key', key);
        u.searchParams.set('etag', etag);
        return { status: 303, headers: { ...headers, Location: u.toString() } };
      } catch {
        // S3 falls back to success_action_status when the redirect is not a URL.
      }
    }
    const status = fields.get('success_action_status');
    if (status === '201') {
      const xml = toXml('PostResponse', { Location: location, Bucket: op.bucket, Key: key, ETag: etag }, null);
      return { status: 201, headers: { ...headers, 'Content-Type': 'application/xml' }, body: xml };
    }
    return { status: status === '200' ? 200 : 204, headers };
  } catch (e) {
    discardBlobs(svc, [stored.piece.blobId]);
    throw e;
  }
}

