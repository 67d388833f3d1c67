// DESIGN: the AOF subsystem as the engine sees it (Redis aof.c's entry points): start-up
// (load the manifest, upgrade a legacy file, replay, open the INCR), the per-turn flush, the cron
// duties, INFO, runtime on/off and shutdown. It implements three engine-facing interfaces:
//   PropagationSink  feedAppendOnlyFile — only while the AOF is ON
//   WriteGate        MISCONF when the last write or background fsync failed
//   Persistence      beforeSleep / cron / info / close
// File I/O goes through the FileSystem seam; background fsync/close through BioClient.

import { posix as path } from 'node:path';
import type { BioClient } from '@aofkv/bio-workers';
import type { Bin } from '../bytes.ts';
import { EngineError } from '../errors.ts';
import type { EngineConfig } from '../config.ts';
import type { Persistence } from '../engine.ts';
import type { FileSystem } from '../io/file-system.ts';
import type { Clock } from '../io/clock.ts';
import type { PropagationSink, Server, WriteGate } from '../server.ts';
import {
  AofManifest,
  loadManifestFromDisk,
  manifestName,
  newBaseFile,
  newIncrFile,
  persistManifest,
  type AofNames,
} from './aof-manifest.ts';
import {
  LoadingProgress,
  loadAppendOnlyFiles,
  loadSingleAppendOnlyFile,
  type LoadOutcome,
  type LoaderDeps,
} from './aof-loader.ts';
import { AofFatalError, AofWriter, type AofLogger } from './aof-writer.ts';
import { LatencyMonitor } from './latency-monitor.ts';
import { strerror } from './strerror.ts';
import { writeRespSnapshot } from './aof-snapshot-resp.ts';
import { loadRdbIntoServer } from '../rdb/rdb-reader.ts';
import { writeRdbSnapshot } from '../rdb/rdb-writer.ts';
import {
  AofRewriter,
  eventLoopScheduler,
  type AofState,
  type BgRewriteReply,
  type RewriteHost,
  type RewriteScheduler,
} from './aof-rewrite.ts';
import { InlineSnapshotSink, type SnapshotSink } from './snapshot-sink.ts';
import { ThreadSnapshotSink } from './thread-snapshot-sink.ts';
import { NodeFileSystem } from '../io/node-file-system.ts';

export type { AofState } from './aof-rewrite.ts';

export interface AofPersistenceDeps {
  config: EngineConfig;
  fs: FileSystem;
  bio: BioClient;
  clock: Clock;
  server: Server;
  log: AofLogger;
  /** Load without modifying any file (aofkv dump). */
  readOnly: boolean;
  /** How rewrite slices are scheduled (default: the event loop). */
  rewriteScheduler?: RewriteScheduler;
  /** Where the rewrite writes the new base (default: a writer thread on the real disk). */
  makeSnapshotSink?: () => SnapshotSink;
  /** Told about loading progress (openEngine's onLoadProgress). */
  onLoadProgress?: (progress: { loadedBytes: number; totalBytes: number }) => void;
}

/** Redis run_with_period(1000): the write-error retry in serverCron. */
const WRITE_ERROR_RETRY_MS = 1000;

export class AofPersistence implements Persistence, PropagationSink, WriteGate, RewriteHost {
  state: AofState = 'off';
  manifest = new AofManifest();
  readonly names: AofNames;
  readonly writer: AofWriter;
  readonly latency: LatencyMonitor;
  readonly loading = new LoadingProgress();
  /** aof_rewrite_base_size: reference size for auto-rewrite growth. */
  rewriteBaseSizeBytes = 0;
  lastLoadOutcome: LoadOutcome | null = null;
  readonly rewriter: AofRewriter;
  private readonly deps: AofPersistenceDeps;
  private lastWriteErrorRetryMs = 0;
  /**
   * A fatal flush error (appendfsync always) raised inside a command — BGREWRITEAOF's forced flush,
   * CONFIG SET appendonly no — rather than in beforeSleep or the cron. Redis exits right there; we
   * rethrow it from this turn's beforeSleep, which stops the engine before any reply of the turn
   * is delivered. The command itself gets an ordinary reply, which is never delivered.
   */
  private pendingFatal: AofFatalError | null = null;

