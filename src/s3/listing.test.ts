/**
 * Listing handlers: the pure helpers, the grouping scan against a counting fake source, and the
 * four handlers against the real SQLite metadata store (in memory), compared with a naive model.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { Principal } from '../auth/principal.js';
import { S3Error } from '../errors/s3-errors.js';
import type { S3Result } from '../http/request.js';
import { listOf, parseXml, textOf } from '../http/xml.js';
import { compareUtf8 } from '../storage/keys.js';
import { MemoryBlobStore } from '../storage/memory/blob-store.js';
import type { AccountRecord, BucketRecord, ListPage, ObjectVersion, UploadRecord } from '../storage/ports.js';
import { SqliteMetadataStore } from '../storage/sqlite/metadata-store.js';
import type { Services } from './context.js';
import { Authorizer } from '../authz/authorizer.js';
import {
  collectEntries, commonPrefixOf, decodeContinuationToken, encodeContinuationToken, listMultipartUploads,
  listObjects, listObjectsV2, listObjectVersions, parseEncodingType, parseMaxParam, s3UrlEncode, type ListSource,
} from './listing.js';

// ---- fixtures -------------------------------------------------------------------------------

const ACCOUNT: AccountRecord = {
  id: '111122223333', name: 'alice', canonicalId: 'a'.repeat(64), email: null, createdAt: '2024-01-01T00:00:00.000Z',
};
const OTHER: AccountRecord = {
  id: '444455556666', name: 'bob', canonicalId: 'b'.repeat(64), email: null, createdAt: '2024-01-01T00:00:00.000Z',
};
const OWNER: Principal = { kind: 'account-root', accountId: ACCOUNT.id, canonicalId: ACCOUNT.canonicalId, accessKeyId: 'AKIAALICE' };

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function bucketRecord(name: string, versioning: BucketRecord['versioning'] = 'Unversioned'): BucketRecord {
  return { name, accountId: ACCOUNT.id, region: 'us-east-1', createdAt: '2024-01-01T00:00:00.000Z', versioning };
}

let vidCounter = 0;
/** Version ids in Kura's format (32 base64url characters). */
const vid = (): string => `v${String(++vidCounter).padStart(31, '0')}`;

function version(bucket: string, key: string, over: Partial<ObjectVersion> = {}): ObjectVersion {
  return {
    bucket, key, versionId: 'null', isDeleteMarker: false, size: key.length, etag: '"0123456789abcdef0123456789abcdef"',
    lastModified: '2024-05-06T07:08:09.123Z', ownerAccountId: ACCOUNT.id, meta: { user: {} }, checksum: null,
    tags: {}, uploadId: null, pieces: [], sse: { algorithm: 'AES256' }, ...over,
  };
}

function ctxFor(bucket: BucketRecord, query: Record<string, string>): never {
  return {
    req: {
      requestId: 'REQ', hostId: 'HOST', method: 'GET', rawPath: `/${bucket.name}`, rawQuery: '',
      query: new Map(Object.entries(query)), headers: {}, body: Readable.from([]), clientIp: '127.0.0.1', tls: null,
      receivedAt: new Date(),
    },
    op: { kind: 'ListObjectsV2', level: 'bucket', bucket: bucket.name },
    principal: OWNER,
    auth: {},
    decision: { effect: 'Allow', trace: [], aclRequired: false },
    bucket,
    body: () => Readable.from([]),
    trailers: () => new Map(),
    contentLength: 0,
  } as never;
}

async function rejects(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof S3Error, String(e));
    assert.equal(e.code, code);
    if (message) assert.match(e.message, message);
    return true;
  });
}

function throwsS3(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof S3Error && e.code === code);
}

const bodyOf = (r: S3Result): string => {
  assert.equal(r.status, 200);
  assert.equal(typeof r.body, 'string');
  return r.body as string;
};

// ---- a naive model of S3 listing --------------------------------------------------------------

/** The entries a listing returns, in order: 'K:key' and 'P:prefix'. Written without listing.ts. */
function model(keys: readonly string[], prefix: string, delimiter: string, after: string): string[] {
  const rollup = (k: string): string | undefined => {
    if (!delimiter) return undefined;
    const i = k.slice(prefix.length).indexOf(delimiter);
    return i < 0 ? undefined : k.slice(0, prefix.length + i + delimiter.length);
  };
  const markerGroup = after.startsWith(prefix) ? rollup(after) : undefined;
  const out: string[] = [];
  let last: string | undefined;
  for (const k of [...keys].sort(compareUtf8)) {
    if (!k.startsWith(prefix)) continue;
    if (markerGroup !== undefined ? (k.startsWith(markerGroup) || compareUtf8(k, markerGroup) <= 0) : compareUtf8(k, after) <= 0) continue;
    const g = rollup(k);
    if (g === undefined) out.push(`K:${k}`);
    else if (g !== last) out.push(`P:${(last = g)}`);
  }
  return out;
}

interface Page {
  entries: string[];
  truncated: boolean;
  root: Record<string, unknown>;
}

function parseListBucket(xml: string): Page {
  const root = parseXml(xml, 'ListBucketResult', ['ListBucketResult.Contents', 'ListBucketResult.CommonPrefixes']);
  // The XML parser cannot give back control characters; url-encoded listings carry them intact.
  const dec = textOf(root, 'EncodingType') === 'url' ? decodeURIComponent : (s: string) => s;
  const keys = listOf(root, 'Contents').map((c) => `K:${dec(textOf(c, 'Key')!)}`);
  const prefixes = listOf(root, 'CommonPrefixes').map((c) => `P:${dec(textOf(c, 'Prefix')!)}`);
  // A common prefix sorts just before its first key, so sorting restores the wire order.
  const entries = [...keys, ...prefixes].sort((a, b) => compareUtf8(a.slice(2), b.slice(2)));
  return { entries, truncated: textOf(root, 'IsTruncated') === 'true', root };
}

async function pagesV2(svc: Services, b: BucketRecord, q: Record<string, string>): Promise<Page[]> {
  const pages: Page[] = [];
  let token: string | undefined;
  for (let i = 0; i < 10_000; i++) {
    const page = parseListBucket(bodyOf(await listObjectsV2(ctxFor(b, { ...q, 'list-type': '2', ...(token ? { 'continuation-token': token } : {}) }), svc)));
    pages.push(page);
    assert.equal(Number(textOf(page.root, 'KeyCount')), page.entries.length);
    if (!page.truncated) {
      assert.equal(textOf(page.root, 'NextContinuationToken'), undefined);
      return pages;
    }
    token = textOf(page.root, 'NextContinuationToken');
    assert.ok(token);
  }
  throw new Error('listing never ended');
}

