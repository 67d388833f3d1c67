// Reply → RESP bytes, as a latin1 string (each code unit one byte; Bin values pass unchanged).
// The connection appends these strings to its pending output and writes them once per event-loop
// turn, so encoding allocates only the string pieces V8 joins as a rope.
//
// RESP2 and RESP3 differ here only where Redis 7.0's addReply* functions differ for the reply
// shapes the engine produces: a nil bulk or nil array is `_` in RESP3, and a MapReply is a `%`
// map in RESP3 but a flat array in RESP2 (Redis addReplyMapLen).

import type { Bin } from '../bytes.ts';
import { ErrorReply, MapReply, NilArrayReply, StatusReply, type Reply } from '../reply.ts';

export type RespVersion = 2 | 3;

export function encodeReply(reply: Reply, resp: RespVersion): Bin {
  if (typeof reply === 'string') return `$${reply.length}\r\n${reply}\r\n`;
  if (typeof reply === 'number') {
    // Integer replies are integers; a double never reaches here (handlers format them as bulks).
    return `:${reply}\r\n`;
  }
  if (typeof reply === 'bigint') return `:${reply}\r\n`;
  if (reply === null) return resp === 3 ? '_\r\n' : '$-1\r\n';
  if (reply instanceof StatusReply) return `+${reply.status}\r\n`;
  if (reply instanceof ErrorReply) return encodeError(reply.message);
  if (reply instanceof NilArrayReply) return resp === 3 ? '_\r\n' : '*-1\r\n';
  let out =
    reply instanceof MapReply && resp === 3 ? `%${reply.length >> 1}\r\n` : `*${reply.length}\r\n`;
  for (let i = 0; i < reply.length; i++) out += encodeReply(reply[i]!, resp);
  return out;
}

/**
 * Redis addReplyErrorLength: an error is one line; CR and LF inside it would end it early, so
 * they become spaces (Redis 7.0 afterErrorReply / addReplyErrorFormat).
 */
export function encodeError(message: string): Bin {
  const line =
    message.includes('\r') || message.includes('\n') ? message.replace(/[\r\n]/g, ' ') : message;
  return `-${line}\r\n`;
}
