// Set commands (Redis 7.0 t_set.c): SADD SREM SISMEMBER SMISMEMBER SMEMBERS SCARD SPOP SRANDMEMBER
// SMOVE SINTER SUNION SDIFF SINTERSTORE SUNIONSTORE SDIFFSTORE.
//
// Reply order: an intset-encoded set (all canonical integers, <= 512) replies sorted, exactly like
// Redis; result sets (SUNION, SDIFF, the *STORE destinations, SPOP's rebuilt set) are built fresh
// by adding members one by one, so they get the intset encoding whenever Redis's would.
//
// Propagation (Redis 7.0): SPOP → `SREM key member`; SPOP with a count smaller than the set → one
// `SREM key member` per popped member (MULTI-wrapped by the dispatcher when more than one), the
// SPOP itself suppressed; SPOP with count >= size → `DEL key`. Everything else as typed when dirty;
// a *STORE with an empty result that deleted an existing destination is propagated as typed too.

import { parseLongLong, type Bin } from '../bytes.ts';
import { SET_MAX_INTSET_ENTRIES, SetMembers } from '../keyspace/set.ts';
import { RSet } from '../keyspace/values.ts';
import { ERR, fail, type Reply } from '../reply.ts';
import { getSet, removeMembers } from './args.ts';
import { argLongAtLeast } from './count-args.ts';
import { cmd, type CommandContext, type CommandSpec } from './types.ts';

const KEY1 = [1, 1, 1] as const;
const ALL_KEYS = [1, -1, 1] as const;
/** Redis SPOP_MOVE_STRATEGY_MUL. */
const SPOP_MOVE_STRATEGY_MUL = 5;
/** Redis SRANDMEMBER_SUB_STRATEGY_MUL. */
const SRANDMEMBER_SUB_STRATEGY_MUL = 3;
/** Largest reply we can build: a JS array holds at most 2^32 - 1 elements. */
const MAX_REPLY_ELEMENTS = 2 ** 32 - 1;

// ---- SADD SREM SMOVE ----------------------------------------------------------------------------

function sadd(c: CommandContext, argv: readonly Bin[]): Reply {
  const key = argv[1]!;
  let set = getSet(c.db, key);
  if (set === undefined) {
    set = new RSet();
    c.db.add(key, set);
  }
  const members = set.members;
  let added = 0;
  for (let i = 2; i < argv.length; i++) if (members.addMember(argv[i]!)) added++;
  if (added > 0) {
    c.db.signalModified(key);
    c.dirty(added);
  }
  return added;
}

/** Redis sremCommand: stops at the member that empties the set, then deletes the key. */
function srem(c: CommandContext, argv: readonly Bin[]): Reply {
  const key = argv[1]!;
  const set = getSet(c.db, key);
  return set === undefined ? 0 : removeMembers(c, key, set.members, argv);
}

/** Redis smoveCommand: a missing source answers 0 before the destination's type is checked. */
function smove(c: CommandContext, argv: readonly Bin[]): Reply {
  const srcKey = argv[1]!;
  const dstKey = argv[2]!;
  const member = argv[3]!;
  const srcValue = c.db.lookupWrite(srcKey);
  const dstValue = c.db.lookupWrite(dstKey);
  if (srcValue === undefined) return 0;
  const src = getSet(c.db, srcKey)!;
  let dst = dstValue === undefined ? undefined : getSet(c.db, dstKey);
  // Same key: nothing moves, the reply only tells whether the member is there.
  if (src === dst) return src.members.has(member) ? 1 : 0;
  if (!src.members.delete(member)) return 0;
  if (src.members.size === 0) c.db.delete(srcKey);
  if (dst === undefined) {
    dst = new RSet();
    c.db.add(dstKey, dst);
  }
  c.db.signalModified(srcKey);
  c.dirty();
  if (dst.members.addMember(member)) {
    c.dirty();
    c.db.signalModified(dstKey);
  }
  return 1;
}

// ---- Reads --------------------------------------------------------------------------------------

function sismember(c: CommandContext, argv: readonly Bin[]): Reply {
  return getSet(c.db, argv[1]!)?.members.has(argv[2]!) === true ? 1 : 0;
}

