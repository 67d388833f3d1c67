// The canonical dump printed by `aofkv dump`, a pure function of the databases (tests and interop
// checks call it too): the whole keyspace as JSON, so two data sets (ours, or what a real
// redis-server loaded from the same AOF) compare with a plain string compare:
//
//   {"format":"redis-canonical-dump/1","dbs":{"0":[entry,...],...,"15":[...]}}
//   entry  {"key":K,"type":"string"|"list"|"hash"|"set"|"zset","value":V,"expire_ms":ms|null}
//
// Every db is present, even empty; entries are sorted by key bytes. A byte string is a JSON string
// when it is valid UTF-8, else {"base64":"..."}. string → bytes; list → elements head to tail;
// hash → [[field,value],...] by field bytes; set → members by bytes; zset → [[member,score],...]
// by score then member bytes, score a JSON number ("inf"/"-inf" for infinities, -0 written as 0).
// expire_ms is the absolute unix time in ms, or null. Keys whose time has passed are still listed
// (with their expire_ms): a dump describes what was loaded, independent of the wall clock, and
// Redis does not expire keys while loading either. The JSON is compact: no spaces, no newline.

import { compareBin, type Bin } from '../bytes.ts';
import type { Db } from '../keyspace/db.ts';
import type { RedisValue } from '../keyspace/values.ts';
import { ID_MAX, formatId } from '../keyspace/stream-id.ts';
import type { RStream } from '../keyspace/stream.ts';

export const DUMP_FORMAT = 'redis-canonical-dump/1';

/** A byte string in the dump: UTF-8 text, or base64 when the bytes are not valid UTF-8. */
export type DumpBytes = string | { base64: string };
export type DumpScore = number | 'inf' | '-inf';
/**
 * A stream: entries and the metadata a reload must keep. Consumers' seen-times are left out:
 * Redis does not persist them through the AOF (a replayed XCLAIM sets them to the load time).
 */
export interface DumpStream {
  entries: [string, DumpBytes[]][];
  last_id: string;
  first_id: string;
  max_deleted_id: string;
  entries_added: string;
  groups: {
    name: DumpBytes;
    last_id: string;
    entries_read: string;
    /** [id, consumer, delivery time ms, delivery count] in ID order. */
    pending: [string, DumpBytes, number, string][];
    consumers: DumpBytes[];
  }[];
}

export type DumpValue =
  | DumpBytes
  | DumpBytes[]
  | [DumpBytes, DumpBytes][]
  | [DumpBytes, DumpScore][]
  | DumpStream;

export interface DumpEntry {
  key: DumpBytes;
  type: 'string' | 'list' | 'hash' | 'set' | 'zset' | 'stream';
  value: DumpValue;
  expire_ms: number | null;
}

/** The canonical JSON text of `dbs` (pure: reads the dicts, never expires or touches a key). */
export function dumpKeyspace(dbs: readonly Db[]): string {
  const out: Record<string, DumpEntry[]> = {};
  for (const db of dbs) {
    const keys = [...db.dict.keys()].sort(compareBin);
    out[String(db.id)] = keys.map((key) => dumpEntry(key, db.dict.get(key)!, db.expires.get(key)));
  }
  // Integer-like property names ("0".."15") enumerate in numeric order, so db order is stable.
  return bigintToJson(JSON.stringify({ format: DUMP_FORMAT, dbs: out }));
}

function dumpEntry(key: Bin, value: RedisValue, expireMs: number | bigint | undefined): DumpEntry {
  const base = { key: dumpBytes(key) };
  // A bigint expiry (beyond 2^53 ms) is written as an exact JSON number, see bigintToJson.
  const expire_ms =
    typeof expireMs === 'bigint'
      ? (`${BIGINT_MARK}${expireMs}${BIGINT_MARK}` as unknown as number)
      : (expireMs ?? null);
  if (typeof value === 'string')
    return { ...base, type: 'string', value: dumpBytes(value), expire_ms };
  switch (value.type) {
    case 'list':
      return { ...base, type: 'list', value: Array.from(value, dumpBytes), expire_ms };
    case 'hash': {
      const fields = [...value.map.keys()].sort(compareBin);
      return {
        ...base,
        type: 'hash',
        value: fields.map((f): [DumpBytes, DumpBytes] => [
          dumpBytes(f),
          dumpBytes(value.map.get(f)!),
        ]),
        expire_ms,
      };
    }
    case 'set':
      return {
        ...base,
        type: 'set',
        value: [...value.members].sort(compareBin).map(dumpBytes),
        expire_ms,
      };
    case 'zset': {
      // The set iterates in (score, member) order already; sorting again keeps the dump's
      // definition independent of the structure (and -0 == 0 ties fall back to member bytes).
      const entries = [...value].sort((a, b) => a[1] - b[1] || compareBin(a[0], b[0]));
      return {
        ...base,
        type: 'zset',
        value: entries.map(([m, s]): [DumpBytes, DumpScore] => [dumpBytes(m), dumpScore(s)]),
        expire_ms,
      };
    }
    case 'stream':
      return { ...base, type: 'stream', value: dumpStream(value), expire_ms };
  }
}

export function dumpStream(s: RStream): DumpStream {
  return {
    entries: [...s.range(0n, ID_MAX)].map((e) => [formatId(e.id), e.fields.map(dumpBytes)]),
    last_id: formatId(s.lastId),
    first_id: formatId(s.firstId),
    max_deleted_id: formatId(s.maxDeletedId),
    entries_added: String(s.entriesAdded),
    groups: s.sortedGroups().map(([name, g]) => ({
      name: dumpBytes(name),
      last_id: formatId(g.lastId),
      entries_read: String(g.entriesRead),
      pending: [...g.pel].map(([id, n]): [string, DumpBytes, number, string] => [
        formatId(id),
        dumpBytes(n.consumer?.name ?? ''),
        n.deliveryTime,
        String(n.deliveryCount),
      ]),
      consumers: g.sortedConsumers().map((c) => dumpBytes(c.name)),
    })),
  };
}

const utf8 = new TextDecoder('utf-8', {
  fatal: true,
  // Without ignoreBOM a leading EF BB BF would be dropped from the text: the bytes would not
  // round-trip.
  ignoreBOM: true,
});
// biome-ignore lint/suspicious/noControlCharactersInRegex: ASCII includes the control bytes
const ASCII = /^[\x00-\x7f]*$/;

/** A byte string for the dump: its text when valid UTF-8, else {"base64": ...}. */
export function dumpBytes(b: Bin): DumpBytes {
  if (ASCII.test(b)) return b;
  const buf = Buffer.from(b, 'latin1');
  try {
    return utf8.decode(buf);
  } catch {
    return { base64: buf.toString('base64') };
  }
}

export function dumpScore(score: number): DumpScore {
  if (score === Infinity) return 'inf';
  if (score === -Infinity) return '-inf';
  return score === 0 ? 0 : score; // -0 → 0
}

const BIGINT_MARK = '\u0000bigint\u0000';

/** JSON has no bigint: expiries beyond 2^53 travel as marked strings and become bare digits. */
function bigintToJson(json: string): string {
  return json.replace(/"\\u0000bigint\\u0000(-?\d+)\\u0000bigint\\u0000"/g, '$1');
}
