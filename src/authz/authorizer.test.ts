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
import { Authorizer } from './authorizer.js';
import { IdentityCache } from './identity-side.js';

const IN_ORG = '111111111111';
const OUTSIDE = '222222222222';

describe('Authorizer: per-check resource context', () => {
  let dir: string;
  let meta: SqliteMetadataStore;
  let authorizer: Authorizer;
  let orgId: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kura-authz-'));
    meta = SqliteMetadataStore.open(join(dir, 'meta.db'));
    for (const id of [IN_ORG, OUTSIDE]) await meta.createAccount({ id, name: `a${id}`, canonicalId: id.repeat(5).slice(0, 64), email: null, createdAt: 'now' });
    await meta.createBucket({ name: 'src', accountId: IN_ORG, region: 'us-east-1', createdAt: 'now', versioning: 'Unversioned' }, { ownership: 'BucketOwnerEnforced' });
    await meta.createBucket({ name: 'dst', accountId: OUTSIDE, region: 'us-east-1', createdAt: 'now', versioning: 'Unversioned' }, { ownership: 'BucketOwnerEnforced' });
    const org = newOrganization(IN_ORG);
    orgId = org.id;
    await saveOrganization(meta, org, 'create');
    // The destination bucket lets the in-org user write; only the perimeter Deny may stop it.
    await meta.putBucketConfig('dst', 'policy', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${IN_ORG}:user/u` }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::dst/*' }] }));
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
