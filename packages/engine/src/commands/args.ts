// Argument parsing helpers with Redis's exact error replies (object.c getLongLongFromObjectOrReply,
// getDoubleFromObjectOrReply, getRangeLongFromObjectOrReply, ...).

import { parseDouble, parseLongLong, parseSafeInt, type Bin } from '../bytes.ts';
import type { Db } from '../keyspace/db.ts';
import type { CommandContext } from './types.ts';
import type { RedisValue, RHash, RList, RSet, RZSet } from '../keyspace/values.ts';
import { ERR, fail } from '../reply.ts';

/** A 64-bit integer argument as a JS number; fails with ERR not an integer if outside ±2^53. */
export function argInt(s: Bin, message: string = ERR.notInteger): number {
  const v = parseSafeInt(s);
  if (v === null) {
    // Valid 64-bit integers beyond 2^53 are clamped: callers using them as counts/indexes only
    // need "very large" semantics (Redis clamps ranges the same way).
    const big = parseLongLong(s);
    if (big === null) fail(message);
    return big > 0n ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  }
  return v;
}

/** A full-range signed 64-bit integer argument. */
export function argLongLong(s: Bin, message: string = ERR.notInteger): bigint {
  const v = parseLongLong(s);
  if (v === null) fail(message);
  return v;
}

/** Redis getPositiveLongFromObjectOrReply / getRangeLongFromObjectOrReply(0, LONG_MAX). */
export function argNonNegativeInt(s: Bin, message: string = ERR.positive): number {
  const v = parseLongLong(s);
  if (v === null) fail(ERR.notInteger);
  if (v < 0n) fail(message);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

export function argDouble(s: Bin, message: string = ERR.notFloat): number {
  const v = parseDouble(s);
  if (v === null) fail(message);
  return v;
}

/** Case-insensitive comparison of an argument with an ASCII keyword given in lower case. */
export function isArg(s: Bin, lowerKeyword: string): boolean {
  return s.length === lowerKeyword.length && s.toLowerCase() === lowerKeyword;
}

function typed<T extends RedisValue>(v: RedisValue | undefined, type: string): T | undefined {
  if (v === undefined) return undefined;
  if ((typeof v === 'string' ? 'string' : v.type) !== type) fail(ERR.wrongType);
  return v as T;
}

export const getString = (db: Db, key: Bin): Bin | undefined =>
  typed<Bin>(db.lookupRead(key), 'string');
export const getList = (db: Db, key: Bin): RList | undefined =>
  typed<RList>(db.lookupRead(key), 'list');
export const getHash = (db: Db, key: Bin): RHash | undefined =>
  typed<RHash>(db.lookupRead(key), 'hash');
export const getSet = (db: Db, key: Bin): RSet | undefined =>
  typed<RSet>(db.lookupRead(key), 'set');
export const getZSet = (db: Db, key: Bin): RZSet | undefined =>
  typed<RZSet>(db.lookupRead(key), 'zset');

/** The part of a hash's map, a set's members or a sorted set that member removal needs. */
export interface RemovableMembers {
  delete(member: Bin): boolean;
  readonly size: number;
}

/**
 * Redis hdelCommand / sremCommand / zremCommand: remove argv[2..] from the collection at `key`,
 * stopping at the member that empties it, which deletes the key (Redis keeps no empty
 * collections). Signals WATCH and counts one change per removed member. Returns the count.
 */
export function removeMembers(
  c: CommandContext,
  key: Bin,
  members: RemovableMembers,
  argv: readonly Bin[],
): number {
  let deleted = 0;
  for (let i = 2; i < argv.length; i++) {
    if (!members.delete(argv[i]!)) continue;
    deleted++;
    if (members.size === 0) {
      c.db.delete(key);
      break;
    }
  }
  if (deleted > 0) {
    c.db.signalModified(key);
    c.dirty(deleted);
  }
  return deleted;
}