async function pagesV1(svc: Services, b: BucketRecord, q: Record<string, string>): Promise<Page[]> {
  const pages: Page[] = [];
  const dec = q['encoding-type'] === 'url' ? decodeURIComponent : (s: string) => s;
  let marker = '';
  for (let i = 0; i < 10_000; i++) {
    const page = parseListBucket(bodyOf(await listObjects(ctxFor(b, { ...q, marker }), svc)));
    pages.push(page);
    assert.equal(dec(textOf(page.root, 'Marker')!), marker);
    if (!page.truncated) {
      assert.equal(textOf(page.root, 'NextMarker'), undefined);
      return pages;
    }
    const next = textOf(page.root, 'NextMarker');
    if (q.delimiter) {
      assert.equal(dec(next!), page.entries[page.entries.length - 1]!.slice(2));
      marker = dec(next!);
    } else {
      // Without a delimiter S3 sends no NextMarker: the client continues from the last key.
      assert.equal(next, undefined);
      marker = page.entries[page.entries.length - 1]!.slice(2);
    }
  }
  throw new Error('listing never ended');
}

function checkPages(pages: Page[], expected: string[], max: number): void {
  const all = pages.flatMap((p) => p.entries);
  assert.deepEqual(all, expected);
  for (const [i, p] of pages.entries()) {
    if (i < pages.length - 1) assert.equal(p.entries.length, max, `page ${i} is full`);
    assert.equal(p.truncated, i < pages.length - 1);
  }
}

// ---- pure helpers ---------------------------------------------------------------------------

describe('s3UrlEncode', () => {
  it('encodes like S3: %20 for space, / and * kept, ~ and + encoded, UTF-8 bytes in upper-case hex', () => {
    assert.equal(s3UrlEncode('quux ab/thud'), 'quux%20ab/thud');
    assert.equal(s3UrlEncode('foo+1/'), 'foo%2B1/');
    assert.equal(s3UrlEncode('a-b_c.d*e~f'), 'a-b_c.d*e%7Ef');
    assert.equal(s3UrlEncode('test_file(3).png'), 'test_file%283%29.png');
    assert.equal(s3UrlEncode('é'), '%C3%A9');
    assert.equal(s3UrlEncode('😀'), '%F0%9F%98%80');
    assert.equal(s3UrlEncode('\u0001\n%&<'), '%01%0A%25%26%3C');
    assert.equal(s3UrlEncode(''), '');
  });

  it('round-trips through decodeURIComponent', () => {
    for (const s of ['a b+c', 'ключ/значение', '\u0000\u001f\u007f', '日本/😀', "!'()*~"]) {
      assert.equal(decodeURIComponent(s3UrlEncode(s)), s);
    }
  });
});

describe('parseEncodingType', () => {
  it('accepts url, treats absent/empty as none, rejects others', () => {
    assert.equal(parseEncodingType({ query: new Map() }), false);
    assert.equal(parseEncodingType({ query: new Map([['encoding-type', '']]) }), false);
    assert.equal(parseEncodingType({ query: new Map([['encoding-type', 'url']]) }), true);
    throwsS3(() => parseEncodingType({ query: new Map([['encoding-type', 'base64']]) }), 'InvalidArgument');
  });
});

describe('continuation tokens', () => {
  it('round-trip any key, including astral characters and control characters', () => {
    for (const k of ['a', 'photos/2006/', 'ключ', '😀/x', 'a\u0001b', ' ']) {
      const t = encodeContinuationToken(k);
      assert.match(t, /^[A-Za-z0-9_-]+$/);
      assert.equal(decodeContinuationToken(t), k);
    }
  });

  it('reject tokens we did not issue', () => {
    for (const t of ['!!!', 'a b', 'YQ==', 'YR', Buffer.from([0xff, 0xfe]).toString('base64url'), Buffer.from([0xc3]).toString('base64url')]) {
      assert.throws(() => decodeContinuationToken(t), (e: unknown) =>
        e instanceof S3Error && e.code === 'InvalidArgument' && e.message === 'The continuation token provided is incorrect', t);
    }
  });
});

describe('commonPrefixOf', () => {
  it('rolls up at the first delimiter after the prefix', () => {
    assert.equal(commonPrefixOf('photos/2006/jan/x.jpg', 'photos/', '/'), 'photos/2006/');
    assert.equal(commonPrefixOf('photos/x.jpg', 'photos/', '/'), undefined);
    assert.equal(commonPrefixOf('photos/', 'photos/', '/'), undefined);
    assert.equal(commonPrefixOf('a/b', '', undefined), undefined);
    assert.equal(commonPrefixOf('a/b', '', ''), undefined);
  });

  it('handles any delimiter string', () => {
    assert.equal(commonPrefixOf('bazar', 'ba', 'a'), 'baza');
    assert.equal(commonPrefixOf('x--y--z', '', '--'), 'x--');
    assert.equal(commonPrefixOf('x--y--z', 'x--', '--'), 'x--y--');
    assert.equal(commonPrefixOf('日本語/テスト', '', '本'), '日本');
    assert.equal(commonPrefixOf('a😀b😀c', 'a😀', '😀'), 'a😀b😀');
  });
});

describe('parseMaxParam', () => {
  const q = (v: string) => ({ query: new Map([['max-keys', v]]) });
  it('defaults to 1000, caps at 1000, allows 0', () => {
    assert.equal(parseMaxParam({ query: new Map() }, 'max-keys'), 1000);
    assert.equal(parseMaxParam(q('0'), 'max-keys'), 0);
    assert.equal(parseMaxParam(q('7'), 'max-keys'), 7);
    assert.equal(parseMaxParam(q('5000'), 'max-keys'), 1000);
    assert.equal(parseMaxParam(q('2147483647'), 'max-keys'), 1000);
  });
  it('rejects negative and non-integer values', () => {
    for (const v of ['-1', 'blah', '1.5', '2147483648', '99999999999999999999']) throwsS3(() => parseMaxParam(q(v), 'max-keys'), 'InvalidArgument');
  });
});

// ---- the grouping scan against a fake store ----------------------------------------------------

