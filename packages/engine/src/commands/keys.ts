// Generic key commands (Redis db.c and expire.c): DEL UNLINK EXISTS TYPE EXPIRE PEXPIRE EXPIREAT
// PEXPIREAT TTL PTTL EXPIRETIME PEXPIRETIME PERSIST RENAME RENAMENX KEYS SCAN RANDOMKEY MOVE COPY.
//
// Replies, error texts and AOF propagation follow Redis 7.0.15: the EXPIRE family propagates as
// PEXPIREAT with an absolute time (option word kept), or as DEL/UNLINK when the time is already
// past; everything else propagates as typed. Handlers validate all arguments before mutating.

import {
  LLONG_MAX,
  LLONG_MIN,
  expireMsToBigInt,
  parseLongLong,
  parseSafeInt,
  type Bin,
} from '../bytes.ts';
import { cloneValue } from '../keyspace/clone.ts';
import type { Db } from '../keyspace/db.ts';
import { typeOfValue, type RedisValue } from '../keyspace/values.ts';
import { globMatch } from '../glob.ts';
import { ERR, OK, StatusReply, fail, type Reply } from '../reply.ts';
import { argInt, isArg } from './args.ts';
import { alreadyExpired, invalidExpireTime } from './strings.ts';
import { cmd, type CommandContext, type CommandSpec } from './types.ts';

const ONE_KEY = [1, 1, 1] as const;
const ALL_KEYS = [1, -1, 1] as const;
const NO_KEYS = [0, 0, 0] as const;

const SAME_OBJECT = 'ERR source and destination objects are the same';
const DB_OUT_OF_RANGE = 'ERR DB index is out of range';

// ---- DEL / UNLINK / EXISTS / TYPE --------------------------------------------------------------

/**
 * Redis delGenericCommand. An already-expired key is expired first (its DEL propagates from the
 * expiry) and then does not count. UNLINK and DEL are the same for an in-memory engine.
 */
function delCommand(c: CommandContext, argv: readonly Bin[]): Reply {
  let deleted = 0;
  for (let j = 1; j < argv.length; j++) {
    const key = argv[j]!;
    c.db.expireIfNeeded(key);
    if (c.db.delete(key)) {
      c.db.signalModified(key);
      deleted++;
    }
  }
  if (deleted > 0) c.dirty(deleted);
  return deleted;
}

/** Redis existsCommand: a key named twice counts twice. */
function existsCommand(c: CommandContext, argv: readonly Bin[]): Reply {
  let count = 0;
  for (let j = 1; j < argv.length; j++) if (c.db.lookupRead(argv[j]!) !== undefined) count++;
  return count;
}

const TYPE_REPLIES: Record<string, StatusReply> = {
  none: new StatusReply('none'),
  string: new StatusReply('string'),
  list: new StatusReply('list'),
  hash: new StatusReply('hash'),
  set: new StatusReply('set'),
  zset: new StatusReply('zset'),
};

/** Redis getObjectTypeName: "none" for a missing key. */
function typeName(v: RedisValue | undefined): string {
  return v === undefined ? 'none' : typeOfValue(v);
}

function typeCommand(c: CommandContext, argv: readonly Bin[]): Reply {
  const name = typeName(c.db.lookupRead(argv[1]!));
  return TYPE_REPLIES[name] ?? new StatusReply(name);
}

// ---- EXPIRE family -----------------------------------------------------------------------------

const EXPIRE_NX = 1;
const EXPIRE_XX = 2;
const EXPIRE_GT = 4;
const EXPIRE_LT = 8;

/** Redis parseExtendedExpireArgumentsOrReply: NX XX GT LT after the time, in any case. */
function parseExpireFlags(argv: readonly Bin[]): number {
  let flags = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j]!;
    if (isArg(opt, 'nx')) flags |= EXPIRE_NX;
    else if (isArg(opt, 'xx')) flags |= EXPIRE_XX;
    else if (isArg(opt, 'gt')) flags |= EXPIRE_GT;
    else if (isArg(opt, 'lt')) flags |= EXPIRE_LT;
    else fail(`ERR Unsupported option ${opt}`);
  }
  if ((flags & EXPIRE_NX) !== 0 && (flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT)) !== 0) {
    fail('ERR NX and XX, GT or LT options at the same time are not compatible');
  }
  if ((flags & EXPIRE_GT) !== 0 && (flags & EXPIRE_LT) !== 0) {
    fail('ERR GT and LT options at the same time are not compatible');
  }
  return flags;
}

