// XREAD and the consumer-group commands (Redis 7.0 t_stream.c): XREAD XREADGROUP XGROUP XACK
// XPENDING XCLAIM XAUTOCLAIM.
//
// Propagation, as in Redis: XREADGROUP, XCLAIM and XAUTOCLAIM never reach the AOF as typed.
// Each pending entry they create or change is written as the idempotent
// `XCLAIM key group consumer 0 id TIME t RETRYCOUNT n FORCE JUSTID LASTID last-id`; a NOACK read
// moves the group with `XGROUP SETID ... ENTRIESREAD n` and creates its consumer with
// `XGROUP CREATECONSUMER`; pending entries whose stream entry is gone are dropped and written as
// the same XCLAIM (which, replayed, drops them too). Several commands of one call are wrapped in
// MULTI/EXEC by the dispatcher, as Redis 7.0 does.
//
// Blocking (XREAD/XREADGROUP BLOCK) is not implemented: a read that would block is refused.

import type { Bin } from '../bytes.ts';
import {
  ConsumerGroup,
  ENTRIES_READ_INVALID,
  type Consumer,
  type Nack,
} from '../keyspace/stream-groups.ts';
import { ID_MAX, formatId, incrId, parseStreamId, type StreamId } from '../keyspace/stream-id.ts';
import { RStream } from '../keyspace/stream.ts';
import { ERR, NIL_ARRAY, OK, fail, type Reply } from '../reply.ts';
import { isArg } from './args.ts';
import {
  argId,
  argIntervalId,
  argLL,
  entryReply,
  getStream,
  intReply,
  propagateConsumerCreation,
  propagateGroupId,
  propagateXclaim,
  subcommandSyntaxError,
  cstr,
  helpReply,
} from './stream-args.ts';
import { checkSubcommand } from './streams.ts';
import { cmd, type CommandContext, type CommandSpec } from './types.ts';

const KEY1 = [1, 1, 1] as const;

// ---- XREAD XREADGROUP -----------------------------------------------------------------------

interface GroupRead {
  group: ConsumerGroup;
  groupName: Bin;
  consumerName: Bin;
  noack: boolean;
}

