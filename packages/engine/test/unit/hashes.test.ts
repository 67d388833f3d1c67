// Hash commands against the replies, error texts and AOF propagation of redis-server 7.0.15
// (every expected value below was checked on a real 7.0.15 server).
import { beforeEach, describe, expect, it } from 'vitest';
import type { Engine, DbHandle } from '@aofkv/engine';
import {
  type CommandEngine,
  NOT_INT_MESSAGE as NOT_INT,
  openCommandEngine,
  WRONGTYPE_MESSAGE as WRONGTYPE,
} from '../helpers/command-engine.ts';

let h: CommandEngine;
let e: Engine;
let db: DbHandle;

beforeEach(async () => {
  h = await openCommandEngine();
  ({ e, db } = h);
});

/** What reached the AOF since the last call, as argv arrays. */
const propagated = (): string[][] => h.aof();

describe('HSET HMSET HSETNX', () => {
  it(
    'HSET replies the number of new fields; ' + 'HMSET replies OK; both propagate every time',
    async () => {
      expect(await db.command('HSET', 'h', 'f', 'v', 'f', 'v')).toBe(1);
      expect(await db.command('HSET', 'h', 'f', 'v')).toBe(0);
      expect(await db.command('HMSET', 'h', 'f', 'v', 'g', 'w')).toBe('OK');
      expect(await db.command('HGETALL', 'h')).toEqual(['f', 'v', 'g', 'w']);
      // Redis adds (argc-2)/2 to dirty whatever changed, so a no-op HSET still reaches the AOF.
      expect(propagated()).toEqual([
        ['HSET', 'h', 'f', 'v', 'f', 'v'],
        ['HSET', 'h', 'f', 'v'],
        ['HMSET', 'h', 'f', 'v', 'g', 'w'],
      ]);
    },
  );

  it('refuse an odd number of arguments with the arity error of the command typed', async () => {
    await expect(db.command('HSET', 'h', 'f', 'v', 'f2')).rejects.toThrow(
      "ERR wrong number of arguments for 'hset' command",
    );
    await expect(db.command('HMSET', 'h', 'f', 'v', 'g')).rejects.toThrow(
      "ERR wrong number of arguments for 'hmset' command",
    );
    await expect(db.command('HSET', 'h', 'f')).rejects.toThrow(
      "ERR wrong number of arguments for 'hset' command",
    );
    expect(await db.command('HLEN', 'h')).toBe(0);
    expect(propagated()).toEqual([]);
  });

  it('HSETNX sets only a missing field and propagates only then', async () => {
    expect(await db.command('HSETNX', 'h', 'f', 'v')).toBe(1);
    expect(await db.command('HSETNX', 'h', 'f', 'other')).toBe(0);
    expect(await db.command('HGET', 'h', 'f')).toBe('v');
    expect(propagated()).toEqual([['HSETNX', 'h', 'f', 'v']]);
  });

  it(
    'keep fields in insertion order, an overwritten ' + 'field keeping its place (listpack order)',
    async () => {
      await db.command('HSET', 'h', 'a', '1', 'b', '2', 'c', '3');
      await db.command('HSET', 'h', 'a', 'x');
      await db.command('HDEL', 'h', 'b');
      await db.command('HSET', 'h', 'b', '4');
      expect(await db.command('HKEYS', 'h')).toEqual(['a', 'c', 'b']);
      expect(await db.command('HVALS', 'h')).toEqual(['x', '3', '4']);
      expect(await db.command('HGETALL', 'h')).toEqual(['a', 'x', 'c', '3', 'b', '4']);
    },
  );

  it('are binary-safe in fields and values', async () => {
    const field = Buffer.from([0xff, 0x00, 0x0d, 0x0a]);
    const value = Buffer.from([0x80, 0x00, 0xc3]);
    await db.command('HSET', 'h', field, value);
    expect(await db.commandBuffer('HGET', 'h', field)).toEqual(value);
    expect(await db.commandBuffer('HGETALL', 'h')).toEqual([field, value]);
    expect(await db.command('HSTRLEN', 'h', field)).toBe(3);
    expect(await db.command('HEXISTS', 'h', field.subarray(0, 3))).toBe(0);
  });
});

