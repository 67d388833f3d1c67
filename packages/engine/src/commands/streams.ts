// Stream commands without consumer groups (Redis 7.0 t_stream.c): XADD XRANGE XREVRANGE XLEN XDEL
// XTRIM XSETID XINFO. Consumer-group commands and XREAD/XREADGROUP are in stream-groups.ts.
//
// Propagation, as in Redis: XADD reaches the AOF with the generated ID in place of `*` or
// `<ms>-*`, and an approximate trim (`~`, with or without LIMIT) is rewritten to the exact trim it
// performed (`MAXLEN = <length left>` / `MINID = <first ID left>`), so a replay does not depend
// on node boundaries or limits.

import type { Bin } from '../bytes.ts';
import { ID_MAX, UINT64_MAX, formatId, idMs, idSeq, makeId } from '../keyspace/stream-id.ts';
import { RStream } from '../keyspace/stream.ts';
import { ERR, NIL_ARRAY, OK, fail, wrongArity, type Reply } from '../reply.ts';
import { isArg } from './args.ts';
import {
  argId,
  argIntervalId,
  argLL,
  entryReply,
  getStream,
  intReply,
  parseAddOrTrimArgs,
  rewriteApproxTrim,
  subcommandSyntaxError,
  cstr,
  helpReply,
} from './stream-args.ts';
import { cmd, subcommandError, type CommandContext, type CommandSpec } from './types.ts';

const KEY1 = [1, 1, 1] as const;
/** Redis STREAM_LISTPACK_MAX_SIZE: the most bytes of fields and values one entry may carry. */
const STREAM_LISTPACK_MAX_SIZE = 1 << 30;

// ---- XADD ---------------------------------------------------------------------------------------

/** Redis xaddCommand. */
function xadd(c: CommandContext, argv: readonly Bin[]): Reply {
  const args = parseAddOrTrimArgs(c, argv, true);
  const fieldPos = args.idIndex + 1;
  const nFields = argv.length - fieldPos;
  if (nFields < 2 || nFields % 2 === 1) fail(wrongArity('xadd'));
  if (args.idGiven && args.seqGiven && args.id === 0n) {
    fail('ERR The ID specified in XADD must be greater than 0-0');
  }
  const key = argv[1]!;
  c.db.lookupWrite(key);
  let s = getStream(c.db, key);
  if (s === undefined) {
    if (args.noMkstream) return null;
    s = new RStream();
    c.db.add(key, s);
  }
  if (s.lastId === ID_MAX) {
    fail('ERR The stream has exhausted the last possible ID, unable to add more items');
  }
  const fields = argv.slice(fieldPos);
  let total = 0;
  for (const f of fields) total += f.length;
  if (total > STREAM_LISTPACK_MAX_SIZE) fail('ERR Elements are too large to be stored');
  let id: bigint;
  if (!args.idGiven) {
    // Redis streamNextID: the time, unless the last ID is at or past it.
    const ms = BigInt(c.nowMs);
    id = ms > idMs(s.lastId) ? makeId(ms, 0n) : s.lastId + 1n;
  } else if (args.seqGiven) {
    id = args.id;
  } else if (idMs(s.lastId) === idMs(args.id)) {
    // Redis streamAppendItem fails here without setting errno, so the reply is ERANGE's text.
    if (idSeq(s.lastId) === UINT64_MAX) fail('ERR Elements are too large to be stored');
    id = s.lastId + 1n;
  } else {
    id = args.id;
  }
  if (id <= s.lastId) {
    fail('ERR The ID specified in XADD is equal or smaller than the target stream top item');
  }
  s.append(id, fields);
  const idText = formatId(id);
  c.db.signalModified(key);
  c.dirty();
  const propagated = [...argv];
  if (args.trim !== null) {
    s.trim(args.trim);
    if (args.trim.approx) rewriteApproxTrim(propagated, s, args.trim, args.trimArgIndex);
  }
  if (!args.idGiven || !args.seqGiven) propagated[args.idIndex] = idText;
  c.rewriteArgv(propagated);
  return idText;
}

// ---- XRANGE XREVRANGE XLEN ------------------------------------------------------------------

/** Redis xrangeGenericCommand. */
function xrange(c: CommandContext, argv: readonly Bin[], rev: boolean): Reply {
  const start = argIntervalId(rev ? argv[3]! : argv[2]!, 0n, true);
  const end = argIntervalId(rev ? argv[2]! : argv[3]!, UINT64_MAX, false);
  let count = -1n;
  for (let j = 4; j < argv.length; j++) {
    if (isArg(argv[j]!, 'count') && argv.length - j - 1 >= 1) {
      count = argLL(argv[j + 1]!);
      if (count < 0n) count = 0n;
      j++;
    } else {
      fail(ERR.syntax);
    }
  }
  const s = getStream(c.db, argv[1]!);
  if (s === undefined) return [];
  if (count === 0n) return NIL_ARRAY;
  const out: Reply[] = [];
  for (const e of s.range(start, end, rev)) {
    out.push(entryReply(e));
    if (BigInt(out.length) === count) break;
  }
  return out;
}

