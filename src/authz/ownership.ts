/**
 * S3 Object Ownership: the three modes, their XML, and what each means for a write.
 * Stored as the bucket config 'ownership' (the mode's name). A bucket without one — after
 * DeleteBucketOwnershipControls — behaves as ObjectWriter, S3's pre-2023 default.
 */
import { s3error } from '../errors/s3-errors.js';
import { parseXml, textOf } from '../http/xml.js';

export type ObjectOwnership = 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter';
export const OWNERSHIP_MODES: readonly ObjectOwnership[] = ['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter'];

export function isObjectOwnership(s: string): s is ObjectOwnership {
  return (OWNERSHIP_MODES as readonly string[]).includes(s);
}

/** The mode a stored config (or its absence) puts in force. */
export function effectiveOwnership(stored: string | undefined): ObjectOwnership {
  return stored !== undefined && isObjectOwnership(stored) ? stored : 'ObjectWriter';
}

/** Parses <OwnershipControls><Rule><ObjectOwnership>…; anything else → MalformedXML. */
export function parseOwnershipControls(body: string): ObjectOwnership {
  const root = parseXml(body, 'OwnershipControls', ['OwnershipControls.Rule']);
  const rules = root.Rule;
  const list = Array.isArray(rules) ? rules : [];
  if (list.length !== 1) throw s3error('MalformedXML');
  const mode = textOf(list[0] as Record<string, unknown>, 'ObjectOwnership');
  if (mode === undefined || !isObjectOwnership(mode.trim())) throw s3error('MalformedXML');
  return mode.trim() as ObjectOwnership;
}

/**
 * The account that owns an object written by `writer` (undefined = anonymous) into a
 * bucket of `bucketOwner` (S3 UG "Object Ownership"): the bucket owner under
 * BucketOwnerEnforced, and under BucketOwnerPreferred when the write carries the
 * bucket-owner-full-control canned ACL; otherwise the writer.
 * Anonymous writes are owned by the bucket owner (S3 records a special anonymous owner
 * instead; Kura has no such account, and the bucket owner is the only one who can manage
 * such an object anyway).
 */
export function objectOwnerOf(mode: ObjectOwnership, bucketOwner: string, writer: string | undefined, cannedAcl: string | undefined): string {
  if (mode === 'BucketOwnerEnforced' || writer === undefined) return bucketOwner;
  if (mode === 'BucketOwnerPreferred' && cannedAcl === 'bucket-owner-full-control') return bucketOwner;
  return writer;
}
