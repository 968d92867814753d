/**
 * Policy JSON text → PolicyAst. IAM JSON is irregular (string-or-array values, "*" vs
 * {"AWS":"*"}, Statement as object or array, numbers/booleans as condition values); this is
 * the one place that irregularity is normalised. Own JSON reader rather than JSON.parse:
 * it must see duplicate keys (JSON.parse silently keeps the last one, which could drop a
 * whole condition or statement) and keep numbers as written (`1.10` must stay `1.10`).
 * Kind-independent: what a bucket / identity / trust policy additionally requires is
 * validate.ts's job. Total: never throws, whatever the input.
 */
import {
  CONDITION_OPERATORS,
  type ConditionAst, type ConditionOperator, type Effect, type Finding, type ListElement, type Located,
  type PolicyAst, type PolicyVersion, type Pointer, type PrincipalAst, type SetQualifier, type StatementAst,
} from './ast.js';

/** MalformedPolicy messages. Those marked [AWS] are S3's observed text; [GUESS] ones are Kura's. */
export const POLICY_MESSAGES = {
  /** [AWS] */ firstByte: "Policies must be valid JSON and the first byte must be '{'",
  /** [AWS] */ invalidJson: 'This policy contains invalid Json',
  /** [AWS] */ missingStatement: 'Missing required field Statement',
  /** [AWS] */ emptyStatement: 'Could not parse the policy: Statement is empty!',
  /** [AWS] */ invalidVersion: 'The policy must contain a valid version string',
  /** [AWS] */ missingPrincipal: 'Missing required field Principal',
  /** [AWS] */ invalidPrincipal: 'Invalid principal in policy',
  /** [AWS] */ missingAction: 'Missing required field Action',
  /** [AWS] */ missingResource: 'Missing required field Resource',
  /** [GUESS] by analogy with the other "Missing required field" messages. */ missingEffect: 'Missing required field Effect',
  /** [AWS] (versitygw #647) */ invalidEffect: (e: string): string => `Invalid effect: ${e}`,
  /** [AWS] */ invalidAction: 'Policy has invalid action',
  /** [AWS] */ invalidResource: 'Policy has invalid resource',
  /** [AWS] */ actionResourceMismatch: 'Action does not apply to any resource(s) in statement',
  /** [AWS] */ invalidConditionType: (op: string): string => `Invalid Condition type : ${op}`,
  /** [AWS] */ invalidConditionKey: 'Policy has an invalid condition key',
  /** [AWS] */ conditionMismatch: 'Conditions do not apply to combination of actions and resources in statement',
  /** [AWS] */ invalidIp: 'Invalid IP address in Conditions',
  /** [AWS] */ invalidConditionValue: (op: string): string => `Invalid value in Conditions for operator ${op}`,
  /** [GUESS] */ unknownField: (f: string): string => `Unknown field ${f}`,
  /** [GUESS] a statement with both X and NotX. */ bothElements: (a: string): string => `Statement cannot contain both ${a} and Not${a}`,
  /** [GUESS] Allow + NotPrincipal ("not supported" per the IAM user guide). */ allowNotPrincipal: 'NotPrincipal is only supported with Effect Deny',
  /** [GUESS] a policy variable where IAM doesn't substitute one. */ invalidVariable: 'Policy has an invalid policy variable',
} as const;

// ---- a small strict JSON reader ---------------------------------------------------------

type JNode =
  | { t: 'obj'; entries: [string, JNode][] }
  | { t: 'arr'; items: JNode[] }
  | { t: 'str'; v: string }
  | { t: 'num'; raw: string }
  | { t: 'bool'; v: boolean }
  | { t: 'null' };

class JsonError extends Error {}

