/**
 * ListObjects (v1), ListObjectsV2, ListObjectVersions and ListMultipartUploads.
 *
 * All four are one algorithm over an ordered store scan: filter by prefix, roll keys up into
 * CommonPrefixes at the first delimiter after the prefix, stop after max-keys entries (keys and
 * common prefixes counted together). `collectEntries` implements it once against a small
 * `ListSource` adapter per store method, so the paging, skipping and truncation rules cannot
 * drift between the four APIs.
 */
import { s3error } from '../errors/s3-errors.js';
import type { S3Request, S3Result } from '../http/request.js';
import { toXmlOrdered, type XmlObject, type XmlValue } from '../http/xml.js';
import type { AccountRecord, BucketRecord, ListPage, ObjectVersion, UploadRecord } from '../storage/ports.js';
import { isoDate, xmlResult } from './common.js';
import type { Handler, Services } from './context.js';
import { parseVersionIdParam } from './versions.js';

/** S3's page size cap for every listing. */
export const MAX_LIST_ENTRIES = 1000;

/**
 * The highest code point. `P + MAX_CODE_POINT` is the exclusive resume point that skips the keys
 * starting with P in one store query. It is not a strict upper bound (a key may continue after a
 * U+10FFFF, a noncharacter no real key uses); collectEntries tolerates such keys by skipping
 * them one page at a time, so they cost time, never correctness.
 */
const MAX_CODE_POINT = '\u{10FFFF}';

// ---- pure helpers ---------------------------------------------------------------------------

// Bytes S3 leaves as they are under encoding-type=url: Java URLEncoder's safe set (which is why
// '*' stays and '~' is encoded) plus '/', so a key still reads as a path. Space is %20, not '+'
// (s3-tests' test_bucket_list_encoding_basic, which AWS passes).
const URL_SAFE = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.*/') URL_SAFE[c.charCodeAt(0)] = 1;
const HEX = '0123456789ABCDEF';

/** Percent-encodes a key the way S3 does for encoding-type=url (UTF-8 bytes, upper-case hex). */
export function s3UrlEncode(s: string): string {
  const bytes = Buffer.from(s, 'utf8');
  let out = '';
  for (const b of bytes) out += URL_SAFE[b] ? String.fromCharCode(b) : `%${HEX[b >> 4]}${HEX[b & 15]}`;
  return out;
}

/** Reads encoding-type: 'url' → true, absent → false, anything else → InvalidArgument. */
export function parseEncodingType(req: Pick<S3Request, 'query'>): boolean {
  const v = req.query.get('encoding-type');
  if (v === undefined || v === '') return false;
  if (v.toLowerCase() === 'url') return true;
  throw s3error('InvalidArgument', 'Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type', ArgumentValue: v });
}

/** A ListObjectsV2 continuation token: base64url of the last key or common prefix returned. */
export function encodeContinuationToken(lastReturned: string): string {
  return Buffer.from(lastReturned, 'utf8').toString('base64url');
}

const UTF8_STRICT = new TextDecoder('utf-8', { fatal: true });

/** Inverse of encodeContinuationToken; anything we did not issue → InvalidArgument. */
export function decodeContinuationToken(token: string): string {
  const bad = () => s3error('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token', ArgumentValue: token });
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw bad();
  const buf = Buffer.from(token, 'base64url');
  // Canonical form only, so one position has exactly one token.
  if (buf.toString('base64url') !== token) throw bad();
  try {
    return UTF8_STRICT.decode(buf);
  } catch {
    throw bad();
  }
}

/**
 * The common prefix `key` rolls up into: the prefix plus everything up to and including the
 * first delimiter after it; undefined when there is no delimiter or `key` has none past the
 * prefix. `key` must start with `prefix` (the store only returns such keys).
 */
export function commonPrefixOf(key: string, prefix: string, delimiter: string | undefined): string | undefined {
  if (!delimiter) return undefined;
  const i = key.indexOf(delimiter, prefix.length);
  return i < 0 ? undefined : key.slice(0, i + delimiter.length);
}

