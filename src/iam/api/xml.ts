/**
 * Response and error bodies for the IAM and STS Query APIs, and the error catalogue they
 * share. Pure: strings in, strings out.
 *
 * Both services answer in the awsQuery XML shape, which differs from S3's REST-XML in ways
 * SDKs depend on: the root is `<{Action}Response>` in the service's namespace, the payload
 * sits in `<{Action}Result>` (SDKs read only that element), lists are wrapped in `<member>`
 * elements rather than repeated, and maps are `<entry><key/><value/></entry>`. Errors use
 * `<ErrorResponse>` with a `Type` of Sender or Receiver, not S3's bare `<Error>`.
 */
import { escapeXml } from '../../http/xml.js';

export const IAM_XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';
export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';
export const IAM_VERSION = '2010-05-08';
export const STS_VERSION = '2011-06-15';
/** IAM and STS send text/xml, not application/xml, on success and error alike. */
export const QUERY_XML_CONTENT_TYPE = 'text/xml';

/**
 * Codes, HTTP statuses and default messages. The modelled IAM/STS errors keep the code
 * from each shape's `awsQueryError` trait — SDKs map that code, not the HTTP status, to an
 * exception class — so STS's ExpiredTokenException (a bad web identity token) and the
 * front door's ExpiredToken (an expired session token) are different entries.
 */
