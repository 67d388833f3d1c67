// The flush/fsync state machine (Redis flushAppendOnlyFile, spec §3–§4) on the simulated world:
// every branch is driven by moving a SimClock and holding or finishing InlineBio jobs. No sleeps.
import { describe, expect, it } from 'vitest';
import {
  openSimEngine,
  type SimEngine,
  type SimEngineOptions,
  type SimFsOpEvent,
} from '@aofkv/engine/testing';
import { ReplyError } from '@aofkv/engine';

interface Harness extends SimEngine {
  ops: SimFsOpEvent[];
  /** Bytes visible in the current INCR file. */
  size(): number;
  content(): string;
  count(op: SimFsOpEvent['op']): number;
}

async function setup(options: SimEngineOptions = {}): Promise<Harness> {
  const ops: SimFsOpEvent[] = [];
  const sim = await openSimEngine({
    appendfsync: 'everysec',
    ...options,
    fsOptions: { onOp: (e) => ops.push(e) },
  });
  ops.length = 0; // start-up I/O is not what these tests look at
  const aofFd = () => sim.inspect().writer.fd;
  return {
    ...sim,
    ops,
    size: () => sim.fs.fileContent(sim.currentIncrPath()).length,
    content: () => sim.fs.fileContent(sim.currentIncrPath()).toString('latin1'),
    count: (op) =>
      ops.filter((e) => e.op === op && (e.fd === undefined || e.fd === aofFd())).length,
  };
}

const resp = (...argv: string[]) =>
  `*${argv.length}\r\n${argv.map((a) => `$${a.length}\r\n${a}\r\n`).join('')}`;

describe('aof flush: what reaches the file', () => {
  it(
    'writes one turn’s commands with a single write, ' +
      'after a SELECT (first command after start-up)',
    async () => {
      const s = await setup();
      const db = s.engine.db(0);
      await Promise.all([db.set('a', '1'), db.set('b', '2'), db.get('a')]);
      expect(s.content()).toBe(resp('SELECT', '0') + resp('set', 'a', '1') + resp('set', 'b', '2'));
      expect(s.count('write')).toBe(1);
    },
  );

  it(
    'emits SELECT whenever the db changes, ' +
      'and MULTI/EXEC only for batches of more than one command',
    async () => {
      const s = await setup();
      const db3 = s.engine.db(3);
      await db3.set('x', '1');
      await s.engine.db(5).set('y', '2');
      const tx = await db3.multi().set('m1', '1').exec();
      expect(tx).toEqual([[null, 'OK']]);
      await db3.multi().set('m2', '1').set('m3', '1').exec();
      expect(s.content()).toBe(
        resp('SELECT', '3') +
          resp('set', 'x', '1') +
          resp('SELECT', '5') +
          resp('set', 'y', '2') +
          resp('SELECT', '3') +
          resp('set', 'm1', '1') +
          resp('MULTI') +
          resp('set', 'm2', '1') +
          resp('set', 'm3', '1') +
          resp('EXEC'),
      );
    },
  );

  it('FLUSHDB / FLUSHALL should persist in AOF (even on empty dbs)', async () => {
    const s = await setup({ appendfsync: 'always' });
    const db = s.engine.db(0);
    await db.set('k', 'v');
    await db.command('flushdb');
    await db.command('flushdb');
    await db.command('flushall');
    await db.command('flushall', 'async');
    expect(s.content()).toBe(
      resp('SELECT', '0') +
        resp('set', 'k', 'v') +
        resp('flushdb') +
        resp('flushdb') +
        resp('flushall') +
        resp('flushall', 'async'),
    );
  });

  it('MULTI with FLUSHALL and AOF: SELECT, MULTI, SET, FLUSHALL, EXEC', async () => {
    const s = await setup({ appendfsync: 'always' });
    await s.engine.db(0).multi().set('a', '1').command('flushall').exec();
    expect(s.content()).toBe(
      resp('SELECT', '0') + resp('MULTI') + resp('set', 'a', '1') + resp('flushall') + resp('EXEC'),
    );
  });

  it('writes nothing for reads or for writes that changed nothing', async () => {
    const s = await setup();
    const db = s.engine.db(0);
    await db.get('nope');
    await db.del('nope');
    expect(s.size()).toBe(0);
    expect(s.count('write')).toBe(0);
  });

  it(
    'writes #TS: annotations at most once per second, ' + 'before SELECT, when aofTimestampEnabled',
    async () => {
      const s = await setup({ aofTimestampEnabled: true });
      const sec = Math.floor(s.clock.nowMs() / 1000);
      const db = s.engine.db(0);
      await db.set('a', '1');
      await db.set('b', '1');
      s.clock.advance(1000);
      await db.set('c', '1');
      expect(s.content()).toBe(
        `#TS:${sec}\r\n` +
          resp('SELECT', '0') +
          resp('set', 'a', '1') +
          resp('set', 'b', '1') +
          `#TS:${sec + 1}\r\n` +
          resp('set', 'c', '1'),
      );
    },
  );

  it(
    'acknowledges a write only after its bytes ' + 'are in the file (and fsynced under always)',
    async () => {
      const s = await setup({ appendfsync: 'always' });
      const db = s.engine.db(0);
      const ack = db.set('k', 'v').then(() => ({
        size: s.size(),
        durable: s.fs.durableContent(s.currentIncrPath())?.length ?? 0,
      }));
      expect(s.size()).toBe(0); // executed, not yet written: the reply is held until beforeSleep
      const seen = await ack;
      expect(seen.size).toBeGreaterThan(0);
      expect(seen.durable).toBe(seen.size);
    },
  );
});

