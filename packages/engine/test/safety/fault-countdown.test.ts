// Countdown fault injection (SQLite's do_faultsim_test): for every scenario, run the same script
// again and again with the 1st, 2nd, 3rd ... file-system call failing (EIO or ENOSPC, once or from
// then on), until a run injects nothing. After each run:
//   - every outcome was a documented one: the step succeeded; a write was refused with MISCONF
//     (everysec/no); the engine stopped with ERR_ENGINE_FATAL (always only); openEngine or close
//     threw a typed error (EngineError or FsError, with a code). The Driver checks the per-unit
//     outcomes and replies against the reference model as it goes;
//   - with the fault removed, the machine crashes (alternately losing everything un-synced and
//     keeping everything) and a new engine must load a prefix of the history containing every unit
//     the policy guarantees (test/sim/crash-check.ts), equal to the model after that prefix;
//   - the recovered engine still works: a write, a clean close, a reload that loses nothing.
// Scenarios are a table. The background rewrite has one row per step: its start (forced flush,
// fdatasync of the old INCR, new INCR, manifest persisted, switch, temp base opened; alone and in
// the same turn as writes), the walk writing and fsyncing the temp base, the rename of the base
// into place, the done handler's manifest persists, and the deletion of the history files. Those
// rows count only the calls of their step (a scoped countdown: "the n-th call on the temp base"),
// and add their own checks: the rewrite ended (never stuck in progress) with
// aof_last_bgrewrite_status ok or err, the live keyspace still equals the model, and no temp base
// is left behind unless an injected fault failed its own unlink.

import { afterAll, describe, expect, it } from 'vitest';
import { EngineError, isFsError, type FsyncPolicy } from '@aofkv/engine';
import { createPrng } from '../../src/testing/prng.ts';
import { SimClock } from '../../src/testing/sim-clock.ts';
import {
  SimFileSystem,
  type SimCrashOptions,
  type SimFsCall,
} from '../../src/testing/sim-file-system.ts';
import type { FsErrorCode } from '../../src/io/file-system.ts';
import { Driver, emptyDriverFigures } from '../sim/driver.ts';
import { Workload } from '../sim/workload.ts';
import { FigureBook } from './figures.ts';
import { inspectAof } from '@aofkv/engine/testing';

const DATABASES = 2;
/** A scenario makes well under this many calls; reaching it means the loop never ends. */
const MAX_COUNTDOWN = 400;
const LOSE_UNSYNCED: SimCrashOptions = {
  keepProbability: 0,
  tornProbability: 0,
  dirOpKeepProbability: 0,
};
const KEEP_ALL: SimCrashOptions = {
  keepProbability: 1,
  tornProbability: 0,
  dirOpKeepProbability: 1,
};
const TEAR_FIRST: SimCrashOptions = {
  keepProbability: 0,
  tornProbability: 1,
  garbageProbability: 0,
  writeOrdering: 'prefix',
  dirOpKeepProbability: 1,
};

interface Run {
  driver: Driver;
  fs: SimFileSystem;
  workload: Workload;
  /** Outcomes of this run, for the figures ('ok', 'misconf', 'fatal', 'open:EIO', ...). */
  outcomes: Set<string>;
  /** Paths whose unlink an injected fault refused (a temp file may then stay). */
  failedUnlinks: Set<string>;
  /** Rewrite rows: the files the rewrite retires to history (set by prepare). */
  historyNames: string[];
}

interface Scenario {
  name: string;
  policy: FsyncPolicy;
  /** Fault-free: builds the state the faulted step starts from. */
  prepare(run: Run): Promise<void>;
  /** The step that runs with the countdown armed. */
  faulted(run: Run): Promise<void>;
  /**
   * Count (and fail) only these calls (default: every call). `run` is the run being faulted:
   * scopes may depend on what prepare() built (the names of the history files).
   */
  scope?(call: SimFsCall, run: Run): boolean;
  /** Fault-free, after the faulted step: finish what it started and check it (rewrite rows). */
  after?(run: Run): Promise<void>;
}

const book = new FigureBook('fault-countdown');

// ---- steps shared by the scenarios ----------------------------------------------------------

