// Data directories written by aofkv must be valid Redis 7.0 data directories: redis-check-aof
// calls every file and the manifest valid (exit 0), and redis-server 7.0.15 started on a copy
// (appendonly yes, RESP base) holds exactly the keyspace aofkv held — compared as canonical dumps.
// Checked after each restart of aofkv (an INCR appended across restarts begins each session with
// a SELECT), after a BGREWRITEAOF (base 2 + incr 2, history deleted), for every fsync policy —
// with RESP bases (aofUseRdbPreamble false), and once with the default RDB base.
// Skipped loudly when redis-server is not installed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openEngine, type Engine, type EngineOptions } from '../../src/engine.ts';
import type { FsyncPolicy } from '../../src/config.ts';
import {
  AOF_DIR,
  copyDir,
  engineDump,
  haveRedisTools,
  readManifest,
  redisKeyspaceDump,
  runOnEngine,
  runRedisCheckAof,
  startRedisOnDir,
  tempRoot,
  warnSkipped,
  workloadPhase,
} from './interop-helpers.ts';

const HAVE_REDIS = haveRedisTools();
if (!HAVE_REDIS) warnSkipped('aofkv → redis-server interop');

const tmp = tempRoot('aofkv-to-redis-');
afterAll(() => tmp.remove());

interface Names {
  appendfilename: string;
  appenddirname: string;
}
const DEFAULT_NAMES: Names = { appendfilename: 'appendonly.aof', appenddirname: AOF_DIR };

/**
 * Copy `dir` (each check gets its own copy: redis-server opens the last INCR for appending),
 * check it with redis-check-aof, load it in redis-server and compare with `expected`.
 */
async function expectRedisLoadsSame(
  dir: string,
  expected: string,
  names: Names = DEFAULT_NAMES,
): Promise<void> {
  const copy = copyDir(dir, tmp.dir('redis-copy'));
  const manifest = join(copy, names.appenddirname, `${names.appendfilename}.manifest`);
  const check = runRedisCheckAof([manifest]);
  expect(check.stdout, 'redis-check-aof output').toContain('All AOF files and manifest are valid');
  expect(check.code, check.stdout).toBe(0);
  const redis = await startRedisOnDir(copy, names);
  try {
    expect(await redisKeyspaceDump(redis.client)).toBe(expected);
  } finally {
    await redis.stop();
  }
}

async function open(dir: string, options: EngineOptions): Promise<Engine> {
  return openEngine({ dir, aofUseRdbPreamble: false, autoAofRewritePercentage: 0, ...options });
}

