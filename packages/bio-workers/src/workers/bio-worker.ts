// The body of Redis's bio threads. Each Piscina pool runs this file on exactly one thread; the job
// kind is the named export chosen with run(job, { name }). Everything is synchronous: the thread
// does one syscall-sized job at a time, as bioProcessBackgroundJobs does.
//
// Contract with bio.ts: a job never throws for an IO failure (it reports it), and it decrements
// pending as the very last step, after the syscalls returned and the fsync status was stored, so
// a main thread that sees pending drop also sees the status of that fsync. If a job does throw
// (a bug), the decrement has not happened yet and bio.ts performs it when the promise rejects.
import { closeSync, fdatasyncSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { BioCounters } from '../bio-counters.ts';
import type {
  AofFsyncJob,
  BioJobResult,
  BioJobType,
  BioWorkerData,
  CloseFileJob,
} from '../bio-jobs.ts';
import { EIO, codeOfErrno, errnoOfError } from '../errno.ts';
import { wallClockMs } from '../wall-clock.ts';

const counters = new BioCounters(countersBufferOf(workerData));

function countersBufferOf(data: unknown): SharedArrayBuffer {
  const buffer = (data as Partial<BioWorkerData> | null)?.countersBuffer;
  if (!(buffer instanceof SharedArrayBuffer)) {
    throw new TypeError('bio worker needs workerData.countersBuffer (a SharedArrayBuffer)');
  }
  return buffer;
}

/** AOF_FSYNC thread: fdatasync(fd), then the status bio.c records (EBADF/EINVAL count as OK). */
export function aofFsync(job: AofFsyncJob): BioJobResult {
  const startedAtMs = wallClockMs();
  const pendingAtStart = counters.pending('aofFsync');
  // Announce the start only now, right before the blocking part (delay, fdatasync): whoever wakes
  // on it observes the job in the middle of its syscall, not in its bookkeeping.
  counters.markStarted('aofFsync');
  counters.sleepWhileFsyncDelayed(startedAtMs, wallClockMs);
  const errno = fdatasyncErrno(job.fd);
  counters.recordFsyncOutcome(errno);
  const error = errno === 0 ? null : `fdatasync: ${codeOfErrno(errno)}`;
  return finish('aofFsync', startedAtMs, pendingAtStart, error);
}

/** CLOSE_FILE thread: optional fdatasync whose result is ignored (7.0.5+), then close(fd). */
export function closeFile(job: CloseFileJob): BioJobResult {
  const startedAtMs = wallClockMs();
  const pendingAtStart = counters.pending('closeFile');
  counters.markStarted('closeFile');
  const errors: string[] = [];
  if (job.needFsync) {
    const errno = fdatasyncErrno(job.fd);
    if (errno !== 0) errors.push(`fdatasync: ${codeOfErrno(errno)}`);
  }
  const closeErrno = closeErrnoOf(job.fd);
  if (closeErrno !== 0) errors.push(`close: ${codeOfErrno(closeErrno)}`);
  return finish('closeFile', startedAtMs, pendingAtStart, errors.length ? errors.join('; ') : null);
}

function finish(
  type: BioJobType,
  startedAtMs: number,
  pendingAtStart: number,
  error: string | null,
): BioJobResult {
  const finishedAtMs = wallClockMs();
  const pendingAtFinish = counters.decrementPending(type);
  return { startedAtMs, finishedAtMs, pendingAtStart, pendingAtFinish, error };
}

/** Injected faults replace the syscall: they model a disk that fails the flush. */
function fdatasyncErrno(fd: number): number {
  const injected = counters.takeFsyncFault();
  if (injected !== 0) return injected;
  try {
    fdatasyncSync(fd);
    return 0;
  } catch (error) {
    return errnoOfError(error) ?? EIO;
  }
}

function closeErrnoOf(fd: number): number {
  try {
    closeSync(fd);
    return 0;
  } catch (error) {
    return errnoOfError(error) ?? EIO;
  }
}
