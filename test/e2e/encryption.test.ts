/**
 * Encryption end to end through real clients (@aws-sdk/client-kms, client-s3, client-iam and
 * the AWS CLI v2): the built-in KMS (AWS KMS JSON API on the S3 endpoint), SSE-KMS with the
 * requester's own KMS rights, S3 Bucket Keys, SSE-C, default bucket encryption and its
 * precedence, and the bucket-policy gotcha around s3:x-amz-server-side-encryption
 * (semantics.md f.1–f.4; AWS S3 UG "Using server-side encryption with AWS KMS keys",
 * "…customer-provided keys", "Blocking or unblocking SSE-C", "Reducing the cost of SSE-KMS
 * with Amazon S3 Bucket Keys"; AWS KMS API reference).
 *
 * SSE-KMS and SSE-C objects are only ever written and read over TLS (AWS refuses both over
 * plain HTTP); the self-signed certificate is accepted with rejectUnauthorized: false.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, DeleteRoleCommand, PutUserPolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import {
  CancelKeyDeletionCommand, CreateAliasCommand, CreateKeyCommand, DecryptCommand, DescribeKeyCommand, DisableKeyCommand, EnableKeyCommand,
  EnableKeyRotationCommand, EncryptCommand, GenerateDataKeyCommand, GetKeyRotationStatusCommand, KMSClient, PutKeyPolicyCommand,
  RotateKeyOnDemandCommand, ScheduleKeyDeletionCommand, CreateGrantCommand, ListGrantsCommand, RevokeGrantCommand, TagResourceCommand,
} from '@aws-sdk/client-kms';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteBucketEncryptionCommand,
  DeletePublicAccessBlockCommand, GetBucketEncryptionCommand, GetObjectCommand, HeadObjectCommand, PutBucketEncryptionCommand,
  PutBucketPolicyCommand, PutObjectCommand, UploadPartCommand, type GetObjectCommandOutput, type HeadObjectCommandOutput, type S3Client,
  type ServerSideEncryptionRule,
} from '@aws-sdk/client-s3';
import { aws, bucketName, iam, s3, startKura, sts, type Credentials, type RunningKura } from './harness.js';

const MiB = 1024 * 1024;
const insecure = new https.Agent({ rejectUnauthorized: false, keepAlive: true });
const doc = (statements: unknown[]): string => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const md5hex = (b: Buffer): string => createHash('md5').update(b).digest('hex');
const b64json = (o: Record<string, string>): string => Buffer.from(JSON.stringify(o), 'utf8').toString('base64');

/** An S3 client on the HTTPS listener (self-signed certificate accepted). */
function tlsS3(k: RunningKura, creds: Credentials = k.root): S3Client {
  return s3(k, creds, { endpoint: k.httpsEndpoint!, requestHandler: new NodeHttpHandler({ httpsAgent: insecure }) });
}

/** A KMS client for the server (KMS JSON API on the same endpoint, routed by the SigV4 service 'kms'). */
function kmsClient(k: RunningKura, creds: Credentials = k.root): KMSClient {
  return new KMSClient({ endpoint: k.endpoint, region: 'us-east-1', credentials: creds });
}

interface Result {
  /** 'OK' or the SDK error name (for HEAD, which has no error body, the name is meaningless: use status). */
  name: string;
  status: number | undefined;
}

/** Like harness.outcome, with the HTTP status too. */
async function result(p: Promise<unknown>): Promise<Result> {
  try {
    const r = await p;
    const body = (r as { Body?: { transformToString?: () => Promise<string> } } | undefined)?.Body;
    if (typeof body?.transformToString === 'function') await body.transformToString();
    return { name: 'OK', status: 200 };
  } catch (e) {
    if (!(e instanceof Error) || !('$metadata' in e)) throw e;
    return { name: e.name, status: (e as { $metadata: { httpStatusCode?: number } }).$metadata.httpStatusCode };
  }
}

/** A GetObject's output with its body read into a Buffer. */
async function read(p: Promise<GetObjectCommandOutput>): Promise<{ out: GetObjectCommandOutput; data: Buffer }> {
  const out = await p;
  return { out, data: Buffer.from(await out.Body!.transformToByteArray()) };
}

interface CustomerKey {
  b64: string;
  md5: string;
}
/** 32 random bytes as an SSE-C key (base64), with the base64 MD5 S3 echoes. */
function customerKey(): CustomerKey {
  const raw = randomBytes(32);
  return { b64: raw.toString('base64'), md5: createHash('md5').update(raw).digest('base64') };
}
const ssec = (c: CustomerKey): { SSECustomerAlgorithm: string; SSECustomerKey: string } => ({ SSECustomerAlgorithm: 'AES256', SSECustomerKey: c.b64 });
const copySsec = (c: CustomerKey): { CopySourceSSECustomerAlgorithm: string; CopySourceSSECustomerKey: string } =>
  ({ CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: c.b64 });

/** A default-encryption rule; allowSseC sets BlockedEncryptionTypes to NONE (new buckets block SSE-C). */
function rule(sse: 'AES256' | { key: string; bucketKey?: boolean }, allowSseC = false): ServerSideEncryptionRule {
  return {
    ApplyServerSideEncryptionByDefault: sse === 'AES256' ? { SSEAlgorithm: 'AES256' } : { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: sse.key },
    ...(sse !== 'AES256' && sse.bucketKey !== undefined ? { BucketKeyEnabled: sse.bucketKey } : {}),
    ...(allowSseC ? { BlockedEncryptionTypes: { EncryptionType: ['NONE'] } } : {}),
  };
}

/** Records the raw headers of the last successful response of a client. */
function rawHeaders(client: S3Client): () => Record<string, string> {
  let seen: Record<string, string> = {};
  client.middlewareStack.add((next) => async (args) => {
    const out = await next(args);
    seen = (out.response as { headers?: Record<string, string> }).headers ?? {};
    return out;
  }, { step: 'deserialize', name: 'encryptionTestRawHeaders' });
  return () => seen;
}

/** Makes a client send this x-amz-server-side-encryption-customer-key-MD5 whatever the key (the SDK computes the right one). */
function withKeyMd5(client: S3Client, md5: string): S3Client {
  client.middlewareStack.add((next) => async (args) => {
    const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
    for (const name of Object.keys(headers)) if (name.toLowerCase() === 'x-amz-server-side-encryption-customer-key-md5') headers[name] = md5;
    return next(args);
  }, { step: 'build', name: 'encryptionTestKeyMd5' });
  return client;
}

