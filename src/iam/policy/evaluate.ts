/**
 * Evaluates one compiled policy against one request: which statements apply (Action ∧
 * Resource ∧ Principal ∧ Condition) and how each one's Principal matched. Combining
 * policies and layers into a decision is authz/decide.ts's job. Pure: no I/O, no logging;
 * the only state it touches is the compiled policy's own memo space (see CompiledPolicy.scratch).
 * Returned StatementMatch objects are shared and frozen.
 */
import { PM_ACCOUNT, PM_ANY, PM_DIRECT, PM_NONE, PRINCIPAL_MATCHES, type ActionCandidates, type CompiledPolicy, type CompiledPrincipal, type CompiledStatement, type EvalScratch, type NeededKey } from './compile.js';
import { ArnSubject, type ArnMatcher } from './arn.js';
import { foldCase } from './glob.js';
import { isAbsent, type ConditionTest } from './conditions/modifiers.js';
import type { ContextValue, EvalRequest, PolicyResult, PrincipalFacts, PrincipalMatch, StatementMatch } from './request.js';
import type { Context } from './variables.js';

const ACTION_MEMO_LIMIT = 512;

/** Options of evaluatePolicy. */
export interface EvaluateOptions {
  /**
   * Collect PolicyResult.missingKeys (default true). A caller that only needs the matches
   * (the authorization path) can pass false; missingKeys is then always [].
   */
  missingKeys?: boolean;
  /**
   * Evaluate only the Deny statements (default false). For a caller whose access is already
   * settled without this policy's grants, only its denies can change the decision, so the
   * Allow statements need not run; matches then holds Deny statements only.
   */
  denyOnly?: boolean;
}

/** Evaluates a compiled policy: every applying statement in document order, and the condition keys it lacked. */
export function evaluatePolicy(p: CompiledPolicy, r: EvalRequest, opts?: EvaluateOptions): PolicyResult {
  return evaluate(p, r, opts === undefined || opts.missingKeys !== false, opts?.denyOnly === true);
}

function evaluate(p: CompiledPolicy, r: EvalRequest, wantMissing: boolean, denyOnly: boolean): PolicyResult {
  const forAction = candidatesFor(p, r.action);
  const candidates = denyOnly ? forAction.denies : forAction.all;
  const matches: StatementMatch[] = [];
  if (candidates.length === 0) return { matches, missingKeys: [] };
  const ctx = r.context;
  const who = r.principal;
  const scratch = p.scratch;
  const gen = nextGeneration(scratch);
  // Keys needed so far: a bit mask for the first 32 policy keys, stamps beyond.
  let needMask = 0;
  const wide = p.keys.length > 32;
  let subject: ArnSubject | undefined;
  for (let s = 0; s < candidates.length; s++) {
    const st = candidates[s] as CompiledStatement;
    const slot = st.principalSlot;
    let code: number;
    if (scratch.principalStamp[slot] === gen) {
      code = scratch.principalResult[slot] as number;
    } else {
      code = principalCode(st.principal, who);
      scratch.principalStamp[slot] = gen;
      scratch.principalResult[slot] = code;
    }
    if (code === 0) continue;
    // Missing keys: what deciding this statement needed and the context lacked — its
    // Resource variables once Action and Principal match, its Condition keys once Resource
    // matches too. Recorded before the conditions run, so short-circuiting (and the
    // cost-based condition order) never changes the report.
    if (wantMissing) {
      needMask |= st.resourceMask;
      if (wide) markNeeded(scratch, gen, st.resourceKeys);
    }
    const res = st.resource;
    if (res !== undefined) {
      let any = false;
      const pats = res.patterns;
      for (let i = 0; i < pats.length; i++) {
        const idx = pats[i] as number;
        let hit: boolean;
        if (scratch.resourceStamp[idx] === gen) {
          hit = scratch.resourceHit[idx] === 1;
        } else {
          // A pattern's answer depends only on this request (resource and context), so it
          // is computed once per evaluation however many statements list it.
          subject ??= new ArnSubject(r.resource);
          hit = (p.resourcePatterns[idx] as ArnMatcher).test(subject, ctx);
          scratch.resourceStamp[idx] = gen;
          scratch.resourceHit[idx] = hit ? 1 : 0;
        }
        if (hit) {
          any = true;
          break;
        }
      }
      if (any === res.negated) continue;
    }
    if (wantMissing) {
      needMask |= st.conditionMask;
      if (wide) markNeeded(scratch, gen, st.conditionNeeds);
    }
    const conds = st.conditions;
    const condKeys = st.conditionKeys;
    let ok = true;
    for (let i = 0; i < conds.length; i++) {
      if (!(conds[i] as ConditionTest)(keyValue(p, scratch, gen, ctx, condKeys[i] as number), ctx)) {
        ok = false;
        break;
      }
    }
    if (ok) matches.push(st.results[code] as StatementMatch);
  }
  return { matches, missingKeys: wantMissing ? missingOf(p, scratch, gen, ctx, needMask, wide) : [] };
}

function markNeeded(scratch: EvalScratch, gen: number, keys: readonly number[]): void {
  for (let i = 0; i < keys.length; i++) scratch.needStamp[keys[i] as number] = gen;
}

