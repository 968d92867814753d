/**
 * The disk's durable write ceiling: a durable store cannot acknowledge large PUTs faster
 * than the disk accepts fsynced data, a limit the body-discarding trivial server never meets.
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Writes `totalMiB` (as much as the large-PUT scenario stores, so the page cache cannot hide the disk) in 1 MiB writes under `dir`, fsyncs, and reports MiB/s (best of `runs`). */
export function measureDiskWrite(dir: string, buf: Buffer, totalMiB = 1536, runs = 2): number {
  const MiB = 1024 * 1024;
  const tmp = mkdtempSync(join(dir, 'kura-disk-'));
  let best = 0;
  try {
    for (let r = 0; r < runs; r++) {
      const path = join(tmp, `f${r}`);
      const t0 = process.hrtime.bigint();
      const fd = openSync(path, 'w');
      for (let i = 0; i < totalMiB; i++) writeSync(fd, buf, (i % Math.max(1, Math.floor(buf.length / MiB))) * MiB % buf.length, MiB);
      fsyncSync(fd);
      closeSync(fd);
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      best = Math.max(best, totalMiB / s);
      rmSync(path);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return best;
}
