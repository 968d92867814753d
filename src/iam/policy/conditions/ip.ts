/**
 * IpAddress / NotIpAddress: CIDR ranges, IPv4 and IPv6; a bare address is /32 or /128.
 * [CHOICE] IPv4 text must be four-part decimal without leading zeros (`010.0.0.1` is not
 * read as octal, it is not an address); IPv6 is read by ipaddr.js, without zone ids. An
 * IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is normalised to IPv4, and so is a mapped
 * policy range with prefix ≥ 96 (`::ffff:10.0.0.0/104` ≡ `10.0.0.0/8`). An IPv4 address
 * never matches an IPv6 range and vice versa. A range with host bits set is its network
 * (`10.1.2.3/8` ≡ `10.0.0.0/8`). Unreadable values never match. No policy variables.
 * Pure: no I/O.
 */
import ipaddr from 'ipaddr.js';
import type { ConditionOperator } from '../ast.js';
import type { CompiledOperator, OperatorFamily, ValueTest } from './modifiers.js';

/** The operators of this family. */
export type IpOperator = Extract<ConditionOperator, 'IpAddress' | 'NotIpAddress'>;

/** A parsed address: IPv4 as an unsigned 32-bit number, IPv6 as eight 16-bit groups. */
export type Ip = { v: 4; n: number } | { v: 6; parts: readonly number[] };

/** A parsed range. */
export type Cidr = { v: 4; net: number; mask: number } | { v: 6; parts: readonly number[]; bits: number };

/** Parses a strict four-part decimal IPv4 address to a uint32, or -1. */
export function parseIpv4(s: string): number {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0) return -1;
      n = n * 256 + part;
      part = 0;
      digits = 0;
      if (i < s.length && ++dots > 3) return -1;
      continue;
    }
    if (c < 48 || c > 57) return -1;
    if (digits === 1 && part === 0) return -1; // leading zero
    part = part * 10 + (c - 48);
    if (part > 255) return -1;
    digits++;
  }
  return dots === 3 ? n : -1;
}

/** Parses an IPv4 or IPv6 address (IPv4-mapped IPv6 becomes IPv4), or undefined. */
export function parseIp(s: string): Ip | undefined {
  const v4 = parseIpv4(s);
  if (v4 >= 0) return { v: 4, n: v4 };
  if (!s.includes(':') || s.includes('%') || !ipaddr.IPv6.isValid(s)) return undefined;
  const a = ipaddr.IPv6.parse(s);
  if (a.isIPv4MappedAddress()) {
    const o = a.toIPv4Address().octets;
    return { v: 4, n: (((o[0] as number) << 24) | ((o[1] as number) << 16) | ((o[2] as number) << 8) | (o[3] as number)) >>> 0 };
  }
  return { v: 6, parts: a.parts.slice() };
}

function v4Mask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

function parsePrefix(s: string): number {
  if (s.length === 0 || s.length > 3 || (s.length > 1 && s[0] === '0')) return -1;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 48 || s.charCodeAt(i) > 57) return -1;
  return Number(s);
}

/** Parses a policy range (`a.b.c.d/n`, `x::y/n`, or a bare address), or undefined. */
export function parseCidr(s: string): Cidr | undefined {
  const slash = s.indexOf('/');
  const addrText = slash < 0 ? s : s.slice(0, slash);
  const addr = parseIp(addrText);
  if (addr === undefined) return undefined;
  const textIsV6 = addrText.includes(':');
  const maxBits = textIsV6 ? 128 : 32;
  let bits = slash < 0 ? maxBits : parsePrefix(s.slice(slash + 1));
  if (bits < 0 || bits > maxBits) return undefined;
  if (addr.v === 6) return { v: 6, parts: addr.parts, bits };
  if (textIsV6) {
    // IPv4-mapped: a range below /96 also spans non-mapped IPv6 space, so it stays IPv6.
    if (bits < 96) return { v: 6, parts: ipaddr.IPv6.parse(addrText).parts.slice(), bits };
    bits -= 96;
  }
  const mask = v4Mask(bits);
  return { v: 4, net: (addr.n & mask) >>> 0, mask };
}

/** Does the range contain the address? */
export function cidrContains(c: Cidr, ip: Ip): boolean {
  if (c.v === 4) return ip.v === 4 && ((ip.n & c.mask) >>> 0) === c.net;
  if (ip.v !== 6) return false;
  let bits = c.bits;
  for (let i = 0; i < 8 && bits > 0; i++, bits -= 16) {
    const m = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff;
    if ((((ip.parts[i] as number) ^ (c.parts[i] as number)) & m) !== 0) return false;
  }
  return true;
}

// aws:SourceIp is one string per request but tested by many statements: keep the last
// parse (a pure cache — same input, same output).
let lastText: string | undefined;
let lastIp: Ip | undefined;

function parseCached(s: string): Ip | undefined {
  if (s !== lastText) {
    lastIp = parseIp(s);
    lastText = s;
  }
  return lastIp;
}

/** Compiles IpAddress / NotIpAddress with its policy ranges. */
export const compileIp: OperatorFamily<IpOperator> = (op, values): CompiledOperator => {
  const ranges: Cidr[] = [];
  for (const v of values) {
    const c = parseCidr(v);
    if (c !== undefined) ranges.push(c);
  }
  const test: ValueTest = (v) => {
    const ip = parseCached(v);
    if (ip === undefined) return false;
    for (const r of ranges) if (cidrContains(r, ip)) return true;
    return false;
  };
  return { kind: 'value', negated: op === 'NotIpAddress', test };
};
