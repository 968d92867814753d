/**
 * Test-only: runs a table of condition cases `{operator, policyValues, request value(s) |
 * absent, expected}` through BOTH the compiled evaluator and the reference evaluator, so
 * every family table also pins the oracle.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { PolicyVersion } from '../../src/iam/policy/ast.js';
import { compilePolicy } from '../../src/iam/policy/compile.js';
import { evaluatePolicy } from '../../src/iam/policy/evaluate.js';
import { referenceEvaluate } from '../../src/iam/policy/reference-evaluator.js';
import type { ContextValue } from '../../src/iam/policy/request.js';
import { astFromJson, contextOf, request } from './policy-json.js';

/** One table row. `request` undefined = the key is absent from the context. */
export interface ConditionCase {
  op: string;
  values: (string | number | boolean)[];
  request: ContextValue | undefined;
  expected: boolean;
  /** Condition key (default `k:test`). */
  key?: string;
  /** Other context entries (for policy variables). */
  extra?: Record<string, ContextValue>;
  version?: PolicyVersion;
  note?: string;
}

/** Evaluates one case with both engines: [compiled, reference]. */
export function evalCase(c: ConditionCase): [boolean, boolean] {
  const key = c.key ?? 'k:test';
  const ast = astFromJson({
    Version: c.version ?? '2012-10-17',
    Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { [c.op]: { [key]: c.values } } },
  });
  const r = request({ context: contextOf({ ...c.extra, [key]: c.request }) });
  return [evaluatePolicy(compilePolicy(ast), r).matches.length === 1, referenceEvaluate(ast, r).matches.length === 1];
}

/** Registers one node:test case per row. */
export function runCases(cases: readonly ConditionCase[]): void {
  for (const c of cases) {
    const name = `${c.op} ${JSON.stringify(c.values)} vs ${c.request === undefined ? '(absent)' : JSON.stringify(c.request)} → ${c.expected}${c.note ? ` (${c.note})` : ''}`;
    it(name, () => {
      const [fast, ref] = evalCase(c);
      assert.equal(fast, c.expected, 'compiled evaluator');
      assert.equal(ref, c.expected, 'reference evaluator');
    });
  }
}
