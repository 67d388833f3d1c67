// DESIGN: the AOF write path of Redis 7.0.15, rule for rule (spec §1.2–§4):
//   feed()   Redis feedAppendOnlyFile: optional `#TS:` annotation, SELECT when the db changes,
//            then the command, encoded into aof_buf.
//   flush()  Redis flushAppendOnlyFile(force): one write(2) of aof_buf per event-loop turn, then
//            the fsync decision for the policy:
//              always    fdatasync inline, before any reply is delivered; any error is fatal
//              everysec  at most one background fsync (bio AOF_FSYNC job) per second; while one is
//                        still pending the write itself is postponed, for up to 2 s
//              no        never fsync here
// The writer owns every field Redis keeps for this in `server` (aof_buf, aof_fd, sizes, offsets,
// statuses). It does all I/O through the FileSystem seam and learns about background fsyncs only
// through BioClient's shared counters (pending jobs, fsync status), read synchronously — exactly
// how Redis reads bio_pending and aof_bio_fsync_status. Time comes from the injected Clock.
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

export type WriteStatus = { kind: 'ok' } | { kind: 'err'; code: string };

export interface AofLogger {
  (level: 'notice' | 'warning' | 'verbose', message: string): void;
}

/** Everything the study mode and tracing can observe about the write path. */
export type AofTraceEvent =
  | { kind: 'write'; atMs: number; bytes: number; written: number; pendingFsync: number; forced: boolean }
  | { kind: 'postpone-start'; atMs: number; bytes: number; pendingFsync: number }
  | { kind: 'postpone-continue'; atMs: number; bytes: number; pendingFsync: number }
  | { kind: 'delayed-write'; atMs: number; bytes: number; pendingFsync: number }
  | { kind: 'fsync-submit'; atMs: number; offset: number }
  | { kind: 'fsync-skipped-in-progress'; atMs: number }
  | { kind: 'fsync-always'; atMs: number; durationMs: number }
  | { kind: 'write-error'; atMs: number; code: string; partialBytes: number };

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
}

/** A failure that Redis answers with exit(1): appendfsync always could not keep its promise. */
export class AofFatalError extends EngineError {}

export class AofWriter {
  readonly buf = new AofBuffer();
  /** aof_fd: the file being appended to, or -1. */
  fd = -1;
  /** aof_selected_db: db of the last SELECT in the stream; -1 forces one. */
  selectedDb = -1;
  /** aof_cur_timestamp: last `#TS:` second emitted. */
  curTimestampSec = 0;
  /** aof_current_size: base + all INCR bytes (an estimate after a rewrite). */
  currentSizeBytes = 0;
  /** aof_last_incr_size: bytes of the INCR file being written. */
  lastIncrSizeBytes = 0;
  /** aof_last_incr_fsync_offset: lastIncrSizeBytes at the last fsync *request*. */
  lastIncrFsyncOffsetBytes = 0;
  /** aof_last_fsync: second of the last fsync (or fsync attempt). */
  lastFsyncSec: number;
  /** aof_flush_postponed_start: second the current postponement began; 0 = none. */
  flushPostponedStartSec = 0;
  /** aof_delayed_fsync: writes forced through while a background fsync was still running. */
  delayedFsyncCount = 0;
  writeStatus: WriteStatus = { kind: 'ok' };
  /** Set by trace consumers (study mode, embedders' tracing option). */
  onTrace: ((e: AofTraceEvent) => void) | null = null;

  private readonly deps: AofWriterDeps;
  private lastWriteErrorLogSec = 0;
  private lastBioFsyncOk = true;

  constructor(deps: AofWriterDeps) {
    this.deps = deps;
    this.lastFsyncSec = this.unixtime();
  }

  unixtime(): number {
    return Math.floor(this.deps.clock.nowMs() / 1000);
  }

  // ---- feed -----------------------------------------------------------------------------------

  /** Redis feedAppendOnlyFile. */
  feed(dbId: number, argv: readonly Bin[]): void {
    if (this.deps.timestampsEnabled()) {
      const now = this.unixtime();
      if (this.curTimestampSec < now) {
        this.buf.appendRaw(`#TS:${now}\r\n`);
        this.curTimestampSec = now;
      }
    }
    if (dbId !== this.selectedDb) {
      this.buf.appendCommand(['SELECT', String(dbId)]);
      this.selectedDb = dbId;
    }
    this.buf.appendCommand(argv);
  }

  // ---- flush ----------------------------------------------------------------------------------

  private fsyncInProgress(): boolean {
    return this.deps.bio.pending('aofFsync') !== 0;
  }