/** C's LLONG_MAX / 1000 and LLONG_MIN / 1000 (division truncates toward zero). */
const SECONDS_MAX = LLONG_MAX / 1000n;
const SECONDS_MIN = LLONG_MIN / 1000n;

/**
 * The absolute expire time in ms of EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT (Redis expireGenericCommand).
 * Negative times are allowed; only an overflow of the unit conversion or of the addition of the
 * base time is an error. Plain numbers while exact, bigint beyond 2^53.
 */
function expireWhen(text: Bin, basetime: number, seconds: boolean, name: string): number | bigint {
  const small = parseSafeInt(text);
  if (small !== null) {
    const when = (seconds ? small * 1000 : small) + basetime;
    if (Number.isSafeInteger(when)) return when;
  }
  let when = parseLongLong(text);
  if (when === null) fail(ERR.notInteger);
  if (seconds) {
    if (when > SECONDS_MAX || when < SECONDS_MIN) fail(invalidExpireTime(name));
    when *= 1000n;
  }
  const base = BigInt(basetime);
  if (when > LLONG_MAX - base) fail(invalidExpireTime(name));
  return when + base;
}

/** Does NX/XX/GT/LT allow replacing `current` (-1: no TTL, an infinite one) by `when`? */
function expireConditionHolds(
  flags: number,
  current: number | bigint,
  when: number | bigint,
): boolean {
  if ((flags & EXPIRE_NX) !== 0 && current !== -1) return false;
  if ((flags & EXPIRE_XX) !== 0 && current === -1) return false;
  if ((flags & EXPIRE_GT) !== 0 && (current === -1 || when <= current)) return false;
  if ((flags & EXPIRE_LT) !== 0 && current !== -1 && when >= current) return false;
  return true;
}

/**
 * Redis expireGenericCommand. `relative`: the time is added to now (EXPIRE, PEXPIRE); `seconds`:
 * the time is in seconds (EXPIRE, EXPIREAT). Propagated as `PEXPIREAT key <abs-ms> [flag]` (only
 * argv[0] and argv[2] are replaced), or as DEL/UNLINK when the time is not in the future.
 */
function expireGeneric(
  c: CommandContext,
  argv: readonly Bin[],
  relative: boolean,
  seconds: boolean,
  name: string,
): Reply {
  const flags = parseExpireFlags(argv);
  const key = argv[1]!;
  const when = expireWhen(argv[2]!, relative ? c.nowMs : 0, seconds, name);
  if (c.db.lookupWrite(key) === undefined) return 0;
  if (flags !== 0 && !expireConditionHolds(flags, c.db.getExpire(key), when)) return 0;
  if (alreadyExpired(c, when)) {
    c.db.delete(key);
    c.dirty();
    c.rewriteArgv([c.server.lazyfreeLazyExpire() ? 'UNLINK' : 'DEL', key]);
    c.db.signalModified(key);
    return 1;
  }
  c.db.setExpire(key, when);
  if (relative || seconds) {
    const next = argv.slice();
    next[0] = 'PEXPIREAT';
    next[2] = String(when);
    c.rewriteArgv(next);
  }
  c.db.signalModified(key);
  c.dirty();
  return 1;
}

/** A bigint reply as a JS number when that is exact (the Reply convention). */
function integerReply(n: bigint): number | bigint {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(n)
    : n;
}

/**
 * Redis ttlGenericCommand: -2 missing key, -1 no TTL, otherwise the remaining time (never below 0)
 * or the absolute time; seconds are rounded to nearest ((ms + 500) / 1000).
 */
function ttlGeneric(c: CommandContext, key: Bin, inMs: boolean, absolute: boolean): Reply {
  if (c.db.lookupRead(key) === undefined) return -2;
  const expire = c.db.getExpire(key);
  if (expire === -1) return -1;
  if (typeof expire === 'number' && Number.isSafeInteger(expire)) {
    let ttl = absolute ? expire : expire - c.nowMs;
    if (ttl < 0) ttl = 0;
    return inMs ? ttl : Math.floor((ttl + 500) / 1000);
  }
  // Beyond 2^53 ms (year 287396) the expiry is a bigint: compute exactly.
  let ttl = absolute ? expireMsToBigInt(expire) : expireMsToBigInt(expire) - BigInt(c.nowMs);
  if (ttl < 0n) ttl = 0n;
  return integerReply(inMs ? ttl : (ttl + 500n) / 1000n);
}

/** Redis persistCommand: 1 if a TTL was removed. Propagated as typed. */
function persistCommand(c: CommandContext, argv: readonly Bin[]): Reply {
  const key = argv[1]!;
  if (c.db.lookupWrite(key) === undefined || !c.db.removeExpire(key)) return 0;
  c.db.signalModified(key);
  c.dirty();
  return 1;
}

