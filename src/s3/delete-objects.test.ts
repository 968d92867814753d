/**
 * DeleteObjects: body parsing, the integrity-header rule, per-key authorization and per-key
 * outcomes in every versioning state, against the real SQLite metadata store (in memory).
 */
import { Authorizer } from '../authz/authorizer.js';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ANONYMOUS, type Principal } from '../auth/principal.js';
import { S3Error } from '../errors/s3-errors.js';
import type { S3Result } from '../http/request.js';
import { escapeXml, listOf, parseXml, textOf } from '../http/xml.js';
import { MemoryBlobStore } from '../storage/memory/blob-store.js';
import type { AccountRecord, BucketRecord, ObjectVersion } from '../storage/ports.js';
import { SqliteMetadataStore } from '../storage/sqlite/metadata-store.js';
import { checksumOf } from '../util/checksums.js';
import type { Services } from './context.js';
import { deleteObjects, MAX_DELETE_OBJECTS, parseDeleteRequest } from './delete-objects.js';

const ACCOUNT: AccountRecord = {
  id: '111122223333', name: 'alice', canonicalId: 'a'.repeat(64), email: null, createdAt: '2024-01-01T00:00:00.000Z',
};
const OTHER: AccountRecord = {
  id: '444455556666', name: 'bob', canonicalId: 'b'.repeat(64), email: null, createdAt: '2024-01-01T00:00:00.000Z',
};
const OWNER: Principal = { kind: 'account-root', accountId: ACCOUNT.id, canonicalId: ACCOUNT.canonicalId, accessKeyId: 'AKIAALICE' };
const STRANGER: Principal = { kind: 'account-root', accountId: OTHER.id, canonicalId: OTHER.canonicalId, accessKeyId: 'AKIABOB' };

const silent = { debug() {}, info() {}, warn() {}, error() {} };

let vidCounter = 0;
const vid = (): string => `d${String(++vidCounter).padStart(31, '0')}`;

function version(bucket: string, key: string, over: Partial<ObjectVersion> = {}): ObjectVersion {
  return {
    bucket, key, versionId: 'null', isDeleteMarker: false, size: 3, etag: '"e"', lastModified: '2024-01-01T00:00:00.000Z',
    ownerAccountId: ACCOUNT.id, meta: { user: {} }, checksum: null, tags: {}, uploadId: null, pieces: [], sse: { algorithm: 'AES256' },
    ...over,
  };
}

type Obj = { key: string; versionId?: string; etag?: string };

function deleteXml(objects: Obj[], quiet?: boolean | string): string {
  const q = quiet === undefined ? '' : `<Quiet>${String(quiet)}</Quiet>`;
  const objs = objects.map((o) => `<Object><Key>${escapeXml(o.key)}</Key>${o.versionId !== undefined ? `<VersionId>${escapeXml(o.versionId)}</VersionId>` : ''}${o.etag ? `<ETag>${o.etag}</ETag>` : ''}</Object>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${q}${objs}</Delete>`;
}

type Integrity = 'md5' | 'crc32' | 'none' | Record<string, string>;

function ctxFor(bucket: BucketRecord, body: string | Buffer, integrity: Integrity = 'md5', principal: Principal = OWNER): never {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const headers: Record<string, string> = {};
  if (integrity === 'md5') headers['content-md5'] = createHash('md5').update(buf).digest('base64');
  else if (integrity === 'crc32') Object.assign(headers, { 'x-amz-checksum-crc32': checksumOf('CRC32', buf).toString('base64'), 'x-amz-sdk-checksum-algorithm': 'CRC32' });
  else if (integrity !== 'none') Object.assign(headers, integrity);
  return {
    req: {
      requestId: 'REQ', hostId: 'HOST', method: 'POST', rawPath: `/${bucket.name}`, rawQuery: 'delete',
      query: new Map([['delete', '']]), headers, body: Readable.from([]), clientIp: '127.0.0.1', tls: null, receivedAt: new Date(),
    },
    op: { kind: 'DeleteObjects', level: 'bucket', bucket: bucket.name },
    principal,
    auth: {},
    decision: { effect: 'Allow', trace: [], aclRequired: false },
    bucket,
    body: () => Readable.from([buf]),
    trailers: () => new Map(),
    contentLength: buf.length,
  } as never;
}

interface Result {
  deleted: Record<string, string | undefined>[];
  errors: Record<string, string | undefined>[];
  xml: string;
}

function parseResult(r: S3Result): Result {
  assert.equal(r.status, 200);
  const xml = r.body as string;
  const root = parseXml(xml, 'DeleteResult', ['DeleteResult.Deleted', 'DeleteResult.Error']);
  const fields = (o: Record<string, unknown>, names: string[]) => Object.fromEntries(names.map((n) => [n, textOf(o, n)]));
  return {
    deleted: listOf(root, 'Deleted').map((d) => fields(d, ['Key', 'VersionId', 'DeleteMarker', 'DeleteMarkerVersionId'])),
    errors: listOf(root, 'Error').map((e) => fields(e, ['Key', 'VersionId', 'Code', 'Message'])),
    xml,
  };
}

async function rejects(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof S3Error, String(e));
    assert.equal(e.code, code);
    if (message) assert.match(e.message, message);
    return true;
  });
}

