// The wire format between the rewrite snapshot (main thread) and the base writer (writer thread,
// or the inline sink): a stream of MessagePack values, one per key, each the plain entry of
// plain-entry.ts:
//
//   [dbId, key, type, data, expireMs]    fixarray of 5
//     dbId            unsigned int: positive fixint, uint 8, uint 16 or uint 32 (up to INT_MAX)
//     type            positive fixint
//     key, strings    str (UTF-8 of the Bin's code points 0..255; msgpackr decodes back to the Bin)
//     data            str for a string; an array of str for list / set / hash (field, value, ...);
//                     for a zset member, score, ... with every score a float64 (so -0 survives);
//                     for a stream str (its RDB value bytes, see plain-entry.ts)
//     expireMs        -1 (fixint) for none, else int64 (decoded as a number up to 2^53, a bigint
//                     beyond, as ExpireMs is)
//
// Why our own encoder instead of msgpackr's pack(): pack() needs the entry as JS objects first.
// Building one array per key (plus one per collection) for a million keys gave V8 enough
// surviving short-lived arrays to pretenure their allocation site, so every entry went straight
// to old space: ~60 MB of old-space garbage per 1M-key rewrite under load, which is what brings
// on a long major GC in the middle of a rewrite. SnapshotEncoder writes straight from the live
// values into one reused buffer and allocates nothing per key. msgpackr decodes the stream on the
// writer's side (its own isolate and heap), so the format stays standard MessagePack.

import { Unpackr } from 'msgpackr';
import type { Bin } from '../../bytes.ts';
import type { ExpireMs } from '../../keyspace/db.ts';
import type { RedisValue } from '../../keyspace/values.ts';
import { encodeStreamPayload } from '../../rdb/rdb-stream.ts';
import {
  PLAIN_HASH,
  PLAIN_LIST,
  PLAIN_SET,
  PLAIN_STREAM,
  PLAIN_STRING,
  PLAIN_ZSET,
  type PlainEntry,
} from '../../keyspace/plain-entry.ts';

const TWO_32 = 4294967296;
/**
 * Strings shorter than this are transcoded in JS; longer ones by Buffer#write (fewer crossings).
 */
const INLINE_STRING_MAX = 64;

export class SnapshotEncoder {
  private buf: Buffer;
  private pos = 0;
  /** Bytes encoded since the encoder was created (all chunks). */
  totalBytes = 0;

  constructor(initialBytes = 1 << 20) {
    this.buf = Buffer.allocUnsafeSlow(initialBytes);
  }

  /** Bytes encoded and not yet taken. */
  get length(): number {
    return this.pos;
  }

  /** Encode one key. Returns the number of bytes it took. */
  entry(dbId: number, key: Bin, value: RedisValue, expireMs: ExpireMs): number {
    const start = this.pos;
    this.ensure(1);
    this.buf[this.pos++] = 0x95; // fixarray(5)
    this.uint(dbId);
    this.str(key);
    if (typeof value === 'string') {
      this.fixint(PLAIN_STRING);
      this.str(value);
    } else {
      switch (value.type) {
        case 'list': {
          this.fixint(PLAIN_LIST);
          const n = value.length;
          this.arrayHeader(n);
          for (let i = 0; i < n; i++) this.str(value.at(i)!);
          break;
        }
        case 'set':
          this.fixint(PLAIN_SET);
          this.arrayHeader(value.members.size);
          value.members.forEach(this.member);
          break;
        case 'hash':
          this.fixint(PLAIN_HASH);
          this.arrayHeader(value.map.size * 2);
          value.map.forEach(this.field);
          break;
        case 'zset':
          this.fixint(PLAIN_ZSET);
          this.arrayHeader(value.size * 2);
          value.visit(0, value.size, false, this.scored);
          break;
        case 'stream':
          this.fixint(PLAIN_STREAM);
          this.str(encodeStreamPayload(value).toString('latin1'));
          break;
      }
    }
    this.expire(expireMs);
    const n = this.pos - start;
    this.totalBytes += n;
    return n;
  }

  /** What was encoded since the last take, in a buffer of its own (transferable); null if none. */
  take(): Uint8Array<ArrayBuffer> | null {
    if (this.pos === 0) return null;
    const out = new Uint8Array(this.pos);
    out.set(this.buf.subarray(0, this.pos));
    this.pos = 0;
    return out;
  }

