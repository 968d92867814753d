/**
 * Kura benchmark. One run measures Kura (spawned here, or any S3 endpoint via --endpoint),
 * a trivial node:http server as the machine's HTTP ceiling, and single-core node:crypto
 * throughput, then prints a table with ratios and writes dist/bench-results.json. A spawned
 * Kura also runs the encryption-mode scenarios (SSE-KMS, S3 Bucket Keys, SSE-C;
 * sse-scenarios.ts). See bench/README.md.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { measureCrypto, type CryptoBaseline } from './crypto-baseline.js';
import { measureDiskWrite } from './disk-baseline.js';
import { benchPolicy } from './policy-doc.js';
import { runPhase, warmUpGets, type PhaseResult, type PhaseSpec } from './load.js';
import { describeMachine, memoryKiB } from './proc.js';
import { fmt, fmtRatio, phaseLine, phaseRow, PHASE_HEADER, ratio, table } from './report.js';
import { findRepoRoot, MALLOC_ENV, startKura, startTrivial, type Spawned } from './servers.js';
import { sseScenarios, type SseSummary } from './sse-scenarios.js';
import { expectOk, HttpError, LeanS3, sha256Hex, UNSIGNED_PAYLOAD, type Target } from './sigv4.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

const USAGE = `usage: node dist/bench/run.js [options]      (or: npm run bench -- [options])
  --huge                 also stream one 5 GiB object PUT + GET (UNSIGNED-PAYLOAD) through Kura
  --quick                smaller counts and time bounds (a smoke test, not a measurement)
  --endpoint URL         benchmark this S3 endpoint instead of spawning Kura
  --access-key-id ID     credentials for --endpoint (default $AWS_ACCESS_KEY_ID)
  --secret-access-key S  (default $AWS_SECRET_ACCESS_KEY)
  --region R             signing region (default us-east-1)
  --server-pid PID       with --endpoint: sample this process's RSS/CPU
  --kura-bin FILE        the Kura CLI to spawn (default <repo>/bin/kura.js)
  --data-dir DIR         Kura data directory (default: a fresh temp dir, removed afterwards)
  --keep-data            keep the temp data directory
  --baseline-only        skip Kura; measure only the trivial server and crypto
  --skip-ceiling         skip the trivial server and crypto measurements
  --out FILE             results JSON (default dist/bench-results.json)`;

interface Args {
  huge: boolean;
  quick: boolean;
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  region: string;
  serverPid?: number;
  kuraBin?: string;
  dataDir?: string;
  keepData: boolean;
  baselineOnly: boolean;
  skipCeiling: boolean;
  out?: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { huge: false, quick: false, region: 'us-east-1', keepData: false, baselineOnly: false, skipCeiling: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--huge': a.huge = true; break;
      case '--quick': a.quick = true; break;
      case '--endpoint': a.endpoint = value(); break;
      case '--access-key-id': a.accessKeyId = value(); break;
      case '--secret-access-key': a.secretAccessKey = value(); break;
      case '--region': a.region = value(); break;
      case '--server-pid': a.serverPid = Number(value()); break;
      case '--kura-bin': a.kuraBin = resolve(value()); break;
      case '--data-dir': a.dataDir = resolve(value()); break;
      case '--keep-data': a.keepData = true; break;
      case '--baseline-only': a.baselineOnly = true; break;
      case '--skip-ceiling': a.skipCeiling = true; break;
      case '--out': a.out = resolve(value()); break;
      case '-h': case '--help': console.log(USAGE); process.exit(0); break;
      default: throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  }
  return a;
}

const args = parseArgs(process.argv.slice(2));

/** Request counts and bounds. Every loop is bounded by count and by time. */
const CFG = {
  small: { size: 4 * KiB, concurrency: 16, requests: args.quick ? 600 : 10_000, seconds: args.quick ? 3 : 10, minSeconds: args.quick ? 0 : 3, warmup: args.quick ? 50 : 200, warmupGetSeconds: args.quick ? 0.3 : 2, bodies: 16 },
  large: { size: 64 * MiB, concurrency: 4, objects: args.quick ? 4 : 24, seconds: args.quick ? 15 : 30, minSeconds: args.quick ? 0 : 3, bodies: 3 },
  list: { keys: args.quick ? 2000 : 10_000, createConcurrency: 32, createSeconds: args.quick ? 20 : 45, pageSize: 1000, maxPages: 400, seconds: args.quick ? 3 : 8 },
  huge: { size: 5 * GiB, chunk: 1 * MiB },
  /** Encryption modes (spawned Kura only): 4 KiB phases use `small`, 64 MiB phases `large` with fewer objects. */
  sse: { largeObjects: args.quick ? 2 : 12, countPuts: 1000, abRounds: args.quick ? 2 : 6, abSeconds: args.quick ? 0.5 : 1 },
};

/** Kura's configuration file for the benchmark: SSE-KMS and SSE-C over plain HTTP (TLS cost excluded). */
const KURA_CONFIG = { allowSseOverHttp: true };

const BENCH_CREDS = { accessKeyId: 'KURABENCHROOT0001', secretAccessKey: 'kura-bench-root-secret-00000000000000000' };

interface Body {
  data: Buffer;
  sha256: string;
}

interface Ctx {
  label: string;
  target: Target;
  bucket: string;
  pid: number | undefined;
  /** A real S3 implementation: verify content, run the listing scenario. */
  s3: boolean;
}

