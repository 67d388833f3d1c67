// The command stream of the differential suite: a pure function of (seed, family, ops, the set of
// commands aofkv knows). It never looks at replies, so a seed replays exactly.
//
// Keys come from small pools so commands keep hitting the same keys: one pool per type (so most
// commands do meaningful work), a shared pool every type writes to (so WRONGTYPE happens) and a few
// awkward names (empty, NUL, CR/LF, invalid UTF-8, long). Values mix words, the empty string,
// binary bytes, integers at the 64-bit edges, floats and long strings. About 5% of commands are
// mutated into bad input (a dropped or extra argument, a junk number) and most generators also
// produce their own specific errors (conflicting options, out-of-range values), so error texts are
// compared too.
//
// Time: TTLs are either ≥ 1000 s in the future (relative), absolute far-future timestamps (year
// 2100+, compared exactly through EXPIRETIME), or in the past / zero / negative (immediate
// deletion). Nothing can expire while a run is in progress.

import type { Bin } from '../../src/bytes.ts';
import { Prng, mixSeed } from './prng.ts';
import { STREAM_ENTRY_SPECS, type StreamGen } from './stream-entries.ts';

export const FAMILIES = [
  'strings',
  'keys',
  'lists',
  'hashes',
  'sets',
  'zsets',
  'streams',
  'transactions',
] as const;
export type Family = (typeof FAMILIES)[number];
export type StreamKind = Family | 'mixed';

/**
 * Steps whose replies are not deterministic, handled by the runner with an invariant instead of
 * an equality check (see runner.ts): SPOP, SRANDMEMBER, RANDOMKEY, SCAN; and ZRANGE ... BYLEX,
 * whose result Redis only defines when all scores are equal (otherwise it depends on the random
 * skiplist levels), so it is compared only when that precondition holds. DBSIZE counts keys that
 * are logically expired but not yet removed (SET ... EXAT/PXAT in the past leaves one), which each
 * server's active expiry removes at its own pace: the runner first makes both sides drop them.
 */
export type Special = 'spop' | 'srandmember' | 'randomkey' | 'scan' | 'lex' | 'dbsize';

export interface Step {
  /** Which of the two connections runs it (1 is the "other client" of WATCH scenarios). */
  client: 0 | 1;
  argv: Bin[];
  special?: Special;
}

type KeyType = 'string' | 'list' | 'hash' | 'set' | 'zset' | 'lex' | 'stream' | 'any';

interface Entry {
  name: string;
  family: Family;
  weight: number;
  gen: (g: Gen) => Bin[];
  special?: Special;
  /** Not generated inside MULTI (random and lex commands need the runner's special handling). */
  noMulti?: boolean;
  /** Commands aofkv must know for this entry to be generated (default: [name]). */
  requires?: string[];
}

// ---- Pools -------------------------------------------------------------------------------------

const TYPED_KEYS: Record<Exclude<KeyType, 'any'>, Bin[]> = {
  string: ['str0', 'str1', 'str2', 'str3', 'str4', 'str5', 'str6', 'str7'],
  list: ['list0', 'list1', 'list2', 'list3', 'list4', 'list5', 'list6', 'list7'],
  hash: ['hash0', 'hash1', 'hash2', 'hash3', 'hash4', 'hash5', 'hash6', 'hash7'],
  set: ['set0', 'set1', 'set2', 'set3', 'set4', 'set5', 'set6', 'set7'],
  zset: ['zset0', 'zset1', 'zset2', 'zset3', 'zset4', 'zset5', 'zset6', 'zset7'],
  // Sorted sets meant to hold equal scores only, so BYLEX ranges are well defined on them.
  lex: ['lex0', 'lex1', 'lex2'],
  stream: ['xs0', 'xs1', 'xs2', 'xs3', 'xs4'],
};
const SHARED_KEYS: Bin[] = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'];
const ODD_KEYS: Bin[] = [
  '',
  'k\x00z',
  'k\r\nz',
  '\xff\xfe',
  'sp ace',
  `long${'K'.repeat(90)}`,
  'k*?[x]',
];

const WORDS: Bin[] = ['a', 'b', 'c', 'foo', 'bar', 'hello world', 'A', 'z'];
const INTS: Bin[] = [
  '0',
  '1',
  '-1',
  '2',
  '7',
  '42',
  '100',
  '-100',
  '255',
  '1000000',
  '9223372036854775807',
  '-9223372036854775808',
  '9223372036854775806',
  '-9223372036854775807',
  '4611686018427387904',
  '9007199254740993',
  '-9007199254740993',
  '2147483647',
  '2147483648',
  '-2147483649',
];
const NOT_QUITE_INTS: Bin[] = [
  '9223372036854775808',
  '-9223372036854775809',
  '18446744073709551616',
  '007',
  '-0',
  '+1',
  ' 1',
  '1 ',
  '0x10',
  '1e3',
  '',
  '1.0',
  'abc',
  '\xff',
];
const FLOATS: Bin[] = [
  '1.5',
  '-0.5',
  '0.1',
  '0.2',
  '3.0e3',
  '1e308',
  '-1e308',
  '1e-300',
  '.5',
  '5.',
  '+2.25',
  '-0',
  '0.0',
  '3.14159265358979',
  '1e15',
  '123456789.123456789',
  '17.0000000000000002',
];
const BAD_FLOATS: Bin[] = [
  'inf',
  '-inf',
  'nan',
  'abc',
  '',
  '1e500',
  '--1',
  '1.5x',
  ' 1.5',
  '0x1p3',
];
const BINARY: Bin[] = [
  '\x00',
  '\r\n',
  '\x00\xff\r\n',
  '\xff',
  '\xc3\x28',
  'a\x00b',
  '\x80\x81\xfe',
];

const MEMBERS: Bin[] = [
  'a',
  'b',
  'c',
  'd',
  'e',
  'f',
  'g',
  '1',
  '2',
  '10',
  '-1',
  '1.5',
  '',
  '\x00',
  '\xff',
  'mem ber',
  `m${'x'.repeat(70)}`,
];

const SCORES: Bin[] = [
  '0',
  '1',
  '-1',
  '2',
  '3',
  '1.5',
  '-2.5',
  '0.1',
  '1e10',
  '-1e-10',
  '10',
  '100',
  'inf',
  '-inf',
  '+inf',
  '9007199254740993',
  '1e308',
  '-0',
  '5.5',
];
const BAD_SCORES: Bin[] = ['nan', 'abc', '', '1e', '--1', '1.5.5', '(1'];

