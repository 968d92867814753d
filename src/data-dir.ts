/**
 * The embedded default's data directory: SQLite metadata, encrypted blob files, the master
 * key file and a key check. Opening it is where a missing or wrong master key is caught:
 * that is a start-up error, never a silent fresh start over existing data.
 *
 *   <dataDir>/meta.sqlite          metadata (WAL)
 *   <dataDir>/blobs/               encrypted object data, named by random id
 *   <dataDir>/keys/master.json     service master keys (0600), unless given by configuration
 *   <dataDir>/keys/check.json      a value wrapped under the master key, proving it matches
 *   <dataDir>/tls/                 self-signed certificate when none is configured
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Keyring, type WrappedKey } from './crypto/keyring.js';
import { FsBlobStore } from './storage/fs/blob-store.js';
import { SqliteMetadataStore } from './storage/sqlite/metadata-store.js';
import type { BlobStore, MetadataStore } from './storage/ports.js';

export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

export interface OpenedDataDir {
  meta: MetadataStore;
  blobs: BlobStore;
  keyring: Keyring;
  fresh: boolean;
}

const CHECK_AAD = Buffer.from('kura-master-key-check-v1');

async function loadKeyring(dataDir: string, masterKey: string | undefined, fresh: boolean): Promise<Keyring> {
  if (masterKey !== undefined) {
    const key = Buffer.from(masterKey, 'base64');
    if (key.length !== 32) throw new StartupError('masterKey must be base64 of exactly 32 bytes');
    return Keyring.fromKeys([{ id: 'config', key }], 'config');
  }
  const path = join(dataDir, 'keys', 'master.json');
  if (existsSync(path)) {
    try {
      return await Keyring.load(path);
    } catch (e) {
      throw new StartupError(`cannot load master key ${path}: ${(e as Error).message}`);
    }
  }
  if (!fresh) throw new StartupError(`master key file ${path} is missing but ${dataDir} holds data: refusing to start (restore the key file or configure masterKey)`);
  await mkdir(join(dataDir, 'keys'), { recursive: true, mode: 0o700 });
  return Keyring.create(path);
}

async function verifyKeyCheck(dataDir: string, keyring: Keyring, fresh: boolean): Promise<void> {
  const path = join(dataDir, 'keys', 'check.json');
  if (!existsSync(path)) {
    if (!fresh) throw new StartupError(`key check ${path} is missing from a data directory that holds data`);
    await mkdir(join(dataDir, 'keys'), { recursive: true, mode: 0o700 });
    await writeFile(path, JSON.stringify(keyring.wrap(Buffer.alloc(32), CHECK_AAD)), { mode: 0o600 });
    return;
  }
  const w = JSON.parse(await readFile(path, 'utf8')) as WrappedKey;
  try {
    keyring.unwrap(w, CHECK_AAD);
  } catch {
    throw new StartupError('the master key does not match this data directory (key check failed): refusing to start');
  }
}

/** Opens (or, when empty, initialises) the data directory. */
export async function openDataDir(dataDir: string, opts: { masterKey?: string | undefined; create: boolean }): Promise<OpenedDataDir> {
  const dbPath = join(dataDir, 'meta.sqlite');
  const fresh = !existsSync(dbPath);
  if (fresh && !opts.create) throw new StartupError(`${dataDir} is not a Kura data directory (no meta.sqlite); start the server once to create it`);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dataDir, 0o700).catch(() => undefined);
  const keyring = await loadKeyring(dataDir, opts.masterKey, fresh);
  await verifyKeyCheck(dataDir, keyring, fresh);
  const meta = SqliteMetadataStore.open(dbPath);
  const blobs = await FsBlobStore.open(join(dataDir, 'blobs'));
  return { meta, blobs, keyring, fresh };
}
