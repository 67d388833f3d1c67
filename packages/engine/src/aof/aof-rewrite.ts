// DESIGN: BGREWRITEAOF of Redis 7.0's multi-part AOF (spec §6), with a copy-on-write snapshot and
// a writer thread in place of fork():
//
//   start   (Redis rewriteAppendOnlyFileBackground) forced flush; fdatasync the old INCR, open a
//           new INCR and persist the manifest that lists it *before* switching (the old INCR fd
//           goes to a bio close-with-fsync job); count the attempt; take the snapshot
//           (rewrite-snapshot.ts) and open the temp base `temp-rewriteaof-bg-<id>.aof` in `dir`.
//           All in one turn: the snapshot is the dataset exactly as it was when the new INCR
//           began, so base + new INCR = live data.
//           Deviation from Redis 7.0 (and 7.2), which leaves the old INCR's fdatasync to the bio
//           job: once the manifest lists a newer INCR, the old one is no longer the LAST file, and
//           the loader (like check-aof --fix) refuses a torn tail anywhere but in the last file.
//           A power loss between the manifest persist and that job would leave a directory that
//           neither loads nor can be repaired by check-aof (or, when whole writes were lost, one
//           that loads with a gap). So the old INCR is made durable first, on this thread; under
//           always it holds nothing un-synced, under everysec about a second of writes.
//           The forced flush must have written everything: bytes still in aof_buf would go to the
//           new INCR while their commands are already in the snapshot (applied twice on load).
//   walk    slices of at most SLICE_MS on the main thread encode keys as MessagePack
//           (snapshot-codec.ts); the sink (writer thread, or inline on the simulated disk) decodes
//           them into the base format, writes and fsyncs.
//   done    (Redis backgroundRewriteDoneHandler) rename the temp base into the AOF directory as
//           the next base, retire the old base and INCRs to history, persist the manifest, delete
//           the history files in the background (bio), persist the manifest again.
//   failure at any step leaves the directory loadable (the manifest on disk never names a file
//           that is not complete), removes temp files, sets aof_last_bgrewrite_status:err, counts
//           consecutive failures for the back-off limiter, and leaves one more INCR, as Redis does.
//           A manifest persist that fails AFTER its rename (the directory fsync failed) has already
//           put the new manifest in place: the failure path writes the manifest in memory back
//           (restoreManifestAfterFailedPersist) and never deletes a file the new one names. The
//           failure paths themselves never throw: a disk that keeps failing must not leave the
//           rewrite "in progress" forever.
//
// The main thread is never blocked for long: the start does a few small file operations and one
// fdatasync of the old INCR (see above), each slice is bounded by time (by keys only under a
// ManualRewriteScheduler), and the done handler does renames and two manifest writes.

import { posix as path } from 'node:path';
import type { EngineConfig } from '../config.ts';
import { isFsError, type FileSystem } from '../io/file-system.ts';
import type { Clock } from '../io/clock.ts';
import type { Server } from '../server.ts';
import type { BioClient } from '@aofkv/bio-workers';
import {
  newBaseFile,
  newIncrFile,
  persistManifest,
  tempIncrName,
  type AofManifest,
  type AofNames,
} from './aof-manifest.ts';
import type { AofLogger, AofWriter } from './aof-writer.ts';
import type { LatencyMonitor } from './latency-monitor.ts';
import { RewriteSnapshot } from './rewrite-snapshot.ts';
import type { SnapshotSink } from './snapshot-sink.ts';

/** Redis AOF_REWRITE_LIMITE_THRESHOLD / AOF_REWRITE_LIMITE_MAX_MINUTES. */
const LIMIT_THRESHOLD_FAILURES = 3;
const LIMIT_MAX_DELAY_MINUTES = 60;
/** One walk slice: stop taking keys after this long so other work gets the event loop. */
// Measured with `pnpm bench --only load` (1M keys, 64 SETs in flight): 4 ms slices gave a worst
// turn of 45.8 ms and 2 ms slices 31.6 ms when slices built entry arrays for msgpackr; with the
// encoder writing straight from the values (snapshot-codec.ts) and the presync below, the worst
// turn during a rewrite is 10-15 ms.
const SLICE_MS = 2;
/**
 * The start fdatasyncs the old INCR on the main thread (see DESIGN). When more than this is not
 * yet fsynced (everysec: up to a second or two of writes; no: whatever the kernel has not flushed)
 * bio does it first and the switch waits for it, so that fdatasync stays short. Deviation: a
 * failure to open the new INCR in that later turn is reported as a failed rewrite (status err,
 * log), as a failing fork child would be, not as an ERR reply to BGREWRITEAOF.
 */
