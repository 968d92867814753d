/**
 * SigV2's string to sign for S3 (the "RESTAuthentication" scheme): positional Content-MD5,
 * Content-Type and Date, then the x-amz-* headers, then the resource with its sub-resources.
 */
import type { HeaderMap } from '../sigv4/canonical-request.js';
import type { QueryParam } from '../sigv4/query.js';

/**
 * Query parameters that are part of the signed resource. This is the list the most widely
 * used SigV2 signer (botocore) signs, which is AWS's documented list plus the sub-resources
 * added since; a parameter missing here would make those clients' signatures fail.
 */
export const SIGNED_SUBRESOURCES: ReadonlySet<string> = new Set([
  'accelerate', 'acl', 'analytics', 'cors', 'defaultObjectAcl', 'delete', 'inventory', 'lifecycle', 'location',
  'logging', 'metrics', 'notification', 'object-lock', 'partNumber', 'policy', 'replication', 'requestPayment',
  'response-cache-control', 'response-content-disposition', 'response-content-encoding', 'response-content-language',
  'response-content-type', 'response-expires', 'restore', 'select', 'select-type', 'storageClass', 'tagging',
  'torrent', 'uploadId', 'uploads', 'versionId', 'versioning', 'versions', 'website',
]);

function isAmzName(name: string): boolean {
  return name.length > 6 && name.slice(0, 6).toLowerCase() === 'x-amz-';
}

/**
 * CanonicalizedAmzHeaders: every x-amz-* header, lower-cased and sorted, `name:value\n`, repeated
 * values joined with ','. For query authentication, signers (botocore among them) move the
 * signed x-amz-* headers into the URL, so x-amz-* query parameters count as headers too.
 */
export function canonicalAmzHeaders(headers: HeaderMap, queryParams?: readonly QueryParam[]): string {
  const values = new Map<string, string[]>();
  const add = (name: string, value: string): void => {
    const list = values.get(name);
    if (list === undefined) values.set(name, [value.trim()]);
    else list.push(value.trim());
  };
  for (const raw in headers) {
    const v = headers[raw];
    if (v === undefined || !isAmzName(raw)) continue;
    const name = raw.toLowerCase();
    if (typeof v === 'string') add(name, v);
    else for (const one of v) add(name, one);
  }
  if (queryParams !== undefined) for (const p of queryParams) if (isAmzName(p.name)) add(p.name.toLowerCase(), p.value);
  if (values.size === 0) return '';
  const names = [...values.keys()].sort();
  let out = '';
  for (const name of names) out += `${name}:${values.get(name)!.join(',')}\n`;
  return out;
}

/**
 * CanonicalizedResource: `/bucket` for virtual-hosted requests, the path exactly as sent
 * (SigV2 signs it un-decoded), then the signed sub-resources sorted by name, with decoded
 * values (AWS: "when signing, you do not encode these values").
 */
export function canonicalResource(rawPath: string, params: readonly QueryParam[], virtualHostBucket?: string): string {
  let out = virtualHostBucket !== undefined && virtualHostBucket.length > 0 ? `/${virtualHostBucket}` : '';
  out += rawPath.length === 0 ? '/' : rawPath;
  let subs: QueryParam[] | undefined;
  for (const p of params) if (SIGNED_SUBRESOURCES.has(p.name)) (subs ??= []).push(p);
  if (subs === undefined) return out;
  // Stable sort by name keeps repeated parameters in request order.
  subs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let sep = '?';
  for (const p of subs) {
    out += p.hasValue ? `${sep}${p.name}=${p.value}` : `${sep}${p.name}`;
    sep = '&';
  }
  return out;
}

/** The parts of a SigV2 string to sign. */
export interface StringToSignV2Parts {
  method: string;
  contentMd5: string;
  contentType: string;
  /** The Date header (header form, '' when x-amz-date is used) or the Expires parameter (query form). */
  dateOrExpires: string;
  canonicalAmzHeaders: string;
  canonicalResource: string;
}

/** Joins the SigV2 string to sign. */
export function stringToSignV2(p: StringToSignV2Parts): string {
  return `${p.method}\n${p.contentMd5}\n${p.contentType}\n${p.dateOrExpires}\n${p.canonicalAmzHeaders}${p.canonicalResource}`;
}
