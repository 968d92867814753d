import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { bucketName, s3, startKura, type RunningKura } from './harness.js';

function send(k: RunningKura, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(k.endpoint);
    const req = http.request({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** AWS Signature Version 2 (S3 REST authentication), written out for the test. */
function signV2(secret: string, method: string, resource: string, date: string, contentType = '', amz = ''): string {
  const sts = `${method}\n\n${contentType}\n${date}\n${amz}${resource}`;
  return createHmac('sha1', secret).update(sts).digest('base64');
}

describe('Signature Version 2 (enabled by configuration)', () => {
  it('accepts header and query-string SigV2 when allowed, and tells s3:signatureversion apart', async () => {
    const k = await startKura({ env: { KURA_ALLOW_SIGV2: 'true' } });
    try {
      const b = bucketName();
      await s3(k).send(new CreateBucketCommand({ Bucket: b }));
      const date = new Date().toUTCString();
      const sig = signV2(k.root.secretAccessKey, 'PUT', `/${b}/v2.txt`, date, 'text/plain');
      const put = await send(k, 'PUT', `/${b}/v2.txt`, { date, 'content-type': 'text/plain', authorization: `AWS ${k.root.accessKeyId}:${sig}`, 'content-length': '7' }, 'sig v2!');
      assert.equal(put.status, 200, put.body);
      const expires = String(Math.floor(Date.now() / 1000) + 60);
      const qsig = signV2(k.root.secretAccessKey, 'GET', `/${b}/v2.txt`, expires);
      const get = await send(k, 'GET', `/${b}/v2.txt?AWSAccessKeyId=${k.root.accessKeyId}&Expires=${expires}&Signature=${encodeURIComponent(qsig)}`, {});
      assert.equal(get.status, 200);
      assert.equal(get.body, 'sig v2!');
      const bad = await send(k, 'GET', `/${b}/v2.txt`, { date, authorization: `AWS ${k.root.accessKeyId}:${sig}` });
      assert.equal(bad.status, 403);
      assert.match(bad.body, /SignatureDoesNotMatch/);
      // The bucket root, path style, signed as /bucket or as /bucket/ (what botocore signs).
      for (const resource of [`/${b}`, `/${b}/`]) {
        const list = await send(k, 'GET', `/${b}`, { date, authorization: `AWS ${k.root.accessKeyId}:${signV2(k.root.secretAccessKey, 'GET', resource, date)}` });
        assert.equal(list.status, 200, `${resource}: ${list.body}`);
      }
      const other = await send(k, 'GET', `/${b}`, { date, authorization: `AWS ${k.root.accessKeyId}:${signV2(k.root.secretAccessKey, 'GET', `/${b}x/`, date)}` });
      assert.equal(other.status, 403);
      // A malformed SigV2 header is a client error, never an anonymous request.
      const malformed = await send(k, 'GET', `/${b}`, { date, authorization: 'AWS HAHAHA' });
      assert.equal(malformed.status, 400);
      assert.match(malformed.body, /<Code>InvalidArgument<\/Code>/);
    } finally {
      await k.stop();
    }
  });

  it('refuses SigV2 by default', async () => {
    const k = await startKura();
    try {
      const date = new Date().toUTCString();
      const sig = signV2(k.root.secretAccessKey, 'GET', '/', date);
      const r = await send(k, 'GET', '/', { date, authorization: `AWS ${k.root.accessKeyId}:${sig}` });
      assert.equal(r.status, 400);
      assert.match(r.body, /<Code>InvalidRequest<\/Code><Message>The authorization mechanism you have provided is not supported/);
      // An Authorization header of no AWS scheme is refused too, not served as anonymous.
      const other = await send(k, 'GET', '/', { date, authorization: 'Bearer abc' });
      assert.equal(other.status, 400);
      assert.match(other.body, /<Code>InvalidArgument<\/Code><Message>Unsupported Authorization Type/);
    } finally {
      await k.stop();
    }
  });
});
