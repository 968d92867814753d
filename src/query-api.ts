/**
 * The IAM and STS endpoints (AWS's Query protocol) on the S3 port. A request is theirs when
 * its SigV4 credential scope names the service (`…/iam/aws4_request`, `…/sts/…`) or its
 * Host is `iam.*` / `sts.*`: AWS CLI, boto3 and the SDKs need only an endpoint URL.
 * Route → read the (small, form-encoded) body → verify SigV4 over its SHA-256 → decode →
 * authorize the IAM action with the same Authorizer as S3 → the service → awsQuery XML.
 */
import { resolveTarget } from './http/addressing.js';
import { createHash } from 'node:crypto';
import { authenticate, type AuthenticateOptions } from './auth/authenticate.js';
import type { SignedPrincipal } from './auth/principal.js';
import { callerArn } from './auth/principal.js';
import type { Authorizer } from './authz/authorizer.js';
import { S3Error } from './errors/s3-errors.js';
import { header, type S3Request, type S3Result } from './http/request.js';
import { decodeQuery, type QueryRequest } from './iam/api/query.js';
import { errorResponse, iamError, IamError, IAM_XMLNS, QUERY_XML_CONTENT_TYPE, STS_XMLNS, toIamError, type IamErrorCode } from './iam/api/xml.js';
import type { ContextValue } from './iam/policy/request.js';
import { buildRequestContext, principalFacts } from './authz/request-context.js';
import { identityGatesAllow, type IdentitySide } from './authz/decide.js';
import { assumeRoleActions, UNSIGNED_STS_ACTIONS } from './iam/sts/sts-service.js';
import { KmsError, kmsErrorBody } from './kms/errors.js';
import type { Logger } from './http/server.js';

export type QueryService = 'iam' | 'sts' | 'kms';

export interface IamEndpoint {
  /** The IAM action and resource ARN a call must be allowed. */
  authorizationTarget(query: QueryRequest, accountId: string, caller: SignedPrincipal): Promise<{ action: string; resource: string }>;
  handle(call: { accountId: string; caller: SignedPrincipal; requestId: string; query: QueryRequest }): Promise<string>;
}

export interface StsEndpoint {
  handle(call: { caller: SignedPrincipal; requestId: string; query: QueryRequest; context: ReadonlyMap<string, ContextValue>; identityAllowed?: ReadonlySet<string> }): Promise<string>;
  /** Actions sent without credentials (UNSIGNED_STS_ACTIONS): the caller is anonymous. */
  handleUnsigned(call: { requestId: string; query: QueryRequest; context: ReadonlyMap<string, ContextValue> }): Promise<string>;
}

/** The KMS JSON 1.1 API (X-Amz-Target: TrentService.<Operation>). */
export interface KmsEndpoint {
  handle(call: { caller: SignedPrincipal; requestId: string; operation: string; input: unknown; context: ReadonlyMap<string, ContextValue> }): Promise<object>;
}

/** Simulate{Principal,Custom}Policy: answered by the server's own evaluator. */
export interface SimulateEndpoint {
  handle(call: { accountId: string; caller: SignedPrincipal; requestId: string; query: QueryRequest }): Promise<string>;
}

export interface QueryApiDeps {
  authn: AuthenticateOptions;
  authorizer: Authorizer;
  region: string;
  log: Logger;
  iam: IamEndpoint;
  sts: StsEndpoint;
  kms?: KmsEndpoint;
  /** The caller's principal tags and organization keys (aws:PrincipalTag/*, aws:PrincipalOrgID) for trust policies. */
  identityContext: (p: SignedPrincipal) => Promise<ReadonlyMap<string, ContextValue>>;
  /** The caller's identity side (undefined: its user or role no longer exists). */
  identitySide: (p: SignedPrincipal) => Promise<IdentitySide | undefined>;
  /** Condition keys an IAM call or AssumeRole brings: the target's tags, request tags, iam:PermissionsBoundary, iam:PolicyARN. */
  iamContext: (query: QueryRequest, accountId: string) => Promise<ReadonlyMap<string, ContextValue>>;
}

