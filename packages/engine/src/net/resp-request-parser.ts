// DESIGN: the request side of the Redis protocol, as Redis 7.0's networking.c reads it
// (processInputBuffer, processMultibulkBuffer, processInlineBuffer), for one connection.
//
// Bytes are appended as they arrive; `next()` returns one whole command at a time, or NEED_MORE,
// or a ProtocolError whose text is the exact `-ERR Protocol error: ...` Redis answers before it
// closes the connection. The state between calls is Redis's: the request type, the number of
// bulks still expected (multibulklen), the declared length of the bulk being read (bulklen) and
// the arguments read so far, so a command arriving in many small reads is scanned once.
//
// Bounds (a hostile client must not make the server allocate what it has not sent):
//   - a length line (`*N`, `$N`) or an inline command longer than PROTO_INLINE_MAX_SIZE (64 KiB)
//     without its line end is a protocol error, as in Redis;
//   - `$N` above proto-max-bulk-len is a protocol error; before AUTH, Redis's tighter limits
//     (10 bulks, 16 KiB per bulk) apply;
//   - a declared length allocates nothing: the buffer grows only by the bytes that arrived (at
//     most doubling them), and the argv array grows by push;
//   - the caller closes a connection whose unparsed bytes exceed client-query-buffer-limit
//     (`bufferedBytes`).
// The buffer holds only unparsed bytes: when a command is taken out, what follows is moved to the
// front lazily (only when more room is needed), so a pipelined read is parsed in place.

import { latin1Slice, type Bin } from '../bytes.ts';
import { sdsSplitArgs } from '../sds-split-args.ts';

/** Redis PROTO_INLINE_MAX_SIZE: longest inline command or length line without its newline. */
export const PROTO_INLINE_MAX_SIZE = 64 * 1024;
/** Redis authRequired limits in processMultibulkBuffer. */
const UNAUTHENTICATED_MAX_BULKS = 10;
const UNAUTHENTICATED_MAX_BULK_LEN = 16384;
const INT_MAX = 2147483647;
const CR = 13;
const LF = 10;
const STAR = 42;
const DOLLAR = 36;
const INITIAL_CAPACITY = 16 * 1024; // Redis PROTO_IOBUF_LEN

/** A malformed request: `message` is the error Redis replies with (without the leading '-'). */
export class ProtocolError {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

export const NEED_MORE = null;
export type ParseResult = Bin[] | ProtocolError | typeof NEED_MORE;

export interface ParserLimits {
  /** proto-max-bulk-len, read at each `$N` so CONFIG SET applies at once. */
  protoMaxBulkLen(): number;
  /** Redis authRequired(c): the client must AUTH first. */
  authRequired(): boolean;
}

type RequestType = 'unknown' | 'inline' | 'multibulk';

export class RespRequestParser {
  private buf: Buffer = Buffer.alloc(0);
  /** Unparsed bytes are buf[pos, end). */
  private pos = 0;
  private end = 0;
  private reqType: RequestType = 'unknown';
  /** Bulks still to read of the current multibulk command (Redis c->multibulklen). */
  private multibulkLen = 0;
  /** Declared length of the bulk being read, or -1 before its `$N` line (Redis c->bulklen). */
  private bulkLen = -1;
  private argv: Bin[] = [];
  /**
   * How many unparsed bytes a line search already looked at without finding its end, so a slow
   * sender's line is scanned once in all, not once per read. Reset whenever `pos` moves.
   */
  private scannedBytes = 0;
  /**
   * A NUL byte came before the line's end: Redis finds line ends with strchr, which stops at NUL,
   * so such a line never ends; only the 64 KiB rule ends the request.
   */
  private lineBlocked = false;
  private readonly limits: ParserLimits;

  constructor(limits: ParserLimits) {
    this.limits = limits;
  }

  /** Bytes received and not yet returned as commands (Redis sdslen(querybuf) - qb_pos). */
  get bufferedBytes(): number {
    return this.end - this.pos;
  }

