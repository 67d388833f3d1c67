// The simulator's workload: a seeded stream of "units" over every value type, expiry and several
// databases. A unit is what the engine applies atomically: one command, or one MULTI/EXEC batch.
// The generator never looks at replies, so a seed replays exactly.
//
// Keys come from small pools so commands keep hitting the same keys (one pool per type, plus a
// shared pool every type writes to, so WRONGTYPE happens). TTLs are short (50 ms – 5 s) against a
// clock the simulator moves 0–700 ms per step, so keys really expire during a run, lazily and by
// the cron. Arguments that are not plain ASCII are Buffers: a JS string would be UTF-8 encoded.
// Commands whose effect depends on a random draw (SPOP, SRANDMEMBER, RANDOMKEY) are left out, and
// so are reads whose reply order is an encoding detail (HGETALL, SMEMBERS): the model compares
// replies with a second engine that may store the same data with another encoding.

import type { Prng } from '../../src/testing/prng.ts';

export type WorkArg = string | Buffer;
/** [name, ...args] */
export type Command = readonly WorkArg[];

export type Unit =
  | { readonly kind: 'command'; readonly db: number; readonly command: Command }
  | { readonly kind: 'multi'; readonly db: number; readonly commands: readonly Command[] };

export interface WorkloadOptions {
  databases: number;
  /** Probability that a unit is a MULTI/EXEC batch. */
  multiProbability: number;
  /** Probability that a value is large (100–1500 bytes), so writes tear mid-argument. */
  bigValueProbability: number;
  /** Relative weight of FLUSHDB/FLUSHALL/SWAPDB (0 = never). */
  flushWeight: number;
  /** With more than 128 databases: the share of units in db 128 and above. */
  highDbShare: number;
}

type KeyKind = 'string' | 'counter' | 'list' | 'hash' | 'set' | 'zset' | 'stream';

const POOLS: Record<KeyKind, readonly string[]> = {
  string: ['s0', 's1', 's2', 's3'],
  counter: ['c0', 'c1', 'c2'],
  list: ['l0', 'l1', 'l2', 'l3'],
  hash: ['h0', 'h1', 'h2'],
  set: ['S0', 'S1', 'S2', 'S3'],
  zset: ['z0', 'z1', 'z2', 'z3'],
  stream: ['X0', 'X1', 'X2'],
};
const SHARED_KEYS = ['x0', 'x1', 'x2'];
const MEMBERS = ['a', 'b', 'c', 'd', 'e', 'f', '1', '2', '10', '-3'];

/** Everything a command generator needs: the rng, the time (for absolute TTLs) and value pools. */
class Gen {
  readonly rng: Prng;
  readonly options: WorkloadOptions;
  nowMs = 0;
  /** Stream IDs come from this counter (ms part), so deletes and claims hit existing entries. */
  streamMs = 1;

  constructor(rng: Prng, options: WorkloadOptions) {
    this.rng = rng;
    this.options = options;
  }

  key(kind: KeyKind): string {
    return this.rng.chance(0.12) ? this.rng.pick(SHARED_KEYS) : this.rng.pick(POOLS[kind]);
  }

  member(): string {
    return this.rng.pick(MEMBERS);
  }

  int(min: number, max: number): string {
    return String(this.rng.nextIntBetween(min, max));
  }

  value(): WorkArg {
    const roll = this.rng.nextFloat();
    if (roll < this.options.bigValueProbability) {
      return 'V'.repeat(this.rng.nextIntBetween(100, 1500)) + this.int(0, 99);
    }
    if (roll < 0.7) return `v${this.int(0, 999)}`;
    if (roll < 0.82) return this.int(-50, 50);
    // Binary: NUL, CR/LF, bytes >= 0x80. The AOF is binary-safe; the loader must not care.
    return Buffer.from(this.rng.nextBytes(this.rng.nextIntBetween(1, 12)));
  }

  score(): string {
    const roll = this.rng.nextFloat();
    if (roll < 0.6) return this.int(-5, 20);
    if (roll < 0.9) return (this.rng.nextIntBetween(-400, 400) / 8).toString();
    return this.rng.pick(['+inf', '-inf', '0', '-0', '1e3']);
  }

  ttlMs(): string {
    return this.int(50, 4000);
  }

  /** A new stream ID (forward), sometimes with the sequence left to XADD. */
  newStreamId(): string {
    this.streamMs += this.rng.nextIntBetween(0, 2);
    return this.rng.chance(0.3) ? `${this.streamMs}-*` : `${this.streamMs}-${this.int(0, 2)}`;
  }

