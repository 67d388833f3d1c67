// DESIGN: the write matrix — every system × durability mode × workload × in-flight count — run
// round-robin. Each cell's time in a round is cut into `slices` short slices and every slice of
// every cell goes into one seeded shuffle, with a `sync` of the machine's dirty pages before each
// slice; a cell's result for the round is its slices merged (operations and time summed, latency
// samples pooled into one histogram). On a shared host the disk's fsync latency swings by 10×
// within seconds; slicing spreads every cell over the whole round, so all of them see the same
// mix of good and bad moments instead of whichever ran during a bad one. Ratios between systems
// are then taken per round and the median across rounds is reported.
//
// Redis runs in the same rounds: one redis-server per appendfsync policy, started once, driven by
// redis-benchmark. The disk's limits (fdatasync/s, sequential MB/s) are also probed once per round
// so each policy can be shown against the limit measured next to it.

import fs from 'node:fs';
import path from 'node:path';
import { AOFKV_MODES, AofkvSystem } from '../systems/aofkv.ts';
import { NoopSystem } from '../systems/noop.ts';
import type { Durability, LatencyEventRow, Unavailable, WriteSystem } from '../systems/types.ts';
import { LMDB_MODES, LmdbSystem, loadLmdb } from '../peers/lmdb.ts';
import { CLASSIC_MODES, ClassicLevelSystem, loadClassicLevel } from '../peers/classic-level.ts';
import { SQLITE_MODES, SqliteSystem, loadSqlite } from '../peers/sqlite.ts';
import {
  findRedis,
  latencyLatest,
  processCpuMs,
  runRedisBenchmark,
  startRedisServer,
  type RedisServer,
} from '../peers/redis.ts';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { measureClosedLoop, progress, shuffled, syncDisk } from '../harness.ts';
import { median } from '../stats.ts';
import { KEY_SPACE, WORKLOADS, keyNames, makeRandom, type Workload } from '../workload.ts';
import { measureFdatasyncRate, measureLimits, type LimitSample } from './limits.ts';

export interface WritesConfig {
  rounds: number;
  /** Time per cell per round, split into `slices` interleaved slices. */
  cellMs: number;
  slices: number;
  warmupMs: number;
  inFlight: readonly number[];
  limitsFdatasyncMs: number;
  limitsSeqBytes: number;
  /** Length of the fdatasync probe before each durable cell. */
  nearbyProbeMs: number;
  /** Systems to leave out ('lmdb', 'classic-level', 'better-sqlite3', 'redis'). */
  skip: ReadonlySet<string>;
}

export interface WriteCell {
  round: number;
  system: string;
  mode: string;
  durability: Durability;
  workload: Workload;
  inFlight: number;
  /**
   * How the in-flight writes are made when not one write per call: Redis's redis-benchmark shape
   * ('-P 16 -c 4', '-P 1 -c 64', '-P 1 -c 1'), or an in-process pipelined cell ('pipeline 16 × 4').
   */
  variant: string | null;
  ops: number;
  wallMs: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  cpuUsPerOp: number;
  /** Event loop's worst delay during the cell (in-process systems only). */
  eventLoopMaxMs: number | null;
  /** Longest GC pause during the cell (in-process systems only). */
  gcMaxMs: number | null;
  fsyncs: number | null;
  opsPerFsync: number | null;
  bytesPerOp: number | null;
  latencyEvents: LatencyEventRow[];
  /**
   * Durable cells only: fdatasync/s of 100-byte appends measured right before the cell. The disk's
   * fsync latency on a shared host swings by 10× within seconds, so a durable cell is held
   * against the rate measured next to it, not against a probe from another moment of the round.
   */
  fdatasyncPerSecNearby: number | null;
}

export interface LimitRun extends LimitSample {
  round: number;
}

export interface WritesResult {
  cells: WriteCell[];
  limits: LimitRun[];
  unavailable: Unavailable[];
  /** Order of the cells in each round, for the record. */
  order: string[][];
  /** Slices that failed (external tools only) and were left out. */
  errors: string[];
  redisVersion: string | null;
}

export interface RedisVariant {
  label: string;
  pipeline: number;
  clients: number;
  inFlight: number;
}
/**
 * The shape the targets compare against: redis-benchmark -P 16, 4 clients = 64 in flight.
 */
export const REDIS_PIPELINED: RedisVariant = {
  label: '-P 16 -c 4',
  pipeline: 16,
  clients: 4,
  inFlight: 64,
};
export const REDIS_VARIANTS: readonly RedisVariant[] = [
  REDIS_PIPELINED,
  { label: '-P 1 -c 64', pipeline: 1, clients: 64, inFlight: 64 },
  { label: '-P 1 -c 1', pipeline: 1, clients: 1, inFlight: 1 },
];
const REDIS_POLICIES = ['always', 'everysec', 'no'] as const;
type RedisPolicy = (typeof REDIS_POLICIES)[number];

