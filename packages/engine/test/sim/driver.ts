// Driver: one machine lineage under test — the engine on a simulated disk, the reference model
// that shadows it, and the durability tracker — and the operations the simulator and the
// fault-countdown suite perform on it: run a turn of units (some transactions left open across
// turns), tick the cron, start a background rewrite and release its walk slice by slice, switch
// configuration at runtime (appendonly, appendfsync, aof-use-rdb-preamble; also inside MULTI),
// run DEBUG LOADAOF and act while it loads, close (with the disk still failing, and after a fatal
// stop), crash and recover. Every recovery — and every DEBUG LOADAOF, a recovery without a crash —
// is judged (crash-check.ts) against the INCR files of the manifest the engine loaded, and the
// model is rolled back to the prefix that survived. Failed checks throw plain Errors; callers add
// the seed and the trace.
//
// Beyond the recovery judgement, the driver checks what each lifecycle edge promises:
//   - after a fatal stop no byte reaches the AOF directory and no reply of that turn resolves;
//   - CONFIG SET appendonly no always answers OK; after appendonly yes writes are accepted again;
//   - a refused EXEC answers EXECABORT and leaves its client out of MULTI;
//   - close() resolves, or rejects with ERR_AOF_NOT_PERSISTED, and leaves no file open;
//   - a command with the wrong number of arguments put into an INCR is refused by the loader.

import type { DbHandle, FsyncPolicy } from '@aofkv/engine';
import { EngineError, ReplyError, openEngine } from '@aofkv/engine';
import { InlineBio } from '@aofkv/bio-workers';
import { SimFileSystem } from '../../src/testing/sim-file-system.ts';
import { inspectAof, type AofInspection } from '@aofkv/engine/testing';
import { AofLoadError } from '../../src/aof/aof-loader.ts';
import { checkAof } from '../../src/aof/check-aof.ts';
import type { Prng } from '../../src/testing/prng.ts';
import type { SimClock } from '../../src/testing/sim-clock.ts';
import type { SimCrashOptions, SimFsOpEvent } from '../../src/testing/sim-file-system.ts';
import type { FsOp } from '../../src/io/file-system.ts';

/** Calls that change a file or a name (reads, stats, fsyncs and closes do not). */
const MUTATING_OPS: ReadonlySet<FsOp> = new Set([
  'open',
  'write',
  'ftruncate',
  'truncate',
  'rename',
  'unlink',
]);
import {
  DurabilityTracker,
  judgeRecovery,
  scanAof,
  type FileEvidence,
  type IncarnationFile,
  type Verdict,
} from './crash-check.ts';
import { diffDumps, dumpKeyspace } from './dump.ts';
import { ReferenceModel, handlesOf, replyText, settle, submitUnit, type Settled } from './model.ts';
import {
  AOF_DIR,
  DATA_DIR,
  MANIFEST_PATH,
  openSimMachine,
  type SimMachine,
} from './sim-machine.ts';
import { lockFileName } from '../../src/io/dir-lock.ts';

const LOCK_NAME = lockFileName('appendonly.aof');
import { describeUnit, type Unit } from './workload.ts';

const TRACE_LINES = Number(process.env['SIM_TRACE_LINES'] ?? 60);
const LIVE_TRACE = process.env['SIM_TRACE_LIVE'] === '1';

export interface DriverFigures {
  unitsSubmitted: number;
  unitsExecuted: number;
  unitsAcked: number;
  unitsRefused: number;
  unitsLostToFatal: number;
  crashes: number;
  cleanRestarts: number;
  checkAofRepairs: number;
  manualRepairs: number;
  foreignBytesHarmless: number;
  foreignBytesChangedData: number;
  knownBugDanglingMulti: number;
  unitsRolledBack: number;
  ackedLostAllowed: number;
  ackedLostViolations: number;
  stateChecks: number;
  /** Background rewrites: started (BGREWRITEAOF or automatic), refused at start, done, failed. */
  rewritesStarted: number;
  rewritesAuto: number;
  rewritesStartFailed: number;
  rewritesCompleted: number;
  rewritesFailed: number;
  /** Crashes of an engine whose rewrite was running (or whose done handler was cut short). */
  crashesDuringRewrite: number;
  /**
   * Recoveries whose manifest listed more than one INCR file (a rewrite started and did not
   * finish).
   */
  recoveriesMultiIncr: number;
  /**
   * Completed rewrites whose new base, loaded alone, was compared with the model (point in time).
   */
  basesChecked: number;
  /** CONFIG SET appendonly / appendfsync / aof-use-rdb-preamble that succeeded. */
  configSets: number;
  /** CONFIG SET appendonly yes that could not start the first rewrite (allowed: OK is not owed). */
  toggleRefused: number;
  /** DEBUG LOADAOF that reloaded and were judged. */
  reloads: number;
  /** close() that rejected with ERR_AOF_NOT_PERSISTED (the disk kept failing). */
  closesNotPersisted: number;
  /** Injected wrong-arity commands the loader refused where they were. */
  badArityRefused: number;
  /** Transactions whose EXEC came in a later turn than their MULTI. */
  splitTransactions: number;
  /** Rewrite starts that first waited for bio to fsync the current INCR (the presync). */
  presyncs: number;
  /** Opens that found the lock of a process that died (a crash) and took it over. */
  lockTakeovers: number;
  /** Second openers while an engine ran: all refused (ERR_DIR_LOCKED, or a fault: ERR_AOF_OPEN). */
  secondOpensRefused: number;
  /** engine.waitAof() calls; resolved ones made every unit acknowledged before them durable. */
  waitAofCalls: number;
  waitAofResolved: number;
  /** Rejected, typed (the fsync or write failed, the AOF was off, stopped or closed). */
  waitAofRejected: number;
  /** Loads that cut a corrupt tail (aof-load-corrupt-tail-max-size, issue 15). */
  corruptTailsCut: number;
}

export function emptyDriverFigures(): DriverFigures {
  return {
    unitsSubmitted: 0,
    unitsExecuted: 0,
    unitsAcked: 0,
    unitsRefused: 0,
    unitsLostToFatal: 0,
    crashes: 0,
    cleanRestarts: 0,
    checkAofRepairs: 0,
    manualRepairs: 0,
    foreignBytesHarmless: 0,
    foreignBytesChangedData: 0,
    knownBugDanglingMulti: 0,
    unitsRolledBack: 0,
    ackedLostAllowed: 0,
    ackedLostViolations: 0,
    stateChecks: 0,
    rewritesStarted: 0,
    rewritesAuto: 0,
    rewritesStartFailed: 0,
    rewritesCompleted: 0,
    rewritesFailed: 0,
    crashesDuringRewrite: 0,
    recoveriesMultiIncr: 0,
    basesChecked: 0,
    configSets: 0,
    toggleRefused: 0,
    reloads: 0,
    closesNotPersisted: 0,
    badArityRefused: 0,
    splitTransactions: 0,
    presyncs: 0,
    lockTakeovers: 0,
    secondOpensRefused: 0,
    waitAofCalls: 0,
    waitAofResolved: 0,
    waitAofRejected: 0,
    corruptTailsCut: 0,
  };
}

