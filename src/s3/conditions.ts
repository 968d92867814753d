/** Conditional requests (RFC 7232 as S3 applies them) and Range parsing. */
import { s3error } from '../errors/s3-errors.js';
import { header, type S3Request } from '../http/request.js';
import { visibleTime } from './common.js';

export interface Validators {
  etag: string; // quoted
  lastModified: string; // ISO
}

function parseHttpDate(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

export function etagMatches(list: string, etag: string): boolean {
  const bare = etag.replace(/^"|"$/g, '');
  return list.split(',').some((raw) => {
    const t = raw.trim();
    return t === '*' || t.replace(/^W\//, '').replace(/^"|"$/g, '') === bare;
  });
}

/** Seconds precision: HTTP dates have no milliseconds. */

export interface ConditionalHeaders {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifUnmodifiedSince?: string;
}

/**
 * Read preconditions: 412 PreconditionFailed or 304 NotModified, as S3 orders them
 * (If-Match beats If-Unmodified-Since; If-None-Match beats If-Modified-Since).
 */
export function checkReadConditions(c: ConditionalHeaders, v: Validators, extraHeaders: Record<string, string> = {}): void {
  const lm = visibleTime(v.lastModified);
  const ims = parseHttpDate(c.ifModifiedSince);
  const ius = parseHttpDate(c.ifUnmodifiedSince);
  if (c.ifMatch !== undefined) {
    if (!etagMatches(c.ifMatch, v.etag)) throw s3error('PreconditionFailed', undefined, { Condition: 'If-Match' });
  } else if (ius !== undefined && lm > ius) {
    throw s3error('PreconditionFailed', undefined, { Condition: 'If-Unmodified-Since' });
  }
  if (c.ifNoneMatch !== undefined) {
    if (etagMatches(c.ifNoneMatch, v.etag)) throw s3error('NotModified', undefined, {}, { ETag: v.etag, ...extraHeaders });
  } else if (ims !== undefined && lm <= ims) {
    throw s3error('NotModified', undefined, {}, { ETag: v.etag, ...extraHeaders });
  }
}

export function readConditionHeaders(req: S3Request, prefix = ''): ConditionalHeaders {
  const h = (n: string): string | undefined => header(req, prefix + n);
  const out: ConditionalHeaders = {};
  const im = h('if-match');
  const inm = h('if-none-match');
  const ims = h('if-modified-since');
  const ius = h('if-unmodified-since');
  if (im !== undefined) out.ifMatch = im;
  if (inm !== undefined) out.ifNoneMatch = inm;
  if (ims !== undefined) out.ifModifiedSince = ims;
  if (ius !== undefined) out.ifUnmodifiedSince = ius;
  return out;
}

/** The copy-source variants: x-amz-copy-source-if-*, which answer 412 for every failure. */
export function checkCopySourceConditions(req: S3Request, v: Validators): void {
  try {
    checkReadConditions(readConditionHeaders(req, 'x-amz-copy-source-'), v);
  } catch (e) {
    if ((e as { code?: string }).code === 'NotModified') throw s3error('PreconditionFailed');
    throw e;
  }
}

/** Write preconditions (If-None-Match: * and If-Match on PUT/Complete), checked against the current version. */
export function writePrecondition(req: S3Request): ((current: Validators | undefined) => void) | undefined {
  const inm = header(req, 'if-none-match');
  const im = header(req, 'if-match');
  if (inm === undefined && im === undefined) return undefined;
  if (inm !== undefined && inm.trim() !== '*') throw s3error('NotImplemented', 'A header you provided implies functionality that is not implemented', { Header: 'If-None-Match' });
  return (current) => {
    if (inm !== undefined && current) throw s3error('PreconditionFailed', undefined, { Condition: 'If-None-Match' });
    if (im !== undefined) {
      if (!current) throw s3error('NoSuchKey');
      if (!etagMatches(im, current.etag)) throw s3error('PreconditionFailed', undefined, { Condition: 'If-Match' });
    }
  };
}

/**
 * A conditional delete (DeleteObject's If-Match, a DeleteObjects entry's <ETag>): the object
 * must exist and match; checked inside the delete's transaction. A delete marker is no object.
 */
export function deletePrecondition(ifMatch: string | undefined): ((target: Validators & { isDeleteMarker?: boolean } | undefined) => void) | undefined {
  if (ifMatch === undefined) return undefined;
  return (target) => {
    if (!target || target.isDeleteMarker) throw s3error('NoSuchKey');
    if (!etagMatches(ifMatch, target.etag)) throw s3error('PreconditionFailed', undefined, { Condition: 'If-Match' });
  };
}

export type ByteRange = { start: number; end: number };

/**
 * Parses a Range header against an object size. Returns undefined when there is no usable
 * Range (S3 ignores a syntactically invalid one and serves the whole object); throws
 * InvalidRange when it cannot be satisfied; several ranges are rejected (S3 serves one).
 */
export function parseRange(value: string | undefined, size: number): ByteRange | undefined {
  if (value === undefined) return undefined;
  const m = /^bytes=(.*)$/.exec(value.trim());
  if (!m) return undefined;
  const specs = m[1]!.split(',').map((s) => s.trim());
  if (specs.length > 1) throw s3error('InvalidRange', 'Multiple ranges are not supported', { RangeRequested: value, ActualObjectSize: size }, { 'Content-Range': `bytes */${size}` });
  const spec = specs[0]!;
  const sm = /^(\d*)-(\d*)$/.exec(spec);
  if (!sm || (sm[1] === '' && sm[2] === '')) return undefined;
  const unsatisfiable = (): never => {
    throw s3error('InvalidRange', undefined, { RangeRequested: value, ActualObjectSize: size }, { 'Content-Range': `bytes */${size}` });
  };
  if (sm[1] === '') {
    const n = Number(sm[2]);
    if (n === 0 || size === 0) return unsatisfiable();
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(sm[1]);
  if (sm[2] !== '' && Number(sm[2]) < start) return undefined;
  if (start >= size) return unsatisfiable();
  const end = sm[2] === '' ? size - 1 : Number(sm[2]);
  return { start, end: Math.min(end, size - 1) };
}
