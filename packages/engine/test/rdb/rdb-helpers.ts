// Shared helpers for the RDB tests: in-memory readers, a canonical snapshot of a keyspace (ours
// or a live redis-server's) for key-by-key comparison, and a tiny RDB builder plus test-only
// encoders for the pre-7.0 blob formats (ziplist, zipmap, intset) that redis-server 7.0 no longer
// writes but still loads — so every crafted file can also be checked against the real server.

import { dumpStream } from '../../src/cli/dump.ts';
import { formatDouble17g, type Bin } from '../../src/bytes.ts';
import { RespFileReader } from '../../src/io/resp-file-reader.ts';
import { Db, type ExpireMs, type KeyspaceHooks } from '../../src/keyspace/db.ts';
import type { RedisValue } from '../../src/keyspace/values.ts';
import { Crc64 } from '../../src/rdb/crc64.ts';
import { encodeListpack } from '../../src/rdb/listpack.ts';
import { lzfCompress } from '../../src/rdb/lzf.ts';
import {
  RdbType,
  loadRdbSync,
  type RdbLoadOptions,
  type RdbLoadSummary,
} from '../../src/rdb/rdb-reader.ts';
import { ErrorReply, type Reply } from '../../src/reply.ts';
import { SimFileSystem } from '../../src/testing/sim-file-system.ts';
import type { RespClient } from '../differential/resp-client.ts';

export const loadingHooks: KeyspaceHooks = {
  nowMs: () => Date.now(),
  isLoading: () => true,
  onKeyExpired() {},
  signalModifiedKey() {},
};

export function makeDbs(count = 16): Db[] {
  return Array.from({ length: count }, (_, i) => new Db(i, loadingHooks));
}

/** A RespFileReader over `content` on a simulated disk. */
export function readerOver(content: Uint8Array, windowBytes?: number): RespFileReader {
  const fs = new SimFileSystem();
  const w = fs.open('/f', 'write-truncate');
  let off = 0;
  while (off < content.length) off += fs.write(w, content, off, content.length - off);
  fs.close(w);
  const fd = fs.open('/f', 'read');
  return new RespFileReader(fs, fd, content.length, 0, windowBytes);
}

export function loadBuffer(
  content: Uint8Array,
  options: RdbLoadOptions & { databases?: number; windowBytes?: number } = {},
): { dbs: Db[]; summary: RdbLoadSummary; reader: RespFileReader } {
  const dbs = makeDbs(options.databases ?? 16);
  const reader = readerOver(content, options.windowBytes);
  const summary = loadRdbSync(reader, 'test.rdb', { dbs }, options);
  return { dbs, summary, reader };
}

// ---- canonical snapshots ----------------------------------------------------------------------

/** expire: the absolute ms as text ("-1" for none), so numbers and bigints compare alike. */
export type KeySnap =
  | { type: 'string'; value: Bin; expire: string }
  | { type: 'list'; value: Bin[]; expire: string }
  | { type: 'set'; value: Bin[]; expire: string }
  | { type: 'hash'; value: [Bin, Bin][]; expire: string }
  | { type: 'zset'; value: [Bin, string][]; expire: string }
  | { type: 'stream'; value: string; expire: string };

/** db index → key → snapshot; only non-empty dbs appear. */
export type Snapshot = Map<number, Map<Bin, KeySnap>>;

export function snapValue(value: RedisValue, expireMs: ExpireMs): KeySnap {
  const expire = String(expireMs);
  if (typeof value === 'string') return { type: 'string', value, expire };
  switch (value.type) {
    case 'list':
      return { type: 'list', value: value.toArray(), expire };
    case 'set':
      return { type: 'set', value: [...value.members].sort(), expire };
    case 'hash':
      return { type: 'hash', value: [...value.map].sort((a, b) => (a[0] < b[0] ? -1 : 1)), expire };
    case 'zset':
      return {
        type: 'zset',
        value: [...value].map(([m, s]): [Bin, string] => [m, formatDouble17g(s)]),
        expire,
      };
    case 'stream':
      return { type: 'stream', value: JSON.stringify(dumpStream(value)), expire };
  }
}

