/**
 * Parsing of the two places SigV4 parameters travel: the Authorization header and the
 * X-Amz-* query parameters of a presigned URL. Parsing is a linear scan (no regular
 * expressions over attacker input) and every failure is an S3Error with AWS's wording.
 */
import { s3error } from '../../errors/s3-errors.js';
import { isScopeDate, parseAmzDate } from './amz-date.js';
import { credentialError, headerMalformed, queryParamsError, type AuthForm } from './auth-errors.js';
import { queryValue, type QueryParam } from './query.js';
import type { CredentialScope } from './signing-key.js';
import { SIGV4_ALGORITHM } from './string-to-sign.js';

export const SIGV4A_ALGORITHM = 'AWS4-ECDSA-P256-SHA256';
const TERMINAL = 'aws4_request';

/** The five parts of `AKID/yyyyMMdd/region/service/aws4_request`, unvalidated. */
export interface RawCredential {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  terminal: string;
}

/** What the Authorization header or the presigning parameters say, before any check against the request. */
export interface ParsedSigV4 {
  credential: RawCredential;
  /** Lower-cased, in the order the client listed them. */
  signedHeaders: string[];
  signature: string;
}

/** The presigned form additionally carries its own date, lifetime and session token. */
export interface ParsedPresigned extends ParsedSigV4 {
  amzDate: string;
  requestTime: Date;
  expiresRaw: string;
  expiresSeconds: number;
  securityToken: string | undefined;
}

const CREDENTIAL_FORMAT = 'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".';

/** Splits a Credential value into its five '/'-separated parts; anything else is mal-formed. */
export function parseCredential(value: string, form: AuthForm): RawCredential {
  const parts = value.split('/', 6);
  if (parts.length !== 5 || parts[0]!.length === 0) throw credentialError(form, CREDENTIAL_FORMAT);
  const [accessKeyId, date, region, service, terminal] = parts as [string, string, string, string, string];
  return { accessKeyId, date, region, service, terminal };
}

/** Checks a credential's scope against this endpoint (date syntax, region, service, terminal) and returns it. */
export function validateCredentialScope(
  cred: RawCredential,
  form: AuthForm,
  region: string,
  services: readonly string[],
): CredentialScope {
  if (!isScopeDate(cred.date)) {
    throw credentialError(form, `incorrect date format "${cred.date}". This date in the credential must be in the format "yyyyMMdd".`);
  }
  if (cred.region !== region) {
    throw credentialError(form, `the region '${cred.region}' is wrong; expecting '${region}'`, { Region: region });
  }
  if (!services.includes(cred.service)) {
    throw credentialError(form, `incorrect service "${cred.service}". This endpoint belongs to "${services[0] ?? ''}".`);
  }
  if (cred.terminal !== TERMINAL) {
    throw credentialError(form, `incorrect terminal "${cred.terminal}". This endpoint uses "${TERMINAL}".`);
  }
  return { date: cred.date, region: cred.region, service: cred.service };
}

/** Splits a SignedHeaders value; names are lower-cased and must be non-empty. Undefined when malformed. */
function splitSignedHeaders(value: string): string[] | undefined {
  if (value.length === 0) return [];
  const names = value.split(';');
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (name.length === 0) return undefined;
    names[i] = name.toLowerCase();
  }
  return names;
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

