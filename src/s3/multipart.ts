/**
 * Multipart uploads: CreateMultipartUpload, UploadPart, UploadPartCopy,
 * CompleteMultipartUpload, AbortMultipartUpload and ListParts.
 *
 * Each part is stored (encrypted) once, bound to its place {bucket, key, uploadId,
 * partNumber}. Completion copies no data: the new version keeps the upload id and lists
 * the parts' pieces with their part numbers, so every piece still decrypts under the
 * context it was written with.
 */
import { createHash } from 'node:crypto';
import { s3error, type S3Error } from '../errors/s3-errors.js';
import { header, type S3Request, type S3Result } from '../http/request.js';
import { listOf, parseXml, textOf } from '../http/xml.js';
import { StorageConflict, type DataPiece, type ObjectVersion, type PartRecord, type UploadRecord } from '../storage/ports.js';
import {
  CHECKSUM_ALGORITHMS,
  checksumHeader,
  compositeChecksum,
  decodeChecksumValue,
  defaultChecksumType,
  fullObjectChecksum,
  isCrcAlgorithm,
  parseChecksumAlgorithm,
  supportsChecksumType,
  type ChecksumAlgorithm,
  type ChecksumType,
} from '../util/checksums.js';
import { newOpaqueId } from '../util/ids.js';
import { parseChecksumRequest, verifyChecksums } from './checksum-request.js';
import { emptyResult, intParam, isoDate, metaFromHeaders, readSmallBody, xmlResult } from './common.js';
import { checkCopySourceConditions, writePrecondition } from './conditions.js';
import type { AuthorizedRequest, Handler, Services } from './context.js';
import { copySourceKey, copySourceTooLarge, copySourceVersionHeader, loadCopySource } from './copy.js';
import { discardBlobs, readObject, storeData, type StoredData } from './object-io.js';
import { MIN_PART_SIZE, wrapPrecondition } from './objects.js';
import { writeAcl } from './acl.js';
import { checkObjectLockHeaders, encryptionForWrite, objectKeyFor, opaqueEtag, sseDepsOf, sseHeaders } from './sse.js';
import type { ObjectSse } from '../storage/ports.js';

const AES256: ObjectSse = { algorithm: 'AES256' };
import { parseTaggingHeader } from './tags.js';
import { nextVersionId, writtenVersionIdHeader } from './versions.js';

const MAX_PART_NUMBER = 10000;
/** A Complete body lists at most 10,000 parts of a few hundred bytes each. */
const MAX_COMPLETE_BODY = 8 * 1024 * 1024;

type UploadOp = 'UploadPart' | 'UploadPartCopy' | 'CompleteMultipartUpload' | 'AbortMultipartUpload' | 'ListParts';

const noSuchUpload = (uploadId: string): S3Error => s3error('NoSuchUpload', undefined, { UploadId: uploadId });

const bareEtag = (etag: string): string => etag.trim().replace(/^"|"$/g, '');

function parsePartNumber(req: S3Request): number {
  const v = req.query.get('partNumber') ?? '';
  const n = /^\d{1,5}$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= MAX_PART_NUMBER)) {
    throw s3error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', { ArgumentName: 'partNumber', ArgumentValue: v });
  }
  return n;
}

/** The upload named by ?uploadId; one of another bucket or key is as absent as a missing one. */
async function loadUpload(ctx: AuthorizedRequest<UploadOp>, svc: Services): Promise<UploadRecord> {
  const uploadId = ctx.req.query.get('uploadId') ?? '';
  const u = uploadId === '' ? undefined : await svc.meta.getUpload(uploadId);
  if (!u || u.bucket !== ctx.op.bucket || u.key !== ctx.op.key) throw noSuchUpload(uploadId);
  return u;
}

function checksumTypeMismatch(expected: ChecksumAlgorithm | null, actual: ChecksumAlgorithm | undefined): S3Error {
  const name = (a: ChecksumAlgorithm | null | undefined): string => a?.toLowerCase() ?? 'null';
  return s3error('InvalidRequest', `Checksum Type mismatch occurred, expected checksum Type: ${name(expected)}, actual checksum Type: ${name(actual)}`);
}