function xlen(c: CommandContext, argv: readonly Bin[]): Reply {
  return getStream(c.db, argv[1]!)?.length ?? 0;
}

// ---- XDEL XTRIM -----------------------------------------------------------------------------

/** Redis xdelCommand: the key is looked up before the IDs are checked. */
function xdel(c: CommandContext, argv: readonly Bin[]): Reply {
  const key = argv[1]!;
  c.db.lookupWrite(key);
  const s = getStream(c.db, key);
  if (s === undefined) return 0;
  const ids = argv.slice(2).map((a) => argId(a, 0n, true));
  let deleted = 0;
  let firstEntry = false;
  for (const id of ids) {
    if (!s.deleteEntry(id)) continue;
    if (id === s.firstId) firstEntry = true;
    if (id > s.maxDeletedId) s.maxDeletedId = id;
    deleted++;
  }
  if (deleted > 0) {
    if (s.length === 0) s.firstId = 0n;
    else if (firstEntry) s.firstId = s.edgeId(true, true);
    c.db.signalModified(key);
    c.dirty(deleted);
  }
  return deleted;
}

/** Redis xtrimCommand. */
function xtrim(c: CommandContext, argv: readonly Bin[]): Reply {
  const args = parseAddOrTrimArgs(c, argv, false);
  const key = argv[1]!;
  c.db.lookupWrite(key);
  const s = getStream(c.db, key);
  if (s === undefined || args.trim === null) return 0;
  const deleted = s.trim(args.trim);
  if (deleted > 0) {
    if (args.trim.approx) {
      const propagated = [...argv];
      rewriteApproxTrim(propagated, s, args.trim, args.trimArgIndex);
      c.rewriteArgv(propagated);
    }
    c.db.signalModified(key);
    c.dirty(deleted);
  }
  return deleted;
}

// ---- XSETID ---------------------------------------------------------------------------------

/** Redis xsetidCommand. */
function xsetid(c: CommandContext, argv: readonly Bin[]): Reply {
  const id = argId(argv[2]!, 0n, true);
  let entriesAdded = -1n;
  let maxXdel = 0n;
  for (let i = 3; i < argv.length; i += 2) {
    const moreargs = argv.length - 1 - i;
    const opt = argv[i]!;
    if (isArg(opt, 'entriesadded') && moreargs > 0) {
      entriesAdded = argLL(argv[i + 1]!);
      if (entriesAdded < 0n) fail('ERR entries_added must be positive');
    } else if (isArg(opt, 'maxdeletedid') && moreargs > 0) {
      maxXdel = argId(argv[i + 1]!, 0n, true);
      if (id < maxXdel) {
        fail('ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id');
      }
    } else {
      fail(ERR.syntax);
    }
  }
  const key = argv[1]!;
  c.db.lookupWrite(key);
  const s = getStream(c.db, key);
  if (s === undefined) fail(ERR.noSuchKey);
  if (s.length > 0) {
    if (id < s.lastValidId()) {
      fail('ERR The ID specified in XSETID is smaller than the target stream top item');
    }
    if (entriesAdded !== -1n && BigInt(s.length) > entriesAdded) {
      fail('ERR The entries_added specified in XSETID is smaller than the target stream length');
    }
  }
  s.lastId = id;
  if (entriesAdded !== -1n) s.entriesAdded = entriesAdded;
  if (maxXdel !== 0n) s.maxDeletedId = maxXdel;
  c.dirty();
  return OK;
}

// ---- XINFO ----------------------------------------------------------------------------------

const XINFO_HELP = [
  'XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CONSUMERS <key> <groupname>',
  '    Show consumers of <groupname>.',
  'GROUPS <key>',
  '    Show the stream consumer groups.',
  'STREAM <key> [FULL [COUNT <count>]',
  '    Show information about the stream.',
  'HELP',
  '    Prints this help.',
];

/** The arity of each XINFO subcommand (Redis's command table; -N = at least N). */
const XINFO_ARITY: Record<string, number> = { consumers: 4, groups: 3, stream: -3, help: 2 };

/**
 * The subcommand of a container command, checked as processCommand does (the dispatcher already
 * checked it; this keeps a handler called directly just as strict).
 */
export function checkSubcommand(spec: CommandSpec, argv: readonly Bin[]): string {
  const error = subcommandError(spec, argv);
  if (error !== null) fail(error);
  return argv[1]!.toLowerCase();
}