const SCORE_BOUNDS: Bin[] = [
  '-inf',
  '+inf',
  'inf',
  '0',
  '1',
  '(1',
  '2.5',
  '(2.5',
  '-1',
  '(-1',
  '10',
  '(10',
  '1e10',
  '(0',
  '-inf',
  '+inf',
];
const BAD_SCORE_BOUNDS: Bin[] = ['x', '(x', '', 'nan', '((1', '[1'];
const LEX_BOUNDS: Bin[] = [
  '-',
  '+',
  '[a',
  '(a',
  '[b',
  '(c',
  '[',
  '(',
  '[\xff',
  '[1',
  '(mem ber',
  '[e',
  '-',
  '+',
];
const BAD_LEX_BOUNDS: Bin[] = ['a', '', 'x', '{a'];

const INDEXES: Bin[] = ['0', '1', '2', '-1', '-2', '3', '5', '-5', '10', '-100', '100'];
const BIG_INDEXES: Bin[] = [
  '9223372036854775807',
  '-9223372036854775808',
  '2147483648',
  '-2147483649',
  '4294967296',
];

const FUTURE_SEC = 4102444800; // 2100-01-01: absolute timestamps that stay in the future
const PAST_ABS: Bin[] = ['1', '0', '-1', '1000000000', '-100', '1600000000'];
const PAST_REL: Bin[] = ['0', '-1', '-1000'];
const BAD_TIMES: Bin[] = [
  '9223372036854775807',
  '-9223372036854775808',
  '9223372036854775806',
  '92233720368547758',
  '9223372036854776',
  'abc',
  '1.5',
  '',
  '10s',
];

/**
 * Does an absolute expire time (ms) come from one of the generator's absolute timestamps (the 2100
 * window, or a BAD_TIMES value used as EXAT/PXAT/EXPIREAT/PEXPIREAT)? Such times are the same on
 * both servers and are compared exactly; any other time was computed from "now" (EX, PX, EXPIRE...)
 * and differs by the few ms between the two servers running the command.
 */
export function isGeneratedAbsoluteMs(ms: bigint): boolean {
  const lo = BigInt(FUTURE_SEC) * 1000n - 1000n;
  const hi = BigInt(FUTURE_SEC + 1_000_000) * 1000n + 1000n;
  if (ms >= lo && ms <= hi) return true;
  for (const t of BAD_TIMES) {
    if (!/^-?\d+$/.test(t)) continue;
    for (const anchor of [BigInt(t), BigInt(t) * 1000n]) {
      const d = ms - anchor;
      if (d >= -1000n && d <= 1000n) return true;
    }
  }
  return false;
}

const JUNK_ARGS: Bin[] = ['x', 'NX', '1', '', 'WITHSCORES', 'LIMIT', 'COUNT', '-1'];
const JUNK_NUMBERS: Bin[] = [
  'notanumber',
  '1.5',
  '',
  '-1',
  '9223372036854775808',
  '\xff',
  'inf',
  'nan',
  '0',
];

// ---- Generation helpers -----------------------------------------------------------------------

export class Gen implements StreamGen {
  readonly rng: Prng;
  /** The run's stream clock: explicit XADD IDs move forward from it (stream-entries.ts). */
  private streamMs = 1;
  constructor(rng: Prng) {
    this.rng = rng;
  }

  /** Mostly the stream pool: consumer-group commands need keys that hold groups. */
  streamKey(): Bin {
    return this.chance(0.85) ? this.pick(TYPED_KEYS.stream) : this.key('stream');
  }

  nextStreamMs(): number {
    this.streamMs += this.int(0, 2);
    return this.streamMs;
  }

  pastStreamMs(): number {
    return this.int(Math.max(1, this.streamMs - 40), this.streamMs);
  }

  chance(p: number): boolean {
    return this.rng.chance(p);
  }

  pick<T>(items: readonly T[]): T {
    return this.rng.pick(items);
  }

  int(lo: number, hi: number): number {
    return this.rng.int(lo, hi);
  }

  /** A keyword, occasionally in odd case (Redis matches options case-insensitively). */
  kw(word: string): Bin {
    const r = this.rng.float();
    if (r < 0.8) return word;
    if (r < 0.9) return word.toLowerCase();
    return [...word]
      .map((c) => (this.rng.chance(0.5) ? c.toLowerCase() : c.toUpperCase()))
      .join('');
  }

  key(type: KeyType): Bin {
    const r = this.rng.float();
    if (r < 0.08) return this.pick(ODD_KEYS);
    if (r < 0.3) return this.pick(SHARED_KEYS);
    if (type === 'any') {
      const types = Object.keys(TYPED_KEYS) as Exclude<KeyType, 'any'>[];
      return this.pick(TYPED_KEYS[this.pick(types)]);
    }
    return this.pick(TYPED_KEYS[type]);
  }

  keys(type: KeyType, lo: number, hi: number): Bin[] {
    const n = this.int(lo, hi);
    return Array.from({ length: n }, () => this.key(type));
  }

  /** A string value: words, numbers (so INCR & co. have something to chew), binary, long. */
  value(): Bin {
    const r = this.rng.float();
    if (r < 0.25) return this.pick(WORDS);
    if (r < 0.5) return this.pick(INTS);
    if (r < 0.58) return this.pick(NOT_QUITE_INTS);
    if (r < 0.7) return this.pick(FLOATS);
    if (r < 0.74) return this.pick(BAD_FLOATS);
    if (r < 0.8) return '';
    if (r < 0.88) return this.pick(BINARY);
    if (r < 0.94) return this.randomBytes(this.int(1, 24));
    return this.longString();
  }

