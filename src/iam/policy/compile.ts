/**
 * PolicyAst → CompiledPolicy: everything a request needs is precomputed here, once per
 * policy version — case-folded action globs with an index by service, ARN matchers with
 * variable templates pre-split, principal sets, and one closure per condition with its
 * numbers, instants, CIDRs and bytes already parsed. evaluate.ts never parses policy text.
 * Pure: no I/O.
 */
import type { ConditionAst, ConditionOperator, Effect, PolicyAst, PolicyVersion, PrincipalAst, StatementAst } from './ast.js';
import { compileArnPattern, type ArnMatcher } from './arn.js';
import { compileGlob, type Glob } from './glob.js';
import { parseTemplate, requiredVariables } from './variables.js';
import { applyModifiers, type CompiledOperator, type ConditionTest } from './conditions/modifiers.js';
import { compileString } from './conditions/string.js';
import { compileNumeric } from './conditions/numeric.js';
import { compileDate } from './conditions/date.js';
import { compileBool } from './conditions/bool.js';
import { compileBinary } from './conditions/binary.js';
import { compileIp } from './conditions/ip.js';
import { compileArn } from './conditions/arn.js';
import { compileNull } from './conditions/null.js';
import { assertNever } from '../../util/assert-never.js';
import type { ContextValue, PrincipalMatch, StatementMatch } from './request.js';

/** A compiled Principal / NotPrincipal element. */
export type CompiledPrincipal =
  /** No Principal element (identity policies). */
  | { kind: 'none' }
  | {
      kind: 'named';
      /** NotPrincipal. */
      negated: boolean;
      /** "*", {"AWS": "*"} or an "*" among the AWS entries: everyone, anonymous included. */
      everyone: boolean;
      /** 12-digit account ids, from `111122223333` and `arn:<partition>:iam::111122223333:root`. */
      accounts: ReadonlySet<string>;
      /** Every other AWS entry (user, role, session, federated-user ARNs), compared exactly. */
      arns: ReadonlySet<string>;
      /** Service principals, lower-cased. */
      services: ReadonlySet<string>;
      /** Federated principals (identity-provider ARNs or provider names), compared exactly. */
      federated: ReadonlySet<string>;
    };

/** A condition key some statement needs: lower-cased, and as first written in the policy. */
export interface NeededKey {
  lower: string;
  text: string;
}

/** One statement, ready to evaluate. */
export interface CompiledStatement {
  readonly index: number;
  /** Position in CompiledPolicy.statements (its slot in the scratch's per-statement memo). */
  readonly slot: number;
  readonly sid: string | undefined;
  readonly effect: Effect;
  /** Action / NotAction: case-insensitive globs over folded `service:action` text. */
  readonly action: { readonly negated: boolean; readonly globs: readonly Glob[] };
  /** Resource / NotResource as indices into CompiledPolicy.resourcePatterns; undefined when absent (trust policies). */
  readonly resource: { readonly negated: boolean; readonly patterns: readonly number[] } | undefined;
  readonly principal: CompiledPrincipal;
  /** Index of `principal` in CompiledPolicy.principals (statements often share one, e.g. "*"). */
  readonly principalSlot: number;
  /** All must hold (AND across operators and keys); ordered cheapest first. */
  readonly conditions: readonly ConditionTest[];
  /** conditions[i] tests the value of keys[conditionKeys[i]]. */
  readonly conditionKeys: readonly number[];
  /**
   * When no condition value holds a policy variable, the Condition block is a function of
   * its keys' values alone: these keys (distinct, as indices into CompiledPolicy.keys), whose
   * values the block's remembered answer is checked against (EvalScratch.condStamp).
   * Undefined when the statement has no condition or a condition with variables.
   */
  readonly memoKeys: readonly number[] | undefined;
  /** Variables without defaults in Resource / NotResource, as indices into CompiledPolicy.keys. */
  readonly resourceKeys: readonly number[];
  /** resourceKeys as a bit mask over key indices (when the policy has at most 32 keys). */
  readonly resourceMask: number;
  /** Keys the conditions read, and their variables without defaults, as indices into CompiledPolicy.keys. */
  readonly conditionNeeds: readonly number[];
  /** conditionNeeds as a bit mask over key indices (when the policy has at most 32 keys). */
  readonly conditionMask: number;
  /** Whether it reads s3:ExistingObjectTag/* (in a condition or a variable): the stored object's tags must be loaded before it runs. */
  readonly readsObjectTags: boolean;
  /**
   * This statement's result for each way its Principal can match, indexed by the codes of
   * PRINCIPAL_MATCHES (index 0 unused): shared and frozen, so evaluation allocates none.
   */
  readonly results: readonly (StatementMatch | undefined)[];
}

