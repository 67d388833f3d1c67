// Sorted-set commands (Redis 7.0 t_zset.c) with Redis's exact replies, error texts, argument
// validation order and propagation. Every handler validates all of its arguments before it touches
// the keyspace; writes signal WATCH (db.signalModified / db.setKey) and count c.dirty() only when
// data changed, so the dispatcher propagates the argv as typed exactly when Redis would. The one
// rewrite is ZMPOP → ZPOPMIN/ZPOPMAX key <count popped> (Redis genericZpopCommand).

import { formatDouble17g, parseLongLong, type Bin } from '../bytes.ts';
import {
  RZSet,
  ZSET_MAX_LISTPACK_VALUE,
  type LexBound,
  type LexRange,
  type ScoreRange,
  type ZVisitor,
} from '../keyspace/zset.ts';
import { ERR, NIL_ARRAY, fail, type Reply } from '../reply.ts';
import { argInt, getZSet, isArg, removeMembers } from './args.ts';
import { cmd, type CommandContext, type CommandSpec } from './types.ts';

const NAN_SCORE = 'ERR resulting score is not a number (NaN)';
const LONG_MAX = 9223372036854775807n;

// ---- number parsing (C strtod, as Redis uses it) ------------------------------------------------

/** Set by cStrtod: index just past the parsed number (the start when nothing was parsed). */
let strtodEnd = 0;
/** Set by cStrtod: the value overflowed to ±inf or underflowed to 0 (errno ERANGE). */
let strtodRange = false;

const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const hexValue = (c: number): number =>
  c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;

function matchWord(s: string, at: number, word: string): boolean {
  return s.slice(at, at + word.length).toLowerCase() === word;
}

/**
 * glibc strtod on s[start..]: skips leading white space, accepts a sign, decimal and hexadecimal
 * floats, "inf"/"infinity" and "nan"/"nan(...)" in any case. Returns the value (0 when nothing was
 * parsed) and leaves the end index in strtodEnd, the ERANGE flag in strtodRange.
 */
function cStrtod(s: string, start: number): number {
  strtodRange = false;
  strtodEnd = start;
  let i = start;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  let sign = 1;
  const c0 = s.charCodeAt(i);
  if (c0 === 43 || c0 === 45) {
    if (c0 === 45) sign = -1;
    i++;
  }
  if (matchWord(s, i, 'inf')) {
    strtodEnd = matchWord(s, i, 'infinity') ? i + 8 : i + 3;
    return sign * Infinity;
  }
  if (matchWord(s, i, 'nan')) {
    let end = i + 3;
    if (s.charCodeAt(end) === 40) {
      const close = s.indexOf(')', end);
      if (close !== -1 && /^[0-9A-Za-z_]*$/.test(s.slice(end + 1, close))) end = close + 1;
    }
    strtodEnd = end;
    return NaN;
  }
  if (s.charCodeAt(i) === 48 && (s.charCodeAt(i + 1) | 32) === 120) {
    const hex = parseHexFloat(s, i + 2);
    if (hex !== null) return sign * hex;
  }
  return sign * parseDecimal(s, i);
}

/** Decimal part of cStrtod: digits [. digits] [e [sign] digits], at least one mantissa digit. */
function parseDecimal(s: string, i: number): number {
  const begin = i;
  let digits = 0;
  let nonZero = false;
  while (isDigit(s.charCodeAt(i))) {
    if (s.charCodeAt(i) !== 48) nonZero = true;
    i++;
    digits++;
  }
  if (s.charCodeAt(i) === 46) {
    i++;
    while (isDigit(s.charCodeAt(i))) {
      if (s.charCodeAt(i) !== 48) nonZero = true;
      i++;
      digits++;
    }
  }
  if (digits === 0) return 0; // no conversion: strtodEnd stays at the start
  if ((s.charCodeAt(i) | 32) === 101) {
    let j = i + 1;
    const sc = s.charCodeAt(j);
    if (sc === 43 || sc === 45) j++;
    if (isDigit(s.charCodeAt(j))) {
      while (isDigit(s.charCodeAt(j))) j++;
      i = j;
    }
  }
  strtodEnd = i;
  const v = Number(s.slice(begin, i));
  strtodRange = v === Infinity || (v === 0 && nonZero);
  return v;
}

/**
 * Hex float after "0x": hex digits [. hex digits] [p [sign] digits]. Null when no digit follows.
 */