  randomBytes(n: number): Bin {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.int(0, 255));
    return s;
  }

  longString(): Bin {
    const len = this.pick([64, 65, 100, 300, 1000, 5000]);
    const unit = this.pick(['x', 'ab', '\x00\xff', 'hello ']);
    return unit.repeat(Math.ceil(len / unit.length)).slice(0, len);
  }

  /** A collection member/field/list element: a small pool (so they collide), now and then fresh. */
  member(): Bin {
    if (this.chance(0.1)) return `m${this.int(0, 200)}`; // grows collections past listpack limits
    return this.pick(MEMBERS);
  }

  members(lo: number, hi: number): Bin[] {
    return Array.from({ length: this.int(lo, hi) }, () => this.member());
  }

  score(): Bin {
    if (this.chance(0.04)) return this.pick(BAD_SCORES);
    if (this.chance(0.3)) return String(this.int(-5, 20));
    return this.pick(SCORES);
  }

  index(): Bin {
    if (this.chance(0.04)) return this.pick(BIG_INDEXES);
    if (this.chance(0.02)) return this.pick(NOT_QUITE_INTS);
    if (this.chance(0.3)) return String(this.int(-12, 12));
    return this.pick(INDEXES);
  }

  /** A positive count with occasional zero / negative / junk. */
  count(max = 5): Bin {
    const r = this.rng.float();
    if (r < 0.04) return '-1';
    if (r < 0.07) return '0';
    if (r < 0.09) return this.pick(NOT_QUITE_INTS);
    if (r < 0.1) return '9223372036854775807';
    return String(this.int(1, max));
  }

  /** An integer increment: mostly small, sometimes at the 64-bit edges, rarely junk. */
  increment(): Bin {
    const r = this.rng.float();
    if (r < 0.6) return String(this.int(-20, 20));
    if (r < 0.92) return this.pick(INTS);
    return this.pick(NOT_QUITE_INTS);
  }

  floatIncrement(): Bin {
    const r = this.rng.float();
    if (r < 0.3) return String(this.int(-20, 20));
    if (r < 0.85) return this.pick(FLOATS);
    return this.pick(BAD_FLOATS);
  }

  relSeconds(): Bin {
    const r = this.rng.float();
    if (r < 0.85) return String(this.int(1000, 100000));
    if (r < 0.93) return this.pick(PAST_REL);
    return this.pick(BAD_TIMES);
  }

  relMillis(): Bin {
    const r = this.rng.float();
    if (r < 0.85) return String(this.int(1_000_000, 100_000_000));
    if (r < 0.93) return this.pick(PAST_REL);
    return this.pick(BAD_TIMES);
  }

  absSeconds(): Bin {
    const r = this.rng.float();
    if (r < 0.8) return String(FUTURE_SEC + this.int(0, 1_000_000));
    if (r < 0.93) return this.pick(PAST_ABS);
    return this.pick(BAD_TIMES);
  }

  absMillis(): Bin {
    const r = this.rng.float();
    if (r < 0.8) return String(FUTURE_SEC * 1000 + this.int(0, 1_000_000_000));
    if (r < 0.93) return this.pick(PAST_ABS);
    return this.pick(BAD_TIMES);
  }

  scoreBound(): Bin {
    if (this.chance(0.04)) return this.pick(BAD_SCORE_BOUNDS);
    if (this.chance(0.3)) return `${this.chance(0.3) ? '(' : ''}${this.int(-3, 12)}`;
    return this.pick(SCORE_BOUNDS);
  }

  lexBound(): Bin {
    if (this.chance(0.04)) return this.pick(BAD_LEX_BOUNDS);
    if (this.chance(0.3)) return `${this.pick(['[', '('])}${this.member()}`;
    return this.pick(LEX_BOUNDS);
  }

  db(): Bin {
    const r = this.rng.float();
    if (r < 0.9) return String(this.int(0, 2));
    if (r < 0.95) return String(this.int(3, 15));
    return this.pick(['16', '-1', 'x', '9223372036854775807', '1.0']);
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}

/** Flatten key/value-ish pairs into an argv tail. */
function pairs(g: Gen, lo: number, hi: number, a: () => Bin, b: () => Bin): Bin[] {
  const out: Bin[] = [];
  const n = g.int(lo, hi);
  for (let i = 0; i < n; i++) out.push(a(), b());
  return out;
}

/** SET / GETEX style expiry option. */
function expiryOption(g: Gen, allowKeepTtl: boolean): Bin[] {
  const kind = g.pick(
    allowKeepTtl
      ? ['EX', 'PX', 'EXAT', 'PXAT', 'KEEPTTL']
      : ['EX', 'PX', 'EXAT', 'PXAT', 'PERSIST'],
  );
  switch (kind) {
    case 'EX':
      return [g.kw('EX'), g.relSeconds()];
    case 'PX':
      return [g.kw('PX'), g.relMillis()];
    case 'EXAT':
      return [g.kw('EXAT'), g.absSeconds()];
    case 'PXAT':
      return [g.kw('PXAT'), g.absMillis()];
    default:
      return [g.kw(kind)];
  }
}

/** HSCAN / SSCAN / ZSCAN key 0 [MATCH p] [COUNT n], sometimes with a bad cursor or option. */
function collectionScan(g: Gen, name: Bin, key: Bin): Bin[] {
  // Only cursor 0 (or junk): a full walk from another cursor is not defined by Redis.
  const argv = [name, key, g.chance(0.95) ? '0' : g.pick(['x', '', '1x'])];
  if (g.chance(0.4)) argv.push(g.kw('MATCH'), g.pick(['*', 'm*', '*[0-3]', 'a', '']));
  if (g.chance(0.4)) argv.push(g.kw('COUNT'), g.pick(['1', '3', '10', '1000', '0', '-1', 'x']));
  if (g.chance(0.03)) argv.push(g.kw('TYPE'), 'string');
  return argv;
}

/** EXPIRE-family condition flags, sometimes conflicting or unknown. */
function expireFlags(g: Gen): Bin[] {
  const r = g.rng.float();
  if (r < 0.55) return [];
  if (r < 0.9) return [g.kw(g.pick(['NX', 'XX', 'GT', 'LT']))];
  if (r < 0.97)
    return [g.kw(g.pick(['NX', 'XX', 'GT', 'LT'])), g.kw(g.pick(['NX', 'XX', 'GT', 'LT']))];
  return [g.pick(['FOO', 'KEEPTTL', '1'])];
}

// ---- Entries -----------------------------------------------------------------------------------

const e = (
  name: string,
  family: Family,
  weight: number,
  gen: (g: Gen) => Bin[],
  extra: Partial<Entry> = {},
): Entry => ({
  name,
  family,
  weight,
  gen,
  ...extra,
});

