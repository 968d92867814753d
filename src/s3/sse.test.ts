import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Principal } from '../auth/principal.js';
import { S3Error } from '../errors/s3-errors.js';
import type { S3Request } from '../http/request.js';
import {
  BucketKeyCache, bucketEncryptionOf, bucketEncryptionXml, customerKeyOf, DEFAULT_BUCKET_ENCRYPTION, objectKeyFor, parseBucketEncryption, sseHeaders, writeEncryption,
  type BucketEncryption, type S3Kms, type SseDeps,
} from './sse.js';

const caller: Principal = { kind: 'account-root', accountId: '111122223333', canonicalId: 'c', accessKeyId: 'AK' };

function request(headers: Record<string, string>, tls = true): S3Request {
  return {
    requestId: 'r', hostId: 'h', method: 'PUT', rawPath: '/b/k', rawQuery: '', query: new Map(), headers, body: Readable.from([]),
    clientIp: '127.0.0.1', tls: tls ? { version: 'TLSv1.3', cipher: 'x' } as never : null, receivedAt: new Date(),
  };
}

/** A KMS double: "encrypts" data keys by XOR with a per-key pad, counting operations. */
function fakeKms(): S3Kms & { ops: { generate: number; decrypt: number; authorize: number } } {
  const ops = { generate: 0, decrypt: 0, authorize: 0 };
  const arn = (ref: string | undefined): string => `arn:aws:kms:us-east-1:111122223333:key/${ref ?? 'aws-s3'}`;
  return {
    ops,
    resolveKeyArn: async (_c, ref) => arn(ref?.split('/').pop()),
    generateDataKey: async (_c, ref, context) => {
      ops.generate++;
      const plaintext = randomBytes(32);
      return { keyArn: arn(ref?.split('/').pop()), plaintext, ciphertextBlob: Buffer.concat([Buffer.from(JSON.stringify(context)), Buffer.from([0]), plaintext]) };
    },
    decrypt: async (_c, blob, context) => {
      ops.decrypt++;
      const sep = blob.indexOf(0);
      assert.equal(blob.subarray(0, sep).toString(), JSON.stringify(context), 'the same encryption context');
      return { keyArn: arn('x'), plaintext: blob.subarray(sep + 1) };
    },
    authorize: async () => {
      ops.authorize++;
    },
  };
}

const customer = (): { headers: Record<string, string>; key: Buffer } => {
  const key = randomBytes(32);
  return {
    key,
    headers: {
      'x-amz-server-side-encryption-customer-algorithm': 'AES256',
      'x-amz-server-side-encryption-customer-key': key.toString('base64'),
      'x-amz-server-side-encryption-customer-key-md5': createHash('md5').update(key).digest('base64'),
    },
  };
};

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    return e instanceof S3Error ? e.code : String(e);
  }
}

const target = { bucket: 'b', key: 'k' };
const unblocked: BucketEncryption = { ...DEFAULT_BUCKET_ENCRYPTION, blockSseC: false };

