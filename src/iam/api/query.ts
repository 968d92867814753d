/**
 * AWS Query protocol requests, as IAM and STS receive them: an
 * application/x-www-form-urlencoded body (or, for GET, the query string) of flat
 * `Name=value` pairs with `Action` and `Version` among them. Pure: no I/O.
 *
 * Structure is encoded in the names. A list is `Name.member.N` (N from 1) and a list of
 * structures `Name.member.N.Field`; an empty list is sent as a bare `Name=` by the AWS SDKs
 * (their serializer's serializeEmptyLists), so that is read as []. Errors follow IAM's
 * input validation: constraint failures are ValidationError with the "N validation
 * error(s) detected: Value … at 'member' failed to satisfy constraint: Member must …"
 * message, naming members in lowerCamelCase with list indices before `member`
 * (`tags.1.member.key`).
 */
import { IamError } from './xml.js';

export type QueryErrorCode = 'ValidationError' | 'MissingParameter' | 'InvalidParameterValue' | 'InvalidQueryParameter' | 'MissingAction';

/** An IamError raised while decoding or validating a request: always a 400 Sender error. */
export class QueryError extends IamError {
  declare readonly code: QueryErrorCode;
  constructor(code: QueryErrorCode, message?: string) {
    super(code, message);
    this.name = 'QueryError';
  }
}

export interface QueryRequest {
  action: string;
  /** Absent when the client sent none; the endpoint decides whether that is an error. */
  version: string | undefined;
  /** Every other parameter, in request order, by its full dotted name. */
  params: Map<string, string>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw new QueryError('InvalidQueryParameter', 'The request contains malformed percent-encoding.');
  }
}

/**
 * Decodes a form body or query string (a leading `?` is ignored). Unlike URLSearchParams,
 * malformed percent-encoding and invalid UTF-8 are errors rather than silently becoming
 * U+FFFD — a policy document must reach the validator byte-for-byte — and a repeated
 * parameter is an error rather than a choice between two values: no SDK sends one, and
 * the value that authorization saw must be the value the action uses.
 */
export function decodeQuery(input: string | Uint8Array): QueryRequest {
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    try {
      text = utf8.decode(input);
    } catch {
      throw new QueryError('InvalidQueryParameter', 'The request body is not valid UTF-8.');
    }
  }
  if (text.startsWith('?')) text = text.slice(1);
  const params = new Map<string, string>();
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decodeComponent(pair.slice(eq + 1));
    if (params.has(name)) throw new QueryError('InvalidQueryParameter', `The parameter ${name} is specified more than once.`);
    params.set(name, value);
  }
  const action = params.get('Action');
  if (action === undefined || action === '') throw new QueryError('MissingAction', 'The request must contain the parameter Action.');
  const version = params.get('Version');
  params.delete('Action');
  params.delete('Version');
  return { action, version, params };
}

// ---------------------------------------------------------------------------------------
// Lists.

/** A list index as the SDKs write it: 1-based decimal, no sign or leading zeros. */
const INDEX_RE = /^[1-9][0-9]{0,8}$/;

/**
 * Collects `prefix.member.N[.rest]` parameters by index. Indices must run 1..count
 * without gaps, which also bounds the result by the number of parameters sent.
 */
