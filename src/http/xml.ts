/**
 * XML in and out. Parsing uses fast-xml-parser with S3-safe options (all values stay
 * strings; repeatable elements are always arrays). Serialising is a small tree writer of
 * our own: S3 bodies are plain element trees, and the writer must escape characters that
 * XML 1.0 forbids (a key may contain U+0001), which the library passes through raw.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { s3error } from '../errors/s3-errors.js';

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** A serialisable node: text, a list of repeated children, or an element map. undefined is omitted. */
export type XmlValue = string | number | boolean | undefined | null | XmlObject | XmlValue[];
export interface XmlObject {
  [name: string]: XmlValue;
}

// The five XML escapes, plus numeric references for characters XML 1.0 forbids raw.
// eslint-disable-next-line no-control-regex -- matching control characters is the point: XML 1.0 forbids them raw
const ESCAPE_RE = /[&<>"'\u0000-\u0008\u000b\u000c\u000e-\u001f\ud800-\udfff\ufffe\uffff]/gu;

function escapeChar(c: string): string {
  switch (c) {
    case '&': return '&amp;';
    case '<': return '&lt;';
    case '>': return '&gt;';
    case '"': return '&quot;';
    case "'": return '&apos;';
    default: return `&#x${c.codePointAt(0)!.toString(16).toUpperCase()};`;
  }
}

/** Escapes text for element content or attribute values. */
export function escapeXml(s: string): string {
  return s.replace(ESCAPE_RE, escapeChar);
}

function writeValue(out: string[], name: string, v: XmlValue): void {
  if (v === undefined) return;
  if (Array.isArray(v)) {
    for (const item of v) writeValue(out, name, item);
    return;
  }
  if (v === null) {
    out.push(`<${name}/>`);
    return;
  }
  if (typeof v === 'object') {
    out.push(`<${name}>`);
    for (const [k, child] of Object.entries(v)) writeValue(out, k, child);
    out.push(`</${name}>`);
    return;
  }
  out.push(`<${name}>`, escapeXml(String(v)), `</${name}>`);
}

/** Serialises `<root xmlns=...>body</root>` with the XML declaration S3 sends. */
export function toXml(root: string, body: XmlObject, xmlns: string | null = S3_XMLNS): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
  out.push(xmlns ? `<${root} xmlns="${xmlns}">` : `<${root}>`);
  for (const [k, child] of Object.entries(body)) writeValue(out, k, child);
  out.push(`</${root}>`);
  return out.join('');
}

/**
 * Like toXml, but the root's children are an ordered list of (name, value) pairs, for
 * bodies that interleave repeated elements (ListVersionsResult's Version/DeleteMarker).
 */
export function toXmlOrdered(root: string, children: readonly (readonly [string, XmlValue])[], xmlns: string | null = S3_XMLNS): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
  out.push(xmlns ? `<${root} xmlns="${xmlns}">` : `<${root}>`);
  for (const [name, v] of children) writeValue(out, name, v);
  out.push(`</${root}>`);
  return out.join('');
}

const XML_ENTITIES = { amp: '&', apos: "'", gt: '>', lt: '<', quot: '"' };

/**
 * Every `&` outside CDATA and comments starts one of XML's five entities or a character
 * reference to a character XML 1.0 allows (the Char production: no NUL, no C0 controls but
 * tab/LF/CR, no surrogates). Anything else — `&nbsp;`, `&#x;`, `&#0;`, an over-long
 * reference — makes the body MalformedXML instead of being kept as literal text.
 */
function referencesValid(text: string): boolean {
  const markup = text.replace(/<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->/g, '');
  for (const m of markup.matchAll(/&([^;&]{0,12});?/g)) {
    const body = m[1]!;
    if (!m[0].endsWith(';')) return false;
    if (body === 'amp' || body === 'lt' || body === 'gt' || body === 'quot' || body === 'apos') continue;
    const ref = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(body);
    if (!ref) return false;
    const cp = ref[1] !== undefined ? parseInt(ref[1], 16) : parseInt(ref[2]!, 10);
    const ok = cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
    if (!ok) return false;
  }
  return true;
}

/**
 * Parses a request body. `arrays` lists the dotted paths (from the root) of elements that
 * may repeat, e.g. `Delete.Object`. Returns the root element's content.
 * Malformed XML, a DOCTYPE (S3 never takes one; entity expansion is an attack surface),
 * or a different root element → MalformedXML.
 */
export function parseXml(text: string, root: string, arrays: readonly string[] = []): Record<string, unknown> {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw s3error('MalformedXML');
  if (text.trim() === '' || XMLValidator.validate(text) !== true) throw s3error('MalformedXML');
  if (!referencesValid(text)) throw s3error('MalformedXML');
  const arraySet = new Set(arrays);
  const parser = new XMLParser({
    // Character references (&#34; &#x9; …) are XML and are decoded: Go's encoder writes every
    // quote in an ETag or key that way (rclone, minio-go, aws-sdk-go). Named entities stay
    // XML's five: an object here (not `true`) enables references without HTML's named set.
    // (fast-xml-parser 5 takes an entity map at runtime though its type says boolean; the
    // tests in xml.test.ts pin the behaviour, so an upgrade that changes it fails them.)
    htmlEntities: XML_ENTITIES as unknown as boolean,
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseTagValue: false,
    parseAttributeValue: false,
    removeNSPrefix: true,
    trimValues: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    isArray: (_name: string, jpath: unknown) => arraySet.has(String(jpath)),
  });
  let doc: unknown;
  try {
    doc = parser.parse(text);
  } catch {
    throw s3error('MalformedXML');
  }
  if (typeof doc !== 'object' || doc === null) throw s3error('MalformedXML');
  const keys = Object.keys(doc).filter((k) => !k.startsWith('?') && !k.startsWith('#'));
  if (keys.length !== 1 || keys[0] !== root) throw s3error('MalformedXML');
  const content = (doc as Record<string, unknown>)[root];
  if (content === '' || content === undefined) return {};
  if (typeof content !== 'object' || content === null || Array.isArray(content)) throw s3error('MalformedXML');
  return content as Record<string, unknown>;
}

/** Reads a child element's text; absent → undefined; a nested element where text is expected → MalformedXML. */
export function textOf(node: Record<string, unknown>, name: string): string | undefined {
  const v = node[name];
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    // <X attr="..">text</X> parses to { '#text': 'text', '@_attr': '..' }.
    if (typeof o['#text'] === 'string') return o['#text'];
    if (Object.keys(o).every((k) => k.startsWith('@_'))) return '';
  }
  throw s3error('MalformedXML');
}

/** Reads a list of child elements (declared as arrays at parse time). */
export function listOf(node: Record<string, unknown>, name: string): Record<string, unknown>[] {
  const v = node[name];
  if (v === undefined) return [];
  const arr = Array.isArray(v) ? v : [v];
  return arr.map((item) => {
    if (item === '') return {};
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw s3error('MalformedXML');
    return item as Record<string, unknown>;
  });
}

/** Reads a child element that must itself be an element. */
export function childOf(node: Record<string, unknown>, name: string): Record<string, unknown> | undefined {
  const v = node[name];
  if (v === undefined) return undefined;
  if (v === '') return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw s3error('MalformedXML');
  return v as Record<string, unknown>;
}
