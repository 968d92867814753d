/**
 * Envelope encryption: a fresh data key (DEK) per object or part, wrapped under the
 * service master key with its encryption context as AAD, so a wrapped key only opens in
 * the place it was made for. Also seals the access-key secrets kept in the database.
 * The layout is specified in ./README.md.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { IntegrityError } from '../errors.js';
import type { Keyring, WrappedKey } from '../keyring.js';
import type { LocalWrap } from '../../storage/ports.js';

/** What a key or secret is bound to, e.g. { bucket, key, versionId } or { uploadId, partNumber }. */
export type EncryptionContext = Readonly<Record<string, string>>;

/** DEK length: AES-256. */
export const DEK_BYTES = 32;

// Labels keep the three uses of a context apart: a wrapped DEK can never be opened as a
// sealed secret (or the reverse) even under an identical context, and a stream's chunk
// AAD never equals a wrap AAD.
type Use = 'data-key' | 'secret' | 'stream' | 'object-key';

// Strings JSON.stringify would print unchanged between quotes: no quote, backslash, control
// character or surrogate (a lone one is escaped; pairs take the slow path too, to keep this simple).
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be excluded
const JSON_PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;
const jsonString = (s: string): string => (JSON_PLAIN.test(s) ? `"${s}"` : JSON.stringify(s));

/** The canonical serialisation: JSON object with keys sorted by UTF-16 code unit, no whitespace. */
export function canonicalContext(ctx: EncryptionContext): string {
  const keys = Object.keys(ctx);
  // Insertion sort by UTF-16 code units (what Array.prototype.sort does by default): contexts
  // have a handful of keys, and this runs on every read of an object whose key is not cached.
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    for (; j >= 0 && keys[j]! > k; j--) keys[j + 1] = keys[j]!;
    keys[j + 1] = k;
  }
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v: unknown = ctx[k];
    if (typeof v !== 'string') throw new TypeError(`encryption context value for ${JSON.stringify(k)} must be a string`);
    out += `${i === 0 ? '' : ','}${jsonString(k)}:${jsonString(v)}`;
  }
  // Built by hand: JSON.stringify of an object would put integer-like keys ("10", "9") first.
  return `${out}}`;
}

function contextAad(use: Use, ctx: EncryptionContext): Buffer {
  return Buffer.from(`kura:${use}:v1\n${canonicalContext(ctx)}`, 'utf8');
}

/** The aadPrefix for createEncryptStream/createDecryptStream bound to ctx (self-delimiting, so chunk AADs are unambiguous). */
export function streamAadPrefix(ctx: EncryptionContext): Buffer {
  return contextAad('stream', ctx);
}

/** A fresh random DEK and its wrapping under the active master key, bound to ctx. */
export function newDataKey(keyring: Keyring, ctx: EncryptionContext): { dek: Buffer; wrapped: WrappedKey } {
  const dek = randomBytes(DEK_BYTES);
  return { dek, wrapped: keyring.wrap(dek, contextAad('data-key', ctx)) };
}

/** Unwraps a DEK; a wrong context, unknown master key or tampering → IntegrityError. */
export function openDataKey(keyring: Keyring, wrapped: WrappedKey, ctx: EncryptionContext): Buffer {
  const dek = keyring.unwrap(wrapped, contextAad('data-key', ctx));
  if (dek.length !== DEK_BYTES) throw new IntegrityError('data key has the wrong length');
  return dek;
}

/** Seals a secret (e.g. an access-key secret) for storage: a JSON string holding a WrappedKey. */
export function sealSecret(keyring: Keyring, plaintext: string, ctx: EncryptionContext): string {
  return JSON.stringify(keyring.wrap(Buffer.from(plaintext, 'utf8'), contextAad('secret', ctx)));
}

/** Opens a sealed secret; malformed, wrong context or tampered → IntegrityError. */
export function openSecret(keyring: Keyring, sealed: string, ctx: EncryptionContext): string {
  let w: WrappedKey;
  try {
    w = JSON.parse(sealed) as WrappedKey;
  } catch {
    throw new IntegrityError('sealed secret is not valid JSON');
  }
  return keyring.unwrap(w, contextAad('secret', ctx)).toString('utf8');
}

/**
 * Wraps a piece's DEK under an object key (SSE-KMS: the KMS data key; SSE-C: the customer's
 * key), AES-256-GCM with the piece's context as AAD. Without the object key the DEK — and the
 * data — cannot be opened: the service master key alone is not enough.
 */
export function wrapUnderObjectKey(objectKey: Buffer, dek: Buffer, ctx: EncryptionContext): LocalWrap {
  if (objectKey.length !== DEK_BYTES) throw new TypeError('object key must be 32 bytes');
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', objectKey, iv);
  c.setAAD(contextAad('object-key', ctx));
  const ct = Buffer.concat([c.update(dek), c.final()]);
  return { iv: iv.toString('base64'), ct: ct.toString('base64'), tag: c.getAuthTag().toString('base64') };
}

/** Opens a DEK wrapped by wrapUnderObjectKey; a wrong key, context or tampering → IntegrityError. */
export function openUnderObjectKey(objectKey: Buffer, w: LocalWrap, ctx: EncryptionContext): Buffer {
  try {
    const d = createDecipheriv('aes-256-gcm', objectKey, Buffer.from(w.iv, 'base64'));
    d.setAAD(contextAad('object-key', ctx));
    d.setAuthTag(Buffer.from(w.tag, 'base64'));
    const dek = Buffer.concat([d.update(Buffer.from(w.ct, 'base64')), d.final()]);
    if (dek.length !== DEK_BYTES) throw new Error('length');
    return dek;
  } catch {
    throw new IntegrityError('data key does not open under the object key');
  }
}

/**
 * An object key derived from an S3 Bucket Key and a per-object nonce: one KMS data-key call
 * serves many objects, while no two objects share a key.
 */
export function deriveObjectKey(bucketKey: Buffer, nonce: Buffer): Buffer {
  return createHmac('sha256', bucketKey).update('kura-bucket-key-v1\0').update(nonce).digest();
}