/** Redis xreadCommand (also XREADGROUP), served synchronously. */
function xread(c: CommandContext, argv: readonly Bin[], xreadgroup: boolean): Reply {
  let timeout = -1n;
  let count = 0n;
  let streamsArg = 0;
  let streamsCount = 0;
  let noack = false;
  let groupName: Bin | null = null;
  let consumerName: Bin = '';
  for (let i = 1; i < argv.length; i++) {
    const moreargs = argv.length - i - 1;
    const o = argv[i]!;
    if (isArg(o, 'block') && moreargs > 0) {
      i++;
      timeout = argLL(argv[i]!, 'ERR timeout is not an integer or out of range');
      if (timeout < 0n) fail('ERR timeout is negative');
    } else if (isArg(o, 'count') && moreargs > 0) {
      i++;
      count = argLL(argv[i]!);
      if (count < 0n) count = 0n;
    } else if (isArg(o, 'streams') && moreargs > 0) {
      streamsArg = i + 1;
      streamsCount = argv.length - streamsArg;
      if (streamsCount % 2 !== 0) {
        fail(
          'ERR Unbalanced XREAD list of streams: for each stream key an ID or ' +
            "'$' must be specified.",
        );
      }
      streamsCount /= 2;
      break;
    } else if (isArg(o, 'group') && moreargs >= 2) {
      if (!xreadgroup) {
        fail('ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.');
      }
      groupName = argv[i + 1]!;
      consumerName = argv[i + 2]!;
      i += 2;
    } else if (isArg(o, 'noack')) {
      if (!xreadgroup) {
        fail('ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.');
      }
      noack = true;
    } else {
      fail(ERR.syntax);
    }
  }
  if (streamsArg === 0) fail(ERR.syntax);
  if (xreadgroup && groupName === null) fail('ERR Missing GROUP option for XREADGROUP');
  const ids: StreamId[] = [];
  const groups: ConsumerGroup[] = [];
  for (let i = streamsArg + streamsCount; i < argv.length; i++) {
    const key = argv[i - streamsCount]!;
    const s = getStream(c.db, key);
    if (groupName !== null) {
      const g = s?.groups.get(groupName);
      if (g === undefined) {
        fail(
          `NOGROUP No such key '${cstr(key)}' or consumer group '${cstr(groupName)}' ` +
            'in XREADGROUP ' +
            'with GROUP option',
        );
      }
      groups.push(g);
    }
    const text = argv[i]!;
    if (text === '$') {
      if (xreadgroup) {
        fail(
          'ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the ' +
            'history of this consumer by specifying a proper ID, or use the > ID to get new ' +
            'messages. The $ ID would just return an empty result set.',
        );
      }
      ids.push(s?.lastId ?? 0n);
    } else if (text === '>') {
      if (!xreadgroup) {
        fail(
          'ERR The > ID can be specified only when calling XREADGROUP using the GROUP ' +
            '<group> <consumer> option.',
        );
      }
      ids.push(ID_MAX);
    } else {
      ids.push(argId(text, 0n, true));
    }
  }
  const out: Reply[] = [];
  for (let i = 0; i < streamsCount; i++) {
    const key = argv[streamsArg + i]!;
    const s = getStream(c.db, key);
    if (s === undefined) continue;
    let gt = ids[i]!;
    let serve = false;
    let history = false;
    const g = groups[i];
    if (g !== undefined) {
      if (gt !== ID_MAX) {
        serve = true;
        history = true;
      } else if (s.length > 0 && s.lastValidId() > g.lastId) {
        serve = true;
        gt = g.lastId;
      }
    } else if (s.length > 0 && s.lastValidId() > gt) {
      serve = true;
    }
    if (!serve) continue;
    const start = incrId(gt) ?? 0n;
    if (g === undefined) {
      out.push([key, rangeReply(s, start, count)]);
      continue;
    }
    const read: GroupRead = { group: g, groupName: groupName!, consumerName, noack };
    out.push([key, groupReadReply(c, key, s, start, count, read, history)]);
    c.dirty();
  }
  c.preventPropagation();
  if (out.length > 0) return out;
  // Redis CLIENT_DENY_BLOCKING: inside MULTI a read that would block answers as a timeout.
  if (timeout !== -1n && !c.server.inExec) {
    fail(`ERR ${argv[0]!.toUpperCase()} with BLOCK is not supported yet`);
  }
  return NIL_ARRAY;
}

function rangeReply(s: RStream, start: StreamId, count: bigint): Reply[] {
  const out: Reply[] = [];
  for (const e of s.range(start, ID_MAX)) {
    out.push(entryReply(e));
    if (BigInt(out.length) === count) break;
  }
  return out;
}

/** Redis streamLookupConsumer (refreshing seen-time), creating it if needed. */
function lookupOrCreateConsumer(
  c: CommandContext,
  g: ConsumerGroup,
  name: Bin,
): { consumer: Consumer; created: boolean } {
  const found = g.consumers.get(name);
  if (found !== undefined) {
    found.seenTime = c.nowMs;
    return { consumer: found, created: false };
  }
  const consumer = g.createConsumer(name, c.nowMs)!;
  c.dirty();
  return { consumer, created: true };
}

/**
 * Redis streamReplyWithRange with a group (and streamReplyWithRangeFromConsumerPEL for history):
 * deliver entries after `start`, move the group's last ID and read counter, and record (and
 * propagate) a pending entry per delivery unless NOACK.
 */
