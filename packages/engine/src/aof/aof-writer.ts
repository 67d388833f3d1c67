// DESIGN: the AOF write path of Redis 7.0.15, rule for rule (spec §1.2–§4):
//   feed()   Redis feedAppendOnlyFile: optional `#TS:` annotation, SELECT when the db changes,
//            then the command, encoded into aof_buf.
//   flush()  Redis flushAppendOnlyFile(force): one write(2) of aof_buf per event-loop turn, then
//            the fsync decision for the policy:
//              always    fdatasync inline, before any reply is delivered; any error is fatal
//              everysec  at most one background fsync (bio AOF_FSYNC job) per second; while one is
//                        still pending the write itself is postponed, for up to 2 s
//              no        never fsync here
//
// The writer owns the open INCR file and every field Redis keeps for it in `server` (aof_fd,
// aof_buf, sizes, fsync offsets, aof_selected_db, the write status). Nobody else reads or writes
// them: AofPersistence changes the file only through the named operations below (open, switchTo,
// stop, shutdown, clearErrors, ...) and reads them through stats(). All I/O goes through the
// FileSystem seam; background fsyncs are learnt about only through BioClient's shared counters
// (pending jobs, fsync status), read synchronously, as Redis reads bio_pending and
// aof_bio_fsync_status. Time comes from the injected Clock.
//
// FATAL (appendfsync always could not keep its promise: Redis exit(1)). The writer never throws
// for it: it records the error, calls `onFatal` once, and from then on is dead: no byte reaches
// the file again, whoever calls (the cron, close, a rewrite's forced flush). Bytes already in the
// file stay as they are; a partial command left by a short write whose ftruncate failed is a torn
// tail that the loader cuts on the next start.
//
// What may be lost (Redis's contract, which we keep): under everysec, up to ~2 s of acknowledged
// writes if the machine crashes; under no, whatever the OS had not flushed; under always, nothing
// acknowledged: a failed write or fsync stops the engine before any reply of that turn is sent.

import type { BioClient } from '@aofkv/bio-workers';
import type { Bin } from '../bytes.ts';
import type { FsyncPolicy } from '../config.ts';
import { EngineError } from '../errors.ts';
import type { FileSystem } from '../io/file-system.ts';
import type { Clock } from '../io/clock.ts';
import { AofBuffer } from './aof-buffer.ts';
import type { LatencyMonitor } from './latency-monitor.ts';
import { errorCode, strerror } from './strerror.ts';

/** Redis: postpone while `unixtime - aof_flush_postponed_start < 2`. */
export const FLUSH_POSTPONE_LIMIT_SEC = 2;
/** Redis AOF_WRITE_LOG_ERROR_RATE: at most one write-error log line per 30 s. */
const WRITE_ERROR_LOG_INTERVAL_SEC = 30;
/**
 * shutdown() writes what is left in aof_buf with this many attempts (a transient EIO passes on a
 * retry; a full disk does not) before it reports the bytes as not persisted. Redis tries once.
 */
export const SHUTDOWN_WRITE_ATTEMPTS = 3;

export type WriteStatus = { kind: 'ok' } | { kind: 'err'; code: string };

export type AofLogger = (level: 'notice' | 'warning' | 'verbose', message: string) => void;

/** Everything the study mode, tracing and the simulator can observe about the write path. */
export type AofTraceEvent =
  | {
      kind: 'write';
      atMs: number;
      bytes: number;
      written: number;
      pendingFsync: number;
      forced: boolean;
    }
  | { kind: 'postpone-start'; atMs: number; bytes: number; pendingFsync: number }
  | { kind: 'postpone-continue'; atMs: number; bytes: number; pendingFsync: number }
  | { kind: 'delayed-write'; atMs: number; bytes: number; pendingFsync: number }
  | { kind: 'fsync-submit'; atMs: number; offset: number }
  | { kind: 'fsync-skipped-in-progress'; atMs: number }
  | { kind: 'fsync-always'; atMs: number; durationMs: number }
  | { kind: 'write-error'; atMs: number; code: string; partialBytes: number }
  /**
   * The writer moved to another file: `fromFd` (-1: none) ended at `fromSizeBytes` and
   * `bufferedBytes` of aof_buf will go to `toFd` (-1: none, the AOF was turned off).
   */
  | {
      kind: 'incr-switch';
      atMs: number;
      fromFd: number;
      fromSizeBytes: number;
      toFd: number;
      bufferedBytes: number;
    }
  | { kind: 'fatal'; atMs: number; code: string };

