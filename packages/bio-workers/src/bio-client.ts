// The contract between the engine's AOF writer and Redis's bio threads. Two implementations:
// createPiscinaBio() (real threads, bio.ts) and InlineBio (deterministic, inline-bio.ts). Both pass
// test/bio-conformance.ts.
import type { BioJobType } from './bio-jobs.ts';

export type { BioJobType } from './bio-jobs.ts';

export type FsyncStatus = { ok: true } | { ok: false; errno: number; code: string };

/**
 * One step of one job. Every job yields exactly one 'submit' and one 'finish'; 'start' comes
 * before 'finish' for every job that ran (a job lost to a dead thread has only 'finish', with
 * `error`). Per type, starts and finishes arrive in submission order. `pending` is the count of
 * that type at `atMs`. `error` names failed syscalls ("fdatasync: EIO", "close: EBADF") even when
 * Redis ignores them for the fsync status.
 */
export interface BioEvent {
  type: BioJobType;
  phase: 'submit' | 'start' | 'finish';
  fd: number;
  atMs: number;
  pending: number;
  error?: string;
  /** Per-client submission number, 1-based, across types: ties the three phases together. */
  jobId: number;
}

export type BioEventObserver = (event: BioEvent) => void;

export interface BioClient {
  /**
   * Redis bioCreateFsyncJob: fdatasync(fd) on the AOF_FSYNC thread. Increments pending('aofFsync')
   * synchronously.
   */
  submitFsync(fd: number): void;
  /**
   * Redis bioCreateCloseJob(fd, need_fsync): optional fdatasync (result ignored) then close(fd),
   * on the CLOSE_FILE thread.
   */
  submitClose(fd: number, needFsync: boolean): void;
  /** Redis bioPendingJobsOfType: queued + running jobs of that type, read synchronously. */
  pending(type: BioJobType): number;
  /**
   * Redis aof_bio_fsync_status / aof_bio_fsync_errno: set by the fsync job. EBADF/EINVAL count as
   * success, exactly as in bio.c (the fd may have been closed and reused: "aof fsync did not
   * really fail"); any later successful fsync sets ok again.
   */
  fsyncStatus(): FsyncStatus;
  /**
   * Set the fsync status back to ok, as Redis's startAppendOnly does when the AOF is turned on
   * again (`atomicSet(server.aof_bio_fsync_status, C_OK)`): "AOF reopen, just ignore the AOF
   * fsync error in bio job". A job that fails later sets it again.
   */
  resetFsyncStatus(): void;
  /**
   * Resolves when every job submitted before the call has finished (only jobs of `type` when
   * given: Redis 7.2's bioDrainWorker(type), e.g. before switching appendfsync to always).
   */
  drain(type?: BioJobType): Promise<void>;
  /** Finish queued jobs, then stop the threads. Idempotent; later submits throw BIO_CLOSED. */
  close(): Promise<void>;
  /** Observer for study mode / tracing: submit/start/finish of every job, with pending counts. */
  onEvent: BioEventObserver | null;
}

/**
 * Calls the observer. An observer that throws is a bug in the observer; rethrowing it inside the
 * bio bookkeeping would leave counters half-updated, so it is rethrown on a fresh microtask
 * instead, where it surfaces as an uncaught exception.
 */
export function notifyObserver(observer: BioEventObserver | null, event: BioEvent): void {
  if (observer === null) return;
  try {
    observer(event);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}
