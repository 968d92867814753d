import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CONDITION_OPERATORS } from './ast.js';
import { compilePolicy } from './compile.js';
import { evaluatePolicy } from './evaluate.js';
import { referenceEvaluate } from './reference-evaluator.js';
import { astFromJson, contextOf, iamUser, request, type PolicyJson } from '../../../test/differential/policy-json.js';

describe('compilePolicy', () => {
  it('shares identical resource patterns, principals and keys across statements', () => {
    const p = compilePolicy(astFromJson({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: ['arn:aws:s3:::b/*', 'arn:aws:s3:::b'], Condition: { StringEquals: { 'aws:SourceVpc': 'v' } } },
        { Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::b/*', Condition: { StringEquals: { 'AWS:SOURCEVPC': 'w' } } },
        { Effect: 'Allow', Principal: { AWS: ['111122223333'] }, Action: 's3:*', Resource: 'arn:aws:s3:::b/${aws:username}/*' },
      ],
    }), { policyId: 'p1' });
    assert.equal(p.policyId, 'p1');
    assert.equal(p.resourcePatterns.length, 3);
    assert.equal(p.principals.length, 2, '"*" and {"AWS":"*"} are one principal');
    assert.deepEqual(p.keys, [{ lower: 'aws:sourcevpc', text: 'aws:SourceVpc' }, { lower: 'aws:username', text: 'aws:username' }]);
    assert.ok(Object.isFrozen(p.statements[0]?.results[2]));
  });

  it('never throws on unreadable values, for any operator and modifier, and they never match', () => {
    const junk = ['', ' ', 'x', '${', '${}', '1e99999', '-', '::', '1.2.3.4/99', '====', 'arn:::::', '\u0000', '9'.repeat(400), '*'];
    for (const op of CONDITION_OPERATORS) {
      for (const prefix of ['', 'ForAnyValue:', 'ForAllValues:']) {
        const doc: PolicyJson = { Version: '2012-10-17', Statement: { Effect: 'Allow', Action: '*', Resource: '*', Condition: { [`${prefix}${op}`]: { 'k:x': junk } } } };
        const ast = astFromJson(doc);
        const p = compilePolicy(ast);
        for (const v of [undefined, 'x', ['x', '*'], '']) {
          const r = request({ context: contextOf({ 'k:x': v }) });
          assert.deepEqual(evaluatePolicy(p, r), referenceEvaluate(ast, r), `${prefix}${op} vs ${JSON.stringify(v)}`);
        }
      }
    }
  });

  it('orders conditions by cost without changing answers (AND is commutative)', () => {
    const doc: PolicyJson = {
      Version: '2012-10-17',
      Statement: { Effect: 'Allow', Action: '*', Resource: '*', Condition: {
        IpAddress: { 'aws:SourceIp': '10.0.0.0/8' }, Null: { 'k:a': 'false' }, DateLessThan: { 'aws:CurrentTime': '2030-01-01' }, Bool: { 'k:b': 'true' },
      } },
    };
    const ast = astFromJson(doc);
    const p = compilePolicy(ast);
    for (const ip of ['10.1.1.1', '11.1.1.1']) {
      for (const a of [undefined, 'x']) {
        const r = request({ context: contextOf({ 'aws:SourceIp': ip, 'k:a': a, 'aws:CurrentTime': '2026-01-01T00:00:00Z', 'k:b': 'true' }) });
        assert.deepEqual(evaluatePolicy(p, r), referenceEvaluate(ast, r));
      }
    }
  });
});

describe('evaluatePolicy memo space', () => {
  const doc: PolicyJson = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*', Condition: { StringEquals: { 'k:a': 'x' } } },
      { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*', Condition: { StringEquals: { 'k:a': 'y' } } },
    ],
  };
  const ast = astFromJson(doc);
  it('never leaks one evaluation into the next (alternating requests, stamps past 32 bits)', () => {
    const p = compilePolicy(ast);
    const rs = [
      request({ resource: 'arn:aws:s3:::b/k', context: contextOf({ 'k:a': 'x' }) }),
      request({ resource: 'arn:aws:s3:::c/k', context: contextOf({ 'k:a': 'x' }) }),
      request({ resource: 'arn:aws:s3:::b/k', context: contextOf({ 'k:a': 'y' }) }),
      request({ resource: 'arn:aws:s3:::b/k', principal: { kind: 'anonymous' }, context: contextOf({}) }),
    ];
    // The stamps are doubles: a counter past 2^32 must still tell evaluations apart.
    p.scratch.gen = 0xffffffff - 3;
    for (let i = 0; i < 16; i++) {
      const r = rs[i % rs.length]!;
      assert.deepEqual(evaluatePolicy(p, r), referenceEvaluate(ast, r), `round ${i}, gen ${p.scratch.gen}`);
    }
    assert.ok(p.scratch.gen > 0xffffffff, 'counted past 32 bits');
  });
  it('skips missing-key collection on request, with the same matches', () => {
    const p = compilePolicy(ast);
    const r = request({ resource: 'arn:aws:s3:::b/k', context: contextOf({}) });
    assert.deepEqual(evaluatePolicy(p, r).missingKeys, ['k:a']);
    assert.deepEqual(evaluatePolicy(p, r, { missingKeys: false }), { matches: evaluatePolicy(p, r).matches, missingKeys: [] });
  });
  it('handles policies with more than 32 keys', () => {
    const conds: Record<string, string> = {};
    for (let i = 0; i < 40; i++) conds[`k:key${i}`] = 'v';
    const wide = astFromJson({ Version: '2012-10-17', Statement: [
      { Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: conds } },
      { Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringNotEquals: { 'k:key39': 'z', 'k:key5': 'z' } } },
    ] });
    const p = compilePolicy(wide);
    const ctx: Record<string, string> = {};
    for (let i = 0; i < 40; i += 3) ctx[`k:key${i}`] = 'v';
    const r = request({ context: contextOf(ctx) });
    const res = evaluatePolicy(p, r);
    assert.deepEqual(res, referenceEvaluate(wide, r));
    assert.equal(res.missingKeys.length, 26);
    assert.equal(res.missingKeys.at(-1), 'k:key38');
  });
  it('keeps answering correctly past the action memo limit', () => {
    const p = compilePolicy(astFromJson({ Statement: { Effect: 'Allow', Action: 's3:Get*', Resource: '*' } }));
    for (let i = 0; i < 600; i++) {
      assert.equal(evaluatePolicy(p, request({ action: `s3:Get${i}` })).matches.length, 1);
      assert.equal(evaluatePolicy(p, request({ action: `s3:Put${i}`, principal: iamUser('111122223333', 'u') })).matches.length, 0);
    }
    assert.ok(p.actionMemo.size <= 512);
  });
});