export interface AofWriterDeps {
  fs: FileSystem;
  bio: BioClient;
  clock: Clock;
  latency: LatencyMonitor;
  log: AofLogger;
  policy: () => FsyncPolicy;
  timestampsEnabled: () => boolean;
  noAppendfsyncOnRewrite: () => boolean;
  /** Redis hasActiveChildProcess(): a rewrite is running. */
  hasActiveChild: () => boolean;
  /** Called once, when appendfsync always could not write or fsync (Redis exits there). */
  onFatal: (error: AofFatalError) => void;
}

/** A failure that Redis answers with exit(1): appendfsync always could not keep its promise. */
export class AofFatalError extends EngineError {}

/** The writer's state as INFO, the inspection API and the rewrite's decisions read it. */
export interface AofWriterStats {
  /** aof_fd, or -1. */
  readonly fd: number;
  /** aof_last_incr_size: bytes of the INCR file being written. */
  readonly incrSizeBytes: number;
  /** aof_last_incr_fsync_offset: incrSizeBytes at the last fsync *request*. */
  readonly incrFsyncOffsetBytes: number;
  /** aof_current_size: base + all INCR bytes (an estimate after a rewrite). */
  readonly currentSizeBytes: number;
  /** aof_buf's length. */
  readonly bufferedBytes: number;
  /** aof_selected_db: db of the last SELECT in the stream; -1 forces one. */
  readonly selectedDb: number;
  /** aof_last_fsync: second of the last fsync (or fsync attempt). */
  readonly lastFsyncSec: number;
  /** aof_flush_postponed_start: second the current postponement began; 0 = none. */
  readonly flushPostponedStartSec: number;
  /** aof_delayed_fsync: writes forced through while a background fsync was still running. */
  readonly delayedFsyncCount: number;
  readonly writeStatus: WriteStatus;
  /** The fatal error, once there was one. */
  readonly fatal: AofFatalError | null;
}

/** What shutdown() could not do; both null when everything is written and fsynced. */
export interface ShutdownResult {
  /** Bytes of aof_buf still unwritten after every attempt, and the last error code. */
  readonly unwritten: { bytes: number; code: string } | null;
  /** The final fdatasync failed with this code. */
  readonly fsyncError: string | null;
}

export class AofWriter {
  private readonly buf = new AofBuffer();
  private fd = -1;
  private selectedDb = -1;
  /** aof_cur_timestamp: last `#TS:` second emitted. */
  private curTimestampSec = 0;
  private currentSizeBytes = 0;
  private incrSizeBytes = 0;
  private incrFsyncOffsetBytes = 0;
  private lastFsyncSec: number;
  private flushPostponedStartSec = 0;
  private delayedFsyncCount = 0;
  private writeStatus: WriteStatus = { kind: 'ok' };
  private fatal: AofFatalError | null = null;
  /** Set by trace consumers (study mode, the engine's 'trace' event, the simulator). */
  onTrace: ((e: AofTraceEvent) => void) | null = null;
  /**
   * Bytes fed to aof_buf since start, across files (Redis master_repl_offset): the stream offset
   * WAITAOF and waitAof() wait for. Written offset = this - aof_buf's length.
   */
  private streamOffsetBytes = 0;
  /** Stream offset known fsynced (Redis fsynced_reploff_pending; applied while ON only). */
  private fsyncedCandidateBytes = 0;
  /** Written stream offsets of the background fsync jobs submitted and not yet observed done. */
  private readonly fsyncJobOffsets: number[] = [];
  /** The code of the last observed failed background fsync (null after a success). */
  private fsyncFailureCode: string | null = null;

