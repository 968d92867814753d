/**
 * The encryption-mode scenarios (spawned Kura only): SSE-KMS with per-request headers,
 * SSE-KMS with an S3 Bucket Key (bucket default), and SSE-C, next to the SSE-S3 scenarios
 * of the same run; the KMS data-key operations 1,000 PUTs cost with and without Bucket Keys,
 * counted in Kura's audit log; interleaved A/B rounds of SSE-KMS + Bucket Key against SSE-S3.
 * See bench/README.md ("Encryption modes").
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { runPhase, warmUpGets, type PhaseResult, type PhaseSpec } from './load.js';
import { expectOk, HttpError, kmsCall, LeanS3, sha256Hex, type Response, type Target } from './sigv4.js';

export interface SseBody {
  data: Buffer;
  sha256: string;
}

export interface SseConfig {
  small: { size: number; concurrency: number; requests: number; seconds: number; minSeconds: number; warmup: number; warmupGetSeconds: number };
  large: { size: number; concurrency: number; seconds: number; minSeconds: number };
  /** 64 MiB objects per encrypted PUT scenario. */
  largeObjects: number;
  /** PUTs per KMS count (exactly this many; every one must succeed). */
  countPuts: number;
  abRounds: number;
  abSeconds: number;
}

export interface SseEnv {
  label: string;
  target: Target;
  /** The run's SSE-S3 bucket (the existing scenarios' objects `small/<i>`). */
  bucket: string;
  /** Indices of `small/<i>` objects the SSE-S3 PUT 4 KiB scenario wrote. */
  sseS3SmallKeys: number[];
  /** Kura's `<data-dir>/audit/audit.log`. */
  auditLog: string;
  cfg: SseConfig;
  small: SseBody[];
  large: SseBody[];
  phase: (spec: Omit<PhaseSpec, 'op' | 'target' | 'serverPid'>, makeOp: (c: LeanS3) => (i: number) => Promise<number>) => Promise<PhaseResult>;
  log: (s?: string) => void;
  problem: (s: string) => void;
}

export interface KmsCount {
  puts: number;
  concurrency: number;
  /** Audit lines with operation exactly 'GenerateDataKey' and a viaRequestId. */
  withoutBucketKeys: number;
  withBucketKeys: number;
  /** withoutBucketKeys ÷ withBucketKeys (undefined when the latter is 0). */
  ratio: number | undefined;
  /** Bucket-key PUTs served from the cache: audit lines 'GenerateDataKey (S3 Bucket Key, cached)'. */
  bucketKeyCachedAuthorizations: number;
  /** Successful PUTs in each run (must equal `puts`). */
  okWithout: number;
  okWith: number;
}

export interface AbResult {
  /** Per round: SSE-KMS + Bucket Key ops/s ÷ SSE-S3 ops/s. */
  rounds: number[];
  median: number;
}

export interface SseSummary {
  keyArn: string;
  buckets: { kms: string; bucketKey: string; sseC: string };
  kmsCount?: KmsCount;
  abPut?: AbResult;
  abGet?: AbResult;
}

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** The three SSE-C request headers for a 32-byte key (all x-amz-*, so the client signs them). */
export function sseCHeaders(key: Buffer): Record<string, string> {
  return {
    'x-amz-server-side-encryption-customer-algorithm': 'AES256',
    'x-amz-server-side-encryption-customer-key': key.toString('base64'),
    'x-amz-server-side-encryption-customer-key-md5': createHash('md5').update(key).digest('base64'),
  };
}

interface AuditCount {
  generateDataKey: number;
  cached: number;
}

/** Counts the KMS data-key operations made for S3 in the audit log from byte `offset` on. */
function countAudit(path: string, offset: number): AuditCount {
  const out: AuditCount = { generateDataKey: 0, cached: 0 };
  if (!existsSync(path)) return out;
  const text = readFileSync(path).subarray(offset).toString('utf8');
  for (const line of text.split('\n')) {
    if (!line) continue;
    const e = JSON.parse(line) as { operation?: unknown; viaRequestId?: unknown };
    if (typeof e.viaRequestId !== 'string' || e.viaRequestId === '') continue;
    if (e.operation === 'GenerateDataKey') out.generateDataKey++;
    else if (e.operation === 'GenerateDataKey (S3 Bucket Key, cached)') out.cached++;
  }
  return out;
}

