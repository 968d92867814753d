import { describe } from 'node:test';
import { runCases, type ConditionCase } from '../../../../test/differential/condition-cases.js';

const cases: ConditionCase[] = [
  { op: 'ArnLike', values: ['arn:aws:s3:::bucket/*'], request: 'arn:aws:s3:::bucket/a/b', expected: true },
  { op: 'ArnEquals', values: ['arn:aws:s3:::bucket/*'], request: 'arn:aws:s3:::bucket/a/b', expected: true, note: 'ArnEquals ≡ ArnLike' },
  { op: 'ArnLike', values: ['arn:aws:iam::*:role/admin'], request: 'arn:aws:iam::111122223333:role/admin', expected: true },
  { op: 'ArnLike', values: ['arn:aws:someservice:*:111122223333:finance/*'],
    request: 'arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt', expected: false, note: 'IAM UG: ArnLike respects segments' },
  { op: 'StringLike', values: ['arn:aws:someservice:*:111122223333:finance/*'],
    request: 'arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt', expected: true, note: 'IAM UG: StringLike does not' },
  { op: 'ArnLike', values: ['arn:aws:s3:*'], request: 'arn:aws:s3:::bucket/key', expected: true, note: 'segment-final * absorbs the rest' },
  { op: 'ArnLike', values: ['arn:aws:s3'], request: 'arn:aws:s3:::bucket/key', expected: false, note: 'fewer parts without a final *' },
  { op: 'ArnLike', values: ['arn:aws:s?:::b'], request: 'arn:aws:s3:::b', expected: true },
  { op: 'ArnLike', values: ['arn:aws:s3:::B'], request: 'arn:aws:s3:::b', expected: false, note: 'case-sensitive' },
  { op: 'ArnLike', values: ['arn:aws:s3:::b'], request: 'arn:aws:s3::b', expected: false, note: 'segment count' },
  { op: 'ArnLike', values: ['*'], request: 'anything', expected: true },
  { op: 'ArnLike', values: ['arn:aws:iam::${aws:PrincipalAccount}:role/*'], request: 'arn:aws:iam::111122223333:role/x',
    extra: { 'aws:PrincipalAccount': '111122223333' }, expected: true, note: 'variable with a colon inside ${…}' },
  { op: 'ArnLike', values: ['arn:aws:iam::${aws:PrincipalAccount}:role/*'], request: 'arn:aws:iam::111122223333:role/x', expected: false },
  { op: 'ArnNotLike', values: ['arn:aws:iam::111122223333:*'], request: 'arn:aws:iam::444455556666:role/x', expected: true },
  { op: 'ArnNotEquals', values: ['arn:aws:iam::111122223333:*'], request: 'arn:aws:iam::111122223333:role/x', expected: false },
  { op: 'ArnNotLike', values: ['arn:aws:iam::111122223333:*'], request: undefined, expected: true },
];

describe('ARN operators', () => runCases(cases));