  /** An ID the counter already passed: likely an entry, or a pending one. */
  oldStreamId(): string {
    return `${Math.max(1, this.streamMs - this.rng.nextIntBetween(0, 12))}-${this.int(0, 2)}`;
  }

  group(): string {
    return this.rng.pick(['g0', 'g1']);
  }

  consumer(): string {
    return this.rng.pick(['c0', 'c1', 'c2']);
  }

  /** An absolute time in ms, sometimes already in the past (an immediate delete). */
  atMs(): string {
    return String(this.nowMs + this.rng.nextIntBetween(-1000, 5000));
  }
}

interface Entry {
  weight: number;
  /** Never inside MULTI (whole-db commands would make most batches trivial). */
  noMulti?: boolean;
  gen: (g: Gen) => Command;
}

const STRINGS: Entry[] = [
  { weight: 8, gen: (g) => ['SET', g.key('string'), g.value()] },
  { weight: 3, gen: (g) => ['SET', g.key('string'), g.value(), 'PX', g.ttlMs()] },
  { weight: 2, gen: (g) => ['SET', g.key('string'), g.value(), 'EX', g.int(1, 3)] },
  { weight: 1, gen: (g) => ['SET', g.key('string'), g.value(), 'PXAT', g.atMs()] },
  {
    weight: 2,
    gen: (g) => ['SET', g.key('string'), g.value(), g.rng.pick(['NX', 'XX', 'KEEPTTL', 'GET'])],
  },
  { weight: 3, gen: (g) => ['APPEND', g.key('string'), g.value()] },
  { weight: 4, gen: (g) => ['INCRBY', g.key('counter'), g.int(-5, 10)] },
  { weight: 2, gen: (g) => ['INCR', g.key('counter')] },
  {
    weight: 1,
    gen: (g) => ['INCRBYFLOAT', g.key('counter'), (g.rng.nextIntBetween(-40, 40) / 4).toString()],
  },
  { weight: 1, gen: (g) => ['SETRANGE', g.key('string'), g.int(0, 12), g.value()] },
  { weight: 1, gen: (g) => ['GETSET', g.key('string'), g.value()] },
  { weight: 1, gen: (g) => ['GETDEL', g.key('string')] },
  { weight: 1, gen: (g) => ['GETEX', g.key('string'), 'PX', g.ttlMs()] },
  { weight: 1, gen: (g) => ['GETEX', g.key('string'), 'PERSIST'] },
  { weight: 1, gen: (g) => ['MSET', g.key('string'), g.value(), g.key('string'), g.value()] },
  { weight: 1, gen: (g) => ['SETNX', g.key('string'), g.value()] },
  { weight: 1, gen: (g) => ['PSETEX', g.key('string'), g.ttlMs(), g.value()] },
  { weight: 2, gen: (g) => ['GET', g.key('string')] },
];

const LISTS: Entry[] = [
  { weight: 5, gen: (g) => [g.rng.pick(['LPUSH', 'RPUSH']), g.key('list'), g.value(), g.member()] },
  { weight: 2, gen: (g) => [g.rng.pick(['LPOP', 'RPOP']), g.key('list')] },
  { weight: 1, gen: (g) => [g.rng.pick(['LPOP', 'RPOP']), g.key('list'), g.int(1, 3)] },
  { weight: 1, gen: (g) => ['LSET', g.key('list'), g.int(-2, 2), g.member()] },
  { weight: 1, gen: (g) => ['LREM', g.key('list'), g.int(-2, 2), g.member()] },
  { weight: 1, gen: (g) => ['LTRIM', g.key('list'), g.int(0, 2), g.int(-3, 5)] },
  {
    weight: 1,
    gen: (g) => ['LINSERT', g.key('list'), g.rng.pick(['BEFORE', 'AFTER']), g.member(), g.member()],
  },
  {
    weight: 1,
    gen: (g) => [
      'LMOVE',
      g.key('list'),
      g.key('list'),
      g.rng.pick(['LEFT', 'RIGHT']),
      g.rng.pick(['LEFT', 'RIGHT']),
    ],
  },
  { weight: 1, gen: (g) => ['RPOPLPUSH', g.key('list'), g.key('list')] },
  { weight: 1, gen: (g) => ['LRANGE', g.key('list'), '0', '-1'] },
];

