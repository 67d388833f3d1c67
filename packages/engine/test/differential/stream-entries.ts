// Stream commands for the differential generator (family "streams").
//
// IDs come from one counter per run that only moves forward (Gen.streamMs), so most XADDs succeed
// and ranges, deletions and claims hit entries that exist; a few IDs are stale or malformed on
// purpose. `*` is never generated: its ID is each server's own clock, and the two would diverge
// (test/interop/stream-aof.test.ts covers `*` against Redis). Blocking is never generated (Redis
// would block the connection), except with a negative or junk timeout, which is an error.
// Idle filters use 0 or ~11 days, so an entry's idle time (a few ms, or ~56 years after TIME 1000)
// is never near a threshold; times in replies are masked by normalize.ts.

import type { Bin } from '../../src/bytes.ts';

/** What the generator hands to the stream entries (a subset of Gen, to keep this file apart). */
export interface StreamGen {
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  int(lo: number, hi: number): number;
  kw(word: string): Bin;
  value(): Bin;
  longString(): Bin;
  streamKey(): Bin;
  /** The next ms of the run's forward-moving stream clock. */
  nextStreamMs(): number;
  /** A ms the clock already passed (for ranges, deletes, claims). */
  pastStreamMs(): number;
}

export interface StreamEntrySpec {
  name: string;
  weight: number;
  gen: (g: StreamGen) => Bin[];
}

const GROUPS: Bin[] = ['g0', 'g1', 'g2'];
const CONSUMERS: Bin[] = ['c0', 'c1', 'c2', 'c3'];
const FIELDS: Bin[] = ['f', 'g', 'name', '1', '-5'];
const BAD_IDS: Bin[] = ['x', '1-x', '-1', '1-', '18446744073709551616', '', '1.5', '++'];
const MINIDLE: Bin[] = ['0', '0', '0', '1000000000', '-5'];

function id(g: StreamGen): Bin {
  if (g.chance(0.04)) return g.pick(BAD_IDS);
  const ms = g.pastStreamMs();
  return g.chance(0.3) ? String(ms) : `${ms}-${g.int(0, 2)}`;
}

function bound(g: StreamGen): Bin {
  const x = g.int(0, 9);
  if (x === 0) return '-';
  if (x === 1) return '+';
  if (x === 2) return `(${g.pastStreamMs()}-${g.int(0, 1)}`;
  if (x === 3 && g.chance(0.3)) return g.pick(['(', '(+', '(-', 'x']);
  return id(g);
}

function fields(g: StreamGen): Bin[] {
  const n = g.chance(0.85) ? g.int(1, 2) : g.int(3, 4);
  const out: Bin[] = [];
  for (let i = 0; i < n; i++) {
    out.push(g.pick(FIELDS), g.chance(0.05) ? g.longString() : g.value());
  }
  return out;
}

function trimOption(g: StreamGen): Bin[] {
  const out: Bin[] = [];
  const maxlen = g.chance(0.6);
  out.push(g.kw(maxlen ? 'MAXLEN' : 'MINID'));
  const approx = g.chance(0.4);
  if (approx) out.push('~');
  else if (g.chance(0.3)) out.push('=');
  out.push(maxlen ? String(g.chance(0.05) ? -1 : g.int(0, 20)) : id(g));
  if (g.chance(0.2)) out.push(g.kw('LIMIT'), String(g.int(0, 30)));
  return out;
}

function newId(g: StreamGen): Bin {
  const r = g.int(0, 19);
  if (r === 0) return g.pick(['0-0', '0', ...BAD_IDS]);
  if (r === 1) return `${g.pastStreamMs()}-${g.int(0, 2)}`; // usually too small
  const ms = g.nextStreamMs();
  return r < 5 ? `${ms}-*` : `${ms}-${g.int(0, 3)}`;
}

function idList(g: StreamGen, lo: number, hi: number): Bin[] {
  return Array.from({ length: g.int(lo, hi) }, () => id(g));
}

function countOpt(g: StreamGen): Bin[] {
  if (!g.chance(0.5)) return [];
  return [g.kw('COUNT'), g.pick(['0', '1', '2', '3', '10', '-1', 'x'])];
}

