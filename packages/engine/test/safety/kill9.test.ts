// Real processes, real disk: a child runs the engine (kill9-child.ts) and reports every
// acknowledged command over IPC, the life of the background rewrites it asks for every few
// hundred acknowledgements (BGREWRITEAOF; 'started' once the new INCR is in the manifest and the
// writer switched to it, 'done' once the new base is in place) and, in runs with toggles, each
// configuration change it makes through CONFIG SET (appendfsync, aof-use-rdb-preamble, appendonly
// no/yes). The parent kills it with SIGKILL on a message chosen per run, reloads the directory
// with openEngine and checks what survived. No sleeps: the kill happens on a message, the reload
// after the child's 'exit' event. Kill moments (cycling over the runs):
//   ack            on the N-th acknowledgement (N seeded, 20–1500), wherever the rewrites are;
//   start          on the k-th 'rewrite started' message: right after a manifest switch, while
//                  the old INCR's close job and the walk are running;
//   during         on the m-th acknowledgement after the k-th 'rewrite started' (m seeded, 1–40),
//                  if the rewrite has not finished by then: during the walk or the done handler;
//   done           on the k-th 'rewrite done' message: right after the base rename, manifest
//                  persist and history deletion;
//   toggle         right after the reply to the k-th configuration change, whatever it was;
//   aof-off        m acknowledgements into the k-th period with `appendonly no`;
//   aof-yes        right after the reply to the k-th `appendonly yes` (the first rewrite runs);
//   first-rewrite  m acknowledgements into the first rewrite after the k-th `appendonly yes`;
//   first-done     right after that first rewrite finished (the AOF is on again).
// The last five run with toggles; the first four do in every other pair of cycles.
//
// What is checked, for every run: the loaded state is exactly "the first p commands" for some p
// (never a gap or a half-applied command), and p covers every acknowledgement the contract
// guarantees (kill9-ledger.ts): those whose turn was flushed under `always` with the AOF on, or,
// after `appendonly yes`, every one once the first rewrite finished under `always`. Other lost
// acknowledgements are counted, not failed. SIGKILL kills the process, not the machine: bytes
// already written survive in the page cache even if never fsynced, so what everysec can lose
// here is only what was still in aof_buf (writes postponed while a background fsync ran).
//   KILL9_RUNS=<n>  runs (default 8, long mode 500; alternating always / everysec);
//   KILL9_SEED=<n>  seed of the draws (N, k, m, the rewrite period, the toggle seeds).

import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openEngine, type Engine, type FsyncPolicy } from '@aofkv/engine';
import { inspectAof } from '@aofkv/engine/testing';
import { createPrng, type Prng } from '../../src/testing/prng.ts';
import { FigureBook } from './figures.ts';
import {
  commandFor,
  type ChildMessage,
  type RewriteEvent,
  type ToggleOption,
} from './kill9-child.ts';
import { AckLedger } from './kill9-ledger.ts';
import { LONG_MODE, LONG_SCALE, envInt, testTimeoutMs } from './scale.ts';

const RUNS = envInt('KILL9_RUNS') ?? (LONG_MODE ? LONG_SCALE.kill9Runs : 8);
const SEED = envInt('KILL9_SEED') ?? 9;
const CHILD = fileURLToPath(new URL('./kill9-child.ts', import.meta.url));
/** A child whose moment never comes is killed after this many acknowledgements. */
const FALLBACK_ACKS = 250_000;
const book = new FigureBook('kill9');

type KillMoment =
  | 'ack'
  | 'start'
  | 'during'
  | 'done'
  | 'toggle'
  | 'aof-off'
  | 'aof-yes'
  | 'first-rewrite'
  | 'first-done';
/** In run order: the default 8 runs cover all but `toggle`, the most expensive one. */
const MOMENTS: readonly KillMoment[] = [
  'ack',
  'start',
  'during',
  'done',
  'first-done',
  'aof-yes',
  'first-rewrite',
  'aof-off',
  'toggle',
];
const TOGGLE_MOMENTS: ReadonlySet<KillMoment> = new Set([
  'toggle',
  'aof-off',
  'aof-yes',
  'first-rewrite',
  'first-done',
]);

/** Moments of an appendonly no/yes cycle. */
const CYCLE_MOMENTS: ReadonlySet<KillMoment> = new Set([
  'aof-off',
  'aof-yes',
  'first-rewrite',
  'first-done',
]);

