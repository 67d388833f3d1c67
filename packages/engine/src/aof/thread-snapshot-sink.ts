// ThreadSnapshotSink: the main-thread side of the rewrite writer thread (rewrite-worker.ts), a
// single-thread piscina pool with strict FIFO so open, batches and finish run in order. Batches
// arrive encoded (snapshot-codec.ts) in buffers of their own, which are transferred, not copied.
// At most MAX_IN_FLIGHT batches are outstanding, so a slow disk slows the snapshot walk instead
// of queueing the whole dataset in memory. A task that fails (ENOSPC, EIO, a dead thread) fails the rewrite.

import { Piscina } from 'piscina';
import { resolveWorkerScript } from '@aofkv/bio-workers';
import type { SnapshotSink, SnapshotSinkOptions } from './snapshot-sink.ts';
import type { OpenTask } from './rewrite-worker.ts';

const MAX_IN_FLIGHT = 4;

export class ThreadSnapshotSink implements SnapshotSink {
  private pool: Piscina | null = null;
  private inFlight: Promise<unknown>[] = [];
  private failure: unknown = null;

  async open(tempPath: string, options: SnapshotSinkOptions): Promise<void> {
    const where = resolveWorkerScript(import.meta.url, './rewrite-worker');
    this.pool = new Piscina({
      filename: where.url.href,
      // Preload the module when the thread starts (as the bio pools do): from source, a handler
      // imported lazily at the first task does not get tsx's hooks on Node 20.
      name: 'open',
      minThreads: 1,
      maxThreads: 1,
      concurrentTasksPerWorker: 1,
      idleTimeout: Infinity,
      stricterFIFO: true,
      trackUnmanagedFds: false,
      ...(where.execArgv !== undefined ? { execArgv: where.execArgv } : {}),
    });
    this.pool.on('error', (err: unknown) => {
      this.failure ??= err;
    });
    const task: OpenTask = { path: tempPath, ...options };
    await this.pool.run(task, { name: 'open' });
  }

  private track(p: Promise<unknown>): void {
    const tracked = p.catch((err: unknown) => {
      this.failure ??= err;
    });
    this.inFlight.push(tracked);
  }

  async write(chunk: Uint8Array<ArrayBuffer>): Promise<void> {
    if (this.failure !== null) throw this.failure;
    this.track(this.pool!.run(chunk, { name: 'batch', transferList: [chunk.buffer] }));
    while (this.inFlight.length >= MAX_IN_FLIGHT) await this.inFlight.shift();
    if (this.failure !== null) throw this.failure;
  }

  async finish(): Promise<number> {
    let sizeBytes: number;
    try {
      await Promise.all(this.inFlight.splice(0));
      if (this.failure !== null) throw this.failure;
      sizeBytes = (await this.pool!.run(null, { name: 'finish' })) as number;
    } catch (err) {
      this.failure ??= err;
      // A batch or the final write / fsync failed (ENOSPC) with the thread's temp file still
      // open: the pool does not track unmanaged fds, so unless the thread closes it, the fd
      // outlives the thread and the deleted temp base keeps its disk space.
      await this.stopThread();
      throw err;
    }
    await this.close();
    return sizeBytes;
  }

  async abort(): Promise<void> {
    this.failure ??= new Error('rewrite aborted');
    if (this.pool === null) return;
    await Promise.all(this.inFlight.splice(0));
    await this.stopThread();
  }

  /** The thread's abort task (it closes its fd), then the pool. */
  private async stopThread(): Promise<void> {
    // Threads share the process's fd table: the fd must be closed by the thread before it stops.
    await this.pool?.run(null, { name: 'abort' }).catch(() => undefined);
    await this.close();
  }

  private async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    if (pool !== null) await pool.destroy();
  }
}
