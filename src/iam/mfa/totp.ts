/**
 * Time-based one-time passwords for IAM virtual MFA devices: RFC 4226 HOTP and RFC 6238
 * TOTP with the parameters every authenticator app defaults to and AWS uses (HMAC-SHA1,
 * 30-second steps, 6 digits). Pure: the clock is always an argument, and ReplayGuard keeps
 * its state in memory for the caller to persist.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const TOTP_STEP_SECONDS = 30;
export const TOTP_DIGITS = 6;

/** The RFC 6238 time-step counter for an instant (T0 = Unix epoch). */
export function counterAt(timeMs: number): number {
  return Math.floor(timeMs / 1000 / TOTP_STEP_SECONDS);
}

function checkDigits(digits: number): void {
  // Dynamic truncation yields 31 bits, so more than 10 digits would only add leading zeros.
  if (!Number.isInteger(digits) || digits < 1 || digits > 10) throw new RangeError(`TOTP: digits must be 1-10, got ${digits}`);
}

/** RFC 4226 HOTP: the code for one counter value, zero-padded to `digits`. */
export function hotp(secret: Uint8Array, counter: number, digits: number = TOTP_DIGITS): string {
  checkDigits(digits);
  if (!Number.isSafeInteger(counter) || counter < 0) throw new RangeError(`HOTP: counter must be a non-negative integer, got ${counter}`);
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', secret).update(msg).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const bin = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(bin % 10 ** digits).padStart(digits, '0');
}

/** RFC 6238 TOTP: the code shown at `timeMs`. */
export function totp(secret: Uint8Array, timeMs: number, digits: number = TOTP_DIGITS): string {
  return hotp(secret, counterAt(timeMs), digits);
}

function wellFormed(code: string, digits: number): boolean {
  return code.length === digits && /^[0-9]+$/.test(code);
}

/**
 * Constant-time match of a well-formed code against the code for `counter`. The shape of
 * the code is not secret, so a malformed one is turned away before any comparison.
 */
function matches(secret: Uint8Array, counter: number, given: Buffer, digits: number): boolean {
  if (counter < 0) return false;
  return timingSafeEqual(Buffer.from(hotp(secret, counter, digits)), given);
}

export interface VerifyOptions {
  /** Steps accepted either side of now, for clock skew and typing time. Default 1 (RFC 6238 §5.2's recommendation). */
  window?: number;
  digits?: number;
}

/**
 * Checks a TOTP code. Returns the time-step counter it matched — the caller hands that to
 * a ReplayGuard — or undefined. Every step in the window is computed and compared, so the
 * time taken does not reveal which step (if any) matched.
 */
export function verifyTotp(secret: Uint8Array, code: string, nowMs: number, opts: VerifyOptions = {}): number | undefined {
  const window = opts.window ?? 1;
  const digits = opts.digits ?? TOTP_DIGITS;
  checkDigits(digits);
  if (!wellFormed(code, digits)) return undefined;
  const given = Buffer.from(code);
  const now = counterAt(nowMs);
  let found: number | undefined;
  // Nearest step first: should two steps in the window share a code (odds ~1e-6), the
  // current one is the likelier meaning, and the one a replay check should record.
  for (let d = 0; d <= window; d++) {
    for (const c of d === 0 ? [now] : [now - d, now + d]) {
      if (matches(secret, c, given, digits) && found === undefined) found = c;
    }
  }
  return found;
}

/**
 * Rejects reuse of an accepted code: AWS refuses a TOTP code that has already been used,
 * which also rules out an older code still inside the window. Per device (keyed by serial
 * number), it remembers the last accepted counter and accepts only later ones.
 *
 * In memory only: a server that restarts or runs several processes must persist
 * `lastAccepted` alongside the device (and seed the guard from it), or a captured code
 * becomes replayable for the rest of its window.
 */
export class ReplayGuard {
  private readonly last = new Map<string, number>();