  private readonly deps: AofWriterDeps;
  private lastWriteErrorLogSec = 0;
  private lastBioFsyncOk = true;
  private lastErrorCode = 'ENOSPC';

  constructor(deps: AofWriterDeps) {
    this.deps = deps;
    this.lastFsyncSec = this.unixtime();
  }

  unixtime(): number {
    return Math.floor(this.deps.clock.nowMs() / 1000);
  }

  // ---- what others may ask ---------------------------------------------------------------------

  stats(): AofWriterStats {
    return {
      fd: this.fd,
      incrSizeBytes: this.incrSizeBytes,
      incrFsyncOffsetBytes: this.incrFsyncOffsetBytes,
      currentSizeBytes: this.currentSizeBytes,
      bufferedBytes: this.buf.length,
      selectedDb: this.selectedDb,
      lastFsyncSec: this.lastFsyncSec,
      flushPostponedStartSec: this.flushPostponedStartSec,
      delayedFsyncCount: this.delayedFsyncCount,
      writeStatus: this.writeStatus,
      fatal: this.fatal,
    };
  }

  get hasFile(): boolean {
    return this.fd !== -1;
  }

  get bufferedBytes(): number {
    return this.buf.length;
  }

  get currentSize(): number {
    return this.currentSizeBytes;
  }

  /** Bytes written or buffered that no fsync was requested for yet. */
  get unsyncedBytes(): number {
    return this.incrSizeBytes - this.incrFsyncOffsetBytes + this.buf.length;
  }

  get isDead(): boolean {
    return this.fatal !== null;
  }

  // ---- the stream, for WAITAOF ------------------------------------------------------------------

  /** Bytes fed since start (Redis master_repl_offset). */
  get streamFedBytes(): number {
    return this.streamOffsetBytes;
  }

  /** Bytes of the stream written to a file. */
  get streamWrittenBytes(): number {
    return this.streamOffsetBytes - this.buf.length;
  }

  /** Stream offset made durable by a completed fsync (Redis fsynced_reploff_pending). */
  get streamFsyncedBytes(): number {
    return this.fsyncedCandidateBytes;
  }

  /** The errno code of the last failed background fsync, null once one succeeded since. */
  get lastFsyncFailure(): string | null {
    return this.fsyncFailureCode;
  }

  /**
   * A command propagated while nothing is appended (AOF off, or a first rewrite not yet
   * started): it moves the stream offset by one, so waiters for it wait for a base to hold it.
   */
  skipStream(): void {
    this.streamOffsetBytes += 1;
  }

  /** Everything fed so far counts as durable: startAppendOnly's base will hold it (Redis). */
  markStreamDurable(): void {
    this.fsyncedCandidateBytes = Math.max(this.fsyncedCandidateBytes, this.streamOffsetBytes);
  }

  /**
   * Account for finished background fsync jobs (bio.c sets fsynced_reploff_pending to the job's
   * offset on success). Jobs finish in submission order and only this writer submits aofFsync
   * jobs, so the ones done are the oldest `submitted - pending`; the fsync status is that of the
   * last one to finish. A success covers its offset: the same file, or an older one that the INCR
   * switch fdatasync'ed on this thread before the new file was used.
   */
  observeFsyncJobs(): void {
    const done = this.fsyncJobOffsets.length - this.deps.bio.pending('aofFsync');
    if (done <= 0) return;
    const offset = this.fsyncJobOffsets[done - 1]!;
    this.fsyncJobOffsets.splice(0, done);
    const st = this.deps.bio.fsyncStatus();
    if (st.ok) {
      this.fsyncedCandidateBytes = Math.max(this.fsyncedCandidateBytes, offset);
      this.fsyncFailureCode = null;
    } else {
      this.fsyncFailureCode = st.code;
    }
  }

