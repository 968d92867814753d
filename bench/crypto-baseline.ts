/**
 * Single-core node:crypto throughput over a 64 MiB buffer, fed in 64 KiB updates (the chunk
 * size a node:http request stream delivers), best of several repetitions. This is the
 * per-byte CPU floor of Kura's large-object paths, which run crypto on the main thread.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export interface CryptoResult {
  name: string;
  mibPerSec: number;
  /** CPU nanoseconds per byte (1e9 / bytes-per-second). */
  nsPerByte: number;
}

export interface CryptoBaseline {
  bufferMiB: number;
  chunkKiB: number;
  results: CryptoResult[];
  /** Look up a result by name. */
  get(name: string): CryptoResult | undefined;
}

type Pass = (buf: Buffer, chunk: number) => void;

const KEY = randomBytes(32);
const IV = randomBytes(12);

function aesEncrypt(buf: Buffer, chunk: number): void {
  const c = createCipheriv('aes-256-gcm', KEY, IV);
  for (let o = 0; o < buf.length; o += chunk) c.update(buf.subarray(o, o + chunk));
  c.final();
  c.getAuthTag();
}

let ciphertext: { data: Buffer; tag: Buffer } | undefined;
function aesDecrypt(buf: Buffer, chunk: number): void {
  if (!ciphertext || ciphertext.data.length !== buf.length) {
    const c = createCipheriv('aes-256-gcm', KEY, IV);
    const data = Buffer.concat([c.update(buf), c.final()]);
    ciphertext = { data, tag: c.getAuthTag() };
  }
  const d = createDecipheriv('aes-256-gcm', KEY, IV);
  d.setAuthTag(ciphertext.tag);
  const ct = ciphertext.data;
  for (let o = 0; o < ct.length; o += chunk) d.update(ct.subarray(o, o + chunk));
  d.final();
}

function hashPass(alg: string): Pass {
  return (buf, chunk) => {
    const h = createHash(alg);
    for (let o = 0; o < buf.length; o += chunk) h.update(buf.subarray(o, o + chunk));
    h.digest();
  };
}

/** MD5 + AES-256-GCM in one pass, chunk by chunk: the unsigned large-PUT server path. */
function md5Aes(buf: Buffer, chunk: number): void {
  const h = createHash('md5');
  const c = createCipheriv('aes-256-gcm', KEY, IV);
  for (let o = 0; o < buf.length; o += chunk) {
    const s = buf.subarray(o, o + chunk);
    h.update(s);
    c.update(s);
  }
  h.digest();
  c.final();
}

/** MD5 + SHA-256 + AES-256-GCM in one pass: the signed-payload large-PUT server path. */
function md5ShaAes(buf: Buffer, chunk: number): void {
  const h = createHash('md5');
  const s2 = createHash('sha256');
  const c = createCipheriv('aes-256-gcm', KEY, IV);
  for (let o = 0; o < buf.length; o += chunk) {
    const s = buf.subarray(o, o + chunk);
    h.update(s);
    s2.update(s);
    c.update(s);
  }
  h.digest();
  s2.digest();
  c.final();
}

export const CRYPTO_PASSES: ReadonlyArray<readonly [string, Pass]> = [
  ['AES-256-GCM encrypt', aesEncrypt],
  ['AES-256-GCM decrypt', aesDecrypt],
  ['MD5', hashPass('md5')],
  ['SHA-256', hashPass('sha256')],
  ['MD5 + AES-256-GCM (one pass)', md5Aes],
  ['MD5 + SHA-256 + AES-256-GCM (one pass)', md5ShaAes],
];

export function measureCrypto(buf: Buffer, opts: { chunk?: number; reps?: number; minSeconds?: number } = {}): CryptoBaseline {
  const chunk = opts.chunk ?? 64 * 1024;
  const reps = opts.reps ?? 8;
  const minSeconds = opts.minSeconds ?? 1;
  const results: CryptoResult[] = [];
  for (const [name, pass] of CRYPTO_PASSES) {
    pass(buf, chunk); // warm-up (and, for decrypt, prepares the ciphertext)
    let best = Infinity;
    let total = 0;
    for (let r = 0; r < reps || total < minSeconds; r++) {
      const t = process.hrtime.bigint();
      pass(buf, chunk);
      const s = Number(process.hrtime.bigint() - t) / 1e9;
      best = Math.min(best, s);
      total += s;
      if (r >= 50) break;
    }
    const bps = buf.length / best;
    results.push({ name, mibPerSec: bps / 2 ** 20, nsPerByte: 1e9 / bps });
  }
  return {
    bufferMiB: buf.length / 2 ** 20,
    chunkKiB: chunk / 1024,
    results,
    get: (name) => results.find((r) => r.name === name),
  };
}