describe('parseDeleteRequest', () => {
  it('reads Quiet, keys and version ids', () => {
    const r = parseDeleteRequest(deleteXml([{ key: 'a' }, { key: ' spaced key ', versionId: 'null' }, { key: 'x&<y>' }], true));
    assert.equal(r.quiet, true);
    assert.deepEqual(r.objects, [
      { key: 'a', versionId: undefined, etag: undefined, directoryConditions: false },
      { key: ' spaced key ', versionId: 'null', etag: undefined, directoryConditions: false },
      { key: 'x&<y>', versionId: undefined, etag: undefined, directoryConditions: false },
    ]);
    assert.equal(parseDeleteRequest(deleteXml([{ key: 'a' }])).quiet, false);
    assert.equal(parseDeleteRequest(deleteXml([{ key: 'a' }], 'FALSE')).quiet, false);
    assert.equal(parseDeleteRequest(deleteXml([{ key: 'a', etag: '"e"' }])).objects[0]!.etag, '"e"');
  });

  it('rejects structural problems with MalformedXML', () => {
    const bad = [
      deleteXml([]),
      deleteXml(Array.from({ length: MAX_DELETE_OBJECTS + 1 }, (_, i) => ({ key: `k${i}` }))),
      deleteXml([{ key: 'a' }], 'maybe'),
      '<Delete><Object><VersionId>null</VersionId></Object></Delete>',
      '<Delete><Object><Key></Key></Object></Delete>',
      '<NotDelete><Object><Key>a</Key></Object></NotDelete>',
      '<Delete><Object><Key>a</Key></Object>',
      '',
    ];
    for (const xml of bad) assert.throws(() => parseDeleteRequest(xml), (e: unknown) => e instanceof S3Error && e.code === 'MalformedXML', xml.slice(0, 80));
    assert.equal(parseDeleteRequest(deleteXml(Array.from({ length: MAX_DELETE_OBJECTS }, (_, i) => ({ key: `k${i}` })))).objects.length, 1000);
  });
});

