// The markdown report printed on stdout: machine, disk limits, the write matrix per workload,
// ratios to Redis and to the peers, load / memory / rewrite, the PASS/MISS targets and what was
// unavailable. Every number comes from summary.ts; nothing is computed here but formatting.

import { PIPELINED_VARIANT, REDIS_PIPELINED, REDIS_VARIANTS } from './scenarios/writes.ts';
import type { MachineInfo } from './machine.ts';
import type { WritesResult } from './scenarios/writes.ts';
import type { LoadRewriteResult } from './scenarios/load-rewrite.ts';
import { DURABILITY_ORDER } from './systems/types.ts';
import {
  isPeer,
  roundRatio,
  type CellSummary,
  type LimitSummary,
  type TargetResult,
} from './summary.ts';
import { fmtBytes, fmtCount, fmtMs, fmtRatio, max, median } from './stats.ts';
import { WORKLOADS } from './workload.ts';
import { GROUP_COMMIT_TURN_BYTES } from './scenarios/limits.ts';

export interface ReportInput {
  machine: MachineInfo;
  commandLine: string;
  quick: boolean;
  writes: WritesResult | null;
  cells: CellSummary[];
  limits: LimitSummary | null;
  loadRewrite: LoadRewriteResult | null;
  targets: TargetResult[];
  files: string[];
  elapsedSec: number;
}

const SYSTEM_ORDER = ['aofkv', 'redis', 'lmdb', 'classic-level', 'better-sqlite3', 'harness'];