  constructor(deps: AofPersistenceDeps) {
    this.deps = deps;
    const { config } = deps;
    this.names = { aofDir: path.join(config.dir, config.appenddirname), fileName: config.appendfilename };
    this.latency = new LatencyMonitor(deps.clock, () => config.latencyMonitorThreshold);
    this.writer = new AofWriter({
      fs: deps.fs,
      bio: deps.bio,
      clock: deps.clock,
      latency: this.latency,
      log: deps.log,
      policy: () => config.appendfsync,
      timestampsEnabled: () => config.aofTimestampEnabled,
      noAppendfsyncOnRewrite: () => config.noAppendfsyncOnRewrite,
      hasActiveChild: () => this.rewriter.inProgress,
    });
    const fs = deps.fs;
    const makeSink =
      deps.makeSnapshotSink ??
      (fs instanceof NodeFileSystem ? () => new ThreadSnapshotSink() : () => new InlineSnapshotSink(fs));
    this.rewriter = new AofRewriter(this, makeSink, deps.rewriteScheduler ?? eventLoopScheduler);
    const onLoadProgress = deps.onLoadProgress;
    if (onLoadProgress !== undefined) {
      // A plain snapshot, not the live LoadingProgress: the receiver must not be able to change it.
      this.loading.listener = (p) => onLoadProgress({ loadedBytes: p.loadedBytes, totalBytes: p.totalBytes });
    }
  }

  // ---- RewriteHost ----------------------------------------------------------------------------

  get config(): EngineConfig {
    return this.deps.config;
  }
  get fs(): FileSystem {
    return this.deps.fs;
  }
  get bio(): BioClient {
    return this.deps.bio;
  }
  get clock(): Clock {
    return this.deps.clock;
  }
  get server(): Server {
    return this.deps.server;
  }
  get log(): AofLogger {
    return this.deps.log;
  }

  fileSize(name: string): number {
    return this.deps.fs.stat(this.file(name))?.sizeBytes ?? 0;
  }

  // ---- start-up (Redis main → loadDataFromDisk → aofOpenIfNeededOnServerStart) ---------------

  /** Load the data directory and, when appendonly is on, open the INCR file for appending. */
  async start(): Promise<void> {
    const { fs, config } = this.deps;
    if (this.deps.readOnly) return this.startReadOnly();
    fs.mkdir(config.dir);
    this.manifest = loadManifestFromDisk(fs, this.names);
    if (!config.appendonly) return;
    this.upgradeLegacyIfNeeded();
    this.lastLoadOutcome = await loadAppendOnlyFiles(this.loaderDeps(true), this.manifest, this.names.aofDir);
    this.writer.currentSizeBytes = this.totalSizeBytes();
    this.rewriteBaseSizeBytes = this.baseSizeBytes();
    this.openOnServerStart();
    this.deleteHistoryFiles();
  }

  private loaderDeps(truncateOnDisk: boolean): LoaderDeps {
    return {
      fs: this.deps.fs,
      server: this.deps.server,
      log: this.deps.log,
      loadTruncated: this.deps.config.aofLoadTruncated,
      truncateOnDisk,
      progress: this.loading,
      nowMs: () => this.deps.clock.nowMs(),
      loadRdb: async (reader, fileName) => {
        await loadRdbIntoServer(reader, fileName, this.deps.server, {
          log: this.deps.log,
          nowMs: () => this.deps.clock.nowMs(),
        });
      },
    };
  }

