/**
 * Semantic checks of a parsed policy for where it is attached. For bucket policies the
 * errors carry exactly S3's MalformedPolicy messages, in the order S3 would report them
 * (statement by statement; within a statement: principal, action, resource, action/resource
 * applicability, conditions), so the first error is what PutBucketPolicy returns.
 * Also a few Access-Analyzer-style warnings. Pure.
 */
import ipaddr from 'ipaddr.js';
import type { ConditionAst, Finding, Located, PolicyAst, PrincipalAst, StatementAst } from './ast.js';
import { POLICY_MESSAGES as M } from './parse.js';
import {
  actionInfo, conditionKeyType, expandActionPattern, isGlobalConditionKey, isMultiValuedKeyType,
  keysForActionsAndResources,
} from './s3-model.js';

/** Where the policy is attached: decides which elements are required and what is valid. */
export type ValidationContext =
  | {
      kind: 'bucket';
      bucket: string;
      /** ARN partition of this deployment; default `aws`. */
      partition?: string;
      /**
       * Optional existence check for AWS principals (account ids and IAM/STS ARNs) that are
       * syntactically valid: AWS rejects principals that don't exist at PutBucketPolicy time.
       */
      principalExists?: (principal: string) => boolean;
    }
  | { kind: 'identity' }
  | { kind: 'trust'; principalExists?: (principal: string) => boolean }
  | { kind: 'access-point'; partition?: string; principalExists?: (principal: string) => boolean };

/** IAM's own messages for identity/trust policies (MalformedPolicyDocument). */
const IAM_MESSAGES = {
  principalInIdentity: 'Policy document should not specify a principal.',
  resourceRequired: 'Policy statement must contain resources.',
  resourceInTrust: 'Has prohibited field Resource',
  duplicateSid: 'Statement IDs (SID) in a single policy must be unique.',
} as const;

class Stop extends Error {
  constructor(readonly finding: Finding) { super(finding.message); }
}
const error = (pointer: string, message: string): Stop => new Stop({ severity: 'error', pointer, message });

const hasWildcard = (s: string): boolean => s.includes('*') || s.includes('?');

// ---- principals ------------------------------------------------------------------------

const NAME = "[\\w+=,.@-]+";
/** Principal-syntax checks; the partition is the deployment's, or any AWS partition when unknown. */
function principalPatterns(partition: string | undefined): { aws: RegExp[]; federated: RegExp[] } {
  const p = partition ? partition.replace(/[^a-z-]/g, '') : 'aws(?:-[a-z]+)*';
  return {
    aws: [
      /^\d{12}$/,
      new RegExp(`^arn:${p}:iam::\\d{12}:root$`),
      new RegExp(`^arn:${p}:iam::\\d{12}:(?:user|role)/(?:${NAME}/)*${NAME}$`),
      new RegExp(`^arn:${p}:sts::\\d{12}:assumed-role/${NAME}/${NAME}$`),
      new RegExp(`^arn:${p}:sts::\\d{12}:federated-user/${NAME}$`),
      // CloudFront origin access identities (the S3 user guide's OAI example uses this form).
      new RegExp(`^arn:${p}:iam::cloudfront:user/CloudFront Origin Access Identity [A-Z0-9]+$`),
    ],
    federated: [
      new RegExp(`^arn:${p}:iam::\\d{12}:(?:saml-provider|oidc-provider)/[^*?]+$`),
      /^[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:\/[^*?\s]+)?$/i,
    ],
  };
}
const SERVICE_PRINCIPAL = /^[a-z0-9-]+(?:\.[a-z0-9-]+)*\.amazonaws\.com(?:\.cn)?$/;
const CANONICAL_USER = /^[0-9a-f]{64}$/i;

