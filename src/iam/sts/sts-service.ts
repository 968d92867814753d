/**
 * AWS STS over the Query protocol: GetCallerIdentity, GetSessionToken and AssumeRole.
 * Credentials are stateless (session-token.ts): nothing is written when a session starts.
 *
 * Who checks what for AssumeRole (the front door authenticates and authorizes the call
 * before handle() runs):
 *
 * - The caller (pipeline/authorizer) evaluates the *identity side* — the caller's identity
 *   policies, permissions boundary, session policies and SCPs — for every action
 *   `assumeRoleActions()` lists (sts:AssumeRole, plus sts:TagSession when the new session
 *   gets tags, plus sts:SetSourceIdentity when it gets a source identity) on the RoleArn,
 *   and rejects an explicit deny. By default it passes only calls the identity side
 *   allows for all of them. To get AWS's exact same-account semantics (a trust policy that
 *   names the caller directly suffices on its own within one account) it may instead pass
 *   every call without an explicit deny, with `identityAllowed` listing the actions the
 *   identity side allows; then handle() demands identity permission only where AWS does.
 * - handle() evaluates the role's *trust policy* (a resource policy) for the same actions
 *   with the role ARN as resource, principalFacts(caller), and the request context plus the
 *   STS keys: an explicit Deny refuses; an Allow naming the caller (its user, role or
 *   session ARN, or "*") grants directly; an Allow naming only the caller's account (id or
 *   root ARN) delegates to the account, so the identity side must allow as well, as it must
 *   for every cross-account call. Also here: the role exists (missing → AccessDenied, as
 *   AWS), MFA, durations, session policies, tags and the packed-size limit.
 */
import { callerArn, principalUserId, type SessionFacts, type SignedPrincipal } from '../../auth/principal.js';
import { principalFacts } from '../../authz/request-context.js';
import type { Keyring } from '../../crypto/keyring.js';
import type { MetadataStore } from '../../storage/ports.js';
import type { Clock } from '../../util/clock.js';
import { INT_RULES, MAX_TAGS, ParamReader, QueryError, RULES, isReservedTagKey, type QueryRequest, type StringRule } from '../api/query.js';
import { IamError, STS_VERSION, STS_XMLNS, invalidAction, queryResponse, type QueryObject } from '../api/xml.js';
import type { IamRole } from '../model.js';
import { compilePolicy, type CompiledPolicy } from '../policy/compile.js';
import { evaluatePolicy } from '../policy/evaluate.js';
import { parsePolicy } from '../policy/parse.js';
import type { ContextValue } from '../policy/request.js';
import { checkPackedPolicy, claimsOf, issueSession, type IssuedSession, type SessionClaims } from './session-token.js';
import { checkIdentityPolicy } from '../service/policy-docs.js';
import { findOidcProvider } from '../service/oidc.js';
import { WebIdentityError, type WebIdentityVerifier } from './web-identity.js';

export { openSession, principalFromClaims, sessionOpener, type SessionClaims } from './session-token.js';

const PARTITION = 'aws';

/** GetSessionToken's range; the account's root user is held to an hour, as in AWS. */
export const GET_SESSION_TOKEN_DURATION = { min: 900, max: 129_600, default: 43_200, rootMax: 3_600 } as const;
/** AssumeRole's default, and the cap for role chaining (a session assuming a role). */
export const ASSUME_ROLE_DEFAULT_SECONDS = 3_600;
export const ROLE_CHAINING_MAX_SECONDS = 3_600;
/** Session policies: inline plaintext length and managed ARNs, as the STS model and docs set them. */
export const MAX_SESSION_POLICY_CHARS = 2_048;
export const MAX_POLICY_ARNS = 10;

// STS model constraints that RULES (shared with IAM) does not carry.
const STS_RULES = {
  roleArn: { min: 20, max: 2048 },
  policy: { min: 1, max: MAX_SESSION_POLICY_CHARS, pattern: RULES.policyDocument.pattern, patternText: RULES.policyDocument.patternText },
  policyArn: { min: 20, max: 2048 },
  externalId: { min: 2, max: 1224, pattern: /^[\w+=,.@:/-]*$/, patternText: '[\\w+=,.@:\\/-]*' },
  serialNumber: { min: 9, max: 256, pattern: /^[\w+=/:,.@-]*$/, patternText: '[\\w+=/:,.@-]*' },
  sourceIdentity: { min: 2, max: 64, pattern: /^[\w+=,.@-]*$/, patternText: '[\\w+=,.@-]*' },
} as const satisfies Record<string, StringRule>;

