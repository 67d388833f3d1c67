// ThreadSnapshotSink: the main-thread side of the rewrite writer (rewrite-writer-tasks.ts), which
// runs in a thread of its own: a single-thread piscina pool with strict FIFO, so open, batches
// and finish run in order (WriterThread). Batches arrive encoded (snapshot-codec.ts) in buffers
// of their own, which are transferred, not copied. At most MAX_IN_FLIGHT batches are outstanding,
// so a slow disk slows the snapshot walk instead of queueing the whole dataset in memory. A task
// that fails (ENOSPC, EIO, a dead thread) fails the rewrite. Simulations run the same protocol
// with the writer's tasks in-process (InProcessWriter) on the simulated disk.

import { Piscina } from 'piscina';
import { resolveWorkerScript } from '@aofkv/bio-workers';
import type { SnapshotSink, SnapshotSinkOptions } from './snapshot-sink.ts';
import type { OpenTask, RewriteWriterTasks, WriterTaskName } from './rewrite-writer-tasks.ts';

const MAX_IN_FLIGHT = 4;

/** Where the writer's tasks run: a thread (production) or in-process (simulations). */
export interface WriterTaskRunner {
  /** Start the writer; `onError` hears of a writer that died outside a task. */
  start(onError: (err: unknown) => void): void;
  /** Run a task after the ones already submitted (FIFO). */
  run(name: WriterTaskName, task: unknown, transfer?: ArrayBuffer[]): Promise<unknown>;
  /** Stop the writer; tasks not run yet fail. */
  stop(): Promise<void>;
}

/** The writer thread: rewrite-worker.ts in a single-thread piscina pool. */
export class WriterThread implements WriterTaskRunner {
  private pool: Piscina | null = null;

  start(onError: (err: unknown) => void): void {
    const where = resolveWorkerScript(import.meta.url, './rewrite-worker');
    const pool = new Piscina({
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
    pool.on('error', onError);
    this.pool = pool;
  }

  run(name: WriterTaskName, task: unknown, transfer?: ArrayBuffer[]): Promise<unknown> {
    if (this.pool === null) return Promise.reject(new Error('rewrite writer: not started'));
    return this.pool.run(task, {
      name,
      ...(transfer !== undefined ? { transferList: transfer } : {}),
    });
  }

  async stop(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    if (pool !== null) await pool.destroy();
  }
}

/** The writer's tasks on the calling thread, one after the other (simulations). */
export class InProcessWriter implements WriterTaskRunner {
  private readonly tasks: RewriteWriterTasks;
  private tail: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(tasks: RewriteWriterTasks) {
    this.tasks = tasks;
  }

  start(): void {
    this.stopped = false;
  }

  run(name: WriterTaskName, task: unknown): Promise<unknown> {
    const next = this.tail.then(() => {
      if (this.stopped) throw new Error('rewrite writer: stopped');
      return this.tasks.run(name, task);
    });
    this.tail = next.catch(() => undefined);
    return next;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.tail;
  }
}

export class ThreadSnapshotSink implements SnapshotSink {
  private readonly runner: WriterTaskRunner;
  private started = false;
  private inFlight: Promise<unknown>[] = [];
  private failure: unknown = null;

  constructor(runner: WriterTaskRunner = new WriterThread()) {
    this.runner = runner;
  }

  async open(tempPath: string, options: SnapshotSinkOptions): Promise<void> {
    this.runner.start((err: unknown) => {
      this.failure ??= err;
    });
    this.started = true;
    const task: OpenTask = { path: tempPath, ...options };
    await this.runner.run('open', task);
  }

  private track(p: Promise<unknown>): void {
    const tracked = p.catch((err: unknown) => {
      this.failure ??= err;
    });
    this.inFlight.push(tracked);
  }

  async write(chunk: Uint8Array<ArrayBuffer>): Promise<void> {
    if (this.failure !== null) throw this.failure;
    this.track(this.runner.run('batch', chunk, [chunk.buffer]));
    while (this.inFlight.length >= MAX_IN_FLIGHT) await this.inFlight.shift();
    if (this.failure !== null) throw this.failure;
  }

  async finish(): Promise<number> {
    let sizeBytes: number;
    try {
      await Promise.all(this.inFlight.splice(0));
      if (this.failure !== null) throw this.failure;
      sizeBytes = (await this.runner.run('finish', null)) as number;
    } catch (err) {
      this.failure ??= err;
      // A batch or the final write / fsync failed (ENOSPC) with the writer's temp file still
      // open: the pool does not track unmanaged fds, so unless the writer closes it, the fd
      // outlives the thread and the deleted temp base keeps its disk space.
      await this.stopWriter();
      throw err;
    }
    await this.close();
    return sizeBytes;
  }

  async abort(): Promise<void> {
    this.failure ??= new Error('rewrite aborted');
    if (!this.started) return;
    await Promise.all(this.inFlight.splice(0));
    await this.stopWriter();
  }

  /** The writer's abort task (it closes its fd), then the writer. */
  private async stopWriter(): Promise<void> {
    // Threads share the process's fd table: the fd must be closed by the thread before it stops.
    await this.runner.run('abort', null).catch(() => undefined);
    await this.close();
  }

  private async close(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.runner.stop();
  }
}
