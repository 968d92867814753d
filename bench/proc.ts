/** /proc readers: a server's RSS (sampled) and CPU time, and a short machine description. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

let clkTck: number | undefined;
function ticksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** VmRSS and VmHWM in KiB, or undefined when the process is gone or /proc is unavailable. */
export function memoryKiB(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(s);
    const hwm = /^VmHWM:\s+(\d+)\s+kB/m.exec(s);
    if (!rss) return undefined;
    return { rss: Number(rss[1]), hwm: hwm ? Number(hwm[1]) : Number(rss[1]) };
  } catch {
    return undefined;
  }
}

/** utime + stime of a process in seconds (all its threads), or undefined. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // After "pid (comm) ", field 3 (state) is index 0, so utime (14) is 11 and stime (15) is 12.
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/**
 * Samples a process's VmRSS every intervalMs while running and keeps the maximum. VmHWM
 * cannot be reset, so the per-scenario peak comes from these samples (a spike shorter than
 * the interval can be missed); the overall VmHWM is reported separately.
 */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  private peak = 0;
  private startCpu: number | undefined;
  private startWall = 0n;

  constructor(
    private readonly pid: number | undefined,
    private readonly intervalMs = 100,
  ) {}

  private sample(): void {
    if (this.pid === undefined) return;
    const m = memoryKiB(this.pid);
    if (m && m.rss > this.peak) this.peak = m.rss;
  }

  start(): void {
    this.peak = 0;
    this.sample();
    this.startCpu = this.pid === undefined ? undefined : cpuSeconds(this.pid);
    this.startWall = process.hrtime.bigint();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  /** Peak VmRSS (MiB) since start() and the process's CPU use over the period (% of one core). */
  stop(): { peakRssMiB: number | undefined; cpuPercent: number | undefined } {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
    const wall = Number(process.hrtime.bigint() - this.startWall) / 1e9;
    const endCpu = this.pid === undefined ? undefined : cpuSeconds(this.pid);
    const cpuPercent = this.startCpu !== undefined && endCpu !== undefined && wall > 0 ? ((endCpu - this.startCpu) / wall) * 100 : undefined;
    return { peakRssMiB: this.peak > 0 ? this.peak / 1024 : undefined, cpuPercent };
  }
}

export interface Machine {
  nproc: number;
  cpuModel: string;
  cpuFlags: string;
  memGiB: number;
  node: string;
  kernel: string;
  hostname: string;
}

export function describeMachine(): Machine {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  let cpuFlags = '';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    cpuModel = /^model name\s*:\s*(.*)$/m.exec(info)?.[1]?.trim() ?? cpuModel;
    const flags = new Set((/^flags\s*:\s*(.*)$/m.exec(info)?.[1] ?? '').split(/\s+/));
    cpuFlags = ['aes', 'pclmulqdq', 'avx2', 'avx512f', 'vaes', 'vpclmulqdq', 'sha_ni'].filter((f) => flags.has(f)).join(' ');
  } catch {
    // not Linux: keep os.cpus()
  }
  return {
    nproc: typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
    cpuModel,
    cpuFlags,
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    hostname: os.hostname(),
  };
}
