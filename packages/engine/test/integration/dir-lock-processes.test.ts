// The data directory's lock with real processes (dir-lock-child.ts) on the real disk: two
// processes racing to open one directory (exactly one wins, every trial, on a fresh directory and
// on one with a stale lock), kill -9 of the holder (the next opener takes over), a live holder
// whose lock file is made to look old (never taken over), a lock naming a pid that another
// program now runs (stale), and the CLI's behaviour next to a live writer.

import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openEngine } from '@aofkv/engine';
import { EngineError } from '../../src/errors.ts';
import { NodeProcessProbe } from '../../src/io/process-probe.ts';
import { runCliInProcess } from './cli-helpers.ts';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'dir-lock-child.ts');
const LOCK = 'appendonly.aof.lock';
const RACE_TRIALS = 40;

type Message =
  | { kind: 'ready'; pid: number }
  | { kind: 'opened'; pid: number; warnings: string[] }
  | { kind: 'refused'; code: string; message: string }
  | { kind: 'acked' }
  | { kind: 'closed' }
  | { kind: 'error'; message: string };

/** A child and the messages it sent, awaited in order. */
class Child {
  readonly process: ChildProcess;
  readonly #inbox: Message[] = [];
  readonly #waiters: ((m: Message) => void)[] = [];

  constructor() {
    this.process = fork(CHILD, [], {
      execArgv: ['--import', 'tsx', '--conditions=@aofkv/source'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.process.on('message', (m: Message) => {
      const waiter = this.#waiters.shift();
      if (waiter !== undefined) waiter(m);
      else this.#inbox.push(m);
    });
  }

  next(): Promise<Message> {
    const m = this.#inbox.shift();
    if (m !== undefined) return Promise.resolve(m);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  send(order: object): void {
    this.process.send(order);
  }

  async ask(order: object): Promise<Message> {
    this.send(order);
    return this.next();
  }

  get pid(): number {
    return this.process.pid!;
  }

  async kill9(): Promise<void> {
    const exited = once(this.process, 'exit');
    this.process.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = once(this.process, 'exit');
    this.process.disconnect();
    await exited;
  }
}

const roots: string[] = [];
function newDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aofkv-lock-'));
  roots.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of roots) fs.rmSync(dir, { recursive: true, force: true });
});

/** A lock file that names `pid` with a start time no process of that pid has. */
function writeStaleLock(dir: string, pid: number): void {
  const me = new NodeProcessProbe().self();
  const record = {
    format: 'aofkv-lock/1',
    pid,
    host: me.host,
    startTime: '1',
    bootId: me.bootId,
    since: '2001-01-01T00:00:00.000Z',
    nonce: 'deadbeef',
  };
  fs.writeFileSync(path.join(dir, LOCK), JSON.stringify(record));
}

function lockPid(dir: string): number {
  return (JSON.parse(fs.readFileSync(path.join(dir, LOCK), 'utf8')) as { pid: number }).pid;
}

async function ready(child: Child): Promise<Child> {
  const m = await child.next();
  expect(m.kind).toBe('ready');
  return child;
}

describe('directory lock with real processes', () => {
  let a: Child;
  let b: Child;
  beforeAll(async () => {
    [a, b] = await Promise.all([ready(new Child()), ready(new Child())]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it(`two processes race to open one dir: exactly one wins, ${RACE_TRIALS} trials`, async () => {
    const deadPid = spawnSync('true').pid;
    for (let trial = 0; trial < RACE_TRIALS; trial++) {
      const dir = newDir();
      const stale = trial % 2 === 1;
      if (stale) writeStaleLock(dir, deadPid);
      // Both orders leave at once; each child opens as soon as its order arrives.
      a.send({ kind: 'open', dir });
      b.send({ kind: 'open', dir });
      const [ra, rb] = await Promise.all([a.next(), b.next()]);
      const context = `trial ${trial} (${stale ? 'stale lock' : 'fresh dir'})`;
      const winners = [ra, rb].filter((m) => m.kind === 'opened');
      const losers = [ra, rb].filter((m) => m.kind === 'refused');
      expect(winners.length, context).toBe(1);
      expect(losers.length, context).toBe(1);
      const winner = winners[0] as Extract<Message, { kind: 'opened' }>;
      const loser = losers[0] as Extract<Message, { kind: 'refused' }>;
      expect(loser.code, context).toBe('ERR_DIR_LOCKED');
      expect(lockPid(dir), context).toBe(winner.pid);
      const winnerChild = winner.pid === a.pid ? a : b;
      expect(await winnerChild.ask({ kind: 'set', key: `k${trial}` })).toEqual({ kind: 'acked' });
      expect(await winnerChild.ask({ kind: 'close' })).toEqual({ kind: 'closed' });
      expect(fs.existsSync(path.join(dir, LOCK)), context).toBe(false);
      expect(
        fs.readdirSync(dir).filter((n) => n.startsWith(LOCK)),
        context,
      ).toEqual([]);
    }
  });
});

describe('directory lock: holders that die, and holders that live', () => {
  const children: Child[] = [];
  const spawnChild = async () => {
    const child = await ready(new Child());
    children.push(child);
    return child;
  };
  afterEach(async () => {
    await Promise.all(children.splice(0).map((c) => c.stop()));
  });

  it('kill -9 of the holder: the next opener takes the directory over', async () => {
    const dir = newDir();
    const holder = await spawnChild();
    expect((await holder.ask({ kind: 'open', dir })).kind).toBe('opened');
    expect(await holder.ask({ kind: 'set', key: 'before' })).toEqual({ kind: 'acked' });
    await holder.kill9();
    expect(lockPid(dir)).toBe(holder.pid); // the dead process's lock is still there
    const next = await spawnChild();
    const opened = await next.ask({ kind: 'open', dir });
    expect(opened.kind).toBe('opened');
    const { warnings } = opened as Extract<Message, { kind: 'opened' }>;
    expect(
      warnings.some((w) => w.includes(`Took over the lock`) && w.includes(`${holder.pid}`)),
    ).toBe(true);
    expect(lockPid(dir)).toBe(next.pid);
    expect(await next.ask({ kind: 'close' })).toEqual({ kind: 'closed' });
  });

  it('a live holder whose lock file is made to look old is not taken over', async () => {
    const dir = newDir();
    const holder = await spawnChild();
    expect((await holder.ask({ kind: 'open', dir })).kind).toBe('opened');
    const lockPath = path.join(dir, LOCK);
    const record = JSON.parse(fs.readFileSync(lockPath, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(lockPath, JSON.stringify({ ...record, since: '1999-01-01T00:00:00.000Z' }));
    const old = new Date('1999-01-01T00:00:00Z');
    fs.utimesSync(lockPath, old, old);
    const other = await spawnChild();
    const refused = await other.ask({ kind: 'open', dir });
    expect(refused.kind).toBe('refused');
    const { code, message } = refused as Extract<Message, { kind: 'refused' }>;
    expect(code).toBe('ERR_DIR_LOCKED');
    expect(message).toContain(`pid ${holder.pid} on host ${os.hostname()}`);
    expect(message).toContain('since 1999-01-01');
    expect(lockPid(dir)).toBe(holder.pid);
    expect(await holder.ask({ kind: 'set', key: 'still-mine' })).toEqual({ kind: 'acked' });
    expect(await holder.ask({ kind: 'close' })).toEqual({ kind: 'closed' });
  });

  it('a lock naming a pid now run by another program (pid reuse) is stale', async () => {
    const dir = newDir();
    writeStaleLock(dir, process.pid); // this test runner is alive, but started at another time
    const engine = await openEngine({ dir, appendfsync: 'no' });
    try {
      expect(lockPid(dir)).toBe(process.pid);
      expect(
        (JSON.parse(fs.readFileSync(path.join(dir, LOCK), 'utf8')) as { nonce: string }).nonce,
      ).not.toBe('deadbeef');
    } finally {
      await engine.close();
    }
  });
});

describe('directory lock in this process, and the CLI next to a writer', () => {
  it('a second openEngine in the same process fails at once; after close() it opens', async () => {
    const dir = newDir();
    const first = await openEngine({ dir, appendfsync: 'no' });
    const second = await openEngine({ dir }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(EngineError);
    expect((second as EngineError).code).toBe('ERR_DIR_LOCKED');
    expect((second as EngineError).message).toContain(`pid ${process.pid}`);
    const warnings: string[] = [];
    const reader = await openEngine({
      dir,
      readOnly: true,
      logger: (level, m) => void (level === 'warning' && warnings.push(m)),
    });
    expect(warnings.some((w) => w.includes('locked by a writer'))).toBe(true);
    await reader.close();
    expect(lockPid(dir)).toBe(process.pid); // the reader took and released nothing
    await first.close();
    expect(fs.existsSync(path.join(dir, LOCK))).toBe(false);
    const again = await openEngine({ dir, appendfsync: 'no' });
    await again.close();
  });

  it('dump and check-aof warn on stderr; check-aof --fix refuses next to a writer', async () => {
    const dir = newDir();
    const engine = await openEngine({ dir, appendfsync: 'always' });
    try {
      await engine.db(0).set('k', 'v');
      const dump = await runCliInProcess(['dump', '--dir', dir]);
      expect(dump.code).toBe(0);
      expect(dump.stderr).toContain('locked by a writer');
      expect(JSON.parse(dump.stdout.toString()).dbs).toBeDefined();
      const manifest = path.join(dir, 'appendonlydir', 'appendonly.aof.manifest');
      const check = await runCliInProcess(['check-aof', manifest]);
      expect(check.code).toBe(0);
      expect(check.stderr).toContain('an engine is writing this AOF');
      expect(check.stderr).toContain(`pid ${process.pid}`);
      const incr = path.join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof');
      const before = fs.readFileSync(incr);
      const fix = await runCliInProcess(['check-aof', '--fix', '-y', incr]);
      expect(fix.code).toBe(1);
      expect(fix.stderr).toContain('refusing to modify the AOF');
      expect(fs.readFileSync(incr)).toEqual(before);
    } finally {
      await engine.close();
    }
    const after = await runCliInProcess([
      'check-aof',
      path.join(dir, 'appendonlydir', 'appendonly.aof.manifest'),
    ]);
    expect(after.stderr).not.toContain('writing this AOF');
  });
});
