// RZSet (keyspace/zset.ts) against a naive model: a plain array kept sorted by (score, member).
// Seeded random operations grow the set into thousands of entries (many node splits), shrink it
// back (merges, rebalancing, root collapse) and move scores around; after each batch every
// structural invariant is checked and rank / range / lex answers are compared with the model.

import { describe, expect, it } from 'vitest';
import { RZSet, type LexBound, type LexRange, type ScoreRange } from '../../src/keyspace/zset.ts';

/** mulberry32: tiny seeded PRNG so every failure replays. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Entry = [string, number];

function before(a: Entry, b: Entry): boolean {
  return a[1] < b[1] || (a[1] === b[1] && a[0] < b[0]);
}

/** The naive model: sorted entries, rebuilt by sorting after each change (fine for a test). */
class Model {
  readonly scores = new Map<string, number>();
  sorted: Entry[] = [];
  private dirty = false;
  set(member: string, score: number): void {
    this.scores.set(member, score);
    this.dirty = true;
  }
  delete(member: string): void {
    this.scores.delete(member);
    this.dirty = true;
  }
  entries(): Entry[] {
    if (this.dirty) {
      this.sorted = [...this.scores].sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
      this.dirty = false;
    }
    return this.sorted;
  }
}

function collect(z: RZSet, from: number, count: number, reverse: boolean): Entry[] {
  const out: Entry[] = [];
  z.visit(from, count, reverse, (m, s) => out.push([m, s]));
  return out;
}

function inScore(s: number, r: ScoreRange): boolean {
  return (r.minex ? s > r.min : s >= r.min) && (r.maxex ? s < r.max : s <= r.max);
}

/**
 * Reference for visitScoreRange: filter, then offset/limit like Redis (negative offset: nothing).
 */
function modelScoreRange(
  entries: Entry[],
  r: ScoreRange,
  offset: number,
  limit: number,
  reverse: boolean,
): Entry[] {
  if (offset < 0) return [];
  let hits = entries.filter((e) => inScore(e[1], r));
  if (reverse) hits = hits.reverse();
  hits = hits.slice(offset);
  return limit < 0 ? hits : hits.slice(0, limit);
}

function checkAgainstModel(
  z: RZSet,
  model: Model,
  rnd: () => number,
  scorePool: readonly number[],
): void {
  z.assertValid();
  const entries = model.entries();
  expect(z.size).toBe(entries.length);
  expect([...z]).toEqual(entries);
  const n = entries.length;
  for (let k = 0; k < 20 && n > 0; k++) {
    const i = Math.floor(rnd() * n);
    const [member, score] = entries[i]!;
    expect(z.rank(member)).toBe(i);
    expect(z.rank(member, true)).toBe(n - 1 - i);
    expect(z.at(i)).toEqual({ member, score });
    expect(z.score(member)).toBe(score);
    const count = Math.floor(rnd() * 70);
    expect(collect(z, i, count, false)).toEqual(entries.slice(i, i + count));
    expect(collect(z, i, count, true)).toEqual(
      entries.slice(Math.max(0, i - count + 1), i + 1).reverse(),
    );
  }
  expect(z.rank('no such member')).toBe(-1);
  expect(z.at(n)).toBeUndefined();
  for (let k = 0; k < 20; k++) {
    const a = scorePool[Math.floor(rnd() * scorePool.length)]!;
    const b = scorePool[Math.floor(rnd() * scorePool.length)]!;
    const range: ScoreRange = {
      min: Math.min(a, b),
      max: Math.max(a, b),
      minex: rnd() < 0.3,
      maxex: rnd() < 0.3,
    };
    const offset = Math.floor(rnd() * 12) - 1;
    const limit = Math.floor(rnd() * 40) - 1;
    const reverse = rnd() < 0.5;
    const got: Entry[] = [];
    z.visitScoreRange(range, offset, limit, reverse, (m, s) => got.push([m, s]));
    expect(got).toEqual(modelScoreRange(entries, range, offset, limit, reverse));
    expect(z.countInScoreRange(range)).toBe(entries.filter((e) => inScore(e[1], range)).length);
  }
}

