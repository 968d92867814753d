/**
 * Browser-based POST uploads: the policy document, the form's signature (SigV4 or SigV2) and the
 * policy's conditions. Parsing multipart/form-data is not done here; callers hand in the form fields
 * that precede the `file` part (S3 ignores fields after it).
 *
 * Error codes and messages follow what S3 returns (see CHUNKED.md, "POST policy").
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { S3Error, s3error } from '../../errors/s3-errors.js';
import { deriveSigningKey, hmac } from './signing-key.js';

export type PostCondition =
  /** Exact match: `{"acl": "public-read"}` or `["eq", "$acl", "public-read"]`. `field` is lower-case, without `$`. */
  | { type: 'eq'; field: string; value: string; source: string }
  /** Prefix match: `["starts-with", "$key", "user/"]`; an empty prefix allows any value (the field must still be sent). */
  | { type: 'starts-with'; field: string; value: string; source: string }
  /** `["content-length-range", min, max]`: bounds on the file's size, checked by the caller. */
  | { type: 'content-length-range'; min: number; max: number; source: string };

export interface PostPolicy { expiration: Date; conditions: PostCondition[] }

export interface PostSignatureOptions {
  now: Date;
  region: string;
  lookupSecret(akid: string): string | undefined;
  allowSigV2: boolean;
}

export interface VerifiedPostSignature { version: 'v2' | 'v4'; accessKeyId: string; policy: PostPolicy }

const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';

function invalidPolicy(message: string): S3Error {
  return s3error('InvalidPolicyDocument', `Invalid Policy: ${message}`);
}

function conditionFailed(source: string): S3Error {
  return s3error('AccessDenied', `Invalid according to Policy: Policy Condition failed: ${source}`);
}

/** S3 spells the signing fields this way in its error messages, whatever case the form used. */
const CANONICAL_FIELD_NAMES: Readonly<Record<string, string>> = {
  'x-amz-algorithm': 'X-Amz-Algorithm',
  'x-amz-credential': 'X-Amz-Credential',
  'x-amz-date': 'X-Amz-Date',
  'x-amz-signature': 'X-Amz-Signature',
  awsaccesskeyid: 'AWSAccessKeyId',
};

function missingField(field: string): S3Error {
  const name = CANONICAL_FIELD_NAMES[field] ?? field;
  return s3error('InvalidArgument',
    `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`,
    { ArgumentName: name, ArgumentValue: '' });
}

function credentialError(credential: string, message: string, extra: Record<string, string> = {}): S3Error {
  return s3error('InvalidArgument', message, { ArgumentName: 'X-Amz-Credential', ArgumentValue: credential, ...extra });
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeBase64(text: string): Buffer {
  // Some encoders wrap base64 at 76 columns; the line breaks carry no data.
  const compact = text.replace(/[\s]+/g, '');
  if (compact.length === 0) throw invalidPolicy("Expecting '{' but found End-of-Input");
  const padded = compact.endsWith('=');
  if (!BASE64.test(compact) || (padded && compact.length % 4 !== 0) || compact.length % 4 === 1) {
    throw invalidPolicy('invalid Base64 encoding.');
  }
  return Buffer.from(compact, 'base64');
}

const ISO8601 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** Strict ISO 8601 date-time (what S3 documents for `expiration`); undefined unless every field is in range. */
function parseIsoDate(text: string): Date | undefined {
  const m = ISO8601.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) return undefined;
  const millis = Number(((m[7] ?? '') + '000').slice(0, 3));
  const zone = m[8] as string;
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const [oh, om] = zone.slice(1).split(':').map(Number) as [number, number];
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = sign * (oh * 60 + om);
  }
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
  return new Date(utc);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function lengthBound(v: unknown): number {
  // S3 takes the bounds as JSON integers or as quoted decimal integers.
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d{1,15}$/.test(v)) return Number(v);
  throw invalidPolicy('Invalid JSON.');
}

