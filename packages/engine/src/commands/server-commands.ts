// Connection and server commands that need nothing but the keyspace: PING ECHO TIME SELECT DBSIZE
// FLUSHDB FLUSHALL SWAPDB, plus the table entries of MULTI/EXEC/DISCARD/WATCH/UNWATCH (their
// behaviour lives in the dispatcher, as in Redis where processCommand special-cases them).

import { parseLongLong, type Bin } from '../bytes.ts';
import { ERR, NIL_ARRAY, OK, PONG, fail, wrongArity, type Reply } from '../reply.ts';
import { isArg } from './args.ts';
import { cmd, type CommandContext, type CommandSpec } from './types.ts';

const NO_KEYS = [0, 0, 0] as const;

function transactionStub(): Reply {
  return NIL_ARRAY; // never reached: the dispatcher handles these commands itself
}

/** Redis getIntFromObjectOrReply: a long, then the int range check (custom message or Redis's). */
function intArg(s: Bin, message?: string): number {
  const v = parseLongLong(s);
  if (v === null) fail(message ?? ERR.notInteger);
  if (v > 2147483647n || v < -2147483648n) {
    fail(message ?? 'ERR value is out of range, value must between -2147483648 and 2147483647');
  }
  return Number(v);
}

/** Redis getFlushCommandFlags: optional ASYNC|SYNC. */
function checkFlushArgs(argv: readonly Bin[]): void {
  if (argv.length > 2) fail(ERR.syntax);
  if (argv.length === 2 && !isArg(argv[1]!, 'sync') && !isArg(argv[1]!, 'async')) fail(ERR.syntax);
}

function flushdb(c: CommandContext, argv: readonly Bin[]): Reply {
  checkFlushArgs(argv);
  c.server.touchAllWatchedKeysInDb(c.db, null);
  c.dirty(c.db.clear());
  // Redis forceCommandPropagation: FLUSHDB reaches the AOF even when the db was empty (7.0.1+).
  c.forcePropagation();
  return OK;
}

function flushall(c: CommandContext, argv: readonly Bin[]): Reply {
  checkFlushArgs(argv);
  let removed = 0;
  for (const db of c.server.dbs) {
    c.server.touchAllWatchedKeysInDb(db, null);
    removed += db.clear();
  }
  c.dirty(removed + 1); // Redis also counts the implicit save (server.dirty++)
  c.forcePropagation();
  return OK;
}

export const serverCommands: CommandSpec[] = [
  // Redis 7.0 PING has neither the loading nor the stale flag: while loading it answers -LOADING.
  cmd('ping', -1, ['fast'], NO_KEYS, (_c, argv) => {
    if (argv.length > 2) fail(wrongArity('ping'));
    return argv.length === 1 ? PONG : argv[1]!;
  }),
  cmd('echo', 2, ['fast', 'stale', 'loading'], NO_KEYS, (_c, argv) => argv[1]!),
  cmd('time', 1, ['fast', 'stale', 'loading'], NO_KEYS, (c) => {
    const ms = c.nowMs;
    const sec = Math.floor(ms / 1000);
    return [String(sec), String((ms - sec * 1000) * 1000)];
  }),
  cmd('select', 2, ['fast', 'stale', 'loading'], NO_KEYS, (c, argv) => {
    const index = intArg(argv[1]!);
    if (index < 0 || index >= c.server.dbs.length) fail('ERR DB index is out of range');
    c.client.dbIndex = index;
    return OK;
  }),
  cmd('dbsize', 1, ['readonly', 'fast'], NO_KEYS, (c) => c.db.size),
  cmd('flushdb', -1, ['write'], NO_KEYS, flushdb),
  cmd('flushall', -1, ['write'], NO_KEYS, flushall),
  cmd('swapdb', 3, ['write', 'fast'], NO_KEYS, (c, argv) => {
    const a = intArg(argv[1]!, 'ERR invalid first DB index');
    const b = intArg(argv[2]!, 'ERR invalid second DB index');
    const n = c.server.dbs.length;
    if (a < 0 || a >= n || b < 0 || b >= n) fail('ERR DB index is out of range');
    if (a !== b) c.server.swapDbs(a, b);
    c.dirty();
    return OK;
  }),
  cmd('multi', 1, ['fast', 'loading', 'stale'], NO_KEYS, transactionStub),
  cmd('exec', 1, ['loading', 'stale'], NO_KEYS, transactionStub),
  cmd('discard', 1, ['fast', 'loading', 'stale'], NO_KEYS, transactionStub),
  cmd('watch', -2, ['fast', 'loading', 'stale'], [1, -1, 1], transactionStub),
  cmd('unwatch', 1, ['fast', 'loading', 'stale'], NO_KEYS, transactionStub),
];
