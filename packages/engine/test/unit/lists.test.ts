// List commands against the replies, error texts and AOF propagation of redis-server 7.0.15
// (every expected value below was checked on a real 7.0.15 server).
import { beforeEach, describe, expect, it } from 'vitest';
import type { Arg, Engine, DbHandle } from '@aofkv/engine';
import { createPrng } from '@aofkv/engine/testing';
import {
  type CommandEngine,
  NOT_INT_MESSAGE as NOT_INT,
  openCommandEngine,
  WRONGTYPE_MESSAGE as WRONGTYPE,
} from '../helpers/command-engine.ts';
import { NIL_ARRAY, type Reply } from '../../src/reply.ts';

let h: CommandEngine;
let e: Engine;
let db: DbHandle;

beforeEach(async () => {
  h = await openCommandEngine({ seed: 1 });
  ({ e, db } = h);
});

/** What reached the AOF since the last call, as argv arrays. */
const propagated = (): string[][] => h.aof();
/** Run a command through the dispatcher and return the raw Reply (tells nil from nil array). */
const raw = (...args: Arg[]): Reply => h.run(...args);

async function list(key: string): Promise<unknown> {
  return db.command('LRANGE', key, 0, -1);
}

describe('LPUSH RPUSH LPUSHX RPUSHX', () => {
  it('push in argument order at each end and reply with the new length', async () => {
    expect(await db.command('RPUSH', 'k', 'a', 'b')).toBe(2);
    expect(await db.command('LPUSH', 'k', 'x', 'y')).toBe(4);
    expect(await list('k')).toEqual(['y', 'x', 'a', 'b']);
    expect(propagated()).toEqual([
      ['RPUSH', 'k', 'a', 'b'],
      ['LPUSH', 'k', 'x', 'y'],
    ]);
  });

  it('the X variants do nothing on a missing key and propagate nothing', async () => {
    expect(await db.command('LPUSHX', 'k', 'a')).toBe(0);
    expect(await db.command('RPUSHX', 'k', 'a')).toBe(0);
    expect(await db.command('LLEN', 'k')).toBe(0);
    await db.command('RPUSH', 'k', 'a');
    expect(await db.command('RPUSHX', 'k', 'b', 'c')).toBe(3);
    expect(await db.command('LPUSHX', 'k', 'z')).toBe(4);
    expect(await list('k')).toEqual(['z', 'a', 'b', 'c']);
    expect(propagated()).toEqual([
      ['RPUSH', 'k', 'a'],
      ['RPUSHX', 'k', 'b', 'c'],
      ['LPUSHX', 'k', 'z'],
    ]);
  });

  it('refuse a key of another type without touching it', async () => {
    await db.command('HSET', 'h', 'f', 'v');
    for (const c of ['LPUSH', 'RPUSH', 'LPUSHX', 'RPUSHX']) {
      await expect(db.command(c, 'h', 'a')).rejects.toThrow(WRONGTYPE);
    }
    expect(await db.command('HGET', 'h', 'f')).toBe('v');
  });

  it('keeps elements binary-safe', async () => {
    const bin = Buffer.from([0x00, 0x0d, 0x0a, 0xff, 0xfe, 0x80]);
    await db.command('RPUSH', 'k', bin, Buffer.from('a\r\nb'));
    expect(await db.commandBuffer('LRANGE', 'k', 0, -1)).toEqual([bin, Buffer.from('a\r\nb')]);
    expect(await db.commandBuffer('LPOS', 'k', bin)).toBe(0);
    // A prefix of an element is a different element.
    expect(await db.commandBuffer('LREM', 'k', 0, bin.subarray(0, 5))).toBe(0);
    expect(propagated()[0]).toEqual(['RPUSH', 'k', bin.toString('latin1'), 'a\r\nb']);
  });
});