function parseCondition(raw: unknown): PostCondition {
  if (isPlainObject(raw)) {
    const keys = Object.keys(raw);
    if (keys.length !== 1) {
      throw invalidPolicy('Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.');
    }
    const name = keys[0] as string;
    const value = raw[name];
    if (typeof value !== 'string') throw invalidPolicy('Invalid Simple-Condition: value must be a string.');
    return { type: 'eq', field: name.toLowerCase(), value, source: `[${['eq', `$${name}`, value].map((s) => JSON.stringify(s)).join(', ')}]` };
  }
  if (!Array.isArray(raw)) throw invalidPolicy('Invalid condition test: must be a List or Object.');
  if (raw.length === 0) throw invalidPolicy('Invalid Condition: missing operation identifier.');
  const op: unknown = raw[0];
  if (typeof op !== 'string') throw invalidPolicy('Invalid JSON.');
  const source = JSON.stringify(raw);
  // Operation names match case-insensitively on S3 (["StArTs-WiTh", …] is accepted).
  switch (op.toLowerCase()) {
    case 'eq':
    case 'starts-with': {
      if (raw.length !== 3) throw invalidPolicy(`Invalid ${op}: wrong number of arguments.`);
      const [, ref, value] = raw as [unknown, unknown, unknown];
      if (typeof ref !== 'string' || typeof value !== 'string') throw invalidPolicy('Invalid JSON.');
      // S3 rejects a field reference without its `$` as a failed condition, not as a malformed policy.
      if (!ref.startsWith('$') || ref.length === 1) throw conditionFailed(source);
      return { type: op.toLowerCase() as 'eq' | 'starts-with', field: ref.slice(1).toLowerCase(), value, source };
    }
    case 'content-length-range': {
      if (raw.length !== 3) throw invalidPolicy(`Invalid ${op}: wrong number of arguments.`);
      return { type: 'content-length-range', min: lengthBound(raw[1]), max: lengthBound(raw[2]), source };
    }
    default:
      throw invalidPolicy(`Invalid Condition: unknown operation '${op}'.`);
  }
}

/** Decodes and validates a base64 POST policy document; malformed → InvalidPolicyDocument as S3 words it. */
export function parsePostPolicy(base64: string): PostPolicy {
  const bytes = decodeBase64(base64);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalidPolicy('Invalid JSON.');
  }
  if (text.trim().length === 0) throw invalidPolicy("Expecting '{' but found End-of-Input");
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw invalidPolicy('Invalid JSON.');
  }
  if (!isPlainObject(doc)) throw invalidPolicy('Invalid JSON.');
  for (const key of Object.keys(doc)) {
    if (key !== 'expiration' && key !== 'conditions') throw invalidPolicy(`Unexpected: ${JSON.stringify(key)}`);
  }

  if (!('expiration' in doc)) throw invalidPolicy('Policy missing expiration.');
  const rawExpiration = doc.expiration;
  if (typeof rawExpiration !== 'string') throw invalidPolicy('Invalid JSON.');
  const expiration = parseIsoDate(rawExpiration);
  if (!expiration) throw invalidPolicy(`Invalid 'expiration' value: '${rawExpiration}'`);

  if (!('conditions' in doc)) throw invalidPolicy('Policy missing conditions.');
  const rawConditions = doc.conditions;
  if (!Array.isArray(rawConditions)) throw invalidPolicy("Invalid 'conditions' value: must be a List.");
  return { expiration, conditions: rawConditions.map(parseCondition) };
}

/** Form fields keyed by lower-case name (first occurrence wins), since S3 matches field names case-insensitively. */
function lowerCaseFields(fields: ReadonlyMap<string, string>): Map<string, { name: string; value: string }> {
  const out = new Map<string, { name: string; value: string }>();
  for (const [name, value] of fields) {
    const key = name.toLowerCase();
    if (!out.has(key)) out.set(key, { name, value });
  }
  return out;
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Verifies the form's signature: SigV4 fields (x-amz-algorithm, x-amz-credential, x-amz-date, x-amz-signature, policy;
 * signature = hex HMAC(signingKey, policy-base64)) or SigV2 (AWSAccessKeyId, signature = base64 HMAC-SHA1(secret,
 * policy-base64)). Field names are matched case-insensitively. Returns null when the form carries no credentials (anonymous).
 */
