// Generic key commands: replies and error texts of Redis 7.0.15 (checked against redis-server
// 7.0.15 while writing them), expiry on an injected clock (no sleeping), the argv fed to the AOF,
// WATCH invalidation, and the SCAN cursor guarantees of our Map-iterator design.

import { describe, expect, it } from 'vitest';
import { NIL_ARRAY, StatusReply, type Reply } from '../../src/reply.ts';
import { err, NOT_INT_MESSAGE, OK, openCommandEngine, T0 } from '../helpers/command-engine.ts';

const NOT_INT = err(NOT_INT_MESSAGE);
const SYNTAX = err('ERR syntax error');

/** SCAN to completion; returns every key seen (with repeats) and the number of calls. */
function scanAll(
  run: (...a: string[]) => Reply,
  ...options: string[]
): { keys: string[]; calls: number } {
  const keys: string[] = [];
  let cursor = '0';
  let calls = 0;
  do {
    const [next, batch] = run('SCAN', cursor, ...options) as [string, string[]];
    keys.push(...batch);
    cursor = next;
    calls++;
  } while (cursor !== '0' && calls < 10_000);
  return { keys, calls };
}

describe('DEL / UNLINK / EXISTS / TYPE', () => {
  it(
    'DEL counts deleted keys once each and ' + 'propagates only when it deleted something',
    async () => {
      const { run, aof } = await openCommandEngine();
      run('MSET', 'a', '1', 'b', '2', 'c', '3');
      aof();
      expect(run('DEL', 'a', 'b', 'nope', 'a')).toBe(2);
      expect(run('UNLINK', 'c', 'c')).toBe(1);
      expect(run('DEL', 'nope')).toBe(0);
      expect(aof()).toEqual([
        ['DEL', 'a', 'b', 'nope', 'a'],
        ['UNLINK', 'c', 'c'],
      ]);
    },
  );

  it('an already expired key is expired (its DEL propagates) and does not count', async () => {
    const { run, aof, advance } = await openCommandEngine();
    run('SET', 'k', 'v', 'PX', '5');
    aof();
    advance(6);
    expect(run('UNLINK', 'k')).toBe(0);
    expect(aof()).toEqual([['DEL', 'k']]); // from the expiry, not the UNLINK
  });

  it('EXISTS counts a key once per mention and skips expired keys', async () => {
    const { run, advance } = await openCommandEngine();
    run('SET', 'a', '1');
    run('SET', 'gone', '1', 'PX', '1');
    advance(2);
    expect(run('EXISTS', 'a', 'a', 'a', 'nope', 'gone')).toBe(3);
  });

  it('TYPE answers a status with the type name, none when missing', async () => {
    const { run } = await openCommandEngine();
    run('SET', 's', 'v');
    run('RPUSH', 'l', 'a');
    run('HSET', 'h', 'f', 'v');
    run('SADD', 'st', 'm');
    run('ZADD', 'z', '1', 'm');
    expect(run('TYPE', 's')).toEqual(new StatusReply('string'));
    expect(run('TYPE', 'z')).toEqual(new StatusReply('zset'));
    expect(run('TYPE', 'l')).toEqual(new StatusReply('list'));
    expect(run('TYPE', 'h')).toEqual(new StatusReply('hash'));
    expect(run('TYPE', 'st')).toEqual(new StatusReply('set'));
    expect(run('TYPE', 'nope')).toEqual(new StatusReply('none'));
  });
});

