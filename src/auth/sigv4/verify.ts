/**
 * SigV4 request authentication (Authorization header and presigned URLs) with S3's rules.
 * Pure: the clock, the server's region and the secret lookup are injected.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { s3error } from '../../errors/s3-errors.js';
import { formatAmzDate, isoSeconds, parseAmzDate, parseHttpDate } from './amz-date.js';
import {
  MAX_SKEW_MS,
  authorizationHeaderInvalid,
  credentialError,
  headersNotSigned,
  hexBytes,
  invalidAccessKeyId,
  missingDate,
  onlyOneAuthMechanism,
  queryParamsError,
  requestTimeTooSkewed,
  unsupportedAuthorizationType,
} from './auth-errors.js';
import { canonicalHeaders, canonicalQuery, canonicalRequest, canonicalUri, type HeaderMap } from './canonical-request.js';
import { EMPTY_SHA256, UNSIGNED_PAYLOAD, parseContentSha256 } from './content-sha256.js';
import {
  SIGV4A_ALGORITHM,
  hasPresignedParams,
  parseAuthorizationHeader,
  parsePresignedQuery,
  validateCredentialScope,
  type ParsedSigV4,
} from './parse-authorization.js';
import { parseQuery, queryValue, queryValueIgnoreCase, type QueryParam } from './query.js';
import type { SigningKeyCache } from './signing-key-cache.js';
import { deriveSigningKey, type CredentialScope } from './signing-key.js';
import { SIGV4_ALGORITHM, stringToSign } from './string-to-sign.js';

export { SigningKeyCache } from './signing-key-cache.js';

export interface IncomingSignedRequest {
  method: string;
  /** Path exactly as received on the wire (percent-encoded), without the query. */
  rawPath: string;
  /** Query exactly as received, without '?', may be ''. */
  rawQuery: string;
  /** node IncomingMessage.headers (lower-case names); pass `headersDistinct` to keep repeated headers apart. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /**
   * Hex SHA-256 of the body, for services other than S3 (IAM, STS, KMS), whose clients do not
   * send x-amz-content-sha256 and sign the body hash directly; the caller buffers the (small)
   * body first. Defaults to the hash of an empty body. Ignored for S3.
   */
  bodySha256?: string;
}

export type PayloadMode =
  | { kind: 'unsigned' } // UNSIGNED-PAYLOAD (and presigned URLs that do not say otherwise)
  | { kind: 'sha256'; hex: string } // body must hash to this (lower-case hex)
  | { kind: 'streaming-signed'; trailer: boolean } // STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]
  | { kind: 'streaming-unsigned-trailer' }; // STREAMING-UNSIGNED-PAYLOAD-TRAILER

export interface SigV4Auth {
  version: 'v4';
  form: 'header' | 'query';
  accessKeyId: string;
  scope: CredentialScope;
  /** The request time as it appears in the string to sign. */
  amzDate: string;
  requestTime: Date;
  signedHeaders: string[];
  signature: string;
  /** Shared with the signing-key cache: read it, never modify it. */
  signingKey: Buffer;
  payload: PayloadMode;
  securityToken?: string;
  /** now − request time, floored at 0. */
  signatureAgeMs: number;
}

export interface VerifyOptions {
  now: Date;
  /** The server's region: a scope naming another region → AuthorizationHeaderMalformed (with <Region>). */
  region: string;
  /** Accepted scope services, e.g. ['s3'] (later 'iam', 'sts', 'kms'). S3's extra rules apply when the scope's service is 's3'. */
  services: readonly string[];
  /** undefined → InvalidAccessKeyId. */
  lookupSecret(accessKeyId: string): string | undefined;
  signingKeyCache?: SigningKeyCache;
}

const NO_PARAMS: readonly QueryParam[] = [];

function single(value: string | string[] | undefined): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  return value.length === 0 ? undefined : value.join(',');
}

/**
 * Authenticates a SigV4 request. Returns null when it carries no SigV4 at all (anonymous, or
 * SigV2: call authenticateV2 next). Throws S3Error on any failure, including Authorization
 * schemes that are neither SigV4 nor SigV2.
 */
