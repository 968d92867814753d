import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import { checkJwks, WebIdentityError, WebIdentityVerifier } from './web-identity.js';
import { providerNameOf } from '../service/oidc.js';
import { compilePolicy } from '../policy/compile.js';
import { evaluatePolicy } from '../policy/evaluate.js';
import { parsePolicy } from '../policy/parse.js';

const ISSUER = 'https://idp.example.test/realm';
const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const JWKS = { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1' }] };
const NOW = Date.parse('2026-11-24T12:00:00Z');
const sec = NOW / 1000;

function token(claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'RS256', kid: 'k1' }, key: KeyObject = privateKey): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${b64url(sign('sha256', Buffer.from(input), key))}`;
}
const good = (over: Record<string, unknown> = {}): Record<string, unknown> => ({ iss: ISSUER, sub: 'alice', aud: 'app', iat: sec - 10, exp: sec + 600, ...over });
const verifier = new WebIdentityVerifier([{ issuer: ISSUER, jwks: JWKS }]);

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof WebIdentityError, String(e));
    return e.code;
  }
}

describe('WebIdentityVerifier', () => {
  it('accepts a token signed by a configured key and reports its issuer, subject and audiences', async () => {
    const v = await verifier.verify(token(good({ aud: ['app', 'other'] })), NOW);
    assert.equal(v.issuer, ISSUER);
    assert.equal(v.providerName, 'idp.example.test/realm');
    assert.equal(v.subject, 'alice');
    assert.deepEqual(v.audiences, ['app', 'other']);
  });

  it('refuses expired, not-yet-valid, unsigned, HMAC-signed, foreign-key and incomplete tokens', async () => {
    assert.equal(await code(verifier.verify(token(good({ exp: sec - 61 })), NOW)), 'ExpiredTokenException');
    assert.equal(await code(verifier.verify(token(good({ nbf: sec + 600 })), NOW)), 'InvalidIdentityToken');
    // A minute of clock skew either way is tolerated, no more.
    assert.equal(await code(verifier.verify(token(good({ nbf: sec + 30, iat: sec + 30 })), NOW)), 'ok');
    assert.equal(await code(verifier.verify(token(good({ exp: sec - 30 })), NOW)), 'ok');
    const body = b64url(JSON.stringify(good()));
    assert.equal(await code(verifier.verify(`${b64url(JSON.stringify({ alg: 'none' }))}.${body}.`, NOW)), 'InvalidIdentityToken');
    // HS256 "signed" with the public key's bytes: the classic algorithm-confusion attack.
    const hsInput = `${b64url(JSON.stringify({ alg: 'HS256', kid: 'k1' }))}.${body}`;
    const hs = `${hsInput}.${b64url(createHmac('sha256', publicKey.export({ format: 'pem', type: 'spki' })).update(hsInput).digest())}`;
    assert.equal(await code(verifier.verify(hs, NOW)), 'InvalidIdentityToken');
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    assert.equal(await code(verifier.verify(token(good(), undefined, other), NOW)), 'InvalidIdentityToken');
    for (const missing of ['sub', 'aud', 'exp']) {
      const c = good();
      delete c[missing];
      assert.equal(await code(verifier.verify(token(c), NOW)), 'InvalidIdentityToken', missing);
    }
    assert.equal(await code(verifier.verify(token(good({ iss: 'https://elsewhere.example.test' })), NOW)), 'InvalidIdentityToken');
    // iss is compared as a string, as OpenID Connect says: no normalisation lets a variant in.
    for (const iss of ['https://IDP.example.test/realm', 'https://idp.example.test/realm/', 'https://idp.example.test:443/realm', 'HTTPS://idp.example.test/realm', 'https://idp%2eexample.test/realm']) {
      assert.equal(await code(verifier.verify(token(good({ iss })), NOW)), 'InvalidIdentityToken', iss);
    }
    assert.equal(await code(verifier.verify('a.b.c', NOW)), 'InvalidIdentityToken');
  });

  it('never throws anything but WebIdentityError on arbitrary input', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(fc.string(), fc.tuple(fc.string(), fc.string(), fc.string()).map((p) => p.join('.')), fc.jsonValue().map((j) => `${b64url(JSON.stringify(j))}.${b64url(JSON.stringify(j))}.x`)), async (t) => {
      assert.notEqual(await code(verifier.verify(t, NOW)), 'ok');
    }), { numRuns: 200 });
  });

  it('takes public asymmetric keys only', () => {
    assert.throws(() => checkJwks({ keys: [] }, 'f'), /non-empty/);
    assert.throws(() => checkJwks({ keys: [{ kty: 'oct', k: 'AAAA' }] }, 'f'), /symmetric/);
    assert.throws(() => checkJwks({ keys: [privateKey.export({ format: 'jwk' })] }, 'f'), /private key/);
    assert.doesNotThrow(() => checkJwks(JWKS, 'f'));
  });

  it('refuses an issuer configured twice, or one a URL parser would rewrite', () => {
    assert.throws(() => new WebIdentityVerifier([{ issuer: ISSUER, jwks: JWKS }, { issuer: `${ISSUER}/`, jwks: JWKS }]), /twice/);
    assert.throws(() => new WebIdentityVerifier([{ issuer: 'https://idp.example.test/a b', jwks: JWKS }]), /plain https URL/);
  });
});

describe('providerNameOf', () => {
  it('names a provider by host and path, https only', () => {
    assert.equal(providerNameOf('https://Token.Example.test/'), 'token.example.test');
    assert.equal(providerNameOf('https://token.example.test:8443/a/b/'), 'token.example.test:8443/a/b');
    assert.equal(providerNameOf('http://token.example.test'), undefined);
    assert.equal(providerNameOf('https://token.example.test/?x=1'), undefined);
    assert.equal(providerNameOf('https://user:pw@token.example.test'), undefined);
    assert.equal(providerNameOf('https://token.example.test/#f'), undefined);
    assert.equal(providerNameOf('https://token.example.test/Realms/MyRealm'), 'token.example.test/Realms/MyRealm');
    for (const odd of ['https://a b.example.test', 'https://x.example.test/%2e', 'https://x.example.test/a/../b', 'https://x.example.test/a/./b', 'https://ｉｄｐ.example.test', 'https://x.example.test\\a', 'https://x.exa\tmple.test']) {
      assert.equal(providerNameOf(odd), undefined, odd);
    }
  });
});

describe('Federated principals in trust policies', () => {
  const arn = 'arn:aws:iam::111122223333:oidc-provider/idp.example.test/realm';
  const compile = (principal: unknown, effect = 'Allow'): ReturnType<typeof compilePolicy> => {
    const p = parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: effect, Principal: principal, Action: 'sts:AssumeRoleWithWebIdentity' }] }));
    assert.ok('ast' in p);
    return compilePolicy(p.ast, { policyId: 't' });
  };
  const match = (principal: unknown, who: { kind: 'federated'; provider: string } | { kind: 'aws'; account: string; arns: string[]; isRoot: boolean }): string | undefined =>
    evaluatePolicy(compile(principal), { action: 'sts:AssumeRoleWithWebIdentity', resource: 'arn:aws:iam::111122223333:role/r', principal: who, context: new Map() }).matches[0]?.principalMatch;

  it('match the provider they name, and nothing else', () => {
    assert.equal(match({ Federated: arn }, { kind: 'federated', provider: arn }), 'direct');
    assert.equal(match({ Federated: arn }, { kind: 'federated', provider: `${arn}x` }), undefined);
    assert.equal(match({ Federated: arn }, { kind: 'aws', account: '111122223333', arns: ['arn:aws:iam::111122223333:root'], isRoot: true }), undefined);
    assert.equal(match({ AWS: '111122223333' }, { kind: 'federated', provider: arn }), undefined);
    assert.equal(match('*', { kind: 'federated', provider: arn }), 'any');
  });
});
