// Set commands against the replies, error texts and AOF propagation of redis-server 7.0.15
// (every expected value below was checked on a real 7.0.15 server; random choices are seeded).
import { beforeEach, describe, expect, it } from 'vitest';
import type { Arg, Engine, DbHandle } from '@aofkv/engine';
import {
  type CommandEngine,
  openCommandEngine,
  WRONGTYPE_MESSAGE as WRONGTYPE,
} from '../helpers/command-engine.ts';
import type { Reply } from '../../src/reply.ts';
import type { RSet } from '../../src/keyspace/values.ts';

const POSITIVE = 'ERR value is out of range, must be positive';

let h: CommandEngine;
let e: Engine;
let db: DbHandle;

beforeEach(async () => {
  h = await openCommandEngine({ seed: 7 });
  ({ e, db } = h);
});

/** What reached the AOF since the last call, as argv arrays. */
const propagated = (): string[][] => h.aof();
/** Run a command through the dispatcher and return the raw Reply (tells nil from nil array). */
const raw = (...args: Arg[]): Reply => h.run(...args);

function setValue(key: string): RSet | undefined {
  return e.server.dbs[0]!.dict.get(key) as RSet | undefined;
}

const sorted = (v: unknown): string[] => [...(v as string[])].sort();

describe('SADD SREM SISMEMBER SMISMEMBER SCARD', () => {
  it('count what changed and propagate only then', async () => {
    expect(await db.command('SADD', 's', 'a', 'b', 'a')).toBe(2);
    expect(await db.command('SADD', 's', 'b')).toBe(0);
    expect(await db.command('SREM', 's', 'zz')).toBe(0);
    expect(await db.command('SREM', 'none', 'a')).toBe(0);
    expect(await db.command('SCARD', 's')).toBe(2);
    expect(await db.command('SCARD', 'none')).toBe(0);
    expect(await db.command('SISMEMBER', 's', 'a')).toBe(1);
    expect(await db.command('SISMEMBER', 'none', 'a')).toBe(0);
    expect(await db.command('SMISMEMBER', 's', 'a', 'zz', 'b')).toEqual([1, 0, 1]);
    expect(await db.command('SMISMEMBER', 'none', 'a', 'b')).toEqual([0, 0]);
    expect(await db.command('SREM', 's', 'a', 'b', 'c')).toBe(2);
    expect(e.server.dbs[0]!.dict.has('s')).toBe(false);
    expect(propagated()).toEqual([
      ['SADD', 's', 'a', 'b', 'a'],
      ['SREM', 's', 'a', 'b', 'c'],
    ]);
  });

  it('an integer member is matched by its exact bytes only', async () => {
    await db.command('SADD', 's', '1', '10');
    expect(await db.command('SMISMEMBER', 's', '1', '01', '+1', '1.0', '10')).toEqual([
      1, 0, 0, 0, 1,
    ]);
    expect(await db.command('SREM', 's', '01')).toBe(0);
  });

  it('are binary-safe', async () => {
    const m = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0xc3]);
    await db.command('SADD', 's', m);
    expect(await db.commandBuffer('SMEMBERS', 's')).toEqual([m]);
    expect(await db.command('SISMEMBER', 's', m.subarray(0, 4))).toBe(0);
    expect(await db.command('SISMEMBER', 's', m)).toBe(1);
  });

  it('refuse a key of another type', async () => {
    await db.command('RPUSH', 'l', 'x');
    for (const args of [
      ['SADD', 'l', 'a'],
      ['SREM', 'l', 'a'],
      ['SISMEMBER', 'l', 'a'],
      ['SMISMEMBER', 'l', 'a'],
      ['SCARD', 'l'],
      ['SMEMBERS', 'l'],
      ['SPOP', 'l'],
      ['SPOP', 'l', '1'],
      ['SRANDMEMBER', 'l'],
      ['SRANDMEMBER', 'l', '1'],
    ]) {
      await expect(db.command(args[0]!, ...args.slice(1))).rejects.toThrow(WRONGTYPE);
    }
  });
});

