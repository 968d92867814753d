/**
 * Checks policy documents the way IAM does before storing them: the policy language's
 * parser and validator (identity or trust mode), a few IAM-only rules the validator does
 * not cover, and IAM's size quotas, which count characters other than whitespace.
 */
import type { MetadataStore } from '../../storage/ports.js';
import type { Finding, PolicyAst } from '../policy/ast.js';
import { POLICY_MESSAGES, parsePolicy } from '../policy/parse.js';
import { validatePolicy } from '../policy/validate.js';
import { IamError } from '../api/xml.js';
import type { InlinePolicies } from '../model.js';
import { PARTITION } from './common.js';
import { load } from './store.js';

export const SIZE_QUOTAS = { user: 2048, group: 5120, role: 10240, managed: 6144, trust: 2048 } as const;

/** IAM's policy size: characters other than whitespace. */
export function policySize(doc: string): number {
  return doc.replace(/[ \t\n\r]/g, '').length;
}

const malformed = (message: string): IamError => new IamError('MalformedPolicyDocument', message);

/**
 * IAM reports JSON it cannot read as "Syntax errors in policy."; the parser's messages for
 * that case are S3's (bucket policies), so they are translated here.
 */
function firstError(findings: readonly Finding[]): string | undefined {
  const e = findings.find((f) => f.severity === 'error');
  if (!e) return undefined;
  if (e.message === POLICY_MESSAGES.invalidJson || e.message === POLICY_MESSAGES.firstByte) return 'Syntax errors in policy.';
  return e.message;
}

function parseOrThrow(doc: string): PolicyAst {
  const parsed = parsePolicy(doc);
  if ('errors' in parsed) throw malformed(firstError(parsed.errors) ?? 'Syntax errors in policy.');
  return parsed.ast;
}

/** Rules IAM applies to every identity policy that the language validator leaves open. */
function checkIdentityElements(ast: PolicyAst): void {
  for (const st of ast.statements) {
    for (const a of st.action.values) {
      if (a.value !== '*' && !/^[^:*?]+:./.test(a.value)) throw malformed('Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.');
    }
    for (const r of st.resource?.values ?? []) {
      if (r.value !== '*' && !r.value.startsWith('arn:')) throw malformed(`Resource ${r.value} must be in ARN format or "*".`);
    }
  }
}

/** An identity policy (inline or managed): MalformedPolicyDocument with IAM's message when invalid. */
export function checkIdentityPolicy(doc: string): void {
  const ast = parseOrThrow(doc);
  const message = firstError(validatePolicy(ast, { kind: 'identity' }));
  if (message !== undefined) throw malformed(message);
  checkIdentityElements(ast);
}

export function checkManagedPolicySize(doc: string): void {
  if (policySize(doc) > SIZE_QUOTAS.managed) throw new IamError('LimitExceeded', `Cannot exceed quota for PolicySize: ${SIZE_QUOTAS.managed}`);
}

/**
 * IAM's inline quota is per entity: the sum of all its inline policies, counting the one
 * being put in place of any it replaces.
 */
export function checkInlineAggregate(kind: 'user' | 'group' | 'role', entityName: string, existing: InlinePolicies, policyName: string, doc: string): void {
  let total = policySize(doc);
  for (const [name, d] of Object.entries(existing)) if (name.toLowerCase() !== policyName.toLowerCase()) total += policySize(d);
  const quota = SIZE_QUOTAS[kind];
  if (total > quota) throw new IamError('LimitExceeded', `Maximum policy size of ${quota} bytes exceeded for ${kind} ${entityName}`);
}

/** The account an AWS principal belongs to, and the user or role it names, if any. */
function principalTarget(p: string): { account: string; entity?: { kind: 'user' | 'role'; path: string; name: string } } | undefined {
  if (/^\d{12}$/.test(p)) return { account: p };
  const m = new RegExp(`^arn:${PARTITION}:(iam|sts)::(\\d{12}):(.*)$`).exec(p);
  if (!m) return undefined;
  const [, service, account, rest] = m as unknown as [string, string, string, string];
  const e = service === 'iam' ? /^(user|role)(\/(?:.*\/)?)([^/]+)$/.exec(rest) : null;
  if (!e) return { account };
  return { account, entity: { kind: e[1] as 'user' | 'role', path: e[2]!, name: e[3]! } };
}

/**
 * A role's trust policy. AWS principals must exist: the account, and a user or role the
 * ARN names (IAM resolves them to unique ids when it stores the policy). Actions must be
 * STS's, since a trust policy governs only assuming the role.
 */
export async function checkTrustPolicy(meta: MetadataStore, doc: string): Promise<void> {
  const ast = parseOrThrow(doc);
  // The validator's existence hook is synchronous, so the principals are looked up first.
  const known = new Map<string, boolean>();
  for (const st of ast.statements) {
    const p = st.principal?.value;
    if (p?.kind !== 'set') continue;
    for (const { value } of p.aws) {
      if (known.has(value)) continue;
      known.set(value, await principalExists(meta, value));
    }
  }
  const message = firstError(validatePolicy(ast, { kind: 'trust', principalExists: (p) => known.get(p) ?? false }));
  if (message !== undefined) throw malformed(message);
  for (const st of ast.statements) {
    for (const a of st.action.values) {
      if (a.value !== '*' && !a.value.toLowerCase().startsWith('sts:')) throw malformed('AssumeRole policy may only specify STS AssumeRole actions.');
    }
  }
  if (policySize(doc) > SIZE_QUOTAS.trust) throw new IamError('LimitExceeded', `Cannot exceed quota for ACLSizePerRole: ${SIZE_QUOTAS.trust}`);
}

async function principalExists(meta: MetadataStore, principal: string): Promise<boolean> {
  const t = principalTarget(principal);
  if (!t) return false;
  if (!(await meta.getAccount(t.account))) return false;
  if (!t.entity) return true;
  const e = await load(meta, t.account, t.entity.kind, t.entity.name);
  return e !== undefined && e.arn === principal;
}