// ---- RENAME / MOVE / COPY ----------------------------------------------------------------------

/**
 * Redis renameGenericCommand: the value and its TTL move to the new name, replacing (RENAME) or
 * refusing (RENAMENX) an existing destination. Renaming a key to itself is a no-op once it exists.
 */
function renameGeneric(c: CommandContext, argv: readonly Bin[], nx: boolean): Reply {
  const src = argv[1]!;
  const dst = argv[2]!;
  const value = c.db.lookupWrite(src);
  if (value === undefined) fail(ERR.noSuchKey);
  if (src === dst) return nx ? 0 : OK;
  const expire = c.db.getExpire(src);
  if (c.db.lookupWrite(dst) !== undefined) {
    if (nx) return 0;
    c.db.delete(dst);
  }
  c.db.add(dst, value);
  if (expire !== -1) c.db.setExpire(dst, expire);
  c.db.delete(src);
  c.db.signalModified(src);
  c.db.signalModified(dst);
  c.dirty();
  return nx ? 1 : OK;
}

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

/** Redis getIntFromObjectOrReply (via getRangeLongFromObjectOrReply): a 32-bit signed integer. */
function argInt32(s: Bin): number {
  const v = argInt(s);
  if (v < INT_MIN || v > INT_MAX)
    fail(`ERR value is out of range, value must between ${INT_MIN} and ${INT_MAX}`);
  return v;
}

/** Redis selectDb failure text for an index outside 0..databases-1. */
function dbByIndex(c: CommandContext, index: number): Db {
  if (index < 0 || index >= c.server.dbs.length) fail(DB_OUT_OF_RANGE);
  return c.server.dbAt(index);
}

/** Redis moveCommand: move a key (with its TTL) to another db unless it exists there. */
function moveCommand(c: CommandContext, argv: readonly Bin[]): Reply {
  const key = argv[1]!;
  const src = c.db;
  const dst = dbByIndex(c, argInt32(argv[2]!));
  if (dst === src) fail(SAME_OBJECT);
  const value = src.lookupWrite(key);
  if (value === undefined) return 0;
  const expire = src.getExpire(key);
  if (dst.lookupWrite(key) !== undefined) return 0;
  dst.add(key, value);
  if (expire !== -1) dst.setExpire(key, expire);
  src.delete(key);
  src.signalModified(key);
  dst.signalModified(key);
  c.dirty();
  return 1;
}

/**
 * Redis copyCommand: COPY source destination [DB index] [REPLACE]. The value is deep-copied and
 * the TTL copied; only the destination is signaled as modified.
 */
function copyCommand(c: CommandContext, argv: readonly Bin[]): Reply {
  const src = c.db;
  let dst = c.db;
  let replace = false;
  for (let j = 3; j < argv.length; j++) {
    if (isArg(argv[j]!, 'replace')) {
      replace = true;
    } else if (isArg(argv[j]!, 'db') && j + 1 < argv.length) {
      dst = dbByIndex(c, argInt32(argv[++j]!));
    } else {
      fail(ERR.syntax);
    }
  }
  const key = argv[1]!;
  const newKey = argv[2]!;
  if (src === dst && key === newKey) fail(SAME_OBJECT);
  const value = src.lookupRead(key);
  if (value === undefined) return 0;
  const expire = src.getExpire(key);
  let existing = false;
  if (dst.lookupWrite(newKey) !== undefined) {
    if (!replace) return 0;
    existing = true;
  }
  const copy = cloneValue(value);
  if (existing) dst.delete(newKey);
  dst.add(newKey, copy);
  if (expire !== -1) dst.setExpire(newKey, expire);
  dst.signalModified(newKey);
  c.dirty();
  return 1;
}

// ---- KEYS / SCAN / RANDOMKEY -------------------------------------------------------------------

/** Redis keysCommand: logically expired keys are skipped (not deleted: keyIsExpired only). */
function keysCommand(c: CommandContext, argv: readonly Bin[]): Reply {
  const pattern = argv[1]!;
  const all = pattern === '*';
  const db = c.db;
  const out: Bin[] = [];
  for (const key of db.dict.keys()) {
    if ((all || globMatch(pattern, key)) && !db.isExpired(key)) out.push(key);
  }
  return out;
}

