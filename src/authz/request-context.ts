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
import { conditionKeyAppliesToAction } from '../iam/policy/s3-model.js';

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

const ANONYMOUS_FACTS: PrincipalFacts = { kind: 'anonymous' };
/** Facts by principal object (partition aws): a signed caller's principal is cached with its key, so every request of that key shares them. */
const factsMemo = new WeakMap<Principal, PrincipalFacts>();

/** The facts about the caller that Principal elements match against (shared between requests: never modify them). */
export function principalFacts(p: Principal, partition = 'aws'): PrincipalFacts {
  // Anonymous principals are made per request: nothing to remember.
  if (p.kind === 'anonymous') return ANONYMOUS_FACTS;
  if (partition !== 'aws') return factsOf(p, partition);
  let f = factsMemo.get(p);
  if (f === undefined) {
    f = factsOf(p, partition);
    factsMemo.set(p, f);
  }
  return f;
}

function factsOf(p: Principal, partition: string): PrincipalFacts {
  switch (p.kind) {
    case 'anonymous':
      return ANONYMOUS_FACTS;
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
  /**
   * The action the context is for. When set, a request-derived `s3:` key is present only if
   * the S3 model lists it for the action (AWS's request context: `s3:prefix` only on listing,
   * `s3:x-amz-acl` only on the writes that take an ACL, …), whatever the client sent.
   */
  action?: string;
}

const keyActionMemo = new Map<string, boolean>();

/** Whether an `s3:` condition key is in the request context of an action (the S3 model), memoised. */
function s3KeyApplies(keyLower: string, action: string): boolean {
  const memoKey = `${action}\u0000${keyLower}`;
  let yes = keyActionMemo.get(memoKey);
  if (yes === undefined) {
    yes = conditionKeyAppliesToAction(keyLower, action);
    if (keyActionMemo.size >= 4096) keyActionMemo.clear();
    keyActionMemo.set(memoKey, yes);
  }
  return yes;
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

type Resolver = (input: ContextInput) => ContextValue | undefined;

const signatureVersion = (auth: AuthInfo): string | undefined => {
  switch (auth.kind) {
    case 'anonymous': return undefined;
    case 'sigv4': return 'AWS4-HMAC-SHA256';
    case 'sigv2': return 'AWS';
    case 'post-form': return auth.version === 'v4' ? 'AWS4-HMAC-SHA256' : 'AWS';
  }
};
const signatureForm = (auth: AuthInfo): 'header' | 'query' | 'POST' | undefined => {
  switch (auth.kind) {
    case 'anonymous': return undefined;
    case 'sigv4': return auth.v4.form;
    case 'sigv2': return auth.v2.form;
    case 'post-form': return 'POST';
  }
};
const signatureAgeMs = (auth: AuthInfo): number | undefined =>
  auth.kind === 'sigv4' ? auth.v4.signatureAgeMs : auth.kind === 'sigv2' ? auth.v2.signatureAgeMs : undefined;
const signedPrincipal = (input: ContextInput): Exclude<Principal, { kind: 'anonymous' }> | undefined =>
  input.principal.kind === 'anonymous' ? undefined : input.principal;
const sessionOf = (input: ContextInput): NonNullable<Exclude<Principal, { kind: 'anonymous' }>['session']> | undefined =>
  signedPrincipal(input)?.session;

/** How each fixed key is computed from the request. Tag keys (`…/<tag>`) are resolved apart. */
const RESOLVERS: ReadonlyMap<string, Resolver> = new Map<string, Resolver>([
  ['aws:securetransport', ({ req }) => (req.tls ? 'true' : 'false')],
  ['aws:sourceip', ({ req }) => req.clientIp || undefined],
  ['aws:currenttime', ({ req }) => (clockKeys(req.receivedAt), clockIso)],
  ['aws:epochtime', ({ req }) => (clockKeys(req.receivedAt), clockEpoch)],
  ['aws:requestedregion', (i) => i.region],
  ['aws:viaawsservice', () => 'false'],
  ['aws:useragent', ({ req }) => header(req, 'user-agent')],
  ['aws:referer', ({ req }) => header(req, 'referer')],
  ['aws:principaltype', ({ principal: p }) => (p.kind === 'anonymous' ? 'Anonymous' : PRINCIPAL_TYPE[p.kind])],
  ['aws:userid', ({ principal: p }) => (p.kind === 'anonymous' ? 'anonymous' : principalUserId(p))],
  ['aws:principalarn', ({ principal: p }) => (p.kind === 'anonymous' ? undefined : principalArn(p))],
  ['aws:principalaccount', (i) => signedPrincipal(i)?.accountId],
  ['aws:principalisawsservice', (i) => (signedPrincipal(i) ? 'false' : undefined)],
  ['aws:username', ({ principal: p }) => (p.kind === 'iam-user' ? p.userName : undefined)],
  ['aws:tokenissuetime', (i) => sessionOf(i)?.issuedAt.replace(/\.\d{3}Z$/, 'Z')],
  ['aws:multifactorauthpresent', (i) => {
    const s = sessionOf(i);
    return s === undefined ? undefined : s.mfaAuthenticatedAt !== undefined ? 'true' : 'false';
  }],
  ['aws:multifactorauthage', (i) => {
    const at = sessionOf(i)?.mfaAuthenticatedAt;
    return at === undefined ? undefined : String(Math.max(0, Math.floor((i.req.receivedAt.getTime() - Date.parse(at)) / 1000)));
  }],
  ['aws:sourceidentity', (i) => sessionOf(i)?.sourceIdentity],
  ['aws:resourceaccount', (i) => i.resourceAccount],
  ['s3:resourceaccount', (i) => i.resourceAccount],
  // Listing parameters are present only when sent (`prefix=` counts as present and empty), max-keys aside.
  ['s3:prefix', ({ req }) => req.query.get('prefix')],
  ['s3:delimiter', ({ req }) => req.query.get('delimiter')],
  // Always present for a listing (IAM UG): a request without the parameter lists up to
  // 1000 keys, so it is judged as max-keys=1000 (semantics.md c.4). The action filter keeps
  // it to listings; a context for no particular action has it only when sent.
  ['s3:max-keys', (i) => i.req.query.get('max-keys') ?? (i.action !== undefined ? '1000' : undefined)],
  ['s3:versionid', ({ req }) => req.query.get('versionId')],
  ...HEADER_KEYS.map(([h, k]): [string, Resolver] => [k, ({ req }) => header(req, h)]),
  ['s3:requestobjecttagkeys', (i) => (i.requestObjectTags ? Object.keys(i.requestObjectTags) : undefined)],
  ['s3:signatureversion', (i) => signatureVersion(i.auth)],
  ['s3:authtype', (i) => {
    const form = signatureForm(i.auth);
    return form === undefined ? undefined : form === 'POST' ? 'POST' : form === 'query' ? 'REST-QUERY-STRING' : 'REST-HEADER';
  }],
  ['s3:signatureage', (i) => {
    const age = signatureAgeMs(i.auth);
    return age === undefined ? undefined : String(Math.max(0, Math.round(age)));
  }],
  ['s3:tlsversion', ({ req }) => {
    const v = req.tls ? /^TLSv(\d)(?:\.(\d))?$/.exec(req.tls.version) : null;
    return v ? `${v[1]}.${v[2] ?? '0'}` : undefined;
  }],
]);

/** Tag sets that become `<prefix><lower-cased tag key>` keys (a later tag wins a case collision). */
const TAG_SOURCES: ReadonlyArray<readonly [string, (input: ContextInput) => Record<string, string> | undefined]> = [
  ['aws:principaltag/', (i) => (i.principal.kind === 'anonymous' ? undefined : i.principalTags)],
  ['s3:requestobjecttag/', (i) => i.requestObjectTags],
];

/**
 * The request-level context (object tags of stored objects are added per check). A Map whose
 * request-derived keys are computed when first read: a policy reads a handful of the ~40 keys,
 * and building all of them for every request was most of a bucket policy's cost on a small
 * GET. Reads, writes and deletes behave as on a Map built eagerly; a key set or deleted
 * explicitly wins over the computed one, and iterating (or copying) computes every key first.
 */
export class RequestContext extends Map<string, ContextValue> {
  private removed: Set<string> | undefined;
  /** Keys set explicitly (not computed): they travel to a copy for another action. */
  private explicit: Set<string> | undefined;
  private complete = false;
  private cleared = false;

  constructor(private readonly input: ContextInput) {
    super();
  }

  override get(key: string): ContextValue | undefined {
    const v = super.get(key);
    if (v !== undefined || this.complete || this.removed?.has(key) === true) return v;
    return this.resolve(key);
  }

  override set(key: string, value: ContextValue): this {
    // Map's constructor calls set before the fields exist; nothing is passed to it here.
    (this.explicit ??= new Set()).add(key);
    return super.set(key, value);
  }

  override has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  override delete(key: string): boolean {
    const had = this.has(key);
    this.explicit?.delete(key);
    (this.removed ??= new Set()).add(key);
    super.delete(key);
    return had;
  }

  override clear(): void {
    super.clear();
    // Cleared means empty: nothing is computed any more.
    this.complete = true;
    this.cleared = true;
    this.explicit = undefined;
  }

  override get size(): number {
    this.computeAll();
    return super.size;
  }

  override entries(): MapIterator<[string, ContextValue]> {
    this.computeAll();
    return super.entries();
  }

  override keys(): MapIterator<string> {
    this.computeAll();
    return super.keys();
  }

  override values(): MapIterator<ContextValue> {
    this.computeAll();
    return super.values();
  }

  override forEach(fn: (value: ContextValue, key: string, map: Map<string, ContextValue>) => void, thisArg?: unknown): void {
    this.computeAll();
    super.forEach(fn, thisArg);
  }

  override [Symbol.iterator](): MapIterator<[string, ContextValue]> {
    return this.entries();
  }

  /** A copy that stays lazy: the same request, this context's explicit keys and deletions. */
  clone(): RequestContext {
    const c = new RequestContext(this.input);
    for (const [k, v] of super.entries()) super.set.call(c, k, v);
    if (this.explicit) c.explicit = new Set(this.explicit);
    if (this.removed) c.removed = new Set(this.removed);
    c.complete = this.complete;
    c.cleared = this.cleared;
    return c;
  }

  /** The same request's context for another action: its explicit keys and deletions; computed keys computed afresh. */
  forAction(action: string): RequestContext {
    const c = new RequestContext({ ...this.input, action });
    for (const k of this.explicit ?? []) {
      const v = super.get(k);
      if (v !== undefined) c.set(k, v);
    }
    if (this.removed) c.removed = new Set(this.removed);
    c.complete = this.cleared;
    c.cleared = this.cleared;
    return c;
  }

  private resolve(key: string): ContextValue | undefined {
    const action = this.input.action;
    if (action !== undefined && key.startsWith('s3:') && !s3KeyApplies(key, action)) return undefined;
    const r = RESOLVERS.get(key);
    let v: ContextValue | undefined;
    if (r !== undefined) {
      v = r(this.input);
    } else {
      const slash = key.indexOf('/');
      if (slash < 0) return undefined;
      const prefix = key.slice(0, slash + 1);
      for (const [p, source] of TAG_SOURCES) if (p === prefix) v = tagValue(source(this.input), key.slice(slash + 1));
    }
    if (v !== undefined) super.set(key, v);
    return v;
  }

  private computeAll(): void {
    if (this.complete) return;
    for (const key of RESOLVERS.keys()) this.get(key);
    for (const [prefix, source] of TAG_SOURCES) {
      for (const k of Object.keys(source(this.input) ?? {})) this.get(`${prefix}${k.toLowerCase()}`);
    }
    this.complete = true;
  }
}

/** The value of the tag whose lower-cased key is `lower` (the last one, as building the keys in order would leave it). */
function tagValue(tags: Record<string, string> | undefined, lower: string): string | undefined {
  if (tags === undefined) return undefined;
  let v: string | undefined;
  for (const k of Object.keys(tags)) if (k.toLowerCase() === lower) v = tags[k];
  return v;
}

/** Builds the request-level context (object tags of stored objects are added per check). */
export function buildRequestContext(input: ContextInput): Map<string, ContextValue> {
  return new RequestContext(input);
}

/**
 * Adds s3:ExistingObjectTag/<k> for the stored object's tags (case of tag keys preserved in
 * the name lookup): into a copy of base, or into base itself when the caller owns it alone.
 */
export function withExistingObjectTags(base: ReadonlyMap<string, ContextValue>, tags: Record<string, string>, inPlace = false): Map<string, ContextValue> {
  const m = inPlace && base instanceof Map ? (base as Map<string, ContextValue>) : copyContext(base);
  for (const [k, v] of Object.entries(tags)) m.set(`s3:existingobjecttag/${k.toLowerCase()}`, v);
  return m;
}

/** A mutable copy of a context (a request context stays lazy). */
export function copyContext(ctx: ReadonlyMap<string, ContextValue>): Map<string, ContextValue> {
  return ctx instanceof RequestContext ? ctx.clone() : new Map(ctx);
}

/** A mutable copy of a context for another action (see ContextInput.action); a plain map is copied as it is. */
export function contextForAction(ctx: ReadonlyMap<string, ContextValue>, action: string): Map<string, ContextValue> {
  return ctx instanceof RequestContext ? ctx.forAction(action) : new Map(ctx);
}
