// DESIGN: study mode — watch Redis's everysec rules happen. The engine runs with a chosen fsync
// delay and write rate while every AOF event is recorded:
//   main thread   write(2) of aof_buf, postpone-start / postpone-continue (a write held back
//                 because a background fsync is still pending), delayed-write (the write forced
//                 through after 2 s: Redis's aof_delayed_fsync), fsync-submit, fsync-always
//   bio threads   submit / start / finish of every fsync and close job, with the pending count
//   counters      pending aofFsync jobs and aof_buf bytes, sampled every few ms
// Source: the engine's 'trace' events (EngineTraceEvent), the same API embedders use.
//
// Two worlds:
//   real (default)  the real disk and createPiscinaBio({fsyncDelayMs}): the bio thread sleeps that
//                   long before each fdatasync. Wall-clock timeline.
//   --sim           SimFileSystem + SimClock + InlineBio on a virtual timeline stepped 1 ms at a
//                   time: each fsync job starts when the bio "thread" is free and finishes exactly
//                   fsyncDelayMs later. Deterministic and instant, whatever the delay.
// Outputs: timeline.svg (ECharts), trace.json (Chrome trace-event format, opens in Perfetto /
// chrome://tracing), events.json (the raw records).

import fs from 'node:fs';
import path from 'node:path';
import { openEngine, type AofTraceEvent, type Engine, type EngineTraceEvent } from '@aofkv/engine';
import { openSimEngine } from '@aofkv/engine/testing';
import { createPiscinaBio, type BioEvent } from '@aofkv/bio-workers';
import { renderSvg } from './charts.ts';
import { progress, sleep } from './harness.ts';
import { keyName } from './workload.ts';

export interface StudyOptions {
  fsyncDelayMs: number;
  rate: number;
  seconds: number;
  policy: 'always' | 'everysec' | 'no';
  sim: boolean;
  outDir: string;
  dataDir: string;
}

/** Times are ms since the study started. */
export type StudyRecord =
  | { source: 'aof'; t: number; event: AofTraceEvent }
  | { source: 'bio'; t: number; event: BioEvent }
  | { source: 'sample'; t: number; bufBytes: number; pendingFsync: number };

export interface StudyResult {
  records: StudyRecord[];
  commandsIssued: number;
  commandsAcked: number;
  maxAckMs: number;
  world: 'real' | 'sim';
  options: StudyOptions;
}

export interface StudyOutcome {
  dir: string;
  summary: string;
  result: StudyResult;
}

const SAMPLE_EVERY_MS = 5;
const STUDY_VALUE = 's'.repeat(100);

export async function runStudy(o: StudyOptions): Promise<StudyOutcome> {
  progress(
    `study: ${o.sim ? 'simulated' : 'real'} world, appendfsync ${o.policy}, ` +
      `fsync delay ${o.fsyncDelayMs} ms, ${o.rate} writes/s for ${o.seconds} s`,
  );
  const result = o.sim ? await studySim(o) : await studyReal(o);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = path.resolve(
    o.outDir,
    `study-${result.world}-${o.policy}-${o.fsyncDelayMs}ms-${stamp}`,
  );
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'timeline.svg'), timelineChart(result));
  fs.writeFileSync(path.join(dir, 'trace.json'), JSON.stringify(chromeTrace(result)));
  fs.writeFileSync(path.join(dir, 'events.json'), JSON.stringify(result, null, 1));
  return { dir, summary: summarize(result, dir), result };
}

