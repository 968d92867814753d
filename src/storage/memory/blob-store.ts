/**
 * An in-memory BlobStore for unit tests: same contract as FsBlobStore (no overwrite, nothing
 * stored when the source fails, reading a missing blob errors the stream), no durability.
 */
import { Readable } from 'node:stream';
import type { BlobHandle, BlobStore } from '../ports.js';

/** MemoryBlobStore keeps blobs as Buffers in a Map. */
export class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, { data: Buffer; mtimeMs: number }>();
  /** Ids being written, so a concurrent write of the same id fails like 'wx' would. */
  private readonly writing = new Set<string>();

  async write(blobId: string, source: Readable): Promise<{ bytes: number }> {
    if (this.blobs.has(blobId) || this.writing.has(blobId)) {
      source.destroy();
      throw Object.assign(new Error(`blob ${blobId} already exists`), { code: 'EEXIST' });
    }
    this.writing.add(blobId);
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of source) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
      const data = Buffer.concat(chunks);
      this.blobs.set(blobId, { data, mtimeMs: Date.now() });
      return { bytes: data.length };
    } finally {
      this.writing.delete(blobId);
    }
  }

  read(blobId: string, range?: { start: number; end: number }): Readable {
    const blob = this.blobs.get(blobId);
    if (blob === undefined) {
      const failed = new Readable({ read() { /* never produces */ } });
      process.nextTick(() => failed.destroy(Object.assign(new Error(`no such blob ${blobId}`), { code: 'ENOENT' })));
      return failed;
    }
    const data = range === undefined ? blob.data : blob.data.subarray(range.start, range.end + 1);
    return Readable.from([data], { objectMode: false });
  }

  async open(blobId: string): Promise<BlobHandle> {
    const blob = this.blobs.get(blobId);
    if (blob === undefined) throw Object.assign(new Error(`no such blob ${blobId}`), { code: 'ENOENT' });
    const data = blob.data;
    return {
      readAt: async (buf, length, position) => (position >= data.length ? 0 : data.copy(buf, 0, position, Math.min(data.length, position + length))),
      close: async () => undefined,
    };
  }

  async delete(blobId: string): Promise<void> {
    this.blobs.delete(blobId);
  }

  async *list(): AsyncIterable<{ blobId: string; mtimeMs: number }> {
    // A snapshot, so deleting while iterating (as GC does) is safe.
    for (const [blobId, { mtimeMs }] of [...this.blobs]) yield { blobId, mtimeMs };
  }

  /** Test hook: sets a blob's modification time (to exercise GC cut-offs). */
  setMtime(blobId: string, mtimeMs: number): void {
    const blob = this.blobs.get(blobId);
    if (blob !== undefined) blob.mtimeMs = mtimeMs;
  }
}