const results: PhaseResult[] = [];
const problems: string[] = [];

function log(s = ''): void {
  process.stdout.write(`${s}\n`);
}

async function phase(ctx: Ctx, spec: Omit<PhaseSpec, 'op' | 'target' | 'serverPid'>, makeOp: (c: LeanS3) => (i: number) => Promise<number>): Promise<PhaseResult> {
  const client = new LeanS3(ctx.target, spec.concurrency);
  try {
    const r = await runPhase({ ...spec, target: ctx.label, serverPid: ctx.pid, op: makeOp(client) });
    results.push(r);
    log(phaseLine(r));
    for (const e of r.firstErrors) log(`    ERROR ${e}`);
    return r;
  } finally {
    client.close();
  }
}

function shortBody(method: string, got: number, want: number): HttpError {
  return new HttpError(`${method} wrong body length`, `${method}: got ${got} bytes, expected ${want}`);
}

async function createBucket(ctx: Ctx, bucket: string): Promise<void> {
  const c = new LeanS3(ctx.target, 1);
  try {
    const r = await c.request({ method: 'PUT', bucket });
    if (r.status === 409 && r.body?.toString().includes('BucketAlreadyOwnedByYou')) return;
    expectOk('PUT bucket', r);
  } finally {
    c.close();
  }
}

/** Small and large PUT/GET, the same for Kura and the trivial server. */
/** Issue 3's target for the 20-statement policy: with ÷ without ≥ 0.95 (the policy costs < 5 %). */
const POLICY_TARGET = 0.95;
/** Median with-policy ÷ without-policy small-GET ratio from interleaved rounds (Kura only). */
let policyAB: number | undefined;
/** The same rounds with no policy on either side (the noise floor of policyAB). */
let policyAA: number | undefined;

/** Records a failed warm-up as a problem of the run (its figures would not be what they seem). */
function warmUpProblems(ctx: Ctx, r: PhaseResult): void {
  if (!r.errors) return;
  problems.push(`${ctx.label} ${r.name}: ${r.errors} of ${r.started} requests failed, e.g. ${r.firstErrors[0] ?? ''}`);
  log(`  ${ctx.label} ${r.name}: ${r.errors} errors, e.g. ${r.firstErrors[0] ?? ''}`);
}

