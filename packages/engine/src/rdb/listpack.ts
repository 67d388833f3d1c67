// Listpack decoding (Redis listpack.c), the compact encoding Redis 7.0 uses inside RDB values of
// type hash-listpack (16), zset-listpack (17), quicklist-v2 nodes (18) and set-listpack (20).
//
// Layout: total-bytes u32le, element-count u16le (65535 = "count it"), entries, 0xFF.
// Each entry is <encoding+data><backlen>, where backlen stores the size of <encoding+data> in
// 1..5 bytes of 7 bits, readable from right to left (the leftmost byte has bit 7 clear).
// Encodings (first byte):
//   0xxxxxxx            7-bit unsigned int          10xxxxxx + n bytes    6-bit-length string
//   110xxxxx yyyyyyyy   13-bit signed int           1110xxxx yyyyyyyy + n 12-bit-length string
//   11110000 + u32le n  32-bit-length string        11110001..11110100    int16/24/32/64 (LE)
//   11111111            end of listpack             11110101..11111110    invalid
//
// Every entry is validated before it is read, as lpValidateIntegrity + lpValidateNext do in deep
// mode: the encoding is known, header and data lie inside the blob, the backlen encodes the entry
// size, the walk ends exactly on the terminator, and the header count matches. Nothing is read
// outside [start, end) and nothing is allocated from a declared length before it is checked.

import { latin1Slice, type Bin } from '../bytes.ts';
import { BlobFormatError } from './rdb-errors.ts';

/** A decoded element: a byte string, or an integer (a JS number when it is a safe integer). */
export type PackedEntry = Bin | number;

const HEADER_SIZE = 6;
const EOF_BYTE = 0xff;
/** lpLength's "unknown count" marker (LP_HDR_NUMELE_UNKNOWN). */
const COUNT_UNKNOWN = 0xffff;

/** Bytes lpEncodeBacklen uses for an entry of `len` bytes. */
export function backlenSize(len: number): number {
  if (len <= 127) return 1;
  if (len < 16383) return 2;
  if (len < 2097151) return 3;
  if (len < 268435455) return 4;
  return 5;
}

/**
 * Decode and validate the listpack in buf[start, end), appending its elements to `out`.
 * Returns the number of elements. Throws BlobFormatError (offsets relative to `start`).
 */
export function decodeListpack(
  buf: Buffer,
  start: number,
  end: number,
  out: PackedEntry[],
): number {
  const size = end - start;
  if (size < HEADER_SIZE + 1)
    throw new BlobFormatError(`listpack of ${size} bytes is shorter than its header`, 0);
  const total = buf.readUInt32LE(start);
  if (total !== size)
    throw new BlobFormatError(`listpack header says ${total} bytes but the blob has ${size}`, 0);
  if (buf[end - 1] !== EOF_BYTE)
    throw new BlobFormatError('listpack does not end with 0xFF', size - 1);
  const declared = buf.readUInt16LE(start + 4);
  const last = end - 1;
  let p = start + HEADER_SIZE;
  let count = 0;
  while (p < last) {
    p = decodeEntry(buf, p, last, start, out);
    count++;
  }
  if (p !== last) throw new BlobFormatError('listpack entries run past the terminator', p - start);
  if (declared !== COUNT_UNKNOWN && declared !== count) {
    throw new BlobFormatError(`listpack header says ${declared} elements but it holds ${count}`, 4);
  }
  return count;
}

/** Validate and decode the entry at p (which is < last); returns the offset of the next entry. */
function decodeEntry(
  buf: Buffer,
  p: number,
  last: number,
  base: number,
  out: PackedEntry[],
): number {
  const b = buf[p]!;
  let headerLen: number;
  let dataLen: number;
  if (b < 0x80) {
    out.push(b);
    return checkBacklen(buf, p, 1, last, base);
  } else if ((b & 0xc0) === 0x80) {
    headerLen = 1;
    dataLen = b & 0x3f;
  } else if ((b & 0xe0) === 0xc0) {
    need(p, 2, last, base);
    const u = ((b & 0x1f) << 8) | buf[p + 1]!;
    out.push(u >= 4096 ? u - 8192 : u);
    return checkBacklen(buf, p, 2, last, base);
  } else if ((b & 0xf0) === 0xe0) {
    need(p, 2, last, base);
    headerLen = 2;
    dataLen = ((b & 0x0f) << 8) | buf[p + 1]!;
  } else {
    switch (b) {
      case 0xf0:
        need(p, 5, last, base);
        headerLen = 5;
        dataLen = buf.readUInt32LE(p + 1);
        break;
      case 0xf1:
        need(p, 3, last, base);
        out.push(buf.readInt16LE(p + 1));
        return checkBacklen(buf, p, 3, last, base);
      case 0xf2:
        need(p, 4, last, base);
        out.push(buf.readIntLE(p + 1, 3));
        return checkBacklen(buf, p, 4, last, base);
      case 0xf3:
        need(p, 5, last, base);
        out.push(buf.readInt32LE(p + 1));
        return checkBacklen(buf, p, 5, last, base);
      case 0xf4:
        need(p, 9, last, base);
        out.push(int64Entry(buf.readBigInt64LE(p + 1)));
        return checkBacklen(buf, p, 9, last, base);
      default:
        throw new BlobFormatError(
          `listpack entry has invalid encoding byte 0x${b.toString(16)}`,
          p - base,
        );
    }
  }
  const entryLen = headerLen + dataLen;
  need(p, entryLen, last, base);
  out.push(latin1Slice(buf, p + headerLen, p + entryLen));
  return checkBacklen(buf, p, entryLen, last, base);
}

