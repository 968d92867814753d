/**
 * S3 access control lists and Object Ownership through real clients (AWS SDK v3, AWS CLI v2,
 * unsigned node:http for anonymous callers), written from AWS's documented behaviour:
 *   - S3 UG "Access control list (ACL) overview": grantees, permissions, the permission →
 *     operation table, the canned ACL table;
 *   - S3 UG "Controlling ownership of objects and disabling ACLs" + "Troubleshooting"
 *     (AccessControlListNotSupported, InvalidBucketAclWithObjectOwnership);
 *   - S3 UG "Blocking public access to your Amazon S3 storage" (BlockPublicAcls,
 *     IgnorePublicAcls, account-level settings);
 *   - API reference for PutBucketAcl / PutObjectAcl / CreateBucket / PutBucketOwnershipControls.
 * One server for the whole file; every test makes its own buckets.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash, createHmac } from 'node:crypto';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteBucketOwnershipControlsCommand,
  DeleteObjectCommand, DeletePublicAccessBlockCommand, GetBucketAclCommand, GetBucketOwnershipControlsCommand, GetObjectAclCommand, GetObjectCommand,
  HeadBucketCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsCommand, ListObjectsV2Command, ListObjectVersionsCommand,
  PutBucketAclCommand, PutBucketOwnershipControlsCommand, PutBucketPolicyCommand, PutObjectAclCommand, PutObjectCommand, PutPublicAccessBlockCommand,
  UploadPartCommand, S3Client, S3ServiceException,
  type AccessControlPolicy, type BucketCannedACL, type GetBucketAclCommandOutput, type Grant, type ObjectCannedACL, type ObjectOwnership,
} from '@aws-sdk/client-s3';
import {
  DeletePublicAccessBlockCommand as DeleteAccountPublicAccessBlockCommand, PutPublicAccessBlockCommand as PutAccountPublicAccessBlockCommand, S3ControlClient,
} from '@aws-sdk/client-s3-control';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { aws, bucketName, kuraCli, s3, startKura, type CliResult, type Credentials, type RunningKura , outcome } from './harness.js';

// ---------------------------------------------------------------------------------------
// Constants and helpers

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery';
/** The canonical user `aws-exec-read` grants READ to (Amazon EC2), per the canned ACL table. */
const EC2_EXEC_READ_ID = '6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c';
const CAROL_EMAIL = 'carol@example.com';

interface Account extends Credentials {
  accountId: string;
  canonicalUserId: string;
}


/** outcome() for HEAD: its errors have no body, so the status says which (403 AccessDenied, 404 NotFound). */
async function headOutcome(p: Promise<unknown>): Promise<string> {
  const status = await httpStatus(p);
  return status === 200 ? 'OK' : status === 403 ? 'AccessDenied' : status === 404 ? 'NotFound' : `HTTP ${status}`;
}

async function httpStatus(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (e) {
    if (!(e instanceof S3ServiceException)) throw e;
    return e.$metadata.httpStatusCode ?? -1;
  }
}

/** The S3 error code in an AWS CLI failure ("An error occurred (Code) when calling ..."), or 'OK'. */
function cliOutcome(r: CliResult): string {
  if (r.status === 0) return 'OK';
  const m = /An error occurred \(([A-Za-z]+)\)/.exec(r.stderr);
  return m ? m[1]! : `exit ${r.status}: ${r.stderr.trim()}`;
}

/** Grants as sortable strings, so lists compare regardless of order. */
function grantSet(grants: Grant[] | undefined): string[] {
  return (grants ?? [])
    .map((g) => (g.Grantee?.Type === 'Group' ? group(g.Grantee.URI ?? '?', g.Permission ?? '?') : `${g.Grantee?.Type}:${g.Grantee?.ID}:${g.Permission}`))
    .sort();
}
function user(id: string, permission: string): string {
  return `CanonicalUser:${id}:${permission}`;
}
function group(uri: string, permission: string): string {
  return `Group:${uri}:${permission}`;
}
function grants(...g: string[]): string[] {
  return [...g].sort();
}

/** A grant-header value naming canonical users. */
function ids(...canonicalIds: string[]): string {
  return canonicalIds.map((id) => `id="${id}"`).join(', ');
}

interface RawResponse {
  status: number;
  body: string;
}

