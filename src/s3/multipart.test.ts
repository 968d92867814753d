import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { S3Result } from '../http/request.js';
import { checksumOf, type ChecksumAlgorithm } from '../util/checksums.js';
import { CANONICAL, MiB, blobCount, call, collect, md5hex, rejects, setup, xmlAll, xmlText, type Env } from './handler-test-env.js';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listParts,
  uploadPart,
  uploadPartCopy,
} from './multipart.js';
import { readObject } from './object-io.js';
import { putObject } from './objects.js';

// ---- harness -------------------------------------------------------------------------

async function create(env: Env, headers: Record<string, string> = {}, key = 'obj'): Promise<string> {
  const r = await call(env, 'CreateMultipartUpload', createMultipartUpload, { method: 'POST', key, query: { uploads: '' }, headers });
  const id = xmlText(r, 'UploadId');
  assert.ok(id);
  return id;
}

async function put(env: Env, uploadId: string, partNumber: number, data: Buffer, headers: Record<string, string> = {}, key = 'obj'): Promise<S3Result> {
  return call(env, 'UploadPart', uploadPart, { key, query: { uploadId, partNumber: String(partNumber) }, body: data, headers });
}

type Listed = { n: number; etag: string; checksums?: Partial<Record<ChecksumAlgorithm, string>> };

function completeXml(parts: Listed[]): string {
  const items = parts.map((p) => {
    const sums = Object.entries(p.checksums ?? {}).map(([a, v]) => `<Checksum${a}>${v}</Checksum${a}>`).join('');
    return `<Part><PartNumber>${p.n}</PartNumber><ETag>${p.etag}</ETag>${sums}</Part>`;
  });
  return `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${items.join('')}</CompleteMultipartUpload>`;
}

async function complete(env: Env, uploadId: string, parts: Listed[], headers: Record<string, string> = {}, key = 'obj'): Promise<S3Result> {
  return call(env, 'CompleteMultipartUpload', completeMultipartUpload, { method: 'POST', key, query: { uploadId }, body: completeXml(parts), headers });
}

async function readBack(env: Env, start?: number, end?: number, key = 'obj'): Promise<Buffer> {
  const v = await env.svc.meta.getObjectVersion('bkt', key);
  assert.ok(v && !v.isDeleteMarker);
  return collect(readObject(env.svc, v, start ?? 0, end ?? v.size - 1));
}


// ---- tests ---------------------------------------------------------------------------

