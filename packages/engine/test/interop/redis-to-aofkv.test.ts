// Data directories written by redis-server 7.0.15 (aof-use-rdb-preamble no) must load in aofkv
// with exactly the keyspace the live server had. One server per scenario runs a workload in
// phases; after each phase the live keyspace is dumped over RESP, the directory is copied, and
// aofkv opens the copy (normally and read-only) — the two canonical dumps must be equal.
// Covered: every type in 16 dbs, expiry, binary data, MULTI/EXEC, #TS annotations
// (aof-timestamp-enabled yes), INCR files across a BGREWRITEAOF, and the INCR that follows
// CONFIG SET appendonly no / yes (the temp INCR renamed after the first rewrite).
// Skipped loudly when redis-server is not installed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openEngine } from '../../src/engine.ts';
import {
  AOF_DIR,
  call,
  copyDir,
  engineDump,
  haveRedisTools,
  readManifest,
  redisKeyspaceDump,
  runOnRedis,
  startRedisOnDir,
  tempRoot,
  waitForRedisRewrite,
  warnSkipped,
  workloadPhase,
  type RedisInstance,
} from './interop-helpers.ts';

const HAVE_REDIS = haveRedisTools();
if (!HAVE_REDIS) warnSkipped('redis-server → aofkv interop');

const tmp = tempRoot('redis-to-aofkv-');
afterAll(() => tmp.remove());

/**
 * The live server's keyspace must be what aofkv loads from a copy of its directory (both ways of
 * opening).
 */
async function expectAofkvLoadsSame(redis: RedisInstance): Promise<string> {
  const expected = await redisKeyspaceDump(redis.client);
  // With appendfsync always every acknowledged write is in the file; no rewrite is running (the
  // callers wait), so the copy is a consistent directory.
  const copy = copyDir(redis.dir, tmp.dir('aofkv-copy'));
  const readOnly = await openEngine({ dir: copy, readOnly: true });
  try {
    expect(engineDump(readOnly)).toBe(expected);
  } finally {
    await readOnly.close();
  }
  const engine = await openEngine({ dir: copy, autoCron: false, autoAofRewritePercentage: 0 });
  try {
    expect(engineDump(engine)).toBe(expected);
  } finally {
    await engine.close();
  }
  return expected;
}

/** Poll the server's TIME (real round trips) until its unix second changes. */
async function waitForNextRedisSecond(redis: RedisInstance): Promise<void> {
  const second = async () => ((await call(redis.client, 'TIME')) as string[])[0];
  const start = await second();
  while ((await second()) === start);
}

describe.skipIf(!HAVE_REDIS)('directories written by redis-server 7.0.15 load in aofkv', () => {
  const now = Date.now();

  it(
    'all types in 16 dbs, expiry, MULTI/EXEC, ' + '#TS annotations, across a BGREWRITEAOF',
    async () => {
      const redis = await startRedisOnDir(tmp.dir('redis-ts'), { timestamps: true });
      try {
        await runOnRedis(redis.client, workloadPhase(1, now));
        // The start-up base's forced #TS used up this second: #TS lines appear in the INCR from the
        // next second on, so write again once the server's clock has moved.
        await waitForNextRedisSecond(redis);
        await runOnRedis(redis.client, [['SET', 'next-second', '1']]);
        await expectAofkvLoadsSame(redis);
        const incr = readFileSync(join(redis.dir, AOF_DIR, 'appendonly.aof.1.incr.aof'), 'latin1');
        expect(incr).toMatch(/\n#TS:\d+\r\n/); // the annotations really are there

        // The RESP base Redis writes (with its forced #TS first line), then a new INCR.
        expect(await call(redis.client, 'BGREWRITEAOF')).toBeTruthy();
        await waitForRedisRewrite(redis.client);
        await runOnRedis(redis.client, workloadPhase(2, now));
        expect(readManifest(redis.dir)).toBe(
          'file appendonly.aof.2.base.aof seq 2 type b\n' +
            'file appendonly.aof.2.incr.aof seq 2 type i\n',
        );
        expect(
          readFileSync(join(redis.dir, AOF_DIR, 'appendonly.aof.2.base.aof'), 'latin1'),
        ).toMatch(/^#TS:\d+\r\n\*2\r\n\$6\r\nSELECT\r\n/);
        await expectAofkvLoadsSame(redis);
      } finally {
        await redis.stop();
      }
    },
  );

  it(
    'after CONFIG SET appendonly no / yes: ' + 'the rewrite on enable and the INCR after it',
    async () => {
      const redis = await startRedisOnDir(tmp.dir('redis-toggle'));
      try {
        await runOnRedis(redis.client, workloadPhase(1, now));
        await call(redis.client, 'CONFIG', 'SET', 'appendonly', 'no');
        // Written while the AOF is off: only the rewrite on re-enable can bring these to disk.
        await runOnRedis(redis.client, workloadPhase(2, now));
        await call(redis.client, 'CONFIG', 'SET', 'appendonly', 'yes');
        await waitForRedisRewrite(redis.client);
        await runOnRedis(redis.client, workloadPhase(3, now));
        expect(readManifest(redis.dir)).toBe(
          'file appendonly.aof.2.base.aof seq 2 type b\n' +
            'file appendonly.aof.2.incr.aof seq 2 type i\n',
        );
        await expectAofkvLoadsSame(redis);
      } finally {
        await redis.stop();
      }
    },
  );

  it('everysec, after a clean shutdown and a restart of redis-server', async () => {
    const dir = tmp.dir('redis-restart');
    let redis = await startRedisOnDir(dir, { appendfsync: 'everysec' });
    await runOnRedis(redis.client, workloadPhase(1, now));
    await redis.stop(); // SIGTERM: Redis flushes and fsyncs the AOF before exiting
    redis = await startRedisOnDir(dir, { appendfsync: 'everysec' });
    try {
      await runOnRedis(redis.client, workloadPhase(2, now));
      // Still everysec: a real round trip that forces nothing, so stop first for a flushed file.
      const expected = await redisKeyspaceDump(redis.client);
      await redis.stop();
      const engine = await openEngine({ dir, readOnly: true });
      try {
        expect(engineDump(engine)).toBe(expected);
      } finally {
        await engine.close();
      }
    } finally {
      await redis.stop();
    }
  });
});
