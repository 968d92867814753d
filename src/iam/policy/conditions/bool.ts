/**
 * Bool: the request value and a policy value are both "true" or both "false", compared
 * case-insensitively (JSON booleans arrive as those strings). Any other text never
 * matches. Policy variables are allowed (Version 2012-10-17). Pure: no I/O.
 */
import type { ConditionOperator } from '../ast.js';
import { parseTemplate, resolveString, staticString, type Template } from '../variables.js';
import type { CompiledOperator, OperatorFamily } from './modifiers.js';

/** The operators of this family. */
export type BoolOperator = Extract<ConditionOperator, 'Bool'>;

/** Parses "true"/"false" in any case, or undefined. */
export function parseBool(s: string): boolean | undefined {
  if (s === 'true') return true;
  if (s === 'false') return false;
  if (s.length === 4 && s.toLowerCase() === 'true') return true;
  if (s.length === 5 && s.toLowerCase() === 'false') return false;
  return undefined;
}

/** Compiles Bool with its policy values. */
export const compileBool: OperatorFamily<BoolOperator> = (_op, values, version): CompiledOperator => {
  let wantTrue = false;
  let wantFalse = false;
  const dynamic: Template[] = [];
  for (const raw of values) {
    const t = parseTemplate(raw, version);
    if (t.hasVars) {
      dynamic.push(t);
      continue;
    }
    const b = parseBool(staticString(t));
    if (b === true) wantTrue = true;
    else if (b === false) wantFalse = true;
  }
  return {
    kind: 'value',
    negated: false,
    test: (v, ctx) => {
      const r = parseBool(v);
      if (r === undefined) return false;
      if (r ? wantTrue : wantFalse) return true;
      for (const t of dynamic) {
        const s = resolveString(t, ctx);
        if (s !== undefined && parseBool(s) === r) return true;
      }
      return false;
    },
  };
};
