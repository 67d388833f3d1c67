// Driver: one machine lineage under test — the engine on a simulated disk, the reference model
// that shadows it, and the durability tracker — and the operations the simulator and the
// fault-countdown suite perform on it: run a turn of units, tick the cron, start a background
// rewrite and release its walk slice by slice, crash and recover, close cleanly. Every recovery is
// judged (crash-check.ts) against the INCR files of the manifest the engine loaded, and the model
// is rolled back to the prefix that survived. Failed checks throw plain Errors; callers add the
// seed and the trace.

import type { DbHandle, FsyncPolicy } from '@aofkv/engine';
import { EngineError, openEngine } from '@aofkv/engine';
import { InlineBio } from '@aofkv/bio-workers';
import { SimFileSystem } from '../../src/testing/sim-file-system.ts';
import { inspectAof, type AofInspection } from '@aofkv/engine/testing';
import { AofLoadError } from '../../src/aof/aof-loader.ts';
import { checkAof } from '../../src/aof/check-aof.ts';
import type { Prng } from '../../src/testing/prng.ts';
import type { SimClock } from '../../src/testing/sim-clock.ts';
import type { SimCrashOptions } from '../../src/testing/sim-file-system.ts';
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
import { AOF_DIR, MANIFEST_PATH, openSimMachine, type SimMachine } from './sim-machine.ts';
import { describeUnit, type Unit } from './workload.ts';

const TRACE_LINES = Number(process.env['SIM_TRACE_LINES'] ?? 60);

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
  /** Recoveries whose manifest listed more than one INCR file (a rewrite started and did not finish). */
  recoveriesMultiIncr: number;
  /** Completed rewrites whose new base, loaded alone, was compared with the model (point in time). */
  basesChecked: number;
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
  /** False while a completed rewrite's base must not be checked (a power cut killed the process). */
  checkBases?: () => boolean;
}

export type UnitOutcome = 'acked' | 'refused' | 'fatal';

/** How a rewrite is asked for: BGREWRITEAOF alone, riding in a turn of units, or MULTI-scheduled. */
export type RewriteRequest = 'command' | 'in-turn' | 'scheduled';

export class Driver {
  readonly fs: SimFileSystem;
  readonly clock: SimClock;
  readonly policy: FsyncPolicy;
  readonly figures: DriverFigures;
  readonly trace: string[] = [];
  /** Set when a recovery loaded bytes the engine never wrote: this lineage can't be judged further. */
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

  constructor(options: DriverOptions) {
    this.#options = options;
    this.fs = options.fs;
    this.clock = options.clock;
    this.policy = options.policy;
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
    this.trace.push(`[${this.clock.nowMs() - 1_700_000_000_000}ms] ${line}`);
    if (this.trace.length > TRACE_LINES) this.trace.shift();
  }

  // ---- turns ----------------------------------------------------------------------------------