/**
 * Memo space of a policy's evaluations, reused across calls. Every number lives in one
 * Float64Array (`num`), in regions that start at the offsets below: a cold evaluation
 * (the server runs other code between two requests) then touches a few cache lines
 * instead of one array per memo.
 */
export interface EvalScratch {
  /** Evaluation counter; a stamp equal to it means "computed during this evaluation" (a double: never wraps). */
  gen: number;
  /**
   * Counter bumped whenever a key's fetched value differs from the one fetched before it,
   * in any earlier evaluation; a key's version is the counter when its value last changed.
   */
  clock: number;
  readonly num: Float64Array;
  /** Per distinct Principal element: stamp, then its code in PRINCIPAL_MATCHES (0 = does not apply). */
  readonly principalStamp: number;
  readonly principalResult: number;
  /** Per distinct resource pattern: stamp, then 1 when it matched. */
  readonly resourceStamp: number;
  readonly resourceHit: number;
  /** Per policy key: stamp of keyValue (fetched once per evaluation), its version, and a stamp marking it needed (policies with more than 32 keys). */
  readonly keyStamp: number;
  readonly keyVersion: number;
  readonly needStamp: number;
  /**
   * Per statement with memoKeys: the clock when its Condition block was last decided (0 =
   * never), then the answer. The answer holds while none of its keys changed since.
   */
  readonly condStamp: number;
  readonly condResult: number;
  /** Context value of each policy key as last fetched (valid for this evaluation when its stamp is current). */
  readonly keyValue: (ContextValue | undefined)[];
  /** The last action looked up in actionMemo and its answer (one request asks for the same action several times). */
  lastAction: string | undefined;
  lastCandidates: ActionCandidates | undefined;
}

/** The memo space for a policy with these counts of principals, resource patterns, keys and statements. */
function newScratch(principals: number, patterns: number, keys: number, statements: number): EvalScratch {
  const principalStamp = 0;
  const principalResult = principalStamp + principals;
  const resourceStamp = principalResult + principals;
  const resourceHit = resourceStamp + patterns;
  const keyStamp = resourceHit + patterns;
  const keyVersion = keyStamp + keys;
  const needStamp = keyVersion + keys;
  const condStamp = needStamp + keys;
  const condResult = condStamp + statements;
  return {
    gen: 0,
    // Starts at 1 so that every recorded condition stamp is non-zero.
    clock: 1,
    num: new Float64Array(condResult + statements),
    principalStamp, principalResult, resourceStamp, resourceHit, keyStamp, keyVersion, needStamp, condStamp, condResult,
    keyValue: new Array<ContextValue | undefined>(keys).fill(undefined),
    lastAction: undefined,
    lastCandidates: undefined,
  };
}

/** Numeric codes of principal answers (scratch and results): 0 = the statement does not apply to the caller. */
export const PRINCIPAL_MATCHES: readonly (PrincipalMatch | undefined)[] = [undefined, 'none', 'any', 'account', 'direct'];
/** Code of 'none' in PRINCIPAL_MATCHES. */
export const PM_NONE = 1;
/** Code of 'any' in PRINCIPAL_MATCHES. */
export const PM_ANY = 2;
/** Code of 'account' in PRINCIPAL_MATCHES. */
export const PM_ACCOUNT = 3;
/** Code of 'direct' in PRINCIPAL_MATCHES. */
export const PM_DIRECT = 4;

