/**
 * The SQLite schema as an append-only list of migrations. Migration N (1-based) moves the
 * database from `PRAGMA user_version = N-1` to N. A shipped migration is never edited:
 * databases in the field have already run it, so a change is always a new entry at the end.
 */

/** One schema step, applied in its own transaction together with the user_version bump. */
export interface Migration {
  /** What the step does, for logs and for the reader. */
  description: string;
  sql: string;
}

/** Every migration, in order; index i brings user_version from i to i + 1. */
export const MIGRATIONS: readonly Migration[] = [
  {
    description: 'initial schema: accounts, keys, buckets, versions, uploads, parts, blob references',
    // STRICT tables make SQLite reject a value of the wrong type instead of silently storing it.
    // Keys are TEXT with the default BINARY collation: memcmp over UTF-8, which is S3's order.
    sql: `
      CREATE TABLE accounts (
        id           TEXT PRIMARY KEY,
        name         TEXT NOT NULL UNIQUE,
        canonical_id TEXT NOT NULL UNIQUE,
        email        TEXT,
        created_at   TEXT NOT NULL
      ) STRICT;

      CREATE TABLE access_keys (
        access_key_id TEXT PRIMARY KEY,
        account_id    TEXT NOT NULL REFERENCES accounts(id),
        user_name     TEXT,
        secret_sealed TEXT NOT NULL,
        status        TEXT NOT NULL CHECK (status IN ('Active', 'Inactive')),
        created_at    TEXT NOT NULL
      ) STRICT;
      CREATE INDEX access_keys_by_account ON access_keys(account_id);

      CREATE TABLE buckets (
        name       TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(id),
        region     TEXT NOT NULL,
        created_at TEXT NOT NULL,
        versioning TEXT NOT NULL CHECK (versioning IN ('Unversioned', 'Enabled', 'Suspended'))
      ) STRICT;
      CREATE INDEX buckets_by_account ON buckets(account_id, name);

      CREATE TABLE bucket_configs (
        bucket TEXT NOT NULL REFERENCES buckets(name),
        kind   TEXT NOT NULL,
        value  TEXT NOT NULL,
        PRIMARY KEY (bucket, kind)
      ) STRICT, WITHOUT ROWID;

      -- seq is AUTOINCREMENT so it is never reused, even after the newest row is deleted:
      -- it orders versions newest-first and is handed out as a listing resume token.
      CREATE TABLE versions (
        seq              INTEGER PRIMARY KEY AUTOINCREMENT,
        bucket           TEXT NOT NULL REFERENCES buckets(name),
        key              TEXT NOT NULL,
        version_id       TEXT NOT NULL,
        is_latest        INTEGER NOT NULL CHECK (is_latest IN (0, 1)),
        is_delete_marker INTEGER NOT NULL CHECK (is_delete_marker IN (0, 1)),
        doc              TEXT NOT NULL
      ) STRICT;
      -- GET ?versionId= and the uniqueness of a version id within a key.
      CREATE UNIQUE INDEX versions_by_id ON versions(bucket, key, version_id);
      -- ListObjectVersions (key ASC, newest first) and recomputing the latest after a removal.
      CREATE INDEX versions_by_key_seq ON versions(bucket, key, seq DESC);
      -- At most one latest row per key, and the plain GET lookup (delete markers included).
      CREATE UNIQUE INDEX versions_latest ON versions(bucket, key) WHERE is_latest = 1;
      -- ListObjects: only live objects are in it, so a listing never wades through old
      -- versions or delete markers however many a key has accumulated.
      CREATE INDEX versions_live ON versions(bucket, key) WHERE is_latest = 1 AND is_delete_marker = 0;

      CREATE TABLE uploads (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        upload_id  TEXT NOT NULL UNIQUE,
        bucket     TEXT NOT NULL REFERENCES buckets(name),
        key        TEXT NOT NULL,
        initiated  TEXT NOT NULL,
        doc        TEXT NOT NULL
      ) STRICT;
      CREATE INDEX uploads_by_key ON uploads(bucket, key, initiated, seq);

      CREATE TABLE parts (
        upload_id     TEXT NOT NULL REFERENCES uploads(upload_id),
        part_number   INTEGER NOT NULL,
        size          INTEGER NOT NULL,
        etag          TEXT NOT NULL,
        last_modified TEXT NOT NULL,
        checksum      TEXT,
        piece         TEXT NOT NULL,
        PRIMARY KEY (upload_id, part_number)
      ) STRICT, WITHOUT ROWID;

      -- Reference counts of blobs used by versions and parts. A blob becomes garbage exactly
      -- when its count drops to zero, which stays right even if two versions share a blob
      -- (e.g. a copy that reuses its source's data), and start-up GC reads this table alone.
      CREATE TABLE blob_refs (
        blob_id TEXT PRIMARY KEY,
        refs    INTEGER NOT NULL CHECK (refs > 0)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    description: 'inline tier: small pieces of ciphertext stored with the metadata',
    // Small objects live here instead of in blob files: one transaction (one fsync, shared by
    // a whole group commit) makes both data and metadata durable, and a GET reads no file.
    sql: `
      CREATE TABLE inline_blobs (
        blob_id TEXT PRIMARY KEY,
        data    BLOB NOT NULL
      ) STRICT;
    `,
  },
  {
    description: 'account-level configuration documents (Block Public Access)',
    sql: `
      CREATE TABLE account_configs (
        account_id TEXT NOT NULL REFERENCES accounts(id),
        kind       TEXT NOT NULL,
        value      TEXT NOT NULL,
        PRIMARY KEY (account_id, kind)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    description: 'explicit Object Ownership on buckets created before ownership modes existed',
    // Those buckets behaved as BucketOwnerEnforced; without a row they would become
    // ObjectWriter (the mode of a bucket whose ownership controls were deleted).
    sql: `
      INSERT INTO bucket_configs (bucket, kind, value)
        SELECT name, 'ownership', 'BucketOwnerEnforced' FROM buckets
        WHERE name NOT IN (SELECT bucket FROM bucket_configs WHERE kind = 'ownership');
    `,
  },
  {
    description: 'IAM entities (users, groups, roles, managed policies, MFA devices, organizations)',
    // Documents owned by src/iam: IAM data is small per account and read through a cache, so
    // relationships live inside the documents rather than in join tables.
    sql: `
      CREATE TABLE iam_entities (
        account_id TEXT NOT NULL,
        kind       TEXT NOT NULL,
        name_key   TEXT NOT NULL,
        doc        TEXT NOT NULL,
        PRIMARY KEY (account_id, kind, name_key)
      ) STRICT, WITHOUT ROWID;
    `,
  },
];