  /** Load what is on disk, including a not-yet-upgraded legacy file, and touch nothing. */
  private async startReadOnly(): Promise<void> {
    const { fs, config } = this.deps;
    this.manifest = loadManifestFromDisk(fs, this.names);
    const legacy = path.join(config.dir, this.names.fileName);
    const deps = this.loaderDeps(false);
    if (this.legacyUpgradeNeeded()) {
      const st = fs.stat(legacy)!;
      if (st.sizeBytes === 0) return;
      deps.progress.start(st.sizeBytes, this.deps.clock.nowMs());
      this.deps.server.loading = true;
      try {
        await loadSingleAppendOnlyFile(deps, config.dir, this.names.fileName, true);
      } finally {
        this.deps.server.loading = false;
        deps.progress.stop();
      }
      return;
    }
    this.lastLoadOutcome = await loadAppendOnlyFiles(deps, this.manifest, this.names.aofDir);
  }

  private file(name: string): string {
    return path.join(this.names.aofDir, name);
  }

  private totalSizeBytes(): number {
    let total = 0;
    for (const f of this.manifest.loadOrder()) total += this.deps.fs.stat(this.file(f.fileName))?.sizeBytes ?? 0;
    return total;
  }

  private baseSizeBytes(): number {
    const base = this.manifest.base;
    return base === null ? 0 : (this.deps.fs.stat(this.file(base.fileName))?.sizeBytes ?? 0);
  }

  /** Redis loadAppendOnlyFiles' upgrade condition (spec §1.6). */
  private legacyUpgradeNeeded(): boolean {
    const { fs, config } = this.deps;
    if (fs.stat(path.join(config.dir, this.names.fileName)) === null) return false;
    const m = this.manifest;
    const dirMissing = fs.stat(this.names.aofDir) === null;
    const interrupted =
      m.base !== null &&
      m.base.fileName === this.names.fileName &&
      m.incrList.length === 0 &&
      fs.stat(this.file(this.names.fileName)) === null;
    return dirMissing || m.isEmpty || interrupted;
  }

  /** Redis aofUpgradePrepare: move `<dir>/{F}` into the AOF directory as the base. */
  private upgradeLegacyIfNeeded(): void {
    if (!this.legacyUpgradeNeeded()) return;
    const { fs, config } = this.deps;
    const legacy = path.join(config.dir, this.names.fileName);
    fs.mkdir(this.names.aofDir);
    const next = this.manifest.clone();
    next.base = { fileName: this.names.fileName, fileSeq: 1, fileType: 'b' };
    next.currBaseFileSeq = 1;
    next.dirty = true;
    persistManifest(fs, this.names, next);
    this.manifest = next;
    fs.rename(legacy, this.file(this.names.fileName));
    fs.fsyncDir(this.names.aofDir);
    this.deps.log('notice', `Successfully migrated an old-style AOF into the AOF directory (${this.names.aofDir})`);
  }

  /** Redis aofOpenIfNeededOnServerStart. */
  private openOnServerStart(): void {
    const { fs } = this.deps;
    fs.mkdir(this.names.aofDir);
    const next = this.manifest.clone();
    if (next.isEmpty) {
      const base = newBaseFile(next, this.names, this.deps.config.aofUseRdbPreamble);
      this.writeBaseFromDataset(this.file(base.fileName));
      this.deps.log('notice', `Creating AOF base file ${base.fileName} on server start`);
    }
    const hadIncr = next.incrList.length > 0;
    const incr = hadIncr ? next.incrList[next.incrList.length - 1]! : newIncrFile(next, this.names);
    const fd = fs.open(this.file(incr.fileName), 'append');
    try {
      persistManifest(fs, this.names, next);
    } catch (err) {
      fs.close(fd);
      throw err;
    }
    this.manifest = next;
    this.writer.openExisting(fd, fs.fileSize(fd));
    this.writer.selectedDb = -1;
    this.state = 'on';
    this.deps.log('notice', `${hadIncr ? 'Opening' : 'Creating'} AOF incr file ${incr.fileName} on server start`);
  }