function parseHexFloat(s: string, i: number): number | null {
  let mant = 0n;
  let exp = 0;
  let digits = 0;
  let d: number;
  while ((d = hexValue(s.charCodeAt(i))) >= 0) {
    mant = mant * 16n + BigInt(d);
    i++;
    digits++;
  }
  if (s.charCodeAt(i) === 46) {
    i++;
    while ((d = hexValue(s.charCodeAt(i))) >= 0) {
      mant = mant * 16n + BigInt(d);
      exp -= 4;
      i++;
      digits++;
    }
  }
  if (digits === 0) return null; // "0x" alone: strtod reads the "0"
  if ((s.charCodeAt(i) | 32) === 112) {
    let j = i + 1;
    let esign = 1;
    const sc = s.charCodeAt(j);
    if (sc === 43 || sc === 45) {
      if (sc === 45) esign = -1;
      j++;
    }
    if (isDigit(s.charCodeAt(j))) {
      let e = 0;
      while (isDigit(s.charCodeAt(j))) {
        e = Math.min(e * 10 + s.charCodeAt(j) - 48, 1e7);
        j++;
      }
      exp += esign * e;
      i = j;
    }
  }
  strtodEnd = i;
  if (mant === 0n) return 0;
  // Keep 64 significant bits (plus a sticky bit) so Number() rounds once, then scale by 2^exp.
  const bits = mant.toString(2).length;
  if (bits > 64) {
    const drop = BigInt(bits - 64);
    const sticky = mant & ((1n << drop) - 1n) ? 1n : 0n;
    mant = (mant >> drop) | sticky;
    exp += bits - 64;
  }
  let v = Number(mant);
  while (exp > 0 && v !== Infinity) {
    const step = Math.min(exp, 1000);
    v *= 2 ** step;
    exp -= step;
  }
  while (exp < 0 && v !== 0) {
    const step = Math.max(exp, -1000);
    v *= 2 ** step;
    exp -= step;
  }
  strtodRange = v === Infinity || v === 0;
  return v;
}

/**
 * Redis getDoubleFromObject → string2d: the whole string is one float, no leading space, no
 * overflow to ±inf nor underflow to 0 (ERANGE), not NaN. Hex floats are accepted ("0x10" = 16).
 */
export function parseZScore(s: Bin): number | null {
  if (s.length === 0 || isSpace(s.charCodeAt(0))) return null;
  const v = cStrtod(s, 0);
  if (strtodEnd !== s.length || Number.isNaN(v)) return null;
  if (strtodRange && (v === 0 || !Number.isFinite(v))) return null;
  return v;
}

function argScore(s: Bin, message: string = ERR.notFloat): number {
  const v = parseZScore(s);
  if (v === null) fail(message);
  return v;
}

/** C string view: Redis parses range items with C functions, which stop at the first NUL byte. */
function cString(s: Bin): Bin {
  const nul = s.indexOf('\0');
  return nul === -1 ? s : s.slice(0, nul);
}

/** One bound of zslParseRange: "(" makes it exclusive; plain strtod, so "" is 0 and " 1" is 1. */
function parseScoreBound(arg: Bin): { value: number; ex: boolean } | null {
  const s = cString(arg);
  const ex = s.charCodeAt(0) === 40;
  const v = cStrtod(s, ex ? 1 : 0);
  if (strtodEnd !== s.length || Number.isNaN(v)) return null;
  return { value: v, ex };
}

/** Redis zslParseRange. */
function parseScoreRange(minArg: Bin, maxArg: Bin): ScoreRange {
  const min = parseScoreBound(minArg);
  const max = min === null ? null : parseScoreBound(maxArg);
  if (min === null || max === null) fail(ERR.minMaxNotFloat);
  return { min: min.value, minex: min.ex, max: max.value, maxex: max.ex };
}

/** Redis zslParseLexRangeItem: "+", "-", "[x" or "(x". */
function parseLexBound(s: Bin): LexBound | null {
  const c = s.charCodeAt(0);
  if (c === 43 || c === 45) {
    if (s.length > 1 && s.charCodeAt(1) !== 0) return null; // C string: "+\0..." is "+"
    return { kind: c === 43 ? 1 : -1, value: '', ex: true };
  }
  if (c === 40 || c === 91) return { kind: 0, value: s.slice(1), ex: c === 40 };
  return null;
}

/** Redis zslParseLexRange. */
function parseLexRange(minArg: Bin, maxArg: Bin): LexRange {
  const min = parseLexBound(minArg);
  const max = min === null ? null : parseLexBound(maxArg);
  if (min === null || max === null) fail(ERR.minMaxLex);
  return { min, max };
}

/**
 * Redis getRangeLongFromObjectOrReply(min, LONG_MAX, msg): msg for non-integers too. Clamped to
 * 2^53.
 */
