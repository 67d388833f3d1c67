// String commands (Redis t_string.c): GET SET SETNX SETEX PSETEX GETSET GETDEL GETEX MGET MSET
// MSETNX APPEND STRLEN INCR DECR INCRBY DECRBY INCRBYFLOAT SETRANGE GETRANGE SUBSTR.
//
// Replies, error texts, validation order and what reaches the AOF follow Redis 7.0.15. In 7.0 the
// command itself rewrites its argv into an absolute, replay-safe form (spec §2.3): every TTL
// becomes `SET k v PXAT <abs-ms>` or `PEXPIREAT k <abs-ms>`, INCRBYFLOAT becomes
// `SET k <result> KEEPTTL`. Words the server substitutes are upper-case (Redis shared objects);
// client-typed words keep their case. Each handler validates everything before its first mutation,
// so a failing command leaves the dataset untouched.

import { LLONG_MAX, LLONG_MIN, parseLongLong, parseSafeInt, type Bin } from '../bytes.ts';
import type { Db } from '../keyspace/db.ts';
import { incrByFloatText } from '../keyspace/long-double.ts';
import { ERR, OK, fail, wrongArity, type Reply } from '../reply.ts';
import { argLongLong, getString, isArg } from './args.ts';
import { cmd, type CommandContext, type CommandSpec } from './types.ts';

/** Redis proto-max-bulk-len default (512MB): the largest string SETRANGE/APPEND may build. */
const PROTO_MAX_BULK_LEN = 512 * 1024 * 1024;
/**
 * V8 cannot hold a string longer than 2^29 - 24 characters, 24 bytes short of Redis's limit. Such
 * a result is refused with Redis's own error rather than crashing the engine.
 */
const MAX_JS_STRING = 2 ** 29 - 24;
const STRING_TOO_LONG = 'ERR string exceeds maximum allowed size (proto-max-bulk-len)';
const LLONG_MAX_DIV_1000 = LLONG_MAX / 1000n;

const ONE_KEY = [1, 1, 1] as const;

// ---- Shared helpers ----------------------------------------------------------------------------

/** Redis addReplyErrorExpireTime: the command's name is its lower-case full name. */
export function invalidExpireTime(name: string): string {
  return `ERR invalid expire time in '${name}' command`;
}

/** Redis checkStringLength: refuse a result longer than proto-max-bulk-len. */
function checkStringLength(size: number, append: number): void {
  const total = size + append;
  if (total > PROTO_MAX_BULK_LEN || total > MAX_JS_STRING) fail(STRING_TOO_LONG);
}

/** A string value for a write command, or undefined; WRONGTYPE for other types. */
function lookupStringWrite(db: Db, key: Bin): Bin | undefined {
  const v = db.lookupWrite(key);
  if (v !== undefined && typeof v !== 'string') fail(ERR.wrongType);
  return v;
}

/**
 * Redis checkAlreadyExpired: an absolute time not in the future deletes the key at once, except
 * while loading the AOF, where the TTL is stored as is and the writer's later DEL removes the key.
 */
export function alreadyExpired(c: CommandContext, when: number | bigint): boolean {
  return when <= c.nowMs && !c.server.isLoading();
}

// ---- SET family option parsing (Redis parseExtendedStringArgumentsOrReply) ----------------------

const F_NX = 1;
const F_XX = 2;
const F_EX = 4;
const F_PX = 8;
const F_KEEPTTL = 16;
const F_GET = 32;
const F_EXAT = 64;
const F_PXAT = 128;
const F_PERSIST = 256;
const F_ANY_TTL = F_EX | F_PX | F_EXAT | F_PXAT;

interface StringOptions {
  flags: number;
  /** The EX/PX/EXAT/PXAT argument, if any. */
  expire: Bin | undefined;
}

/**
 * Parse SET (forSet) or GETEX options starting at argv[from]. Like Redis, a repeated option is
 * accepted (the last time wins) but conflicting ones, options of the other command, or a missing
 * time argument are a syntax error.
 */
