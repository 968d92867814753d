/**
 * Stateless temporary credentials. Nothing about a session is stored: the session token
 * *is* the session — the identity to restore, the session facts and the secret access key,
 * sealed (AES-256-GCM under the service master key) and bound to the access key id. A
 * server that can unwrap the token can verify a SigV4 signature made with it, so sessions
 * survive restarts and work on every node sharing the keyring, and expire exactly.
 *
 * Token layout (then base64url, unpadded):
 *
 *   version (1 byte, 0x01) | kid length n (1 byte) | kid (n bytes, ASCII)
 *   | GCM IV (12) | GCM tag (16) | ciphertext
 *
 * The plaintext is the raw secret (SECRET_BYTES) followed by deflate-raw(JSON claims). The
 * AAD is Keyring.wrap's (label + kid) plus `kura:sts-session:v1\n<access key id>`, so the
 * version byte, the key id and the access key id are all authenticated. The secret is kept
 * out of the compressed part on purpose: compressing a secret together with text the
 * caller chose (a session policy, tags) would let the token's length leak the secret
 * (CRIME-style), whereas the claims hold nothing the holder does not already know.
 */
import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Keyring, WrappedKey } from '../../crypto/keyring.js';
import type { SessionFacts, SignedPrincipal } from '../../auth/principal.js';
import { IamError } from '../api/xml.js';

/** The identity a session restores; with the access key id it is exactly a SignedPrincipal. */
interface ClaimsBase {
  accountId: string;
  canonicalId: string;
  session: SessionFacts;
}

export type SessionClaims =
  | ({ kind: 'account-root' } & ClaimsBase)
  | ({ kind: 'iam-user'; userName: string; userId: string; path: string } & ClaimsBase)
  | ({ kind: 'assumed-role'; roleName: string; roleId: string; path: string; sessionName: string } & ClaimsBase);

export interface IssuedSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

export type OpenedSession = { secretAccessKey: string; claims: SessionClaims } | { error: 'InvalidToken' | 'ExpiredToken' };

const TOKEN_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** 240 bits; base64 of 30 bytes is 40 characters, the length of an AWS secret access key. */
const SECRET_BYTES = 30;
/**
 * Upper bound on a token we are willing to decode. Issued tokens stay far below it (the
 * packed policy limit bounds the only large claims); the cap keeps hostile input from
 * costing more than a length check.
 */
export const MAX_TOKEN_CHARS = 8192;
/** Inflated claims larger than this are not ours: a guard against decompression bombs. */
const MAX_CLAIMS_BYTES = 64 * 1024;

/**
 * Budget for the packed session policies and session tags (deflate-raw of their JSON),
 * bytes. AWS does not publish its packed limit; this one admits a typical 2,048-character
 * session policy (deflate roughly halves policy JSON) alongside a few tags, and refuses
 * incompressible or tag-heavy requests the way AWS's PackedPolicyTooLarge does. It also
 * keeps every token around or under 2 KB.
 */
export const PACKED_POLICY_LIMIT = 1024;

// AWS's temporary key ids are `ASIA` + 16 characters of the base32 alphabet.
const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const ACCESS_KEY_ID_RE = /^ASIA[A-Z0-9]{16}$/;

function newAccessKeyId(): string {
  let s = 'ASIA';
  // 256 = 8 × 32: every byte maps to one character without bias.
  for (const b of randomBytes(16)) s += KEY_ALPHABET[b % 32];
  return s;
}

function tokenAad(accessKeyId: string): Buffer {
  return Buffer.from(`kura:sts-session:v${TOKEN_VERSION}\n${accessKeyId}`, 'utf8');
}

// ---- the packed policy ------------------------------------------------------------------

/** The part of a session AWS counts against PackedPolicyTooLarge: session policies and tags. */
export function packedPolicyBytes(s: Pick<SessionFacts, 'policy' | 'policyArns' | 'tags'>): number {
  if (s.policy === undefined && (s.policyArns ?? []).length === 0 && Object.keys(s.tags ?? {}).length === 0) return 0;
  const json = JSON.stringify([s.policy ?? null, s.policyArns ?? [], Object.entries(s.tags ?? {})]);
  return deflateRawSync(Buffer.from(json, 'utf8')).length;
}

/** PackedPolicySize as AWS reports it: the percentage of the limit used, rounded up. */
export function packedPolicyPercent(bytes: number): number {
  return Math.ceil((bytes * 100) / PACKED_POLICY_LIMIT);
}

/** Throws PackedPolicyTooLarge (with AWS's wording) when the packed policies and tags exceed the limit; returns the percentage. */
export function checkPackedPolicy(s: Pick<SessionFacts, 'policy' | 'policyArns' | 'tags'>): number {
  const percent = packedPolicyPercent(packedPolicyBytes(s));
  if (percent > 100) {
    throw new IamError('PackedPolicyTooLarge', `Packed policy consumes ${percent}% of allotted space, please use smaller policy for session.`);
  }
  return percent;
}