function auditSize(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function shortBody(got: number, want: number): HttpError {
  return new HttpError('GET wrong body length', `GET: got ${got} bytes, expected ${want}`);
}

export async function sseScenarios(env: SseEnv): Promise<SseSummary> {
  const { target, log, problem, cfg, small, large } = env;
  const S = cfg.small;
  const L = cfg.large;
  const phase = env.phase;

  // ---- setup: a KMS key, three buckets, two bucket encryption configurations ----
  const created = await kmsCall(target, 'CreateKey', {});
  const keyArn = (created.KeyMetadata as { Arn?: unknown } | undefined)?.Arn;
  if (typeof keyArn !== 'string') throw new Error(`KMS CreateKey answered without KeyMetadata.Arn: ${JSON.stringify(created).slice(0, 200)}`);
  const buckets = { kms: `${env.bucket}-kms`, bucketKey: `${env.bucket}-kms-bk`, sseC: `${env.bucket}-ssec` };
  const admin = new LeanS3(target, 1);
  try {
    for (const b of Object.values(buckets)) expectOk('PUT bucket', await admin.request({ method: 'PUT', bucket: b }));
    const putEncryption = async (bucket: string, rule: string): Promise<void> => {
      const doc = Buffer.from(`<ServerSideEncryptionConfiguration xmlns="${XMLNS}"><Rule>${rule}</Rule></ServerSideEncryptionConfiguration>`);
      const md5 = createHash('md5').update(doc).digest('base64');
      expectOk('PutBucketEncryption', await admin.request({ method: 'PUT', bucket, query: { encryption: '' }, body: doc, payloadHash: sha256Hex(doc), headers: { 'content-md5': md5 } }));
    };
    await putEncryption(buckets.bucketKey, `<ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>${keyArn}</KMSMasterKeyID></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled>`);
    await putEncryption(buckets.sseC, '<ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BlockedEncryptionTypes><EncryptionType>NONE</EncryptionType></BlockedEncryptionTypes>');
  } finally {
    admin.close();
  }
  log(`  ${env.label} KMS key ${keyArn}; buckets ${buckets.kms} (SSE-S3 default, SSE-KMS by request headers), ${buckets.bucketKey} (default aws:kms + Bucket Key), ${buckets.sseC} (SSE-C unblocked)`);

  const kmsHeaders = { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': keyArn };
  const customerKey = randomBytes(32);
  const cHeaders = sseCHeaders(customerKey);
  const summary: SseSummary = { keyArn, buckets };

  // ---- KMS data-key operations for exactly N PUTs, on a cold Bucket Key cache ----
  // First thing after setup: nothing has used the Bucket Key bucket yet, so its count
  // includes the cache misses a fresh bucket (or an expired bucket key) costs.
  {
    const n = cfg.countPuts;
    const count = async (name: string, bucket: string, headers: Record<string, string> | undefined): Promise<{ ops: AuditCount; ok: number }> => {
      const before = auditSize(env.auditLog);
      const r = await phase({ name, concurrency: S.concurrency, maxRequests: n, maxSeconds: 600 }, (c) => async (i) => {
        const b = small[i % small.length]!;
        expectOk('PUT', await c.request({ method: 'PUT', bucket, key: `kms-count/${i}`, body: b.data, payloadHash: b.sha256, ...(headers ? { headers } : {}) }));
        return b.data.length;
      });
      if (r.ok !== n) problem(`${env.label} ${name}: ${r.ok} of ${n} PUTs succeeded, so the KMS count is not for ${n} PUTs`);
      return { ops: countAudit(env.auditLog, before), ok: r.ok };
    };
    const without = await count(`KMS count: ${n} PUT SSE-KMS`, buckets.kms, kmsHeaders);
    const withBk = await count(`KMS count: ${n} PUT SSE-KMS + BK`, buckets.bucketKey, undefined);
    const k: KmsCount = {
      puts: n, concurrency: S.concurrency,
      withoutBucketKeys: without.ops.generateDataKey, withBucketKeys: withBk.ops.generateDataKey,
      ratio: withBk.ops.generateDataKey > 0 ? without.ops.generateDataKey / withBk.ops.generateDataKey : undefined,
      bucketKeyCachedAuthorizations: withBk.ops.cached, okWithout: without.ok, okWith: withBk.ok,
    };
    summary.kmsCount = k;
    log(`  ${env.label} KMS data-key operations for ${n.toLocaleString('en-US')} PUTs: without Bucket Keys ${k.withoutBucketKeys}, with Bucket Keys ${k.withBucketKeys} (+ ${k.bucketKeyCachedAuthorizations} cached-key authorizations), ratio ${k.ratio === undefined ? '-' : `${k.ratio.toFixed(1)}×`}`);
  }

  // SSE-C has not run yet: the same untimed warm-up as the SSE-S3 scenarios get.
  {
    const c = new LeanS3(target, S.concurrency);
    const w = await runPhase({
      name: 'warm-up', target: env.label, concurrency: S.concurrency, maxRequests: S.warmup, maxSeconds: 10,
      op: async (i) => {
        const b = small[i % small.length]!;
        expectOk('PUT', await c.request({ method: 'PUT', bucket: buckets.sseC, key: `warmup/${i}`, body: b.data, payloadHash: b.sha256, headers: cHeaders }));
        return b.data.length;
      },
    });
    c.close();
    if (w.errors) problem(`${env.label} SSE-C warm-up: ${w.errors} of ${w.started} requests failed, e.g. ${w.firstErrors[0] ?? ''}`);
  }

  // ---- 4 KiB PUT/GET per mode, same concurrency and bounds as PUT/GET 4 KiB ----
  const smallBound = { concurrency: S.concurrency, maxRequests: S.requests, maxSeconds: S.seconds, minSeconds: S.minSeconds };
  const modes = [
    { suffix: 'SSE-KMS', bucket: buckets.kms, putHeaders: kmsHeaders as Record<string, string> | undefined, getHeaders: undefined as Record<string, string> | undefined },
    { suffix: 'SSE-KMS + Bucket Key', bucket: buckets.bucketKey, putHeaders: undefined, getHeaders: undefined },
    { suffix: 'SSE-C', bucket: buckets.sseC, putHeaders: cHeaders, getHeaders: cHeaders },
  ];
  const smallKeysOf = new Map<string, number[]>();
  for (const m of modes) {
    const put = await phase({ name: `PUT 4 KiB ${m.suffix}`, ...smallBound }, (c) => async (i) => {
      const b = small[i % small.length]!;
      expectOk('PUT', await c.request({ method: 'PUT', bucket: m.bucket, key: `small/${i}`, body: b.data, payloadHash: b.sha256, ...(m.putHeaders ? { headers: m.putHeaders } : {}) }));
      return b.data.length;
    });
    const keys = put.okIndices.length ? put.okIndices : [0];
    smallKeysOf.set(m.suffix, keys);
    // Untimed, as before GET 4 KiB: this mode's read path is compiled before it is measured
    // (its first second otherwise runs well below its steady rate and skews the same-run ratio).
    const w = await warmUpGets(target, env.label, `warm-up GET ${m.suffix}`, S.concurrency, S.warmupGetSeconds,
      (i) => ({ bucket: m.bucket, key: `small/${keys[i % Math.min(keys.length, S.warmup)]!}`, ...(m.getHeaders ? { headers: m.getHeaders } : {}) }));
    if (w.errors) problem(`${env.label} ${w.name}: ${w.errors} of ${w.started} requests failed, e.g. ${w.firstErrors[0] ?? ''}`);
    await phase({ name: `GET 4 KiB ${m.suffix}`, ...smallBound }, (c) => async (i) => {
      const r = expectOk('GET', await c.request({ method: 'GET', bucket: m.bucket, key: `small/${keys[i % keys.length]!}`, ...(m.getHeaders ? { headers: m.getHeaders } : {}) }));
      if (r.bytes !== S.size) throw shortBody(r.bytes, S.size);
      return r.bytes;
    });
  }

  // ---- interleaved A/B: SSE-KMS + Bucket Key ÷ SSE-S3, per round, alternating order ----
  {
    const cl = new LeanS3(target, S.concurrency);
    let seq = 0;
    const bkKeys = smallKeysOf.get('SSE-KMS + Bucket Key')!;
    const s3Keys = env.sseS3SmallKeys.length ? env.sseS3SmallKeys : [0];
    const rate = async (op: (i: number) => Promise<number>): Promise<number> => {
      const r = await runPhase({ name: 'A/B', target: env.label, concurrency: S.concurrency, maxRequests: 1_000_000, maxSeconds: cfg.abSeconds, op });
      if (r.errors) throw new HttpError('A/B', `A/B round: ${r.errors} requests failed, e.g. ${r.firstErrors[0] ?? ''}`);
      return r.opsPerSec;
    };
    const rounds = async (what: 'PUT' | 'GET'): Promise<AbResult> => {
      const sseS3 = what === 'PUT'
        ? async (i: number): Promise<number> => {
          const b = small[i % small.length]!;
          expectOk('PUT', await cl.request({ method: 'PUT', bucket: env.bucket, key: `ab/${seq}/${i}`, body: b.data, payloadHash: b.sha256 }));
          return b.data.length;
        }
        : async (i: number): Promise<number> => expectOk('GET', await cl.request({ method: 'GET', bucket: env.bucket, key: `small/${s3Keys[i % s3Keys.length]!}` })).bytes;
      const bucketKey = what === 'PUT'
        ? async (i: number): Promise<number> => {
          const b = small[i % small.length]!;
          expectOk('PUT', await cl.request({ method: 'PUT', bucket: buckets.bucketKey, key: `ab/${seq}/${i}`, body: b.data, payloadHash: b.sha256 }));
          return b.data.length;
        }
        : async (i: number): Promise<number> => expectOk('GET', await cl.request({ method: 'GET', bucket: buckets.bucketKey, key: `small/${bkKeys[i % bkKeys.length]!}` })).bytes;
      const ratios: number[] = [];
      for (let round = 0; round < cfg.abRounds; round++) {
        const bkFirst = round % 2 === 0;
        seq++;
        const first = await rate(bkFirst ? bucketKey : sseS3);
        seq++;
        const second = await rate(bkFirst ? sseS3 : bucketKey);
        ratios.push(bkFirst ? first / second : second / first);
      }
      const result = { rounds: ratios, median: median(ratios) };
      log(`  ${env.label} ${what} 4 KiB SSE-KMS + Bucket Key ÷ SSE-S3, interleaved rounds: ${ratios.map((r) => r.toFixed(3)).join(' ')} → median ${result.median.toFixed(3)}`);
      return result;
    };
    try {
      summary.abPut = await rounds('PUT');
      summary.abGet = await rounds('GET');
    } catch (e) {
      problem(`${env.label} SSE-KMS + Bucket Key A/B rounds: ${(e as Error).message}`);
    } finally {
      cl.close();
    }
  }

  // ---- 64 MiB PUT (signed payload) / GET, as PUT 64 MiB signed / GET 64 MiB ----
  const largeBound = { concurrency: L.concurrency, maxRequests: cfg.largeObjects, maxSeconds: L.seconds, minSeconds: L.minSeconds };
  const largeKeysOf = new Map<string, number[]>();
  for (const m of modes.slice(1)) {
    const put = await phase({ name: `PUT 64 MiB signed ${m.suffix}`, ...largeBound }, (c) => async (i) => {
      const b = large[i % large.length]!;
      expectOk('PUT', await c.request({ method: 'PUT', bucket: m.bucket, key: `large-signed/${i}`, body: b.data, payloadHash: b.sha256, ...(m.putHeaders ? { headers: m.putHeaders } : {}) }));
      return b.data.length;
    });
    const keys = put.okIndices.length ? put.okIndices : [0];
    largeKeysOf.set(m.suffix, keys);
    await phase({ name: `GET 64 MiB ${m.suffix}`, ...largeBound }, (c) => async (i) => {
      const r = expectOk('GET', await c.request({ method: 'GET', bucket: m.bucket, key: `large-signed/${keys[i % keys.length]!}`, ...(m.getHeaders ? { headers: m.getHeaders } : {}) }));
      if (r.bytes !== L.size) throw shortBody(r.bytes, L.size);
      return r.bytes;
    });
  }

  // ---- untimed: each mode is what it claims (response headers) and reads back intact ----
  const c = new LeanS3(target, 1);
  let failed = 0;
  const check = (what: string, ok: boolean, detail: string): void => {
    if (!ok) {
      failed++;
      problem(`${env.label}: ${what}: ${detail}`);
    }
  };
  const h = (r: Response, name: string): string | undefined => {
    const v = r.headers[name];
    return Array.isArray(v) ? v.join(',') : v;
  };
  try {
    const objects: Array<{ mode: (typeof modes)[number]; key: string; body: SseBody }> = [];
    for (const m of modes) {
      const i = smallKeysOf.get(m.suffix)![0]!;
      objects.push({ mode: m, key: `small/${i}`, body: small[i % small.length]! });
      const li = largeKeysOf.get(m.suffix)?.[0];
      if (li !== undefined) objects.push({ mode: m, key: `large-signed/${li}`, body: large[li % large.length]! });
    }
    for (const o of objects) {
      const what = `${o.mode.suffix} object ${o.mode.bucket}/${o.key}`;
      const head = await c.request({ method: 'HEAD', bucket: o.mode.bucket, key: o.key, ...(o.mode.getHeaders ? { headers: o.mode.getHeaders } : {}) });
      const sse = h(head, 'x-amz-server-side-encryption');
      const kmsKey = h(head, 'x-amz-server-side-encryption-aws-kms-key-id');
      const bk = h(head, 'x-amz-server-side-encryption-bucket-key-enabled');
      const alg = h(head, 'x-amz-server-side-encryption-customer-algorithm');
      const md5 = h(head, 'x-amz-server-side-encryption-customer-key-md5');
      const got = `HEAD ${head.status}, sse=${sse ?? '-'}, kms-key-id=${kmsKey ?? '-'}, bucket-key-enabled=${bk ?? '-'}, customer-algorithm=${alg ?? '-'}`;
      if (o.mode.suffix === 'SSE-C') {
        check(what, head.status === 200 && alg === 'AES256' && md5 === cHeaders['x-amz-server-side-encryption-customer-key-md5'] && sse === undefined, `not stored as SSE-C (${got})`);
        const bare = await c.request({ method: 'GET', bucket: o.mode.bucket, key: o.key });
        check(what, bare.status === 400, `a GET without the customer key answered ${bare.status}, expected 400`);
      } else {
        const wantBk = o.mode.suffix === 'SSE-KMS + Bucket Key';
        check(what, head.status === 200 && sse === 'aws:kms' && kmsKey === keyArn && (bk === 'true') === wantBk, `not stored as ${o.mode.suffix} (${got})`);
      }
      const r = await c.request({ method: 'GET', bucket: o.mode.bucket, key: o.key, sink: 'sha256', ...(o.mode.getHeaders ? { headers: o.mode.getHeaders } : {}) });
      check(what, r.status === 200 && r.sha256 === o.body.sha256, `integrity check failed (status ${r.status}, sha256 ${r.sha256 ?? '-'})`);
    }
    log(`  ${env.label} encryption-mode and integrity check of ${objects.length} objects: ${failed ? 'FAILED' : 'ok'}`);
  } catch (e) {
    problem(`${env.label}: encryption-mode check failed: ${(e as Error).message}`);
  } finally {
    c.close();
  }
  return summary;
}
