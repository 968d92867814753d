/** SQLite-specific checks the generic contract cannot see: pragmas, plans, migrations, commit grouping. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { ObjectVersion } from '../ports.js';
import { LIST_SQL, SqliteMetadataStore } from './metadata-store.js';
import { MIGRATIONS } from './schema.js';

function version(key: string, versionId = 'null'): ObjectVersion {
  return {
    bucket: 'b', key, versionId, isDeleteMarker: false, size: 1, etag: '"e"', lastModified: '2024-01-01T00:00:00.000Z',
    ownerAccountId: '111122223333', meta: { user: {} }, checksum: null, tags: {}, uploadId: null,
    pieces: [{ blobId: `blob-${key}-${versionId}`, size: 1, enc: { scheme: 1, dek: { v: 1, kid: 'k', iv: '', ct: '', tag: '' } } }],
    sse: { algorithm: 'AES256' },
  };
}

/** The private connection, for white-box checks only. */
function dbOf(store: SqliteMetadataStore): Database.Database {
  return (store as unknown as { db: Database.Database }).db;
}

describe('SqliteMetadataStore (SQLite specifics)', () => {
  let dir: string;
  let path: string;
  let store: SqliteMetadataStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kura-sqlite-'));
    path = join(dir, 'meta.db');
    store = SqliteMetadataStore.open(path);
    await store.createAccount({ id: '111122223333', name: 'a', canonicalId: 'c'.repeat(64), email: null, createdAt: 'now' });
    await store.createBucket({ name: 'b', accountId: '111122223333', region: 'us-east-1', createdAt: 'now', versioning: 'Enabled' });
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs in WAL mode with synchronous=FULL, foreign keys and a busy timeout', () => {
    const db = dbOf(store);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('synchronous', { simple: true }), 2);
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    assert.ok(Number(db.pragma('busy_timeout', { simple: true })) >= 1000);
    assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length);
  });

  it('migration 4 gives buckets from before ownership modes an explicit BucketOwnerEnforced', async () => {
    // A bucket as an older build stored it: no ownership row, schema at version 3.
    const db = dbOf(store);
    db.prepare("DELETE FROM bucket_configs WHERE bucket = 'b' AND kind = 'ownership'").run();
    await store.createBucket({ name: 'c', accountId: '111122223333', region: 'us-east-1', createdAt: 'now', versioning: 'Unversioned' }, { ownership: 'ObjectWriter' });
    // Later migrations run again on reopen: undo them too.
    db.exec('DROP TABLE iam_entities');
    db.pragma('user_version = 3');
    await store.close();
    store = SqliteMetadataStore.open(path);
    assert.equal(await store.getBucketConfig('b', 'ownership'), 'BucketOwnerEnforced');
    assert.equal(await store.getBucketConfig('c', 'ownership'), 'ObjectWriter');
  });

  it('every listing query is one index range scan with no sort', () => {
    const db = dbOf(store);
    for (const [name, sql] of Object.entries(LIST_SQL)) {
      const params = (sql.match(/\?/g) ?? []).map(() => 'x');
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
      assert.equal(plan.length, 1, `${name}: ${JSON.stringify(plan)}`);
      assert.match(plan[0]!.detail, /^SEARCH (versions|uploads) USING INDEX \w+ \(bucket=\? AND key[=>]/, name);
      assert.doesNotMatch(plan[0]!.detail, /TEMP B-TREE/, name);
    }
    const live = (db.prepare(`EXPLAIN QUERY PLAN ${LIST_SQL.liveGt}`).all('b', 'a', 'b', 1) as { detail: string }[])[0]!.detail;
    assert.match(live, /versions_live/, 'ListObjects reads the partial index of live objects');
  });

  it('groups concurrent writes into one transaction, and resolves each only after its COMMIT', async () => {
    const s = (store as unknown as { s: { commit: { run(): unknown } } }).s;
    let commits = 0;
    const realCommit = s.commit;
    s.commit = { run: () => { commits++; return realCommit.run(); } };
    // A second connection sees only committed data: each write must be visible to it when its promise resolves.
    const reader = new Database(path, { readonly: true });
    try {
      const seen = reader.prepare('SELECT count(*) AS n FROM versions WHERE bucket = ? AND key = ?');
      const writes = Array.from({ length: 300 }, (_, i) => store.insertVersion(version(`g${i}`), { replaceNullVersion: true }).then(() => {
        assert.equal((seen.get('b', `g${i}`) as { n: number }).n, 1, `g${i} is committed when its promise resolves`);
      }));
      await Promise.all(writes);
      assert.ok(commits >= 1 && commits <= 2, `300 concurrent writes took ${commits} commits`);
    } finally {
      reader.close();
      s.commit = realCommit;
    }
  });

  it('a failed COMMIT rejects every write of the group', async () => {
    const s = (store as unknown as { s: { commit: { run(): unknown } } }).s;
    const realCommit = s.commit;
    s.commit = { run: () => { throw new Error('disk on fire'); } };
    try {
      const results = await Promise.allSettled([
        store.insertVersion(version('x'), { replaceNullVersion: true }),
        store.insertVersion(version('y'), { replaceNullVersion: true }),
      ]);
      assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
    } finally {
      s.commit = realCommit;
    }
    assert.equal(await store.getObjectVersion('b', 'x'), undefined, 'rolled back');
    await store.insertVersion(version('z'), { replaceNullVersion: true });
    assert.ok(await store.getObjectVersion('b', 'z'), 'the store keeps working');
  });

  it('refuses a database whose schema is newer than this build', async () => {
    await store.close();
    const raw = new Database(path);
    raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    raw.close();
    assert.throws(() => SqliteMetadataStore.open(path), /newer/);
    const fix = new Database(path);
    fix.pragma(`user_version = ${MIGRATIONS.length}`);
    fix.close();
    store = SqliteMetadataStore.open(path);
    assert.ok(await store.getBucket('b'), 'reopening at the current version keeps the data');
  });

  it('keeps sequence numbers unique after the newest version is removed', async () => {
    await store.insertVersion(version('k', 'v1'), { replaceNullVersion: false });
    await store.insertVersion(version('k', 'v2'), { replaceNullVersion: false });
    const v2seq = (await store.getObjectVersion('b', 'k', 'v2'))!.seq!;
    await store.removeVersion('b', 'k', 'v2');
    await store.insertVersion(version('k', 'v3'), { replaceNullVersion: false });
    assert.ok((await store.getObjectVersion('b', 'k', 'v3'))!.seq! > v2seq, 'AUTOINCREMENT never reuses a seq (resume tokens stay valid)');
  });
});