function collectMembers(params: ReadonlyMap<string, string>, name: string): Map<number, [rest: string | undefined, value: string][]> | undefined {
  const prefix = `${name}.member.`;
  let present = false;
  let emptyMarker = false;
  const byIndex = new Map<number, [string | undefined, string][]>();
  for (const [key, value] of params) {
    if (key === name) {
      if (value !== '') throw new QueryError('InvalidQueryParameter', `The parameter ${name} must be a list (${name}.member.N).`);
      emptyMarker = true;
      present = true;
      continue;
    }
    if (!key.startsWith(`${name}.`)) continue;
    present = true;
    if (!key.startsWith(prefix)) throw new QueryError('InvalidQueryParameter', `The parameter ${key} is not a valid list member.`);
    const rest = key.slice(prefix.length);
    const dot = rest.indexOf('.');
    const indexText = dot < 0 ? rest : rest.slice(0, dot);
    if (!INDEX_RE.test(indexText)) throw new QueryError('InvalidQueryParameter', `The parameter ${key} has an invalid list index.`);
    const index = Number(indexText);
    let entries = byIndex.get(index);
    if (!entries) byIndex.set(index, (entries = []));
    entries.push([dot < 0 ? undefined : rest.slice(dot + 1), value]);
  }
  if (!present) return undefined;
  if (emptyMarker && byIndex.size > 0) throw new QueryError('InvalidQueryParameter', `The parameter ${name} is both empty and non-empty.`);
  for (let i = 1; i <= byIndex.size; i++) {
    if (!byIndex.has(i)) throw new QueryError('InvalidQueryParameter', `The list ${name} is missing member ${i}.`);
  }
  return byIndex;
}

/** True when the request mentions the list at all (even as an empty `Name=`). */
export function hasList(params: ReadonlyMap<string, string>, name: string): boolean {
  return collectMembers(params, name) !== undefined;
}

/**
 * A list of structures, `Tags.member.1.Key=a&Tags.member.1.Value=b` → `[{ Key: 'a', Value: 'b' }]`.
 * Fields are keyed by the rest of the name, so a nested list stays dotted
 * (`{ 'Values.member.1': … }`) and can be read with `stringList(new Map(Object.entries(rec)), 'Values')`.
 * Absent → [].
 */
export function memberList(params: ReadonlyMap<string, string>, name: string): Record<string, string>[] {
  const byIndex = collectMembers(params, name);
  if (!byIndex) return [];
  const out: Record<string, string>[] = [];
  for (let i = 1; i <= byIndex.size; i++) {
    const fields: [string, string][] = [];
    for (const [rest, value] of byIndex.get(i)!) {
      if (rest === undefined || rest === '') throw new QueryError('InvalidQueryParameter', `The parameter ${name}.member.${i} must name a field.`);
      fields.push([rest, value]);
    }
    // fromEntries defines own properties, so a field called __proto__ is data, not a prototype.
    out.push(Object.fromEntries(fields));
  }
  return out;
}

/** A list of strings, `TagKeys.member.1=a&TagKeys.member.2=b` → `['a', 'b']`. Absent → []. */
export function stringList(params: ReadonlyMap<string, string>, name: string): string[] {
  const byIndex = collectMembers(params, name);
  if (!byIndex) return [];
  const out: string[] = [];
  for (let i = 1; i <= byIndex.size; i++) {
    const entries = byIndex.get(i)!;
    const [rest, value] = entries[0]!;
    if (entries.length !== 1 || rest !== undefined) throw new QueryError('InvalidQueryParameter', `The parameter ${name}.member.${i} must be a plain value.`);
    out.push(value);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Validation.

/**
 * The member path IAM's messages use for a parameter name: each segment in lowerCamelCase,
 * with `.member.N` written `.N.member` — `Tags.member.1.Key` → `tags.1.member.key`.
 */
export function memberPath(paramName: string): string {
  const segs = paramName.split('.');
  const out: string[] = [];
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i]!;
    if (s === 'member' && i + 1 < segs.length && INDEX_RE.test(segs[i + 1]!)) {
      out.push(segs[i + 1]!, 'member');
      i++;
    } else {
      out.push(s.charAt(0).toLowerCase() + s.slice(1));
    }
  }
  return out.join('.');
}

/** One line of a ValidationError message. */
export function violation(member: string, value: string | number | undefined | null, constraint: string, sensitive = false): string {
  // Sensitive members (passwords, tokens) are named without their value, as AWS does.
  const shown = sensitive ? '' : value === undefined || value === null ? ' null' : ` '${String(value)}'`;
  return `Value${shown} at '${member}' failed to satisfy constraint: Member must ${constraint}`;
}