describe('SSE request handling', () => {
  it('validates SSE-C headers: algorithm, key length, key MD5, completeness', () => {
    const c = customer();
    assert.deepEqual(customerKeyOf(request(c.headers))?.key, c.key);
    const bad = (h: Record<string, string>): string => {
      try {
        customerKeyOf(request({ ...c.headers, ...h }));
        return 'OK';
      } catch (e) {
        return (e as S3Error).code;
      }
    };
    assert.equal(bad({ 'x-amz-server-side-encryption-customer-algorithm': 'AES128' }), 'InvalidEncryptionAlgorithmError');
    assert.equal(bad({ 'x-amz-server-side-encryption-customer-key': randomBytes(16).toString('base64') }), 'InvalidArgument');
    assert.equal(bad({ 'x-amz-server-side-encryption-customer-key-md5': createHash('md5').update('x').digest('base64') }), 'InvalidArgument');
    assert.equal(customerKeyOf(request({})), undefined);
  });

  it('SSE-C: HTTPS only, blocked by default, never mixed with x-amz-server-side-encryption; the key is checked by HMAC, never stored', async () => {
    const deps: SseDeps = { bucketKeys: new BucketKeyCache(() => 0) };
    const c = customer();
    assert.equal(await code(writeEncryption(deps, request(c.headers), caller, target, DEFAULT_BUCKET_ENCRYPTION)), 'AccessDenied');
    assert.equal(await code(writeEncryption(deps, request(c.headers, false), caller, target, unblocked)), 'InvalidRequest');
    assert.equal(await code(writeEncryption(deps, request({ ...c.headers, 'x-amz-server-side-encryption': 'AES256' }), caller, target, unblocked)), 'InvalidArgument');
    const w = await writeEncryption(deps, request(c.headers), caller, target, unblocked);
    assert.equal(w.sse.algorithm, 'SSE-C');
    assert.ok(!JSON.stringify(w.sse).includes(c.key.toString('base64')), 'the key is not stored');
    assert.deepEqual(await objectKeyFor(deps, request(c.headers), caller, target, w.sse), c.key);
    assert.equal(await code(objectKeyFor(deps, request(customer().headers), caller, target, w.sse)), 'AccessDenied');
    assert.equal(await code(objectKeyFor(deps, request({}), caller, target, w.sse)), 'InvalidRequest');
    assert.equal(await code(objectKeyFor(deps, request(c.headers), caller, target, { algorithm: 'AES256' })), 'InvalidRequest');
    assert.deepEqual(sseHeaders(w.sse), { 'x-amz-server-side-encryption-customer-algorithm': 'AES256', 'x-amz-server-side-encryption-customer-key-MD5': c.headers['x-amz-server-side-encryption-customer-key-md5'] });
  });

  it('precedence: request headers win over the bucket default; an explicit aws:kms header without a key id uses aws/s3', async () => {
    const kms = fakeKms();
    const deps: SseDeps = { kms, bucketKeys: new BucketKeyCache(() => 0) };
    const kmsDefault: BucketEncryption = { algorithm: 'aws:kms', kmsKeyId: 'key-a', bucketKeyEnabled: false, blockSseC: true };
    const algo = async (h: Record<string, string>, d: BucketEncryption): Promise<string> => {
      const w = await writeEncryption(deps, request(h), caller, target, d);
      return w.sse.algorithm === 'aws:kms' ? `kms:${w.sse.keyArn.split('/').pop()!}` : w.sse.algorithm;
    };
    assert.equal(await algo({}, DEFAULT_BUCKET_ENCRYPTION), 'AES256');
    assert.equal(await algo({}, kmsDefault), 'kms:key-a');
    assert.equal(await algo({ 'x-amz-server-side-encryption': 'AES256' }, kmsDefault), 'AES256');
    assert.equal(await algo({ 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': 'key-b' }, kmsDefault), 'kms:key-b');
    assert.equal(await algo({ 'x-amz-server-side-encryption': 'aws:kms' }, kmsDefault), 'kms:aws-s3');
    assert.equal(await code(algo({ 'x-amz-server-side-encryption-aws-kms-key-id': 'key-b' }, DEFAULT_BUCKET_ENCRYPTION)), 'InvalidArgument');
    assert.equal(await code(writeEncryption(deps, request({ 'x-amz-server-side-encryption': 'aws:kms' }, false), caller, target, DEFAULT_BUCKET_ENCRYPTION)), 'InvalidRequest');
    assert.equal(await code(writeEncryption(deps, request({ 'x-amz-server-side-encryption': 'aws:kms' }), { kind: 'anonymous' }, target, DEFAULT_BUCKET_ENCRYPTION)), 'InvalidArgument');
  });

  it('SSE-KMS object keys round-trip through the KMS with the object ARN as context, and Bucket Keys cut data-key operations', async () => {
    const kms = fakeKms();
    const deps: SseDeps = { kms, bucketKeys: new BucketKeyCache(() => 0) };
    const w = await writeEncryption(deps, request({ 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': 'key-a' }), caller, target, DEFAULT_BUCKET_ENCRYPTION);
    assert.deepEqual(await objectKeyFor(deps, request({}), caller, target, w.sse), w.objectKey);
    const withBucketKey: BucketEncryption = { algorithm: 'aws:kms', kmsKeyId: 'key-a', bucketKeyEnabled: true, blockSseC: true };
    const before = kms.ops.generate;
    const keys = [];
    for (let i = 0; i < 1000; i++) keys.push(await writeEncryption(deps, request({}), caller, { bucket: 'b', key: `k${i}` }, withBucketKey));
    assert.equal(kms.ops.generate - before, 1, 'one data-key operation for 1,000 objects');
    assert.equal(new Set(keys.map((k) => k.objectKey!.toString('hex'))).size, 1000, 'every object still has its own key');
    assert.equal(kms.ops.authorize, 999, 'every request is still authorized against the KMS key');
    assert.deepEqual(await objectKeyFor(deps, request({}), caller, { bucket: 'b', key: 'k7' }, keys[7]!.sse), keys[7]!.objectKey);
    assert.deepEqual(sseHeaders(keys[0]!.sse)['x-amz-server-side-encryption-bucket-key-enabled'], 'true');
  });

  it('parses and prints bucket encryption with BlockedEncryptionTypes', () => {
    const xml = (rule: string): string => `<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule>${rule}</Rule></ServerSideEncryptionConfiguration>`;
    assert.deepEqual(parseBucketEncryption(xml('<ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>alias/a</KMSMasterKeyID></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled>')),
      { algorithm: 'aws:kms', kmsKeyId: 'alias/a', bucketKeyEnabled: true, blockSseC: true });
    assert.equal(parseBucketEncryption(xml('<ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BlockedEncryptionTypes><EncryptionType>NONE</EncryptionType></BlockedEncryptionTypes>')).blockSseC, false);
    assert.throws(() => parseBucketEncryption(xml('<ApplyServerSideEncryptionByDefault><SSEAlgorithm>rot13</SSEAlgorithm></ApplyServerSideEncryptionByDefault>')), /MalformedXML|XML/);
    const round = parseBucketEncryption(bucketEncryptionXml({ algorithm: 'aws:kms', kmsKeyId: 'k', bucketKeyEnabled: true, blockSseC: false }));
    assert.deepEqual(round, { algorithm: 'aws:kms', kmsKeyId: 'k', bucketKeyEnabled: true, blockSseC: false });
    assert.deepEqual(bucketEncryptionOf(undefined), DEFAULT_BUCKET_ENCRYPTION);
  });
});