/** Parses max-keys / max-uploads: default and cap 1000, 0 allowed, negative or non-integer → InvalidArgument. */
export function parseMaxParam(req: Pick<S3Request, 'query'>, name: 'max-keys' | 'max-uploads'): number {
  const v = req.query.get(name);
  if (v === undefined || v === '') return MAX_LIST_ENTRIES;
  const n = /^-?\d{1,11}$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n > 2147483647 || n < -2147483648) {
    throw s3error('InvalidArgument', `Provided ${name} not an integer or within integer range`, { ArgumentName: name, ArgumentValue: v });
  }
  if (n < 0) {
    const arg = name === 'max-keys' ? 'maxKeys' : name;
    throw s3error('InvalidArgument', `Argument ${arg} must be an integer between 0 and 2147483647`, { ArgumentName: arg, ArgumentValue: v });
  }
  return Math.min(n, MAX_LIST_ENTRIES);
}

// ---- the grouping scan ----------------------------------------------------------------------

/** One ordered store scan, seen through the few operations the grouping needs. */
export interface ListSource<T, C> {
  /** Up to `limit` items strictly after `cursor`, in S3 key order. */
  fetch(cursor: C, limit: number): Promise<ListPage<T>>;
  keyOf(item: T): string;
  /** The cursor just after `item`. */
  after(item: T): C;
  /** The cursor after every key that starts with `p` (see MAX_CODE_POINT). */
  afterPrefix(p: string): C;
}

/** One listing entry: a store item, or a CommonPrefixes group standing for all its keys. */
export type ListEntry<T> = { kind: 'item'; item: T } | { kind: 'prefix'; prefix: string };

/** What collectEntries found: at most `max` entries, in key order. */
export interface Collected<T> {
  entries: ListEntry<T>[];
  truncated: boolean;
  /** Store queries issued (for tests of the skipping behaviour). */
  fetches: number;
}

/**
 * A store query costs about as much as reading this many rows (measured on the SQLite store:
 * a one-row listLatest ≈ 5.7 × the per-row cost of a 1000-row one).
 */
const QUERY_COST_IN_ROWS = 5;

/**
 * Collects up to `max` entries (items and common prefixes) after `start`; `resumedPrefix` is the
 * common prefix `start` was placed after, if any, so it is not reported twice. Looks for one entry
 * more to answer IsTruncated exactly. When a new common prefix P turns up and the rest of the
 * fetched page is all inside P, the scan resumes after P instead of reading P's keys.
 *
 * With a delimiter the page size adapts to what the last page yielded: rows read inside common
 * prefixes are wasted, so when a page cost more rows per entry than a query costs, the next page
 * shrinks towards one entry's worth (directories of many keys: one seek per prefix); otherwise it
 * doubles (flat runs of keys: few queries).
 */
export async function collectEntries<T, C>(
  src: ListSource<T, C>,
  start: C,
  opts: { prefix: string; delimiter: string | undefined; max: number; resumedPrefix?: string | undefined },
): Promise<Collected<T>> {
  const { prefix, delimiter, max } = opts;
  const entries: ListEntry<T>[] = [];
  let fetches = 0;
  if (max <= 0) return { entries, truncated: false, fetches };
  let cursor = start;
  // The last common prefix emitted (or resumed after): its remaining keys are skipped.
  let open = opts.resumedPrefix;
  let batch = max + 1;
  for (;;) {
    const want = max + 1 - entries.length;
    const limit = delimiter ? Math.max(1, Math.min(want, batch)) : want;
    const page = await src.fetch(cursor, limit);
    fetches++;
    const items = page.items;
    if (items.length === 0) break;
    const lastKey = src.keyOf(items[items.length - 1]!);
    const before = entries.length;
    let jumped = false;
    for (let i = 0; i < items.length && entries.length <= max; i++) {
      const item = items[i]!;
      const key = src.keyOf(item);
      if (open !== undefined && key.startsWith(open)) continue;
      const cp = commonPrefixOf(key, prefix, delimiter);
      if (cp === undefined) {
        entries.push({ kind: 'item', item });
        continue;
      }
      entries.push({ kind: 'prefix', prefix: cp });
      open = cp;
      // The rest of the page is inside cp: nothing more to learn from it.
      if (lastKey.startsWith(cp)) {
        jumped = true;
        break;
      }
    }
    if (entries.length > max || !page.truncated) break;
    // After a jump, resume past the prefix; otherwise after the last row, which is also how
    // keys following P + U+10FFFF inside an open prefix are passed: the scan always progresses.
    cursor = jumped ? src.afterPrefix(open!) : src.after(items[items.length - 1]!);
    const rowsPerEntry = items.length / Math.max(1, entries.length - before);
    batch = rowsPerEntry > QUERY_COST_IN_ROWS + 1
      ? Math.max(2, Math.floor(limit / rowsPerEntry))
      : Math.min(max + 1, limit * 2);
  }
  const truncated = entries.length > max;
  if (truncated) entries.length = max;
  return { entries, truncated, fetches };
}

