// A key as plain data: what the rewrite snapshot hands to the base writer. Plain arrays and
// strings only, so a batch of entries packs with msgpackr and crosses to the writer thread
// without class instances. Strings are Bin (one char = one byte) on both sides.
//   [dbId, key, TYPE, data, expireMs]   expireMs = -1 when the key has no TTL
//   string  data = Bin
//   list    data = Bin[] head→tail
//   set     data = Bin[]
//   hash    data = Bin[] flat field, value, field, value, ...
//   zset    data = (Bin | number)[] flat member, score, ... in score order; a score of -0 is the
//           string '-0' because msgpackr packs -0 as the integer 0 (see plainScore)
//   stream  data = Bin: the RDB_TYPE_STREAM_LISTPACKS_2 value (rdb/rdb-stream.ts), because a
//           stream's nodes, metadata and groups already have one exact serialisation there

import type { Bin } from '../bytes.ts';

export const PLAIN_STRING = 0;
export const PLAIN_LIST = 1;
export const PLAIN_SET = 2;
export const PLAIN_HASH = 3;
export const PLAIN_ZSET = 4;
export const PLAIN_STREAM = 5;
export type PlainType = 0 | 1 | 2 | 3 | 4 | 5;

/** expireMs: -1 for none; a bigint only beyond 2^53 ms (see ExpireMs in keyspace/db.ts). */
export type PlainEntry = [
  dbId: number,
  key: Bin,
  type: PlainType,
  data: Bin | (Bin | number)[],
  expireMs: number | bigint,
];

/** A zset score of -0 in plain data (msgpackr would pack the number -0 as the integer 0). */
export const NEGATIVE_ZERO = '-0';

/** A zset score from plain data (numbers, or the '-0' marker that survives msgpackr). */
export function plainScore(v: Bin | number): number {
  return typeof v === 'number' ? v : v === NEGATIVE_ZERO ? -0 : Number.NaN;
}

/** Redis AOF_REWRITE_ITEMS_PER_CMD. */
export const AOF_REWRITE_ITEMS_PER_CMD = 64;
