/**
 * IAM wildcard matching (`*` = any run of characters including none, `?` = exactly one),
 * compiled once per pattern, without regular expressions.
 *
 * A pattern `c0*c1*…*ck` is kept as its star-separated chunks. c0 is anchored at the
 * start, ck at the end, and each middle chunk is placed at its leftmost occurrence after
 * the previous one. Leftmost placement is optimal (a later placement never leaves more
 * room for what follows), so there is no backtracking at all. Cost: O(|s|) string
 * compares for patterns without `?` (middle chunks use the native indexOf); with `?`
 * inside a middle chunk the search is naive, O(|s|·|chunk|). Worst case O(|s|·|p|); never
 * exponential, whatever an untrusted policy author writes.
 *
 * Characters are UTF-16 code units (`?` matches one code unit). Pure: no I/O.
 */

/** One piece of pattern input: text whose `*`/`?` are wildcards, or literal text (escapes, variable values). */
export interface PatternPart {
  text: string;
  literal: boolean;
}

/** A compiled wildcard pattern. */
export interface Glob {
  /**
   * True when `s.slice(from)` matches the whole pattern. For a case-insensitive glob `s`
   * must already be folded with `foldCase` (fold once per request, not per pattern).
   */
  test(s: string, from?: number): boolean;
  /** True when the pattern has at least one wildcard. */
  readonly hasWildcard: boolean;
  /** True when the last pattern element is a `*` wildcard. */
  readonly endsWithStar: boolean;
  /** True when the pattern is a lone `*` (matches everything). */
  readonly matchesAll: boolean;
}

/** Case folding used by every case-insensitive comparison in the policy engine. */
export function foldCase(s: string): string {
  return s.toLowerCase();
}

interface Chunk {
  text: string;
  /** Positions of `?` wildcards in `text`, or null when the chunk has none. */
  any: Uint8Array | null;
}

const QMARK = 63; // '?'

/**
 * Does `t` occur in `s` at `at`? (Past the end charCodeAt is NaN, so a short `s` fails.)
 * Compared back to front: a policy's patterns share long heads (`arn:aws:s3:::bucket/`),
 * so a mismatch usually shows in the first characters compared; measured faster than
 * String.prototype.startsWith on Node 20, whose call is not inlined.
 */
export function literalAt(t: string, s: string, at: number): boolean {
  for (let i = t.length - 1; i >= 0; i--) if (s.charCodeAt(at + i) !== t.charCodeAt(i)) return false;
  return true;
}

function chunkAt(c: Chunk, s: string, at: number): boolean {
  const t = c.text;
  const any = c.any;
  if (any === null) return literalAt(t, s, at);
  for (let i = t.length - 1; i >= 0; i--) {
    if (any[i] === 1) continue;
    if (s.charCodeAt(at + i) !== t.charCodeAt(i)) return false;
  }
  return true;
}

/** Leftmost start >= from where chunk c fits entirely before `limit`; -1 if none. */
function findChunk(c: Chunk, s: string, from: number, limit: number): number {
  const len = c.text.length;
  if (len === 0) return from;
  if (c.any === null) {
    const i = s.indexOf(c.text, from);
    return i >= 0 && i + len <= limit ? i : -1;
  }
  for (let at = from; at + len <= limit; at++) if (chunkAt(c, s, at)) return at;
  return -1;
}

/**
 * A flat copy of `s`. Text built with `+=` is a rope (V8 ConsString); charCodeAt on a rope
 * walks it every time, so pattern text is flattened once here.
 */
export function flat(s: string): string {
  return s.length < 2 ? s : s.split('').join('');
}

function makeChunk(chars: string, anyMask: number[]): Chunk {
  if (anyMask.length === 0) return { text: flat(chars), any: null };
  const any = new Uint8Array(chars.length);
  for (const i of anyMask) any[i] = 1;
  return { text: flat(chars), any };
}

class ChunkGlob implements Glob {
  readonly hasWildcard: boolean;
  readonly endsWithStar: boolean;
  readonly matchesAll: boolean;
  // INVARIANT: chunks.length === (number of `*`, consecutive ones merged) + 1, so the
  // pattern has a star exactly when chunks.length > 1.
  private readonly chunks: readonly Chunk[];
  private readonly minLen: number;

