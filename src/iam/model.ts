/**
 * IAM entities as stored (one JSON document per entity, `MetadataStore.*IamEntity`).
 * Relationships live in the documents: a user lists its groups; a policy's attachments are
 * found by scanning the (small) per-account sets. Names are unique per account and kind,
 * case-insensitively, as in IAM; ids carry IAM's prefixes (AIDA user, AGPA group, AROA role,
 * ANPA policy) so `aws:userid` looks like AWS's.
 */
export interface Tag {
  Key: string;
  Value: string;
}

/** Inline policies by name (the document is the JSON text as given, URL-decoded). */
export type InlinePolicies = Record<string, string>;

interface EntityBase {
  name: string;
  /** AIDA…, AGPA…, AROA…, ANPA… (21 characters). */
  id: string;
  /** '/' or '/a/b/'. */
  path: string;
  arn: string;
  createDate: string; // ISO 8601
}

export interface IamUser extends EntityBase {
  kind: 'user';
  tags: Tag[];
  inlinePolicies: InlinePolicies;
  /** Managed policy ARNs. */
  attachedPolicies: string[];
  /** Group names (as stored in the group documents). */
  groups: string[];
  /** Permissions boundary: a managed policy ARN. */
  permissionsBoundary?: string;
}

export interface IamGroup extends EntityBase {
  kind: 'group';
  inlinePolicies: InlinePolicies;
  attachedPolicies: string[];
}

export interface IamRole extends EntityBase {
  kind: 'role';
  assumeRolePolicyDocument: string;
  description?: string;
  /** Seconds, 3600–43200. */
  maxSessionDuration: number;
  tags: Tag[];
  inlinePolicies: InlinePolicies;
  attachedPolicies: string[];
  permissionsBoundary?: string;
}

export interface PolicyVersion {
  versionId: string; // v1, v2, …
  document: string;
  createDate: string;
}

export interface IamManagedPolicy extends EntityBase {
  kind: 'policy';
  description?: string;
  updateDate: string;
  defaultVersionId: string;
  /** At most 5, as IAM allows. */
  versions: PolicyVersion[];
  /** The number the next CreatePolicyVersion takes (IAM never reuses version ids). */
  nextVersion: number;
  tags: Tag[];
}

export interface MfaDevice {
  kind: 'mfa';
  /** The virtual device's name (VirtualMFADeviceName). */
  name: string;
  path: string;
  /** arn:aws:iam::<account>:mfa/<path><name> */
  serialNumber: string;
  /** The TOTP seed, sealed under the service master key. */
  seedSealed: string;
  createDate: string;
  /** Set once enabled for a user. */
  userName?: string;
  enableDate?: string;
  tags?: Tag[];
  /** The last accepted TOTP time step: a code is accepted once (replay guard, across restarts). */
  lastCounter?: number;
}

export type IamEntity = IamUser | IamGroup | IamRole | IamManagedPolicy | MfaDevice;

/**
 * An OpenID Connect identity provider (CreateOpenIDConnectProvider). `name` is the issuer
 * URL without `https://` (host, optional port and path), as the ARN spells it.
 */
export interface OidcProvider {
  kind: 'oidc-provider';
  name: string;
  /** arn:aws:iam::<account>:oidc-provider/<name> */
  arn: string;
  clientIds: string[];
  /** Kept and returned as AWS does; Kura reads keys from a configured JWKS, not over TLS (see sts/web-identity.ts). */
  thumbprints: string[];
  createDate: string;
  tags: Tag[];
}

