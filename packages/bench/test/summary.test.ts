// The arithmetic behind T3's explanation in the report: the bound a 64-write group commit has on
// a disk, and the CPU per write at which it reaches a given fraction of the limit.

import { describe, expect, it } from 'vitest';
import { groupCommitBound } from '../src/summary.ts';

describe('groupCommitBound', () => {
  it('is 64 fsyncs worth of writes per fsync at zero CPU, and exactly the fraction at the budget', () => {
    const limit = 64 * 8000; // 8,000 100-byte fdatasyncs/s
    const turnRate = 5500; // a 9.2 KB append fsyncs slower
    const { ceiling, cpuBudgetUs } = groupCommitBound(limit, turnRate);
    expect(ceiling(0)).toBeCloseTo(64 * turnRate, 6);
    expect(cpuBudgetUs).toBeGreaterThan(0);
    expect(ceiling(cpuBudgetUs)).toBeCloseTo(limit / 2, 3);
    expect(ceiling(cpuBudgetUs * 1.01)).toBeLessThan(limit / 2);
    expect(groupCommitBound(limit, turnRate, 0.25).cpuBudgetUs).toBeGreaterThan(cpuBudgetUs);
  });

  it('has no CPU budget when the turn fsync alone is slower than the target allows', () => {
    const limit = 64 * 8000;
    // 0.5 of the limit is 32 writes per 100-byte fsync time; an fsync of a turn slower than two
    // of those cannot get there even at zero CPU.
    expect(groupCommitBound(limit, 3900).cpuBudgetUs).toBeLessThan(0);
    expect(groupCommitBound(limit, 3900).ceiling(0)).toBeLessThan(limit / 2);
  });
});