function checkPrincipal(p: PrincipalAst, partition: string | undefined, exists: ((p: string) => boolean) | undefined): void {
  if (p.kind === 'any') return;
  const pats = principalPatterns(partition);
  const all = [...p.aws, ...p.service, ...p.federated, ...p.canonicalUser];
  if (all.length === 0) throw error(p.pointer, M.invalidPrincipal);
  const bad = (v: Located<string>): Stop => error(v.pointer, M.invalidPrincipal);
  for (const v of p.aws) {
    if (!pats.aws.some((re) => re.test(v.value))) throw bad(v);
    if (exists && !exists(v.value)) throw bad(v);
  }
  for (const v of p.service) if (!SERVICE_PRINCIPAL.test(v.value)) throw bad(v);
  for (const v of p.federated) if (!pats.federated.some((re) => re.test(v.value))) throw bad(v);
  for (const v of p.canonicalUser) if (!CANONICAL_USER.test(v.value)) throw bad(v);
}

// ---- actions ---------------------------------------------------------------------------

/** The S3 actions one Action entry names (expanded), or undefined if it isn't a valid S3 action entry. */
function s3ActionsOf(value: string): string[] | undefined {
  if (value === '*') return expandActionPattern('s3:*');
  const i = value.indexOf(':');
  if (i < 0 || value.slice(0, i).toLowerCase() !== 's3') return undefined;
  const name = value.slice(i + 1);
  if (name === '') return undefined;
  if (!hasWildcard(name)) return actionInfo(value) ? [actionInfo(value)!.action] : undefined;
  const expanded = expandActionPattern(value);
  return expanded.length > 0 ? expanded : undefined;
}

// ---- resources: ARN globs with policy variables --------------------------------------------

type Tok = { k: 'lit'; c: string } | { k: 'star' } | { k: 'one' };

/**
 * A Resource's resource part as glob tokens. With Version 2012-10-17 `${*}`/`${?}`/`${$}`
 * are literal characters and any other `${…}` is a variable, unknown until request time,
 * so it is treated as `*` for "could this match?" questions.
 */
function globTokens(s: string, variables: boolean): Tok[] {
  const out: Tok[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (variables && c === '$' && s[i + 1] === '{') {
      const end = s.indexOf('}', i + 2);
      if (end > 0) {
        const inner = s.slice(i + 2, end);
        if (inner === '*' || inner === '?' || inner === '$') out.push({ k: 'lit', c: inner });
        else out.push({ k: 'star' });
        i = end;
        continue;
      }
    }
    out.push(c === '*' ? { k: 'star' } : c === '?' ? { k: 'one' } : { k: 'lit', c });
  }
  // `**` ≡ `*`; collapsing keeps the NFA closure linear for hostile `*****…` input.
  return out.filter((t, i) => !(t.k === 'star' && out[i - 1]?.k === 'star'));
}

/** NFA states (token positions) reachable after reading `s`. */
function globStates(toks: Tok[], s: string): Set<number> {
  const close = (set: Set<number>): Set<number> => {
    for (const p of [...set]) {
      let q = p;
      while (q < toks.length && toks[q]!.k === 'star') set.add(++q);
    }
    return set;
  };
  let cur = close(new Set([0]));
  for (const ch of s) {
    const next = new Set<number>();
    for (const p of cur) {
      const t = toks[p];
      if (!t) continue;
      if (t.k === 'star') next.add(p);
      else if (t.k === 'one' || t.c === ch) next.add(p + 1);
    }
    cur = close(next);
    if (cur.size === 0) break;
  }
  return cur;
}
const globMatches = (toks: Tok[], s: string): boolean => globStates(toks, s).has(toks.length);
/** Can the glob match `prefix` followed by at least one more character? */
const globMatchesLonger = (toks: Tok[], prefix: string): boolean => [...globStates(toks, prefix)].some((p) => p < toks.length);

interface ResourceReach { bucket: boolean; object: boolean }

/** What a bucket-policy Resource can reach in this bucket; undefined = not a resource of this bucket. */
function bucketResourceReach(value: string, bucket: string, partition: string, variables: boolean): ResourceReach | undefined {
  const parts: string[] = [];
  let rest = value;
  for (let n = 0; n < 5; n++) {
    const i = rest.indexOf(':');
    if (i < 0) return undefined;
    parts.push(rest.slice(0, i));
    rest = rest.slice(i + 1);
  }
  parts.push(rest);
  const [arn, part, service, region, account, res] = parts as [string, string, string, string, string, string];
  // IAM substitutes variables only in the resource part.
  if (variables && [arn, part, service, region, account].some((p) => p.includes('${'))) return undefined;
  const seg = (glob: string, want: string): boolean => globMatches(globTokens(glob, false), want);
  if (!seg(arn, 'arn') || !seg(part, partition) || !seg(service, 's3') || !seg(region, '') || !seg(account, '')) return undefined;
  const toks = globTokens(res, variables);
  const reach = { bucket: globMatches(toks, bucket), object: globMatchesLonger(toks, `${bucket}/`) };
  return reach.bucket || reach.object ? reach : undefined;
}