interface KillPlan {
  moment: KillMoment;
  /** ack: the N-th acknowledgement; otherwise the k-th event the moment names. */
  count: number;
  /** during, aof-off, first-rewrite: acknowledgements after that event. */
  after: number;
  rewriteEvery: number;
  /** Seed of the child's configuration changes; 0: none. */
  toggleSeed: number;
}

interface KillResult {
  ledger: AckLedger;
  /** Acknowledgements the parent received before the child died. */
  acked: number;
  rewrites: Record<'started' | 'done' | 'failed' | 'cancelled', number>;
  /** Configuration changes replied to, as "option value" → count. */
  toggles: Map<string, number>;
  /** The first rewrite after `appendonly yes` finished (the AOF is on again). */
  turnedOn: number;
  /** Where the child was when the kill was sent. */
  killedIn: { rewrite: boolean; aofOff: boolean; turningOn: boolean; toggleInFlight: boolean };
  /** The moment never came: killed after FALLBACK_ACKS acknowledgements. */
  fallback: boolean;
}

/** Tracks the run and says when the plan's moment has come. */
class MomentWatch {
  private readonly plan: KillPlan;
  private readonly result: KillResult;
  private rewriteRunning = false;
  private toggleInFlight = false;
  private aofNoReplies = 0;
  private aofYesReplies = 0;
  /** Acknowledgements since the moment's k-th event (during, aof-off, first-rewrite). */
  private ackedSince: number | null = null;

  constructor(plan: KillPlan, result: KillResult) {
    this.plan = plan;
    this.result = result;
  }

  /** Records the message; true when the child must be killed now. */
  observe(message: ChildMessage): boolean {
    const aofBefore = this.result.ledger.aof;
    this.result.ledger.observe(message);
    switch (message.kind) {
      case 'acked':
        return this.acked();
      case 'rewrite':
        return this.rewrite(message.event, aofBefore);
      case 'toggle':
        return this.toggle(message);
      default:
        return false;
    }
  }

  snapshot(): KillResult['killedIn'] {
    const aof = this.result.ledger.aof;
    return {
      rewrite: this.rewriteRunning,
      aofOff: aof === 'off',
      turningOn: aof === 'wait-rewrite',
      toggleInFlight: this.toggleInFlight,
    };
  }

  private acked(): boolean {
    const { plan, result } = this;
    result.acked++;
    if (plan.moment === 'ack' && result.acked >= plan.count) return true;
    if (this.ackedSince !== null && ++this.ackedSince >= plan.after) return true;
    if (result.acked < FALLBACK_ACKS) return false;
    result.fallback = true;
    return true;
  }

  private rewrite(event: 'started' | 'done' | 'failed' | 'cancelled', aofBefore: string): boolean {
    const { plan, result } = this;
    result.rewrites[event]++;
    if (event === 'started') {
      this.rewriteRunning = true;
      if (plan.moment === 'start' && result.rewrites.started === plan.count) return true;
      if (plan.moment === 'during' && result.rewrites.started === plan.count) this.ackedSince = 0;
      return false;
    }
    this.rewriteRunning = false;
    if (event === 'done' && aofBefore === 'wait-rewrite') {
      result.turnedOn++;
      if (plan.moment === 'first-done' && result.turnedOn === plan.count) return true;
    }
    const doneCount = result.rewrites.done;
    if (plan.moment === 'done' && event === 'done' && doneCount === plan.count) return true;
    // The rewrite ended before `after` acknowledgements: wait for the next one.
    if (plan.moment === 'during' && this.ackedSince !== null) {
      this.ackedSince = null;
      plan.count = result.rewrites.started + 1;
    }
    if (plan.moment === 'first-rewrite' && this.ackedSince !== null && result.ledger.aof === 'on') {
      this.ackedSince = null;
      plan.count = this.aofYesReplies + 1;
    }
    return false;
  }