describe('reply order and encoding', () => {
  it('an all-integer set (intset) replies sorted by value, like Redis', async () => {
    await db.command('SADD', 's', '3', '1', '2', '10', '-5');
    expect(await db.command('SMEMBERS', 's')).toEqual(['-5', '1', '2', '3', '10']);
    await db.command('SADD', 'b', '9223372036854775807', '-9223372036854775808', '0', '-1');
    expect(await db.command('SMEMBERS', 'b')).toEqual([
      '-9223372036854775808',
      '-1',
      '0',
      '9223372036854775807',
    ]);
    expect(await db.command('SRANDMEMBER', 's', 100)).toEqual(['-5', '1', '2', '3', '10']);
    expect(await db.command('SUNION', 's', 'none')).toEqual(['-5', '1', '2', '3', '10']);
    expect(setValue('s')!.encoding).toBe('intset');
  });

  it('converts to hashtable past 512 members or on a non-integer, and never back', async () => {
    const members = Array.from({ length: 512 }, (_, i) => String((512 - i) * 3));
    await db.command('SADD', 's', ...members);
    expect(setValue('s')!.encoding).toBe('intset');
    expect((await db.command('SMEMBERS', 's')) as string[]).toEqual(
      [...members].sort((a, b) => Number(a) - Number(b)),
    );
    await db.command('SADD', 's', '1');
    expect(setValue('s')!.encoding).toBe('hashtable');
    await db.command('SADD', 'big', '9223372036854775808');
    expect(setValue('big')!.encoding).toBe('hashtable');
    await db.command('SADD', 't', '1', 'x');
    await db.command('SREM', 't', 'x');
    expect(setValue('t')!.encoding).toBe('hashtable');
    // A set built fresh from it (SUNIONSTORE) is an intset again.
    await db.command('SUNIONSTORE', 'u', 't');
    expect(setValue('u')!.encoding).toBe('intset');
  });
});

describe('SPOP', () => {
  it(
    'without count pops one member and propagates SREM; ' + 'the last one deletes the key',
    async () => {
      await db.command('SADD', 's', 'a', 'b');
      propagated();
      const first = (await db.command('SPOP', 's')) as string;
      const second = (await db.command('SPOP', 's')) as string;
      expect([first, second].sort()).toEqual(['a', 'b']);
      expect(e.server.dbs[0]!.dict.has('s')).toBe(false);
      expect(raw('SPOP', 's')).toBeNull();
      expect(propagated()).toEqual([
        ['SREM', 's', first],
        ['SREM', 's', second],
      ]);
    },
  );

  it(
    'with a small count propagates one SREM per popped member, ' +
      'MULTI-wrapped when more than one',
    async () => {
      const all = 'abcdefghij'.split('');
      await db.command('SADD', 's', ...all);
      propagated();
      const one = (await db.command('SPOP', 's', 1)) as string[];
      expect(one).toHaveLength(1);
      expect(propagated()).toEqual([['SREM', 's', one[0]!]]);
      const three = (await db.command('SPOP', 's', 3)) as string[];
      expect(new Set(three).size).toBe(3);
      expect(propagated()).toEqual([['MULTI'], ...three.map((m) => ['SREM', 's', m]), ['EXEC']]);
      const left = sorted(await db.command('SMEMBERS', 's'));
      expect(left).toEqual(all.filter((m) => !one.includes(m) && !three.includes(m)));
    },
  );

  it(
    'with a count close to the size rebuilds the ' + 'set from the kept members and keeps the TTL',
    async () => {
      const all = Array.from({ length: 12 }, (_, i) => String(i + 1));
      await db.command('SADD', 's', ...all, 'x');
      const when = Date.now() + 100_000;
      e.server.dbs[0]!.setExpire('s', when);
      propagated();
      // remaining 1 * 5 <= 12: Redis's "create a new set" strategy.
      const popped = (await db.command('SPOP', 's', 12)) as string[];
      expect(popped).toHaveLength(12);
      const kept = (await db.command('SMEMBERS', 's')) as string[];
      expect(sorted([...popped, ...kept])).toEqual(sorted([...all, 'x']));
      expect(propagated()).toEqual([['MULTI'], ...popped.map((m) => ['SREM', 's', m]), ['EXEC']]);
      expect(e.server.dbs[0]!.getExpire('s')).toBe(when);
    },
  );

  it('with count >= size returns everything and propagates DEL', async () => {
    await db.command('SADD', 's', '3', '2', '1');
    propagated();
    expect(await db.command('SPOP', 's', 100)).toEqual(['1', '2', '3']);
    expect(e.server.dbs[0]!.dict.has('s')).toBe(false);
    expect(propagated()).toEqual([['DEL', 's']]);
  });

  it(
    'count 0 and a missing key reply an empty array ' +
      'and propagate nothing; bad counts fail first',
    async () => {
      await db.command('SADD', 's', 'a');
      await db.command('RPUSH', 'l', 'x');
      propagated();
      expect(await db.command('SPOP', 's', 0)).toEqual([]);
      expect(await db.command('SPOP', 'none', 2)).toEqual([]);
      expect(await db.command('SPOP', 'none', 0)).toEqual([]);
      await expect(db.command('SPOP', 's', -1)).rejects.toThrow(POSITIVE);
      await expect(db.command('SPOP', 'l', 'x')).rejects.toThrow(POSITIVE);
      await expect(db.command('SPOP', 's', 1, 2)).rejects.toThrow('ERR syntax error');
      expect(propagated()).toEqual([]);
      expect(await db.command('SCARD', 's')).toBe(1);
    },
  );
});