function groupReadReply(
  c: CommandContext,
  key: Bin,
  s: RStream,
  start: StreamId,
  count: bigint,
  read: GroupRead,
  history: boolean,
): Reply[] {
  const { group, groupName, noack } = read;
  const { consumer, created } = lookupOrCreateConsumer(c, group, read.consumerName);
  if (created && noack) propagateConsumerCreation(c, key, groupName, consumer.name);
  const out: Reply[] = [];
  if (history) {
    for (const [id, nack] of consumer.pel.from(start)) {
      if (count !== 0n && BigInt(out.length) >= count) break;
      const e = s.find(id);
      if (e === undefined) {
        out.push([formatId(id), NIL_ARRAY]);
      } else {
        out.push(entryReply(e));
        nack.deliveryTime = c.nowMs;
        nack.deliveryCount++;
      }
    }
    return out;
  }
  let propagateLastId = false;
  for (const e of s.range(start, ID_MAX)) {
    if (e.id > group.lastId) {
      if (group.entriesRead !== ENTRIES_READ_INVALID && !s.rangeHasTombstones(e.id)) {
        group.entriesRead++;
      } else if (s.entriesAdded !== 0n) {
        group.entriesRead = s.estimateDistanceFromFirstEverEntry(e.id);
      }
      group.lastId = e.id;
      if (noack) propagateLastId = true;
    }
    out.push(entryReply(e));
    if (!noack) {
      let nack = group.pel.get(e.id);
      if (nack === undefined) {
        nack = { deliveryTime: c.nowMs, deliveryCount: 1n, consumer };
        group.pel.set(e.id, nack);
        consumer.pel.set(e.id, nack);
      } else {
        // Already pending (XGROUP SETID moved the group back): it changes owner.
        nack.consumer?.pel.delete(e.id);
        nack.consumer = consumer;
        nack.deliveryTime = c.nowMs;
        nack.deliveryCount = 1n;
        consumer.pel.set(e.id, nack);
      }
      propagateXclaim(c, key, group, groupName, formatId(e.id), nack);
    }
    if (count !== 0n && BigInt(out.length) === count) break;
  }
  if (propagateLastId) propagateGroupId(c, key, group, groupName);
  return out;
}

// ---- XGROUP ---------------------------------------------------------------------------------

const XGROUP_ARITY: Record<string, number> = {
  create: -5,
  setid: -5,
  destroy: 4,
  createconsumer: 5,
  delconsumer: 5,
  help: 2,
};

const XGROUP_HELP = [
  'XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CREATE <key> <groupname> <id|$> [option]',
  '    Create a new consumer group. Options are:',
  '    * MKSTREAM',
  '      Create the empty stream if it does not exist.',
  '    * ENTRIESREAD entries_read',
  "      Set the group's entries_read counter (internal use).",
  'CREATECONSUMER <key> <groupname> <consumer>',
  '    Create a new consumer in the specified group.',
  'DELCONSUMER <key> <groupname> <consumer>',
  '    Remove the specified consumer.',
  'DESTROY <key> <groupname>',
  '    Remove the specified group.',
  'SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]',
  '    Set the current group ID and entries_read counter.',
  'HELP',
  '    Prints this help.',
];

/** Redis xgroupCommand. */
function xgroup(c: CommandContext, argv: readonly Bin[]): Reply {
  const sub = checkSubcommand(XGROUP_SPEC, argv);
  if (sub === 'help') return helpReply(XGROUP_HELP);
  let mkstream = false;
  let entriesRead = ENTRIES_READ_INVALID;
  for (let i = 5; i < argv.length; ) {
    if (sub === 'create' && isArg(argv[i]!, 'mkstream')) {
      mkstream = true;
      i++;
    } else if (
      (sub === 'create' || sub === 'setid') &&
      isArg(argv[i]!, 'entriesread') &&
      i + 1 < argv.length
    ) {
      entriesRead = argLL(argv[i + 1]!);
      if (entriesRead < 0n && entriesRead !== ENTRIES_READ_INVALID) {
        fail('ERR value for ENTRIESREAD must be positive or -1');
      }
      i += 2;
    } else {
      subcommandSyntaxError(argv);
    }
  }
  const key = argv[2]!;
  const groupName = argv[3]!;
  c.db.lookupWrite(key);
  let s = getStream(c.db, key);
  let g: ConsumerGroup | undefined;
  if (!mkstream) {
    if (s === undefined) {
      fail(
        'ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may ' +
          'want to use the MKSTREAM option to create an empty stream automatically.',
      );
    }
    g = s.groups.get(groupName);
    if (g === undefined && sub !== 'create' && sub !== 'destroy') {
      fail(`NOGROUP No such consumer group '${cstr(groupName)}' for key name '${cstr(key)}'`);
    }
  }
  switch (sub) {
    case 'create': {
      if (argv.length > 8) subcommandSyntaxError(argv);
      let id: StreamId;
      if (argv[4] === '$') id = s?.lastId ?? 0n;
      else id = argId(argv[4]!, 0n, true);
      if (s === undefined) {
        s = new RStream();
        c.db.add(key, s);
        c.db.signalModified(key);
      }
      if (s.groups.has(groupName)) fail('BUSYGROUP Consumer Group name already exists');
      s.groups.set(groupName, new ConsumerGroup(id, entriesRead));
      c.dirty();
      return OK;
    }
    case 'setid': {
      if (argv.length !== 5 && argv.length !== 7) subcommandSyntaxError(argv);
      const id = argv[4] === '$' ? s!.lastId : argId(argv[4]!, 0n, false);
      g!.lastId = id;
      g!.entriesRead = entriesRead;
      c.dirty();
      return OK;
    }
    case 'destroy':
      if (g === undefined) return 0;
      s!.groups.delete(groupName);
      c.dirty();
      return 1;
    case 'createconsumer': {
      const created = g!.createConsumer(argv[4]!, c.nowMs);
      if (created === null) return 0;
      c.dirty();
      return 1;
    }
    default: {
      // delconsumer
      const consumer = g!.consumers.get(argv[4]!);
      if (consumer === undefined) return 0;
      const pending = consumer.pel.size;
      g!.deleteConsumer(consumer);
      c.dirty();
      return pending;
    }
  }
}

