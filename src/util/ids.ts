import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** S3-style request id: 16 upper-case alphanumerics. */
export function newRequestId(): string {
  const b = randomBytes(16);
  let s = '';
  for (let i = 0; i < 16; i++) s += ALPHABET[b[i]! % 36];
  return s;
}

/** The x-amz-id-2 companion: opaque base64. */
export function newHostId(): string {
  return randomBytes(48).toString('base64');
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