const HASHES: Entry[] = [
  { weight: 5, gen: (g) => ['HSET', g.key('hash'), g.member(), g.value(), g.member(), g.value()] },
  { weight: 2, gen: (g) => ['HDEL', g.key('hash'), g.member(), g.member()] },
  { weight: 2, gen: (g) => ['HINCRBY', g.key('hash'), g.member(), g.int(-3, 9)] },
  {
    weight: 1,
    gen: (g) => [
      'HINCRBYFLOAT',
      g.key('hash'),
      g.member(),
      (g.rng.nextIntBetween(-8, 8) / 2).toString(),
    ],
  },
  { weight: 1, gen: (g) => ['HSETNX', g.key('hash'), g.member(), g.value()] },
  { weight: 1, gen: (g) => ['HGET', g.key('hash'), g.member()] },
];

const SETS: Entry[] = [
  { weight: 5, gen: (g) => ['SADD', g.key('set'), g.member(), g.member(), g.member()] },
  { weight: 2, gen: (g) => ['SREM', g.key('set'), g.member(), g.member()] },
  { weight: 1, gen: (g) => ['SMOVE', g.key('set'), g.key('set'), g.member()] },
  {
    weight: 1,
    gen: (g) => [
      g.rng.pick(['SINTERSTORE', 'SUNIONSTORE', 'SDIFFSTORE']),
      g.key('set'),
      g.key('set'),
      g.key('set'),
    ],
  },
  { weight: 1, gen: (g) => ['SISMEMBER', g.key('set'), g.member()] },
];

const ZSETS: Entry[] = [
  { weight: 5, gen: (g) => ['ZADD', g.key('zset'), g.score(), g.member(), g.score(), g.member()] },
  {
    weight: 2,
    gen: (g) => [
      'ZADD',
      g.key('zset'),
      g.rng.pick(['NX', 'XX', 'GT', 'LT']),
      'CH',
      g.score(),
      g.member(),
    ],
  },
  { weight: 1, gen: (g) => ['ZADD', g.key('zset'), 'INCR', g.score(), g.member()] },
  { weight: 2, gen: (g) => ['ZINCRBY', g.key('zset'), g.score(), g.member()] },
  { weight: 2, gen: (g) => ['ZREM', g.key('zset'), g.member(), g.member()] },
  { weight: 1, gen: (g) => [g.rng.pick(['ZPOPMIN', 'ZPOPMAX']), g.key('zset'), g.int(1, 2)] },
  { weight: 1, gen: (g) => ['ZREMRANGEBYSCORE', g.key('zset'), g.int(-5, 5), g.int(5, 15)] },
  { weight: 1, gen: (g) => ['ZREMRANGEBYRANK', g.key('zset'), '0', g.int(0, 1)] },
  {
    weight: 1,
    gen: (g) => [
      g.rng.pick(['ZUNIONSTORE', 'ZINTERSTORE']),
      g.key('zset'),
      '2',
      g.key('zset'),
      g.key('zset'),
    ],
  },
  { weight: 1, gen: (g) => ['ZRANGESTORE', g.key('zset'), g.key('zset'), '0', g.int(0, 3)] },
  { weight: 1, gen: (g) => ['ZRANGE', g.key('zset'), '0', '-1', 'WITHSCORES'] },
];