  // Bound once: forEach / visit callbacks that allocate nothing per call.
  private readonly member = (m: Bin): void => this.str(m);
  private readonly field = (v: Bin, f: Bin): void => {
    this.str(f);
    this.str(v);
  };
  private readonly scored = (m: Bin, score: number): void => {
    this.str(m);
    this.ensure(9);
    this.buf[this.pos] = 0xcb;
    this.buf.writeDoubleBE(score, this.pos + 1);
    this.pos += 9;
  };

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  private fixint(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  /**
   * A non-negative integer below 2^32 in MessagePack's smallest form: `databases` goes up to
   * INT_MAX, so a db id is not always a positive fixint (0..127); 128..255 as a bare byte would
   * decode as another type, and 256 and up would wrap.
   */
  private uint(v: number): void {
    this.ensure(5);
    const b = this.buf;
    if (v < 0x80) {
      b[this.pos++] = v;
    } else if (v < 0x100) {
      b[this.pos] = 0xcc; // uint 8
      b[this.pos + 1] = v;
      this.pos += 2;
    } else if (v < 0x10000) {
      b[this.pos] = 0xcd; // uint 16
      b.writeUInt16BE(v, this.pos + 1);
      this.pos += 3;
    } else {
      b[this.pos] = 0xce; // uint 32
      b.writeUInt32BE(v, this.pos + 1);
      this.pos += 5;
    }
  }

  private arrayHeader(n: number): void {
    this.ensure(5);
    const b = this.buf;
    if (n < 16) {
      b[this.pos++] = 0x90 | n;
    } else if (n < 0x10000) {
      b[this.pos] = 0xdc;
      b.writeUInt16BE(n, this.pos + 1);
      this.pos += 3;
    } else {
      b[this.pos] = 0xdd;
      b.writeUInt32BE(n, this.pos + 1);
      this.pos += 5;
    }
  }

  /**
   * A Bin as MessagePack str: each code point (0..255) as UTF-8, 1 or 2 bytes. The header is sized
   * for the worst case (2 bytes per char) and its length filled in afterwards; a str8/16/32 header
   * carrying a smaller length is valid MessagePack.
   */
  private str(s: Bin): void {
    const len = s.length;
    const worst = len * 2;
    this.ensure(5 + worst);
    const b = this.buf;
    const header = this.pos;
    const headerBytes = worst < 32 ? 1 : worst < 0x100 ? 2 : worst < 0x10000 ? 3 : 5;
    let p = header + headerBytes;
    if (len < INLINE_STRING_MAX) {
      for (let i = 0; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c < 0x80) {
          b[p++] = c;
        } else {
          b[p++] = 0xc0 | (c >> 6);
          b[p++] = 0x80 | (c & 0x3f);
        }
      }
    } else {
      p += b.write(s, p, 'utf8');
    }
    const n = p - header - headerBytes;
    switch (headerBytes) {
      case 1:
        b[header] = 0xa0 | n;
        break;
      case 2:
        b[header] = 0xd9;
        b[header + 1] = n;
        break;
      case 3:
        b[header] = 0xda;
        b.writeUInt16BE(n, header + 1);
        break;
      default:
        b[header] = 0xdb;
        b.writeUInt32BE(n, header + 1);
    }
    this.pos = p;
  }

  private expire(ms: ExpireMs): void {
    this.ensure(9);
    const b = this.buf;
    if (ms === -1) {
      b[this.pos++] = 0xff; // negative fixint -1
      return;
    }
    b[this.pos] = 0xd3; // int 64
    if (typeof ms === 'bigint') {
      b.writeBigInt64BE(ms, this.pos + 1);
    } else {
      // A safe integer as two 32-bit halves (two's complement for negatives): no BigInt per key.
      const hi = Math.floor(ms / TWO_32);
      b.writeInt32BE(hi, this.pos + 1);
      b.writeUInt32BE(ms - hi * TWO_32, this.pos + 5);
    }
    this.pos += 9;
  }
}

// 'auto' is documented in msgpackr's README (numbers within ±2^53, bigints beyond: ExpireMs) but
// missing from its type declarations.
const unpackr = new Unpackr({ useRecords: false, int64AsType: 'auto' as 'bigint' });

/** Decode one chunk of SnapshotEncoder output into plain entries (the writer's side). */
export function decodeSnapshotChunk(data: Uint8Array): PlainEntry[] {
  return unpackr.unpackMultiple(data) as PlainEntry[];
}