async function studyReal(o: StudyOptions): Promise<StudyResult> {
  const dir = fs.mkdtempSync(path.join(o.dataDir, 'aofkv-study-'));
  const bio = createPiscinaBio({ fsyncDelayMs: o.fsyncDelayMs });
  const records: StudyRecord[] = [];
  let t0 = Date.now();
  const engine = await openEngine({
    dir,
    bio,
    appendfsync: o.policy,
    autoAofRewritePercentage: 0,
    latencyMonitorThreshold: 1,
  });
  try {
    attach(engine, records, () => t0);
    const db = engine.db(0);
    let issued = 0;
    let acked = 0;
    let maxAckMs = 0;
    t0 = Date.now();
    const tEnd = t0 + o.seconds * 1000;
    // Pace by the clock, not by counting ticks: timers run late when the loop is busy.
    while (Date.now() < tEnd) {
      const now = Date.now();
      records.push({
        source: 'sample',
        t: now - t0,
        bufBytes: engine.aof!.bufferedBytes,
        pendingFsync: bio.pending('aofFsync'),
      });
      const due = Math.floor(((now - t0) * o.rate) / 1000) - issued;
      for (let i = 0; i < due; i++) {
        const sent = performance.now();
        void db.set(keyName('key:', issued % 100_000), STUDY_VALUE).then(() => {
          acked++;
          maxAckMs = Math.max(maxAckMs, performance.now() - sent);
        });
        issued++;
      }
      await sleep(SAMPLE_EVERY_MS);
    }
    while (acked < issued) await sleep(5);
    progress('study: closing (waits for the last delayed fsync)');
    await engine.close();
    return {
      records: sortRecords(records),
      commandsIssued: issued,
      commandsAcked: acked,
      maxAckMs,
      world: 'real',
      options: o,
    };
  } finally {
    await engine.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function studySim(o: StudyOptions): Promise<StudyResult> {
  const sim = await openSimEngine({
    appendfsync: o.policy,
    autoAofRewritePercentage: 0,
    latencyMonitorThreshold: 1,
    fsOptions: { fsyncDurationMs: o.fsyncDelayMs },
  });
  const { engine, bio, clock } = sim;
  const records: StudyRecord[] = [];
  const t0 = clock.nowMs();
  attach(engine, records, () => t0);
  const db = engine.db(0);
  let issued = 0;
  let acked = 0;
  let maxAckMs = 0;
  let fsyncStartedAt = -1;
  const cronEveryMs = Math.floor(1000 / engine.config.hz);
  const durationMs = o.seconds * 1000;
  // One simulated millisecond per step. The bio "thread" runs one fsync at a time, each taking
  // exactly the file system's fsyncDurationMs; close jobs are instant.
  const driveBio = () => {
    const now = clock.nowMs();
    if (bio.isRunning('aofFsync') && now - fsyncStartedAt >= sim.fs.fdatasyncDurationMs(0))
      bio.finishRunning('aofFsync');
    if (!bio.isRunning('aofFsync') && bio.queued('aofFsync') > 0) {
      bio.startNext('aofFsync');
      fsyncStartedAt = now;
    }
    while (bio.queued('closeFile') > 0) bio.runNext('closeFile');
  };
  for (let t = 0; t <= durationMs; t++) {
    clock.set(t0 + t);
    driveBio();
    if (t % SAMPLE_EVERY_MS === 0) {
      records.push({
        source: 'sample',
        t,
        bufBytes: engine.aof!.bufferedBytes,
        pendingFsync: bio.pending('aofFsync'),
      });
    }
    const due = Math.floor((t * o.rate) / 1000) - issued;
    for (let i = 0; i < due; i++) {
      const sentAt = clock.nowMs();
      void db.set(keyName('key:', issued % 100_000), STUDY_VALUE).then(() => {
        acked++;
        maxAckMs = Math.max(maxAckMs, clock.nowMs() - sentAt);
      });
      issued++;
    }
    if (t % cronEveryMs === 0) sim.tick();
    // Let the engine's beforeSleep (scheduled with setImmediate by the writes) run at this time.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  // Let the last fsync finish on the virtual clock, then close.
  while (bio.pending('aofFsync') > 0) {
    clock.advance(1);
    driveBio();
  }
  await engine.close();
  return {
    records: sortRecords(records),
    commandsIssued: issued,
    commandsAcked: acked,
    maxAckMs,
    world: 'sim',
    options: o,
  };
}

function attach(engine: Engine, records: StudyRecord[], origin: () => number): void {
  engine.on('trace', (e: EngineTraceEvent) => {
    if (e.source === 'aof')
      records.push({ source: 'aof', t: e.event.atMs - origin(), event: e.event });
    else records.push({ source: 'bio', t: e.event.atMs - origin(), event: e.event });
  });
}

function sortRecords(records: StudyRecord[]): StudyRecord[] {
  // Bio start/finish events of the real bio arrive when the job's promise settles, after later
  // events; their timestamps are right, so order by time (stable for equal times).
  return records
    .map((r, i) => [r, i] as const)
    .sort((a, b) => a[0].t - b[0].t || a[1] - b[1])
    .map(([r]) => r);
}

interface FsyncJob {
  jobId: number;
  type: string;
  submit: number;
  start: number | null;
  finish: number | null;
  error: string | null;
}

function jobsOf(records: readonly StudyRecord[]): FsyncJob[] {
  const jobs = new Map<number, FsyncJob>();
  for (const r of records) {
    if (r.source !== 'bio') continue;
    const e = r.event;
    let j = jobs.get(e.jobId);
    if (j === undefined)
      jobs.set(
        e.jobId,
        (j = { jobId: e.jobId, type: e.type, submit: r.t, start: null, finish: null, error: null }),
      );
    if (e.phase === 'submit') j.submit = r.t;
    if (e.phase === 'start') j.start = r.t;
    if (e.phase === 'finish') {
      j.finish = r.t;
      j.error = e.error ?? null;
    }
  }
  return [...jobs.values()];
}

// ---- Chrome trace-event JSON -------------------------------------------------------------------

interface TraceEvent {
  name: string;
  ph: 'X' | 'i' | 'C' | 'M';
  pid: number;
  tid?: number;
  ts?: number;
  dur?: number;
  s?: 't' | 'p' | 'g';
  cat?: string;
  args?: Record<string, unknown>;
}

const PID = 1;
const TID = { main: 1, bio_aof_fsync: 2, bio_close_file: 3 } as const;

export function chromeTrace(result: StudyResult): {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
  otherData: Record<string, unknown>;
} {
  const us = (ms: number) => Math.round(ms * 1000);
  const ev: TraceEvent[] = [
    {
      name: 'process_name',
      ph: 'M',
      pid: PID,
      args: { name: `aofkv study (${result.world}, appendfsync ${result.options.policy})` },
    },
    ...Object.entries(TID).map(
      ([name, tid]): TraceEvent => ({
        name: 'thread_name',
        ph: 'M',
        pid: PID,
        tid,
        args: { name },
      }),
    ),
  ];
  for (const r of result.records) {
    if (r.source === 'sample') {
      ev.push({
        name: 'aof_buf bytes',
        ph: 'C',
        pid: PID,
        ts: us(r.t),
        args: { bytes: r.bufBytes },
      });
    } else if (r.source === 'aof') {
      const { kind, atMs: _at, ...args } = r.event;
      ev.push({
        name: kind,
        ph: 'i',
        s: 't',
        pid: PID,
        tid: TID.main,
        ts: us(r.t),
        cat: 'aof',
        args,
      });
      if ('pendingFsync' in r.event)
        ev.push({
          name: 'aofFsync pending',
          ph: 'C',
          pid: PID,
          ts: us(r.t),
          args: { pending: r.event.pendingFsync },
        });
    } else {
      ev.push({
        name: `${r.event.type} pending`,
        ph: 'C',
        pid: PID,
        ts: us(r.t),
        args: { pending: r.event.pending },
      });
      if (r.event.phase === 'submit') {
        ev.push({
          name: `${r.event.type} submit`,
          ph: 'i',
          s: 't',
          pid: PID,
          tid: TID.main,
          ts: us(r.t),
          cat: 'bio',
          args: { jobId: r.event.jobId, fd: r.event.fd },
        });
      }
    }
  }
  for (const j of jobsOf(result.records)) {
    if (j.start === null || j.finish === null) continue;
    ev.push({
      name: j.type === 'aofFsync' ? 'fdatasync (bio AOF_FSYNC job)' : 'close (bio CLOSE_FILE job)',
      ph: 'X',
      pid: PID,
      tid: j.type === 'aofFsync' ? TID.bio_aof_fsync : TID.bio_close_file,
      ts: us(j.start),
      dur: us(j.finish - j.start),
      cat: 'bio',
      args: {
        jobId: j.jobId,
        queuedMs: j.start - j.submit,
        ...(j.error === null ? {} : { error: j.error }),
      },
    });
  }
  return {
    traceEvents: ev,
    displayTimeUnit: 'ms',
    otherData: { world: result.world, ...result.options },
  };
}

// ---- timeline chart ----------------------------------------------------------------------------

const LANES = ['write', 'postponed', 'delayed write', 'fsync submit', 'bio fsync job'] as const;

export function timelineChart(result: StudyResult): string {
  const s = (ms: number) => Number((ms / 1000).toFixed(4));
  const points = (pred: (e: AofTraceEvent) => boolean, lane: number) =>
    result.records.flatMap((r) => (r.source === 'aof' && pred(r.event) ? [[s(r.t), lane]] : []));
  const jobs = jobsOf(result.records).filter((j) => j.type === 'aofFsync' && j.start !== null);
  const end = Math.ceil(Math.max(...result.records.map((r) => r.t), 1) / 1000) * 1000;
  const samples = result.records.filter(
    (r): r is Extract<StudyRecord, { source: 'sample' }> => r.source === 'sample',
  );
  // Shade each postponement: from its postpone-start to the write that ended it.
  const areas: [{ xAxis: number; name: string }, { xAxis: number }][] = [];
  let postponedAt: number | null = null;
  for (const r of result.records) {
    if (r.source !== 'aof') continue;
    if (r.event.kind === 'postpone-start') postponedAt = r.t;
    if ((r.event.kind === 'write' || r.event.kind === 'delayed-write') && postponedAt !== null) {
      const forced = r.event.kind === 'delayed-write';
      if (forced || r.event.kind === 'write') {
        areas.push([
          {
            xAxis: s(postponedAt),
            name:
              `${forced ? 'forced after' : 'held'} ` +
              `${((r.t - postponedAt) / 1000).toFixed(2)} s`,
          },
          { xAxis: s(r.t) },
        ]);
        postponedAt = null;
      }
    }
  }
  const o = result.options;
  return renderSvg(
    {
      title: {
        text:
          `appendfsync ${o.policy}: fsync delay ${o.fsyncDelayMs} ms, ${o.rate} writes/s ` +
          `(${result.world === 'sim' ? 'simulated clock' : 'real disk + piscina bio'})`,
        subtext:
          'shaded: writes held back while a background fsync is pending ' +
          '(Redis postpones up to 2 s, then forces the write: aof_delayed_fsync)',
        left: 'center',
        textStyle: { fontSize: 14 },
        subtextStyle: { fontSize: 11 },
      },
      legend: { top: 62, itemGap: 22, itemWidth: 14 },
      grid: [
        { left: 110, right: 80, top: 105, height: 230 },
        { left: 110, right: 80, top: 395, height: 140 },
      ],
      xAxis: [
        { gridIndex: 0, type: 'value', min: 0, max: s(end), interval: end > 20_000 ? 5 : 1 },
        {
          gridIndex: 1,
          type: 'value',
          min: 0,
          max: s(end),
          interval: end > 20_000 ? 5 : 1,
          name: 'time since start (s)',
          nameLocation: 'middle',
          nameGap: 26,
        },
      ],
      yAxis: [
        { gridIndex: 0, type: 'category', data: [...LANES], axisLabel: { fontSize: 11 } },
        { gridIndex: 1, type: 'value', name: 'pending fsync jobs', minInterval: 1 },
        { gridIndex: 1, type: 'value', name: 'aof_buf bytes', position: 'right' },
      ],
      series: [
        {
          name: 'write(2)',
          type: 'scatter',
          symbolSize: 4,
          data: points((e) => e.kind === 'write', 0),
          markLine: {
            silent: true,
            symbol: 'none',
            lineStyle: { type: 'dashed', color: '#555' },
            label: { formatter: 'writes stop', fontSize: 10 },
            data: [{ xAxis: o.seconds }],
          },
          markArea: {
            silent: true,
            itemStyle: {
              color: 'rgba(255,165,0,0.15)',
              borderColor: 'rgba(255,140,0,0.6)',
              borderWidth: 1,
            },
            label: { fontSize: 10, color: '#8a4b00', position: 'insideBottom' },
            data: areas,
          },
        },
        {
          name: 'postponed',
          type: 'scatter',
          symbolSize: 4,
          data: points((e) => e.kind === 'postpone-start' || e.kind === 'postpone-continue', 1),
        },
        {
          name: 'delayed (forced) write',
          type: 'scatter',
          symbol: 'diamond',
          symbolSize: 11,
          itemStyle: { color: '#d62728' },
          data: points((e) => e.kind === 'delayed-write', 2),
        },
        {
          name: 'fsync submit',
          type: 'scatter',
          symbol: 'triangle',
          symbolSize: 8,
          data: points((e) => e.kind === 'fsync-submit' || e.kind === 'fsync-always', 3),
        },
        {
          name: 'bio fdatasync job',
          type: 'custom',
          renderItem: (_params, api) => {
            const start = api.coord([api.value(0), 4]);
            const finish = api.coord([api.value(1), 4]);
            const size = api.size?.([0, 1]);
            const h = (Array.isArray(size) ? Number(size[1]) : 20) * 0.6;
            const width = Math.max(2, finish[0]! - start[0]!);
            const seconds = Number(api.value(1)) - Number(api.value(0));
            return {
              type: 'rect',
              shape: { x: start[0]!, y: start[1]! - h / 2, width, height: h },
              style: { fill: '#1f77b4', opacity: 0.8, stroke: '#ffffff', lineWidth: 2 },
              textContent: {
                type: 'text',
                style: {
                  text: width > 40 ? `${seconds.toFixed(2)} s` : '',
                  fill: '#ffffff',
                  fontSize: 10,
                },
              },
              textConfig: { position: 'inside' },
            };
          },
          encode: { x: [0, 1], y: 2 },
          data: jobs.map((j) => [s(j.start!), s(j.finish ?? end), 4]),
        },
        {
          name: 'pending fsync jobs',
          type: 'line',
          step: 'end',
          showSymbol: false,
          xAxisIndex: 1,
          yAxisIndex: 1,
          itemStyle: { color: '#1f77b4' },
          data: samples.map((r) => [s(r.t), r.pendingFsync]),
        },
        {
          name: 'aof_buf bytes',
          type: 'line',
          step: 'end',
          showSymbol: false,
          xAxisIndex: 1,
          yAxisIndex: 2,
          itemStyle: { color: '#ff7f0e' },
          lineStyle: { width: 1.5 },
          data: samples.map((r) => [s(r.t), r.bufBytes]),
        },
      ],
    },
    1200,
    600,
  );
}

// ---- summary -------------------------------------------------------------------------------

function summarize(result: StudyResult, dir: string): string {
  const count = (kind: AofTraceEvent['kind']) =>
    result.records.filter((r) => r.source === 'aof' && r.event.kind === kind).length;
  const jobs = jobsOf(result.records).filter((j) => j.type === 'aofFsync');
  const lines: string[] = [];
  const o = result.options;
  lines.push(
    `# Study: appendfsync ${o.policy}, fsync delay ${o.fsyncDelayMs} ms, ` +
      `${o.rate} writes/s, ${o.seconds} s (${result.world})`,
  );
  lines.push('');
  lines.push(
    `- commands: ${result.commandsIssued} issued, ${result.commandsAcked} acknowledged, ` +
      `slowest ack ${result.maxAckMs.toFixed(1)} ms`,
  );
  lines.push(
    `- AOF write(2) calls: ${count('write')}; postponements started: ` +
      `${count('postpone-start')}, continued: ${count('postpone-continue')}; ` +
      `delayed (forced) writes: ${count('delayed-write')}`,
  );
  lines.push(
    `- fsync jobs: ${jobs.length} submitted, durations ${
      jobs
        .filter((j) => j.finish !== null && j.start !== null)
        .map((j) => `${((j.finish! - j.start!) / 1000).toFixed(2)} s`)
        .join(', ') || '—'
    }`,
  );
  // Redis's 2-second rule: each postponement that ended in a forced write, and how long it held.
  const held: string[] = [];
  let startT: number | null = null;
  for (const r of result.records) {
    if (r.source !== 'aof') continue;
    if (r.event.kind === 'postpone-start') startT = r.t;
    else if (r.event.kind === 'delayed-write' && startT !== null) {
      held.push(
        `postponed at ${(startT / 1000).toFixed(3)} s → ` +
          `forced at ${(r.t / 1000).toFixed(3)} s (held ${((r.t - startT) / 1000).toFixed(2)} s)`,
      );
      startT = null;
    } else if (r.event.kind === 'write') startT = null;
  }
  if (result.world === 'sim' && o.policy === 'always') {
    lines.push(
      '- note: under always the engine fsyncs inline on the main thread; the simulated fsync ' +
        'duration applies to background (bio) fsyncs only, so always shows no delay here',
    );
  }
  const rule =
    held.length === 0
      ? 'no write was forced (no fsync outlasted the postponement window)'
      : held.join('; ');
  lines.push(`- 2-second rule: ${rule}`);
  lines.push('');
  lines.push(
    `Files: ${path.join(dir, 'timeline.svg')}, ${path.join(dir, 'trace.json')} ` +
      `(open in https://ui.perfetto.dev or chrome://tracing), ${path.join(dir, 'events.json')}`,
  );
  return lines.join('\n');
}
