// Where a rewrite's snapshot goes: the new base file, written to a temp file that is fsynced and
// closed before the rewrite is declared done. Two implementations with one contract:
//   InlineSnapshotSink   decodes, encodes and writes on the calling thread through the FileSystem
//                        seam; deterministic, used with the simulated file system.
//   ThreadSnapshotSink   (thread-snapshot-sink.ts) hands the chunks to a writer thread that
//                        decodes, encodes and writes them: Redis's rewrite child.
// A chunk is snapshot-codec.ts's MessagePack stream of plain entries.
// Both fsync every 4 MiB when aof-rewrite-incremental-fsync is on (REDIS_AUTOSYNC_BYTES) and once
// at the end, as Redis's rewriteAppendOnlyFile does.

import type { FileSystem } from '../../io/file-system.ts';
import type { PlainEntry } from '../../keyspace/plain-entry.ts';
import { decodeSnapshotChunk } from './snapshot-codec.ts';
import { RespBaseWriter } from './aof-snapshot-resp.ts';
import { RdbBaseWriter } from '../../rdb/rdb-writer.ts';

/** Redis REDIS_AUTOSYNC_BYTES. */
export const AUTOSYNC_BYTES = 4 * 1024 * 1024;

export interface SnapshotSinkOptions {
  /** Write `#TS:<sec>` first (aof-timestamp-enabled, RESP bases only). */
  timestampSec: number | null;
  incrementalFsync: boolean;
  /** An RDB base (aof-use-rdb-preamble) with this ctime aux field; null for a RESP base. */
  rdbCtimeSec: number | null;
}

/** What both base writers offer: add entries, write out what is buffered, count bytes. */
interface BaseWriter {
  add(entry: PlainEntry): void;
  drain(): void;
  readonly bytesWritten: number;
}

export interface SnapshotSink {
  /** Create/truncate the temp file. Throws on failure. */
  open(tempPath: string, options: SnapshotSinkOptions): Promise<void>;
  /**
   * Take a chunk of encoded entries (ownership passes to the sink); resolves when more may be
   * sent (backpressure), rejects on a write error.
   */
  write(chunk: Uint8Array<ArrayBuffer>): Promise<void>;
  /** Flush, fsync and close; resolves with the file size in bytes. */
  finish(): Promise<number>;
  /** Stop without finishing; the caller unlinks the temp file. Never rejects. */
  abort(): Promise<void>;
}

export class InlineSnapshotSink implements SnapshotSink {
  private readonly fs: FileSystem;
  private fd = -1;
  private writer: BaseWriter | null = null;
  private rdb: RdbBaseWriter | null = null;
  private incrementalFsync = false;
  private syncedUpToBytes = 0;

  constructor(fs: FileSystem) {
    this.fs = fs;
  }

  async open(tempPath: string, options: SnapshotSinkOptions): Promise<void> {
    this.fd = this.fs.open(tempPath, 'write-truncate');
    this.incrementalFsync = options.incrementalFsync;
    if (options.rdbCtimeSec !== null) {
      this.rdb = new RdbBaseWriter(this.fs, this.fd, {
        aofBase: true,
        ctimeSec: options.rdbCtimeSec,
      });
      this.writer = this.rdb;
    } else {
      this.writer = new RespBaseWriter(this.fs, this.fd, { timestampSec: options.timestampSec });
    }
  }

  async write(chunk: Uint8Array<ArrayBuffer>): Promise<void> {
    const writer = this.writer!;
    for (const e of decodeSnapshotChunk(chunk)) writer.add(e);
    if (this.incrementalFsync && writer.bytesWritten - this.syncedUpToBytes >= AUTOSYNC_BYTES) {
      this.fs.fdatasync(this.fd);
      this.syncedUpToBytes = writer.bytesWritten;
    }
  }

  async finish(): Promise<number> {
    const writer = this.writer!;
    try {
      if (this.rdb !== null)
        this.rdb.finish(); // EOF opcode and CRC64, then write out
      else writer.drain();
      this.fs.fdatasync(this.fd);
    } catch (err) {
      // The caller unlinks the temp file after a failure; an fd still open on it would keep
      // its disk space until the process exits (in the writer thread, nothing else closes it).
      this.closeQuietly();
      throw err;
    }
    this.fs.close(this.takeFd());
    return writer.bytesWritten;
  }

  async abort(): Promise<void> {
    this.closeQuietly();
  }

  /**
   * The temp file's fd, forgotten before it is closed: Linux releases an fd even when close(2)
   * fails, and closing it a second time could close an fd number reused by someone else since.
   */
  private takeFd(): number {
    const fd = this.fd;
    this.fd = -1;
    return fd;
  }

  /** Close on a path that is already failing or aborting: the first error is the one reported. */
  private closeQuietly(): void {
    const fd = this.takeFd();
    if (fd === -1) return;
    try {
      this.fs.close(fd);
    } catch {
      /* already failing */
    }
  }
}
