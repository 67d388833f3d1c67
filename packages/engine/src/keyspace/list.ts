// RList: the list value (Redis quicklist). A growable ring buffer of Bin elements:
//   - push/pop at both ends are O(1) amortized (LPUSH/RPUSH/LPOP/RPOP, LMOVE),
//   - indexed access and replacement are O(1) (LINDEX, LSET, LRANGE windows, LPOS scans),
//   - a middle insertion or removal shifts the shorter side (LINSERT),
//   - LREM and LTRIM compact in one pass, never O(n) per removed element.
// The capacity is a power of two so a logical index maps to a slot with a mask. Vacated slots are
// set to undefined so the strings they held can be collected. The buffer shrinks when it is less
// than a quarter full, so a list that was once huge does not pin its peak memory.
//
// Redis stores integer-looking elements as integers inside listpacks, but reads them back as the
// same canonical decimal bytes and compares them by value only against canonical integers; that
// is byte equality, which is what this structure uses.

import type { Bin } from '../bytes.ts';

const MIN_CAPACITY = 8;

export class RList implements Iterable<Bin> {
  readonly type = 'list' as const;
  private buf: (Bin | undefined)[];
  private mask: number;
  /** Slot of the element at logical index 0. */
  private head = 0;
  private len = 0;

  constructor(capacity = MIN_CAPACITY) {
    const cap = capacityFor(capacity);
    this.buf = new Array<Bin | undefined>(cap);
    this.mask = cap - 1;
  }

  /** A list holding `items` head→tail. */
  static from(items: Iterable<Bin>): RList {
    const arr = Array.isArray(items) ? (items as readonly Bin[]) : [...items];
    const list = new RList(arr.length);
    for (let i = 0; i < arr.length; i++) list.buf[i] = arr[i];
    list.len = arr.length;
    return list;
  }

  get length(): number {
    return this.len;
  }

  /**
   * Element at logical index 0 <= i < length, else undefined. Negative indexes are not accepted.
   */
  at(i: number): Bin | undefined {
    if (i < 0 || i >= this.len) return undefined;
    return this.buf[(this.head + i) & this.mask];
  }

  /**
   * Replace the element at 0 <= i < length; false when out of range (Redis
   * quicklistReplaceAtIndex).
   */
  set(i: number, value: Bin): boolean {
    if (i < 0 || i >= this.len) return false;
    this.buf[(this.head + i) & this.mask] = value;
    return true;
  }

  pushHead(value: Bin): void {
    if (this.len === this.buf.length) this.resize(this.buf.length * 2);
    this.head = (this.head - 1) & this.mask;
    this.buf[this.head] = value;
    this.len++;
  }

  pushTail(value: Bin): void {
    if (this.len === this.buf.length) this.resize(this.buf.length * 2);
    this.buf[(this.head + this.len) & this.mask] = value;
    this.len++;
  }

  popHead(): Bin | undefined {
    if (this.len === 0) return undefined;
    const value = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.len--;
    this.maybeShrink();
    return value;
  }

  popTail(): Bin | undefined {
    if (this.len === 0) return undefined;
    const slot = (this.head + this.len - 1) & this.mask;
    const value = this.buf[slot];
    this.buf[slot] = undefined;
    this.len--;
    this.maybeShrink();
    return value;
  }

  /** Insert so that the new element ends up at logical index 0 <= i <= length. */
  insertAt(i: number, value: Bin): void {
    if (i < 0 || i > this.len)
      throw new RangeError(`insert index ${i} out of range 0..${this.len}`);
    if (this.len === this.buf.length) this.resize(this.buf.length * 2);
    const { buf, mask } = this;
    if (i < this.len - i) {
      // Shift the i elements before the position one slot towards the head.
      this.head = (this.head - 1) & mask;
      for (let k = 0; k < i; k++) buf[(this.head + k) & mask] = buf[(this.head + k + 1) & mask];
    } else {
      // Shift the elements from the position on one slot towards the tail.
      for (let k = this.len; k > i; k--)
        buf[(this.head + k) & mask] = buf[(this.head + k - 1) & mask];
    }
    buf[(this.head + i) & mask] = value;
    this.len++;
  }

  /** Remove and return the element at 0 <= i < length. */
  removeAt(i: number): Bin | undefined {
    if (i < 0 || i >= this.len) return undefined;
    const { buf, mask } = this;
    const value = buf[(this.head + i) & mask];
    if (i < this.len - 1 - i) {
      for (let k = i; k > 0; k--) buf[(this.head + k) & mask] = buf[(this.head + k - 1) & mask];
      buf[this.head] = undefined;
      this.head = (this.head + 1) & mask;
    } else {
      for (let k = i; k < this.len - 1; k++)
        buf[(this.head + k) & mask] = buf[(this.head + k + 1) & mask];
      buf[(this.head + this.len - 1) & mask] = undefined;
    }
    this.len--;
    this.maybeShrink();
    return value;
  }