test('complete: ETag is md5 of part md5s + "-N", metadata kept, data byte-exact across part boundaries', async () => {
  const env = await setup();
  const id = await create(env, { 'content-type': 'text/plain', 'x-amz-meta-color': 'blue', 'x-amz-tagging': 'a=1&b=2' });
  const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB + 17), randomBytes(1234)];
  const etags: string[] = [];
  for (const [i, data] of parts.entries()) {
    const r = await put(env, id, i + 1, data);
    assert.equal(r.headers.ETag, `"${md5hex(data)}"`);
    assert.equal(r.headers['x-amz-server-side-encryption'], 'AES256');
    etags.push(String(r.headers.ETag));
  }
  // ETag quotes are optional in the request, raw or as entities.
  const r = await complete(env, id, [{ n: 1, etag: etags[0]! }, { n: 2, etag: etags[1]!.replace(/"/g, '') }, { n: 3, etag: etags[2]!.replace(/"/g, '&quot;') }]);
  const expected = `"${createHash('md5').update(Buffer.concat(parts.map((p) => createHash('md5').update(p).digest()))).digest('hex')}-3"`;
  assert.equal(xmlText(r, 'ETag'), expected);
  assert.equal(xmlText(r, 'Bucket'), 'bkt');
  assert.equal(xmlText(r, 'Key'), 'obj');
  assert.equal(xmlText(r, 'Location'), 'http://localhost:9000/bkt/obj');
  assert.equal(r.headers['x-amz-version-id'], undefined);
  assert.equal(r.headers['x-amz-server-side-encryption'], 'AES256');

  const v = await env.svc.meta.getObjectVersion('bkt', 'obj');
  assert.ok(v);
  assert.equal(v.etag, expected);
  assert.equal(v.size, parts.reduce((n, p) => n + p.length, 0));
  assert.equal(v.meta.contentType, 'text/plain');
  assert.deepEqual(v.meta.user, { color: 'blue' });
  assert.deepEqual(v.tags, { a: '1', b: '2' });
  assert.equal(v.uploadId, id);
  assert.deepEqual(v.pieces.map((p) => [p.partNumber, p.etag]), [[1, etags[0]], [2, etags[1]], [3, etags[2]]]);

  const all = Buffer.concat(parts);
  assert.ok((await readBack(env)).equals(all));
  const b1 = 5 * MiB;
  const b2 = b1 + parts[1]!.length;
  for (const [s, e] of [[b1 - 10, b1 + 10], [b1, b1], [b1 - 1, b1 - 1], [b2 - 3, b2 + 5], [100, all.length - 1], [b1 - 5, b2 + 2]] as const) {
    assert.ok((await readBack(env, s, e)).equals(all.subarray(s, e + 1)), `range ${s}-${e}`);
  }
  // The upload is gone.
  await rejects(call(env, 'ListParts', listParts, { method: 'GET', query: { uploadId: id } }), 'NoSuchUpload');
  // Every stored blob is one of the object's pieces.
  assert.equal(await blobCount(env), 3);
});

test('complete in a versioned bucket returns the new version id', async () => {
  const env = await setup('Enabled');
  const id = await create(env);
  const r1 = await put(env, id, 1, Buffer.from('only part'));
  const r = await complete(env, id, [{ n: 1, etag: String(r1.headers.ETag) }]);
  const v = await env.svc.meta.getObjectVersion('bkt', 'obj');
  assert.ok(v && v.versionId !== 'null');
  assert.equal(r.headers['x-amz-version-id'], v.versionId);
});

test('complete: a small last part is fine, a small earlier part is EntityTooSmall', async () => {
  const env = await setup();
  const id = await create(env);
  const small = Buffer.from('tiny');
  const r1 = await put(env, id, 1, small);
  const r2 = await put(env, id, 2, Buffer.from('also tiny'));
  const e = await rejects(complete(env, id, [{ n: 1, etag: String(r1.headers.ETag) }, { n: 2, etag: String(r2.headers.ETag) }]), 'EntityTooSmall');
  assert.equal(e.details.ProposedSize, 4);
  assert.equal(e.details.MinSizeAllowed, 5 * MiB);
  assert.equal(e.details.PartNumber, 1);
  assert.equal(e.details.ETag, md5hex(small));
  // The upload is untouched and can still be completed with the last part only.
  await complete(env, id, [{ n: 2, etag: String(r2.headers.ETag) }]);
  assert.equal((await readBack(env)).toString(), 'also tiny');
});

test('complete: InvalidPart for an unknown part or a wrong ETag', async () => {
  const env = await setup();
  const id = await create(env);
  const r1 = await put(env, id, 1, Buffer.from('x'));
  const e = await rejects(complete(env, id, [{ n: 1, etag: '"00000000000000000000000000000000"' }]), 'InvalidPart');
  assert.equal(e.details.PartNumber, 1);
  assert.equal(e.details.UploadId, id);
  await rejects(complete(env, id, [{ n: 2, etag: String(r1.headers.ETag) }]), 'InvalidPart');
});