/** A few turns of writes with time passing, the cron and background fsyncs in between. */
async function workTurns(run: Run, turns: number): Promise<void> {
  const { driver } = run;
  for (let i = 0; i < turns && !driver.stopped; i++) {
    const nowMs = driver.clock.nowMs();
    const outcomes = await driver.turn([run.workload.next(nowMs), run.workload.next(nowMs)]);
    for (const outcome of outcomes)
      if (outcome !== 'acked') run.outcomes.add(outcome === 'refused' ? 'misconf' : outcome);
    driver.clock.advance(600);
    driver.tick();
    if (!driver.stopped) driver.machine.bio.runAll();
  }
  if (driver.stopped) run.outcomes.add('fatal');
}

/** Runs a step that may throw at start-up or shutdown: only typed errors are acceptable. */
async function typed(run: Run, label: string, step: () => Promise<unknown>): Promise<boolean> {
  try {
    await step();
    return true;
  } catch (error) {
    const code = error instanceof EngineError || isFsError(error) ? error.code : null;
    if (code === null)
      throw new Error(`${label} threw an untyped error: ${String(error)}`, { cause: error });
    run.outcomes.add(
      `${label}:${error instanceof EngineError ? 'EngineError' : 'FsError'}:${code}`,
    );
    return false;
  }
}

const flushScenario = (policy: FsyncPolicy): Scenario => ({
  name: `flush under appendfsync ${policy}`,
  policy,
  async prepare(run) {
    await run.driver.start();
    await workTurns(run, 2);
  },
  async faulted(run) {
    await workTurns(run, 4);
  },
});

// ---- rewrite steps --------------------------------------------------------------------------

const isTempBase = (call: SimFsCall): boolean => `${call.path ?? ''}`.includes('temp-rewriteaof');
const isManifest = (call: SimFsCall): boolean =>
  `${call.path ?? ''} ${call.dest ?? ''}`.includes('appendonly.aof.manifest') ||
  call.op === 'fsyncDir';

/** Releases walk slices until the rewrite ends; a rewrite that never ends is a finding. */
async function finishRewrite(run: Run): Promise<void> {
  const { driver } = run;
  for (let i = 0; i < 500 && driver.rewriteInProgress; i++) await driver.stepRewrite();
  if (driver.rewriteInProgress)
    throw new Error('the rewrite is still in progress after 500 slices: stuck');
}

/** A rewrite's end, checked: documented status, live data unchanged, no temp base left behind. */
async function checkRewriteEnded(run: Run): Promise<void> {
  const { driver, fs } = run;
  if (driver.stopped) return;
  await finishRewrite(run);
  const status = driver.machine.engine.aof!.info().aof_last_bgrewrite_status;
  if (status !== 'ok' && status !== 'err')
    throw new Error(`aof_last_bgrewrite_status is ${String(status)}`);
  run.outcomes.add(`rewrite:${status}`);
  driver.checkLockstep();
  const temps = fs
    .listAll()
    .filter((f) => f.kind === 'file' && f.path.startsWith('/data/temp-rewriteaof'));
  for (const temp of temps) {
    if (run.failedUnlinks.has(temp.path)) {
      book.add('tempBaseLeftAfterFailedUnlink');
      continue;
    }
    throw new Error(`the rewrite ended and left ${temp.path} behind (its unlink was not refused)`);
  }
}

/**
 * State for a rewrite row: data in several dbs, a first rewrite done, more writes, a rewrite
 * running.
 */
async function prepareRunningRewrite(run: Run): Promise<void> {
  await run.driver.start();
  await workTurns(run, 3);
  await run.driver.requestRewrite('command');
  await finishRewrite(run);
  await workTurns(run, 3);
  // The files the next successful rewrite retires to history.
  const m = inspectAof(run.driver.machine.engine).manifest;
  run.historyNames = [m.base!.fileName, ...m.incrList.map((i) => i.fileName)];
  await run.driver.requestRewrite('command');
  await workTurns(run, 1);
  if (!run.driver.rewriteInProgress) throw new Error('prepare: the rewrite did not start');
}