/** A sorted in-memory key list behind ListSource, counting queries and rows read. */
function fakeSource(keys: string[], prefix: string): ListSource<string, string> & { rows: number } {
  const sorted = keys.filter((k) => k.startsWith(prefix)).map((k) => ({ k, b: Buffer.from(k) })).sort((x, y) => Buffer.compare(x.b, y.b));
  const src = {
    rows: 0,
    async fetch(after: string, limit: number): Promise<ListPage<string>> {
      const a = Buffer.from(after);
      let lo = 0;
      let hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (Buffer.compare(sorted[mid]!.b, a) > 0) hi = mid;
        else lo = mid + 1;
      }
      const items = sorted.slice(lo, lo + limit).map((e) => e.k);
      src.rows += items.length;
      return { items, truncated: lo + limit < sorted.length };
    },
    keyOf: (k: string) => k,
    after: (k: string) => k,
    afterPrefix: (p: string) => `${p}\u{10FFFF}`,
  };
  return src;
}

const names = (entries: { kind: string; item?: string; prefix?: string }[]): string[] =>
  entries.map((e) => (e.kind === 'item' ? `K:${e.item!}` : `P:${e.prefix!}`));

describe('collectEntries', () => {
  it('skips the keys of big common prefixes instead of reading them', async () => {
    const keys: string[] = ['0-first'];
    for (let d = 0; d < 8; d++) for (let i = 0; i < 5000; i++) keys.push(`dir${d}/file${String(i).padStart(5, '0')}`);
    keys.push('zz-last');
    const src = fakeSource(keys, '');
    const r = await collectEntries(src, '', { prefix: '', delimiter: '/', max: 1000 });
    assert.deepEqual(names(r.entries), ['K:0-first', ...Array.from({ length: 8 }, (_, d) => `P:dir${d}/`), 'K:zz-last']);
    assert.equal(r.truncated, false);
    // 40,002 keys, 10 entries: a handful of queries, a small fraction of the rows.
    assert.ok(r.fetches <= 12, `fetches ${r.fetches}`);
    assert.ok(src.rows < 2000, `rows read ${src.rows}`);
  });

  it('shrinks store pages when common prefixes make most rows waste', async () => {
    // 1000 directories of 50 keys: big pages would read all 50,000 rows for 1000 entries.
    const keys: string[] = [];
    for (let d = 0; d < 1000; d++) for (let i = 0; i < 50; i++) keys.push(`d${String(d).padStart(4, '0')}/${i}`);
    const src = fakeSource(keys, '');
    const r = await collectEntries(src, '', { prefix: '', delimiter: '/', max: 1000 });
    assert.equal(r.entries.length, 1000);
    assert.equal(r.truncated, false);
    assert.ok(src.rows < 8000, `rows read ${src.rows}`);
  });

  it('does not lose rows on flat listings with a delimiter', async () => {
    const keys = Array.from({ length: 3000 }, (_, i) => `k${String(i).padStart(5, '0')}`);
    const src = fakeSource(keys, '');
    const r = await collectEntries(src, '', { prefix: '', delimiter: '/', max: 1000 });
    assert.equal(r.entries.length, 1000);
    assert.equal(r.truncated, true);
    assert.ok(r.fetches <= 2, `fetches ${r.fetches}`);
  });

  it('fills the page across store pages and reports truncation exactly', async () => {
    const keys = ['a/1', 'a/2', 'b', 'c/1', 'c/2', 'c/3', 'd'];
    for (let max = 1; max <= 6; max++) {
      const all = ['P:a/', 'K:b', 'P:c/', 'K:d'];
      const r = await collectEntries(fakeSource(keys, ''), '', { prefix: '', delimiter: '/', max });
      assert.deepEqual(names(r.entries), all.slice(0, max));
      assert.equal(r.truncated, max < all.length, `max ${max}`);
    }
  });

  it('max 0 reads nothing and is not truncated', async () => {
    const src = fakeSource(['a', 'b'], '');
    const r = await collectEntries(src, '', { prefix: '', delimiter: undefined, max: 0 });
    assert.deepEqual(r, { entries: [], truncated: false, fetches: 0 });
  });

  it('keys that continue past P + U+10FFFF are still rolled into P, once', async () => {
    const keys = ['a/1', 'a/\u{10FFFF}', 'a/\u{10FFFF}z', 'a/\u{10FFFF}\u{10FFFF}', 'a/\u{10FFFF}\u{10FFFF}q', 'b'];
    const r = await collectEntries(fakeSource(keys, ''), '', { prefix: '', delimiter: '/', max: 1000 });
    assert.deepEqual(names(r.entries), ['P:a/', 'K:b']);
    const resumed = await collectEntries(fakeSource(keys, ''), 'a/\u{10FFFF}', { prefix: '', delimiter: '/', max: 1000, resumedPrefix: 'a/' });
    assert.deepEqual(names(resumed.entries), ['K:b']);
  });
});

// ---- handlers against the SQLite store ------------------------------------------------------

