import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseXml } from '../../http/xml.js';
import {
  IAM_XMLNS, STS_XMLNS, IamError, type IamErrorCode, errorResponse, iamError, iamStatusOf, invalidAction, isoSeconds,
  queryResponse, toIamError,
} from './xml.js';

const RID = '7a62c49f-347e-4fc4-9331-6e8eEXAMPLE';
const created = new Date('2013-10-02T17:01:44.123Z');

// Hand-written fixtures in the shape of the IAM/STS API reference examples (compact: no
// indentation). @aws-sdk/client-iam and client-sts are not dependencies of this repo.
describe('queryResponse', () => {
  it('GetUser', () => {
    const xml = queryResponse('GetUser', IAM_XMLNS, {
      User: { UserId: 'AIDACKCEVSQ6C2EXAMPLE', Path: '/division_abc/', UserName: 'Bob', Arn: 'arn:aws:iam::123456789012:user/division_abc/Bob', CreateDate: created, PasswordLastUsed: undefined },
    }, RID);
    assert.equal(xml,
      '<GetUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetUserResult><User>'
      + '<UserId>AIDACKCEVSQ6C2EXAMPLE</UserId><Path>/division_abc/</Path><UserName>Bob</UserName>'
      + '<Arn>arn:aws:iam::123456789012:user/division_abc/Bob</Arn><CreateDate>2013-10-02T17:01:44Z</CreateDate>'
      + `</User></GetUserResult><ResponseMetadata><RequestId>${RID}</RequestId></ResponseMetadata></GetUserResponse>`);
  });
  it('ListUsers: arrays become <member> lists, booleans true/false', () => {
    const user = (name: string) => ({ UserId: `AID${name.toUpperCase()}`, Path: '/', UserName: name, Arn: `arn:aws:iam::123456789012:user/${name}`, CreateDate: created });
    const xml = queryResponse('ListUsers', IAM_XMLNS, { Users: [user('alice'), user('bob')], IsTruncated: true, Marker: 'bmV4dA==' }, RID);
    assert.match(xml, /^<ListUsersResponse xmlns="https:\/\/iam\.amazonaws\.com\/doc\/2010-05-08\/"><ListUsersResult><Users><member><UserId>AIDALICE<\/UserId>/);
    assert.match(xml, /<\/member><member><UserId>AIDBOB<\/UserId>.*<\/member><\/Users><IsTruncated>true<\/IsTruncated><Marker>bmV4dA==<\/Marker><\/ListUsersResult>/);
    const body = parseXml(xml, 'ListUsersResponse', ['ListUsersResponse.ListUsersResult.Users.member']);
    const result = body.ListUsersResult as { Users: { member: { UserName: string }[] }; IsTruncated: string; Marker: string };
    assert.deepEqual(result.Users.member.map((u) => u.UserName), ['alice', 'bob']);
    assert.equal(result.IsTruncated, 'true');
    assert.deepEqual(body.ResponseMetadata, { RequestId: RID });
  });
  it('an empty list is sent as an empty element, not left out', () => {
    assert.match(queryResponse('ListUsers', IAM_XMLNS, { Users: [], IsTruncated: false }, RID), /<ListUsersResult><Users\/><IsTruncated>false<\/IsTruncated><\/ListUsersResult>/);
  });
  it('CreateAccessKey', () => {
    const xml = queryResponse('CreateAccessKey', IAM_XMLNS, {
      AccessKey: { UserName: 'Bob', AccessKeyId: 'AKIAIOSFODNN7EXAMPLE', Status: 'Active', SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY', CreateDate: created },
    }, RID);
    assert.match(xml, /<CreateAccessKeyResult><AccessKey><UserName>Bob<\/UserName><AccessKeyId>AKIAIOSFODNN7EXAMPLE<\/AccessKeyId><Status>Active<\/Status><SecretAccessKey>wJalrXUtnFEMI\/K7MDENG\/bPxRfiCYzEXAMPLEKEY<\/SecretAccessKey><CreateDate>2013-10-02T17:01:44Z<\/CreateDate><\/AccessKey><\/CreateAccessKeyResult>/);
  });
  it('actions that return nothing carry only ResponseMetadata', () => {
    assert.equal(queryResponse('DeleteUser', IAM_XMLNS, undefined, RID),
      `<DeleteUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata><RequestId>${RID}</RequestId></ResponseMetadata></DeleteUserResponse>`);
    assert.match(queryResponse('GetAccessKeyLastUsed', IAM_XMLNS, {}, RID), /<GetAccessKeyLastUsedResult><\/GetAccessKeyLastUsedResult>/);
  });
  it('STS GetCallerIdentity uses the STS namespace', () => {
    assert.equal(queryResponse('GetCallerIdentity', STS_XMLNS, { Arn: 'arn:aws:iam::123456789012:user/Alice', UserId: 'AKIAI44QH8DHBEXAMPLE', Account: '123456789012' }, RID),
      '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/Alice</Arn>'
      + `<UserId>AKIAI44QH8DHBEXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>${RID}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`);
  });
  it('STS AssumeRole: nested structures, numbers, timestamps', () => {
    const xml = queryResponse('AssumeRole', STS_XMLNS, {
      Credentials: { AccessKeyId: 'ASIAIOSFODNN7EXAMPLE', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date('2019-11-09T13:34:41Z') },
      AssumedRoleUser: { AssumedRoleId: 'AROA3XFRBF535PLBIFPI4:s3-access-example', Arn: 'arn:aws:sts::123456789012:assumed-role/demo/s3-access-example' },
      PackedPolicySize: 6,
      SourceIdentity: undefined,
    }, RID);
    assert.match(xml, /<Credentials><AccessKeyId>ASIAIOSFODNN7EXAMPLE<\/AccessKeyId><SecretAccessKey>s<\/SecretAccessKey><SessionToken>t<\/SessionToken><Expiration>2019-11-09T13:34:41Z<\/Expiration><\/Credentials>/);
    assert.match(xml, /<PackedPolicySize>6<\/PackedPolicySize><\/AssumeRoleResult>/);
  });
  it('maps become <entry><key/><value/></entry> (GetAccountSummary)', () => {
    const xml = queryResponse('GetAccountSummary', IAM_XMLNS, { SummaryMap: new Map([['Users', 27], ['MFADevicesInUse', 3]]) }, RID);
    assert.match(xml, /<SummaryMap><entry><key>Users<\/key><value>27<\/value><\/entry><entry><key>MFADevicesInUse<\/key><value>3<\/value><\/entry><\/SummaryMap>/);
    assert.match(queryResponse('GetAccountSummary', IAM_XMLNS, { SummaryMap: new Map() }, RID), /<SummaryMap\/>/);
  });
  it('blobs are base64: a virtual MFA device\'s Base32StringSeed is base64 of the Base32 text', () => {
    const seed = Buffer.from('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 'ascii');
    const xml = queryResponse('CreateVirtualMFADevice', IAM_XMLNS, { VirtualMFADevice: { SerialNumber: 'arn:aws:iam::123456789012:mfa/alice', Base32StringSeed: seed } }, RID);
    assert.match(xml, new RegExp(`<Base32StringSeed>${seed.toString('base64')}</Base32StringSeed>`));
    const view = new Uint8Array(seed.buffer, seed.byteOffset + 2, 3);
    assert.match(queryResponse('X', IAM_XMLNS, { B: view }, RID), new RegExp(`<B>${Buffer.from(view).toString('base64')}</B>`));
  });
  it('lists of scalars and lists of lists', () => {
    assert.match(queryResponse('X', IAM_XMLNS, { L: ['a', 'b'], LL: [['x'], []] }, RID), /<L><member>a<\/member><member>b<\/member><\/L><LL><member><member>x<\/member><\/member><member\/><\/LL>/);
  });
  it('escapes every value and the request id', () => {
    const xml = queryResponse('ListUserTags', IAM_XMLNS, { Tags: [{ Key: 'a&b', Value: '<script>"\'\u0001' }] }, '<rid>');
    assert.match(xml, /<Key>a&amp;b<\/Key><Value>&lt;script&gt;&quot;&apos;&#x1;<\/Value>/);
    assert.match(xml, /<RequestId>&lt;rid&gt;<\/RequestId>/);
  });
  it('round-trips arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => {
      const back = parseXml(queryResponse('GetUser', IAM_XMLNS, { User: { UserName: s } }, RID), 'GetUserResponse');
      assert.equal((back.GetUserResult as { User: { UserName: string } }).User.UserName, s);
    }), { numRuns: 300 });
  });
  it('refuses element names that did not come from code, and values XML cannot carry', () => {
    assert.throws(() => queryResponse('Get User', IAM_XMLNS, {}, RID), TypeError);
    assert.throws(() => queryResponse('GetUser', IAM_XMLNS, { 'a<b': 'x' }, RID), TypeError);
    assert.throws(() => queryResponse('GetUser', IAM_XMLNS, { N: Number.NaN }, RID), RangeError);
    assert.throws(() => queryResponse('GetUser', IAM_XMLNS, { D: new Date(Number.NaN) }, RID), RangeError);
  });
  it('timestamps have whole seconds', () => {
    assert.equal(isoSeconds(new Date('2012-09-21T23:03:13.999Z')), '2012-09-21T23:03:13Z');
    assert.equal(isoSeconds(new Date(0)), '1970-01-01T00:00:00Z');
  });
});

