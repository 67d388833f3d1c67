// DESIGN: InlineBio, the deterministic twin of the threaded bio, for state-machine tests and
// seeded simulations.
//
// Nothing runs on its own. Jobs wait in one FIFO queue per type until the test drives them:
// startNext(type) makes the head job "running" (its thread picked it up), finishRunning(type)
// performs its syscalls through the injected ops and retires it, runNext(type) does both, runAll()
// empties every queue. So a test can hold an fsync "inside fdatasync" for as long as it likes and
// watch the flush logic postpone writes (pending('aofFsync') stays 1), then let it finish at an
// exact simulated millisecond. At most one job per type runs at a time: one thread per type.
//
// The syscalls happen at finishRunning, not at startNext: an fsync that is still running has not
// made anything durable yet, so a simulated crash while it is held must be allowed to lose the
// data. pending() counts queued + running jobs, like the threaded client, and the fsync status is
// recorded by the same code (BioCounters.recordFsyncOutcome), so EBADF/EINVAL handling is
// identical.
//
// drain(type?) runs the queued and running jobs (of that type, or all) synchronously, at the
// call, including jobs that observers submit meanwhile; the returned promise is already settled
// when drain returns. That makes `await bio.drain()` mean the same thing in code written for both
// clients: "everything submitted so far has finished". close() drains, then refuses new jobs.
//
// Ops report IO failures by throwing fs-style errors ({ code, errno }, as node:fs does): those
// become fsync status / event errors. Anything else an op throws is a bug in the op; it propagates
// out of finishRunning (or drain) after the job has been retired, so counters stay consistent.
import type { BioClient, BioEvent, BioEventObserver, FsyncStatus } from './bio-client.ts';
import { notifyObserver } from './bio-client.ts';
import { BioCounters } from './bio-counters.ts';
import { BIO_JOB_TYPES, type BioJobType } from './bio-jobs.ts';
import { codeOfErrno, errnoOfError } from './errno.ts';
import { BioError, assertValidFd } from './errors.ts';

export interface InlineBioOps {
  fsync(fd: number): void;
  close(fd: number): void;
}

export interface InlineBioOptions {
  /** Source of event timestamps; the engine passes its Clock (SimClock in simulations). */
  clock?: { nowMs(): number };
}

interface InlineJob {
  readonly jobId: number;
  readonly type: BioJobType;
  readonly fd: number;
  readonly needFsync: boolean;
}

const systemClock = { nowMs: (): number => Date.now() };

