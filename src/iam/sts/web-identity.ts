/**
 * Verifies OpenID Connect ID tokens (JWTs) for AssumeRoleWithWebIdentity.
 *
 * [CHOICE] AWS fetches an issuer's signing keys from its `jwks_uri` over TLS, trusting the
 * provider's certificate thumbprints. Kura never fetches: the operator configures each
 * trusted issuer with a JWKS file (config `oidcIssuers`), read and checked at start-up and
 * re-read when it changes (jwks-file.ts).
 * A token from an issuer without configured keys is refused, whatever IAM providers exist.
 * No outbound requests means no server-side request forgery through `iss`, and the same
 * answer offline as online. Signature checking, algorithms and time claims are left to
 * `jose`, a maintained implementation made for exactly this; `alg: none` and symmetric
 * algorithms are never accepted.
 */
import { createLocalJWKSet, decodeJwt, errors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { providerNameOf } from '../service/oidc.js';

/**
 * Clock skew allowed on `exp`, `nbf` and `iat` against the issuer's clock. Kubernetes and
 * GitHub set `nbf` to the issue time, so an issuer a few seconds ahead would otherwise make
 * fresh tokens fail; a minute keeps an expired token's extra life short.
 */
export const CLOCK_TOLERANCE_SECONDS = 60;

/** Asymmetric algorithms only: an HMAC "signature" would be checked with a public key as its secret. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** Where an issuer's current keys come from (jwks-file.ts: a file re-read when it changes); undefined = none usable now. */
export interface JwksSource {
  current(nowMs: number): Promise<JSONWebKeySet | undefined>;
}

export interface OidcIssuer {
  /** The issuer URL as tokens carry it in `iss`, e.g. https://token.actions.githubusercontent.com */
  issuer: string;
  /** Its public keys: fixed, or a source consulted on every token. */
  jwks: JSONWebKeySet | JwksSource;
}

const isSource = (j: JSONWebKeySet | JwksSource): j is JwksSource => typeof (j as Partial<JwksSource>).current === 'function';

export class WebIdentityError extends Error {
  constructor(readonly code: 'InvalidIdentityToken' | 'ExpiredTokenException', message: string) {
    super(message);
    this.name = 'WebIdentityError';
  }
}

export interface VerifiedToken {
  /** `iss` as the token carries it. */
  issuer: string;
  /** The provider name `iss` gives (host and path, no scheme), as IAM provider ARNs spell it. */
  providerName: string;
  subject: string;
  /** Every audience the token names. */
  audiences: string[];
  claims: JWTPayload;
}

const invalid = (message: string): WebIdentityError => new WebIdentityError('InvalidIdentityToken', message);

/** Checks that a parsed JSON document is a JWKS with at least one public key; throws with a reason otherwise. */
export function checkJwks(doc: unknown, where: string): JSONWebKeySet {
  const keys = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new Error(`${where}: not a JWKS (an object with a non-empty "keys" array)`);
  for (const k of keys as Record<string, unknown>[]) {
    if (typeof k !== 'object' || k === null || typeof k.kty !== 'string') throw new Error(`${where}: every key needs a "kty"`);
    if (k.kty === 'oct') throw new Error(`${where}: symmetric ("oct") keys cannot verify identity tokens`);
    if ('d' in k) throw new Error(`${where}: holds a private key; configure the issuer's public keys only`);
  }
  return doc as JSONWebKeySet;
}

export class WebIdentityVerifier {
  // By the issuer exactly as configured: OpenID Connect compares `iss` as a string, so a
  // token whose `iss` differs in any way (case, trailing slash, port) is not this issuer's.
  private readonly issuers = new Map<string, { name: string; source: JwksSource }>();
  /** The key-selection function jose builds for each key set, made once per set. */
  private readonly keySets = new WeakMap<JSONWebKeySet, ReturnType<typeof createLocalJWKSet>>();

  constructor(issuers: readonly OidcIssuer[]) {
    const names = new Set<string>();
    for (const i of issuers) {
      const name = providerNameOf(i.issuer);
      if (name === undefined) throw new Error(`OIDC issuer ${JSON.stringify(i.issuer)} must be a plain https URL (host, optional port and path; no query, fragment or escapes)`);
      if (names.has(name)) throw new Error(`OIDC issuer ${JSON.stringify(i.issuer)} is configured twice`);
      names.add(name);
      const fixed = i.jwks;
      this.issuers.set(i.issuer, { name, source: isSource(fixed) ? fixed : { current: async () => fixed } });
    }
  }

  /** Verifies a token's signature, issuer, subject, audience and times at `nowMs`; throws WebIdentityError. */
  async verify(token: string, nowMs: number): Promise<VerifiedToken> {
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      throw invalid('The ID token provided is not a valid JWT.');
    }
    const issuer = unverified.iss;
    const known = typeof issuer === 'string' ? this.issuers.get(issuer) : undefined;
    const jwks = issuer === undefined || known === undefined ? undefined : await known.source.current(nowMs);
    if (issuer === undefined || known === undefined || jwks === undefined) {
      throw invalid('Couldn\'t retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements');
    }
    let keys = this.keySets.get(jwks);
    if (keys === undefined) {
      keys = createLocalJWKSet(jwks);
      this.keySets.set(jwks, keys);
    }
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, keys, { issuer, algorithms: ALGORITHMS, currentDate: new Date(nowMs), clockTolerance: CLOCK_TOLERANCE_SECONDS, requiredClaims: ['iss', 'sub', 'aud', 'exp'] }));
    } catch (e) {
      if (e instanceof errors.JWTExpired) throw new WebIdentityError('ExpiredTokenException', 'Token is expired');
      if (e instanceof errors.JWSSignatureVerificationFailed || e instanceof errors.JWKSNoMatchingKey) throw invalid('The ID token signature could not be verified.');
      throw invalid(`The ID token is not valid: ${(e as Error).message}`);
    }
    if (typeof claims.sub !== 'string' || claims.sub === '') throw invalid('The ID token has no subject (sub).');
    const aud = claims.aud;
    const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
    if (audiences.length === 0) throw invalid('The ID token has no audience (aud).');
    return { issuer, providerName: known.name, subject: claims.sub, audiences, claims };
  }
}
