import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { PolicyAst } from './ast.js';
import { parseConditionOperator, parsePolicy } from './parse.js';

const B = 'arn:aws:s3:::b';
function ok(text: string | object): PolicyAst {
  const r = parsePolicy(typeof text === 'string' ? text : JSON.stringify(text));
  if ('errors' in r) assert.fail(`unexpected errors: ${JSON.stringify(r.errors)}`);
  return r.ast;
}
function errs(text: string | object): string[] {
  const r = parsePolicy(typeof text === 'string' ? text : JSON.stringify(text));
  if ('ast' in r) assert.fail('expected errors');
  return r.errors.map((e) => e.message);
}
const stmt = (extra: object = {}): object => ({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `${B}/*`, ...extra });

test('Statement as object or array; pointers follow the document', () => {
  const one = ok({ Version: '2012-10-17', Statement: stmt() });
  assert.equal(one.statements[0]!.pointer, '/Statement');
  assert.equal(one.statements[0]!.action.values[0]!.pointer, '/Statement/Action');
  const arr = ok({ Statement: [stmt(), stmt({ Action: ['s3:GetObject', 's3:PutObject'] })] });
  assert.equal(arr.statements[1]!.pointer, '/Statement/1');
  assert.equal(arr.statements[1]!.index, 1);
  assert.deepEqual(arr.statements[1]!.action.values.map((v) => v.pointer), ['/Statement/1/Action/0', '/Statement/1/Action/1']);
  assert.equal(arr.version, '2008-10-17');
  assert.equal(arr.versionGiven, false);
  assert.equal(one.version, '2012-10-17');
  assert.equal(one.versionGiven, true);
});

test('principal forms normalise', () => {
  const p = (principal: unknown) => ok({ Statement: stmt({ Principal: principal }) }).statements[0]!.principal!;
  assert.equal(p('*').value.kind, 'any');
  assert.equal(p({ AWS: '*' }).value.kind, 'any');
  assert.equal(p({ AWS: ['111122223333', '*'] }).value.kind, 'any');
  const set = p({ AWS: ['111122223333'], Service: 'logging.s3.amazonaws.com', Federated: 'cognito-identity.amazonaws.com', CanonicalUser: 'abc' }).value;
  assert.equal(set.kind, 'set');
  if (set.kind !== 'set') return;
  assert.deepEqual(set.aws.map((v) => v.value), ['111122223333']);
  assert.equal(set.aws[0]!.pointer, '/Statement/Principal/AWS/0');
  assert.equal(set.service[0]!.pointer, '/Statement/Principal/Service');
  assert.equal(set.federated.length, 1);
  assert.equal(set.canonicalUser.length, 1);
  const np = ok({ Statement: { Effect: 'Deny', NotPrincipal: { AWS: '111122223333' }, Action: '*', Resource: B } }).statements[0]!.principal!;
  assert.equal(np.negated, true);
  assert.equal(ok({ Statement: { Effect: 'Allow', Action: 's3:*', Resource: B } }).statements[0]!.principal, undefined);
  assert.deepEqual(errs({ Statement: stmt({ Principal: 'arn:aws:iam::111122223333:root' }) }), ['Invalid principal in policy']);
  assert.deepEqual(errs({ Statement: stmt({ Principal: { Aws: '111122223333' } }) }), ['Invalid principal in policy']);
});

