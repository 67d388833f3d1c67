// Group commit for peers whose API commits one write at a time. aofkv (like Redis) writes and
// fsyncs once per event-loop turn for everything that turn produced; giving SQLite and LevelDB the
// same treatment — one transaction / batch per turn — is what a careful embedder would do, and it
// keeps the 64-in-flight comparison about storage engines rather than about who batches.
// lmdb-js already batches the puts of a turn into one transaction by itself.

import { kvOpMaker, type KvWrite, type Workload } from '../workload.ts';
import type { WindowCounters } from '../systems/types.ts';

interface Pending<T> {
  item: T;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class TurnBatcher<T> {
  private queue: Pending<T>[] = [];
  private scheduled = false;
  private readonly commit: (items: T[]) => void | Promise<void>;

  constructor(commit: (items: T[]) => void | Promise<void>) {
    this.commit = commit;
  }

  submit(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    try {
      await this.commit(batch.map((p) => p.item));
      for (const p of batch) p.resolve();
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}

/**
 * A peer whose writes go through a TurnBatcher (classic-level, SQLite): the workload's ops become
 * key-value writes committed once per turn by `commit`. It counts nothing itself (no fsync or
 * byte counters, no latency events): subclasses open and close their store.
 */
export abstract class TurnBatchedKvSystem {
  private readonly batcher: TurnBatcher<KvWrite>;

  constructor(commit: (items: KvWrite[]) => void | Promise<void>) {
    this.batcher = new TurnBatcher<KvWrite>(commit);
  }

  makeOp(workload: Workload, seed: number): () => Promise<unknown> {
    return kvOpMaker(workload, seed, (w) => this.batcher.submit(w));
  }

  async beginWindow(): Promise<void> {}

  async endWindow(): Promise<WindowCounters> {
    return { fsyncs: null, bytesWritten: null, latencyEvents: [] };
  }
}
