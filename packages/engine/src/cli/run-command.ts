// Runs one shell command through the engine's public submission path and hands back a Reply for
// printing. We go through Engine.submit (not Server.execute directly) because submit is what
// schedules beforeSleep: the AOF flush, and the delivery of the reply only after the write was
// written (and fsynced under appendfsync always). A shell that printed "OK" before that would
// acknowledge writes Redis would not have acknowledged yet.
//
// submit(…, asBuffer=true) resolves with bulk strings as Buffers (exact bytes), statuses as JS
// strings, integers, null, arrays; command errors reject with ReplyError (top level) or appear as
// ReplyError elements (EXEC). Mapping that back gives the original Reply except that a nil array
// (*-1) becomes nil — which redis-cli prints identically (hiredis maps both to REDIS_REPLY_NIL).

import { bufferToBin, type Bin } from '../bytes.ts';
import type { BufferReplyValue, Engine } from '../engine.ts';
import { ReplyError } from '../errors.ts';
import { ErrorReply, StatusReply, type Reply } from '../reply.ts';
import type { Client } from '../server.ts';

/**
 * Execute `argv` (raw bytes) for `client`; resolves with the reply once the engine delivers it.
 * Rejects only with engine errors (closed, fatal AOF failure).
 */
export async function runCommand(engine: Engine, client: Client, argv: Bin[]): Promise<Reply> {
  const pending = engine.submit(
    client,
    argv,
    true,
  ) as Promise<unknown> as Promise<BufferReplyValue>;
  try {
    return toReply(await pending);
  } catch (err) {
    if (err instanceof ReplyError) return new ErrorReply(err.message);
    throw err;
  }
}

/** BufferReplyValue → Reply (see the header for the one lossy case, which prints the same). */
export function toReply(value: BufferReplyValue): Reply {
  if (value === null || typeof value === 'number' || typeof value === 'bigint') return value;
  if (typeof value === 'string') return new StatusReply(value);
  if (Buffer.isBuffer(value)) return bufferToBin(value);
  if (value instanceof ReplyError) return new ErrorReply(value.message);
  return value.map(toReply);
}
