/**
 * Test-only: a tiny JSON → PolicyAst builder for the evaluation tests (independent of
 * parse.ts, which is developed separately and validates; this one only normalises), and
 * request builders. Not for production use.
 */
import { CONDITION_OPERATORS, type ConditionAst, type ConditionOperator, type PolicyAst, type PrincipalAst, type SetQualifier, type StatementAst } from '../../src/iam/policy/ast.js';
import type { ContextValue, EvalRequest, PrincipalFacts } from '../../src/iam/policy/request.js';

type OneOrMany<T> = T | T[];
type Scalar = string | number | boolean;

/** A statement as written in IAM JSON (the subset the tests need). */
export interface StatementJson {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: '*' | Record<string, OneOrMany<string>>;
  NotPrincipal?: '*' | Record<string, OneOrMany<string>>;
  Action?: OneOrMany<string>;
  NotAction?: OneOrMany<string>;
  Resource?: OneOrMany<string>;
  NotResource?: OneOrMany<string>;
  Condition?: Record<string, Record<string, OneOrMany<Scalar>>>;
}

/** A policy document as written in IAM JSON. */
export interface PolicyJson {
  Version?: '2012-10-17' | '2008-10-17';
  Id?: string;
  Statement: OneOrMany<StatementJson>;
}

const many = <T>(v: OneOrMany<T> | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Splits `ForAnyValue:StringLikeIfExists` into operator, IfExists and set qualifier. */
export function splitOperator(text: string): { operator: ConditionOperator; ifExists: boolean; set: SetQualifier | null } {
  let rest = text;
  let set: SetQualifier | null = null;
  for (const q of ['ForAnyValue', 'ForAllValues'] as const) {
    if (rest.startsWith(`${q}:`)) {
      set = q;
      rest = rest.slice(q.length + 1);
    }
  }
  let ifExists = false;
  if (rest.endsWith('IfExists') && rest !== 'IfExists') {
    ifExists = true;
    rest = rest.slice(0, -'IfExists'.length);
  }
  if (!(CONDITION_OPERATORS as readonly string[]).includes(rest)) throw new Error(`unknown operator ${text}`);
  return { operator: rest as ConditionOperator, ifExists, set };
}

function principal(v: '*' | Record<string, OneOrMany<string>>, pointer: string): PrincipalAst {
  if (v === '*') return { kind: 'any', pointer };
  const keys = Object.keys(v);
  if (keys.length === 1 && keys[0] === 'AWS' && many(v.AWS).length === 1 && many(v.AWS)[0] === '*') return { kind: 'any', pointer };
  const loc = (k: string): { value: string; pointer: string }[] => many(v[k]).map((value, i) => ({ value, pointer: `${pointer}/${k}/${i}` }));
  return { kind: 'set', pointer, aws: loc('AWS'), service: loc('Service'), federated: loc('Federated'), canonicalUser: loc('CanonicalUser') };
}

/** Normalises a policy document into the AST evaluation consumes. */
export function astFromJson(doc: PolicyJson): PolicyAst {
  const statements: StatementAst[] = many(doc.Statement).map((s, index) => {
    const pointer = `/Statement/${index}`;
    const list = (name: string, values: OneOrMany<string> | undefined, negated: boolean) => ({
      negated,
      pointer: `${pointer}/${name}`,
      values: many(values).map((value, i) => ({ value, pointer: `${pointer}/${name}/${i}` })),
    });
    const conditions: ConditionAst[] = [];
    for (const [opText, byKey] of Object.entries(s.Condition ?? {})) {
      const op = splitOperator(opText);
      for (const [key, vals] of Object.entries(byKey)) {
        conditions.push({
          pointer: `${pointer}/Condition/${opText}/${key}`,
          operatorText: opText,
          ...op,
          key,
          keyLower: key.toLowerCase(),
          values: many(vals).map((x, i) => ({ value: String(x), pointer: `${pointer}/Condition/${opText}/${key}/${i}` })),
        });
      }
    }
    const p = s.Principal ?? s.NotPrincipal;
    return {
      index,
      pointer,
      sid: s.Sid,
      effect: s.Effect,
      principal: p === undefined ? undefined : { negated: s.Principal === undefined, value: principal(p, `${pointer}/${s.Principal === undefined ? 'NotPrincipal' : 'Principal'}`) },
      action: s.NotAction !== undefined ? list('NotAction', s.NotAction, true) : list('Action', s.Action, false),
      resource: s.NotResource !== undefined ? list('NotResource', s.NotResource, true)
        : s.Resource !== undefined ? list('Resource', s.Resource, false) : undefined,
      conditions,
    };
  });
  return { version: doc.Version ?? '2008-10-17', versionGiven: doc.Version !== undefined, id: doc.Id, statements };
}

/** A context map from written key names (lower-cased here, as request-context.ts does). */
export function contextOf(entries: Record<string, ContextValue | undefined>): Map<string, ContextValue> {
  const m = new Map<string, ContextValue>();
  for (const [k, v] of Object.entries(entries)) if (v !== undefined) m.set(k.toLowerCase(), v);
  return m;
}

/** An IAM user of an account. */
export function iamUser(account: string, name: string): PrincipalFacts {
  return { kind: 'aws', account, arns: [`arn:aws:iam::${account}:user/${name}`], isRoot: false };
}

/** An account's root user. */
export function rootUser(account: string): PrincipalFacts {
  return { kind: 'aws', account, arns: [`arn:aws:iam::${account}:root`], isRoot: true };
}

/** An assumed-role session. */
export function roleSession(account: string, role: string, session: string): PrincipalFacts {
  return { kind: 'aws', account, arns: [`arn:aws:sts::${account}:assumed-role/${role}/${session}`, `arn:aws:iam::${account}:role/${role}`], isRoot: false };
}

/** A request with defaults for the parts a test does not care about. */
export function request(r: Partial<EvalRequest> & { context?: Map<string, ContextValue> }): EvalRequest {
  return {
    action: r.action ?? 's3:GetObject',
    resource: r.resource ?? 'arn:aws:s3:::bucket/key',
    principal: r.principal ?? iamUser('111122223333', 'alice'),
    context: r.context ?? new Map(),
  };
}