describe.skipIf(!HAVE_REDIS)('directories written by aofkv load in redis-server 7.0.15', () => {
  const now = Date.now();

  /** Workload phase 1, BGREWRITEAOF to completion, phase 2; closes the engine, returns its dump. */
  async function phasesAroundRewrite(engine: Engine): Promise<string> {
    await runOnEngine(engine, workloadPhase(1, now));
    await engine.db(0).command('bgrewriteaof');
    await engine.aof!.waitForRewrite();
    await runOnEngine(engine, workloadPhase(2, now));
    const expected = engineDump(engine);
    await engine.close();
    return expected;
  }

  for (const appendfsync of ['always', 'everysec', 'no'] as FsyncPolicy[]) {
    it(
      `appendfsync ${appendfsync}: all types in 16 dbs with ` +
        `expiry and binary data, after restarts and a BGREWRITEAOF`,
      async () => {
        const dir = tmp.dir(appendfsync);
        const options = { appendfsync };

        // Session 1: the empty start creates base 1 (0 bytes, RESP) and incr 1.
        let engine = await open(dir, options);
        await runOnEngine(engine, workloadPhase(1, now));
        let expected = engineDump(engine);
        await engine.close();
        expect(readManifest(dir)).toBe(
          'file appendonly.aof.1.base.aof seq 1 type b\n' +
            'file appendonly.aof.1.incr.aof seq 1 type i\n',
        );
        await expectRedisLoadsSame(dir, expected);

        // Session 2 appends to incr 1, then rewrites: base 2 + incr 2, the history files deleted.
        engine = await open(dir, options);
        await runOnEngine(engine, workloadPhase(2, now));
        expect(await engine.db(0).command('bgrewriteaof')).toBe(
          'Background append only file rewriting started',
        );
        // Writes while the rewrite runs land in incr 2.
        const during = runOnEngine(engine, workloadPhase(3, now));
        await engine.aof!.waitForRewrite();
        await during;
        expected = engineDump(engine);
        await engine.close();
        expect(readManifest(dir)).toBe(
          'file appendonly.aof.2.base.aof seq 2 type b\n' +
            'file appendonly.aof.2.incr.aof seq 2 type i\n',
        );
        await expectRedisLoadsSame(dir, expected);

        // Session 3 on top of the rewritten directory.
        engine = await open(dir, options);
        expect(engineDump(engine)).toBe(expected);
        await runOnEngine(engine, workloadPhase(4, now));
        expected = engineDump(engine);
        await engine.close();
        await expectRedisLoadsSame(dir, expected);
      },
    );
  }

  it('custom appendfilename (with a space: quoted in the manifest) and appenddirname', async () => {
    const names: Names = { appendfilename: 'my data.aof', appenddirname: 'aof files' };
    const dir = tmp.dir('names');
    let engine = await open(dir, { ...names, appendfsync: 'always' });
    const expected = await phasesAroundRewrite(engine);
    expect(readManifest(dir, 'my data.aof.manifest', 'aof files')).toBe(
      'file "my data.aof.2.base.aof" seq 2 type b\nfile "my data.aof.2.incr.aof" seq 2 type i\n',
    );
    await expectRedisLoadsSame(dir, expected, names);
    // And the other way round once more: aofkv reopens what it wrote.
    engine = await open(dir, names);
    expect(engineDump(engine)).toBe(expected);
    await engine.close();
  });

  it(
    '#TS annotations (aofTimestampEnabled) and CONFIG ' +
      'SET appendonly no / yes (the rewrite on enable)',
    async () => {
      const dir = tmp.dir('ts-toggle');
      const engine = await open(dir, { aofTimestampEnabled: true, appendfsync: 'always' });
      const db = engine.db(0);
      await runOnEngine(engine, workloadPhase(1, now));
      expect(await db.command('config', 'set', 'appendonly', 'no')).toBe('OK');
      // not in the AOF until the rewrite on enable
      await runOnEngine(engine, workloadPhase(2, now));
      expect(await db.command('config', 'set', 'appendonly', 'yes')).toBe('OK');
      await engine.aof!.waitForRewrite();
      await runOnEngine(engine, workloadPhase(3, now));
      const expected = engineDump(engine);
      await engine.close();
      expect(readManifest(dir)).toBe(
        'file appendonly.aof.2.base.aof seq 2 type b\n' +
          'file appendonly.aof.2.incr.aof seq 2 type i\n',
      );
      expect(readFileSync(join(dir, AOF_DIR, 'appendonly.aof.2.base.aof'), 'latin1')).toMatch(
        /^#TS:\d+\r\n/,
      );
      await expectRedisLoadsSame(dir, expected);
    },
  );

  it(
    'with the default RDB base (aof-use-rdb-preamble yes): ' +
      'base 2 is an RDB file Redis loads and checks',
    async () => {
      const dir = tmp.dir('rdb-base');
      const engine = await open(dir, { aofUseRdbPreamble: true, appendfsync: 'always' });
      const expected = await phasesAroundRewrite(engine);
      expect(readManifest(dir)).toBe(
        'file appendonly.aof.2.base.rdb seq 2 type b\n' +
          'file appendonly.aof.2.incr.aof seq 2 type i\n',
      );
      await expectRedisLoadsSame(dir, expected);
    },
  );

  it('an empty data set: the 0-byte base and empty incr load as an empty keyspace', async () => {
    const dir = tmp.dir('empty');
    const engine = await open(dir, {});
    const expected = engineDump(engine);
    await engine.close();
    await expectRedisLoadsSame(dir, expected);
  });
});