describe('errorResponse', () => {
  it('NoSuchEntity as IAM sends it', () => {
    const e = iamError('NoSuchEntity', 'The user with name Bob cannot be found.');
    assert.equal(e.status, 404);
    assert.equal(errorResponse(e, IAM_XMLNS, RID),
      '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code>'
      + `<Message>The user with name Bob cannot be found.</Message></Error><RequestId>${RID}</RequestId></ErrorResponse>`);
  });
  it('STS errors use the STS namespace; server faults are Receiver', () => {
    const xml = errorResponse(iamError('ServiceFailure'), STS_XMLNS, RID);
    assert.match(xml, /^<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><Error><Type>Receiver<\/Type><Code>ServiceFailure<\/Code>/);
    const parsed = parseXml(xml, 'ErrorResponse');
    assert.deepEqual(parsed.Error, { Type: 'Receiver', Code: 'ServiceFailure', Message: 'The request processing has failed because of an unknown error, exception or failure.' });
    assert.equal(parsed.RequestId, RID);
  });
  it('escapes messages, which may quote caller input', () => {
    assert.match(errorResponse(iamError('ValidationError', "Value 'a<b&c' at 'userName'"), IAM_XMLNS, RID), /<Message>Value &apos;a&lt;b&amp;c&apos; at &apos;userName&apos;<\/Message>/);
  });
  it('unknown actions are worded as AWS words them', () => {
    const e = invalidAction('ListUserz', '2010-05-08');
    assert.equal(e.code, 'InvalidAction');
    assert.equal(e.status, 400);
    assert.equal(e.message, 'Could not find operation ListUserz for version 2010-05-08');
  });
  it('hides internal errors behind ServiceFailure', () => {
    const e = toIamError(new Error('SQLITE_BUSY: secret detail'));
    assert.equal(e.code, 'ServiceFailure');
    assert.equal(e.status, 500);
    assert.doesNotMatch(e.message, /SQLITE/);
    const kept = iamError('DeleteConflict');
    assert.equal(toIamError(kept), kept);
  });
  it('has the HTTP status and Type for each code', () => {
    const want: [IamErrorCode, number][] = [
      ['NoSuchEntity', 404], ['EntityAlreadyExists', 409], ['MalformedPolicyDocument', 400], ['LimitExceeded', 409],
      ['DeleteConflict', 409], ['ValidationError', 400], ['InvalidInput', 400], ['AccessDenied', 403],
      ['InvalidClientTokenId', 403], ['SignatureDoesNotMatch', 403], ['ExpiredToken', 400], ['RegionDisabledException', 403],
      ['PackedPolicyTooLarge', 400], ['InvalidAuthenticationCode', 403], ['EntityTemporarilyUnmodifiable', 409],
      ['UnmodifiableEntity', 400], ['ServiceFailure', 500], ['MissingAuthenticationToken', 403], ['InvalidAction', 400],
      ['ExpiredTokenException', 400], ['ConcurrentModification', 409], ['ServiceUnavailable', 503], ['MissingParameter', 400],
      ['InvalidParameterValue', 400],
    ];
    for (const [code, status] of want) {
      const e = new IamError(code);
      assert.equal(e.status, status, code);
      assert.equal(iamStatusOf(code), status, code);
      assert.equal(e.type, status >= 500 ? 'Receiver' : 'Sender', code);
      assert.ok(e.message.length > 0, code);
      assert.ok(e instanceof Error);
    }
  });
});
