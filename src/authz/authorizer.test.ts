/**
 * The authorizer's per-check context: checks on resources of different accounts (CopyObject's
 * source and destination) each see their own aws:ResourceAccount and aws:ResourceOrgID, so a
 * data-perimeter Deny cannot be slipped past by copying from an in-organization source.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Principal } from '../auth/principal.js';
import type { S3Request } from '../http/request.js';
import { newOrganization, saveOrganization } from '../iam/org/organization.js';
import { SqliteMetadataStore } from '../storage/sqlite/metadata-store.js';
import type { ObjectVersion } from '../storage/ports.js';
import { Authorizer, versionMemoKey } from './authorizer.js';
import { requiredChecks, type Check } from './actions.js';
import { parseOperation } from '../operations/operations.js';
import { IdentityCache } from './identity-side.js';

const IN_ORG = '111111111111';
const OUTSIDE = '222222222222';

/** A metadata store in a temporary directory, with these accounts. */
async function openStore(prefix: string, accounts: readonly string[]): Promise<{ dir: string; meta: SqliteMetadataStore }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const meta = SqliteMetadataStore.open(join(dir, 'meta.db'));
  for (const id of accounts) await meta.createAccount({ id, name: `a${id}`, canonicalId: id.repeat(6).slice(0, 64), email: null, createdAt: 'now' });
  return { dir, meta };
}

/** A bucket of `accountId`, with a bucket policy of these statements when given. */
async function addBucket(meta: SqliteMetadataStore, name: string, accountId: string, statements?: object[], versioning: 'Unversioned' | 'Enabled' = 'Unversioned'): Promise<void> {
  await meta.createBucket({ name, accountId, region: 'us-east-1', createdAt: 'now', versioning }, { ownership: 'BucketOwnerEnforced' });
  if (statements) await meta.putBucketConfig(name, 'policy', JSON.stringify({ Version: '2012-10-17', Statement: statements }));
}