/** x-amz-checksum-algorithm / x-amz-checksum-type on Create, with S3's per-algorithm rules and defaults. */
function parseUploadChecksum(req: S3Request): { algorithm: ChecksumAlgorithm | null; type: ChecksumType | null } {
  const algH = header(req, 'x-amz-checksum-algorithm');
  const typeH = header(req, 'x-amz-checksum-type');
  if (algH === undefined) {
    if (typeH !== undefined) throw s3error('InvalidRequest', 'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.');
    return { algorithm: null, type: null };
  }
  const algorithm = parseChecksumAlgorithm(algH, 'x-amz-checksum-algorithm');
  let type = defaultChecksumType(algorithm);
  if (typeH !== undefined) {
    const t = typeH.trim().toUpperCase();
    if (t !== 'COMPOSITE' && t !== 'FULL_OBJECT') throw s3error('InvalidRequest', 'Value for x-amz-checksum-type header is invalid.');
    type = t;
  }
  if (!supportsChecksumType(algorithm, type)) {
    throw s3error('InvalidRequest', `The ${type} checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`);
  }
  return { algorithm, type };
}

/** CreateMultipartUpload: fixes metadata, tags and the checksum algorithm/type for the whole upload. */
export const createMultipartUpload: Handler<'CreateMultipartUpload'> = async (ctx, svc) => {
  const { req, op, bucket } = ctx;
  checkObjectLockHeaders(req);
  const owner = await writeAcl(svc, req, ctx.principal, bucket!, ctx.decision);
  // Encryption is fixed here for every part (an SSE-KMS upload gets its object key now; parts reopen it).
  const enc = await encryptionForWrite(svc, req, ctx.principal, op);
  const meta = metaFromHeaders(req);
  const tags = parseTaggingHeader(header(req, 'x-amz-tagging'));
  const { algorithm, type } = parseUploadChecksum(req);
  const upload: UploadRecord = {
    uploadId: newOpaqueId(48),
    bucket: op.bucket,
    key: op.key,
    initiated: svc.clock.now().toISOString(),
    // Ownership and ACL are fixed when the upload starts, as S3 takes them from this request.
    ownerAccountId: owner.ownerAccountId,
    ...(owner.acl ? { acl: owner.acl } : {}),
    ...(ctx.principal.kind !== 'anonymous' ? { initiatorAccountId: ctx.principal.accountId } : {}),
    meta,
    tags,
    checksumAlgorithm: algorithm,
    checksumType: type,
    ...(enc.sse.algorithm !== 'AES256' ? { sse: enc.sse } : {}),
  };
  await svc.meta.createUpload(upload);
  const headers: S3Result['headers'] = { ...sseHeaders(enc.sse) };
  if (algorithm && type) {
    headers['x-amz-checksum-algorithm'] = algorithm;
    headers['x-amz-checksum-type'] = type;
  }
  return xmlResult('InitiateMultipartUploadResult', { Bucket: op.bucket, Key: op.key, UploadId: upload.uploadId }, 200, headers);
};

/** Records a stored part (replacing any earlier one with its number) and frees what it replaced. */
async function savePart(svc: Services, upload: UploadRecord, partNumber: number, stored: StoredData, objectKey: Buffer | undefined): Promise<PartRecord> {
  const alg = upload.checksumAlgorithm;
  const part: PartRecord = {
    uploadId: upload.uploadId,
    partNumber,
    size: stored.piece.size,
    // SSE-KMS/SSE-C parts: not the MD5 of their plaintext (ListParts must not reveal it).
    etag: opaqueEtag(objectKey, stored.md5),
    lastModified: svc.clock.now().toISOString(),
    checksum: alg ? stored.digests.get(alg)!.toString('base64') : null,
    piece: stored.piece,
  };
  let garbage;
  try {
    garbage = await svc.meta.putPart(part, stored.inline);
  } catch (e) {
    // Completed or aborted while the part streamed in.
    if (e instanceof StorageConflict && e.kind === 'no-such-upload') throw noSuchUpload(upload.uploadId);
    throw e;
  }
  discardBlobs(svc, garbage.blobIds);
  return part;
}