export function snapshotDbs(dbs: readonly Db[]): Snapshot {
  const out: Snapshot = new Map();
  for (const db of dbs) {
    if (db.dict.size === 0) continue;
    const keys = new Map<Bin, KeySnap>();
    for (const key of [...db.dict.keys()].sort())
      keys.set(key, snapValue(db.dict.get(key)!, db.expires.get(key) ?? -1));
    out.set(db.id, keys);
  }
  return out;
}

function expectArray(r: Reply, what: string): Reply[] {
  if (!Array.isArray(r)) throw new Error(`${what}: expected an array, got ${String(r)}`);
  return r;
}

function expectBin(r: Reply, what: string): Bin {
  if (typeof r !== 'string')
    throw new Error(
      `${what}: expected a bulk string, got ${r instanceof ErrorReply ? r.message : String(r)}`,
    );
  return r;
}

/** Read every key of a live redis-server into the same canonical shape. */
export async function snapshotRedis(client: RespClient, databases = 16): Promise<Snapshot> {
  const out: Snapshot = new Map();
  for (let db = 0; db < databases; db++) {
    await client.call('SELECT', db);
    const names = expectArray(await client.call('KEYS', '*'), 'KEYS')
      .map((k) => expectBin(k, 'key'))
      .sort();
    if (names.length === 0) continue;
    const keys = new Map<Bin, KeySnap>();
    for (const key of names) keys.set(key, await snapRedisKey(client, key));
    out.set(db, keys);
  }
  await client.call('SELECT', 0);
  return out;
}

async function snapRedisKey(client: RespClient, key: Bin): Promise<KeySnap> {
  const [typeReply, pexp] = await client.pipeline([
    ['TYPE', key],
    ['PEXPIRETIME', key],
  ]);
  const type = (typeReply as { status?: string }).status;
  const expire = String(pexp);
  switch (type) {
    case 'string':
      return { type, value: expectBin(await client.call('GET', key), 'GET'), expire };
    case 'list':
      return {
        type,
        value: expectArray(await client.call('LRANGE', key, 0, -1), 'LRANGE').map((e) =>
          expectBin(e, 'e'),
        ),
        expire,
      };
    case 'set':
      return {
        type,
        value: expectArray(await client.call('SMEMBERS', key), 'SMEMBERS')
          .map((e) => expectBin(e, 'm'))
          .sort(),
        expire,
      };
    case 'hash': {
      const flat = expectArray(await client.call('HGETALL', key), 'HGETALL').map((e) =>
        expectBin(e, 'f'),
      );
      const pairs: [Bin, Bin][] = [];
      for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
      return { type, value: pairs.sort((a, b) => (a[0] < b[0] ? -1 : 1)), expire };
    }
    case 'zset': {
      const flat = expectArray(await client.call('ZRANGE', key, 0, -1, 'WITHSCORES'), 'ZRANGE').map(
        (e) => expectBin(e, 'z'),
      );
      const pairs: [Bin, string][] = [];
      for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
      return { type, value: pairs, expire };
    }
    default:
      throw new Error(`unexpected TYPE ${String(type)} for key ${JSON.stringify(key)}`);
  }
}

// ---- building RDB files by hand -----------------------------------------------------------------

/** Appends RDB primitives; end() adds EOF and the checksum. */
export class RdbBuilder {
  private parts: Buffer[] = [];

  constructor(version: string | null = '0010') {
    if (version !== null) this.raw(`REDIS${version}`);
  }