test('complete: InvalidPartOrder for descending or repeated part numbers; MalformedXML for no parts', async () => {
  const env = await setup();
  const id = await create(env);
  const r1 = await put(env, id, 1, randomBytes(5 * MiB));
  const r2 = await put(env, id, 2, Buffer.from('b'));
  const e1 = String(r1.headers.ETag);
  const e2 = String(r2.headers.ETag);
  await rejects(complete(env, id, [{ n: 2, etag: e2 }, { n: 1, etag: e1 }]), 'InvalidPartOrder');
  await rejects(complete(env, id, [{ n: 1, etag: e1 }, { n: 1, etag: e1 }]), 'InvalidPartOrder');
  await rejects(complete(env, id, []), 'MalformedXML');
  await rejects(call(env, 'CompleteMultipartUpload', completeMultipartUpload, { method: 'POST', query: { uploadId: id }, body: '' }), 'MalformedXML');
  await rejects(call(env, 'CompleteMultipartUpload', completeMultipartUpload, { method: 'POST', query: { uploadId: id }, body: '<CompleteMultipartUpload><Part><PartNumber>x</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>' }), 'MalformedXML');
});

test('NoSuchUpload: unknown id, another key, after abort, after a completion replaced; a repeated completion answers again', async () => {
  const env = await setup();
  await rejects(put(env, 'nope', 1, Buffer.from('x')), 'NoSuchUpload');
  const id = await create(env);
  // The upload belongs to bkt/obj only.
  await rejects(put(env, id, 1, Buffer.from('x'), {}, 'other'), 'NoSuchUpload');
  await rejects(call(env, 'ListParts', listParts, { method: 'GET', key: 'other', query: { uploadId: id } }), 'NoSuchUpload');
  await put(env, id, 1, Buffer.from('x'));
  assert.equal(await blobCount(env), 1);
  const r = await call(env, 'AbortMultipartUpload', abortMultipartUpload, { method: 'DELETE', query: { uploadId: id } });
  assert.equal(r.status, 204);
  assert.equal(await blobCount(env), 0, 'abort deletes the part blobs');
  await rejects(call(env, 'AbortMultipartUpload', abortMultipartUpload, { method: 'DELETE', query: { uploadId: id } }), 'NoSuchUpload');
  await rejects(put(env, id, 2, Buffer.from('x')), 'NoSuchUpload');
  await rejects(complete(env, id, [{ n: 1, etag: '"x"' }]), 'NoSuchUpload');

  const id2 = await create(env);
  const p = await put(env, id2, 1, Buffer.from('y'));
  const first = await complete(env, id2, [{ n: 1, etag: String(p.headers.ETag) }]);
  // Completing again with the same parts (a client retrying) gets the same answer…
  const again = await complete(env, id2, [{ n: 1, etag: String(p.headers.ETag) }]);
  assert.equal(again.status, 200);
  assert.equal(xmlText(again, 'ETag'), xmlText(first, 'ETag'));
  // …other parts, or once the object was replaced, it is gone; aborting it too.
  await rejects(complete(env, id2, [{ n: 1, etag: '"0123456789abcdef0123456789abcdef"' }]), 'NoSuchUpload');
  await rejects(call(env, 'AbortMultipartUpload', abortMultipartUpload, { method: 'DELETE', query: { uploadId: id2 } }), 'NoSuchUpload');
  const id3 = await create(env);
  const p3 = await put(env, id3, 1, Buffer.from('z'));
  await complete(env, id3, [{ n: 1, etag: String(p3.headers.ETag) }]);
  await rejects(complete(env, id2, [{ n: 1, etag: String(p.headers.ETag) }]), 'NoSuchUpload');
});

test('UploadPart: part number bounds, Content-Length required', async () => {
  const env = await setup();
  const id = await create(env);
  for (const n of ['0', '10001', 'abc', '-1', '1.5', '']) {
    await rejects(call(env, 'UploadPart', uploadPart, { query: { uploadId: id, partNumber: n }, body: 'x' }), 'InvalidArgument', /between 1 and 10000/);
  }
  await put(env, id, 10000, Buffer.from('x'));
  await rejects(call(env, 'UploadPart', uploadPart, { query: { uploadId: id, partNumber: '1' }, body: 'x', noLength: true }), 'MissingContentLength');
  await rejects(put(env, id, 1, Buffer.from('abc'), { 'content-md5': createHash('md5').update('abd').digest('base64') }), 'BadDigest');
});

