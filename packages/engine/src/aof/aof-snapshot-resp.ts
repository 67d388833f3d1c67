// Redis rewriteAppendOnlyFileRio for an AOF-format (RESP) base: an optional forced `#TS:` line,
// then per non-empty db a SELECT and, per key, the commands that rebuild it — SET, RPUSH / SADD /
// ZADD / HMSET in batches of at most 64 items (AOF_REWRITE_ITEMS_PER_CMD), then PEXPIREAT when the
// key has a TTL. Output is streamed through the FileSystem in ~1 MiB writes.

import { formatDouble17g, type Bin } from '../bytes.ts';
import type { FileSystem } from '../io/file-system.ts';
import type { Db } from '../keyspace/db.ts';
import type { RedisValue } from '../keyspace/values.ts';
import { AofBuffer } from './aof-buffer.ts';

/** Redis AOF_REWRITE_ITEMS_PER_CMD. */
export const AOF_REWRITE_ITEMS_PER_CMD = 64;
const WRITE_CHUNK_BYTES = 1 << 20;

export interface SnapshotOptions {
  /** Write `#TS:<sec>` first (aof-timestamp-enabled); null for none. */
  timestampSec: number | null;
}

/** Encode one key (value + TTL) as the commands that rebuild it. */
export function appendKeyCommands(out: AofBuffer, key: Bin, value: RedisValue, expireMs: number): void {
  if (typeof value === 'string') {
    out.appendCommand(['SET', key, value]);
  } else {
    switch (value.type) {
      case 'list':
        appendBatched(out, 'RPUSH', key, value, 1);
        break;
      case 'set':
        appendBatched(out, 'SADD', key, value.members, 1);
        break;
      case 'hash':
        appendBatched(out, 'HMSET', key, flattenPairs(value.map), 2);
        break;
      case 'zset':
        appendBatched(out, 'ZADD', key, zaddItems(value), 2);
        break;
    }
  }
  if (expireMs !== -1) out.appendCommand(['PEXPIREAT', key, String(expireMs)]);
}

function* flattenPairs(map: ReadonlyMap<Bin, Bin>): Iterable<Bin> {
  for (const [k, v] of map) {
    yield k;
    yield v;
  }
}

function* zaddItems(zset: Iterable<readonly [Bin, number]>): Iterable<Bin> {
  for (const [member, score] of zset) {
    yield formatDouble17g(score);
    yield member;
  }
}

/** Emit `name key item...` commands with at most 64 items (or pairs) each. */
function appendBatched(out: AofBuffer, name: Bin, key: Bin, items: Iterable<Bin>, itemArity: number): void {
  const perCommand = AOF_REWRITE_ITEMS_PER_CMD * itemArity;
  let argv: Bin[] = [name, key];
  for (const item of items) {
    argv.push(item);
    if (argv.length - 2 === perCommand) {
      out.appendCommand(argv);
      argv = [name, key];
    }
  }
  if (argv.length > 2) out.appendCommand(argv);
}

/** Write the whole dataset to `fd` (already open for writing). Returns the bytes written. */
export function writeRespSnapshot(fs: FileSystem, fd: number, dbs: readonly Db[], options: SnapshotOptions): number {
  const out = new AofBuffer(WRITE_CHUNK_BYTES + 64 * 1024);
  let total = 0;
  const drain = (): void => {
    const data = out.view();
    let off = 0;
    while (off < data.length) {
      const n = fs.write(fd, data, off, data.length - off);
      if (n <= 0) throw Object.assign(new Error('short write while writing the AOF base'), { code: 'ENOSPC' });
      off += n;
    }
    total += data.length;
    out.clear();
  };
  if (options.timestampSec !== null) out.appendRaw(`#TS:${options.timestampSec}\r\n`);
  for (const db of dbs) {
    if (db.dict.size === 0) continue;
    out.appendCommand(['SELECT', String(db.id)]);
    for (const [key, value] of db.dict) {
      appendKeyCommands(out, key, value, db.expires.get(key) ?? -1);
      if (out.length >= WRITE_CHUNK_BYTES) drain();
    }
  }
  drain();
  return total;
}
