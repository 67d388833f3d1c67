// String commands: replies and error texts of Redis 7.0.15 (checked against redis-server 7.0.15
// while writing them), expiry driven by an injected clock (no sleeping), and the exact argv each
// command hands to the AOF (Redis 7.0 rewrites them into absolute forms, spec §2.3).

import { describe, expect, it } from 'vitest';
import { NIL_ARRAY, StatusReply } from '../../src/reply.ts';
import {
  err,
  NOT_INT_MESSAGE,
  OK,
  openCommandEngine,
  T0,
  WRONGTYPE_MESSAGE,
} from '../helpers/command-engine.ts';

const NOT_INT = err(NOT_INT_MESSAGE);
const SYNTAX = err('ERR syntax error');
const WRONGTYPE = err(WRONGTYPE_MESSAGE);

describe('GET / SET', () => {
  it('stores and returns binary-safe values, nil for a missing key', async () => {
    const { run, e } = await openCommandEngine();
    expect(run('SET', 'k', 'v')).toEqual(OK);
    expect(run('GET', 'k')).toBe('v');
    expect(run('GET', 'missing')).toBeNull();
    const db = e.db(0);
    await db.command('SET', Buffer.from([0, 255, 13, 10]), Buffer.from([1, 2, 0, 200]));
    expect(await db.getBuffer(Buffer.from([0, 255, 13, 10]))).toEqual(Buffer.from([1, 2, 0, 200]));
  });

  it('GET on another type is WRONGTYPE', async () => {
    const { run } = await openCommandEngine();
    run('RPUSH', 'l', 'a');
    expect(run('GET', 'l')).toEqual(WRONGTYPE);
  });

  it('NX / XX answer nil when they prevent the write, and GET returns the old value', async () => {
    const { run } = await openCommandEngine();
    expect(run('SET', 'k', 'v1', 'XX')).toBeNull();
    expect(run('SET', 'k', 'v1', 'NX')).toEqual(OK);
    expect(run('SET', 'k', 'v2', 'NX')).toBeNull();
    expect(run('SET', 'k', 'v3', 'xx', 'GET')).toBe('v1');
    expect(run('SET', 'k', 'v4', 'NX', 'GET')).toBe('v3'); // not set, old value still returned
    expect(run('GET', 'k')).toBe('v3');
    expect(run('SET', 'new', 'x', 'GET')).toBeNull();
    expect(run('GET', 'new')).toBe('x');
  });

  it('SET ... GET on another type fails without writing', async () => {
    const { run } = await openCommandEngine();
    run('RPUSH', 'l', 'a');
    expect(run('SET', 'l', 'x', 'GET')).toEqual(WRONGTYPE);
    expect(run('TYPE', 'l')).toEqual(new StatusReply('list'));
    expect(run('SET', 'l', 'x')).toEqual(OK); // plain SET overwrites any type
    expect(run('GET', 'l')).toBe('x');
  });

  it.each([
    [['NX', 'XX']],
    [['XX', 'NX']],
    [['KEEPTTL', 'EX', '10']],
    [['EX', '10', 'KEEPTTL']],
    [['EX', '10', 'PX', '10']],
    [['EXAT', '10', 'PXAT', '10']],
    [['EX']],
    [['PERSIST']],
    [['FOO']],
  ])('SET k v %j is a syntax error', async (opts) => {
    const { run } = await openCommandEngine();
    expect(run('SET', 'k', 'v', ...opts)).toEqual(SYNTAX);
    expect(run('EXISTS', 'k')).toBe(0);
  });

  it('repeated options are accepted; the last time wins', async () => {
    const { run, now } = await openCommandEngine();
    expect(run('SET', 'k', 'v', 'NX', 'nx', 'EX', '10', 'ex', '20')).toEqual(OK);
    expect(run('PEXPIRETIME', 'k')).toBe(now + 20_000);
  });

  it(
    'validates the time: "invalid expire time" ' + 'for ≤ 0 and 64-bit overflow, before any change',
    async () => {
      const { run } = await openCommandEngine();
      run('SET', 'k', 'old');
      const invalid = err("ERR invalid expire time in 'set' command");
      expect(run('SET', 'k', 'v', 'EX', '0')).toEqual(invalid);
      expect(run('SET', 'k', 'v', 'PX', '-1')).toEqual(invalid);
      expect(run('SET', 'k', 'v', 'EXAT', '0')).toEqual(invalid);
      // ×1000 + now overflows
      expect(run('SET', 'k', 'v', 'EX', '9223372036854775')).toEqual(invalid);
      expect(run('SET', 'k', 'v', 'EX', '9223372036854776')).toEqual(invalid); // ×1000 overflows
      expect(run('SET', 'k', 'v', 'PX', '9223372036854775807')).toEqual(invalid); // + now overflows
      expect(run('SET', 'k', 'v', 'EX', 'abc')).toEqual(NOT_INT);
      expect(run('SET', 'k', 'v', 'EX', '1.5')).toEqual(NOT_INT);
      expect(run('GET', 'k')).toBe('old');
      // Absolute times are not offset by now, so the largest values are fine.
      expect(run('SET', 'k', 'v', 'EXAT', '9223372036854775')).toEqual(OK);
      expect(run('SET', 'k', 'v', 'PXAT', '9223372036854775807')).toEqual(OK);
    },
  );

  it('EX/PX/EXAT/PXAT set the TTL, KEEPTTL keeps it, a plain SET drops it', async () => {
    const { run, now } = await openCommandEngine();
    run('SET', 'k', 'v', 'EX', '100');
    expect(run('PTTL', 'k')).toBe(100_000);
    run('SET', 'k', 'v', 'PX', '1500');
    expect(run('PEXPIRETIME', 'k')).toBe(now + 1500);
    run('SET', 'k', 'v', 'EXAT', String((now + 50_000) / 1000));
    expect(run('PEXPIRETIME', 'k')).toBe(now + 50_000);
    run('SET', 'k', 'v2', 'KEEPTTL');
    expect(run('PEXPIRETIME', 'k')).toBe(now + 50_000);
    run('SET', 'k', 'v3');
    expect(run('TTL', 'k')).toBe(-1);
  });

  it(
    'a key reads as missing once its time has passed ' + '(now > when), not at the exact ms',
    async () => {
      const { run, advance } = await openCommandEngine();
      run('SET', 'k', 'v', 'PX', '100');
      advance(100);
      expect(run('GET', 'k')).toBe('v');
      advance(1);
      expect(run('GET', 'k')).toBeNull();
    },
  );
});

