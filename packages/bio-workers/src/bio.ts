// DESIGN: Redis's bio threads (bio.c) as Piscina pools.
//
// What runs where.
// - Main thread (the engine's event loop): submitFsync/submitClose add 1 to the type's pending
//   counter, then hand the job to that type's pool; pending(), fsyncStatus() and the 'submit'
//   event are answered right here, synchronously, from a SharedArrayBuffer (bio-counters.ts).
// - One worker thread per Redis bio thread: the CLOSE_FILE pool runs closeFile jobs, the
//   AOF_FSYNC pool runs aofFsync jobs (workers/bio-worker.ts). Each pool has exactly one thread,
//   runs one job at a time and is never recycled, so jobs of one type run one after another in
//   submission order, and the two types never wait for each other: a slow fsync does not hold up
//   closing (or unlinking) an old AOF file. Redis 7.0 has no job that needs ordering across the
//   two. The worker runs the syscall, records the fsync status, and only then subtracts 1 from
//   pending.
// - LAZY_FREE has a counter (always 0) but no thread: values are freed by the JS garbage
//   collector, there is no free function to hand off.
//
// Why pending counts a running job. The everysec flush (spec §3) asks aofFsyncInProgress(), i.e.
// "pending('aofFsync') != 0", to decide whether to postpone a write and whether to queue another
// fsync. In Redis, bio_pending[] drops only after the job finished, so a job that is inside
// fdatasync still counts; if ours dropped when the thread picked the job up, the engine would pile
// write()s and new fsync jobs onto a disk that is still flushing. Hence: +1 on main before run(),
// -1 in the worker after the syscall; main reads with Atomics.load, not via the job's promise,
// which settles a message-hop later.
//
// Why stricterFIFO. Piscina 5's default queueing puts a task that was taken off the queue but
// could not be dispatched back at the *tail*; with one thread this reorders jobs (measured:
// 0,2,4,...,1,5,9,...). Redis's per-type FIFO is what makes "fsyncs queued before a close run
// before it" and "the last fsync job covers the last write" true, so stricterFIFO is required.
// Other pool options: trackUnmanagedFds off, because the worker closes fds the main thread opened;
// idleTimeout Infinity so the single thread is never torn down between jobs.
//
// Events. 'submit' is emitted on main at submit time. 'start' and 'finish' are emitted on main
// when the job's promise settles, with the times and pending counts the worker measured, so
// 'start' is reported late: it can arrive after later jobs' 'submit' events even though its atMs
// is earlier. Worker and main clocks may disagree by a fraction of a millisecond, so start is
// clamped to >= submit and finish to >= start.
//
// Failure model. IO errors are results, never rejections: the fsync status (Redis's
// aof_bio_fsync_status/errno) and the event's `error`. A job promise rejects only when the job
// could not run at all (worker file failed to load, thread died); then main subtracts the pending
// count the worker never will, and a lost fsync job is recorded as an EIO fsync failure: nobody
// knows whether the data reached the disk, so the engine must refuse writes (MISCONF) rather than
// assume it did. Rejections are always handled here; none escapes as an unhandled rejection.
//
// Shutdown. close() stops accepting jobs, waits for every queued and running job, then closes the
// pools. Like Redis at exit, it does not cut a running fsync short; unlike Redis, it does not
// abandon queued jobs either (a process that exits with a job in flight loses it silently).
import { Piscina } from 'piscina';
import type { BioClient, BioEvent, BioEventObserver, FsyncStatus } from './bio-client.ts';
import { notifyObserver } from './bio-client.ts';
import { BioCounters, FSYNC_DELAY_MS_MAX } from './bio-counters.ts';
import {
  BIO_JOB_TYPES,
  BIO_WORKER_EXPORT,
  type BioJobResult,
  type BioJobType,
  type BioWorkerData,
  type BioWorkerJob,
} from './bio-jobs.ts';
import { EIO, errnoOfCode } from './errno.ts';
import { BioError, assertValidFd } from './errors.ts';
import { wallClockMs } from './wall-clock.ts';
import { resolveBioWorker, type BioWorkerLocation } from './worker-url.ts';

export interface PiscinaBioOptions {
  /** Injected delay before every AOF fdatasync, for "slow disk" studies (0 = none). */
  fsyncDelayMs?: number;
  /** Replaces the worker file; for diagnostics and tests of the lost-job path. */
  workerUrl?: URL;
}

