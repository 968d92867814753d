/**
 * Evaluates one compiled policy against one request: which statements apply (Action ∧
 * Resource ∧ Principal ∧ Condition) and how each one's Principal matched. Combining
 * policies and layers into a decision is authz/decide.ts's job. Pure: no I/O, no logging;
 * the only state it touches is the compiled policy's own memo space (see CompiledPolicy.scratch).
 * Returned StatementMatch objects are shared and frozen.
 */
import { PLAN_NO_CONDITIONS, PLAN_NO_RESOURCE, PLAN_NOT_MEMOISED, PM_ACCOUNT, PM_ANY, PM_DIRECT, PM_NONE, PRINCIPAL_MATCHES, planOf, type ActionCandidates, type CompiledPolicy, type CompiledPrincipal, type CompiledStatement, type EvalScratch, type NeededKey } from './compile.js';
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
   * Allow statements need not run; matches then holds Deny statements only, and missingKeys
   * (if asked for) covers the Deny statements only.
   */
  denyOnly?: boolean;
}

/** Evaluates a compiled policy: every applying statement in document order, and the condition keys it lacked. */
export function evaluatePolicy(p: CompiledPolicy, r: EvalRequest, opts?: EvaluateOptions): PolicyResult {
  return evaluate(p, r, opts === undefined || opts.missingKeys !== false, opts?.denyOnly === true);
}

/** Shared answer of an evaluation without matches or missing keys (frozen). */
const NOTHING: PolicyResult = Object.freeze({ matches: Object.freeze([]) as readonly StatementMatch[], missingKeys: Object.freeze([]) as readonly string[] });

function evaluate(p: CompiledPolicy, r: EvalRequest, wantMissing: boolean, denyOnly: boolean): PolicyResult {
  const forAction = candidatesFor(p, r.action);
  const list = denyOnly ? forAction.denies : forAction.all;
  if (list.length === 0) return NOTHING;
  const plan = denyOnly ? forAction.denyPlan : forAction.allPlan;
  const ctx = r.context;
  const who = r.principal;
  const sc = p.scratch;
  const num = sc.num;
  const gen = ++sc.gen;
  let matches: StatementMatch[] | undefined;
  // Keys needed so far: a bit mask for the first 32 policy keys, stamps beyond.
  let needMask = 0;
  const wide = p.keys.length > 32;
  let subject: ArnSubject | undefined;
  let o = 0;
  for (let s = 0; s < list.length; s++) {
    // Decode the statement's entry (see planOf) and move o to the next one.
    const slot = plan[o] as number;
    const pslot = plan[o + 1] as number;
    const resource = plan[o + 2] as number;
    const patStart = o + 4;
    const memoAt = patStart + (plan[o + 3] as number);
    const memoCount = plan[memoAt] as number;
    o = memoAt + 1 + (memoCount > 0 ? memoCount : 0);

    // A remembered answer of a Condition block without variables is consulted first when
    // missing keys are not wanted: a false one settles the statement without its Principal or
    // Resource (all three must hold, in any order). Deny-only evaluation (a settled caller:
    // the Deny statements are guards such as an IP range, TLS or a date, whose keys keep
    // their values from request to request) decides a block without a current answer right
    // away too; otherwise such a block is decided in the documented order, only once
    // Principal and Resource match, so a request whose values keep changing does no extra
    // work. The missing-keys report needs that order.
    let conditions = -1;
    if (memoCount > 0 && !wantMissing) {
      conditions = rememberedAnswer(p, plan, memoAt, memoCount, slot, gen, ctx);
      if (conditions === -1 && denyOnly) conditions = rememberedConditions(p, list, s, plan, memoAt, memoCount, slot, gen, ctx) ? 1 : 0;
      if (conditions === 0) continue;
    }

    let code: number;
    if (num[sc.principalStamp + pslot] === gen) {
      code = num[sc.principalResult + pslot] as number;
    } else {
      code = principalCode(p.principals[pslot] as CompiledPrincipal, who);
      num[sc.principalStamp + pslot] = gen;
      num[sc.principalResult + pslot] = code;
    }
    if (code === 0) continue;
    // Missing keys: what deciding this statement needed and the context lacked — its
    // Resource variables once Action and Principal match, its Condition keys once Resource
    // matches too. Recorded before the conditions run, so short-circuiting (and the
    // cost-based condition order) never changes the report.
    if (wantMissing) {
      const st = list[s] as CompiledStatement;
      needMask |= st.resourceMask;
      if (wide) markNeeded(sc, gen, st.resourceKeys);
    }
    if (resource !== PLAN_NO_RESOURCE) {
      let any = false;
      for (let i = patStart; i < memoAt; i++) {
        const idx = plan[i] as number;
        let hit: boolean;
        if (num[sc.resourceStamp + idx] === gen) {
          hit = num[sc.resourceHit + idx] === 1;
        } else {
          // A pattern's answer depends only on this request (resource and context), so it
          // is computed once per evaluation however many statements list it.
          subject ??= new ArnSubject(r.resource);
          hit = (p.resourcePatterns[idx] as ArnMatcher).test(subject, ctx);
          num[sc.resourceStamp + idx] = gen;
          num[sc.resourceHit + idx] = hit ? 1 : 0;
        }
        if (hit) {
          any = true;
          break;
        }
      }
      if (any === (resource === 1)) continue;
    }
    if (wantMissing) {
      const st = list[s] as CompiledStatement;
      needMask |= st.conditionMask;
      if (wide) markNeeded(sc, gen, st.conditionNeeds);
    }
    let ok: boolean;
    if (memoCount === PLAN_NO_CONDITIONS) {
      ok = true;
    } else if (memoCount === PLAN_NOT_MEMOISED) {
      ok = conditionsHold(p, list[s] as CompiledStatement, gen, ctx);
    } else {
      ok = conditions === 1 || (conditions === -1 && rememberedConditions(p, list, s, plan, memoAt, memoCount, slot, gen, ctx));
    }
    if (ok) (matches ??= []).push((list[s] as CompiledStatement).results[code] as StatementMatch);
  }
  if (!wantMissing) return matches === undefined ? NOTHING : { matches, missingKeys: NOTHING.missingKeys };
  return { matches: matches ?? [], missingKeys: missingOf(p, gen, ctx, needMask, wide) };
}