describe('deleteObjects handler (SQLite store)', () => {
  let meta: SqliteMetadataStore;
  let svc: Services;
  let n = 0;

  async function newBucket(versioning: BucketRecord['versioning']): Promise<BucketRecord> {
    const b: BucketRecord = { name: `bucket-${++n}`, accountId: ACCOUNT.id, region: 'us-east-1', createdAt: '2024-01-01T00:00:00.000Z', versioning };
    await meta.createBucket(b);
    return b;
  }

  async function put(b: BucketRecord, key: string, over: Partial<ObjectVersion> = {}): Promise<string> {
    const versionId = b.versioning === 'Enabled' ? vid() : 'null';
    await meta.insertVersion(version(b.name, key, { versionId, ...over }), { replaceNullVersion: b.versioning !== 'Enabled' });
    return versionId;
  }

  before(async () => {
    meta = SqliteMetadataStore.open(':memory:');
    svc = { meta, blobs: new MemoryBlobStore(), log: silent, clock: { now: () => new Date('2024-06-01T00:00:00.000Z') }, config: {}, keyring: {}, authorizer: new Authorizer(meta, 'us-east-1') } as never;
    await meta.createAccount(ACCOUNT);
    await meta.createAccount(OTHER);
  });

  after(async () => {
    await meta.close();
  });

  it('unversioned bucket, verbose: every key reported Deleted (missing ones too), objects gone', async () => {
    const b = await newBucket('Unversioned');
    await put(b, 'k1');
    await put(b, 'k2');
    const r = parseResult(await deleteObjects(ctxFor(b, deleteXml([{ key: 'k1' }, { key: 'k2' }, { key: 'missing' }])), svc));
    assert.deepEqual(r.deleted, [
      { Key: 'k1', VersionId: undefined, DeleteMarker: undefined, DeleteMarkerVersionId: undefined },
      { Key: 'k2', VersionId: undefined, DeleteMarker: undefined, DeleteMarkerVersionId: undefined },
      { Key: 'missing', VersionId: undefined, DeleteMarker: undefined, DeleteMarkerVersionId: undefined },
    ]);
    assert.deepEqual(r.errors, []);
    assert.match(r.xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<DeleteResult xmlns="http:\/\/s3.amazonaws.com\/doc\/2006-03-01\/"><Deleted><Key>k1<\/Key><\/Deleted>/);
    assert.equal(await meta.getObjectVersion(b.name, 'k1'), undefined);
    assert.equal(await meta.getObjectVersion(b.name, 'k2'), undefined);
  });

  it('quiet mode returns only errors', async () => {
    const b = await newBucket('Unversioned');
    await put(b, 'q1');
    const r = parseResult(await deleteObjects(ctxFor(b, deleteXml([{ key: 'q1' }, { key: 'q2', versionId: 'not-a-version' }], true)), svc));
    assert.deepEqual(r.deleted, []);
    assert.deepEqual(r.errors, [{ Key: 'q2', VersionId: 'not-a-version', Code: 'InvalidArgument', Message: 'Invalid version id specified' }]);
    assert.ok(!r.xml.includes('<Deleted>'));
    assert.equal(await meta.getObjectVersion(b.name, 'q1'), undefined);
    const allGood = parseResult(await deleteObjects(ctxFor(b, deleteXml([{ key: 'q1' }], true)), svc));
    assert.equal(allGood.xml, '<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></DeleteResult>');
  });

  it('versioned bucket: markers, version deletes, delete-marker deletes, absent versions', async () => {
    const b = await newBucket('Enabled');
    const a1 = await put(b, 'a');
    const a2 = await put(b, 'a');
    const c1 = await put(b, 'c');
    const r = parseResult(await deleteObjects(ctxFor(b, deleteXml([
      { key: 'a' }, // creates a delete marker
      { key: 'a', versionId: a1 }, // removes an old version
      { key: 'c', versionId: c1 }, // removes the only version
      { key: 'c', versionId: 'z'.repeat(32) }, // a version that is not there: still Deleted, as S3
      { key: 'never' }, // a marker for a key that never existed
    ])), svc));
    assert.deepEqual(r.errors, []);
    const markerA = await meta.getObjectVersion(b.name, 'a');
    assert.ok(markerA?.isDeleteMarker);
    const markerNever = await meta.getObjectVersion(b.name, 'never');
    assert.ok(markerNever?.isDeleteMarker);
    assert.deepEqual(r.deleted, [
      { Key: 'a', VersionId: undefined, DeleteMarker: 'true', DeleteMarkerVersionId: markerA.versionId },
      { Key: 'a', VersionId: a1, DeleteMarker: undefined, DeleteMarkerVersionId: undefined },
      { Key: 'c', VersionId: c1, DeleteMarker: undefined, DeleteMarkerVersionId: undefined },
      { Key: 'c', VersionId: 'z'.repeat(32), DeleteMarker: undefined, DeleteMarkerVersionId: undefined },
      { Key: 'never', VersionId: undefined, DeleteMarker: 'true', DeleteMarkerVersionId: markerNever.versionId },
    ]);
    assert.ok(await meta.getObjectVersion(b.name, 'a', a2), 'the newer version survives behind the marker');
    assert.equal(await meta.getObjectVersion(b.name, 'a', a1), undefined);
    assert.equal(await meta.getObjectVersion(b.name, 'c'), undefined);

    // Removing the delete marker by id: S3 flags it and repeats its id.
    const undelete = parseResult(await deleteObjects(ctxFor(b, deleteXml([{ key: 'a', versionId: markerA.versionId }]), 'crc32'), svc));
    assert.deepEqual(undelete.deleted, [{ Key: 'a', VersionId: markerA.versionId, DeleteMarker: 'true', DeleteMarkerVersionId: markerA.versionId }]);
    assert.match(undelete.xml, /<Deleted><Key>a<\/Key><VersionId>[^<]+<\/VersionId><DeleteMarker>true<\/DeleteMarker><DeleteMarkerVersionId>[^<]+<\/DeleteMarkerVersionId><\/Deleted>/);
    assert.equal((await meta.getObjectVersion(b.name, 'a'))?.versionId, a2);
  });

  it('suspended bucket: the marker is the null version', async () => {
    const b = await newBucket('Suspended');
    await put(b, 's');
    const r = parseResult(await deleteObjects(ctxFor(b, deleteXml([{ key: 's' }])), svc));
    assert.deepEqual(r.deleted, [{ Key: 's', VersionId: undefined, DeleteMarker: 'true', DeleteMarkerVersionId: 'null' }]);
    const unversioned = await newBucket('Unversioned');
    await put(unversioned, 'u');
    const byNull = parseResult(await deleteObjects(ctxFor(unversioned, deleteXml([{ key: 'u', versionId: 'null' }])), svc));
    assert.deepEqual(byNull.deleted, [{ Key: 'u', VersionId: 'null', DeleteMarker: undefined, DeleteMarkerVersionId: undefined }]);
    assert.equal(await meta.getObjectVersion(unversioned.name, 'u'), undefined);
  });

  it('denies per key when the principal may not delete: 200 with AccessDenied entries, nothing deleted', async () => {
    const b = await newBucket('Enabled');
    const v = await put(b, 'guarded');
    for (const principal of [STRANGER, ANONYMOUS]) {
      const r = parseResult(await deleteObjects(ctxFor(b, deleteXml([{ key: 'guarded' }, { key: 'guarded', versionId: v }], true), 'md5', principal), svc));
      assert.deepEqual(r.errors, [
        { Key: 'guarded', VersionId: undefined, Code: 'AccessDenied', Message: 'Access Denied' },
        { Key: 'guarded', VersionId: v, Code: 'AccessDenied', Message: 'Access Denied' },
      ]);
      const still = await meta.getObjectVersion(b.name, 'guarded');
      assert.equal(still?.versionId, v);
      assert.equal(still?.isDeleteMarker, false);
    }
  });

  it('reports per-key problems without failing the request', async () => {
    const b = await newBucket('Unversioned');
    await put(b, 'ok');
    const long = 'k'.repeat(1025);
    const r = parseResult(await deleteObjects(ctxFor(b, deleteXml([{ key: long }, { key: 'ok', etag: '"0000"' }, { key: 'ok', versionId: '' }, { key: 'x&y <z>' }])), svc));
    assert.deepEqual(r.errors.map((e) => [e.Key === long ? 'long' : e.Key, e.Code]), [['long', 'KeyTooLongError'], ['ok', 'PreconditionFailed'], ['ok', 'InvalidArgument']]);
    assert.deepEqual(r.deleted.map((d) => d.Key), ['x&y <z>']);
    assert.match(r.xml, /<Key>x&amp;y &lt;z&gt;<\/Key>/);
    assert.ok(await meta.getObjectVersion(b.name, 'ok'), 'a failed conditional delete deletes nothing');
  });

  it('conditional deletes by <ETag>: the matching one (or *) deletes, a missing key is NoSuchKey; directory-bucket conditions are refused', async () => {
    const b = await newBucket('Unversioned');
    await put(b, 'one');
    await put(b, 'two');
    const etag = (await meta.getObjectVersion(b.name, 'one'))!.etag;
    const r = parseResult(await deleteObjects(ctxFor(b, deleteXml([{ key: 'one', etag }, { key: 'two', etag: '*' }, { key: 'gone', etag: '*' }])), svc));
    assert.deepEqual(r.deleted.map((d) => d.Key), ['one', 'two']);
    assert.deepEqual(r.errors.map((e) => [e.Key, e.Code]), [['gone', 'NoSuchKey']]);
    assert.equal(await meta.getObjectVersion(b.name, 'one'), undefined);
    const dated = `<?xml version="1.0" encoding="UTF-8"?><Delete><Object><Key>x</Key><LastModifiedTime>2024-01-01T00:00:00Z</LastModifiedTime></Object></Delete>`;
    const d = parseResult(await deleteObjects(ctxFor(b, dated), svc));
    assert.deepEqual(d.errors.map((e) => e.Code), ['NotImplemented']);
  });

  it('requires Content-MD5 or an x-amz-checksum-* header and verifies it', async () => {
    const b = await newBucket('Unversioned');
    const body = deleteXml([{ key: 'x' }]);
    await rejects(deleteObjects(ctxFor(b, body, 'none'), svc), 'InvalidRequest', /Missing required header for this request: Content-MD5 OR x-amz-checksum-\*/);
    await rejects(deleteObjects(ctxFor(b, body, { 'content-md5': createHash('md5').update('other').digest('base64') }), svc), 'BadDigest');
    await rejects(deleteObjects(ctxFor(b, body, { 'content-md5': 'not-base64-md5' }), svc), 'InvalidDigest');
    await rejects(deleteObjects(ctxFor(b, body, { 'x-amz-checksum-crc32': checksumOf('CRC32', Buffer.from('other')).toString('base64') }), svc), 'BadDigest');
    await rejects(deleteObjects(ctxFor(b, body, { 'x-amz-checksum-crc32': '!!' }), svc), 'InvalidRequest');
    await rejects(deleteObjects(ctxFor(b, body, { 'x-amz-sdk-checksum-algorithm': 'CRC32' }), svc), 'InvalidRequest');
    for (const alg of ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const) {
      const h = { [`x-amz-checksum-${alg.toLowerCase()}`]: checksumOf(alg, Buffer.from(body)).toString('base64') };
      assert.equal((await deleteObjects(ctxFor(b, body, h), svc)).status, 200, alg);
    }
    assert.equal((await deleteObjects(ctxFor(b, body, 'crc32'), svc)).status, 200);
  });

  it('rejects more than 1000 keys and malformed bodies before deleting anything', async () => {
    const b = await newBucket('Unversioned');
    await put(b, 'k0');
    const many = Array.from({ length: 1001 }, (_, i) => ({ key: `k${i}` }));
    await rejects(deleteObjects(ctxFor(b, deleteXml(many)), svc), 'MalformedXML');
    await rejects(deleteObjects(ctxFor(b, '<Delete><Object><Key>k0</Key>'), svc), 'MalformedXML');
    assert.ok(await meta.getObjectVersion(b.name, 'k0'));
  });

  it('deletes 1000 keys in one request', async () => {
    const b = await newBucket('Enabled');
    const keys = Array.from({ length: 1000 }, (_, i) => `bulk/${String(i).padStart(4, '0')}`);
    await Promise.all(keys.map((k) => meta.insertVersion(version(b.name, k, { versionId: vid() }), { replaceNullVersion: false })));
    const r = parseResult(await deleteObjects(ctxFor(b, deleteXml(keys.map((key) => ({ key })))), svc));
    assert.equal(r.deleted.length, 1000);
    assert.deepEqual(r.deleted.map((d) => d.Key), keys, 'results keep request order');
    assert.ok(r.deleted.every((d) => d.DeleteMarker === 'true'));
    assert.equal((await meta.listLatest(b.name, { prefix: 'bulk/', after: '', limit: 10 })).items.length, 0);
  });
});
