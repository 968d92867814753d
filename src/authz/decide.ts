/**
 * The authorization decision, pure: principal × checks × (identity policies, permissions
 * boundary, session policies, SCPs, bucket owners, bucket policies, ACLs, request context)
 * → Decision with a trace. The order follows AWS's evaluation logic (IAM UG "Policy
 * evaluation logic" and "Cross-account policy evaluation logic", S3 UG "How Amazon S3
 * authorizes a request", semantics.md a.1–a.3):
 *   1. an explicit Deny in any applicable policy denies — except that the bucket owner's
 *      root can always Get/Put/DeleteBucketPolicy despite the bucket policy (lock-out
 *      protection);
 *   2. an organization's SCPs must allow at every level (root, each OU, the account), for
 *      every principal of a member account, root included;
 *   3. each check has a context authority: the bucket owner, or for an object written by
 *      another account (ACLs enabled) that object's owner; the authority's root user is
 *      allowed everything;
 *   4. a caller's identity side allows when its identity policies do, within its
 *      permissions boundary and its session policies (an account root holds every
 *      permission of its account);
 *   5. the same account: the identity side, or a bucket-policy grant to the caller itself
 *      or to everyone; another account: the identity side and a bucket-policy grant naming
 *      the caller's account, the caller, or everyone; anonymous: a grant to everyone. An
 *      object owner other than the bucket owner cannot grant through the bucket's policy;
 *   6. Block Public Access's RestrictPublicBuckets voids a public policy's grants outside the
 *      owner's account;
 *   7. after that implicit deny, an ACL grant to the caller's account (with its identity
 *      side) or to everyone allows, and the decision records that an ACL was required.
 */
import type { Principal } from '../auth/principal.js';
import type { CompiledPolicy } from '../iam/policy/compile.js';
import { evaluatePolicy, objectTagReads, type EvaluateOptions } from '../iam/policy/evaluate.js';
import type { ContextValue, EvalRequest, StatementMatch } from '../iam/policy/request.js';
import { aclAllows, type Acl, type AclRequester, type AclTarget } from './acl/acl.js';
import type { Check } from './actions.js';
import type { Decision, TraceEntry } from './decision.js';
import { principalFacts } from './request-context.js';

/** The ACL that may grant a check after the policies did not. */
export interface CheckAcl {
  acl: Acl;
  target: AclTarget;
}

/** A compiled policy with the name the trace gives it. */
export interface NamedPolicy {
  id: string;
  compiled: CompiledPolicy;
}

/** What constrains a caller's own (identity) side; absent for anonymous callers. */
export interface IdentitySide {
  /** Identity policies (user + its groups, or role); ignored for account roots, which hold every permission. */
  policies: readonly NamedPolicy[];
  boundary?: NamedPolicy;
  /** Session policies (inline and managed) of an STS session: a union that narrows the session. */
  sessionPolicies?: readonly NamedPolicy[];
  /** SCPs by organization level (root, OUs, account): every level must allow. */
  scpLevels?: readonly (readonly NamedPolicy[])[];
}

export interface DecideInput {
  principal: Principal;
  checks: readonly Check[];
  /** Owning account of each bucket named by a check; absent = the bucket does not exist. */
  bucketOwners: ReadonlyMap<string, string>;
  /** Compiled bucket policy of each bucket that has one. */
  bucketPolicies?: ReadonlyMap<string, CompiledPolicy>;
  /** Buckets whose public policy is cut back by RestrictPublicBuckets to the owner's account. */
  restrictedBuckets?: ReadonlySet<string>;
  /** Request context (lower-cased keys); per-check additions (object tags) come via contextFor. */
  context?: ReadonlyMap<string, ContextValue>;
  contextFor?: (check: Check) => ReadonlyMap<string, ContextValue> | undefined;
  /** Per check, when its authority is not the bucket owner: the owner of the object it names (or will create). */
  authorities?: ReadonlyMap<Check, string>;
  /** Per check, the ACL that may grant it (ACLs enabled only). */
  acls?: ReadonlyMap<Check, CheckAcl>;
  identity?: IdentitySide;
}