  /**
   * Someone waits for durability: submit a background fsync now instead of waiting for the next
   * everysec tick (or forever under no). Not while one is pending (it will be observed), when
   * everything written is already durable, or after a failed fsync (writes are refused then and
   * Redis retries nothing; turning the AOF on again clears it). True when one was submitted.
   */
  requestFsyncForWaiters(): boolean {
    if (this.fd === -1 || this.fatal !== null) return false;
    if (this.deps.bio.pending('aofFsync') !== 0 || !this.deps.bio.fsyncStatus().ok) return false;
    if (this.streamWrittenBytes <= this.fsyncedCandidateBytes) return false;
    if (this.deps.noAppendfsyncOnRewrite() && this.deps.hasActiveChild()) return false;
    this.submitTrackedFsync();
    this.incrFsyncOffsetBytes = this.incrSizeBytes;
    this.onTrace?.({
      kind: 'fsync-submit',
      atMs: this.deps.clock.nowMs(),
      offset: this.incrSizeBytes,
    });
    return true;
  }

  private submitTrackedFsync(): void {
    this.deps.bio.submitFsync(this.fd);
    this.fsyncJobOffsets.push(this.streamWrittenBytes);
  }

  /** An fdatasync on this thread covered everything written. */
  private syncedNow(): void {
    this.fsyncedCandidateBytes = Math.max(this.fsyncedCandidateBytes, this.streamWrittenBytes);
  }

  /** The MISCONF reason, or null (Redis writeCommandsDeniedByDiskError, AOF part). */
  deniedWriteError(): string | null {
    let code: string | null = null;
    if (this.writeStatus.kind === 'err') code = this.writeStatus.code;
    else {
      const st = this.deps.bio.fsyncStatus();
      if (!st.ok) code = st.code;
    }
    return code === null ? null : `MISCONF Errors writing to the AOF file: ${strerror(code)}`;
  }

  /** INFO aof_last_write_status merges the write status and the background fsync status. */
  lastWriteStatusText(): 'ok' | 'err' {
    return this.writeStatus.kind === 'ok' && this.deps.bio.fsyncStatus().ok ? 'ok' : 'err';
  }

  // ---- feed -----------------------------------------------------------------------------------

  /** Redis feedAppendOnlyFile. */
  feed(dbId: number, argv: readonly Bin[]): void {
    if (this.fatal !== null) return;
    if (this.deps.timestampsEnabled()) {
      const now = this.unixtime();
      if (this.curTimestampSec < now) {
        this.buf.appendRaw(`#TS:${now}\r\n`);
        this.curTimestampSec = now;
      }
    }
    const before = this.buf.length;
    if (dbId !== this.selectedDb) {
      this.buf.appendCommand(['SELECT', String(dbId)]);
      this.selectedDb = dbId;
    }
    this.buf.appendCommand(argv);
    this.streamOffsetBytes += this.buf.length - before;
  }

  // ---- flush ----------------------------------------------------------------------------------

  private fsyncInProgress(): boolean {
    return this.deps.bio.pending('aofFsync') !== 0;
  }