export interface StsDeps {
  meta: MetadataStore;
  keyring: Keyring;
  clock: Clock;
  /**
   * Checks a TOTP code against the MFA device `serialNumber` of `caller` (accountId is the
   * caller's account). It should also confirm the device is enabled for the calling user
   * and guard against replay. Absent: any SerialNumber/TokenCode is refused.
   */
  verifyMfaCode?: (accountId: string, serialNumber: string, code: string, nowMs: number, caller: SignedPrincipal) => Promise<boolean>;
  /** A managed policy's default version document (session PolicyArns), AWS-managed ones included. */
  loadManagedPolicy?: (accountId: string, arn: string) => Promise<string | undefined>;
  /**
   * AWS refuses AssumeRole with root credentials ("Roles may not be assumed by root
   * accounts."); true lets root users assume roles anyway.
   */
  allowRootAssumeRole?: boolean;
  /** Verifies web identity tokens; absent: AssumeRoleWithWebIdentity refuses every token. */
  webIdentity?: WebIdentityVerifier;
}

/** An STS call made without credentials (AssumeRoleWithWebIdentity). */
export interface UnsignedStsCall {
  requestId: string;
  query: QueryRequest;
  /** The request context of an anonymous caller (aws:SourceIp, aws:UserAgent, …), keys lower-cased. */
  context: ReadonlyMap<string, ContextValue>;
}

/** Request facts (not the sender's identity) a web identity's trust evaluation sees. */
const WEB_IDENTITY_REQUEST_KEYS = [
  'aws:securetransport', 'aws:sourceip', 'aws:currenttime', 'aws:epochtime', 'aws:requestedregion', 'aws:viaawsservice',
  'aws:useragent', 'aws:referer', 'aws:sourcevpc', 'aws:sourcevpce',
] as const;

/** STS actions a caller may send without signing (the token in the request is the credential). */
export const UNSIGNED_STS_ACTIONS: ReadonlySet<string> = new Set(['AssumeRoleWithWebIdentity']);

export interface StsCall {
  caller: SignedPrincipal;
  requestId: string;
  query: QueryRequest;
  /** The request context (aws:SourceIp, aws:PrincipalTag/*, the caller's MFA facts, …), keys lower-cased. */
  context: ReadonlyMap<string, ContextValue>;
  /**
   * The actions (lower-cased, e.g. `sts:assumerole`) the caller's identity side allows on
   * the role ARN. Absent: the caller vouches that it allows every action assumeRoleActions()
   * lists. See the module comment.
   */
  identityAllowed?: ReadonlySet<string>;
}

const accessDenied = (message: string): IamError => new IamError('AccessDenied', message);

const notAuthorized = (caller: SignedPrincipal, action: string, resource: string): IamError =>
  accessDenied(`User: ${callerArn(caller, PARTITION)} is not authorized to perform: ${action} on resource: ${resource}`);

const MFA_INVALID = 'MultiFactorAuthentication failed with invalid MFA one time pass code.';
const MFA_INCOMPLETE = 'MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code.';

const ROLE_ARN_RE = /^arn:aws:iam::(\d{12}):role(\/(?:[\u0021-\u007E]*\/)?)([\w+=,.@-]+)$/;
const POLICY_ARN_RE = /^arn:aws:iam::(\d{12}|aws):policy(\/(?:[\u0021-\u007E]*\/)?)([\w+=,.@-]+)$/;

/** Tags of a session, spelled as given; keys compare case-insensitively. */
type TagMap = Record<string, string>;

function findKey(tags: TagMap, key: string): string | undefined {
  const lower = key.toLowerCase();
  return Object.keys(tags).find((k) => k.toLowerCase() === lower);
}

/**
 * What the caller's identity side must allow on the role ARN for an AssumeRole request:
 * sts:AssumeRole; sts:TagSession when the new session gets tags (Tags, TransitiveTagKeys or
 * transitive tags inherited from the calling session); sts:SetSourceIdentity when it gets
 * a source identity (given, or inherited). `resource` is the RoleArn as sent (undefined
 * when absent; the request then fails validation anyway).
 */
export function assumeRoleActions(caller: SignedPrincipal, params: ReadonlyMap<string, string>): { actions: string[]; resource: string | undefined } {
  const actions = ['sts:AssumeRole'];
  // By parameter names alone, so this never throws on a malformed list (handle() reports that).
  const listed = (name: string): boolean => [...params.keys()].some((n) => n.startsWith(`${name}.member.`));
  const inheritsTags = (caller.session?.transitiveTagKeys ?? []).length > 0;
  if (inheritsTags || listed('Tags') || listed('TransitiveTagKeys')) actions.push('sts:TagSession');
  if (params.has('SourceIdentity') || caller.session?.sourceIdentity !== undefined) actions.push('sts:SetSourceIdentity');
  return { actions, resource: params.get('RoleArn') };
}

