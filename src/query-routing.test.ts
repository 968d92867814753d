import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { queryServiceOf } from './query-api.js';
import type { S3Request } from './http/request.js';

const req = (method: string, host: string, headers: Record<string, string> = {}, query: Record<string, string> = {}): S3Request => ({
  requestId: 'r', hostId: 'h', method, rawPath: '/', rawQuery: '', query: new Map(Object.entries(query)),
  headers: { host, ...headers }, body: null, clientIp: '127.0.0.1', tls: null, receivedAt: new Date(),
} as unknown as S3Request);
const FORM = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };

describe('queryServiceOf: unsigned calls', () => {
  it('sends an unsigned form POST or AssumeRoleWithWebIdentity GET at the service root to STS', () => {
    assert.equal(queryServiceOf(req('POST', '127.0.0.1:9000', FORM), ['localhost']), 'sts');
    assert.equal(queryServiceOf(req('POST', 'localhost:9000', FORM), ['localhost']), 'sts');
    assert.equal(queryServiceOf(req('GET', '127.0.0.1:9000', {}, { Action: 'AssumeRoleWithWebIdentity' }), ['localhost']), 'sts');
  });
  it('leaves S3 its requests: virtual-hosted bucket roots, other content types, signed S3 calls, anonymous GET /', () => {
    assert.equal(queryServiceOf(req('POST', 'bucket.localhost:9000', FORM, { delete: '' }), ['localhost']), undefined);
    assert.equal(queryServiceOf(req('POST', '127.0.0.1:9000', { 'content-type': 'multipart/form-data; boundary=x' }), ['localhost']), undefined);
    assert.equal(queryServiceOf(req('POST', '127.0.0.1:9000', { ...FORM, authorization: 'AWS4-HMAC-SHA256 Credential=AKIA/20261124/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0' }), ['localhost']), undefined);
    assert.equal(queryServiceOf(req('GET', '127.0.0.1:9000'), ['localhost']), undefined);
    assert.equal(queryServiceOf(req('GET', '127.0.0.1:9000', {}, { Action: 'GetCallerIdentity' }), ['localhost']), undefined);
  });
});
