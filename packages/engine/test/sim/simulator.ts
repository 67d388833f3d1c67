// DESIGN: the crash-safety simulator (after TigerBeetle's VOPR and SQLite's crash VFS tests).
//
// One seed = one run of a simulated machine: an engine on SimFileSystem + SimClock + InlineBio
// (sim-machine.ts: openSimEngine's world), a seeded workload (workload.ts) and a reference model
// (model.ts), driven through driver.ts. Everything is derived from the seed, so `SEED=<n>`
// replays a run exactly.
//
// Swarm testing: each seed first draws its own configuration (SwarmConfig): the fsync policy, the
// crash model (keep / torn / garbage probabilities, write ordering, directory-op survival), which
// faults the disk injects and how often (short writes, ENOSPC, EIO on write, EIO on fdatasync,
// EIO on ftruncate), how slow background fsyncs are (InlineBio jobs held "running" across turns),
// and how often the cron ticks and the machine crashes. Different seeds stress different corners,
// instead of every run averaging the same mix.
//
// A step: move the clock 0–700 ms; then either run a TURN (1–3 units submitted together, so they
// share one event-loop turn: one write, one fsync under always), or CRASH, or do a CLEAN RESTART;
// maybe tick the cron; maybe start or finish a background fsync. A unit the engine refuses (MISCONF
// after a disk error) is not executed and not part of the history; a unit whose turn ended in a
// fatal error (always) was executed in memory but never acknowledged. Replies of executed units are
// compared with the model's as they happen.
//
// A crash: remember the INCR file as written, crash the SimFileSystem (un-synced writes kept, torn
// or dropped; un-synced names lost), reopen a new engine on the same disk with aof-load-truncated
// (running `check-aof --fix` first if the engine refuses a file whose damage is not a clean torn
// tail, as an operator would), then judge (crash-check.ts): the recovered keyspace must equal the
// model after some prefix of the history that contains every unit the policy guarantees. The model
// is rolled back to that prefix and the run continues. Under `always`, a fatal stop is a crash.
// Faults are switched off while recovering: start-up faults are the fault-countdown suite's job.
//
// The background rewrite (BGREWRITEAOF). Most seeds ask for rewrites at random steps (alone, in
// the same turn as units, or MULTI-scheduled and started by the cron), and some also enable the
// automatic rewrite with a small minimum size. The walk runs in slices of a few keys, released at
// random points between turns (so the copy-on-write snapshot sees writes ahead of its walker), and
// the close-with-fsync job of the INCR a rewrite left may be held for several steps (a slow bio
// thread). Extra fault rules hit the rewrite's files: the temp base (`temp-rewriteaof`), the
// manifest and its directory fsync, new INCR files, unlinks.
//
// POWER CUTS: a crash between two steps cannot land inside a synchronous engine operation (the
// start of a rewrite, its done handler). So some steps arm a cut at the k-th file-system call from
// now: from that call on every call fails without side effect (the process is dead), and as soon
// as the step's current action returns the machine crashes with the disk exactly as it was at the
// cut. Cuts land in the INCR switch (between the new INCR's creation, the manifest's write, its
// rename and the directory fsync), in the walk's base writes, the base's fsync and rename, the
// done handler's manifest persist and the history deletion; figures count where.
//
// LIFECYCLE EDGES (issue 14): seeds also switch configuration at runtime — CONFIG SET appendonly
// no/yes (alone or inside MULTI, during rewrites, while loading), appendfsync and
// aof-use-rdb-preamble —, run DEBUG LOADAOF with faults pending and act at its pauses (the cron,
// commands that must answer LOADING, close()), close() with the disk still failing (in
// WAIT_REWRITE, during a presync, after a fatal stop) and restart, leave transactions open across
// turns (EXEC after the gate went up), use up to 1024 databases with keys in high dbs, and append a
// command with the wrong number of arguments to an INCR after a crash. The driver checks each
// edge's promise (driver.ts header); an unhandled rejection fails the seed.
//
// Every seed ends with a crash and then a clean restart (close, crash, reopen), after which
// nothing may be missing. Counters (SeedFigures) feed the `pnpm test:safety` summary.

import type { FsyncPolicy } from '@aofkv/engine';
import type { RuntimeOption } from './driver.ts';
import { createPrng, type Prng } from '../../src/testing/prng.ts';
import { SimClock } from '../../src/testing/sim-clock.ts';
import {
  SimFileSystem,
  type SimCrashOptions,
  type SimFsCall,
} from '../../src/testing/sim-file-system.ts';
import { Driver, emptyDriverFigures, type DriverFigures } from './driver.ts';
import { Workload } from './workload.ts';

