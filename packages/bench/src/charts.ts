// SVG charts rendered server-side with Apache ECharts' SSR SVG renderer (`init(null, null,
// {renderer: 'svg', ssr: true})` + `renderToSVGString()`): no browser, no canvas, no DOM — one
// pinned pure-JS dependency. Charts are static (animation off) so the files are reproducible.

import { PIPELINED_VARIANT, REDIS_PIPELINED } from './scenarios/writes.ts';
import * as echarts from 'echarts';
import type { CellSummary } from './summary.ts';
import type { LoadRewriteResult } from './scenarios/load-rewrite.ts';
import { DURABILITY_ORDER } from './systems/types.ts';
import { median } from './stats.ts';
import type { Workload } from './workload.ts';

export function renderSvg(option: echarts.EChartsOption, width: number, height: number): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ animation: false, backgroundColor: '#ffffff', ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

const SYSTEM_ORDER = ['aofkv', 'redis', 'lmdb', 'classic-level', 'better-sqlite3', 'harness'];

/** One category per system+mode (pipelined variants get their own), ordered by durability. */
function categories(
  cells: CellSummary[],
): { label: string; match: (c: CellSummary) => boolean; order: number[] }[] {
  const seen = new Map<
    string,
    { label: string; match: (c: CellSummary) => boolean; order: number[] }
  >();
  for (const c of cells) {
    const pipelined = isPipelined(c.variant);
    const label =
      `${c.durability} · ${c.system} ` +
      `${c.mode}${pipelined ? (c.system === 'redis' ? ' (-P 16)' : ' (pipeline 16)') : ''}`;
    if (seen.has(label)) continue;
    seen.set(label, {
      label,
      match: (x) =>
        x.system === c.system && x.mode === c.mode && isPipelined(x.variant) === pipelined,
      order: [
        DURABILITY_ORDER.indexOf(c.durability),
        SYSTEM_ORDER.indexOf(c.system),
        pipelined ? 1 : 0,
      ],
    });
  }
  return [...seen.values()].sort(
    (a, b) =>
      a.order[0]! - b.order[0]! ||
      a.order[1]! - b.order[1]! ||
      a.order[2]! - b.order[2]! ||
      a.label.localeCompare(b.label),
  );
}

function isPipelined(variant: string | null): boolean {
  return variant === REDIS_PIPELINED.label || variant === PIPELINED_VARIANT.label;
}

function valueOrNull(v: number | undefined): number | null {
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : null;
}

export function throughputChart(all: CellSummary[], workload: Workload): string {
  const cells = all.filter((c) => c.workload === workload);
  const cats = categories(cells);
  const series = [1, 64].map((inFlight) => ({
    name: `${inFlight} in flight`,
    type: 'bar' as const,
    data: cats.map((cat) =>
      valueOrNull(cells.find((c) => cat.match(c) && c.inFlight === inFlight)?.opsPerSec),
    ),
    label: {
      show: true,
      position: 'right' as const,
      fontSize: 9,
      formatter: (p: { value: unknown }) => fmtShort(Number(p.value)),
    },
  }));
  return renderSvg(
    {
      title: {
        text:
          `Write throughput, ${workload === 'set' ? 'SET' : 'mixed workload'} ` +
          `(ops/s, log scale, median of rounds)`,
        left: 'center',
        textStyle: { fontSize: 14 },
      },
      legend: { top: 28, itemGap: 20 },
      grid: { left: 260, right: 70, top: 60, bottom: 30 },
      xAxis: { type: 'log', name: 'ops/s', min: 10 },
      yAxis: {
        type: 'category',
        inverse: true,
        data: cats.map((c) => c.label),
        axisLabel: { fontSize: 10 },
      },
      series,
    },
    960,
    90 + cats.length * 34,
  );
}

export function latencyChart(all: CellSummary[], workload: Workload): string {
  const cells = all.filter((c) => c.workload === workload);
  const cats = categories(cells);
  // In µs, so every value is >= 1: ECharts draws log-axis bars from 1, and bars of values below
  // 1 would grow leftwards from there.
  const series = [1, 64].flatMap((inFlight) =>
    (['p50', 'p99'] as const).map((q) => ({
      name: `${q} @${inFlight}`,
      type: 'bar' as const,
      data: cats.map((cat) => {
        const c = cells.find((x) => cat.match(x) && x.inFlight === inFlight);
        const ms = c === undefined ? undefined : q === 'p50' ? c.p50Ms : c.p99Ms;
        return valueOrNull(ms === undefined ? undefined : Math.max(1, ms * 1000));
      }),
    })),
  );
  return renderSvg(
    {
      title: {
        text:
          `Acknowledgment latency, ${workload === 'set' ? 'SET' : 'mixed workload'} ` +
          `(µs, log scale, median of rounds)`,
        left: 'center',
        textStyle: { fontSize: 14 },
      },
      legend: { top: 28, itemGap: 20 },
      grid: { left: 260, right: 40, top: 60, bottom: 30 },
      xAxis: {
        type: 'log',
        name: 'µs',
        min: 1,
        axisLabel: { formatter: (v: number) => (v >= 1000 ? `${v / 1000} ms` : `${v} µs`) },
      },
      yAxis: {
        type: 'category',
        inverse: true,
        data: cats.map((c) => c.label),
        axisLabel: { fontSize: 10 },
      },
      series,
    },
    960,
    90 + cats.length * 40,
  );
}

