/**
 * The S3 error catalogue: every error code Kura can return, with its HTTP status and
 * AWS's default message. Handlers throw `S3Error`; anything else that escapes becomes
 * `InternalError` in `toS3Error`, so internals never reach a caller.
 */

const CATALOGUE = {
  AccessDenied: [403, 'Access Denied'],
  // KMS failures S3 relays for SSE-KMS objects (S3 answers 400 with the KMS exception name).
  'KMS.DisabledException': [400, 'The KMS key is disabled.'],
  'KMS.NotFoundException': [400, 'Invalid keyId'],
  'KMS.KMSInvalidStateException': [400, 'The KMS key is not in a valid state for this request.'],
  'KMS.InvalidCiphertextException': [400, 'The ciphertext refers to a KMS key that does not exist or that you do not have access to.'],
  AccessControlListNotSupported: [400, 'The bucket does not allow ACLs'],
  AccountProblem: [403, 'There is a problem with your AWS account that prevents the action from completing successfully.'],
  AuthorizationHeaderMalformed: [400, 'The authorization header is malformed.'],
  AuthorizationQueryParametersError: [400, 'Error parsing the X-Amz-Credential parameter.'],
  BadDigest: [400, 'The Content-MD5 you specified did not match what we received.'],
  BucketAlreadyExists: [409, 'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.'],
  BadRequest: [400, 'Bad Request'],
  BucketAlreadyOwnedByYou: [409, 'Your previous request to create the named bucket succeeded and you already own it.'],
  BucketNotEmpty: [409, 'The bucket you tried to delete is not empty'],
  ConditionalRequestConflict: [409, 'The conditional request cannot succeed due to a conflicting operation against this resource.'],
  CredentialsNotSupported: [400, 'This request does not support credentials.'],
  EntityTooSmall: [400, 'Your proposed upload is smaller than the minimum allowed object size.'],
  EntityTooLarge: [400, 'Your proposed upload exceeds the maximum allowed object size.'],
  ExpiredToken: [400, 'The provided token has expired.'],
  IllegalLocationConstraintException: [400, 'The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.'],
  IllegalVersioningConfigurationException: [400, 'The versioning configuration specified in the request is invalid.'],
  IncompleteBody: [400, 'You did not provide the number of bytes specified by the Content-Length HTTP header.'],
  IncorrectNumberOfFilesInPostRequest: [400, 'POST requires exactly one file upload per request.'],
  InternalError: [500, 'We encountered an internal error. Please try again.'],
  InvalidAccessKeyId: [403, 'The AWS Access Key Id you provided does not exist in our records.'],
  InvalidArgument: [400, 'Invalid Argument'],
  InvalidBucketName: [400, 'The specified bucket is not valid.'],
  InvalidBucketState: [409, 'The request is not valid with the current state of the bucket.'],
  InvalidDigest: [400, 'The Content-MD5 you specified is not valid.'],
  InvalidEncryptionAlgorithmError: [400, 'The encryption request you specified is not valid. The valid value is AES256.'],
  InvalidLocationConstraint: [400, 'The specified location constraint is not valid.'],
  InvalidObjectState: [403, 'The operation is not valid for the current state of the object.'],
  InvalidPartNumber: [416, 'The requested partnumber is not satisfiable'],
  InvalidPart: [400, 'One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.'],
  InvalidPartOrder: [400, 'The list of parts was not in ascending order. Parts must be ordered by part number.'],
  InvalidPolicyDocument: [400, 'The content of the form does not meet the conditions specified in the policy document.'],
  InvalidRange: [416, 'The requested range is not satisfiable'],
  InvalidRequest: [400, 'Invalid Request'],
  InvalidSecurity: [403, 'The provided security credentials are not valid.'],
  InvalidStorageClass: [400, 'The storage class you specified is not valid.'],
  InvalidTag: [400, 'The TagKey you have provided is invalid'],
  InvalidToken: [400, 'The provided token is malformed or otherwise invalid.'],
  InvalidURI: [400, "Couldn't parse the specified URI."],
  KeyTooLongError: [400, 'Your key is too long'],
  MalformedACLError: [400, 'The XML you provided was not well-formed or did not validate against our published schema.'],
  MaxPostPreDataLengthExceededError: [400, 'Your POST request fields preceeding the upload file was too large.'],
  MalformedPOSTRequest: [400, 'The body of your POST request is not well-formed multipart/form-data.'],
  MalformedXML: [400, 'The XML you provided was not well-formed or did not validate against our published schema'],
  MalformedPolicy: [400, 'Policies must be valid JSON and the first byte must be \'{\''],
  MaxMessageLengthExceeded: [400, 'Your request was too big.'],
  MetadataTooLarge: [400, 'Your metadata headers exceed the maximum allowed metadata size.'],
  MethodNotAllowed: [405, 'The specified method is not allowed against this resource.'],
  MissingContentLength: [411, 'You must provide the Content-Length HTTP header.'],
  MissingRequestBodyError: [400, 'Request Body is empty'],
  MissingSecurityHeader: [400, 'Your request is missing a required header.'],
  NoSuchBucket: [404, 'The specified bucket does not exist'],
  NoSuchBucketPolicy: [404, 'The bucket policy does not exist'],
  NoSuchCORSConfiguration: [404, 'The CORS configuration does not exist'],
  NoSuchKey: [404, 'The specified key does not exist.'],
  NoSuchLifecycleConfiguration: [404, 'The lifecycle configuration does not exist'],
  NoSuchTagSet: [404, 'The TagSet does not exist'],
  NoSuchUpload: [404, 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.'],
  NoSuchVersion: [404, 'The specified version does not exist.'],
  NotImplemented: [501, 'A header you provided implies functionality that is not implemented.'],
  NotModified: [304, 'Not Modified'],
  OperationAborted: [409, 'A conflicting conditional operation is currently in progress against this resource. Try again.'],
  PreconditionFailed: [412, 'At least one of the pre-conditions you specified did not hold'],
  RequestTimeTooSkewed: [403, 'The difference between the request time and the current time is too large.'],
  RequestTimeout: [400, 'Your socket connection to the server was not read from or written to within the timeout period.'],
  ServerSideEncryptionConfigurationNotFoundError: [404, 'The server side encryption configuration was not found'],
  ServiceUnavailable: [503, 'Please reduce your request rate.'],
  SignatureDoesNotMatch: [403, 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'],
  TooManyBuckets: [400, 'You have attempted to create more buckets than allowed.'],
  UnexpectedContent: [400, 'This request does not support content.'],
  XAmzContentSHA256Mismatch: [400, "The provided 'x-amz-content-sha256' header does not match what was computed."],
  InvalidChunkSizeError: [400, 'Only the last chunk is allowed to have a size less than 8192 bytes'],
  MalformedTrailerError: [400, 'The request contained trailing data that was not well-formed or did not conform to our published schema.'],
  InvalidContentEncoding: [400, 'The content-encoding header is invalid'],
  InvalidWebsiteRedirectLocation: [400, 'The website redirect location must have a prefix of \'http://\' or \'https://\' or \'/\'.'],
  CORSForbidden: [403, 'CORSResponse: This CORS request is not allowed.'],
  OwnershipControlsNotFoundError: [404, 'The bucket ownership controls were not found'],
  NoSuchPublicAccessBlockConfiguration: [404, 'The public access block configuration was not found'],
  InvalidBucketAclWithObjectOwnership: [400, 'Bucket cannot have ACLs set with ObjectOwnership\'s BucketOwnerEnforced setting'],
  UnresolvableGrantByEmailAddress: [400, 'The email address you provided does not match any account on record.'],
} as const satisfies Record<string, readonly [number, string]>;

export type S3ErrorCode = keyof typeof CATALOGUE;

/** Extra XML elements S3 puts in some error bodies (e.g. StringToSign, BucketName). */
export type ErrorDetails = Record<string, string | number | undefined>;

export class S3Error extends Error {
  readonly code: S3ErrorCode;
  readonly status: number;
  readonly details: ErrorDetails;
  /** Extra response headers (e.g. x-amz-delete-marker on a 405, Allow). */
  readonly headers: Record<string, string>;

  constructor(code: S3ErrorCode, message?: string, details: ErrorDetails = {}, headers: Record<string, string> = {}) {
    const [status, defaultMessage] = CATALOGUE[code];
    super(message ?? defaultMessage);
    this.name = 'S3Error';
    this.code = code;
    this.status = status;
    this.details = details;
    this.headers = headers;
  }
}

/** Shorthand used throughout the handlers. */
export function s3error(code: S3ErrorCode, message?: string, details?: ErrorDetails, headers?: Record<string, string>): S3Error {
  return new S3Error(code, message, details, headers);
}

/** Anything that is not an S3Error is an internal error: its text never reaches the caller. */
export function toS3Error(err: unknown): S3Error {
  if (err instanceof S3Error) return err;
  return new S3Error('InternalError');
}

export function statusOf(code: S3ErrorCode): number {
  return CATALOGUE[code][0];
}