/** Query bodies are small (policies of at most 10 KB, URL-encoded); anything larger is refused unread. */
const MAX_BODY = 256 * 1024;

const SCOPE_RE = /Credential=[^/\s,]+\/\d{8}\/[^/\s,]+\/([a-z0-9-]+)\/aws4_request/;

/** Which Query service a request addresses, if any. */
export function queryServiceOf(req: S3Request, baseDomains: readonly string[] = []): QueryService | undefined {
  if (req.rawPath !== '/' || (req.method !== 'POST' && req.method !== 'GET')) return undefined;
  const scope = SCOPE_RE.exec(header(req, 'authorization') ?? '')?.[1] ?? req.query.get('X-Amz-Credential')?.split('/')[3];
  if (scope === 'iam' || scope === 'sts') return scope;
  // A request signed for S3 is S3's, even on a host named like iam.* (a bucket called "iam").
  if (scope === 's3') return undefined;
  if (scope === 'kms' || (header(req, 'x-amz-target') ?? '').startsWith('TrentService.')) return 'kms';
  const host = (header(req, 'host') ?? '').toLowerCase();
  if (host.startsWith('iam.')) return 'iam';
  if (host.startsWith('sts.')) return 'sts';
  // An unsigned Query call to the service root (AssumeRoleWithWebIdentity carries its own
  // token): STS is the only Query service with unsigned actions, and S3 has no form-encoded
  // POST to a service root. A virtual-hosted bucket's root stays S3's (POST /?delete, forms).
  if (scope === undefined && header(req, 'authorization') === undefined && !namesBucketHost(header(req, 'host'), baseDomains)) {
    const type = (header(req, 'content-type') ?? '').toLowerCase();
    if (req.method === 'POST' && type.startsWith('application/x-www-form-urlencoded')) return 'sts';
    if (req.method === 'GET' && UNSIGNED_STS_ACTIONS.has(req.query.get('Action') ?? '')) return 'sts';
  }
  return undefined;
}

/** Whether a Host header is `<bucket>.<base domain>` (virtual-hosted-style S3). */
function namesBucketHost(host: string | undefined, baseDomains: readonly string[]): boolean {
  return resolveTarget(host, '/', baseDomains).style === 'virtual-hosted';
}

