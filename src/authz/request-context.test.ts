import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRequestContext, RequestContext } from './request-context.js';
import type { S3Request } from '../http/request.js';

function request(receivedAt: Date): S3Request {
  return {
    requestId: 'r', hostId: 'h', method: 'GET', rawPath: '/b/k', rawQuery: '', query: new Map(),
    headers: { host: '127.0.0.1', 'user-agent': 'ua/1' }, body: null, clientIp: '127.0.0.1', tls: null, receivedAt,
  } as unknown as S3Request;
}

const context = (at: Date): ReadonlyMap<string, unknown> => buildRequestContext({
  req: request(at), principal: { kind: 'account-root', accountId: '111122223333', accessKeyId: 'AKIAEXAMPLE' } as never,
  auth: { kind: 'sigv4', v4: { form: 'header', signatureAgeMs: 12 } } as never, region: 'us-east-1', resourceAccount: undefined,
});

test('aws:CurrentTime and aws:EpochTime follow each request\'s own clock, second by second and back', () => {
  const times = ['2026-11-24T10:00:00.000Z', '2026-11-24T10:00:00.999Z', '2026-11-24T10:00:01.000Z', '2026-11-24T09:59:59.500Z', '2030-01-01T00:00:00.001Z'];
  for (const t of times) {
    const at = new Date(t);
    const m = context(at);
    assert.equal(m.get('aws:currenttime'), `${t.slice(0, 19)}Z`, t);
    assert.equal(m.get('aws:epochtime'), String(Math.floor(at.getTime() / 1000)), t);
  }
});

test('the context carries the caller, transport and signature facts', () => {
  const m = context(new Date('2026-11-24T10:00:00Z'));
  assert.equal(m.get('aws:principalaccount'), '111122223333');
  assert.equal(m.get('aws:principaltype'), 'Account');
  assert.equal(m.get('aws:securetransport'), 'false');
  assert.equal(m.get('aws:sourceip'), '127.0.0.1');
  assert.equal(m.get('aws:useragent'), 'ua/1');
  assert.equal(m.get('s3:signatureversion'), 'AWS4-HMAC-SHA256');
  assert.equal(m.get('s3:authtype'), 'REST-HEADER');
  assert.equal(m.get('s3:signatureage'), '12');
  assert.equal(m.has('s3:prefix'), false);
});

test('the context is computed lazily but reads, deletes, copies and iteration behave as an eager map', () => {
  const req = {
    ...request(new Date('2026-11-24T10:00:00Z')),
    query: new Map([['prefix', 'a/'], ['max-keys', '10']]),
    headers: { host: 'h', 'user-agent': 'ua/1', 'x-amz-acl': 'private', referer: 'https://r' },
    tls: { version: 'TLSv1.3', cipher: 'x' },
  } as unknown as S3Request;
  const make = (): Map<string, unknown> => buildRequestContext({
    req, principal: { kind: 'iam-user', accountId: '111122223333', userName: 'alice', userId: 'AIDAX', path: '/', accessKeyId: 'AKIA' } as never,
    auth: { kind: 'sigv4', v4: { form: 'query', signatureAgeMs: 1500 } } as never, region: 'eu-west-1', resourceAccount: '444455556666',
    requestObjectTags: { Team: 'a', team: 'b', Env: 'prod' },
  });
  const all = new Map(make());
  // Every key a policy can read is there, computed as the eager builder did.
  assert.equal(all.get('aws:securetransport'), 'true');
  assert.equal(all.get('s3:tlsversion'), '1.3');
  assert.equal(all.get('aws:username'), 'alice');
  assert.equal(all.get('aws:principaltype'), 'User');
  assert.equal(all.get('aws:requestedregion'), 'eu-west-1');
  assert.equal(all.get('s3:prefix'), 'a/');
  assert.equal(all.get('s3:max-keys'), '10');
  assert.equal(all.get('s3:x-amz-acl'), 'private');
  assert.equal(all.get('aws:referer'), 'https://r');
  assert.equal(all.get('s3:authtype'), 'REST-QUERY-STRING');
  assert.equal(all.get('s3:signatureage'), '1500');
  assert.equal(all.get('aws:resourceaccount'), '444455556666');
  assert.equal(all.get('s3:requestobjecttag/team'), 'b'); // the later of two keys differing in case
  assert.equal(all.get('s3:requestobjecttag/env'), 'prod');
  assert.deepEqual(all.get('s3:requestobjecttagkeys'), ['Team', 'team', 'Env']);
  assert.equal(all.has('s3:delimiter'), false);
  assert.equal(all.has('aws:tokenissuetime'), false);
  // Reading key by key gives the same values as iterating.
  const lazy = make();
  for (const [k, v] of all) assert.deepEqual(lazy.get(k), v, k);
  assert.equal(lazy.size, all.size);
  // Explicit writes and deletes win over computed values, in the copies too.
  const ctx = make();
  ctx.set('aws:useragent', 'override');
  assert.equal(ctx.delete('s3:prefix'), true);
  assert.equal(ctx.delete('s3:delimiter'), false);
  const copy = (ctx as unknown as { clone(): Map<string, unknown> }).clone();
  copy.set('aws:referer', 'changed');
  assert.equal(ctx.get('aws:useragent'), 'override');
  assert.equal(ctx.has('s3:prefix'), false);
  assert.equal(copy.get('aws:useragent'), 'override');
  assert.equal(copy.has('s3:prefix'), false);
  assert.equal(ctx.get('aws:referer'), 'https://r');
  assert.equal(copy.get('aws:referer'), 'changed');
  assert.equal([...ctx.keys()].includes('s3:prefix'), false);
  assert.equal(new Map(ctx).size, all.size - 1);
});

