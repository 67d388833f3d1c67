// DESIGN: the RDB writer (Redis rdbSaveRio with RDBFLAGS_AOF_PREAMBLE), for RDB-format AOF bases
// (`aof-use-rdb-preamble yes`, spec §1.7) that redis-server 7.0 loads and redis-check-rdb accepts.
//
// File: "REDIS0010", AUX redis-ver / redis-bits / ctime / used-mem / aof-base (the fields and
// order of rdbSaveInfoAuxFields for an AOF rewrite, which passes no replication info), then per
// non-empty db SELECTDB + RESIZEDB + its keys (EXPIRETIME_MS before a key with a TTL), EOF, and
// the CRC-64 of everything before it, little-endian.
//
// Encodings: the simplest ones Redis 7.0.15 still loads, which avoid writing listpacks at all:
//   string  raw, or int8/16/32-encoded when the bytes are a canonical integer of at most 11
//           characters (rdbTryIntegerEncoding), or LZF when longer than 20 bytes and compressible
//           (rdbSaveRawString with rdbcompression yes);
//   list    RDB_TYPE_LIST (1): count + elements; rdbLoadObject still builds a quicklist from it;
//   set     RDB_TYPE_SET (2): count + members; Redis picks intset or hashtable while loading;
//   hash    RDB_TYPE_HASH (4): count + field/value pairs; Redis converts small ones to listpack;
//   zset    RDB_TYPE_ZSET_2 (5): count + member + binary little-endian double (keeps -0, inf).
// Redis converts every one of these to the encoding its own thresholds pick, so the loaded
// OBJECT ENCODING is the same as if the data had been written with the compact types.
//
// Entry points: writeRdbSnapshot() walks live Dbs on the calling thread (like writeRespSnapshot);
// RdbBaseWriter streams the rewrite's plain entries (aof/plain-entry.ts: [dbId, key, type, data,
// expireMs], what the writer thread unpacks from msgpackr) into a file like RespBaseWriter; and
// RdbEncoder is the chunk-producing core both use, for callers that do their own I/O. Plain
// entries carry no db sizes, so the streaming path writes SELECTDB without RESIZEDB (a hint Redis
// does not need: files before RDB 7 never had it); writeRdbSnapshot knows the sizes and writes it.

import type { Bin } from '../bytes.ts';
import type { FileSystem } from '../io/file-system.ts';
import type { Db, ExpireMs } from '../keyspace/db.ts';
import type { RedisValue } from '../keyspace/values.ts';
import {
  PLAIN_HASH,
  PLAIN_LIST,
  PLAIN_SET,
  PLAIN_STREAM,
  PLAIN_STRING,
  PLAIN_ZSET,
  plainScore,
  type PlainEntry,
} from '../keyspace/plain-entry.ts';
import { Crc64 } from './crc64.ts';
import { lzfCompress } from './lzf.ts';
import { encodeStreamPayload } from './rdb-stream.ts';
import { RdbOpcode, RdbType } from './rdb-constants.ts';

/** The RDB version Redis 7.0 writes. */
export const RDB_WRITE_VERSION = 10;
const CHUNK_BYTES = 1 << 20;
/** rdbSaveRawString compresses only strings longer than this. */
const COMPRESS_MIN_LEN = 20;

export interface RdbWriteOptions {
  /** Write `aof-base 1` (an AOF base) or `aof-base 0` (a plain dump). */
  aofBase: boolean;
  /** Creation time in seconds (aux `ctime`). */
  ctimeSec: number;
  /** Aux `used-mem` in bytes (Redis reports zmalloc_used_memory); default: this process's RSS. */
  usedMem?: number;
  /**
   * LZF-compress strings longer than 20 bytes when it saves space (rdbcompression, default true).
   */
  compression?: boolean;
  /** Aux `redis-ver` (default "7.0.15", the version whose format this is). */
  redisVer?: string;
}

/** Streaming RDB encoder: header on construction, then beginDb/add*, then end(). */
export class RdbEncoder {
  private buf: Buffer;
  private len = 0;
  private readonly crc = new Crc64();
  private readonly compression: boolean;
  private scratch: Buffer = Buffer.allocUnsafe(1024);
  private lzfOut: Buffer = Buffer.allocUnsafe(1024);
  private produced = 0;
  private ended = false;
  /** The db the last SELECTDB selected (-1: none yet). */
  private currentDb = -1;

