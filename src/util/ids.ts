import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

// Request ids need to be unique, not secret: a random per-process prefix and a counter cost
// nothing per request, where fresh random bytes showed up in small-request profiles.
const PROCESS_PREFIX = (() => {
  const b = randomBytes(6);
  let s = '';
  for (let i = 0; i < 6; i++) s += ALPHABET[b[i]! % 36];
  return s;
})();
const HOST_SEED = randomBytes(36).toString('base64');
let requestCounter = 0;

/** S3-style request id: 16 upper-case alphanumerics, unique per process run. */
export function newRequestId(): string {
  requestCounter = (requestCounter + 1) % 36 ** 10;
  return PROCESS_PREFIX + requestCounter.toString(36).toUpperCase().padStart(10, '0');
}

/** The x-amz-id-2 companion: opaque base64 (seed of this process + the request counter). */
export function newHostId(): string {
  return HOST_SEED + Buffer.from(requestCounter.toString(16).padStart(12, '0'), 'hex').toString('base64');
}

/** Opaque, URL-safe id used for version ids, upload ids and blob names. */
export function newOpaqueId(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

/** A 12-digit AWS account id. */
export function newAccountId(): string {
  const b = randomBytes(8);
  const n = b.readBigUInt64BE() % 1_000_000_000_000n;
  return n.toString().padStart(12, '0');
}

/** 20-char access key id starting with AKIA (long-term keys), as AWS formats them. */
export function newAccessKeyId(prefix = 'AKIA'): string {
  const b = randomBytes(16);
  let s = prefix;
  for (let i = 0; s.length < 20; i++) s += ALPHABET[b[i]! % 36];
  return s;
}

/** 40-char secret access key. */
export function newSecretAccessKey(): string {
  return randomBytes(30).toString('base64').replace(/\+/g, 'A').replace(/\//g, 'B');
}

/** 64-hex canonical user id. */
export function newCanonicalUserId(): string {
  return randomBytes(32).toString('hex');
}