  /**
   * Redis rewriteAppendOnlyFile(filename), synchronous: snapshot the dataset into a temp file in
   * `dir`, fsync it, rename it into the AOF directory.
   */
  private writeBaseFromDataset(target: string): void {
    const { fs, config, server, clock } = this.deps;
    const tmp = path.join(config.dir, `temp-rewriteaof-${process.pid}.aof`);
    const fd = fs.open(tmp, 'write-truncate');
    try {
      if (config.aofUseRdbPreamble) {
        writeRdbSnapshot(fs, fd, server.dbs, { aofBase: true, ctimeSec: Math.floor(clock.nowMs() / 1000) });
      } else {
        writeRespSnapshot(fs, fd, server.dbs, {
          timestampSec: config.aofTimestampEnabled ? Math.floor(clock.nowMs() / 1000) : null,
        });
      }
      fs.fdatasync(fd);
    } finally {
      fs.close(fd);
    }
    fs.rename(tmp, target);
    fs.fsyncDir(this.names.aofDir);
  }

  /** Redis aofDelHistoryFiles: unlink history files and persist the manifest without them. */
  deleteHistoryFiles(): void {
    if (this.deps.config.aofDisableAutoGc || this.manifest.historyList.length === 0) return;
    const next = this.manifest.clone();
    for (const h of next.historyList) {
      this.deps.log('notice', `Removing the history file ${h.fileName} in the background`);
      this.bgUnlink(this.file(h.fileName));
    }
    next.historyList = [];
    next.dirty = true;
    try {
      persistManifest(this.deps.fs, this.names, next);
      this.manifest = next;
    } catch {
      // Redis ignores failures here: the files are gone, the manifest still lists them as history.
    }
  }

  /** Redis bg_unlink: unlink now, let bio close the fd so the blocks are freed off this thread. */
  bgUnlink(filePath: string): void {
    const { fs, bio } = this.deps;
    let fd: number;
    try {
      fd = fs.open(filePath, 'read');
    } catch {
      try {
        fs.unlink(filePath);
      } catch {
        /* already gone */
      }
      return;
    }
    try {
      fs.unlink(filePath);
    } catch {
      /* already gone */
    }
    bio.submitClose(fd, false);
  }

  // ---- engine-facing interfaces ---------------------------------------------------------------

  /** Redis feedAppendOnlyFile's gate: ON, or WAIT_REWRITE while the first rewrite runs. */
  feed(dbId: number, argv: readonly Bin[]): void {
    if (this.state === 'on' || (this.state === 'wait-rewrite' && this.rewriter.inProgress)) {
      this.writer.feed(dbId, argv);
    }
  }

  deniedWriteError(): string | null {
    if (this.state === 'off') return null;
    const doubt = this.rewriter.manifestInDoubt;
    if (doubt !== null) return `MISCONF Errors writing to the AOF file: ${strerror(doubt)}`;
    return this.writer.deniedWriteError();
  }

  beforeSleep(): void {
    if (this.pendingFatal !== null) throw this.pendingFatal;
    if (this.state !== 'off') this.writer.flush(false);
  }

  /** Runs a command's AOF work; a fatal flush error is kept for beforeSleep (see pendingFatal). */
  private deferFatal<T>(body: () => T, onFatal: T): T {
    try {
      return body();
    } catch (err) {
      if (!(err instanceof AofFatalError)) throw err;
      this.pendingFatal ??= err;
      return onFatal;
    }
  }

  /** Redis serverCron's AOF duties (plus the beforeSleep flush Redis runs after each timer). */
  cron(): void {
    if (!this.deps.readOnly) {
      this.rewriter.retryManifestRestore();
      this.rewriter.cron();
    }
    if (this.state === 'off') return;
    const w = this.writer;
    if (w.flushPostponedStartSec !== 0) w.flush(false);
    const now = this.deps.clock.nowMs();
    if (w.writeStatus.kind === 'err' && now - this.lastWriteErrorRetryMs >= WRITE_ERROR_RETRY_MS) {
      this.lastWriteErrorRetryMs = now;
      w.flush(false);
    }
    w.flush(false);
  }

