import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compilePolicy } from './compile.js';
import { evaluatePolicy, statementsForAction } from './evaluate.js';
import { referenceEvaluate } from './reference-evaluator.js';
import { parsePolicy } from './parse.js';
import type { EvalRequest, PolicyResult, PrincipalFacts } from './request.js';
import { astFromJson, contextOf, iamUser, request, roleSession, rootUser, type PolicyJson, type StatementJson } from '../../../test/differential/policy-json.js';

/** Evaluates with both engines, asserts they agree, returns the compiled result. */
function both(doc: PolicyJson, r: EvalRequest): PolicyResult {
  const ast = astFromJson(doc);
  const fast = evaluatePolicy(compilePolicy(ast), r);
  assert.deepEqual(fast, referenceEvaluate(ast, r), 'compiled and reference evaluators disagree');
  return fast;
}

const A = '111122223333';
const B = '444455556666';
const anonymous: PrincipalFacts = { kind: 'anonymous' };
const stmt = (s: Partial<StatementJson>): PolicyJson => ({
  Version: '2012-10-17',
  Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bucket/*', ...s },
});
const principalOf = (doc: PolicyJson, who: PrincipalFacts): string | undefined =>
  both(doc, request({ principal: who })).matches[0]?.principalMatch;

describe('Action', () => {
  it('matches case-insensitively with wildcards', () => {
    for (const [pattern, action, want] of [
      ['s3:GetObject', 'S3:getobject', true], ['s3:Get*', 's3:GetObjectAcl', true], ['s3:*Object*', 's3:PutObjectTagging', true],
      ['s3:Get?bject', 's3:GetObject', true], ['*', 'iam:CreateUser', true], ['s3:*', 'iam:CreateUser', false],
      ['s3:GetObject', 's3:GetObjectAcl', false], ['S3:LIST*', 's3:ListBucket', true],
    ] as const) {
      const got = both(stmt({ Action: pattern, Resource: '*' }), request({ action: action })).matches.length === 1;
      assert.equal(got, want, `${pattern} vs ${action}`);
    }
  });
  it('NotAction applies to every other action', () => {
    const doc = stmt({ Action: undefined, NotAction: ['s3:Delete*', 'iam:*'], Resource: '*' });
    assert.equal(both(doc, request({ action: 's3:GetObject' })).matches.length, 1);
    assert.equal(both(doc, request({ action: 's3:DeleteObject' })).matches.length, 0);
    assert.equal(both(doc, request({ action: 'iam:PassRole' })).matches.length, 0);
    assert.equal(both(doc, request({ action: 'kms:Decrypt' })).matches.length, 1);
  });
  it('indexes statements by service and memoises per action, in document order', () => {
    const p = compilePolicy(astFromJson({
      Statement: [
        { Effect: 'Allow', Action: 'iam:*', Resource: '*' },
        { Effect: 'Allow', Action: ['s3:Get*', 'kms:Decrypt'], Resource: '*' },
        { Effect: 'Deny', NotAction: 's3:GetObject', Resource: '*' },
        { Effect: 'Allow', Action: '*', Resource: '*' },
        { Effect: 'Allow', Action: 's3:Put*', Resource: '*' },
      ],
    }));
    assert.deepEqual(p.byService.get('s3')?.map((s) => s.index), [1, 2, 3, 4]);
    assert.deepEqual(p.otherServices.map((s) => s.index), [2, 3]);
    assert.deepEqual(statementsForAction(p, 's3:GetObject').map((s) => s.index), [1, 3]);
    assert.equal(statementsForAction(p, 's3:GetObject'), statementsForAction(p, 's3:GetObject'), 'memoised');
    assert.deepEqual(statementsForAction(p, 'S3:PUTOBJECT').map((s) => s.index), [2, 3, 4]);
    assert.deepEqual(statementsForAction(p, 'sqs:SendMessage').map((s) => s.index), [2, 3]);
  });
});

describe('Resource', () => {
  it('matches segment-wise; NotResource inverts; absent Resource matches anything', () => {
    assert.equal(both(stmt({}), request({ resource: 'arn:aws:s3:::bucket/a/b' })).matches.length, 1);
    assert.equal(both(stmt({}), request({ resource: 'arn:aws:s3:::bucket' })).matches.length, 0);
    assert.equal(both(stmt({}), request({ resource: 'arn:aws:s3:::bucket2/a' })).matches.length, 0);
    const not = stmt({ Resource: undefined, NotResource: ['arn:aws:s3:::secret/*'] });
    assert.equal(both(not, request({ resource: 'arn:aws:s3:::bucket/x' })).matches.length, 1);
    assert.equal(both(not, request({ resource: 'arn:aws:s3:::secret/x' })).matches.length, 0);
    const trust = astFromJson({ Statement: { Effect: 'Allow', Principal: { AWS: A }, Action: 'sts:AssumeRole' } });
    assert.equal(evaluatePolicy(compilePolicy(trust), request({ action: 'sts:AssumeRole', resource: '' })).matches.length, 1);
  });
  it('a Resource with an unresolvable variable matches nothing', () => {
    const doc = stmt({ Resource: 'arn:aws:s3:::bucket/home/${aws:username}/*' });
    const withUser = request({ resource: 'arn:aws:s3:::bucket/home/alice/x', context: contextOf({ 'aws:username': 'alice' }) });
    assert.equal(both(doc, withUser).matches.length, 1);
    const noUser = request({ resource: 'arn:aws:s3:::bucket/home/alice/x', principal: roleSession(A, 'r', 's') });
    const res = both(doc, noUser);
    assert.equal(res.matches.length, 0);
    assert.deepEqual(res.missingKeys, ['aws:username']);
  });
});

describe('Principal', () => {
  it('"*" matches everyone including anonymous, as any', () => {
    for (const p of ['*', { AWS: '*' }] as const) {
      assert.equal(principalOf(stmt({ Principal: p }), anonymous), 'any');
      assert.equal(principalOf(stmt({ Principal: p }), iamUser(B, 'x')), 'any');
      assert.equal(principalOf(stmt({ Principal: p }), { kind: 'service', service: 'logging.s3.amazonaws.com' }), 'any');
    }
  });
  it('no Principal element (identity policy) ⇒ none', () => {
    assert.equal(principalOf(stmt({}), iamUser(A, 'alice')), 'none');
  });
  it('account id and root ARN delegate to the account', () => {
    for (const id of [A, `arn:aws:iam::${A}:root`]) {
      const doc = stmt({ Principal: { AWS: id } });
      assert.equal(principalOf(doc, iamUser(A, 'alice')), 'account');
      assert.equal(principalOf(doc, rootUser(A)), 'account');
      assert.equal(principalOf(doc, roleSession(A, 'r', 's')), 'account');
      assert.equal(principalOf(doc, iamUser(B, 'alice')), undefined);
      assert.equal(principalOf(doc, anonymous), undefined);
    }
  });
  it('a user, role or session ARN names the caller directly; a role ARN covers its sessions', () => {
    assert.equal(principalOf(stmt({ Principal: { AWS: `arn:aws:iam::${A}:user/alice` } }), iamUser(A, 'alice')), 'direct');
    assert.equal(principalOf(stmt({ Principal: { AWS: `arn:aws:iam::${A}:user/alice` } }), iamUser(A, 'bob')), undefined);
    assert.equal(principalOf(stmt({ Principal: { AWS: `arn:aws:iam::${A}:role/r` } }), roleSession(A, 'r', 's')), 'direct');
    assert.equal(principalOf(stmt({ Principal: { AWS: `arn:aws:sts::${A}:assumed-role/r/s` } }), roleSession(A, 'r', 's')), 'direct');
    assert.equal(principalOf(stmt({ Principal: { AWS: `arn:aws:sts::${A}:assumed-role/r/s` } }), roleSession(A, 'r', 'other')), undefined);
    assert.equal(principalOf(stmt({ Principal: { AWS: [A, `arn:aws:iam::${A}:user/alice`] } }), iamUser(A, 'alice')), 'direct', 'most specific wins');
    assert.equal(principalOf(stmt({ Principal: { AWS: `arn:aws:iam::${A}:user/*` } }), iamUser(A, 'alice')), undefined, 'no wildcards in Principal');
  });
  it('service principals match service callers only', () => {
    const doc = stmt({ Principal: { Service: 'logging.s3.amazonaws.com' } });
    assert.equal(principalOf(doc, { kind: 'service', service: 'logging.s3.amazonaws.com' }), 'direct');
    assert.equal(principalOf(doc, { kind: 'service', service: 'cloudtrail.amazonaws.com' }), undefined);
    assert.equal(principalOf(doc, iamUser(A, 'logging.s3.amazonaws.com')), undefined);
  });
  it('NotPrincipal applies to every caller it does not name; users and roles need their account named too', () => {
    const deny = (names: string[]): PolicyJson => stmt({ Effect: 'Deny', NotPrincipal: { AWS: names } });
    const user = `arn:aws:iam::${A}:user/alice`;
    const root = `arn:aws:iam::${A}:root`;
    assert.equal(principalOf(deny([user, root]), iamUser(A, 'alice')), undefined, 'user and account named');
    assert.equal(principalOf(deny([user]), iamUser(A, 'alice')), 'any', 'IAM UG: the account must be named too');
    assert.equal(principalOf(deny([root]), iamUser(A, 'alice')), 'any', 'naming the account does not exclude its users');
    assert.equal(principalOf(deny([root]), rootUser(A)), undefined, 'root: naming the account names it');
    assert.equal(principalOf(deny([A]), rootUser(A)), undefined);
    assert.equal(principalOf(deny([user, root]), iamUser(A, 'bob')), 'any');
    assert.equal(principalOf(deny([user, root]), anonymous), 'any');
    assert.equal(principalOf(deny([`arn:aws:iam::${A}:role/r`, root]), roleSession(A, 'r', 's')), undefined, 'role + account cover its sessions');
    assert.equal(principalOf(stmt({ Effect: 'Deny', NotPrincipal: '*' }), anonymous), undefined);
    const svc = stmt({ Effect: 'Deny', NotPrincipal: { Service: 'logging.s3.amazonaws.com' } });
    assert.equal(principalOf(svc, { kind: 'service', service: 'logging.s3.amazonaws.com' }), undefined);
    assert.equal(principalOf(svc, iamUser(A, 'alice')), 'any');
  });
});

describe('Conditions and results', () => {
  it('ANDs operators and keys, ORs values, reports matches in document order with effects and sids', () => {
    const doc: PolicyJson = {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'DenyInsecure', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::bucket/*', Condition: { Bool: { 'aws:SecureTransport': false } } },
        { Sid: 'Office', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bucket/*',
          Condition: { IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '192.168.0.0/16'] }, StringEquals: { 'aws:PrincipalAccount': A, 'aws:PrincipalTag/team': 'eng' } } },
      ],
    };
    const ctx = { 'aws:SecureTransport': 'false', 'aws:SourceIp': '192.168.1.1', 'aws:PrincipalAccount': A, 'aws:PrincipalTag/team': 'eng' };
    assert.deepEqual(both(doc, request({ context: contextOf(ctx) })).matches, [
      { index: 0, sid: 'DenyInsecure', effect: 'Deny', principalMatch: 'any' },
      { index: 1, sid: 'Office', effect: 'Allow', principalMatch: 'any' },
    ]);
    assert.deepEqual(both(doc, request({ context: contextOf({ ...ctx, 'aws:SecureTransport': 'true', 'aws:PrincipalTag/team': 'ops' }) })).matches, []);
  });
  it('lists missing keys once, as written, for statements whose action and principal match', () => {
    const doc: PolicyJson = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalTag/Team': '${aws:username}' }, Null: { 's3:x-amz-acl': 'true' } } },
        { Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { StringEquals: { 'AWS:PRINCIPALTAG/TEAM': 'x', 'aws:SourceVpc': 'vpc-1' } } },
        { Effect: 'Allow', Action: 's3:PutObject', Resource: '*', Condition: { StringEquals: { 'aws:NotForThisAction': 'x' } } },
      ],
    };
    const res = both(doc, request({ context: contextOf({ 'aws:SourceVpc': 'vpc-1' }) }));
    assert.deepEqual(res.missingKeys, ['aws:PrincipalTag/Team', 'aws:username', 's3:x-amz-acl']);
    assert.deepEqual(res.matches, []);
  });
  it('compiles what parse.ts produces (integration)', () => {
    const parsed = parsePolicy(JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::bucket/${aws:username}/*',
        Condition: { 'ForAllValues:StringLike': { 's3:RequestObjectTagKeys': ['team*'] }, NumericLessThanIfExists: { 's3:max-keys': 100 } } }],
    }));
    assert.ok('ast' in parsed, JSON.stringify(parsed));
    const p = compilePolicy(parsed.ast, { policyId: 'bucket-policy@1' });
    assert.equal(p.policyId, 'bucket-policy@1');
    const r = request({ resource: 'arn:aws:s3:::bucket/alice/k', context: contextOf({ 'aws:username': 'alice', 's3:RequestObjectTagKeys': ['team-a'] }) });
    assert.deepEqual(evaluatePolicy(p, r), { matches: [{ index: 0, sid: undefined, effect: 'Allow', principalMatch: 'account' }], missingKeys: ['s3:max-keys'] });
    assert.deepEqual(referenceEvaluate(parsed.ast, r), evaluatePolicy(p, r));
  });
});

describe('a Condition block remembers its answer only while its keys keep their values', () => {
  // One compiled policy across a sequence of requests, as the server evaluates it; every
  // answer is checked against the reference evaluator, which remembers nothing.
  const sequence = (doc: PolicyJson, contexts: Record<string, string | string[] | undefined>[]): boolean[] => {
    const ast = astFromJson(doc);
    const p = compilePolicy(ast);
    return contexts.map((c, i) => {
      const r = request({ context: contextOf(c) });
      const got = evaluatePolicy(p, r);
      assert.deepEqual(got, referenceEvaluate(ast, r), `request ${i}`);
      return got.matches.length === 1;
    });
  };
  it('answers a repeated value as before and a changed value afresh', () => {
    const doc = stmt({ Principal: '*', Condition: { StringLike: { 'aws:UserAgent': 'good-*' } } });
    const agents = ['good-1', 'good-1', 'bad', 'bad', 'good-2', 'good-1', undefined, 'good-1'];
    const want = [true, true, false, false, true, true, false, true];
    assert.deepEqual(sequence(doc, agents.map((a) => (a === undefined ? {} : { 'aws:UserAgent': a }))), want);
  });
  it('notices a change of any of its keys, not only the first one tested', () => {
    const doc = stmt({ Principal: '*', Condition: { StringEquals: { 'aws:UserAgent': 'ua' }, IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } });
    const ctx = (ua: string, ip: string): Record<string, string> => ({ 'aws:UserAgent': ua, 'aws:SourceIp': ip });
    assert.deepEqual(sequence(doc, [ctx('ua', '10.1.1.1'), ctx('ua', '192.0.2.1'), ctx('x', '192.0.2.1'), ctx('ua', '10.1.1.1'), ctx('ua', '10.2.2.2')]), [true, false, false, true, true]);
  });
  it('a multi-valued key with the same values in a new array is judged again, with the same answer', () => {
    const doc = stmt({ Principal: '*', Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['a', 'b'] } } });
    assert.deepEqual(sequence(doc, [{ 'aws:TagKeys': ['a'] }, { 'aws:TagKeys': ['a'] }, { 'aws:TagKeys': ['a', 'c'] }, { 'aws:TagKeys': ['a'] }]), [true, true, false, true]);
  });
  it('a multi-valued value changed in place is judged again', () => {
    const doc = stmt({ Effect: 'Deny', Principal: '*', Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': 'secret' } } });
    const ast = astFromJson(doc);
    const p = compilePolicy(ast);
    const tags = ['a'];
    const r = request({ context: contextOf({ 'aws:TagKeys': tags }) });
    assert.equal(evaluatePolicy(p, r, { missingKeys: false }).matches.length, 0);
    tags.push('secret');
    assert.deepEqual(evaluatePolicy(p, r, { missingKeys: false }).matches, referenceEvaluate(ast, r).matches);
    assert.equal(evaluatePolicy(p, r, { missingKeys: false }).matches.length, 1);
  });
  it('with a policy variable, the same key value is judged against each request\'s context', () => {
    const doc = stmt({ Principal: '*', Condition: { StringEquals: { 's3:prefix': 'home/${aws:username}/' } } });
    const ctx = (user: string): Record<string, string> => ({ 's3:prefix': 'home/alice/', 'aws:username': user });
    assert.deepEqual(sequence(doc, [ctx('alice'), ctx('bob'), ctx('alice'), ctx('bob')]), [true, false, true, false]);
  });
  it('statements sharing a key keep separate answers', () => {
    const doc: PolicyJson = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bucket/*', Condition: { StringEquals: { 'aws:UserAgent': 'a' } } },
        { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bucket/*', Condition: { StringEquals: { 'aws:UserAgent': 'b' } } },
      ],
    };
    const ast = astFromJson(doc);
    const p = compilePolicy(ast);
    for (const ua of ['a', 'a', 'b', 'b', 'c', 'a']) {
      const r = request({ context: contextOf({ 'aws:UserAgent': ua }) });
      assert.deepEqual(evaluatePolicy(p, r), referenceEvaluate(ast, r), ua);
      assert.deepEqual(evaluatePolicy(p, r, { denyOnly: true }).matches, referenceEvaluate(ast, r).matches.filter((m) => m.effect === 'Deny'), `deny-only ${ua}`);
    }
  });
});
