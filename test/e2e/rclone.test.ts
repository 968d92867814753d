/**
 * rclone (Debian package, installed by .ci/run): a Go S3 client whose XML encoding and
 * request habits differ from the AWS SDKs' (ETag quotes written as &#34; in
 * CompleteMultipartUpload, its own multipart and copy logic, MD5 checks on download).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { bucketName, s3, startKura, type RunningKura } from './harness.js';

function rclone(k: RunningKura, args: string[]): { status: number; out: string } {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    RCLONE_CONFIG: '/dev/null',
    RCLONE_CONFIG_KURA_TYPE: 's3',
    RCLONE_CONFIG_KURA_PROVIDER: 'Other',
    RCLONE_CONFIG_KURA_ACCESS_KEY_ID: k.root.accessKeyId,
    RCLONE_CONFIG_KURA_SECRET_ACCESS_KEY: k.root.secretAccessKey,
    RCLONE_CONFIG_KURA_ENDPOINT: k.endpoint,
    RCLONE_CONFIG_KURA_REGION: 'us-east-1',
  };
  const r = spawnSync('rclone', [...args, '--retries', '1', '--low-level-retries', '1'], { env, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');

describe('rclone against Kura', () => {
  let k: RunningKura;
  let work: string;
  before(async () => {
    k = await startKura();
    work = mkdtempSync(join(tmpdir(), 'kura-rclone-'));
  });
  after(async () => {
    await k.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('copies small and multipart files both ways, verified; checks, copies server-side and purges', async () => {
    const b = bucketName();
    const src = join(work, 'src');
    mkdirSync(join(src, 'dir with space'), { recursive: true });
    const big = randomBytes(12 * 1024 * 1024 + 123);
    writeFileSync(join(src, 'big.bin'), big);
    writeFileSync(join(src, 'dir with space', "it's \"quoted\".txt"), 'small');
    writeFileSync(join(src, 'empty'), '');
    assert.equal(rclone(k, ['mkdir', `kura:${b}`]).status, 0);
    // 5 MiB parts: big.bin goes up as a three-part multipart upload.
    const up = rclone(k, ['copy', src, `kura:${b}/tree`, '--s3-upload-cutoff', '5M', '--s3-chunk-size', '5M']);
    assert.equal(up.status, 0, up.out);
    const head = await s3(k).send(new HeadObjectCommand({ Bucket: b, Key: 'tree/big.bin' }));
    assert.match(head.ETag ?? '', /-3"$/, 'stored by multipart');
    const got = await s3(k).send(new GetObjectCommand({ Bucket: b, Key: 'tree/big.bin' }));
    assert.equal(md5(Buffer.from(await got.Body!.transformToByteArray())), md5(big));
    const check = rclone(k, ['check', src, `kura:${b}/tree`]);
    assert.equal(check.status, 0, check.out);
    const back = join(work, 'back');
    const down = rclone(k, ['copy', `kura:${b}/tree`, back]);
    assert.equal(down.status, 0, down.out);
    assert.equal(md5(readFileSync(join(back, 'big.bin'))), md5(big));
    assert.equal(readFileSync(join(back, 'dir with space', "it's \"quoted\".txt"), 'utf8'), 'small');
    // Server-side copy, then a listing, a delete of one key and a purge (DeleteObjects).
    assert.equal(rclone(k, ['copyto', `kura:${b}/tree/big.bin`, `kura:${b}/copy/big.bin`]).status, 0);
    const ls = rclone(k, ['lsf', '-R', `kura:${b}`]);
    assert.equal(ls.status, 0, ls.out);
    for (const p of ['copy/big.bin', 'tree/big.bin', 'tree/empty', "tree/dir with space/it's \"quoted\".txt"]) assert.ok(ls.out.includes(p), `${p} listed`);
    assert.equal(rclone(k, ['deletefile', `kura:${b}/tree/empty`]).status, 0);
    const purge = rclone(k, ['purge', `kura:${b}`]);
    assert.equal(purge.status, 0, purge.out);
    assert.equal(rclone(k, ['lsf', `kura:${b}`]).status !== 0, true, 'the bucket is gone');
  });
});
