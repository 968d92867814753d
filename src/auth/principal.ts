/**
 * Who made a request, as established by authentication. Long-term keys belong to an
 * account's root user or to an IAM user; temporary credentials (STS) carry a `session`:
 * GetSessionToken keeps the caller's identity (root or user) and adds session facts,
 * AssumeRole yields an assumed-role session. Identity policies are looked up by the
 * authorizer from the user or role name; everything a session fixed at issue time (its
 * policies, tags, MFA) travels in `session`.
 */
export interface SessionFacts {
  /** ISO 8601. */
  issuedAt: string;
  expiresAt: string;
  /** When MFA was presented (GetSessionToken/AssumeRole with SerialNumber + TokenCode). */
  mfaAuthenticatedAt?: string;
  /** Inline session policy (JSON) and managed session policy ARNs: they narrow the session. */
  policy?: string;
  policyArns?: string[];
  /** Session tags (AssumeRole Tags), key case preserved. */
  tags?: Record<string, string>;
  transitiveTagKeys?: string[];
  sourceIdentity?: string;
}

interface Signed {
  accountId: string;
  /** The account's canonical user (ACL grants name accounts). */
  canonicalId: string;
  accessKeyId: string;
  session?: SessionFacts;
}

export type Principal =
  | { kind: 'anonymous' }
  | ({ kind: 'account-root' } & Signed)
  | ({ kind: 'iam-user'; userName: string; userId: string; path: string } & Signed)
  | ({ kind: 'assumed-role'; roleName: string; roleId: string; path: string; sessionName: string; session: SessionFacts } & Signed);

export type SignedPrincipal = Exclude<Principal, { kind: 'anonymous' }>;

export const ANONYMOUS: Principal = { kind: 'anonymous' };

/** The ARN a principal is known by (aws:PrincipalArn), or undefined for anonymous. */
export function principalArn(p: Principal, partition = 'aws'): string | undefined {
  switch (p.kind) {
    case 'anonymous':
      return undefined;
    case 'account-root':
      return `arn:${partition}:iam::${p.accountId}:root`;
    case 'iam-user':
      return `arn:${partition}:iam::${p.accountId}:user${p.path}${p.userName}`;
    case 'assumed-role':
      // aws:PrincipalArn of a role session is the role's ARN (IAM UG, global condition keys).
      return `arn:${partition}:iam::${p.accountId}:role${p.path}${p.roleName}`;
  }
}

/** The ARN GetCallerIdentity reports and Principal elements may name most specifically. */
export function callerArn(p: Principal, partition = 'aws'): string | undefined {
  if (p.kind === 'assumed-role') return `arn:${partition}:sts::${p.accountId}:assumed-role/${p.roleName}/${p.sessionName}`;
  return principalArn(p, partition);
}

/** aws:userid: the account id for root, the user's id, or `<role id>:<session name>`. */
export function principalUserId(p: Principal): string {
  switch (p.kind) {
    case 'anonymous':
      return 'anonymous';
    case 'account-root':
      return p.accountId;
    case 'iam-user':
      return p.userId;
    case 'assumed-role':
      return `${p.roleId}:${p.sessionName}`;
  }
}

/** The account a principal belongs to, or undefined for anonymous. */
export function principalAccount(p: Principal): string | undefined {
  return p.kind === 'anonymous' ? undefined : p.accountId;
}
