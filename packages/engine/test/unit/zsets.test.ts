// Sorted-set commands against the replies, error texts and AOF propagation of redis-server 7.0.15.
// Every expected value below was checked on a real 7.0.15 server (redis-cli, and the AOF file it
// wrote with appendonly yes).

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEngine, type Arg, type DbHandle, type Engine } from '@aofkv/engine';
import { toBin } from '../../src/bytes.ts';
import { NIL_ARRAY, type Reply } from '../../src/reply.ts';
import type { RZSet } from '../../src/keyspace/zset.ts';

const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
const NOT_FLOAT = 'ERR value is not a valid float';
const NOT_INT = 'ERR value is not an integer or out of range';
const SYNTAX = 'ERR syntax error';
const MINMAX_FLOAT = 'ERR min or max is not a float';
const MINMAX_LEX = 'ERR min or max not valid string range item';
const POSITIVE = 'ERR value is out of range, must be positive';
const LONG65 = 'x'.repeat(65);

let e: Engine;
let db: DbHandle;
let fed: string[][];
let now = 1_700_000_000_000;

beforeEach(async () => {
  now = 1_700_000_000_000;
  let seed = 1;
  e = await openEngine({
    appendonly: false,
    clock: { nowMs: () => now },
    random: () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646,
  });
  db = e.db(0);
  fed = [];
  e.server.sink = { feed: (_dbId, argv) => fed.push([...argv]) };
});

afterEach(async () => {
  await e.close();
});

const cmd = (...args: Arg[]): Promise<unknown> => db.command(String(args[0]), ...args.slice(1));

/** The command's error text (the promise must reject). */
async function err(...args: Arg[]): Promise<string> {
  try {
    await cmd(...args);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`${args.join(' ')} did not fail`);
}

/** Run a command and return what it propagated (MULTI/EXEC included), resetting the capture. */
async function propagation(...args: Arg[]): Promise<string[][]> {
  fed = [];
  await cmd(...args).catch(() => undefined);
  const out = fed;
  fed = [];
  return out;
}

/** Raw reply (distinguishes a nil array from a nil bulk string). */
function raw(...args: Arg[]): Reply {
  return e.server.execute(
    e.server.createClient(0),
    args.map((a) => toBin(a)),
  );
}

function zsetValue(key: string): RZSet | undefined {
  return e.server.dbs[0]!.dict.get(key) as RZSet | undefined;
}

describe('ZADD', () => {
  it('counts added members, or added + updated with CH', async () => {
    // the last score of a repeated member wins
    expect(await cmd('ZADD', 'z', 1, 'a', 2, 'b', 3, 'a')).toBe(2);
    expect(await cmd('ZSCORE', 'z', 'a')).toBe('3');
    expect(await cmd('ZADD', 'z', 1, 'a', 2, 'b')).toBe(0);
    expect(await cmd('ZADD', 'z', 'CH', 5, 'a', 2, 'b', 7, 'c')).toBe(2);
    expect(await cmd('ZRANGE', 'z', 0, -1, 'WITHSCORES')).toEqual(['b', '2', 'a', '5', 'c', '7']);
  });

  it(
    'applies NX, XX, GT and LT per element ' + '(GT/LT never prevent adding a new member)',
    async () => {
      await cmd('ZADD', 'z', 1, 'a', 5, 'b');
      expect(await cmd('ZADD', 'z', 'NX', 9, 'a', 3, 'c')).toBe(1);
      expect(await cmd('ZADD', 'z', 'XX', 'CH', 9, 'a', 3, 'd')).toBe(1);
      expect(await cmd('ZADD', 'z', 'GT', 'CH', 1, 'a', 10, 'b', 1, 'e')).toBe(2);
      expect(await cmd('ZADD', 'z', 'LT', 'CH', 100, 'b', 0, 'c')).toBe(1);
      expect(await cmd('ZADD', 'z', 'XX', 'GT', 'CH', 20, 'a', 20, 'zz')).toBe(1);
      expect(await cmd('ZRANGE', 'z', 0, -1, 'WITHSCORES')).toEqual([
        'c',
        '0',
        'e',
        '1',
        'b',
        '10',
        'a',
        '20',
      ]);
    },
  );

  it('with INCR returns the new score, or nil when NX/XX/GT/LT aborted it', async () => {
    expect(await cmd('ZADD', 'z', 'INCR', 'NX', 1, 'a')).toBe('1');
    expect(await cmd('ZADD', 'z', 'INCR', 'NX', 1, 'a')).toBeNull();
    expect(await cmd('ZADD', 'z', 'INCR', 'XX', 1, 'b')).toBeNull();
    expect(await cmd('ZADD', 'z', 'INCR', 'GT', -5, 'a')).toBeNull();
    expect(await cmd('ZADD', 'z', 'INCR', 'LT', -5, 'a')).toBe('-4');
    expect(await cmd('ZADD', 'z', 'INCR', 'LT', 0, 'a')).toBeNull();
    expect(await cmd('ZADD', 'z', 'CH', 'INCR', 2.5, 'a')).toBe('-1.5');
    expect(await cmd('ZADD', 'nz', 'XX', 'INCR', 1, 'a')).toBeNull();
    expect(await cmd('EXISTS', 'nz')).toBe(0); // XX on a missing key creates nothing
  });

  it('validates everything, in Redis order, before touching the key', async () => {
    await cmd('SET', 'str', 'v');
    expect(await err('ZADD', 'z', 'NX')).toBe("ERR wrong number of arguments for 'zadd' command");
    expect(await err('ZADD', 'z', 'XX', 'NX')).toBe(SYNTAX); // no pair at all comes first
    expect(await err('ZADD', 'z', 1, 'a', 2)).toBe(SYNTAX);
    expect(await err('ZADD', 'z', 'NX', 'XX', 'INCR', 1, 'a', 2, 'b')).toBe(
      'ERR XX and NX options at the same time are not compatible',
    );
    expect(await err('ZADD', 'z', 'XX', 'NX', 'GT', 1, 'a')).toBe(
      'ERR XX and NX options at the same time are not compatible',
    );
    for (const flags of [
      ['NX', 'GT'],
      ['GT', 'LT'],
      ['LT', 'NX'],
    ]) {
      expect(await err('ZADD', 'z', ...flags, 1, 'a')).toBe(
        'ERR GT, LT, and/or NX options at the same time are not compatible',
      );
    }
    expect(await err('ZADD', 'z', 'INCR', 1, 'a', 2, 'b')).toBe(
      'ERR INCR option supports a single increment-element pair',
    );
    expect(await err('ZADD', 'z', 1, 'a', 'x', 'b')).toBe(NOT_FLOAT);
    expect(await cmd('EXISTS', 'z')).toBe(0); // "a" was not added before the bad score was seen
    // the score is checked before the type
    expect(await err('ZADD', 'str', 'x', 'a')).toBe(NOT_FLOAT);
    expect(await err('ZADD', 'str', 1, 'a')).toBe(WRONGTYPE);
    expect(await err('ZINCRBY', 'z', 'x', 'a')).toBe(NOT_FLOAT);
    expect(await err('ZINCRBY', 'str', 1, 'a')).toBe(WRONGTYPE);
  });
});

