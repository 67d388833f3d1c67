// Shared pieces of the stream commands (Redis t_stream.c): ID arguments with Redis's error texts,
// the XADD/XTRIM trimming options, entry replies, and the commands Redis propagates in place of
// consumer-group reads (streamPropagateXCLAIM, streamPropagateGroupID,
// streamPropagateConsumerCreation).

import { parseLongLong, type Bin } from '../bytes.ts';
import type { Db } from '../keyspace/db.ts';
import type { ConsumerGroup, Nack } from '../keyspace/stream-groups.ts';
import { decrId, formatId, incrId, parseStreamId, type StreamId } from '../keyspace/stream-id.ts';
import type { StreamEntry } from '../keyspace/stream-node.ts';
import type { RStream, TrimArgs } from '../keyspace/stream.ts';
import { ERR, StatusReply, fail, type Reply } from '../reply.ts';
import { isArg } from './args.ts';
import type { CommandContext } from './types.ts';

export const INVALID_ID = 'ERR Invalid stream ID specified as stream command argument';

export function getStream(db: Db, key: Bin): RStream | undefined {
  const v = db.lookupRead(key);
  if (v === undefined) return undefined;
  if (typeof v === 'string' || v.type !== 'stream') fail(ERR.wrongType);
  return v;
}

/** Redis streamParseIDOrReply (strict = false) / streamParseStrictIDOrReply (strict = true). */
export function argId(text: Bin, missingSeq: bigint, strict: boolean): StreamId {
  const parsed = parseStreamId(text, missingSeq, strict);
  if (parsed === null) fail(INVALID_ID);
  return parsed.id;
}

/**
 * Redis streamParseIntervalIDOrReply plus the exclusive-bound step of XRANGE/XPENDING: "(" makes
 * the bound exclusive (and strict), moving it one ID inwards.
 */
export function argIntervalId(text: Bin, missingSeq: bigint, isStart: boolean): StreamId {
  const exclusive = text.length > 1 && text[0] === '(';
  const id = argId(exclusive ? text.slice(1) : text, missingSeq, exclusive);
  if (!exclusive) return id;
  const moved = isStart ? incrId(id) : decrId(id);
  if (moved === null) fail(`ERR invalid ${isStart ? 'start' : 'end'} ID for the interval`);
  return moved;
}

/** Redis getLongLongFromObjectOrReply as a bigint (the full 64-bit range). */
export function argLL(text: Bin, message: string = ERR.notInteger): bigint {
  const v = parseLongLong(text);
  if (v === null) fail(message);
  return v;
}

