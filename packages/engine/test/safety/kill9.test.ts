// Real processes, real disk: a child runs the engine (kill9-child.ts) and reports every
// acknowledged command over IPC, and the life of the background rewrites it asks for every few
// hundred acknowledgements (BGREWRITEAOF; 'started' once the new INCR is in the manifest and the
// writer switched to it, 'done' once the new base is in place). The parent kills it with SIGKILL
// on a message chosen per run, reloads the directory with openEngine and checks what survived. No
// sleeps: the kill happens on a message, the reload after the child's 'exit' event. Kill moments
// (cycling over the runs):
//   ack        on the N-th acknowledgement (N seeded, 20–1500), wherever the rewrites are;
//   start      on the k-th 'rewrite started' message: right after a manifest switch, while the
//              old INCR's close job and the walk are running;
//   during     on the m-th acknowledgement after the k-th 'rewrite started' (m seeded, 1–40),
//              if the rewrite has not finished by then: during the walk or the done handler;
//   done       on the k-th 'rewrite done' message: right after the base rename, manifest persist
//              and history deletion.
//
// What is checked:
//   always    the loaded state is exactly "the first p commands" for some p, and p covers every
//             command the parent saw acknowledged: write + fdatasync happened before each reply;
//   everysec  the loaded state is exactly a prefix (never a gap or a half-applied command); losing
//             acknowledged commands is allowed by the policy and counted, not failed. SIGKILL
//             kills the process, not the machine: bytes already written survive in the page cache
//             even if never fsynced, so what everysec can lose here is only what was still in
//             aof_buf, i.e. writes postponed while a background fsync was running (up to 2 s).
//   KILL9_RUNS=<n>  runs (default 8: alternating always / everysec, cycling the kill moments);
//   KILL9_SEED=<n>  seed of the draws (N, k, m, the rewrite period).

import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openEngine, type Engine, type FsyncPolicy } from '@aofkv/engine';
import { createPrng } from '../../src/testing/prng.ts';
import { FigureBook } from './figures.ts';
import { commandFor } from './kill9-child.ts';
import { inspectAof } from '@aofkv/engine/testing';

const RUNS = Number(process.env['KILL9_RUNS'] ?? 8);
const SEED = Number(process.env['KILL9_SEED'] ?? 9);
const CHILD = fileURLToPath(new URL('./kill9-child.ts', import.meta.url));
const book = new FigureBook('kill9');

type KillMoment = 'ack' | 'start' | 'during' | 'done';
const MOMENTS: readonly KillMoment[] = ['ack', 'start', 'during', 'done'];

interface KillPlan {
  moment: KillMoment;
  /** ack: the N-th acknowledgement; start/during/done: the k-th rewrite start or finish. */
  count: number;
  /** during: acknowledgements after that start. */
  after: number;
  rewriteEvery: number;
}

interface KillResult {
  /** Acknowledgements the parent received before the child died. */
  acked: number;
  /** Highest acknowledged command index (-1: none). */
  maxAcked: number;
  rewritesStarted: number;
  rewritesDone: number;
  rewritesFailed: number;
  /** A rewrite had started and not ended when the kill was sent. */
  killedDuringRewrite: boolean;
}

interface ChildMessage {
  acked?: number;
  rewrite?: 'started' | 'done' | 'failed';
  error?: string;
  done?: boolean;
}

