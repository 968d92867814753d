/**
 * Composition of the built-in KMS: its decisions (key policies evaluated with the caller's
 * identity side, src/authz/decide-kms.ts), its audit sink, its JSON endpoint, and the
 * adapter S3 uses for SSE-KMS on the requester's behalf (kms:ViaService = s3).
 */
import { callerArn, type SignedPrincipal, type Principal } from './auth/principal.js';
import type { AuditSink } from './audit/audit.js';
import { decideKms } from './authz/decide-kms.js';
import type { IdentityCache } from './authz/identity-side.js';
import type { Keyring } from './crypto/keyring.js';
import { s3error } from './errors/s3-errors.js';
import { compilePolicy, type CompiledPolicy } from './iam/policy/compile.js';
import { parsePolicy } from './iam/policy/parse.js';
import type { ContextValue } from './iam/policy/request.js';
import { KmsError, KmsService, s3ViaService, type KmsAuthorize } from './kms/kms-service.js';
import { loadKey } from './kms/store.js';
import { grantAllowing } from './kms/grants.js';
import type { KmsKeyDoc } from './kms/model.js';
import type { KmsEndpoint } from './query-api.js';
import type { S3Kms } from './s3/sse.js';
import type { S3Request } from './http/request.js';
import { buildRequestContext } from './authz/request-context.js';
import type { MetadataStore } from './storage/ports.js';
import type { Clock } from './util/clock.js';

export interface KmsServices {
  service: KmsService;
  endpoint: KmsEndpoint;
  s3: S3Kms;
}

const POLICY_TYPE = { 'resource-policy': 'resource-based', 'identity-policy': 'identity-based', 'permissions-boundary': 'permissions boundary', 'session-policy': 'session', scp: 'service control' } as const;

/** S3's answer for a KMS failure on an SSE-KMS request. */
function toS3(e: unknown): unknown {
  if (!(e instanceof KmsError)) return e;
  switch (e.code) {
    case 'AccessDeniedException':
      return s3error('AccessDenied', e.message);
    case 'DisabledException':
      return s3error('KMS.DisabledException', e.message);
    case 'NotFoundException':
      return s3error('KMS.NotFoundException', e.message);
    case 'KMSInvalidStateException':
      return s3error('KMS.KMSInvalidStateException', e.message);
    case 'InvalidCiphertextException':
    case 'IncorrectKeyException':
      return s3error('KMS.InvalidCiphertextException', e.message);
    case 'ValidationException':
      return s3error('InvalidArgument', e.message);
    default:
      return e;
  }
}

/** KMS operations that change no key or alias (everything else clears the S3-side caches). */
const READ_ONLY = new Set([
  'DescribeKey', 'ListKeys', 'ListAliases', 'GetKeyPolicy', 'ListKeyPolicies', 'GetKeyRotationStatus', 'ListKeyRotations', 'ListResourceTags',
  'Encrypt', 'Decrypt', 'ReEncrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'GenerateRandom',
]);

function signed(p: Principal): SignedPrincipal {
  // SSE-KMS refuses anonymous callers before the KMS is reached (s3/sse.ts).
  if (p.kind === 'anonymous') throw s3error('AccessDenied');
  return p;
}