function parseStringOptions(argv: readonly Bin[], from: number, forSet: boolean): StringOptions {
  let flags = 0;
  let expire: Bin | undefined;
  for (let j = from; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    const hasNext = j < argv.length - 1;
    if (opt === 'nx' && forSet && (flags & F_XX) === 0) {
      flags |= F_NX;
    } else if (opt === 'xx' && forSet && (flags & F_NX) === 0) {
      flags |= F_XX;
    } else if (opt === 'get' && forSet) {
      flags |= F_GET;
    } else if (opt === 'keepttl' && forSet && (flags & (F_PERSIST | F_ANY_TTL)) === 0) {
      flags |= F_KEEPTTL;
    } else if (opt === 'persist' && !forSet && (flags & (F_KEEPTTL | F_ANY_TTL)) === 0) {
      flags |= F_PERSIST;
    } else if (
      hasNext &&
      isTtlOption(opt) &&
      (flags & (F_KEEPTTL | F_PERSIST | otherTtls(opt))) === 0
    ) {
      flags |= TTL_FLAG[opt]!;
      expire = argv[++j];
    } else {
      fail(ERR.syntax);
    }
  }
  return { flags, expire };
}

const TTL_FLAG: Record<string, number> = { ex: F_EX, px: F_PX, exat: F_EXAT, pxat: F_PXAT };

function isTtlOption(opt: string): boolean {
  return opt === 'ex' || opt === 'px' || opt === 'exat' || opt === 'pxat';
}

/** The TTL options that conflict with `opt` (all of them but itself). */
function otherTtls(opt: string): number {
  return F_ANY_TTL & ~TTL_FLAG[opt]!;
}

/**
 * Redis getExpireMillisecondsOrReply: the absolute expire time in ms of an EX/PX/EXAT/PXAT
 * argument. The value must be a positive 64-bit integer; seconds are multiplied by 1000 and
 * relative times get "now" added, and any overflow of a signed 64-bit result is an error (Redis
 * detects the wrapped, non-positive sum). Numbers stay JS numbers while exact, bigint beyond.
 */
function expireArgToMs(c: CommandContext, text: Bin, flags: number, name: string): number | bigint {
  const seconds = (flags & (F_EX | F_EXAT)) !== 0;
  const relative = (flags & (F_EX | F_PX)) !== 0;
  const small = parseSafeInt(text);
  if (small !== null) {
    if (small <= 0) fail(invalidExpireTime(name));
    const ms = (seconds ? small * 1000 : small) + (relative ? c.nowMs : 0);
    if (Number.isSafeInteger(ms)) return ms;
  }
  const v = parseLongLong(text);
  if (v === null) fail(ERR.notInteger);
  if (v <= 0n || (seconds && v > LLONG_MAX_DIV_1000)) fail(invalidExpireTime(name));
  const ms = (seconds ? v * 1000n : v) + (relative ? BigInt(c.nowMs) : 0n);
  if (ms > LLONG_MAX) fail(invalidExpireTime(name));
  return ms;
}

// ---- GET / SET ---------------------------------------------------------------------------------

function getCommand(c: CommandContext, argv: readonly Bin[]): Reply {
  return getString(c.db, argv[1]!) ?? null;
}

/**
 * Redis setGenericCommand, shared by SET, SETNX, SETEX and PSETEX. `okReply`/`abortReply` are what
 * the command answers when it set the key or when NX/XX prevented it.
 */
function setGeneric(
  c: CommandContext,
  key: Bin,
  value: Bin,
  options: StringOptions,
  name: string,
  okReply: Reply,
  abortReply: Reply,
): Reply {
  const { flags, expire } = options;
  const when = expire === undefined ? undefined : expireArgToMs(c, expire, flags, name);
  const withGet = (flags & F_GET) !== 0;
  // SET ... GET replies with the old value; a non-string old value aborts the command.
  const old = withGet ? (getString(c.db, key) ?? null) : null;
  const found = c.db.lookupWrite(key) !== undefined;
  if (((flags & F_NX) !== 0 && found) || ((flags & F_XX) !== 0 && !found)) {
    return withGet ? old : abortReply;
  }
  c.db.setKey(key, value, (flags & F_KEEPTTL) !== 0);
  c.dirty();
  if (when !== undefined) {
    c.db.setExpire(key, when);
    // The whole argv is replaced, which also drops NX/XX/GET (Redis 7.0 setGenericCommand).
    c.rewriteArgv(['SET', key, value, 'PXAT', String(when)]);
  } else if (withGet) {
    c.rewriteArgv(withoutGetTokens(c.argv));
  }
  return withGet ? old : okReply;
}