/**
 * A Condition block without variables (plan entry at memoAt: its key count, then its keys):
 * it answers as it did last time unless one of its keys' values changed since (consecutive
 * requests mostly carry the same user agent, source IP and current second). A key the last
 * answer did not read (the conditions stopped at a false one) cannot have decided it; if its
 * value differs from the one seen before, the block is decided again all the same.
 */
function rememberedConditions(p: CompiledPolicy, list: readonly CompiledStatement[], s: number, plan: Int32Array, memoAt: number, memoCount: number, slot: number, gen: number, ctx: Context): boolean {
  const known = rememberedAnswer(p, plan, memoAt, memoCount, slot, gen, ctx);
  if (known !== -1) return known === 1;
  const sc = p.scratch;
  const num = sc.num;
  const ok = conditionsHold(p, list[s] as CompiledStatement, gen, ctx);
  num[sc.condStamp + slot] = sc.clock;
  num[sc.condResult + slot] = ok ? 1 : 0;
  return ok;
}

/** The remembered answer of a Condition block (see rememberedConditions): 1 or 0, or -1 when it has none that is current. */
function rememberedAnswer(p: CompiledPolicy, plan: Int32Array, memoAt: number, memoCount: number, slot: number, gen: number, ctx: Context): number {
  const sc = p.scratch;
  const num = sc.num;
  const stamp = num[sc.condStamp + slot] as number;
  if (stamp === 0) return -1;
  for (let i = memoAt + 1; i <= memoAt + memoCount; i++) {
    const k = plan[i] as number;
    keyValue(p, gen, ctx, k);
    if ((num[sc.keyVersion + k] as number) > stamp) return -1;
  }
  return num[sc.condResult + slot] as number;
}

/** Whether every condition of a statement holds (AND), cheapest first. */
function conditionsHold(p: CompiledPolicy, st: CompiledStatement, gen: number, ctx: Context): boolean {
  const conds = st.conditions;
  const condKeys = st.conditionKeys;
  for (let i = 0; i < conds.length; i++) {
    if (!(conds[i] as ConditionTest)(keyValue(p, gen, ctx, condKeys[i] as number), ctx)) return false;
  }
  return true;
}

function markNeeded(sc: EvalScratch, gen: number, keys: readonly number[]): void {
  for (let i = 0; i < keys.length; i++) sc.num[sc.needStamp + (keys[i] as number)] = gen;
}

/** The needed keys absent from the context, in policy order (order of first appearance). */
function missingOf(p: CompiledPolicy, gen: number, ctx: Context, mask: number, wide: boolean): string[] {
  const out: string[] = [];
  let m = mask;
  while (m !== 0) {
    const low = m & -m;
    const k = 31 - Math.clz32(low);
    m ^= low;
    if (isAbsent(keyValue(p, gen, ctx, k))) out.push((p.keys[k] as NeededKey).text);
  }
  if (wide) {
    const sc = p.scratch;
    for (let k = 32; k < p.keys.length; k++) {
      if (sc.num[sc.needStamp + k] === gen && isAbsent(keyValue(p, gen, ctx, k))) out.push((p.keys[k] as NeededKey).text);
    }
  }
  return out;
}

/**
 * The context value of policy key k, looked up at most once per evaluation. A value that
 * differs from the one looked up before (in any earlier evaluation) advances the key's
 * version, which voids the remembered answers of the Condition blocks that read it.
 */
function keyValue(p: CompiledPolicy, gen: number, ctx: Context, k: number): ContextValue | undefined {
  const sc = p.scratch;
  if (sc.num[sc.keyStamp + k] === gen) return sc.keyValue[k];
  const v = ctx.get((p.keys[k] as NeededKey).lower);
  sc.num[sc.keyStamp + k] = gen;
  // A multi-valued value always counts as changed: the same array object may have been
  // altered since (request contexts build new ones anyway, so nothing is lost).
  if (v !== sc.keyValue[k] || (v !== undefined && typeof v !== 'string')) {
    sc.keyValue[k] = v;
    sc.num[sc.keyVersion + k] = ++sc.clock;
  }
  return v;
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
  const sc = p.scratch;
  if (action === sc.lastAction) return sc.lastCandidates as ActionCandidates;
  const memo = p.actionMemo.get(action);
  if (memo !== undefined) {
    sc.lastAction = action;
    sc.lastCandidates = memo;
    return memo;
  }
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
    allPlan: planOf(out),
    denyPlan: planOf(denies),
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