describe('SET family propagation (what the AOF receives)', () => {
  it('any TTL option becomes SET k v PXAT <abs-ms>, dropping NX/XX/GET', async () => {
    const { run, aof, now } = await openCommandEngine();
    run('set', 'k', 'v', 'ex', '100', 'nx', 'get');
    run('SET', 'k', 'w', 'PX', '5', 'XX');
    run('SET', 'k', 'x', 'PXAT', '99999999999999', 'GET');
    run('SET', 'k', 'y', 'EXAT', '99999999999');
    expect(aof()).toEqual([
      ['SET', 'k', 'v', 'PXAT', String(now + 100_000)],
      ['SET', 'k', 'w', 'PXAT', String(now + 5)],
      ['SET', 'k', 'x', 'PXAT', '99999999999999'],
      ['SET', 'k', 'y', 'PXAT', '99999999999000'],
    ]);
  });

  it('exact 64-bit absolute times reach the AOF even beyond 2^53', async () => {
    const { run, aof } = await openCommandEngine();
    run('SET', 'k', 'v', 'EXAT', '9223372036854775');
    run('SET', 'k', 'v', 'PXAT', '9007199254740993');
    expect(aof()).toEqual([
      ['SET', 'k', 'v', 'PXAT', '9223372036854775000'],
      ['SET', 'k', 'v', 'PXAT', '9007199254740993'],
    ]);
  });

  it(
    'SET ... GET without a TTL propagates without every GET word; ' + 'other words keep their case',
    async () => {
      const { run, aof } = await openCommandEngine();
      run('set', 'k', 'v', 'Get', 'gEt', 'keepttl');
      run('SET', 'get', 'get', 'GET'); // key and value named "get" stay
      expect(aof()).toEqual([
        ['set', 'k', 'v', 'keepttl'],
        ['SET', 'get', 'get'],
      ]);
    },
  );

  it('a SET prevented by NX/XX propagates nothing', async () => {
    const { run, aof } = await openCommandEngine();
    run('SET', 'k', 'v');
    aof();
    run('SET', 'k', 'v', 'NX', 'EX', '10');
    run('SET', 'other', 'v', 'XX', 'GET');
    run('SETNX', 'k', 'v');
    expect(aof()).toEqual([]);
  });

  it(
    'a past EXAT still stores the key and propagates SET ... ' +
      'PXAT <past>; the expiry DEL follows',
    async () => {
      const { run, aof } = await openCommandEngine();
      expect(run('SET', 'k', 'v', 'EXAT', '1')).toEqual(OK);
      expect(aof()).toEqual([['SET', 'k', 'v', 'PXAT', '1000']]);
      expect(run('GET', 'k')).toBeNull();
      expect(aof()).toEqual([['DEL', 'k']]);
    },
  );

  it('overwriting a lazily expired key puts its DEL in the same batch (MULTI/EXEC)', async () => {
    const { run, aof, advance } = await openCommandEngine();
    run('SET', 'k', 'v', 'PX', '10');
    aof();
    advance(11);
    run('SET', 'k', 'v2');
    expect(aof()).toEqual([['MULTI'], ['DEL', 'k'], ['SET', 'k', 'v2'], ['EXEC']]);
  });

  it('SETEX/PSETEX become SET k v PXAT <abs>; their errors name the command', async () => {
    const { run, aof, now } = await openCommandEngine();
    expect(run('SETEX', 'a', '10', 'v')).toEqual(OK);
    expect(run('PSETEX', 'b', '10', 'v')).toEqual(OK);
    expect(aof()).toEqual([
      ['SET', 'a', 'v', 'PXAT', String(now + 10_000)],
      ['SET', 'b', 'v', 'PXAT', String(now + 10)],
    ]);
    expect(run('SETEX', 'a', '0', 'v')).toEqual(err("ERR invalid expire time in 'setex' command"));
    expect(run('PSETEX', 'a', '-5', 'v')).toEqual(
      err("ERR invalid expire time in 'psetex' command"),
    );
    expect(run('SETEX', 'a', 'x', 'v')).toEqual(NOT_INT);
    expect(run('PTTL', 'a')).toBe(10_000);
  });

  it('SETNX answers 1/0 and propagates as typed', async () => {
    const { run, aof } = await openCommandEngine();
    expect(run('SETNX', 'k', 'a')).toBe(1);
    expect(run('SETNX', 'k', 'b')).toBe(0);
    expect(run('GET', 'k')).toBe('a');
    expect(aof()).toEqual([['SETNX', 'k', 'a']]);
  });

  it('GETSET returns the old value, drops the TTL and propagates as SET', async () => {
    const { run, aof } = await openCommandEngine();
    expect(run('getset', 'k', 'v1')).toBeNull();
    run('EXPIRE', 'k', '100');
    aof();
    expect(run('getset', 'k', 'v2')).toBe('v1');
    expect(run('TTL', 'k')).toBe(-1);
    expect(aof()).toEqual([['SET', 'k', 'v2']]);
    run('RPUSH', 'l', 'a');
    expect(run('GETSET', 'l', 'x')).toEqual(WRONGTYPE);
  });

  it(
    'GETDEL returns and deletes; ' + 'propagates DEL, or UNLINK with lazyfree-lazy-user-del',
    async () => {
      const { run, aof } = await openCommandEngine();
      run('SET', 'k', 'v');
      aof();
      expect(run('GETDEL', 'k')).toBe('v');
      expect(run('GETDEL', 'k')).toBeNull();
      expect(aof()).toEqual([['DEL', 'k']]);
      const lazy = await openCommandEngine({ lazyfreeLazyUserDel: true });
      lazy.run('SET', 'k', 'v');
      lazy.aof();
      lazy.run('GETDEL', 'k');
      expect(lazy.aof()).toEqual([['UNLINK', 'k']]);
      lazy.run('RPUSH', 'l', 'a');
      expect(lazy.run('GETDEL', 'l')).toEqual(WRONGTYPE);
      expect(lazy.run('EXISTS', 'l')).toBe(1);
    },
  );
});

