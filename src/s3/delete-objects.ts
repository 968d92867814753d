/**
 * DeleteObjects (POST ?delete): up to 1000 keys in one request, each authorized and deleted on
 * its own, with per-key outcomes in a 200 body. DeleteObject's semantics for every versioning
 * state come from objects.ts `deleteOne`, so single and multi-object deletes cannot diverge.
 */
import { createHash } from 'node:crypto';
import { objectArn } from '../authz/actions.js';
import { s3error, toS3Error } from '../errors/s3-errors.js';
import { listOf, parseXml, textOf, type XmlObject } from '../http/xml.js';
import type { BucketRecord } from '../storage/ports.js';
import { createChecksum, type ChecksumAlgorithm } from '../util/checksums.js';
import { parseChecksumRequest, verifyChecksums, type ChecksumRequest } from './checksum-request.js';
import { readSmallBody, xmlResult } from './common.js';
import type { AuthorizedRequest, Handler, Services } from './context.js';
import { validateKey } from './names.js';
import { deleteOne } from './objects.js';
import { parseVersionIdParam } from './versions.js';

/** S3's limit on keys per request. */
export const MAX_DELETE_OBJECTS = 1000;

/** 1000 keys of up to 1024 bytes, XML-escaped, plus version ids: a few MiB at most. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** One <Object> of the request. */
export interface DeleteTarget {
  key: string;
  /** Raw <VersionId> text; validated per key, so a bad one fails only its own entry. */
  versionId: string | undefined;
  /** <ETag>: delete only if the object's ETag matches (or `*`: if it exists). */
  etag: string | undefined;
  /** <LastModifiedTime> or <Size> was given: conditions S3 supports for directory buckets only. */
  directoryConditions: boolean;
}

/** The parsed <Delete> body. */
export interface DeleteRequest {
  quiet: boolean;
  objects: DeleteTarget[];
}

/** Parses the <Delete> body; structural problems (no objects, more than 1000, no <Key>) → MalformedXML. */
export function parseDeleteRequest(xml: string): DeleteRequest {
  const root = parseXml(xml, 'Delete', ['Delete.Object']);
  const quietText = textOf(root, 'Quiet')?.trim().toLowerCase();
  if (quietText !== undefined && quietText !== 'true' && quietText !== 'false') throw s3error('MalformedXML');
  const nodes = listOf(root, 'Object');
  if (nodes.length === 0 || nodes.length > MAX_DELETE_OBJECTS) throw s3error('MalformedXML');
  const objects = nodes.map((o): DeleteTarget => {
    const key = textOf(o, 'Key');
    if (key === undefined || key === '') throw s3error('MalformedXML');
    return {
      key,
      versionId: textOf(o, 'VersionId'),
      etag: textOf(o, 'ETag'),
      directoryConditions: o.LastModifiedTime !== undefined || o.Size !== undefined,
    };
  });
  return { quiet: quietText === 'true', objects };
}

/**
 * S3 requires an integrity header on this API. Current S3 accepts Content-MD5 or any
 * x-amz-checksum-* (header or trailer) — the AWS SDKs now send CRC32 and no MD5 — and answers
 * a request with neither with this InvalidRequest.
 */
export function requireIntegrityHeader(cr: ChecksumRequest): void {
  if (cr.md5 === undefined && cr.algorithm === undefined) {
    throw s3error('InvalidRequest', 'Missing required header for this request: Content-MD5 OR x-amz-checksum-*');
  }
}

/** Checks the body against Content-MD5 and/or the checksum header or trailer; mismatch → BadDigest. */
function verifyBody(cr: ChecksumRequest, body: Buffer, trailers: ReadonlyMap<string, string>): void {
  const md5 = createHash('md5').update(body).digest();
  const digests = new Map<ChecksumAlgorithm, Buffer>();
  if (cr.algorithm !== undefined) {
    const c = createChecksum(cr.algorithm);
    c.update(body);
    digests.set(cr.algorithm, c.digest());
  }
  verifyChecksums(cr, md5, digests, trailers);
}

type Outcome = { deleted: XmlObject } | { error: XmlObject };

function errorEntry(t: DeleteTarget, code: string, message: string): Outcome {
  return { error: { Key: t.key, VersionId: t.versionId, Code: code, Message: message } };
}

/** Authorizes and deletes one key; every failure becomes that key's <Error>. */
async function deleteTarget(ctx: AuthorizedRequest<'DeleteObjects'>, svc: Services, b: BucketRecord, t: DeleteTarget): Promise<Outcome> {
  // The pipeline checked nothing for this operation (authz/actions.ts): each key is decided here.
  const action = t.versionId !== undefined ? 's3:DeleteObjectVersion' : 's3:DeleteObject';
  const decision = await svc.authorizer.authorize({
    req: ctx.req, principal: ctx.principal, auth: ctx.auth, known: [b],
    checks: [{ action, resource: objectArn(b.name, t.key), bucket: b.name, ...(t.versionId !== undefined ? { versionId: t.versionId } : {}) }],
  });
  if (decision.effect !== 'Allow') {
    svc.log.debug('access denied', { requestId: ctx.req.requestId, operation: 'DeleteObjects', trace: decision.trace });
    const denied = s3error('AccessDenied');
    return errorEntry(t, denied.code, denied.message);
  }
  try {
    validateKey(t.key);
    const versionId = parseVersionIdParam(t.versionId);
    if (t.directoryConditions) throw s3error('NotImplemented', 'Conditional deletes on LastModifiedTime or Size are for directory buckets; not implemented.');
    const r = await deleteOne(svc, b, t.key, versionId, t.etag);
    // S3: a version delete echoes VersionId (and flags a removed delete marker, whose id it
    // repeats as DeleteMarkerVersionId); a plain delete in a versioned bucket reports the
    // marker it created; an unversioned delete reports only the key.
    const deleted: XmlObject = { Key: t.key };
    if (versionId !== undefined) {
      deleted.VersionId = versionId;
      if (r.deleteMarker) Object.assign(deleted, { DeleteMarker: true, DeleteMarkerVersionId: versionId });
    } else if (r.deleteMarker) {
      Object.assign(deleted, { DeleteMarker: true, DeleteMarkerVersionId: r.versionId });
    }
    return { deleted };
  } catch (e) {
    const err = toS3Error(e);
    if (err.code === 'InternalError') svc.log.error('DeleteObjects key failed', { requestId: ctx.req.requestId, key: t.key, err: e instanceof Error ? e.stack : String(e) });
    return errorEntry(t, err.code, err.message);
  }
}

/** POST ?delete: integrity-checked body, per-key authorization and results; Quiet returns errors only. */
export const deleteObjects: Handler<'DeleteObjects'> = async (ctx, svc) => {
  const b = ctx.bucket!;
  const cr = parseChecksumRequest(ctx.req);
  requireIntegrityHeader(cr);
  const body = await readSmallBody(ctx.body(), MAX_BODY_BYTES);
  verifyBody(cr, body, ctx.trailers());
  const request = parseDeleteRequest(body.toString('utf8'));
  // Started together so the metadata store group-commits the whole batch in one transaction;
  // writes to one key still apply in request order (the store's queue is FIFO).
  const outcomes = await Promise.all(request.objects.map((t) => deleteTarget(ctx, svc, b, t)));
  const deleted: XmlObject[] = [];
  const errors: XmlObject[] = [];
  for (const o of outcomes) {
    if ('deleted' in o) deleted.push(o.deleted);
    else errors.push(o.error);
  }
  return xmlResult('DeleteResult', { Deleted: request.quiet ? undefined : deleted, Error: errors });
};