describe('LPOP RPOP', () => {
  it('pop one element, or up to count elements in pop order', async () => {
    await db.command('RPUSH', 'k', 'a', 'b', 'c', 'd', 'e');
    expect(await db.command('LPOP', 'k')).toBe('a');
    expect(await db.command('RPOP', 'k', 2)).toEqual(['e', 'd']);
    expect(await db.command('LPOP', 'k', 100)).toEqual(['b', 'c']);
    expect(await db.command('LLEN', 'k')).toBe(0);
    expect(propagated()).toEqual([
      ['RPUSH', 'k', 'a', 'b', 'c', 'd', 'e'],
      ['LPOP', 'k'],
      ['RPOP', 'k', '2'],
      ['LPOP', 'k', '100'],
    ]);
  });

  it('reply nil without count, a nil array with any count (even 0) on a missing key', () => {
    expect(raw('LPOP', 'none')).toBeNull();
    expect(raw('RPOP', 'none', '2')).toBe(NIL_ARRAY);
    expect(raw('LPOP', 'none', '0')).toBe(NIL_ARRAY);
  });

  it('count 0 on an existing list replies an empty array and changes nothing', async () => {
    await db.command('RPUSH', 'k', 'a');
    propagated();
    expect(raw('LPOP', 'k', '0')).toEqual([]);
    expect(await list('k')).toEqual(['a']);
    expect(propagated()).toEqual([]);
  });

  it('refuse a negative or non-integer count with the "must be positive" text', async () => {
    await db.command('RPUSH', 'k', 'a');
    await expect(db.command('LPOP', 'k', -1)).rejects.toThrow(
      'ERR value is out of range, must be positive',
    );
    await expect(db.command('RPOP', 'k', 'abc')).rejects.toThrow(
      'ERR value is out of range, must be positive',
    );
    await expect(db.command('LPOP', 'k', 1, 2)).rejects.toThrow(
      "ERR wrong number of arguments for 'lpop' command",
    );
    // The count is parsed before the type is checked.
    await db.command('HSET', 'h', 'f', 'v');
    await expect(db.command('LPOP', 'h', 'abc')).rejects.toThrow('must be positive');
    await expect(db.command('LPOP', 'h', 2)).rejects.toThrow(WRONGTYPE);
    expect(await list('k')).toEqual(['a']);
  });
});

describe('LRANGE LINDEX LLEN', () => {
  beforeEach(async () => {
    await db.command('RPUSH', 'k', 'a', 'b', 'c', 'd');
  });

  it('normalise ranges like Redis', async () => {
    expect(await db.command('LRANGE', 'k', -100, 100)).toEqual(['a', 'b', 'c', 'd']);
    expect(await db.command('LRANGE', 'k', 1, -2)).toEqual(['b', 'c']);
    expect(await db.command('LRANGE', 'k', 3, 1)).toEqual([]);
    expect(await db.command('LRANGE', 'k', 4, 10)).toEqual([]);
    expect(await db.command('LRANGE', 'k', -1, -1)).toEqual(['d']);
    expect(await db.command('LRANGE', 'k', 0, '9223372036854775807')).toEqual(['a', 'b', 'c', 'd']);
    expect(await db.command('LRANGE', 'none', 0, -1)).toEqual([]);
    await expect(db.command('LRANGE', 'k', 'a', 1)).rejects.toThrow(NOT_INT);
  });

  it('LINDEX looks the key up before parsing the index', async () => {
    expect(await db.command('LINDEX', 'k', -1)).toBe('d');
    expect(await db.command('LINDEX', 'k', 4)).toBeNull();
    expect(await db.command('LINDEX', 'k', -5)).toBeNull();
    expect(await db.command('LINDEX', 'none', 'x')).toBeNull();
    await expect(db.command('LINDEX', 'k', 'x')).rejects.toThrow(NOT_INT);
    await db.command('HSET', 'h', 'f', 'v');
    await expect(db.command('LINDEX', 'h', 'x')).rejects.toThrow(WRONGTYPE);
    await expect(db.command('LLEN', 'h')).rejects.toThrow(WRONGTYPE);
    expect(await db.command('LLEN', 'k')).toBe(4);
  });
});

