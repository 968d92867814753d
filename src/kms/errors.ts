/**
 * KMS errors as the AWS KMS JSON 1.1 protocol returns them: `{ "__type": code, "message" }`.
 * KMS answers every client error, AccessDeniedException included, with HTTP 400; only its
 * internal and dependency failures are 5xx.
 */

export type KmsErrorCode =
  | 'AccessDeniedException'
  | 'AlreadyExistsException'
  | 'DisabledException'
  | 'DryRunOperationException'
  | 'IncorrectKeyException'
  | 'InvalidAliasNameException'
  | 'InvalidCiphertextException'
  | 'InvalidGrantIdException'
  | 'InvalidGrantTokenException'
  | 'InvalidKeyUsageException'
  | 'InvalidMarkerException'
  | 'KMSInternalException'
  | 'KMSInvalidStateException'
  | 'LimitExceededException'
  | 'MalformedPolicyDocumentException'
  | 'NotAuthorizedException'
  | 'NotFoundException'
  | 'SerializationException'
  | 'TagException'
  | 'UnknownOperationException'
  | 'UnsupportedOperationException'
  | 'ValidationException';

/** Statuses other than 400, as the KMS API reference gives them. */
const STATUS: Partial<Record<KmsErrorCode, number>> = {
  KMSInternalException: 500,
  DryRunOperationException: 412,
};

export class KmsError extends Error {
  readonly status: number;

  constructor(readonly code: KmsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KmsError';
    this.status = STATUS[code] ?? 400;
  }
}

/** The JSON body of an error response (send with `Content-Type: application/x-amz-json-1.1`). */
export function kmsErrorBody(err: KmsError): { __type: string; message: string } {
  return { __type: err.code, message: err.message };
}

/** Stands for a sensitive member's value (plaintext, ciphertext), which KMS never echoes in an error. */
export const HIDDEN = Symbol('hidden');

/** Smithy's wording for a request member that breaks its model constraint. */
export function constraintError(member: string, value: unknown, constraint: string): KmsError {
  const shown = value === HIDDEN ? '' : value === null || value === undefined ? ' null' : ` '${String(value)}'`;
  return new KmsError('ValidationException', `1 validation error detected: Value${shown} at '${lowerFirst(member)}' failed to satisfy constraint: ${constraint}`);
}

const lowerFirst = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);