// ---- XACK -----------------------------------------------------------------------------------

/** Redis xackCommand: all IDs are checked before any is acknowledged. */
function xack(c: CommandContext, argv: readonly Bin[]): Reply {
  const s = getStream(c.db, argv[1]!);
  const g = s?.groups.get(argv[2]!);
  if (g === undefined) return 0;
  const ids = argv.slice(3).map((a) => argId(a, 0n, true));
  let acknowledged = 0;
  for (const id of ids) {
    if (g.ack(id)) {
      acknowledged++;
      c.dirty();
    }
  }
  return acknowledged;
}

// ---- XPENDING -------------------------------------------------------------------------------

/** Redis xpendingCommand. */
function xpending(c: CommandContext, argv: readonly Bin[]): Reply {
  const justinfo = argv.length === 3;
  if (argv.length !== 3 && (argv.length < 6 || argv.length > 9)) fail(ERR.syntax);
  let minidle = 0n;
  let count = 0n;
  let start = 0n;
  let end = 0n;
  let consumerName: Bin | null = null;
  if (argv.length >= 6) {
    let startIdx = 3;
    if (isArg(argv[3]!, 'idle')) {
      minidle = argLL(argv[4]!);
      if (argv.length < 8) fail(ERR.syntax);
      startIdx += 2;
    }
    count = argLL(argv[startIdx + 2]!);
    if (count < 0n) count = 0n;
    start = argIntervalId(argv[startIdx]!, 0n, true);
    end = argIntervalId(argv[startIdx + 1]!, (1n << 64n) - 1n, false);
    if (startIdx + 3 < argv.length) consumerName = argv[startIdx + 3]!;
  }
  const key = argv[1]!;
  const s = getStream(c.db, key);
  const g = s?.groups.get(argv[2]!);
  if (g === undefined)
    fail(`NOGROUP No such key '${cstr(key)}' or consumer group '${cstr(argv[2]!)}'`);
  if (justinfo) {
    if (g.pel.size === 0) return [0, null, null, NIL_ARRAY];
    const consumers: Reply[] = [];
    for (const consumer of g.sortedConsumers()) {
      if (consumer.pel.size > 0) consumers.push([consumer.name, String(consumer.pel.size)]);
    }
    return [g.pel.size, formatId(g.pel.first()!), formatId(g.pel.last()!), consumers];
  }
  let pel = g.pel;
  if (consumerName !== null) {
    const consumer = g.consumers.get(consumerName);
    if (consumer === undefined) return [];
    pel = consumer.pel;
  }
  const out: Reply[] = [];
  const now = c.nowMs;
  for (const [id, nack] of pel.from(start)) {
    if (count === 0n || id > end) break;
    if (minidle !== 0n && BigInt(now - nack.deliveryTime) < minidle) continue;
    count--;
    out.push([
      formatId(id),
      nack.consumer?.name ?? '',
      Math.max(0, now - nack.deliveryTime),
      intReply(nack.deliveryCount),
    ]);
  }
  return out;
}

// ---- XCLAIM ---------------------------------------------------------------------------------