const PRESYNC_MIN_BYTES = 256 * 1024;
const SLICE_MAX_ENTRIES = 2048;

export type AofState = 'off' | 'on' | 'wait-rewrite';

/** What the rewriter needs from the AOF subsystem that owns it. */
export interface RewriteHost {
  readonly config: EngineConfig;
  readonly fs: FileSystem;
  readonly bio: BioClient;
  readonly clock: Clock;
  readonly server: Server;
  readonly log: AofLogger;
  readonly names: AofNames;
  readonly writer: AofWriter;
  readonly latency: LatencyMonitor;
  state: AofState;
  manifest: AofManifest;
  rewriteBaseSizeBytes: number;
  bgUnlink(filePath: string): void;
  deleteHistoryFiles(): void;
  fileSize(name: string): number;
}

/** How the walk yields between slices: the event loop in production, a test's hand in simulation. */
export interface RewriteScheduler {
  nextSlice(): Promise<void>;
  /** Most entries one slice takes (default SLICE_MAX_ENTRIES). */
  readonly maxEntriesPerSlice?: number;
  /**
   * False: a slice ends by its entry count only, never by wall-clock time, so the same run gives
   * the same slices (simulations). Default true: a slice also ends after SLICE_MS.
   */
  readonly timeSliced?: boolean;
}

export const eventLoopScheduler: RewriteScheduler = {
  nextSlice: () => new Promise((resolve) => setImmediate(resolve)),
};

/**
 * Slices run only when a test calls step(): deterministic rewrites in simulations. Slices are
 * bounded by entries only (not by time), so a seed replays with the same slices.
 */
export class ManualRewriteScheduler implements RewriteScheduler {
  private waiting: (() => void)[] = [];
  readonly maxEntriesPerSlice: number;
  readonly timeSliced = false;
  constructor(options: { maxEntriesPerSlice?: number } = {}) {
    this.maxEntriesPerSlice = options.maxEntriesPerSlice ?? SLICE_MAX_ENTRIES;
  }
  nextSlice(): Promise<void> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  /** Release one waiting slice; false when the rewrite is not waiting. */
  step(): boolean {
    const next = this.waiting.shift();
    next?.();
    return next !== undefined;
  }
  get pendingSlices(): number {
    return this.waiting.length;
  }
}

interface RewriteRun {
  readonly id: number;
  readonly tempPath: string;
  readonly snapshot: RewriteSnapshot;
  readonly sink: SnapshotSink;
  readonly startedMs: number;
  /** The base format chosen at start (aof-use-rdb-preamble then), which names the new base. */
  readonly rdb: boolean;
  cancelled: boolean;
  finished: Promise<void>;
}

export type BgRewriteReply = 'started' | 'scheduled' | 'in-progress' | 'failed';

/** A start waiting for bio to fsync the old INCR (see PRESYNC_MIN_BYTES). */
interface Presync {
  cancelled: boolean;
  done: Promise<void>;
}

export class AofRewriter {
  /** The running rewrite (Redis: an AOF child exists), or null. */
  private run: RewriteRun | null = null;
  private presync: Presync | null = null;
  scheduled = false;
  lastStatus: 'ok' | 'err' = 'ok';
  /** stat_aof_rewrites, stat_aofrw_consecutive_failures. */
  rewrites = 0;
  consecutiveFailures = 0;
  /** aof_rewrite_time_last (s; -1 before any). */
  lastRewriteTimeSec = -1;
  /** aof_last_cow_size: what the last snapshot held beyond the dataset (rewrite-snapshot.ts). */
  lastCowSizeBytes = 0;
  /**
   * Set (to the error code) when a manifest persist at the rewrite's start failed after its
   * rename and the old manifest could not be written back: the manifest on disk may list an INCR
   * newer than the one the writer appends to. Writes are refused (MISCONF) while it is set; the
   * cron retries the restore (retryManifestRestore) and any successful persist clears it.
   */
  manifestInDoubt: string | null = null;
  private nextRunId = 1;
  private limiterDelayMinutes = 0;
  private limiterNextRewriteSec = 0;
  private readonly host: RewriteHost;
  private readonly makeSink: () => SnapshotSink;
  readonly scheduler: RewriteScheduler;

