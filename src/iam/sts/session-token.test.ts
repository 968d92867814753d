import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Keyring } from '../../crypto/keyring.js';
import { IamError } from '../api/xml.js';
import {
  MAX_TOKEN_CHARS, PACKED_POLICY_LIMIT, checkPackedPolicy, issueSession, openSession, packedPolicyBytes, principalFromClaims, sessionOpener,
  type SessionClaims,
} from './session-token.js';
import type { SessionFacts } from '../../auth/principal.js';

const k1 = randomBytes(32);
const ring = Keyring.fromKeys([{ id: 'k1', key: k1 }], 'k1');
const NOW = Date.parse('2026-03-01T12:00:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();

const baseSession = (over: Partial<SessionFacts> = {}): SessionFacts => ({ issuedAt: iso(NOW), expiresAt: iso(NOW + 3_600_000), ...over });

const roleClaims = (session: SessionFacts = baseSession()): SessionClaims => ({
  kind: 'assumed-role', accountId: '111111111111', canonicalId: 'c'.repeat(64),
  roleName: 'reader', roleId: 'AROAEXAMPLEEXAMPLE123', path: '/', sessionName: 'alice', session,
});

// ---- arbitraries ----------------------------------------------------------------------------

// 'binary' includes lone surrogates: well-formed JSON.stringify escapes them, so they survive too.
const text = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 10 }));
// deepStrictEqual compares prototypes, and decoded claims are ordinary objects.
const plain = { noNullPrototype: true } as const;
const tagsArb = fc.array(fc.tuple(text, text), { maxLength: 5 }).map((pairs) => Object.fromEntries(pairs));
const sessionArb: fc.Arbitrary<SessionFacts> = fc
  .record(
    {
      issued: fc.integer({ min: 0, max: 4_000_000_000_000 }),
      life: fc.integer({ min: 1, max: 200_000_000 }),
      mfaAuthenticatedAt: fc.constant(iso(NOW)),
      policy: fc.string({ maxLength: 200 }),
      policyArns: fc.array(text, { maxLength: 3 }),
      tags: tagsArb,
      transitiveTagKeys: fc.array(text, { maxLength: 3 }),
      sourceIdentity: text,
    },
    { requiredKeys: ['issued', 'life'], noNullPrototype: true },
  )
  .map(({ issued, life, ...rest }) => ({ issuedAt: iso(issued), expiresAt: iso(issued + life), ...rest }));

const claimsArb: fc.Arbitrary<SessionClaims> = fc.oneof(
  fc.record({ kind: fc.constant('account-root' as const), accountId: text, canonicalId: text, session: sessionArb }, plain),
  fc.record({ kind: fc.constant('iam-user' as const), accountId: text, canonicalId: text, userName: text, userId: text, path: text, session: sessionArb }, plain),
  fc.record({
    kind: fc.constant('assumed-role' as const), accountId: text, canonicalId: text, roleName: text, roleId: text, path: text,
    sessionName: text, session: sessionArb,
  }, plain),
);

const issuedAtOf = (c: SessionClaims): number => Date.parse(c.session.issuedAt);

// ---- properties ------------------------------------------------------------------------------

test('open(issue(claims)) gives back the claims and the secret, and the principal exactly', () => {
  fc.assert(
    fc.property(claimsArb, (claims) => {
      const now = issuedAtOf(claims);
      const s = issueSession(ring, claims, now);
      assert.match(s.accessKeyId, /^ASIA[A-Z0-9]{16}$/);
      assert.equal(s.secretAccessKey.length, 40);
      assert.equal(s.expiration.getTime(), Date.parse(claims.session.expiresAt));
      const opened = openSession(ring, s.accessKeyId, s.sessionToken, now);
      assert.ok(!('error' in opened));
      assert.deepStrictEqual(opened.claims, claims);
      assert.equal(opened.secretAccessKey, s.secretAccessKey);
      const p = principalFromClaims(opened.claims, s.accessKeyId);
      assert.deepStrictEqual(p, { ...claims, accessKeyId: s.accessKeyId });
    }),
    { numRuns: 300 },
  );
});