  /**
   * Redis flushAppendOnlyFile(force). Never throws: a write or fsync failure under always makes
   * the writer dead and is reported through onFatal.
   */
  flush(force: boolean): void {
    this.observeBioFsyncStatus();
    if (this.fd === -1 || this.fatal !== null) return;
    const policy = this.deps.policy();
    if (this.buf.length === 0) {
      // Case A: nothing to write, but an fsync may still be owed (7.0.11+ offset rule).
      const owed = this.incrFsyncOffsetBytes !== this.incrSizeBytes;
      const secondPassed = this.unixtime() > this.lastFsyncSec;
      if (policy === 'everysec' && owed && secondPassed && !this.fsyncInProgress()) {
        this.tryFsync(policy, false);
      } else if (policy === 'always' && owed) {
        this.tryFsync(policy, false);
      }
      return;
    }
    const syncInProgress = policy === 'everysec' && this.fsyncInProgress();
    if (policy === 'everysec' && !force && syncInProgress && this.postponeWrite()) return;
    const written = this.writeBuffer(syncInProgress, force);
    this.flushPostponedStartSec = 0;
    if (written !== this.buf.length) {
      this.handleWriteError(written, policy);
      return;
    }
    if (this.writeStatus.kind === 'err') {
      this.deps.log('warning', 'AOF write error looks solved, Redis can write again.');
      this.writeStatus = { kind: 'ok' };
    }
    this.currentSizeBytes += written;
    this.incrSizeBytes += written;
    this.buf.resetAfterWrite();
    this.tryFsync(policy, syncInProgress);
  }

  /** The 2-second rule; true = do not write now. */
  private postponeWrite(): boolean {
    const now = this.unixtime();
    const pendingFsync = this.deps.bio.pending('aofFsync');
    const atMs = this.deps.clock.nowMs();
    if (this.flushPostponedStartSec === 0) {
      this.flushPostponedStartSec = now;
      this.onTrace?.({ kind: 'postpone-start', atMs, bytes: this.buf.length, pendingFsync });
      return true;
    }
    if (now - this.flushPostponedStartSec < FLUSH_POSTPONE_LIMIT_SEC) {
      this.onTrace?.({ kind: 'postpone-continue', atMs, bytes: this.buf.length, pendingFsync });
      return true;
    }
    this.delayedFsyncCount++;
    this.onTrace?.({ kind: 'delayed-write', atMs, bytes: this.buf.length, pendingFsync });
    this.deps.log(
      'notice',
      'Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer ' +
        'without waiting for fsync to complete, this may slow down Redis.',
    );
    return false;
  }

  /** Redis aofWrite: loop over partial writes; total written, or -1 if the first write failed. */
  private writeBuffer(syncInProgress: boolean, forced: boolean): number {
    const data = this.buf.view();
    const startMs = this.deps.clock.nowMs();
    const t0 = performance.now();
    let total = 0;
    this.lastErrorCode = 'ENOSPC';
    while (total < data.length) {
      let n: number;
      try {
        n = this.deps.fs.write(this.fd, data, total, data.length - total);
      } catch (err) {
        this.lastErrorCode = errorCode(err);
        break;
      }
      if (n <= 0) break; // a write that makes no progress is a full disk for our purposes
      total += n;
    }
    const durationMs = performance.now() - t0;
    this.recordWriteLatency(durationMs, syncInProgress);
    this.onTrace?.({
      kind: 'write',
      atMs: startMs,
      bytes: data.length,
      written: total,
      pendingFsync: this.deps.bio.pending('aofFsync'),
      forced,
    });
    return total === 0 && data.length > 0 ? -1 : total;
  }

  private recordWriteLatency(durationMs: number, syncInProgress: boolean): void {
    const lat = this.deps.latency;
    lat.addSampleIfNeeded('aof-write', durationMs);
    if (syncInProgress) lat.addSampleIfNeeded('aof-write-pending-fsync', durationMs);
    else if (this.deps.hasActiveChild())
      lat.addSampleIfNeeded('aof-write-active-child', durationMs);
    else lat.addSampleIfNeeded('aof-write-alone', durationMs);
  }

