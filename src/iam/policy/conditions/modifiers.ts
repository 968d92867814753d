/**
 * The one interface every operator family compiles to, and the modifiers that wrap it:
 * `…IfExists`, `ForAnyValue:` and `ForAllValues:` are applied here, generically, never
 * as separate operator names. Pure: no I/O.
 *
 * Semantics (IAM UG "Condition operators", "Single-valued vs. multivalued context keys"):
 * - a family answers one question: does ONE request value match AT LEAST ONE policy value
 *   (values are OR-ed); a negated operator (StringNotEquals, NotIpAddress, …) is the
 *   negation of that answer, i.e. the request value matches NONE of them (NOR);
 * - key absent: positive ⇒ false, negated ⇒ true, `IfExists` ⇒ true, ForAllValues ⇒ true
 *   (vacuous), ForAnyValue ⇒ false (true with IfExists);
 * - ForAnyValue: some request value satisfies the operator; ForAllValues: every one does;
 *   a single-valued key is a one-element set;
 * - [CHOICE] a plain operator on a multi-valued value: positive ⇒ some element matches,
 *   negated ⇒ no element matches (the negation of the positive form, as for one value);
 * - [CHOICE] an empty multi-valued value is treated as an absent key everywhere (AWS omits
 *   empty multi-valued keys, e.g. aws:TagKeys without tags, from the request context);
 * - Null ignores IfExists and set qualifiers: it tests presence of the key, nothing else.
 */
import type { ConditionOperator, PolicyVersion, SetQualifier } from '../ast.js';
import type { ContextValue } from '../request.js';
import type { Context } from '../variables.js';

/** Does one request value match at least one of the policy values (the positive sense)? */
export type ValueTest = (requestValue: string, ctx: Context) => boolean;

/** What an operator family compiles one (operator, policy values) pair into. */
export type CompiledOperator =
  /** A value comparison; `negated` marks the Not… operators (NOR over the policy values). */
  | { kind: 'value'; negated: boolean; test: ValueTest }
  /** A presence test (Null): the answer for an absent key and for a present one. */
  | { kind: 'presence'; whenAbsent: boolean; whenPresent: boolean };

/** An operator family: compiles the policy values of one of its operators, once. */
export type OperatorFamily<Op extends ConditionOperator = ConditionOperator> = (
  op: Op,
  values: readonly string[],
  version: PolicyVersion,
) => CompiledOperator;

/**
 * A compiled (operator, key) condition: true when the key's value (undefined = absent)
 * satisfies it; `ctx` is only for resolving policy variables. The caller looks the key up,
 * so one lookup per key serves every statement (see evaluate.ts).
 */
export type ConditionTest = (value: ContextValue | undefined, ctx: Context) => boolean;

/** True when a context value counts as absent (missing, or an empty multi-valued value). */
export function isAbsent(v: ContextValue | undefined): v is undefined | readonly [] {
  return v === undefined || (typeof v !== 'string' && v.length === 0);
}

/** Wraps a compiled operator with the condition's IfExists flag and set qualifier. */
export function applyModifiers(op: CompiledOperator, ifExists: boolean, set: SetQualifier | null): ConditionTest {
  if (op.kind === 'presence') {
    const { whenAbsent, whenPresent } = op;
    return (v) => (isAbsent(v) ? whenAbsent : whenPresent);
  }
  const { negated } = op;
  const test = op.test;
  const whenAbsent = set === 'ForAllValues' ? true : set === 'ForAnyValue' ? ifExists : ifExists || negated;

  if (set === 'ForAllValues') {
    return (v, ctx) => {
      if (v === undefined) return whenAbsent;
      if (typeof v === 'string') return test(v, ctx) !== negated;
      if (v.length === 0) return whenAbsent;
      for (const x of v) if (test(x, ctx) === negated) return false;
      return true;
    };
  }
  if (set === 'ForAnyValue') {
    return (v, ctx) => {
      if (v === undefined) return whenAbsent;
      if (typeof v === 'string') return test(v, ctx) !== negated;
      if (v.length === 0) return whenAbsent;
      for (const x of v) if (test(x, ctx) !== negated) return true;
      return false;
    };
  }
  return (v, ctx) => {
    if (v === undefined) return whenAbsent;
    if (typeof v === 'string') return test(v, ctx) !== negated;
    if (v.length === 0) return whenAbsent;
    let any = false;
    for (const x of v) {
      if (test(x, ctx)) {
        any = true;
        break;
      }
    }
    return any !== negated;
  };
}

