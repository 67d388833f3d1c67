// Differential test: seeded random command streams run against a real redis-server 7.0 and against
// aofkv; every reply and the final keyspace of all 16 databases must match (see runner.ts for the
// comparison rules, generator.ts for what is generated).
//
//   npx vitest run --project engine test/differential  20 seeds × 400 commands per stream
//   DIFF_SEEDS=200 DIFF_OPS=2000 npx vitest run ...    longer
//   SEED=7 DIFF_STREAM=lists npx vitest run ...        replay one seed of one stream
//   DIFF_SEED_BASE=1000                                other seeds (default 1..DIFF_SEEDS)
//   DIFF_REPORT=/tmp/diff.json                         also write the mismatches as JSON
//   DIFF_EXCLUDE=unwatch,lset                          leave commands out (look past a known bug)
//   DIFF_CHECK_EVERY=50                                also compare the keyspace every ~50 commands
//   DIFF_LOG=1                                         write every seed's log to
//                                                      $TMPDIR/aofkv-diff-*.log
//   DIFF_STATS=1                                       print per-command ok/error reply counts
//
// One stream per command family (only that family's commands, so a failure points at it), a
// transactions stream (MULTI/EXEC/WATCH with a second client) and a mixed stream (everything,
// interleaved, which is where WRONGTYPE and cross-type interplay happen). Commands aofkv does not
// know yet are left out of the streams (and listed by the coverage test, which then fails).

import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine } from '../../src/engine.ts';
import { ErrorReply, NIL_ARRAY, StatusReply } from '../../src/reply.ts';
import { haveRedisServer, startRedis, type RedisInstance } from '../helpers/redis-server.ts';
import {
  FAMILIES,
  GENERATED_COMMANDS,
  familyOf,
  generateStream,
  type StreamKind,
} from './generator.ts';
import { repliesMatch, show } from './normalize.ts';
import { RespClient } from './resp-client.ts';
import { DiffRunner, formatMismatch, replyStats, type Mismatch } from './runner.ts';

const HAVE_REDIS = haveRedisServer();
if (!HAVE_REDIS) {
  console.warn(
    '\n**********************************************************************\n' +
      '*  DIFFERENTIAL SUITE SKIPPED: `redis-server` is not on PATH.         *\n' +
      '*  Install Redis 7.0 (apt-get install redis-server) to run it.        *\n' +
      '**********************************************************************\n',
  );
}

const env = process.env;
const OPS = positiveInt(env.DIFF_OPS, 400);
const SEEDS: number[] =
  env.SEED !== undefined && env.SEED !== ''
    ? [positiveInt(env.SEED, 1)]
    : Array.from(
        { length: positiveInt(env.DIFF_SEEDS, 20) },
        (_, i) => positiveInt(env.DIFF_SEED_BASE, 1) + i,
      );
const ALL_STREAMS: StreamKind[] = [...FAMILIES, 'mixed'];
const STREAMS: StreamKind[] =
  env.DIFF_STREAM !== undefined && env.DIFF_STREAM !== ''
    ? env.DIFF_STREAM.split(',').map((name) => {
        if (!(ALL_STREAMS as string[]).includes(name))
          throw new Error(`DIFF_STREAM: unknown stream ${name} (${ALL_STREAMS.join(', ')})`);
        return name as StreamKind;
      })
    : ALL_STREAMS;

function positiveInt(text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`expected a non-negative integer, got ${JSON.stringify(text)}`);
  return n;
}

const collected: Mismatch[] = [];

describe('differential harness', () => {
  it('generates the same stream for the same seed, and a shorter run is a prefix (replay)', () => {
    const all = () => true;
    for (const kind of ALL_STREAMS) {
      const a = generateStream({ seed: 42, kind, ops: 300, supported: all });
      expect(generateStream({ seed: 42, kind, ops: 300, supported: all })).toEqual(a);
      const short = generateStream({ seed: 42, kind, ops: 100, supported: all });
      expect(a.slice(0, short.length)).toEqual(short);
      expect(generateStream({ seed: 43, kind, ops: 300, supported: all })).not.toEqual(a);
    }
  });
});

