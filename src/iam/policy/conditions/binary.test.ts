import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCases, type ConditionCase } from '../../../../test/differential/condition-cases.js';
import { decodeBase64 } from './binary.js';

const cases: ConditionCase[] = [
  { op: 'BinaryEquals', values: ['QmluYXJ5VmFsdWU='], request: 'QmluYXJ5VmFsdWU=', expected: true },
  { op: 'BinaryEquals', values: ['QmluYXJ5VmFsdWU='], request: 'QmluYXJ5VmFsdWV=', expected: true, note: 'same bytes, non-canonical padding bits' },
  { op: 'BinaryEquals', values: ['QmluYXJ5VmFsdWU='], request: 'QmluYXJ5VmFsdWU', expected: false, note: 'unpadded is not read' },
  { op: 'BinaryEquals', values: ['QQ=='], request: 'Qg==', expected: false },
  { op: 'BinaryEquals', values: ['', 'QQ=='], request: 'QQ==', expected: true },
  { op: 'BinaryEquals', values: [''], request: '', expected: true, note: 'empty bytes' },
  { op: 'BinaryEquals', values: ['QQ=='], request: undefined, expected: false },
  { op: 'BinaryEquals', values: ['Q Q=='], request: 'Q Q==', expected: false, note: 'invalid base64 never matches' },
];

describe('BinaryEquals', () => {
  runCases(cases);
  it('reads only strict padded base64', () => {
    assert.deepEqual(decodeBase64('AAEC/w=='), Buffer.from([0, 1, 2, 255]));
    for (const s of ['A', 'AA=', '====', 'A===', 'AA=A', 'AA-_', 'AAAA\n']) assert.equal(decodeBase64(s), undefined, s);
  });
});
