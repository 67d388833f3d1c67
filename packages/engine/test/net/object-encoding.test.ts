// OBJECT ENCODING / REFCOUNT / FREQ / HELP against a real redis-server 7.0.15: the same writes on
// both, the same replies. Scenarios cross each of Redis's default thresholds (44-byte embstr,
// 128 entries / 64-byte values for listpacks, 512 integers for intsets) and show that a
// conversion is never undone.

import { describe, expect, it } from 'vitest';
import { haveRedisServer } from '../helpers/redis-server.ts';
import { RawClient, redisAndAofkv, resp, sendUntilClosed } from './net-helpers.ts';

const many = (n: number, f: (i: number) => string[]) =>
  Array.from({ length: n }, (_, i) => f(i)).flat();

/** [name, writes (argv lists), then the OBJECT queries (argv lists)]. */
const SCENARIOS: readonly (readonly [string, string[][], string[][]])[] = [
  [
    'strings: int, embstr, raw; shared integers',
    [
      ['SET', 'i', '12345'],
      ['SET', 'small', '7'],
      ['SET', 'neg', '-5'],
      ['SET', 'lead0', '0123'],
      ['SET', 'e', 'x'.repeat(44)],
      ['SET', 'r', 'x'.repeat(45)],
      ['INCR', 'ctr'],
      ['SET', 'big', '99999999999999999999'],
    ],
    ['i', 'small', 'neg', 'lead0', 'e', 'r', 'ctr', 'big', 'missing'].flatMap((k) => [
      ['OBJECT', 'ENCODING', k],
      ['OBJECT', 'REFCOUNT', k],
    ]),
  ],
  ['lists are quicklists in 7.0', [['RPUSH', 'l', 'a', 'b']], [['OBJECT', 'ENCODING', 'l']]],
  [
    'hashes: listpack up to 512 fields of 64 bytes, then hashtable for good',
    [
      ['HSET', 'h1', 'f', 'v'],
      ['HSET', 'h2', ...many(512, (i) => [`f${i}`, 'v'])],
      ['HSET', 'h3', ...many(513, (i) => [`f${i}`, 'v'])],
      ['HSET', 'h4', 'f', 'x'.repeat(64)],
      ['HSET', 'h5', 'f', 'x'.repeat(65)],
      ['HSET', 'h6', 'f', 'x'.repeat(65)],
      ['HSET', 'h6', 'f', 'short'],
      ['HDEL', 'h3', ...many(500, (i) => [`f${i}`])],
    ],
    ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((k) => ['OBJECT', 'ENCODING', k]),
  ],
  [
    'sets: intset up to 512 integers, else hashtable',
    [
      ['SADD', 's1', '1', '2', '3'],
      ['SADD', 's2', '1', 'a'],
      ['SADD', 's3', ...many(512, (i) => [String(i)])],
      ['SADD', 's4', ...many(513, (i) => [String(i)])],
      ['SADD', 's5', '1'],
      ['SADD', 's5', 'x'],
      ['SREM', 's5', 'x'],
    ],
    ['s1', 's2', 's3', 's4', 's5'].map((k) => ['OBJECT', 'ENCODING', k]),
  ],
  [
    'sorted sets: listpack up to 128 members of 64 bytes, else skiplist',
    [
      ['ZADD', 'z1', '1', 'a'],
      ['ZADD', 'z2', ...many(128, (i) => [String(i), `m${i}`])],
      ['ZADD', 'z3', ...many(129, (i) => [String(i), `m${i}`])],
      ['ZADD', 'z4', '1', 'x'.repeat(65)],
      ['ZREM', 'z3', 'm1', 'm2'],
    ],
    ['z1', 'z2', 'z3', 'z4'].map((k) => ['OBJECT', 'ENCODING', k]),
  ],
  [
    'errors and help',
    [['SET', 'k', 'v']],
    [
      ['OBJECT', 'FOO', 'k'],
      ['OBJECT', 'ENCODING'],
      ['OBJECT', 'FREQ', 'k'],
      ['OBJECT', 'HELP'],
      ['OBJECT', 'ENCODING', 'k', 'extra'],
    ],
  ],
];

function play(port: number, writes: string[][], queries: string[][]): Promise<string> {
  const commands = [['FLUSHALL'], ...writes, ...queries].map((argv) => resp(...argv)).join('');
  return sendUntilClosed(port, `${commands}QUIT\r\n`);
}

describe.skipIf(!haveRedisServer())('OBJECT: like redis-server 7.0', () => {
  const servers = redisAndAofkv();

  for (const [name, writes, queries] of SCENARIOS) {
    it(name, async () => {
      const fromRedis = await play(servers.redis.port, writes, queries);
      const fromAofkv = await play(servers.aofkv.port, writes, queries);
      expect(fromAofkv).toBe(fromRedis);
    });
  }

  it('IDLETIME is refused rather than invented', async () => {
    const c = await RawClient.connect(servers.aofkv.port);
    c.send(resp('SET', 'k', 'v') + resp('OBJECT', 'IDLETIME', 'k'));
    await c.until((t) => t.endsWith('times\r\n'));
    expect(c.text).toBe(
      '+OK\r\n-ERR OBJECT IDLETIME is not supported: aofkv does not track key access times\r\n',
    );
    c.close();
  });
});
