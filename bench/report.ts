/** Plain-text table and number formatting for the benchmark report. */
import type { PhaseResult } from './load.js';

export function fmt(n: number | undefined, digits?: number): string {
  if (n === undefined || !Number.isFinite(n)) return '-';
  const d = digits ?? (Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2);
  return n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return undefined;
  return a / b;
}

export function fmtRatio(r: number | undefined): string {
  return r === undefined ? '-' : `${r.toFixed(2)}×`;
}

/** Left-aligns the first `leftCols` columns, right-aligns the rest. */
export function table(header: string[], rows: string[][], leftCols = 2): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i < leftCols ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export const PHASE_HEADER = ['scenario', 'target', 'conc', 'ok', 'err', 'ops/s', 'MiB/s', 'p50 ms', 'p99 ms', 'srv RSS MiB', 'srv CPU%', 'cli CPU%', 'vs trivial'];

export function phaseRow(p: PhaseResult, vsTrivial?: number): string[] {
  const unit = p.unit === 'req' ? '' : ` ${p.unit}`;
  return [
    p.name,
    p.target,
    String(p.concurrency),
    `${p.ok}${p.completedAll ? '' : '*'}`,
    p.errors ? `${p.errors}!` : '0',
    `${fmt(p.opsPerSec)}${unit}`,
    p.bytes ? fmt(p.mibPerSec) : '-',
    fmt(p.p50Ms),
    fmt(p.p99Ms),
    fmt(p.serverPeakRssMiB, 0),
    fmt(p.serverCpuPercent, 0),
    fmt(p.clientCpuPercent, 0),
    fmtRatio(vsTrivial),
  ];
}

/** One progress line per finished phase. */
export function phaseLine(p: PhaseResult): string {
  const extra = p.extra ? Object.entries(p.extra).map(([k, v]) => ` ${k}=${fmt(v)}`).join('') : '';
  return `  ${p.target.padEnd(7)} ${p.name.padEnd(30)} ok=${p.ok} err=${p.errors} ${fmt(p.opsPerSec)} ${p.unit}/s ${p.bytes ? `${fmt(p.mibPerSec)} MiB/s ` : ''}p50=${fmt(p.p50Ms)}ms p99=${fmt(p.p99Ms)}ms srvRSS=${fmt(p.serverPeakRssMiB, 0)}MiB ${fmt(p.seconds)}s${extra}${p.completedAll ? '' : ' (time bound hit)'}`;
}