describe('reads', () => {
  beforeEach(async () => {
    await db.command('HSET', 'h', 'a', '1', 'b', '2.5', 'c', 'x');
    await db.command('RPUSH', 'list', 'x');
  });

  it('answer for missing keys and fields like Redis', async () => {
    expect(await db.command('HGET', 'h', 'nope')).toBeNull();
    expect(await db.command('HGET', 'none', 'f')).toBeNull();
    expect(await db.command('HMGET', 'h', 'a', 'nope', 'c')).toEqual(['1', null, 'x']);
    expect(await db.command('HMGET', 'none', 'a', 'b')).toEqual([null, null]);
    expect(await db.command('HEXISTS', 'h', 'a')).toBe(1);
    expect(await db.command('HEXISTS', 'none', 'a')).toBe(0);
    expect(await db.command('HLEN', 'h')).toBe(3);
    expect(await db.command('HLEN', 'none')).toBe(0);
    expect(await db.command('HSTRLEN', 'h', 'b')).toBe(3);
    expect(await db.command('HSTRLEN', 'h', 'z')).toBe(0);
    expect(await db.command('HKEYS', 'none')).toEqual([]);
    expect(await db.command('HVALS', 'none')).toEqual([]);
    expect(await db.command('HGETALL', 'none')).toEqual([]);
  });

  it('refuse a key of another type', async () => {
    for (const args of [
      ['HGET', 'list', 'f'],
      ['HMGET', 'list', 'f'],
      ['HEXISTS', 'list', 'f'],
      ['HLEN', 'list'],
      ['HSTRLEN', 'list', 'f'],
      ['HKEYS', 'list'],
      ['HVALS', 'list'],
      ['HGETALL', 'list'],
      ['HSET', 'list', 'f', 'v'],
      ['HSETNX', 'list', 'f', 'v'],
      ['HDEL', 'list', 'f'],
    ]) {
      await expect(db.command(args[0]!, ...args.slice(1))).rejects.toThrow(WRONGTYPE);
    }
  });
});

describe('HDEL', () => {
  it(
    'counts removed fields, ' + 'deletes the emptied hash and propagates only real deletions',
    async () => {
      await db.command('HSET', 'h', 'f', 'v', 'g', 'w', 'n', 'x');
      propagated();
      expect(await db.command('HDEL', 'h', 'nope')).toBe(0);
      expect(await db.command('HDEL', 'none', 'f')).toBe(0);
      expect(propagated()).toEqual([]);
      expect(await db.command('HDEL', 'h', 'f', 'f', 'g', 'n')).toBe(3);
      expect(e.server.dbs[0]!.dict.has('h')).toBe(false);
      expect(propagated()).toEqual([['HDEL', 'h', 'f', 'f', 'g', 'n']]);
    },
  );
});

describe('HINCRBY', () => {
  it('adds with 64-bit range checks', async () => {
    expect(await db.command('HINCRBY', 'h', 'n', 5)).toBe(5);
    expect(await db.command('HINCRBY', 'h', 'n', -7)).toBe(-2);
    expect(await db.command('HINCRBY', 'h', 'big', '9223372036854775807')).toBe(
      9223372036854775807n,
    );
    await expect(db.command('HINCRBY', 'h', 'big', 1)).rejects.toThrow(
      'ERR increment or decrement would overflow',
    );
    expect(await db.command('HINCRBY', 'h', 'big', '-9223372036854775808')).toBe(-1);
    expect(await db.command('HINCRBY', 'h', 'neg', '-9223372036854775808')).toBe(
      -9223372036854775808n,
    );
    await expect(db.command('HINCRBY', 'h', 'neg', -1)).rejects.toThrow(
      'ERR increment or decrement would overflow',
    );
    expect(await db.command('HGET', 'h', 'neg')).toBe('-9223372036854775808');
    expect(await db.command('HINCRBY', 'h', 'safe', '9007199254740991')).toBe(9007199254740991);
    expect(await db.command('HINCRBY', 'h', 'safe', 1)).toBe(9007199254740992n);
    expect(await db.command('HGET', 'h', 'safe')).toBe('9007199254740992');
    expect(await db.command('HINCRBY', 'h2', 'f', 0)).toBe(0);
    expect(await db.command('HGET', 'h2', 'f')).toBe('0');
  });

  it('refuses a bad increment before the key type, and a non-integer stored value', async () => {
    await db.command('RPUSH', 'list', 'x');
    await db.command(
      'HSET',
      'h',
      'float',
      '2.5',
      'lead',
      '01',
      'plus',
      '+1',
      'negzero',
      '-0',
      'space',
      ' 1',
    );
    propagated();
    await expect(db.command('HINCRBY', 'list', 'a', 'x')).rejects.toThrow(NOT_INT);
    await expect(db.command('HINCRBY', 'list', 'a', 1)).rejects.toThrow(WRONGTYPE);
    await expect(db.command('HINCRBY', 'h', 'a', '12345678901234567890')).rejects.toThrow(NOT_INT);
    await expect(db.command('HINCRBY', 'h', 'a', '+1')).rejects.toThrow(NOT_INT);
    for (const field of ['float', 'lead', 'plus', 'negzero', 'space']) {
      await expect(db.command('HINCRBY', 'h', field, 1)).rejects.toThrow(
        'ERR hash value is not an integer',
      );
    }
    expect(propagated()).toEqual([]);
  });

  it('propagates as typed', async () => {
    await db.command('HINCRBY', 'h', 'n', 5);
    expect(propagated()).toEqual([['HINCRBY', 'h', 'n', '5']]);
  });
});

