import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IntegrityError, Keyring, KeyringError, type WrappedKey } from './keyring.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'kura-keyring-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const aad = Buffer.from('context');

test('create writes a 0600 file that load reads back', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'master.key');
    const ring = await Keyring.create(path);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    const doc = JSON.parse(await readFile(path, 'utf8')) as { active: string; keys: { id: string; key: string }[] };
    assert.equal(doc.active, ring.activeKeyId);
    assert.equal(doc.keys.length, 1);
    assert.equal(Buffer.from(doc.keys[0]!.key, 'base64').length, 32);
    // No temp files left behind.
    assert.deepEqual(await readdir(dir), ['master.key']);

    const loaded = await Keyring.load(path);
    assert.equal(loaded.activeKeyId, ring.activeKeyId);
    const w = ring.wrap(Buffer.from('secret'), aad);
    assert.equal(loaded.unwrap(w, aad).toString(), 'secret');
  });
});

test('create fails if the file exists (and leaves it untouched)', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'master.key');
    await writeFile(path, 'precious', { mode: 0o600 });
    await assert.rejects(Keyring.create(path), (e: unknown) => e instanceof KeyringError && /already exists/.test(e.message));
    assert.equal(await readFile(path, 'utf8'), 'precious');
    assert.deepEqual(await readdir(dir), ['master.key']);
  });
});

test('load refuses missing, loose-permission, corrupt and invalid files', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'master.key');
    await assert.rejects(Keyring.load(path), (e: unknown) => e instanceof KeyringError && /ENOENT/.test(e.message));

    await Keyring.create(path);
    for (const mode of [0o644, 0o640, 0o604, 0o660, 0o700 | 0o010]) {
      await chmod(path, mode);
      await assert.rejects(Keyring.load(path), (e: unknown) => e instanceof KeyringError && /chmod 600/.test(e.message), mode.toString(8));
    }
    await chmod(path, 0o400); // stricter than 0600 is fine
    await Keyring.load(path);
    await chmod(path, 0o600);

    const good = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown> & { keys: Record<string, unknown>[] };
    const cases: [string, string | object][] = [
      ['not json', '{"format": '],
      ['empty', ''],
      ['wrong format', { ...good, format: 'something' }],
      ['wrong version', { ...good, version: 2 }],
      ['no keys', { ...good, keys: [] }],
      ['active missing', { ...good, active: 'nope' }],
      ['short key', { ...good, keys: [{ ...good.keys[0], key: randomBytes(16).toString('base64') }] }],
      ['key not base64', { ...good, keys: [{ ...good.keys[0], key: '!'.repeat(44) }] }],
      ['duplicate id', { ...good, keys: [good.keys[0], good.keys[0]] }],
      ['bad id', { ...good, active: 'a b', keys: [{ ...good.keys[0], id: 'a b' }] }],
      ['array', []],
    ];
    for (const [name, content] of cases) {
      await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content), { mode: 0o600 });
      await assert.rejects(Keyring.load(path), KeyringError, name);
    }
    await assert.rejects(Keyring.load(dir), KeyringError, 'a directory');
  });
});

test('rotate adds an active key, persists it, and old wraps still open', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'master.key');
    const ring = await Keyring.create(path);
    const first = ring.activeKeyId;
    const w1 = ring.wrap(Buffer.from('one'), aad);

    const second = await ring.rotate(path);
    assert.notEqual(second, first);
    assert.equal(ring.activeKeyId, second);
    assert.deepEqual(ring.keyIds, [first, second]);
    const w2 = ring.wrap(Buffer.from('two'), aad);
    assert.equal(w2.kid, second);
    assert.equal(ring.unwrap(w1, aad).toString(), 'one');
    assert.equal(ring.unwrap(w2, aad).toString(), 'two');

    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(dir), ['master.key']);
    const reloaded = await Keyring.load(path);
    assert.equal(reloaded.activeKeyId, second);
    assert.equal(reloaded.unwrap(w1, aad).toString(), 'one');
    assert.equal(reloaded.unwrap(w2, aad).toString(), 'two');
  });
});

test('rotate keeps keys another process added to the file', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'master.key');
    const a = await Keyring.create(path);
    const b = await Keyring.load(path);
    const fromB = await b.rotate(path); // a is now behind the file
    const wB = b.wrap(Buffer.from('b'), aad);
    const fromA = await a.rotate(path);
    const final = await Keyring.load(path);
    assert.equal(final.activeKeyId, fromA);
    assert.ok(final.keyIds.includes(fromB));
    assert.equal(a.unwrap(wB, aad).toString(), 'b'); // merged into memory too
    assert.equal(final.unwrap(wB, aad).toString(), 'b');
  });
});

test('concurrent rotations in one process are serialised', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'master.key');
    const ring = await Keyring.create(path);
    const ids = await Promise.all([ring.rotate(path), ring.rotate(path), ring.rotate(path)]);
    const loaded = await Keyring.load(path);
    assert.equal(loaded.keyIds.length, 4);
    for (const id of ids) assert.ok(loaded.keyIds.includes(id));
    assert.equal(loaded.activeKeyId, ring.activeKeyId);
  });
});