  /** Drop `n` elements from the head (clamped to the length). */
  trimHead(n: number): void {
    const count = Math.min(Math.max(n, 0), this.len);
    for (let k = 0; k < count; k++) this.buf[(this.head + k) & this.mask] = undefined;
    this.head = (this.head + count) & this.mask;
    this.len -= count;
    this.maybeShrink();
  }

  /** Drop `n` elements from the tail (clamped to the length). */
  trimTail(n: number): void {
    const count = Math.min(Math.max(n, 0), this.len);
    for (let k = this.len - count; k < this.len; k++)
      this.buf[(this.head + k) & this.mask] = undefined;
    this.len -= count;
    this.maybeShrink();
  }

  /**
   * Remove up to `limit` elements equal to `value` (0 = all), scanning from the head, or from the
   * tail when `fromTail` (Redis LREM's negative count). One compaction pass: O(length).
   * Returns the number removed.
   */
  removeMatching(value: Bin, limit: number, fromTail: boolean): number {
    const { buf, mask, head, len } = this;
    let removed = 0;
    if (!fromTail) {
      let w = 0;
      for (let r = 0; r < len; r++) {
        const e = buf[(head + r) & mask];
        if (e === value && (limit === 0 || removed < limit)) {
          removed++;
          continue;
        }
        if (w !== r) buf[(head + w) & mask] = e;
        w++;
      }
      for (let k = w; k < len; k++) buf[(head + k) & mask] = undefined;
    } else {
      let w = len - 1;
      for (let r = len - 1; r >= 0; r--) {
        const e = buf[(head + r) & mask];
        if (e === value && (limit === 0 || removed < limit)) {
          removed++;
          continue;
        }
        if (w !== r) buf[(head + w) & mask] = e;
        w--;
      }
      for (let k = 0; k < removed; k++) buf[(head + k) & mask] = undefined;
      this.head = (head + removed) & mask;
    }
    this.len = len - removed;
    if (removed > 0) this.maybeShrink();
    return removed;
  }

  /** Logical index of the first element equal to `value`, or -1. */
  indexOf(value: Bin): number {
    const { buf, mask, head, len } = this;
    for (let i = 0; i < len; i++) if (buf[(head + i) & mask] === value) return i;
    return -1;
  }

  /** Elements [start, end) head→tail, or tail→head when `reverse` (indexes clamped). */
  range(start: number, end: number, reverse = false): Bin[] {
    const from = Math.max(0, start);
    const to = Math.min(this.len, end);
    if (to <= from) return [];
    const out = new Array<Bin>(to - from);
    const { buf, mask, head } = this;
    if (reverse) {
      for (let i = to - 1, j = 0; i >= from; i--, j++) out[j] = buf[(head + i) & mask]!;
    } else {
      for (let i = from, j = 0; i < to; i++, j++) out[j] = buf[(head + i) & mask]!;
    }
    return out;
  }

  toArray(): Bin[] {
    return this.range(0, this.len);
  }

  /** Redis listTypeDup: an independent copy (COPY). */
  clone(): RList {
    const copy = new RList(this.len);
    const { buf, mask, head, len } = this;
    for (let i = 0; i < len; i++) copy.buf[i] = buf[(head + i) & mask];
    copy.len = len;
    return copy;
  }

  [Symbol.iterator](): Iterator<Bin> {
    let i = 0;
    const list = this;
    return {
      next(): IteratorResult<Bin> {
        if (i < list.len) return { value: list.buf[(list.head + i++) & list.mask]!, done: false };
        return { value: undefined, done: true };
      },
    };
  }

  private maybeShrink(): void {
    const cap = this.buf.length;
    // Leave half the new buffer free so a push right after a shrink does not grow it again.
    if (cap > MIN_CAPACITY && this.len < cap >>> 2) this.resize(capacityFor(this.len * 2));
  }

  /** Move the elements into a buffer of `cap` slots (a power of two >= length), head at slot 0. */
  private resize(cap: number): void {
    const next = new Array<Bin | undefined>(cap);
    const { buf, mask, head, len } = this;
    for (let i = 0; i < len; i++) next[i] = buf[(head + i) & mask];
    this.buf = next;
    this.mask = cap - 1;
    this.head = 0;
  }
}

/** Smallest power of two >= max(n, MIN_CAPACITY). */
function capacityFor(n: number): number {
  let cap = MIN_CAPACITY;
  while (cap < n) cap *= 2;
  return cap;
}