describe('HINCRBYFLOAT', () => {
  it('computes in long double and propagates HSET with the stored text', async () => {
    await db.command(
      'HSET',
      'h',
      'a',
      '1',
      'b',
      '2.5',
      'hex',
      '0x1p3',
      'exp',
      '1e3',
      'lead',
      '01',
      'm',
      '-0',
    );
    propagated();
    expect(await db.command('HINCRBYFLOAT', 'h', 'a', '1.5')).toBe('2.5');
    expect(await db.command('HINCRBYFLOAT', 'h', 'b', '0.1')).toBe('2.6');
    expect(await db.command('HINCRBYFLOAT', 'h', 'hex', '1')).toBe('9');
    expect(await db.command('HINCRBYFLOAT', 'h', 'exp', '1')).toBe('1001');
    expect(await db.command('HINCRBYFLOAT', 'h', 'lead', '1')).toBe('2');
    expect(await db.command('HINCRBYFLOAT', 'h', 'm', '1')).toBe('1');
    expect(await db.command('HINCRBYFLOAT', 'h', 'new', '3.0')).toBe('3');
    expect(await db.command('HINCRBYFLOAT', 'h', 'zero', '-0')).toBe('0');
    expect(await db.command('HINCRBYFLOAT', 'h', 'tiny', '1e-400')).toBe('0');
    expect(await db.command('HINCRBYFLOAT', 'h', 'x', '1.10')).toBe('1.1');
    expect(propagated()).toEqual([
      ['HSET', 'h', 'a', '2.5'],
      ['HSET', 'h', 'b', '2.6'],
      ['HSET', 'h', 'hex', '9'],
      ['HSET', 'h', 'exp', '1001'],
      ['HSET', 'h', 'lead', '2'],
      ['HSET', 'h', 'm', '1'],
      ['HSET', 'h', 'new', '3'],
      ['HSET', 'h', 'zero', '0'],
      ['HSET', 'h', 'tiny', '0'],
      ['HSET', 'h', 'x', '1.1'],
    ]);
  });

  it('goes beyond the double range like the x87 long double does', async () => {
    const once = await db.command('HINCRBYFLOAT', 'h', 'big', '1e308');
    expect(once).toBe(
      `999999999999999999966858796558456456605600998474155672077970479949217348688380618721001` +
        `269218885393204467472250540132231521347495939605835974208144301964187679591000196031907` +
        `786631096045071066679391533957889389145605435630612683649016186302170865892534448816237` +
        `91300855757318142424510452728255046343928578048`,
    );
    const twice = (await db.command('HINCRBYFLOAT', 'h', 'big', '1e308')) as string;
    expect(twice).toHaveLength(309);
    expect(
      twice.startsWith(
        '1999999999999999999933717593116912913211201996948311344155940959898434697376761237442',
      ),
    ).toBe(true);
  });

  it('uses the hash-specific error texts, in Redis order', async () => {
    await db.command('RPUSH', 'list', 'x');
    await db.command('HSET', 'h', 'c', 'x', 'sp', ' 1', 'sp2', '1 ', 'inf', 'inf');
    propagated();
    await expect(db.command('HINCRBYFLOAT', 'h', 'a', 'x')).rejects.toThrow(
      'ERR value is not a valid float',
    );
    await expect(db.command('HINCRBYFLOAT', 'h', 'a', 'nan')).rejects.toThrow(
      'ERR value is not a valid float',
    );
    await expect(db.command('HINCRBYFLOAT', 'h', 'a', ' 1')).rejects.toThrow(
      'ERR value is not a valid float',
    );
    await expect(db.command('HINCRBYFLOAT', 'h', 'a', 'inf')).rejects.toThrow(
      'ERR value is NaN or Infinity',
    );
    await expect(db.command('HINCRBYFLOAT', 'h', 'a', '-infinity')).rejects.toThrow(
      'ERR value is NaN or Infinity',
    );
    await expect(db.command('HINCRBYFLOAT', 'list', 'a', 'x')).rejects.toThrow(
      'ERR value is not a valid float',
    );
    await expect(db.command('HINCRBYFLOAT', 'list', 'a', '1')).rejects.toThrow(WRONGTYPE);
    for (const field of ['c', 'sp', 'sp2']) {
      await expect(db.command('HINCRBYFLOAT', 'h', field, '1')).rejects.toThrow(
        'ERR hash value is not a float',
      );
    }
    await expect(db.command('HINCRBYFLOAT', 'h', 'inf', '1')).rejects.toThrow(
      'ERR increment would produce NaN or Infinity',
    );
    await expect(db.command('HINCRBYFLOAT', 'none', 'f', 'abc')).rejects.toThrow(
      'ERR value is not a valid float',
    );
    expect(e.server.dbs[0]!.dict.has('none')).toBe(false);
    expect(propagated()).toEqual([]);
  });
});