  /** Bytes of room the buffer holds beyond the unparsed ones (CLIENT LIST qbuf-free). */
  get freeBytes(): number {
    return this.buf.length - this.end;
  }

  /** Sum of the lengths of the arguments read so far (CLIENT LIST argv-mem). */
  get partialArgvBytes(): number {
    let n = 0;
    for (const a of this.argv) n += a.length;
    return n;
  }

  append(chunk: Buffer): void {
    const unparsed = this.end - this.pos;
    if (unparsed === 0) {
      this.pos = 0;
      this.end = 0;
    }
    if (this.buf.length - this.end < chunk.length) {
      const needed = unparsed + chunk.length;
      if (this.buf.length >= needed && this.pos > 0) {
        // Enough room once the parsed bytes are dropped: move the unparsed ones to the front.
        this.buf.copy(this.buf, 0, this.pos, this.end);
      } else {
        // Grow by what arrived, never by a length the client declared: double while small, then
        // by a quarter, so a large bulk costs at most 1.25 times its bytes.
        const growth = needed < 1024 * 1024 ? needed : needed >> 2;
        const capacity = Math.max(INITIAL_CAPACITY, needed + growth);
        const next = Buffer.allocUnsafe(capacity);
        this.buf.copy(next, 0, this.pos, this.end);
        this.buf = next;
      }
      this.pos = 0;
      this.end = unparsed;
    }
    chunk.copy(this.buf, this.end);
    this.end += chunk.length;
  }

  /** Give back memory after a large request, as Redis's clientsCronResizeQueryBuffer does. */
  shrink(): void {
    const unparsed = this.end - this.pos;
    if (this.buf.length <= INITIAL_CAPACITY * 2 || unparsed * 2 > this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(INITIAL_CAPACITY, unparsed));
    this.buf.copy(next, 0, this.pos, this.end);
    this.buf = next;
    this.pos = 0;
    this.end = unparsed;
  }

  /**
   * The next whole command, NEED_MORE, or a ProtocolError (after which the connection must be
   * closed: the parser's state is not meaningful any more). Empty commands (`*0`, `*-1`, a blank
   * inline line) are skipped, as Redis resets the client for them.
   */
  next(): ParseResult {
    while (this.pos < this.end) {
      if (this.reqType === 'unknown') {
        this.reqType = this.buf[this.pos] === STAR ? 'multibulk' : 'inline';
      }
      const result = this.reqType === 'inline' ? this.inline() : this.multibulk();
      if (result === NEED_MORE || result instanceof ProtocolError) return result;
      this.reqType = 'unknown';
      if (result.length > 0) return result;
    }
    return NEED_MORE;
  }

  /** Redis processInlineBuffer. */
  private inline(): Bin[] | ProtocolError | typeof NEED_MORE {
    const buf = this.buf;
    const newline = this.findLineEnd(LF);
    if (newline === -1) {
      if (this.end - this.pos > PROTO_INLINE_MAX_SIZE) {
        return new ProtocolError('ERR Protocol error: too big inline request');
      }
      return NEED_MORE;
    }
    const lineEnd = newline > this.pos && buf[newline - 1] === CR ? newline - 1 : newline;
    const args = sdsSplitArgs(latin1Slice(buf, this.pos, lineEnd));
    if (args === null) {
      return new ProtocolError('ERR Protocol error: unbalanced quotes in request');
    }
    this.consumeTo(newline + 1);
    return args;
  }