export interface DriverOptions {
  fs: SimFileSystem;
  clock: SimClock;
  policy: FsyncPolicy;
  databases: number;
  timestamps: boolean;
  exactFsync: boolean;
  /** Base format of rewrites (aof-use-rdb-preamble). Default: the engine's (yes). */
  rdbPreamble?: boolean;
  /** Automatic rewrites: percentage (0 = off) and minimum size. Default: off. */
  autoRewrite?: { percentage: number; minSizeBytes: number };
  /** Keys per rewrite walk slice. Default: the engine's. */
  sliceEntries?: number;
  figures: DriverFigures;
  /** Called with true while recovering (faults belong to the running engine, not to recovery). */
  muteFaults: (muted: boolean) => void;
  /**
   * False while a completed rewrite's base must not be checked (a power cut killed the process).
   */
  checkBases?: () => boolean;
  /** Commands between two pauses of DEBUG LOADAOF (default: no pauses in simulated time). */
  loadPauseEvery?: number;
  /** Per crash: append a command with the wrong number of arguments to the last INCR. */
  badArityProbability?: number;
  /** How rewrites write their base (sim-machine.ts). Default: inline. */
  rewriteSink?: 'inline' | 'writer-tasks';
  /** aof-load-corrupt-tail-max-size of the engines (Redis 8.4). Default 0 (Redis 7.0). */
  corruptTailMaxBytes?: number;
}

export type UnitOutcome = 'acked' | 'refused' | 'fatal';

/** What DEBUG LOADAOF came to: reloaded and judged, refused (nothing changed), close()d, fatal. */
export type ReloadOutcome = 'loaded' | 'refused' | 'closed' | 'fatal';

/** The options the simulator switches at runtime. */
export type RuntimeOption =
  | 'appendonly'
  | 'appendfsync'
  | 'aof-use-rdb-preamble'
  | 'requirepass'
  | 'maxclients'
  | 'timeout'
  | 'proto-max-bulk-len'
  | 'client-query-buffer-limit'
  | 'protected-mode';

/** The reply of the one command of a MULTI/EXEC, or its error. */
function firstOfExec(results: [ReplyError | null, unknown][] | null): unknown {
  const first = results?.[0];
  if (first === undefined) throw new Error('EXEC returned no reply');
  if (first[0] !== null) throw first[0];
  return first[1];
}

/**
 * How a rewrite is asked for: BGREWRITEAOF alone, riding in a turn of units, or MULTI-scheduled.
 */
export type RewriteRequest = 'command' | 'in-turn' | 'scheduled';

/** What a turn's acknowledgements were worth: the policy and AOF state they were made under. */
interface AckContext {
  always: boolean;
  aofState: 'on' | 'wait-rewrite' | 'off';
}

/** A transaction whose MULTI and commands were sent in an earlier turn, waiting for its EXEC. */
interface OpenTransaction {
  unit: Unit & { kind: 'multi' };
  handle: DbHandle;
  /** Some command was refused while queueing (MISCONF): EXEC must abort. */
  refusedAtQueue: boolean;
  hasWrite: boolean;
}

export class Driver {
  readonly fs: SimFileSystem;
  readonly clock: SimClock;
  /** appendfsync now (CONFIG SET may change it). */
  policy: FsyncPolicy;
  /** aof-use-rdb-preamble now. */
  #rdbPreamble: boolean | undefined;
  readonly figures: DriverFigures;
  readonly trace: string[] = [];
  /**
   * Set when a recovery loaded bytes the engine never wrote: this lineage can't be judged further.
   */
  lineageEnded = false;
  readonly #options: DriverOptions;
  #machine: SimMachine | null = null;
  #handles: DbHandle[] = [];
  #model: ReferenceModel | null = null;
  #tracker: DurabilityTracker | null = null;
  #incarnation = 0;
  /** Set by the engine's log when a rewrite finished successfully (during stepRewrite). */
  #rewriteDone = false;
  /**
   * Between crash() and a successful recover(): every INCR file of the lineage as written (visible
   * bytes at the first crash) and as the last crash left it (null: no such file).
   */
  #pending: Map<string, { intended: Buffer | null; survived: Buffer | null }> | null = null;
  /** Set by the engine's 'fatal' event: from then on nothing may reach the AOF directory. */
  #fatalSeen = false;
  /** Units in the snapshot of the rewrite that runs (its base holds them). */
  #rewriteStartUnits: number | null = null;
  /** Transactions sent without their EXEC yet (split across turns). */
  #openTransactions: OpenTransaction[] = [];
  /** A broken promise seen by a file-system observer, thrown at the next check. */
  #violation: string | null = null;
  /** A command with the wrong number of arguments appended to an INCR after the last crash. */
  #badArity: { file: string; offset: number; sizeBefore: number } | null = null;

  constructor(options: DriverOptions) {
    this.#options = options;
    this.fs = options.fs;
    this.clock = options.clock;
    this.policy = options.policy;
    this.#rdbPreamble = options.rdbPreamble;
    this.figures = options.figures;
  }

