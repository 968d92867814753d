/**
 * Date operators. Values (policy and request alike) are ISO 8601 instants or epoch
 * seconds; they are compared as instants, exactly (seconds + nanoseconds). Accepted text
 * [CHOICE where AWS is silent]:
 * - epoch seconds: optional `-`, digits, optional `.digits` (`1767225600`, `1767225600.5`);
 *   an all-digit value is always epoch seconds, never a year;
 * - `YYYY-MM-DD` (midnight UTC), `YYYY-MM-DDThh:mm`, `YYYY-MM-DDThh:mm:ss`, optional
 *   `.fraction` on the seconds (digits beyond nanoseconds are ignored), then optional
 *   `Z`, `±hh:mm`, `±hhmm` or `±hh`; no zone means UTC. Fields are range-checked
 *   (no Feb 30, no 24:00, no leap second).
 * Anything else never matches (so DateNotEquals is true for it). No policy variables.
 * Pure: no I/O.
 */
import type { ConditionOperator } from '../ast.js';
import type { CompiledOperator, OperatorFamily, ValueTest } from './modifiers.js';

/** The operators of this family. */
export type DateOperator = Extract<ConditionOperator, `Date${string}`>;

/** An instant: whole seconds since the epoch (floor) and 0 ≤ nanos < 1e9. */
export interface Instant {
  sec: number;
  nanos: number;
}

function digitsAt(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (!(c >= 0 && c <= 9)) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Nanoseconds from a fraction's digits (s[from, to)), truncated to nine digits. */
function fractionNanos(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = 0; i < 9; i++) n = n * 10 + (from + i < to ? s.charCodeAt(from + i) - 48 : 0);
  return n;
}

function allDigits(s: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function parseEpoch(s: string): Instant | undefined {
  const neg = s.charCodeAt(0) === 45;
  const start = neg ? 1 : 0;
  const dot = s.indexOf('.', start);
  const intEnd = dot < 0 ? s.length : dot;
  if (!allDigits(s, start, intEnd)) return undefined;
  if (dot >= 0 && !allDigits(s, dot + 1, s.length)) return undefined;
  const whole = Number(s.slice(start, intEnd));
  if (!Number.isSafeInteger(whole)) return undefined;
  const nanos = dot < 0 ? 0 : fractionNanos(s, dot + 1, s.length);
  if (!neg) return { sec: whole, nanos };
  return nanos === 0 ? { sec: -whole, nanos: 0 } : { sec: -whole - 1, nanos: 1e9 - nanos };
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(y: number, m: number): number {
  if (m === 2 && ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0)) return 29;
  return DAYS[m - 1] as number;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Date.UTC maps years 0–99 to 19xx). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function parseIso(s: string): Instant | undefined {
  if (s.length < 10 || s[4] !== '-' || s[7] !== '-') return undefined;
  const y = digitsAt(s, 0, 4);
  const mo = digitsAt(s, 5, 2);
  const d = digitsAt(s, 8, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return undefined;
  let h = 0;
  let mi = 0;
  let sec = 0;
  let nanos = 0;
  let offset = 0;
  let i = 10;
  if (i < s.length) {
    if (s[i] !== 'T' || s[i + 3] !== ':') return undefined;
    h = digitsAt(s, i + 1, 2);
    mi = digitsAt(s, i + 4, 2);
    if (h < 0 || h > 23 || mi < 0 || mi > 59) return undefined;
    i += 6;
    if (s[i] === ':') {
      sec = digitsAt(s, i + 1, 2);
      if (sec < 0 || sec > 59) return undefined;
      i += 3;
      if (s[i] === '.') {
        let j = i + 1;
        while (j < s.length && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
        if (j === i + 1) return undefined;
        nanos = fractionNanos(s, i + 1, j);
        i = j;
      }
    }
    if (i < s.length) {
      const z = s[i];
      if (z === 'Z') {
        i += 1;
      } else if (z === '+' || z === '-') {
        const oh = digitsAt(s, i + 1, 2);
        let om = 0;
        let len = 3;
        if (s[i + 3] === ':') {
          om = digitsAt(s, i + 4, 2);
          len = 6;
        } else if (i + 3 < s.length) {
          om = digitsAt(s, i + 3, 2);
          len = 5;
        }
        if (oh < 0 || oh > 23 || om < 0 || om > 59) return undefined;
        offset = (z === '+' ? 1 : -1) * (oh * 3600 + om * 60);
        i += len;
      } else {
        return undefined;
      }
    }
    if (i !== s.length) return undefined;
  }
  const days = daysFromCivil(y, mo, d);
  return { sec: days * 86_400 + h * 3600 + mi * 60 + sec - offset, nanos };
}

/** Parses an ISO 8601 date/date-time or epoch seconds, or undefined. */
export function parseInstant(s: string): Instant | undefined {
  if (s.length === 0) return undefined;
  const c = s.charCodeAt(s.length > 4 ? 4 : 0);
  // A '-' at index 4 means ISO (YYYY-…); anything else must be epoch seconds.
  return c === 45 && s.length >= 10 ? parseIso(s) : parseEpoch(s);
}

/** Compares two instants: negative, zero or positive like a - b. */
export function compareInstant(a: Instant, b: Instant): number {
  return a.sec !== b.sec ? a.sec - b.sec : a.nanos - b.nanos;
}

const RELATIONS: Record<DateOperator, { negated: boolean; holds: (c: number) => boolean }> = {
  DateEquals: { negated: false, holds: (c) => c === 0 },
  DateNotEquals: { negated: true, holds: (c) => c === 0 },
  DateLessThan: { negated: false, holds: (c) => c < 0 },
  DateLessThanEquals: { negated: false, holds: (c) => c <= 0 },
  DateGreaterThan: { negated: false, holds: (c) => c > 0 },
  DateGreaterThanEquals: { negated: false, holds: (c) => c >= 0 },
};

// aws:CurrentTime is one string per request but is compared by many statements: keep the
// last parse (a pure cache — same input, same output).
let lastText: string | undefined;
let lastInstant: Instant | undefined;

function parseCached(s: string): Instant | undefined {
  if (s !== lastText) {
    lastInstant = parseInstant(s);
    lastText = s;
  }
  return lastInstant;
}

/** Compiles a Date* operator: request instant (op) policy instant, for some policy value. */
export const compileDate: OperatorFamily<DateOperator> = (op, values): CompiledOperator => {
  const { negated, holds } = RELATIONS[op];
  const policy: Instant[] = [];
  for (const v of values) {
    const t = parseInstant(v);
    if (t !== undefined) policy.push(t);
  }
  const test: ValueTest = (v) => {
    const r = parseCached(v);
    if (r === undefined) return false;
    for (const p of policy) if (holds(compareInstant(r, p))) return true;
    return false;
  };
  return { kind: 'value', negated, test };
};
