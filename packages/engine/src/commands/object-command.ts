// OBJECT ENCODING | REFCOUNT | IDLETIME | FREQ | HELP (Redis 7.0 object.c objectCommand).
//
// ENCODING reports what Redis 7.0 would use for the value under its default thresholds:
// strings int (a canonical integer of at most 20 characters) / embstr (at most 44 bytes) / raw;
// lists quicklist (7.0 has no listpack lists); hashes listpack or hashtable, sets intset or
// hashtable and sorted sets listpack or skiplist, each converted one way as Redis converts them
// (the value types track it). Strings carry no encoding here, so a short value written by APPEND
// or SETRANGE, which Redis keeps raw, reports embstr.
// REFCOUNT is Redis's: 2147483647 for the shared integers 0..9999, else 1.
// IDLETIME needs a per-key access clock the keyspace does not keep (it would cost an entry per
// key); it answers an error instead of a made-up number. FREQ answers Redis's error for a
// maxmemory policy that is not LFU (aofkv has no eviction).

import { parseLongLong, type Bin } from '../bytes.ts';
import { ErrorReply, helpReply, type Reply } from '../reply.ts';
import type { RedisValue } from '../keyspace/values.ts';
import { cmd, type CommandContext, type CommandSpec } from './types.ts';

/** Redis OBJ_ENCODING_EMBSTR_SIZE_LIMIT, OBJ_SHARED_INTEGERS, OBJ_SHARED_REFCOUNT. */
const EMBSTR_SIZE_LIMIT = 44;
const SHARED_INTEGERS = 10000;
const SHARED_REFCOUNT = 2147483647;

const SUBCOMMAND_ARITY: Record<string, number> = {
  encoding: 3,
  refcount: 3,
  idletime: 3,
  freq: 3,
  help: 2,
};

function objectCommand(c: CommandContext, argv: readonly Bin[]): Reply {
  const sub = argv[1]!.toLowerCase();
  const arity = SUBCOMMAND_ARITY[sub];
  if (arity === undefined) {
    return new ErrorReply(`ERR unknown subcommand '${argv[1]!.slice(0, 128)}'. Try OBJECT HELP.`);
  }
  if (argv.length !== arity) {
    return new ErrorReply(`ERR wrong number of arguments for 'object|${sub}' command`);
  }
  if (sub === 'help') {
    return helpReply([
      'OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
      'ENCODING <key>',
      '    Return the kind of internal representation used in order to store the value',
      '    associated with a <key>.',
      'FREQ <key>',
      '    Return the access frequency index of the <key>. The returned integer is',
      '    proportional to the logarithm of the recent access frequency of the key.',
      'IDLETIME <key>',
      '    Return the idle time of the <key>, that is the approximated number of',
      '    seconds elapsed since the last access to the key.',
      'REFCOUNT <key>',
      '    Return the number of references of the value associated with the specified',
      '    <key>.',
      'HELP',
      '    Prints this help.',
    ]);
  }
  const value = c.db.lookupRead(argv[2]!);
  if (value === undefined) return null;
  switch (sub) {
    case 'encoding':
      return encodingOf(value);
    case 'refcount':
      return isSharedInteger(value) ? SHARED_REFCOUNT : 1;
    case 'idletime':
      return new ErrorReply(
        'ERR OBJECT IDLETIME is not supported: aofkv does not track key access times',
      );
    default:
      return new ErrorReply(
        'ERR An LFU maxmemory policy is not selected, access frequency not tracked. ' +
          'Please note that when switching between policies at runtime LRU and LFU data ' +
          'will take some time to adjust.',
      );
  }
}

export function encodingOf(value: RedisValue): string {
  if (typeof value === 'string') {
    if (value.length <= 20 && parseLongLong(value) !== null) return 'int';
    return value.length <= EMBSTR_SIZE_LIMIT ? 'embstr' : 'raw';
  }
  switch (value.type) {
    case 'list':
      return 'quicklist';
    case 'hash':
    case 'set':
    case 'zset':
      return value.encoding;
    case 'stream':
      return 'stream';
  }
}

function isSharedInteger(value: RedisValue): boolean {
  if (typeof value !== 'string' || value.length > 4) return false;
  const n = parseLongLong(value);
  return n !== null && n >= 0n && n < BigInt(SHARED_INTEGERS);
}

export const objectCommands: CommandSpec[] = [
  cmd('object', -2, ['readonly'], [2, 2, 1], objectCommand),
];
