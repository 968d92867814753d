/**
 * The embedded metadata store: SQLite (better-sqlite3) in WAL mode with synchronous=FULL, so an
 * acknowledged write survives kill -9 and power loss.
 *
 * better-sqlite3 is synchronous. Reads run immediately (SQLite answers them from the page cache
 * in microseconds, and JavaScript never interleaves them with a half-done write). Writes are
 * queued and group-committed: every write queued during one turn of the event loop runs in one
 * `BEGIN IMMEDIATE … COMMIT`, each inside its own SAVEPOINT so that a failing precondition rolls
 * back only its own write. One fsync then acknowledges the whole group, which is what lets small
 * PUTs go far beyond one-commit-per-fsync rates. No write's promise settles before the COMMIT
 * that contains it has returned.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  StorageConflict,
  type AccessKeyRecord, type AccountConfigKind, type IamEntityKind, type AccountRecord, type BucketConfigKind, type BucketRecord, type DataPiece,
  type Garbage, type InlineBlob, type InsertVersionOptions, type ListPage, type MetadataStore, type ObjectVersion,
  type PartRecord, type UploadRecord, type VersioningState,
  type WritePrecondition,
} from '../ports.js';
import { compareUtf8, prefixUpperBound, wellFormed } from '../keys.js';
import { MIGRATIONS } from './schema.js';
import type { Acl } from '../../authz/acl/acl.js';

/** Largest number of writes in one transaction; more wait for the next group (bounds latency and event-loop stalls). */
const MAX_GROUP = 512;
/** How long a write waits for another process holding the database lock. */
const BUSY_TIMEOUT_MS = 5000;

type Db = Database.Database;
type Stmt<R = unknown> = Database.Statement<unknown[], R>;

interface AccountRow { id: string; name: string; canonical_id: string; email: string | null; created_at: string }
interface AccessKeyRow {
  access_key_id: string; account_id: string; user_name: string | null; secret_sealed: string;
  status: 'Active' | 'Inactive'; created_at: string;
}
interface BucketRow { name: string; account_id: string; region: string; created_at: string; versioning: VersioningState }
interface VersionRow {
  seq: number; bucket: string; key: string; version_id: string; is_latest: number; is_delete_marker: number; doc: string;
}
interface UploadRow { seq: number; upload_id: string; bucket: string; key: string; initiated: string; doc: string }
interface PartRow {
  upload_id: string; part_number: number; size: number; etag: string; last_modified: string;
  checksum: string | null; piece: string;
}

/** The part of an ObjectVersion that lives in the `doc` JSON column (the rest are columns). */
type VersionDoc = Omit<ObjectVersion, 'bucket' | 'key' | 'versionId' | 'isDeleteMarker' | 'seq' | 'isLatest'>;
/** The part of an UploadRecord that lives in the `doc` JSON column. */
type UploadDoc = Omit<UploadRecord, 'uploadId' | 'bucket' | 'key' | 'initiated'>;

const VERSION_COLS = 'seq, bucket, key, version_id, is_latest, is_delete_marker, doc';
const UPLOAD_COLS = 'seq, upload_id, bucket, key, initiated, doc';

/**
 * Listing queries, exported so a test can assert their plans: each must be one range scan of an
 * index with no temporary sort. `key > ?`/`key >= ?` is the lower bound (the larger of the resume
 * key and the prefix, chosen in JS so SQLite sees a single bound), `key < ?` the prefix's upper bound.
 */
