// Real processes, real disk: a child runs the engine (kill9-child.ts) and reports every
// acknowledged command over IPC; after the N-th acknowledgement the parent kills it with SIGKILL,
// reloads the directory with openEngine and checks what survived. No sleeps: the kill happens on
// the N-th message, the reload after the child's 'exit' event.
//
// What is checked:
//   always    the loaded state is exactly "the first p commands" for some p, and p covers every
//             command the parent saw acknowledged: write + fdatasync happened before each reply;
//   everysec  the loaded state is exactly a prefix (never a gap or a half-applied command); losing
//             acknowledged commands is allowed by the policy and counted, not failed. SIGKILL
//             kills the process, not the machine: bytes already written survive in the page cache
//             even if never fsynced, so what everysec can lose here is only what was still in
//             aof_buf, i.e. writes postponed while a background fsync was running (up to 2 s).
//   KILL9_RUNS=<n>  runs (default 4: alternating always / everysec); KILL9_SEED=<n> for the N draw.

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

const RUNS = Number(process.env['KILL9_RUNS'] ?? 4);
const SEED = Number(process.env['KILL9_SEED'] ?? 9);
const CHILD = fileURLToPath(new URL('./kill9-child.ts', import.meta.url));
const book = new FigureBook('kill9');

interface KillResult {
  /** Acknowledgements the parent received before the child died. */
  acked: number;
  /** Highest acknowledged command index (-1: none). */
  maxAcked: number;
}

/** Starts the child and SIGKILLs it when the `killAfter`-th acknowledgement arrives. */
function runAndKill(dir: string, policy: FsyncPolicy, killAfter: number): Promise<KillResult> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [dir, policy], {
      execArgv: ['--import', 'tsx', '--conditions=@aofkv/source'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const result: KillResult = { acked: 0, maxAcked: -1 };
    let killed = false;
    child.on('message', (message: { acked?: number; error?: string; done?: boolean }) => {
      if (message.error !== undefined) reject(new Error(`child failed: ${message.error}`));
      if (message.done === true) reject(new Error('the child finished before it was killed'));
      if (message.acked === undefined || killed) return;
      result.acked++;
      result.maxAcked = Math.max(result.maxAcked, message.acked);
      if (result.acked >= killAfter) {
        killed = true;
        child.kill('SIGKILL');
      }
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
    const killAfter = rng.nextIntBetween(20, 1500);
    const name = `run ${run}: appendfsync ${policy}, SIGKILL after ${killAfter} acknowledgements`;
    it(name, { timeout: 60_000 }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'aofkv-kill9-'));
      try {
        const { acked, maxAcked } = await runAndKill(dir, policy, killAfter);
        const engine = await openEngine({ dir, appendfsync: policy, autoCron: false });
        try {
          const prefix = await survivingPrefix(engine);
          const lost = Math.max(0, maxAcked + 1 - prefix);
          book.add('runs');
          book.add(`runs_${policy}`);
          book.add('ackedSeen', acked);
          book.add('commandsRecovered', prefix);
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
