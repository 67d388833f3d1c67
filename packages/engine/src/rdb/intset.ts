// Intset decoding (Redis intset.c), the RDB set-intset (11) encoding: encoding u32le (2, 4 or 8
// bytes per element), length u32le, then the elements little-endian, sorted ascending without
// duplicates. Validated as intsetValidateIntegrity does in deep mode.

import type { Bin } from '../bytes.ts';
import { BlobFormatError } from './rdb-errors.ts';

const HEADER_SIZE = 8;

/** Decode and validate the intset in buf[start, end); members as canonical decimal text. */
export function decodeIntset(buf: Buffer, start: number, end: number, out: Bin[]): number {
  const size = end - start;
  if (size < HEADER_SIZE)
    throw new BlobFormatError(`intset of ${size} bytes is shorter than its header`, 0);
  const width = buf.readUInt32LE(start);
  if (width !== 2 && width !== 4 && width !== 8)
    throw new BlobFormatError(`intset has invalid encoding ${width}`, 0);
  const length = buf.readUInt32LE(start + 4);
  if (HEADER_SIZE + length * width !== size) {
    const reason =
      `intset header says ${length} elements of ${width} bytes ` + `but the blob has ${size} bytes`;
    throw new BlobFormatError(reason, 4);
  }
  let p = start + HEADER_SIZE;
  if (width === 8) {
    let prev: bigint | null = null;
    for (let i = 0; i < length; i++, p += 8) {
      const v = buf.readBigInt64LE(p);
      if (prev !== null && v <= prev) {
        throw new BlobFormatError('intset elements are not strictly ascending', p - start);
      }
      prev = v;
      out.push(v.toString());
    }
  } else {
    let prev = -Infinity;
    for (let i = 0; i < length; i++, p += width) {
      const v = width === 2 ? buf.readInt16LE(p) : buf.readInt32LE(p);
      if (v <= prev)
        throw new BlobFormatError('intset elements are not strictly ascending', p - start);
      prev = v;
      out.push(String(v));
    }
  }
  return length;
}
