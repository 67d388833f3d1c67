// DESIGN: the measurement loop every in-process write cell goes through, whatever the system.
//
// A cell keeps `inFlight` operations outstanding for `durationMs` (a closed loop: each completion
// issues the next operation) and reports throughput, acknowledgment latency percentiles, CPU time
// and the event loop's worst delay. tinybench 6 drives the loop and computes the latency
// distribution (`concurrency: 'task'` with `threshold: inFlight` keeps exactly that many
// iterations in flight; `iterations: 0` makes it time-bound, otherwise it stops after 64).
//
// tinybench's own throughput numbers are not used: with concurrency its `period` is the mean
// latency, not time per operation, and the sort of up to millions of samples after the run would
// land inside any timer around `bench.run()`. So the wrapper around the operation counts
// completions and closes the window itself: the first completion after the deadline snapshots
// the wall time, the CPU time and the event-loop histogram. Completions after that (at most
// `inFlight - 1` stragglers) do not count. The deadline is a timer, not a clock read per
// operation: at 200k ops/s every 100 ns of harness is 2 % of the measurement, and the load
// generator shares the main thread with the engine it measures (see the "harness" rows).

import { PerformanceObserver, monitorEventLoopDelay, type PerformanceEntry } from 'node:perf_hooks';
import { spawnSync } from 'node:child_process';
import { Bench } from 'tinybench';

export interface LatencyStats {
  /** Milliseconds. */
  p50: number;
  p99: number;
  max: number;
  mean: number;
  samples: number;
}

export interface LoopMeasurement {
  ops: number;
  wallMs: number;
  opsPerSec: number;
  latency: LatencyStats;
  /** process.cpuUsage() over the window: every thread of this process (bio, libuv, lmdb...). */
  cpuUserMs: number;
  cpuSystemMs: number;
  cpuUsPerOp: number;
  /** monitorEventLoopDelay over the window (resolution 1 ms). */
  eventLoopMaxMs: number;
  eventLoopP99Ms: number;
  /** Garbage-collection pauses in the window: the usual suspect for a long event-loop turn. */
  gc: GcStats;
  /** Latency samples in ms, sorted (only with retainSamples). */
  samplesMs: readonly number[] | null;
}

export interface GcStats {
  count: number;
  totalMs: number;
  maxMs: number;
  /** Kind of the longest pause ('minor', 'major', 'incremental', 'weakcb'). */
  maxKind: string | null;
}

const GC_KINDS: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb', 16: 'weakcb' };

/** Watches GC pauses (PerformanceObserver 'gc' entries) until stop(). */
export function watchGc(): { stop: () => GcStats } {
  const stats: GcStats = { count: 0, totalMs: 0, maxMs: 0, maxKind: null };
  const take = (entries: readonly PerformanceEntry[]) => {
    for (const e of entries) {
      stats.count++;
      stats.totalMs += e.duration;
      if (e.duration > stats.maxMs) {
        stats.maxMs = e.duration;
        const detail = (e as PerformanceEntry & { detail?: { kind?: number } }).detail;
        stats.maxKind = GC_KINDS[detail?.kind ?? 0] ?? String(detail?.kind ?? '?');
      }
    }
  };
  const obs = new PerformanceObserver((list) => take(list.getEntries()));
  obs.observe({ entryTypes: ['gc'] });
  return {
    stop: () => {
      take(obs.takeRecords());
      obs.disconnect();
      return stats;
    },
  };
}

export interface LoopOptions {
  inFlight: number;
  durationMs: number;
  /** Return every latency sample (ms, sorted) so slices of one cell can be merged exactly. */
  retainSamples?: boolean;
}