export function verifyPostSignature(fields: ReadonlyMap<string, string>, opts: PostSignatureOptions): VerifiedPostSignature | null {
  const form = lowerCaseFields(fields);
  // An empty field counts as absent, as it does for S3.
  const get = (name: string): string | undefined => {
    const value = form.get(name)?.value;
    return value === undefined || value === '' ? undefined : value;
  };
  const policyText = get('policy');
  const v4 = ['x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-signature'].some((n) => get(n) !== undefined);
  const v2 = get('awsaccesskeyid') !== undefined || get('signature') !== undefined;
  if (!v4 && !v2 && policyText === undefined) return null;

  if (v4 || !v2) {
    // Any one signing field makes the form a signed one, and then all of them are required.
    for (const name of ['policy', 'x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-signature']) {
      if (get(name) === undefined) throw missingField(name);
    }
    const algorithm = get('x-amz-algorithm') as string;
    const credential = get('x-amz-credential') as string;
    const amzDate = get('x-amz-date') as string;
    const signature = get('x-amz-signature') as string;
    const policy = policyText as string;
    if (algorithm !== SIGV4_ALGORITHM) {
      throw s3error('InvalidArgument', `X-Amz-Algorithm only supports "${SIGV4_ALGORITHM}"`, { ArgumentName: 'X-Amz-Algorithm', ArgumentValue: algorithm });
    }
    if (!/^\d{8}T\d{6}Z$/.test(amzDate)) {
      throw s3error('InvalidArgument', 'X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd\'T\'HHmmss\'Z\'"', { ArgumentName: 'X-Amz-Date', ArgumentValue: amzDate });
    }
    const parts = credential.split('/');
    if (parts.length !== 5 || parts.some((p) => p.length === 0)) {
      throw credentialError(credential, 'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".');
    }
    const [accessKeyId, date, region, service, terminal] = parts as [string, string, string, string, string];
    if (!/^\d{8}$/.test(date)) {
      throw credentialError(credential, `incorrect date format "${date}". This date in the credential must be in the format "yyyyMMdd".`);
    }
    if (region !== opts.region) {
      throw credentialError(credential, `the region '${region}' is wrong; expecting '${opts.region}'`, { Region: opts.region });
    }
    if (service !== 's3') throw credentialError(credential, `incorrect service "${service}". This endpoint belongs to "s3".`);
    if (terminal !== 'aws4_request') throw credentialError(credential, `incorrect terminal "${terminal}". This endpoint uses "aws4_request".`);

    const secret = opts.lookupSecret(accessKeyId);
    if (secret === undefined) throw s3error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: accessKeyId });
    const expected = hmac(deriveSigningKey(secret, { date, region, service }), policy);
    const provided = /^[0-9a-fA-F]{64}$/.test(signature) ? Buffer.from(signature, 'hex') : Buffer.alloc(0);
    if (!sameBytes(expected, provided)) {
      throw s3error('SignatureDoesNotMatch', undefined, { AWSAccessKeyId: accessKeyId, StringToSign: policy, SignatureProvided: signature });
    }
    return { version: 'v4', accessKeyId, policy: parsePostPolicy(policy) };
  }

  if (!opts.allowSigV2) {
    throw s3error('InvalidRequest', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
  }
  for (const name of ['awsaccesskeyid', 'policy', 'signature']) {
    if (get(name) === undefined) throw missingField(name);
  }
  const accessKeyId = get('awsaccesskeyid') as string;
  const signature = get('signature') as string;
  const policy = policyText as string;
  const secret = opts.lookupSecret(accessKeyId);
  if (secret === undefined) throw s3error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: accessKeyId });
  const expected = createHmac('sha1', secret).update(policy).digest();
  const provided = /^[A-Za-z0-9+/]{27}=$/.test(signature) ? Buffer.from(signature, 'base64') : Buffer.alloc(0);
  if (!sameBytes(expected, provided)) {
    throw s3error('SignatureDoesNotMatch', undefined, { AWSAccessKeyId: accessKeyId, StringToSign: policy, SignatureProvided: signature });
  }
  return { version: 'v2', accessKeyId, policy: parsePostPolicy(policy) };
}

