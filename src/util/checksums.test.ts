import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Crc64Nvme } from '@aws-sdk/crc64-nvme';
import {
  type ChecksumAlgorithm,
  CHECKSUM_ALGORITHMS,
  algorithmOfHeader,
  checksumHeader,
  checksumOf,
  compositeChecksum,
  createChecksum,
  crc64NvmeUpdate,
  decodeChecksumValue,
  fullObjectChecksum,
  parseChecksumAlgorithm,
  supportsChecksumType,
  verifyChecksum,
} from './checksums.js';
import { S3Error } from '../errors/s3-errors.js';

// Vectors from the AWS SDKs' flexible-checksum tests (aws-sdk-js-v3, aws-sdk-java-v2,
// aws-sdk-net, botocore), plus the Rocksoft "123456789" check values.
const VECTORS: [string, ChecksumAlgorithm, string][] = [
  ['', 'CRC32', 'AAAAAA=='],
  ['abc', 'CRC32', 'NSRBwg=='],
  ['Hello world', 'CRC32', 'i9aeUg=='],
  ['hello world', 'CRC32', 'DUoRhQ=='],
  ['', 'CRC32C', 'AAAAAA=='],
  ['abc', 'CRC32C', 'Nks/tw=='],
  ['Hello world', 'CRC32C', 'crUfeA=='],
  ['', 'CRC64NVME', 'AAAAAAAAAAA='],
  ['abc', 'CRC64NVME', 'BeXKuz/B+us='],
  ['Hello world', 'CRC64NVME', 'OOJZ0D8xKts='],
  ['', 'SHA1', '2jmj7l5rSw0yVb/vlWAYkK/YBwk='],
  ['abc', 'SHA1', 'qZk+NkcGgWq6PiVxeFDCbJzQ2J0='],
  ['Hello world', 'SHA1', 'e1AsOh9IyGCa4hLN+2Od7jlnP14='],
  ['', 'SHA256', '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='],
  ['abc', 'SHA256', 'ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0='],
  ['Hello world', 'SHA256', 'ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw='],
];

const CHECK_123456789: [ChecksumAlgorithm, string][] = [
  ['CRC32', 'cbf43926'],
  ['CRC32C', 'e3069283'],
  ['CRC64NVME', 'ae8b14860a799888'],
];

/** Bit-at-a-time CRC-64/NVME with BigInt: slow, obviously correct, the reference for the table code. */
function crc64Reference(data: Uint8Array): Buffer {
  let crc = 0xffffffffffffffffn;
  for (const byte of data) {
    crc ^= BigInt(byte);
    for (let k = 0; k < 8; k++) crc = crc & 1n ? (crc >> 1n) ^ 0x9a6c9329ac4bc9b5n : crc >> 1n;
  }
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(crc ^ 0xffffffffffffffffn);
  return out;
}

test('known vectors, one update', () => {
  for (const [input, alg, expected] of VECTORS) {
    assert.equal(checksumOf(alg, Buffer.from(input)).toString('base64'), expected, `${alg}(${JSON.stringify(input)})`);
  }
  for (const [alg, hex] of CHECK_123456789) {
    assert.equal(checksumOf(alg, Buffer.from('123456789')).toString('hex'), hex, alg);
  }
});

test('known vectors, byte-by-byte updates', () => {
  for (const [input, alg, expected] of VECTORS) {
    const c = createChecksum(alg);
    for (const b of Buffer.from(input)) c.update(Buffer.from([b]));
    assert.equal(c.digest().toString('base64'), expected, `${alg}(${JSON.stringify(input)})`);
  }
});

test('CRC64NVME: more published vectors', () => {
  // aws-c-s3 "aaaaaaaaaa"; aws-checksums 32 zero bytes.
  assert.equal(checksumOf('CRC64NVME', Buffer.from('aaaaaaaaaa')).toString('hex'), '0c1a80036d65c555');
  assert.equal(checksumOf('CRC64NVME', Buffer.alloc(32)).toString('hex'), 'cf3473434d4ecf3b');
});

test('CRC64NVME: table code equals the bitwise reference at every alignment and length', () => {
  const big = randomBytes(300);
  for (let off = 0; off < 8; off++) {
    for (const len of [0, 1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 200, 291]) {
      const slice = big.subarray(off, off + len);
      assert.deepEqual(checksumOf('CRC64NVME', slice), crc64Reference(slice), `off ${off} len ${len}`);
    }
  }
});

test('CRC64NVME: split updates equal one update (property)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(600), { maxLength: 6 }), (data, cuts) => {
      const buf = Buffer.from(data);
      const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
      const c = createChecksum('CRC64NVME');
      let prev = 0;
      for (const p of [...points, buf.length]) {
        c.update(buf.subarray(prev, p));
        prev = p;
      }
      assert.deepEqual(c.digest(), crc64Reference(buf));
    }),
    { numRuns: 300 },
  );
});

test('CRC64NVME agrees with @aws-sdk/crc64-nvme on random data', async () => {
  for (const len of [0, 1, 7, 16, 1000, 65536 + 3, 1 << 20]) {
    const data = randomBytes(len + 1).subarray(1); // unaligned start
    const sdk = new Crc64Nvme();
    sdk.update(data);
    assert.deepEqual(checksumOf('CRC64NVME', data), Buffer.from(await sdk.digest()), `len ${len}`);
  }
});

test('crc64NvmeUpdate keeps raw register state', () => {
  const [lo, hi] = crc64NvmeUpdate(Buffer.from('Hello world'), -1, -1);
  const out = Buffer.alloc(8);
  out.writeUInt32BE(~hi >>> 0, 0);
  out.writeUInt32BE(~lo >>> 0, 4);
  assert.equal(out.toString('base64'), 'OOJZ0D8xKts=');
});