const REWRITE_SCENARIOS: Scenario[] = [
  {
    name:
      'rewrite start (BGREWRITEAOF: flush, fdatasync old INCR, ' +
      'new INCR, manifest, switch, temp base)',
    policy: 'everysec',
    async prepare(run) {
      await run.driver.start();
      await workTurns(run, 3);
    },
    async faulted(run) {
      await run.driver.requestRewrite('command');
    },
    after: checkRewriteEnded,
  },
  {
    name: 'rewrite start in the same turn as writes (forced flush of the turn) under always',
    policy: 'always',
    async prepare(run) {
      await run.driver.start();
      await workTurns(run, 3);
    },
    async faulted(run) {
      const nowMs = run.driver.clock.nowMs();
      const outcomes = await run.driver.turn(
        [run.workload.next(nowMs), run.workload.next(nowMs)],
        0,
      );
      for (const outcome of outcomes)
        if (outcome !== 'acked') run.outcomes.add(outcome === 'refused' ? 'misconf' : outcome);
      if (run.driver.stopped) run.outcomes.add('fatal');
    },
    after: checkRewriteEnded,
  },
  {
    name: 'rewrite walk: temp base written and fsynced',
    policy: 'no',
    prepare: prepareRunningRewrite,
    faulted: finishRewrite,
    scope: (call) => isTempBase(call) && call.op !== 'rename',
    after: checkRewriteEnded,
  },
  {
    name: 'rewrite done: temp base renamed into the AOF directory',
    policy: 'everysec',
    prepare: prepareRunningRewrite,
    faulted: finishRewrite,
    scope: (call) => isTempBase(call) && call.op === 'rename',
    after: checkRewriteEnded,
  },
  {
    name: 'rewrite done: manifest persisted (new base; then without history)',
    policy: 'always',
    prepare: prepareRunningRewrite,
    faulted: finishRewrite,
    scope: isManifest,
    after: checkRewriteEnded,
  },
  {
    name: 'rewrite done: history files deleted',
    policy: 'everysec',
    prepare: prepareRunningRewrite,
    faulted: finishRewrite,
    scope: (call, run) =>
      run.historyNames.some((name) => `${call.path ?? ''}`.endsWith(`/${name}`)),
    after: checkRewriteEnded,
  },
];

const SCENARIOS: Scenario[] = [
  flushScenario('always'),
  flushScenario('everysec'),
  flushScenario('no'),
  {
    name: 'shutdown (close: forced flush + fdatasync) under everysec',
    policy: 'everysec',
    async prepare(run) {
      await run.driver.start();
      await workTurns(run, 2);
      // Un-synced, even unwritten, data for close() to handle: a turn with a fsync held running.
      run.driver.machine.bio.startNext('aofFsync');
      await run.driver.turn([run.workload.next(run.driver.clock.nowMs())]);
    },
    async faulted(run) {
      await typed(run, 'close', () => run.driver.close());
    },
  },
  {
    name: 'first start on an empty disk (base, INCR, manifest persisted)',
    policy: 'always',
    async prepare() {},
    async faulted(run) {
      await typed(run, 'open', () => run.driver.start());
    },
  },
  {
    name: 'restart of a directory with data (load, open INCR)',
    policy: 'everysec',
    async prepare(run) {
      await run.driver.start();
      await workTurns(run, 3);
      await run.driver.close();
      run.driver.crash(createPrng(1), KEEP_ALL, 'restart');
    },
    async faulted(run) {
      await typed(run, 'open', () => run.driver.recover());
    },
  },
  {
    name: 'load with a torn tail (aof-load-truncated truncates it)',
    policy: 'no',
    async prepare(run) {
      await run.driver.start();
      await workTurns(run, 3);
      run.driver.crash(createPrng(2), TEAR_FIRST, 'torn tail');
    },
    async faulted(run) {
      await typed(run, 'open', () => run.driver.recover());
    },
  },
  ...REWRITE_SCENARIOS,
];

// ---- the countdown --------------------------------------------------------------------------

function newRun(policy: FsyncPolicy): Run {
  const clock = new SimClock();
  const failedUnlinks = new Set<string>();
  const fs = new SimFileSystem({
    clock,
    onOp: (e) => {
      if (e.injected && (e.op === 'unlink' || e.op === 'open') && e.path !== undefined)
        failedUnlinks.add(e.path);
    },
  });
  const driver = new Driver({
    fs,
    clock,
    policy,
    databases: DATABASES,
    timestamps: false,
    exactFsync: true,
    // RESP bases under always, RDB bases otherwise; walks of 3 keys per slice.
    rdbPreamble: policy !== 'always',
    sliceEntries: 3,
    figures: emptyDriverFigures(),
    muteFaults: () => {},
  });
  // The same units in every run of a scenario: only the failing call moves.
  const workload = new Workload(createPrng(7), {
    databases: DATABASES,
    multiProbability: 0.2,
    bigValueProbability: 0.1,
    flushWeight: 0,
    highDbShare: 0,
  });
  return { driver, fs, workload, outcomes: new Set(), failedUnlinks, historyNames: [] };
}

