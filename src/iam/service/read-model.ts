/**
 * What the authorizer and STS need from IAM, without going through the Query API: the
 * identity policies in force for a user or role, and managed policy documents by ARN.
 * Each policy carries an id for decision traces: `user/alice/inline/p1`,
 * `group/devs/inline/p2`, or the managed policy's ARN.
 */
import type { MetadataStore } from '../../storage/ports.js';
import { awsManagedPolicy } from '../managed/aws-managed.js';
import type { IamGroup, InlinePolicies, Tag } from '../model.js';
import { defaultDocument, findLocalPolicy } from './policies.js';
import { load } from './store.js';

export interface IdentityPolicy {
  id: string;
  document: string;
}

export interface IdentityPolicies {
  /** Inline and attached managed policies of the identity and (for a user) of its groups. */
  policies: IdentityPolicy[];
  boundary?: IdentityPolicy;
  /** aws:PrincipalTag/… values; keys as stored (IAM compares tag keys case-insensitively). */
  tags: Record<string, string>;
  path: string;
  /** The unique id (AIDA…/AROA…), for aws:userid. */
  id: string;
}

/** The default-version document of a managed policy of this account or a built-in AWS one. */
async function managedDocument(meta: MetadataStore, accountId: string, arn: string): Promise<string | undefined> {
  const aws = awsManagedPolicy(arn);
  if (aws) return aws.document;
  const p = await findLocalPolicy(meta, accountId, arn);
  return p && defaultDocument(p);
}

const DENY_ALL = '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}';

const tagRecord = (tags: readonly Tag[]): Record<string, string> => Object.fromEntries(tags.map((t) => [t.Key, t.Value]));

/**
 * The identity policies in force for an IAM user (its own, then each group's) or a role.
 * A managed policy attached both to a user and to one of its groups is listed once:
 * evaluation is the same, and traces stay short. undefined when the identity is gone.
 */
export async function loadIdentityPolicies(
  meta: MetadataStore, accountId: string, who: { kind: 'user'; name: string } | { kind: 'role'; name: string },
): Promise<IdentityPolicies | undefined> {
  const entity = await load(meta, accountId, who.kind, who.name);
  if (!entity) return undefined;
  const policies: IdentityPolicy[] = [];
  const seenArns = new Set<string>();
  const addInline = (owner: string, inline: InlinePolicies): void => {
    for (const [name, document] of Object.entries(inline)) policies.push({ id: `${owner}/inline/${name}`, document });
  };
  const addAttached = async (arns: readonly string[]): Promise<void> => {
    for (const arn of arns) {
      if (seenArns.has(arn)) continue;
      seenArns.add(arn);
      const document = await managedDocument(meta, accountId, arn);
      if (document !== undefined) policies.push({ id: arn, document });
    }
  };
  addInline(`${entity.kind}/${entity.name}`, entity.inlinePolicies);
  await addAttached(entity.attachedPolicies);
  if (entity.kind === 'user') {
    for (const groupName of entity.groups) {
      const g: IamGroup | undefined = await load(meta, accountId, 'group', groupName);
      if (!g) continue;
      addInline(`group/${g.name}`, g.inlinePolicies);
      await addAttached(g.attachedPolicies);
    }
  }
  let boundary: IdentityPolicy | undefined;
  if (entity.permissionsBoundary !== undefined) {
    const document = await managedDocument(meta, accountId, entity.permissionsBoundary);
    // A boundary whose policy vanished (DeleteConflict prevents it; a damaged store might
    // not) must still bound: fail closed rather than drop the boundary.
    boundary = { id: entity.permissionsBoundary, document: document ?? DENY_ALL };
  }
  return { policies, boundary, tags: tagRecord(entity.tags), path: entity.path, id: entity.id };
}

/**
 * Managed policy documents for STS session policies (PolicyArns): policies of the
 * account (the role's) and built-in AWS managed ones. ARNs that resolve to nothing are
 * returned in `missing`, for STS to reject as it sees fit.
 */
export async function resolveManagedPolicyDocuments(
  meta: MetadataStore, accountId: string, arns: readonly string[],
): Promise<{ policies: IdentityPolicy[]; missing: string[] }> {
  const policies: IdentityPolicy[] = [];
  const missing: string[] = [];
  for (const arn of arns) {
    const document = await managedDocument(meta, accountId, arn);
    if (document === undefined) missing.push(arn);
    else policies.push({ id: arn, document });
  }
  return { policies, missing };
}
