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
  it('decodes character references as Go clients write them (rclone, minio-go): &#34; &#39; &#x9; &#xA; …', () => {
    const d = parseXml('<CompleteMultipartUpload><Part><ETag>&#34;c120f3cb&#34;</ETag><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>', 'CompleteMultipartUpload', ['CompleteMultipartUpload.Part']);
    assert.deepEqual(d, { Part: [{ ETag: '"c120f3cb"', PartNumber: '1' }] });
    assert.deepEqual(parseXml('<Delete><Object><Key>it&#39;s&#x9;a&#xA;b&#xD;&#x1F600;&amp;</Key></Object></Delete>', 'Delete'), { Object: { Key: 'it\'s\ta\nb\r😀&' } });
    // A Go-style encoding of any string (references for quotes and whitespace) parses back to it.
    const goEscape = (v: string): string => v.replace(/[&<>"'\t\n\r]/g, (c) => `&#${c.codePointAt(0)};`);
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (v) => {
      assert.equal(parseXml(`<Tagging><Value>${goEscape(v)}</Value></Tagging>`, 'Tagging').Value ?? '', v);
    }), { numRuns: 300 });
  });
  it('refuses malformed or unknown references and references to characters XML 1.0 does not allow', () => {
    for (const bad of ['&#0;', '&#x0;', '&#1;', '&#x1F;', '&#xD800;', '&#xFFFE;', '&#1114112;', '&#x;', '&#;', '&#abc;', '&nbsp;', '&copy;', '&amp', '&#00000000000000000000000000000000065;']) {
      assert.throws(() => parseXml(`<Delete><Object><Key>a${bad}b</Key></Object></Delete>`, 'Delete'), (e: unknown) => e instanceof S3Error && e.code === 'MalformedXML', bad);
    }
  });
  it('leaves CDATA and comments alone when checking references', () => {
    assert.deepEqual(parseXml('<Tagging><!-- &#0; --><Value><![CDATA[a &#0; &nbsp; b]]></Value></Tagging>', 'Tagging'), { Value: 'a &#0; &nbsp; b' });
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
