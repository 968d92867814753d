/**
 * SigV2 (HMAC-SHA1) authentication for S3, header (`Authorization: AWS AKID:sig`) and query
 * (`AWSAccessKeyId`, `Signature`, `Expires`) forms. Pure: the clock and secrets are injected.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { s3error } from '../../errors/s3-errors.js';
import { isoSeconds, parseHttpDate } from '../sigv4/amz-date.js';
import {
  MAX_SKEW_MS,
  hexBytes,
  invalidAccessKeyId,
  missingDate,
  onlyOneAuthMechanism,
  requestTimeTooSkewed,
} from '../sigv4/auth-errors.js';
import { parseQuery, queryValue, type QueryParam } from '../sigv4/query.js';
import type { IncomingSignedRequest } from '../sigv4/verify.js';
import { canonicalAmzHeaders, canonicalResource, stringToSignV2 } from './string-to-sign.js';

export interface SigV2Auth {
  version: 'v2';
  form: 'header' | 'query';
  accessKeyId: string;
  /** Header form: the Date/x-amz-date instant. Query form: the verification time (the URL carries only its expiry). */
  requestTime: Date;
  /** now − request time, floored at 0 (always 0 for the query form). */
  signatureAgeMs: number;
  /** x-amz-security-token from the header, or from the query for presigned URLs. */
  securityToken?: string;
}

export interface VerifyV2Options {
  now: Date;
  /** undefined → InvalidAccessKeyId. */
  lookupSecret(accessKeyId: string): string | undefined;
  /** The bucket when it was addressed virtual-hosted style (in Host): SigV2 signs it as a `/bucket` prefix of the path. */
  virtualHostBucket?: string;
}

const NO_PARAMS: readonly QueryParam[] = [];

function single(value: string | string[] | undefined): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  return value.length === 0 ? undefined : value.join(',');
}

function hasQueryAuth(params: readonly QueryParam[]): boolean {
  for (const p of params) if (p.name === 'AWSAccessKeyId' || p.name === 'Signature') return true;
  return false;
}

/**
 * Authenticates a SigV2 request. Returns null when it carries no SigV2 (anonymous, or an
 * Authorization header of another scheme, which authenticateV4 handles). Throws S3Error on
 * any failure.
 */
export function authenticateV2(req: IncomingSignedRequest, opts: VerifyV2Options): SigV2Auth | null {
  const authorization = single(req.headers['authorization']);
  const params = req.rawQuery.length === 0 ? NO_PARAMS : parseQuery(req.rawQuery);
  if (hasQueryAuth(params)) {
    if (authorization !== undefined) throw onlyOneAuthMechanism(authorization);
    return verifyQuery(req, params, opts);
  }
  if (authorization === undefined || !authorization.startsWith('AWS ')) return null;
  return verifyHeader(req, params, authorization, opts);
}

function verifyHeader(req: IncomingSignedRequest, params: readonly QueryParam[], authorization: string, opts: VerifyV2Options): SigV2Auth {
  const credentials = authorization.slice(4).trim();
  const colon = credentials.indexOf(':');
  if (colon <= 0 || colon === credentials.length - 1) {
    throw s3error('InvalidArgument', 'AWS authorization header is invalid.  Expected AwsAccessKeyId:signature', {
      ArgumentName: 'Authorization',
      ArgumentValue: authorization,
    });
  }
  const accessKeyId = credentials.slice(0, colon);
  const signature = credentials.slice(colon + 1).trim();

  // x-amz-date replaces Date (for clients that cannot set Date); the Date slot is then empty.
  const xAmzDate = single(req.headers['x-amz-date']);
  const rawTime = xAmzDate ?? single(req.headers['date']) ?? '';
  const requestTime = rawTime.length === 0 ? undefined : parseHttpDate(rawTime);
  if (requestTime === undefined) throw missingDate();
  const skew = opts.now.getTime() - requestTime.getTime();
  if (skew > MAX_SKEW_MS || skew < -MAX_SKEW_MS) throw requestTimeTooSkewed(rawTime, opts.now);

  const sts = stringToSignV2({
    method: req.method,
    contentMd5: single(req.headers['content-md5']) ?? '',
    contentType: single(req.headers['content-type']) ?? '',
    dateOrExpires: xAmzDate !== undefined ? '' : rawTime,
    canonicalAmzHeaders: canonicalAmzHeaders(req.headers),
    canonicalResource: canonicalResource(req.rawPath, params, opts.virtualHostBucket),
  });
  check(accessKeyId, signature, sts, opts, bucketRootVariant(sts, req, opts));
  const auth: SigV2Auth = { version: 'v2', form: 'header', accessKeyId, requestTime, signatureAgeMs: skew > 0 ? skew : 0 };
  const token = single(req.headers['x-amz-security-token']);
  if (token !== undefined) auth.securityToken = token;
  return auth;
}

