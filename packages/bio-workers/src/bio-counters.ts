// The bio counters: one Int32Array over a SharedArrayBuffer, shared by the main thread and every
// bio worker (Redis keeps the same state in bio_pending[] and two atomics in `server`).
//
// Protocol, and who writes what:
// - pending[type]: main adds 1 at submit, *before* handing the job to its thread; the worker
//   subtracts 1 only after the job's syscalls returned. A running job therefore still counts, like
//   bio_pending[] in Redis, whose flush logic (aofFsyncInProgress) depends on exactly that.
// - started[type]: the worker adds 1 when a job begins and notifies waiters, so a test (or a study)
//   can wait for "job N is running" with Atomics.waitAsync instead of sleeping.
// - fsync status/errno: written by whoever ran an fdatasync job; errno is stored before the status,
//   so a reader that sees ERR and then loads errno never sees a stale zero.
// - fsync delay and injected faults: written by main, read by the worker (fault injection).
// InlineBio uses the same class over a plain ArrayBuffer, so fsync-status rules exist once.
import type { BioJobType } from './bio-jobs.ts';
import type { FsyncStatus } from './bio-client.ts';
import { codeOfErrno, isIgnoredFsyncErrno } from './errno.ts';

const SLOT = {
  pendingCloseFile: 0,
  pendingAofFsync: 1,
  pendingLazyFree: 2,
  startedCloseFile: 3,
  startedAofFsync: 4,
  startedLazyFree: 5,
  fsyncStatus: 6,
  fsyncErrno: 7,
  fsyncDelayMs: 8,
  fsyncFaultErrno: 9,
  fsyncFaultCount: 10,
} as const;

const SLOT_COUNT = 11;
export const BIO_COUNTERS_BYTES = SLOT_COUNT * Int32Array.BYTES_PER_ELEMENT;

const PENDING_SLOT: Readonly<Record<BioJobType, number>> = {
  closeFile: SLOT.pendingCloseFile,
  aofFsync: SLOT.pendingAofFsync,
  lazyFree: SLOT.pendingLazyFree,
};
const STARTED_SLOT: Readonly<Record<BioJobType, number>> = {
  closeFile: SLOT.startedCloseFile,
  aofFsync: SLOT.startedAofFsync,
  lazyFree: SLOT.startedLazyFree,
};

/** A type outside the union (from untyped callers) would otherwise index slot 0 silently. */
function slotOf(table: Readonly<Record<BioJobType, number>>, type: BioJobType): number {
  const slot = table[type];
  if (slot === undefined) throw new TypeError(`unknown bio job type: ${String(type)}`);
  return slot;
}

/**
 * Atomics.waitAsync is ES2024 (the workspace compiles against lib es2023, and sibling packages
 * type-check this file with it) but every Node >= 16 has it.
 */
const atomicsEs2024 = Atomics as typeof Atomics & {
  waitAsync(
    typedArray: Int32Array,
    index: number,
    value: number,
    timeoutMs: number,
  ):
    | { async: false; value: 'not-equal' | 'timed-out' }
    | { async: true; value: Promise<'ok' | 'timed-out'> };
};

const FSYNC_OK = 0;
const FSYNC_ERR = 1;

/** Upper bound of the injected fsync delay: a "slow disk" study needs seconds, not hours. */
export const FSYNC_DELAY_MS_MAX = 600_000;
/** Injected fault count meaning "every fsync until cleared". */
export const FSYNC_FAULTS_FOREVER = -1;

export class BioCounters {
  readonly buffer: SharedArrayBuffer | ArrayBuffer;
  readonly #slots: Int32Array;

  constructor(buffer: SharedArrayBuffer | ArrayBuffer) {
    if (buffer.byteLength !== BIO_COUNTERS_BYTES) {
      const bytes = buffer.byteLength;
      throw new RangeError(`bio counters take ${BIO_COUNTERS_BYTES} bytes, not ${bytes}`);
    }
    this.buffer = buffer;
    this.#slots = new Int32Array(buffer);
  }

  static createShared(): BioCounters {
    return new BioCounters(new SharedArrayBuffer(BIO_COUNTERS_BYTES));
  }

  static createLocal(): BioCounters {
    return new BioCounters(new ArrayBuffer(BIO_COUNTERS_BYTES));
  }

  /** The buffer to hand to worker threads (workerData); only shared counters have one. */
  sharedBuffer(): SharedArrayBuffer {
    if (!(this.buffer instanceof SharedArrayBuffer)) throw new TypeError('bio counters are local');
    return this.buffer;
  }