/** Fields S3 never requires a condition for; the signature's own fields depend on the signature version. */
function isExempt(field: string, sigV2: boolean): boolean {
  if (field === 'file' || field === 'policy' || field.startsWith('x-ignore-')) return true;
  return sigV2 ? field === 'awsaccesskeyid' || field === 'signature' : field === 'x-amz-signature';
}

function startsWith(field: string, value: string, prefix: string): boolean {
  // For Content-Type S3 reads a comma-separated value as a list; every entry must match.
  if (field === 'content-type' && value.includes(',')) {
    return value.split(',').every((part) => part.trim().startsWith(prefix));
  }
  return value.startsWith(prefix);
}

/**
 * Checks every condition against the fields (eq, starts-with, exact-match object form {"key":"v"}; content-length-range
 * is left to the caller via contentLengthRange), and that every form field except x-amz-signature, file, policy and
 * x-ignore-* (AWSAccessKeyId and signature for SigV2 forms) is covered by a condition, as S3 requires. Throws
 * AccessDenied "Invalid according to Policy: …" as S3 words it; expired → "Invalid according to Policy: Policy expired."
 *
 * `fields` must already have `${filename}` in `key` replaced by the uploaded file's name: the conditions apply to the
 * key the object will get. `bucket` is the bucket the request targets; the policy's `bucket` condition is checked
 * against it, not against any form field. `now` defaults to the current time.
 */
export function checkPostPolicy(policy: PostPolicy, fields: ReadonlyMap<string, string>, bucket: string, now: Date = new Date()): void {
  if (policy.expiration.getTime() < now.getTime()) {
    throw s3error('AccessDenied', 'Invalid according to Policy: Policy expired.');
  }
  // Every occurrence counts: a field repeated under another letter case must satisfy the policy too,
  // whichever copy the caller ends up using.
  const values = new Map<string, string[]>();
  for (const [name, value] of fields) {
    const key = name.toLowerCase();
    values.set(key, [...(values.get(key) ?? []), value]);
  }
  const sigV2 = values.has('awsaccesskeyid') && !values.has('x-amz-signature');
  const covered = new Set<string>();
  for (const c of policy.conditions) if (c.type !== 'content-length-range') covered.add(c.field);
  for (const name of fields.keys()) {
    const field = name.toLowerCase();
    if (!isExempt(field, sigV2) && !covered.has(field)) {
      throw s3error('AccessDenied', `Invalid according to Policy: Extra input fields: ${name}`);
    }
  }
  for (const c of policy.conditions) {
    if (c.type === 'content-length-range') continue;
    const candidates = c.field === 'bucket' ? [bucket] : values.get(c.field);
    if (candidates === undefined) throw conditionFailed(c.source);
    for (const value of candidates) {
      const ok = c.type === 'eq' ? value === c.value : startsWith(c.field, value, c.value);
      if (!ok) throw conditionFailed(c.source);
    }
  }
}

/** The file-size bounds the policy sets (the intersection when it has several), or undefined when it sets none. */
export function contentLengthRange(policy: PostPolicy): { min: number; max: number } | undefined {
  let range: { min: number; max: number } | undefined;
  for (const c of policy.conditions) {
    if (c.type !== 'content-length-range') continue;
    range = range ? { min: Math.max(range.min, c.min), max: Math.min(range.max, c.max) } : { min: c.min, max: c.max };
  }
  return range;
}
