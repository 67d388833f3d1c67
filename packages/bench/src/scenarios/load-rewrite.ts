// DESIGN: loading, memory and BGREWRITEAOF on one generated dataset, aofkv next to redis-server,
// alternating per round (aofkv, then Redis, then the next round).
//
// Load     aofkv: openEngine({dir}) on a fresh copy of the directory, timed until it resolves, in a
//          fresh process per round (load-round-child.ts), as redis-server gets.
//          Redis: spawn redis-server on a fresh copy, timed until the first PING answered PONG
//          (not -LOADING). MB/s = AOF bytes / time; keys/s = keys / time. Redis's figure includes
//          its process start (a few ms), which is small next to a 1M-key load.
// Memory   aofkv: heapUsed after a full GC, minus before, per key (needs --expose-gc; without it
//          the figure is marked approximate). Redis: (used_memory - used_memory_startup) / keys.
// Rewrite  BGREWRITEAOF while a 64-in-flight SET load overwrites existing string keys (so the
//          copy-on-write path has work to do): aofkv's own loop, redis-benchmark -P 16 -c 4 for
//          Redis. Reported: duration, aof_last_cow_size, the event loop's worst delay during the
//          rewrite (target: no turn over 50 ms) next to the same load's worst delay without a
//          rewrite, RSS/heap growth, and Redis's latest_fork_usec (its main-thread stall).
//          Both write a RESP base (Redis with aof-use-rdb-preamble no) so they do the same work.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { openEngine, type DbHandle, type Engine } from '@aofkv/engine';
import {
  collectGarbage,
  hasGc,
  progress,
  sleep,
  syncDisk,
  watchGc,
  type GcStats,
} from '../harness.ts';
import { percentile } from '../stats.ts';
import { keyName } from '../workload.ts';
import {
  findRedis,
  startBackgroundBenchmark,
  startRedisServer,
  type RedisServer,
} from '../peers/redis.ts';
import { copyDataset, generateDataset, type Dataset } from './dataset.ts';

export interface LoadRewriteConfig {
  keys: number;
  rounds: number;
  /** Length of the no-rewrite baseline of the background load. */
  baselineMs: number;
  skipRedis: boolean;
}

export interface LoadRun {
  round: number;
  system: 'aofkv' | 'redis';
  loadMs: number;
  mbPerSec: number;
  keysPerSec: number;
  keys: number;
  /** Bytes per key: aofkv heapUsed delta (after GC); Redis used_memory - used_memory_startup. */
  bytesPerKey: number;
  rssBytesPerKey: number | null;
  usedMemoryBytes: number;
}

export interface RewriteRun {
  round: number;
  system: 'aofkv' | 'redis';
  durationMs: number;
  status: string;
  cowSizeBytes: number;
  /** aofkv: worst event-loop delay during the rewrite / during the same load without one. */
  eventLoopMaxMs: number | null;
  baselineEventLoopMaxMs: number | null;
  /** aofkv: GC pauses during the rewrite and during the baseline (the other source of stalls). */
  gc: GcStats | null;
  baselineGc: GcStats | null;
  /** Redis: latest_fork_usec / 1000 (the main thread's stall for the fork). */
  forkMs: number | null;
  rssGrowthBytes: number | null;
  heapGrowthBytes: number | null;
  /**
   * aofkv: where a long turn could come from, measured from outside the engine: the synchronous
   * part of BGREWRITEAOF (snapshot setup, new INCR, manifest write + fsync) and the longest gap
   * between two slices of the walk as seen by an instrumented RewriteScheduler (a slice's key walk
   * plus the packing of its batch; it includes any wait for the writer thread's backpressure).
   */
  startMs: number | null;
  maxSliceMs: number | null;
  slices: number | null;
  /** The background load during the rewrite. */
  loadOps: number;
  loadP99Ms: number | null;
  loadMaxMs: number | null;
}

