// Wall-clock ms with sub-ms resolution, comparable across threads: each thread has its own
// performance.timeOrigin, but timeOrigin + now() is epoch time on all of them (up to a small skew,
// which bio.ts clamps away when it orders events).
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}
