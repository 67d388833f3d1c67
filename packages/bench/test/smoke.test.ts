// Keeps the benchmarks from rotting: runs `pnpm bench --quick` as a child process (the bench
// measures its own process — CPU time, GC, event loop — and spawns redis-server when present, so
// it should not share a process with vitest) and both study worlds, then checks that
// every scenario produced results, charts and targets. Redis and the embedded peers are optional:
// when missing they must show up as "unavailable", never as a failure. Nothing here asserts a
// performance number; the targets are reported by the bench itself.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { importOptional } from '../src/peers/optional.ts';
import { parseBenchmarkCsv } from '../src/peers/redis.ts';
import { analyzeProfile } from '../src/profile.ts';
import { chromeTrace, runStudy } from '../src/study.ts';

const PKG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = path.join(PKG, 'src', 'main.ts');
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'aofkv-bench-smoke-'));

afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

function runMain(
  args: string[],
  timeoutMs: number,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // A run that hangs is killed by spawn's own timeout (and then fails its assertions).
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', '--conditions=@aofkv/source', MAIN, ...args],
      {
        cwd: PKG,
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => {
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

interface ResultsJson {
  machine: { node: string; cpus: number; versions: Record<string, string | null> };
  writes: {
    cells: {
      system: string;
      mode: string;
      workload: string;
      inFlight: number;
      variant: string | null;
      opsPerSec: number;
    }[];
    limits: unknown[];
    unavailable: { system: string; reason: string }[];
  };
  loadRewrite: {
    loads: { system: string; mbPerSec: number }[];
    rewrites: { system: string; status: string }[];
  };
  targets: { id: string; verdict: string }[];
}

describe('pnpm bench command line', () => {
  it(
    '--help prints the usage; a wrong ' + 'option or value is one line and the usage, exit code 2',
    async () => {
      const help = await runMain(['--help'], 60_000);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^Usage:\n {2}pnpm bench \[--quick\]/);
      const bad = await runMain(['--bogus'], 60_000);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/^pnpm bench: Unknown option '--bogus'/);
      expect(bad.stderr).not.toMatch(/\n\s+at /); // no stack trace
      const value = await runMain(['profile', '--target', 'disk'], 60_000);
      expect(value.code).toBe(2);
      expect(value.stderr).toMatch(/^pnpm bench: --target must be write, load or rewrite/);
    },
  );
});

describe('pnpm bench --quick', () => {
  it('runs every scenario and writes the report, the JSON and the charts', async () => {
    const r = await runMain(['--quick', '--out', out], 110_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('## Writes: SET');
    expect(r.stdout).toContain('## Writes: mixed');
    expect(r.stdout).toContain('## Load, memory and rewrite');
    expect(r.stdout).toMatch(/\*\*(PASS|MISS|N\/A)\*\* T1 /);
    const dir = fs.readdirSync(out).find((d) => d.startsWith('quick-'));
    expect(dir).toBeDefined();
    const resultDir = path.join(out, dir!);
    const json = JSON.parse(
      fs.readFileSync(path.join(resultDir, 'results.json'), 'utf8'),
    ) as ResultsJson;
    expect(json.machine.node).toBe(process.version);
    // aofkv: every mode × workload × in-flight count, plus a pipelined SET cell per mode.
    const aofkv = json.writes.cells.filter((c) => c.system === 'aofkv');
    expect(aofkv).toHaveLength(4 * 2 * 2 + 4);
    expect(
      aofkv.filter(
        (c) => c.variant === 'pipeline 16 × 4' && c.inFlight === 64 && c.workload === 'set',
      ),
    ).toHaveLength(4);
    for (const c of aofkv) expect(c.opsPerSec).toBeGreaterThan(0);
    expect(json.writes.limits.length).toBeGreaterThan(0);
    // Every optional system either ran or is listed as unavailable with a reason.
    for (const system of ['lmdb', 'classic-level', 'better-sqlite3', 'redis']) {
      const ran = json.writes.cells.some((c) => c.system === system);
      const reason = json.writes.unavailable.find((u) => u.system === system);
      expect(ran || reason !== undefined, system).toBe(true);
    }
    expect(json.loadRewrite.loads.some((l) => l.system === 'aofkv' && l.mbPerSec > 0)).toBe(true);
    expect(json.loadRewrite.rewrites.find((x) => x.system === 'aofkv')?.status).toBe('ok');
    const redisRan = json.writes.cells.some((c) => c.system === 'redis');
    expect(json.targets.map((t) => t.id)).toEqual([
      'T1',
      ...(redisRan ? ['T1p'] : []),
      'T2',
      'T3',
      'T4',
      'T5',
      'T6',
    ]);
    for (const chart of [
      'throughput-set.svg',
      'latency-mixed.svg',
      'limit-fraction.svg',
      'load-rewrite.svg',
    ]) {
      expect(fs.readFileSync(path.join(resultDir, chart), 'utf8')).toMatch(
        /^<svg[\s\S]*<\/svg>\s*$/,
      );
    }
  }, 120_000);
});

interface TraceFile {
  traceEvents: {
    name: string;
    ph: string;
    tid?: number;
    ts?: number;
    dur?: number;
    args?: Record<string, unknown>;
  }[];
}

// The studies run in-process: they measure nothing about this process, and sparing two child
// processes (each pays for tsx and ECharts at start-up) keeps the suite well under a minute.
describe('pnpm bench study', () => {
  const base = { rate: 500, policy: 'everysec' as const, outDir: out, dataDir: os.tmpdir() };

  it('--sim with a 3 s fsync shows postponements and a write forced 2 s later', async () => {
    const outcome = await runStudy({ ...base, sim: true, fsyncDelayMs: 3000, seconds: 4 });
    expect(outcome.summary).toMatch(/held 2\.00 s/);
    const trace = JSON.parse(
      fs.readFileSync(path.join(outcome.dir, 'trace.json'), 'utf8'),
    ) as TraceFile;
    const tidOf = (name: string) =>
      trace.traceEvents.find((e) => e.ph === 'M' && e.args?.name === name)?.tid;
    const jobs = trace.traceEvents.filter((e) => e.ph === 'X' && e.tid === tidOf('bio_aof_fsync'));
    expect(jobs.length).toBeGreaterThan(0);
    expect(jobs[0]!.dur).toBe(3_000_000);
    const postpone = trace.traceEvents.find((e) => e.name === 'postpone-start');
    const forced = trace.traceEvents.find((e) => e.name === 'delayed-write');
    expect(postpone?.tid).toBe(tidOf('main'));
    // Redis compares whole seconds: the forced write comes 1–2 s after the postponement began.
    expect(forced!.ts! - postpone!.ts!).toBeGreaterThan(1_000_000);
    expect(forced!.ts! - postpone!.ts!).toBeLessThanOrEqual(2_000_000);
    expect(trace.traceEvents.some((e) => e.ph === 'C' && e.name === 'aofFsync pending')).toBe(true);
    expect(trace.traceEvents.some((e) => e.ph === 'C' && e.name === 'aof_buf bytes')).toBe(true);
    expect(fs.readFileSync(path.join(outcome.dir, 'timeline.svg'), 'utf8')).toMatch(/^<svg/);
  }, 60_000);

  it('real disk + piscina bio records fsync jobs with the injected delay', async () => {
    const outcome = await runStudy({ ...base, sim: false, fsyncDelayMs: 300, seconds: 2 });
    const trace = chromeTrace(outcome.result);
    const jobs = trace.traceEvents.filter((e) => e.ph === 'X' && e.name.startsWith('fdatasync'));
    expect(jobs.length).toBeGreaterThan(0);
    expect(Math.max(...jobs.map((j) => j.dur!))).toBeGreaterThanOrEqual(290_000);
    expect(outcome.result.commandsAcked).toBe(outcome.result.commandsIssued);
  }, 60_000);
});

describe('helpers', () => {
  it('reports a missing optional peer as unavailable instead of throwing', async () => {
    const r = await importOptional('aofkv-no-such-peer-package');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain('aofkv-no-such-peer-package');
  });

  it('parses redis-benchmark --csv output', () => {
    const csv =
      '"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms",' +
      '"p95_latency_ms","p99_latency_ms","max_latency_ms"\n' +
      '"SET","69108.50","0.904","0.048","0.239","3.735","8.319","176.255"\n';
    expect(parseBenchmarkCsv(csv)).toEqual({
      rps: 69108.5,
      avgMs: 0.904,
      p50Ms: 0.239,
      p99Ms: 8.319,
      maxMs: 176.255,
    });
    expect(parseBenchmarkCsv('garbage')).toBeNull();
  });

  it('aggregates a CPU profile by self and inclusive time', () => {
    const text = analyzeProfile({
      nodes: [
        { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2] },
        {
          id: 2,
          callFrame: {
            functionName: 'flush',
            url: 'file:///x/packages/engine/src/aof/aof-writer.ts',
            lineNumber: 9,
          },
          children: [3],
        },
        { id: 3, callFrame: { functionName: 'writeSync', url: 'node:fs', lineNumber: 0 } },
      ],
      samples: [2, 3, 3, 3],
      timeDeltas: [100, 100, 100, 100],
    });
    expect(text).toMatch(/75\.0 % \| writeSync — node:fs:1/);
    expect(text).toMatch(/100\.0 % \| flush — engine\/aof\/aof-writer\.ts:10/);
  });
});