  constructor(host: RewriteHost, makeSink: () => SnapshotSink, scheduler: RewriteScheduler) {
    this.host = host;
    this.makeSink = makeSink;
    this.scheduler = scheduler;
  }

  get inProgress(): boolean {
    return this.run !== null || this.presync !== null;
  }

  /** Seconds since the running rewrite started, or -1. */
  currentRewriteTimeSec(): number {
    return this.run === null ? -1 : Math.floor((this.host.clock.nowMs() - this.run.startedMs) / 1000);
  }

  /** Progress of the running rewrite's walk, for INFO and tracing. */
  progress(): { emittedKeys: number; totalKeys: number; savedKeys: number } | null {
    const r = this.run;
    return r === null ? null : { emittedKeys: r.snapshot.emittedKeys, totalKeys: r.snapshot.totalKeys, savedKeys: r.snapshot.savedKeys };
  }

  /** Resolves when the running rewrite (if any) has finished, successfully or not. */
  async waitForCompletion(): Promise<void> {
    while (this.presync !== null || this.run !== null) await (this.presync?.done ?? this.run!.finished);
  }

  /** Redis bgrewriteaofCommand. */
  bgrewriteaof(inExec: boolean): BgRewriteReply {
    if (this.inProgress) return 'in-progress';
    if (inExec) {
      this.scheduled = true;
      this.consecutiveFailures = 0; // a user's request bypasses the limiter
      return 'scheduled';
    }
    return this.start() ? 'started' : 'failed';
  }

  /** Redis aofRewriteLimited: after 3 consecutive failures, back off 1, 2, 4 ... 60 minutes. */
  limited(): boolean {
    if (this.consecutiveFailures < LIMIT_THRESHOLD_FAILURES) {
      this.limiterDelayMinutes = 0;
      this.limiterNextRewriteSec = 0;
      return false;
    }
    const now = this.host.writer.unixtime();
    if (this.limiterNextRewriteSec !== 0) {
      if (now < this.limiterNextRewriteSec) return true;
      this.limiterNextRewriteSec = 0;
      return false;
    }
    this.limiterDelayMinutes = Math.min(
      this.limiterDelayMinutes === 0 ? 1 : this.limiterDelayMinutes * 2,
      LIMIT_MAX_DELAY_MINUTES,
    );
    this.limiterNextRewriteSec = now + this.limiterDelayMinutes * 60;
    this.host.log(
      'warning',
      `Background AOF rewrite has repeatedly failed and triggered the limit, will retry in ${this.limiterDelayMinutes} minutes`,
    );
    return true;
  }

  /** serverCron: a scheduled rewrite, then the automatic one on growth. */
  cron(): void {
    if (this.inProgress) return;
    if (this.scheduled && !this.limited()) {
      this.start();
      return;
    }
    const { config, writer } = this.host;
    if (this.host.state !== 'on' || config.autoAofRewritePercentage === 0) return;
    if (writer.currentSizeBytes <= config.autoAofRewriteMinSize) return;
    const base = this.host.rewriteBaseSizeBytes === 0 ? 1 : this.host.rewriteBaseSizeBytes;
    const growth = Math.floor((writer.currentSizeBytes * 100) / base) - 100;
    if (growth >= config.autoAofRewritePercentage && !this.limited()) {
      this.host.log('notice', `Starting automatic rewriting of AOF on ${growth}% growth`);
      this.start();
    }
  }

  /** Redis rewriteAppendOnlyFileBackground. False when the rewrite could not start. */
  start(): boolean {
    const h = this.host;
    if (this.inProgress) return false;
    try {
      h.fs.mkdir(h.names.aofDir);
    } catch (err) {
      h.log('warning', `Can't open or create append-only dir ${h.names.aofDir}: ${(err as Error).message}`);
      this.lastStatus = 'err';
      return false;
    }
    // An fsync already running in bio counts too: the fdatasync at the switch would wait for it.
    const unsynced = h.writer.lastIncrSizeBytes - h.writer.lastIncrFsyncOffsetBytes + h.writer.buf.length;
    if (h.state === 'on' && h.writer.fd !== -1 && (unsynced >= PRESYNC_MIN_BYTES || h.bio.pending('aofFsync') !== 0)) {
      this.beginPresync();
      return true;
    }
    return this.flushAndSwitch();
  }

