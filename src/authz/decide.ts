/**
 * The authorization decision. Until the policy engine lands the rule is the account
 * boundary alone: a bucket's owning account (its root credentials) may do everything on
 * it, nobody else anything. It already runs as the single authorization step, on the
 * checks from actions.ts, and returns a Decision with a trace, so policies, ACLs and Block
 * Public Access plug in here without touching handlers.
 */
import type { Principal } from '../auth/principal.js';
import type { Check } from './actions.js';
import type { Decision, TraceEntry } from './decision.js';

export interface DecideInput {
  principal: Principal;
  checks: readonly Check[];
  /** Owning account of each bucket named by a check; absent = the bucket does not exist. */
  bucketOwners: ReadonlyMap<string, string>;
}

/** Decides one check. Pure. */
export function decideCheck(principal: Principal, check: Check, bucketOwners: ReadonlyMap<string, string>): TraceEntry {
  const what = `${check.action} on ${check.resource}`;
  if (principal.kind === 'anonymous') {
    return { layer: 'ownership', check: what, effect: 'ImplicitDeny', reason: 'anonymous request and no policy or ACL allows it' };
  }
  if (check.bucket === undefined || check.action === 's3:CreateBucket') {
    // CreateBucket is an account-level permission: whether the name is free is the
    // handler's answer (BucketAlreadyExists / BucketAlreadyOwnedByYou), not a denial.
    return { layer: 'ownership', check: what, effect: 'Allow', reason: 'account-level action by an authenticated principal of the account' };
  }
  const owner = bucketOwners.get(check.bucket);
  if (owner === undefined) {
    // The pipeline answers NoSuchBucket before it gets here; fail closed all the same.
    return { layer: 'ownership', check: what, effect: 'ImplicitDeny', reason: 'bucket does not exist' };
  }
  if (owner === principal.accountId) {
    return { layer: 'ownership', check: what, effect: 'Allow', reason: `principal belongs to the bucket owner account ${owner}` };
  }
  return { layer: 'ownership', check: what, effect: 'ImplicitDeny', reason: `bucket is owned by another account and no policy allows ${check.action}` };
}

/** All checks must allow; an explicit deny anywhere wins over an implicit one. */
export function decide(input: DecideInput): Decision {
  const trace = input.checks.map((c) => decideCheck(input.principal, c, input.bucketOwners));
  const effect = trace.some((t) => t.effect === 'ExplicitDeny')
    ? 'ExplicitDeny'
    : trace.every((t) => t.effect === 'Allow') ? 'Allow' : 'ImplicitDeny';
  return { effect, trace };
}
