/**
 * End-to-end harness: runs the real `kura server` as a child process on 127.0.0.1 with a
 * fresh data directory and fixed root credentials, and gives tests real clients for it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const KURA_BIN = join(ROOT, 'bin', 'kura.js');
export const AWS_CLI = '/usr/bin/aws';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** STS temporary credentials. */
  sessionToken?: string;
}

export interface RunningKura {
  endpoint: string;
  httpsEndpoint: string | undefined;
  dataDir: string;
  root: Credentials;
  proc: ChildProcess;
  stderr: () => string;
  /** Graceful stop; removes the data directory unless keep is set. */
  stop(opts?: { keep?: boolean }): Promise<void>;
  /** kill -9 */
  kill(): Promise<void>;
}

export const ROOT_CREDS: Credentials = { accessKeyId: 'AKIAKURATESTROOT0001', secretAccessKey: 'kura-test-root-secret-0000000000000000000' };

export interface StartOptions {
  dataDir?: string;
  env?: Record<string, string>;
  args?: string[];
  https?: boolean;
}

/** Starts a server and resolves once it listens. */
export async function startKura(opts: StartOptions = {}): Promise<RunningKura> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'kura-e2e-'));
  const args = [KURA_BIN, 'server', '--data-dir', dataDir, '--port', '0', '--https-port', opts.https ? '0' : '-1', ...(opts.args ?? [])];
  const proc = spawn(process.execPath, args, {
    env: {
      ...process.env,
      KURA_ROOT_ACCESS_KEY_ID: ROOT_CREDS.accessKeyId,
      KURA_ROOT_SECRET_ACCESS_KEY: ROOT_CREDS.secretAccessKey,
      KURA_LOG_LEVEL: 'warn',
      MALLOC_TOP_PAD_: '268435456',
      MALLOC_TRIM_THRESHOLD_: '1073741824',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const ports = await new Promise<{ http: number; https: number | undefined }>((resolveP, reject) => {
    const timer = setTimeout(() => reject(new Error(`kura did not start: ${err}`)), 30_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on http:\/\/[^:]+:(\d+)(?: and https:\/\/[^:]+:(\d+))?/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveP({ http: Number(m[1]), https: m[2] ? Number(m[2]) : undefined });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kura exited with ${code}: ${err}`));
    });
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    endpoint: `http://127.0.0.1:${ports.http}`,
    httpsEndpoint: ports.https ? `https://127.0.0.1:${ports.https}` : undefined,
    dataDir,
    root: ROOT_CREDS,
    proc,
    stderr: () => err,
    stop: async (o = {}) => {
      proc.kill('SIGTERM');
      await exited;
      if (!o.keep) rmSync(dataDir, { recursive: true, force: true });
    },
    kill: async () => {
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** An SDK client for the server (path-style, as for any 127.0.0.1 endpoint). */
export function s3(k: RunningKura, creds: Credentials = k.root, extra: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    endpoint: k.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: creds,
    ...extra,
  });
}

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** An IAM client for the server (IAM signs for us-east-1). */
export function iam(k: RunningKura, creds: Credentials = k.root): IAMClient {
  return new IAMClient({ endpoint: k.endpoint, region: 'us-east-1', credentials: creds });
}

/** An STS client for the server. */
export function sts(k: RunningKura, creds: Credentials = k.root): STSClient {
  return new STSClient({ endpoint: k.endpoint, region: 'us-east-1', credentials: creds });
}

/** Runs the AWS CLI v2 against the server. */
export function aws(k: RunningKura, args: string[], creds: Credentials = k.root, input?: string): CliResult {
  const r = spawnSync(AWS_CLI, ['--endpoint-url', k.endpoint, '--region', 'us-east-1', '--output', 'json', ...args], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      AWS_ACCESS_KEY_ID: creds.accessKeyId,
      AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
      ...(creds.sessionToken !== undefined ? { AWS_SESSION_TOKEN: creds.sessionToken } : {}),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_PAGER: '',
    },
    encoding: 'utf8',
    input,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the kura admin CLI. */
export function kuraCli(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [KURA_BIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** 'OK', or the name of the service error an SDK call failed with (anything else is rethrown). */
export async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    const r = await p;
    // Drain a GetObject body so its socket goes back to the pool.
    const body = (r as { Body?: { transformToString?: () => Promise<string> } } | undefined)?.Body;
    if (typeof body?.transformToString === 'function') await body.transformToString();
    return 'OK';
  } catch (e) {
    if (!(e instanceof Error) || !('$metadata' in e)) throw e;
    return e.name;
  }
}

let counter = 0;
/** A fresh bucket name per test. */
export function bucketName(prefix = 'b'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}-${Date.now().toString(36)}`;
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** SigV4 Authorization for a raw request (tests that need control over the body on the wire). */
export function sigv4Headers(k: RunningKura, method: string, path: string, headers: Record<string, string>, payloadHash: string, service = 's3'): Record<string, string> {
  const hmac = (key: Buffer | string, d: string): Buffer => createHmac('sha256', key).update(d).digest();
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/us-east-1/${service}/aws4_request`;
  const all: Record<string, string> = { ...headers, host: new URL(k.endpoint).host, 'x-amz-date': amzDate, 'x-amz-content-sha256': payloadHash };
  const names = Object.keys(all).map((h) => h.toLowerCase()).sort();
  const lower = Object.fromEntries(Object.entries(all).map(([n, v]) => [n.toLowerCase(), v]));
  const canonical = [method, path, '', ...names.map((h) => `${h}:${lower[h]!.trim()}`), '', names.join(';'), payloadHash].join('\n');
  const sts = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${k.root.secretAccessKey}`, day), 'us-east-1'), service), 'aws4_request');
  const signature = hmac(key, sts).toString('hex');
  return { ...all, authorization: `AWS4-HMAC-SHA256 Credential=${k.root.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}` };
}
