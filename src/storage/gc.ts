/**
 * Start-up garbage collection: deletes blobs that no metadata references. They are left by
 * uploads interrupted between the blob write and the metadata commit, by crashes before a
 * caller deleted the garbage a write returned, and by deletes a crash undid.
 */
import type { BlobStore, MetadataStore } from './ports.js';

/** Options for collectGarbage. */
export interface GcOptions {
  /**
   * Only blobs last modified longer ago than this are candidates. A blob is written (and its
   * mtime set) before the metadata that references it commits, so a cut-off far longer than
   * that gap guarantees an in-flight upload's blob is never taken.
   */
  olderThanMs: number;
  /** Injected clock for tests. */
  now?: number;
}

/** Deletes unreferenced blobs older than the cut-off; returns how many were deleted. */
export async function collectGarbage(meta: MetadataStore, blobs: BlobStore, opts: GcOptions): Promise<number> {
  const cutoff = (opts.now ?? Date.now()) - opts.olderThanMs;
  // References are read before blobs are listed: a blob that gains its first reference after
  // this snapshot was written just before that commit, so it is younger than the cut-off.
  const referenced = new Set<string>();
  for await (const id of meta.referencedBlobIds()) referenced.add(id);
  let deleted = 0;
  for await (const { blobId, mtimeMs } of blobs.list()) {
    if (mtimeMs >= cutoff || referenced.has(blobId)) continue;
    await blobs.delete(blobId);
    deleted++;
  }
  return deleted;
}