/** The ValidationError for one or more violations, counted as AWS counts them. */
export function validationError(violations: readonly string[]): QueryError {
  const n = violations.length;
  return new QueryError('ValidationError', `${n} validation error${n === 1 ? '' : 's'} detected: ${violations.join('; ')}`);
}

export interface StringRule {
  required?: boolean;
  min?: number;
  max?: number;
  /** Anchored; tested against the whole value. */
  pattern?: RegExp;
  /** The pattern as AWS prints it in messages (its model's regex). */
  patternText?: string;
  sensitive?: boolean;
}

export interface IntRule {
  required?: boolean;
  min?: number;
  max?: number;
}

/** Violations of a string rule by one value (already read; undefined = absent). */
export function checkString(member: string, value: string | undefined, rule: StringRule): string[] {
  const out: string[] = [];
  if (value === undefined) {
    if (rule.required) out.push(violation(member, undefined, 'not be null'));
    return out;
  }
  const s = rule.sensitive ?? false;
  if (rule.pattern && !rule.pattern.test(value)) out.push(violation(member, value, `satisfy regular expression pattern: ${rule.patternText ?? rule.pattern.source}`, s));
  if (rule.max !== undefined && value.length > rule.max) out.push(violation(member, value, `have length less than or equal to ${rule.max}`, s));
  if (rule.min !== undefined && value.length < rule.min) out.push(violation(member, value, `have length greater than or equal to ${rule.min}`, s));
  return out;
}

export function checkInt(member: string, value: number | undefined, rule: IntRule): string[] {
  if (value === undefined) return rule.required ? [violation(member, undefined, 'not be null')] : [];
  if (rule.max !== undefined && value > rule.max) return [violation(member, value, `have value less than or equal to ${rule.max}`)];
  if (rule.min !== undefined && value < rule.min) return [violation(member, value, `have value greater than or equal to ${rule.min}`)];
  return [];
}

export function throwIfInvalid(violations: readonly string[]): void {
  if (violations.length > 0) throw validationError(violations);
}

/**
 * Reads and validates an action's parameters, collecting every constraint violation so
 * one ValidationError lists them all, as IAM does. Call done() before using the values.
 * A value that cannot be converted at all (MaxItems=abc) throws InvalidParameterValue at
 * once: conversion precedes constraint checks.
 */
export class ParamReader {
  private readonly violations: string[] = [];

  constructor(readonly params: ReadonlyMap<string, string>) {}

  string(name: string, rule: StringRule & { required: true }): string;
  string(name: string, rule?: StringRule): string | undefined;
  string(name: string, rule: StringRule = {}): string | undefined {
    const v = this.params.get(name);
    this.violations.push(...checkString(memberPath(name), v, rule));
    return v;
  }

  int(name: string, rule: IntRule & { required: true }): number;
  int(name: string, rule?: IntRule): number | undefined;
  int(name: string, rule: IntRule = {}): number | undefined {
    const raw = this.params.get(name);
    let v: number | undefined;
    if (raw !== undefined) {
      // Integer members are 32-bit in AWS's models.
      if (!/^[+-]?[0-9]{1,10}$/.test(raw) || Math.abs(Number(raw)) > 2 ** 31 - (raw.startsWith('-') ? 0 : 1)) {
        throw new QueryError('InvalidParameterValue', `Invalid value '${raw}' for parameter ${name}: must be an integer.`);
      }
      v = Number(raw);
    }
    this.violations.push(...checkInt(memberPath(name), v, rule));
    return v;
  }

