/**
 * Worker side of the hashing pool: keeps one set of running digests per job and answers
 * each chunk with an acknowledgement (the main thread's backpressure) and the end of a job
 * with the digests.
 */
import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { createChecksum, type ChecksumAlgorithm } from './checksums.js';

type Msg =
  | { t: 'start'; id: number; md5: boolean; algs: ChecksumAlgorithm[] }
  | { t: 'data'; id: number; ab: ArrayBuffer }
  | { t: 'end'; id: number }
  | { t: 'drop'; id: number };

interface Job {
  md5: Hash | undefined;
  sums: [ChecksumAlgorithm, ReturnType<typeof createChecksum>][];
}

const jobs = new Map<number, Job>();
const port = parentPort!;

port.on('message', (m: Msg) => {
  switch (m.t) {
    case 'start':
      jobs.set(m.id, { md5: m.md5 ? createHash('md5') : undefined, sums: m.algs.map((a) => [a, createChecksum(a)]) });
      break;
    case 'data': {
      const job = jobs.get(m.id);
      if (job) {
        const b = Buffer.from(m.ab);
        job.md5?.update(b);
        for (const [, s] of job.sums) s.update(b);
      }
      // The batch goes back to be refilled: hashing is done with it (update() keeps no reference).
      port.postMessage({ t: 'ack', id: m.id, n: m.ab.byteLength, ab: m.ab }, [m.ab]);
      break;
    }
    case 'end': {
      const job = jobs.get(m.id);
      jobs.delete(m.id);
      const md5 = job?.md5?.digest();
      const sums = (job?.sums ?? []).map(([a, s]) => [a, s.digest()] as const);
      port.postMessage({ t: 'digest', id: m.id, md5, sums });
      break;
    }
    case 'drop':
      jobs.delete(m.id);
      break;
  }
});