/** A session policy is an identity policy: MalformedPolicyDocument with IAM's message when it is not one. */
/** A session policy obeys the rules of an identity policy (IAM's messages). */
const checkSessionPolicy = checkIdentityPolicy;

/** How a trust policy answers one action for the caller. */
type TrustAnswer = 'deny' | 'no-allow' | 'direct' | 'account';

function trustAnswer(policy: CompiledPolicy, action: string, roleArn: string, caller: SignedPrincipal, context: ReadonlyMap<string, ContextValue>): TrustAnswer {
  const { matches } = evaluatePolicy(policy, { action, resource: roleArn, principal: principalFacts(caller, PARTITION), context }, { missingKeys: false });
  let best: TrustAnswer = 'no-allow';
  for (const m of matches) {
    if (m.effect === 'Deny') return 'deny';
    // A trust policy grants through its Principal element; a statement without one grants nothing.
    if (m.principalMatch === 'direct' || m.principalMatch === 'any') best = 'direct';
    else if (m.principalMatch === 'account' && best === 'no-allow') best = 'account';
  }
  return best;
}

const COMPILED_CACHE_LIMIT = 256;

export class StsService {
  // Trust policies by document text: compiling costs more than the lookup, and the text is the key, so an edited policy is never served stale.
  private readonly compiled = new Map<string, CompiledPolicy | null>();

  constructor(private readonly deps: StsDeps) {}

  /** Runs an unsigned STS action (UNSIGNED_STS_ACTIONS); returns the response XML, throws IamError. */
  async handleUnsigned(call: UnsignedStsCall): Promise<string> {
    const { action, version } = call.query;
    if (version === undefined) throw new QueryError('MissingParameter', 'The request must contain the parameter Version.');
    if (version !== STS_VERSION || !UNSIGNED_STS_ACTIONS.has(action)) throw invalidAction(action, version);
    return queryResponse(action, STS_XMLNS, await this.assumeRoleWithWebIdentity(call), call.requestId);
  }

  /** Runs one STS action; returns the response XML. Failures are thrown as IamError (render them with errorResponse and STS_XMLNS). */
  async handle(call: StsCall): Promise<string> {
    const { action, version } = call.query;
    if (version === undefined) throw new QueryError('MissingParameter', 'The request must contain the parameter Version.');
    if (version !== STS_VERSION) throw invalidAction(action, version);
    let result: QueryObject;
    switch (action) {
      case 'GetCallerIdentity':
        result = this.getCallerIdentity(call);
        break;
      case 'GetSessionToken':
        result = await this.getSessionToken(call);
        break;
      case 'AssumeRole':
        result = await this.assumeRole(call);
        break;
      case 'AssumeRoleWithWebIdentity':
        // Signed or not, the token is the credential; the signer's identity plays no part.
        result = await this.assumeRoleWithWebIdentity({ requestId: call.requestId, query: call.query, context: call.context });
        break;
      default:
        throw invalidAction(action, version);
    }
    return queryResponse(action, STS_XMLNS, result, call.requestId);
  }

  private getCallerIdentity({ caller }: StsCall): QueryObject {
    return { Arn: callerArn(caller, PARTITION), UserId: principalUserId(caller), Account: caller.accountId };
  }

  private async getSessionToken({ caller, query }: StsCall): Promise<QueryObject> {
    if (caller.session) throw accessDenied('Cannot call GetSessionToken with session credentials');
    const r = new ParamReader(query.params);
    const requested = r.int('DurationSeconds', { min: GET_SESSION_TOKEN_DURATION.min, max: GET_SESSION_TOKEN_DURATION.max });
    const serial = r.string('SerialNumber', STS_RULES.serialNumber);
    const code = r.string('TokenCode', RULES.tokenCode);
    r.done();
    // Root sessions are capped rather than refused: AWS documents the range, not an error.
    const seconds = caller.kind === 'account-root'
      ? Math.min(requested ?? GET_SESSION_TOKEN_DURATION.rootMax, GET_SESSION_TOKEN_DURATION.rootMax)
      : requested ?? GET_SESSION_TOKEN_DURATION.default;
    const nowMs = this.deps.clock.now().getTime();
    const mfa = await this.checkMfa(caller, serial, code, nowMs);
    const session: SessionFacts = { ...sessionTimes(nowMs, seconds), ...(mfa ? { mfaAuthenticatedAt: new Date(nowMs).toISOString() } : {}) };
    const issued = issueSession(this.deps.keyring, claimsOf(caller, session), nowMs);
    return { Credentials: credentials(issued) };
  }

