// RdbInput: the byte source of the RDB reader. It pulls the file through the loader's
// RespFileReader in large chunks into its own buffer, so the parser's many small reads (a type
// byte, a length, a short key) are array accesses, and it feeds the CRC-64 with whole consumed
// slices rather than byte by byte.
//
// Bounds: every read first checks the bytes still in the FILE (not just in the buffer). A length
// declared by the file that exceeds what remains is reported as a truncation at the offset of
// the read, before anything of that size is allocated; the buffer only ever grows to hold a
// single item that is known to be present.
//
// The RespFileReader is read ahead of the parser; finish() moves its position back to just after
// the last consumed byte, so the AOF loader resumes with the RESP tail exactly there.

import type { RespFileReader } from '../io/resp-file-reader.ts';
import { Crc64 } from './crc64.ts';

const CHUNK_BYTES = 1 << 20;

/** A read needed more bytes than the file has left. */
export class InputEofError extends Error {
  readonly offset: number;
  readonly wanted: number;
  readonly available: number;
  constructor(offset: number, wanted: number, available: number) {
    super(`unexpected end of file: needed ${wanted} bytes at offset ${offset}, ${available} left`);
    this.name = 'InputEofError';
    this.offset = offset;
    this.wanted = wanted;
    this.available = available;
  }
}

export class RdbInput {
  private readonly reader: RespFileReader;
  private readonly chunkBytes: number;
  /** File bytes [base, base + end) are in buf[0, end). */
  buf: Buffer;
  /** Read position inside buf. */
  pos = 0;
  private end = 0;
  private base: number;
  /** buf[crcFrom, pos) is consumed but not yet fed to the CRC. */
  private crcFrom = 0;
  readonly crc = new Crc64();

  constructor(reader: RespFileReader, chunkBytes = CHUNK_BYTES) {
    this.reader = reader;
    this.chunkBytes = Math.max(1, Math.floor(chunkBytes));
    this.base = reader.position;
    this.buf = Buffer.allocUnsafe(
      Math.max(1, Math.min(this.chunkBytes, reader.fileSize - reader.position)),
    );
  }

  /** Absolute file offset of the next byte to read. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** Bytes left in the file from the read position. */
  get remaining(): number {
    return this.reader.fileSize - (this.base + this.pos);
  }

  /**
   * Make buf[pos, pos + n) valid. Throws InputEofError when the file has fewer than n bytes
   * left. After this call `buf` may be a different Buffer: callers re-read this.buf.
   */
  ensure(n: number): void {
    if (this.end - this.pos >= n) return;
    const remaining = this.remaining;
    if (n > remaining) throw new InputEofError(this.offset, n, Math.max(0, remaining));
    this.refill(n);
  }

  private refill(n: number): void {
    this.crc.update(this.buf, this.crcFrom, this.pos);
    const keep = this.end - this.pos;
    // A single item larger than the buffer gets a buffer of its own size (n was checked against
    // the bytes left in the file); otherwise the unread tail moves to the front.
    // A buffer grown for one big item goes back to the chunk size, so it is not pinned (and
    // refilled in full) for the rest of the load.
    const size = Math.max(n, this.chunkBytes, keep);
    if (n > this.buf.length || this.buf.length > size) {
      const next = Buffer.allocUnsafe(size);
      this.buf.copy(next, 0, this.pos, this.end);
      this.buf = next;
    } else if (this.pos > 0) {
      this.buf.copy(this.buf, 0, this.pos, this.end);
    }
    this.base += this.pos;
    this.pos = 0;
    this.crcFrom = 0;
    this.end = keep;
    // Fill the whole buffer: the parser's next reads are then plain array accesses.
    const fileEnd = this.reader.fileSize;
    while (this.end < this.buf.length && this.base + this.end < fileEnd) {
      const fileOffset = this.base + this.end;
      const want = Math.min(this.buf.length - this.end, fileEnd - fileOffset, this.chunkBytes);
      this.reader.position = fileOffset;
      const chunk = this.reader.readExact(want);
      if (chunk === null) break; // the file shrank under us: reported below
      chunk.copy(this.buf, this.end);
      this.end += want;
    }
    if (this.end < n) throw new InputEofError(this.offset, n, this.end);
  }

  u8(): number {
    if (this.pos >= this.end) this.ensure(1);
    return this.buf[this.pos++]!;
  }

  /** Reserve n bytes; returns their start index in this.buf (valid until the next read). */
  take(n: number): number {
    this.ensure(n);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /** Feed everything consumed so far to the CRC (before reading the stored checksum). */
  syncCrc(): void {
    this.crc.update(this.buf, this.crcFrom, this.pos);
    this.crcFrom = this.pos;
  }

  /** Skip the CRC over bytes consumed since the last syncCrc (the stored checksum itself). */
  skipCrc(): void {
    this.crcFrom = this.pos;
  }

  /** Leave the underlying reader right after the last consumed byte. */
  finish(): void {
    this.reader.position = this.offset;
  }
}
