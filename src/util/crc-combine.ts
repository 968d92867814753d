/**
 * CRC combination: crc(A || B) from crc(A), crc(B) and len(B), without the data.
 *
 * This is zlib's crc32_combine (the x^n mod P method) generalised to the three CRCs S3
 * uses. S3 needs it for multipart uploads with a FULL_OBJECT checksum: the object's CRC
 * is built from the per-part CRCs and part lengths at CompleteMultipartUpload, so the
 * parts never have to be read again.
 *
 * Why it works: all three CRCs are reflected, with init = xorout = all ones. Writing
 * reg(s, M) for the raw register after M from state s, reg is affine in s:
 * reg(s, M) = s·x^(8|M|) ⊕ reg(0, M). Substituting, the init/xorout terms cancel and
 * crc(A || B) = crc(A)·x^(8|B|) mod P ⊕ crc(B). So one multiplication by x^(8|B|)
 * mod P, which x2nmodp builds from precomputed x^(2^k) in O(log |B|) products.
 *
 * Polynomials are in the reflected bit order used by the CRC registers: the most
 * significant bit of the register is the coefficient of x^0.
 */

/** The CRCs whose values can be combined (S3's FULL_OBJECT checksum algorithms). */
export type CrcAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME';

/** Reflected generator polynomials. */
const POLY32: Record<'CRC32' | 'CRC32C', number> = {
  CRC32: 0xedb88320, // ISO-HDLC / zlib
  CRC32C: 0x82f63b78, // Castagnoli
};
const POLY64_HI = 0x9a6c9329; // CRC-64/NVME, reflected 0x9a6c9329ac4bc9b5
const POLY64_LO = 0xac4bc9b5;

// Table size: lenB is a JS safe integer (< 2^53 bytes) and x2nmodp starts at k = 3
// (bytes to bits), so indices stay below 3 + 53 = 56.
const X2N_ENTRIES = 64;

// ---- 32-bit -------------------------------------------------------------------------

/** a·b mod P for 32-bit reflected polynomials. */
function mul32(a: number, b: number, poly: number): number {
  let p = 0;
  for (let m = 0x80000000; m !== 0 && a !== 0; m >>>= 1) {
    if (a & m) {
      p ^= b;
      a = (a & ~m) >>> 0;
    }
    b = b & 1 ? (b >>> 1) ^ poly : b >>> 1;
  }
  return p >>> 0;
}

function x2nTable32(poly: number): Uint32Array {
  const t = new Uint32Array(X2N_ENTRIES);
  let p = 0x40000000; // x^1
  for (let k = 0; k < X2N_ENTRIES; k++) {
    t[k] = p;
    p = mul32(p, p, poly);
  }
  return t;
}

const X2N32: Record<'CRC32' | 'CRC32C', Uint32Array> = {
  CRC32: x2nTable32(POLY32.CRC32),
  CRC32C: x2nTable32(POLY32.CRC32C),
};

/** x^(n·2^k) mod P. */
function x2nmodp32(n: number, k: number, table: Uint32Array, poly: number): number {
  let p = 0x80000000; // x^0
  while (n > 0) {
    if (n % 2 === 1) p = mul32(table[k]!, p, poly);
    n = Math.floor(n / 2);
    k++;
  }
  return p;
}

// ---- 64-bit, as two 32-bit halves (BigInt would be ~100x slower) --------------------

/** a·b mod P for CRC-64/NVME; values are [hi, lo] with hi's top bit = x^0. */
function mul64(aHi: number, aLo: number, bHi: number, bLo: number): [number, number] {
  let pHi = 0;
  let pLo = 0;
  for (let i = 0; i < 64; i++) {
    const bit = i < 32 ? (aHi >>> (31 - i)) & 1 : (aLo >>> (63 - i)) & 1;
    if (bit) {
      pHi ^= bHi;
      pLo ^= bLo;
    }
    // b·x: shift towards higher powers (right, in reflected order); reduce on x^64.
    const carry = bLo & 1;
    bLo = (bLo >>> 1) | ((bHi & 1) << 31);
    bHi >>>= 1;
    if (carry) {
      bHi ^= POLY64_HI;
      bLo ^= POLY64_LO;
    }
  }
  return [pHi >>> 0, pLo >>> 0];
}

const X2N64: [number, number][] = (() => {
  const t: [number, number][] = [];
  let p: [number, number] = [0x40000000, 0]; // x^1
  for (let k = 0; k < X2N_ENTRIES; k++) {
    t.push(p);
    p = mul64(p[0], p[1], p[0], p[1]);
  }
  return t;
})();

function x2nmodp64(n: number, k: number): [number, number] {
  let p: [number, number] = [0x80000000, 0]; // x^0
  while (n > 0) {
    if (n % 2 === 1) {
      const t = X2N64[k]!;
      p = mul64(t[0], t[1], p[0], p[1]);
    }
    n = Math.floor(n / 2);
    k++;
  }
  return p;
}

// ---- public ------------------------------------------------------------------------

function digestLength(alg: CrcAlgorithm): number {
  return alg === 'CRC64NVME' ? 8 : 4;
}

/** crc(A || B) from crc(A), crc(B) (big-endian digests, as S3 encodes them) and len(B) in bytes. */
export function combineCrc(alg: CrcAlgorithm, crcA: Buffer, crcB: Buffer, lenB: number): Buffer {
  const width = digestLength(alg);
  if (crcA.length !== width || crcB.length !== width) {
    throw new RangeError(`combineCrc(${alg}): digests must be ${width} bytes`);
  }
  if (!Number.isSafeInteger(lenB) || lenB < 0) {
    throw new RangeError(`combineCrc(${alg}): invalid length ${lenB}`);
  }
  const out = Buffer.allocUnsafe(width);
  if (alg === 'CRC64NVME') {
    const [xHi, xLo] = x2nmodp64(lenB, 3);
    const [pHi, pLo] = mul64(xHi, xLo, crcA.readUInt32BE(0), crcA.readUInt32BE(4));
    out.writeUInt32BE((pHi ^ crcB.readUInt32BE(0)) >>> 0, 0);
    out.writeUInt32BE((pLo ^ crcB.readUInt32BE(4)) >>> 0, 4);
  } else {
    const poly = POLY32[alg];
    const x = x2nmodp32(lenB, 3, X2N32[alg], poly);
    out.writeUInt32BE((mul32(x, crcA.readUInt32BE(0), poly) ^ crcB.readUInt32BE(0)) >>> 0, 0);
  }
  return out;
}

/** The CRC of the concatenation of parts, from each part's CRC and length (FULL_OBJECT multipart checksum). */
export function combineCrcParts(alg: CrcAlgorithm, parts: readonly { crc: Buffer; length: number }[]): Buffer {
  // The CRC of the empty string is 0 for all three algorithms (init and xorout cancel).
  let acc: Buffer = Buffer.alloc(digestLength(alg));
  for (const part of parts) acc = combineCrc(alg, acc, part.crc, part.length);
  return acc;
}
