/**
 * The storage contract: one suite per port, run against every implementation. A new store
 * (e.g. PostgreSQL metadata, an S3 blob tier) passes when it passes these.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FsBlobStore } from './fs/blob-store.js';
import { compareUtf8 } from './keys.js';
import { MemoryBlobStore } from './memory/blob-store.js';
import {
  StorageConflict,
  type AccountRecord, type BlobStore, type BucketRecord, type ConflictKind, type DataPiece, type MetadataStore,
  type ObjectVersion, type PartRecord, type UploadRecord,
} from './ports.js';
import { SqliteMetadataStore } from './sqlite/metadata-store.js';

// ---- fixtures ------------------------------------------------------------------------------

const ACCOUNT: AccountRecord = {
  id: '111122223333', name: 'alice', canonicalId: 'a'.repeat(64), email: 'alice@example.com',
  createdAt: '2024-01-01T00:00:00.000Z',
};
const OTHER_ACCOUNT: AccountRecord = {
  id: '444455556666', name: 'bob', canonicalId: 'b'.repeat(64), email: null, createdAt: '2024-01-02T00:00:00.000Z',
};

function bucketRecord(name: string, over: Partial<BucketRecord> = {}): BucketRecord {
  return { name, accountId: ACCOUNT.id, region: 'us-east-1', createdAt: '2024-01-01T00:00:00.000Z', versioning: 'Unversioned', ...over };
}

function piece(blobId: string, extra: Partial<DataPiece> = {}): DataPiece {
  return {
    blobId, size: 3,
    enc: { scheme: 1, dek: { v: 1, kid: 'mk-1', iv: 'aXY=', ct: 'Y3Q=', tag: 'dGFn' } },
    ...extra,
  };
}

let blobCounter = 0;
/** A fresh, unique blob id (base64url-shaped like the real ones). */
function blobId(): string {
  return `blob${String(++blobCounter).padStart(8, '0')}`;
}

function version(bucket: string, key: string, versionId: string, over: Partial<ObjectVersion> = {}): ObjectVersion {
  return {
    bucket, key, versionId, isDeleteMarker: false, size: 3, etag: '"abc"',
    lastModified: '2024-01-01T00:00:00.000Z', ownerAccountId: ACCOUNT.id,
    meta: { contentType: 'text/plain', user: { colour: 'blue' } },
    checksum: { algorithm: 'CRC32', type: 'FULL_OBJECT', value: 'AAAAAA==' },
    tags: { t: '1' }, uploadId: null, pieces: [piece(blobId())], sse: { algorithm: 'AES256' },
    ...over,
  };
}

function deleteMarker(bucket: string, key: string, versionId: string): ObjectVersion {
  return version(bucket, key, versionId, { isDeleteMarker: true, size: 0, etag: '', checksum: null, tags: {}, pieces: [] });
}

function upload(bucket: string, key: string, uploadId: string, initiated = '2024-01-01T00:00:00.000Z'): UploadRecord {
  return {
    uploadId, bucket, key, initiated, ownerAccountId: ACCOUNT.id, meta: { user: {} }, tags: {},
    checksumAlgorithm: 'CRC32', checksumType: 'COMPOSITE',
  };
}

function part(uploadId: string, partNumber: number, blob = blobId()): PartRecord {
  return {
    uploadId, partNumber, size: 5, etag: `"e${partNumber}"`, lastModified: '2024-01-01T00:00:00.000Z',
    checksum: 'AAAAAA==', piece: piece(blob, { partNumber, etag: `"e${partNumber}"`, size: 5 }),
  };
}

function conflict(kind: ConflictKind): (err: unknown) => boolean {
  return (err) => err instanceof StorageConflict && err.kind === kind;
}

