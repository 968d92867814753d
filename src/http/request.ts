/** The protocol-neutral request and result the pipeline works on. */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

export interface TlsInfo {
  /** e.g. 'TLSv1.3' */
  version: string;
  /** OpenSSL cipher name, e.g. 'TLS_AES_256_GCM_SHA384' */
  cipher: string;
}

export interface S3Request {
  requestId: string;
  hostId: string;
  method: string;
  /** Path as received, still percent-encoded. */
  rawPath: string;
  /** Query as received without '?'. */
  rawQuery: string;
  /** Decoded query parameters (first value wins for duplicates, as S3 does). */
  query: ReadonlyMap<string, string>;
  headers: IncomingHttpHeaders;
  /** The unread body. Only the pipeline hands it to handlers, wrapped in its verifier. */
  body: Readable;
  clientIp: string;
  /** null for plain HTTP. */
  tls: TlsInfo | null;
  receivedAt: Date;
}

export type HeaderValue = string | number | readonly string[];

export interface S3Result {
  status: number;
  headers: Record<string, HeaderValue | undefined>;
  /** XML/text, bytes, or a stream of bytes. */
  body?: string | Buffer | Readable;
}

/** First value of a header, or undefined. */
export function header(req: { headers: IncomingHttpHeaders }, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Parses a raw query string into a map; S3 keeps the first of duplicated parameters. */
export function parseQuery(rawQuery: string): Map<string, string> {
  const m = new Map<string, string>();
  if (rawQuery === '') return m;
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rk = eq < 0 ? part : part.slice(0, eq);
    const rv = eq < 0 ? '' : part.slice(eq + 1);
    let k: string;
    let v: string;
    try {
      k = decodeURIComponent(rk.replace(/\+/g, ' '));
      v = decodeURIComponent(rv.replace(/\+/g, ' '));
    } catch {
      k = rk;
      v = rv;
    }
    if (!m.has(k)) m.set(k, v);
  }
  return m;
}