  private toggle(message: Extract<ChildMessage, { kind: 'toggle' }>): boolean {
    const { plan, result } = this;
    if (message.phase === 'issued') {
      this.toggleInFlight = true;
      // `appendonly yes` ends an aof-off wait that has not reached its count: try the next one.
      const offWaiting = plan.moment === 'aof-off' && this.ackedSince !== null;
      if (offWaiting && message.option === 'appendonly') {
        this.ackedSince = null;
        plan.count = this.aofNoReplies + 1;
      }
      return false;
    }
    this.toggleInFlight = false;
    const name = `${message.option} ${message.value}${message.ok ? '' : ' (refused)'}`;
    result.toggles.set(name, (result.toggles.get(name) ?? 0) + 1);
    const replies = [...result.toggles.values()].reduce((a, b) => a + b, 0);
    if (plan.moment === 'toggle' && replies === plan.count) return true;
    if (message.option !== 'appendonly' || !message.ok) return false;
    if (message.value === 'no' && ++this.aofNoReplies === plan.count && plan.moment === 'aof-off') {
      this.ackedSince = 0;
    }
    if (message.value !== 'yes') return false;
    this.aofYesReplies++;
    if (this.aofYesReplies !== plan.count) return false;
    if (plan.moment === 'aof-yes') return true;
    // The first rewrite may already be over (a tiny dataset): then wait for the next cycle.
    if (plan.moment === 'first-rewrite') {
      if (result.ledger.aof === 'wait-rewrite') this.ackedSince = 0;
      else plan.count++;
    }
    return false;
  }
}

