/**
 * Temporary credentials at the authentication step: requests signed by the SDK's signer
 * with an STS session token authenticate as the session's principal until the instant the
 * session expires, and any mismatch between key, token and signature is refused.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Keyring } from '../crypto/keyring.js';
import { S3Error } from '../errors/s3-errors.js';
import type { S3Request } from '../http/request.js';
import { issueSession, sessionOpener } from '../iam/sts/session-token.js';
import { authenticate, type AuthenticateOptions } from './authenticate.js';
import type { CredentialCache } from './credentials.js';
import { SigningKeyCache } from './sigv4/verify.js';
import { smithySign, smithyPresign, TEST_AKID } from './sigv4/test-support.js';

const ring = Keyring.fromKeys([{ id: 'k1', key: randomBytes(32) }], 'k1');
const ISSUED = new Date('2025-03-01T10:00:00Z');
const claims = {
  kind: 'assumed-role' as const, accountId: '111122223333', canonicalId: 'c'.repeat(64), roleName: 'reader', roleId: 'AROAEXAMPLEEXAMPLE01', path: '/',
  sessionName: 'test', session: { issuedAt: ISSUED.toISOString(), expiresAt: new Date(ISSUED.getTime() + 900_000).toISOString() },
};
const issued = issueSession(ring, claims, ISSUED.getTime());

/** No long-term keys: only sessions can authenticate here. */
const noKeys = { prefetch: async () => undefined, get: () => undefined } as unknown as CredentialCache;

function options(now: Date): AuthenticateOptions {
  return { region: 'us-east-1', allowSigV2: false, services: ['s3'], clock: { now: () => now }, credentials: noKeys, signingKeyCache: new SigningKeyCache(), sessions: sessionOpener(ring) };
}

async function signedRequest(at: Date, o: { sessionToken?: string; accessKeyId?: string; secretAccessKey?: string; presign?: boolean } = {}): Promise<S3Request> {
  const r = { method: 'GET', path: '/bucket/key', headers: { host: 'localhost', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } };
  const creds = { accessKeyId: o.accessKeyId ?? issued.accessKeyId, secretAccessKey: o.secretAccessKey ?? issued.secretAccessKey, sessionToken: o.sessionToken ?? issued.sessionToken, signingDate: at };
  const w = o.presign ? await smithyPresign(r, { ...creds, expiresIn: 300 }) : await smithySign(r, creds);
  return {
    requestId: 'r', hostId: 'h', method: w.method, rawPath: w.rawPath, rawQuery: w.rawQuery,
    query: new Map(new URLSearchParams(w.rawQuery)), headers: w.headers, body: Readable.from([]), clientIp: '127.0.0.1', tls: null, receivedAt: at,
  };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    return e instanceof S3Error ? e.code : String(e);
  }
}

describe('authenticate: STS session credentials', () => {
  it('header-signed and presigned requests authenticate as the session principal', async () => {
    const at = new Date(ISSUED.getTime() + 60_000);
    for (const presign of [false, true]) {
      const { principal } = await authenticate(await signedRequest(at, { presign }), options(at));
      assert.equal(principal.kind, 'assumed-role');
      assert.equal(principal.kind === 'assumed-role' && principal.sessionName, 'test');
      assert.equal(principal.kind === 'assumed-role' && principal.accessKeyId, issued.accessKeyId);
    }
  });

  it('expires exactly: the last millisecond works, the expiry instant is ExpiredToken', async () => {
    const last = new Date(ISSUED.getTime() + 900_000 - 1);
    assert.equal(await code(authenticate(await signedRequest(last), options(last))), 'OK');
    const end = new Date(ISSUED.getTime() + 900_000);
    assert.equal(await code(authenticate(await signedRequest(end), options(end))), 'ExpiredToken');
  });

  it('refuses a tampered token, a token of another key, a wrong secret, a token next to an unknown long-term key, and a server without an opener', async () => {
    const at = new Date(ISSUED.getTime() + 60_000);
    const other = issueSession(ring, claims, ISSUED.getTime());
    const flipped = issued.sessionToken.slice(0, 20) + (issued.sessionToken[20] === 'A' ? 'B' : 'A') + issued.sessionToken.slice(21);
    assert.equal(await code(authenticate(await signedRequest(at, { sessionToken: flipped }), options(at))), 'InvalidToken');
    assert.equal(await code(authenticate(await signedRequest(at, { sessionToken: other.sessionToken }), options(at))), 'InvalidToken');
    assert.equal(await code(authenticate(await signedRequest(at, { secretAccessKey: 'x'.repeat(40) }), options(at))), 'SignatureDoesNotMatch');
    assert.equal(await code(authenticate(await signedRequest(at, { accessKeyId: TEST_AKID }), options(at))), 'InvalidAccessKeyId');
    const noOpener = { ...options(at) };
    delete noOpener.sessions;
    assert.equal(await code(authenticate(await signedRequest(at), noOpener)), 'InvalidToken');
  });
});