function trimBlanks(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isBlank(s.charCodeAt(a))) a++;
  while (b > a && isBlank(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/**
 * Parses `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`. Like AWS it accepts any
 * run of blanks after the algorithm and around the ',' and '=' separators, and components in
 * any order; it rejects unknown, repeated or missing components.
 */
export function parseAuthorizationHeader(value: string): ParsedSigV4 {
  if (!value.startsWith(SIGV4_ALGORITHM)) {
    throw s3error('InvalidArgument', 'Unsupported Authorization Type', { ArgumentName: 'Authorization', ArgumentValue: value });
  }
  const rest = value.slice(SIGV4_ALGORITHM.length);
  if (rest.length > 0 && !isBlank(rest.charCodeAt(0))) {
    throw s3error('InvalidArgument', 'Unsupported Authorization Type', { ArgumentName: 'Authorization', ArgumentValue: value });
  }
  let credential: string | undefined;
  let signedHeaders: string | undefined;
  let signature: string | undefined;
  for (const piece of rest.split(',')) {
    const component = trimBlanks(piece);
    if (component.length === 0) continue;
    const eq = component.indexOf('=');
    const name = eq > 0 ? trimBlanks(component.slice(0, eq)) : '';
    const val = eq > 0 ? trimBlanks(component.slice(eq + 1)) : '';
    if (name === 'Credential' && credential === undefined) credential = val;
    else if (name === 'SignedHeaders' && signedHeaders === undefined) signedHeaders = val;
    else if (name === 'Signature' && signature === undefined) signature = val;
    else throw headerMalformed(`the authorization component "${component}" is malformed.`);
  }
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    throw headerMalformed('the authorization header requires three components: Credential, SignedHeaders, and Signature.');
  }
  const names = splitSignedHeaders(signedHeaders);
  if (names === undefined) throw headerMalformed(`the authorization component "SignedHeaders=${signedHeaders}" is malformed.`);
  return { credential: parseCredential(credential, 'header'), signedHeaders: names, signature };
}

const MAX_EXPIRES_SECONDS = 604800;
const MISSING_PARAMS =
  'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.';

/** Whether the query carries any SigV4 presigning parameter (and so must be a valid presigned URL). */
export function hasPresignedParams(params: readonly QueryParam[]): boolean {
  for (const p of params) {
    if (p.name === 'X-Amz-Algorithm' || p.name === 'X-Amz-Credential' || p.name === 'X-Amz-Signature') return true;
  }
  return false;
}

/** Reads and syntax-checks the X-Amz-* presigning parameters; throws AuthorizationQueryParametersError (NotImplemented for SigV4a). */
export function parsePresignedQuery(params: readonly QueryParam[]): ParsedPresigned {
  const algorithm = queryValue(params, 'X-Amz-Algorithm');
  const credential = queryValue(params, 'X-Amz-Credential');
  const signature = queryValue(params, 'X-Amz-Signature');
  const amzDate = queryValue(params, 'X-Amz-Date');
  const signedHeaders = queryValue(params, 'X-Amz-SignedHeaders');
  const expires = queryValue(params, 'X-Amz-Expires');
  if (algorithm === SIGV4A_ALGORITHM) throw s3error('NotImplemented', undefined, { Header: 'X-Amz-Algorithm' });
  if (algorithm !== undefined && algorithm !== SIGV4_ALGORITHM) {
    throw queryParamsError('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  }
  if (
    algorithm === undefined ||
    credential === undefined ||
    signature === undefined ||
    amzDate === undefined ||
    signedHeaders === undefined ||
    expires === undefined
  ) {
    throw queryParamsError(MISSING_PARAMS);
  }
  const requestTime = parseAmzDate(amzDate);
  if (requestTime === undefined) throw queryParamsError(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`);
  const expiresSeconds = parseExpires(expires);
  const names = splitSignedHeaders(signedHeaders);
  if (names === undefined) throw queryParamsError('SignedHeaders is malformed.');
  return {
    credential: parseCredential(credential, 'query'),
    signedHeaders: names,
    signature,
    amzDate,
    requestTime,
    expiresRaw: expires,
    expiresSeconds,
    securityToken: queryValue(params, 'X-Amz-Security-Token'),
  };
}

/** X-Amz-Expires: a decimal integer of seconds in 0..604800, with AWS's message for each way it can be wrong. */
function parseExpires(raw: string): number {
  let i = 0;
  let negative = false;
  if (raw.charCodeAt(0) === 45 /* - */) {
    negative = true;
    i = 1;
  }
  if (i >= raw.length) throw queryParamsError('X-Amz-Expires should be a number');
  let value = 0;
  for (; i < raw.length; i++) {
    const c = raw.charCodeAt(i) - 48;
    if (c < 0 || c > 9) throw queryParamsError('X-Amz-Expires should be a number');
    // Saturate: any value this large is rejected below, and it keeps the loop in safe integers.
    value = Math.min(value * 10 + c, 1e12);
  }
  if (negative && value > 0) throw queryParamsError('X-Amz-Expires must be non-negative');
  if (value > MAX_EXPIRES_SECONDS) {
    throw queryParamsError(
      'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds',
    );
  }
  return value;
}
