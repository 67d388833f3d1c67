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
// Every seed ends with a crash and then a clean restart (close, crash, reopen), after which
// nothing may be missing. Counters (SeedFigures) feed the `pnpm test:safety` summary.

import type { FsyncPolicy } from '@aofkv/engine';
import { createPrng, type Prng } from '../../src/testing/prng.ts';
import { SimClock } from '../../src/testing/sim-clock.ts';
import { SimFileSystem, type SimCrashOptions } from '../../src/testing/sim-file-system.ts';
import { Driver, emptyDriverFigures, type DriverFigures } from './driver.ts';
import { Workload } from './workload.ts';

const DATABASES = 4;

export interface SwarmConfig {
  policy: FsyncPolicy;
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
  };
  crash: Required<SimCrashOptions>;
  workload: { multiProbability: number; bigValueProbability: number; flushWeight: number };
}

export interface SeedFigures extends DriverFigures {
  steps: number;
  fatalStops: number;
  faultsInjected: number;
  machinesReplaced: number;
}

export interface SeedResult {
  seed: number;
  config: SwarmConfig;
  figures: SeedFigures;
}

export class SimulationFailure extends Error {
  readonly seed: number;
  constructor(seed: number, message: string) {
    super(message);
    this.name = 'SimulationFailure';
    this.seed = seed;
  }
}

/** A probability that is 0 half the time, so many seeds run without that fault at all. */
function maybeRate(rng: Prng, rates: readonly number[]): number {
  return rng.chance(0.5) ? 0 : rng.pick(rates);
}

export function pickSwarm(rng: Prng): SwarmConfig {
  const keepProbability = rng.pick([0, 0.3, 0.5, 0.8, 1]);
  const tornProbability = Math.min(1 - keepProbability, rng.pick([0, 0.2, 0.5]));
  return {
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
    },
  };
}

/** Runs one seed; throws SimulationFailure (with the seed and a trace) when a check fails. */
export async function runSeed(seed: number): Promise<SeedResult> {
  const simulation = new Simulation(seed);
  try {
    await simulation.run();
  } catch (error) {
    throw simulation.failure(error);
  } finally {
    await simulation.dispose();
  }
  return { seed, config: simulation.config, figures: simulation.figures };
}

class Simulation {
  readonly seed: number;
  readonly config: SwarmConfig;
  readonly figures: SeedFigures = {
    ...emptyDriverFigures(),
    steps: 0,
    fatalStops: 0,
    faultsInjected: 0,
    machinesReplaced: 0,
  };
  readonly #schedule: Prng;
  readonly #faultRng: Prng;
  readonly #crashRng: Prng;
  readonly #workload: Workload;
  readonly #clock = new SimClock();
  #faultsMuted = true;
  #driver: Driver;

  constructor(seed: number) {
    this.seed = seed;
    const root = createPrng(seed);
    this.config = pickSwarm(root.fork());
    this.#schedule = root.fork();
    this.#faultRng = root.fork();
    this.#crashRng = root.fork();
    this.#workload = new Workload(root.fork(), { databases: DATABASES, ...this.config.workload });
    this.#driver = this.#newDriver();
  }

  async run(): Promise<void> {
    await this.#startDriver();
    for (let step = 0; step < this.config.steps; step++) {
      this.figures.steps++;
      await this.#step();
    }
    await this.#recover(() => this.#driver.crashAndRecover(this.#crashRng, this.config.crash, 'final crash'));
    await this.#recover(() => this.#driver.cleanRestart(this.#crashRng, this.config.crash));
    this.figures.faultsInjected += this.#driver.fs.injectedCount;
  }

  async dispose(): Promise<void> {
    this.#faultsMuted = true;
    await this.#driver.dispose();
  }

  failure(error: unknown): SimulationFailure {
    const reason = error instanceof Error ? (error.stack ?? error.message) : String(error);
    const { policy, crash, faults, exactFsync } = this.config;
    return new SimulationFailure(
      this.seed,
      `seed ${this.seed} failed (replay: SEED=${this.seed} npx vitest run --project engine test/sim)\n` +
        `policy=${policy} exactFsync=${exactFsync} crash=${JSON.stringify(crash)}\n` +
        `faults=${JSON.stringify(faults)}\n${reason}\nlast steps:\n  ${this.#driver.trace.join('\n  ')}`,
    );
  }

