import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import http from 'node:http';
import net from 'node:net';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { bucketName, cleanup, s3, sigv4Headers, startKura } from './harness.js';

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

describe('durability and encryption at rest (real process)', () => {
  it('keeps every acknowledged PUT across kill -9, and an interrupted upload leaves nothing', async () => {
    const k = await startKura();
    const c = s3(k);
    const b = bucketName();
    await c.send(new CreateBucketCommand({ Bucket: b }));
    const acked: string[] = [];
    for (let i = 0; i < 40; i++) {
      await c.send(new PutObjectCommand({ Bucket: b, Key: `k${i}`, Body: `value ${i}` }));
      acked.push(`k${i}`);
    }
    // Large enough for the blob-file tier (small objects are stored inline with their metadata).
    const big = Buffer.alloc(1024 * 1024, 9);
    await c.send(new PutObjectCommand({ Bucket: b, Key: 'big', Body: big }));
    acked.push('big');
    // Start a large upload and kill the server while its body is still streaming.
    const url = new URL(`${k.endpoint}/${b}/interrupted`);
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'PUT', headers: { 'content-length': String(64 * 1024 * 1024) } });
    req.on('error', () => undefined);
    req.write(Buffer.alloc(8 * 1024 * 1024, 1));
    await new Promise((r) => setTimeout(r, 300));
    await k.kill();
    req.destroy();

    const k2 = await startKura({ dataDir: k.dataDir });
    try {
      const c2 = s3(k2);
      const list = await c2.send(new ListObjectsV2Command({ Bucket: b }));
      const keys = (list.Contents ?? []).map((o) => o.Key!);
      for (const key of acked) assert.ok(keys.includes(key), `${key} survived`);
      assert.ok(!keys.includes('interrupted'), 'the interrupted upload is not visible');
      const got = await c2.send(new GetObjectCommand({ Bucket: b, Key: 'k39' }));
      assert.equal(await got.Body!.transformToString(), 'value 39');
      const gotBig = await c2.send(new GetObjectCommand({ Bucket: b, Key: 'big' }));
      assert.deepEqual(Buffer.from(await gotBig.Body!.transformToByteArray()), big);
      // Start-up GC removed the partial blob of the interrupted upload: only 'big' has a file.
      const blobs = walk(join(k2.dataDir, 'blobs'));
      assert.equal(blobs.length, 1);
    } finally {
      await k2.stop();
    }
  });

  it('never writes plaintext: a known marker is nowhere in the data directory', async () => {
    const k = await startKura();
    const marker = 'KURA-PLAINTEXT-MARKER-7f3a9c';
    try {
      const c = s3(k);
      const b = bucketName();
      await c.send(new CreateBucketCommand({ Bucket: b }));
      await c.send(new PutObjectCommand({ Bucket: b, Key: 'secret.txt', Body: `${marker}\n`.repeat(5000) }));
      await c.send(new PutObjectCommand({ Bucket: b, Key: 'small', Body: marker }));
      const files = walk(k.dataDir);
      assert.ok(files.length > 0);
      for (const f of files) {
        const content = readFileSync(f);
        assert.equal(content.indexOf(marker), -1, `marker found in ${f}`);
        assert.equal(content.indexOf(k.root.secretAccessKey), -1, `root secret found in ${f}`);
      }
    } finally {
      await k.stop({ keep: true });
      cleanup(k.dataDir);
    }
  });

  it('survives clients that send garbage, lie about lengths or vanish mid-upload, leaving nothing behind', async () => {
    const k = await startKura();
    try {
      const c = s3(k);
      const b = bucketName();
      await c.send(new CreateBucketCommand({ Bucket: b }));
      const url = new URL(k.endpoint);
      const rawSend = (text: string): Promise<string> => new Promise((resolve) => {
        const sock = net.connect(Number(url.port), url.hostname, () => sock.write(text));
        let out = '';
        sock.on('data', (d: Buffer) => (out += d.toString()));
        sock.on('error', () => undefined);
        setTimeout(() => {
          sock.destroy();
          resolve(out.split('\r\n')[0] ?? '');
        }, 300);
      });
      assert.match(await rawSend('HELLO WORLD\r\n\r\n'), / 400 /);
      assert.match(await rawSend(`PUT /${b}/k HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n`), / 400 /);
      // A properly signed 64 MiB upload whose client vanishes after 8 MiB.
      const headers = sigv4Headers(k, 'PUT', `/${b}/vanished`, { 'content-length': String(64 * 1024 * 1024) }, 'UNSIGNED-PAYLOAD');
      const req = http.request({ host: url.hostname, port: url.port, path: `/${b}/vanished`, method: 'PUT', headers });
      req.on('error', () => undefined);
      req.write(Buffer.alloc(8 * 1024 * 1024));
      await new Promise((r) => setTimeout(r, 200));
      req.destroy();
      await new Promise((r) => setTimeout(r, 300));
      const list = await c.send(new ListObjectsV2Command({ Bucket: b }));
      assert.equal(list.KeyCount, 0);
      assert.equal(walk(join(k.dataDir, 'blobs')).length, 0, 'no partial blob left');
      assert.ok(!/internal error/.test(k.stderr()), 'a vanished client is not logged as a server fault');
    } finally {
      await k.stop();
    }
  });
});
