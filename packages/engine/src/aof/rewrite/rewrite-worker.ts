// The rewrite writer thread: Redis's rewrite child, minus the fork. It runs in a single-thread
// piscina pool (strict FIFO, like a bio thread), so its tasks arrive in order: open, batch...,
// finish (or abort); rewrite-writer-tasks.ts does them on the real disk. It never touches the
// keyspace: the main thread's copy-on-write snapshot decides what the entries are. One rewrite
// per thread at a time.

import { NodeFileSystem } from '../../io/node-file-system.ts';
import { RewriteWriterTasks, type OpenTask } from './rewrite-writer-tasks.ts';

const tasks = new RewriteWriterTasks(new NodeFileSystem());

export const open = (task: OpenTask): Promise<void> => tasks.open(task);
export const batch = (data: Uint8Array<ArrayBuffer>): Promise<void> => tasks.batch(data);
export const finish = (): Promise<number> => tasks.finish();
export const abort = (): Promise<void> => tasks.abort();