/** An anonymous HTTPS GET. */
function anonGet(url: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    https.get(url, { agent: insecure }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

describe('encryption: built-in KMS, SSE-KMS, Bucket Keys, SSE-C and default encryption', () => {
  let k: RunningKura;
  /** Root over plain HTTP, root over HTTPS. */
  let http: S3Client;
  let tls: S3Client;
  let kms: KMSClient;
  let rootIam: IAMClient;
  let account: string;
  let keyA: { id: string; arn: string };
  let keyB: { id: string; arn: string };

  async function newKey(description: string): Promise<{ id: string; arn: string }> {
    const m = (await kms.send(new CreateKeyCommand({ Description: description }))).KeyMetadata!;
    return { id: m.KeyId!, arn: m.Arn! };
  }

  /** A new bucket; sseC unblocks SSE-C (SSE-S3 default otherwise unchanged). */
  async function newBucket(opts: { sseC?: boolean } = {}): Promise<string> {
    const b = bucketName('enc');
    await http.send(new CreateBucketCommand({ Bucket: b }));
    if (opts.sseC) await tls.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [rule('AES256', true)] } }));
    return b;
  }

  async function userWithKey(name: string, statements: unknown[]): Promise<Credentials & { arn: string }> {
    const u = await rootIam.send(new CreateUserCommand({ UserName: name }));
    await rootIam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'base', PolicyDocument: doc(statements) }));
    const key = await rootIam.send(new CreateAccessKeyCommand({ UserName: name }));
    return { accessKeyId: key.AccessKey!.AccessKeyId!, secretAccessKey: key.AccessKey!.SecretAccessKey!, arn: u.User!.Arn! };
  }

  before(async () => {
    k = await startKura({ https: true });
    assert.ok(k.httpsEndpoint, 'startKura({ https: true }) gives an HTTPS endpoint');
    http = s3(k);
    tls = tlsS3(k);
    kms = kmsClient(k);
    rootIam = iam(k);
    account = (await sts(k).send(new GetCallerIdentityCommand({}))).Account!;
    keyA = await newKey('key A');
    keyB = await newKey('key B');
  });
  after(async () => {
    insecure.destroy();
    await k.stop();
  });

  // ---------------------------------------------------------------- KMS API

  it('KMS: CreateKey, aliases, Encrypt/Decrypt bound to the encryption context, GenerateDataKey', async () => {
    const m = (await kms.send(new CreateKeyCommand({ Description: 'application data' }))).KeyMetadata!;
    assert.equal(m.Description, 'application data');
    assert.equal(m.Arn, `arn:aws:kms:us-east-1:${account}:key/${m.KeyId}`);
    assert.equal(m.AWSAccountId, account);
    assert.equal(m.KeyState, 'Enabled');
    assert.equal(m.Enabled, true);
    assert.equal(m.KeyManager, 'CUSTOMER');
    assert.equal(m.KeySpec, 'SYMMETRIC_DEFAULT');
    assert.equal(m.KeyUsage, 'ENCRYPT_DECRYPT');

    await kms.send(new CreateAliasCommand({ AliasName: 'alias/app', TargetKeyId: m.KeyId }));
    const byAlias = (await kms.send(new DescribeKeyCommand({ KeyId: 'alias/app' }))).KeyMetadata!;
    assert.equal(byAlias.KeyId, m.KeyId);
    assert.equal(byAlias.Arn, m.Arn);
    assert.equal(byAlias.Description, 'application data');
    assert.equal((await result(kms.send(new CreateAliasCommand({ AliasName: 'alias/app', TargetKeyId: keyA.id })))).name, 'AlreadyExistsException');

    const plaintext = Buffer.from('the quick brown fox');
    const ctx = { tenant: 'a', purpose: 'test' };
    const enc = await kms.send(new EncryptCommand({ KeyId: 'alias/app', Plaintext: plaintext, EncryptionContext: ctx }));
    assert.equal(enc.KeyId, m.Arn, 'Encrypt names the key by ARN');
    assert.ok(enc.CiphertextBlob && enc.CiphertextBlob.length > plaintext.length);
    assert.equal(Buffer.from(enc.CiphertextBlob).includes(plaintext), false);
    // Symmetric ciphertext names its key: Decrypt needs no KeyId.
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { purpose: 'test', tenant: 'a' } }));
    assert.deepEqual(Buffer.from(dec.Plaintext!), plaintext);
    assert.equal(dec.KeyId, m.Arn);
    assert.equal((await result(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { tenant: 'b', purpose: 'test' } })))).name, 'InvalidCiphertextException');
    assert.equal((await result(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })))).name, 'InvalidCiphertextException', 'a missing context is a wrong context');
    assert.equal((await result(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ctx, KeyId: keyA.arn })))).name, 'IncorrectKeyException');

    const dk = await kms.send(new GenerateDataKeyCommand({ KeyId: m.KeyId, KeySpec: 'AES_256' }));
    assert.equal(dk.Plaintext?.length, 32);
    assert.equal(dk.KeyId, m.Arn);
    const back = await kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob }));
    assert.deepEqual(Buffer.from(back.Plaintext!), Buffer.from(dk.Plaintext!));
  });

  it('KMS: DisableKey/EnableKey, ScheduleKeyDeletion then CancelKeyDeletion, rotation keeps old ciphertext decryptable', async () => {
    const key = await newKey('lifecycle');
    const old = (await kms.send(new EncryptCommand({ KeyId: key.id, Plaintext: Buffer.from('before') }))).CiphertextBlob!;

    await kms.send(new DisableKeyCommand({ KeyId: key.id }));
    const disabled = (await kms.send(new DescribeKeyCommand({ KeyId: key.id }))).KeyMetadata!;
    assert.equal(disabled.KeyState, 'Disabled');
    assert.equal(disabled.Enabled, false);
    assert.equal((await result(kms.send(new EncryptCommand({ KeyId: key.id, Plaintext: Buffer.from('x') })))).name, 'DisabledException');
    assert.equal((await result(kms.send(new DecryptCommand({ CiphertextBlob: old })))).name, 'DisabledException');
    await kms.send(new EnableKeyCommand({ KeyId: key.id }));
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: key.id }))).KeyMetadata!.KeyState, 'Enabled');
    assert.equal(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: old }))).Plaintext!).toString(), 'before');

    const sched = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.id, PendingWindowInDays: 7 }));
    assert.equal(sched.KeyState, 'PendingDeletion');
    assert.equal(sched.PendingWindowInDays, 7);
    const days = (sched.DeletionDate!.getTime() - Date.now()) / 86_400_000;
    assert.ok(days > 6 && days < 8, `deletion in ~7 days, got ${days}`);
    const pending = (await kms.send(new DescribeKeyCommand({ KeyId: key.id }))).KeyMetadata!;
    assert.equal(pending.KeyState, 'PendingDeletion');
    assert.ok(pending.DeletionDate);
    assert.equal((await result(kms.send(new EncryptCommand({ KeyId: key.id, Plaintext: Buffer.from('x') })))).name, 'KMSInvalidStateException');
    await kms.send(new CancelKeyDeletionCommand({ KeyId: key.id }));
    // AWS: a key whose deletion is cancelled comes back Disabled.
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: key.id }))).KeyMetadata!.KeyState, 'Disabled');
    await kms.send(new EnableKeyCommand({ KeyId: key.id }));

    await kms.send(new EnableKeyRotationCommand({ KeyId: key.id }));
    assert.equal((await kms.send(new GetKeyRotationStatusCommand({ KeyId: key.id }))).KeyRotationEnabled, true);
    const rotated = await kms.send(new RotateKeyOnDemandCommand({ KeyId: key.id }));
    assert.ok(rotated.KeyId === key.id || rotated.KeyId === key.arn, `RotateKeyOnDemand names the key, got ${rotated.KeyId}`);
    assert.equal(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: old }))).Plaintext!).toString(), 'before', 'old ciphertext still decrypts');
    const fresh = (await kms.send(new EncryptCommand({ KeyId: key.arn, Plaintext: Buffer.from('after') }))).CiphertextBlob!;
    assert.equal(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: fresh }))).Plaintext!).toString(), 'after');
  });

  it('KMS: alias/aws/ is reserved, unsupported key specs are refused, and the AWS CLI creates keys and encrypts', async () => {
    const reserved = await result(kms.send(new CreateAliasCommand({ AliasName: 'alias/aws/x', TargetKeyId: keyA.id })));
    assert.notEqual(reserved.name, 'OK', 'alias/aws/ is reserved for AWS managed keys');
    assert.equal(reserved.status, 400);
    const rsa = await result(kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' })));
    assert.notEqual(rsa.name, 'OK', 'asymmetric keys are not supported');
    assert.equal(rsa.status, 400);

    const created = aws(k, ['kms', 'create-key', '--description', 'made by the AWS CLI']);
    assert.equal(created.status, 0, created.stderr);
    const meta = (JSON.parse(created.stdout) as { KeyMetadata: { KeyId: string; Arn: string; Description: string; KeyState: string } }).KeyMetadata;
    assert.equal(meta.Description, 'made by the AWS CLI');
    assert.equal(meta.KeyState, 'Enabled');
    // CLI v2 takes blob arguments as base64.
    const enc = aws(k, ['kms', 'encrypt', '--key-id', meta.KeyId, '--plaintext', Buffer.from('hello from the cli').toString('base64'), '--encryption-context', 'purpose=cli']);
    assert.equal(enc.status, 0, enc.stderr);
    const out = JSON.parse(enc.stdout) as { CiphertextBlob: string; KeyId: string };
    assert.equal(out.KeyId, meta.Arn);
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: Buffer.from(out.CiphertextBlob, 'base64'), EncryptionContext: { purpose: 'cli' } }));
    assert.equal(Buffer.from(dec.Plaintext!).toString(), 'hello from the cli');
    const cliDec = aws(k, ['kms', 'decrypt', '--ciphertext-blob', out.CiphertextBlob, '--encryption-context', 'purpose=cli']);
    assert.equal(cliDec.status, 0, cliDec.stderr);
    assert.equal(Buffer.from((JSON.parse(cliDec.stdout) as { Plaintext: string }).Plaintext, 'base64').toString(), 'hello from the cli');
  });

  // ---------------------------------------------------------------- SSE-KMS

  it('SSE-KMS over HTTPS: key id, ARN or alias all name the key by ARN on PUT, GET and HEAD; the ETag is not the MD5', async () => {
    const b = await newBucket();
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/objects', TargetKeyId: keyA.id }));
    const data = randomBytes(4096);
    for (const [label, id] of [['id', keyA.id], ['arn', keyA.arn], ['alias', 'alias/objects']] as const) {
      const put = await tls.send(new PutObjectCommand({ Bucket: b, Key: `by-${label}`, Body: data, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: id }));
      assert.equal(put.ServerSideEncryption, 'aws:kms', label);
      assert.equal(put.SSEKMSKeyId, keyA.arn, `${label}: the response names the key by full ARN`);
      assert.notEqual(put.ETag, `"${md5hex(data)}"`, `${label}: an SSE-KMS ETag is not the MD5 of the data`);
      assert.match(put.ETag!, /^"[^"]+"$/);
      const { out, data: got } = await read(tls.send(new GetObjectCommand({ Bucket: b, Key: `by-${label}` })));
      assert.deepEqual(got, data);
      assert.equal(out.ServerSideEncryption, 'aws:kms');
      assert.equal(out.SSEKMSKeyId, keyA.arn);
      assert.equal(out.ETag, put.ETag);
      const head = await tls.send(new HeadObjectCommand({ Bucket: b, Key: `by-${label}` }));
      assert.equal(head.ServerSideEncryption, 'aws:kms');
      assert.equal(head.SSEKMSKeyId, keyA.arn);
      assert.equal(head.ContentLength, data.length);
    }
  });

  it('SSE-KMS: a user-supplied encryption context is echoed on PUT and needs no re-supplying to read', async () => {
    const b = await newBucket();
    const client = tlsS3(k);
    const headers = rawHeaders(client);
    const ctx = { project: 'kura', team: 'storage' };
    const put = await client.send(new PutObjectCommand({
      Bucket: b, Key: 'ctx', Body: 'with context', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyA.arn, SSEKMSEncryptionContext: b64json(ctx),
    }));
    assert.ok(put.SSEKMSEncryptionContext, 'PutObject echoes x-amz-server-side-encryption-context');
    const echoed = JSON.parse(Buffer.from(put.SSEKMSEncryptionContext, 'base64').toString('utf8')) as Record<string, string>;
    assert.equal(echoed.project, 'kura');
    assert.equal(echoed.team, 'storage');
    const { data } = await read(client.send(new GetObjectCommand({ Bucket: b, Key: 'ctx' })));
    assert.equal(data.toString(), 'with context', 'S3 replays the stored context to KMS');
    const head = await client.send(new HeadObjectCommand({ Bucket: b, Key: 'ctx' }));
    assert.equal(head.SSEKMSKeyId, keyA.arn);
    // AWS documents the context header on PutObject/CopyObject/CreateMultipartUpload responses only;
    // if HEAD returns it too it must be the same context.
    const onHead = headers()['x-amz-server-side-encryption-context'];
    if (onHead !== undefined) {
      const h = JSON.parse(Buffer.from(onHead, 'base64').toString('utf8')) as Record<string, string>;
      assert.equal(h.project, 'kura');
      assert.equal(h.team, 'storage');
    }
  });

  it('SSE-KMS without a key id uses the account\'s AWS managed key aws/s3', async () => {
    const b = await newBucket();
    const put = await tls.send(new PutObjectCommand({ Bucket: b, Key: 'managed', Body: 'managed', ServerSideEncryption: 'aws:kms' }));
    assert.equal(put.ServerSideEncryption, 'aws:kms');
    assert.match(put.SSEKMSKeyId ?? '', new RegExp(`^arn:aws:kms:us-east-1:${account}:key/[0-9a-f-]{36}$`));
    assert.notEqual(put.SSEKMSKeyId, keyA.arn);
    const managed = (await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/s3' }))).KeyMetadata!;
    assert.equal(managed.Arn, put.SSEKMSKeyId);
    assert.equal(managed.KeyManager, 'AWS');
    const again = await tls.send(new PutObjectCommand({ Bucket: b, Key: 'managed-2', Body: 'managed', ServerSideEncryption: 'aws:kms' }));
    assert.equal(again.SSEKMSKeyId, managed.Arn, 'one aws/s3 key per account');
    const { out, data } = await read(tls.send(new GetObjectCommand({ Bucket: b, Key: 'managed' })));
    assert.equal(data.toString(), 'managed');
    assert.equal(out.SSEKMSKeyId, managed.Arn);
  });

  it('SSE-KMS objects need TLS and a signature: plain HTTP and anonymous requests are refused even when a policy allows everyone', async () => {
    const b = await newBucket();
    const overHttp = await result(http.send(new PutObjectCommand({ Bucket: b, Key: 'kms-http', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyA.arn })));
    assert.equal(overHttp.status, 400);
    assert.ok(['InvalidRequest', 'InvalidArgument'].includes(overHttp.name), overHttp.name);
    assert.equal((await result(http.send(new HeadObjectCommand({ Bucket: b, Key: 'kms-http' })))).status, 404, 'nothing stored');
    assert.equal((await result(http.send(new PutObjectCommand({ Bucket: b, Key: 'sse-s3-http', Body: 'x', ServerSideEncryption: 'AES256' })))).name, 'OK', 'SSE-S3 over HTTP is fine');

    const secret = randomBytes(64);
    await tls.send(new PutObjectCommand({ Bucket: b, Key: 'kms', Body: secret, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyA.arn }));
    await tls.send(new PutObjectCommand({ Bucket: b, Key: 'open', Body: 'open' }));
    const getHttp = await result(http.send(new GetObjectCommand({ Bucket: b, Key: 'kms' })));
    assert.equal(getHttp.status, 400, 'a signed GET of an SSE-KMS object over plain HTTP is refused');
    assert.ok(['InvalidRequest', 'InvalidArgument'].includes(getHttp.name), getHttp.name);

    await http.send(new DeletePublicAccessBlockCommand({ Bucket: b }));
    await http.send(new PutBucketPolicyCommand({ Bucket: b, Policy: doc([{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` }]) }));
    const open = await anonGet(`${k.httpsEndpoint}/${b}/open`);
    assert.equal(open.status, 200, 'the policy does let everyone read');
    assert.equal(open.body.toString(), 'open');
    const anon = await anonGet(`${k.httpsEndpoint}/${b}/kms`);
    assert.ok(anon.status === 400 || anon.status === 403, `anonymous GET of an SSE-KMS object refused, got ${anon.status}`);
    assert.equal(anon.body.includes(secret), false);
  });

  it('SSE-KMS uses the requester\'s KMS rights: kms:GenerateDataKey to write, kms:Decrypt to read, and a key-policy deny wins', async () => {
    const key = await newKey('requester rights');
    const b = await newBucket();
    const user = await userWithKey('kms-requester', [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }]);
    const u = tlsS3(k, user);
    const putKms = (name: string): Promise<Result> => result(u.send(new PutObjectCommand({ Bucket: b, Key: name, Body: name, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.arn })));
    const get = (c: S3Client, name: string): Promise<Result> => result(c.send(new GetObjectCommand({ Bucket: b, Key: name })));

    assert.equal((await result(u.send(new PutObjectCommand({ Bucket: b, Key: 'plain', Body: 'plain' })))).name, 'OK', 'SSE-S3 needs no KMS rights');
    // The aws/s3 key policy lets every principal of the account that may use S3 use it through S3.
    assert.equal((await result(u.send(new PutObjectCommand({ Bucket: b, Key: 'managed', Body: 'm', ServerSideEncryption: 'aws:kms' })))).name, 'OK');
    assert.equal((await get(u, 'managed')).name, 'OK');

    // The default key policy delegates to IAM: without kms:GenerateDataKey the PUT fails.
    assert.deepEqual(await putKms('denied'), { name: 'AccessDenied', status: 403 });
    assert.equal((await result(http.send(new HeadObjectCommand({ Bucket: b, Key: 'denied' })))).status, 404, 'nothing stored');
    await rootIam.send(new PutUserPolicyCommand({ UserName: 'kms-requester', PolicyName: 'generate', PolicyDocument: doc([{ Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: key.arn }]) }));
    assert.equal((await putKms('written')).name, 'OK');
    assert.deepEqual(await get(u, 'written'), { name: 'AccessDenied', status: 403 }, 'no kms:Decrypt: no read');
    // The audit record of that KMS call says who, on which key, on behalf of which request, and why.
    const records = readFileSync(join(k.dataDir, 'audit', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    const denied = records.filter((r) => r.operation === 'Decrypt' && r.outcome === 'denied' && r.callerArn === user.arn);
    assert.equal(denied.length, 1, JSON.stringify(records.slice(-3)));
    assert.equal(denied[0]!.keyArn, key.arn);
    assert.ok(denied[0]!.viaRequestId, 'the S3 request it served');
    assert.match(denied[0]!.reason ?? '', /no identity-based policy allows kms:Decrypt/);
    assert.equal((await get(tls, 'written')).name, 'OK', 'the root may decrypt');
    await rootIam.send(new PutUserPolicyCommand({ UserName: 'kms-requester', PolicyName: 'decrypt', PolicyDocument: doc([{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: key.arn }]) }));
    assert.equal((await get(u, 'written')).name, 'OK');

    // A Deny in the key policy beats the identity policy's Allow.
    await kms.send(new PutKeyPolicyCommand({
      KeyId: key.id, PolicyName: 'default', Policy: doc([
        { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' },
        { Sid: 'NoDecryptForRequester', Effect: 'Deny', Principal: { AWS: user.arn }, Action: 'kms:Decrypt', Resource: '*' },
      ]),
    }));
    assert.deepEqual(await get(u, 'written'), { name: 'AccessDenied', status: 403 });
    assert.equal((await putKms('still-writes')).name, 'OK', 'only kms:Decrypt is denied');
    assert.equal((await get(tls, 'written')).name, 'OK', 'other principals unaffected');
  });

  it('KMS calls made for S3 carry the caller\'s context: a key-policy Deny on aws:PrincipalArn applies through S3 too', async () => {
    const key = await newKey('principal conditions');
    const b = await newBucket();
    const intern = await userWithKey('intern1', [{ Effect: 'Allow', Action: ['s3:*', 'kms:*'], Resource: '*' }]);
    await tls.send(new PutObjectCommand({ Bucket: b, Key: 'secret', Body: 'top secret', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.arn }));
    assert.equal((await result(tlsS3(k, intern).send(new GetObjectCommand({ Bucket: b, Key: 'secret' })))).name, 'OK');
    await kms.send(new PutKeyPolicyCommand({
      KeyId: key.id, PolicyName: 'default', Policy: doc([
        { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' },
        { Sid: 'NoInterns', Effect: 'Deny', Principal: '*', Action: 'kms:Decrypt', Resource: '*', Condition: { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${account}:user/intern*` } } },
      ]),
    }));
    assert.deepEqual(await result(tlsS3(k, intern).send(new GetObjectCommand({ Bucket: b, Key: 'secret' }))), { name: 'AccessDenied', status: 403 });
    assert.equal((await result(tls.send(new GetObjectCommand({ Bucket: b, Key: 'secret' })))).name, 'OK');
  });

  it('KMS grants: a grantee without any policy uses the key for exactly the granted operations, within the constraints, until revoked', async () => {
    const key = await newKey('grants');
    const grantee = await userWithKey('grantee', [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }]);
    const gk = new KMSClient({ endpoint: k.endpoint, region: 'us-east-1', credentials: grantee });
    const ctx = { app: 'payroll' };
    assert.equal((await result(gk.send(new EncryptCommand({ KeyId: key.arn, Plaintext: Buffer.from('x'), EncryptionContext: ctx })))).name, 'AccessDeniedException');
    const g = await kms.send(new CreateGrantCommand({
      KeyId: key.id, GranteePrincipal: grantee.arn, Operations: ['Encrypt', 'Decrypt', 'GenerateDataKey'], Constraints: { EncryptionContextSubset: ctx },
    }));
    assert.match(g.GrantId ?? '', /^[0-9a-f]{64}$/);
    const enc = await gk.send(new EncryptCommand({ KeyId: key.arn, Plaintext: Buffer.from('salary'), EncryptionContext: ctx }));
    const dec = await gk.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ctx }));
    assert.equal(Buffer.from(dec.Plaintext!).toString(), 'salary');
    assert.equal((await result(gk.send(new EncryptCommand({ KeyId: key.arn, Plaintext: Buffer.from('x'), EncryptionContext: { app: 'other' } })))).name, 'AccessDeniedException', 'outside the constraint');
    assert.equal((await result(gk.send(new DescribeKeyCommand({ KeyId: key.arn })))).name, 'AccessDeniedException', 'not a granted operation');
    const listed = await kms.send(new ListGrantsCommand({ KeyId: key.id }));
    assert.deepEqual(listed.Grants?.map((x) => x.GrantId), [g.GrantId]);
    await kms.send(new RevokeGrantCommand({ KeyId: key.id, GrantId: g.GrantId! }));
    assert.equal((await result(gk.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ctx })))).name, 'AccessDeniedException', 'revoked at once');
  });

  it('grants never lift the caller\'s gates: session policies and a deleted role still deny', async () => {
    const key = await newKey('grant gates');
    const role = await rootIam.send(new CreateRoleCommand({ RoleName: 'kms-grant-role', AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'sts:AssumeRole' }]) }));
    const assumer = await userWithKey('grant-assumer', [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: role.Role!.Arn! }]);
    await kms.send(new CreateGrantCommand({ KeyId: key.id, GranteePrincipal: role.Role!.Arn!, Operations: ['Encrypt'] }));
    const session = async (policy?: string): Promise<KMSClient> => {
      const r = await sts(k, assumer).send(new AssumeRoleCommand({ RoleArn: role.Role!.Arn!, RoleSessionName: 'grant-session', ...(policy ? { Policy: policy } : {}) }));
      return new KMSClient({ endpoint: k.endpoint, region: 'us-east-1', credentials: { accessKeyId: r.Credentials!.AccessKeyId!, secretAccessKey: r.Credentials!.SecretAccessKey!, sessionToken: r.Credentials!.SessionToken! } });
    };
    const encrypt = (c: KMSClient): Promise<Result> => result(c.send(new EncryptCommand({ KeyId: key.arn, Plaintext: Buffer.from('x') })));
    const open = await session();
    assert.equal((await encrypt(open)).name, 'OK', 'the grant allows the role');
    assert.equal((await encrypt(await session(doc([{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }])))).name, 'AccessDeniedException', 'the session policy still binds');
    await rootIam.send(new DeleteRoleCommand({ RoleName: 'kms-grant-role' }));
    assert.equal((await encrypt(open)).name, 'AccessDeniedException', 'a deleted role\'s session');
  });

  it('a cached S3 Bucket Key is refused when a key-policy Deny on the key\'s own tags applies', async () => {
    const key = await newKey('tag-locked');
    const b = await newBucket();
    await tls.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: key.arn }, BucketKeyEnabled: true }] } }));
    await tls.send(new PutObjectCommand({ Bucket: b, Key: 'a', Body: 'a' }));
    await kms.send(new PutKeyPolicyCommand({
      KeyId: key.id, PolicyName: 'default', Policy: doc([
        { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' },
        { Sid: 'Locked', Effect: 'Deny', Principal: '*', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/Locked': 'true' } } },
      ]),
    }));
    assert.equal((await result(tls.send(new PutObjectCommand({ Bucket: b, Key: 'b', Body: 'b' })))).name, 'OK');
    await kms.send(new TagResourceCommand({ KeyId: key.id, Tags: [{ TagKey: 'Locked', TagValue: 'true' }] }));
    assert.deepEqual(await result(tls.send(new PutObjectCommand({ Bucket: b, Key: 'c', Body: 'c' }))), { name: 'AccessDenied', status: 403 });
    assert.deepEqual(await result(tls.send(new GetObjectCommand({ Bucket: b, Key: 'a' }))), { name: 'AccessDenied', status: 403 });
  });

  it('a cached S3 Bucket Key is refused on the next request after a key-policy change without conditions takes the right away', async () => {
    // The root's allowed uses of a key whose policy has no conditions are remembered with the
    // key's document; a new policy must end that at once.
    const key = await newKey('lean-memo');
    const b = await newBucket();
    await tls.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: key.arn }, BucketKeyEnabled: true }] } }));
    await tls.send(new PutObjectCommand({ Bucket: b, Key: 'a', Body: 'a' }));
    for (let i = 0; i < 3; i++) assert.equal(await (await tls.send(new GetObjectCommand({ Bucket: b, Key: 'a' }))).Body!.transformToString(), 'a');
    await kms.send(new PutKeyPolicyCommand({
      KeyId: key.id, PolicyName: 'default', Policy: doc([
        { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' },
        { Sid: 'NoMoreDecrypt', Effect: 'Deny', Principal: '*', Action: 'kms:Decrypt', Resource: '*' },
      ]),
    }));
    assert.deepEqual(await result(tls.send(new GetObjectCommand({ Bucket: b, Key: 'a' }))), { name: 'AccessDenied', status: 403 });
    assert.equal((await result(tls.send(new PutObjectCommand({ Bucket: b, Key: 'b', Body: 'b' })))).name, 'OK');
  });

  it('a disabled key makes its objects unreadable (400 KMS.DisabledException) until it is enabled again', async () => {
    const key = await newKey('to be disabled');
    const b = await newBucket();
    await tls.send(new PutObjectCommand({ Bucket: b, Key: 'obj', Body: 'locked', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.arn }));
    await kms.send(new DisableKeyCommand({ KeyId: key.id }));
    assert.deepEqual(await result(tls.send(new GetObjectCommand({ Bucket: b, Key: 'obj' }))), { name: 'KMS.DisabledException', status: 400 });
    assert.deepEqual(
      await result(tls.send(new PutObjectCommand({ Bucket: b, Key: 'new', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.arn }))),
      { name: 'KMS.DisabledException', status: 400 },
    );
    await kms.send(new EnableKeyCommand({ KeyId: key.id }));
    const { data } = await read(tls.send(new GetObjectCommand({ Bucket: b, Key: 'obj' })));
    assert.equal(data.toString(), 'locked');
  });

  it('rotating a key keeps existing objects readable and new objects use the same key ARN', async () => {
    const key = await newKey('rotated');
    await kms.send(new EnableKeyRotationCommand({ KeyId: key.id }));
    const b = await newBucket();
    await tls.send(new PutObjectCommand({ Bucket: b, Key: 'before', Body: 'before', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.arn }));
    await kms.send(new RotateKeyOnDemandCommand({ KeyId: key.id }));
    assert.equal((await read(tls.send(new GetObjectCommand({ Bucket: b, Key: 'before' })))).data.toString(), 'before');
    const put = await tls.send(new PutObjectCommand({ Bucket: b, Key: 'after', Body: 'after', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.arn }));
    assert.equal(put.SSEKMSKeyId, key.arn);
    const { out, data } = await read(tls.send(new GetObjectCommand({ Bucket: b, Key: 'after' })));
    assert.equal(data.toString(), 'after');
    assert.equal(out.SSEKMSKeyId, key.arn);
  });

  it('multipart upload with SSE-KMS: encryption fixed at CreateMultipartUpload, whole and ranged GETs decrypt', async () => {
    const b = await newBucket();
    const part1 = randomBytes(5 * MiB);
    const part2 = randomBytes(1234);
    const whole = Buffer.concat([part1, part2]);
    const create = await tls.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyA.id }));
    assert.equal(create.ServerSideEncryption, 'aws:kms');
    assert.equal(create.SSEKMSKeyId, keyA.arn);
    const UploadId = create.UploadId!;
    const p1 = await tls.send(new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId, PartNumber: 1, Body: part1 }));
    const p2 = await tls.send(new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId, PartNumber: 2, Body: part2 }));
    assert.equal(p1.ServerSideEncryption, 'aws:kms');
    const done = await tls.send(new CompleteMultipartUploadCommand({
      Bucket: b, Key: 'mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] },
    }));
    assert.equal(done.ServerSideEncryption, 'aws:kms');
    assert.equal(done.SSEKMSKeyId, keyA.arn);
    assert.match(done.ETag!, /-2"$/);

    const { out, data } = await read(tls.send(new GetObjectCommand({ Bucket: b, Key: 'mp' })));
    assert.equal(data.length, whole.length);
    assert.ok(data.equals(whole));
    assert.equal(out.ServerSideEncryption, 'aws:kms');
    assert.equal(out.SSEKMSKeyId, keyA.arn);
    const from = 5 * MiB - 10;
    const ranged = await read(tls.send(new GetObjectCommand({ Bucket: b, Key: 'mp', Range: `bytes=${from}-${from + 19}` })));
    assert.deepEqual(ranged.data, whole.subarray(from, from + 20), 'a range across the part boundary');
    assert.equal(ranged.out.ContentRange, `bytes ${from}-${from + 19}/${whole.length}`);
    assert.equal(ranged.out.ServerSideEncryption, 'aws:kms');
    const head = await tls.send(new HeadObjectCommand({ Bucket: b, Key: 'mp' }));
    assert.equal(head.SSEKMSKeyId, keyA.arn);
    assert.equal(head.ContentLength, whole.length);
  });

  it('CopyObject encrypts the destination as the copy request / destination default says, not as the source was', async () => {
    const b = await newBucket();
    const data = randomBytes(2048);
    await tls.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: data, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyA.arn }));
    const copySource = `${b}/src`;

    const toS3 = await tls.send(new CopyObjectCommand({ Bucket: b, Key: 'to-sse-s3', CopySource: copySource, ServerSideEncryption: 'AES256' }));
    assert.equal(toS3.ServerSideEncryption, 'AES256');
    assert.equal(toS3.SSEKMSKeyId, undefined);
    const toB = await tls.send(new CopyObjectCommand({ Bucket: b, Key: 'to-key-b', CopySource: copySource, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyB.arn }));
    assert.equal(toB.ServerSideEncryption, 'aws:kms');
    assert.equal(toB.SSEKMSKeyId, keyB.arn);
    await tls.send(new CopyObjectCommand({ Bucket: b, Key: 'to-default', CopySource: copySource }));

    const expect: [string, string, string | undefined][] = [['to-sse-s3', 'AES256', undefined], ['to-key-b', 'aws:kms', keyB.arn], ['to-default', 'AES256', undefined]];
    for (const [key, sse, kmsKey] of expect) {
      const { out, data: got } = await read(tls.send(new GetObjectCommand({ Bucket: b, Key: key })));
      assert.deepEqual(got, data, key);
      assert.equal(out.ServerSideEncryption, sse, key);
      assert.equal(out.SSEKMSKeyId, kmsKey, key);
    }
  });

  // ---------------------------------------------------------------- Bucket Keys and default encryption

  it('S3 Bucket Keys: a default aws:kms rule with BucketKeyEnabled applies to PUTs without headers; a request can opt out for its object only', async () => {
    const b = await newBucket();
    await tls.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [rule({ key: keyA.arn, bucketKey: true })] } }));
    const client = tlsS3(k);
    const headers = rawHeaders(client);

    const put = await client.send(new PutObjectCommand({ Bucket: b, Key: 'a', Body: 'a' }));
    assert.equal(put.ServerSideEncryption, 'aws:kms');
    assert.equal(put.SSEKMSKeyId, keyA.arn);
    assert.equal(put.BucketKeyEnabled, true);
    assert.equal(headers()['x-amz-server-side-encryption-bucket-key-enabled'], 'true');
    const { out, data } = await read(client.send(new GetObjectCommand({ Bucket: b, Key: 'a' })));
    assert.equal(data.toString(), 'a');
    assert.equal(out.BucketKeyEnabled, true);
    assert.equal(out.SSEKMSKeyId, keyA.arn);

    const optOut = await client.send(new PutObjectCommand({ Bucket: b, Key: 'b', Body: 'b', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyA.arn, BucketKeyEnabled: false }));
    assert.equal(optOut.ServerSideEncryption, 'aws:kms');
    assert.notEqual(optOut.BucketKeyEnabled, true, 'the header is absent or false');
    const headB = await client.send(new HeadObjectCommand({ Bucket: b, Key: 'b' }));
    assert.notEqual(headB.BucketKeyEnabled, true);
    assert.equal(headB.SSEKMSKeyId, keyA.arn);
    assert.equal((await read(client.send(new GetObjectCommand({ Bucket: b, Key: 'b' })))).data.toString(), 'b');

    const next = await client.send(new PutObjectCommand({ Bucket: b, Key: 'c', Body: 'c' }));
    assert.equal(next.BucketKeyEnabled, true, 'the opt-out was for that object only');
    assert.equal((await client.send(new HeadObjectCommand({ Bucket: b, Key: 'a' }))).BucketKeyEnabled, true);
  });

  it('default encryption precedence: request headers win, then the bucket default; SSE-C is never a default (every cell)', async () => {
    type Default = 'SSE-S3' | 'SSE-KMS(A)' | 'SSE-KMS(A)+bucket key';
    type Req = 'none' | 'AES256' | 'aws:kms(B)' | 'SSE-C';
    const defaults: Record<Default, ServerSideEncryptionRule> = {
      'SSE-S3': rule('AES256', true),
      'SSE-KMS(A)': rule({ key: keyA.arn, bucketKey: false }, true),
      'SSE-KMS(A)+bucket key': rule({ key: keyA.arn, bucketKey: true }, true),
    };
    const c = customerKey();
    const requestFor = (r: Req): Record<string, unknown> => {
      switch (r) {
        case 'none': return {};
        case 'AES256': return { ServerSideEncryption: 'AES256' };
        case 'aws:kms(B)': return { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyB.arn };
        case 'SSE-C': return ssec(c);
      }
    };
    const buckets: Partial<Record<Default, string>> = {};
    for (const d of Object.keys(defaults) as Default[]) {
      const b = await newBucket();
      buckets[d] = b;
      await tls.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [defaults[d]] } }));
      for (const r of ['none', 'AES256', 'aws:kms(B)', 'SSE-C'] as Req[]) {
        const cell = `${d} × ${r}`;
        const key = `cell-${r.replace(/[^a-zA-Z0-9]/g, '')}`;
        const body = `body of ${cell}`;
        const readHeaders = r === 'SSE-C' ? ssec(c) : {};
        await tls.send(new PutObjectCommand({ Bucket: b, Key: key, Body: body, ...requestFor(r) }));
        const head: HeadObjectCommandOutput = await tls.send(new HeadObjectCommand({ Bucket: b, Key: key, ...readHeaders }));
        const got = await read(tls.send(new GetObjectCommand({ Bucket: b, Key: key, ...readHeaders })));
        assert.equal(got.data.toString(), body, cell);
        if (r === 'SSE-C') {
          assert.equal(head.SSECustomerAlgorithm, 'AES256', cell);
          assert.equal(head.SSECustomerKeyMD5, c.md5, cell);
          assert.notEqual(head.ServerSideEncryption, 'aws:kms', cell);
          assert.equal(head.SSEKMSKeyId, undefined, cell);
        } else if (r === 'AES256' || (r === 'none' && d === 'SSE-S3')) {
          assert.equal(head.ServerSideEncryption, 'AES256', cell);
          assert.equal(head.SSEKMSKeyId, undefined, cell);
          assert.notEqual(head.BucketKeyEnabled, true, cell);
          assert.equal(head.SSECustomerAlgorithm, undefined, cell);
        } else if (r === 'aws:kms(B)') {
          assert.equal(head.ServerSideEncryption, 'aws:kms', cell);
          assert.equal(head.SSEKMSKeyId, keyB.arn, cell);
          // Whether the bucket's BucketKeyEnabled carries over to a request that names another key is not pinned here.
          if (d !== 'SSE-KMS(A)+bucket key') assert.notEqual(head.BucketKeyEnabled, true, cell);
        } else {
          assert.equal(head.ServerSideEncryption, 'aws:kms', cell);
          assert.equal(head.SSEKMSKeyId, keyA.arn, cell);
          if (d === 'SSE-KMS(A)+bucket key') assert.equal(head.BucketKeyEnabled, true, cell);
          else assert.notEqual(head.BucketKeyEnabled, true, cell);
        }
      }
    }

    // Get/DeleteBucketEncryption: after Delete the bucket is back to SSE-S3 (every bucket has a default since 2023).
    const b = buckets['SSE-KMS(A)+bucket key']!;
    const got = (await tls.send(new GetBucketEncryptionCommand({ Bucket: b }))).ServerSideEncryptionConfiguration!.Rules![0]!;
    assert.equal(got.ApplyServerSideEncryptionByDefault?.SSEAlgorithm, 'aws:kms');
    assert.equal(got.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID, keyA.arn);
    assert.equal(got.BucketKeyEnabled, true);
    await tls.send(new DeleteBucketEncryptionCommand({ Bucket: b }));
    const reset = (await tls.send(new GetBucketEncryptionCommand({ Bucket: b }))).ServerSideEncryptionConfiguration!.Rules![0]!;
    assert.equal(reset.ApplyServerSideEncryptionByDefault?.SSEAlgorithm, 'AES256');
    assert.equal(reset.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID, undefined);
    const after = await tls.send(new PutObjectCommand({ Bucket: b, Key: 'after-delete', Body: 'x' }));
    assert.equal(after.ServerSideEncryption, 'AES256');
    assert.equal(after.SSEKMSKeyId, undefined);
  });

  it('a bucket policy denying PutObject unless s3:x-amz-server-side-encryption is aws:kms also denies PUTs relying on an SSE-KMS default', async () => {
    const b = await newBucket();
    await http.send(new PutBucketPolicyCommand({
      Bucket: b,
      Policy: doc([{ Sid: 'RequireKMS', Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: `arn:aws:s3:::${b}/*`, Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' } } }]),
    }));
    assert.equal((await result(tls.send(new PutObjectCommand({ Bucket: b, Key: 'plain', Body: 'x' })))).name, 'AccessDenied');
    assert.equal((await result(tls.send(new PutObjectCommand({ Bucket: b, Key: 'aes', Body: 'x', ServerSideEncryption: 'AES256' })))).name, 'AccessDenied');
    assert.equal((await result(tls.send(new PutObjectCommand({ Bucket: b, Key: 'kms', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyA.arn })))).name, 'OK');
    await tls.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [rule({ key: keyA.arn })] } }));
    // The condition key reflects the request header, not the encryption the object would get.
    assert.equal((await result(tls.send(new PutObjectCommand({ Bucket: b, Key: 'by-default', Body: 'x' })))).name, 'AccessDenied');
    assert.equal((await result(tls.send(new HeadObjectCommand({ Bucket: b, Key: 'by-default' })))).status, 404);
  });

  // ---------------------------------------------------------------- SSE-C

  it('SSE-C: the key is needed on every read, over TLS only; wrong key 403, missing key 400, wrong MD5 400', async () => {
    const b = await newBucket({ sseC: true });
    const c = customerKey();
    const data = randomBytes(3000);
    const put = await tls.send(new PutObjectCommand({ Bucket: b, Key: 'obj', Body: data, ...ssec(c) }));
    assert.equal(put.SSECustomerAlgorithm, 'AES256');
    assert.equal(put.SSECustomerKeyMD5, c.md5);
    assert.equal(put.ServerSideEncryption, undefined, 'SSE-C objects carry no x-amz-server-side-encryption');
    assert.notEqual(put.ETag, `"${md5hex(data)}"`, 'an SSE-C ETag is not the MD5 of the data');

    const { out, data: got } = await read(tls.send(new GetObjectCommand({ Bucket: b, Key: 'obj', ...ssec(c) })));
    assert.deepEqual(got, data);
    assert.equal(out.SSECustomerAlgorithm, 'AES256');
    assert.equal(out.SSECustomerKeyMD5, c.md5);
    const head = await tls.send(new HeadObjectCommand({ Bucket: b, Key: 'obj', ...ssec(c) }));
    assert.equal(head.SSECustomerKeyMD5, c.md5);
    assert.equal(head.ContentLength, data.length);
    const ranged = await read(tls.send(new GetObjectCommand({ Bucket: b, Key: 'obj', Range: 'bytes=100-199', ...ssec(c) })));
    assert.deepEqual(ranged.data, data.subarray(100, 200));

    assert.deepEqual(await result(tls.send(new GetObjectCommand({ Bucket: b, Key: 'obj' }))), { name: 'InvalidRequest', status: 400 });
    assert.equal((await result(tls.send(new HeadObjectCommand({ Bucket: b, Key: 'obj' })))).status, 400);
    const wrong = customerKey();
    assert.deepEqual(await result(tls.send(new GetObjectCommand({ Bucket: b, Key: 'obj', ...ssec(wrong) }))), { name: 'AccessDenied', status: 403 });
    assert.equal((await result(tls.send(new HeadObjectCommand({ Bucket: b, Key: 'obj', ...ssec(wrong) })))).status, 403);

    // The SDK always computes the key MD5 itself: this client replaces it on the wire (before signing).
    const badMd5 = withKeyMd5(tlsS3(k), wrong.md5);
    assert.deepEqual(await result(badMd5.send(new PutObjectCommand({ Bucket: b, Key: 'bad-md5', Body: 'x', ...ssec(c) }))), { name: 'InvalidArgument', status: 400 });
    assert.deepEqual(await result(badMd5.send(new GetObjectCommand({ Bucket: b, Key: 'obj', ...ssec(c) }))), { name: 'InvalidArgument', status: 400 });
    // A 16-byte key (the SDK base64-encodes a non-base64 string as given).
    assert.deepEqual(await result(tls.send(new PutObjectCommand({ Bucket: b, Key: 'short', Body: 'x', SSECustomerAlgorithm: 'AES256', SSECustomerKey: 'sixteen-byte-key' }))), { name: 'InvalidArgument', status: 400 });

    // Plain HTTP is refused for SSE-C writes and reads.
    assert.deepEqual(await result(http.send(new PutObjectCommand({ Bucket: b, Key: 'over-http', Body: 'x', ...ssec(c) }))), { name: 'InvalidRequest', status: 400 });
    assert.deepEqual(await result(http.send(new GetObjectCommand({ Bucket: b, Key: 'obj', ...ssec(c) }))), { name: 'InvalidRequest', status: 400 });
    for (const key of ['bad-md5', 'short', 'over-http']) assert.equal((await result(tls.send(new HeadObjectCommand({ Bucket: b, Key: key })))).status, 404, `${key} not stored`);
  });

  it('SSE-C: CopyObject re-keys with the copy-source headers; multipart repeats the key on every part', async () => {
    const b = await newBucket({ sseC: true });
    const k1 = customerKey();
    const k2 = customerKey();
    const data = randomBytes(1500);
    await tls.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: data, ...ssec(k1) }));
    assert.equal((await result(tls.send(new CopyObjectCommand({ Bucket: b, Key: 'no-source-key', CopySource: `${b}/src`, ...ssec(k2) })))).status, 400, 'the source key is required');
    const copy = await tls.send(new CopyObjectCommand({ Bucket: b, Key: 'rekeyed', CopySource: `${b}/src`, ...copySsec(k1), ...ssec(k2) }));
    assert.equal(copy.SSECustomerAlgorithm, 'AES256');
    assert.equal(copy.SSECustomerKeyMD5, k2.md5);
    assert.deepEqual((await read(tls.send(new GetObjectCommand({ Bucket: b, Key: 'rekeyed', ...ssec(k2) })))).data, data);
    assert.equal((await result(tls.send(new GetObjectCommand({ Bucket: b, Key: 'rekeyed', ...ssec(k1) })))).status, 403, 'the old key no longer opens the copy');
    // Copying an SSE-C source to an SSE-S3 destination.
    await tls.send(new CopyObjectCommand({ Bucket: b, Key: 'decrypted', CopySource: `${b}/src`, ...copySsec(k1) }));
    const plain = await read(tls.send(new GetObjectCommand({ Bucket: b, Key: 'decrypted' })));
    assert.deepEqual(plain.data, data);
    assert.equal(plain.out.ServerSideEncryption, 'AES256');

    const part1 = randomBytes(5 * MiB);
    const part2 = randomBytes(777);
    const whole = Buffer.concat([part1, part2]);
    const create = await tls.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp', ...ssec(k1) }));
    assert.equal(create.SSECustomerAlgorithm, 'AES256');
    assert.equal(create.SSECustomerKeyMD5, k1.md5);
    const UploadId = create.UploadId!;
    const p1 = await tls.send(new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId, PartNumber: 1, Body: part1, ...ssec(k1) }));
    assert.equal(p1.SSECustomerKeyMD5, k1.md5);
    const otherKey = await result(tls.send(new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId, PartNumber: 2, Body: part2, ...ssec(k2) })));
    assert.ok(otherKey.status === 400 || otherKey.status === 403, `a part with another key is refused, got ${otherKey.status} ${otherKey.name}`);
    const p2 = await tls.send(new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId, PartNumber: 2, Body: part2, ...ssec(k1) }));
    await tls.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] } }));
    const got = await read(tls.send(new GetObjectCommand({ Bucket: b, Key: 'mp', ...ssec(k1) })));
    assert.ok(got.data.equals(whole));
    assert.equal(got.out.SSECustomerKeyMD5, k1.md5);
    const from = 5 * MiB - 5;
    assert.deepEqual((await read(tls.send(new GetObjectCommand({ Bucket: b, Key: 'mp', Range: `bytes=${from}-${from + 9}`, ...ssec(k1) })))).data, whole.subarray(from, from + 10));
    assert.deepEqual(await result(tls.send(new GetObjectCommand({ Bucket: b, Key: 'mp' }))), { name: 'InvalidRequest', status: 400 });
  });

  it('SSE-C is blocked on new buckets (403 AccessDenied) until BlockedEncryptionTypes says NONE; re-blocking keeps old objects readable', async () => {
    const b = await newBucket();
    const c = customerKey();
    const initial = (await tls.send(new GetBucketEncryptionCommand({ Bucket: b }))).ServerSideEncryptionConfiguration!.Rules![0]!;
    assert.equal(initial.ApplyServerSideEncryptionByDefault?.SSEAlgorithm, 'AES256');
    assert.deepEqual(initial.BlockedEncryptionTypes?.EncryptionType, ['SSE-C'], 'a new bucket reports SSE-C blocked');
    assert.deepEqual(await result(tls.send(new PutObjectCommand({ Bucket: b, Key: 'blocked', Body: 'x', ...ssec(c) }))), { name: 'AccessDenied', status: 403 });
    assert.deepEqual(await result(tls.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'blocked-mp', ...ssec(c) }))), { name: 'AccessDenied', status: 403 });
    assert.equal((await result(tls.send(new HeadObjectCommand({ Bucket: b, Key: 'blocked' })))).status, 404);
    assert.equal((await result(tls.send(new PutObjectCommand({ Bucket: b, Key: 'sse-s3', Body: 'fine' })))).name, 'OK', 'other encryption is unaffected');

    await tls.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [rule('AES256', true)] } }));
    const unblocked = (await tls.send(new GetBucketEncryptionCommand({ Bucket: b }))).ServerSideEncryptionConfiguration!.Rules![0]!;
    assert.equal(unblocked.BlockedEncryptionTypes?.EncryptionType?.includes('SSE-C') ?? false, false);
    assert.equal((await result(tls.send(new PutObjectCommand({ Bucket: b, Key: 'allowed', Body: 'allowed', ...ssec(c) })))).name, 'OK');

    await tls.send(new PutBucketEncryptionCommand({
      Bucket: b, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] } }] },
    }));
    assert.deepEqual(await result(tls.send(new PutObjectCommand({ Bucket: b, Key: 'blocked-again', Body: 'x', ...ssec(c) }))), { name: 'AccessDenied', status: 403 });
    assert.deepEqual(await result(tls.send(new CopyObjectCommand({ Bucket: b, Key: 'copy-blocked', CopySource: `${b}/allowed`, ...copySsec(c), ...ssec(c) }))), { name: 'AccessDenied', status: 403 });
    assert.equal((await read(tls.send(new GetObjectCommand({ Bucket: b, Key: 'allowed', ...ssec(c) })))).data.toString(), 'allowed', 'existing SSE-C objects stay readable');
  });

  // ---------------------------------------------------------------- bad input

  it('refuses contradictory or unknown encryption requests: KMS key without aws:kms, SSE-C with an SSE header, unknown KMS keys', async () => {
    const b = await newBucket({ sseC: true });
    const c = customerKey();
    const put = (key: string, extra: Record<string, unknown>): Promise<Result> => result(tls.send(new PutObjectCommand({ Bucket: b, Key: key, Body: 'x', ...extra })));
    assert.deepEqual(await put('kms-key-only', { SSEKMSKeyId: keyA.arn }), { name: 'InvalidArgument', status: 400 });
    assert.deepEqual(await put('kms-key-with-aes', { ServerSideEncryption: 'AES256', SSEKMSKeyId: keyA.arn }), { name: 'InvalidArgument', status: 400 });
    assert.deepEqual(await put('ssec-and-aes', { ServerSideEncryption: 'AES256', ...ssec(c) }), { name: 'InvalidArgument', status: 400 });
    const ssecAndKms = await put('ssec-and-kms', { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyA.arn, ...ssec(c) });
    assert.equal(ssecAndKms.status, 400, ssecAndKms.name);
    assert.deepEqual(await put('unknown-alg', { ServerSideEncryption: 'AES512' }), { name: 'InvalidArgument', status: 400 });
    assert.deepEqual(await put('missing-key', { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: randomUUID() }), { name: 'KMS.NotFoundException', status: 400 });
    assert.deepEqual(await put('missing-arn', { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: `arn:aws:kms:us-east-1:${account}:key/${randomUUID()}` }), { name: 'KMS.NotFoundException', status: 400 });
    assert.deepEqual(await put('missing-alias', { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/no-such-alias' }), { name: 'KMS.NotFoundException', status: 400 });
    for (const key of ['kms-key-only', 'kms-key-with-aes', 'ssec-and-aes', 'ssec-and-kms', 'unknown-alg', 'missing-key', 'missing-arn', 'missing-alias']) {
      assert.equal((await result(tls.send(new HeadObjectCommand({ Bucket: b, Key: key })))).status, 404, `${key} not stored`);
    }
  });
});
