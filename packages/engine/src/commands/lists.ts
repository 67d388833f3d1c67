// List commands (Redis 7.0 t_list.c): LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET
// LREM LTRIM LINSERT LMOVE RPOPLPUSH LPOS LMPOP.
//
// Rules shared by every write here, as in Redis:
//   - arguments are validated before anything changes, in Redis's order (some commands look the
//     key up before parsing an index, e.g. LINDEX/LSET, so WRONGTYPE or "no such key" wins);
//   - a list that becomes empty is deleted (listElementsRemoved);
//   - server.dirty grows by the number of elements changed, and only a dirty command propagates;
//   - LMPOP propagates as `LPOP|RPOP key <popped>` (mpopGenericCommand); the others as typed.

import { parseLongLong, type Bin } from '../bytes.ts';
import { RList } from '../keyspace/list.ts';
import { ERR, NIL_ARRAY, OK, fail, wrongArity, type Reply } from '../reply.ts';
import { argInt, getList, isArg } from './args.ts';
import { argLongAtLeast } from './count-args.ts';
import { cmd, type CommandContext, type CommandSpec } from './types.ts';

const KEY1 = [1, 1, 1] as const;
const LLONG_MIN = -9223372036854775808n;
const RANK_ZERO =
  "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... " +
  'or use negative to start from the end of the list';

type End = 'head' | 'tail';

/** Redis getListPositionFromObjectOrReply: LEFT|RIGHT, case-insensitive. */
function parseEnd(s: Bin): End {
  if (isArg(s, 'left')) return 'head';
  if (isArg(s, 'right')) return 'tail';
  return fail(ERR.syntax);
}

function pushValue(list: RList, end: End, value: Bin): void {
  if (end === 'head') list.pushHead(value);
  else list.pushTail(value);
}

/** Redis listElementsRemoved: delete the key if now empty, signal WATCH, count the changes. */
function elementsRemoved(c: CommandContext, key: Bin, list: RList, count: number): void {
  if (list.length === 0) c.db.delete(key);
  c.db.signalModified(key);
  c.dirty(count);
}

/** Pop `count` (<= length) elements from one end, in pop order (Redis listPopRange reply order). */
function popMany(list: RList, end: End, count: number): Bin[] {
  const out =
    end === 'head' ? list.range(0, count) : list.range(list.length - count, list.length, true);
  if (end === 'head') list.trimHead(count);
  else list.trimTail(count);
  return out;
}

/** Redis addListRangeReply's index normalisation: [start, end) or null for an empty range. */
function normalizeRange(start: number, end: number, len: number): [number, number] | null {
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (start > end || start >= len) return null;
  if (end >= len) end = len - 1;
  return [start, end + 1];
}

// ---- LPUSH RPUSH LPUSHX RPUSHX (Redis pushGenericCommand) ---------------------------------------

function pushGeneric(
  c: CommandContext,
  argv: readonly Bin[],
  end: End,
  onlyIfExists: boolean,
): Reply {
  const key = argv[1]!;
  let list = getList(c.db, key);
  if (list === undefined) {
    if (onlyIfExists) return 0;
    list = new RList(argv.length - 2);
    c.db.add(key, list);
  }
  if (end === 'head') for (let i = 2; i < argv.length; i++) list.pushHead(argv[i]!);
  else for (let i = 2; i < argv.length; i++) list.pushTail(argv[i]!);
  c.db.signalModified(key);
  c.dirty(argv.length - 2);
  return list.length;
}

// ---- LPOP RPOP (Redis popGenericCommand) --------------------------------------------------------

function popGeneric(c: CommandContext, argv: readonly Bin[], end: End): Reply {
  if (argv.length > 3) fail(wrongArity(end === 'head' ? 'lpop' : 'rpop'));
  const hasCount = argv.length === 3;
  const count = hasCount ? argLongAtLeast(argv[2]!, 0, ERR.positive) : 0;
  const key = argv[1]!;
  const list = getList(c.db, key);
  // A missing key answers nil, or a nil array (*-1) when a count was given, even COUNT 0.
  if (list === undefined) return hasCount ? NIL_ARRAY : null;
  if (hasCount && count === 0) return [];
  if (!hasCount) {
    const value = end === 'head' ? list.popHead()! : list.popTail()!;
    elementsRemoved(c, key, list, 1);
    return value;
  }
  const popped = popMany(list, end, Math.min(count, list.length));
  elementsRemoved(c, key, list, popped.length);
  return popped;
}

// ---- Reads --------------------------------------------------------------------------------------

function llen(c: CommandContext, argv: readonly Bin[]): Reply {
  return getList(c.db, argv[1]!)?.length ?? 0;
}

function lrange(c: CommandContext, argv: readonly Bin[]): Reply {
  const start = argInt(argv[2]!);
  const end = argInt(argv[3]!);
  const list = getList(c.db, argv[1]!);
  if (list === undefined) return [];
  const range = normalizeRange(start, end, list.length);
  return range === null ? [] : list.range(range[0], range[1]);
}