export async function measureClosedLoop(op: () => Promise<unknown>, options: LoopOptions): Promise<LoopMeasurement> {
  const { inFlight, durationMs } = options;
  const eld = monitorEventLoopDelay({ resolution: 1 });
  // A holder, not a `let`: TypeScript does not see assignments made inside the task closure.
  const gcWatch: { current: { stop: () => GcStats } | null } = { current: null };
  let gc: GcStats = { count: 0, totalMs: 0, maxMs: 0, maxKind: null };
  let started = false;
  let closed = false;
  let deadlinePassed = false;
  let timer: NodeJS.Timeout | null = null;
  let startMs = 0;
  let endMs = 0;
  let ops = 0;
  let cpu0: NodeJS.CpuUsage = { user: 0, system: 0 };
  let cpu: NodeJS.CpuUsage = { user: 0, system: 0 };

  const task = async (): Promise<void> => {
    if (!started) {
      started = true;
      eld.enable();
      gcWatch.current = watchGc();
      cpu0 = process.cpuUsage();
      startMs = performance.now();
      timer = setTimeout(() => {
        deadlinePassed = true;
      }, durationMs);
    }
    await op();
    if (closed) return;
    ops++;
    if (deadlinePassed) {
      closed = true;
      endMs = performance.now();
      cpu = process.cpuUsage(cpu0);
      eld.disable();
      gc = gcWatch.current!.stop();
    }
  };

  const concurrent = inFlight > 1;
  const bench = new Bench({
    time: durationMs,
    warmup: false,
    // performance.now() is cheaper than hrtime.bigint() and precise to well under a microsecond.
    timestampProvider: 'performanceNow',
    // A slow durable system may manage only a few hundred operations in the window; never
    // insist on more than a handful.
    iterations: concurrent ? 0 : 4,
    retainSamples: options.retainSamples === true,
    ...(concurrent ? { concurrency: 'task' as const, threshold: inFlight } : {}),
  });
  bench.add('op', task);
  await bench.run();
  const result = bench.tasks[0]!.result;
  if (result.state === 'errored') throw result.error;
  if (result.state !== 'completed') throw new Error(`tinybench ended in state ${result.state}`);
  if (timer !== null) clearTimeout(timer);
  if (!closed) {
    // tinybench stopped issuing (its own clock) before our timer fired, or nothing completed after.
    endMs = performance.now();
    cpu = process.cpuUsage(cpu0);
    eld.disable();
    if (gcWatch.current !== null) gc = gcWatch.current.stop();
  }
  const wallMs = endMs - startMs;
  const { latency } = result;
  return {
    ops,
    wallMs,
    opsPerSec: (ops / wallMs) * 1000,
    latency: { p50: latency.p50, p99: latency.p99, max: latency.max, mean: latency.mean, samples: latency.samplesCount },
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    cpuUsPerOp: ops === 0 ? Number.NaN : (cpu.user + cpu.system) / ops,
    eventLoopMaxMs: eld.max / 1e6,
    eventLoopP99Ms: eld.percentile(99) / 1e6,
    gc,
    samplesMs: latency.samples ?? null,
  };
}

/**
 * Flush every dirty page of the machine before a cell, so a cell never pays for the write-back
 * of the one before it (an `appendfsync no` cell leaves hundreds of MB dirty, and the next
 * fsync-bound cell would otherwise wait for it). Best effort: `sync` may be missing.
 */
export function syncDisk(): void {
  spawnSync('sync', [], { stdio: 'ignore' });
}

/** A full GC when the process runs with --expose-gc (pnpm bench does); a no-op otherwise. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    gc();
    gc();
  }
}

export function hasGc(): boolean {
  return typeof (globalThis as { gc?: unknown }).gc === 'function';
}

/** Fisher–Yates with a seeded generator: a different but reproducible order every round. */
export function shuffled<T>(items: readonly T[], rnd: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rnd() % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const processStart = performance.now();

/** Progress lines go to stderr so stdout stays the report. */
export function progress(message: string): void {
  const s = ((performance.now() - processStart) / 1000).toFixed(1);
  process.stderr.write(`[bench +${s}s] ${message}\n`);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
