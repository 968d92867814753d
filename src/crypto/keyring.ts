/**
 * The service master keys (the root of the SSE key hierarchy; see sse/README.md).
 *
 * A keyring is one or more 256-bit AES keys, each with an id, one of them active. The
 * active key wraps new data keys and secrets; every key stays available to unwrap what it
 * wrapped, so rotation never re-encrypts stored data. The key file is JSON, mode 0600,
 * replaced atomically; a file that is missing, unreadable, malformed or readable by
 * others is a start-up error: the server must never run with a key it made up.
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { constants } from 'node:fs';
import * as fs from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { IntegrityError, KeyringError } from './errors.js';

export { IntegrityError, KeyringError };

/** A key wrapped under a master key: AES-256-GCM, fields base64. */
export interface WrappedKey {
  v: 1;
  /** Id of the master key that wrapped it. */
  kid: string;
  iv: string;
  ct: string;
  tag: string;
}

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FILE_FORMAT = 'kura-keyring';
const FILE_VERSION = 1;
// Ids go into the GCM AAD between NUL separators and into file names of backups; keep them plain.
const KID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

interface MasterKey {
  id: string;
  key: KeyObject;
  createdAt?: string;
}

interface KeyFile {
  format: typeof FILE_FORMAT;
  version: typeof FILE_VERSION;
  active: string;
  keys: { id: string; key: string; createdAt?: string }[];
}

/** The GCM AAD of a wrap: a domain/version label and the key id, then the caller's AAD. */
function wrapAad(kid: string, aad: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`kura-wrap-v1\0${kid}\0`, 'utf8'), aad]);
}

function newKeyId(existing: Iterable<string>): string {
  const taken = new Set(existing);
  for (;;) {
    // Date for humans reading the file, random so two hosts never pick the same id.
    const id = `mk-${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(4).toString('hex')}`;
    if (!taken.has(id)) return id;
  }
}

function decodeKey(b64: unknown, what: string): Buffer {
  if (typeof b64 !== 'string') throw new KeyringError(`${what}: key must be a base64 string`);
  const key = Buffer.from(b64, 'base64');
  if (key.length !== KEY_BYTES || key.toString('base64') !== b64) {
    throw new KeyringError(`${what}: key must be exactly ${KEY_BYTES} bytes, base64-encoded`);
  }
  return key;
}

function errCode(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? String(err);
}