  /** Redis prepareForShutdown: forced flush and a synchronous fsync, then stop the bio threads. */
  async close(): Promise<void> {
    const { fs, bio } = this.deps;
    const w = this.writer;
    await this.rewriter.cancel();
    try {
      if (this.state !== 'off' && w.fd !== -1) {
        this.deps.log('notice', 'Calling fsync() on the AOF file.');
        w.flush(true);
        fs.fdatasync(w.fd);
      }
    } finally {
      await bio.drain();
      if (w.fd !== -1) {
        fs.close(w.fd);
        w.fd = -1;
      }
      this.state = 'off';
      await bio.close();
    }
  }

  /** Redis stopAppendOnly (CONFIG SET appendonly no). */
  stopAppendOnly(): void {
    if (this.state === 'off') return;
    const { fs } = this.deps;
    const w = this.writer;
    if (this.rewriter.inProgress) void this.rewriter.cancel();
    this.rewriter.scheduled = false;
    w.flush(true);
    try {
      fs.fdatasync(w.fd);
      w.lastFsyncSec = w.unixtime();
    } catch (err) {
      this.deps.log('warning', `Fail to fsync the AOF file: ${(err as Error).message}`);
    }
    fs.close(w.fd);
    w.fd = -1;
    w.selectedDb = -1;
    w.lastIncrSizeBytes = 0;
    w.lastIncrFsyncOffsetBytes = 0;
    w.buf.clear();
    this.state = 'off';
  }

  /**
   * Redis DEBUG LOADAOF: forced flush, empty the dataset, re-read the manifest from disk, delete
   * history files, load. Anything but ok/empty is fatal (Redis exits); the caller stops the engine.
   */
  async debugLoadAof(): Promise<LoadOutcome> {
    if (this.state !== 'off') this.writer.flush(true);
    this.deps.server.emptyAll();
    this.manifest = loadManifestFromDisk(this.deps.fs, this.names);
    this.deleteHistoryFiles();
    const outcome = await loadAppendOnlyFiles(this.loaderDeps(true), this.manifest, this.names.aofDir);
    if (outcome !== 'ok' && outcome !== 'empty') {
      throw new EngineError('ERR_AOF_LOAD', `DEBUG LOADAOF: loading the AOF ended with '${outcome}'`);
    }
    this.writer.currentSizeBytes = this.totalSizeBytes();
    return outcome;
  }

  /** Runtime side effects of CONFIG SET (Redis config.c apply functions). */
  onConfigChanged(key: string, previous: unknown): void {
    const { config } = this.deps;
    if (this.deps.readOnly) return;
    if (key === 'appendonly' && config.appendonly !== previous) {
      if (config.appendonly) this.startAppendOnly();
      else this.deferFatal(() => this.stopAppendOnly(), undefined);
    } else if (key === 'aofDisableAutoGc' && !config.aofDisableAutoGc) {
      this.deleteHistoryFiles();
    }
  }

  /**
   * Redis startAppendOnly: enter WAIT_REWRITE and start the first rewrite (or schedule it when
   * called inside EXEC); writes are buffered into a temp INCR that becomes real only if that
   * rewrite succeeds. Throws when the rewrite cannot start (CONFIG SET then fails).
   */
  startAppendOnly(): void {
    if (this.state !== 'off') return;
    this.state = 'wait-rewrite';
    if (this.deps.server.inExec) {
      this.rewriter.scheduled = true;
      this.deps.log('notice', 'AOF was enabled during a transaction. An AOF background was scheduled to start when possible.');
    } else if (this.rewriter.inProgress) {
      // A rewrite started while the AOF was off (or one still ending) is not writing the temp
      // INCR: stop it and let the cron start the first rewrite once it has ended. Redis kills its
      // child synchronously and starts at once; ours ends asynchronously, and until the new
      // rewrite starts nothing is fed (WAIT_REWRITE without a rewrite): its snapshot has it all.
      void this.rewriter.cancel();
      this.rewriter.scheduled = true;
      this.deps.log('notice', 'AOF was enabled but there is already an AOF rewriting in background. Stopping it; an AOF rewrite was scheduled to start when possible.');
    } else {
      if (!this.rewriter.start()) {
        this.state = 'off';
        this.deps.log('warning', 'Redis needs to enable the AOF but can\'t trigger a background AOF rewrite operation.');
        throw new Error('Unable to turn on AOF. Check server logs.');
      }
    }
    this.writer.lastFsyncSec = this.writer.unixtime();
    if (this.writer.writeStatus.kind === 'err') {
      this.deps.log('warning', 'AOF reopen, just ignore the last error.');
      this.writer.writeStatus = { kind: 'ok' };
    }
  }

