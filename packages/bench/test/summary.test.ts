// The arithmetic behind T3's explanation in the report: the bound a 64-write group commit has on
// a disk, the CPU per write at which it reaches a given fraction of the limit, and the verdict and
// reference points evaluateTargets derives from a run's cells.

import { describe, expect, it } from 'vitest';
import { evaluateTargets, groupCommitBound } from '../src/summary.ts';
import type { WriteCell, WritesResult } from '../src/scenarios/writes.ts';

describe('groupCommitBound', () => {
  it(
    'is 64 fsyncs worth of writes per fsync at zero CPU, ' +
      'and exactly the fraction at the budget',
    () => {
      const limit = 64 * 8000; // 8,000 100-byte fdatasyncs/s
      const turnRate = 5500; // a 9.2 KB append fsyncs slower
      const { ceiling, cpuBudgetUs } = groupCommitBound(limit, turnRate);
      expect(ceiling(0)).toBeCloseTo(64 * turnRate, 6);
      expect(cpuBudgetUs).toBeGreaterThan(0);
      expect(ceiling(cpuBudgetUs)).toBeCloseTo(limit / 2, 3);
      expect(ceiling(cpuBudgetUs * 1.01)).toBeLessThan(limit / 2);
      expect(groupCommitBound(limit, turnRate, 0.25).cpuBudgetUs).toBeGreaterThan(cpuBudgetUs);
    },
  );

  it('has no CPU budget when the turn fsync alone is slower than the target allows', () => {
    const limit = 64 * 8000;
    // 0.5 of the limit is 32 writes per 100-byte fsync time; an fsync of a turn slower than two
    // of those cannot get there even at zero CPU.
    expect(groupCommitBound(limit, 3900).cpuBudgetUs).toBeLessThan(0);
    expect(groupCommitBound(limit, 3900).ceiling(0)).toBeLessThan(limit / 2);
  });
});

/** One always SET cell at 64 in flight, as the writes scenario records it. */
function durableCell(
  system: string,
  variant: string | null,
  opsPerSec: number,
  fdatasyncPerSecNearby: number,
): WriteCell {
  return {
    round: 1,
    system,
    mode: 'always',
    durability: 'durable',
    workload: 'set',
    inFlight: 64,
    variant,
    ops: opsPerSec,
    wallMs: 1000,
    opsPerSec,
    p50Ms: 1,
    p99Ms: 2,
    maxMs: 3,
    meanMs: 1,
    cpuUsPerOp: 2,
    eventLoopMaxMs: null,
    gcMaxMs: null,
    fsyncs: null,
    opsPerFsync: null,
    bytesPerOp: null,
    latencyEvents: [],
    fdatasyncPerSecNearby,
  };
}

function writesOf(cells: WriteCell[]): WritesResult {
  return { cells, limits: [], unavailable: [], order: [], errors: [], redisVersion: null };
}

describe('evaluateTargets: T3', () => {
  const t3 = (cells: WriteCell[]) =>
    evaluateTargets(writesOf(cells), null).find((t) => t.id === 'T3')!;

  it(
    'holds aofkv against 64 × the fdatasync rate probed next to the cell, ' +
      'and prints Redis on the same measure',
    () => {
      // limit = 64 × 8,000 = 512,000 ops/s
      const miss = t3([
        durableCell('aofkv', null, 150_000, 8000),
        durableCell('redis', '-P 16 -c 4', 128_000, 8000),
      ]);
      expect(miss.verdict).toBe('MISS');
      expect(miss.detail).toContain(`= ${(150_000 / 512_000).toFixed(2)} (need 0.50)`);
      expect(miss.detail).toContain(
        `redis-server always -P 16 -c 4 on the same measure in this run: ` +
          `128,000 ops/s = ${(128_000 / 512_000).toFixed(2)} of its limit`,
      );

      const pass = t3([durableCell('aofkv', null, 260_000, 8000)]);
      expect(pass.verdict).toBe('PASS');
      expect(pass.detail).not.toContain('redis-server');
    },
  );

  it('ignores Redis variants other than -P 16 -c 4 for the reference', () => {
    const t = t3([
      durableCell('aofkv', null, 150_000, 8000),
      durableCell('redis', '-P 1 -c 64', 40_000, 8000),
    ]);
    expect(t.detail).not.toContain('redis-server');
  });
});
