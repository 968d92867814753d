import { canonicalizeWireQueryComponent, percentDecode } from './uri-encode.js';

/** One `name[=value]` pair of a raw query string. */
export interface QueryParam {
  /** Decoded name ('+' read as a space). */
  readonly name: string;
  /** Decoded value; '' when the pair has no '='. */
  readonly value: string;
  /** Whether the pair had an '=' (SigV2's sub-resources keep the distinction). */
  readonly hasValue: boolean;
  /** The name as it appears in a SigV4 canonical query string. */
  readonly encName: string;
  /** The value as it appears in a SigV4 canonical query string. */
  readonly encValue: string;
}

const NO_PARAMS: readonly QueryParam[] = Object.freeze([]);

/** Splits a raw query string (without '?') into its pairs, keeping both decoded and canonical forms; empty pairs are dropped. */
export function parseQuery(rawQuery: string): readonly QueryParam[] {
  if (rawQuery.length === 0) return NO_PARAMS;
  const out: QueryParam[] = [];
  let start = 0;
  const n = rawQuery.length;
  while (start <= n) {
    let end = rawQuery.indexOf('&', start);
    if (end < 0) end = n;
    if (end > start) {
      const eq = rawQuery.indexOf('=', start);
      const hasValue = eq >= 0 && eq < end;
      const rawName = rawQuery.slice(start, hasValue ? eq : end);
      const rawValue = hasValue ? rawQuery.slice(eq + 1, end) : '';
      out.push({
        name: percentDecode(rawName, true),
        value: rawValue.length === 0 ? '' : percentDecode(rawValue, true),
        hasValue,
        encName: canonicalizeWireQueryComponent(rawName),
        encValue: rawValue.length === 0 ? '' : canonicalizeWireQueryComponent(rawValue),
      });
    }
    start = end + 1;
  }
  return out;
}

/** The decoded value of the first parameter called `name` (case-sensitive, as AWS matches them), or undefined. */
export function queryValue(params: readonly QueryParam[], name: string): string | undefined {
  for (const p of params) if (p.name === name) return p.value;
  return undefined;
}

/** Like queryValue, but matching the name case-insensitively (`name` given in lower case). */
export function queryValueIgnoreCase(params: readonly QueryParam[], lowerName: string): string | undefined {
  for (const p of params) if (p.name.length === lowerName.length && p.name.toLowerCase() === lowerName) return p.value;
  return undefined;
}