describe('RZSet against a sorted-array model', () => {
  it(
    'agrees on rank, order and score ranges through ' +
      'thousands of random inserts, updates and removals',
    () => {
      const rnd = prng(20240611);
      const z = new RZSet(false); // skiplist encoding: scores are stored exactly, -0 included
      const model = new Model();
      // Few distinct scores, so equal scores ordered by member bytes are exercised constantly.
      const scorePool = [-Infinity, -1e300, -3, -1.5, -0, 0, 0.5, 1, 2, 3, 7, 1e300, Infinity];
      const memberOf = (i: number): string =>
        i % 17 === 0 ? `\xff${i}` : i % 13 === 0 ? `\x00${i}` : `m${i}`;
      const phases = [
        { ops: 6000, insert: 0.8, universe: 8000 }, // grow: splits of leaves and inner nodes
        { ops: 6000, insert: 0.5, universe: 8000 }, // churn: moves, in-place updates
        { ops: 9000, insert: 0.1, universe: 8000 }, // shrink: merges, balancing, root collapse
        { ops: 3000, insert: 0.6, universe: 300 }, // small again
      ];
      for (const phase of phases) {
        for (let op = 0; op < phase.ops; op++) {
          const member = memberOf(Math.floor(rnd() * phase.universe));
          if (rnd() < phase.insert) {
            const score = scorePool[Math.floor(rnd() * scorePool.length)]!;
            const wasNew = !model.scores.has(member);
            expect(z.add(member, score)).toBe(wasNew);
            model.set(
              member,
              wasNew || model.scores.get(member) !== score ? score : model.scores.get(member)!,
            );
          } else {
            expect(z.delete(member)).toBe(model.scores.has(member));
            model.delete(member);
          }
          if (op % 1500 === 0) checkAgainstModel(z, model, rnd, scorePool);
        }
        checkAgainstModel(z, model, rnd, scorePool);
      }
    },
  );

  it(
    'stays consistent under bulk range deletions at both ' +
      'ends, in the middle, and small score moves',
    () => {
      const rnd = prng(12345);
      const z = new RZSet(false);
      const model = new Map<string, number>();
      const put = (m: string, s: number): void => {
        z.add(m, s);
        model.set(m, s);
      };
      for (let i = 0; i < 30000; i++) put(`b${i}`, Math.floor(rnd() * 1e6));
      for (let round = 0; round < 200; round++) {
        // Remove a run of ranks spanning several leaves, at the front (the underfull node is a
        // first child), the back (a last child) or anywhere: whole subtrees empty, nodes are merged
        // with or rebalanced against a sibling, the root collapses. The model drops what the
        // structure reports for those ranks; the final comparison catches any disagreement.
        const k = 50 + Math.floor(rnd() * 600);
        const where = rnd();
        const lo =
          where < 0.4 ? 0 : where < 0.8 ? Math.max(0, z.size - k) : Math.floor(rnd() * z.size);
        const doomed: string[] = [];
        z.visit(lo, k, false, (m) => doomed.push(m));
        expect(z.deleteRankRange(lo, lo + k)).toBe(doomed.length);
        for (const m of doomed) model.delete(m);
        for (let j = 0; j < 250; j++) put(`x${Math.floor(rnd() * 1e9)}`, Math.floor(rnd() * 1e6));
        // Nudge scores: most moves stay between the neighbours and are done in place.
        for (let j = 0; j < 100 && z.size > 0; j++) {
          const e = z.at(Math.floor(rnd() * z.size))!;
          put(e.member, e.score + (rnd() < 0.8 ? 1e-7 : (rnd() - 0.5) * 1e5));
        }
        z.assertValid();
      }
      const expected = [...model].sort((x, y) => (before(x, y) ? -1 : before(y, x) ? 1 : 0));
      const actual = [...z];
      expect(actual.length).toBe(expected.length);
      const firstDiff = actual.findIndex(
        (e, i) => e[0] !== expected[i]![0] || e[1] !== expected[i]![1],
      );
      expect(firstDiff).toBe(-1);
      for (let i = 0; i < actual.length; i += 997) expect(z.rank(actual[i]![0])).toBe(i);
    },
  );

  it(
    'moves entries when scores change, in place or across leaves, ' +
      'keeping -0 distinct in skiplist mode',
    () => {
      const z = new RZSet(false);
      for (let i = 0; i < 1000; i++) z.add(`k${i}`, i);
      z.add('k500', 500.5); // stays between its neighbours
      z.add('k10', 2000); // jumps to the end
      z.add('k999', -1); // jumps to the start
      z.add('k1', -0);
      z.assertValid();
      expect(z.rank('k999')).toBe(0);
      expect(z.rank('k10')).toBe(999);
      expect(z.rank('k500')).toBe(500);
      expect(Object.is(z.score('k1'), -0)).toBe(true);
      // -0 equals 0: the same member "moved" to 0 is unchanged, the order ties break by member.
      expect(z.add('k1', 0)).toBe(false);
      expect(Object.is(z.score('k1'), -0)).toBe(true);
      expect(z.at(1)).toEqual({ member: 'k0', score: 0 });
      expect(z.at(2)!.member).toBe('k1');
    },
  );

  it('deletes rank and score ranges and pops from both ends', () => {
    const rnd = prng(7);
    const z = new RZSet(false);
    const model = new Model();
    for (let i = 0; i < 3000; i++) {
      const s = Math.floor(rnd() * 100);
      z.add(`e${i}`, s);
      model.set(`e${i}`, s);
    }
    // A rank range spanning many leaves.
    let entries = model.entries();
    expect(z.deleteRankRange(100, 2100)).toBe(2000);
    for (const [m] of entries.slice(100, 2100)) model.delete(m);
    checkAgainstModel(z, model, rnd, [0, 10, 50, 99]);
    // Score range.
    entries = model.entries();
    const range: ScoreRange = { min: 20, max: 60, minex: true, maxex: false };
    const victims = entries.filter((e) => inScore(e[1], range));
    expect(z.deleteScoreRange(range)).toBe(victims.length);
    for (const [m] of victims) model.delete(m);
    checkAgainstModel(z, model, rnd, [0, 10, 50, 99]);
    // Pops.
    for (let i = 0; i < 50; i++) {
      entries = model.entries();
      const min = z.popMin()!;
      expect([min.member, min.score]).toEqual(entries[0]);
      model.delete(min.member);
      entries = model.entries();
      const max = z.popMax()!;
      expect([max.member, max.score]).toEqual(entries[entries.length - 1]);
      model.delete(max.member);
    }
    checkAgainstModel(z, model, rnd, [0, 10, 50, 99]);
    expect(z.deleteRankRange(0, z.size)).toBe(model.entries().length);
    expect(z.size).toBe(0);
    z.assertValid();
    expect(z.popMin()).toBeUndefined();
    expect(z.popMax()).toBeUndefined();
    expect([...z]).toEqual([]);
    // Reusable after being emptied.
    z.add('again', 1);
    expect([...z]).toEqual([['again', 1]]);
  });

  it('clone() is deep, ordered and independently mutable', () => {
    const z = new RZSet(false);
    for (let i = 0; i < 5000; i++) z.add(`c${i}`, i % 37);
    const copy = z.clone();
    copy.assertValid();
    expect([...copy]).toEqual([...z]);
    expect(copy.encoding).toBe('skiplist');
    copy.add('c1', 1000);
    copy.delete('c2');
    for (let i = 3000; i < 5000; i++) copy.delete(`c${i}`);
    for (let i = 0; i < 500; i++) copy.add(`new${i}`, i);
    copy.assertValid();
    z.assertValid();
    expect(z.size).toBe(5000);
    expect(z.score('c1')).toBe(1);
    expect(z.has('c2')).toBe(true);
    expect(copy.rank('c1')).toBe(copy.size - 1);
  });
});

