import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseTemplate, requiredVariables, resolveParts, resolveString } from './variables.js';

describe('policy variables', () => {
  const ctx = new Map<string, string | string[]>([['aws:username', 'alice'], ['aws:principaltag/team', 'eng'], ['aws:tagkeys', ['a']]]);
  it('parses text, escapes and variables', () => {
    assert.deepEqual(parseTemplate("a${aws:username}b${*}${?}${$}c${ aws:PrincipalTag/x , 'd e' }", '2012-10-17').parts, [
      { kind: 'text', text: 'a' },
      { kind: 'var', key: 'aws:username', keyText: 'aws:username', fallback: undefined },
      { kind: 'text', text: 'b' },
      { kind: 'literal', text: '*?$' },
      { kind: 'text', text: 'c' },
      { kind: 'var', key: 'aws:principaltag/x', keyText: 'aws:PrincipalTag/x', fallback: 'd e' },
    ]);
  });
  it('leaves everything literal before Version 2012-10-17', () => {
    const t = parseTemplate('${aws:username}${*}', '2008-10-17');
    assert.equal(t.hasVars, false);
    assert.equal(resolveString(t, ctx), '${aws:username}${*}');
  });
  it('keeps malformed placeholders as text', () => {
    for (const s of ['${', '${}', '${ }', "${k, 'x}", '${k, x}', "${, 'x'}", '$ {k}']) {
      assert.equal(resolveString(parseTemplate(s, '2012-10-17'), ctx), s, s);
    }
    assert.equal(resolveString(parseTemplate('${${aws:username}', '2012-10-17'), ctx), '${alice', 'a bad ${ stays text, scanning resumes');
    assert.equal(resolveString(parseTemplate('${x${aws:username}}', '2012-10-17'), ctx), '${xalice}');
  });
  it('resolves values, defaults, and fails on missing or multi-valued keys', () => {
    assert.equal(resolveString(parseTemplate('home/${AWS:UserName}/', '2012-10-17'), ctx), 'home/alice/');
    assert.equal(resolveString(parseTemplate("${aws:PrincipalTag/team, 'all'}", '2012-10-17'), ctx), 'eng');
    assert.equal(resolveString(parseTemplate("${aws:PrincipalTag/cost, 'all'}", '2012-10-17'), ctx), 'all');
    assert.equal(resolveString(parseTemplate('${aws:PrincipalTag/cost}', '2012-10-17'), ctx), undefined);
    assert.equal(resolveString(parseTemplate('${aws:TagKeys}', '2012-10-17'), ctx), undefined);
    assert.equal(resolveString(parseTemplate("${aws:TagKeys, 'd'}", '2012-10-17'), ctx), 'd');
  });
  it('marks substituted values and escapes literal for globbing', () => {
    assert.deepEqual(resolveParts(parseTemplate('${aws:username}*${*}', '2012-10-17'), ctx), [
      { text: 'alice', literal: true }, { text: '*', literal: false }, { text: '*', literal: true },
    ]);
  });
  it('lists variables without defaults', () => {
    assert.deepEqual(requiredVariables(parseTemplate("${a:x}/${a:y, 'd'}/${A:Z}", '2012-10-17')), [
      { key: 'a:x', keyText: 'a:x' }, { key: 'a:z', keyText: 'A:Z' },
    ]);
  });
});