describe('scores', () => {
  it('are replied with %.17g, inf and -inf', async () => {
    await cmd('ZADD', 'z', 1.1, 'd', '1e-310', 'a', 'inf', 'c', '-inf', 'm', '0x10', 'b');
    expect(await cmd('ZRANGE', 'z', 0, -1, 'WITHSCORES')).toEqual([
      'm',
      '-inf',
      'a',
      '9.9999999999999694e-311',
      'd',
      '1.1000000000000001',
      'b',
      '16',
      'c',
      'inf',
    ]);
    expect(await cmd('ZMSCORE', 'z', 'd', 'nope', 'c')).toEqual([
      '1.1000000000000001',
      null,
      'inf',
    ]);
  });

  it('round exact ties to even like printf (V8 rounds them away from zero)', async () => {
    // 18 significant digits ending in 5: %.17g keeps an even 17th digit, rounds an odd one up.
    await cmd(
      'ZADD',
      't',
      '562949953421312.125',
      'm',
      '562949953421312.375',
      'n',
      '-562949953421312.125',
      'o',
    );
    expect(await cmd('ZRANGE', 't', 0, -1, 'WITHSCORES')).toEqual([
      'o',
      '-562949953421312.12',
      'm',
      '562949953421312.12',
      'n',
      '562949953421312.38',
    ]);
  });

  it(
    'parse like Redis string2d: hex and infinities yes; ' +
      'spaces, NaN, overflow and underflow to 0 no',
    async () => {
      for (const ok of [
        '0x1p3',
        '-0x10',
        '0x.8',
        '.5',
        '5.',
        '+5',
        '-.5e1',
        'INFINITY',
        '+inf',
        '-Infinity',
        '3e-324',
      ]) {
        expect(await cmd('ZADD', 'ok', ok, `m${ok}`)).toBe(1);
      }
      expect(await cmd('ZSCORE', 'ok', 'm0x.8')).toBe('0.5');
      expect(await cmd('ZSCORE', 'ok', 'm3e-324')).toBe('4.9406564584124654e-324');
      for (const bad of [
        ' 1',
        '1 ',
        '',
        'nan',
        '1e400',
        '1e-400',
        '2e-324',
        '0x',
        '0x1p',
        '1e',
        '1.5e-3x',
        '0x1p-1080',
      ]) {
        expect(await err('ZADD', 'bad', bad, 'm')).toBe(NOT_FLOAT);
      }
    },
  );

  it('keep -0 only in a skiplist-encoded set: a listpack (small set) stores it as 0', async () => {
    expect(await cmd('ZADD', 'small', '-0', 'm')).toBe(1);
    expect(await cmd('ZSCORE', 'small', 'm')).toBe('0');
    expect(await cmd('ZADD', 'big', '-0', LONG65)).toBe(1); // a 65-byte member makes a skiplist
    expect(await cmd('ZSCORE', 'big', LONG65)).toBe('-0');
    expect(await cmd('ZINCRBY', 'big', '-0', LONG65)).toBe('-0');
    expect(await cmd('ZADD', 'big', 0, LONG65)).toBe(0); // 0 == -0: unchanged
    expect(await cmd('ZSCORE', 'big', LONG65)).toBe('-0');
    // Redis 7.0 picks the encoding from the first member; later members convert it.
    expect(await cmd('ZADD', 'mixed', '-0', 'a', 1, LONG65)).toBe(2);
    expect(await cmd('ZSCORE', 'mixed', 'a')).toBe('0');
    expect(zsetValue('mixed')!.encoding).toBe('skiplist');
    // INCR replies with the computed score even though the listpack stores 0.
    expect(await cmd('ZADD', 'small2', 'INCR', '-0', 'n')).toBe('-0');
    expect(await cmd('ZSCORE', 'small2', 'n')).toBe('0');
  });

  it('ZINCRBY refuses a NaN result and changes nothing', async () => {
    await cmd('ZADD', 'z', 'inf', 'c');
    expect(await propagation('ZINCRBY', 'z', '-inf', 'c')).toEqual([]);
    expect(await err('ZINCRBY', 'z', '-inf', 'c')).toBe(
      'ERR resulting score is not a number (NaN)',
    );
    expect(await cmd('ZSCORE', 'z', 'c')).toBe('inf');
    expect(await cmd('ZINCRBY', 'z', 1, 'new')).toBe('1');
  });
});