// ---- claims on the wire -----------------------------------------------------------------

/** Claims with short keys: a token travels on every request. Presence of optional members is preserved. */
interface WireClaims {
  k: 'r' | 'u' | 'a';
  a: string;
  c: string;
  n?: string;
  i?: string;
  p?: string;
  s?: string;
  t0: string;
  t1: string;
  m?: string;
  po?: string;
  pa?: string[];
  tg?: [string, string][];
  tt?: string[];
  si?: string;
}

function toWire(c: SessionClaims): WireClaims {
  const s = c.session;
  const w: WireClaims = { k: c.kind === 'account-root' ? 'r' : c.kind === 'iam-user' ? 'u' : 'a', a: c.accountId, c: c.canonicalId, t0: s.issuedAt, t1: s.expiresAt };
  if (c.kind === 'iam-user') {
    w.n = c.userName;
    w.i = c.userId;
    w.p = c.path;
  } else if (c.kind === 'assumed-role') {
    w.n = c.roleName;
    w.i = c.roleId;
    w.p = c.path;
    w.s = c.sessionName;
  }
  if (s.mfaAuthenticatedAt !== undefined) w.m = s.mfaAuthenticatedAt;
  if (s.policy !== undefined) w.po = s.policy;
  if (s.policyArns !== undefined) w.pa = [...s.policyArns];
  if (s.tags !== undefined) w.tg = Object.entries(s.tags);
  if (s.transitiveTagKeys !== undefined) w.tt = [...s.transitiveTagKeys];
  if (s.sourceIdentity !== undefined) w.si = s.sourceIdentity;
  return w;
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const isStrList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);

/** The claims of an authenticated plaintext; undefined when the shape is not v1's (fail closed). */
function fromWire(v: unknown): SessionClaims | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const w = v as Partial<Record<keyof WireClaims, unknown>>;
  if (!isStr(w.a) || !isStr(w.c) || !isStr(w.t0) || !isStr(w.t1)) return undefined;
  const session: SessionFacts = { issuedAt: w.t0, expiresAt: w.t1 };
  if (w.m !== undefined) {
    if (!isStr(w.m)) return undefined;
    session.mfaAuthenticatedAt = w.m;
  }
  if (w.po !== undefined) {
    if (!isStr(w.po)) return undefined;
    session.policy = w.po;
  }
  if (w.pa !== undefined) {
    if (!isStrList(w.pa)) return undefined;
    session.policyArns = w.pa;
  }
  if (w.tg !== undefined) {
    if (!Array.isArray(w.tg) || !w.tg.every((e) => Array.isArray(e) && e.length === 2 && isStr(e[0]) && isStr(e[1]))) return undefined;
    // fromEntries defines own properties, so a tag named __proto__ stays a tag.
    session.tags = Object.fromEntries(w.tg as [string, string][]);
  }
  if (w.tt !== undefined) {
    if (!isStrList(w.tt)) return undefined;
    session.transitiveTagKeys = w.tt;
  }
  if (w.si !== undefined) {
    if (!isStr(w.si)) return undefined;
    session.sourceIdentity = w.si;
  }
  const base = { accountId: w.a, canonicalId: w.c, session };
  switch (w.k) {
    case 'r':
      return { kind: 'account-root', ...base };
    case 'u':
      if (!isStr(w.n) || !isStr(w.i) || !isStr(w.p)) return undefined;
      return { kind: 'iam-user', userName: w.n, userId: w.i, path: w.p, ...base };
    case 'a':
      if (!isStr(w.n) || !isStr(w.i) || !isStr(w.p) || !isStr(w.s)) return undefined;
      return { kind: 'assumed-role', roleName: w.n, roleId: w.i, path: w.p, sessionName: w.s, ...base };
    default:
      return undefined;
  }
}

// ---- issue and open ---------------------------------------------------------------------

/**
 * Mints temporary credentials for `claims`. The expiry is claims.session.expiresAt, which
 * must be later than nowMs. Throws PackedPolicyTooLarge when the session policies and tags
 * exceed PACKED_POLICY_LIMIT (callers check first to report the percentage; this is the
 * backstop that keeps every token small).
 */
