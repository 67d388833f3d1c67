// The worker-thread client on real worker threads: the embedded API from a worker, the same
// acknowledgement rule (a reply arrives after the AOF write that holds it), several workers at
// once, and what a worker sees when the engine closes.

import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { openSimEngine, type SimEngine } from '../../src/testing/index.ts';

const SCRIPT = new URL('./fixtures/worker-scenarios.ts', import.meta.url);

let sim: SimEngine | null = null;
const workers: Worker[] = [];

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.terminate()));
  await sim?.engine.close().catch(() => {});
  sim = null;
});

function startWorker(engine: SimEngine['engine'], scenario: string, count?: number): Worker {
  const port = engine.connectWorker();
  // A JS entry that registers tsx's hooks in the worker, then imports the TypeScript scenario
  // (on Node 20, `--import tsx` in a Worker's execArgv does not reach an ESM entry).
  const entry = `import('tsx/esm/api').then((m) => m.register()).then(() => import(${JSON.stringify(
    SCRIPT.href,
  )}))`;
  const worker = new Worker(entry, {
    eval: true,
    workerData: { port, scenario, count },
    transferList: [port],
  });
  workers.push(worker);
  return worker;
}

function result(worker: Worker): Promise<unknown> {
  return new Promise((resolve, reject) => {
    worker.on('message', (m: { result?: unknown; error?: string }) => {
      if ('error' in m) reject(new Error(m.error));
      else if ('result' in m) resolve(m.result);
    });
    worker.once('error', reject);
  });
}

describe('worker-thread client', () => {
  it('offers the embedded API: helpers, errors, pipeline, MULTI, WATCH, SELECT', async () => {
    sim = await openSimEngine();
    const out = (await result(startWorker(sim.engine, 'api'))) as Record<string, unknown>;
    expect(out).toEqual({
      set: 'OK',
      get: 'v',
      incr: 5,
      hgetall: { a: '1', b: '2' },
      bin: [0, 255, 10],
      utf8: 'héllo',
      wrongtype: ['ReplyError', 'WRONGTYPE'],
      pipeline: [
        [null, 'OK'],
        [null, 2],
        [['ReplyError', 'ERR', true], null],
      ],
      multi: [
        [null, 1],
        [null, 2],
      ],
      watchAborted: null,
      select: 0,
    });
    expect(await sim.engine.db(0).get('w')).toBe('changed');
  });

  it('acknowledges a write only once it is on disk (appendfsync always)', async () => {
    sim = await openSimEngine({ appendfsync: 'always' });
    await result(startWorker(sim.engine, 'write-once'));
    expect(sim.fs.durableContent(sim.currentIncrPath())!.toString('latin1')).toContain('acked');
  });

  it('four workers at once: every command runs, none is lost', async () => {
    sim = await openSimEngine();
    const engine = sim.engine;
    const runs = Array.from({ length: 4 }, () => result(startWorker(engine, 'incr', 500)));
    expect(await Promise.all(runs)).toEqual([500, 500, 500, 500]);
    expect(await engine.db(0).get('shared')).toBe('2000');
  });

  it('after engine.close() a worker call rejects with ERR_ENGINE_CLOSED', async () => {
    sim = await openSimEngine();
    const worker = startWorker(sim.engine, 'after-close');
    const done = result(worker);
    await new Promise<void>((resolve) =>
      worker.on('message', (m: { ready?: boolean }) => m.ready === true && resolve()),
    );
    await sim.engine.close();
    worker.postMessage('closed');
    expect(await done).toBe('ERR_ENGINE_CLOSED');
  });
});
