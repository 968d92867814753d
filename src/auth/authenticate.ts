/**
 * Authentication: who signed this request? Presigned query first (a browser or proxy could
 * inject an Authorization header next to a presigned URL), then the Authorization header,
 * otherwise anonymous. The body is then wrapped in the verifier its payload mode demands,
 * so a handler can never read bytes whose signature or hash was not checked.
 */
import type { Readable } from 'node:stream';
import { s3error } from '../errors/s3-errors.js';
import { header, type S3Request } from '../http/request.js';
import type { Clock } from '../util/clock.js';
import type { CredentialCache, ResolvedCredential } from './credentials.js';
import { ANONYMOUS, type Principal } from './principal.js';
import { authenticateV4, type SigV4Auth, type SigningKeyCache } from './sigv4/verify.js';
import { authenticateV2, type SigV2Auth } from './sigv2/verify.js';
import { ChunkedDecoder } from './sigv4/chunked-payload.js';
import { createSha256Verifier } from './sigv4/payload-verifier.js';
import type { HashPool } from '../util/hash-pool.js';

export type AuthInfo =
  | { kind: 'anonymous' }
  | { kind: 'sigv4'; v4: SigV4Auth }
  | { kind: 'sigv2'; v2: SigV2Auth }
  /** A browser POST upload signed in its form fields (POST policy). */
  | { kind: 'post-form'; version: 'v2' | 'v4' };

export interface Authenticated {
  principal: Principal;
  auth: AuthInfo;
}

/** Opens STS session tokens (temporary credentials carry their secret sealed in the token). */
export interface SessionOpener {
  open(accessKeyId: string, sessionToken: string, nowMs: number): ResolvedCredential | { error: 'InvalidToken' | 'ExpiredToken' };
}

export interface AuthenticateOptions {
  region: string;
  allowSigV2: boolean;
  services: readonly string[];
  clock: Clock;
  credentials: CredentialCache;
  signingKeyCache: SigningKeyCache;
  sessions?: SessionOpener;
}

/** The session token a request carries (header, or the presigned query parameter). */
function sessionToken(req: S3Request): string | undefined {
  return req.query.get('X-Amz-Security-Token') ?? header(req, 'x-amz-security-token');
}

const V4_CREDENTIAL_RE = /Credential=([^/,\s]+)\//;
const V2_HEADER_RE = /^AWS ([^:\s]+):/;

/** The access key id a request claims, without verifying anything (to prefetch its secret). */
export function claimedAccessKeyId(req: S3Request): { version: 'v4' | 'v2'; accessKeyId: string } | undefined {
  const qCred = req.query.get('X-Amz-Credential');
  if (qCred !== undefined) return { version: 'v4', accessKeyId: qCred.split('/')[0] ?? '' };
  const qV2 = req.query.get('AWSAccessKeyId');
  if (qV2 !== undefined && req.query.has('Signature')) return { version: 'v2', accessKeyId: qV2 };
  const authz = header(req, 'authorization');
  if (authz === undefined) return undefined;
  if (authz.startsWith('AWS4-HMAC-SHA256')) {
    const m = V4_CREDENTIAL_RE.exec(authz);
    return { version: 'v4', accessKeyId: m?.[1] ?? '' };
  }
  const m2 = V2_HEADER_RE.exec(authz);
  if (m2) return { version: 'v2', accessKeyId: m2[1]! };
  // A malformed SigV2 header is reported by the SigV2 verifier (InvalidArgument).
  if (authz.startsWith('AWS ')) return { version: 'v2', accessKeyId: '' };
  return { version: 'v4', accessKeyId: '' };
}