export interface SwarmConfig {
  policy: FsyncPolicy;
  /** aof-load-corrupt-tail-max-size of every engine of the seed (0: Redis 7.0). */
  corruptTailMaxBytes: number;
  /** `databases`: 4 or 16, or many (300, 1024) with a share of keys in db 128 and up. */
  databases: number;
  steps: number;
  unitsPerTurnMax: number;
  maxAdvanceMs: number;
  crashProbability: number;
  cleanRestartProbability: number;
  tickProbability: number;
  fsyncStartProbability: number;
  fsyncFinishProbability: number;
  /** Background fsyncs sync only what was written when they started (else: when they finish). */
  exactFsync: boolean;
  timestamps: boolean;
  faults: {
    writeEnospc: number;
    writeEio: number;
    shortWrite: number;
    shortBytes: number;
    fsyncEio: number;
    ftruncateEio: number;
    /** Rewrite files: the temp base, the manifest (and its directory fsync), new INCRs, unlinks. */
    tempBase: number;
    manifest: number;
    incrOpen: number;
    unlink: number;
  };
  crash: Required<SimCrashOptions>;
  workload: {
    multiProbability: number;
    bigValueProbability: number;
    flushWeight: number;
    highDbShare: number;
  };
  lifecycle: LifecycleKnobs;
  rewrite: {
    /** Per step: ask for a rewrite (BGREWRITEAOF alone, in a turn, or scheduled in MULTI). */
    requestProbability: number;
    /** Per step while one runs: release 1–3 walk slices. */
    stepProbability: number;
    sliceEntries: number;
    /** Automatic rewrite (auto-aof-rewrite-percentage / -min-size), or off. */
    auto: { percentage: number; minSizeBytes: number } | null;
    rdbPreamble: boolean;
    /** Per step: a queued close job (the old INCR's fsync + close) stays queued. */
    closeHoldProbability: number;
    /** Per step: arm a power cut 1..powerCutReach calls ahead (higher while a rewrite runs). */
    powerCutProbability: number;
    powerCutReach: number;
  };
}

/** Per-step (or per-event) probabilities of the lifecycle edges (see the header). */
export interface LifecycleKnobs {
  /** CONFIG SET appendonly: no when on, yes when off. */
  toggleAppendonly: number;
  /** Share of CONFIG SETs sent inside MULTI. */
  configInMulti: number;
  /** CONFIG SET appendfsync <random policy>. */
  switchPolicy: number;
  /** CONFIG SET aof-use-rdb-preamble yes|no. */
  switchPreamble: number;
  /** CONFIG SET of the network server's options (requirepass, maxclients, timeout, ...). */
  switchNetworkOption: number;
  /** close() with the disk still failing, then a crash and a restart. */
  closeRestart: number;
  /** DEBUG LOADAOF. */
  debugLoadAof: number;
  /** Commands between two pauses of a load, and the chance to act at each pause. */
  loadPauseEvery: number;
  loadPauseAct: number;
  /** After a fatal stop: close() the dead engine before the crash. */
  closeAfterFatal: number;
  /** A MULTI unit whose EXEC comes in a later turn. */
  splitMulti: number;
  /** At a crash: a command with the wrong number of arguments appended to the last INCR. */
  badArity: number;
  /** The rewrite's base writer: inline, or the writer thread's task protocol run in-process. */
  rewriteSink: 'inline' | 'writer-tasks';
  /** Per turn: the bio thread finishes its running fsync while the turn's commands are buffered. */
  midTurnBio: number;
  /** When a presync ends mid-turn: the chance that the turn's forced write then fails. */
  presyncWriteFault: number;
  /** A second engine opens the directory while this one runs (must be refused). */
  secondOpen: number;
  /** engine.waitAof() (its resolution raises the durability floor). */
  waitAof: number;
}

/** Where power cuts landed, by the call that was cut. */
export const CUT_SITES = [
  'tempOpen',
  'tempWrite',
  'baseRename',
  'manifest',
  'unlink',
  'open',
  'incrIo',
  'other',
] as const;
export type CutSite = (typeof CUT_SITES)[number];

export interface SeedFigures extends DriverFigures {
  steps: number;
  fatalStops: number;
  faultsInjected: number;
  machinesReplaced: number;
  powerCuts: number;
  /** Power cuts while a rewrite was running or being started or finished by the cut action. */
  powerCutsInRewrite: number;
  /** The temp base's creation: the first call after the INCR switch of a rewrite's start. */
  cutTempOpen: number;
  /** The walk writing the temp base, its fdatasync and close. */
  cutTempWrite: number;
  cutBaseRename: number;
  cutManifest: number;
  cutUnlink: number;
  cutOpen: number;
  cutIncrIo: number;
  cutOther: number;
  /** Fatal stops whose dead engine was close()d before the crash. */
  closesAfterFatal: number;
}