/** Returns the indices of the `small/<i>` objects the PUT 4 KiB scenario wrote. */
async function objectScenarios(ctx: Ctx, small: Body[], large: Body[]): Promise<number[]> {
  const S = CFG.small;
  const L = CFG.large;
  const { bucket } = ctx;

  // Warm-up (JIT, connections, metadata store): not recorded. Both request kinds: a GET
  // phase that starts on code compiled only for PUTs spends its first second at about
  // 60 % of its steady rate while the read path is optimised.
  {
    const c = new LeanS3(ctx.target, S.concurrency);
    const w = await runPhase({
      name: 'warm-up', target: ctx.label, concurrency: S.concurrency, maxRequests: S.warmup, maxSeconds: 10,
      op: async (i) => {
        const b = small[i % small.length]!;
        expectOk('PUT', await c.request({ method: 'PUT', bucket, key: `warmup/${i}`, body: b.data, payloadHash: b.sha256 }));
        return b.data.length;
      },
    });
    c.close();
    const written = w.okIndices.length ? w.okIndices : [0];
    const g = w.errors ? w : await warmUpGets(ctx.target, ctx.label, 'warm-up GET', S.concurrency, S.warmupGetSeconds, (i) => ({ bucket, key: `warmup/${written[i % written.length]!}` }));
    for (const r of g === w ? [w] : [w, g]) warmUpProblems(ctx, r);
  }

  const putSmall = await phase(ctx, { name: 'PUT 4 KiB', concurrency: S.concurrency, maxRequests: S.requests, maxSeconds: S.seconds, minSeconds: S.minSeconds }, (c) => async (i) => {
    const b = small[i % small.length]!;
    expectOk('PUT', await c.request({ method: 'PUT', bucket, key: `small/${i}`, body: b.data, payloadHash: b.sha256 }));
    return b.data.length;
  });
  const smallKeys = putSmall.okIndices.length ? putSmall.okIndices : [0];
  await phase(ctx, { name: 'GET 4 KiB', concurrency: S.concurrency, maxRequests: S.requests, maxSeconds: S.seconds, minSeconds: S.minSeconds }, (c) => async (i) => {
    const r = expectOk('GET', await c.request({ method: 'GET', bucket, key: `small/${smallKeys[i % smallKeys.length]!}` }));
    if (r.bytes !== S.size) throw shortBody('GET', r.bytes, S.size);
    return r.bytes;
  });

  if (ctx.s3) {
    // The same GETs with a 20-statement bucket policy attached: the policy's end-to-end cost.
    const c = new LeanS3(ctx.target, 1);
    const doc = Buffer.from(benchPolicy(bucket));
    const put = await c.request({ method: 'PUT', bucket, query: { policy: '' }, body: doc, payloadHash: sha256Hex(doc), sink: 'collect' });
    c.close();
    if (put.status !== 204) {
      problems.push(`${ctx.label} PutBucketPolicy: status ${put.status}`);
    } else {
      // Untimed, as for the GET phase: the policy's code paths are compiled before they are measured.
      warmUpProblems(ctx, await warmUpGets(ctx.target, ctx.label, 'warm-up GET +policy', S.concurrency, S.warmupGetSeconds, (i) => ({ bucket, key: `warmup/${i % S.warmup}` })));
      await phase(ctx, { name: 'GET 4 KiB +policy', concurrency: S.concurrency, maxRequests: S.requests, maxSeconds: S.seconds, minSeconds: S.minSeconds }, (cl) => async (i) => {
        const r = expectOk('GET', await cl.request({ method: 'GET', bucket, key: `small/${smallKeys[i % smallKeys.length]!}` }));
        if (r.bytes !== S.size) throw shortBody('GET', r.bytes, S.size);
        return r.bytes;
      });
      // Interleaved A/B rounds: the machine's drift between two long phases is larger than
      // the policy's cost, so the ratio is taken per round and the median reported.
      const admin = new LeanS3(ctx.target, 1);
      const cl = new LeanS3(ctx.target, S.concurrency);
      const ratios: number[] = [];
      let cursor = 0;
      // Short windows, many of them: an old-generation collection (tens of ms every few
      // seconds) then spoils a few windows, which the median discards, instead of half of
      // them. The keys continue from window to window, so every window reads objects the
      // data-key cache has not kept, as the GET phase does.
      const rate = async (): Promise<number> => {
        const base = cursor;
        const r = await runPhase({
          name: 'A/B', target: ctx.label, concurrency: S.concurrency, maxRequests: 100_000, maxSeconds: 0.25,
          op: async (i) => expectOk('GET', await cl.request({ method: 'GET', bucket, key: `small/${smallKeys[(base + i) % smallKeys.length]!}` })).bytes,
        });
        cursor += r.ok + r.errors;
        return r.opsPerSec;
      };
      const setPolicy = async (on: boolean): Promise<void> => {
        const r = on
          ? await admin.request({ method: 'PUT', bucket, query: { policy: '' }, body: doc, payloadHash: sha256Hex(doc) })
          : await admin.request({ method: 'DELETE', bucket, query: { policy: '' } });
        if (r.status !== 204) throw new HttpError('policy A/B', `${on ? 'PUT' : 'DELETE'} policy: status ${r.status}`);
        // Untimed: the first GETs after a change reload the bucket's state (and compile the
        // policy); the windows measure a policy that is in place, not the change.
        await Promise.all(Array.from({ length: S.concurrency }, async (_, i) => {
          for (let j = 0; j < 2; j++) expectOk('GET', await cl.request({ method: 'GET', bucket, key: `small/${smallKeys[(cursor + i * 2 + j) % smallKeys.length]!}` }));
        }));
        cursor += 2 * S.concurrency;
      };
      // The order alternates per round, so drift within a round does not favour either side.
      // Each round also runs an A/A pair with no policy on either side, so the control sees
      // the same stretch of the machine's noise as the A/B pair it is read against.
      const rounds = args.quick ? 8 : 48;
      const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const control: number[] = [];
      for (let round = 0; round < rounds; round++) {
        for (const into of round % 2 === 0 ? [ratios, control] : [control, ratios]) {
          const policyFirst = round % 2 === 0;
          await setPolicy(into === ratios && policyFirst);
          const first = await rate();
          await setPolicy(into === ratios && !policyFirst);
          const second = await rate();
          into.push(policyFirst ? first / second : second / first);
        }
      }
      await setPolicy(false);
      admin.close();
      cl.close();
      policyAB = median(ratios);
      policyAA = median(control);
      const show = (xs: number[]): string => [...xs].sort((a, b) => a - b).map((r) => r.toFixed(3)).join(' ');
      log(`  ${ctx.label} GET 4 KiB with ÷ without the 20-statement policy, interleaved rounds: ${show(ratios)} → median ${policyAB.toFixed(3)}`);
      log(`  ${ctx.label} GET 4 KiB A/A control, no policy on either side: ${show(control)} → median ${policyAA.toFixed(3)}`);
    }
  }

  const putSigned = await phase(ctx, { name: 'PUT 64 MiB signed', concurrency: L.concurrency, maxRequests: L.objects, maxSeconds: L.seconds, minSeconds: L.minSeconds }, (c) => async (i) => {
    const b = large[i % large.length]!;
    expectOk('PUT', await c.request({ method: 'PUT', bucket, key: `large-signed/${i}`, body: b.data, payloadHash: b.sha256 }));
    return b.data.length;
  });
  await phase(ctx, { name: 'PUT 64 MiB unsigned', concurrency: L.concurrency, maxRequests: L.objects, maxSeconds: L.seconds, minSeconds: L.minSeconds }, (c) => async (i) => {
    const b = large[i % large.length]!;
    expectOk('PUT', await c.request({ method: 'PUT', bucket, key: `large-unsigned/${i}`, body: b.data, payloadHash: UNSIGNED_PAYLOAD }));
    return b.data.length;
  });
  const largeKeys = putSigned.okIndices.length ? putSigned.okIndices : [0];
  await phase(ctx, { name: 'GET 64 MiB', concurrency: L.concurrency, maxRequests: L.objects, maxSeconds: L.seconds, minSeconds: L.minSeconds }, (c) => async (i) => {
    const r = expectOk('GET', await c.request({ method: 'GET', bucket, key: `large-signed/${largeKeys[i % largeKeys.length]!}` }));
    if (r.bytes !== L.size) throw shortBody('GET', r.bytes, L.size);
    return r.bytes;
  });

  if (ctx.s3) {
    // Integrity, outside any timed region: read back one object of each kind and compare hashes.
    const c = new LeanS3(ctx.target, 1);
    try {
      const checks: Array<[string, string]> = [
        [`small/${smallKeys[0]!}`, small[smallKeys[0]! % small.length]!.sha256],
        [`large-signed/${largeKeys[0]!}`, large[largeKeys[0]! % large.length]!.sha256],
        [`large-unsigned/0`, large[0]!.sha256],
      ];
      for (const [key, want] of checks) {
        const r = await c.request({ method: 'GET', bucket, key, sink: 'sha256' });
        if (r.status !== 200 || r.sha256 !== want) problems.push(`${ctx.label}: integrity check of ${key} failed (status ${r.status}, sha256 ${r.sha256 ?? '-'})`);
      }
      log(`  ${ctx.label} integrity check of ${checks.length} objects: ${problems.some((p) => p.includes('integrity')) ? 'FAILED' : 'ok'}`);
    } catch (e) {
      problems.push(`${ctx.label}: integrity check failed: ${(e as Error).message}`);
    } finally {
      c.close();
    }
  }
  return smallKeys;
}

