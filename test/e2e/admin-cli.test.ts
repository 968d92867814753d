import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { bucketName, cleanup, kuraCli, ROOT_CREDS, s3, startKura } from './harness.js';

describe('kura admin CLI and server start-up', () => {
  it('provisions a second account with fixed keys that works at once, isolated from the first', async () => {
    const k = await startKura();
    try {
      const r = kuraCli(['account', 'create', '--name', 'tenant2', '--access-key-id', 'AKIATENANT2000000001', '--secret-access-key', 'tenant2-secret-tenant2-secret-00', '--json', '--data-dir', k.dataDir]);
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { accountId: string; canonicalUserId: string; accessKeyId: string; secretAccessKey: string };
      assert.match(out.accountId, /^\d{12}$/);
      assert.match(out.canonicalUserId, /^[0-9a-f]{64}$/);
      assert.equal(out.accessKeyId, 'AKIATENANT2000000001');
      const t2 = s3(k, { accessKeyId: out.accessKeyId, secretAccessKey: out.secretAccessKey });
      const b = bucketName();
      await s3(k).send(new CreateBucketCommand({ Bucket: b }));
      await s3(k).send(new PutObjectCommand({ Bucket: b, Key: 'private', Body: 'root only' }));
      const denied = await t2.send(new GetObjectCommand({ Bucket: b, Key: 'private' })).catch((e: S3ServiceException) => e);
      assert.equal((denied as S3ServiceException).name, 'AccessDenied');
      const taken = await t2.send(new CreateBucketCommand({ Bucket: b })).catch((e: S3ServiceException) => e);
      assert.equal((taken as S3ServiceException).name, 'BucketAlreadyExists');
      const own = bucketName();
      await t2.send(new CreateBucketCommand({ Bucket: own }));
      const mine = await t2.send(new ListBucketsCommand({}));
      assert.deepEqual(mine.Buckets?.map((x) => x.Name), [own]);

      const list = kuraCli(['account', 'list', '--json', '--data-dir', k.dataDir]);
      assert.deepEqual((JSON.parse(list.stdout) as { name: string }[]).map((a) => a.name).sort(), ['root', 'tenant2']);
      const key = kuraCli(['access-key', 'create', '--account', 'tenant2', '--json', '--data-dir', k.dataDir]);
      const k2 = JSON.parse(key.stdout) as { accessKeyId: string; secretAccessKey: string };
      await s3(k, k2).send(new ListBucketsCommand({}));
      assert.equal(kuraCli(['access-key', 'delete', k2.accessKeyId, '--data-dir', k.dataDir]).status, 0);
      await new Promise((r) => setTimeout(r, 2_200));
      const gone = await s3(k, k2).send(new ListBucketsCommand({})).catch((e: S3ServiceException) => e);
      assert.equal((gone as S3ServiceException).name, 'InvalidAccessKeyId');
      const dup = kuraCli(['account', 'create', '--name', 'tenant2', '--data-dir', k.dataDir]);
      assert.equal(dup.status, 2);
      assert.match(dup.stderr, /already exists/);
    } finally {
      await k.stop();
    }
  });

  it('an account made before the first start stays its own: the root account and its key are created apart from it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kura-e2e-pre-'));
    const made = kuraCli(['account', 'create', '--name', 'early', '--access-key-id', 'AKIAEARLY00000000001', '--secret-access-key', 'early-secret-early-secret-000000', '--json', '--data-dir', dir]);
    assert.equal(made.status, 0, made.stderr);
    const early = JSON.parse(made.stdout) as { accountId: string };
    const k = await startKura({ dataDir: dir });
    try {
      const list = JSON.parse(kuraCli(['account', 'list', '--json', '--data-dir', dir]).stdout) as { id: string; name: string }[];
      const root = list.find((a) => a.name === 'root');
      assert.ok(root, 'the root account was created at first start');
      assert.notEqual(root.id, early.accountId);
      // Each key acts as its own account: the early account does not see root's bucket.
      const b = bucketName();
      await s3(k).send(new CreateBucketCommand({ Bucket: b }));
      const earlyClient = s3(k, { accessKeyId: 'AKIAEARLY00000000001', secretAccessKey: 'early-secret-early-secret-000000' });
      const theirs = await earlyClient.send(new ListBucketsCommand({}));
      assert.equal(theirs.Buckets?.some((x) => x.Name === b) ?? false, false);
    } finally {
      await k.stop();
    }
  });

  it('a data directory whose root key sits on an account of another name (made by older versions) still starts, serving that account as the root', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kura-e2e-legacy-'));
    const made = kuraCli(['account', 'create', '--name', 'legacy', '--access-key-id', ROOT_CREDS.accessKeyId, '--secret-access-key', ROOT_CREDS.secretAccessKey, '--json', '--data-dir', dir]);
    assert.equal(made.status, 0, made.stderr);
    const k = await startKura({ dataDir: dir });
    try {
      const b = bucketName();
      await s3(k).send(new CreateBucketCommand({ Bucket: b }));
      const list = JSON.parse(kuraCli(['account', 'list', '--json', '--data-dir', dir]).stdout) as { name: string }[];
      assert.deepEqual(list.map((a) => a.name), ['legacy'], 'no second root was made');
    } finally {
      await k.stop();
    }
  });

  it('rejects invalid flags with exit code 2 and a clear message', () => {
    const r = kuraCli(['server', '--port', 'abc']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--port must be an integer/);
    const r2 = kuraCli(['server', '--port', '70000', '--data-dir', '/tmp/kura-never-created']);
    assert.equal(r2.status, 2);
    assert.match(r2.stderr, /port/);
    const r3 = kuraCli(['server', '--region', 'nowhere', '--data-dir', '/tmp/kura-never-created']);
    assert.equal(r3.status, 2);
    assert.match(r3.stderr, /region/);
  });

  it('creates the master key 0600, and refuses to start when it is missing or wrong', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kura-keys-'));
    try {
      const k = await startKura({ dataDir: dir });
      await k.stop({ keep: true });
      assert.equal(statSync(join(dir, 'keys', 'master.json')).mode & 0o777, 0o600);
      const wrong = await startKura({ dataDir: dir, env: { KURA_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') } }).catch((e: Error) => e);
      assert.ok(wrong instanceof Error);
      assert.match(wrong.message, /master key does not match/);
      cleanup(join(dir, 'keys', 'master.json'));
      const missing = await startKura({ dataDir: dir }).catch((e: Error) => e);
      assert.ok(missing instanceof Error);
      assert.match(missing.message, /master key file .* is missing/);
    } finally {
      cleanup(dir);
    }
  });

  it('prints the root key on first start and keeps its secret in a 0600 file, not in the logs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kura-first-'));
    try {
      const k = await startKura({ dataDir: dir, env: { KURA_ROOT_ACCESS_KEY_ID: '', KURA_ROOT_SECRET_ACCESS_KEY: '', KURA_LOG_LEVEL: 'debug' } });
      const credsFile = join(dir, 'root-credentials.json');
      assert.equal(statSync(credsFile).mode & 0o777, 0o600);
      const { readFileSync } = await import('node:fs');
      const creds = JSON.parse(readFileSync(credsFile, 'utf8')) as { accessKeyId: string; secretAccessKey: string };
      await s3(k, creds).send(new ListBucketsCommand({}));
      assert.ok(!k.stderr().includes(creds.secretAccessKey), 'secret never logged');
      await k.stop();
    } finally {
      cleanup(dir);
    }
  });

  it('validates and simulates policies offline with the server\'s evaluator', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kura-pol-'));
    try {
      const file = join(dir, 'p.json');
      writeFileSync(file, JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Sid: 'Lan', Effect: 'Allow', Principal: { AWS: '111122223333' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::photos/*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }],
      }));
      assert.equal(kuraCli(['policy', 'validate', file, '--bucket', 'photos']).status, 0);
      const bad = kuraCli(['policy', 'validate', file, '--bucket', 'elsewhere', '--json']);
      assert.equal(bad.status, 1);
      assert.deepEqual((JSON.parse(bad.stdout) as { pointer: string; message: string }[])[0], { severity: 'error', pointer: '/Statement/0/Resource', message: 'Policy has invalid resource' });
      const sim = (ip: string) => kuraCli(['policy', 'simulate', '--policy', file, '--principal', '111122223333', '--owner', '444455556666', '--action', 's3:GetObject', '--resource', 'arn:aws:s3:::photos/cat.jpg', '--context', `aws:SourceIp=${ip}`, '--json']);
      const allowed = sim('10.1.2.3');
      assert.equal(allowed.status, 0);
      assert.equal((JSON.parse(allowed.stdout) as { effect: string }).effect, 'Allow');
      const denied = sim('192.168.0.1');
      assert.equal(denied.status, 3);
      const d = JSON.parse(denied.stdout) as { effect: string; trace: { reason: string }[] };
      assert.equal(d.effect, 'ImplicitDeny');
      assert.match(d.trace[0]!.reason, /no bucket policy statement/);
    } finally {
      cleanup(dir);
    }
  });
});
