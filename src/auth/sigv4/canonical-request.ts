import type { QueryParam } from './query.js';
import { canonicalizeWirePath } from './uri-encode.js';

/** Request headers as node gives them: lower-case names, repeated headers joined or as arrays. */
export type HeaderMap = Readonly<Record<string, string | string[] | undefined>>;

/**
 * S3's canonical URI: the path exactly as sent, each byte re-encoded once with RFC 3986's
 * unreserved set. Unlike other services S3 neither normalises ('.', '..', '//') nor
 * double-encodes, because object keys may legitimately contain all of those.
 */
export function canonicalUri(rawPath: string): string {
  if (rawPath.length === 0) return '/';
  return canonicalizeWirePath(rawPath);
}

function compareParams(a: QueryParam, b: QueryParam): number {
  // Canonical forms are pure ASCII, so UTF-16 order is byte order, as SigV4 requires.
  if (a.encName !== b.encName) return a.encName < b.encName ? -1 : 1;
  if (a.encValue !== b.encValue) return a.encValue < b.encValue ? -1 : 1;
  return 0;
}

/** The canonical query string: pairs sorted by encoded name then value, empty values kept as `name=`; a parameter named `omit` (X-Amz-Signature) is left out. */
export function canonicalQuery(params: readonly QueryParam[], omit?: string): string {
  if (params.length === 0) return '';
  if (params.length === 1) {
    const p = params[0]!;
    return p.name === omit ? '' : `${p.encName}=${p.encValue}`;
  }
  const kept = omit === undefined ? params.slice() : params.filter((p) => p.name !== omit);
  kept.sort(compareParams);
  let out = '';
  for (let i = 0; i < kept.length; i++) {
    const p = kept[i]!;
    out += i === 0 ? `${p.encName}=${p.encValue}` : `&${p.encName}=${p.encValue}`;
  }
  return out;
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

/** Trims a header value and collapses each inner run of spaces/tabs to one space (SigV4's "Trimall"). */
export function trimAll(value: string): string {
  const n = value.length;
  let start = 0;
  let end = n;
  while (start < end && isBlank(value.charCodeAt(start))) start++;
  while (end > start && isBlank(value.charCodeAt(end - 1))) end--;
  let needsCollapse = false;
  for (let i = start + 1; i < end; i++) {
    if (isBlank(value.charCodeAt(i)) && (isBlank(value.charCodeAt(i - 1)) || value.charCodeAt(i) === 9)) {
      needsCollapse = true;
      break;
    }
  }
  if (!needsCollapse) return start === 0 && end === n ? value : value.slice(start, end);
  let out = '';
  let inBlank = false;
  for (let i = start; i < end; i++) {
    const c = value.charCodeAt(i);
    if (isBlank(c)) {
      inBlank = true;
      continue;
    }
    if (inBlank) out += ' ';
    inBlank = false;
    out += value[i];
  }
  return out;
}

/** A header's canonical value: each occurrence trimmed and collapsed, occurrences joined with ','. Absent headers are ''. */
export function canonicalHeaderValue(value: string | readonly string[] | undefined): string {
  if (typeof value === 'string') return trimAll(value);
  // Signed header names are attacker-chosen: a name like "constructor" must not reach an
  // inherited property of the headers object, hence the type checks rather than truthiness.
  if (!Array.isArray(value)) return '';
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const one: unknown = value[i];
    const text = typeof one === 'string' ? trimAll(one) : '';
    out += i === 0 ? text : `,${text}`;
  }
  return out;
}

/** The canonical header block, one `name:value\n` line per signed header in the order given (clients send them sorted). */
export function canonicalHeaders(headers: HeaderMap, signedHeaders: readonly string[]): string {
  let out = '';
  for (const name of signedHeaders) out += `${name}:${canonicalHeaderValue(headers[name])}\n`;
  return out;
}

/** The parts of a canonical request. */
export interface CanonicalRequestParts {
  method: string;
  canonicalUri: string;
  canonicalQuery: string;
  /** Output of `canonicalHeaders`, ending in '\n'. */
  canonicalHeaders: string;
  /** The signed header names joined with ';'. */
  signedHeaders: string;
  payloadHash: string;
}

/** Joins the canonical request: method, URI, query, headers (with their trailing blank line), signed header list and payload hash. */
export function canonicalRequest(p: CanonicalRequestParts): string {
  return `${p.method}\n${p.canonicalUri}\n${p.canonicalQuery}\n${p.canonicalHeaders}\n${p.signedHeaders}\n${p.payloadHash}`;
}