/**
 * Where a listing resumes for a marker (marker, start-after, continuation token, key-marker).
 * A marker inside a common prefix (including the prefix itself, which is what NextMarker holds
 * after a CommonPrefixes entry) resumes after the whole prefix: that group was already returned,
 * as S3 does (s3-tests test_bucket_list_delimiter_prefix; ListObjectVersions documents that
 * CommonPrefixes not greater than key-marker are filtered out).
 */
function resumePoint<C>(
  src: Pick<ListSource<unknown, C>, 'afterPrefix'>, marker: string, prefix: string, delimiter: string | undefined, exact: () => C,
): { start: C; resumedPrefix: string | undefined } {
  const cp = markerPrefix(marker, prefix, delimiter);
  return cp === undefined ? { start: exact(), resumedPrefix: undefined } : { start: src.afterPrefix(cp), resumedPrefix: cp };
}

/** The common prefix a marker lies in, if any. */
function markerPrefix(marker: string, prefix: string, delimiter: string | undefined): string | undefined {
  return marker.startsWith(prefix) ? commonPrefixOf(marker, prefix, delimiter) : undefined;
}

// ---- shared request/response pieces ---------------------------------------------------------

interface ListParams {
  prefix: string;
  /** '' counts as absent: S3 neither groups on it nor echoes it. */
  delimiter: string | undefined;
  url: boolean;
  enc: (s: string) => string;
}

function listParams(req: S3Request): ListParams {
  const url = parseEncodingType(req);
  return {
    prefix: req.query.get('prefix') ?? '',
    delimiter: req.query.get('delimiter') || undefined,
    url,
    enc: url ? s3UrlEncode : (s) => s,
  };
}

/** Owner/Initiator: the canonical id (the account id if the account record is gone), as ListParts shows it. */
function ownerXml(accountId: string, account: AccountRecord | undefined): XmlObject {
  return { ID: account?.canonicalId ?? accountId, DisplayName: account?.name };
}

/** The owner shown on each listed object: its writer's account with ACLs enabled, the bucket owner's under BucketOwnerEnforced. */
async function objectOwners(svc: Services, b: BucketRecord, items: readonly ObjectVersion[]): Promise<(v: ObjectVersion) => XmlObject> {
  const enforced = !(await svc.authorizer.access.get(b.name)).aclsEnabled;
  const ids = enforced ? [b.accountId] : [...new Set([b.accountId, ...items.map((v) => v.ownerAccountId)])];
  const owners = new Map<string, XmlObject>();
  for (const id of ids) owners.set(id, ownerXml(id, await svc.meta.getAccount(id)));
  return (v) => owners.get(enforced ? b.accountId : v.ownerAccountId)!;
}

const storageClassOf = (meta: { storageClass?: string }): string => meta.storageClass ?? 'STANDARD';

function latestSource(svc: Services, bucket: string, prefix: string): ListSource<ObjectVersion, string> {
  return {
    fetch: (after, limit) => svc.meta.listLatest(bucket, { prefix, after, limit }),
    keyOf: (v) => v.key,
    after: (v) => v.key,
    afterPrefix: (p) => p + MAX_CODE_POINT,
  };
}

function contentsXml(v: ObjectVersion, enc: (s: string) => string, owner: ((v: ObjectVersion) => XmlObject) | undefined): XmlObject {
  return {
    Key: enc(v.key),
    LastModified: isoDate(v.lastModified),
    ETag: v.etag,
    ChecksumAlgorithm: v.checksum?.algorithm,
    ChecksumType: v.checksum?.type,
    Size: v.size,
    StorageClass: storageClassOf(v.meta),
    Owner: owner?.(v),
  };
}

function split<T>(entries: ListEntry<T>[]): { items: T[]; prefixes: string[] } {
  const items: T[] = [];
  const prefixes: string[] = [];
  for (const e of entries) {
    if (e.kind === 'item') items.push(e.item);
    else prefixes.push(e.prefix);
  }
  return { items, prefixes };
}

function lastName<T>(entries: ListEntry<T>[], keyOf: (t: T) => string): string | undefined {
  const e = entries[entries.length - 1];
  if (e === undefined) return undefined;
  return e.kind === 'item' ? keyOf(e.item) : e.prefix;
}