/** Policies are ~6 levels deep; the cap keeps hostile nesting from exhausting the stack. */
const MAX_DEPTH = 32;

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/** RFC 8259 JSON; duplicate object keys are an error. Throws JsonError. */
function readJson(text: string): JNode {
  let i = 0;
  const ws = (): void => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  const fail = (): never => { throw new JsonError(); };
  const str = (): string => {
    i++; // opening quote
    let out = '';
    for (;;) {
      if (i >= text.length) fail();
      const c = text.charCodeAt(i);
      if (c === 0x22) { i++; return out; }
      if (c < 0x20) fail();
      if (c === 0x5c) {
        const e = text[i + 1];
        i += 2;
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            const h = text.slice(i, i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(h)) fail();
            out += String.fromCharCode(parseInt(h, 16));
            i += 4;
            break;
          }
          default: fail();
        }
      } else {
        // Copy a run of plain characters at once.
        let j = i;
        while (j < text.length) {
          const d = text.charCodeAt(j);
          if (d === 0x22 || d === 0x5c || d < 0x20) break;
          j++;
        }
        out += text.slice(i, j);
        i = j;
      }
    }
  };
  const value = (depth: number): JNode => {
    if (depth > MAX_DEPTH) fail();
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const entries: [string, JNode][] = [];
      const seen = new Set<string>();
      ws();
      if (text[i] === '}') { i++; return { t: 'obj', entries }; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        const k = str();
        if (seen.has(k)) fail(); // duplicate key: refuse rather than silently drop one
        seen.add(k);
        ws();
        if (text[i] !== ':') fail();
        i++;
        entries.push([k, value(depth + 1)]);
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return { t: 'obj', entries }; }
        fail();
      }
    }
    if (c === '[') {
      i++;
      const items: JNode[] = [];
      ws();
      if (text[i] === ']') { i++; return { t: 'arr', items }; }
      for (;;) {
        items.push(value(depth + 1));
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return { t: 'arr', items }; }
        fail();
      }
    }
    if (c === '"') return { t: 'str', v: str() };
    if (text.startsWith('true', i)) { i += 4; return { t: 'bool', v: true }; }
    if (text.startsWith('false', i)) { i += 5; return { t: 'bool', v: false }; }
    if (text.startsWith('null', i)) { i += 4; return { t: 'null' }; }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) return fail();
    i += m[0].length;
    return { t: 'num', raw: m[0] };
  };
  const root = value(0);
  ws();
  if (i !== text.length) fail();
  return root;
}

// ---- pointers -----------------------------------------------------------------------------

/** RFC 6901 escaping of one reference token. */
const token = (s: string | number): string => String(s).replace(/~/g, '~0').replace(/\//g, '~1');
const ptr = (base: Pointer, ...parts: (string | number)[]): Pointer => base + parts.map((p) => `/${token(p)}`).join('');

// ---- operators ----------------------------------------------------------------------------

const OPERATOR_SET: ReadonlySet<string> = new Set(CONDITION_OPERATORS);

/**
 * Split a condition operator as written into qualifier, base operator and IfExists.
 * Canonical spelling only (AWS documents no other casing); `Null` has no IfExists form.
 */
export function parseConditionOperator(text: string): { operator: ConditionOperator; ifExists: boolean; set: SetQualifier | null } | undefined {
  let rest = text;
  let set: SetQualifier | null = null;
  if (rest.startsWith('ForAnyValue:')) { set = 'ForAnyValue'; rest = rest.slice('ForAnyValue:'.length); }
  else if (rest.startsWith('ForAllValues:')) { set = 'ForAllValues'; rest = rest.slice('ForAllValues:'.length); }
  if (OPERATOR_SET.has(rest)) return { operator: rest as ConditionOperator, ifExists: false, set };
  if (rest.endsWith('IfExists')) {
    const base = rest.slice(0, -'IfExists'.length);
    if (base !== 'Null' && OPERATOR_SET.has(base)) return { operator: base as ConditionOperator, ifExists: true, set };
  }
  return undefined;
}

// ---- the policy ---------------------------------------------------------------------------

const TOP_FIELDS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_FIELDS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);
const PRINCIPAL_KEYS = ['AWS', 'Service', 'Federated', 'CanonicalUser'] as const;

/** Parse result: an AST, or the errors (first one = what PutBucketPolicy reports). */
export type ParseResult = { ast: PolicyAst } | { errors: Finding[] };

class PolicyError extends Error {
  constructor(readonly finding: Finding) { super(finding.message); }
}
const err = (pointer: Pointer, message: string): PolicyError => new PolicyError({ severity: 'error', pointer, message });

const get = (o: { entries: [string, JNode][] }, k: string): JNode | undefined => o.entries.find(([n]) => n === k)?.[1];