  constructor(options: RdbWriteOptions) {
    this.buf = Buffer.allocUnsafe(CHUNK_BYTES);
    this.compression = options.compression ?? true;
    this.raw(`REDIS${String(RDB_WRITE_VERSION).padStart(4, '0')}`);
    this.aux('redis-ver', options.redisVer ?? '7.0.15');
    this.aux('redis-bits', '64');
    this.aux('ctime', String(Math.floor(options.ctimeSec)));
    this.aux('used-mem', String(options.usedMem ?? process.memoryUsage.rss()));
    this.aux('aof-base', options.aofBase ? '1' : '0');
  }

  /** Bytes encoded and not yet taken. */
  get pendingBytes(): number {
    return this.len;
  }

  /** Bytes handed out so far (by takeChunk and end). */
  get bytesProduced(): number {
    return this.produced;
  }

  /** SELECTDB + RESIZEDB (the sizes are only a hint for the loader's hash tables). */
  beginDb(id: number, keys: number, expires: number): void {
    this.assertOpen();
    this.selectDb(id);
    this.u8(RdbOpcode.RESIZEDB);
    this.length(keys);
    this.length(expires);
  }

  private selectDb(id: number): void {
    this.u8(RdbOpcode.SELECTDB);
    this.length(id);
    this.currentDb = id;
  }

  /**
   * One key as a plain entry (aof/plain-entry.ts), SELECTDB first when its db differs from the
   * previous key's. Empty collections are skipped (Redis would skip them on load anyway).
   */
  add(entry: PlainEntry): void {
    this.assertOpen();
    const [dbId, key, type, data, expireMs] = entry;
    if (type !== PLAIN_STRING && data.length === 0) return;
    if (dbId !== this.currentDb) this.selectDb(dbId);
    switch (type) {
      case PLAIN_STRING:
        if (typeof data !== 'string')
          throw new TypeError('plain string entry without a string value');
        this.keyHeader(key, expireMs, RdbType.STRING);
        this.string(data);
        break;
      case PLAIN_LIST:
      case PLAIN_SET:
        this.keyHeader(key, expireMs, type === PLAIN_LIST ? RdbType.LIST : RdbType.SET);
        this.stringItems(data, 1);
        break;
      case PLAIN_HASH:
        this.keyHeader(key, expireMs, RdbType.HASH);
        this.stringItems(data, 2);
        break;
      case PLAIN_ZSET:
        this.keyHeader(key, expireMs, RdbType.ZSET_2);
        this.plainZset(data);
        break;
      case PLAIN_STREAM:
        if (typeof data !== 'string') throw new TypeError('plain stream entry without a payload');
        this.keyHeader(key, expireMs, RdbType.STREAM_LISTPACKS_2);
        this.raw(data);
        break;
      default:
        throw new TypeError(`unknown plain entry type ${String(type)}`);
    }
  }

  /** A count (of items / arity) and then every item, which must be a string. */
  private stringItems(data: Bin | (Bin | number)[], arity: number): void {
    if (typeof data === 'string' || data.length % arity !== 0)
      throw new TypeError('malformed plain entry data');
    this.length(data.length / arity);
    for (let i = 0; i < data.length; i++) {
      const item = data[i];
      if (typeof item !== 'string') throw new TypeError('plain entry items must be strings');
      this.string(item);
    }
  }

  private plainZset(data: Bin | (Bin | number)[]): void {
    if (typeof data === 'string' || data.length % 2 !== 0)
      throw new TypeError('zset entry has an odd item count');
    this.length(data.length / 2);
    for (let i = 0; i < data.length; i += 2) {
      const member = data[i];
      const score = data[i + 1] === undefined ? undefined : plainScore(data[i + 1]!);
      if (typeof member !== 'string' || score === undefined || Number.isNaN(score)) {
        throw new TypeError('zset entry items must alternate member (string) and score (number)');
      }
      this.string(member);
      this.double(score);
    }
  }

  /**
   * One key straight from the keyspace (no intermediate arrays), into the db of the last
   * beginDb/add. Empty collections are skipped.
   */
  addValue(key: Bin, value: RedisValue, expireMs: ExpireMs): void {
    this.assertOpen();
    if (typeof value === 'string') {
      this.keyHeader(key, expireMs, RdbType.STRING);
      this.string(value);
      return;
    }
    if (value.type === 'stream') {
      // A stream exists with no entries (XGROUP CREATE ... MKSTREAM): never skipped.
      this.keyHeader(key, expireMs, RdbType.STREAM_LISTPACKS_2);
      this.raw(encodeStreamPayload(value).toString('latin1'));
      return;
    }
    const size = value.type === 'list' ? value.length : value.size;
    if (size === 0) return;
    switch (value.type) {
      case 'list':
        this.keyHeader(key, expireMs, RdbType.LIST);
        this.length(size);
        for (const e of value) this.string(e);
        break;
      case 'set':
        this.keyHeader(key, expireMs, RdbType.SET);
        this.length(size);
        for (const m of value.members) this.string(m);
        break;
      case 'hash':
        this.keyHeader(key, expireMs, RdbType.HASH);
        this.length(size);
        for (const [f, v] of value.map) {
          this.string(f);
          this.string(v);
        }
        break;
      case 'zset':
        this.keyHeader(key, expireMs, RdbType.ZSET_2);
        this.length(size);
        value.forEach((member, score) => {
          this.string(member);
          this.double(score);
        });
        break;
    }
  }

