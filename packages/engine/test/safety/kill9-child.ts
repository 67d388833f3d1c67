// The process that kill9.test.ts kills. Run as
//   node --import tsx --conditions=@aofkv/source kill9-child.ts <dir> <always|everysec|no> \
//     [rewriteEvery] [toggleSeed] [any|off-first]
// with an IPC channel. It opens an engine on the real file system (real piscina bio, real cron,
// the rewrite's writer thread), then runs command i = 0, 1, 2, ... with a window of concurrent
// commands (so turns group-commit), and sends { kind: 'acked', index: i } when command i's reply
// arrives. Replies of one turn resolve in order, and each message leaves after its reply, so the
// parent's count is a lower bound of what was acked. With `rewriteEvery` > 0 it also sends
// BGREWRITEAOF after every `rewriteEvery` acknowledgements (in the same turns as the writes) and
// reports the rewrite's life over IPC from the engine's log: started (the new INCR is in the
// manifest and the writer switched to it, or, while the AOF is being turned on, the temp INCR is
// open), done, failed, cancelled (killed by CONFIG SET appendonly no/yes).
//
// With `toggleSeed` > 0 it also changes the configuration through the public command API, one
// change at a time, every 20–400 acknowledgements and, while the AOF is on, half the time only
// once the running rewrite has ended (a rewrite takes about a second, thousands of
// acknowledgements: changing more often would cancel every rewrite with `appendonly no`). Draws
// are seeded by toggleSeed; with `off-first` the first change is `appendonly no`, so a run that
// is to be killed around an appendonly cycle gets there without waiting for the draws:
//   CONFIG SET appendfsync always|everysec|no       (a value other than the current one)
//   CONFIG SET aof-use-rdb-preamble yes|no          (the format of the next rewrite's base)
//   CONFIG SET appendonly no ... CONFIG SET appendonly yes
// `appendonly yes` starts the first rewrite (WAIT_REWRITE: writes go to a temp INCR that becomes
// part of the manifest only when that rewrite succeeds); no other change is made until it has
// ended, so the policy is constant while it runs. Each change is reported twice: 'issued' right
// before the command runs, with `at` = the index of the next data command (commands execute in
// submission order, synchronously, so every command < at ran before the change and every
// command >= at after it), and 'replied' when its reply arrived. The parent derives from these
// which acknowledgements the contract guarantees (kill9-ledger.ts).
//
// The workload makes "which prefix survived" readable from the state alone:
//   i % 3 == 0   SET k:<i> v:<i>
//   i % 3 == 1   RPUSH list <i>
//   i % 3 == 2   INCR counter
// It never stops by itself before MAX_COMMANDS: the parent kills it with SIGKILL.

import { openEngine, type DbHandle, type Engine, type FsyncPolicy } from '@aofkv/engine';
import { createPrng, type Prng } from '../../src/testing/prng.ts';

const WINDOW = 8;
const MAX_COMMANDS = 400_000;
/** Acknowledgements between two configuration changes. */
const TOGGLE_GAP_MIN = 20;
const TOGGLE_GAP_MAX = 400;
/** How often a change waits for the running rewrite to end first. */
const TOGGLE_AFTER_REWRITE_PROBABILITY = 0.5;

export type ToggleOption = 'appendfsync' | 'aof-use-rdb-preamble' | 'appendonly';
export type RewriteEvent = 'started' | 'done' | 'failed' | 'cancelled';

export type ChildMessage =
  | { kind: 'ready' }
  | { kind: 'acked'; index: number }
  | { kind: 'rewrite'; event: RewriteEvent }
  | { kind: 'toggle'; phase: 'issued'; option: ToggleOption; value: string; at: number }
  | {
      kind: 'toggle';
      phase: 'replied';
      option: ToggleOption;
      value: string;
      ok: boolean;
      reply: string;
    }
  | { kind: 'error'; message: string }
  | { kind: 'finished' };

export function commandFor(i: number): string[] {
  switch (i % 3) {
    case 0:
      return ['set', `k:${i}`, `v:${i}`];
    case 1:
      return ['rpush', 'list', String(i)];
    default:
      return ['incr', 'counter'];
  }
}

function send(message: ChildMessage): void {
  if (process.send === undefined) throw new Error('kill9-child needs an IPC channel (fork it)');
  process.send(message);
}

/** The engine's log lines that mark a rewrite's life (aof-rewrite.ts). */
function rewriteEventOf(message: string): RewriteEvent | null {
  if (message.startsWith('Background append only file rewriting started')) return 'started';
  if (message.startsWith('Background AOF rewrite finished successfully')) return 'done';
  if (message.startsWith('Background AOF rewrite failed')) return 'failed';
  if (message.startsWith('Killing running AOF rewrite child')) return 'cancelled';
  return null;
}

/** Acknowledgement count with waiters: the toggle driver waits on it instead of sleeping. */
class AckCounter {
  count = 0;
  private waiters: { target: number; resolve: () => void }[] = [];

  add(): void {
    this.count++;
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.target <= this.count);
    this.waiters = this.waiters.filter((w) => w.target > this.count);
    for (const w of ready) w.resolve();
  }

  reach(target: number): Promise<void> {
    if (target <= this.count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ target, resolve }));
  }
}