  raw(bytes: Uint8Array | string): this {
    this.parts.push(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes));
    return this;
  }

  u8(...bytes: number[]): this {
    return this.raw(Buffer.from(bytes));
  }

  /** rdbSaveLen: 6/14/32/64-bit (a bigint forces the 64-bit form). */
  len(n: number | bigint): this {
    if (typeof n === 'bigint') {
      const b = Buffer.alloc(9);
      b[0] = 0x81;
      b.writeBigUInt64BE(n, 1);
      return this.raw(b);
    }
    if (n < 64) return this.u8(n);
    if (n < 16384) return this.u8(0x40 | (n >> 8), n & 0xff);
    const b = Buffer.alloc(5);
    b[0] = 0x80;
    b.writeUInt32BE(n, 1);
    return this.raw(b);
  }

  str(s: Bin | Uint8Array): this {
    const bytes = typeof s === 'string' ? Buffer.from(s, 'latin1') : Buffer.from(s);
    return this.len(bytes.length).raw(bytes);
  }

  aux(k: Bin, v: Bin): this {
    return this.u8(0xfa).str(k).str(v);
  }

  selectDb(n: number): this {
    return this.u8(0xfe).len(n);
  }

  expireMs(ms: number): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt(ms));
    return this.u8(0xfc).raw(b);
  }

  expireSec(sec: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32LE(sec);
    return this.u8(0xfd).raw(b);
  }

  /** Type byte + key. */
  key(type: number, key: Bin): this {
    return this.u8(type).str(key);
  }

  binaryDouble(d: number): this {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(d);
    return this.raw(b);
  }

  /** Body so far (no EOF). */
  body(): Buffer {
    return Buffer.concat(this.parts);
  }

  /** EOF opcode + checksum ('crc' computed, 'zero' = not computed, 'none' = omitted). */
  end(checksum: 'crc' | 'zero' | 'none' = 'crc'): Buffer {
    this.u8(0xff);
    const body = this.body();
    if (checksum === 'none') return body;
    if (checksum === 'zero') return Buffer.concat([body, Buffer.alloc(8)]);
    const c = new Crc64();
    c.update(body);
    return Buffer.concat([body, c.digestBytes()]);
  }
}

/** A ziplist (Redis ziplist.c format), each element in its smallest encoding. */
export function encodeZiplist(items: readonly Bin[]): Buffer {
  const entries: Buffer[] = [];
  let prevLen = 0;
  for (const item of items) {
    const prev =
      prevLen < 254 ? Buffer.from([prevLen]) : Buffer.concat([Buffer.from([0xfe]), u32le(prevLen)]);
    const body = ziplistBody(item);
    const entry = Buffer.concat([prev, body]);
    entries.push(entry);
    prevLen = entry.length;
  }
  const content = Buffer.concat(entries);
  const total = 10 + content.length + 1;
  const header = Buffer.alloc(10);
  header.writeUInt32LE(total, 0);
  header.writeUInt32LE(items.length === 0 ? 10 : 10 + content.length - prevLen, 4);
  header.writeUInt16LE(Math.min(items.length, 0xffff), 8);
  return Buffer.concat([header, content, Buffer.from([0xff])]);
}

function ziplistBody(item: Bin): Buffer {
  if (/^(0|-?[1-9][0-9]{0,18})$/.test(item)) {
    const v = BigInt(item);
    if (v >= 0n && v <= 12n) return Buffer.from([0xf1 + Number(v)]);
    if (v >= -128n && v <= 127n) return Buffer.from([0xfe, Number(v) & 0xff]);
    if (v >= -32768n && v <= 32767n) return intBytes(0xc0, 2, v);
    if (v >= -8388608n && v <= 8388607n) return intBytes(0xf0, 3, v);
    if (v >= -2147483648n && v <= 2147483647n) return intBytes(0xd0, 4, v);
    if (v >= -(2n ** 63n) && v < 2n ** 63n) return intBytes(0xe0, 8, v);
  }
  const data = Buffer.from(item, 'latin1');
  if (data.length < 64) return Buffer.concat([Buffer.from([data.length]), data]);
  if (data.length < 16384)
    return Buffer.concat([Buffer.from([0x40 | (data.length >> 8), data.length & 0xff]), data]);
  const h = Buffer.alloc(5);
  h[0] = 0x80;
  h.writeUInt32BE(data.length, 1);
  return Buffer.concat([h, data]);
}