export const LIST_SQL = {
  liveGt: `SELECT ${VERSION_COLS} FROM versions INDEXED BY versions_live
           WHERE bucket = ? AND is_latest = 1 AND is_delete_marker = 0 AND key > ? AND key < ? ORDER BY key LIMIT ?`,
  liveGe: `SELECT ${VERSION_COLS} FROM versions INDEXED BY versions_live
           WHERE bucket = ? AND is_latest = 1 AND is_delete_marker = 0 AND key >= ? AND key < ? ORDER BY key LIMIT ?`,
  liveGtOpen: `SELECT ${VERSION_COLS} FROM versions INDEXED BY versions_live
           WHERE bucket = ? AND is_latest = 1 AND is_delete_marker = 0 AND key > ? ORDER BY key LIMIT ?`,
  liveGeOpen: `SELECT ${VERSION_COLS} FROM versions INDEXED BY versions_live
           WHERE bucket = ? AND is_latest = 1 AND is_delete_marker = 0 AND key >= ? ORDER BY key LIMIT ?`,
  versionsOfKeyBefore: `SELECT ${VERSION_COLS} FROM versions INDEXED BY versions_by_key_seq
           WHERE bucket = ? AND key = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
  versionsGt: `SELECT ${VERSION_COLS} FROM versions INDEXED BY versions_by_key_seq
           WHERE bucket = ? AND key > ? AND key < ? ORDER BY key, seq DESC LIMIT ?`,
  versionsGe: `SELECT ${VERSION_COLS} FROM versions INDEXED BY versions_by_key_seq
           WHERE bucket = ? AND key >= ? AND key < ? ORDER BY key, seq DESC LIMIT ?`,
  versionsGtOpen: `SELECT ${VERSION_COLS} FROM versions INDEXED BY versions_by_key_seq
           WHERE bucket = ? AND key > ? ORDER BY key, seq DESC LIMIT ?`,
  versionsGeOpen: `SELECT ${VERSION_COLS} FROM versions INDEXED BY versions_by_key_seq
           WHERE bucket = ? AND key >= ? ORDER BY key, seq DESC LIMIT ?`,
  uploadsOfKeyAfter: `SELECT ${UPLOAD_COLS} FROM uploads INDEXED BY uploads_by_key
           WHERE bucket = ? AND key = ? AND (initiated, seq) > (?, ?) ORDER BY initiated, seq LIMIT ?`,
  uploadsOfKey: `SELECT ${UPLOAD_COLS} FROM uploads INDEXED BY uploads_by_key
           WHERE bucket = ? AND key = ? ORDER BY initiated, seq LIMIT ?`,
  uploadsGt: `SELECT ${UPLOAD_COLS} FROM uploads INDEXED BY uploads_by_key
           WHERE bucket = ? AND key > ? AND key < ? ORDER BY key, initiated, seq LIMIT ?`,
  uploadsGe: `SELECT ${UPLOAD_COLS} FROM uploads INDEXED BY uploads_by_key
           WHERE bucket = ? AND key >= ? AND key < ? ORDER BY key, initiated, seq LIMIT ?`,
  uploadsGtOpen: `SELECT ${UPLOAD_COLS} FROM uploads INDEXED BY uploads_by_key
           WHERE bucket = ? AND key > ? ORDER BY key, initiated, seq LIMIT ?`,
  uploadsGeOpen: `SELECT ${UPLOAD_COLS} FROM uploads INDEXED BY uploads_by_key
           WHERE bucket = ? AND key >= ? ORDER BY key, initiated, seq LIMIT ?`,
} as const;

type ListName = keyof typeof LIST_SQL;

interface PendingWrite {
  run(): unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Applies the pragmas every connection needs; they are per-connection, not stored in the file. */
function configure(db: Db, path: string): void {
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (path !== ':memory:' && mode !== 'wal') throw new Error(`could not enable WAL on ${path} (got ${String(mode)})`);
  // FULL: the WAL is fsynced at every commit, so an acknowledged write survives power loss
  // (NORMAL would only survive a process crash).
  db.pragma('synchronous = FULL');
  // On macOS fsync() does not flush the drive cache; F_FULLFSYNC does. No effect elsewhere.
  db.pragma('fullfsync = ON');
  db.pragma('checkpoint_fullfsync = ON');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  // Keep the WAL file from staying huge after a burst (it is truncated to this after checkpoints).
  db.pragma('journal_size_limit = 67108864');
  db.pragma('cache_size = -65536');
  db.pragma('temp_store = MEMORY');
}

/** Brings the schema up to date, one migration per transaction. */
function migrate(db: Db): void {
  const version = (): number => Number(db.pragma('user_version', { simple: true }));
  if (version() > MIGRATIONS.length) {
    throw new Error(`metadata schema version ${version()} is newer than this build supports (${MIGRATIONS.length})`);
  }
  for (let target = 1; target <= MIGRATIONS.length; target++) {
    const step = MIGRATIONS[target - 1]!;
    db.transaction(() => {
      // Re-read inside the write lock: another process may have migrated meanwhile.
      if (version() >= target) return;
      db.exec(step.sql);
      db.pragma(`user_version = ${target}`);
    }).immediate();
  }
}

function toAccount(r: AccountRow): AccountRecord {
  return { id: r.id, name: r.name, canonicalId: r.canonical_id, email: r.email, createdAt: r.created_at };
}

function toAccessKey(r: AccessKeyRow): AccessKeyRecord {
  return {
    accessKeyId: r.access_key_id, accountId: r.account_id, userName: r.user_name,
    secretSealed: r.secret_sealed, status: r.status, createdAt: r.created_at,
  };
}

function toBucket(r: BucketRow): BucketRecord {
  return { name: r.name, accountId: r.account_id, region: r.region, createdAt: r.created_at, versioning: r.versioning };
}

function toVersion(r: VersionRow): ObjectVersion {
  const doc = JSON.parse(r.doc) as VersionDoc;
  return {
    bucket: r.bucket, key: r.key, versionId: r.version_id, isDeleteMarker: r.is_delete_marker === 1,
    seq: r.seq, isLatest: r.is_latest === 1,
    size: doc.size, etag: doc.etag, lastModified: doc.lastModified, ownerAccountId: doc.ownerAccountId,
    meta: doc.meta, checksum: doc.checksum, tags: doc.tags, uploadId: doc.uploadId, pieces: doc.pieces, sse: doc.sse,
    ...(doc.acl !== undefined ? { acl: doc.acl } : {}),
  };
}

function versionDoc(v: ObjectVersion): string {
  const doc: VersionDoc = {
    size: v.size, etag: v.etag, lastModified: v.lastModified, ownerAccountId: v.ownerAccountId,
    meta: v.meta, checksum: v.checksum, tags: v.tags, uploadId: v.uploadId, pieces: v.pieces, sse: v.sse, acl: v.acl,
  };
  return JSON.stringify(doc);
}

function toUpload(r: UploadRow): UploadRecord {
  const doc = JSON.parse(r.doc) as UploadDoc;
  return {
    uploadId: r.upload_id, bucket: r.bucket, key: r.key, initiated: r.initiated,
    ownerAccountId: doc.ownerAccountId, meta: doc.meta, tags: doc.tags,
    checksumAlgorithm: doc.checksumAlgorithm, checksumType: doc.checksumType,
    ...(doc.initiatorAccountId !== undefined ? { initiatorAccountId: doc.initiatorAccountId } : {}),
    ...(doc.acl !== undefined ? { acl: doc.acl } : {}),
    ...(doc.sse !== undefined ? { sse: doc.sse } : {}),
  };
}

function uploadDoc(u: UploadRecord): string {
  const doc: UploadDoc = {
    ownerAccountId: u.ownerAccountId, meta: u.meta, tags: u.tags,
    checksumAlgorithm: u.checksumAlgorithm, checksumType: u.checksumType, initiatorAccountId: u.initiatorAccountId, acl: u.acl, sse: u.sse,
  };
  return JSON.stringify(doc);
}

function toPart(r: PartRow): PartRecord {
  return {
    uploadId: r.upload_id, partNumber: r.part_number, size: r.size, etag: r.etag,
    lastModified: r.last_modified, checksum: r.checksum, piece: JSON.parse(r.piece) as DataPiece,
  };
}

/** Blob ids referenced by a stored version document, without building the whole version. */
function piecesOf(r: VersionRow): DataPiece[] {
  return (JSON.parse(r.doc) as VersionDoc).pieces;
}

function page<T>(items: T[], limit: number): ListPage<T> {
  return { items: items.slice(0, limit), truncated: items.length > limit };
}

/** The range bounds for keys > after that start with prefix; undefined when the range is empty. */
function keyRange(prefix: string, after: string): { lower: string; inclusive: boolean; upper: string | undefined } | undefined {
  const p = wellFormed(prefix);
  const a = wellFormed(after);
  const upper = prefixUpperBound(p);
  if (upper !== undefined && compareUtf8(a, upper) >= 0) return undefined;
  // Whichever of "key > after" and "key >= prefix" is tighter becomes the single lower bound.
  return compareUtf8(a, p) >= 0 ? { lower: a, inclusive: false, upper } : { lower: p, inclusive: true, upper };
}

/** SqliteMetadataStore implements the metadata port on one SQLite file (or ':memory:'). */
export class SqliteMetadataStore implements MetadataStore {
  private queue: PendingWrite[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly s;
  private readonly lists: Record<ListName, Stmt<unknown>>;

  private constructor(private readonly db: Db) {
    const p = <R>(sql: string): Stmt<R> => db.prepare<unknown[], R>(sql);
    this.s = {
      begin: p('BEGIN IMMEDIATE'),
      commit: p('COMMIT'),
      rollback: p('ROLLBACK'),
      savepoint: p('SAVEPOINT w'),
      release: p('RELEASE w'),
      rollbackTo: p('ROLLBACK TO w'),

      insertAccount: p('INSERT INTO accounts (id, name, canonical_id, email, created_at) VALUES (?, ?, ?, ?, ?)'),
      accountById: p<AccountRow>('SELECT * FROM accounts WHERE id = ?'),
      accountByName: p<AccountRow>('SELECT * FROM accounts WHERE name = ?'),
      accountByCanonicalId: p<AccountRow>('SELECT * FROM accounts WHERE canonical_id = ?'),
      allAccounts: p<AccountRow>('SELECT * FROM accounts ORDER BY id'),
      insertAccessKey: p(`INSERT INTO access_keys (access_key_id, account_id, user_name, secret_sealed, status, created_at)
                          VALUES (?, ?, ?, ?, ?, ?)`),
      accessKey: p<AccessKeyRow>('SELECT * FROM access_keys WHERE access_key_id = ?'),
      accessKeysOf: p<AccessKeyRow>('SELECT * FROM access_keys WHERE account_id = ? ORDER BY created_at, access_key_id'),
      deleteAccessKey: p('DELETE FROM access_keys WHERE access_key_id = ?'),
      setAccessKeyStatus: p('UPDATE access_keys SET status = ? WHERE access_key_id = ?'),
      iamEntity: p<{ doc: string }>('SELECT doc FROM iam_entities WHERE account_id = ? AND kind = ? AND name_key = ?'),
      insertIamEntity: p('INSERT INTO iam_entities (account_id, kind, name_key, doc) VALUES (?, ?, ?, ?)'),
      updateIamEntity: p('UPDATE iam_entities SET doc = ? WHERE account_id = ? AND kind = ? AND name_key = ?'),
      deleteIamEntity: p('DELETE FROM iam_entities WHERE account_id = ? AND kind = ? AND name_key = ?'),
      iamEntities: p<{ doc: string }>('SELECT doc FROM iam_entities WHERE account_id = ? AND kind = ? ORDER BY name_key'),

      accountConfig: p<{ value: string }>('SELECT value FROM account_configs WHERE account_id = ? AND kind = ?'),
      putAccountConfig: p(`INSERT INTO account_configs (account_id, kind, value) VALUES (?, ?, ?)
                           ON CONFLICT (account_id, kind) DO UPDATE SET value = excluded.value`),
      deleteAccountConfig: p('DELETE FROM account_configs WHERE account_id = ? AND kind = ?'),
      insertBucket: p('INSERT INTO buckets (name, account_id, region, created_at, versioning) VALUES (?, ?, ?, ?, ?)'),
      bucket: p<BucketRow>('SELECT * FROM buckets WHERE name = ?'),
      allBuckets: p<BucketRow>('SELECT * FROM buckets ORDER BY name'),
      bucketsOf: p<BucketRow>('SELECT * FROM buckets WHERE account_id = ? ORDER BY name'),
      deleteBucket: p('DELETE FROM buckets WHERE name = ?'),
      setVersioning: p('UPDATE buckets SET versioning = ? WHERE name = ?'),
      anyVersion: p('SELECT 1 FROM versions WHERE bucket = ? LIMIT 1'),
      anyUpload: p('SELECT 1 FROM uploads WHERE bucket = ? LIMIT 1'),
      config: p<{ value: string }>('SELECT value FROM bucket_configs WHERE bucket = ? AND kind = ?'),
      putConfig: p(`INSERT INTO bucket_configs (bucket, kind, value) VALUES (?, ?, ?)
                    ON CONFLICT (bucket, kind) DO UPDATE SET value = excluded.value`),
      deleteConfig: p('DELETE FROM bucket_configs WHERE bucket = ? AND kind = ?'),
      deleteConfigs: p('DELETE FROM bucket_configs WHERE bucket = ?'),

      latest: p<VersionRow>(`SELECT ${VERSION_COLS} FROM versions WHERE bucket = ? AND key = ? AND is_latest = 1`),
      version: p<VersionRow>(`SELECT ${VERSION_COLS} FROM versions WHERE bucket = ? AND key = ? AND version_id = ?`),
      insertVersion: p(`INSERT INTO versions (bucket, key, version_id, is_latest, is_delete_marker, doc)
                        VALUES (?, ?, ?, 1, ?, ?)`),
      clearLatest: p('UPDATE versions SET is_latest = 0 WHERE bucket = ? AND key = ? AND is_latest = 1'),
      deleteVersion: p('DELETE FROM versions WHERE seq = ?'),
      promoteNewest: p(`UPDATE versions SET is_latest = 1 WHERE seq =
                        (SELECT seq FROM versions WHERE bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1)`),
      setTags: p(`UPDATE versions SET doc = json_set(doc, '$.tags', json(?))
                  WHERE bucket = ? AND key = ? AND version_id = ?`),
      setAcl: p(`UPDATE versions SET doc = json_set(doc, '$.acl', json(?))
                 WHERE bucket = ? AND key = ? AND version_id = ? AND is_delete_marker = 0`),
      countLive: p<{ n: number }>(`SELECT count(*) AS n FROM versions INDEXED BY versions_live
                                   WHERE bucket = ? AND is_latest = 1 AND is_delete_marker = 0`),

      insertUpload: p('INSERT INTO uploads (upload_id, bucket, key, initiated, doc) VALUES (?, ?, ?, ?, ?)'),
      upload: p<UploadRow>(`SELECT ${UPLOAD_COLS} FROM uploads WHERE upload_id = ?`),
      deleteUpload: p('DELETE FROM uploads WHERE upload_id = ?'),
      part: p<PartRow>('SELECT * FROM parts WHERE upload_id = ? AND part_number = ?'),
      partsOf: p<PartRow>('SELECT * FROM parts WHERE upload_id = ? ORDER BY part_number'),
      partsAfter: p<PartRow>('SELECT * FROM parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?'),
      putPart: p(`INSERT INTO parts (upload_id, part_number, size, etag, last_modified, checksum, piece)
                  VALUES (?, ?, ?, ?, ?, ?, ?)
                  ON CONFLICT (upload_id, part_number) DO UPDATE SET size = excluded.size, etag = excluded.etag,
                    last_modified = excluded.last_modified, checksum = excluded.checksum, piece = excluded.piece`),
      deleteParts: p('DELETE FROM parts WHERE upload_id = ?'),

      insertInline: p('INSERT INTO inline_blobs (blob_id, data) VALUES (?, ?)'),
      inlineData: p<Buffer>('SELECT data FROM inline_blobs WHERE blob_id = ?').pluck(),
      deleteInline: p('DELETE FROM inline_blobs WHERE blob_id = ?'),
      addRef: p('INSERT INTO blob_refs (blob_id, refs) VALUES (?, 1) ON CONFLICT (blob_id) DO UPDATE SET refs = refs + 1'),
      dropLastRef: p('DELETE FROM blob_refs WHERE blob_id = ? AND refs <= 1'),
      decRef: p('UPDATE blob_refs SET refs = refs - 1 WHERE blob_id = ?'),
      refsPage: p<string>('SELECT blob_id FROM blob_refs WHERE blob_id > ? ORDER BY blob_id LIMIT ?').pluck(),
    };
    const lists = {} as Record<ListName, Stmt<unknown>>;
    for (const name of Object.keys(LIST_SQL) as ListName[]) lists[name] = p(LIST_SQL[name]);
    this.lists = lists;
  }

  /** Opens (creating and migrating as needed) the database at `path`, or an in-memory one. */
  static open(path: string): SqliteMetadataStore {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
    try {
      configure(db, path);
      migrate(db);
      return new SqliteMetadataStore(db);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  // ---- group commit -------------------------------------------------------------------------

  /** Runs a synchronous read, turning a throw into a rejected promise. */
  private read<T>(fn: () => T): Promise<T> {
    try {
      if (this.closed) throw new Error('metadata store is closed');
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Queues a write for the next group commit; it settles only after that COMMIT. */
  private write<T>(run: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('metadata store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (v: unknown) => void, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits up to MAX_GROUP queued writes in one transaction, each isolated by a savepoint. */
  private flush(): void {
    this.flushScheduled = false;
    const group = this.queue.splice(0, MAX_GROUP);
    if (this.queue.length > 0) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    if (group.length === 0) return;

    const outcomes: Outcome[] = [];
    let fatal: { error: unknown } | undefined;
    try {
      this.s.begin.run();
      for (const w of group) {
        this.s.savepoint.run();
        try {
          const value = w.run();
          this.s.release.run();
          outcomes.push({ ok: true, value });
        } catch (error) {
          outcomes.push({ ok: false, error });
          // A statement error leaves the transaction open and only this write is undone; an
          // I/O or disk-full error may have rolled everything back, and then ROLLBACK TO throws
          // and the whole group fails below.
          if (!this.db.inTransaction) throw error;
          this.s.rollbackTo.run();
          this.s.release.run();
        }
      }
      this.s.commit.run();
    } catch (error) {
      fatal = { error };
      if (this.db.inTransaction) {
        try { this.s.rollback.run(); } catch { /* the connection already rolled back */ }
      }
    }

    for (let i = 0; i < group.length; i++) {
      const w = group[i]!;
      const o = outcomes[i];
      // A write that failed on its own reports its own error, the others the group's failure.
      if (o !== undefined && !o.ok) w.reject(o.error);
      else if (fatal !== undefined) w.reject(fatal.error);
      else w.resolve(o!.value);
    }
  }

  // ---- helpers used inside write transactions ----------------------------------------------

  private requireBucket(name: string): void {
    if (this.s.bucket.get(name) === undefined) throw new StorageConflict('no-such-bucket');
  }

  private addRefs(pieces: readonly DataPiece[]): void {
    for (const piece of pieces) this.s.addRef.run(piece.blobId);
  }

  /**
   * Drops one reference per piece; blob-store blobs left with none are appended to
   * `garbage`, inline ones are deleted here (they live in this transaction's database).
   */
  private dropRefs(pieces: readonly DataPiece[], garbage: string[]): void {
    for (const piece of pieces) {
      if (this.s.dropLastRef.run(piece.blobId).changes > 0) {
        if (piece.tier === 'inline') this.s.deleteInline.run(piece.blobId);
        else garbage.push(piece.blobId);
      } else {
        this.s.decRef.run(piece.blobId);
      }
    }
  }

  private storeInline(inline: readonly InlineBlob[] | undefined): void {
    for (const b of inline ?? []) this.s.insertInline.run(b.blobId, b.data);
  }

  readInline(blobId: string): Promise<Buffer | undefined> {
    return this.read(() => this.s.inlineData.get(blobId));
  }

  private insertVersionNow(v: ObjectVersion, opts: InsertVersionOptions, garbage: string[]): void {
    this.requireBucket(v.bucket);
    if (opts.precondition) {
      const current = this.s.latest.get(v.bucket, v.key);
      opts.precondition(current === undefined ? undefined : toVersion(current));
    }
    // References are taken before any are dropped, so a blob shared by the replaced null
    // version and the new one (a copy onto itself) never passes through zero.
    this.storeInline(opts.inline);
    this.addRefs(v.pieces);
    if (opts.replaceNullVersion) {
      const nullVersion = this.s.version.get(v.bucket, v.key, 'null');
      if (nullVersion !== undefined) {
        this.s.deleteVersion.run(nullVersion.seq);
        this.dropRefs(piecesOf(nullVersion), garbage);
      }
    }
    this.s.clearLatest.run(v.bucket, v.key);
    this.s.insertVersion.run(v.bucket, v.key, v.versionId, v.isDeleteMarker ? 1 : 0, versionDoc(v));
  }

  // ---- accounts and keys -------------------------------------------------------------------

  createAccount(a: AccountRecord): Promise<void> {
    return this.write(() => {
      this.s.insertAccount.run(a.id, a.name, a.canonicalId, a.email, a.createdAt);
    });
  }

  getAccount(id: string): Promise<AccountRecord | undefined> {
    return this.read(() => {
      const r = this.s.accountById.get(id);
      return r && toAccount(r);
    });
  }

  getAccountByName(name: string): Promise<AccountRecord | undefined> {
    return this.read(() => {
      const r = this.s.accountByName.get(name);
      return r && toAccount(r);
    });
  }

  getAccountByCanonicalId(canonicalId: string): Promise<AccountRecord | undefined> {
    return this.read(() => {
      const r = this.s.accountByCanonicalId.get(canonicalId);
      return r && toAccount(r);
    });
  }

  listAccounts(): Promise<AccountRecord[]> {
    return this.read(() => this.s.allAccounts.all().map(toAccount));
  }

  createAccessKey(k: AccessKeyRecord): Promise<void> {
    return this.write(() => {
      this.s.insertAccessKey.run(k.accessKeyId, k.accountId, k.userName, k.secretSealed, k.status, k.createdAt);
    });
  }

  getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    return this.read(() => {
      const r = this.s.accessKey.get(accessKeyId);
      return r && toAccessKey(r);
    });
  }

  listAccessKeys(accountId: string): Promise<AccessKeyRecord[]> {
    return this.read(() => this.s.accessKeysOf.all(accountId).map(toAccessKey));
  }

  deleteAccessKey(accessKeyId: string): Promise<boolean> {
    return this.write(() => this.s.deleteAccessKey.run(accessKeyId).changes > 0);
  }

  setAccessKeyStatus(accessKeyId: string, status: AccessKeyRecord['status']): Promise<boolean> {
    return this.write(() => this.s.setAccessKeyStatus.run(status, accessKeyId).changes > 0);
  }

  getIamEntity(accountId: string, kind: IamEntityKind, name: string): Promise<string | undefined> {
    return this.read(() => this.s.iamEntity.get(accountId, kind, name.toLowerCase())?.doc);
  }

  putIamEntity(accountId: string, kind: IamEntityKind, name: string, doc: string, mode: 'create' | 'replace'): Promise<void> {
    return this.write(() => {
      const key = name.toLowerCase();
      if (mode === 'replace') {
        if (this.s.updateIamEntity.run(doc, accountId, kind, key).changes === 0) throw new StorageConflict('no-such-entity');
        return;
      }
      if (this.s.iamEntity.get(accountId, kind, key)) throw new StorageConflict('entity-exists');
      this.s.insertIamEntity.run(accountId, kind, key, doc);
    });
  }

  deleteIamEntity(accountId: string, kind: IamEntityKind, name: string): Promise<boolean> {
    return this.write(() => this.s.deleteIamEntity.run(accountId, kind, name.toLowerCase()).changes > 0);
  }

  listIamEntities(accountId: string, kind: IamEntityKind): Promise<string[]> {
    return this.read(() => this.s.iamEntities.all(accountId, kind).map((r) => r.doc));
  }

  getAccountConfig(accountId: string, kind: AccountConfigKind): Promise<string | undefined> {
    return this.read(() => this.s.accountConfig.get(accountId, kind)?.value);
  }

  putAccountConfig(accountId: string, kind: AccountConfigKind, value: string | null): Promise<void> {
    return this.write(() => {
      if (value === null) this.s.deleteAccountConfig.run(accountId, kind);
      else this.s.putAccountConfig.run(accountId, kind, value);
    });
  }

  // ---- buckets -----------------------------------------------------------------------------

  createBucket(b: BucketRecord, configs: Partial<Record<BucketConfigKind, string>> = {}): Promise<void> {
    return this.write(() => {
      if (this.s.bucket.get(b.name) !== undefined) throw new StorageConflict('bucket-exists');
      this.s.insertBucket.run(b.name, b.accountId, b.region, b.createdAt, b.versioning);
      for (const [kind, value] of Object.entries(configs)) if (value !== undefined) this.s.putConfig.run(b.name, kind, value);
    });
  }

  /**
   * Bucket records, read on every request, are cached (existing buckets only). Every write
   * that changes one goes through this store and drops its entry, inside the transaction and
   * again after the commit; other processes (the admin CLI) never change buckets.
   */
  private readonly bucketCache = new Map<string, BucketRecord>();

  private forgetBucket<T>(name: string, p: Promise<T>): Promise<T> {
    this.bucketCache.delete(name);
    return p.finally(() => this.bucketCache.delete(name));
  }

  getBucket(name: string): Promise<BucketRecord | undefined> {
    const hit = this.bucketCache.get(name);
    if (hit) return Promise.resolve({ ...hit });
    return this.read(() => {
      const r = this.s.bucket.get(name);
      if (!r) return undefined;
      const b = toBucket(r);
      if (this.bucketCache.size >= 10_000) this.bucketCache.clear();
      this.bucketCache.set(name, b);
      return { ...b };
    });
  }

  listBuckets(accountId?: string): Promise<BucketRecord[]> {
    return this.read(() =>
      (accountId === undefined ? this.s.allBuckets.all() : this.s.bucketsOf.all(accountId)).map(toBucket));
  }

  deleteBucket(name: string): Promise<void> {
    return this.forgetBucket(name, this.write(() => {
      this.bucketCache.delete(name);
      this.requireBucket(name);
      if (this.s.anyVersion.get(name) !== undefined || this.s.anyUpload.get(name) !== undefined) {
        throw new StorageConflict('bucket-not-empty');
      }
      this.s.deleteConfigs.run(name);
      this.s.deleteBucket.run(name);
    }));
  }

  setVersioning(name: string, state: VersioningState): Promise<void> {
    return this.forgetBucket(name, this.write(() => {
      this.bucketCache.delete(name);
      if (this.s.setVersioning.run(state, name).changes === 0) throw new StorageConflict('no-such-bucket');
    }));
  }

  getBucketConfig(name: string, kind: BucketConfigKind): Promise<string | undefined> {
    return this.read(() => this.s.config.get(name, kind)?.value);
  }

  putBucketConfig(name: string, kind: BucketConfigKind, value: string | null): Promise<void> {
    return this.write(() => {
      this.requireBucket(name);
      if (value === null) this.s.deleteConfig.run(name, kind);
      else this.s.putConfig.run(name, kind, value);
    });
  }

  // ---- objects -----------------------------------------------------------------------------

  getObjectVersion(bucket: string, key: string, versionId?: string): Promise<ObjectVersion | undefined> {
    return this.read(() => {
      const r = versionId === undefined ? this.s.latest.get(bucket, key) : this.s.version.get(bucket, key, versionId);
      return r && toVersion(r);
    });
  }

  insertVersion(v: ObjectVersion, opts: InsertVersionOptions): Promise<Garbage> {
    return this.write(() => {
      const garbage: string[] = [];
      this.insertVersionNow(v, opts, garbage);
      return { blobIds: garbage };
    });
  }

  removeVersion(bucket: string, key: string, versionId: string, precondition?: WritePrecondition): Promise<{ removed: ObjectVersion | undefined } & Garbage> {
    return this.write(() => {
      const row = this.s.version.get(bucket, key, versionId);
      precondition?.(row === undefined ? undefined : toVersion(row));
      if (row === undefined) return { removed: undefined, blobIds: [] };
      const removed = toVersion(row);
      const garbage: string[] = [];
      this.s.deleteVersion.run(row.seq);
      this.dropRefs(removed.pieces, garbage);
      if (row.is_latest === 1) this.s.promoteNewest.run(bucket, key);
      return { removed, blobIds: garbage };
    });
  }

  setObjectTags(bucket: string, key: string, versionId: string, tags: Record<string, string>): Promise<boolean> {
    return this.write(() => this.s.setTags.run(JSON.stringify(tags), bucket, key, versionId).changes > 0);
  }

  setObjectAcl(bucket: string, key: string, versionId: string, acl: Acl): Promise<boolean> {
    return this.write(() => this.s.setAcl.run(JSON.stringify(acl), bucket, key, versionId).changes > 0);
  }

  listLatest(bucket: string, opts: { prefix: string; after: string; limit: number }): Promise<ListPage<ObjectVersion>> {
    return this.read(() => {
      const limit = Math.max(0, opts.limit);
      const range = keyRange(opts.prefix, opts.after);
      if (range === undefined) return { items: [], truncated: false };
      const rows = this.rangeQuery<VersionRow>('live', bucket, range, [limit + 1]);
      return page(rows.map(toVersion), limit);
    });
  }

  listVersions(
    bucket: string,
    opts: { prefix: string; afterKey: string; afterSeq?: number; limit: number },
  ): Promise<ListPage<ObjectVersion>> {
    return this.read(() => {
      const limit = Math.max(0, opts.limit);
      const want = limit + 1;
      const rows: VersionRow[] = [];
      const prefix = wellFormed(opts.prefix);
      const afterKey = wellFormed(opts.afterKey);
      // The rest of afterKey's versions first (older than afterSeq), then the keys after it:
      // two index range scans instead of one OR that SQLite could not use as a range.
      if (opts.afterSeq !== undefined && afterKey.startsWith(prefix)) {
        rows.push(...(this.lists.versionsOfKeyBefore.all(bucket, afterKey, opts.afterSeq, want) as VersionRow[]));
      }
      const range = keyRange(prefix, afterKey);
      if (rows.length < want && range !== undefined) {
        rows.push(...this.rangeQuery<VersionRow>('versions', bucket, range, [want - rows.length]));
      }
      return page(rows.map(toVersion), limit);
    });
  }

  countObjects(bucket: string): Promise<number> {
    return this.read(() => this.s.countLive.get(bucket)!.n);
  }

  /** Runs the `<family>{Gt,Ge}{,Open}` listing statement matching the range. */
  private rangeQuery<R>(
    family: 'live' | 'versions' | 'uploads',
    bucket: string,
    range: { lower: string; inclusive: boolean; upper: string | undefined },
    tail: unknown[],
  ): R[] {
    const name = `${family}${range.inclusive ? 'Ge' : 'Gt'}${range.upper === undefined ? 'Open' : ''}` as ListName;
    const bounds = range.upper === undefined ? [range.lower] : [range.lower, range.upper];
    return this.lists[name].all(bucket, ...bounds, ...tail) as R[];
  }

  // ---- multipart ---------------------------------------------------------------------------

  createUpload(u: UploadRecord): Promise<void> {
    return this.write(() => {
      this.requireBucket(u.bucket);
      this.s.insertUpload.run(u.uploadId, u.bucket, u.key, u.initiated, uploadDoc(u));
    });
  }

  getUpload(uploadId: string): Promise<UploadRecord | undefined> {
    return this.read(() => {
      const r = this.s.upload.get(uploadId);
      return r && toUpload(r);
    });
  }

  listUploads(
    bucket: string,
    opts: { prefix: string; afterKey: string; afterUploadId?: string; limit: number },
  ): Promise<ListPage<UploadRecord>> {
    return this.read(() => {
      const limit = Math.max(0, opts.limit);
      const want = limit + 1;
      const rows: UploadRow[] = [];
      const prefix = wellFormed(opts.prefix);
      const afterKey = wellFormed(opts.afterKey);
      if (opts.afterUploadId !== undefined && afterKey.startsWith(prefix)) {
        const marker = this.s.upload.get(opts.afterUploadId);
        // A marker upload completed or aborted since the previous page cannot be located, so
        // the key's remaining uploads are listed from its start: possibly again, never skipped.
        const more = marker !== undefined && marker.bucket === bucket && marker.key === afterKey
          ? this.lists.uploadsOfKeyAfter.all(bucket, afterKey, marker.initiated, marker.seq, want)
          : this.lists.uploadsOfKey.all(bucket, afterKey, want);
        rows.push(...(more as UploadRow[]));
      }
      const range = keyRange(prefix, afterKey);
      if (rows.length < want && range !== undefined) {
        rows.push(...this.rangeQuery<UploadRow>('uploads', bucket, range, [want - rows.length]));
      }
      return page(rows.map(toUpload), limit);
    });
  }

  putPart(p: PartRecord, inline?: InlineBlob): Promise<Garbage> {
    return this.write(() => {
      if (this.s.upload.get(p.uploadId) === undefined) throw new StorageConflict('no-such-upload');
      const garbage: string[] = [];
      const old = this.s.part.get(p.uploadId, p.partNumber);
      // Add before dropping, so re-putting a part with the very same blob never frees it.
      this.storeInline(inline ? [inline] : undefined);
      this.addRefs([p.piece]);
      if (old !== undefined) this.dropRefs([JSON.parse(old.piece) as DataPiece], garbage);
      this.s.putPart.run(p.uploadId, p.partNumber, p.size, p.etag, p.lastModified, p.checksum, JSON.stringify(p.piece));
      return { blobIds: garbage };
    });
  }

  listParts(uploadId: string, opts: { afterPartNumber: number; limit: number }): Promise<ListPage<PartRecord>> {
    return this.read(() => {
      const limit = Math.max(0, opts.limit);
      return page(this.s.partsAfter.all(uploadId, opts.afterPartNumber, limit + 1).map(toPart), limit);
    });
  }

  completeUpload(uploadId: string, v: ObjectVersion, opts: InsertVersionOptions): Promise<Garbage> {
    return this.write(() => {
      const upload = this.s.upload.get(uploadId);
      if (upload === undefined) throw new StorageConflict('no-such-upload');
      if (upload.bucket !== v.bucket || upload.key !== v.key) {
        throw new Error(`completeUpload: version ${v.bucket}/${v.key} does not belong to upload ${uploadId}`);
      }
      const garbage: string[] = [];
      // The version takes its references first, so the parts it uses keep a count above zero
      // when the parts' own references are dropped; only unused parts become garbage.
      this.insertVersionNow(v, opts, garbage);
      const parts = this.s.partsOf.all(uploadId);
      this.s.deleteParts.run(uploadId);
      this.s.deleteUpload.run(uploadId);
      this.dropRefs(parts.map((r) => JSON.parse(r.piece) as DataPiece), garbage);
      return { blobIds: garbage };
    });
  }

  abortUpload(uploadId: string): Promise<Garbage & { found: boolean }> {
    return this.write(() => {
      if (this.s.upload.get(uploadId) === undefined) return { found: false, blobIds: [] };
      const parts = this.s.partsOf.all(uploadId);
      const garbage: string[] = [];
      this.s.deleteParts.run(uploadId);
      this.s.deleteUpload.run(uploadId);
      this.dropRefs(parts.map((r) => JSON.parse(r.piece) as DataPiece), garbage);
      return { found: true, blobIds: garbage };
    });
  }

  // ---- maintenance -------------------------------------------------------------------------

  /** Pages through blob_refs: an open SQLite cursor would block the writer between yields. */
  async *referencedBlobIds(): AsyncIterable<string> {
    let after = '';
    while (true) {
      const ids = await this.read(() => this.s.refsPage.all(after, 1000));
      yield* ids;
      if (ids.length < 1000) return;
      after = ids[ids.length - 1]!;
    }
  }

  /** Commits every queued write, then closes the database (checkpointing the WAL). */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    try {
      while (this.queue.length > 0) this.flush();
    } finally {
      this.closed = true;
      this.db.close();
    }
    return Promise.resolve();
  }
}
