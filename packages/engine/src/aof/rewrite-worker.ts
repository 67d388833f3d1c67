// The rewrite writer thread: Redis's rewrite child, minus the fork. It runs in a single-thread
// piscina pool (strict FIFO, like a bio thread), so its tasks arrive in order: open, batch...,
// finish (or abort). Batches are chunks of MessagePack plain entries (snapshot-codec.ts); the
// thread decodes them, encodes them as the new base (RESP or RDB) and writes them to the temp file
// with the real file system, fsyncing every 4 MiB and at the end. It never touches the keyspace:
// the main thread's copy-on-write snapshot decides what the entries are. State lives at module
// level between tasks: one rewrite per thread at a time.

import { NodeFileSystem } from '../io/node-file-system.ts';
import { InlineSnapshotSink } from './snapshot-sink.ts';

export interface OpenTask {
  path: string;
  timestampSec: number | null;
  incrementalFsync: boolean;
  rdbCtimeSec: number | null;
}

let sink: InlineSnapshotSink | null = null;

export async function open(task: OpenTask): Promise<void> {
  if (sink !== null) await sink.abort();
  sink = new InlineSnapshotSink(new NodeFileSystem());
  await sink.open(task.path, {
    timestampSec: task.timestampSec,
    incrementalFsync: task.incrementalFsync,
    rdbCtimeSec: task.rdbCtimeSec,
  });
}

export async function batch(data: Uint8Array<ArrayBuffer>): Promise<void> {
  if (sink === null) throw new Error('rewrite writer: batch before open');
  await sink.write(data);
}

/** Flush, fsync, close; the size of the new base in bytes. */
export async function finish(): Promise<number> {
  const s = sink;
  if (s === null) throw new Error('rewrite writer: finish before open');
  // Released whatever the outcome: a sink kept after a failed finish would hold the temp
  // file's fd (and its buffers) until the next rewrite, and the main thread deletes that file.
  sink = null;
  try {
    return await s.finish();
  } catch (err) {
    await s.abort();
    throw err;
  }
}

export async function abort(): Promise<void> {
  const s = sink;
  sink = null;
  await s?.abort();
}