function intBytes(code: number, n: number, v: bigint): Buffer {
  const b = Buffer.alloc(1 + n);
  b[0] = code;
  if (n === 8) b.writeBigInt64LE(v, 1);
  else b.writeIntLE(Number(v), 1, n);
  return b;
}

function u32le(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

/** An intset of the given width (2, 4 or 8) holding `values` (sorted here). */
export function encodeIntset(values: readonly bigint[], width: 2 | 4 | 8): Buffer {
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const b = Buffer.alloc(8 + sorted.length * width);
  b.writeUInt32LE(width, 0);
  b.writeUInt32LE(sorted.length, 4);
  sorted.forEach((v, i) => {
    const at = 8 + i * width;
    if (width === 8) b.writeBigInt64LE(v, at);
    else b.writeIntLE(Number(v), at, width);
  });
  return b;
}

/** A zipmap (Redis < 2.6 hash encoding) of field/value pairs, with `free` spare bytes per value. */
export function encodeZipmap(pairs: readonly [Bin, Bin][], free = 0): Buffer {
  const zlen = (n: number) =>
    n < 254 ? Buffer.from([n]) : Buffer.concat([Buffer.from([254]), u32le(n)]);
  const parts: Buffer[] = [Buffer.from([Math.min(pairs.length, 254)])];
  for (const [f, v] of pairs) {
    const fb = Buffer.from(f, 'latin1');
    const vb = Buffer.from(v, 'latin1');
    parts.push(zlen(fb.length), fb, zlen(vb.length), Buffer.from([free]), vb, Buffer.alloc(free));
  }
  parts.push(Buffer.from([0xff]));
  return Buffer.concat(parts);
}

/**
 * What a load gives back: the same data, except that a skiplist zset small enough for a listpack
 * is converted (Redis rdbLoadObject does the same), and a listpack stores -0 as 0.
 */
export function asRedisLoadsIt(dbs: readonly Db[]): Db[] {
  const out = makeDbs();
  for (const db of dbs) {
    for (const [k, v] of db.dict) {
      let copy = v;
      if (typeof v !== 'string' && v.type === 'zset') {
        copy = v.clone();
        copy.convertToListpackIfFits();
      }
      out[db.id]!.dict.set(k, copy);
      const exp = db.expires.get(k);
      if (exp !== undefined) out[db.id]!.expires.set(k, exp);
    }
  }
  return out;
}

/** A small RDB with every encoding the reader knows (fuzzed by rdb-format and safety/bad-input). */
export function richRdb(): Buffer {
  const lp = encodeListpack(['a'.repeat(70), '1', '-5000', '70000', '5000000000']);
  const packed = lzfCompress(lp, 0, lp.length, lp.length)!;
  return new RdbBuilder()
    .aux('redis-ver', '7.0.15')
    .selectDb(0)
    .u8(0xfb)
    .len(9)
    .len(1)
    .expireMs(1_800_000_000_000)
    .key(0, 's')
    .str('plain')
    .key(0, 'i')
    .u8(0xc1, 1, 2)
    .key(RdbType.LIST, 'l')
    .len(2)
    .str('x')
    .str('y')
    .key(RdbType.SET_INTSET, 'is')
    .str(encodeIntset([1n, 2n, 300n], 2))
    .key(RdbType.ZSET_2, 'z')
    .len(2)
    .str('a')
    .binaryDouble(1)
    .str('b')
    .binaryDouble(2)
    .key(RdbType.HASH_LISTPACK, 'h')
    .str(encodeListpack(['f', 'v', 'g', '12']))
    .key(RdbType.LIST_QUICKLIST_2, 'q')
    .len(2)
    .len(2)
    .u8(0xc3)
    .len(packed.length)
    .len(lp.length)
    .raw(packed)
    .len(1)
    .str('plain')
    .key(RdbType.ZSET_ZIPLIST, 'zz')
    .str(encodeZiplist(['m', '3', 'n', '-4']))
    .key(RdbType.HASH_ZIPMAP, 'zm')
    .str(encodeZipmap([['k', 'v']]))
    .end();
}
