/**
 * Grants: what a grant allows (operation, grantee, encryption context constraints), and
 * the grant id and grant token formats. Pure functions over the key document; the
 * operations that create, list, retire and revoke grants are in ops-grants.ts, and
 * Call.authorize (core.ts) consults `grantAllowing` when the policies leave an implicit deny.
 */
import { randomBytes } from 'node:crypto';
import { callerArn, principalArn, type SignedPrincipal } from '../auth/principal.js';
import { PARTITION, UUID, type GrantConstraints, type KmsGrant, type KmsKeyDoc } from './model.js';

/** Every grant operation AWS's model knows (CreateGrant Operations enum). */
export const GRANT_OPERATIONS = [
  'Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo', 'Sign', 'Verify',
  'GetPublicKey', 'CreateGrant', 'RetireGrant', 'DescribeKey', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext',
  'GenerateMac', 'VerifyMac', 'DeriveSharedSecret',
] as const;

/** The grant operations a key of this KMS (symmetric encryption only) can have. */
export const SUPPORTED_GRANT_OPERATIONS: readonly string[] = [
  'Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo',
  'CreateGrant', 'RetireGrant', 'DescribeKey',
];

/**
 * Operations that take an encryption context: the only ones grant constraints apply to.
 * For the others (DescribeKey, CreateGrant, RetireGrant) AWS ignores the constraints.
 */
export const CONTEXT_OPERATIONS: ReadonlySet<string> = new Set([
  'Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo',
]);

/** A grant id: 64 lower-case hex digits. */
export const GRANT_ID = /^[0-9a-f]{64}$/;

/** GranteePrincipal / RetiringPrincipal: an IAM principal ARN of this partition. */
export const PRINCIPAL_ARN = /^arn:aws:(?:iam::\d{12}:(?:root|user\/.+|role\/.+)|sts::\d{12}:assumed-role\/[^/]+\/.+)$/;

export const newGrantId = (): string => randomBytes(32).toString('hex');

/** The ARNs a principal answers to as a grantee or retiring principal: its own ARN and, for a role session, the session's ARN too. */
export function principalArns(caller: SignedPrincipal): string[] {
  const out = [principalArn(caller, PARTITION)!];
  const session = callerArn(caller, PARTITION)!;
  if (session !== out[0]) out.push(session);
  return out;
}

export function isPrincipal(caller: SignedPrincipal, arn: string | undefined): boolean {
  return arn !== undefined && principalArns(caller).includes(arn);
}

/** Whether the request's encryption context satisfies the grant's constraints (case-sensitive, as AWS). */
export function constraintsHold(c: GrantConstraints | undefined, ctx: Readonly<Record<string, string>> | undefined): boolean {
  if (!c) return true;
  const req = ctx ?? {};
  if (c.EncryptionContextSubset) {
    for (const [k, v] of Object.entries(c.EncryptionContextSubset)) {
      if (!Object.hasOwn(req, k) || req[k] !== v) return false;
    }
  }
  if (c.EncryptionContextEquals) {
    const want = c.EncryptionContextEquals;
    const keys = Object.keys(req);
    if (keys.length !== Object.keys(want).length) return false;
    for (const k of keys) if (!Object.hasOwn(want, k) || want[k] !== req[k]) return false;
  }
  return true;
}

/**
 * The grant of `key` that lets `caller` perform `action` (e.g. 'kms:Decrypt') with this
 * encryption context, if any.
 */
export function grantAllowing(
  key: KmsKeyDoc, caller: SignedPrincipal, action: string, ctx: Readonly<Record<string, string>> | undefined,
): KmsGrant | undefined {
  if (!key.grants?.length || !action.startsWith('kms:')) return undefined;
  const op = action.slice(4);
  const arns = principalArns(caller);
  return key.grants.find((g) => g.operations.includes(op) && arns.includes(g.granteePrincipal)
    && (!CONTEXT_OPERATIONS.has(op) || constraintsHold(g.constraints, ctx)));
}

// ---- grant tokens -------------------------------------------------------------------------

/**
 * A grant token: base64url of 0x01 || account (12 ASCII digits) || key id (16 bytes) ||
 * grant id (32 bytes) || 32 random bytes. The key's document keeps the whole token, so a
 * token is valid only as issued.
 */
const TOKEN_VERSION = 1;
const TOKEN_BYTES = 1 + 12 + 16 + 32 + 32;

export function newGrantToken(accountId: string, keyId: string, grantId: string): string {
  return Buffer.concat([
    Buffer.from([TOKEN_VERSION]), Buffer.from(accountId, 'ascii'), Buffer.from(keyId.replace(/-/g, ''), 'hex'),
    Buffer.from(grantId, 'hex'), randomBytes(32),
  ]).toString('base64url');
}

/** The key and grant a token names, or undefined when it is not a token of this KMS. */
export function parseGrantToken(token: string): { accountId: string; keyId: string; grantId: string } | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  const b = Buffer.from(token, 'base64url');
  if (b.length !== TOKEN_BYTES || b[0] !== TOKEN_VERSION || b.toString('base64url') !== token) return undefined;
  const accountId = b.subarray(1, 13).toString('ascii');
  if (!/^\d{12}$/.test(accountId)) return undefined;
  const h = b.subarray(13, 29).toString('hex');
  const keyId = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  if (!UUID.test(keyId)) return undefined;
  return { accountId, keyId, grantId: b.subarray(29, 61).toString('hex') };
}
