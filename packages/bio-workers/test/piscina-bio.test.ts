import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BIO_POOL_OPTIONS,
  createPiscinaBio,
  resolveBioWorker,
  type BioEvent,
  type PiscinaBio,
} from '../src/index.ts';
import { runBioConformance, withCode, type BioHarness } from './bio-conformance.ts';

/** Long enough to never end by itself within a test; releasing lowers it and wakes the worker. */
const HOLD_MS = 50_000;

function piscinaHarness(): BioHarness {
  const bio = createPiscinaBio();
  let startedAtHold = 0;
  return {
    bio,
    holdFsyncs() {
      startedAtHold = bio.started('aofFsync');
      bio.setFsyncDelayMs(HOLD_MS);
    },
    heldFsyncRunning: () => bio.waitForStarted('aofFsync', startedAtHold + 1),
    releaseFsyncs: () => bio.setFsyncDelayMs(0),
    failFsyncs: (code, count) => bio.injectFsyncFaults(code, count),
    dispose: () => bio.close(),
  };
}

runBioConformance('piscina', piscinaHarness);

const packageDir = fileURLToPath(new URL('..', import.meta.url));

describe('piscina bio: threads and shared counters', () => {
  let dir = '';
  let bio: PiscinaBio | null = null;
  const fds: number[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'aofkv-piscina-'));
  });
  afterEach(async () => {
    bio?.setFsyncDelayMs(0);
    await bio?.close();
    bio = null;
    for (const fd of fds.splice(0)) closeSync(fd);
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function openWritten(bytes: number): number {
    const fd = openSync(join(dir, `w${fds.length}-${Date.now()}.aof`), 'w');
    writeSync(fd, Buffer.alloc(bytes, 0x61));
    fds.push(fd);
    return fd;
  }

  it('configures one FIFO thread per bio type', () => {
    expect(BIO_POOL_OPTIONS).toMatchObject({
      minThreads: 1,
      maxThreads: 1,
      concurrentTasksPerWorker: 1,
      idleTimeout: Infinity,
      stricterFIFO: true,
      trackUnmanagedFds: false,
    });
  });

  it('sees a real fsync through the shared counter, without the event loop turning', async () => {
    const client = (bio = createPiscinaBio());
    const finishes: BioEvent[] = [];
    client.onEvent = (e) => void (e.phase === 'finish' && finishes.push(e));
    // Warm up: until the thread has reported ready (an event-loop message), run() only queues.
    client.submitFsync(openWritten(1));
    await client.drain();
    finishes.length = 0;

    const fd = openWritten(256 * 1024);
    client.submitFsync(fd);
    expect(client.pending('aofFsync')).toBe(1);
    const spinStartMs = performance.now();
    let loads = 1;
    while (client.pending('aofFsync') !== 0) {
      loads++;
      if (performance.now() - spinStartMs > 10_000) throw new Error('fsync did not finish in 10 s');
    }
    const observedMs = performance.now() - spinStartMs;
    // Still inside the same synchronous stretch: the job's promise cannot have settled yet.
    expect(finishes).toEqual([]);
    expect(client.started('aofFsync')).toBe(2);
    expect(client.fsyncStatus()).toEqual({ ok: true });
    await client.drain();
    expect(finishes.map((e) => [e.fd, e.pending])).toEqual([[fd, 0]]);
    console.info(`256 KiB fsync seen done: ${observedMs.toFixed(2)} ms, ${loads} Atomics.loads`);
  });

  it('delays each fsync by the injected delay, settable at runtime', async () => {
    const client = (bio = createPiscinaBio({ fsyncDelayMs: 30 }));
    expect(client.fsyncDelayMs()).toBe(30);
    const durations: number[] = [];
    const starts = new Map<number, number>();
    client.onEvent = (e) => {
      if (e.phase === 'start') starts.set(e.jobId, e.atMs);
      if (e.phase === 'finish') durations.push(e.atMs - (starts.get(e.jobId) ?? Number.NaN));
    };
    client.submitFsync(openWritten(1));
    await client.drain();
    client.setFsyncDelayMs(0);
    client.submitFsync(openWritten(1));
    await client.drain();
    expect(durations[0]).toBeGreaterThanOrEqual(30);
    expect(client.fsyncDelayMs()).toBe(0);
  });

  it('cuts a running delay short when the delay is lowered', async () => {
    const client = (bio = createPiscinaBio({ fsyncDelayMs: HOLD_MS }));
    const startedMs = performance.now();
    client.submitFsync(openWritten(1));
    await client.waitForStarted('aofFsync', 1);
    expect(client.pending('aofFsync')).toBe(1);
    client.setFsyncDelayMs(0);
    await client.drain();
    expect(performance.now() - startedMs).toBeLessThan(HOLD_MS / 2);
    expect(client.pending('aofFsync')).toBe(0);
  });

  it('injects fsync faults: a countdown, forever, and cleared', async () => {
    const client = (bio = createPiscinaBio());
    const fd = openWritten(1);
    const statusAfter = async (): Promise<boolean> => {
      client.submitFsync(fd);
      await client.drain();
      return client.fsyncStatus().ok;
    };
    client.injectFsyncFaults('EIO', 2);
    const countdown = [await statusAfter(), await statusAfter(), await statusAfter()];
    expect(countdown).toEqual([false, false, true]);
    client.injectFsyncFaults('EIO', -1);
    expect([await statusAfter(), await statusAfter()]).toEqual([false, false]);
    client.injectFsyncFaults('EIO', 0);
    expect(await statusAfter()).toBe(true);
    expect(() => client.injectFsyncFaults('ENOTANERRNO', 1)).toThrow(RangeError);
  });

  it('validates the fsync delay', () => {
    for (const fsyncDelayMs of [-1, 0.5, 600_001]) {
      expect(() => createPiscinaBio({ fsyncDelayMs })).toThrow(withCode('BIO_INVALID_OPTION'));
    }
  });

  it('times out waiting for a job that never starts', async () => {
    const client = (bio = createPiscinaBio());
    const wait = client.waitForStarted('aofFsync', 1, 20);
    await expect(wait).rejects.toThrow(withCode('BIO_WAIT_TIMEOUT'));
  });

  it('handles lost jobs: counters to 0, a lost fsync fails closed, nothing unhandled', async () => {
    const workerUrl = new URL('./no-such-worker.js', import.meta.url);
    const client = (bio = createPiscinaBio({ workerUrl }));
    const finishes: BioEvent[] = [];
    client.onEvent = (e) => void (e.phase === 'finish' && finishes.push(e));
    client.submitFsync(openWritten(1));
    client.submitClose(openWritten(1), false);
    expect([client.pending('aofFsync'), client.pending('closeFile')]).toEqual([1, 1]);
    await client.drain();
    expect([client.pending('aofFsync'), client.pending('closeFile')]).toEqual([0, 0]);
    expect(client.fsyncStatus()).toEqual({ ok: false, errno: 5, code: 'EIO' });
    expect(finishes).toHaveLength(2);
    for (const e of finishes) expect(e.error).toMatch(/^job lost: /);
  });
});