// ---- condition values --------------------------------------------------------------------

/** IPv4 dotted quad or IPv6, optional /prefix (ipaddr.isValid alone would accept `127.1`). */
export function isValidCidr(v: string): boolean {
  const [addr = '', prefix, extra] = v.split('/');
  if (extra !== undefined) return false;
  let max: number;
  if (ipaddr.IPv4.isValidFourPartDecimal(addr)) max = 32;
  else if (addr.includes(':') && ipaddr.IPv6.isValid(addr)) max = 128;
  else return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= max;
}

const NUMERIC = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const isDate = (v: string): boolean => /^\d+$/.test(v) || (ISO_DATE.test(v) && !Number.isNaN(Date.parse(v.length === 10 ? `${v}T00:00:00Z` : v)));
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function checkConditionValues(c: ConditionAst, variables: boolean): void {
  const bad = (v: Located<string>, message: string): never => { throw error(v.pointer, message); };
  for (const v of c.values) {
    switch (c.operator) {
      case 'IpAddress': case 'NotIpAddress':
        if (!isValidCidr(v.value)) bad(v, M.invalidIp);
        break;
      case 'NumericEquals': case 'NumericNotEquals': case 'NumericLessThan': case 'NumericLessThanEquals':
      case 'NumericGreaterThan': case 'NumericGreaterThanEquals':
        if (!NUMERIC.test(v.value)) bad(v, M.invalidConditionValue(c.operatorText));
        break;
      case 'DateEquals': case 'DateNotEquals': case 'DateLessThan': case 'DateLessThanEquals':
      case 'DateGreaterThan': case 'DateGreaterThanEquals':
        if (!isDate(v.value)) bad(v, M.invalidConditionValue(c.operatorText));
        break;
      case 'Bool':
        if (!/^(?:true|false)$/i.test(v.value) && !(variables && v.value.includes('${'))) bad(v, M.invalidConditionValue(c.operatorText));
        break;
      case 'Null':
        if (!/^(?:true|false)$/i.test(v.value)) bad(v, M.invalidConditionValue(c.operatorText));
        break;
      case 'BinaryEquals':
        if (!BASE64.test(v.value)) bad(v, M.invalidConditionValue(c.operatorText));
        break;
      default:
        break; // String and ARN operators take any text (and policy variables)
    }
  }
}

