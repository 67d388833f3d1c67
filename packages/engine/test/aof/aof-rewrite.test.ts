// BGREWRITEAOF without fork, on the simulated world: manifest transitions of Redis 7.0's
// multi-part AOF (spec §6, tests of §11.2/§11.4 by name), failure accounting and the limiter,
// and the point-in-time guarantee under a concurrent random workload (many seeds).
import { describe, expect, it } from 'vitest';
import {
  createPrng,
  inspectAof,
  openSimEngine,
  type SimEngine,
  type SimEngineOptions,
} from '@aofkv/engine/testing';
import { dumpKeyspace } from '../../src/cli/dump.ts';

/** RESP bases unless a test asks for RDB: the manifest names below spell out `.base.aof`. */
async function setup(options: SimEngineOptions = {}): Promise<SimEngine> {
  return openSimEngine({
    appendfsync: 'everysec',
    autoAofRewritePercentage: 0,
    aofUseRdbPreamble: false,
    ...options,
  });
}

function manifestText(s: SimEngine): string {
  return s.fs.fileContent(`${s.aofDir}/appendonly.aof.manifest`).toString('latin1');
}

const dump = (s: SimEngine) => dumpKeyspace(s.engine.server.dbs);

async function reloadAndCompare(s: SimEngine): Promise<void> {
  const before = dump(s);
  await s.engine.debugLoadAof();
  expect(dump(s)).toBe(before);
}

