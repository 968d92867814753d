/**
 * The authorization decision, pure: principal × checks × (bucket owners, bucket policies,
 * request context) → Decision with a trace. Identities are account roots until the IAM
 * issue lands; the order follows AWS's evaluation logic (IAM UG "Policy evaluation logic",
 * S3 UG "How Amazon S3 authorizes a request"):
 *   1. an explicit Deny in any applicable policy denies — except that the bucket owner's
 *      root can always Get/Put/DeleteBucketPolicy (S3's lock-out protection);
 *   2. within the owner's account the root user is allowed everything;
 *   3. across accounts the resource side must allow: a bucket-policy Allow naming the
 *      caller's account (delegation; the root holds all of its account's permissions), the
 *      caller directly, or everyone;
 *   4. anonymous callers are allowed only by statements whose Principal is everyone;
 *   5. Block Public Access's RestrictPublicBuckets voids a public policy's grants to anyone
 *      outside the owner's account.
 */
import type { Principal } from '../auth/principal.js';
import type { CompiledPolicy } from '../iam/policy/compile.js';
import { evaluatePolicy } from '../iam/policy/evaluate.js';
import type { ContextValue, StatementMatch } from '../iam/policy/request.js';
import type { Check } from './actions.js';
import type { Decision, TraceEntry } from './decision.js';
import { principalFacts } from './request-context.js';

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
}

/** Actions the bucket owner's root may always perform, whatever the bucket policy says. */
const LOCKOUT_EXEMPT = new Set(['s3:GetBucketPolicy', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy']);

const EMPTY: ReadonlyMap<string, ContextValue> = new Map();

function describe(m: StatementMatch): string {
  return m.sid !== undefined ? `statement ${m.index} (Sid ${JSON.stringify(m.sid)})` : `statement ${m.index}`;
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
  const allows = matches.filter((m) => m.effect === 'Allow');
  if (check.bucket !== undefined && input.restrictedBuckets?.has(check.bucket) && !isOwnerRoot && allows.length > 0) {
    // RestrictPublicBuckets: a public policy grants nothing to anonymous or other accounts,
    // not even to accounts a statement names (S3 UG "Blocking public access").
    trace.push({ layer: 'block-public-access', check: what, effect: 'ImplicitDeny', reason: `RestrictPublicBuckets: the bucket policy is public, so ${allows.map(describe).join(', ')} grant only the bucket owner's account` });
    return trace;
  }
  if (principal.kind === 'anonymous') {
    const open = allows.find((m) => m.principalMatch === 'any');
    trace.push(open
      ? { layer: 'resource-policy', check: what, effect: 'Allow', reason: `bucket policy ${describe(open)} allows everyone` }
      : { layer: 'resource-policy', check: what, effect: 'ImplicitDeny', reason: 'anonymous request and no bucket policy statement allows everyone' });
    return trace;
  }
  if (check.bucket === undefined || check.action === 's3:CreateBucket') {
    // Account-level actions (ListAllMyBuckets, CreateBucket): the root holds them. Whether a
    // bucket name is free is the handler's answer, not a denial.
    trace.push({ layer: 'ownership', check: what, effect: 'Allow', reason: 'account root user acting in its own account' });
    return trace;
  }
  if (owner === undefined) {
    trace.push({ layer: 'ownership', check: what, effect: 'ImplicitDeny', reason: 'bucket does not exist' });
    return trace;
  }
  if (isOwnerRoot) {
    trace.push({ layer: 'ownership', check: what, effect: 'Allow', reason: `root user of the bucket owner account ${owner}` });
    return trace;
  }
  const grant = allows.find((m) => m.principalMatch === 'account' || m.principalMatch === 'direct' || m.principalMatch === 'any');
  trace.push(grant
    ? { layer: 'resource-policy', check: what, effect: 'Allow', reason: `cross-account: bucket policy ${describe(grant)} allows the caller (${grant.principalMatch}); the caller's root holds its account's identity permissions` }
    : { layer: 'resource-policy', check: what, effect: 'ImplicitDeny', reason: `cross-account request: no bucket policy statement of owner ${owner} allows ${check.action}` });
  return trace;
}

/** All checks must allow; an explicit deny anywhere wins over an implicit one. */
export function decide(input: DecideInput): Decision {
  const trace = input.checks.flatMap((c) => decideCheck(input.principal, c, input));
  const effect = trace.some((t) => t.effect === 'ExplicitDeny')
    ? 'ExplicitDeny'
    : trace.every((t) => t.effect === 'Allow') ? 'Allow' : 'ImplicitDeny';
  return { effect, trace };
}
