/**
 * The authorization decision, pure: principal × checks × (bucket owners, bucket policies,
 * ACLs, request context) → Decision with a trace. Identities are account roots until the
 * IAM issue lands; the order follows AWS's evaluation logic (IAM UG "Policy evaluation
 * logic", S3 UG "How Amazon S3 authorizes a request", semantics.md a.3):
 *   1. an explicit Deny in any applicable policy denies — except that the bucket owner's
 *      root can always Get/Put/DeleteBucketPolicy (S3's lock-out protection);
 *   2. each check has a context authority: the bucket owner, or for an object written by
 *      another account (ACLs enabled) that object's owner; the authority's root user is
 *      allowed everything;
 *   3. otherwise the authority must grant: the bucket owner through a bucket-policy Allow
 *      naming the caller's account (the root holds all of its account's permissions), the
 *      caller directly, or everyone (anonymous callers: only everyone) — an object owner
 *      other than the bucket owner cannot grant through the bucket's policy;
 *   4. Block Public Access's RestrictPublicBuckets voids a public policy's grants to anyone
 *      outside the owner's account;
 *   5. after that implicit deny, an ACL grant allows (bucket ACL for bucket permissions,
 *      object ACL for object permissions; public grants already removed under
 *      IgnorePublicAcls), and the decision records that an ACL was required.
 */
import type { Principal } from '../auth/principal.js';
import type { CompiledPolicy } from '../iam/policy/compile.js';
import { evaluatePolicy } from '../iam/policy/evaluate.js';
import type { ContextValue, StatementMatch } from '../iam/policy/request.js';
import { aclAllows, type Acl, type AclRequester, type AclTarget } from './acl/acl.js';
import type { Check } from './actions.js';
import type { Decision, TraceEntry } from './decision.js';
import { principalFacts } from './request-context.js';

/** The ACL that may grant a check after the policies did not. */
export interface CheckAcl {
  acl: Acl;
  target: AclTarget;
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
}