/** Establishes the principal. Throws S3Error on any authentication failure. */
export async function authenticate(req: S3Request, opts: AuthenticateOptions, virtualHostBucket?: string, bodySha256?: string): Promise<Authenticated> {
  const claim = claimedAccessKeyId(req);
  if (!claim) return { principal: ANONYMOUS, auth: { kind: 'anonymous' } };
  const token = claim.version === 'v4' ? sessionToken(req) : undefined;
  const now = opts.clock.now();
  let session: ResolvedCredential | undefined;
  if (token !== undefined && claim.accessKeyId.startsWith('ASIA')) {
    // Temporary credentials: verified statelessly from the token, expiring exactly.
    const opened = opts.sessions?.open(claim.accessKeyId, token, now.getTime()) ?? { error: 'InvalidToken' as const };
    if ('error' in opened) throw s3error(opened.error);
    session = opened;
  } else if (claim.accessKeyId) {
    await opts.credentials.prefetch(claim.accessKeyId);
  }
  const lookupSecret = (akid: string): string | undefined => (session ? (akid === claim.accessKeyId ? session.secret : undefined) : opts.credentials.get(akid)?.secret);
  const view = { method: req.method, rawPath: req.rawPath, rawQuery: req.rawQuery, headers: req.headers, ...(bodySha256 !== undefined ? { bodySha256 } : {}) };
  if (claim.version === 'v2') {
    if (!opts.allowSigV2) {
      throw s3error('InvalidRequest', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
    }
    const v2 = authenticateV2(view, { now, lookupSecret, ...(virtualHostBucket !== undefined ? { virtualHostBucket } : {}) });
    if (!v2) throw s3error('InvalidArgument', 'Unsupported Authorization Type', { ArgumentName: 'Authorization' });
    if (v2.securityToken !== undefined) throw s3error('InvalidToken');
    return { principal: opts.credentials.get(v2.accessKeyId)!.principal, auth: { kind: 'sigv2', v2 } };
  }
  const v4 = authenticateV4(view, { now, region: opts.region, services: opts.services, lookupSecret, signingKeyCache: opts.signingKeyCache });
  if (!v4) {
    // An Authorization header nobody could verify is an error, never an anonymous request.
    const authz = header(req, 'authorization');
    if (authz !== undefined) throw s3error('InvalidArgument', 'Unsupported Authorization Type', { ArgumentName: 'Authorization', ArgumentValue: authz });
    return { principal: ANONYMOUS, auth: { kind: 'anonymous' } };
  }
  if (session) {
    if (v4.securityToken !== token) throw s3error('InvalidToken');
    return { principal: session.principal, auth: { kind: 'sigv4', v4 } };
  }
  // A token next to a long-term key is refused rather than ignored.
  if (v4.securityToken !== undefined) throw s3error('InvalidToken');
  return { principal: opts.credentials.get(v4.accessKeyId)!.principal, auth: { kind: 'sigv4', v4 } };
}

/** A body stream plus its trailers (filled once an aws-chunked body has ended). */
export interface VerifiedBody {
  stream: Readable;
  trailers: () => ReadonlyMap<string, string>;
  /** Decoded length known up front, if any. */
  length: number | undefined;
}

const NO_TRAILERS: ReadonlyMap<string, string> = new Map();

function parseLength(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,16}$/.test(v)) throw s3error('InvalidArgument', `Invalid ${name}`, { ArgumentName: name, ArgumentValue: v });
  return Number(v);
}

/** Signed payloads at least this large are hashed on the hash pool's worker thread. */
const OFFLOAD_SHA256_BYTES = 1024 * 1024;

/** Wraps the raw body according to the payload mode the signature committed to. */
export function verifiedBody(req: S3Request, auth: AuthInfo, hashPool?: HashPool): VerifiedBody {
  const contentLength = parseLength(header(req, 'content-length'), 'Content-Length');
  const decodedLength = parseLength(header(req, 'x-amz-decoded-content-length'), 'x-amz-decoded-content-length');
  const encodings = (header(req, 'content-encoding') ?? '').split(',').map((s) => s.trim().toLowerCase());
  const sha = header(req, 'x-amz-content-sha256');
  const mode = auth.kind === 'sigv4' ? auth.v4.payload : undefined;

  const streaming = mode?.kind === 'streaming-signed' || mode?.kind === 'streaming-unsigned-trailer'
    // Anonymous or SigV2 requests may still send an unsigned aws-chunked body with trailers.
    || (mode === undefined && sha === 'STREAMING-UNSIGNED-PAYLOAD-TRAILER');
  if (streaming) {
    if (decodedLength === undefined) throw s3error('MissingContentLength', 'You must provide the x-amz-decoded-content-length header.');
    const declaredTrailers = (header(req, 'x-amz-trailer') ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
    const signing = mode?.kind === 'streaming-signed' && auth.kind === 'sigv4'
      ? { signingKey: auth.v4.signingKey, amzDate: auth.v4.amzDate, scope: auth.v4.scope, seedSignature: auth.v4.signature }
      : undefined;
    const trailer = mode?.kind === 'streaming-signed' ? mode.trailer : true;
    const decoder = new ChunkedDecoder({ signing, trailer, declaredTrailers, decodedContentLength: decodedLength });
    req.body.on('error', (e) => decoder.destroy(e));
    req.body.pipe(decoder);
    return { stream: decoder, trailers: () => decoder.trailers, length: decodedLength };
  }
  if (encodings.includes('aws-chunked') && mode?.kind !== 'unsigned') {
    throw s3error('InvalidArgument', 'aws-chunked encoding requires a STREAMING x-amz-content-sha256 value');
  }
  if (mode?.kind === 'sha256') {
    const offload = hashPool !== undefined && contentLength !== undefined && contentLength >= OFFLOAD_SHA256_BYTES;
    const verifier = createSha256Verifier(mode.hex, offload ? hashPool.start(false, ['SHA256']) : undefined);
    req.body.on('error', (e) => verifier.destroy(e));
    req.body.pipe(verifier);
    return { stream: verifier, trailers: () => NO_TRAILERS, length: contentLength };
  }
  return { stream: req.body, trailers: () => NO_TRAILERS, length: contentLength };
}

/**
 * After the handler: a handler that answered without reading its whole body (a validation
 * error, a failed precondition) leaves a verifier or decoder unfinished. Destroying it
 * releases what it holds (a hashing job on the worker pool). Never the request itself: the
 * answer still has to go out on its socket, and the HTTP layer deals with the unread rest.
 */
export function releaseUnreadBody(body: VerifiedBody | undefined, req: S3Request): void {
  if (body === undefined || body.stream === req.body) return;
  if (!body.stream.readableEnded && !body.stream.destroyed) body.stream.destroy();
}