/** Does a model key (possibly a template like `s3:ExistingObjectTag/<key>`) name this key? */
function modelKeyMatches(modelKey: string, key: string): boolean {
  if (!/\$\{|</.test(modelKey)) return modelKey.toLowerCase() === key.toLowerCase();
  const prefix = modelKey.split(/\$\{|</)[0]!.toLowerCase();
  return key.toLowerCase().startsWith(prefix) && key.length > prefix.length;
}

// ---- statements --------------------------------------------------------------------------

function checkBucketStatement(st: StatementAst, ctx: Extract<ValidationContext, { kind: 'bucket' }>, variables: boolean): void {
  const partition = ctx.partition ?? 'aws';
  // 1. Principal
  if (!st.principal) throw error(st.pointer, M.missingPrincipal);
  checkPrincipal(st.principal.value, partition, ctx.principalExists);
  if (st.principal.negated && st.effect === 'Allow') throw error(st.principal.value.pointer, M.allowNotPrincipal);

  // 2. Action: S3 actions only, each must name at least one real action.
  if (st.action.values.length === 0) throw error(st.action.pointer, M.invalidAction);
  const actionSets = st.action.values.map((v) => {
    const acts = s3ActionsOf(v.value);
    if (!acts) throw error(v.pointer, M.invalidAction);
    return { entry: v, actions: acts };
  });

  // 3. Resource: this bucket or its objects only.
  if (!st.resource) throw error(st.pointer, M.missingResource);
  if (st.resource.values.length === 0) throw error(st.resource.pointer, M.invalidResource);
  const reach = st.resource.values.map((v) => {
    const r = bucketResourceReach(v.value, ctx.bucket, partition, variables);
    if (!r) throw error(v.pointer, M.invalidResource);
    return r;
  });

  // 4. Every Action entry must apply to some Resource (by the SAR resource types).
  //    NotAction / NotResource name open-ended sets: nothing to check.
  if (!st.action.negated && !st.resource.negated) {
    const types = new Set<string>();
    if (reach.some((r) => r.bucket)) types.add('bucket');
    if (reach.some((r) => r.object)) types.add('object');
    for (const { entry, actions } of actionSets) {
      const applies = actions.some((a) => actionInfo(a)?.resourceTypes.some((rt) => types.has(rt.name)) ?? false);
      if (!applies) throw error(entry.pointer, M.actionResourceMismatch);
    }
  }

  // 5. Conditions
  for (const c of st.conditions) {
    const i = c.key.indexOf(':');
    const service = i > 0 ? c.key.slice(0, i).toLowerCase() : '';
    if (service === '') throw error(c.pointer, M.invalidConditionKey);
    if (service !== 'aws') {
      // Unknown aws: keys are accepted; S3 keys must exist; other services' keys only if global.
      if (conditionKeyType(c.key) === undefined) throw error(c.pointer, M.invalidConditionKey);
      if (service !== 's3' && !isGlobalConditionKey(c.key)) throw error(c.pointer, M.invalidConditionKey);
      if (service === 's3' && !st.action.negated) {
        // A named action must support the key; a wildcard entry needs one action that does.
        for (const { actions } of actionSets) {
          const ok = actions.some((a) => keysForActionsAndResources([a]).some((k) => modelKeyMatches(k, c.key)));
          if (!ok) throw error(c.pointer, M.conditionMismatch);
        }
      }
    }
    checkConditionValues(c, variables);
  }
}

function checkGenericStatement(st: StatementAst, ctx: Exclude<ValidationContext, { kind: 'bucket' }>, variables: boolean): void {
  if (ctx.kind === 'identity') {
    if (st.principal) throw error(st.principal.value.pointer, IAM_MESSAGES.principalInIdentity);
    if (!st.resource) throw error(st.pointer, IAM_MESSAGES.resourceRequired);
  } else {
    if (!st.principal) throw error(st.pointer, M.missingPrincipal);
    checkPrincipal(st.principal.value, ctx.kind === 'access-point' ? ctx.partition : undefined, ctx.principalExists);
    if (st.principal.negated && st.effect === 'Allow') throw error(st.principal.value.pointer, M.allowNotPrincipal);
    if (ctx.kind === 'trust' && st.resource) throw error(st.resource.pointer, IAM_MESSAGES.resourceInTrust);
    if (ctx.kind === 'access-point' && !st.resource) throw error(st.pointer, M.missingResource);
  }
  for (const c of st.conditions) {
    if (!c.key.includes(':')) throw error(c.pointer, M.invalidConditionKey);
    checkConditionValues(c, variables);
  }
}

// ---- policy variables ------------------------------------------------------------------------

/** `${key}` or `${key, 'default'}`, blanks around the parts ignored (as variables.ts reads them); `${*}`, `${?}`, `${$}` are escapes. */
const VARIABLE = /^\s*([A-Za-z0-9-]+:[A-Za-z0-9_.:/+=@-]+)\s*(?:,\s*'([^']*)'\s*)?$/;

/** Warnings for `${…}` that won't substitute as the author probably expects. */
function variableWarnings(v: Located<string>, variables: boolean): Finding[] {
  const out: Finding[] = [];
  for (const m of v.value.matchAll(/\$\{([^}]*)\}/g)) {
    const inner = m[1]!;
    if (inner === '*' || inner === '?' || inner === '$') continue;
    if (!variables) {
      out.push({ severity: 'warning', pointer: v.pointer, message: `\${${inner}} is literal text: policy variables need Version 2012-10-17.` });
      continue;
    }
    const parsed = VARIABLE.exec(inner);
    const type = parsed ? conditionKeyType(parsed[1]!) : undefined;
    if (!parsed) {
      out.push({ severity: 'warning', pointer: v.pointer, message: `\${${inner}} is not a valid policy variable (\${key} or \${key, 'default'}).` });
    } else if (isMultiValuedKeyType(type)) {
      out.push({ severity: 'warning', pointer: v.pointer, message: `\${${parsed[1]}} is multi-valued and cannot be a policy variable.` });
    } else if (type === undefined && parsed[1]!.toLowerCase().startsWith('aws:')) {
      out.push({ severity: 'warning', pointer: v.pointer, message: `\${${parsed[1]}} is not a known condition key; it resolves to nothing.` });
    }
  }
  return out;
}