function xinfo(c: CommandContext, argv: readonly Bin[]): Reply {
  const sub = checkSubcommand(XINFO_SPEC, argv);
  if (sub === 'help') return helpReply(XINFO_HELP);
  const key = argv[2]!;
  const s = getStream(c.db, key);
  if (s === undefined) fail(ERR.noSuchKey);
  if (sub === 'consumers') {
    const g = s.groups.get(argv[3]!);
    if (g === undefined) {
      fail(`NOGROUP No such consumer group '${cstr(argv[3]!)}' for key name '${cstr(key)}'`);
    }
    return g
      .sortedConsumers()
      .map((consumer) => [
        'name',
        consumer.name,
        'pending',
        consumer.pel.size,
        'idle',
        Math.max(0, c.nowMs - consumer.seenTime),
      ]);
  }
  if (sub === 'groups') {
    return s
      .sortedGroups()
      .map(([name, g]) => [
        'name',
        name,
        'consumers',
        g.consumers.size,
        'pending',
        g.pel.size,
        'last-delivered-id',
        formatId(g.lastId),
        'entries-read',
        g.entriesRead === -1n ? null : intReply(g.entriesRead),
        'lag',
        lagReply(s, g),
      ]);
  }
  return xinfoStream(c, argv, s);
}

function lagReply(s: RStream, g: Parameters<RStream['groupLag']>[0]): Reply {
  const lag = s.groupLag(g);
  return lag === null ? null : intReply(lag);
}

/** Redis xinfoReplyWithStreamInfo. */
function xinfoStream(c: CommandContext, argv: readonly Bin[], s: RStream): Reply {
  const opts = argv.slice(3);
  let full = false;
  let count = 10n;
  if (opts.length > 0) {
    if (opts.length !== 1 && opts.length !== 3) subcommandSyntaxError(argv);
    if (!isArg(opts[0]!, 'full')) subcommandSyntaxError(argv);
    if (opts.length === 3) {
      if (!isArg(opts[1]!, 'count')) subcommandSyntaxError(argv);
      count = argLL(opts[2]!);
      if (count < 0n) count = 10n;
    }
    full = true;
  }
  const out: Reply[] = [
    'length',
    s.length,
    'radix-tree-keys',
    s.nodes.length,
    'radix-tree-nodes',
    s.raxNodes(),
    'last-generated-id',
    formatId(s.lastId),
    'max-deleted-entry-id',
    formatId(s.maxDeletedId),
    'entries-added',
    intReply(s.entriesAdded),
    'recorded-first-entry-id',
    formatId(s.firstId),
  ];
  if (!full) {
    const first = s.range(0n, ID_MAX).next();
    const last = s.range(0n, ID_MAX, true).next();
    out.push('groups', s.groups.size);
    out.push('first-entry', first.done === true ? null : entryReply(first.value));
    out.push('last-entry', last.done === true ? null : entryReply(last.value));
    return out;
  }
  const limit = count === 0n ? Infinity : Number(count);
  const entries: Reply[] = [];
  for (const e of s.range(0n, ID_MAX)) {
    if (entries.length >= limit) break;
    entries.push(entryReply(e));
  }
  out.push('entries', entries);
  const groups: Reply[] = [];
  for (const [name, g] of s.sortedGroups()) {
    const pending: Reply[] = [];
    for (const [id, nack] of g.pel) {
      if (pending.length >= limit) break;
      pending.push([
        formatId(id),
        nack.consumer?.name ?? '',
        nack.deliveryTime,
        intReply(nack.deliveryCount),
      ]);
    }
    const consumers: Reply[] = g.sortedConsumers().map((consumer) => {
      const cpel: Reply[] = [];
      for (const [id, nack] of consumer.pel) {
        if (cpel.length >= limit) break;
        cpel.push([formatId(id), nack.deliveryTime, intReply(nack.deliveryCount)]);
      }
      return [
        'name',
        consumer.name,
        'seen-time',
        consumer.seenTime,
        'pel-count',
        consumer.pel.size,
        'pending',
        cpel,
      ];
    });
    groups.push([
      'name',
      name,
      'last-delivered-id',
      formatId(g.lastId),
      'entries-read',
      g.entriesRead === -1n ? null : intReply(g.entriesRead),
      'lag',
      lagReply(s, g),
      'pel-count',
      g.pel.size,
      'pending',
      pending,
      'consumers',
      consumers,
    ]);
  }
  out.push('groups', groups);
  void c;
  return out;
}

const XINFO_SPEC: CommandSpec = {
  ...cmd('xinfo', -2, ['readonly'], [2, 2, 1], (c, argv) => xinfo(c, argv)),
  subcommands: XINFO_ARITY,
};

export const streamCommands: CommandSpec[] = [
  cmd('xadd', -5, ['write', 'denyoom', 'fast'], KEY1, xadd),
  cmd('xrange', -4, ['readonly'], KEY1, (c, argv) => xrange(c, argv, false)),
  cmd('xrevrange', -4, ['readonly'], KEY1, (c, argv) => xrange(c, argv, true)),
  cmd('xlen', 2, ['readonly', 'fast'], KEY1, xlen),
  cmd('xdel', -3, ['write', 'fast'], KEY1, xdel),
  cmd('xtrim', -4, ['write'], KEY1, xtrim),
  cmd('xsetid', -3, ['write', 'denyoom', 'fast'], KEY1, xsetid),
  XINFO_SPEC,
];
