/**
 * Policy variables (`${aws:username}`, `${aws:PrincipalTag/team, 'default'}`) and the
 * escapes `${*}` `${?}` `${$}`. A policy value is parsed once into a Template; evaluation
 * only looks the variables up in the request context. Only Version 2012-10-17 has
 * variables: under 2008-10-17 (or no Version) `${…}` is plain text. Pure: no I/O.
 *
 * Grammar (as read here): `${` up to the next `}` is one placeholder. Its content is an
 * escape (`*`, `?`, `$`), or `key` or `key, 'default'` with blanks around either part
 * ignored. A `${` with no closing `}`, an empty key, a key holding `$ { } '`, or a
 * default that is not wrapped in single quotes is not a placeholder: its `${` stays text
 * and scanning resumes right after it. Keys are case-insensitive.
 */
import type { PolicyVersion } from './ast.js';
import type { ContextValue } from './request.js';
import { compileGlob, type Glob, type PatternPart } from './glob.js';

/** One piece of a parsed policy value. */
export type TemplatePart =
  /** Policy text; `*` and `?` in it are wildcards wherever the operator has wildcards. */
  | { kind: 'text'; text: string }
  /** Text that is never a wildcard: the escapes `${*}` `${?}` `${$}`. */
  | { kind: 'literal'; text: string }
  /** A variable; `key` is lower-cased, `fallback` is the quoted default if one was given. */
  | { kind: 'var'; key: string; keyText: string; fallback: string | undefined };

/** A policy value split into text, escapes and variables. */
export interface Template {
  readonly parts: readonly TemplatePart[];
  /** True when at least one part is a variable (the value depends on the request). */
  readonly hasVars: boolean;
}

/** Context lookup by lower-cased key name (EvalRequest.context). */
export type Context = ReadonlyMap<string, ContextValue>;

const ESCAPES: Readonly<Record<string, string>> = { '*': '*', '?': '?', '$': '$' };

/** Parses one policy value; under 2008-10-17 the whole value is text. */
export function parseTemplate(s: string, version: PolicyVersion): Template {
  if (version !== '2012-10-17' || !s.includes('${')) {
    return { parts: s === '' ? [] : [{ kind: 'text', text: s }], hasVars: false };
  }
  const parts: TemplatePart[] = [];
  let hasVars = false;
  let text = '';
  let i = 0;
  while (i < s.length) {
    const open = s.indexOf('${', i);
    if (open < 0) break;
    const close = s.indexOf('}', open + 2);
    if (close < 0) break;
    const placeholder = parsePlaceholder(s.slice(open + 2, close));
    if (placeholder === undefined) {
      // Not a placeholder: keep `${` as text and continue after it.
      text += s.slice(i, open + 2);
      i = open + 2;
      continue;
    }
    text += s.slice(i, open);
    if (text !== '') parts.push({ kind: 'text', text });
    text = '';
    if (placeholder.kind === 'var') hasVars = true;
    pushMerged(parts, placeholder);
    i = close + 1;
  }
  text += s.slice(i);
  if (text !== '') parts.push({ kind: 'text', text });
  return { parts, hasVars };
}

function pushMerged(parts: TemplatePart[], p: TemplatePart): void {
  const last = parts[parts.length - 1];
  if (p.kind === 'literal' && last !== undefined && last.kind === 'literal') {
    parts[parts.length - 1] = { kind: 'literal', text: last.text + p.text };
    return;
  }
  parts.push(p);
}