function sortUtf8(keys: string[]): string[] {
  return [...keys].sort(compareUtf8);
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Every latest live key of a bucket, paging with the given limit. */
async function allLatestKeys(store: MetadataStore, bucket: string, prefix: string, limit: number): Promise<string[]> {
  const keys: string[] = [];
  let after = '';
  while (true) {
    const page = await store.listLatest(bucket, { prefix, after, limit });
    assert.ok(page.items.length <= limit);
    keys.push(...page.items.map((v) => v.key));
    if (!page.truncated) return keys;
    assert.equal(page.items.length, limit, 'a truncated page is full');
    after = page.items[page.items.length - 1]!.key;
  }
}

/** A tiny deterministic PRNG so failures reproduce. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- metadata contract ---------------------------------------------------------------------

/** What a metadata implementation provides to the contract suite. */
export interface MetadataHarness {
  store: MetadataStore;
  /** Closes the store and opens a new one on the same data; absent for stores without persistence. */
  reopen?: () => Promise<MetadataStore>;
  dispose(): Promise<void>;
}

/** Runs the MetadataStore contract against the stores `makeStore` creates (a fresh one per test). */
export function runMetadataContract(name: string, makeStore: () => Promise<MetadataHarness>): void {
  describe(`MetadataStore contract: ${name}`, () => {
    let h: MetadataHarness;
    let store: MetadataStore;

    beforeEach(async () => {
      h = await makeStore();
      store = h.store;
      await store.createAccount(ACCOUNT);
      await store.createBucket(bucketRecord('b'));
    });
    afterEach(async () => {
      await h.dispose();
    });

    describe('accounts and access keys', () => {
      it('creates and finds accounts by id, name and canonical id', async () => {
        await store.createAccount(OTHER_ACCOUNT);
        assert.deepEqual(await store.getAccount(ACCOUNT.id), ACCOUNT);
        assert.deepEqual(await store.getAccountByName('bob'), OTHER_ACCOUNT);
        assert.deepEqual(await store.getAccountByCanonicalId('a'.repeat(64)), ACCOUNT);
        assert.equal(await store.getAccount('999999999999'), undefined);
        assert.equal(await store.getAccountByName('carol'), undefined);
        assert.equal(await store.getAccountByCanonicalId('c'.repeat(64)), undefined);
        assert.deepEqual((await store.listAccounts()).map((a) => a.id).sort(), [ACCOUNT.id, OTHER_ACCOUNT.id]);
      });

      it('rejects a duplicate account id', async () => {
        await assert.rejects(store.createAccount({ ...ACCOUNT, name: 'other', canonicalId: 'c'.repeat(64) }));
      });

      it('creates, lists and deletes access keys', async () => {
        const root = {
          accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', accountId: ACCOUNT.id, userName: null, secretSealed: 'sealed',
          status: 'Active' as const, createdAt: '2024-01-01T00:00:00.000Z',
        };
        const user = { ...root, accessKeyId: 'AKIABBBBBBBBBBBBBBBB', userName: 'deploy', status: 'Inactive' as const };
        await store.createAccessKey(root);
        await store.createAccessKey(user);
        assert.deepEqual(await store.getAccessKey(root.accessKeyId), root);
        assert.deepEqual(await store.getAccessKey(user.accessKeyId), user);
        assert.deepEqual(await store.listAccessKeys(ACCOUNT.id), [root, user]);
        assert.deepEqual(await store.listAccessKeys(OTHER_ACCOUNT.id), []);
        assert.equal(await store.deleteAccessKey(root.accessKeyId), true);
        assert.equal(await store.deleteAccessKey(root.accessKeyId), false);
        assert.equal(await store.getAccessKey(root.accessKeyId), undefined);
        await assert.rejects(store.createAccessKey(user), 'duplicate access key id');
        assert.equal(await store.setAccessKeyStatus(user.accessKeyId, 'Active'), true);
        assert.equal((await store.getAccessKey(user.accessKeyId))?.status, 'Active');
        assert.equal(await store.setAccessKeyStatus('AKIANOPE000000000000', 'Active'), false);
      });

      it('keeps IAM entity documents unique per account and kind, case-insensitively', async () => {
        await store.putIamEntity(ACCOUNT.id, 'user', 'Alice', '{"n":"Alice"}', 'create');
        await assert.rejects(store.putIamEntity(ACCOUNT.id, 'user', 'ALICE', '{}', 'create'), conflict('entity-exists'));
        await store.putIamEntity(ACCOUNT.id, 'group', 'alice', '{"g":1}', 'create');
        await store.putIamEntity(OTHER_ACCOUNT.id, 'user', 'alice', '{"o":1}', 'create');
        assert.equal(await store.getIamEntity(ACCOUNT.id, 'user', 'aLiCe'), '{"n":"Alice"}');
        await store.putIamEntity(ACCOUNT.id, 'user', 'alice', '{"n":"Alice","v":2}', 'replace');
        assert.equal(await store.getIamEntity(ACCOUNT.id, 'user', 'Alice'), '{"n":"Alice","v":2}');
        await assert.rejects(store.putIamEntity(ACCOUNT.id, 'user', 'bob', '{}', 'replace'), conflict('no-such-entity'));
        await store.putIamEntity(ACCOUNT.id, 'user', 'Bob', '{"n":"Bob"}', 'create');
        assert.deepEqual(await store.listIamEntities(ACCOUNT.id, 'user'), ['{"n":"Alice","v":2}', '{"n":"Bob"}']);
        assert.deepEqual(await store.listIamEntities(ACCOUNT.id, 'role'), []);
        assert.equal(await store.deleteIamEntity(ACCOUNT.id, 'user', 'ALICE'), true);
        assert.equal(await store.deleteIamEntity(ACCOUNT.id, 'user', 'alice'), false);
        assert.equal(await store.getIamEntity(ACCOUNT.id, 'user', 'alice'), undefined);
        assert.equal(await store.getIamEntity(OTHER_ACCOUNT.id, 'user', 'alice'), '{"o":1}');
      });
    });

    describe('buckets', () => {
      it('creates, finds and lists buckets', async () => {
        await store.createAccount(OTHER_ACCOUNT);
        await store.createBucket(bucketRecord('a-bucket', { accountId: OTHER_ACCOUNT.id, region: 'eu-west-1' }));
        assert.deepEqual(await store.getBucket('b'), bucketRecord('b'));
        assert.equal(await store.getBucket('nope'), undefined);
        assert.deepEqual((await store.listBuckets()).map((b) => b.name), ['a-bucket', 'b']);
        assert.deepEqual((await store.listBuckets(ACCOUNT.id)).map((b) => b.name), ['b']);
        assert.deepEqual(await store.listBuckets(OTHER_ACCOUNT.id), [bucketRecord('a-bucket', { accountId: OTHER_ACCOUNT.id, region: 'eu-west-1' })]);
      });

      it('refuses a taken name, whoever owns it', async () => {
        await store.createAccount(OTHER_ACCOUNT);
        await assert.rejects(store.createBucket(bucketRecord('b')), conflict('bucket-exists'));
        await assert.rejects(store.createBucket(bucketRecord('b', { accountId: OTHER_ACCOUNT.id })), conflict('bucket-exists'));
      });

      it('sets versioning', async () => {
        await store.setVersioning('b', 'Enabled');
        assert.equal((await store.getBucket('b'))!.versioning, 'Enabled');
        await store.setVersioning('b', 'Suspended');
        assert.equal((await store.getBucket('b'))!.versioning, 'Suspended');
        await assert.rejects(store.setVersioning('nope', 'Enabled'), conflict('no-such-bucket'));
      });

      it('stores, replaces and deletes bucket configs', async () => {
        assert.equal(await store.getBucketConfig('b', 'cors'), undefined);
        await store.putBucketConfig('b', 'cors', '<CORSConfiguration/>');
        await store.putBucketConfig('b', 'policy', '{"Version":"2012-10-17"}');
        assert.equal(await store.getBucketConfig('b', 'cors'), '<CORSConfiguration/>');
        await store.putBucketConfig('b', 'cors', '<CORSConfiguration>2</CORSConfiguration>');
        assert.equal(await store.getBucketConfig('b', 'cors'), '<CORSConfiguration>2</CORSConfiguration>');
        await store.putBucketConfig('b', 'cors', null);
        assert.equal(await store.getBucketConfig('b', 'cors'), undefined);
        assert.equal(await store.getBucketConfig('b', 'policy'), '{"Version":"2012-10-17"}');
        await store.putBucketConfig('b', 'tagging', null); // deleting an absent config is fine
        await assert.rejects(store.putBucketConfig('nope', 'cors', 'x'), conflict('no-such-bucket'));
      });

      it('deletes an empty bucket together with its configs', async () => {
        await store.putBucketConfig('b', 'tagging', '<Tagging/>');
        await store.deleteBucket('b');
        assert.equal(await store.getBucket('b'), undefined);
        await store.createBucket(bucketRecord('b'));
        assert.equal(await store.getBucketConfig('b', 'tagging'), undefined, 'configs do not outlive the bucket');
        await assert.rejects(store.deleteBucket('nope'), conflict('no-such-bucket'));
      });

      it('removeVersion checks its precondition against that version inside the same commit', async () => {
        await store.insertVersion(version('b', 'k', 'null'), { replaceNullVersion: true });
        const seen: (string | undefined)[] = [];
        await assert.rejects(store.removeVersion('b', 'k', 'null', (v) => {
          seen.push(v?.versionId);
          throw new Error('precondition failed');
        }), /precondition failed/);
        assert.ok(await store.getObjectVersion('b', 'k', 'null'), 'a failed precondition removes nothing');
        await store.removeVersion('b', 'k', 'missing', (v) => seen.push(v === undefined ? 'absent' : v.versionId));
        const r = await store.removeVersion('b', 'k', 'null', (v) => seen.push(v?.versionId));
        assert.equal(r.removed?.versionId, 'null');
        assert.deepEqual(seen, ['null', 'absent', 'null']);
      });

      it('refuses to delete a bucket holding a version, a delete marker or an upload', async () => {
        await store.insertVersion(version('b', 'k', 'null'), { replaceNullVersion: true });
        await assert.rejects(store.deleteBucket('b'), conflict('bucket-not-empty'));
        await store.removeVersion('b', 'k', 'null');

        await store.insertVersion(deleteMarker('b', 'k', 'v1'), { replaceNullVersion: false });
        await assert.rejects(store.deleteBucket('b'), conflict('bucket-not-empty'), 'a delete marker counts');
        await store.removeVersion('b', 'k', 'v1');

        await store.createUpload(upload('b', 'k', 'u1'));
        await assert.rejects(store.deleteBucket('b'), conflict('bucket-not-empty'), 'an upload counts');
        await store.abortUpload('u1');

        await store.deleteBucket('b');
        assert.equal(await store.getBucket('b'), undefined);
      });
    });

    describe('versions', () => {
      it('round-trips every field and marks the newest version latest', async () => {
        const v1 = version('b', 'k', 'v1', {
          meta: {
            contentType: 'image/png', contentEncoding: 'gzip', contentDisposition: 'inline', contentLanguage: 'en',
            cacheControl: 'no-cache', expires: 'Wed, 21 Oct 2015 07:28:00 GMT', websiteRedirectLocation: '/x',
            storageClass: 'STANDARD', user: { a: '1', 'b-c': 'ü' },
          },
          uploadId: 'u9', pieces: [piece(blobId(), { partNumber: 1, etag: '"p1"', checksum: 'AAAA' }), piece(blobId(), { partNumber: 2 })],
          checksum: { algorithm: 'CRC64NVME', type: 'COMPOSITE', value: 'AAAAAAAAAAA=-2' },
        });
        const v2 = version('b', 'k', 'v2');
        assert.deepEqual(await store.insertVersion(v1, { replaceNullVersion: false }), { blobIds: [] });
        await store.insertVersion(v2, { replaceNullVersion: false });

        const got1 = await store.getObjectVersion('b', 'k', 'v1');
        const got2 = await store.getObjectVersion('b', 'k', 'v2');
        assert.ok(got1 && got2);
        const { seq: seq1, isLatest: latest1, ...rest1 } = got1;
        assert.deepEqual(rest1, v1);
        assert.equal(latest1, false);
        assert.equal(got2.isLatest, true);
        assert.ok(typeof seq1 === 'number' && got2.seq! > seq1, 'seq grows');
        assert.deepEqual(await store.getObjectVersion('b', 'k'), got2);
        assert.equal(await store.getObjectVersion('b', 'k', 'v3'), undefined);
        assert.equal(await store.getObjectVersion('b', 'other'), undefined);
      });

      it('refuses a version in a missing bucket', async () => {
        await assert.rejects(store.insertVersion(version('nope', 'k', 'v1'), { replaceNullVersion: false }), conflict('no-such-bucket'));
      });

      it('replaces the null version and returns its blobs as garbage', async () => {
        const first = version('b', 'k', 'null');
        const second = version('b', 'k', 'null', { etag: '"second"' });
        assert.deepEqual(await store.insertVersion(first, { replaceNullVersion: true }), { blobIds: [] });
        assert.deepEqual(await store.insertVersion(second, { replaceNullVersion: true }), { blobIds: [first.pieces[0]!.blobId] });
        const got = await store.getObjectVersion('b', 'k');
        assert.equal(got?.etag, '"second"');
        assert.equal(got?.isLatest, true);
        const all = await store.listVersions('b', { prefix: '', afterKey: '', limit: 100 });
        assert.deepEqual(all.items.map((v) => v.versionId), ['null']);
      });

      it('in a suspended bucket replaces only the null version, keeping the others', async () => {
        const v1 = version('b', 'k', 'v1');
        const n1 = version('b', 'k', 'null');
        const v2 = version('b', 'k', 'v2');
        const n2 = version('b', 'k', 'null', { etag: '"n2"' });
        await store.insertVersion(v1, { replaceNullVersion: false });
        await store.insertVersion(n1, { replaceNullVersion: true });
        await store.insertVersion(v2, { replaceNullVersion: false });
        // The null version is not the latest here, yet it is the one replaced.
        const g = await store.insertVersion(n2, { replaceNullVersion: true });
        assert.deepEqual(g.blobIds, [n1.pieces[0]!.blobId]);
        const all = await store.listVersions('b', { prefix: '', afterKey: '', limit: 100 });
        assert.deepEqual(all.items.map((v) => [v.versionId, v.isLatest, v.etag]), [
          ['null', true, '"n2"'], ['v2', false, '"abc"'], ['v1', false, '"abc"'],
        ]);
      });

      it('a delete marker becomes latest, hides the key from listings, and removing it restores the object', async () => {
        await store.insertVersion(version('b', 'k', 'v1'), { replaceNullVersion: false });
        await store.insertVersion(deleteMarker('b', 'k', 'dm1'), { replaceNullVersion: false });
        const latest = await store.getObjectVersion('b', 'k');
        assert.equal(latest?.versionId, 'dm1');
        assert.equal(latest?.isDeleteMarker, true);
        assert.equal((await store.getObjectVersion('b', 'k', 'v1'))?.isLatest, false);
        assert.deepEqual((await store.listLatest('b', { prefix: '', after: '', limit: 10 })).items, []);
        assert.equal(await store.countObjects('b'), 0);
        const versions = await store.listVersions('b', { prefix: '', afterKey: '', limit: 10 });
        assert.deepEqual(versions.items.map((v) => [v.versionId, v.isDeleteMarker, v.isLatest]), [['dm1', true, true], ['v1', false, false]]);

        const r = await store.removeVersion('b', 'k', 'dm1');
        assert.equal(r.removed?.versionId, 'dm1');
        assert.equal(r.removed?.isDeleteMarker, true);
        assert.deepEqual(r.blobIds, []);
        assert.equal((await store.getObjectVersion('b', 'k'))?.versionId, 'v1');
        assert.equal((await store.getObjectVersion('b', 'k'))?.isLatest, true);
        assert.deepEqual((await store.listLatest('b', { prefix: '', after: '', limit: 10 })).items.map((v) => v.versionId), ['v1']);
        assert.equal(await store.countObjects('b'), 1);
      });

      it('removeVersion recomputes the latest only when the latest goes', async () => {
        const v1 = version('b', 'k', 'v1');
        const v2 = version('b', 'k', 'v2');
        const v3 = version('b', 'k', 'v3');
        for (const v of [v1, v2, v3]) await store.insertVersion(v, { replaceNullVersion: false });

        const mid = await store.removeVersion('b', 'k', 'v2');
        assert.equal(mid.removed?.versionId, 'v2');
        assert.equal(mid.removed?.isLatest, false);
        assert.deepEqual(mid.blobIds, [v2.pieces[0]!.blobId]);
        assert.equal((await store.getObjectVersion('b', 'k'))?.versionId, 'v3');

        const top = await store.removeVersion('b', 'k', 'v3');
        assert.equal(top.removed?.isLatest, true);
        assert.equal((await store.getObjectVersion('b', 'k'))?.versionId, 'v1');
        assert.equal((await store.getObjectVersion('b', 'k'))?.isLatest, true);

        const last = await store.removeVersion('b', 'k', 'v1');
        assert.deepEqual(last.blobIds, [v1.pieces[0]!.blobId]);
        assert.equal(await store.getObjectVersion('b', 'k'), undefined);

        assert.deepEqual(await store.removeVersion('b', 'k', 'v1'), { removed: undefined, blobIds: [] });
      });

      it('a blob shared by two versions becomes garbage only with its last reference', async () => {
        const shared = blobId();
        await store.insertVersion(version('b', 'k', 'v1', { pieces: [piece(shared)] }), { replaceNullVersion: false });
        await store.insertVersion(version('b', 'copy', 'v1', { pieces: [piece(shared)] }), { replaceNullVersion: false });
        assert.deepEqual((await store.removeVersion('b', 'k', 'v1')).blobIds, []);
        assert.ok((await collect(store.referencedBlobIds())).includes(shared));
        assert.deepEqual((await store.removeVersion('b', 'copy', 'v1')).blobIds, [shared]);
        // Replacing a null version by one that reuses its blob frees nothing.
        const own = blobId();
        await store.insertVersion(version('b', 'self', 'null', { pieces: [piece(own)] }), { replaceNullVersion: true });
        assert.deepEqual((await store.insertVersion(version('b', 'self', 'null', { pieces: [piece(own)] }), { replaceNullVersion: true })).blobIds, []);
        assert.ok((await collect(store.referencedBlobIds())).includes(own));
      });

      it('matches a model under random puts, null replacements, delete markers and removals (in groups)', async () => {
        const rnd = prng(7);
        const KEYS = ['a', 'b', 'é', '😀', '\uFFFF'];
        type M = { versionId: string; marker: boolean; blob: string | undefined };
        const model = new Map<string, M[]>(KEYS.map((k) => [k, []]));
        const live = new Set<string>();
        let ids = 0;
        for (let round = 0; round < 40; round++) {
          const ops: Promise<unknown>[] = [];
          for (let i = 0; i < 8; i++) {
            const key = KEYS[Math.floor(rnd() * KEYS.length)]!;
            const versions = model.get(key)!;
            const r = rnd();
            if (r < 0.45) {
              const nul = rnd() < 0.4;
              const marker = rnd() < 0.25;
              const id = nul ? 'null' : `v${String(++ids).padStart(5, '0')}`;
              const v = marker ? deleteMarker('b', key, id) : version('b', key, id);
              const expectGarbage: string[] = [];
              if (nul) {
                const at = versions.findIndex((x) => x.versionId === 'null');
                if (at >= 0) {
                  const [old] = versions.splice(at, 1);
                  if (old!.blob) { expectGarbage.push(old!.blob); live.delete(old!.blob); }
                }
              }
              const blob = v.pieces[0]?.blobId;
              versions.push({ versionId: id, marker, blob });
              if (blob) live.add(blob);
              ops.push(store.insertVersion(v, { replaceNullVersion: nul }).then((g) => assert.deepEqual(g.blobIds, expectGarbage)));
            } else if (versions.length > 0) {
              const [gone] = versions.splice(Math.floor(rnd() * versions.length), 1);
              if (gone!.blob) live.delete(gone!.blob);
              ops.push(store.removeVersion('b', key, gone!.versionId).then((res) => {
                assert.equal(res.removed?.versionId, gone!.versionId);
                assert.deepEqual(res.blobIds, gone!.blob ? [gone!.blob] : []);
              }));
            }
          }
          await Promise.all(ops);
          for (const key of KEYS) {
            const versions = model.get(key)!;
            const latest = await store.getObjectVersion('b', key);
            assert.equal(latest?.versionId, versions[versions.length - 1]?.versionId, `latest of ${key} in round ${round}`);
            if (latest) assert.equal(latest.isLatest, true);
          }
          const sortedKeys = sortUtf8(KEYS);
          const wantVersions = sortedKeys.flatMap((k) => [...model.get(k)!].reverse().map((x) => `${k}:${x.versionId}`));
          const gotVersions = (await store.listVersions('b', { prefix: '', afterKey: '', limit: 1000 })).items;
          assert.deepEqual(gotVersions.map((x) => `${x.key}:${x.versionId}`), wantVersions);
          const wantLatest = sortedKeys.filter((k) => { const vs = model.get(k)!; return vs.length > 0 && !vs[vs.length - 1]!.marker; });
          assert.deepEqual(await allLatestKeys(store, 'b', '', 2), wantLatest);
          assert.equal(await store.countObjects('b'), wantLatest.length);
          assert.deepEqual(new Set(await collect(store.referencedBlobIds())), live);
        }
      });

      it('sets object tags on one version', async () => {
        await store.insertVersion(version('b', 'k', 'v1'), { replaceNullVersion: false });
        await store.insertVersion(version('b', 'k', 'v2'), { replaceNullVersion: false });
        assert.equal(await store.setObjectTags('b', 'k', 'v1', { env: 'prod', 'a b': 'c=d' }), true);
        assert.deepEqual((await store.getObjectVersion('b', 'k', 'v1'))?.tags, { env: 'prod', 'a b': 'c=d' });
        assert.deepEqual((await store.getObjectVersion('b', 'k', 'v2'))?.tags, { t: '1' });
        assert.equal(await store.setObjectTags('b', 'k', 'v1', {}), true);
        assert.deepEqual((await store.getObjectVersion('b', 'k', 'v1'))?.tags, {});
        assert.equal(await store.setObjectTags('b', 'k', 'nope', {}), false);
        assert.equal(await store.setObjectTags('b', 'nope', 'v1', {}), false);
      });

      it('keeps an ACL with a version (insert, replace on one version only)', async () => {
        const acl = { owner: { id: 'o'.repeat(64), displayName: 'o' }, grants: [{ grantee: { type: 'Group' as const, uri: 'http://acs.amazonaws.com/groups/global/AllUsers' as const }, permission: 'READ' as const }] };
        await store.insertVersion({ ...version('b', 'k', 'v1'), acl }, { replaceNullVersion: false });
        await store.insertVersion(version('b', 'k', 'v2'), { replaceNullVersion: false });
        assert.deepEqual((await store.getObjectVersion('b', 'k', 'v1'))?.acl, acl);
        assert.equal((await store.getObjectVersion('b', 'k', 'v2'))?.acl, undefined);
        const next = { owner: acl.owner, grants: [] };
        assert.equal(await store.setObjectAcl('b', 'k', 'v2', next), true);
        assert.deepEqual((await store.getObjectVersion('b', 'k', 'v2'))?.acl, next);
        assert.deepEqual((await store.getObjectVersion('b', 'k', 'v1'))?.acl, acl);
        assert.equal(await store.setObjectAcl('b', 'k', 'nope', next), false);
      });

      it('countObjects counts live objects only', async () => {
        assert.equal(await store.countObjects('b'), 0);
        await store.insertVersion(version('b', 'a', 'v1'), { replaceNullVersion: false });
        await store.insertVersion(version('b', 'a', 'v2'), { replaceNullVersion: false });
        await store.insertVersion(version('b', 'c', 'v1'), { replaceNullVersion: false });
        await store.insertVersion(deleteMarker('b', 'c', 'v2'), { replaceNullVersion: false });
        await store.insertVersion(version('b', 'd', 'null'), { replaceNullVersion: true });
        assert.equal(await store.countObjects('b'), 2);
        assert.equal(await store.countObjects('nope'), 0);
      });
    });

    describe('listing', () => {
      const TRICKY = [
        'a', 'a/', 'a/b', 'ab', 'a b', 'a\u0000z', 'b', 'z', '\u007f', '\u0080', 'é', 'éa', 'e\u0301', '日本', '日本/語',
        '\uD7FF', '\uE000', '\uFFFD', '\uFFFF', '\uFFFFa', '😀', '😀/x', '\u{10000}', '\u{10FFFF}', '\u{10FFFF}\u{10FFFF}',
        '\u{10FFFF}a', 'z\u{10FFFF}', '%', '+', '~',
      ];

      async function putAll(keys: string[], bucket = 'b'): Promise<void> {
        await Promise.all(keys.map((k) => store.insertVersion(version(bucket, k, 'null'), { replaceNullVersion: true })));
      }

      it('lists keys in UTF-8 byte order, not UTF-16 order', async () => {
        await putAll(TRICKY);
        const expected = sortUtf8(TRICKY);
        // The astral character sorts after U+FFFF in UTF-8 (and before it in UTF-16).
        assert.ok(expected.indexOf('😀') > expected.indexOf('\uFFFF'));
        const page = await store.listLatest('b', { prefix: '', after: '', limit: 1000 });
        assert.deepEqual(page.items.map((v) => v.key), expected);
        assert.equal(page.truncated, false);
        assert.ok(page.items.every((v) => v.isLatest === true && v.bucket === 'b'));
      });

      it('paginates with `after` at any page size without losing or repeating keys', async () => {
        await putAll(TRICKY);
        for (const limit of [1, 2, 3, 7, TRICKY.length - 1, TRICKY.length, TRICKY.length + 1]) {
          assert.deepEqual(await allLatestKeys(store, 'b', '', limit), sortUtf8(TRICKY), `limit ${limit}`);
        }
      });

      it('matches a brute-force model for every prefix and resume point', async () => {
        await putAll(TRICKY);
        const sorted = sortUtf8(TRICKY);
        const prefixes = new Set<string>(['', 'a', 'a/', 'é', 'e', '日', '日本', '\uFFFF', '😀', '\u{10FFFF}', '\u{10FFFF}\u{10FFFF}',
          '\uD7FF', '\uE000', 'z', '{', '\u0000', 'nothing']);
        for (const k of TRICKY) for (let i = 1; i <= k.length; i++) prefixes.add(k.slice(0, i));
        const afters = ['', ...sorted, 'a0', '\u{10FFFF}\u{10FFFF}\u{10FFFF}'];
        for (const prefix of prefixes) {
          if (/[\uD800-\uDFFF]$/.test(prefix) && !/[\uD800-\uDBFF][\uDC00-\uDFFF]$/.test(prefix)) continue; // half a pair
          for (const after of afters) {
            const want = sorted.filter((k) => k.startsWith(prefix) && compareUtf8(k, after) > 0);
            const page = await store.listLatest('b', { prefix, after, limit: 3 });
            assert.deepEqual(page.items.map((v) => v.key), want.slice(0, 3), `prefix ${JSON.stringify(prefix)} after ${JSON.stringify(after)}`);
            assert.equal(page.truncated, want.length > 3);
          }
        }
      });

      it('respects prefix bounds around the prefix', async () => {
        await putAll(['a', 'a/', 'a/b', 'ab', 'a0', 'b', '`', 'a\u{10FFFF}', 'b\u0000']);
        assert.deepEqual(await allLatestKeys(store, 'b', 'a', 2), ['a', 'a/', 'a/b', 'a0', 'ab', 'a\u{10FFFF}']);
        assert.deepEqual(await allLatestKeys(store, 'b', 'a/', 1), ['a/', 'a/b']);
        assert.deepEqual(await allLatestKeys(store, 'b', 'b', 5), ['b', 'b\u0000']);
        assert.deepEqual(await allLatestKeys(store, 'b', 'a\u{10FFFF}', 5), ['a\u{10FFFF}']);
        assert.deepEqual(await allLatestKeys(store, 'b', 'c', 5), []);
      });

      it('does not mix buckets, and a page of 0 reports truncation', async () => {
        await store.createBucket(bucketRecord('b2'));
        await putAll(['x', 'y']);
        await putAll(['x2'], 'b2');
        assert.deepEqual(await allLatestKeys(store, 'b2', '', 10), ['x2']);
        const empty = await store.listLatest('b', { prefix: '', after: '', limit: 0 });
        assert.deepEqual(empty.items, []);
        assert.equal(empty.truncated, true);
      });

      it('lists versions by key, newest first, and resumes inside a key', async () => {
        await store.createBucket(bucketRecord('v', { versioning: 'Enabled' }));
        const plan: [string, string, boolean][] = [
          ['k1', 'a', false], ['😀', 'a', false], ['k2', 'a', false], ['k1', 'b', true], ['\uFFFF', 'a', false],
          ['k1', 'c', false], ['k2', 'b', false], ['k10', 'a', false], ['😀', 'b', true],
        ];
        for (const [key, id, marker] of plan) {
          await store.insertVersion(marker ? deleteMarker('v', key, id) : version('v', key, id), { replaceNullVersion: false });
        }
        const expected = [['k1', 'c'], ['k1', 'b'], ['k1', 'a'], ['k10', 'a'], ['k2', 'b'], ['k2', 'a'], ['\uFFFF', 'a'], ['😀', 'b'], ['😀', 'a']];
        const all = await store.listVersions('v', { prefix: '', afterKey: '', limit: 100 });
        assert.deepEqual(all.items.map((x) => [x.key, x.versionId]), expected);
        assert.deepEqual(all.items.map((x) => x.isLatest), [true, false, false, true, true, false, true, true, false]);
        for (let i = 1; i < all.items.length; i++) {
          const [p, c] = [all.items[i - 1]!, all.items[i]!];
          if (p.key === c.key) assert.ok(p.seq! > c.seq!);
        }

        for (const limit of [1, 2, 4, 9, 10]) {
          const seen: string[][] = [];
          let afterKey = '';
          let afterSeq: number | undefined;
          while (true) {
            const pg = await store.listVersions('v', { prefix: '', afterKey, afterSeq, limit });
            seen.push(...pg.items.map((x) => [x.key, x.versionId]));
            if (!pg.truncated) break;
            const last = pg.items[pg.items.length - 1]!;
            afterKey = last.key;
            afterSeq = last.seq;
          }
          assert.deepEqual(seen, expected, `limit ${limit}`);
        }

        const k1 = await store.listVersions('v', { prefix: 'k1', afterKey: '', limit: 100 });
        assert.deepEqual(k1.items.map((x) => [x.key, x.versionId]), expected.slice(0, 4));
        const afterWholeK1 = await store.listVersions('v', { prefix: 'k', afterKey: 'k1', limit: 100 });
        assert.deepEqual(afterWholeK1.items.map((x) => [x.key, x.versionId]), expected.slice(3, 6));
        const seqOfK1b = all.items[1]!.seq!;
        const insideK1 = await store.listVersions('v', { prefix: 'k1', afterKey: 'k1', afterSeq: seqOfK1b, limit: 100 });
        assert.deepEqual(insideK1.items.map((x) => [x.key, x.versionId]), [['k1', 'a'], ['k10', 'a']]);
        const resumeBeforePrefix = await store.listVersions('v', { prefix: 'k2', afterKey: 'k1', afterSeq: seqOfK1b, limit: 100 });
        assert.deepEqual(resumeBeforePrefix.items.map((x) => [x.key, x.versionId]), [['k2', 'b'], ['k2', 'a']]);
      });
    });

    describe('preconditions and group commit', () => {
      const ifNoneMatch = (current: ObjectVersion | undefined): void => {
        if (current !== undefined && !current.isDeleteMarker) throw new Error('PreconditionFailed');
      };

      it('a precondition sees the current latest version and its throw aborts only that write', async () => {
        const seen: (string | undefined)[] = [];
        await store.insertVersion(version('b', 'k', 'null'), { replaceNullVersion: true, precondition: (c) => { seen.push(c?.versionId); } });
        await store.insertVersion(version('b', 'k', 'v2'), { replaceNullVersion: false, precondition: (c) => { seen.push(c?.versionId); } });
        assert.deepEqual(seen, [undefined, 'null']);

        const doomed = version('b', 'k', 'v3');
        await assert.rejects(store.insertVersion(doomed, { replaceNullVersion: true, precondition: ifNoneMatch }), /PreconditionFailed/);
        assert.equal((await store.getObjectVersion('b', 'k'))?.versionId, 'v2');
        assert.equal(await store.getObjectVersion('b', 'k', 'v3'), undefined);
        assert.ok((await store.getObjectVersion('b', 'k', 'null')) !== undefined, 'the null version was not replaced');
        assert.ok(!(await collect(store.referencedBlobIds())).includes(doomed.pieces[0]!.blobId));
      });

      it('in one group, exactly one of many If-None-Match writes to a key wins, and neighbours commit', async () => {
        const contenders = Array.from({ length: 20 }, (_, i) => version('b', 'race', `r${i}`));
        const neighbours = Array.from({ length: 20 }, (_, i) => version('b', `n${i}`, 'null'));
        const results = await Promise.allSettled([
          ...contenders.map((v) => store.insertVersion(v, { replaceNullVersion: false, precondition: ifNoneMatch })),
          ...neighbours.map((v) => store.insertVersion(v, { replaceNullVersion: true, precondition: ifNoneMatch })),
        ]);
        const contenderResults = results.slice(0, 20);
        assert.equal(contenderResults.filter((r) => r.status === 'fulfilled').length, 1);
        assert.equal(contenderResults[0]!.status, 'fulfilled', 'writes apply in call order');
        assert.ok(results.slice(20).every((r) => r.status === 'fulfilled'));
        assert.equal((await store.getObjectVersion('b', 'race'))?.versionId, 'r0');
        assert.equal((await store.listVersions('b', { prefix: 'race', afterKey: '', limit: 100 })).items.length, 1);
        assert.equal(await store.countObjects('b'), 21);
      });

      it('a failing write in a group rolls back its own partial effects only', async () => {
        await store.insertVersion(version('b', 'k', 'null'), { replaceNullVersion: true });
        const results = await Promise.allSettled([
          store.insertVersion(version('b', 'x', 'null'), { replaceNullVersion: true }),
          // Fails after the precondition, on the duplicate version id: nothing of it may remain.
          store.insertVersion(version('b', 'k', 'null'), { replaceNullVersion: false }),
          store.insertVersion(version('nope', 'k', 'null'), { replaceNullVersion: true }),
          store.createBucket(bucketRecord('b')),
          store.insertVersion(version('b', 'y', 'null'), { replaceNullVersion: true }),
        ]);
        assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'rejected', 'rejected', 'fulfilled']);
        assert.equal((await store.getObjectVersion('b', 'k'))?.isLatest, true, 'the old null version is still latest');
        assert.deepEqual(await allLatestKeys(store, 'b', '', 10), ['k', 'x', 'y']);
      });

      it('commits hundreds of concurrent writes', async () => {
        const n = 600;
        const keys = Array.from({ length: n }, (_, i) => `concurrent/${String(i).padStart(4, '0')}`);
        const garbage = await Promise.all(keys.map((k) => store.insertVersion(version('b', k, 'null'), { replaceNullVersion: true })));
        assert.ok(garbage.every((g) => g.blobIds.length === 0));
        assert.equal(await store.countObjects('b'), n);
        assert.deepEqual(await allLatestKeys(store, 'b', 'concurrent/', 250), keys);
        // And concurrent versions of one key: the latest is the last one issued.
        await Promise.all(Array.from({ length: 200 }, (_, i) =>
          store.insertVersion(version('b', 'hot', `h${String(i).padStart(3, '0')}`), { replaceNullVersion: false })));
        assert.equal((await store.getObjectVersion('b', 'hot'))?.versionId, 'h199');
        assert.equal((await store.listVersions('b', { prefix: 'hot', afterKey: '', limit: 1000 })).items.length, 200);
      });
    });

    describe('multipart uploads', () => {
      it('creates, finds and lists uploads by key then initiation, resuming after an upload id', async () => {
        await assert.rejects(store.createUpload(upload('nope', 'k', 'u0')), conflict('no-such-bucket'));
        const ups = [
          upload('b', 'k2', 'u1', '2024-01-01T00:00:01.000Z'),
          upload('b', 'k1', 'u2', '2024-01-01T00:00:02.000Z'),
          upload('b', 'k1', 'u3', '2024-01-01T00:00:01.000Z'),
          upload('b', 'k1', 'u4', '2024-01-01T00:00:02.000Z'),
          upload('b', 'é', 'u5', '2024-01-01T00:00:00.000Z'),
          upload('b', 'k1/x', 'u6', '2024-01-01T00:00:00.000Z'),
        ];
        for (const u of ups) await store.createUpload(u);
        assert.deepEqual(await store.getUpload('u3'), ups[2]);
        assert.equal(await store.getUpload('nope'), undefined);

        const order = ['u3', 'u2', 'u4', 'u6', 'u1', 'u5'];
        const all = await store.listUploads('b', { prefix: '', afterKey: '', limit: 100 });
        assert.deepEqual(all.items.map((u) => u.uploadId), order);
        assert.equal(all.truncated, false);

        for (const limit of [1, 2, 5]) {
          const seen: string[] = [];
          let afterKey = '';
          let afterUploadId: string | undefined;
          while (true) {
            const pg = await store.listUploads('b', { prefix: '', afterKey, afterUploadId, limit });
            seen.push(...pg.items.map((u) => u.uploadId));
            if (!pg.truncated) break;
            afterKey = pg.items[pg.items.length - 1]!.key;
            afterUploadId = pg.items[pg.items.length - 1]!.uploadId;
          }
          assert.deepEqual(seen, order, `limit ${limit}`);
        }
        assert.deepEqual((await store.listUploads('b', { prefix: 'k1', afterKey: '', limit: 100 })).items.map((u) => u.uploadId), ['u3', 'u2', 'u4', 'u6']);
        assert.deepEqual((await store.listUploads('b', { prefix: '', afterKey: 'k1', limit: 100 })).items.map((u) => u.uploadId), ['u6', 'u1', 'u5']);
        assert.deepEqual((await store.listUploads('b', { prefix: '', afterKey: 'k1', afterUploadId: 'u2', limit: 100 })).items.map((u) => u.uploadId),
          ['u4', 'u6', 'u1', 'u5']);
        // The marker upload went away between pages: the key's remaining uploads are not skipped.
        await store.abortUpload('u2');
        assert.deepEqual((await store.listUploads('b', { prefix: '', afterKey: 'k1', afterUploadId: 'u2', limit: 100 })).items.map((u) => u.uploadId),
          ['u3', 'u4', 'u6', 'u1', 'u5']);
      });

      it('puts, replaces and lists parts', async () => {
        await assert.rejects(store.putPart(part('nope', 1)), conflict('no-such-upload'));
        await store.createUpload(upload('b', 'k', 'u1'));
        const p1 = part('u1', 1);
        const p2 = part('u1', 2);
        const p3 = part('u1', 3);
        for (const p of [p3, p1, p2]) assert.deepEqual(await store.putPart(p), { blobIds: [] });
        const p2b = part('u1', 2);
        assert.deepEqual(await store.putPart(p2b), { blobIds: [p2.piece.blobId] }, 'the replaced part blob is garbage');
        const all = await store.listParts('u1', { afterPartNumber: 0, limit: 100 });
        assert.deepEqual(all, { items: [p1, p2b, p3], truncated: false });
        assert.deepEqual(await store.listParts('u1', { afterPartNumber: 1, limit: 1 }), { items: [p2b], truncated: true });
        assert.deepEqual(await store.listParts('u1', { afterPartNumber: 2, limit: 1 }), { items: [p3], truncated: false });
        assert.deepEqual(await store.listParts('nope', { afterPartNumber: 0, limit: 10 }), { items: [], truncated: false });
        const refs = await collect(store.referencedBlobIds());
        assert.ok([p1, p2b, p3].every((p) => refs.includes(p.piece.blobId)));
        assert.ok(!refs.includes(p2.piece.blobId));
      });

      it('completes an upload: the version is latest, upload and parts go, unused part blobs are garbage', async () => {
        await store.insertVersion(version('b', 'k', 'null'), { replaceNullVersion: true });
        const old = (await store.getObjectVersion('b', 'k'))!;
        await store.createUpload(upload('b', 'k', 'u1'));
        const parts = [part('u1', 1), part('u1', 2), part('u1', 3)];
        for (const p of parts) await store.putPart(p);
        const v = version('b', 'k', 'null', { uploadId: 'u1', pieces: [parts[0]!.piece, parts[2]!.piece] });

        await assert.rejects(store.completeUpload('nope', v, { replaceNullVersion: true }), conflict('no-such-upload'));
        await assert.rejects(
          store.completeUpload('u1', v, { replaceNullVersion: true, precondition: () => { throw new Error('PreconditionFailed'); } }),
          /PreconditionFailed/);
        assert.ok(await store.getUpload('u1'), 'a failed precondition leaves the upload intact');
        assert.equal((await store.listParts('u1', { afterPartNumber: 0, limit: 10 })).items.length, 3);

        const g = await store.completeUpload('u1', v, { replaceNullVersion: true });
        assert.deepEqual(new Set(g.blobIds), new Set([parts[1]!.piece.blobId, old.pieces[0]!.blobId]));
        assert.equal(await store.getUpload('u1'), undefined);
        assert.deepEqual((await store.listParts('u1', { afterPartNumber: 0, limit: 10 })).items, []);
        const got = await store.getObjectVersion('b', 'k');
        assert.equal(got?.uploadId, 'u1');
        assert.equal(got?.isLatest, true);
        assert.deepEqual(got?.pieces, v.pieces);
        const refs = await collect(store.referencedBlobIds());
        assert.ok(refs.includes(parts[0]!.piece.blobId) && refs.includes(parts[2]!.piece.blobId));
        assert.ok(!refs.includes(parts[1]!.piece.blobId));
        await assert.rejects(store.completeUpload('u1', v, { replaceNullVersion: true }), conflict('no-such-upload'), 'only once');
      });

      it('aborts an upload, returning its part blobs', async () => {
        await store.createUpload(upload('b', 'k', 'u1'));
        const parts = [part('u1', 1), part('u1', 2)];
        for (const p of parts) await store.putPart(p);
        const r = await store.abortUpload('u1');
        assert.equal(r.found, true);
        assert.deepEqual(new Set(r.blobIds), new Set(parts.map((p) => p.piece.blobId)));
        assert.equal(await store.getUpload('u1'), undefined);
        assert.deepEqual(await store.abortUpload('u1'), { found: false, blobIds: [] });
        await assert.rejects(store.putPart(part('u1', 3)), conflict('no-such-upload'));
        await store.deleteBucket('b');
      });
    });

    describe('maintenance and persistence', () => {
      it('referencedBlobIds yields every blob of every version and part, across pages', async () => {
        const expected = new Set<string>();
        const versions = Array.from({ length: 2500 }, (_, i) => version('b', `k${i}`, 'null'));
        for (const v of versions) expected.add(v.pieces[0]!.blobId);
        await Promise.all(versions.map((v) => store.insertVersion(v, { replaceNullVersion: true })));
        await store.createUpload(upload('b', 'k', 'u1'));
        const p = part('u1', 1);
        await store.putPart(p);
        expected.add(p.piece.blobId);
        const got = await collect(store.referencedBlobIds());
        assert.equal(got.length, expected.size, 'no duplicates');
        assert.deepEqual(new Set(got), expected);
      });

      it('survives close and reopen, including writes queued just before close', async (t) => {
        if (!h.reopen) {
          t.skip('no persistence');
          return;
        }
        await store.insertVersion(version('b', 'k', 'v1'), { replaceNullVersion: false });
        await store.putBucketConfig('b', 'cors', '<x/>');
        const queued = store.insertVersion(version('b', 'queued', 'null'), { replaceNullVersion: true });
        const reopened = await h.reopen();
        await queued;
        await assert.rejects(store.getBucket('b'), 'the old handle is closed');
        await assert.rejects(store.insertVersion(version('b', 'late', 'null'), { replaceNullVersion: true }));
        store = reopened;
        assert.deepEqual(await store.getAccount(ACCOUNT.id), ACCOUNT);
        assert.equal((await store.getObjectVersion('b', 'k'))?.versionId, 'v1');
        assert.equal((await store.getObjectVersion('b', 'queued'))?.versionId, 'null');
        assert.equal(await store.getBucketConfig('b', 'cors'), '<x/>');
        // Sequence numbers keep growing after a reopen.
        await store.insertVersion(version('b', 'k', 'v2'), { replaceNullVersion: false });
        const [v2, v1] = (await store.listVersions('b', { prefix: 'k', afterKey: '', limit: 10 })).items;
        assert.ok(v2!.seq! > v1!.seq!);
      });
    });
  });
}

