import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { S3Error } from '../errors/s3-errors.js';
import { escapeXml, parseXml, toXml } from './xml.js';

describe('XML', () => {
  it('keeps numeric-looking and boolean-looking values as strings, and repeated elements as arrays', () => {
    const d = parseXml('<Delete><Object><Key>0123</Key></Object><Quiet>true</Quiet></Delete>', 'Delete', ['Delete.Object']);
    assert.deepEqual(d, { Object: [{ Key: '0123' }], Quiet: 'true' });
  });
  it('refuses DOCTYPEs, entities, a wrong root and malformed XML with MalformedXML', () => {
    for (const bad of ['<!DOCTYPE x [<!ENTITY a "b">]><Delete>&a;</Delete>', '<Other/>', '<Delete><Object></Delete>', '', 'not xml']) {
      assert.throws(() => parseXml(bad, 'Delete'), (e: unknown) => e instanceof S3Error && e.code === 'MalformedXML', bad);
    }
  });
  it('escapes what XML forbids, including control characters in keys', () => {
    assert.equal(escapeXml('a&b<c>"\'\u0001'), 'a&amp;b&lt;c&gt;&quot;&apos;&#x1;');
    assert.match(toXml('R', { Key: 'x\u0002y' }), /<Key>x&#x2;y<\/Key>/);
  });
  it('round-trips arbitrary strings through toXml and parseXml', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => {
      const xml = toXml('Tagging', { Value: s });
      const back = parseXml(xml, 'Tagging');
      assert.equal(back.Value ?? '', s);
    }), { numRuns: 300 });
  });
  it('never throws anything but MalformedXML on arbitrary input', () => {
    fc.assert(fc.property(fc.string(), (s) => {
      try {
        parseXml(s, 'Delete', ['Delete.Object']);
      } catch (e) {
        assert.ok(e instanceof S3Error && e.code === 'MalformedXML', String(e));
      }
    }), { numRuns: 1000 });
  });
});
