/**
 * TEST ORACLE ONLY — never used to authorise a request. A slow, literal transcription of
 * the documented evaluation of one policy (IAM UG "Policy evaluation logic", "Condition
 * operators", "Policy variables", "Using wildcards in resource ARNs", "NotPrincipal"),
 * working directly on the AST: nothing is compiled, every string is re-read on every call,
 * wildcards are matched by a memoised recursive matcher, numbers with BigInt, dates with
 * Date, IP addresses with ipaddr.js. It shares no code with compile.ts / evaluate.ts /
 * glob.ts / arn.ts / variables.ts / conditions/, so test/differential can hold the two
 * against each other. The [CHOICE]s documented there are transcribed here, not imported.
 */
import ipaddr from 'ipaddr.js';
import type { ConditionAst, PolicyAst, PolicyVersion, StatementAst } from './ast.js';
import type { ContextValue, EvalRequest, PolicyResult, PrincipalFacts, PrincipalMatch, StatementMatch } from './request.js';

type Ctx = ReadonlyMap<string, ContextValue>;

/** A pattern element: a character (possibly an ARN segment separator), `*` or `?`. */
type Tok = { t: 'c'; c: string; sep: boolean } | { t: 'star' } | { t: 'one' };

/** Reference evaluation of one policy (see file comment). */
export function referenceEvaluate(ast: PolicyAst, r: EvalRequest): PolicyResult {
  const matches: StatementMatch[] = [];
  const missingKeys: string[] = [];
  const missingSeen = new Set<string>();
  // A key is reported as first written anywhere in the policy.
  const firstWritten = new Map<string, string>();
  for (const st of ast.statements) {
    for (const k of [...resourceKeysNeeded(st, ast.version), ...conditionKeysNeeded(st, ast.version)]) {
      if (!firstWritten.has(k.toLowerCase())) firstWritten.set(k.toLowerCase(), k);
    }
  }
  for (const st of ast.statements) {
    if (!actionApplies(st, r.action)) continue;
    const pm = principalApplies(st, r.principal);
    if (pm === null) continue;
    const reportMissing = (keys: string[]): void => {
      for (const k of keys) {
        if (present(r.context.get(k.toLowerCase()))) continue;
        if (missingSeen.has(k.toLowerCase())) continue;
        missingSeen.add(k.toLowerCase());
        missingKeys.push(firstWritten.get(k.toLowerCase()) ?? k);
      }
    };
    // Resource variables are needed once Action and Principal match ...
    reportMissing(resourceKeysNeeded(st, ast.version));
    if (st.resource !== undefined) {
      const listed = st.resource.values.some((v) => arnLike(v.value, r.resource, ast.version, r.context));
      if (st.resource.negated ? listed : !listed) continue;
    }
    // ... condition keys once the Resource matches too.
    reportMissing(conditionKeysNeeded(st, ast.version));
    if (!st.conditions.every((c) => conditionHolds(c, r.context, ast.version))) continue;
    matches.push({ index: st.index, sid: st.sid, effect: st.effect, principalMatch: pm });
  }
  // Reported in policy order: the order in which keys first appear in the document.
  const order = [...firstWritten.keys()];
  missingKeys.sort((a, b) => order.indexOf(a.toLowerCase()) - order.indexOf(b.toLowerCase()));
  return { matches, missingKeys };
}

function present(v: ContextValue | undefined): boolean {
  if (v === undefined) return false;
  if (typeof v === 'string') return true;
  return v.length > 0;
}

// ---------------------------------------------------------------- wildcards

function textTokens(s: string, wild: boolean): Tok[] {
  const out: Tok[] = [];
  for (const c of s.split('')) {
    if (wild && c === '*') out.push({ t: 'star' });
    else if (wild && c === '?') out.push({ t: 'one' });
    else out.push({ t: 'c', c, sep: c === ':' });
  }
  return out;
}

function literalTokens(s: string): Tok[] {
  return s.split('').map((c): Tok => ({ t: 'c', c, sep: false }));
}

