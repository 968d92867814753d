/**
 * The one place the request steps are wired together:
 *   route → authenticate → authorize → handle → respond (+ a debug log line per request).
 * Every failure on the way becomes S3's XML error; nothing unknown reaches the caller.
 */
import { performance } from 'node:perf_hooks';
import { queryServiceOf, type QueryService } from './query-api.js';
import { authenticate, releaseUnreadBody, verifiedBody, type AuthenticateOptions, type VerifiedBody } from './auth/authenticate.js';
import { existenceCheckRequest, requiredChecks } from './authz/actions.js';
import { accessDenied, versionMemoKey, type Authorizer, type AuthorizeInput } from './authz/authorizer.js';
import { bucketArn } from './authz/actions.js';
import { parseTaggingHeader } from './s3/tags.js';
import { parseVersionIdParam } from './s3/versions.js';
import { S3Error, s3error, toS3Error } from './errors/s3-errors.js';
import { resolveTarget } from './http/addressing.js';
import { header, type S3Request, type S3Result } from './http/request.js';
import { toXml } from './http/xml.js';
import { parseControlOperation, parseOperation, type Operation, type OperationKind, type OperationOf } from './operations/operations.js';
import { mintAuthorized, type Services } from './s3/context.js';
import { HANDLERS } from './s3/registry.js';
import { corsHeadersFor } from './s3/cors.js';
import { validateBucketName, validateKey } from './s3/names.js';
import type { Principal } from './auth/principal.js';
import type { BucketRecord, ObjectVersion } from './storage/ports.js';
import type { Decision } from './authz/decision.js';

const POLICY_OPS: ReadonlySet<string> = new Set(['GetBucketPolicy', 'PutBucketPolicy', 'DeleteBucketPolicy']);
const TAGGING_OPS: ReadonlySet<string> = new Set(['PutObject', 'CopyObject', 'CreateMultipartUpload']);

/** Tags a request sets on an object (for s3:RequestObjectTag/*); malformed ones are the handler's error to report. */
function requestTags(req: S3Request, op: Operation): Record<string, string> | undefined {
  const h = header(req, 'x-amz-tagging');
  if (h === undefined || !TAGGING_OPS.has(op.kind)) return undefined;
  try {
    return parseTaggingHeader(h);
  } catch {
    return undefined;
  }
}

/**
 * x-amz-expected-bucket-owner (and the copy source's): a caller's guard against writing to or
 * reading from a bucket that changed hands; a mismatch is 403 as on S3.
 */
function expectedOwners(req: S3Request, op: Operation, bucket: BucketRecord | undefined): void {
  const expected = header(req, 'x-amz-expected-bucket-owner');
  if (expected !== undefined && bucket && op.kind !== 'CreateBucket' && bucket.accountId !== expected) throw s3error('AccessDenied');
}

export interface PipelineDeps extends Services {
  authn: Omit<AuthenticateOptions, 'clock'>;
  /** The IAM/STS Query endpoints served on the same port. */
  queryApi?: (req: S3Request, service: QueryService) => Promise<S3Result>;
}

/** S3's error body: Code, Message, the resource, extra details, RequestId, HostId. */
export function errorResult(err: S3Error, req: S3Request, op: Operation | undefined): S3Result {
  const body: Record<string, string | number | undefined> = { Code: err.code, Message: err.message };
  if (op && op.level !== 'service' && err.status === 404) {
    if (err.code === 'NoSuchBucket') body.BucketName = op.bucket;
    if (op.level === 'object' && (err.code === 'NoSuchKey' || err.code === 'NoSuchVersion' || err.code === 'NoSuchUpload')) body.Key = op.key;
  }
  for (const [k, v] of Object.entries(err.details)) body[k] = v;
  body.RequestId = req.requestId;
  body.HostId = req.hostId;
  const xml = toXml('Error', body, null);
  const headers: Record<string, string> = { 'Content-Type': 'application/xml', ...err.headers };
  if (err.status === 304) return { status: 304, headers: err.headers };
  return { status: err.status, headers, body: req.method === 'HEAD' ? undefined : xml };
}

