/** Closed-loop load generation: N workers, bounded by request count and by time. */
import { RssSampler } from './proc.js';
import { expectOk, HttpError, LeanS3, type RequestOptions, type Target } from './sigv4.js';

export interface PhaseSpec {
  /** Scenario name shown in the table, e.g. "PUT 4 KiB". */
  name: string;
  /** "kura", "trivial", … */
  target: string;
  concurrency: number;
  /** Upper bound on requests started. */
  maxRequests: number;
  /** No request starts after this many seconds (requests in flight finish). */
  maxSeconds: number;
  /**
   * Keep going past maxRequests until this many seconds have passed, so fast targets are
   * measured over a meaningful interval; still capped at MIN_SECONDS_CAP × maxRequests.
   */
  minSeconds?: number;
  /** Runs request i; resolves with the payload bytes moved, throws on any failure. */
  op: (i: number) => Promise<number>;
  /** Process whose RSS/CPU is sampled during the phase. */
  serverPid?: number;
  /** Unit of a "request" for the table (default "req"). */
  unit?: string;
}

export interface PhaseResult {
  name: string;
  target: string;
  concurrency: number;
  unit: string;
  started: number;
  ok: number;
  errors: number;
  errorKinds: Record<string, number>;
  firstErrors: string[];
  bytes: number;
  seconds: number;
  opsPerSec: number;
  mibPerSec: number;
  p50Ms: number | undefined;
  p99Ms: number | undefined;
  maxMs: number | undefined;
  serverPeakRssMiB: number | undefined;
  serverCpuPercent: number | undefined;
  clientCpuPercent: number;
  /** Indices whose request succeeded (for follow-up phases, e.g. GET what was PUT). */
  okIndices: number[];
  /** Reached the request count (true) or stopped by the time bound first (false). */
  completedAll: boolean;
  extra?: Record<string, number>;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: Float64Array | number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[idx];
}

/** With minSeconds, at most this many times maxRequests are issued. */
export const MIN_SECONDS_CAP = 8;

export async function runPhase(spec: PhaseSpec): Promise<PhaseResult> {
  const cap = spec.minSeconds ? spec.maxRequests * MIN_SECONDS_CAP : spec.maxRequests;
  const latencies = new Float64Array(cap);
  let nLat = 0;
  let next = 0;
  let ok = 0;
  let errors = 0;
  let bytes = 0;
  const errorKinds: Record<string, number> = {};
  const firstErrors: string[] = [];
  const okIndices: number[] = [];
  const sampler = new RssSampler(spec.serverPid);
  sampler.start();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const deadline = t0 + BigInt(Math.round(spec.maxSeconds * 1e9));
  const minDeadline = t0 + BigInt(Math.round((spec.minSeconds ?? 0) * 1e9));
  const more = (): boolean => {
    const now = process.hrtime.bigint();
    return now < deadline && (next < spec.maxRequests || (next < cap && now < minDeadline));
  };

  const worker = async (): Promise<void> => {
    while (more()) {
      const i = next++;
      const s = process.hrtime.bigint();
      try {
        const n = await spec.op(i);
        latencies[nLat++] = Number(process.hrtime.bigint() - s) / 1e6;
        bytes += n;
        ok++;
        okIndices.push(i);
      } catch (e) {
        errors++;
        const label = e instanceof HttpError ? e.label : e instanceof Error ? e.message.slice(0, 80) : String(e);
        errorKinds[label] = (errorKinds[label] ?? 0) + 1;
        if (firstErrors.length < 3) firstErrors.push(`${spec.name} #${i}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, () => worker()));

  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const srv = sampler.stop();
  const lat = latencies.subarray(0, nLat).sort();
  okIndices.sort((a, b) => a - b);
  return {
    name: spec.name,
    target: spec.target,
    concurrency: spec.concurrency,
    unit: spec.unit ?? 'req',
    started: next,
    ok,
    errors,
    errorKinds,
    firstErrors,
    bytes,
    seconds,
    opsPerSec: ok / seconds,
    mibPerSec: bytes / 2 ** 20 / seconds,
    p50Ms: percentile(lat, 0.5),
    p99Ms: percentile(lat, 0.99),
    maxMs: lat.length ? lat[lat.length - 1] : undefined,
    serverPeakRssMiB: srv.peakRssMiB,
    serverCpuPercent: srv.cpuPercent,
    clientCpuPercent: ((cpu.user + cpu.system) / 1e6 / seconds) * 100,
    okIndices,
    completedAll: next >= spec.maxRequests,
  };
}

/**
 * Untimed GETs for `seconds`, so a read path is compiled before a phase measures it (a phase
 * that starts on cold code spends its first second well below its steady rate). The caller
 * reports the result's errors.
 */
export async function warmUpGets(
  target: Target, label: string, name: string, concurrency: number, seconds: number, request: (i: number) => Omit<RequestOptions, 'method'>,
): Promise<PhaseResult> {
  const c = new LeanS3(target, concurrency);
  try {
    return await runPhase({
      name, target: label, concurrency, maxRequests: 200_000, maxSeconds: seconds,
      op: async (i) => expectOk('GET', await c.request({ method: 'GET', ...request(i) })).bytes,
    });
  } finally {
    c.close();
  }
}
