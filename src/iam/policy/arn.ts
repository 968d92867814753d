/**
 * ARN splitting and segment-wise ARN matching (Resource / NotResource entries and the
 * ArnEquals / ArnLike condition operators). Pure: no I/O.
 *
 * An ARN is split at its first five colons into at most six parts
 * (`arn:partition:service:region:account:resource`); the sixth part is one segment even
 * when it holds `:` or `/`. Parts are matched pairwise, so a wildcard inside one of the
 * first five segments never crosses a colon (IAM UG: ArnLike "checks each of the six
 * colon-delimited components separately"; the StringLike-vs-ArnLike example).
 *
 * The IAM UG ("Using wildcards in resource ARNs") adds: "If the * wildcard is the last
 * character of a resource ARN segment, it can expand to match beyond the colon
 * boundaries". Read here as: a pattern with fewer parts than the ARN still matches when
 * its last part ends in a `*` wildcard — that star absorbs the rest of the ARN
 * (`arn:aws:s3:*` matches every S3 ARN, `*` matches everything). A pattern with as many
 * parts as the ARN is matched strictly pairwise; reading the rule as "any segment-final
 * star may cross colons" would make the UG's own ArnLike counter-example match, so it is
 * not taken.
 */
import { compileGlob, flat, literalAt, type Glob } from './glob.js';
import { parseTemplate, staticParts, templateGlob, type Context, type Template, type TemplatePart } from './variables.js';
import type { PolicyVersion } from './ast.js';

/** Splits at the first five colons (at most six parts; the last keeps any further colons). */
export function splitArn(s: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < 5; i++) {
    const c = s.indexOf(':', start);
    if (c < 0) break;
    parts.push(s.slice(start, c));
    start = c + 1;
  }
  parts.push(s.slice(start));
  return parts;
}

/** An ARN under test, split lazily and at most once per request. */
export class ArnSubject {
  private parts: string[] | undefined;
  constructor(readonly arn: string) {}
  /** The ARN's parts (see splitArn). */
  split(): string[] {
    return (this.parts ??= splitArn(this.arn));
  }
}

/** A compiled ARN pattern. */
export interface ArnMatcher {
  /** Does the ARN match? `ctx` resolves policy variables. */
  test(subject: ArnSubject, ctx: Context): boolean;
  /** True when the pattern contains policy variables. */
  readonly hasVars: boolean;
}

type Segment = { kind: 'static'; glob: Glob } | { kind: 'dynamic'; resolve: (ctx: Context) => Glob | undefined };

/** Splits template parts into ARN segments at the first five colons of policy text (not inside variables). */
function splitTemplate(t: Template): TemplatePart[][] {
  const segs: TemplatePart[][] = [[]];
  for (const p of t.parts) {
    if (p.kind !== 'text' || segs.length === 6) {
      (segs[segs.length - 1] as TemplatePart[]).push(p);
      continue;
    }
    let rest = p.text;
    while (segs.length < 6) {
      const c = rest.indexOf(':');
      if (c < 0) break;
      if (c > 0) (segs[segs.length - 1] as TemplatePart[]).push({ kind: 'text', text: rest.slice(0, c) });
      segs.push([]);
      rest = rest.slice(c + 1);
    }
    if (rest !== '') (segs[segs.length - 1] as TemplatePart[]).push({ kind: 'text', text: rest });
  }
  return segs;
}

function resolveSegment(seg: Segment, ctx: Context): Glob | undefined {
  return seg.kind === 'static' ? seg.glob : seg.resolve(ctx);
}

/** General case: segment by segment. */
class SegmentMatcher implements ArnMatcher {
  readonly hasVars: boolean;
  constructor(private readonly segs: readonly Segment[], hasVars: boolean) {
    this.hasVars = hasVars;
  }

  test(subject: ArnSubject, ctx: Context): boolean {
    const parts = subject.split();
    const np = this.segs.length;
    if (np > parts.length) return false;
    for (let i = 0; i < np; i++) {
      const g = resolveSegment(this.segs[i] as Segment, ctx);
      if (g === undefined || !g.test(parts[i] as string)) return false;
      // Fewer parts than the ARN: only a final `*` wildcard may absorb the rest (decided
      // on the resolved pattern, so `a*${v}` with v = '' absorbs like `a*`).
      if (i === np - 1 && np < parts.length && !g.endsWithStar) return false;
    }
    return true;
  }
}

/**
 * First five segments literal (`arn:aws:s3:::`), resource part with variables: compare the
 * literal head, then glob the rest.
 */
class LiteralHeadMatcher implements ArnMatcher {
  readonly hasVars = true;
  constructor(private readonly head: string, private readonly tail: Segment) {}

  test(subject: ArnSubject, ctx: Context): boolean {
    // INVARIANT: head holds exactly five colons, so an ARN starting with it has its first
    // five colons inside head and its resource part right after it.
    const arn = subject.arn;
    if (arn.length < this.head.length || !literalAt(this.head, arn, 0)) return false;
    const g = resolveSegment(this.tail, ctx);
    return g !== undefined && g.test(arn, this.head.length);
  }
}

/**
 * First five segments literal and no variables: one glob over the whole ARN is the same
 * test (its literal head pins the first five colons), usually a single string compare.
 */
class WholeGlobMatcher implements ArnMatcher {
  readonly hasVars = false;
  constructor(private readonly glob: Glob) {}

  test(subject: ArnSubject): boolean {
    return this.glob.test(subject.arn);
  }
}

function compileTemplate(t: Template): ArnMatcher {
  const raw = splitTemplate(t);
  const segs = raw.map((parts): Segment => (parts.some((p) => p.kind === 'var')
    ? { kind: 'dynamic', resolve: templateGlob({ parts, hasVars: true }) }
    : { kind: 'static', glob: compileGlob(staticParts({ parts, hasVars: false })) }));
  const isLiteralHead = segs.length === 6 && segs.slice(0, 5).every((s) => s.kind === 'static' && !s.glob.hasWildcard);
  if (!isLiteralHead) return new SegmentMatcher(segs, t.hasVars);
  if (!t.hasVars) return new WholeGlobMatcher(compileGlob(staticParts(t)));
  const head = raw.slice(0, 5).map((parts) => staticParts({ parts, hasVars: false }).map((p) => p.text).join('')).join(':') + ':';
  return new LiteralHeadMatcher(flat(head), segs[5] as Segment);
}

const MATCH_ALL: ArnMatcher = { hasVars: false, test: () => true };

/** Compiles one ARN pattern (a Resource entry or an ArnLike value). */
export function compileArnPattern(pattern: string, version: PolicyVersion): ArnMatcher {
  if (pattern === '*') return MATCH_ALL;
  return compileTemplate(parseTemplate(pattern, version));
}

/** One-shot convenience: does `arn` match `pattern` (no variables)? */
export function arnMatch(pattern: string, arn: string): boolean {
  return compileArnPattern(pattern, '2008-10-17').test(new ArnSubject(arn), new Map());
}