const VARIABLE_OPERATORS = new Set(['StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase',
  'StringLike', 'StringNotLike', 'ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike', 'Bool']);

// ---- warnings ------------------------------------------------------------------------------

function warnings(st: StatementAst, variables: boolean): Finding[] {
  const out: Finding[] = [];
  for (const v of st.resource?.values ?? []) out.push(...variableWarnings(v, variables));
  for (const c of st.conditions) {
    if (VARIABLE_OPERATORS.has(c.operator)) for (const v of c.values) out.push(...variableWarnings(v, variables));
  }
  if (st.effect === 'Allow' && st.action.negated) {
    out.push({ severity: 'security-warning', pointer: st.action.pointer, message: 'Allow with NotAction grants every action not listed, including future ones.' });
  }
  if (st.effect === 'Allow' && st.resource?.negated) {
    out.push({ severity: 'security-warning', pointer: st.resource.pointer, message: 'Allow with NotResource grants every resource not listed.' });
  }
  const seen = new Map<string, string>();
  for (const c of st.conditions) {
    const type = conditionKeyType(c.key);
    const multi = isMultiValuedKeyType(type);
    if (c.set === 'ForAllValues' && st.effect === 'Allow') {
      out.push({ severity: 'security-warning', pointer: c.pointer, message: 'ForAllValues with Allow is true when the key is absent or empty; add a Null check or use ForAnyValue.' });
    }
    if (c.set && type !== undefined && !multi) {
      out.push({ severity: 'warning', pointer: c.pointer, message: `Set operator ${c.set} on the single-valued key ${c.key}; use the operator without a qualifier.` });
    }
    if (!c.set && multi && c.operator !== 'Null') {
      out.push({ severity: 'warning', pointer: c.pointer, message: `Key ${c.key} is multi-valued; use ForAnyValue: or ForAllValues:.` });
    }
    const block = `${c.operatorText}\u0000${c.keyLower}`;
    const prev = seen.get(block);
    if (prev !== undefined && prev !== c.key) {
      out.push({ severity: 'warning', pointer: c.pointer, message: 'The condition key appears more than once with different capitalization in the same condition block.' });
    }
    seen.set(block, c.key);
  }
  return out;
}

/**
 * Check a policy for where it is attached. Errors first (for bucket policies exactly S3's
 * MalformedPolicy messages; the first error is what PutBucketPolicy returns), then warnings.
 */
export function validatePolicy(ast: PolicyAst, ctx: ValidationContext): Finding[] {
  const errors: Finding[] = [];
  const notes: Finding[] = [];
  const variables = ast.version === '2012-10-17';
  const sids = new Set<string>();
  for (const st of ast.statements) {
    // IAM refuses a repeated Sid in identity and trust policies.
    if ((ctx.kind === 'identity' || ctx.kind === 'trust') && st.sid !== undefined) {
      if (sids.has(st.sid)) errors.push({ severity: 'error', pointer: `${st.pointer}/Sid`, message: IAM_MESSAGES.duplicateSid });
      sids.add(st.sid);
    }
    try {
      if (ctx.kind === 'bucket') checkBucketStatement(st, ctx, variables);
      else checkGenericStatement(st, ctx, variables);
    } catch (e) {
      if (!(e instanceof Stop)) throw e;
      errors.push(e.finding);
    }
    notes.push(...warnings(st, variables));
  }
  return [...errors, ...notes];
}