describe('SRANDMEMBER', () => {
  beforeEach(async () => {
    await db.command('SADD', 's', ...Array.from({ length: 30 }, (_, i) => `m${i}`));
  });

  it('returns distinct members for a positive count, in every sampling strategy', async () => {
    for (const count of [1, 5, 20, 29, 30, 31]) {
      const got = (await db.command('SRANDMEMBER', 's', count)) as string[];
      expect(got).toHaveLength(Math.min(count, 30));
      expect(new Set(got).size).toBe(got.length);
      for (const m of got) expect(m).toMatch(/^m\d+$/);
    }
    expect(await db.command('SCARD', 's')).toBe(30);
  });

  it('allows repetitions for a negative count', async () => {
    const got = (await db.command('SRANDMEMBER', 's', -100)) as string[];
    expect(got).toHaveLength(100);
    expect(new Set(got).size).toBeLessThan(100);
    await db.command('SADD', 'one', 'x');
    expect(await db.command('SRANDMEMBER', 'one', -3)).toEqual(['x', 'x', 'x']);
  });

  it('answers missing keys, zero and bad counts like Redis', async () => {
    expect(raw('SRANDMEMBER', 'none')).toBeNull();
    expect(await db.command('SRANDMEMBER', 'none', 5)).toEqual([]);
    expect(await db.command('SRANDMEMBER', 'none', -5)).toEqual([]);
    expect(await db.command('SRANDMEMBER', 's', 0)).toEqual([]);
    await expect(db.command('SRANDMEMBER', 's', 'x')).rejects.toThrow(
      'ERR value is not an integer or out of range',
    );
    await expect(db.command('SRANDMEMBER', 's', '-9223372036854775808')).rejects.toThrow(
      'ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807',
    );
    await expect(db.command('SRANDMEMBER', 's', 1, 2)).rejects.toThrow('ERR syntax error');
    expect(propagated().filter((argv) => argv[0] !== 'SADD')).toEqual([]);
  });
});

describe('SMOVE', () => {
  beforeEach(async () => {
    await db.command('SADD', 'src', 'a', 'b');
    await db.command('RPUSH', 'l', 'x');
    propagated();
  });

  it('moves a member, creates the destination, deletes an emptied source', async () => {
    expect(await db.command('SMOVE', 'src', 'dst', 'a')).toBe(1);
    expect(await db.command('SMOVE', 'src', 'dst', 'zz')).toBe(0);
    expect(await db.command('SMOVE', 'src', 'dst', 'b')).toBe(1);
    expect(e.server.dbs[0]!.dict.has('src')).toBe(false);
    expect(sorted(await db.command('SMEMBERS', 'dst'))).toEqual(['a', 'b']);
    expect(propagated()).toEqual([
      ['SMOVE', 'src', 'dst', 'a'],
      ['SMOVE', 'src', 'dst', 'b'],
    ]);
  });

  it('same source and destination only checks membership and propagates nothing', async () => {
    expect(await db.command('SMOVE', 'src', 'src', 'a')).toBe(1);
    expect(await db.command('SMOVE', 'src', 'src', 'zz')).toBe(0);
    expect(propagated()).toEqual([]);
  });

  it('a missing source answers 0 before the destination type is checked', async () => {
    expect(await db.command('SMOVE', 'none', 'l', 'a')).toBe(0);
    await expect(db.command('SMOVE', 'src', 'l', 'a')).rejects.toThrow(WRONGTYPE);
    await expect(db.command('SMOVE', 'l', 'src', 'a')).rejects.toThrow(WRONGTYPE);
    expect(await db.command('SCARD', 'src')).toBe(2);
  });
});

