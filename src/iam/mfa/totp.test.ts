import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { base32Decode, base32Encode } from './base32.js';
import { ReplayGuard, counterAt, hotp, otpauthUri, totp, verifyEnableCodes, verifyTotp } from './totp.js';

const RFC_SECRET = Buffer.from('12345678901234567890');

describe('HOTP / TOTP', () => {
  it('matches the RFC 4226 appendix D HOTP values', () => {
    const want = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
    want.forEach((code, counter) => assert.equal(hotp(RFC_SECRET, counter), code));
  });
  // RFC 6238 appendix B, SHA-1 rows (8 digits).
  const vectors: [number, string][] = [
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
    [20000000000, '65353130'],
  ];
  for (const [t, code] of vectors) {
    it(`matches RFC 6238 appendix B at T=${t}`, () => {
      assert.equal(totp(RFC_SECRET, t * 1000, 8), code);
      assert.equal(totp(RFC_SECRET, t * 1000), code.slice(-6), '6 digits are the low 6 of the 8');
      assert.equal(verifyTotp(RFC_SECRET, code, t * 1000, { digits: 8 }), Math.floor(t / 30));
    });
  }
  it('refuses digit counts and counters it cannot honour', () => {
    assert.throws(() => totp(RFC_SECRET, 0, 0), RangeError);
    assert.throws(() => totp(RFC_SECRET, 0, 11), RangeError);
    assert.throws(() => hotp(RFC_SECRET, -1), RangeError);
    assert.throws(() => hotp(RFC_SECRET, 1.5), RangeError);
  });
});

describe('verifyTotp', () => {
  const now = 1_700_000_000_000;
  const c = counterAt(now);
  it('accepts the current step and one either side by default, and says which', () => {
    assert.equal(verifyTotp(RFC_SECRET, hotp(RFC_SECRET, c), now), c);
    assert.equal(verifyTotp(RFC_SECRET, hotp(RFC_SECRET, c - 1), now), c - 1);
    assert.equal(verifyTotp(RFC_SECRET, hotp(RFC_SECRET, c + 1), now), c + 1);
    assert.equal(verifyTotp(RFC_SECRET, hotp(RFC_SECRET, c - 2), now), undefined);
    assert.equal(verifyTotp(RFC_SECRET, hotp(RFC_SECRET, c + 2), now), undefined);
    assert.equal(verifyTotp(RFC_SECRET, hotp(RFC_SECRET, c - 2), now, { window: 2 }), c - 2);
    assert.equal(verifyTotp(RFC_SECRET, hotp(RFC_SECRET, c), now, { window: 0 }), c);
  });
  it('turns away malformed codes without throwing', () => {
    const good = hotp(RFC_SECRET, c);
    for (const bad of ['', good.slice(1), `${good}0`, ` ${good.slice(1)}`, '12345a', '١٢٣٤٥٦', '+12345', '-12345']) {
      assert.equal(verifyTotp(RFC_SECRET, bad, now), undefined, bad);
    }
  });
  it('does not look before the epoch', () => {
    assert.equal(verifyTotp(RFC_SECRET, hotp(RFC_SECRET, 0), 0), 0);
    assert.equal(verifyTotp(RFC_SECRET, hotp(RFC_SECRET, 1), 0), 1);
  });
  it('never accepts a code that is not the one for a step in the window', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 10, maxLength: 40 }), fc.integer({ min: 0, max: 999_999 }), fc.integer({ min: 0, max: 4_000_000_000_000 }), (secret, n, t) => {
      const code = String(n).padStart(6, '0');
      const got = verifyTotp(secret, code, t);
      const k = counterAt(t);
      const want = [k, k - 1, k + 1].find((x) => x >= 0 && hotp(secret, x) === code);
      assert.equal(got, want);
    }), { numRuns: 300 });
  });
});

