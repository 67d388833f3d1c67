// A canonical, logical dump of an engine's keyspace, for comparing a recovered engine with the
// reference model.
//
// "Logical" means: as every command sees the data at `nowMs`. A key whose TTL has passed is left
// out whether or not it is still physically stored, because when an expired key is physically
// removed (lazily by a lookup, by the active-expire cron, or never, while loading) is not part of
// what the AOF promises; only its absolute expiry time is. Both sides are dumped at the same
// `nowMs`, so a key that expired between the model's command and the crash is absent from both.
//
// One line per key: JSON of [db, key, type, contents, expireAtMs | null]. Lines are sorted, so two
// dumps are equal iff the keyspaces are. Contents are canonical: hash fields and set members are
// sorted (their iteration order is an encoding detail), lists and zsets keep their defined order;
// zset scores are written with String() (shortest round-trip form, -0 prints as 0, which is how
// Redis prints and replays it).

import type { Engine } from '@aofkv/engine';
import type { Bin } from '../../src/bytes.ts';
import { dumpStream, type DumpStream } from '../../src/cli/dump.ts';
import type { RedisValue } from '../../src/keyspace/values.ts';

export type DumpLine = string;

/** Every logically present key of every db, one canonical line each, sorted. */
export function dumpKeyspace(engine: Engine, nowMs: number): DumpLine[] {
  const lines: DumpLine[] = [];
  for (const db of engine.server.dbs) {
    for (const [key, value] of db.dict) {
      const expireAtMs = db.expires.get(key) ?? null;
      // Redis keyIsExpired: expired when now > when, so a key is still alive at its exact ms.
      if (expireAtMs !== null && nowMs > expireAtMs) continue;
      // An expiry beyond 2^53 ms (only an RDB can hold one) is a bigint, which JSON cannot
      // write: its decimal text instead (restoreCommands passes it to PEXPIREAT as text anyway).
      const expiry = typeof expireAtMs === 'bigint' ? String(expireAtMs) : expireAtMs;
      lines.push(JSON.stringify([db.id, key, ...describeValue(value), expiry]));
    }
  }
  return lines.sort();
}

function describeValue(value: RedisValue): [string, unknown] {
  if (typeof value === 'string') return ['string', value];
  switch (value.type) {
    case 'list':
      return ['list', [...value]];
    case 'hash':
      return ['hash', [...value.map].sort(compareFirst)];
    case 'set':
      return ['set', [...value.members].sort()];
    case 'zset':
      return ['zset', [...value].map(([member, score]) => [member, String(score)])];
    case 'stream': {
      // A group's entries_read is not what a reload gives back: Redis propagates XREADGROUP as
      // XCLAIM ... LASTID, which moves the group's last ID but not its read counter (a rewrite
      // writes the counter exactly). It is left out, like seen-times (see cli/dump.ts).
      const s = dumpStream(value);
      for (const g of s.groups) g.entries_read = '';
      return ['stream', s];
    }
    default:
      return assertNever(value);
  }
}