const CATALOGUE = {
  // IAM modelled errors.
  ConcurrentModification: [409, 'The request was rejected because multiple requests to change this object were submitted simultaneously. Wait a few minutes and submit your request again.'],
  DeleteConflict: [409, 'The request was rejected because it attempted to delete a resource that has attached subordinate entities.'],
  EntityAlreadyExists: [409, 'The request was rejected because it attempted to create a resource that already exists.'],
  EntityTemporarilyUnmodifiable: [409, 'The request was rejected because it referenced an entity that is temporarily unmodifiable. Try again after waiting several minutes.'],
  InvalidAuthenticationCode: [403, 'The request was rejected because the authentication code was not recognized.'],
  InvalidInput: [400, 'The request was rejected because an invalid or out-of-range value was supplied for an input parameter.'],
  LimitExceeded: [409, 'The request was rejected because it attempted to create resources beyond the current account limits.'],
  MalformedPolicyDocument: [400, 'The request was rejected because the policy document was malformed.'],
  NoSuchEntity: [404, 'The request was rejected because it referenced a resource entity that does not exist.'],
  PasswordPolicyViolation: [400, 'The request was rejected because the provided password did not meet the requirements imposed by the account password policy.'],
  PolicyEvaluation: [500, 'The request failed because a provided policy could not be successfully evaluated.'],
  PolicyNotAttachable: [400, 'The request failed because service role policies can only be attached to the service-linked role for that service.'],
  ServiceFailure: [500, 'The request processing has failed because of an unknown error, exception or failure.'],
  UnmodifiableEntity: [400, 'The request was rejected because it attempted to modify a protected entity.'],
  // STS modelled errors (MalformedPolicyDocument above is shared).
  ExpiredTokenException: [400, 'The web identity token that was passed is expired or is not valid.'],
  IDPCommunicationError: [400, 'The request could not be fulfilled because the identity provider (IDP) that was asked to verify the incoming identity token could not be reached.'],
  IDPRejectedClaim: [403, 'The identity provider (IdP) reported that authentication failed.'],
  InvalidAuthorizationMessageException: [400, 'The error returned if the message passed to DecodeAuthorizationMessage was invalid.'],
  InvalidIdentityToken: [400, 'The web identity token that was passed could not be validated.'],
  PackedPolicyTooLarge: [400, 'The request was rejected because the total packed size of the session policies and session tags combined was too large.'],
  RegionDisabledException: [403, 'STS is not activated in the requested region for the account that is being asked to generate credentials.'],
  // Errors every Query service returns before or around the action itself.
  AccessDenied: [403, 'Access denied'],
  ExpiredToken: [400, 'The security token included in the request is expired'],
  IncompleteSignature: [400, 'The request signature does not conform to AWS standards.'],
  InvalidAction: [400, 'The action or operation requested is invalid. Verify that the action is typed correctly.'],
  InvalidClientTokenId: [403, 'The security token included in the request is invalid.'],
  InvalidParameterCombination: [400, 'Parameters that must not be used together were used together.'],
  InvalidParameterValue: [400, 'An invalid or out-of-range value was supplied for the input parameter.'],
  InvalidQueryParameter: [400, 'The AWS query string is malformed or does not adhere to AWS standards.'],
  MissingAction: [400, 'The request is missing an action or a required parameter.'],
  MissingAuthenticationToken: [403, 'Request is missing Authentication Token'],
  MissingParameter: [400, 'A required parameter for the specified action is not supplied.'],
  RequestExpired: [400, 'The request reached the service more than 15 minutes after the date stamp on the request or more than 15 minutes after the request expiration date.'],
  ServiceUnavailable: [503, 'The request has failed due to a temporary failure of the server.'],
  SignatureDoesNotMatch: [403, 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'],
  Throttling: [400, 'Rate exceeded'],
  ValidationError: [400, 'The input fails to satisfy the constraints specified by an AWS service.'],
} as const satisfies Record<string, readonly [number, string]>;

export type IamErrorCode = keyof typeof CATALOGUE;

/** Sender: the caller should change the request. Receiver: the service failed; retrying may help. */
export type IamErrorType = 'Sender' | 'Receiver';

export class IamError extends Error {
  readonly code: IamErrorCode;
  readonly status: number;
  readonly type: IamErrorType;

  constructor(code: IamErrorCode, message?: string) {
    const [status, defaultMessage] = CATALOGUE[code];
    super(message ?? defaultMessage);
    this.name = 'IamError';
    this.code = code;
    this.status = status;
    // AWS marks exactly its server-fault shapes (all 5xx) as Receiver.
    this.type = status >= 500 ? 'Receiver' : 'Sender';
  }
}

export function iamError(code: IamErrorCode, message?: string): IamError {
  return new IamError(code, message);
}

/** Anything that is not an IamError becomes ServiceFailure: its text never reaches the caller. */
export function toIamError(err: unknown): IamError {
  if (err instanceof IamError) return err;
  return new IamError('ServiceFailure');
}

export function iamStatusOf(code: IamErrorCode): number {
  return CATALOGUE[code][0];
}

/** The error for an Action the endpoint does not implement, worded as AWS words it. */
export function invalidAction(action: string, version: string): IamError {
  return new IamError('InvalidAction', `Could not find operation ${action} for version ${version}`);
}

/**
 * A value in a result. Arrays become `<member>` lists, Maps become `<entry>` maps, Dates
 * ISO 8601 timestamps, byte arrays base64 (awsQuery's blob encoding), and undefined or
 * null are left out — AWS omits absent members rather than sending empty elements.
 */
export type QueryValue =
  | string
  | number
  | bigint
  | boolean
  | Date
  | Uint8Array
  | null
  | undefined
  | readonly QueryValue[]
  | ReadonlyMap<string, QueryValue>
  | QueryObject;
export interface QueryObject {
  readonly [name: string]: QueryValue;
}

// Element names come from code, never from requests; the check keeps it that way if a
// caller ever spreads request data into a result.
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

function checkName(name: string): string {
  if (!NAME_RE.test(name)) throw new TypeError(`not an XML element name: ${JSON.stringify(name)}`);
  return name;
}

/**
 * IAM timestamps carry whole seconds (`2012-09-21T23:03:13Z`); sub-second precision would
 * only expose the store's clock resolution, and every SDK parses both forms.
 */
export function isoSeconds(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new RangeError('invalid Date in a Query response');
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function writeValue(out: string[], name: string, v: QueryValue): void {
  if (v === undefined || v === null) return;
  checkName(name);
  if (typeof v === 'string') {
    out.push(`<${name}>`, escapeXml(v), `</${name}>`);
  } else if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new RangeError(`non-finite number for <${name}>`);
    out.push(`<${name}>${String(v)}</${name}>`);
  } else if (typeof v === 'bigint' || typeof v === 'boolean') {
    out.push(`<${name}>${String(v)}</${name}>`);
  } else if (v instanceof Date) {
    out.push(`<${name}>${isoSeconds(v)}</${name}>`);
  } else if (v instanceof Uint8Array) {
    out.push(`<${name}>${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')}</${name}>`);
  } else if (isArray(v)) {
    // An empty list is still sent, as `<Users/>`: SDKs then report [] rather than absent.
    if (v.length === 0) {
      out.push(`<${name}/>`);
      return;
    }
    out.push(`<${name}>`);
    for (const item of v) writeValue(out, 'member', item);
    out.push(`</${name}>`);
  } else if (v instanceof Map) {
    if (v.size === 0) {
      out.push(`<${name}/>`);
      return;
    }
    out.push(`<${name}>`);
    for (const [k, item] of v as ReadonlyMap<string, QueryValue>) {
      out.push('<entry><key>', escapeXml(k), '</key>');
      writeValue(out, 'value', item);
      out.push('</entry>');
    }
    out.push(`</${name}>`);
  } else {
    out.push(`<${name}>`);
    for (const [k, child] of Object.entries(v as QueryObject)) writeValue(out, k, child);
    out.push(`</${name}>`);
  }
}

// Array.isArray does not narrow readonly arrays out of a union.
function isArray(v: unknown): v is readonly QueryValue[] {
  return Array.isArray(v);
}

function metadata(requestId: string): string {
  return `<ResponseMetadata><RequestId>${escapeXml(requestId)}</RequestId></ResponseMetadata>`;
}

/**
 * `<{action}Response xmlns=…><{action}Result>…</{action}Result><ResponseMetadata>…`.
 * `result` undefined leaves the Result element out, as AWS does for actions that return
 * nothing (DeleteUser, TagUser, …); an empty object sends an empty Result.
 * Compact (no indentation): the AWS SDK for JavaScript drops whitespace-only text that
 * contains a newline, so pretty-printing buys nothing and risks mangling values.
 */
export function queryResponse(action: string, namespace: string, result: QueryObject | undefined, requestId: string): string {
  checkName(action);
  const out: string[] = [`<${action}Response xmlns="${escapeXml(namespace)}">`];
  if (result !== undefined) {
    out.push(`<${action}Result>`);
    for (const [k, v] of Object.entries(result)) writeValue(out, k, v);
    out.push(`</${action}Result>`);
  }
  out.push(metadata(requestId), `</${action}Response>`);
  return out.join('');
}

/**
 * `<ErrorResponse xmlns=…><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`:
 * unlike successes, RequestId sits directly under the root, not in ResponseMetadata.
 */
export function errorResponse(err: IamError, namespace: string, requestId: string): string {
  return `<ErrorResponse xmlns="${escapeXml(namespace)}"><Error><Type>${err.type}</Type><Code>${err.code}</Code>`
    + `<Message>${escapeXml(err.message)}</Message></Error><RequestId>${escapeXml(requestId)}</RequestId></ErrorResponse>`;
}
