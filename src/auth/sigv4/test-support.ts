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