/** SET ... GET propagates without its GET words (any case, possibly repeated). */
function withoutGetTokens(argv: readonly Bin[]): Bin[] {
  const out: Bin[] = [];
  for (let j = 0; j < argv.length; j++) {
    if (j < 3 || !isArg(argv[j]!, 'get')) out.push(argv[j]!);
  }
  return out;
}

function setCommand(c: CommandContext, argv: readonly Bin[]): Reply {
  const key = argv[1]!;
  if (argv.length === 3) {
    // Hot path: plain SET. Redis setKey still looks the key up, so an expired old value is
    // deleted first (and its DEL propagated) exactly as with options.
    c.db.lookupWrite(key);
    c.db.setKey(key, argv[2]!);
    c.dirty();
    return OK;
  }
  return setGeneric(c, key, argv[2]!, parseStringOptions(argv, 3, true), 'set', OK, null);
}

function setnxCommand(c: CommandContext, argv: readonly Bin[]): Reply {
  return setGeneric(c, argv[1]!, argv[2]!, { flags: F_NX, expire: undefined }, 'setnx', 1, 0);
}

function setexCommand(c: CommandContext, argv: readonly Bin[]): Reply {
  return setGeneric(c, argv[1]!, argv[3]!, { flags: F_EX, expire: argv[2]! }, 'setex', OK, null);
}

function psetexCommand(c: CommandContext, argv: readonly Bin[]): Reply {
  return setGeneric(c, argv[1]!, argv[3]!, { flags: F_PX, expire: argv[2]! }, 'psetex', OK, null);
}

/** Redis getsetCommand: propagated as SET (only argv[0] is replaced). */
function getsetCommand(c: CommandContext, argv: readonly Bin[]): Reply {
  const key = argv[1]!;
  const old = getString(c.db, key) ?? null;
  c.db.setKey(key, argv[2]!);
  c.dirty();
  c.rewriteArgv(['SET', key, argv[2]!]);
  return old;
}

/** Redis getdelCommand: propagated as DEL, or UNLINK under lazyfree-lazy-user-del. */
function getdelCommand(c: CommandContext, argv: readonly Bin[]): Reply {
  const key = argv[1]!;
  const value = getString(c.db, key);
  if (value === undefined) return null;
  c.db.delete(key);
  c.db.signalModified(key);
  c.dirty();
  c.rewriteArgv([c.server.lazyfreeLazyUserDel() ? 'UNLINK' : 'DEL', key]);
  return value;
}

/**
 * Redis getexCommand. Never propagated as typed: a new TTL becomes PEXPIREAT, a past EXAT/PXAT
 * deletes the key (DEL/UNLINK per lazyfree-lazy-expire), PERSIST propagates only when a TTL was
 * removed, and GETEX without options propagates nothing.
 */
function getexCommand(c: CommandContext, argv: readonly Bin[]): Reply {
  const options = parseStringOptions(argv, 2, false);
  const key = argv[1]!;
  const value = getString(c.db, key);
  if (value === undefined) return null; // Redis looks the key up before validating the time
  const { flags, expire } = options;
  if (expire !== undefined) {
    const when = expireArgToMs(c, expire, flags, 'getex');
    if ((flags & (F_EXAT | F_PXAT)) !== 0 && alreadyExpired(c, when)) {
      c.db.delete(key);
      c.rewriteArgv([c.server.lazyfreeLazyExpire() ? 'UNLINK' : 'DEL', key]);
    } else {
      c.db.setExpire(key, when);
      c.rewriteArgv(['PEXPIREAT', key, String(when)]);
    }
    c.db.signalModified(key);
    c.dirty();
  } else if ((flags & F_PERSIST) !== 0 && c.db.removeExpire(key)) {
    c.db.signalModified(key);
    c.rewriteArgv(['PERSIST', key]);
    c.dirty();
  }
  return value;
}

/** Redis mgetCommand: a missing key or a key of another type is a nil. */
function mgetCommand(c: CommandContext, argv: readonly Bin[]): Reply {
  const out: Reply[] = new Array<Reply>(argv.length - 1);
  for (let j = 1; j < argv.length; j++) {
    const v = c.db.lookupRead(argv[j]!);
    out[j - 1] = typeof v === 'string' ? v : null;
  }
  return out;
}