describe('EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT', () => {
  it.each([
    [['10', 'nx', 'xx'], 'ERR NX and XX, GT or LT options at the same time are not compatible'],
    [['10', 'NX', 'GT'], 'ERR NX and XX, GT or LT options at the same time are not compatible'],
    [['10', 'lt', 'NX'], 'ERR NX and XX, GT or LT options at the same time are not compatible'],
    [['10', 'GT', 'LT'], 'ERR GT and LT options at the same time are not compatible'],
    [['10', 'foo'], 'ERR Unsupported option foo'],
    [['abc', 'foo'], 'ERR Unsupported option foo'], // options are checked before the time
    [['abc'], 'ERR value is not an integer or out of range'],
    [['1.5'], 'ERR value is not an integer or out of range'],
    [['9223370399119966'], "ERR invalid expire time in 'expire' command"], // now + ms overflows
    [['9223372036854776'], "ERR invalid expire time in 'expire' command"], // × 1000 overflows
    [['-9223372036854776'], "ERR invalid expire time in 'expire' command"],
    [['-9999999999999999'], "ERR invalid expire time in 'expire' command"],
  ])('EXPIRE k %j → %s, leaving the key alone', async (args, message) => {
    const { run } = await openCommandEngine();
    run('SET', 'k', 'v');
    expect(run('EXPIRE', 'k', ...args)).toEqual(err(message));
    expect(run('TTL', 'k')).toBe(-1);
  });

  it(
    'names the command in overflow errors; ' + 'absolute ms accept the whole 64-bit range',
    async () => {
      const { run } = await openCommandEngine();
      run('SET', 'k', 'v');
      expect(run('PEXPIRE', 'k', '9223372036854770000')).toEqual(
        err("ERR invalid expire time in 'pexpire' command"),
      );
      expect(run('EXPIREAT', 'k', '9223372036854776')).toEqual(
        err("ERR invalid expire time in 'expireat' command"),
      );
      expect(run('PEXPIREAT', 'k', '9223372036854775808')).toEqual(NOT_INT);
      expect(run('PEXPIREAT', 'k', '9223372036854770000')).toBe(1);
      expect(run('EXISTS', 'k')).toBe(1);
    },
  );

  it(
    'propagates PEXPIREAT k <abs-ms>, ' +
      'keeping the option word as typed; PEXPIREAT is unchanged',
    async () => {
      const { run, aof } = await openCommandEngine();
      run('SET', 'k', 'v');
      aof();
      expect(run('expire', 'k', '100', 'nx')).toBe(1);
      expect(run('PEXPIRE', 'k', '200000', 'Gt')).toBe(1);
      expect(run('EXPIREAT', 'k', '99999999999')).toBe(1);
      expect(run('pexpireat', 'k', '99999999998000', 'lt')).toBe(1);
      expect(aof()).toEqual([
        ['PEXPIREAT', 'k', String(T0 + 100_000), 'nx'],
        ['PEXPIREAT', 'k', String(T0 + 200_000), 'Gt'],
        ['PEXPIREAT', 'k', '99999999999000'],
        ['pexpireat', 'k', '99999999998000', 'lt'],
      ]);
    },
  );

  it(
    'a time not in the future deletes the key and propagates DEL ' +
      '(UNLINK with lazyfree-lazy-expire)',
    async () => {
      const { run, aof } = await openCommandEngine();
      for (const args of [
        ['EXPIRE', 'k', '-1'],
        ['PEXPIRE', 'k', '0'],
        ['EXPIREAT', 'k', '1'],
        ['PEXPIREAT', 'k', String(T0)],
      ]) {
        run('SET', 'k', 'v');
        aof();
        expect(run(...args), args.join(' ')).toBe(1);
        expect(run('EXISTS', 'k')).toBe(0);
        expect(aof()).toEqual([['DEL', 'k']]);
      }
      const lazy = await openCommandEngine({ lazyfreeLazyExpire: true });
      lazy.run('SET', 'k', 'v');
      lazy.aof();
      expect(lazy.run('PEXPIREAT', 'k', '-9223372036854770000')).toBe(1);
      expect(lazy.aof()).toEqual([['UNLINK', 'k']]);
    },
  );

  it(
    'while loading the AOF a past time sets the ' + 'TTL instead of deleting (checkAlreadyExpired)',
    async () => {
      const { e, run, aof } = await openCommandEngine();
      run('SET', 'k', 'v');
      aof();
      // Replay runs on the fake AOF client, the only one served while loading.
      const loader = e.server.createAofClient();
      e.server.loading = true;
      expect(e.server.execute(loader, ['EXPIREAT', 'k', '1'])).toBe(1);
      expect(e.server.dbs[0]!.size).toBe(1);
      e.server.loading = false;
      expect(run('EXISTS', 'k')).toBe(0); // expires on the first lookup after loading
      expect(aof()).toEqual([['DEL', 'k']]);
    },
  );

  it(
    'NX / XX / GT / LT: a missing TTL is infinite; a refused ' +
      'update answers 0 and propagates nothing',
    async () => {
      const { run, aof } = await openCommandEngine();
      run('SET', 'k', 'v');
      aof();
      expect(run('EXPIRE', 'k', '100', 'XX')).toBe(0);
      expect(run('EXPIRE', 'k', '100', 'GT')).toBe(0); // nothing is greater than infinite
      expect(run('EXPIRE', 'k', '100', 'LT')).toBe(1); // anything is less than infinite
      expect(run('EXPIRE', 'k', '50', 'NX')).toBe(0);
      expect(run('EXPIRE', 'k', '100', 'GT')).toBe(0); // equal is not greater
      expect(run('EXPIRE', 'k', '100', 'LT')).toBe(0); // equal is not less
      expect(run('EXPIRE', 'k', '101', 'gt')).toBe(1);
      expect(run('EXPIRE', 'k', '99', 'lt', 'LT')).toBe(1);
      expect(run('EXPIRE', 'k', '98', 'XX', 'LT')).toBe(1);
      expect(run('TTL', 'k')).toBe(98);
      expect(run('EXPIRE', 'missing', '100')).toBe(0);
      expect(aof()).toEqual([
        ['PEXPIREAT', 'k', String(T0 + 100_000), 'LT'],
        ['PEXPIREAT', 'k', String(T0 + 101_000), 'gt'],
        ['PEXPIREAT', 'k', String(T0 + 99_000), 'lt', 'LT'],
        ['PEXPIREAT', 'k', String(T0 + 98_000), 'XX', 'LT'],
      ]);
    },
  );
});