export interface SeedResult {
  seed: number;
  config: SwarmConfig;
  figures: SeedFigures;
  /** The last steps of the run (compared by the replay test). */
  trace: string[];
}

export class SimulationFailure extends Error {
  readonly seed: number;
  constructor(seed: number, message: string) {
    super(message);
    this.name = 'SimulationFailure';
    this.seed = seed;
  }
}

function cutSite(call: SimFsCall): CutSite {
  const path = `${call.path ?? ''} ${call.dest ?? ''}`;
  if (path.includes('temp-rewriteaof')) {
    if (call.op === 'rename') return 'baseRename';
    return call.op === 'open' ? 'tempOpen' : 'tempWrite';
  }
  if (path.includes('manifest') || call.op === 'fsyncDir') return 'manifest';
  if (call.op === 'unlink') return 'unlink';
  if (call.op === 'open') return 'open';
  if (path.includes('.incr.aof')) return 'incrIo';
  return 'other';
}

/** A probability that is 0 half the time, so many seeds run without that fault at all. */
function maybeRate(rng: Prng, rates: readonly number[]): number {
  return rng.chance(0.5) ? 0 : rng.pick(rates);
}

export function pickSwarm(rng: Prng): SwarmConfig {
  const keepProbability = rng.pick([0, 0.3, 0.5, 0.8, 1]);
  const tornProbability = Math.min(1 - keepProbability, rng.pick([0, 0.2, 0.5]));
  const swarm = {
    policy: rng.pick(['always', 'everysec', 'no'] as const),
    steps: rng.nextIntBetween(80, 220),
    unitsPerTurnMax: rng.nextIntBetween(1, 3),
    maxAdvanceMs: rng.pick([50, 300, 700]),
    crashProbability: rng.pick([0.01, 0.03, 0.06]),
    cleanRestartProbability: rng.pick([0, 0.01]),
    tickProbability: rng.pick([0.2, 0.5, 0.9]),
    fsyncStartProbability: rng.pick([0.3, 0.8, 1]),
    // Small values hold a background fsync "running" for many turns (a slow disk).
    fsyncFinishProbability: rng.pick([0.05, 0.3, 1]),
    exactFsync: rng.chance(0.5),
    timestamps: rng.chance(0.3),
    faults: {
      writeEnospc: maybeRate(rng, [0.01, 0.05, 0.2]),
      writeEio: maybeRate(rng, [0.01, 0.05]),
      shortWrite: maybeRate(rng, [0.02, 0.1]),
      shortBytes: rng.nextIntBetween(1, 40),
      fsyncEio: maybeRate(rng, [0.02, 0.1]),
      ftruncateEio: maybeRate(rng, [0.3, 1]),
      tempBase: maybeRate(rng, [0.02, 0.1, 0.3]),
      manifest: maybeRate(rng, [0.02, 0.1]),
      incrOpen: maybeRate(rng, [0.05, 0.3]),
      unlink: maybeRate(rng, [0.1, 0.5]),
    },
    crash: {
      keepProbability,
      tornProbability,
      garbageProbability: rng.pick([0, 0.5, 1]),
      writeOrdering: rng.pick(['independent', 'prefix'] as const),
      dirOpKeepProbability: rng.pick([0, 0.5, 1]),
    },
    workload: {
      multiProbability: rng.pick([0, 0.1, 0.25]),
      bigValueProbability: rng.pick([0, 0.05, 0.2]),
      flushWeight: rng.pick([0, 0.2, 0.5]),
      highDbShare: 0,
    },
    rewrite: pickRewrite(rng),
  };
  // Drawn last, so the draws above stay what they were before these knobs existed.
  const { databases, highDbShare, lifecycle: drawn } = pickLifecycle(rng);
  // Issue 15's knobs, drawn after all of the above for the same reason.
  const lifecycle = {
    ...drawn,
    secondOpen: maybeRate(rng, [0.02, 0.05]),
    waitAof: maybeRate(rng, [0.05, 0.2]),
  };
  // Power cuts that leave zero-filled tails, and Redis 8.4's aof-load-corrupt-tail-max-size.
  const crash = { ...swarm.crash, zeroFillProbability: maybeRate(rng, [0.3, 1]) };
  const corruptTailMaxBytes = rng.pick([0, 0, 64, 512, 8192]);
  return {
    ...swarm,
    crash,
    corruptTailMaxBytes,
    databases,
    lifecycle,
    workload: { ...swarm.workload, highDbShare },
  };
}

/**
 * The network server's options: an engine that does not listen keeps them and must go on
 * acknowledging every write exactly as before (db() handles are authenticated clients).
 */