/** Redis msetGenericCommand: MSETNX sets nothing if any key exists. */
function msetGeneric(c: CommandContext, argv: readonly Bin[], nx: boolean): Reply {
  if (argv.length % 2 === 0) fail(wrongArity(nx ? 'msetnx' : 'mset'));
  if (nx) {
    for (let j = 1; j < argv.length; j += 2) {
      if (c.db.lookupWrite(argv[j]!) !== undefined) return 0;
    }
  }
  for (let j = 1; j < argv.length; j += 2) {
    c.db.lookupWrite(argv[j]!); // Redis setKey: lazily expire (and propagate) the old value
    c.db.setKey(argv[j]!, argv[j + 1]!);
  }
  c.dirty((argv.length - 1) / 2);
  return nx ? 1 : OK;
}

// ---- APPEND / STRLEN / SETRANGE / GETRANGE -----------------------------------------------------

/** Redis appendCommand: creates the key if missing, keeps the TTL otherwise. */
function appendCommand(c: CommandContext, argv: readonly Bin[]): Reply {
  const key = argv[1]!;
  const suffix = argv[2]!;
  const old = lookupStringWrite(c.db, key);
  let next: Bin;
  if (old === undefined) {
    next = suffix;
  } else {
    checkStringLength(old.length, suffix.length);
    next = old + suffix;
  }
  c.db.setKey(key, next, true);
  c.dirty();
  return next.length;
}

function strlenCommand(c: CommandContext, argv: readonly Bin[]): Reply {
  return getString(c.db, argv[1]!)?.length ?? 0;
}

/**
 * Redis setrangeCommand: overwrite from `offset`, zero-padding a shorter string. An empty value
 * changes nothing (and skips the size check); the TTL is kept.
 */
function setrangeCommand(c: CommandContext, argv: readonly Bin[]): Reply {
  const key = argv[1]!;
  const value = argv[3]!;
  const offset = argLongLongAsNumber(argv[2]!);
  if (offset < 0) fail('ERR offset is out of range');
  const old = lookupStringWrite(c.db, key);
  if (value.length === 0) return old?.length ?? 0;
  checkStringLength(offset, value.length);
  const base = old ?? '';
  let next: Bin;
  if (offset >= base.length) {
    next = base + '\0'.repeat(offset - base.length) + value;
  } else {
    next = base.slice(0, offset) + value + base.slice(offset + value.length);
  }
  c.db.setKey(key, next, true);
  c.dirty();
  return next.length;
}

/** A signed 64-bit argument as a number; values beyond ±2^53 only need to stay "huge". */
function argLongLongAsNumber(s: Bin): number {
  const small = parseSafeInt(s);
  return small !== null ? small : Number(argLongLong(s));
}

/** A signed 64-bit argument, as a number when exact, else as a bigint (ordering preserved). */
function argExactInt(s: Bin): number | bigint {
  const small = parseSafeInt(s);
  return small !== null ? small : argLongLong(s);
}

/** Redis getrangeCommand: inclusive, negative indexes from the end, clamped to the string. */
function getrangeCommand(c: CommandContext, argv: readonly Bin[]): Reply {
  const startArg = argExactInt(argv[2]!);
  const endArg = argExactInt(argv[3]!);
  const s = getString(c.db, argv[1]!);
  if (s === undefined) return '';
  // Compared exactly before clamping: two different huge negatives must still compare.
  if (startArg < 0 && endArg < 0 && startArg > endArg) return '';
  const len = s.length;
  let start = Number(startArg);
  let end = Number(endArg);
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len === 0) return '';
  return s.slice(start, end + 1);
}

// ---- INCR family -------------------------------------------------------------------------------

/**
 * Redis incrDecrCommand: the value must be a strict 64-bit decimal integer and the result must not
 * overflow. The TTL is kept. Plain JS numbers while the operands and result are safe integers
 * (the common, allocation-light case); bigint only beyond 2^53.
 */
