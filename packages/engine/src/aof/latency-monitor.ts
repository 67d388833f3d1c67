// Redis latency.c, the parts the AOF uses: latencyAddSampleIfNeeded(event, ms) records a sample
// when latency-monitor-threshold is > 0 and the duration reaches it. Per event we keep the latest
// sample, the all-time max and a history of at most 160 samples, one per second (the max of that
// second), like Redis's LATENCY_TS_LEN ring. Read through LATENCY LATEST / HISTORY / RESET or the
// engine's `latency` API.

import type { Clock } from '../io/clock.ts';

/** Redis LATENCY_TS_LEN. */
const HISTORY_LENGTH = 160;

export interface LatencySample {
  /** Unix seconds. */
  readonly timeSec: number;
  readonly latencyMs: number;
}

interface EventHistory {
  samples: LatencySample[];
  maxMs: number;
}

export class LatencyMonitor {
  private readonly events = new Map<string, EventHistory>();
  private readonly clock: Clock;
  private readonly thresholdMs: () => number;

  constructor(clock: Clock, thresholdMs: () => number) {
    this.clock = clock;
    this.thresholdMs = thresholdMs;
  }

  addSampleIfNeeded(event: string, durationMs: number): void {
    const threshold = this.thresholdMs();
    if (threshold > 0 && durationMs >= threshold) this.addSample(event, Math.round(durationMs));
  }

  addSample(event: string, latencyMs: number): void {
    const timeSec = Math.floor(this.clock.nowMs() / 1000);
    let h = this.events.get(event);
    if (h === undefined) this.events.set(event, (h = { samples: [], maxMs: 0 }));
    h.maxMs = Math.max(h.maxMs, latencyMs);
    const last = h.samples[h.samples.length - 1];
    if (last !== undefined && last.timeSec === timeSec) {
      if (latencyMs > last.latencyMs) h.samples[h.samples.length - 1] = { timeSec, latencyMs };
      return;
    }
    h.samples.push({ timeSec, latencyMs });
    if (h.samples.length > HISTORY_LENGTH) h.samples.shift();
  }

  /** LATENCY LATEST rows: [event, time of latest, latest ms, max ms]. */
  latest(): [string, number, number, number][] {
    const rows: [string, number, number, number][] = [];
    for (const [event, h] of this.events) {
      const last = h.samples[h.samples.length - 1]!;
      rows.push([event, last.timeSec, last.latencyMs, h.maxMs]);
    }
    return rows;
  }

  history(event: string): readonly LatencySample[] {
    return this.events.get(event)?.samples ?? [];
  }

  /** LATENCY RESET [event ...]: returns how many events were reset. */
  reset(events: readonly string[] = []): number {
    if (events.length === 0) {
      const n = this.events.size;
      this.events.clear();
      return n;
    }
    let n = 0;
    for (const e of events) if (this.events.delete(e)) n++;
    return n;
  }
}
