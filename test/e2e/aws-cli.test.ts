import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, rmSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aws, bucketName, startKura, type RunningKura } from './harness.js';

function md5File(path: string): string {
  return createHash('md5').update(readFileSync(path)).digest('hex');
}

describe('AWS CLI v2 (/usr/bin/aws) against Kura', () => {
  let k: RunningKura;
  let work: string;
  before(async () => {
    k = await startKura();
    work = mkdtempSync(join(tmpdir(), 'kura-cli-'));
  });
  after(async () => {
    await k.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('copies a 100 MiB file up and down with aws s3 cp (multipart)', async () => {
    const b = bucketName();
    assert.equal(aws(k, ['s3', 'mb', `s3://${b}`]).status, 0);
    const src = join(work, 'big.bin');
    await new Promise<void>((resolve, reject) => {
      const ws = createWriteStream(src);
      let left = 100;
      const write = (): void => {
        while (left > 0) {
          left -= 1;
          if (!ws.write(randomBytes(1024 * 1024))) {
            ws.once('drain', write);
            return;
          }
        }
        ws.end();
      };
      ws.on('finish', resolve);
      ws.on('error', reject);
      write();
    });
    const up = aws(k, ['s3', 'cp', src, `s3://${b}/big.bin`]);
    assert.equal(up.status, 0, up.stderr);
    const head = JSON.parse(aws(k, ['s3api', 'head-object', '--bucket', b, '--key', 'big.bin']).stdout) as { ContentLength: number; ETag: string };
    assert.equal(head.ContentLength, 100 * 1024 * 1024);
    assert.match(head.ETag, /-\d+"$/, 'multipart ETag');
    const dst = join(work, 'big.out');
    const down = aws(k, ['s3', 'cp', `s3://${b}/big.bin`, dst]);
    assert.equal(down.status, 0, down.stderr);
    assert.equal(md5File(dst), md5File(src));
  });

  it('syncs a directory tree and lists it', () => {
    const b = bucketName();
    assert.equal(aws(k, ['s3', 'mb', `s3://${b}`]).status, 0);
    const tree = join(work, 'tree');
    for (const d of ['a', 'a/b', 'c d', 'ü']) mkdirSync(join(tree, d), { recursive: true });
    const files = ['top.txt', 'a/one.txt', 'a/b/two.txt', 'c d/three four.txt', 'ü/ñ.txt'];
    for (const f of files) writeFileSync(join(tree, f), `content of ${f}\n`);
    const r = aws(k, ['s3', 'sync', tree, `s3://${b}/tree`]);
    assert.equal(r.status, 0, r.stderr);
    const ls = aws(k, ['s3api', 'list-objects-v2', '--bucket', b, '--prefix', 'tree/']);
    const keys = (JSON.parse(ls.stdout) as { Contents: { Key: string }[] }).Contents.map((c) => c.Key).sort();
    assert.deepEqual(keys, files.map((f) => `tree/${f}`).sort());
    const again = aws(k, ['s3', 'sync', tree, `s3://${b}/tree`]);
    assert.equal(again.status, 0);
    assert.equal(again.stdout.trim(), '', 'second sync uploads nothing');
    const back = join(work, 'back');
    assert.equal(aws(k, ['s3', 'sync', `s3://${b}/tree`, back]).status, 0);
    for (const f of files) assert.equal(readFileSync(join(back, f), 'utf8'), `content of ${f}\n`);
    // Downloads settle too, even comparing timestamps exactly (the CLI stores whole seconds).
    for (const extra of [[], ['--exact-timestamps']]) {
      const down = aws(k, ['s3', 'sync', `s3://${b}/tree`, back, ...extra]);
      assert.equal(down.status, 0, down.stderr);
      assert.equal(down.stdout.trim(), '', `a repeated download sync ${extra.join(' ')} fetches nothing`);
    }
  });

  it('drives s3api calls and reports S3 errors', () => {
    const b = bucketName();
    assert.equal(aws(k, ['s3api', 'create-bucket', '--bucket', b]).status, 0);
    assert.equal(aws(k, ['s3api', 'put-bucket-versioning', '--bucket', b, '--versioning-configuration', 'Status=Enabled']).status, 0);
    const v = JSON.parse(aws(k, ['s3api', 'get-bucket-versioning', '--bucket', b]).stdout) as { Status: string };
    assert.equal(v.Status, 'Enabled');
    const p1 = JSON.parse(aws(k, ['s3api', 'put-object', '--bucket', b, '--key', 'v', '--body', '/etc/hostname']).stdout) as { VersionId: string };
    assert.ok(p1.VersionId);
    const missing = aws(k, ['s3api', 'get-object', '--bucket', b, '--key', 'nope', join(work, 'x')]);
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /NoSuchKey/);
    const bad = aws(k, ['s3api', 'create-bucket', '--bucket', 'UPPER']);
    assert.match(bad.stderr, /InvalidBucketName/);
  });

  it('presigns a URL that curl can fetch, and that expires', () => {
    const b = bucketName();
    assert.equal(aws(k, ['s3', 'mb', `s3://${b}`]).status, 0);
    writeFileSync(join(work, 'p.txt'), 'presigned content');
    assert.equal(aws(k, ['s3', 'cp', join(work, 'p.txt'), `s3://${b}/p.txt`]).status, 0);
    const url = aws(k, ['s3', 'presign', `s3://${b}/p.txt`, '--expires-in', '300']).stdout.trim();
    assert.equal(execFileSync('curl', ['-sS', '-f', url], { encoding: 'utf8' }), 'presigned content');
    const tampered = url.replace('p.txt', 'q.txt');
    const out = execFileSync('curl', ['-sS', '-w', '%{http_code}', '-o', '/dev/null', tampered], { encoding: 'utf8' });
    assert.equal(out, '403');
    const unsigned = execFileSync('curl', ['-sS', `${k.endpoint}/${b}/p.txt`], { encoding: 'utf8' });
    assert.match(unsigned, /<Code>AccessDenied<\/Code>/);
  });
});