test('UploadPart: re-uploading a part number replaces it and deletes the old blob', async () => {
  const env = await setup();
  const id = await create(env);
  await put(env, id, 1, Buffer.from('first version'));
  assert.equal(await blobCount(env), 1);
  const r = await put(env, id, 1, Buffer.from('second version'));
  assert.equal(await blobCount(env), 1);
  const lp = await call(env, 'ListParts', listParts, { method: 'GET', query: { uploadId: id } });
  assert.deepEqual(xmlAll(lp, 'ETag'), [String(r.headers.ETag)]);
  await complete(env, id, [{ n: 1, etag: String(r.headers.ETag) }]);
  assert.equal((await readBack(env)).toString(), 'second version');
});

test('COMPOSITE checksum (CRC32 default): per-part checksums verified and combined into "<checksum of digests>-N"', async () => {
  const env = await setup();
  const c = await call(env, 'CreateMultipartUpload', createMultipartUpload, { method: 'POST', query: { uploads: '' }, headers: { 'x-amz-checksum-algorithm': 'crc32' } });
  assert.equal(c.headers['x-amz-checksum-algorithm'], 'CRC32');
  assert.equal(c.headers['x-amz-checksum-type'], 'COMPOSITE');
  const id = xmlText(c, 'UploadId')!;
  const parts = [randomBytes(5 * MiB), randomBytes(3000)];
  const sums = parts.map((p) => checksumOf('CRC32', p));
  const listed: Listed[] = [];
  for (const [i, data] of parts.entries()) {
    const r = await put(env, id, i + 1, data, { 'x-amz-checksum-crc32': sums[i]!.toString('base64') });
    assert.equal(r.headers['x-amz-checksum-crc32'], sums[i]!.toString('base64'));
    listed.push({ n: i + 1, etag: String(r.headers.ETag), checksums: { CRC32: sums[i]!.toString('base64') } });
  }
  // COMPOSITE: a part without a checksum, or of another algorithm, is refused.
  await rejects(put(env, id, 3, Buffer.from('x')), 'InvalidRequest', /expected checksum Type: crc32, actual checksum Type: null/);
  await rejects(put(env, id, 3, Buffer.from('x'), { 'x-amz-checksum-sha256': checksumOf('SHA256', Buffer.from('x')).toString('base64') }), 'InvalidRequest', /actual checksum Type: sha256/);
  await rejects(put(env, id, 3, Buffer.from('x'), { 'x-amz-checksum-crc32': sums[0]!.toString('base64') }), 'BadDigest');
  // Complete must name each part's checksum, and it must match.
  await rejects(complete(env, id, listed.map((p) => ({ n: p.n, etag: p.etag }))), 'InvalidRequest', /missing for part 1/);
  await rejects(complete(env, id, [listed[0]!, { ...listed[1]!, checksums: { CRC32: sums[0]!.toString('base64') } }]), 'InvalidPart');

  const expected = `${checksumOf('CRC32', Buffer.concat(sums)).toString('base64')}-2`;
  await rejects(complete(env, id, listed, { 'x-amz-checksum-crc32': 'AAAAAA==' }), 'BadDigest');
  const r = await complete(env, id, listed, { 'x-amz-checksum-crc32': expected });
  assert.equal(xmlText(r, 'ChecksumCRC32'), expected);
  assert.equal(xmlText(r, 'ChecksumType'), 'COMPOSITE');
  const v = await env.svc.meta.getObjectVersion('bkt', 'obj');
  assert.deepEqual(v?.checksum, { algorithm: 'CRC32', type: 'COMPOSITE', value: expected });
  assert.deepEqual(v?.pieces.map((p) => p.checksum), sums.map((s) => s.toString('base64')));
});