export const STREAM_ENTRY_SPECS: StreamEntrySpec[] = [
  {
    name: 'xadd',
    weight: 8,
    gen: (g) => {
      const argv = ['XADD', g.streamKey()];
      if (g.chance(0.05)) argv.push(g.kw('NOMKSTREAM'));
      if (g.chance(0.25)) argv.push(...trimOption(g));
      argv.push(newId(g), ...fields(g));
      return argv;
    },
  },
  {
    name: 'xrange',
    weight: 3,
    gen: (g) => ['XRANGE', g.streamKey(), bound(g), bound(g), ...countOpt(g)],
  },
  {
    name: 'xrevrange',
    weight: 2,
    gen: (g) => ['XREVRANGE', g.streamKey(), bound(g), bound(g), ...countOpt(g)],
  },
  { name: 'xlen', weight: 1, gen: (g) => ['XLEN', g.streamKey()] },
  { name: 'xdel', weight: 2, gen: (g) => ['XDEL', g.streamKey(), ...idList(g, 1, 3)] },
  { name: 'xtrim', weight: 2, gen: (g) => ['XTRIM', g.streamKey(), ...trimOption(g)] },
  {
    name: 'xread',
    weight: 2,
    gen: (g) => {
      const keys = Array.from({ length: g.int(1, 2) }, () => g.streamKey());
      const argv = ['XREAD', ...countOpt(g)];
      if (g.chance(0.03)) argv.push(g.kw('BLOCK'), g.pick(['-1', 'x']));
      argv.push(g.kw('STREAMS'), ...keys);
      for (const _ of keys) argv.push(g.chance(0.3) ? '$' : g.chance(0.5) ? '0' : id(g));
      return argv;
    },
  },
  {
    name: 'xgroup',
    weight: 5,
    gen: (g) => {
      const key = g.streamKey();
      const group = g.pick(GROUPS);
      switch (g.int(0, 9)) {
        case 0:
        case 1:
        case 2: {
          const argv = ['XGROUP', g.kw('CREATE'), key, group, g.chance(0.4) ? '$' : id(g)];
          if (g.chance(0.6)) argv.push(g.kw('MKSTREAM'));
          if (g.chance(0.2)) argv.push(g.kw('ENTRIESREAD'), g.pick(['0', '3', '-1', '-2']));
          return argv;
        }
        case 3:
        case 4: {
          const argv = ['XGROUP', g.kw('SETID'), key, group, g.chance(0.3) ? '$' : bound(g)];
          if (g.chance(0.3)) argv.push(g.kw('ENTRIESREAD'), g.pick(['0', '2', '-1', 'x']));
          return argv;
        }
        case 5:
          return ['XGROUP', g.kw('DESTROY'), key, group];
        case 6:
        case 7:
          return ['XGROUP', g.kw('CREATECONSUMER'), key, group, g.pick(CONSUMERS)];
        case 8:
          return ['XGROUP', g.kw('DELCONSUMER'), key, group, g.pick(CONSUMERS)];
        default:
          return ['XGROUP', g.pick(['HELP', 'FOO', 'CREATE'])];
      }
    },
  },
  {
    name: 'xreadgroup',
    weight: 5,
    gen: (g) => {
      const keys = Array.from({ length: g.chance(0.8) ? 1 : 2 }, () => g.streamKey());
      const argv = ['XREADGROUP', g.kw('GROUP'), g.pick(GROUPS), g.pick(CONSUMERS)];
      argv.push(...countOpt(g));
      if (g.chance(0.2)) argv.push(g.kw('NOACK'));
      argv.push(g.kw('STREAMS'), ...keys);
      for (const _ of keys) argv.push(g.chance(0.75) ? '>' : g.chance(0.5) ? '0' : id(g));
      return argv;
    },
  },
  {
    name: 'xack',
    weight: 2,
    gen: (g) => ['XACK', g.streamKey(), g.pick(GROUPS), ...idList(g, 1, 3)],
  },
  {
    name: 'xpending',
    weight: 2,
    gen: (g) => {
      const argv = ['XPENDING', g.streamKey(), g.pick(GROUPS)];
      if (g.chance(0.3)) return argv;
      if (g.chance(0.3)) argv.push(g.kw('IDLE'), g.pick(MINIDLE));
      argv.push(bound(g), bound(g), g.pick(['1', '5', '100', '0', '-1']));
      if (g.chance(0.3)) argv.push(g.pick(CONSUMERS));
      return argv;
    },
  },
  {
    name: 'xclaim',
    weight: 2,
    gen: (g) => {
      const argv = ['XCLAIM', g.streamKey(), g.pick(GROUPS), g.pick(CONSUMERS)];
      argv.push(g.pick(MINIDLE), ...idList(g, 1, 3));
      if (g.chance(0.3)) argv.push(g.kw('JUSTID'));
      if (g.chance(0.2)) argv.push(g.kw('FORCE'));
      if (g.chance(0.15)) argv.push(g.kw('IDLE'), g.pick(['0', '100000', '5000000000000', 'x']));
      if (g.chance(0.15)) argv.push(g.kw('TIME'), g.pick(['1000', '0', '-1', '9999999999999']));
      if (g.chance(0.15)) argv.push(g.kw('RETRYCOUNT'), g.pick(['0', '5', '-1']));
      if (g.chance(0.1)) argv.push(g.kw('LASTID'), id(g));
      if (g.chance(0.03)) argv.push('BOGUS');
      return argv;
    },
  },
  {
    name: 'xautoclaim',
    weight: 2,
    gen: (g) => {
      const argv = ['XAUTOCLAIM', g.streamKey(), g.pick(GROUPS), g.pick(CONSUMERS)];
      argv.push(g.pick(MINIDLE), g.chance(0.7) ? '0' : bound(g));
      if (g.chance(0.4)) argv.push(g.kw('COUNT'), g.pick(['1', '2', '10', '0', 'x']));
      if (g.chance(0.3)) argv.push(g.kw('JUSTID'));
      return argv;
    },
  },
  {
    name: 'xinfo',
    weight: 2,
    gen: (g) => {
      const key = g.streamKey();
      switch (g.int(0, 5)) {
        case 0:
          return ['XINFO', g.kw('STREAM'), key];
        case 1:
          return ['XINFO', g.kw('STREAM'), key, g.kw('FULL'), ...countOpt(g)];
        case 2:
          return ['XINFO', g.kw('GROUPS'), key];
        case 3:
          return ['XINFO', g.kw('CONSUMERS'), key, g.pick(GROUPS)];
        default:
          return ['XINFO', g.pick(['HELP', 'FOO', 'STREAM'])];
      }
    },
  },
  {
    name: 'xsetid',
    weight: 1,
    gen: (g) => {
      const argv = ['XSETID', g.streamKey(), g.chance(0.5) ? `${g.nextStreamMs()}-0` : id(g)];
      if (g.chance(0.3)) argv.push(g.kw('ENTRIESADDED'), g.pick(['0', '5', '1000', '-1']));
      if (g.chance(0.2)) argv.push(g.kw('MAXDELETEDID'), id(g));
      return argv;
    },
  },
];