  /** Hand out the pending bytes (feeding them to the CRC). The chunk stays valid. */
  takeChunk(): Buffer {
    const out = this.buf.subarray(0, this.len);
    this.crc.update(out);
    this.produced += out.length;
    this.buf = Buffer.allocUnsafe(
      Math.max(CHUNK_BYTES, Math.min(this.buf.length, 4 * CHUNK_BYTES)),
    );
    this.len = 0;
    return out;
  }

  /** EOF + checksum; returns the final bytes. The encoder cannot be used afterwards. */
  end(): Buffer {
    this.assertOpen();
    this.u8(RdbOpcode.EOF);
    const body = this.takeChunk();
    const checksum = this.crc.digestBytes();
    this.ended = true;
    this.produced += checksum.length;
    return Buffer.concat([body, checksum]);
  }

  // ---- encoding primitives -------------------------------------------------------------------

  private assertOpen(): void {
    if (this.ended) throw new Error('RdbEncoder: end() was already called');
  }

  private keyHeader(key: Bin, expireMs: ExpireMs, type: number): void {
    if (expireMs !== -1) {
      this.u8(RdbOpcode.EXPIRETIME_MS);
      this.reserve(8);
      this.buf.writeBigInt64LE(
        typeof expireMs === 'bigint' ? expireMs : BigInt(Math.trunc(expireMs)),
        this.len,
      );
      this.len += 8;
    }
    this.u8(type);
    this.string(key);
  }

  private aux(key: string, value: string): void {
    this.u8(RdbOpcode.AUX);
    this.string(key);
    this.string(value);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  private u8(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  private raw(s: Bin): void {
    this.reserve(s.length);
    this.len += this.buf.write(s, this.len, s.length, 'latin1');
  }

  /** Redis rdbSaveLen: 6-bit, 14-bit, 32-bit or 64-bit (the wide forms big-endian). */
  private length(n: number): void {
    this.reserve(9);
    const buf = this.buf;
    if (n < 64) {
      buf[this.len++] = n;
    } else if (n < 16384) {
      buf[this.len++] = 0x40 | (n >>> 8);
      buf[this.len++] = n & 0xff;
    } else if (n <= 0xffffffff) {
      buf[this.len++] = 0x80;
      buf.writeUInt32BE(n, this.len);
      this.len += 4;
    } else {
      buf[this.len++] = 0x81;
      buf.writeBigUInt64BE(BigInt(n), this.len);
      this.len += 8;
    }
  }

  /** Redis rdbSaveRawString: integer encoding, else LZF if worthwhile, else raw. */
  private string(s: Bin): void {
    const n = s.length;
    if (n <= 11 && n > 0) {
      const v = canonicalInt32(s);
      if (v !== null) {
        this.intString(v);
        return;
      }
    }
    if (this.compression && n > COMPRESS_MIN_LEN && this.lzfString(s)) return;
    this.length(n);
    this.raw(s);
  }

  /** rdbEncodeInteger: the smallest of int8 / int16 / int32. */
  private intString(v: number): void {
    this.reserve(5);
    const buf = this.buf;
    if (v >= -128 && v <= 127) {
      buf[this.len++] = 0xc0;
      buf.writeInt8(v, this.len);
      this.len += 1;
    } else if (v >= -32768 && v <= 32767) {
      buf[this.len++] = 0xc1;
      buf.writeInt16LE(v, this.len);
      this.len += 2;
    } else {
      buf[this.len++] = 0xc2;
      buf.writeInt32LE(v, this.len);
      this.len += 4;
    }
  }

  /** rdbSaveLzfStringObject: only when the result is at least 4 bytes shorter (else false). */
  private lzfString(s: Bin): boolean {
    const n = s.length;
    if (this.scratch.length < n)
      this.scratch = Buffer.allocUnsafe(Math.max(n, this.scratch.length * 2));
    if (this.lzfOut.length < n)
      this.lzfOut = Buffer.allocUnsafe(Math.max(n, this.lzfOut.length * 2));
    this.scratch.write(s, 0, n, 'latin1');
    const packed = lzfCompress(this.scratch, 0, n, n - 4, this.lzfOut);
    if (packed === null) return false;
    this.u8(0xc3);
    this.length(packed.length);
    this.length(n);
    this.reserve(packed.length);
    packed.copy(this.buf, this.len);
    this.len += packed.length;
    return true;
  }

  /** rdbSaveBinaryDoubleValue: 8 bytes little-endian. */
  private double(d: number): void {
    this.reserve(8);
    this.buf.writeDoubleLE(d, this.len);
    this.len += 8;
  }
}

/**
 * Redis rdbTryIntegerEncoding: the value when `s` is a canonical decimal integer (string2ll and
 * back gives the same bytes) that fits in 32 bits; else null.
 */
function canonicalInt32(s: Bin): number | null {
  const n = s.length;
  let i = 0;
  const neg = s.charCodeAt(0) === 45;
  if (neg) {
    if (n === 1) return null;
    i = 1;
  }
  const first = s.charCodeAt(i);
  if (first === 48) return n === 1 ? 0 : null; // "0" only: no leading zeros, no "-0"
  if (first < 49 || first > 57) return null;
  let v = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return null;
    v = v * 10 + (c - 48);
  }
  if (neg) v = -v;
  return v >= -2147483648 && v <= 2147483647 ? v : null;
}

/**
 * Streams plain entries into an RDB file, like RespBaseWriter does for RESP bases: the rewrite's
 * writer thread (or the inline sink) calls add() per entry and finish() once; output goes out in
 * ~1 MiB writes that are retried when short.
 */
export class RdbBaseWriter {
  private readonly fs: FileSystem;
  private readonly fd: number;
  private readonly encoder: RdbEncoder;
  bytesWritten = 0;

