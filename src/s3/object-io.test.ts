import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { IntegrityError } from '../crypto/errors.js';
import type { ObjectSse, ObjectVersion } from '../storage/ports.js';
import { collect, setup } from './handler-test-env.js';
import { cachedPieceKeyCount, readInlineObject, readObject, storeData } from './object-io.js';

async function stored(env: Awaited<ReturnType<typeof setup>>, data: Buffer, objectKey?: Buffer): Promise<ObjectVersion> {
  const place = { bucket: 'bkt', key: `k-${randomBytes(4).toString('hex')}`, versionId: 'null' };
  const s = await storeData(env.svc, Readable.from([data]), place, { checksums: [], maxBytes: 1 << 30, expectedBytes: data.length, ...(objectKey ? { objectKey } : {}) });
  return { ...place, pieces: [s.piece], size: data.length, uploadId: null } as unknown as ObjectVersion;
}

test('opened keys are cached for SSE-S3 and SSE-KMS pieces, never for SSE-C; a tampered wrapped key still fails', async () => {
  const env = await setup();
  const data = randomBytes(300_000); // blob tier: no inline store needed
  const kms: ObjectSse = { algorithm: 'aws:kms', keyArn: 'arn:aws:kms:us-east-1:111122223333:key/x' };
  const ssec: ObjectSse = { algorithm: 'SSE-C', keyMd5: 'm', keyHmac: 'h', salt: 's' };

  const s3 = await stored(env, data);
  const before = cachedPieceKeyCount();
  assert.ok((await collect(readObject(env.svc, { ...s3, sse: { algorithm: 'AES256' } }, 0, data.length - 1))).equals(data));
  assert.equal(cachedPieceKeyCount(), before + 1);
  assert.ok((await collect(readObject(env.svc, { ...s3, sse: { algorithm: 'AES256' } }, 5, 99))).equals(data.subarray(5, 100)));
  assert.equal(cachedPieceKeyCount(), before + 1);

  const objectKey = randomBytes(32);
  const k = await stored(env, data, objectKey);
  assert.ok((await collect(readObject(env.svc, { ...k, sse: kms }, 0, data.length - 1, objectKey))).equals(data));
  assert.equal(cachedPieceKeyCount(), before + 2);
  // A different object key does not get the cached DEK: it fails as an uncached open would.
  assert.throws(() => readObject(env.svc, { ...k, sse: kms }, 0, data.length - 1, randomBytes(32)), (e) => e instanceof IntegrityError);

  const c = await stored(env, data, objectKey);
  assert.ok((await collect(readObject(env.svc, { ...c, sse: ssec }, 0, data.length - 1, objectKey))).equals(data));
  assert.ok((await collect(readObject(env.svc, { ...c }, 0, data.length - 1, objectKey))).equals(data)); // no sse given: not trusted to be cacheable
  assert.equal(cachedPieceKeyCount(), before + 2);

  // The same piece claimed for another place (key, version) misses and fails to unwrap.
  for (const moved of [{ ...s3, key: 'elsewhere' }, { ...s3, versionId: 'v2' }]) {
    assert.throws(() => readObject(env.svc, { ...moved, sse: { algorithm: 'AES256' } }, 0, data.length - 1), (e) => e instanceof IntegrityError);
  }
  // Tampering with the wrapped DEK changes the fingerprint: no hit, and the unwrap fails.
  const piece = s3.pieces[0]!;
  const dek = piece.enc.dek as { ct: string };
  const ct = Buffer.from(dek.ct, 'base64');
  ct[0]! ^= 1;
  const tampered = { ...s3, sse: { algorithm: 'AES256' as const }, pieces: [{ ...piece, enc: { ...piece.enc, dek: { ...piece.enc.dek, ct: ct.toString('base64') } } }] } as ObjectVersion;
  assert.throws(() => readObject(env.svc, tampered, 0, data.length - 1), (e) => e instanceof IntegrityError);
  assert.equal(await readInlineObject(env.svc, s3, 0, 1), undefined);
});
