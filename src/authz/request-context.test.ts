import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRequestContext } from './request-context.js';
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
