// `pnpm bench [--quick]`: every scenario, then the report (stdout), the raw JSON and the charts.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { machineInfo } from './machine.ts';
import { progress } from './harness.ts';
import { findRedis } from './peers/redis.ts';
import { runWrites, type WritesResult } from './scenarios/writes.ts';
import { runLoadRewrite, type LoadRewriteResult } from './scenarios/load-rewrite.ts';
import { rdbLoadSection, runRdbLoad, type RdbLoadResult } from './scenarios/rdb-load.ts';
import { evaluateTargets, summarizeCells, summarizeLimits } from './summary.ts';
import { renderMarkdown } from './report.ts';
import { latencyChart, limitChart, loadRewriteChart, throughputChart } from './charts.ts';
import { WORKLOADS } from './workload.ts';

export interface BenchOptions {
  quick: boolean;
  rounds: number;
  cellMs: number;
  slices: number;
  keys: number;
  loadRounds: number;
  outDir: string;
  dataDir: string;
  skip: Set<string>;
  only: Set<string>;
  commandLine: string;
}

export function defaultBenchOptions(
  quick: boolean,
): Omit<BenchOptions, 'outDir' | 'dataDir' | 'skip' | 'only' | 'commandLine'> {
  return quick
    ? { quick, rounds: 1, cellMs: 60, slices: 1, keys: 20_000, loadRounds: 1 }
    : { quick, rounds: 3, cellMs: 1000, slices: 4, keys: 1_000_000, loadRounds: 3 };
}

export interface BenchOutcome {
  resultDir: string;
  markdown: string;
  jsonPath: string;
}

export async function runBench(o: BenchOptions): Promise<BenchOutcome> {
  const started = new Date();
  const t0 = performance.now();
  const machine = await machineInfo();
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const resultDir = path.resolve(o.outDir, `${o.quick ? 'quick-' : ''}${stamp}`);
  fs.mkdirSync(resultDir, { recursive: true });
  const work = fs.mkdtempSync(path.join(o.dataDir, 'aofkv-bench-'));
  progress(`data in ${work}, results in ${resultDir}`);
  let writes: WritesResult | null = null;
  let loadRewrite: LoadRewriteResult | null = null;
  let rdbLoad: RdbLoadResult | null = null;
  try {
    if (o.only.size === 0 || o.only.has('writes')) {
      writes = await runWrites(work, {
        rounds: o.rounds,
        cellMs: o.cellMs,
        slices: o.slices,
        warmupMs: o.quick ? 20 : 250,
        inFlight: [1, 64],
        limitsFdatasyncMs: o.quick ? 50 : 1000,
        limitsSeqBytes: (o.quick ? 8 : 256) << 20,
        nearbyProbeMs: o.quick ? 20 : 100,
        skip: o.skip,
      });
    }
    if (o.only.size === 0 || o.only.has('load')) {
      loadRewrite = await runLoadRewrite(work, {
        keys: o.keys,
        rounds: o.loadRounds,
        baselineMs: o.quick ? 100 : 1000,
        skipRedis: o.skip.has('redis'),
      });
    }
    if (o.only.size === 0 || o.only.has('rdb-load')) {
      rdbLoad = await runRdbLoad(work, {
        keys: o.keys,
        rounds: o.loadRounds,
        skipRedis: o.skip.has('redis'),
      });
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  machine.loadAvgEnd = os.loadavg()[0]!;
  // Whichever scenario ran Redis knows its version; --only load has no writes scenario.
  const redis = o.skip.has('redis') ? null : findRedis();
  machine.versions['redis-server'] =
    writes?.redisVersion ?? (redis?.ok === true ? redis.tools.version : null);

  const limits = writes === null ? null : summarizeLimits(writes);
  const cells = writes === null ? [] : summarizeCells(writes, limits);
  const targets = evaluateTargets(writes, loadRewrite);
  const files: string[] = [];
  const write = (name: string, content: string) => {
    const p = path.join(resultDir, name);
    fs.writeFileSync(p, content);
    files.push(p);
  };
  if (writes !== null) {
    for (const w of WORKLOADS) {
      write(`throughput-${w}.svg`, throughputChart(cells, w));
      write(`latency-${w}.svg`, latencyChart(cells, w));
    }
    write('limit-fraction.svg', limitChart(cells));
  }
  if (loadRewrite !== null) write('load-rewrite.svg', loadRewriteChart(loadRewrite));
  const jsonPath = path.join(resultDir, 'results.json');
  files.push(jsonPath, path.join(resultDir, 'report.md'));
  const elapsedSec = (performance.now() - t0) / 1000;
  const markdown =
    renderMarkdown({
      machine,
      commandLine: o.commandLine,
      quick: o.quick,
      writes,
      cells,
      limits,
      loadRewrite,
      targets,
      files,
      elapsedSec,
    }) + (rdbLoad === null ? '' : `\n${rdbLoadSection(rdbLoad)}`);
  fs.writeFileSync(
    jsonPath,
    JSON.stringify(
      {
        schema: 1,
        startedAt: started.toISOString(),
        elapsedSec,
        commandLine: o.commandLine,
        options: { ...o, skip: [...o.skip], only: [...o.only] },
        machine,
        writes,
        loadRewrite,
        rdbLoad,
        summary: { limits, cells },
        targets,
      },
      (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v),
      2,
    ),
  );
  fs.writeFileSync(path.join(resultDir, 'report.md'), markdown);
  return { resultDir, markdown, jsonPath };
}