describe('ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK', () => {
  it('answer for present, absent and wrong-type keys', async () => {
    await cmd('ZADD', 'z', 1, 'a', 2, 'b', 3, 'c');
    await cmd('SET', 'str', 'v');
    expect(await cmd('ZCARD', 'z')).toBe(3);
    expect(await cmd('ZCARD', 'nokey')).toBe(0);
    expect(await cmd('ZRANK', 'z', 'c')).toBe(2);
    expect(await cmd('ZREVRANK', 'z', 'c')).toBe(0);
    expect(await cmd('ZRANK', 'z', 'nope')).toBeNull();
    expect(await cmd('ZRANK', 'nokey', 'a')).toBeNull();
    expect(await err('ZRANK', 'z', 'a', 'WITHSCORE')).toBe(
      "ERR wrong number of arguments for 'zrank' command",
    );
    expect(await cmd('ZSCORE', 'nokey', 'a')).toBeNull();
    expect(await cmd('ZMSCORE', 'nokey', 'a', 'b')).toEqual([null, null]);
    for (const c of ['ZCARD', 'ZSCORE', 'ZMSCORE', 'ZRANK', 'ZREVRANK', 'ZREM']) {
      expect(await err(c, 'str', ...(c === 'ZCARD' ? [] : ['a']))).toBe(WRONGTYPE);
    }
  });

  it('ZREM deletes the key with its last member', async () => {
    await cmd('ZADD', 'z', 1, 'a', 2, 'b');
    expect(await cmd('ZREM', 'z', 'a', 'nope')).toBe(1);
    expect(await cmd('ZREM', 'nokey', 'a')).toBe(0);
    expect(await cmd('ZREM', 'z', 'b', 'a')).toBe(1);
    expect(await cmd('EXISTS', 'z')).toBe(0);
  });
});