// ---- ListObjects (v1) -----------------------------------------------------------------------

/** GET Bucket (ListObjects v1): marker paging; NextMarker only with a delimiter, as S3. */
export const listObjects: Handler<'ListObjects'> = async (ctx, svc) => {
  const b = ctx.bucket!;
  const p = listParams(ctx.req);
  const max = parseMaxParam(ctx.req, 'max-keys');
  const marker = ctx.req.query.get('marker') ?? '';
  const src = latestSource(svc, b.name, p.prefix);
  const { start, resumedPrefix } = resumePoint(src, marker, p.prefix, p.delimiter, () => marker);
  const { entries, truncated } = await collectEntries(src, start, { prefix: p.prefix, delimiter: p.delimiter, max, resumedPrefix });
  const { items, prefixes } = split(entries);
  const owner = await objectOwners(svc, b, items);
  const next = truncated && p.delimiter !== undefined ? lastName(entries, (v) => v.key) : undefined;
  return xmlResult('ListBucketResult', {
    IsTruncated: truncated,
    Marker: p.enc(marker),
    NextMarker: next === undefined ? undefined : p.enc(next),
    Contents: items.map((v) => contentsXml(v, p.enc, owner)),
    Name: b.name,
    Prefix: p.enc(p.prefix),
    Delimiter: p.delimiter === undefined ? undefined : p.enc(p.delimiter),
    MaxKeys: max,
    CommonPrefixes: prefixes.map((cp) => ({ Prefix: p.enc(cp) })),
    EncodingType: p.url ? 'url' : undefined,
  });
};

// ---- ListObjectsV2 --------------------------------------------------------------------------

/** ListObjectsV2: continuation-token (wins over start-after), KeyCount, Owner only with fetch-owner=true. */
export const listObjectsV2: Handler<'ListObjectsV2'> = async (ctx, svc) => {
  const { req } = ctx;
  const b = ctx.bucket!;
  const p = listParams(req);
  const max = parseMaxParam(req, 'max-keys');
  const token = req.query.get('continuation-token');
  const startAfter = req.query.get('start-after');
  // An empty token is no token (s3-tests test_bucket_listv2_continuationtoken_empty).
  const resumeFrom = token ? decodeContinuationToken(token) : (startAfter ?? '');
  const fetchOwner = req.query.get('fetch-owner')?.toLowerCase() === 'true';
  const src = latestSource(svc, b.name, p.prefix);
  const { start, resumedPrefix } = resumePoint(src, resumeFrom, p.prefix, p.delimiter, () => resumeFrom);
  const { entries, truncated } = await collectEntries(src, start, { prefix: p.prefix, delimiter: p.delimiter, max, resumedPrefix });
  const { items, prefixes } = split(entries);
  const owner = fetchOwner ? await objectOwners(svc, b, items) : undefined;
  const next = truncated ? lastName(entries, (v) => v.key) : undefined;
  return xmlResult('ListBucketResult', {
    IsTruncated: truncated,
    Contents: items.map((v) => contentsXml(v, p.enc, owner)),
    Name: b.name,
    Prefix: p.enc(p.prefix),
    Delimiter: p.delimiter === undefined ? undefined : p.enc(p.delimiter),
    MaxKeys: max,
    CommonPrefixes: prefixes.map((cp) => ({ Prefix: p.enc(cp) })),
    EncodingType: p.url ? 'url' : undefined,
    KeyCount: entries.length,
    ContinuationToken: token,
    NextContinuationToken: next === undefined ? undefined : encodeContinuationToken(next),
    StartAfter: startAfter === undefined ? undefined : p.enc(startAfter),
  });
};

// ---- ListObjectVersions ---------------------------------------------------------------------

interface VersionCursor {
  afterKey: string;
  /** undefined: after every version of afterKey. */
  afterSeq: number | undefined;
}

function versionSource(svc: Services, bucket: string, prefix: string): ListSource<ObjectVersion, VersionCursor> {
  return {
    fetch: (c, limit) => svc.meta.listVersions(bucket, { prefix, afterKey: c.afterKey, afterSeq: c.afterSeq, limit }),
    keyOf: (v) => v.key,
    after: (v) => {
      if (v.seq === undefined) throw new Error('listVersions returned a version without seq');
      return { afterKey: v.key, afterSeq: v.seq };
    },
    afterPrefix: (p) => ({ afterKey: p + MAX_CODE_POINT, afterSeq: undefined }),
  };
}