// ---- blob contract -------------------------------------------------------------------------

/** What a blob implementation provides to the contract suite. */
export interface BlobHarness {
  store: BlobStore;
  dispose(): Promise<void>;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A source that yields `total` bytes in `chunk`-sized pieces (a deterministic pattern). */
function patterned(total: number, chunk = 16 * 1024): { source: Readable; data: Buffer } {
  const data = Buffer.alloc(total);
  for (let i = 0; i < total; i++) data[i] = (i * 31 + (i >> 8)) & 0xff;
  async function* gen(): AsyncGenerator<Buffer> {
    for (let off = 0; off < total; off += chunk) yield data.subarray(off, Math.min(total, off + chunk));
  }
  return { source: Readable.from(gen(), { objectMode: false }), data };
}

/** Runs the BlobStore contract against the stores `makeStore` creates (a fresh one per test). */
export function runBlobContract(name: string, makeStore: () => Promise<BlobHarness>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let h: BlobHarness;
    let store: BlobStore;

    beforeEach(async () => {
      h = await makeStore();
      store = h.store;
    });
    afterEach(async () => {
      await h.dispose();
    });

    it('writes and reads back a blob, reporting its size', async () => {
      assert.deepEqual(await store.write('blobAAAA', Readable.from([Buffer.from('hello '), Buffer.from('world')])), { bytes: 11 });
      assert.equal((await readAll(store.read('blobAAAA'))).toString(), 'hello world');
    });

    it('streams a large blob (multi-chunk, with backpressure) intact', async () => {
      const { source, data } = patterned(5 * 1024 * 1024 + 123);
      assert.deepEqual(await store.write('blobLARGE', source), { bytes: data.length });
      assert.ok((await readAll(store.read('blobLARGE'))).equals(data));
      const mid = await readAll(store.read('blobLARGE', { start: 1024 * 1024 - 5, end: 3 * 1024 * 1024 + 7 }));
      assert.ok(mid.equals(data.subarray(1024 * 1024 - 5, 3 * 1024 * 1024 + 8)));
    });

    it('reads inclusive byte ranges', async () => {
      await store.write('blobRNGE', Readable.from([Buffer.from('0123456789')]));
      assert.equal((await readAll(store.read('blobRNGE', { start: 0, end: 0 }))).toString(), '0');
      assert.equal((await readAll(store.read('blobRNGE', { start: 2, end: 5 }))).toString(), '2345');
      assert.equal((await readAll(store.read('blobRNGE', { start: 9, end: 9 }))).toString(), '9');
      assert.equal((await readAll(store.read('blobRNGE', { start: 0, end: 9 }))).toString(), '0123456789');
    });

    it('stores an empty blob', async () => {
      assert.deepEqual(await store.write('blobNONE', Readable.from([])), { bytes: 0 });
      assert.equal((await readAll(store.read('blobNONE'))).length, 0);
    });

    it('never overwrites an existing blob', async () => {
      await store.write('blobONCE', Readable.from([Buffer.from('first')]));
      await assert.rejects(store.write('blobONCE', Readable.from([Buffer.from('second')])));
      assert.equal((await readAll(store.read('blobONCE'))).toString(), 'first');
    });

    it('a failing source rejects the write and leaves no blob behind', async () => {
      async function* failing(): AsyncGenerator<Buffer> {
        yield Buffer.alloc(200_000, 1);
        yield Buffer.alloc(200_000, 2);
        throw new Error('client went away');
      }
      await assert.rejects(store.write('blobFAIL', Readable.from(failing(), { objectMode: false })), /client went away/);
      await assert.rejects(readAll(store.read('blobFAIL')));
      assert.ok(!(await collect(store.list())).some((b) => b.blobId === 'blobFAIL'));
      // The id is free again (a retry with the same id may succeed).
      await store.write('blobFAIL', Readable.from([Buffer.from('ok')]));
      assert.equal((await readAll(store.read('blobFAIL'))).toString(), 'ok');
    });

    it('opens a blob for positional reads into the caller’s buffer', async () => {
      await store.write('blobPOSN', Readable.from([Buffer.from('0123456789')]));
      const h = await store.open('blobPOSN');
      const buf = Buffer.alloc(8, 0x2e);
      assert.equal(await h.readAt(buf, 4, 3), 4);
      assert.equal(buf.toString(), '3456....');
      assert.equal(await h.readAt(buf, 8, 7), 3); // short read at the end
      assert.equal(buf.subarray(0, 3).toString(), '789');
      assert.equal(await h.readAt(buf, 8, 10), 0);
      await h.close();
      await assert.rejects(store.open('blobMISSING'), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
      await assert.rejects(store.open('../../etc/passwd'));
    });

    it('reading a missing blob errors the stream', async () => {
      await assert.rejects(readAll(store.read('blobMISSING')));
      await assert.rejects(readAll(store.read('blobMISSING', { start: 0, end: 3 })));
    });

    it('deletes, ignoring a missing blob', async () => {
      await store.write('blobDELE', Readable.from([Buffer.from('x')]));
      await store.delete('blobDELE');
      await assert.rejects(readAll(store.read('blobDELE')));
      await store.delete('blobDELE');
      await store.delete('blobNEVER');
    });

    it('lists every blob with its modification time', async () => {
      const before = Date.now() - 5000;
      const ids = ['blobL001', 'blobL002', 'Zz-_1234', '0123abcd'];
      for (const id of ids) await store.write(id, Readable.from([Buffer.from(id)]));
      const listed = await collect(store.list());
      assert.deepEqual(listed.map((b) => b.blobId).sort(), [...ids].sort());
      assert.ok(listed.every((b) => typeof b.mtimeMs === 'number' && b.mtimeMs >= before && b.mtimeMs <= Date.now() + 5000));
      await store.delete('blobL001');
      assert.deepEqual((await collect(store.list())).map((b) => b.blobId).sort(), ids.slice(1).sort());
    });
  });
}

// ---- the implementations -------------------------------------------------------------------

async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `kura-${prefix}-`));
}

runMetadataContract('SqliteMetadataStore(:memory:)', async () => {
  const store = SqliteMetadataStore.open(':memory:');
  return { store, dispose: () => store.close() };
});

runMetadataContract('SqliteMetadataStore(file)', async () => {
  const dir = await tempDir('meta');
  const path = join(dir, 'meta.db');
  let current = SqliteMetadataStore.open(path);
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = SqliteMetadataStore.open(path);
      return current;
    },
    dispose: async () => {
      await current.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

runBlobContract('FsBlobStore', async () => {
  const dir = await tempDir('blobs');
  return { store: await FsBlobStore.open(dir), dispose: () => rm(dir, { recursive: true, force: true }) };
});

runBlobContract('MemoryBlobStore', async () => ({ store: new MemoryBlobStore(), dispose: async () => undefined }));
