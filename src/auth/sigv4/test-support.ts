/**
 * Helpers shared by the SigV4/SigV2 tests. Deliberately independent of the code under test:
 * query strings are built with the platform's encodeURIComponent, hashing with node:crypto.
 */
import { createHash, createHmac } from 'node:crypto';
import assert from 'node:assert/strict';
import { S3Error, type S3ErrorCode } from '../../errors/s3-errors.js';

/** RFC 3986 encoding (what AWS SDKs put on the wire): encodeURIComponent plus !'()*. */
export function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** An object key encoded for the path the way the S3 SDKs do it ('/' kept). */
export function encodeKeyPath(key: string): string {
  return key.split('/').map(rfc3986).join('/');
}

/** A raw query string from name/value pairs, RFC 3986 encoded. */
export function buildQuery(pairs: Record<string, string | string[]> | [string, string][]): string {
  const list: [string, string][] = Array.isArray(pairs)
    ? pairs
    : Object.entries(pairs).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x): [string, string] => [k, x]) : [[k, v] as [string, string]]));
  return list.map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`).join('&');
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A Checksum/Hash implementation over node:crypto for @smithy/signature-v4. */
export class NodeSha256 {
  private readonly h: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    if (secret === undefined) {
      this.h = createHash('sha256');
    } else {
      const key = typeof secret === 'string' ? Buffer.from(secret) : ArrayBuffer.isView(secret) ? Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength) : Buffer.from(secret);
      this.h = createHmac('sha256', key);
    }
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    if (typeof data === 'string') this.h.update(data, 'utf8');
    else if (ArrayBuffer.isView(data)) this.h.update(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    else this.h.update(Buffer.from(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
  reset(): void {
    // The signer creates a fresh instance per hash; reset is never needed.
  }
}

/** Asserts that `fn` throws an S3Error with this code (and message/details when given); returns it. */
export function expectS3Error(fn: () => unknown, code: S3ErrorCode, message?: string | RegExp, details?: Record<string, unknown>): S3Error {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof S3Error, `expected S3Error ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, `message: ${caught.message}`);
  if (typeof message === 'string') assert.equal(caught.message, message);
  else if (message instanceof RegExp) assert.match(caught.message, message);
  if (details !== undefined) for (const [k, v] of Object.entries(details)) assert.deepEqual(caught.details[k], v, `detail ${k}`);
  return caught;
}

/** A request to sign in tests: decoded query values, the path as it goes on the wire. */
export interface TestRequest {
  method: string;
  /** Wire path (already encoded, e.g. with encodeKeyPath). */
  path: string;
  query?: Record<string, string | string[]>;
  headers: Record<string, string>;
  body?: string;
}

export interface SignOptions {
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  region?: string;
  service?: string;
  signingDate: Date;
}

/** The wire view of a signed request, as authenticateV4 receives it. */
export interface WireRequest {
  method: string;
  rawPath: string;
  rawQuery: string;
  headers: Record<string, string>;
}

export const TEST_AKID = 'AKIAIOSFODNN7EXAMPLE';
export const TEST_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

function toWire(signed: { method: string; path: string; query?: Record<string, unknown>; headers: Record<string, string> }): WireRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) headers[k.toLowerCase()] = v;
  const q: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(signed.query ?? {})) if (v !== null && v !== undefined) q[k] = v as string | string[];
  return { method: signed.method, rawPath: signed.path, rawQuery: buildQuery(q), headers };
}

async function signer(o: SignOptions) {
  const { SignatureV4 } = await import('@smithy/signature-v4');
  return new SignatureV4({
    credentials: { accessKeyId: o.accessKeyId ?? TEST_AKID, secretAccessKey: o.secretAccessKey ?? TEST_SECRET, sessionToken: o.sessionToken },
    region: o.region ?? 'us-east-1',
    service: o.service ?? 's3',
    sha256: NodeSha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
}

function smithyRequest(r: TestRequest) {
  return {
    method: r.method,
    protocol: 'https:',
    hostname: r.headers['host'] ?? 'bucket.s3.amazonaws.com',
    path: r.path,
    query: { ...(r.query ?? {}) },
    headers: { ...r.headers },
    body: r.body,
  };
}

/** Signs with @smithy/signature-v4 (the AWS SDK's signer) in the Authorization header. */
export async function smithySign(r: TestRequest, o: SignOptions): Promise<WireRequest> {
  const signed = await (await signer(o)).sign(smithyRequest(r), { signingDate: o.signingDate });
  return toWire({ method: signed.method, path: signed.path, query: signed.query, headers: signed.headers });
}

/** Presigns with @smithy/signature-v4; headers left on the request are returned as headers. */
export async function smithyPresign(r: TestRequest, o: SignOptions & { expiresIn: number }): Promise<WireRequest> {
  const signed = await (await signer(o)).presign(smithyRequest(r), { signingDate: o.signingDate, expiresIn: o.expiresIn });
  return toWire({ method: signed.method, path: signed.path, query: signed.query, headers: signed.headers });
}