describe('Authorizer: per-check resource context', () => {
  let dir: string;
  let meta: SqliteMetadataStore;
  let authorizer: Authorizer;
  let orgId: string;

  before(async () => {
    ({ dir, meta } = await openStore('kura-authz-', [IN_ORG, OUTSIDE]));
    await addBucket(meta, 'src', IN_ORG);
    const org = newOrganization(IN_ORG);
    orgId = org.id;
    await saveOrganization(meta, org, 'create');
    // The destination bucket lets the in-org user write; only the perimeter Deny may stop it.
    await addBucket(meta, 'dst', OUTSIDE, [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${IN_ORG}:user/u` }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::dst/*' }]);
    const identities = new IdentityCache(meta, {
      load: async () => ({
        id: 'AIDAEXAMPLE',
        tags: {},
        policies: [{
          id: 'perimeter',
          document: JSON.stringify({ Version: '2012-10-17', Statement: [
            { Effect: 'Allow', Action: 's3:*', Resource: '*' },
            { Effect: 'Deny', Action: 's3:PutObject', Resource: '*', Condition: { StringNotEquals: { 'aws:ResourceOrgID': orgId } } },
          ] }),
        }],
      }),
      managedPolicy: async () => undefined,
    }, { now: () => new Date() });
    authorizer = new Authorizer(meta, 'us-east-1', identities);
  });
  after(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  const user: Principal = { kind: 'iam-user', accountId: IN_ORG, canonicalId: 'c', accessKeyId: 'AK', userName: 'u', userId: 'AIDAEXAMPLE', path: '/' };
  const req: S3Request = {
    requestId: 'r', hostId: 'h', method: 'PUT', rawPath: '/dst/k', rawQuery: '', query: new Map(), headers: {}, body: Readable.from([]),
    clientIp: '127.0.0.1', tls: null, receivedAt: new Date(),
  };

  it('a copy from an in-organization source does not lend its aws:ResourceOrgID to the destination', async () => {
    const direct = await authorizer.authorize({ req, principal: user, auth: { kind: 'anonymous' }, checks: [{ action: 's3:PutObject', resource: 'arn:aws:s3:::dst/k', bucket: 'dst' }] });
    assert.equal(direct.effect, 'ExplicitDeny');
    const copy = await authorizer.authorize({
      req, principal: user, auth: { kind: 'anonymous' },
      checks: [
        { action: 's3:GetObject', resource: 'arn:aws:s3:::src/k', bucket: 'src' },
        { action: 's3:PutObject', resource: 'arn:aws:s3:::dst/k', bucket: 'dst' },
      ],
    });
    assert.equal(copy.effect, 'ExplicitDeny');
    const inside = await authorizer.authorize({ req, principal: user, auth: { kind: 'anonymous' }, checks: [{ action: 's3:PutObject', resource: 'arn:aws:s3:::src/k', bucket: 'src' }] });
    assert.equal(inside.effect, 'Allow');
  });
});

describe('Authorizer: stored object tags (s3:ExistingObjectTag/*)', () => {
  const OWNER = '333333333333';
  const OTHER = '444444444444';
  let dir: string;
  let meta: SqliteMetadataStore;
  let authorizer: Authorizer;
  let reads = 0;

  const identityPolicies: Record<string, object[]> = {
    // ABAC: read objects whose team tag is the caller's own.
    abac: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { StringEquals: { 's3:ExistingObjectTag/team': '${aws:PrincipalTag/team}' } } }],
    // Everything, except objects classified secret.
    guarded: [
      { Effect: 'Allow', Action: 's3:*', Resource: '*' },
      { Effect: 'Deny', Action: 's3:GetObject', Resource: '*', Condition: { StringEquals: { 's3:ExistingObjectTag/classification': 'secret' } } },
    ],
    everything: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }],
    // ABAC on writes and deletes too: the key is absent there, so nothing is allowed by it.
    abacWrites: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 'iam:GetUser'], Resource: '*', Condition: { StringEquals: { 's3:ExistingObjectTag/team': '${aws:PrincipalTag/team}' } } }],
    // Everything, except retagging objects classified secret.
    guardedWrites: [
      { Effect: 'Allow', Action: 's3:*', Resource: '*' },
      { Effect: 'Deny', Action: 's3:PutObjectTagging', Resource: '*', Condition: { StringEquals: { 's3:ExistingObjectTag/classification': 'secret' } } },
    ],
    // Everything, except objects not of the caller's team: absent counts as "not of the team".
    teamOnly: [
      { Effect: 'Allow', Action: '*', Resource: '*' },
      { Effect: 'Deny', Action: 's3:*', Resource: '*', Condition: { StringNotEquals: { 's3:ExistingObjectTag/team': '${aws:PrincipalTag/team}' } } },
    ],
  };

  before(async () => {
    ({ dir, meta } = await openStore('kura-authz-tags-', [OWNER, OTHER]));
    await addBucket(meta, 'plain', OWNER);
    // Only an Allow reads the tags: the other account's users may read shared objects.
    await addBucket(meta, 'grants', OWNER, [
      { Effect: 'Allow', Principal: { AWS: OTHER }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::grants/*', Condition: { StringEquals: { 's3:ExistingObjectTag/share': 'yes' } } },
    ]);
    // A Deny reads them: nobody reads secret objects.
    await addBucket(meta, 'denies', OWNER, [
      { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::denies/*', Condition: { StringEquals: { 's3:ExistingObjectTag/classification': 'secret' } } },
    ]);
    // Its statements name no read action.
    await addBucket(meta, 'puts', OWNER, [
      { Effect: 'Allow', Principal: { AWS: OTHER }, Action: 's3:PutObjectTagging', Resource: 'arn:aws:s3:::puts/*', Condition: { StringEquals: { 's3:ExistingObjectTag/share': 'yes' } } },
    ]);
    const counted = meta.getObjectVersion.bind(meta);
    meta.getObjectVersion = async (...a) => {
      reads++;
      return counted(...a);
    };
    const identities = new IdentityCache(meta, {
      load: async (_account, who) => ({
        id: `AIDA${who.name.toUpperCase()}`,
        tags: { team: 'red' },
        policies: [{ id: who.name, document: JSON.stringify({ Version: '2012-10-17', Statement: identityPolicies[who.name] }) }],
      }),
      managedPolicy: async () => undefined,
    }, { now: () => new Date() });
    authorizer = new Authorizer(meta, 'us-east-1', identities);
  });
  after(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  const user = (accountId: string, userName: string): Principal => ({ kind: 'iam-user', accountId, canonicalId: 'c', accessKeyId: 'AK', userName, userId: `AIDA${userName.toUpperCase()}`, path: '/' });
  const root: Principal = { kind: 'account-root', accountId: OWNER, canonicalId: 'c', accessKeyId: 'AKROOT' };
  const req: S3Request = {
    requestId: 'r', hostId: 'h', method: 'GET', rawPath: '/b/k', rawQuery: '', query: new Map(), headers: {}, body: Readable.from([]),
    clientIp: '127.0.0.1', tls: null, receivedAt: new Date(),
  };
  /** Decides `action` on `bucket`/k, an object with these tags (undefined: no such object). */
  const onObject = async (action: string, principal: Principal, bucket: string, tags: Record<string, string> | undefined): Promise<string> => {
    const versions = new Map<string, ObjectVersion | undefined>();
    if (tags !== undefined) versions.set(versionMemoKey(bucket, 'k', undefined), { ...OBJECT, bucket, tags });
    reads = 0;
    const d = await authorizer.authorize({ req, principal, auth: { kind: 'anonymous' }, checks: [{ action, resource: `arn:aws:s3:::${bucket}/k`, bucket }], versions });
    return d.effect;
  };
  const getObject = (principal: Principal, bucket: string, tags: Record<string, string> | undefined): Promise<string> => onObject('s3:GetObject', principal, bucket, tags);

  it('identity policies see the object\'s tags: an ABAC grant on a tag', async () => {
    assert.equal(await getObject(user(OWNER, 'abac'), 'plain', { team: 'red' }), 'Allow');
    assert.equal(await getObject(user(OWNER, 'abac'), 'plain', { team: 'blue' }), 'ImplicitDeny');
    assert.equal(await getObject(user(OWNER, 'abac'), 'plain', {}), 'ImplicitDeny');
  });

  it('identity policies see the object\'s tags: a Deny on a tag is enforced', async () => {
    assert.equal(await getObject(user(OWNER, 'guarded'), 'plain', { classification: 'secret' }), 'ExplicitDeny');
    assert.equal(await getObject(user(OWNER, 'guarded'), 'plain', { classification: 'public' }), 'Allow');
  });

  it('a bucket-policy grant on a tag reaches another account', async () => {
    assert.equal(await getObject(user(OTHER, 'everything'), 'grants', { share: 'yes' }), 'Allow');
    assert.equal(await getObject(user(OTHER, 'everything'), 'grants', { share: 'no' }), 'ImplicitDeny');
  });

  it('a bucket-policy Deny on a tag holds for the owner\'s root and users', async () => {
    assert.equal(await getObject(root, 'denies', { classification: 'secret' }), 'ExplicitDeny');
    assert.equal(await getObject(user(OWNER, 'everything'), 'denies', { classification: 'secret' }), 'ExplicitDeny');
    assert.equal(await getObject(root, 'denies', {}), 'Allow');
  });

  it('s3:ExistingObjectTag is absent for actions that do not take it (PutObject, DeleteObject), as on AWS', async () => {
    const tagged = { team: 'red' };
    assert.equal(await onObject('s3:GetObject', user(OWNER, 'abacWrites'), 'plain', tagged), 'Allow');
    assert.equal(await onObject('s3:PutObject', user(OWNER, 'abacWrites'), 'plain', tagged), 'ImplicitDeny');
    assert.equal(await onObject('s3:DeleteObject', user(OWNER, 'abacWrites'), 'plain', tagged), 'ImplicitDeny');
    assert.equal(reads, 0);
    assert.equal(await onObject('s3:GetObject', user(OWNER, 'teamOnly'), 'plain', tagged), 'Allow');
    assert.equal(await onObject('s3:GetObject', user(OWNER, 'teamOnly'), 'plain', { team: 'blue' }), 'ExplicitDeny');
    // StringNotEquals on an absent key is true: the Deny bites.
    assert.equal(await onObject('s3:PutObject', user(OWNER, 'teamOnly'), 'plain', tagged), 'ExplicitDeny');
    assert.equal(await onObject('s3:DeleteObject', user(OWNER, 'teamOnly'), 'plain', tagged), 'ExplicitDeny');
  });

  it('the ACL and tagging checks a write implies never see the overwritten object\'s tags (no policy can govern overwriting by existing tags)', async () => {
    const versions = new Map<string, ObjectVersion | undefined>([[versionMemoKey('plain', 'k', undefined), { ...OBJECT, bucket: 'plain', tags: { classification: 'secret' } }]]);
    reads = 0;
    const d = await authorizer.authorize({
      req, principal: user(OWNER, 'guardedWrites'), auth: { kind: 'anonymous' }, versions,
      checks: [
        { action: 's3:PutObject', resource: 'arn:aws:s3:::plain/k', bucket: 'plain', creates: 'object' },
        { action: 's3:PutObjectTagging', resource: 'arn:aws:s3:::plain/k', bucket: 'plain', creates: 'object' },
      ],
    });
    assert.equal(d.effect, 'Allow');
    assert.equal(reads, 0);
    // The same action on the stored object (PutObjectTagging itself) does see them.
    assert.equal(await onObject('s3:PutObjectTagging', user(OWNER, 'guardedWrites'), 'plain', { classification: 'secret' }), 'ExplicitDeny');
  });

  it('an IAM call of a caller whose policies read object tags reads no object', async () => {
    reads = 0;
    const d = await authorizer.authorize({
      req, principal: user(OWNER, 'abacWrites'), auth: { kind: 'anonymous' },
      checks: [{ action: 'iam:GetUser', resource: `arn:aws:iam::${OWNER}:user/team/bob`, bucket: undefined }],
    });
    assert.equal(d.effect, 'ImplicitDeny');
    assert.equal(reads, 0);
  });

  it('checks deferred on object tags each get their own object\'s tags', async () => {
    const both = async (tags1: Record<string, string>, tags2: Record<string, string>): Promise<string> => {
      const versions = new Map<string, ObjectVersion | undefined>([
        [versionMemoKey('grants', 'k1', undefined), { ...OBJECT, bucket: 'grants', key: 'k1', tags: tags1 }],
        [versionMemoKey('grants', 'k2', undefined), { ...OBJECT, bucket: 'grants', key: 'k2', tags: tags2 }],
      ]);
      const d = await authorizer.authorize({
        req, principal: user(OTHER, 'everything'), auth: { kind: 'anonymous' }, versions,
        checks: [
          { action: 's3:GetObject', resource: 'arn:aws:s3:::grants/k1', bucket: 'grants' },
          { action: 's3:GetObject', resource: 'arn:aws:s3:::grants/k2', bucket: 'grants' },
        ],
      });
      return d.effect;
    };
    assert.equal(await both({ share: 'yes' }, { share: 'yes' }), 'Allow');
    assert.equal(await both({ share: 'yes' }, {}), 'ImplicitDeny');
    assert.equal(await both({}, { share: 'yes' }), 'ImplicitDeny');
  });

  it('a caller allowed without the bucket policy\'s grants does not wait for the object\'s tags', async () => {
    // Nothing in the memo: any tag lookup would read the store.
    assert.equal(await getObject(root, 'grants', undefined), 'Allow');
    assert.equal(reads, 0);
    assert.equal(await getObject(user(OWNER, 'everything'), 'grants', undefined), 'Allow');
    assert.equal(reads, 0);
    // The other account depends on the grant, so the object is read.
    assert.equal(await getObject(user(OTHER, 'everything'), 'grants', undefined), 'ImplicitDeny');
    assert.equal(reads, 1);
    // A Deny that reads tags is always evaluated with them.
    assert.equal(await getObject(root, 'denies', undefined), 'Allow');
    assert.equal(reads, 1);
    // A policy with no statement for the action is not consulted at all.
    assert.equal(await getObject(user(OTHER, 'everything'), 'puts', undefined), 'ImplicitDeny');
    assert.equal(reads, 0);
  });
});

const OBJECT: ObjectVersion = {
  bucket: 'b', key: 'k', versionId: 'null', isDeleteMarker: false, size: 0, etag: '"d41d8cd98f00b204e9800998ecf8427e"',
  lastModified: '2026-01-01T00:00:00.000Z', ownerAccountId: '333333333333', meta: { user: {} }, checksum: null, tags: {},
  uploadId: null, pieces: [], sse: { algorithm: 'AES256' },
};

describe('Authorizer: request keys only for the actions that take them', () => {
  const OWNER = '555555555555';
  const OTHER = '666666666666';
  let dir: string;
  let meta: SqliteMetadataStore;
  let authorizer: Authorizer;

  before(async () => {
    ({ dir, meta } = await openStore('kura-authz-keys-', [OWNER, OTHER]));
    await addBucket(meta, 'pub', OWNER, [
      // Listing and reading under public/ only: s3:prefix exists for the listing alone.
      { Effect: 'Allow', Principal: '*', Action: ['s3:ListBucket', 's3:GetObject'], Resource: ['arn:aws:s3:::pub', 'arn:aws:s3:::pub/*'], Condition: { StringLike: { 's3:prefix': 'public/*' } } },
      // The usual cross-account write grant: s3:x-amz-acl exists for PutObject, not DeleteObject.
      { Effect: 'Allow', Principal: { AWS: OTHER }, Action: ['s3:PutObject', 's3:DeleteObject'], Resource: 'arn:aws:s3:::pub/*', Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } } },
    ]);
    await addBucket(meta, 'ver', OWNER, [
      { Effect: 'Deny', Principal: '*', Action: 's3:GetObjectVersion', Resource: 'arn:aws:s3:::ver/*', Condition: { StringEquals: { 's3:VersionId': 'v-secret' } } },
      { Effect: 'Deny', Principal: '*', Action: 's3:DeleteObjectVersion', Resource: 'arn:aws:s3:::ver/*', Condition: { StringEquals: { 's3:VersionId': 'v-kept' } } },
      { Effect: 'Deny', Principal: '*', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::ver', Condition: { NumericGreaterThan: { 's3:max-keys': '100' } } },
    ], 'Enabled');
    const identities = new IdentityCache(meta, {
      load: async () => ({ id: 'AIDAOTHER', tags: {}, policies: [{ id: 'all', document: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }) }] }),
      managedPolicy: async () => undefined,
    }, { now: () => new Date() });
    authorizer = new Authorizer(meta, 'us-east-1', identities);
  });
  after(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  const anonymous: Principal = { kind: 'anonymous' };
  const other: Principal = { kind: 'iam-user', accountId: OTHER, canonicalId: 'c', accessKeyId: 'AK', userName: 'writer', userId: 'AIDAOTHER', path: '/' };
  const request = (method: string, query: Record<string, string>, headers: Record<string, string>): S3Request => ({
    requestId: 'r', hostId: 'h', method, rawPath: '/pub/k', rawQuery: '', query: new Map(Object.entries(query)), headers, body: Readable.from([]),
    clientIp: '127.0.0.1', tls: null, receivedAt: new Date(),
  });
  const decide = async (principal: Principal, req: S3Request, checks: Check[]): Promise<string> =>
    (await authorizer.authorize({ req, principal, auth: { kind: 'anonymous' }, checks })).effect;
  const on = (action: string, key?: string): Check => ({ action, resource: key === undefined ? 'arn:aws:s3:::pub' : `arn:aws:s3:::pub/${key}`, bucket: 'pub' });

  it('s3:prefix steers a listing, never a GetObject that carries ?prefix=', async () => {
    assert.equal(await decide(anonymous, request('GET', { prefix: 'public/a' }, {}), [on('s3:ListBucket')]), 'Allow');
    assert.equal(await decide(anonymous, request('GET', { prefix: 'secret/' }, {}), [on('s3:ListBucket')]), 'ImplicitDeny');
    assert.equal(await decide(anonymous, request('GET', {}, {}), [on('s3:GetObject', 'secret/k')]), 'ImplicitDeny');
    assert.equal(await decide(anonymous, request('GET', { prefix: 'public/x' }, {}), [on('s3:GetObject', 'secret/k')]), 'ImplicitDeny');
  });

  it('s3:VersionId is the version a check names: a copy source\'s, a DeleteObjects entry\'s', async () => {
    const root: Principal = { kind: 'account-root', accountId: OWNER, canonicalId: 'c', accessKeyId: 'AKROOT' };
    const copyFrom = (source: string): Promise<string> => {
      const req = request('PUT', {}, { 'x-amz-copy-source': source });
      const op = parseOperation({ method: 'PUT', bucket: 'ver', key: 'copy', query: req.query, headers: req.headers });
      return decide(root, req, requiredChecks(op, req));
    };
    assert.equal(await copyFrom('/ver/k?versionId=v-secret'), 'ExplicitDeny');
    assert.equal(await copyFrom('/ver/k?versionId=v-other'), 'Allow');
    assert.equal(await decide(root, request('GET', { versionId: 'v-secret' }, {}), [{ action: 's3:GetObjectVersion', resource: 'arn:aws:s3:::ver/k', bucket: 'ver' }]), 'ExplicitDeny');
    const entry = (versionId: string): Check => ({ action: 's3:DeleteObjectVersion', resource: 'arn:aws:s3:::ver/k', bucket: 'ver', versionId });
    assert.equal(await decide(root, request('POST', { delete: '' }, {}), [entry('v-kept')]), 'ExplicitDeny');
    assert.equal(await decide(root, request('POST', { delete: '' }, {}), [entry('v-gone')]), 'Allow');
  });

  it('s3:max-keys is 1000 for a listing that does not send it (what it then lists)', async () => {
    const root: Principal = { kind: 'account-root', accountId: OWNER, canonicalId: 'c', accessKeyId: 'AKROOT' };
    const list: Check = { action: 's3:ListBucket', resource: 'arn:aws:s3:::ver', bucket: 'ver' };
    assert.equal(await decide(root, request('GET', {}, {}), [list]), 'ExplicitDeny');
    assert.equal(await decide(root, request('GET', { 'max-keys': '1000' }, {}), [list]), 'ExplicitDeny');
    assert.equal(await decide(root, request('GET', { 'max-keys': '50' }, {}), [list]), 'Allow');
  });

  it('s3:x-amz-acl grants a PutObject that sends it, never a DeleteObject that carries the header', async () => {
    const acl = { 'x-amz-acl': 'bucket-owner-full-control' };
    assert.equal(await decide(other, request('PUT', {}, acl), [on('s3:PutObject', 'k')]), 'Allow');
    assert.equal(await decide(other, request('PUT', {}, {}), [on('s3:PutObject', 'k')]), 'ImplicitDeny');
    assert.equal(await decide(other, request('DELETE', {}, acl), [on('s3:DeleteObject', 'k')]), 'ImplicitDeny');
    // In one request, each check sees the keys of its own action.
    assert.equal(await decide(other, request('PUT', {}, acl), [on('s3:PutObject', 'k'), on('s3:DeleteObject', 'k')]), 'ImplicitDeny');
    assert.equal(await decide(other, request('PUT', {}, acl), [on('s3:DeleteObject', 'k'), on('s3:PutObject', 'k')]), 'ImplicitDeny');
  });
});