  constructor(chunks: Chunk[], hasQ: boolean) {
    this.chunks = chunks;
    this.hasWildcard = chunks.length > 1 || hasQ;
    const last = chunks[chunks.length - 1];
    this.endsWithStar = chunks.length > 1 && last !== undefined && last.text === '';
    this.matchesAll = chunks.length === 2 && chunks[0]?.text === '' && chunks[1]?.text === '';
    this.minLen = chunks.reduce((n, c) => n + c.text.length, 0);
  }

  test(s: string, from = 0): boolean {
    const chunks = this.chunks;
    const n = s.length;
    if (n - from < this.minLen) return false;
    const first = chunks[0] as Chunk;
    if (chunks.length === 1) return n - from === first.text.length && chunkAt(first, s, from);
    if (!chunkAt(first, s, from)) return false;
    let pos = from + first.text.length;
    const last = chunks[chunks.length - 1] as Chunk;
    const end = n - last.text.length;
    if (end < pos || !chunkAt(last, s, end)) return false;
    for (let i = 1; i < chunks.length - 1; i++) {
      const c = chunks[i] as Chunk;
      const at = findChunk(c, s, pos, end);
      if (at < 0) return false;
      pos = at + c.text.length;
    }
    return true;
  }
}

/** `t` exactly (no wildcards). */
class ExactGlob implements Glob {
  readonly hasWildcard = false;
  readonly endsWithStar = false;
  readonly matchesAll = false;
  constructor(private readonly t: string) {}
  test(s: string, from = 0): boolean {
    return from === 0 ? s === this.t : s.length - from === this.t.length && literalAt(this.t, s, from);
  }
}

/** `t*`: a literal prefix. */
class PrefixGlob implements Glob {
  readonly hasWildcard = true;
  readonly endsWithStar = true;
  readonly matchesAll: boolean;
  constructor(private readonly t: string) {
    this.matchesAll = t === '';
  }
  test(s: string, from = 0): boolean {
    return s.length - from >= this.t.length && literalAt(this.t, s, from);
  }
}

/** `*t`: a literal suffix. */
class SuffixGlob implements Glob {
  readonly hasWildcard = true;
  readonly endsWithStar = false;
  readonly matchesAll = false;
  constructor(private readonly t: string) {}
  test(s: string, from = 0): boolean {
    return s.length - from >= this.t.length && literalAt(this.t, s, s.length - this.t.length);
  }
}

/**
 * Compiles a pattern given as parts (wildcards only in non-literal parts) or as one string
 * whose `*`/`?` are all wildcards. `ignoreCase` folds the pattern with `foldCase`.
 */
export function compileGlob(pattern: string | readonly PatternPart[], opts: { ignoreCase?: boolean } = {}): Glob {
  const parts: readonly PatternPart[] = typeof pattern === 'string' ? [{ text: pattern, literal: false }] : pattern;
  const chunks: Chunk[] = [];
  let chars = '';
  let anyMask: number[] = [];
  let hasQ = false;
  for (const part of parts) {
    const text = opts.ignoreCase === true ? foldCase(part.text) : part.text;
    if (part.literal) {
      chars += text;
      continue;
    }
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (ch === 42 /* '*' */) {
        // Consecutive stars are one star: `**` and `*` match the same strings.
        // (An empty current chunk after a closed one means the previous element was a star.)
        if (chars === '' && chunks.length > 0) continue;
        chunks.push(makeChunk(chars, anyMask));
        chars = '';
        anyMask = [];
      } else if (ch === QMARK) {
        anyMask.push(chars.length);
        chars += '?';
        hasQ = true;
      } else {
        chars += text[i];
      }
    }
  }
  chunks.push(makeChunk(chars, anyMask));
  // The common shapes get a one-compare matcher; everything else the general scan.
  if (!hasQ) {
    const [a, b] = chunks as [Chunk, Chunk | undefined];
    if (chunks.length === 1) return new ExactGlob(a.text);
    if (chunks.length === 2 && b !== undefined && b.text === '') return new PrefixGlob(a.text);
    if (chunks.length === 2 && b !== undefined && a.text === '') return new SuffixGlob(b.text);
  }
  return new ChunkGlob(chunks, hasQ);
}

/** One-shot convenience: does `s` match `pattern` (all `*`/`?` wildcards, case-sensitive)? */
export function globMatch(pattern: string, s: string): boolean {
  return compileGlob(pattern).test(s);
}