/** A string or an array of strings (Action, Resource, principal lists). */
function stringList(node: JNode, pointer: Pointer): Located<string>[] {
  if (node.t === 'str') return [{ value: node.v, pointer }];
  if (node.t === 'arr') {
    return node.items.map((item, i) => {
      if (item.t !== 'str') throw err(ptr(pointer, i), POLICY_MESSAGES.invalidJson);
      return { value: item.v, pointer: ptr(pointer, i) };
    });
  }
  throw err(pointer, POLICY_MESSAGES.invalidJson);
}

/** Condition values: scalars coerced to strings as IAM does; numbers keep their written form. */
function conditionValues(node: JNode, pointer: Pointer): Located<string>[] {
  const scalar = (n: JNode, p: Pointer): Located<string> => {
    if (n.t === 'str') return { value: n.v, pointer: p };
    if (n.t === 'num') return { value: n.raw, pointer: p };
    if (n.t === 'bool') return { value: String(n.v), pointer: p };
    throw err(p, POLICY_MESSAGES.invalidJson);
  };
  if (node.t === 'arr') return node.items.map((n, i) => scalar(n, ptr(pointer, i)));
  return [scalar(node, pointer)];
}

function listElement(stmt: { entries: [string, JNode][] }, base: Pointer, name: 'Action' | 'Resource'): ListElement | undefined {
  const pos = get(stmt, name);
  const neg = get(stmt, `Not${name}`);
  if (pos && neg) throw err(base, POLICY_MESSAGES.bothElements(name));
  const node = pos ?? neg;
  if (!node) return undefined;
  const pointer = ptr(base, pos ? name : `Not${name}`);
  return { negated: !pos, values: stringList(node, pointer), pointer };
}

function principal(node: JNode, pointer: Pointer): PrincipalAst {
  if (node.t === 'str') {
    if (node.v === '*') return { kind: 'any', pointer };
    throw err(pointer, POLICY_MESSAGES.invalidPrincipal);
  }
  if (node.t !== 'obj') throw err(pointer, POLICY_MESSAGES.invalidJson);
  const set = { kind: 'set' as const, pointer, aws: [] as Located<string>[], service: [] as Located<string>[], federated: [] as Located<string>[], canonicalUser: [] as Located<string>[] };
  for (const [k, v] of node.entries) {
    if (!(PRINCIPAL_KEYS as readonly string[]).includes(k)) throw err(ptr(pointer, k), POLICY_MESSAGES.invalidPrincipal);
    const values = stringList(v, ptr(pointer, k));
    if (k === 'AWS') set.aws = values;
    else if (k === 'Service') set.service = values;
    else if (k === 'Federated') set.federated = values;
    else set.canonicalUser = values;
  }
  // {"AWS":"*"} is everyone, and so is any union that includes it.
  if (set.aws.some((v) => v.value === '*')) return { kind: 'any', pointer };
  return set;
}

function conditions(node: JNode, pointer: Pointer): ConditionAst[] {
  if (node.t !== 'obj') throw err(pointer, POLICY_MESSAGES.invalidJson);
  const out: ConditionAst[] = [];
  for (const [opText, block] of node.entries) {
    const opPointer = ptr(pointer, opText);
    const op = parseConditionOperator(opText);
    if (!op) throw err(opPointer, POLICY_MESSAGES.invalidConditionType(opText));
    if (block.t !== 'obj') throw err(opPointer, POLICY_MESSAGES.invalidJson);
    for (const [key, valueNode] of block.entries) {
      const keyPointer = ptr(opPointer, key);
      out.push({
        pointer: keyPointer, operatorText: opText, ...op, key, keyLower: key.toLowerCase(),
        values: conditionValues(valueNode, keyPointer),
      });
    }
  }
  return out;
}