  /**
   * The old INCR holds many unsynced bytes (everysec, no): let bio fsync them, then switch in a
   * later turn, whose own fdatasync covers only what was written meanwhile.
   */
  private beginPresync(): void {
    const h = this.host;
    const presync: Presync = { cancelled: false, done: Promise.resolve() };
    this.presync = presync;
    h.bio.submitFsync(h.writer.fd);
    presync.done = h.bio.drain('aofFsync').then(
      () => this.endPresync(presync),
      () => this.endPresync(presync),
    );
  }

  private endPresync(presync: Presync): void {
    if (this.presync !== presync) return;
    this.presync = null;
    if (!presync.cancelled && !this.flushAndSwitch()) this.host.log('warning', 'Background AOF rewrite could not start');
  }

  /** The rest of rewriteAppendOnlyFileBackground: forced flush, new INCR, snapshot (the fork). */
  private flushAndSwitch(): boolean {
    const h = this.host;
    h.writer.selectedDb = -1;
    h.writer.flush(true);
    if (h.writer.buf.length > 0) {
      // The write failed (the MISCONF gate is up): commands already in the dataset are still in
      // aof_buf. Switching now would write them to the new INCR, after a base that contains them.
      h.log('warning', "Can't start the AOF rewrite: the AOF buffer could not be written");
      this.lastStatus = 'err';
      return false;
    }
    return this.switchToNewIncrAndSnapshot();
  }

  private switchToNewIncrAndSnapshot(): boolean {
    const h = this.host;
    if (!this.openNewIncrAofForAppend()) {
      this.lastStatus = 'err';
      return false;
    }
    this.rewrites++;
    const id = process.pid * 1000 + (this.nextRunId++ % 1000);
    const tempPath = path.join(h.config.dir, `temp-rewriteaof-bg-${id}.aof`);
    const snapshot = new RewriteSnapshot(h.server.dbs);
    const sink = this.makeSink();
    const run: RewriteRun = {
      id,
      tempPath,
      snapshot,
      sink,
      startedMs: h.clock.nowMs(),
      rdb: h.config.aofUseRdbPreamble,
      cancelled: false,
      finished: Promise.resolve(),
    };
    this.run = run;
    this.scheduled = false;
    h.server.setCopyOnWrite(snapshot);
    run.finished = this.execute(run);
    h.log('notice', `Background append only file rewriting started (writer ${id})`);
    return true;
  }

  /** Redis openNewIncrAofForAppend: persist the manifest naming the new INCR, then switch. */
  private openNewIncrAofForAppend(): boolean {
    const h = this.host;
    if (h.state === 'off') return true;
    let fd = -1;
    const next = h.manifest.clone();
    try {
      if (h.state === 'wait-rewrite') {
        fd = openTruncatedForAppend(h.fs, path.join(h.names.aofDir, tempIncrName(h.names)));
      } else {
        // The old INCR stops being the last file of the manifest: it must be complete on disk.
        if (h.writer.fd !== -1) h.fs.fdatasync(h.writer.fd);
        const incr = newIncrFile(next, h.names);
        fd = openTruncatedForAppend(h.fs, path.join(h.names.aofDir, incr.fileName));
        try {
          persistManifest(h.fs, h.names, next);
        } catch (err) {
          // The writer stays on the current INCR: the manifest on disk must not name a newer one.
          // If that cannot be made sure, writes are refused until it can (manifestInDoubt).
          if (!this.restoreManifestAfterFailedPersist(err)) this.manifestInDoubt = isFsError(err) ? err.code : 'EIO';
          throw err;
        }
        this.manifestInDoubt = null;
        h.log('notice', `Creating AOF incr file ${incr.fileName} on background rewrite`);
      }
    } catch (err) {
      if (fd !== -1) closeQuietly(h.fs, fd);
      h.log('warning', `Can't open the append-only file for the rewrite: ${(err as Error).message}`);
      return false;
    }
    // The old INCR is fsynced and closed in the background under every policy (7.0.5+).
    if (h.writer.fd !== -1) h.bio.submitClose(h.writer.fd, true);
    h.writer.switchToNewIncr(fd);
    if (h.state === 'on') h.manifest = next;
    return true;
  }

