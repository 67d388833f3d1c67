// DESIGN: BGREWRITEAOF of Redis 7.0's multi-part AOF (spec §6), with a copy-on-write snapshot and
// a writer thread in place of fork(). The rewriter is Redis's child plus the parent's bookkeeping
// of it (aof_rewrite_scheduled, the failure limiter, the statistics); everything that touches the
// AOF's state or files goes through its RewritePort, which AofPersistence implements:
//
//   start   (Redis rewriteAppendOnlyFileBackground) port.switchIncrForRewrite(): forced flush,
//           fdatasync of the old INCR, a new INCR listed in the manifest before the writer
//           switches to it. Then, in the same turn, the snapshot (rewrite-snapshot.ts) and the
//           temp base `temp-rewriteaof-bg-<id>.aof`: the snapshot is the dataset exactly as it
//           was when the new INCR began, so base + new INCR = live data.
//           When the old INCR holds many unsynced bytes, bio fsyncs them first (the PRESYNC) and
//           the switch waits for it, so the fdatasync on this thread stays short.
//   walk    slices of at most SLICE_MS on the main thread encode keys as MessagePack
//           (snapshot-codec.ts); the sink (writer thread, or inline on the simulated disk) decodes
//           them into the base format, writes and fsyncs.
//   done    (Redis backgroundRewriteDoneHandler) port.installBase(): the new base renamed in,
//           older files to history, manifest persisted, history deleted in the background.
//   failure leaves the directory loadable, removes the temp base, sets
//           aof_last_bgrewrite_status:err and counts consecutive failures for the back-off
//           limiter; port.rewriteAbandoned() undoes what a first rewrite after appendonly yes
//           had started, and asks for another one.
//   kill    (Redis killAppendOnlyChild) cancel() ends the rewrite AT ONCE as far as every state is
//           concerned (no rewrite in progress, snapshot detached, first-rewrite cleanup done), as
//           Redis's synchronous waitpid does; only releasing the sink and the temp base runs on
//           afterwards (settled() waits for that). A new rewrite may start in the same turn.
//   hurry   finishNow() runs the rest of the walk without yielding between slices (close()
//           finishing the first rewrite after appendonly yes).
//
// The main thread is never blocked for long: the start does a few small file operations and one
// fdatasync of the old INCR, each slice is bounded by time (by keys only under a
// ManualRewriteScheduler), and the done handler does renames and two manifest writes.

import type { Clock } from '../../io/clock.ts';
import type { CopyOnWrite, Db } from '../../keyspace/db.ts';
import type { AofLogger } from '../aof-writer.ts';
import { RewriteSnapshot } from './rewrite-snapshot.ts';
import type { SnapshotSink } from './snapshot-sink.ts';

/** Redis AOF_REWRITE_LIMITE_THRESHOLD / AOF_REWRITE_LIMITE_MAX_MINUTES. */
const LIMIT_THRESHOLD_FAILURES = 3;
const LIMIT_MAX_DELAY_MINUTES = 60;
/** One walk slice: stop taking keys after this long so other work gets the event loop. */
// Measured with `pnpm bench --only load` (1M keys, 64 SETs in flight): 4 ms slices gave a worst
// turn of 45.8 ms and 2 ms slices 31.6 ms when slices built entry arrays for msgpackr; with the
// encoder writing straight from the values (snapshot-codec.ts) and the presync, the worst turn
// during a rewrite is 10-15 ms.
const SLICE_MS = 2;
/**
 * The start fdatasyncs the old INCR on the main thread. When more than this is not yet fsynced
 * (everysec: up to a second or two of writes; no: whatever the kernel has not flushed) bio does
 * it first and the switch waits for it, so that fdatasync stays short. Deviation: a failure to
 * open the new INCR in that later turn is reported as a failed rewrite (status err, log), as a
 * failing fork child would be, not as an ERR reply to BGREWRITEAOF.
 */
export const PRESYNC_MIN_BYTES = 256 * 1024;
const SLICE_MAX_ENTRIES = 2048;

