import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  CopyObjectCommand, CreateBucketCommand, PutBucketVersioningCommand, GetBucketLocationCommand, type BucketLocationConstraint, DeleteBucketCommand, DeleteObjectCommand, GetObjectCommand,
  HeadBucketCommand, HeadObjectCommand, ListBucketsCommand, PutObjectCommand, S3ServiceException,
  GetObjectTaggingCommand, PutObjectTaggingCommand, GetObjectAttributesCommand, CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand,
} from '@aws-sdk/client-s3';
import { bucketName, s3, startKura, type RunningKura } from './harness.js';

async function expectError(p: Promise<unknown>, name: string, status?: number): Promise<S3ServiceException> {
  try {
    await p;
  } catch (e) {
    const err = e as S3ServiceException;
    assert.equal(err.name, name, `expected ${name}, got ${err.name}: ${err.message}`);
    if (status !== undefined) assert.equal(err.$metadata.httpStatusCode, status);
    return err;
  }
  assert.fail(`expected ${name}`);
}

describe('objects through @aws-sdk/client-s3', () => {
  let k: RunningKura;
  before(async () => {
    k = await startKura();
  });
  after(async () => {
    await k.stop();
  });

  it('creates, lists, heads and deletes buckets with S3 errors', async () => {
    const c = s3(k);
    const b = bucketName();
    await c.send(new CreateBucketCommand({ Bucket: b }));
    await expectError(c.send(new CreateBucketCommand({ Bucket: b })), 'BucketAlreadyOwnedByYou', 409);
    await expectError(c.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })), 'InvalidBucketName', 400);
    const list = await c.send(new ListBucketsCommand({}));
    assert.ok(list.Buckets?.some((x) => x.Name === b));
    await c.send(new HeadBucketCommand({ Bucket: b }));
    await c.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' }));
    await expectError(c.send(new DeleteBucketCommand({ Bucket: b })), 'BucketNotEmpty', 409);
    await c.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    await c.send(new DeleteBucketCommand({ Bucket: b }));
    await expectError(c.send(new HeadBucketCommand({ Bucket: b })), 'NotFound', 404);
  });

  it('deletes conditionally with If-Match (the ETag or *), atomically; a mismatch or a missing key deletes nothing', async () => {
    const c = s3(k);
    const b = bucketName();
    await c.send(new CreateBucketCommand({ Bucket: b }));
    const put = await c.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v1' }));
    await expectError(c.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', IfMatch: '"00000000000000000000000000000000"' })), 'PreconditionFailed', 412);
    assert.equal((await c.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }))).ETag, put.ETag, 'still there');
    await c.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', IfMatch: put.ETag }));
    await expectError(c.send(new HeadObjectCommand({ Bucket: b, Key: 'k' })), 'NotFound', 404);
    await expectError(c.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', IfMatch: '*' })), 'NoSuchKey', 404);
    // Versioned: the delete marker goes in only if the current version matches.
    await c.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    const v = await c.send(new PutObjectCommand({ Bucket: b, Key: 'vk', Body: 'x' }));
    await expectError(c.send(new DeleteObjectCommand({ Bucket: b, Key: 'vk', IfMatch: '"00000000000000000000000000000000"' })), 'PreconditionFailed', 412);
    const marked = await c.send(new DeleteObjectCommand({ Bucket: b, Key: 'vk', IfMatch: '*' }));
    assert.equal(marked.DeleteMarker, true);
    await expectError(c.send(new DeleteObjectCommand({ Bucket: b, Key: 'vk', IfMatch: '*' })), 'NoSuchKey', 404);
    // A version delete checks that version.
    await c.send(new DeleteObjectCommand({ Bucket: b, Key: 'vk', VersionId: v.VersionId, IfMatch: v.ETag }));
  });

  it('pages ListBuckets with max-buckets and continuation tokens, filtered by prefix', async () => {
    const c = s3(k);
    const stem = bucketName();
    const names = [`${stem}-a`, `${stem}-b`, `${stem}-c`];
    for (const Bucket of names) await c.send(new CreateBucketCommand({ Bucket }));
    const first = await c.send(new ListBucketsCommand({ Prefix: stem, MaxBuckets: 2 }));
    assert.deepEqual(first.Buckets?.map((x) => x.Name), names.slice(0, 2));
    assert.ok(first.ContinuationToken);
    const second = await c.send(new ListBucketsCommand({ Prefix: stem, MaxBuckets: 2, ContinuationToken: first.ContinuationToken }));
    assert.deepEqual(second.Buckets?.map((x) => x.Name), names.slice(2));
    assert.equal(second.ContinuationToken, undefined);
    assert.equal((await c.send(new ListBucketsCommand({ Prefix: stem }))).Buckets?.length, 3);
    await expectError(c.send(new ListBucketsCommand({ MaxBuckets: 0 })), 'InvalidArgument', 400);
    await expectError(c.send(new ListBucketsCommand({ ContinuationToken: 'not a token!' })), 'InvalidArgument', 400);
  });

  it('takes a bucket\'s region from the endpoint: LocationConstraint rules as on S3', async () => {
    const c = s3(k);
    // us-east-1 is named by leaving the constraint out; spelled out, or another region, is refused here.
    for (const lc of ['us-east-1', 'eu-west-1']) {
      await expectError(c.send(new CreateBucketCommand({ Bucket: bucketName(), CreateBucketConfiguration: { LocationConstraint: lc as BucketLocationConstraint } })), 'InvalidLocationConstraint', 400);
    }
    const b = bucketName();
    await c.send(new CreateBucketCommand({ Bucket: b }));
    assert.equal((await c.send(new GetBucketLocationCommand({ Bucket: b }))).LocationConstraint, undefined);
    // A server in another region: buckets there name it, anything else is illegal for that endpoint.
    const eu = await startKura({ args: ['--region', 'eu-west-1'] });
    try {
      const ce = s3(eu, eu.root, { region: 'eu-west-1' });
      const e = bucketName();
      await ce.send(new CreateBucketCommand({ Bucket: e, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
      assert.equal((await ce.send(new GetBucketLocationCommand({ Bucket: e }))).LocationConstraint, 'eu-west-1');
      await expectError(ce.send(new CreateBucketCommand({ Bucket: bucketName(), CreateBucketConfiguration: { LocationConstraint: 'us-west-2' } })), 'IllegalLocationConstraintException', 400);
    } finally {
      await eu.stop();
    }
  });

  it('round-trips data, metadata and system headers, with the MD5 ETag and SSE-S3', async () => {
    const c = s3(k);
    const b = bucketName();
    await c.send(new CreateBucketCommand({ Bucket: b }));
    const body = Buffer.from('hello kura '.repeat(1000));
    const put = await c.send(new PutObjectCommand({
      Bucket: b, Key: 'dir/ü file+x.txt', Body: body, ContentType: 'text/plain', Metadata: { color: 'blue' },
      CacheControl: 'max-age=60', ContentDisposition: 'inline', ContentLanguage: 'en',
    }));
    assert.equal(put.ETag, `"${createHash('md5').update(body).digest('hex')}"`);
    assert.equal(put.ServerSideEncryption, 'AES256');
    const got = await c.send(new GetObjectCommand({ Bucket: b, Key: 'dir/ü file+x.txt' }));
    assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), body);
    assert.equal(got.ContentType, 'text/plain');
    assert.equal(got.Metadata?.color, 'blue');
    assert.equal(got.CacheControl, 'max-age=60');
    assert.equal(got.ServerSideEncryption, 'AES256');
    const head = await c.send(new HeadObjectCommand({ Bucket: b, Key: 'dir/ü file+x.txt' }));
    assert.equal(head.ContentLength, body.length);
    await expectError(c.send(new GetObjectCommand({ Bucket: b, Key: 'missing' })), 'NoSuchKey', 404);
  });

  it('serves ranges and rejects unsatisfiable ones', async () => {
    const c = s3(k);
    const b = bucketName();
    await c.send(new CreateBucketCommand({ Bucket: b }));
    const body = Buffer.alloc(200_000, 0);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    await c.send(new PutObjectCommand({ Bucket: b, Key: 'r', Body: body }));
    for (const [range, s, e] of [['bytes=0-0', 0, 0], ['bytes=65530-65545', 65530, 65545], ['bytes=-10', body.length - 10, body.length - 1], ['bytes=199990-', 199990, body.length - 1]] as const) {
      const r = await c.send(new GetObjectCommand({ Bucket: b, Key: 'r', Range: range }));
      assert.equal(r.ContentRange, `bytes ${s}-${e}/${body.length}`);
      assert.deepEqual(Buffer.from(await r.Body!.transformToByteArray()), body.subarray(s, e + 1));
    }
    await expectError(c.send(new GetObjectCommand({ Bucket: b, Key: 'r', Range: `bytes=${body.length}-` })), 'InvalidRange', 416);
  });

  it('honours conditional reads and writes', async () => {
    const c = s3(k);
    const b = bucketName();
    await c.send(new CreateBucketCommand({ Bucket: b }));
    const put = await c.send(new PutObjectCommand({ Bucket: b, Key: 'c', Body: 'v1' }));
    await expectError(c.send(new GetObjectCommand({ Bucket: b, Key: 'c', IfMatch: '"nope"' })), 'PreconditionFailed', 412);
    const nm = await c.send(new GetObjectCommand({ Bucket: b, Key: 'c', IfNoneMatch: put.ETag })).catch((e: S3ServiceException) => e);
    assert.equal((nm as S3ServiceException).$metadata.httpStatusCode, 304);
    await expectError(c.send(new PutObjectCommand({ Bucket: b, Key: 'c', Body: 'v2', IfNoneMatch: '*' })), 'PreconditionFailed', 412);
    await c.send(new PutObjectCommand({ Bucket: b, Key: 'c', Body: 'v2', IfMatch: put.ETag }));
    await c.send(new PutObjectCommand({ Bucket: b, Key: 'new', Body: 'n', IfNoneMatch: '*' }));
  });

  it('copies objects with COPY and REPLACE metadata directives', async () => {
    const c = s3(k);
    const b = bucketName();
    await c.send(new CreateBucketCommand({ Bucket: b }));
    await c.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: 'copy me', Metadata: { a: '1' }, ContentType: 'text/x' }));
    await c.send(new CopyObjectCommand({ Bucket: b, Key: 'dst', CopySource: `${b}/src` }));
    const d1 = await c.send(new HeadObjectCommand({ Bucket: b, Key: 'dst' }));
    assert.equal(d1.Metadata?.a, '1');
    assert.equal(d1.ContentType, 'text/x');
    await c.send(new CopyObjectCommand({ Bucket: b, Key: 'dst2', CopySource: `${b}/src`, MetadataDirective: 'REPLACE', Metadata: { b: '2' } }));
    const d2 = await c.send(new GetObjectCommand({ Bucket: b, Key: 'dst2' }));
    assert.deepEqual(d2.Metadata, { b: '2' });
    assert.equal(await d2.Body!.transformToString(), 'copy me');
    await expectError(c.send(new CopyObjectCommand({ Bucket: b, Key: 'src', CopySource: `${b}/src` })), 'InvalidRequest', 400);
  });

  it('tags objects and reports attributes', async () => {
    const c = s3(k);
    const b = bucketName();
    await c.send(new CreateBucketCommand({ Bucket: b }));
    await c.send(new PutObjectCommand({ Bucket: b, Key: 't', Body: 'tagged', Tagging: 'a=1&b=two' }));
    const t = await c.send(new GetObjectTaggingCommand({ Bucket: b, Key: 't' }));
    assert.deepEqual(t.TagSet?.map((x) => `${x.Key}=${x.Value}`).sort(), ['a=1', 'b=two']);
    // The tag set comes back in key order, whatever order it was written in.
    await c.send(new PutObjectCommand({ Bucket: b, Key: 't-order', Body: 'x', Tagging: 'foo=bar&bar=&10=a&9=b' }));
    const ordered = await c.send(new GetObjectTaggingCommand({ Bucket: b, Key: 't-order' }));
    assert.deepEqual(ordered.TagSet, [{ Key: '10', Value: 'a' }, { Key: '9', Value: 'b' }, { Key: 'bar', Value: '' }, { Key: 'foo', Value: 'bar' }]);
    await c.send(new PutObjectTaggingCommand({ Bucket: b, Key: 't', Tagging: { TagSet: [{ Key: 'x', Value: 'y' }] } }));
    const t2 = await c.send(new GetObjectTaggingCommand({ Bucket: b, Key: 't' }));
    assert.deepEqual(t2.TagSet, [{ Key: 'x', Value: 'y' }]);
    const attrs = await c.send(new GetObjectAttributesCommand({ Bucket: b, Key: 't', ObjectAttributes: ['ETag', 'ObjectSize', 'StorageClass'] }));
    assert.equal(attrs.ObjectSize, 6);
    assert.equal(attrs.StorageClass, 'STANDARD');
    // An object not made by multipart is its own part 1: the whole object as a 206.
    const part1 = await c.send(new GetObjectCommand({ Bucket: b, Key: 't', PartNumber: 1 }));
    assert.equal(part1.$metadata.httpStatusCode, 206);
    assert.equal(part1.ContentRange, 'bytes 0-5/6');
    assert.equal(await part1.Body!.transformToString(), 'tagged');
    await expectError(c.send(new GetObjectCommand({ Bucket: b, Key: 't', PartNumber: 2 })), 'InvalidPartNumber', 416);
  });

  it('pages a multipart object\'s parts in GetObjectAttributes (x-amz-max-parts, x-amz-part-number-marker)', async () => {
    const c = s3(k);
    const b = bucketName();
    await c.send(new CreateBucketCommand({ Bucket: b }));
    const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp' }));
    const five = Buffer.alloc(5 * 1024 * 1024, 1);
    const parts = [];
    for (let n = 1; n <= 3; n++) {
      const r = await c.send(new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId, PartNumber: n, Body: n === 3 ? Buffer.from('end') : five }));
      parts.push({ PartNumber: n, ETag: r.ETag });
    }
    await c.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mp', UploadId, MultipartUpload: { Parts: parts } }));
    const first = await c.send(new GetObjectAttributesCommand({ Bucket: b, Key: 'mp', ObjectAttributes: ['ObjectParts'], MaxParts: 1 }));
    assert.equal(first.ObjectParts?.TotalPartsCount, 3);
    assert.equal(first.ObjectParts?.MaxParts, 1);
    assert.equal(first.ObjectParts?.IsTruncated, true);
    assert.deepEqual(first.ObjectParts?.Parts?.map((p) => p.PartNumber), [1]);
    assert.equal(first.ObjectParts?.NextPartNumberMarker, '1');
    const rest = await c.send(new GetObjectAttributesCommand({ Bucket: b, Key: 'mp', ObjectAttributes: ['ObjectParts'], PartNumberMarker: '1' }));
    assert.deepEqual(rest.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size]), [[2, five.length], [3, 3]]);
    assert.equal(rest.ObjectParts?.IsTruncated, false);
  });

  it('rejects a wrong secret with SignatureDoesNotMatch and an unknown key with InvalidAccessKeyId', async () => {
    const b = bucketName();
    await s3(k).send(new CreateBucketCommand({ Bucket: b }));
    await expectError(s3(k, { accessKeyId: k.root.accessKeyId, secretAccessKey: 'wrong-secret-wrong-secret-wrong' }).send(new ListBucketsCommand({})), 'SignatureDoesNotMatch', 403);
    await expectError(s3(k, { accessKeyId: 'AKIANOSUCHKEY0000000', secretAccessKey: 'x'.repeat(40) }).send(new ListBucketsCommand({})), 'InvalidAccessKeyId', 403);
  });

  it('fails closed on guards it cannot honour', async () => {
    const c = s3(k);
    const b = bucketName();
    await c.send(new CreateBucketCommand({ Bucket: b }));
    const head = await c.send(new PutObjectCommand({ Bucket: b, Key: 'o', Body: 'x' }));
    assert.ok(head.ETag);
    // x-amz-expected-bucket-owner: a wrong account is 403, the right one passes.
    await expectError(c.send(new GetObjectCommand({ Bucket: b, Key: 'o', ExpectedBucketOwner: '000000000000' })), 'AccessDenied', 403);
    // Object Lock headers are never silently dropped: the bucket has no Object Lock configuration.
    await expectError(c.send(new PutObjectCommand({ Bucket: b, Key: 'locked', Body: 'x', ObjectLockLegalHoldStatus: 'ON' })), 'InvalidRequest', 400);
    // SSE-KMS over plain HTTP is refused (AWS requires TLS), never downgraded to SSE-S3.
    await expectError(c.send(new PutObjectCommand({ Bucket: b, Key: 'kms', Body: 'x', ServerSideEncryption: 'aws:kms' })), 'InvalidRequest', 400);
    // A session token next to a long-term key is refused, not ignored.
    await expectError(s3(k, k.root, { credentials: { ...k.root, sessionToken: 'FwoGZXIvYXdzEBogus' } }).send(new ListBucketsCommand({})), 'InvalidToken', 400);
  });
});