export function createPipeline(deps: PipelineDeps): (req: S3Request) => Promise<S3Result> {
  const { meta, config, log, clock } = deps;
  const authnOpts: AuthenticateOptions = { ...deps.authn, clock };

  async function handle(req: S3Request, state: { op?: Operation; principal?: Principal }): Promise<S3Result> {
    const control = parseControlOperation(req.method, req.rawPath);
    const target = control ? undefined : resolveTarget(header(req, 'host'), req.rawPath, config.baseDomains);
    const op = control ?? parseOperation({ method: req.method, bucket: target!.bucket, key: target!.key, query: req.query, headers: req.headers });
    state.op = op;
    if (op.level !== 'service') {
      if (op.kind === 'CreateBucket') validateBucketName(op.bucket);
      if (op.level === 'object') validateKey(op.key);
    }
    const { principal, auth } = await authenticate(req, authnOpts, target?.style === 'virtual-hosted' ? target.bucket : undefined);
    state.principal = principal;

    const bucket = op.level === 'service' ? undefined : await meta.getBucket(op.bucket);
    if (op.level !== 'service' && !bucket && op.kind !== 'CreateBucket') throw s3error('NoSuchBucket');

    expectedOwners(req, op, bucket);
    const checks = requiredChecks(op, req);
    const versions = new Map<string, ObjectVersion | undefined>();
    let decision = await deps.authorizer.authorize({ req, principal, auth, checks, known: [bucket], requestObjectTags: requestTags(req, op), versions });
    if (decision.effect === 'ImplicitDeny' && bucket && await initiatorMayManage(meta, req, principal, op, decision)) {
      decision = { ...decision, effect: 'Allow', trace: [...decision.trace, { layer: 'ownership', check: `${op.kind} ${req.query.get('uploadId') ?? ''}`, effect: 'Allow', reason: 'the caller\'s account started this multipart upload' }] };
    }
    if (decision.effect !== 'Allow') {
      log.debug('access denied', { requestId: req.requestId, operation: op.kind, trace: decision.trace });
      if (decision.effect === 'ImplicitDeny' && bucket && (op.kind === 'GetObject' || op.kind === 'HeadObject')) {
        await answerMissingObject(deps, req, principal, auth, bucket, op.key, versions);
      }
      throw accessDenied(decision, principal, bucket?.accountId);
    }
    // Only the bucket owner's account may manage a bucket policy; others get 405 even when allowed.
    if (POLICY_OPS.has(op.kind) && bucket && (principal.kind === 'anonymous' || principal.accountId !== bucket.accountId)) {
      throw s3error('MethodNotAllowed');
    }

    let body: VerifiedBody | undefined;
    const getBody = (): VerifiedBody => (body ??= verifiedBody(req, auth, deps.hashPool));
    const ctx = mintAuthorized({
      req,
      // Operation's kinds are grouped per level; OperationOf distributes them one by one.
      op: op as OperationOf<OperationKind>,
      principal,
      auth,
      decision,
      bucket,
      versions,
      body: () => getBody().stream,
      trailers: () => getBody().trailers(),
      get contentLength() {
        return getBody().length;
      },
    });
    const handler = HANDLERS[op.kind] as (c: typeof ctx, s: Services) => Promise<S3Result>;
    let result: S3Result;
    try {
      result = await handler(ctx, deps);
    } finally {
      releaseUnreadBody(body as VerifiedBody | undefined, req);
    }
    if (bucket && header(req, 'origin') !== undefined) {
      Object.assign(result.headers, await corsHeadersFor(deps, bucket.name, req));
    }
    return result;
  }

  return async (req: S3Request): Promise<S3Result> => {
    const queryService = deps.queryApi ? queryServiceOf(req, config.baseDomains) : undefined;
    if (queryService) return deps.queryApi!(req, queryService);
    const t0 = performance.now();
    const state: { op?: Operation; principal?: Principal } = {};
    let result: S3Result;
    try {
      result = await handle(req, state);
    } catch (e) {
      // A client that went away mid-body is not a server fault: nothing was stored, and the
      // answer (which nobody will read) says so.
      const gone = (req.body as { destroyed?: boolean; complete?: boolean }).destroyed === true && (req.body as { complete?: boolean }).complete === false;
      const err = gone && !(e instanceof S3Error) ? s3error('IncompleteBody') : toS3Error(e);
      if (err.code === 'InternalError') log.error('internal error', { requestId: req.requestId, err: e instanceof Error ? e.stack : String(e) });
      result = errorResult(err, req, state.op);
      // A browser must be able to read the error too: the bucket's CORS rules apply to it
      // as to a success (not to preflights, whose refusal is the answer itself).
      const op = state.op;
      if (op && op.level !== 'service' && req.method !== 'OPTIONS' && header(req, 'origin') !== undefined) {
        Object.assign(result.headers, await corsHeadersFor(deps, op.bucket, req).catch(() => ({})));
      }
    }
    log.debug('request', {
      requestId: req.requestId,
      operation: state.op?.kind,
      status: result.status,
      principal: state.principal === undefined || state.principal.kind === 'anonymous' ? 'anonymous' : state.principal.accessKeyId,
      ms: Math.round((performance.now() - t0) * 1000) / 1000,
    });
    return result;
  };
}

