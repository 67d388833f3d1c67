// DESIGN: the AOF subsystem as the engine sees it (Redis aof.c's entry points): start-up (load the
// manifest, upgrade a legacy file, replay, open the INCR), the per-turn flush, the cron duties,
// INFO, runtime on/off, DEBUG LOADAOF and shutdown.
//
// ONE OWNER. AofPersistence alone changes the AOF's state, and only through the named transitions
// below, each checked against TRANSITIONS. Its parts never reach into one another:
//   AofWriter     the open INCR (fd, aof_buf, sizes, fsync offsets, SELECT state, statuses)
//   AofDirectory  the manifest and the files (names, temp files, history)
//   AofRewriter   BGREWRITEAOF, through the RewritePort this class implements
// Everything else (the engine, the commands, the tests) asks: info(), inspect(),
// deniedWriteError(), and the operations of the engine-facing interfaces:
//   PropagationSink  feedAppendOnlyFile: only while ON, or WAIT_REWRITE while its rewrite runs
//   WriteGate        MISCONF when the last write or background fsync failed
//
// STATES (Redis aof_state plus what an embedded engine must also know):
//   off           appendonly no (or not yet started)
//   on            appending to the last INCR of the manifest
//   wait-rewrite  appendonly was just turned on: the first rewrite writes a base, the writes go to
//                 a temp INCR; nothing new is durable until that rewrite installs both
//   loading       start-up or DEBUG LOADAOF replays the files; no cron, no rewrite, no
//                 CONFIG SET appendonly; `resume` is the state to go back to
//   fatal         appendfsync always could not write or fsync, or DEBUG LOADAOF could not load
//                 (Redis exits): no byte reaches the AOF any more, only close() is left
//   closed        after close()
//
// File I/O goes through the FileSystem seam; background fsync/close through BioClient.

import type { BioClient } from '@aofkv/bio-workers';
import type { Bin } from '../bytes.ts';
import { EngineError } from '../errors.ts';
import type { EngineConfig } from '../config.ts';
import type { FileSystem } from '../io/file-system.ts';
import type { Clock } from '../io/clock.ts';
import type { PropagationSink, Server, WriteGate } from '../server.ts';
import { posix as path } from 'node:path';
import { AofDirectory } from './aof-directory.ts';
import type { AofManifest } from './aof-manifest.ts';
import {
  LoadingProgress,
  TimedLoadScheduler,
  loadAppendOnlyFiles,
  loadSingleAppendOnlyFile,
  type LoadOutcome,
  type LoadScheduler,
  type LoaderDeps,
} from './aof-loader.ts';
import {
  AofWriter,
  type AofLogger,
  type AofTraceEvent,
  type AofWriterStats,
} from './aof-writer.ts';
import { LatencyMonitor } from './latency-monitor.ts';
import { DurabilityWaiters, type WaitOutcome } from './durability-waiters.ts';
import { strerror } from './strerror.ts';
import { writeRespSnapshot } from './rewrite/aof-snapshot-resp.ts';
import { loadRdbIntoServer } from '../rdb/rdb-reader.ts';
import { writeRdbSnapshot } from '../rdb/rdb-writer.ts';
import {
  AofRewriter,
  PRESYNC_MIN_BYTES,
  eventLoopScheduler,
  type BgRewriteReply,
  type RewritePort,
  type RewriteScheduler,
  type RewriteSettings,
  type RewriteStats,
} from './rewrite/aof-rewrite.ts';
import { InlineSnapshotSink, type SnapshotSink } from './rewrite/snapshot-sink.ts';
import { ThreadSnapshotSink } from './rewrite/thread-snapshot-sink.ts';
import { NodeFileSystem } from '../io/node-file-system.ts';

export type AofStateKind = 'off' | 'on' | 'wait-rewrite' | 'loading' | 'fatal' | 'closed';
type SteadyKind = 'off' | 'on' | 'wait-rewrite';
type AofState =
  | { readonly kind: SteadyKind }
  | { readonly kind: 'loading'; readonly resume: SteadyKind }
  | { readonly kind: 'fatal'; readonly error: EngineError }
  | { readonly kind: 'closed' };

/**
 * The allowed moves. off → on happens once, at start-up (aofOpenIfNeededOnServerStart); every
 * later off → on goes through wait-rewrite (startAppendOnly, then the first rewrite).
 */
const TRANSITIONS: Readonly<Record<AofStateKind, readonly AofStateKind[]>> = {
  off: ['on', 'wait-rewrite', 'loading', 'closed'],
  'wait-rewrite': ['on', 'off', 'loading', 'fatal', 'closed'],
  on: ['off', 'loading', 'fatal', 'closed'],
  loading: ['off', 'on', 'wait-rewrite', 'fatal', 'closed'],
  fatal: ['closed'],
  closed: [],
};

