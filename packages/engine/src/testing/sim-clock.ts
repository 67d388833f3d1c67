// Simulated wall clock. Time moves only when a test or the simulator says so (advance/set), so a
// test can stand exactly at 1999 ms and 2000 ms of a postponed flush without sleeping.
//
// It starts at a fixed epoch rather than 0 so that code formatting or comparing Unix times (e.g.
// `#TS:` annotations, unixtime seconds) sees a realistic value, and every run starts identically.

import assert from 'node:assert/strict';
import type { Clock } from '../io/clock.ts';

/** 2023-11-14T22:13:20Z: the default start of simulated time. */
export const SIM_CLOCK_EPOCH_MS = 1_700_000_000_000;

export class SimClock implements Clock {
  #nowMs: number;

  constructor(startMs: number = SIM_CLOCK_EPOCH_MS) {
    assertTime(startMs);
    this.#nowMs = startMs;
  }

  nowMs(): number {
    return this.#nowMs;
  }

  /** Moves time forward by deltaMs (>= 0) and returns the new time. */
  advance(deltaMs: number): number {
    assert(Number.isFinite(deltaMs) && deltaMs >= 0, `deltaMs must be finite and >= 0: ${deltaMs}`);
    this.#nowMs += deltaMs;
    return this.#nowMs;
  }

  /**
   * Jumps to an absolute time. Backwards jumps are allowed on purpose: a wall clock can be set
   * back (NTP, an operator), and Redis's time-based rules must survive that.
   */
  set(nowMs: number): void {
    assertTime(nowMs);
    this.#nowMs = nowMs;
  }
}

function assertTime(valueMs: number): void {
  assert(Number.isFinite(valueMs) && valueMs >= 0, `time must be finite and >= 0: ${valueMs}`);
}
