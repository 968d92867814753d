import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IamError } from './xml.js';
import {
  INT_RULES, MAX_TAGS, ParamReader, QueryError, RULES, checkString, decodeQuery, hasList, memberList, memberPath,
  optionalBool, optionalInt, optionalString, requiredString, stringList, validationError,
} from './query.js';

function queryError(code: string, message?: string | RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof QueryError, String(e));
    assert.ok(e instanceof IamError);
    assert.equal(e.code, code);
    assert.equal(e.status, 400);
    assert.equal(e.type, 'Sender');
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    return true;
  };
}

const params = (o: Record<string, string>) => new Map(Object.entries(o));

// Bodies as the AWS SDK for JavaScript v3 (QueryShapeSerializer) writes them: Action and
// Version first, keys and values through extendedEncodeURIComponent.
const SDK_BODIES = {
  tagUser: 'Action=TagUser&Version=2010-05-08&UserName=alice&Tags.member.1.Key=team&Tags.member.1.Value=storage&Tags.member.2.Key=cost%20centre&Tags.member.2.Value=a%2Bb%3Dc',
  listUsers: 'Action=ListUsers&Version=2010-05-08&PathPrefix=%2Fa%2F&MaxItems=5',
  untagUser: 'Action=UntagUser&Version=2010-05-08&UserName=alice&TagKeys.member.1=team&TagKeys.member.2=cost%20centre',
  emptyTags: 'Action=TagUser&Version=2010-05-08&UserName=alice&Tags=',
  assumeRole: 'Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fdemo&RoleSessionName=s1'
    + '&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FReadOnlyAccess&Tags.member.1.Key=project&Tags.member.1.Value=kura'
    + '&TransitiveTagKeys.member.1=project&DurationSeconds=900',
};

describe('decodeQuery', () => {
  it('splits out Action and Version and keeps the rest by full name', () => {
    const q = decodeQuery(SDK_BODIES.listUsers);
    assert.equal(q.action, 'ListUsers');
    assert.equal(q.version, '2010-05-08');
    assert.deepEqual([...q.params], [['PathPrefix', '/a/'], ['MaxItems', '5']]);
  });
  it('reads a query string with its ?, bytes, + as space, and valueless names', () => {
    assert.equal(decodeQuery('?Action=GetCallerIdentity&Version=2011-06-15').action, 'GetCallerIdentity');
    const q = decodeQuery(Buffer.from('Action=X&A=caf%C3%A9+au+lait&B&&C=%E2%82%AC=1'));
    assert.deepEqual([...q.params], [['A', 'café au lait'], ['B', ''], ['C', '€=1']]);
    assert.equal(q.version, undefined);
  });
  it('refuses what it cannot read unambiguously', () => {
    assert.throws(() => decodeQuery('Version=2010-05-08'), queryError('MissingAction'));
    assert.throws(() => decodeQuery('Action=&Version=2010-05-08'), queryError('MissingAction'));
    assert.throws(() => decodeQuery('Action=X&A=%ZZ'), queryError('InvalidQueryParameter'));
    assert.throws(() => decodeQuery('Action=X&A=%C3'), queryError('InvalidQueryParameter'), 'truncated UTF-8');
    assert.throws(() => decodeQuery(Buffer.from([0x41, 0x3d, 0xff])), queryError('InvalidQueryParameter'), 'raw invalid UTF-8');
    assert.throws(() => decodeQuery('Action=X&UserName=a&UserName=b'), queryError('InvalidQueryParameter', 'The parameter UserName is specified more than once.'));
    assert.throws(() => decodeQuery('Action=X&Action=Y'), queryError('InvalidQueryParameter'));
  });
  it('round-trips any parameter map through URLSearchParams and SDK-style encoding', () => {
    const sdkEncode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    fc.assert(fc.property(
      fc.uniqueArray(fc.tuple(fc.string({ unit: 'binary', minLength: 1 }), fc.string({ unit: 'binary' })), { selector: ([k]) => k, maxLength: 12 })
        .map((pairs) => pairs.filter(([k]) => k !== 'Action' && k !== 'Version')),
      fc.string({ unit: 'binary', minLength: 1 }),
      (pairs, action) => {
        const usp = new URLSearchParams([['Action', action], ...pairs]);
        const viaUsp = decodeQuery(usp.toString());
        assert.equal(viaUsp.action, action);
        assert.deepEqual([...viaUsp.params], pairs);
        const sdk = [['Action', action], ...pairs].map(([k, v]) => `${sdkEncode(k!)}=${sdkEncode(v!)}`).join('&');
        assert.deepEqual([...decodeQuery(Buffer.from(sdk)).params], pairs);
      },
    ), { numRuns: 500 });
  });
  it('throws nothing but QueryError on arbitrary input', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom('A', 'c', 't', 'i', 'o', 'n', '=', '&', '%', '2', 'F', '+', 'é') })), (s) => {
      try {
        decodeQuery(s);
      } catch (e) {
        assert.ok(e instanceof QueryError, String(e));
      }
    }), { numRuns: 1000 });
  });
});