export class InlineBio implements BioClient {
  onEvent: BioEventObserver | null = null;
  readonly #ops: InlineBioOps;
  readonly #clock: { nowMs(): number };
  readonly #counters = BioCounters.createLocal();
  readonly #queues: Readonly<Record<BioJobType, InlineJob[]>> = {
    closeFile: [],
    aofFsync: [],
    lazyFree: [],
  };
  readonly #running: Record<BioJobType, InlineJob | null> = {
    closeFile: null,
    aofFsync: null,
    lazyFree: null,
  };
  #nextJobId = 1;
  #accepting = true;
  #closing: Promise<void> | null = null;

  constructor(ops: InlineBioOps, options: InlineBioOptions = {}) {
    this.#ops = ops;
    this.#clock = options.clock ?? systemClock;
  }

  submitFsync(fd: number): void {
    this.#submit('aofFsync', fd, false);
  }

  submitClose(fd: number, needFsync: boolean): void {
    this.#submit('closeFile', fd, needFsync);
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

  /** Runs the jobs now (see DESIGN); resolves when they are done. */
  async drain(type?: BioJobType): Promise<void> {
    this.#runUntilIdle(type === undefined ? BIO_JOB_TYPES : [type]);
  }

  close(): Promise<void> {
    if (this.#closing === null) {
      this.#accepting = false;
      this.#closing = this.drain();
    }
    return this.#closing;
  }

  /** Jobs of the type waiting to start (the running one excluded). */
  queued(type: BioJobType): number {
    return this.#queues[type].length;
  }

  isRunning(type: BioJobType): boolean {
    return this.#running[type] !== null;
  }

  /** Starts the head job; false when none is queued. Throws BIO_JOB_RUNNING if one is running. */
  startNext(type: BioJobType): boolean {
    const running = this.#running[type];
    if (running !== null) {
      throw new BioError('BIO_JOB_RUNNING', `${type} job ${running.jobId} is still running`);
    }
    const job = this.#queues[type].shift();
    if (job === undefined) return false;
    this.#running[type] = job;
    this.#emit(job, 'start', this.pending(type));
    return true;
  }

  /** Performs the running job's syscalls and retires it. Throws BIO_NO_SUCH_JOB if none runs. */
  finishRunning(type: BioJobType): void {
    const job = this.#running[type];
    if (job === null) throw new BioError('BIO_NO_SUCH_JOB', `no ${type} job is running`);
    let error: string | null = null;
    try {
      error = this.#perform(job);
    } finally {
      // Retire the job even when an op had a bug, so pending() stays equal to queued + running.
      this.#running[type] = null;
      this.#emit(job, 'finish', this.#counters.decrementPending(type), error);
    }
  }

  /** Starts (unless already running) and finishes the head job; false when there is none. */
  runNext(type: BioJobType): boolean {
    if (!this.isRunning(type) && !this.startNext(type)) return false;
    this.finishRunning(type);
    return true;
  }

  /**
   * Empties every queue, type by type in BIO_JOB_TYPES order (again if observers queued more);
   * returns how many jobs finished.
   */
  runAll(): number {
    return this.#runUntilIdle(BIO_JOB_TYPES);
  }

  #runUntilIdle(types: readonly BioJobType[]): number {
    let finished = 0;
    let progressed = true;
    while (progressed) {
      progressed = false;
      for (const type of types) {
        while (this.runNext(type)) {
          finished++;
          progressed = true;
        }
      }
    }
    return finished;
  }

  #submit(type: BioJobType, fd: number, needFsync: boolean): void {
    if (!this.#accepting) {
      throw new BioError('BIO_CLOSED', `bio is closed; cannot queue ${type}`);
    }
    assertValidFd(fd);
    const job: InlineJob = { jobId: this.#nextJobId++, type, fd, needFsync };
    this.#queues[type].push(job);
    this.#emit(job, 'submit', this.#counters.incrementPending(type));
  }

  /** Returns the failed syscalls as text (null if none); throws only what is not an IO error. */
  #perform(job: InlineJob): string | null {
    if (job.type === 'aofFsync') {
      const errno = syscallErrno(() => this.#ops.fsync(job.fd));
      this.#counters.recordFsyncOutcome(errno);
      return errno === 0 ? null : `fdatasync: ${codeOfErrno(errno)}`;
    }
    if (job.type === 'closeFile') {
      const errors: string[] = [];
      const fsyncErrno = job.needFsync ? syscallErrno(() => this.#ops.fsync(job.fd)) : 0;
      if (fsyncErrno !== 0) errors.push(`fdatasync: ${codeOfErrno(fsyncErrno)}`);
      const closeErrno = syscallErrno(() => this.#ops.close(job.fd));
      if (closeErrno !== 0) errors.push(`close: ${codeOfErrno(closeErrno)}`);
      return errors.length > 0 ? errors.join('; ') : null;
    }
    throw new TypeError(`InlineBio has no ${job.type} jobs`);
  }

  #emit(job: InlineJob, phase: BioEvent['phase'], pending: number, error: string | null = null) {
    const { type, fd, jobId } = job;
    const event: BioEvent = { type, phase, fd, atMs: this.#clock.nowMs(), pending, jobId };
    if (error !== null) event.error = error;
    notifyObserver(this.onEvent, event);
  }
}

function syscallErrno(call: () => void): number {
  try {
    call();
    return 0;
  } catch (error) {
    const errno = errnoOfError(error);
    if (errno === null) throw error;
    return errno;
  }
}
