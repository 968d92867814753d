import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand,
  DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand,
  ListObjectVersionsCommand, ListObjectsCommand, ListObjectsV2Command, ListPartsCommand, PutBucketVersioningCommand,
  PutObjectCommand, UploadPartCommand, UploadPartCopyCommand, S3ServiceException, PutBucketTaggingCommand,
  GetBucketTaggingCommand, DeleteBucketTaggingCommand, GetObjectAttributesCommand,
} from '@aws-sdk/client-s3';
import { bucketName, s3, startKura, type RunningKura } from './harness.js';

const MiB = 1024 * 1024;

describe('versioning, listing and multipart through the SDK', () => {
  let k: RunningKura;
  before(async () => {
    k = await startKura();
  });
  after(async () => {
    await k.stop();
  });

  it('keeps versions, delete markers and the null version as S3 does', async () => {
    const c = s3(k);
    const b = bucketName();
    await c.send(new CreateBucketCommand({ Bucket: b }));
    await c.send(new PutObjectCommand({ Bucket: b, Key: 'doc', Body: 'null version' }));
    await c.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = await c.send(new PutObjectCommand({ Bucket: b, Key: 'doc', Body: 'one' }));
    const v2 = await c.send(new PutObjectCommand({ Bucket: b, Key: 'doc', Body: 'two' }));
    assert.ok(v1.VersionId && v2.VersionId && v1.VersionId !== v2.VersionId);
    const del = await c.send(new DeleteObjectCommand({ Bucket: b, Key: 'doc' }));
    assert.equal(del.DeleteMarker, true);
    const gone = await c.send(new GetObjectCommand({ Bucket: b, Key: 'doc' })).catch((e: S3ServiceException) => e);
    assert.equal((gone as S3ServiceException).name, 'NoSuchKey');
    const old = await c.send(new GetObjectCommand({ Bucket: b, Key: 'doc', VersionId: v1.VersionId }));
    assert.equal(await old.Body!.transformToString(), 'one');
    const nul = await c.send(new GetObjectCommand({ Bucket: b, Key: 'doc', VersionId: 'null' }));
    assert.equal(await nul.Body!.transformToString(), 'null version');
    const onMarker = await c.send(new HeadObjectCommand({ Bucket: b, Key: 'doc', VersionId: del.VersionId })).catch((e: S3ServiceException) => e);
    assert.equal((onMarker as S3ServiceException).$metadata.httpStatusCode, 405);
    const versions = await c.send(new ListObjectVersionsCommand({ Bucket: b }));
    assert.deepEqual(versions.Versions?.map((v) => v.VersionId), [v2.VersionId, v1.VersionId, 'null']);
    assert.equal(versions.DeleteMarkers?.[0]?.IsLatest, true);
    // Removing the delete marker brings v2 back.
    await c.send(new DeleteObjectCommand({ Bucket: b, Key: 'doc', VersionId: del.VersionId }));
    const back = await c.send(new GetObjectCommand({ Bucket: b, Key: 'doc' }));
    assert.equal(await back.Body!.transformToString(), 'two');
    assert.equal(back.VersionId, v2.VersionId);
    // Suspended: new writes replace the null version.
    await c.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }));
    const put = await c.send(new PutObjectCommand({ Bucket: b, Key: 'doc', Body: 'suspended' }));
    // The null version a suspended bucket writes is not announced (S3 sends no x-amz-version-id)…
    assert.equal(put.VersionId, undefined);
    // …but reading it names it.
    assert.equal((await c.send(new HeadObjectCommand({ Bucket: b, Key: 'doc' }))).VersionId, 'null');
    const after = await c.send(new ListObjectVersionsCommand({ Bucket: b }));
    assert.equal(after.Versions?.filter((v) => v.VersionId === 'null').length, 1);
    const bad = await c.send(new GetObjectCommand({ Bucket: b, Key: 'doc', VersionId: 'not-a-version' })).catch((e: S3ServiceException) => e);
    assert.equal((bad as S3ServiceException).name, 'InvalidArgument');
  });

  it('lists with prefixes, delimiters, pagination and url encoding (v1 and v2)', async () => {
    const c = s3(k);
    const b = bucketName();
    await c.send(new CreateBucketCommand({ Bucket: b }));
    const keys = ['a/1', 'a/2', 'a/b/3', 'b/1', 'c', 'd e/f', 'ü/x'];
    await Promise.all(keys.map((Key) => c.send(new PutObjectCommand({ Bucket: b, Key, Body: Key }))));
    const top = await c.send(new ListObjectsV2Command({ Bucket: b, Delimiter: '/' }));
    assert.deepEqual(top.Contents?.map((o) => o.Key), ['c']);
    assert.deepEqual(top.CommonPrefixes?.map((p) => p.Prefix), ['a/', 'b/', 'd e/', 'ü/']);
    const a = await c.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'a/', Delimiter: '/' }));
    assert.deepEqual(a.Contents?.map((o) => o.Key), ['a/1', 'a/2']);
    assert.deepEqual(a.CommonPrefixes?.map((p) => p.Prefix), ['a/b/']);
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await c.send(new ListObjectsV2Command({ Bucket: b, MaxKeys: 2, ContinuationToken: token }));
      seen.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.NextContinuationToken;
      assert.equal(page.IsTruncated, token !== undefined);
    } while (token);
    assert.deepEqual(seen, [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
    const after = await c.send(new ListObjectsV2Command({ Bucket: b, StartAfter: 'b/1' }));
    assert.deepEqual(after.Contents?.map((o) => o.Key), ['c', 'd e/f', 'ü/x']);
    const v1 = await c.send(new ListObjectsCommand({ Bucket: b, Marker: 'a/2', MaxKeys: 2 }));
    assert.deepEqual(v1.Contents?.map((o) => o.Key), ['a/b/3', 'b/1']);
    assert.equal(v1.IsTruncated, true);
    const enc = await c.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'd e', EncodingType: 'url' }));
    assert.deepEqual(enc.Contents?.map((o) => o.Key), ['d%20e/f'], 'keys come back url-encoded (SDK v3 does not decode them)');
  });

  it('deletes many objects in one request, quiet and verbose', async () => {
    const c = s3(k);
    const b = bucketName();
    await c.send(new CreateBucketCommand({ Bucket: b }));
    await Promise.all(['x1', 'x2', 'x3'].map((Key) => c.send(new PutObjectCommand({ Bucket: b, Key, Body: Key }))));
    const verbose = await c.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'x1' }, { Key: 'x2' }, { Key: 'missing' }] } }));
    assert.deepEqual(verbose.Deleted?.map((d) => d.Key).sort(), ['missing', 'x1', 'x2']);
    const quiet = await c.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'x3' }], Quiet: true } }));
    assert.equal(quiet.Deleted, undefined);
    const left = await c.send(new ListObjectsV2Command({ Bucket: b }));
    assert.equal(left.KeyCount, 0);
  });

  it('runs multipart uploads with copy parts, listings, validation errors and abort', async () => {
    const c = s3(k);
    const b = bucketName();
    await c.send(new CreateBucketCommand({ Bucket: b }));
    const src = Buffer.alloc(6 * MiB, 7);
    await c.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: src }));
    const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp', ContentType: 'application/x-kura', ChecksumAlgorithm: 'CRC32' }));
    const p1 = await c.send(new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId, PartNumber: 1, Body: Buffer.alloc(5 * MiB, 1), ChecksumAlgorithm: 'CRC32' }));
    const p2 = await c.send(new UploadPartCopyCommand({ Bucket: b, Key: 'mp', UploadId, PartNumber: 2, CopySource: `${b}/src`, CopySourceRange: 'bytes=0-1048575' }));
    const uploads = await c.send(new ListMultipartUploadsCommand({ Bucket: b }));
    assert.deepEqual(uploads.Uploads?.map((u) => u.UploadId), [UploadId]);
    const parts = await c.send(new ListPartsCommand({ Bucket: b, Key: 'mp', UploadId }));
    assert.deepEqual(parts.Parts?.map((p) => [p.PartNumber, p.Size]), [[1, 5 * MiB], [2, MiB]]);
    const wrong = await c.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"00000000000000000000000000000000"' }] } })).catch((e: S3ServiceException) => e);
    assert.equal((wrong as S3ServiceException).name, 'InvalidPart');
    const order = await c.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 2, ETag: p2.CopyPartResult!.ETag }, { PartNumber: 1, ETag: p1.ETag }] } })).catch((e: S3ServiceException) => e);
    assert.equal((order as S3ServiceException).name, 'InvalidPartOrder');
    const done = await c.send(new CompleteMultipartUploadCommand({
      Bucket: b, Key: 'mp', UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag, ChecksumCRC32: p1.ChecksumCRC32 }, { PartNumber: 2, ETag: p2.CopyPartResult!.ETag, ChecksumCRC32: p2.CopyPartResult!.ChecksumCRC32 }] },
    }));
    assert.match(done.ETag!, /^"[0-9a-f]{32}-2"$/);
    const got = await c.send(new GetObjectCommand({ Bucket: b, Key: 'mp', Range: `bytes=${5 * MiB - 2}-${5 * MiB + 1}` }));
    assert.deepEqual([...(await got.Body!.transformToByteArray())], [1, 1, 7, 7]);
    const part2 = await c.send(new GetObjectCommand({ Bucket: b, Key: 'mp', PartNumber: 2 }));
    assert.equal(part2.PartsCount, 2);
    assert.equal(part2.ContentLength, MiB);
    const attrs = await c.send(new GetObjectAttributesCommand({ Bucket: b, Key: 'mp', ObjectAttributes: ['ObjectParts', 'ObjectSize'] }));
    assert.equal(attrs.ObjectParts?.TotalPartsCount, 2);
    assert.equal(attrs.ObjectSize, 6 * MiB);

    const small = await c.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'small' }));
    const s1 = await c.send(new UploadPartCommand({ Bucket: b, Key: 'small', UploadId: small.UploadId, PartNumber: 1, Body: 'tiny' }));
    const s2 = await c.send(new UploadPartCommand({ Bucket: b, Key: 'small', UploadId: small.UploadId, PartNumber: 2, Body: 'tiny' }));
    const tooSmall = await c.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'small', UploadId: small.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: s1.ETag }, { PartNumber: 2, ETag: s2.ETag }] } })).catch((e: S3ServiceException) => e);
    assert.equal((tooSmall as S3ServiceException).name, 'EntityTooSmall');
    await c.send(new AbortMultipartUploadCommand({ Bucket: b, Key: 'small', UploadId: small.UploadId }));
    const aborted = await c.send(new ListPartsCommand({ Bucket: b, Key: 'small', UploadId: small.UploadId })).catch((e: S3ServiceException) => e);
    assert.equal((aborted as S3ServiceException).name, 'NoSuchUpload');
  });

  it('tags buckets', async () => {
    const c = s3(k);
    const b = bucketName();
    await c.send(new CreateBucketCommand({ Bucket: b }));
    const none = await c.send(new GetBucketTaggingCommand({ Bucket: b })).catch((e: S3ServiceException) => e);
    assert.equal((none as S3ServiceException).name, 'NoSuchTagSet');
    await c.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: [{ Key: 'team', Value: 'storage' }] } }));
    const t = await c.send(new GetBucketTaggingCommand({ Bucket: b }));
    assert.deepEqual(t.TagSet, [{ Key: 'team', Value: 'storage' }]);
    await c.send(new DeleteBucketTaggingCommand({ Bucket: b }));
  });
});