/**
 * The cursor for key-marker + version-id-marker: the versions of key-marker older than the
 * marker version, then later keys. A marker version deleted since the previous page cannot be
 * placed, so the key's versions are listed from its newest: possibly again, never skipped.
 */
async function versionStart(svc: Services, bucket: string, keyMarker: string, versionIdMarker: string | undefined): Promise<VersionCursor> {
  if (versionIdMarker === undefined) return { afterKey: keyMarker, afterSeq: undefined };
  const v = await svc.meta.getObjectVersion(bucket, keyMarker, versionIdMarker);
  return { afterKey: keyMarker, afterSeq: v?.seq ?? Number.MAX_SAFE_INTEGER };
}

/** An S3 XML result whose root children are an ordered list of (name, value) pairs. */
function orderedXmlResult(root: string, children: readonly (readonly [string, XmlValue])[]): S3Result {
  return { status: 200, headers: { 'Content-Type': 'application/xml' }, body: toXmlOrdered(root, children) };
}

/** GET ?versions: versions and delete markers in key order, newest first, resumable at a version. */
export const listObjectVersions: Handler<'ListObjectVersions'> = async (ctx, svc) => {
  const { req } = ctx;
  const b = ctx.bucket!;
  const p = listParams(req);
  const max = parseMaxParam(req, 'max-keys');
  const keyMarker = req.query.get('key-marker') ?? '';
  const rawVersionIdMarker = req.query.get('version-id-marker') || undefined;
  if (rawVersionIdMarker !== undefined && keyMarker === '') {
    throw s3error('InvalidArgument', 'A version-id marker cannot be specified without a key marker.', { ArgumentName: 'version-id-marker', ArgumentValue: rawVersionIdMarker });
  }
  let versionIdMarker: string | undefined;
  try {
    versionIdMarker = parseVersionIdParam(rawVersionIdMarker);
  } catch {
    throw s3error('InvalidArgument', 'Invalid version id specified', { ArgumentName: 'version-id-marker', ArgumentValue: rawVersionIdMarker });
  }
  const src = versionSource(svc, b.name, p.prefix);
  const resumedPrefix = markerPrefix(keyMarker, p.prefix, p.delimiter);
  const start = resumedPrefix !== undefined ? src.afterPrefix(resumedPrefix) : await versionStart(svc, b.name, keyMarker, versionIdMarker);
  const { entries, truncated } = await collectEntries(src, start, { prefix: p.prefix, delimiter: p.delimiter, max, resumedPrefix });
  const owner = await objectOwners(svc, b, entries.flatMap((e) => (e.kind === 'item' ? [e.item] : [])));

  const children: [string, XmlValue][] = [
    ['IsTruncated', truncated],
    ['KeyMarker', p.enc(keyMarker)],
    ['VersionIdMarker', rawVersionIdMarker ?? ''],
  ];
  const last = entries[entries.length - 1];
  if (truncated && last !== undefined) {
    if (last.kind === 'item') {
      children.push(['NextKeyMarker', p.enc(last.item.key)], ['NextVersionIdMarker', last.item.versionId]);
    } else {
      // Resuming at a common prefix skips the whole group (resumePoint), so no version id is needed.
      children.push(['NextKeyMarker', p.enc(last.prefix)]);
    }
  }
  const prefixes: XmlObject[] = [];
  for (const e of entries) {
    if (e.kind === 'prefix') {
      prefixes.push({ Prefix: p.enc(e.prefix) });
      continue;
    }
    const v = e.item;
    if (v.isDeleteMarker) {
      children.push(['DeleteMarker', {
        Key: p.enc(v.key),
        VersionId: v.versionId,
        IsLatest: v.isLatest ?? false,
        LastModified: isoDate(v.lastModified),
        Owner: owner(v),
      }]);
    } else {
      children.push(['Version', {
        Key: p.enc(v.key),
        VersionId: v.versionId,
        IsLatest: v.isLatest ?? false,
        LastModified: isoDate(v.lastModified),
        ETag: v.etag,
        ChecksumAlgorithm: v.checksum?.algorithm,
        ChecksumType: v.checksum?.type,
        Size: v.size,
        StorageClass: storageClassOf(v.meta),
        Owner: owner(v),
      }]);
    }
  }
  children.push(
    ['Name', b.name],
    ['Prefix', p.enc(p.prefix)],
    ['Delimiter', p.delimiter === undefined ? undefined : p.enc(p.delimiter)],
    ['MaxKeys', max],
    ['CommonPrefixes', prefixes],
    ['EncodingType', p.url ? 'url' : undefined],
  );
  return orderedXmlResult('ListVersionsResult', children);
};

