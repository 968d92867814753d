import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpDate, isoDate } from './common.js';

test('XML timestamps are whole seconds, the same second the Last-Modified header names', () => {
  for (const t of ['2024-05-06T07:08:09.123Z', '2024-05-06T07:08:09.999Z', '2024-05-06T07:08:09.000Z', '1969-12-31T23:59:59.500Z']) {
    const whole = `${t.slice(0, 19)}.000Z`;
    assert.equal(isoDate(t), whole, t);
    assert.equal(isoDate(new Date(t)), whole, t);
    assert.equal(Date.parse(httpDate(t)), Date.parse(whole), t);
  }
});
