// The closed loop every write cell is measured with: it must keep exactly the requested number of
// operations in flight, count each completed operation once with one latency sample, compute
// percentiles like a plain sort would, and end (not hang) when an operation fails. No timing is
// asserted: the loop runs for a few milliseconds and only its bookkeeping is checked.

import { describe, expect, it } from 'vitest';
import { SampleBuffer, latencyOf, measureClosedLoop } from '../src/harness.ts';

/** An operation acknowledged in a later event-loop turn, like aofkv's; tracks the concurrency. */
function trackedOp(): {
  op: () => Promise<void>;
  maxInFlight: () => number;
  started: () => number;
} {
  let inFlight = 0;
  let max = 0;
  let started = 0;
  return {
    op: () => {
      inFlight++;
      started++;
      max = Math.max(max, inFlight);
      return new Promise<void>((resolve) =>
        setImmediate(() => {
          inFlight--;
          resolve();
        }),
      );
    },
    maxInFlight: () => max,
    started: () => started,
  };
}

describe('latencyOf', () => {
  it('matches nearest-rank percentiles of a plain sort', () => {
    let s = 12345;
    const values = Array.from({ length: 1001 }, () => {
      s = (s * 1103515245 + 12345) % 2147483648;
      return s / 1e6;
    });
    const buf = new SampleBuffer();
    for (const v of values) buf.push(v);
    const stats = latencyOf(buf.sorted());
    const sorted = [...values].sort((a, b) => a - b);
    const rank = (q: number) => sorted[Math.ceil(q * sorted.length) - 1]!;
    expect(stats.samples).toBe(values.length);
    expect(stats.p50).toBe(rank(0.5));
    expect(stats.p99).toBe(rank(0.99));
    expect(stats.max).toBe(sorted[sorted.length - 1]);
    expect(stats.mean).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 9);
  });

  it('reports no samples as NaN, not as zero latency', () => {
    const stats = latencyOf(new SampleBuffer().sorted());
    expect(stats.samples).toBe(0);
    expect(stats.p99).toBeNaN();
  });
});

describe('SampleBuffer', () => {
  it('keeps every sample across growth', () => {
    const buf = new SampleBuffer();
    const n = (1 << 16) * 2 + 5; // past two doublings of the initial capacity
    for (let i = n; i > 0; i--) buf.push(i);
    const sorted = buf.sorted();
    expect(sorted.length).toBe(n);
    expect(sorted[0]).toBe(1);
    expect(sorted[n - 1]).toBe(n);
    for (let i = 1; i < n; i++)
      if (sorted[i - 1]! > sorted[i]!) throw new Error(`not sorted at ${i}`);
  });
});

describe('measureClosedLoop', () => {
  it.each([64, 7])(
    'keeps exactly %i operations in flight and samples each completed one once',
    async (inFlight) => {
      const t = trackedOp();
      const m = await measureClosedLoop(t.op, { inFlight, durationMs: 20, retainSamples: true });
      expect(t.maxInFlight()).toBe(inFlight);
      expect(m.ops).toBeGreaterThan(0);
      expect(m.latency.samples).toBe(m.ops);
      expect(m.samplesMs).toHaveLength(m.ops);
      // Stragglers (issued before the window closed, finished after) are not counted.
      expect(t.started() - m.ops).toBeGreaterThanOrEqual(0);
      expect(t.started() - m.ops).toBeLessThanOrEqual(inFlight);
      expect(m.opsPerSec).toBeCloseTo((m.ops / m.wallMs) * 1000, 6);
      expect(m.latency.p50).toBeLessThanOrEqual(m.latency.p99);
      expect(m.latency.p99).toBeLessThanOrEqual(m.latency.max);
    },
  );

  it('runs one operation at a time at 1 in flight (the tinybench driver)', async () => {
    const t = trackedOp();
    const m = await measureClosedLoop(t.op, { inFlight: 1, durationMs: 20 });
    expect(t.maxInFlight()).toBe(1);
    expect(m.ops).toBeGreaterThan(0);
  });

  it('ends with the error when an operation fails, instead of hanging', async () => {
    let calls = 0;
    const op = async () => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (++calls === 100) throw new Error('disk on fire');
    };
    await expect(measureClosedLoop(op, { inFlight: 8, durationMs: 60_000 })).rejects.toThrow(
      'disk on fire',
    );
  });
});
