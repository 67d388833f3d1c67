// Issue 15: Redis 7.2's WAITAOF and the embedded waitAof() on the simulated disk (bio jobs held
// and released by hand: slow fsyncs; injected EIO: failing ones) and on the real disk.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createPiscinaBio } from '@aofkv/bio-workers';
import { EngineError, ReplyError, openEngine, type Engine } from '@aofkv/engine';
import { openSimEngine, type SimEngine } from '@aofkv/engine/testing';
import { createPrng } from '../../src/testing/prng.ts';

const DISABLED = 'ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.';

const open: Engine[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close().catch(() => {})));
});

async function sim(options: Parameters<typeof openSimEngine>[0] = {}): Promise<SimEngine> {
  const s = await openSimEngine(options);
  open.push(s.engine);
  return s;
}

/** Lets promise callbacks and a scheduled beforeSleep run. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A promise's state without waiting for it. */
function track<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

async function replyError(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ReplyError);
  return (error as ReplyError).message;
}

describe('WAITAOF: replies and errors (Redis 7.2 waitaofCommand)', () => {
  it('argument errors, in Redis’s order and words', async () => {
    const { engine } = await sim();
    const db = engine.db(0);
    const w = (...args: (string | number)[]) => replyError(db.command('WAITAOF', ...args));
    expect(await w(2, 0, 0)).toBe('ERR value is out of range, value must between 0 and 1');
    expect(await w(-1, 0, 0)).toBe('ERR value is out of range, value must between 0 and 1');
    expect(await w('x', 0, 0)).toBe('ERR value is not an integer or out of range');
    expect(await w(1, -1, 0)).toBe('ERR value is out of range, must be positive');
    expect(await w(1, 'y', 0)).toBe('ERR value is not an integer or out of range');
    expect(await w(1, 0, -1)).toBe('ERR timeout is negative');
    expect(await w(1, 0, 'z')).toBe('ERR timeout is not an integer or out of range');
    expect(await w(1, 0, '9223372036854775807')).toBe('ERR timeout is out of range');
    expect(await replyError(db.command('WAITAOF', 1, 0))).toBe(
      "ERR wrong number of arguments for 'waitaof' command",
    );
  });

  it('numlocal with the AOF off is refused; numlocal 0 answers [0, 0]', async () => {
    const { engine } = await sim({ appendonly: false });
    const db = engine.db(0);
    expect(await replyError(db.command('WAITAOF', 1, 0, 0))).toBe(DISABLED);
    expect(await db.command('WAITAOF', 0, 0, 0)).toEqual([0, 0]);
  });

  it('a client that wrote nothing is acknowledged at once', async () => {
    const { engine } = await sim({ appendfsync: 'no' });
    expect(await engine.db(0).command('WAITAOF', 1, 0, 0)).toEqual([1, 0]);
  });

  it('everysec: blocks, starts a background fsync now (no tick), then [1, 0]', async () => {
    const s = await sim({ appendfsync: 'everysec' });
    const db = s.engine.db(0);
    await db.set('k', 'v');
    const reply = track(db.command('WAITAOF', 1, 0, 0));
    await turn();
    expect(s.bio.pending('aofFsync')).toBe(1); // submitted at once, without advancing the clock
    expect(reply.settled).toBe(false);
    s.bio.runNext('aofFsync');
    await turn();
    expect(reply).toEqual({ settled: true, value: [1, 0] });
  });

  it('a timeout ends the wait with [0, 0]; numreplicas > 0 waits for the timeout', async () => {
    const s = await sim({ appendfsync: 'everysec' });
    const db = s.engine.db(0);
    await db.set('k', 'v');
    const local = track(db.command('WAITAOF', 1, 0, 100));
    const replicas = track(s.engine.db(0).command('WAITAOF', 0, 1, 250));
    await turn();
    s.clock.advance(99);
    s.tick();
    await turn();
    expect(local.settled).toBe(false);
    s.clock.advance(1);
    s.tick();
    await turn();
    expect(local).toEqual({ settled: true, value: [0, 0] });
    s.bio.runAll();
    await turn();
    expect(replicas.settled).toBe(false); // fsynced, but there is no replica to wait for
    s.clock.advance(150);
    s.tick();
    await turn();
    expect(replicas).toEqual({ settled: true, value: [1, 0] }); // that client wrote nothing
  });

  it('inside MULTI it answers at once (CLIENT_DENY_BLOCKING)', async () => {
    const s = await sim({ appendfsync: 'everysec' });
    const db = s.engine.db(0);
    await db.set('k', 'v'); // written, not fsynced (no tick, no bio step)
    const results = await db.multi().command('WAITAOF', 1, 0, 0).exec();
    expect(results).toEqual([[null, [0, 0]]]);
    // A write in the same transaction is propagated when EXEC ends (Redis 7.0+), after WAITAOF
    // read the client's offset: it does not count yet.
    const again = await db.multi().set('k2', 'v').command('WAITAOF', 0, 0, 0).exec();
    expect(again).toEqual([
      [null, 'OK'],
      [null, [0, 0]],
    ]);
  });

  it('CONFIG SET appendonly no answers a blocked WAITAOF with Redis’s error', async () => {
    const s = await sim({ appendfsync: 'no', aofUseRdbPreamble: false });
    const db = s.engine.db(0);
    await db.set('k', 'v');
    const reply = replyError(db.command('WAITAOF', 1, 0, 0));
    await turn();
    // The background fsync is still queued when the AOF goes off: Redis answers blocked
    // WAITAOF clients with the "disabled" error.
    await s.engine.db(1).command('CONFIG', 'SET', 'appendonly', 'no');
    expect(await reply).toBe(DISABLED);
  });
});

