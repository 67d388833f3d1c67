// The data structures behind lists and sets: RList (ring-buffer deque) and SetMembers (intset /
// hashtable with O(1) random access), checked against plain array / Set models.
import { describe, expect, it } from 'vitest';
import { createPrng } from '@aofkv/engine/testing';
import { RList } from '../../src/keyspace/list.ts';
import { SetMembers, isIntsetValue } from '../../src/keyspace/set.ts';
import { RSet, RHash } from '../../src/keyspace/values.ts';

/** expect(actual).toBe(expected), without vitest's per-call cost in hot model-checking loops. */
function same<T>(actual: T, expected: T, context: string): void {
  if (actual !== expected) expect(actual, context).toBe(expected);
}

describe('RList', () => {
  it('pushes and pops at both ends across the ring boundary and through growth', () => {
    const list = new RList();
    const model: string[] = [];
    for (let i = 0; i < 100; i++) {
      list.pushHead(`h${i}`);
      model.unshift(`h${i}`);
      list.pushTail(`t${i}`);
      model.push(`t${i}`);
      if (i % 3 === 0) expect(list.popTail()).toBe(model.pop());
    }
    expect(list.length).toBe(model.length);
    expect(list.toArray()).toEqual(model);
    expect([...list]).toEqual(model);
    while (model.length > 0) expect(list.popHead()).toBe(model.shift());
    expect(list.popHead()).toBeUndefined();
    expect(list.popTail()).toBeUndefined();
    expect(list.length).toBe(0);
  });

  it('indexes, replaces and slices in both directions', () => {
    const list = RList.from(['a', 'b', 'c', 'd']);
    list.pushHead('z'); // forces the head to wrap to the end of the buffer
    expect(list.at(0)).toBe('z');
    expect(list.at(4)).toBe('d');
    expect(list.at(5)).toBeUndefined();
    expect(list.at(-1)).toBeUndefined();
    expect(list.set(2, 'B')).toBe(true);
    expect(list.set(5, 'x')).toBe(false);
    expect(list.range(1, 4)).toEqual(['a', 'B', 'c']);
    expect(list.range(1, 4, true)).toEqual(['c', 'B', 'a']);
    expect(list.range(-5, 50)).toEqual(['z', 'a', 'B', 'c', 'd']);
    expect(list.range(3, 3)).toEqual([]);
    expect(list.indexOf('c')).toBe(3);
    expect(list.indexOf('nope')).toBe(-1);
  });

  it('inserts and removes in the middle, shifting the shorter side', () => {
    const list = RList.from(['0', '1', '2', '3', '4', '5', '6', '7']);
    list.insertAt(1, 'a'); // near the head
    list.insertAt(8, 'b'); // near the tail
    list.insertAt(0, 'first');
    list.insertAt(list.length, 'last');
    expect(list.toArray()).toEqual([
      'first',
      '0',
      'a',
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      'b',
      '7',
      'last',
    ]);
    expect(list.removeAt(2)).toBe('a');
    expect(list.removeAt(8)).toBe('b');
    expect(list.removeAt(0)).toBe('first');
    expect(list.removeAt(list.length - 1)).toBe('last');
    expect(list.removeAt(list.length)).toBeUndefined();
    expect(list.toArray()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
    expect(() => list.insertAt(9, 'x')).toThrow(RangeError);
  });

  it('removes matches from the head or the tail with a limit, in one pass', () => {
    const base = ['a', 'b', 'a', 'c', 'a', 'b', 'a'];
    const fromHead = RList.from(base);
    expect(fromHead.removeMatching('a', 2, false)).toBe(2);
    expect(fromHead.toArray()).toEqual(['b', 'c', 'a', 'b', 'a']);
    const fromTail = RList.from(base);
    fromTail.pushHead('x'); // make the live region wrap
    expect(fromTail.removeMatching('a', 3, true)).toBe(3);
    expect(fromTail.toArray()).toEqual(['x', 'a', 'b', 'c', 'b']);
    expect(fromTail.removeMatching('b', 0, true)).toBe(2);
    expect(fromTail.toArray()).toEqual(['x', 'a', 'c']);
    expect(fromTail.removeMatching('zz', 0, false)).toBe(0);
    fromTail.pushTail('after');
    fromTail.pushHead('before');
    expect(fromTail.toArray()).toEqual(['before', 'x', 'a', 'c', 'after']);
  });

  it('trims both ends and shrinks its buffer without losing elements', () => {
    const list = new RList();
    for (let i = 0; i < 10_000; i++) list.pushTail(String(i));
    list.trimHead(4_000);
    list.trimTail(5_990);
    expect(list.toArray()).toEqual([
      '4000',
      '4001',
      '4002',
      '4003',
      '4004',
      '4005',
      '4006',
      '4007',
      '4008',
      '4009',
    ]);
    list.trimHead(100);
    expect(list.length).toBe(0);
    list.pushHead('again');
    expect(list.toArray()).toEqual(['again']);
  });

  it('clone() is independent of the original', () => {
    const list = RList.from(['a', 'b']);
    list.pushHead('h');
    const copy = list.clone();
    copy.pushTail('c');
    list.set(0, 'H');
    expect(copy.toArray()).toEqual(['h', 'a', 'b', 'c']);
    expect(list.toArray()).toEqual(['H', 'a', 'b']);
    expect(copy.type).toBe('list');
  });

  it('matches an array model under a long random operation sequence', () => {
    const prng = createPrng(2024);
    const list = new RList();
    const model: string[] = [];
    for (let step = 0; step < 50_000; step++) {
      const v = `v${prng.nextInt(10)}`;
      const op = prng.nextInt(10);
      if (op <= 1) {
        list.pushHead(v);
        model.unshift(v);
      } else if (op <= 3) {
        list.pushTail(v);
        model.push(v);
      } else if (op === 4) {
        same(list.popHead(), model.shift(), `step ${step}`);
      } else if (op === 5) {
        same(list.popTail(), model.pop(), `step ${step}`);
      } else if (op === 6) {
        const i = prng.nextInt(model.length + 1);
        list.insertAt(i, v);
        model.splice(i, 0, v);
      } else if (op === 7 && model.length > 0) {
        const i = prng.nextInt(model.length);
        same(list.removeAt(i), model.splice(i, 1)[0], `step ${step}`);
      } else if (op === 8) {
        const limit = prng.nextInt(3);
        const fromTail = prng.chance(0.5);
        let removed = 0;
        if (fromTail) {
          for (let i = model.length - 1; i >= 0; i--) {
            if (model[i] === v && (limit === 0 || removed < limit)) {
              model.splice(i, 1);
              removed++;
            }
          }
        } else {
          for (let i = 0; i < model.length; ) {
            if (model[i] === v && (limit === 0 || removed < limit)) {
              model.splice(i, 1);
              removed++;
            } else i++;
          }
        }
        same(list.removeMatching(v, limit, fromTail), removed, `step ${step}`);
      } else if (op === 9 && prng.chance(0.1)) {
        const head = prng.nextInt(3);
        const tail = prng.nextInt(3);
        list.trimHead(head);
        list.trimTail(tail);
        model.splice(0, head);
        model.splice(Math.max(0, model.length - tail), tail);
      }
      same(list.length, model.length, `step ${step}`);
      if (step % 997 === 0) expect(list.toArray()).toEqual(model);
    }
    expect(list.toArray()).toEqual(model);
  });
});

describe('SetMembers', () => {
  it('recognises exactly the integers Redis stores in an intset (string2ll)', () => {
    for (const s of ['0', '1', '-1', '42', '9223372036854775807', '-9223372036854775808']) {
      expect(isIntsetValue(s), s).toBe(true);
    }
    for (const s of [
      '',
      '-',
      '-0',
      '01',
      '+1',
      ' 1',
      '1 ',
      '1.0',
      '9223372036854775808',
      '-9223372036854775809',
      '1e3',
      'abc',
      '99999999999999999999',
    ]) {
      expect(isIntsetValue(s), s).toBe(false);
    }
  });

  it('keeps an intset sorted by value and looks members up by value text', () => {
    const m = new SetMembers();
    for (const s of [
      '10',
      '-3',
      '7',
      '-20',
      '0',
      '7',
      '100',
      '-9223372036854775808',
      '9223372036854775807',
    ])
      m.add(s);
    expect([...m]).toEqual([
      '-9223372036854775808',
      '-20',
      '-3',
      '0',
      '7',
      '10',
      '100',
      '9223372036854775807',
    ]);
    expect(m.encoding).toBe('intset');
    expect(m.has('7')).toBe(true);
    expect(m.has('07')).toBe(false);
    expect(m.has('x')).toBe(false);
    expect(m.delete('-3')).toBe(true);
    expect(m.delete('-3')).toBe(false);
    expect(m.delete('nope')).toBe(false);
    expect(m.size).toBe(7);
  });

  it('converts to a hashtable on a non-integer or past 512 members, and stays one', () => {
    const m = new SetMembers();
    for (let i = 0; i < 512; i++) m.add(String(i));
    expect(m.encoding).toBe('intset');
    m.add('512');
    expect(m.encoding).toBe('hashtable');
    const n = new SetMembers();
    n.add('1');
    n.add('a');
    expect(n.encoding).toBe('hashtable');
    n.delete('a');
    expect(n.encoding).toBe('hashtable');
    expect(n.has('1')).toBe(true);
  });

  it('matches a Set model in both encodings, including random picks', () => {
    const prng = createPrng(99);
    const m = new SetMembers();
    const model = new Set<string>();
    for (let step = 0; step < 20_000; step++) {
      const v = prng.chance(0.9) ? String(prng.nextInt(700)) : `s${prng.nextInt(50)}`;
      if (prng.chance(0.6)) {
        same(m.addMember(v), !model.has(v), `step ${step}`);
        model.add(v);
      } else {
        same(m.delete(v), model.delete(v), `step ${step}`);
      }
      same(m.size, model.size, `step ${step}`);
      if (model.size > 0 && step % 7 === 0)
        same(model.has(m.random(() => prng.nextFloat())!), true, `step ${step}`);
      if (step % 1009 === 0) expect(new Set(m)).toEqual(model);
    }
    expect(new Set(m)).toEqual(model);
    expect(m.random(() => 0.999999999)).toBeDefined();
    expect(new SetMembers().random(() => 0.5)).toBeUndefined();
  });

  it('random() reaches every member', () => {
    const prng = createPrng(5);
    const m = new SetMembers();
    for (const s of ['a', 'b', 'c', 'd', 'e']) m.add(s);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(m.random(() => prng.nextFloat())!);
    expect(seen.size).toBe(5);
  });

  it('offers the Set API and independent clones for RSet and RHash', () => {
    const set = new RSet();
    set.members.add('b').add('a');
    const entries: string[] = [];
    set.members.forEach((v, k) => {
      entries.push(`${k}=${v}`);
    });
    expect(entries).toEqual(['b=b', 'a=a']);
    expect([...set.members.entries()]).toEqual([
      ['b', 'b'],
      ['a', 'a'],
    ]);
    expect([...set.members.keys()]).toEqual(['b', 'a']);
    const copy = set.clone();
    copy.members.add('c');
    set.members.delete('b');
    expect([...copy.members].sort()).toEqual(['a', 'b', 'c']);
    expect([...set.members]).toEqual(['a']);
    expect(copy.encoding).toBe('hashtable');

    const hash = new RHash();
    hash.map.set('f', 'v');
    const hcopy = hash.clone();
    hcopy.map.set('g', 'w');
    expect([...hash.map]).toEqual([['f', 'v']]);
    expect(hcopy.size).toBe(2);
  });
});
