/**
 * Organizations, as far as authorization needs them: which accounts belong to which OU,
 * and the service control policies (SCPs) attached to the root, OUs and accounts. The
 * operator manages them with `kura org …` (AWS's Organizations API is out of scope); the
 * server reads the one organization document (IAM entity kind 'org' under the empty
 * account id). SCPs never restrict the management account (AWS UG "SCP effects").
 */
import { randomBytes } from 'node:crypto';
import type { MetadataStore } from '../../storage/ports.js';

export interface OrgPolicy {
  id: string; // p-xxxxxxxx
  name: string;
  document: string;
}

export interface Organization {
  id: string; // o-xxxxxxxxxx
  rootId: string; // r-xxxx
  managementAccountId: string;
  ous: { id: string; name: string; parentId: string }[];
  /** Member accounts (the management account included) → the root or OU they sit in. */
  accounts: Record<string, string>;
  policies: OrgPolicy[];
  /** Target (root, OU or account id) → attached SCP ids. */
  attachments: Record<string, string[]>;
}

export const FULL_AWS_ACCESS: OrgPolicy = {
  id: 'p-FullAWSAccess',
  name: 'FullAWSAccess',
  document: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }),
};

const ORG_ACCOUNT = '';
const ORG_NAME = 'org';

const rand = (n: number): string => {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join('');
};

export async function loadOrganization(meta: MetadataStore): Promise<Organization | undefined> {
  const doc = await meta.getIamEntity(ORG_ACCOUNT, 'org', ORG_NAME);
  return doc === undefined ? undefined : (JSON.parse(doc) as Organization);
}

export async function saveOrganization(meta: MetadataStore, org: Organization, mode: 'create' | 'replace'): Promise<void> {
  await meta.putIamEntity(ORG_ACCOUNT, 'org', ORG_NAME, JSON.stringify(org), mode);
}

/** A new organization whose root and management account carry FullAWSAccess, as AWS creates them. */
export function newOrganization(managementAccountId: string): Organization {
  const rootId = `r-${rand(4)}`;
  return {
    id: `o-${rand(10)}`,
    rootId,
    managementAccountId,
    ous: [],
    accounts: { [managementAccountId]: rootId },
    policies: [FULL_AWS_ACCESS],
    attachments: { [rootId]: [FULL_AWS_ACCESS.id], [managementAccountId]: [FULL_AWS_ACCESS.id] },
  };
}

export function newOuId(org: Organization): string {
  return `ou-${org.rootId.slice(2)}-${rand(8)}`;
}

export function newPolicyId(): string {
  return `p-${rand(8)}`;
}

/** The chain of targets from the root down to the account: [root, ou…, account]. */
export function pathOf(org: Organization, accountId: string): string[] | undefined {
  const parent = org.accounts[accountId];
  if (parent === undefined) return undefined;
  const chain: string[] = [];
  let at: string | undefined = parent;
  while (at !== undefined && at !== org.rootId) {
    chain.unshift(at);
    const cur: string = at;
    at = org.ous.find((o) => o.id === cur)?.parentId;
  }
  return [org.rootId, ...chain, accountId];
}

/** aws:PrincipalOrgPaths entry: o-id/r-id/ou-…/ (AWS lists the path down to the account's parent). */
export function orgPath(org: Organization, accountId: string): string | undefined {
  const path = pathOf(org, accountId);
  return path ? `${org.id}/${path.slice(0, -1).join('/')}/` : undefined;
}

/** The SCP documents per level that bind an account; undefined when none do (not a member, or the management account). */
export function scpLevelsFor(org: Organization, accountId: string): { id: string; document: string }[][] | undefined {
  if (accountId === org.managementAccountId) return undefined;
  const path = pathOf(org, accountId);
  if (!path) return undefined;
  return path.map((target) => (org.attachments[target] ?? []).flatMap((pid) => {
    const p = org.policies.find((x) => x.id === pid);
    return p ? [{ id: `SCP ${p.name} (${p.id}) on ${target}`, document: p.document }] : [];
  }));
}