test('changing any one character of the token gives InvalidToken, never a throw', () => {
  const tokens = Array.from({ length: 4 }, (_, i) => {
    const c = i % 2 === 0 ? roleClaims() : roleClaims(baseSession({ policy: '{"Version":"2012-10-17"}', tags: { team: 'storage' } }));
    return issueSession(ring, c, NOW);
  });
  const b64url = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const replacement = fc.oneof(fc.constantFrom(...b64url), fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)));
  fc.assert(
    fc.property(fc.constantFrom(...tokens), fc.nat(), replacement, (s, at, ch) => {
      const i = at % s.sessionToken.length;
      fc.pre(s.sessionToken[i] !== ch);
      const bad = s.sessionToken.slice(0, i) + ch + s.sessionToken.slice(i + 1);
      assert.deepEqual(openSession(ring, s.accessKeyId, bad, NOW), { error: 'InvalidToken' });
    }),
    { numRuns: 2000 },
  );
});

test('changing any one byte of the decoded token gives InvalidToken', () => {
  const s = issueSession(ring, roleClaims(baseSession({ tags: { a: 'b' }, transitiveTagKeys: ['a'] })), NOW);
  const raw = Buffer.from(s.sessionToken, 'base64url');
  for (let i = 0; i < raw.length; i++) {
    for (const delta of [1, 0x80, 0xff]) {
      const bad = Buffer.from(raw);
      bad[i] = (bad[i]! + delta) & 0xff;
      assert.deepEqual(openSession(ring, s.accessKeyId, bad.toString('base64url'), NOW), { error: 'InvalidToken' }, `byte ${i}`);
    }
  }
  // Truncation and extension too.
  assert.deepEqual(openSession(ring, s.accessKeyId, raw.subarray(0, raw.length - 1).toString('base64url'), NOW), { error: 'InvalidToken' });
  assert.deepEqual(openSession(ring, s.accessKeyId, Buffer.concat([raw, Buffer.from([0])]).toString('base64url'), NOW), { error: 'InvalidToken' });
});

test('garbage tokens are InvalidToken, never a throw', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (garbage) => {
      assert.deepEqual(openSession(ring, 'ASIAAAAAAAAAAAAAAAAA', garbage, NOW), { error: 'InvalidToken' });
    }),
  );
  for (const t of ['', 'AQ', 'AQE', 'x'.repeat(MAX_TOKEN_CHARS + 1), '====']) {
    assert.deepEqual(openSession(ring, 'ASIAAAAAAAAAAAAAAAAA', t, NOW), { error: 'InvalidToken' });
  }
  assert.deepEqual(openSession(ring, 'ASIAAAAAAAAAAAAAAAAA', null as unknown as string, NOW), { error: 'InvalidToken' });
});

// ---- binding and expiry ---------------------------------------------------------------------------

test('the token is bound to its access key id', () => {
  const a = issueSession(ring, roleClaims(), NOW);
  const b = issueSession(ring, roleClaims(), NOW);
  assert.notEqual(a.accessKeyId, b.accessKeyId);
  assert.notEqual(a.secretAccessKey, b.secretAccessKey);
  assert.deepEqual(openSession(ring, b.accessKeyId, a.sessionToken, NOW), { error: 'InvalidToken' });
  assert.deepEqual(openSession(ring, 'AKIAIOSFODNN7EXAMPLE', a.sessionToken, NOW), { error: 'InvalidToken' });
  assert.deepEqual(openSession(ring, a.accessKeyId.toLowerCase(), a.sessionToken, NOW), { error: 'InvalidToken' });
});

test('expired exactly at the expiry instant; valid up to it', () => {
  const s = issueSession(ring, roleClaims(), NOW);
  const exp = s.expiration.getTime();
  assert.ok(!('error' in openSession(ring, s.accessKeyId, s.sessionToken, exp - 1)));
  assert.deepEqual(openSession(ring, s.accessKeyId, s.sessionToken, exp), { error: 'ExpiredToken' });
  assert.deepEqual(openSession(ring, s.accessKeyId, s.sessionToken, exp + 86_400_000), { error: 'ExpiredToken' });
  // An expired token that has been tampered with is invalid, not expired: authenticity comes first.
  const bad = `${s.sessionToken.slice(0, -2)}${s.sessionToken.endsWith('AA') ? 'BA' : 'AA'}`;
  assert.deepEqual(openSession(ring, s.accessKeyId, bad, exp), { error: 'InvalidToken' });
});

test('issueSession refuses sessions that are already over or have bad times', () => {
  assert.throws(() => issueSession(ring, roleClaims(), NOW + 3_600_000), RangeError);
  assert.throws(() => issueSession(ring, roleClaims(baseSession({ expiresAt: 'soon' })), NOW), RangeError);
  assert.throws(() => issueSession(ring, roleClaims(baseSession({ expiresAt: iso(NOW - 1) })), NOW - 10), RangeError);
});