  /** Redis flushAppendOnlyFile's short-write / error branch (spec §4). */
  private handleWriteError(written: number, policy: FsyncPolicy): void {
    const canLog = this.canLogWriteError();
    let code: string;
    let kept = written;
    if (written === -1) {
      code = this.lastErrorCode;
      if (canLog) this.deps.log('warning', `Error writing to the AOF file: ${strerror(code)}`);
      kept = 0;
    } else {
      if (canLog) {
        this.deps.log(
          'warning',
          `Short write while writing to the AOF file: (nwritten=${written}, ` +
            `expected=${this.buf.length})`,
        );
      }
      kept = this.removeShortWrite(canLog) ? 0 : written;
      code = 'ENOSPC'; // Redis records ENOSPC for any short write, whatever the real cause
    }
    this.onTrace?.({
      kind: 'write-error',
      atMs: this.deps.clock.nowMs(),
      code,
      partialBytes: kept,
    });
    if (policy === 'always') {
      this.deps.log(
        'warning',
        "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...",
      );
      this.die(
        new AofFatalError(
          'ERR_AOF_WRITE',
          `AOF write failed under appendfsync always: ${strerror(code)}`,
        ),
      );
      return;
    }
    this.writeStatus = { kind: 'err', code };
    if (kept > 0) {
      // The partial bytes stay in the file: account for them and drop them from the buffer.
      this.currentSizeBytes += kept;
      this.incrSizeBytes += kept;
      this.buf.consume(kept);
    }
  }

  /** Cut a partial command back off: the INCR file must end on a command boundary. */
  private removeShortWrite(canLog: boolean): boolean {
    try {
      this.deps.fs.ftruncate(this.fd, this.incrSizeBytes);
      return true;
    } catch (err) {
      if (canLog) {
        this.deps.log(
          'warning',
          'Could not remove short write from the append-only file.  Redis may refuse to load ' +
            `the AOF the next time it starts.  ftruncate: ${strerror(errorCode(err))}`,
        );
      }
      return false;
    }
  }

  /** Redis's can_log: one write-error log line (of any kind) per AOF_WRITE_LOG_ERROR_RATE. */
  private canLogWriteError(): boolean {
    const now = this.unixtime();
    if (now - this.lastWriteErrorLogSec <= WRITE_ERROR_LOG_INTERVAL_SEC) return false;
    this.lastWriteErrorLogSec = now;
    return true;
  }

  /** Redis flushAppendOnlyFile's try_fsync label. */
  private tryFsync(policy: FsyncPolicy, syncInProgress: boolean): void {
    // no-appendfsync-on-rewrite: skip without touching aof_last_fsync, so it is caught up later.
    if (this.deps.noAppendfsyncOnRewrite() && this.deps.hasActiveChild()) return;
    const now = this.unixtime();
    if (policy === 'always') {
      const t0 = performance.now();
      if (!this.fdatasyncOrDie()) return;
      const durationMs = performance.now() - t0;
      this.deps.latency.addSampleIfNeeded('aof-fsync-always', durationMs);
      this.onTrace?.({ kind: 'fsync-always', atMs: this.deps.clock.nowMs(), durationMs });
      this.incrFsyncOffsetBytes = this.incrSizeBytes;
      this.lastFsyncSec = now;
      this.syncedNow();
    } else if (policy === 'everysec' && now > this.lastFsyncSec) {
      const atMs = this.deps.clock.nowMs();
      if (!syncInProgress) {
        this.submitTrackedFsync();
        this.incrFsyncOffsetBytes = this.incrSizeBytes;
        this.onTrace?.({ kind: 'fsync-submit', atMs, offset: this.incrSizeBytes });
      } else {
        this.onTrace?.({ kind: 'fsync-skipped-in-progress', atMs });
      }
      // Recorded at request time, even when skipped: the Case A rule catches the offset up later.
      this.lastFsyncSec = now;
    }
  }

  private die(error: AofFatalError): void {
    if (this.fatal !== null) return;
    this.fatal = error;
    this.onTrace?.({ kind: 'fatal', atMs: this.deps.clock.nowMs(), code: error.code });
    this.deps.onFatal(error);
  }

  /** Log transitions of the background fsync status (Redis logs OK→ERR once). */
  private observeBioFsyncStatus(): void {
    const st = this.deps.bio.fsyncStatus();
    if (st.ok === this.lastBioFsyncOk) return;
    this.lastBioFsyncOk = st.ok;
    if (!st.ok)
      this.deps.log('warning', `Error trying to fsync the AOF file: ${strerror(st.code)}`);
  }