describe('ReplayGuard', () => {
  const now = 1_700_000_000_000;
  const c = counterAt(now);
  it('rejects a code once it has been accepted, and older codes after a newer one', () => {
    const g = new ReplayGuard();
    const code = totp(RFC_SECRET, now);
    assert.equal(g.verify('arn:aws:iam::111122223333:mfa/alice', RFC_SECRET, code, now), c);
    assert.equal(g.verify('arn:aws:iam::111122223333:mfa/alice', RFC_SECRET, code, now), undefined, 'same code again');
    assert.equal(g.verify('arn:aws:iam::111122223333:mfa/alice', RFC_SECRET, hotp(RFC_SECRET, c - 1), now), undefined, 'older, still in window');
    assert.equal(g.verify('arn:aws:iam::111122223333:mfa/bob', RFC_SECRET, code, now), c, 'devices are independent');
    assert.equal(g.verify('arn:aws:iam::111122223333:mfa/alice', RFC_SECRET, totp(RFC_SECRET, now + 30_000), now + 30_000), c + 1);
    assert.equal(g.lastAccepted('arn:aws:iam::111122223333:mfa/alice'), c + 1);
  });
  it('does not record a wrong code', () => {
    const g = new ReplayGuard();
    const inWindow = [c - 1, c, c + 1].map((k) => hotp(RFC_SECRET, k));
    const wrong = ['000000', '111111', '222222', '333333'].find((x) => !inWindow.includes(x))!;
    assert.equal(g.verify('d', RFC_SECRET, wrong, now), undefined);
    assert.equal(g.lastAccepted('d'), undefined);
  });
  it('can be seeded from persisted state and forget a device', () => {
    const g = new ReplayGuard([['d', c]]);
    assert.equal(g.tryAccept('d', c), false);
    assert.equal(g.tryAccept('d', c + 1), true);
    g.forget('d');
    assert.equal(g.tryAccept('d', c - 5), true);
  });
});

describe('verifyEnableCodes', () => {
  const now = 1_700_000_000_000;
  const c = counterAt(now);
  const at = (k: number) => hotp(RFC_SECRET, k);
  it('accepts two consecutive codes ending at now, a little ahead, or up to ten steps back', () => {
    assert.equal(verifyEnableCodes(RFC_SECRET, at(c - 1), at(c), now), c);
    assert.equal(verifyEnableCodes(RFC_SECRET, at(c), at(c + 1), now), c + 1);
    assert.equal(verifyEnableCodes(RFC_SECRET, at(c - 10), at(c - 9), now), c - 9);
    assert.equal(verifyEnableCodes(RFC_SECRET, at(c - 11), at(c - 10), now), undefined);
    assert.equal(verifyEnableCodes(RFC_SECRET, at(c + 1), at(c + 2), now), undefined);
    assert.equal(verifyEnableCodes(RFC_SECRET, at(c - 30), at(c - 29), now, { lookBack: 30 }), c - 29);
  });
  it('refuses codes out of order, repeated, or not adjacent', () => {
    assert.equal(verifyEnableCodes(RFC_SECRET, at(c), at(c - 1), now), undefined);
    assert.equal(verifyEnableCodes(RFC_SECRET, at(c), at(c), now), undefined);
    assert.equal(verifyEnableCodes(RFC_SECRET, at(c - 2), at(c), now), undefined);
    assert.equal(verifyEnableCodes(RFC_SECRET, 'abcdef', at(c), now), undefined);
  });
  it('seeds a ReplayGuard so neither enabling code can then sign in', () => {
    const last = verifyEnableCodes(RFC_SECRET, at(c - 1), at(c), now)!;
    const g = new ReplayGuard([['d', last]]);
    assert.equal(g.verify('d', RFC_SECRET, at(c), now), undefined);
    assert.equal(g.verify('d', RFC_SECRET, at(c - 1), now), undefined);
    assert.equal(g.verify('d', RFC_SECRET, at(c + 1), now), c + 1);
  });
});

describe('otpauthUri', () => {
  it('has the shape of AWS QRCodePNG content', () => {
    const secret = base32Encode(RFC_SECRET);
    assert.equal(
      otpauthUri('alice@111122223333', 'Amazon Web Services', secret),
      'otpauth://totp/Amazon%20Web%20Services:alice@111122223333?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Amazon%20Web%20Services',
    );
  });
  it('percent-encodes what a URI needs encoded, and its secret decodes back to the key', () => {
    const uri = new URL(otpauthUri('a+b=c,d.e_f-g@1', 'Kura & Co', base32Encode(RFC_SECRET)));
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.host, 'totp');
    assert.equal(decodeURIComponent(uri.pathname), '/Kura & Co:a+b=c,d.e_f-g@1');
    assert.equal(uri.searchParams.get('issuer'), 'Kura & Co');
    assert.deepEqual(base32Decode(uri.searchParams.get('secret')!), RFC_SECRET);
  });
  it('refuses a colon in either label part', () => {
    assert.throws(() => otpauthUri('a:b', 'Kura', 'AAAA'), RangeError);
    assert.throws(() => otpauthUri('a', 'Ku:ra', 'AAAA'), RangeError);
  });
});
