/** Tag sets: parsing from the x-amz-tagging header and from <Tagging> XML, with S3's limits. */
import { s3error } from '../errors/s3-errors.js';
import { childOf, listOf, parseXml, textOf, type XmlObject } from '../http/xml.js';

const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

function validate(tags: [string, string][], max: number): Record<string, string> {
  if (tags.length > max) throw s3error('InvalidTag', `Object tags cannot be greater than ${max}`);
  const out: Record<string, string> = {};
  for (const [k, v] of tags) {
    if (k.length === 0 || k.length > 128) throw s3error('InvalidTag', 'The TagKey you have provided is invalid');
    if (v.length > 256) throw s3error('InvalidTag', 'The TagValue you have provided is invalid');
    if (!TAG_CHARS.test(k) || !TAG_CHARS.test(v)) throw s3error('InvalidTag', 'The TagKey you have provided is invalid');
    if (k.toLowerCase().startsWith('aws:')) throw s3error('InvalidTag', 'Your TagKey cannot be prefixed with aws:');
    if (Object.prototype.hasOwnProperty.call(out, k)) throw s3error('InvalidTag', 'Cannot provide multiple Tags with the same key');
    out[k] = v;
  }
  return out;
}

/** x-amz-tagging: `k1=v1&k2=v2` (URL-encoded). */
export function parseTaggingHeader(value: string | undefined): Record<string, string> {
  if (value === undefined || value === '') return {};
  const pairs: [string, string][] = [];
  for (const part of value.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    try {
      const k = decodeURIComponent((eq < 0 ? part : part.slice(0, eq)).replace(/\+/g, ' '));
      const v = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' '));
      pairs.push([k, v]);
    } catch {
      throw s3error('InvalidArgument', 'The header \'x-amz-tagging\' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.');
    }
  }
  return validate(pairs, 10);
}

/** <Tagging><TagSet><Tag><Key/><Value/></Tag>…</TagSet></Tagging>; max is 10 for objects, 50 for buckets. */
export function parseTaggingXml(body: string, max: number): Record<string, string> {
  const root = parseXml(body, 'Tagging', ['Tagging.TagSet.Tag']);
  const set = childOf(root, 'TagSet');
  if (!set) throw s3error('MalformedXML');
  const pairs = listOf(set, 'Tag').map((t): [string, string] => {
    const k = textOf(t, 'Key');
    const v = textOf(t, 'Value');
    if (k === undefined || v === undefined) throw s3error('MalformedXML');
    return [k, v];
  });
  return validate(pairs, max);
}

export function taggingXml(tags: Record<string, string>): XmlObject {
  // Sorted by key: a tag set has no order, and S3 answers in key order (clients compare lists).
  const keys = Object.keys(tags).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { TagSet: { Tag: keys.map((Key) => ({ Key, Value: tags[Key]! })) } };
}

export const tagCount = (tags: Record<string, string>): number => Object.keys(tags).length;