/** The dataset the snapshot walks, and the slot of its copy-on-write hook (the Server). */
export interface RewriteDataset {
  readonly dbs: readonly Db[];
  readonly copyOnWrite: CopyOnWrite | null;
  setCopyOnWrite(cow: CopyOnWrite | null): void;
}

/** Options a rewrite reads when it starts (Redis reads them at the fork). */
export interface RewriteSettings {
  /** aof-use-rdb-preamble: the new base's format. */
  rdbPreamble: boolean;
  /** aof-timestamp-enabled: a `#TS:` line first in a RESP base. */
  timestamps: boolean;
  /** aof-rewrite-incremental-fsync. */
  incrementalFsync: boolean;
}

/** What the rewriter asks of the AOF that owns it (AofPersistence implements it). */
export interface RewritePort {
  readonly clock: Clock;
  readonly log: AofLogger;
  readonly dataset: RewriteDataset;
  settings(): RewriteSettings;
  /** Inputs of the automatic rewrite (Redis serverCron): null unless the AOF is ON. */
  growth(): {
    percentage: number;
    minSizeBytes: number;
    currentSizeBytes: number;
    baseSizeBytes: number;
  } | null;
  /** True when the start should let bio fsync the current INCR first (see PRESYNC_MIN_BYTES). */
  wantsPresync(): boolean;
  /** bio-fsync the INCR being appended; resolves (never rejects) when bio is done with it. */
  presync(): Promise<void>;
  /** The fork moment: forced flush, switch to a new INCR. False: cannot start (logged). */
  switchIncrForRewrite(): boolean;
  /** Where run `id` writes its temp base. */
  tempBasePath(id: number): string;
  /** backgroundRewriteDoneHandler: install the finished temp base. False: failed (logged). */
  installBase(tempPath: string, baseSizeBytes: number): boolean;
  /** The rewrite ended without a new base (failed or killed). True: schedule another one. */
  rewriteAbandoned(): boolean;
  /** bg_unlink a file the rewrite made. */
  removeFile(filePath: string): void;
}

/**
 * How the walk yields between slices: the event loop in production, a test's hand in simulation.
 */
export interface RewriteScheduler {
  nextSlice(): Promise<void>;
  /** Resolve every pending nextSlice() now (a rewrite was killed or must finish at once). */
  release?(): void;
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
  release(): void {
    while (this.step());
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
  /** The base format chosen at start (aof-use-rdb-preamble then). */
  readonly rdb: boolean;
  cancelled: boolean;
  /** Walk without yielding (finishNow). */
  urgent: boolean;
  /** Settles when the run has released everything; never rejects. */
  finished: Promise<void>;
}

export type BgRewriteReply = 'started' | 'scheduled' | 'in-progress' | 'failed';

/** A start waiting for bio to fsync the old INCR (see PRESYNC_MIN_BYTES). */
interface Presync {
  cancelled: boolean;
  done: Promise<void>;
}

/** What INFO and the inspection API read about rewrites. */
export interface RewriteStats {
  readonly inProgress: boolean;
  readonly waitingForPresync: boolean;
  readonly scheduled: boolean;
  readonly lastStatus: 'ok' | 'err';
  readonly rewrites: number;
  readonly consecutiveFailures: number;
  readonly lastRewriteTimeSec: number;
  readonly currentRewriteTimeSec: number;
  readonly lastCowSizeBytes: number;
  readonly progress: { emittedKeys: number; totalKeys: number; savedKeys: number } | null;
}

export class AofRewriter {
  /** The running rewrite (Redis: an AOF child exists), or null. */
  private run: RewriteRun | null = null;
  private presync: Presync | null = null;
  /** Runs that were killed and are still releasing their sink (close waits for them). */
  private readonly tails = new Set<Promise<void>>();
  /** aof_rewrite_scheduled. */
  private scheduledFlag = false;
  private lastStatus: 'ok' | 'err' = 'ok';
  /** stat_aof_rewrites, stat_aofrw_consecutive_failures. */
  private rewrites = 0;
  private consecutiveFailures = 0;
  /** aof_rewrite_time_last (s; -1 before any). */
  private lastRewriteTimeSec = -1;
  /** aof_last_cow_size: what the last snapshot held beyond the dataset (rewrite-snapshot.ts). */
  private lastCowSizeBytes = 0;
  private nextRunId = 1;
  private limiterDelayMinutes = 0;
  private limiterNextRewriteSec = 0;
  private readonly port: RewritePort;
  private readonly makeSink: () => SnapshotSink;
  private readonly scheduler: RewriteScheduler;

