import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { S3Result } from '../http/request.js';
import { checksumOf } from '../util/checksums.js';
import { MiB, blobCount, call, collect, md5hex, rejects, setup, xmlText, type Env } from './handler-test-env.js';
import { copyObject } from './copy.js';
import { completeMultipartUpload, createMultipartUpload, uploadPart } from './multipart.js';
import { readObject } from './object-io.js';
import { deleteObject, putObject } from './objects.js';
import { versionMemoKey } from '../authz/authorizer.js';

// ---- harness -------------------------------------------------------------------------

// ---- helpers -------------------------------------------------------------------------

async function putSrc(env: Env, body: string | Buffer, headers: Record<string, string> = {}, bucket = 'src', key = 'a'): Promise<S3Result> {
  return call(env, 'PutObject', putObject, { bucket, key, body, headers });
}

async function copy(env: Env, headers: Record<string, string>, bucket = 'bkt', key = 'dest'): Promise<S3Result> {
  return call(env, 'CopyObject', copyObject, { bucket, key, headers });
}

async function read(env: Env, bucket: string, key: string): Promise<Buffer> {
  const v = await env.svc.meta.getObjectVersion(bucket, key);
  assert.ok(v && !v.isDeleteMarker);
  return collect(readObject(env.svc, v, 0, v.size - 1));
}


const SELF_COPY = /trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes/;

// ---- tests ---------------------------------------------------------------------------

test('COPY directives: data, metadata and tags carried over; re-encrypted into a new blob', async () => {
  const env = await setup();
  const data = randomBytes(70_000);
  await putSrc(env, data, { 'content-type': 'image/png', 'cache-control': 'max-age=5', 'x-amz-meta-k': 'v', 'x-amz-tagging': 't=1', 'x-amz-website-redirect-location': '/elsewhere', 'x-amz-storage-class': 'STANDARD_IA' });
  const r = await copy(env, { 'x-amz-copy-source': '/src/a', 'content-type': 'text/ignored', 'x-amz-meta-k': 'ignored' });
  assert.equal(r.status, 200);
  assert.equal(xmlText(r, 'ETag'), `"${md5hex(data)}"`);
  assert.ok(xmlText(r, 'LastModified'));
  assert.equal(r.headers['x-amz-server-side-encryption'], 'AES256');
  assert.equal(r.headers['x-amz-copy-source-version-id'], undefined);
  assert.equal(r.headers['x-amz-version-id'], undefined);
  const v = (await env.svc.meta.getObjectVersion('bkt', 'dest'))!;
  assert.equal(v.meta.contentType, 'image/png');
  assert.equal(v.meta.cacheControl, 'max-age=5');
  assert.deepEqual(v.meta.user, { k: 'v' });
  // Storage class and website redirect are not carried by a copy.
  assert.equal(v.meta.storageClass, undefined);
  assert.equal(v.meta.websiteRedirectLocation, undefined);
  assert.deepEqual(v.tags, { t: '1' });
  const src = (await env.svc.meta.getObjectVersion('src', 'a'))!;
  assert.notEqual(v.pieces[0]!.blobId, src.pieces[0]!.blobId);
  assert.ok((await read(env, 'bkt', 'dest')).equals(data));
  assert.equal(await blobCount(env), 2);
});

test('REPLACE directives take metadata and tags from the request; unknown directives are InvalidArgument', async () => {
  const env = await setup();
  await putSrc(env, 'hello', { 'content-type': 'image/png', 'x-amz-meta-old': '1', 'x-amz-tagging': 'old=1' });
  await copy(env, { 'x-amz-copy-source': 'src/a', 'x-amz-metadata-directive': 'REPLACE', 'content-type': 'text/plain', 'x-amz-meta-new': '2', 'x-amz-tagging-directive': 'REPLACE', 'x-amz-tagging': 'new=2&x=y' });
  const v = (await env.svc.meta.getObjectVersion('bkt', 'dest'))!;
  assert.equal(v.meta.contentType, 'text/plain');
  assert.deepEqual(v.meta.user, { new: '2' });
  assert.deepEqual(v.tags, { new: '2', x: 'y' });
  // REPLACE without x-amz-tagging clears the tags; COPY of tags ignores x-amz-tagging.
  await copy(env, { 'x-amz-copy-source': 'src/a', 'x-amz-tagging-directive': 'REPLACE' }, 'bkt', 'd2');
  assert.deepEqual((await env.svc.meta.getObjectVersion('bkt', 'd2'))!.tags, {});
  await copy(env, { 'x-amz-copy-source': 'src/a', 'x-amz-tagging': 'z=9' }, 'bkt', 'd3');
  assert.deepEqual((await env.svc.meta.getObjectVersion('bkt', 'd3'))!.tags, { old: '1' });
  await rejects(copy(env, { 'x-amz-copy-source': 'src/a', 'x-amz-metadata-directive': 'MERGE' }), 'InvalidArgument', /metadata directive/);
  await rejects(copy(env, { 'x-amz-copy-source': 'src/a', 'x-amz-tagging-directive': 'copy' }), 'InvalidArgument', /tagging directive/);
  await rejects(copy(env, { 'x-amz-copy-source': 'src/a', 'x-amz-tagging-directive': 'REPLACE', 'x-amz-tagging': 'aws:k=v' }), 'InvalidTag');
  await rejects(copy(env, { 'x-amz-copy-source': 'src/a', 'x-amz-storage-class': 'FAST' }), 'InvalidStorageClass');
});