test('keyring rotation: old tokens still open; a keyring without the key refuses them', () => {
  const s = issueSession(ring, roleClaims(), NOW);
  const rotated = Keyring.fromKeys([{ id: 'k1', key: k1 }, { id: 'k2', key: randomBytes(32) }], 'k2');
  assert.ok(!('error' in openSession(rotated, s.accessKeyId, s.sessionToken, NOW)));
  const fresh = issueSession(rotated, roleClaims(), NOW);
  assert.ok(!('error' in openSession(rotated, fresh.accessKeyId, fresh.sessionToken, NOW)));
  assert.deepEqual(openSession(ring, fresh.accessKeyId, fresh.sessionToken, NOW), { error: 'InvalidToken' });
  const other = Keyring.fromKeys([{ id: 'k1', key: randomBytes(32) }], 'k1');
  assert.deepEqual(openSession(other, s.accessKeyId, s.sessionToken, NOW), { error: 'InvalidToken' });
});

test('a tag called __proto__ stays a tag', () => {
  const tags = Object.fromEntries([['__proto__', 'x'], ['team', 'y']]) as Record<string, string>;
  const s = issueSession(ring, roleClaims(baseSession({ tags })), NOW);
  const opened = openSession(ring, s.accessKeyId, s.sessionToken, NOW);
  assert.ok(!('error' in opened));
  assert.deepEqual(Object.entries(opened.claims.session.tags!), [['__proto__', 'x'], ['team', 'y']]);
  assert.equal(Object.getPrototypeOf(opened.claims.session.tags), Object.prototype);
});

// ---- size ------------------------------------------------------------------------------------------

test('tokens are small', () => {
  const plain = issueSession(ring, roleClaims(), NOW);
  assert.ok(plain.sessionToken.length < 400, `plain token is ${plain.sessionToken.length} chars`);
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:ListBucket'], Resource: ['arn:aws:s3:::bucket-one/*', 'arn:aws:s3:::bucket-one'] }],
  });
  const tagged = issueSession(ring, roleClaims(baseSession({ policy, tags: { team: 'storage', cost: '1234' }, transitiveTagKeys: ['team'] })), NOW);
  assert.ok(tagged.sessionToken.length < 800, `tagged token is ${tagged.sessionToken.length} chars`);
});

test('packed policy limit: PackedPolicyTooLarge with the percentage, also as a backstop in issueSession', () => {
  assert.equal(packedPolicyBytes({}), 0);
  assert.equal(checkPackedPolicy({}), 0);
  // Random text does not compress: about 1.5 KB of it exceeds the limit.
  const noise = randomBytes(1100).toString('base64');
  const policy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::${noise}"}]}`;
  assert.ok(packedPolicyBytes({ policy }) > PACKED_POLICY_LIMIT);
  assert.throws(() => checkPackedPolicy({ policy }), (e: unknown) => e instanceof IamError && e.code === 'PackedPolicyTooLarge' && /Packed policy consumes \d+% of allotted space/.test(e.message));
  assert.throws(() => issueSession(ring, roleClaims(baseSession({ policy })), NOW), (e: unknown) => e instanceof IamError && e.code === 'PackedPolicyTooLarge');
  // A long but ordinary policy fits.
  const statements = Array.from({ length: 12 }, (_, i) => ({ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::bucket-${i}/*` }));
  const ordinary = JSON.stringify({ Version: '2012-10-17', Statement: statements });
  assert.ok(ordinary.length > 900);
  const pct = checkPackedPolicy({ policy: ordinary });
  assert.ok(pct > 0 && pct < 60, `ordinary policy uses ${pct}%`);
});

test('sessionOpener gives the authentication layer the secret and the principal', () => {
  const s = issueSession(ring, roleClaims(), NOW);
  const r = sessionOpener(ring).open(s.accessKeyId, s.sessionToken, NOW);
  assert.ok(!('error' in r));
  assert.equal(r.secret, s.secretAccessKey);
  assert.equal(r.principal.kind, 'assumed-role');
  assert.equal(r.principal.accessKeyId, s.accessKeyId);
  assert.deepEqual(sessionOpener(ring).open(s.accessKeyId, s.sessionToken, s.expiration.getTime()), { error: 'ExpiredToken' });
});
