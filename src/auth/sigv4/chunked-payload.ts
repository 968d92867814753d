/**
 * Streaming decoder for `Content-Encoding: aws-chunked` request bodies (see CHUNKED.md).
 *
 * Handles the four framings S3 accepts:
 *   STREAMING-AWS4-HMAC-SHA256-PAYLOAD          `<hex>;chunk-signature=<sig>\r\n<data>\r\n` … `0;chunk-signature=<sig>\r\n\r\n`
 *   STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER  same, final chunk followed by `name:value\r\n`… `x-amz-trailer-signature:<sig>\r\n\r\n`
 *   STREAMING-UNSIGNED-PAYLOAD-TRAILER          `<hex>\r\n<data>\r\n` … `0\r\n` then `name:value\r\n`… `\r\n`
 *   the same without any trailer                `<hex>\r\n<data>\r\n` … `0\r\n\r\n`
 *
 * Pure: no I/O, no logging, no clock. Every failure is an S3Error.
 */
import { createHash, createHmac, timingSafeEqual, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { S3Error, s3error } from '../../errors/s3-errors.js';
import { scopeString, type CredentialScope } from './signing-key.js';

export interface ChunkSigningContext {
  signingKey: Buffer;
  amzDate: string;
  scope: CredentialScope;
  seedSignature: string;
}

export interface ChunkedDecoderOptions {
  signing?: ChunkSigningContext;        // present ⇔ signed chunks
  trailer: boolean;                     // a trailer section follows the final chunk
  declaredTrailers: readonly string[];  // lower-case names from the x-amz-trailer header; an undeclared trailer → error
  decodedContentLength?: number;        // x-amz-decoded-content-length; decoded total must equal it
  /** Largest signed chunk accepted, since a signed chunk is held in memory until verified. Default 16 MiB. */
  maxChunkSize?: number;
  /** S3 rejects a non-final chunk smaller than this (InvalidChunkSizeError). Default 8192; 0 disables. */
  minChunkSize?: number;
}

export const DEFAULT_MAX_CHUNK_SIZE = 16 * 1024 * 1024;
export const DEFAULT_MIN_CHUNK_SIZE = 8192;

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const SIGNATURE_PREFIX = 'chunk-signature=';
const TRAILER_SIGNATURE = 'x-amz-trailer-signature';
// `<16 hex digits>;chunk-signature=<64 hex>` is 97 bytes; anything much longer is not a chunk header.
const MAX_HEADER_LINE = 256;
// Trailers are checksum headers (a few dozen bytes); these bounds only stop a client from making us buffer.
const MAX_TRAILER_LINE = 4096;
const MAX_TRAILER_BYTES = 16 * 1024;
const CR = 0x0d;
const LF = 0x0a;

const enum State {
  Header,
  Data,
  DataCR,
  DataLF,
  Trailer,
  MaybeEnd,
  Done,
}

function incomplete(message?: string): S3Error {
  return s3error('IncompleteBody', message);
}

/** S3 answers MalformedTrailerError (400) for a trailer section it cannot accept. */
function malformedTrailer(): S3Error {
  return s3error('MalformedTrailerError');
}

function isHex(s: string): boolean {
  return /^[0-9a-fA-F]+$/.test(s);
}

/** Constant-time comparison of a computed digest with a client-supplied 64-hex-digit signature. */
function sameSignature(computed: Buffer, providedHex: string): boolean {
  const provided = Buffer.from(providedHex, 'hex');
  return provided.length === computed.length && timingSafeEqual(provided, computed);
}

/** A Transform: aws-chunked bytes in, payload bytes out. `trailers` is filled before 'end'/'finish' completes. */
export class ChunkedDecoder extends Transform {
  readonly trailers = new Map<string, string>();

  private readonly signing: ChunkSigningContext | undefined;
  private readonly trailerMode: boolean;
  private readonly declared: ReadonlySet<string>;
  private readonly expectedLength: number | undefined;
  private readonly maxChunkSize: number;
  private readonly minChunkSize: number;
  private readonly payloadPrefix: string;
  private readonly trailerPrefix: string;

  private state = State.Header;
  // Line assembly: header and trailer lines are copied here so a line split across any number of
  // writes costs O(line length) in total, never a re-scan of what was already seen.
  private readonly line = Buffer.allocUnsafe(MAX_TRAILER_LINE);
  private lineLength = 0;

  private chunkIndex = 0;            // 1-based index of the chunk being read
  private remaining = 0;             // data bytes of the current chunk still to come
  private previousSize: number | undefined;
  private decoded = 0;               // payload bytes accepted so far

  private previousSignature: string;
  private chunkSignature = '';       // signature announced in the current chunk's header
  private chunkHash: Hash | undefined;
  private chunkBuffer: Buffer | undefined; // signed chunk data held until verified
  private chunkFilled = 0;

  private trailerBytes = 0;
  private trailerLines: string[] = [];   // `name:value` as received (trimmed), for the signature
  private trailerSignatureSeen = false;
  private skippedBlankLine = false;
  private failed = false;

  constructor(options: ChunkedDecoderOptions) {
    super();
    if (options.decodedContentLength !== undefined
      && (!Number.isSafeInteger(options.decodedContentLength) || options.decodedContentLength < 0)) {
      throw new RangeError('decodedContentLength must be a non-negative safe integer');
    }
    this.signing = options.signing;
    this.trailerMode = options.trailer;
    this.declared = new Set(options.declaredTrailers.map((name) => name.trim().toLowerCase()));
    this.expectedLength = options.decodedContentLength;
    this.maxChunkSize = options.maxChunkSize ?? DEFAULT_MAX_CHUNK_SIZE;
    this.minChunkSize = options.minChunkSize ?? DEFAULT_MIN_CHUNK_SIZE;
    const scope = this.signing ? scopeString(this.signing.scope) : '';
    this.payloadPrefix = this.signing ? `AWS4-HMAC-SHA256-PAYLOAD\n${this.signing.amzDate}\n${scope}\n` : '';
    this.trailerPrefix = this.signing ? `AWS4-HMAC-SHA256-TRAILER\n${this.signing.amzDate}\n${scope}\n` : '';
    this.previousSignature = this.signing?.seedSignature.toLowerCase() ?? '';
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.failed) return callback();
    try {
      this.consume(chunk);
      callback();
    } catch (err) {
      this.failed = true;
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.failed) return callback();
    try {
      if (this.state === State.MaybeEnd) this.finishTrailers();
      else if (this.state !== State.Done) throw incomplete();
      callback();
    } catch (err) {
      this.failed = true;
      callback(err as Error);
    }
  }

  private consume(buf: Buffer): void {
    let pos = 0;
    const end = buf.length;
    while (pos < end) {
      switch (this.state) {
        case State.Header: {
          const next = this.readLine(buf, pos, MAX_HEADER_LINE);
          if (next < 0) return;
          pos = next;
          this.startChunk(this.takeLine());
          break;
        }
        case State.Data: {
          const take = Math.min(this.remaining, end - pos);
          const piece = buf.subarray(pos, pos + take);
          pos += take;
          this.remaining -= take;
          if (this.chunkHash) {
            this.chunkHash.update(piece);
            if (this.chunkBuffer) {
              piece.copy(this.chunkBuffer, this.chunkFilled);
              this.chunkFilled += take;
            }
          } else {
            // Unsigned: nothing to verify, so stream through without copying.
            this.push(piece);
          }
          if (this.remaining === 0) this.state = State.DataCR;
          break;
        }
        case State.DataCR:
          if (buf[pos++] !== CR) throw incomplete();
          this.state = State.DataLF;
          break;
        case State.DataLF:
          if (buf[pos++] !== LF) throw incomplete();
          this.endChunk();
          break;
        case State.Trailer: {
          const next = this.readLine(buf, pos, MAX_TRAILER_LINE);
          if (next < 0) {
            this.countTrailerBytes(end - pos);
            return;
          }
          this.countTrailerBytes(next - pos);
          pos = next;
          this.trailerLine(this.takeLine());
          break;
        }
        case State.MaybeEnd:
          // The blank line was the separator some clients put between `0;chunk-signature=…` and
          // the trailers (the layout of AWS's worked example); the trailers follow now.
          this.skippedBlankLine = true;
          this.state = State.Trailer;
          break;
        case State.Done:
          throw incomplete();
      }
    }
  }

  /**
   * Appends bytes up to the next LF to the line buffer. Returns the position after the LF once the
   * line is complete, or -1 when it continues in a later write. Rejects before copying past `limit`.
   */
  private readLine(buf: Buffer, pos: number, limit: number): number {
    const lf = buf.indexOf(LF, pos);
    const stop = lf < 0 ? buf.length : lf;
    const length = stop - pos;
    if (this.lineLength + length > limit) {
      throw this.state === State.Header ? incomplete() : malformedTrailer();
    }
    buf.copy(this.line, this.lineLength, pos, stop);
    this.lineLength += length;
    if (lf < 0) return -1;
    if (this.lineLength === 0 || this.line[this.lineLength - 1] !== CR) throw incomplete();
    return lf + 1;
  }

  /** The completed line without its CRLF, as latin1 so every byte survives unchanged. */
  private takeLine(): string {
    const text = this.line.toString('latin1', 0, this.lineLength - 1);
    this.lineLength = 0;
    return text;
  }

  private countTrailerBytes(n: number): void {
    this.trailerBytes += n;
    if (this.trailerBytes > MAX_TRAILER_BYTES) throw malformedTrailer();
  }

  private startChunk(header: string): void {
    const semi = header.indexOf(';');
    const sizeText = semi < 0 ? header : header.slice(0, semi);
    if (sizeText.length === 0 || sizeText.length > 16 || !isHex(sizeText)) throw incomplete();
    const size = parseInt(sizeText, 16);
    if (!Number.isSafeInteger(size)) throw incomplete();

    if (this.signing) {
      if (semi < 0) throw incomplete();
      const ext = header.slice(semi + 1);
      const sig = ext.slice(SIGNATURE_PREFIX.length);
      if (!ext.startsWith(SIGNATURE_PREFIX) || sig.length !== 64 || !isHex(sig)) throw incomplete();
      this.chunkSignature = sig;
    } else if (semi >= 0) {
      throw incomplete();
    }

    this.chunkIndex++;
    // S3 checks the 8 KiB minimum when the next data chunk shows the previous one was not the last,
    // and names the chunk where it noticed plus the undersized one's length.
    if (size !== 0 && this.previousSize !== undefined && this.previousSize < this.minChunkSize) {
      throw s3error('InvalidChunkSizeError', undefined, { Chunk: this.chunkIndex, BadChunkSize: this.previousSize });
    }
    if (this.expectedLength !== undefined && this.decoded + size > this.expectedLength) throw incomplete();

    if (size === 0) {
      if (this.signing) this.verifyChunk(EMPTY_SHA256);
      if (this.expectedLength !== undefined && this.decoded !== this.expectedLength) throw incomplete();
      this.state = State.Trailer;
      return;
    }

    if (this.signing) {
      // Reject before buffering a single byte of a chunk we would refuse to hold.
      if (size > this.maxChunkSize) {
        throw s3error('InvalidRequest', `Chunk size ${size} exceeds the maximum of ${this.maxChunkSize} bytes.`);
      }
      this.chunkHash = createHash('sha256');
      this.chunkBuffer = Buffer.allocUnsafe(size);
      this.chunkFilled = 0;
    }
    this.previousSize = size;
    this.remaining = size;
    this.decoded += size;
    this.state = State.Data;
  }

  private endChunk(): void {
    if (this.signing && this.chunkHash && this.chunkBuffer) {
      this.verifyChunk(this.chunkHash.digest('hex'));
      const verified = this.chunkBuffer;
      this.chunkHash = undefined;
      this.chunkBuffer = undefined;
      // Only now, with the signature checked, may the chunk's bytes leave the decoder.
      this.push(verified);
    }
    this.state = State.Header;
  }

  private verifyChunk(dataHashHex: string): void {
    const signing = this.signing as ChunkSigningContext;
    const stringToSign = `${this.payloadPrefix}${this.previousSignature}\n${EMPTY_SHA256}\n${dataHashHex}`;
    const computed = createHmac('sha256', signing.signingKey).update(stringToSign).digest();
    if (!sameSignature(computed, this.chunkSignature)) {
      throw s3error('SignatureDoesNotMatch', undefined, { StringToSign: stringToSign, SignatureProvided: this.chunkSignature });
    }
    this.previousSignature = computed.toString('hex');
  }

  private trailerLine(text: string): void {
    if (text.length === 0) {
      if (!this.trailerMode) {
        this.state = State.Done;
        return;
      }
      const nothingYet = this.trailerLines.length === 0 && !this.trailerSignatureSeen;
      if (nothingYet && !this.skippedBlankLine) {
        this.state = State.MaybeEnd;
        return;
      }
      this.finishTrailers();
      return;
    }
    // Without a trailer section the final chunk must be followed by the blank line alone.
    if (!this.trailerMode) throw incomplete();
    if (this.trailerSignatureSeen) throw incomplete();

    const colon = text.indexOf(':');
    if (colon < 0) throw malformedTrailer();
    const name = text.slice(0, colon).trim().toLowerCase();
    const value = text.slice(colon + 1).trim();
    if (name.length === 0) throw malformedTrailer();

    if (name === TRAILER_SIGNATURE) {
      if (!this.signing) throw malformedTrailer();
      if (value.length !== 64 || !isHex(value)) throw incomplete();
      this.verifyTrailerSignature(value);
      this.trailerSignatureSeen = true;
      return;
    }
    if (!this.declared.has(name) || this.trailers.has(name)) throw malformedTrailer();
    this.trailers.set(name, value);
    this.trailerLines.push(`${name}:${value}`);
  }

  private verifyTrailerSignature(provided: string): void {
    const signing = this.signing as ChunkSigningContext;
    // Canonical form as the AWS SDKs sign it: `name:value\n` per trailer, sorted by name. The order
    // as sent is accepted too, since both bind exactly the same name/value pairs.
    const sorted = [...this.trailerLines].sort();
    const candidates = [sorted];
    if (sorted.some((line, i) => line !== this.trailerLines[i])) candidates.push(this.trailerLines);
    let last = '';
    for (const lines of candidates) {
      const canonical = lines.map((line) => `${line}\n`).join('');
      const hashHex = createHash('sha256').update(canonical, 'latin1').digest('hex');
      last = `${this.trailerPrefix}${this.previousSignature}\n${hashHex}`;
      const computed = createHmac('sha256', signing.signingKey).update(last).digest();
      if (sameSignature(computed, provided)) return;
    }
    throw s3error('SignatureDoesNotMatch', undefined, { StringToSign: last, SignatureProvided: provided });
  }

  private finishTrailers(): void {
    const missing = [...this.declared].some((name) => !this.trailers.has(name));
    if (this.signing) {
      // S3 answers IncompleteBody when a signed trailer section lacks its signature or a declared trailer.
      if (!this.trailerSignatureSeen || missing) throw incomplete();
    } else if (missing) {
      throw malformedTrailer();
    }
    this.state = State.Done;
  }
}

