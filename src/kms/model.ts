/**
 * KMS keys and aliases as stored (one JSON document each, `MetadataStore.*IamEntity` with
 * kinds 'kms-key' and 'kms-alias'), their ARNs, and the AWS response shapes built from them.
 * Only symmetric encryption keys (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT, origin AWS_KMS) exist.
 */
import type { WrappedKey } from '../crypto/keyring.js';

export const PARTITION = 'aws';

export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';
export type KeyManager = 'CUSTOMER' | 'AWS';

/** Automatic rotation period bounds and default (EnableKeyRotation RotationPeriodInDays). */
export const ROTATION_DAYS = { min: 90, max: 2560, default: 365 } as const;
/** ScheduleKeyDeletion PendingWindowInDays. */
export const PENDING_WINDOW_DAYS = { min: 7, max: 30, default: 30 } as const;
/** RotateKeyOnDemand may run this many times per key (AWS's quota). */
export const MAX_ON_DEMAND_ROTATIONS = 10;
/** Tags per key, and aliases per key (AWS quotas). */
export const MAX_TAGS = 50;
export const MAX_ALIASES_PER_KEY = 50;
/** Grants per key (AWS's quota "grants for a KMS key"). */
export const MAX_GRANTS_PER_KEY = 50_000;

export interface KmsTag {
  TagKey: string;
  TagValue: string;
}

/** One version of a key's 256-bit material; versions are never removed while the key exists. */
export interface KeyMaterialVersion {
  /** 1 for the material the key was created with, then +1 per rotation. */
  version: number;
  createdAt: string; // ISO 8601
  /** Wrapped under the service master key, bound to (account, key id, version). */
  wrapped: WrappedKey;
  /** How the version came to be; absent for version 1. */
  rotationType?: 'AUTOMATIC' | 'ON_DEMAND';
}

export interface KeyRotation {
  enabled: boolean;
  periodDays: number;
  /** When automatic rotation is next due (set while enabled). */
  nextRotationDate?: string;
  /** Enablement or the last automatic rotation: the next one is due periodDays after it. */
  since?: string;
}

/** The encryption context constraints of a grant (CreateGrant Constraints). */
export interface GrantConstraints {
  /** Every pair must be in the request's encryption context (which may hold more). */
  EncryptionContextSubset?: Record<string, string>;
  /** The request's encryption context must be exactly this. */
  EncryptionContextEquals?: Record<string, string>;
}

/** One grant on a key (see grants.ts). */
export interface KmsGrant {
  /** 64 lower-case hex digits. */
  grantId: string;
  /** The opaque token CreateGrant returned; RetireGrant may name the grant by it. */
  grantToken: string;
  name?: string;
  granteePrincipal: string;
  retiringPrincipal?: string;
  /** Grant operation names (Decrypt, Encrypt, …), as given. */
  operations: string[];
  constraints?: GrantConstraints;
  /** The account that created the grant ("arn:aws:iam::<account>:root"). */
  issuingAccount: string;
  creationDate: string;
}

export interface KmsKeyDoc {
  kind: 'kms-key';
  /** UUID v4, lower case. */
  keyId: string;
  arn: string;
  accountId: string;
  description: string;
  keySpec: 'SYMMETRIC_DEFAULT';
  keyUsage: 'ENCRYPT_DECRYPT';
  origin: 'AWS_KMS';
  keyManager: KeyManager;
  keyState: KeyState;
  /** Set while PendingDeletion; the key is gone once it has passed. */
  deletionDate?: string;
  creationDate: string;
  /** The key policy, JSON text as given (GetKeyPolicy returns it verbatim). */
  policy: string;
  rotation: KeyRotation;
  material: KeyMaterialVersion[];
  /** The version new ciphertext is made with (always the newest). */
  currentVersion: number;
  tags: KmsTag[];
  /** Grants on the key; absent in documents written before grants existed. */
  grants?: KmsGrant[];
}

export interface KmsAliasDoc {
  kind: 'kms-alias';
  /** `alias/…`, case preserved: alias names are case-sensitive. */
  aliasName: string;
  aliasArn: string;
  targetKeyId: string;
  creationDate: string;
  lastUpdatedDate: string;
}

export const keyArn = (region: string, accountId: string, keyId: string): string => `arn:${PARTITION}:kms:${region}:${accountId}:key/${keyId}`;
export const aliasArn = (region: string, accountId: string, aliasName: string): string => `arn:${PARTITION}:kms:${region}:${accountId}:${aliasName}`;

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** AWS's predefined aliases for AWS managed keys begin with this; customers may not use it. */
export const AWS_ALIAS_PREFIX = 'alias/aws/';
export const S3_MANAGED_ALIAS = 'alias/aws/s3';

/** JSON timestamps in the KMS protocol are epoch seconds (fractional). */
export const epochSeconds = (iso: string): number => Date.parse(iso) / 1000;

/** The KeyMetadata structure of CreateKey and DescribeKey. */
export function keyMetadata(k: KmsKeyDoc): Record<string, unknown> {
  return {
    AWSAccountId: k.accountId,
    KeyId: k.keyId,
    Arn: k.arn,
    CreationDate: epochSeconds(k.creationDate),
    Enabled: k.keyState === 'Enabled',
    Description: k.description,
    KeyUsage: k.keyUsage,
    KeyState: k.keyState,
    ...(k.deletionDate !== undefined ? { DeletionDate: epochSeconds(k.deletionDate) } : {}),
    Origin: k.origin,
    KeyManager: k.keyManager,
    CustomerMasterKeySpec: k.keySpec,
    KeySpec: k.keySpec,
    EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    MultiRegion: false,
  };
}

export function aliasEntry(a: KmsAliasDoc): Record<string, unknown> {
  return {
    AliasName: a.aliasName,
    AliasArn: a.aliasArn,
    TargetKeyId: a.targetKeyId,
    CreationDate: epochSeconds(a.creationDate),
    LastUpdatedDate: epochSeconds(a.lastUpdatedDate),
  };
}
