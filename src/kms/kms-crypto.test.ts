import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KmsService } from './kms-service.js';
import { A, B, REGION, T0, b64, harness, root, unb64, user, type Harness } from './testing.js';

let h: Harness;
before(async () => {
  h = await harness();
});
after(async () => {
  await h.close();
});
beforeEach(() => h.reset());

const CTX = { 'aws:s3:arn': 'arn:aws:s3:::bucket/key', Tenant: 'acme' };

describe('Encrypt / Decrypt', () => {
  test('round trip with an encryption context; Decrypt needs no KeyId', async () => {
    const k = await h.createKey();
    const enc = await h.call('Encrypt', { KeyId: k.KeyId, Plaintext: b64('hello'), EncryptionContext: CTX });
    assert.equal(enc.KeyId, k.Arn);
    assert.equal(enc.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
    const dec = await h.call('Decrypt', { CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { Tenant: 'acme', 'aws:s3:arn': 'arn:aws:s3:::bucket/key' } });
    assert.deepEqual(dec, { KeyId: k.Arn, Plaintext: b64('hello'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
    // With a KeyId naming the same key in any form, and a mismatching one.
    await h.call('CreateAlias', { AliasName: 'alias/crypto', TargetKeyId: k.KeyId });
    assert.equal((await h.call('Decrypt', { CiphertextBlob: enc.CiphertextBlob, EncryptionContext: CTX, KeyId: 'alias/crypto' })).KeyId, k.Arn);
    const other = await h.createKey();
    await h.fail('Decrypt', { CiphertextBlob: enc.CiphertextBlob, EncryptionContext: CTX, KeyId: other.KeyId }, 'IncorrectKeyException');
  });

  test('wrong, missing or extra context → InvalidCiphertextException', async () => {
    const k = await h.createKey();
    const { CiphertextBlob } = await h.call('Encrypt', { KeyId: k.KeyId, Plaintext: b64('x'), EncryptionContext: CTX });
    await h.fail('Decrypt', { CiphertextBlob }, 'InvalidCiphertextException');
    await h.fail('Decrypt', { CiphertextBlob, EncryptionContext: { ...CTX, Tenant: 'evil' } }, 'InvalidCiphertextException');
    await h.fail('Decrypt', { CiphertextBlob, EncryptionContext: { ...CTX, extra: '1' } }, 'InvalidCiphertextException');
    await h.fail('Decrypt', { CiphertextBlob, EncryptionContext: { 'aws:s3:arn': CTX['aws:s3:arn'], tenant: 'acme' } }, 'InvalidCiphertextException');
  });

  test('tampered blobs → InvalidCiphertextException (property, through the API)', async () => {
    const k = await h.createKey();
    const blob = unb64((await h.call('Encrypt', { KeyId: k.KeyId, Plaintext: b64('payload') })).CiphertextBlob);
    await fc.assert(fc.asyncProperty(fc.nat(blob.length - 1), fc.integer({ min: 0, max: 7 }), async (at, bit) => {
      const bad = Buffer.from(blob);
      bad[at]! ^= 1 << bit;
      await h.fail('Decrypt', { CiphertextBlob: b64(bad) }, 'InvalidCiphertextException');
    }), { numRuns: 60 });
    await h.fail('Decrypt', { CiphertextBlob: b64('not a kms blob at all, clearly not') }, 'InvalidCiphertextException');
    await h.fail('Decrypt', { CiphertextBlob: 'not base64!' }, 'SerializationException');
  });

  test('plaintext limits and algorithm', async () => {
    const k = await h.createKey();
    await h.fail('Encrypt', { KeyId: k.KeyId, Plaintext: b64(Buffer.alloc(4097)) }, 'ValidationException',
      "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096");
    await h.fail('Encrypt', { KeyId: k.KeyId, Plaintext: '' }, 'ValidationException');
    await h.fail('Encrypt', { KeyId: k.KeyId, Plaintext: b64('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }, 'InvalidKeyUsageException');
    await h.fail('Encrypt', { KeyId: k.KeyId, Plaintext: b64('x'), EncryptionContext: { a: 1 } }, 'SerializationException');
    const e = await h.call('Encrypt', { KeyId: k.KeyId, Plaintext: b64(Buffer.alloc(4096, 7)), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
    assert.deepEqual(unb64((await h.call('Decrypt', { CiphertextBlob: e.CiphertextBlob })).Plaintext), Buffer.alloc(4096, 7));
  });

  test('DryRun checks everything and does nothing', async () => {
    const k = await h.createKey();
    const dry = await h.fail('Encrypt', { KeyId: k.KeyId, Plaintext: b64('x'), DryRun: true }, 'DryRunOperationException');
    assert.equal(dry.status, 412, 'the KMS API reference gives DryRunOperationException HTTP 412');
    await h.call('DisableKey', { KeyId: k.KeyId });
    await h.fail('Encrypt', { KeyId: k.KeyId, Plaintext: b64('x'), DryRun: true }, 'DisabledException');
  });
});

describe('key states and rotation on the data plane', () => {
  test('disabled keys → DisabledException; pending deletion → KMSInvalidStateException; both ways', async () => {
    const k = await h.createKey();
    const { CiphertextBlob } = await h.call('Encrypt', { KeyId: k.KeyId, Plaintext: b64('x') });
    await h.call('DisableKey', { KeyId: k.KeyId });
    for (const [op, input] of [
      ['Encrypt', { KeyId: k.KeyId, Plaintext: b64('x') }],
      ['Decrypt', { CiphertextBlob }],
      ['GenerateDataKey', { KeyId: k.KeyId, KeySpec: 'AES_256' }],
      ['GenerateDataKeyWithoutPlaintext', { KeyId: k.KeyId, NumberOfBytes: 16 }],
      ['ReEncrypt', { CiphertextBlob, DestinationKeyId: k.KeyId }],
    ] as const) {
      await h.fail(op, input, 'DisabledException', `${k.Arn} is disabled.`);
    }
    await h.call('ScheduleKeyDeletion', { KeyId: k.KeyId });
    await h.fail('Encrypt', { KeyId: k.KeyId, Plaintext: b64('x') }, 'KMSInvalidStateException', `${k.Arn} is pending deletion.`);
    await h.fail('Decrypt', { CiphertextBlob }, 'KMSInvalidStateException');
    await h.call('CancelKeyDeletion', { KeyId: k.KeyId });
    await h.call('EnableKey', { KeyId: k.KeyId });
    assert.equal(unb64((await h.call('Decrypt', { CiphertextBlob })).Plaintext).toString(), 'x');
  });

  test('rotation keeps old ciphertext decryptable and seals new ciphertext with the new version', async () => {
    const k = await h.createKey();
    const blobs: string[] = [];
    for (let i = 0; i < 4; i++) {
      blobs.push((await h.call('Encrypt', { KeyId: k.KeyId, Plaintext: b64(`v${i}`), EncryptionContext: { i: String(i) } })).CiphertextBlob as string);
      await h.call('RotateKeyOnDemand', { KeyId: k.KeyId });
    }
    // Each blob names the material version that sealed it (byte 29..32, see README).
    assert.deepEqual(blobs.map((b) => unb64(b).readUInt32BE(29)), [1, 2, 3, 4]);
    for (let i = 0; i < 4; i++) {
      assert.equal(unb64((await h.call('Decrypt', { CiphertextBlob: blobs[i], EncryptionContext: { i: String(i) } })).Plaintext).toString(), `v${i}`);
    }
    // A fresh service (nothing cached: as after a restart) reads every version from the store.
    const fresh = new KmsService({ meta: h.meta, keyring: h.keyring, region: REGION, clock: { now: () => new Date(h.now) }, authorize: () => ({ effect: 'Allow' }) });
    for (let i = 0; i < 4; i++) {
      const out = await fresh.handle({ caller: root(A), requestId: 'r', operation: 'Decrypt', input: { CiphertextBlob: blobs[i], EncryptionContext: { i: String(i) } }, context: new Map() });
      assert.equal(unb64((out as { Plaintext: string }).Plaintext).toString(), `v${i}`);
    }
  });

  test('a blob naming a deleted key → InvalidCiphertextException', async () => {
    const k = await h.createKey();
    const { CiphertextBlob } = await h.call('Encrypt', { KeyId: k.KeyId, Plaintext: b64('x') });
    await h.call('ScheduleKeyDeletion', { KeyId: k.KeyId, PendingWindowInDays: 7 });
    h.now = T0 + 8 * 86_400_000;
    await h.fail('Decrypt', { CiphertextBlob }, 'InvalidCiphertextException');
  });
});

describe('ReEncrypt / GenerateDataKey / GenerateRandom', () => {
  test('ReEncrypt moves a ciphertext to another key and context', async () => {
    const src = await h.createKey();
    const dst = await h.createKey();
    await h.call('CreateAlias', { AliasName: 'alias/dst', TargetKeyId: dst.KeyId });
    const { CiphertextBlob } = await h.call('Encrypt', { KeyId: src.KeyId, Plaintext: b64('moving'), EncryptionContext: { a: '1' } });
    h.authCalls.length = 0;
    const re = await h.call('ReEncrypt', { CiphertextBlob, SourceEncryptionContext: { a: '1' }, DestinationKeyId: 'alias/dst', DestinationEncryptionContext: { b: '2' } });
    assert.equal(re.SourceKeyId, src.Arn);
    assert.equal(re.KeyId, dst.Arn);
    assert.deepEqual(h.authCalls.map((c) => [c.action, c.keyArn, c.context.get('kms:reencryptonsamekey')]), [
      ['kms:ReEncryptFrom', src.Arn, 'false'], ['kms:ReEncryptTo', dst.Arn, 'false'],
    ]);
    assert.equal(h.authCalls[1]!.context.get('kms:requestalias'), 'alias/dst');
    assert.equal(h.authCalls[1]!.context.get('kms:encryptioncontext:b'), '2');
    assert.equal(unb64((await h.call('Decrypt', { CiphertextBlob: re.CiphertextBlob, EncryptionContext: { b: '2' } })).Plaintext).toString(), 'moving');
    await h.fail('Decrypt', { CiphertextBlob: re.CiphertextBlob, EncryptionContext: { a: '1' } }, 'InvalidCiphertextException');
  });

  test('GenerateDataKey: KeySpec or NumberOfBytes; the blob decrypts to the plaintext', async () => {
    const k = await h.createKey();
    const before = h.kms.stats.dataKeyOperations;
    const dk = await h.call('GenerateDataKey', { KeyId: k.Arn, KeySpec: 'AES_256', EncryptionContext: CTX });
    assert.equal(dk.KeyId, k.Arn);
    assert.equal(unb64(dk.Plaintext).length, 32);
    assert.deepEqual(unb64((await h.call('Decrypt', { CiphertextBlob: dk.CiphertextBlob, EncryptionContext: CTX })).Plaintext), unb64(dk.Plaintext));
    assert.equal(unb64((await h.call('GenerateDataKey', { KeyId: k.KeyId, KeySpec: 'AES_128' })).Plaintext).length, 16);
    assert.equal(unb64((await h.call('GenerateDataKey', { KeyId: k.KeyId, NumberOfBytes: 7 })).Plaintext).length, 7);
    const wp = await h.call('GenerateDataKeyWithoutPlaintext', { KeyId: k.KeyId, KeySpec: 'AES_256' });
    assert.equal(wp.Plaintext, undefined);
    assert.equal(unb64((await h.call('Decrypt', { CiphertextBlob: wp.CiphertextBlob })).Plaintext).length, 32);
    assert.equal(h.kms.stats.dataKeyOperations, before + 4);
    await h.fail('GenerateDataKey', { KeyId: k.KeyId }, 'ValidationException', 'Please specify either number of bytes or key spec.');
    await h.fail('GenerateDataKey', { KeyId: k.KeyId, KeySpec: 'AES_256', NumberOfBytes: 32 }, 'ValidationException');
    await h.fail('GenerateDataKey', { KeyId: k.KeyId, NumberOfBytes: 1025 }, 'ValidationException');
    await h.fail('GenerateDataKey', { KeyId: k.KeyId, KeySpec: 'AES_512' }, 'ValidationException');
  });

  test('GenerateRandom', async () => {
    assert.equal(unb64((await h.call('GenerateRandom', { NumberOfBytes: 64 })).Plaintext).length, 64);
    assert.equal(h.authCalls.at(-1)?.action, 'kms:GenerateRandom');
    await h.fail('GenerateRandom', {}, 'ValidationException');
    await h.fail('GenerateRandom', { NumberOfBytes: 1025 }, 'ValidationException');
  });
});

describe('authorization of cryptographic calls', () => {
  test('authorize receives the action, key ARN, key policy and the encryption context keys', async () => {
    const k = await h.createKey();
    await h.call('CreateAlias', { AliasName: 'alias/ctx', TargetKeyId: k.KeyId });
    h.authCalls.length = 0;
    await h.call('GenerateDataKey', { KeyId: 'alias/ctx', KeySpec: 'AES_256', EncryptionContext: CTX }, user(A, 'alice'));
    const c = h.authCalls[0]!;
    assert.equal(c.action, 'kms:GenerateDataKey');
    assert.equal(c.keyArn, k.Arn);
    assert.equal(c.keyAccountId, A);
    assert.ok(c.keyPolicy?.includes('Enable IAM User Permissions'));
    assert.equal(c.context.get('kms:calleraccount'), A);
    assert.equal(c.context.get('kms:viaservice'), undefined);
    assert.equal(c.context.get('kms:encryptioncontext:aws:s3:arn'), 'arn:aws:s3:::bucket/key');
    assert.equal(c.context.get('kms:encryptioncontext:tenant'), 'acme');
    assert.deepEqual(c.context.get('kms:encryptioncontextkeys'), ['aws:s3:arn', 'Tenant']);
    assert.equal(c.context.get('kms:encryptionalgorithm'), 'SYMMETRIC_DEFAULT');
    assert.equal(c.context.get('kms:requestalias'), 'alias/ctx');
  });

  test('a denial refuses the operation and reveals nothing', async () => {
    const k = await h.createKey();
    const { CiphertextBlob } = await h.call('Encrypt', { KeyId: k.KeyId, Plaintext: b64('secret'), EncryptionContext: { a: '1' } });
    h.rules = [(r) => (r.action === 'kms:Decrypt' && r.context.get('kms:encryptioncontext:a') !== '2' ? { effect: 'ImplicitDeny', reason: 'context' } : undefined)];
    const err = await h.fail('Decrypt', { CiphertextBlob, EncryptionContext: { a: '1' } }, 'AccessDeniedException',
      `User: arn:aws:iam::${A}:user/bob is not authorized to perform: kms:Decrypt on resource: ${k.Arn} because no resource-based policy allows the kms:Decrypt action`,
      user(A, 'bob'));
    assert.ok(!err.message.includes('secret'));
    const last = h.audits.at(-1)!;
    assert.deepEqual([last.operation, last.outcome, last.keyArn, last.reason], ['Decrypt', 'denied', k.Arn, 'context']);
    assert.ok(!JSON.stringify(h.audits).includes(b64('secret')));
  });

  test('cross-account use by key ARN: the key\'s account and policy go to authorize', async () => {
    const theirs = await h.createKey({}, root(B));
    h.authCalls.length = 0;
    const enc = await h.call('Encrypt', { KeyId: theirs.Arn, Plaintext: b64('x') }, user(A, 'alice'));
    assert.equal(enc.KeyId, theirs.Arn);
    assert.deepEqual([h.authCalls[0]!.keyAccountId, h.authCalls[0]!.context.get('kms:calleraccount')], [B, A]);
    // The blob names the key's account, so Decrypt finds it without a KeyId.
    assert.equal(unb64((await h.call('Decrypt', { CiphertextBlob: enc.CiphertextBlob }, user(A, 'alice'))).Plaintext).toString(), 'x');
    await h.call('CreateAlias', { AliasName: 'alias/shared', TargetKeyId: theirs.KeyId }, root(B));
    assert.equal((await h.call('Encrypt', { KeyId: `arn:aws:kms:${REGION}:${B}:alias/shared`, Plaintext: b64('y') })).KeyId, theirs.Arn);
    await h.fail('Encrypt', { KeyId: 'alias/shared', Plaintext: b64('y') }, 'NotFoundException');
  });
});