/** The statements whose Action / NotAction matches one action, in document order: all, and the Deny ones alone. */
export interface ActionCandidates {
  readonly all: readonly CompiledStatement[];
  readonly denies: readonly CompiledStatement[];
  /** `all` and `denies` as evaluation plans (see planOf). */
  readonly allPlan: Int32Array;
  readonly denyPlan: Int32Array;
  /** Whether some of `denies` / some Allow among `all` read s3:ExistingObjectTag/*. */
  readonly readsObjectTags: { readonly deny: boolean; readonly allow: boolean };
}

/** A policy compiled for evaluation. */
export interface CompiledPolicy {
  readonly policyId: string | undefined;
  readonly version: PolicyVersion;
  readonly statements: readonly CompiledStatement[];
  /** Statements whose Action can match some action of a service (lower-cased), in document order. */
  readonly byService: ReadonlyMap<string, readonly CompiledStatement[]>;
  /** The candidates for services not in byService (wildcard services and NotAction). */
  readonly otherServices: readonly CompiledStatement[];
  /**
   * Memo: action as requested → statements whose Action/NotAction matches it, document
   * order. A pure function of the action, so caching it is invisible; bounded in size.
   */
  readonly actionMemo: Map<string, ActionCandidates>;
  /** The distinct Resource/NotResource patterns (policies repeat `arn:aws:s3:::b/*`; each is tested once per request). */
  readonly resourcePatterns: readonly ArnMatcher[];
  /** The distinct Principal / NotPrincipal elements. */
  readonly principals: readonly CompiledPrincipal[];
  /** The distinct keys statements need, in order of first appearance. */
  readonly keys: readonly NeededKey[];
  /**
   * Memo space for one evaluation (resource results, reported keys), reused across calls.
   * INVARIANT: evaluatePolicy is synchronous and calls nothing that could re-enter it, so
   * one scratch per policy is never used by two evaluations at once.
   */
  readonly scratch: EvalScratch;
}

/** Compiles a parsed policy; never throws on odd values (a value that cannot be read never matches). */
export function compilePolicy(ast: PolicyAst, opts: { policyId?: string } = {}): CompiledPolicy {
  const patternIndex = new Map<string, number>();
  const resourcePatterns: ArnMatcher[] = [];
  const keyIndex = new Map<string, number>();
  const keys: NeededKey[] = [];
  const principalIndex = new Map<string, number>();
  const principals: CompiledPrincipal[] = [];
  const interner: Interner = {
    principal(cp) {
      const id = principalId(cp);
      let i = principalIndex.get(id);
      if (i === undefined) {
        i = principals.length;
        principals.push(cp);
        principalIndex.set(id, i);
      }
      return i;
    },
    pattern(text) {
      let i = patternIndex.get(text);
      if (i === undefined) {
        i = resourcePatterns.length;
        resourcePatterns.push(compileArnPattern(text, ast.version));
        patternIndex.set(text, i);
      }
      return i;
    },
    key(lower, text) {
      let i = keyIndex.get(lower);
      if (i === undefined) {
        i = keys.length;
        keys.push({ lower, text });
        keyIndex.set(lower, i);
      }
      return i;
    },
  };
  const statements = ast.statements.map((s, slot) => compileStatement(s, slot, ast.version, interner));
  const { byService, otherServices } = indexByService(ast.statements, statements);
  return {
    policyId: opts.policyId ?? ast.id,
    version: ast.version,
    statements,
    byService,
    otherServices,
    actionMemo: new Map(),
    resourcePatterns,
    principals,
    keys,
    scratch: newScratch(principals.length, resourcePatterns.length, keys.length, statements.length),
  };
}