  constructor(port: RewritePort, makeSink: () => SnapshotSink, scheduler: RewriteScheduler) {
    this.port = port;
    this.makeSink = makeSink;
    this.scheduler = scheduler;
  }

  /** Redis hasActiveChildProcess() for the AOF: a rewrite runs or waits for its presync. */
  get inProgress(): boolean {
    return this.run !== null || this.presync !== null;
  }

  /** A rewrite runs whose new INCR receives the writes (Redis child_type == CHILD_TYPE_AOF). */
  get childActive(): boolean {
    return this.run !== null;
  }

  get scheduled(): boolean {
    return this.scheduledFlag;
  }

  stats(): RewriteStats {
    const r = this.run;
    return {
      inProgress: this.inProgress,
      waitingForPresync: this.presync !== null,
      scheduled: this.scheduledFlag,
      lastStatus: this.lastStatus,
      rewrites: this.rewrites,
      consecutiveFailures: this.consecutiveFailures,
      lastRewriteTimeSec: this.lastRewriteTimeSec,
      currentRewriteTimeSec:
        r === null ? -1 : Math.floor((this.port.clock.nowMs() - r.startedMs) / 1000),
      lastCowSizeBytes: this.lastCowSizeBytes,
      progress:
        r === null
          ? null
          : {
              emittedKeys: r.snapshot.emittedKeys,
              totalKeys: r.snapshot.totalKeys,
              savedKeys: r.snapshot.savedKeys,
            },
    };
  }

  /** Resolves when no rewrite runs any more (finished, failed or killed). */
  async waitForCompletion(): Promise<void> {
    while (this.presync !== null || this.run !== null)
      await (this.presync?.done ?? this.run!.finished);
  }

  /** Resolves when killed runs have released their sinks and temp files too. */
  async settled(): Promise<void> {
    await this.waitForCompletion();
    while (this.tails.size > 0) await Promise.all([...this.tails]);
  }

  /** Redis bgrewriteaofCommand. */
  bgrewriteaof(inExec: boolean): BgRewriteReply {
    if (this.inProgress) return 'in-progress';
    if (inExec) {
      this.scheduledFlag = true;
      this.consecutiveFailures = 0; // a user's request bypasses the limiter
      return 'scheduled';
    }
    return this.start() ? 'started' : 'failed';
  }

  /** Ask for a rewrite at the next cron (startAppendOnly when it cannot start one now). */
  schedule(): void {
    this.scheduledFlag = true;
  }

  unschedule(): void {
    this.scheduledFlag = false;
  }

  /** Redis aofRewriteLimited: after 3 consecutive failures, back off 1, 2, 4 ... 60 minutes. */
  private limited(): boolean {
    if (this.consecutiveFailures < LIMIT_THRESHOLD_FAILURES) {
      this.limiterDelayMinutes = 0;
      this.limiterNextRewriteSec = 0;
      return false;
    }
    const now = Math.floor(this.port.clock.nowMs() / 1000);
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
    this.port.log(
      'warning',
      'Background AOF rewrite has repeatedly failed and triggered the limit, will retry in ' +
        `${this.limiterDelayMinutes} minutes`,
    );
    return true;
  }

