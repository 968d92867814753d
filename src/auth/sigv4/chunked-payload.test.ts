import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { S3Error } from '../../errors/s3-errors.js';
import { ChunkedDecoder, type ChunkSigningContext, type ChunkedDecoderOptions } from './chunked-payload.js';
import { deriveSigningKey, scopeString, type CredentialScope } from './signing-key.js';

// ---------------------------------------------------------------------------------------------
// Helpers: an independent encoder (written from the AWS documentation, not from the decoder) and a
// driver that feeds a decoder arbitrary write splits and reports what came out.
// ---------------------------------------------------------------------------------------------

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SCOPE: CredentialScope = { date: '20130524', region: 'us-east-1', service: 's3' };
const AMZ_DATE = '20130524T000000Z';
const KEY = deriveSigningKey(SECRET, SCOPE);
const EMPTY = createHash('sha256').update('').digest('hex');

function signing(seedSignature: string): ChunkSigningContext {
  return { signingKey: KEY, amzDate: AMZ_DATE, scope: SCOPE, seedSignature };
}

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
const sign = (stringToSign: string): string => createHmac('sha256', KEY).update(stringToSign).digest('hex');

interface EncodeOptions {
  seed?: string;                       // signed chunks when present
  trailers?: Array<[string, string]>;  // trailer section when present
  /** AWS's worked example puts a blank line between the final chunk and the trailers. */
  blankBeforeTrailers?: boolean;
}