  /** CONFIG RESETSTAT: aof_rewrites, aof_rewrites_consecutive_failures, aof_delayed_fsync. */
  resetStats(): void {
    this.rewriter.resetStats();
    this.writer.delayedFsyncCount = 0;
  }

  /** BGREWRITEAOF: the reply Redis gives, as a status or error text. */
  bgrewriteaof(): BgRewriteReply {
    return this.deferFatal(() => this.rewriter.bgrewriteaof(this.deps.server.inExec), 'failed');
  }

  info(): Record<string, string | number> {
    const w = this.writer;
    const enabled = this.deps.config.appendonly;
    const out: Record<string, string | number> = {
      loading: this.loading.loading ? 1 : 0,
      async_loading: 0,
      aof_enabled: this.state !== 'off' ? 1 : 0,
      aof_rewrite_in_progress: this.rewriter.inProgress ? 1 : 0,
      aof_rewrite_scheduled: this.rewriter.scheduled ? 1 : 0,
      aof_last_rewrite_time_sec: this.rewriter.lastRewriteTimeSec,
      aof_current_rewrite_time_sec: this.rewriter.currentRewriteTimeSec(),
      aof_last_bgrewrite_status: this.rewriter.lastStatus,
      aof_rewrites: this.rewriter.rewrites,
      aof_rewrites_consecutive_failures: this.rewriter.consecutiveFailures,
      aof_last_write_status: w.lastWriteStatusText(),
      aof_last_cow_size: this.rewriter.lastCowSizeBytes,
      module_fork_in_progress: 0,
      module_fork_last_cow_size: 0,
    };
    if (enabled) {
      out.aof_current_size = w.currentSizeBytes;
      out.aof_base_size = this.rewriteBaseSizeBytes;
      out.aof_pending_rewrite = this.rewriter.scheduled ? 1 : 0;
      out.aof_buffer_length = w.buf.length;
      out.aof_pending_bio_fsync = this.deps.bio.pending('aofFsync');
      out.aof_delayed_fsync = w.delayedFsyncCount;
    }
    if (this.loading.loading) Object.assign(out, loadingInfo(this.loading, this.deps.clock.nowMs()));
    return out;
  }

  manifestPath(): string {
    return this.file(manifestName(this.names));
  }
}

function loadingInfo(p: LoadingProgress, nowMs: number): Record<string, string | number> {
  const elapsedSec = Math.max(0, nowMs / 1000 - p.startTimeSec);
  const perc = p.totalBytes === 0 ? 0 : (p.loadedBytes / p.totalBytes) * 100;
  const rate = elapsedSec > 0 ? p.loadedBytes / elapsedSec : 0;
  return {
    loading_start_time: p.startTimeSec,
    loading_total_bytes: p.totalBytes,
    loading_rdb_used_mem: 0,
    loading_loaded_bytes: p.loadedBytes,
    loading_loaded_perc: `${perc.toFixed(2)}%`,
    loading_eta_seconds: rate > 0 ? Math.round((p.totalBytes - p.loadedBytes) / rate) : 1,
  };
}