/** UploadPart: stores one part (replacing any earlier one with its number); ETag is the part's quoted MD5. */
export const uploadPart: Handler<'UploadPart'> = async (ctx, svc) => {
  const { req, op } = ctx;
  const partNumber = parsePartNumber(req);
  const upload = await loadUpload(ctx, svc);
  const sse = upload.sse ?? AES256;
  const objectKey = await objectKeyFor(sseDepsOf(svc), req, ctx.principal, op, sse);
  const length = ctx.contentLength;
  if (length === undefined) throw s3error('MissingContentLength');
  const cr = parseChecksumRequest(req);
  const alg = upload.checksumAlgorithm;
  // A part may omit its checksum only when S3 can build the object's from the data (FULL_OBJECT).
  if (alg && (cr.algorithm !== undefined || upload.checksumType === 'COMPOSITE') && cr.algorithm !== alg) {
    throw checksumTypeMismatch(alg, cr.algorithm);
  }
  const compute = alg && !cr.compute.includes(alg) ? [...cr.compute, alg] : cr.compute;
  const stored = await storeData(svc, ctx.body(), { bucket: op.bucket, key: op.key, uploadId: upload.uploadId, partNumber }, {
    checksums: compute,
    maxBytes: svc.config.maxObjectSize,
    expectedBytes: length,
    ...(objectKey ? { objectKey } : {}),
  });
  try {
    const verified = verifyChecksums(cr, stored.md5, stored.digests, ctx.trailers());
    const part = await savePart(svc, upload, partNumber, stored, objectKey);
    const headers: S3Result['headers'] = { ETag: part.etag, ...sseHeaders(sse) };
    if (alg && part.checksum) headers[checksumHeader(alg)] = part.checksum;
    else if (cr.algorithm && verified) headers[checksumHeader(cr.algorithm)] = verified;
    return emptyResult(200, headers);
  } catch (e) {
    discardBlobs(svc, [stored.piece.blobId]);
    throw e;
  }
};

const RANGE_FORM = 'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy';

/** x-amz-copy-source-range: exactly `bytes=first-last`, inside the source (unlike Range on GET, nothing is clamped). */
function parseCopySourceRange(value: string | undefined, size: number): { start: number; end: number } {
  if (value === undefined) return { start: 0, end: size - 1 };
  const m = /^bytes=(\d+)-(\d+)$/.exec(value.trim());
  const details = { ArgumentName: 'x-amz-copy-source-range', ArgumentValue: value };
  if (!m) throw s3error('InvalidArgument', RANGE_FORM, details);
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (start > end) throw s3error('InvalidArgument', RANGE_FORM, details);
  if (end >= size) throw s3error('InvalidArgument', `Range specified is not valid for source object of size: ${size}`, details);
  return { start, end };
}

/** UploadPartCopy: a byte range of an existing object becomes a part; answers CopyPartResult. */
export const uploadPartCopy: Handler<'UploadPartCopy'> = async (ctx, svc) => {
  const { req, op } = ctx;
  const partNumber = parsePartNumber(req);
  const upload = await loadUpload(ctx, svc);
  const sse = upload.sse ?? AES256;
  const objectKey = await objectKeyFor(sseDepsOf(svc), req, ctx.principal, op, sse);
  const src = await loadCopySource(req, svc);
  const sourceKey = await copySourceKey(svc, req, ctx.principal, src);
  const sv = src.version;
  checkCopySourceConditions(req, sv);
  const range = parseCopySourceRange(header(req, 'x-amz-copy-source-range'), sv.size);
  const length = range.end - range.start + 1;
  const max = svc.config.maxObjectSize;
  if (length > max) throw copySourceTooLarge(max);
  const alg = upload.checksumAlgorithm;
  // Decrypted from the source's context, re-encrypted under this part's own.
  const stored = await storeData(svc, readObject(svc, sv, range.start, range.end, sourceKey), { bucket: op.bucket, key: op.key, uploadId: upload.uploadId, partNumber }, {
    checksums: alg ? [alg] : [],
    maxBytes: max,
    expectedBytes: length,
    ...(objectKey ? { objectKey } : {}),
  });
  try {
    const part = await savePart(svc, upload, partNumber, stored, objectKey);
    return xmlResult('CopyPartResult', {
      ETag: part.etag,
      LastModified: isoDate(part.lastModified),
      ...(alg && part.checksum ? { [`Checksum${alg}`]: part.checksum } : {}),
    }, 200, { ...copySourceVersionHeader(src), ...sseHeaders(sse) });
  } catch (e) {
    discardBlobs(svc, [stored.piece.blobId]);
    throw e;
  }
};

interface ListedPart {
  partNumber: number;
  etag: string;
  checksums: Map<ChecksumAlgorithm, string>;
}

