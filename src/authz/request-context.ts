/**
 * The request context policies are evaluated against: built once per request, typed and
 * namespaced. Every key is declared in CONTEXT_KEYS with its type and its source —
 * 'server' for facts the server vouches for (who signed, over which transport, from
 * where), 'request' for values the client chose (headers, query parameters) — so a
 * reviewer can see which conditions a client can steer. Keys that later issues fill
 * (VPC endpoints, organizations, MFA, principal tags) are declared and simply absent.
 */
import type { AuthInfo } from '../auth/authenticate.js';
import { callerArn, principalArn, principalUserId, type Principal } from '../auth/principal.js';
import { header, type S3Request } from '../http/request.js';
import type { ContextValue, PrincipalFacts } from '../iam/policy/request.js';

export type KeyType = 'String' | 'Numeric' | 'Date' | 'Bool' | 'IpAddress' | 'ARN' | 'ArrayOfString';

export interface KeySpec {
  type: KeyType;
  source: 'server' | 'request';
}

/** Every key Kura knows, lower-cased. Tag keys (`…/<tag>`) are declared by their prefix. */
export const CONTEXT_KEYS: Readonly<Record<string, KeySpec>> = {
  'aws:securetransport': { type: 'Bool', source: 'server' },
  'aws:sourceip': { type: 'IpAddress', source: 'server' },
  'aws:currenttime': { type: 'Date', source: 'server' },
  'aws:epochtime': { type: 'Numeric', source: 'server' },
  'aws:principalarn': { type: 'ARN', source: 'server' },
  'aws:principalaccount': { type: 'String', source: 'server' },
  'aws:principaltype': { type: 'String', source: 'server' },
  'aws:userid': { type: 'String', source: 'server' },
  'aws:username': { type: 'String', source: 'server' },
  'aws:resourceaccount': { type: 'String', source: 'server' },
  'aws:requestedregion': { type: 'String', source: 'server' },
  'aws:viaawsservice': { type: 'Bool', source: 'server' },
  'aws:principalisawsservice': { type: 'Bool', source: 'server' },
  'aws:useragent': { type: 'String', source: 'request' },
  'aws:referer': { type: 'String', source: 'request' },
  // Filled by later issues; declared so policies that use them validate and evaluate as absent.
  'aws:sourcevpc': { type: 'String', source: 'server' },
  'aws:sourcevpce': { type: 'String', source: 'server' },
  'aws:principalorgid': { type: 'String', source: 'server' },
  'aws:principalorgpaths': { type: 'ArrayOfString', source: 'server' },
  'aws:resourceorgid': { type: 'String', source: 'server' },
  'aws:multifactorauthpresent': { type: 'Bool', source: 'server' },
  'aws:multifactorauthage': { type: 'Numeric', source: 'server' },
  'aws:tokenissuetime': { type: 'Date', source: 'server' },
  'aws:sourcearn': { type: 'ARN', source: 'server' },
  'aws:sourceidentity': { type: 'String', source: 'server' },
  'aws:sourceaccount': { type: 'String', source: 'server' },
  'aws:tagkeys': { type: 'ArrayOfString', source: 'request' },
  'aws:principaltag/': { type: 'String', source: 'server' },
  'aws:requesttag/': { type: 'String', source: 'request' },
  'aws:resourcetag/': { type: 'String', source: 'server' },
  's3:prefix': { type: 'String', source: 'request' },
  's3:delimiter': { type: 'String', source: 'request' },
  's3:max-keys': { type: 'Numeric', source: 'request' },
  's3:x-amz-acl': { type: 'String', source: 'request' },
  's3:x-amz-grant-read': { type: 'String', source: 'request' },
  's3:x-amz-grant-write': { type: 'String', source: 'request' },
  's3:x-amz-grant-read-acp': { type: 'String', source: 'request' },
  's3:x-amz-grant-write-acp': { type: 'String', source: 'request' },
  's3:x-amz-grant-full-control': { type: 'String', source: 'request' },
  's3:x-amz-copy-source': { type: 'String', source: 'request' },
  's3:x-amz-metadata-directive': { type: 'String', source: 'request' },
  's3:x-amz-server-side-encryption': { type: 'String', source: 'request' },
  's3:x-amz-server-side-encryption-aws-kms-key-id': { type: 'ARN', source: 'request' },
  's3:x-amz-server-side-encryption-customer-algorithm': { type: 'String', source: 'request' },
  's3:x-amz-storage-class': { type: 'String', source: 'request' },
  's3:x-amz-content-sha256': { type: 'String', source: 'request' },
  's3:versionid': { type: 'String', source: 'request' },
  's3:existingobjecttag/': { type: 'String', source: 'server' },
  's3:requestobjecttag/': { type: 'String', source: 'request' },
  's3:requestobjecttagkeys': { type: 'ArrayOfString', source: 'request' },
  's3:signatureversion': { type: 'String', source: 'server' },
  's3:authtype': { type: 'String', source: 'server' },
  's3:signatureage': { type: 'Numeric', source: 'server' },
  's3:tlsversion': { type: 'Numeric', source: 'server' },
  's3:resourceaccount': { type: 'String', source: 'server' },
  's3:locationconstraint': { type: 'String', source: 'request' },
  's3:x-amz-object-ownership': { type: 'String', source: 'request' },
  's3:if-match': { type: 'String', source: 'request' },
  's3:if-none-match': { type: 'String', source: 'request' },
};

