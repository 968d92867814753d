/**
 * String operators. StringEquals/StringNotEquals: exact and case-sensitive, `*` is a
 * literal character. …IgnoreCase: equal after `foldCase`. StringLike/StringNotLike:
 * case-sensitive glob (`*`, `?`; both cross `/` and `:`). Policy variables are allowed in
 * all of them (Version 2012-10-17); a value whose variable has no value and no default
 * matches nothing. Pure: no I/O.
 */
import type { ConditionOperator, PolicyVersion } from '../ast.js';
import { compileGlob, foldCase, type Glob } from '../glob.js';
import { parseTemplate, resolveString, staticParts, staticString, templateGlob, type Context, type Template } from '../variables.js';
import type { CompiledOperator, OperatorFamily, ValueTest } from './modifiers.js';

/** The operators of this family. */
export type StringOperator = Extract<ConditionOperator, `String${string}`>;

/** Compiles a String* operator with its policy values. */
export const compileString: OperatorFamily<StringOperator> = (op, values, version): CompiledOperator => {
  switch (op) {
    case 'StringEquals':
      return { kind: 'value', negated: false, test: equalsTest(values, version, false) };
    case 'StringNotEquals':
      return { kind: 'value', negated: true, test: equalsTest(values, version, false) };
    case 'StringEqualsIgnoreCase':
      return { kind: 'value', negated: false, test: equalsTest(values, version, true) };
    case 'StringNotEqualsIgnoreCase':
      return { kind: 'value', negated: true, test: equalsTest(values, version, true) };
    case 'StringLike':
      return { kind: 'value', negated: false, test: likeTest(values, version) };
    case 'StringNotLike':
      return { kind: 'value', negated: true, test: likeTest(values, version) };
  }
};

function equalsTest(values: readonly string[], version: PolicyVersion, ignoreCase: boolean): ValueTest {
  const fixed = new Set<string>();
  const dynamic: Template[] = [];
  for (const raw of values) {
    const t = parseTemplate(raw, version);
    if (t.hasVars) dynamic.push(t);
    else fixed.add(ignoreCase ? foldCase(staticString(t)) : staticString(t));
  }
  if (dynamic.length === 0) {
    if (fixed.size === 1) {
      const only = fixed.values().next().value as string;
      return ignoreCase ? (v) => foldCase(v) === only : (v) => v === only;
    }
    if (fixed.size <= 8) {
      // A few values: comparing is cheaper than hashing (unequal lengths fail at once).
      const list = [...fixed];
      const has = (x: string): boolean => {
        for (let i = 0; i < list.length; i++) if (list[i] === x) return true;
        return false;
      };
      return ignoreCase ? (v) => has(foldCase(v)) : has;
    }
    return ignoreCase ? (v) => fixed.has(foldCase(v)) : (v) => fixed.has(v);
  }
  return (v, ctx) => {
    const x = ignoreCase ? foldCase(v) : v;
    if (fixed.has(x)) return true;
    for (const t of dynamic) {
      const s = resolveString(t, ctx);
      if (s !== undefined && (ignoreCase ? foldCase(s) : s) === x) return true;
    }
    return false;
  };
}

function likeTest(values: readonly string[], version: PolicyVersion): ValueTest {
  const fixed: Glob[] = [];
  const dynamic: ((ctx: Context) => Glob | undefined)[] = [];
  for (const raw of values) {
    const t = parseTemplate(raw, version);
    if (t.hasVars) dynamic.push(templateGlob(t));
    else fixed.push(compileGlob(staticParts(t)));
  }
  if (fixed.some((g) => g.matchesAll)) return () => true;
  if (dynamic.length === 0 && fixed.length === 1) {
    const g = fixed[0] as Glob;
    return (v) => g.test(v);
  }
  return (v, ctx) => {
    for (const g of fixed) if (g.test(v)) return true;
    for (const resolve of dynamic) {
      const g = resolve(ctx);
      if (g !== undefined && g.test(v)) return true;
    }
    return false;
  };
}