describe('listing handlers (SQLite store)', () => {
  let meta: SqliteMetadataStore;
  let svc: Services;
  const flat = bucketRecord('flat-bucket');
  const uni = bucketRecord('unicode-bucket');
  const vb = bucketRecord('versioned-bucket', 'Enabled');
  const ub = bucketRecord('uploads-bucket');
  const empty = bucketRecord('empty-bucket');
  const bigKeys: string[] = [];
  const uniKeys = [
    'e', 'é', 'z', '\uff5a', '😀/x', '😀/y', '日本/a', '日本/b', 'ü/ä', 'a b', 'a+b', 'ctl\u0001x', 'tab\tkey', 'amp&lt<gt>',
    'x\u{10FFFF}', 'x\u{10FFFF}/a', 'ee/\u{10FFFF}', 'ee/\u{10FFFF}z', 'ee/1', 'ef',
  ];

  before(async () => {
    meta = SqliteMetadataStore.open(':memory:');
    svc = { meta, blobs: new MemoryBlobStore(), log: silent, clock: { now: () => new Date('2024-06-01T00:00:00.000Z') }, config: {}, keyring: {}, authorizer: new Authorizer(meta, 'us-east-1') } as never;
    await meta.createAccount(ACCOUNT);
    await meta.createAccount(OTHER);
    for (const b of [flat, uni, vb, ub, empty]) await meta.createBucket(b);

    // 2,500 keys: top-level files, 19 directories of 100, one with 5 sub-directories of 100,
    // some Unicode names so byte order matters across page boundaries.
    for (let i = 0; i < 100; i++) bigKeys.push(`top-${String(i).padStart(3, '0')}`);
    for (let d = 0; d < 19; d++) {
      const dir = d % 4 === 3 ? `répertoire-${d}` : `dir${String(d).padStart(2, '0')}`;
      for (let i = 0; i < 100; i++) bigKeys.push(`${dir}/file-${String(i).padStart(3, '0')}${i % 10 === 0 ? '-ü' : ''}`);
    }
    for (let s = 0; s < 5; s++) for (let i = 0; i < 100; i++) bigKeys.push(`dir00/sub${s}/x-${i}`);
    assert.equal(new Set(bigKeys).size, 2500);
    await Promise.all(bigKeys.map((k) => meta.insertVersion(version(flat.name, k), { replaceNullVersion: true })));
    await Promise.all(uniKeys.map((k) => meta.insertVersion(version(uni.name, k), { replaceNullVersion: true })));
  });

  after(async () => {
    await meta.close();
  });

  it('v2 without delimiter pages 2,500 keys as 1000/1000/500', async () => {
    const pages = await pagesV2(svc, flat, {});
    assert.deepEqual(pages.map((p) => p.entries.length), [1000, 1000, 500]);
    checkPages(pages, model(bigKeys, '', '', ''), 1000);
  });

  it('v2 with delimiter and prefixes matches the model across page boundaries', async () => {
    for (const [prefix, delimiter, max] of [
      ['', '/', 7], ['', '/', 1], ['dir00/', '/', 3], ['dir00/', '/', 1000], ['dir0', '/', 4], ['r', '/', 1],
      ['', '-', 5], ['top-0', '', 13], ['dir00/sub', '/', 2], ['', 'file', 9], ['nothing', '/', 10],
    ] as const) {
      const pages = await pagesV2(svc, flat, { prefix, delimiter, 'max-keys': String(max) });
      checkPages(pages, model(bigKeys, prefix, delimiter, ''), max);
    }
  });

  it('v2 start-after, including one inside a common prefix', async () => {
    for (const startAfter of ['dir05/file-050', 'dir05/', 'dir05', 'top-050', 'zzz', '']) {
      const pages = await pagesV2(svc, flat, { delimiter: '/', 'start-after': startAfter, 'max-keys': '6' });
      checkPages(pages, model(bigKeys, '', '/', startAfter), 6);
      if (startAfter !== '') assert.equal(textOf(pages[0]!.root, 'StartAfter'), startAfter);
    }
  });

  it('v1 with and without delimiter pages with marker / NextMarker like S3', async () => {
    checkPages(await pagesV1(svc, flat, { 'max-keys': '777' }), model(bigKeys, '', '', ''), 777);
    checkPages(await pagesV1(svc, flat, { delimiter: '/', 'max-keys': '5' }), model(bigKeys, '', '/', ''), 5);
    checkPages(await pagesV1(svc, flat, { prefix: 'dir00/', delimiter: '/', 'max-keys': '2' }), model(bigKeys, 'dir00/', '/', ''), 2);
  });

  it('v1 reproduces s3-tests test_bucket_list_delimiter_prefix', async () => {
    const b = bucketRecord('s3tests-delimiter-prefix');
    await meta.createBucket(b);
    for (const k of ['asdf', 'boo/bar', 'boo/baz/xyzzy', 'cquux/thud', 'cquux/bla']) await meta.insertVersion(version(b.name, k), { replaceNullVersion: true });
    const step = async (prefix: string, marker: string, max: number) => {
      const p = parseListBucket(bodyOf(await listObjects(ctxFor(b, { prefix, delimiter: '/', marker, 'max-keys': String(max) }), svc)));
      return [p.truncated, p.entries, textOf(p.root, 'NextMarker')];
    };
    assert.deepEqual(await step('', '', 1), [true, ['K:asdf'], 'asdf']);
    assert.deepEqual(await step('', 'asdf', 1), [true, ['P:boo/'], 'boo/']);
    assert.deepEqual(await step('', 'boo/', 1), [false, ['P:cquux/'], undefined]);
    assert.deepEqual(await step('', '', 2), [true, ['K:asdf', 'P:boo/'], 'boo/']);
    assert.deepEqual(await step('', 'boo/', 2), [false, ['P:cquux/'], undefined]);
    assert.deepEqual(await step('boo/', '', 1), [true, ['K:boo/bar'], 'boo/bar']);
    assert.deepEqual(await step('boo/', 'boo/bar', 1), [false, ['P:boo/baz/'], undefined]);
    assert.deepEqual(await step('boo/', '', 2), [false, ['K:boo/bar', 'P:boo/baz/'], undefined]);
  });

  it('lists Unicode keys in UTF-8 byte order, not UTF-16 order', async () => {
    const page = parseListBucket(bodyOf(await listObjectsV2(ctxFor(uni, { 'list-type': '2', 'encoding-type': 'url' }), svc)));
    const keys = listOf(page.root, 'Contents').map((c) => decodeURIComponent(textOf(c, 'Key')!));
    assert.deepEqual(keys, [...uniKeys].sort(compareUtf8));
    // U+FF5A sorts before U+1F600 in UTF-8 (EF.. < F0..) though after it in UTF-16.
    assert.ok(keys.indexOf('\uff5a') < keys.indexOf('😀/x'));
    for (const [delimiter, max] of [['/', 1], ['/', 2], ['本', 1], ['\u{10FFFF}', 1], ['😀', 3]] as const) {
      checkPages(await pagesV2(svc, uni, { delimiter, 'max-keys': String(max), 'encoding-type': 'url' }), model(uniKeys, '', delimiter, ''), max);
    }
    checkPages(await pagesV2(svc, uni, { prefix: 'ee/', delimiter: '\u{10FFFF}', 'max-keys': '1', 'encoding-type': 'url' }), model(uniKeys, 'ee/', '\u{10FFFF}', ''), 1);
  });

  it('P + U+10FFFF is not a strict bound, yet a group is listed once across pages', async () => {
    // The store does return keys after 'x' + U+10FFFF that still start with 'x' + U+10FFFF...
    const page = await meta.listLatest(uni.name, { prefix: '', after: 'ee/\u{10FFFF}', limit: 10 });
    assert.equal(page.items[0]?.key, 'ee/\u{10FFFF}z');
    // ...and the listing still reports 'ee/' exactly once, whatever the page size.
    for (const max of [1, 2, 3, 1000]) {
      checkPages(await pagesV2(svc, uni, { delimiter: '/', 'max-keys': String(max), 'encoding-type': 'url' }), model(uniKeys, '', '/', ''), max);
      checkPages(await pagesV1(svc, uni, { delimiter: '/', 'max-keys': String(max), 'encoding-type': 'url' }), model(uniKeys, '', '/', ''), max);
    }
  });

  it('max-keys=0 returns nothing and is not truncated; bad max-keys is InvalidArgument', async () => {
    for (const handler of [listObjects, listObjectsV2]) {
      const p = parseListBucket(bodyOf(await handler(ctxFor(flat, { 'max-keys': '0' }), svc)));
      assert.deepEqual(p.entries, []);
      assert.equal(p.truncated, false);
      assert.equal(textOf(p.root, 'MaxKeys'), '0');
      await rejects(handler(ctxFor(flat, { 'max-keys': '-1' }), svc), 'InvalidArgument', /between 0 and 2147483647/);
      await rejects(handler(ctxFor(flat, { 'max-keys': 'blah' }), svc), 'InvalidArgument');
    }
    const v2 = parseListBucket(bodyOf(await listObjectsV2(ctxFor(flat, { 'max-keys': '0' }), svc)));
    assert.equal(textOf(v2.root, 'KeyCount'), '0');
  });

  it('encoding-type=url encodes Key, Prefix, Delimiter, StartAfter, Marker, NextMarker and CommonPrefixes', async () => {
    const xml = bodyOf(await listObjectsV2(ctxFor(uni, { 'encoding-type': 'url', 'start-after': 'a ', delimiter: '/', prefix: '', 'max-keys': '1000' }), svc));
    const p = parseListBucket(xml);
    assert.equal(textOf(p.root, 'EncodingType'), 'url');
    assert.equal(textOf(p.root, 'StartAfter'), 'a%20');
    const keys = listOf(p.root, 'Contents').map((c) => textOf(c, 'Key')!);
    assert.ok(keys.includes('a%20b') && keys.includes('a%2Bb') && keys.includes('ctl%01x') && keys.includes('tab%09key'));
    assert.ok(keys.includes('amp%26lt%3Cgt%3E') && keys.includes('%C3%A9') && keys.includes('%EF%BD%9A'));
    assert.ok(!xml.includes('&#x1;'), 'control characters are encoded, not escaped');
    const cps = listOf(p.root, 'CommonPrefixes').map((c) => textOf(c, 'Prefix'));
    assert.deepEqual(cps, ['ee/', 'x%F4%8F%BF%BF/', '%C3%BC/', '%E6%97%A5%E6%9C%AC/', '%F0%9F%98%80/']);
    for (const k of keys) assert.ok(uniKeys.includes(decodeURIComponent(k)), k);

    const v1 = parseListBucket(bodyOf(await listObjects(ctxFor(uni, { 'encoding-type': 'url', prefix: '日本/', delimiter: '/', marker: '日本/ ', 'max-keys': '1' }), svc)));
    assert.equal(textOf(v1.root, 'Prefix'), '%E6%97%A5%E6%9C%AC/');
    assert.equal(textOf(v1.root, 'Marker'), '%E6%97%A5%E6%9C%AC/%20');
    assert.equal(textOf(v1.root, 'Delimiter'), '/');
    assert.equal(textOf(v1.root, 'NextMarker'), '%E6%97%A5%E6%9C%AC/a');
    assert.deepEqual(listOf(v1.root, 'Contents').map((c) => textOf(c, 'Key')), ['%E6%97%A5%E6%9C%AC/a']);

    const delim = parseListBucket(bodyOf(await listObjectsV2(ctxFor(uni, { 'encoding-type': 'url', delimiter: ' ' }), svc)));
    assert.equal(textOf(delim.root, 'Delimiter'), '%20');
    assert.deepEqual(listOf(delim.root, 'CommonPrefixes').map((c) => textOf(c, 'Prefix')), ['a%20']);

    await rejects(listObjectsV2(ctxFor(uni, { 'encoding-type': 'gzip' }), svc), 'InvalidArgument', /Encoding Method/);
    await rejects(listObjects(ctxFor(uni, { 'encoding-type': 'gzip' }), svc), 'InvalidArgument');
  });

  it('without encoding, control characters are escaped as XML character references', async () => {
    assert.match(bodyOf(await listObjectsV2(ctxFor(uni, { prefix: 'ctl' }), svc)), /<Key>ctl&#x1;x<\/Key>/);
    assert.match(bodyOf(await listObjectsV2(ctxFor(uni, { prefix: 'amp' }), svc)), /<Key>amp&amp;lt&lt;gt&gt;<\/Key>/);
  });

  it('Contents carry S3 fields; Owner always in v1, in v2 only with fetch-owner=true', async () => {
    const b = bucketRecord('fields-bucket');
    await meta.createBucket(b);
    await meta.insertVersion(version(b.name, 'plain'), { replaceNullVersion: true });
    await meta.insertVersion(version(b.name, 'summed', {
      checksum: { algorithm: 'CRC64NVME', type: 'FULL_OBJECT', value: 'AAAAAAAAAAA=' },
      meta: { user: {}, storageClass: 'STANDARD_IA' }, size: 42, lastModified: '2024-01-02T03:04:05Z',
    }), { replaceNullVersion: true });
    const v1xml = bodyOf(await listObjects(ctxFor(b, {}), svc));
    assert.match(v1xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<ListBucketResult xmlns="http:\/\/s3.amazonaws.com\/doc\/2006-03-01\/"><IsTruncated>false<\/IsTruncated><Marker><\/Marker><Contents>/);
    // Listings give whole seconds (….000Z), rounded up, as the Last-Modified header does.
    assert.match(v1xml, new RegExp('<Contents><Key>plain</Key><LastModified>2024-05-06T07:08:10.000Z</LastModified><ETag>&quot;0123456789abcdef0123456789abcdef&quot;</ETag>'
      + `<Size>5</Size><StorageClass>STANDARD</StorageClass><Owner><ID>${ACCOUNT.canonicalId}</ID><DisplayName>alice</DisplayName></Owner></Contents>`));
    assert.match(v1xml, /<Contents><Key>summed<\/Key><LastModified>2024-01-02T03:04:05.000Z<\/LastModified><ETag>[^<]+<\/ETag><ChecksumAlgorithm>CRC64NVME<\/ChecksumAlgorithm><ChecksumType>FULL_OBJECT<\/ChecksumType><Size>42<\/Size><StorageClass>STANDARD_IA<\/StorageClass><Owner>/);
    assert.match(v1xml, /<\/Contents><Name>fields-bucket<\/Name><Prefix><\/Prefix><MaxKeys>1000<\/MaxKeys><\/ListBucketResult>$/);
    assert.ok(!v1xml.includes('<Delimiter>') && !v1xml.includes('<NextMarker>') && !v1xml.includes('<EncodingType>'));

    const v2xml = bodyOf(await listObjectsV2(ctxFor(b, { 'list-type': '2' }), svc));
    assert.ok(!v2xml.includes('<Owner>'));
    assert.match(v2xml, /<\/Contents><Name>fields-bucket<\/Name><Prefix><\/Prefix><MaxKeys>1000<\/MaxKeys><KeyCount>2<\/KeyCount><\/ListBucketResult>$/);
    assert.ok(bodyOf(await listObjectsV2(ctxFor(b, { 'fetch-owner': 'true' }), svc)).includes(`<Owner><ID>${ACCOUNT.canonicalId}</ID>`));
    assert.ok(!bodyOf(await listObjectsV2(ctxFor(b, { 'fetch-owner': 'false' }), svc)).includes('<Owner>'));
  });

  it('v2 continuation tokens: echoed, empty means none, bad ones are InvalidArgument, they win over start-after', async () => {
    const b = bucketRecord('token-bucket');
    await meta.createBucket(b);
    for (const k of ['bar', 'baz', 'foo', 'quxx']) await meta.insertVersion(version(b.name, k), { replaceNullVersion: true });
    const first = parseListBucket(bodyOf(await listObjectsV2(ctxFor(b, { 'start-after': 'bar', 'max-keys': '1' }), svc)));
    assert.deepEqual(first.entries, ['K:baz']);
    const token = textOf(first.root, 'NextContinuationToken')!;
    const second = parseListBucket(bodyOf(await listObjectsV2(ctxFor(b, { 'start-after': 'bar', 'continuation-token': token }), svc)));
    assert.deepEqual(second.entries, ['K:foo', 'K:quxx']);
    assert.equal(textOf(second.root, 'ContinuationToken'), token);
    assert.equal(textOf(second.root, 'StartAfter'), 'bar');
    const emptyToken = parseListBucket(bodyOf(await listObjectsV2(ctxFor(b, { 'continuation-token': '' }), svc)));
    assert.deepEqual(emptyToken.entries, ['K:bar', 'K:baz', 'K:foo', 'K:quxx']);
    assert.equal(textOf(emptyToken.root, 'ContinuationToken'), '');
    await rejects(listObjectsV2(ctxFor(b, { 'continuation-token': 'not a token' }), svc), 'InvalidArgument', /continuation token provided is incorrect/);
  });

  it('an empty delimiter is ignored and not echoed', async () => {
    const p = parseListBucket(bodyOf(await listObjectsV2(ctxFor(flat, { delimiter: '', prefix: 'dir00/sub0/', 'max-keys': '1' }), svc)));
    assert.equal(textOf(p.root, 'Delimiter'), undefined);
    assert.deepEqual(p.entries, ['K:dir00/sub0/x-0']);
  });

  it('an empty bucket lists nothing', async () => {
    for (const handler of [listObjects, listObjectsV2]) {
      const p = parseListBucket(bodyOf(await handler(ctxFor(empty, { delimiter: '/' }), svc)));
      assert.deepEqual(p.entries, []);
      assert.equal(p.truncated, false);
    }
  });

  // ---- versions ----

  interface Row { tag: string; key: string; versionId: string; isLatest: string }

  function parseVersions(xml: string): { rows: Row[]; prefixes: string[]; root: Record<string, unknown> } {
    const root = parseXml(xml, 'ListVersionsResult', ['ListVersionsResult.Version', 'ListVersionsResult.DeleteMarker', 'ListVersionsResult.CommonPrefixes']);
    // fast-xml-parser groups by name; the interleaved order is read from the raw XML.
    const rows: Row[] = [];
    for (const m of xml.matchAll(/<(Version|DeleteMarker)><Key>([^<]*)<\/Key><VersionId>([^<]*)<\/VersionId><IsLatest>(true|false)<\/IsLatest>/g)) {
      rows.push({ tag: m[1]!, key: m[2]!, versionId: m[3]!, isLatest: m[4]! });
    }
    assert.equal(rows.length, listOf(root, 'Version').length + listOf(root, 'DeleteMarker').length);
    return { rows, prefixes: listOf(root, 'CommonPrefixes').map((c) => textOf(c, 'Prefix')!), root };
  }

  /** Inserts versions oldest first; returns the expected listing (key order, newest first). */
  async function seedVersions(): Promise<Row[]> {
    const plan: [string, 'V' | 'D'][] = [
      ['a', 'V'], ['a', 'V'], ['a', 'V'],
      ['b', 'V'], ['b', 'D'],
      ['c/1', 'V'],
      ['c/2', 'V'], ['c/2', 'D'], ['c/2', 'V'],
      ['c/3', 'D'],
      ['d', 'V'], ['d', 'V'],
    ];
    const byKey = new Map<string, Row[]>();
    for (const [key, kind] of plan) {
      const id = vid();
      await meta.insertVersion(version(vb.name, key, { versionId: id, isDeleteMarker: kind === 'D', size: kind === 'D' ? 0 : 3, etag: kind === 'D' ? '' : '"e"' }), { replaceNullVersion: false });
      const rows = byKey.get(key) ?? [];
      for (const r of rows) r.isLatest = 'false';
      rows.unshift({ tag: kind === 'D' ? 'DeleteMarker' : 'Version', key, versionId: id, isLatest: 'true' });
      byKey.set(key, rows);
    }
    return [...byKey.keys()].sort(compareUtf8).flatMap((k) => byKey.get(k)!);
  }

  let expectedVersions: Row[] = [];

  it('lists versions and delete markers interleaved in key order, newest first', async () => {
    expectedVersions = await seedVersions();
    const xml = bodyOf(await listObjectVersions(ctxFor(vb, {}), svc));
    const { rows, root } = parseVersions(xml);
    assert.deepEqual(rows, expectedVersions);
    assert.equal(textOf(root, 'IsTruncated'), 'false');
    assert.equal(textOf(root, 'NextKeyMarker'), undefined);
    assert.match(xml, /<ListVersionsResult xmlns="[^"]+"><IsTruncated>false<\/IsTruncated><KeyMarker><\/KeyMarker><VersionIdMarker><\/VersionIdMarker><Version>/);
    assert.match(xml, /<DeleteMarker><Key>b<\/Key><VersionId>[^<]+<\/VersionId><IsLatest>true<\/IsLatest><LastModified>2024-05-06T07:08:10.000Z<\/LastModified><Owner><ID>a{64}<\/ID><DisplayName>alice<\/DisplayName><\/Owner><\/DeleteMarker>/);
    assert.match(xml, /<Version><Key>a<\/Key><VersionId>[^<]+<\/VersionId><IsLatest>true<\/IsLatest><LastModified>[^<]+<\/LastModified><ETag>&quot;e&quot;<\/ETag><Size>3<\/Size><StorageClass>STANDARD<\/StorageClass><Owner>/);
    assert.match(xml, /<Name>versioned-bucket<\/Name><Prefix><\/Prefix><MaxKeys>1000<\/MaxKeys><\/ListVersionsResult>$/);
  });

  it('pages versions with key-marker / version-id-marker across keys', async () => {
    for (const max of [1, 2, 3, 5]) {
      const got: Row[] = [];
      let q: Record<string, string> = { 'max-keys': String(max) };
      for (let i = 0; i < 100; i++) {
        const { rows, root } = parseVersions(bodyOf(await listObjectVersions(ctxFor(vb, q), svc)));
        got.push(...rows);
        if (textOf(root, 'IsTruncated') !== 'true') break;
        assert.equal(rows.length, max);
        const last = rows[rows.length - 1]!;
        assert.equal(textOf(root, 'NextKeyMarker'), last.key);
        assert.equal(textOf(root, 'NextVersionIdMarker'), last.versionId);
        q = { 'max-keys': String(max), 'key-marker': last.key, 'version-id-marker': last.versionId };
      }
      assert.deepEqual(got, expectedVersions, `max-keys ${max}`);
    }
  });

  it('key-marker alone resumes after every version of that key', async () => {
    const { rows } = parseVersions(bodyOf(await listObjectVersions(ctxFor(vb, { 'key-marker': 'b' }), svc)));
    assert.deepEqual(rows, expectedVersions.filter((r) => compareUtf8(r.key, 'b') > 0));
  });

  it('groups versions under common prefixes and resumes after them', async () => {
    const all = parseVersions(bodyOf(await listObjectVersions(ctxFor(vb, { delimiter: '/' }), svc)));
    assert.deepEqual(all.prefixes, ['c/']);
    assert.deepEqual(all.rows, expectedVersions.filter((r) => !r.key.startsWith('c/')));
    // max-keys=4: a×3, b's marker... paging one entry at a time crosses the prefix once.
    const seen: string[] = [];
    let q: Record<string, string> = { delimiter: '/', 'max-keys': '1' };
    for (let i = 0; i < 100; i++) {
      const page = parseVersions(bodyOf(await listObjectVersions(ctxFor(vb, q), svc)));
      seen.push(...page.rows.map((r) => `${r.key}@${r.versionId}`), ...page.prefixes.map((p) => `P:${p}`));
      if (textOf(page.root, 'IsTruncated') !== 'true') break;
      const nextKey = textOf(page.root, 'NextKeyMarker')!;
      const nextVersion = textOf(page.root, 'NextVersionIdMarker');
      if (page.prefixes.length) assert.equal(nextVersion, undefined);
      q = { delimiter: '/', 'max-keys': '1', 'key-marker': nextKey, ...(nextVersion ? { 'version-id-marker': nextVersion } : {}) };
    }
    const expected = expectedVersions.filter((r) => compareUtf8(r.key, 'c/') < 0).map((r) => `${r.key}@${r.versionId}`)
      .concat('P:c/', expectedVersions.filter((r) => r.key === 'd').map((r) => `${r.key}@${r.versionId}`));
    assert.deepEqual(seen, expected);
    const inside = parseVersions(bodyOf(await listObjectVersions(ctxFor(vb, { delimiter: '/', 'key-marker': 'c/2' }), svc)));
    assert.deepEqual(inside.prefixes, [], 'a common prefix not after key-marker is filtered out');
    const prefixed = parseVersions(bodyOf(await listObjectVersions(ctxFor(vb, { prefix: 'c/', 'max-keys': '2' }), svc)));
    assert.deepEqual(prefixed.rows, expectedVersions.filter((r) => r.key.startsWith('c/')).slice(0, 2));
  });

  it('version-id-marker errors and a vanished marker version', async () => {
    await rejects(listObjectVersions(ctxFor(vb, { 'version-id-marker': expectedVersions[0]!.versionId }), svc), 'InvalidArgument', /without a key marker/);
    await rejects(listObjectVersions(ctxFor(vb, { 'key-marker': 'a', 'version-id-marker': 'bad' }), svc), 'InvalidArgument', /Invalid version id/);
    await rejects(listObjectVersions(ctxFor(vb, { 'max-keys': '-5' }), svc), 'InvalidArgument');
    // A well-formed id that is not (or no longer) there: the key's versions are listed again from its newest.
    const { rows } = parseVersions(bodyOf(await listObjectVersions(ctxFor(vb, { 'key-marker': 'a', 'version-id-marker': 'x'.repeat(32), 'max-keys': '2' }), svc)));
    assert.deepEqual(rows, expectedVersions.slice(0, 2));
    const zero = parseVersions(bodyOf(await listObjectVersions(ctxFor(vb, { 'max-keys': '0' }), svc)));
    assert.deepEqual(zero.rows, []);
    assert.equal(textOf(zero.root, 'IsTruncated'), 'false');
  });

  it('encoding-type=url in ListObjectVersions encodes KeyMarker, NextKeyMarker, Prefix, Key', async () => {
    const b = bucketRecord('versions-encoded', 'Enabled');
    await meta.createBucket(b);
    for (const k of ['ä b', 'ä c', 'ä d']) await meta.insertVersion(version(b.name, k, { versionId: vid() }), { replaceNullVersion: false });
    const xml = bodyOf(await listObjectVersions(ctxFor(b, { 'encoding-type': 'url', prefix: 'ä', 'key-marker': 'ä b', 'max-keys': '1' }), svc));
    const { rows, root } = parseVersions(xml);
    assert.deepEqual(rows.map((r) => r.key), ['%C3%A4%20c']);
    assert.equal(textOf(root, 'KeyMarker'), '%C3%A4%20b');
    assert.equal(textOf(root, 'NextKeyMarker'), '%C3%A4%20c');
    assert.equal(textOf(root, 'Prefix'), '%C3%A4');
    assert.equal(textOf(root, 'EncodingType'), 'url');
  });

  // ---- multipart uploads ----

  function upload(key: string, uploadId: string, initiated: string, over: Partial<UploadRecord> = {}): UploadRecord {
    return {
      uploadId, bucket: ub.name, key, initiated, ownerAccountId: ACCOUNT.id, meta: { user: {} }, tags: {},
      checksumAlgorithm: null, checksumType: null, ...over,
    };
  }

  it('lists uploads by key then initiation, with delimiter, and pages with the markers', async () => {
    const seed = [
      upload('a', 'upload-a-2', '2024-01-02T00:00:00.000Z'),
      upload('a', 'upload-a-1', '2024-01-01T00:00:00.000Z', { checksumAlgorithm: 'CRC32', checksumType: 'COMPOSITE' }),
      upload('b b', 'upload-b', '2024-01-01T00:00:00.000Z', { ownerAccountId: OTHER.id, meta: { user: {}, storageClass: 'GLACIER_IR' } }),
      upload('p/x', 'upload-px', '2024-01-01T00:00:00.000Z'),
      upload('p/y', 'upload-py', '2024-01-01T00:00:00.000Z'),
      upload('z', 'upload-z', '2024-01-01T00:00:00.000Z'),
    ];
    for (const u of seed) await meta.createUpload(u);
    const parse = (xml: string) => {
      const root = parseXml(xml, 'ListMultipartUploadsResult', ['ListMultipartUploadsResult.Upload', 'ListMultipartUploadsResult.CommonPrefixes']);
      return {
        root,
        ids: listOf(root, 'Upload').map((u) => textOf(u, 'UploadId')!),
        prefixes: listOf(root, 'CommonPrefixes').map((c) => textOf(c, 'Prefix')!),
      };
    };
    const allXml = bodyOf(await listMultipartUploads(ctxFor(ub, {}), svc));
    const all = parse(allXml);
    assert.deepEqual(all.ids, ['upload-a-1', 'upload-a-2', 'upload-b', 'upload-px', 'upload-py', 'upload-z']);
    assert.match(allXml, /<ListMultipartUploadsResult xmlns="[^"]+"><Bucket>uploads-bucket<\/Bucket><KeyMarker><\/KeyMarker><UploadIdMarker><\/UploadIdMarker><NextKeyMarker>z<\/NextKeyMarker><Prefix><\/Prefix><NextUploadIdMarker>upload-z<\/NextUploadIdMarker><MaxUploads>1000<\/MaxUploads><IsTruncated>false<\/IsTruncated><Upload>/);
    assert.match(allXml, new RegExp(`<Upload><Key>a</Key><UploadId>upload-a-1</UploadId><Initiator><ID>${ACCOUNT.canonicalId}</ID><DisplayName>alice</DisplayName></Initiator>`
      + `<Owner><ID>${ACCOUNT.canonicalId}</ID><DisplayName>alice</DisplayName></Owner><StorageClass>STANDARD</StorageClass>`
      + '<Initiated>2024-01-01T00:00:00.000Z</Initiated><ChecksumAlgorithm>CRC32</ChecksumAlgorithm><ChecksumType>COMPOSITE</ChecksumType></Upload>'));
    // Owner is the account the object will belong to (bob wrote it into an ObjectWriter-style upload), not the bucket owner.
    assert.match(allXml, new RegExp(`<Key>b b</Key><UploadId>upload-b</UploadId><Initiator><ID>${OTHER.canonicalId}</ID><DisplayName>bob</DisplayName></Initiator><Owner><ID>${OTHER.canonicalId}</ID>.*?<StorageClass>GLACIER_IR</StorageClass>`));

    const grouped = parse(bodyOf(await listMultipartUploads(ctxFor(ub, { delimiter: '/' }), svc)));
    assert.deepEqual(grouped.ids, ['upload-a-1', 'upload-a-2', 'upload-b', 'upload-z']);
    assert.deepEqual(grouped.prefixes, ['p/']);

    for (const delimiter of ['', '/']) {
      const seen: string[] = [];
      let q: Record<string, string> = { 'max-uploads': '1', delimiter };
      for (let i = 0; i < 20; i++) {
        const page = parse(bodyOf(await listMultipartUploads(ctxFor(ub, q), svc)));
        seen.push(...page.ids, ...page.prefixes.map((p) => `P:${p}`));
        if (textOf(page.root, 'IsTruncated') !== 'true') break;
        q = { 'max-uploads': '1', delimiter, 'key-marker': textOf(page.root, 'NextKeyMarker')!, 'upload-id-marker': textOf(page.root, 'NextUploadIdMarker') ?? '' };
      }
      assert.deepEqual(seen, delimiter ? ['upload-a-1', 'upload-a-2', 'upload-b', 'P:p/', 'upload-z'] : all.ids);
    }

    const encoded = parse(bodyOf(await listMultipartUploads(ctxFor(ub, { 'encoding-type': 'url', prefix: 'b ' }), svc)));
    assert.deepEqual(listOf(encoded.root, 'Upload').map((u) => textOf(u, 'Key')), ['b%20b']);
    assert.equal(textOf(encoded.root, 'Prefix'), 'b%20');
    // upload-id-marker without key-marker is ignored, as S3 documents.
    assert.deepEqual(parse(bodyOf(await listMultipartUploads(ctxFor(ub, { 'upload-id-marker': 'upload-a-1' }), svc))).ids, all.ids);
    assert.deepEqual(parse(bodyOf(await listMultipartUploads(ctxFor(ub, { 'key-marker': 'a' }), svc))).ids, all.ids.slice(2));
    const zero = parse(bodyOf(await listMultipartUploads(ctxFor(ub, { 'max-uploads': '0' }), svc)));
    assert.deepEqual(zero.ids, []);
    assert.equal(textOf(zero.root, 'IsTruncated'), 'false');
    await rejects(listMultipartUploads(ctxFor(ub, { 'max-uploads': '-1' }), svc), 'InvalidArgument');
  });
});