  /** Returns the count including this job. */
  incrementPending(type: BioJobType): number {
    return Atomics.add(this.#slots, slotOf(PENDING_SLOT, type), 1) + 1;
  }

  /** Returns the count after this job left. */
  decrementPending(type: BioJobType): number {
    return Atomics.sub(this.#slots, slotOf(PENDING_SLOT, type), 1) - 1;
  }

  pending(type: BioJobType): number {
    return Atomics.load(this.#slots, slotOf(PENDING_SLOT, type));
  }

  /** Returns how many jobs of the type have started, this one included, and wakes waiters. */
  markStarted(type: BioJobType): number {
    const slot = slotOf(STARTED_SLOT, type);
    const started = Atomics.add(this.#slots, slot, 1) + 1;
    if (this.buffer instanceof SharedArrayBuffer) Atomics.notify(this.#slots, slot);
    return started;
  }

  started(type: BioJobType): number {
    return Atomics.load(this.#slots, slotOf(STARTED_SLOT, type));
  }

  /**
   * Resolves true once started(type) >= count, false after timeoutMs. Main thread only (shared
   * buffer). Reads the slot once per round: comparing against one read and waiting on another
   * loses the wakeup.
   */
  async waitStarted(type: BioJobType, count: number, timeoutMs: number): Promise<boolean> {
    const slot = slotOf(STARTED_SLOT, type);
    const deadlineMs = performance.now() + timeoutMs;
    for (;;) {
      const seen = Atomics.load(this.#slots, slot);
      if (seen >= count) return true;
      const remainingMs = deadlineMs - performance.now();
      if (remainingMs <= 0) return false;
      const wait = atomicsEs2024.waitAsync(this.#slots, slot, seen, remainingMs);
      if (wait.async) await wait.value;
    }
  }

  /** The outcome of one AOF fdatasync, exactly as bio.c's BIO_AOF_FSYNC branch records it. */
  recordFsyncOutcome(errno: number): void {
    if (errno === 0 || isIgnoredFsyncErrno(errno)) {
      Atomics.store(this.#slots, SLOT.fsyncStatus, FSYNC_OK);
      return;
    }
    Atomics.store(this.#slots, SLOT.fsyncErrno, errno);
    Atomics.store(this.#slots, SLOT.fsyncStatus, FSYNC_ERR);
  }

  resetFsyncStatus(): void {
    Atomics.store(this.#slots, SLOT.fsyncStatus, FSYNC_OK);
  }

  fsyncStatus(): FsyncStatus {
    if (Atomics.load(this.#slots, SLOT.fsyncStatus) === FSYNC_OK) return { ok: true };
    const errno = Atomics.load(this.#slots, SLOT.fsyncErrno);
    return { ok: false, errno, code: codeOfErrno(errno) };
  }

  fsyncDelayMs(): number {
    return Atomics.load(this.#slots, SLOT.fsyncDelayMs);
  }

  /** Also cuts short (or extends) a delay a worker is sitting in right now. */
  setFsyncDelayMs(delayMs: number): void {
    if (!Number.isInteger(delayMs) || delayMs < 0 || delayMs > FSYNC_DELAY_MS_MAX) {
      throw new RangeError(`fsyncDelayMs must be an integer in [0, ${FSYNC_DELAY_MS_MAX}]`);
    }
    Atomics.store(this.#slots, SLOT.fsyncDelayMs, delayMs);
    if (this.buffer instanceof SharedArrayBuffer) Atomics.notify(this.#slots, SLOT.fsyncDelayMs);
  }

  /**
   * Worker side: block until `startedAtMs + fsyncDelayMs()` has passed. The delay is re-read after
   * every wakeup, so main can release a held job by lowering it (setFsyncDelayMs notifies).
   */
  sleepWhileFsyncDelayed(startedAtMs: number, nowMs: () => number): void {
    for (;;) {
      const delayMs = Atomics.load(this.#slots, SLOT.fsyncDelayMs);
      const remainingMs = startedAtMs + delayMs - nowMs();
      if (remainingMs <= 0) return;
      Atomics.wait(this.#slots, SLOT.fsyncDelayMs, delayMs, remainingMs);
    }
  }

  /** The next `count` fdatasync calls fail with errno (FSYNC_FAULTS_FOREVER: all; 0: clear). */
  injectFsyncFaults(errno: number, count: number): void {
    if (!Number.isInteger(count) || count < FSYNC_FAULTS_FOREVER) {
      throw new RangeError(`fault count must be an integer >= ${FSYNC_FAULTS_FOREVER}`);
    }
    // Disarm while the errno changes, so a worker never pairs the old count with the new errno.
    Atomics.store(this.#slots, SLOT.fsyncFaultCount, 0);
    Atomics.store(this.#slots, SLOT.fsyncFaultErrno, errno);
    Atomics.store(this.#slots, SLOT.fsyncFaultCount, count);
  }

  /** Worker side: consume one injected fault; returns its errno, or 0 when none is armed. */
  takeFsyncFault(): number {
    for (;;) {
      const count = Atomics.load(this.#slots, SLOT.fsyncFaultCount);
      if (count === 0) return 0;
      const errno = Atomics.load(this.#slots, SLOT.fsyncFaultErrno);
      if (count === FSYNC_FAULTS_FOREVER) return errno;
      const seen = Atomics.compareExchange(this.#slots, SLOT.fsyncFaultCount, count, count - 1);
      if (seen === count) return errno;
    }
  }
}
