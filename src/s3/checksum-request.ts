/**
 * Integrity headers on uploads (C2): Content-MD5 and the additional checksums, sent as
 * `x-amz-checksum-<alg>` headers or as aws-chunked trailers. Verified after the bytes have
 * streamed and before anything is committed: a mismatch stores nothing.
 */
import { s3error } from '../errors/s3-errors.js';
import { header, type S3Request } from '../http/request.js';
import { checksumHeader, parseChecksumAlgorithm, type ChecksumAlgorithm } from '../util/checksums.js';

export const ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];

export interface ChecksumRequest {
  /** Algorithms to compute while streaming. */
  compute: ChecksumAlgorithm[];
  /** The algorithm whose value is stored with the object, if any. */
  algorithm: ChecksumAlgorithm | undefined;
  /** Value given in a header, base64. */
  headerValue: string | undefined;
  /** The trailer that will carry the value (lower-case name). */
  trailerName: string | undefined;
  /** Content-MD5, decoded. */
  md5: Buffer | undefined;
}

const DIGEST_LEN: Record<ChecksumAlgorithm, number> = { CRC32: 4, CRC32C: 4, CRC64NVME: 8, SHA1: 20, SHA256: 32 };

function validBase64Digest(value: string, alg: ChecksumAlgorithm): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return false;
  return Buffer.from(value, 'base64').length === DIGEST_LEN[alg];
}

/** Parses Content-MD5 and the checksum headers of an upload request. */
export function parseChecksumRequest(req: S3Request): ChecksumRequest {
  let md5: Buffer | undefined;
  const md5h = header(req, 'content-md5');
  if (md5h !== undefined) {
    md5 = Buffer.from(md5h, 'base64');
    if (md5.length !== 16 || !/^[A-Za-z0-9+/]+={0,2}$/.test(md5h)) throw s3error('InvalidDigest');
  }
  const present = ALGORITHMS.filter((a) => header(req, checksumHeader(a)) !== undefined);
  if (present.length > 1) throw s3error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  const trailers = (header(req, 'x-amz-trailer') ?? '').split(',').map((s) => s.trim().toLowerCase()).filter((s) => s.startsWith('x-amz-checksum-'));
  if (trailers.length > 1) throw s3error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  const sdkAlg = header(req, 'x-amz-sdk-checksum-algorithm');
  let algorithm: ChecksumAlgorithm | undefined;
  let headerValue: string | undefined;
  let trailerName: string | undefined;
  if (present.length === 1) {
    algorithm = present[0]!;
    headerValue = header(req, checksumHeader(algorithm))!;
    if (!validBase64Digest(headerValue, algorithm)) {
      throw s3error('InvalidRequest', `Value for ${checksumHeader(algorithm)} header is invalid.`);
    }
    if (trailers.length === 1) throw s3error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  } else if (trailers.length === 1) {
    trailerName = trailers[0]!;
    algorithm = parseChecksumAlgorithm(trailerName.slice('x-amz-checksum-'.length));
  } else if (sdkAlg !== undefined) {
    // The SDK names an algorithm but sends no value: S3 rejects the request.
    const alg = parseChecksumAlgorithm(sdkAlg);
    throw s3error('InvalidRequest', `x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.`, { Algorithm: alg });
  }
  if (sdkAlg !== undefined && algorithm !== undefined && parseChecksumAlgorithm(sdkAlg) !== algorithm) {
    throw s3error('InvalidRequest', 'Value for x-amz-sdk-checksum-algorithm header is invalid.');
  }
  return { compute: algorithm ? [algorithm] : [], algorithm, headerValue, trailerName, md5 };
}

/**
 * Checks computed digests against what the client sent. Returns the verified checksum value
 * (base64) of the request's algorithm, or undefined when none was requested.
 */
export function verifyChecksums(
  cr: ChecksumRequest,
  md5: Buffer,
  digests: ReadonlyMap<ChecksumAlgorithm, Buffer>,
  trailers: ReadonlyMap<string, string>,
): string | undefined {
  if (cr.md5 && !cr.md5.equals(md5)) throw s3error('BadDigest', undefined, { ExpectedDigest: cr.md5.toString('hex'), CalculatedDigest: md5.toString('base64') });
  if (!cr.algorithm) return undefined;
  const computed = digests.get(cr.algorithm)!.toString('base64');
  let expected = cr.headerValue;
  if (cr.trailerName) {
    expected = trailers.get(cr.trailerName);
    if (expected === undefined) throw s3error('InvalidRequest', `The trailer ${cr.trailerName} was declared but not sent.`);
  }
  if (expected !== computed) {
    throw s3error('BadDigest', `The ${cr.algorithm} you specified did not match the calculated checksum.`);
  }
  return computed;
}
