/** Who made a request, as established by authentication. */
export type Principal =
  | { kind: 'anonymous' }
  | { kind: 'account-root'; accountId: string; canonicalId: string; accessKeyId: string };

export const ANONYMOUS: Principal = { kind: 'anonymous' };

/** The ARN a principal is known by (aws:PrincipalArn), or undefined for anonymous. */
export function principalArn(p: Principal, partition = 'aws'): string | undefined {
  switch (p.kind) {
    case 'anonymous':
      return undefined;
    case 'account-root':
      return `arn:${partition}:iam::${p.accountId}:root`;
  }
}

/** The account a principal belongs to, or undefined for anonymous. */
export function principalAccount(p: Principal): string | undefined {
  return p.kind === 'anonymous' ? undefined : p.accountId;
}