export function issueSession(keyring: Keyring, claims: SessionClaims, nowMs: number): IssuedSession {
  const issued = Date.parse(claims.session.issuedAt);
  const expires = Date.parse(claims.session.expiresAt);
  if (Number.isNaN(issued) || Number.isNaN(expires) || expires <= nowMs || expires <= issued) {
    throw new RangeError('issueSession: the session must have valid issue and expiry times, expiring after now');
  }
  checkPackedPolicy(claims.session);
  const accessKeyId = newAccessKeyId();
  const secret = randomBytes(SECRET_BYTES);
  const body = deflateRawSync(Buffer.from(JSON.stringify(toWire(claims)), 'utf8'));
  const w = keyring.wrap(Buffer.concat([secret, body]), tokenAad(accessKeyId));
  const kid = Buffer.from(w.kid, 'ascii');
  const token = Buffer.concat([
    Buffer.from([TOKEN_VERSION, kid.length]),
    kid,
    Buffer.from(w.iv, 'base64'),
    Buffer.from(w.tag, 'base64'),
    Buffer.from(w.ct, 'base64'),
  ]);
  return { accessKeyId, secretAccessKey: secret.toString('base64'), sessionToken: token.toString('base64url'), expiration: new Date(expires) };
}

/**
 * Opens a session token presented with accessKeyId. Never throws: anything malformed,
 * tampered with, sealed under an unknown master key or presented with another access key
 * id is InvalidToken; an authentic token at or after its expiry is ExpiredToken.
 */
export function openSession(keyring: Keyring, accessKeyId: string, sessionToken: string, nowMs: number): OpenedSession {
  const invalid = { error: 'InvalidToken' } as const;
  try {
    if (typeof sessionToken !== 'string' || sessionToken.length > MAX_TOKEN_CHARS || !ACCESS_KEY_ID_RE.test(accessKeyId)) return invalid;
    const raw = Buffer.from(sessionToken, 'base64url');
    // Buffer.from skips characters outside the alphabet and ignores trailing bits, so more
    // than one string decodes to the same bytes; only the canonical spelling is the token.
    if (raw.toString('base64url') !== sessionToken) return invalid;
    if (raw.length < 2 || raw[0] !== TOKEN_VERSION) return invalid;
    const kidLen = raw[1]!;
    const ivAt = 2 + kidLen;
    const tagAt = ivAt + IV_BYTES;
    const ctAt = tagAt + TAG_BYTES;
    if (kidLen === 0 || raw.length <= ctAt + SECRET_BYTES) return invalid;
    const kid = raw.subarray(2, ivAt).toString('latin1');
    if (!/^[A-Za-z0-9._-]+$/.test(kid)) return invalid;
    const w: WrappedKey = {
      v: 1,
      kid,
      iv: raw.subarray(ivAt, tagAt).toString('base64'),
      tag: raw.subarray(tagAt, ctAt).toString('base64'),
      ct: raw.subarray(ctAt).toString('base64'),
    };
    const plain = keyring.unwrap(w, tokenAad(accessKeyId));
    if (plain.length <= SECRET_BYTES) return invalid;
    const json = inflateRawSync(plain.subarray(SECRET_BYTES), { maxOutputLength: MAX_CLAIMS_BYTES }).toString('utf8');
    const claims = fromWire(JSON.parse(json));
    if (!claims) return invalid;
    const expires = Date.parse(claims.session.expiresAt);
    if (Number.isNaN(expires)) return invalid;
    if (nowMs >= expires) return { error: 'ExpiredToken' };
    return { secretAccessKey: plain.subarray(0, SECRET_BYTES).toString('base64'), claims };
  } catch {
    // Unknown key id, failed authentication, corrupt deflate or JSON: all the same to the caller.
    return invalid;
  }
}

/** The principal a session's requests are made as. */
export function principalFromClaims(claims: SessionClaims, accessKeyId: string): SignedPrincipal {
  return { ...claims, accessKeyId };
}

/** The claims that restore `p` (for GetSessionToken, which keeps the caller's identity). */
export function claimsOf(p: SignedPrincipal, session: SessionFacts): SessionClaims {
  switch (p.kind) {
    case 'account-root':
      return { kind: 'account-root', accountId: p.accountId, canonicalId: p.canonicalId, session };
    case 'iam-user':
      return { kind: 'iam-user', accountId: p.accountId, canonicalId: p.canonicalId, userName: p.userName, userId: p.userId, path: p.path, session };
    case 'assumed-role':
      return {
        kind: 'assumed-role', accountId: p.accountId, canonicalId: p.canonicalId,
        roleName: p.roleName, roleId: p.roleId, path: p.path, sessionName: p.sessionName, session,
      };
  }
}

/**
 * The authentication layer's view (auth/authenticate.ts SessionOpener): the secret to
 * verify the signature with and the principal the request is made as.
 */
export function sessionOpener(keyring: Keyring): {
  open(accessKeyId: string, sessionToken: string, nowMs: number): { secret: string; principal: SignedPrincipal } | { error: 'InvalidToken' | 'ExpiredToken' };
} {
  return {
    open(accessKeyId, sessionToken, nowMs) {
      const r = openSession(keyring, accessKeyId, sessionToken, nowMs);
      if ('error' in r) return r;
      return { secret: r.secretAccessKey, principal: principalFromClaims(r.claims, accessKeyId) };
    },
  };
}