const STRING_ENTRIES: Entry[] = [
  e('get', 'strings', 4, (g) => ['GET', g.key('string')]),
  e('set', 'strings', 6, (g) => {
    const opts: Bin[][] = [];
    const r = g.rng.float();
    if (r < 0.3) opts.push([g.kw(g.pick(['NX', 'XX']))]);
    else if (r < 0.33) opts.push([g.kw('NX')], [g.kw('XX')]);
    if (g.chance(0.15)) opts.push([g.kw('GET')]);
    if (g.chance(0.35)) opts.push(expiryOption(g, true));
    if (g.chance(0.04)) opts.push(expiryOption(g, true));
    if (g.chance(0.02)) opts.push([g.pick(['FOO', 'PERSIST', 'EX'])]);
    if (g.chance(0.3)) g.shuffle(opts);
    return ['SET', g.key('string'), g.value(), ...opts.flat()];
  }),
  e('setnx', 'strings', 1, (g) => ['SETNX', g.key('string'), g.value()]),
  e('setex', 'strings', 1, (g) => ['SETEX', g.key('string'), g.relSeconds(), g.value()]),
  e('psetex', 'strings', 1, (g) => ['PSETEX', g.key('string'), g.relMillis(), g.value()]),
  e('getset', 'strings', 1, (g) => ['GETSET', g.key('string'), g.value()]),
  e('getdel', 'strings', 1, (g) => ['GETDEL', g.key('string')]),
  e('getex', 'strings', 2, (g) => {
    const opts = g.chance(0.7) ? expiryOption(g, false) : [];
    if (g.chance(0.05)) opts.push(...expiryOption(g, false));
    return ['GETEX', g.key('string'), ...opts];
  }),
  e('mget', 'strings', 2, (g) => ['MGET', ...g.keys('string', 1, 5)]),
  e('mset', 'strings', 2, (g) => {
    const argv = [
      'MSET',
      ...pairs(
        g,
        1,
        4,
        () => g.key('string'),
        () => g.value(),
      ),
    ];
    if (g.chance(0.05)) argv.pop();
    return argv;
  }),
  e('msetnx', 'strings', 1, (g) => [
    'MSETNX',
    ...pairs(
      g,
      1,
      3,
      () => g.key('string'),
      () => g.value(),
    ),
  ]),
  e('append', 'strings', 2, (g) => ['APPEND', g.key('string'), g.value()]),
  e('strlen', 'strings', 1, (g) => ['STRLEN', g.key('string')]),
  e('incr', 'strings', 2, (g) => ['INCR', g.key('string')]),
  e('decr', 'strings', 1, (g) => ['DECR', g.key('string')]),
  e('incrby', 'strings', 2, (g) => ['INCRBY', g.key('string'), g.increment()]),
  e('decrby', 'strings', 1, (g) => ['DECRBY', g.key('string'), g.increment()]),
  e('incrbyfloat', 'strings', 2, (g) => ['INCRBYFLOAT', g.key('string'), g.floatIncrement()]),
  e('setrange', 'strings', 2, (g) => {
    const r = g.rng.float();
    // Offsets stay small: a legal offset near 512 MB would make both servers allocate it.
    const offset =
      r < 0.85 ? String(g.int(0, 40)) : g.pick(['-1', 'x', '536870912', '9223372036854775807']);
    const value = offset === '536870912' && g.chance(0.5) ? '' : g.value();
    return ['SETRANGE', g.key('string'), offset, value];
  }),
  e('getrange', 'strings', 2, (g) => ['GETRANGE', g.key('string'), g.index(), g.index()]),
];

/**
 * Commands that create values of each type: used by the keys family to have something to manage.
 */
const CREATORS: Entry[] = [
  e('set', 'keys', 3, (g) => [
    'SET',
    g.key('any'),
    g.value(),
    ...(g.chance(0.3) ? expiryOption(g, true) : []),
  ]),
  e('rpush', 'keys', 1, (g) => ['RPUSH', g.key('any'), ...g.members(1, 3)]),
  e('hset', 'keys', 1, (g) => [
    'HSET',
    g.key('any'),
    ...pairs(
      g,
      1,
      2,
      () => g.member(),
      () => g.value(),
    ),
  ]),
  e('sadd', 'keys', 1, (g) => ['SADD', g.key('any'), ...g.members(1, 3)]),
  e('zadd', 'keys', 1, (g) => [
    'ZADD',
    g.key('any'),
    ...pairs(
      g,
      1,
      2,
      () => String(g.int(-3, 9)),
      () => g.member(),
    ),
  ]),
];

const KEY_ENTRIES: Entry[] = [
  e('del', 'keys', 2, (g) => ['DEL', ...g.keys('any', 1, 4)]),
  e('unlink', 'keys', 1, (g) => ['UNLINK', ...g.keys('any', 1, 3)]),
  e('exists', 'keys', 2, (g) => {
    const ks = g.keys('any', 1, 4);
    if (g.chance(0.3)) ks.push(ks[0]!); // duplicates are counted twice
    return ['EXISTS', ...ks];
  }),
  e('type', 'keys', 2, (g) => ['TYPE', g.key('any')]),
  e('expire', 'keys', 2, (g) => ['EXPIRE', g.key('any'), g.relSeconds(), ...expireFlags(g)]),
  e('pexpire', 'keys', 1, (g) => ['PEXPIRE', g.key('any'), g.relMillis(), ...expireFlags(g)]),
  e('expireat', 'keys', 1, (g) => ['EXPIREAT', g.key('any'), g.absSeconds(), ...expireFlags(g)]),
  e('pexpireat', 'keys', 1, (g) => ['PEXPIREAT', g.key('any'), g.absMillis(), ...expireFlags(g)]),
  e('ttl', 'keys', 2, (g) => ['TTL', g.key('any')]),
  e('pttl', 'keys', 1, (g) => ['PTTL', g.key('any')]),
  e('expiretime', 'keys', 1, (g) => ['EXPIRETIME', g.key('any')]),
  e('pexpiretime', 'keys', 1, (g) => ['PEXPIRETIME', g.key('any')]),
  e('persist', 'keys', 1, (g) => ['PERSIST', g.key('any')]),
  e('rename', 'keys', 1, (g) => {
    const src = g.key('any');
    return ['RENAME', src, g.chance(0.05) ? src : g.key('any')];
  }),
  e('renamenx', 'keys', 1, (g) => {
    const src = g.key('any');
    return ['RENAMENX', src, g.chance(0.05) ? src : g.key('any')];
  }),
  e('keys', 'keys', 1, (g) => [
    'KEYS',
    g.pick([
      '*',
      'k*',
      'str?',
      '*[0-3]',
      'list[^0-3]*',
      'h*h*',
      '*\x00*',
      'k\\*',
      '',
      '[',
      '*e*',
      '\xff*',
      'long*',
      '?',
    ]),
  ]),
  e('dbsize', 'keys', 1, () => ['DBSIZE'], { special: 'dbsize', noMulti: true }),
  e('move', 'keys', 1, (g) => ['MOVE', g.key('any'), g.db()]),
  e('copy', 'keys', 1, (g) => {
    const argv = ['COPY', g.key('any'), g.key('any')];
    if (g.chance(0.3)) argv.push(g.kw('DB'), g.db());
    if (g.chance(0.4)) argv.push(g.kw('REPLACE'));
    if (g.chance(0.03)) argv.push(g.pick(['FOO', 'DB']));
    return argv;
  }),
  e('swapdb', 'keys', 0.2, (g) => ['SWAPDB', g.db(), g.db()]),
  e('select', 'keys', 0.6, (g) => ['SELECT', g.db()]),
  e('flushdb', 'keys', 0.1, (g) => [
    'FLUSHDB',
    ...(g.chance(0.3) ? [g.pick(['ASYNC', 'SYNC', 'async', 'FOO'])] : []),
  ]),
  e('flushall', 'keys', 0.02, () => ['FLUSHALL']),
  e('ping', 'keys', 0.2, (g) => ['PING', ...(g.chance(0.5) ? [g.value()] : [])]),
  e('echo', 'keys', 0.2, (g) => ['ECHO', g.value()]),
  e('randomkey', 'keys', 0.5, () => ['RANDOMKEY'], {
    special: 'randomkey',
    noMulti: true,
    requires: ['randomkey', 'keys'],
  }),
  e(
    'scan',
    'keys',
    0.5,
    (g) => {
      const argv = ['SCAN', '0'];
      if (g.chance(0.4)) argv.push(g.kw('MATCH'), g.pick(['*', 'k*', '*[0-3]', 'set*', '']));
      if (g.chance(0.4)) argv.push(g.kw('COUNT'), g.pick(['1', '3', '10', '1000', '0', '-1', 'x']));
      if (g.chance(0.3))
        argv.push(g.kw('TYPE'), g.pick(['string', 'list', 'hash', 'set', 'zset', 'nosuchtype']));
      return argv;
    },
    { special: 'scan', noMulti: true },
  ),
  // An unknown command (and a known one in odd case): the error text includes the arguments.
  e('nosuchcmd', 'keys', 0.1, (g) => [g.pick(['NOSUCHCMD', 'gett', 'x']), ...g.keys('any', 0, 2)], {
    requires: [],
  }),
];