function statement(node: JNode, index: number, pointer: Pointer): StatementAst {
  if (node.t !== 'obj') throw err(pointer, POLICY_MESSAGES.invalidJson);
  for (const [k] of node.entries) if (!STATEMENT_FIELDS.has(k)) throw err(ptr(pointer, k), POLICY_MESSAGES.unknownField(k));

  const sidNode = get(node, 'Sid');
  if (sidNode && sidNode.t !== 'str') throw err(ptr(pointer, 'Sid'), POLICY_MESSAGES.invalidJson);

  const effectNode = get(node, 'Effect');
  if (!effectNode) throw err(pointer, POLICY_MESSAGES.missingEffect);
  if (effectNode.t !== 'str') throw err(ptr(pointer, 'Effect'), POLICY_MESSAGES.invalidJson);
  if (effectNode.v !== 'Allow' && effectNode.v !== 'Deny') throw err(ptr(pointer, 'Effect'), POLICY_MESSAGES.invalidEffect(effectNode.v));

  const p = get(node, 'Principal');
  const np = get(node, 'NotPrincipal');
  if (p && np) throw err(pointer, POLICY_MESSAGES.bothElements('Principal'));
  const pNode = p ?? np;
  const principalAst = pNode ? { negated: !p, value: principal(pNode, ptr(pointer, p ? 'Principal' : 'NotPrincipal')) } : undefined;

  const action = listElement(node, pointer, 'Action');
  if (!action) throw err(pointer, POLICY_MESSAGES.missingAction);
  const resource = listElement(node, pointer, 'Resource');

  const condNode = get(node, 'Condition');
  return {
    index, pointer,
    sid: sidNode?.t === 'str' ? sidNode.v : undefined,
    effect: effectNode.v as Effect,
    principal: principalAst,
    action, resource,
    conditions: condNode ? conditions(condNode, ptr(pointer, 'Condition')) : [],
  };
}

/** Parse policy JSON text into the normalised AST, or report MalformedPolicy-style errors. Never throws. */
export function parsePolicy(text: string): ParseResult {
  if (typeof text !== 'string' || text.length === 0 || text[0] !== '{') {
    return { errors: [{ severity: 'error', pointer: '', message: POLICY_MESSAGES.firstByte }] };
  }
  let root: JNode;
  try {
    root = readJson(text);
  } catch {
    return { errors: [{ severity: 'error', pointer: '', message: POLICY_MESSAGES.invalidJson }] };
  }
  if (root.t !== 'obj') return { errors: [{ severity: 'error', pointer: '', message: POLICY_MESSAGES.invalidJson }] };

  const errors: Finding[] = [];
  const attempt = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      if (e instanceof PolicyError) { errors.push(e.finding); return undefined; }
      throw e;
    }
  };

  let version: PolicyVersion = '2008-10-17';
  const versionNode = get(root, 'Version');
  if (versionNode) {
    if (versionNode.t === 'str' && (versionNode.v === '2012-10-17' || versionNode.v === '2008-10-17')) version = versionNode.v;
    else errors.push({ severity: 'error', pointer: '/Version', message: POLICY_MESSAGES.invalidVersion });
  }
  for (const [k] of root.entries) {
    if (!TOP_FIELDS.has(k)) errors.push({ severity: 'error', pointer: ptr('', k), message: POLICY_MESSAGES.unknownField(k) });
  }
  const idNode = get(root, 'Id');
  if (idNode && idNode.t !== 'str') errors.push({ severity: 'error', pointer: '/Id', message: POLICY_MESSAGES.invalidJson });

  const stmtNode = get(root, 'Statement');
  const statements: StatementAst[] = [];
  if (!stmtNode) {
    errors.push({ severity: 'error', pointer: '', message: POLICY_MESSAGES.missingStatement });
  } else if (stmtNode.t === 'obj') {
    const s = attempt(() => statement(stmtNode, 0, '/Statement'));
    if (s) statements.push(s);
  } else if (stmtNode.t === 'arr') {
    if (stmtNode.items.length === 0) errors.push({ severity: 'error', pointer: '/Statement', message: POLICY_MESSAGES.emptyStatement });
    stmtNode.items.forEach((item, i) => {
      const s = attempt(() => statement(item, i, ptr('/Statement', i)));
      if (s) statements.push(s);
    });
  } else {
    errors.push({ severity: 'error', pointer: '/Statement', message: POLICY_MESSAGES.invalidJson });
  }

  if (errors.length > 0) return { errors };
  return {
    ast: {
      version, versionGiven: versionNode !== undefined,
      id: idNode?.t === 'str' ? idNode.v : undefined,
      statements,
    },
  };
}
