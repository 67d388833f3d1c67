// DESIGN: aof_buf, the bytes fed since the last write(2). Commands are encoded as RESP arrays of
// bulk strings (Redis catAppendOnlyGenericCommand) straight into one growable Buffer: no
// intermediate strings or per-argument Buffers on the hot path. Arguments are Bin strings
// (one char = one byte), so short ones are copied with a char loop and long ones with
// Buffer.write(..., 'latin1'), a memcpy for V8's one-byte strings.
//
// Buffer reuse after a successful write has the intent of Redis flushAppendOnlyFile's rule (keep a
// small allocation, drop a large one so one burst does not pin memory) with a larger limit.
// Redis keeps aof_buf's sds only below 4000 bytes; here a 64-command turn of SETs (~10 KB) would
// then start from a fresh 2 KB buffer every turn and double it three times, copying each time:
// ~6 % of the CPU of an everysec SET load (pnpm bench profile). Deviation: aofkv keeps up to
// 64 KiB, a memory difference no user can see, and drops anything larger as Redis does.

import { latin1Write, type Bin } from '../bytes.ts';

/** Keep aof_buf's allocation after a write while it is below this (Redis: 4000 bytes). */
export const AOF_BUF_REUSE_LIMIT_BYTES = 64 * 1024;
// below the reuse limit, so a quiet buffer is never reallocated
const INITIAL_CAPACITY_BYTES = 2048;
/** Copying char by char beats the latin1Write call overhead below this length (measured). */
const SHORT_ARG_BYTES = 48;

const CRLF_0 = 13;
const CRLF_1 = 10;

export class AofBuffer {
  private buf: Buffer;
  /** Bytes currently in the buffer. */
  length = 0;

  constructor(capacityBytes = INITIAL_CAPACITY_BYTES) {
    this.buf = Buffer.allocUnsafe(capacityBytes);
  }

  get capacity(): number {
    return this.buf.length;
  }

  /** The pending bytes (a view, valid until the next append or reset). */
  view(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  private reserve(extraBytes: number): void {
    const need = this.length + extraBytes;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  /** Append one command as `*<argc>\r\n` + `$<len>\r\n<arg>\r\n` per argument. */
  appendCommand(argv: readonly Bin[]): void {
    let bytes = 16; // "*" + count + CRLF, generously
    for (let i = 0; i < argv.length; i++) bytes += argv[i]!.length + 24;
    this.reserve(bytes);
    const buf = this.buf;
    let pos = this.length;
    buf[pos++] = 42; // '*'
    pos = writeDecimal(buf, pos, argv.length);
    buf[pos++] = CRLF_0;
    buf[pos++] = CRLF_1;
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i]!;
      const len = arg.length;
      buf[pos++] = 36; // '$'
      pos = writeDecimal(buf, pos, len);
      buf[pos++] = CRLF_0;
      buf[pos++] = CRLF_1;
      if (len < SHORT_ARG_BYTES) {
        for (let j = 0; j < len; j++) buf[pos + j] = arg.charCodeAt(j);
        pos += len;
      } else {
        pos += latin1Write(buf, arg, pos);
      }
      buf[pos++] = CRLF_0;
      buf[pos++] = CRLF_1;
    }
    this.length = pos;
  }

  /** Append raw text (annotations such as `#TS:<sec>\r\n`). ASCII only. */
  appendRaw(text: string): void {
    this.reserve(text.length);
    this.length += this.buf.write(text, this.length, text.length, 'latin1');
  }

  /** Append raw bytes (the WAIT_REWRITE handover and tests). */
  appendBytes(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Drop the first `count` bytes (a partial write that could not be truncated away). */
  consume(count: number): void {
    if (count >= this.length) {
      this.length = 0;
      return;
    }
    this.buf.copy(this.buf, 0, count, this.length);
    this.length -= count;
  }

  /** After a full write: keep a small allocation, release a large one (see the top). */
  resetAfterWrite(): void {
    this.length = 0;
    if (this.buf.length >= AOF_BUF_REUSE_LIMIT_BYTES)
      this.buf = Buffer.allocUnsafe(INITIAL_CAPACITY_BYTES);
  }

  clear(): void {
    this.length = 0;
  }
}

/** Write a non-negative integer in decimal at pos; returns the new position. */
function writeDecimal(buf: Buffer, pos: number, n: number): number {
  if (n < 10) {
    buf[pos] = 48 + n;
    return pos + 1;
  }
  let digits = 1;
  for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
  let end = pos + digits;
  for (let t = n; end > pos; t = Math.floor(t / 10)) buf[--end] = 48 + (t % 10);
  return pos + digits;
}

/** RESP text of one command, for tests and the rewrite (not the hot path). */
export function encodeCommand(argv: readonly Bin[]): Buffer {
  const b = new AofBuffer(64);
  b.appendCommand(argv);
  return Buffer.from(b.view());
}
