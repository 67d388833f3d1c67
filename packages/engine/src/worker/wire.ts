// The messages between a worker thread's client (worker-client.ts) and the engine's host for it
// (worker-host.ts), over one MessagePort. Requests carry argv as Bin strings (bytes as latin1
// code units, so any bytes cross as they are); replies carry the raw Reply shapes, with the
// class-based ones (status, error, nil array) tagged, because structured clone keeps plain data
// only.

import type { Bin } from '../bytes.ts';
import { ErrorReply, NilArrayReply, StatusReply, type Reply } from '../reply.ts';

/** Worker → engine: run `argvs` back to back for handle `handle` (its own connection state). */
export interface WireRequest {
  readonly id: number;
  readonly handle: number;
  /** The database a new handle starts in (used when the engine first sees `handle`). */
  readonly db: number;
  readonly argvs: Bin[][];
}

/** Engine → worker: the replies of request `id`, or why it failed (engine closed, fatal). */
export type WireResponse =
  | { readonly id: number; readonly replies: WireReply[] }
  | { readonly id: number; readonly error: { code: string; message: string } };

export type WireReply =
  | Bin
  | number
  | bigint
  | null
  | { readonly s: string }
  | { readonly e: string }
  | { readonly nil: true }
  | WireReply[];

export function toWire(reply: Reply): WireReply {
  if (typeof reply === 'string' || typeof reply === 'number' || typeof reply === 'bigint') {
    return reply;
  }
  if (reply === null) return null;
  if (reply instanceof StatusReply) return { s: reply.status };
  if (reply instanceof ErrorReply) return { e: reply.message };
  if (reply instanceof NilArrayReply) return { nil: true };
  const out: WireReply[] = new Array<WireReply>(reply.length);
  for (let i = 0; i < reply.length; i++) out[i] = toWire(reply[i]!);
  return out;
}

/** Back to the engine's Reply shapes (maps arrive as the flat arrays RESP2 has). */
export function fromWire(reply: WireReply): Reply {
  if (reply === null || typeof reply !== 'object') return reply;
  if (Array.isArray(reply)) return reply.map(fromWire);
  if ('s' in reply) return new StatusReply(reply.s);
  if ('e' in reply) return new ErrorReply(reply.e);
  return NilArrayReply.instance;
}