/** A 64-bit counter as a reply integer (a number while exact). */
export function intReply(v: bigint): number | bigint {
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

/** One entry as Redis replies it: [id, [field, value, ...]]. */
export function entryReply(e: StreamEntry): Reply {
  return [formatId(e.id), [...e.fields]];
}

/** What XADD / XTRIM options parse to (Redis streamAddTrimArgs). */
export interface AddTrimArgs {
  trim: TrimArgs | null;
  /** argv index of the MAXLEN count / MINID id (for the AOF rewrite of approximate trims). */
  trimArgIndex: number;
  /** XADD: argv index of the ID. */
  idIndex: number;
  id: StreamId;
  idGiven: boolean;
  seqGiven: boolean;
  noMkstream: boolean;
}

const STREAM_NODE_MAX_ENTRIES = 100;

/** Redis streamParseAddOrTrimArgsOrReply. */
export function parseAddOrTrimArgs(
  c: CommandContext,
  argv: readonly Bin[],
  xadd: boolean,
): AddTrimArgs {
  const out: AddTrimArgs = {
    trim: null,
    trimArgIndex: 0,
    idIndex: 0,
    id: 0n,
    idGiven: false,
    seqGiven: true,
    noMkstream: false,
  };
  let strategy: 'maxlen' | 'minid' | null = null;
  let approx = false;
  let maxlen = 0;
  let minid = 0n;
  let limit = 0n;
  let limitGiven = false;
  let i = 2;
  for (; i < argv.length; i++) {
    const moreargs = argv.length - 1 - i;
    const opt = argv[i]!;
    if (xadd && opt === '*') break;
    if ((isArg(opt, 'maxlen') || isArg(opt, 'minid')) && moreargs > 0) {
      if (strategy !== null) {
        fail('ERR syntax error, MAXLEN and MINID options at the same time are not compatible');
      }
      approx = false;
      const next = argv[i + 1]!;
      if (moreargs >= 2 && next === '~') {
        approx = true;
        i++;
      } else if (moreargs >= 2 && next === '=') {
        i++;
      }
      if (isArg(opt, 'maxlen')) {
        const n = argLL(argv[i + 1]!);
        if (n < 0n) fail('ERR The MAXLEN argument must be >= 0.');
        maxlen = n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
        strategy = 'maxlen';
      } else {
        minid = argId(argv[i + 1]!, 0n, true);
        strategy = 'minid';
      }
      i++;
      out.trimArgIndex = i;
    } else if (isArg(opt, 'limit') && moreargs > 0) {
      limit = argLL(argv[i + 1]!);
      if (limit < 0n) fail('ERR The LIMIT argument must be >= 0.');
      limitGiven = true;
      i++;
    } else if (xadd && isArg(opt, 'nomkstream')) {
      out.noMkstream = true;
    } else if (xadd) {
      const parsed = parseStreamId(opt, 0n, true, true);
      if (parsed === null) fail(INVALID_ID);
      out.id = parsed.id;
      out.seqGiven = parsed.seqGiven;
      out.idGiven = true;
      break;
    } else {
      fail(ERR.syntax);
    }
  }
  out.idIndex = i;
  if (limit !== 0n && strategy === null) {
    fail('ERR syntax error, LIMIT cannot be used without specifying a trimming strategy');
  }
  if (!xadd && strategy === null) {
    fail('ERR syntax error, XTRIM must be called with a trimming strategy');
  }
  if (c.server.isLoading()) {
    // Redis mustObeyClient: the AOF carries exact (rewritten) trims, never limited.
    limit = 0n;
  } else if (limitGiven) {
    if (!approx) fail('ERR syntax error, LIMIT cannot be used without the special ~ option');
  } else {
    // Redis caps approximate trimming at 100 nodes' worth of entries.
    limit = approx ? BigInt(100 * STREAM_NODE_MAX_ENTRIES) : 0n;
  }
  if (strategy !== null) {
    const limitN = limit > BigInt(Number.MAX_SAFE_INTEGER) ? 0 : Number(limit);
    out.trim = { strategy, approx, limit: limitN, maxlen, minid };
  }
  return out;
}

/**
 * Redis streamRewriteApproxSpecifier + streamRewriteTrimArgument: an approximate trim reaches the
 * AOF as an exact one to what it left (MAXLEN = <length>, MINID = <first ID, tombstones counted>).
 */
export function rewriteApproxTrim(argv: Bin[], s: RStream, trim: TrimArgs, index: number): void {
  argv[index - 1] = '=';
  argv[index] = trim.strategy === 'maxlen' ? String(s.length) : formatId(s.edgeId(true, false));
}

/**
 * Redis streamPropagateXCLAIM: the idempotent XCLAIM that recreates one pending entry
 * (XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n FORCE JUSTID LASTID group-last-id).
 */
export function propagateXclaim(
  c: CommandContext,
  key: Bin,
  group: ConsumerGroup,
  groupName: Bin,
  idArg: Bin,
  nack: Nack,
): void {
  c.alsoPropagate(c.db.id, [
    'XCLAIM',
    key,
    groupName,
    nack.consumer?.name ?? '',
    '0',
    idArg,
    'TIME',
    String(nack.deliveryTime),
    'RETRYCOUNT',
    String(nack.deliveryCount),
    'FORCE',
    'JUSTID',
    'LASTID',
    formatId(group.lastId),
  ]);
}

/** Redis streamPropagateGroupID: XGROUP SETID key group last-id ENTRIESREAD n. */
export function propagateGroupId(
  c: CommandContext,
  key: Bin,
  group: ConsumerGroup,
  groupName: Bin,
): void {
  c.alsoPropagate(c.db.id, [
    'XGROUP',
    'SETID',
    key,
    groupName,
    formatId(group.lastId),
    'ENTRIESREAD',
    String(group.entriesRead),
  ]);
}

/** Redis streamPropagateConsumerCreation: XGROUP CREATECONSUMER key group consumer. */
export function propagateConsumerCreation(
  c: CommandContext,
  key: Bin,
  groupName: Bin,
  consumer: Bin,
): void {
  c.alsoPropagate(c.db.id, ['XGROUP', 'CREATECONSUMER', key, groupName, consumer]);
}

/**
 * A Bin as Redis's addReplyErrorFormat prints it with %s: up to the first NUL byte, and with CR
 * and LF turned into spaces (an error reply is one line).
 */
export function cstr(s: Bin): Bin {
  const nul = s.indexOf('\0');
  return (nul === -1 ? s : s.slice(0, nul)).replace(/[\r\n]/g, ' ');
}

/** Redis addReplyHelp: the lines as status replies. */
export function helpReply(lines: readonly string[]): Reply {
  return lines.map((l) => new StatusReply(l));
}

/** Redis addReplySubcommandSyntaxError. */
export function subcommandSyntaxError(argv: readonly Bin[]): never {
  fail(
    `ERR unknown subcommand or wrong number of arguments for '${cstr(argv[1]!).slice(0, 128)}'. ` +
      `Try ${argv[0]!.toUpperCase()} HELP.`,
  );
}