/** Move a pending entry to `consumer` (Redis's shared part of XCLAIM and XAUTOCLAIM). */
function giveTo(nack: Nack, consumer: Consumer, id: StreamId): void {
  if (nack.consumer === consumer) return;
  nack.consumer?.pel.delete(id);
  consumer.pel.set(id, nack);
  nack.consumer = consumer;
}

/** Redis xclaimCommand. */
function xclaim(c: CommandContext, argv: readonly Bin[]): Reply {
  const key = argv[1]!;
  const groupName = argv[2]!;
  const s = getStream(c.db, key);
  const g = s?.groups.get(groupName);
  if (s === undefined || g === undefined) {
    fail(`NOGROUP No such key '${cstr(key)}' or consumer group '${cstr(groupName)}'`);
  }
  let minidle = argLL(argv[4]!, 'ERR Invalid min-idle-time argument for XCLAIM');
  if (minidle < 0n) minidle = 0n;
  const ids: StreamId[] = [];
  let j = 5;
  for (; j < argv.length; j++) {
    const parsed = parseStreamId(argv[j]!, 0n, true);
    if (parsed === null) break;
    ids.push(parsed.id);
  }
  const now = c.nowMs;
  let deliveryTime = -1n;
  let retryCount = -1n;
  let force = false;
  let justid = false;
  let lastId = 0n;
  for (; j < argv.length; j++) {
    const moreargs = argv.length - 1 - j;
    const opt = argv[j]!;
    if (isArg(opt, 'force')) force = true;
    else if (isArg(opt, 'justid')) justid = true;
    else if (isArg(opt, 'idle') && moreargs > 0) {
      j++;
      const idle = argLL(argv[j]!, 'ERR Invalid IDLE option argument for XCLAIM');
      deliveryTime = BigInt(now) - idle;
    } else if (isArg(opt, 'time') && moreargs > 0) {
      j++;
      deliveryTime = argLL(argv[j]!, 'ERR Invalid TIME option argument for XCLAIM');
    } else if (isArg(opt, 'retrycount') && moreargs > 0) {
      j++;
      retryCount = argLL(argv[j]!, 'ERR Invalid RETRYCOUNT option argument for XCLAIM');
    } else if (isArg(opt, 'lastid') && moreargs > 0) {
      j++;
      lastId = argId(argv[j]!, 0n, true);
    } else {
      fail(`ERR Unrecognized XCLAIM option '${cstr(opt)}'`);
    }
  }
  let propagateLastId = false;
  if (lastId > g.lastId) {
    g.lastId = lastId;
    propagateLastId = true;
  }
  // Redis: a bogus delivery time (negative or in the future) is taken as now.
  const when =
    deliveryTime === -1n || deliveryTime < 0n || deliveryTime > BigInt(now)
      ? now
      : Number(deliveryTime);
  let consumer: Consumer | null = null;
  const out: Reply[] = [];
  for (let k = 0; k < ids.length; k++) {
    const id = ids[k]!;
    const idArg = argv[5 + k]!;
    let nack = g.pel.get(id);
    if (s.find(id) === undefined) {
      if (nack !== undefined) {
        propagateXclaim(c, key, g, groupName, idArg, nack);
        propagateLastId = false;
        c.dirty();
        g.ack(id);
      }
      continue;
    }
    if (force && nack === undefined) {
      nack = { deliveryTime: now, deliveryCount: 1n, consumer: null };
      g.pel.set(id, nack);
    }
    if (nack === undefined) continue;
    if (nack.consumer !== null && minidle !== 0n && BigInt(now - nack.deliveryTime) < minidle) {
      continue;
    }
    consumer ??= lookupOrCreateConsumer(c, g, argv[3]!).consumer;
    nack.deliveryTime = when;
    if (retryCount >= 0n) nack.deliveryCount = retryCount;
    else if (!justid) nack.deliveryCount++;
    giveTo(nack, consumer, id);
    out.push(justid ? formatId(id) : entryReply(s.find(id)!));
    propagateXclaim(c, key, g, groupName, idArg, nack);
    propagateLastId = false;
    c.dirty();
  }
  if (propagateLastId) {
    propagateGroupId(c, key, g, groupName);
    c.dirty();
  }
  c.preventPropagation();
  return out;
}

// ---- XAUTOCLAIM -----------------------------------------------------------------------------