export interface SetResult {
  allow: string | undefined;
  denies: string[];
}

/** Evaluates a set of identity-side policies: the first Allow and every Deny, named. */
export function evaluateSet(policies: readonly NamedPolicy[], req: EvalRequest): SetResult {
  let allow: string | undefined;
  const denies: string[] = [];
  for (const p of policies) {
    for (const m of evaluatePolicy(p.compiled, req, MATCHES_ONLY).matches) {
      if (m.effect === 'Deny') denies.push(`${p.id} ${describe(m)}`);
      else allow ??= `${p.id} ${describe(m)}`;
    }
  }
  return { allow, denies };
}

/** Actions the bucket owner's root may always perform, whatever the bucket policy says. */
const LOCKOUT_EXEMPT = new Set(['s3:GetBucketPolicy', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy']);

const EMPTY: ReadonlyMap<string, ContextValue> = new Map();
/** The authorization path needs the applying statements only (not simulate's missing keys). */
const MATCHES_ONLY: EvaluateOptions = Object.freeze({ missingKeys: false });
const DENIES_ONLY: EvaluateOptions = Object.freeze({ missingKeys: false, denyOnly: true });
const NO_MATCHES: readonly StatementMatch[] = [];

/** A decision's trace for one check: one entry. */
function entry(check: string, effect: TraceEntry['effect'], layer: TraceEntry['layer'], reason: string): TraceEntry[] {
  return [{ layer, check, effect, reason }];
}

function describe(m: StatementMatch): string {
  return m.sid !== undefined ? `statement ${m.index} (Sid ${JSON.stringify(m.sid)})` : `statement ${m.index}`;
}

function aclRequester(p: Principal): AclRequester {
  return p.kind === 'anonymous' ? { kind: 'anonymous' } : { kind: 'account', canonicalId: p.canonicalId };
}

/** Whether an Allow of the bucket policy names this role session's own ARN (not its role's, not its account). */
function grantNamesSession(policy: CompiledPolicy, req: EvalRequest, principal: Principal): boolean {
  if (principal.kind !== 'assumed-role') return false;
  const facts = principalFacts(principal);
  if (facts.kind !== 'aws') return false;
  const sessionOnly = { ...facts, arns: facts.arns.slice(0, 1) };
  return evaluatePolicy(policy, { ...req, principal: sessionOnly }, MATCHES_ONLY).matches
    .some((m) => m.effect === 'Allow' && m.principalMatch === 'direct');
}

/** Whether some statement of a policy that applies to the action reads s3:ExistingObjectTag/*. */
function policyReadsObjectTags(p: CompiledPolicy, action: string): boolean {
  const r = objectTagReads(p, action);
  return r.deny || r.allow;
}

/** Whether any policy of a caller's own side (identity policies, boundary, session policies, SCPs) reads s3:ExistingObjectTag/* for the action. */
export function identityReadsObjectTags(side: IdentitySide | undefined, action: string): boolean {
  if (side === undefined) return false;
  if (side.boundary !== undefined && policyReadsObjectTags(side.boundary.compiled, action)) return true;
  if (anyReadsObjectTags(side.policies, action) || anyReadsObjectTags(side.sessionPolicies, action)) return true;
  if (side.scpLevels !== undefined) for (const level of side.scpLevels) if (anyReadsObjectTags(level, action)) return true;
  return false;
}

function anyReadsObjectTags(policies: readonly NamedPolicy[] | undefined, action: string): boolean {
  if (policies !== undefined) for (const n of policies) if (policyReadsObjectTags(n.compiled, action)) return true;
  return false;
}

/**
 * Decides one check. Pure. With `unloaded` (checks whose stored object's tags are not in
 * their context), returns undefined when a policy that would be evaluated reads them.
 */
export function decideCheck(principal: Principal, check: Check, input: Omit<DecideInput, 'principal' | 'checks'>, unloaded?: readonly Check[]): TraceEntry[] | undefined {
  const tagsUnloaded = unloaded !== undefined && unloaded.includes(check);
  const what = `${check.action} on ${check.resource}`;
  const owner = check.bucket === undefined ? undefined : input.bucketOwners.get(check.bucket);
  const policy = check.bucket === undefined ? undefined : input.bucketPolicies?.get(check.bucket);
  // Built only when a policy is evaluated: a request no policy reads (the owner's root on a
  // bucket without a policy) skips the principal's ARN and the context.
  let evalRequest: EvalRequest | undefined;
  const req = (): EvalRequest =>
    (evalRequest ??= { action: check.action, resource: check.resource, principal: principalFacts(principal), context: input.contextFor?.(check) ?? input.context ?? EMPTY });
  const isOwnerRoot = principal.kind === 'account-root' && owner !== undefined && principal.accountId === owner;

  // 1. Explicit denies, wherever they are.
  const id = principal.kind === 'anonymous' ? undefined : input.identity;
  if (tagsUnloaded && identityReadsObjectTags(id, check.action)) return undefined;
  const scps = id?.scpLevels?.map((level) => evaluateSet(level, req()));
  const scpDenies = scps?.flatMap((r) => r.denies) ?? [];
  if (scpDenies.length > 0) return entry(what, 'ExplicitDeny', 'scp', `explicit deny in a service control policy: ${scpDenies.join(', ')}`);
  const usesPolicies = id !== undefined && principal.kind !== 'account-root';
  const identity = usesPolicies ? evaluateSet(id.policies, req()) : undefined;
  const boundary = usesPolicies && id.boundary ? evaluateSet([id.boundary], req()) : undefined;
  const session = id?.sessionPolicies && id.sessionPolicies.length > 0 ? evaluateSet(id.sessionPolicies, req()) : undefined;
  if (identity && identity.denies.length > 0) return entry(what, 'ExplicitDeny', 'identity-policy', `explicit deny: ${identity.denies.join(', ')}`);
  if (boundary && boundary.denies.length > 0) return entry(what, 'ExplicitDeny', 'permissions-boundary', `explicit deny: ${boundary.denies.join(', ')}`);
  if (session && session.denies.length > 0) return entry(what, 'ExplicitDeny', 'session-policy', `explicit deny: ${session.denies.join(', ')}`);

  // 4. The caller's own side (needed now to know which bucket-policy statements can matter).
  let identityOk = false;
  let identityWhy = '';
  if (principal.kind === 'account-root') {
    identityOk = session === undefined || session.allow !== undefined;
    identityWhy = 'the account root holds every permission of its account';
  } else if (principal.kind !== 'anonymous') {
    if (!identity?.allow) identityWhy = `no identity-based policy allows ${check.action}`;
    else if (boundary && !boundary.allow) identityWhy = `the permissions boundary does not allow ${check.action}`;
    else if (session && !session.allow) identityWhy = `the session policies do not allow ${check.action}`;
    else {
      identityOk = true;
      identityWhy = `identity policy ${identity.allow}`;
    }
  }
  // 3. The context authority.
  const authority = owner === undefined ? undefined : input.authorities?.get(check) ?? owner;
  const sameAccount = principal.kind !== 'anonymous' && authority !== undefined && principal.accountId === authority;
  // A caller of the authority's own account whose side allows is allowed unless something
  // denies (steps 3–4 below): the bucket policy's grants cannot change that, only its denies.
  const settled = sameAccount && identityOk;
  if (tagsUnloaded && policy !== undefined) {
    const reads = objectTagReads(policy, check.action);
    if (reads.deny || (!settled && reads.allow)) return undefined;
  }
  const matches: readonly StatementMatch[] = policy ? evaluatePolicy(policy, req(), settled ? DENIES_ONLY : MATCHES_ONLY).matches : NO_MATCHES;
  // Deny-only evaluation (settled) returns nothing else.
  const denies = settled || matches.length === 0 ? matches : matches.filter((m) => m.effect === 'Deny');
  if (denies.length > 0) {
    if (isOwnerRoot && LOCKOUT_EXEMPT.has(check.action)) {
      return entry(what, 'Allow', 'resource-policy', `bucket policy ${denies.map(describe).join(', ')} denies, but the bucket owner's root may always manage the bucket policy`);
    }
    return entry(what, 'ExplicitDeny', 'resource-policy', `explicit deny in the bucket policy: ${denies.map(describe).join(', ')}`);
  }

  // 2. SCPs: every level of the organization must allow.
  const missingLevel = scps?.findIndex((r) => r.allow === undefined) ?? -1;
  if (missingLevel >= 0) return entry(what, 'ImplicitDeny', 'scp', `no service control policy at organization level ${missingLevel} allows ${check.action}`);

  if (check.bucket === undefined || check.creates === 'bucket') {
    // Account-level actions (ListAllMyBuckets, CreateBucket and the new bucket's ACL and
    // ownership): the caller's own account decides. Whether a bucket name is free is the handler's answer.
    if (principal.kind === 'anonymous') return entry(what, 'ImplicitDeny', 'ownership', 'anonymous request for an account-level action');
    return identityOk ? entry(what, 'Allow', principal.kind === 'account-root' ? 'ownership' : 'identity-policy', identityWhy) : entry(what, 'ImplicitDeny', 'identity-policy', identityWhy);
  }
  if (owner === undefined || authority === undefined) return entry(what, 'ImplicitDeny', 'ownership', 'bucket does not exist');

  if (settled) {
    return principal.kind === 'account-root'
      ? entry(what, 'Allow', 'ownership', authority === owner ? `root user of the bucket owner account ${owner}` : `root user of the object owner account ${authority}`)
      : entry(what, 'Allow', 'identity-policy', identityWhy);
  }

  // 5./6. The resource side: the bucket owner's policy (only when it is the authority).
  const trace: TraceEntry[] = [];
  let denial: string;
  if (authority !== owner) {
    denial = `the object belongs to account ${authority}, not the bucket owner ${owner}: only its ACL can grant`;
  } else {
    const allows = matches.filter((m) => m.effect === 'Allow');
    const grant = principal.kind === 'anonymous' || sameAccount
      ? allows.find((m) => m.principalMatch === 'any' || (sameAccount && m.principalMatch === 'direct'))
      : allows.find((m) => m.principalMatch === 'account' || m.principalMatch === 'direct' || m.principalMatch === 'any');
    // Sessions stay within their session policies, except for a grant that names the session's
    // own ARN: that is added after the session was made and the session policy does not limit
    // it (IAM UG "Session policies"); one naming the role is. A role session also stays within
    // its role's boundary.
    const sessionLimited = session !== undefined && session.allow === undefined
      && !(grant !== undefined && sameAccount && policy !== undefined && grantNamesSession(policy, req(), principal));
    const sessionBlocks = sessionLimited
      || (principal.kind === 'assumed-role' && boundary !== undefined && boundary.allow === undefined);
    if (grant && input.restrictedBuckets?.has(check.bucket)) {
      // RestrictPublicBuckets: a public policy grants nothing to anonymous or other accounts,
      // not even to accounts a statement names (S3 UG "Blocking public access").
      trace.push(...entry(what, 'ImplicitDeny', 'block-public-access', `RestrictPublicBuckets: the bucket policy is public, so ${allows.map(describe).join(', ')} grant only the bucket owner's account`));
      denial = 'the bucket policy\'s grants are restricted to the owner account';
    } else if (grant && sessionBlocks) {
      denial = `bucket policy ${describe(grant)} allows, but the session policies or the role's permissions boundary do not`;
    } else if (grant && (principal.kind === 'anonymous' || sameAccount)) {
      return entry(what, 'Allow', 'resource-policy', principal.kind === 'anonymous' ? `bucket policy ${describe(grant)} allows everyone` : `bucket policy ${describe(grant)} allows the caller (${grant.principalMatch})`);
    } else if (grant && identityOk) {
      return entry(what, 'Allow', 'resource-policy', `cross-account: bucket policy ${describe(grant)} allows the caller (${grant.principalMatch}), and ${identityWhy}`);
    } else if (grant) {
      denial = `cross-account: bucket policy ${describe(grant)} allows, but ${identityWhy}`;
    } else {
      denial = principal.kind === 'anonymous'
        ? 'anonymous request and no bucket policy statement allows everyone'
        : sameAccount ? identityWhy : `cross-account request: no bucket policy statement of owner ${owner} allows ${check.action}`;
    }
  }

  // 7. ACLs, after the policies' implicit deny.
  const acl = input.acls?.get(check);
  if (acl && (principal.kind === 'anonymous' || identityOk) && aclAllows(acl.acl, aclRequester(principal), check.action, acl.target)) {
    return entry(what, 'Allow', 'acl', `the ${acl.target} ACL grants ${check.action} (${denial})`);
  }
  if (trace.length === 0) trace.push(...entry(what, 'ImplicitDeny', acl ? 'acl' : 'resource-policy', acl ? `${denial}; the ${acl.target} ACL does not grant it either` : denial));
  return trace;
}

/** All checks must allow; an explicit deny anywhere wins over an implicit one. */
export function decide(input: DecideInput): Decision {
  return decideChecks(input, undefined)!;
}

/**
 * decide() before the stored objects' tags (s3:ExistingObjectTag/*) of the checks in
 * `unloaded` were read: the decision, or undefined when a policy that must be evaluated
 * reads those tags (load them and call decide). A bucket policy's Allow statements cannot
 * change the decision for a caller of the resource owner's account whose own side allows,
 * so such a caller need not wait for the object's tags unless a Deny reads them.
 */
export function decideUnlessObjectTagsNeeded(input: DecideInput, unloaded: readonly Check[]): Decision | undefined {
  return decideChecks(input, unloaded);
}

function decideChecks(input: DecideInput, unloaded: readonly Check[] | undefined): Decision | undefined {
  let trace: TraceEntry[] | undefined;
  let explicit = false;
  let allowed = true;
  let acl = false;
  for (const c of input.checks) {
    const t = decideCheck(input.principal, c, input, unloaded);
    if (t === undefined) return undefined;
    if (trace === undefined) trace = t;
    else for (const e of t) trace.push(e);
    for (const e of t) {
      if (e.effect === 'ExplicitDeny') explicit = true;
      else if (e.effect !== 'Allow') allowed = false;
      if (e.layer === 'acl') acl = true;
    }
  }
  const effect = explicit ? 'ExplicitDeny' : allowed ? 'Allow' : 'ImplicitDeny';
  return { effect, trace: trace ?? [], aclRequired: effect === 'Allow' && acl };
}

/**
 * The caller's own side without its identity-policy grant: no explicit deny in the identity
 * side, every SCP level allows, and the permissions boundary and session policies allow.
 * Where another policy may stand in for the identity grant (a role trust policy naming the
 * caller), these gates still hold, as on AWS.
 */
export function identityGatesAllow(principal: Principal, side: IdentitySide, req: EvalRequest): { ok: boolean; reason: string } {
  const scps = side.scpLevels?.map((l) => evaluateSet(l, req));
  if (scps?.some((r) => r.denies.length > 0 || r.allow === undefined)) return { ok: false, reason: 'a service control policy does not allow it' };
  if (principal.kind !== 'account-root') {
    if (evaluateSet(side.policies, req).denies.length > 0) return { ok: false, reason: 'an identity-based policy denies it' };
    if (side.boundary) {
      const b = evaluateSet([side.boundary], req);
      if (b.denies.length > 0 || b.allow === undefined) return { ok: false, reason: 'the permissions boundary does not allow it' };
    }
  }
  if (side.sessionPolicies && side.sessionPolicies.length > 0) {
    const s = evaluateSet(side.sessionPolicies, req);
    if (s.denies.length > 0 || s.allow === undefined) return { ok: false, reason: 'the session policies do not allow it' };
  }
  return { ok: true, reason: '' };
}