test('copying an object onto itself needs a change', async () => {
  const env = await setup();
  await putSrc(env, 'self', { 'x-amz-meta-a': '1' }, 'bkt', 'k');
  const before = (await env.svc.meta.getObjectVersion('bkt', 'k'))!;
  await rejects(copy(env, { 'x-amz-copy-source': 'bkt/k' }, 'bkt', 'k'), 'InvalidRequest', SELF_COPY);
  await rejects(copy(env, { 'x-amz-copy-source': 'bkt/k', 'x-amz-metadata-directive': 'COPY', 'x-amz-tagging-directive': 'REPLACE' }, 'bkt', 'k'), 'InvalidRequest', SELF_COPY);
  await rejects(copy(env, { 'x-amz-copy-source': 'bkt/k?versionId=null' }, 'bkt', 'k'), 'InvalidRequest', SELF_COPY);
  const changes: Record<string, string>[] = [
    { 'x-amz-metadata-directive': 'REPLACE', 'x-amz-meta-b': '2' },
    { 'x-amz-storage-class': 'STANDARD_IA' },
    { 'x-amz-server-side-encryption': 'AES256' },
    { 'x-amz-website-redirect-location': '/x' },
  ];
  for (const change of changes) {
    await copy(env, { 'x-amz-copy-source': 'bkt/k', ...change }, 'bkt', 'k');
  }
  assert.equal((await read(env, 'bkt', 'k')).toString(), 'self');
  const after = (await env.svc.meta.getObjectVersion('bkt', 'k'))!;
  assert.notEqual(after.pieces[0]!.blobId, before.pieces[0]!.blobId);
  assert.deepEqual(after.meta.user, { b: '2' });
  // The unversioned overwrite freed the replaced blobs.
  assert.equal(await blobCount(env), 1);
});

test('versioned: an older version may be copied over its own key; source version id is reported', async () => {
  const env = await setup('Enabled');
  await putSrc(env, 'one', {}, 'bkt', 'k');
  const v1 = (await env.svc.meta.getObjectVersion('bkt', 'k'))!;
  await putSrc(env, 'two', {}, 'bkt', 'k');
  const v2 = (await env.svc.meta.getObjectVersion('bkt', 'k'))!;
  await rejects(copy(env, { 'x-amz-copy-source': `bkt/k?versionId=${v2.versionId}` }, 'bkt', 'k'), 'InvalidRequest', SELF_COPY);
  const r = await copy(env, { 'x-amz-copy-source': `/bkt/k?versionId=${v1.versionId}` }, 'bkt', 'k');
  assert.equal(r.headers['x-amz-copy-source-version-id'], v1.versionId);
  const v3 = (await env.svc.meta.getObjectVersion('bkt', 'k'))!;
  assert.equal(r.headers['x-amz-version-id'], v3.versionId);
  assert.notEqual(v3.versionId, v2.versionId);
  assert.equal((await read(env, 'bkt', 'k')).toString(), 'one');
});

test('delete markers, missing sources and bad version ids', async () => {
  const env = await setup('Enabled');
  await putSrc(env, 'x', {}, 'bkt', 'gone');
  await call(env, 'DeleteObject', deleteObject, { key: 'gone', method: 'DELETE' });
  const marker = (await env.svc.meta.getObjectVersion('bkt', 'gone'))!;
  assert.ok(marker.isDeleteMarker);
  await rejects(copy(env, { 'x-amz-copy-source': 'bkt/gone' }), 'NoSuchKey');
  await rejects(copy(env, { 'x-amz-copy-source': `bkt/gone?versionId=${marker.versionId}` }), 'InvalidRequest', /may not specifically refer to a delete marker/);
  await rejects(copy(env, { 'x-amz-copy-source': 'bkt/never' }), 'NoSuchKey');
  await rejects(copy(env, { 'x-amz-copy-source': `bkt/gone?versionId=${'A'.repeat(32)}` }), 'NoSuchVersion');
  await rejects(copy(env, { 'x-amz-copy-source': 'bkt/gone?versionId=bad' }), 'InvalidArgument');
  await rejects(copy(env, { 'x-amz-copy-source': 'nobucket/k' }), 'NoSuchBucket');
  await rejects(copy(env, { 'x-amz-copy-source': 'justabucket' }), 'InvalidArgument');
});

