import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpDate, isoDate, visibleTime } from './common.js';

test('clients see whole seconds, rounded up, the same second in XML and in Last-Modified', () => {
  const cases: [string, string][] = [
    ['2024-05-06T07:08:09.123Z', '2024-05-06T07:08:10.000Z'],
    ['2024-05-06T07:08:09.999Z', '2024-05-06T07:08:10.000Z'],
    ['2024-05-06T07:08:09.000Z', '2024-05-06T07:08:09.000Z'],
    ['1969-12-31T23:59:59.500Z', '1970-01-01T00:00:00.000Z'],
  ];
  for (const [stored, seen] of cases) {
    assert.equal(isoDate(stored), seen, stored);
    assert.equal(isoDate(new Date(stored)), seen, stored);
    assert.equal(Date.parse(httpDate(stored)), Date.parse(seen), stored);
    assert.ok(visibleTime(stored) >= Date.parse(stored), 'never before the write');
  }
});