function argLongAtLeast(s: Bin, min: number, message: string): number {
  const v = parseLongLong(s);
  if (v === null || v < BigInt(min)) fail(message);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

// ---- score replies ("%.17g") --------------------------------------------------------------------

// ---- shared helpers -----------------------------------------------------------------------------

/** Delete a key whose sorted set became empty (Redis never keeps empty collections). */
function deleteIfEmpty(c: CommandContext, key: Bin, z: RZSet): void {
  if (z.size === 0) c.db.delete(key);
}

/**
 * Store a computed set in `dst` (Redis zrangeResultFinalizeStore / the dstkey branch of
 * zunionInterDiffGenericCommand): setKey when non-empty, else delete the destination. Either way
 * one dirty when something changed, so the command is propagated as typed.
 */
function storeResult(c: CommandContext, dstKey: Bin, result: RZSet): number {
  if (result.size > 0) {
    c.db.lookupWrite(dstKey); // genericSetKey looks the key up first: an expired one is deleted
    c.db.setKey(dstKey, result);
    c.dirty();
  } else if (c.db.delete(dstKey)) {
    c.db.signalModified(dstKey);
    c.dirty();
  }
  return result.size;
}

function replyCollector(out: Reply[], withScores: boolean): ZVisitor {
  return withScores
    ? (member, score) => {
        out.push(member, formatDouble17g(score));
      }
    : (member) => {
        out.push(member);
      };
}

function storeCollector(dst: RZSet): ZVisitor {
  return (member, score) => {
    dst.add(member, score);
  };
}

// ---- ZADD / ZINCRBY -----------------------------------------------------------------------------

interface ZAddFlags {
  nx: boolean;
  xx: boolean;
  gt: boolean;
  lt: boolean;
  ch: boolean;
  incr: boolean;
}

/** Option words of ZADD; returns the index of the first score (Redis zaddGenericCommand). */
function parseZAddFlags(argv: readonly Bin[], f: ZAddFlags): number {
  let i = 2;
  for (; i < argv.length; i++) {
    const o = argv[i]!;
    if (isArg(o, 'nx')) f.nx = true;
    else if (isArg(o, 'xx')) f.xx = true;
    else if (isArg(o, 'gt')) f.gt = true;
    else if (isArg(o, 'lt')) f.lt = true;
    else if (isArg(o, 'ch')) f.ch = true;
    else if (isArg(o, 'incr')) f.incr = true;
    else break;
  }
  return i;
}

/** Redis zaddGenericCommand's checks, in its order: pairs, XX+NX, GT/LT/NX, INCR with one pair. */
function checkZAddArgs(argv: readonly Bin[], scoreIdx: number, f: ZAddFlags): number[] {
  const elements = argv.length - scoreIdx;
  if (elements === 0 || elements % 2 !== 0) fail(ERR.syntax);
  if (f.xx && f.nx) fail('ERR XX and NX options at the same time are not compatible');
  if ((f.gt && f.nx) || (f.lt && f.nx) || (f.gt && f.lt)) {
    fail('ERR GT, LT, and/or NX options at the same time are not compatible');
  }
  if (f.incr && elements > 2) fail('ERR INCR option supports a single increment-element pair');
  const scores: number[] = [];
  for (let j = scoreIdx; j < argv.length; j += 2) scores.push(argScore(argv[j]!));
  return scores;
}

function zaddGeneric(
  c: CommandContext,
  argv: readonly Bin[],
  f: ZAddFlags,
  scoreIdx: number,
): Reply {
  const scores = checkZAddArgs(argv, scoreIdx, f);
  const key = argv[1]!;
  let z = getZSet(c.db, key);
  let added = 0;
  let updated = 0;
  let processed = 0;
  let last = 0;
  if (z === undefined && !f.xx) {
    // Redis 7.0 picks the encoding from the first member only; later ones may convert it.
    z = new RZSet(argv[scoreIdx + 1]!.length <= ZSET_MAX_LISTPACK_VALUE);
    c.db.add(key, z);
  }
  if (z !== undefined) {
    for (let j = 0; j < scores.length; j++) {
      const member = argv[scoreIdx + 1 + j * 2]!;
      const cur = z.score(member);
      let score = scores[j]!;
      if (cur === undefined) {
        if (f.xx) continue; // Redis zsetAdd: XX never adds
        z.add(member, score);
        added++;
      } else {
        if (f.nx) continue;
        if (f.incr) {
          score += cur;
          if (Number.isNaN(score)) fail(NAN_SCORE); // single pair: nothing was changed yet
        }
        if ((f.lt && score >= cur) || (f.gt && score <= cur)) continue;
        if (score !== cur) {
          z.add(member, score);
          updated++;
        }
      }
      processed++;
      last = score; // the reply shows the computed score, even if a listpack stores -0 as 0
    }
  }
  if (added + updated > 0) {
    c.db.signalModified(key);
    c.dirty(added + updated);
  }
  if (f.incr) return processed > 0 ? formatDouble17g(last) : null;
  return f.ch ? added + updated : added;
}

function zadd(c: CommandContext, argv: readonly Bin[]): Reply {
  const f: ZAddFlags = { nx: false, xx: false, gt: false, lt: false, ch: false, incr: false };
  return zaddGeneric(c, argv, f, parseZAddFlags(argv, f));
}

function zincrby(c: CommandContext, argv: readonly Bin[]): Reply {
  const f: ZAddFlags = { nx: false, xx: false, gt: false, lt: false, ch: false, incr: true };
  return zaddGeneric(c, argv, f, 2);
}

// ---- simple reads and ZREM ----------------------------------------------------------------------

function zrem(c: CommandContext, argv: readonly Bin[]): Reply {
  const key = argv[1]!;
  const z = getZSet(c.db, key);
  return z === undefined ? 0 : removeMembers(c, key, z, argv);
}

function zscore(c: CommandContext, argv: readonly Bin[]): Reply {
  const score = getZSet(c.db, argv[1]!)?.score(argv[2]!);
  return score === undefined ? null : formatDouble17g(score);
}

function zmscore(c: CommandContext, argv: readonly Bin[]): Reply {
  const z = getZSet(c.db, argv[1]!);
  const out: Reply[] = [];
  for (let j = 2; j < argv.length; j++) {
    const score = z?.score(argv[j]!);
    out.push(score === undefined ? null : formatDouble17g(score));
  }
  return out;
}

function zcard(c: CommandContext, argv: readonly Bin[]): Reply {
  return getZSet(c.db, argv[1]!)?.size ?? 0;
}

function zrankGeneric(c: CommandContext, argv: readonly Bin[], reverse: boolean): Reply {
  const z = getZSet(c.db, argv[1]!);
  if (z === undefined) return null;
  const rank = z.rank(argv[2]!, reverse);
  return rank < 0 ? null : rank;
}

function zcount(c: CommandContext, argv: readonly Bin[]): Reply {
  const range = parseScoreRange(argv[2]!, argv[3]!);
  return getZSet(c.db, argv[1]!)?.countInScoreRange(range) ?? 0;
}

function zlexcount(c: CommandContext, argv: readonly Bin[]): Reply {
  const range = parseLexRange(argv[2]!, argv[3]!);
  return getZSet(c.db, argv[1]!)?.countInLexRange(range) ?? 0;
}

// ---- ZRANGE family ------------------------------------------------------------------------------

type RangeKind = 'auto' | 'rank' | 'score' | 'lex';
type Direction = 'auto' | 'forward' | 'reverse';

/** Redis genericZrangebyrankCommand: clamp the indexes like LRANGE, then walk. */
function visitRankRange(
  z: RZSet,
  start: number,
  end: number,
  reverse: boolean,
  fn: ZVisitor,
): void {
  const n = z.size;
  if (start < 0) start += n;
  if (end < 0) end += n;
  if (start < 0) start = 0;
  if (start > end || start >= n) return;
  if (end >= n) end = n - 1;
  const count = end - start + 1;
  if (reverse) z.visit(n - 1 - start, count, true, fn);
  else z.visit(start, count, false, fn);
}

interface RangeRequest {
  kind: RangeKind;
  dir: Direction;
  withScores: boolean;
  offset: number;
  limit: number;
}

/** Step 1 of Redis zrangeGenericCommand: the optional words after <key> <min> <max>. */
function parseRangeOptions(
  argv: readonly Bin[],
  argStart: number,
  store: boolean,
  r: RangeRequest,
): void {
  for (let j = argStart + 3; j < argv.length; j++) {
    const a = argv[j]!;
    const left = argv.length - j - 1;
    if (!store && isArg(a, 'withscores')) r.withScores = true;
    else if (isArg(a, 'limit') && left >= 2) {
      r.offset = argInt(argv[j + 1]!);
      r.limit = argInt(argv[j + 2]!);
      j += 2;
    } else if (r.dir === 'auto' && isArg(a, 'rev')) r.dir = 'reverse';
    else if (r.kind === 'auto' && isArg(a, 'bylex')) r.kind = 'lex';
    else if (r.kind === 'auto' && isArg(a, 'byscore')) r.kind = 'score';
    else fail(ERR.syntax);
  }
  if (r.dir === 'auto') r.dir = 'forward';
  if (r.kind === 'auto') r.kind = 'rank';
  if (r.limit !== -1 && r.kind === 'rank') {
    fail('ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX');
  }
  if (r.withScores && r.kind === 'lex') {
    fail('ERR syntax error, WITHSCORES not supported in combination with BYLEX');
  }
}

/**
 * Redis zrangeGenericCommand, shared by ZRANGE, ZRANGESTORE, ZREVRANGE, Z[REV]RANGEBYSCORE and
 * Z[REV]RANGEBYLEX. `dstKey` selects the store variant.
 */
function zrangeGeneric(
  c: CommandContext,
  argv: readonly Bin[],
  argStart: number,
  dstKey: Bin | null,
  kind: RangeKind,
  dir: Direction,
): Reply {
  const r: RangeRequest = { kind, dir, withScores: false, offset: 0, limit: -1 };
  parseRangeOptions(argv, argStart, dstKey !== null, r);
  const reverse = r.dir === 'reverse';
  // In reverse score/lex ranges the bounds are given as <max> <min>.
  const swap = reverse && r.kind !== 'rank';
  const minArg = argv[argStart + (swap ? 2 : 1)]!;
  const maxArg = argv[argStart + (swap ? 1 : 2)]!;
  let start = 0;
  let end = 0;
  let scoreRange: ScoreRange | null = null;
  let lexRange: LexRange | null = null;
  if (r.kind === 'rank') {
    start = argInt(minArg);
    end = argInt(maxArg);
  } else if (r.kind === 'score') {
    scoreRange = parseScoreRange(minArg, maxArg);
  } else {
    lexRange = parseLexRange(minArg, maxArg);
  }

  const z = getZSet(c.db, argv[argStart]!);
  const out: Reply[] = [];
  const dst = dstKey === null ? null : new RZSet(); // Redis creates the destination as a listpack
  const fn = dst === null ? replyCollector(out, r.withScores) : storeCollector(dst);
  if (z !== undefined) {
    if (scoreRange !== null) {
      z.visitScoreRange(scoreRange, r.offset, r.limit, reverse, fn);
    } else if (lexRange !== null) {
      z.visitLexRange(lexRange, r.offset, r.limit, reverse, fn);
    } else {
      visitRankRange(z, start, end, reverse, fn);
    }
  }
  if (dstKey !== null && dst !== null) return storeResult(c, dstKey, dst);
  return out;
}

// ---- ZREMRANGEBY* -------------------------------------------------------------------------------

/** Redis zremrangeGenericCommand: parse the range, then look the key up, then delete by rank. */
function zremrangeGeneric(
  c: CommandContext,
  argv: readonly Bin[],
  kind: 'rank' | 'score' | 'lex',
): Reply {
  const key = argv[1]!;
  let start = 0;
  let end = 0;
  let scoreRange: ScoreRange | null = null;
  let lexRange: LexRange | null = null;
  if (kind === 'rank') {
    start = argInt(argv[2]!);
    end = argInt(argv[3]!);
  } else if (kind === 'score') {
    scoreRange = parseScoreRange(argv[2]!, argv[3]!);
  } else {
    lexRange = parseLexRange(argv[2]!, argv[3]!);
  }
  const z = getZSet(c.db, key);
  if (z === undefined) return 0;
  let deleted: number;
  if (scoreRange !== null) {
    deleted = z.deleteScoreRange(scoreRange);
  } else if (lexRange !== null) {
    deleted = z.deleteLexRange(lexRange);
  } else {
    const n = z.size;
    if (start < 0) start += n;
    if (end < 0) end += n;
    if (start < 0) start = 0;
    if (start > end || start >= n) return 0;
    deleted = z.deleteRankRange(start, Math.min(end, n - 1) + 1);
  }
  if (deleted > 0) {
    deleteIfEmpty(c, key, z);
    c.db.signalModified(key);
    c.dirty(deleted);
  }
  return deleted;
}

// ---- ZPOPMIN / ZPOPMAX / ZMPOP ------------------------------------------------------------------

/**
 * Redis genericZpopCommand: pop from the first non-empty key of `keys` (type-checking each one
 * looked at). `count` -1 means the single-element form. ZMPOP's nested reply names the key and is
 * rewritten for propagation as ZPOPMIN/ZPOPMAX key <count popped>.
 */
function genericZpop(
  c: CommandContext,
  keys: readonly Bin[],
  max: boolean,
  count: number,
  zmpop: boolean,
): Reply {
  let key: Bin | null = null;
  let z: RZSet | undefined;
  for (const k of keys) {
    z = getZSet(c.db, k);
    if (z !== undefined) {
      key = k;
      break;
    }
  }
  if (z === undefined || key === null) return zmpop ? NIL_ARRAY : [];
  if (count === 0) return [];
  const n = Math.min(count === -1 ? 1 : count, z.size);
  const items: Reply[] = [];
  for (let k = 0; k < n; k++) {
    const e = (max ? z.popMax() : z.popMin())!;
    if (zmpop) items.push([e.member, formatDouble17g(e.score)]);
    else items.push(e.member, formatDouble17g(e.score));
  }
  deleteIfEmpty(c, key, z);
  c.db.signalModified(key);
  c.dirty(n);
  if (!zmpop) return items;
  c.rewriteArgv([max ? 'ZPOPMAX' : 'ZPOPMIN', key, String(n)]);
  return [key, items];
}

function zpopMinMax(c: CommandContext, argv: readonly Bin[], max: boolean): Reply {
  if (argv.length > 3) fail(ERR.syntax);
  const count = argv.length === 3 ? argLongAtLeast(argv[2]!, 0, ERR.positive) : -1;
  return genericZpop(c, [argv[1]!], max, count, false);
}

/** Redis zmpopGenericCommand: ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]. */
function zmpop(c: CommandContext, argv: readonly Bin[]): Reply {
  const numkeys = parseLongLong(argv[1]!);
  if (numkeys === null || numkeys < 1n) fail('ERR numkeys should be greater than 0');
  const whereIdx = 2n + numkeys;
  if (whereIdx >= BigInt(argv.length)) fail(ERR.syntax);
  const where = argv[Number(whereIdx)]!;
  let max: boolean;
  if (isArg(where, 'min')) max = false;
  else if (isArg(where, 'max')) max = true;
  else fail(ERR.syntax);
  let count = -1;
  for (let j = Number(whereIdx) + 1; j < argv.length; j++) {
    if (count === -1 && isArg(argv[j]!, 'count') && j + 1 < argv.length) {
      count = argLongAtLeast(argv[++j]!, 1, 'ERR count should be greater than 0');
    } else {
      fail(ERR.syntax);
    }
  }
  if (count === -1) count = 1;
  return genericZpop(c, argv.slice(2, Number(whereIdx)), max, count, true);
}

// ---- ZUNION / ZINTER / ZDIFF [STORE], ZINTERCARD ------------------------------------------------

type SetOp = 'union' | 'inter' | 'diff';
type Aggregate = 'sum' | 'min' | 'max';

/**
 * An input of a set operation (Redis zsetopsrc): a sorted set, a plain set (score 1) or nothing.
 */
interface OpSource {
  z: RZSet | undefined;
  s: ReadonlySet<Bin> | undefined;
  weight: number;
}

function sourceSize(src: OpSource): number {
  return src.z?.size ?? src.s?.size ?? 0;
}

/** Redis zuiFind: the member's score in this input (1 for a set member), or undefined. */
function sourceScore(src: OpSource, member: Bin): number | undefined {
  if (src.z !== undefined) return src.z.score(member);
  return src.s?.has(member) === true ? 1 : undefined;
}

function sourceForEach(src: OpSource, fn: ZVisitor): void {
  if (src.z !== undefined) src.z.forEach(fn);
  else if (src.s !== undefined) for (const m of src.s) fn(m, 1);
}

/** Redis zunionInterAggregate: SUM turns inf + -inf into 0. */
function aggregate(target: number, value: number, how: Aggregate): number {
  if (how === 'sum') {
    const sum = target + value;
    return Number.isNaN(sum) ? 0 : sum;
  }
  if (how === 'min') return Math.min(value, target);
  return Math.max(value, target);
}

interface SetOpOptions {
  aggregate: Aggregate;
  withScores: boolean;
  limit: number;
}

/** Look the inputs up (WRONGTYPE for anything but a set or sorted set) before parsing options. */
function lookupSources(
  c: CommandContext,
  argv: readonly Bin[],
  first: number,
  count: number,
): OpSource[] {
  const sources: OpSource[] = [];
  for (let i = 0; i < count; i++) {
    const v = c.db.lookupRead(argv[first + i]!);
    const src: OpSource = { z: undefined, s: undefined, weight: 1 };
    if (v !== undefined) {
      if (typeof v === 'string' || (v.type !== 'zset' && v.type !== 'set')) fail(ERR.wrongType);
      if (v.type === 'zset') src.z = v;
      else src.s = v.members;
    }
    sources.push(src);
  }
  return sources;
}

/** The optional words of zunionInterDiffGenericCommand: WEIGHTS, AGGREGATE, WITHSCORES, LIMIT. */
function parseSetOpOptions(
  argv: readonly Bin[],
  j: number,
  sources: OpSource[],
  op: SetOp,
  store: boolean,
  cardOnly: boolean,
): SetOpOptions {
  const o: SetOpOptions = { aggregate: 'sum', withScores: false, limit: 0 };
  while (j < argv.length) {
    const a = argv[j]!;
    const remaining = argv.length - j;
    if (op !== 'diff' && !cardOnly && remaining >= sources.length + 1 && isArg(a, 'weights')) {
      j++;
      for (const src of sources)
        src.weight = argScore(argv[j++]!, 'ERR weight value is not a float');
    } else if (op !== 'diff' && !cardOnly && remaining >= 2 && isArg(a, 'aggregate')) {
      const how = argv[j + 1]!;
      if (isArg(how, 'sum')) o.aggregate = 'sum';
      else if (isArg(how, 'min')) o.aggregate = 'min';
      else if (isArg(how, 'max')) o.aggregate = 'max';
      else fail(ERR.syntax);
      j += 2;
    } else if (!store && !cardOnly && isArg(a, 'withscores')) {
      o.withScores = true;
      j++;
    } else if (cardOnly && remaining >= 2 && isArg(a, 'limit')) {
      o.limit = argLongAtLeast(argv[j + 1]!, 0, "ERR LIMIT can't be negative");
      j += 2;
    } else {
      fail(ERR.syntax);
    }
  }
  return o;
}

/** Intersection over sources sorted by size; `onMatch` gets each member present in all of them. */
function intersect(
  sources: readonly OpSource[],
  how: Aggregate,
  onMatch: (member: Bin, score: number) => boolean,
): void {
  const first = sources[0]!;
  if (sourceSize(first) === 0) return;
  let stopped = false;
  sourceForEach(first, (member, s) => {
    if (stopped) return;
    let score = first.weight * s;
    if (Number.isNaN(score)) score = 0;
    for (let j = 1; j < sources.length; j++) {
      const other = sourceScore(sources[j]!, member);
      if (other === undefined) return;
      score = aggregate(score, other * sources[j]!.weight, how);
    }
    if (!onMatch(member, score)) stopped = true;
  });
}

function union(sources: readonly OpSource[], how: Aggregate, dst: RZSet): void {
  const acc = new Map<Bin, number>();
  for (const src of sources) {
    sourceForEach(src, (member, s) => {
      let score = src.weight * s;
      if (Number.isNaN(score)) score = 0;
      const prev = acc.get(member);
      acc.set(member, prev === undefined ? score : aggregate(prev, score, how));
    });
  }
  for (const [member, score] of acc) dst.add(member, score);
}

/** Redis zdiff: members of the first input found in no other, with their unweighted score. */
function difference(sources: readonly OpSource[], dst: RZSet): void {
  sourceForEach(sources[0]!, (member, score) => {
    for (let j = 1; j < sources.length; j++)
      if (sourceScore(sources[j]!, member) !== undefined) return;
    dst.add(member, score);
  });
}

/**
 * Redis zunionInterDiffGenericCommand: ZUNION/ZINTER/ZDIFF, their STORE forms and ZINTERCARD.
 * `name` is the command's full name for the numkeys error.
 */
function zsetOp(
  c: CommandContext,
  argv: readonly Bin[],
  name: string,
  dstKey: Bin | null,
  numkeysIdx: number,
  op: SetOp,
  cardOnly = false,
): Reply {
  const setnum = argInt(argv[numkeysIdx]!);
  if (setnum < 1) fail(`ERR at least 1 input key is needed for '${name}' command`);
  if (setnum > argv.length - (numkeysIdx + 1)) fail(ERR.syntax);
  const sources = lookupSources(c, argv, numkeysIdx + 1, setnum);
  const o = parseSetOpOptions(
    argv,
    numkeysIdx + 1 + setnum,
    sources,
    op,
    dstKey !== null,
    cardOnly,
  );
  // Smallest input first (Redis qsort by cardinality; a stable sort like glibc's merge sort).
  if (op !== 'diff') sources.sort((a, b) => sourceSize(a) - sourceSize(b));

  if (cardOnly) {
    let cardinality = 0;
    intersect(sources, o.aggregate, () => ++cardinality !== o.limit);
    return cardinality;
  }
  const result = new RZSet(false); // built as a skiplist, maybe converted when stored
  if (op === 'inter') {
    intersect(sources, o.aggregate, (member, score) => {
      result.add(member, score);
      return true;
    });
  } else if (op === 'union') {
    union(sources, o.aggregate, result);
  } else {
    difference(sources, result);
  }
  if (dstKey !== null) {
    result.convertToListpackIfFits();
    return storeResult(c, dstKey, result);
  }
  const out: Reply[] = [];
  result.forEach(replyCollector(out, o.withScores));
  return out;
}

// ---- ZRANDMEMBER --------------------------------------------------------------------------------

/** Distinct random ranks: partial Fisher-Yates when many are wanted, else rejection sampling. */
function randomDistinctRanks(c: CommandContext, size: number, count: number): number[] {
  const rnd = (n: number): number => Math.floor(c.server.random() * n);
  if (count * 3 > size) {
    const ranks = Array.from({ length: size }, (_, i) => i);
    for (let i = 0; i < count; i++) {
      const j = i + rnd(size - i);
      const t = ranks[i]!;
      ranks[i] = ranks[j]!;
      ranks[j] = t;
    }
    ranks.length = count;
    return ranks;
  }
  const picked = new Set<number>();
  while (picked.size < count) picked.add(rnd(size));
  return [...picked];
}

/**
 * The most elements one reply may hold here (Redis would try to build any size and run out of
 * memory).
 */
const MAX_RANDOM_REPLY = 2 ** 31 - 1;

/** Redis zrandmemberCommand / zrandmemberWithCountCommand. Replies in random order. */
function zrandmember(c: CommandContext, argv: readonly Bin[]): Reply {
  if (argv.length < 3) {
    const z = getZSet(c.db, argv[1]!);
    if (z === undefined) return null;
    return z.at(Math.floor(c.server.random() * z.size))!.member;
  }
  const l = parseLongLong(argv[2]!);
  if (l === null) fail(ERR.notInteger);
  if (l < -LONG_MAX) {
    fail(
      'ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807',
    );
  }
  if (argv.length > 4 || (argv.length === 4 && !isArg(argv[3]!, 'withscores'))) fail(ERR.syntax);
  const withScores = argv.length === 4;
  if (withScores && (l < -LONG_MAX / 2n || l > LONG_MAX / 2n)) fail('ERR value is out of range');
  const z = getZSet(c.db, argv[1]!);
  if (z === undefined || l === 0n) return [];
  const out: Reply[] = [];
  const collect = replyCollector(out, withScores);
  const emit = (rank: number): void => {
    const e = z.at(rank)!;
    collect(e.member, e.score);
  };
  if (l < 0n) {
    // Negative count: that many independent picks, repetitions allowed.
    if (-l > BigInt(MAX_RANDOM_REPLY)) fail('ERR value is out of range');
    for (let k = Number(-l); k > 0; k--) emit(Math.floor(c.server.random() * z.size));
    return out;
  }
  if (l >= BigInt(z.size)) {
    z.forEach(collect); // the whole set
    return out;
  }
  for (const rank of randomDistinctRanks(c, z.size, Number(l))) emit(rank);
  return out;
}

// ---- command table ------------------------------------------------------------------------------

const KEY1 = [1, 1, 1] as const;
const NO_KEYS = [0, 0, 0] as const;

export const zsetCommands: CommandSpec[] = [
  cmd('zadd', -4, ['write', 'denyoom', 'fast'], KEY1, zadd),
  cmd('zincrby', 4, ['write', 'denyoom', 'fast'], KEY1, zincrby),
  cmd('zrem', -3, ['write', 'fast'], KEY1, zrem),
  cmd('zscore', 3, ['readonly', 'fast'], KEY1, zscore),
  cmd('zmscore', -3, ['readonly', 'fast'], KEY1, zmscore),
  cmd('zcard', 2, ['readonly', 'fast'], KEY1, zcard),
  cmd('zrank', 3, ['readonly', 'fast'], KEY1, (c, argv) => zrankGeneric(c, argv, false)),
  cmd('zrevrank', 3, ['readonly', 'fast'], KEY1, (c, argv) => zrankGeneric(c, argv, true)),
  cmd('zcount', 4, ['readonly', 'fast'], KEY1, zcount),
  cmd('zlexcount', 4, ['readonly', 'fast'], KEY1, zlexcount),
  cmd('zrange', -4, ['readonly'], KEY1, (c, argv) =>
    zrangeGeneric(c, argv, 1, null, 'auto', 'auto'),
  ),
  cmd('zrangestore', -5, ['write', 'denyoom'], [1, 2, 1], (c, argv) =>
    zrangeGeneric(c, argv, 2, argv[1]!, 'auto', 'auto'),
  ),
  cmd('zrevrange', -4, ['readonly'], KEY1, (c, argv) =>
    zrangeGeneric(c, argv, 1, null, 'rank', 'reverse'),
  ),
  cmd('zrangebyscore', -4, ['readonly'], KEY1, (c, argv) =>
    zrangeGeneric(c, argv, 1, null, 'score', 'forward'),
  ),
  cmd('zrevrangebyscore', -4, ['readonly'], KEY1, (c, argv) =>
    zrangeGeneric(c, argv, 1, null, 'score', 'reverse'),
  ),
  cmd('zrangebylex', -4, ['readonly'], KEY1, (c, argv) =>
    zrangeGeneric(c, argv, 1, null, 'lex', 'forward'),
  ),
  cmd('zrevrangebylex', -4, ['readonly'], KEY1, (c, argv) =>
    zrangeGeneric(c, argv, 1, null, 'lex', 'reverse'),
  ),
  cmd('zremrangebyrank', 4, ['write'], KEY1, (c, argv) => zremrangeGeneric(c, argv, 'rank')),
  cmd('zremrangebyscore', 4, ['write'], KEY1, (c, argv) => zremrangeGeneric(c, argv, 'score')),
  cmd('zremrangebylex', 4, ['write'], KEY1, (c, argv) => zremrangeGeneric(c, argv, 'lex')),
  cmd('zpopmin', -2, ['write', 'fast'], KEY1, (c, argv) => zpopMinMax(c, argv, false)),
  cmd('zpopmax', -2, ['write', 'fast'], KEY1, (c, argv) => zpopMinMax(c, argv, true)),
  cmd('zmpop', -4, ['write'], NO_KEYS, zmpop),
  cmd('zunionstore', -4, ['write', 'denyoom'], KEY1, (c, argv) =>
    zsetOp(c, argv, 'zunionstore', argv[1]!, 2, 'union'),
  ),
  cmd('zinterstore', -4, ['write', 'denyoom'], KEY1, (c, argv) =>
    zsetOp(c, argv, 'zinterstore', argv[1]!, 2, 'inter'),
  ),
  cmd('zdiffstore', -4, ['write', 'denyoom'], KEY1, (c, argv) =>
    zsetOp(c, argv, 'zdiffstore', argv[1]!, 2, 'diff'),
  ),
  cmd('zunion', -3, ['readonly'], NO_KEYS, (c, argv) =>
    zsetOp(c, argv, 'zunion', null, 1, 'union'),
  ),
  cmd('zinter', -3, ['readonly'], NO_KEYS, (c, argv) =>
    zsetOp(c, argv, 'zinter', null, 1, 'inter'),
  ),
  cmd('zdiff', -3, ['readonly'], NO_KEYS, (c, argv) => zsetOp(c, argv, 'zdiff', null, 1, 'diff')),
  cmd('zintercard', -3, ['readonly'], NO_KEYS, (c, argv) =>
    zsetOp(c, argv, 'zintercard', null, 1, 'inter', true),
  ),
  cmd('zrandmember', -2, ['readonly'], KEY1, zrandmember),
];