describe('GETEX', () => {
  it('without options is a GET that propagates nothing', async () => {
    const { run, aof } = await openCommandEngine();
    run('SET', 'k', 'v', 'EX', '100');
    aof();
    expect(run('GETEX', 'k')).toBe('v');
    expect(run('TTL', 'k')).toBe(100);
    expect(aof()).toEqual([]);
  });

  it('EX/PX/EXAT/PXAT set the TTL and propagate PEXPIREAT k <abs-ms>', async () => {
    const { run, aof, now } = await openCommandEngine();
    run('SET', 'k', 'v');
    aof();
    expect(run('getex', 'k', 'ex', '10')).toBe('v');
    expect(run('GETEX', 'k', 'PX', '10')).toBe('v');
    expect(run('GETEX', 'k', 'EXAT', '99999999999')).toBe('v');
    expect(run('GETEX', 'k', 'PXAT', String(now + 7))).toBe('v');
    expect(run('PTTL', 'k')).toBe(7);
    expect(aof()).toEqual([
      ['PEXPIREAT', 'k', String(now + 10_000)],
      ['PEXPIREAT', 'k', String(now + 10)],
      ['PEXPIREAT', 'k', '99999999999000'],
      ['PEXPIREAT', 'k', String(now + 7)],
    ]);
  });

  it(
    'a past EXAT/PXAT deletes the key after replying; ' +
      'DEL, or UNLINK with lazyfree-lazy-expire',
    async () => {
      const { run, aof, now } = await openCommandEngine();
      run('SET', 'k', 'v');
      aof();
      expect(run('GETEX', 'k', 'PXAT', String(now))).toBe('v'); // "now" counts as past
      expect(run('EXISTS', 'k')).toBe(0);
      expect(aof()).toEqual([['DEL', 'k']]);
      const lazy = await openCommandEngine({ lazyfreeLazyExpire: true });
      lazy.run('SET', 'k', 'v');
      lazy.aof();
      expect(lazy.run('GETEX', 'k', 'EXAT', '1')).toBe('v');
      expect(lazy.aof()).toEqual([['UNLINK', 'k']]);
    },
  );

  it('PERSIST propagates PERSIST k only when a TTL was removed', async () => {
    const { run, aof } = await openCommandEngine();
    run('SET', 'k', 'v');
    aof();
    expect(run('GETEX', 'k', 'persist')).toBe('v');
    expect(aof()).toEqual([]);
    run('EXPIRE', 'k', '100');
    aof();
    expect(run('GETEX', 'k', 'PERSIST', 'PERSIST')).toBe('v');
    expect(run('TTL', 'k')).toBe(-1);
    expect(aof()).toEqual([['PERSIST', 'k']]);
  });

  it('validates options first, then looks the key up, then validates the time', async () => {
    const { run } = await openCommandEngine();
    run('SET', 'k', 'v');
    run('RPUSH', 'l', 'a');
    expect(run('GETEX', 'k', 'KEEPTTL')).toEqual(SYNTAX);
    expect(run('GETEX', 'k', 'NX')).toEqual(SYNTAX);
    expect(run('GETEX', 'k', 'PERSIST', 'EX', '10')).toEqual(SYNTAX);
    expect(run('GETEX', 'k', 'EX')).toEqual(SYNTAX);
    expect(run('GETEX', 'missing', 'EX', '-1')).toBeNull();
    expect(run('GETEX', 'l', 'EX', '-1')).toEqual(WRONGTYPE);
    expect(run('GETEX', 'k', 'EX', '-1')).toEqual(
      err("ERR invalid expire time in 'getex' command"),
    );
    expect(run('GETEX', 'k', 'EX', 'x')).toEqual(NOT_INT);
    expect(run('TTL', 'k')).toBe(-1);
  });
});

