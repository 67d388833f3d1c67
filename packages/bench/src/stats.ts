// Small statistics helpers. Medians across rounds are what every reported number is made of, so a
// single disturbed round (another process hogging the disk) cannot move a result by itself.

export function median(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return Number.NaN;
  const sorted = [...finite].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function max(values: readonly number[]): number {
  let m = Number.NaN;
  for (const v of values) if (Number.isFinite(v) && !(v <= m)) m = v;
  return m;
}

/** Nearest-rank percentile of an unsorted sample (q in [0, 1]). */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** 1234567 → "1.23 M", 12345 → "12.3 k"; three significant digits. */
export function fmtCount(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toPrecision(3)} G`;
  if (abs >= 1e6) return `${(n / 1e6).toPrecision(3)} M`;
  if (abs >= 1e4) return `${(n / 1e3).toPrecision(3)} k`;
  if (abs >= 100) return n.toFixed(0);
  return n.toPrecision(3);
}

/** Milliseconds with a unit that keeps three significant digits (µs below 1 ms). */
export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  if (ms === 0) return '0';
  if (ms < 1) return `${(ms * 1000).toPrecision(3)} µs`;
  if (ms < 1000) return `${ms.toPrecision(3)} ms`;
  return `${(ms / 1000).toPrecision(3)} s`;
}

export function fmtRatio(r: number): string {
  return Number.isFinite(r) ? `${r.toPrecision(3)}×` : '—';
}

export function fmtBytes(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const abs = Math.abs(n);
  if (abs >= 1024 ** 3) return `${(n / 1024 ** 3).toPrecision(3)} GiB`;
  if (abs >= 1024 ** 2) return `${(n / 1024 ** 2).toPrecision(3)} MiB`;
  if (abs >= 1024) return `${(n / 1024).toPrecision(3)} KiB`;
  return `${Math.round(n)} B`;
}