/** LONG_MAX / max(sizeof(streamID), attempts factor 10), XAUTOCLAIM's COUNT ceiling. */
const XAUTOCLAIM_MAX_COUNT = 576460752303423487n;
/**
 * Redis allocates COUNT stream IDs up front with ztrymalloc; a COUNT whose array cannot be
 * allocated is refused. Where malloc gives up depends on the machine; this is far beyond any RAM.
 */
const XAUTOCLAIM_ALLOCATABLE = 1n << 40n;

/** Redis xautoclaimCommand. */
function xautoclaim(c: CommandContext, argv: readonly Bin[]): Reply {
  const key = argv[1]!;
  const groupName = argv[2]!;
  let minidle = argLL(argv[4]!, 'ERR Invalid min-idle-time argument for XAUTOCLAIM');
  if (minidle < 0n) minidle = 0n;
  const start = argIntervalId(argv[5]!, 0n, true);
  let countBig = 100n;
  let justid = false;
  for (let j = 6; j < argv.length; j++) {
    const moreargs = argv.length - 1 - j;
    const opt = argv[j]!;
    if (isArg(opt, 'count') && moreargs > 0) {
      const n = argLL(argv[j + 1]!, 'ERR COUNT must be > 0');
      if (n < 1n || n > XAUTOCLAIM_MAX_COUNT) fail('ERR COUNT must be > 0');
      countBig = n;
      j++;
    } else if (isArg(opt, 'justid')) {
      justid = true;
    } else {
      fail(ERR.syntax);
    }
  }
  const s = getStream(c.db, key);
  const g = s?.groups.get(groupName);
  if (s === undefined || g === undefined) {
    fail(`NOGROUP No such key '${cstr(key)}' or consumer group '${cstr(groupName)}'`);
  }
  if (countBig > XAUTOCLAIM_ALLOCATABLE) {
    fail('ERR Insufficient memory, failed allocating transient memory, COUNT too high.');
  }
  let count = Number(countBig);
  let attempts = count * 10;
  const now = c.nowMs;
  const keys: StreamId[] = [];
  for (let i = g.pel.lowerBound(start); g.pel.keyAt(i) !== undefined; i++) {
    keys.push(g.pel.keyAt(i)!);
    if (keys.length > attempts) break; // the loop below never looks further
  }
  let consumer: Consumer | null = null;
  const claimed: Reply[] = [];
  const deleted: Reply[] = [];
  let next = 0;
  while (attempts > 0 && count > 0 && next < keys.length) {
    attempts--;
    const id = keys[next++]!;
    const nack = g.pel.get(id)!;
    if (s.find(id) === undefined) {
      propagateXclaim(c, key, g, groupName, formatId(id), nack);
      c.dirty();
      g.ack(id);
      deleted.push(formatId(id));
      count--;
      continue;
    }
    if (minidle !== 0n && BigInt(now - nack.deliveryTime) < minidle) continue;
    consumer ??= lookupOrCreateConsumer(c, g, argv[3]!).consumer;
    nack.deliveryTime = now;
    if (!justid) nack.deliveryCount++;
    giveTo(nack, consumer, id);
    claimed.push(justid ? formatId(id) : entryReply(s.find(id)!));
    count--;
    propagateXclaim(c, key, g, groupName, formatId(id), nack);
    c.dirty();
  }
  const cursor = keys[next];
  c.preventPropagation();
  return [cursor === undefined ? '0-0' : formatId(cursor), claimed, deleted];
}

const XGROUP_SPEC: CommandSpec = {
  ...cmd('xgroup', -2, ['write'], [2, 2, 1], (c, argv) => xgroup(c, argv)),
  subcommands: XGROUP_ARITY,
};

export const streamGroupCommands: CommandSpec[] = [
  cmd('xread', -4, ['readonly'], [0, 0, 0], (c, argv) => xread(c, argv, false)),
  cmd('xreadgroup', -7, ['write'], [0, 0, 0], (c, argv) => xread(c, argv, true)),
  XGROUP_SPEC,
  cmd('xack', -4, ['write', 'fast'], KEY1, xack),
  cmd('xpending', -3, ['readonly'], KEY1, xpending),
  cmd('xclaim', -6, ['write', 'fast'], KEY1, xclaim),
  cmd('xautoclaim', -6, ['write', 'fast'], KEY1, xautoclaim),
];