const OBJECT_TAG_PREFIX = 's3:existingobjecttag/';

/** Whether a statement reads s3:ExistingObjectTag/*: as a condition key, or as a variable (with or without a default). */
function statementReadsObjectTags(s: StatementAst, version: PolicyVersion): boolean {
  const inVariables = (value: string): boolean =>
    parseTemplate(value, version).parts.some((p) => p.kind === 'var' && p.key.startsWith(OBJECT_TAG_PREFIX));
  return s.conditions.some((c) => c.keyLower.startsWith(OBJECT_TAG_PREFIX) || (takesVariables(c.operator) && c.values.some((v) => inVariables(v.value))))
    || (s.resource?.values.some((v) => inVariables(v.value)) ?? false);
}

interface Interner {
  principal(p: CompiledPrincipal): number;
  pattern(text: string): number;
  key(lower: string, text: string): number;
}

function compileStatement(s: StatementAst, slot: number, version: PolicyVersion, intern: Interner): CompiledStatement {
  const resourceKeys: number[] = [];
  const conditionNeeds: number[] = [];
  const need = (into: number[], lower: string, text: string): void => {
    const i = intern.key(lower, text);
    if (!into.includes(i)) into.push(i);
  };
  let resource: CompiledStatement['resource'];
  if (s.resource !== undefined) {
    for (const v of s.resource.values) for (const k of requiredVariables(parseTemplate(v.value, version))) need(resourceKeys, k.key, k.keyText);
    resource = { negated: s.resource.negated, patterns: s.resource.values.map((v) => intern.pattern(v.value)) };
  }
  const ranked: { cost: number; test: ConditionTest; key: number }[] = [];
  const memoKeys: number[] = [];
  let pure = true;
  for (const c of s.conditions) {
    need(conditionNeeds, c.keyLower, c.key);
    const key = intern.key(c.keyLower, c.key);
    if (takesVariables(c.operator)) {
      for (const v of c.values) for (const k of requiredVariables(parseTemplate(v.value, version))) need(conditionNeeds, k.key, k.keyText);
    }
    ranked.push({ cost: COST[c.operator], test: compileCondition(c, version), key });
    if (!memoKeys.includes(key)) memoKeys.push(key);
    pure &&= conditionIsPure(c, version);
  }
  // Conditions are pure and AND-ed, so their order cannot change the answer: cheap first.
  ranked.sort((a, b) => a.cost - b.cost);
  const principal = compilePrincipal(s.principal);
  const result = (principalMatch: PrincipalMatch): StatementMatch => Object.freeze({ index: s.index, sid: s.sid, effect: s.effect, principalMatch });
  return {
    index: s.index,
    slot,
    sid: s.sid,
    effect: s.effect,
    action: { negated: s.action.negated, globs: s.action.values.map((v) => compileGlob(v.value, { ignoreCase: true })) },
    resource,
    principal,
    principalSlot: intern.principal(principal),
    conditions: ranked.map((r) => r.test),
    conditionKeys: ranked.map((r) => r.key),
    memoKeys: pure && memoKeys.length > 0 ? memoKeys : undefined,
    resourceKeys,
    resourceMask: maskOf(resourceKeys),
    conditionNeeds,
    conditionMask: maskOf(conditionNeeds),
    readsObjectTags: statementReadsObjectTags(s, version),
    results: PRINCIPAL_MATCHES.map((m) => (m === undefined ? undefined : result(m))),
  };
}

/** In a plan: the statement has no Resource element (trust policies). */
export const PLAN_NO_RESOURCE = -1;
/** In a plan: the statement has no Condition element. */
export const PLAN_NO_CONDITIONS = -1;
/** In a plan: a Condition element with policy variables (its answer is never remembered). */
export const PLAN_NOT_MEMOISED = -2;

