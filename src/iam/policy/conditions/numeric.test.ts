import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCases, type ConditionCase } from '../../../../test/differential/condition-cases.js';
import { compareDecimal, parseDecimal } from './numeric.js';

const cases: ConditionCase[] = [
  { op: 'NumericEquals', values: ['10'], request: '10', expected: true },
  { op: 'NumericEquals', values: ['10'], request: '10.0', expected: true, note: 'decimal = integer' },
  { op: 'NumericEquals', values: ['0.1'], request: '.10', expected: true },
  { op: 'NumericEquals', values: ['-0'], request: '0', expected: true },
  { op: 'NumericEquals', values: [10], request: '+10', expected: true },
  { op: 'NumericEquals', values: ['10'], request: 'ten', expected: false, note: 'not a number' },
  { op: 'NumericEquals', values: ['1e1'], request: '10', expected: false, note: 'no exponent form' },
  { op: 'NumericEquals', values: ['12345678901234567890'], request: '12345678901234567891', expected: false, note: 'exact beyond doubles' },
  { op: 'NumericEquals', values: ['0.30000000000000000001'], request: '0.3', expected: false },
  { op: 'NumericNotEquals', values: ['1', '2'], request: '3', expected: true },
  { op: 'NumericNotEquals', values: ['1', '2'], request: '2', expected: false },
  { op: 'NumericNotEquals', values: ['1'], request: 'x', expected: true, note: 'unreadable ⇒ matches none' },
  { op: 'NumericLessThan', values: ['1000'], request: '999', expected: true },
  { op: 'NumericLessThan', values: ['1000'], request: '1000', expected: false },
  { op: 'NumericLessThan', values: ['-1.5'], request: '-2', expected: true },
  { op: 'NumericLessThanEquals', values: ['1000'], request: '1000', expected: true },
  { op: 'NumericGreaterThan', values: ['1.2'], request: '1.3', expected: true },
  { op: 'NumericGreaterThan', values: ['1.2'], request: '1.10', expected: false },
  { op: 'NumericGreaterThanEquals', values: ['5'], request: '5.000', expected: true },
  { op: 'NumericGreaterThanEquals', values: ['5'], request: undefined, expected: false },
  { op: 'NumericLessThan', values: ['10', '1'], request: '5', expected: true, note: 'OR over values' },
];

describe('Numeric operators', () => {
  runCases(cases);
  it('orders decimals exactly, with and without the double fast path', () => {
    const nums = ['-100000000000000000000.5', '-3', '-0.25', '0', '0.000000000000000001', '0.1', '1', '1.5', '99999999999999999999'];
    for (let i = 0; i < nums.length; i++) {
      for (let j = 0; j < nums.length; j++) {
        const c = compareDecimal(parseDecimal(nums[i] as string)!, parseDecimal(nums[j] as string)!);
        assert.equal(Math.sign(c), Math.sign(i - j), `${nums[i]} vs ${nums[j]}`);
      }
    }
  });
  it('rejects text that is not a plain decimal', () => {
    for (const s of ['', '+', '-', '.', '1.2.3', ' 1', '1 ', '0x10', '1e3', 'NaN', 'Infinity']) assert.equal(parseDecimal(s), undefined, s);
  });
});