/** Each durable / buffered cell as a fraction of the disk limit measured in the same run. */
export function limitChart(all: CellSummary[]): string {
  const cells = all.filter((c) => c.workload === 'set' && c.limitFraction !== null);
  const labels = cells.map(
    (c) => `${c.system} ${c.mode}${c.variant === null ? '' : ` ${c.variant}`} @${c.inFlight}`,
  );
  return renderSvg(
    {
      title: {
        text: 'SET throughput as a fraction of the disk limit measured in the same run',
        subtext:
          'durable: inFlight × fdatasync/s of 100-byte appends (in place for SQLite and LMDB); ' +
          'others: sequential write MB/s ÷ bytes per op',
        left: 'center',
        textStyle: { fontSize: 14 },
        subtextStyle: { fontSize: 11 },
      },
      grid: { left: 280, right: 70, top: 70, bottom: 30 },
      xAxis: { type: 'value', name: '% of limit' },
      yAxis: { type: 'category', inverse: true, data: labels, axisLabel: { fontSize: 10 } },
      series: [
        {
          type: 'bar',
          data: cells.map((c) => Number(((c.limitFraction ?? 0) * 100).toFixed(2))),
          label: { show: true, position: 'right', fontSize: 9, formatter: '{c} %' },
          markLine: {
            silent: true,
            symbol: 'none',
            data: [{ xAxis: 50 }],
            label: { formatter: '50 %', position: 'insideEndTop' },
          },
        },
      ],
    },
    960,
    100 + cells.length * 22,
  );
}

export function loadRewriteChart(lr: LoadRewriteResult): string {
  const systems = ['aofkv', 'redis'].filter((s) => lr.loads.some((l) => l.system === s));
  const med = (values: number[]) => Number(median(values).toFixed(2));
  const loadMb = systems.map((s) =>
    med(lr.loads.filter((l) => l.system === s).map((l) => l.mbPerSec)),
  );
  const bytesPerKey = systems.map((s) =>
    med(lr.loads.filter((l) => l.system === s).map((l) => l.bytesPerKey)),
  );
  const rewriteS = systems.map((s) =>
    med(lr.rewrites.filter((r) => r.system === s).map((r) => r.durationMs / 1000)),
  );
  const stallMs = systems.map((s) =>
    med(
      lr.rewrites
        .filter((r) => r.system === s)
        .map((r) => (s === 'aofkv' ? (r.eventLoopMaxMs ?? Number.NaN) : (r.forkMs ?? Number.NaN))),
    ),
  );
  const panel = (i: number, title: string, data: number[]) => ({
    grid: { left: `${4 + i * 25}%`, width: '19%', top: 70, bottom: 40 },
    xAxis: { gridIndex: i, type: 'category' as const, data: systems },
    yAxis: { gridIndex: i, type: 'value' as const, name: title, nameTextStyle: { fontSize: 11 } },
    series: {
      type: 'bar' as const,
      xAxisIndex: i,
      yAxisIndex: i,
      data,
      label: { show: true, position: 'top' as const, fontSize: 10 },
    },
  });
  const panels = [
    panel(0, 'load MB/s', loadMb),
    panel(1, 'bytes per key', bytesPerKey),
    panel(2, 'BGREWRITEAOF s', rewriteS),
    panel(3, 'stall ms (loop max / fork)', stallMs),
  ];
  return renderSvg(
    {
      title: {
        text:
          `Load, memory and rewrite: ${lr.dataset.keys.toLocaleString('en-US')} keys, ` +
          `${(lr.dataset.aofBytes / 1e6).toFixed(0)} MB AOF (median of rounds)`,
        left: 'center',
        textStyle: { fontSize: 14 },
      },
      grid: panels.map((p) => p.grid),
      xAxis: panels.map((p) => p.xAxis),
      yAxis: panels.map((p) => p.yAxis),
      series: panels.map((p) => p.series),
    },
    1100,
    380,
  );
}

function fmtShort(n: number): string {
  if (!Number.isFinite(n)) return '';
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(0);
}
