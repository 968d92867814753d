/**
 * Test support (not a test file): drives S3 handlers directly against a real in-memory
 * SQLite metadata store, a memory blob store and a real keyring, with a hand-built
 * AuthorizedRequest. Shared by the handler unit tests.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Authorizer } from '../authz/authorizer.js';
import type { Config } from '../config/config.js';
import { Keyring } from '../crypto/keyring.js';
import { S3Error } from '../errors/s3-errors.js';
import type { S3Request, S3Result } from '../http/request.js';
import type { Operation, OperationKind } from '../operations/operations.js';
import { requiredChecks } from '../authz/actions.js';
import { MemoryBlobStore } from '../storage/memory/blob-store.js';
import type { ObjectVersion } from '../storage/ports.js';
import type { VersioningState } from '../storage/ports.js';
import { SqliteMetadataStore } from '../storage/sqlite/metadata-store.js';
import type { AuthorizedRequest, Handler, Services } from './context.js';

export const ACCOUNT = '111122223333';
export const CANONICAL = 'c'.repeat(64);
export const MiB = 1024 * 1024;

export interface Env {
  svc: Services;
  blobs: MemoryBlobStore;
}

export async function setup(versioning: VersioningState = 'Unversioned', maxObjectSize = 5 * 1024 ** 3): Promise<Env> {
  const meta = SqliteMetadataStore.open(':memory:');
  const now = new Date().toISOString();
  await meta.createAccount({ id: ACCOUNT, name: 'alice', canonicalId: CANONICAL, email: null, createdAt: now });
  await meta.createBucket({ name: 'bkt', accountId: ACCOUNT, region: 'us-east-1', createdAt: now, versioning: 'Unversioned' }, { ownership: 'BucketOwnerEnforced' });
  await meta.createBucket({ name: 'src', accountId: ACCOUNT, region: 'us-east-1', createdAt: now, versioning: 'Unversioned' }, { ownership: 'BucketOwnerEnforced' });
  if (versioning !== 'Unversioned') await meta.setVersioning('bkt', versioning);
  const blobs = new MemoryBlobStore();
  const noop = (): void => undefined;
  const svc: Services = {
    config: { maxObjectSize, region: 'us-east-1' } as Config,
    meta,
    blobs,
    keyring: Keyring.fromKeys([{ id: 'k1', key: randomBytes(32) }], 'k1'),
    clock: { now: () => new Date() },
    log: { debug: noop, info: noop, warn: noop, error: noop },
    credentials: {} as Services['credentials'],
    authorizer: new Authorizer(meta, 'us-east-1'),
  };
  return { svc, blobs };
}

export interface CallOpts {
  bucket?: string;
  key?: string;
  method?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Leave contentLength undefined (as a request without Content-Length). */
  noLength?: boolean;
  /** The per-request memo of versions authorization read (AuthorizedRequest.versions). */
  versions?: Map<string, ObjectVersion | undefined>;
  /** Only these checks in the decision's trace (default: every check of the operation). */
  allowedActions?: readonly string[];
}

export async function call<K extends OperationKind>(env: Env, kind: K, handler: Handler<K>, o: CallOpts = {}): Promise<S3Result> {
  const bucketName = o.bucket ?? 'bkt';
  const key = o.key ?? 'obj';
  const body = o.body === undefined ? undefined : Buffer.from(o.body);
  const query = new Map(Object.entries(o.query ?? {}));
  const headers: Record<string, string> = { host: 'localhost:9000', ...o.headers };
  const req = {
    requestId: 'REQ', hostId: 'HOST', method: o.method ?? 'PUT',
    rawPath: `/${bucketName}/${encodeURIComponent(key)}`, rawQuery: '', query, headers,
    body: Readable.from([]), clientIp: '127.0.0.1', tls: null, receivedAt: new Date(),
  };
  const ctx = {
    req,
    op: { kind, level: 'object', bucket: bucketName, key },
    principal: { kind: 'account-root', accountId: ACCOUNT, canonicalId: CANONICAL, accessKeyId: 'AKIAEXAMPLE' },
    auth: {},
    // As the pipeline's decision would read: every check of the operation allowed.
    decision: {
      effect: 'Allow', aclRequired: false,
      trace: requiredChecks({ kind, level: 'object', bucket: bucketName, key } as Operation, req as unknown as S3Request)
        .filter((c) => o.allowedActions === undefined || o.allowedActions.includes(c.action))
        .map((c) => ({ layer: 'ownership', check: `${c.action} on ${c.resource}`, effect: 'Allow', reason: 'handler test' })),
    },
    bucket: await env.svc.meta.getBucket(bucketName),
    body: () => Readable.from(body ? [body] : []),
    trailers: () => new Map<string, string>(),
    contentLength: o.noLength ? undefined : (body?.length ?? 0),
    ...(o.versions ? { versions: o.versions } : {}),
  } as unknown as AuthorizedRequest<K>;
  return handler(ctx, env.svc);
}

export async function rejects(p: Promise<unknown>, code: string, message?: RegExp): Promise<S3Error> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof S3Error, `expected S3Error ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail(`expected ${code}`);
}

export function xmlText(r: S3Result, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(String(r.body));
  return m?.[1]?.replace(/&quot;/g, '"');
}

export async function collect(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export const md5hex = (b: Buffer): string => createHash('md5').update(b).digest('hex');

export function xmlAll(r: S3Result, tag: string): string[] {
  return [...String(r.body).matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, 'g'))].map((m) => m[1]!.replace(/&quot;/g, '"'));
}

/** Stored pieces in either tier: blob files plus referenced (inline or file) pieces, counted once (after discardBlobs' fire-and-forget deletes ran). */
export async function blobCount(env: Env): Promise<number> {
  await new Promise((r) => setImmediate(r));
  const ids = new Set<string>();
  for await (const b of env.blobs.list()) ids.add(b.blobId);
  for await (const id of env.svc.meta.referencedBlobIds()) ids.add(id);
  return ids.size;
}
