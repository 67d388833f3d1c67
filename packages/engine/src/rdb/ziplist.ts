// Ziplist decoding (Redis ziplist.c), the compact encoding of RDB files written before Redis 7.0:
// list-ziplist (10), zset-ziplist (12), hash-ziplist (13) and the nodes of quicklist v1 (14).
//
// Layout: zlbytes u32le, zltail u32le (offset of the last entry), zllen u16le (65535 = "count
// it"), entries, 0xFF. Each entry is <prevlen><encoding><data>:
//   prevlen   1 byte if the previous entry is < 254 bytes, else 0xFE + u32le
//   encoding  00pppppp              string, 6-bit length
//             01pppppp qqqqqqqq     string, 14-bit length (big-endian)
//             10______ + u32be      string, 32-bit length (big-endian)
//             11000000 int16le   11010000 int32le   11100000 int64le   11110000 int24le
//             11111110 int8      1111xxxx (xxxx = 0001..1101) immediate value xxxx - 1 (0..12)
// Validation follows ziplistValidateIntegrity in deep mode (zipEntrySafe): header and size agree,
// every entry lies inside the blob with a known encoding, each prevlen equals the size of the
// entry before it, zltail points at the last entry, the count matches, and the walk ends exactly
// on the terminator.

import { latin1Slice } from '../bytes.ts';
import { BlobFormatError } from './rdb-errors.ts';
import type { PackedEntry } from './listpack.ts';

const HEADER_SIZE = 10;
const END = 0xff;
const BIG_PREVLEN = 0xfe;
const COUNT_UNKNOWN = 0xffff;

/** Decode and validate the ziplist in buf[start, end), appending its elements to `out`. */
export function decodeZiplist(buf: Buffer, start: number, end: number, out: PackedEntry[]): number {
  const size = end - start;
  if (size < HEADER_SIZE + 1)
    throw new BlobFormatError(`ziplist of ${size} bytes is shorter than its header`, 0);
  const zlbytes = buf.readUInt32LE(start);
  if (zlbytes !== size)
    throw new BlobFormatError(`ziplist header says ${zlbytes} bytes but the blob has ${size}`, 0);
  const zltail = buf.readUInt32LE(start + 4);
  if (zltail > size - 1)
    throw new BlobFormatError(`ziplist tail offset ${zltail} is outside the blob`, 4);
  const declared = buf.readUInt16LE(start + 8);
  if (buf[end - 1] !== END) throw new BlobFormatError('ziplist does not end with 0xFF', size - 1);
  const last = end - 1;
  let p = start + HEADER_SIZE;
  let prevSize = 0;
  let prevStart = -1;
  let count = 0;
  while (p < last) {
    const entryStart = p;
    // prevlen
    let prevlen: number;
    if (buf[p]! < BIG_PREVLEN) {
      prevlen = buf[p]!;
      p += 1;
    } else if (buf[p] === BIG_PREVLEN) {
      need(p, 5, last, start, 'prevlen');
      prevlen = buf.readUInt32LE(p + 1);
      p += 5;
    } else {
      break; // 0xFF inside the blob: an early terminator, reported below
    }
    if (prevlen !== prevSize) {
      const reason =
        `ziplist entry says the previous entry has ${prevlen} bytes, ` + `it has ${prevSize}`;
      throw new BlobFormatError(reason, entryStart - start);
    }
    p = decodeEntryBody(buf, p, last, start, out);
    prevSize = p - entryStart;
    prevStart = entryStart;
    count++;
  }
  if (p !== last)
    throw new BlobFormatError('ziplist entries do not end at the terminator', p - start);
  if (prevStart !== -1 && prevStart - start !== zltail) {
    const reason =
      `ziplist tail offset ${zltail} does not point at the last entry ` + `(${prevStart - start})`;
    throw new BlobFormatError(reason, 4);
  }
  if (declared !== COUNT_UNKNOWN && declared !== count) {
    throw new BlobFormatError(`ziplist header says ${declared} elements but it holds ${count}`, 8);
  }
  return count;
}

/** Encoding byte(s) + data of one entry at p; returns the offset after it. */
function decodeEntryBody(
  buf: Buffer,
  p: number,
  last: number,
  base: number,
  out: PackedEntry[],
): number {
  need(p, 1, last, base, 'encoding');
  const b = buf[p]!;
  let headerLen: number;
  let dataLen: number;
  switch (b >>> 6) {
    case 0:
      headerLen = 1;
      dataLen = b & 0x3f;
      break;
    case 1:
      need(p, 2, last, base, 'encoding');
      headerLen = 2;
      dataLen = ((b & 0x3f) << 8) | buf[p + 1]!;
      break;
    case 2:
      need(p, 5, last, base, 'encoding');
      headerLen = 5;
      dataLen = buf.readUInt32BE(p + 1);
      break;
    default:
      return decodeInt(buf, p, b, last, base, out);
  }
  need(p, headerLen + dataLen, last, base, 'string');
  out.push(latin1Slice(buf, p + headerLen, p + headerLen + dataLen));
  return p + headerLen + dataLen;
}

function decodeInt(
  buf: Buffer,
  p: number,
  b: number,
  last: number,
  base: number,
  out: PackedEntry[],
): number {
  switch (b) {
    case 0xc0:
      need(p, 3, last, base, 'int16');
      out.push(buf.readInt16LE(p + 1));
      return p + 3;
    case 0xd0:
      need(p, 5, last, base, 'int32');
      out.push(buf.readInt32LE(p + 1));
      return p + 5;
    case 0xe0: {
      need(p, 9, last, base, 'int64');
      const v = buf.readBigInt64LE(p + 1);
      out.push(v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v.toString());
      return p + 9;
    }
    case 0xf0:
      need(p, 4, last, base, 'int24');
      out.push(buf.readIntLE(p + 1, 3));
      return p + 4;
    case 0xfe:
      need(p, 2, last, base, 'int8');
      out.push(buf.readInt8(p + 1));
      return p + 2;
    default:
      if (b >= 0xf1 && b <= 0xfd) {
        out.push((b & 0x0f) - 1);
        return p + 1;
      }
      throw new BlobFormatError(
        `ziplist entry has invalid encoding byte 0x${b.toString(16)}`,
        p - base,
      );
  }
}

function need(p: number, n: number, last: number, base: number, what: string): void {
  if (p + n > last)
    throw new BlobFormatError(`ziplist ${what} of ${n} bytes runs past the end`, p - base);
}
