/**
 * A lean SigV4 S3 client over node:http: path-style URLs, header-based signing of host,
 * x-amz-content-sha256 and x-amz-date, the signing key cached per UTC day. It does just
 * enough for the benchmark (PUT/GET/HEAD/DELETE object, CreateBucket, ListObjectsV2) and
 * keeps per-request CPU small: about four HMACs and one SHA-256 of the canonical request.
 */
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import type { Readable } from 'node:stream';

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

export interface Target {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** RFC 3986 encoding as SigV4 wants it (unreserved: A-Z a-z 0-9 - . _ ~). */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Path-style canonical URI: /bucket/key with each key segment encoded once ('/' kept). */
export function canonicalUri(bucket?: string, key?: string): string {
  if (!bucket) return '/';
  let uri = `/${uriEncode(bucket)}`;
  if (key !== undefined) uri += `/${key.split('/').map(uriEncode).join('/')}`;
  return uri;
}

export function canonicalQuery(query: Record<string, string> | undefined): string {
  if (!query) return '';
  return Object.keys(query)
    .map((k) => [uriEncode(k), uriEncode(query[k] ?? '')] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

export class Signer {
  private keyDay = '';
  private key: Buffer = Buffer.alloc(0);

  constructor(
    private readonly accessKeyId: string,
    private readonly secretAccessKey: string,
    private readonly region: string,
    private readonly service = 's3',
  ) {}

  /** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, day), region), service), "aws4_request"), cached per day. */
  signingKey(day: string): Buffer {
    if (day !== this.keyDay) {
      const kDate = createHmac('sha256', `AWS4${this.secretAccessKey}`).update(day).digest();
      const kRegion = createHmac('sha256', kDate).update(this.region).digest();
      const kService = createHmac('sha256', kRegion).update(this.service).digest();
      this.key = createHmac('sha256', kService).update('aws4_request').digest();
      this.keyDay = day;
    }
    return this.key;
  }

  /**
   * Returns the headers to send (host, x-amz-date, x-amz-content-sha256, authorization).
   * amzDate is yyyymmddThhmmssZ.
   */
  sign(method: string, uri: string, query: string, host: string, payloadHash: string, amzDate: string): Record<string, string> {
    const day = amzDate.slice(0, 8);
    const scope = `${day}/${this.region}/${this.service}/aws4_request`;
    const signedHeaders = 'host;x-amz-content-sha256;x-amz-date';
    const canonical = `${method}\n${uri}\n${query}\nhost:${host}\nx-amz-content-sha256:${payloadHash}\nx-amz-date:${amzDate}\n\n${signedHeaders}\n${payloadHash}`;
    const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
    const signature = createHmac('sha256', this.signingKey(day)).update(stringToSign).digest('hex');
    return {
      host,
      'x-amz-date': amzDate,
      'x-amz-content-sha256': payloadHash,
      authorization: `AWS4-HMAC-SHA256 Credential=${this.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    };
  }
}

export function amzDateNow(now = new Date()): string {
  // 2024-01-02T03:04:05.678Z -> 20240102T030405Z
  const iso = now.toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

/** What to do with a successful response body. Error bodies are always kept (first 8 KiB). */
export type Sink = 'discard' | 'collect' | 'sha256';

export interface RequestOptions {
  method: 'GET' | 'PUT' | 'HEAD' | 'DELETE' | 'POST';
  bucket?: string;
  key?: string;
  query?: Record<string, string>;
  /** A Buffer is sent with one write; a stream is piped (contentLength is then required). */
  body?: Buffer | Readable;
  contentLength?: number;
  /** Hex SHA-256 of the body, UNSIGNED_PAYLOAD, or (default) the hash of an empty/absent body. */
  payloadHash?: string;
  sink?: Sink;
  headers?: Record<string, string>;
}

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Body bytes received. */
  bytes: number;
  /** The body when sink is 'collect' or the status is not 2xx. */
  body?: Buffer;
  sha256?: string;
}

export class HttpError extends Error {
  constructor(
    readonly label: string,
    message: string,
  ) {
    super(message);
  }
}

/** Raises an HttpError labelled with method, status and the S3 error code when status is not 2xx. */
export function expectOk(method: string, r: Response): Response {
  if (r.status >= 200 && r.status < 300) return r;
  const text = r.body ? r.body.toString('utf8') : '';
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? '';
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? text.slice(0, 160);
  throw new HttpError(`${method} ${r.status}${code ? ` ${code}` : ''}`, `${method} ${r.status} ${code}: ${message}`);
}

export class LeanS3 {
  readonly agent: http.Agent;
  private readonly signer: Signer;
  private readonly hostname: string;
  private readonly port: number;
  private readonly host: string;

  constructor(
    readonly target: Target,
    concurrency: number,
    private readonly timeoutMs = 60_000,
  ) {
    const url = new URL(target.endpoint);
    if (url.protocol !== 'http:') throw new Error(`only http:// endpoints are supported, got ${target.endpoint}`);
    this.hostname = url.hostname.replace(/^\[|\]$/g, '');
    this.port = url.port ? Number(url.port) : 80;
    this.host = url.host;
    this.signer = new Signer(target.accessKeyId, target.secretAccessKey, target.region);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  }

  close(): void {
    this.agent.destroy();
  }

  request(o: RequestOptions): Promise<Response> {
    const uri = canonicalUri(o.bucket, o.key);
    const query = canonicalQuery(o.query);
    const payloadHash = o.payloadHash ?? EMPTY_SHA256;
    const headers: Record<string, string | number> = {
      ...o.headers,
      ...this.signer.sign(o.method, uri, query, this.host, payloadHash, amzDateNow()),
    };
    const body = o.body;
    if (Buffer.isBuffer(body)) headers['content-length'] = body.length;
    else if (body) {
      if (o.contentLength === undefined) throw new Error('contentLength is required for a streamed body');
      headers['content-length'] = o.contentLength;
    } else if (o.method === 'PUT' || o.method === 'POST') headers['content-length'] = 0;
    const sink = o.sink ?? 'discard';
    return new Promise<Response>((resolve, reject) => {
      const req = http.request(
        { agent: this.agent, hostname: this.hostname, port: this.port, method: o.method, path: query ? `${uri}?${query}` : uri, headers },
        (res) => {
          const status = res.statusCode ?? 0;
          const ok = status >= 200 && status < 300;
          let bytes = 0;
          const chunks: Buffer[] = [];
          let kept = 0;
          const hash = ok && sink === 'sha256' ? createHash('sha256') : undefined;
          const keep = !ok || sink === 'collect';
          res.on('data', (c: Buffer) => {
            bytes += c.length;
            if (hash) hash.update(c);
            else if (keep && (ok || kept < 8192)) {
              chunks.push(c);
              kept += c.length;
            }
          });
          res.on('end', () => {
            const r: Response = { status, headers: res.headers, bytes };
            if (keep) r.body = Buffer.concat(chunks);
            if (hash) r.sha256 = hash.digest('hex');
            resolve(r);
          });
          res.on('error', reject);
          res.on('aborted', () => reject(new HttpError(`${o.method} aborted`, `${o.method} response aborted after ${bytes} bytes`)));
        },
      );
      req.setTimeout(this.timeoutMs, () => req.destroy(new HttpError(`${o.method} timeout`, `${o.method}: socket idle for ${this.timeoutMs} ms`)));
      req.on('error', (e: NodeJS.ErrnoException) => reject(e instanceof HttpError ? e : new HttpError(`${o.method} ${e.code ?? 'network error'}`, `${o.method}: ${e.message}`)));
      if (Buffer.isBuffer(body)) req.end(body);
      else if (body) {
        body.on('error', (e) => req.destroy(e));
        body.pipe(req);
      } else req.end();
    });
  }
}