  // ---- the file -------------------------------------------------------------------------------

  /** Start appending to an existing INCR of `sizeBytes` (Redis aofOpenIfNeededOnServerStart). */
  open(fd: number, sizeBytes: number): void {
    this.switchTo(fd);
    this.incrSizeBytes = sizeBytes;
    this.incrFsyncOffsetBytes = sizeBytes;
  }

  /**
   * Append to `fd` from now on (Redis openNewIncrAofForAppend's bookkeeping): a fresh INCR, so
   * sizes start at 0 and the next command is preceded by a SELECT. Returns the previous fd (-1:
   * none), which the caller hands to bio to fsync and close. Bytes still in aof_buf go to `fd`.
   */
  switchTo(fd: number): number {
    const previous = this.fd;
    this.onTrace?.({
      kind: 'incr-switch',
      atMs: this.deps.clock.nowMs(),
      fromFd: previous,
      fromSizeBytes: this.incrSizeBytes,
      toFd: fd,
      bufferedBytes: this.buf.length,
    });
    this.fd = fd;
    this.selectedDb = -1;
    this.lastFsyncSec = this.unixtime();
    this.incrSizeBytes = 0;
    this.incrFsyncOffsetBytes = 0;
    return previous;
  }

  /** The file's real size (after a load may have cut a torn tail of the file being appended). */
  adoptFileSize(): void {
    if (this.fd === -1) return;
    let size: number;
    try {
      size = this.deps.fs.fileSize(this.fd);
    } catch {
      return; // the sizes stay estimates; the next successful write corrects nothing worse
    }
    this.currentSizeBytes += size - this.incrSizeBytes;
    this.incrSizeBytes = size;
    this.incrFsyncOffsetBytes = Math.min(this.incrFsyncOffsetBytes, size);
  }

  /** fdatasync the current file now, on this thread (a rewrite's start). Throws FsError. */
  fsyncNow(): void {
    if (this.fd === -1 || this.fatal !== null) return;
    this.deps.fs.fdatasync(this.fd);
    this.syncedNow();
  }

  /**
   * appendfsync was switched to always: make everything written so far durable now. Under
   * everysec the fsync offset is recorded when a background fsync is *submitted*, so the Case A
   * rule alone would not fsync data whose bio job has not run yet, and the first reply under
   * always would claim more than the disk holds. Redis 7.2 drains bio here (bioDrainWorker);
   * 7.0.15 does not. A failed fdatasync is fatal, as under always.
   */
  syncForAlways(): void {
    if (this.fd === -1 || this.fatal !== null) return;
    if (!this.fdatasyncOrDie()) return;
    this.incrFsyncOffsetBytes = this.incrSizeBytes;
    this.lastFsyncSec = this.unixtime();
    this.syncedNow();
  }

  /** fdatasync under always: a failure is fatal (Redis exits). False when it failed. */
  private fdatasyncOrDie(): boolean {
    try {
      this.deps.fs.fdatasync(this.fd);
      return true;
    } catch (err) {
      const code = errorCode(err);
      this.deps.log(
        'warning',
        "Can't persist AOF for fsync error when the AOF fsync policy is 'always': " +
          `${strerror(code)}. Exiting...`,
      );
      const message = `AOF fsync failed under appendfsync always: ${strerror(code)}`;
      this.die(new AofFatalError('ERR_AOF_FSYNC', message, { cause: err }));
      return false;
    }
  }

  /** Ask bio to fsync the current file (a rewrite's presync); false when there is none. */
  submitBackgroundFsync(): boolean {
    if (this.fd === -1 || this.fatal !== null) return false;
    this.submitTrackedFsync();
    return true;
  }