// Streams. Left out, because a reload legitimately differs from the live state there (as in
// Redis): history reads (XREADGROUP ... 0 bumps delivery counts Redis does not propagate), replies
// that show seen-times or read counters (XINFO), and approximate trims (`~`: a rewrite rebuilds
// the nodes without tombstones, so whole-node trimming then removes other entries; the AOF
// carries the exact trim either way, which is what the crash checks cover).
const STREAMS: Entry[] = [
  {
    weight: 4,
    gen: (g) => {
      const trim = g.rng.chance(0.25)
        ? g.rng.pick([
            ['MAXLEN', '=', g.int(0, 6)],
            ['MAXLEN', g.int(2, 10)],
            ['MINID', g.oldStreamId()],
          ])
        : [];
      return ['XADD', g.key('stream'), ...trim, g.newStreamId(), 'f', g.value(), 'n', g.int(0, 9)];
    },
  },
  { weight: 1, gen: (g) => ['XDEL', g.key('stream'), g.oldStreamId(), g.oldStreamId()] },
  {
    weight: 1,
    gen: (g) =>
      g.rng.chance(0.5)
        ? ['XTRIM', g.key('stream'), 'MAXLEN', g.int(0, 8)]
        : ['XTRIM', g.key('stream'), 'MINID', '=', g.oldStreamId()],
  },
  {
    weight: 2.5,
    gen: (g) => {
      const roll = g.rng.nextFloat();
      const key = g.key('stream');
      if (roll < 0.6) {
        return ['XGROUP', 'CREATE', key, g.group(), g.rng.pick(['0', '$']), 'MKSTREAM'];
      }
      if (roll < 0.72) {
        return ['XGROUP', 'SETID', key, g.group(), g.oldStreamId(), 'ENTRIESREAD', g.int(0, 5)];
      }
      if (roll < 0.75) return ['XGROUP', 'DESTROY', key, g.group()];
      if (roll < 0.85) return ['XGROUP', 'CREATECONSUMER', key, g.group(), g.consumer()];
      return ['XGROUP', 'DELCONSUMER', key, g.group(), g.consumer()];
    },
  },
  {
    weight: 3,
    gen: (g) => [
      'XREADGROUP',
      'GROUP',
      g.group(),
      g.consumer(),
      'COUNT',
      g.int(1, 3),
      ...(g.rng.chance(0.2) ? ['NOACK'] : []),
      'STREAMS',
      g.key('stream'),
      '>',
    ],
  },
  { weight: 2, gen: (g) => ['XACK', g.key('stream'), g.group(), g.oldStreamId(), g.oldStreamId()] },
  {
    weight: 1.5,
    gen: (g) => [
      'XCLAIM',
      g.key('stream'),
      g.group(),
      g.consumer(),
      g.rng.pick(['0', '0', '300']),
      g.oldStreamId(),
      g.oldStreamId(),
      ...g.rng.pick([[], ['JUSTID'], ['IDLE', g.int(0, 900)], ['RETRYCOUNT', g.int(0, 4)]]),
      ...(g.rng.chance(0.2) ? ['FORCE'] : []),
    ],
  },
  {
    weight: 1,
    gen: (g) => [
      'XAUTOCLAIM',
      g.key('stream'),
      g.group(),
      g.consumer(),
      g.rng.pick(['0', '500']),
      '0',
      'COUNT',
      g.int(1, 4),
      ...(g.rng.chance(0.3) ? ['JUSTID'] : []),
    ],
  },
  {
    weight: 0.3,
    gen: (g) => ['XSETID', g.key('stream'), `${g.streamMs + 3}-0`, 'ENTRIESADDED', g.int(40, 90)],
  },
  {
    weight: 1,
    gen: (g) =>
      g.rng.pick([
        ['XRANGE', g.key('stream'), '-', '+'],
        ['XPENDING', g.key('stream'), g.group(), '-', '+', '10'],
        ['XPENDING', g.key('stream'), g.group()],
        ['XLEN', g.key('stream')],
      ]),
  },
];

const anyKey = (g: Gen): string =>
  g.key(g.rng.pick(['string', 'counter', 'list', 'hash', 'set', 'zset', 'stream'] as const));

const KEYS: Entry[] = [
  { weight: 2, gen: (g) => [g.rng.pick(['DEL', 'UNLINK']), anyKey(g), anyKey(g)] },
  { weight: 3, gen: (g) => ['PEXPIRE', anyKey(g), g.ttlMs()] },
  {
    weight: 2,
    gen: (g) => {
      const flag = g.rng.chance(0.3) ? [g.rng.pick(['NX', 'XX', 'GT', 'LT'])] : [];
      return ['EXPIRE', anyKey(g), g.int(1, 4), ...flag];
    },
  },
  { weight: 2, gen: (g) => ['PEXPIREAT', anyKey(g), g.atMs()] },
  { weight: 1, gen: (g) => ['EXPIREAT', anyKey(g), String(Math.floor(Number(g.atMs()) / 1000))] },
  { weight: 1, gen: (g) => ['PERSIST', anyKey(g)] },
  { weight: 1, gen: (g) => [g.rng.pick(['RENAME', 'RENAMENX']), anyKey(g), anyKey(g)] },
  {
    weight: 1,
    gen: (g) => ['COPY', anyKey(g), anyKey(g), 'DB', g.int(0, g.options.databases - 1), 'REPLACE'],
  },
  { weight: 1, gen: (g) => ['MOVE', anyKey(g), g.int(0, g.options.databases - 1)] },
  { weight: 2, gen: (g) => [g.rng.pick(['EXISTS', 'PTTL', 'TYPE']), anyKey(g)] },
];