export interface LoadRewriteResult {
  dataset: Omit<Dataset, 'dir' | 'aofDir'>;
  loads: LoadRun[];
  rewrites: RewriteRun[];
  gcExposed: boolean;
  redisUnavailable: string | null;
}

export async function runLoadRewrite(
  baseDir: string,
  config: LoadRewriteConfig,
): Promise<LoadRewriteResult> {
  const root = path.join(baseDir, 'load');
  fs.mkdirSync(root, { recursive: true });
  progress(`load: generating a ${config.keys}-key RESP AOF`);
  const t0 = performance.now();
  const ds = await generateDataset(path.join(root, 'dataset'), config.keys);
  progress(
    `load: ${(ds.aofBytes / 1e6).toFixed(1)} MB in ` +
      `${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const redis = config.skipRedis
    ? ({ ok: false, reason: 'skipped (--skip)' } as const)
    : findRedis();
  const loads: LoadRun[] = [];
  const rewrites: RewriteRun[] = [];
  for (let round = 1; round <= config.rounds; round++) {
    progress(`load: round ${round}/${config.rounds} aofkv`);
    const a = await aofkvRoundInChild({ ds, dir: path.join(root, 'aofkv'), round, config });
    loads.push(a.load);
    rewrites.push(a.rewrite);
    if (redis.ok) {
      progress(`load: round ${round}/${config.rounds} redis-server`);
      const r = await redisRound(ds, path.join(root, 'redis'), round);
      loads.push(r.load);
      rewrites.push(r.rewrite);
    }
  }
  fs.rmSync(root, { recursive: true, force: true });
  return {
    dataset: {
      aofBytes: ds.aofBytes,
      keys: ds.keys,
      commands: ds.commands,
      stringKeys: ds.stringKeys,
    },
    loads,
    rewrites,
    gcExposed: hasGc(),
    redisUnavailable: redis.ok ? null : redis.reason,
  };
}

/** One round's measurements, for either system. */
export interface RoundResult {
  load: LoadRun;
  rewrite: RewriteRun;
}

export interface AofkvRoundSpec {
  ds: Dataset;
  dir: string;
  round: number;
  config: LoadRewriteConfig;
}

const ROUND_CHILD = fileURLToPath(new URL('./load-round-child.ts', import.meta.url));

/** aofkvRound in a fresh node process with this process's flags (see load-round-child.ts). */
async function aofkvRoundInChild(spec: AofkvRoundSpec): Promise<RoundResult> {
  const child = spawn(process.execPath, [...process.execArgv, ROUND_CHILD, JSON.stringify(spec)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (out += chunk));
  // 'close', not 'exit': it comes after the child's stdout has been read to its end.
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  if (code !== 0)
    throw new Error(
      `aofkv load round ${spec.round} failed in its child process (exit ${code ?? signal})`,
    );
  const line = out.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as RoundResult;
}

export async function aofkvRound(
  ds: Dataset,
  dir: string,
  round: number,
  config: LoadRewriteConfig,
): Promise<RoundResult> {
  copyDataset(ds, dir);
  syncDisk();
  collectGarbage();
  const before = process.memoryUsage();
  const t0 = performance.now();
  const slices = sliceTimer();
  let engine: Engine | null = await openEngine({
    dir,
    appendfsync: 'everysec',
    autoAofRewritePercentage: 0,
    rewriteScheduler: slices.scheduler,
  });
  const loadMs = performance.now() - t0;
  try {
    const db = engine.db(0);
    const keys = Number(await db.dbsize());
    if (keys !== ds.keys) throw new Error(`aofkv loaded ${keys} keys, expected ${ds.keys}`);
    collectGarbage();
    const after = process.memoryUsage();
    const load: LoadRun = {
      round,
      system: 'aofkv',
      loadMs,
      mbPerSec: ds.aofBytes / 1e6 / (loadMs / 1000),
      keysPerSec: keys / (loadMs / 1000),
      keys,
      bytesPerKey: (after.heapUsed - before.heapUsed) / keys,
      rssBytesPerKey: (after.rss - before.rss) / keys,
      usedMemoryBytes: after.heapUsed - before.heapUsed,
    };
    const rewrite = await aofkvRewrite(engine, db, ds, round, config, slices);
    return { load, rewrite };
  } finally {
    await engine.close();
    engine = null;
    fs.rmSync(dir, { recursive: true, force: true });
    collectGarbage();
  }
}

/** A 64-in-flight SET loop over the dataset's string keys until stopped; latencies kept. */
export function backgroundLoad(
  db: DbHandle,
  stringKeys: number,
): { stop: () => Promise<{ ops: number; latencies: number[] }> } {
  let running = true;
  let ops = 0;
  const latencies: number[] = [];
  let seed = 12345;
  const value = 'w'.repeat(100);
  const worker = async () => {
    while (running) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const key = keyName('key:', seed % stringKeys);
      const t = performance.now();
      await db.set(key, value);
      latencies.push(performance.now() - t);
      ops++;
    }
  };
  const workers = Array.from({ length: 64 }, worker);
  return {
    stop: async () => {
      running = false;
      await Promise.all(workers);
      return { ops, latencies };
    },
  };
}

/** The engine's default scheduler (next slice on setImmediate), timing each slice on the way. */
function sliceTimer(): {
  scheduler: { nextSlice: () => Promise<void> };
  take: () => { max: number; count: number };
} {
  let sliceStart = -1;
  let max = 0;
  let count = 0;
  return {
    scheduler: {
      nextSlice: () => {
        if (sliceStart >= 0) {
          max = Math.max(max, performance.now() - sliceStart);
          count++;
          sliceStart = -1;
        }
        return new Promise<void>((resolve) =>
          setImmediate(() => {
            sliceStart = performance.now();
            resolve();
          }),
        );
      },
    },
    take: () => {
      const r = { max, count };
      max = 0;
      count = 0;
      return r;
    },
  };
}

async function aofkvRewrite(
  engine: Engine,
  db: DbHandle,
  ds: Dataset,
  round: number,
  config: LoadRewriteConfig,
  slices: ReturnType<typeof sliceTimer>,
): Promise<RewriteRun> {
  const eld = monitorEventLoopDelay({ resolution: 1 });
  // Baseline: the same load without a rewrite, to separate the rewrite's stalls from the load's.
  const baseline = backgroundLoad(db, ds.stringKeys);
  eld.enable();
  const baselineGcWatch = watchGc();
  await sleep(config.baselineMs);
  eld.disable();
  const baselineGc = baselineGcWatch.stop();
  await baseline.stop();
  const baselineMax = eld.max / 1e6;
  eld.reset();

  collectGarbage();
  const mem0 = process.memoryUsage();
  let rssPeak = mem0.rss;
  let heapPeak = mem0.heapUsed;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    rssPeak = Math.max(rssPeak, m.rss);
    heapPeak = Math.max(heapPeak, m.heapUsed);
  }, 20);
  const load = backgroundLoad(db, ds.stringKeys);
  eld.enable();
  // The histogram records from its second tick on: without this wait a stall in the very turn
  // that starts the rewrite would not be counted.
  await sleep(10);
  const gcWatch = watchGc();
  slices.take();
  const t0 = performance.now();
  // The command runs synchronously inside command(): this is the start's own stall.
  const pending = db.command('bgrewriteaof');
  const startMs = performance.now() - t0;
  const reply = await pending;
  if (typeof reply !== 'string' || !reply.includes('started'))
    throw new Error(`BGREWRITEAOF: ${String(reply)}`);
  await engine.aof!.waitForRewrite();
  const walk = slices.take();
  const durationMs = performance.now() - t0;
  eld.disable();
  const gc = gcWatch.stop();
  clearInterval(sampler);
  const { ops, latencies } = await load.stop();
  const info = parseInfo(String(await db.command('info', 'persistence')));
  return {
    round,
    system: 'aofkv',
    durationMs,
    status: info.get('aof_last_bgrewrite_status') ?? '?',
    cowSizeBytes: Number(info.get('aof_last_cow_size') ?? Number.NaN),
    eventLoopMaxMs: eld.max / 1e6,
    baselineEventLoopMaxMs: baselineMax,
    gc,
    baselineGc,
    forkMs: null,
    startMs,
    maxSliceMs: walk.max,
    slices: walk.count,
    rssGrowthBytes: rssPeak - mem0.rss,
    heapGrowthBytes: heapPeak - mem0.heapUsed,
    loadOps: ops,
    loadP99Ms: percentile(latencies, 0.99),
    loadMaxMs: percentile(latencies, 1),
  };
}

function parseInfo(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) map.set(line.slice(0, i), line.slice(i + 1));
  }
  return map;
}

async function redisRound(ds: Dataset, dir: string, round: number): Promise<RoundResult> {
  copyDataset(ds, dir);
  syncDisk();
  let server: RedisServer | null = null;
  try {
    server = await startRedisServer({
      dir,
      args: [
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--appenddirname',
        'appendonlydir',
        '--appendfilename',
        'appendonly.aof',
        '--aof-use-rdb-preamble',
        'no',
        '--auto-aof-rewrite-percentage',
        '0',
      ],
      readyTimeoutMs: 600_000,
    });
    const loadMs = server.readyAfterMs;
    const c = server.client;
    const keys = Number(await c.call('DBSIZE'));
    if (keys !== ds.keys) throw new Error(`redis-server loaded ${keys} keys, expected ${ds.keys}`);
    const mem = await c.info('memory');
    const used = Number(mem.get('used_memory')) - Number(mem.get('used_memory_startup'));
    const load: LoadRun = {
      round,
      system: 'redis',
      loadMs,
      mbPerSec: ds.aofBytes / 1e6 / (loadMs / 1000),
      keysPerSec: keys / (loadMs / 1000),
      keys,
      bytesPerKey: used / keys,
      rssBytesPerKey: null,
      usedMemoryBytes: used,
    };

    const bench = startBackgroundBenchmark({
      port: server.port,
      requests: 1_000_000_000,
      pipeline: 16,
      clients: 4,
      keySpace: ds.stringKeys,
    });
    await sleep(200);
    const rewrites0 = Number((await c.info('persistence')).get('aof_rewrites') ?? 0);
    const t0 = performance.now();
    const reply = await c.call('BGREWRITEAOF');
    if (typeof reply !== 'string') throw new Error(`BGREWRITEAOF: ${String(reply)}`);
    let info = await c.info('persistence');
    // Poll every 5 ms: aof_last_rewrite_time_sec has only whole seconds.
    while (
      info.get('aof_rewrite_in_progress') !== '0' ||
      Number(info.get('aof_rewrites') ?? 0) === rewrites0
    ) {
      await sleep(5);
      info = await c.info('persistence');
    }
    const durationMs = performance.now() - t0;
    await bench.stop();
    const stats = await c.info('stats');
    return {
      load,
      rewrite: {
        round,
        system: 'redis',
        durationMs,
        status: info.get('aof_last_bgrewrite_status') ?? '?',
        cowSizeBytes: Number(info.get('aof_last_cow_size') ?? Number.NaN),
        eventLoopMaxMs: null,
        baselineEventLoopMaxMs: null,
        gc: null,
        baselineGc: null,
        forkMs: Number(stats.get('latest_fork_usec') ?? Number.NaN) / 1000,
        startMs: null,
        maxSliceMs: null,
        slices: null,
        rssGrowthBytes: null,
        heapGrowthBytes: null,
        loadOps: Number.NaN,
        loadP99Ms: null,
        loadMaxMs: null,
      },
    };
  } finally {
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