function request(k: RunningKura, method: string, path: string, headers: Record<string, string>, body?: string): Promise<RawResponse> {
  const url = new URL(k.endpoint);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** An unsigned request: an anonymous caller. */
function anon(k: RunningKura, method: 'GET' | 'PUT' | 'HEAD', path: string, body?: string): Promise<RawResponse> {
  const headers: Record<string, string> = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
  return request(k, method, path, headers, body);
}

/**
 * A SigV4-signed request with a body sent exactly as given (the SDK only serialises valid
 * structures). `subresource` is a value-less query parameter such as `acl`.
 */
function signedRaw(k: RunningKura, creds: Credentials, method: string, path: string, subresource: string, body: string, extra: Record<string, string> = {}): Promise<RawResponse> {
  const hmac = (key: Buffer | string, d: string): Buffer => createHmac('sha256', key).update(d).digest();
  const payloadHash = createHash('sha256').update(body).digest('hex');
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/us-east-1/s3/aws4_request`;
  const headers: Record<string, string> = {
    host: new URL(k.endpoint).host,
    'x-amz-date': amzDate,
    'x-amz-content-sha256': payloadHash,
    'content-md5': createHash('md5').update(body).digest('base64'),
    'content-type': 'application/xml',
    ...Object.fromEntries(Object.entries(extra).map(([n, v]) => [n.toLowerCase(), v])),
  };
  const names = Object.keys(headers).sort();
  const canonical = [method, path, `${encodeURIComponent(subresource)}=`, ...names.map((h) => `${h}:${headers[h]!.trim()}`), '', names.join(';'), payloadHash].join('\n');
  const sts = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, day), 'us-east-1'), 's3'), 'aws4_request');
  const signature = hmac(key, sts).toString('hex');
  const authorization = `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
  return request(k, method, `${path}?${subresource}`, { ...headers, authorization, 'content-length': String(Buffer.byteLength(body)) }, body);
}

/** The S3 error code in a raw XML error body. */
function xmlCode(body: string): string | undefined {
  return /<Code>([^<]+)<\/Code>/.exec(body)?.[1];
}

/** The ACL-setting parameters shared by PutBucketAcl and PutObjectAcl. */
interface AclInput {
  ACL?: 'private';
  GrantRead?: string;
  GrantWrite?: string;
  GrantReadACP?: string;
  GrantWriteACP?: string;
  GrantFullControl?: string;
}

type Permission = 'READ' | 'WRITE' | 'READ_ACP' | 'WRITE_ACP' | 'FULL_CONTROL';
const GRANT_PARAM: Record<Permission, keyof AclInput> = {
  READ: 'GrantRead',
  WRITE: 'GrantWrite',
  READ_ACP: 'GrantReadACP',
  WRITE_ACP: 'GrantWriteACP',
  FULL_CONTROL: 'GrantFullControl',
};
const GRANT_FLAG: Record<Permission, string> = {
  READ: '--grant-read',
  WRITE: '--grant-write',
  READ_ACP: '--grant-read-acp',
  WRITE_ACP: '--grant-write-acp',
  FULL_CONTROL: '--grant-full-control',
};

// ---------------------------------------------------------------------------------------

describe('S3 ACLs and Object Ownership through real clients (AWS ACL / Object Ownership / Block Public Access docs)', () => {
  let k: RunningKura;
  let root: S3Client;
  let rootId: string; // canonical user id of the root account
  let rootAccountId: string;
  let partner: Account;
  let them: S3Client;
  let carol: Account; // created with an email address
  let carolClient: S3Client;

  before(async () => {
    k = await startKura();
    const created = kuraCli(['account', 'create', '--name', 'partner', '--json', '--data-dir', k.dataDir]);
    assert.equal(created.status, 0, created.stderr);
    partner = JSON.parse(created.stdout) as Account;
    const withEmail = kuraCli(['account', 'create', '--name', 'carol', '--email', CAROL_EMAIL, '--json', '--data-dir', k.dataDir]);
    assert.equal(withEmail.status, 0, withEmail.stderr);
    carol = JSON.parse(withEmail.stdout) as Account;
    const list = JSON.parse(kuraCli(['account', 'list', '--json', '--data-dir', k.dataDir]).stdout) as { accountId: string; name: string; canonicalUserId: string }[];
    const r = list.find((a) => a.name === 'root')!;
    rootId = r.canonicalUserId;
    rootAccountId = r.accountId;
    root = s3(k);
    them = s3(k, partner);
    carolClient = s3(k, carol);
  });
  after(async () => {
    await k?.stop();
  });

  /** A bucket owned by root with ACLs enabled (ObjectWriter unless told); Block Public Access deleted when `publicAcls`. */
  async function aclBucket(opts: { ownership?: ObjectOwnership; publicAcls?: boolean } = {}): Promise<string> {
    const b = bucketName('acl');
    await root.send(new CreateBucketCommand({ Bucket: b, ObjectOwnership: opts.ownership ?? 'ObjectWriter' }));
    if (opts.publicAcls) await root.send(new DeletePublicAccessBlockCommand({ Bucket: b }));
    return b;
  }

  async function bucketGrants(b: string, c: S3Client = root): Promise<string[]> {
    return grantSet((await c.send(new GetBucketAclCommand({ Bucket: b }))).Grants);
  }

  async function objectGrants(b: string, key: string, c: S3Client = root): Promise<string[]> {
    return grantSet((await c.send(new GetObjectAclCommand({ Bucket: b, Key: key }))).Grants);
  }

  /** Lets the partner write objects, with or without an ACL, through a (non-public) bucket policy. */
  async function policyLetsPartnerWrite(b: string): Promise<void> {
    await root.send(new PutBucketPolicyCommand({
      Bucket: b,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { AWS: partner.accountId }, Action: ['s3:PutObject', 's3:PutObjectAcl'], Resource: `arn:aws:s3:::${b}/*` }],
      }),
    }));
  }

  async function ownership(b: string): Promise<string> {
    try {
      const r = await root.send(new GetBucketOwnershipControlsCommand({ Bucket: b }));
      return r.OwnershipControls?.Rules?.[0]?.ObjectOwnership ?? '(none)';
    } catch (e) {
      if (!(e instanceof S3ServiceException)) throw e;
      return e.name;
    }
  }

  // -------------------------------------------------------------------------------------
  // 1. Bucket ACL × object ACL, as seen by a second account and by anonymous callers.

  const MATRIX_BUCKET_ACLS = ['private', 'public-read', 'public-read-write'] as const;
  const MATRIX_OBJECT_ACLS = ['private', 'public-read', 'public-read-write', 'authenticated-read'] as const;
  for (const bucketAcl of MATRIX_BUCKET_ACLS) {
    for (const objectAcl of MATRIX_OBJECT_ACLS) {
      it(`bucket ${bucketAcl} × object ${objectAcl}: what another account and an anonymous caller may do`, async () => {
        const b = await aclBucket({ publicAcls: true });
        await root.send(new PutBucketAclCommand({ Bucket: b, ACL: bucketAcl }));
        await root.send(new PutObjectCommand({ Bucket: b, Key: 'doc', Body: 'doc', ACL: objectAcl }));
        // Bucket READ (AllUsers) → listing; bucket WRITE (AllUsers) → PutObject; object READ → GetObject.
        const bucketRead = bucketAcl !== 'private';
        const bucketWrite = bucketAcl === 'public-read-write';
        const objectReadAll = objectAcl === 'public-read' || objectAcl === 'public-read-write';
        const objectReadSigned = objectReadAll || objectAcl === 'authenticated-read';
        const anonGet = await anon(k, 'GET', `/${b}/doc`);
        const got = {
          partnerList: await outcome(them.send(new ListObjectsV2Command({ Bucket: b }))),
          partnerGet: await outcome(them.send(new GetObjectCommand({ Bucket: b, Key: 'doc' }))),
          partnerHead: await headOutcome(them.send(new HeadObjectCommand({ Bucket: b, Key: 'doc' }))),
          // A missing key is 404 with ListBucket (here: bucket READ), 403 without.
          partnerGetMissing: await outcome(them.send(new GetObjectCommand({ Bucket: b, Key: 'missing' }))),
          partnerPut: await outcome(them.send(new PutObjectCommand({ Bucket: b, Key: 'by-partner', Body: 'p' }))),
          anonGet: anonGet.status,
          anonGetBody: anonGet.status === 200 ? anonGet.body : undefined,
          anonGetMissing: (await anon(k, 'GET', `/${b}/missing`)).status,
          anonList: (await anon(k, 'GET', `/${b}?list-type=2`)).status,
          anonPut: (await anon(k, 'PUT', `/${b}/by-anonymous`, 'a')).status,
        };
        assert.deepEqual(got, {
          partnerList: bucketRead ? 'OK' : 'AccessDenied',
          partnerGet: objectReadSigned ? 'OK' : 'AccessDenied',
          partnerHead: objectReadSigned ? 'OK' : 'AccessDenied',
          partnerGetMissing: bucketRead ? 'NoSuchKey' : 'AccessDenied',
          partnerPut: bucketWrite ? 'OK' : 'AccessDenied',
          anonGet: objectReadAll ? 200 : 403,
          anonGetBody: objectReadAll ? 'doc' : undefined,
          anonGetMissing: bucketRead ? 404 : 403,
          anonList: bucketRead ? 200 : 403,
          anonPut: bucketWrite ? 200 : 403,
        });
        // Nothing the denied writes could have left behind; what the allowed ones wrote is there.
        assert.equal(await headOutcome(root.send(new HeadObjectCommand({ Bucket: b, Key: 'by-partner' }))), bucketWrite ? 'AccessDenied' : 'NotFound',
          'ObjectWriter: the partner owns its private object, so even the bucket owner cannot read it');
        const listed = await root.send(new ListObjectsV2Command({ Bucket: b }));
        assert.deepEqual((listed.Contents ?? []).map((o) => o.Key).sort(), bucketWrite ? ['by-anonymous', 'by-partner', 'doc'] : ['doc']);
      });
    }
  }

  // -------------------------------------------------------------------------------------
  // 2. Each permission gives exactly its operations (grant headers by canonical id).

  const BUCKET_PROBES = ['ListObjectsV2', 'ListObjects', 'ListObjectVersions', 'ListMultipartUploads', 'PutObject', 'DeleteObject', 'GetBucketAcl', 'PutBucketAcl'] as const;
  const OBJECT_PROBES = ['GetObject', 'HeadObject', 'GetObjectAcl', 'PutObjectAcl'] as const;
  type ProbeName = (typeof BUCKET_PROBES)[number] | (typeof OBJECT_PROBES)[number];
  const PERMISSION_CASES: { target: 'bucket' | 'object'; permission: Permission; allows: readonly ProbeName[]; via: 'cli' | 'sdk' }[] = [
    { target: 'bucket', permission: 'READ', allows: ['ListObjectsV2', 'ListObjects', 'ListObjectVersions', 'ListMultipartUploads'], via: 'cli' },
    { target: 'bucket', permission: 'WRITE', allows: ['PutObject', 'DeleteObject'], via: 'sdk' },
    { target: 'bucket', permission: 'READ_ACP', allows: ['GetBucketAcl'], via: 'sdk' },
    { target: 'bucket', permission: 'WRITE_ACP', allows: ['PutBucketAcl'], via: 'sdk' },
    { target: 'bucket', permission: 'FULL_CONTROL', allows: BUCKET_PROBES, via: 'sdk' },
    { target: 'object', permission: 'READ', allows: ['GetObject', 'HeadObject'], via: 'cli' },
    { target: 'object', permission: 'READ_ACP', allows: ['GetObjectAcl'], via: 'sdk' },
    { target: 'object', permission: 'WRITE_ACP', allows: ['PutObjectAcl'], via: 'sdk' },
    // Object FULL_CONTROL is READ + READ_ACP + WRITE_ACP on the object: it does not allow
    // deleting or overwriting it (those are bucket WRITE).
    { target: 'object', permission: 'FULL_CONTROL', allows: OBJECT_PROBES, via: 'sdk' },
  ];

  for (const c of PERMISSION_CASES) {
    it(`${c.target} ${c.permission} granted by canonical id allows exactly: ${c.allows.join(', ')}`, async () => {
      // Grants to a named account are not public: Block Public Access (on by default) is no obstacle.
      const b = await aclBucket();
      await root.send(new PutObjectCommand({ Bucket: b, Key: 'obj', Body: 'obj' }));
      await root.send(new PutObjectCommand({ Bucket: b, Key: 'victim', Body: 'v' }));
      // Root keeps FULL_CONTROL explicitly: with grant headers the ACL holds exactly the grants listed.
      const grant: AclInput = c.permission === 'FULL_CONTROL'
        ? { GrantFullControl: ids(rootId, partner.canonicalUserId) }
        : { GrantFullControl: ids(rootId), [GRANT_PARAM[c.permission]]: ids(partner.canonicalUserId) };
      if (c.via === 'cli') {
        const where = c.target === 'bucket' ? ['put-bucket-acl', '--bucket', b] : ['put-object-acl', '--bucket', b, '--key', 'obj'];
        const r = aws(k, ['s3api', ...where, '--grant-full-control', `id=${rootId}`, GRANT_FLAG[c.permission], `id=${partner.canonicalUserId}`]);
        assert.equal(r.status, 0, r.stderr);
      } else if (c.target === 'bucket') {
        await root.send(new PutBucketAclCommand({ Bucket: b, ...grant }));
      } else {
        await root.send(new PutObjectAclCommand({ Bucket: b, Key: 'obj', ...grant }));
      }
      const expectedGrant = c.permission === 'FULL_CONTROL'
        ? grants(user(rootId, 'FULL_CONTROL'), user(partner.canonicalUserId, 'FULL_CONTROL'))
        : grants(user(rootId, 'FULL_CONTROL'), user(partner.canonicalUserId, c.permission));
      assert.deepEqual(c.target === 'bucket' ? await bucketGrants(b) : await objectGrants(b, 'obj'), expectedGrant);

      // The ACL-writing probes put back the ACL already in place, so probing changes nothing.
      const bucketAcl: AclInput = c.target === 'bucket' ? grant : { ACL: 'private' };
      const objectAcl: AclInput = c.target === 'object' ? grant : { ACL: 'private' };
      const probes: Record<ProbeName, () => Promise<string>> = {
        ListObjectsV2: () => outcome(them.send(new ListObjectsV2Command({ Bucket: b }))),
        ListObjects: () => outcome(them.send(new ListObjectsCommand({ Bucket: b }))),
        ListObjectVersions: () => outcome(them.send(new ListObjectVersionsCommand({ Bucket: b }))),
        ListMultipartUploads: () => outcome(them.send(new ListMultipartUploadsCommand({ Bucket: b }))),
        PutObject: () => outcome(them.send(new PutObjectCommand({ Bucket: b, Key: 'new-by-partner', Body: 'n' }))),
        DeleteObject: () => outcome(them.send(new DeleteObjectCommand({ Bucket: b, Key: 'victim' }))),
        GetBucketAcl: () => outcome(them.send(new GetBucketAclCommand({ Bucket: b }))),
        PutBucketAcl: () => outcome(them.send(new PutBucketAclCommand({ Bucket: b, ...bucketAcl }))),
        GetObject: () => outcome(them.send(new GetObjectCommand({ Bucket: b, Key: 'obj' }))),
        HeadObject: () => headOutcome(them.send(new HeadObjectCommand({ Bucket: b, Key: 'obj' }))),
        GetObjectAcl: () => outcome(them.send(new GetObjectAclCommand({ Bucket: b, Key: 'obj' }))),
        PutObjectAcl: () => outcome(them.send(new PutObjectAclCommand({ Bucket: b, Key: 'obj', ...objectAcl }))),
      };
      const got: Record<string, string> = {};
      const want: Record<string, string> = {};
      for (const name of [...BUCKET_PROBES, ...OBJECT_PROBES]) {
        got[name] = await probes[name]();
        want[name] = c.allows.includes(name) ? 'OK' : 'AccessDenied';
      }
      assert.deepEqual(got, want);

      // The allowed writes really happened, the denied ones did not.
      const canWrite = c.allows.includes('PutObject');
      assert.equal(await headOutcome(root.send(new HeadObjectCommand({ Bucket: b, Key: 'victim' }))), canWrite ? 'NotFound' : 'OK');
      assert.equal(await headOutcome(root.send(new HeadObjectCommand({ Bucket: b, Key: 'new-by-partner' }))), canWrite ? 'AccessDenied' : 'NotFound',
        'the partner-written object is the partner\'s (ObjectWriter), private to it');
      assert.deepEqual(c.target === 'bucket' ? await bucketGrants(b) : await objectGrants(b, 'obj'), expectedGrant, 'the re-put ACL is unchanged');
      assert.equal(await outcome(root.send(new GetObjectCommand({ Bucket: b, Key: 'obj' }))), 'OK', 'the owner keeps access');

      if (c.permission === 'READ_ACP' && c.target === 'bucket') {
        // What the grantee reads: the owner, and the grantee named with its account's name.
        const acl = await them.send(new GetBucketAclCommand({ Bucket: b }));
        assert.equal(acl.Owner?.ID, rootId);
        const mine = acl.Grants?.find((g) => g.Grantee?.ID === partner.canonicalUserId);
        assert.equal(mine?.Grantee?.Type, 'CanonicalUser');
        assert.equal(mine?.Grantee?.DisplayName, 'partner');
      }
      if (c.permission === 'WRITE_ACP') {
        // WRITE_ACP is enough to grant oneself more: READ follows.
        const more: AclInput = { GrantFullControl: ids(rootId), GrantWriteACP: ids(partner.canonicalUserId), GrantRead: ids(partner.canonicalUserId) };
        if (c.target === 'bucket') {
          await them.send(new PutBucketAclCommand({ Bucket: b, ...more }));
          assert.equal(await outcome(them.send(new ListObjectsV2Command({ Bucket: b }))), 'OK');
          assert.equal((await root.send(new GetBucketAclCommand({ Bucket: b }))).Owner?.ID, rootId, 'a grantee changing the ACL does not take ownership');
        } else {
          await them.send(new PutObjectAclCommand({ Bucket: b, Key: 'obj', ...more }));
          assert.equal(await outcome(them.send(new GetObjectCommand({ Bucket: b, Key: 'obj' }))), 'OK');
          assert.equal((await root.send(new GetObjectAclCommand({ Bucket: b, Key: 'obj' }))).Owner?.ID, rootId);
        }
      }
      if (c.target === 'bucket' && c.permission === 'FULL_CONTROL') {
        // Bucket permissions never reach into objects the grantee does not own.
        assert.equal(await outcome(them.send(new GetObjectCommand({ Bucket: b, Key: 'obj' }))), 'AccessDenied');
      }
    });
  }

  // -------------------------------------------------------------------------------------
  // 3. Canned ACLs expand to AWS's grant lists.

  it('expands each canned ACL on a bucket to the grant list of the canned ACL table (CLI and SDK)', async () => {
    const b = await aclBucket({ publicAcls: true });
    const table: { acl: string; extra: string[]; via: 'cli' | 'sdk' }[] = [
      { acl: 'private', extra: [], via: 'sdk' },
      { acl: 'public-read', extra: [group(ALL_USERS, 'READ')], via: 'sdk' },
      { acl: 'public-read-write', extra: [group(ALL_USERS, 'READ'), group(ALL_USERS, 'WRITE')], via: 'sdk' },
      { acl: 'authenticated-read', extra: [group(AUTHENTICATED_USERS, 'READ')], via: 'sdk' },
      { acl: 'aws-exec-read', extra: [user(EC2_EXEC_READ_ID, 'READ')], via: 'cli' },
      { acl: 'log-delivery-write', extra: [group(LOG_DELIVERY, 'WRITE'), group(LOG_DELIVERY, 'READ_ACP')], via: 'cli' },
      // Object-only canned ACLs: "If you specify this canned ACL when creating a bucket, Amazon S3 ignores it."
      { acl: 'bucket-owner-read', extra: [], via: 'sdk' },
      { acl: 'bucket-owner-full-control', extra: [], via: 'sdk' },
    ];
    for (const { acl, extra, via } of table) {
      if (via === 'cli') {
        const r = aws(k, ['s3api', 'put-bucket-acl', '--bucket', b, '--acl', acl]);
        assert.equal(r.status, 0, `${acl}: ${r.stderr}`);
      } else {
        await root.send(new PutBucketAclCommand({ Bucket: b, ACL: acl as BucketCannedACL }));
      }
      const got = await root.send(new GetBucketAclCommand({ Bucket: b }));
      assert.equal(got.Owner?.ID, rootId, acl);
      assert.deepEqual(grantSet(got.Grants), grants(user(rootId, 'FULL_CONTROL'), ...extra), acl);
    }
    // The CLI reads the same document.
    const r = aws(k, ['s3api', 'get-bucket-acl', '--bucket', b]);
    assert.equal(r.status, 0, r.stderr);
    const cli = JSON.parse(r.stdout) as { Owner?: { ID?: string; DisplayName?: string }; Grants?: Grant[] };
    assert.equal(cli.Owner?.ID, rootId);
    assert.deepEqual(grantSet(cli.Grants), [user(rootId, 'FULL_CONTROL')]);
    // The owner is named by its canonical id and its account name.
    const last = await root.send(new GetBucketAclCommand({ Bucket: b }));
    assert.equal(last.Owner?.DisplayName, 'root');
    const ownerGrant = last.Grants?.[0];
    assert.equal(ownerGrant?.Grantee?.Type, 'CanonicalUser');
    assert.equal(ownerGrant?.Grantee?.ID, rootId);
  });

  it('expands each canned ACL on an object, relative to the object owner and the bucket owner', async () => {
    const b = await aclBucket({ publicAcls: true });
    const table: { acl: ObjectCannedACL; extra: string[]; via: 'cli' | 'sdk' }[] = [
      { acl: 'private', extra: [], via: 'sdk' },
      { acl: 'public-read', extra: [group(ALL_USERS, 'READ')], via: 'cli' },
      { acl: 'public-read-write', extra: [group(ALL_USERS, 'READ'), group(ALL_USERS, 'WRITE')], via: 'sdk' },
      { acl: 'authenticated-read', extra: [group(AUTHENTICATED_USERS, 'READ')], via: 'cli' },
      { acl: 'aws-exec-read', extra: [user(EC2_EXEC_READ_ID, 'READ')], via: 'sdk' },
      // Written by the bucket owner: the bucket owner is the object owner, nothing to add.
      { acl: 'bucket-owner-read', extra: [], via: 'sdk' },
      { acl: 'bucket-owner-full-control', extra: [], via: 'sdk' },
    ];
    for (const { acl, extra, via } of table) {
      const key = `by-owner/${acl}`;
      if (via === 'cli') {
        const r = aws(k, ['s3api', 'put-object', '--bucket', b, '--key', key, '--acl', acl]);
        assert.equal(r.status, 0, `${acl}: ${r.stderr}`);
      } else {
        await root.send(new PutObjectCommand({ Bucket: b, Key: key, Body: acl, ACL: acl }));
      }
      const got = await root.send(new GetObjectAclCommand({ Bucket: b, Key: key }));
      assert.equal(got.Owner?.ID, rootId, acl);
      assert.deepEqual(grantSet(got.Grants), grants(user(rootId, 'FULL_CONTROL'), ...extra), acl);
    }
    // PutObjectAcl with a canned ACL replaces the whole list.
    await root.send(new PutObjectAclCommand({ Bucket: b, Key: 'by-owner/public-read-write', ACL: 'private' }));
    assert.deepEqual(await objectGrants(b, 'by-owner/public-read-write'), [user(rootId, 'FULL_CONTROL')]);

    // Written by another account (ObjectWriter: it owns what it writes).
    await policyLetsPartnerWrite(b);
    await them.send(new PutObjectCommand({ Bucket: b, Key: 'by-partner/bucket-owner-read', Body: 'x', ACL: 'bucket-owner-read' }));
    await them.send(new PutObjectCommand({ Bucket: b, Key: 'by-partner/bucket-owner-full-control', Body: 'x', ACL: 'bucket-owner-full-control' }));
    await them.send(new PutObjectCommand({ Bucket: b, Key: 'by-partner/private', Body: 'x', ACL: 'private' }));
    const bor = await them.send(new GetObjectAclCommand({ Bucket: b, Key: 'by-partner/bucket-owner-read' }));
    assert.equal(bor.Owner?.ID, partner.canonicalUserId);
    assert.deepEqual(grantSet(bor.Grants), grants(user(partner.canonicalUserId, 'FULL_CONTROL'), user(rootId, 'READ')));
    const bofc = await root.send(new GetObjectAclCommand({ Bucket: b, Key: 'by-partner/bucket-owner-full-control' }));
    assert.equal(bofc.Owner?.ID, partner.canonicalUserId);
    assert.deepEqual(grantSet(bofc.Grants), grants(user(partner.canonicalUserId, 'FULL_CONTROL'), user(rootId, 'FULL_CONTROL')));
    const priv = await them.send(new GetObjectAclCommand({ Bucket: b, Key: 'by-partner/private' }));
    assert.equal(priv.Owner?.ID, partner.canonicalUserId);
    assert.deepEqual(grantSet(priv.Grants), [user(partner.canonicalUserId, 'FULL_CONTROL')]);
  });

  it('applies canned ACLs and grant headers on CreateMultipartUpload, CopyObject and PutObject, and round-trips AccessControlPolicy XML', async () => {
    const b = await aclBucket({ publicAcls: true });
    // Multipart: the ACL given at CreateMultipartUpload is the completed object's.
    const mpu = await root.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp', ACL: 'public-read' }));
    const part = await root.send(new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId: mpu.UploadId, PartNumber: 1, Body: 'multipart' }));
    await root.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mp', UploadId: mpu.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    assert.deepEqual(await objectGrants(b, 'mp'), grants(user(rootId, 'FULL_CONTROL'), group(ALL_USERS, 'READ')));
    assert.equal((await anon(k, 'GET', `/${b}/mp`)).body, 'multipart');
    // CopyObject: the copy gets the ACL of the request, never the source's (private when none).
    await root.send(new CopyObjectCommand({ Bucket: b, Key: 'copy-auth', CopySource: `${b}/mp`, ACL: 'authenticated-read' }));
    assert.deepEqual(await objectGrants(b, 'copy-auth'), grants(user(rootId, 'FULL_CONTROL'), group(AUTHENTICATED_USERS, 'READ')));
    await root.send(new CopyObjectCommand({ Bucket: b, Key: 'copy-plain', CopySource: `${b}/mp` }));
    assert.deepEqual(await objectGrants(b, 'copy-plain'), [user(rootId, 'FULL_CONTROL')]);
    assert.equal((await anon(k, 'GET', `/${b}/copy-plain`)).status, 403);
    // PutObject with grant headers (uri=, id=): exactly the grants listed.
    await root.send(new PutObjectCommand({
      Bucket: b, Key: 'granted', Body: 'g', GrantFullControl: ids(rootId), GrantRead: `uri="${ALL_USERS}"`, GrantReadACP: ids(partner.canonicalUserId),
    }));
    assert.deepEqual(await objectGrants(b, 'granted'), grants(user(rootId, 'FULL_CONTROL'), group(ALL_USERS, 'READ'), user(partner.canonicalUserId, 'READ_ACP')));
    assert.equal((await anon(k, 'GET', `/${b}/granted`)).status, 200);
    assert.equal(await outcome(them.send(new GetObjectAclCommand({ Bucket: b, Key: 'granted' }))), 'OK');

    // AccessControlPolicy bodies (PutBucketAcl / PutObjectAcl) read back as sent.
    const policy: AccessControlPolicy = {
      Owner: { ID: rootId },
      Grants: [
        { Grantee: { Type: 'CanonicalUser', ID: rootId }, Permission: 'FULL_CONTROL' },
        { Grantee: { Type: 'CanonicalUser', ID: partner.canonicalUserId }, Permission: 'READ' },
        { Grantee: { Type: 'Group', URI: AUTHENTICATED_USERS }, Permission: 'READ_ACP' },
      ],
    };
    const expected = grants(user(rootId, 'FULL_CONTROL'), user(partner.canonicalUserId, 'READ'), group(AUTHENTICATED_USERS, 'READ_ACP'));
    await root.send(new PutBucketAclCommand({ Bucket: b, AccessControlPolicy: policy }));
    const bucketAcl: GetBucketAclCommandOutput = await root.send(new GetBucketAclCommand({ Bucket: b }));
    assert.equal(bucketAcl.Owner?.ID, rootId);
    assert.deepEqual(grantSet(bucketAcl.Grants), expected);
    assert.equal(bucketAcl.Grants?.find((g) => g.Grantee?.ID === partner.canonicalUserId)?.Grantee?.DisplayName, 'partner', 'the grantee named by its account');
    assert.equal(await outcome(them.send(new ListObjectsV2Command({ Bucket: b }))), 'OK');
    assert.equal(await outcome(them.send(new GetBucketAclCommand({ Bucket: b }))), 'OK', 'AuthenticatedUsers READ_ACP');
    await root.send(new PutObjectAclCommand({ Bucket: b, Key: 'copy-plain', AccessControlPolicy: policy }));
    assert.deepEqual(await objectGrants(b, 'copy-plain'), expected);
    assert.equal(await outcome(them.send(new GetObjectCommand({ Bucket: b, Key: 'copy-plain' }))), 'OK');
  });

  // -------------------------------------------------------------------------------------
  // 4. Object Ownership modes, with a second account writing.

  it('BucketOwnerEnforced (the default): ACLs disabled, the bucket owner owns every object, only bucket-owner-full-control accepted', async () => {
    const b = bucketName('acl');
    await root.send(new CreateBucketCommand({ Bucket: b }));
    assert.equal(await ownership(b), 'BucketOwnerEnforced');
    await policyLetsPartnerWrite(b);
    await them.send(new PutObjectCommand({ Bucket: b, Key: 'plain', Body: 'p' }));
    await them.send(new PutObjectCommand({ Bucket: b, Key: 'bofc', Body: 'b', ACL: 'bucket-owner-full-control' }));
    for (const key of ['plain', 'bofc']) {
      const acl = await root.send(new GetObjectAclCommand({ Bucket: b, Key: key }));
      assert.equal(acl.Owner?.ID, rootId, `${key}: owned by the bucket owner`);
      assert.deepEqual(grantSet(acl.Grants), [user(rootId, 'FULL_CONTROL')], key);
      assert.equal(await outcome(root.send(new GetObjectCommand({ Bucket: b, Key: key }))), 'OK', key);
    }
    const listed = await root.send(new ListObjectsV2Command({ Bucket: b, FetchOwner: true }));
    assert.deepEqual(listed.Contents?.map((o) => o.Owner?.ID), [rootId, rootId]);
    // Setting ACLs fails with 400 AccessControlListNotSupported and stores nothing.
    assert.equal(await outcome(them.send(new PutObjectCommand({ Bucket: b, Key: 'granted', Body: 'g', GrantRead: ids(partner.canonicalUserId) }))), 'AccessControlListNotSupported');
    assert.equal(await outcome(them.send(new PutObjectCommand({ Bucket: b, Key: 'bor', Body: 'g', ACL: 'bucket-owner-read' }))), 'AccessControlListNotSupported');
    assert.equal(await headOutcome(root.send(new HeadObjectCommand({ Bucket: b, Key: 'granted' }))), 'NotFound');
    assert.equal(await headOutcome(root.send(new HeadObjectCommand({ Bucket: b, Key: 'bor' }))), 'NotFound');
    assert.equal(await outcome(root.send(new PutBucketAclCommand({ Bucket: b, GrantRead: ids(partner.canonicalUserId) }))), 'AccessControlListNotSupported');
    assert.equal(await outcome(root.send(new PutObjectAclCommand({ Bucket: b, Key: 'plain', GrantRead: ids(partner.canonicalUserId) }))), 'AccessControlListNotSupported');
    // (A non-public canned ACL, so Block Public Access, on by default, is not what answers.)
    const cli = aws(k, ['s3api', 'put-object-acl', '--bucket', b, '--key', 'plain', '--acl', 'aws-exec-read']);
    assert.equal(cliOutcome(cli), 'AccessControlListNotSupported');
    assert.deepEqual(await bucketGrants(b), [user(rootId, 'FULL_CONTROL')]);
    assert.deepEqual(await objectGrants(b, 'plain'), [user(rootId, 'FULL_CONTROL')]);
    // The owner-only ACL expressed in XML is "bucket owner full control": accepted.
    const ownerOnly: AccessControlPolicy = { Owner: { ID: rootId }, Grants: [{ Grantee: { Type: 'CanonicalUser', ID: rootId }, Permission: 'FULL_CONTROL' }] };
    assert.equal(await outcome(root.send(new PutBucketAclCommand({ Bucket: b, AccessControlPolicy: ownerOnly }))), 'OK');
  });

  it('CreateBucket takes x-amz-object-ownership, and refuses ACLs granting others under BucketOwnerEnforced', async () => {
    const refused = bucketName('acl');
    assert.equal(await outcome(root.send(new CreateBucketCommand({ Bucket: refused, ACL: 'public-read' }))), 'InvalidBucketAclWithObjectOwnership');
    assert.equal(await outcome(root.send(new CreateBucketCommand({ Bucket: refused, ObjectOwnership: 'BucketOwnerEnforced', GrantRead: ids(partner.canonicalUserId) }))),
      'InvalidBucketAclWithObjectOwnership');
    assert.equal(await httpStatus(root.send(new HeadBucketCommand({ Bucket: refused }))), 404, 'no bucket was created');
    const priv = bucketName('acl');
    assert.equal(await outcome(root.send(new CreateBucketCommand({ Bucket: priv, ACL: 'private' }))), 'OK');
    assert.equal(await ownership(priv), 'BucketOwnerEnforced');
    for (const mode of ['ObjectWriter', 'BucketOwnerPreferred'] as const) {
      const b = bucketName('acl');
      await root.send(new CreateBucketCommand({ Bucket: b, ObjectOwnership: mode, GrantFullControl: ids(rootId), GrantRead: ids(partner.canonicalUserId) }));
      assert.equal(await ownership(b), mode);
      assert.deepEqual(await bucketGrants(b), grants(user(rootId, 'FULL_CONTROL'), user(partner.canonicalUserId, 'READ')), mode);
      assert.equal(await outcome(them.send(new ListObjectsV2Command({ Bucket: b }))), 'OK', mode);
    }
  });

  it('ObjectWriter: the writer owns its object; the bucket owner reads it only if its ACL says so, but may always delete it', async () => {
    const b = await aclBucket({ ownership: 'ObjectWriter' });
    // Bucket WRITE to the partner through the bucket ACL.
    await root.send(new PutBucketAclCommand({ Bucket: b, GrantFullControl: ids(rootId), GrantWrite: ids(partner.canonicalUserId) }));
    await them.send(new PutObjectCommand({ Bucket: b, Key: 'private', Body: 'p' }));
    await them.send(new PutObjectCommand({ Bucket: b, Key: 'bor', Body: 'r', ACL: 'bucket-owner-read' }));
    await them.send(new PutObjectCommand({ Bucket: b, Key: 'bofc', Body: 'f', ACL: 'bucket-owner-full-control' }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'mine', Body: 'm' }));

    const mineAcl = await them.send(new GetObjectAclCommand({ Bucket: b, Key: 'private' }));
    assert.equal(mineAcl.Owner?.ID, partner.canonicalUserId);
    assert.deepEqual(grantSet(mineAcl.Grants), [user(partner.canonicalUserId, 'FULL_CONTROL')]);
    const listed = await root.send(new ListObjectsV2Command({ Bucket: b, FetchOwner: true }));
    assert.deepEqual(Object.fromEntries((listed.Contents ?? []).map((o) => [o.Key, o.Owner?.ID])),
      { bofc: partner.canonicalUserId, bor: partner.canonicalUserId, mine: rootId, private: partner.canonicalUserId });

    const got = {
      getPrivate: await outcome(root.send(new GetObjectCommand({ Bucket: b, Key: 'private' }))),
      headPrivate: await headOutcome(root.send(new HeadObjectCommand({ Bucket: b, Key: 'private' }))),
      aclPrivate: await outcome(root.send(new GetObjectAclCommand({ Bucket: b, Key: 'private' }))),
      getBor: await outcome(root.send(new GetObjectCommand({ Bucket: b, Key: 'bor' }))),
      aclBor: await outcome(root.send(new GetObjectAclCommand({ Bucket: b, Key: 'bor' }))),
      getBofc: await outcome(root.send(new GetObjectCommand({ Bucket: b, Key: 'bofc' }))),
      aclBofc: await outcome(root.send(new GetObjectAclCommand({ Bucket: b, Key: 'bofc' }))),
      partnerGetRootsObject: await outcome(them.send(new GetObjectCommand({ Bucket: b, Key: 'mine' }))),
    };
    assert.deepEqual(got, {
      getPrivate: 'AccessDenied',
      headPrivate: 'AccessDenied',
      aclPrivate: 'AccessDenied',
      getBor: 'OK',
      aclBor: 'AccessDenied', // READ, not READ_ACP
      getBofc: 'OK',
      aclBofc: 'OK',
      partnerGetRootsObject: 'AccessDenied', // bucket WRITE gives nothing on others' objects
    });
    assert.equal((await root.send(new GetObjectAclCommand({ Bucket: b, Key: 'bofc' }))).Owner?.ID, partner.canonicalUserId, 'bucket-owner-full-control does not transfer ownership under ObjectWriter');
    // The bucket owner can delete any object in its bucket, whoever owns it.
    assert.equal(await outcome(root.send(new DeleteObjectCommand({ Bucket: b, Key: 'private' }))), 'OK');
    assert.equal(await headOutcome(root.send(new HeadObjectCommand({ Bucket: b, Key: 'private' }))), 'NotFound');
  });

  it('BucketOwnerPreferred: bucket-owner-full-control hands the object to the bucket owner; without it the writer keeps it', async () => {
    const b = await aclBucket({ ownership: 'ObjectWriter' });
    await root.send(new PutBucketOwnershipControlsCommand({ Bucket: b, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] } }));
    assert.equal(await ownership(b), 'BucketOwnerPreferred');
    await policyLetsPartnerWrite(b);
    await them.send(new PutObjectCommand({ Bucket: b, Key: 'handed-over', Body: 'h', ACL: 'bucket-owner-full-control' }));
    await them.send(new PutObjectCommand({ Bucket: b, Key: 'kept', Body: 'k' }));
    await them.send(new PutObjectCommand({ Bucket: b, Key: 'kept-bor', Body: 'r', ACL: 'bucket-owner-read' }));

    const handed = await root.send(new GetObjectAclCommand({ Bucket: b, Key: 'handed-over' }));
    assert.equal(handed.Owner?.ID, rootId);
    assert.ok(grantSet(handed.Grants).includes(user(rootId, 'FULL_CONTROL')), JSON.stringify(handed.Grants));
    assert.equal(await outcome(root.send(new GetObjectCommand({ Bucket: b, Key: 'handed-over' }))), 'OK');

    const kept = await them.send(new GetObjectAclCommand({ Bucket: b, Key: 'kept' }));
    assert.equal(kept.Owner?.ID, partner.canonicalUserId);
    assert.equal(await outcome(root.send(new GetObjectCommand({ Bucket: b, Key: 'kept' }))), 'AccessDenied');
    assert.equal((await them.send(new GetObjectAclCommand({ Bucket: b, Key: 'kept-bor' }))).Owner?.ID, partner.canonicalUserId, 'only bucket-owner-full-control hands over');
    assert.equal(await outcome(root.send(new GetObjectCommand({ Bucket: b, Key: 'kept-bor' }))), 'OK');

    const listed = await root.send(new ListObjectsV2Command({ Bucket: b, FetchOwner: true }));
    assert.deepEqual(Object.fromEntries((listed.Contents ?? []).map((o) => [o.Key, o.Owner?.ID])),
      { 'handed-over': rootId, kept: partner.canonicalUserId, 'kept-bor': partner.canonicalUserId });
  });

  it('Put/Get/DeleteBucketOwnershipControls: no controls behaves as ObjectWriter; invalid values and ACL conflicts change nothing', async () => {
    const b = await aclBucket({ ownership: 'BucketOwnerPreferred' });
    await policyLetsPartnerWrite(b);
    await root.send(new DeleteBucketOwnershipControlsCommand({ Bucket: b }));
    const missing = await root.send(new GetBucketOwnershipControlsCommand({ Bucket: b })).catch((e: S3ServiceException) => e);
    assert.ok(missing instanceof S3ServiceException);
    assert.equal(missing.name, 'OwnershipControlsNotFoundError');
    assert.equal(missing.$metadata.httpStatusCode, 404);
    // No controls: the writer keeps ownership even with bucket-owner-full-control (ObjectWriter).
    await them.send(new PutObjectCommand({ Bucket: b, Key: 'after-delete', Body: 'a', ACL: 'bucket-owner-full-control' }));
    assert.equal((await root.send(new GetObjectAclCommand({ Bucket: b, Key: 'after-delete' }))).Owner?.ID, partner.canonicalUserId);
    await them.send(new PutObjectCommand({ Bucket: b, Key: 'partner-private', Body: 'p' }));
    assert.equal(await outcome(root.send(new GetObjectCommand({ Bucket: b, Key: 'partner-private' }))), 'AccessDenied');

    await root.send(new PutBucketOwnershipControlsCommand({ Bucket: b, OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] } }));
    assert.equal(await ownership(b), 'ObjectWriter');
    // An unknown mode: 400 (MalformedXML or InvalidArgument), nothing changed.
    const bogus = await root.send(new PutBucketOwnershipControlsCommand({ Bucket: b, OwnershipControls: { Rules: [{ ObjectOwnership: 'Bogus' as ObjectOwnership }] } }))
      .catch((e: S3ServiceException) => e);
    assert.ok(bogus instanceof S3ServiceException);
    assert.equal(bogus.$metadata.httpStatusCode, 400);
    assert.ok(['MalformedXML', 'InvalidArgument'].includes(bogus.name), bogus.name);
    assert.equal(await ownership(b), 'ObjectWriter');

    // BucketOwnerEnforced needs a bucket ACL granting only the owner FULL_CONTROL.
    await root.send(new PutBucketAclCommand({ Bucket: b, GrantFullControl: ids(rootId), GrantRead: ids(partner.canonicalUserId) }));
    assert.equal(await outcome(root.send(new PutBucketOwnershipControlsCommand({ Bucket: b, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }))),
      'InvalidBucketAclWithObjectOwnership');
    assert.equal(await ownership(b), 'ObjectWriter');
    assert.deepEqual(await bucketGrants(b), grants(user(rootId, 'FULL_CONTROL'), user(partner.canonicalUserId, 'READ')));
    await root.send(new PutBucketAclCommand({ Bucket: b, ACL: 'private' }));
    await root.send(new PutBucketOwnershipControlsCommand({ Bucket: b, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }));
    assert.equal(await ownership(b), 'BucketOwnerEnforced');
    // Now the bucket owner owns and fully controls every object, including those written before.
    assert.equal(await outcome(root.send(new GetObjectCommand({ Bucket: b, Key: 'partner-private' }))), 'OK');
    const acl = await root.send(new GetObjectAclCommand({ Bucket: b, Key: 'partner-private' }));
    assert.equal(acl.Owner?.ID, rootId);
    assert.deepEqual(grantSet(acl.Grants), [user(rootId, 'FULL_CONTROL')]);
  });

  // -------------------------------------------------------------------------------------
  // 5. Block Public Access: rejecting and ignoring public ACLs, bucket and account level.

  it('BlockPublicAcls rejects public canned ACLs and public grants with 403 AccessDenied, and stores nothing', async () => {
    const b = await aclBucket();
    await root.send(new PutPublicAccessBlockCommand({
      Bucket: b, PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: false, BlockPublicPolicy: false, RestrictPublicBuckets: false },
    }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'o', Body: 'o' }));
    const publicXml: AccessControlPolicy = {
      Owner: { ID: rootId },
      Grants: [
        { Grantee: { Type: 'CanonicalUser', ID: rootId }, Permission: 'FULL_CONTROL' },
        { Grantee: { Type: 'Group', URI: AUTHENTICATED_USERS }, Permission: 'READ' },
      ],
    };
    const got = {
      bucketCannedPublicRead: await outcome(root.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read' }))),
      bucketCannedAuthenticatedRead: await outcome(root.send(new PutBucketAclCommand({ Bucket: b, ACL: 'authenticated-read' }))),
      bucketGrantAllUsers: await outcome(root.send(new PutBucketAclCommand({ Bucket: b, GrantFullControl: ids(rootId), GrantWrite: `uri="${ALL_USERS}"` }))),
      bucketXmlAuthenticatedUsers: await outcome(root.send(new PutBucketAclCommand({ Bucket: b, AccessControlPolicy: publicXml }))),
      objectAclCannedPublicRead: await outcome(root.send(new PutObjectAclCommand({ Bucket: b, Key: 'o', ACL: 'public-read' }))),
      objectAclGrantAuthenticated: await outcome(root.send(new PutObjectAclCommand({ Bucket: b, Key: 'o', GrantFullControl: ids(rootId), GrantRead: `uri="${AUTHENTICATED_USERS}"` }))),
      putObjectPublicReadWrite: await outcome(root.send(new PutObjectCommand({ Bucket: b, Key: 'new-prw', Body: 'x', ACL: 'public-read-write' }))),
      putObjectGrantAllUsers: await outcome(root.send(new PutObjectCommand({ Bucket: b, Key: 'new-grant', Body: 'x', GrantRead: `uri="${ALL_USERS}"` }))),
      putObjectCliPublicRead: cliOutcome(aws(k, ['s3api', 'put-object', '--bucket', b, '--key', 'new-cli', '--acl', 'public-read'])),
    };
    assert.deepEqual(got, Object.fromEntries(Object.keys(got).map((n) => [n, 'AccessDenied'])));
    assert.deepEqual(await bucketGrants(b), [user(rootId, 'FULL_CONTROL')]);
    assert.deepEqual(await objectGrants(b, 'o'), [user(rootId, 'FULL_CONTROL')]);
    for (const key of ['new-prw', 'new-grant', 'new-cli']) assert.equal(await headOutcome(root.send(new HeadObjectCommand({ Bucket: b, Key: key }))), 'NotFound', key);
    // Non-public ACLs are unaffected.
    assert.equal(await outcome(root.send(new PutBucketAclCommand({ Bucket: b, GrantFullControl: ids(rootId), GrantRead: ids(partner.canonicalUserId) }))), 'OK');
    assert.equal(await outcome(root.send(new PutObjectCommand({ Bucket: b, Key: 'ok', Body: 'x', ACL: 'bucket-owner-full-control' }))), 'OK');
    assert.equal(await outcome(root.send(new PutObjectAclCommand({ Bucket: b, Key: 'o', ACL: 'private' }))), 'OK');
  });

  it('IgnorePublicAcls makes existing AllUsers/AuthenticatedUsers grants inert without removing them', async () => {
    const b = await aclBucket({ publicAcls: true });
    await root.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read' }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'pub', Body: 'pub', ACL: 'public-read' }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'auth', Body: 'auth', ACL: 'authenticated-read' }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'named', Body: 'named', GrantFullControl: ids(rootId), GrantRead: ids(partner.canonicalUserId) }));
    const probe = async (): Promise<Record<string, string | number>> => ({
      anonGet: (await anon(k, 'GET', `/${b}/pub`)).status,
      anonList: (await anon(k, 'GET', `/${b}?list-type=2`)).status,
      partnerGetAuth: await outcome(them.send(new GetObjectCommand({ Bucket: b, Key: 'auth' }))),
      partnerList: await outcome(them.send(new ListObjectsV2Command({ Bucket: b }))),
      partnerGetNamed: await outcome(them.send(new GetObjectCommand({ Bucket: b, Key: 'named' }))),
    });
    assert.deepEqual(await probe(), { anonGet: 200, anonList: 200, partnerGetAuth: 'OK', partnerList: 'OK', partnerGetNamed: 'OK' });
    await root.send(new PutPublicAccessBlockCommand({
      Bucket: b, PublicAccessBlockConfiguration: { BlockPublicAcls: false, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false },
    }));
    assert.deepEqual(await probe(), { anonGet: 403, anonList: 403, partnerGetAuth: 'AccessDenied', partnerList: 'AccessDenied', partnerGetNamed: 'OK' },
      'public grants ignored, a grant to a named account still honoured');
    // The ACLs still read back as stored.
    assert.deepEqual(await bucketGrants(b), grants(user(rootId, 'FULL_CONTROL'), group(ALL_USERS, 'READ')));
    assert.deepEqual(await objectGrants(b, 'pub'), grants(user(rootId, 'FULL_CONTROL'), group(ALL_USERS, 'READ')));
    // IgnorePublicAcls alone does not block setting public ACLs.
    assert.equal(await outcome(root.send(new PutObjectCommand({ Bucket: b, Key: 'pub2', Body: 'pub2', ACL: 'public-read' }))), 'OK');
    assert.deepEqual(await objectGrants(b, 'pub2'), grants(user(rootId, 'FULL_CONTROL'), group(ALL_USERS, 'READ')));
    assert.equal((await anon(k, 'GET', `/${b}/pub2`)).status, 403);
    await root.send(new DeletePublicAccessBlockCommand({ Bucket: b }));
    assert.deepEqual(await probe(), { anonGet: 200, anonList: 200, partnerGetAuth: 'OK', partnerList: 'OK', partnerGetNamed: 'OK' });
    assert.equal((await anon(k, 'GET', `/${b}/pub2`)).status, 200);
  });

  it('applies account-level BlockPublicAcls / IgnorePublicAcls (S3 Control API) to a bucket that has no setting of its own', async () => {
    // The S3 Control endpoint rules prefix the account id to the host (<account>.localhost):
    // resolve every such name to loopback, as a DNS wildcard would.
    const lookup = ((_h: string, o: { all?: boolean }, cb: (...a: unknown[]) => void) => (o.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4))) as never;
    const control = new S3ControlClient({
      endpoint: `http://localhost:${new URL(k.endpoint).port}`, region: 'us-east-1', credentials: k.root,
      requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ lookup }) }),
    });
    const b = await aclBucket({ publicAcls: true });
    await root.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read' }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'pub', Body: 'pub', ACL: 'public-read' }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'o', Body: 'o' }));
    assert.equal((await anon(k, 'GET', `/${b}/pub`)).status, 200);
    try {
      await control.send(new PutAccountPublicAccessBlockCommand({ AccountId: rootAccountId, PublicAccessBlockConfiguration: { IgnorePublicAcls: true } }));
      assert.equal((await anon(k, 'GET', `/${b}/pub`)).status, 403, 'account IgnorePublicAcls');
      assert.equal((await anon(k, 'GET', `/${b}?list-type=2`)).status, 403);
      assert.deepEqual(await objectGrants(b, 'pub'), grants(user(rootId, 'FULL_CONTROL'), group(ALL_USERS, 'READ')));

      await control.send(new PutAccountPublicAccessBlockCommand({ AccountId: rootAccountId, PublicAccessBlockConfiguration: { BlockPublicAcls: true } }));
      assert.equal((await anon(k, 'GET', `/${b}/pub`)).status, 200, 'IgnorePublicAcls off again');
      assert.equal(await outcome(root.send(new PutObjectAclCommand({ Bucket: b, Key: 'o', ACL: 'public-read' }))), 'AccessDenied', 'account BlockPublicAcls');
      assert.equal(await outcome(root.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read-write' }))), 'AccessDenied');
      assert.equal(await outcome(root.send(new PutObjectCommand({ Bucket: b, Key: 'new', Body: 'n', ACL: 'authenticated-read' }))), 'AccessDenied');
      assert.deepEqual(await objectGrants(b, 'o'), [user(rootId, 'FULL_CONTROL')]);
      assert.deepEqual(await bucketGrants(b), grants(user(rootId, 'FULL_CONTROL'), group(ALL_USERS, 'READ')));
      assert.equal(await headOutcome(root.send(new HeadObjectCommand({ Bucket: b, Key: 'new' }))), 'NotFound');
    } finally {
      await control.send(new DeleteAccountPublicAccessBlockCommand({ AccountId: rootAccountId }));
    }
    assert.equal(await outcome(root.send(new PutObjectAclCommand({ Bucket: b, Key: 'o', ACL: 'public-read' }))), 'OK');
  });

  // -------------------------------------------------------------------------------------
  // 6. Bad input: each its S3 error, and nothing changed.

  it('rejects malformed ACLs, unknown email grantees, canned ACL + grant headers, and unknown canned ACLs, changing nothing', async () => {
    const b = await aclBucket({ publicAcls: true });
    await root.send(new PutBucketAclCommand({ Bucket: b, GrantFullControl: ids(rootId), GrantRead: ids(partner.canonicalUserId) }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'o', Body: 'o', GrantFullControl: ids(rootId), GrantReadACP: ids(partner.canonicalUserId) }));
    const bucketBefore = grants(user(rootId, 'FULL_CONTROL'), user(partner.canonicalUserId, 'READ'));
    const objectBefore = grants(user(rootId, 'FULL_CONTROL'), user(partner.canonicalUserId, 'READ_ACP'));
    assert.deepEqual(await bucketGrants(b), bucketBefore);
    assert.deepEqual(await objectGrants(b, 'o'), objectBefore);
    const unchanged = async (what: string): Promise<void> => {
      assert.deepEqual(await bucketGrants(b), bucketBefore, `${what}: bucket ACL unchanged`);
      assert.deepEqual(await objectGrants(b, 'o'), objectBefore, `${what}: object ACL unchanged`);
    };

    // Malformed AccessControlPolicy bodies → 400 MalformedACLError (or MalformedXML).
    const bodies: [string, string][] = [
      ['not well-formed', `<AccessControlPolicy><Owner><ID>${rootId}</ID></Owner><AccessControlList><Grant>`],
      ['unknown permission', `<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>${rootId}</ID></Owner><AccessControlList><Grant>`
        + `<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>${rootId}</ID></Grantee><Permission>EVERYTHING</Permission>`
        + '</Grant></AccessControlList></AccessControlPolicy>'],
    ];
    for (const [what, body] of bodies) {
      for (const path of [`/${b}`, `/${b}/o`]) {
        const r = await signedRaw(k, k.root, 'PUT', path, 'acl', body);
        assert.equal(r.status, 400, `${what} ${path}: ${r.body}`);
        assert.ok(['MalformedACLError', 'MalformedXML'].includes(xmlCode(r.body) ?? ''), `${what} ${path}: ${r.body}`);
      }
      await unchanged(what);
    }

    const unknownEmail = 'emailAddress="nobody@example.com"';
    const unknownEmailXml: AccessControlPolicy = {
      Owner: { ID: rootId },
      Grants: [
        { Grantee: { Type: 'CanonicalUser', ID: rootId }, Permission: 'FULL_CONTROL' },
        { Grantee: { Type: 'AmazonCustomerByEmail', EmailAddress: 'nobody@example.com' }, Permission: 'READ' },
      ],
    };
    const got = {
      bucketGrantUnknownEmail: await outcome(root.send(new PutBucketAclCommand({ Bucket: b, GrantFullControl: ids(rootId), GrantRead: unknownEmail }))),
      bucketXmlUnknownEmail: await outcome(root.send(new PutBucketAclCommand({ Bucket: b, AccessControlPolicy: unknownEmailXml }))),
      objectGrantUnknownEmail: await outcome(root.send(new PutObjectAclCommand({ Bucket: b, Key: 'o', GrantRead: unknownEmail }))),
      putObjectUnknownEmail: await outcome(root.send(new PutObjectCommand({ Bucket: b, Key: 'new-email', Body: 'x', GrantRead: unknownEmail }))),
      bucketCannedAndGrant: await outcome(root.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read', GrantRead: ids(partner.canonicalUserId) }))),
      objectCannedAndGrant: await outcome(root.send(new PutObjectAclCommand({ Bucket: b, Key: 'o', ACL: 'private', GrantRead: ids(partner.canonicalUserId) }))),
      putObjectCannedAndGrant: await outcome(root.send(new PutObjectCommand({ Bucket: b, Key: 'new-both', Body: 'x', ACL: 'private', GrantRead: ids(partner.canonicalUserId) }))),
      bucketUnknownCanned: await outcome(root.send(new PutBucketAclCommand({ Bucket: b, ACL: 'everyone-everything' as BucketCannedACL }))),
      objectUnknownCanned: await outcome(root.send(new PutObjectAclCommand({ Bucket: b, Key: 'o', ACL: 'everyone-everything' as ObjectCannedACL }))),
      putObjectUnknownCanned: await outcome(root.send(new PutObjectCommand({ Bucket: b, Key: 'new-canned', Body: 'x', ACL: 'everyone-everything' as ObjectCannedACL }))),
    };
    assert.deepEqual(got, {
      bucketGrantUnknownEmail: 'UnresolvableGrantByEmailAddress',
      bucketXmlUnknownEmail: 'UnresolvableGrantByEmailAddress',
      objectGrantUnknownEmail: 'UnresolvableGrantByEmailAddress',
      putObjectUnknownEmail: 'UnresolvableGrantByEmailAddress',
      bucketCannedAndGrant: 'InvalidRequest',
      objectCannedAndGrant: 'InvalidRequest',
      putObjectCannedAndGrant: 'InvalidRequest',
      bucketUnknownCanned: 'InvalidArgument',
      objectUnknownCanned: 'InvalidArgument',
      putObjectUnknownCanned: 'InvalidArgument',
    });
    const cli = aws(k, ['s3api', 'put-bucket-acl', '--bucket', b, '--grant-read', 'emailAddress=nobody@example.com']);
    assert.equal(cliOutcome(cli), 'UnresolvableGrantByEmailAddress');
    await unchanged('header and XML errors');
    for (const key of ['new-email', 'new-both', 'new-canned']) assert.equal(await headOutcome(root.send(new HeadObjectCommand({ Bucket: b, Key: key }))), 'NotFound', key);
  });

  // -------------------------------------------------------------------------------------
  // 7. Grants by email address.

  it('resolves an emailAddress grantee to that account\'s canonical user', async () => {
    const b = await aclBucket();
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'o', Body: 'for carol' }));
    const r = aws(k, ['s3api', 'put-bucket-acl', '--bucket', b, '--grant-full-control', `id=${rootId}`, '--grant-read', `emailAddress=${CAROL_EMAIL}`]);
    assert.equal(r.status, 0, r.stderr);
    const acl = await root.send(new GetBucketAclCommand({ Bucket: b }));
    assert.deepEqual(grantSet(acl.Grants), grants(user(rootId, 'FULL_CONTROL'), user(carol.canonicalUserId, 'READ')));
    const carolGrant = acl.Grants?.find((g) => g.Grantee?.ID === carol.canonicalUserId);
    assert.equal(carolGrant?.Grantee?.Type, 'CanonicalUser', 'stored and reported as a canonical user, not an email');
    assert.equal(carolGrant?.Grantee?.EmailAddress, undefined);
    assert.equal(carolGrant?.Grantee?.DisplayName, 'carol');
    assert.equal(await outcome(carolClient.send(new ListObjectsV2Command({ Bucket: b }))), 'OK');
    assert.equal(await outcome(carolClient.send(new GetObjectCommand({ Bucket: b, Key: 'o' }))), 'AccessDenied');

    // The XML form (AmazonCustomerByEmail), on an object.
    await root.send(new PutObjectAclCommand({
      Bucket: b, Key: 'o',
      AccessControlPolicy: {
        Owner: { ID: rootId },
        Grants: [
          { Grantee: { Type: 'CanonicalUser', ID: rootId }, Permission: 'FULL_CONTROL' },
          { Grantee: { Type: 'AmazonCustomerByEmail', EmailAddress: CAROL_EMAIL }, Permission: 'READ' },
        ],
      },
    }));
    const objAcl = await root.send(new GetObjectAclCommand({ Bucket: b, Key: 'o' }));
    assert.deepEqual(grantSet(objAcl.Grants), grants(user(rootId, 'FULL_CONTROL'), user(carol.canonicalUserId, 'READ')));
    const got = await carolClient.send(new GetObjectCommand({ Bucket: b, Key: 'o' }));
    assert.equal(await got.Body?.transformToString(), 'for carol');
    // The same grant by header on PutObject.
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'p', Body: 'p', GrantFullControl: ids(rootId), GrantRead: `emailAddress="${CAROL_EMAIL}"` }));
    assert.deepEqual(await objectGrants(b, 'p'), grants(user(rootId, 'FULL_CONTROL'), user(carol.canonicalUserId, 'READ')));
    assert.equal(await outcome(them.send(new GetObjectCommand({ Bucket: b, Key: 'p' }))), 'AccessDenied', 'only carol');
  });
});
