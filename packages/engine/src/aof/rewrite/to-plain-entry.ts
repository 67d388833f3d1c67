// A keyspace value as a plain entry (keyspace/plain-entry.ts says the format). Here, above rdb/,
// because a stream's plain data is its RDB value (rdb/rdb-stream.ts).

import type { Bin } from '../../bytes.ts';
import {
  NEGATIVE_ZERO,
  PLAIN_HASH,
  PLAIN_LIST,
  PLAIN_SET,
  PLAIN_STREAM,
  PLAIN_STRING,
  PLAIN_ZSET,
  type PlainEntry,
} from '../../keyspace/plain-entry.ts';
import type { RedisValue } from '../../keyspace/values.ts';
import { encodeStreamPayload } from '../../rdb/rdb-stream.ts';

export function toPlainEntry(
  dbId: number,
  key: Bin,
  value: RedisValue,
  expireMs: number | bigint,
): PlainEntry {
  if (typeof value === 'string') return [dbId, key, PLAIN_STRING, value, expireMs];
  switch (value.type) {
    case 'list':
      return [dbId, key, PLAIN_LIST, value.toArray(), expireMs];
    case 'set':
      return [dbId, key, PLAIN_SET, [...value.members], expireMs];
    case 'hash': {
      const flat: Bin[] = [];
      for (const [f, v] of value.map) flat.push(f, v);
      return [dbId, key, PLAIN_HASH, flat, expireMs];
    }
    case 'zset': {
      const flat: (Bin | number)[] = [];
      for (const [m, s] of value) flat.push(m, Object.is(s, -0) ? NEGATIVE_ZERO : s);
      return [dbId, key, PLAIN_ZSET, flat, expireMs];
    }
    case 'stream':
      return [dbId, key, PLAIN_STREAM, encodeStreamPayload(value).toString('latin1'), expireMs];
  }
}