const LIST_ENTRIES: Entry[] = [
  e('lpush', 'lists', 4, (g) => ['LPUSH', g.key('list'), ...g.members(1, 4)]),
  e('rpush', 'lists', 4, (g) => ['RPUSH', g.key('list'), ...g.members(1, 4)]),
  e('lpushx', 'lists', 1, (g) => ['LPUSHX', g.key('list'), ...g.members(1, 3)]),
  e('rpushx', 'lists', 1, (g) => ['RPUSHX', g.key('list'), ...g.members(1, 3)]),
  e('lpop', 'lists', 2, (g) => ['LPOP', g.key('list'), ...(g.chance(0.4) ? [g.count()] : [])]),
  e('rpop', 'lists', 2, (g) => ['RPOP', g.key('list'), ...(g.chance(0.4) ? [g.count()] : [])]),
  e('llen', 'lists', 1, (g) => ['LLEN', g.key('list')]),
  e('lrange', 'lists', 3, (g) => ['LRANGE', g.key('list'), g.index(), g.index()]),
  e('lindex', 'lists', 2, (g) => ['LINDEX', g.key('list'), g.index()]),
  e('lset', 'lists', 2, (g) => ['LSET', g.key('list'), g.index(), g.member()]),
  e('lrem', 'lists', 2, (g) => [
    'LREM',
    g.key('list'),
    g.chance(0.9) ? String(g.int(-2, 2)) : g.index(),
    g.member(),
  ]),
  e('ltrim', 'lists', 1, (g) => ['LTRIM', g.key('list'), g.index(), g.index()]),
  e('linsert', 'lists', 2, (g) => [
    'LINSERT',
    g.key('list'),
    g.chance(0.95) ? g.kw(g.pick(['BEFORE', 'AFTER'])) : 'MIDDLE',
    g.member(),
    g.member(),
  ]),
  e('lmove', 'lists', 2, (g) => {
    const side = () => (g.chance(0.97) ? g.kw(g.pick(['LEFT', 'RIGHT'])) : 'UP');
    return ['LMOVE', g.key('list'), g.key('list'), side(), side()];
  }),
  e('rpoplpush', 'lists', 1, (g) => ['RPOPLPUSH', g.key('list'), g.key('list')]),
  e('lpos', 'lists', 2, (g) => {
    const argv = ['LPOS', g.key('list'), g.member()];
    const opts: Bin[][] = [];
    // Not RANK -9223372036854775808: Redis 7.0 negates it (undefined behaviour; 7.2 refuses it).
    if (g.chance(0.4))
      opts.push([
        g.kw('RANK'),
        g.chance(0.9)
          ? g.pick(['1', '2', '-1', '-2', '3'])
          : g.pick(['0', 'x', '9223372036854775807']),
      ]);
    if (g.chance(0.4))
      opts.push([g.kw('COUNT'), g.chance(0.9) ? String(g.int(0, 3)) : g.pick(['-1', 'x'])]);
    if (g.chance(0.3))
      opts.push([g.kw('MAXLEN'), g.chance(0.9) ? String(g.int(0, 6)) : g.pick(['-1', 'x'])]);
    if (g.chance(0.03)) opts.push([g.pick(['FOO', 'RANK'])]);
    return [...argv, ...g.shuffle(opts).flat()];
  }),
  e('lmpop', 'lists', 2, (g) => {
    const keys = g.keys('list', 1, 3);
    const r = g.rng.float();
    const numkeys =
      r < 0.9 ? String(keys.length) : g.pick(['0', '-1', 'x', String(keys.length + 2)]);
    const argv = [
      'LMPOP',
      numkeys,
      ...keys,
      g.chance(0.97) ? g.kw(g.pick(['LEFT', 'RIGHT'])) : 'MIDDLE',
    ];
    if (g.chance(0.4)) argv.push(g.kw('COUNT'), g.count());
    return argv;
  }),
];

