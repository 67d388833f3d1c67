// Job and result shapes shared by the main thread and the bio worker file. The worker imports this
// module for types only, so its import graph stays tiny and loader-agnostic.

/** Redis 7.0 bio op types: BIO_CLOSE_FILE, BIO_AOF_FSYNC, BIO_LAZY_FREE. */
export type BioJobType = 'closeFile' | 'aofFsync' | 'lazyFree';

export const BIO_JOB_TYPES: readonly BioJobType[] = ['closeFile', 'aofFsync', 'lazyFree'];

/** bioCreateFsyncJob(fd): fdatasync on the AOF_FSYNC thread. */
export interface AofFsyncJob {
  readonly jobId: number;
  readonly fd: number;
}

/** bioCreateCloseJob(fd, need_fsync): optional fdatasync (result ignored), then close. */
export interface CloseFileJob {
  readonly jobId: number;
  readonly fd: number;
  readonly needFsync: boolean;
}

export type BioWorkerJob = AofFsyncJob | CloseFileJob;

/**
 * What a worker reports back. Times are wall-clock ms (timeOrigin + now, sub-ms resolution) taken
 * on the worker thread; pending counts are the values the worker saw at those instants.
 */
export interface BioJobResult {
  readonly startedAtMs: number;
  readonly finishedAtMs: number;
  readonly pendingAtStart: number;
  /** Count after this job's own decrement. */
  readonly pendingAtFinish: number;
  /** Syscall failures of this job, e.g. "fdatasync: EIO"; null when every syscall succeeded. */
  readonly error: string | null;
}

/** workerData of every bio pool: the one shared counters buffer (see bio-counters.ts). */
export interface BioWorkerData {
  readonly countersBuffer: SharedArrayBuffer;
}

/** Named exports of workers/bio-worker.ts, selected with run(job, { name }). */
export const BIO_WORKER_EXPORT = {
  aofFsync: 'aofFsync',
  closeFile: 'closeFile',
} as const;