export function authenticateV4(req: IncomingSignedRequest, opts: VerifyOptions): SigV4Auth | null {
  const authorization = single(req.headers['authorization']);
  const params = req.rawQuery.length === 0 ? NO_PARAMS : parseQuery(req.rawQuery);
  // AWS looks at the query first: a presigned URL sent with an Authorization header is refused.
  if (hasPresignedParams(params)) {
    if (authorization !== undefined) throw onlyOneAuthMechanism(authorization);
    return verifyPresigned(req, params, opts);
  }
  if (authorization === undefined) return null;
  if (authorization.startsWith('AWS ')) return null;
  if (authorization.startsWith(SIGV4_ALGORITHM)) {
    if (queryValue(params, 'Signature') !== undefined) throw onlyOneAuthMechanism(authorization);
    return verifyHeader(req, params, authorization, opts);
  }
  if (authorization.startsWith(SIGV4A_ALGORITHM)) throw s3error('NotImplemented', undefined, { Header: 'Authorization' });
  if (authorization.indexOf(' ') < 0) throw authorizationHeaderInvalid(authorization);
  throw unsupportedAuthorizationType(authorization);
}

function verifyHeader(req: IncomingSignedRequest, params: readonly QueryParam[], authorization: string, opts: VerifyOptions): SigV4Auth {
  const parsed = parseAuthorizationHeader(authorization);
  const scope = validateCredentialScope(parsed.credential, 'header', opts.region, opts.services);
  const isS3 = scope.service === 's3';

  // x-amz-date wins over Date; its value is what the string to sign carries. A Date header
  // is converted, since the string to sign always uses the compact ISO 8601 form.
  const xAmzDate = single(req.headers['x-amz-date']);
  let rawTime: string;
  let requestTime: Date | undefined;
  let amzDate: string;
  let dateHeader: string;
  if (xAmzDate !== undefined) {
    rawTime = xAmzDate;
    requestTime = parseAmzDate(xAmzDate);
    amzDate = xAmzDate;
    dateHeader = 'x-amz-date';
  } else {
    rawTime = single(req.headers['date']) ?? '';
    requestTime = rawTime.length === 0 ? undefined : parseHttpDate(rawTime);
    amzDate = requestTime === undefined ? '' : formatAmzDate(requestTime);
    dateHeader = 'date';
  }
  if (requestTime === undefined) throw missingDate();
  if (scope.date !== amzDate.slice(0, 8)) {
    throw credentialError('header', 'Invalid credential date. Date is not the same as X-Amz-Date.');
  }
  const skew = opts.now.getTime() - requestTime.getTime();
  if (skew > MAX_SKEW_MS || skew < -MAX_SKEW_MS) throw requestTimeTooSkewed(rawTime, opts.now);

  checkSignedHeaders(req.headers, parsed.signedHeaders, dateHeader, isS3);

  const contentSha256 = single(req.headers['x-amz-content-sha256']);
  let payloadHash: string;
  if (contentSha256 !== undefined) payloadHash = contentSha256;
  else if (isS3) throw s3error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  else payloadHash = req.bodySha256 ?? EMPTY_SHA256;
  const payload = parseContentSha256(payloadHash);

  const query = canonicalQuery(params);
  return finish(req, opts, parsed, scope, 'header', amzDate, requestTime, query, payloadHash, payload, single(req.headers['x-amz-security-token']));
}

function verifyPresigned(req: IncomingSignedRequest, params: readonly QueryParam[], opts: VerifyOptions): SigV4Auth {
  const parsed = parsePresignedQuery(params);
  const scope = validateCredentialScope(parsed.credential, 'query', opts.region, opts.services);
  if (scope.date !== parsed.amzDate.slice(0, 8)) {
    throw queryParamsError(`Invalid credential date "${scope.date}". This date is not the same as X-Amz-Date: "${parsed.amzDate.slice(0, 8)}".`);
  }
  const signedAt = parsed.requestTime.getTime();
  const expiresAt = new Date(signedAt + parsed.expiresSeconds * 1000);
  const now = opts.now.getTime();
  if (now > expiresAt.getTime()) {
    throw s3error('AccessDenied', 'Request has expired', {
      'X-Amz-Expires': parsed.expiresRaw,
      Expires: isoSeconds(expiresAt),
      ServerTime: isoSeconds(opts.now),
    });
  }
  if (signedAt - now > MAX_SKEW_MS) {
    // S3 really prints X-Amz-Date as epoch milliseconds in this one error.
    throw s3error('AccessDenied', 'Request is not yet valid', {
      'X-Amz-Date': signedAt,
      Expires: isoSeconds(expiresAt),
      ServerTime: isoSeconds(opts.now),
    });
  }
  const isS3 = scope.service === 's3';
  checkSignedHeaders(req.headers, parsed.signedHeaders, undefined, isS3);

  // Presigned URLs default to an unsigned payload; a signer may pin a hash (or a streaming
  // mode) with X-Amz-Content-Sha256 in the query or, failing that, the header. Signers hoist
  // the header into the query under its header spelling, hence the case-insensitive match;
  // being part of the signed query, the parameter cannot be added or changed by a third party.
  const payloadHash =
    queryValueIgnoreCase(params, 'x-amz-content-sha256') ?? single(req.headers['x-amz-content-sha256']) ?? UNSIGNED_PAYLOAD;
  const payload = parseContentSha256(payloadHash);

  const query = canonicalQuery(params, 'X-Amz-Signature');
  return finish(req, opts, parsed, scope, 'query', parsed.amzDate, parsed.requestTime, query, payloadHash, payload, parsed.securityToken);
}

