import { describe } from 'node:test';
import { runCases, type ConditionCase } from '../../../../test/differential/condition-cases.js';

const tags = 'aws:TagKeys';
const cases: ConditionCase[] = [
  // IfExists
  { op: 'StringEqualsIfExists', values: ['a'], request: undefined, expected: true },
  { op: 'StringEqualsIfExists', values: ['a'], request: 'b', expected: false },
  { op: 'StringNotEqualsIfExists', values: ['a'], request: 'a', expected: false, note: 'present and equal ⇒ Deny still bites' },
  { op: 'StringNotEqualsIfExists', values: ['a'], request: 'b', expected: true },
  // ForAnyValue
  { op: 'ForAnyValue:StringEquals', key: tags, values: ['env', 'team'], request: ['team', 'x'], expected: true },
  { op: 'ForAnyValue:StringEquals', key: tags, values: ['env', 'team'], request: ['x', 'y'], expected: false },
  { op: 'ForAnyValue:StringEquals', key: tags, values: ['env'], request: undefined, expected: false, note: 'absent ⇒ false' },
  { op: 'ForAnyValue:StringEquals', key: tags, values: ['env'], request: [], expected: false, note: 'empty ⇒ false' },
  { op: 'ForAnyValue:StringEqualsIfExists', key: tags, values: ['env'], request: undefined, expected: true },
  { op: 'ForAnyValue:StringNotEquals', key: tags, values: ['env'], request: ['env', 'x'], expected: true, note: 'some value is not env' },
  { op: 'ForAnyValue:StringNotEquals', key: tags, values: ['env'], request: ['env'], expected: false },
  { op: 'ForAnyValue:StringLike', key: tags, values: ['team-*'], request: 'team-a', expected: true, note: 'single value = 1-element set' },
  // ForAllValues
  { op: 'ForAllValues:StringEquals', key: tags, values: ['env', 'team'], request: ['team', 'env'], expected: true },
  { op: 'ForAllValues:StringEquals', key: tags, values: ['env', 'team'], request: ['team', 'cost'], expected: false },
  { op: 'ForAllValues:StringEquals', key: tags, values: ['env'], request: undefined, expected: true, note: 'vacuous truth on absent' },
  { op: 'ForAllValues:StringEquals', key: tags, values: ['env'], request: [], expected: true, note: 'vacuous truth on empty' },
  { op: 'ForAllValues:StringNotEquals', key: tags, values: ['secret'], request: ['a', 'b'], expected: true },
  { op: 'ForAllValues:StringNotEquals', key: tags, values: ['secret'], request: ['a', 'secret'], expected: false },
  { op: 'ForAllValues:StringLikeIfExists', key: tags, values: ['a*'], request: ['ab', 'ac'], expected: true },
  { op: 'ForAllValues:NumericLessThan', key: 'k:nums', values: ['10'], request: ['1', '9.99'], expected: true },
  { op: 'ForAllValues:NumericLessThan', key: 'k:nums', values: ['10'], request: ['1', '10'], expected: false },
  // Plain operator on a multi-valued value: [CHOICE] any element.
  { op: 'StringEquals', key: tags, values: ['a'], request: ['b', 'a'], expected: true },
  { op: 'StringNotEquals', key: tags, values: ['a'], request: ['b', 'a'], expected: false },
  { op: 'StringNotEquals', key: tags, values: ['a'], request: ['b', 'c'], expected: true },
  { op: 'StringEquals', key: tags, values: ['a'], request: [], expected: false, note: 'empty = absent' },
  { op: 'StringNotEquals', key: tags, values: ['a'], request: [], expected: true, note: 'empty = absent' },
];

describe('modifiers: IfExists, ForAnyValue, ForAllValues', () => runCases(cases));
