import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CANONICAL, call, rejects, setup } from './handler-test-env.js';
import { putObject } from './objects.js';

test('an ACL header authorized while ACLs were disabled is refused if they were enabled before it was applied', async () => {
  const env = await setup();
  // Authorized under BucketOwnerEnforced: the ACL needed no s3:PutObjectAcl then.
  const authorizedWithoutAcl = ['s3:PutObject'];
  await env.svc.meta.putBucketConfig('bkt', 'ownership', 'ObjectWriter');
  env.svc.authorizer.access.invalidate('bkt');
  await rejects(call(env, 'PutObject', putObject, { key: 'raced', body: 'x', headers: { 'x-amz-acl': 'public-read' }, allowedActions: authorizedWithoutAcl }), 'OperationAborted');
  assert.equal(await env.svc.meta.getObjectVersion('bkt', 'raced'), undefined);
  // Authorized with the ACL permission, the same write goes through.
  const ok = await call(env, 'PutObject', putObject, { key: 'raced', body: 'x', headers: { 'x-amz-grant-read': `id=${CANONICAL}` } });
  assert.equal(ok.status, 200);
});
