import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand, DeleteBucketPolicyCommand, GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, PutBucketCorsCommand, PutBucketPolicyCommand, PutObjectCommand, S3Client, ChecksumAlgorithm,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { bucketName, s3, sigv4Headers, startKura, type RunningKura } from './harness.js';

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function raw(url: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const hex = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const hmac = (k: Buffer | string, d: string): Buffer => createHmac('sha256', k).update(d).digest();

describe('protocol: signatures, addressing, TLS, POST, CORS', () => {
  let k: RunningKura;
  let b: string;
  before(async () => {
    k = await startKura({ https: true });
    b = bucketName();
    await s3(k).send(new CreateBucketCommand({ Bucket: b }));
  });
  after(async () => {
    await k.stop();
  });

  it('accepts presigned GET and PUT URLs from @aws-sdk/s3-request-presigner, and refuses expired ones', async () => {
    const c = s3(k);
    const putUrl = await getSignedUrl(c, new PutObjectCommand({ Bucket: b, Key: 'pre/signed.txt' }), { expiresIn: 60 });
    const put = await raw(putUrl, { method: 'PUT', body: 'via presigned put' });
    assert.equal(put.status, 200, put.body);
    const getUrl = await getSignedUrl(c, new GetObjectCommand({ Bucket: b, Key: 'pre/signed.txt' }), { expiresIn: 60 });
    const got = await raw(getUrl);
    assert.equal(got.body, 'via presigned put');
    const past = new Date(Date.now() - 3600_000);
    const expired = await getSignedUrl(c, new GetObjectCommand({ Bucket: b, Key: 'pre/signed.txt' }), { expiresIn: 60, signingDate: past });
    const r = await raw(expired);
    assert.equal(r.status, 403);
    assert.match(r.body, /<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/);
  });

  it('streams uploads with lib-storage (aws-chunked with trailing CRC32) and verifies them', async () => {
    const data = randomBytes(12 * 1024 * 1024 + 123);
    const up = new Upload({ client: s3(k), params: { Bucket: b, Key: 'streamed.bin', Body: Readable.from([data.subarray(0, 5_000_000), data.subarray(5_000_000)]) }, partSize: 5 * 1024 * 1024 });
    await up.done();
    const got = await s3(k).send(new GetObjectCommand({ Bucket: b, Key: 'streamed.bin' }));
    assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), data);
    await s3(k).send(new PutObjectCommand({ Bucket: b, Key: 'crc32c', Body: Readable.from([Buffer.from('checksummed')]), ContentLength: 11, ChecksumAlgorithm: ChecksumAlgorithm.CRC32C }));
    const head = await s3(k).send(new HeadObjectCommand({ Bucket: b, Key: 'crc32c', ChecksumMode: 'ENABLED' }));
    assert.ok(head.ChecksumCRC32C);
  });

  it('verifies STREAMING-AWS4-HMAC-SHA256-PAYLOAD chunk signatures and rejects a tampered chunk', async () => {
    const put = async (tamper: boolean): Promise<RawResponse> => {
      const now = new Date();
      const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
      const day = amzDate.slice(0, 8);
      const scope = `${day}/us-east-1/s3/aws4_request`;
      const chunks = [randomBytes(65536), randomBytes(1000)];
      const path = `/${b}/chunked-signed`;
      const host = new URL(k.endpoint).host;
      const decodedLength = chunks.reduce((n, c) => n + c.length, 0);
      const headers: Record<string, string> = {
        host,
        'x-amz-date': amzDate,
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': String(decodedLength),
      };
      const signed = Object.keys(headers).sort();
      const canonical = ['PUT', path, '', ...signed.map((h) => `${h}:${headers[h]}`), '', signed.join(';'), 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'].join('\n');
      const sts = ['AWS4-HMAC-SHA256', amzDate, scope, hex(canonical)].join('\n');
      const key = hmac(hmac(hmac(hmac(`AWS4${k.root.secretAccessKey}`, day), 'us-east-1'), 's3'), 'aws4_request');
      let prev = hmac(key, sts).toString('hex');
      const seed = prev;
      const parts: Buffer[] = [];
      for (const c of [...chunks, Buffer.alloc(0)]) {
        const s = hmac(key, ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, prev, hex(''), hex(c)].join('\n')).toString('hex');
        prev = s;
        const body = tamper && c.length === 1000 ? Buffer.from(c).fill(1, 0, 1) : c;
        parts.push(Buffer.from(`${c.length.toString(16)};chunk-signature=${s}\r\n`), body, Buffer.from('\r\n'));
      }
      const body = Buffer.concat(parts);
      return raw(`${k.endpoint}${path}`, {
        method: 'PUT',
        body,
        headers: {
          ...headers,
          'content-length': String(body.length),
          authorization: `AWS4-HMAC-SHA256 Credential=${k.root.accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${seed}`,
        },
      });
    };
    const ok = await put(false);
    assert.equal(ok.status, 200, ok.body);
    const bad = await put(true);
    assert.equal(bad.status, 403);
    assert.match(bad.body, /SignatureDoesNotMatch/);
  });

  it('rejects a body that does not match its signed SHA-256, storing nothing', async () => {
    const c = s3(k);
    c.middlewareStack.add((next) => async (args) => {
      const req = args.request as { headers: Record<string, string>; body: unknown };
      if (typeof req.body === 'string' || Buffer.isBuffer(req.body)) req.body = 'tampered';
      return next(args);
    }, { step: 'finalizeRequest', name: 'tamper', priority: 'low' });
    const err = await c.send(new PutObjectCommand({ Bucket: b, Key: 'sha-mismatch', Body: 'original' })).catch((e: Error) => e);
    assert.ok(err instanceof Error);
    const head = await s3(k).send(new HeadObjectCommand({ Bucket: b, Key: 'sha-mismatch' })).catch((e: Error) => e);
    assert.ok(head instanceof Error, 'nothing stored');
  });

  it('checks large signed bodies the same way (hashed off the event loop), and an early answer leaves the server serving', async () => {
    const body = randomBytes(3 * 1024 * 1024 + 17);
    const sha = createHash('sha256').update(body).digest('hex');
    const put = (key: string, payloadHash: string, extra: Record<string, string> = {}): Promise<RawResponse> => {
      const path = `/${b}/${key}`;
      return raw(`${k.endpoint}${path}`, { method: 'PUT', body, headers: sigv4Headers(k, 'PUT', path, { 'content-length': String(body.length), ...extra }, payloadHash) });
    };
    const bad = await put('big-mismatch', createHash('sha256').update('something else').digest('hex'));
    assert.equal(bad.status, 400);
    assert.match(bad.body, /<Code>XAmzContentSHA256Mismatch<\/Code>/);
    assert.match(bad.body, new RegExp(`<S3ComputedContentSHA256>${sha}</S3ComputedContentSHA256>`));
    const head = await s3(k).send(new HeadObjectCommand({ Bucket: b, Key: 'big-mismatch' })).catch((e: Error) => e);
    assert.ok(head instanceof Error, 'nothing stored');
    assert.equal((await put('big', sha)).status, 200);
    // Answered before the body is read (the key exists): 412, and the next uploads still work.
    for (let i = 0; i < 3; i++) assert.equal((await put('big', sha, { 'if-none-match': '*' })).status, 412);
    assert.equal((await put('big-2', sha)).status, 200);
    const got = await s3(k).send(new GetObjectCommand({ Bucket: b, Key: 'big-2' }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body));
    // Over TLS too the client gets to finish sending and reads the early answer (a closed
    // socket would leave it with an EOF in the middle of its upload instead).
    const path = `/${b}/big`;
    const url = new URL(`${k.httpsEndpoint!}${path}`);
    // Written like python's http.client: the whole body first, the response read only after.
    for (let i = 0; i < 3; i++) {
      const headers = sigv4Headers(k, 'PUT', path, { 'content-length': String(body.length), 'if-none-match': '*', host: url.host }, sha);
      const head = `PUT ${path} HTTP/1.1\r\n${Object.entries(headers).map(([n, v]) => `${n}: ${v}`).join('\r\n')}\r\n\r\n`;
      const answer = await new Promise<string>((resolve, reject) => {
        const sock = tls.connect({ host: url.hostname, port: Number(url.port), rejectUnauthorized: false }, () => {
          sock.pause();
          sock.write(head);
          sock.write(body, (err) => {
            if (err) return reject(err);
            const chunks: Buffer[] = [];
            sock.on('data', (c: Buffer) => {
              chunks.push(c);
              if (Buffer.concat(chunks).includes('\r\n\r\n')) {
                resolve(Buffer.concat(chunks).toString('latin1'));
                sock.destroy();
              }
            });
            sock.resume();
          });
        });
        sock.on('error', reject);
      });
      assert.match(answer, /^HTTP\/1\.1 412 /);
    }
    // A chunked body (boto3 sends aws-chunked uploads so) refused before it is read: the
    // server reads it to the end and keeps the connection, so the client's next request on
    // it is answered too (closing made python clients see a TLS EOF mid-request).
    const answers = await new Promise<string>((resolve, reject) => {
      const sock = tls.connect({ host: url.hostname, port: Number(url.port), rejectUnauthorized: false }, () => {
        const chunked = `PUT /${b}/anon HTTP/1.1\r\nHost: ${url.host}\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n1234567\r\n0\r\n\r\n`;
        const second = `GET /${b}/nothing-here HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`;
        let got = '';
        sock.on('data', (c: Buffer) => {
          got += c.toString('latin1');
          if ((got.match(/HTTP\/1\.1 \d{3}/g) ?? []).length === 2 && got.endsWith('</Error>')) {
            resolve(got);
            sock.destroy();
          }
        });
        sock.on('end', () => resolve(got));
        sock.write(chunked);
        setTimeout(() => sock.write(second), 200);
      });
      sock.on('error', reject);
    });
    assert.deepEqual(answers.match(/HTTP\/1\.1 \d{3}/g), ['HTTP/1.1 403', 'HTTP/1.1 403']);
  });

  it('routes virtual-hosted-style requests (<bucket>.localhost)', async () => {
    const port = new URL(k.endpoint).port;
    // *.localhost does not resolve through the system resolver here: pin it to loopback.
    const lookup = ((_host: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) => (opts.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4))) as never;
    const c = new S3Client({
      endpoint: `http://localhost:${port}`, region: 'us-east-1', credentials: k.root, forcePathStyle: false,
      requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ lookup }) }),
    });
    await c.send(new PutObjectCommand({ Bucket: b, Key: 'vhost.txt', Body: 'virtual' }));
    const got = await s3(k).send(new GetObjectCommand({ Bucket: b, Key: 'vhost.txt' }));
    assert.equal(await got.Body!.transformToString(), 'virtual');
  });

  it('serves HTTPS with the generated certificate', async () => {
    const c = s3(k, k.root, {
      endpoint: k.httpsEndpoint!,
      requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ rejectUnauthorized: false }) }),
    });
    await c.send(new PutObjectCommand({ Bucket: b, Key: 'tls.txt', Body: 'over tls' }));
    const got = await c.send(new GetObjectCommand({ Bucket: b, Key: 'tls.txt' }));
    assert.equal(await got.Body!.transformToString(), 'over tls');
  });

  it('accepts a browser POST upload with a signed policy, and enforces its conditions', async () => {
    const now = new Date();
    const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const day = amzDate.slice(0, 8);
    const credential = `${k.root.accessKeyId}/${day}/us-east-1/s3/aws4_request`;
    const policyFor = (extra: [string, string][]): string => Buffer.from(JSON.stringify({
      expiration: new Date(Date.now() + 600_000).toISOString(),
      conditions: [{ bucket: b }, ['starts-with', '$key', 'uploads/'], ['content-length-range', 1, 100], { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }, { 'x-amz-credential': credential }, { 'x-amz-date': amzDate }, { success_action_status: '201' }, ...extra.map(([n, v]) => ({ [n]: v }))],
    })).toString('base64');
    const key = hmac(hmac(hmac(hmac(`AWS4${k.root.secretAccessKey}`, day), 'us-east-1'), 's3'), 'aws4_request');
    const form = (objectKey: string, content: string, fieldsAsFileParts = false, extra: [string, string][] = []): { body: Buffer; type: string } => {
      const policy = policyFor(extra);
      const signature = hmac(key, policy).toString('hex');
      const boundary = '----kura' + randomBytes(8).toString('hex');
      const fields: [string, string][] = [['key', objectKey], ['x-amz-algorithm', 'AWS4-HMAC-SHA256'], ['x-amz-credential', credential], ['x-amz-date', amzDate], ['success_action_status', '201'], ['policy', policy], ['x-amz-signature', signature], ...extra];
      let s = '';
      // Some clients (python requests' files=) send every field as a part with a filename.
      const named = (n: string): string => fieldsAsFileParts ? `name="${n}"; filename="${n}"` : `name="${n}"`;
      for (const [n, v] of fields) s += `--${boundary}\r\nContent-Disposition: form-data; ${named(n)}\r\n\r\n${v}\r\n`;
      s += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\n${content}\r\n--${boundary}--\r\n`;
      return { body: Buffer.from(s), type: `multipart/form-data; boundary=${boundary}` };
    };
    const ok = form('uploads/${filename}', 'posted content');
    const r = await raw(`${k.endpoint}/${b}`, { method: 'POST', body: ok.body, headers: { 'content-type': ok.type } });
    assert.equal(r.status, 201, r.body);
    assert.match(r.body, /<Key>uploads\/a.txt<\/Key>/);
    const got = await s3(k).send(new GetObjectCommand({ Bucket: b, Key: 'uploads/a.txt' }));
    assert.equal(await got.Body!.transformToString(), 'posted content');
    const asFiles = form('uploads/as-file-parts', 'fields sent as file parts', true);
    const rf = await raw(`${k.endpoint}/${b}`, { method: 'POST', body: asFiles.body, headers: { 'content-type': asFiles.type } });
    assert.equal(rf.status, 201, rf.body);
    const gotF = await s3(k).send(new GetObjectCommand({ Bucket: b, Key: 'uploads/as-file-parts' }));
    assert.equal(await gotF.Body!.transformToString(), 'fields sent as file parts');
    // Form data before the file is bounded, whether sent as fields or as file parts.
    const boundary = '----kura-big';
    let bigForm = '';
    for (let i = 0; i < 6; i++) bigForm += `--${boundary}\r\nContent-Disposition: form-data; name="x-amz-meta-f${i}"; filename="f${i}"\r\n\r\n${'a'.repeat(60 * 1024)}\r\n`;
    bigForm += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nx\r\n--${boundary}--\r\n`;
    const rb = await raw(`${k.endpoint}/${b}`, { method: 'POST', body: bigForm, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
    assert.equal(rb.status, 400);
    assert.match(rb.body, /MaxPostPreDataLengthExceededError/);
    // A field for a feature POST does not do (here SSE-C) is refused, never dropped.
    const sseC = form('uploads/sse-c', 'secret', false, [['x-amz-server-side-encryption-customer-algorithm', 'AES256']]);
    const rc = await raw(`${k.endpoint}/${b}`, { method: 'POST', body: sseC.body, headers: { 'content-type': sseC.type } });
    assert.equal(rc.status, 501, rc.body);
    assert.equal((await s3(k).send(new HeadObjectCommand({ Bucket: b, Key: 'uploads/sse-c' })).catch((e: Error) => e) as Error).name, 'NotFound');
    const badKey = form('elsewhere/x', 'nope');
    const r2 = await raw(`${k.endpoint}/${b}`, { method: 'POST', body: badKey.body, headers: { 'content-type': badKey.type } });
    assert.equal(r2.status, 403);
    const tooBig = form('uploads/big', 'x'.repeat(200));
    const r3 = await raw(`${k.endpoint}/${b}`, { method: 'POST', body: tooBig.body, headers: { 'content-type': tooBig.type } });
    assert.equal(r3.status, 400);
    assert.match(r3.body, /EntityTooLarge/);
    // A tagging field is PutObjectTagging with its tags as s3:RequestObjectTag*, as for PUT.
    await s3(k).send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [
      { Effect: 'Deny', Principal: '*', Action: 's3:PutObjectTagging', Resource: `arn:aws:s3:::${b}/uploads/*`, Condition: { 'ForAnyValue:StringEquals': { 's3:RequestObjectTagKeys': ['classification'] } } },
    ] }) }));
    try {
      const tagged = (name: string, tagKey: string): { body: Buffer; type: string } =>
        form(`uploads/${name}`, 'tagged', false, [['tagging', `<Tagging><TagSet><Tag><Key>${tagKey}</Key><Value>x</Value></Tag></TagSet></Tagging>`]]);
      const denied = tagged('classified', 'classification');
      assert.equal((await raw(`${k.endpoint}/${b}`, { method: 'POST', body: denied.body, headers: { 'content-type': denied.type } })).status, 403);
      const allowed = tagged('teamed', 'team');
      const ra = await raw(`${k.endpoint}/${b}`, { method: 'POST', body: allowed.body, headers: { 'content-type': allowed.type } });
      assert.equal(ra.status, 201, ra.body);
      assert.deepEqual((await s3(k).send(new GetObjectTaggingCommand({ Bucket: b, Key: 'uploads/teamed' }))).TagSet, [{ Key: 'team', Value: 'x' }]);
    } finally {
      await s3(k).send(new DeleteBucketPolicyCommand({ Bucket: b }));
    }
  });

  it('answers CORS preflights from the bucket configuration', async () => {
    await s3(k).send(new PutBucketCorsCommand({ Bucket: b, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['https://app.example'], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['x-amz-*', 'content-type'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 600 }] } }));
    const pre = await raw(`${k.endpoint}/${b}/any`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type,x-amz-date' } });
    assert.equal(pre.status, 200);
    assert.equal(pre.headers['access-control-allow-origin'], 'https://app.example');
    assert.equal(pre.headers['access-control-max-age'], '600');
    const denied = await raw(`${k.endpoint}/${b}/any`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'PUT' } });
    assert.equal(denied.status, 403);
    // Errors carry the CORS headers too, so the page can read them.
    const missing = await raw(`${k.endpoint}/${b}/no-such-key`, { headers: { origin: 'https://app.example' } });
    assert.equal(missing.status, 403);
    assert.equal(missing.headers['access-control-allow-origin'], 'https://app.example');
    const foreign = await raw(`${k.endpoint}/${b}/no-such-key`, { headers: { origin: 'https://evil.example' } });
    assert.equal(foreign.headers['access-control-allow-origin'], undefined);
    // A preflight that does not say what it asks is malformed: 400, not a refusal.
    const noOrigin = await raw(`${k.endpoint}/${b}/any`, { method: 'OPTIONS', headers: { 'access-control-request-method': 'PUT' } });
    assert.equal(noOrigin.status, 400);
    assert.match(noOrigin.body, /<Code>BadRequest<\/Code>.*Origin request header needed/s);
    const noMethod = await raw(`${k.endpoint}/${b}/any`, { method: 'OPTIONS', headers: { origin: 'https://app.example' } });
    assert.equal(noMethod.status, 400);
    assert.match(noMethod.body, /Access-Control-Request-Method/);
  });

  it('ignores an Expect header other than 100-continue, as S3 does', async () => {
    for (const expect of ['200', '', 'foo']) {
      const r = await raw(`${k.endpoint}/${b}/missing-${expect || 'empty'}`, { method: 'GET', headers: { expect } });
      // Answered by S3's logic (anonymous read of a private bucket), not Node's 417.
      assert.equal(r.status, 403, `Expect: ${JSON.stringify(expect)}`);
      assert.match(r.body, /<Code>AccessDenied<\/Code>/);
    }
  });

  it('returns S3 XML errors with request ids for malformed input', async () => {
    const r = await raw(`${k.endpoint}/${b}?delete`, { method: 'POST', body: '<Delete><Object>', headers: { authorization: 'AWS4-HMAC-SHA256 garbage' } });
    assert.equal(r.status, 400);
    assert.match(r.body, /<Code>AuthorizationHeaderMalformed<\/Code>/);
    assert.ok(r.headers['x-amz-request-id']);
    assert.ok(r.headers['x-amz-id-2']);
    const longKey = 'k'.repeat(1025);
    const err = await s3(k).send(new PutObjectCommand({ Bucket: b, Key: longKey, Body: 'x' })).catch((e: Error) => e);
    assert.equal((err as Error).name, 'KeyTooLongError');
  });
});