  /**
   * Redis stopAppendOnly's writer part: forced flush, fsync (a failure is only logged), close,
   * forget the file and the buffer. Never throws; a fatal flush is reported through onFatal.
   */
  stop(): void {
    if (this.fd !== -1) {
      this.flush(true);
      if (this.fatal === null) {
        try {
          this.deps.fs.fdatasync(this.fd);
          this.lastFsyncSec = this.unixtime();
          this.syncedNow();
        } catch (err) {
          this.deps.log('warning', `Fail to fsync the AOF file: ${strerror(errorCode(err))}`);
        }
      }
    }
    closeQuietly(this.deps.fs, this.switchTo(-1));
    this.buf.clear();
  }

  /**
   * Redis prepareForShutdown's AOF part: write what aof_buf holds (up to SHUTDOWN_WRITE_ATTEMPTS
   * tries, never postponed) and fdatasync. Unlike Redis, which logs and exits, it reports what it
   * could not do, so close() can say what was not persisted. A dead writer does nothing.
   */
  shutdown(): ShutdownResult {
    if (this.fd === -1 || this.fatal !== null) return { unwritten: null, fsyncError: null };
    let unwritten: ShutdownResult['unwritten'] = null;
    for (let attempt = 1; attempt <= SHUTDOWN_WRITE_ATTEMPTS && this.buf.length > 0; attempt++) {
      const written = this.writeBuffer(false, true);
      if (written === this.buf.length) {
        this.currentSizeBytes += written;
        this.incrSizeBytes += written;
        this.buf.resetAfterWrite();
        break;
      }
      // Keep partial bytes only if they cannot be cut off (as flush does).
      const kept = written === -1 ? 0 : this.removeShortWrite(true) ? 0 : written;
      if (kept > 0) {
        this.incrSizeBytes += kept;
        this.currentSizeBytes += kept;
        this.buf.consume(kept);
      }
      const code = written === -1 ? this.lastErrorCode : 'ENOSPC';
      unwritten = { bytes: this.buf.length, code };
    }
    if (this.buf.length === 0) unwritten = null;
    let fsyncError: string | null = null;
    try {
      this.deps.fs.fdatasync(this.fd);
      this.incrFsyncOffsetBytes = this.incrSizeBytes;
      this.syncedNow();
    } catch (err) {
      fsyncError = errorCode(err);
      this.deps.log('warning', `Fail to fsync the AOF file: ${strerror(fsyncError)}.`);
    }
    return { unwritten, fsyncError };
  }

  /** Close the file and forget it (the end of shutdown, or of a dead writer). */
  closeFile(): void {
    closeQuietly(this.deps.fs, this.fd);
    this.fd = -1;
  }

  // ---- statuses and counters ------------------------------------------------------------------

  /**
   * Redis startAppendOnly: "AOF reopen, just ignore the last error" for both the write status
   * and the background fsync status, and aof_last_fsync restarts now.
   */
  clearErrors(): void {
    this.lastFsyncSec = this.unixtime();
    if (!this.deps.bio.fsyncStatus().ok) {
      this.deps.log('warning', 'AOF reopen, just ignore the AOF fsync error in bio job');
      this.deps.bio.resetFsyncStatus();
    }
    if (this.writeStatus.kind === 'err') {
      this.deps.log('warning', 'AOF reopen, just ignore the last error.');
      this.writeStatus = { kind: 'ok' };
    }
  }

  /** Drop what aof_buf holds (the first rewrite after appendonly yes failed: Redis cleanup). */
  discardBuffer(): void {
    this.buf.clear();
  }

  /** aof_current_size after a load or a rewrite: base + INCR sizes as they are now. */
  setCurrentSize(bytes: number): void {
    this.currentSizeBytes = bytes;
  }

  /** CONFIG RESETSTAT's part: aof_delayed_fsync. */
  resetStats(): void {
    this.delayedFsyncCount = 0;
  }
}

/** close(2) releases the fd even when it reports an error: nothing to do about one. */
export function closeQuietly(fs: FileSystem, fd: number): void {
  if (fd === -1) return;
  try {
    fs.close(fd);
  } catch {
    /* the fd is released anyway */
  }
}
