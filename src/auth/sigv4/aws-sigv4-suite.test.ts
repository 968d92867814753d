/**
 * AWS's SigV4 test suite run backwards: every vector's request, as it would arrive on the
 * wire, must verify; changing one byte anywhere that is signed must not.
 *
 * All 25 vectors of the packaged suite apply. Their paths are already normalised ('/',
 * '/ሴ', the unreserved set), so S3's no-normalisation path rule gives the same canonical URI
 * as the generic rule the suite was written for; the suite's normalisation vectors
 * (get-slash*, get-relative*, get-space-normalized …) are not in the packaged fixture and
 * would not apply to S3, which never normalises.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { S3Error } from '../../errors/s3-errors.js';
import { SUITE_CASES, SUITE_CREDENTIALS, SUITE_REGION, SUITE_SERVICE, SUITE_SIGNING_DATE, type SuiteCase } from './aws-sigv4-suite.fixture.js';
import { authenticateV4, type IncomingSignedRequest, type VerifyOptions } from './verify.js';
import { buildQuery, encodeKeyPath, expectS3Error, sha256Hex } from './test-support.js';

const opts: VerifyOptions = {
  now: SUITE_SIGNING_DATE,
  region: SUITE_REGION,
  services: [SUITE_SERVICE],
  lookupSecret: (akid) => (akid === SUITE_CREDENTIALS.accessKeyId ? SUITE_CREDENTIALS.secretAccessKey : undefined),
};

function wire(c: SuiteCase): IncomingSignedRequest {
  return {
    method: c.method,
    rawPath: encodeKeyPath(c.path),
    rawQuery: buildQuery(c.query),
    headers: { ...c.headers, authorization: c.authorization },
    bodySha256: sha256Hex(c.body ?? ''),
  };
}

describe('AWS SigV4 test suite, verified in reverse', () => {
  for (const c of SUITE_CASES) {
    it(`accepts ${c.name}`, () => {
      const auth = authenticateV4(wire(c), opts);
      assert.ok(auth);
      assert.equal(auth.accessKeyId, 'AKIDEXAMPLE');
      assert.deepEqual(auth.payload, { kind: 'sha256', hex: sha256Hex(c.body ?? '') });
      if (c.headers['x-amz-security-token'] !== undefined) assert.equal(auth.securityToken, c.headers['x-amz-security-token']);
    });

    it(`rejects ${c.name} with any one signature byte changed`, () => {
      const req = wire(c);
      const authz = String(req.headers['authorization']);
      const at = authz.indexOf('Signature=') + 'Signature='.length;
      for (let i = at; i < authz.length; i++) {
        const swapped = authz[i] === 'a' ? 'b' : 'a';
        const bad = { ...req, headers: { ...req.headers, authorization: authz.slice(0, i) + swapped + authz.slice(i + 1) } };
        expectS3Error(() => authenticateV4(bad, opts), 'SignatureDoesNotMatch');
      }
    });

    it(`rejects ${c.name} with a signed part changed`, () => {
      const req = wire(c);
      const tampered: IncomingSignedRequest[] = [
        { ...req, method: req.method === 'GET' ? 'POST' : 'GET' },
        { ...req, rawPath: `${req.rawPath}x` },
        { ...req, rawQuery: req.rawQuery.length > 0 ? `${req.rawQuery}x` : 'x=1' },
        { ...req, bodySha256: sha256Hex(`${c.body ?? ''}!`) },
        { ...req, headers: { ...req.headers, host: 'example.amazonaws.co' } },
      ];
      for (const t of tampered) {
        assert.throws(() => authenticateV4(t, opts), (e: unknown) => e instanceof S3Error && e.code === 'SignatureDoesNotMatch');
      }
    });
  }
});