/**
 * A list of candidate statements encoded as one Int32Array, so that walking it touches the
 * statement objects only to run conditions or return a match. Per statement, in order:
 * slot, principalSlot, Resource (PLAN_NO_RESOURCE, or 1 for NotResource, 0 for Resource),
 * pattern count n, n pattern indices, then memo key count m (or PLAN_NO_CONDITIONS /
 * PLAN_NOT_MEMOISED) and m key indices (see CompiledStatement.memoKeys).
 */
export function planOf(list: readonly CompiledStatement[]): Int32Array {
  const out: number[] = [];
  for (const st of list) {
    out.push(st.slot, st.principalSlot);
    if (st.resource === undefined) out.push(PLAN_NO_RESOURCE, 0);
    else out.push(st.resource.negated ? 1 : 0, st.resource.patterns.length, ...st.resource.patterns);
    if (st.conditions.length === 0) out.push(PLAN_NO_CONDITIONS);
    else if (st.memoKeys === undefined) out.push(PLAN_NOT_MEMOISED);
    else out.push(st.memoKeys.length, ...st.memoKeys);
  }
  return Int32Array.from(out);
}

/** Bit mask of key indices below 32 (larger indices are tracked with EvalScratch.needStamp). */
function maskOf(keys: readonly number[]): number {
  let m = 0;
  for (const k of keys) if (k < 32) m |= 1 << k;
  return m;
}

/** Compiles one (operator, key) condition with its modifiers; the caller supplies the key's value. */
export function compileCondition(c: ConditionAst, version: PolicyVersion): ConditionTest {
  const values = c.values.map((v) => v.value);
  return applyModifiers(compileOperator(c.operator, values, version), c.ifExists, c.set);
}

/**
 * Whether a condition's answer is a function of its key's value alone (no policy variable in
 * its values). INVARIANT: a compiled operator reads the context (or anything else, such as
 * the clock) only to resolve variables; one that did otherwise would have to be reported
 * impure here, or the Condition-block memo (CompiledStatement.memoKeys) would keep stale answers.
 */
function conditionIsPure(c: ConditionAst, version: PolicyVersion): boolean {
  return !takesVariables(c.operator) || c.values.every((v) => !parseTemplate(v.value, version).hasVars);
}

function compileOperator(op: ConditionOperator, values: readonly string[], version: PolicyVersion): CompiledOperator {
  switch (op) {
    case 'StringEquals':
    case 'StringNotEquals':
    case 'StringEqualsIgnoreCase':
    case 'StringNotEqualsIgnoreCase':
    case 'StringLike':
    case 'StringNotLike':
      return compileString(op, values, version);
    case 'NumericEquals':
    case 'NumericNotEquals':
    case 'NumericLessThan':
    case 'NumericLessThanEquals':
    case 'NumericGreaterThan':
    case 'NumericGreaterThanEquals':
      return compileNumeric(op, values, version);
    case 'DateEquals':
    case 'DateNotEquals':
    case 'DateLessThan':
    case 'DateLessThanEquals':
    case 'DateGreaterThan':
    case 'DateGreaterThanEquals':
      return compileDate(op, values, version);
    case 'Bool':
      return compileBool(op, values, version);
    case 'BinaryEquals':
      return compileBinary(op, values, version);
    case 'IpAddress':
    case 'NotIpAddress':
      return compileIp(op, values, version);
    case 'ArnEquals':
    case 'ArnLike':
    case 'ArnNotEquals':
    case 'ArnNotLike':
      return compileArn(op, values, version);
    case 'Null':
      return compileNull(op, values, version);
    default:
      return assertNever(op, 'condition operator');
  }
}

/** Operators whose values may hold policy variables (IAM UG: String, ARN and Bool). */
export function takesVariables(op: ConditionOperator): boolean {
  return op.startsWith('String') || op.startsWith('Arn') || op === 'Bool';
}