  /** The running engine's AOF, through the inspection API. */
  #inspect(): AofInspection {
    return inspectAof(this.machine.engine);
  }

  get machine(): SimMachine {
    if (this.#machine === null) throw new Error('no engine is open');
    return this.#machine;
  }

  get #m(): ReferenceModel {
    if (this.#model === null) throw new Error('no model');
    return this.#model;
  }

  get #t(): DurabilityTracker {
    if (this.#tracker === null) throw new Error('no tracker');
    return this.#tracker;
  }

  /** True when the engine stopped after a fatal error (a dead process under always). */
  get stopped(): boolean {
    return this.machine.engine.closed;
  }

  /** True while an engine is running (false after a crash, until a recovery succeeds). */
  get running(): boolean {
    return this.#machine !== null;
  }

  /** Units in the model's history (all executed units of the surviving lineage). */
  get units(): number {
    return this.#m.length;
  }

  /** Creates the model and opens the first engine. The open may throw (start-up faults). */
  async start(): Promise<void> {
    this.#model ??= await ReferenceModel.create(this.#options.databases);
    this.#adopt(await this.#open());
    // Whatever the disk held (nothing, or what a failed first start left) loads as these units.
    const files = this.#inspect().manifest.incrList.map((incr) => ({
      fileName: incr.fileName,
      startUnits: this.#m.length,
      sizeBytes: this.fs.fileContent(`${AOF_DIR}/${incr.fileName}`).length,
    }));
    this.#beginIncarnation(files);
  }

  async dispose(): Promise<void> {
    // A stopped engine is a dead process: nothing to close. Close errors here are not findings.
    if (this.#machine !== null && !this.#machine.engine.closed) {
      await this.#machine.engine.close().catch(() => {});
    }
    await this.#model?.close().catch(() => {});
  }

  log(line: string): void {
    const entry = `[${this.clock.nowMs() - 1_700_000_000_000}ms] ${line}`;
    // SIM_TRACE_LIVE=1: every line to stderr as it happens (a seed that hangs prints no trace).
    if (LIVE_TRACE) process.stderr.write(`${entry}\n`);
    this.trace.push(entry);
    if (this.trace.length > TRACE_LINES) this.trace.shift();
  }

  // ---- turns ----------------------------------------------------------------------------------

  /**
   * Submits `units` together (one event-loop turn), waits for their replies, runs the executed
   * ones on the model and compares replies. Returns each unit's outcome. Transactions left open
   * by an earlier turn get their EXEC first; the MULTI units at the indexes in `openNow` are only
   * queued (MULTI and commands, on a handle of their own) and get their EXEC in a later turn.
   */
  async turn(
    units: readonly Unit[],
    rewriteAfter: number | null = null,
    openNow: ReadonlySet<number> = new Set(),
    midTurn: (() => void) | null = null,
  ): Promise<UnitOutcome[]> {
    const engine = this.machine.engine;
    if (engine.closed) throw new Error('turn on a stopped engine');
    const nowMs = this.clock.nowMs();
    const fatalBefore = this.#fatalSeen;
    // The gate only changes in beforeSleep, the cron or a bio job, never inside a turn.
    let denied = engine.aof!.deniedWriteError() !== null;
    const rewrite: { reply: Promise<Settled> | null } = { reply: null };
    const closing = this.#openTransactions.splice(0).map((tx) => this.#submitExec(tx, denied));
    const submitted = units.flatMap((unit, i) => {
      if (openNow.has(i) && unit.kind === 'multi') {
        this.#openTransaction(unit, denied);
        return [];
      }
      // A fatal stop earlier in this turn (BGREWRITEAOF's forced flush failed under always): the
      // engine refuses this unit without running it, as a dead process would never see it.
      const refused = (denied && this.#isWrite(unit)) || this.#fatalSeen;
      const reply = settle(submitUnit(this.#handles, unit));
      const index = refused ? -1 : this.#t.recordUnit(this.#streamEndBytes());
      if (rewriteAfter === i) {
        // BGREWRITEAOF in the same turn: its forced flush writes the units before it, then it
        // switches INCR files; the units after it go to the new INCR. The flush may set or clear
        // the write error, so the gate is read again.
        rewrite.reply = this.#submitRewrite('in-turn');
        denied = engine.aof!.deniedWriteError() !== null;
      }
      return [{ unit, refused, index, reply, handle: null as DbHandle | null }];
    });
    const all = [...closing, ...submitted];
    const ack = this.#ackContext();
    // Something another thread finishes while the turn's commands are still in aof_buf (a bio
    // fsync): what it lets run (a rewrite's presync) runs before this turn's beforeSleep.
    midTurn?.();
    this.figures.unitsSubmitted += all.length;
    if (rewrite.reply !== null) this.#logRewriteReply('in-turn', await rewrite.reply);
    const real = await Promise.all(all.map((s) => s.reply));
    const executed = all.filter((s) => !s.refused);
    const model = await this.#m.apply(
      executed.map((s) => s.unit),
      nowMs,
    );
    if (this.#m.length !== this.#t.units) {
      throw new Error(`model has ${this.#m.length} units, tracker ${this.#t.units}`);
    }
    for (const [i, s] of executed.entries())
      this.#compareReply(s.unit, real[all.indexOf(s)]!, model[i]!);
    const outcomes = all.map((s, i) => this.#account(s.unit, s.refused, s.index, real[i]!, ack));
    if (!fatalBefore && this.#fatalSeen && outcomes.includes('acked')) {
      throw new Error(
        'a reply was delivered in the turn of a fatal stop (after the ' +
          'fatal error, no reply may resolve)',
      );
    }
    for (const s of closing) await this.#checkOutOfMulti(s.handle!);
    return outcomes;
  }

  /** What the acknowledgements of the turn being submitted will be worth. */
  #ackContext(): AckContext {
    const state = this.#inspect().state;
    const aofState = state === 'on' || state === 'wait-rewrite' ? state : 'off';
    return { always: this.policy === 'always', aofState };
  }

  /** Phase one of a split transaction: MULTI and its commands now, on a handle of its own. */
  #openTransaction(unit: Unit & { kind: 'multi' }, denied: boolean): void {
    // Stopped earlier in this turn (BGREWRITEAOF's forced flush failed under always): the
    // process is dead, the transaction is never sent.
    if (this.machine.engine.closed) return;
    const handle = this.machine.engine.db(unit.db);
    void settle(handle.command('multi'));
    for (const [name, ...args] of unit.commands)
      void settle(handle.command(name as string, ...args));
    const hasWrite = this.#isWrite(unit);
    this.#openTransactions.push({ unit, handle, refusedAtQueue: denied && hasWrite, hasWrite });
    this.figures.splitTransactions++;
    this.log(`open ${describeUnit(unit)} (EXEC in a later turn)`);
  }

  /**
   * Phase two: EXEC. Refused (EXECABORT) when a write was refused while queueing, or when writes
   * are refused now (Redis rejectCommand → execCommandAbort).
   */
  #submitExec(tx: OpenTransaction, denied: boolean) {
    const refused = tx.refusedAtQueue || (denied && tx.hasWrite);
    const reply = settle(
      tx.handle
        .command('exec')
        .then((values) =>
          (values as unknown[]).map((v) => (v instanceof ReplyError ? [v, null] : [null, v])),
        ),
    );
    const index = refused ? -1 : this.#t.recordUnit(this.#streamEndBytes());
    return { unit: tx.unit as Unit, refused, index, reply, handle: tx.handle as DbHandle | null };
  }

  /** After its EXEC, a split transaction's client must be out of MULTI (Redis discards it). */
  async #checkOutOfMulti(handle: DbHandle): Promise<void> {
    if (this.stopped) return;
    const echo = await settle(handle.command('echo', 'out-of-multi'));
    if (echo.ok && echo.value === 'out-of-multi') return;
    throw new Error(`after EXEC the client is still in MULTI: ECHO answered ${replyText(echo)}`);
  }

  tick(): void {
    if (this.stopped) return;
    this.machine.tick();
    this.log('tick');
  }

  // ---- the background rewrite -----------------------------------------------------------------

  /** The MISCONF gate is up (a write or background fsync failed). */
  get writesRefused(): boolean {
    return !this.stopped && this.machine.engine.aof!.deniedWriteError() !== null;
  }

  /** A rewrite's start waits for bio to fsync the current INCR (the presync window). */
  get presyncOpen(): boolean {
    return this.running && !this.stopped && this.#inspect().rewrite.waitingForPresync;
  }

  get rewriteInProgress(): boolean {
    return this.running && !this.stopped && this.#inspect().rewrite.inProgress;
  }

  /** BGREWRITEAOF on its own turn (`command`), or MULTI + BGREWRITEAOF + EXEC (`scheduled`). */
  async requestRewrite(how: 'command' | 'scheduled'): Promise<void> {
    if (this.stopped) return;
    this.#logRewriteReply(how, await this.#submitRewrite(how));
  }

  /** Releases one slice of the running rewrite's walk and lets it (and its done handler) run. */
  async stepRewrite(): Promise<void> {
    if (!this.rewriteInProgress) return;
    const progress = this.#inspect().rewrite.progress;
    this.#rewriteDone = false;
    this.machine.rewrite.step();
    await this.machine.settle();
    this.log(
      `rewrite slice (${progress?.emittedKeys ?? 0}/${progress?.totalKeys ?? 0} keys before it)`,
    );
    if (this.#rewriteDone && this.#options.checkBases?.() !== false) await this.#checkNewBase();
  }

  /**
   * The point-in-time guarantee of a completed rewrite: its base, loaded alone, is the dataset as
   * it was when the new INCR began, i.e. the model after that INCR's startUnits units.
   */
  async #checkNewBase(): Promise<void> {
    const manifest = this.#inspect().manifest;
    const baseName = manifest.base!.fileName;
    // The tracker learnt the base's units when the done handler logged (#baseInstalled).
    const units = this.#t.baseUnits(baseName);
    if (units === undefined) throw new Error(`no record of the units in the new base ${baseName}`);
    const nowMs = this.clock.nowMs();
    const expected = await this.#m.dumpAfter(units, nowMs);
    const actual = await loadBaseAlone(
      baseName,
      this.fs.fileContent(`${AOF_DIR}/${baseName}`),
      this.#options.databases,
      nowMs,
    );
    this.figures.basesChecked++;
    const diff = diffDumps(expected, actual);
    if (diff !== null) {
      throw new Error(
        `the new base ${baseName} is not the dataset of its rewrite's start (${units} units)\n` +
          `${diff}`,
      );
    }
  }

  /** A request not part of the model's history: it changes no data and propagates nothing. */
  #submitRewrite(how: RewriteRequest): Promise<Settled> {
    const before = { switches: this.#t.switches, end: this.#streamEndBytes() };
    const handle = this.#handles[0]!;
    const reply =
      how === 'scheduled'
        ? settle(handle.multi().command('bgrewriteaof').exec())
        : settle(handle.command('bgrewriteaof'));
    // A switch moves the stream to a new file; otherwise nothing may have been appended.
    if (this.#t.switches === before.switches && this.#streamEndBytes() !== before.end) {
      throw new Error(`BGREWRITEAOF (${how}) appended to the AOF stream`);
    }
    return reply;
  }

  #logRewriteReply(how: RewriteRequest, reply: Settled): void {
    this.log(`BGREWRITEAOF (${how}) -> ${clip(replyText(reply))}`);
  }

  #fileNameOf(path: string): string {
    return path.slice(path.lastIndexOf('/') + 1);
  }

  #isWrite(unit: Unit): boolean {
    const commands = unit.kind === 'command' ? [unit.command] : unit.commands;
    const table = this.machine.engine.server.table;
    return commands.some(
      (c) => table.get(String(c[0]).toLowerCase())?.flags.includes('write') === true,
    );
  }

  /** Bytes in the INCR file plus bytes still in aof_buf: where the propagated stream ends now. */
  #streamEndBytes(): number {
    const writer = this.#inspect().writer;
    return writer.incrSizeBytes + writer.bufferedBytes;
  }

  #account(
    unit: Unit,
    refused: boolean,
    index: number,
    reply: Settled,
    ack: AckContext,
  ): UnitOutcome {
    const text = `${describeUnit(unit)} -> ${clip(replyText(reply))}`;
    const code = reply.ok ? null : (reply.error as { code?: string }).code;
    if (refused) {
      this.figures.unitsRefused++;
      this.log(`refused ${text}`);
      // A transaction is refused as a whole: EXECABORT, never a bare MISCONF that would leave
      // its client in MULTI. A fatal stop in the same turn rejects every reply.
      const expected = unit.kind === 'multi' ? 'EXECABORT' : 'MISCONF';
      if (code !== expected && code !== 'ERR_ENGINE_FATAL') {
        throw new Error(
          `a write while the AOF is in error must be refused with ${expected}: ${text}`,
        );
      }
      return 'refused';
    }
    this.figures.unitsExecuted++;
    if (!reply.ok && reply.error instanceof EngineError) {
      if (reply.error.code !== 'ERR_ENGINE_FATAL')
        throw new Error(`unexpected engine error: ${text}`);
      if (!ack.always) throw new Error(`only appendfsync always may stop the engine: ${text}`);
      this.figures.unitsLostToFatal++;
      this.log(`#${index} not acknowledged (fatal) ${text}`);
      return 'fatal';
    }
    this.figures.unitsAcked++;
    this.#t.recordAck(index, ack.always, ack.aofState);
    this.log(`#${index} ${text}`);
    return 'acked';
  }

  #compareReply(unit: Unit, real: Settled, model: Settled): void {
    if (!real.ok && real.error instanceof EngineError) return; // stopped: no reply to compare
    const realText = replyText(real);
    const modelText = replyText(model);
    if (realText !== modelText) {
      throw new Error(
        `reply differs from the model for ${describeUnit(unit)}: ` +
          `engine ${realText}, model ${modelText}`,
      );
    }
  }

  /** The running engine must equal the model at all times (no crash involved). */
  checkLockstep(): void {
    if (this.stopped) return;
    const nowMs = this.clock.nowMs();
    const diff = diffDumps(this.#m.dump(nowMs), dumpKeyspace(this.machine.engine, nowMs));
    this.figures.stateChecks++;
    if (diff !== null)
      throw new Error(`the running engine diverged from the model (no crash involved)\n${diff}`);
  }

  // ---- runtime configuration and DEBUG LOADAOF --------------------------------------------------

  /**
   * CONFIG SET at runtime, alone or inside MULTI (EXEC runs it with in_exec set: appendonly yes
   * is then only scheduled). Checks what Redis promises: appendonly no cannot fail; appendonly
   * yes may only fail to start its rewrite ("Unable to turn on AOF"), and clears both error
   * statuses when it succeeds.
   */
  async configSet(name: RuntimeOption, value: string, inMulti: boolean): Promise<void> {
    if (this.stopped) return;
    const handle = this.machine.engine.db(0);
    const before = this.#inspect().state;
    const reply = await settle(
      inMulti
        ? handle.multi().command('config', 'set', name, value).exec().then(firstOfExec)
        : handle.command('config', 'set', name, value),
    );
    this.log(
      `CONFIG SET ${name} ${value}${inMulti ? ' (in MULTI)' : ''} -> ${clip(replyText(reply))}`,
    );
    if (this.stopped) return; // the forced flush of appendonly no failed under always: fatal
    if (!reply.ok) {
      const message = (reply.error as Error).message;
      if (name === 'appendonly' && value === 'yes' && message.includes('Unable to turn on AOF')) {
        this.figures.toggleRefused++;
        return;
      }
      throw new Error(`CONFIG SET ${name} ${value} must not fail: ${message}`);
    }
    this.figures.configSets++;
    if (name === 'appendfsync') this.policy = value as FsyncPolicy;
    if (name === 'aof-use-rdb-preamble') this.#rdbPreamble = value === 'yes';
    if (name === 'appendonly' && value === 'yes' && before === 'off' && !inMulti) {
      const status = this.#inspect().writer.writeStatus;
      if (status.kind !== 'ok' || !this.machine.bio.fsyncStatus().ok) {
        throw new Error(
          'after CONFIG SET appendonly yes writes are still refused (Redis clears both statuses)',
        );
      }
    }
  }

  /** The AOF state now (off / on / wait-rewrite / ...), for the simulator's choices. */
  get aofState(): AofInspection['state'] {
    return this.#inspect().state;
  }

  /**
   * DEBUG LOADAOF, with actions at the load's pauses (`act` per pause): the cron, commands that
   * must answer LOADING, a CONFIG SET allowed while loading, or close(). A reload that completes
   * is judged like a recovery without a crash: a prefix of the history no shorter than the floor,
   * and, when the AOF was ON, every unit.
   */
  async debugLoadAof(rng: Prng, act: number): Promise<ReloadOutcome> {
    if (this.stopped) return 'refused';
    const machine = this.machine;
    const before = this.#inspect().state;
    const contentBefore = this.#incrContents();
    let closing: Promise<Settled> | null = null;
    machine.onLoadPause = async () => {
      if (closing !== null || !rng.chance(act)) return;
      if (rng.chance(0.15)) {
        this.log('close() while loading');
        closing = settle(machine.engine.close());
        return;
      }
      await this.#actWhileLoading(rng);
    };
    const loaded = await settle(machine.engine.debugLoadAof());
    machine.onLoadPause = null;
    this.log(`DEBUG LOADAOF (${before}) -> ${clip(replyText(loaded))}`);
    if (closing !== null) {
      if (loaded.ok || (loaded.error as { code?: string }).code !== 'ERR_ENGINE_CLOSED') {
        throw new Error(`close() during DEBUG LOADAOF did not stop the load: ${replyText(loaded)}`);
      }
      await this.#closed(await closing, before, true);
      return 'closed';
    }
    if (!loaded.ok) return this.#reloadFailed(loaded.error);
    this.figures.reloads++;
    await this.#judgeReload(before, contentBefore);
    return 'loaded';
  }

  /** One action at a pause of DEBUG LOADAOF; the AOF must behave as Redis does while loading. */
  async #actWhileLoading(rng: Prng): Promise<void> {
    const handle = this.machine.engine.db(0);
    const roll = rng.nextFloat();
    if (roll < 0.3) {
      this.machine.tick();
      this.log('tick while loading');
      return;
    }
    const [command, expectLoading]: [string[], boolean] =
      roll < 0.5
        ? [['config', 'set', 'appendonly', rng.chance(0.5) ? 'yes' : 'no'], true]
        : roll < 0.65
          ? [['bgrewriteaof'], true]
          : roll < 0.85
            ? [['set', 'while-loading', '1'], true]
            : [['config', 'set', 'appendfsync', rng.pick(['always', 'everysec', 'no'])], false];
    const reply = await settle(handle.command(command[0]!, ...command.slice(1)));
    this.log(`while loading: ${command.join(' ')} -> ${clip(replyText(reply))}`);
    const loadingError = !reply.ok && (reply.error as Error).message.startsWith('LOADING ');
    if (expectLoading !== loadingError) {
      throw new Error(`while loading, ${command.join(' ')} answered ${replyText(reply)}`);
    }
    if (!expectLoading) this.policy = command[3] as FsyncPolicy;
  }

  /** DEBUG LOADAOF failed: refused (nothing changed) or a failed load (the engine stopped). */
  #reloadFailed(error: unknown): ReloadOutcome {
    const code = (error as { code?: string }).code;
    if (!(error instanceof EngineError))
      throw new Error(`DEBUG LOADAOF failed untyped: ${String(error)}`);
    if (code === 'ERR_AOF_WRITE' || code === 'ERR_AOF_MANIFEST' || code === 'ERR_NOT_SUPPORTED')
      return 'refused';
    if (!this.stopped) throw new Error(`DEBUG LOADAOF failed (${code}) but the engine runs on`);
    return 'fatal';
  }

  /** The visible bytes of every INCR the manifest names now. */
  #incrContents(): Map<string, Buffer> {
    const names = this.#inspect().manifest.incrList.map((f) => f.fileName);
    return new Map(names.map((name) => [name, this.fs.fileContent(`${AOF_DIR}/${name}`)]));
  }

  async #judgeReload(
    before: AofInspection['state'],
    contentBefore: Map<string, Buffer>,
  ): Promise<void> {
    const view = this.#inspect();
    const incrFiles = view.manifest.incrList.map((f) => f.fileName);
    const files = new Map<string, FileEvidence>();
    for (const name of incrFiles) {
      const after = this.fs.fileContent(`${AOF_DIR}/${name}`);
      const earlier = contentBefore.get(name);
      // Without a crash the file is what was written, minus a torn tail the loader cut.
      const written = earlier !== undefined && earlier.length > after.length ? earlier : after;
      files.set(name, {
        intended: written,
        survived: written,
        loadedBytes: after.length,
        loadedCommandsEnd: scanAof(after).lastCommandEnd,
      });
    }
    const verdict = judgeRecovery(this.#t, {
      baseFile: view.manifest.base?.fileName ?? null,
      incrFiles,
      files,
    });
    this.log(`reloaded: ${JSON.stringify({ ...verdict, files: undefined })}`);
    if (verdict.kind === 'prefix' && before === 'on' && verdict.units !== this.#t.units) {
      throw new Error(
        `DEBUG LOADAOF with the AOF on loaded ${verdict.units} of ${this.#t.units} units`,
      );
    }
    await this.#settleVerdict(verdict);
    // Same files, same durability: the tracker goes on, without the units the reload dropped.
    if (!this.lineageEnded && verdict.kind === 'prefix') this.#t.rollbackTo(verdict.units);
  }

  // ---- machines -------------------------------------------------------------------------------

  /**
   * Opens a machine and checks the directory lock: the lock file on disk is the new engine's, no
   * temp or claim file of the lock is left, and a lock that survived the last crash (its holder
   * died with it) was taken over.
   */
  async #open(): Promise<SimMachine> {
    const before = this.#lockNonceOnDisk();
    const injectedBefore = this.fs.injectedCount;
    const machine = await this.#openMachine();
    const held = machine.engine.dirLock;
    const onDisk = this.#lockNonceOnDisk();
    if (held === null || onDisk !== held.record.nonce) {
      throw new Error(`after the open the lock file holds ${onDisk}, not the engine's lock`);
    }
    // A failed unlink of a temp or claim file only leaves a harmless entry (the next holder
    // removes it): checked when no fault hit the open.
    const leftovers = this.fs.readdir(DATA_DIR).filter((n) => n.startsWith(`${LOCK_NAME}.`));
    if (leftovers.length > 0 && this.fs.injectedCount === injectedBefore)
      throw new Error(`the open left lock files: ${leftovers.join(', ')}`);
    if (before !== null) {
      this.figures.lockTakeovers++;
      this.log('took over the lock of the crashed process');
    }
    return machine;
  }

  /** The nonce of the lock file on disk; null when there is none ('?' when unreadable). */
  #lockNonceOnDisk(): string | null {
    const lockPath = `${DATA_DIR}/${LOCK_NAME}`;
    if (this.fs.stat(lockPath) === null) return null;
    try {
      return (JSON.parse(this.fs.fileContent(lockPath).toString()) as { nonce: string }).nonce;
    } catch {
      return '?';
    }
  }

  /**
   * A second engine opens the directory while this one runs (another process, or a second
   * openEngine): it must be refused at once, and change no file of the AOF.
   */
  async secondOpen(): Promise<void> {
    const opened = await settle(
      openEngine({ fs: this.fs, clock: this.clock, dir: DATA_DIR, autoCron: false }),
    );
    if (opened.ok) {
      await (opened.value as { close(): Promise<void> }).close().catch(() => {});
      throw new Error('a second engine opened the directory while the first one runs');
    }
    const code = (opened.error as { code?: string }).code;
    if (
      !(opened.error instanceof EngineError) ||
      !['ERR_DIR_LOCKED', 'ERR_AOF_OPEN'].includes(code!)
    )
      throw new Error(`the second opener failed with an untyped error: ${replyText(opened)}`);
    this.figures.secondOpensRefused++;
    this.log(`second opener refused (${code})`);
  }

  /**
   * engine.waitAof() between turns: every unit executed so far was acknowledged (or refused,
   * which the tracker does not count). Once it resolves, those units are durable under every
   * policy: the tracker's floor rises to them, and every later crash must keep them. Resolutions
   * after this process died, or after a reload rewrote the history, are not counted. A
   * rejection must be typed.
   */
  startWaitAof(): void {
    const machine = this.machine;
    const tracker = this.#t;
    const units = tracker.units;
    const reloads = this.figures.reloads;
    this.figures.waitAofCalls++;
    this.log(`waitAof() for ${units} units`);
    machine.engine.waitAof().then(
      () => {
        if (this.#machine !== machine || this.#tracker !== tracker) return;
        if (this.figures.reloads !== reloads) return;
        tracker.markDurableThrough(units);
        this.figures.waitAofResolved++;
        this.log(`waitAof() resolved: ${units} units durable`);
      },
      (error: unknown) => {
        const code = (error as { code?: string }).code ?? '';
        const allowed = [
          'ERR_AOF_FSYNC',
          'ERR_AOF_WRITE',
          'ERR_AOF_DISABLED',
          'ERR_ENGINE_FATAL',
          'ERR_ENGINE_CLOSED',
        ];
        if (!(error instanceof EngineError) || !allowed.includes(code)) {
          this.#violation ??= `waitAof() rejected with an untyped error: ${String(error)}`;
          return;
        }
        this.figures.waitAofRejected++;
        if (this.#machine === machine) this.log(`waitAof() rejected (${code})`);
      },
    );
  }

  async #openMachine(): Promise<SimMachine> {
    const o = this.#options;
    return openSimMachine({
      fs: this.fs,
      clock: this.clock,
      exactFsync: o.exactFsync,
      appendfsync: this.policy,
      aofLoadTruncated: true,
      aofLoadCorruptTailMaxSize: o.corruptTailMaxBytes ?? 0,
      logger: (_level, message) => {
        if (message.startsWith('!!! Warning: corrupt tail')) {
          this.figures.corruptTailsCut++;
          this.log(message);
        }
      },
      aofTimestampEnabled: o.timestamps,
      databases: o.databases,
      autoAofRewritePercentage: o.autoRewrite?.percentage ?? 0,
      ...(o.autoRewrite !== undefined ? { autoAofRewriteMinSize: o.autoRewrite.minSizeBytes } : {}),
      ...(this.#rdbPreamble !== undefined ? { aofUseRdbPreamble: this.#rdbPreamble } : {}),
      ...(o.sliceEntries !== undefined ? { sliceEntries: o.sliceEntries } : {}),
      ...(o.loadPauseEvery !== undefined ? { loadPauseEvery: o.loadPauseEvery } : {}),
      ...(o.rewriteSink !== undefined ? { rewriteSink: o.rewriteSink } : {}),
    });
  }

  #adopt(machine: SimMachine): void {
    this.#machine = machine;
    this.#handles = handlesOf(machine.engine);
    this.#fatalSeen = false;
    this.#openTransactions = [];
    this.#rewriteStartUnits = null;
    machine.engine.on('fatal', () => {
      if (this.#machine === machine) this.#fatalSeen = true;
    });
  }

  /**
   * The file-system observer (every call, in order): after a fatal stop, no call may change the
   * AOF directory. Redis exits there; a dead process writes nothing.
   */
  onFsOp(event: SimFsOpEvent): void {
    if (
      event.op === 'rename' &&
      event.errorCode === undefined &&
      event.path?.endsWith('/temp-appendonly.aof.incr') === true
    ) {
      this.#tracker?.tempIncrRenamed('temp-appendonly.aof.incr', this.#fileNameOf(event.dest!));
    }
    if (
      event.op === 'rename' &&
      event.errorCode === undefined &&
      event.path?.includes('/temp-rewriteaof-bg-') === true &&
      this.#rewriteStartUnits !== null
    ) {
      // The base holds the dataset at its rewrite's start, whatever becomes of its done handler.
      this.#tracker?.baseWritten(this.#fileNameOf(event.dest!), this.#rewriteStartUnits);
    }
    if (!this.#fatalSeen || event.errorCode !== undefined || this.#violation !== null) return;
    if (
      !MUTATING_OPS.has(event.op) ||
      !`${event.path ?? ''} ${event.dest ?? ''}`.includes(`${AOF_DIR}/`)
    )
      return;
    // Recorded, not thrown: an exception here would surface inside the engine as a failed call.
    this.#violation =
      `after the fatal stop the engine still changed the AOF: ${event.op} ` + `${event.path}`;
  }

  /** Throws what onFsOp recorded (called by the simulator after every step). */
  assertNoViolation(): void {
    if (this.#violation !== null) throw new Error(this.#violation);
  }

  /**
   * A new tracker for the engine as it is now, whose manifest lists `files` (INCRs, in order)
   * holding `units` units: after a start, a recovery or a DEBUG LOADAOF.
   */
  #beginIncarnation(files: readonly IncarnationFile[], units = this.#m.length): void {
    const machine = this.machine;
    const view = this.#inspect();
    // While the AOF is off or waits for its first rewrite, the writer feeds no file of the
    // manifest.
    const appending = view.state === 'on' || view.state === 'loading';
    const last = files[files.length - 1];
    let fd = -1;
    let commandsEnd = 0;
    if (appending) {
      const path = machine.currentIncrPath();
      if (last === undefined || last.fileName !== this.#fileNameOf(path)) {
        throw new Error(
          `the engine appends to ${path}, not to the last INCR of its manifest (${last?.fileName})`,
        );
      }
      fd = view.writer.fd;
      commandsEnd = scanAof(this.fs.fileContent(path)).lastCommandEnd;
    }
    const sized = files.map((f) => ({
      ...f,
      sizeBytes: this.fs.fileContent(`${AOF_DIR}/${f.fileName}`).length,
    }));
    if (!appending && last !== undefined) commandsEnd = sized[sized.length - 1]!.sizeBytes;
    const tracker = new DurabilityTracker(
      sized,
      units,
      fd,
      commandsEnd,
      view.manifest.base?.fileName ?? null,
    );
    const incarnation = ++this.#incarnation;
    const current = () => incarnation === this.#incarnation;
    const writer = () => inspectAof(machine.engine).writer;
    machine.onBioEvent = (event) => {
      if (current()) tracker.onBioEvent(event, () => writer().incrSizeBytes);
    };
    machine.onIncrSwitch = (event) => {
      if (!current()) return;
      const name = event.toPath === null ? null : this.#fileNameOf(event.toPath);
      this.log(
        `switch to ${name ?? 'no file (AOF off)'} (old INCR ends at ${event.fromSizeBytes}, ` +
          `${event.bufferedBytes} bytes buffered)`,
      );
      tracker.switchIncr(event.fromFd, event.fromSizeBytes, event.toFd, name, event.bufferedBytes);
    };
    machine.engine.on('log', (_level: string, message: string) => {
      if (current()) this.#onEngineLog(message);
    });
    this.#tracker = tracker;
  }

  #onEngineLog(message: string): void {
    const f = this.figures;
    if (message.startsWith('Background append only file rewriting started')) {
      f.rewritesStarted++;
      this.#rewriteStartUnits = this.#t.units;
    } else if (message.startsWith('Starting automatic rewriting')) f.rewritesAuto++;
    else if (message.startsWith('Background AOF rewrite finished successfully')) {
      f.rewritesCompleted++;
      this.#rewriteDone = true;
      this.#baseInstalled();
    } else if (message.startsWith('Background AOF rewrite failed')) f.rewritesFailed++;
    else if (message.startsWith("Can't open the append-only file for the rewrite"))
      f.rewritesStartFailed++;
    else if (message.startsWith("Can't start the AOF rewrite")) f.rewritesStartFailed++;
    else if (message.startsWith('Removing the temp incr aof file')) this.#t.firstRewriteAbandoned();
    else if (message.startsWith('Background AOF rewrite waits for the fsync')) f.presyncs++;
    else if (!/manifest|rewrite|AOF reopen|AOF was enabled/i.test(message)) return;
    this.log(`engine: ${message}`);
  }

  /**
   * A rewrite installed its base (logged synchronously at the end of its done handler): tell the
   * tracker which units the base holds and, for the first rewrite after appendonly yes, that its
   * temp INCR is now the manifest's INCR.
   */
  #baseInstalled(): void {
    const view = this.#inspect();
    const base = view.manifest.base!.fileName;
    const firstIncr = view.manifest.incrList[0];
    const temp = this.#t.currentFileName;
    const firstRewrite =
      temp?.startsWith('temp-') && firstIncr !== undefined
        ? { fromTemp: temp, toIncr: firstIncr.fileName }
        : null;
    const units =
      firstRewrite !== null
        ? this.#t.segment(temp!)!.startUnits
        : firstIncr !== undefined
          ? this.#t.segment(firstIncr.fileName)?.startUnits
          : undefined;
    const baseUnits = units ?? this.#rewriteStartUnits;
    if (baseUnits === null) throw new Error(`no record of the units in the new base ${base}`);
    this.#t.baseInstalled(base, baseUnits, firstRewrite);
  }

  // ---- crash and recovery ---------------------------------------------------------------------

  /** Power loss, then a new process on the same disk; judge what it recovered. */
  async crashAndRecover(rng: Prng, crash: SimCrashOptions, reason: string): Promise<Verdict> {
    this.crash(rng, crash, reason);
    if (rng.chance(this.#options.badArityProbability ?? 0)) this.injectBadArity();
    return this.recover();
  }

  /**
   * Power loss: the process is gone (its engine is abandoned, not closed) and the disk keeps what
   * the crash model lets it keep. Crashing again before recover() (a start-up that failed) keeps
   * the first crash's record of what the engine had written.
   */
  crash(rng: Prng, crash: SimCrashOptions, reason: string): void {
    this.#options.muteFaults(true);
    // Every file of the AOF directory (test helpers: not file-system calls, never faulted).
    const filesNow = () =>
      this.fs.listAll().filter((f) => f.kind === 'file' && f.path.startsWith(`${AOF_DIR}/`));
    const names = [
      ...new Set([...this.#t.fileNames, ...filesNow().map((f) => this.#fileNameOf(f.path))]),
    ];
    const content = (name: string) => {
      const path = `${AOF_DIR}/${name}`;
      return filesNow().some((f) => f.path === path) ? this.fs.fileContent(path) : null;
    };
    const intended = new Map(
      names.map((name) => [name, this.#pending?.get(name)?.intended ?? content(name)]),
    );
    if (this.#machine !== null && this.rewriteInProgress) this.figures.crashesDuringRewrite++;
    this.#machine?.kill();
    this.#machine = null;
    this.#fatalSeen = false;
    const report = this.fs.crash(rng, crash);
    this.figures.crashes++;
    this.log(`CRASH (${reason}): ${JSON.stringify(report)}`);
    const survivedNames = [...new Set([...names, ...(this.#pending?.keys() ?? [])])];
    this.#pending = new Map(
      survivedNames.map((name) => [
        name,
        {
          intended: intended.get(name) ?? this.#pending?.get(name)?.intended ?? null,
          survived: content(name),
        },
      ]),
    );
  }

  /**
   * Appends a well-formed command with the wrong number of arguments to the last INCR of the
   * manifest on disk (a foreign writer, a bad tool): the next load must refuse it, naming the
   * file and the offset, instead of skipping it silently. Only when that file ends on a command.
   */
  injectBadArity(): void {
    if (this.#badArity !== null) return;
    const incr = [...this.#manifestIncrsOnDisk()].pop();
    if (incr === undefined) return;
    const path = `${AOF_DIR}/${incr}`;
    if (this.fs.stat(path) === null) return;
    const content = this.fs.fileContent(path);
    const scan = scanAof(content);
    // Not after zeros or garbage either: a corrupt tail (aof-load-corrupt-tail-max-size) may be
    // cut with everything after it, the injected command included.
    if (scan.lastCommandEnd !== content.length || scan.danglingMultiStart !== null) return;
    if (scan.malformed) return;
    const fd = this.fs.open(path, 'append');
    const bad = Buffer.from('*2\r\n$3\r\nSET\r\n$7\r\nonlykey\r\n');
    this.fs.write(fd, bad, 0, bad.length);
    this.fs.close(fd);
    this.#badArity = { file: incr, offset: content.length, sizeBefore: content.length };
    this.log(`appended SET with one argument to ${incr} at ${content.length}`);
  }

  /** The INCR files the manifest on disk lists, in order (a test read: not a file-system call). */
  #manifestIncrsOnDisk(): Set<string> {
    const text =
      this.fs.stat(MANIFEST_PATH) === null
        ? ''
        : this.fs.fileContent(MANIFEST_PATH).toString('latin1');
    return new Set([...text.matchAll(/^file (\S+) seq \d+ type i$/gm)].map((m) => m[1]!));
  }

  /**
   * Starts a new engine on the crashed disk and judges it. The open may throw (start-up faults).
   */
  async recover(): Promise<Verdict> {
    const pending = this.#pending;
    if (pending === null) throw new Error('recover() without a crash');
    const listedBeforeOpen = this.#manifestIncrsOnDisk();
    this.#adopt(await this.#reopen());
    if (this.#badArity !== null) {
      throw new Error(
        `the loader accepted SET with one ` +
          `argument in ${this.#badArity.file} at ${this.#badArity.offset}`,
      );
    }
    this.#pending = null;
    // The INCR files of the manifest the engine loaded (deleting history does not change them).
    const view = this.#inspect();
    const incrFiles = view.manifest.incrList.map((incr) => incr.fileName);
    if (incrFiles.length > 1) this.figures.recoveriesMultiIncr++;
    const lastPath = `${AOF_DIR}/${incrFiles[incrFiles.length - 1]}`;
    if (this.machine.currentIncrPath() !== lastPath) {
      throw new Error(
        `after the crash the engine appends to ${this.machine.currentIncrPath()}, not ${lastPath}`,
      );
    }
    await this.#repairDanglingMulti(lastPath);
    const files = new Map<string, FileEvidence>();
    for (const name of incrFiles) {
      const loaded = this.fs.fileContent(`${AOF_DIR}/${name}`);
      const record = pending.get(name);
      files.set(name, {
        intended: record?.intended ?? null,
        survived: record?.survived ?? null,
        loadedBytes: loaded.length,
        loadedCommandsEnd: scanAof(loaded).lastCommandEnd,
        // An INCR the manifest did not list before the open: the engine created it (empty).
        createdAtOpen: !listedBeforeOpen.has(name),
      });
    }
    const verdict = judgeRecovery(this.#t, {
      baseFile: view.manifest.base?.fileName ?? null,
      incrFiles,
      files,
    });
    const sizes = incrFiles.map(
      (name) => `${name} ${files.get(name)!.loadedBytes}/${files.get(name)!.intended?.length}`,
    );
    this.log(`recovered ${sizes.join(', ')}: ${JSON.stringify({ ...verdict, files: undefined })}`);
    await this.#settleVerdict(verdict);
    if (!this.lineageEnded && verdict.kind === 'prefix')
      this.#beginIncarnation(verdict.files, verdict.units);
    this.#options.muteFaults(false);
    return verdict;
  }

  /**
   * close(), on a disk that may still fail: it resolves (everything executed is durable, if the
   * AOF was ON or its first rewrite could be finished) or rejects with ERR_AOF_NOT_PERSISTED;
   * either way every file is closed. A fatal engine writes nothing (onFsOp checks).
   */
  async close(): Promise<void> {
    const stateBefore = this.#inspect().state;
    await this.#closed(await settle(this.machine.engine.close()), stateBefore);
  }

  /** Checks a settled close() and records what it made durable. */
  async #closed(
    closed: Settled,
    stateBefore: AofInspection['state'],
    loadAborted = false,
  ): Promise<void> {
    const leaked = this.fs.openFds();
    if (leaked.length > 0)
      throw new Error(`close() left files open: ${leaked.map((f) => f.path).join(', ')}`);
    if (!closed.ok) {
      const code = (closed.error as { code?: string }).code;
      if (!(closed.error instanceof EngineError) || code !== 'ERR_AOF_NOT_PERSISTED') {
        throw new Error(`close() failed with an untyped error: ${replyText(closed)}`);
      }
      this.figures.closesNotPersisted++;
      this.log(`close refused to promise durability: ${(closed.error as Error).message}`);
      return;
    }
    // Everything executed is in the files when the AOF was ON, or when close() finished the
    // first rewrite (not after a DEBUG LOADAOF it stopped half way: then nothing is rewritten).
    const durable = stateBefore === 'on' || (stateBefore === 'wait-rewrite' && !loadAborted);
    if (durable && !this.#fatalSeen) this.#t.markAllDurable();
    this.log(`close (${stateBefore})`);
  }

  /**
   * Shutdown, then a power loss and a restart. `faultsLive`: the disk keeps failing during
   * close() (so it may reject), else close runs on a healthy disk.
   */
  async cleanRestart(rng: Prng, crash: SimCrashOptions, faultsLive = false): Promise<Verdict> {
    if (!faultsLive) this.#options.muteFaults(true);
    await this.close();
    this.#options.muteFaults(true);
    this.figures.cleanRestarts++;
    return this.crashAndRecover(rng, crash, 'crash after close()');
  }

  /**
   * Opens the engine again, repairing what the loader refuses the way an operator would:
   * damaged framing (ERR_AOF_BAD_FORMAT) gets `check-aof --fix`; what check-aof cannot see, because
   * it checks the RESP framing only (like redis-check-aof) — an unknown command name made of torn
   * bytes, a command with the wrong number of arguments, or a frame the loader rejects and
   * check-aof accepts (`*0`) — gets the file cut by hand at the command start the error names. Each
   * repair is counted. A wrong-arity command injected on purpose must be refused exactly where it
   * is.
   */
  async #reopen(): Promise<SimMachine> {
    let fixedOffset: number | null = null;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#open();
      } catch (error) {
        if (!(error instanceof AofLoadError) || attempt > 4) throw error;
        const injected = this.#badArity;
        if (
          injected !== null &&
          error.code === 'ERR_AOF_BAD_ARITY' &&
          error.file === injected.file &&
          error.offset === injected.offset
        ) {
          this.log(
            `open refused the injected command (${error.code} at ${error.offset}): cut it off`,
          );
          this.figures.badArityRefused++;
          this.fs.truncate(`${AOF_DIR}/${error.file}`, injected.sizeBefore);
          this.#badArity = null;
        } else if (error.code === 'ERR_AOF_BAD_FORMAT' && fixedOffset !== error.offset) {
          this.log(`open refused (${error.code}): ${error.message}`);
          await this.#checkAofFix();
          fixedOffset = error.offset;
        } else if (
          error.code === 'ERR_AOF_UNKNOWN_COMMAND' ||
          error.code === 'ERR_AOF_BAD_ARITY' ||
          error.code === 'ERR_AOF_BAD_FORMAT'
        ) {
          this.log(
            `open refused (${error.code}) at ${error.offset}; check-aof cannot fix it: cut by hand`,
          );
          this.figures.manualRepairs++;
          this.fs.truncate(`${AOF_DIR}/${error.file}`, error.offset);
        } else {
          throw error;
        }
        this.#forgetRepairedInjection();
      }
    }
  }

  /** A repair that cut the injected file back to before the injected command removed it. */
  #forgetRepairedInjection(): void {
    const injected = this.#badArity;
    if (injected === null) return;
    const path = `${AOF_DIR}/${injected.file}`;
    if (this.fs.stat(path) === null || this.fs.fileContent(path).length <= injected.offset)
      this.#badArity = null;
  }

  async #checkAofFix(): Promise<void> {
    const output: string[] = [];
    const io = { out: (line: string) => void output.push(line), prompt: async () => 'y' };
    const exitCode = await checkAof(['--fix', MANIFEST_PATH], this.fs, io);
    this.figures.checkAofRepairs++;
    this.log(`check-aof --fix exit ${exitCode}: ${output.slice(-3).join(' | ')}`);
    if (exitCode !== 0) throw new Error(`check-aof --fix failed:\n${output.join('\n')}`);
  }

  /**
   * Regression check (test/regressions/crash-safety.test.ts): a load that cut a torn tail inside a
   * MULTI block must cut it back to before the MULTI. A `MULTI ...` left dangling at the end of the
   * file would swallow, and at the next load revert, every write appended after it.
   */
  async #repairDanglingMulti(path: string): Promise<void> {
    const multiStart = scanAof(this.fs.fileContent(path)).danglingMultiStart;
    if (multiStart === null) return;
    this.figures.knownBugDanglingMulti++;
    throw new Error(`the loader left a dangling MULTI at offset ${multiStart} of ${path}`);
  }

  async #settleVerdict(verdict: Verdict): Promise<void> {
    const nowMs = this.clock.nowMs();
    const loaded = dumpKeyspace(this.machine.engine, nowMs);
    this.figures.stateChecks++;
    if (verdict.kind === 'violation') {
      this.figures.ackedLostViolations++;
      throw new Error(`DURABILITY VIOLATION: ${verdict.message}`);
    }
    if (verdict.kind === 'prefix') {
      await this.#rollbackModel(verdict.units);
      const diff = diffDumps(this.#m.dump(nowMs), loaded);
      if (diff !== null) {
        throw new Error(
          `the recovered keyspace is not the model after ${verdict.units} units\n${diff}`,
        );
      }
      return;
    }
    // Foreign bytes (the floor was intact, or it would be a violation). Harmless when they decode
    // to what was written (only an unchecked CRLF was damaged); otherwise the keyspace is no prefix
    // at all. Either way the file now holds bytes that only the lenient loader accepts, so a later
    // check-aof --fix may cut back into them, below anything this lineage could promise: it ends
    // here (the simulator goes on with a fresh machine; see FAULTS.md).
    const candidate = verdict.candidateUnits;
    let harmless = false;
    if (candidate !== null && candidate >= verdict.floor) {
      await this.#rollbackModel(candidate);
      harmless = diffDumps(this.#m.dump(nowMs), loaded) === null;
    }
    if (harmless) this.figures.foreignBytesHarmless++;
    else this.figures.foreignBytesChangedData++;
    this.log(`foreign bytes loaded (${harmless ? 'same data' : 'data changed'}): lineage ends`);
    this.lineageEnded = true;
  }

  async #rollbackModel(units: number): Promise<void> {
    const dropped = this.#m.length - units;
    const ackedLost = this.#t.ackedFrom(units);
    this.figures.unitsRolledBack += dropped;
    this.figures.ackedLostAllowed += ackedLost;
    if (dropped > 0)
      this.log(
        `rolled back ${dropped} units (${ackedLost} acknowledged, allowed by ${this.policy})`,
      );
    await this.#m.rollbackTo(units);
  }
}

/** Loads one base file on its own, read-only, in a throwaway simulated directory; dumps it. */
async function loadBaseAlone(fileName: string, content: Buffer, databases: number, nowMs: number) {
  const fs = new SimFileSystem();
  fs.mkdir('/base/appendonlydir');
  const write = (path: string, data: Buffer) => {
    const fd = fs.open(path, 'write-truncate');
    fs.write(fd, data, 0, data.length);
    fs.close(fd);
  };
  write(`/base/appendonlydir/${fileName}`, content);
  write(
    '/base/appendonlydir/appendonly.aof.manifest',
    Buffer.from(`file ${fileName} seq 1 type b\n`),
  );
  const engine = await openEngine({
    dir: '/base',
    fs,
    databases,
    readOnly: true,
    autoCron: false,
    bio: new InlineBio({ fsync: () => {}, close: () => {} }),
  });
  try {
    return dumpKeyspace(engine, nowMs);
  } finally {
    await engine.close();
  }
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