/*
 * SCAN over a JS Map. Redis scans its hash table with a reverse-binary cursor that needs no server
 * state; a Map has no positions to encode in a cursor, but its iterators stay valid while entries
 * are added and deleted: they skip deleted entries and reach entries added later. So a cursor is
 * the id of a live iterator kept in a small per-db registry. A key present for the whole iteration
 * is returned exactly once (Redis's guarantee is "at least once"); a key deleted and re-added may
 * come back twice, which Redis allows too.
 *
 * Every call hands out a fresh id and forgets the old one, so replaying an old cursor cannot skip
 * the batch it would have returned. An id the registry does not know (evicted, replayed, from
 * another process, or the db's table was swapped by SWAPDB) restarts the iteration from the
 * beginning: the client may see duplicates but never misses a key, whereas answering "0" would end
 * its iteration early. The registry holds at most SCAN_MAX_CURSORS ids per db, evicting the least
 * recently used.
 */
const SCAN_MAX_CURSORS = 1024;

interface ScanState {
  /** The table the iterator walks: after SWAPDB the db has another one and the state is stale. */
  readonly dict: Map<Bin, RedisValue>;
  readonly it: Iterator<Bin>;
  /** One key read ahead to know whether the iteration ended (so small dbs finish in one call). */
  lookahead: Bin | undefined;
}

class ScanRegistry {
  private nextId = 1;
  private readonly states = new Map<number, ScanState>();

  /** Take (and forget) the state of a cursor; undefined when unknown. */
  take(cursor: number, db: Db): ScanState | undefined {
    const state = this.states.get(cursor);
    if (state === undefined) return undefined;
    this.states.delete(cursor);
    return state.dict === db.dict ? state : undefined;
  }

  /** Store a state under a fresh id, evicting the least recently used one beyond the bound. */
  put(state: ScanState): number {
    const id = this.nextId++;
    this.states.set(id, state);
    if (this.states.size > SCAN_MAX_CURSORS) {
      const oldest = this.states.keys().next();
      if (oldest.done !== true) this.states.delete(oldest.value);
    }
    return id;
  }
}

const scanRegistries = new WeakMap<Db, ScanRegistry>();

function registryFor(db: Db): ScanRegistry {
  let reg = scanRegistries.get(db);
  if (reg === undefined) scanRegistries.set(db, (reg = new ScanRegistry()));
  return reg;
}

const ULONG_MAX = 18446744073709551615n;

/**
 * Redis parseScanCursorOrReply: C strtoul in base 10 with the whole string consumed. So an optional
 * sign is accepted ("-1" wraps to 2^64-1), leading zeros too, the empty string is 0, and values
 * above 2^64-1 or a leading space are "ERR invalid cursor". Returns the cursor as a registry id, or
 * -1 for a valid cursor that cannot be one of ours.
 */
export function parseScanCursor(text: Bin): number {
  const nul = text.indexOf('\0');
  const s = nul === -1 ? text : text.slice(0, nul); // strtoul stops at the C string's end
  if (s.length === 0) return 0;
  const m = /^([+-]?)(\d+)$/.exec(s);
  if (m === null) fail('ERR invalid cursor');
  const magnitude = BigInt(m[2]!);
  if (magnitude > ULONG_MAX) fail('ERR invalid cursor');
  const value = m[1] === '-' && magnitude !== 0n ? ULONG_MAX + 1n - magnitude : magnitude;
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : -1;
}

interface ScanOptions {
  count: number;
  /** null: no MATCH, or MATCH "*" which matches everything. */
  pattern: Bin | null;
  type: Bin | null;
}

/** Redis scanGenericCommand option parsing: COUNT n (≥ 1), MATCH pattern, TYPE name. */
function parseScanOptions(argv: readonly Bin[]): ScanOptions {
  const options: ScanOptions = { count: 10, pattern: null, type: null };
  for (let i = 2; i < argv.length; i += 2) {
    const opt = argv[i]!;
    const hasValue = i + 1 < argv.length;
    if (isArg(opt, 'count') && hasValue) {
      options.count = argInt(argv[i + 1]!);
      if (options.count < 1) fail(ERR.syntax);
    } else if (isArg(opt, 'match') && hasValue) {
      const pattern = argv[i + 1]!;
      options.pattern = pattern === '*' ? null : pattern;
    } else if (isArg(opt, 'type') && hasValue) {
      options.type = argv[i + 1]!.toLowerCase();
    } else {
      fail(ERR.syntax);
    }
  }
  return options;
}

function scanCommand(c: CommandContext, argv: readonly Bin[]): Reply {
  const cursor = parseScanCursor(argv[1]!);
  const options = parseScanOptions(argv);
  const db = c.db;
  const registry = registryFor(db);
  const state: ScanState = (cursor === 0 ? undefined : registry.take(cursor, db)) ?? {
    dict: db.dict,
    it: db.dict.keys(),
    lookahead: undefined,
  };
  const batch = collectBatch(db, state, options.count);
  const keys = filterScanBatch(db, batch, options);
  if (state.lookahead === undefined) return ['0', keys];
  return [String(registry.put(state)), keys];
}