interface Workload {
  db: DbHandle;
  acks: AckCounter;
  /** Index of the next data command to submit. */
  next(): number;
}

const POLICIES: readonly FsyncPolicy[] = ['always', 'everysec', 'no'];

/** The next configuration change: [option, value]. */
function pickToggle(rng: Prng, engine: Engine): [ToggleOption, string] {
  const roll = rng.nextFloat();
  const otherPolicy = (): [ToggleOption, string] => [
    'appendfsync',
    rng.pick(POLICIES.filter((p) => p !== engine.config.appendfsync)),
  ];
  const flipPreamble = (): [ToggleOption, string] => [
    'aof-use-rdb-preamble',
    engine.config.aofUseRdbPreamble ? 'no' : 'yes',
  ];
  if (!engine.config.appendonly) {
    // While the AOF is off, mostly turn it back on; sometimes change what the first rewrite uses.
    if (roll < 0.6) return ['appendonly', 'yes'];
    return roll < 0.8 ? flipPreamble() : otherPolicy();
  }
  if (roll < 0.35) return otherPolicy();
  return roll < 0.6 ? flipPreamble() : ['appendonly', 'no'];
}

/** Resolves once the AOF is ON again after `appendonly yes` (the first rewrite succeeded). */
function aofOn(engine: Engine): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (engine.aof?.stateKind !== 'on') return;
      engine.off('log', check);
      resolve();
    };
    engine.on('log', check);
    check();
  });
}

/** One configuration change at a time, every few dozen acknowledgements, until killed. */
async function runToggles(
  engine: Engine,
  work: Workload,
  rng: Prng,
  offFirst: boolean,
): Promise<void> {
  for (let change = 0; ; change++) {
    await work.acks.reach(work.acks.count + rng.nextIntBetween(TOGGLE_GAP_MIN, TOGGLE_GAP_MAX));
    const waitForRewrite = rng.chance(TOGGLE_AFTER_REWRITE_PROBABILITY);
    if (waitForRewrite && engine.config.appendonly) await engine.aof!.waitForRewrite();
    const drawn = pickToggle(rng, engine);
    const [option, value] = change === 0 && offFirst ? ['appendonly' as const, 'no'] : drawn;
    // Sent before the command runs: the rewrite `appendonly yes` starts logs 'started' inside it.
    send({ kind: 'toggle', phase: 'issued', option, value, at: work.next() });
    let ok = true;
    let reply: string;
    try {
      reply = String(await work.db.command('config', 'set', option, value));
    } catch (error) {
      ok = false;
      reply = error instanceof Error ? error.message : String(error);
    }
    send({ kind: 'toggle', phase: 'replied', option, value, ok, reply });
    if (option === 'appendonly' && value === 'yes' && ok) await aofOn(engine);
  }
}

async function main(): Promise<void> {
  const [dir, policy, rewriteEveryText, toggleSeedText, firstToggle] = process.argv.slice(2);
  if (dir === undefined || !['always', 'everysec', 'no'].includes(policy ?? '')) {
    throw new Error(
      'usage: kill9-child.ts <dir> <always|everysec|no> [rewriteEvery] [toggleSeed] ' +
        '[any|off-first]',
    );
  }
  const rewriteEvery = Number(rewriteEveryText ?? 0);
  const toggleSeed = Number(toggleSeedText ?? 0);
  const offFirst = firstToggle === 'off-first';
  const engine = await openEngine({
    dir,
    appendfsync: policy as FsyncPolicy,
    autoAofRewritePercentage: 0,
  });
  engine.on('log', (_level: string, message: string) => {
    const event = rewriteEventOf(message);
    if (event !== null) send({ kind: 'rewrite', event });
  });
  const db = engine.db(0);
  let next = 0;
  const work: Workload = { db, acks: new AckCounter(), next: () => next };
  send({ kind: 'ready' });
  const runOne = async (): Promise<void> => {
    while (next < MAX_COMMANDS) {
      const i = next++;
      const [name, ...args] = commandFor(i);
      await db.command(name!, ...args);
      send({ kind: 'acked', index: i });
      work.acks.add();
      // "already in progress" while one runs: that is fine, the next one comes later.
      if (rewriteEvery > 0 && work.acks.count % rewriteEvery === 0) {
        void db.command('bgrewriteaof').catch(() => {});
      }
    }
  };
  const toggles =
    toggleSeed > 0 ? runToggles(engine, work, createPrng(toggleSeed), offFirst) : null;
  // A failed toggle driver is a harness error: report it instead of leaving it unhandled.
  toggles?.catch((error: unknown) => send({ kind: 'error', message: String(error) }));
  await Promise.all(Array.from({ length: WINDOW }, runOne));
  await engine.close();
  send({ kind: 'finished' });
}

// Only when run as the child process, not when the test imports commandFor().
if (process.argv[1]?.endsWith('kill9-child.ts') === true) {
  main().catch((error: unknown) => {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    send({ kind: 'error', message });
    process.exitCode = 1;
  });
}
