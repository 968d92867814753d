/**
 * Server-side encryption request headers. Every object is encrypted with SSE-S3; the
 * headers may ask for it explicitly. SSE-KMS and SSE-C arrive with the keys issue: until
 * then they are refused clearly rather than silently downgraded to SSE-S3.
 */
import { s3error } from '../errors/s3-errors.js';
import { header, type S3Request } from '../http/request.js';

export function checkSseRequest(req: S3Request): void {
  const sse = header(req, 'x-amz-server-side-encryption');
  const kmsKey = header(req, 'x-amz-server-side-encryption-aws-kms-key-id');
  const ctx = header(req, 'x-amz-server-side-encryption-context');
  const customer = header(req, 'x-amz-server-side-encryption-customer-algorithm')
    ?? header(req, 'x-amz-server-side-encryption-customer-key')
    ?? header(req, 'x-amz-server-side-encryption-customer-key-md5');
  if (customer !== undefined) {
    if (sse !== undefined) throw s3error('InvalidArgument', 'Server Side Encryption with Customer provided key is incompatible with the encryption method specified', { ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: sse });
    throw s3error('NotImplemented', 'SSE-C is not implemented yet; the object was not stored.');
  }
  if ((kmsKey !== undefined || ctx !== undefined) && sse !== 'aws:kms' && sse !== 'aws:kms:dsse') {
    throw s3error('InvalidArgument', 'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms', { ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: sse ?? 'null' });
  }
  if (sse === undefined || sse === 'AES256') return;
  if (sse === 'aws:kms' || sse === 'aws:kms:dsse') throw s3error('NotImplemented', 'SSE-KMS is not implemented yet; the object was not stored.');
  throw s3error('InvalidArgument', 'The encryption method specified is not supported', { ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: sse });
}

/** No bucket has Object Lock yet, so lock headers get S3's answer for such a bucket (never silently ignored). */
export function checkObjectLockHeaders(req: S3Request): void {
  for (const h of ['x-amz-object-lock-mode', 'x-amz-object-lock-retain-until-date', 'x-amz-object-lock-legal-hold']) {
    if (header(req, h) !== undefined) throw s3error('InvalidRequest', 'Bucket is missing Object Lock Configuration');
  }
}

export const SSE_HEADERS = { 'x-amz-server-side-encryption': 'AES256' } as const;