describe('TTL / PTTL / EXPIRETIME / PEXPIRETIME / PERSIST', () => {
  it('answers -2 for a missing key, -1 without TTL, and rounds seconds to nearest', async () => {
    const { run, advance } = await openCommandEngine();
    expect(run('TTL', 'k')).toBe(-2);
    expect(run('PEXPIRETIME', 'k')).toBe(-2);
    run('SET', 'k', 'v');
    expect(run('PTTL', 'k')).toBe(-1);
    expect(run('EXPIRETIME', 'k')).toBe(-1);
    run('PEXPIRE', 'k', '1499');
    expect(run('TTL', 'k')).toBe(1);
    expect(run('PTTL', 'k')).toBe(1499);
    run('PEXPIRE', 'k', '1500');
    expect(run('TTL', 'k')).toBe(2); // (1500 + 500) / 1000
    expect(run('PEXPIRETIME', 'k')).toBe(T0 + 1500);
    expect(run('EXPIRETIME', 'k')).toBe(Math.floor((T0 + 1500 + 500) / 1000));
    advance(1500);
    expect(run('PTTL', 'k')).toBe(0); // due now, gone after this millisecond
    advance(1);
    expect(run('PTTL', 'k')).toBe(-2);
  });

  it('PERSIST answers 1 only when it removed a TTL, and propagates only then', async () => {
    const { run, aof } = await openCommandEngine();
    expect(run('PERSIST', 'k')).toBe(0);
    run('SET', 'k', 'v');
    expect(run('PERSIST', 'k')).toBe(0);
    run('EXPIRE', 'k', '10');
    aof();
    expect(run('persist', 'k')).toBe(1);
    expect(run('TTL', 'k')).toBe(-1);
    expect(aof()).toEqual([['persist', 'k']]);
  });
});