describe('ZRANGE and its older forms', () => {
  beforeEach(async () => {
    await cmd('ZADD', 'z', 1, 'a', 2, 'b', 3, 'c', 4, 'd', 5, 'e');
  });

  it('clamps rank ranges like LRANGE, in both directions', async () => {
    expect(await cmd('ZRANGE', 'z', -100, 100)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await cmd('ZRANGE', 'z', 3, 1)).toEqual([]);
    expect(await cmd('ZRANGE', 'z', 10, 20)).toEqual([]);
    expect(await cmd('ZRANGE', 'z', -2, -1, 'WITHSCORES')).toEqual(['d', '4', 'e', '5']);
    expect(await cmd('ZRANGE', 'z', 0, 1, 'REV', 'WITHSCORES')).toEqual(['e', '5', 'd', '4']);
    expect(await cmd('ZREVRANGE', 'z', 1, 2)).toEqual(['d', 'c']);
    expect(await cmd('ZRANGE', 'z', '-9223372036854775808', '9223372036854775807')).toEqual([
      'a',
      'b',
      'c',
      'd',
      'e',
    ]);
    // count -1 = no LIMIT
    expect(await cmd('ZRANGE', 'z', 0, -1, 'LIMIT', 5, -1)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await cmd('ZRANGE', 'nokey', 0, -1)).toEqual([]);
  });

  it(
    'takes score ranges with exclusive bounds, ' +
      'infinities, LIMIT and REV (bounds given max first)',
    async () => {
      expect(await cmd('ZRANGE', 'z', '(1', 3, 'BYSCORE')).toEqual(['b', 'c']);
      expect(await cmd('ZRANGE', 'z', '(-inf', '(+inf', 'BYSCORE')).toEqual([
        'a',
        'b',
        'c',
        'd',
        'e',
      ]);
      // negative count: all
      expect(await cmd('ZRANGE', 'z', '(1', 5, 'BYSCORE', 'LIMIT', 1, -5)).toEqual(['c', 'd', 'e']);
      // negative offset: nothing
      expect(await cmd('ZRANGE', 'z', '(1', 3, 'BYSCORE', 'LIMIT', -1, 2)).toEqual([]);
      expect(
        await cmd('ZRANGE', 'z', 5, '(1', 'BYSCORE', 'REV', 'LIMIT', 1, 2, 'WITHSCORES'),
      ).toEqual(['d', '4', 'c', '3']);
      expect(await cmd('ZRANGEBYSCORE', 'z', 2, 4, 'LIMIT', 0, 2, 'WITHSCORES')).toEqual([
        'b',
        '2',
        'c',
        '3',
      ]);
      expect(
        await cmd('ZREVRANGEBYSCORE', 'z', '+inf', '-inf', 'WITHSCORES', 'LIMIT', 1, 2),
      ).toEqual(['d', '4', 'c', '3']);
      expect(await cmd('ZREVRANGEBYSCORE', 'z', 1, 2)).toEqual([]);
      // zslParseRange uses plain strtod: "" is 0, leading spaces and hex are fine, NUL ends the
      // string.
      expect(await cmd('ZRANGE', 'z', '', 1, 'BYSCORE')).toEqual(['a']);
      expect(await cmd('ZRANGE', 'z', '(', 1, 'BYSCORE')).toEqual(['a']);
      expect(await cmd('ZRANGE', 'z', ' 1', '0x2', 'BYSCORE')).toEqual(['a', 'b']);
      expect(await cmd('ZRANGE', 'z', '1e400', '-1e400', 'BYSCORE', 'REV')).toEqual([
        'e',
        'd',
        'c',
        'b',
        'a',
      ]);
      expect(await cmd('ZCOUNT', 'z', '1\x00abc', 5)).toBe(5);
    },
  );

  it('takes lex ranges', async () => {
    await cmd('ZADD', 'l', 0, 'a', 0, 'b', 0, 'c', 0, 'd', 0, 'e');
    expect(await cmd('ZRANGEBYLEX', 'l', '[b', '(d')).toEqual(['b', 'c']);
    expect(await cmd('ZRANGEBYLEX', 'l', '-', '+', 'LIMIT', 1, 2)).toEqual(['b', 'c']);
    expect(await cmd('ZREVRANGEBYLEX', 'l', '+', '-', 'LIMIT', 1, 2)).toEqual(['d', 'c']);
    expect(await cmd('ZRANGE', 'l', '[c', '[b', 'BYLEX', 'REV')).toEqual(['c', 'b']);
    expect(await cmd('ZRANGEBYLEX', 'l', '+', '-')).toEqual([]);
    expect(await cmd('ZRANGEBYLEX', 'l', '(', '+')).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await cmd('ZLEXCOUNT', 'l', '[b', '+')).toBe(4);
  });

  it('refuses bad combinations and values with Redis 7.0 texts', async () => {
    await cmd('SET', 'str', 'v');
    expect(await err('ZRANGE', 'z', 0, -1, 'LIMIT', 0, 2)).toBe(
      'ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX',
    );
    expect(await err('ZREVRANGE', 'z', 0, 1, 'LIMIT', 0, 1)).toBe(
      'ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX',
    );
    expect(await err('ZRANGE', 'z', '-', '+', 'WITHSCORES', 'BYLEX')).toBe(
      'ERR syntax error, WITHSCORES not supported in combination with BYLEX',
    );
    expect(await err('ZRANGEBYLEX', 'z', '-', '+', 'WITHSCORES')).toBe(
      'ERR syntax error, WITHSCORES not supported in combination with BYLEX',
    );
    for (const extra of [
      ['BYSCORE', 'BYSCORE'],
      ['BYSCORE', 'BYLEX'],
      ['REV', 'REV'],
      ['LIMIT', 1],
    ]) {
      expect(await err('ZRANGE', 'z', 0, 1, ...extra)).toBe(SYNTAX);
    }
    expect(await err('ZRANGEBYSCORE', 'z', 1, 2, 'REV')).toBe(SYNTAX);
    expect(await err('ZRANGE', 'z', 1, 'x')).toBe(NOT_INT);
    expect(await err('ZRANGE', 'z', 0, 5, 'BYSCORE', 'LIMIT', 'x', 1)).toBe(NOT_INT);
    for (const bad of ['x', 'nan', '(nan', '1abc', '((1', ' ', '+']) {
      expect(await err('ZRANGE', 'z', bad, 1, 'BYSCORE')).toBe(MINMAX_FLOAT);
    }
    for (const bad of ['a', '-x', ''])
      expect(await err('ZRANGEBYLEX', 'z', bad, '+')).toBe(MINMAX_LEX);
    // the range is parsed before the type check
    expect(await err('ZRANGE', 'str', 'x', 1)).toBe(NOT_INT);
    expect(await err('ZRANGE', 'str', 0, -1)).toBe(WRONGTYPE);
    expect(await err('ZCOUNT', 'str', 'x', 1)).toBe(MINMAX_FLOAT);
    expect(await err('ZCOUNT', 'str', 1, 2)).toBe(WRONGTYPE);
  });

  it('ZCOUNT counts a score range', async () => {
    expect(await cmd('ZCOUNT', 'z', '(1', '+inf')).toBe(4);
    expect(await cmd('ZCOUNT', 'z', 3, 1)).toBe(0);
    expect(await cmd('ZCOUNT', 'z', '(1', '(1')).toBe(0);
    expect(await cmd('ZCOUNT', 'nokey', 1, 2)).toBe(0);
  });
});