test('FULL_OBJECT checksum (CRC64NVME default): parts may omit checksums; object checksum is the CRC of all bytes', async () => {
  const env = await setup();
  const c = await call(env, 'CreateMultipartUpload', createMultipartUpload, { method: 'POST', query: { uploads: '' }, headers: { 'x-amz-checksum-algorithm': 'CRC64NVME' } });
  assert.equal(c.headers['x-amz-checksum-type'], 'FULL_OBJECT');
  const id = xmlText(c, 'UploadId')!;
  const parts = [randomBytes(5 * MiB + 3), randomBytes(777)];
  const r1 = await put(env, id, 1, parts[0]!);
  // The part's checksum is computed and returned even when not sent.
  assert.equal(r1.headers['x-amz-checksum-crc64nvme'], checksumOf('CRC64NVME', parts[0]!).toString('base64'));
  const r2 = await put(env, id, 2, parts[1]!, { 'x-amz-checksum-crc64nvme': checksumOf('CRC64NVME', parts[1]!).toString('base64') });
  const whole = checksumOf('CRC64NVME', Buffer.concat(parts)).toString('base64');
  const listed = [{ n: 1, etag: String(r1.headers.ETag) }, { n: 2, etag: String(r2.headers.ETag) }];
  await rejects(complete(env, id, listed, { 'x-amz-checksum-crc64nvme': checksumOf('CRC64NVME', parts[0]!).toString('base64') }), 'BadDigest');
  await rejects(complete(env, id, listed, { 'x-amz-checksum-crc32': 'AAAAAA==' }), 'InvalidRequest');
  await rejects(complete(env, id, listed, { 'x-amz-checksum-type': 'COMPOSITE' }), 'InvalidRequest');
  await rejects(complete(env, id, listed, { 'x-amz-mp-object-size': '5' }), 'InvalidRequest');
  const r = await complete(env, id, listed, { 'x-amz-checksum-crc64nvme': whole, 'x-amz-checksum-type': 'FULL_OBJECT', 'x-amz-mp-object-size': String(parts[0]!.length + parts[1]!.length) });
  assert.equal(xmlText(r, 'ChecksumCRC64NVME'), whole);
  assert.equal(xmlText(r, 'ChecksumType'), 'FULL_OBJECT');
  assert.deepEqual((await env.svc.meta.getObjectVersion('bkt', 'obj'))?.checksum, { algorithm: 'CRC64NVME', type: 'FULL_OBJECT', value: whole });
});

test('FULL_OBJECT CRC32C across three parts', async () => {
  const env = await setup();
  const id = await create(env, { 'x-amz-checksum-algorithm': 'CRC32C', 'x-amz-checksum-type': 'FULL_OBJECT' });
  const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(10)];
  const listed: Listed[] = [];
  for (const [i, data] of parts.entries()) listed.push({ n: i + 1, etag: String((await put(env, id, i + 1, data)).headers.ETag) });
  const r = await complete(env, id, listed);
  assert.equal(xmlText(r, 'ChecksumCRC32C'), checksumOf('CRC32C', Buffer.concat(parts)).toString('base64'));
});