  /** serverCron: a scheduled rewrite, then the automatic one on growth. */
  cron(): void {
    if (this.inProgress) return;
    if (this.scheduledFlag && !this.limited()) {
      this.start();
      return;
    }
    const g = this.port.growth();
    if (g === null || g.percentage === 0 || g.currentSizeBytes <= g.minSizeBytes) return;
    const base = g.baseSizeBytes === 0 ? 1 : g.baseSizeBytes;
    const growth = Math.floor((g.currentSizeBytes * 100) / base) - 100;
    if (growth >= g.percentage && !this.limited()) {
      this.port.log('notice', `Starting automatic rewriting of AOF on ${growth}% growth`);
      this.start();
    }
  }

  /** Redis rewriteAppendOnlyFileBackground. False when the rewrite could not start. */
  start(): boolean {
    if (this.inProgress) return false;
    if (this.port.wantsPresync()) {
      this.beginPresync();
      return true;
    }
    return this.switchAndFork();
  }

  /**
   * The old INCR holds many unsynced bytes (everysec, no): let bio fsync them, then switch in a
   * later turn, whose own fdatasync covers only what was written meanwhile.
   */
  private beginPresync(): void {
    const presync: Presync = { cancelled: false, done: Promise.resolve() };
    this.presync = presync;
    this.port.log('notice', 'Background AOF rewrite waits for the fsync of the current INCR first');
    presync.done = this.port.presync().then(() => this.endPresync(presync));
  }

  /** Never throws: it runs in a promise nobody awaits but waitForCompletion. */
  private endPresync(presync: Presync): void {
    if (this.presync !== presync) return;
    this.presync = null;
    if (presync.cancelled) return;
    let started = false;
    try {
      started = this.switchAndFork();
    } catch (err) {
      this.lastStatus = 'err';
      this.port.log('warning', `Background AOF rewrite could not start: ${(err as Error).message}`);
      return;
    }
    if (!started) this.port.log('warning', 'Background AOF rewrite could not start');
  }

  /** The rest of rewriteAppendOnlyFileBackground: the switch, then the snapshot (the fork). */
  private switchAndFork(): boolean {
    if (!this.port.switchIncrForRewrite()) {
      this.lastStatus = 'err';
      return false;
    }
    this.rewrites++;
    const id = process.pid * 1000 + (this.nextRunId++ % 1000);
    const settings = this.port.settings();
    const snapshot = new RewriteSnapshot(this.port.dataset.dbs);
    const run: RewriteRun = {
      id,
      tempPath: this.port.tempBasePath(id),
      snapshot,
      sink: this.makeSink(),
      startedMs: this.port.clock.nowMs(),
      rdb: settings.rdbPreamble,
      cancelled: false,
      urgent: false,
      finished: Promise.resolve(),
    };
    this.run = run;
    this.scheduledFlag = false;
    this.port.dataset.setCopyOnWrite(snapshot);
    run.finished = this.execute(run, settings).catch((err: unknown) => {
      // execute() handles its own failures; reaching this is a bug, but must not go unhandled.
      this.port.log('warning', `Background AOF rewrite crashed: ${(err as Error).message}`);
      if (this.run === run) this.run = null;
    });
    this.port.log('notice', `Background append only file rewriting started (writer ${id})`);
    return true;
  }

  /** The "child": walk the snapshot in slices into the sink, then install or give up. */
  private async execute(run: RewriteRun, settings: RewriteSettings): Promise<void> {
    let sizeBytes = 0;
    let failure: Error | null = null;
    try {
      const nowSec = Math.floor(this.port.clock.nowMs() / 1000);
      await run.sink.open(run.tempPath, {
        timestampSec: !run.rdb && settings.timestamps ? nowSec : null,
        incrementalFsync: settings.incrementalFsync,
        rdbCtimeSec: run.rdb ? nowSec : null,
      });
      await this.walk(run);
      this.releaseSnapshot(run);
      if (!run.cancelled) sizeBytes = await run.sink.finish();
    } catch (err) {
      failure = err as Error;
    }
    if (run.cancelled) return this.releaseKilled(run);
    this.releaseSnapshot(run);
    if (failure !== null) {
      await run.sink.abort();
      // A kill may have come while the sink aborted: then cancel() has done the bookkeeping.
      if (run.cancelled) return this.releaseKilled(run);
      return this.ended(run, false, failure.message);
    }
    const installed = this.port.installBase(run.tempPath, sizeBytes);
    this.ended(run, installed, installed ? null : 'the new base could not be installed');
  }

