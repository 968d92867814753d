/**
 * The operator's choice of defaults for new buckets (config `newBuckets`), for sites that
 * migrate ACL-dependent clients: ObjectWriter and no bucket-level Block Public Access.
 * Account-level Block Public Access still applies on top, and `kura bucket list` reports
 * what is public and why.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand, GetBucketOwnershipControlsCommand, GetPublicAccessBlockCommand, PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { bucketName, cleanup, kuraCli, s3, sigv4Headers, startKura, type RunningKura, outcome } from './harness.js';

function anonGet(k: RunningKura, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(`${k.endpoint}${path}`, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** A signed S3 Control request on the account's Block Public Access (PUT with a body, or DELETE). */
function accountBpa(k: RunningKura, accountId: string, method: 'PUT' | 'DELETE', xml = ''): Promise<number> {
  const path = '/v20180820/configuration/publicAccessBlock';
  const headers = sigv4Headers(k, method, path, { 'x-amz-account-id': accountId }, sha256(xml));
  return new Promise((resolve, reject) => {
    const req = http.request(`${k.endpoint}${path}`, { method, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(xml);
  });
}

describe('operator defaults for new buckets (ACL-migration mode)', () => {
  let k: RunningKura;
  let root: S3Client;
  let rootAccountId: string;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kura-cfg-'));
    const cfg = join(dir, 'kura.json');
    writeFileSync(cfg, JSON.stringify({ newBuckets: { objectOwnership: 'ObjectWriter', blockPublicAccess: false } }));
    k = await startKura({ args: ['--config', cfg] });
    root = s3(k);
    rootAccountId = (JSON.parse(kuraCli(['account', 'list', '--json', '--data-dir', k.dataDir]).stdout) as { accountId: string; name: string }[]).find((a) => a.name === 'root')!.accountId;
  });
  after(async () => {
    await k.stop();
    cleanup(dir);
  });

  it('new buckets get the configured ownership and no bucket-level Block Public Access; public ACLs then work', async () => {
    const b = bucketName();
    await root.send(new CreateBucketCommand({ Bucket: b, ACL: 'public-read' }));
    const oc = await root.send(new GetBucketOwnershipControlsCommand({ Bucket: b }));
    assert.equal(oc.OwnershipControls?.Rules?.[0]?.ObjectOwnership, 'ObjectWriter');
    assert.equal(await outcome(root.send(new GetPublicAccessBlockCommand({ Bucket: b }))), 'NoSuchPublicAccessBlockConfiguration');
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'pub', Body: 'x', ACL: 'public-read' }));
    assert.equal(await anonGet(k, `/${b}/pub`), 200);
    assert.equal(await anonGet(k, `/${b}?list-type=2`), 200);

    const rows = JSON.parse(kuraCli(['bucket', 'list', '--json', '--data-dir', k.dataDir]).stdout) as { bucket: string; objectOwnership: string; public: boolean; publicBecause: string[] }[];
    const row = rows.find((r) => r.bucket === b)!;
    assert.equal(row.objectOwnership, 'ObjectWriter');
    assert.equal(row.public, true);
    assert.match(row.publicBecause.join(' '), /bucket ACL grants AllUsers/);
  });

  it('account-level Block Public Access still applies on top: public ACLs refused at CreateBucket and ignored on reads', async () => {
    const b = bucketName();
    await root.send(new CreateBucketCommand({ Bucket: b }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'pub', Body: 'x', ACL: 'public-read' }));
    assert.equal(await anonGet(k, `/${b}/pub`), 200);
    const xml = '<PublicAccessBlockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls></PublicAccessBlockConfiguration>';
    assert.equal(await accountBpa(k, rootAccountId, 'PUT', xml), 200);
    try {
      assert.equal(await anonGet(k, `/${b}/pub`), 403);
      const refused = bucketName();
      assert.equal(await outcome(root.send(new CreateBucketCommand({ Bucket: refused, ACL: 'public-read' }))), 'AccessDenied');
      assert.equal(await outcome(root.send(new CreateBucketCommand({ Bucket: refused, ACL: 'private' }))), 'OK');
      const rows = JSON.parse(kuraCli(['bucket', 'list', '--json', '--data-dir', k.dataDir]).stdout) as { bucket: string; public: boolean }[];
      assert.equal(rows.find((r) => r.bucket === b)!.public, false);
    } finally {
      assert.equal(await accountBpa(k, rootAccountId, 'DELETE'), 204);
    }
    assert.equal(await anonGet(k, `/${b}/pub`), 200);
  });
});