test('CreateMultipartUpload: checksum algorithm/type combinations follow S3', async () => {
  const env = await setup();
  await rejects(create(env, { 'x-amz-checksum-algorithm': 'SHA256', 'x-amz-checksum-type': 'FULL_OBJECT' }), 'InvalidRequest');
  await rejects(create(env, { 'x-amz-checksum-algorithm': 'CRC64NVME', 'x-amz-checksum-type': 'COMPOSITE' }), 'InvalidRequest');
  await rejects(create(env, { 'x-amz-checksum-type': 'COMPOSITE' }), 'InvalidRequest');
  await rejects(create(env, { 'x-amz-checksum-algorithm': 'MD5' }), 'InvalidRequest');
  await rejects(create(env, { 'x-amz-checksum-algorithm': 'CRC32', 'x-amz-checksum-type': 'BOTH' }), 'InvalidRequest');
  await rejects(create(env, { 'x-amz-server-side-encryption': 'aws:kms' }), 'NotImplemented');
  await rejects(create(env, { 'x-amz-acl': 'public-read' }), 'AccessControlListNotSupported');
  await rejects(create(env, { 'x-amz-tagging': 'aws:x=1' }), 'InvalidTag');
  const c = await call(env, 'CreateMultipartUpload', createMultipartUpload, { method: 'POST', query: { uploads: '' }, headers: { 'x-amz-checksum-algorithm': 'SHA1' } });
  assert.equal(c.headers['x-amz-checksum-type'], 'COMPOSITE');
  assert.match(String(c.body), /<InitiateMultipartUploadResult xmlns="http:\/\/s3.amazonaws.com\/doc\/2006-03-01\/"><Bucket>bkt<\/Bucket><Key>obj<\/Key><UploadId>[A-Za-z0-9_-]+<\/UploadId><\/InitiateMultipartUploadResult>/);
});

test('an upload without an algorithm still verifies a part checksum it is sent', async () => {
  const env = await setup();
  const id = await create(env);
  const data = Buffer.from('hello');
  const r = await put(env, id, 1, data, { 'x-amz-checksum-crc32': checksumOf('CRC32', data).toString('base64') });
  assert.equal(r.headers['x-amz-checksum-crc32'], checksumOf('CRC32', data).toString('base64'));
  await rejects(put(env, id, 1, data, { 'x-amz-checksum-crc32': 'AAAAAA==' }), 'BadDigest');
  const done = await complete(env, id, [{ n: 1, etag: String(r.headers.ETag), checksums: { CRC32: checksumOf('CRC32', data).toString('base64') } }]);
  assert.equal(xmlText(done, 'ChecksumType'), undefined);
});

test('ListParts: paging, markers, checksums, owner and storage class', async () => {
  const env = await setup();
  const id = await create(env, { 'x-amz-checksum-algorithm': 'CRC32C', 'x-amz-checksum-type': 'FULL_OBJECT', 'x-amz-storage-class': 'STANDARD_IA' });
  const data = [Buffer.from('one'), Buffer.from('two'), Buffer.from('three')];
  for (const [i, d] of data.entries()) await put(env, id, [1, 3, 7][i]!, d);
  const p1 = await call(env, 'ListParts', listParts, { method: 'GET', query: { uploadId: id, 'max-parts': '2' } });
  assert.deepEqual(xmlAll(p1, 'PartNumber'), ['1', '3']);
  assert.equal(xmlText(p1, 'IsTruncated'), 'true');
  assert.equal(xmlText(p1, 'NextPartNumberMarker'), '3');
  assert.equal(xmlText(p1, 'PartNumberMarker'), '0');
  assert.equal(xmlText(p1, 'MaxParts'), '2');
  assert.equal(xmlText(p1, 'StorageClass'), 'STANDARD_IA');
  assert.equal(xmlText(p1, 'ChecksumAlgorithm'), 'CRC32C');
  assert.equal(xmlText(p1, 'ChecksumType'), 'FULL_OBJECT');
  assert.deepEqual(xmlAll(p1, 'ChecksumCRC32C'), data.slice(0, 2).map((d) => checksumOf('CRC32C', d).toString('base64')));
  assert.deepEqual(xmlAll(p1, 'Size'), ['3', '3']);
  assert.deepEqual(xmlAll(p1, 'ID'), [CANONICAL, CANONICAL]);
  assert.match(String(p1.body), /<Initiator><ID>c+<\/ID><DisplayName>alice<\/DisplayName><\/Initiator><Owner>/);
  const p2 = await call(env, 'ListParts', listParts, { method: 'GET', query: { uploadId: id, 'max-parts': '2', 'part-number-marker': '3' } });
  assert.deepEqual(xmlAll(p2, 'PartNumber'), ['7']);
  assert.equal(xmlText(p2, 'IsTruncated'), 'false');
  assert.equal(xmlText(p2, 'NextPartNumberMarker'), '7');
  await rejects(call(env, 'ListParts', listParts, { method: 'GET', query: { uploadId: id, 'max-parts': 'x' } }), 'InvalidArgument');
});