/** Memoised recursive wildcard match of tokens against s (whole string). */
function wildMatch(p: Tok[], s: string): boolean {
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = i * (s.length + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let res: boolean;
    if (i === p.length) res = j === s.length;
    else {
      const tok = p[i] as Tok;
      if (tok.t === 'star') res = go(i + 1, j) || (j < s.length && go(i, j + 1));
      else if (j === s.length) res = false;
      else if (tok.t === 'one') res = go(i + 1, j + 1);
      else res = tok.c === s[j] && go(i + 1, j + 1);
    }
    memo.set(key, res);
    return res;
  };
  return go(0, 0);
}

// ---------------------------------------------------------------- policy variables

/**
 * Expands a policy value into pattern tokens: text keeps its wildcards (when `wild`),
 * `${*}` `${?}` `${$}` and variable values are literal. null = a variable has no value
 * and no default (the value then matches nothing).
 */
function expand(value: string, version: PolicyVersion, ctx: Ctx, wild: boolean): Tok[] | null {
  if (version !== '2012-10-17') return textTokens(value, wild);
  const out: Tok[] = [];
  let i = 0;
  while (i < value.length) {
    if (value[i] === '$' && value[i + 1] === '{') {
      const j = value.indexOf('}', i + 2);
      if (j >= 0) {
        const inner = value.slice(i + 2, j);
        if (inner === '*' || inner === '?' || inner === '$') {
          out.push(...literalTokens(inner));
          i = j + 1;
          continue;
        }
        const comma = inner.indexOf(',');
        const key = (comma < 0 ? inner : inner.slice(0, comma)).trim();
        let ok = key !== '' && !key.includes('$') && !key.includes('{') && !key.includes('}') && !key.includes("'");
        let dflt: string | undefined;
        if (ok && comma >= 0) {
          const d = inner.slice(comma + 1).trim();
          if (d.length >= 2 && d.startsWith("'") && d.endsWith("'")) dflt = d.slice(1, d.length - 1);
          else ok = false;
        }
        if (ok) {
          const v = ctx.get(key.toLowerCase());
          if (typeof v === 'string') out.push(...literalTokens(v));
          else if (dflt !== undefined) out.push(...literalTokens(dflt));
          else return null;
          i = j + 1;
          continue;
        }
        out.push(...textTokens('${', wild));
        i += 2;
        continue;
      }
    }
    out.push(...textTokens(value[i] as string, wild));
    i += 1;
  }
  return out;
}

/** The oracle's wildcard match on a plain pattern (all `*`/`?` wildcards), for glob tests. */
export function referenceWildcardMatch(pattern: string, s: string): boolean {
  return wildMatch(textTokens(pattern, true), s);
}

function tokensToString(toks: Tok[]): string {
  return toks.map((t) => (t.t === 'c' ? t.c : t.t === 'star' ? '*' : '?')).join('');
}

/** Variable keys without a default in a value (as written), in order. */
function requiredVariableKeys(value: string, version: PolicyVersion): string[] {
  if (version !== '2012-10-17') return [];
  const out: string[] = [];
  let i = 0;
  while (i < value.length) {
    if (value[i] === '$' && value[i + 1] === '{') {
      const j = value.indexOf('}', i + 2);
      if (j >= 0) {
        const inner = value.slice(i + 2, j);
        if (inner === '*' || inner === '?' || inner === '$') {
          i = j + 1;
          continue;
        }
        const comma = inner.indexOf(',');
        const key = (comma < 0 ? inner : inner.slice(0, comma)).trim();
        let ok = key !== '' && !key.includes('$') && !key.includes('{') && !key.includes('}') && !key.includes("'");
        if (ok && comma >= 0) {
          const d = inner.slice(comma + 1).trim();
          if (d.length >= 2 && d.startsWith("'") && d.endsWith("'")) {
            i = j + 1;
            continue; // has a default: never missing
          }
          ok = false;
        }
        if (ok) {
          out.push(key);
          i = j + 1;
          continue;
        }
        i += 2;
        continue;
      }
    }
    i += 1;
  }
  return out;
}

function resourceKeysNeeded(st: StatementAst, version: PolicyVersion): string[] {
  return (st.resource?.values ?? []).flatMap((v) => requiredVariableKeys(v.value, version));
}

