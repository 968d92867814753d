/**
 * Block Public Access's notion of a "public" bucket or access point policy (S3 UG "The
 * meaning of public"; semantics.md d.2): a policy is assumed public, and is non-public only
 * if every Allow statement is restricted to fixed values — of the principal, or of one of a
 * short list of condition keys that outsiders cannot choose. Deny statements never make a
 * policy public. Purely syntactic and conservative: anything not provably restricting counts
 * as public (false positives are acceptable, false negatives are not). Pure.
 */
import ipaddr from 'ipaddr.js';
import type { ConditionAst, PolicyAst, StatementAst } from './ast.js';

/** Where the policy is attached; a VPC-origin access point is never public. */
export interface PublicContext {
  kind: 'bucket' | 'access-point';
  networkOrigin?: 'Internet' | 'VPC';
}

/** The verdict, with one reason per public Allow statement. */
export interface PublicVerdict {
  public: boolean;
  reasons: { statement: number; why: string }[];
}

/** Keys whose fixed values restrict who can use a statement (lower-case). */
const FIXED_VALUE_KEYS = new Set([
  'aws:principalaccount', 'aws:principalarn', 'aws:principalorgid',
  'aws:sourceip',
  'aws:sourcearn', 'aws:sourcevpc', 'aws:sourcevpce', 'aws:sourceowner', 'aws:sourceaccount',
  's3:x-amz-server-side-encryption-aws-kms-key-id',
  'aws:userid',
  's3:dataaccesspointarn', 's3:dataaccesspointaccount',
]);

/** Positive operators only: negated operators match almost everything. */
const LITERAL_OPERATORS = new Set(['StringEquals', 'StringEqualsIgnoreCase']);
const GLOB_OPERATORS = new Set(['StringLike', 'ArnEquals', 'ArnLike']); // ArnEquals ≡ ArnLike: `*` is a wildcard

const PRIVATE_V4 = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'].map((c) => ipaddr.IPv4.parseCIDR(c));

/** An aws:SourceIp range narrow enough to be non-public: ≤ /8 wide for IPv4 (or inside RFC 1918), ≤ /32 for IPv6. */
function narrowCidr(v: string): boolean {
  const [addr = '', prefixText, extra] = v.split('/');
  if (extra !== undefined) return false;
  if (ipaddr.IPv4.isValidFourPartDecimal(addr)) {
    const prefix = prefixText === undefined ? 32 : Number(prefixText);
    if (!/^\d{1,2}$/.test(prefixText ?? '32') || prefix > 32) return false;
    if (prefix >= 8) return true;
    const ip = ipaddr.IPv4.parse(addr);
    return PRIVATE_V4.some(([net, bits]) => prefix >= bits && ip.match(net, bits));
  }
  if (addr.includes(':') && ipaddr.IPv6.isValid(addr)) {
    const ip = ipaddr.IPv6.parse(addr);
    const prefix = prefixText === undefined ? 128 : Number(prefixText);
    if (!/^\d{1,3}$/.test(prefixText ?? '128') || prefix > 128) return false;
    if (ip.isIPv4MappedAddress()) return narrowCidr(`${ip.toIPv4Address().toString()}/${Math.max(0, prefix - 96)}`);
    return prefix >= 32;
  }
  return false;
}

const hasWildcard = (s: string): boolean => s.includes('*') || s.includes('?');

/** Does this one condition pin a fixed-value key to fixed values? */
function restricts(c: ConditionAst, ast: PolicyAst, ctx: PublicContext): boolean {
  if (c.ifExists || c.set === 'ForAllValues') return false; // both hold when the key is absent
  if (!FIXED_VALUE_KEYS.has(c.keyLower)) return false;
  const variables = ast.version === '2012-10-17';
  const isVariable = (v: string): boolean => variables && v.includes('${');

  if (c.keyLower === 'aws:sourceip') return c.operator === 'IpAddress' && c.values.every((v) => narrowCidr(v.value));
  if (c.keyLower === 's3:dataaccesspointarn') {
    // Any access-point ARN grant in an access point's own policy is public; in a bucket
    // policy the access point name may be a wildcard as long as the account is fixed.
    if (ctx.kind === 'access-point') return false;
    if (!LITERAL_OPERATORS.has(c.operator) && !GLOB_OPERATORS.has(c.operator)) return false;
    return c.values.every((v) => !isVariable(v.value) && /^\d{12}$/.test(v.value.split(':')[4] ?? ''));
  }
  let fixed: (v: string) => boolean;
  if (LITERAL_OPERATORS.has(c.operator)) fixed = (v) => !isVariable(v);
  else if (GLOB_OPERATORS.has(c.operator)) fixed = (v) => !isVariable(v) && !hasWildcard(v);
  else return false;
  // `AROLEID:*` (any session of a role) is excluded from aws:userid restrictions.
  const excluded = (v: string): boolean => c.keyLower === 'aws:userid' && /:\*$/.test(v);
  return c.values.every((v) => fixed(v.value) && !excluded(v.value));
}

/** Why an Allow statement is public, or undefined when it is restricted. */
function publicReason(st: StatementAst, ast: PolicyAst, ctx: PublicContext): string | undefined {
  const p = st.principal;
  let principalWhy: string | undefined;
  if (!p) return undefined; // identity policy statement: applies to its holder only
  if (p.negated) principalWhy = 'Allow with NotPrincipal applies to everyone not listed';
  else if (p.value.kind === 'any') principalWhy = 'Principal is "*"';
  else if (p.value.federated.length > 0) principalWhy = `Federated principal ${p.value.federated[0]!.value}`;
  else {
    const all = [...p.value.aws, ...p.value.service, ...p.value.canonicalUser];
    const wild = all.find((v) => hasWildcard(v.value));
    if (all.length === 0) principalWhy = 'empty Principal';
    else if (wild) principalWhy = `wildcard principal ${wild.value}`;
  }
  if (principalWhy === undefined) return undefined;
  if (st.conditions.some((c) => restricts(c, ast, ctx))) return undefined;
  return `${principalWhy} and no condition restricts it to fixed principals, networks or sources`;
}

/** Is the bucket / access point policy "public" in Block Public Access's sense? */
export function isPublicPolicy(ast: PolicyAst, ctx: PublicContext): PublicVerdict {
  if (ctx.kind === 'access-point' && ctx.networkOrigin === 'VPC') return { public: false, reasons: [] };
  const reasons: PublicVerdict['reasons'] = [];
  for (const st of ast.statements) {
    if (st.effect !== 'Allow') continue;
    const why = publicReason(st, ast, ctx);
    if (why) reasons.push({ statement: st.index, why });
  }
  return { public: reasons.length > 0, reasons };
}
