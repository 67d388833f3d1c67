// The rewrite writer thread: Redis's rewrite child, minus the fork. It receives msgpackr-packed
// batches of plain entries from the main thread, encodes them as the new base (RESP) and writes
// them to the temp file with the real file system, fsyncing every 4 MiB and at the end. It never
// touches the keyspace: the main thread's copy-on-write snapshot decides what the entries are.
// Messages: in  {op:'open'|'batch'|'finish'|'abort'}; out {op:'opened'|'ack'|'done'|'error'}.

import { parentPort } from 'node:worker_threads';
import { Unpackr } from 'msgpackr';
import { NodeFileSystem } from '../io/node-file-system.ts';
import { InlineSnapshotSink } from './snapshot-sink.ts';
import type { PlainEntry } from './plain-entry.ts';

export type WriterRequest =
  | { op: 'open'; path: string; timestampSec: number | null; incrementalFsync: boolean }
  | { op: 'batch'; id: number; data: Uint8Array }
  | { op: 'finish' }
  | { op: 'abort' };

export type WriterReply =
  | { op: 'opened' }
  | { op: 'ack'; id: number }
  | { op: 'done'; sizeBytes: number }
  | { op: 'aborted' }
  | { op: 'error'; code: string; message: string };

const port = parentPort;
if (port !== null) {
  const sink = new InlineSnapshotSink(new NodeFileSystem());
  const unpackr = new Unpackr({ useRecords: false });
  const reply = (m: WriterReply) => port.postMessage(m);
  const fail = (err: unknown) => {
    const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'EIO';
    reply({ op: 'error', code, message: err instanceof Error ? err.message : String(err) });
  };
  // Messages are handled strictly in order; each handler is synchronous underneath.
  let chain = Promise.resolve();
  port.on('message', (m: WriterRequest) => {
    chain = chain.then(async () => {
      try {
        switch (m.op) {
          case 'open':
            await sink.open(m.path, { timestampSec: m.timestampSec, incrementalFsync: m.incrementalFsync });
            reply({ op: 'opened' });
            break;
          case 'batch':
            await sink.write(unpackr.unpack(m.data) as PlainEntry[]);
            reply({ op: 'ack', id: m.id });
            break;
          case 'finish':
            reply({ op: 'done', sizeBytes: await sink.finish() });
            break;
          case 'abort':
            await sink.abort();
            reply({ op: 'aborted' });
            break;
        }
      } catch (err) {
        await sink.abort();
        fail(err);
      }
    });
  });
}
