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

import { formatDouble17g, formatExpireMs, type Bin } from '../bytes.ts';
import type { RedisValue } from '../keyspace/values.ts';
import type { AofBuffer } from './aof-buffer.ts';

export const PLAIN_STRING = 0;
export const PLAIN_LIST = 1;
export const PLAIN_SET = 2;
export const PLAIN_HASH = 3;
export const PLAIN_ZSET = 4;
export type PlainType = 0 | 1 | 2 | 3 | 4;

/** expireMs: -1 for none; a bigint only beyond 2^53 ms (see ExpireMs in keyspace/db.ts). */
export type PlainEntry = [dbId: number, key: Bin, type: PlainType, data: Bin | (Bin | number)[], expireMs: number | bigint];

const NEGATIVE_ZERO = '-0';

/** A zset score from plain data (numbers, or the '-0' marker that survives msgpackr). */
export function plainScore(v: Bin | number): number {
  return typeof v === 'number' ? v : v === NEGATIVE_ZERO ? -0 : Number.NaN;
}

/** Redis AOF_REWRITE_ITEMS_PER_CMD. */
export const AOF_REWRITE_ITEMS_PER_CMD = 64;

export function toPlainEntry(dbId: number, key: Bin, value: RedisValue, expireMs: number | bigint): PlainEntry {
  if (typeof value === 'string') return [dbId, key, PLAIN_STRING, value, expireMs];
  switch (value.type) {
    case 'list':
      return [dbId, key, PLAIN_LIST, value.toArray(), expireMs];
    case 'set':
      return [dbId, key, PLAIN_SET, [...value.members], expireMs];
    case 'hash': {
      const flat: Bin[] = [];
      for (const [f, v] of value.map) flat.push(f, v);
      return [dbId, key, PLAIN_HASH, flat, expireMs];
    }
    case 'zset': {
      const flat: (Bin | number)[] = [];
      for (const [m, s] of value) flat.push(m, Object.is(s, -0) ? NEGATIVE_ZERO : s);
      return [dbId, key, PLAIN_ZSET, flat, expireMs];
    }
  }
}

/**
 * Redis rewriteAppendOnlyFileRio for one key: SET, or RPUSH / SADD / HMSET / ZADD in batches of
 * at most 64 items (pairs for hashes and zsets), then PEXPIREAT when the key has a TTL.
 */
export function appendPlainEntryResp(out: AofBuffer, e: PlainEntry): void {
  const [, key, type, data, expireMs] = e;
  switch (type) {
    case PLAIN_STRING:
      out.appendCommand(['SET', key, data as Bin]);
      break;
    case PLAIN_LIST:
      appendBatches(out, 'RPUSH', key, data as Bin[], 1);
      break;
    case PLAIN_SET:
      appendBatches(out, 'SADD', key, data as Bin[], 1);
      break;
    case PLAIN_HASH:
      appendBatches(out, 'HMSET', key, data as Bin[], 2);
      break;
    case PLAIN_ZSET: {
      // ZADD takes score before member; scores as %.17g (Redis rioWriteBulkDouble).
      const flat = data as (Bin | number)[];
      const items: Bin[] = new Array<Bin>(flat.length);
      for (let i = 0; i < flat.length; i += 2) {
        items[i] = formatDouble17g(plainScore(flat[i + 1]!));
        items[i + 1] = flat[i] as Bin;
      }
      appendBatches(out, 'ZADD', key, items, 2);
      break;
    }
  }
  if (expireMs !== -1) out.appendCommand(['PEXPIREAT', key, formatExpireMs(expireMs)]);
}

function appendBatches(out: AofBuffer, name: Bin, key: Bin, items: readonly Bin[], arity: number): void {
  const perCommand = AOF_REWRITE_ITEMS_PER_CMD * arity;
  for (let start = 0; start < items.length; start += perCommand) {
    const end = Math.min(items.length, start + perCommand);
    const argv: Bin[] = new Array<Bin>(2 + end - start);
    argv[0] = name;
    argv[1] = key;
    for (let i = start; i < end; i++) argv[2 + i - start] = items[i]!;
    out.appendCommand(argv);
  }
}