/** Redis smismemberCommand: a missing key is an empty set (all zeros). */
function smismember(c: CommandContext, argv: readonly Bin[]): Reply {
  const members = getSet(c.db, argv[1]!)?.members;
  const out = new Array<Reply>(argv.length - 2);
  for (let i = 2; i < argv.length; i++) out[i - 2] = members?.has(argv[i]!) === true ? 1 : 0;
  return out;
}

function scard(c: CommandContext, argv: readonly Bin[]): Reply {
  return getSet(c.db, argv[1]!)?.members.size ?? 0;
}

/** Redis 7.0 runs SMEMBERS as a one-key SINTER: the members in the set's own order. */
function smembers(c: CommandContext, argv: readonly Bin[]): Reply {
  return getSet(c.db, argv[1]!)?.members.toArray() ?? [];
}

// ---- SPOP ---------------------------------------------------------------------------------------

/** A new member collection holding `items` added in order (Redis setTypeCreate + setTypeAdd). */
function buildMembers(items: Iterable<Bin>): SetMembers {
  const out = new SetMembers();
  for (const m of items) out.addMember(m);
  return out;
}

/**
 * The order of a set rebuilt by adding `members` one by one (Redis sunionDiffGenericCommand's
 * result set): sorted when it would be an intset, else the members' own order.
 */
function unionOrder(members: SetMembers): Bin[] {
  if (members.encoding === 'intset' || members.size > SET_MAX_INTSET_ENTRIES)
    return members.toArray();
  return buildMembers(members).toArray();
}

/** Redis spopCommand (no count): rewritten to `SREM key member`. */
function spopOne(c: CommandContext, key: Bin): Reply {
  const set = getSet(c.db, key);
  if (set === undefined) return null;
  const member = set.members.random(() => c.server.random())!;
  set.members.delete(member);
  c.rewriteArgv(['SREM', key, member]);
  if (set.members.size === 0) c.db.delete(key);
  c.db.signalModified(key);
  c.dirty();
  return member;
}

/** Redis spopWithCountCommand. */
function spopWithCount(c: CommandContext, key: Bin, countArg: Bin): Reply {
  const count = argLongAtLeast(countArg, 0, ERR.positive);
  const set = getSet(c.db, key);
  if (set === undefined || count === 0) return [];
  const members = set.members;
  const size = members.size;
  c.dirty(Math.min(count, size));

  // Case 1: the whole set. Replied in the order of a union rebuilt from it, then deleted.
  if (count >= size) {
    const all = unionOrder(members);
    c.db.delete(key);
    c.rewriteArgv(['DEL', key]);
    c.db.signalModified(key);
    return all;
  }

  const random = (): number => c.server.random();
  const dbId = c.db.id;
  const popped: Bin[] = [];
  const remaining = size - count;
  if (remaining * SPOP_MOVE_STRATEGY_MUL > count) {
    // Case 2: few members requested: pop random members one by one.
    for (let i = 0; i < count; i++) {
      const member = members.random(random)!;
      members.delete(member);
      popped.push(member);
      c.alsoPropagate(dbId, ['SREM', key, member]);
    }
  } else {
    // Case 3: most of the set requested: pick the members that stay into a new set, reply with
    // what is left of the old one. The new set is built fresh, so it may become an intset again.
    const kept = new SetMembers();
    for (let i = 0; i < remaining; i++) {
      const member = members.random(random)!;
      kept.addMember(member);
      members.delete(member);
    }
    for (const member of members) {
      popped.push(member);
      c.alsoPropagate(dbId, ['SREM', key, member]);
    }
    c.db.setKey(key, new RSet(kept), true); // Redis dbOverwrite: the TTL stays
  }
  // The SREMs above replace the command itself (preventCommandPropagation).
  c.preventPropagation();
  c.db.signalModified(key);
  return popped;
}

function spop(c: CommandContext, argv: readonly Bin[]): Reply {
  if (argv.length === 3) return spopWithCount(c, argv[1]!, argv[2]!);
  if (argv.length > 3) fail(ERR.syntax);
  return spopOne(c, argv[1]!);
}

// ---- SRANDMEMBER --------------------------------------------------------------------------------

