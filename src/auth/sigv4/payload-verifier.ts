/**
 * Pass-through Transforms that check a request body against what its headers promised.
 *
 * They verify as the bytes stream, so the bytes are already downstream when a mismatch is found at
 * the end: the consumer must treat the stream's error as "discard everything" (e.g. delete the
 * temporary file instead of committing the object). That is the only way to check a hash without
 * buffering the whole body.
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { s3error } from '../../errors/s3-errors.js';
import type { HashJob } from '../../util/hash-pool.js';

/**
 * Passes bytes through and errors with XAmzContentSHA256Mismatch at the end if their SHA-256
 * differs from `expectedHex`. With a job (large bodies), the hashing runs on the hash pool's
 * worker thread, in parallel with what the main thread does to the same bytes (encryption).
 */
export function createSha256Verifier(expectedHex: string, job?: HashJob): Transform {
  // S3 rejects a malformed x-amz-content-sha256 before reading the body; fail just as early here.
  if (!/^[0-9a-fA-F]{64}$/.test(expectedHex)) {
    job?.drop();
    throw s3error('InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.', {
      ArgumentName: 'x-amz-content-sha256',
      ArgumentValue: expectedHex,
    });
  }
  const expected = expectedHex.toLowerCase();
  const hash = job ? undefined : createHash('sha256');
  let digested = false;
  const check = (computed: string, callback: TransformCallback): void => {
    if (computed !== expected) {
      callback(s3error('XAmzContentSHA256Mismatch', undefined, {
        ClientComputedContentSHA256: expected,
        S3ComputedContentSHA256: computed,
      }));
      return;
    }
    callback();
  };
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
      if (hash) {
        hash.update(chunk);
        return callback(null, chunk);
      }
      const wait = job!.update(chunk);
      if (wait) return void wait.then(() => callback(null, chunk));
      callback(null, chunk);
    },
    flush(callback: TransformCallback): void {
      if (hash) return check(hash.digest('hex'), callback);
      job!.digest().then(
        (d) => {
          digested = true;
          check(d.sums.get('SHA256')!.toString('hex'), callback);
        },
        (e: Error) => callback(e),
      );
    },
    destroy(err: Error | null, callback: (error: Error | null) => void): void {
      // Streams destroy themselves after a normal end too; any other end (an error, or a body
      // nobody finished reading) abandons the job so the pool forgets it.
      if (!digested) job?.drop();
      callback(err);
    },
  });
}

/** Passes exactly `expected` bytes through; errors with IncompleteBody on fewer, or as soon as more arrive. */
export function createLengthVerifier(expected: number): Transform {
  if (!Number.isSafeInteger(expected) || expected < 0) throw new RangeError('expected must be a non-negative safe integer');
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
      seen += chunk.length;
      // Excess bytes are refused before they go downstream, so an over-long body never reaches storage.
      if (seen > expected) {
        callback(s3error('IncompleteBody'));
        return;
      }
      callback(null, chunk);
    },
    flush(callback: TransformCallback): void {
      callback(seen === expected ? null : s3error('IncompleteBody'));
    },
  });
}
