import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileGlob, foldCase, globMatch } from './glob.js';

describe('glob', () => {
  const table: [string, string, boolean][] = [
    ['', '', true], ['', 'a', false], ['*', '', true], ['*', 'anything/at:all', true], ['**', 'x', true],
    ['a', 'a', true], ['a', 'A', false], ['a', 'ab', false], ['?', '', false], ['?', 'x', true], ['??', 'x', false],
    ['a*', 'a', true], ['a*', 'abc', true], ['*c', 'abc', true], ['*c', 'abd', false], ['a*c', 'ac', true], ['a*c', 'abbbc', true],
    ['a*b*c', 'abc', true], ['a*b*c', 'acb', false], ['a*b?d*e', 'aXbcdYe', true], ['a*b?d*e', 'abde', false],
    ['*a*a*a*', 'aaa', true], ['*a*a*a*', 'aa', false], ['a*a', 'a', false], ['ab*ba', 'aba', false], ['ab*ba', 'abba', true],
    ['*?', '', false], ['*?', 'x', true], ['?*?', 'xy', true], ['?*?', 'x', false], ['*x?z*', 'ax1zxyz', true],
    ['b/*/test/*', 'b/1/2/test/x.jpg', true], ['b/*/test/*', 'b/1-test/x.jpg', false], ['b/*/test/*', 'b//test/', true],
  ];
  for (const [p, s, want] of table) it(`${JSON.stringify(p)} vs ${JSON.stringify(s)} → ${want}`, () => assert.equal(globMatch(p, s), want));

  it('matches from an offset', () => {
    assert.equal(compileGlob('b*').test('xxbcd', 2), true);
    assert.equal(compileGlob('b*').test('xxbcd', 1), false);
  });
  it('treats literal parts as plain characters', () => {
    const g = compileGlob([{ text: 'a', literal: false }, { text: '*?', literal: true }, { text: '*', literal: false }]);
    assert.equal(g.test('a*?zzz'), true);
    assert.equal(g.test('abczzz'), false);
    assert.equal(g.endsWithStar, true);
    assert.equal(compileGlob([{ text: 'a', literal: false }, { text: '*', literal: true }]).endsWithStar, false);
  });
  it('folds case once, at compile time, for case-insensitive globs', () => {
    const g = compileGlob('S3:Get*', { ignoreCase: true });
    assert.equal(g.test(foldCase('s3:GETOBJECT')), true);
    assert.equal(g.test(foldCase('s3:PutObject')), false);
  });
  it('reports wildcard facts', () => {
    assert.equal(compileGlob('*').matchesAll, true);
    assert.equal(compileGlob('**').matchesAll, true);
    assert.equal(compileGlob('a*').matchesAll, false);
    assert.equal(compileGlob('abc').hasWildcard, false);
    assert.equal(compileGlob('a?c').hasWildcard, true);
  });
  it('stays fast on adversarial patterns (no exponential backtracking)', () => {
    const p = `${'*a'.repeat(40)}*b`;
    const s = 'a'.repeat(20_000);
    const t0 = process.hrtime.bigint();
    assert.equal(compileGlob(p).test(s), false);
    const q = `${'*a?'.repeat(30)}*b`;
    assert.equal(compileGlob(q).test(s), false);
    assert.ok(Number(process.hrtime.bigint() - t0) / 1e6 < 500, 'took too long');
  });
});
