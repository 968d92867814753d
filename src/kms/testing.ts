/**
 * Test harness for the KMS service: a real SQLite metadata store in a temporary directory,
 * two accounts, a settable clock, a recording authorizer (allows everything unless a test
 * installs a rule), and an evaluator that applies key policies for tests that need real
 * policy semantics (the aws/s3 key's conditions).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SignedPrincipal } from '../auth/principal.js';
import { principalFacts } from '../authz/request-context.js';
import { Keyring } from '../crypto/keyring.js';
import { compilePolicy } from '../iam/policy/compile.js';
import { evaluatePolicy } from '../iam/policy/evaluate.js';
import { parsePolicy } from '../iam/policy/parse.js';
import type { ContextValue } from '../iam/policy/request.js';
import { SqliteMetadataStore } from '../storage/sqlite/metadata-store.js';
import { KmsError, KmsService, type KmsAuditEvent, type KmsAuthorizeRequest, type KmsAuthorizeResult, type KmsErrorCode } from './kms-service.js';

export const A = '111111111111';
export const B = '222222222222';
export const REGION = 'us-east-1';
export const T0 = Date.parse('2026-03-01T12:00:00.000Z');
export const DAY = 86_400_000;

const canonical = (acct: string): string => acct.slice(0, 1).repeat(64);

export const root = (acct: string): SignedPrincipal => ({ kind: 'account-root', accountId: acct, canonicalId: canonical(acct), accessKeyId: `AKIAROOT${acct}` });
export const user = (acct: string, name: string): SignedPrincipal => ({
  kind: 'iam-user', accountId: acct, canonicalId: canonical(acct), accessKeyId: `AKIAUSER${name.toUpperCase()}`,
  userName: name, userId: `AIDA${name.toUpperCase().padEnd(17, 'X')}`, path: '/',
});

export type Rule = (r: KmsAuthorizeRequest) => KmsAuthorizeResult | undefined;

/**
 * Applies the key policy alone (identity policies are taken to allow): an explicit Deny
 * refuses, an Allow naming the caller, "*" or the caller's account grants. Resources
 * without a key policy ('*', aliases) are allowed.
 */
export const keyPolicyRule: Rule = (r) => {
  if (r.keyPolicy === undefined) return { effect: 'Allow' };
  const parsed = parsePolicy(r.keyPolicy);
  assert.ok('ast' in parsed, 'stored key policy must parse');
  const { matches } = evaluatePolicy(compilePolicy(parsed.ast), {
    action: r.action, resource: r.keyArn, principal: principalFacts(r.caller), context: r.context,
  }, { missingKeys: false });
  if (matches.some((m) => m.effect === 'Deny')) return { effect: 'ExplicitDeny', reason: 'key policy denies' };
  if (matches.some((m) => m.effect === 'Allow')) return { effect: 'Allow' };
  return { effect: 'ImplicitDeny', reason: 'key policy does not allow' };
};

export interface Harness {
  meta: SqliteMetadataStore;
  keyring: Keyring;
  kms: KmsService;
  /** Milliseconds since the epoch the service's clock reports. */
  now: number;
  authCalls: KmsAuthorizeRequest[];
  audits: KmsAuditEvent[];
  /** First rule with an answer decides; none → Allow. */
  rules: Rule[];
  call(op: string, input?: Record<string, unknown>, caller?: SignedPrincipal, context?: ReadonlyMap<string, ContextValue>): Promise<Record<string, unknown>>;
  fail(op: string, input: Record<string, unknown>, code: KmsErrorCode, message?: string | RegExp, caller?: SignedPrincipal): Promise<KmsError>;
  /** Creates a key and returns its metadata. */
  createKey(input?: Record<string, unknown>, caller?: SignedPrincipal): Promise<{ KeyId: string; Arn: string } & Record<string, unknown>>;
  /** Back to the start state between tests sharing one harness: clock at T0, no rules, no recorded calls. */
  reset(): void;
  close(): Promise<void>;
}

export async function harness(): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'kura-kms-'));
  const meta = SqliteMetadataStore.open(join(dir, 'meta.db'));
  for (const id of [A, B]) await meta.createAccount({ id, name: `acct-${id}`, canonicalId: canonical(id), email: null, createdAt: new Date(T0).toISOString() });
  const keyring = Keyring.fromKeys([{ id: 'k1', key: randomBytes(32) }], 'k1');
  let seq = 0;
  const h: Harness = {
    meta,
    keyring,
    kms: undefined as unknown as KmsService,
    now: T0,
    authCalls: [],
    audits: [],
    rules: [],
    async call(op, input = {}, caller = root(A), context = new Map()) {
      const out = await h.kms.handle({ caller, requestId: `req-${++seq}`, operation: op, input: JSON.parse(JSON.stringify(input)), context });
      // Everything returned must survive the JSON round trip the endpoint performs.
      return JSON.parse(JSON.stringify(out)) as Record<string, unknown>;
    },
    reset() {
      h.now = T0;
      h.rules = [];
      h.authCalls.length = 0;
      h.audits.length = 0;
    },
    async fail(op, input, code, message, caller = root(A)) {
      let caught: unknown;
      try {
        await h.call(op, input, caller);
      } catch (e) {
        caught = e;
      }
      assert.ok(caught instanceof KmsError, `${op} should fail with ${code}, got ${String(caught)}`);
      assert.equal(caught.code, code, caught.message);
      if (typeof message === 'string') assert.equal(caught.message, message);
      else if (message) assert.match(caught.message, message);
      return caught;
    },
    async createKey(input = {}, caller = root(A)) {
      const out = await h.call('CreateKey', input, caller);
      return out.KeyMetadata as { KeyId: string; Arn: string } & Record<string, unknown>;
    },
    async close() {
      await meta.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  h.kms = new KmsService({
    meta, keyring, region: REGION,
    clock: { now: () => new Date(h.now) },
    authorize: (r) => {
      h.authCalls.push(r);
      for (const rule of h.rules) {
        const answer = rule(r);
        if (answer) return answer;
      }
      return { effect: 'Allow' };
    },
    audit: (e) => h.audits.push(e),
  });
  return h;
}

export const b64 = (s: string | Buffer): string => (typeof s === 'string' ? Buffer.from(s, 'utf8') : s).toString('base64');
export const unb64 = (v: unknown): Buffer => Buffer.from(v as string, 'base64');