/**
 * Connection commands: no keyspace effect, replies the model engine gives identically. (PING is
 * left out: like Redis, it answers MISCONF while writes are refused, which the model has no
 * notion of.)
 */
const CONNECTION: Entry[] = [
  { weight: 0.5, gen: (g) => ['ECHO', g.value()] },
  { weight: 0.25, gen: () => ['COMMAND', 'COUNT'] },
  { weight: 0.25, gen: (g) => ['COMMAND', 'GETKEYS', 'SET', anyKey(g), g.value()] },
  // REFCOUNT depends on the value only; ENCODING is left out because a reload recomputes a
  // hash's or zset's encoding from its content (as Redis does), while the model never reloads.
  { weight: 0.25, gen: (g) => ['OBJECT', 'REFCOUNT', anyKey(g)] },
];

function wholeDb(weight: number): Entry[] {
  return [
    { weight, noMulti: true, gen: (g) => (g.rng.chance(0.5) ? ['FLUSHDB'] : ['FLUSHDB', 'ASYNC']) },
    { weight: weight / 4, noMulti: true, gen: () => ['FLUSHALL'] },
    {
      weight: weight / 2,
      noMulti: true,
      gen: (g) => ['SWAPDB', g.int(0, g.options.databases - 1), g.int(0, g.options.databases - 1)],
    },
  ];
}

export class Workload {
  readonly #gen: Gen;
  readonly #entries: Entry[];
  readonly #inMulti: Entry[];

  constructor(rng: Prng, options: WorkloadOptions) {
    this.#gen = new Gen(rng, options);
    const whole = options.flushWeight > 0 ? wholeDb(options.flushWeight) : [];
    this.#entries = [
      ...STRINGS,
      ...LISTS,
      ...HASHES,
      ...SETS,
      ...ZSETS,
      ...STREAMS,
      ...KEYS,
      ...CONNECTION,
      ...whole,
    ];
    this.#inMulti = this.#entries.filter((e) => e.noMulti !== true);
  }

  /**
   * Mostly db 0 and 1, so SELECT changes are frequent but each db still has a dense keyspace; with
   * many databases, a share of units goes to high ones: 128–255 (a db id that is no MessagePack
   * fixint), 256 and up (more than a byte), and the last.
   */
  #pickDb(): number {
    const g = this.#gen;
    const { databases, highDbShare } = g.options;
    if (databases > 128 && g.rng.chance(highDbShare)) {
      const roll = g.rng.nextFloat();
      if (roll < 0.4) return g.rng.nextIntBetween(128, Math.min(255, databases - 1));
      if (roll < 0.8 && databases > 256) return g.rng.nextIntBetween(256, databases - 1);
      return databases - 1;
    }
    return g.rng.chance(0.8) ? g.rng.nextInt(2) : g.rng.nextInt(Math.min(databases, 16));
  }

  /** The next unit; `nowMs` is the time it will run at (absolute TTLs are relative to it). */
  next(nowMs: number): Unit {
    const g = this.#gen;
    g.nowMs = nowMs;
    const db = this.#pickDb();
    if (g.rng.chance(g.options.multiProbability)) {
      const count = g.rng.nextIntBetween(1, 4);
      const commands = Array.from({ length: count }, () =>
        pickWeighted(g.rng, this.#inMulti).gen(g),
      );
      return { kind: 'multi', db, commands };
    }
    return { kind: 'command', db, command: pickWeighted(g.rng, this.#entries).gen(g) };
  }
}

function pickWeighted(rng: Prng, entries: readonly Entry[]): Entry {
  let total = 0;
  for (const e of entries) total += e.weight;
  let roll = rng.nextFloat() * total;
  for (const e of entries) {
    roll -= e.weight;
    if (roll < 0) return e;
  }
  return entries[entries.length - 1]!;
}

/** Short text of a unit for traces ("db1 SET s0 v12", "db0 MULTI[INCR c0; DEL x1]"). */
export function describeUnit(unit: Unit): string {
  const text = (c: Command) =>
    c.map((a) => (typeof a === 'string' ? clip(a) : `<${a.length} bytes>`)).join(' ');
  if (unit.kind === 'command') return `db${unit.db} ${text(unit.command)}`;
  return `db${unit.db} MULTI[${unit.commands.map(text).join('; ')}]`;
}

function clip(s: string): string {
  return s.length > 24 ? `${s.slice(0, 12)}…(${s.length})` : s;
}
