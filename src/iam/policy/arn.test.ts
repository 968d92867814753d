import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ArnSubject, arnMatch, compileArnPattern, splitArn } from './arn.js';

describe('ARN', () => {
  it('splits at the first five colons only', () => {
    assert.deepEqual(splitArn('arn:aws:s3:::b/k:with:colons'), ['arn', 'aws', 's3', '', '', 'b/k:with:colons']);
    assert.deepEqual(splitArn('arn:aws:s3'), ['arn', 'aws', 's3']);
    assert.deepEqual(splitArn(''), ['']);
  });
  const table: [string, string, boolean, string?][] = [
    ['arn:aws:s3:::bucket', 'arn:aws:s3:::bucket', true],
    ['arn:aws:s3:::bucket', 'arn:aws:s3:::bucket/k', false],
    ['arn:aws:s3:::bucket/*', 'arn:aws:s3:::bucket/a:b/c', true, 'resource part may hold colons'],
    ['arn:aws:s3:::bucket/*/test/*', 'arn:aws:s3:::bucket/1/2/test/x.jpg', true, 'IAM UG example'],
    ['arn:aws:s3:::bucket/*/test/*', 'arn:aws:s3:::bucket/1-test/x.jpg', false],
    ['arn:aws:s3:::example?bucket/*', 'arn:aws:s3:::example1bucket/k', true],
    ['arn:aws:s3:::*', 'arn:aws:s3:::any/thing', true],
    ['arn:aws:s3:*', 'arn:aws:s3:::any/thing', true, 'segment-final * expands past colons'],
    ['arn:aws:*', 'arn:aws:s3:::b', true],
    ['arn:aws:s3:us-*', 'arn:aws:s3:us-east-1:111122223333:x', true],
    ['arn:aws:s3:us-*', 'arn:aws:s3:eu-west-1:111122223333:x', false],
    ['arn:aws:s3:*:*:*', 'arn:aws:s3:::b', true],
    ['arn:aws:iam::*:role/x', 'arn:aws:iam::111122223333:role/x', true],
    ['arn:aws:iam::1111*:root', 'arn:aws:iam::111122223333:root', true],
    ['arn:aws:iam::1111*', 'arn:aws:iam::111122223333:root', true],
    ['arn:aws:*:*:111122223333:finance/*', 'arn:aws:x:us-east-2:999999999999:store/abc:111122223333:finance/d', false, 'no crossing inside segments'],
    ['arn:aws:s3:::b*', 'arn:aws:s3:::b/k', true, 'bucket glob covers objects'],
    ['arn:aws:s3', 'arn:aws:s3:::b', false],
    ['*', 'not even an ARN', true],
    ['arn:aws:s3:::B', 'arn:aws:s3:::b', false, 'case-sensitive'],
  ];
  for (const [p, a, want, note] of table) {
    it(`${p} vs ${a} → ${want}${note ? ` (${note})` : ''}`, () => assert.equal(arnMatch(p, a), want));
  }
  it('resolves variables per segment, never splitting on colons inside ${…} or in values', () => {
    const m = compileArnPattern('arn:aws:s3:::bucket/${aws:username}/*', '2012-10-17');
    const ctx = new Map([['aws:username', 'al:ice']]);
    assert.equal(m.test(new ArnSubject('arn:aws:s3:::bucket/al:ice/x'), ctx), true);
    assert.equal(m.test(new ArnSubject('arn:aws:s3:::bucket/bob/x'), ctx), false);
    assert.equal(m.test(new ArnSubject('arn:aws:s3:::bucket/al:ice/x'), new Map()), false, 'unresolvable ⇒ matches nothing');
    const acct = compileArnPattern('arn:aws:iam::${aws:PrincipalAccount}:user/*', '2012-10-17');
    assert.equal(acct.test(new ArnSubject('arn:aws:iam::111122223333:user/u'), new Map([['aws:principalaccount', '111122223333']])), true);
    const lit = compileArnPattern('arn:aws:s3:::bucket/${aws:username}/*', '2008-10-17');
    assert.equal(lit.test(new ArnSubject('arn:aws:s3:::bucket/${aws:username}/x'), ctx), true, '2008: literal');
    assert.equal(lit.test(new ArnSubject('arn:aws:s3:::bucket/al:ice/x'), ctx), false);
  });
});
