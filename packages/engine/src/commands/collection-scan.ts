// HSCAN, SSCAN, ZSCAN (Redis 7.0 db.c scanGenericCommand with an object).
//
// A collection in a compact encoding (a listpack hash or sorted set, an intset) is returned whole
// in one call with cursor 0, COUNT ignored, exactly as Redis does; the order is the encoding's
// (insertion order for a listpack hash, score order for a listpack zset, numeric for an intset).
// A bigger one is walked like SCAN walks the keyspace (keys.ts): through a Map iterator of its
// members, which survives additions and deletions, kept under a cursor id in a small registry per
// value. So every element present for the whole iteration is returned (Redis's guarantee); an
// unknown cursor restarts the walk (duplicates, never a miss).
//
// A hash's encoding is the one-way listpack -> hashtable flag it carries (values.ts RHash, Redis's
// compiled-in thresholds 512 fields / 64 bytes), so a hash that shrank is paged as Redis pages it.

import { formatDouble17g, type Bin } from '../bytes.ts';
import type { RHash, RSet, RZSet } from '../keyspace/values.ts';
import { globMatch } from '../glob.ts';
import { ERR, fail, type Reply } from '../reply.ts';
import { argInt, getHash, getSet, getZSet, isArg } from './args.ts';
import { parseScanCursor } from './keys.ts';
import { cmd, type CommandContext, type CommandSpec } from './types.ts';

const KEY1 = [1, 1, 1] as const;
/** Live cursors kept per collection (the least recently used is forgotten beyond this). */
const MAX_CURSORS = 64;

type Scanned = RHash | RSet | RZSet;

interface Walk {
  readonly it: Iterator<Bin>;
  /** One member read ahead, to tell the last call (cursor 0) from the others. */
  lookahead: Bin | undefined;
}

const registries = new WeakMap<Scanned, { nextId: number; walks: Map<number, Walk> }>();

function registryOf(value: Scanned) {
  let reg = registries.get(value);
  if (reg === undefined) registries.set(value, (reg = { nextId: 1, walks: new Map() }));
  return reg;
}

interface Options {
  count: number;
  pattern: Bin | null;
}

/** Redis scanGenericCommand's options for an object: COUNT n (>= 1) and MATCH; nothing else. */
function parseOptions(argv: readonly Bin[]): Options {
  const out: Options = { count: 10, pattern: null };
  for (let i = 3; i < argv.length; i += 2) {
    const opt = argv[i]!;
    if (isArg(opt, 'count') && i + 1 < argv.length) {
      out.count = argInt(argv[i + 1]!);
      if (out.count < 1) fail(ERR.syntax);
    } else if (isArg(opt, 'match') && i + 1 < argv.length) {
      out.pattern = argv[i + 1] === '*' ? null : argv[i + 1]!;
    } else {
      fail(ERR.syntax);
    }
  }
  return out;
}

/** Members of the next batch (at most `count`), and the cursor to hand back ('0' at the end). */
function walkBatch(value: Scanned, cursor: number, count: number, start: () => Iterator<Bin>) {
  const reg = registryOf(value);
  const known = cursor === 0 ? undefined : reg.walks.get(cursor);
  if (known !== undefined) reg.walks.delete(cursor);
  const walk: Walk = known ?? { it: start(), lookahead: undefined };
  const batch: Bin[] = [];
  if (walk.lookahead !== undefined) batch.push(walk.lookahead);
  walk.lookahead = undefined;
  for (;;) {
    const next = walk.it.next();
    if (next.done === true) return { batch, cursor: '0' };
    if (batch.length >= count) {
      walk.lookahead = next.value;
      break;
    }
    batch.push(next.value);
  }
  const id = reg.nextId++;
  reg.walks.set(id, walk);
  if (reg.walks.size > MAX_CURSORS) {
    const oldest = reg.walks.keys().next();
    if (oldest.done !== true) reg.walks.delete(oldest.value);
  }
  return { batch, cursor: String(id) };
}

const EMPTY_SCAN: Reply = ['0', []];

/** The hash's own one-way encoding (values.ts RHash), as OBJECT ENCODING reports it. */
function hashIsListpack(hash: RHash): boolean {
  return hash.encoding === 'listpack';
}

/** Redis hscanCommand: cursor first, then the key, then the options. */
function hscan(c: CommandContext, argv: readonly Bin[]): Reply {
  const cursor = parseScanCursor(argv[2]!);
  const hash = getHash(c.db, argv[1]!);
  if (hash === undefined) return EMPTY_SCAN;
  const { count, pattern } = parseOptions(argv);
  const out: Bin[] = [];
  const emit = (f: Bin) => {
    const v = hash.map.get(f);
    if (v !== undefined && (pattern === null || globMatch(pattern, f))) out.push(f, v);
  };
  if (hashIsListpack(hash)) {
    for (const f of hash.map.keys()) emit(f);
    return ['0', out];
  }
  const step = walkBatch(hash, cursor, count, () => hash.map.keys());
  for (const f of step.batch) emit(f);
  return [step.cursor, out];
}

/** Redis sscanCommand. */
function sscan(c: CommandContext, argv: readonly Bin[]): Reply {
  const cursor = parseScanCursor(argv[2]!);
  const set = getSet(c.db, argv[1]!);
  if (set === undefined) return EMPTY_SCAN;
  const { count, pattern } = parseOptions(argv);
  const members = set.members;
  const keep = (m: Bin) => members.has(m) && (pattern === null || globMatch(pattern, m));
  const stable = members.stableMembers();
  if (stable === null) return ['0', [...members].filter(keep)];
  const step = walkBatch(set, cursor, count, () => members.stableMembers()!);
  return [step.cursor, step.batch.filter(keep)];
}

/** Redis zscanCommand: member, score pairs (scores as ZSCORE prints them). */
function zscan(c: CommandContext, argv: readonly Bin[]): Reply {
  const cursor = parseScanCursor(argv[2]!);
  const zset = getZSet(c.db, argv[1]!);
  if (zset === undefined) return EMPTY_SCAN;
  const { count, pattern } = parseOptions(argv);
  const out: Bin[] = [];
  const emit = (m: Bin, score: number | undefined) => {
    if (score !== undefined && (pattern === null || globMatch(pattern, m))) {
      out.push(m, formatDouble17g(score));
    }
  };
  if (zset.encoding === 'listpack') {
    for (const [m, score] of zset) emit(m, score);
    return ['0', out];
  }
  const step = walkBatch(zset, cursor, count, () => zset.stableMembers());
  for (const m of step.batch) emit(m, zset.score(m));
  return [step.cursor, out];
}

export const collectionScanCommands: CommandSpec[] = [
  cmd('hscan', -3, ['readonly'], KEY1, hscan),
  cmd('sscan', -3, ['readonly'], KEY1, sscan),
  cmd('zscan', -3, ['readonly'], KEY1, zscan),
];