  bool(name: string, rule: { required: true }): boolean;
  bool(name: string, rule?: { required?: boolean }): boolean | undefined;
  bool(name: string, rule: { required?: boolean } = {}): boolean | undefined {
    const raw = this.params.get(name);
    if (raw === undefined) {
      if (rule.required) this.violations.push(violation(memberPath(name), undefined, 'not be null'));
      return undefined;
    }
    const lower = raw.toLowerCase();
    if (lower !== 'true' && lower !== 'false') throw new QueryError('InvalidParameterValue', `Invalid value '${raw}' for parameter ${name}: must be true or false.`);
    return lower === 'true';
  }

  enum<T extends string>(name: string, values: readonly T[], rule: { required: true }): T;
  enum<T extends string>(name: string, values: readonly T[], rule?: { required?: boolean }): T | undefined;
  enum<T extends string>(name: string, values: readonly T[], rule: { required?: boolean } = {}): T | undefined {
    const raw = this.params.get(name);
    if (raw === undefined) {
      if (rule.required) this.violations.push(violation(memberPath(name), undefined, 'not be null'));
      return undefined;
    }
    if (!(values as readonly string[]).includes(raw)) {
      this.violations.push(violation(memberPath(name), raw, `satisfy enum value set: [${values.join(', ')}]`));
    }
    return raw as T;
  }

  /** A list of strings; `each` validates every element (`tagKeys.1.member`). */
  stringList(name: string, rule: { required?: boolean; min?: number; max?: number; each?: StringRule } = {}): string[] {
    const present = hasList(this.params, name);
    const list = stringList(this.params, name);
    this.checkListLength(name, present, list, rule);
    if (rule.each) list.forEach((v, i) => this.violations.push(...checkString(`${memberPath(name)}.${i + 1}.member`, v, rule.each!)));
    return list;
  }

  /** A list of structures; `fields` validates named fields of every element (`tags.1.member.key`). */
  memberList(name: string, rule: { required?: boolean; min?: number; max?: number; fields?: Record<string, StringRule> } = {}): Record<string, string>[] {
    const present = hasList(this.params, name);
    const list = memberList(this.params, name);
    this.checkListLength(name, present, list, rule);
    list.forEach((rec, i) => {
      for (const [field, fieldRule] of Object.entries(rule.fields ?? {})) {
        const v = Object.hasOwn(rec, field) ? rec[field] : undefined;
        this.violations.push(...checkString(memberPath(`${name}.member.${i + 1}.${field}`), v, fieldRule));
      }
    });
    return list;
  }

  private checkListLength(name: string, present: boolean, list: readonly unknown[], rule: { required?: boolean; min?: number; max?: number }): void {
    const member = memberPath(name);
    if (!present) {
      if (rule.required) this.violations.push(violation(member, undefined, 'not be null'));
      return;
    }
    // AWS prints a list value with Java's List.toString: [a, b].
    const shown = `[${list.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}]`;
    if (rule.max !== undefined && list.length > rule.max) this.violations.push(violation(member, shown, `have length less than or equal to ${rule.max}`));
    if (rule.min !== undefined && list.length < rule.min) this.violations.push(violation(member, shown, `have length greater than or equal to ${rule.min}`));
  }

  /** Adds a violation found by the caller (a cross-field rule), so it joins the same message. */
  add(violationText: string): void {
    this.violations.push(violationText);
  }

  /** Throws the collected ValidationError, if any. */
  done(): void {
    throwIfInvalid(this.violations);
  }
}

/** A required string parameter, validated on its own ("1 validation error detected: …"). */
export function requiredString(params: ReadonlyMap<string, string>, name: string, rule: StringRule = {}): string {
  const r = new ParamReader(params);
  const v = r.string(name, { ...rule, required: true });
  r.done();
  return v;
}

export function optionalString(params: ReadonlyMap<string, string>, name: string, rule: StringRule = {}): string | undefined {
  const r = new ParamReader(params);
  const v = r.string(name, { ...rule, required: false });
  r.done();
  return v;
}