function encode(payload: Buffer, sizes: number[], o: EncodeOptions = {}): Buffer {
  const parts: Buffer[] = [];
  let previous = o.seed;
  let offset = 0;
  for (const size of [...sizes, 0]) {
    const data = payload.subarray(offset, offset + size);
    offset += size;
    if (previous !== undefined) {
      previous = sign(['AWS4-HMAC-SHA256-PAYLOAD', AMZ_DATE, scopeString(SCOPE), previous, EMPTY, sha256(data)].join('\n'));
      parts.push(Buffer.from(`${size.toString(16)};chunk-signature=${previous}\r\n`));
    } else {
      parts.push(Buffer.from(`${size.toString(16)}\r\n`));
    }
    if (size > 0) parts.push(data, Buffer.from('\r\n'));
  }
  assert.equal(offset, payload.length, 'chunk sizes must cover the payload');
  if (o.trailers) {
    if (o.blankBeforeTrailers) parts.push(Buffer.from('\r\n'));
    for (const [name, value] of o.trailers) parts.push(Buffer.from(`${name}:${value}\r\n`));
    if (previous !== undefined) {
      const canonical = [...o.trailers].map(([n, v]) => `${n}:${v}`).sort().map((l) => `${l}\n`).join('');
      const sig = sign(['AWS4-HMAC-SHA256-TRAILER', AMZ_DATE, scopeString(SCOPE), previous, sha256(canonical)].join('\n'));
      parts.push(Buffer.from(`x-amz-trailer-signature:${sig}\r\n`));
    }
    parts.push(Buffer.from('\r\n'));
  } else {
    parts.push(Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

function chunkSizes(total: number, size: number): number[] {
  const sizes: number[] = [];
  for (let left = total; left > 0; left -= size) sizes.push(Math.min(size, left));
  return sizes;
}

function split(body: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (body.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    if (p > last) pieces.push(body.subarray(last, p));
    last = Math.max(last, p);
  }
  if (last < body.length) pieces.push(body.subarray(last));
  return pieces;
}

function bytewise(body: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  for (let i = 0; i < body.length; i++) pieces.push(body.subarray(i, i + 1));
  return pieces;
}

interface Outcome {
  out: Buffer;                        // everything the decoder pushed, even if it later failed
  error?: unknown;
  trailers: Map<string, string>;
}

function run(options: ChunkedDecoderOptions, pieces: Buffer[]): Promise<Outcome> {
  const decoder = new ChunkedDecoder(options);
  const out: Buffer[] = [];
  return new Promise((resolve) => {
    let settled = false;
    const settle = (error?: unknown): void => {
      if (settled) return;
      settled = true;
      resolve({ out: Buffer.concat(out), error, trailers: decoder.trailers });
    };
    decoder.on('data', (b: Buffer) => out.push(b));
    decoder.on('error', (err) => settle(err));
    decoder.on('end', () => settle());
    for (const piece of pieces) {
      if (decoder.destroyed) break;
      decoder.write(piece);
    }
    if (!decoder.destroyed) decoder.end();
  });
}

function assertS3Error(outcome: Outcome, code: string, status?: number): S3Error {
  assert.ok(outcome.error instanceof S3Error, `expected S3Error ${code}, got ${String(outcome.error)}`);
  assert.equal(outcome.error.code, code, outcome.error.message);
  if (status !== undefined) assert.equal(outcome.error.status, status);
  return outcome.error;
}

function assertOk(outcome: Outcome, payload: Buffer): void {
  assert.equal(outcome.error, undefined, `unexpected error: ${String(outcome.error)}`);
  assert.ok(outcome.out.equals(payload), 'decoded payload differs');
}

const unsignedTrailer = (declared: string[], length?: number): ChunkedDecoderOptions =>
  ({ trailer: true, declaredTrailers: declared, decodedContentLength: length });

// ---------------------------------------------------------------------------------------------
// AWS's worked examples
// ---------------------------------------------------------------------------------------------

const A65K = Buffer.alloc(65 * 1024, 'a');

describe('AWS worked example: PUT Object in chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)', () => {
  const seed = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';
  const body = Buffer.concat([
    Buffer.from('10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n'),
    A65K.subarray(0, 65536),
    Buffer.from('\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n'),
    A65K.subarray(65536),
    Buffer.from('\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n'),
  ]);
  const options: ChunkedDecoderOptions = { signing: signing(seed), trailer: false, declaredTrailers: [], decodedContentLength: 66560 };

  test('the body has the documented Content-Length and our encoder reproduces it', () => {
    assert.equal(body.length, 66824);
    assert.ok(encode(A65K, [65536, 1024], { seed }).equals(body));
  });

  test('decodes in one write', async () => {
    assertOk(await run(options, [body]), A65K);
  });

  test('decodes one byte at a time', async () => {
    assertOk(await run(options, bytewise(body)), A65K);
  });

  test('a different seed signature breaks the first chunk', async () => {
    const outcome = await run({ ...options, signing: signing('0'.repeat(64)) }, [body]);
    assertS3Error(outcome, 'SignatureDoesNotMatch', 403);
    assert.equal(outcome.out.length, 0, 'no byte of an unverified chunk may leave the decoder');
  });

  test('a flipped data byte in the second chunk: only the first (verified) chunk comes out', async () => {
    const tampered = Buffer.from(body);
    tampered[88 + 65536 + 2 + 86 + 10] = 'b'.charCodeAt(0);
    const outcome = await run(options, bytewise(tampered));
    assertS3Error(outcome, 'SignatureDoesNotMatch');
    assert.ok(outcome.out.equals(A65K.subarray(0, 65536)));
  });
});

describe('AWS worked example: PUT Object with a signed trailer (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER)', () => {
  const seed = '106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e';
  const chunks = Buffer.concat([
    Buffer.from('10000;chunk-signature=b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2\r\n'),
    A65K.subarray(0, 65536),
    Buffer.from('\r\n400;chunk-signature=1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7\r\n'),
    A65K.subarray(65536),
    Buffer.from('\r\n0;chunk-signature=2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992\r\n'),
  ]);
  const trailer = 'x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n\r\n';
  const options: ChunkedDecoderOptions = {
    signing: signing(seed), trailer: true, declaredTrailers: ['x-amz-checksum-crc32c'], decodedContentLength: 66560,
  };

  test('decodes (RFC 7230 layout: trailers right after the final chunk) and returns the trailer', async () => {
    const body = Buffer.concat([chunks, Buffer.from(trailer)]);
    assert.ok(encode(A65K, [65536, 1024], { seed, trailers: [['x-amz-checksum-crc32c', 'sOO8/Q==']] }).equals(body));
    const outcome = await run(options, bytewise(body));
    assertOk(outcome, A65K);
    assert.deepEqual([...outcome.trailers], [['x-amz-checksum-crc32c', 'sOO8/Q==']]);
  });

  test('decodes the layout of the documentation page (a blank line before the trailers)', async () => {
    const outcome = await run(options, [Buffer.concat([chunks, Buffer.from('\r\n' + trailer)])]);
    assertOk(outcome, A65K);
    assert.equal(outcome.trailers.get('x-amz-checksum-crc32c'), 'sOO8/Q==');
  });

  test('a changed trailer value fails the trailer signature', async () => {
    const outcome = await run(options, [Buffer.concat([chunks, Buffer.from(trailer.replace('sOO8/Q==', 'sOO8/A=='))])]);
    assertS3Error(outcome, 'SignatureDoesNotMatch', 403);
  });

  test('a missing trailer signature is IncompleteBody', async () => {
    const outcome = await run(options, [Buffer.concat([chunks, Buffer.from('x-amz-checksum-crc32c:sOO8/Q==\r\n\r\n')])]);
    assertS3Error(outcome, 'IncompleteBody');
  });

  test('a declared trailer that is not sent is IncompleteBody', async () => {
    const outcome = await run({ ...options, declaredTrailers: ['x-amz-checksum-crc32c', 'x-amz-checksum-sha256'] },
      [Buffer.concat([chunks, Buffer.from(trailer)])]);
    assertS3Error(outcome, 'IncompleteBody');
  });

  test('the trailer signature must be the last line', async () => {
    const lines = trailer.split('\r\n');
    const reordered = `${lines[1]}\r\n${lines[0]}\r\n\r\n`;
    const outcome = await run(options, [Buffer.concat([chunks, Buffer.from(reordered)])]);
    assert.ok(outcome.error instanceof S3Error);
  });
});

describe('STREAMING-UNSIGNED-PAYLOAD-TRAILER as the AWS JS SDK sends it', () => {
  test('`11170\\r\\n…\\r\\n0\\r\\nx-amz-checksum-crc32:…\\r\\n\\r\\n`', async () => {
    const payload = randomBytes(0x11170);
    const body = Buffer.concat([
      Buffer.from('11170\r\n'), payload, Buffer.from('\r\n0\r\nx-amz-checksum-crc32:A2xJgQ==\r\n\r\n'),
    ]);
    assert.ok(encode(payload, [0x11170], { trailers: [['x-amz-checksum-crc32', 'A2xJgQ==']] }).equals(body));
    const outcome = await run(unsignedTrailer(['x-amz-checksum-crc32'], payload.length), split(body, [1, 7, 100, 65536, 70005]));
    assertOk(outcome, payload);
    assert.deepEqual([...outcome.trailers], [['x-amz-checksum-crc32', 'A2xJgQ==']]);
  });

  test('the SDK writes chunks as the source stream yields them: several, the last one short', async () => {
    const payload = randomBytes(3 * 65536 + 100);
    const body = encode(payload, chunkSizes(payload.length, 65536), { trailers: [['x-amz-checksum-crc32', 'AAAAAA==']] });
    assertOk(await run(unsignedTrailer(['x-amz-checksum-crc32'], payload.length), [body]), payload);
  });

  test('whitespace around the trailer colon is tolerated, as S3 does', async () => {
    const body = Buffer.from('5\r\nhello\r\n0\r\nx-amz-checksum-crc32 : NhCmhg==\r\n\r\n');
    const outcome = await run(unsignedTrailer(['x-amz-checksum-crc32'], 5), [body]);
    assertOk(outcome, Buffer.from('hello'));
    assert.equal(outcome.trailers.get('x-amz-checksum-crc32'), 'NhCmhg==');
  });

  test('no trailer declared and none sent: `0\\r\\n\\r\\n` ends the body', async () => {
    const outcome = await run(unsignedTrailer([], 11), [Buffer.from('B\r\nhello world\r\n0\r\n\r\n')]);
    assertOk(outcome, Buffer.from('hello world'));
    assert.equal(outcome.trailers.size, 0);
  });

  test('unsigned chunks without a trailer section', async () => {
    const outcome = await run({ trailer: false, declaredTrailers: [] }, bytewise(Buffer.from('B\r\nhello world\r\n0\r\n\r\n')));
    assertOk(outcome, Buffer.from('hello world'));
  });

  test('upper-case hex chunk sizes are accepted', async () => {
    const payload = randomBytes(0xabc);
    const body = Buffer.concat([Buffer.from('ABC\r\n'), payload, Buffer.from('\r\n0\r\n\r\n')]);
    assertOk(await run(unsignedTrailer([], payload.length), [body]), payload);
  });
});

// ---------------------------------------------------------------------------------------------
// Error table (codes as S3 returns them)
// ---------------------------------------------------------------------------------------------

describe('errors', () => {
  // Bodies S3 answers with IncompleteBody for x-amz-decoded-content-length: 10.
  const incompleteBodies = [
    'A\ndummy data\r\n0\r\n\r\n',              // LF without CR
    'A\r\ndummy data0\r\n\r\n',                // data not followed by CRLF
    'A\r\nXYZ\r\ndummy data\r\n0\r\n\r\n',     // chunk shorter than declared
    'B\r\ndummy data\r\n0\r\n\r\n',            // declared more than x-amz-decoded-content-length
    'A\r\ndummy data\r\n0\r\n',                // truncated before the final CRLF
    'A\r\ndummy data\r\n0\r\nx-amz-checksum-crc64nvme:dPVWc2vU1+Q=\r\n',
    'A\r\n',                                   // truncated in data
    'A\r\nA\r\ndummy data\r\n0\r\n\r\n',
    'invalid_chunk_size\r\ndummy data\r\n0\r\nx-amz-checksum-crc64nvme:dPVWc2vU1+Q=\r\n\r\n',
    'A\r\ndummy data\r\nJ\r\nx-amz-checksum-crc64nvme:dPVWc2vU1+Q=\r\n\r\n',
    'A;chunk-signature=00\r\ndummy data\r\n0\r\n\r\n', // a signature where none is expected
    ' A\r\ndummy data\r\n0\r\n\r\n',
    '+A\r\ndummy data\r\n0\r\n\r\n',
    '\r\ndummy data\r\n0\r\n\r\n',
    'A\r\ndummy data\r\n0\r\nx-amz-checksum-crc64nvme:dPVWc2vU1+Q=\r\n\r\nextra', // bytes after the end
    '',
  ];
  for (const body of incompleteBodies) {
    test(`IncompleteBody: ${JSON.stringify(body)}`, async () => {
      assertS3Error(await run(unsignedTrailer(['x-amz-checksum-crc64nvme'], 10), [Buffer.from(body)]), 'IncompleteBody', 400);
      assertS3Error(await run(unsignedTrailer(['x-amz-checksum-crc64nvme'], 10), bytewise(Buffer.from(body))), 'IncompleteBody', 400);
    });
  }

  test('IncompleteBody when the decoded total is short of x-amz-decoded-content-length', async () => {
    assertS3Error(await run(unsignedTrailer([], 12), [Buffer.from('A\r\ndummy data\r\n0\r\n\r\n')]), 'IncompleteBody');
  });

  test('IncompleteBody after the end of a body without trailers', async () => {
    const seed = 'f'.repeat(64);
    const body = Buffer.concat([encode(Buffer.from('hello'), [5], { seed }), Buffer.from('\r\n')]);
    assertS3Error(await run({ signing: signing(seed), trailer: false, declaredTrailers: [] }, [body]), 'IncompleteBody');
  });

  test('signed chunks: missing or malformed chunk-signature is IncompleteBody', async () => {
    const opts: ChunkedDecoderOptions = { signing: signing('f'.repeat(64)), trailer: false, declaredTrailers: [] };
    for (const body of ['5\r\nhello\r\n0\r\n\r\n', '5;chunk-signature=abc\r\nhello\r\n', `5;chunk-sig=${'0'.repeat(64)}\r\nhello\r\n`,
      `5;chunk-signature=${'g'.repeat(64)}\r\nhello\r\n`, `5;chunk-signature=${'0'.repeat(65)}\r\nhello\r\n`]) {
      assertS3Error(await run(opts, [Buffer.from(body)]), 'IncompleteBody');
    }
  });

  test('signed chunks: a wrong signature is SignatureDoesNotMatch with the string to sign', async () => {
    const seed = 'f'.repeat(64);
    const good = encode(Buffer.from('hello'), [5], { seed }).toString('latin1');
    const bad = good.replace(/chunk-signature=([0-9a-f]{64})/, `chunk-signature=${'1'.repeat(64)}`);
    const err = assertS3Error(await run({ signing: signing(seed), trailer: false, declaredTrailers: [] }, [Buffer.from(bad, 'latin1')]),
      'SignatureDoesNotMatch', 403);
    assert.match(String(err.details.StringToSign), /^AWS4-HMAC-SHA256-PAYLOAD\n20130524T000000Z\n20130524\/us-east-1\/s3\/aws4_request\nf{64}\n/);
  });

  test('signed: the final chunk signature is verified too', async () => {
    const seed = 'f'.repeat(64);
    const good = encode(Buffer.from('hello'), [5], { seed }).toString('latin1');
    const bad = good.replace(/0;chunk-signature=[0-9a-f]{64}/, `0;chunk-signature=${'2'.repeat(64)}`);
    const outcome = await run({ signing: signing(seed), trailer: false, declaredTrailers: [] }, [Buffer.from(bad, 'latin1')]);
    assertS3Error(outcome, 'SignatureDoesNotMatch');
  });

  describe('InvalidChunkSizeError: only the last chunk may be smaller than 8192 bytes', () => {
    test('signed: `hello` in chunks of 3 → Chunk 2, BadChunkSize 3 (as S3 reports it)', async () => {
      const seed = 'f'.repeat(64);
      const body = encode(Buffer.from('hello'), [3, 2], { seed });
      const err = assertS3Error(await run({ signing: signing(seed), trailer: false, declaredTrailers: [] }, [body]), 'InvalidChunkSizeError');
      assert.equal(err.details.Chunk, 2);
      assert.equal(err.details.BadChunkSize, 3);
    });

    test('unsigned (S3 enforces it there too): 1000 + 1000 bytes', async () => {
      const payload = Buffer.alloc(2000, 'a');
      const body = encode(payload, [1000, 1000], { trailers: [] });
      const err = assertS3Error(await run(unsignedTrailer([], 2000), [body]), 'InvalidChunkSizeError');
      assert.deepEqual(err.details, { Chunk: 2, BadChunkSize: 1000 });
    });

    test('chunks of exactly 8192 bytes and a short last chunk are fine', async () => {
      const seed = 'f'.repeat(64);
      const payload = randomBytes(8192 * 2 + 10);
      const body = encode(payload, [8192, 8192, 10], { seed });
      assertOk(await run({ signing: signing(seed), trailer: false, declaredTrailers: [], decodedContentLength: payload.length }, [body]), payload);
    });

    test('a single short chunk is fine', async () => {
      const payload = Buffer.from('hello');
      assertOk(await run(unsignedTrailer([], 5), [encode(payload, [5], { trailers: [] })]), payload);
    });
  });

  describe('malformed trailers (S3: MalformedTrailerError)', () => {
    const malformed = [
      { declared: ['x-amz-checksum-crc64nvme'], body: '5\r\nhello\r\n0\r\n\r\n', why: 'declared trailer missing' },
      { declared: ['x-amz-checksum-crc64nvme'], body: '5\r\nhello\r\n0\r\n:M3eFcAZSQlc=\r\n\r\n', why: 'empty trailer name' },
      { declared: [], body: '5\r\nhello\r\n0\r\nx-amz-checksum-crc64nvme:M3eFcAZSQlc=\r\n\r\n', why: 'no x-amz-trailer header' },
      { declared: ['x-amz-checksum-crc64nvme'], body: '5\r\nhello\r\n0\r\ninvalid_trailer:M3eFcAZSQlc=\r\n\r\n', why: 'undeclared trailer' },
      { declared: ['x-amz-checksum-crc64nvme'], body: '5\r\nhello\r\n0\r\nno colon here\r\n\r\n', why: 'no colon' },
      {
        declared: ['x-amz-checksum-crc64nvme'],
        body: '5\r\nhello\r\n0\r\nx-amz-checksum-crc64nvme:M3eFcAZSQlc=\r\nx-amz-checksum-crc64nvme:M3eFcAZSQlc=\r\n\r\n',
        why: 'duplicate trailer',
      },
      {
        declared: ['x-amz-checksum-crc64nvme'],
        body: `5\r\nhello\r\n0\r\nx-amz-checksum-crc64nvme:M3eFcAZSQlc=\r\nx-amz-trailer-signature:${'0'.repeat(64)}\r\n\r\n`,
        why: 'trailer signature on an unsigned body',
      },
      { declared: ['x-amz-checksum-crc64nvme'], body: `5\r\nhello\r\n0\r\nx-amz-checksum-crc64nvme:${'A'.repeat(5000)}\r\n\r\n`, why: 'oversized line' },
    ];
    for (const { declared, body, why } of malformed) {
      test(why, async () => {
        const err = assertS3Error(await run(unsignedTrailer(declared, 5), [Buffer.from(body)]), 'MalformedTrailerError', 400);
        assert.match(err.message, /trailing data that was not well-formed/);
      });
    }
  });

  test('signed trailer with several trailers: sorted canonical form (SDKs) and the order as sent both verify', async () => {
    const seed = 'f'.repeat(64);
    const payload = Buffer.from('hello');
    const trailers: Array<[string, string]> = [['x-amz-meta-b', '2'], ['x-amz-meta-a', '1']];
    const opts: ChunkedDecoderOptions = { signing: signing(seed), trailer: true, declaredTrailers: ['x-amz-meta-a', 'x-amz-meta-b'] };
    const outcome = await run(opts, [encode(payload, [5], { seed, trailers })]);
    assertOk(outcome, payload);
    assert.deepEqual(Object.fromEntries(outcome.trailers), { 'x-amz-meta-a': '1', 'x-amz-meta-b': '2' });
  });
});

// ---------------------------------------------------------------------------------------------
// Bounds: nothing is buffered beyond a small constant before a refusal
// ---------------------------------------------------------------------------------------------

describe('bounded buffering', () => {
  test('a signed chunk larger than the cap is refused from its header alone', async () => {
    const decoder = new ChunkedDecoder({ signing: signing('f'.repeat(64)), trailer: false, declaredTrailers: [] });
    const failure = new Promise<unknown>((resolve) => decoder.on('error', resolve));
    decoder.write(Buffer.from(`1000001;chunk-signature=${'0'.repeat(64)}\r\n`));
    const err = await failure;
    assert.ok(err instanceof S3Error);
    assert.equal(err.code, 'InvalidRequest');
    assert.match(err.message, /exceeds the maximum/);
  });

  test('the cap is configurable', async () => {
    const seed = 'f'.repeat(64);
    const payload = randomBytes(20_000);
    const opts: ChunkedDecoderOptions = { signing: signing(seed), trailer: false, declaredTrailers: [], maxChunkSize: 10_000 };
    assertS3Error(await run(opts, [encode(payload, [20_000], { seed })]), 'InvalidRequest');
    assertOk(await run(opts, [encode(payload, [10_000, 10_000], { seed })]), payload);
  });

  test('an endless chunk header line is refused after a few hundred bytes', async () => {
    const decoder = new ChunkedDecoder(unsignedTrailer([]));
    const failure = new Promise<unknown>((resolve) => decoder.on('error', resolve));
    for (let i = 0; i < 10 && !decoder.destroyed; i++) decoder.write(Buffer.alloc(100, '1'));
    const err = await failure;
    assert.ok(err instanceof S3Error);
    assert.equal(err.code, 'IncompleteBody');
  });

  test('more than 16 hex digits is refused', async () => {
    assertS3Error(await run(unsignedTrailer([]), [Buffer.from('00000000000000001\r\nx\r\n0\r\n\r\n')]), 'IncompleteBody');
  });

  test('a chunk declaring more than x-amz-decoded-content-length is refused at its header', async () => {
    const decoder = new ChunkedDecoder(unsignedTrailer([], 100));
    const failure = new Promise<unknown>((resolve) => decoder.on('error', resolve));
    decoder.write(Buffer.from('ffffffff\r\n'));
    const err = await failure;
    assert.ok(err instanceof S3Error);
    assert.equal(err.code, 'IncompleteBody');
  });

  test('many small writes into one large signed chunk stay linear (4 MiB chunk in 64-byte writes)', { timeout: 30_000 }, async () => {
    const seed = 'f'.repeat(64);
    const payload = randomBytes(4 * 1024 * 1024);
    const body = encode(payload, [payload.length], { seed });
    const pieces: Buffer[] = [];
    for (let i = 0; i < body.length; i += 64) pieces.push(body.subarray(i, i + 64));
    const started = process.hrtime.bigint();
    assertOk(await run({ signing: signing(seed), trailer: false, declaredTrailers: [], decodedContentLength: payload.length }, pieces), payload);
    // Quadratic re-buffering would copy ~128 GiB here; linear code takes well under a second.
    assert.ok(Number(process.hrtime.bigint() - started) / 1e9 < 20);
  });
});

// ---------------------------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------------------------

type Mode = 'signed' | 'signed-trailer' | 'unsigned-trailer' | 'unsigned';
const MODES: Mode[] = ['signed', 'signed-trailer', 'unsigned-trailer', 'unsigned'];
const SEED = 'a'.repeat(64);
const TRAILER: [string, string] = ['x-amz-checksum-crc32', 'AAAAAA=='];

function setup(mode: Mode, payload: Buffer, sizes: number[], minChunkSize = 0): { body: Buffer; options: ChunkedDecoderOptions } {
  const signed = mode === 'signed' || mode === 'signed-trailer';
  const withTrailer = mode === 'signed-trailer' || mode === 'unsigned-trailer';
  const body = encode(payload, sizes, { seed: signed ? SEED : undefined, trailers: withTrailer ? [TRAILER] : undefined });
  const options: ChunkedDecoderOptions = {
    signing: signed ? signing(SEED) : undefined,
    trailer: withTrailer,
    declaredTrailers: withTrailer ? [TRAILER[0]] : [],
    decodedContentLength: payload.length,
    minChunkSize,
  };
  return { body, options };
}

/** A payload and a partition of it into chunk sizes. */
const payloadAndSizes = fc.uint8Array({ minLength: 0, maxLength: 3000 }).chain((bytes) =>
  fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 20 }).map((steps) => {
    const payload = Buffer.from(bytes);
    const sizes: number[] = [];
    let left = payload.length;
    for (let i = 0; left > 0; i++) {
      const size = Math.min(left, steps[i % steps.length] as number);
      sizes.push(size);
      left -= size;
    }
    return { payload, sizes };
  }));

const cuts = fc.array(fc.nat(), { maxLength: 40 });

describe('properties', () => {
  test('round trip: any payload, chunking and write split decodes to the same bytes with valid signatures', { timeout: 120_000 }, async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...MODES), payloadAndSizes, cuts, async (mode, { payload, sizes }, splitAt) => {
      const { body, options } = setup(mode, payload, sizes);
      const outcome = await run(options, split(body, splitAt));
      assertOk(outcome, payload);
      if (options.trailer) assert.equal(outcome.trailers.get(TRAILER[0]), TRAILER[1]);
    }), { numRuns: 400 });
  });

  test('round trip with S3\'s 8 KiB minimum chunk size', { timeout: 120_000 }, async () => {
    const big = fc.tuple(fc.integer({ min: 0, max: 60_000 }), fc.integer({ min: 8192, max: 30_000 }), fc.integer());
    await fc.assert(fc.asyncProperty(fc.constantFrom(...MODES), big, cuts, async (mode, [length, size, seed], splitAt) => {
      const payload = Buffer.alloc(length, seed & 0xff);
      const { body, options } = setup(mode, payload, chunkSizes(length, size), 8192);
      assertOk(await run(options, split(body, splitAt)), payload);
    }), { numRuns: 60 });
  });

  test('any truncation is an S3Error, never a success', { timeout: 120_000 }, async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...MODES), payloadAndSizes, fc.nat(), cuts, async (mode, { payload, sizes }, at, splitAt) => {
      const { body, options } = setup(mode, payload, sizes);
      const truncated = body.subarray(0, at % body.length);
      const outcome = await run(options, split(truncated, splitAt));
      assert.ok(outcome.error instanceof S3Error, `truncation at ${truncated.length}/${body.length} was accepted`);
      assert.ok(payload.subarray(0, outcome.out.length).equals(outcome.out), 'output must be a prefix of the payload');
    }), { numRuns: 400 });
  });

  test('signed bodies: any byte flip is an S3Error (or, for a case-only change, the same payload); unverified bytes never come out',
    { timeout: 120_000 }, async () => {
      const signedModes: Mode[] = ['signed', 'signed-trailer'];
      await fc.assert(fc.asyncProperty(fc.constantFrom(...signedModes), payloadAndSizes, fc.nat(), fc.integer({ min: 1, max: 255 }), cuts,
        async (mode, { payload, sizes }, at, xor, splitAt) => {
          const { body, options } = setup(mode, payload, sizes);
          const flipped = Buffer.from(body);
          const index = at % flipped.length;
          flipped[index] = (flipped[index] as number) ^ xor;
          const outcome = await run(options, split(flipped, splitAt));
          if (outcome.error === undefined) {
            // Only a change the protocol does not see (e.g. hex digit case) may succeed, and then with the same data.
            assert.ok(outcome.out.equals(payload), 'success with wrong data');
            assert.equal(outcome.trailers.get(TRAILER[0]) ?? TRAILER[1], TRAILER[1]);
          } else {
            assert.ok(outcome.error instanceof S3Error, `non-S3 error: ${String(outcome.error)}`);
          }
          // Whatever came out before a failure is whole verified chunks: a prefix ending on a chunk boundary.
          const boundaries = new Set([0]);
          let sum = 0;
          for (const size of sizes) boundaries.add(sum += size);
          assert.ok(boundaries.has(outcome.out.length), `output of ${outcome.out.length} bytes is not whole chunks`);
          assert.ok(payload.subarray(0, outcome.out.length).equals(outcome.out));
        }), { numRuns: 600 });
    });

  test('unsigned bodies: a flip outside the data is an S3Error or leaves the payload intact', { timeout: 120_000 }, async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom<Mode>('unsigned', 'unsigned-trailer'), payloadAndSizes, fc.nat(), fc.integer({ min: 1, max: 255 }),
      async (mode, { payload, sizes }, at, xor) => {
        const { body, options } = setup(mode, payload, sizes);
        const flipped = Buffer.from(body);
        const index = at % flipped.length;
        flipped[index] = (flipped[index] as number) ^ xor;
        const outcome = await run(options, [flipped]);
        if (outcome.error !== undefined) assert.ok(outcome.error instanceof S3Error, String(outcome.error));
        else assert.equal(outcome.out.length, payload.length);
      }), { numRuns: 400 });
  });

  test('arbitrary garbage only ever produces an S3Error (or a well-formed success)', { timeout: 120_000 }, async () => {
    const alphabet = fc.constantFrom(...'0123456789abcdefABCDEF;:=\r\n-xz chunk-signature='.split('').map((c) => c.charCodeAt(0)));
    const garbage = fc.oneof(
      fc.uint8Array({ maxLength: 400 }),
      fc.array(alphabet, { maxLength: 400 }).map((a) => Uint8Array.from(a)),
    );
    await fc.assert(fc.asyncProperty(fc.constantFrom(...MODES), garbage, cuts, fc.boolean(), async (mode, bytes, splitAt, withLength) => {
      const { options } = setup(mode, Buffer.alloc(0), []);
      const opts = { ...options, decodedContentLength: withLength ? 10 : undefined };
      const outcome = await run(opts, split(Buffer.from(bytes), splitAt));
      if (outcome.error !== undefined) assert.ok(outcome.error instanceof S3Error, `non-S3 error: ${String(outcome.error)}`);
      else if (opts.signing) assert.fail('garbage passed signature verification');
    }), { numRuns: 1500 });
  });

  test('spliced valid bodies (a structural mutation) only produce an S3Error or the exact payload', { timeout: 120_000 }, async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...MODES), payloadAndSizes, fc.nat(), fc.nat(), fc.uint8Array({ maxLength: 30 }),
      async (mode, { payload, sizes }, a, b, insert) => {
        const { body, options } = setup(mode, payload, sizes);
        const from = a % (body.length + 1);
        const to = from + (b % (body.length - from + 1));
        const mutated = Buffer.concat([body.subarray(0, from), Buffer.from(insert), body.subarray(to)]);
        const outcome = await run(options, [mutated]);
        if (outcome.error !== undefined) assert.ok(outcome.error instanceof S3Error, String(outcome.error));
        else if (options.signing) assert.ok(outcome.out.equals(payload), 'a signed body decoded to other bytes');
      }), { numRuns: 400 });
  });
});