test('Complete honours If-None-Match: * atomically and leaves the upload in place', async () => {
  const env = await setup();
  await call(env, 'PutObject', putObject, { body: 'existing' });
  const id = await create(env);
  const r1 = await put(env, id, 1, Buffer.from('new'));
  await rejects(complete(env, id, [{ n: 1, etag: String(r1.headers.ETag) }], { 'if-none-match': '*' }), 'PreconditionFailed');
  assert.equal((await readBack(env)).toString(), 'existing');
  await rejects(complete(env, id, [{ n: 1, etag: String(r1.headers.ETag) }], { 'if-match': '"0123"' }), 'PreconditionFailed');
  const existing = await env.svc.meta.getObjectVersion('bkt', 'obj');
  await complete(env, id, [{ n: 1, etag: String(r1.headers.ETag) }], { 'if-match': existing!.etag });
  assert.equal((await readBack(env)).toString(), 'new');
});

test('UploadPartCopy: ranges of a source, re-encrypted as parts; completes to the source bytes', async () => {
  const env = await setup();
  const source = randomBytes(6 * MiB + 100);
  const put0 = await call(env, 'PutObject', putObject, { bucket: 'src', key: 'big', body: source });
  const id = await create(env, { 'x-amz-checksum-algorithm': 'CRC32', 'x-amz-checksum-type': 'FULL_OBJECT' });
  const copyPart = (n: number, range?: string, headers: Record<string, string> = {}): Promise<S3Result> =>
    call(env, 'UploadPartCopy', uploadPartCopy, {
      query: { uploadId: id, partNumber: String(n) },
      headers: { 'x-amz-copy-source': '/src/big', ...(range ? { 'x-amz-copy-source-range': range } : {}), ...headers },
    });
  const r1 = await copyPart(1, `bytes=0-${5 * MiB - 1}`, { 'x-amz-copy-source-if-match': String(put0.headers.ETag) });
  const r2 = await copyPart(2, `bytes=${5 * MiB}-${source.length - 1}`);
  assert.equal(xmlText(r1, 'ETag'), `"${md5hex(source.subarray(0, 5 * MiB))}"`);
  assert.equal(xmlText(r1, 'ChecksumCRC32'), checksumOf('CRC32', source.subarray(0, 5 * MiB)).toString('base64'));
  assert.ok(xmlText(r1, 'LastModified'));
  assert.equal(r1.headers['x-amz-copy-source-version-id'], undefined, 'unversioned source');
  await complete(env, id, [{ n: 1, etag: xmlText(r1, 'ETag')! }, { n: 2, etag: xmlText(r2, 'ETag')! }]);
  const got = await readBack(env);
  assert.ok(got.equals(source));
  assert.equal((await env.svc.meta.getObjectVersion('bkt', 'obj'))?.checksum?.value, checksumOf('CRC32', source).toString('base64'));

  // The completed multipart object can itself be a copy source, across its part boundary.
  const id2 = await create(env, {}, 'again');
  const r = await call(env, 'UploadPartCopy', uploadPartCopy, {
    key: 'again',
    query: { uploadId: id2, partNumber: '1' },
    headers: { 'x-amz-copy-source': '/bkt/obj', 'x-amz-copy-source-range': `bytes=${5 * MiB - 10}-${5 * MiB + 9}` },
  });
  await complete(env, id2, [{ n: 1, etag: xmlText(r, 'ETag')! }], {}, 'again');
  assert.ok((await readBack(env, undefined, undefined, 'again')).equals(source.subarray(5 * MiB - 10, 5 * MiB + 10)));
});

