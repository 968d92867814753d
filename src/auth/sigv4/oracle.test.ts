/**
 * Oracle tests: requests signed by the AWS SDK's own signer (@smithy/signature-v4, configured
 * as the S3 client configures it: no path escaping, no automatic checksum) must verify.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { authenticateV4, type VerifyOptions } from './verify.js';
import { TEST_AKID, TEST_SECRET, encodeKeyPath, expectS3Error, smithyPresign, smithySign } from './test-support.js';

const NOW = new Date('2024-02-29T23:59:30Z');
const E = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const opts: VerifyOptions = {
  now: NOW,
  region: 'eu-central-1',
  services: ['s3'],
  lookupSecret: (akid) => (akid === TEST_AKID ? TEST_SECRET : undefined),
};
const sign = { signingDate: NOW, region: 'eu-central-1' };

const KEYS = [
  'plain.txt',
  'my file with spaces.txt',
  'ünïcödé/日本語/файл.txt',
  'emoji 😀 key',
  'a+b+c',
  '~tilde~',
  "!'()*",
  'dir//double//slash',
  'a/./b/../c',
  '%41%2F literal percents',
  'semi;colon,comma:colon@at$dollar',
  'eq=amp&hash#question?',
  '[brackets]{braces}|pipe\\backslash^caret`tick"quote<lt>gt',
  ' leading and trailing ',
  'trailing/slash/',
];

const QUERIES: Record<string, string | string[]>[] = [
  {},
  { prefix: 'photos/2024 summer', delimiter: '/' },
  { 'list-type': '2', 'start-after': 'x y+z', 'max-keys': '10' },
  { tagging: '' },
  { k: 'v=1&x=2', other: 'a b=c&d' },
  { 'response-content-disposition': 'attachment; filename="ü file.txt"' },
  { versionId: 'null', partNumber: '3', uploadId: 'VXBsb2FkIElE+/=' },
  { multi: ['2', '1', ''] },
  { '': 'empty-name', 'ü': 'ß' },
];

describe('oracle: header-signed requests from the SDK signer', () => {
  for (const key of KEYS) {
    it(`accepts key ${JSON.stringify(key)}`, async () => {
      const req = await smithySign(
        {
          method: 'PUT',
          path: `/my-bucket/${encodeKeyPath(key)}`,
          headers: {
            host: 'my-bucket.s3.eu-central-1.amazonaws.com',
            'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
            'content-type': 'text/plain;  charset=utf-8',
            'x-amz-meta-note': '  several   spaces\tand tab  ',
            'x-amz-copy-source': `src-bucket/${encodeKeyPath(key)}`,
          },
        },
        sign,
      );
      const auth = authenticateV4(req, opts);
      assert.equal(auth?.accessKeyId, TEST_AKID);
      assert.deepEqual(auth?.payload, { kind: 'unsigned' });
    });
  }

  for (const query of QUERIES) {
    it(`accepts query ${JSON.stringify(query)}`, async () => {
      const req = await smithySign({ method: 'GET', path: '/my-bucket', query, headers: { host: 'localhost', 'x-amz-content-sha256': E } }, sign);
      assert.ok(authenticateV4(req, opts));
      // A form-style '+' for a space on the wire means the same parameter.
      if (req.rawQuery.includes('%20')) assert.ok(authenticateV4({ ...req, rawQuery: req.rawQuery.replaceAll('%20', '+') }, opts));
    });
  }

  it('accepts temporary credentials and a signed body hash', async () => {
    const body = 'hello world';
    const hex = 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9';
    const req = await smithySign(
      { method: 'PUT', path: '/b/k', headers: { host: 'h', 'x-amz-content-sha256': hex }, body },
      { ...sign, sessionToken: 'IQoJb3JpZ2luX2VjE//token==' },
    );
    const auth = authenticateV4(req, opts);
    assert.equal(auth?.securityToken, 'IQoJb3JpZ2luX2VjE//token==');
    assert.deepEqual(auth?.payload, { kind: 'sha256', hex });
  });
});

describe('oracle: presigned URLs from the SDK signer', () => {
  for (const [i, key] of KEYS.entries()) {
    const query = QUERIES[i % QUERIES.length]!;
    const expiresIn = [1, 60, 3600, 86400, 604800][i % 5]!;
    it(`accepts key ${JSON.stringify(key)} with ${JSON.stringify(query)}, expiring in ${expiresIn}s`, async () => {
      const req = await smithyPresign(
        {
          method: 'GET',
          path: `/my-bucket/${encodeKeyPath(key)}`,
          query,
          headers: { host: 'localhost:9000', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
        },
        { ...sign, expiresIn },
      );
      const auth = authenticateV4(req, opts);
      assert.equal(auth?.form, 'query');
      assert.deepEqual(auth?.payload, { kind: 'unsigned' });
      assert.ok(authenticateV4(req, { ...opts, now: new Date(NOW.getTime() + expiresIn * 1000) }));
      expectS3Error(() => authenticateV4(req, { ...opts, now: new Date(NOW.getTime() + expiresIn * 1000 + 1) }), 'AccessDenied', 'Request has expired');
    });
  }

  it('accepts x-amz-* headers hoisted into the query and a signed content-type', async () => {
    const req = await smithyPresign(
      { method: 'PUT', path: '/b/k', headers: { host: 'h', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'x-amz-acl': 'private', 'content-type': 'image/png' } },
      { ...sign, expiresIn: 900 },
    );
    assert.ok(authenticateV4(req, opts));
  });
});