test('rotate refuses a file with conflicting key material and changes nothing', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'master.key');
    const ring = Keyring.fromKeys([{ id: 'k1', key: randomBytes(32) }], 'k1');
    const other = Keyring.fromKeys([{ id: 'k1', key: randomBytes(32) }], 'k1');
    await other.rotate(path); // file now holds a different k1
    await assert.rejects(ring.rotate(path), KeyringError);
    assert.equal(ring.activeKeyId, 'k1');
    assert.deepEqual(ring.keyIds, ['k1']);
  });
});

test('rotate of a configured keyring to a new path writes a loadable file', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'new.key');
    const ring = Keyring.fromKeys([{ id: 'cfg-1', key: randomBytes(32) }], 'cfg-1');
    const w = ring.wrap(Buffer.from('x'), aad);
    const id = await ring.rotate(path);
    const loaded = await Keyring.load(path);
    assert.equal(loaded.activeKeyId, id);
    assert.equal(loaded.unwrap(w, aad).toString(), 'x');
  });
});

test('a failed rotate (missing directory) leaves the keyring unchanged', async () => {
  await withDir(async (dir) => {
    const ring = Keyring.fromKeys([{ id: 'k1', key: randomBytes(32) }], 'k1');
    await assert.rejects(ring.rotate(join(dir, 'no-such-dir', 'master.key')), KeyringError);
    assert.equal(ring.activeKeyId, 'k1');
    assert.deepEqual(ring.keyIds, ['k1']);
    // A later rotation still works.
    await ring.rotate(join(dir, 'master.key'));
    assert.equal(ring.keyIds.length, 2);
  });
});

test('a failed rotate (unwritable directory) leaves the keyring unchanged', { skip: process.getuid?.() === 0 }, async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'master.key');
    const ring = await Keyring.create(path);
    const before = ring.activeKeyId;
    await chmod(dir, 0o500);
    try {
      await assert.rejects(ring.rotate(path), KeyringError);
    } finally {
      await chmod(dir, 0o700);
    }
    assert.equal(ring.activeKeyId, before);
    assert.equal(ring.keyIds.length, 1);
  });
});

test('unwrap: wrong AAD, unknown kid, tampering and malformed envelopes → IntegrityError', () => {
  const ring = Keyring.fromKeys([{ id: 'k1', key: randomBytes(32) }, { id: 'k2', key: randomBytes(32) }], 'k2');
  const w = ring.wrap(randomBytes(32), aad);
  assert.equal(w.kid, 'k2');
  assert.equal(ring.unwrap(w, aad).length, 32);

  const isIntegrity = (e: unknown) => e instanceof IntegrityError;
  assert.throws(() => ring.unwrap(w, Buffer.from('other context')), isIntegrity);
  assert.throws(() => ring.unwrap({ ...w, kid: 'k1' }, aad), isIntegrity); // a different key's id
  assert.throws(() => ring.unwrap({ ...w, kid: 'nope' }, aad), (e: unknown) => isIntegrity(e) && /not in the keyring/.test((e as Error).message));
  const flip = (b64: string, i: number): string => {
    const b = Buffer.from(b64, 'base64');
    b[i % b.length]! ^= 1;
    return b.toString('base64');
  };
  for (let i = 0; i < 32; i++) assert.throws(() => ring.unwrap({ ...w, ct: flip(w.ct, i) }, aad), isIntegrity);
  for (let i = 0; i < 16; i++) assert.throws(() => ring.unwrap({ ...w, tag: flip(w.tag, i) }, aad), isIntegrity);
  for (let i = 0; i < 12; i++) assert.throws(() => ring.unwrap({ ...w, iv: flip(w.iv, i) }, aad), isIntegrity);
  assert.throws(() => ring.unwrap({ ...w, tag: w.tag.slice(0, 8) }, aad), isIntegrity);
  assert.throws(() => ring.unwrap({ ...w, v: 2 } as unknown as WrappedKey, aad), isIntegrity);
  assert.throws(() => ring.unwrap(null as unknown as WrappedKey, aad), isIntegrity);
  assert.throws(() => ring.unwrap({ ...w, ct: 5 } as unknown as WrappedKey, aad), isIntegrity);
});

test('wrap uses a fresh IV each time', () => {
  const ring = Keyring.fromKeys([{ id: 'k1', key: randomBytes(32) }], 'k1');
  const pt = Buffer.alloc(32);
  const ivs = new Set(Array.from({ length: 200 }, () => ring.wrap(pt, aad).iv));
  assert.equal(ivs.size, 200);
});

test('fromKeys validates its input', () => {
  assert.throws(() => Keyring.fromKeys([], 'x'), KeyringError);
  assert.throws(() => Keyring.fromKeys([{ id: 'a', key: randomBytes(31) }], 'a'), KeyringError);
  assert.throws(() => Keyring.fromKeys([{ id: 'a', key: randomBytes(32) }], 'b'), KeyringError);
  assert.throws(() => Keyring.fromKeys([{ id: 'a', key: randomBytes(32) }, { id: 'a', key: randomBytes(32) }], 'a'), KeyringError);
  assert.throws(() => Keyring.fromKeys([{ id: '', key: randomBytes(32) }], ''), KeyringError);
  // The caller's buffer is copied: zeroing it afterwards does not change the key.
  const key = randomBytes(32);
  const ring = Keyring.fromKeys([{ id: 'a', key }], 'a');
  const w = ring.wrap(Buffer.from('x'), aad);
  key.fill(0);
  assert.equal(ring.unwrap(w, aad).toString(), 'x');
});
