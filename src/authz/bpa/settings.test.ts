import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePublicAccessBlock } from './settings.js';

describe('PublicAccessBlockConfiguration XML', () => {
  it('reads each flag, absent ones as false', () => {
    assert.deepEqual(parsePublicAccessBlock('<PublicAccessBlockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><BlockPublicAcls>true</BlockPublicAcls><RestrictPublicBuckets>TRUE</RestrictPublicBuckets></PublicAccessBlockConfiguration>'),
      { blockPublicAcls: true, ignorePublicAcls: false, blockPublicPolicy: false, restrictPublicBuckets: true });
  });
  it('refuses values other than true/false, and other roots', () => {
    assert.throws(() => parsePublicAccessBlock('<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls></PublicAccessBlockConfiguration>'), { code: 'MalformedXML' });
    assert.throws(() => parsePublicAccessBlock('<Other/>'), { code: 'MalformedXML' });
  });
});