/** `<CompleteMultipartUpload><Part><PartNumber/><ETag/>[<ChecksumCRC32/>…]</Part>…</CompleteMultipartUpload>`. */
function parseCompleteBody(raw: string): ListedPart[] {
  const root = parseXml(raw, 'CompleteMultipartUpload', ['CompleteMultipartUpload.Part']);
  const parts = listOf(root, 'Part');
  if (parts.length === 0 || parts.length > MAX_PART_NUMBER) throw s3error('MalformedXML');
  return parts.map((p) => {
    const n = textOf(p, 'PartNumber')?.trim();
    const etag = textOf(p, 'ETag');
    if (n === undefined || etag === undefined || !/^\d{1,9}$/.test(n)) throw s3error('MalformedXML');
    const checksums = new Map<ChecksumAlgorithm, string>();
    for (const a of CHECKSUM_ALGORITHMS) {
      const c = textOf(p, `Checksum${a}`);
      if (c !== undefined) checksums.set(a, c.trim());
    }
    return { partNumber: Number(n), etag, checksums };
  });
}

async function allParts(svc: Services, uploadId: string): Promise<Map<number, PartRecord>> {
  const out = new Map<number, PartRecord>();
  let after = 0;
  while (true) {
    const page = await svc.meta.listParts(uploadId, { afterPartNumber: after, limit: 1000 });
    for (const p of page.items) out.set(p.partNumber, p);
    if (!page.truncated || page.items.length === 0) return out;
    after = page.items[page.items.length - 1]!.partNumber;
  }
}

/** The parts a Complete request names, checked against what was uploaded, in its order. */
function resolveParts(upload: UploadRecord, listed: ListedPart[], stored: Map<number, PartRecord>): PartRecord[] {
  for (let i = 1; i < listed.length; i++) {
    if (listed[i]!.partNumber <= listed[i - 1]!.partNumber) throw s3error('InvalidPartOrder', undefined, { UploadId: upload.uploadId });
  }
  const alg = upload.checksumAlgorithm;
  return listed.map((lp, i) => {
    const invalid = (): S3Error => s3error('InvalidPart', undefined, { UploadId: upload.uploadId, PartNumber: lp.partNumber, ETag: lp.etag });
    const p = stored.get(lp.partNumber);
    if (!p || bareEtag(p.etag) !== bareEtag(lp.etag)) throw invalid();
    if (alg) {
      // Checksums listed for a part are checked like its ETag; a COMPOSITE upload needs them all.
      for (const [a, value] of lp.checksums) if (a !== alg || value !== p.checksum) throw invalid();
      if (upload.checksumType === 'COMPOSITE' && !lp.checksums.has(alg)) {
        throw s3error('InvalidRequest', `The upload was created using a ${alg.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${lp.partNumber} in the request.`);
      }
    }
    if (i < listed.length - 1 && p.size < MIN_PART_SIZE) {
      throw s3error('EntityTooSmall', undefined, { ProposedSize: p.size, MinSizeAllowed: MIN_PART_SIZE, PartNumber: p.partNumber, ETag: bareEtag(p.etag) });
    }
    return p;
  });
}

/** The object-level checksum of an upload with an algorithm: over the part digests, or combined over all bytes. */
function objectChecksum(upload: UploadRecord, parts: PartRecord[]): { algorithm: ChecksumAlgorithm; type: ChecksumType; value: string } | null {
  const alg = upload.checksumAlgorithm;
  const type = upload.checksumType;
  if (!alg || !type) return null;
  const digests = parts.map((p) => {
    if (p.checksum === null) throw new Error(`part ${p.partNumber} of upload ${upload.uploadId} has no ${alg} checksum`);
    return Buffer.from(p.checksum, 'base64');
  });
  if (type === 'COMPOSITE') return { algorithm: alg, type, value: compositeChecksum(alg, digests) };
  if (!isCrcAlgorithm(alg)) throw new Error(`FULL_OBJECT upload ${upload.uploadId} with non-CRC algorithm ${alg}`);
  return { algorithm: alg, type, value: fullObjectChecksum(alg, parts.map((p, i) => ({ crc: digests[i]!, length: p.size }))) };
}