describe('RENAME / RENAMENX', () => {
  it('moves the value and its TTL; the destination loses its own TTL', async () => {
    const { run, aof } = await openCommandEngine();
    run('RPUSH', 'src', 'a', 'b');
    run('PEXPIRE', 'src', '5000');
    run('SET', 'dst', 'x', 'EX', '100');
    aof();
    expect(run('RENAME', 'src', 'dst')).toEqual(OK);
    expect(run('EXISTS', 'src')).toBe(0);
    expect(run('LRANGE', 'dst', '0', '-1')).toEqual(['a', 'b']);
    expect(run('PTTL', 'dst')).toBe(5000);
    run('SET', 'plain', 'p');
    run('RENAME', 'plain', 'dst');
    expect(run('TTL', 'dst')).toBe(-1);
    expect(aof()).toEqual([
      ['RENAME', 'src', 'dst'],
      ['SET', 'plain', 'p'],
      ['RENAME', 'plain', 'dst'],
    ]);
  });

  it('errors and no-ops: missing source, same name, RENAMENX onto an existing key', async () => {
    const { run, aof } = await openCommandEngine();
    expect(run('RENAME', 'nope', 'x')).toEqual(err('ERR no such key'));
    expect(run('RENAME', 'nope', 'nope')).toEqual(err('ERR no such key'));
    expect(run('RENAMENX', 'nope', 'x')).toEqual(err('ERR no such key'));
    run('SET', 'a', '1');
    run('SET', 'b', '2');
    aof();
    expect(run('RENAME', 'a', 'a')).toEqual(OK);
    expect(run('RENAMENX', 'a', 'a')).toBe(0);
    expect(run('RENAMENX', 'a', 'b')).toBe(0);
    expect(run('MGET', 'a', 'b')).toEqual(['1', '2']);
    expect(run('RENAMENX', 'a', 'c')).toBe(1);
    expect(run('MGET', 'a', 'c')).toEqual([null, '1']);
    expect(aof()).toEqual([['RENAMENX', 'a', 'c']]);
  });

  it('invalidates WATCH on both names', async () => {
    const { e } = await openCommandEngine();
    for (const watched of ['a', 'b']) {
      const watcher = e.server.createClient(0);
      const other = e.server.createClient(0);
      e.server.execute(other, ['SET', 'a', '1']);
      e.server.execute(watcher, ['WATCH', watched]);
      e.server.execute(other, ['RENAME', 'a', 'b']);
      e.server.execute(watcher, ['MULTI']);
      e.server.execute(watcher, ['PING']);
      expect(e.server.execute(watcher, ['EXEC']), watched).toBe(NIL_ARRAY);
    }
  });
});

describe('MOVE', () => {
  it('moves the key and its TTL to another db unless the name exists there', async () => {
    const { run, fedSince } = await openCommandEngine();
    run('SET', 'k', 'v', 'PX', '5000');
    run('SELECT', '1');
    run('SET', 'taken', 'db1');
    run('SELECT', '0');
    run('SET', 'taken', 'db0');
    fedSince();
    expect(run('MOVE', 'k', '1')).toBe(1);
    expect(run('MOVE', 'taken', '1')).toBe(0);
    expect(run('MOVE', 'nope', '1')).toBe(0);
    expect(run('EXISTS', 'k')).toBe(0);
    expect(run('GET', 'taken')).toBe('db0');
    run('SELECT', '1');
    expect(run('GET', 'k')).toBe('v');
    expect(run('PTTL', 'k')).toBe(5000);
    expect(run('GET', 'taken')).toBe('db1');
    expect(fedSince()).toEqual([[0, ['MOVE', 'k', '1']]]);
  });

  it(
    'an expired key of the same name in the ' + 'target is deleted there first (DEL in that db)',
    async () => {
      const { run, fedSince, advance } = await openCommandEngine();
      run('SELECT', '1');
      run('SET', 'k', 'old', 'PX', '1');
      run('SELECT', '0');
      run('SET', 'k', 'new');
      advance(2);
      fedSince();
      expect(run('MOVE', 'k', '1')).toBe(1);
      expect(fedSince()).toEqual([
        [1, ['MULTI']],
        [1, ['DEL', 'k']],
        [0, ['MOVE', 'k', '1']],
        [0, ['EXEC']],
      ]);
    },
  );

  it('errors: same db, index out of range, not an integer, outside the int range', async () => {
    const { run } = await openCommandEngine();
    run('SET', 'k', 'v');
    expect(run('MOVE', 'k', '0')).toEqual(err('ERR source and destination objects are the same'));
    expect(run('MOVE', 'k', '16')).toEqual(err('ERR DB index is out of range'));
    expect(run('MOVE', 'k', '-1')).toEqual(err('ERR DB index is out of range'));
    expect(run('MOVE', 'k', 'one')).toEqual(NOT_INT);
    expect(run('MOVE', 'k', '99999999999')).toEqual(
      err('ERR value is out of range, value must between -2147483648 and 2147483647'),
    );
    expect(run('GET', 'k')).toBe('v');
  });
});