interface ListSummary {
  keysCreated: number;
  passes: number;
  pagesPerSec: number;
  keysPerSec: number;
  p50Ms: number | undefined;
  p99Ms: number | undefined;
}

function xmlDecode(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_m, e: string) => {
    switch (e) {
      case 'amp': return '&';
      case 'lt': return '<';
      case 'gt': return '>';
      case 'quot': return '"';
      case 'apos': return "'";
      default: return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    }
  });
}

async function listScenario(ctx: Ctx): Promise<ListSummary | undefined> {
  const C = CFG.list;
  const bucket = `${ctx.bucket}-list`;
  await createBucket(ctx, bucket);
  const width = String(C.keys - 1).length;
  const keyOf = (i: number): string => `k${String(i).padStart(width, '0')}`;
  const create = await phase(ctx, { name: 'PUT 0 B (list setup)', concurrency: C.createConcurrency, maxRequests: C.keys, maxSeconds: C.createSeconds }, (c) => async (i) => {
    expectOk('PUT', await c.request({ method: 'PUT', bucket, key: keyOf(i), body: Buffer.alloc(0) }));
    return 0;
  });
  const expected = create.ok;
  if (expected < C.keys) problems.push(`${ctx.label}: only ${expected} of ${C.keys} keys were created for the listing scenario`);

  let token: string | undefined;
  let passKeys = 0;
  let passes = 0;
  let keys = 0;
  const r = await phase(ctx, { name: `LIST ${C.pageSize}/page`, concurrency: 1, maxRequests: C.maxPages, maxSeconds: C.seconds, unit: 'page' }, (c) => async () => {
    const query: Record<string, string> = { 'list-type': '2', 'max-keys': String(C.pageSize) };
    if (token !== undefined) query['continuation-token'] = token;
    const res = expectOk('LIST', await c.request({ method: 'GET', bucket, query, sink: 'collect' }));
    const xml = res.body!.toString('utf8');
    const n = xml.match(/<Key>/g)?.length ?? 0;
    passKeys += n;
    keys += n;
    if (/<IsTruncated>true<\/IsTruncated>/.test(xml)) {
      const next = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(xml)?.[1];
      if (!next) throw new HttpError('LIST no token', 'LIST: IsTruncated without NextContinuationToken');
      token = xmlDecode(next);
    } else {
      token = undefined;
      const got = passKeys;
      passKeys = 0;
      passes++;
      if (got !== expected) throw new HttpError('LIST wrong key count', `LIST: a full pass returned ${got} keys, expected ${expected}`);
    }
    return 0;
  });
  const keysPerSec = keys / r.seconds;
  r.extra = { keysPerSec, passes };
  return { keysCreated: expected, passes, pagesPerSec: r.opsPerSec, keysPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms };
}