/** The needed keys absent from the context, in policy order (order of first appearance). */
function missingOf(p: CompiledPolicy, scratch: EvalScratch, gen: number, ctx: Context, mask: number, wide: boolean): string[] {
  const out: string[] = [];
  let m = mask;
  while (m !== 0) {
    const low = m & -m;
    const k = 31 - Math.clz32(low);
    m ^= low;
    if (isAbsent(keyValue(p, scratch, gen, ctx, k))) out.push((p.keys[k] as NeededKey).text);
  }
  if (wide) {
    for (let k = 32; k < p.keys.length; k++) {
      if (scratch.needStamp[k] === gen && isAbsent(keyValue(p, scratch, gen, ctx, k))) out.push((p.keys[k] as NeededKey).text);
    }
  }
  return out;
}

/** The context value of policy key k, looked up at most once per evaluation. */
function keyValue(p: CompiledPolicy, scratch: EvalScratch, gen: number, ctx: Context, k: number): ContextValue | undefined {
  if (scratch.keyStamp[k] === gen) return scratch.keyValue[k];
  const v = ctx.get((p.keys[k] as NeededKey).lower);
  scratch.keyStamp[k] = gen;
  scratch.keyValue[k] = v;
  return v;
}

function nextGeneration(scratch: EvalScratch): number {
  if (scratch.gen === 0xffffffff) {
    scratch.resourceStamp.fill(0);
    scratch.keyStamp.fill(0);
    scratch.needStamp.fill(0);
    scratch.keyValue.fill(undefined);
    scratch.principalStamp.fill(0);
    scratch.gen = 0;
  }
  return ++scratch.gen;
}

/** Statements whose Action / NotAction matches the action, in document order (memoised per policy). */
export function statementsForAction(p: CompiledPolicy, action: string): readonly CompiledStatement[] {
  return candidatesFor(p, action).all;
}

/** Whether the statements that apply to an action read s3:ExistingObjectTag/*: some Deny, some Allow. */
export function objectTagReads(p: CompiledPolicy, action: string): ActionCandidates['readsObjectTags'] {
  return candidatesFor(p, action).readsObjectTags;
}

function candidatesFor(p: CompiledPolicy, action: string): ActionCandidates {
  const memo = p.actionMemo.get(action);
  if (memo !== undefined) return memo;
  const folded = foldCase(action);
  const colon = folded.indexOf(':');
  const pool = p.byService.get(colon < 0 ? folded : folded.slice(0, colon)) ?? p.otherServices;
  const out: CompiledStatement[] = [];
  for (const st of pool) {
    let any = false;
    for (const g of st.action.globs) {
      if (g.test(folded)) {
        any = true;
        break;
      }
    }
    if (any !== st.action.negated) out.push(st);
  }
  const denies = out.filter((st) => st.effect === 'Deny');
  const found: ActionCandidates = {
    all: out,
    denies,
    readsObjectTags: { deny: denies.some((st) => st.readsObjectTags), allow: out.some((st) => st.effect === 'Allow' && st.readsObjectTags) },
  };
  if (p.actionMemo.size < ACTION_MEMO_LIMIT) p.actionMemo.set(action, found);
  return found;
}

/**
 * How a Principal / NotPrincipal element matches the caller, or undefined when the
 * statement does not apply to this caller.
 *
 * Principal: the caller's own ARN (user, session, or the role of a session) or service
 * ⇒ 'direct'; otherwise "*" ⇒ 'any'; otherwise its account (id or root ARN) ⇒ 'account'.
 *
 * NotPrincipal applies (as 'any') unless the caller is named. IAM UG ("NotPrincipal"):
 * AWS may evaluate the account, then the role, then the session, so a NotPrincipal that
 * names a user or role but not its account still covers it — the guide tells authors to
 * name the account too. So a caller is named when: "*" is listed; or its service is
 * listed; or its account is listed AND (it is the account's root, or one of its ARNs —
 * user, session, or the session's role — is listed).
 */
export function matchPrincipal(p: CompiledPrincipal, who: PrincipalFacts): PrincipalMatch | undefined {
  return PRINCIPAL_MATCHES[principalCode(p, who)];
}

function principalCode(p: CompiledPrincipal, who: PrincipalFacts): number {
  if (p.kind === 'none') return PM_NONE;
  if (p.negated) return namesCaller(p, who) ? 0 : PM_ANY;
  switch (who.kind) {
    case 'anonymous':
      return p.everyone ? PM_ANY : 0;
    case 'service':
      if (p.services.size > 0 && p.services.has(who.service.toLowerCase())) return PM_DIRECT;
      return p.everyone ? PM_ANY : 0;
    case 'federated':
      if (p.federated.size > 0 && p.federated.has(who.provider)) return PM_DIRECT;
      return p.everyone ? PM_ANY : 0;
    case 'aws':
      if (p.arns.size > 0) for (const a of who.arns) if (p.arns.has(a)) return PM_DIRECT;
      if (p.everyone) return PM_ANY;
      return p.accounts.has(who.account) ? PM_ACCOUNT : 0;
  }
}

function namesCaller(p: Extract<CompiledPrincipal, { kind: 'named' }>, who: PrincipalFacts): boolean {
  if (p.everyone) return true;
  switch (who.kind) {
    case 'anonymous':
      return false;
    case 'service':
      return p.services.has(who.service.toLowerCase());
    case 'federated':
      return p.federated.has(who.provider);
    case 'aws':
      if (!p.accounts.has(who.account)) return false;
      if (who.isRoot) return true;
      for (const a of who.arns) if (p.arns.has(a)) return true;
      return false;
  }
}
