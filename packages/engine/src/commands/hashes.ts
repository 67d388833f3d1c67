// Hash commands (Redis 7.0 t_hash.c): HSET HSETNX HGET HMGET HMSET HDEL HEXISTS HLEN HKEYS HVALS
// HGETALL HINCRBY HINCRBYFLOAT HSTRLEN.
//
// Propagation, as in Redis: HSET/HMSET always count one change per pair (so they propagate even
// when every value was already there); HDEL counts what it deleted; HINCRBYFLOAT is rewritten to
// `HSET key field <new value>` so a replay never redoes float arithmetic.

import { LLONG_MAX, LLONG_MIN, parseLongLong, parseSafeInt, type Bin } from '../bytes.ts';
import { incrByFloatText, isFiniteLongDouble, parseLongDouble } from '../keyspace/long-double.ts';
import { RHash } from '../keyspace/values.ts';
import { ERR, OK, fail, wrongArity, type Reply } from '../reply.ts';
import { argLongLong, getHash, removeMembers } from './args.ts';
import { cmd, type CommandContext, type CommandSpec } from './types.ts';

const KEY1 = [1, 1, 1] as const;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

/** Store `value` under `field`, creating the hash if needed (Redis hashTypeLookupWriteOrCreate). */
function storeField(
  c: CommandContext,
  key: Bin,
  hash: RHash | undefined,
  field: Bin,
  value: Bin,
): void {
  if (hash === undefined) {
    hash = new RHash();
    c.db.add(key, hash);
  }
  hash.map.set(field, value);
  hash.noteStored(field, value);
  c.db.signalModified(key);
  c.dirty();
}

// ---- HSET HMSET HSETNX --------------------------------------------------------------------------

/** Redis hsetCommand; HMSET differs only in replying +OK. */
function hsetGeneric(c: CommandContext, argv: readonly Bin[], name: 'hset' | 'hmset'): Reply {
  if (argv.length % 2 === 1) fail(wrongArity(name));
  const key = argv[1]!;
  let hash = getHash(c.db, key);
  if (hash === undefined) {
    hash = new RHash();
    c.db.add(key, hash);
  }
  const map = hash.map;
  let created = 0;
  for (let i = 2; i < argv.length; i += 2) {
    const before = map.size;
    map.set(argv[i]!, argv[i + 1]!);
    hash.noteStored(argv[i]!, argv[i + 1]!);
    if (map.size !== before) created++;
  }
  c.db.signalModified(key);
  c.dirty((argv.length - 2) / 2);
  return name === 'hset' ? created : OK;
}

function hsetnx(c: CommandContext, argv: readonly Bin[]): Reply {
  const key = argv[1]!;
  const hash = getHash(c.db, key);
  if (hash?.map.has(argv[2]!)) return 0;
  storeField(c, key, hash, argv[2]!, argv[3]!);
  return 1;
}

// ---- Reads --------------------------------------------------------------------------------------

function hget(c: CommandContext, argv: readonly Bin[]): Reply {
  return getHash(c.db, argv[1]!)?.map.get(argv[2]!) ?? null;
}

/** Redis hmgetCommand: a missing key is an empty hash (all nils), a wrong type is an error. */
function hmget(c: CommandContext, argv: readonly Bin[]): Reply {
  const map = getHash(c.db, argv[1]!)?.map;
  const out = new Array<Reply>(argv.length - 2);
  for (let i = 2; i < argv.length; i++) out[i - 2] = map?.get(argv[i]!) ?? null;
  return out;
}

function hexists(c: CommandContext, argv: readonly Bin[]): Reply {
  return getHash(c.db, argv[1]!)?.map.has(argv[2]!) === true ? 1 : 0;
}

function hlen(c: CommandContext, argv: readonly Bin[]): Reply {
  return getHash(c.db, argv[1]!)?.map.size ?? 0;
}

function hstrlen(c: CommandContext, argv: readonly Bin[]): Reply {
  return getHash(c.db, argv[1]!)?.map.get(argv[2]!)?.length ?? 0;
}

/** Redis genericHgetallCommand: fields and/or values in the hash's iteration order. */
function hgetallGeneric(
  c: CommandContext,
  argv: readonly Bin[],
  keys: boolean,
  values: boolean,
): Reply {
  const map = getHash(c.db, argv[1]!)?.map;
  if (map === undefined) return [];
  const out = new Array<Bin>(map.size * (keys && values ? 2 : 1));
  let i = 0;
  for (const [field, value] of map) {
    if (keys) out[i++] = field;
    if (values) out[i++] = value;
  }
  return out;
}