  /** Redis processMultibulkBuffer. */
  private multibulk(): Bin[] | ProtocolError | typeof NEED_MORE {
    const buf = this.buf;
    if (this.multibulkLen === 0) {
      const cr = this.findLineEnd(CR);
      if (cr === -1) {
        if (this.end - this.pos > PROTO_INLINE_MAX_SIZE) {
          return new ProtocolError('ERR Protocol error: too big mbulk count string');
        }
        return NEED_MORE;
      }
      if (cr > this.end - 2) return NEED_MORE; // the '\n' has not arrived
      const count = parseLength(buf, this.pos + 1, cr);
      if (count === null || count > INT_MAX) {
        return new ProtocolError('ERR Protocol error: invalid multibulk length');
      }
      if (count > UNAUTHENTICATED_MAX_BULKS && this.limits.authRequired()) {
        return new ProtocolError('ERR Protocol error: unauthenticated multibulk length');
      }
      this.consumeTo(cr + 2);
      if (count <= 0) return [];
      this.multibulkLen = count;
      this.argv = [];
    }
    while (this.multibulkLen > 0) {
      if (this.bulkLen === -1) {
        const cr = this.findLineEnd(CR);
        if (cr === -1) {
          if (this.end - this.pos > PROTO_INLINE_MAX_SIZE) {
            return new ProtocolError('ERR Protocol error: too big bulk count string');
          }
          return NEED_MORE;
        }
        if (cr > this.end - 2) return NEED_MORE;
        if (buf[this.pos] !== DOLLAR) {
          const got = String.fromCharCode(buf[this.pos]!);
          return new ProtocolError(`ERR Protocol error: expected '$', got '${got}'`);
        }
        const len = parseLength(buf, this.pos + 1, cr);
        if (len === null || len < 0 || len > this.limits.protoMaxBulkLen()) {
          return new ProtocolError('ERR Protocol error: invalid bulk length');
        }
        if (len > UNAUTHENTICATED_MAX_BULK_LEN && this.limits.authRequired()) {
          return new ProtocolError('ERR Protocol error: unauthenticated bulk length');
        }
        this.consumeTo(cr + 2);
        this.bulkLen = len;
      }
      // The bulk and its trailing CRLF (which Redis skips without looking at it).
      if (this.end - this.pos < this.bulkLen + 2) return NEED_MORE;
      this.argv.push(latin1Slice(buf, this.pos, this.pos + this.bulkLen));
      this.consumeTo(this.pos + this.bulkLen + 2);
      this.bulkLen = -1;
      this.multibulkLen--;
    }
    const argv = this.argv;
    this.argv = [];
    return argv;
  }

  /**
   * Index of the first `target` byte in the unparsed bytes, or -1: Redis's
   * strchr(querybuf + qb_pos, target), which also gives up at a NUL byte.
   */
  private findLineEnd(target: number): number {
    if (this.lineBlocked) return -1;
    const buf = this.buf;
    const from = this.pos + this.scannedBytes;
    let hit = buf.indexOf(target, from);
    if (hit >= this.end) hit = -1;
    const stop = hit === -1 ? this.end : hit;
    for (let i = from; i < stop; i++) {
      if (buf[i] === 0) {
        this.lineBlocked = true;
        return -1;
      }
    }
    if (hit === -1) this.scannedBytes = this.end - this.pos;
    return hit;
  }

  private consumeTo(pos: number): void {
    this.pos = pos;
    this.scannedBytes = 0;
  }
}

/**
 * Redis string2ll over buf[start, end) without making a string: a strict base-10 integer (no
 * '+', no leading zeros, no spaces); null when it is not one. Values beyond 2^53 are refused
 * too: every caller's limit (INT_MAX, proto-max-bulk-len) is far below.
 */
function parseLength(buf: Buffer, start: number, end: number): number | null {
  const len = end - start;
  if (len <= 0 || len > 20) return null;
  let i = start;
  let negative = false;
  if (buf[i] === 45) {
    negative = true;
    i++;
    if (i === end) return null;
  }
  if (buf[i] === 48) return i + 1 === end && !negative ? 0 : null;
  let value = 0;
  for (; i < end; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return null;
    value = value * 10 + d;
  }
  if (!Number.isSafeInteger(value)) return null;
  return negative ? -value : value;
}
