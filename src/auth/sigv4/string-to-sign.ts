import { sha256Hex } from './sha256-hex.js';
import { scopeString, type CredentialScope } from './signing-key.js';

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';

/** The SigV4 string to sign: algorithm, request time (yyyyMMdd'T'HHmmss'Z'), credential scope and the hex SHA-256 of the canonical request. */
export function stringToSign(amzDate: string, scope: CredentialScope, canonicalRequest: string): string {
  return `${SIGV4_ALGORITHM}\n${amzDate}\n${scopeString(scope)}\n${sha256Hex(canonicalRequest)}`;
}