/** Safe integers as numbers; the rest as their decimal text (what Redis would print). */
function int64Entry(v: bigint): PackedEntry {
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v.toString();
}

function need(p: number, n: number, last: number, base: number): void {
  if (p + n > last)
    throw new BlobFormatError(`listpack entry of ${n} bytes runs past the end`, p - base);
}

/** lpValidateNext: the backlen after the entry must exist and encode the entry size. */
function checkBacklen(
  buf: Buffer,
  p: number,
  entryLen: number,
  last: number,
  base: number,
): number {
  const n = backlenSize(entryLen);
  const q = p + entryLen;
  if (q + n > last) throw new BlobFormatError('listpack entry backlen runs past the end', q - base);
  // Read right to left as lpDecodeBacklen does; every byte but the leftmost has bit 7 set.
  let value = 0;
  let shift = 0;
  for (let i = q + n - 1; i >= q; i--) {
    const byte = buf[i]!;
    const more = (byte & 0x80) !== 0;
    if (more !== i > q)
      throw new BlobFormatError('listpack entry has a malformed backlen', i - base);
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  }
  if (value !== entryLen) {
    throw new BlobFormatError(
      `listpack backlen says ${value} but the entry has ${entryLen} bytes`,
      q - base,
    );
  }
  return q + n;
}

/**
 * Encode `items` as a listpack, choosing the smallest encoding per element like lpAppend
 * (canonical integers as integers). Used by tests to craft inputs; the RDB writer does not need
 * listpacks because it writes the plain RDB types (see rdb-writer.ts).
 */
export function encodeListpack(items: readonly Bin[]): Buffer {
  const parts: Buffer[] = [];
  let total = HEADER_SIZE + 1;
  for (const item of items) {
    const entry = encodeEntry(item);
    const back = encodeBacklen(entry.length);
    parts.push(entry, back);
    total += entry.length + back.length;
  }
  const out = Buffer.allocUnsafe(total);
  out.writeUInt32LE(total, 0);
  out.writeUInt16LE(Math.min(items.length, COUNT_UNKNOWN), 4);
  let p = HEADER_SIZE;
  for (const part of parts) p += part.copy(out, p);
  out[p] = EOF_BYTE;
  return out;
}

function encodeEntry(item: Bin): Buffer {
  const asInt = /^(0|-?[1-9][0-9]{0,18})$/.test(item) ? BigInt(item) : null;
  if (asInt !== null && asInt >= -(2n ** 63n) && asInt < 2n ** 63n) {
    const v = asInt;
    if (v >= 0n && v <= 127n) return Buffer.from([Number(v)]);
    if (v >= -4096n && v <= 4095n) {
      const u = Number(v < 0n ? v + 8192n : v);
      return Buffer.from([0xc0 | (u >> 8), u & 0xff]);
    }
    if (v >= -32768n && v <= 32767n) return intEntry(0xf1, 2, v);
    if (v >= -8388608n && v <= 8388607n) return intEntry(0xf2, 3, v);
    if (v >= -2147483648n && v <= 2147483647n) return intEntry(0xf3, 4, v);
    return intEntry(0xf4, 8, v);
  }
  const data = Buffer.from(item, 'latin1');
  let head: Buffer;
  if (data.length < 64) head = Buffer.from([0x80 | data.length]);
  else if (data.length < 4096) head = Buffer.from([0xe0 | (data.length >> 8), data.length & 0xff]);
  else {
    head = Buffer.alloc(5);
    head[0] = 0xf0;
    head.writeUInt32LE(data.length, 1);
  }
  return Buffer.concat([head, data]);
}

function intEntry(code: number, bytes: number, v: bigint): Buffer {
  const out = Buffer.alloc(1 + bytes);
  out[0] = code;
  if (bytes === 8) out.writeBigInt64LE(v, 1);
  else out.writeIntLE(Number(v), 1, bytes);
  return out;
}

/** lpEncodeBacklen. */
function encodeBacklen(len: number): Buffer {
  const n = backlenSize(len);
  const out = Buffer.alloc(n);
  for (let i = n - 1, v = len; i >= 0; i--, v = Math.floor(v / 128)) {
    out[i] = (v & 0x7f) | (i > 0 ? 0x80 : 0);
  }
  return out;
}