describe('COPY', () => {
  it(
    'copies value and TTL in the same db; ' +
      'REPLACE overwrites, otherwise an existing key answers 0',
    async () => {
      const { run, aof } = await openCommandEngine();
      run('SET', 'src', 'v', 'PX', '5000');
      run('SET', 'dst', 'old');
      aof();
      expect(run('COPY', 'src', 'dst')).toBe(0);
      expect(run('COPY', 'src', 'dst', 'replace')).toBe(1);
      expect(run('GET', 'dst')).toBe('v');
      expect(run('PTTL', 'dst')).toBe(5000);
      expect(run('PTTL', 'src')).toBe(5000);
      expect(run('COPY', 'nope', 'dst', 'REPLACE')).toBe(0);
      expect(aof()).toEqual([['COPY', 'src', 'dst', 'replace']]);
    },
  );

  it('copies to another db with DB n', async () => {
    const { run } = await openCommandEngine();
    run('SET', 'k', 'v');
    expect(run('COPY', 'k', 'k', 'DB', '3')).toBe(1);
    expect(run('COPY', 'k', 'k', 'DB', '3')).toBe(0);
    expect(run('COPY', 'k', 'k', 'db', '3', 'REPLACE')).toBe(1);
    run('SELECT', '3');
    expect(run('GET', 'k')).toBe('v');
  });

  it(
    'makes deep copies: changing the copy or the ' + 'source later does not affect the other',
    async () => {
      const { run } = await openCommandEngine();
      run('RPUSH', 'l', 'a', 'b');
      run('HSET', 'h', 'f', '1');
      run('SADD', 's', 'x');
      run('ZADD', 'z', '1', 'm');
      run('COPY', 'l', 'l2');
      run('COPY', 'h', 'h2');
      run('COPY', 's', 's2');
      run('COPY', 'z', 'z2');
      run('RPUSH', 'l', 'c');
      run('HSET', 'h2', 'g', '2');
      run('SADD', 's', 'y');
      run('ZADD', 'z2', '5', 'm', '2', 'n');
      expect(run('LRANGE', 'l2', '0', '-1')).toEqual(['a', 'b']);
      expect(run('HLEN', 'h')).toBe(1);
      expect(run('SCARD', 's2')).toBe(1);
      expect(run('ZCARD', 'z')).toBe(1);
      expect(run('ZSCORE', 'z', 'm')).toBe('1');
      expect(run('TYPE', 'z2')).toEqual(new StatusReply('zset'));
    },
  );

  it('errors: same key in the same db, bad DB argument, unknown option', async () => {
    const { run } = await openCommandEngine();
    run('SET', 'k', 'v');
    const same = err('ERR source and destination objects are the same');
    expect(run('COPY', 'k', 'k')).toEqual(same);
    expect(run('COPY', 'k', 'k', 'DB', '0')).toEqual(same);
    expect(run('COPY', 'k', 'x', 'DB', '99')).toEqual(err('ERR DB index is out of range'));
    expect(run('COPY', 'k', 'x', 'DB', 'abc')).toEqual(NOT_INT);
    expect(run('COPY', 'k', 'x', 'DB')).toEqual(SYNTAX);
    expect(run('COPY', 'k', 'x', 'FOO')).toEqual(SYNTAX);
    expect(run('EXISTS', 'x')).toBe(0);
  });

  it('invalidates WATCH on the destination only', async () => {
    const { e } = await openCommandEngine();
    for (const [watched, aborted] of [
      ['dst', true],
      ['src', false],
    ] as const) {
      const watcher = e.server.createClient(0);
      const other = e.server.createClient(0);
      e.server.execute(other, ['SET', 'src', '1']);
      e.server.execute(watcher, ['WATCH', watched]);
      e.server.execute(other, ['COPY', 'src', 'dst', 'REPLACE']);
      e.server.execute(watcher, ['MULTI']);
      e.server.execute(watcher, ['PING']);
      const result = e.server.execute(watcher, ['EXEC']);
      if (aborted) expect(result).toBe(NIL_ARRAY);
      else expect(result).toEqual([new StatusReply('PONG')]);
    }
  });
});