  /**
   * Redis flushAppendOnlyFile(force). Throws AofFatalError when the policy is always and the write
   * or the fsync failed: the caller must then refuse every further command.
   */
  flush(force: boolean): void {
    this.observeBioFsyncStatus();
    if (this.fd === -1) return;
    const policy = this.deps.policy();
    if (this.buf.length === 0) {
      // Case A: nothing to write, but an fsync may still be owed (7.0.11+ offset rule).
      const owed = this.lastIncrFsyncOffsetBytes !== this.lastIncrSizeBytes;
      if (policy === 'everysec' && owed && this.unixtime() > this.lastFsyncSec && !this.fsyncInProgress()) {
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
    this.lastIncrSizeBytes += written;
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
      'Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting ' +
        'for fsync to complete, this may slow down Redis.',
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

  private lastErrorCode = 'ENOSPC';

  private recordWriteLatency(durationMs: number, syncInProgress: boolean): void {
    const lat = this.deps.latency;
    lat.addSampleIfNeeded('aof-write', durationMs);
    if (syncInProgress) lat.addSampleIfNeeded('aof-write-pending-fsync', durationMs);
    else if (this.deps.hasActiveChild()) lat.addSampleIfNeeded('aof-write-active-child', durationMs);
    else lat.addSampleIfNeeded('aof-write-alone', durationMs);
  }

  /** Redis flushAppendOnlyFile's short-write / error branch (spec §4). */
  private handleWriteError(written: number, policy: FsyncPolicy): void {
    let code: string;
    let kept = written;
    if (written === -1) {
      code = this.lastErrorCode;
      this.logWriteError(`Error writing to the AOF file: ${strerror(code)}`);
      kept = 0;
    } else {
      this.logWriteError(`Short write while writing to the AOF file: (nwritten=${written}, expected=${this.buf.length})`);
      try {
        // Cut the partial command back off: the INCR file must end on a command boundary.
        this.deps.fs.ftruncate(this.fd, this.lastIncrSizeBytes);
        kept = 0;
      } catch {
        this.deps.log(
          'warning',
          'Could not remove short write from the append-only file. Redis may refuse to load the AOF the ' +
            'next time it starts. ftruncate: ' + strerror(this.lastErrorCode),
        );
      }
      code = 'ENOSPC'; // Redis records ENOSPC for any short write, whatever the real cause
    }
    this.onTrace?.({ kind: 'write-error', atMs: this.deps.clock.nowMs(), code, partialBytes: kept });
    if (policy === 'always') {
      this.deps.log('warning', "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
      throw new AofFatalError('ERR_AOF_WRITE', `AOF write failed under appendfsync always: ${strerror(code)}`);
    }
    this.writeStatus = { kind: 'err', code };
    if (kept > 0) {
      // The partial bytes stay in the file: account for them and drop them from the buffer.
      this.currentSizeBytes += kept;
      this.lastIncrSizeBytes += kept;
      this.buf.consume(kept);
    }
  }

  private logWriteError(message: string): void {
    const now = this.unixtime();
    if (now - this.lastWriteErrorLogSec < WRITE_ERROR_LOG_INTERVAL_SEC && this.lastWriteErrorLogSec !== 0) return;
    this.lastWriteErrorLogSec = now;
    this.deps.log('warning', message);
  }

  /** Redis flushAppendOnlyFile's try_fsync label. */
  private tryFsync(policy: FsyncPolicy, syncInProgress: boolean): void {
    // no-appendfsync-on-rewrite: skip without touching aof_last_fsync, so it is caught up later.
    if (this.deps.noAppendfsyncOnRewrite() && this.deps.hasActiveChild()) return;
    const now = this.unixtime();
    if (policy === 'always') {
      const t0 = performance.now();
      try {
        this.deps.fs.fdatasync(this.fd);
      } catch (err) {
        const code = errorCode(err);
        this.deps.log('warning', `Can't persist AOF for fsync error when the AOF fsync policy is 'always': ${strerror(code)}. Exiting...`);
        throw new AofFatalError('ERR_AOF_FSYNC', `AOF fsync failed under appendfsync always: ${strerror(code)}`, { cause: err });
      }
      const durationMs = performance.now() - t0;
      this.deps.latency.addSampleIfNeeded('aof-fsync-always', durationMs);
      this.onTrace?.({ kind: 'fsync-always', atMs: this.deps.clock.nowMs(), durationMs });
      this.lastIncrFsyncOffsetBytes = this.lastIncrSizeBytes;
      this.lastFsyncSec = now;
    } else if (policy === 'everysec' && now > this.lastFsyncSec) {
      if (!syncInProgress) {
        this.deps.bio.submitFsync(this.fd);
        this.lastIncrFsyncOffsetBytes = this.lastIncrSizeBytes;
        this.onTrace?.({ kind: 'fsync-submit', atMs: this.deps.clock.nowMs(), offset: this.lastIncrSizeBytes });
      } else {
        this.onTrace?.({ kind: 'fsync-skipped-in-progress', atMs: this.deps.clock.nowMs() });
      }
      // Recorded at request time, even when skipped: the Case A rule catches the offset up later.
      this.lastFsyncSec = now;
    }
  }

  /** Log transitions of the background fsync status (Redis logs OK→ERR once). */
  private observeBioFsyncStatus(): void {
    const st = this.deps.bio.fsyncStatus();
    if (st.ok === this.lastBioFsyncOk) return;
    this.lastBioFsyncOk = st.ok;
    if (!st.ok) this.deps.log('warning', `Error trying to fsync the AOF file: ${strerror(st.code)}`);
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

  /** Start appending to a fresh INCR file (Redis openNewIncrAofForAppend bookkeeping). */
  switchToNewIncr(fd: number): void {
    this.fd = fd;
    this.lastFsyncSec = this.unixtime();
    this.lastIncrSizeBytes = 0;
    this.lastIncrFsyncOffsetBytes = 0;
  }

  /** Start appending to an existing INCR file of `sizeBytes` (aofOpenIfNeededOnServerStart). */
  openExisting(fd: number, sizeBytes: number): void {
    this.fd = fd;
    this.lastIncrSizeBytes = sizeBytes;
    this.lastIncrFsyncOffsetBytes = sizeBytes;
  }
}
