// One node of a stream: what Redis keeps as one listpack in the stream's rax (t_stream.c
// streamAppendItem). Entries are held as JS objects, but the node tracks the exact byte size the
// listpack would have (lpBytes), because Redis decides from it when to start a new node, and node
// boundaries are observable: approximate trimming (MAXLEN ~ / MINID ~) removes whole nodes only,
// and the count it leaves is what Redis writes to the AOF. The layout being measured:
//
//   master entry: count | deleted | num-fields | field_1 ... field_N | 0
//   each entry:   flags | ms-delta | seq-delta | [num-fields | field_1 ...] value_1 ... | lp-count
//
// where SAMEFIELDS entries (same field names as the master entry) omit num-fields and the fields.

import type { Bin } from '../bytes.ts';
import { idMs, idSeq, type StreamId } from './stream-id.ts';

/** Redis STREAM_ITEM_FLAG_DELETED / STREAM_ITEM_FLAG_SAMEFIELDS. */
export const FLAG_DELETED = 1;
export const FLAG_SAMEFIELDS = 2;

/** Redis's defaults for stream-node-max-entries and stream-node-max-bytes. */
export const STREAM_NODE_MAX_ENTRIES = 100;
export const STREAM_NODE_MAX_BYTES = 4096;

export interface StreamEntry {
  readonly id: StreamId;
  /** field, value, field, value, ... */
  readonly fields: readonly Bin[];
  /** STREAM_ITEM_FLAG_* bits. */
  flags: number;
}

const LISTPACK_HEADER_AND_END = 7;

/** Bytes of an integer element in a listpack (encoding, data and backlen). */
export function lpIntSize(n: bigint | number): number {
  if (n >= 0 && n <= 127) return 2;
  if (n >= -4096 && n <= 4095) return 3;
  if (n >= -32768 && n <= 32767) return 4;
  if (n >= -8388608 && n <= 8388607) return 5;
  if (n >= -2147483648 && n <= 2147483647) return 6;
  return 10;
}

const INT64_TEXT = /^(0|-?[1-9][0-9]{0,18})$/;

/** Bytes of a string element as lpAppend stores it (integers in their integer encodings). */
export function lpStringSize(s: Bin): number {
  if (s.length <= 20 && INT64_TEXT.test(s)) {
    const v = BigInt(s);
    if (v >= -(1n << 63n) && v < 1n << 63n) return lpIntSize(v);
  }
  const len = s.length;
  const enc = len < 64 ? 1 + len : len < 4096 ? 2 + len : 5 + len;
  return enc + (enc <= 127 ? 1 : enc < 16383 ? 2 : enc < 2097151 ? 3 : enc < 268435455 ? 4 : 5);
}

/** Two's-complement int64 view of an unsigned 64-bit difference (lpAppendInteger's argument). */
function delta(a: bigint, b: bigint): bigint {
  return BigInt.asIntN(64, a - b);
}

export class StreamNode {
  readonly masterId: StreamId;
  readonly masterFields: readonly Bin[];
  readonly entries: StreamEntry[] = [];
  /** Entries not flagged deleted (the master entry's count). */
  live = 0;
  /** Entries flagged deleted (the master entry's deleted). */
  deleted = 0;
  /** lpBytes of the listpack Redis would hold. */
  bytes: number;

  constructor(masterId: StreamId, masterFields: readonly Bin[]) {
    this.masterId = masterId;
    this.masterFields = masterFields;
    let bytes = LISTPACK_HEADER_AND_END + lpIntSize(0) + lpIntSize(0);
    bytes += lpIntSize(masterFields.length) + lpIntSize(0);
    for (const f of masterFields) bytes += lpStringSize(f);
    this.bytes = bytes;
  }

  /** Count both live and deleted entries (what the node-full check uses). */
  get total(): number {
    return this.live + this.deleted;
  }

  /** True when `fields` names the master fields in the same order (STREAM_ITEM_FLAG_SAMEFIELDS). */
  sameFields(fields: readonly Bin[]): boolean {
    const master = this.masterFields;
    if (fields.length !== master.length * 2) return false;
    for (let i = 0; i < master.length; i++) if (fields[i * 2] !== master[i]) return false;
    return true;
  }

  /** Append a live entry (its ID above every ID in the node), updating the listpack size. */
  append(id: StreamId, fields: readonly Bin[], flags: number): void {
    const numFields = fields.length / 2;
    let bytes = lpIntSize(flags);
    bytes += lpIntSize(delta(idMs(id), idMs(this.masterId)));
    bytes += lpIntSize(delta(idSeq(id), idSeq(this.masterId)));
    let lpCount = numFields + 3;
    if ((flags & FLAG_SAMEFIELDS) === 0) {
      bytes += lpIntSize(numFields);
      lpCount += numFields + 1;
    }
    for (let i = 0; i < fields.length; i += 2) {
      if ((flags & FLAG_SAMEFIELDS) === 0) bytes += lpStringSize(fields[i]!);
      bytes += lpStringSize(fields[i + 1]!);
    }
    bytes += lpIntSize(lpCount);
    this.entries.push({ id, fields, flags });
    this.setCounts(this.live + 1, this.deleted);
    this.bytes += bytes;
  }

  /** Flag entry `index` deleted (it must be live). */
  markDeleted(index: number): void {
    const e = this.entries[index]!;
    e.flags |= FLAG_DELETED; // 0→1 or 2→3: the flags element keeps its size
    this.setCounts(this.live - 1, this.deleted + 1);
  }

  /** Replace the count and deleted integers of the master entry (lpReplaceInteger). */
  setCounts(live: number, deleted: number): void {
    this.bytes += lpIntSize(live) - lpIntSize(this.live) + lpIntSize(deleted);
    this.bytes -= lpIntSize(this.deleted);
    this.live = live;
    this.deleted = deleted;
  }

  /** Index of the first entry with id >= `id` (entries.length when none). */
  lowerBound(id: StreamId): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.id < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  lastId(): StreamId {
    return this.entries[this.entries.length - 1]!.id;
  }
}
