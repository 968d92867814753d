import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { credentialError, hexBytes, requestTimeTooSkewed } from './auth-errors.js';

describe('hexBytes', () => {
  it('prints the UTF-8 bytes as space-separated hex', () => {
    assert.equal(hexBytes('AWS4\n'), '41 57 53 34 0a');
    assert.equal(hexBytes('é'), 'c3 a9');
    assert.equal(hexBytes(''), '');
  });
});

describe('credentialError', () => {
  it('words the problem for each form', () => {
    const h = credentialError('header', 'x');
    assert.equal(h.code, 'AuthorizationHeaderMalformed');
    assert.equal(h.message, 'The authorization header is malformed; x');
    const q = credentialError('query', 'x');
    assert.equal(q.code, 'AuthorizationQueryParametersError');
    assert.equal(q.message, 'Error parsing the X-Amz-Credential parameter; x');
  });
});

describe('requestTimeTooSkewed', () => {
  it('carries the elements S3 returns', () => {
    const e = requestTimeTooSkewed('20130524T000000Z', new Date('2013-05-24T01:00:00.123Z'));
    assert.deepEqual(e.details, { RequestTime: '20130524T000000Z', ServerTime: '2013-05-24T01:00:00Z', MaxAllowedSkewMilliseconds: 900000 });
    assert.equal(e.status, 403);
  });
});
