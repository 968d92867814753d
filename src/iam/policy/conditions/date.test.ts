import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCases, type ConditionCase } from '../../../../test/differential/condition-cases.js';
import { parseInstant } from './date.js';

const cases: ConditionCase[] = [
  { op: 'DateEquals', values: ['2026-01-01T00:00:00Z'], request: '2026-01-01T00:00:00Z', expected: true },
  { op: 'DateEquals', values: ['2026-01-01'], request: '2026-01-01T00:00:00Z', expected: true, note: 'date-only = midnight UTC' },
  { op: 'DateEquals', values: ['2026-01-01T00:00:00Z'], request: '1767225600', expected: true, note: 'epoch seconds' },
  { op: 'DateEquals', values: ['2026-01-01T01:00:00+01:00'], request: '2026-01-01T00:00:00Z', expected: true, note: 'offset' },
  { op: 'DateEquals', values: ['2026-01-01T00:00:00.000Z'], request: '2026-01-01T00:00Z', expected: true },
  { op: 'DateEquals', values: ['2026-01-01T00:00:00.5Z'], request: '1767225600.5', expected: true },
  { op: 'DateEquals', values: ['2026-02-30'], request: '2026-03-02', expected: false, note: 'invalid date never matches' },
  { op: 'DateNotEquals', values: ['2026-01-01'], request: '2026-01-02', expected: true },
  { op: 'DateNotEquals', values: ['2026-01-01'], request: 'yesterday', expected: true },
  { op: 'DateLessThan', values: ['2026-01-01T00:00:00Z'], request: '2025-12-31T23:59:59Z', expected: true },
  { op: 'DateLessThan', values: ['2026-01-01T00:00:00Z'], request: '2026-01-01T00:00:00Z', expected: false },
  { op: 'DateLessThan', values: ['2026-01-01T00:00:00Z'], request: '2025-12-31T23:59:59.999999999Z', expected: true },
  { op: 'DateLessThanEquals', values: ['2026-01-01'], request: '2026-01-01T00:00:00Z', expected: true },
  { op: 'DateGreaterThan', values: ['2026-01-01'], request: '2026-01-01T00:00:00.001Z', expected: true },
  { op: 'DateGreaterThan', values: ['1767225600'], request: '2025-01-01', expected: false },
  { op: 'DateGreaterThanEquals', values: ['2000-02-29'], request: '2000-02-29', expected: true, note: 'leap year' },
  { op: 'DateGreaterThanEquals', values: ['2026-01-01'], request: undefined, expected: false },
  { op: 'DateLessThanIfExists', values: ['2026-01-01'], request: undefined, expected: true },
];

describe('Date operators', () => {
  runCases(cases);
  it('reads ISO 8601 and epoch forms to the same instant', () => {
    const a = parseInstant('2026-07-01T12:30:00Z');
    for (const s of ['2026-07-01T12:30:00.000Z', '2026-07-01T14:30:00+02:00', '2026-07-01T14:30+0200', '2026-07-01T07:30:00-05', '1782909000']) {
      assert.deepEqual(parseInstant(s), a, s);
    }
    assert.deepEqual(parseInstant('0099-01-01'), { sec: -59_042_995_200, nanos: 0 }, 'years below 100 are not 19xx');
    assert.deepEqual(parseInstant('-1.5'), { sec: -2, nanos: 500_000_000 });
  });
  it('rejects malformed dates', () => {
    for (const s of ['', '2026-13-01', '2026-00-10', '2026-01-32', '2026-01-01T24:00:00Z', '2026-01-01T00:60Z', '2026-01-01T00:00:60Z',
      '2026-01-01Z', '2026-01-01T', '2026-01-01 00:00:00Z', '2026-1-1', '2026-01-01T00:00:00.Z', '2026-01-01T00:00:00+24:00', 'now']) {
      assert.equal(parseInstant(s), undefined, s);
    }
  });
});