/** Up to `count` keys from the iterator; leaves the next key (if any) in state.lookahead. */
function collectBatch(db: Db, state: ScanState, count: number): Bin[] {
  const batch: Bin[] = [];
  const pending = state.lookahead;
  state.lookahead = undefined;
  // The read-ahead key may have been deleted since the last call.
  if (pending !== undefined && db.dict.has(pending)) batch.push(pending);
  for (;;) {
    const next = state.it.next();
    if (next.done === true) return batch;
    if (batch.length >= count) {
      state.lookahead = next.value;
      return batch;
    }
    batch.push(next.value);
  }
}

/**
 * Redis scanGenericCommand step 3, in Redis's order: MATCH, then TYPE (a lookup that expires the
 * key, after which it reads as type "none"), then expired keys are deleted and dropped.
 */
function filterScanBatch(db: Db, batch: readonly Bin[], options: ScanOptions): Bin[] {
  const out: Bin[] = [];
  for (const key of batch) {
    if (options.pattern !== null && !globMatch(options.pattern, key)) continue;
    if (options.type !== null && typeName(db.lookupRead(key)) !== options.type) continue;
    if (db.expireIfNeeded(key)) continue;
    out.push(key);
  }
  return out;
}

/**
 * Redis dbRandomKey: pick a key uniformly (O(1) expected, see Db.randomKey); a picked key whose
 * TTL passed is deleted (propagating its DEL) and another one is picked.
 */
function randomkeyCommand(c: CommandContext): Reply {
  const db = c.db;
  for (;;) {
    if (db.size === 0) return null;
    const picked = db.randomKey(c.server.random());
    if (picked === undefined) return null; // unreachable: the sampler holds every key
    if (!db.expireIfNeeded(picked)) return picked;
  }
}

// ---- Command table (arity, flags and key positions of Redis 7.0) --------------------------------

export const keyCommands: CommandSpec[] = [
  cmd('del', -2, ['write'], ALL_KEYS, delCommand),
  cmd('unlink', -2, ['write', 'fast'], ALL_KEYS, delCommand),
  cmd('exists', -2, ['readonly', 'fast'], ALL_KEYS, existsCommand),
  cmd('type', 2, ['readonly', 'fast'], ONE_KEY, typeCommand),
  cmd('expire', -3, ['write', 'fast'], ONE_KEY, (c, argv) =>
    expireGeneric(c, argv, true, true, 'expire'),
  ),
  cmd('pexpire', -3, ['write', 'fast'], ONE_KEY, (c, argv) =>
    expireGeneric(c, argv, true, false, 'pexpire'),
  ),
  cmd('expireat', -3, ['write', 'fast'], ONE_KEY, (c, argv) =>
    expireGeneric(c, argv, false, true, 'expireat'),
  ),
  cmd('pexpireat', -3, ['write', 'fast'], ONE_KEY, (c, argv) =>
    expireGeneric(c, argv, false, false, 'pexpireat'),
  ),
  cmd('ttl', 2, ['readonly', 'fast'], ONE_KEY, (c, argv) => ttlGeneric(c, argv[1]!, false, false)),
  cmd('pttl', 2, ['readonly', 'fast'], ONE_KEY, (c, argv) => ttlGeneric(c, argv[1]!, true, false)),
  cmd('expiretime', 2, ['readonly', 'fast'], ONE_KEY, (c, argv) =>
    ttlGeneric(c, argv[1]!, false, true),
  ),
  cmd('pexpiretime', 2, ['readonly', 'fast'], ONE_KEY, (c, argv) =>
    ttlGeneric(c, argv[1]!, true, true),
  ),
  cmd('persist', 2, ['write', 'fast'], ONE_KEY, persistCommand),
  cmd('rename', 3, ['write'], [1, 2, 1], (c, argv) => renameGeneric(c, argv, false)),
  cmd('renamenx', 3, ['write', 'fast'], [1, 2, 1], (c, argv) => renameGeneric(c, argv, true)),
  cmd('keys', 2, ['readonly'], NO_KEYS, keysCommand),
  cmd('scan', -2, ['readonly'], NO_KEYS, scanCommand),
  cmd('randomkey', 1, ['readonly'], NO_KEYS, randomkeyCommand),
  cmd('move', 3, ['write', 'fast'], ONE_KEY, moveCommand),
  cmd('copy', -3, ['write', 'denyoom'], [1, 2, 1], copyCommand),
];