describe('LSET LREM LTRIM LINSERT', () => {
  beforeEach(async () => {
    await db.command('RPUSH', 'k', 'a', 'b', 'c', 'a', 'b', 'c', 'a');
    propagated();
  });

  it(
    'LSET replaces by index; ' + '"no such key" and WRONGTYPE come before the index is parsed',
    async () => {
      expect(await db.command('LSET', 'k', -1, 'z')).toBe('OK');
      expect(await db.command('LINDEX', 'k', 6)).toBe('z');
      await expect(db.command('LSET', 'k', 7, 'x')).rejects.toThrow('ERR index out of range');
      await expect(db.command('LSET', 'k', 'x', 'y')).rejects.toThrow(NOT_INT);
      await expect(db.command('LSET', 'none', 'x', 'y')).rejects.toThrow('ERR no such key');
      await db.command('HSET', 'h', 'f', 'v');
      await expect(db.command('LSET', 'h', 'x', 'y')).rejects.toThrow(WRONGTYPE);
      expect(propagated()).toEqual([
        ['LSET', 'k', '-1', 'z'],
        ['HSET', 'h', 'f', 'v'],
      ]);
    },
  );

  it(
    'LREM removes from the head, ' + 'the tail, or everywhere, and deletes an emptied list',
    async () => {
      expect(await db.command('LREM', 'k', 1, 'a')).toBe(1);
      expect(await list('k')).toEqual(['b', 'c', 'a', 'b', 'c', 'a']);
      expect(await db.command('LREM', 'k', -1, 'b')).toBe(1);
      expect(await list('k')).toEqual(['b', 'c', 'a', 'c', 'a']);
      expect(await db.command('LREM', 'k', 0, 'a')).toBe(2);
      expect(await list('k')).toEqual(['b', 'c', 'c']);
      expect(await db.command('LREM', 'k', 0, 'zz')).toBe(0);
      expect(await db.command('LREM', 'none', 0, 'a')).toBe(0);
      await expect(db.command('LREM', 'none', 'x', 'a')).rejects.toThrow(NOT_INT);
      expect(await db.command('LREM', 'k', -5, 'c')).toBe(2);
      expect(await db.command('LREM', 'k', 0, 'b')).toBe(1);
      expect(e.server.dbs[0]!.dict.has('k')).toBe(false);
      expect(propagated()).toEqual([
        ['LREM', 'k', '1', 'a'],
        ['LREM', 'k', '-1', 'b'],
        ['LREM', 'k', '0', 'a'],
        ['LREM', 'k', '-5', 'c'],
        ['LREM', 'k', '0', 'b'],
      ]);
    },
  );

  it(
    'LTRIM keeps the range, deletes an emptied list, ' +
      'and propagates only when it removed something',
    async () => {
      expect(await db.command('LTRIM', 'k', 0, -1)).toBe('OK');
      expect(await db.command('LTRIM', 'k', 0, 100)).toBe('OK');
      expect(await db.command('LTRIM', 'none', 0, 1)).toBe('OK');
      expect(propagated()).toEqual([]);
      expect(await db.command('LTRIM', 'k', 1, -2)).toBe('OK');
      expect(await list('k')).toEqual(['b', 'c', 'a', 'b', 'c']);
      expect(await db.command('LTRIM', 'k', 5, 1)).toBe('OK');
      expect(e.server.dbs[0]!.dict.has('k')).toBe(false);
      await expect(db.command('LTRIM', 'none', 'x', 1)).rejects.toThrow(NOT_INT);
      expect(propagated()).toEqual([
        ['LTRIM', 'k', '1', '-2'],
        ['LTRIM', 'k', '5', '1'],
      ]);
    },
  );

  it(
    'LTRIM signals WATCH even when it removed nothing ' + '(Redis always calls signalModifiedKey)',
    async () => {
      const watcher = e.db(0);
      await watcher.command('WATCH', 'k');
      await db.command('LTRIM', 'k', 0, -1);
      await watcher.command('MULTI');
      await watcher.command('LLEN', 'k');
      expect(await watcher.command('EXEC')).toBeNull();
    },
  );

  it('a LINSERT that found no pivot leaves WATCH intact', async () => {
    const watcher = e.db(0);
    await watcher.command('WATCH', 'k');
    await db.command('LINSERT', 'k', 'before', 'nope', 'x');
    await watcher.command('MULTI');
    await watcher.command('LLEN', 'k');
    expect(await watcher.command('EXEC')).toEqual([7]);
  });

  it(
    'LINSERT checks BEFORE|AFTER first, ' +
      'replies -1 for a missing pivot and 0 for a missing key',
    async () => {
      await expect(db.command('LINSERT', 'none', 'middle', 'a', 'b')).rejects.toThrow(
        'ERR syntax error',
      );
      expect(await db.command('LINSERT', 'none', 'before', 'a', 'b')).toBe(0);
      expect(await db.command('LINSERT', 'k', 'BEFORE', 'zz', 'x')).toBe(-1);
      expect(await db.command('LINSERT', 'k', 'BEFORE', 'b', 'x')).toBe(8);
      expect(await db.command('LINSERT', 'k', 'after', 'a', 'y')).toBe(9);
      expect(await list('k')).toEqual(['a', 'y', 'x', 'b', 'c', 'a', 'b', 'c', 'a']);
      await db.command('HSET', 'h', 'f', 'v');
      await expect(db.command('LINSERT', 'h', 'before', 'a', 'b')).rejects.toThrow(WRONGTYPE);
      expect(propagated()).toEqual([
        ['LINSERT', 'k', 'BEFORE', 'b', 'x'],
        ['LINSERT', 'k', 'after', 'a', 'y'],
        ['HSET', 'h', 'f', 'v'],
      ]);
    },
  );

  it(
    'LINSERT inserts next to the first pivot ' + 'from the head, on either side of the middle',
    async () => {
      const items = Array.from({ length: 40 }, (_, i) => `e${i}`);
      await db.command('RPUSH', 'big', ...items);
      await db.command('LINSERT', 'big', 'before', 'e3', 'p');
      await db.command('LINSERT', 'big', 'after', 'e36', 'q');
      const expected = [...items];
      expected.splice(3, 0, 'p');
      expected.splice(expected.indexOf('e36') + 1, 0, 'q');
      expect(await list('big')).toEqual(expected);
    },
  );
});

