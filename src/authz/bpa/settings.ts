/**
 * Block Public Access settings: the four flags, their XML form, and the effective setting
 * of a bucket (the OR of every level that has one; the account level arrives with the S3
 * Control API). Handlers live in s3/public-access-block.ts; the decision reads this.
 */
import { s3error } from '../../errors/s3-errors.js';
import { parseXml, textOf } from '../../http/xml.js';
import type { MetadataStore } from '../../storage/ports.js';

export interface PublicAccessBlock {
  blockPublicAcls: boolean;
  ignorePublicAcls: boolean;
  blockPublicPolicy: boolean;
  restrictPublicBuckets: boolean;
}

export const ALL_BLOCKED: PublicAccessBlock = { blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true };
const NONE_BLOCKED: PublicAccessBlock = { blockPublicAcls: false, ignorePublicAcls: false, blockPublicPolicy: false, restrictPublicBuckets: false };

export const FIELDS: readonly [keyof PublicAccessBlock, string][] = [
  ['blockPublicAcls', 'BlockPublicAcls'],
  ['ignorePublicAcls', 'IgnorePublicAcls'],
  ['blockPublicPolicy', 'BlockPublicPolicy'],
  ['restrictPublicBuckets', 'RestrictPublicBuckets'],
];

/** Parses <PublicAccessBlockConfiguration>; an absent flag is false, anything but true/false is MalformedXML. */
export function parsePublicAccessBlock(body: string): PublicAccessBlock {
  const root = parseXml(body, 'PublicAccessBlockConfiguration');
  const out = { ...NONE_BLOCKED };
  for (const [field, el] of FIELDS) {
    const v = textOf(root, el);
    if (v === undefined) continue;
    const t = v.trim().toLowerCase();
    if (t !== 'true' && t !== 'false') throw s3error('MalformedXML');
    out[field] = t === 'true';
  }
  return out;
}

/** The bucket's own setting, or undefined when it has none. */
export async function bucketPublicAccessBlock(meta: MetadataStore, bucket: string): Promise<PublicAccessBlock | undefined> {
  const raw = await meta.getBucketConfig(bucket, 'public-access-block');
  return raw === undefined ? undefined : (JSON.parse(raw) as PublicAccessBlock);
}

/** The account's own setting (S3 Control), or undefined when it has none. */
export async function accountPublicAccessBlock(meta: MetadataStore, accountId: string): Promise<PublicAccessBlock | undefined> {
  const raw = await meta.getAccountConfig(accountId, 'public-access-block');
  return raw === undefined ? undefined : (JSON.parse(raw) as PublicAccessBlock);
}

/** OR per flag: the most restrictive combination of the levels. */
export function combine(...levels: (PublicAccessBlock | undefined)[]): PublicAccessBlock {
  const out = { ...NONE_BLOCKED };
  for (const l of levels) {
    if (!l) continue;
    for (const [f] of FIELDS) out[f] ||= l[f];
  }
  return out;
}

/** The setting in force for a bucket: its own OR its owner account's. */
export async function effectivePublicAccessBlock(meta: MetadataStore, bucket: string): Promise<PublicAccessBlock> {
  const b = await meta.getBucket(bucket);
  const account = b ? await accountPublicAccessBlock(meta, b.accountId) : undefined;
  return combine(await bucketPublicAccessBlock(meta, bucket), account);
}