const HASH_ENTRIES: Entry[] = [
  e('hset', 'hashes', 5, (g) => {
    const argv = [
      'HSET',
      g.key('hash'),
      ...pairs(
        g,
        1,
        3,
        () => g.member(),
        () => g.value(),
      ),
    ];
    if (g.chance(0.04)) argv.pop();
    return argv;
  }),
  e('hsetnx', 'hashes', 1, (g) => ['HSETNX', g.key('hash'), g.member(), g.value()]),
  e('hget', 'hashes', 3, (g) => ['HGET', g.key('hash'), g.member()]),
  e('hmget', 'hashes', 2, (g) => ['HMGET', g.key('hash'), ...g.members(1, 4)]),
  e('hmset', 'hashes', 1, (g) => [
    'HMSET',
    g.key('hash'),
    ...pairs(
      g,
      1,
      3,
      () => g.member(),
      () => g.value(),
    ),
  ]),
  e('hdel', 'hashes', 2, (g) => ['HDEL', g.key('hash'), ...g.members(1, 3)]),
  e('hexists', 'hashes', 1, (g) => ['HEXISTS', g.key('hash'), g.member()]),
  e('hlen', 'hashes', 1, (g) => ['HLEN', g.key('hash')]),
  e('hkeys', 'hashes', 1, (g) => ['HKEYS', g.key('hash')]),
  e('hvals', 'hashes', 1, (g) => ['HVALS', g.key('hash')]),
  e('hgetall', 'hashes', 2, (g) => ['HGETALL', g.key('hash')]),
  e('hscan', 'hashes', 1, (g) => collectionScan(g, 'HSCAN', g.key('hash')), {
    special: 'scan',
    noMulti: true,
  }),
  e('hincrby', 'hashes', 2, (g) => ['HINCRBY', g.key('hash'), g.member(), g.increment()]),
  e('hincrbyfloat', 'hashes', 2, (g) => [
    'HINCRBYFLOAT',
    g.key('hash'),
    g.member(),
    g.floatIncrement(),
  ]),
  e('hstrlen', 'hashes', 1, (g) => ['HSTRLEN', g.key('hash'), g.member()]),
];

const SET_ENTRIES: Entry[] = [
  e('sadd', 'sets', 5, (g) => ['SADD', g.key('set'), ...g.members(1, 4)]),
  e('srem', 'sets', 2, (g) => ['SREM', g.key('set'), ...g.members(1, 3)]),
  e('sismember', 'sets', 2, (g) => ['SISMEMBER', g.key('set'), g.member()]),
  e('smismember', 'sets', 1, (g) => ['SMISMEMBER', g.key('set'), ...g.members(1, 4)]),
  e('smembers', 'sets', 2, (g) => ['SMEMBERS', g.key('set')]),
  e('sscan', 'sets', 1, (g) => collectionScan(g, 'SSCAN', g.key('set')), {
    special: 'scan',
    noMulti: true,
  }),
  e('scard', 'sets', 1, (g) => ['SCARD', g.key('set')]),
  e('smove', 'sets', 1, (g) => ['SMOVE', g.key('set'), g.key('set'), g.member()]),
  e('sinter', 'sets', 1, (g) => ['SINTER', ...g.keys('set', 1, 3)]),
  e('sunion', 'sets', 1, (g) => ['SUNION', ...g.keys('set', 1, 3)]),
  e('sdiff', 'sets', 1, (g) => ['SDIFF', ...g.keys('set', 1, 3)]),
  e('sinterstore', 'sets', 1, (g) => ['SINTERSTORE', g.key('set'), ...g.keys('set', 1, 3)]),
  e('sunionstore', 'sets', 1, (g) => ['SUNIONSTORE', g.key('set'), ...g.keys('set', 1, 3)]),
  e('sdiffstore', 'sets', 1, (g) => ['SDIFFSTORE', g.key('set'), ...g.keys('set', 1, 3)]),
  e('spop', 'sets', 1, (g) => ['SPOP', g.key('set'), ...(g.chance(0.5) ? [g.count(6)] : [])], {
    special: 'spop',
    noMulti: true,
  }),
  e(
    'srandmember',
    'sets',
    1,
    (g) => {
      const count = g.chance(0.3) ? [] : [g.chance(0.5) ? String(g.int(-6, 6)) : g.count(20)];
      return ['SRANDMEMBER', g.key('set'), ...count];
    },
    { special: 'srandmember', noMulti: true },
  ),
];

function zsetKey(g: Gen): Bin {
  return g.chance(0.15) ? g.key('lex') : g.key('zset');
}

function limit(g: Gen): Bin[] {
  const offset = g.chance(0.9) ? String(g.int(0, 4)) : g.pick(['-1', 'x']);
  const count = g.chance(0.9) ? String(g.int(-1, 5)) : g.pick(['x', '9223372036854775807']);
  return [g.kw('LIMIT'), offset, count];
}

