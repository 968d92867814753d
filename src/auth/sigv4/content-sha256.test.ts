import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseContentSha256 } from './content-sha256.js';
import { expectS3Error } from './test-support.js';

describe('parseContentSha256', () => {
  it('classifies every value S3 accepts', () => {
    assert.deepEqual(parseContentSha256('UNSIGNED-PAYLOAD'), { kind: 'unsigned' });
    assert.deepEqual(parseContentSha256('STREAMING-AWS4-HMAC-SHA256-PAYLOAD'), { kind: 'streaming-signed', trailer: false });
    assert.deepEqual(parseContentSha256('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'), { kind: 'streaming-signed', trailer: true });
    assert.deepEqual(parseContentSha256('STREAMING-UNSIGNED-PAYLOAD-TRAILER'), { kind: 'streaming-unsigned-trailer' });
    const hex = 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855';
    assert.deepEqual(parseContentSha256(hex), { kind: 'sha256', hex: hex.toLowerCase() });
  });
  it('refuses SigV4a streaming as not implemented', () => {
    expectS3Error(() => parseContentSha256('STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD'), 'NotImplemented');
    expectS3Error(() => parseContentSha256('STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER'), 'NotImplemented');
  });
  it('refuses anything else with InvalidArgument naming the header', () => {
    for (const v of ['', 'unsigned-payload', 'abc', 'g'.repeat(64), 'a'.repeat(63), 'a'.repeat(65), 'STREAMING-HMAC-SHA256-PAYLOAD']) {
      expectS3Error(() => parseContentSha256(v), 'InvalidArgument', /^x-amz-content-sha256 must be/, {
        ArgumentName: 'x-amz-content-sha256',
        ArgumentValue: v,
      });
    }
  });
});
