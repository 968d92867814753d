import { describe } from 'node:test';
import { runCases, type ConditionCase } from '../../../../test/differential/condition-cases.js';

const cases: ConditionCase[] = [
  { op: 'Bool', values: ['true'], request: 'true', expected: true },
  { op: 'Bool', values: [true], request: 'TRUE', expected: true, note: 'JSON bool, case-insensitive' },
  { op: 'Bool', values: ['false'], request: 'true', expected: false },
  { op: 'Bool', values: ['False'], request: 'false', expected: true },
  { op: 'Bool', values: ['true'], request: 'yes', expected: false },
  { op: 'Bool', values: ['yes'], request: 'yes', expected: false, note: 'not a boolean' },
  { op: 'Bool', values: ['true'], request: undefined, expected: false },
  { op: 'BoolIfExists', values: ['true'], request: undefined, expected: true, note: 'aws:MultiFactorAuthPresent with long-term keys' },
  { op: 'BoolIfExists', values: ['true'], request: 'false', expected: false },
  { op: 'Bool', values: ['${k:flag}'], request: 'true', extra: { 'k:flag': 'True' }, expected: true, note: 'variable' },
  { op: 'Bool', values: ['${k:flag}'], request: 'true', expected: false },
];

describe('Bool', () => runCases(cases));
