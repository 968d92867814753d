/**
 * Null: "true" holds when the key is absent from the request context, "false" when it is
 * present (several values are OR-ed; case-insensitive; other text never holds). It tests
 * presence only, so IfExists and set qualifiers do not change it. Pure: no I/O.
 */
import type { ConditionOperator } from '../ast.js';
import { parseBool } from './bool.js';
import type { CompiledOperator, OperatorFamily } from './modifiers.js';

/** The operators of this family. */
export type NullOperator = Extract<ConditionOperator, 'Null'>;

/** Compiles Null with its policy values. */
export const compileNull: OperatorFamily<NullOperator> = (_op, values): CompiledOperator => {
  let whenAbsent = false;
  let whenPresent = false;
  for (const v of values) {
    const b = parseBool(v);
    if (b === true) whenAbsent = true;
    else if (b === false) whenPresent = true;
  }
  return { kind: 'presence', whenAbsent, whenPresent };
};
