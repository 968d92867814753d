/**
 * Errors of the crypto layer. Neither is an S3Error: both mean the server cannot or must
 * not serve data, and `toS3Error` turns them into InternalError without leaking details.
 */

/** Stored ciphertext or a wrapped key failed authentication, or has the wrong shape: never serve the data. */
export class IntegrityError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IntegrityError';
  }
}

/** The master key file is missing, unreadable, corrupt or too permissive: a start-up error, with no fallback. */
export class KeyringError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeyringError';
  }
}