/** Redis getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX): only LLONG_MIN is out of range. */
function parseSrandCount(s: Bin): number {
  const v = parseLongLong(s);
  if (v === null) fail(ERR.notInteger);
  if (v === -9223372036854775808n) {
    fail(
      'ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807',
    );
  }
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  return v > max ? Number.MAX_SAFE_INTEGER : v < -max ? -Number.MAX_SAFE_INTEGER : Number(v);
}

/** Redis srandmemberWithCountCommand. */
function srandmemberWithCount(c: CommandContext, key: Bin, countArg: Bin): Reply {
  const l = parseSrandCount(countArg);
  const unique = l >= 0;
  const count = Math.abs(l);
  const set = getSet(c.db, key);
  if (set === undefined || count === 0) return [];
  const members = set.members;
  const size = members.size;
  const random = (): number => c.server.random();

  // Case 1: negative count (repetitions allowed) or a single member: independent draws.
  if (!unique || count === 1) {
    if (count > MAX_REPLY_ELEMENTS) fail('ERR value is out of range');
    const out = new Array<Bin>(count);
    for (let i = 0; i < count; i++) out[i] = members.random(random)!;
    return out;
  }
  // Case 2: at least the whole set: every member, in the set's order.
  if (count >= size) return members.toArray();
  // Case 3: most of the set: drop random members from a copy until `count` remain.
  if (count * SRANDMEMBER_SUB_STRATEGY_MUL > size) {
    const pool = members.toArray();
    for (let n = pool.length; n > count; n--) {
      const i = Math.min(n - 1, Math.floor(random() * n));
      pool[i] = pool[n - 1]!;
    }
    pool.length = count;
    return pool;
  }
  // Case 4: a small sample of a big set: draw until `count` distinct members were seen.
  const picked = new Set<Bin>();
  while (picked.size < count) picked.add(members.random(random)!);
  return [...picked];
}

function srandmember(c: CommandContext, argv: readonly Bin[]): Reply {
  if (argv.length === 3) return srandmemberWithCount(c, argv[1]!, argv[2]!);
  if (argv.length > 3) fail(ERR.syntax);
  const set = getSet(c.db, argv[1]!);
  if (set === undefined) return null;
  return set.members.random(() => c.server.random())!;
}

// ---- SINTER SUNION SDIFF and the *STORE variants ------------------------------------------------

/** Look every key up in order (WRONGTYPE on the first non-set); null for a missing key. */
function lookupSets(c: CommandContext, keys: readonly Bin[]): (SetMembers | null)[] {
  const out = new Array<SetMembers | null>(keys.length);
  for (let i = 0; i < keys.length; i++) out[i] = getSet(c.db, keys[i]!)?.members ?? null;
  return out;
}

/**
 * Store a computed result into `dstKey` (Redis sinterGenericCommand/sunionDiffGenericCommand with a
 * destination): a non-empty result replaces the key (TTL dropped), an empty one deletes it. Only
 * an actual change is dirty, so an empty result on a missing destination propagates nothing.
 */
function storeResult(c: CommandContext, dstKey: Bin, result: SetMembers): Reply {
  const size = result.size;
  if (size > 0) {
    c.db.lookupWrite(dstKey); // Redis setKey looks the key up first: an expired one is DELeted
    c.db.setKey(dstKey, new RSet(result));
    c.dirty();
    return size;
  }
  if (c.db.delete(dstKey)) {
    c.dirty();
    c.db.signalModified(dstKey);
  }
  return 0;
}

/** Redis sinterGenericCommand: iterate the smallest set, keep members present in all others. */
function sinterGeneric(c: CommandContext, keys: readonly Bin[], dstKey: Bin | null): Reply {
  const found = lookupSets(c, keys);
  if (found.includes(null)) {
    // Intersection with an empty set is empty.
    return dstKey === null ? [] : storeResult(c, dstKey, new SetMembers());
  }
  const sets = (found as SetMembers[]).slice().sort((a, b) => a.size - b.size);
  const smallest = sets[0]!;
  const matches: Bin[] = [];
  for (const member of smallest) {
    let inAll = true;
    for (let j = 1; j < sets.length; j++) {
      const other = sets[j]!;
      if (other !== smallest && !other.has(member)) {
        inAll = false;
        break;
      }
    }
    if (inAll) matches.push(member);
  }
  // Without a destination Redis replies while iterating, i.e. in the smallest set's order.
  return dstKey === null ? matches : storeResult(c, dstKey, buildMembers(matches));
}