test('copy-source conditions answer 412; destination preconditions are checked', async () => {
  const env = await setup();
  const p = await putSrc(env, 'data');
  const etag = String(p.headers.ETag);
  await rejects(copy(env, { 'x-amz-copy-source': 'src/a', 'x-amz-copy-source-if-match': '"other"' }), 'PreconditionFailed');
  await rejects(copy(env, { 'x-amz-copy-source': 'src/a', 'x-amz-copy-source-if-none-match': etag }), 'PreconditionFailed');
  await rejects(copy(env, { 'x-amz-copy-source': 'src/a', 'x-amz-copy-source-if-modified-since': new Date(Date.now() + 3600_000).toUTCString() }), 'PreconditionFailed');
  await rejects(copy(env, { 'x-amz-copy-source': 'src/a', 'x-amz-copy-source-if-unmodified-since': new Date(Date.now() - 3600_000).toUTCString() }), 'PreconditionFailed');
  await copy(env, { 'x-amz-copy-source': 'src/a', 'x-amz-copy-source-if-match': etag, 'if-none-match': '*' });
  await rejects(copy(env, { 'x-amz-copy-source': 'src/a', 'if-none-match': '*' }), 'PreconditionFailed');
  await rejects(copy(env, { 'x-amz-copy-source': 'src/a', 'if-match': '"nope"' }), 'PreconditionFailed');
  await rejects(copy(env, { 'x-amz-copy-source': 'src/a', 'if-match': etag }, 'bkt', 'absent'), 'NoSuchKey');
  await copy(env, { 'x-amz-copy-source': 'src/a', 'if-match': etag });
  await rejects(copy(env, { 'x-amz-copy-source': 'src/a', 'x-amz-copy-source-server-side-encryption-customer-algorithm': 'AES256' }), 'InvalidArgument');
  await rejects(copy(env, { 'x-amz-copy-source': 'src/a', 'x-amz-server-side-encryption': 'aws:kms' }), 'NotImplemented');
  await rejects(copy(env, { 'x-amz-copy-source': 'src/a', 'x-amz-acl': 'public-read' }), 'AccessControlListNotSupported');
});

test('a source larger than the copy limit is InvalidRequest', async () => {
  const env = await setup('Unversioned', 1000);
  await putSrc(env, randomBytes(100), {}, 'src', 'ok');
  await putSrc(env, randomBytes(101), {}, 'src', 'big');
  // Lowered after the PUTs, which the same limit would otherwise have refused.
  env.svc.config.maxObjectSize = 100;
  await copy(env, { 'x-amz-copy-source': 'src/ok' });
  await rejects(copy(env, { 'x-amz-copy-source': 'src/big' }), 'InvalidRequest', /larger than the maximum allowable size for a copy source: 100/);
});

test('checksums: source algorithm recomputed, or the requested one', async () => {
  const env = await setup();
  const data = randomBytes(10_000);
  await putSrc(env, data, { 'x-amz-checksum-sha256': checksumOf('SHA256', data).toString('base64') });
  const r = await copy(env, { 'x-amz-copy-source': 'src/a' });
  assert.equal(xmlText(r, 'ChecksumSHA256'), checksumOf('SHA256', data).toString('base64'));
  assert.equal(xmlText(r, 'ChecksumType'), 'FULL_OBJECT');
  const r2 = await copy(env, { 'x-amz-copy-source': 'src/a', 'x-amz-checksum-algorithm': 'crc32c' }, 'bkt', 'd2');
  assert.equal(xmlText(r2, 'ChecksumCRC32C'), checksumOf('CRC32C', data).toString('base64'));
  assert.equal(xmlText(r2, 'ChecksumSHA256'), undefined);
  assert.deepEqual((await env.svc.meta.getObjectVersion('bkt', 'd2'))!.checksum, { algorithm: 'CRC32C', type: 'FULL_OBJECT', value: checksumOf('CRC32C', data).toString('base64') });
  await putSrc(env, 'plain', {}, 'src', 'plain');
  const r3 = await copy(env, { 'x-amz-copy-source': 'src/plain' }, 'bkt', 'd3');
  assert.equal(xmlText(r3, 'ChecksumType'), undefined);
  await rejects(copy(env, { 'x-amz-copy-source': 'src/a', 'x-amz-checksum-algorithm': 'md5' }), 'InvalidRequest');
});