describe('KEYS', () => {
  it('matches the glob and hides logically expired keys without deleting them', async () => {
    const { e, run, aof, advance } = await openCommandEngine();
    run('MSET', 'user:1', 'a', 'user:2', 'b', 'other', 'c');
    run('SET', 'user:3', 'x', 'PX', '1');
    advance(2);
    aof();
    expect((run('KEYS', 'user:*') as string[]).sort()).toEqual(['user:1', 'user:2']);
    expect((run('KEYS', '*') as string[]).sort()).toEqual(['other', 'user:1', 'user:2']);
    expect(run('KEYS', 'user:[13]')).toEqual(['user:1']);
    expect(run('KEYS', 'nomatch*')).toEqual([]);
    expect(e.server.dbs[0]!.size).toBe(4); // KEYS only checks keyIsExpired
    expect(aof()).toEqual([]);
  });
});

describe('SCAN', () => {
  it(
    'validates the cursor like strtoul: sign, ' +
      'leading zeros and "" pass; junk, spaces and 2^64 fail',
    async () => {
      const { run } = await openCommandEngine();
      run('SET', 'k', 'v');
      const invalid = err('ERR invalid cursor');
      for (const bad of ['abc', ' 0', '0 ', '1.5', '+', '-', '18446744073709551616', '0x10']) {
        expect(run('SCAN', bad), JSON.stringify(bad)).toEqual(invalid);
      }
      for (const ok of ['0', '', '00', '-0', '+0']) {
        expect(run('SCAN', ok), JSON.stringify(ok)).toEqual(['0', ['k']]);
      }
      // Valid cursors that are not ours restart the iteration.
      for (const unknown of ['-1', '18446744073709551615', '123456']) {
        expect(run('SCAN', unknown), unknown).toEqual(['0', ['k']]);
      }
    },
  );

  it('validates options: COUNT ≥ 1 and an integer, MATCH/TYPE need a value', async () => {
    const { run } = await openCommandEngine();
    expect(run('SCAN', '0', 'COUNT', '0')).toEqual(SYNTAX);
    expect(run('SCAN', '0', 'COUNT', '-1')).toEqual(SYNTAX);
    expect(run('SCAN', '0', 'COUNT', 'ten')).toEqual(NOT_INT);
    expect(run('SCAN', '0', 'MATCH')).toEqual(SYNTAX);
    expect(run('SCAN', '0', 'TYPE')).toEqual(SYNTAX);
    expect(run('SCAN', '0', 'FOO', 'bar')).toEqual(SYNTAX);
    expect(run('SCAN', 'x', 'FOO', 'bar')).toEqual(err('ERR invalid cursor')); // cursor first
  });

  it('a db smaller than COUNT is scanned in one call ending with cursor 0', async () => {
    const { run } = await openCommandEngine();
    expect(run('SCAN', '0')).toEqual(['0', []]);
    run('MSET', 'a', '1', 'b', '2', 'c', '3');
    const [cursor, keys] = run('SCAN', '0', 'COUNT', '3') as [string, string[]];
    expect(cursor).toBe('0');
    expect(keys.sort()).toEqual(['a', 'b', 'c']);
  });

  it(
    'returns every key present for the whole ' + 'scan exactly once despite concurrent writes',
    async () => {
      const { run } = await openCommandEngine();
      for (let i = 0; i < 100; i++) run('SET', `stable:${i}`, 'v');
      for (let i = 0; i < 50; i++) run('SET', `doomed:${i}`, 'v');
      const seen: string[] = [];
      let cursor = '0';
      let round = 0;
      do {
        const [next, batch] = run('SCAN', cursor, 'COUNT', '7') as [string, string[]];
        seen.push(...batch);
        cursor = next;
        // Between calls: delete some keys, add new ones, overwrite stable ones.
        run('DEL', `doomed:${round}`);
        run('SET', `added:${round}`, 'v');
        run('SET', `stable:${round}`, 'changed');
        round++;
      } while (cursor !== '0' && round < 1000);
      expect(cursor).toBe('0');
      const stable = seen.filter((k) => k.startsWith('stable:'));
      expect(stable.length).toBe(100);
      expect(new Set(stable).size).toBe(100);
      expect(new Set(seen).size).toBe(seen.length);
    },
  );

  it(
    'hands out a fresh cursor per call: ' +
      'replaying an old or unknown cursor restarts, never skips',
    async () => {
      const { run } = await openCommandEngine();
      for (const k of ['k0', 'k1', 'k2', 'k3']) run('SET', k, 'v');
      const [c1, b1] = run('SCAN', '0', 'COUNT', '1') as [string, string[]];
      expect(b1).toEqual(['k0']);
      const [c2, b2] = run('SCAN', c1, 'COUNT', '1') as [string, string[]];
      expect(b2).toEqual(['k1']);
      expect(c2).not.toBe(c1);
      // replayed: restart
      expect(run('SCAN', c1, 'COUNT', '1')).toEqual([expect.any(String), ['k0']]);
      expect(run('SCAN', c2, 'COUNT', '1')).toEqual([expect.any(String), ['k2']]);
    },
  );

  it('keeps at most 1024 open cursors per db, forgetting the least recently used', async () => {
    const { run } = await openCommandEngine();
    for (const k of ['k0', 'k1', 'k2']) run('SET', k, 'v');
    const first = (run('SCAN', '0', 'COUNT', '1') as [string, string[]])[0];
    const second = (run('SCAN', '0', 'COUNT', '1') as [string, string[]])[0];
    for (let i = 0; i < 1023; i++) run('SCAN', '0', 'COUNT', '1');
    expect(run('SCAN', second, 'COUNT', '1')).toEqual([expect.any(String), ['k1']]); // still open
    // evicted: restart
    expect(run('SCAN', first, 'COUNT', '1')).toEqual([expect.any(String), ['k0']]);
  });

  it('a cursor from before SWAPDB restarts on the db it is used with', async () => {
    const { run } = await openCommandEngine();
    for (const k of ['a0', 'a1', 'a2']) run('SET', k, 'v');
    run('SELECT', '1');
    for (const k of ['b0', 'b1', 'b2']) run('SET', k, 'v');
    run('SELECT', '0');
    const [cursor] = run('SCAN', '0', 'COUNT', '1') as [string, string[]];
    run('SWAPDB', '0', '1');
    expect(run('SCAN', cursor, 'COUNT', '1')).toEqual([expect.any(String), ['b0']]);
  });

  it(
    'filters by MATCH and TYPE ' + '(case-insensitive), and deletes expired keys it meets',
    async () => {
      const { run, aof, advance } = await openCommandEngine();
      run('MSET', 'user:1', 'a', 'user:2', 'b');
      run('RPUSH', 'user:list', 'x');
      run('SET', 'user:gone', 'v', 'PX', '1');
      advance(2);
      aof();
      expect(scanAll(run, 'MATCH', 'user:*', 'COUNT', '100').keys.sort()).toEqual([
        'user:1',
        'user:2',
        'user:list',
      ]);
      expect(aof()).toEqual([['DEL', 'user:gone']]);
      expect(scanAll(run, 'TYPE', 'LIST').keys).toEqual(['user:list']);
      expect(scanAll(run, 'TYPE', 'string', 'MATCH', '*2').keys).toEqual(['user:2']);
      expect(scanAll(run, 'TYPE', 'nosuchtype').keys).toEqual([]);
      expect(scanAll(run, 'MATCH', '*', 'COUNT', '1').keys.length).toBe(3);
    },
  );

  it(
    'TYPE none returns an expired key that its ' + 'own type lookup just deleted (Redis 7.0 quirk)',
    async () => {
      const { run, aof, advance } = await openCommandEngine();
      run('SET', 'live', 'v');
      run('SET', 'gone', 'v', 'PX', '1');
      advance(2);
      aof();
      expect(run('SCAN', '0', 'TYPE', 'none')).toEqual(['0', ['gone']]);
      expect(aof()).toEqual([['DEL', 'gone']]);
      expect(run('DBSIZE')).toBe(1);
    },
  );
});