/** Writes a file atomically (temp + fsync + rename/link + dir fsync), mode 0600; exclusive fails if it exists. */
async function writeFileAtomic(path: string, content: string, exclusive: boolean): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  const fh = await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  let placed = false;
  try {
    try {
      await fh.chmod(0o600); // the mode argument is filtered by umask; make it exact
      await fh.writeFile(content, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (exclusive) {
      // link(2) fails with EEXIST instead of replacing: an atomic create-if-absent.
      await fs.link(tmp, path);
    } else {
      await fs.rename(tmp, path);
    }
    placed = !exclusive;
  } finally {
    if (!placed) await fs.unlink(tmp).catch(() => undefined);
  }
  // The rename/link is durable only once the directory entry is.
  const dh = await fs.open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/** The service master keys: wraps data keys and secrets under the active key, unwraps by key id. */
export class Keyring {
  private readonly keys: Map<string, MasterKey>;
  private active: MasterKey;
  // Serialises rotations within the process so two never write the file at once.
  private rotation: Promise<unknown> = Promise.resolve();

  private constructor(keys: MasterKey[], activeId: string) {
    if (keys.length === 0) throw new KeyringError('a keyring needs at least one key');
    this.keys = new Map();
    for (const k of keys) {
      if (!KID_PATTERN.test(k.id)) throw new KeyringError(`invalid key id ${JSON.stringify(k.id)}: use 1-64 of [A-Za-z0-9._-]`);
      if (this.keys.has(k.id)) throw new KeyringError(`duplicate key id ${JSON.stringify(k.id)}`);
      this.keys.set(k.id, k);
    }
    const active = this.keys.get(activeId);
    if (!active) throw new KeyringError(`active key id ${JSON.stringify(activeId)} is not in the keyring`);
    this.active = active;
  }

  /** Loads a key file; missing, unreadable, corrupt or mode looser than 0600 throws KeyringError. */
  static async load(path: string): Promise<Keyring> {
    let fh: fs.FileHandle;
    try {
      fh = await fs.open(path, 'r');
    } catch (err) {
      throw new KeyringError(`cannot open master key file ${path} (${errCode(err)})`, { cause: err });
    }
    let text: string;
    try {
      // fstat on the open handle: the file checked is the file read.
      const st = await fh.stat();
      if (!st.isFile()) throw new KeyringError(`master key file ${path} is not a regular file`);
      if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
        throw new KeyringError(
          `master key file ${path} has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}; ` +
            'it must not be accessible to group or others (chmod 600)',
        );
      }
      text = await fh.readFile('utf8');
    } catch (err) {
      if (err instanceof KeyringError) throw err;
      throw new KeyringError(`cannot read master key file ${path} (${errCode(err)})`, { cause: err });
    } finally {
      await fh.close();
    }
    return Keyring.parse(text, path);
  }

  /** Creates a key file with one new random key; fails if the file exists. */
  static async create(path: string): Promise<Keyring> {
    const id = newKeyId([]);
    const ring = new Keyring([{ id, key: createSecretKey(randomBytes(KEY_BYTES)), createdAt: new Date().toISOString() }], id);
    try {
      await writeFileAtomic(path, ring.serialize(), true);
    } catch (err) {
      if (errCode(err) === 'EEXIST') throw new KeyringError(`master key file ${path} already exists`, { cause: err });
      throw new KeyringError(`cannot create master key file ${path} (${errCode(err)})`, { cause: err });
    }
    return ring;
  }

  /** A keyring from raw keys (tests, or keys given by configuration as base64 and decoded by the caller). */
  static fromKeys(keys: { id: string; key: Buffer }[], activeId: string): Keyring {
    return new Keyring(
      keys.map(({ id, key }) => {
        if (key.length !== KEY_BYTES) throw new KeyringError(`key ${JSON.stringify(id)} must be ${KEY_BYTES} bytes`);
        return { id, key: createSecretKey(Buffer.from(key)) };
      }),
      activeId,
    );
  }

  private static parse(text: string, path: string): Keyring {
    const what = `master key file ${path}`;
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new KeyringError(`${what} is not valid JSON`);
    }
    const d = doc as Partial<KeyFile> | null;
    if (typeof d !== 'object' || d === null || d.format !== FILE_FORMAT) throw new KeyringError(`${what} is not a Kura keyring`);
    if (d.version !== FILE_VERSION) throw new KeyringError(`${what} has unsupported version ${String(d.version)}`);
    if (!Array.isArray(d.keys) || d.keys.length === 0) throw new KeyringError(`${what} has no keys`);
    if (typeof d.active !== 'string') throw new KeyringError(`${what} has no active key id`);
    const keys = d.keys.map((k: unknown, i): MasterKey => {
      const e = k as { id?: unknown; key?: unknown; createdAt?: unknown } | null;
      if (typeof e !== 'object' || e === null || typeof e.id !== 'string') throw new KeyringError(`${what}: key #${i} has no id`);
      const createdAt = typeof e.createdAt === 'string' ? e.createdAt : undefined;
      return { id: e.id, key: createSecretKey(decodeKey(e.key, `${what}: key ${JSON.stringify(e.id)}`)), createdAt };
    });
    try {
      return new Keyring(keys, d.active);
    } catch (err) {
      throw new KeyringError(`${what}: ${(err as Error).message}`);
    }
  }

  private serialize(): string {
    const doc: KeyFile = {
      format: FILE_FORMAT,
      version: FILE_VERSION,
      active: this.active.id,
      keys: [...this.keys.values()].map((k) => ({
        id: k.id,
        key: k.key.export().toString('base64'),
        ...(k.createdAt ? { createdAt: k.createdAt } : {}),
      })),
    };
    return `${JSON.stringify(doc, null, 2)}\n`;
  }

  /** The id of the key new wraps use. */
  get activeKeyId(): string {
    return this.active.id;
  }

  /** All key ids, oldest first. */
  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  /** Wraps plaintext (a data key or secret) under the active key; aad binds it to its context. */
  wrap(plaintext: Buffer, aad: Buffer): WrappedKey {
    const k = this.active;
    // Random 96-bit IVs: safe for up to 2^32 wraps per master key (NIST SP 800-38D); rotate before that.
    const iv = randomBytes(IV_BYTES);
    const c = createCipheriv('aes-256-gcm', k.key, iv, { authTagLength: TAG_BYTES });
    c.setAAD(wrapAad(k.id, aad));
    const ct = Buffer.concat([c.update(plaintext), c.final()]);
    return { v: 1, kid: k.id, iv: iv.toString('base64'), ct: ct.toString('base64'), tag: c.getAuthTag().toString('base64') };
  }

  /** Unwraps with the key named by w.kid; unknown kid, malformed input or failed authentication → IntegrityError. */
  unwrap(w: WrappedKey, aad: Buffer): Buffer {
    if (typeof w !== 'object' || w === null || w.v !== 1 || typeof w.kid !== 'string') {
      throw new IntegrityError('wrapped key: unsupported or malformed envelope');
    }
    const k = this.keys.get(w.kid);
    if (!k) throw new IntegrityError(`wrapped key: master key ${JSON.stringify(w.kid)} is not in the keyring`);
    if (typeof w.iv !== 'string' || typeof w.ct !== 'string' || typeof w.tag !== 'string') {
      throw new IntegrityError('wrapped key: malformed envelope');
    }
    const iv = Buffer.from(w.iv, 'base64');
    const tag = Buffer.from(w.tag, 'base64');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new IntegrityError('wrapped key: malformed envelope');
    try {
      const d = createDecipheriv('aes-256-gcm', k.key, iv, { authTagLength: TAG_BYTES });
      d.setAAD(wrapAad(k.id, aad));
      d.setAuthTag(tag);
      return Buffer.concat([d.update(Buffer.from(w.ct, 'base64')), d.final()]);
    } catch (err) {
      throw new IntegrityError('wrapped key failed authentication (wrong context or corrupted)', { cause: err });
    }
  }

  /**
   * Adds a new key, makes it active and persists the keyring to path; returns the new id.
   * Keys already in the file at path are kept too, so a keyring that is behind the file
   * (another process rotated) never drops a key. Memory changes only after the file is
   * durable: a key that could be lost on restart must never wrap anything.
   */
  async rotate(path: string): Promise<string> {
    const run = this.rotation.then(async () => {
      const merged = new Map(this.keys);
      let onDisk: Keyring | undefined;
      try {
        onDisk = await Keyring.load(path);
      } catch (err) {
        if (errCode((err as Error).cause) !== 'ENOENT') throw err;
      }
      for (const k of onDisk?.keys.values() ?? []) {
        const mine = merged.get(k.id);
        if (mine && !mine.key.equals(k.key)) {
          throw new KeyringError(`key id ${JSON.stringify(k.id)} has different key material in ${path}; refusing to rotate`);
        }
        if (!mine) merged.set(k.id, k);
      }
      const id = newKeyId(merged.keys());
      const added: MasterKey = { id, key: createSecretKey(randomBytes(KEY_BYTES)), createdAt: new Date().toISOString() };
      merged.set(id, added);
      const next = new Keyring([...merged.values()], id);
      try {
        await writeFileAtomic(path, next.serialize(), false);
      } catch (err) {
        throw new KeyringError(`cannot write master key file ${path} (${errCode(err)})`, { cause: err });
      }
      this.keys.clear();
      for (const [kid, k] of merged) this.keys.set(kid, k);
      this.active = added;
      return id;
    });
    this.rotation = run.catch(() => undefined);
    return run;
  }
}