/** Redis lindexCommand: the key is looked up before the index is parsed. */
function lindex(c: CommandContext, argv: readonly Bin[]): Reply {
  const list = getList(c.db, argv[1]!);
  if (list === undefined) return null;
  let index = argInt(argv[2]!);
  if (index < 0) index += list.length;
  return list.at(index) ?? null;
}

// ---- LSET LREM LTRIM LINSERT --------------------------------------------------------------------

/** Redis lsetCommand: "no such key" and WRONGTYPE come before the index is parsed. */
function lset(c: CommandContext, argv: readonly Bin[]): Reply {
  const key = argv[1]!;
  const list = getList(c.db, key);
  if (list === undefined) fail(ERR.noSuchKey);
  let index = argInt(argv[2]!);
  if (index < 0) index += list.length;
  if (!list.set(index, argv[3]!)) fail(ERR.outOfRange);
  c.db.signalModified(key);
  c.dirty();
  return OK;
}

/** Redis lremCommand: count > 0 from the head, < 0 from the tail, 0 = all occurrences. */
function lrem(c: CommandContext, argv: readonly Bin[]): Reply {
  const count = argInt(argv[2]!);
  const key = argv[1]!;
  const list = getList(c.db, key);
  if (list === undefined) return 0;
  const removed = list.removeMatching(argv[3]!, Math.abs(count), count < 0);
  if (removed > 0) {
    c.db.signalModified(key);
    c.dirty(removed);
  }
  if (list.length === 0) c.db.delete(key);
  return removed;
}

/** Redis ltrimCommand: WATCH is signalled even when nothing was trimmed; dirty counts removals. */
function ltrim(c: CommandContext, argv: readonly Bin[]): Reply {
  let start = argInt(argv[2]!);
  let end = argInt(argv[3]!);
  const key = argv[1]!;
  const list = getList(c.db, key);
  if (list === undefined) return OK;
  const len = list.length;
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  let ltrimCount: number;
  let rtrimCount: number;
  if (start > end || start >= len) {
    ltrimCount = len; // empty range: everything goes
    rtrimCount = 0;
  } else {
    if (end >= len) end = len - 1;
    ltrimCount = start;
    rtrimCount = len - end - 1;
  }
  list.trimHead(ltrimCount);
  list.trimTail(rtrimCount);
  if (list.length === 0) c.db.delete(key);
  c.db.signalModified(key);
  c.dirty(ltrimCount + rtrimCount);
  return OK;
}

/** Redis linsertCommand: BEFORE|AFTER is checked before the key; -1 when the pivot is absent. */
function linsert(c: CommandContext, argv: readonly Bin[]): Reply {
  let after: boolean;
  if (isArg(argv[2]!, 'after')) after = true;
  else if (isArg(argv[2]!, 'before')) after = false;
  else fail(ERR.syntax);
  const key = argv[1]!;
  const list = getList(c.db, key);
  if (list === undefined) return 0;
  const pivot = list.indexOf(argv[3]!);
  if (pivot === -1) return -1;
  list.insertAt(after ? pivot + 1 : pivot, argv[4]!);
  c.db.signalModified(key);
  c.dirty();
  return list.length;
}

// ---- LMOVE RPOPLPUSH (Redis lmoveGenericCommand) ------------------------------------------------

function lmoveGeneric(c: CommandContext, src: Bin, dst: Bin, from: End, to: End): Reply {
  const srcList = getList(c.db, src);
  if (srcList === undefined) return null;
  let dstList = getList(c.db, dst); // WRONGTYPE on the destination before anything moves
  const value = from === 'head' ? srcList.popHead()! : srcList.popTail()!;
  if (dstList === undefined) {
    dstList = new RList();
    c.db.add(dst, dstList);
  }
  pushValue(dstList, to, value);
  c.db.signalModified(dst);
  // Same key: the element was pushed back, so the list is never left empty here.
  if (srcList.length === 0) c.db.delete(src);
  c.db.signalModified(src);
  c.dirty();
  return value;
}

function lmove(c: CommandContext, argv: readonly Bin[]): Reply {
  const from = parseEnd(argv[3]!);
  const to = parseEnd(argv[4]!);
  return lmoveGeneric(c, argv[1]!, argv[2]!, from, to);
}

function rpoplpush(c: CommandContext, argv: readonly Bin[]): Reply {
  return lmoveGeneric(c, argv[1]!, argv[2]!, 'tail', 'head');
}

// ---- LPOS ---------------------------------------------------------------------------------------

interface LposOptions {
  /** 1-based match to start from; counted from the tail when fromTail. */
  rank: number;
  fromTail: boolean;
  /** -1 when COUNT was not given (single reply); 0 = all matches. */
  count: number;
  /** 0 = scan the whole list. */
  maxlen: number;
}

