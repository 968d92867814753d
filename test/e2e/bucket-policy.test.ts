import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import {
  CopyObjectCommand, GetObjectTaggingCommand, ListPartsCommand, AbortMultipartUploadCommand, CreateBucketCommand, DeleteBucketPolicyCommand, GetBucketPolicyCommand, GetBucketPolicyStatusCommand, GetObjectCommand,
  ListObjectsV2Command, PutBucketPolicyCommand, PutObjectTaggingCommand, CreateMultipartUploadCommand, ListMultipartUploadsCommand, GetBucketOwnershipControlsCommand, PutBucketOwnershipControlsCommand, DeletePublicAccessBlockCommand, GetPublicAccessBlockCommand, PutPublicAccessBlockCommand, PutObjectCommand, S3Client, S3ServiceException, HeadObjectCommand,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  DeletePublicAccessBlockCommand as DeletePublicAccessBlockCommandControl, GetPublicAccessBlockCommand as GetPublicAccessBlockCommandControl,
  PutPublicAccessBlockCommand as PutPublicAccessBlockCommandControl, S3ControlClient,
} from '@aws-sdk/client-s3-control';
import { aws, bucketName, kuraCli, s3, startKura, type Credentials, type RunningKura , outcome } from './harness.js';

const code = outcome;

function anon(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
    }).on('error', reject);
  });
}

