// Driver: one machine lineage under test — the engine on a simulated disk, the reference model
// that shadows it, and the durability tracker — and the operations the simulator and the
// fault-countdown suite perform on it: run a turn of units, tick the cron, crash and recover,
// close cleanly. Every recovery is judged (crash-check.ts) and the model is rolled back to the
// prefix that survived. Failed checks throw plain Errors; callers add the seed and the trace.

import type { DbHandle, FsyncPolicy } from '@aofkv/engine';
import { EngineError } from '@aofkv/engine';
import { AofLoadError } from '../../src/aof/aof-loader.ts';
import { checkAof } from '../../src/aof/check-aof.ts';
import type { Prng } from '../../src/testing/prng.ts';
import type { SimClock } from '../../src/testing/sim-clock.ts';
import type { SimCrashOptions, SimFileSystem } from '../../src/testing/sim-file-system.ts';
import { DurabilityTracker, judgeRecovery, scanAof, type Verdict } from './crash-check.ts';
import { diffDumps, dumpKeyspace } from './dump.ts';
import { ReferenceModel, handlesOf, replyText, settle, submitUnit, type Settled } from './model.ts';
import { AOF_DIR, MANIFEST_PATH, openSimMachine, type SimMachine } from './sim-machine.ts';
import { describeUnit, type Unit } from './workload.ts';

const TRACE_LINES = 60;

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
  };
}

export interface DriverOptions {
  fs: SimFileSystem;
  clock: SimClock;
  policy: FsyncPolicy;
  databases: number;
  timestamps: boolean;
  exactFsync: boolean;
  figures: DriverFigures;
  /** Called with true while recovering (faults belong to the running engine, not to recovery). */
  muteFaults: (muted: boolean) => void;
}

export type UnitOutcome = 'acked' | 'refused' | 'fatal';

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
  /** Between crash() and a successful recover(): the INCR file as written and as the crash left it. */
  #pending: { path: string; intended: Buffer; survived: Buffer } | null = null;

  constructor(options: DriverOptions) {
    this.#options = options;
    this.fs = options.fs;
    this.clock = options.clock;
    this.policy = options.policy;
    this.figures = options.figures;
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
    this.#beginIncarnation();
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
  async turn(units: readonly Unit[]): Promise<UnitOutcome[]> {
    const engine = this.machine.engine;
    if (engine.closed) throw new Error('turn on a stopped engine');
    const nowMs = this.clock.nowMs();
    // The gate only changes in beforeSleep, the cron or a bio job, never inside a turn.
    const denied = engine.aof!.deniedWriteError() !== null;
    const submitted = units.map((unit) => {
      const refused = denied && this.#isWrite(unit);
      const reply = settle(submitUnit(this.#handles, unit));
      const index = refused ? -1 : this.#t.recordUnit(this.#streamEndBytes());
      return { unit, refused, index, reply };
    });
    this.figures.unitsSubmitted += units.length;
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

  #isWrite(unit: Unit): boolean {
    const commands = unit.kind === 'command' ? [unit.command] : unit.commands;
    const table = this.machine.engine.server.table;
    return commands.some((c) => table.get(String(c[0]).toLowerCase())?.flags.includes('write') === true);
  }

  /** Bytes in the INCR file plus bytes still in aof_buf: where the propagated stream ends now. */
  #streamEndBytes(): number {
    const writer = this.machine.engine.aof!.writer;
    return writer.lastIncrSizeBytes + writer.buf.length;
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
      // The background rewrite is not a simulated action yet (FAULTS.md §6): keep it from
      // starting on its own, since the tracker follows a single INCR file per incarnation.
      autoAofRewritePercentage: 0,
    });
  }

  #adopt(machine: SimMachine): void {
    this.#machine = machine;
    this.#handles = handlesOf(machine.engine);
  }

  #beginIncarnation(): void {
    const machine = this.machine;
    const path = machine.currentIncrPath();
    const fileName = path.slice(path.lastIndexOf('/') + 1);
    const content = this.fs.fileContent(path);
    const { lastCommandEnd } = scanAof(content);
    const tracker = new DurabilityTracker(fileName, content.length, this.#m.length, lastCommandEnd);
    const writer = machine.engine.aof!.writer;
    const incarnation = ++this.#incarnation;
    machine.onBioEvent = (event) => {
      if (incarnation === this.#incarnation) tracker.onBioEvent(event, () => writer.lastIncrSizeBytes);
    };
    this.#tracker = tracker;
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
    const path = this.#pending?.path ?? this.machine.currentIncrPath();
    const intended = this.#pending?.intended ?? this.fs.fileContent(path);
    this.#machine = null;
    const report = this.fs.crash(rng, crash);
    this.figures.crashes++;
    this.log(`CRASH (${reason}): ${JSON.stringify(report)}`);
    this.#pending = { path, intended, survived: this.fs.fileContent(path) };
  }

  /** Starts a new engine on the crashed disk and judges it. The open may throw (start-up faults). */
  async recover(): Promise<Verdict> {
    const pending = this.#pending;
    if (pending === null) throw new Error('recover() without a crash');
    const { path, intended, survived } = pending;
    this.#adopt(await this.#reopen());
    this.#pending = null;
    if (this.machine.currentIncrPath() !== path) {
      throw new Error(`after the crash the engine appends to ${this.machine.currentIncrPath()}, not ${path}`);
    }
    await this.#repairDanglingMulti(path);
    const loadedBytes = this.fs.fileContent(path).length;
    const verdict = judgeRecovery(this.#t, this.policy, { intended, survived, loadedBytes });
    this.log(`recovered ${loadedBytes} of ${intended.length} bytes: ${JSON.stringify(verdict)}`);
    await this.#settleVerdict(verdict);
    if (!this.lineageEnded) this.#beginIncarnation();
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
        } else if (error.code === 'ERR_AOF_UNKNOWN_COMMAND' || error.code === 'ERR_AOF_BAD_FORMAT') {
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

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