/**
 * S3 lets the initiator of a multipart upload list its parts and abort it without a policy
 * (S3 UG, "Multipart upload API and permissions"). Kura records the initiator's account, so
 * the allowance goes to that account's root; an IAM user who started an upload needs the
 * permissions like anyone else (stricter than S3, never looser). Only an implicit denial
 * is lifted, and none that came from an SCP: an explicit deny still wins.
 */
async function initiatorMayManage(meta: Services['meta'], req: S3Request, principal: Principal, op: Operation, decision: Decision): Promise<boolean> {
  if (op.kind !== 'AbortMultipartUpload' && op.kind !== 'ListParts') return false;
  if (principal.kind !== 'account-root') return false;
  if (decision.trace.some((t) => t.layer === 'scp' && t.effect !== 'Allow')) return false;
  const uploadId = req.query.get('uploadId');
  const upload = uploadId === undefined ? undefined : await meta.getUpload(uploadId);
  return upload !== undefined && upload.bucket === op.bucket && upload.key === op.key && upload.initiatorAccountId === principal.accountId;
}

/**
 * S3's rule for reads of objects that do not exist (GetObject API reference): a caller who
 * may list the bucket learns 404 NoSuchKey even without s3:GetObject (e.g. a bucket ACL
 * READ grant, or a policy granting ListBucket alone); anyone else gets the 403. Returns
 * when the 403 stands.
 */
async function answerMissingObject(
  deps: { authorizer: Authorizer; meta: Services['meta'] }, req: S3Request, principal: Principal, auth: AuthorizeInput['auth'],
  bucket: BucketRecord, key: string, versions: Map<string, ObjectVersion | undefined>,
): Promise<void> {
  let raw: string | undefined;
  try {
    raw = parseVersionIdParam(req.query.get('versionId'));
  } catch {
    return;
  }
  const mk = versionMemoKey(bucket.name, key, raw);
  const v = versions.has(mk) ? versions.get(mk) : await deps.meta.getObjectVersion(bucket.name, key, raw);
  if (v) return;
  const list = await deps.authorizer.authorize({ req: existenceCheckRequest(req), principal, auth, known: [bucket], checks: [{ action: 's3:ListBucket', resource: bucketArn(bucket.name), bucket: bucket.name }] });
  if (list.effect !== 'Allow') return;
  throw raw !== undefined ? s3error('NoSuchVersion', undefined, { Key: key, VersionId: raw }) : s3error('NoSuchKey', undefined, { Key: key });
}
