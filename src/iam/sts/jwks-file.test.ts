import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JWKS_RECHECK_MS, JwksFile } from './jwks-file.js';
import { WebIdentityError, WebIdentityVerifier } from './web-identity.js';

const ISSUER = 'https://idp.example.test';
const NOW = Date.parse('2026-11-24T12:00:00Z');
const pair = (): { publicKey: object; privateKey: KeyObject } => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { publicKey: publicKey.export({ format: 'jwk' }), privateKey };
};
const a = pair();
const b = pair();
const jwksOf = (...keys: { publicKey: object }[]): string => JSON.stringify({ keys: keys.map((k, i) => ({ ...k.publicKey, kid: `k${i}` })) });

function token(privateKey: KeyObject, kid: string): string {
  const sec = NOW / 1000;
  const input = `${Buffer.from(JSON.stringify({ alg: 'ES256', kid })).toString('base64url')}.${Buffer.from(JSON.stringify({ iss: ISSUER, sub: 's', aud: 'app', exp: sec + 600 })).toString('base64url')}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

describe('JwksFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kura-jwks-'));
  const file = join(dir, 'jwks.json');
  after(() => rmSync(dir, { recursive: true, force: true }));
  /** Rewrites the file with a distinct modification time (the change detector does not depend on the clock's resolution). */
  let stamp = 1_700_000_000;
  const rewrite = (text: string): void => {
    writeFileSync(file, text);
    stamp += 10;
    utimesSync(file, stamp, stamp);
  };

  it('a file that does not read as a JWKS of public keys is refused at load', async () => {
    rewrite('{"keys": []}');
    await assert.rejects(JwksFile.load(file, NOW, () => {}), /not a JWKS/);
    await assert.rejects(JwksFile.load(join(dir, 'missing.json'), NOW, () => {}), /ENOENT/);
  });

  it('rotates keys when the file changes, refuses every token while it is broken, and reports the breakage once', async () => {
    rewrite(jwksOf(a));
    const errors: string[] = [];
    const source = await JwksFile.load(file, NOW, (reason) => errors.push(reason));
    const verifier = new WebIdentityVerifier([{ issuer: ISSUER, jwks: source }]);
    const outcome = async (t: string, at: number): Promise<string> => {
      try {
        await verifier.verify(t, at);
        return 'ok';
      } catch (e) {
        assert.ok(e instanceof WebIdentityError);
        return e.message;
      }
    };
    const withA = token(a.privateKey, 'k0');
    const withB = token(b.privateKey, 'k0');
    assert.equal(await outcome(withA, NOW), 'ok');
    assert.match(await outcome(withB, NOW), /signature/);

    // The operator replaces the key: it applies from the next look at the file.
    rewrite(jwksOf(b));
    let t = NOW + JWKS_RECHECK_MS;
    assert.equal(await outcome(withB, t), 'ok');
    assert.match(await outcome(withA, t), /signature/);

    // A broken file: nothing verifies (the withdrawn and the current key alike), reported once.
    rewrite('{"keys": [');
    t += JWKS_RECHECK_MS;
    assert.match(await outcome(withB, t), /verification key/);
    t += JWKS_RECHECK_MS;
    assert.match(await outcome(withB, t), /verification key/);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /cannot read the JWKS/);
    // A private key is as bad as a syntax error.
    rewrite(JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' }] }));
    t += JWKS_RECHECK_MS;
    assert.match(await outcome(withB, t), /verification key/);

    // Fixed: verifies again.
    rewrite(jwksOf(a, b));
    t += JWKS_RECHECK_MS;
    assert.equal(await outcome(withA, t), 'ok');
  });

  it('looks at the file at most once per interval', async () => {
    rewrite(jwksOf(a));
    const source = await JwksFile.load(file, NOW, () => {});
    const first = await source.current(NOW);
    rewrite(jwksOf(b));
    assert.equal(await source.current(NOW + JWKS_RECHECK_MS - 1), first);
    assert.notEqual(await source.current(NOW + JWKS_RECHECK_MS), first);
  });
});
