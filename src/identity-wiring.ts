/**
 * Composition of the identity services: the IAM and STS endpoints, the simulator, and the
 * caches the authorizer reads. Kept apart from main.ts so the wiring between IAM writes and
 * cache invalidation is in one place: any IAM change clears the credential and identity
 * caches at once (a deactivated key or a detached policy takes effect on the next request).
 */
import type { CredentialCache } from './auth/credentials.js';
import type { Keyring } from './crypto/keyring.js';
import { Authorizer } from './authz/authorizer.js';
import { IdentityCache } from './authz/identity-side.js';
import { principalFacts } from './authz/request-context.js';
import { queryResponse, IAM_XMLNS, iamError } from './iam/api/xml.js';
import { memberList, stringList, type QueryRequest } from './iam/api/query.js';
import type { ContextValue } from './iam/policy/request.js';
import {
  IamService, loadIdentityPolicies, resolveAuthorizationTarget, resolveManagedPolicyDocuments, verifyMfaCode,
} from './iam/service/iam-service.js';
import { simulate, type SimPolicy } from './iam/simulate.js';
import { sessionOpener, StsService } from './iam/sts/sts-service.js';
import type { WebIdentityVerifier } from './iam/sts/web-identity.js';
import type { IamEndpoint, StsEndpoint } from './query-api.js';
import type { MetadataStore } from './storage/ports.js';
import type { Clock } from './util/clock.js';
import type { SignedPrincipal } from './auth/principal.js';
import type { SessionOpener } from './auth/authenticate.js';

export interface IdentityServices {
  authorizer: Authorizer;
  identities: IdentityCache;
  iam: IamEndpoint;
  sts: StsEndpoint;
  sessions: SessionOpener;
  /** Condition keys of an IAM call or AssumeRole (the target's tags, request tags, iam:PermissionsBoundary, iam:PolicyARN). */
  iamContext: (query: QueryRequest, accountId: string) => Promise<Map<string, ContextValue>>;
}

/**
 * The condition keys IAM and STS evaluate with a call (IAM UG "IAM condition context keys"):
 * the tags of the user or role it targets (aws:ResourceTag/*, iam:ResourceTag/*), the tags it
 * sets (aws:RequestTag/*, aws:TagKeys), and iam:PermissionsBoundary / iam:PolicyARN.
 */
async function iamCallContext(meta: MetadataStore, query: QueryRequest, accountId: string): Promise<Map<string, ContextValue>> {
  const ctx = new Map<string, ContextValue>();
  const p = query.params;
  let target: { kind: 'user' | 'role'; name: string } | undefined;
  const roleArn = p.get('RoleArn');
  const m = roleArn !== undefined ? /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn) : null;
  if (m) target = { kind: 'role', name: m[2]! };
  else if (p.get('RoleName') !== undefined) target = { kind: 'role', name: p.get('RoleName')! };
  else if (p.get('UserName') !== undefined) target = { kind: 'user', name: p.get('UserName')! };
  const targetAccount = m ? m[1]! : accountId;
  if (target) {
    const doc = await meta.getIamEntity(targetAccount, target.kind, target.name);
    const tags = doc === undefined ? [] : ((JSON.parse(doc) as { tags?: { Key: string; Value: string }[] }).tags ?? []);
    for (const t of tags) {
      ctx.set(`aws:resourcetag/${t.Key.toLowerCase()}`, t.Value);
      ctx.set(`iam:resourcetag/${t.Key.toLowerCase()}`, t.Value);
    }
  }
  const requestTags = query.action === 'AssumeRole' ? [] : memberList(p, 'Tags');
  if (requestTags.length > 0) {
    for (const t of requestTags) if (t.Key !== undefined) ctx.set(`aws:requesttag/${t.Key.toLowerCase()}`, t.Value ?? '');
    ctx.set('aws:tagkeys', requestTags.flatMap((t) => (t.Key !== undefined ? [t.Key] : [])));
  }
  const untag = stringList(p, 'TagKeys');
  if (untag.length > 0) ctx.set('aws:tagkeys', untag);
  const boundary = p.get('PermissionsBoundary');
  if (boundary !== undefined) ctx.set('iam:permissionsboundary', boundary);
  const policyArn = p.get('PolicyArn');
  if (policyArn !== undefined) ctx.set('iam:policyarn', policyArn);
  return ctx;
}

async function managedDocument(meta: MetadataStore, accountId: string, arn: string): Promise<string | undefined> {
  return (await resolveManagedPolicyDocuments(meta, accountId, [arn])).policies[0]?.document;
}

const SIMULATE = new Set(['SimulatePrincipalPolicy', 'SimulateCustomPolicy']);