// ---- HDEL ---------------------------------------------------------------------------------------

/** Redis hdelCommand: stops at the field that empties the hash, then deletes the key. */
function hdel(c: CommandContext, argv: readonly Bin[]): Reply {
  const key = argv[1]!;
  const hash = getHash(c.db, key);
  return hash === undefined ? 0 : removeMembers(c, key, hash.map, argv);
}

// ---- HINCRBY HINCRBYFLOAT -----------------------------------------------------------------------

/** Redis hincrbyCommand: 64-bit arithmetic; the stored value must be a strict integer. */
function hincrby(c: CommandContext, argv: readonly Bin[]): Reply {
  const incrText = argv[3]!;
  const incrSmall = parseSafeInt(incrText);
  const incrBig = incrSmall === null ? argLongLong(incrText) : null; // validates first, like Redis
  const key = argv[1]!;
  const field = argv[2]!;
  const hash = getHash(c.db, key);
  const current = hash?.map.get(field);
  let result: number | bigint;
  const curSmall = current === undefined ? 0 : parseSafeInt(current);
  if (curSmall !== null && incrSmall !== null && Number.isSafeInteger(curSmall + incrSmall)) {
    result = curSmall + incrSmall; // fast path: both operands and the sum fit a double exactly
  } else {
    const cur = current === undefined ? 0n : parseLongLong(current);
    if (cur === null) fail(ERR.hashNotInteger);
    const sum = cur + (incrBig ?? BigInt(incrSmall!));
    if (sum > LLONG_MAX || sum < LLONG_MIN) fail(ERR.overflow);
    result = sum <= MAX_SAFE && sum >= MIN_SAFE ? Number(sum) : sum;
  }
  storeField(c, key, hash, field, String(result));
  return result;
}

/**
 * Redis hincrbyfloatCommand. The arithmetic and formatting are the long-double emulation shared
 * with INCRBYFLOAT; only the order and texts of the errors differ: the increment is parsed before
 * the key is looked up and an infinite one is refused with "value is NaN or Infinity"; an
 * unparsable stored value is "hash value is not a float".
 */
function hincrbyfloat(c: CommandContext, argv: readonly Bin[]): Reply {
  const key = argv[1]!;
  const field = argv[2]!;
  const incr = argv[3]!;
  const parsed = parseLongDouble(incr);
  if (parsed === null) fail(ERR.notFloat);
  if (!isFiniteLongDouble(parsed)) fail('ERR value is NaN or Infinity');
  const hash = getHash(c.db, key);
  const next = incrByFloatText(hash?.map.get(field) ?? '0', incr, ERR.hashNotFloat);
  storeField(c, key, hash, field, next);
  c.rewriteArgv(['HSET', key, field, next]);
  return next;
}

export const hashCommands: CommandSpec[] = [
  cmd('hset', -4, ['write', 'denyoom', 'fast'], KEY1, (c, argv) => hsetGeneric(c, argv, 'hset')),
  cmd('hmset', -4, ['write', 'denyoom', 'fast'], KEY1, (c, argv) => hsetGeneric(c, argv, 'hmset')),
  cmd('hsetnx', 4, ['write', 'denyoom', 'fast'], KEY1, hsetnx),
  cmd('hget', 3, ['readonly', 'fast'], KEY1, hget),
  cmd('hmget', -3, ['readonly', 'fast'], KEY1, hmget),
  cmd('hdel', -3, ['write', 'fast'], KEY1, hdel),
  cmd('hexists', 3, ['readonly', 'fast'], KEY1, hexists),
  cmd('hlen', 2, ['readonly', 'fast'], KEY1, hlen),
  cmd('hstrlen', 3, ['readonly', 'fast'], KEY1, hstrlen),
  cmd('hkeys', 2, ['readonly'], KEY1, (c, argv) => hgetallGeneric(c, argv, true, false)),
  cmd('hvals', 2, ['readonly'], KEY1, (c, argv) => hgetallGeneric(c, argv, false, true)),
  cmd('hgetall', 2, ['readonly'], KEY1, (c, argv) => hgetallGeneric(c, argv, true, true)),
  cmd('hincrby', 4, ['write', 'denyoom', 'fast'], KEY1, hincrby),
  cmd('hincrbyfloat', 4, ['write', 'denyoom', 'fast'], KEY1, hincrbyfloat),
];
