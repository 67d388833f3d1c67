// Writing a whole AOF-format (RESP) base synchronously through the FileSystem seam: the start-up
// base of an empty or upgraded data set (Redis aofOpenIfNeededOnServerStart →
// rewriteAppendOnlyFile) and the inline (simulated) rewrite. An optional forced `#TS:` line comes
// first, then per db with keys a SELECT and each key's rebuild commands (plain-entry.ts). Output
// goes out in ~1 MiB writes.

import type { FileSystem } from '../../io/file-system.ts';
import type { Db } from '../../keyspace/db.ts';
import { ID_MAX, formatId } from '../../keyspace/stream-id.ts';
import type { RStream } from '../../keyspace/stream.ts';
import { decodeStreamPayload } from '../../rdb/rdb-stream.ts';
import { AofBuffer } from '../aof-buffer.ts';
import { formatDouble17g, formatExpireMs, type Bin } from '../../bytes.ts';
import {
  AOF_REWRITE_ITEMS_PER_CMD,
  PLAIN_HASH,
  PLAIN_LIST,
  PLAIN_SET,
  PLAIN_STREAM,
  PLAIN_STRING,
  PLAIN_ZSET,
  plainScore,
  type PlainEntry,
} from '../../keyspace/plain-entry.ts';
import { toPlainEntry } from './to-plain-entry.ts';

const WRITE_CHUNK_BYTES = 1 << 20;

/**
 * Redis rewriteStreamObject: XADD per entry (or XADD MAXLEN 0 0-1 x y for an empty stream), XSETID
 * with ENTRIESADDED and MAXDELETEDID, then per group XGROUP CREATE ... ENTRIESREAD, an XCLAIM per
 * pending entry of each consumer and XGROUP CREATECONSUMER for consumers with none pending.
 */
function appendStreamResp(out: AofBuffer, key: Bin, s: RStream): void {
  if (s.length > 0) {
    for (const e of s.range(0n, ID_MAX))
      out.appendCommand(['XADD', key, formatId(e.id), ...e.fields]);
  } else {
    out.appendCommand(['XADD', key, 'MAXLEN', '0', '0-1', 'x', 'y']);
  }
  out.appendCommand([
    'XSETID',
    key,
    formatId(s.lastId),
    'ENTRIESADDED',
    String(s.entriesAdded),
    'MAXDELETEDID',
    formatId(s.maxDeletedId),
  ]);
  for (const [name, g] of s.sortedGroups()) {
    out.appendCommand([
      'XGROUP',
      'CREATE',
      key,
      name,
      formatId(g.lastId),
      'ENTRIESREAD',
      String(g.entriesRead),
    ]);
    for (const consumer of g.sortedConsumers()) {
      if (consumer.pel.size === 0) {
        out.appendCommand(['XGROUP', 'CREATECONSUMER', key, name, consumer.name]);
        continue;
      }
      for (const [id, nack] of consumer.pel) {
        out.appendCommand([
          'XCLAIM',
          key,
          name,
          consumer.name,
          '0',
          formatId(id),
          'TIME',
          String(nack.deliveryTime),
          'RETRYCOUNT',
          String(nack.deliveryCount),
          'JUSTID',
          'FORCE',
        ]);
      }
    }
  }
}

export interface SnapshotOptions {
  /** Write `#TS:<sec>` first (aof-timestamp-enabled); null for none. */
  timestampSec: number | null;
}

/** Streams plain entries as RESP into a file; SELECT is emitted whenever the db changes. */
export class RespBaseWriter {
  private readonly fs: FileSystem;
  private readonly fd: number;
  private readonly out = new AofBuffer(WRITE_CHUNK_BYTES + 64 * 1024);
  private currentDb = -1;
  bytesWritten = 0;

  constructor(fs: FileSystem, fd: number, options: SnapshotOptions) {
    this.fs = fs;
    this.fd = fd;
    if (options.timestampSec !== null) this.out.appendRaw(`#TS:${options.timestampSec}\r\n`);
  }

  add(entry: PlainEntry): void {
    if (entry[0] !== this.currentDb) {
      this.currentDb = entry[0];
      this.out.appendCommand(['SELECT', String(entry[0])]);
    }
    appendPlainEntryResp(this.out, entry);
    if (this.out.length >= WRITE_CHUNK_BYTES) this.drain();
  }

  /** Write out what is buffered; throws the file-system error (a short write is ENOSPC). */
  drain(): void {
    const data = this.out.view();
    let off = 0;
    while (off < data.length) {
      const n = this.fs.write(this.fd, data, off, data.length - off);
      if (n <= 0)
        throw Object.assign(new Error('short write while writing the AOF base'), {
          code: 'ENOSPC',
        });
      off += n;
    }
    this.bytesWritten += data.length;
    this.out.clear();
  }
}

/** Write the whole dataset to `fd` (open for writing). Returns the bytes written. */
export function writeRespSnapshot(
  fs: FileSystem,
  fd: number,
  dbs: readonly Db[],
  options: SnapshotOptions,
): number {
  const writer = new RespBaseWriter(fs, fd, options);
  for (const db of dbs) {
    for (const [key, value] of db.dict)
      writer.add(toPlainEntry(db.id, key, value, db.expires.get(key) ?? -1));
  }
  writer.drain();
  return writer.bytesWritten;
}

/**
 * Redis rewriteAppendOnlyFileRio for one key: SET, or RPUSH / SADD / HMSET / ZADD in batches of
 * at most 64 items (pairs for hashes and zsets), then PEXPIREAT when the key has a TTL.
 */
export function appendPlainEntryResp(out: AofBuffer, e: PlainEntry): void {
  const [, key, type, data, expireMs] = e;
  switch (type) {
    case PLAIN_STRING:
      out.appendCommand(['SET', key, data as Bin]);
      break;
    case PLAIN_LIST:
      appendBatches(out, 'RPUSH', key, data as Bin[], 1);
      break;
    case PLAIN_SET:
      appendBatches(out, 'SADD', key, data as Bin[], 1);
      break;
    case PLAIN_HASH:
      appendBatches(out, 'HMSET', key, data as Bin[], 2);
      break;
    case PLAIN_ZSET: {
      // ZADD takes score before member; scores as %.17g (Redis rioWriteBulkDouble).
      const flat = data as (Bin | number)[];
      const items: Bin[] = new Array<Bin>(flat.length);
      for (let i = 0; i < flat.length; i += 2) {
        items[i] = formatDouble17g(plainScore(flat[i + 1]!));
        items[i + 1] = flat[i] as Bin;
      }
      appendBatches(out, 'ZADD', key, items, 2);
      break;
    }
    case PLAIN_STREAM:
      appendStreamResp(out, key, decodeStreamPayload(Buffer.from(data as Bin, 'latin1')));
      break;
  }
  if (expireMs !== -1) out.appendCommand(['PEXPIREAT', key, formatExpireMs(expireMs)]);
}

function appendBatches(
  out: AofBuffer,
  name: Bin,
  key: Bin,
  items: readonly Bin[],
  arity: number,
): void {
  const perCommand = AOF_REWRITE_ITEMS_PER_CMD * arity;
  for (let start = 0; start < items.length; start += perCommand) {
    const end = Math.min(items.length, start + perCommand);
    const argv: Bin[] = new Array<Bin>(2 + end - start);
    argv[0] = name;
    argv[1] = key;
    for (let i = start; i < end; i++) argv[2 + i - start] = items[i]!;
    out.appendCommand(argv);
  }
}
