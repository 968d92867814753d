/** Small helpers shared by handlers: bodies, dates, metadata headers, XML results. */
import type { Readable } from 'node:stream';
import { s3error } from '../errors/s3-errors.js';
import { header, type S3Request, type S3Result } from '../http/request.js';
import { toXml, type XmlObject } from '../http/xml.js';
import type { ObjectMeta } from '../storage/ports.js';

/** Reads a small request body (XML configurations) with a size cap. */
export async function readSmallBody(stream: Readable, maxBytes = 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const b = chunk as Buffer;
    total += b.length;
    if (total > maxBytes) {
      stream.destroy();
      throw s3error('MaxMessageLengthExceeded');
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** A 200 response with an S3 XML body. */
export function xmlResult(root: string, body: XmlObject, status = 200, headers: S3Result['headers'] = {}): S3Result {
  return { status, headers: { 'Content-Type': 'application/xml', ...headers }, body: toXml(root, body) };
}

export function emptyResult(status = 200, headers: S3Result['headers'] = {}): S3Result {
  return { status, headers };
}

/** ISO 8601 with milliseconds, as S3 lists timestamps. */
/**
 * The time S3 clients see for a stored timestamp: the next whole second at or after it.
 * S3 shows whole seconds (`….000Z` in XML, Last-Modified, the If-*-Since comparisons), and
 * every one of those places uses this one value. Rounding up, not down, keeps it at or after
 * the moment of the write: a file changed just before its upload is never newer than the
 * object (`aws s3 sync` settles both ways, --exact-timestamps included).
 */
export function visibleTime(t: Date | string): number {
  const ms = typeof t === 'string' ? Date.parse(t) : t.getTime();
  return Math.ceil(ms / 1000) * 1000;
}

/** A timestamp in an XML body (LastModified, Initiated, CreationDate), as visibleTime says. */
export const isoDate = (t: Date | string): string => new Date(visibleTime(t)).toISOString();

/** A Last-Modified header, as visibleTime says. */
export const httpDate = (iso: string): string => new Date(visibleTime(iso)).toUTCString();

const META_LIMIT = 2 * 1024;

/** Collects Content-* and x-amz-meta-* headers into stored object metadata. */
export function metaFromHeaders(req: S3Request): ObjectMeta {
  const user: Record<string, string> = {};
  let size = 0;
  for (const [name, value] of Object.entries(req.headers)) {
    if (!name.startsWith('x-amz-meta-')) continue;
    const v = Array.isArray(value) ? value.join(',') : (value ?? '');
    const k = name.slice('x-amz-meta-'.length);
    user[k] = v;
    size += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (size > META_LIMIT) throw s3error('MetadataTooLarge', undefined, { Size: size, MaxSizeAllowed: META_LIMIT });
  const storageClass = header(req, 'x-amz-storage-class');
  if (storageClass !== undefined && !STORAGE_CLASSES.has(storageClass)) throw s3error('InvalidStorageClass');
  const redirect = header(req, 'x-amz-website-redirect-location');
  if (redirect !== undefined && !/^(https?:\/\/|\/)/.test(redirect)) throw s3error('InvalidWebsiteRedirectLocation');
  const meta: ObjectMeta = { user };
  const set = <K extends keyof ObjectMeta>(k: K, v: ObjectMeta[K] | undefined): void => {
    if (v !== undefined) meta[k] = v;
  };
  set('contentType', header(req, 'content-type'));
  set('contentEncoding', stripAwsChunked(header(req, 'content-encoding')));
  set('contentDisposition', header(req, 'content-disposition'));
  set('contentLanguage', header(req, 'content-language'));
  set('cacheControl', header(req, 'cache-control'));
  set('expires', header(req, 'expires'));
  set('websiteRedirectLocation', redirect);
  set('storageClass', storageClass);
  return meta;
}

const STORAGE_CLASSES = new Set(['STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER', 'DEEP_ARCHIVE', 'OUTPOSTS', 'GLACIER_IR', 'SNOW', 'EXPRESS_ONEZONE']);

/** aws-chunked is a transfer detail, not part of the object's Content-Encoding. */
function stripAwsChunked(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const rest = v.split(',').map((s) => s.trim()).filter((s) => s !== '' && s.toLowerCase() !== 'aws-chunked');
  return rest.length ? rest.join(',') : undefined;
}

/** Headers describing stored metadata, for GET/HEAD responses. */
export function metaHeaders(meta: ObjectMeta): Record<string, string> {
  const h: Record<string, string> = {};
  h['Content-Type'] = meta.contentType ?? 'binary/octet-stream';
  if (meta.contentEncoding !== undefined) h['Content-Encoding'] = meta.contentEncoding;
  if (meta.contentDisposition !== undefined) h['Content-Disposition'] = meta.contentDisposition;
  if (meta.contentLanguage !== undefined) h['Content-Language'] = meta.contentLanguage;
  if (meta.cacheControl !== undefined) h['Cache-Control'] = meta.cacheControl;
  if (meta.expires !== undefined) h['Expires'] = meta.expires;
  if (meta.websiteRedirectLocation !== undefined) h['x-amz-website-redirect-location'] = meta.websiteRedirectLocation;
  if (meta.storageClass !== undefined && meta.storageClass !== 'STANDARD') h['x-amz-storage-class'] = meta.storageClass;
  for (const [k, v] of Object.entries(meta.user)) h[`x-amz-meta-${k}`] = v;
  return h;
}

/** Parses an integer query parameter within bounds; bad → InvalidArgument. */
export function intParam(req: S3Request, name: string, dflt: number, min: number, max: number): number {
  return boundedInt(req.query.get(name), name, dflt, min, max);
}

/** The same rules for a parameter sent as a header (GetObjectAttributes' x-amz-max-parts, …). */
export function intHeader(req: S3Request, name: string, dflt: number, min: number, max: number): number {
  return boundedInt(header(req, name), name, dflt, min, max);
}

function boundedInt(v: string | undefined, name: string, dflt: number, min: number, max: number): number {
  if (v === undefined || v === '') return dflt;
  if (!/^-?\d+$/.test(v)) throw s3error('InvalidArgument', `Provided ${name} not an integer or within integer range`, { ArgumentName: name, ArgumentValue: v });
  const n = Number(v);
  if (n < min) throw s3error('InvalidArgument', `Argument ${name} must be an integer between ${min} and ${max}`, { ArgumentName: name, ArgumentValue: v });
  return Math.min(n, max);
}