const NETWORK_OPTION_VALUES: readonly (readonly [RuntimeOption, string])[] = [
  ['requirepass', 'sim-secret'],
  ['requirepass', ''],
  ['maxclients', '1'],
  ['maxclients', '10000'],
  ['timeout', '1'],
  ['timeout', '0'],
  ['proto-max-bulk-len', '1mb'],
  ['client-query-buffer-limit', '1gb'],
  ['protected-mode', 'no'],
];

function pickLifecycle(rng: Prng): {
  databases: number;
  highDbShare: number;
  lifecycle: Omit<LifecycleKnobs, 'secondOpen' | 'waitAof'>;
} {
  const databases = rng.pick([4, 4, 16, 300, 1024]);
  return {
    databases,
    highDbShare: databases > 128 ? rng.pick([0.1, 0.3]) : 0,
    lifecycle: {
      toggleAppendonly: maybeRate(rng, [0.02, 0.05, 0.1]),
      configInMulti: rng.pick([0, 0.3]),
      switchPolicy: maybeRate(rng, [0.02, 0.05]),
      switchPreamble: maybeRate(rng, [0.02, 0.05]),
      closeRestart: maybeRate(rng, [0.01, 0.03]),
      debugLoadAof: maybeRate(rng, [0.02, 0.05]),
      loadPauseEvery: rng.pick([2, 5, 20]),
      loadPauseAct: rng.pick([0.2, 0.6]),
      closeAfterFatal: rng.pick([0, 0.5, 1]),
      splitMulti: rng.pick([0, 0.3, 0.6]),
      badArity: maybeRate(rng, [0.1, 0.3]),
      rewriteSink: rng.pick(['inline', 'writer-tasks'] as const),
      midTurnBio: rng.pick([0, 0.2, 0.5]),
      presyncWriteFault: rng.pick([0, 0.5]),
      switchNetworkOption: maybeRate(rng, [0.02, 0.05]),
    },
  };
}

function pickRewrite(rng: Prng): SwarmConfig['rewrite'] {
  // One seed in five never rewrites: the single-INCR lineage keeps its own coverage.
  const enabled = !rng.chance(0.2);
  return {
    requestProbability: enabled ? rng.pick([0.02, 0.05, 0.15]) : 0,
    stepProbability: rng.pick([0.2, 0.5, 1]),
    sliceEntries: rng.pick([1, 3, 10, 4096]),
    auto:
      enabled && rng.chance(0.4)
        ? { percentage: rng.pick([10, 50, 100]), minSizeBytes: rng.pick([256, 2048, 8192]) }
        : null,
    rdbPreamble: rng.chance(0.5),
    closeHoldProbability: rng.pick([0, 0.5, 0.9]),
    powerCutProbability: enabled ? rng.pick([0, 0.02, 0.06]) : 0,
    powerCutReach: rng.pick([4, 12, 30]),
  };
}

/** Runs one seed; throws SimulationFailure (with the seed and a trace) when a check fails. */
export async function runSeed(seed: number): Promise<SeedResult> {
  const simulation = new Simulation(seed);
  const onRejection = (reason: unknown) => void simulation.unhandledRejections.push(reason);
  process.on('unhandledRejection', onRejection);
  try {
    await simulation.run();
  } catch (error) {
    throw simulation.failure(error);
  } finally {
    await simulation.dispose();
    process.off('unhandledRejection', onRejection);
  }
  return { seed, config: simulation.config, figures: simulation.figures, trace: simulation.trace };
}

class Simulation {
  readonly seed: number;
  /** Rejections nobody handled while this seed ran (collected by runSeed). */
  readonly unhandledRejections: unknown[] = [];
  readonly config: SwarmConfig;
  readonly figures: SeedFigures = {
    ...emptyDriverFigures(),
    steps: 0,
    fatalStops: 0,
    faultsInjected: 0,
    machinesReplaced: 0,
    powerCuts: 0,
    powerCutsInRewrite: 0,
    cutTempOpen: 0,
    cutTempWrite: 0,
    cutBaseRename: 0,
    cutManifest: 0,
    cutUnlink: 0,
    cutOpen: 0,
    cutIncrIo: 0,
    cutOther: 0,
    closesAfterFatal: 0,
  };
  readonly #schedule: Prng;
  readonly #faultRng: Prng;
  readonly #crashRng: Prng;
  readonly #workload: Workload;
  readonly #clock = new SimClock();
  #faultsMuted = true;
  /** The armed power cut: the call index it fires at, and the call it fired on. */
  #cut: { atCall: number; firedOn: SimFsCall | null; inRewrite: boolean } | null = null;
  /** Calls the cut failed (not counted as injected faults). */
  #cutInjections = 0;
  #driver: Driver;