test('a multipart source copies to a single-part object: plain MD5 ETag, full-object checksum', async () => {
  const env = await setup();
  const c = await call(env, 'CreateMultipartUpload', createMultipartUpload, { bucket: 'src', key: 'mp', method: 'POST', query: { uploads: '' }, headers: { 'x-amz-checksum-algorithm': 'SHA256', 'content-type': 'text/csv' } });
  const id = xmlText(c, 'UploadId')!;
  const parts = [randomBytes(5 * MiB), randomBytes(4321)];
  const listed: string[] = [];
  for (const [i, d] of parts.entries()) {
    const sum = checksumOf('SHA256', d).toString('base64');
    const r = await call(env, 'UploadPart', uploadPart, { bucket: 'src', key: 'mp', query: { uploadId: id, partNumber: String(i + 1) }, body: d, headers: { 'x-amz-checksum-sha256': sum } });
    listed.push(`<Part><PartNumber>${i + 1}</PartNumber><ETag>${String(r.headers.ETag)}</ETag><ChecksumSHA256>${sum}</ChecksumSHA256></Part>`);
  }
  const done = await call(env, 'CompleteMultipartUpload', completeMultipartUpload, { bucket: 'src', key: 'mp', method: 'POST', query: { uploadId: id }, body: `<CompleteMultipartUpload>${listed.join('')}</CompleteMultipartUpload>` });
  assert.match(xmlText(done, 'ETag')!, /-2"$/);
  const all = Buffer.concat(parts);
  const r = await copy(env, { 'x-amz-copy-source': '/src/mp' });
  assert.equal(xmlText(r, 'ETag'), `"${md5hex(all)}"`);
  assert.equal(xmlText(r, 'ChecksumSHA256'), checksumOf('SHA256', all).toString('base64'));
  const v = (await env.svc.meta.getObjectVersion('bkt', 'dest'))!;
  assert.equal(v.uploadId, null);
  assert.equal(v.pieces.length, 1);
  assert.equal(v.meta.contentType, 'text/csv');
  assert.ok((await read(env, 'bkt', 'dest')).equals(all));
});

test('an empty source copies to an empty object', async () => {
  const env = await setup();
  await putSrc(env, '');
  const r = await copy(env, { 'x-amz-copy-source': 'src/a' });
  assert.equal(xmlText(r, 'ETag'), `"${md5hex(Buffer.alloc(0))}"`);
  assert.equal((await read(env, 'bkt', 'dest')).length, 0);
});

test('a source that gained tags after authorization read it: the tag permissions are decided on what is copied', async () => {
  const env = await setup();
  await putSrc(env, 'v1 data');
  const seen = await env.svc.meta.getObjectVersion('src', 'a');
  assert.deepEqual(seen!.tags, {});
  // Rewritten with tags between authorization (which read v1 and so left the tag checks out) and the copy.
  await putSrc(env, 'v2 data', { 'x-amz-tagging': 'class=secret' });
  const versions = new Map([[versionMemoKey('src', 'a', undefined), seen]]);
  const deny = { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:GetObjectTagging', Resource: 'arn:aws:s3:::src/*' }] };
  await env.svc.meta.putBucketConfig('src', 'policy', JSON.stringify(deny));
  env.svc.authorizer.access.invalidate('src');
  await rejects(call(env, 'CopyObject', copyObject, { bucket: 'bkt', key: 'dest', headers: { 'x-amz-copy-source': '/src/a' }, versions }), 'AccessDenied');
  assert.equal(await env.svc.meta.getObjectVersion('bkt', 'dest'), undefined, 'nothing copied');
  // Allowed, the tags come along with the data they belong to.
  await env.svc.meta.putBucketConfig('src', 'policy', null);
  env.svc.authorizer.access.invalidate('src');
  const r = await call(env, 'CopyObject', copyObject, { bucket: 'bkt', key: 'dest', headers: { 'x-amz-copy-source': '/src/a' }, versions });
  assert.equal(r.status, 200);
  assert.deepEqual((await env.svc.meta.getObjectVersion('bkt', 'dest'))!.tags, { class: 'secret' });
  assert.equal((await read(env, 'bkt', 'dest')).toString(), 'v2 data');
});