describe('MGET / MSET / MSETNX', () => {
  it('MGET answers nil for missing keys and for keys of another type', async () => {
    const { run } = await openCommandEngine();
    run('MSET', 'a', '1', 'b', '2');
    run('RPUSH', 'l', 'x');
    expect(run('MGET', 'a', 'l', 'nope', 'b', 'a')).toEqual(['1', null, null, '2', '1']);
  });

  it('MSET with an odd count is an arity error and sets nothing; it drops TTLs', async () => {
    const { run, aof } = await openCommandEngine();
    expect(run('MSET', 'a', '1', 'b')).toEqual(
      err("ERR wrong number of arguments for 'mset' command"),
    );
    expect(run('MSETNX', 'a', '1', 'b')).toEqual(
      err("ERR wrong number of arguments for 'msetnx' command"),
    );
    expect(run('EXISTS', 'a')).toBe(0);
    run('SET', 'a', 'x', 'EX', '100');
    aof();
    expect(run('MSET', 'a', '1', 'b', '2')).toEqual(OK);
    expect(run('TTL', 'a')).toBe(-1);
    expect(aof()).toEqual([['MSET', 'a', '1', 'b', '2']]);
  });

  it('MSETNX sets all keys or none', async () => {
    const { run, aof } = await openCommandEngine();
    expect(run('MSETNX', 'a', '1', 'b', '2')).toBe(1);
    expect(run('MSETNX', 'c', '3', 'a', '9')).toBe(0);
    expect(run('MGET', 'a', 'b', 'c')).toEqual(['1', '2', null]);
    expect(aof()).toEqual([['MSETNX', 'a', '1', 'b', '2']]);
  });
});