export function createKmsServices(deps: { meta: MetadataStore; keyring: Keyring; clock: Clock; region: string; identities: IdentityCache; audit: AuditSink }): KmsServices {
  const compiled = new Map<string, CompiledPolicy>();
  const conditionalMemo = new Map<string, boolean>();
  /** Whether a policy reads the request context at all (conditions or ${…} variables). */
  const conditional = (text: string): boolean => {
    let c = conditionalMemo.get(text);
    if (c === undefined) {
      // Normalised first, so an escaped element name ("Condi\u0074ion") cannot hide.
      let normalised = text;
      try {
        normalised = JSON.stringify(JSON.parse(text));
      } catch {
        c = true;
      }
      c ??= /"condition"|\$\{/i.test(normalised);
      if (conditionalMemo.size >= 1_000) conditionalMemo.clear();
      conditionalMemo.set(text, c);
    }
    return c;
  };
  const compileKeyPolicy = (text: string): CompiledPolicy => {
    let c = compiled.get(text);
    if (!c) {
      const parsed = parsePolicy(text);
      if (!('ast' in parsed)) throw new Error('a stored key policy does not parse');
      c = compilePolicy(parsed.ast, { policyId: 'key-policy' });
      if (compiled.size >= 1_000) compiled.clear();
      compiled.set(text, c);
    }
    return c;
  };
  const authorize: KmsAuthorize = async (r) => {
    const loaded = deps.identities.peekRoot(r.caller) ?? await deps.identities.sideFor(r.caller);
    if (!loaded) return { effect: 'ImplicitDeny', reason: 'the caller\'s user or role does not exist', grantable: false };
    let context = r.context;
    if (loaded.context.size > 0) {
      const merged = new Map<string, ContextValue>(loaded.context);
      for (const [k, v] of r.context) merged.set(k, v);
      context = merged;
    }
    const d = decideKms({
      principal: r.caller, action: r.action, resource: r.keyArn,
      keyAccountId: r.keyPolicy === undefined ? undefined : r.keyAccountId,
      keyPolicy: r.keyPolicy === undefined ? undefined : compileKeyPolicy(r.keyPolicy),
      identity: loaded.side, context,
    });
    const first = d.trace[0];
    const policyType = first && first.layer in POLICY_TYPE ? POLICY_TYPE[first.layer as keyof typeof POLICY_TYPE] : undefined;
    return { effect: d.effect, grantable: d.gatesOk, ...(first ? { reason: first.reason } : {}), ...(policyType ? { policyType } : {}) };
  };
  const service = new KmsService({
    meta: deps.meta, keyring: deps.keyring, clock: deps.clock, region: deps.region, authorize,
    audit: (e) => deps.audit.record(e),
  });
  // The S3 request's own condition keys go with every KMS call made for it (aws:PrincipalArn,
  // aws:SourceIp, aws:MultiFactorAuthPresent, principal tags…): a key policy's conditions
  // must see the same caller whether it calls KMS directly or through S3.
  const s3Context = async (p: SignedPrincipal, req: S3Request): Promise<Map<string, ContextValue>> => {
    const ctx = buildRequestContext({ req, principal: p, auth: { kind: 'anonymous' }, region: deps.region, resourceAccount: undefined });
    for (const [k, v] of (await deps.identities.sideFor(p))?.context ?? []) ctx.set(k, v);
    return ctx;
  };
  // Key documents and key references, as S3's hot path reads them (a cached Bucket Key still
  // checks the key's state and policy per request). Any KMS call that may change a key or an
  // alias clears both, so a disabled key is refused on the very next request.
  const keyDocs = new Map<string, KmsKeyDoc | undefined>();
  const keyRefs = new Map<string, string>();
  const forget = (): void => {
    keyDocs.clear();
    keyRefs.clear();
  };
  // Allowed (account, action, key ARN as requested) of lean decisions (below), per key document: a document
  // is replaced whenever anything about its key changes (forget()), which drops its memo.
  const leanAllowed = new WeakMap<KmsKeyDoc, Set<string>>();
  const cachedKey = async (accountId: string, keyId: string): Promise<KmsKeyDoc | undefined> => {
    const id = `${accountId}\u0000${keyId}`;
    if (keyDocs.has(id)) return keyDocs.get(id);
    const doc = await loadKey(deps.meta, accountId, keyId);
    if (keyDocs.size >= 10_000) keyDocs.clear();
    keyDocs.set(id, doc);
    return doc;
  };
  const via = async (p: SignedPrincipal, req: S3Request) => ({ service: 's3' as const, region: deps.region, requestId: req.requestId, context: await s3Context(p, req) });
  const s3: S3Kms = {
    resolveKeyArn: async (caller, keyRef, req) => {
      try {
        const p = signed(caller);
        const id = `${p.accountId}\u0000${keyRef ?? ''}`;
        const hit = keyRefs.get(id);
        if (hit !== undefined) return hit;
        const arn = (await service.resolveKeyFor(p, keyRef, await via(p, req))).keyArn;
        if (keyRefs.size >= 10_000) keyRefs.clear();
        keyRefs.set(id, arn);
        return arn;
      } catch (e) {
        throw toS3(e);
      }
    },
    generateDataKey: async (caller, keyRef, context, req) => {
      try {
        const p = signed(caller);
        return await service.generateDataKeyFor(p, keyRef, context, await via(p, req));
      } catch (e) {
        throw toS3(e);
      }
    },
    decrypt: async (caller, blob, context, req) => {
      try {
        const p = signed(caller);
        return await service.decryptFor(p, blob, context, await via(p, req));
      } catch (e) {
        throw toS3(e);
      }
    },
    // A Bucket Key served from cache still needs the caller's right on the KMS key, and the
    // key must still be usable: the same checks as a KMS call, without the cryptography.
    authorize: async (caller, keyArn, action, context, req) => {
      const requestId = req.requestId;
      const m = /^arn:aws:kms:[^:]+:(\d{12}):key\/(.+)$/.exec(keyArn);
      const key = m ? await cachedKey(m[1]!, m[2]!) : undefined;
      if (!key) throw s3error('KMS.NotFoundException', `Key '${keyArn}' does not exist`);
      if (key.keyState === 'Disabled') throw s3error('KMS.DisabledException', `${keyArn} is disabled.`);
      if (key.keyState !== 'Enabled') throw s3error('KMS.KMSInvalidStateException', `${keyArn} is pending deletion.`);
      const p = signed(caller);
      // Without conditions or variables in the key policy, and for a root key without a session
      // or organization (no identity policies are read), no condition key is ever consulted:
      // the request context need not be built.
      const lean = !conditional(key.policy) && deps.identities.peekRoot(p) !== undefined;
      // Such a decision depends on nothing the request carries — only the account, the action
      // and this key document — so an Allow is remembered with the document (a refusal is
      // decided and audited afresh each time).
      const leanId = `${p.accountId}\u0000${action}\u0000${keyArn}`;
      if (lean && leanAllowed.get(key)?.has(leanId) === true) return;
      const ctx = lean ? new Map<string, ContextValue>() : await s3Context(p, req);
      ctx.set('kms:calleraccount', p.accountId);
      ctx.set('kms:viaservice', s3ViaService(deps.region));
      ctx.set('aws:viaawsservice', 'true');
      // The key's own facts, as a KMS call would see them (src/kms/core.ts Call.authorize).
      ctx.set('kms:keyspec', key.keySpec);
      ctx.set('kms:keyusage', key.keyUsage);
      ctx.set('kms:keyorigin', key.origin);
      ctx.set('kms:multiregion', 'false');
      for (const t of key.tags) ctx.set(`aws:resourcetag/${t.TagKey.toLowerCase()}`, t.TagValue);
      const keys = Object.keys(context);
      ctx.set('kms:encryptioncontextkeys', keys);
      for (const k of keys) ctx.set(`kms:encryptioncontext:${k.toLowerCase()}`, context[k]!);
      const d = await authorize({ caller: p, action, keyArn, keyAccountId: key.accountId, keyPolicy: key.policy, context: ctx });
      if (lean && d.effect === 'Allow') {
        let allowed = leanAllowed.get(key);
        if (!allowed) leanAllowed.set(key, (allowed = new Set()));
        allowed.add(leanId);
      }
      if (d.effect === 'ImplicitDeny' && d.grantable !== false && grantAllowing(key, p, action, context)) return;
      // A cached Bucket Key makes no KMS call, so an allowed use leaves no KMS record (as on
      // AWS, where that is the point of Bucket Keys); a refusal is recorded with its reason.
      if (d.effect !== 'Allow') deps.audit.record({
        time: deps.clock.now().toISOString(), service: 'kms', operation: action === 'kms:Decrypt' ? 'Decrypt (S3 Bucket Key, cached)' : 'GenerateDataKey (S3 Bucket Key, cached)',
        requestId, viaRequestId: requestId, callerArn: callerArn(p)!, accountId: p.accountId, resource: keyArn,
        outcome: 'denied', ...(d.reason ? { reason: d.reason } : {}),
      });
      if (d.effect !== 'Allow') throw s3error('AccessDenied', `User is not authorized to perform: ${action} on resource: ${keyArn}`);
    },
  };
  const endpoint: KmsEndpoint = {
    handle: async (call) => {
      try {
        return await service.handle(call);
      } finally {
        if (!READ_ONLY.has(call.operation)) forget();
      }
    },
  };
  return { service, endpoint, s3 };
}

