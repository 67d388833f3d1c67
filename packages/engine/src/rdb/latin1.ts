// Bytes → Bin (latin1 string) on the hot path of RDB loading. Buffer#toString('latin1', s, e)
// spends a good part of its time in argument checks and encoding dispatch before reaching the
// native latin1Slice; calling that directly is measurably faster when every key and element of a
// multi-GB file goes through here. latin1Slice is an undocumented but long-standing Buffer
// method; if a runtime lacks it, the public call is used.

import type { Bin } from '../bytes.ts';

type Latin1Slice = (this: Buffer, start: number, end: number) => string;
const nativeSlice = (Buffer.prototype as unknown as { latin1Slice?: Latin1Slice }).latin1Slice;

/** buf[start, end) as a Bin. The caller guarantees 0 <= start <= end <= buf.length. */
export const latin1: (buf: Buffer, start: number, end: number) => Bin =
  typeof nativeSlice === 'function'
    ? (buf, start, end) => nativeSlice.call(buf, start, end)
    : (buf, start, end) => buf.toString('latin1', start, end);
