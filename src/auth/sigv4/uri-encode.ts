/**
 * RFC 3986 percent-encoding as SigV4 uses it. Everything works on the UTF-8 bytes of the
 * input, so arbitrary (even invalid) input is re-encoded losslessly and nothing here throws:
 * attacker-controlled paths and queries must never turn into anything but an S3Error later.
 */

const HEX = '0123456789ABCDEF';

// Indexed by ASCII code: 1 for RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~).
const UNRESERVED = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9\-._~]/.test(ch)) UNRESERVED[c] = 1;
}

// Pre-built "%XX" strings so the hot loop concatenates instead of formatting.
const PCT: string[] = [];
for (let b = 0; b < 256; b++) PCT.push(`%${HEX[b >> 4]}${HEX[b & 15]}`);

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Percent-encodes one code point's UTF-8 bytes. */
function encodeCodePoint(cp: number): string {
  if (cp < 0x800) return PCT[0xc0 | (cp >> 6)]! + PCT[0x80 | (cp & 63)]!;
  if (cp < 0x10000) return PCT[0xe0 | (cp >> 12)]! + PCT[0x80 | ((cp >> 6) & 63)]! + PCT[0x80 | (cp & 63)]!;
  return PCT[0xf0 | (cp >> 18)]! + PCT[0x80 | ((cp >> 12) & 63)]! + PCT[0x80 | ((cp >> 6) & 63)]! + PCT[0x80 | (cp & 63)]!;
}

/** Options of the shared encoder. */
interface EncodeMode {
  keepSlash: boolean;
  /** Treat `%XX` as an escape of byte XX (wire input) rather than a literal '%'. */
  decodePercent: boolean;
  /** A literal '+' means a space (form-style query strings). */
  plusAsSpace: boolean;
}

function encode(input: string, mode: EncodeMode): string {
  const n = input.length;
  let i = 0;
  // Most paths and queries are already canonical: return the input without building a copy.
  for (; i < n; i++) {
    const c = input.charCodeAt(i);
    if (c >= 128 || (UNRESERVED[c] === 0 && !(c === 47 && mode.keepSlash))) break;
  }
  if (i === n) return input;
  let out = input.slice(0, i);
  while (i < n) {
    const c = input.charCodeAt(i);
    if (c < 128) {
      if (UNRESERVED[c] === 1 || (c === 47 && mode.keepSlash)) {
        out += input[i];
        i++;
        continue;
      }
      if (c === 37 && mode.decodePercent && i + 2 < n) {
        const hi = hexValue(input.charCodeAt(i + 1));
        const lo = hi < 0 ? -1 : hexValue(input.charCodeAt(i + 2));
        if (lo >= 0) {
          const b = hi * 16 + lo;
          // An escaped unreserved byte is canonicalised to the bare character; everything else
          // (including an escaped '/') stays escaped, with upper-case hex.
          out += b < 128 && UNRESERVED[b] === 1 ? String.fromCharCode(b) : PCT[b]!;
          i += 3;
          continue;
        }
      }
      if (c === 43 && mode.plusAsSpace) {
        out += '%20';
        i++;
        continue;
      }
      out += PCT[c]!;
      i++;
      continue;
    }
    let cp = c;
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < n ? input.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      } else {
        cp = 0xfffd; // a lone surrogate has no UTF-8 form; TextEncoder uses U+FFFD too
      }
    }
    out += encodeCodePoint(cp);
    i++;
  }
  return out;
}

const WIRE_PATH: EncodeMode = { keepSlash: true, decodePercent: true, plusAsSpace: false };
const WIRE_QUERY: EncodeMode = { keepSlash: false, decodePercent: true, plusAsSpace: true };
const PLAIN_SLASH: EncodeMode = { keepSlash: true, decodePercent: false, plusAsSpace: false };
const PLAIN: EncodeMode = { keepSlash: false, decodePercent: false, plusAsSpace: false };

/** Re-encodes a path as received (percent-encoded) canonically: escapes decoded, then every byte outside the unreserved set and '/' encoded once. */
export function canonicalizeWirePath(rawPath: string): string {
  return encode(rawPath, WIRE_PATH);
}

/** Re-encodes one query name or value as received canonically ('+' is a space, as in HTML forms). */
export function canonicalizeWireQueryComponent(raw: string): string {
  return encode(raw, WIRE_QUERY);
}

/** AWS's UriEncode of an already-decoded string; '/' is kept only when `keepSlash`. */
export function uriEncode(value: string, keepSlash = false): string {
  return encode(value, keepSlash ? PLAIN_SLASH : PLAIN);
}

/** Percent-decodes a wire component to a string (invalid escapes stay literal, invalid UTF-8 becomes U+FFFD); never throws. */
export function percentDecode(raw: string, plusAsSpace: boolean): string {
  if (raw.indexOf('%') < 0 && (!plusAsSpace || raw.indexOf('+') < 0)) return raw;
  const bytes = Buffer.from(raw, 'utf8');
  let w = 0;
  for (let r = 0; r < bytes.length; r++) {
    const b = bytes[r]!;
    if (b === 37 && r + 2 < bytes.length) {
      const hi = hexValue(bytes[r + 1]!);
      const lo = hi < 0 ? -1 : hexValue(bytes[r + 2]!);
      if (lo >= 0) {
        bytes[w++] = hi * 16 + lo;
        r += 2;
        continue;
      }
    }
    bytes[w++] = b === 43 && plusAsSpace ? 32 : b;
  }
  return bytes.toString('utf8', 0, w);
}