  /** The "child": walk the snapshot in slices into the sink. */
  private async execute(run: RewriteRun): Promise<void> {
    const h = this.host;
    let sizeBytes: number;
    try {
      await run.sink.open(run.tempPath, {
        timestampSec: !run.rdb && h.config.aofTimestampEnabled ? h.writer.unixtime() : null,
        incrementalFsync: h.config.aofRewriteIncrementalFsync,
        rdbCtimeSec: run.rdb ? h.writer.unixtime() : null,
      });
      while (!run.snapshot.done) {
        await this.scheduler.nextSlice();
        if (run.cancelled) throw new Error('rewrite cancelled');
        const t0 = performance.now();
        const timeSliced = this.scheduler.timeSliced !== false;
        run.snapshot.walk(
          this.scheduler.maxEntriesPerSlice ?? SLICE_MAX_ENTRIES,
          () => timeSliced && performance.now() - t0 > SLICE_MS,
        );
        // The slice's keys, plus any the copy-on-write hook encoded since the last slice.
        const chunk = run.snapshot.takeEncoded();
        if (chunk !== null) await run.sink.write(chunk);
      }
      this.releaseSnapshot(run);
      sizeBytes = await run.sink.finish();
      if (run.cancelled) throw new Error('rewrite cancelled');
    } catch (err) {
      this.releaseSnapshot(run);
      await run.sink.abort();
      this.doneFailure(run, err as Error);
      return;
    }
    this.doneSuccess(run, sizeBytes);
  }

  private releaseSnapshot(run: RewriteRun): void {
    if (this.host.server.copyOnWrite === run.snapshot) {
      this.host.server.setCopyOnWrite(null);
      this.lastCowSizeBytes = run.snapshot.cowSizeBytes;
    }
  }

  /** Redis backgroundRewriteDoneHandler, success path. */
  private doneSuccess(run: RewriteRun, sizeBytes: number): void {
    const h = this.host;
    h.log('notice', 'Background AOF rewrite terminated with success');
    const next = h.manifest.clone();
    const base = newBaseFile(next, h.names, run.rdb);
    const basePath = path.join(h.names.aofDir, base.fileName);
    let newIncrPath: string | null = null;
    try {
      const t0 = performance.now();
      h.fs.rename(run.tempPath, basePath);
      h.latency.addSampleIfNeeded('aof-rename', performance.now() - t0);
      if (h.state === 'wait-rewrite') {
        const incr = newIncrFile(next, h.names);
        newIncrPath = path.join(h.names.aofDir, incr.fileName);
        h.fs.rename(path.join(h.names.aofDir, tempIncrName(h.names)), newIncrPath);
      }
      markRewrittenIncrAsHistory(next, h.writer.fd === -1);
      persistManifest(h.fs, h.names, next);
    } catch (err) {
      h.log('warning', `Error finishing the AOF rewrite: ${(err as Error).message}`);
      // If the failed persist got as far as its rename, the manifest on disk names the new base
      // (and INCR): put the old manifest back, and keep the files either one may name. Otherwise
      // they are orphans; bgUnlink tolerates files that do not exist.
      if (this.restoreManifestAfterFailedPersist(err)) {
        h.bgUnlink(basePath);
        if (newIncrPath !== null) h.bgUnlink(newIncrPath);
      }
      this.doneFailure(run, err as Error);
      return;
    }
    h.manifest = next;
    if (h.state !== 'off') {
      h.writer.currentSizeBytes = sizeBytes + h.writer.lastIncrSizeBytes;
      h.rewriteBaseSizeBytes = h.writer.currentSizeBytes;
    }
    h.deleteHistoryFiles();
    this.lastStatus = 'ok';
    this.consecutiveFailures = 0;
    if (h.state === 'wait-rewrite') h.state = 'on';
    h.log('notice', 'Background AOF rewrite finished successfully');
    this.cleanup(run);
  }

  private doneFailure(run: RewriteRun, err: Error): void {
    const h = this.host;
    if (!run.cancelled) {
      // Redis: a child killed by our own SIGUSR1 is not a failure; every other end is.
      this.lastStatus = 'err';
      this.consecutiveFailures++;
      h.log('warning', `Background AOF rewrite failed: ${err.message}`);
    }
    if (h.state === 'wait-rewrite') {
      h.log('notice', 'Removing the temp incr aof file in background');
      h.writer.buf.clear();
      h.bgUnlink(path.join(h.names.aofDir, tempIncrName(h.names)));
    }
    this.cleanup(run);
  }