function compareFirst(a: [Bin, Bin], b: [Bin, Bin]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

function assertNever(value: never): never {
  throw new Error(`unexpected value: ${String(value)}`);
}

/**
 * Null when equal; otherwise a short human-readable difference (at most `limit` lines each way).
 */
export function diffDumps(expected: DumpLine[], actual: DumpLine[], limit = 6): string | null {
  const expectedSet = new Set(expected);
  const actualSet = new Set(actual);
  const missing = expected.filter((line) => !actualSet.has(line));
  const extra = actual.filter((line) => !expectedSet.has(line));
  if (missing.length === 0 && extra.length === 0) return null;
  const show = (lines: DumpLine[]) =>
    lines
      .slice(0, limit)
      .map((l) => `    ${clip(l)}`)
      .join('\n');
  return (
    `keyspace differs: ${missing.length} expected line(s) missing, ${extra.length} unexpected\n` +
    (missing.length > 0 ? `  expected (model) but not found:\n${show(missing)}\n` : '') +
    (extra.length > 0 ? `  found but not expected:\n${show(extra)}` : '')
  );
}

function clip(line: string): string {
  return line.length > 200 ? `${line.slice(0, 200)}…(${line.length} chars)` : line;
}

/** A command that recreates part of a dump (db + argv with Buffer arguments, binary-safe). */
export interface RestoreCommand {
  db: number;
  argv: (string | Buffer)[];
}

/**
 * Commands that rebuild a dumped keyspace on an empty engine. Used only to resynchronise the
 * model after a crash left a state that no prefix explains (see FAULTS.md: torn bytes that parse).
 */
export function restoreCommands(lines: readonly DumpLine[]): RestoreCommand[] {
  const out: RestoreCommand[] = [];
  for (const line of lines) {
    const [db, key, type, contents, expireAtMs] = JSON.parse(line) as [
      number,
      Bin,
      string,
      unknown,
      number | string | null,
    ];
    const k = bin(key);
    if (type === 'stream') out.push(...recreateStream(db, k, contents as DumpStream));
    else out.push({ db, argv: recreate(type, k, contents) });
    if (expireAtMs !== null) out.push({ db, argv: ['PEXPIREAT', k, String(expireAtMs)] });
  }
  return out;
}

function recreate(type: string, key: Buffer, contents: unknown): (string | Buffer)[] {
  switch (type) {
    case 'string':
      return ['SET', key, bin(contents as Bin)];
    case 'list':
      return ['RPUSH', key, ...(contents as Bin[]).map(bin)];
    case 'hash':
      return ['HSET', key, ...(contents as [Bin, Bin][]).flatMap(([f, v]) => [bin(f), bin(v)])];
    case 'set':
      return ['SADD', key, ...(contents as Bin[]).map(bin)];
    case 'zset':
      return [
        'ZADD',
        key,
        ...(contents as [Bin, string][]).flatMap(([m, s]) => [scoreArg(s), bin(m)]),
      ];
    default:
      throw new Error(`unknown type in dump: ${type}`);
  }
}

/** Redis rewriteStreamObject's commands for a dumped stream (seen-times are not in dumps). */
function recreateStream(db: number, key: Buffer, s: DumpStream): RestoreCommand[] {
  const out: RestoreCommand[] = [];
  const b = (x: unknown): Buffer => bin(x as Bin);
  for (const [id, fields] of s.entries) out.push({ db, argv: ['XADD', key, id, ...fields.map(b)] });
  if (s.entries.length === 0) out.push({ db, argv: ['XADD', key, 'MAXLEN', '0', '0-1', 'x', 'y'] });
  out.push({
    db,
    argv: [
      'XSETID',
      key,
      s.last_id,
      'ENTRIESADDED',
      s.entries_added,
      'MAXDELETEDID',
      s.max_deleted_id,
    ],
  });
  for (const g of s.groups) {
    const name = b(g.name);
    out.push({
      db,
      argv: ['XGROUP', 'CREATE', key, name, g.last_id, 'ENTRIESREAD', g.entries_read],
    });
    for (const c of g.consumers)
      out.push({ db, argv: ['XGROUP', 'CREATECONSUMER', key, name, b(c)] });
    for (const [id, consumer, time, count] of g.pending) {
      out.push({
        db,
        argv: [
          'XCLAIM',
          key,
          name,
          b(consumer),
          '0',
          id,
          'TIME',
          String(time),
          'RETRYCOUNT',
          count,
          'JUSTID',
          'FORCE',
        ],
      });
    }
  }
  return out;
}

function scoreArg(text: string): string {
  if (text === 'Infinity') return '+inf';
  if (text === '-Infinity') return '-inf';
  return text;
}

function bin(value: Bin): Buffer {
  return Buffer.from(value, 'latin1');
}