describe('LMOVE RPOPLPUSH', () => {
  it(
    'move one element between lists, ' + 'creating the destination and deleting an emptied source',
    async () => {
      await db.command('RPUSH', 'src', 'a', 'b');
      expect(await db.command('LMOVE', 'src', 'dst', 'left', 'right')).toBe('a');
      expect(await db.command('RPOPLPUSH', 'src', 'dst')).toBe('b');
      expect(await list('dst')).toEqual(['b', 'a']);
      expect(e.server.dbs[0]!.dict.has('src')).toBe(false);
      expect(await db.command('RPOPLPUSH', 'src', 'dst')).toBeNull();
      expect(propagated()).toEqual([
        ['RPUSH', 'src', 'a', 'b'],
        ['LMOVE', 'src', 'dst', 'left', 'right'],
        ['RPOPLPUSH', 'src', 'dst'],
      ]);
    },
  );

  it('rotate a list onto itself', async () => {
    await db.command('RPUSH', 'k', 'a', 'b', 'c');
    expect(await db.command('RPOPLPUSH', 'k', 'k')).toBe('c');
    expect(await db.command('LMOVE', 'k', 'k', 'LEFT', 'RIGHT')).toBe('c');
    expect(await list('k')).toEqual(['a', 'b', 'c']);
    await db.command('RPUSH', 'one', 'x');
    expect(await db.command('LMOVE', 'one', 'one', 'left', 'left')).toBe('x');
    expect(await list('one')).toEqual(['x']);
  });

  it('check directions before keys, the destination type before moving', async () => {
    await db.command('RPUSH', 'k', 'a');
    await db.command('HSET', 'h', 'f', 'v');
    await expect(db.command('LMOVE', 'none', 'k', 'up', 'right')).rejects.toThrow(
      'ERR syntax error',
    );
    await expect(db.command('LMOVE', 'k', 'h', 'left', 'left')).rejects.toThrow(WRONGTYPE);
    await expect(db.command('RPOPLPUSH', 'h', 'k')).rejects.toThrow(WRONGTYPE);
    expect(await db.command('LMOVE', 'none', 'h', 'left', 'left')).toBeNull();
    expect(await list('k')).toEqual(['a']);
  });
});