describe('lists', () => {
  it('reads a list of structures as the SDK sends TagUser', () => {
    const { params: p } = decodeQuery(SDK_BODIES.tagUser);
    assert.deepEqual(memberList(p, 'Tags'), [{ Key: 'team', Value: 'storage' }, { Key: 'cost centre', Value: 'a+b=c' }]);
    assert.equal(requiredString(p, 'UserName', RULES.existingUserName), 'alice');
  });
  it('reads a list of strings as the SDK sends UntagUser', () => {
    const { params: p } = decodeQuery(SDK_BODIES.untagUser);
    assert.deepEqual(stringList(p, 'TagKeys'), ['team', 'cost centre']);
  });
  it('reads STS AssumeRole lists (lower-case arn field, string list, structure list)', () => {
    const { action, version, params: p } = decodeQuery(SDK_BODIES.assumeRole);
    assert.equal(action, 'AssumeRole');
    assert.equal(version, '2011-06-15');
    assert.deepEqual(memberList(p, 'PolicyArns'), [{ arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }]);
    assert.deepEqual(memberList(p, 'Tags'), [{ Key: 'project', Value: 'kura' }]);
    assert.deepEqual(stringList(p, 'TransitiveTagKeys'), ['project']);
    assert.equal(optionalInt(p, 'DurationSeconds', INT_RULES.durationSeconds), 900);
  });
  it('reads the SDK\'s bare `Tags=` as an empty list, and tells it from an absent one', () => {
    const { params: p } = decodeQuery(SDK_BODIES.emptyTags);
    assert.deepEqual(memberList(p, 'Tags'), []);
    assert.equal(hasList(p, 'Tags'), true);
    assert.equal(hasList(p, 'TagKeys'), false);
    assert.deepEqual(stringList(p, 'TagKeys'), []);
  });
  it('orders by index, not by arrival', () => {
    const p = params({ 'L.member.2': 'b', 'L.member.10': 'j', 'L.member.1': 'a', ...Object.fromEntries([3, 4, 5, 6, 7, 8, 9].map((i) => [`L.member.${i}`, String(i)])) });
    assert.deepEqual(stringList(p, 'L'), ['a', 'b', '3', '4', '5', '6', '7', '8', '9', 'j']);
  });
  it('keeps nested names dotted so they can be read again', () => {
    const p = params({ 'C.member.1.ContextKeyName': 'aws:x', 'C.member.1.ContextKeyValues.member.1': 'v1', 'C.member.1.ContextKeyValues.member.2': 'v2' });
    const [rec] = memberList(p, 'C');
    assert.deepEqual(stringList(new Map(Object.entries(rec!)), 'ContextKeyValues'), ['v1', 'v2']);
  });
  it('treats a field called __proto__ as data', () => {
    const [rec] = memberList(params({ 'T.member.1.__proto__': 'x' }), 'T');
    assert.equal(Object.getPrototypeOf(rec), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(rec, '__proto__')?.value, 'x');
  });
  it('refuses malformed list encodings with InvalidQueryParameter', () => {
    const bad: [string, Record<string, string>][] = [
      ['gap', { 'L.member.1': 'a', 'L.member.3': 'c' }],
      ['starts at 0', { 'L.member.0': 'a' }],
      ['leading zero', { 'L.member.01': 'a' }],
      ['not a number', { 'L.member.x': 'a' }],
      ['no member segment', { 'L.1': 'a' }],
      ['scalar for a list', { L: 'a' }],
      ['empty and non-empty', { L: '', 'L.member.1': 'a' }],
      ['huge index', { 'L.member.999999999': 'a' }],
    ];
    for (const [why, o] of bad) {
      assert.throws(() => stringList(params(o), 'L'), queryError('InvalidQueryParameter'), why);
      assert.throws(() => memberList(params(o), 'L'), queryError('InvalidQueryParameter'), why);
    }
    assert.throws(() => memberList(params({ 'L.member.1': 'a' }), 'L'), queryError('InvalidQueryParameter'), 'structure list without a field');
    assert.throws(() => memberList(params({ 'L.member.1.': 'a' }), 'L'), queryError('InvalidQueryParameter'), 'empty field name');
    assert.throws(() => stringList(params({ 'L.member.1.F': 'a' }), 'L'), queryError('InvalidQueryParameter'), 'string list with a field');
  });
  it('ignores parameters that merely share a prefix', () => {
    assert.deepEqual(stringList(params({ TagKeysX: 'a', 'TagKeysY.member.1': 'b' }), 'TagKeys'), []);
  });
  it('memberList and stringList only ever return or raise QueryError', () => {
    const seg = fc.oneof(fc.constantFrom('L', 'member', '1', '2', '3', '0', '01', '', 'Key', 'Value', '__proto__', 'constructor'), fc.string({ maxLength: 3 }));
    const key = fc.array(seg, { minLength: 1, maxLength: 5 }).map((s) => s.join('.'));
    fc.assert(fc.property(fc.dictionary(key, fc.string({ maxLength: 4 }), { maxKeys: 10 }), (o) => {
      const p = new Map(Object.entries(o));
      for (const read of [() => memberList(p, 'L'), () => stringList(p, 'L')]) {
        try {
          const got = read();
          assert.ok(Array.isArray(got));
        } catch (e) {
          assert.ok(e instanceof QueryError, String(e));
        }
      }
    }), { numRuns: 2000 });
  });
});

