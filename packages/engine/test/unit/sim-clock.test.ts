import { describe, expect, it } from 'vitest';
import { SimClock, SIM_CLOCK_EPOCH_MS } from '../../src/testing/sim-clock.ts';

describe('SimClock', () => {
  it('starts at a fixed epoch and moves only when told', () => {
    const clock = new SimClock();
    expect(clock.nowMs()).toBe(SIM_CLOCK_EPOCH_MS);
    expect(clock.nowMs()).toBe(SIM_CLOCK_EPOCH_MS);
    expect(clock.advance(1_999)).toBe(SIM_CLOCK_EPOCH_MS + 1_999);
    clock.advance(1);
    expect(clock.nowMs()).toBe(SIM_CLOCK_EPOCH_MS + 2_000);
  });

  it('set() jumps to an absolute time, backwards too (a wall clock can be set back)', () => {
    const clock = new SimClock(10_000);
    clock.set(50_000);
    expect(clock.nowMs()).toBe(50_000);
    clock.set(20_000);
    expect(clock.nowMs()).toBe(20_000);
  });

  it('refuses negative steps and non-finite times', () => {
    const clock = new SimClock(0);
    expect(() => clock.advance(-1)).toThrow();
    expect(() => clock.advance(Number.NaN)).toThrow();
    expect(() => clock.set(Number.POSITIVE_INFINITY)).toThrow();
    expect(() => new SimClock(-5)).toThrow();
  });
});
