/**
 * Key ordering helpers. S3 lists keys in UTF-8 byte order, which for well-formed strings is
 * Unicode code point order, and differs from JavaScript's UTF-16 `<` for characters above
 * U+FFFF (an astral character sorts after U+FFFF in UTF-8 but before it in UTF-16).
 */

/** Replaces lone surrogates with U+FFFD, which is what a UTF-8 encoder (and so SQLite) stores. */
export function wellFormed(s: string): string {
  return s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** Compares two strings in UTF-8 byte order (S3's key order). */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The smallest string greater than every string that starts with `prefix`, or undefined when
 * there is none (empty prefix, or a prefix made only of U+10FFFF). Works on code points, so the
 * bound is always valid UTF-8: the last code point is incremented (skipping the surrogate block),
 * or dropped when it is already U+10FFFF.
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const cps = Array.from(wellFormed(prefix), (c) => c.codePointAt(0)!);
  while (cps.length > 0) {
    const last = cps.pop()!;
    if (last < 0x10ffff) {
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
      return String.fromCodePoint(...cps, next);
    }
  }
  return undefined;
}