describe.skipIf(!HAVE_REDIS)('differential: aofkv vs redis-server 7.0', () => {
  let redis: RedisInstance;
  let second: RespClient;
  let dump: RespClient;
  let runner: DiffRunner;

  beforeAll(async () => {
    redis = await startRedis();
    second = await RespClient.connect(redis.port);
    dump = await RespClient.connect(redis.port);
    runner = new DiffRunner([redis.client, second], dump);
    runner.checkEvery = positiveInt(env.DIFF_CHECK_EVERY, 0);
    runner.alwaysLog = env.DIFF_LOG !== undefined && env.DIFF_LOG !== '';
    runner.exclude = new Set(
      (env.DIFF_EXCLUDE ?? '')
        .split(',')
        .filter((s) => s !== '')
        .map((s) => s.toLowerCase()),
    );
  });

  afterAll(async () => {
    await second?.close();
    await dump?.close();
    await redis?.stop();
    if (env.DIFF_STATS) {
      const rows = [...replyStats]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(
          ([name, s]) =>
            `  ${name.padEnd(18)} ok ${String(s.ok).padStart(6)}  err ${String(s.err).padStart(6)}`,
        );
      console.log(`differential: replies per command (Redis side)\n${rows.join('\n')}`);
    }
    if (env.DIFF_REPORT) {
      const json = collected.map((m) => ({
        stream: m.kind,
        seed: m.seed,
        step: m.index,
        command: m.argv,
        family: familyOf(m.argv[0] ?? ''),
        redis: show(m.redis),
        aofkv: show(m.aofkv),
        note: m.note,
        log: m.logFile,
      }));
      await writeFile(env.DIFF_REPORT, `${JSON.stringify(json, null, 2)}\n`);
    }
  });

  it('runs against Redis 7.0', async () => {
    const info = await redis.client.call('INFO', 'server');
    const version = /redis_version:(\S+)/.exec(String(info))?.[1];
    expect(version, 'the reference server must be Redis 7.0.x').toMatch(/^7\.0\./);
  });

  it('harness self-check: the RESP client keeps every distinction aofkv replies make', async () => {
    const c = redis.client;
    await c.call('SELECT', 15);
    const replies = await c.pipeline([
      ['SET', 'self:bin', '\x00\xff\r\n\xc3\x28'],
      ['GET', 'self:bin'],
      ['SET', 'self:n', '9223372036854775806'],
      ['INCR', 'self:n'],
      ['INCRBY', 'self:small', '-5'],
      ['MGET', 'self:bin', 'self:missing'],
      ['LPOP', 'self:missing', '2'],
      ['ECHO', 'OK'],
      ['INCR', 'self:bin'],
      ['FLUSHDB'],
      ['SELECT', '0'],
    ]);
    expect(replies.slice(0, 9)).toEqual([
      new StatusReply('OK'),
      '\x00\xff\r\n\xc3\x28',
      new StatusReply('OK'),
      9223372036854775807n,
      -5,
      ['\x00\xff\r\n\xc3\x28', null],
      NIL_ARRAY,
      'OK',
      new ErrorReply('ERR value is not an integer or out of range'),
    ]);
    // Shapes a client can tell apart must not compare equal.
    expect(repliesMatch(['x'], 'OK', new StatusReply('OK'))).toBe(false);
    expect(repliesMatch(['x'], null, NIL_ARRAY)).toBe(false);
    expect(repliesMatch(['x'], [], NIL_ARRAY)).toBe(false);
    expect(repliesMatch(['x'], 5, 5n)).toBe(false);
    expect(repliesMatch(['x'], 9223372036854775807n, 9223372036854775807n)).toBe(true);
    expect(repliesMatch(['smembers'], ['b', 'a'], ['a', 'b'])).toBe(true);
    expect(repliesMatch(['lrange'], ['b', 'a'], ['a', 'b'])).toBe(false);
    expect(repliesMatch(['hgetall'], ['f1', 'v1', 'f2', 'v2'], ['f2', 'v2', 'f1', 'v1'])).toBe(
      true,
    );
    expect(repliesMatch(['hgetall'], ['f1', 'v2', 'f2', 'v1'], ['f2', 'v2', 'f1', 'v1'])).toBe(
      false,
    );
    expect(repliesMatch(['pttl'], 99_999_400, 100_000_000)).toBe(true);
    expect(repliesMatch(['pttl'], -1, -2)).toBe(false);
    expect(
      repliesMatch(
        ['exec'],
        [['b', 'a'], 1],
        [['a', 'b'], 1],
        [
          ['SMEMBERS', 's'],
          ['INCR', 'n'],
        ],
      ),
    ).toBe(true);
  });

  it('aofkv knows every command the generator emits', async () => {
    const engine = await openEngine({ appendonly: false });
    const missing = GENERATED_COMMANDS.filter((name) => !engine.server.table.has(name));
    await engine.close();
    if (missing.length > 0) {
      const byFamily = new Map<string, string[]>();
      for (const name of missing)
        byFamily.set(familyOf(name), [...(byFamily.get(familyOf(name)) ?? []), name]);
      const lines = [...byFamily].map(([f, names]) => `  ${f}: ${names.join(' ')}`);
      console.warn(
        `differential: not yet implemented in aofkv (left out of the streams):\n` +
          `${lines.join('\n')}`,
      );
    }
    expect(
      missing,
      'commands the differential generator emits but aofkv does not implement',
    ).toEqual([]);
  });

  for (const kind of STREAMS) {
    it(`${kind}: ${SEEDS.length} seed(s) × ${OPS} commands, ` +
      `every reply and the final keyspace match`, async (ctx) => {
      const mismatches: Mismatch[] = [];
      let steps = 0;
      for (const seed of SEEDS) {
        const result = await runner.runSeed(kind, seed, OPS);
        steps += result.steps;
        if (result.mismatch !== null) mismatches.push(result.mismatch);
      }
      // Every command of the family is still missing in aofkv (the coverage test says which).
      if (steps === 0 && OPS > 0) ctx.skip(`aofkv implements none of the ${kind} commands yet`);
      collected.push(...mismatches);
      if (mismatches.length > 0) {
        const summary = mismatches
          .map((m) => `${m.argv[0]?.toUpperCase()}(seed ${m.seed})`)
          .join(', ');
        const report = mismatches.map(formatMismatch).join('\n\n');
        throw new Error(
          `${mismatches.length} of ${SEEDS.length} seed(s) of the ${kind} stream mismatch ` +
            `(first failure per seed): ${summary}\n\n${report}`,
        );
      }
    }, 300_000);
  }
});