type SetOp = 'union' | 'diff';

/** Redis sunionDiffGenericCommand. */
function sunionDiffGeneric(
  c: CommandContext,
  keys: readonly Bin[],
  dstKey: Bin | null,
  op: SetOp,
): Reply {
  const sets = lookupSets(c, keys);
  const first = sets[0] ?? null;
  // A later key naming the first set makes a difference empty.
  const sameSet = first !== null && sets.some((s, j) => j > 0 && s === first);
  const result = new SetMembers();
  if (op === 'union') {
    for (const s of sets) if (s !== null) for (const m of s) result.addMember(m);
  } else if (first !== null && !sameSet) {
    diffInto(result, first, sets);
  }
  return dstKey === null ? result.toArray() : storeResult(c, dstKey, result);
}

/**
 * SDIFF with Redis's choice of algorithm (the work estimates of sunionDiffGenericCommand):
 *   1. for each member of the first set, check every other set (others sorted by size, largest
 *      first, to find a duplicate early);
 *   2. add the first set, then remove every member of the others.
 */
function diffInto(
  result: SetMembers,
  first: SetMembers,
  sets: readonly (SetMembers | null)[],
): void {
  let algoOneWork = 0;
  let algoTwoWork = 0;
  for (const s of sets) {
    if (s === null) continue;
    algoOneWork += first.size;
    algoTwoWork += s.size;
  }
  algoOneWork = Math.floor(algoOneWork / 2); // algorithm 1 has better constants
  if (algoOneWork <= algoTwoWork) {
    const others = sets.slice(1).filter((s): s is SetMembers => s !== null);
    others.sort((a, b) => b.size - a.size);
    for (const member of first) {
      if (!others.some((s) => s.has(member))) result.addMember(member);
    }
    return;
  }
  for (const m of first) result.addMember(m);
  for (let j = 1; j < sets.length && result.size > 0; j++) {
    const s = sets[j];
    if (s !== null && s !== undefined) for (const m of s) result.delete(m);
  }
}

export const setCommands: CommandSpec[] = [
  cmd('sadd', -3, ['write', 'denyoom', 'fast'], KEY1, sadd),
  cmd('srem', -3, ['write', 'fast'], KEY1, srem),
  cmd('smove', 4, ['write', 'fast'], [1, 2, 1], smove),
  cmd('sismember', 3, ['readonly', 'fast'], KEY1, sismember),
  cmd('smismember', -3, ['readonly', 'fast'], KEY1, smismember),
  cmd('smembers', 2, ['readonly'], KEY1, smembers),
  cmd('scard', 2, ['readonly', 'fast'], KEY1, scard),
  cmd('spop', -2, ['write', 'fast'], KEY1, spop),
  cmd('srandmember', -2, ['readonly'], KEY1, srandmember),
  cmd('sinter', -2, ['readonly'], ALL_KEYS, (c, argv) => sinterGeneric(c, argv.slice(1), null)),
  cmd('sunion', -2, ['readonly'], ALL_KEYS, (c, argv) =>
    sunionDiffGeneric(c, argv.slice(1), null, 'union'),
  ),
  cmd('sdiff', -2, ['readonly'], ALL_KEYS, (c, argv) =>
    sunionDiffGeneric(c, argv.slice(1), null, 'diff'),
  ),
  cmd('sinterstore', -3, ['write', 'denyoom'], ALL_KEYS, (c, argv) =>
    sinterGeneric(c, argv.slice(2), argv[1]!),
  ),
  cmd('sunionstore', -3, ['write', 'denyoom'], ALL_KEYS, (c, argv) =>
    sunionDiffGeneric(c, argv.slice(2), argv[1]!, 'union'),
  ),
  cmd('sdiffstore', -3, ['write', 'denyoom'], ALL_KEYS, (c, argv) =>
    sunionDiffGeneric(c, argv.slice(2), argv[1]!, 'diff'),
  ),
];