describe('aof flush: always', () => {
  it('group commit: N concurrent writers share one write and one fdatasync', async () => {
    const s = await setup({ appendfsync: 'always' });
    const db = s.engine.db(0);
    await Promise.all(Array.from({ length: 64 }, (_, i) => db.set(`k${i}`, 'v')));
    expect(s.count('write')).toBe(1);
    expect(s.count('fdatasync')).toBe(1);
    expect(s.inspect().writer.incrFsyncOffsetBytes).toBe(s.size());
  });

  it(
    'a pipeline: commands run back to back, each succeeds or fails alone, ' +
      'one write + one fdatasync acknowledge all',
    async () => {
      const s = await setup({ appendfsync: 'always' });
      const db = s.engine.db(0);
      await db.set('str', 'x');
      const w0 = s.count('write');
      const f0 = s.count('fdatasync');
      const p = db
        .pipeline()
        .set('a', '1')
        .incr('a')
        .lpush('str', 'oops')
        .get('a')
        .command('hset', 'h', 'f', 'v');
      expect(p.length).toBe(5);
      const results = await p.exec();
      expect(results.map(([err, v]) => (err === null ? v : `${err.code}`))).toEqual([
        'OK',
        2,
        'WRONGTYPE',
        '2',
        1,
      ]);
      expect(results[2]![0]).toBeInstanceOf(ReplyError);
      expect(s.count('write') - w0).toBe(1);
      expect(s.count('fdatasync') - f0).toBe(1);
      // Only the writes that changed data reach the AOF, in order.
      expect(s.content()).toBe(
        resp('SELECT', '0') +
          resp('set', 'str', 'x') +
          resp('set', 'a', '1') +
          resp('incr', 'a') +
          resp('hset', 'h', 'f', 'v'),
      );
      expect(await db.pipeline().exec()).toEqual([]);
    },
  );

  it(
    'a pipeline whose fsync fails is rejected as a whole, ' + 'like every write of that turn',
    async () => {
      const s = await setup({ appendfsync: 'always' });
      const db = s.engine.db(0);
      await db.set('before', '1');
      s.fs.faults.add({ op: 'fdatasync', error: 'EIO' });
      await expect(db.pipeline().set('a', '1').set('b', '2').exec()).rejects.toMatchObject({
        code: 'ERR_ENGINE_FATAL',
      });
      await expect(db.pipeline().get('a').exec()).rejects.toMatchObject({
        code: 'ERR_ENGINE_FATAL',
      });
    },
  );

  it(
    'a write error is fatal: the turn’s writes are rejected, ' +
      '`fatal` is emitted, every later command refused',
    async () => {
      const s = await setup({ appendfsync: 'always' });
      const db = s.engine.db(0);
      await db.set('before', '1');
      const fatal = new Promise<Error>((resolve) => s.engine.once('fatal', resolve));
      s.fs.faults.add({ op: 'write', error: 'EIO' });
      await expect(db.set('lost', '1')).rejects.toMatchObject({ code: 'ERR_ENGINE_FATAL' });
      expect((await fatal).message).toMatch(/Input\/output error/);
      await expect(db.get('before')).rejects.toMatchObject({ code: 'ERR_ENGINE_FATAL' });
      expect(s.content()).toBe(resp('SELECT', '0') + resp('set', 'before', '1'));
    },
  );

  it('an fsync error is fatal too, and nothing of that turn is acknowledged', async () => {
    const s = await setup({ appendfsync: 'always' });
    const db = s.engine.db(0);
    s.fs.faults.add({ op: 'fdatasync', error: 'EIO' });
    const results = await Promise.allSettled([db.set('a', '1'), db.set('b', '2')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(s.engine.closed).toBe(true);
  });

  it(
    'after a switch from everysec, ' +
      'owed data is fsynced even with an empty buffer (7.0.11+ rule)',
    async () => {
      const s = await setup({ appendfsync: 'everysec' });
      const db = s.engine.db(0);
      await db.set('a', '1'); // written, not fsynced: same second as start-up
      const w = () => s.inspect().writer;
      expect(w().incrFsyncOffsetBytes).toBe(0);
      await db.command('config', 'set', 'appendfsync', 'always');
      expect(w().incrFsyncOffsetBytes).toBe(w().incrSizeBytes);
      expect(s.fs.durableContent(s.currentIncrPath())!.length).toBe(s.size());
    },
  );
});

describe('aof flush: everysec', () => {
  it(
    'submits at most one background fsync per second, ' + 'recording the offset at submission',
    async () => {
      const s = await setup();
      const db = s.engine.db(0);
      const w = () => s.inspect().writer;
      await db.set('a', '1'); // same second as start-up: no fsync yet
      expect(s.bio.pending('aofFsync')).toBe(0);
      s.clock.advance(1000);
      await db.set('b', '1');
      expect(s.bio.pending('aofFsync')).toBe(1);
      expect(w().incrFsyncOffsetBytes).toBe(s.size());
      s.bio.runAll();
      await db.set('c', '1'); // same second: written, no second fsync
      expect(s.bio.pending('aofFsync')).toBe(0);
      expect(w().incrFsyncOffsetBytes).toBeLessThan(s.size());
    },
  );

  it(
    'postpones the write while an fsync is pending, ' +
      'for less than 2 s, then writes and counts aof_delayed_fsync',
    async () => {
      const s = await setup();
      const db = s.engine.db(0);
      const w = () => s.inspect().writer;
      s.clock.advance(1000);
      await db.set('a', '1');
      s.bio.startNext('aofFsync'); // the fsync is now "inside fdatasync" and stays there
      const sizeBefore = s.size();
      await db.set('b', '2'); // acknowledged while postponed: Redis's accepted ≤2 s window
      expect(s.size()).toBe(sizeBefore);
      expect(w().flushPostponedStartSec).toBe(Math.floor(s.clock.nowMs() / 1000));
      s.clock.advance(1999);
      s.tick();
      expect(s.size()).toBe(sizeBefore); // 1 s elapsed in Redis's whole-second arithmetic
      expect(w().delayedFsyncCount).toBe(0);
      s.clock.advance(1);
      s.tick(); // 2 s after the postponement started: write anyway
      expect(s.size()).toBeGreaterThan(sizeBefore);
      expect(w().delayedFsyncCount).toBe(1);
      expect(w().flushPostponedStartSec).toBe(0);
      expect(s.engine.aof!.info().aof_delayed_fsync).toBe(1);
    },
  );

  it(
    'the cron retries a postponed flush as soon as the ' +
      'fsync finished, without counting a delay',
    async () => {
      const s = await setup();
      const db = s.engine.db(0);
      s.clock.advance(1000);
      await db.set('a', '1');
      s.bio.startNext('aofFsync');
      const sizeBefore = s.size();
      await db.set('b', '2');
      expect(s.size()).toBe(sizeBefore);
      s.bio.finishRunning('aofFsync');
      s.tick();
      expect(s.size()).toBeGreaterThan(sizeBefore);
      expect(s.inspect().writer.delayedFsyncCount).toBe(0);
    },
  );

  it('a forced flush (force=1) never waits and never counts', async () => {
    const s = await setup();
    const db = s.engine.db(0);
    const w = () => s.inspect().writer;
    s.clock.advance(1000);
    await db.set('a', '1');
    s.bio.startNext('aofFsync');
    s.engine.server.execute(s.engine.server.createClient(0), ['set', 'b', '2']);
    const sizeBefore = s.size();
    s.engine.aof!.flush(true);
    expect(s.size()).toBeGreaterThan(sizeBefore);
    expect(w().delayedFsyncCount).toBe(0);
    expect(w().flushPostponedStartSec).toBe(0);
  });

  it(
    'idle fsync: an fsync still owed is requested in a later ' +
      'second although the buffer is empty',
    async () => {
      const s = await setup();
      const db = s.engine.db(0);
      const w = () => s.inspect().writer;
      await db.set('a', '1');
      expect(w().incrFsyncOffsetBytes).toBe(0);
      s.tick(); // same second: nothing owed yet by the once-per-second rule
      expect(s.bio.pending('aofFsync')).toBe(0);
      s.clock.advance(1000);
      s.tick();
      expect(s.bio.pending('aofFsync')).toBe(1);
      expect(w().incrFsyncOffsetBytes).toBe(w().incrSizeBytes);
      s.bio.runAll();
      expect(s.fs.durableContent(s.currentIncrPath())!.length).toBe(s.size());
    },
  );

  it(
    'an fsync skipped because one is running still bumps aof_last_fsync; ' +
      'the idle rule catches up later',
    async () => {
      const s = await setup();
      const db = s.engine.db(0);
      const w = () => s.inspect().writer;
      s.clock.advance(1000);
      await db.set('a', '1'); // fsync #1 submitted
      s.bio.startNext('aofFsync');
      s.clock.advance(1000);
      s.engine.aof!.flush(true); // nothing buffered
      await db.set('b', '2'); // postponed (fsync running)
      // forced write: sync in progress, so no new fsync, but aof_last_fsync moves
      s.engine.aof!.flush(true);
      const sec = Math.floor(s.clock.nowMs() / 1000);
      expect(w().lastFsyncSec).toBe(sec);
      expect(w().incrFsyncOffsetBytes).toBeLessThan(w().incrSizeBytes);
      s.bio.finishRunning('aofFsync');
      s.clock.advance(1000);
      s.tick();
      expect(s.bio.pending('aofFsync')).toBe(1);
      expect(w().incrFsyncOffsetBytes).toBe(w().incrSizeBytes);
    },
  );

  it('a background fsync error is reported as MISCONF until a later fsync succeeds', async () => {
    const s = await setup();
    const db = s.engine.db(0);
    s.clock.advance(1000);
    await db.set('a', '1');
    s.fs.faults.add({ op: 'fdatasync', error: 'EIO' });
    s.bio.runAll();
    expect(s.bio.fsyncStatus()).toMatchObject({ ok: false, code: 'EIO' });
    await expect(db.set('b', '1')).rejects.toThrow(
      'MISCONF Errors writing to the AOF file: Input/output error',
    );
    await expect(db.command('ping')).rejects.toThrow(/^MISCONF/);
    expect(await db.get('a')).toBe('1');
    expect(s.engine.aof!.info().aof_last_write_status).toBe('err');
    // New data reaches the file another way (an expiry DEL, say) and its fsync succeeds.
    s.engine.aof!.feed(0, ['DEL', 'zzz']);
    s.clock.advance(1000);
    s.tick();
    s.bio.runAll();
    expect(s.bio.fsyncStatus().ok).toBe(true);
    expect(await db.set('b', '1')).toBe('OK');
  });
});

describe('aof flush: write errors (spec §4)', () => {
  it(
    'a short write is truncated back to the last good size; ' +
      'writes get MISCONF, reads go on; the cron retries each second',
    async () => {
      const s = await setup();
      const db = s.engine.db(0);
      const w = () => s.inspect().writer;
      await db.set('a', '1');
      const goodSize = s.size();
      s.fs.faults.add({ op: 'write', shortBytes: 5 });
      // beforeSleep retries every turn (as Redis does), so the disk stays full until we free it.
      const full = s.fs.faults.add({ op: 'write', error: 'ENOSPC', persistent: true });
      await db.set('b', 'x'.repeat(100)); // acknowledged: under everysec the data stays in aof_buf
      expect(s.size()).toBe(goodSize);
      expect(w().writeStatus).toEqual({ kind: 'err', code: 'ENOSPC' });
      expect(w().bufferedBytes).toBeGreaterThan(0);
      const misconf = 'MISCONF Errors writing to the AOF file: No space left on device';
      await expect(db.set('c', '1')).rejects.toThrow(misconf);
      await expect(db.command('ping')).rejects.toThrow(misconf);
      expect(await db.get('b')).toBe('x'.repeat(100));
      const info = s.engine.aof!.info();
      expect(info.aof_last_write_status).toBe('err');
      expect(info.aof_buffer_length).toBe(w().bufferedBytes);
      full.remove();
      s.clock.advance(1000);
      s.tick(); // the cron's once-a-second retry succeeds now
      expect(w().writeStatus).toEqual({ kind: 'ok' });
      expect(s.content()).toBe(
        resp('SELECT', '0') + resp('set', 'a', '1') + resp('set', 'b', 'x'.repeat(100)),
      );
      expect(await db.set('c', '1')).toBe('OK');
    },
  );

  it('records the real errno when the first write fails outright', async () => {
    const s = await setup();
    s.fs.faults.add({ op: 'write', error: 'EIO' });
    await s.engine.db(0).set('a', '1');
    expect(s.inspect().writer.writeStatus).toEqual({ kind: 'err', code: 'EIO' });
    expect(s.engine.aof!.deniedWriteError()).toBe(
      'MISCONF Errors writing to the AOF file: Input/output error',
    );
  });

  it(
    'when ftruncate fails too, ' + 'the partial bytes are accounted for and dropped from aof_buf',
    async () => {
      const s = await setup();
      const db = s.engine.db(0);
      const w = () => s.inspect().writer;
      s.fs.faults.add({ op: 'write', shortBytes: 7 });
      s.fs.faults.add({ op: 'write', error: 'ENOSPC' });
      s.fs.faults.add({ op: 'ftruncate', error: 'EIO' });
      await db.set('a', '1');
      expect(s.size()).toBe(7);
      expect(w().incrSizeBytes).toBe(7);
      const full = resp('SELECT', '0') + resp('set', 'a', '1');
      expect(w().bufferedBytes).toBe(full.length - 7); // the rest of the command, still to write
      s.clock.advance(1000);
      s.tick();
      expect(s.content()).toBe(full);
    },
  );

  it('a write error under always is fatal even for a short write', async () => {
    const s = await setup({ appendfsync: 'always' });
    const db = s.engine.db(0);
    s.fs.faults.add({ op: 'write', shortBytes: 3 });
    s.fs.faults.add({ op: 'write', error: 'ENOSPC' });
    await expect(db.set('a', '1')).rejects.toMatchObject({ code: 'ERR_ENGINE_FATAL' });
    expect(s.size()).toBe(0); // truncated back before stopping
    await expect(db.get('a')).rejects.toMatchObject({ code: 'ERR_ENGINE_FATAL' });
    expect(() => s.engine.db(1)).toThrow(/fatal AOF error/);
  });

  it('MISCONF inside MULTI marks the transaction: EXEC answers EXECABORT', async () => {
    const s = await setup();
    const db = s.engine.db(0);
    s.fs.faults.add({ op: 'write', error: 'EIO', persistent: true });
    await db.set('a', '1');
    await db.command('multi');
    await expect(db.command('set', 'b', '1')).rejects.toBeInstanceOf(ReplyError);
    await expect(db.command('exec')).rejects.toThrow(/^EXECABORT/);
  });
});

describe('aof flush: no-appendfsync-on-rewrite', () => {
  it(
    'skips fsyncs while a rewrite runs without ' + 'moving aof_last_fsync, then catches up',
    async () => {
      const s = await setup({
        appendfsync: 'always',
        noAppendfsyncOnRewrite: true,
        autoAofRewritePercentage: 0,
      });
      const db = s.engine.db(0);
      await db.set('a', '1');
      await db.command('bgrewriteaof'); // the rewrite's walk is held by the manual scheduler
      const w = () => s.inspect().writer;
      const incr = s.currentIncrPath();
      await db.set('b', '2');
      expect(s.size()).toBeGreaterThan(0); // written...
      // ...but not fsynced, even under always
      expect(s.fs.durableContent(incr)?.length ?? 0).toBe(0);
      expect(w().incrFsyncOffsetBytes).toBeLessThan(w().incrSizeBytes);
      await s.finishRewrite();
      s.tick(); // always + owed data: the empty-buffer rule fsyncs it now
      expect(s.fs.durableContent(incr)!.length).toBe(s.size());
    },
  );
});

describe('aof flush: policy no', () => {
  it('writes but never fsyncs', async () => {
    const s = await setup({ appendfsync: 'no' });
    const db = s.engine.db(0);
    for (let i = 0; i < 3; i++) {
      await db.set('a', String(i));
      s.clock.advance(1000);
      s.tick();
    }
    expect(s.size()).toBeGreaterThan(0);
    expect(s.count('fdatasync')).toBe(0);
    expect(s.bio.pending('aofFsync')).toBe(0);
  });
});

describe('aof flush: close and latency events', () => {
  it(
    'close() flushes a postponed buffer and fsyncs ' + 'synchronously (Redis prepareForShutdown)',
    async () => {
      const s = await setup();
      const db = s.engine.db(0);
      s.clock.advance(1000);
      await db.set('a', '1');
      s.bio.startNext('aofFsync');
      await db.set('b', '2');
      const path = s.currentIncrPath();
      await s.engine.close();
      expect(s.fs.durableContent(path)!.toString('latin1')).toBe(
        resp('SELECT', '0') + resp('set', 'a', '1') + resp('set', 'b', '2'),
      );
    },
  );

  it(
    'records aof-write and aof-write-pending-fsync ' + 'latency events at or above the threshold',
    async () => {
      const s = await setup({ latencyMonitorThreshold: 1 });
      const lat = s.engine.aof!.latency;
      lat.addSampleIfNeeded('aof-write', 0.5);
      expect(lat.latest()).toEqual([]);
      lat.addSampleIfNeeded('aof-write-pending-fsync', 12);
      expect(lat.latest()[0]).toEqual([
        'aof-write-pending-fsync',
        Math.floor(s.clock.nowMs() / 1000),
        12,
        12,
      ]);
    },
  );
});
