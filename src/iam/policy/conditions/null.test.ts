import { describe } from 'node:test';
import { runCases, type ConditionCase } from '../../../../test/differential/condition-cases.js';

const cases: ConditionCase[] = [
  { op: 'Null', values: ['true'], request: undefined, expected: true },
  { op: 'Null', values: ['true'], request: '', expected: false, note: 'empty string is present' },
  { op: 'Null', values: ['false'], request: 'x', expected: true },
  { op: 'Null', values: ['false'], request: undefined, expected: false },
  { op: 'Null', values: [true], request: [], expected: true, note: 'empty multi-valued = absent' },
  { op: 'Null', values: ['FALSE'], request: ['a'], expected: true },
  { op: 'Null', values: ['true', 'false'], request: 'x', expected: true, note: 'values OR' },
  { op: 'Null', values: ['maybe'], request: 'x', expected: false },
  { op: 'Null', values: ['maybe'], request: undefined, expected: false },
  { op: 'ForAllValues:Null', values: ['false'], request: undefined, expected: false, note: 'set qualifier ignored' },
  { op: 'ForAnyValue:Null', values: ['true'], request: undefined, expected: true, note: 'set qualifier ignored' },
];

describe('Null', () => runCases(cases));