const ZSET_ENTRIES: Entry[] = [
  e('zadd', 'zsets', 6, (g) => {
    const key = zsetKey(g);
    const lex = key.startsWith('lex');
    const flags: Bin[] = [];
    const r = g.rng.float();
    if (r < 0.15) flags.push(g.kw(g.pick(['NX', 'XX'])));
    else if (r < 0.17) flags.push(g.kw('NX'), g.kw('XX'));
    if (g.chance(0.15)) flags.push(g.kw(g.pick(['GT', 'LT'])));
    if (g.chance(0.02)) flags.push(g.kw('GT'), g.kw('LT'));
    if (g.chance(0.2)) flags.push(g.kw('CH'));
    const incr = g.chance(0.12);
    if (incr) flags.push(g.kw('INCR'));
    const n = incr && g.chance(0.9) ? 1 : g.int(1, 4);
    const tail = pairs(
      g,
      n,
      n,
      () => (lex && g.chance(0.95) ? '0' : g.score()),
      () => g.member(),
    );
    if (g.chance(0.03)) tail.pop();
    return ['ZADD', key, ...g.shuffle(flags), ...tail];
  }),
  e('zincrby', 'zsets', 2, (g) => ['ZINCRBY', g.key('zset'), g.score(), g.member()]),
  e('zrem', 'zsets', 2, (g) => ['ZREM', zsetKey(g), ...g.members(1, 3)]),
  e('zscore', 'zsets', 2, (g) => ['ZSCORE', zsetKey(g), g.member()]),
  e('zmscore', 'zsets', 1, (g) => ['ZMSCORE', zsetKey(g), ...g.members(1, 4)]),
  e('zcard', 'zsets', 1, (g) => ['ZCARD', zsetKey(g)]),
  e('zscan', 'zsets', 1, (g) => collectionScan(g, 'ZSCAN', zsetKey(g)), {
    special: 'scan',
    noMulti: true,
  }),
  e('zrank', 'zsets', 1, (g) => ['ZRANK', zsetKey(g), g.member()]),
  e('zrevrank', 'zsets', 1, (g) => ['ZREVRANK', zsetKey(g), g.member()]),
  e('zrange', 'zsets', 4, (g) => {
    const key = zsetKey(g);
    const mode = g.pick(['index', 'index', 'BYSCORE', 'BYSCORE', 'BYLEX']);
    const rev = g.chance(0.3);
    const argv = ['ZRANGE', key];
    if (mode === 'index') argv.push(g.index(), g.index());
    else if (mode === 'BYSCORE') argv.push(g.scoreBound(), g.scoreBound(), g.kw('BYSCORE'));
    else argv.push(g.lexBound(), g.lexBound(), g.kw('BYLEX'));
    if (rev) argv.push(g.kw('REV'));
    // LIMIT without BYSCORE/BYLEX and WITHSCORES with BYLEX are errors worth comparing too.
    if (g.chance(mode === 'index' ? 0.05 : 0.4)) argv.push(...limit(g));
    if (g.chance(mode === 'BYLEX' ? 0.05 : 0.4)) argv.push(g.kw('WITHSCORES'));
    return argv;
  }),
  e('zrangebyscore', 'zsets', 2, (g) => {
    const argv = ['ZRANGEBYSCORE', zsetKey(g), g.scoreBound(), g.scoreBound()];
    const opts: Bin[][] = [];
    if (g.chance(0.4)) opts.push([g.kw('WITHSCORES')]);
    if (g.chance(0.4)) opts.push(limit(g));
    return [...argv, ...g.shuffle(opts).flat()];
  }),
  e('zrevrangebyscore', 'zsets', 2, (g) => {
    const argv = ['ZREVRANGEBYSCORE', zsetKey(g), g.scoreBound(), g.scoreBound()];
    const opts: Bin[][] = [];
    if (g.chance(0.4)) opts.push([g.kw('WITHSCORES')]);
    if (g.chance(0.4)) opts.push(limit(g));
    return [...argv, ...g.shuffle(opts).flat()];
  }),
  e('zrevrange', 'zsets', 2, (g) => [
    'ZREVRANGE',
    zsetKey(g),
    g.index(),
    g.index(),
    ...(g.chance(0.4) ? [g.kw('WITHSCORES')] : []),
  ]),
  e('zcount', 'zsets', 1, (g) => ['ZCOUNT', zsetKey(g), g.scoreBound(), g.scoreBound()]),
  e('zpopmin', 'zsets', 1, (g) => ['ZPOPMIN', zsetKey(g), ...(g.chance(0.5) ? [g.count()] : [])]),
  e('zpopmax', 'zsets', 1, (g) => ['ZPOPMAX', zsetKey(g), ...(g.chance(0.5) ? [g.count()] : [])]),
  e('zmpop', 'zsets', 1, (g) => {
    const keys = Array.from({ length: g.int(1, 3) }, () => zsetKey(g));
    const numkeys = g.chance(0.9)
      ? String(keys.length)
      : g.pick(['0', '-1', 'x', String(keys.length + 2)]);
    const argv = [
      'ZMPOP',
      numkeys,
      ...keys,
      g.chance(0.97) ? g.kw(g.pick(['MIN', 'MAX'])) : 'MIDDLE',
    ];
    if (g.chance(0.4)) argv.push(g.kw('COUNT'), g.count());
    return argv;
  }),
  e('zremrangebyscore', 'zsets', 1, (g) => [
    'ZREMRANGEBYSCORE',
    zsetKey(g),
    g.scoreBound(),
    g.scoreBound(),
  ]),
  e('zremrangebyrank', 'zsets', 1, (g) => ['ZREMRANGEBYRANK', zsetKey(g), g.index(), g.index()]),
  ...(['ZUNIONSTORE', 'ZINTERSTORE'] as const).map((name) =>
    e(name.toLowerCase(), 'zsets', 1.5, (g) => {
      // Sets are valid inputs too (every member scores 1).
      const keys = Array.from({ length: g.int(1, 3) }, () =>
        g.chance(0.2) ? g.key('set') : zsetKey(g),
      );
      const numkeys = g.chance(0.92)
        ? String(keys.length)
        : g.pick(['0', '-1', 'x', String(keys.length + 1)]);
      const argv = [name, g.key('zset'), numkeys, ...keys];
      if (g.chance(0.35)) {
        const n = g.chance(0.9) ? keys.length : keys.length + 1;
        argv.push(
          g.kw('WEIGHTS'),
          ...Array.from({ length: n }, () =>
            g.pick(['1', '2', '0', '-1', '1.5', 'inf', '-inf', '0.5', 'x']),
          ),
        );
      }
      if (g.chance(0.35))
        argv.push(g.kw('AGGREGATE'), g.chance(0.95) ? g.kw(g.pick(['SUM', 'MIN', 'MAX'])) : 'AVG');
      return argv;
    }),
  ),
];

const STREAM_ENTRIES: Entry[] = STREAM_ENTRY_SPECS.map((x) =>
  e(x.name, 'streams', x.weight, x.gen),
);

const DATA_ENTRIES: Entry[] = [
  ...STREAM_ENTRIES,
  ...STRING_ENTRIES,
  ...KEY_ENTRIES,
  ...LIST_ENTRIES,
  ...HASH_ENTRIES,
  ...SET_ENTRIES,
  ...ZSET_ENTRIES,
];

/** Every command name the generator can emit (the coverage test wants aofkv to know them all). */
export const GENERATED_COMMANDS: string[] = [
  ...new Set([
    ...DATA_ENTRIES.flatMap((x) => x.requires ?? [x.name]),
    ...CREATORS.map((x) => x.name),
    'multi',
    'exec',
    'discard',
    'watch',
    'unwatch',
  ]),
].sort();

/** Family of a command name, for reports. */
export function familyOf(name: string): string {
  const lower = name.toLowerCase();
  if (['multi', 'exec', 'discard', 'watch', 'unwatch'].includes(lower)) return 'transactions';
  return DATA_ENTRIES.find((x) => x.name === lower)?.family ?? 'unknown';
}

// ---- Streams ------------------------------------------------------------------------------------

export interface StreamOptions {
  seed: number;
  kind: StreamKind;
  ops: number;
  /** Is the command known to aofkv? Entries needing unknown commands are left out. */
  supported: (name: string) => boolean;
  /** Entry names to leave out anyway (to look past a known bug), e.g. "unwatch", "nosuchcmd". */
  exclude?: ReadonlySet<string>;
}