  /**
   * Submits `units` together (one event-loop turn), waits for their replies, runs the executed
   * ones on the model and compares replies. Returns each unit's outcome.
   */
  async turn(units: readonly Unit[], rewriteAfter: number | null = null): Promise<UnitOutcome[]> {
    const engine = this.machine.engine;
    if (engine.closed) throw new Error('turn on a stopped engine');
    const nowMs = this.clock.nowMs();
    // The gate only changes in beforeSleep, the cron or a bio job, never inside a turn.
    let denied = engine.aof!.deniedWriteError() !== null;
    const rewrite: { reply: Promise<Settled> | null } = { reply: null };
    const submitted = units.map((unit, i) => {
      const refused = denied && this.#isWrite(unit);
      const reply = settle(submitUnit(this.#handles, unit));
      const index = refused ? -1 : this.#t.recordUnit(this.#streamEndBytes());
      if (rewriteAfter === i) {
        // BGREWRITEAOF in the same turn: its forced flush writes the units before it, then it
        // switches INCR files; the units after it go to the new INCR. The flush may set or clear
        // the write error, so the gate is read again.
        rewrite.reply = this.#submitRewrite('in-turn');
        denied = engine.aof!.deniedWriteError() !== null;
      }
      return { unit, refused, index, reply };
    });
    this.figures.unitsSubmitted += units.length;
    if (rewrite.reply !== null) this.#logRewriteReply('in-turn', await rewrite.reply);
    const real = await Promise.all(submitted.map((s) => s.reply));
    const executed = submitted.filter((s) => !s.refused);
    const model = await this.#m.apply(executed.map((s) => s.unit), nowMs);
    if (this.#m.length !== this.#t.units) {
      throw new Error(`model has ${this.#m.length} units, tracker ${this.#t.units}`);
    }
    executed.forEach((s, i) => this.#compareReply(s.unit, real[submitted.indexOf(s)]!, model[i]!));
    return submitted.map((s, i) => this.#account(s.unit, s.refused, s.index, real[i]!));
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
    this.log(`rewrite slice (${progress?.emittedKeys ?? 0}/${progress?.totalKeys ?? 0} keys before it)`);
    if (this.#rewriteDone && this.#options.checkBases?.() !== false) await this.#checkNewBase();
  }

  /**
   * The point-in-time guarantee of a completed rewrite: its base, loaded alone, is the dataset as
   * it was when the new INCR began, i.e. the model after that INCR's startUnits units.
   */
  async #checkNewBase(): Promise<void> {
    const manifest = this.#inspect().manifest;
    const baseName = manifest.base!.fileName;
    const firstIncr = manifest.incrList[0]!.fileName;
    const segment = this.#t.segment(firstIncr);
    if (segment === undefined) throw new Error(`the new base is followed by ${firstIncr}, which the writer never used`);
    const nowMs = this.clock.nowMs();
    const expected = await this.#m.dumpAfter(segment.startUnits, nowMs);
    const actual = await loadBaseAlone(baseName, this.fs.fileContent(`${AOF_DIR}/${baseName}`), this.#options.databases, nowMs);
    this.figures.basesChecked++;
    const diff = diffDumps(expected, actual);
    if (diff !== null) {
      throw new Error(`the new base ${baseName} is not the dataset when ${firstIncr} began (${segment.startUnits} units)\n${diff}`);
    }
  }

  /** A request not part of the model's history: it changes no data and propagates nothing. */
  #submitRewrite(how: RewriteRequest): Promise<Settled> {
    const before = { file: this.#t.currentFileName, end: this.#streamEndBytes() };
    const handle = this.#handles[0]!;
    const reply =
      how === 'scheduled'
        ? settle(handle.multi().command('bgrewriteaof').exec())
        : settle(handle.command('bgrewriteaof'));
    // A switch moves the stream to a new file; otherwise nothing may have been appended.
    if (this.#t.currentFileName === before.file && this.#streamEndBytes() !== before.end) {
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
    return commands.some((c) => table.get(String(c[0]).toLowerCase())?.flags.includes('write') === true);
  }

  /** Bytes in the INCR file plus bytes still in aof_buf: where the propagated stream ends now. */
  #streamEndBytes(): number {
    const writer = this.#inspect().writer;
    return writer.incrSizeBytes + writer.bufferedBytes;
  }

  #account(unit: Unit, refused: boolean, index: number, reply: Settled): UnitOutcome {
    const text = `${describeUnit(unit)} -> ${clip(replyText(reply))}`;
    if (refused) {
      this.figures.unitsRefused++;
      this.log(`refused ${text}`);
      const code = reply.ok ? null : (reply.error as { code?: string }).code;
      if (code !== 'MISCONF' && code !== 'EXECABORT') {
        throw new Error(`a write while the AOF is in error must be refused with MISCONF: ${text}`);
      }
      return 'refused';
    }
    this.figures.unitsExecuted++;
    if (!reply.ok && reply.error instanceof EngineError) {
      if (reply.error.code !== 'ERR_ENGINE_FATAL') throw new Error(`unexpected engine error: ${text}`);
      if (this.policy !== 'always') throw new Error(`only appendfsync always may stop the engine: ${text}`);
      this.figures.unitsLostToFatal++;
      this.log(`#${index} not acknowledged (fatal) ${text}`);
      return 'fatal';
    }
    this.figures.unitsAcked++;
    this.#t.recordAck(index);
    this.log(`#${index} ${text}`);
    return 'acked';
  }

  #compareReply(unit: Unit, real: Settled, model: Settled): void {
    if (!real.ok && real.error instanceof EngineError) return; // stopped: no reply to compare
    const realText = replyText(real);
    const modelText = replyText(model);
    if (realText !== modelText) {
      throw new Error(`reply differs from the model for ${describeUnit(unit)}: engine ${realText}, model ${modelText}`);
    }
  }

  /** The running engine must equal the model at all times (no crash involved). */
  checkLockstep(): void {
    if (this.stopped) return;
    const nowMs = this.clock.nowMs();
    const diff = diffDumps(this.#m.dump(nowMs), dumpKeyspace(this.machine.engine, nowMs));
    this.figures.stateChecks++;
    if (diff !== null) throw new Error(`the running engine diverged from the model (no crash involved)\n${diff}`);
  }

  // ---- machines -------------------------------------------------------------------------------

  async #open(): Promise<SimMachine> {
    return openSimMachine({
      fs: this.fs,
      clock: this.clock,
      exactFsync: this.#options.exactFsync,
      appendfsync: this.policy,
      aofLoadTruncated: true,
      aofTimestampEnabled: this.#options.timestamps,
      databases: this.#options.databases,
      autoAofRewritePercentage: this.#options.autoRewrite?.percentage ?? 0,
      ...(this.#options.autoRewrite !== undefined ? { autoAofRewriteMinSize: this.#options.autoRewrite.minSizeBytes } : {}),
      ...(this.#options.rdbPreamble !== undefined ? { aofUseRdbPreamble: this.#options.rdbPreamble } : {}),
      ...(this.#options.sliceEntries !== undefined ? { sliceEntries: this.#options.sliceEntries } : {}),
    });
  }

  #adopt(machine: SimMachine): void {
    this.#machine = machine;
    this.#handles = handlesOf(machine.engine);
  }

  /** A new tracker for the machine just opened, whose manifest lists `files` (INCRs, in order). */
  #beginIncarnation(files: readonly IncarnationFile[]): void {
    const machine = this.machine;
    const path = machine.currentIncrPath();
    const last = files[files.length - 1];
    if (last === undefined || last.fileName !== this.#fileNameOf(path)) {
      throw new Error(`the engine appends to ${path}, not to the last INCR of its manifest (${last?.fileName})`);
    }
    const content = this.fs.fileContent(path);
    const { lastCommandEnd } = scanAof(content);
    const writer = () => inspectAof(machine.engine).writer;
    const tracker = new DurabilityTracker(
      files.map((f, i) => (i === files.length - 1 ? { ...f, sizeBytes: content.length } : f)),
      this.#m.length,
      writer().fd,
      lastCommandEnd,
    );
    const incarnation = ++this.#incarnation;
    const current = () => incarnation === this.#incarnation;
    machine.onBioEvent = (event) => {
      if (current()) tracker.onBioEvent(event, () => writer().incrSizeBytes);
    };
    machine.onIncrSwitch = (event) => {
      if (!current()) return;
      if (event.toPath === null) throw new Error('the AOF was turned off');
      const name = this.#fileNameOf(event.toPath);
      this.log(`switch to ${name} (old INCR ends at ${event.fromSizeBytes}, ${event.bufferedBytes} bytes buffered)`);
      tracker.switchIncr(event.fromFd, event.fromSizeBytes, event.toFd, name, event.bufferedBytes);
    };
    machine.engine.on('log', (_level: string, message: string) => {
      if (current()) this.#onEngineLog(message);
    });
    this.#tracker = tracker;
  }

  #onEngineLog(message: string): void {
    const f = this.figures;
    if (message.startsWith('Background append only file rewriting started')) f.rewritesStarted++;
    else if (message.startsWith('Starting automatic rewriting')) f.rewritesAuto++;
    else if (message.startsWith('Background AOF rewrite finished successfully')) {
      f.rewritesCompleted++;
      this.#rewriteDone = true;
    }
    else if (message.startsWith('Background AOF rewrite failed')) f.rewritesFailed++;
    else if (message.startsWith("Can't open the append-only file for the rewrite")) f.rewritesStartFailed++;
    else if (message.startsWith("Can't start the AOF rewrite")) f.rewritesStartFailed++;
    else if (!/manifest|rewrite/i.test(message)) return;
    this.log(`engine: ${message}`);
  }

  // ---- crash and recovery ---------------------------------------------------------------------

  /** Power loss, then a new process on the same disk; judge what it recovered. */
  async crashAndRecover(rng: Prng, crash: SimCrashOptions, reason: string): Promise<Verdict> {
    this.crash(rng, crash, reason);
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
    const filesNow = () => this.fs.listAll().filter((f) => f.kind === 'file' && f.path.startsWith(`${AOF_DIR}/`));
    const names = [...new Set([...this.#t.fileNames, ...filesNow().map((f) => this.#fileNameOf(f.path))])];
    const content = (name: string) => {
      const path = `${AOF_DIR}/${name}`;
      return filesNow().some((f) => f.path === path) ? this.fs.fileContent(path) : null;
    };
    const intended = new Map(names.map((name) => [name, this.#pending?.get(name)?.intended ?? content(name)]));
    if (this.#machine !== null && this.rewriteInProgress) this.figures.crashesDuringRewrite++;
    this.#machine = null;
    const report = this.fs.crash(rng, crash);
    this.figures.crashes++;
    this.log(`CRASH (${reason}): ${JSON.stringify(report)}`);
    const survivedNames = [...new Set([...names, ...(this.#pending?.keys() ?? [])])];
    this.#pending = new Map(
      survivedNames.map((name) => [name, { intended: intended.get(name) ?? this.#pending?.get(name)?.intended ?? null, survived: content(name) }]),
    );
  }

  /** Starts a new engine on the crashed disk and judges it. The open may throw (start-up faults). */
  async recover(): Promise<Verdict> {
    const pending = this.#pending;
    if (pending === null) throw new Error('recover() without a crash');
    this.#adopt(await this.#reopen());
    this.#pending = null;
    // The INCR files of the manifest the engine loaded (deleting history does not change them).
    const incrFiles = this.#inspect().manifest.incrList.map((incr) => incr.fileName);
    if (incrFiles.length > 1) this.figures.recoveriesMultiIncr++;
    const lastPath = `${AOF_DIR}/${incrFiles[incrFiles.length - 1]}`;
    if (this.machine.currentIncrPath() !== lastPath) {
      throw new Error(`after the crash the engine appends to ${this.machine.currentIncrPath()}, not ${lastPath}`);
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
      });
    }
    const verdict = judgeRecovery(this.#t, this.policy, { incrFiles, files });
    const sizes = incrFiles.map((name) => `${name} ${files.get(name)!.loadedBytes}/${files.get(name)!.intended?.length}`);
    this.log(`recovered ${sizes.join(', ')}: ${JSON.stringify({ ...verdict, files: undefined })}`);
    await this.#settleVerdict(verdict);
    if (!this.lineageEnded && verdict.kind === 'prefix') this.#beginIncarnation(verdict.files);
    this.#options.muteFaults(false);
    return verdict;
  }

  /** close(): flushes and fsyncs, so from now on not even a crash may lose a unit. May throw. */
  async close(): Promise<void> {
    await this.machine.engine.close();
    this.#t.markAllDurable();
    this.log('clean close');
  }

  /** Shutdown on a healthy disk: close flushes and fsyncs, so not even a crash may lose a unit. */
  async cleanRestart(rng: Prng, crash: SimCrashOptions): Promise<Verdict> {
    this.#options.muteFaults(true);
    await this.close();
    this.figures.cleanRestarts++;
    return this.crashAndRecover(rng, crash, 'crash after a clean close');
  }

  /**
   * Opens the engine again, repairing what the loader refuses the way an operator would:
   * damaged framing (ERR_AOF_BAD_FORMAT) gets `check-aof --fix`; what check-aof cannot see, because
   * it checks the RESP framing only (like redis-check-aof) — an unknown command name made of torn
   * bytes, or a frame the loader rejects and check-aof accepts (`*0`) — gets the file cut by hand
   * at the command start the error names. Each repair is counted.
   */
  async #reopen(): Promise<SimMachine> {
    let fixedOffset: number | null = null;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#open();
      } catch (error) {
        if (!(error instanceof AofLoadError) || attempt > 4) throw error;
        if (error.code === 'ERR_AOF_BAD_FORMAT' && fixedOffset !== error.offset) {
          this.log(`open refused (${error.code}): ${error.message}`);
          await this.#checkAofFix();
          fixedOffset = error.offset;
        } else if (
          error.code === 'ERR_AOF_UNKNOWN_COMMAND' ||
          error.code === 'ERR_AOF_BAD_ARITY' ||
          error.code === 'ERR_AOF_BAD_FORMAT'
        ) {
          this.log(`open refused (${error.code}) at ${error.offset}; check-aof cannot fix it: cut by hand`);
          this.figures.manualRepairs++;
          this.fs.truncate(`${AOF_DIR}/${error.file}`, error.offset);
        } else {
          throw error;
        }
      }
    }
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
        throw new Error(`the recovered keyspace is not the model after ${verdict.units} units\n${diff}`);
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
    if (dropped > 0) this.log(`rolled back ${dropped} units (${ackedLost} acknowledged, allowed by ${this.policy})`);
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
  write('/base/appendonlydir/appendonly.aof.manifest', Buffer.from(`file ${fileName} seq 1 type b\n`));
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