export interface PiscinaBio extends BioClient {
  /** The worker file the pools run (.ts from source, .js from dist). */
  readonly workerUrl: URL;
  fsyncDelayMs(): number;
  /** Takes effect at once, also for an fsync that is waiting out the previous delay. */
  setFsyncDelayMs(delayMs: number): void;
  /** The next `count` fdatasyncs (also of close jobs) fail with `code`; -1 = all, 0 = clear. */
  injectFsyncFaults(code: string, count: number): void;
  /** Jobs of the type that have started in the worker, read synchronously. */
  started(type: BioJobType): number;
  /** Resolves once started(type) >= count; rejects with BIO_WAIT_TIMEOUT after timeoutMs. */
  waitForStarted(type: BioJobType, count: number, timeoutMs?: number): Promise<void>;
  /** Last error a pool emitted outside any job (e.g. an idle worker that crashed), if any. */
  lastPoolError(): Error | null;
}

/** One Redis bio thread = one pool with these options (see DESIGN). */
export const BIO_POOL_OPTIONS = {
  minThreads: 1,
  maxThreads: 1,
  concurrentTasksPerWorker: 1,
  idleTimeout: Infinity,
  maxQueue: Infinity,
  stricterFIFO: true,
  trackUnmanagedFds: false,
} as const;

const WAIT_FOR_STARTED_TIMEOUT_MS = 30_000;

type ThreadName = 'closeFile' | 'aofFsync';
type BioPool = Piscina<BioWorkerJob, BioJobResult>;

export function createPiscinaBio(options: PiscinaBioOptions = {}): PiscinaBio {
  const fsyncDelayMs = options.fsyncDelayMs ?? 0;
  validateFsyncDelayMs(fsyncDelayMs);
  const located = resolveBioWorker();
  const location = options.workerUrl ? { ...located, url: options.workerUrl } : located;
  return new PiscinaBioClient(location, fsyncDelayMs);
}

function validateFsyncDelayMs(delayMs: number): void {
  if (!Number.isInteger(delayMs) || delayMs < 0 || delayMs > FSYNC_DELAY_MS_MAX) {
    throw new BioError(
      'BIO_INVALID_OPTION',
      `fsyncDelayMs must be an integer in [0, ${FSYNC_DELAY_MS_MAX}], got ${delayMs}`,
    );
  }
}