/** Starts the child and SIGKILLs it at the moment `plan` names. */
function runAndKill(dir: string, policy: FsyncPolicy, plan: KillPlan): Promise<KillResult> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [dir, policy, String(plan.rewriteEvery)], {
      execArgv: ['--import', 'tsx', '--conditions=@aofkv/source'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const result: KillResult = {
      acked: 0,
      maxAcked: -1,
      rewritesStarted: 0,
      rewritesDone: 0,
      rewritesFailed: 0,
      killedDuringRewrite: false,
    };
    let killed = false;
    let rewriteRunning = false;
    /** Acknowledgements since the plan's k-th rewrite start (during), or null before it. */
    let ackedSinceStart: number | null = null;
    const kill = () => {
      killed = true;
      result.killedDuringRewrite = rewriteRunning;
      child.kill('SIGKILL');
    };
    child.on('message', (message: ChildMessage) => {
      if (message.error !== undefined) reject(new Error(`child failed: ${message.error}`));
      if (message.done === true) reject(new Error('the child finished before it was killed'));
      if (killed) return;
      if (message.rewrite !== undefined) {
        if (message.rewrite === 'started') {
          result.rewritesStarted++;
          rewriteRunning = true;
          if (plan.moment === 'start' && result.rewritesStarted === plan.count) return kill();
          if (plan.moment === 'during' && result.rewritesStarted === plan.count) ackedSinceStart = 0;
        } else {
          rewriteRunning = false;
          if (message.rewrite === 'done') result.rewritesDone++;
          else result.rewritesFailed++;
          if (plan.moment === 'done' && result.rewritesDone === plan.count) return kill();
          // The rewrite ended before `after` acknowledgements: wait for the next one.
          if (plan.moment === 'during' && ackedSinceStart !== null) {
            ackedSinceStart = null;
            plan.count = result.rewritesStarted + 1;
          }
        }
        return;
      }
      if (message.acked === undefined) return;
      result.acked++;
      result.maxAcked = Math.max(result.maxAcked, message.acked);
      if (plan.moment === 'ack' && result.acked >= plan.count) return kill();
      if (ackedSinceStart !== null && ++ackedSinceStart >= plan.after) return kill();
      // A safety net: a child whose rewrites never report is killed after many acknowledgements.
      if (result.acked >= 50_000) return kill();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' && killed) resolve(result);
      else reject(new Error(`the child exited by itself (code ${code}, signal ${signal})`));
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
    const expectedList = Array.from({ length: p }, (_, i) => i).filter((i) => i % 3 === 1);
    const expectedCounter = Array.from({ length: p }, (_, i) => i).filter((i) => i % 3 === 2).length;
    const expectedKeys = Array.from({ length: p }, (_, i) => i).filter((i) => i % 3 === 0);
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

describe('kill -9: a real process killed at random moments', () => {
  afterAll(() => book.flush());
  const rng = createPrng(SEED);

  for (let run = 0; run < RUNS; run++) {
    const policy: FsyncPolicy = run % 2 === 0 ? 'always' : 'everysec';
    const moment = MOMENTS[Math.floor(run / 2) % MOMENTS.length]!;
    const plan: KillPlan = {
      moment,
      count: moment === 'ack' ? rng.nextIntBetween(20, 1500) : rng.nextIntBetween(1, 4),
      after: rng.nextIntBetween(1, 40),
      rewriteEvery: rng.nextIntBetween(100, 400),
    };
    const when =
      moment === 'ack'
        ? `after ${plan.count} acknowledgements`
        : moment === 'during'
          ? `${plan.after} acknowledgements into rewrite #${plan.count}`
          : `when rewrite #${plan.count} ${moment === 'start' ? 'started (manifest switched)' : 'finished'}`;
    const name = `run ${run}: appendfsync ${policy}, BGREWRITEAOF every ${plan.rewriteEvery} acks, SIGKILL ${when}`;
    it(name, { timeout: 60_000 }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'aofkv-kill9-'));
      try {
        const result = await runAndKill(dir, policy, plan);
        const { acked, maxAcked } = result;
        const engine = await openEngine({ dir, appendfsync: policy, autoCron: false });
        try {
          const prefix = await survivingPrefix(engine);
          const lost = Math.max(0, maxAcked + 1 - prefix);
          book.add('runs');
          book.add(`runs_${policy}`);
          book.add('ackedSeen', acked);
          book.add('commandsRecovered', prefix);
          book.add(`kills_${moment}`);
          book.add('rewritesStarted', result.rewritesStarted);
          book.add('rewritesDone', result.rewritesDone);
          book.add('rewritesFailed', result.rewritesFailed);
          if (result.killedDuringRewrite) book.add('killedDuringRewrite');
          const manifest = inspectAof(engine).manifest;
          book.add('incrFilesAtReload', manifest.incrList.length);
          if (policy === 'always') {
            book.add('ackedLostViolations', lost);
            expect(prefix, `every acknowledged command (up to #${maxAcked}) survives`).toBeGreaterThan(maxAcked);
          } else {
            book.add('ackedLostAllowed', lost);
          }
        } finally {
          await engine.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