describe('LPOS', () => {
  beforeEach(async () => {
    await db.command('RPUSH', 'k', 'a', 'b', 'c', 'a', 'b', 'c', 'a');
  });

  it('finds matches by rank, count and maxlen, always with head-based indexes', async () => {
    expect(await db.command('LPOS', 'k', 'a')).toBe(0);
    expect(await db.command('LPOS', 'k', 'a', 'RANK', 2)).toBe(3);
    expect(await db.command('LPOS', 'k', 'a', 'RANK', -1)).toBe(6);
    expect(await db.command('LPOS', 'k', 'a', 'COUNT', 0)).toEqual([0, 3, 6]);
    expect(await db.command('LPOS', 'k', 'a', 'COUNT', 2)).toEqual([0, 3]);
    expect(await db.command('LPOS', 'k', 'a', 'MAXLEN', 3, 'COUNT', 0)).toEqual([0]);
    expect(await db.command('LPOS', 'k', 'a', 'RANK', -2, 'COUNT', 0)).toEqual([3, 0]);
    expect(await db.command('LPOS', 'k', 'a', 'rank', 1, 'rank', -1)).toBe(6);
    expect(await db.command('LPOS', 'k', 'a', 'RANK', 5)).toBeNull();
    expect(await db.command('LPOS', 'k', 'a', 'RANK', 5, 'COUNT', 0)).toEqual([]);
    expect(await db.command('LPOS', 'k', 'zz')).toBeNull();
    expect(await db.command('LPOS', 'none', 'a')).toBeNull();
    expect(await db.command('LPOS', 'none', 'a', 'COUNT', 1)).toEqual([]);
  });

  it('RANK of LLONG_MIN behaves like -1 (the C negation overflows)', async () => {
    expect(await db.command('LPOS', 'k', 'a', 'RANK', '-9223372036854775808')).toBe(6);
    await expect(db.command('LPOS', 'k', 'a', 'RANK', '9223372036854775808')).rejects.toThrow(
      NOT_INT,
    );
  });

  it('reports option errors before the key type', async () => {
    const rankZero =
      "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... " +
      'or use negative to start from the end of the list';
    await db.command('HSET', 'h', 'f', 'v');
    await expect(db.command('LPOS', 'h', 'a', 'RANK', 0)).rejects.toThrow(rankZero);
    await expect(db.command('LPOS', 'none', 'a', 'RANK', 0)).rejects.toThrow(rankZero);
    await expect(db.command('LPOS', 'k', 'a', 'RANK', 'x')).rejects.toThrow(NOT_INT);
    await expect(db.command('LPOS', 'k', 'a', 'COUNT', -1)).rejects.toThrow(
      "ERR COUNT can't be negative",
    );
    await expect(db.command('LPOS', 'k', 'a', 'COUNT', 'x')).rejects.toThrow(
      "ERR COUNT can't be negative",
    );
    await expect(db.command('LPOS', 'k', 'a', 'MAXLEN', 'x')).rejects.toThrow(
      "ERR MAXLEN can't be negative",
    );
    await expect(db.command('LPOS', 'k', 'a', 'FOO')).rejects.toThrow('ERR syntax error');
    await expect(db.command('LPOS', 'k', 'a', 'RANK')).rejects.toThrow('ERR syntax error');
    await expect(db.command('LPOS', 'h', 'a')).rejects.toThrow(WRONGTYPE);
  });
});

