/**
 * Decisions on KMS keys, pure. A key policy is authoritative (AWS KMS DG "Key policies"):
 * IAM policies grant access to a key only when its key policy delegates to the account
 * (Principal = the account), and nobody — not even the account's root — may use a key whose
 * policy does not allow it. Order: explicit deny in any policy (key policy, identity,
 * boundary, session, SCP) → SCPs → same account: the key policy grants the caller directly,
 * or delegates to the account and the caller's identity side allows → another account: the
 * key policy grants (the account or the caller) and the caller's identity side allows.
 */
import type { Principal } from '../auth/principal.js';
import type { CompiledPolicy } from '../iam/policy/compile.js';
import { evaluatePolicy } from '../iam/policy/evaluate.js';
import type { ContextValue, EvalRequest } from '../iam/policy/request.js';
import { evaluateSet, type IdentitySide } from './decide.js';
import type { Decision, TraceEntry } from './decision.js';
import { principalFacts } from './request-context.js';

export interface KmsDecideInput {
  principal: Principal;
  action: string;
  /** The key's ARN, or '*' for account-level actions (CreateKey, ListKeys, ListAliases). */
  resource: string;
  /** Owner of the key; undefined for account-level actions. */
  keyAccountId: string | undefined;
  keyPolicy: CompiledPolicy | undefined;
  identity: IdentitySide | undefined;
  context: ReadonlyMap<string, ContextValue>;
}

/** The decision, and whether the caller's gates (SCPs, session policies, a role's boundary) held: only then may a grant stand in. */
export function decideKms(input: KmsDecideInput): Decision & { gatesOk: boolean } {
  const { principal: p } = input;
  const what = `${input.action} on ${input.resource}`;
  let gatesOk = false;
  const out = (layer: TraceEntry['layer'], effect: Decision['effect'], reason: string): Decision & { gatesOk: boolean } => ({ effect, aclRequired: false, trace: [{ layer, check: what, effect, reason }], gatesOk });
  if (p.kind === 'anonymous') return out('identity-policy', 'ImplicitDeny', 'KMS requires a signed request');
  const req: EvalRequest = { action: input.action, resource: input.resource, principal: principalFacts(p), context: input.context };
  const id = input.identity ?? { policies: [] };
  const scps = id.scpLevels?.map((l) => evaluateSet(l, req));
  const scpDenies = scps?.flatMap((r) => r.denies) ?? [];
  if (scpDenies.length > 0) return out('scp', 'ExplicitDeny', `explicit deny in a service control policy: ${scpDenies.join(', ')}`);
  const isRoot = p.kind === 'account-root';
  const identity = isRoot ? undefined : evaluateSet(id.policies, req);
  const boundary = !isRoot && id.boundary ? evaluateSet([id.boundary], req) : undefined;
  const session = id.sessionPolicies && id.sessionPolicies.length > 0 ? evaluateSet(id.sessionPolicies, req) : undefined;
  for (const [layer, r] of [['identity-policy', identity], ['permissions-boundary', boundary], ['session-policy', session]] as const) {
    if (r && r.denies.length > 0) return out(layer, 'ExplicitDeny', `explicit deny: ${r.denies.join(', ')}`);
  }
  const matches = input.keyPolicy ? evaluatePolicy(input.keyPolicy, req, { missingKeys: false }).matches : [];
  const keyDeny = matches.find((m) => m.effect === 'Deny');
  if (keyDeny) return out('resource-policy', 'ExplicitDeny', `explicit deny in the key policy (statement ${keyDeny.index})`);
  if (scps?.some((r) => r.allow === undefined)) return out('scp', 'ImplicitDeny', `a service control policy level does not allow ${input.action}`);
  // A role session stays within its session policies and its role's boundary whichever policy grants.
  const sessionOk = (session === undefined || session.allow !== undefined)
    && !(p.kind === 'assumed-role' && boundary !== undefined && boundary.allow === undefined);
  const identityOk = sessionOk && (isRoot || (identity?.allow !== undefined && (boundary === undefined || boundary.allow !== undefined)));
  gatesOk = sessionOk;
  if (input.keyAccountId === undefined) {
    return identityOk ? out('identity-policy', 'Allow', isRoot ? 'the account root' : `identity policy ${identity!.allow!}`) : out('identity-policy', 'ImplicitDeny', `no identity-based policy allows ${input.action}`);
  }
  const allows = matches.filter((m) => m.effect === 'Allow');
  const direct = allows.find((m) => m.principalMatch === 'direct' || m.principalMatch === 'any');
  const delegated = allows.find((m) => m.principalMatch === 'account');
  const sameAccount = p.accountId === input.keyAccountId;
  if (sameAccount && direct && sessionOk) return out('resource-policy', 'Allow', `the key policy allows the caller (statement ${direct.index})`);
  if ((direct || delegated) && identityOk) {
    return out('resource-policy', 'Allow', `the key policy ${delegated ? 'delegates to the caller\'s account' : 'allows the caller'} and ${isRoot ? 'the account root holds its account\'s permissions' : `identity policy ${identity!.allow!} allows`}`);
  }
  if (!direct && !delegated) return out('resource-policy', 'ImplicitDeny', `no key policy statement allows ${input.action} for the caller`);
  return out('identity-policy', 'ImplicitDeny', `the key policy delegates to the account, but no identity-based policy allows ${input.action}`);
}