describe('validation messages', () => {
  it('names members as IAM does', () => {
    assert.equal(memberPath('UserName'), 'userName');
    assert.equal(memberPath('Tags.member.1.Key'), 'tags.1.member.key');
    assert.equal(memberPath('PolicyArns.member.12.arn'), 'policyArns.12.member.arn');
    assert.equal(memberPath('TagKeys.member.3'), 'tagKeys.3.member');
  });
  it('reports a missing required parameter as IAM does', () => {
    assert.throws(() => requiredString(new Map(), 'UserName', RULES.userName), queryError(
      'ValidationError',
      "1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null",
    ));
  });
  it('reports every violation of one value, counted', () => {
    const long = `${'a'.repeat(64)} `;
    assert.throws(() => requiredString(params({ UserName: long }), 'UserName', RULES.userName), queryError(
      'ValidationError',
      `2 validation errors detected: Value '${long}' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+; `
        + `Value '${long}' at 'userName' failed to satisfy constraint: Member must have length less than or equal to 64`,
    ));
    assert.throws(() => requiredString(params({ UserName: '' }), 'UserName', RULES.userName), queryError(
      'ValidationError', /^2 validation errors detected: .*pattern.*; .*greater than or equal to 1$/,
    ));
  });
  it('collects violations across parameters in one message', () => {
    const r = new ParamReader(params({ PathPrefix: 'a', MaxItems: '0', Status: 'On' }));
    r.string('PathPrefix', RULES.pathPrefix);
    r.int('MaxItems', INT_RULES.maxItems);
    r.enum('Status', ['Active', 'Inactive'] as const);
    r.string('UserName', { ...RULES.existingUserName, required: true });
    assert.throws(() => r.done(), queryError('ValidationError', [
      "4 validation errors detected: Value 'a' at 'pathPrefix' failed to satisfy constraint: Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007E]*",
      "Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1",
      "Value 'On' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]",
      "Value null at 'userName' failed to satisfy constraint: Member must not be null",
    ].join('; ')));
  });
  it('validates list length and each element under its indexed member name', () => {
    const r = new ParamReader(params({ 'Tags.member.1.Key': 'ok', 'Tags.member.1.Value': 'v', 'Tags.member.2.Key': 'bad!', 'Tags.member.2.Value': 'v' }));
    const tags = r.memberList('Tags', { required: true, max: MAX_TAGS, fields: { Key: { ...RULES.tagKey, required: true }, Value: { ...RULES.tagValue, required: true } } });
    assert.equal(tags.length, 2);
    assert.throws(() => r.done(), queryError('ValidationError', /^1 validation error detected: Value 'bad!' at 'tags.2.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: /));
    const many = new ParamReader(new Map(Array.from({ length: 51 }, (_, i) => [`TagKeys.member.${i + 1}`, `k${i}`])));
    many.stringList('TagKeys', { max: MAX_TAGS, each: RULES.tagKey });
    assert.throws(() => many.done(), queryError('ValidationError', /^1 validation error detected: Value '\[k0, k1, .*, k50\]' at 'tagKeys' failed to satisfy constraint: Member must have length less than or equal to 50$/));
    const absent = new ParamReader(new Map());
    absent.memberList('Tags', { required: true });
    assert.throws(() => absent.done(), queryError('ValidationError', "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null"));
  });
  it('leaves sensitive values out of messages', () => {
    assert.deepEqual(checkString('password', 'x', { min: 8, sensitive: true }), ["Value at 'password' failed to satisfy constraint: Member must have length greater than or equal to 8"]);
  });
  it('throws InvalidParameterValue for values that do not convert', () => {
    for (const bad of ['abc', '1.5', '', '1e3', '2147483648', ' 5']) {
      assert.throws(() => optionalInt(params({ MaxItems: bad }), 'MaxItems'), queryError('InvalidParameterValue'), bad);
    }
    assert.equal(optionalInt(params({ MaxItems: '-2147483648' }), 'MaxItems'), -2147483648);
    assert.throws(() => optionalBool(params({ OnlyAttached: 'yes' }), 'OnlyAttached'), queryError('InvalidParameterValue'));
    assert.equal(optionalBool(params({ OnlyAttached: 'TRUE' }), 'OnlyAttached'), true);
    assert.equal(optionalBool(params({ OnlyAttached: 'false' }), 'OnlyAttached'), false);
    assert.equal(optionalBool(new Map(), 'OnlyAttached'), undefined);
  });
  it('validationError counts as AWS does', () => {
    assert.match(validationError(['x']).message, /^1 validation error detected: x$/);
    assert.match(validationError(['x', 'y']).message, /^2 validation errors detected: x; y$/);
  });
});

describe('IAM name and path rules', () => {
  const ok = (rule: keyof typeof RULES, v: string) => assert.deepEqual(checkString('m', v, RULES[rule]), [], `${rule} ${JSON.stringify(v)}`);
  const bad = (rule: keyof typeof RULES, v: string) => assert.notDeepEqual(checkString('m', v, RULES[rule]), [], `${rule} ${JSON.stringify(v)}`);
  it('user, group and role names: [\\w+=,.@-]+ with their own lengths', () => {
    for (const v of ['a', 'Alice_B+c=d,e.f@g-h', '0', 'a'.repeat(64)]) ok('userName', v);
    for (const v of ['', 'a b', 'a/b', 'a:b', 'ä', 'a*', 'a'.repeat(65)]) bad('userName', v);
    ok('existingUserName', 'a'.repeat(128));
    bad('existingUserName', 'a'.repeat(129));
    ok('groupName', 'g'.repeat(128));
    bad('groupName', 'g'.repeat(129));
    ok('roleName', 'r'.repeat(64));
    bad('roleName', 'r'.repeat(65));
  });
  it('paths: / alone or /…/ of printable ASCII, up to 512', () => {
    for (const v of ['/', '/a/', '/a/b/', '///', '/!~/', `/${'x'.repeat(510)}/`]) ok('path', v);
    for (const v of ['', 'a', '/a', 'a/', '//', '/a b/', '/\u007F/', '/é/', `/${'x'.repeat(511)}/`]) bad('path', v);
    for (const v of ['/', '/a', '/a/b']) ok('pathPrefix', v);
    for (const v of ['', 'a', '/ ', '/\u007F']) bad('pathPrefix', v);
  });
  it('requiredString and optionalString apply a rule', () => {
    assert.equal(optionalString(new Map(), 'Path', RULES.path), undefined);
    assert.throws(() => optionalString(params({ Path: 'x' }), 'Path', RULES.path), queryError('ValidationError', /at 'path'/));
    assert.equal(requiredString(params({ RoleSessionName: 'ab' }), 'RoleSessionName', RULES.roleSessionName), 'ab');
  });
});