/**
 * `host` and the header carrying the date must be signed; for S3 so must every x-amz-* header
 * present, except x-amz-content-sha256, which the payload-hash line already covers (AWS
 * accepts it unsigned, and some SDKs leave it out).
 */
function checkSignedHeaders(headers: HeaderMap, signed: readonly string[], dateHeader: string | undefined, isS3: boolean): void {
  let missing: string[] | undefined;
  if (!signed.includes('host')) (missing ??= []).push('host');
  if (dateHeader !== undefined && !signed.includes(dateHeader)) (missing ??= []).push(dateHeader);
  if (isS3) {
    for (const raw in headers) {
      if (headers[raw] === undefined) continue;
      const name = raw.toLowerCase();
      if (!name.startsWith('x-amz-') || name === 'x-amz-content-sha256' || name === dateHeader) continue;
      if (!signed.includes(name)) (missing ??= []).push(name);
    }
  }
  if (missing !== undefined) throw headersNotSigned(missing);
}

function finish(
  req: IncomingSignedRequest,
  opts: VerifyOptions,
  parsed: ParsedSigV4,
  scope: CredentialScope,
  form: 'header' | 'query',
  amzDate: string,
  requestTime: Date,
  query: string,
  payloadHash: string,
  payload: PayloadMode,
  securityToken: string | undefined,
): SigV4Auth {
  const accessKeyId = parsed.credential.accessKeyId;
  const secret = opts.lookupSecret(accessKeyId);
  if (secret === undefined) throw invalidAccessKeyId(accessKeyId);
  const signingKey = opts.signingKeyCache !== undefined ? opts.signingKeyCache.get(accessKeyId, secret, scope) : deriveSigningKey(secret, scope);

  const creq = canonicalRequest({
    method: req.method,
    canonicalUri: canonicalUri(req.rawPath),
    canonicalQuery: query,
    canonicalHeaders: canonicalHeaders(req.headers, parsed.signedHeaders),
    signedHeaders: parsed.signedHeaders.join(';'),
    payloadHash,
  });
  const sts = stringToSign(amzDate, scope, creq);
  const expected = createHmac('sha256', signingKey).update(sts, 'utf8').digest('hex');
  if (!signaturesEqual(expected, parsed.signature)) {
    throw s3error('SignatureDoesNotMatch', undefined, {
      AWSAccessKeyId: accessKeyId,
      StringToSign: sts,
      SignatureProvided: parsed.signature,
      StringToSignBytes: hexBytes(sts),
      CanonicalRequest: creq,
      CanonicalRequestBytes: hexBytes(creq),
    });
  }
  const age = opts.now.getTime() - requestTime.getTime();
  const auth: SigV4Auth = {
    version: 'v4',
    form,
    accessKeyId,
    scope,
    amzDate,
    requestTime,
    signedHeaders: parsed.signedHeaders,
    signature: parsed.signature,
    signingKey,
    payload,
    signatureAgeMs: age > 0 ? age : 0,
  };
  if (securityToken !== undefined) auth.securityToken = securityToken;
  return auth;
}

/** Constant-time comparison of the expected lower-case hex signature with the one provided. */
function signaturesEqual(expected: string, provided: string): boolean {
  // Lengths are public (always 64 for a well-formed signature), so an early exit leaks nothing.
  if (provided.length !== expected.length) return false;
  const got = Buffer.from(provided, 'utf8');
  if (got.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(expected, 'latin1'), got);
}