describe('APPEND / STRLEN / SETRANGE / GETRANGE', () => {
  it('APPEND creates or extends the string and keeps the TTL', async () => {
    const { run } = await openCommandEngine();
    expect(run('APPEND', 'k', 'Hello')).toBe(5);
    run('EXPIRE', 'k', '100');
    expect(run('APPEND', 'k', ' World')).toBe(11);
    expect(run('GET', 'k')).toBe('Hello World');
    expect(run('TTL', 'k')).toBe(100);
    expect(run('STRLEN', 'k')).toBe(11);
    expect(run('STRLEN', 'nope')).toBe(0);
    run('RPUSH', 'l', 'a');
    expect(run('APPEND', 'l', 'x')).toEqual(WRONGTYPE);
    expect(run('STRLEN', 'l')).toEqual(WRONGTYPE);
  });

  it('SETRANGE overwrites, zero-pads, keeps the TTL and reports the new length', async () => {
    const { run } = await openCommandEngine();
    run('SET', 'k', 'Hello World');
    run('EXPIRE', 'k', '100');
    expect(run('SETRANGE', 'k', '6', 'Redis')).toBe(11);
    expect(run('GET', 'k')).toBe('Hello Redis');
    expect(run('SETRANGE', 'k', '13', 'X')).toBe(14);
    expect(run('GET', 'k')).toBe('Hello Redis\0\0X');
    expect(run('TTL', 'k')).toBe(100);
    expect(run('SETRANGE', 'new', '2', 'ab')).toBe(4);
    expect(run('GET', 'new')).toBe('\0\0ab');
  });

  it('SETRANGE with an empty value changes nothing, even at a huge offset', async () => {
    const { run, aof } = await openCommandEngine();
    expect(run('SETRANGE', 'missing', '5', '')).toBe(0);
    expect(run('EXISTS', 'missing')).toBe(0);
    run('SET', 'k', 'abc');
    aof();
    expect(run('SETRANGE', 'k', '536870912', '')).toBe(3);
    expect(aof()).toEqual([]);
  });

  it('SETRANGE errors: negative offset, non-integer, beyond 512MB, wrong type', async () => {
    const { run } = await openCommandEngine();
    run('SET', 'k', 'abc');
    expect(run('SETRANGE', 'k', '-1', 'x')).toEqual(err('ERR offset is out of range'));
    expect(run('SETRANGE', 'k', 'one', 'x')).toEqual(NOT_INT);
    expect(run('SETRANGE', 'k', '536870912', 'x')).toEqual(
      err('ERR string exceeds maximum allowed size (proto-max-bulk-len)'),
    );
    expect(run('SETRANGE', 'k', '9223372036854775807', 'x')).toEqual(
      err('ERR string exceeds maximum allowed size (proto-max-bulk-len)'),
    );
    run('RPUSH', 'l', 'a');
    expect(run('SETRANGE', 'l', '0', 'x')).toEqual(WRONGTYPE);
    expect(run('GET', 'k')).toBe('abc');
  });

  it('GETRANGE clamps indexes like Redis, including negative and 64-bit extremes', async () => {
    const { run } = await openCommandEngine();
    run('SET', 'k', 'This is a string');
    expect(run('GETRANGE', 'k', '0', '3')).toBe('This');
    expect(run('GETRANGE', 'k', '-3', '-1')).toBe('ing');
    expect(run('GETRANGE', 'k', '0', '-1')).toBe('This is a string');
    expect(run('GETRANGE', 'k', '10', '100')).toBe('string');
    expect(run('GETRANGE', 'k', '5', '3')).toBe('');
    expect(run('GETRANGE', 'k', '-1', '-5')).toBe('');
    expect(run('GETRANGE', 'k', '-100', '-50')).toBe('T'); // both clamp to 0
    expect(run('GETRANGE', 'k', '-9223372036854775807', '-9223372036854775808')).toBe('');
    expect(run('GETRANGE', 'k', '-9223372036854775808', '-9223372036854775807')).toBe('T');
    expect(run('GETRANGE', 'k', '0', '9223372036854775807')).toBe('This is a string');
    expect(run('GETRANGE', 'k', '0', '9223372036854775808')).toEqual(NOT_INT);
    expect(run('SUBSTR', 'k', '0', '3')).toBe('This');
    expect(run('GETRANGE', 'missing', '0', '-1')).toBe('');
    run('SET', 'empty', '');
    expect(run('GETRANGE', 'empty', '-1', '0')).toBe('');
  });
});