test('all algorithms: split updates equal one update on large random data', () => {
  const data = randomBytes(1 << 20);
  for (const alg of CHECKSUM_ALGORITHMS) {
    const c = createChecksum(alg);
    for (let o = 0; o < data.length; o += 12345) c.update(data.subarray(o, o + 12345));
    assert.deepEqual(c.digest(), checksumOf(alg, data), alg);
  }
});

test('checksumHeader / algorithmOfHeader', () => {
  assert.equal(checksumHeader('CRC32'), 'x-amz-checksum-crc32');
  assert.equal(checksumHeader('CRC32C'), 'x-amz-checksum-crc32c');
  assert.equal(checksumHeader('CRC64NVME'), 'x-amz-checksum-crc64nvme');
  assert.equal(checksumHeader('SHA1'), 'x-amz-checksum-sha1');
  assert.equal(checksumHeader('SHA256'), 'x-amz-checksum-sha256');
  for (const alg of CHECKSUM_ALGORITHMS) assert.equal(algorithmOfHeader(checksumHeader(alg).toUpperCase()), alg);
  assert.equal(algorithmOfHeader('x-amz-checksum-md5'), undefined);
  assert.equal(algorithmOfHeader('x-amz-checksum-type'), undefined);
});

test('parseChecksumAlgorithm: case-insensitive, unknown is InvalidRequest', () => {
  assert.equal(parseChecksumAlgorithm('crc32'), 'CRC32');
  assert.equal(parseChecksumAlgorithm('Crc32C'), 'CRC32C');
  assert.equal(parseChecksumAlgorithm('crc64nvme'), 'CRC64NVME');
  assert.equal(parseChecksumAlgorithm('sha1'), 'SHA1');
  assert.equal(parseChecksumAlgorithm('SHA256'), 'SHA256');
  for (const bad of ['', 'md5', 'sha-256', 'crc64', 'xxhash64']) {
    assert.throws(() => parseChecksumAlgorithm(bad), (e: unknown) => e instanceof S3Error && e.code === 'InvalidRequest');
  }
  assert.throws(
    () => parseChecksumAlgorithm('nope', 'x-amz-checksum-algorithm'),
    (e: unknown) => e instanceof S3Error && e.message === 'Value for x-amz-checksum-algorithm header is invalid.',
  );
});

test('decodeChecksumValue / verifyChecksum', () => {
  const d = checksumOf('CRC32', Buffer.from('Hello world'));
  assert.deepEqual(decodeChecksumValue('CRC32', 'i9aeUg=='), d);
  verifyChecksum('CRC32', d, 'i9aeUg==');
  assert.throws(() => verifyChecksum('CRC32', d, 'DUoRhQ=='), (e: unknown) => e instanceof S3Error && e.code === 'BadDigest');
  // Wrong length, not base64, non-canonical: InvalidRequest, not BadDigest.
  for (const bad of ['AAAA', 'i9aeUg', '!!!!!!==', 'AAAAAAAAAAA=']) {
    assert.throws(() => verifyChecksum('CRC32', d, bad), (e: unknown) => e instanceof S3Error && e.code === 'InvalidRequest', bad);
  }
});

test('compositeChecksum: checksum of concatenated part digests, -N', () => {
  const parts = [randomBytes(1000), randomBytes(2000), randomBytes(5)];
  for (const alg of ['CRC32', 'CRC32C', 'SHA1', 'SHA256'] as const) {
    const digests = parts.map((p) => checksumOf(alg, p));
    const expected = checksumOf(alg, Buffer.concat(digests)).toString('base64');
    assert.equal(compositeChecksum(alg, digests), `${expected}-3`);
  }
  // A worked example: SHA256 over two SHA256 part digests.
  const a = checksumOf('SHA256', Buffer.from('a'));
  const b = checksumOf('SHA256', Buffer.from('b'));
  assert.equal(compositeChecksum('SHA256', [a, b]), `${checksumOf('SHA256', Buffer.concat([a, b])).toString('base64')}-2`);
  assert.throws(() => compositeChecksum('CRC64NVME', [a]), (e: unknown) => e instanceof S3Error && e.code === 'InvalidRequest');
});

test('fullObjectChecksum equals the checksum of all the bytes', () => {
  const parts = [randomBytes(5 << 20), randomBytes(123457), Buffer.alloc(0), randomBytes(1)];
  const whole = Buffer.concat(parts);
  for (const alg of ['CRC32', 'CRC32C', 'CRC64NVME'] as const) {
    const got = fullObjectChecksum(alg, parts.map((p) => ({ crc: checksumOf(alg, p), length: p.length })));
    assert.equal(got, checksumOf(alg, whole).toString('base64'), alg);
  }
});

test('supportsChecksumType follows S3', () => {
  assert.ok(supportsChecksumType('CRC32', 'COMPOSITE') && supportsChecksumType('CRC32', 'FULL_OBJECT'));
  assert.ok(supportsChecksumType('CRC32C', 'COMPOSITE') && supportsChecksumType('CRC32C', 'FULL_OBJECT'));
  assert.ok(!supportsChecksumType('CRC64NVME', 'COMPOSITE') && supportsChecksumType('CRC64NVME', 'FULL_OBJECT'));
  assert.ok(supportsChecksumType('SHA1', 'COMPOSITE') && !supportsChecksumType('SHA1', 'FULL_OBJECT'));
  assert.ok(supportsChecksumType('SHA256', 'COMPOSITE') && !supportsChecksumType('SHA256', 'FULL_OBJECT'));
});