/** Optional whole-object integrity headers on Complete: x-amz-checksum-<alg>, x-amz-checksum-type, x-amz-mp-object-size. */
function checkCompleteHeaders(req: S3Request, upload: UploadRecord, checksum: ReturnType<typeof objectChecksum>, size: number): void {
  const typeH = header(req, 'x-amz-checksum-type');
  if (typeH !== undefined) {
    const t = typeH.trim().toUpperCase();
    if (t !== 'COMPOSITE' && t !== 'FULL_OBJECT') throw s3error('InvalidRequest', 'Value for x-amz-checksum-type header is invalid.');
    if (t !== upload.checksumType) {
      throw s3error('InvalidRequest', `The upload was created using the ${upload.checksumType ?? 'null'} checksum mode. The complete request must use the same checksum mode.`);
    }
  }
  const present = CHECKSUM_ALGORITHMS.filter((a) => header(req, checksumHeader(a)) !== undefined);
  if (present.length > 1) throw s3error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  const a = present[0];
  if (a !== undefined) {
    if (!checksum || a !== checksum.algorithm) throw checksumTypeMismatch(upload.checksumAlgorithm, a);
    const sent = header(req, checksumHeader(a))!.trim();
    // A composite value may come with or without its "-N" suffix.
    const composite = checksum.type === 'COMPOSITE';
    decodeChecksumValue(a, composite ? sent.replace(/-\d+$/, '') : sent);
    const ok = sent === checksum.value || (composite && sent === checksum.value.replace(/-\d+$/, ''));
    if (!ok) throw s3error('BadDigest', `The ${a} you specified did not match the calculated checksum.`);
  }
  const sizeH = header(req, 'x-amz-mp-object-size');
  if (sizeH !== undefined) {
    if (!/^\d+$/.test(sizeH.trim())) throw s3error('InvalidRequest', 'Value for x-amz-mp-object-size header is invalid.');
    if (Number(sizeH.trim()) !== size) {
      throw s3error('InvalidRequest', `The provided 'x-amz-mp-object-size' header value ${sizeH.trim()} does not match what was computed: ${size}`);
    }
  }
}

/** Location as the client addressed the object (path- or virtual-hosted-style). */
function locationOf(req: S3Request): string {
  const host = header(req, 'host');
  return host ? `${req.tls ? 'https' : 'http'}://${host}${req.rawPath}` : req.rawPath;
}

/** CompleteMultipartUpload: validates the listed parts and commits them, without copying data, as one new version. */
export const completeMultipartUpload: Handler<'CompleteMultipartUpload'> = async (ctx, svc) => {
  const { req, op, bucket } = ctx;
  const b = bucket!;
  let upload: UploadRecord;
  try {
    upload = await loadUpload(ctx, svc);
  } catch (e) {
    const again = await repeatedCompletion(ctx, svc);
    if (again) return again;
    throw e;
  }
  const pre = writePrecondition(req);
  const listed = parseCompleteBody((await readSmallBody(ctx.body(), MAX_COMPLETE_BODY)).toString('utf8'));
  const parts = resolveParts(upload, listed, await allParts(svc, upload.uploadId));

  const size = parts.reduce((n, p) => n + p.size, 0);
  // S3's multipart ETag: the MD5 of the concatenated binary part MD5s, then "-<part count>".
  const md5s = createHash('md5');
  for (const p of parts) md5s.update(Buffer.from(bareEtag(p.etag), 'hex'));
  const etag = `"${md5s.digest('hex')}-${parts.length}"`;
  const checksum = objectChecksum(upload, parts);
  checkCompleteHeaders(req, upload, checksum, size);

  if (pre) wrapPrecondition(pre)(await svc.meta.getObjectVersion(op.bucket, op.key));
  const sse = upload.sse ?? AES256;
  // Completing an SSE-KMS upload needs kms:Decrypt on its key, as on AWS.
  if (sse.algorithm === 'aws:kms') await objectKeyFor(sseDepsOf(svc), req, ctx.principal, op, sse);
  const { versionId, replaceNullVersion } = nextVersionId(b);
  const pieces: DataPiece[] = parts.map((p) => ({
    ...p.piece,
    partNumber: p.partNumber,
    etag: p.etag,
    ...(p.checksum !== null ? { checksum: p.checksum } : {}),
  }));
  const v: ObjectVersion = {
    bucket: op.bucket,
    key: op.key,
    versionId,
    isDeleteMarker: false,
    size,
    etag,
    lastModified: svc.clock.now().toISOString(),
    ownerAccountId: upload.ownerAccountId,
    ...(upload.acl ? { acl: upload.acl } : {}),
    meta: upload.meta,
    checksum,
    tags: upload.tags,
    uploadId: upload.uploadId,
    pieces,
    sse,
  };
  let garbage;
  try {
    // The precondition runs again inside the commit, so a racing writer cannot slip in between.
    garbage = await svc.meta.completeUpload(upload.uploadId, v, { replaceNullVersion, precondition: pre && wrapPrecondition(pre) });
  } catch (e) {
    if (e instanceof StorageConflict && e.kind === 'no-such-upload') throw noSuchUpload(upload.uploadId);
    throw e;
  }
  discardBlobs(svc, garbage.blobIds);
  return xmlResult('CompleteMultipartUploadResult', {
    Location: locationOf(req),
    Bucket: op.bucket,
    Key: op.key,
    ETag: etag,
    ...(checksum ? { [`Checksum${checksum.algorithm}`]: checksum.value, ChecksumType: checksum.type } : {}),
  }, 200, { ...writtenVersionIdHeader(v), ...sseHeaders(sse) });
};