// Rough per-evaluation cost, used only to order a statement's conditions.
const COST: Record<ConditionOperator, number> = {
  Null: 0, Bool: 1,
  StringEquals: 1, StringNotEquals: 1, StringEqualsIgnoreCase: 2, StringNotEqualsIgnoreCase: 2, StringLike: 2, StringNotLike: 2,
  NumericEquals: 2, NumericNotEquals: 2, NumericLessThan: 2, NumericLessThanEquals: 2, NumericGreaterThan: 2, NumericGreaterThanEquals: 2,
  DateEquals: 3, DateNotEquals: 3, DateLessThan: 3, DateLessThanEquals: 3, DateGreaterThan: 3, DateGreaterThanEquals: 3,
  IpAddress: 3, NotIpAddress: 3,
  ArnEquals: 4, ArnLike: 4, ArnNotEquals: 4, ArnNotLike: 4,
  BinaryEquals: 4,
};

const ROOT_ARN = /^arn:[^:]*:iam::([^:]+):root$/;
const ACCOUNT_ID = /^\d{12}$/;

function compilePrincipal(p: StatementAst['principal']): CompiledPrincipal {
  if (p === undefined) return { kind: 'none' };
  const accounts = new Set<string>();
  const arns = new Set<string>();
  const services = new Set<string>();
  const federated = new Set<string>();
  let everyone = false;
  const v: PrincipalAst = p.value;
  if (v.kind === 'any') {
    everyone = true;
  } else {
    for (const { value } of v.aws) {
      if (value === '*') everyone = true;
      else if (ACCOUNT_ID.test(value)) accounts.add(value);
      else {
        const root = ROOT_ARN.exec(value);
        if (root !== null) accounts.add(root[1] as string);
        else arns.add(value);
      }
    }
    for (const { value } of v.service) services.add(value.toLowerCase());
    for (const { value } of v.federated) federated.add(value);
    // [CHOICE] CanonicalUser entries name no caller this engine knows (PrincipalFacts
    // carries none), so they never match.
  }
  return { kind: 'named', negated: p.negated, everyone, accounts, arns, services, federated };
}

/** A canonical identity for a compiled principal (equal ids ⇒ same answers). */
function principalId(p: CompiledPrincipal): string {
  if (p.kind === 'none') return 'none';
  const sorted = (set: ReadonlySet<string>): string[] => [...set].sort();
  return JSON.stringify([p.negated, p.everyone, sorted(p.accounts), sorted(p.arns), sorted(p.services), sorted(p.federated)]);
}

function serviceOf(pattern: string): string | undefined {
  const colon = pattern.indexOf(':');
  if (colon < 0) return undefined;
  const svc = pattern.slice(0, colon);
  return svc.includes('*') || svc.includes('?') ? undefined : svc.toLowerCase();
}

function indexByService(asts: readonly StatementAst[], compiled: readonly CompiledStatement[]): {
  byService: Map<string, CompiledStatement[]>;
  otherServices: CompiledStatement[];
} {
  // Per statement: the literal services its Action names, or null when it can match any
  // service (NotAction, or a wildcard before the colon such as "*").
  const services = asts.map((s): Set<string> | null => {
    if (s.action.negated) return null;
    const set = new Set<string>();
    for (const { value } of s.action.values) {
      const svc = serviceOf(value);
      if (svc === undefined) {
        // A pattern without a colon can only match an action without one unless it has a
        // wildcard; either way it is not tied to one service.
        return null;
      }
      set.add(svc);
    }
    return set;
  });
  const all = new Set<string>();
  for (const s of services) if (s !== null) for (const x of s) all.add(x);
  const byService = new Map<string, CompiledStatement[]>();
  for (const svc of all) {
    byService.set(svc, compiled.filter((_, i) => services[i] === null || (services[i] as Set<string>).has(svc)));
  }
  const otherServices = compiled.filter((_, i) => services[i] === null);
  return { byService, otherServices };
}