  /**
   * Redis's cleanup label: temp files, timing, rescheduling while AOF is being turned on. Never
   * throws (bgUnlink ignores missing files and failed calls): the rewrite always ends.
   */
  private cleanup(run: RewriteRun): void {
    const h = this.host;
    try {
      h.bgUnlink(run.tempPath);
    } finally {
      this.lastRewriteTimeSec = Math.floor((h.clock.nowMs() - run.startedMs) / 1000);
      if (this.run === run) this.run = null;
      if (h.state === 'wait-rewrite') this.scheduled = true;
    }
  }

  /** serverCron: put the manifest in memory back on disk while it is in doubt. */
  retryManifestRestore(): void {
    if (this.manifestInDoubt === null) return;
    const h = this.host;
    const back = h.manifest.clone();
    back.dirty = true;
    try {
      persistManifest(h.fs, h.names, back);
    } catch {
      return;
    }
    h.log('notice', 'Restored the AOF manifest; writes are accepted again');
    this.manifestInDoubt = null;
  }

  /**
   * persistManifest failed. If it failed at the directory fsync, its rename already replaced the
   * manifest on disk with the one naming the new files, while this process goes on with
   * `host.manifest`: write that one back (best effort). Returns true when the manifest on disk is
   * known to be `host.manifest` again (the failure came before the rename, or the restore
   * succeeded), so files only the failed manifest named may be deleted.
   */
  private restoreManifestAfterFailedPersist(err: unknown): boolean {
    if (!isFsError(err) || err.syscall !== 'fsyncDir') return true;
    const h = this.host;
    const back = h.manifest.clone();
    back.dirty = true;
    try {
      persistManifest(h.fs, h.names, back);
    } catch (again) {
      h.log('warning', `Can't restore the AOF manifest after a failed directory fsync: ${(again as Error).message}`);
      return false;
    }
    // Its directory fsync committed the earlier rename too: the failed manifest cannot come back.
    h.log('notice', 'Restored the AOF manifest after a failed directory fsync');
    return true;
  }

  /** Kill the running rewrite (Redis killAppendOnlyChild); not counted as a failure. */
  async cancel(): Promise<void> {
    const presync = this.presync;
    if (presync !== null) {
      // Nothing to undo: only bio's fsync has run. Over at once, so a new start may follow.
      this.host.log('notice', 'Cancelling the AOF rewrite waiting for its fsync');
      presync.cancelled = true;
      this.presync = null;
    }
    const run = this.run;
    if (run === null) return;
    this.host.log('notice', 'Killing running AOF rewrite child');
    run.cancelled = true;
    // A manual scheduler may be holding the walk: let it observe the cancellation.
    if (this.scheduler instanceof ManualRewriteScheduler) while (this.scheduler.step());
    await run.sink.abort();
    await run.finished;
  }

  resetStats(): void {
    this.rewrites = 0;
    this.consecutiveFailures = 0;
  }
}

/**
 * Redis opens a new INCR with O_WRONLY|O_TRUNC|O_CREAT|O_APPEND. The FileSystem seam has no such
 * mode, and 'write-truncate' alone writes at the fd's position: after a short write that the
 * writer cuts back with ftruncate, the next write would leave a zero-filled hole. So: create or
 * empty the file, then open it for appending.
 */
function openTruncatedForAppend(fs: FileSystem, filePath: string): number {
  closeQuietly(fs, fs.open(filePath, 'write-truncate'));
  return fs.open(filePath, 'append');
}

function closeQuietly(fs: FileSystem, fd: number): void {
  try {
    fs.close(fd);
  } catch {
    /* close(2) releases the fd even when it reports an error */
  }
}

/**
 * Redis markRewrittenIncrAofAsHistory: every INCR but the last (all of them when the AOF is off)
 * becomes history, placed before older history entries, in ascending order.
 */
function markRewrittenIncrAsHistory(m: AofManifest, aofOff: boolean): void {
  const keep = aofOff ? 0 : Math.min(1, m.incrList.length);
  const retired = m.incrList.slice(0, m.incrList.length - keep);
  for (const r of retired) r.fileType = 'h';
  m.historyList = [...retired, ...m.historyList];
  m.incrList = m.incrList.slice(m.incrList.length - keep);
  m.dirty = true;
}
