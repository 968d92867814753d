/** Property tests: canonicalisation and verification never fail with anything but S3Error, and whatever the SDK signer signs, we verify. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { S3Error } from '../../errors/s3-errors.js';
import { canonicalHeaders, canonicalQuery, canonicalUri } from './canonical-request.js';
import { parseQuery } from './query.js';
import { canonicalizeWirePath } from './uri-encode.js';
import { authenticateV4, type VerifyOptions } from './verify.js';
import { TEST_AKID, TEST_SECRET, encodeKeyPath, smithyPresign, smithySign } from './test-support.js';

const NOW = new Date('2013-05-24T00:00:00Z');
const opts: VerifyOptions = { now: NOW, region: 'us-east-1', services: ['s3'], lookupSecret: (a) => (a === TEST_AKID ? TEST_SECRET : undefined) };

function wellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}

const special = fc.constantFrom(' ', '+', '%', '%2', '%2F', '%zz', '/', '?', '#', '&', '=', '~', '!', "'", '(', ')', '*', 'é', '😀', '\ud800', ';', ',');
/** Strings rich in characters with encoding trouble. */
const nasty = fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 4 }), special), { maxLength: 12 }).map((a) => a.join(''));
const text = nasty.filter(wellFormed);
const ASCII = /^[\x20-\x7e]*$/;

describe('canonicalisation properties', () => {
  it('canonicalUri never throws, emits ASCII and is idempotent', () => {
    fc.assert(
      fc.property(nasty, (p) => {
        const c = canonicalUri(p);
        assert.match(c, ASCII);
        assert.equal(canonicalizeWirePath(c), c.length === 0 ? '' : c);
      }),
      { numRuns: 2000 },
    );
  });
  it('canonicalQuery never throws, emits ASCII and is idempotent', () => {
    fc.assert(
      fc.property(nasty, (q) => {
        const c = canonicalQuery(parseQuery(q));
        assert.match(c, ASCII);
        assert.equal(canonicalQuery(parseQuery(c)), c);
      }),
      { numRuns: 2000 },
    );
  });
  it('canonicalHeaders never throws on arbitrary values', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 10 }), fc.oneof(nasty, fc.array(nasty, { maxLength: 3 }))), fc.array(fc.string({ maxLength: 10 })), (h, names) => {
        canonicalHeaders(h, names);
      }),
    );
  });
});

describe('verification properties', () => {
  it('authenticateV4 only ever throws S3Error on arbitrary requests', () => {
    const authz = fc.oneof(
      nasty,
      nasty.map((s) => `AWS4-HMAC-SHA256 ${s}`),
      fc.tuple(nasty, nasty, nasty).map(([a, b, c]) => `AWS4-HMAC-SHA256 Credential=${a}, SignedHeaders=${b}, Signature=${c}`),
      fc.tuple(nasty, nasty).map(([b, c]) => `AWS4-HMAC-SHA256 Credential=${TEST_AKID}/20130524/us-east-1/s3/aws4_request, SignedHeaders=${b}, Signature=${c}`),
    );
    const presignQuery = fc
      .record({ alg: nasty, cred: nasty, date: nasty, exp: nasty, sh: nasty, sig: nasty, extra: nasty })
      .map((r) => `X-Amz-Algorithm=${r.alg}&X-Amz-Credential=${r.cred}&X-Amz-Date=${r.date}&X-Amz-Expires=${r.exp}&X-Amz-SignedHeaders=${r.sh}&X-Amz-Signature=${r.sig}&${r.extra}`);
    const request = fc.record({
      method: fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'HEAD', ''),
      rawPath: nasty,
      rawQuery: fc.oneof(nasty, presignQuery),
      headers: fc.record(
        {
          authorization: authz,
          host: nasty,
          'x-amz-date': fc.oneof(nasty, fc.constant('20130524T000000Z')),
          date: nasty,
          'x-amz-content-sha256': fc.oneof(nasty, fc.constant('UNSIGNED-PAYLOAD')),
          'x-amz-meta-x': fc.oneof(nasty, fc.array(nasty, { maxLength: 3 })),
        },
        { requiredKeys: [] },
      ),
    });
    fc.assert(
      fc.property(request, (req) => {
        try {
          authenticateV4(req, opts);
        } catch (e) {
          if (!(e instanceof S3Error)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });

  const reservedName = (k: string): boolean => /^(x-amz-|signature$|awsaccesskeyid$|expires$)/i.test(k);
  const queryArb = fc.dictionary(text.filter((k) => !reservedName(k)), text, { maxKeys: 5 });
  const headerValue = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e\t]{0,20}[\x21-\x7e])?$/);
  const metaArb = fc.dictionary(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,10}$/).map((n) => `x-amz-meta-${n}`), headerValue, { maxKeys: 3 });

  it('sign-then-verify round-trips for arbitrary keys, queries and headers (header form)', async () => {
    await fc.assert(
      fc.asyncProperty(text.filter((k) => k.length > 0), queryArb, metaArb, async (key, query, meta) => {
        const req = await smithySign(
          { method: 'PUT', path: `/bucket/${encodeKeyPath(key)}`, query, headers: { host: 'bucket.s3.amazonaws.com', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...meta } },
          { signingDate: NOW },
        );
        assert.ok(authenticateV4(req, opts));
      }),
      { numRuns: 300 },
    );
  });

  it('sign-then-verify round-trips for arbitrary keys and queries (presigned)', async () => {
    await fc.assert(
      fc.asyncProperty(text.filter((k) => k.length > 0), queryArb, fc.integer({ min: 1, max: 604800 }), async (key, query, expiresIn) => {
        const req = await smithyPresign(
          { method: 'GET', path: `/bucket/${encodeKeyPath(key)}`, query, headers: { host: 'localhost:9000', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } },
          { signingDate: NOW, expiresIn },
        );
        assert.ok(authenticateV4(req, opts));
      }),
      { numRuns: 300 },
    );
  });
});