class PiscinaBioClient implements PiscinaBio {
  onEvent: BioEventObserver | null = null;
  readonly workerUrl: URL;
  readonly #counters = BioCounters.createShared();
  readonly #pools: Readonly<Record<ThreadName, BioPool>>;
  /** Settlement handlers of jobs not yet finished; they never reject. */
  readonly #inFlight: Readonly<Record<BioJobType, Set<Promise<void>>>> = {
    closeFile: new Set(),
    aofFsync: new Set(),
    lazyFree: new Set(),
  };
  #nextJobId = 1;
  #closing: Promise<void> | null = null;
  #lastPoolError: Error | null = null;

  constructor(location: BioWorkerLocation, fsyncDelayMs: number) {
    this.workerUrl = location.url;
    this.#counters.setFsyncDelayMs(fsyncDelayMs);
    const onPoolError = (error: Error): void => {
      this.#lastPoolError = error;
    };
    this.#pools = {
      closeFile: createPool('closeFile', location, this.#counters, onPoolError),
      aofFsync: createPool('aofFsync', location, this.#counters, onPoolError),
    };
  }

  submitFsync(fd: number): void {
    this.#submit('aofFsync', fd, (jobId) => ({ jobId, fd }));
  }

  submitClose(fd: number, needFsync: boolean): void {
    this.#submit('closeFile', fd, (jobId) => ({ jobId, fd, needFsync }));
  }

  pending(type: BioJobType): number {
    return this.#counters.pending(type);
  }

  fsyncStatus(): FsyncStatus {
    return this.#counters.fsyncStatus();
  }

  resetFsyncStatus(): void {
    this.#counters.resetFsyncStatus();
  }

  async drain(type?: BioJobType): Promise<void> {
    const types = type === undefined ? BIO_JOB_TYPES : [type];
    await Promise.all(types.flatMap((t) => [...this.#inFlight[t]]));
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  fsyncDelayMs(): number {
    return this.#counters.fsyncDelayMs();
  }

  setFsyncDelayMs(delayMs: number): void {
    validateFsyncDelayMs(delayMs);
    this.#counters.setFsyncDelayMs(delayMs);
  }

  injectFsyncFaults(code: string, count: number): void {
    this.#counters.injectFsyncFaults(errnoOfCode(code), count);
  }

  started(type: BioJobType): number {
    return this.#counters.started(type);
  }

  async waitForStarted(
    type: BioJobType,
    count: number,
    timeoutMs = WAIT_FOR_STARTED_TIMEOUT_MS,
  ): Promise<void> {
    if (await this.#counters.waitStarted(type, count, timeoutMs)) return;
    throw new BioError(
      'BIO_WAIT_TIMEOUT',
      `${type}: ${this.started(type)} jobs started, waited ${timeoutMs} ms for ${count}`,
    );
  }

  lastPoolError(): Error | null {
    return this.#lastPoolError;
  }

  #submit(type: ThreadName, fd: number, makeJob: (jobId: number) => BioWorkerJob): void {
    if (this.#closing !== null) {
      throw new BioError('BIO_CLOSED', `bio is closed; cannot queue ${type}`);
    }
    assertValidFd(fd);
    const jobId = this.#nextJobId++;
    // Count first: from this statement on, aofFsyncInProgress() must be true.
    const pending = this.#counters.incrementPending(type);
    const submittedAtMs = wallClockMs();
    this.#track(type, makeJob(jobId), submittedAtMs);
    this.#emit({ type, phase: 'submit', fd, atMs: submittedAtMs, pending, jobId });
  }

  #track(type: ThreadName, job: BioWorkerJob, submittedAtMs: number): void {
    const settled = runJob(this.#pools[type], type, job).then(
      (result) => this.#onFinished(type, job, submittedAtMs, result),
      (reason: unknown) => this.#onLost(type, job, reason),
    );
    const inFlight = this.#inFlight[type];
    inFlight.add(settled);
    void settled.then(() => inFlight.delete(settled));
  }

  #onFinished(
    type: ThreadName,
    job: BioWorkerJob,
    submittedAtMs: number,
    result: BioJobResult,
  ): void {
    const { fd, jobId } = job;
    const startedAtMs = Math.max(result.startedAtMs, submittedAtMs);
    const finishedAtMs = Math.max(result.finishedAtMs, startedAtMs);
    const { pendingAtStart, pendingAtFinish } = result;
    this.#emit({ type, phase: 'start', fd, atMs: startedAtMs, pending: pendingAtStart, jobId });
    const finish: BioEvent = {
      type,
      phase: 'finish',
      fd,
      atMs: finishedAtMs,
      pending: pendingAtFinish,
      jobId,
    };
    if (result.error !== null) finish.error = result.error;
    this.#emit(finish);
  }

  /** The job never ran to completion in a worker; see "Failure model" above. */
  #onLost(type: ThreadName, job: BioWorkerJob, reason: unknown): void {
    const pending = this.#counters.decrementPending(type);
    if (type === 'aofFsync') this.#counters.recordFsyncOutcome(EIO);
    const message = reason instanceof Error ? reason.message : String(reason);
    const { fd, jobId } = job;
    const error = `job lost: ${message}`;
    this.#emit({ type, phase: 'finish', fd, atMs: wallClockMs(), pending, jobId, error });
  }

  #emit(event: BioEvent): void {
    notifyObserver(this.onEvent, event);
  }

  async #shutdown(): Promise<void> {
    await this.drain();
    await Promise.all([this.#pools.closeFile.close(), this.#pools.aofFsync.close()]);
  }
}

function createPool(
  thread: ThreadName,
  location: BioWorkerLocation,
  counters: BioCounters,
  onError: (error: Error) => void,
): BioPool {
  const workerData: BioWorkerData = { countersBuffer: counters.sharedBuffer() };
  const pool: BioPool = new Piscina<BioWorkerJob, BioJobResult>({
    ...BIO_POOL_OPTIONS,
    filename: location.url.href,
    // Preloads the handler when the thread starts, so the first job does not pay the import.
    name: BIO_WORKER_EXPORT[thread],
    ...(location.execArgv ? { execArgv: location.execArgv } : {}),
    workerData,
  });
  // Without a listener, an 'error' from an idle worker would be thrown as an uncaught exception.
  pool.on('error', onError);
  return pool;
}

/** A synchronous throw from run() is folded into the promise, so one path handles both. */
function runJob(pool: BioPool, thread: ThreadName, job: BioWorkerJob): Promise<BioJobResult> {
  try {
    return pool.run(job, { name: BIO_WORKER_EXPORT[thread] });
  } catch (error) {
    return Promise.reject(error);
  }
}