  constructor(initial: Iterable<readonly [serial: string, counter: number]> = []) {
    for (const [serial, counter] of initial) this.last.set(serial, counter);
  }

  lastAccepted(serial: string): number | undefined {
    return this.last.get(serial);
  }

  /** Records `counter` for the device if it is later than the last one accepted. */
  tryAccept(serial: string, counter: number): boolean {
    const prev = this.last.get(serial);
    if (prev !== undefined && counter <= prev) return false;
    this.last.set(serial, counter);
    return true;
  }

  /** verifyTotp, then tryAccept: the counter on success, undefined for a wrong or reused code. */
  verify(serial: string, secret: Uint8Array, code: string, nowMs: number, opts?: VerifyOptions): number | undefined {
    const counter = verifyTotp(secret, code, nowMs, opts);
    if (counter === undefined || !this.tryAccept(serial, counter)) return undefined;
    return counter;
  }

  /** Drops a device's state, for DeactivateMFADevice / DeleteVirtualMFADevice. */
  forget(serial: string): void {
    this.last.delete(serial);
  }
}

export interface EnableOptions {
  /**
   * Steps before now the first code may be from. Default 10 (five minutes): users read
   * two codes off the app in sequence and may take a while to submit them — AWS documents
   * that a late submission still enables the device.
   */
  lookBack?: number;
  /** Steps after now the second code may be from, for a device clock running fast. Default 1. */
  lookAhead?: number;
  digits?: number;
}

/**
 * Checks the two consecutive codes EnableMFADevice (and ResyncMFADevice, with a wider
 * window) takes: `code1` for some counter c and `code2` for c + 1, c + 1 ≤ now + lookAhead
 * and c ≥ now − lookBack. Returns c + 1 — the counter to seed a ReplayGuard with, so
 * neither code can be used to sign in — or undefined. The latest matching pair wins.
 */
export function verifyEnableCodes(secret: Uint8Array, code1: string, code2: string, nowMs: number, opts: EnableOptions = {}): number | undefined {
  const lookBack = opts.lookBack ?? 10;
  const lookAhead = opts.lookAhead ?? 1;
  const digits = opts.digits ?? TOTP_DIGITS;
  checkDigits(digits);
  if (!wellFormed(code1, digits) || !wellFormed(code2, digits)) return undefined;
  const g1 = Buffer.from(code1);
  const g2 = Buffer.from(code2);
  const now = counterAt(nowMs);
  let found: number | undefined;
  for (let c = now + lookAhead - 1; c >= now - lookBack; c--) {
    // Both comparisons always run: `&&` would skip the second and leak which half matched.
    const m1 = matches(secret, c, g1, digits);
    const m2 = matches(secret, c + 1, g2, digits);
    if (m1 && m2 && found === undefined) found = c + 1;
  }
  return found;
}

function labelPart(s: string, what: string): string {
  // Authenticator apps split the label on its first colon, some after percent-decoding it,
  // so an encoded colon is not enough (Key Uri Format: neither part may contain one).
  if (s.includes(':')) throw new RangeError(`otpauth: ${what} must not contain ':'`);
  // '@' is legal in a URI path and AWS leaves it bare (`user@account`).
  return encodeURIComponent(s).replace(/%40/g, '@');
}

/**
 * The `otpauth://` URI a virtual MFA QR code carries, shaped like AWS's QRCodePNG content:
 * `otpauth://totp/Amazon%20Web%20Services:alice@111122223333?secret=…&issuer=Amazon%20Web%20Services`.
 * Algorithm, digits and period are left out because they are the defaults, as AWS does.
 */
export function otpauthUri(accountName: string, issuer: string, secretBase32: string): string {
  const label = `${labelPart(issuer, 'issuer')}:${labelPart(accountName, 'account name')}`;
  return `otpauth://totp/${label}?secret=${encodeURIComponent(secretBase32)}&issuer=${encodeURIComponent(issuer)}`;
}
