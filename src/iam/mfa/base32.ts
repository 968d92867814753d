/**
 * RFC 4648 §6 Base32, the encoding TOTP seeds travel in (otpauth URIs, AWS's
 * Base32StringSeed). Pure: no I/O.
 *
 * Encoding never pads: authenticator apps and AWS's seeds omit `=`, and some apps refuse
 * a padded `secret=`. Decoding accepts what a person or another tool may hand over —
 * lower case and trailing padding — but nothing else: a typo in a seed must fail loudly
 * rather than silently yield a different key.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

const DECODE: Int8Array = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) {
    t[ALPHABET.charCodeAt(i)] = i;
    t[ALPHABET.toLowerCase().charCodeAt(i)] = i;
  }
  return t;
})();

/** Encodes bytes as upper-case Base32 without padding. */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = ((acc << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(acc >>> bits) & 31];
    }
  }
  if (bits > 0) out += ALPHABET[(acc << (5 - bits)) & 31];
  return out;
}

/**
 * Decodes Base32, case-insensitively, with or without trailing `=` padding.
 * Throws RangeError on a character outside the alphabet, padding anywhere but the end or
 * of the wrong length, a length no encoder produces (1, 3 or 6 characters in the last
 * group), or non-zero leftover bits — the last two mean the text was truncated or altered.
 */
export function base32Decode(text: string): Buffer {
  const end = text.replace(/=+$/, '');
  const rem = end.length % 8;
  if (rem === 1 || rem === 3 || rem === 6) throw new RangeError('Base32: invalid length');
  // Padding, when present, must exactly complete the last 8-character group: anything
  // else is a truncated or spliced string.
  const pad = text.length - end.length;
  if (pad > 0 && (rem === 0 || pad !== 8 - rem)) throw new RangeError('Base32: invalid padding');
  const out = Buffer.alloc(Math.floor((end.length * 5) / 8));
  let acc = 0;
  let bits = 0;
  let n = 0;
  for (let i = 0; i < end.length; i++) {
    const c = end.charCodeAt(i);
    const v = c < 128 ? DECODE[c]! : -1;
    if (v < 0) throw new RangeError(`Base32: invalid character at offset ${i}`);
    acc = ((acc << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >>> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) throw new RangeError('Base32: non-zero trailing bits');
  return out;
}
