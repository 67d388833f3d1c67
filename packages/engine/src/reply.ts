// Reply values produced by command handlers, shaped like RESP2 so that the CLI can print them
// exactly as redis-cli does and the differential tests can compare them with a real server.
//   string          bulk string (Bin: bytes)
//   number | bigint integer (bigint only outside the safe-integer range)
//   null            nil bulk string ($-1)
//   Reply[]         array
//   StatusReply     simple string (+OK)
//   ErrorReply      error (-ERR ...)
//   NIL_ARRAY       nil array (*-1)

import type { Bin } from './bytes.ts';

export class StatusReply {
  readonly status: string;
  constructor(status: string) {
    this.status = status;
  }
}

export class ErrorReply {
  /** Full error text without the leading '-', e.g. "ERR syntax error". */
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
  /** The Redis error prefix: "ERR", "WRONGTYPE", "MISCONF", ... */
  get code(): string {
    const sp = this.message.indexOf(' ');
    return sp === -1 ? this.message : this.message.slice(0, sp);
  }
}

export class NilArrayReply {
  static readonly instance = new NilArrayReply();
  private constructor() {}
}

/**
 * A map reply (Redis addReplyMapLen): alternating keys and values. It is an array, so everything
 * that handles RESP2 replies sees the flat array Redis sends in RESP2; the network encoder sends
 * it as a `%` map to RESP3 clients.
 */
export class MapReply extends Array<Reply> {
  static fromEntries(entries: readonly (readonly [Reply, Reply])[]): MapReply {
    const out = new MapReply();
    for (const [k, v] of entries) out.push(k, v);
    return out;
  }
}

export type Reply =
  | Bin
  | number
  | bigint
  | null
  | StatusReply
  | ErrorReply
  | NilArrayReply
  | Reply[];

export const OK = new StatusReply('OK');
export const QUEUED = new StatusReply('QUEUED');
export const PONG = new StatusReply('PONG');
export const NIL_ARRAY = NilArrayReply.instance;

/** Thrown by handlers (and helpers they call) to reply with an error; caught by the dispatcher. */
export class CommandError extends Error {
  readonly reply: ErrorReply;
  constructor(message: string) {
    super(message);
    this.reply = new ErrorReply(message);
  }
}

// Shared error texts, exactly as Redis 7.0 sends them (server.c createSharedObjects).
export const ERR = {
  wrongType: 'WRONGTYPE Operation against a key holding the wrong kind of value',
  syntax: 'ERR syntax error',
  notInteger: 'ERR value is not an integer or out of range',
  notFloat: 'ERR value is not a valid float',
  noSuchKey: 'ERR no such key',
  outOfRange: 'ERR index out of range',
  overflow: 'ERR increment or decrement would overflow',
  nanOrInf: 'ERR increment would produce NaN or Infinity',
  positive: 'ERR value is out of range, must be positive',
  hashNotInteger: 'ERR hash value is not an integer',
  hashNotFloat: 'ERR hash value is not a float',
  minMaxNotFloat: 'ERR min or max is not a float',
  minMaxLex: 'ERR min or max not valid string range item',
} as const;

/** Redis addReplyHelp: the lines as status replies. */
export function helpReply(lines: readonly string[]): StatusReply[] {
  return lines.map((line) => new StatusReply(line));
}

export function wrongArity(name: string): string {
  return `ERR wrong number of arguments for '${name}' command`;
}

export function fail(message: string): never {
  throw new CommandError(message);
}
