/** Spawning the servers under test as child processes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** glibc heap tuning: without it, heap trimming after each large buffer halves AES-GCM throughput. */
export const MALLOC_ENV = { MALLOC_TOP_PAD_: '268435456', MALLOC_TRIM_THRESHOLD_: '1073741824' };
/**
 * V8 heap tuning, as `npm start` applies it: V8 counts ArrayBuffer memory
 * allocated since the last full GC against a small old-generation limit, so streaming large
 * bodies with a small JS heap triggered dozens of full GCs a second. Both servers get it.
 */
export const NODE_FLAGS = ['--initial-old-space-size=128'];

export interface Spawned {
  endpoint: string;
  proc: ChildProcess;
  pid: number;
  /** The command line, with the environment that matters, for the report. */
  command: string;
  stderr(): string;
  stop(): Promise<void>;
}

/** Looks for the repository root (holding bin/kura.js) above the compiled bench and the cwd. */
export function findRepoRoot(): string | undefined {
  const starts = [dirname(fileURLToPath(import.meta.url)), process.cwd()];
  for (const start of starts) {
    let dir = resolve(start);
    for (;;) {
      if (existsSync(join(dir, 'bin', 'kura.js')) && existsSync(join(dir, 'package.json'))) return dir;
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return undefined;
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

async function spawnListening(
  label: string,
  args: string[],
  env: Record<string, string>,
  shownEnv: Record<string, string>,
  pattern: RegExp,
  timeoutMs: number,
): Promise<Spawned> {
  const proc = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > 64_000) err = err.slice(-32_000);
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const endpoint = await new Promise<string>((resolveP, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${label} did not print its listening line within ${timeoutMs} ms; stderr:\n${err.slice(-2000)}`));
    }, timeoutMs);
    proc.stdout!.on('data', (d: Buffer) => {
      if (out.length < 16_000) out += d.toString();
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveP(`http://127.0.0.1:${m[1]}`);
      }
    });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited (${code ?? signal}) before listening; stderr:\n${err.slice(-2000)}\nstdout:\n${out.slice(-1000)}`));
    });
    proc.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  const command = [...Object.entries(shownEnv).map(([k, v]) => `${k}=${shellQuote(v)}`), 'node', ...args.map(shellQuote)].join(' ');
  return {
    endpoint,
    proc,
    pid: proc.pid!,
    command,
    stderr: () => err,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

export interface KuraOptions {
  kuraBin: string;
  dataDir: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** A JSON configuration file passed with --config (the bench's: {"allowSseOverHttp": true}). */
  configFile?: string;
}

export function startKura(o: KuraOptions): Promise<Spawned> {
  const args = [...NODE_FLAGS, o.kuraBin, 'server', '--data-dir', o.dataDir, '--port', '0', '--https-port', '-1'];
  if (o.configFile !== undefined) args.push('--config', o.configFile);
  const env = {
    KURA_ROOT_ACCESS_KEY_ID: o.accessKeyId,
    KURA_ROOT_SECRET_ACCESS_KEY: o.secretAccessKey,
    KURA_LOG_LEVEL: 'warn',
    ...MALLOC_ENV,
  };
  const shown = { ...env, KURA_ROOT_SECRET_ACCESS_KEY: '…' };
  return spawnListening('kura', args, env, shown, /listening on http:\/\/[^\s]*:(\d+)/, 60_000);
}

export function startTrivial(): Promise<Spawned> {
  const script = fileURLToPath(new URL('./trivial-server.js', import.meta.url));
  return spawnListening('trivial server', [...NODE_FLAGS, script], { ...MALLOC_ENV }, { ...MALLOC_ENV }, /listening on http:\/\/[^\s]*:(\d+)/, 15_000);
}