export function generateStream(options: StreamOptions): Step[] {
  const rng = new Prng(mixSeed(options.seed, options.kind));
  const g = new Gen(rng);
  const exclude = options.exclude ?? new Set<string>();
  const ok = (name: string) => options.supported(name) && !exclude.has(name);
  const usable = (x: Entry) => !exclude.has(x.name) && (x.requires ?? [x.name]).every(ok);
  const byFamily = (f: Family) => DATA_ENTRIES.filter((x) => x.family === f && usable(x));

  let pool: Entry[];
  let txWeight = 0;
  switch (options.kind) {
    case 'mixed':
      pool = DATA_ENTRIES.filter(usable);
      txWeight = 0.08;
      break;
    case 'transactions':
      pool = DATA_ENTRIES.filter(usable);
      txWeight = 0.5;
      break;
    case 'keys':
      pool = [...byFamily('keys'), ...CREATORS.filter(usable)];
      break;
    default:
      pool = byFamily(options.kind);
  }
  const txOk = ['multi', 'exec', 'discard', 'watch'].every(ok);
  const weighted = pool.map((x) => [x, x.weight] as const);
  const multiPool = pool.filter((x) => !x.noMulti && x.special === undefined);
  const multiWeighted = multiPool.map((x) => [x, x.weight] as const);
  const twoClients = options.kind === 'mixed' || options.kind === 'transactions';

  const steps: Step[] = [];
  if (pool.length === 0) return steps;
  const plain = (client: 0 | 1, from = weighted): Step => {
    const entry = g.rng.weighted(from);
    let argv = entry.gen(g);
    if (g.chance(0.05)) argv = mutate(g, argv);
    if (g.chance(0.05)) argv[0] = g.kw(argv[0]!.toUpperCase());
    const step: Step = { client, argv };
    if (entry.special !== undefined) step.special = entry.special;
    else if (entry.name === 'zrange' && argv.some((a) => a.toUpperCase() === 'BYLEX'))
      step.special = 'lex';
    return step;
  };

  while (steps.length < options.ops) {
    if (txOk && g.chance(txWeight) && multiWeighted.length > 0) {
      steps.push(
        ...transaction(
          g,
          () => plain(0, multiWeighted),
          () => plain(1, multiWeighted),
          ok,
        ),
      );
      continue;
    }
    const client: 0 | 1 = twoClients && g.chance(0.12) ? 1 : 0;
    steps.push(plain(client));
  }
  return steps;
}

/**
 * A MULTI/EXEC scenario on client 0, optionally WATCHing keys that client 1 (or client 0 itself)
 * may touch in between; sometimes with queueing errors (EXECABORT), nested MULTI, WATCH inside
 * MULTI, DISCARD, or EXEC/DISCARD without MULTI.
 */
function transaction(
  g: Gen,
  own: () => Step,
  other: () => Step,
  ok: (name: string) => boolean,
): Step[] {
  const steps: Step[] = [];
  const r = g.rng.float();
  if (r < 0.05) return [{ client: 0, argv: [g.kw(g.pick(['EXEC', 'DISCARD']))] }];
  if (r < 0.08) return ok('unwatch') ? [{ client: 0, argv: ['UNWATCH'] }] : [];
  if (g.chance(0.6)) {
    const watched = g.keys('any', 1, 3);
    // A key that is logically expired but still stored when WATCH runs (Redis 7.0 remembers that
    // and does not count its later deletion as a change).
    if (g.chance(0.1) && ok('set'))
      steps.push({ client: 0, argv: ['SET', g.pick(watched), 'gone', 'PXAT', '1'] });
    steps.push({ client: 0, argv: ['WATCH', ...watched] });
    const interference = g.int(0, 3);
    for (let i = 0; i < interference; i++) {
      const edge = g.chance(0.2) ? watchEdgeCase(g, g.pick(watched)) : null;
      if (edge !== null && ok(edge[0]!.toLowerCase())) {
        steps.push({ client: g.chance(0.8) ? 1 : 0, argv: edge });
        continue;
      }
      // Touch a watched key directly half of the time so the abort path is exercised a lot.
      const step = g.chance(0.7) ? other() : own();
      if (
        g.chance(0.5) &&
        step.argv.length > 1 &&
        !['select', 'swapdb', 'flushdb', 'flushall'].includes(step.argv[0]!.toLowerCase())
      ) {
        step.argv[1] = g.pick(watched);
      }
      steps.push(step);
    }
    if (g.chance(0.05) && ok('unwatch')) steps.push({ client: 0, argv: ['UNWATCH'] });
  }
  steps.push({ client: 0, argv: [g.kw('MULTI')] });
  const queued = g.int(0, 5);
  for (let i = 0; i < queued; i++) {
    const x = g.rng.float();
    if (x < 0.03) steps.push({ client: 0, argv: ['MULTI'] });
    else if (x < 0.05) steps.push({ client: 0, argv: ['WATCH', g.key('any')] });
    else {
      // Queued commands are compared through EXEC's array, so no runner special handling here.
      let step = own();
      while (step.special !== undefined) step = own();
      steps.push(step);
    }
  }
  steps.push({ client: 0, argv: [g.chance(0.9) ? g.kw('EXEC') : g.kw('DISCARD')] });
  return steps;
}

/** Writes that touch a watched key in the ways Redis's WATCH treats specially. */
function watchEdgeCase(g: Gen, key: Bin): Bin[] {
  switch (g.int(0, 11)) {
    case 0:
      return ['SWAPDB', '0', String(g.int(1, 2))];
    case 1:
      return ['FLUSHDB'];
    case 2:
      return g.chance(0.2) ? ['FLUSHALL'] : ['DEL', key];
    case 3:
      return ['MOVE', key, String(g.int(0, 2))];
    case 4:
      return ['COPY', g.key('any'), key, ...(g.chance(0.5) ? ['REPLACE'] : [])];
    case 5:
      return ['RENAME', g.key('any'), key];
    case 6:
      return ['EXPIRE', key, g.pick(['0', '-1', '5000'])];
    case 7:
      return ['SET', key, 'gone', 'PXAT', '1'];
    case 8:
      return ['PERSIST', key];
    case 9:
      return ['GET', key]; // a read: must not abort the transaction
    case 10:
      return ['DEL', g.key('any')];
    default:
      return ['EXPIRE', key, '5000', 'NX'];
  }
}

/** Generic bad input: drop the last argument, add a junk one, or replace an argument with junk. */
function mutate(g: Gen, argv: Bin[]): Bin[] {
  const out = [...argv];
  const r = g.rng.float();
  if (r < 0.35 && out.length > 1) out.pop();
  else if (r < 0.65) out.push(g.pick(JUNK_ARGS));
  else if (out.length > 2) out[g.int(2, out.length - 1)] = g.pick(JUNK_NUMBERS);
  else out.push(g.pick(JUNK_NUMBERS));
  return out;
}