describe('aof rewrite: manifest and files (Redis 7.0 multi-part)', () => {
  it(
    'opens and persists a new INCR at the start, ' +
      'then base 2 + incr 2 after success, history deleted',
    async () => {
      const s = await setup();
      const db = s.engine.db(0);
      await db.set('k1', 'v1');
      await db.rpush('list', 'a', 'b', 'c');
      expect(await db.command('bgrewriteaof')).toBe(
        'Background append only file rewriting started',
      );
      // Persisted before switching: a crash now leaves base 1, incr 1, incr 2 — all loadable.
      expect(manifestText(s)).toBe(
        'file appendonly.aof.1.base.aof seq 1 type b\n' +
          'file appendonly.aof.1.incr.aof seq 1 type i\n' +
          'file appendonly.aof.2.incr.aof seq 2 type i\n',
      );
      await db.set('k2', 'during');
      await s.finishRewrite();
      expect(manifestText(s)).toBe(
        'file appendonly.aof.2.base.aof seq 2 type b\n' +
          'file appendonly.aof.2.incr.aof seq 2 type i\n',
      );
      const files = s.fs.readdir(s.aofDir);
      expect(files).not.toContain('appendonly.aof.1.base.aof');
      expect(files).not.toContain('appendonly.aof.1.incr.aof');
      expect(s.fs.readdir('/data').filter((n) => n.startsWith('temp-'))).toEqual([]);
      const info = s.engine.aof!.info();
      expect(info.aof_rewrites).toBe(1);
      expect(info.aof_last_bgrewrite_status).toBe('ok');
      expect(info.aof_base_size).toBe(
        s.fs.fileContent(`${s.aofDir}/appendonly.aof.2.base.aof`).length +
          inspectAof(s.engine).writer.incrSizeBytes,
      );
      await reloadAndCompare(s);
    },
  );

  it(
    'with aof-use-rdb-preamble (the default) the new ' +
      'base is an RDB file that reloads to the same data',
    async () => {
      const s = await openSimEngine({ autoAofRewritePercentage: 0 });
      const db = s.engine.db(2);
      await db.set('k', 'v');
      await db.zadd('z', '-0', 'neg-zero', 'inf', 'top', 1.5, 'm');
      await db.hset('h', 'f', 'v');
      expect(manifestText(s)).toMatch(/^file appendonly\.aof\.1\.base\.rdb seq 1 type b\n/);
      await db.command('bgrewriteaof');
      await db.set('after', '1');
      await s.finishRewrite();
      expect(manifestText(s)).toBe(
        'file appendonly.aof.2.base.rdb seq 2 type b\n' +
          'file appendonly.aof.2.incr.aof seq 2 type i\n',
      );
      expect(
        s.fs.fileContent(`${s.aofDir}/appendonly.aof.2.base.rdb`).subarray(0, 9).toString(),
      ).toBe('REDIS0010');
      await reloadAndCompare(s);
      // (A -0 score reloads as 0 from a small zset's RDB encoding, exactly as in Redis 7.0.15.)
      expect(await db.command('zscore', 'z', 'top')).toBe('inf');
    },
  );

  it(
    'every new INCR file begins with a SELECT, ' +
      'and the RESP base starts with #TS: when timestamps are on',
    async () => {
      const s = await setup({ aofTimestampEnabled: true });
      const db = s.engine.db(4);
      await db.set('a', '1');
      await db.command('bgrewriteaof');
      s.clock.advance(1000); // #TS: is written at most once per second, new INCR or not
      await db.set('b', '2');
      await s.finishRewrite();
      const incr = s.fs.fileContent(`${s.aofDir}/appendonly.aof.2.incr.aof`).toString('latin1');
      expect(incr).toMatch(/^#TS:\d+\r\n\*2\r\n\$6\r\nSELECT\r\n\$1\r\n4\r\n/);
      const base = s.fs.fileContent(`${s.aofDir}/appendonly.aof.2.base.aof`).toString('latin1');
      expect(base).toMatch(/^#TS:\d+\r\n\*2\r\n\$6\r\nSELECT\r\n\$1\r\n4\r\n\*3\r\n\$3\r\nSET\r\n/);
    },
  );

  it('BGREWRITEAOF is refused if already in progress', async () => {
    const s = await setup();
    const db = s.engine.db(0);
    await db.set('a', '1');
    await db.command('bgrewriteaof');
    await expect(db.command('bgrewriteaof')).rejects.toThrow(
      'ERR Background append only file rewriting already in progress',
    );
    await s.finishRewrite();
  });

  /** Writes more than the start's presync threshold (256 KiB) that no fsync has covered yet. */
  async function writeUnsynced(s: SimEngine): Promise<string> {
    const db = s.engine.db(0);
    const value = 'v'.repeat(1000);
    for (let i = 0; i < 300; i++) await db.set(`key:${i}`, value);
    const w = s.inspect().writer;
    expect(w.incrSizeBytes - w.incrFsyncOffsetBytes).toBeGreaterThan(256 * 1024);
    return s.currentIncrPath();
  }

  it(
    'with many unsynced bytes the start lets ' + 'bio fsync the old INCR first, then switches',
    async () => {
      const s = await setup();
      const db = s.engine.db(0);
      const oldIncr = await writeUnsynced(s);
      const before = manifestText(s);
      const reply = db.command('bgrewriteaof');
      // Same turn: bio has fsynced the old INCR; the manifest does not name a new INCR yet, and the
      // rewrite counts as in progress.
      expect(s.fs.durableContent(oldIncr)).toEqual(s.fs.fileContent(oldIncr));
      expect(manifestText(s)).toBe(before);
      expect(inspectAof(s.engine).rewrite.inProgress).toBe(true);
      await expect(db.command('bgrewriteaof')).rejects.toThrow('already in progress');
      expect(await reply).toBe('Background append only file rewriting started');
      expect(manifestText(s)).toContain('appendonly.aof.2.incr.aof seq 2 type i');
      await db.set('after', 'switch');
      await s.finishRewrite();
      expect(s.engine.aof!.info().aof_last_bgrewrite_status).toBe('ok');
      await reloadAndCompare(s);
    },
  );

  it(
    'turning AOF off while the start waits for ' + 'its fsync cancels it: no new INCR, no failure',
    async () => {
      const s = await setup();
      const db = s.engine.db(0);
      await writeUnsynced(s);
      const before = manifestText(s);
      const reply = db.command('bgrewriteaof');
      const off = db.command('config', 'set', 'appendonly', 'no');
      expect(await reply).toBe('Background append only file rewriting started');
      expect(await off).toBe('OK');
      await s.engine.aof!.waitForRewrite();
      expect(manifestText(s)).toBe(before);
      const info = s.engine.aof!.info();
      expect(info.aof_rewrites).toBe(0);
      expect(info.aof_last_bgrewrite_status).toBe('ok');
      expect(info.aof_rewrite_in_progress).toBe(0);
    },
  );

  it('MULTI with BGREWRITEAOF: answers scheduled, and the cron starts it', async () => {
    const s = await setup();
    const db = s.engine.db(0);
    await db.set('a', '1');
    const res = await db.multi().command('bgrewriteaof').exec();
    expect(res).toEqual([[null, 'Background append only file rewriting scheduled']]);
    expect(s.engine.aof!.info().aof_rewrite_scheduled).toBe(1);
    s.tick();
    expect(inspectAof(s.engine).rewrite.inProgress).toBe(true);
    await s.finishRewrite();
    expect(s.engine.aof!.info().aof_rewrite_scheduled).toBe(0);
  });

  it('AOF multiple rewrite failures will open multiple INCR AOFs', async () => {
    const s = await setup();
    const db = s.engine.db(0);
    await db.set('k', 'v');
    const fault = s.fs.faults.add({
      op: 'write',
      error: 'EIO',
      persistent: true,
      pathIncludes: 'temp-rewriteaof-bg',
    });
    for (let i = 0; i < 3; i++) {
      await db.command('bgrewriteaof');
      await s.finishRewrite();
    }
    expect(s.engine.aof!.info().aof_last_bgrewrite_status).toBe('err');
    expect(s.engine.aof!.info().aof_rewrites_consecutive_failures).toBe(3);
    expect(manifestText(s)).toBe(
      'file appendonly.aof.1.base.aof seq 1 type b\n' +
        [1, 2, 3, 4].map((n) => `file appendonly.aof.${n}.incr.aof seq ${n} type i\n`).join(''),
    );
    expect(s.fs.readdir('/data').filter((n) => n.startsWith('temp-'))).toEqual([]);
    await reloadAndCompare(s);
    fault.remove();
    await db.command('bgrewriteaof');
    await s.finishRewrite();
    expect(manifestText(s)).toBe(
      'file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.5.incr.aof seq 5 type i\n',
    );
    expect(s.engine.aof!.info().aof_rewrites_consecutive_failures).toBe(0);
  });

  it(
    'AOF will trigger limit when AOFRW fails ' + 'many times; a manual BGREWRITEAOF still runs',
    async () => {
      const s = await setup({ autoAofRewritePercentage: 1, autoAofRewriteMinSize: 100 });
      const logs: string[] = [];
      s.engine.on('log', (_level: string, message: string) => logs.push(message));
      const db = s.engine.db(0);
      const fault = s.fs.faults.add({
        op: 'write',
        error: 'EIO',
        persistent: true,
        pathIncludes: 'temp-rewriteaof-bg',
      });
      await db.set('k', 'x'.repeat(200));
      for (let i = 0; i < 3; i++) {
        s.tick(); // growth is over 1%: automatic rewrite
        expect(inspectAof(s.engine).rewrite.inProgress).toBe(true);
        await s.finishRewrite();
      }
      s.tick();
      expect(inspectAof(s.engine).rewrite.inProgress).toBe(false);
      expect(logs.filter((l) => l.includes('triggered the limit'))).toHaveLength(1);
      s.tick();
      expect(logs.filter((l) => l.includes('triggered the limit'))).toHaveLength(1);
      s.clock.advance(60_000);
      s.tick(); // the 1-minute back-off has passed: one more automatic attempt
      expect(inspectAof(s.engine).rewrite.inProgress).toBe(true);
      await s.finishRewrite();
      fault.remove();
      expect(await db.command('bgrewriteaof')).toBe(
        'Background append only file rewriting started',
      );
      await s.finishRewrite();
      expect(s.engine.aof!.info().aof_last_bgrewrite_status).toBe('ok');
    },
  );

  it("AOF rewrite doesn't open new aof when AOF turn off", async () => {
    const s = await setup();
    const db = s.engine.db(0);
    await db.set('k', 'v');
    await db.command('config', 'set', 'appendonly', 'no');
    await db.set('k2', 'v2'); // not in the AOF, but in the snapshot
    await db.command('bgrewriteaof');
    await s.finishRewrite();
    expect(manifestText(s)).toBe('file appendonly.aof.2.base.aof seq 2 type b\n');
    await reloadAndCompare(s);
    await db.command('config', 'set', 'appendonly', 'yes');
    await s.finishRewrite();
    // The reload re-read a manifest without INCR entries: INCR numbering starts again at 1.
    expect(manifestText(s)).toBe(
      'file appendonly.aof.3.base.aof seq 3 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n',
    );
  });

  it(
    'AOF enable/disable auto gc: ' + 'history stays in this exact order, then goes at once',
    async () => {
      const s = await setup({ aofDisableAutoGc: true });
      const db = s.engine.db(0);
      await db.set('k', 'v');
      for (let i = 0; i < 2; i++) {
        await db.command('bgrewriteaof');
        await s.finishRewrite();
      }
      expect(manifestText(s)).toBe(
        'file appendonly.aof.3.base.aof seq 3 type b\n' +
          'file appendonly.aof.2.incr.aof seq 2 type h\n' +
          'file appendonly.aof.2.base.aof seq 2 type h\n' +
          'file appendonly.aof.1.incr.aof seq 1 type h\n' +
          'file appendonly.aof.1.base.aof seq 1 type h\n' +
          'file appendonly.aof.3.incr.aof seq 3 type i\n',
      );
      expect(s.fs.readdir(s.aofDir)).toContain('appendonly.aof.1.base.aof');
      await db.command('config', 'set', 'aof-disable-auto-gc', 'no');
      expect(manifestText(s)).toBe(
        'file appendonly.aof.3.base.aof seq 3 type b\n' +
          'file appendonly.aof.3.incr.aof seq 3 type i\n',
      );
      expect(s.fs.readdir(s.aofDir)).not.toContain('appendonly.aof.1.base.aof');
    },
  );

  it('AOF can produce consecutive sequence number after reload', async () => {
    const s = await setup();
    const db = s.engine.db(0);
    await db.set('k', 'v');
    await db.command('bgrewriteaof');
    await s.finishRewrite();
    await s.engine.debugLoadAof();
    await db.command('bgrewriteaof');
    await s.finishRewrite();
    expect(manifestText(s)).toBe(
      'file appendonly.aof.3.base.aof seq 3 type b\nfile appendonly.aof.3.incr.aof seq 3 type i\n',
    );
  });

  it(
    'AOF will open a temporary INCR AOF to accumulate data until ' +
      'the first AOFRW success when AOF is dynamically enabled',
    async () => {
      const s = await setup({ appendonly: false });
      const logs: string[] = [];
      s.engine.on('log', (_l: string, m: string) => logs.push(m));
      const db = s.engine.db(0);
      await db.set('before', '1');
      const fault = s.fs.faults.add({
        op: 'write',
        error: 'EIO',
        persistent: true,
        pathIncludes: 'temp-rewriteaof-bg',
      });
      await db.command('config', 'set', 'appendonly', 'yes');
      await db.set('during', '1'); // buffered for the temp INCR
      expect(s.fs.readdir(s.aofDir)).toContain('temp-appendonly.aof.incr');
      await s.finishRewrite();
      expect(logs.filter((l) => l.includes('Removing the temp incr aof file'))).toHaveLength(1);
      expect(s.fs.stat(`${s.aofDir}/appendonly.aof.manifest`)).toBeNull();
      expect(inspectAof(s.engine).state).toBe('wait-rewrite');
      fault.remove();
      s.tick(); // rescheduled automatically
      await db.set('after', '1');
      await s.finishRewrite();
      expect(inspectAof(s.engine).state).toBe('on');
      expect(manifestText(s)).toBe(
        'file appendonly.aof.1.base.aof seq 1 type b\n' +
          'file appendonly.aof.1.incr.aof seq 1 type i\n',
      );
      await db.set('on', '1');
      await reloadAndCompare(s);
      expect(await db.get('during')).toBe('1');
      expect(await db.get('after')).toBe('1');
    },
  );

  it(
    'turning AOF on while a rewrite started with AOF off runs: OK, ' +
      'that one is killed and the first rewrite starts at once',
    async () => {
      const s = await setup({ appendonly: false });
      const db = s.engine.db(0);
      await db.set('a', '1');
      expect(await db.command('bgrewriteaof')).toBe(
        'Background append only file rewriting started',
      );
      expect(await db.command('config', 'set', 'appendonly', 'yes')).toBe('OK');
      // As Redis (killAppendOnlyChild, then rewriteAppendOnlyFileBackground): the new rewrite runs
      // now and feeds its temp INCR, nothing waits for the cron.
      const started = s.engine.aof!.info();
      expect([started.aof_rewrite_in_progress, started.aof_rewrite_scheduled]).toEqual([1, 0]);
      expect(s.inspect().state).toBe('wait-rewrite');
      await db.set('b', '2'); // in the first rewrite's temp INCR
      await s.finishRewrite();
      await db.set('c', '3');
      const info = s.engine.aof!.info();
      expect(info.aof_enabled).toBe(1);
      expect(info.aof_last_bgrewrite_status).toBe('ok');
      expect(manifestText(s)).toMatch(
        new RegExp(
          String.raw`^file appendonly\.aof\.1\.base\.aof seq 1 type b\n` +
            String.raw`file appendonly\.aof\.1\.incr\.aof seq 1 type i\n$`,
        ),
      );
      await reloadAndCompare(s);
      expect(await db.command('mget', 'a', 'b', 'c')).toEqual(['1', '2', '3']);
    },
  );

  it(
    'Turning off AOF kills the background writing ' + 'child if any (not counted as a failure)',
    async () => {
      const s = await setup();
      const logs: string[] = [];
      s.engine.on('log', (_l: string, m: string) => logs.push(m));
      const db = s.engine.db(0);
      await db.set('k', 'v');
      await db.command('bgrewriteaof');
      await db.command('config', 'set', 'appendonly', 'no');
      await s.engine.aof!.waitForRewrite();
      expect(logs.some((l) => /Killing.*AOF.*child/.test(l))).toBe(true);
      expect(s.engine.aof!.info().aof_last_bgrewrite_status).toBe('ok');
      expect(s.fs.readdir('/data').filter((n) => n.startsWith('temp-'))).toEqual([]);
    },
  );
});

describe('aof rewrite: extra memory (aof_last_cow_size)', () => {
  /** A rewrite of 5000 keys; `during` runs after the first slice (2048 keys walked). */
  async function rewriteReporting(during: (s: SimEngine) => Promise<void>): Promise<number> {
    const s = await setup();
    const db = s.engine.db(0);
    const p = db.pipeline();
    for (let i = 0; i < 5000; i++) p.set(`k${i}`, i === 4999 ? 'x'.repeat(100_000) : 'v');
    await p.exec();
    await db.command('bgrewriteaof');
    s.rewrite.step();
    await new Promise<void>((resolve) => setImmediate(resolve));
    await during(s);
    await s.finishRewrite();
    expect(s.engine.aof!.info().aof_last_bgrewrite_status).toBe('ok');
    await reloadAndCompare(s);
    return Number(s.engine.aof!.info().aof_last_cow_size);
  }

  it('is reported, and grows by what writes ahead of the walk made the snapshot copy', async () => {
    const quiet = await rewriteReporting(async () => {});
    // At least the written-keys index of 5000 keys (probe table + key pages), never nothing.
    expect(quiet).toBeGreaterThan(5000 * 8);
    // Overwriting the 100 KB key the walk has not reached encodes its old value at once.
    const copied = await rewriteReporting(async (s) => {
      await s.engine.db(0).set('k4999', 'small');
    });
    expect(copied - quiet).toBeGreaterThanOrEqual(100_000);
    // Overwriting a key already walked copies nothing.
    const walked = await rewriteReporting(async (s) => {
      await s.engine.db(0).set('k0', 'small');
    });
    expect(walked).toBe(quiet);
  });
});

describe('aof rewrite: expiry times', () => {
  it(
    'keeps expiry times beyond 2^53 ms exact ' + 'through the INCR, a rewrite and a reload',
    async () => {
      const s = await setup();
      const db = s.engine.db(0);
      await db.set('a', '1', 'PXAT', '9223372036854775806');
      await db.set('b', '1', 'PXAT', '92233720368547758');
      await db.command('bgrewriteaof');
      await s.finishRewrite();
      await s.engine.debugLoadAof();
      expect(await db.command('pexpiretime', 'a')).toBe(9223372036854775806n);
      expect(await db.command('pexpiretime', 'b')).toBe(92233720368547758n);
    },
  );
});

describe('aof rewrite: encodings survive rewrite + reload (Redis aofrw.tcl)', () => {
  for (const [name, fill] of [
    [
      'list, string data',
      (db: ReturnType<SimEngine['engine']['db']>, i: number) =>
        db.lpush('k', `v${i}x${'z'.repeat(i % 7)}`),
    ],
    ['list, int data', (db: ReturnType<SimEngine['engine']['db']>, i: number) => db.lpush('k', i)],
    [
      'set, string data',
      (db: ReturnType<SimEngine['engine']['db']>, i: number) => db.sadd('k', `m${i}`),
    ],
    ['set, int data', (db: ReturnType<SimEngine['engine']['db']>, i: number) => db.sadd('k', i)],
    [
      'hash, string data',
      (db: ReturnType<SimEngine['engine']['db']>, i: number) => db.hset('k', `f${i}`, `v${i}`),
    ],
    [
      'zset, string data',
      (db: ReturnType<SimEngine['engine']['db']>, i: number) => db.zadd('k', i / 3, `m${i}`),
    ],
    [
      'zset, int data',
      (db: ReturnType<SimEngine['engine']['db']>, i: number) => db.zadd('k', i, i),
    ],
  ] as const) {
    for (const count of [10, 1000]) {
      it(`AOF rewrite of ${name} (${count} items)`, async () => {
        const s = await setup();
        const db = s.engine.db(0);
        await Promise.all(Array.from({ length: count }, (_, i) => fill(db, i)));
        await db.command('bgrewriteaof');
        await s.finishRewrite();
        await reloadAndCompare(s);
      });
    }
  }
});

// ---- The point-in-time guarantee --------------------------------------------------------------

type Db = ReturnType<SimEngine['engine']['db']>;

/** Stream IDs of randomCommand move forward from here, so deletes and claims find entries. */
let streamMs = 1;

/** One random command over a small key space of all types, across 3 dbs. */
function randomCommand(rng: ReturnType<typeof createPrng>, nowMs: number): [number, string[]] {
  const k = () => `k${rng.nextInt(12)}`;
  const x = () => `x${rng.nextInt(3)}`;
  const oldId = () => `${Math.max(1, streamMs - rng.nextInt(8))}-0`;
  const v = () => (rng.chance(0.2) ? String(rng.nextInt(100)) : `v${rng.nextInt(1000)}`);
  const dbIndex = rng.nextInt(3);
  const choices: (() => string[])[] = [
    () => ['SET', k(), v()],
    () => ['SET', k(), v(), 'PX', String(1 + rng.nextInt(3000))],
    () => ['DEL', k(), k()],
    () => ['INCR', `n${rng.nextInt(3)}`],
    () => ['APPEND', k(), v()],
    () => ['RPUSH', `l${rng.nextInt(3)}`, v(), v()],
    () => ['LPOP', `l${rng.nextInt(3)}`],
    () => ['LMPOP', '2', 'l0', 'l1', 'LEFT', 'COUNT', '2'],
    () => ['HSET', `h${rng.nextInt(3)}`, `f${rng.nextInt(5)}`, v()],
    () => ['HDEL', `h${rng.nextInt(3)}`, `f${rng.nextInt(5)}`],
    () => ['SADD', `s${rng.nextInt(3)}`, v(), v()],
    () => ['SREM', `s${rng.nextInt(3)}`, v()],
    () => ['ZADD', `z${rng.nextInt(3)}`, String(rng.nextInt(50)), v()],
    () => ['ZPOPMIN', `z${rng.nextInt(3)}`],
    // Streams change in place (entries, groups, PELs): the snapshot must copy them first.
    () => ['XADD', x(), 'MAXLEN', '~', '20', `${(streamMs += rng.nextInt(2))}-*`, 'f', v()],
    () => ['XDEL', x(), oldId()],
    () => ['XGROUP', 'CREATE', x(), 'g', '0', 'MKSTREAM'],
    () => ['XREADGROUP', 'GROUP', 'g', `c${rng.nextInt(2)}`, 'NOACK', 'STREAMS', x(), '>'],
    () => ['XCLAIM', x(), 'g', `c${rng.nextInt(2)}`, '0', oldId(), 'FORCE', 'JUSTID'],
    () => ['XACK', x(), 'g', oldId()],
    () => ['EXPIRE', k(), String(1 + rng.nextInt(3))],
    () => ['PEXPIREAT', k(), String(nowMs + rng.nextInt(5000))],
    () => ['PERSIST', k()],
    () => ['RENAME', k(), k()],
    () => ['MOVE', k(), String(rng.nextInt(3))],
    () => ['COPY', k(), k(), 'DB', String(rng.nextInt(3)), 'REPLACE'],
    () => ['SWAPDB', String(rng.nextInt(3)), String(rng.nextInt(3))],
    () => (rng.chance(0.3) ? ['FLUSHDB'] : ['GET', k()]),
    () => (rng.chance(0.1) ? ['FLUSHALL'] : ['EXISTS', k()]),
  ];
  return [dbIndex, rng.pick(choices)()];
}

async function concurrentWorkloadRun(seed: number, preamble?: boolean): Promise<void> {
  const rng = createPrng(seed);
  const s = await setup({
    appendfsync: rng.pick(['always', 'everysec', 'no'] as const),
    aofUseRdbPreamble: preamble ?? rng.chance(0.5),
  });
  const handles: Db[] = [0, 1, 2].map((i) => s.engine.db(i));
  const issue = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const [dbIndex, argv] = randomCommand(rng, s.clock.nowMs());
      await handles[dbIndex]!.command(argv[0]!, ...argv.slice(1)).catch(() => null);
      if (rng.chance(0.2)) s.clock.advance(rng.nextInt(400));
      if (rng.chance(0.1)) s.tick();
    }
  };
  await issue(150);
  // The rewrite's snapshot is the dataset at this instant; everything after goes to the new INCR.
  await handles[0]!.command('bgrewriteaof');
  const snapshotAtStart = dump(s);
  while (inspectAof(s.engine).rewrite.inProgress) {
    await issue(1 + rng.nextInt(6));
    s.rewrite.step();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  expect(s.engine.aof!.info().aof_last_bgrewrite_status, `seed ${seed}`).toBe('ok');
  // The new base alone is exactly the dataset as it was when the rewrite started...
  expect(
    await dumpOfBaseAlone(s),
    `seed ${seed}: the base is not the dataset at rewrite start`,
  ).toBe(snapshotAtStart);
  // ...and base + new INCR replayed equals the live dataset.
  const live = dump(s);
  await s.engine.debugLoadAof();
  expect(dump(s), `seed ${seed}: base + incr replay differs from the live dataset`).toBe(live);
  await s.engine.close();
}

/** Load only the current base file, in a fresh simulated directory, and dump it. */
async function dumpOfBaseAlone(s: SimEngine): Promise<string> {
  const base = inspectAof(s.engine).manifest.base!.fileName;
  const content = s.fs.fileContent(`${s.aofDir}/${base}`);
  const other = await openSimEngine({ appendonly: false, clock: s.clock, dir: '/other' });
  other.fs.mkdir('/other/appendonlydir');
  const write = (path: string, data: Buffer) => {
    const fd = other.fs.open(path, 'write-truncate');
    other.fs.write(fd, data, 0, data.length);
    other.fs.close(fd);
  };
  write(`/other/appendonlydir/${base}`, content);
  write('/other/appendonlydir/appendonly.aof.manifest', Buffer.from(`file ${base} seq 1 type b\n`));
  const reader = await openSimEngine({
    fs: other.fs,
    clock: s.clock,
    dir: '/other',
    readOnly: true,
  });
  const out = dump(reader);
  await reader.engine.close();
  await other.engine.close();
  return out;
}

describe('aof rewrite: point in time under a concurrent random workload', () => {
  const seeds =
    process.env.SEED !== undefined
      ? [Number(process.env.SEED)]
      : Array.from({ length: Number(process.env.REWRITE_SEEDS ?? 40) }, (_, i) => 1000 + i);
  const replay = `${seeds.length} seeds; SEED=n to replay`;
  it(`base + new INCR equals the live dataset (${replay})`, async () => {
    for (const seed of seeds) await concurrentWorkloadRun(seed);
  });
  // Redis unit/aofrw.tcl: a write load during BGREWRITEAOF, then the digest before and after
  // DEBUG LOADAOF must be equal (here: the canonical dump, plus the base-alone check).
  it('AOF rewrite during write load: RDB preamble=yes', async () => {
    for (let seed = 5000; seed < 5005; seed++) await concurrentWorkloadRun(seed, true);
  });
  it('AOF rewrite during write load: RDB preamble=no', async () => {
    for (let seed = 6000; seed < 6005; seed++) await concurrentWorkloadRun(seed, false);
  });
});
