// DESIGN: the measurement loop every in-process write cell goes through, whatever the system.
//
// A cell keeps `inFlight` operations outstanding for `durationMs` (a closed loop: each completion
// issues the next operation) and reports throughput, acknowledgment latency percentiles, CPU time
// and the event loop's worst delay. The window is closed by the first completion after a timer
// fires (not a clock read per operation): it snapshots the wall time, the CPU time and the
// event-loop histogram; completions after that (at most `inFlight - 1` stragglers) do not count.
//
// Two drivers, one per shape of cell:
// - 1 in flight: tinybench 6 (`iterations: 4` minimum, time-bound), its own model of one
//   operation after another, timed one by one. Its per-iteration bookkeeping (two clock reads,
//   an async wrapper, sample arrays) is well under 5 % of an operation that takes 8-200 µs.
// - more in flight: `inFlight` plain async loops with one clock read per operation (the end of one
//   operation is the start of the next) and samples in a Float64Array. tinybench's
//   `concurrency: 'task'` did the same job, but at 64 in flight its bookkeeping was about 35 % of
//   the main thread's samples (`pnpm bench profile`), measured as if it were the engine's cost,
//   since the load generator shares the main thread with the in-process system it measures. The
//   "harness" rows (a system that does nothing) show what is left of that share.
// tinybench's own throughput numbers are never used: with concurrency its `period` is the mean
// latency, not time per operation, and its sort of the samples would land inside a timer around
// `bench.run()`.

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

const GC_KINDS: Record<number, string> = {
  1: 'minor',
  2: 'major',
  4: 'incremental',
  8: 'weakcb',
  16: 'weakcb',
};

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

export async function measureClosedLoop(
  op: () => Promise<unknown>,
  options: LoopOptions,
): Promise<LoopMeasurement> {
  return options.inFlight > 1
    ? measureConcurrentLoop(op, options)
    : measureSequentialLoop(op, options);
}

/** What both drivers snapshot when the window closes. */
class Window {
  private readonly eld = monitorEventLoopDelay({ resolution: 1 });
  private gcWatch: { stop: () => GcStats } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private cpu0: NodeJS.CpuUsage = { user: 0, system: 0 };
  opened = false;
  deadlinePassed = false;
  closed = false;
  startMs = 0;
  endMs = 0;
  cpu: NodeJS.CpuUsage = { user: 0, system: 0 };
  gc: GcStats = { count: 0, totalMs: 0, maxMs: 0, maxKind: null };

  open(durationMs: number): void {
    this.opened = true;
    this.eld.enable();
    this.gcWatch = watchGc();
    this.cpu0 = process.cpuUsage();
    this.startMs = performance.now();
    this.timer = setTimeout(() => {
      this.deadlinePassed = true;
    }, durationMs);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.endMs = performance.now();
    this.cpu = process.cpuUsage(this.cpu0);
    this.eld.disable();
    if (this.gcWatch !== null) this.gc = this.gcWatch.stop();
    if (this.timer !== null) clearTimeout(this.timer);
  }

  measurement(
    ops: number,
    latency: LatencyStats,
    samplesMs: readonly number[] | null,
  ): LoopMeasurement {
    const wallMs = this.endMs - this.startMs;
    const { cpu } = this;
    return {
      ops,
      wallMs,
      opsPerSec: (ops / wallMs) * 1000,
      latency,
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
      cpuUsPerOp: ops === 0 ? Number.NaN : (cpu.user + cpu.system) / ops,
      eventLoopMaxMs: this.eld.max / 1e6,
      eventLoopP99Ms: this.eld.percentile(99) / 1e6,
      gc: this.gc,
      samplesMs,
    };
  }
}

/** Latency samples in ms: a growable Float64Array, so recording one allocates nothing. */
export class SampleBuffer {
  private data = new Float64Array(1 << 16);
  length = 0;

  push(ms: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = ms;
  }

  /** The samples, sorted ascending (a typed-array sort: numeric, no comparator calls). */
  sorted(): Float64Array {
    return this.data.subarray(0, this.length).sort();
  }
}

/** p50/p99/max/mean of sorted samples (nearest rank). */
export function latencyOf(sorted: Float64Array): LatencyStats {
  const n = sorted.length;
  if (n === 0)
    return { p50: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN, samples: 0 };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  const rank = (q: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!;
  return { p50: rank(0.5), p99: rank(0.99), max: sorted[n - 1]!, mean: sum / n, samples: n };
}

async function measureConcurrentLoop(
  op: () => Promise<unknown>,
  options: LoopOptions,
): Promise<LoopMeasurement> {
  const w = new Window();
  const samples = new SampleBuffer();
  let ops = 0;
  const loop = async (): Promise<void> => {
    let t = performance.now();
    while (!w.closed) {
      await op();
      const now = performance.now();
      if (w.closed) return;
      samples.push(now - t);
      ops++;
      t = now;
      if (w.deadlinePassed) w.close();
    }
  };
  w.open(options.durationMs);
  const loops: Promise<void>[] = [];
  for (let i = 0; i < options.inFlight; i++) loops.push(loop());
  try {
    await Promise.all(loops);
  } finally {
    // A failed operation ends the cell: stop the other loops and the window's observers.
    w.close();
  }
  const sorted = samples.sorted();
  return w.measurement(
    ops,
    latencyOf(sorted),
    options.retainSamples === true ? Array.from(sorted) : null,
  );
}

async function measureSequentialLoop(
  op: () => Promise<unknown>,
  options: LoopOptions,
): Promise<LoopMeasurement> {
  const w = new Window();
  let ops = 0;
  const task = async (): Promise<void> => {
    if (!w.opened) w.open(options.durationMs);
    await op();
    if (w.closed) return;
    ops++;
    if (w.deadlinePassed) w.close();
  };
  const bench = new Bench({
    time: options.durationMs,
    warmup: false,
    // performance.now() is cheaper than hrtime.bigint() and precise to well under a microsecond.
    timestampProvider: 'performanceNow',
    // A slow durable system may manage only a few hundred operations in the window; never
    // insist on more than a handful.
    iterations: 4,
    retainSamples: options.retainSamples === true,
  });
  bench.add('op', task);
  await bench.run();
  const result = bench.tasks[0]!.result;
  if (result.state === 'errored') throw result.error;
  if (result.state !== 'completed') throw new Error(`tinybench ended in state ${result.state}`);
  // tinybench stopped issuing (its own clock) before our timer fired: close at its end.
  w.close();
  const { latency } = result;
  return w.measurement(
    ops,
    {
      p50: latency.p50,
      p99: latency.p99,
      max: latency.max,
      mean: latency.mean,
      samples: latency.samplesCount,
    },
    latency.samples ?? null,
  );
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

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));
