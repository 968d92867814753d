/**
 * Hashing off the event loop. A large upload must be hashed (MD5 for the ETag, plus any
 * requested checksum) and encrypted; MD5 alone runs at ~600 MiB/s on one core, so doing
 * both on the main thread caps uploads at a single core. The pool moves the hashing of
 * large bodies to worker threads, so it runs in parallel with encryption and I/O.
 * Chunks are copied once into 1 MiB batches that are transferred (not cloned) and come back
 * with the worker's acknowledgement to be reused: a fresh zeroed 1 MiB buffer per MiB hashed
 * cost more than the copy. The caller waits when too many bytes are in flight, so a slow
 * worker slows the upload instead of growing memory.
 */
import { Worker } from 'node:worker_threads';
import type { ChecksumAlgorithm } from './checksums.js';

interface Pending {
  inflight: number;
  waiters: (() => void)[];
  resolve?: (d: Digests) => void;
  reject?: (e: Error) => void;
  failed?: Error;
}

export interface Digests {
  md5: Buffer | undefined;
  sums: Map<ChecksumAlgorithm, Buffer>;
}

const BATCH_BYTES = 1024 * 1024;
/** Returned batches kept for reuse (beyond this many, returned ones are dropped). */
const SPARE_BATCHES = 16;

/** Bytes a job may have sent but not yet had acknowledged. */
const MAX_INFLIGHT = 8 * 1024 * 1024;

export class HashPool {
  private readonly workers: Worker[] = [];
  private readonly jobs = new Map<number, Pending>();
  private nextId = 1;
  private rr = 0;
  /** Full-size batch buffers the workers sent back. */
  private readonly spare: ArrayBuffer[] = [];

  /** Workers that exited; no new job goes to them. */
  private readonly dead = new Set<Worker>();

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(new URL('./hash-worker-thread.js', import.meta.url));
      w.unref();
      // A dead worker must not leave uploads waiting forever: fail every job in flight (the
      // uploads fail), and send no more jobs its way (callers hash inline when none is left).
      const fail = (e: Error): void => {
        this.dead.add(w);
        for (const job of this.jobs.values()) {
          job.failed = e;
          for (const wake of job.waiters.splice(0)) wake();
          job.reject?.(e);
        }
        this.jobs.clear();
      };
      w.on('error', fail);
      w.on('exit', (code) => fail(new Error(`hash worker exited with code ${code}`)));
      w.on('message', (m: WorkerMessage) => this.onMessage(m));
      this.workers.push(w);
    }
  }

  private onMessage(m: WorkerMessage): void {
    if (m.t === 'ack' && m.ab?.byteLength === BATCH_BYTES && this.spare.length < SPARE_BATCHES) this.spare.push(m.ab);
    const job = this.jobs.get(m.id);
    if (!job) return;
    if (m.t === 'ack') {
      job.inflight -= m.n;
      if (job.inflight <= MAX_INFLIGHT / 2) for (const w of job.waiters.splice(0)) w();
      return;
    }
    this.jobs.delete(m.id);
    job.resolve?.({ md5: m.md5 ? Buffer.from(m.md5) : undefined, sums: new Map(m.sums.map(([a, d]) => [a, Buffer.from(d)])) });
  }

  /** Starts a hashing job on the next live worker; undefined when none is left (hash inline then). */
  start(md5: boolean, algs: readonly ChecksumAlgorithm[]): HashJob | undefined {
    const live = this.workers.filter((w) => !this.dead.has(w));
    if (live.length === 0) return undefined;
    const id = this.nextId++;
    const worker = live[this.rr++ % live.length]!;
    const pending: Pending = { inflight: 0, waiters: [] };
    this.jobs.set(id, pending);
    worker.postMessage({ t: 'start', id, md5, algs: [...algs] });
    return new HashJob(id, worker, pending, () => this.jobs.delete(id), this.spare);
  }

  async close(): Promise<void> {
    for (const w of this.workers) w.removeAllListeners('exit');
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

type WorkerMessage =
  | { t: 'ack'; id: number; n: number; ab?: ArrayBuffer }
  | { t: 'digest'; id: number; md5?: Uint8Array; sums: [ChecksumAlgorithm, Uint8Array][] };

export class HashJob {
  constructor(
    private readonly id: number,
    private readonly worker: Worker,
    private readonly pending: Pending,
    private readonly forget: () => void,
    private readonly spare: ArrayBuffer[] = [],
  ) {}

  /** Bytes are copied into this batch and sent 1 MiB at a time (one message per MiB, not per chunk). */
  private batch: Uint8Array | undefined;
  private batchLen = 0;

  private send(): void {
    if (!this.batch || this.batchLen === 0) return;
    const ab = this.batch.buffer.byteLength === this.batchLen ? this.batch.buffer : this.batch.buffer.slice(0, this.batchLen);
    this.pending.inflight += this.batchLen;
    this.worker.postMessage({ t: 'data', id: this.id, ab }, [ab as ArrayBuffer]);
    this.batch = undefined;
    this.batchLen = 0;
  }

  /** Takes a chunk; resolves at once unless too many bytes are in flight. */
  update(chunk: Buffer): Promise<void> | undefined {
    let off = 0;
    while (off < chunk.length) {
      if (this.batch === undefined) {
        const reused = this.spare.pop();
        this.batch = reused ? new Uint8Array(reused) : new Uint8Array(BATCH_BYTES);
      }
      const n = Math.min(chunk.length - off, BATCH_BYTES - this.batchLen);
      this.batch.set(chunk.subarray(off, off + n), this.batchLen);
      this.batchLen += n;
      off += n;
      if (this.batchLen === BATCH_BYTES) this.send();
    }
    // A failed job (its worker died) never gets acknowledgements: do not wait for them;
    // digest() reports the failure.
    if (this.pending.failed || this.pending.inflight <= MAX_INFLIGHT) return undefined;
    return new Promise((r) => this.pending.waiters.push(r));
  }

  digest(): Promise<Digests> {
    this.send();
    return new Promise((resolve, reject) => {
      if (this.pending.failed) return reject(this.pending.failed);
      this.pending.resolve = resolve;
      this.pending.reject = reject;
      this.worker.postMessage({ t: 'end', id: this.id });
    });
  }

  /** Abandons the job (the upload failed). */
  drop(): void {
    this.forget();
    this.worker.postMessage({ t: 'drop', id: this.id });
    for (const w of this.pending.waiters.splice(0)) w();
  }
}