/** A stream of `total` bytes made of one reused random chunk: nothing large is held in memory. */
function generated(total: number, chunk: Buffer): Readable {
  let left = total;
  return new Readable({
    highWaterMark: chunk.length,
    read() {
      if (left <= 0) {
        this.push(null);
        return;
      }
      const n = Math.min(left, chunk.length);
      left -= n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
}

async function hugeScenario(ctx: Ctx): Promise<void> {
  const H = CFG.huge;
  const chunk = randomBytes(H.chunk);
  const key = 'huge/5GiB';
  const put = await phase(ctx, { name: 'PUT 5 GiB stream unsigned', concurrency: 1, maxRequests: 1, maxSeconds: 1 }, (c) => async () => {
    expectOk('PUT', await c.request({ method: 'PUT', bucket: ctx.bucket, key, body: generated(H.size, chunk), contentLength: H.size, payloadHash: UNSIGNED_PAYLOAD }));
    return H.size;
  });
  if (put.ok === 0) return;
  await phase(ctx, { name: 'GET 5 GiB stream', concurrency: 1, maxRequests: 1, maxSeconds: 1 }, (c) => async () => {
    const r = expectOk('GET', await c.request({ method: 'GET', bucket: ctx.bucket, key }));
    if (r.bytes !== H.size) throw shortBody('GET', r.bytes, H.size);
    return r.bytes;
  });
  const c = new LeanS3(ctx.target, 1);
  try {
    await c.request({ method: 'DELETE', bucket: ctx.bucket, key });
  } catch {
    // best effort
  } finally {
    c.close();
  }
}

function makeBodies(n: number, size: number): Body[] {
  return Array.from({ length: n }, () => {
    const data = randomBytes(size);
    return { data, sha256: sha256Hex(data) };
  });
}

async function main(): Promise<number> {
  const started = Date.now();
  const machine = describeMachine();
  const argvShown = [...process.execArgv, ...process.argv.slice(1)].map((s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s}'`)).join(' ');
  log('Kura benchmark');
  log(`command:  node ${argvShown}   (cwd ${process.cwd()})`);
  log(`machine:  ${machine.nproc} CPUs, ${machine.cpuModel} [${machine.cpuFlags}], ${machine.memGiB} GiB RAM, ${machine.kernel}, node ${machine.node}`);
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  log(`load:     ${load} (1/5/15-min load average at start; anything well above 0 means other work competes for the CPUs)`);
  log(`client:   lean SigV4 over node:http keep-alive (maxSockets = concurrency), in this process; server in a child process`);

  const t = Date.now();
  const small = makeBodies(CFG.small.bodies, CFG.small.size);
  const large = makeBodies(CFG.large.bodies, CFG.large.size);
  log(`bodies:   ${small.length} × 4 KiB and ${large.length} × 64 MiB random buffers, SHA-256 precomputed in ${((Date.now() - t) / 1000).toFixed(2)} s (outside timing)`);
  log('');

  let kura: Spawned | undefined;
  let kuraCommand: string | undefined;
  let kuraEndpoint: string | undefined;
  let kuraHwmMiB: number | undefined;
  let kuraError: string | undefined;
  let list: ListSummary | undefined;
  let dataDir: string | undefined;
  let configDir: string | undefined;
  let kuraConfigFile: string | undefined;
  let sse: SseSummary | undefined;
  const runId = `${Date.now().toString(36)}-${process.pid}`;

  if (!args.baselineOnly) {
    let stopping = false;
    let target: Target | undefined;
    let pid: number | undefined;
    const label = args.endpoint ? 'endpoint' : 'kura';
    if (args.endpoint) {
      const accessKeyId = args.accessKeyId ?? process.env.AWS_ACCESS_KEY_ID;
      const secretAccessKey = args.secretAccessKey ?? process.env.AWS_SECRET_ACCESS_KEY;
      if (!accessKeyId || !secretAccessKey) throw new Error('--endpoint needs --access-key-id/--secret-access-key or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY');
      target = { endpoint: args.endpoint, accessKeyId, secretAccessKey, region: args.region };
      pid = args.serverPid;
      kuraEndpoint = args.endpoint;
      kuraCommand = `(external endpoint ${args.endpoint}${pid ? `, pid ${pid}` : ''})`;
    } else {
      const root = findRepoRoot();
      const kuraBin = args.kuraBin ?? (root ? join(root, 'bin', 'kura.js') : undefined);
      if (!kuraBin) throw new Error('cannot find bin/kura.js: run from the repository or pass --kura-bin');
      dataDir = args.dataDir ?? mkdtempSync(join(tmpdir(), 'kura-bench-'));
      configDir = mkdtempSync(join(tmpdir(), 'kura-bench-config-'));
      kuraConfigFile = join(configDir, 'kura-bench.json');
      writeFileSync(kuraConfigFile, `${JSON.stringify(KURA_CONFIG)}\n`);
      try {
        kura = await startKura({ kuraBin, dataDir, ...BENCH_CREDS, configFile: kuraConfigFile });
        target = { endpoint: kura.endpoint, ...BENCH_CREDS, region: args.region };
        pid = kura.pid;
        kuraCommand = kura.command;
        kuraEndpoint = kura.endpoint;
        kura.proc.once('exit', (code, signal) => {
          if (!stopping) problems.push(`kura exited unexpectedly (${code ?? signal}); stderr tail:\n${kura!.stderr().slice(-1500)}`);
        });
      } catch (e) {
        kuraError = (e as Error).message;
        problems.push(`kura failed to start: ${kuraError}`);
        log(`!!! kura failed to start: ${kuraError}\n`);
      }
    }
    if (target) {
      log(`== ${label}: ${kuraCommand}`);
      if (kuraConfigFile) log(`   ${kuraConfigFile}: ${JSON.stringify(KURA_CONFIG)} — SSE-KMS and SSE-C over plain HTTP, so TLS cost is excluded and the numbers compare the encryption modes only`);
      log(`   endpoint ${target.endpoint}`);
      const ctx: Ctx = { label, target, bucket: `kura-bench-${runId}`, pid, s3: true };
      try {
        await createBucket(ctx, ctx.bucket);
        // First, on a fresh server: its peak RSS is then the streaming's own, not what the
        // earlier scenarios left in the heap (the malloc settings keep freed memory).
        if (args.huge) await hugeScenario(ctx);
        const sseS3SmallKeys = await objectScenarios(ctx, small, large);
        if (kura && dataDir) {
          sse = await sseScenarios({
            label, target, bucket: ctx.bucket, sseS3SmallKeys, auditLog: join(dataDir, 'audit', 'audit.log'),
            cfg: { small: CFG.small, large: CFG.large, ...CFG.sse }, small, large,
            phase: (spec, makeOp) => phase(ctx, spec, makeOp),
            log, problem: (p) => problems.push(p),
          });
        } else {
          log(`  ${label}: encryption-mode scenarios skipped (they need a Kura spawned by the benchmark: its configuration and audit log)`);
        }
        list = await listScenario(ctx);
      } catch (e) {
        problems.push(`${label} scenarios aborted: ${(e as Error).message}`);
        log(`!!! ${label} scenarios aborted: ${(e as Error).message}`);
      }
      if (pid !== undefined) kuraHwmMiB = (memoryKiB(pid)?.hwm ?? 0) / 1024 || undefined;
      if (kura) {
        stopping = true;
        const errTail = kura.stderr().trim();
        if (errTail) log(`   kura stderr (tail):\n${errTail.slice(-1500).replace(/^/gm, '   | ')}`);
        await kura.stop();
      }
      log('');
    }
    if (dataDir && !args.dataDir && !args.keepData) rmSync(dataDir, { recursive: true, force: true });
    else if (dataDir) log(`   data directory kept: ${dataDir}`);
    if (configDir && !args.keepData) rmSync(configDir, { recursive: true, force: true });
    else if (configDir) log(`   configuration file kept: ${kuraConfigFile!}`);
  }

  let trivialCommand: string | undefined;
  let crypto: CryptoBaseline | undefined;
  let diskMiBps: number | undefined;
  if (!args.skipCeiling) {
    let trivial: Spawned | undefined;
    try {
      trivial = await startTrivial();
      trivialCommand = trivial.command;
      log(`== trivial: ${trivial.command}`);
      log(`   endpoint ${trivial.endpoint}`);
      const ctx: Ctx = { label: 'trivial', target: { endpoint: trivial.endpoint, ...BENCH_CREDS, region: args.region }, bucket: 'trivial', pid: trivial.pid, s3: false };
      await objectScenarios(ctx, small, large);
    } catch (e) {
      problems.push(`trivial server: ${(e as Error).message}`);
      log(`!!! trivial server: ${(e as Error).message}`);
    } finally {
      await trivial?.stop();
    }
    log('');
    log(`== node:crypto, single core, ${CFG.large.size / MiB} MiB buffer in 64 KiB updates, best of ≥8 runs`);
    crypto = measureCrypto(large[0]!.data);
    for (const r of crypto.results) log(`  ${r.name.padEnd(40)} ${fmt(r.mibPerSec).padStart(8)} MiB/s  ${r.nsPerByte.toFixed(3)} ns/B`);
    log('');
    diskMiBps = measureDiskWrite(tmpdir(), large[0]!.data);
    log(`== disk: 1.5 GiB written in 1 MiB writes + fsync under ${tmpdir()}, best of 2: ${fmt(diskMiBps)} MiB/s`);
    log('');
  }

  // ---- report ----
  const trivialByName = new Map(results.filter((r) => r.target === 'trivial').map((r) => [r.name, r]));
  const kuraLabel = args.endpoint ? 'endpoint' : 'kura';
  const rows = results.map((r) => phaseRow(r, r.target === kuraLabel ? ratio(r.opsPerSec, trivialByName.get(r.name)?.opsPerSec) : undefined));
  log('== results');
  log(table(PHASE_HEADER, rows));
  log('ok* = stopped by the time bound before the request count; srv RSS = peak VmRSS of the server process sampled every 100 ms;');
  log('CPU% = process CPU time / wall time (100 = one core); vs trivial = Kura ops/s ÷ trivial-server ops/s for the same scenario.');
  if (list) {
    log('');
    log(`ListObjectsV2 over ${list.keysCreated} keys, max-keys=${CFG.list.pageSize}, sequential: ${fmt(list.pagesPerSec)} pages/s, ${fmt(list.keysPerSec, 0)} keys/s, page p50 ${fmt(list.p50Ms)} ms, p99 ${fmt(list.p99Ms)} ms (${list.passes} full passes)`);
  }
  if (kuraHwmMiB !== undefined) log(`${kuraLabel} VmHWM over the whole run: ${fmt(kuraHwmMiB, 0)} MiB`);

  const find = (target: string, name: string): PhaseResult | undefined => results.find((r) => r.target === target && r.name === name && r.ok > 0);
  const cr = (name: string): number | undefined => crypto?.get(name)?.mibPerSec;
  const ratios: Array<{ name: string; value: number | undefined; numerator: number | undefined; denominator: number | undefined; unit: string; target?: number; targetMet?: boolean }> = [];
  const addRatio = (name: string, unit: string, num: number | undefined, den: number | undefined, target?: number): void => {
    const value = ratio(num, den);
    ratios.push({ name, value, numerator: num, denominator: den, unit, ...(target !== undefined ? { target, ...(value !== undefined ? { targetMet: value >= target } : {}) } : {}) });
  };
  const k = (name: string, field: 'opsPerSec' | 'mibPerSec'): number | undefined => find(kuraLabel, name)?.[field];
  const tv = (name: string, field: 'opsPerSec' | 'mibPerSec'): number | undefined => find('trivial', name)?.[field];
  addRatio('PUT 4 KiB ops/s: Kura ÷ trivial server', 'ops/s', k('PUT 4 KiB', 'opsPerSec'), tv('PUT 4 KiB', 'opsPerSec'));
  addRatio('GET 4 KiB with 20-statement policy ÷ without (same run)', 'ops/s', k('GET 4 KiB +policy', 'opsPerSec'), k('GET 4 KiB', 'opsPerSec'));
  // Issue 3: the policy costs < 5 % of small-GET throughput, read on the interleaved rounds
  // (the phases above run a minute apart; the A/A control below shows the noise floor).
  if (policyAB !== undefined) ratios.push({ name: 'GET 4 KiB policy cost: median of interleaved A/B rounds', value: policyAB, numerator: undefined, denominator: undefined, unit: 'ratio', target: POLICY_TARGET, targetMet: policyAB >= POLICY_TARGET });
  if (policyAA !== undefined) ratios.push({ name: 'GET 4 KiB A/A control (no policy either side): median', value: policyAA, numerator: undefined, denominator: undefined, unit: 'ratio' });
  addRatio('GET 4 KiB ops/s: Kura ÷ trivial server', 'ops/s', k('GET 4 KiB', 'opsPerSec'), tv('GET 4 KiB', 'opsPerSec'));
  addRatio('PUT 64 MiB signed MiB/s: Kura ÷ trivial server', 'MiB/s', k('PUT 64 MiB signed', 'mibPerSec'), tv('PUT 64 MiB signed', 'mibPerSec'));
  addRatio('PUT 64 MiB unsigned MiB/s: Kura ÷ trivial server', 'MiB/s', k('PUT 64 MiB unsigned', 'mibPerSec'), tv('PUT 64 MiB unsigned', 'mibPerSec'));
  addRatio('GET 64 MiB MiB/s: Kura ÷ trivial server', 'MiB/s', k('GET 64 MiB', 'mibPerSec'), tv('GET 64 MiB', 'mibPerSec'));
  addRatio('PUT 64 MiB signed MiB/s: Kura ÷ disk write+fsync', 'MiB/s', k('PUT 64 MiB signed', 'mibPerSec'), diskMiBps);
  addRatio('PUT 64 MiB unsigned MiB/s: Kura ÷ disk write+fsync', 'MiB/s', k('PUT 64 MiB unsigned', 'mibPerSec'), diskMiBps);
  addRatio('PUT 64 MiB signed: Kura ÷ 1-core MD5+SHA-256+AES-GCM', 'MiB/s', k('PUT 64 MiB signed', 'mibPerSec'), cr('MD5 + SHA-256 + AES-256-GCM (one pass)'));
  addRatio('PUT 64 MiB unsigned: Kura ÷ 1-core MD5+AES-GCM', 'MiB/s', k('PUT 64 MiB unsigned', 'mibPerSec'), cr('MD5 + AES-256-GCM (one pass)'));
  addRatio('GET 64 MiB: Kura ÷ 1-core AES-GCM decrypt', 'MiB/s', k('GET 64 MiB', 'mibPerSec'), cr('AES-256-GCM decrypt'));
  addRatio('trivial GET 64 MiB ÷ 1-core AES-GCM decrypt', 'MiB/s', tv('GET 64 MiB', 'mibPerSec'), cr('AES-256-GCM decrypt'));
  // The GET path on one core does both: serve the bytes (what the trivial server does) and
  // decrypt them, so its ceiling is the two measured rates in series, 1 / (1/a + 1/b).
  const serial = (a: number | undefined, b: number | undefined): number | undefined => (a && b ? 1 / (1 / a + 1 / b) : undefined);
  addRatio('GET 64 MiB: Kura ÷ one-core path ceiling (trivial GET and AES-GCM decrypt in series)', 'MiB/s', k('GET 64 MiB', 'mibPerSec'), serial(tv('GET 64 MiB', 'mibPerSec'), cr('AES-256-GCM decrypt')), 0.6);
  if (sse) {
    // Encryption modes against SSE-S3 (the scenarios above), same run, same bounds.
    const SMALL_TARGET = 0.9;
    for (const mode of ['SSE-KMS + Bucket Key', 'SSE-KMS', 'SSE-C']) {
      const target = mode === 'SSE-KMS + Bucket Key' ? SMALL_TARGET : undefined;
      addRatio(`PUT 4 KiB ${mode} ÷ SSE-S3 (same run)`, 'ops/s', k(`PUT 4 KiB ${mode}`, 'opsPerSec'), k('PUT 4 KiB', 'opsPerSec'), target);
      addRatio(`GET 4 KiB ${mode} ÷ SSE-S3 (same run)`, 'ops/s', k(`GET 4 KiB ${mode}`, 'opsPerSec'), k('GET 4 KiB', 'opsPerSec'), target);
    }
    if (sse.abPut) ratios.push({ name: 'PUT 4 KiB SSE-KMS + Bucket Key ÷ SSE-S3: median of interleaved A/B rounds', value: sse.abPut.median, numerator: undefined, denominator: undefined, unit: 'ratio', target: SMALL_TARGET, targetMet: sse.abPut.median >= SMALL_TARGET });
    if (sse.abGet) ratios.push({ name: 'GET 4 KiB SSE-KMS + Bucket Key ÷ SSE-S3: median of interleaved A/B rounds', value: sse.abGet.median, numerator: undefined, denominator: undefined, unit: 'ratio', target: SMALL_TARGET, targetMet: sse.abGet.median >= SMALL_TARGET });
    for (const mode of ['SSE-KMS + Bucket Key', 'SSE-C']) {
      addRatio(`PUT 64 MiB signed ${mode} ÷ SSE-S3 (same run)`, 'MiB/s', k(`PUT 64 MiB signed ${mode}`, 'mibPerSec'), k('PUT 64 MiB signed', 'mibPerSec'));
      addRatio(`GET 64 MiB ${mode} ÷ SSE-S3 (same run)`, 'MiB/s', k(`GET 64 MiB ${mode}`, 'mibPerSec'), k('GET 64 MiB', 'mibPerSec'));
    }
    const kc = sse.kmsCount;
    if (kc) {
      ratios.push({ name: `KMS data-key ops for ${kc.puts.toLocaleString('en-US')} PUTs: without ÷ with Bucket Keys`, value: kc.ratio, numerator: kc.withoutBucketKeys, denominator: kc.withBucketKeys, unit: 'ops', target: 100, ...(kc.ratio !== undefined ? { targetMet: kc.ratio >= 100 } : {}) });
    }
  }
  if (crypto) {
    const ns = (n: string): number => crypto!.get(n)?.nsPerByte ?? NaN;
    const sumPut = ns('MD5') + ns('AES-256-GCM encrypt');
    const sumSigned = sumPut + ns('SHA-256');
    log('');
    log('== per-byte crypto cost (single core)');
    log(`  server unsigned PUT path  MD5 + AES-GCM:            ${sumPut.toFixed(3)} ns/B summed → ${fmt(1e9 / sumPut / MiB)} MiB/s; measured in one pass ${fmt(cr('MD5 + AES-256-GCM (one pass)'))} MiB/s`);
    log(`  server signed PUT path    MD5 + SHA-256 + AES-GCM:  ${sumSigned.toFixed(3)} ns/B summed → ${fmt(1e9 / sumSigned / MiB)} MiB/s; measured in one pass ${fmt(cr('MD5 + SHA-256 + AES-256-GCM (one pass)'))} MiB/s`);
    log(`  server GET path           AES-GCM decrypt:          ${ns('AES-256-GCM decrypt').toFixed(3)} ns/B → ${fmt(cr('AES-256-GCM decrypt'))} MiB/s`);
    log(`  client signed PUT         SHA-256 (precomputed here, outside timing): ${ns('SHA-256').toFixed(3)} ns/B → ${fmt(cr('SHA-256'))} MiB/s`);
  }
  if (ratios.some((r) => r.value !== undefined)) {
    log('');
    log('== ratios (1.00× = as fast as the ceiling)');
    const targetCell = (r: (typeof ratios)[number]): string => (r.target === undefined ? '' : `${r.targetMet === undefined ? '-' : r.targetMet ? 'met' : 'MISSED'} (≥ ${r.target >= 10 ? r.target.toFixed(0) : r.target.toFixed(2)})`);
    const num = (n: number | undefined, unit: string): string => `${fmt(n, unit === 'ops' ? 0 : undefined)} ${unit}`;
    log(table(['ratio', 'value', 'numerator', 'denominator', 'target'], ratios.map((r) => [r.name, fmtRatio(r.value), num(r.numerator, r.unit), num(r.denominator, r.unit), targetCell(r)]), 1));
  }
  if (sse?.kmsCount) {
    const kc = sse.kmsCount;
    log('');
    log(`KMS data-key operations for ${kc.puts.toLocaleString('en-US')} PUTs: without Bucket Keys ${kc.withoutBucketKeys}, with Bucket Keys ${kc.withBucketKeys}, ratio ${kc.ratio === undefined ? '-' : `${fmt(kc.ratio, 1)}×`} (target ≥ 100×: ${kc.ratio === undefined ? '-' : kc.ratio >= 100 ? 'met' : 'MISSED'})`);
    log(`  counted in <data-dir>/audit/audit.log: lines with operation "GenerateDataKey" and a viaRequestId, before/after ${kc.puts.toLocaleString('en-US')} PUTs of 4 KiB at concurrency ${kc.concurrency} each (Bucket Key bucket on a cold cache; ${kc.bucketKeyCachedAuthorizations} of its PUTs were served by the cached bucket key)`);
  }

  const phaseErrors = results.reduce((s, r) => s + r.errors, 0);
  const errorKinds: Record<string, number> = {};
  for (const r of results) for (const [kind, n] of Object.entries(r.errorKinds)) errorKinds[`${r.target} ${r.name}: ${kind}`] = n;
  const totalSeconds = (Date.now() - started) / 1000;

  const out = args.out ?? fileURLToPath(new URL('../bench-results.json', import.meta.url));
  const json = {
    date: new Date(started).toISOString(),
    command: `node ${argvShown}`,
    cwd: process.cwd(),
    machine,
    loadAverageAtStart: load,
    config: CFG,
    env: MALLOC_ENV,
    kura: { command: kuraCommand, endpoint: kuraEndpoint, startError: kuraError, vmHwmMiB: kuraHwmMiB, config: kuraConfigFile ? KURA_CONFIG : undefined },
    trivial: { command: trivialCommand },
    phases: results.map(({ okIndices: _okIndices, ...r }) => r),
    list,
    crypto: crypto && { bufferMiB: crypto.bufferMiB, chunkKiB: crypto.chunkKiB, results: crypto.results },
    ratios,
    sse,
    errors: { requests: phaseErrors, kinds: errorKinds, problems },
    totalSeconds,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);
  log('');
  log(`results written to ${out}; total ${totalSeconds.toFixed(1)} s`);

  if (phaseErrors || problems.length) {
    const bar = '!'.repeat(78);
    log('');
    log(bar);
    log(`!!! THIS BENCHMARK RUN HAD ERRORS: ${phaseErrors} failed requests, ${problems.length} other problems. Numbers are NOT valid.`);
    for (const [kind, n] of Object.entries(errorKinds)) log(`!!!   ${n} × ${kind}`);
    for (const p of problems) log(`!!!   ${p.replace(/\n/g, '\n!!!     ')}`);
    log(bar);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.stack ?? e.message : e);
    process.exit(2);
  },
);