  /** True when MFA was presented and verified; throws AccessDenied when it was presented wrongly. */
  private async checkMfa(caller: SignedPrincipal, serial: string | undefined, code: string | undefined, nowMs: number): Promise<boolean> {
    if (serial === undefined && code === undefined) return false;
    if (serial === undefined || code === undefined) throw accessDenied(MFA_INCOMPLETE);
    const ok = this.deps.verifyMfaCode ? await this.deps.verifyMfaCode(caller.accountId, serial, code, nowMs, caller) : false;
    if (!ok) throw accessDenied(MFA_INVALID);
    return true;
  }

  private async assumeRole(call: StsCall): Promise<QueryObject> {
    const { caller, query } = call;
    const r = new ParamReader(query.params);
    const roleArn = r.string('RoleArn', { ...STS_RULES.roleArn, required: true });
    const sessionName = r.string('RoleSessionName', { ...RULES.roleSessionName, required: true });
    const policy = r.string('Policy', STS_RULES.policy);
    const policyArns = r.memberList('PolicyArns', { max: MAX_POLICY_ARNS, fields: { arn: { ...STS_RULES.policyArn, required: true } } }).map((m) => m.arn!);
    const requested = r.int('DurationSeconds', INT_RULES.durationSeconds);
    const tagList = r.memberList('Tags', {
      max: MAX_TAGS,
      fields: { Key: { ...RULES.tagKey, required: true }, Value: { ...RULES.tagValue, required: true } },
    }).map((t) => ({ key: t.Key!, value: t.Value! }));
    const transitiveKeys = r.stringList('TransitiveTagKeys', { max: MAX_TAGS, each: RULES.tagKey });
    const externalId = r.string('ExternalId', STS_RULES.externalId);
    const serial = r.string('SerialNumber', STS_RULES.serialNumber);
    const code = r.string('TokenCode', RULES.tokenCode);
    const requestedSourceIdentity = r.string('SourceIdentity', STS_RULES.sourceIdentity);
    r.done();

    if (caller.kind === 'account-root' && !this.deps.allowRootAssumeRole) throw accessDenied('Roles may not be assumed by root accounts.');
    const parts = roleArn.split(':');
    if (parts.length < 6 || parts[0] !== 'arn') throw new QueryError('ValidationError', 'Request ARN is invalid');

    // Role chaining: a role session assuming a role is held to an hour.
    const chained = caller.kind === 'assumed-role';
    if (chained && requested !== undefined && requested > ROLE_CHAINING_MAX_SECONDS) {
      throw new QueryError('ValidationError', 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
    }

    const tags = sessionTags(caller.session, tagList, transitiveKeys);
    const sourceIdentity = inheritedSourceIdentity(caller, requestedSourceIdentity);
    if (policy !== undefined) checkSessionPolicy(policy);

    const nowMs = this.deps.clock.now().getTime();
    const mfa = await this.checkMfa(caller, serial, code, nowMs);

    const target = ROLE_ARN_RE.exec(roleArn);
    const role = target ? await this.loadRole(target[1]!, target[2]!, target[3]!) : undefined;
    const account = role ? await this.deps.meta.getAccount(role.accountId) : undefined;
    // The ARN must name the role exactly: the caller's own policies were evaluated against the
    // ARN as sent, so a differently cased name must not reach a role they were denied.
    if (!role || !account || role.doc.arn !== roleArn) throw notAuthorized(caller, 'sts:AssumeRole', roleArn);

    // The trust policy sees what this request would put in the session.
    const context = new Map(call.context);
    for (const k of [...context.keys()]) if (k.startsWith('aws:requesttag/') || k === 'aws:tagkeys') context.delete(k);
    context.set('sts:rolesessionname', sessionName);
    if (externalId !== undefined) context.set('sts:externalid', externalId);
    if (mfa) {
      context.set('aws:multifactorauthpresent', 'true');
      context.set('aws:multifactorauthage', '0');
    }
    if (tagList.length > 0) {
      for (const t of tagList) context.set(`aws:requesttag/${t.key.toLowerCase()}`, t.value);
      context.set('aws:tagkeys', tagList.map((t) => t.key));
    }
    if (transitiveKeys.length > 0) context.set('sts:transitivetagkeys', transitiveKeys);
    if (sourceIdentity !== undefined) context.set('sts:sourceidentity', sourceIdentity);
    // The role is the resource: its own tags are aws:ResourceTag/* (and iam:ResourceTag/*).
    for (const t of role.doc.tags ?? []) {
      context.set(`aws:resourcetag/${t.Key.toLowerCase()}`, t.Value);
      context.set(`iam:resourcetag/${t.Key.toLowerCase()}`, t.Value);
    }

    const { actions } = assumeRoleActions(caller, query.params);
    const crossAccount = caller.accountId !== role.accountId;
    for (const action of actions) {
      const answer = trustAnswer(role.trust, action, role.doc.arn, caller, context);
      const grants = answer === 'direct' || answer === 'account';
      const needsIdentity = crossAccount || answer === 'account';
      const identityOk = call.identityAllowed === undefined || call.identityAllowed.has(action.toLowerCase());
      if (!grants || (needsIdentity && !identityOk)) throw notAuthorized(caller, action, roleArn);
    }

    const maxSeconds = chained ? ROLE_CHAINING_MAX_SECONDS : role.doc.maxSessionDuration;
    const seconds = requested ?? Math.min(ASSUME_ROLE_DEFAULT_SECONDS, maxSeconds);
    if (seconds > maxSeconds) throw new QueryError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');

    await this.checkPolicyArns(role.accountId, policyArns);

    const session = roleSessionFacts(nowMs, seconds, { policy, policyArns, tags, sourceIdentity });
    if (mfa) session.mfaAuthenticatedAt = new Date(nowMs).toISOString();
    const packed = checkPackedPolicy(session);

    const claims: SessionClaims = {
      kind: 'assumed-role', accountId: role.accountId, canonicalId: account.canonicalId,
      roleName: role.doc.name, roleId: role.doc.id, path: role.doc.path, sessionName, session,
    };
    const issued = issueSession(this.deps.keyring, claims, nowMs);
    const hasPacked = session.policy !== undefined || session.policyArns !== undefined || session.tags !== undefined;
    return {
      Credentials: credentials(issued),
      AssumedRoleUser: {
        AssumedRoleId: `${role.doc.id}:${sessionName}`,
        Arn: `arn:${PARTITION}:sts::${role.accountId}:assumed-role/${role.doc.name}/${sessionName}`,
      },
      PackedPolicySize: hasPacked ? packed : undefined,
      SourceIdentity: sourceIdentity,
    };
  }

  /**
   * AssumeRoleWithWebIdentity: the token is the credential. It must verify against the keys
   * configured for its issuer; the role's account must have an IAM OIDC provider for that
   * issuer listing one of the token's audiences; and the role's trust policy must allow
   * sts:AssumeRoleWithWebIdentity to that provider (Federated principal), with the
   * provider's `<name>:aud` / `<name>:sub` (and `:amr`, `:azp` when present) as condition keys.
   */
  private async assumeRoleWithWebIdentity(call: UnsignedStsCall): Promise<QueryObject> {
    const r = new ParamReader(call.query.params);
    const roleArn = r.string('RoleArn', { ...STS_RULES.roleArn, required: true });
    const sessionName = r.string('RoleSessionName', { ...RULES.roleSessionName, required: true });
    const token = r.string('WebIdentityToken', { min: 4, max: 20_000, required: true });
    const providerId = r.string('ProviderId', { min: 4, max: 2048 });
    const policy = r.string('Policy', STS_RULES.policy);
    const policyArns = r.memberList('PolicyArns', { max: MAX_POLICY_ARNS, fields: { arn: { ...STS_RULES.policyArn, required: true } } }).map((m) => m.arn!);
    const requested = r.int('DurationSeconds', INT_RULES.durationSeconds);
    r.done();
    // ProviderId names an OAuth 2.0 provider (www.amazon.com, graph.facebook.com): Kura takes OIDC ID tokens only.
    if (providerId !== undefined) throw new IamError('InvalidParameterValue', 'ProviderId is for OAuth 2.0 access tokens, which this server does not accept; send an OpenID Connect ID token without ProviderId.');
    if (policy !== undefined) checkSessionPolicy(policy);
    const denied = (): IamError => accessDenied('Not authorized to perform sts:AssumeRoleWithWebIdentity');

    const nowMs = this.deps.clock.now().getTime();
    if (!this.deps.webIdentity) throw new IamError('InvalidIdentityToken', 'Couldn\'t retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements');
    let verified;
    try {
      verified = await this.deps.webIdentity.verify(token, nowMs);
    } catch (e) {
      if (e instanceof WebIdentityError) throw new IamError(e.code, e.message);
      throw e;
    }

    // The provider and audience are checked in the account the RoleArn names before the role
    // is looked up, so a token holder learns nothing about which roles exist there.
    const target = ROLE_ARN_RE.exec(roleArn);
    if (!target) throw denied();
    const provider = await findOidcProvider(this.deps.meta, target[1]!, verified.issuer);
    if (!provider) throw new IamError('InvalidIdentityToken', `No OpenIDConnect provider found in your account for ${verified.issuer}`);
    const audience = verified.audiences.find((a) => provider.clientIds.includes(a));
    if (audience === undefined) throw new IamError('InvalidIdentityToken', 'Incorrect token audience');
    const role = await this.loadRole(target[1]!, target[2]!, target[3]!);
    const account = role ? await this.deps.meta.getAccount(role.accountId) : undefined;
    if (!role || !account || role.doc.arn !== roleArn) throw denied();
    const claimed = tokenSessionTags(verified.claims[WEB_IDENTITY_TAGS_CLAIM]);
    let tags: { tags: TagMap; transitive: string[] };
    try {
      tags = sessionTags(undefined, claimed.tags, claimed.transitiveKeys);
    } catch (e) {
      throw e instanceof IamError ? new IamError('InvalidIdentityToken', `The session tags in the ID token are not valid: ${e.message}`) : e;
    }

    // The caller is the web identity, not whoever sent the request (nobody, or a signer whose
    // identity plays no part): only the request's own facts carry over, and the identity
    // provider is named instead.
    const context = new Map<string, ContextValue>();
    for (const k of WEB_IDENTITY_REQUEST_KEYS) {
      const v = call.context.get(k);
      if (v !== undefined) context.set(k, v);
    }
    context.set('aws:federatedprovider', provider.arn);
    // Context keys are looked up lower-cased (a policy's key names are case-insensitive), and
    // a provider's path may not be: `<host/Path>:sub` must be found however it is written.
    const prefix = provider.name.toLowerCase();
    const claim = (k: string): unknown => verified.claims[k];
    context.set(`${prefix}:aud`, audience);
    context.set(`${prefix}:sub`, verified.subject);
    if (typeof claim('azp') === 'string') context.set(`${prefix}:azp`, claim('azp') as string);
    const amr = claim('amr');
    if (Array.isArray(amr)) context.set(`${prefix}:amr`, amr.filter((x): x is string => typeof x === 'string'));
    else if (typeof amr === 'string') context.set(`${prefix}:amr`, amr);
    context.set('sts:rolesessionname', sessionName);
    for (const t of role.doc.tags ?? []) {
      context.set(`aws:resourcetag/${t.Key.toLowerCase()}`, t.Value);
      context.set(`iam:resourcetag/${t.Key.toLowerCase()}`, t.Value);
    }
    if (claimed.tags.length > 0) {
      for (const t of claimed.tags) context.set(`aws:requesttag/${t.key.toLowerCase()}`, t.value);
      context.set('aws:tagkeys', claimed.tags.map((t) => t.key));
    }
    if (tags.transitive.length > 0) context.set('sts:transitivetagkeys', tags.transitive);
    const sourceIdentity = tokenSourceIdentity(verified.claims[WEB_IDENTITY_SOURCE_IDENTITY_CLAIM]);
    if (sourceIdentity !== undefined) context.set('sts:sourceidentity', sourceIdentity);
    // Tags in the token need sts:TagSession from the trust policy too, and a source identity
    // sts:SetSourceIdentity, as for AssumeRole.
    const actions = ['sts:AssumeRoleWithWebIdentity'];
    if (claimed.tags.length > 0) actions.push('sts:TagSession');
    if (sourceIdentity !== undefined) actions.push('sts:SetSourceIdentity');
    for (const action of actions) {
      const { matches } = evaluatePolicy(role.trust, {
        action, resource: role.doc.arn, principal: { kind: 'federated', provider: provider.arn }, context,
      }, { missingKeys: false });
      if (matches.some((m) => m.effect === 'Deny') || !matches.some((m) => m.principalMatch === 'direct' || m.principalMatch === 'any')) throw denied();
    }

    const maxSeconds = role.doc.maxSessionDuration;
    const seconds = requested ?? Math.min(ASSUME_ROLE_DEFAULT_SECONDS, maxSeconds);
    if (seconds > maxSeconds) throw new QueryError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    await this.checkPolicyArns(role.accountId, policyArns);

    const session = roleSessionFacts(nowMs, seconds, { policy, policyArns, tags, sourceIdentity });
    const packed = checkPackedPolicy(session);
    const issued = issueSession(this.deps.keyring, {
      kind: 'assumed-role', accountId: role.accountId, canonicalId: account.canonicalId,
      roleName: role.doc.name, roleId: role.doc.id, path: role.doc.path, sessionName, session,
    }, nowMs);
    return {
      Credentials: credentials(issued),
      SubjectFromWebIdentityToken: verified.subject,
      SourceIdentity: sourceIdentity,
      AssumedRoleUser: {
        AssumedRoleId: `${role.doc.id}:${sessionName}`,
        Arn: `arn:${PARTITION}:sts::${role.accountId}:assumed-role/${role.doc.name}/${sessionName}`,
      },
      PackedPolicySize: session.policy !== undefined || session.policyArns !== undefined || session.tags !== undefined ? packed : undefined,
      Provider: verified.issuer,
      Audience: audience,
    };
  }

  /** Managed session policies must exist in the role's account (or be AWS managed). */
  private async checkPolicyArns(roleAccountId: string, policyArns: readonly string[]): Promise<void> {
    for (const arn of policyArns) {
      const m = POLICY_ARN_RE.exec(arn);
      const doc = m && (m[1] === 'aws' || m[1] === roleAccountId) ? await this.deps.loadManagedPolicy?.(roleAccountId, arn) : undefined;
      if (doc === undefined) throw new IamError('MalformedPolicyDocument', `Policy ${arn} does not exist or is not attachable.`);
    }
  }

  /** The role an ARN names, with its compiled trust policy; undefined when absent (or its path differs). */
  private async loadRole(accountId: string, path: string, name: string): Promise<{ accountId: string; doc: IamRole; trust: CompiledPolicy } | undefined> {
    const text = await this.deps.meta.getIamEntity(accountId, 'role', name);
    if (text === undefined) return undefined;
    const doc = JSON.parse(text) as IamRole;
    if (doc.kind !== 'role' || doc.path !== path) return undefined;
    const trust = this.compileTrust(doc.assumeRolePolicyDocument);
    // A stored trust policy that no longer parses trusts no one.
    return trust ? { accountId, doc, trust } : undefined;
  }

  private compileTrust(text: string): CompiledPolicy | undefined {
    let c = this.compiled.get(text);
    if (c === undefined) {
      const parsed = parsePolicy(text);
      c = 'ast' in parsed ? compilePolicy(parsed.ast, { policyId: 'trust policy' }) : null;
      if (this.compiled.size >= COMPILED_CACHE_LIMIT) this.compiled.clear();
      this.compiled.set(text, c);
    }
    return c ?? undefined;
  }
}

/** A new role session's facts (AssumeRole, AssumeRoleWithWebIdentity): times, session policies, tags, source identity. */
function roleSessionFacts(
  nowMs: number, seconds: number,
  o: { policy: string | undefined; policyArns: readonly string[]; tags: { tags: TagMap; transitive: string[] }; sourceIdentity: string | undefined },
): SessionFacts {
  const session: SessionFacts = { ...sessionTimes(nowMs, seconds) };
  if (o.policy !== undefined) session.policy = o.policy;
  if (o.policyArns.length > 0) session.policyArns = [...o.policyArns];
  if (Object.keys(o.tags.tags).length > 0) session.tags = o.tags.tags;
  if (o.tags.transitive.length > 0) session.transitiveTagKeys = o.tags.transitive;
  if (o.sourceIdentity !== undefined) session.sourceIdentity = o.sourceIdentity;
  return session;
}

/** Issue and expiry times; the expiry falls on a whole second so the Expiration AWS prints (whole seconds) is exact. */
function sessionTimes(nowMs: number, seconds: number): Pick<SessionFacts, 'issuedAt' | 'expiresAt'> {
  return { issuedAt: new Date(nowMs).toISOString(), expiresAt: new Date(Math.floor(nowMs / 1000) * 1000 + seconds * 1000).toISOString() };
}

function credentials(c: IssuedSession): QueryObject {
  return { AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey, SessionToken: c.sessionToken, Expiration: c.expiration };
}

/**
 * The new session's tags: the calling session's transitive tags (which stay transitive and
 * may not be overridden), then the requested ones. Role tags are not copied: they are the
 * role's principal tags, looked up per request, and session tags override them there.
 */
function sessionTags(calling: SessionFacts | undefined, requested: readonly { key: string; value: string }[], transitiveKeys: readonly string[]): { tags: TagMap; transitive: string[] } {
  const seen = new Set<string>();
  for (const t of requested) {
    if (isReservedTagKey(t.key)) throw new IamError('InvalidParameterValue', `The session tag key ${t.key} is not valid: tag keys starting with 'aws:' are reserved for internal AWS use.`);
    const lower = t.key.toLowerCase();
    if (seen.has(lower)) throw new IamError('InvalidParameterValue', 'Duplicate tag keys found. Please note that Tag keys are case insensitive.');
    seen.add(lower);
  }
  for (const k of transitiveKeys) {
    if (!seen.has(k.toLowerCase())) throw new IamError('InvalidParameterValue', `The transitive tag key ${k} is not one of the session tags passed in the request.`);
  }
  const tags: TagMap = {};
  const transitive: string[] = [];
  const inherited = calling?.tags ?? {};
  for (const k of calling?.transitiveTagKeys ?? []) {
    const spelled = findKey(inherited, k);
    if (spelled === undefined || findKey(tags, spelled) !== undefined) continue;
    if (seen.has(spelled.toLowerCase())) {
      throw new IamError('InvalidParameterValue', `The session tag ${spelled} is inherited as a transitive tag from the calling session and cannot be overridden.`);
    }
    Object.defineProperty(tags, spelled, { value: inherited[spelled]!, enumerable: true, writable: true, configurable: true });
    transitive.push(spelled);
  }
  for (const t of requested) {
    // defineProperty: a tag named __proto__ must become a tag, not the object's prototype.
    Object.defineProperty(tags, t.key, { value: t.value, enumerable: true, writable: true, configurable: true });
  }
  for (const k of transitiveKeys) {
    const spelled = findKey(tags, k)!;
    if (!transitive.some((e) => e.toLowerCase() === spelled.toLowerCase())) transitive.push(spelled);
  }
  return { tags, transitive };
}

/** The claim an identity provider puts session tags in (IAM UG, "Passing session tags using AssumeRoleWithWebIdentity"). */
export const WEB_IDENTITY_TAGS_CLAIM = 'https://aws.amazon.com/tags';

/**
 * Session tags from a web identity token: `{"principal_tags": {"Key": ["value"]},
 * "transitive_tag_keys": ["Key"]}`, each tag one value, the keys and values and their number
 * held to the rules AssumeRole applies to Tags. A malformed claim refuses the token.
 */
function tokenSessionTags(claim: unknown): { tags: { key: string; value: string }[]; transitiveKeys: string[] } {
  if (claim === undefined) return { tags: [], transitiveKeys: [] };
  const bad = (why: string): IamError => new IamError('InvalidIdentityToken', `The session tags in the ID token are not valid: ${why}`);
  if (typeof claim !== 'object' || claim === null || Array.isArray(claim)) throw bad('the claim must be an object');
  const { principal_tags: principalTags, transitive_tag_keys: transitive } = claim as Record<string, unknown>;
  if (principalTags !== undefined && (typeof principalTags !== 'object' || principalTags === null || Array.isArray(principalTags))) throw bad('principal_tags must be an object');
  const tags: { key: string; value: string }[] = [];
  for (const [key, values] of Object.entries((principalTags ?? {}) as Record<string, unknown>)) {
    if (!Array.isArray(values) || values.length !== 1 || typeof values[0] !== 'string') throw bad(`tag ${JSON.stringify(key)} must have exactly one string value`);
    const value = values[0];
    if (key.length < RULES.tagKey.min || key.length > RULES.tagKey.max || !RULES.tagKey.pattern.test(key)) throw bad(`tag key ${JSON.stringify(key)}`);
    if (value.length > RULES.tagValue.max || !RULES.tagValue.pattern.test(value)) throw bad(`the value of tag ${JSON.stringify(key)}`);
    tags.push({ key, value });
  }
  if (tags.length > MAX_TAGS) throw bad(`more than ${MAX_TAGS} tags`);
  if (transitive !== undefined && (!Array.isArray(transitive) || transitive.some((k) => typeof k !== 'string'))) throw bad('transitive_tag_keys must be an array of strings');
  return { tags, transitiveKeys: (transitive ?? []) as string[] };
}

/** The claim an identity provider puts a source identity in (IAM UG, "Monitor and control actions taken with assumed roles"). */
export const WEB_IDENTITY_SOURCE_IDENTITY_CLAIM = 'https://aws.amazon.com/source_identity';

/** A source identity from a web identity token, held to the rules of AssumeRole's SourceIdentity; a malformed one refuses the token. */
function tokenSourceIdentity(claim: unknown): string | undefined {
  if (claim === undefined) return undefined;
  const rule = STS_RULES.sourceIdentity;
  if (typeof claim !== 'string' || claim.length < rule.min || claim.length > rule.max || !rule.pattern.test(claim)) {
    throw new IamError('InvalidIdentityToken', `The source identity in the ID token is not valid: it must be ${rule.min}-${rule.max} characters matching ${rule.patternText}`);
  }
  return claim;
}

/** A source identity, once set, stays with every session chained from it and cannot be changed. */
function inheritedSourceIdentity(caller: SignedPrincipal, requested: string | undefined): string | undefined {
  const inherited = caller.session?.sourceIdentity;
  if (inherited !== undefined && requested !== undefined && requested !== inherited) {
    throw new IamError('InvalidParameterValue', `The source identity of the calling session (${inherited}) cannot be changed.`);
  }
  return inherited ?? requested;
}