describe('ZPOPMIN ZPOPMAX ZMPOP', () => {
  beforeEach(async () => {
    await cmd('ZADD', 'z', 1, 'a', 2, 'b', 3, 'c', 4, 'd', 5, 'e');
    await cmd('SET', 'str', 'v');
  });

  it('pop one or count entries as a flat array and delete the emptied key', async () => {
    expect(await cmd('ZPOPMAX', 'z')).toEqual(['e', '5']);
    expect(await cmd('ZPOPMIN', 'z', 2)).toEqual(['a', '1', 'b', '2']);
    expect(await cmd('ZPOPMIN', 'z', 0)).toEqual([]);
    expect(await cmd('ZPOPMAX', 'z', 100)).toEqual(['d', '4', 'c', '3']);
    expect(await cmd('EXISTS', 'z')).toBe(0);
    expect(await cmd('ZPOPMIN', 'nokey')).toEqual([]);
    expect(raw('ZPOPMIN', 'nokey')).toEqual([]);
  });

  it(
    'check the count before the type, ' + 'with the "must be positive" text for non-integers too',
    async () => {
      expect(await err('ZPOPMIN', 'z', -1)).toBe(POSITIVE);
      expect(await err('ZPOPMIN', 'z', 'x')).toBe(POSITIVE);
      expect(await err('ZPOPMIN', 'str', -1)).toBe(POSITIVE);
      expect(await err('ZPOPMIN', 'str', 0)).toBe(WRONGTYPE);
      expect(await err('ZPOPMAX', 'z', 1, 2)).toBe(SYNTAX);
    },
  );

  it(
    'ZMPOP pops from the first non-empty key ' + 'and replies [key, [[member, score], ...]]',
    async () => {
      expect(await cmd('ZMPOP', 2, 'nokey', 'z', 'MIN', 'COUNT', 2)).toEqual([
        'z',
        [
          ['a', '1'],
          ['b', '2'],
        ],
      ]);
      expect(await cmd('ZMPOP', 1, 'z', 'max')).toEqual(['z', [['e', '5']]]);
      expect(raw('ZMPOP', 1, 'nokey', 'MIN')).toBe(NIL_ARRAY);
      expect(await cmd('ZMPOP', 2, 'z', 'str', 'MIN', 'COUNT', 10)).toEqual([
        'z',
        [
          ['c', '3'],
          ['d', '4'],
        ],
      ]);
      expect(await cmd('EXISTS', 'z')).toBe(0);
      expect(await err('ZMPOP', 2, 'nokey', 'str', 'MIN')).toBe(WRONGTYPE);
    },
  );

  it('ZMPOP validates numkeys, MIN|MAX and COUNT', async () => {
    for (const n of [0, -1, 'x', '9223372036854775808']) {
      expect(await err('ZMPOP', n, 'z', 'MIN')).toBe('ERR numkeys should be greater than 0');
    }
    for (const c of [0, -1, 'x']) {
      expect(await err('ZMPOP', 1, 'z', 'MIN', 'COUNT', c)).toBe(
        'ERR count should be greater than 0',
      );
    }
    for (const args of [
      [2, 'z', 'MIN'],
      [1, 'z', 'foo'],
      [1, 'z', 'MIN', 'COUNT'],
      [1, 'z', 'MIN', 'COUNT', 1, 'COUNT', 1],
      ['9223372036854775807', 'z', 'MIN'],
    ]) {
      expect(await err('ZMPOP', ...args)).toBe(SYNTAX);
    }
    expect(await err('ZMPOP', 1, 'z')).toBe("ERR wrong number of arguments for 'zmpop' command");
  });
});