  constructor(fs: FileSystem, fd: number, options: RdbWriteOptions) {
    this.fs = fs;
    this.fd = fd;
    this.encoder = new RdbEncoder(options);
  }

  add(entry: PlainEntry): void {
    this.encoder.add(entry);
    if (this.encoder.pendingBytes >= CHUNK_BYTES) this.drain();
  }

  /** Write out what is buffered (not the end of the file). */
  drain(): void {
    if (this.encoder.pendingBytes === 0) return;
    this.write(this.encoder.takeChunk());
  }

  /** EOF + checksum, all written. The file is complete after this (fsync is the caller's). */
  finish(): void {
    this.write(this.encoder.end());
  }

  private write(chunk: Buffer): void {
    writeFully(this.fs, this.fd, chunk);
    this.bytesWritten += chunk.length;
  }
}

/**
 * Write the whole dataset as an RDB to `fd` (already open for writing), in ~1 MiB writes that
 * are retried when short. Returns the bytes written. Mirrors writeRespSnapshot.
 */
export function writeRdbSnapshot(
  fs: FileSystem,
  fd: number,
  dbs: readonly Db[],
  options: RdbWriteOptions,
): number {
  const enc = new RdbEncoder(options);
  for (const db of dbs) {
    if (db.dict.size === 0) continue;
    enc.beginDb(db.id, db.dict.size, db.expires.size);
    for (const [key, value] of db.dict) {
      enc.addValue(key, value, db.expires.get(key) ?? -1);
      if (enc.pendingBytes >= CHUNK_BYTES) writeFully(fs, fd, enc.takeChunk());
    }
  }
  writeFully(fs, fd, enc.end());
  return enc.bytesProduced;
}

/** write(2) until done: FileSystem.write may be short. */
export function writeFully(fs: FileSystem, fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) {
    const n = fs.write(fd, data, off, data.length - off);
    if (n <= 0)
      throw Object.assign(new Error('short write while writing the RDB base'), { code: 'ENOSPC' });
    off += n;
  }
}

/** The whole RDB in memory (tests, small datasets). */
export function encodeRdb(dbs: readonly Db[], options: RdbWriteOptions): Buffer {
  const enc = new RdbEncoder(options);
  const parts: Buffer[] = [];
  for (const db of dbs) {
    if (db.dict.size === 0) continue;
    enc.beginDb(db.id, db.dict.size, db.expires.size);
    for (const [key, value] of db.dict) {
      enc.addValue(key, value, db.expires.get(key) ?? -1);
      if (enc.pendingBytes >= CHUNK_BYTES) parts.push(enc.takeChunk());
    }
  }
  parts.push(enc.end());
  return Buffer.concat(parts);
}