describe('LMPOP', () => {
  it(
    'pops from the first non-empty list and ' + 'propagates LPOP/RPOP with the popped count',
    async () => {
      await db.command('RPUSH', 'l', 'a', 'b', 'c');
      propagated();
      expect(await db.command('LMPOP', 2, 'none', 'l', 'RIGHT', 'COUNT', 2)).toEqual([
        'l',
        ['c', 'b'],
      ]);
      expect(await db.command('LMPOP', 2, 'none', 'l', 'left', 'count', 10)).toEqual(['l', ['a']]);
      expect(raw('LMPOP', '1', 'l', 'left')).toBe(NIL_ARRAY);
      expect(propagated()).toEqual([
        ['RPOP', 'l', '2'],
        ['LPOP', 'l', '1'],
      ]);
    },
  );

  it('validates numkeys, direction and COUNT with the Redis texts', async () => {
    await db.command('RPUSH', 'l', 'a');
    await expect(db.command('LMPOP', 0, 'l', 'left')).rejects.toThrow(
      'ERR numkeys should be greater than 0',
    );
    await expect(db.command('LMPOP', 'x', 'l', 'left')).rejects.toThrow(
      'ERR numkeys should be greater than 0',
    );
    await expect(db.command('LMPOP', 2, 'l', 'left')).rejects.toThrow('ERR syntax error');
    await expect(db.command('LMPOP', 1, 'l', 'up')).rejects.toThrow('ERR syntax error');
    await expect(db.command('LMPOP', 1, 'l', 'left', 'COUNT', 0)).rejects.toThrow(
      'ERR count should be greater than 0',
    );
    await expect(db.command('LMPOP', 1, 'l', 'left', 'COUNT', 'x')).rejects.toThrow(
      'ERR count should be greater than 0',
    );
    await expect(db.command('LMPOP', 1, 'l', 'left', 'COUNT', 1, 'COUNT', 2)).rejects.toThrow(
      'ERR syntax error',
    );
    await expect(db.command('LMPOP', 1, 'l', 'left', 'COUNT')).rejects.toThrow('ERR syntax error');
    await expect(db.command('LMPOP', '9223372036854775807', 'l', 'left')).rejects.toThrow(
      'ERR syntax error',
    );
    await expect(db.command('LMPOP', 1, 'l')).rejects.toThrow(
      "ERR wrong number of arguments for 'lmpop' command",
    );
    expect(await list('l')).toEqual(['a']);
  });

  it(
    'stops at the first key of the wrong type, ' + 'but never looks past the list it pops',
    async () => {
      await db.command('HSET', 'h', 'f', 'v');
      await db.command('RPUSH', 'l', 'a');
      await expect(db.command('LMPOP', 2, 'none', 'h', 'left')).rejects.toThrow(WRONGTYPE);
      expect(await db.command('LMPOP', 2, 'l', 'h', 'left')).toEqual(['l', ['a']]);
    },
  );
});

describe('list state across many operations', () => {
  it('a long push/pop/insert/remove sequence matches an array model', async () => {
    const prng = createPrng(42);
    const model: string[] = [];
    for (let step = 0; step < 3000; step++) {
      const v = `v${prng.nextInt(20)}`;
      switch (prng.nextInt(7)) {
        case 0:
          await db.command('LPUSH', 'k', v);
          model.unshift(v);
          break;
        case 1:
        case 2:
          await db.command('RPUSH', 'k', v, v);
          model.push(v, v);
          break;
        case 3:
          expect(await db.command('LPOP', 'k')).toBe(model.length > 0 ? model.shift()! : null);
          break;
        case 4:
          expect(await db.command('RPOP', 'k', 3)).toEqual(
            model.length > 0 ? model.splice(-3).reverse() : null,
          );
          break;
        case 5: {
          const pivot = `v${prng.nextInt(20)}`;
          const at = model.indexOf(pivot);
          const got = await db.command('LINSERT', 'k', 'after', pivot, v);
          expect(got).toBe(model.length === 0 ? 0 : at === -1 ? -1 : model.length + 1);
          if (at !== -1) model.splice(at + 1, 0, v);
          break;
        }
        case 6: {
          const at = model.lastIndexOf(v);
          expect(await db.command('LREM', 'k', -1, v)).toBe(at === -1 ? 0 : 1);
          if (at !== -1) model.splice(at, 1);
          break;
        }
      }
    }
    expect(await list('k')).toEqual(model);
  });
});
