import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseQuery } from '../http/request.js';
import { resolveTarget } from '../http/addressing.js';
import { requiredChecks } from '../authz/actions.js';
import type { S3Request } from '../http/request.js';
import { parseOperation } from './operations.js';

function route(method: string, url: string, headers: Record<string, string> = {}, host = '127.0.0.1:9000') {
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? '' : url.slice(q + 1);
  const t = resolveTarget(host, rawPath, ['localhost']);
  const query = parseQuery(rawQuery);
  const op = parseOperation({ method, bucket: t.bucket, key: t.key, query, headers });
  const req = { method, rawPath, rawQuery, query, headers } as unknown as S3Request;
  return { op, actions: requiredChecks(op, req).map((c) => `${c.action} ${c.resource}`) };
}

// Request lines from the S3 API reference examples, each with the operation and the IAM
// checks it must map to (S3 UG "Required permissions for Amazon S3 API operations").
const CASES: [string, string, Record<string, string>, string, string[]][] = [
  ['GET', '/', {}, 'ListBuckets', ['s3:ListAllMyBuckets arn:aws:s3:::*']],
  ['PUT', '/b', {}, 'CreateBucket', ['s3:CreateBucket arn:aws:s3:::b']],
  ['PUT', '/b', { 'x-amz-acl': 'private' }, 'CreateBucket', ['s3:CreateBucket arn:aws:s3:::b', 's3:PutBucketAcl arn:aws:s3:::b']],
  ['HEAD', '/b', {}, 'HeadBucket', ['s3:ListBucket arn:aws:s3:::b']],
  ['GET', '/b?list-type=2&prefix=a', {}, 'ListObjectsV2', ['s3:ListBucket arn:aws:s3:::b']],
  ['GET', '/b?prefix=a', {}, 'ListObjects', ['s3:ListBucket arn:aws:s3:::b']],
  ['GET', '/b?versions', {}, 'ListObjectVersions', ['s3:ListBucketVersions arn:aws:s3:::b']],
  ['GET', '/b?uploads', {}, 'ListMultipartUploads', ['s3:ListBucketMultipartUploads arn:aws:s3:::b']],
  ['GET', '/b?location', {}, 'GetBucketLocation', ['s3:GetBucketLocation arn:aws:s3:::b']],
  ['PUT', '/b?versioning', {}, 'PutBucketVersioning', ['s3:PutBucketVersioning arn:aws:s3:::b']],
  ['DELETE', '/b?cors', {}, 'DeleteBucketCors', ['s3:PutBucketCORS arn:aws:s3:::b']],
  ['DELETE', '/b?encryption', {}, 'DeleteBucketEncryption', ['s3:PutEncryptionConfiguration arn:aws:s3:::b']],
  ['GET', '/b?policyStatus', {}, 'GetBucketPolicyStatus', ['s3:GetBucketPolicyStatus arn:aws:s3:::b']],
  ['POST', '/b?delete', {}, 'DeleteObjects', []],
  ['PUT', '/b/k', {}, 'PutObject', ['s3:PutObject arn:aws:s3:::b/k']],
  ['PUT', '/b/k', { 'x-amz-tagging': 'a=b' }, 'PutObject', ['s3:PutObject arn:aws:s3:::b/k', 's3:PutObjectTagging arn:aws:s3:::b/k']],
  ['GET', '/b/a%20b/c', {}, 'GetObject', ['s3:GetObject arn:aws:s3:::b/a b/c']],
  ['GET', '/b/k?versionId=v', {}, 'GetObject', ['s3:GetObjectVersion arn:aws:s3:::b/k']],
  ['HEAD', '/b/k', {}, 'HeadObject', ['s3:GetObject arn:aws:s3:::b/k']],
  ['DELETE', '/b/k?versionId=v', {}, 'DeleteObject', ['s3:DeleteObjectVersion arn:aws:s3:::b/k']],
  ['PUT', '/b/k', { 'x-amz-copy-source': '/src/x%20y?versionId=1' }, 'CopyObject', ['s3:GetObjectVersion arn:aws:s3:::src/x y', 's3:PutObject arn:aws:s3:::b/k', 's3:GetObjectVersionTagging arn:aws:s3:::src/x y', 's3:PutObjectTagging arn:aws:s3:::b/k']],
  ['PUT', '/b/k', { 'x-amz-copy-source': 'src/x', 'x-amz-tagging-directive': 'REPLACE' }, 'CopyObject', ['s3:GetObject arn:aws:s3:::src/x', 's3:PutObject arn:aws:s3:::b/k']],
  ['POST', '/b/k?uploads', {}, 'CreateMultipartUpload', ['s3:PutObject arn:aws:s3:::b/k']],
  ['PUT', '/b/k?partNumber=1&uploadId=u', {}, 'UploadPart', ['s3:PutObject arn:aws:s3:::b/k']],
  ['PUT', '/b/k?partNumber=1&uploadId=u', { 'x-amz-copy-source': 'src/x' }, 'UploadPartCopy', ['s3:GetObject arn:aws:s3:::src/x', 's3:PutObject arn:aws:s3:::b/k']],
  ['POST', '/b/k?uploadId=u', {}, 'CompleteMultipartUpload', ['s3:PutObject arn:aws:s3:::b/k']],
  ['DELETE', '/b/k?uploadId=u', {}, 'AbortMultipartUpload', ['s3:AbortMultipartUpload arn:aws:s3:::b/k']],
  ['GET', '/b/k?uploadId=u', {}, 'ListParts', ['s3:ListMultipartUploadParts arn:aws:s3:::b/k']],
  ['GET', '/b/k?tagging', {}, 'GetObjectTagging', ['s3:GetObjectTagging arn:aws:s3:::b/k']],
  ['GET', '/b/k?attributes', {}, 'GetObjectAttributes', ['s3:GetObjectAttributes arn:aws:s3:::b/k']],
  ['OPTIONS', '/b/k', {}, 'ObjectOptions', []],
];

describe('routing and the operation → IAM action table', () => {
  for (const [method, url, headers, kind, actions] of CASES) {
    it(`${method} ${url} ${JSON.stringify(headers)} → ${kind}`, () => {
      const r = route(method, url, headers);
      assert.equal(r.op.kind, kind);
      assert.deepEqual(r.actions, actions);
    });
  }

  it('routes virtual-hosted-style requests by Host', () => {
    const r = route('GET', '/photos/cat.jpg', {}, 'my-bucket.localhost:9000');
    assert.equal(r.op.kind, 'GetObject');
    assert.deepEqual(r.actions, ['s3:GetObject arn:aws:s3:::my-bucket/photos/cat.jpg']);
    assert.equal(route('GET', '/?list-type=2', {}, 'my-bucket.localhost').op.kind, 'ListObjectsV2');
  });

  it('answers MethodNotAllowed for methods S3 does not route', () => {
    assert.throws(() => route('PATCH', '/b/k'), { code: 'MethodNotAllowed' });
    assert.throws(() => route('POST', '/b/k'), { code: 'MethodNotAllowed' });
    // A POST to a bucket is a form upload: anything else fails its precondition, as on S3.
    assert.throws(() => route('POST', '/b', { 'content-type': 'application/x-www-form-urlencoded' }), { code: 'PreconditionFailed' });
    assert.throws(() => route('DELETE', '/'), { code: 'MethodNotAllowed' });
  });

  it('rejects malformed percent-encoding with InvalidURI', () => {
    assert.throws(() => route('GET', '/b/%E0%A4%A'), { code: 'InvalidURI' });
  });
});