describe('piscina bio: worker file resolution', () => {
  it('runs the worker from source (.ts, via tsx) under Vitest', () => {
    const location = resolveBioWorker();
    expect(location.isSource).toBe(true);
    expect(location.url.pathname).toMatch(/\/src\/workers\/bio-worker\.ts$/);
    const workerFlags = (location.execArgv ?? process.execArgv).join(' ');
    expect(workerFlags).toMatch(/--import[ =]\S*tsx/);
  });

  it('loads the built worker (dist/*.js) with plain node after tsc -b', () => {
    const require = createRequire(import.meta.url);
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', packageDir], {
      stdio: 'pipe',
    });
    const env = { ...process.env };
    delete env['NODE_OPTIONS'];
    const scriptDir = mkdtempSync(join(tmpdir(), 'aofkv-dist-smoke-'));
    const script = join(scriptDir, 'smoke.mjs');
    writeFileSync(script, DIST_SMOKE);
    let output: string;
    try {
      output = execFileSync(process.execPath, [script], { cwd: packageDir, env, encoding: 'utf8' });
    } finally {
      rmSync(scriptDir, { recursive: true, force: true });
    }
    const report = JSON.parse(output) as Record<string, unknown>;
    expect(report).toEqual({
      execArgv: [],
      isSource: false,
      workerExecArgv: null,
      workerPath: expect.stringMatching(/\/dist\/workers\/bio-worker\.js$/),
      pendingAfterSubmit: [1, 1],
      pendingAfterDrain: [0, 0],
      status: { ok: true },
      phases: SORTED_SMOKE_PHASES,
    });
  });
});

const SORTED_SMOKE_PHASES = ['aofFsync', 'closeFile'].flatMap((type) =>
  ['finish', 'start', 'submit'].map((phase) => `${type}:${phase}`),
);

/** Runs in a child `node` with no loader: dist must be self-sufficient. */
const DIST_SMOKE = `
import { mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const distIndex = new URL('./dist/index.js', 'file://' + process.cwd() + '/');
const { createPiscinaBio, resolveBioWorker } = await import(distIndex.href);
const dir = mkdtempSync(join(tmpdir(), 'aofkv-dist-'));
const [a, b] = ['a', 'b'].map((name) => {
  const fd = openSync(join(dir, name), 'w');
  writeSync(fd, 'x');
  return fd;
});
const location = resolveBioWorker();
const bio = createPiscinaBio();
const phases = [];
bio.onEvent = (e) => phases.push(e.type + ':' + e.phase + (e.error ? ':' + e.error : ''));
bio.submitFsync(a);
bio.submitClose(b, true);
const pendingAfterSubmit = [bio.pending('aofFsync'), bio.pending('closeFile')];
await bio.drain();
const pendingAfterDrain = [bio.pending('aofFsync'), bio.pending('closeFile')];
await bio.close();
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({
  execArgv: process.execArgv,
  isSource: location.isSource,
  workerExecArgv: location.execArgv ?? null,
  workerPath: bio.workerUrl.pathname,
  pendingAfterSubmit,
  pendingAfterDrain,
  status: bio.fsyncStatus(),
  phases: phases.sort(),
}));
`;