describe('bucket policies through real clients (AWS bucket-policy examples)', () => {
  let k: RunningKura;
  let other: Credentials & { accountId: string; canonicalUserId: string };
  let root: S3Client;
  let them: S3Client;
  let ownerId: string;

  before(async () => {
    k = await startKura({ https: true });
    const r = kuraCli(['account', 'create', '--name', 'partner', '--json', '--data-dir', k.dataDir]);
    other = JSON.parse(r.stdout) as Credentials & { accountId: string; canonicalUserId: string };
    ownerId = (JSON.parse(kuraCli(['account', 'list', '--json', '--data-dir', k.dataDir]).stdout) as { accountId: string; name: string }[]).find((a) => a.name === 'root')!.accountId;
    root = s3(k);
    them = s3(k, other);
  });
  after(async () => {
    await k.stop();
  });

  const put = (b: string, statements: unknown[]): Promise<unknown> =>
    root.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify({ Version: '2012-10-17', Statement: statements }) }));

  it('grants a second account by account id or root ARN, only for the actions and resources named', async () => {
    const b = bucketName();
    await root.send(new CreateBucketCommand({ Bucket: b }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'shared/a.txt', Body: 'a' }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'private/b.txt', Body: 'b' }));
    assert.equal(await code(them.send(new GetObjectCommand({ Bucket: b, Key: 'shared/a.txt' }))), 'AccessDenied');
    await put(b, [{ Sid: 'Partner', Effect: 'Allow', Principal: { AWS: other.accountId }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/shared/*` }]);
    assert.equal(await code(them.send(new GetObjectCommand({ Bucket: b, Key: 'shared/a.txt' }))), 'OK');
    assert.equal(await code(them.send(new GetObjectCommand({ Bucket: b, Key: 'private/b.txt' }))), 'AccessDenied');
    assert.equal(await code(them.send(new PutObjectCommand({ Bucket: b, Key: 'shared/new', Body: 'x' }))), 'AccessDenied');
    // A missing key is 403 without s3:ListBucket, 404 with it.
    assert.equal(await code(them.send(new GetObjectCommand({ Bucket: b, Key: 'shared/missing' }))), 'AccessDenied');
    await put(b, [
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${other.accountId}:root` }, Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${b}/shared/*` },
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${other.accountId}:root` }, Action: 's3:ListBucket', Resource: `arn:aws:s3:::${b}`, Condition: { StringEquals: { 's3:prefix': 'shared/' } } },
    ]);
    assert.equal(await code(them.send(new PutObjectCommand({ Bucket: b, Key: 'shared/new', Body: 'x' }))), 'OK');
    // A multipart upload started by the partner names it as Initiator; the bucket owner owns it.
    const mpu = await them.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'shared/mp' }));
    const uploads = await root.send(new ListMultipartUploadsCommand({ Bucket: b }));
    const u = uploads.Uploads?.find((x) => x.UploadId === mpu.UploadId);
    assert.equal(u?.Initiator?.ID, other.canonicalUserId);
    assert.notEqual(u?.Owner?.ID, other.canonicalUserId);
    // The initiator may list the parts of its own upload and abort it without a policy saying so.
    assert.equal(await code(them.send(new ListPartsCommand({ Bucket: b, Key: 'shared/mp', UploadId: mpu.UploadId }))), 'OK');
    const own = await root.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'shared/owners' }));
    assert.equal(await code(them.send(new ListPartsCommand({ Bucket: b, Key: 'shared/owners', UploadId: own.UploadId }))), 'AccessDenied');
    assert.equal(await code(them.send(new AbortMultipartUploadCommand({ Bucket: b, Key: 'shared/owners', UploadId: own.UploadId }))), 'AccessDenied');
    // An explicit deny still wins over the initiator's allowance.
    await put(b, [
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${other.accountId}:root` }, Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${b}/shared/*` },
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${other.accountId}:root` }, Action: 's3:ListBucket', Resource: `arn:aws:s3:::${b}`, Condition: { StringEquals: { 's3:prefix': 'shared/' } } },
      { Effect: 'Deny', Principal: { AWS: other.accountId }, Action: 's3:AbortMultipartUpload', Resource: `arn:aws:s3:::${b}/*` },
    ]);
    assert.equal(await code(them.send(new AbortMultipartUploadCommand({ Bucket: b, Key: 'shared/mp', UploadId: mpu.UploadId }))), 'AccessDenied');
    await put(b, [
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${other.accountId}:root` }, Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${b}/shared/*` },
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${other.accountId}:root` }, Action: 's3:ListBucket', Resource: `arn:aws:s3:::${b}`, Condition: { StringEquals: { 's3:prefix': 'shared/' } } },
    ]);
    assert.equal(await code(them.send(new AbortMultipartUploadCommand({ Bucket: b, Key: 'shared/mp', UploadId: mpu.UploadId }))), 'OK');
    assert.equal(await code(them.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'shared/' }))), 'OK');
    assert.equal(await code(them.send(new ListObjectsV2Command({ Bucket: b }))), 'AccessDenied');
    // ListBucket only under a prefix condition does not cover the lookup: still 403.
    assert.equal(await code(them.send(new GetObjectCommand({ Bucket: b, Key: 'shared/missing' }))), 'AccessDenied');
    await put(b, [
      { Effect: 'Allow', Principal: { AWS: other.accountId }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/shared/*` },
      { Effect: 'Allow', Principal: { AWS: other.accountId }, Action: 's3:ListBucket', Resource: `arn:aws:s3:::${b}` },
    ]);
    assert.equal(await code(them.send(new GetObjectCommand({ Bucket: b, Key: 'shared/missing' }))), 'NoSuchKey');
    assert.equal(await code(them.send(new HeadObjectCommand({ Bucket: b, Key: 'shared/missing' }))), 'NotFound');
    const got = await root.send(new GetBucketPolicyCommand({ Bucket: b }));
    assert.match(got.Policy!, /"s3:ListBucket"/, 'returned as stored');
  });

  it('the usual cross-account upload policy (s3:PutObject requiring bucket-owner-full-control) works on a BucketOwnerEnforced bucket', async () => {
    const b = bucketName();
    await root.send(new CreateBucketCommand({ Bucket: b }));
    await put(b, [{ Effect: 'Allow', Principal: { AWS: other.accountId }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${b}/*`, Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } } }]);
    assert.equal(await code(them.send(new PutObjectCommand({ Bucket: b, Key: 'from-partner', Body: 'x', ACL: 'bucket-owner-full-control' }))), 'OK');
    assert.equal(await code(them.send(new PutObjectCommand({ Bucket: b, Key: 'no-acl', Body: 'x' }))), 'AccessDenied');
    // With ACLs enabled (ObjectWriter) the ACL header sets an ACL: s3:PutObjectAcl is needed.
    await root.send(new PutBucketOwnershipControlsCommand({ Bucket: b, OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] } }));
    assert.equal(await code(them.send(new PutObjectCommand({ Bucket: b, Key: 'writer', Body: 'x', ACL: 'bucket-owner-full-control' }))), 'OK', 'the writer owns it: its own account authorizes the ACL');
    // BucketOwnerPreferred: the bucket owner will own it, so its policy must allow setting the ACL too.
    await root.send(new PutBucketOwnershipControlsCommand({ Bucket: b, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] } }));
    assert.equal(await code(them.send(new PutObjectCommand({ Bucket: b, Key: 'preferred', Body: 'x', ACL: 'bucket-owner-full-control' }))), 'AccessDenied');
  });

  it('copies with s3:GetObject on the source alone; tags copied along need GetObjectTagging and PutObjectTagging', async () => {
    const b = bucketName();
    await root.send(new CreateBucketCommand({ Bucket: b }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'src/plain', Body: 'p' }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'src/tagged', Body: 't', Tagging: 'team=blue' }));
    await put(b, [{ Effect: 'Allow', Principal: { AWS: other.accountId }, Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${b}/*` }]);
    const copy = (from: string, to: string, directive?: 'COPY' | 'REPLACE') => code(them.send(new CopyObjectCommand({ Bucket: b, Key: to, CopySource: `${b}/${from}`, ...(directive ? { TaggingDirective: directive } : {}) })));
    assert.equal(await copy('src/plain', 'dst/plain'), 'OK');
    // Tags to copy: reading them (and writing them) must be allowed too.
    assert.equal(await copy('src/tagged', 'dst/tagged'), 'AccessDenied');
    assert.equal(await copy('src/tagged', 'dst/tagged-replaced', 'REPLACE'), 'OK');
    await put(b, [{ Effect: 'Allow', Principal: { AWS: other.accountId }, Action: ['s3:GetObject', 's3:PutObject', 's3:GetObjectTagging'], Resource: `arn:aws:s3:::${b}/*` }]);
    assert.equal(await copy('src/tagged', 'dst/tagged'), 'AccessDenied');
    await put(b, [{ Effect: 'Allow', Principal: { AWS: other.accountId }, Action: ['s3:GetObject', 's3:PutObject', 's3:GetObjectTagging', 's3:PutObjectTagging'], Resource: `arn:aws:s3:::${b}/*` }]);
    assert.equal(await copy('src/tagged', 'dst/tagged'), 'OK');
    const tags = await root.send(new GetObjectTaggingCommand({ Bucket: b, Key: 'dst/tagged' }));
    assert.deepEqual(tags.TagSet, [{ Key: 'team', Value: 'blue' }]);
  });

  it('lets anonymous callers in only through Principal "*", and reports the policy as public', async () => {
    const b = bucketName();
    await root.send(new CreateBucketCommand({ Bucket: b }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'public/index.html', Body: '<h1>hi</h1>' }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'secret.txt', Body: 's' }));
    assert.equal((await anon(`${k.endpoint}/${b}/public/index.html`)).status, 403);
    const publicRead = [{ Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/public/*` }];
    // New buckets block public policies (Block Public Access on by default): 403, nothing stored.
    assert.equal(await code(put(b, publicRead)), 'AccessDenied');
    assert.equal(await code(root.send(new GetBucketPolicyCommand({ Bucket: b }))), 'NoSuchBucketPolicy');
    await root.send(new DeletePublicAccessBlockCommand({ Bucket: b }));
    await put(b, publicRead);
    const r = await anon(`${k.endpoint}/${b}/public/index.html`);
    assert.equal(r.status, 200);
    assert.equal(r.body, '<h1>hi</h1>');
    assert.equal((await anon(`${k.endpoint}/${b}/secret.txt`)).status, 403);
    assert.equal((await anon(`${k.endpoint}/${b}/public/missing`)).status, 403, 'no ListBucket: a missing key is 403');
    const status = await root.send(new GetBucketPolicyStatusCommand({ Bucket: b }));
    assert.equal(status.PolicyStatus?.IsPublic, true);
  });

  it('denies requests that are not over TLS (aws:SecureTransport), even for the owner, with a message naming the policy kind', async () => {
    const b = bucketName();
    await root.send(new CreateBucketCommand({ Bucket: b }));
    await put(b, [{ Sid: 'TLSOnly', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [`arn:aws:s3:::${b}`, `arn:aws:s3:::${b}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } } }]);
    const err = await root.send(new PutObjectCommand({ Bucket: b, Key: 'x', Body: 'x' })).catch((e: S3ServiceException) => e);
    assert.equal((err as S3ServiceException).name, 'AccessDenied');
    assert.match((err as S3ServiceException).message, /explicit deny in a resource-based policy/);
    assert.doesNotMatch((err as S3ServiceException).message, /TLSOnly|SecureTransport/, 'never the policy content');
    const tls = s3(k, k.root, { endpoint: k.httpsEndpoint!, requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ rejectUnauthorized: false }) }) });
    assert.equal(await code(tls.send(new PutObjectCommand({ Bucket: b, Key: 'x', Body: 'x' }))), 'OK');
    const status = await tls.send(new GetBucketPolicyStatusCommand({ Bucket: b }));
    assert.equal(status.PolicyStatus?.IsPublic, false);
    // The owner's root can always remove the policy (lock-out protection), even over plain HTTP.
    await root.send(new DeleteBucketPolicyCommand({ Bucket: b }));
    assert.equal(await code(root.send(new PutObjectCommand({ Bucket: b, Key: 'y', Body: 'y' }))), 'OK');
  });

  it('applies IP allow-lists, required encryption headers and existing-object tags', async () => {
    const b = bucketName();
    await root.send(new CreateBucketCommand({ Bucket: b }));
    await put(b, [
      { Sid: 'IPAllow', Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/lan/*`, Condition: { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
      { Sid: 'RequireSSE', Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: `arn:aws:s3:::${b}/enc/*`, Condition: { Null: { 's3:x-amz-server-side-encryption': 'true' } } },
      { Sid: 'TaggedRead', Effect: 'Allow', Principal: { AWS: other.accountId }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*`, Condition: { StringEquals: { 's3:ExistingObjectTag/share': 'yes' } } },
    ]);
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'lan/x', Body: 'x' }));
    assert.equal(await code(root.send(new GetObjectCommand({ Bucket: b, Key: 'lan/x' }))), 'AccessDenied', '127.0.0.1 is not in 10/8');
    assert.equal(await code(root.send(new PutObjectCommand({ Bucket: b, Key: 'enc/1', Body: '1' }))), 'AccessDenied');
    assert.equal(await code(root.send(new PutObjectCommand({ Bucket: b, Key: 'enc/2', Body: '2', ServerSideEncryption: 'AES256' }))), 'OK');
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'doc-shared', Body: 'yes', Tagging: 'share=yes' }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'doc-private', Body: 'no', Tagging: 'share=no' }));
    assert.equal(await code(them.send(new GetObjectCommand({ Bucket: b, Key: 'doc-shared' }))), 'OK');
    assert.equal(await code(them.send(new GetObjectCommand({ Bucket: b, Key: 'doc-private' }))), 'AccessDenied');
  });

  it('governs the tags PutObjectTagging sets (s3:RequestObjectTagKeys / s3:RequestObjectTag from the body)', async () => {
    const b = bucketName();
    await root.send(new CreateBucketCommand({ Bucket: b }));
    await put(b, [
      // Only the data-governance team may set a classification (the S3 UG's tag-governance pattern).
      { Sid: 'NoClassification', Effect: 'Deny', Principal: '*', Action: 's3:PutObjectTagging', Resource: `arn:aws:s3:::${b}/*`, Condition: { 'ForAnyValue:StringEquals': { 's3:RequestObjectTagKeys': ['classification'] } } },
      { Sid: 'ShareOnlyYes', Effect: 'Deny', Principal: '*', Action: 's3:PutObjectTagging', Resource: `arn:aws:s3:::${b}/*`, Condition: { StringNotEquals: { 's3:RequestObjectTag/share': 'yes' }, Null: { 's3:RequestObjectTag/share': 'false' } } },
    ]);
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'doc', Body: 'd' }));
    const tag = (tags: Record<string, string>): Promise<string> =>
      code(root.send(new PutObjectTaggingCommand({ Bucket: b, Key: 'doc', Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) } })));
    assert.equal(await tag({ team: 'red' }), 'OK');
    assert.equal(await tag({ share: 'yes' }), 'OK');
    assert.equal(await tag({ share: 'no' }), 'AccessDenied');
    assert.equal(await tag({ team: 'red', classification: 'secret' }), 'AccessDenied');
    const cli = aws(k, ['s3api', 'put-object-tagging', '--bucket', b, '--key', 'doc', '--tagging', 'TagSet=[{Key=classification,Value=x}]']);
    assert.notEqual(cli.status, 0);
    assert.match(cli.stderr, /AccessDenied/);
  });

  it('a read of a missing key is 404 only to a caller who may list; ?prefix= on the read does not steer that', async () => {
    const b = bucketName();
    await root.send(new CreateBucketCommand({ Bucket: b }));
    await put(b, [
      { Sid: 'ListPublic', Effect: 'Allow', Principal: { AWS: other.accountId }, Action: 's3:ListBucket', Resource: `arn:aws:s3:::${b}`, Condition: { StringLike: { 's3:prefix': 'public/*' } } },
    ]);
    assert.equal(await code(them.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'public/' }))), 'OK');
    assert.equal(await code(them.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'secret/' }))), 'AccessDenied');
    const probe = new GetObjectCommand({ Bucket: b, Key: 'secret/missing' });
    probe.middlewareStack.add((next) => async (args) => {
      (args.request as { query: Record<string, string> }).query.prefix = 'public/x';
      return next(args);
    }, { step: 'build' });
    assert.equal(await code(them.send(probe)), 'AccessDenied');
  });

  it('rejects malformed policies with MalformedPolicy and the problem named', async () => {
    const b = bucketName();
    await root.send(new CreateBucketCommand({ Bucket: b }));
    const cases: [unknown, RegExp][] = [
      [[{ Effect: 'Allow', Principal: '*', Action: 's3:GetObjects', Resource: `arn:aws:s3:::${b}/*` }], /Policy has invalid action/],
      [[{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::someone-elses-bucket/*' }], /Policy has invalid resource/],
      [[{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` }], /Missing required field Principal/],
      [[{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*`, Condition: { StringEqualz: { 'aws:UserAgent': 'x' } } }], /Invalid Condition type : StringEqualz/],
      [[{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*`, Condition: { IpAddress: { 'aws:SourceIp': '300.1.2.3/8' } } }], /Invalid IP address in Conditions/],
      [[{ Effect: 'Allow', Principal: { AWS: '999999999999' }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` }], /Invalid principal in policy/],
    ];
    for (const [statements, msg] of cases) {
      const err = await put(b, statements as unknown[]).catch((e: S3ServiceException) => e);
      assert.equal((err as S3ServiceException).name, 'MalformedPolicy', JSON.stringify(statements));
      assert.match((err as S3ServiceException).message, msg);
    }
    assert.equal(await code(root.send(new GetBucketPolicyCommand({ Bucket: b }))), 'NoSuchBucketPolicy', 'nothing was stored');
  });

  it('answers 405 to another account managing the policy, even when allowed', async () => {
    const b = bucketName();
    await root.send(new CreateBucketCommand({ Bucket: b }));
    await put(b, [{ Effect: 'Allow', Principal: { AWS: other.accountId }, Action: ['s3:GetBucketPolicy', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy'], Resource: `arn:aws:s3:::${b}` }]);
    const err = await them.send(new GetBucketPolicyCommand({ Bucket: b })).catch((e: S3ServiceException) => e);
    assert.equal((err as S3ServiceException).$metadata.httpStatusCode, 405);
  });

  it('turns Block Public Access on for new buckets, and RestrictPublicBuckets cuts every grant of a public policy outside the owner account', async () => {
    const b = bucketName();
    await root.send(new CreateBucketCommand({ Bucket: b }));
    const pab = await root.send(new GetPublicAccessBlockCommand({ Bucket: b }));
    assert.deepEqual(pab.PublicAccessBlockConfiguration, { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'doc', Body: 'doc' }));
    await root.send(new PutPublicAccessBlockCommand({ Bucket: b, PublicAccessBlockConfiguration: { BlockPublicPolicy: false, RestrictPublicBuckets: true } }));
    await put(b, [
      { Sid: 'Everyone', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` },
      { Sid: 'Partner', Effect: 'Allow', Principal: { AWS: other.accountId }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` },
    ]);
    assert.equal((await anon(`${k.endpoint}/${b}/doc`)).status, 403, 'anonymous cut off');
    assert.equal(await code(them.send(new GetObjectCommand({ Bucket: b, Key: 'doc' }))), 'AccessDenied', 'named account cut off too: the policy is public');
    assert.equal(await code(root.send(new GetObjectCommand({ Bucket: b, Key: 'doc' }))), 'OK', 'the owner account keeps access');
    await root.send(new PutPublicAccessBlockCommand({ Bucket: b, PublicAccessBlockConfiguration: { BlockPublicPolicy: false, RestrictPublicBuckets: false } }));
    assert.equal((await anon(`${k.endpoint}/${b}/doc`)).status, 200);
    assert.equal(await code(them.send(new GetObjectCommand({ Bucket: b, Key: 'doc' }))), 'OK');
    await root.send(new DeletePublicAccessBlockCommand({ Bucket: b }));
    assert.equal(await code(root.send(new GetPublicAccessBlockCommand({ Bucket: b }))), 'NoSuchPublicAccessBlockConfiguration');
  });

  it('applies account-level Block Public Access (S3 Control API) on top of a bucket that has none', async () => {
    // The S3 Control endpoint rules prefix the account id to the host (<account>.localhost):
    // resolve every such name to loopback, as a DNS wildcard would.
    const lookup = ((_h: string, o: { all?: boolean }, cb: (...a: unknown[]) => void) => (o.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4))) as never;
    const control = new S3ControlClient({
      endpoint: `http://localhost:${new URL(k.endpoint).port}`, region: 'us-east-1', credentials: k.root,
      requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ lookup }) }),
    });
    const b = bucketName();
    await root.send(new CreateBucketCommand({ Bucket: b }));
    await root.send(new DeletePublicAccessBlockCommand({ Bucket: b }));
    const none = await control.send(new GetPublicAccessBlockCommandControl({ AccountId: ownerId })).catch((e: S3ServiceException) => e);
    assert.equal((none as S3ServiceException).name, 'NoSuchPublicAccessBlockConfiguration');
    await control.send(new PutPublicAccessBlockCommandControl({ AccountId: ownerId, PublicAccessBlockConfiguration: { BlockPublicPolicy: true, RestrictPublicBuckets: true } }));
    const got = await control.send(new GetPublicAccessBlockCommandControl({ AccountId: ownerId }));
    assert.equal(got.PublicAccessBlockConfiguration?.BlockPublicPolicy, true);
    assert.equal(got.PublicAccessBlockConfiguration?.BlockPublicAcls, false);
    const publicRead = [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` }];
    assert.equal(await code(put(b, publicRead)), 'AccessDenied', 'the account setting overrides a bucket that has none');
    const foreign = await control.send(new GetPublicAccessBlockCommandControl({ AccountId: other.accountId })).catch((e: S3ServiceException) => e);
    assert.equal((foreign as S3ServiceException).name, 'AccessDenied', 'only the account itself');
    await control.send(new DeletePublicAccessBlockCommandControl({ AccountId: ownerId }));
    assert.equal(await code(put(b, publicRead)), 'OK');
    // The operator's view: effective Block Public Access, ownership, and why a bucket is public.
    const listed = JSON.parse(kuraCli(['bucket', 'list', '--json', '--data-dir', k.dataDir]).stdout) as { bucket: string; policyIsPublic: boolean; objectOwnership: string; blockPublicAccess: Record<string, boolean>; why: unknown[] }[];
    const row = listed.find((r) => r.bucket === b)!;
    assert.equal(row.policyIsPublic, true);
    assert.equal(row.objectOwnership, 'BucketOwnerEnforced');
    assert.equal(row.blockPublicAccess.blockPublicPolicy, false);
    assert.ok(row.why.length > 0);
  });

  it('reports BucketOwnerEnforced ownership on new buckets and refuses ACLs under it', async () => {
    const b = bucketName();
    await root.send(new CreateBucketCommand({ Bucket: b }));
    const oc = await root.send(new GetBucketOwnershipControlsCommand({ Bucket: b }));
    assert.equal(oc.OwnershipControls?.Rules?.[0]?.ObjectOwnership, 'BucketOwnerEnforced');
    await root.send(new PutBucketOwnershipControlsCommand({ Bucket: b, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }));
    assert.equal(await code(root.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ACL: 'public-read' }))), 'AccessControlListNotSupported');
    await root.send(new PutBucketOwnershipControlsCommand({ Bucket: b, OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] } }));
    const after = await root.send(new GetBucketOwnershipControlsCommand({ Bucket: b }));
    assert.equal(after.OwnershipControls?.Rules?.[0]?.ObjectOwnership, 'ObjectWriter');
  });

  it('tells presigned URLs from header-signed requests (s3:authType, s3:signatureversion)', async () => {
    const b = bucketName();
    await root.send(new CreateBucketCommand({ Bucket: b }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'doc', Body: 'doc' }));
    await put(b, [
      { Sid: 'NoPresigned', Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*`, Condition: { StringEquals: { 's3:authType': 'REST-QUERY-STRING' } } },
      { Sid: 'SigV4Only', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: `arn:aws:s3:::${b}/*`, Condition: { StringNotEquals: { 's3:signatureversion': 'AWS4-HMAC-SHA256' } } },
    ]);
    assert.equal(await code(root.send(new GetObjectCommand({ Bucket: b, Key: 'doc' }))), 'OK');
    const url = await getSignedUrl(root, new GetObjectCommand({ Bucket: b, Key: 'doc' }), { expiresIn: 60 });
    assert.equal((await anon(url)).status, 403, 'presigned GET denied by s3:authType');
    assert.equal((await anon(`${k.endpoint}/${b}/doc`)).status, 403, 'anonymous has no signature version: denied');
  });
});