  // ---- machines and faults --------------------------------------------------------------------

  /** A machine with an empty disk (with this seed's fault rules) and a fresh model. */
  #newDriver(): Driver {
    const fs = new SimFileSystem({ clock: this.#clock });
    this.#installFaults(fs);
    return new Driver({
      fs,
      clock: this.#clock,
      policy: this.config.policy,
      databases: DATABASES,
      timestamps: this.config.timestamps,
      exactFsync: this.config.exactFsync,
      figures: this.figures,
      muteFaults: (muted) => {
        this.#faultsMuted = muted;
      },
    });
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
    this.figures.faultsInjected += this.#driver.fs.injectedCount;
    this.figures.machinesReplaced++;
    await this.#driver.dispose();
    this.#driver = this.#newDriver();
    await this.#startDriver();
  }

  /** Rules stay installed for the whole run; they are muted while the machine recovers. */
  #installFaults(fs: SimFileSystem): void {
    const { faults } = this.config;
    const rng = this.#faultRng;
    const when = (p: number) => () => !this.#faultsMuted && p > 0 && rng.chance(p);
    const add = fs.faults.add.bind(fs.faults);
    add({ op: 'write', error: 'ENOSPC', persistent: true, when: when(faults.writeEnospc) });
    add({ op: 'write', error: 'EIO', persistent: true, when: when(faults.writeEio) });
    add({ op: 'write', shortBytes: faults.shortBytes, persistent: true, when: when(faults.shortWrite) });
    add({ op: 'fdatasync', error: 'EIO', persistent: true, when: when(faults.fsyncEio) });
    add({ op: 'ftruncate', error: 'EIO', persistent: true, when: when(faults.ftruncateEio) });
  }

  // ---- one step -------------------------------------------------------------------------------

  async #step(): Promise<void> {
    const rng = this.#schedule;
    const driver = this.#driver;
    this.#clock.advance(rng.nextInt(this.config.maxAdvanceMs + 1));
    const roll = rng.nextFloat();
    if (roll < this.config.crashProbability) {
      await this.#recover(() => driver.crashAndRecover(this.#crashRng, this.config.crash, 'random crash'));
    } else if (roll < this.config.crashProbability + this.config.cleanRestartProbability) {
      await this.#recover(() => driver.cleanRestart(this.#crashRng, this.config.crash));
    } else {
      await this.#turn();
    }
    if (rng.chance(this.config.tickProbability)) this.#driver.tick();
    this.#bioStep();
    if (this.#driver.stopped) {
      this.figures.fatalStops++;
      this.#driver.log('engine stopped (fatal): the process is dead, crash');
      await this.#recover(() => this.#driver.crashAndRecover(this.#crashRng, this.config.crash, 'fatal stop'));
    }
    if (rng.chance(0.1)) this.#driver.checkLockstep();
  }

  async #turn(): Promise<void> {
    const count = this.#schedule.nextIntBetween(1, this.config.unitsPerTurnMax);
    const nowMs = this.#clock.nowMs();
    await this.#driver.turn(Array.from({ length: count }, () => this.#workload.next(nowMs)));
  }

  /** A slow disk: a started fsync may stay "running" for many steps (postponing writes). */
  #bioStep(): void {
    const rng = this.#schedule;
    const { bio } = this.#driver.machine;
    if (bio.isRunning('aofFsync')) {
      if (rng.chance(this.config.fsyncFinishProbability)) {
        bio.finishRunning('aofFsync');
        this.#driver.log('bio fsync finished');
      }
    } else if (bio.queued('aofFsync') > 0 && rng.chance(this.config.fsyncStartProbability)) {
      bio.startNext('aofFsync');
      this.#driver.log('bio fsync started');
    }
    if (bio.queued('closeFile') > 0) bio.runNext('closeFile');
  }
}