describe('RANDOMKEY', () => {
  it('answers nil on an empty db and picks with the injected random source', async () => {
    let r = 0;
    const { run } = await openCommandEngine({ random: () => r });
    expect(run('RANDOMKEY')).toBeNull();
    run('MSET', 'a', '1', 'b', '2', 'c', '3');
    expect(run('RANDOMKEY')).toBe('a');
    r = 0.5;
    expect(run('RANDOMKEY')).toBe('b');
    r = 0.99;
    expect(run('RANDOMKEY')).toBe('c');
  });

  it('deletes expired keys it picks (propagating DEL) and picks again', async () => {
    const { run, aof, advance } = await openCommandEngine({ random: () => 0 });
    run('SET', 'gone1', 'v', 'PX', '1');
    run('SET', 'gone2', 'v', 'PX', '1');
    run('SET', 'live', 'v');
    advance(2);
    aof();
    // Position 0 holds gone1: deleted (its DEL propagated), and the last key, live, takes its
    // slot in the sampler, so the second pick at position 0 is live.
    expect(run('RANDOMKEY')).toBe('live');
    expect(aof()).toEqual([['DEL', 'gone1']]);
    expect(run('DBSIZE')).toBe(2);
    // Every pick is an existing, unexpired key: gone2 is deleted when picked, never returned.
    run('SET', 'other', 'x');
    for (let i = 0; i < 20; i++) expect(['live', 'other']).toContain(run('RANDOMKEY'));
  });
});