/**
 * A CompleteMultipartUpload repeated after it succeeded (a client retrying after a lost
 * answer) gets the same answer, as on S3: when the object's current version is the one that
 * upload made, with exactly the parts listed again. Anything else stays NoSuchUpload.
 */
async function repeatedCompletion(ctx: AuthorizedRequest<'CompleteMultipartUpload'>, svc: Services): Promise<S3Result | undefined> {
  const { req, op } = ctx;
  const uploadId = req.query.get('uploadId') ?? '';
  if (uploadId === '') return undefined;
  const v = await svc.meta.getObjectVersion(op.bucket, op.key);
  if (!v || v.isDeleteMarker || v.uploadId !== uploadId) return undefined;
  const listed = parseCompleteBody((await readSmallBody(ctx.body(), MAX_COMPLETE_BODY)).toString('utf8'));
  const same = listed.length === v.pieces.length
    && listed.every((lp, i) => lp.partNumber === v.pieces[i]!.partNumber && bareEtag(lp.etag) === bareEtag(v.pieces[i]!.etag ?? ''));
  if (!same) return undefined;
  const sse = v.sse ?? AES256;
  if (sse.algorithm === 'aws:kms') await objectKeyFor(sseDepsOf(svc), req, ctx.principal, op, sse);
  const checksum = v.checksum;
  return xmlResult('CompleteMultipartUploadResult', {
    Location: locationOf(req),
    Bucket: op.bucket,
    Key: op.key,
    ETag: v.etag,
    ...(checksum ? { [`Checksum${checksum.algorithm}`]: checksum.value, ChecksumType: checksum.type } : {}),
  }, 200, { ...writtenVersionIdHeader(v), ...sseHeaders(sse) });
}

/** AbortMultipartUpload: drops the upload and frees its part blobs; 204. */
export const abortMultipartUpload: Handler<'AbortMultipartUpload'> = async (ctx, svc) => {
  const upload = await loadUpload(ctx, svc);
  const { found, blobIds } = await svc.meta.abortUpload(upload.uploadId);
  discardBlobs(svc, blobIds);
  if (!found) throw noSuchUpload(upload.uploadId);
  return emptyResult(204);
};

/** ListParts: one page of an upload's parts, in part-number order. */
export const listParts: Handler<'ListParts'> = async (ctx, svc) => {
  const { req, op } = ctx;
  const upload = await loadUpload(ctx, svc);
  const maxParts = intParam(req, 'max-parts', 1000, 0, 1000);
  const marker = intParam(req, 'part-number-marker', 0, 0, MAX_PART_NUMBER);
  const page = await svc.meta.listParts(upload.uploadId, { afterPartNumber: marker, limit: maxParts });
  const owner = await svc.meta.getAccount(upload.ownerAccountId);
  const initiatorId = upload.initiatorAccountId ?? upload.ownerAccountId;
  const initiator = initiatorId === upload.ownerAccountId ? owner : await svc.meta.getAccount(initiatorId);
  const who = { ID: owner?.canonicalId ?? upload.ownerAccountId, DisplayName: owner?.name };
  const started = { ID: initiator?.canonicalId ?? initiatorId, DisplayName: initiator?.name };
  const alg = upload.checksumAlgorithm;
  const last = page.items[page.items.length - 1];
  return xmlResult('ListPartsResult', {
    Bucket: op.bucket,
    Key: op.key,
    UploadId: upload.uploadId,
    PartNumberMarker: marker,
    NextPartNumberMarker: last ? last.partNumber : marker,
    MaxParts: maxParts,
    IsTruncated: page.truncated,
    Part: page.items.map((p) => ({
      PartNumber: p.partNumber,
      LastModified: isoDate(p.lastModified),
      ETag: p.etag,
      Size: p.size,
      ...(alg && p.checksum !== null ? { [`Checksum${alg}`]: p.checksum } : {}),
    })),
    Initiator: started,
    Owner: who,
    StorageClass: upload.meta.storageClass ?? 'STANDARD',
    ChecksumAlgorithm: alg ?? undefined,
    ChecksumType: upload.checksumType ?? undefined,
  });
};
