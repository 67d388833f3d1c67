// Malformed requests answered exactly as Redis 7.0.15 answers them (networking.c): each input is
// sent on a fresh connection to aofkv and to a real redis-server, and the bytes received until
// the server closes the connection must be identical. Inputs that leave the request parser in a
// clean state end with QUIT, so every case ends with the server closing the connection.

import { describe, expect, it } from 'vitest';
import { haveRedisServer } from '../helpers/redis-server.ts';
import { redisAndAofkv, sendUntilClosed } from './net-helpers.ts';

const QUIT = 'QUIT\r\n';
const big = (n: number, ch = 'x') => ch.repeat(n);

/** [name, bytes]; every input ends in a protocol error, a security close, or QUIT. */
const CASES: readonly (readonly [string, string])[] = [
  ['multibulk count not a number', '*abc\r\n'],
  ['multibulk count beyond INT_MAX', '*3000000000\r\n'],
  ['multibulk count with a plus sign', '*+1\r\n$4\r\nPING\r\n'],
  ['bulk without $', '*1\r\nx\r\n'],
  ['negative bulk length', '*1\r\n$-5\r\n'],
  ['bulk length not a number', '*1\r\n$1a\r\n'],
  ['bulk length above proto-max-bulk-len', '*1\r\n$600000000\r\n'],
  ['bulk length with leading zero', '*1\r\n$04\r\nPING\r\n'],
  ['inline line of 70000 bytes without newline', big(70_000)],
  ['count line of 70000 bytes', `*${big(70_000, '1')}`],
  ['bulk count line of 70000 bytes', `*1\r\n$${big(70_000, '9')}`],
  ['unbalanced double quote', 'SET "a b\r\n'],
  ['closing quote followed by a letter', 'PING "a"b\r\n'],
  ['replies before a protocol error are delivered', 'PING\r\nECHO hi\r\n*x\r\n'],
  ['empty multibulk and blank lines are skipped', `*0\r\n\r\n\n*-1\r\nPING\r\n${QUIT}`],
  ['inline quoting and escapes', `ECHO "a\\x41\\n" 'b c'\r\n${QUIT}`],
  ['unknown command', `FOO bar "baz"\r\n${QUIT}`],
  ['wrong arity', `GET\r\n${QUIT}`],
  ['HTTP request: security close after the first line', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['POST request is closed without reply', 'POST / HTTP/1.1\r\n'],
  // strchr stops at NUL: the line never ends, so only the 64 KiB rule ends the request.
  ['NUL inside an inline line', `PING\x00x\r\n${big(70_000)}`],
  ['NUL inside a length line', `*1\x00\r\n${big(70_000)}`],
  ['bulk CRLF is skipped without checking', `*2\r\n$4\r\nECHOxx$2\r\nhiXY${QUIT}`],
];

describe.skipIf(!haveRedisServer())('protocol errors: byte for byte like redis-server 7.0', () => {
  const servers = redisAndAofkv();

  for (const [name, input] of CASES) {
    it(name, async () => {
      const [fromRedis, fromAofkv] = await Promise.all([
        sendUntilClosed(servers.redis.port, input),
        sendUntilClosed(servers.aofkv.port, input),
      ]);
      expect(fromAofkv).toBe(fromRedis);
    });
  }
});