/** The spec of a key (tag keys resolve through their prefix), or undefined when unknown. */
export function keySpec(keyLower: string): KeySpec | undefined {
  const direct = CONTEXT_KEYS[keyLower];
  if (direct) return direct;
  const slash = keyLower.indexOf('/');
  return slash > 0 ? CONTEXT_KEYS[keyLower.slice(0, slash + 1)] : undefined;
}

/** The facts about the caller that Principal elements match against. */
export function principalFacts(p: Principal, partition = 'aws'): PrincipalFacts {
  switch (p.kind) {
    case 'anonymous':
      return { kind: 'anonymous' };
    case 'account-root':
      return { kind: 'aws', account: p.accountId, arns: [`arn:${partition}:iam::${p.accountId}:root`], isRoot: true };
    case 'iam-user':
      return { kind: 'aws', account: p.accountId, arns: [principalArn(p, partition)!], isRoot: false };
    case 'assumed-role':
      // A statement may name the session or its role.
      return { kind: 'aws', account: p.accountId, arns: [callerArn(p, partition)!, principalArn(p, partition)!], isRoot: false };
  }
}

export interface ContextInput {
  req: S3Request;
  principal: Principal;
  auth: AuthInfo;
  region: string;
  /** Owner of the resource's bucket, when it exists. */
  resourceAccount: string | undefined;
  /** Tags from x-amz-tagging (PutObject-like requests). */
  requestObjectTags?: Record<string, string>;
  /** The principal's tags: the IAM user's or role's, overridden by session tags. */
  principalTags?: Record<string, string>;
}

/** aws:PrincipalType (IAM UG, "AWS global condition context keys"). */
const PRINCIPAL_TYPE: Record<Exclude<Principal['kind'], 'anonymous'>, string> = {
  'account-root': 'Account', 'iam-user': 'User', 'assumed-role': 'AssumedRole',
};

/** Request headers that become s3:<header> keys, with their key names built once. */
const HEADER_KEYS: ReadonlyArray<readonly [string, string]> = [
  'x-amz-acl', 'x-amz-grant-read', 'x-amz-grant-write', 'x-amz-grant-read-acp', 'x-amz-grant-write-acp', 'x-amz-grant-full-control',
  'x-amz-copy-source', 'x-amz-metadata-directive', 'x-amz-server-side-encryption', 'x-amz-server-side-encryption-aws-kms-key-id',
  'x-amz-server-side-encryption-customer-algorithm', 'x-amz-storage-class', 'x-amz-content-sha256', 'x-amz-object-ownership', 'if-match', 'if-none-match',
].map((h) => [h, `s3:${h}`] as const);

/** aws:CurrentTime (ISO 8601 without milliseconds, as AWS writes it) and aws:EpochTime, formatted once per second. */
let clockSecond = Number.NaN;
let clockIso = '';
let clockEpoch = '';
function clockKeys(d: Date): void {
  const second = Math.floor(d.getTime() / 1000);
  if (second === clockSecond) return;
  clockIso = `${d.toISOString().slice(0, 19)}Z`;
  clockEpoch = String(second);
  clockSecond = second;
}

function set(m: Map<string, ContextValue>, k: string, v: ContextValue | undefined): void {
  if (v !== undefined) m.set(k, v);
}