export function optionalInt(params: ReadonlyMap<string, string>, name: string, rule: IntRule = {}): number | undefined {
  const r = new ParamReader(params);
  const v = r.int(name, { ...rule, required: false });
  r.done();
  return v;
}

export function optionalBool(params: ReadonlyMap<string, string>, name: string): boolean | undefined {
  return new ParamReader(params).bool(name);
}

// ---------------------------------------------------------------------------------------
// IAM and STS constraints, from the services' published models. Lengths count UTF-16
// code units, as the Java validators behind AWS's messages do.

const NAME = /^[\w+=,.@-]+$/;
const NAME_TEXT = '[\\w+=,.@-]+';
// Path patterns: the current models end the range at \u007E (older ones, and the API
// reference prose, say \u007F, i.e. allow DEL). The model's alternation is anchored as a
// whole: `^(\u002F)|(…)$` would accept anything starting with '/'.
const PATH = /^(?:\/|\/[\u0021-\u007E]+\/)$/;
const PATH_PREFIX = /^\/[\u0021-\u007E]*$/;

export const RULES = {
  /** CreateUser's UserName. */
  userName: { min: 1, max: 64, pattern: NAME, patternText: NAME_TEXT },
  /** UserName in every action on an existing user (GetUser, DeleteUser, TagUser, …): the model allows 128. */
  existingUserName: { min: 1, max: 128, pattern: NAME, patternText: NAME_TEXT },
  groupName: { min: 1, max: 128, pattern: NAME, patternText: NAME_TEXT },
  roleName: { min: 1, max: 64, pattern: NAME, patternText: NAME_TEXT },
  policyName: { min: 1, max: 128, pattern: NAME, patternText: NAME_TEXT },
  instanceProfileName: { min: 1, max: 128, pattern: NAME, patternText: NAME_TEXT },
  virtualMFADeviceName: { min: 1, max: 226, pattern: NAME, patternText: NAME_TEXT },
  path: { min: 1, max: 512, pattern: PATH, patternText: '(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)' },
  pathPrefix: { min: 1, max: 512, pattern: PATH_PREFIX, patternText: '\\u002F[\\u0021-\\u007E]*' },
  marker: { min: 1, max: 320, pattern: /^[\u0020-\u00FF]+$/, patternText: '[\\u0020-\\u00FF]+' },
  policyDocument: { min: 1, max: 131072, pattern: /^[\t\n\r\u0020-\u00FF]+$/, patternText: '[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+' },
  accessKeyId: { min: 16, max: 128, pattern: /^\w+$/, patternText: '[\\w]+' },
  serialNumber: { min: 9, max: 256, pattern: /^[\w+=/:,.@-]+$/, patternText: '[\\w+=/:,.@-]+' },
  /** EnableMFADevice's AuthenticationCode1/2. */
  authenticationCode: { min: 6, max: 6, pattern: /^\d+$/, patternText: '[\\d]+' },
  /** STS TokenCode. */
  tokenCode: { min: 6, max: 6, pattern: /^\d*$/, patternText: '[\\d]*' },
  roleSessionName: { min: 2, max: 64, pattern: /^[\w+=,.@-]*$/, patternText: '[\\w+=,.@-]*' },
  tagKey: { min: 1, max: 128, pattern: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u, patternText: '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+' },
  tagValue: { min: 0, max: 256, pattern: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u, patternText: '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*' },
} as const satisfies Record<string, StringRule>;

export const INT_RULES = {
  maxItems: { min: 1, max: 1000 },
  /** STS AssumeRole; the role's MaxSessionDuration caps it further. */
  durationSeconds: { min: 900, max: 43200 },
} as const satisfies Record<string, IntRule>;

/** IAM and STS accept at most 50 tags per request. */
export const MAX_TAGS = 50;

/** Tag keys beginning with `aws:` (any case) are AWS's own: no caller may set them (AWS tagging rules). */
export const isReservedTagKey = (key: string): boolean => key.slice(0, 4).toLowerCase() === 'aws:';