describe('ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX', () => {
  it(
    'remove ranges, delete the emptied key and ' + 'parse the range before looking at the key',
    async () => {
      await cmd('ZADD', 'z', 1, 'a', 2, 'b', 3, 'c', 4, 'd', 5, 'e');
      await cmd('SET', 'str', 'v');
      expect(await cmd('ZREMRANGEBYRANK', 'z', 10, 20)).toBe(0);
      expect(await cmd('ZREMRANGEBYRANK', 'z', -1, -1)).toBe(1);
      expect(await cmd('ZREMRANGEBYSCORE', 'z', '(1', 2)).toBe(1);
      expect(await cmd('ZRANGE', 'z', 0, -1)).toEqual(['a', 'c', 'd']);
      expect(await err('ZREMRANGEBYRANK', 'str', 'x', 1)).toBe(NOT_INT);
      expect(await err('ZREMRANGEBYSCORE', 'str', 'x', 1)).toBe(MINMAX_FLOAT);
      expect(await err('ZREMRANGEBYLEX', 'str', 'x', '+')).toBe(MINMAX_LEX);
      expect(await err('ZREMRANGEBYRANK', 'str', 0, 1)).toBe(WRONGTYPE);
      expect(await cmd('ZREMRANGEBYRANK', 'nokey', 0, 1)).toBe(0);
      expect(await cmd('ZREMRANGEBYSCORE', 'z', '-inf', '+inf')).toBe(3);
      expect(await cmd('EXISTS', 'z')).toBe(0);
      await cmd('ZADD', 'l', 0, 'a', 0, 'b', 0, 'c', 0, 'd');
      expect(await cmd('ZREMRANGEBYLEX', 'l', '[b', '(d')).toBe(2);
      expect(await cmd('ZRANGE', 'l', 0, -1)).toEqual(['a', 'd']);
    },
  );
});