describe('INCR / DECR / INCRBY / DECRBY', () => {
  it('counts from a missing key, keeps the TTL and propagates as typed', async () => {
    const { run, aof } = await openCommandEngine();
    expect(run('INCR', 'c')).toBe(1);
    run('EXPIRE', 'c', '100');
    expect(run('incrby', 'c', '10')).toBe(11);
    expect(run('DECRBY', 'c', '3')).toBe(8);
    expect(run('DECR', 'c')).toBe(7);
    expect(run('GET', 'c')).toBe('7');
    expect(run('TTL', 'c')).toBe(100);
    expect(aof()).toEqual([
      ['INCR', 'c'],
      ['PEXPIREAT', 'c', String(T0 + 100_000)],
      ['incrby', 'c', '10'],
      ['DECRBY', 'c', '3'],
      ['DECR', 'c'],
    ]);
  });

  it('refuses values that are not strict 64-bit decimal integers', async () => {
    const { run } = await openCommandEngine();
    for (const v of ['12 ', ' 12', '012', '-0', '+5', '1.0', '', '9223372036854775808']) {
      run('SET', 'k', v);
      expect(run('INCR', 'k'), JSON.stringify(v)).toEqual(NOT_INT);
      expect(run('GET', 'k')).toBe(v);
    }
    expect(run('INCRBY', 'k', '1.5')).toEqual(NOT_INT);
    run('RPUSH', 'l', 'a');
    expect(run('INCR', 'l')).toEqual(WRONGTYPE);
    expect(run('INCRBY', 'l', 'x')).toEqual(NOT_INT); // the increment is parsed first
  });

  it('detects 64-bit overflow in both directions', async () => {
    const { run } = await openCommandEngine();
    const overflow = err('ERR increment or decrement would overflow');
    run('SET', 'max', '9223372036854775806');
    expect(run('INCR', 'max')).toBe(9223372036854775807n);
    expect(run('INCR', 'max')).toEqual(overflow);
    expect(run('GET', 'max')).toBe('9223372036854775807');
    run('SET', 'min', '-9223372036854775807');
    expect(run('DECR', 'min')).toBe(-9223372036854775808n);
    expect(run('DECR', 'min')).toEqual(overflow);
    expect(run('INCRBY', 'min', '-1')).toEqual(overflow);
    expect(run('DECRBY', 'x', '-9223372036854775808')).toEqual(err('ERR decrement would overflow'));
    expect(run('DECRBY', 'x', '9223372036854775807')).toBe(-9223372036854775807n);
  });

  it('is exact around 2^53, replying bigint only outside the safe range', async () => {
    const { run } = await openCommandEngine();
    run('SET', 'k', '9007199254740991');
    expect(run('INCR', 'k')).toBe(9007199254740992n);
    expect(run('INCR', 'k')).toBe(9007199254740993n);
    expect(run('GET', 'k')).toBe('9007199254740993');
    expect(run('DECRBY', 'k', '2')).toBe(9007199254740991);
    // 16-digit values above 2^53 must not be parsed as inexact doubles.
    run('SET', 's16', '9999999999999999');
    expect(run('INCR', 's16')).toBe(10000000000000000n);
    expect(run('INCRBY', 's16', '9007199254740993')).toBe(19007199254740993n);
  });
});

