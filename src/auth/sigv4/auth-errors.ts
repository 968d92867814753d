/**
 * The authentication errors S3 returns, with its wording. Kept in one place so the header and
 * query forms (which word the same problem differently) stay consistent.
 */
import { s3error, type ErrorDetails, type S3Error } from '../../errors/s3-errors.js';
import { isoSeconds } from './amz-date.js';

/** Where the SigV4 parameters came from: the Authorization header or a presigned URL. */
export type AuthForm = 'header' | 'query';

export const MAX_SKEW_MS = 15 * 60 * 1000;

/** A credential-scope problem, prefixed the way S3 prefixes it for each form. */
export function credentialError(form: AuthForm, message: string, details?: ErrorDetails): S3Error {
  return form === 'header'
    ? s3error('AuthorizationHeaderMalformed', `The authorization header is malformed; ${message}`, details)
    : s3error('AuthorizationQueryParametersError', `Error parsing the X-Amz-Credential parameter; ${message}`, details);
}

/** A malformed Authorization header that is not about the credential. */
export function headerMalformed(message: string): S3Error {
  return s3error('AuthorizationHeaderMalformed', `The authorization header is malformed; ${message}`);
}

/** A malformed presigning parameter. */
export function queryParamsError(message: string): S3Error {
  return s3error('AuthorizationQueryParametersError', message);
}

/** Both a presigned URL (or SigV2 query signature) and an Authorization header. */
export function onlyOneAuthMechanism(authorization: string): S3Error {
  return s3error(
    'InvalidArgument',
    'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
    { ArgumentName: 'Authorization', ArgumentValue: authorization },
  );
}

/** An Authorization header whose scheme is neither SigV4 nor SigV2. */
export function unsupportedAuthorizationType(authorization: string): S3Error {
  return s3error('InvalidArgument', 'Unsupported Authorization Type', { ArgumentName: 'Authorization', ArgumentValue: authorization });
}

/** An Authorization header with no scheme/credentials separator at all. */
export function authorizationHeaderInvalid(authorization: string): S3Error {
  return s3error('InvalidArgument', "Authorization header is invalid -- one and only one ' ' (space) required.", {
    ArgumentName: 'Authorization',
    ArgumentValue: authorization,
  });
}

/** No usable Date or x-amz-date header. */
export function missingDate(): S3Error {
  return s3error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
}

/** An access key id the credential store does not know. */
export function invalidAccessKeyId(accessKeyId: string): S3Error {
  return s3error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: accessKeyId });
}

/** Headers that had to be signed but are missing from SignedHeaders. */
export function headersNotSigned(names: readonly string[]): S3Error {
  return s3error('AccessDenied', 'There were headers present in the request which were not signed', {
    HeadersNotSigned: names.join(', '),
  });
}

/** More than 15 minutes between the request's time and ours. */
export function requestTimeTooSkewed(rawRequestTime: string, now: Date): S3Error {
  return s3error('RequestTimeTooSkewed', undefined, {
    RequestTime: rawRequestTime,
    ServerTime: isoSeconds(now),
    MaxAllowedSkewMilliseconds: MAX_SKEW_MS,
  });
}

/** Space-separated lower-case hex of the UTF-8 bytes, as S3 prints StringToSignBytes. */
export function hexBytes(s: string): string {
  const buf = Buffer.from(s, 'utf8');
  const hex = buf.toString('hex');
  let out = '';
  for (let i = 0; i < hex.length; i += 2) out += i === 0 ? hex.slice(0, 2) : ` ${hex.slice(i, i + 2)}`;
  return out;
}