test('a cleared context is empty: nothing is computed after clear()', () => {
  const ctx = buildRequestContext({
    req: request(new Date('2026-11-24T10:00:00Z')), principal: { kind: 'account-root', accountId: '111122223333', accessKeyId: 'AKIAEXAMPLE' } as never,
    auth: { kind: 'sigv4', v4: { form: 'header', signatureAgeMs: 12 } } as never, region: 'us-east-1', resourceAccount: undefined,
  });
  assert.equal(ctx.get('aws:sourceip'), '127.0.0.1');
  ctx.clear();
  assert.equal(ctx.get('aws:useragent'), undefined);
  assert.equal(ctx.size, 0);
});

test('for an action, request-derived s3: keys exist only where the S3 model lists them; forAction keeps explicit keys, recomputes the rest', () => {
  const req = { ...request(new Date('2026-11-24T10:00:00Z')), query: new Map([['prefix', 'home/']]), headers: { host: 'h', 'x-amz-acl': 'private' } } as unknown as S3Request;
  const make = (action: string): Map<string, unknown> => buildRequestContext({
    req, principal: { kind: 'account-root', accountId: '111122223333', accessKeyId: 'AKIAEXAMPLE' } as never,
    auth: { kind: 'sigv4', v4: { form: 'header', signatureAgeMs: 12 } } as never, region: 'us-east-1', resourceAccount: '111122223333', action,
  }) as Map<string, unknown>;
  const list = make('s3:ListBucket');
  assert.equal(list.get('s3:prefix'), 'home/');
  assert.equal(list.get('s3:x-amz-acl'), undefined);
  assert.equal(list.get('s3:signatureversion'), 'AWS4-HMAC-SHA256', 'keys of every S3 action stay');
  assert.equal(list.get('aws:sourceip'), '127.0.0.1', 'global keys stay');
  list.set('aws:resourceorgid', 'o-example');
  list.delete('aws:useragent');
  const put = (list as RequestContext).forAction('s3:PutObject');
  assert.equal(put.get('s3:prefix'), undefined);
  assert.equal(put.get('s3:x-amz-acl'), 'private');
  assert.equal(put.get('aws:resourceorgid'), 'o-example', 'explicit keys travel');
  assert.equal(put.has('aws:useragent'), false, 'deletions travel');
  assert.equal(put.get('s3:resourceaccount'), '111122223333');
  assert.equal(make('s3:GetObject').get('s3:prefix'), undefined);
});