test('UploadPartCopy: range syntax and bounds, source conditions, missing source', async () => {
  const env = await setup();
  await call(env, 'PutObject', putObject, { bucket: 'src', key: 's', body: '0123456789' });
  const id = await create(env);
  const cp = (headers: Record<string, string>): Promise<S3Result> =>
    call(env, 'UploadPartCopy', uploadPartCopy, { query: { uploadId: id, partNumber: '1' }, headers: { 'x-amz-copy-source': 'src/s', ...headers } });
  for (const bad of ['0-2', 'bytes=0', 'bytes=hello-world', 'bytes=0-bar', 'bytes=-3', 'bytes=0-2,3-5', 'bytes=5-2']) {
    await rejects(cp({ 'x-amz-copy-source-range': bad }), 'InvalidArgument', /must be of the form bytes=first-last/);
  }
  await rejects(cp({ 'x-amz-copy-source-range': 'bytes=0-10' }), 'InvalidArgument', /not valid for source object of size: 10/);
  await rejects(cp({ 'x-amz-copy-source-if-match': '"nope"' }), 'PreconditionFailed');
  await rejects(cp({ 'x-amz-copy-source-if-none-match': '*' }), 'PreconditionFailed');
  await rejects(call(env, 'UploadPartCopy', uploadPartCopy, { query: { uploadId: id, partNumber: '1' }, headers: { 'x-amz-copy-source': 'src/missing' } }), 'NoSuchKey');
  await rejects(call(env, 'UploadPartCopy', uploadPartCopy, { query: { uploadId: 'bogus', partNumber: '1' }, headers: { 'x-amz-copy-source': 'src/s' } }), 'NoSuchUpload');
  const ok = await cp({ 'x-amz-copy-source-range': 'bytes=9-9' });
  assert.equal(xmlText(ok, 'ETag'), `"${md5hex(Buffer.from('9'))}"`);
  const whole = await cp({});
  assert.equal(xmlText(whole, 'ETag'), `"${md5hex(Buffer.from('0123456789'))}"`);
});

test('UploadPartCopy from a versioned source reports x-amz-copy-source-version-id', async () => {
  const env = await setup('Enabled');
  await call(env, 'PutObject', putObject, { key: 's', body: 'v1' });
  const v1 = await env.svc.meta.getObjectVersion('bkt', 's');
  await call(env, 'PutObject', putObject, { key: 's', body: 'v2' });
  const id = await create(env);
  const r = await call(env, 'UploadPartCopy', uploadPartCopy, {
    query: { uploadId: id, partNumber: '1' },
    headers: { 'x-amz-copy-source': `/bkt/s?versionId=${v1!.versionId}` },
  });
  assert.equal(r.headers['x-amz-copy-source-version-id'], v1!.versionId);
  assert.equal(xmlText(r, 'ETag'), `"${md5hex(Buffer.from('v1'))}"`);
});

test('a completion body written the Go way (ETag quotes as &#34;) completes: rclone, minio-go, aws-sdk-go', async () => {
  const env = await setup();
  const id = await create(env);
  const p1 = await put(env, id, 1, Buffer.alloc(5 * MiB, 1));
  const p2 = await put(env, id, 2, Buffer.from('tail'));
  const goEtag = (e: string): string => e.replace(/"/g, '&#34;');
  const r = await complete(env, id, [{ n: 1, etag: goEtag(String(p1.headers.ETag)) }, { n: 2, etag: goEtag(String(p2.headers.ETag)) }]);
  assert.equal(r.status, 200);
  assert.match(xmlText(r, 'ETag') ?? '', /^"[0-9a-f]{32}-2"$/);
});