function conditionKeysNeeded(st: StatementAst, version: PolicyVersion): string[] {
  const out: string[] = [];
  const add = (k: string): void => {
    out.push(k);
  };
  for (const c of st.conditions) {
    add(c.key);
    const op = c.operator;
    if (op.startsWith('String') || op.startsWith('Arn') || op === 'Bool') {
      for (const v of c.values) requiredVariableKeys(v.value, version).forEach(add);
    }
  }
  return out;
}

// ---------------------------------------------------------------- Action, Resource, ARNs

function actionApplies(st: StatementAst, action: string): boolean {
  const listed = st.action.values.some((v) => wildMatch(textTokens(v.value.toLowerCase(), true), action.toLowerCase()));
  return st.action.negated ? !listed : listed;
}

/** Splits a string at its first five colons. */
function splitAtFiveColons(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (const c of s.split('')) {
    if (c === ':' && out.length < 5) {
      out.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  out.push(cur);
  return out;
}

/** Splits tokens at the first five separator colons (colons of policy text). */
function splitTokens(toks: Tok[]): Tok[][] {
  const out: Tok[][] = [[]];
  for (const t of toks) {
    if (t.t === 'c' && t.sep && out.length < 6) out.push([]);
    else (out[out.length - 1] as Tok[]).push(t);
  }
  return out;
}

/**
 * ArnLike / Resource matching: six colon-separated parts matched one by one; a pattern
 * with fewer parts matches when its last part ends in a `*` wildcard, which then covers
 * the rest of the ARN (IAM UG: a segment-final `*` may expand beyond colons).
 */
function arnLike(pattern: string, arn: string, version: PolicyVersion, ctx: Ctx): boolean {
  const toks = expand(pattern, version, ctx, true);
  if (toks === null) return false;
  const pSegs = splitTokens(toks);
  const aSegs = splitAtFiveColons(arn);
  if (pSegs.length > aSegs.length) return false;
  if (pSegs.length < aSegs.length) {
    const last = pSegs[pSegs.length - 1] as Tok[];
    if (last.length === 0 || (last[last.length - 1] as Tok).t !== 'star') return false;
  }
  for (let k = 0; k < pSegs.length; k++) {
    if (!wildMatch(pSegs[k] as Tok[], aSegs[k] as string)) return false;
  }
  return true;
}

// ---------------------------------------------------------------- Principal

function principalApplies(st: StatementAst, who: PrincipalFacts): PrincipalMatch | null {
  const p = st.principal;
  if (p === undefined) return 'none';
  const v = p.value;
  const aws = v.kind === 'any' ? ['*'] : v.aws.map((x) => x.value);
  const services = v.kind === 'any' ? [] : v.service.map((x) => x.value.toLowerCase());
  const federated = v.kind === 'any' ? [] : v.federated.map((x) => x.value);
  const star = aws.includes('*');
  const namesAccount = (acct: string): boolean => aws.some((e) => (/^\d{12}$/.test(e) && e === acct) || rootAccountOf(e) === acct);
  const namesArn = (arn: string): boolean => aws.some((e) => e === arn && rootAccountOf(e) === undefined && !/^\d{12}$/.test(e));

  if (p.negated) {
    // NotPrincipal applies unless the caller is named; a user/role/session counts as
    // named only together with its account (AWS may check the account first).
    let named: boolean;
    if (star) named = true;
    else if (who.kind === 'anonymous') named = false;
    else if (who.kind === 'service') named = services.includes(who.service.toLowerCase());
    else if (who.kind === 'federated') named = federated.includes(who.provider);
    else named = namesAccount(who.account) && (who.isRoot || who.arns.some(namesArn));
    return named ? null : 'any';
  }
  if (who.kind === 'anonymous') return star ? 'any' : null;
  if (who.kind === 'service') {
    if (services.includes(who.service.toLowerCase())) return 'direct';
    return star ? 'any' : null;
  }
  if (who.kind === 'federated') {
    if (federated.includes(who.provider)) return 'direct';
    return star ? 'any' : null;
  }
  if (who.arns.some(namesArn)) return 'direct';
  if (star) return 'any';
  if (namesAccount(who.account)) return 'account';
  return null;
}

function rootAccountOf(entry: string): string | undefined {
  const parts = entry.split(':');
  if (parts.length === 6 && parts[0] === 'arn' && parts[2] === 'iam' && parts[3] === '' && parts[5] === 'root' && parts[4] !== '') {
    return parts[4];
  }
  return undefined;
}

// ---------------------------------------------------------------- Conditions

const NEGATED = new Set([
  'StringNotEquals', 'StringNotEqualsIgnoreCase', 'StringNotLike', 'NumericNotEquals', 'DateNotEquals',
  'NotIpAddress', 'ArnNotEquals', 'ArnNotLike',
]);

function conditionHolds(c: ConditionAst, ctx: Ctx, version: PolicyVersion): boolean {
  const raw = ctx.get(c.keyLower);
  const values: string[] | null = !present(raw) ? null : typeof raw === 'string' ? [raw] : [...(raw as readonly string[])];
  if (c.operator === 'Null') {
    return c.values.some((pv) => {
      const want = pv.value.toLowerCase();
      return (want === 'true' && values === null) || (want === 'false' && values !== null);
    });
  }
  const negated = NEGATED.has(c.operator);
  const matchesSome = (x: string): boolean => c.values.some((pv) => positiveMatch(c.operator, pv.value, x, ctx, version));
  const satisfied = (x: string): boolean => (negated ? !matchesSome(x) : matchesSome(x));
  if (values === null) {
    if (c.set === 'ForAllValues') return true;
    if (c.set === 'ForAnyValue') return c.ifExists;
    return c.ifExists || negated;
  }
  if (c.set === 'ForAllValues') return values.every(satisfied);
  if (c.set === 'ForAnyValue') return values.some(satisfied);
  const some = values.some(matchesSome);
  return negated ? !some : some;
}

/** Does request value x match policy value pv under the operator's positive sense? */
function positiveMatch(op: ConditionAst['operator'], pv: string, x: string, ctx: Ctx, version: PolicyVersion): boolean {
  switch (op) {
    case 'StringEquals':
    case 'StringNotEquals': {
      const t = expand(pv, version, ctx, false);
      return t !== null && tokensToString(t) === x;
    }
    case 'StringEqualsIgnoreCase':
    case 'StringNotEqualsIgnoreCase': {
      const t = expand(pv, version, ctx, false);
      return t !== null && tokensToString(t).toLowerCase() === x.toLowerCase();
    }
    case 'StringLike':
    case 'StringNotLike': {
      const t = expand(pv, version, ctx, true);
      return t !== null && wildMatch(t, x);
    }
    case 'NumericEquals':
    case 'NumericNotEquals':
    case 'NumericLessThan':
    case 'NumericLessThanEquals':
    case 'NumericGreaterThan':
    case 'NumericGreaterThanEquals': {
      const a = refNumber(x);
      const b = refNumber(pv);
      if (a === null || b === null) return false;
      return relation(op.slice('Numeric'.length), cmpBig(a, b));
    }
    case 'DateEquals':
    case 'DateNotEquals':
    case 'DateLessThan':
    case 'DateLessThanEquals':
    case 'DateGreaterThan':
    case 'DateGreaterThanEquals': {
      const a = refInstant(x);
      const b = refInstant(pv);
      if (a === null || b === null) return false;
      return relation(op.slice('Date'.length), a < b ? -1 : a > b ? 1 : 0);
    }
    case 'Bool': {
      const t = expand(pv, version, ctx, false);
      if (t === null) return false;
      const p = tokensToString(t).toLowerCase();
      const q = x.toLowerCase();
      return (p === 'true' || p === 'false') && p === q;
    }
    case 'BinaryEquals': {
      const a = refBase64(x);
      const b = refBase64(pv);
      return a !== null && b !== null && a.length === b.length && a.every((byte, i) => byte === b[i]);
    }
    case 'IpAddress':
    case 'NotIpAddress':
      return refIpInRange(x, pv);
    case 'ArnEquals':
    case 'ArnLike':
    case 'ArnNotEquals':
    case 'ArnNotLike':
      return arnLike(pv, x, version, ctx);
    case 'Null':
      return false;
  }
}

function relation(rel: string, c: number): boolean {
  switch (rel) {
    case 'Equals':
    case 'NotEquals':
      return c === 0;
    case 'LessThan':
      return c < 0;
    case 'LessThanEquals':
      return c <= 0;
    case 'GreaterThan':
      return c > 0;
    case 'GreaterThanEquals':
      return c >= 0;
    default:
      throw new Error(`unknown relation ${rel}`);
  }
}

/** A decimal as an integer scaled by 10^scale. */
function refNumber(s: string): { n: bigint; scale: number } | null {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(s)) return null;
  const neg = s.startsWith('-');
  const body = s.replace(/^[+-]/, '');
  const [i = '', f = ''] = body.split('.');
  const n = BigInt((i === '' ? '0' : i) + f);
  return { n: neg ? -n : n, scale: f.length };
}

function cmpBig(a: { n: bigint; scale: number }, b: { n: bigint; scale: number }): number {
  const s = Math.max(a.scale, b.scale);
  const x = a.n * 10n ** BigInt(s - a.scale);
  const y = b.n * 10n ** BigInt(s - b.scale);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** An instant as BigInt nanoseconds since the epoch. */
function refInstant(s: string): bigint | null {
  const iso = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/.exec(s);
  if (iso !== null) {
    const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', zone = 'Z'] = iso;
    const date = new Date(0);
    date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
    if (date.getUTCFullYear() !== Number(y) || date.getUTCMonth() !== Number(mo) - 1 || date.getUTCDate() !== Number(d)) return null;
    if (Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return null;
    let offsetMin = 0;
    if (zone !== 'Z') {
      const digits = zone.slice(1).replace(':', '');
      const oh = Number(digits.slice(0, 2));
      const om = digits.length > 2 ? Number(digits.slice(2)) : 0;
      if (oh > 23 || om > 59) return null;
      offsetMin = (zone[0] === '+' ? 1 : -1) * (oh * 60 + om);
    }
    const seconds = BigInt(date.getTime() / 1000) + BigInt(Number(h) * 3600 + Number(mi) * 60 + Number(sec)) - BigInt(offsetMin * 60);
    const nanos = BigInt((frac + '000000000').slice(0, 9));
    return seconds * 1_000_000_000n + nanos;
  }
  const epoch = /^(-?)(\d+)(?:\.(\d+))?$/.exec(s);
  if (epoch !== null) {
    const [, sign, whole = '0', frac = ''] = epoch;
    if (BigInt(whole) > BigInt(Number.MAX_SAFE_INTEGER)) return null;
    const v = BigInt(whole) * 1_000_000_000n + BigInt((frac + '000000000').slice(0, 9));
    return sign === '-' ? -v : v;
  }
  return null;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function refBase64(s: string): number[] | null {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) return null;
  const body = s.replace(/=+$/, '');
  let bits = '';
  for (const c of body.split('')) bits += B64.indexOf(c).toString(2).padStart(6, '0');
  const out: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) out.push(parseInt(bits.slice(i, i + 8), 2));
  return out;
}

type Addr = ipaddr.IPv4 | ipaddr.IPv6;

function refParseIp(s: string): Addr | null {
  if (ipaddr.IPv4.isValidFourPartDecimal(s)) return ipaddr.IPv4.parse(s);
  if (s.includes('%') || !s.includes(':') || !ipaddr.IPv6.isValid(s)) return null;
  const a = ipaddr.IPv6.parse(s);
  return a.isIPv4MappedAddress() ? a.toIPv4Address() : a;
}

function refIpInRange(x: string, range: string): boolean {
  const ip = refParseIp(x);
  if (ip === null) return false;
  const [addrText = '', prefixText] = range.split('/', 2);
  if (range.split('/').length > 2) return false;
  const base = refParseIp(addrText);
  if (base === null) return false;
  const max = addrText.includes(':') ? 128 : 32;
  let bits = max;
  if (prefixText !== undefined) {
    if (!/^(0|[1-9]\d{0,2})$/.test(prefixText)) return false;
    bits = Number(prefixText);
    if (bits > max) return false;
  }
  let net: Addr = base;
  if (base.kind() === 'ipv4' && max === 128) {
    if (bits < 96) net = ipaddr.IPv6.parse(addrText);
    else bits -= 96;
  }
  if (net.kind() !== ip.kind()) return false;
  return ip.kind() === 'ipv4' ? (ip as ipaddr.IPv4).match(net as ipaddr.IPv4, bits) : (ip as ipaddr.IPv6).match(net as ipaddr.IPv6, bits);
}