describe('RANDOMKEY: uniform and O(1) (Db key sampler)', () => {
  it('stays uniform and exact through deletes, renames, SWAPDB and FLUSHDB', async () => {
    const { run } = await openCommandEngine({ seed: 7 });
    for (let i = 0; i < 40; i++) run('SET', `k${i}`, 'v');
    run('RANDOMKEY'); // builds the sampler
    for (let i = 0; i < 40; i += 2) run('DEL', `k${i}`);
    run('RENAME', 'k1', 'renamed');
    const live = new Set((run('KEYS', '*') as string[]).sort());
    const counts = new Map<string, number>();
    for (let i = 0; i < 4000; i++) {
      const k = run('RANDOMKEY') as string;
      expect(live.has(k), k).toBe(true);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    expect(counts.size).toBe(live.size);
    for (const n of counts.values()) expect(n).toBeGreaterThan(100); // 200 expected per key
    run('SELECT', '1');
    run('SET', 'only-in-1', 'v');
    run('SWAPDB', '0', '1');
    run('SELECT', '0');
    expect(run('RANDOMKEY')).toBe('only-in-1');
    run('FLUSHDB');
    expect(run('RANDOMKEY')).toBe(null);
  });

  it('answers in constant time on a large keyspace', async () => {
    const { e, run } = await openCommandEngine();
    const db = e.server.dbs[0]!;
    for (let i = 0; i < 200_000; i++) db.add(`key:${i}`, 'v');
    run('RANDOMKEY');
    const start = process.hrtime.bigint();
    for (let i = 0; i < 2_000; i++) run('RANDOMKEY');
    const perCallUs = Number(process.hrtime.bigint() - start) / 1000 / 2_000;
    // A walk to a random position of 200k keys costs ~1 ms; a pick is ~1 µs. 50 µs is generous.
    expect(perCallUs).toBeLessThan(50);
  });
});