describe('INCRBYFLOAT', () => {
  it(
    'matches redis-server digits ' + '(x87 long double) and propagates SET k <result> KEEPTTL',
    async () => {
      const { run, aof } = await openCommandEngine();
      run('SET', 'f', '10.50');
      run('EXPIRE', 'f', '100');
      aof();
      expect(run('INCRBYFLOAT', 'f', '0.1')).toBe('10.6');
      expect(run('incrbyfloat', 'f', '5.0e3')).toBe('5010.60000000000000009');
      expect(run('INCRBYFLOAT', 'f', '0x10')).toBe('5026.60000000000000009');
      expect(run('TTL', 'f')).toBe(100);
      expect(run('INCRBYFLOAT', 'new', '3.0e3')).toBe('3000');
      expect(aof()).toEqual([
        ['SET', 'f', '10.6', 'KEEPTTL'],
        ['SET', 'f', '5010.60000000000000009', 'KEEPTTL'],
        ['SET', 'f', '5026.60000000000000009', 'KEEPTTL'],
        ['SET', 'new', '3000', 'KEEPTTL'],
      ]);
    },
  );

  it('errors: invalid float (incl. NaN and spaces), non-finite result, wrong type', async () => {
    const { run, aof } = await openCommandEngine();
    run('SET', 'f', '1.5');
    aof();
    const notFloat = err('ERR value is not a valid float');
    for (const bad of ['abc', 'nan', ' 1', '1 ', '1e5000', '']) {
      expect(run('INCRBYFLOAT', 'f', bad), JSON.stringify(bad)).toEqual(notFloat);
    }
    expect(run('INCRBYFLOAT', 'f', 'inf')).toEqual(
      err('ERR increment would produce NaN or Infinity'),
    );
    run('SET', 'bad', '1.5x');
    expect(run('INCRBYFLOAT', 'bad', '1')).toEqual(notFloat);
    run('RPUSH', 'l', 'a');
    expect(run('INCRBYFLOAT', 'l', '1')).toEqual(WRONGTYPE);
    expect(run('GET', 'f')).toBe('1.5');
    expect(aof()).toEqual([
      ['SET', 'bad', '1.5x'],
      ['RPUSH', 'l', 'a'],
    ]); // no failed INCRBYFLOAT reached the AOF
  });
});

describe('arity and WATCH', () => {
  it('checks arity in the dispatcher with the Redis text', async () => {
    const { run } = await openCommandEngine();
    expect(run('GET')).toEqual(err("ERR wrong number of arguments for 'get' command"));
    expect(run('SET', 'k')).toEqual(err("ERR wrong number of arguments for 'set' command"));
    expect(run('SETEX', 'k', '1')).toEqual(
      err("ERR wrong number of arguments for 'setex' command"),
    );
    expect(run('GETEX')).toEqual(err("ERR wrong number of arguments for 'getex' command"));
  });

  it(
    'in-place modifications (APPEND, SETRANGE, ' + 'INCRBYFLOAT, GETEX PERSIST) invalidate WATCH',
    async () => {
      const { e } = await openCommandEngine();
      const writes = [
        ['APPEND', 'k', 'x'],
        ['SETRANGE', 'k', '0', 'y'],
        ['INCRBYFLOAT', 'k', '1'],
        ['GETEX', 'k', 'PERSIST'],
      ];
      for (const write of [...writes, null]) {
        const watcher = e.server.createClient(0);
        const other = e.server.createClient(0);
        e.server.execute(other, ['SET', 'k', '1', 'EX', '100']);
        e.server.execute(watcher, ['WATCH', 'k']);
        if (write !== null) e.server.execute(other, write);
        e.server.execute(watcher, ['MULTI']);
        e.server.execute(watcher, ['PING']);
        const result = e.server.execute(watcher, ['EXEC']);
        if (write === null) expect(result).toEqual([new StatusReply('PONG')]);
        else expect(result, write.join(' ')).toBe(NIL_ARRAY);
      }
    },
  );
});
