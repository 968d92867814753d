/** The body wrapper's life cycle: large signed payloads hash on the pool, and an unread body releases its job. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { S3Request } from '../http/request.js';
import { HashPool } from '../util/hash-pool.js';
import { releaseUnreadBody, verifiedBody, type AuthInfo } from './authenticate.js';

function request(length: number, sha: string): S3Request {
  return {
    requestId: 'r', hostId: 'h', method: 'PUT', rawPath: '/b/k', rawQuery: '', query: new Map(),
    headers: { 'content-length': String(length), 'x-amz-content-sha256': sha },
    body: new PassThrough(), clientIp: '127.0.0.1', tls: null, receivedAt: new Date(),
  };
}

const signed = (hex: string): AuthInfo => ({ kind: 'sigv4', v4: { payload: { kind: 'sha256', hex } } } as unknown as AuthInfo);
const unsigned: AuthInfo = { kind: 'sigv4', v4: { payload: { kind: 'unsigned' } } } as unknown as AuthInfo;

describe('verifiedBody and releaseUnreadBody', () => {
  it('a large signed body hashed on the pool; an unread one gives its job back and leaves the request alone', async () => {
    const pool = new HashPool(1);
    const jobs = (pool as unknown as { jobs: Map<number, unknown> }).jobs;
    try {
      const data = randomBytes(2 * 1024 * 1024);
      const hex = createHash('sha256').update(data).digest('hex');
      // Read to the end: verified, the job finished, nothing to release.
      const req = request(data.length, hex);
      const body = verifiedBody(req, signed(hex), pool);
      assert.notEqual(body.stream, req.body);
      assert.equal(jobs.size, 1);
      (req.body as PassThrough).end(data);
      const chunks: Buffer[] = [];
      for await (const c of body.stream) chunks.push(c as Buffer);
      assert.ok(Buffer.concat(chunks).equals(data));
      assert.equal(jobs.size, 0);
      releaseUnreadBody(body, req); // a no-op on a finished body
      assert.equal(jobs.size, 0);

      // Answered early (the handler never read it): the job is released, the request is not destroyed.
      const early = request(data.length, hex);
      const unread = verifiedBody(early, signed(hex), pool);
      assert.equal(jobs.size, 1);
      releaseUnreadBody(unread, early);
      assert.equal(jobs.size, 0);
      assert.equal(unread.stream.destroyed, true);
      assert.equal(early.body.destroyed, false);

      // Small bodies hash inline; unsigned bodies are the request itself, never destroyed here.
      const small = request(10, hex);
      verifiedBody(small, signed(hex), pool);
      assert.equal(jobs.size, 0);
      const plain = request(data.length, 'UNSIGNED-PAYLOAD');
      const raw = verifiedBody(plain, unsigned, pool);
      assert.equal(raw.stream, plain.body);
      releaseUnreadBody(raw, plain);
      assert.equal(plain.body.destroyed, false);
      releaseUnreadBody(undefined, plain);
    } finally {
      await pool.close();
    }
  });
});