function verifyQuery(req: IncomingSignedRequest, params: readonly QueryParam[], opts: VerifyV2Options): SigV2Auth {
  const accessKeyId = queryValue(params, 'AWSAccessKeyId');
  const rawSignature = queryValue(params, 'Signature');
  const expires = queryValue(params, 'Expires');
  if (accessKeyId === undefined || rawSignature === undefined || expires === undefined) {
    throw s3error('AccessDenied', 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters');
  }
  if (!/^[0-9]{1,15}$/.test(expires)) {
    throw s3error('AccessDenied', `Invalid date (should be seconds since epoch): ${expires}`);
  }
  const expiresAt = new Date(Number(expires) * 1000);
  if (opts.now.getTime() > expiresAt.getTime()) {
    throw s3error('AccessDenied', 'Request has expired', { Expires: isoSeconds(expiresAt), ServerTime: isoSeconds(opts.now) });
  }
  // A base64 '+' left unescaped in the URL arrives as a space.
  const signature = rawSignature.replaceAll(' ', '+');
  const contentMd5 = single(req.headers['content-md5']) ?? queryValue(params, 'Content-MD5') ?? '';
  const contentType = single(req.headers['content-type']) ?? queryValue(params, 'Content-Type') ?? '';
  const sts = stringToSignV2({
    method: req.method,
    contentMd5,
    contentType,
    dateOrExpires: expires,
    canonicalAmzHeaders: canonicalAmzHeaders(req.headers, params),
    canonicalResource: canonicalResource(req.rawPath, params, opts.virtualHostBucket),
  });
  check(accessKeyId, signature, sts, opts, bucketRootVariant(sts, req, opts));
  const auth: SigV2Auth = { version: 'v2', form: 'query', accessKeyId, requestTime: opts.now, signatureAgeMs: 0 };
  const token = single(req.headers['x-amz-security-token']) ?? queryValue(params, 'x-amz-security-token');
  if (token !== undefined) auth.securityToken = token;
  return auth;
}

/**
 * The string to sign with the bucket root written `/bucket/` instead of `/bucket` (path
 * style): botocore signs that form while sending the other. Both name the same resource.
 */
function bucketRootVariant(sts: string, req: IncomingSignedRequest, opts: VerifyV2Options): string | undefined {
  if (opts.virtualHostBucket !== undefined || !/^\/[^/]+$/.test(req.rawPath)) return undefined;
  const at = sts.lastIndexOf(`\n${req.rawPath}`);
  if (at < 0) return undefined;
  const end = at + 1 + req.rawPath.length;
  return `${sts.slice(0, end)}/${sts.slice(end)}`;
}

/** Looks the secret up and compares HMAC-SHA1 signatures in constant time; throws on any mismatch. */
function check(accessKeyId: string, provided: string, sts: string, opts: VerifyV2Options, alternate?: string): void {
  const secret = opts.lookupSecret(accessKeyId);
  if (secret === undefined) throw invalidAccessKeyId(accessKeyId);
  const got = Buffer.from(provided, 'utf8');
  const matches = (text: string): boolean => {
    const expected = Buffer.from(createHmac('sha1', secret).update(text, 'utf8').digest('base64'), 'latin1');
    return got.length === expected.length && timingSafeEqual(expected, got);
  };
  if (!matches(sts) && (alternate === undefined || !matches(alternate))) {
    throw s3error('SignatureDoesNotMatch', undefined, {
      AWSAccessKeyId: accessKeyId,
      StringToSign: sts,
      SignatureProvided: provided,
      StringToSignBytes: hexBytes(sts),
    });
  }
}