// ---- ListMultipartUploads -------------------------------------------------------------------

interface UploadCursor {
  afterKey: string;
  afterUploadId: string | undefined;
}

function uploadSource(svc: Services, bucket: string, prefix: string): ListSource<UploadRecord, UploadCursor> {
  return {
    fetch: (c, limit) => svc.meta.listUploads(bucket, { prefix, afterKey: c.afterKey, afterUploadId: c.afterUploadId, limit }),
    keyOf: (u) => u.key,
    after: (u) => ({ afterKey: u.key, afterUploadId: u.uploadId }),
    afterPrefix: (p) => ({ afterKey: p + MAX_CODE_POINT, afterUploadId: undefined }),
  };
}

/** GET ?uploads: in-progress uploads by key then initiation; key-marker/upload-id-marker paging. */
export const listMultipartUploads: Handler<'ListMultipartUploads'> = async (ctx, svc) => {
  const { req } = ctx;
  const b = ctx.bucket!;
  const p = listParams(req);
  const max = parseMaxParam(req, 'max-uploads');
  const keyMarker = req.query.get('key-marker') ?? '';
  const uploadIdMarker = req.query.get('upload-id-marker') ?? '';
  const src = uploadSource(svc, b.name, p.prefix);
  // S3 ignores upload-id-marker without key-marker.
  const { start, resumedPrefix } = resumePoint(src, keyMarker, p.prefix, p.delimiter, () => ({
    afterKey: keyMarker,
    afterUploadId: keyMarker !== '' && uploadIdMarker !== '' ? uploadIdMarker : undefined,
  }));
  const { entries, truncated } = await collectEntries(src, start, { prefix: p.prefix, delimiter: p.delimiter, max, resumedPrefix });
  const { items, prefixes } = split(entries);

  // Account lookups are few (usually one owner) but per upload; memoise them.
  const accounts = new Map<string, Promise<AccountRecord | undefined>>();
  const account = (id: string): Promise<AccountRecord | undefined> => {
    let a = accounts.get(id);
    if (!a) accounts.set(id, (a = svc.meta.getAccount(id)));
    return a;
  };
  const uploads: XmlObject[] = [];
  for (const u of items) {
    uploads.push({
      Key: p.enc(u.key),
      UploadId: u.uploadId,
      Initiator: ownerXml(u.initiatorAccountId ?? u.ownerAccountId, await account(u.initiatorAccountId ?? u.ownerAccountId)),
      // The account that will own the object (the writer under ObjectWriter), as ListParts says.
      Owner: ownerXml(u.ownerAccountId, await account(u.ownerAccountId)),
      StorageClass: storageClassOf(u.meta),
      Initiated: isoDate(u.initiated),
      ChecksumAlgorithm: u.checksumAlgorithm ?? undefined,
      ChecksumType: u.checksumType ?? undefined,
    });
  }

  // Truncated: resume after the last entry. Complete: S3 still names the last upload listed.
  let nextKey: string | undefined;
  let nextUploadId: string | undefined;
  const last = entries[entries.length - 1];
  if (truncated && last?.kind === 'prefix') {
    nextKey = last.prefix;
  } else {
    const lastUpload = items[items.length - 1];
    if (lastUpload) {
      nextKey = lastUpload.key;
      nextUploadId = lastUpload.uploadId;
    }
  }
  return xmlResult('ListMultipartUploadsResult', {
    Bucket: b.name,
    KeyMarker: p.enc(keyMarker),
    UploadIdMarker: uploadIdMarker,
    NextKeyMarker: nextKey === undefined ? undefined : p.enc(nextKey),
    Prefix: p.enc(p.prefix),
    Delimiter: p.delimiter === undefined ? undefined : p.enc(p.delimiter),
    NextUploadIdMarker: nextUploadId,
    MaxUploads: max,
    IsTruncated: truncated,
    Upload: uploads,
    CommonPrefixes: prefixes.map((cp) => ({ Prefix: p.enc(cp) })),
    EncodingType: p.url ? 'url' : undefined,
  });
};