  constructor(seed: number) {
    this.seed = seed;
    const root = createPrng(seed);
    this.config = pickSwarm(root.fork());
    this.#schedule = root.fork();
    this.#faultRng = root.fork();
    this.#crashRng = root.fork();
    this.#workload = new Workload(root.fork(), {
      databases: this.config.databases,
      ...this.config.workload,
    });
    this.#driver = this.#newDriver();
  }

  async run(): Promise<void> {
    await this.#startDriver();
    for (let step = 0; step < this.config.steps; step++) {
      this.figures.steps++;
      await this.#step();
    }
    await this.#recover(() =>
      this.#driver.crashAndRecover(this.#crashRng, this.config.crash, 'final crash'),
    );
    await this.#recover(() => this.#driver.cleanRestart(this.#crashRng, this.config.crash));
    this.figures.faultsInjected += this.#driver.fs.injectedCount - this.#cutInjections;
    this.#cutInjections = 0;
  }

  async dispose(): Promise<void> {
    this.#faultsMuted = true;
    await this.#driver.dispose();
  }

  get trace(): string[] {
    return [...this.#driver.trace];
  }

  failure(error: unknown): SimulationFailure {
    const reason = error instanceof Error ? (error.stack ?? error.message) : String(error);
    const { policy, crash, faults, exactFsync, rewrite, lifecycle, databases } = this.config;
    return new SimulationFailure(
      this.seed,
      `seed ${this.seed} failed (replay: SEED=${this.seed} npx vitest run --project engine ` +
        `test/sim)\npolicy=${policy} exactFsync=${exactFsync} crash=${JSON.stringify(crash)}\n` +
        `faults=${JSON.stringify(faults)}\nrewrite=${JSON.stringify(rewrite)}\n` +
        `databases=${databases} lifecycle=${JSON.stringify(lifecycle)}\n${reason}\n` +
        `last steps:\n  ${this.#driver.trace.join('\n  ')}`,
    );
  }

  // ---- machines and faults --------------------------------------------------------------------

  /** A machine with an empty disk (with this seed's fault rules) and a fresh model. */
  #newDriver(): Driver {
    const fs = new SimFileSystem({ clock: this.#clock });
    this.#installFaults(fs);
    const driver = new Driver({
      fs,
      clock: this.#clock,
      policy: this.config.policy,
      databases: this.config.databases,
      timestamps: this.config.timestamps,
      exactFsync: this.config.exactFsync,
      rdbPreamble: this.config.rewrite.rdbPreamble,
      sliceEntries: this.config.rewrite.sliceEntries,
      loadPauseEvery: this.config.lifecycle.loadPauseEvery,
      badArityProbability: this.config.lifecycle.badArity,
      rewriteSink: this.config.lifecycle.rewriteSink,
      corruptTailMaxBytes: this.config.corruptTailMaxBytes,
      ...(this.config.rewrite.auto !== null ? { autoRewrite: this.config.rewrite.auto } : {}),
      figures: this.figures,
      muteFaults: (muted) => {
        this.#faultsMuted = muted;
        if (muted) this.#cut = null;
      },
      checkBases: () => !this.#cutFired,
    });
    // SIM_TRACE_FS=<substring>: file-system calls on matching paths go into the trace (debugging).
    const traceFs = process.env['SIM_TRACE_FS'];
    fs.onOp = (e) => {
      driver.onFsOp(e);
      if (
        traceFs === undefined ||
        traceFs === '' ||
        !`${e.path ?? ''} ${e.dest ?? ''}`.includes(traceFs)
      )
        return;
      const detail =
        e.offsetBytes !== undefined ? ` @${e.offsetBytes}+${e.resultBytes}/${e.lengthBytes}` : '';
      const dest = e.dest !== undefined ? ` -> ${e.dest}` : '';
      driver.log(
        `fs #${e.callIndex} ${e.op} ` +
          `${e.path}${dest}${detail}${e.errorCode !== undefined ? ` ${e.errorCode}` : ''}`,
      );
    };
    return driver;
  }

  async #startDriver(): Promise<void> {
    this.#faultsMuted = true;
    await this.#driver.start();
    this.#faultsMuted = false;
  }

  /**
   * Runs a recovery; if it loaded bytes the engine never wrote, the lineage cannot be judged any
   * more (Driver #settleVerdict): the seed goes on with a fresh machine.
   */
  async #recover(recovery: () => Promise<unknown>): Promise<void> {
    await recovery();
    if (!this.#driver.lineageEnded) return;
    this.figures.faultsInjected += this.#driver.fs.injectedCount - this.#cutInjections;
    this.#cutInjections = 0;
    this.figures.machinesReplaced++;
    await this.#driver.dispose();
    this.#driver = this.#newDriver();
    await this.#startDriver();
  }

  /** Rules stay installed for the whole run; they are muted while the machine recovers. */
  /** The next write fails once (EIO): armed for the rare window above. */
  #writeFaultArmed = false;

  #installFaults(fs: SimFileSystem): void {
    const { faults } = this.config;
    const rng = this.#faultRng;
    const when = (p: number) => () => !this.#faultsMuted && p > 0 && rng.chance(p);
    const add = fs.faults.add.bind(fs.faults);
    // First: the power cut, which fails every call from its call index on (no other rule draws).
    add({
      op: 'any',
      error: 'EIO',
      persistent: true,
      when: (call) => {
        const cut = this.#cut;
        if (this.#faultsMuted || cut === null || call.callIndex < cut.atCall) return false;
        cut.firedOn ??= call;
        this.#cutInjections++;
        return true;
      },
    });
    add({
      op: 'write',
      error: 'EIO',
      persistent: true,
      when: () => {
        if (this.#faultsMuted || !this.#writeFaultArmed) return false;
        this.#writeFaultArmed = false;
        return true;
      },
    });
    add({ op: 'write', error: 'ENOSPC', persistent: true, when: when(faults.writeEnospc) });
    add({ op: 'write', error: 'EIO', persistent: true, when: when(faults.writeEio) });
    add({
      op: 'write',
      shortBytes: faults.shortBytes,
      persistent: true,
      when: when(faults.shortWrite),
    });
    add({ op: 'fdatasync', error: 'EIO', persistent: true, when: when(faults.fsyncEio) });
    add({ op: 'ftruncate', error: 'EIO', persistent: true, when: when(faults.ftruncateEio) });
    // The rewrite's files.
    const tempOps = ['open', 'write', 'fdatasync', 'rename'] as const;
    add({
      op: [...tempOps],
      error: 'ENOSPC',
      pathIncludes: 'temp-rewriteaof',
      persistent: true,
      when: when(faults.tempBase / 2),
    });
    add({
      op: [...tempOps],
      error: 'EIO',
      pathIncludes: 'temp-rewriteaof',
      persistent: true,
      when: when(faults.tempBase / 2),
    });
    add({
      op: [...tempOps],
      error: 'EIO',
      pathIncludes: 'appendonly.aof.manifest',
      persistent: true,
      when: when(faults.manifest),
    });
    add({ op: 'fsyncDir', error: 'EIO', persistent: true, when: when(faults.manifest) });
    add({
      op: 'open',
      error: 'EIO',
      pathIncludes: '.incr.aof',
      persistent: true,
      when: when(faults.incrOpen),
    });
    add({ op: 'unlink', error: 'EIO', persistent: true, when: when(faults.unlink) });
  }

  // ---- power cuts -----------------------------------------------------------------------------

  /**
   * Maybe arm a power cut (unless one is armed): at the step's start (`scale` 1, more while a
   * rewrite runs), and right before a rewrite request or a walk slice, whose calls it then targets.
   */
  #maybeArmCut(scale: number): void {
    const { powerCutProbability, powerCutReach } = this.config.rewrite;
    if (
      powerCutProbability === 0 ||
      this.#cut !== null ||
      this.#faultsMuted ||
      !this.#driver.running
    )
      return;
    if (!this.#schedule.chance(Math.min(1, powerCutProbability * scale))) return;
    const atCall = this.#driver.fs.callCount + this.#schedule.nextIntBetween(1, powerCutReach);
    this.#cut = { atCall, firedOn: null, inRewrite: this.#driver.rewriteInProgress };
  }

  get #cutFired(): boolean {
    return this.#cut?.firedOn != null;
  }

  /** The cut fired during the last action: crash now, with the disk as it was at the cut. */
  async #crashAtCut(): Promise<void> {
    const cut = this.#cut!;
    const call = cut.firedOn!;
    const site = cutSite(call);
    this.figures.powerCuts++;
    if (
      cut.inRewrite ||
      this.#driver.rewriteInProgress ||
      /temp-rewriteaof|manifest/.test(call.path ?? '')
    ) {
      this.figures.powerCutsInRewrite++;
    }
    const key = `cut${site[0]!.toUpperCase()}${site.slice(1)}` as `cut${Capitalize<CutSite>}`;
    this.figures[key]++;
    const where =
      `${call.op} ` +
      `${call.path ?? `fd ${call.fd}`}${call.dest !== undefined ? ` -> ${call.dest}` : ''}`;
    this.#driver.log(`POWER CUT at call #${call.callIndex} (${where})`);
    this.#cut = null;
    await this.#recover(() =>
      this.#driver.crashAndRecover(this.#crashRng, this.config.crash, `power cut at ${where}`),
    );
  }

  // ---- one step -------------------------------------------------------------------------------

  async #step(): Promise<void> {
    const rng = this.#schedule;
    const driver = this.#driver;
    this.#clock.advance(rng.nextInt(this.config.maxAdvanceMs + 1));
    this.#maybeArmCut(this.#driver.rewriteInProgress ? 2 : 1);
    const roll = rng.nextFloat();
    const { crashProbability, cleanRestartProbability } = this.config;
    if (roll < crashProbability) {
      this.#cut = null;
      await this.#recover(() =>
        driver.crashAndRecover(this.#crashRng, this.config.crash, 'random crash'),
      );
    } else if (roll < crashProbability + cleanRestartProbability) {
      this.#cut = null;
      await this.#recover(() => driver.cleanRestart(this.#crashRng, this.config.crash));
    } else if (rng.chance(this.#rewriteRequestProbability()) && !driver.rewriteInProgress) {
      await this.#requestRewrite();
    } else {
      await this.#turn(false);
    }
    const actions: (() => Promise<void> | void)[] = [
      () => {
        if (rng.chance(this.config.tickProbability)) this.#driver.tick();
      },
      () => this.#bioStep(),
      () => this.#rewriteSteps(),
      () => this.#lifecycleSteps(),
    ];
    for (const action of actions) {
      if (this.#cutFired || !this.#live) break;
      await action();
    }
    this.#driver.assertNoViolation();
    if (this.#cutFired) {
      await this.#crashAtCut();
    } else if (this.#driver.stopped) {
      await this.#afterFatalStop();
    }
    this.#cut = null;
    this.#assertNoUnhandledRejection();
    if (rng.chance(0.1)) this.#driver.checkLockstep();
  }

  /** The engine runs and has not stopped (a lifecycle action may end in a fatal stop). */
  get #live(): boolean {
    return this.#driver.running && !this.#driver.stopped;
  }

  /**
   * A dead process, under always: sometimes close() it first (it must write nothing), then crash.
   */
  async #afterFatalStop(): Promise<void> {
    this.figures.fatalStops++;
    if (this.#schedule.chance(this.config.lifecycle.closeAfterFatal)) {
      this.#driver.log('engine stopped (fatal): close() it, then crash');
      this.figures.closesAfterFatal++;
      await this.#driver.close();
      this.#driver.assertNoViolation();
    } else {
      this.#driver.log('engine stopped (fatal): the process is dead, crash');
    }
    await this.#recover(() =>
      this.#driver.crashAndRecover(this.#crashRng, this.config.crash, 'fatal stop'),
    );
  }

  /** Runtime configuration, DEBUG LOADAOF and close(), each with its seed's probability. */
  async #lifecycleSteps(): Promise<void> {
    const rng = this.#schedule;
    const k = this.config.lifecycle;
    const inMulti = () => rng.chance(k.configInMulti);
    // Operators turn the AOF off and on, and reload it, more often while writes are refused.
    const boost = this.#driver.writesRefused ? 4 : 1;
    const steps: [number, () => Promise<void>][] = [
      [
        k.toggleAppendonly * boost,
        () =>
          this.#driver.configSet(
            'appendonly',
            this.#driver.aofState === 'off' ? 'yes' : 'no',
            inMulti(),
          ),
      ],
      // A rare window (finding 11): switching appendfsync while a rewrite waits for its presync.
      [
        k.switchPolicy * (this.#driver.presyncOpen ? 10 : 1),
        () =>
          this.#driver.configSet('appendfsync', rng.pick(['always', 'everysec', 'no']), inMulti()),
      ],
      [
        k.switchPreamble,
        () => this.#driver.configSet('aof-use-rdb-preamble', rng.pick(['yes', 'no']), inMulti()),
      ],
      [
        k.switchNetworkOption,
        () => {
          const [name, value] = rng.pick(NETWORK_OPTION_VALUES);
          return this.#driver.configSet(name, value, inMulti());
        },
      ],
      [k.debugLoadAof * boost, () => this.#recover(() => this.#reload())],
      [
        k.closeRestart,
        () =>
          this.#recover(() => this.#driver.cleanRestart(this.#crashRng, this.config.crash, true)),
      ],
      [k.secondOpen, () => this.#driver.secondOpen()],
      [k.waitAof, async () => this.#driver.startWaitAof()],
    ];
    for (const [probability, step] of steps) {
      if (this.#cutFired || !this.#live || !rng.chance(probability)) continue;
      this.#maybeArmCut(2);
      await step();
    }
  }

  /** DEBUG LOADAOF; a close() at one of its pauses ends this process: crash and restart. */
  async #reload(): Promise<void> {
    const outcome = await this.#driver.debugLoadAof(
      this.#schedule,
      this.config.lifecycle.loadPauseAct,
    );
    if (outcome !== 'closed') return;
    this.#cut = null;
    await this.#driver.crashAndRecover(
      this.#crashRng,
      this.config.crash,
      'crash after close() during DEBUG LOADAOF',
    );
  }

  /**
   * An async failure nobody awaited (a fatal error escaping as a rejected promise) fails the seed.
   */
  #assertNoUnhandledRejection(): void {
    const reason = this.unhandledRejections[0];
    if (reason !== undefined)
      throw new Error(
        `unhandled rejection: ` +
          `${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`,
      );
  }

  async #turn(withRewrite: boolean): Promise<void> {
    const rng = this.#schedule;
    const count = rng.nextIntBetween(1, this.config.unitsPerTurnMax);
    const nowMs = this.#clock.nowMs();
    const units = Array.from({ length: count }, () => this.#workload.next(nowMs));
    const openNow = new Set<number>();
    units.forEach((unit, i) => {
      if (unit.kind === 'multi' && rng.chance(this.config.lifecycle.splitMulti)) openNow.add(i);
    });
    // A rare window (finding 11): a rewrite's presync ending in the middle of a turn, its forced
    // flush writing the turn's commands, and the disk failing right then.
    const k = this.config.lifecycle;
    const presyncOpen = this.#driver.presyncOpen;
    const midTurn = rng.chance(presyncOpen ? Math.max(k.midTurnBio, 0.5) : k.midTurnBio)
      ? () => this.#finishFsyncNow()
      : null;
    if (midTurn !== null && presyncOpen && rng.chance(k.presyncWriteFault)) {
      // Under always that failure is fatal, and the fatal error must still reach the engine.
      if (k.switchPolicy > 0 && this.#driver.policy !== 'always') {
        await this.#driver.configSet('appendfsync', 'always', false);
      }
      if (!this.#live || !this.#driver.presyncOpen) return;
      this.#writeFaultArmed = true;
      this.#driver.log('a write fault is armed for the presync end');
    }
    await this.#driver.turn(units, withRewrite ? rng.nextInt(count) : null, openNow, midTurn);
    this.#writeFaultArmed = false;
  }

  /** The bio thread finishes its running fsync now, in the middle of a turn. */
  #finishFsyncNow(): void {
    const { bio } = this.#driver.machine;
    if (!bio.isRunning('aofFsync')) return;
    bio.finishRunning('aofFsync');
    this.#driver.log('bio fsync finished (mid-turn)');
  }

  /** Operators run BGREWRITEAOF after disk errors too: ask more often while writes are refused. */
  #rewriteRequestProbability(): number {
    const p = this.config.rewrite.requestProbability;
    return this.#driver.running && this.#driver.writesRefused ? Math.min(1, p * 6) : p;
  }

  /** BGREWRITEAOF: alone, riding in a turn of units, or scheduled in MULTI (the cron starts it). */
  async #requestRewrite(): Promise<void> {
    const how = this.#schedule.pick(['command', 'command', 'in-turn', 'scheduled'] as const);
    this.#maybeArmCut(4);
    if (how === 'in-turn') await this.#turn(true);
    else await this.#driver.requestRewrite(how);
  }

  /** Release a few walk slices of the running rewrite (each lets its promises settle). */
  async #rewriteSteps(): Promise<void> {
    const rng = this.#schedule;
    if (!this.#driver.rewriteInProgress || !rng.chance(this.config.rewrite.stepProbability)) return;
    const slices = rng.nextIntBetween(1, 3);
    for (let i = 0; i < slices && !this.#cutFired && this.#driver.rewriteInProgress; i++) {
      this.#maybeArmCut(3);
      await this.#driver.stepRewrite();
    }
  }

  /**
   * A slow disk: a started fsync may stay "running" for many steps (postponing writes, holding a
   * rewrite's presync open). What a finished job lets run (a presync's start) runs in this step.
   */
  async #bioStep(): Promise<void> {
    const rng = this.#schedule;
    const { bio } = this.#driver.machine;
    if (bio.isRunning('aofFsync')) {
      if (rng.chance(this.config.fsyncFinishProbability)) {
        bio.finishRunning('aofFsync');
        this.#driver.log('bio fsync finished');
        await this.#driver.machine.settle();
      }
    } else if (bio.queued('aofFsync') > 0 && rng.chance(this.config.fsyncStartProbability)) {
      bio.startNext('aofFsync');
      this.#driver.log('bio fsync started');
    }
    // The close-with-fsync job of an INCR a rewrite left may lag behind (its own bio thread).
    while (
      bio.queued('closeFile') > 0 &&
      !this.#cutFired &&
      !rng.chance(this.config.rewrite.closeHoldProbability)
    ) {
      bio.runNext('closeFile');
      this.#driver.log('bio close finished');
    }
  }
}