  private async walk(run: RewriteRun): Promise<void> {
    const timeSliced = this.scheduler.timeSliced !== false;
    const maxEntries = this.scheduler.maxEntriesPerSlice ?? SLICE_MAX_ENTRIES;
    while (!run.snapshot.done) {
      // Checked before waiting too: a kill that came while the sink was opening released no
      // slice, and nothing would release this one.
      if (run.cancelled) return;
      if (!run.urgent) await this.scheduler.nextSlice();
      if (run.cancelled) return;
      const t0 = performance.now();
      if (run.urgent) run.snapshot.walk(Number.MAX_SAFE_INTEGER);
      else run.snapshot.walk(maxEntries, () => timeSliced && performance.now() - t0 > SLICE_MS);
      // The slice's keys, plus any the copy-on-write hook encoded since the last slice.
      const chunk = run.snapshot.takeEncoded();
      if (chunk !== null) await run.sink.write(chunk);
      if (run.cancelled) return;
    }
  }

  private releaseSnapshot(run: RewriteRun): void {
    if (this.port.dataset.copyOnWrite !== run.snapshot) return;
    this.port.dataset.setCopyOnWrite(null);
    this.lastCowSizeBytes = run.snapshot.cowSizeBytes;
  }

  /** Redis backgroundRewriteDoneHandler's status bookkeeping and its cleanup label. */
  private ended(run: RewriteRun, ok: boolean, reason: string | null): void {
    if (ok) {
      this.lastStatus = 'ok';
      this.consecutiveFailures = 0;
      this.port.log('notice', 'Background AOF rewrite finished successfully');
    } else {
      this.lastStatus = 'err';
      this.consecutiveFailures++;
      this.port.log('warning', `Background AOF rewrite failed: ${reason}`);
      this.port.removeFile(run.tempPath);
    }
    this.lastRewriteTimeSec = Math.floor((this.port.clock.nowMs() - run.startedMs) / 1000);
    if (this.run === run) this.run = null;
    if (!ok && this.port.rewriteAbandoned()) this.scheduledFlag = true;
  }

  /** A killed run's tail: its sink and temp base (cancel() did everything else). */
  private async releaseKilled(run: RewriteRun): Promise<void> {
    await run.sink.abort();
    this.port.removeFile(run.tempPath);
  }

  /**
   * Kill the running rewrite (Redis killAppendOnlyChild); not counted as a failure. Every state
   * effect happens now; the returned promise settles when the sink is released (never rejects).
   */
  cancel(): Promise<void> {
    const presync = this.presync;
    if (presync !== null) {
      // Nothing to undo: only bio's fsync has run. Over at once, so a new start may follow.
      this.port.log('notice', 'Cancelling the AOF rewrite waiting for its fsync');
      presync.cancelled = true;
      this.presync = null;
    }
    const run = this.run;
    if (run === null) return Promise.resolve();
    this.port.log('notice', 'Killing running AOF rewrite child');
    run.cancelled = true;
    this.run = null;
    this.releaseSnapshot(run);
    // A scheduler may be holding the walk: let it observe the cancellation.
    this.scheduler.release?.();
    if (this.port.rewriteAbandoned()) this.scheduledFlag = true;
    const tail = run.finished;
    this.tails.add(tail);
    void tail.then(() => this.tails.delete(tail));
    return tail;
  }

  /** Run the rest of the current rewrite without yielding; resolves when it has ended. */
  async finishNow(): Promise<void> {
    const run = this.run;
    if (run === null) return;
    run.urgent = true;
    this.scheduler.release?.();
    await run.finished;
  }

  resetStats(): void {
    this.rewrites = 0;
    this.consecutiveFailures = 0;
  }
}
