/**
 * Cryptographic operations: Encrypt, Decrypt, ReEncrypt, GenerateDataKey(WithoutPlaintext)
 * and GenerateRandom, plus the two building blocks S3 calls in-process (`generateDataKey`,
 * `decryptBlob`). A key must be Enabled to seal or open anything. The encryption context
 * is bound into the ciphertext as AAD and offered to authorization as
 * kms:EncryptionContext:<key> and kms:EncryptionContextKeys.
 */
import { randomBytes } from 'node:crypto';
import type { EncryptionContext } from '../crypto/sse/envelope.js';
import type { ContextValue } from '../iam/policy/request.js';
import { openCiphertext, parseCiphertext, sealCiphertext } from './ciphertext.js';
import { KmsError, constraintError } from './errors.js';
import { ENABLED, encryptionContextKeys, requireState, type Call, type ResolveOptions } from './core.js';
import type { KmsKeyDoc } from './model.js';
import { KEY_ID_RULE, type Op } from './ops-keys.js';

const ALGORITHMS = ['SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'SM2PKE'] as const;
const PLAINTEXT_RULE = { required: true, min: 1, max: 4096 } as const;
const CIPHERTEXT_RULE = { required: true, min: 1, max: 6144 } as const;
const DATA_KEY_SPECS = ['AES_256', 'AES_128'] as const;
const MAX_RANDOM_BYTES = 1024;

/** Cryptographic operations take any form of key reference, in any account. */
const ANY_REF: ResolveOptions = { aliases: true, crossAccount: true };

const b64 = (b: Buffer): string => b.toString('base64');

function checkAlgorithm(k: KmsKeyDoc, alg: string | undefined): void {
  if (alg !== undefined && alg !== 'SYMMETRIC_DEFAULT') {
    throw new KmsError('InvalidKeyUsageException', `The encryption algorithm ${alg} is not valid for ${k.arn}, which supports SYMMETRIC_DEFAULT only.`);
  }
}

/** Members this KMS has no use for but AWS would act on: refused rather than silently ignored. */
function refuseUnsupported(call: Call, ...members: string[]): void {
  for (const m of members) if (call.input.has(m)) throw new KmsError('UnsupportedOperationException', `${m} is not supported.`);
}

/** DryRun: every check ran and passed, nothing is done (AWS's DryRunOperationException). */
function dryRun(call: Call): void {
  if (call.input.bool('DryRun') === true) throw new KmsError('DryRunOperationException', 'The request would have succeeded, but the DryRun option is set.');
}

/** The condition keys of a cryptographic request. */
function cryptoKeys(ctx: EncryptionContext | undefined, requestAlias: string | undefined): Record<string, ContextValue> {
  return {
    ...encryptionContextKeys(ctx),
    'kms:encryptionalgorithm': 'SYMMETRIC_DEFAULT',
    ...(requestAlias !== undefined ? { 'kms:requestalias': requestAlias } : {}),
  };
}

/** Seals with the key's current material, after any due automatic rotation. */
async function seal(call: Call, key: KmsKeyDoc, plaintext: Buffer, ctx: EncryptionContext | undefined): Promise<Buffer> {
  const k = await call.rotateIfDue(key);
  const material = call.env.materials.get(k, k.currentVersion);
  if (!material) throw new KmsError('KMSInternalException', 'The key has no current material.');
  return sealCiphertext(material, { accountId: k.accountId, keyId: k.keyId, version: k.currentVersion }, plaintext, ctx ?? {});
}

/**
 * Opens a blob: the key is the one the blob names (a KeyId, when given, must name the same
 * key). A blob naming no existing key is as invalid as a tampered one.
 */
export async function decryptBlob(
  call: Call, blob: Buffer, ctx: EncryptionContext | undefined, keyRef: string | undefined, action: 'kms:Decrypt' | 'kms:ReEncryptFrom',
  extra: Record<string, ContextValue> = {}, onChecked?: () => void,
): Promise<{ key: KmsKeyDoc; plaintext: Buffer }> {
  const parsed = parseCiphertext(blob);
  let key: KmsKeyDoc;
  let requestAlias: string | undefined;
  if (keyRef !== undefined) {
    ({ key, requestAlias } = await call.resolveKey(keyRef, ANY_REF));
    if (key.accountId !== parsed.accountId || key.keyId !== parsed.keyId) {
      throw new KmsError('IncorrectKeyException', 'The key ID in the request does not identify a KMS key that can perform this operation.');
    }
  } else {
    const found = await call.findKey(parsed.accountId, parsed.keyId);
    if (!found) throw new KmsError('InvalidCiphertextException', '');
    key = found;
    call.noteKey(key.arn);
  }
  await call.authorize(action, { kind: 'key', key }, { ...cryptoKeys(ctx, requestAlias), ...extra }, ctx);
  requireState(key, ENABLED);
  onChecked?.();
  const material = call.env.materials.get(key, parsed.version);
  if (!material) throw new KmsError('InvalidCiphertextException', '');
  return { key, plaintext: openCiphertext(material, parsed, ctx ?? {}) };
}

/** A data key of `bytes` random bytes and its ciphertext under the key `ref` names. */
export async function generateDataKey(
  call: Call, ref: string, ctx: EncryptionContext | undefined, bytes: number,
  action: 'kms:GenerateDataKey' | 'kms:GenerateDataKeyWithoutPlaintext', opts: ResolveOptions = ANY_REF, onChecked?: () => void,
): Promise<{ key: KmsKeyDoc; plaintext: Buffer; ciphertext: Buffer }> {
  const { key, requestAlias } = await call.resolveKey(ref, opts);
  await call.authorize(action, { kind: 'key', key }, cryptoKeys(ctx, requestAlias), ctx);
  requireState(key, ENABLED);
  onChecked?.();
  const plaintext = randomBytes(bytes);
  const ciphertext = await seal(call, key, plaintext, ctx);
  call.env.stats.dataKeyOperations++;
  return { key, plaintext, ciphertext };
}

const encrypt: Op = async (call) => {
  const { input } = call;
  const ref = input.string('KeyId', KEY_ID_RULE);
  const plaintext = input.blob('Plaintext', PLAINTEXT_RULE);
  const ctx = input.context('EncryptionContext');
  const alg = input.enumValue('EncryptionAlgorithm', ALGORITHMS);
  const { key, requestAlias } = await call.resolveKey(ref, ANY_REF);
  await call.authorize('kms:Encrypt', { kind: 'key', key }, cryptoKeys(ctx, requestAlias), ctx);
  requireState(key, ENABLED);
  checkAlgorithm(key, alg);
  dryRun(call);
  const blob = await seal(call, key, plaintext, ctx);
  return { CiphertextBlob: b64(blob), KeyId: key.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
};

const decrypt: Op = async (call) => {
  const { input } = call;
  const blob = input.blob('CiphertextBlob', CIPHERTEXT_RULE);
  const ctx = input.context('EncryptionContext');
  const ref = input.string('KeyId', { min: 1, max: 2048 });
  const alg = input.enumValue('EncryptionAlgorithm', ALGORITHMS);
  refuseUnsupported(call, 'Recipient');
  const { key, plaintext } = await decryptBlob(call, blob, ctx, ref, 'kms:Decrypt', {}, () => dryRun(call));
  checkAlgorithm(key, alg);
  call.env.stats.decryptOperations++;
  return { KeyId: key.arn, Plaintext: b64(plaintext), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
};

const reEncrypt: Op = async (call) => {
  const { input } = call;
  const blob = input.blob('CiphertextBlob', CIPHERTEXT_RULE);
  const sourceCtx = input.context('SourceEncryptionContext');
  const sourceRef = input.string('SourceKeyId', { min: 1, max: 2048 });
  const destRef = input.string('DestinationKeyId', KEY_ID_RULE);
  const destCtx = input.context('DestinationEncryptionContext');
  const sourceAlg = input.enumValue('SourceEncryptionAlgorithm', ALGORITHMS);
  const destAlg = input.enumValue('DestinationEncryptionAlgorithm', ALGORITHMS);
  const parsed = parseCiphertext(blob);
  const dest = await call.resolveKey(destRef, ANY_REF);
  const sameKey = dest.key.accountId === parsed.accountId && dest.key.keyId === parsed.keyId;
  const { key: source, plaintext } = await decryptBlob(call, blob, sourceCtx, sourceRef, 'kms:ReEncryptFrom', { 'kms:reencryptonsamekey': String(sameKey) });
  checkAlgorithm(source, sourceAlg);
  await call.authorize('kms:ReEncryptTo', { kind: 'key', key: dest.key }, {
    ...cryptoKeys(destCtx, dest.requestAlias), 'kms:reencryptonsamekey': String(sameKey),
  }, destCtx);
  requireState(dest.key, ENABLED);
  checkAlgorithm(dest.key, destAlg);
  dryRun(call);
  const out = await seal(call, dest.key, plaintext, destCtx);
  return {
    CiphertextBlob: b64(out), SourceKeyId: source.arn, KeyId: dest.key.arn,
    SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT', DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
  };
};

/** GenerateDataKey's length: exactly one of KeySpec and NumberOfBytes. */
function dataKeyBytes(call: Call): number {
  const spec = call.input.enumValue('KeySpec', DATA_KEY_SPECS);
  const n = call.input.int('NumberOfBytes', { min: 1, max: MAX_RANDOM_BYTES });
  if ((spec === undefined) === (n === undefined)) throw new KmsError('ValidationException', 'Please specify either number of bytes or key spec.');
  return n ?? (spec === 'AES_128' ? 16 : 32);
}

const generateDataKeyOp = (withPlaintext: boolean): Op => async (call) => {
  const ref = call.input.string('KeyId', KEY_ID_RULE);
  const bytes = dataKeyBytes(call);
  const ctx = call.input.context('EncryptionContext');
  refuseUnsupported(call, 'Recipient');
  const action = withPlaintext ? 'kms:GenerateDataKey' : 'kms:GenerateDataKeyWithoutPlaintext';
  const { key, plaintext, ciphertext } = await generateDataKey(call, ref, ctx, bytes, action, ANY_REF, () => dryRun(call));
  return withPlaintext
    ? { CiphertextBlob: b64(ciphertext), Plaintext: b64(plaintext), KeyId: key.arn }
    : { CiphertextBlob: b64(ciphertext), KeyId: key.arn };
};

const generateRandom: Op = async (call) => {
  const n = call.input.int('NumberOfBytes', { min: 1, max: MAX_RANDOM_BYTES });
  refuseUnsupported(call, 'CustomKeyStoreId', 'Recipient');
  if (n === undefined) throw constraintError('NumberOfBytes', null, 'Member must not be null');
  await call.authorize('kms:GenerateRandom', { kind: 'account' });
  return { Plaintext: b64(randomBytes(n)) };
};

export const CRYPTO_OPS: Record<string, Op> = {
  Encrypt: encrypt,
  Decrypt: decrypt,
  ReEncrypt: reEncrypt,
  GenerateDataKey: generateDataKeyOp(true),
  GenerateDataKeyWithoutPlaintext: generateDataKeyOp(false),
  GenerateRandom: generateRandom,
};
