/** S3's naming rules for buckets and keys. */
import { s3error } from '../errors/s3-errors.js';

const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IPV4_RE = /^\d{1,3}(\.\d{1,3}){3}$/;

/** General-purpose bucket naming rules (S3 UG "Bucket naming rules"). */
export function validateBucketName(name: string): void {
  const bad = !BUCKET_RE.test(name)
    || name.includes('..') || name.includes('.-') || name.includes('-.')
    || IPV4_RE.test(name)
    || name.startsWith('xn--') || name.startsWith('sthree-') || name.startsWith('amzn-s3-demo-')
    || name.endsWith('-s3alias') || name.endsWith('--ol-s3') || name.endsWith('.mrap') || name.endsWith('--x-s3') || name.endsWith('--table-s3');
  if (bad) throw s3error('InvalidBucketName', undefined, { BucketName: name });
}

/** Keys are 1..1024 bytes of UTF-8. */
export function validateKey(key: string): void {
  if (Buffer.byteLength(key, 'utf8') > 1024) throw s3error('KeyTooLongError', undefined, { Size: Buffer.byteLength(key, 'utf8'), MaxSizeAllowed: 1024 });
}