export interface AofPersistenceDeps {
  config: EngineConfig;
  fs: FileSystem;
  bio: BioClient;
  clock: Clock;
  server: Server;
  log: AofLogger;
  /** Load without modifying any file (aofkv dump). */
  readOnly: boolean;
  /** Told once when the AOF stops for good (Redis would exit): the engine refuses everything. */
  onFatal: (error: EngineError) => void;
  /** How rewrite slices are scheduled (default: the event loop). */
  rewriteScheduler?: RewriteScheduler;
  /** How a load pauses (default: yield to the event loop about every 50 ms). */
  loadScheduler?: LoadScheduler;
  /** Where the rewrite writes the new base (default: a writer thread on the real disk). */
  makeSnapshotSink?: () => SnapshotSink;
  /** Told about loading progress (openEngine's onLoadProgress). */
  onLoadProgress?: (progress: { loadedBytes: number; totalBytes: number }) => void;
}

/** What the inspection API shows (tests, tools, the simulator): copies, never live objects. */
export interface AofInspection {
  readonly state: AofStateKind;
  /** While loading: the state the load returns to. */
  readonly resumeState: SteadyKind | null;
  readonly fatal: EngineError | null;
  readonly manifest: AofManifest;
  /** Path of the file the writer appends to (null: none). */
  readonly incrPath: string | null;
  readonly writer: AofWriterStats;
  readonly rewrite: RewriteStats;
  readonly manifestInDoubt: string | null;
  readonly deniedWriteError: string | null;
}

/** Redis run_with_period(1000): the write-error retry in serverCron. */
const WRITE_ERROR_RETRY_MS = 1000;

export class AofPersistence implements PropagationSink, WriteGate, RewritePort {
  private state: AofState = { kind: 'off' };
  private readonly writer: AofWriter;
  private readonly directory: AofDirectory;
  private readonly rewriter: AofRewriter;
  readonly latency: LatencyMonitor;
  private readonly loading = new LoadingProgress();
  /** aof_rewrite_base_size: reference size for auto-rewrite growth. */
  private rewriteBaseSizeBytes = 0;
  private lastLoadOutcome: LoadOutcome | null = null;
  private lastWriteErrorRetryMs = 0;
  /** Set by close() while a DEBUG LOADAOF runs: the loader stops at its next pause. */
  private loadAborted = false;
  private loadSettled: Promise<unknown> = Promise.resolve();
  /** Path of the file the writer appends to, for inspection. */
  private incrPath: string | null = null;
  private readonly deps: AofPersistenceDeps;
  /** WAITAOF and waitAof() (see durability-waiters.ts). */
  private readonly waiters = new DurabilityWaiters();
  /** Redis fsynced_reploff: the stream offset known durable, applied while ON only. */
  private fsyncedStreamBytes = 0;

