/**
 * Test harness for the IAM service: a real SQLite metadata store in a temporary
 * directory, an account with its root, a settable clock, and helpers that send
 * form-encoded Query requests through IamService.handle and parse the XML answer.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import type { SignedPrincipal } from '../../auth/principal.js';
import { Keyring } from '../../crypto/keyring.js';
import { SqliteMetadataStore } from '../../storage/sqlite/metadata-store.js';
import { decodeQuery } from '../api/query.js';
import { IamError, type IamErrorCode } from '../api/xml.js';
import { IamService } from './iam-service.js';

export const ACCOUNT = '111122223333';
export const OTHER_ACCOUNT = '444455556666';

export type Xml = Record<string, unknown>;

const parser = new XMLParser({ parseTagValue: false, ignoreAttributes: true, isArray: (name) => name === 'member' || name === 'entry' });

/** The items of a `<List><member>…</member></List>` element (an empty `<List/>` → []). */
export function members<T = Xml>(v: unknown): T[] {
  if (v === undefined || v === '') return [];
  return (v as { member: T[] }).member;
}

export interface Harness {
  meta: SqliteMetadataStore;
  keyring: Keyring;
  service: IamService;
  root: SignedPrincipal;
  /** Milliseconds since the epoch the service's clock reports. */
  now: number;
  changes: string[];
  /** Sends the action and returns its parsed `{Action}Result` ('' when the Result is empty, undefined when absent). */
  call(action: string, params?: Record<string, string>, caller?: SignedPrincipal): Promise<Xml>;
  /** Sends the action, expects an IamError with `code` (and `message` when given), returns it. */
  fail(action: string, params: Record<string, string>, code: IamErrorCode, message?: string | RegExp, caller?: SignedPrincipal): Promise<IamError>;
  userPrincipal(name: string, path?: string): SignedPrincipal;
  close(): Promise<void>;
}

export async function harness(): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'kura-iamsvc-'));
  const meta = SqliteMetadataStore.open(join(dir, 'meta.db'));
  const canonicalId = 'c'.repeat(64);
  await meta.createAccount({ id: ACCOUNT, name: 'acme', canonicalId, email: null, createdAt: '2024-01-02T03:04:05.000Z' });
  await meta.createAccount({ id: OTHER_ACCOUNT, name: 'other', canonicalId: 'd'.repeat(64), email: null, createdAt: '2024-01-02T03:04:05.000Z' });
  const keyring = Keyring.fromKeys([{ id: 'k1', key: randomBytes(32) }], 'k1');
  const h: Harness = {
    meta,
    keyring,
    service: undefined as unknown as IamService,
    root: { kind: 'account-root', accountId: ACCOUNT, canonicalId, accessKeyId: 'AKIAROOTROOTROOTROOT' },
    now: Date.parse('2025-06-01T12:00:00Z'),
    changes: [],
    async call(action, params = {}, caller = h.root) {
      const body = new URLSearchParams({ Action: action, Version: '2010-05-08', ...params }).toString();
      const xml = await h.service.handle({ accountId: ACCOUNT, caller, requestId: 'req-1', query: decodeQuery(body) });
      const doc = parser.parse(xml) as Record<string, Record<string, unknown>>;
      const response = doc[`${action}Response`];
      assert.ok(response, `no ${action}Response in ${xml}`);
      return response[`${action}Result`] as Xml;
    },
    async fail(action, params, code, message, caller = h.root) {
      let caught: unknown;
      try {
        await h.call(action, params, caller);
      } catch (e) {
        caught = e;
      }
      assert.ok(caught instanceof IamError, `${action} should fail with ${code}, got ${String(caught)}`);
      assert.equal(caught.code, code, caught.message);
      if (typeof message === 'string') assert.equal(caught.message, message);
      else if (message) assert.match(caught.message, message);
      return caught;
    },
    userPrincipal(name, path = '/') {
      return { kind: 'iam-user', accountId: ACCOUNT, canonicalId, accessKeyId: 'AKIAUSERUSERUSERUSER', userName: name, userId: 'AIDAEXAMPLE', path };
    },
    async close() {
      await meta.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  h.service = new IamService({ meta, keyring, clock: { now: () => new Date(h.now) }, onChange: (a) => h.changes.push(a) });
  return h;
}

export const policyDoc = (statement: unknown): string => JSON.stringify({ Version: '2012-10-17', Statement: statement });

export const S3_READ = policyDoc([{ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: '*' }]);

export const trustFor = (principal: unknown): string => policyDoc([{ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole' }]);
