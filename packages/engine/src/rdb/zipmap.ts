// Zipmap decoding (Redis zipmap.c), the hash-zipmap (9) encoding of RDB files from Redis < 2.6.
// Layout: zmlen (1 byte, 254 = "count it"), then per pair <len>key<len><free>value<free bytes>,
// then 0xFF. A <len> is 1 byte when < 254, else 0xFE + u32le. Validated like
// zipmapValidateIntegrity in deep mode.

import { latin1Slice, type Bin } from '../bytes.ts';
import { BlobFormatError } from './rdb-errors.ts';

const BIGLEN = 254;
const END = 0xff;

/** Decode the zipmap in buf[start, end), appending field, value, field, value... to `out`. */
export function decodeZipmap(buf: Buffer, start: number, end: number, out: Bin[]): number {
  const size = end - start;
  if (size < 2) throw new BlobFormatError(`zipmap of ${size} bytes is too short`, 0);
  const declared = buf[start]!;
  const last = end - 1;
  let p = start + 1;
  let pairs = 0;
  while (p < end && buf[p] !== END) {
    const [keyLen, keyAt] = readLen(buf, p, last, start);
    if (keyAt + keyLen > last) throw new BlobFormatError('zipmap key runs past the end', p - start);
    const key = latin1Slice(buf, keyAt, keyAt + keyLen);
    p = keyAt + keyLen;
    const [valueLen, freeAt] = readLen(buf, p, last, start);
    if (freeAt >= last)
      throw new BlobFormatError('zipmap value header runs past the end', p - start);
    const free = buf[freeAt]!;
    const valueAt = freeAt + 1;
    if (valueAt + valueLen + free > last)
      throw new BlobFormatError('zipmap value runs past the end', p - start);
    out.push(key, latin1Slice(buf, valueAt, valueAt + valueLen));
    p = valueAt + valueLen + free;
    pairs++;
  }
  if (p !== last) throw new BlobFormatError('zipmap does not end at its terminator', p - start);
  if (declared < BIGLEN && declared !== pairs) {
    throw new BlobFormatError(`zipmap header says ${declared} pairs but it holds ${pairs}`, 0);
  }
  return pairs;
}

/** zipmapDecodeLength: [length, offset of the bytes after the length]. */
function readLen(buf: Buffer, p: number, last: number, base: number): [number, number] {
  if (p >= last) throw new BlobFormatError('zipmap length runs past the end', p - base);
  const b = buf[p]!;
  if (b < BIGLEN) return [b, p + 1];
  if (b === BIGLEN) {
    if (p + 5 > last) throw new BlobFormatError('zipmap length runs past the end', p - base);
    return [buf.readUInt32LE(p + 1), p + 5];
  }
  throw new BlobFormatError('zipmap length byte 0xFF inside an entry', p - base);
}
