/**
 * Limit/Marker pagination of KMS list operations. The marker is the sort key of the last
 * item returned (base64url): a page resumes after it, which stays correct when items are
 * added or removed between calls, unlike an offset.
 */
import { KmsError } from './errors.js';
import type { Input } from './input.js';

export interface Page<T> {
  items: T[];
  /** The JSON members: `Truncated`, and `NextMarker` when truncated. */
  members: { Truncated: boolean; NextMarker?: string };
}

const MARKER_RULE = { min: 1, max: 1024, pattern: /^[\u0020-\u00FF]*$/ };

export function readPaging(input: Input, maxLimit: number, defaultLimit: number): { limit: number; marker: string | undefined } {
  const limit = input.int('Limit', { min: 1, max: maxLimit }) ?? defaultLimit;
  return { limit, marker: input.string('Marker', MARKER_RULE) };
}

export function paginate<T>(items: readonly T[], key: (t: T) => string, p: { limit: number; marker: string | undefined }): Page<T> {
  const keyed = items.map((item) => ({ item, k: key(item) })).sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  let rest = keyed;
  if (p.marker !== undefined) {
    const after = Buffer.from(p.marker, 'base64url').toString('utf8');
    if (after === '' || Buffer.from(after, 'utf8').toString('base64url') !== p.marker) throw new KmsError('InvalidMarkerException', 'The marker is not valid.');
    rest = keyed.filter((e) => e.k > after);
  }
  const page = rest.slice(0, p.limit);
  if (rest.length <= p.limit) return { items: page.map((e) => e.item), members: { Truncated: false } };
  return {
    items: page.map((e) => e.item),
    members: { Truncated: true, NextMarker: Buffer.from(page[page.length - 1]!.k, 'utf8').toString('base64url') },
  };
}