describe('RZSet lex ranges', () => {
  const bound = (s: string): LexBound =>
    s === '-'
      ? { kind: -1, value: '', ex: true }
      : s === '+'
        ? { kind: 1, value: '', ex: true }
        : { kind: 0, value: s.slice(1), ex: s[0] === '(' };
  const lex = (min: string, max: string): LexRange => ({ min: bound(min), max: bound(max) });
  const members = (z: RZSet, r: LexRange, offset = 0, limit = -1, reverse = false): string[] => {
    const out: string[] = [];
    z.visitLexRange(r, offset, limit, reverse, (m) => out.push(m));
    return out;
  };

  it('answers like a filtered sorted list when all scores are equal, in both encodings', () => {
    const rnd = prng(99);
    for (const size of [20, 3000]) {
      const z = new RZSet();
      const all: string[] = [];
      for (let i = 0; i < size; i++) {
        const m = String.fromCharCode(97 + (i % 26)) + i.toString(36);
        z.add(m, 0);
        all.push(m);
      }
      all.sort((a, b) => (a < b ? -1 : 1));
      expect(z.encoding).toBe(size > 128 ? 'skiplist' : 'listpack');
      for (let k = 0; k < 200; k++) {
        const pickBound = (): string => {
          const r = rnd();
          if (r < 0.1) return '-';
          if (r < 0.2) return '+';
          return (
            (rnd() < 0.5 ? '[' : '(') +
            all[Math.floor(rnd() * all.length)]!.slice(0, 1 + Math.floor(rnd() * 2))
          );
        };
        const r = lex(pickBound(), pickBound());
        const inRange = all.filter((m) => {
          const minOk =
            r.min.kind !== 0 ? r.min.kind < 0 : r.min.ex ? m > r.min.value : m >= r.min.value;
          const maxOk =
            r.max.kind !== 0 ? r.max.kind > 0 : r.max.ex ? m < r.max.value : m <= r.max.value;
          return minOk && maxOk;
        });
        const offset = Math.floor(rnd() * 5);
        const limit = Math.floor(rnd() * 8) - 1;
        const cut = (xs: string[]): string[] =>
          limit < 0 ? xs.slice(offset) : xs.slice(offset, offset + limit);
        expect(members(z, r, offset, limit)).toEqual(cut(inRange));
        expect(members(z, r, offset, limit, true)).toEqual(cut([...inRange].reverse()));
        expect(z.countInLexRange(r)).toBe(inRange.length);
      }
      const r = lex('[b', '(d');
      const expected = all.filter((m) => m >= 'b' && m < 'd');
      expect(z.deleteLexRange(r)).toBe(expected.length);
      z.assertValid();
      expect(z.countInLexRange(lex('-', '+'))).toBe(size - expected.length);
    }
  });

  it(
    'reproduces the listpack algorithm on mixed scores ' +
      '(values checked on redis-server 7.0.15)',
    () => {
      // ZADD k 1 b 2 a 3 d 4 c: order by score is b a d c.
      const z = new RZSet();
      z.add('b', 1);
      z.add('a', 2);
      z.add('d', 3);
      z.add('c', 4);
      expect(members(z, lex('[a', '[c'))).toEqual(['b', 'a']);
      expect(members(z, lex('[c', '+'))).toEqual(['d', 'c']);
      expect(members(z, lex('-', '[b'), 0, -1, true)).toEqual(['a', 'b']); // ZREVRANGEBYLEX k [b -
      expect(members(z, lex('[b', '+'), 0, -1, true)).toEqual(['c', 'd']); // ZREVRANGEBYLEX k + [b
      expect(z.countInLexRange(lex('[a', '[c'))).toBe(2);
      expect(z.countInLexRange(lex('-', '[b'))).toBe(2);
      // The range must overlap [first member, last member] in score order, here [b, c]: [d is past
      // c.
      expect(members(z, lex('[d', '+'))).toEqual([]);
      expect(z.deleteLexRange(lex('[a', '[b'))).toBe(2);
      expect([...z].map(([m]) => m)).toEqual(['d', 'c']);
    },
  );

  it('treats "-" and "+" as infinite bounds and empty ranges as empty', () => {
    const z = new RZSet();
    for (const m of ['a', 'b', 'c']) z.add(m, 0);
    expect(members(z, lex('-', '+'))).toEqual(['a', 'b', 'c']);
    expect(members(z, lex('+', '-'))).toEqual([]);
    expect(members(z, lex('-', '-'))).toEqual([]);
    expect(members(z, lex('+', '+'))).toEqual([]);
    expect(members(z, lex('[b', '[b'))).toEqual(['b']);
    expect(members(z, lex('(b', '[b'))).toEqual([]);
    expect(members(z, lex('[c', '[a'))).toEqual([]);
    // "(" is the empty string, exclusive
    expect(members(z, lex('(', '+'))).toEqual(['a', 'b', 'c']);
    expect(z.countInLexRange(lex('[a', '(c'))).toBe(2);
  });
});