describe('ZUNIONSTORE ZINTERSTORE and the other set operations', () => {
  beforeEach(async () => {
    await cmd('ZADD', 'z1', 1, 'a', 2, 'b', 3, 'c');
    await cmd('ZADD', 'z2', 10, 'b', 20, 'c', 30, 'd');
    await cmd('SADD', 's', 'c', 'd', 'e');
    await cmd('SET', 'str', 'v');
  });

  it('combine sorted sets and plain sets (score 1) with WEIGHTS and AGGREGATE', async () => {
    expect(await cmd('ZUNIONSTORE', 'd', 3, 'z1', 'z2', 's', 'WEIGHTS', 1, 2, 3)).toBe(5);
    expect(await cmd('ZRANGE', 'd', 0, -1, 'WITHSCORES')).toEqual([
      'a',
      '1',
      'e',
      '3',
      'b',
      '22',
      'c',
      '46',
      'd',
      '63',
    ]);
    expect(await cmd('ZINTERSTORE', 'd', 3, 'z1', 'z2', 's', 'AGGREGATE', 'MAX')).toBe(1);
    expect(await cmd('ZRANGE', 'd', 0, -1, 'WITHSCORES')).toEqual(['c', '20']);
    expect(await cmd('ZINTERSTORE', 'd', 2, 'z1', 'z2', 'AGGREGATE', 'MIN', 'WEIGHTS', 2, -1)).toBe(
      2,
    );
    expect(await cmd('ZRANGE', 'd', 0, -1, 'WITHSCORES')).toEqual(['c', '-20', 'b', '-10']);
    expect(await cmd('ZUNION', 2, 'z1', 'z2', 'WITHSCORES')).toEqual([
      'a',
      '1',
      'b',
      '12',
      'c',
      '23',
      'd',
      '30',
    ]);
    expect(await cmd('ZINTER', 2, 'z1', 's')).toEqual(['c']);
    expect(await cmd('ZDIFF', 2, 's', 'z1', 'WITHSCORES')).toEqual(['d', '1', 'e', '1']);
    expect(await cmd('ZDIFFSTORE', 'dd', 2, 'z1', 'z2')).toBe(1);
    expect(await cmd('ZRANGE', 'dd', 0, -1, 'WITHSCORES')).toEqual(['a', '1']);
    expect(await cmd('ZINTERCARD', 2, 'z1', 'z2')).toBe(2);
    expect(await cmd('ZINTERCARD', 2, 'z1', 'z2', 'LIMIT', 1)).toBe(1);
  });

  it('turn inf * 0 and inf + -inf into 0, as Redis does', async () => {
    await cmd('ZADD', 'zi', 1, 'a');
    await cmd('ZADD', 'zj', '-inf', 'a');
    expect(await cmd('ZUNIONSTORE', 'd', 2, 'zi', 'zj', 'WEIGHTS', 'inf', 1)).toBe(1);
    expect(await cmd('ZSCORE', 'd', 'a')).toBe('0');
    expect(await cmd('ZUNION', 2, 'z1', 'z2', 'WEIGHTS', 'inf', 0, 'WITHSCORES')).toEqual([
      'd',
      '0',
      'a',
      'inf',
      'b',
      'inf',
      'c',
      'inf',
    ]);
    // A weight 0 gives -0: kept by ZUNION (skiplist), made 0 by the store's listpack conversion.
    await cmd('ZADD', 'neg', -5, 'a');
    expect(await cmd('ZUNION', 1, 'neg', 'WEIGHTS', 0, 'WITHSCORES')).toEqual(['a', '-0']);
    expect(await cmd('ZUNIONSTORE', 'u', 1, 'neg', 'WEIGHTS', 0)).toBe(1);
    expect(await cmd('ZSCORE', 'u', 'a')).toBe('0');
  });

  it('overwrite any destination (dropping its TTL) and delete it for an empty result', async () => {
    await cmd('SET', 'd', 'old', 'EX', 100);
    expect(await cmd('ZINTERSTORE', 'd', 2, 'z1', 'z2')).toBe(2);
    expect(await cmd('TYPE', 'd')).toBe('zset');
    expect(await cmd('TTL', 'd')).toBe(-1);
    expect(await cmd('ZUNIONSTORE', 'd', 1, 'nokey')).toBe(0);
    expect(await cmd('EXISTS', 'd')).toBe(0);
    // a source may be the destination
    expect(await cmd('ZUNIONSTORE', 'z1', 2, 'z1', 'z2')).toBe(4);
    expect(await cmd('ZRANGE', 'z1', 0, -1, 'WITHSCORES')).toEqual([
      'a',
      '1',
      'b',
      '12',
      'c',
      '23',
      'd',
      '30',
    ]);
  });

  it('validate numkeys, look the keys up, then parse the options', async () => {
    expect(await err('ZUNIONSTORE', 'd', 0, 'z1')).toBe(
      "ERR at least 1 input key is needed for 'zunionstore' command",
    );
    expect(await err('ZINTER', -1, 'z1')).toBe(
      "ERR at least 1 input key is needed for 'zinter' command",
    );
    expect(await err('ZUNIONSTORE', 'd', 'x', 'z1')).toBe(NOT_INT);
    expect(await err('ZUNIONSTORE', 'd', 3, 'z1', 'z2')).toBe(SYNTAX);
    expect(await err('ZUNIONSTORE', 'd', 2, 'z1', 'str', 'WEIGHTS', 'x')).toBe(WRONGTYPE);
    expect(await err('ZUNIONSTORE', 'd', 2, 'z1', 'z2', 'WEIGHTS', 1)).toBe(SYNTAX);
    expect(await err('ZUNIONSTORE', 'd', 2, 'z1', 'z2', 'WEIGHTS', 1, 'x')).toBe(
      'ERR weight value is not a float',
    );
    expect(await err('ZUNIONSTORE', 'd', 2, 'z1', 'z2', 'AGGREGATE', 'AVG')).toBe(SYNTAX);
    expect(await err('ZUNIONSTORE', 'd', 2, 'z1', 'z2', 'WITHSCORES')).toBe(SYNTAX);
    expect(await err('ZDIFF', 1, 'z1', 'WEIGHTS', 1)).toBe(SYNTAX);
    expect(await err('ZINTERCARD', 2, 'z1', 'z2', 'LIMIT', -1)).toBe("ERR LIMIT can't be negative");
    expect(await cmd('EXISTS', 'd')).toBe(0);
  });

  it(
    'ZRANGESTORE stores a range (no WITHSCORES) ' + 'and deletes the destination for an empty one',
    async () => {
      expect(await cmd('ZRANGESTORE', 'd', 'z2', '(10', '+inf', 'BYSCORE', 'LIMIT', 0, 1)).toBe(1);
      expect(await cmd('ZRANGE', 'd', 0, -1, 'WITHSCORES')).toEqual(['c', '20']);
      expect(await err('ZRANGESTORE', 'd', 'z2', 0, -1, 'WITHSCORES')).toBe(SYNTAX);
      expect(await err('ZRANGESTORE', 'd', 'str', 0, -1)).toBe(WRONGTYPE);
      expect(await cmd('ZRANGESTORE', 'd', 'z2', 5, 10)).toBe(0);
      expect(await cmd('EXISTS', 'd')).toBe(0);
    },
  );

  it('ZRANDMEMBER checks its count like Redis and returns members of the set', async () => {
    expect(await cmd('ZRANDMEMBER', 'nokey')).toBeNull();
    expect(await cmd('ZRANDMEMBER', 'nokey', 5)).toEqual([]);
    expect(['a', 'b', 'c']).toContain(await cmd('ZRANDMEMBER', 'z1'));
    expect(((await cmd('ZRANDMEMBER', 'z1', 5)) as string[]).sort()).toEqual(['a', 'b', 'c']);
    const two = (await cmd('ZRANDMEMBER', 'z1', 2)) as string[];
    expect(new Set(two).size).toBe(2);
    const many = (await cmd('ZRANDMEMBER', 'z1', -7, 'WITHSCORES')) as string[];
    expect(many).toHaveLength(14);
    for (let i = 0; i < many.length; i += 2)
      expect(await cmd('ZSCORE', 'z1', many[i]!)).toBe(many[i + 1]);
    expect(await err('ZRANDMEMBER', 'z1', 'x')).toBe(NOT_INT);
    expect(await err('ZRANDMEMBER', 'z1', 1, 'foo')).toBe(SYNTAX);
    expect(await err('ZRANDMEMBER', 'z1', '-9223372036854775808')).toBe(
      'ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807',
    );
    expect(await err('ZRANDMEMBER', 'z1', '4611686018427387904', 'WITHSCORES')).toBe(
      'ERR value is out of range',
    );
    expect(await err('ZRANDMEMBER', 'str', 1)).toBe(WRONGTYPE);
  });
});