test('Not* elements become flags; Resource is optional here', () => {
  const s = ok({ Statement: { Effect: 'Deny', Principal: '*', NotAction: 's3:GetObject', NotResource: [B] } }).statements[0]!;
  assert.equal(s.action.negated, true);
  assert.equal(s.resource!.negated, true);
  assert.equal(s.resource!.pointer, '/Statement/NotResource');
  assert.equal(ok({ Statement: { Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole' } }).statements[0]!.resource, undefined);
});

test('conditions: operators split, values coerced to strings as written', () => {
  const s = ok(`{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"${B}","Condition":{
    "ForAnyValue:StringLikeIfExists":{"aws:TagKeys":["a","b"]},
    "NumericLessThan":{"s3:TlsVersion":1.20,"s3:max-keys":[10, 2e1]},
    "Bool":{"aws:SecureTransport":false},
    "StringEquals":{"s3:ExistingObjectTag/a~b/c":"x"}}}}`).statements[0]!;
  const [set, tls, maxKeys, bool, tag] = s.conditions;
  assert.deepEqual({ op: set!.operator, ifExists: set!.ifExists, set: set!.set, text: set!.operatorText }, { op: 'StringLike', ifExists: true, set: 'ForAnyValue', text: 'ForAnyValue:StringLikeIfExists' });
  assert.deepEqual(set!.values.map((v) => v.value), ['a', 'b']);
  assert.equal(tls!.values[0]!.value, '1.20');
  assert.deepEqual(maxKeys!.values.map((v) => v.value), ['10', '2e1']);
  assert.equal(bool!.values[0]!.value, 'false');
  assert.equal(tag!.keyLower, 's3:existingobjecttag/a~b/c');
  assert.equal(tag!.pointer, '/Statement/Condition/StringEquals/s3:ExistingObjectTag~1a~0b~1c');
  assert.equal(tag!.values[0]!.pointer, tag!.pointer);
});

test('operator parsing: canonical spelling only; Null has no IfExists', () => {
  assert.deepEqual(parseConditionOperator('StringEquals'), { operator: 'StringEquals', ifExists: false, set: null });
  assert.deepEqual(parseConditionOperator('ForAllValues:ArnLikeIfExists'), { operator: 'ArnLike', ifExists: true, set: 'ForAllValues' });
  assert.deepEqual(parseConditionOperator('Null'), { operator: 'Null', ifExists: false, set: null });
  for (const bad of ['NullIfExists', 'stringequals', 'StringEqualz', 'ForAnyvalue:StringLike', 'StringEqualsIfExistsIfExists', 'IfExists', 'ForAnyValue:', 'forAllValues:Bool', ' StringEquals']) {
    assert.equal(parseConditionOperator(bad), undefined, bad);
  }
  assert.deepEqual(errs({ Statement: stmt({ Condition: { NullIfExists: { 'aws:SourceVpc': 'true' } } }) }), ['Invalid Condition type : NullIfExists']);
});

test('document-level errors use S3 messages', () => {
  assert.deepEqual(errs(''), ["Policies must be valid JSON and the first byte must be '{'"]);
  assert.deepEqual(errs('[]'), ["Policies must be valid JSON and the first byte must be '{'"]);
  assert.deepEqual(errs(' {}'), ["Policies must be valid JSON and the first byte must be '{'"]);
  assert.deepEqual(errs('{'), ['This policy contains invalid Json']);
  assert.deepEqual(errs('{"Statement":[]}x'), ['This policy contains invalid Json']);
  assert.deepEqual(errs('{"Statement":[],}'), ['This policy contains invalid Json']);
  assert.deepEqual(errs('{"Statement":"\u0001"}'), ['This policy contains invalid Json']);
  assert.deepEqual(errs({ Version: '2012-10-17' }), ['Missing required field Statement']);
  assert.deepEqual(errs({ Statement: [] }), ['Could not parse the policy: Statement is empty!']);
  assert.deepEqual(errs({ Version: '2012-10-18', Statement: stmt() }), ['The policy must contain a valid version string']);
  assert.deepEqual(errs({ Version: 2012, Statement: stmt() }), ['The policy must contain a valid version string']);
  assert.deepEqual(errs({ Statement: 'x' }), ['This policy contains invalid Json']);
  assert.deepEqual(errs({ Statement: stmt(), Condition: {} }), ['Unknown field Condition']);
  assert.deepEqual(errs({ Statement: ['x'] }), ['This policy contains invalid Json']);
});

test('duplicate keys are refused at any depth (JSON.parse would silently keep the last)', () => {
  assert.deepEqual(errs('{"Statement":[],"Statement":[]}'), ['This policy contains invalid Json']);
  const dupCond = `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"${B}/*","Condition":{"StringEquals":{"aws:SourceVpc":"vpc-1"},"StringEquals":{"aws:SourceAccount":"1"}}}}`;
  assert.deepEqual(errs(dupCond), ['This policy contains invalid Json']);
  // Escapes that spell the same key are the same key.
  assert.deepEqual(errs('{"Statement":[],"St\\u0061tement":[]}'), ['This policy contains invalid Json']);
  // Same key in different objects is fine.
  ok({ Statement: [stmt(), stmt()] });
});

test('statement-level errors', () => {
  assert.deepEqual(errs({ Statement: { Principal: '*', Action: 's3:*', Resource: B } }), ['Missing required field Effect']);
  assert.deepEqual(errs({ Statement: stmt({ Effect: 'allow' }) }), ['Invalid effect: allow']);
  assert.deepEqual(errs({ Statement: stmt({ Effect: true }) }), ['This policy contains invalid Json']);
  assert.deepEqual(errs({ Statement: { Effect: 'Allow', Principal: '*', Resource: B } }), ['Missing required field Action']);
  assert.deepEqual(errs({ Statement: stmt({ NotAction: 's3:PutObject' }) }), ['Statement cannot contain both Action and NotAction']);
  assert.deepEqual(errs({ Statement: stmt({ Action: ['s3:GetObject', 5] }) }), ['This policy contains invalid Json']);
  assert.deepEqual(errs({ Statement: stmt({ Sid: 1 }) }), ['This policy contains invalid Json']);
  assert.deepEqual(errs({ Statement: stmt({ Resources: B }) }), ['Unknown field Resources']);
  assert.deepEqual(errs({ Statement: stmt({ Condition: { StringEquals: { k: null } } }) }), ['This policy contains invalid Json']);
  assert.deepEqual(errs({ Statement: stmt({ Condition: { StringEquals: { k: { a: 1 } } } }) }), ['This policy contains invalid Json']);
  assert.deepEqual(errs({ Statement: stmt({ Condition: { StringEquals: 'x' } }) }), ['This policy contains invalid Json']);
  // Errors of several statements are all reported, in document order.
  assert.deepEqual(errs({ Statement: [stmt({ Effect: 'x' }), stmt(), stmt({ Effect: 'y' })] }), ['Invalid effect: x', 'Invalid effect: y']);
  const r = parsePolicy(JSON.stringify({ Statement: [stmt(), stmt({ Effect: 'x' })] }));
  assert.ok('errors' in r && r.errors[0]!.pointer === '/Statement/1/Effect');
});

test('strings: escapes and unicode survive', () => {
  const s = ok('{"Statement":{"Sid":"a\\"b\\\\c\\u00e9\\n","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/\u00fc*"}}').statements[0]!;
  assert.equal(s.sid, 'a"b\\c\u00e9\n');
  assert.equal(s.resource!.values[0]!.value, 'arn:aws:s3:::b/\u00fc*');
});

test('hostile nesting is an error, not a stack overflow', () => {
  assert.deepEqual(errs(`{"Statement":${'['.repeat(100000)}${']'.repeat(100000)}}`), ['This policy contains invalid Json']);
  assert.deepEqual(errs(`{"Id":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`), ['This policy contains invalid Json']);
});

test('property: parse is total on arbitrary text and arbitrary JSON', () => {
  fc.assert(fc.property(fc.string(), (s) => {
    const r = parsePolicy(s);
    assert.ok('ast' in r || r.errors.length > 0);
  }), { numRuns: 2000 });
  fc.assert(fc.property(fc.json(), (s) => {
    const r = parsePolicy(s);
    assert.ok('ast' in r || r.errors.length > 0);
  }), { numRuns: 2000 });
  fc.assert(fc.property(fc.dictionary(fc.constantFrom('Version', 'Id', 'Statement', 'x'), fc.jsonValue()), (o) => {
    const r = parsePolicy(JSON.stringify(o));
    assert.ok('ast' in r || r.errors.length > 0);
  }), { numRuns: 2000 });
});

test('property: the JSON reader accepts every JSON object JSON.stringify can produce', () => {
  fc.assert(fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (o) => {
    const r = parsePolicy(JSON.stringify(o));
    // A reader failure is the only invalid-Json error located at the document root.
    if ('errors' in r) assert.ok(!r.errors.some((e) => e.pointer === '' && e.message === 'This policy contains invalid Json'));
  }), { numRuns: 2000 });
});