/** The policies SimulatePrincipalPolicy starts from: those of the user, group or role PolicySourceArn names. */
async function sourcePolicies(meta: MetadataStore, accountId: string, arn: string): Promise<{ policies: SimPolicy[]; boundary?: SimPolicy; facts: ReturnType<typeof principalFacts> }> {
  const m = /^arn:aws:iam::(\d{12}):(user|role|group)(\/(?:.*\/)?)?([^/]+)$/.exec(arn);
  if (!m || m[1] !== accountId) throw iamError('InvalidInput', `Invalid ARN: ${arn}`);
  const kind = m[2] as 'user' | 'role' | 'group';
  const name = m[4]!;
  if (kind === 'group') {
    const doc = await meta.getIamEntity(accountId, 'group', name);
    if (doc === undefined) throw iamError('NoSuchEntity', `The group with name ${name} cannot be found.`);
    const g = JSON.parse(doc) as { inlinePolicies: Record<string, string>; attachedPolicies: string[] };
    const inline = Object.entries(g.inlinePolicies).map(([n, d]): SimPolicy => ({ id: n, type: 'group', document: d }));
    const managed = (await resolveManagedPolicyDocuments(meta, accountId, g.attachedPolicies)).policies.map((p): SimPolicy => ({ id: p.id, type: 'user-managed', document: p.document }));
    return { policies: [...inline, ...managed], facts: { kind: 'aws', account: accountId, arns: [arn], isRoot: false } };
  }
  const loaded = await loadIdentityPolicies(meta, accountId, { kind, name });
  if (!loaded) throw iamError('NoSuchEntity', `The ${kind} with name ${name} cannot be found.`);
  // The simulated principal is the entity as stored: its ARN (path and case) must match exactly.
  const stored = await meta.getIamEntity(accountId, kind, name);
  if (stored === undefined || (JSON.parse(stored) as { arn: string }).arn !== arn) throw iamError('NoSuchEntity', `The ${kind} with ARN ${arn} cannot be found.`);
  return {
    policies: loaded.policies.map((p): SimPolicy => ({ id: p.id, type: kind, document: p.document })),
    ...(loaded.boundary ? { boundary: { id: loaded.boundary.id, type: 'user-managed', document: loaded.boundary.document } } : {}),
    facts: { kind: 'aws', account: accountId, arns: [arn], isRoot: false },
  };
}

export function createIdentityServices(deps: { meta: MetadataStore; keyring: Keyring; clock: Clock; region: string; credentials: CredentialCache; webIdentity?: WebIdentityVerifier }): IdentityServices {
  const { meta, keyring, clock } = deps;
  const identities = new IdentityCache(meta, {
    load: (accountId, who) => loadIdentityPolicies(meta, accountId, who),
    managedPolicy: (accountId, arn) => managedDocument(meta, accountId, arn),
  }, clock);
  const authorizer = new Authorizer(meta, deps.region, identities);
  const service = new IamService({
    meta, keyring, clock,
    onChange: () => {
      deps.credentials.clear();
      identities.clear();
    },
  });
  const iam: IamEndpoint = {
    authorizationTarget: async (query: QueryRequest, accountId: string, caller: SignedPrincipal) => {
      if (query.action === 'SimulateCustomPolicy') return { action: 'iam:SimulateCustomPolicy', resource: '*' };
      if (query.action === 'SimulatePrincipalPolicy') return { action: 'iam:SimulatePrincipalPolicy', resource: query.params.get('PolicySourceArn') ?? '*' };
      return resolveAuthorizationTarget(meta, query, accountId, caller);
    },
    handle: async (call) => {
      if (!SIMULATE.has(call.query.action)) return service.handle(call);
      const source = call.query.action === 'SimulatePrincipalPolicy' ? await sourcePolicies(meta, call.accountId, call.query.params.get('PolicySourceArn') ?? '') : undefined;
      const caller = call.query.params.get('CallerArn');
      const result = simulate({
        params: call.query.params,
        principalPolicies: source?.policies ?? [],
        principal: source?.facts ?? (caller ? { kind: 'aws', account: call.accountId, arns: [caller], isRoot: false } : principalFacts(call.caller)),
        ...(source?.boundary ? { boundary: source.boundary } : {}),
      });
      return queryResponse(call.query.action, IAM_XMLNS, result, call.requestId);
    },
  };
  const sts = new StsService({
    meta, keyring, clock,
    // A code proves MFA only with a device enabled for the calling IAM user (root MFA devices
    // are not implemented, and a role session has no device of its own).
    verifyMfaCode: async (accountId, serial, code, nowMs, caller) => caller.kind === 'iam-user' && verifyMfaCode(meta, keyring, accountId, serial, code, nowMs, caller.userName),
    loadManagedPolicy: (accountId, arn) => managedDocument(meta, accountId, arn),
    ...(deps.webIdentity ? { webIdentity: deps.webIdentity } : {}),
  });
  return { authorizer, identities, iam, sts, sessions: sessionOpener(keyring), iamContext: (query, accountId) => iamCallContext(meta, query, accountId) };
}
