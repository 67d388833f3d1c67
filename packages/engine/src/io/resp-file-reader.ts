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

  constructor(
    fs: FileSystem,
    fd: number,
    fileSize: number,
    startPosition = 0,
    chunkBytes = CHUNK_BYTES,
  ) {
    this.fs = fs;
    this.fd = fd;
    this.fileSize = fileSize;
    this.position = startPosition;
    this.windowStart = startPosition;
    this.window = Buffer.allocUnsafe(
      Math.max(64, Math.min(chunkBytes, Math.max(fileSize - startPosition, 64))),
    );
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
      const got = this.fs.read(
        this.fd,
        this.window,
        this.windowLength,
        this.window.length - this.windowLength,
        fileOffset,
      );
      if (got <= 0) break;
      this.windowLength += got;
      if (this.windowLength >= n) break;
    }
    return this.windowLength;
  }

  /**
   * The window the offset-based reads below point into: valid until the next read. The loader
   * parses straight from it, so a command costs no Buffer view objects (they were ~40 % of a
   * 1M-key load's CPU, with the GC they cause).
   */
  get buffer(): Buffer {
    return this.window;
  }

  /** Window offset where the line of the last nextLine() starts. */
  lineStart = 0;

  /**
   * fgets() by offsets: the next line including its '\n', at most LINE_MAX_BYTES bytes (a longer
   * line comes in pieces, as fgets returns it). Returns its length, the line being
   * buffer[lineStart, lineStart + length); -1 at EOF.
   */
  nextLine(): number {
    if (this.position >= this.fileSize) return -1;
    const available = this.ensure(LINE_MAX_BYTES);
    const start = this.position - this.windowStart;
    const limit = start + Math.min(available, LINE_MAX_BYTES);
    const w = this.window;
    // RESP lines here are short ("*3\r\n", "$16\r\n"): a plain loop beats indexOf's call.
    let end = limit;
    for (let i = start; i < limit; i++) {
      if (w[i] === 10) {
        end = i + 1;
        break;
      }
    }
    this.position += end - start;
    this.lineStart = start;
    return end - start;
  }

  /**
   * fread() of exactly n bytes by offset: where they start in `buffer`, or -1 if the file ends
   * first.
   */
  nextExact(n: number): number {
    if (this.position + n > this.fileSize) {
      this.position = this.fileSize;
      return -1;
    }
    this.ensure(n);
    const start = this.position - this.windowStart;
    if (this.windowLength - start < n) {
      this.position = this.fileSize;
      return -1;
    }
    this.position += n;
    return start;
  }

  /** fgets() as a view into the window (see nextLine); null at EOF. */
  readLine(): Buffer | null {
    const n = this.nextLine();
    return n < 0 ? null : this.window.subarray(this.lineStart, this.lineStart + n);
  }

  /** fread() of exactly n bytes: a view, or null if the file ends first. */
  readExact(n: number): Buffer | null {
    const start = this.nextExact(n);
    return start < 0 ? null : this.window.subarray(start, start + n);
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

/**
 * C atoi/strtol on line[from, end) (the bytes after a one-byte prefix): optional spaces, sign,
 * digits.
 */
export function parseLeadingInt(line: Buffer, from: number, end = line.length): number {
  let i = from;
  while (i < end && (line[i] === 32 || line[i] === 9)) i++;
  let neg = false;
  if (i < end && (line[i] === 45 || line[i] === 43)) {
    neg = line[i] === 45;
    i++;
  }
  let v = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = line[i]!;
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
    digits++;
    if (digits > 18) return neg ? -Infinity : Infinity;
  }
  return neg ? -v : v;
}
