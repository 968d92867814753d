/**
 * BinaryEquals: policy values are base64; a request value (also base64 text) matches when
 * the decoded bytes are equal. [CHOICE] Only canonical-alphabet, padded base64 is read
 * (`A–Z a–z 0–9 + /`, length a multiple of 4, `=` only as padding); anything else never
 * matches. No policy variables. Pure: no I/O.
 */
import type { ConditionOperator } from '../ast.js';
import type { CompiledOperator, OperatorFamily } from './modifiers.js';

/** The operators of this family. */
export type BinaryOperator = Extract<ConditionOperator, 'BinaryEquals'>;

function isB64Char(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
}

/** Decodes strict padded base64, or undefined when the text is not that. */
export function decodeBase64(s: string): Buffer | undefined {
  if (s.length % 4 !== 0) return undefined;
  let pad = 0;
  if (s.endsWith('==')) pad = 2;
  else if (s.endsWith('=')) pad = 1;
  for (let i = 0; i < s.length - pad; i++) if (!isB64Char(s.charCodeAt(i))) return undefined;
  return Buffer.from(s, 'base64');
}

/** Compiles BinaryEquals with its policy values. */
export const compileBinary: OperatorFamily<BinaryOperator> = (_op, values): CompiledOperator => {
  const policy: Buffer[] = [];
  for (const v of values) {
    const b = decodeBase64(v);
    if (b !== undefined) policy.push(b);
  }
  return {
    kind: 'value',
    negated: false,
    test: (v) => {
      const r = decodeBase64(v);
      if (r === undefined) return false;
      for (const p of policy) if (p.equals(r)) return true;
      return false;
    },
  };
};