async function readBody(req: S3Request): Promise<Buffer> {
  const declared = Number(header(req, 'content-length') ?? '0');
  if (declared > MAX_BODY) throw iamError('ValidationError', `Request body larger than ${MAX_BODY} bytes`);
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req.body) {
    n += (c as Buffer).length;
    if (n > MAX_BODY) throw iamError('ValidationError', `Request body larger than ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * IAM, STS and KMS sign the body's hash itself. A client may also send it as
 * x-amz-content-sha256 (or the presigned X-Amz-Content-Sha256); the verifier then signs over
 * that value, so it must equal the body actually received — UNSIGNED-PAYLOAD included —
 * or a captured request could be replayed with another body.
 */
function declaredHashMatches(req: S3Request, bodySha256: string): boolean {
  const declared = header(req, 'x-amz-content-sha256') ?? req.query.get('X-Amz-Content-Sha256');
  // A presigned request without a declared hash is verified as UNSIGNED-PAYLOAD: it may not carry a body.
  if (declared === undefined) return !req.query.has('X-Amz-Signature') || bodySha256 === EMPTY_BODY_SHA256;
  return declared.toLowerCase() === bodySha256;
}

const EMPTY_BODY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** S3-flavoured authentication errors in the words IAM and STS use. */
const AUTH_ERRORS: Record<string, IamErrorCode> = {
  InvalidAccessKeyId: 'InvalidClientTokenId',
  InvalidToken: 'InvalidClientTokenId',
  ExpiredToken: 'ExpiredToken',
  SignatureDoesNotMatch: 'SignatureDoesNotMatch',
  AuthorizationHeaderMalformed: 'IncompleteSignature',
  AuthorizationQueryParametersError: 'IncompleteSignature',
  RequestTimeTooSkewed: 'SignatureDoesNotMatch',
};

function authError(e: S3Error): IamError {
  const code = AUTH_ERRORS[e.code];
  if (code === 'SignatureDoesNotMatch' && e.code === 'RequestTimeTooSkewed') return iamError('SignatureDoesNotMatch', 'Signature expired: the request time is too far from the server time');
  // The region in a credential scope is the usual mistake: keep S3's words, which name it.
  if (code === 'IncompleteSignature' && e.code === 'AuthorizationHeaderMalformed') return iamError(code, e.message);
  if (code) return iamError(code);
  if (e.code === 'AccessDenied' && /expired/i.test(e.message)) return iamError('ExpiredToken');
  return iamError('IncompleteSignature', e.message);
}

export function createQueryApi(deps: QueryApiDeps): (req: S3Request, service: QueryService) => Promise<S3Result> {
  async function handle(req: S3Request, service: 'iam' | 'sts'): Promise<string> {
    const body = req.method === 'POST' ? await readBody(req) : Buffer.alloc(0);
    const bodySha256 = createHash('sha256').update(body).digest('hex');
    if (!declaredHashMatches(req, bodySha256)) throw iamError('SignatureDoesNotMatch', 'The request body does not match its signed SHA-256.');
    // IAM is a global service signed for us-east-1; STS for the configured region.
    const authn: AuthenticateOptions = { ...deps.authn, services: [service], region: service === 'iam' ? 'us-east-1' : deps.region };
    let principal;
    let auth;
    try {
      ({ principal, auth } = await authenticate(req, authn, undefined, bodySha256));
    } catch (e) {
      throw e instanceof S3Error ? authError(e) : e;
    }
    const query = decodeQuery(req.method === 'POST' ? body : req.rawQuery);
    if (principal.kind === 'anonymous') {
      if (service !== 'sts' || !UNSIGNED_STS_ACTIONS.has(query.action)) throw iamError('MissingAuthenticationToken');
      const context = buildRequestContext({ req, principal, auth, region: deps.region, resourceAccount: undefined });
      return deps.sts.handleUnsigned({ requestId: req.requestId, query, context });
    }
    if (service === 'iam') {
      if (principal.session && principal.kind !== 'assumed-role' && principal.session.mfaAuthenticatedAt === undefined) {
        // GetSessionToken credentials call IAM only when MFA-authenticated (AWS: InvalidClientTokenId).
        throw iamError('InvalidClientTokenId');
      }
      const target = await deps.iam.authorizationTarget(query, principal.accountId, principal);
      const extraContext = await deps.iamContext(query, principal.accountId);
      const decision = await deps.authorizer.authorize({ req, principal, auth, checks: [{ action: target.action, resource: target.resource, bucket: undefined }], extraContext });
      if (decision.effect !== 'Allow') {
        deps.log.debug('access denied', { requestId: req.requestId, operation: target.action, trace: decision.trace });
        const how = decision.effect === 'ExplicitDeny' ? ' with an explicit deny' : ' because no identity-based policy allows the ' + target.action + ' action';
        throw iamError('AccessDenied', `User: ${callerArn(principal)!} is not authorized to perform: ${target.action} on resource: ${target.resource}${how}`);
      }
      return deps.iam.handle({ accountId: principal.accountId, caller: principal, requestId: req.requestId, query });
    }
    const context = buildRequestContext({ req, principal, auth, region: deps.region, resourceAccount: undefined });
    for (const [k2, v] of await deps.identityContext(principal)) context.set(k2, v);
    let identityAllowed: Set<string> | undefined;
    if (query.action === 'AssumeRole') {
      // The caller's own side, per action on the role: an explicit deny ends it here, and so
      // do its gates (SCPs, boundary, session policies, a principal that no longer exists),
      // which hold even where the trust policy names the caller directly. What the identity
      // policies allow goes to STS, which needs it where the trust policy alone does not grant.
      const { actions, resource } = assumeRoleActions(principal, query.params);
      identityAllowed = new Set();
      if (resource !== undefined) {
        const side = await deps.identitySide(principal);
        if (!side) throw iamError('AccessDenied', `User: ${callerArn(principal)!} is not authorized to perform: sts:AssumeRole on resource: ${resource}`);
        const extra = await deps.iamContext(query, principal.accountId);
        const withRole = new Map(context);
        for (const [k2, v] of extra) withRole.set(k2, v);
        for (const action of actions) {
          const d = await deps.authorizer.authorize({ req, principal, auth, checks: [{ action, resource, bucket: undefined }], extraContext: extra });
          if (d.effect === 'ExplicitDeny') throw iamError('AccessDenied', `User: ${callerArn(principal)!} is not authorized to perform: ${action} on resource: ${resource} with an explicit deny`);
          if (d.effect === 'Allow') {
            identityAllowed.add(action.toLowerCase());
            continue;
          }
          const gates = identityGatesAllow(principal, side, { action, resource, principal: principalFacts(principal), context: withRole });
          if (!gates.ok) throw iamError('AccessDenied', `User: ${callerArn(principal)!} is not authorized to perform: ${action} on resource: ${resource} because ${gates.reason}`);
        }
      }
    }
    return deps.sts.handle({ caller: principal, requestId: req.requestId, query, context, ...(identityAllowed ? { identityAllowed } : {}) });
  }

  /** KMS speaks JSON, with its own error shapes; authentication and context are shared. */
  async function handleKms(req: S3Request): Promise<S3Result> {
    const json = (status: number, body: object): S3Result => ({
      status, headers: { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-RequestId': req.requestId }, body: JSON.stringify(body),
    });
    try {
      if (!deps.kms) throw new KmsError('UnknownOperationException', 'KMS is not enabled on this server');
      const body = await readBody(req);
      const bodySha256 = createHash('sha256').update(body).digest('hex');
      if (!declaredHashMatches(req, bodySha256)) return json(400, { __type: 'InvalidSignatureException', message: 'The request body does not match its signed SHA-256.' });
      let principal;
      let auth;
      try {
        ({ principal, auth } = await authenticate(req, { ...deps.authn, services: ['kms'], region: deps.region }, undefined, bodySha256));
      } catch (e) {
        if (!(e instanceof S3Error)) throw e;
        const code = e.code === 'SignatureDoesNotMatch' ? 'InvalidSignatureException' : e.code === 'ExpiredToken' ? 'ExpiredTokenException' : 'UnrecognizedClientException';
        return json(400, { __type: code, message: e.message });
      }
      if (principal.kind === 'anonymous') return json(400, { __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' });
      const target = header(req, 'x-amz-target') ?? '';
      if (!target.startsWith('TrentService.')) throw new KmsError('UnknownOperationException', `Unknown operation ${target}`);
      let input: unknown;
      try {
        input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      } catch {
        throw new KmsError('SerializationException', 'Start of structure or map found where not expected.');
      }
      const context = buildRequestContext({ req, principal, auth, region: deps.region, resourceAccount: undefined });
      for (const [k2, v] of await deps.identityContext(principal)) context.set(k2, v);
      return json(200, await deps.kms.handle({ caller: principal, requestId: req.requestId, operation: target.slice('TrentService.'.length), input, context }));
    } catch (e) {
      if (e instanceof KmsError) return json(e.status, kmsErrorBody(e));
      deps.log.error('internal error', { requestId: req.requestId, err: e instanceof Error ? e.stack : String(e) });
      return json(500, { __type: 'KMSInternalException', message: 'An internal error occurred' });
    }
  }

  return async (req, service) => {
    if (service === 'kms') return handleKms(req);
    const namespace = service === 'iam' ? IAM_XMLNS : STS_XMLNS;
    try {
      const xml = await handle(req, service);
      return { status: 200, headers: { 'Content-Type': QUERY_XML_CONTENT_TYPE, 'x-amzn-RequestId': req.requestId }, body: xml };
    } catch (e) {
      const err = e instanceof IamError ? e : toIamError(e);
      if (err.code === 'ServiceFailure') deps.log.error('internal error', { requestId: req.requestId, err: e instanceof Error ? e.stack : String(e) });
      return { status: err.status, headers: { 'Content-Type': QUERY_XML_CONTENT_TYPE, 'x-amzn-RequestId': req.requestId }, body: errorResponse(err, namespace, req.requestId) };
    }
  };
}
