/**
 * ARN operators: ArnEquals ≡ ArnLike, ArnNotEquals ≡ ArnNotLike (IAM UG: the Equals forms
 * take wildcards too). Segment-wise, case-sensitive matching as for Resource (../arn.ts);
 * policy variables allowed (Version 2012-10-17). Pure: no I/O.
 */
import type { ConditionOperator } from '../ast.js';
import { ArnSubject, compileArnPattern, type ArnMatcher } from '../arn.js';
import type { CompiledOperator, OperatorFamily } from './modifiers.js';

/** The operators of this family. */
export type ArnOperator = Extract<ConditionOperator, `Arn${string}`>;

/** Compiles an Arn* operator with its policy values. */
export const compileArn: OperatorFamily<ArnOperator> = (op, values, version): CompiledOperator => {
  const patterns: ArnMatcher[] = values.map((v) => compileArnPattern(v, version));
  const negated = op === 'ArnNotEquals' || op === 'ArnNotLike';
  return {
    kind: 'value',
    negated,
    test: (v, ctx) => {
      const subject = new ArnSubject(v);
      for (const p of patterns) if (p.test(subject, ctx)) return true;
      return false;
    },
  };
};