/** Starts the child and SIGKILLs it at the moment `plan` names. */
function runAndKill(dir: string, policy: FsyncPolicy, plan: KillPlan): Promise<KillResult> {
  return new Promise((resolve, reject) => {
    // Runs killed around an appendonly cycle start with one (see kill9-child.ts).
    const first = CYCLE_MOMENTS.has(plan.moment) ? 'off-first' : 'any';
    const args = [dir, policy, String(plan.rewriteEvery), String(plan.toggleSeed), first];
    const child = fork(CHILD, args, {
      execArgv: ['--import', 'tsx', '--conditions=@aofkv/source'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const result: KillResult = {
      ledger: new AckLedger(policy),
      acked: 0,
      rewrites: { started: 0, done: 0, failed: 0, cancelled: 0 },
      toggles: new Map(),
      turnedOn: 0,
      killedIn: { rewrite: false, aofOff: false, turningOn: false, toggleInFlight: false },
      fallback: false,
    };
    const watch = new MomentWatch(plan, result);
    let killed = false;
    let failed = false;
    /** A crash or harness error: counted once, and the child does not outlive the run. */
    const fail = (error: Error): void => {
      if (failed) return;
      failed = true;
      book.add('childCrashes');
      child.kill('SIGKILL');
      reject(error);
    };
    child.on('message', (message: ChildMessage) => {
      if (message.kind === 'error') fail(new Error(`child failed: ${message.message}`));
      if (message.kind === 'finished') fail(new Error('the child finished before it was killed'));
      if (killed || failed || !watch.observe(message)) return;
      killed = true;
      result.killedIn = watch.snapshot();
      child.kill('SIGKILL');
    });
    child.on('error', fail);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' && killed) return resolve(result);
      fail(new Error(`the child exited by itself (code ${code}, signal ${signal})`));
    });
  });
}

/** The p such that the state is exactly "commands 0..p-1 applied"; throws if no p fits. */
async function survivingPrefix(engine: Engine): Promise<number> {
  const db = engine.db(0);
  const list = ((await db.command('lrange', 'list', '0', '-1')) as string[]).map(Number);
  const counter = Number((await db.command('get', 'counter')) ?? 0);
  const keys = (await db.command('keys', 'k:*')) as string[];
  const sets = keys.length;
  // p is fixed by the count of each kind of command: sets = ceil(p / 3), and so on.
  for (let p = Math.max(0, 3 * sets - 2); p <= 3 * sets; p++) {
    const indices = Array.from({ length: p }, (_, i) => i);
    const expectedList = indices.filter((i) => i % 3 === 1);
    const expectedCounter = indices.filter((i) => i % 3 === 2).length;
    const expectedKeys = indices.filter((i) => i % 3 === 0);
    if (expectedKeys.length !== sets || counter !== expectedCounter) continue;
    if (JSON.stringify(list) !== JSON.stringify(expectedList)) continue;
    for (const i of expectedKeys) {
      const [, key, value] = commandFor(i);
      expect(await db.get(key!), `${key} of a prefix of ${p} commands`).toBe(value);
    }
    return p;
  }
  throw new Error(
    `the loaded state is no prefix of the commands: ${sets} k:* keys, counter ${counter}, ` +
      `list of ${list.length} (last ${list.at(-1)})`,
  );
}

function drawPlan(run: number, rng: Prng): { policy: FsyncPolicy; plan: KillPlan } {
  // MOMENTS has an odd length, so each moment alternates policies from one cycle to the next.
  const policy: FsyncPolicy = run % 2 === 0 ? 'always' : 'everysec';
  const moment = MOMENTS[run % MOMENTS.length]!;
  const cycle = Math.floor(run / MOMENTS.length);
  const toggles = TOGGLE_MOMENTS.has(moment) || Math.floor(cycle / 2) % 2 === 1;
  const count =
    moment === 'ack'
      ? rng.nextIntBetween(20, 1500)
      : moment === 'toggle'
        ? rng.nextIntBetween(1, 5)
        : CYCLE_MOMENTS.has(moment)
          ? // An appendonly cycle takes seconds (two rewrites start a thread each): mostly 1.
            rng.chance(0.25)
            ? 2
            : 1
          : rng.nextIntBetween(1, 4);
  const plan: KillPlan = {
    moment,
    count,
    after: rng.nextIntBetween(1, 40),
    rewriteEvery: rng.nextIntBetween(100, 400),
    toggleSeed: rng.nextIntBetween(1, 2 ** 31),
  };
  if (!toggles) plan.toggleSeed = 0;
  return { policy, plan };
}

function describePlan(run: number, policy: FsyncPolicy, plan: KillPlan): string {
  const k = plan.count;
  const when: Record<KillMoment, string> = {
    ack: `after ${k} acknowledgements`,
    start: `when rewrite #${k} started (manifest switched)`,
    during: `${plan.after} acknowledgements into rewrite #${k}`,
    done: `when rewrite #${k} finished`,
    toggle: `after the reply to configuration change #${k}`,
    'aof-off': `${plan.after} acknowledgements into appendonly-no period #${k}`,
    'aof-yes': `after the reply to appendonly yes #${k}`,
    'first-rewrite':
      `${plan.after} acknowledgements into the first rewrite ` + `after appendonly yes #${k}`,
    'first-done': `when the first rewrite after appendonly yes #${k} finished`,
  };
  const toggles = plan.toggleSeed === 0 ? '' : `, CONFIG SET toggles (seed ${plan.toggleSeed})`;
  return (
    `run ${run}: appendfsync ${policy}, BGREWRITEAOF every ${plan.rewriteEvery} acks${toggles}, ` +
    `SIGKILL ${when[plan.moment]}`
  );
}

function recordRun(policy: FsyncPolicy, plan: KillPlan, result: KillResult, prefix: number): void {
  const { ledger } = result;
  book.add('runs');
  book.add(`runs_${policy}`);
  if (plan.toggleSeed !== 0) book.add('runsWithToggles');
  book.add(result.fallback ? 'kills_fallback' : `kills_${plan.moment}`);
  book.add('ackedSeen', result.acked);
  book.add('commandsRecovered', prefix);
  book.add('guaranteedAcked', ledger.maxGuaranteed + 1);
  book.add('ackedWhileAofNotOn', ledger.ackedWhileAofNotOn);
  for (const [event, n] of Object.entries(result.rewrites)) book.add(`rewrites_${event}`, n);
  for (const [name, n] of result.toggles) book.add(`toggle ${name}`, n);
  book.add('aofTurnedOn', result.turnedOn);
  if (result.killedIn.rewrite) book.add('killedDuringRewrite');
  if (result.killedIn.aofOff) book.add('killedWhileAofOff');
  if (result.killedIn.turningOn) book.add('killedWhileTurningOn');
  if (result.killedIn.toggleInFlight) book.add('killedWithToggleInFlight');
  const violations = Math.max(0, ledger.maxGuaranteed + 1 - prefix);
  book.add('ackedLostViolations', violations);
  book.add('ackedLostAllowed', Math.max(0, ledger.maxAcked + 1 - prefix) - violations);
}

describe('kill -9: a real process killed at random moments', () => {
  afterAll(() => book.flush());
  const rng = createPrng(SEED);

  for (let run = 0; run < RUNS; run++) {
    const { policy, plan } = drawPlan(run, rng);
    it(describePlan(run, policy, plan), { timeout: testTimeoutMs(60_000) }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'aofkv-kill9-'));
      try {
        const result = await runAndKill(dir, policy, plan);
        const engine = await openEngine({ dir, appendfsync: policy, autoCron: false });
        try {
          const prefix = await survivingPrefix(engine);
          recordRun(policy, plan, result, prefix);
          if (result.fallback) book.note(`fallback kill: ${describePlan(run, policy, plan)}`);
          book.add('incrFilesAtReload', inspectAof(engine).manifest.incrList.length);
          const { maxGuaranteed } = result.ledger;
          expect(
            prefix,
            `every guaranteed acknowledgement (up to #${maxGuaranteed}) survives`,
          ).toBeGreaterThan(maxGuaranteed);
        } finally {
          await engine.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('kill -9 ledger: which acknowledgements the contract guarantees', () => {
  const acked = (index: number): ChildMessage => ({ kind: 'acked', index });
  const issued = (option: ToggleOption, value: string, at: number): ChildMessage => ({
    kind: 'toggle',
    phase: 'issued',
    option,
    value,
    at,
  });
  const replied = (option: ToggleOption, value: string, ok = true): ChildMessage => ({
    kind: 'toggle',
    phase: 'replied',
    option,
    value,
    ok,
    reply: ok ? 'OK' : 'ERR',
  });
  const rewrite = (event: RewriteEvent): ChildMessage => ({ kind: 'rewrite', event });
  const ledgerAfter = (policy: FsyncPolicy, messages: ChildMessage[]): AckLedger => {
    const ledger = new AckLedger(policy);
    for (const message of messages) ledger.observe(message);
    return ledger;
  };

  it('under always without changes every acknowledgement counts; under everysec none', () => {
    const messages = [acked(0), acked(2), acked(1)];
    expect(ledgerAfter('always', messages).maxGuaranteed).toBe(2);
    expect(ledgerAfter('everysec', messages).maxGuaranteed).toBe(-1);
  });

  it('appendfsync always counts from the replied change, for commands run after it only', () => {
    const ledger = ledgerAfter('everysec', [
      acked(0),
      issued('appendfsync', 'always', 3),
      acked(1),
      replied('appendfsync', 'always'),
      acked(2),
    ]);
    // 1 and 2 ran before the change (at = 3): they may have been flushed under everysec.
    expect(ledger.maxGuaranteed).toBe(-1);
    ledger.observe(acked(3));
    expect(ledger.maxGuaranteed).toBe(3);
  });

  it('leaving always ends the guarantee when the change is issued, not when it is replied', () => {
    const ledger = ledgerAfter('always', [
      acked(0),
      issued('appendfsync', 'no', 2),
      acked(1),
      replied('appendfsync', 'no'),
      acked(2),
    ]);
    expect(ledger.maxGuaranteed).toBe(0);
    expect(ledger.maxAcked).toBe(2);
  });

  it('appendonly no/yes: nothing is guaranteed until the first rewrite after yes is done', () => {
    const ledger = ledgerAfter('always', [
      acked(0),
      issued('appendonly', 'no', 1),
      acked(1),
      replied('appendonly', 'no'),
      rewrite('done'), // a BGREWRITEAOF while the AOF is off: base only, changes nothing
      issued('appendonly', 'yes', 2),
      rewrite('started'),
      acked(2),
      replied('appendonly', 'yes'),
      acked(3),
    ]);
    expect(ledger.aof).toBe('wait-rewrite');
    expect(ledger.maxGuaranteed).toBe(0);
    expect(ledger.ackedWhileAofNotOn).toBe(3);
    ledger.observe(rewrite('done'));
    // The new base holds everything before the rewrite, its INCR everything after.
    expect(ledger.aof).toBe('on');
    expect(ledger.maxGuaranteed).toBe(3);
    ledger.observe(acked(4));
    expect(ledger.maxGuaranteed).toBe(4);
  });

  it('turning the AOF on under everysec guarantees nothing; a refused yes leaves it off', () => {
    const everysec = ledgerAfter('everysec', [
      issued('appendonly', 'no', 0),
      replied('appendonly', 'no'),
      issued('appendonly', 'yes', 0),
      replied('appendonly', 'yes'),
      acked(0),
      rewrite('done'),
    ]);
    expect([everysec.aof, everysec.maxGuaranteed]).toEqual(['on', -1]);
    const refused = ledgerAfter('always', [
      issued('appendonly', 'no', 0),
      replied('appendonly', 'no'),
      issued('appendonly', 'yes', 0),
      replied('appendonly', 'yes', false),
      acked(0),
      rewrite('done'),
    ]);
    expect([refused.aof, refused.maxGuaranteed]).toEqual(['off', -1]);
  });
});