describe('SINTER SUNION SDIFF', () => {
  beforeEach(async () => {
    await db.command('SADD', 'a', '1', '2', '3', 'x');
    await db.command('SADD', 'b', '2', '3', '4', 'x');
    await db.command('SADD', 'c', '3', '9');
    await db.command('RPUSH', 'l', 'x');
  });

  it('compute the set algebra, a missing key being an empty set', async () => {
    expect(sorted(await db.command('SINTER', 'a', 'b'))).toEqual(['2', '3', 'x']);
    expect(await db.command('SINTER', 'a', 'b', 'c')).toEqual(['3']);
    expect(await db.command('SINTER', 'a', 'none')).toEqual([]);
    expect(sorted(await db.command('SUNION', 'a', 'c', 'none'))).toEqual(['1', '2', '3', '9', 'x']);
    expect(sorted(await db.command('SDIFF', 'a', 'b'))).toEqual(['1']);
    expect(sorted(await db.command('SDIFF', 'b', 'a', 'c'))).toEqual(['4']);
    expect(await db.command('SDIFF', 'none', 'a')).toEqual([]);
    expect(await db.command('SDIFF', 'a', 'a')).toEqual([]);
    expect(sorted(await db.command('SDIFF', 'a'))).toEqual(['1', '2', '3', 'x']);
  });

  it('check every key type before answering, even after a missing key', async () => {
    await expect(db.command('SINTER', 'none', 'l')).rejects.toThrow(WRONGTYPE);
    await expect(db.command('SINTER', 'l', 'none')).rejects.toThrow(WRONGTYPE);
    await expect(db.command('SUNION', 'a', 'l')).rejects.toThrow(WRONGTYPE);
    await expect(db.command('SDIFF', 'none', 'l')).rejects.toThrow(WRONGTYPE);
  });

  it('SDIFF gives the same result with either of Redis algorithms', async () => {
    // Work estimates (sunionDiffGenericCommand): a small first set picks algorithm 1 (probe the
    // others), a big first set with small subtrahends picks algorithm 2 (copy, then remove).
    const big = Array.from({ length: 200 }, (_, i) => `m${i}`);
    await db.command('SADD', 'big', ...big);
    await db.command('SADD', 'few', 'm1', 'm2', 'zz');
    expect(sorted(await db.command('SDIFF', 'few', 'big'))).toEqual(['zz']);
    expect(sorted(await db.command('SDIFF', 'big', 'few', 'few'))).toEqual(
      sorted(big.filter((m) => m !== 'm1' && m !== 'm2')),
    );
  });
});

describe('SINTERSTORE SUNIONSTORE SDIFFSTORE', () => {
  beforeEach(async () => {
    await db.command('SADD', 's', 'a', '1', '2');
    await db.command('RPUSH', 'l', 'x');
    propagated();
  });

  it('store the result, replacing a key of any type and dropping its TTL', async () => {
    e.server.dbs[0]!.setExpire('l', Date.now() + 100_000);
    expect(await db.command('SUNIONSTORE', 'l', 's')).toBe(3);
    expect(setValue('l')!.type).toBe('set');
    expect(e.server.dbs[0]!.getExpire('l')).toBe(-1);
    expect(await db.command('SINTERSTORE', 'd', 's', 's')).toBe(3);
    expect(await db.command('SDIFFSTORE', 'd2', 's', 'none')).toBe(3);
    expect(sorted(await db.command('SMEMBERS', 'd2'))).toEqual(['1', '2', 'a']);
    expect(propagated()).toEqual([
      ['SUNIONSTORE', 'l', 's'],
      ['SINTERSTORE', 'd', 's', 's'],
      ['SDIFFSTORE', 'd2', 's', 'none'],
    ]);
  });

  it(
    'an empty result deletes an existing ' + 'destination and propagates the command as typed',
    async () => {
      await db.command('SADD', 'd', 'old');
      propagated();
      expect(await db.command('SINTERSTORE', 'd', 's', 'none')).toBe(0);
      expect(e.server.dbs[0]!.dict.has('d')).toBe(false);
      // Again, on the now missing destination: nothing changed, nothing propagated.
      expect(await db.command('SINTERSTORE', 'd', 's', 'none')).toBe(0);
      expect(propagated()).toEqual([['SINTERSTORE', 'd', 's', 'none']]);
      await db.command('SADD', 'd', 'old');
      propagated();
      expect(await db.command('SDIFFSTORE', 'd', 's', 's')).toBe(0);
      expect(await db.command('SUNIONSTORE', 'd', 'none')).toBe(0);
      expect(propagated()).toEqual([['SDIFFSTORE', 'd', 's', 's']]);
    },
  );

  it('refuse a source of another type without touching the destination', async () => {
    await db.command('SADD', 'd', 'old');
    await expect(db.command('SUNIONSTORE', 'd', 'l')).rejects.toThrow(WRONGTYPE);
    await expect(db.command('SINTERSTORE', 'd', 'l')).rejects.toThrow(WRONGTYPE);
    await expect(db.command('SDIFFSTORE', 'd', 'none', 'l')).rejects.toThrow(WRONGTYPE);
    expect(await db.command('SMEMBERS', 'd')).toEqual(['old']);
  });

  it('an intersection of integers is stored sorted (a fresh intset)', async () => {
    await db.command('SADD', 'x', 'q', '30', '10', '20');
    await db.command('SADD', 'y', '20', '10', '30', 'q', '40');
    await db.command('SINTERSTORE', 'd', 'x', 'y');
    await db.command('SREM', 'd', 'q');
    expect(setValue('d')!.encoding).toBe('hashtable');
    await db.command('SINTERSTORE', 'd2', 'x', 'y', 'd');
    expect(await db.command('SMEMBERS', 'd2')).toEqual(['10', '20', '30']);
  });
});
