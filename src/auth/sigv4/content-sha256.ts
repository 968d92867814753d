import { s3error } from '../../errors/s3-errors.js';
import type { PayloadMode } from './verify.js';

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const STREAMING_ECDSA = 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD';
const STREAMING_ECDSA_TRAILER = 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER';

// Shared instances: these modes carry no per-request data.
const UNSIGNED: PayloadMode = Object.freeze({ kind: 'unsigned' });
const SIGNED_CHUNKS: PayloadMode = Object.freeze({ kind: 'streaming-signed', trailer: false });
const SIGNED_CHUNKS_TRAILER: PayloadMode = Object.freeze({ kind: 'streaming-signed', trailer: true });
const UNSIGNED_TRAILER: PayloadMode = Object.freeze({ kind: 'streaming-unsigned-trailer' });

function isSha256Hex(s: string): boolean {
  if (s.length !== 64) return false;
  for (let i = 0; i < 64; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70))) return false;
  }
  return true;
}

/** Classifies an x-amz-content-sha256 value; throws InvalidArgument for unknown values and NotImplemented for the SigV4a (ECDSA) streaming forms. */
export function parseContentSha256(value: string): PayloadMode {
  switch (value) {
    case UNSIGNED_PAYLOAD:
      return UNSIGNED;
    case STREAMING_SIGNED:
      return SIGNED_CHUNKS;
    case STREAMING_SIGNED_TRAILER:
      return SIGNED_CHUNKS_TRAILER;
    case STREAMING_UNSIGNED_TRAILER:
      return UNSIGNED_TRAILER;
    case STREAMING_ECDSA:
    case STREAMING_ECDSA_TRAILER:
      throw s3error('NotImplemented', undefined, { Header: 'x-amz-content-sha256' });
    default:
      if (isSha256Hex(value)) return { kind: 'sha256', hex: value.toLowerCase() };
      throw s3error(
        'InvalidArgument',
        'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
        { ArgumentName: 'x-amz-content-sha256', ArgumentValue: value },
      );
  }
}