/**
 * Fails the n-th call among those `scope` accepts (SQLite's countdown, restricted to one step's
 * calls), once or from then on.
 */
function armScopedCountdown(
  run: Run,
  n: number,
  scope: (call: SimFsCall) => boolean,
  error: FsErrorCode,
  persistent: boolean,
): void {
  let seen = 0;
  run.fs.faults.add({
    op: 'any',
    error,
    persistent: true,
    when: (call) => {
      if (!scope(call)) return false;
      seen++;
      return persistent ? seen >= n : seen === n;
    },
  });
}

/** With the fault gone: crash, recover (judged), then prove the directory is fully usable. */
async function verifyRecovery(run: Run, n: number): Promise<void> {
  const { driver } = run;
  const crash = n % 2 === 1 ? LOSE_UNSYNCED : KEEP_ALL;
  if (!driver.running && driver.units === 0) {
    // The very first start failed: nothing was written; whatever it left must open as empty.
    run.fs.crash(createPrng(n), crash);
    await driver.start();
    driver.checkLockstep();
  } else {
    driver.crash(createPrng(n), crash, `after fault #${n}`);
    await driver.recover();
  }
  await workTurns(run, 1);
  await driver.cleanRestart(createPrng(n + 1), LOSE_UNSYNCED);
  driver.checkLockstep();
}

async function countdown(
  scenario: Scenario,
  error: FsErrorCode,
  persistent: boolean,
): Promise<number> {
  for (let n = 1; n <= MAX_COUNTDOWN; n++) {
    const run = newRun(scenario.policy);
    try {
      await scenario.prepare(run);
      run.failedUnlinks.clear();
      const before = run.fs.injectedCount;
      const scope = scenario.scope;
      if (scope === undefined) run.fs.failNthCall(n, { error, persistent });
      else armScopedCountdown(run, n, (call) => scope(call, run), error, persistent);
      await scenario.faulted(run);
      run.fs.faults.clear();
      const injected = run.fs.injectedCount - before;
      book.add('faultsInjected', injected);
      await scenario.after?.(run);
      await verifyRecovery(run, n);
      book.add('runs');
      if (scenario.name.startsWith('rewrite')) book.add(`runs ${scenario.name}`);
      book.addAll(run.driver.figures as unknown as Record<string, number>);
      for (const outcome of run.outcomes.size > 0 ? run.outcomes : ['ok'])
        book.add(`outcome ${outcome}`);
      if (injected === 0) return n - 1;
    } catch (failure) {
      const trace = run.driver.trace.join('\n  ');
      const detail =
        failure instanceof Error ? (failure.stack ?? failure.message) : String(failure);
      throw new Error(
        `${scenario.name}: fault #${n} (${error}, ${persistent ? 'persistent' : 'once'}) ` +
          `broke a check: ${detail}\n  ${trace}`,
      );
    } finally {
      await run.driver.dispose();
    }
  }
  throw new Error(`${scenario.name}: still injecting faults after ${MAX_COUNTDOWN} calls`);
}

describe(
  'fault countdown: each I/O call of a step fails in turn; ' +
    'outcomes are documented, nothing guaranteed is lost',
  () => {
    afterAll(() => book.flush());

    for (const scenario of SCENARIOS) {
      for (const error of ['EIO', 'ENOSPC'] as const) {
        for (const persistent of [false, true]) {
          const mode = persistent ? 'from then on' : 'once';
          it(`${scenario.name}: the n-th call fails with ${error} ${mode}`, async () => {
            const calls = await countdown(scenario, error, persistent);
            book.add('scenarioVariants');
            // The step really performs I/O: otherwise the countdown would prove nothing.
            expect(calls).toBeGreaterThan(0);
          });
        }
      }
    }
  },
);