/** Builds the request-level context (object tags of stored objects are added per check). */
export function buildRequestContext(input: ContextInput): Map<string, ContextValue> {
  const { req, principal, auth } = input;
  const m = new Map<string, ContextValue>();
  const now = req.receivedAt;
  set(m, 'aws:securetransport', req.tls ? 'true' : 'false');
  if (req.clientIp) set(m, 'aws:sourceip', req.clientIp);
  clockKeys(now);
  set(m, 'aws:currenttime', clockIso);
  set(m, 'aws:epochtime', clockEpoch);
  set(m, 'aws:requestedregion', input.region);
  set(m, 'aws:viaawsservice', 'false');
  set(m, 'aws:useragent', header(req, 'user-agent'));
  set(m, 'aws:referer', header(req, 'referer'));
  if (principal.kind === 'anonymous') {
    set(m, 'aws:principaltype', 'Anonymous');
    set(m, 'aws:userid', 'anonymous');
  } else {
    set(m, 'aws:principalarn', principalArn(principal));
    set(m, 'aws:principalaccount', principal.accountId);
    set(m, 'aws:principaltype', PRINCIPAL_TYPE[principal.kind]);
    set(m, 'aws:userid', principalUserId(principal));
    set(m, 'aws:principalisawsservice', 'false');
    if (principal.kind === 'iam-user') set(m, 'aws:username', principal.userName);
    const s = principal.session;
    if (s) {
      set(m, 'aws:tokenissuetime', s.issuedAt.replace(/\.\d{3}Z$/, 'Z'));
      set(m, 'aws:multifactorauthpresent', s.mfaAuthenticatedAt !== undefined ? 'true' : 'false');
      if (s.mfaAuthenticatedAt !== undefined) set(m, 'aws:multifactorauthage', String(Math.max(0, Math.floor((now.getTime() - Date.parse(s.mfaAuthenticatedAt)) / 1000))));
      if (s.sourceIdentity !== undefined) set(m, 'aws:sourceidentity', s.sourceIdentity);
    }
    for (const [k, v] of Object.entries(input.principalTags ?? {})) m.set(`aws:principaltag/${k.toLowerCase()}`, v);
  }
  set(m, 'aws:resourceaccount', input.resourceAccount);
  set(m, 's3:resourceaccount', input.resourceAccount);

  // Listing parameters are present only when sent (`prefix=` counts as present and empty).
  set(m, 's3:prefix', req.query.get('prefix'));
  set(m, 's3:delimiter', req.query.get('delimiter'));
  set(m, 's3:max-keys', req.query.get('max-keys'));
  set(m, 's3:versionid', req.query.get('versionId'));
  for (const [h, k] of HEADER_KEYS) set(m, k, header(req, h));
  if (input.requestObjectTags) {
    const keys = Object.keys(input.requestObjectTags);
    for (const k of keys) m.set(`s3:requestobjecttag/${k.toLowerCase()}`, input.requestObjectTags[k]!);
    m.set('s3:requestobjecttagkeys', keys);
  }

  const signed = (version: string, form: 'header' | 'query', ageMs: number): void => {
    set(m, 's3:signatureversion', version);
    set(m, 's3:authtype', form === 'query' ? 'REST-QUERY-STRING' : 'REST-HEADER');
    set(m, 's3:signatureage', String(Math.max(0, Math.round(ageMs))));
  };
  switch (auth.kind) {
    case 'anonymous':
      break;
    case 'sigv4':
      signed('AWS4-HMAC-SHA256', auth.v4.form, auth.v4.signatureAgeMs);
      break;
    case 'sigv2':
      signed('AWS', auth.v2.form, auth.v2.signatureAgeMs);
      break;
    case 'post-form':
      set(m, 's3:signatureversion', auth.version === 'v4' ? 'AWS4-HMAC-SHA256' : 'AWS');
      set(m, 's3:authtype', 'POST');
      break;
  }
  if (req.tls) {
    const v = /^TLSv(\d)(?:\.(\d))?$/.exec(req.tls.version);
    if (v) set(m, 's3:tlsversion', `${v[1]}.${v[2] ?? '0'}`);
  }
  return m;
}

/**
 * Adds s3:ExistingObjectTag/<k> for the stored object's tags (case of tag keys preserved in
 * the name lookup): into a copy of base, or into base itself when the caller owns it alone.
 */
export function withExistingObjectTags(base: ReadonlyMap<string, ContextValue>, tags: Record<string, string>, inPlace = false): Map<string, ContextValue> {
  const m = inPlace && base instanceof Map ? (base as Map<string, ContextValue>) : new Map(base);
  for (const [k, v] of Object.entries(tags)) m.set(`s3:existingobjecttag/${k.toLowerCase()}`, v);
  return m;
}