  constructor(deps: AofPersistenceDeps) {
    this.deps = deps;
    const { config } = deps;
    this.latency = new LatencyMonitor(deps.clock, () => config.latencyMonitorThreshold);
    this.directory = new AofDirectory({
      fs: deps.fs,
      bio: deps.bio,
      log: deps.log,
      latency: this.latency,
      dir: config.dir,
      names: {
        aofDir: path.join(config.dir, config.appenddirname),
        fileName: config.appendfilename,
      },
    });
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
      onFatal: (error) => this.die(error),
    });
    const fs = deps.fs;
    const makeSink =
      deps.makeSnapshotSink ??
      (fs instanceof NodeFileSystem
        ? () => new ThreadSnapshotSink()
        : () => new InlineSnapshotSink(fs));
    this.rewriter = new AofRewriter(this, makeSink, deps.rewriteScheduler ?? eventLoopScheduler);
    const onLoadProgress = deps.onLoadProgress;
    if (onLoadProgress !== undefined) {
      // A plain snapshot, not the live LoadingProgress: the receiver must not be able to change it.
      this.loading.listener = (p) =>
        onLoadProgress({ loadedBytes: p.loadedBytes, totalBytes: p.totalBytes });
    }
  }

  // ---- the state machine ----------------------------------------------------------------------

  get stateKind(): AofStateKind {
    return this.state.kind;
  }

  private moveTo(next: AofState): void {
    const from = this.state.kind;
    if (!TRANSITIONS[from].includes(next.kind)) {
      throw new Error(`AOF state: ${from} -> ${next.kind} is not an allowed transition`);
    }
    this.state = next;
  }

  /** Redis exit(1): appendfsync always failed, or DEBUG LOADAOF could not load. */
  private die(error: EngineError): void {
    const k = this.state.kind;
    if (k === 'fatal' || k === 'closed') return;
    this.moveTo({ kind: 'fatal', error });
    void this.rewriter.cancel();
    this.deps.onFatal(error);
    this.waiters.failAll(
      new EngineError('ERR_ENGINE_FATAL', `The AOF stopped: ${error.message}`, { cause: error }),
    );
  }

  /** The AOF died (a fatal error) or was closed: nothing may be written any more. */
  private get stopped(): boolean {
    return this.state.kind === 'fatal' || this.state.kind === 'closed';
  }

  /** Redis aof_state != AOF_OFF (INFO aof_enabled). */
  private get enabled(): boolean {
    const s = this.state;
    if (s.kind === 'loading') return s.resume !== 'off';
    return s.kind === 'on' || s.kind === 'wait-rewrite';
  }

  /** Set the trace observer of the write path (the engine's 'trace' event). */
  set onTrace(fn: ((e: AofTraceEvent) => void) | null) {
    this.writer.onTrace = fn;
  }

  // ---- start-up (Redis main → loadDataFromDisk → aofOpenIfNeededOnServerStart) ---------------

  /** Load the data directory and, when appendonly is on, open the INCR file for appending. */
  async start(): Promise<void> {
    const { fs, config } = this.deps;
    if (this.deps.readOnly) return this.startReadOnly();
    fs.mkdir(config.dir);
    this.directory.reload();
    if (!config.appendonly) return;
    this.directory.upgradeLegacyIfNeeded();
    this.moveTo({ kind: 'loading', resume: 'off' });
    try {
      this.lastLoadOutcome = await this.loadFiles(true);
    } finally {
      this.moveTo({ kind: 'off' });
    }
    this.writer.setCurrentSize(this.directory.totalSizeBytes());
    this.rewriteBaseSizeBytes = this.directory.baseSizeBytes();
    const incr = this.directory.openOnServerStart(config.aofUseRdbPreamble, (fd) =>
      this.writeBaseFromDataset(fd),
    );
    this.writer.open(incr.fd, incr.sizeBytes);
    this.incrPath = this.lastIncrPath();
    this.moveTo({ kind: 'on' });
    this.deleteHistoryFiles();
  }

  private lastIncrPath(): string | null {
    const list = this.directory.current.incrList;
    const last = list[list.length - 1];
    return last === undefined ? null : this.directory.file(last.fileName);
  }

  private loaderDeps(truncateOnDisk: boolean): LoaderDeps {
    return {
      fs: this.deps.fs,
      server: this.deps.server,
      log: this.deps.log,
      loadTruncated: this.deps.config.aofLoadTruncated,
      corruptTailMaxBytes: this.deps.config.aofLoadCorruptTailMaxSize,
      truncateOnDisk,
      progress: this.loading,
      nowMs: () => this.deps.clock.nowMs(),
      scheduler: this.deps.loadScheduler ?? new TimedLoadScheduler(),
      aborted: () => this.loadAborted,
      loadRdb: async (reader, fileName) => {
        await loadRdbIntoServer(reader, fileName, this.deps.server, {
          log: this.deps.log,
          nowMs: () => this.deps.clock.nowMs(),
        });
      },
    };
  }

  private loadFiles(truncateOnDisk: boolean): Promise<LoadOutcome> {
    return loadAppendOnlyFiles(
      this.loaderDeps(truncateOnDisk),
      this.directory.current,
      this.directory.names.aofDir,
    );
  }

  /** Load what is on disk, including a not-yet-upgraded legacy file, and touch nothing. */
  private async startReadOnly(): Promise<void> {
    const { fs } = this.deps;
    this.directory.reload();
    const deps = this.loaderDeps(false);
    if (this.directory.legacyUpgradeNeeded()) {
      const legacy = this.directory.legacyPath();
      const st = fs.stat(legacy)!;
      if (st.sizeBytes === 0) return;
      deps.progress.start(st.sizeBytes, this.deps.clock.nowMs());
      this.deps.server.loading = true;
      try {
        await loadSingleAppendOnlyFile(deps, this.deps.config.dir, path.basename(legacy), true);
      } finally {
        this.deps.server.loading = false;
        deps.progress.stop();
      }
      return;
    }
    this.lastLoadOutcome = await this.loadFiles(false);
  }

  /** Redis rewriteAppendOnlyFile's body, synchronous: the dataset as a base, into `fd`. */
  private writeBaseFromDataset(fd: number): void {
    const { fs, config, server, clock } = this.deps;
    const nowSec = Math.floor(clock.nowMs() / 1000);
    if (config.aofUseRdbPreamble) {
      writeRdbSnapshot(fs, fd, server.dbs, { aofBase: true, ctimeSec: nowSec });
    } else {
      writeRespSnapshot(fs, fd, server.dbs, {
        timestampSec: config.aofTimestampEnabled ? nowSec : null,
      });
    }
  }

  /** Redis aofDelHistoryFiles, unless aof-disable-auto-gc keeps them. */
  private deleteHistoryFiles(): void {
    if (!this.deps.config.aofDisableAutoGc) this.directory.deleteHistoryFiles();
  }

  // ---- engine-facing interfaces ---------------------------------------------------------------

  /** Redis feedAppendOnlyFile's gate: ON, or WAIT_REWRITE while the first rewrite runs. */
  feed(dbId: number, argv: readonly Bin[]): void {
    const k = this.state.kind;
    if (k === 'on' || (k === 'wait-rewrite' && this.rewriter.childActive))
      this.writer.feed(dbId, argv);
    // Not in the AOF now, but in the stream (Redis master_repl_offset grows with every
    // propagated command): a write made while the AOF is off is durable only once a first
    // rewrite has put it in a base, so WAITAOF and waitAof() must not count it as fsynced.
    else this.writer.skipStream();
  }

  deniedWriteError(): string | null {
    const k = this.state.kind;
    if (k !== 'on' && k !== 'wait-rewrite') return null;
    const doubt = this.directory.manifestInDoubt;
    if (doubt !== null) return `MISCONF Errors writing to the AOF file: ${strerror(doubt)}`;
    return this.writer.deniedWriteError();
  }

  /** Redis beforeSleep's flushAppendOnlyFile(0). Never throws (a fatal goes to onFatal). */
  beforeSleep(): void {
    this.flush(false);
    this.settleWaiters();
  }

  // ---- WAITAOF (Redis 7.2) --------------------------------------------------------------------

  /** Bytes fed to the AOF stream since start (Redis master_repl_offset; a client's woff). */
  get streamOffsetBytes(): number {
    return this.writer.streamFedBytes;
  }

  /** Redis fsynced_reploff: the stream offset known fsynced (0 until the AOF is ON). */
  get fsyncedOffsetBytes(): number {
    return this.fsyncedStreamBytes;
  }

  /** Redis server.aof_enabled, as WAITAOF checks it. */
  get aofEnabled(): boolean {
    return this.enabled;
  }

  /**
   * Wait until the stream is fsynced up to `targetBytes`; `done` is called once. Resolves at
   * once when it already is (always: every acknowledged write). A background fsync is started
   * when one is needed instead of waiting for the next everysec tick.
   */
  waitDurable(
    targetBytes: number,
    kind: 'embedded' | 'command',
    timeoutMs: number,
    done: (outcome: WaitOutcome) => void,
  ): void {
    const deadlineMs = timeoutMs > 0 ? this.deps.clock.nowMs() + timeoutMs : null;
    this.waiters.add({ targetBytes, kind, deadlineMs, done });
    this.settleWaiters();
  }

  /**
   * Redis beforeSleep's fsynced_reploff update plus processClientsWaitingReplicas; also run by
   * the cron and when a bio fsync finishes. Starts a background fsync for waiters that need one.
   */
  settleWaiters(requestFsync = true): void {
    if (this.waiters.size === 0) return;
    this.writer.observeFsyncJobs();
    const k = this.state.kind;
    if (k === 'on') {
      this.fsyncedStreamBytes = Math.max(this.fsyncedStreamBytes, this.writer.streamFsyncedBytes);
    }
    this.waiters.settle(this.fsyncedStreamBytes, this.deps.clock.nowMs());
    if (this.waiters.size === 0 || (k !== 'on' && k !== 'wait-rewrite')) return;
    const failure = this.writer.lastFsyncFailure;
    if (failure !== null) {
      this.waiters.failEmbedded(
        new EngineError(
          'ERR_AOF_FSYNC',
          `waitAof(): the AOF fsync failed (${strerror(failure)}); what was written after ` +
            'the last successful fsync may not survive a crash',
        ),
        this.fsyncedStreamBytes,
      );
    }
    const write = this.writer.stats().writeStatus;
    if (write.kind === 'err') {
      this.waiters.failEmbedded(
        new EngineError(
          'ERR_AOF_WRITE',
          `waitAof(): the AOF write failed (${strerror(write.code)}); acknowledged writes ` +
            'are still in memory and will be retried',
        ),
        this.writer.streamWrittenBytes,
      );
    }
    const lowest = this.waiters.lowestTargetBytes();
    if (requestFsync && lowest !== null && lowest <= this.writer.streamWrittenBytes)
      this.writer.requestFsyncForWaiters();
  }

  /** Redis flushAppendOnlyFile(force) while the AOF is ON or WAIT_REWRITE. Never throws. */
  flush(force: boolean): void {
    const k = this.state.kind;
    if (k === 'on' || k === 'wait-rewrite') this.writer.flush(force);
  }

  /** Redis serverCron's AOF duties (plus the beforeSleep flush Redis runs after each timer). */
  cron(): void {
    const k = this.state.kind;
    // Redis runs no serverCron while loading; a stopped or closed AOF has no duties left.
    if (this.deps.readOnly || k === 'loading' || k === 'fatal' || k === 'closed') return;
    this.settleWaiters();
    this.directory.retryManifestRestore();
    this.rewriter.cron();
    if (this.state.kind !== 'on' && this.state.kind !== 'wait-rewrite') return;
    const w = this.writer;
    const s = w.stats();
    if (this.state.kind === 'on' && s.flushPostponedStartSec !== 0) w.flush(false);
    const now = this.deps.clock.nowMs();
    if (s.writeStatus.kind === 'err' && now - this.lastWriteErrorRetryMs >= WRITE_ERROR_RETRY_MS) {
      this.lastWriteErrorRetryMs = now;
      w.flush(false);
    }
    w.flush(false);
  }

  /**
   * Redis prepareForShutdown, made safe for an embedded engine: a first rewrite after appendonly
   * yes is finished (Redis refuses SHUTDOWN there: "Writing initial AOF, can't exit") unless a
   * DEBUG LOADAOF is stopped half way, any other rewrite is killed, aof_buf is written (with
   * retries) and fsynced. What could not be made
   * durable is reported as ERR_AOF_NOT_PERSISTED after everything was released. A fatal AOF
   * writes nothing more.
   */
  async close(): Promise<void> {
    if (this.state.kind === 'closed') return;
    const abortingLoad = this.state.kind === 'loading';
    if (abortingLoad) {
      this.loadAborted = true;
      await this.loadSettled;
    }
    const problems: string[] = [];
    // After an aborted DEBUG LOADAOF the dataset is a part of the files: it must not become a base.
    if (this.state.kind === 'wait-rewrite' && !abortingLoad) {
      const problem = await this.finishFirstRewrite();
      if (problem !== null) problems.push(problem);
    }
    void this.rewriter.cancel();
    await this.rewriter.settled();
    if (this.state.kind === 'on') {
      this.deps.log('notice', 'Calling fsync() on the AOF file.');
      problems.push(...this.shutdownProblems());
    }
    try {
      await this.deps.bio.drain();
    } finally {
      // What the shutdown fsynced resolves its waiters; no new fsync on a file about to close.
      this.settleWaiters(false);
      this.waiters.failAll(
        new EngineError('ERR_ENGINE_CLOSED', 'The engine closed before the AOF was fsynced there'),
      );
      this.writer.closeFile();
      this.moveTo({ kind: 'closed' });
      await this.deps.bio.close();
    }
    if (problems.length > 0) {
      throw new EngineError('ERR_AOF_NOT_PERSISTED', `close(): ${problems.join('; ')}`);
    }
  }

  /** The writer's shutdown, in words for ERR_AOF_NOT_PERSISTED. */
  private shutdownProblems(): string[] {
    const r = this.writer.shutdown();
    const out: string[] = [];
    const file = this.incrPath ?? 'the AOF';
    if (r.unwritten !== null) {
      out.push(
        `${r.unwritten.bytes} bytes of executed writes could not be written to ${file} ` +
          `(${strerror(r.unwritten.code)}); they are lost`,
      );
    }
    if (r.fsyncError !== null) {
      out.push(
        `the final fsync of ${file} failed (${strerror(r.fsyncError)}): writes not fsynced ` +
          'before may not survive a power failure',
      );
    }
    return out;
  }

  /**
   * close() in WAIT_REWRITE: run the first rewrite to its end without yielding (starting it
   * when it is only scheduled, and once more if it fails). Null when the AOF is ON afterwards.
   */
  private async finishFirstRewrite(): Promise<string | null> {
    for (let attempt = 0; attempt < 2 && this.state.kind === 'wait-rewrite'; attempt++) {
      if (!this.rewriter.inProgress && !this.rewriter.start()) break;
      await this.rewriter.finishNow();
    }
    if (this.state.kind === 'on') return null;
    let keys = 0;
    for (const db of this.deps.server.dbs) keys += db.size;
    return (
      'the AOF was turned on (appendonly yes) but its first rewrite could not complete (see the ' +
      `log): the dataset (${keys} keys) is not in ${this.directory.names.aofDir}`
    );
  }

  /** Redis stopAppendOnly (CONFIG SET appendonly no). Never throws. */
  stopAppendOnly(): void {
    const k = this.state.kind;
    if (k !== 'on' && k !== 'wait-rewrite') return;
    this.writer.stop();
    this.incrPath = null;
    if (this.stopped) return; // the forced flush failed under always
    // Redis answers blocked WAITAOF clients with the "disabled" error; what stop() fsynced
    // resolves embedded waiters (not a temp INCR's bytes: no manifest lists it).
    this.waiters.commandsAofDisabled();
    if (k === 'on') this.settleWaiters(false);
    // Killed while still WAIT_REWRITE, so its temp INCR goes too; nothing is rescheduled.
    void this.rewriter.cancel();
    this.rewriter.unschedule();
    this.moveTo({ kind: 'off' });
    // Redis: fsynced_reploff = -1; blocked WAITAOF clients get the "disabled" error.
    this.fsyncedStreamBytes = 0;
    this.waiters.aofDisabled(
      new EngineError(
        'ERR_AOF_DISABLED',
        'waitAof(): the AOF was turned off (appendonly no) before these writes were fsynced',
      ),
    );
  }

  /**
   * Redis startAppendOnly: enter WAIT_REWRITE and start the first rewrite (or schedule it when
   * called inside EXEC); writes are buffered into a temp INCR that becomes real only if that
   * rewrite succeeds. Both error statuses are cleared. Throws when the rewrite cannot start
   * (CONFIG SET then fails).
   */
  startAppendOnly(): void {
    if (this.state.kind !== 'off') return;
    if (this.rewriter.inProgress) {
      // A rewrite started while the AOF was off is not writing a temp INCR: kill it (Redis kills
      // its child and starts a new rewrite at once).
      this.deps.log(
        'warning',
        'AOF was enabled but there is already an AOF rewriting in background. Stopping ' +
          'background AOF and starting a rewrite now.',
      );
      void this.rewriter.cancel();
    }
    this.moveTo({ kind: 'wait-rewrite' });
    // Redis: fsynced_reploff_pending = master_repl_offset; applied when the first rewrite is in.
    this.writer.markStreamDurable();
    if (this.deps.server.inExec) {
      this.rewriter.schedule();
      this.deps.log(
        'warning',
        'AOF was enabled during a transaction. An AOF background was ' +
          'scheduled to start when possible.',
      );
    } else if (!this.rewriter.start()) {
      this.moveTo({ kind: 'off' });
      this.deps.log(
        'warning',
        "Redis needs to enable the AOF but can't trigger a background AOF rewrite operation.",
      );
      throw new Error('Unable to turn on AOF. Check server logs.');
    }
    this.writer.clearErrors();
  }

  /**
   * Redis DEBUG LOADAOF: forced flush, empty the dataset, re-read the manifest from disk, delete
   * history files, load. Anything but ok/empty is fatal (Redis exits). Refused, changing
   * nothing, when the forced flush could not write aof_buf: the reload would drop those writes.
   * A running rewrite is killed first (rescheduled while WAIT_REWRITE): its snapshot would not
   * be the reloaded dataset.
   */
  async debugLoadAof(): Promise<LoadOutcome> {
    const s = this.state;
    if (s.kind !== 'on' && s.kind !== 'off' && s.kind !== 'wait-rewrite') {
      throw new EngineError(
        'ERR_NOT_SUPPORTED',
        `DEBUG LOADAOF is not possible while the AOF is ${s.kind}`,
      );
    }
    const doubt = this.directory.manifestInDoubt;
    if (doubt !== null) {
      // The manifest on disk may not be the one this process writes by: loading it could adopt
      // files that are not its own (see AofDirectory.inDoubt). The cron restores it first.
      throw new EngineError(
        'ERR_AOF_MANIFEST',
        `DEBUG LOADAOF refused: the AOF manifest on disk is in doubt ` +
          `after a failed write (${strerror(doubt)}); ` +
          'retry once writes are accepted again',
      );
    }
    if (s.kind === 'on') {
      this.writer.flush(true);
      const after = this.state;
      if (after.kind === 'fatal') throw after.error;
      const denied = this.writer.deniedWriteError();
      if (this.writer.bufferedBytes > 0) {
        throw new EngineError(
          'ERR_AOF_WRITE',
          `DEBUG LOADAOF refused: the AOF buffer could not be written ` +
            `(${denied ?? 'write error'}); ` +
            'reloading now would drop writes that are not on disk',
        );
      }
    }
    void this.rewriter.cancel();
    this.moveTo({ kind: 'loading', resume: s.kind });
    this.loadAborted = false;
    // Started on the next microtask, so a close() from the load's first pause finds loadSettled.
    const load = Promise.resolve().then(() => this.reloadDataset(s.kind));
    this.loadSettled = load.catch(() => undefined);
    return load;
  }

  private async reloadDataset(resume: SteadyKind): Promise<LoadOutcome> {
    let outcome: LoadOutcome;
    try {
      this.deps.server.emptyAll();
      this.directory.reload();
      this.deleteHistoryFiles();
      outcome = await this.loadFiles(true);
    } catch (err) {
      if (this.loadAborted) {
        this.moveTo({ kind: resume });
        throw new EngineError(
          'ERR_ENGINE_CLOSED',
          'DEBUG LOADAOF was stopped: the engine is closing',
        );
      }
      const error =
        err instanceof EngineError ? err : new EngineError('ERR_AOF_LOAD', (err as Error).message);
      this.die(error);
      throw error;
    }
    if (outcome !== 'ok' && outcome !== 'empty') {
      const error = new EngineError(
        'ERR_AOF_LOAD',
        `DEBUG LOADAOF: loading the AOF ended with '${outcome}'`,
      );
      this.die(error);
      throw error;
    }
    this.moveTo({ kind: resume });
    this.writer.adoptFileSize();
    this.writer.setCurrentSize(this.directory.totalSizeBytes());
    return outcome;
  }

  /** Runtime side effects of CONFIG SET (Redis config.c apply functions). */
  onConfigChanged(key: string, previous: unknown): void {
    const { config } = this.deps;
    if (this.deps.readOnly) return;
    if (key === 'appendonly' && config.appendonly !== previous) {
      if (config.appendonly) this.startAppendOnly();
      else this.stopAppendOnly();
    } else if (key === 'aofDisableAutoGc' && !config.aofDisableAutoGc) {
      this.deleteHistoryFiles();
    } else if (key === 'appendfsync' && config.appendfsync === 'always' && previous !== 'always') {
      const k = this.state.kind;
      if (k === 'on' || k === 'wait-rewrite') this.writer.syncForAlways();
    }
  }

  /** CONFIG RESETSTAT: aof_rewrites, aof_rewrites_consecutive_failures, aof_delayed_fsync. */
  resetStats(): void {
    this.rewriter.resetStats();
    this.writer.resetStats();
  }

  /** BGREWRITEAOF: the reply Redis gives, as a status or error text. */
  bgrewriteaof(): BgRewriteReply {
    const k = this.state.kind;
    if (k === 'loading' || k === 'fatal' || k === 'closed') return 'failed';
    return this.rewriter.bgrewriteaof(this.deps.server.inExec);
  }

  /** Resolves when no rewrite runs any more (tools, tests, benchmarks). */
  waitForRewrite(): Promise<void> {
    return this.rewriter.waitForCompletion();
  }

  // ---- RewritePort ----------------------------------------------------------------------------

  get clock(): Clock {
    return this.deps.clock;
  }

  get log(): AofLogger {
    return this.deps.log;
  }

  get dataset(): Server {
    return this.deps.server;
  }

  settings(): RewriteSettings {
    const { config } = this.deps;
    return {
      rdbPreamble: config.aofUseRdbPreamble,
      timestamps: config.aofTimestampEnabled,
      incrementalFsync: config.aofRewriteIncrementalFsync,
    };
  }

  growth(): ReturnType<RewritePort['growth']> {
    if (this.state.kind !== 'on') return null;
    const { config } = this.deps;
    return {
      percentage: config.autoAofRewritePercentage,
      minSizeBytes: config.autoAofRewriteMinSize,
      currentSizeBytes: this.writer.currentSize,
      baseSizeBytes: this.rewriteBaseSizeBytes,
    };
  }

  wantsPresync(): boolean {
    if (this.state.kind !== 'on' || !this.writer.hasFile) return false;
    // An fsync already running in bio counts too: the fdatasync at the switch would wait for it.
    return (
      this.writer.unsyncedBytes >= PRESYNC_MIN_BYTES || this.deps.bio.pending('aofFsync') !== 0
    );
  }

  presync(): Promise<void> {
    this.writer.submitBackgroundFsync();
    return this.deps.bio.drain('aofFsync').then(
      () => undefined,
      () => undefined,
    );
  }

  /**
   * The rest of Redis rewriteAppendOnlyFileBackground before the fork, and
   * openNewIncrAofForAppend. Deviation from Redis 7.0 (and 7.2), which leaves the old INCR's
   * fdatasync to the bio close job: once the manifest lists a newer INCR, the old one is no
   * longer the LAST file, and the loader (like check-aof --fix) refuses a torn tail anywhere but
   * in the last file. A power loss between the manifest persist and that job would leave a
   * directory that neither loads nor can be repaired. So the old INCR is made durable first, on
   * this thread. The forced flush must have written everything: bytes still in aof_buf would go
   * to the new INCR while their commands are already in the snapshot (applied twice on load).
   */
  switchIncrForRewrite(): boolean {
    const k = this.state.kind;
    if (k !== 'on' && k !== 'wait-rewrite' && k !== 'off') return false;
    const aofDir = this.directory.names.aofDir;
    try {
      this.deps.fs.mkdir(aofDir);
    } catch (err) {
      this.deps.log(
        'warning',
        `Can't open or create append-only dir ${aofDir}: ${(err as Error).message}`,
      );
      return false;
    }
    this.writer.flush(true);
    if (this.stopped) return false;
    if (this.writer.bufferedBytes > 0) {
      // The write failed (the MISCONF gate is up): commands already in the dataset are still in
      // aof_buf. Switching now would write them to the new INCR, after a base that contains them.
      this.deps.log('warning', "Can't start the AOF rewrite: the AOF buffer could not be written");
      return false;
    }
    if (k === 'off') return true;
    if (k === 'on') {
      try {
        this.writer.fsyncNow();
      } catch (err) {
        this.deps.log(
          'warning',
          `Can't open the append-only file for the rewrite: ${(err as Error).message}`,
        );
        return false;
      }
    }
    const opened = this.directory.openIncrForRewrite(k === 'wait-rewrite');
    if (opened === null) return false;
    // The old INCR is fsynced and closed in the background under every policy (7.0.5+).
    const previous = this.writer.switchTo(opened.fd);
    if (previous !== -1) this.deps.bio.submitClose(previous, true);
    this.incrPath = this.directory.file(opened.fileName);
    return true;
  }

  tempBasePath(id: number): string {
    return path.join(this.deps.config.dir, `temp-rewriteaof-bg-${id}.aof`);
  }

  /** Redis backgroundRewriteDoneHandler, success path (the rewriter counts and logs). */
  installBase(tempPath: string, baseSizeBytes: number): boolean {
    const k = this.state.kind;
    if (k !== 'on' && k !== 'wait-rewrite' && k !== 'off') return false;
    const installed = this.directory.installBase(tempPath, {
      rdbSuffix: this.deps.config.aofUseRdbPreamble,
      firstRewrite: k === 'wait-rewrite',
      aofOff: k === 'off',
    });
    if (!installed) return false;
    if (k !== 'off') {
      const total = baseSizeBytes + this.writer.stats().incrSizeBytes;
      this.writer.setCurrentSize(total);
      this.rewriteBaseSizeBytes = total;
    }
    this.deleteHistoryFiles();
    if (k === 'wait-rewrite') {
      this.incrPath = this.lastIncrPath();
      this.moveTo({ kind: 'on' });
      this.settleWaiters();
    }
    return true;
  }

  /** Redis's cleanup for WAIT_REWRITE: drop aof_buf and the temp INCR, ask for another rewrite. */
  rewriteAbandoned(): boolean {
    if (this.state.kind !== 'wait-rewrite') return false;
    this.writer.discardBuffer();
    this.directory.removeTempIncr();
    return true;
  }

  removeFile(filePath: string): void {
    this.directory.bgUnlink(filePath);
  }

  // ---- what others may ask --------------------------------------------------------------------

  manifestPath(): string {
    return this.directory.manifestPath();
  }

  /** aof_buf's length (INFO aof_buffer_length), cheap enough to sample often. */
  get bufferedBytes(): number {
    return this.writer.bufferedBytes;
  }

  /** The last load's outcome (start-up or DEBUG LOADAOF), null before any. */
  get loadOutcome(): LoadOutcome | null {
    return this.lastLoadOutcome;
  }

  inspect(): AofInspection {
    const s = this.state;
    return {
      state: s.kind,
      resumeState: s.kind === 'loading' ? s.resume : null,
      fatal: s.kind === 'fatal' ? s.error : null,
      manifest: this.directory.current.clone(),
      incrPath: this.writer.hasFile ? this.incrPath : null,
      writer: this.writer.stats(),
      rewrite: this.rewriter.stats(),
      manifestInDoubt: this.directory.manifestInDoubt,
      deniedWriteError: this.deniedWriteError(),
    };
  }

  info(): Record<string, string | number> {
    const w = this.writer.stats();
    const r = this.rewriter.stats();
    const out: Record<string, string | number> = {
      loading: this.loading.loading ? 1 : 0,
      async_loading: 0,
      aof_enabled: this.enabled ? 1 : 0,
      aof_rewrite_in_progress: r.inProgress ? 1 : 0,
      aof_rewrite_scheduled: r.scheduled ? 1 : 0,
      aof_last_rewrite_time_sec: r.lastRewriteTimeSec,
      aof_current_rewrite_time_sec: r.currentRewriteTimeSec,
      aof_last_bgrewrite_status: r.lastStatus,
      aof_rewrites: r.rewrites,
      aof_rewrites_consecutive_failures: r.consecutiveFailures,
      aof_last_write_status: this.writer.lastWriteStatusText(),
      aof_last_cow_size: r.lastCowSizeBytes,
      module_fork_in_progress: 0,
      module_fork_last_cow_size: 0,
    };
    if (this.enabled) {
      out.aof_current_size = w.currentSizeBytes;
      out.aof_base_size = this.rewriteBaseSizeBytes;
      out.aof_pending_rewrite = r.scheduled ? 1 : 0;
      out.aof_buffer_length = w.bufferedBytes;
      out.aof_pending_bio_fsync = this.deps.bio.pending('aofFsync');
      out.aof_delayed_fsync = w.delayedFsyncCount;
    }
    if (this.loading.loading)
      Object.assign(out, loadingInfo(this.loading, this.deps.clock.nowMs()));
    return out;
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
