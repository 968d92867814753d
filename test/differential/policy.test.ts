/**
 * Differential test: the compiled evaluator (compile.ts + evaluate.ts) against the
 * reference evaluator (reference-evaluator.ts) on generated policies and requests. They
 * must agree on the statements that apply, how each one's Principal matched, and the
 * missing keys. Generators draw from small alphabets so that patterns, variables and
 * request values actually collide.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CONDITION_OPERATORS } from '../../src/iam/policy/ast.js';
import { compilePolicy } from '../../src/iam/policy/compile.js';
import { evaluatePolicy } from '../../src/iam/policy/evaluate.js';
import { referenceEvaluate, referenceWildcardMatch } from '../../src/iam/policy/reference-evaluator.js';
import { compileGlob } from '../../src/iam/policy/glob.js';
import type { ContextValue, EvalRequest, PrincipalFacts } from '../../src/iam/policy/request.js';
import { astFromJson, iamUser, roleSession, rootUser, type PolicyJson, type StatementJson } from './policy-json.js';

const A = '111122223333';
const B = '444455556666';

// ---- values shared by policies and requests, per family plus junk ------------------------

const STRINGS = ['a', 'b', 'ab', 'A', '', 'a*', '*', '?', 'a?', '*b', 'a:b', 'a/b', '${aws:username}', 'a${*}', "${k:a, 'd'}", '${k:b}/*', '$', '${', '${?}b'];
const NUMBERS = ['1', '1.0', '-2', '10', '0.5', '.5', '1e1', '007', '-0', '99999999999999999999', '99999999999999999999.5', '99999999999999999998',
  '-99999999999999999999', '12345678901234567890.25', '12345678901234567890.3', '0.1000000000000000000001', '+.5', '5.'];
const DATES = ['2026-01-01', '2026-01-01T00:00:00Z', '1767225600', '2026-01-01T01:00:00+01:00', '2025-12-31T23:59:59.5Z', '2026-02-30', '1767225600.5', '2026-01-01T00:00Z',
  '2026-01-01T00:00:60Z', '2026-01-01T24:00:00Z', '2025-12-31T19:00:00-05:00', '2026-01-01T00:00:00.0000000001Z', '-1.5', '2024-02-29', '2025-02-29', '-1', '-2', '-1.25', '0'];
const BOOLS = ['true', 'false', 'TRUE', 'False', 'yes'];
const BINARY = ['QQ==', 'QR==', 'Qg==', '', 'AAAA', 'A===', 'QUJD'];
const IPS = ['10.0.0.0/8', '10.1.2.3', '::ffff:10.0.0.1', '2001:db8::/32', '2001:db8::1', '0.0.0.0/0', '::/0', '010.0.0.1', '::ffff:10.0.0.0/104', '10.0.0.0/33', '192.168.0.1'];
const ARNS = ['arn:aws:s3:::bucket', 'arn:aws:s3:*', 'arn:aws:iam::111122223333:root', 'arn:aws:iam::*:role/r', 'arn:aws:s3:::b?cket/*', 'arn:aws:s3:::bucket/${aws:username}', '*', 'arn:aws:s3'];
const POOL = [...STRINGS, ...NUMBERS, ...DATES, ...BOOLS, ...BINARY, ...IPS, ...ARNS];

const globText = (chars: string[], max: number) => fc.array(fc.constantFrom(...chars), { maxLength: max }).map((a) => a.join(''));
const anyValue = fc.oneof(fc.constantFrom(...POOL), globText(['a', 'b', '*', '?', ':', '/'], 6));
const requestValue = fc.oneof(fc.constantFrom(...POOL), globText(['a', 'b', ':', '/', '*'], 6));

// ---- policies -----------------------------------------------------------------------------

const KEYS = ['k:a', 'K:B', 'aws:TagKeys', 'aws:username'];
const PRINCIPAL_ENTRIES = [A, B, `arn:aws:iam::${A}:root`, `arn:aws:iam::${A}:user/alice`, `arn:aws:iam::${A}:role/r`,
  `arn:aws:sts::${A}:assumed-role/r/s1`, `arn:aws:iam::${B}:user/bob`, '*', `arn:aws:iam::${A}:user/*`];
const SERVICES = ['logging.s3.amazonaws.com', 'cloudtrail.amazonaws.com'];

const principalEl = fc.oneof(
  fc.constant('*' as const),
  fc.constant({ AWS: '*' }),
  fc.record({ AWS: fc.subarray(PRINCIPAL_ENTRIES, { minLength: 1, maxLength: 3 }) }),
  fc.record({ Service: fc.subarray(SERVICES, { minLength: 1 }) }),
  fc.record({ AWS: fc.subarray(PRINCIPAL_ENTRIES, { minLength: 1, maxLength: 2 }), Service: fc.subarray(SERVICES, { minLength: 1 }) }),
);

const ACTIONS = ['s3:GetObject', 's3:Get*', 's3:*Object', 's3:*', '*', 's3:PutObject', 's3:ListBucket', 'S3:getobject', 's3:Get?bject', 'iam:*', 's3:List*', 's3*', '*:GetObject', 'kms:Decrypt'];

const RESOURCE_PIECES = ['arn:aws:s3:::', 'bucket', 'b', '/', ':', '*', '?', 'a', '${aws:username}', "${aws:username, 'alice'}", '${*}', '${?}', '${k:b}', 'arn:aws:', 's3', '$', '{'];
const resourcePattern = fc.oneof(
  fc.constantFrom('arn:aws:s3:::bucket/*', 'arn:aws:s3:::b*', 'arn:aws:s3:*', '*', 'arn:aws:s3:::bucket/${aws:username}/*', "arn:aws:s3:::bucket/${aws:username, 'x'}*",
    'arn:aws:*:*:*:*', 'arn:aws:s3:::bucket/a:b*', 'arn:aws:s3:::bucket/${*}', 'arn:aws:s3:::bucket', 'arn:aws:s3:::bucket/alice/*', 'arn:aws:s3:*${k:b}'),
  fc.array(fc.constantFrom(...RESOURCE_PIECES), { minLength: 1, maxLength: 7 }).map((a) => a.join('')),
);

const conditionBlockOver = (keys: readonly string[], max: number) => fc.array(
  fc.record({
    op: fc.constantFrom(...CONDITION_OPERATORS),
    ifExists: fc.boolean(),
    set: fc.constantFrom(null, 'ForAnyValue', 'ForAllValues'),
    key: fc.constantFrom(...keys),
    values: fc.array(anyValue, { maxLength: 3 }),
  }),
  { maxLength: max },
).map((conds) => {
  const block: Record<string, Record<string, string[]>> = {};
  for (const c of conds) {
    const opText = `${c.set === null ? '' : `${c.set}:`}${c.op}${c.ifExists && c.op !== 'Null' ? 'IfExists' : ''}`;
    (block[opText] ??= {})[c.key] = c.values;
  }
  return block;
});
const conditionBlock = conditionBlockOver(KEYS, 3);

const statement: fc.Arbitrary<StatementJson> = fc.record({
  effect: fc.constantFrom('Allow' as const, 'Deny' as const),
  principal: fc.option(fc.record({ negated: fc.boolean(), value: principalEl }), { nil: undefined }),
  notAction: fc.boolean(),
  actions: fc.array(fc.constantFrom(...ACTIONS), { minLength: 1, maxLength: 3 }),
  resource: fc.option(fc.record({ negated: fc.boolean(), values: fc.array(resourcePattern, { minLength: 1, maxLength: 3 }) }), { nil: undefined }),
  condition: conditionBlock,
  sid: fc.option(fc.constantFrom('S1', 'S2'), { nil: undefined }),
}).map((s) => {
  const out: StatementJson = { Effect: s.effect, Condition: s.condition };
  if (s.sid !== undefined) out.Sid = s.sid;
  if (s.principal !== undefined) out[s.principal.negated ? 'NotPrincipal' : 'Principal'] = s.principal.value;
  out[s.notAction ? 'NotAction' : 'Action'] = s.actions;
  if (s.resource !== undefined) out[s.resource.negated ? 'NotResource' : 'Resource'] = s.resource.values;
  return out;
});

const policy: fc.Arbitrary<PolicyJson> = fc.record({
  Version: fc.constantFrom('2012-10-17' as const, '2012-10-17' as const, '2008-10-17' as const),
  Statement: fc.array(statement, { minLength: 1, maxLength: 5 }),
});

// ---- requests -----------------------------------------------------------------------------

const PRINCIPALS: PrincipalFacts[] = [
  { kind: 'anonymous' }, iamUser(A, 'alice'), iamUser(B, 'bob'), rootUser(A), roleSession(A, 'r', 's1'), roleSession(B, 'r', 's1'),
  { kind: 'service', service: 'logging.s3.amazonaws.com' },
];
const REQUEST_PIECES = ['arn:aws:s3:::', 'bucket', 'b', '/', ':', 'alice', 'a', '*', 'x', '${aws:username}'];
const resourceArn = fc.oneof(
  fc.constantFrom('arn:aws:s3:::bucket/alice/x', 'arn:aws:s3:::bucket', 'arn:aws:s3:::bucket/a:b/c', 'arn:aws:s3:::b', 'arn:aws:iam::111122223333:user/alice', 'arn:aws:s3:::bucket/*'),
  fc.array(fc.constantFrom(...REQUEST_PIECES), { minLength: 1, maxLength: 6 }).map((a) => a.join('')),
);
const contextValue: fc.Arbitrary<ContextValue | undefined> = fc.oneof(
  fc.constant(undefined),
  requestValue,
  fc.array(requestValue, { maxLength: 3 }),
);
const evalRequest: fc.Arbitrary<EvalRequest> = fc.record({
  action: fc.constantFrom('s3:GetObject', 's3:PutObject', 's3:ListBucket', 'S3:GETOBJECT', 'iam:CreateUser', 's3:GetObjectAcl', 'kms:Decrypt'),
  resource: resourceArn,
  principal: fc.constantFrom(...PRINCIPALS),
  values: fc.tuple(...KEYS.map(() => contextValue)),
}).map((r) => {
  const context = new Map<string, ContextValue>();
  KEYS.forEach((k, i) => {
    const v = r.values[i];
    if (v !== undefined) context.set(k.toLowerCase(), v);
  });
  return { action: r.action, resource: r.resource, principal: r.principal, context };
});

// ---- per-family focus: policy and request values drawn from the operator's own domain -----

const ab = (max: number) => globText(['a', 'b', '*', '?'], max);
const FAMILY_VALUES: Record<string, fc.Arbitrary<string>> = {
  String: fc.oneof(fc.constantFrom(...STRINGS), ab(6)),
  Numeric: fc.oneof(fc.constantFrom(...NUMBERS),
    fc.tuple(fc.bigInt({ min: -(10n ** 22n), max: 10n ** 22n }), fc.constantFrom('', '.5', '.25', '.0')).map(([i, f]) => `${i}${f}`), fc.integer({ min: -3, max: 12 }).map(String), fc.double({ min: -5, max: 5, noNaN: true }).map((d) => d.toFixed(2))),
  Date: fc.oneof(fc.constantFrom(...DATES), fc.integer({ min: 1767225590, max: 1767225610 }).map(String),
    fc.integer({ min: 1767225590, max: 1767225610 }).map((t) => new Date(t * 1000).toISOString())),
  Bool: fc.constantFrom(...BOOLS),
  Binary: fc.constantFrom(...BINARY),
  Ip: fc.oneof(fc.constantFrom(...IPS), fc.tuple(fc.constantFrom('10', '192'), fc.integer({ min: 0, max: 2 }), fc.option(fc.integer({ min: 0, max: 33 }), { nil: undefined }))
    .map(([a, b, bits]) => `${a}.${b}.0.${b}${bits === undefined ? '' : `/${bits}`}`),
  fc.tuple(fc.constantFrom('::ffff:10.0.0.', '2001:db8::', '::ffff:a00:'), fc.integer({ min: 0, max: 3 }), fc.option(fc.constantFrom(32, 64, 95, 96, 104, 120, 128, 129), { nil: undefined }))
    .map(([a, b, bits]) => `${a}${b}${bits === undefined ? '' : `/${bits}`}`)),
  Arn: fc.oneof(fc.constantFrom(...ARNS), fc.array(fc.constantFrom('arn', ':', 'a', '*', '?', 's3', '/', '${k:b}'), { maxLength: 8 }).map((a) => a.join(''))),
  Null: fc.constantFrom('true', 'false', 'TRUE', 'x'),
};
const familyOf = (op: string): string =>
  op.startsWith('String') ? 'String' : op.startsWith('Numeric') ? 'Numeric' : op.startsWith('Date') ? 'Date' : op === 'Bool' ? 'Bool'
    : op === 'BinaryEquals' ? 'Binary' : op.endsWith('IpAddress') ? 'Ip' : op.startsWith('Arn') ? 'Arn' : 'Null';

const focusedCase = fc.constantFrom(...CONDITION_OPERATORS).chain((op) => {
  const values = FAMILY_VALUES[familyOf(op)] as fc.Arbitrary<string>;
  return fc.record({
    op: fc.constant(op),
    ifExists: fc.boolean(),
    set: fc.constantFrom(null, 'ForAnyValue', 'ForAllValues'),
    policyValues: fc.array(values, { maxLength: 3 }),
    request: fc.oneof(fc.constant(undefined), values, fc.array(values, { maxLength: 3 })),
    other: fc.option(fc.constantFrom('a', 'b', 'a*', 'arn', '1'), { nil: undefined }),
  });
});

describe('differential: compiled evaluator vs reference evaluator', () => {
  it('agree per operator family on values from the family domain', () => {
    fc.assert(
      fc.property(focusedCase, (c) => {
        const opText = `${c.set === null ? '' : `${c.set}:`}${c.op}${c.ifExists && c.op !== 'Null' ? 'IfExists' : ''}`;
        const ast = astFromJson({ Version: '2012-10-17', Statement: { Effect: 'Allow', Action: '*', Resource: '*', Condition: { [opText]: { 'k:a': c.policyValues } } } });
        const context = new Map<string, ContextValue>();
        if (c.request !== undefined) context.set('k:a', c.request);
        if (c.other !== undefined) context.set('k:b', c.other);
        const r: EvalRequest = { action: 's3:GetObject', resource: 'arn:aws:s3:::b', principal: { kind: 'anonymous' }, context };
        assert.deepEqual(evaluatePolicy(compilePolicy(ast), r), referenceEvaluate(ast, r), JSON.stringify({ opText, c }));
      }),
      { numRuns: 60000, seed: Number(process.env.FC_SEED ?? 11) },
    );
  });

  it('glob agrees with the oracle wildcard matcher', () => {
    fc.assert(
      fc.property(globText(['a', 'b', '*', '?'], 10), globText(['a', 'b'], 10), (p, s) => {
        assert.equal(compileGlob(p).test(s), referenceWildcardMatch(p, s), JSON.stringify({ p, s }));
      }),
      { numRuns: 50000, seed: Number(process.env.FC_SEED ?? 17) },
    );
  });

  it('agree on Resource patterns (segments, trailing stars, variables)', () => {
    const piece = fc.constantFrom('arn', ':', 'a', 'b', '*', '?', '/', '${k:b}', '${*}', "${k:x, 'a'}");
    fc.assert(
      fc.property(
        fc.array(fc.array(piece, { maxLength: 9 }).map((a) => a.join('')), { minLength: 1, maxLength: 2 }),
        fc.boolean(),
        fc.array(fc.constantFrom('arn', ':', 'a', 'b', '/', '*'), { maxLength: 10 }).map((a) => a.join('')),
        fc.option(fc.constantFrom('', 'a', 'a:b', '*', 'b/'), { nil: undefined }),
        (patterns, negated, arn, kb) => {
          const ast = astFromJson({ Version: '2012-10-17', Statement: { Effect: 'Allow', Action: '*', [negated ? 'NotResource' : 'Resource']: patterns } });
          const context = new Map<string, ContextValue>(kb === undefined ? [] : [['k:b', kb]]);
          const r: EvalRequest = { action: 's3:GetObject', resource: arn, principal: { kind: 'anonymous' }, context };
          assert.deepEqual(evaluatePolicy(compilePolicy(ast), r), referenceEvaluate(ast, r), JSON.stringify({ patterns, negated, arn, kb }));
        },
      ),
      { numRuns: 20000, seed: Number(process.env.FC_SEED ?? 13) },
    );
  });

  it('agree on matching statements, principal matches and missing keys', () => {
    let applied = 0;
    let total = 0;
    fc.assert(
      fc.property(policy, fc.array(evalRequest, { minLength: 1, maxLength: 6 }), (doc, requests) => {
        const ast = astFromJson(doc);
        const compiled = compilePolicy(ast);
        for (const r of requests) {
          const fast = evaluatePolicy(compiled, r);
          const ref = referenceEvaluate(ast, r);
          assert.deepEqual(fast, ref, JSON.stringify({ doc, request: { ...r, context: [...r.context] } }));
          // Deny-only evaluation (a caller settled without the policy's grants) finds exactly the denies.
          assert.deepEqual(evaluatePolicy(compiled, r, { denyOnly: true, missingKeys: false }).matches, ref.matches.filter((m) => m.effect === 'Deny'));
          total++;
          if (fast.matches.length > 0) applied++;
        }
      }),
      { numRuns: 12000, seed: Number(process.env.FC_SEED ?? 20260101) },
    );
    // Guard against a generator that never exercises the interesting path.
    assert.ok(applied / total > 0.05, `only ${applied}/${total} requests matched any statement`);
  });

  it('agree across sequences that repeat requests and change one key at a time (the Condition-block memo)', () => {
    // One compiled policy answers many requests in a row, as in the server: values repeat
    // (the memo answers) and change one key at a time, sometimes back to an earlier value.
    const step = fc.record({ from: fc.nat(2), mixWith: fc.nat(2), keys: fc.nat(255), denyOnly: fc.boolean() });
    fc.assert(
      fc.property(policy, fc.array(evalRequest, { minLength: 3, maxLength: 3 }), fc.array(step, { minLength: 4, maxLength: 16 }), (doc, pool, steps) => {
        const ast = astFromJson(doc);
        const compiled = compilePolicy(ast);
        for (const { from, mixWith, keys, denyOnly } of steps) {
          const a = pool[from]!;
          const b = pool[mixWith]!;
          // The context of a, with the keys of b whose position bit is set in `keys`.
          const context = new Map(a.context);
          [...b.context.keys()].forEach((k, i) => {
            if ((keys >> (i % 8)) & 1) context.set(k, b.context.get(k)!);
          });
          const r: EvalRequest = { ...a, context };
          const ref = referenceEvaluate(ast, r);
          const at = JSON.stringify({ doc, request: { ...r, context: [...r.context] } });
          // Without missing keys a remembered false answer is consulted before Principal and
          // Resource; with them the documented order holds: both paths are exercised.
          if (denyOnly) assert.deepEqual(evaluatePolicy(compiled, r, { denyOnly: true, missingKeys: false }).matches, ref.matches.filter((m) => m.effect === 'Deny'), at);
          else if (keys & 1) assert.deepEqual(evaluatePolicy(compiled, r, { missingKeys: false }).matches, ref.matches, at);
          else assert.deepEqual(evaluatePolicy(compiled, r), ref, at);
        }
      }),
      { numRuns: 4000, seed: Number(process.env.FC_SEED ?? 4242) },
    );
  });

  it('agree on policies with more than 32 condition keys (wide memo path), with and without missing keys', () => {
    const wideKeys = Array.from({ length: 40 }, (_, i) => `k:w${i}`);
    const wideDoc = fc.record({
      Version: fc.constant('2012-10-17' as const),
      Statement: fc.array(conditionBlockOver(wideKeys, 12).map((Condition): StatementJson => ({ Effect: 'Allow', Action: '*', Resource: '*', Condition })), { minLength: 3, maxLength: 6 }),
    });
    const wideRequest = fc.array(fc.option(requestValue, { nil: undefined }), { minLength: 40, maxLength: 40 }).map((vals): EvalRequest => {
      const context = new Map<string, ContextValue>();
      vals.forEach((v, i) => {
        if (v !== undefined) context.set(`k:w${i}`, v);
      });
      return { action: 's3:GetObject', resource: 'arn:aws:s3:::b', principal: { kind: 'anonymous' }, context };
    });
    fc.assert(
      fc.property(wideDoc, fc.array(wideRequest, { minLength: 1, maxLength: 4 }), (doc, requests) => {
        const ast = astFromJson(doc);
        const compiled = compilePolicy(ast);
        for (const r of requests) {
          const fast = evaluatePolicy(compiled, r);
          assert.deepEqual(fast, referenceEvaluate(ast, r), JSON.stringify({ doc, request: [...r.context] }));
          assert.deepEqual(evaluatePolicy(compiled, r, { missingKeys: false }), { matches: fast.matches, missingKeys: [] });
        }
      }),
      { numRuns: 1500, seed: Number(process.env.FC_SEED ?? 19) },
    );
  });

  it('agree on condition-heavy policies with variables (focused)', () => {
    const focused = fc.record({
      Version: fc.constant('2012-10-17' as const),
      Statement: fc.array(conditionBlock.map((Condition): StatementJson => ({ Effect: 'Allow', Action: '*', Resource: '*', Condition })), { minLength: 1, maxLength: 4 }),
    });
    fc.assert(
      fc.property(focused, fc.array(evalRequest, { minLength: 1, maxLength: 8 }), (doc, requests) => {
        const ast = astFromJson(doc);
        const compiled = compilePolicy(ast);
        for (const r of requests) assert.deepEqual(evaluatePolicy(compiled, r), referenceEvaluate(ast, r), JSON.stringify({ doc, request: { ...r, context: [...r.context] } }));
      }),
      { numRuns: 8000, seed: Number(process.env.FC_SEED ?? 7) },
    );
  });
});
