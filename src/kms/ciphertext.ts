/**
 * KMS ciphertext blobs (format 0xA1; specified in ./README.md). A blob names the key and
 * material version that sealed it, so Decrypt needs no KeyId, and authenticates that name
 * together with the caller's encryption context: any change to the blob, or a different
 * context, fails as InvalidCiphertextException without revealing which part was wrong.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { canonicalContext, type EncryptionContext } from '../crypto/sse/envelope.js';
import { KmsError } from './errors.js';

/** Magic and format version in one byte: high nibble 0xA marks a Kura KMS blob, low nibble the version. */
export const FORMAT_V1 = 0xa1;

const ACCOUNT_BYTES = 12;
const KEY_ID_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const OFFSET = {
  account: 1,
  keyId: 1 + ACCOUNT_BYTES,
  version: 1 + ACCOUNT_BYTES + KEY_ID_BYTES,
  iv: 1 + ACCOUNT_BYTES + KEY_ID_BYTES + 4,
} as const;
/** Format byte, account, key id and material version: the part bound as AAD. */
const BOUND_HEADER_BYTES = OFFSET.iv;
const HEADER_BYTES = OFFSET.iv + IV_BYTES + TAG_BYTES;
/** Domain label: a blob's AAD never equals an AAD of another use of AES-GCM in Kura. */
const AAD_LABEL = Buffer.from('kura-kms-ciphertext-v1\n', 'utf8');

export const CIPHERTEXT_OVERHEAD = HEADER_BYTES;

export interface CiphertextHeader {
  /** The account owning the key (12 digits). */
  accountId: string;
  /** The key's UUID, lower case. */
  keyId: string;
  /** The material version that sealed the blob. */
  version: number;
}

export interface ParsedCiphertext extends CiphertextHeader {
  readonly blob: Buffer;
}

const invalid = (): KmsError => new KmsError('InvalidCiphertextException', '');

function uuidBytes(keyId: string): Buffer {
  const hex = keyId.replaceAll('-', '');
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new TypeError(`not a lower-case UUID: ${keyId}`);
  return Buffer.from(hex, 'hex');
}

function uuidString(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function aad(blob: Buffer, ctx: EncryptionContext): Buffer {
  return Buffer.concat([AAD_LABEL, blob.subarray(0, BOUND_HEADER_BYTES), Buffer.from(canonicalContext(ctx), 'utf8')]);
}

/** Seals `plaintext` under one version of a key's material (32 bytes), binding the header and ctx. */
export function sealCiphertext(material: Buffer, h: CiphertextHeader, plaintext: Buffer, ctx: EncryptionContext): Buffer {
  if (!/^\d{12}$/.test(h.accountId)) throw new TypeError(`not an account id: ${h.accountId}`);
  if (!Number.isInteger(h.version) || h.version < 1 || h.version > 0xffffffff) throw new TypeError(`bad material version ${h.version}`);
  const out = Buffer.alloc(HEADER_BYTES + plaintext.length);
  out[0] = FORMAT_V1;
  out.write(h.accountId, OFFSET.account, 'ascii');
  uuidBytes(h.keyId).copy(out, OFFSET.keyId);
  out.writeUInt32BE(h.version, OFFSET.version);
  // Random 96-bit IVs: NIST SP 800-38D allows 2^32 seals per material version; rotation starts a fresh version.
  const iv = randomBytes(IV_BYTES);
  iv.copy(out, OFFSET.iv);
  const c = createCipheriv('aes-256-gcm', material, iv, { authTagLength: TAG_BYTES });
  c.setAAD(aad(out, ctx));
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  c.getAuthTag().copy(out, OFFSET.iv + IV_BYTES);
  ct.copy(out, HEADER_BYTES);
  return out;
}

/** Reads a blob's header; anything that is not a well-formed format-1 blob → InvalidCiphertextException. */
export function parseCiphertext(blob: Buffer): ParsedCiphertext {
  if (blob.length < HEADER_BYTES || blob[0] !== FORMAT_V1) throw invalid();
  const accountId = blob.toString('latin1', OFFSET.account, OFFSET.account + ACCOUNT_BYTES);
  if (!/^\d{12}$/.test(accountId)) throw invalid();
  const version = blob.readUInt32BE(OFFSET.version);
  if (version < 1) throw invalid();
  return { blob, accountId, keyId: uuidString(blob.subarray(OFFSET.keyId, OFFSET.keyId + KEY_ID_BYTES)), version };
}

/** Opens a parsed blob with the material of its version; wrong material, context or any altered byte → InvalidCiphertextException. */
export function openCiphertext(material: Buffer, p: ParsedCiphertext, ctx: EncryptionContext): Buffer {
  const { blob } = p;
  try {
    const d = createDecipheriv('aes-256-gcm', material, blob.subarray(OFFSET.iv, OFFSET.iv + IV_BYTES), { authTagLength: TAG_BYTES });
    d.setAAD(aad(blob, ctx));
    d.setAuthTag(blob.subarray(OFFSET.iv + IV_BYTES, HEADER_BYTES));
    return Buffer.concat([d.update(blob.subarray(HEADER_BYTES)), d.final()]);
  } catch {
    throw invalid();
  }
}
