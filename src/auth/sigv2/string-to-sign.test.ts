import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseQuery } from '../sigv4/query.js';
import { canonicalAmzHeaders, canonicalResource, stringToSignV2 } from './string-to-sign.js';

describe('canonicalAmzHeaders', () => {
  it('lower-cases, sorts, trims and joins repeated values, as in the documented upload example', () => {
    const headers = {
      'x-amz-acl': 'public-read',
      'content-type': 'application/x-download',
      'X-Amz-Meta-ReviewedBy': ['joe@example.com', 'jane@example.com'],
      'x-amz-meta-filechecksum': ' 0x02661779 ',
      'x-amz-meta-checksumalgorithm': 'crc32',
    };
    assert.equal(
      canonicalAmzHeaders(headers),
      'x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\nx-amz-meta-reviewedby:joe@example.com,jane@example.com\n',
    );
  });
  it('is empty without x-amz-* headers', () => {
    assert.equal(canonicalAmzHeaders({ date: 'x', 'content-md5': 'y' }), '');
  });
  it('counts x-amz-* query parameters for query authentication', () => {
    assert.equal(canonicalAmzHeaders({}, parseQuery('x-amz-security-token=a%2Bb&prefix=x')), 'x-amz-security-token:a+b\n');
  });
});

describe('canonicalResource', () => {
  it('prefixes the virtual-hosted bucket and keeps the path as sent', () => {
    assert.equal(canonicalResource('/photos/puppy.jpg', [], 'awsexamplebucket1'), '/awsexamplebucket1/photos/puppy.jpg');
    assert.equal(canonicalResource('/', [], 'awsexamplebucket1'), '/awsexamplebucket1/');
    assert.equal(canonicalResource('/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re', []), '/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re');
  });
  it('adds only the signed sub-resources, sorted, with decoded values', () => {
    assert.equal(canonicalResource('/', parseQuery('prefix=photos&max-keys=50&marker=puppy')), '/');
    assert.equal(canonicalResource('/b/k', parseQuery('versionId=v%2B1&acl&uploads=')), '/b/k?acl&uploads=&versionId=v+1');
    assert.equal(
      canonicalResource('/b/k', parseQuery('response-content-type=text%2Fplain&response-content-disposition=attachment%3B%20filename%3Da')),
      '/b/k?response-content-disposition=attachment; filename=a&response-content-type=text/plain',
    );
  });
});

describe('stringToSignV2', () => {
  it('matches the documented upload example', () => {
    assert.equal(
      stringToSignV2({
        method: 'PUT',
        contentMd5: '4gJE4saaMU4BqNR0kLY+lw==',
        contentType: 'application/x-download',
        dateOrExpires: 'Tue, 27 Mar 2007 21:06:08 +0000',
        canonicalAmzHeaders: 'x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\nx-amz-meta-reviewedby:joe@example.com,jane@example.com\n',
        canonicalResource: '/static.example.com/db-backup.dat.gz',
      }),
      'PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n' +
        'x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\n' +
        'x-amz-meta-reviewedby:joe@example.com,jane@example.com\n/static.example.com/db-backup.dat.gz',
    );
  });
});
