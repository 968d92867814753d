import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { stringToSign } from './string-to-sign.js';

describe('stringToSign', () => {
  it('matches the S3 GET-object example of the AWS documentation', () => {
    const creq =
      'GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n' +
      'x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n' +
      'x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n' +
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    assert.equal(
      stringToSign('20130524T000000Z', { date: '20130524', region: 'us-east-1', service: 's3' }, creq),
      'AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n' +
        '7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972',
    );
  });
});