function table(header: string[], rows: string[][]): string {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

export function renderMarkdown(input: ReportInput): string {
  const { machine: m } = input;
  const out: string[] = [];
  out.push(
    `# aofkv benchmarks${input.quick ? ' (--quick: small sizes, not for conclusions)' : ''}`,
  );
  out.push('');
  out.push(
    `${m.os}, ${m.cpus} × ${m.cpuModel}, ${fmtBytes(m.totalMemBytes)} RAM, ` +
      `Node ${m.node}; load average ${m.loadAvgStart.toFixed(2)} at ` +
      `start${m.loadAvgEnd === null ? '' : `, ${m.loadAvgEnd.toFixed(2)} at end`}; ` +
      `commit ${m.gitCommit?.slice(0, 12) ?? 'unknown'}; ${input.elapsedSec.toFixed(0)} s.`,
  );
  out.push('');
  out.push(
    `Versions: ${Object.entries(m.versions)
      .map(([k, v]) => `${k} ${v ?? 'not installed'}`)
      .join(', ')}.`,
  );
  if (m.loadAvgStart > m.cpus || (m.loadAvgEnd ?? 0) > m.cpus) {
    out.push('');
    out.push(
      `> **Warning:** the load average exceeded the ${m.cpus} CPUs: other processes competed ` +
        `for CPU and disk during this run; absolute numbers are pessimistic and noisier ` +
        `(ratios are taken per round to limit the damage).`,
    );
  }
  out.push('');
  out.push(`Command: \`${input.commandLine}\``);
  out.push('');

  if (input.limits !== null) {
    const l = input.limits;
    out.push('## Disk limits (same run, same directory)');
    out.push('');
    out.push(
      table(
        [
          'fdatasync/s (100 B appends)',
          'min–max over rounds',
          'fdatasync p50',
          'before durable cells',
          'fdatasync/s in place',
          `fdatasync/s per 64-SET turn (${(GROUP_COMMIT_TURN_BYTES / 1000).toFixed(1)} KB)`,
          'seq write MB/s',
          'seq write + fdatasync MB/s',
        ],
        [
          [
            fmtCount(l.fdatasyncPerSec),
            `${fmtCount(l.fdatasyncPerSecMin)}–${fmtCount(l.fdatasyncPerSecMax)}`,
            fmtMs(l.fdatasyncP50Ms),
            fmtCount(l.fdatasyncNearbyPerSec),
            fmtCount(l.fdatasyncInPlacePerSec),
            fmtCount(l.fdatasyncTurnPerSec),
            l.seqWriteMBps.toFixed(0),
            l.seqWriteSyncedMBps.toFixed(0),
          ],
        ],
      ),
    );
    out.push('');
    out.push(
      '"before durable cells": median of the short probe run right before every durable cell, ' +
        'which is what each durable cell\'s "of limit" uses. "in place": ' +
        '100-byte records overwriting successive pages of an already written file (no size ' +
        "change, no metadata journal commit) — what SQLite's WAL and LMDB's pages get, " +
        'the limit their durable rows are held against, and what an append-only file ' +
        'never gets. "per 64-SET turn": appends of what one turn of 64 SETs writes under ' +
        'always, so one fdatasync is a whole group commit.',
    );
    out.push('');
  }

  if (input.writes !== null) {
    out.push(
      'Columns: medians over rounds (max: the worst of all rounds). p50/p99/max: ' +
        'acknowledgment latency of each operation. ops/fsync: operations per fdatasync ' +
        '(main-thread calls counted by a FileSystem wrapper + bio fsync jobs); in the mixed ' +
        'workload an LPOP of an empty list writes nothing, so it can exceed 1 at 1 in flight. ' +
        'CPU µs/op: process CPU (all threads) per operation, including the load generator ' +
        '(the "harness" rows show its share); for Redis, redis-server\'s CPU only. ' +
        'loop max (GC max): worst event-loop delay and longest GC pause. of limit: ' +
        'see the disk limits. latency events: LATENCY LATEST with latency-monitor-threshold 1.',
    );
    out.push('');
    for (const workload of WORKLOADS) {
      const rows = input.cells
        .filter((c) => c.workload === workload)
        .sort(
          (a, b) =>
            DURABILITY_ORDER.indexOf(a.durability) - DURABILITY_ORDER.indexOf(b.durability) ||
            SYSTEM_ORDER.indexOf(a.system) - SYSTEM_ORDER.indexOf(b.system) ||
            a.mode.localeCompare(b.mode) ||
            (a.variant ?? '').localeCompare(b.variant ?? '') ||
            a.inFlight - b.inFlight,
        );
      if (rows.length === 0) continue;
      const heading =
        workload === 'set'
          ? 'SET 16-byte key, 100-byte value'
          : 'mixed (SET/HSET/RPUSH/LPOP/SADD/ZADD)';
      out.push(`## Writes: ${heading}`);
      out.push('');
      out.push(
        table(
          [
            'durability',
            'system',
            'mode',
            'in flight',
            'ops/s',
            'p50',
            'p99',
            'max',
            'ops/fsync',
            'CPU µs/op',
            'loop max (GC max)',
            'of limit',
            'latency events (max ms)',
          ],
          rows.map((c) => [
            c.durability,
            c.system,
            c.variant === null ? c.mode : `${c.mode} ${c.variant}`,
            String(c.inFlight),
            fmtCount(c.opsPerSec),
            fmtMs(c.p50Ms),
            fmtMs(c.p99Ms),
            fmtMs(c.maxMs),
            c.opsPerFsync === null ? '—' : fmtCount(c.opsPerFsync),
            Number.isFinite(c.cpuUsPerOp) ? c.cpuUsPerOp.toPrecision(3) : '—',
            c.eventLoopMaxMs === null
              ? '—'
              : `${fmtMs(c.eventLoopMaxMs)} (${fmtMs(c.gcMaxMs ?? Number.NaN)})`,
            c.limitFraction === null
              ? '—'
              : `${(c.limitFraction * 100).toPrecision(3)} % of ${c.limitLabel}`,
            c.latencyEvents.length === 0
              ? '—'
              : c.latencyEvents
                  .slice(0, 3)
                  .map((e) => `${e.event} ${e.maxMs}`)
                  .join(', '),
          ]),
        ),
      );
      out.push('');
    }
    out.push(...ratioSection(input.writes));
  }

  if (input.loadRewrite !== null) out.push(...loadRewriteSection(input.loadRewrite));

  out.push('## Targets');
  out.push('');
  for (const t of input.targets)
    out.push(`- **${t.verdict}** ${t.id} ${t.description}: ${t.detail}`);
  out.push('');

  const unavailable = input.writes?.unavailable ?? [];
  if (unavailable.length > 0 || input.loadRewrite?.redisUnavailable) {
    out.push('## Unavailable');
    out.push('');
    for (const u of unavailable) out.push(`- ${u.system}: ${u.reason}`);
    if (input.loadRewrite?.redisUnavailable && !unavailable.some((u) => u.system === 'redis')) {
      out.push(`- redis (load/rewrite): ${input.loadRewrite.redisUnavailable}`);
    }
    out.push('');
  }
  if ((input.writes?.errors.length ?? 0) > 0) {
    out.push('## Errors (slices left out)');
    out.push('');
    for (const e of input.writes!.errors) out.push(`- ${e}`);
    out.push('');
  }
  if (input.files.length > 0) {
    out.push('## Files');
    out.push('');
    for (const f of input.files) out.push(`- ${f}`);
    out.push('');
  }
  return out.join('\n');
}

function ratioSection(w: WritesResult): string[] {
  const out: string[] = [];
  const rows: string[][] = [];
  const hasRedis = w.cells.some((c) => c.system === 'redis');
  if (hasRedis) {
    for (const policy of ['always', 'everysec', 'no']) {
      for (const { inFlight, label } of REDIS_VARIANTS) {
        const r = roundRatio(
          w,
          { system: 'aofkv', mode: policy, workload: 'set', inFlight },
          { system: 'redis', mode: policy, variant: label },
        );
        rows.push([
          `aofkv ${policy} SET @${inFlight}`,
          `redis ${policy} ${label}`,
          fmtCount(r.a),
          fmtCount(r.b),
          fmtRatio(r.ratio),
        ]);
      }
      // Pipelines on both sides: db.pipeline() of 16 SETs × 4 loops vs redis-benchmark -P 16 -c 4.
      const p = roundRatio(
        w,
        { system: 'aofkv', mode: policy, variant: PIPELINED_VARIANT.label },
        { system: 'redis', mode: policy, variant: REDIS_PIPELINED.label },
      );
      if (Number.isFinite(p.ratio))
        rows.push([
          `aofkv ${policy} SET ${PIPELINED_VARIANT.label}`,
          `redis ${policy} ${REDIS_PIPELINED.label}`,
          fmtCount(p.a),
          fmtCount(p.b),
          fmtRatio(p.ratio),
        ]);
    }
  }
  const peers = [
    ...new Set(
      w.cells.filter((c) => isPeer(c.system)).map((c) => `${c.system}|${c.mode}|${c.durability}`),
    ),
  ];
  for (const p of peers) {
    const [system, mode, durability] = p.split('|') as [string, string, string];
    const aofkvMode =
      durability === 'durable' ? 'always' : durability === 'bounded-loss' ? 'everysec' : 'no';
    for (const workload of WORKLOADS) {
      for (const inFlight of [1, 64]) {
        const r = roundRatio(
          w,
          { system: 'aofkv', mode: aofkvMode, workload, inFlight },
          { system, mode, workload, inFlight },
        );
        if (!Number.isFinite(r.ratio)) continue;
        rows.push([
          `aofkv ${aofkvMode} ${workload} @${inFlight}`,
          `${system} ${mode}`,
          fmtCount(r.a),
          fmtCount(r.b),
          fmtRatio(r.ratio),
        ]);
      }
    }
  }
  if (rows.length === 0) return out;
  out.push('## Ratios (median over rounds of same-round ratios)');
  out.push('');
  out.push(table(['aofkv', 'vs', 'aofkv ops/s', 'other ops/s', 'aofkv ÷ other'], rows));
  out.push('');
  return out;
}

function loadRewriteSection(lr: LoadRewriteResult): string[] {
  const out: string[] = [];
  const ds = lr.dataset;
  out.push(
    `## Load, memory and rewrite: ${ds.keys.toLocaleString('en-US')} mixed keys, ` +
      `${(ds.aofBytes / 1e6).toFixed(1)} MB RESP AOF`,
  );
  out.push('');
  const systems = ['aofkv', 'redis'] as const;
  const loadRows: string[][] = [];
  for (const s of systems) {
    const runs = lr.loads.filter((l) => l.system === s);
    if (runs.length === 0) continue;
    loadRows.push([
      s,
      String(runs.length),
      fmtMs(median(runs.map((r) => r.loadMs))),
      median(runs.map((r) => r.mbPerSec)).toFixed(1),
      fmtCount(median(runs.map((r) => r.keysPerSec))),
      `${median(runs.map((r) => r.bytesPerKey)).toFixed(0)}` +
        (s === 'aofkv' && !lr.gcExposed ? ' (no --expose-gc: approximate)' : ''),
      s === 'aofkv'
        ? `${median(runs.map((r) => r.rssBytesPerKey ?? Number.NaN)).toFixed(0)} (RSS)`
        : 'used_memory − startup',
    ]);
  }
  out.push(
    table(
      ['system', 'rounds', 'load time', 'MB/s', 'keys/s', 'bytes/key', 'memory basis'],
      loadRows,
    ),
  );
  out.push('');
  const rwRows: string[][] = [];
  for (const s of systems) {
    const runs = lr.rewrites.filter((r) => r.system === s);
    if (runs.length === 0) continue;
    rwRows.push([
      s,
      runs.map((r) => r.status).join(','),
      fmtMs(median(runs.map((r) => r.durationMs))),
      fmtBytes(median(runs.map((r) => r.cowSizeBytes))),
      s === 'aofkv'
        ? `${fmtMs(max(runs.map((r) => r.eventLoopMaxMs ?? Number.NaN)))}, GC max ` +
          `${fmtMs(max(runs.map((r) => r.gc?.maxMs ?? Number.NaN)))} (same load without ` +
          `rewrite: ${fmtMs(max(runs.map((r) => r.baselineEventLoopMaxMs ?? Number.NaN)))}, ` +
          `GC max ${fmtMs(max(runs.map((r) => r.baselineGc?.maxMs ?? Number.NaN)))})`
        : '—',
      s === 'aofkv'
        ? `${fmtMs(max(runs.map((r) => r.startMs ?? Number.NaN)))} / ` +
          `${fmtMs(max(runs.map((r) => r.maxSliceMs ?? Number.NaN)))} ` +
          `(${Math.round(median(runs.map((r) => r.slices ?? Number.NaN)))} slices)`
        : '—',
      s === 'redis' ? fmtMs(median(runs.map((r) => r.forkMs ?? Number.NaN))) : '—',
      s === 'aofkv'
        ? `${fmtBytes(median(runs.map((r) => r.rssGrowthBytes ?? Number.NaN)))} / ` +
          `${fmtBytes(median(runs.map((r) => r.heapGrowthBytes ?? Number.NaN)))}`
        : '—',
      s === 'aofkv'
        ? `${fmtMs(median(runs.map((r) => r.loadP99Ms ?? Number.NaN)))} / ` +
          `${fmtMs(max(runs.map((r) => r.loadMaxMs ?? Number.NaN)))}`
        : '—',
    ]);
  }
  out.push(
    table(
      [
        'system',
        'status',
        'BGREWRITEAOF',
        'aof_last_cow_size',
        'event loop max',
        'start / longest slice',
        'latest_fork_usec',
        'RSS / heap growth',
        'SET p99 / max during',
      ],
      rwRows,
    ),
  );
  out.push('');
  return out;
}