describe('RZSet encoding (listpack vs skiplist, as Redis 7.0 would choose)', () => {
  it('normalises -0 to 0 while listpack, keeps -0 once converted', () => {
    const z = new RZSet();
    z.add('a', -0);
    expect(Object.is(z.score('a'), 0)).toBe(true);
    expect(z.encoding).toBe('listpack');
    for (let i = 0; i < 127; i++) z.add(`m${i}`, i);
    expect(z.encoding).toBe('listpack');
    z.add('neg', -0); // the 129th entry converts first, then is inserted with its sign
    expect(z.encoding).toBe('skiplist');
    expect(Object.is(z.score('neg'), -0)).toBe(true);
    z.delete('neg');
    for (let i = 0; i < 127; i++) z.delete(`m${i}`);
    expect(z.encoding).toBe('skiplist'); // never converts back by itself
  });

  it(
    'converts on a member longer than 64 bytes and ' +
      'converts back only via convertToListpackIfFits',
    () => {
      const z = new RZSet();
      z.add('x'.repeat(64), 1);
      expect(z.encoding).toBe('listpack');
      z.add('y'.repeat(65), -0);
      expect(z.encoding).toBe('skiplist');
      expect(Object.is(z.score('y'.repeat(65)), -0)).toBe(true);
      z.convertToListpackIfFits(); // a 65-byte member does not fit
      expect(z.encoding).toBe('skiplist');
      z.delete('y'.repeat(65));
      z.add('z', -0);
      z.convertToListpackIfFits();
      expect(z.encoding).toBe('listpack');
      expect(Object.is(z.score('z'), 0)).toBe(true);
      expect([...z]).toEqual([
        ['z', 0],
        ['x'.repeat(64), 1],
      ]);
      expect(z.clone().encoding).toBe('listpack');
    },
  );
});
