/**
 * Numeric operators: integers and decimals, compared exactly. Accepted text (policy and
 * request alike): optional sign, digits, optional `.` and digits (`1`, `-2.50`, `.5`,
 * `3.`) — [CHOICE] no exponent, no blanks, no hex. A value that is not such a number
 * never matches (so a Not… operator is true for it). No policy variables. Pure: no I/O.
 */
import type { ConditionOperator } from '../ast.js';
import type { CompiledOperator, OperatorFamily, ValueTest } from './modifiers.js';

/** The operators of this family. */
export type NumericOperator = Extract<ConditionOperator, `Numeric${string}`>;

/** A parsed decimal: normalised digits for exact compares, and a double for the fast path. */
export interface Decimal {
  /** The value as a double; exact when `exact`. */
  num: number;
  /** True when the value has at most 15 significant digits (doubles then keep order exactly). */
  exact: boolean;
  /** Sign; false for zero. */
  neg: boolean;
  /** Integer digits without leading zeros ('' for 0). */
  int: string;
  /** Fraction digits without trailing zeros. */
  frac: string;
}

/** Parses a decimal number, or undefined when the text is not one. */
export function parseDecimal(s: string): Decimal | undefined {
  let i = 0;
  let neg = false;
  const c0 = s.charCodeAt(0);
  if (c0 === 43 /* + */ || c0 === 45 /* - */) {
    neg = c0 === 45;
    i = 1;
  }
  const intStart = i;
  while (i < s.length && isDigit(s.charCodeAt(i))) i++;
  const intEnd = i;
  let fracStart = i;
  let fracEnd = i;
  if (i < s.length && s.charCodeAt(i) === 46 /* . */) {
    i++;
    fracStart = i;
    while (i < s.length && isDigit(s.charCodeAt(i))) i++;
    fracEnd = i;
  }
  if (i !== s.length || (intEnd === intStart && fracEnd === fracStart)) return undefined;
  let a = intStart;
  while (a < intEnd && s.charCodeAt(a) === 48) a++;
  let b = fracEnd;
  while (b > fracStart && s.charCodeAt(b - 1) === 48) b--;
  const int = s.slice(a, intEnd);
  const frac = s.slice(fracStart, b);
  const zero = int === '' && frac === '';
  return { num: zero ? 0 : Number(s), exact: int.length + frac.length <= 15, neg: neg && !zero, int, frac };
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Compares two decimals exactly: negative, zero or positive like a - b. */
export function compareDecimal(a: Decimal, b: Decimal): number {
  // INVARIANT: two decimals of at most 15 significant digits round to distinct doubles in
  // the same order, so the double compare is exact for them.
  if (a.exact && b.exact) return a.num < b.num ? -1 : a.num > b.num ? 1 : 0;
  if (a.neg !== b.neg) return a.neg ? -1 : 1;
  const m = magnitude(a, b);
  return a.neg && m !== 0 ? -m : m;
}

function magnitude(a: Decimal, b: Decimal): number {
  if (a.int.length !== b.int.length) return a.int.length < b.int.length ? -1 : 1;
  if (a.int !== b.int) return a.int < b.int ? -1 : 1;
  if (a.frac === b.frac) return 0;
  return a.frac < b.frac ? -1 : 1;
}

type Cmp = (c: number) => boolean;

const RELATIONS: Record<NumericOperator, { negated: boolean; holds: Cmp }> = {
  NumericEquals: { negated: false, holds: (c) => c === 0 },
  NumericNotEquals: { negated: true, holds: (c) => c === 0 },
  NumericLessThan: { negated: false, holds: (c) => c < 0 },
  NumericLessThanEquals: { negated: false, holds: (c) => c <= 0 },
  NumericGreaterThan: { negated: false, holds: (c) => c > 0 },
  NumericGreaterThanEquals: { negated: false, holds: (c) => c >= 0 },
};

/**
 * The value of a plain decimal of at most 15 digits (the common case, exact as a double);
 * NaN when the text is not a decimal or is longer (then parseDecimal decides).
 */
export function quickNumber(s: string): number {
  const n = s.length;
  if (n === 0 || n > 15) return NaN;
  let digits = 0;
  let dot = false;
  let scale = 1;
  let int = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      digits++;
      int = int * 10 + (c - 48);
      if (dot) scale *= 10;
    } else if (c === 46 && !dot) dot = true;
    else if (!((c === 43 || c === 45) && i === 0)) return NaN;
  }
  if (digits === 0) return NaN;
  // INVARIANT: int < 10^15 and scale ≤ 10^15 are exact doubles and IEEE division rounds
  // correctly, so int / scale is the correctly rounded value of the decimal — the same
  // double Number(s) gives (the policy values were parsed with Number).
  const v = int / scale;
  return s.charCodeAt(0) === 45 ? -v : v;
}

/** Compiles a Numeric* operator: request value (op) policy value, for some policy value. */
export const compileNumeric: OperatorFamily<NumericOperator> = (op, values): CompiledOperator => {
  const { negated, holds } = RELATIONS[op];
  const policy: Decimal[] = [];
  for (const v of values) {
    const d = parseDecimal(v);
    if (d !== undefined) policy.push(d);
  }
  const allExact = policy.every((p) => p.exact);
  const nums = policy.map((p) => p.num);
  const test: ValueTest = (v) => {
    if (allExact) {
      // INVARIANT: quickNumber only answers for ≤ 15 significant digits, where doubles
      // compare exactly (see compareDecimal).
      const x = quickNumber(v);
      if (x === x) {
        for (let i = 0; i < nums.length; i++) {
          const y = nums[i] as number;
          if (holds(x < y ? -1 : x > y ? 1 : 0)) return true;
        }
        return false;
      }
    }
    const r = parseDecimal(v);
    if (r === undefined) return false;
    for (const p of policy) if (holds(compareDecimal(r, p))) return true;
    return false;
  };
  return { kind: 'value', negated, test };
};
