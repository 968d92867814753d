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
import type { QueryRequest } from './iam/api/query.js';
import {
  IamService, loadIdentityPolicies, resolveAuthorizationTarget, resolveManagedPolicyDocuments, verifyMfaCode,
} from './iam/service/iam-service.js';
import { simulate, type SimPolicy } from './iam/simulate.js';
import { sessionOpener, StsService } from './iam/sts/sts-service.js';
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
  return {
    policies: loaded.policies.map((p): SimPolicy => ({ id: p.id, type: kind, document: p.document })),
    ...(loaded.boundary ? { boundary: { id: loaded.boundary.id, type: 'user-managed', document: loaded.boundary.document } } : {}),
    facts: { kind: 'aws', account: accountId, arns: [arn], isRoot: false },
  };
}

export function createIdentityServices(deps: { meta: MetadataStore; keyring: Keyring; clock: Clock; region: string; credentials: CredentialCache }): IdentityServices {
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
    verifyMfaCode: (accountId, serial, code, nowMs, caller) => verifyMfaCode(meta, keyring, accountId, serial, code, nowMs, caller.kind === 'iam-user' ? caller.userName : undefined),
    loadManagedPolicy: (accountId, arn) => managedDocument(meta, accountId, arn),
  });
  return { authorizer, identities, iam, sts, sessions: sessionOpener(keyring) };
}