describe('waitAof(): the embedded form', () => {
  it('always: resolves at once, with no background fsync', async () => {
    const s = await sim({ appendfsync: 'always' });
    const db = s.engine.db(0);
    await db.set('k', 'v');
    const waited = track(db.waitAof());
    await Promise.resolve();
    expect(waited.settled).toBe(true);
    expect(s.bio.pending('aofFsync')).toBe(0);
  });

  for (const policy of ['everysec', 'no'] as const) {
    it(`${policy}: a slow fsync holds it; once resolved, a power cut keeps the write`, async () => {
      const s = await sim({ appendfsync: policy });
      const db = s.engine.db(0);
      await db.set('k', 'v1');
      const waited = track(db.waitAof());
      await turn();
      expect(s.bio.pending('aofFsync')).toBe(1);
      s.bio.startNext('aofFsync'); // a slow disk: the fsync runs for many turns
      for (let i = 0; i < 5; i++) await turn();
      expect(waited.settled).toBe(false);
      s.bio.finishRunning('aofFsync');
      await turn();
      expect(waited).toEqual({ settled: true, value: undefined });
      s.fs.crash(createPrng(1), { keepProbability: 0, dirOpKeepProbability: 0 });
      const again = await sim({ fs: s.fs, clock: s.clock });
      expect(await again.engine.db(0).get('k')).toBe('v1');
    });
  }

  it('a failing fsync rejects it with ERR_AOF_FSYNC', async () => {
    const s = await sim({ appendfsync: 'everysec' });
    const db = s.engine.db(0);
    await db.set('k', 'v');
    const waited = db.waitAof().catch((e: unknown) => e);
    await turn();
    s.fs.faults.add({ op: 'fdatasync', error: 'EIO' });
    s.bio.runNext('aofFsync');
    const error = await waited;
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).code).toBe('ERR_AOF_FSYNC');
    expect((error as EngineError).message).toContain('Input/output error');
  });

  it('per handle: a handle that wrote nothing resolves at once; engine-wide waits', async () => {
    const s = await sim({ appendfsync: 'no' });
    await s.engine.db(0).set('k', 'v');
    const idle = track(s.engine.db(0).waitAof());
    const all = track(s.engine.waitAof());
    await turn();
    expect(idle.settled).toBe(true);
    expect(all.settled).toBe(false);
    s.bio.runAll();
    await turn();
    expect(all.settled).toBe(true);
  });

  it('with the AOF off it rejects with ERR_AOF_DISABLED; close() settles waiters', async () => {
    const off = await sim({ appendonly: false });
    const error = await off.engine.waitAof().catch((e: unknown) => e);
    expect((error as EngineError).code).toBe('ERR_AOF_DISABLED');
    const s = await sim({ fs: off.fs, clock: off.clock, dir: '/other', appendfsync: 'no' });
    await s.engine.db(0).set('k', 'v');
    const waited = track(s.engine.waitAof());
    await turn();
    await s.engine.close(); // the final fsync covers it
    await turn();
    expect(waited).toEqual({ settled: true, value: undefined });
  });
});

describe('waitAof() on the real disk', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  const newDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aofkv-waitaof-'));
    dirs.push(dir);
    return dir;
  };

  it('a slow real fsync (300 ms): the event loop keeps turning while it waits', async () => {
    const bio = createPiscinaBio({ fsyncDelayMs: 300 });
    const engine = await openEngine({ dir: newDir(), appendfsync: 'no', bio });
    open.push(engine);
    const db = engine.db(0);
    await db.set('k', 'v');
    let turns = 0;
    let waiting = true;
    const spin = (): void => {
      turns++;
      if (waiting) setImmediate(spin);
    };
    setImmediate(spin);
    const startedMs = performance.now();
    await db.waitAof();
    waiting = false;
    expect(performance.now() - startedMs).toBeGreaterThanOrEqual(250);
    expect(turns).toBeGreaterThan(10);
    expect(await db.command('WAITAOF', 1, 0, 0)).toEqual([1, 0]);
  });

  it('a failed real fsync rejects it (typed); everysec and always resolve', async () => {
    const bio = createPiscinaBio();
    const engine = await openEngine({ dir: newDir(), appendfsync: 'everysec', bio });
    open.push(engine);
    const db = engine.db(0);
    await db.set('a', '1');
    bio.injectFsyncFaults('EIO', 1);
    const error = await db.waitAof().catch((e: unknown) => e);
    expect((error as EngineError).code).toBe('ERR_AOF_FSYNC');
    const good = await openEngine({ dir: newDir(), appendfsync: 'everysec' });
    open.push(good);
    await good.db(0).set('b', '2');
    await good.waitAof();
    await good.db(0).command('CONFIG', 'SET', 'appendfsync', 'always');
    await good.db(0).set('c', '3');
    await good.db(0).waitAof();
  });
});