/** Redis lposCommand option parsing: a later RANK/COUNT/MAXLEN overrides an earlier one. */
function parseLposOptions(argv: readonly Bin[]): LposOptions {
  let rank = 1;
  let fromTail = false;
  let count = -1;
  let maxlen = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j]!;
    const hasValue = j + 1 < argv.length;
    if (hasValue && isArg(opt, 'rank')) {
      const v = parseLongLong(argv[++j]!);
      if (v === null) fail(ERR.notInteger);
      if (v === 0n) fail(RANK_ZERO);
      if (v === LLONG_MIN) {
        // Redis negates the rank in a C long: -LLONG_MIN overflows back to LLONG_MIN, and a
        // negative rank then accepts the very first match from the tail (like RANK -1).
        rank = 1;
        fromTail = true;
      } else {
        const abs = v < 0n ? -v : v;
        rank = abs > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(abs);
        fromTail = v < 0n;
      }
    } else if (hasValue && isArg(opt, 'count')) {
      count = argLongAtLeast(argv[++j]!, 0, "ERR COUNT can't be negative");
    } else if (hasValue && isArg(opt, 'maxlen')) {
      maxlen = argLongAtLeast(argv[++j]!, 0, "ERR MAXLEN can't be negative");
    } else {
      fail(ERR.syntax);
    }
  }
  return { rank, fromTail, count, maxlen };
}

/** Redis lposCommand: indexes are always head-based, as LINDEX would take them. */
function lpos(c: CommandContext, argv: readonly Bin[]): Reply {
  const { rank, fromTail, count, maxlen } = parseLposOptions(argv);
  const list = getList(c.db, argv[1]!);
  if (list === undefined) return count !== -1 ? [] : null;
  const element = argv[2]!;
  const len = list.length;
  const limit = maxlen === 0 ? len : Math.min(maxlen, len);
  const found: number[] = [];
  let matches = 0;
  for (let scanned = 0; scanned < limit; scanned++) {
    const index = fromTail ? len - 1 - scanned : scanned;
    if (list.at(index) !== element) continue;
    matches++;
    if (matches < rank) continue;
    if (count === -1) return index;
    found.push(index);
    if (count !== 0 && found.length >= count) break;
  }
  return count === -1 ? null : found;
}

// ---- LMPOP (Redis lmpopGenericCommand / mpopGenericCommand) -------------------------------------

function lmpop(c: CommandContext, argv: readonly Bin[]): Reply {
  const numkeys = argLongAtLeast(argv[1]!, 1, 'ERR numkeys should be greater than 0');
  const whereIdx = 2 + numkeys;
  if (whereIdx >= argv.length) fail(ERR.syntax);
  const end = parseEnd(argv[whereIdx]!);
  let count = -1;
  for (let j = whereIdx + 1; j < argv.length; j++) {
    if (count === -1 && j + 1 < argv.length && isArg(argv[j]!, 'count')) {
      count = argLongAtLeast(argv[++j]!, 1, 'ERR count should be greater than 0');
    } else {
      fail(ERR.syntax);
    }
  }
  if (count === -1) count = 1;
  for (let k = 2; k < whereIdx; k++) {
    const key = argv[k]!;
    const list = getList(c.db, key);
    if (list === undefined || list.length === 0) continue;
    const popped = popMany(list, end, Math.min(count, list.length));
    elementsRemoved(c, key, list, popped.length);
    // Replicate as [LR]POP key <count actually popped>.
    c.rewriteArgv([end === 'head' ? 'LPOP' : 'RPOP', key, String(popped.length)]);
    return [key, popped];
  }
  return NIL_ARRAY;
}

export const listCommands: CommandSpec[] = [
  cmd('lpush', -3, ['write', 'denyoom', 'fast'], KEY1, (c, argv) =>
    pushGeneric(c, argv, 'head', false),
  ),
  cmd('rpush', -3, ['write', 'denyoom', 'fast'], KEY1, (c, argv) =>
    pushGeneric(c, argv, 'tail', false),
  ),
  cmd('lpushx', -3, ['write', 'denyoom', 'fast'], KEY1, (c, argv) =>
    pushGeneric(c, argv, 'head', true),
  ),
  cmd('rpushx', -3, ['write', 'denyoom', 'fast'], KEY1, (c, argv) =>
    pushGeneric(c, argv, 'tail', true),
  ),
  cmd('lpop', -2, ['write', 'fast'], KEY1, (c, argv) => popGeneric(c, argv, 'head')),
  cmd('rpop', -2, ['write', 'fast'], KEY1, (c, argv) => popGeneric(c, argv, 'tail')),
  cmd('llen', 2, ['readonly', 'fast'], KEY1, llen),
  cmd('lrange', 4, ['readonly'], KEY1, lrange),
  cmd('lindex', 3, ['readonly'], KEY1, lindex),
  cmd('lset', 4, ['write', 'denyoom'], KEY1, lset),
  cmd('lrem', 4, ['write'], KEY1, lrem),
  cmd('ltrim', 4, ['write'], KEY1, ltrim),
  cmd('linsert', 5, ['write', 'denyoom'], KEY1, linsert),
  cmd('lmove', 5, ['write', 'denyoom'], [1, 2, 1], lmove),
  cmd('rpoplpush', 3, ['write', 'denyoom'], [1, 2, 1], rpoplpush),
  cmd('lpos', -3, ['readonly'], KEY1, lpos),
  cmd('lmpop', -4, ['write'], [0, 0, 0], lmpop),
];