type Job =
  | { kind: 'cell'; key: string; system: WriteSystem; workload: Workload; inFlight: number }
  | { kind: 'pipelined'; key: string; system: WriteSystem; variant: PipelinedVariant }
  | { kind: 'redis'; key: string; policy: RedisPolicy; variant: RedisVariant }
  | { kind: 'limits'; key: string };

/**
 * An in-process system driven like redis-benchmark -P 16 -c 4: 4 loops, each sending pipelines
 * of 16 SETs, so 64 writes are in flight as in the other 64-in-flight cells. It answers the
 * question "what does the Redis pipelined figure compare with": a client pipeline on both sides.
 */
export interface PipelinedVariant {
  label: string;
  batch: number;
  loops: number;
}
export const PIPELINED_VARIANT: PipelinedVariant = {
  label: 'pipeline 16 × 4',
  batch: 16,
  loops: 4,
};

function jobName(j: Job): string {
  if (j.kind === 'cell') return `${j.system.system} ${j.system.mode} ${j.workload}@${j.inFlight}`;
  if (j.kind === 'pipelined') return `${j.system.system} ${j.system.mode} set ${j.variant.label}`;
  if (j.kind === 'redis') return `redis ${j.policy} ${j.variant.label}`;
  return 'limits';
}

interface RedisSliceStat {
  requests: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

/** One cell's slices of one round, merged. */
interface Accumulator {
  ops: number;
  wallMs: number;
  cpuUs: number;
  hist: RecordableHistogram;
  /** Redis: per-slice summaries (its CSV gives percentiles, not samples), weighted by requests. */
  redisSlices: RedisSliceStat[];
  maxMs: number;
  eventLoopMaxMs: number;
  gcMaxMs: number;
  fsyncs: number | null;
  bytes: number | null;
  latencyEvents: LatencyEventRow[];
  probes: number[];
  /** Operations per latency sample: 1, or the batch of a pipelined cell (one ack per batch). */
  opsPerSample: number;
}

function newAccumulator(): Accumulator {
  return {
    ops: 0,
    wallMs: 0,
    cpuUs: 0,
    hist: createHistogram(),
    redisSlices: [],
    opsPerSample: 1,
    maxMs: 0,
    eventLoopMaxMs: 0,
    gcMaxMs: 0,
    fsyncs: 0,
    bytes: 0,
    latencyEvents: [],
    probes: [],
  };
}

function mergeEvents(into: LatencyEventRow[], rows: readonly LatencyEventRow[]): void {
  for (const r of rows) {
    const prev = into.find((x) => x.event === r.event);
    if (prev === undefined) into.push({ ...r });
    else if (r.maxMs > prev.maxMs) Object.assign(prev, r);
  }
}

export async function openSystems(
  baseDir: string,
  skip: ReadonlySet<string>,
): Promise<{ systems: WriteSystem[]; unavailable: Unavailable[] }> {
  const systems: WriteSystem[] = [];
  const unavailable: Unavailable[] = [];
  const dirFor = (name: string) => {
    const d = path.join(baseDir, name.replace(/[^a-zA-Z0-9.-]+/g, '_'));
    fs.mkdirSync(d, { recursive: true });
    return d;
  };
  // In parallel: each engine starts two bio threads, and thread start-up is most of the wait.
  systems.push(
    ...(await Promise.all(
      AOFKV_MODES.map((mode) => AofkvSystem.open(mode, dirFor(`aofkv-${mode}`))),
    )),
  );
  systems.push(new NoopSystem());

  if (skip.has('lmdb')) unavailable.push({ system: 'lmdb', reason: 'skipped (--skip)' });
  else {
    const lmdb = await loadLmdb();
    if (lmdb.ok)
      for (const mode of LMDB_MODES)
        systems.push(new LmdbSystem(lmdb.module, mode, dirFor(`lmdb-${mode}`)));
    else unavailable.push({ system: 'lmdb', reason: lmdb.reason });
  }
  if (skip.has('classic-level'))
    unavailable.push({ system: 'classic-level', reason: 'skipped (--skip)' });
  else {
    const cl = await loadClassicLevel();
    if (cl.ok)
      for (const mode of CLASSIC_MODES)
        systems.push(await ClassicLevelSystem.open(cl.module, mode, dirFor(`classic-${mode}`)));
    else unavailable.push({ system: 'classic-level', reason: cl.reason });
  }
  if (skip.has('better-sqlite3'))
    unavailable.push({ system: 'better-sqlite3', reason: 'skipped (--skip)' });
  else {
    const sq = await loadSqlite();
    if (sq.ok)
      for (const mode of SQLITE_MODES)
        systems.push(
          new SqliteSystem(sq.module, mode, path.join(dirFor(`sqlite-${mode}`), 'db.sqlite')),
        );
    else unavailable.push({ system: 'better-sqlite3', reason: sq.reason });
  }
  return { systems, unavailable };
}

export async function runWrites(baseDir: string, config: WritesConfig): Promise<WritesResult> {
  keyNames(); // build the 500k key names before anything is timed
  const { systems, unavailable } = await openSystems(path.join(baseDir, 'writes'), config.skip);
  const redisServers = new Map<RedisPolicy, RedisServer>();
  let redisVersion: string | null = null;
  const redis = config.skip.has('redis')
    ? ({ ok: false, reason: 'skipped (--skip)' } as const)
    : findRedis();
  if (!redis.ok) unavailable.push({ system: 'redis', reason: redis.reason });
  const cells: WriteCell[] = [];
  const limits: LimitRun[] = [];
  const order: string[][] = [];
  const errors: string[] = [];
  try {
    if (redis.ok) {
      redisVersion = redis.tools.version;
      for (const policy of REDIS_POLICIES) {
        const dir = path.join(baseDir, 'writes', `redis-${policy}`);
        fs.mkdirSync(dir, { recursive: true });
        redisServers.set(
          policy,
          await startRedisServer({
            dir,
            args: [
              '--appendonly',
              'yes',
              '--appendfsync',
              policy,
              // No automatic rewrite in the middle of a cell, as for aofkv.
              '--auto-aof-rewrite-percentage',
              '0',
              '--latency-monitor-threshold',
              '1',
            ],
          }),
        );
      }
    }

    progress(`writes: warming up ${systems.length} systems`);
    for (const s of systems) {
      for (const w of WORKLOADS)
        await measureClosedLoop(s.makeOp(w, 7), { inFlight: 64, durationMs: config.warmupMs });
    }
    // Calibrate redis-benchmark request counts so each run lasts about one cell.
    const redisRps = new Map<string, number>();
    for (const [policy, server] of redisServers) {
      for (const v of REDIS_VARIANTS) {
        const requests =
          policy === 'always' && v.inFlight === 1 ? 100 : v.inFlight === 1 ? 1000 : 5000;
        const r = await runRedisBenchmark({
          port: server.port,
          requests,
          pipeline: v.pipeline,
          clients: v.clients,
          keySpace: KEY_SPACE,
        });
        redisRps.set(`redis|${policy}|${v.label}`, r.rps);
      }
    }

    const jobs: Job[] = [];
    for (const s of systems) {
      for (const w of WORKLOADS)
        for (const c of config.inFlight)
          jobs.push({
            kind: 'cell',
            key: `${s.system}|${s.mode}|${w}|${c}`,
            system: s,
            workload: w,
            inFlight: c,
          });
    }
    if (config.inFlight.includes(PIPELINED_VARIANT.batch * PIPELINED_VARIANT.loops)) {
      for (const s of systems) {
        if (s.makePipelinedSetOp !== undefined)
          jobs.push({
            kind: 'pipelined',
            key: `${s.system}|${s.mode}|set|${PIPELINED_VARIANT.label}`,
            system: s,
            variant: PIPELINED_VARIANT,
          });
      }
    }
    for (const policy of redisServers.keys())
      for (const v of REDIS_VARIANTS)
        jobs.push({ kind: 'redis', key: `redis|${policy}|${v.label}`, policy, variant: v });

    const sliceMs = Math.max(10, Math.round(config.cellMs / config.slices));
    const rnd = makeRandom(0xbe4c4);
    for (let round = 1; round <= config.rounds; round++) {
      const sliced: Job[] = [{ kind: 'limits', key: 'limits' }];
      for (let i = 0; i < config.slices; i++) sliced.push(...jobs);
      const roundJobs = shuffled(sliced, rnd);
      order.push(roundJobs.map(jobName));
      const acc = new Map<string, Accumulator>();
      const accOf = (key: string) => {
        let a = acc.get(key);
        if (a === undefined) acc.set(key, (a = newAccumulator()));
        return a;
      };
      const sliceOf = new Map<string, number>();
      let done = 0;
      for (const job of roundJobs) {
        done++;
        if (done % 25 === 1)
          progress(
            `writes: round ${round}/${config.rounds}, ` +
              `slice ${done}/${roundJobs.length}: ${jobName(job)}`,
          );
        syncDisk();
        if (job.kind === 'limits') {
          limits.push({
            round,
            ...measureLimits(
              path.join(baseDir, 'writes'),
              config.limitsFdatasyncMs,
              config.limitsSeqBytes,
            ),
          });
          continue;
        }
        // A different key sequence per slice, the same for every system in the same slot.
        const slot = sliceOf.get(job.key) ?? 0;
        sliceOf.set(job.key, slot + 1);
        const a = accOf(job.key);
        if (job.kind === 'cell') {
          if (job.system.durability === 'durable')
            a.probes.push(probe(baseDir, config.nearbyProbeMs));
          await runCellSlice(
            job.system,
            job.workload,
            job.inFlight,
            round * 1000 + slot * 10,
            sliceMs,
            a,
          );
        } else if (job.kind === 'pipelined') {
          if (job.system.durability === 'durable')
            a.probes.push(probe(baseDir, config.nearbyProbeMs));
          const { batch, loops } = job.variant;
          const op = job.system.makePipelinedSetOp!(round * 1000 + slot * 10 + 3, batch);
          await runSlice(job.system, op, loops, batch, sliceMs, a);
        } else {
          if (job.policy === 'always') a.probes.push(probe(baseDir, config.nearbyProbeMs));
          const server = redisServers.get(job.policy)!;
          try {
            const rps = await runRedisSlice(
              server,
              job.variant,
              redisRps.get(job.key) ?? 1000,
              sliceMs,
              a,
            );
            redisRps.set(job.key, rps);
          } catch (err) {
            // An external tool failing once (a port hiccup, unparsable output) costs one slice of
            // one Redis cell, not the whole run; it is recorded with the results.
            errors.push(
              `round ${round} ${jobName(job)}: ${err instanceof Error ? err.message : String(err)}`,
            );
          }
        }
      }
      for (const job of jobs) {
        const a = acc.get(job.key);
        if (a === undefined || a.ops === 0) continue;
        if (job.kind === 'cell')
          cells.push(
            finishCell(
              round,
              job.system.system,
              job.system.mode,
              job.system.durability,
              job.workload,
              job.inFlight,
              null,
              a,
            ),
          );
        else if (job.kind === 'pipelined') {
          const { batch, loops, label } = job.variant;
          cells.push(
            finishCell(
              round,
              job.system.system,
              job.system.mode,
              job.system.durability,
              'set',
              batch * loops,
              label,
              a,
            ),
          );
        } else if (job.kind === 'redis') {
          const durability: Durability =
            job.policy === 'always'
              ? 'durable'
              : job.policy === 'everysec'
                ? 'bounded-loss'
                : 'os-buffered';
          cells.push(
            finishCell(
              round,
              'redis',
              job.policy,
              durability,
              'set',
              job.variant.inFlight,
              job.variant.label,
              a,
            ),
          );
        }
      }
    }
  } finally {
    for (const s of systems) await s.close().catch(() => {});
    for (const server of redisServers.values()) await server.stop().catch(() => {});
  }
  return { cells, limits, unavailable, order, redisVersion, errors };
}

function probe(baseDir: string, ms: number): number {
  return measureFdatasyncRate(path.join(baseDir, 'writes'), ms).perSec;
}

async function runCellSlice(
  system: WriteSystem,
  workload: Workload,
  inFlight: number,
  seed: number,
  sliceMs: number,
  a: Accumulator,
): Promise<void> {
  // Every system writes the same sequence for the same cell and slice. Each (round, slice,
  // in-flight, workload) has its own seed: replaying a sequence already written to the same store
  // would let SQLite skip the commit (identical bytes dirty no page, so nothing to fsync).
  const op = system.makeOp(
    workload,
    seed + (inFlight === 1 ? 0 : 5) + (workload === 'set' ? 1 : 2),
  );
  await runSlice(system, op, inFlight, 1, sliceMs, a);
}

/** One measured slice: `loops` operations in flight, each of `opsPerCall` writes. */
async function runSlice(
  system: WriteSystem,
  op: () => Promise<unknown>,
  loops: number,
  opsPerCall: number,
  sliceMs: number,
  a: Accumulator,
): Promise<void> {
  await system.beginWindow();
  const m = await measureClosedLoop(op, {
    inFlight: loops,
    durationMs: sliceMs,
    retainSamples: true,
  });
  const counters = await system.endWindow();
  a.opsPerSample = opsPerCall;
  a.ops += m.ops * opsPerCall;
  a.wallMs += m.wallMs;
  a.cpuUs += (m.cpuUserMs + m.cpuSystemMs) * 1000;
  for (const v of m.samplesMs ?? []) a.hist.record(Math.max(1, Math.round(v * 1e6)));
  a.maxMs = Math.max(a.maxMs, m.latency.max);
  a.eventLoopMaxMs = Math.max(a.eventLoopMaxMs, m.eventLoopMaxMs);
  a.gcMaxMs = Math.max(a.gcMaxMs, m.gc.maxMs);
  // Fsyncs and bytes count the whole slice, stragglers included; per-op figures divide by all
  // completed operations, which the latency sample count is.
  a.fsyncs = counters.fsyncs === null || a.fsyncs === null ? null : a.fsyncs + counters.fsyncs;
  a.bytes =
    counters.bytesWritten === null || a.bytes === null ? null : a.bytes + counters.bytesWritten;
  mergeEvents(a.latencyEvents, counters.latencyEvents);
}

async function runRedisSlice(
  server: RedisServer,
  variant: RedisVariant,
  estimatedRps: number,
  sliceMs: number,
  a: Accumulator,
): Promise<number> {
  const requests = Math.max(
    variant.pipeline * variant.clients * 4,
    Math.min(20_000_000, Math.round((estimatedRps * sliceMs) / 1000)),
  );
  await server.client.call('LATENCY', 'RESET');
  const cpu0 = processCpuMs(server.pid);
  const r = await runRedisBenchmark({
    port: server.port,
    requests,
    pipeline: variant.pipeline,
    clients: variant.clients,
    keySpace: KEY_SPACE,
  });
  // redis-server's own CPU. In-process rows include the load generator's CPU (see the harness
  // rows); redis-benchmark runs in its own process and is not counted here.
  a.cpuUs += (processCpuMs(server.pid) - cpu0) * 1000;
  a.ops += requests;
  a.wallMs += (requests / r.rps) * 1000;
  a.maxMs = Math.max(a.maxMs, r.maxMs);
  a.fsyncs = null;
  a.bytes = null;
  a.redisSlices.push({ requests, p50Ms: r.p50Ms, p99Ms: r.p99Ms, meanMs: r.avgMs });
  mergeEvents(a.latencyEvents, await latencyLatest(server.client));
  return r.rps;
}

/** Request-weighted median of per-slice values (Redis gives percentiles per run, not samples). */
function weightedMedian(
  items: readonly RedisSliceStat[],
  value: (x: RedisSliceStat) => number,
): number {
  const sorted = [...items].sort((x, y) => value(x) - value(y));
  const total = sorted.reduce((n, x) => n + x.requests, 0);
  let seen = 0;
  for (const x of sorted) {
    seen += x.requests;
    if (seen >= total / 2) return value(x);
  }
  return Number.NaN;
}

function finishCell(
  round: number,
  system: string,
  mode: string,
  durability: Durability,
  workload: Workload,
  inFlight: number,
  variant: string | null,
  a: Accumulator,
): WriteCell {
  const isRedis = system === 'redis';
  const samples = a.hist.count;
  const p = (q: number) => a.hist.percentile(q) / 1e6;
  const totalRequests = a.redisSlices.reduce((n, x) => n + x.requests, 0);
  const opsForFsync = isRedis ? a.ops : samples * a.opsPerSample;
  return {
    round,
    system,
    mode,
    durability,
    workload,
    inFlight,
    variant,
    ops: a.ops,
    wallMs: a.wallMs,
    opsPerSec: (a.ops / a.wallMs) * 1000,
    p50Ms: isRedis ? weightedMedian(a.redisSlices, (x) => x.p50Ms) : p(50),
    p99Ms: isRedis ? weightedMedian(a.redisSlices, (x) => x.p99Ms) : p(99),
    maxMs: a.maxMs,
    meanMs: isRedis
      ? a.redisSlices.reduce((n, x) => n + x.meanMs * x.requests, 0) / totalRequests
      : a.hist.mean / 1e6,
    cpuUsPerOp: a.cpuUs / a.ops,
    eventLoopMaxMs: isRedis ? null : a.eventLoopMaxMs,
    gcMaxMs: isRedis ? null : a.gcMaxMs,
    fsyncs: a.fsyncs,
    opsPerFsync: a.fsyncs === null || a.fsyncs === 0 ? null : opsForFsync / a.fsyncs,
    bytesPerOp: a.bytes === null || opsForFsync === 0 ? null : a.bytes / opsForFsync,
    latencyEvents: a.latencyEvents.sort((x, y) => y.maxMs - x.maxMs),
    fdatasyncPerSecNearby: a.probes.length === 0 ? null : median(a.probes),
  };
}