function incrDecr(c: CommandContext, key: Bin, incr: number | bigint): Reply {
  const old = lookupStringWrite(c.db, key);
  let result: number | bigint;
  const small = old === undefined ? 0 : parseSafeInt(old);
  if (small !== null && typeof incr === 'number' && Number.isSafeInteger(small + incr)) {
    result = small + incr;
  } else {
    const value = old === undefined ? 0n : parseLongLong(old);
    if (value === null) fail(ERR.notInteger);
    const sum = value + BigInt(incr);
    if (sum > LLONG_MAX || sum < LLONG_MIN) fail(ERR.overflow);
    result =
      sum >= BigInt(Number.MIN_SAFE_INTEGER) && sum <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(sum)
        : sum;
  }
  c.db.setKey(key, String(result), true);
  c.dirty();
  return result;
}

function incrbyCommand(c: CommandContext, argv: readonly Bin[]): Reply {
  return incrDecr(c, argv[1]!, argExactInt(argv[2]!));
}

function decrbyCommand(c: CommandContext, argv: readonly Bin[]): Reply {
  const decr = argExactInt(argv[2]!);
  // Negating LLONG_MIN would overflow (Redis decrbyCommand).
  if (decr === LLONG_MIN) fail('ERR decrement would overflow');
  return incrDecr(c, argv[1]!, -decr);
}

/**
 * Redis incrbyfloatCommand: x87 long double arithmetic (see keyspace/long-double.ts). Always
 * propagated as `SET key <result> KEEPTTL`, so replicas and AOF replays store the very same text.
 */
function incrbyfloatCommand(c: CommandContext, argv: readonly Bin[]): Reply {
  const key = argv[1]!;
  const old = lookupStringWrite(c.db, key);
  const result = incrByFloatText(old ?? '0', argv[2]!);
  c.db.setKey(key, result, true);
  c.dirty();
  c.rewriteArgv(['SET', key, result, 'KEEPTTL']);
  return result;
}

// ---- Command table (arity, flags and key positions of Redis 7.0) --------------------------------

export const stringCommands: CommandSpec[] = [
  cmd('get', 2, ['readonly', 'fast'], ONE_KEY, getCommand),
  cmd('set', -3, ['write', 'denyoom'], ONE_KEY, setCommand),
  cmd('setnx', 3, ['write', 'denyoom', 'fast'], ONE_KEY, setnxCommand),
  cmd('setex', 4, ['write', 'denyoom'], ONE_KEY, setexCommand),
  cmd('psetex', 4, ['write', 'denyoom'], ONE_KEY, psetexCommand),
  cmd('getset', 3, ['write', 'denyoom', 'fast'], ONE_KEY, getsetCommand),
  cmd('getdel', 2, ['write', 'fast'], ONE_KEY, getdelCommand),
  cmd('getex', -2, ['write', 'fast'], ONE_KEY, getexCommand),
  cmd('mget', -2, ['readonly', 'fast'], [1, -1, 1], mgetCommand),
  cmd('mset', -3, ['write', 'denyoom'], [1, -1, 2], (c, argv) => msetGeneric(c, argv, false)),
  cmd('msetnx', -3, ['write', 'denyoom'], [1, -1, 2], (c, argv) => msetGeneric(c, argv, true)),
  cmd('append', 3, ['write', 'denyoom', 'fast'], ONE_KEY, appendCommand),
  cmd('strlen', 2, ['readonly', 'fast'], ONE_KEY, strlenCommand),
  cmd('incr', 2, ['write', 'denyoom', 'fast'], ONE_KEY, (c, argv) => incrDecr(c, argv[1]!, 1)),
  cmd('decr', 2, ['write', 'denyoom', 'fast'], ONE_KEY, (c, argv) => incrDecr(c, argv[1]!, -1)),
  cmd('incrby', 3, ['write', 'denyoom', 'fast'], ONE_KEY, incrbyCommand),
  cmd('decrby', 3, ['write', 'denyoom', 'fast'], ONE_KEY, decrbyCommand),
  cmd('incrbyfloat', 3, ['write', 'denyoom', 'fast'], ONE_KEY, incrbyfloatCommand),
  cmd('setrange', 4, ['write', 'denyoom'], ONE_KEY, setrangeCommand),
  cmd('getrange', 4, ['readonly'], ONE_KEY, getrangeCommand),
  cmd('substr', 4, ['readonly'], ONE_KEY, getrangeCommand),
];
