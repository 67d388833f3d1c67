// What the rewrite writer does with the tasks it receives, in order: open, batch..., then finish
// or abort. Batches are chunks of MessagePack plain entries (snapshot-codec.ts), decoded and
// written as the new base (RESP or RDB) to the temp file, fsynced every 4 MiB and at the end.
// A class over a FileSystem, so the very same code runs in the writer thread (rewrite-worker.ts,
// on the real disk) and in simulations (in-process, on the simulated disk, through
// InProcessWriter), and the protocol's failure paths are the simulator's to walk too.

import type { FileSystem } from '../../io/file-system.ts';
import { InlineSnapshotSink } from './snapshot-sink.ts';

export interface OpenTask {
  path: string;
  timestampSec: number | null;
  incrementalFsync: boolean;
  rdbCtimeSec: number | null;
}

export type WriterTaskName = 'open' | 'batch' | 'finish' | 'abort';

export class RewriteWriterTasks {
  private readonly fs: FileSystem;
  /** The rewrite being written: one at a time. */
  private sink: InlineSnapshotSink | null = null;

  constructor(fs: FileSystem) {
    this.fs = fs;
  }

  async open(task: OpenTask): Promise<void> {
    await this.abort();
    const sink = new InlineSnapshotSink(this.fs);
    this.sink = sink;
    await sink.open(task.path, {
      timestampSec: task.timestampSec,
      incrementalFsync: task.incrementalFsync,
      rdbCtimeSec: task.rdbCtimeSec,
    });
  }

  async batch(data: Uint8Array<ArrayBuffer>): Promise<void> {
    if (this.sink === null) throw new Error('rewrite writer: batch before open');
    await this.sink.write(data);
  }

  /** Flush, fsync, close; the size of the new base in bytes. */
  async finish(): Promise<number> {
    const sink = this.sink;
    if (sink === null) throw new Error('rewrite writer: finish before open');
    // Released whatever the outcome: a sink kept after a failed finish would hold the temp
    // file's fd (and its buffers) until the next rewrite, and the main thread deletes that file.
    this.sink = null;
    try {
      return await sink.finish();
    } catch (err) {
      await sink.abort();
      throw err;
    }
  }

  async abort(): Promise<void> {
    const sink = this.sink;
    this.sink = null;
    await sink?.abort();
  }

  /** Run the task `name` (how a runner dispatches). */
  run(name: WriterTaskName, task: unknown): Promise<unknown> {
    switch (name) {
      case 'open':
        return this.open(task as OpenTask);
      case 'batch':
        return this.batch(task as Uint8Array<ArrayBuffer>);
      case 'finish':
        return this.finish();
      case 'abort':
        return this.abort();
    }
  }
}