/** Actions the bucket owner's root may always perform, whatever the bucket policy says. */
const LOCKOUT_EXEMPT = new Set(['s3:GetBucketPolicy', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy']);

const EMPTY: ReadonlyMap<string, ContextValue> = new Map();

function describe(m: StatementMatch): string {
  return m.sid !== undefined ? `statement ${m.index} (Sid ${JSON.stringify(m.sid)})` : `statement ${m.index}`;
}

function aclRequester(p: Principal): AclRequester {
  return p.kind === 'anonymous' ? { kind: 'anonymous' } : { kind: 'account', canonicalId: p.canonicalId };
}

/** Decides one check. Pure. */
export function decideCheck(principal: Principal, check: Check, input: Omit<DecideInput, 'principal' | 'checks'>): TraceEntry[] {
  const what = `${check.action} on ${check.resource}`;
  const owner = check.bucket === undefined ? undefined : input.bucketOwners.get(check.bucket);
  const policy = check.bucket === undefined ? undefined : input.bucketPolicies?.get(check.bucket);
  const trace: TraceEntry[] = [];
  let matches: StatementMatch[] = [];
  if (policy) {
    const context = input.contextFor?.(check) ?? input.context ?? EMPTY;
    matches = evaluatePolicy(policy, { action: check.action, resource: check.resource, principal: principalFacts(principal), context }, { missingKeys: false }).matches;
  }
  const isOwnerRoot = principal.kind === 'account-root' && owner !== undefined && principal.accountId === owner;
  const denies = matches.filter((m) => m.effect === 'Deny');
  if (denies.length > 0) {
    if (isOwnerRoot && LOCKOUT_EXEMPT.has(check.action)) {
      trace.push({ layer: 'resource-policy', check: what, effect: 'Allow', reason: `bucket policy ${denies.map(describe).join(', ')} denies, but the bucket owner's root may always manage the bucket policy` });
      return trace;
    }
    trace.push({ layer: 'resource-policy', check: what, effect: 'ExplicitDeny', reason: `explicit deny in the bucket policy: ${denies.map(describe).join(', ')}` });
    return trace;
  }
  if (check.bucket === undefined || check.creates === 'bucket') {
    // Account-level actions (ListAllMyBuckets, CreateBucket and the new bucket's ACL and
    // ownership): the root holds them. Whether a bucket name is free is the handler's answer.
    trace.push(principal.kind === 'anonymous'
      ? { layer: 'ownership', check: what, effect: 'ImplicitDeny', reason: 'anonymous request for an account-level action' }
      : { layer: 'ownership', check: what, effect: 'Allow', reason: 'account root user acting in its own account' });
    return trace;
  }
  if (owner === undefined) {
    trace.push({ layer: 'ownership', check: what, effect: 'ImplicitDeny', reason: 'bucket does not exist' });
    return trace;
  }
  const authority = input.authorities?.get(check) ?? owner;
  if (principal.kind === 'account-root' && principal.accountId === authority) {
    trace.push({ layer: 'ownership', check: what, effect: 'Allow', reason: authority === owner ? `root user of the bucket owner account ${owner}` : `root user of the object owner account ${authority}` });
    return trace;
  }
  let denial: string;
  if (authority !== owner) {
    denial = `the object belongs to account ${authority}, not the bucket owner ${owner}: only its ACL can grant`;
  } else {
    const allows = matches.filter((m) => m.effect === 'Allow');
    const grant = principal.kind === 'anonymous'
      ? allows.find((m) => m.principalMatch === 'any')
      : allows.find((m) => m.principalMatch === 'account' || m.principalMatch === 'direct' || m.principalMatch === 'any');
    if (grant && input.restrictedBuckets?.has(check.bucket)) {
      // RestrictPublicBuckets: a public policy grants nothing to anonymous or other accounts,
      // not even to accounts a statement names (S3 UG "Blocking public access").
      trace.push({ layer: 'block-public-access', check: what, effect: 'ImplicitDeny', reason: `RestrictPublicBuckets: the bucket policy is public, so ${allows.map(describe).join(', ')} grant only the bucket owner's account` });
      denial = 'the bucket policy\'s grants are restricted to the owner account';
    } else if (grant) {
      trace.push(principal.kind === 'anonymous'
        ? { layer: 'resource-policy', check: what, effect: 'Allow', reason: `bucket policy ${describe(grant)} allows everyone` }
        : { layer: 'resource-policy', check: what, effect: 'Allow', reason: `cross-account: bucket policy ${describe(grant)} allows the caller (${grant.principalMatch}); the caller's root holds its account's identity permissions` });
      return trace;
    } else {
      denial = principal.kind === 'anonymous'
        ? 'anonymous request and no bucket policy statement allows everyone'
        : `cross-account request: no bucket policy statement of owner ${owner} allows ${check.action}`;
    }
  }
  const acl = input.acls?.get(check);
  if (acl && aclAllows(acl.acl, aclRequester(principal), check.action, acl.target)) {
    // Reported without its grants: the trace names which ACL, the operator can read it.
    trace.length = 0;
    trace.push({ layer: 'acl', check: what, effect: 'Allow', reason: `the ${acl.target} ACL grants ${check.action} (${denial})` });
    return trace;
  }
  if (trace.length === 0) trace.push({ layer: acl ? 'acl' : 'resource-policy', check: what, effect: 'ImplicitDeny', reason: acl ? `${denial}; the ${acl.target} ACL does not grant it either` : denial });
  return trace;
}

/** All checks must allow; an explicit deny anywhere wins over an implicit one. */
export function decide(input: DecideInput): Decision {
  const trace = input.checks.flatMap((c) => decideCheck(input.principal, c, input));
  const effect = trace.some((t) => t.effect === 'ExplicitDeny')
    ? 'ExplicitDeny'
    : trace.every((t) => t.effect === 'Allow') ? 'Allow' : 'ImplicitDeny';
  return { effect, trace, aclRequired: effect === 'Allow' && trace.some((t) => t.layer === 'acl') };
}