function parsePlaceholder(content: string): TemplatePart | undefined {
  const esc = ESCAPES[content];
  if (esc !== undefined) return { kind: 'literal', text: esc };
  const comma = content.indexOf(',');
  const keyText = (comma < 0 ? content : content.slice(0, comma)).trim();
  if (keyText === '' || /[${}']/.test(keyText)) return undefined;
  let fallback: string | undefined;
  if (comma >= 0) {
    const d = content.slice(comma + 1).trim();
    if (d.length < 2 || d[0] !== "'" || d[d.length - 1] !== "'") return undefined;
    fallback = d.slice(1, -1);
  }
  return { kind: 'var', key: keyText.toLowerCase(), keyText, fallback };
}

/** A variable's value: the context value if single-valued and present, else the default, else undefined. */
export function variableValue(part: { key: string; fallback: string | undefined }, ctx: Context): string | undefined {
  const v = ctx.get(part.key);
  // Multi-valued keys cannot be variables (IAM UG); they resolve like an absent key.
  if (typeof v === 'string') return v;
  return part.fallback;
}

/**
 * Resolves a template into pattern parts: variable values and defaults become literal
 * text (a `*` in a user name is not a wildcard). Undefined when a variable has no value
 * and no default: such a policy value matches nothing.
 */
export function resolveParts(t: Template, ctx: Context): PatternPart[] | undefined {
  const out: PatternPart[] = [];
  for (const p of t.parts) {
    if (p.kind === 'var') {
      const v = variableValue(p, ctx);
      if (v === undefined) return undefined;
      out.push({ text: v, literal: true });
    } else {
      out.push({ text: p.text, literal: p.kind === 'literal' });
    }
  }
  return out;
}

/** Resolves a template into a plain string (for operators without wildcards); undefined when unresolvable. */
export function resolveString(t: Template, ctx: Context): string | undefined {
  let s = '';
  for (const p of t.parts) {
    if (p.kind === 'var') {
      const v = variableValue(p, ctx);
      if (v === undefined) return undefined;
      s += v;
    } else {
      s += p.text;
    }
  }
  return s;
}

/** The text of a template that has no variables (escapes resolved). */
export function staticString(t: Template): string {
  let s = '';
  for (const p of t.parts) if (p.kind !== 'var') s += p.text;
  return s;
}

/** Template parts as glob input, for a template without variables. */
export function staticParts(t: Template): PatternPart[] {
  const out: PatternPart[] = [];
  for (const p of t.parts) if (p.kind !== 'var') out.push({ text: p.text, literal: p.kind === 'literal' });
  return out;
}

/** Variables that have no default, as written (for missing-key reporting). */
export function requiredVariables(t: Template): { key: string; keyText: string }[] {
  const out: { key: string; keyText: string }[] = [];
  for (const p of t.parts) if (p.kind === 'var' && p.fallback === undefined) out.push({ key: p.key, keyText: p.keyText });
  return out;
}

const GLOB_CACHE_LIMIT = 256;

/**
 * A glob for a template with variables, compiled per distinct set of variable values and
 * cached (bounded; a full cache is simply cleared), so a request pays for a Map lookup,
 * not a compile. Returns undefined when a variable has no value and no default.
 */
export function templateGlob(t: Template): (ctx: Context) => Glob | undefined {
  const vars = t.parts.filter((p): p is Extract<TemplatePart, { kind: 'var' }> => p.kind === 'var');
  const cache = new Map<string, Glob>();
  const only = vars.length === 1 ? vars[0] : undefined;
  return (ctx) => {
    let key: string;
    if (only !== undefined) {
      const v = variableValue(only, ctx);
      if (v === undefined) return undefined;
      key = v;
    } else {
      key = '';
      for (let i = 0; i < vars.length; i++) {
        const v = variableValue(vars[i] as Extract<TemplatePart, { kind: 'var' }>, ctx);
        if (v === undefined) return undefined;
        // INVARIANT: values are joined with their lengths, so distinct value tuples never share a key.
        key += `${v.length}:${v}`;
      }
    }
    let g = cache.get(key);
    if (g === undefined) {
      const parts = resolveParts(t, ctx);
      if (parts === undefined) return undefined;
      g = compileGlob(parts);
      if (cache.size >= GLOB_CACHE_LIMIT) cache.clear();
      cache.set(key, g);
    }
    return g;
  };
}
