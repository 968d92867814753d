/**
 * A lean SigV4 S3 client over node:http: path-style URLs, header-based signing of host,
 * x-amz-content-sha256 and x-amz-date (plus any x-amz-* header a request adds, e.g. the
 * SSE headers, which S3 requires to be signed), the signing key cached per UTC day. It does
 * just enough for the benchmark (PUT/GET/HEAD/DELETE object, CreateBucket, ListObjectsV2,
 * bucket sub-resources) and keeps per-request CPU small: about four HMACs and one SHA-256
 * of the canonical request. `kmsCall` signs one AWS KMS JSON 1.1 request (service `kms`).
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
  sign(method: string, uri: string, query: string, host: string, payloadHash: string, amzDate: string, extra?: Record<string, string>): Record<string, string> {
    if (extra) {
      // The general path: host, x-amz-content-sha256, x-amz-date and the extra headers.
      const headers = { ...extra, host, 'x-amz-date': amzDate, 'x-amz-content-sha256': payloadHash };
      return { ...headers, authorization: this.authorization(method, uri, query, headers, payloadHash, amzDate) };
    }
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

  /**
   * The Authorization header value signing every header in `headers` (lower-case names,
   * values trimmed and inner whitespace collapsed as SigV4 wants) and `payloadHash` as the
   * canonical request's last line (it need not appear among the headers: non-S3 services
   * take the body's hash directly).
   */
  authorization(method: string, uri: string, query: string, headers: Record<string, string>, payloadHash: string, amzDate: string): string {
    const day = amzDate.slice(0, 8);
    const scope = `${day}/${this.region}/${this.service}/aws4_request`;
    const names = Object.keys(headers).map((n) => n.toLowerCase()).sort();
    const byName = new Map(Object.entries(headers).map(([n, v]) => [n.toLowerCase(), v.trim().replace(/\s+/g, ' ')]));
    const signedHeaders = names.join(';');
    const canonicalHeaders = names.map((n) => `${n}:${byName.get(n)!}\n`).join('');
    const canonical = `${method}\n${uri}\n${query}\n${canonicalHeaders}\n${signedHeaders}\n${payloadHash}`;
    const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
    const signature = createHmac('sha256', this.signingKey(day)).update(stringToSign).digest('hex');
    return `AWS4-HMAC-SHA256 Credential=${this.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
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
    // S3 wants every x-amz-* header signed (x-amz-content-sha256 aside); other headers go unsigned.
    let amz: Record<string, string> | undefined;
    let rest: Record<string, string> | undefined;
    if (o.headers) {
      for (const [name, value] of Object.entries(o.headers)) {
        const lower = name.toLowerCase();
        if (lower.startsWith('x-amz-')) (amz ??= {})[lower] = value;
        else (rest ??= {})[name] = value;
      }
    }
    const headers: Record<string, string | number> = {
      ...rest,
      ...this.signer.sign(o.method, uri, query, this.host, payloadHash, amzDateNow(), amz),
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

/**
 * One AWS KMS JSON 1.1 call (`POST /`, `X-Amz-Target: TrentService.<operation>`), signed
 * SigV4 for service `kms` with the body's SHA-256 as the payload hash, over a connection of
 * its own. Resolves with the parsed JSON answer; any other status → HttpError labelled
 * `KMS <operation> <status> <__type>`.
 */
export function kmsCall(target: Target, operation: string, input: object, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const url = new URL(target.endpoint);
  if (url.protocol !== 'http:') throw new Error(`only http:// endpoints are supported, got ${target.endpoint}`);
  const body = Buffer.from(JSON.stringify(input));
  const amzDate = amzDateNow();
  const signedHeaders: Record<string, string> = {
    'content-type': 'application/x-amz-json-1.1',
    host: url.host,
    'x-amz-date': amzDate,
    'x-amz-target': `TrentService.${operation}`,
  };
  const signer = new Signer(target.accessKeyId, target.secretAccessKey, target.region, 'kms');
  const authorization = signer.authorization('POST', '/', '', signedHeaders, sha256Hex(body), amzDate);
  const label = `KMS ${operation}`;
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent: false, hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port ? Number(url.port) : 80, method: 'POST', path: '/',
        headers: { ...signedHeaders, authorization, 'content-length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown> | undefined;
          try {
            parsed = JSON.parse(text) as Record<string, unknown>;
          } catch {
            parsed = undefined;
          }
          const status = res.statusCode ?? 0;
          if (status === 200 && parsed) return resolve(parsed);
          const type = typeof parsed?.__type === 'string' ? parsed.__type : '';
          const message = typeof parsed?.message === 'string' ? parsed.message : text.slice(0, 160);
          reject(new HttpError(`${label} ${status}${type ? ` ${type}` : ''}`, `${label} ${status} ${type}: ${message}`));
        });
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new HttpError(`${label} timeout`, `${label}: socket idle for ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => reject(e instanceof HttpError ? e : new HttpError(`${label} ${e.code ?? 'network error'}`, `${label}: ${e.message}`)));
    req.end(body);
  });
}
