// DESIGN: a bounded, chunked reader over one file that offers the two reads Redis's loader makes
// with stdio: fgets() of a line of at most 1023 bytes, and fread() of exactly N bytes. It keeps one
// window Buffer (1 MiB by default, grown only to hold a single argument that is larger) and reads
// the file in large chunks, so parsing costs a few indexOf() calls per command, not per byte.
// Nothing is ever allocated from a length declared in the file before the bytes are known to
// exist: a declared length beyond the end of the file is reported as EOF, as fread would.

import type { FileSystem } from '../io/file-system.ts';

/** Redis AOF_ANNOTATION_LINE_MAX_LEN: fgets(buf, 1024) returns at most 1023 bytes. */
export const LINE_MAX_BYTES = 1023;
const CHUNK_BYTES = 1 << 20;

export class RespFileReader {
  private readonly fs: FileSystem;
  private readonly fd: number;
  readonly fileSize: number;
  private window: Buffer;
  /** File offset of window[0]. */
  private windowStart = 0;
  /** Valid bytes in the window. */
  private windowLength = 0;
  /** Read position, as a file offset. */
  position: number;

  constructor(fs: FileSystem, fd: number, fileSize: number, startPosition = 0, chunkBytes = CHUNK_BYTES) {
    this.fs = fs;
    this.fd = fd;
    this.fileSize = fileSize;
    this.position = startPosition;
    this.windowStart = startPosition;
    this.window = Buffer.allocUnsafe(Math.max(64, Math.min(chunkBytes, Math.max(fileSize - startPosition, 64))));
  }

  get atEof(): boolean {
    return this.position >= this.fileSize;
  }

  /** Make at least `n` bytes from `position` available in the window (fewer only at EOF). */
  private ensure(n: number): number {
    let offsetInWindow = this.position - this.windowStart;
    if (offsetInWindow < 0 || offsetInWindow > this.windowLength) {
      // A skip() jumped past the window: start a fresh one at the read position.
      this.windowStart = this.position;
      this.windowLength = 0;
      offsetInWindow = 0;
    }
    const available = this.windowLength - offsetInWindow;
    if (available >= n) return available;
    // Compact: move the unread tail to the front, grow if a single read needs more room.
    const want = Math.min(n, this.fileSize - this.position);
    if (want > this.window.length) {
      const next = Buffer.allocUnsafe(want);
      this.window.copy(next, 0, offsetInWindow, this.windowLength);
      this.window = next;
    } else if (offsetInWindow > 0) {
      this.window.copy(this.window, 0, offsetInWindow, this.windowLength);
    }
    this.windowLength = available;
    this.windowStart = this.position;
    while (this.windowLength < this.window.length) {
      const fileOffset = this.windowStart + this.windowLength;
      if (fileOffset >= this.fileSize) break;
      const got = this.fs.read(this.fd, this.window, this.windowLength, this.window.length - this.windowLength, fileOffset);
      if (got <= 0) break;
      this.windowLength += got;
      if (this.windowLength >= n) break;
    }
    return this.windowLength;
  }

  /**
   * fgets(): the next line including its '\n', at most LINE_MAX_BYTES bytes (a longer line is
   * returned in pieces, as fgets does). Returns null at EOF. The result is a view into the window,
   * valid until the next read.
   */
  readLine(): Buffer | null {
    if (this.position >= this.fileSize) return null;
    const available = this.ensure(LINE_MAX_BYTES);
    const start = this.position - this.windowStart;
    const limit = start + Math.min(available, LINE_MAX_BYTES);
    const nl = this.window.subarray(start, limit).indexOf(10);
    const end = nl === -1 ? limit : start + nl + 1;
    this.position += end - start;
    return this.window.subarray(start, end);
  }

  /** fread() of exactly n bytes: a view, or null if the file ends first (position unchanged). */
  readExact(n: number): Buffer | null {
    if (this.position + n > this.fileSize) {
      this.position = this.fileSize;
      return null;
    }
    this.ensure(n);
    const start = this.position - this.windowStart;
    if (this.windowLength - start < n) {
      this.position = this.fileSize;
      return null;
    }
    this.position += n;
    return this.window.subarray(start, start + n);
  }

  /** Skip n bytes; false if the file ends first. */
  skip(n: number): boolean {
    if (this.position + n > this.fileSize) {
      this.position = this.fileSize;
      return false;
    }
    this.position += n;
    return true;
  }
}

/** C atoi/strtol on the bytes after a one-byte prefix: optional spaces, sign, digits. */
export function parseLeadingInt(line: Buffer, from: number): number {
  let i = from;
  while (i < line.length && (line[i] === 32 || line[i] === 9)) i++;
  let neg = false;
  if (line[i] === 45 || line[i] === 43) {
    neg = line[i] === 45;
    i++;
  }
  let v = 0;
  let digits = 0;
  for (; i < line.length; i++) {
    const c = line[i]!;
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
    digits++;
    if (digits > 18) return neg ? -Infinity : Infinity;
  }
  return neg ? -v : v;
}