describe('propagation (what reaches the AOF)', () => {
  it('writes a command as typed exactly when it changed data', async () => {
    await cmd('ZADD', 'z', 1, 'a', 2, 'b', 3, 'c');
    const cases: [Arg[], string[][]][] = [
      [['zadd', 'z', 'ch', 5, 'a'], [['zadd', 'z', 'ch', '5', 'a']]],
      [['ZADD', 'z', 5, 'a'], []], // same score
      [['ZADD', 'z', 'NX', 9, 'a'], []],
      [['ZADD', 'z', 'XX', 1, 'nope'], []],
      [['ZADD', 'z', 'INCR', 0, 'a'], []], // processed, but nothing changed
      [['ZINCRBY', 'z', 1, 'a'], [['ZINCRBY', 'z', '1', 'a']]],
      [['ZREM', 'z', 'nope'], []],
      [['ZREM', 'z', 'nope', 'b'], [['ZREM', 'z', 'nope', 'b']]],
      [['ZREMRANGEBYSCORE', 'z', 100, 200], []],
      [['ZREMRANGEBYRANK', 'z', -1, -1], [['ZREMRANGEBYRANK', 'z', '-1', '-1']]],
      [['ZPOPMIN', 'z', 0], []],
      [['ZPOPMIN', 'nokey'], []],
      [['zpopmin', 'z', 5], [['zpopmin', 'z', '5']]],
      [['ZRANGE', 'z', 0, -1], []],
    ];
    for (const [argv, expected] of cases)
      expect(await propagation(...argv), argv.join(' ')).toEqual(expected);
  });

  it('rewrites ZMPOP as ZPOPMIN/ZPOPMAX key <count actually popped>', async () => {
    await cmd('ZADD', 'z', 1, 'a', 2, 'b', 3, 'c');
    expect(await propagation('zmpop', 1, 'z', 'min', 'count', 2)).toEqual([['ZPOPMIN', 'z', '2']]);
    expect(await propagation('zmpop', 2, 'nokey', 'z', 'max', 'count', 10)).toEqual([
      ['ZPOPMAX', 'z', '1'],
    ]);
    await cmd('ZADD', 'z', 1, 'a');
    expect(await propagation('ZMPOP', 1, 'z', 'MAX')).toEqual([['ZPOPMAX', 'z', '1']]);
    expect(await propagation('ZMPOP', 1, 'z', 'MAX')).toEqual([]);
  });

  it(
    'propagates a store with an empty result ' + 'only when it deleted an existing destination',
    async () => {
      await cmd('ZADD', 'd', 1, 'x');
      expect(await propagation('ZUNIONSTORE', 'd', 1, 'nokey')).toEqual([
        ['ZUNIONSTORE', 'd', '1', 'nokey'],
      ]);
      expect(await propagation('ZUNIONSTORE', 'd', 1, 'nokey')).toEqual([]);
      expect(await propagation('ZRANGESTORE', 'd', 'nokey', 0, -1)).toEqual([]);
      expect(await propagation('ZINTERSTORE', 'd', 1, 'nokey')).toEqual([]);
    },
  );

  it('deletes an expired destination first (DEL joins the store in a MULTI/EXEC)', async () => {
    await cmd('ZADD', 'z', 1, 'a');
    await cmd('SET', 'd', 'x', 'PX', 50);
    await cmd('SET', 'e', 'x', 'PX', 50);
    now += 100;
    expect(await propagation('ZUNIONSTORE', 'd', 1, 'z')).toEqual([
      ['MULTI'],
      ['DEL', 'd'],
      ['ZUNIONSTORE', 'd', '1', 'z'],
      ['EXEC'],
    ]);
    // An empty result deletes the (expired) destination directly, as dbDelete does.
    expect(await propagation('ZUNIONSTORE', 'e', 1, 'nokey')).toEqual([
      ['ZUNIONSTORE', 'e', '1', 'nokey'],
    ]);
  });
});

describe('WATCH', () => {
  it('is invalidated by a sorted-set write and not by a no-op', async () => {
    const other = e.db(0);
    await cmd('ZADD', 'z', 1, 'a');
    await cmd('WATCH', 'z');
    await other.command('ZADD', 'z', 'XX', 1, 'nope'); // changed nothing
    await other.command('ZREM', 'z', 'nope');
    await cmd('MULTI');
    await cmd('ZCARD', 'z');
    expect(await cmd('EXEC')).toEqual([1]);
    for (const write of [
      ['ZINCRBY', 'z', 1, 'a'],
      ['ZPOPMIN', 'z'],
      ['ZUNIONSTORE', 'z', 1, 'nokey'],
    ]) {
      await cmd('ZADD', 'z', 1, 'a');
      await cmd('WATCH', 'z');
      await other.command(...(write as [string, ...Arg[]]));
      await cmd('MULTI');
      await cmd('ZCARD', 'z');
      expect(await cmd('EXEC'), write.join(' ')).toBeNull();
    }
  });
});
