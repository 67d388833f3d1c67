// Lifecycle and runtime-config edges where a review of the code against Redis 7.0.15 found
// acknowledged writes lost, or files left unloadable (issue 14). Each test is the finding's
// reproduction on the simulated world, through the public API only, and failed before its fix.
// The crash simulator's swarm walks the same edges at random (test/sim).

import { describe, expect, it } from 'vitest';
import { InlineBio } from '@aofkv/bio-workers';
import { EngineError, openEngine, type Engine } from '@aofkv/engine';
import {
  SimClock,
  SimFileSystem,
  openSimEngine,
  type SimEngine,
  type SimEngineOptions,
} from '@aofkv/engine/testing';
import { ManualRewriteScheduler } from '../../src/aof/rewrite/aof-rewrite.ts';

/** Close, then open a new engine on the same disk and clock: what a restart finds. */
async function restart(s: SimEngine, options: SimEngineOptions = {}): Promise<SimEngine> {
  await s.engine.close();
  return openSimEngine({ fs: s.fs, clock: s.clock, ...options });
}

/** Collect the engine's 'fatal' events and log lines. */
function observe(engine: Engine): { fatal: Error[]; logs: string[] } {
  const seen = { fatal: [] as Error[], logs: [] as string[] };
  engine.on('fatal', (e: Error) => seen.fatal.push(e));
  engine.on('log', (_level: string, message: string) => seen.logs.push(message));
  return seen;
}

describe('finding 1: close() during the first rewrite after appendonly yes', () => {
  it(
    'finishes that rewrite: every acknowledged write, ' + 'before and after the switch, survives',
    async () => {
      const s = await openSimEngine({ appendonly: false, appendfsync: 'always' });
      const db = s.engine.db(0);
      await db.set('before', '1');
      expect(await db.command('config', 'set', 'appendonly', 'yes')).toBe('OK');
      await db.set('during', '2'); // acknowledged under always, into the temp INCR
      expect(s.engine.aof!.info().aof_rewrite_in_progress).toBe(1); // the walk is held
      await s.engine.close(); // Redis refuses SHUTDOWN here; close() finishes the rewrite
      const again = await openSimEngine({ fs: s.fs, clock: s.clock });
      expect(await again.engine.db(0).command('mget', 'before', 'during')).toEqual(['1', '2']);
      await again.engine.close();
    },
  );

  it(
    'starts the first rewrite when it was only scheduled ' + '(appendonly yes inside MULTI)',
    async () => {
      const s = await openSimEngine({ appendonly: false });
      const db = s.engine.db(0);
      await db.set('k', 'v');
      const replies = await db
        .multi()
        .command('config', 'set', 'appendonly', 'yes')
        .set('in-exec', '1')
        .exec();
      expect(replies).toEqual([
        [null, 'OK'],
        [null, 'OK'],
      ]);
      expect(s.engine.aof!.info().aof_rewrite_scheduled).toBe(1);
      const again = await restart(s);
      expect(await again.engine.db(0).command('mget', 'k', 'in-exec')).toEqual(['v', '1']);
      await again.engine.close();
    },
  );

  it(
    'rejects with ERR_AOF_NOT_PERSISTED, naming the dataset, ' +
      'when the first rewrite cannot complete',
    async () => {
      const s = await openSimEngine({ appendonly: false });
      const db = s.engine.db(0);
      await db.set('k', 'v');
      await db.command('config', 'set', 'appendonly', 'yes');
      s.fs.faults.add({
        op: 'write',
        error: 'ENOSPC',
        pathIncludes: 'temp-rewriteaof',
        persistent: true,
      });
      const closing = s.engine.close();
      await expect(closing).rejects.toMatchObject({ code: 'ERR_AOF_NOT_PERSISTED' });
      await expect(closing).rejects.toThrow(/first rewrite could not complete.*1 keys/);
      expect(s.fs.openFds()).toEqual([]); // everything was released anyway
    },
  );
});

describe('finding 2: CONFIG SET appendonly no cannot fail', () => {
  it(
    'after appendonly yes inside MULTI (nothing open yet): OK, ' +
      'and the AOF works when turned on again',
    async () => {
      const s = await openSimEngine({ appendonly: false });
      const db = s.engine.db(0);
      await db.multi().command('config', 'set', 'appendonly', 'yes').exec();
      expect(await db.command('config', 'set', 'appendonly', 'no')).toBe('OK');
      const info = s.engine.aof!.info();
      expect([info.aof_enabled, info.aof_rewrite_scheduled]).toEqual([0, 0]);
      expect(await db.command('config', 'set', 'appendonly', 'yes')).toBe('OK');
      await s.finishRewrite();
      await db.set('after', '1');
      const again = await restart(s);
      expect(await again.engine.db(0).get('after')).toBe('1');
      await again.engine.close();
    },
  );

  it('after appendonly yes while a rewrite started with the AOF off ran: OK', async () => {
    const s = await openSimEngine({ appendonly: false });
    const db = s.engine.db(0);
    await db.set('k', 'v');
    await db.command('bgrewriteaof');
    await db.command('config', 'set', 'appendonly', 'yes');
    expect(await db.command('config', 'set', 'appendonly', 'no')).toBe('OK');
    expect(s.engine.aof!.info().aof_enabled).toBe(0);
    await s.engine.close();
  });
});

describe(
  'finding 3: after a fatal error under always ' + 'nothing more reaches the AOF or resolves',
  () => {
    it(
      'a reply held in a turn whose cron hit ' + 'the fatal error is rejected, not delivered',
      async () => {
        const s = await openSimEngine({ appendfsync: 'always' });
        const seen = observe(s.engine);
        const db = s.engine.db(0);
        s.fs.faults.add({ op: 'write', error: 'EIO' }); // once: a retry would succeed
        const held = db.set('a', '1'); // executed, reply held until this turn's flush
        s.tick(); // the cron flushes first and fails: Redis exits here
        expect(seen.fatal).toHaveLength(1);
        await expect(held).rejects.toMatchObject({ code: 'ERR_ENGINE_FATAL' });
      },
    );

    it(
      'close() after a fatal short write does not append ' +
        'behind the partial bytes: the INCR still loads',
      async () => {
        const s = await openSimEngine({ appendfsync: 'always' });
        const db = s.engine.db(0);
        await db.set('acked', '1');
        s.fs.faults.add({ op: 'write', shortBytes: 3 });
        s.fs.faults.add({ op: 'write', error: 'ENOSPC' });
        s.fs.faults.add({ op: 'ftruncate', error: 'EIO' }); // the partial command stays
        await expect(db.set('lost', '2')).rejects.toMatchObject({ code: 'ERR_ENGINE_FATAL' });
        const sizeAtFatal = s.fs.fileContent(s.currentIncrPath()).length;
        await s.engine.close();
        expect(s.fs.fileContent(s.currentIncrPath()).length).toBe(sizeAtFatal);
        const again = await openSimEngine({ fs: s.fs, clock: s.clock, aofLoadTruncated: true });
        expect(await again.engine.db(0).command('mget', 'acked', 'lost')).toEqual(['1', null]);
        await again.engine.close();
      },
    );

    it(
      'a write rejected with ERR_ENGINE_FATAL is not in the ' + 'AOF after close() and a restart',
      async () => {
        const s = await openSimEngine({ appendfsync: 'always' });
        const db = s.engine.db(0);
        s.fs.faults.add({ op: 'write', error: 'EIO' }); // once: the disk would take a retry
        await expect(db.set('rejected', '1')).rejects.toMatchObject({ code: 'ERR_ENGINE_FATAL' });
        const again = await restart(s); // close() must not write aof_buf after the fatal error
        expect(await again.engine.db(0).get('rejected')).toBe(null);
        await again.engine.close();
      },
    );
  },
);

describe('finding 4: DEBUG LOADAOF never refuses the loading client', () => {
  it('loads every key although a background fsync error (MISCONF) is pending', async () => {
    const s = await openSimEngine({ appendfsync: 'everysec' });
    const db = s.engine.db(0);
    for (let i = 0; i < 6; i++) await db.set(`k${i}`, String(i));
    s.clock.advance(1000);
    s.tick(); // submits the background fsync
    s.fs.faults.add({ op: 'fdatasync', error: 'EIO' });
    s.bio.runAll();
    await expect(db.set('x', '1')).rejects.toThrow(/^MISCONF/);
    await s.engine.debugLoadAof();
    expect(await db.dbsize()).toBe(6);
    await s.engine.close();
  });
});

describe('finding 5: nothing starts a rewrite while DEBUG LOADAOF loads', () => {
  it(
    'neither the cron (scheduled or automatic ' + 'rewrite) nor CONFIG SET appendonly yes',
    async () => {
      const pauses: (() => Promise<void> | void)[] = [];
      const s = await openSimEngine({
        appendonly: false,
        autoAofRewritePercentage: 1,
        autoAofRewriteMinSize: 1,
        loadScheduler: { everyCommands: 100, pause: () => pauses.shift()?.() },
      });
      const db = s.engine.db(0);
      // Build a directory of 600 keys, then load it with appendonly no... and yes.
      await db.command('config', 'set', 'appendonly', 'yes');
      await s.finishRewrite();
      for (let i = 0; i < 600; i++) await db.set(`k${i}`, String(i));
      await db.multi().command('bgrewriteaof').exec(); // scheduled for the next cron
      const replies: string[] = [];
      pauses.push(
        () => s.tick(),
        async () => {
          replies.push(
            String(
              await db.command('config', 'set', 'appendonly', 'no').catch((e: Error) => e.message),
            ),
          );
        },
      );
      await s.engine.debugLoadAof();
      expect(replies).toEqual(['LOADING Redis is loading the dataset in memory']);
      expect(await db.dbsize()).toBe(600);
      s.tick(); // now the scheduled rewrite starts, on the whole dataset
      await s.finishRewrite();
      const again = await restart(s);
      expect(await again.engine.db(0).dbsize()).toBe(600);
      await again.engine.close();
    },
  );
});

describe('finding 7: close() after an everysec write error', () => {
  it('retries the write: a transient error loses nothing', async () => {
    const s = await openSimEngine({ appendfsync: 'everysec' });
    const db = s.engine.db(0);
    const fault = s.fs.faults.add({ op: 'write', error: 'EIO', persistent: true });
    await db.set('buffered', '1'); // acknowledged, still in aof_buf
    fault.remove();
    s.fs.faults.add({ op: 'write', error: 'EIO' }); // close()'s first attempt fails too
    const again = await restart(s);
    expect(await again.engine.db(0).get('buffered')).toBe('1');
    await again.engine.close();
  });

  it('rejects with ERR_AOF_NOT_PERSISTED naming the bytes when the write still fails', async () => {
    const s = await openSimEngine({ appendfsync: 'everysec' });
    const db = s.engine.db(0);
    s.fs.faults.add({ op: 'write', error: 'ENOSPC', persistent: true });
    await db.set('buffered', '1');
    const closing = s.engine.close();
    await expect(closing).rejects.toBeInstanceOf(EngineError);
    await expect(closing).rejects.toMatchObject({ code: 'ERR_AOF_NOT_PERSISTED' });
    await expect(closing).rejects.toThrow(
      /bytes of executed writes could not be written.*No space left on device/,
    );
  });

  it('rejects when the final fsync fails', async () => {
    const s = await openSimEngine({ appendfsync: 'no' });
    await s.engine.db(0).set('k', '1');
    s.fs.faults.add({ op: 'fdatasync', error: 'EIO' });
    await expect(s.engine.close()).rejects.toThrow(/final fsync .* failed \(Input\/output error\)/);
  });
});

describe('finding 8: EXEC refused by MISCONF', () => {
  it('answers EXECABORT ... because of: MISCONF and discards the transaction', async () => {
    const s = await openSimEngine({ appendfsync: 'everysec' });
    const db = s.engine.db(0);
    const other = s.engine.db(0);
    await db.command('multi');
    expect(await db.command('set', 'b', '1')).toBe('QUEUED');
    s.fs.faults.add({ op: 'write', error: 'EIO', persistent: true });
    await other.set('x', '1'); // its write fails: writes are refused from now on
    await expect(db.command('exec')).rejects.toThrow(
      'EXECABORT Transaction discarded because of: MISCONF Errors ' +
        'writing to the AOF file: Input/output error',
    );
    expect(await db.get('b')).toBe(null); // out of MULTI: a reply, not QUEUED
  });
});

describe('finding 9: turning the AOF on again clears both error statuses', () => {
  it(
    'a background fsync error does not keep ' + 'refusing writes after appendonly no → yes',
    async () => {
      const s = await openSimEngine({ appendfsync: 'everysec' });
      const seen = observe(s.engine);
      const db = s.engine.db(0);
      await db.set('a', '1');
      s.clock.advance(1000);
      s.tick();
      s.fs.faults.add({ op: 'fdatasync', error: 'EIO' });
      s.bio.runAll();
      await expect(db.set('b', '1')).rejects.toThrow(/^MISCONF/);
      await db.command('config', 'set', 'appendonly', 'no');
      await db.command('config', 'set', 'appendonly', 'yes');
      expect(await db.set('b', '1')).toBe('OK');
      expect(seen.logs).toContain('AOF reopen, just ignore the AOF fsync error in bio job');
      await s.finishRewrite();
      await s.engine.close();
    },
  );
});

describe('finding 11: a fatal error in a rewrite start that waited for its presync', () => {
  /** A bio whose drain('aofFsync') waits until the test lets the fsync thread run (release). */
  class SlowFsyncBio extends InlineBio {
    readonly #waiting: (() => void)[] = [];
    override drain(type?: 'aofFsync' | 'closeFile'): Promise<void> {
      if (type !== 'aofFsync' || this.pending('aofFsync') === 0) return super.drain(type);
      return new Promise((resolve) => this.#waiting.push(resolve));
    }
    release(): void {
      this.runAll();
      for (const resolve of this.#waiting.splice(0)) resolve();
    }
  }

  it(
    'goes through the fatal event and rejects ' + 'the held reply (no unhandled rejection)',
    async () => {
      const clock = new SimClock();
      const fs = new SimFileSystem({ clock });
      const bio = new SlowFsyncBio(
        { fsync: (fd) => fs.fdatasync(fd), close: (fd) => fs.close(fd) },
        { clock },
      );
      const engine = await openEngine({
        dir: '/data',
        fs,
        clock,
        bio,
        autoCron: false,
        appendfsync: 'everysec',
        rewriteScheduler: new ManualRewriteScheduler(),
      });
      const seen = observe(engine);
      const db = engine.db(0);
      const value = 'v'.repeat(1000);
      for (let i = 0; i < 300; i++) await db.set(`key:${i}`, value); // > 256 KiB not fsynced
      expect(await db.command('bgrewriteaof')).toBe(
        'Background append only file rewriting started',
      );
      expect(engine.aof!.info().aof_rewrite_in_progress).toBe(1); // waiting for bio's fsync
      await db.command('config', 'set', 'appendfsync', 'always');
      fs.faults.add({ op: 'write', error: 'EIO', persistent: true });
      const held = db.set('x', '1'); // in aof_buf; the presync's end flushes it first
      bio.release(); // the presync ends: its forced flush fails under always
      await expect(held).rejects.toMatchObject({ code: 'ERR_ENGINE_FATAL' });
      expect(seen.fatal).toHaveLength(1);
      await engine.close();
    },
  );
});

describe('smaller findings', () => {
  it(
    '"Could not remove short write" names ftruncate\'s ' +
      'error, at most once per 30 s with the write errors',
    async () => {
      const s = await openSimEngine({ appendfsync: 'everysec' });
      const seen = observe(s.engine);
      const db = s.engine.db(0);
      const shortThenFull = () => {
        s.fs.faults.add({ op: 'write', shortBytes: 3 });
        return s.fs.faults.add({ op: 'write', error: 'ENOSPC', persistent: true });
      };
      s.fs.faults.add({ op: 'ftruncate', error: 'EIO', persistent: true });
      let full = shortThenFull();
      await db.set('a', '1');
      full.remove();
      full = shortThenFull();
      s.clock.advance(1000);
      s.tick(); // the cron's retry: short again, within 30 s of the first log line
      const lines = seen.logs.filter((l) => l.startsWith('Could not remove short write'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/ftruncate: Input\/output error$/);
      expect(seen.logs.filter((l) => l.startsWith('Short write while writing'))).toHaveLength(1);
      full.remove();
      await s.engine.close();
    },
  );

  it(
    'the new base is named by aof-use-rdb-preamble at completion, ' +
      'as Redis names it, and loads',
    async () => {
      const s = await openSimEngine({ aofUseRdbPreamble: true });
      const db = s.engine.db(0);
      await db.set('k', 'v');
      await db.command('bgrewriteaof'); // the content is RDB: the format is chosen at the start
      await db.command('config', 'set', 'aof-use-rdb-preamble', 'no');
      await s.finishRewrite();
      const base = s.engine.aof!.info().aof_base_size;
      expect(base).toBeGreaterThan(0);
      expect(s.fs.readdir(s.aofDir)).toContain('appendonly.aof.2.base.aof');
      const again = await restart(s);
      expect(await again.engine.db(0).get('k')).toBe('v');
      await again.engine.close();
    },
  );

  it('the temp INCR rename of a first rewrite records an aof-rename latency sample', async () => {
    const s = await openSimEngine({
      appendonly: false,
      latencyMonitorThreshold: 1,
      fsOptions: {
        onOp: (e) => {
          if (e.op !== 'rename' || !String(e.path).includes('temp-appendonly.aof.incr')) return;
          const until = performance.now() + 3; // a slow rename(2), simulated
          while (performance.now() < until);
        },
      },
    });
    const db = s.engine.db(0);
    await db.command('config', 'set', 'appendonly', 'yes');
    await s.finishRewrite();
    const latest = (await db.command('latency', 'latest')) as unknown[][];
    expect(latest.map((row) => row[0])).toContain('aof-rename');
  });
});

// Found by the swarm once it turned the AOF off and on (issue 14's simulator work).
describe('INCR names after every INCR became history (found by the simulator)', () => {
  /**
   * An AOF-off rewrite retires every INCR; a crash before the history is deleted keeps them listed.
   */
  async function baseOnlyManifestWithHistory(): Promise<SimEngine> {
    const s = await openSimEngine({ aofDisableAutoGc: true });
    const db = s.engine.db(0);
    await db.set('old', 'stale');
    await db.command('config', 'set', 'appendonly', 'no');
    await db.set('kept', '1');
    await db.command('bgrewriteaof'); // AOF off: the new base alone, every INCR to history
    await s.finishRewrite();
    return s;
  }

  it(
    'a new INCR does not take the name of a history file ' +
      '(which the history deletion would unlink)',
    async () => {
      const s = await baseOnlyManifestWithHistory();
      const manifest = s.fs.fileContent(`${s.aofDir}/appendonly.aof.manifest`).toString('latin1');
      expect(manifest).toMatch(/appendonly\.aof\.1\.incr\.aof seq 1 type h/);
      // opens a new INCR, deletes history
      const again = await restart(s, { aofDisableAutoGc: false });
      await again.engine.db(0).set('new', '1');
      expect(again.currentIncrPath()).not.toMatch(/appendonly\.aof\.1\.incr\.aof$/);
      const third = await restart(again);
      expect(await third.engine.db(0).command('mget', 'kept', 'new')).toEqual(['1', '1']);
      await third.engine.close();
    },
  );

  it('a new INCR opened at start over a stale file of its name starts empty', async () => {
    const s = await openSimEngine({ aofDisableAutoGc: true });
    const db = s.engine.db(0);
    await db.set('old', 'stale');
    await db.command('config', 'set', 'appendonly', 'no');
    await db.command('bgrewriteaof');
    await s.finishRewrite();
    await s.engine.close();
    // The history deletion ran but its unlink failed: the manifest lists only the base, while
    // the old INCR's bytes are still on disk under the name the next INCR gets.
    const manifestPath = `${s.aofDir}/appendonly.aof.manifest`;
    const lines = s.fs.fileContent(manifestPath).toString('latin1').split('\n');
    const baseOnly = Buffer.from(`${lines.filter((l) => l.includes('type b')).join('\n')}\n`);
    const fd = s.fs.open(manifestPath, 'write-truncate');
    s.fs.write(fd, baseOnly, 0, baseOnly.length);
    s.fs.close(fd);
    const again = await openSimEngine({ fs: s.fs, clock: s.clock });
    expect(again.currentIncrPath()).toMatch(/appendonly\.aof\.1\.incr\.aof$/);
    expect(again.fs.fileContent(again.currentIncrPath()).length).toBe(0);
    await again.engine.db(0).set('old', 'fresh');
    const third = await restart(again);
    expect(await third.engine.db(0).get('old')).toBe('fresh');
    await third.engine.close();
  });
});

describe('a rewrite killed before its walk first waited (found by the simulator)', () => {
  it('ends at once: close() does not wait for a slice nobody will release', async () => {
    const s = await openSimEngine();
    const db = s.engine.db(0);
    await db.set('k', 'v');
    // Same turn: the rewrite starts (its sink is still opening) and is killed right away.
    const replies = Promise.all([
      db.command('bgrewriteaof'),
      db.command('config', 'set', 'appendonly', 'no'),
    ]);
    expect(await replies).toEqual(['Background append only file rewriting started', 'OK']);
    await s.engine.close(); // hung for ever: the killed walk waited for a slice
    expect(s.fs.readdir('/data').filter((name) => name.startsWith('temp-'))).toEqual([]);
  });
});

describe(
  'a first rewrite whose manifest could be neither ' +
    'persisted nor restored (found by the simulator)',
  () => {
    it(
      'leaves the manifest in doubt: ' +
        'writes refused and DEBUG LOADAOF refused until the cron restores it',
      async () => {
        let dirFsyncFailed = false;
        const s = await openSimEngine({
          appendonly: false,
          fsOptions: {
            onOp: (e) => void (dirFsyncFailed ||= e.op === 'fsyncDir' && e.errorCode !== undefined),
          },
        });
        const db = s.engine.db(0);
        await db.set('k', 'v');
        await db.command('config', 'set', 'appendonly', 'yes');
        // The done handler's manifest persist renames, then its directory fsync fails, and writing
        // the old manifest back fails too: the manifest on disk may name the renamed temp INCR.
        s.fs.faults.add({ op: 'fsyncDir', error: 'EIO' });
        s.fs.faults.add({
          op: 'open',
          error: 'EIO',
          pathIncludes: 'temp-appendonly.aof.manifest',
          when: () => dirFsyncFailed,
        });
        await s.finishRewrite();
        expect(s.inspect().manifestInDoubt).toBe('EIO');
        await expect(db.set('x', '1')).rejects.toThrow(/^MISCONF/);
        await expect(s.engine.debugLoadAof()).rejects.toMatchObject({ code: 'ERR_AOF_MANIFEST' });
        s.tick(); // the cron restores the manifest in memory, and starts the first rewrite again
        expect(s.inspect().manifestInDoubt).toBe(null);
        await s.finishRewrite();
        expect(s.inspect().state).toBe('on');
        await db.set('x', '1');
        const again = await restart(s);
        expect(await again.engine.db(0).command('mget', 'k', 'x')).toEqual(['v', '1']);
        await again.engine.close();
      },
    );
  },
);

describe(
  'switching appendfsync to always while a background ' +
    'fsync is pending (found by the simulator)',
  () => {
    it(
      'makes everything written durable before the ' +
        'first reply under always (as Redis 7.2 drains bio)',
      async () => {
        const s = await openSimEngine({ appendfsync: 'everysec' });
        const db = s.engine.db(0);
        await db.set('a', '1');
        s.clock.advance(1000);
        await db.set('b', '2'); // a background fsync is submitted: its offset counts as requested
        expect(s.bio.pending('aofFsync')).toBe(1); // ...but bio has not run it
        const path = s.currentIncrPath();
        expect(s.fs.durableContent(path)?.length ?? 0).toBeLessThan(s.fs.fileContent(path).length);
        await db.command('config', 'set', 'appendfsync', 'always');
        // A reply under always (here of a write that changes nothing) promises every earlier write.
        expect(await db.command('pexpire', 'missing', '100')).toBe(0);
        expect(s.fs.durableContent(path)!.length).toBe(s.fs.fileContent(path).length);
        await s.engine.close();
      },
    );
  },
);

describe('a name a manifest on disk may list is not reused (found by the long run)', () => {
  it('after a start left the manifest in doubt, the first rewrite names a new INCR', async () => {
    let dirFsyncFailed = false;
    const s = await openSimEngine({
      fsOptions: {
        onOp: (e) => void (dirFsyncFailed ||= e.op === 'fsyncDir' && e.errorCode !== undefined),
      },
    });
    const db = s.engine.db(0);
    await db.set('k', 'v');
    // The start's manifest persist renames (listing appendonly.aof.2.incr.aof), then its
    // directory fsync fails and writing the old manifest back fails too: in doubt.
    s.fs.faults.add({ op: 'fsyncDir', error: 'EIO' });
    s.fs.faults.add({
      op: 'open',
      error: 'EIO',
      pathIncludes: 'temp-appendonly.aof.manifest',
      when: () => dirFsyncFailed,
    });
    await db.command('bgrewriteaof').catch(() => undefined);
    expect(s.inspect().manifestInDoubt).toBe('EIO');
    const manifestPath = `${s.aofDir}/appendonly.aof.manifest`;
    const onDisk = s.fs.fileContent(manifestPath).toString('latin1');
    expect(onDisk).toContain('appendonly.aof.2.incr.aof');
    const doubtful = `${s.aofDir}/appendonly.aof.2.incr.aof`;
    const doubtfulContent = Buffer.from(s.fs.fileContent(doubtful));
    s.fs.faults.clear();
    await db.command('config', 'set', 'appendonly', 'no');
    await db.command('config', 'set', 'appendonly', 'yes');
    await s.finishRewrite();
    // Before the fix the temp INCR was renamed over appendonly.aof.2.incr.aof: the file the
    // manifest in doubt lists got other content.
    const incrs = s.inspect().manifest.incrList.map((f) => f.fileName);
    expect(incrs).not.toContain('appendonly.aof.2.incr.aof');
    expect(s.fs.fileContent(doubtful)).toEqual(doubtfulContent);
    await s.engine.close();
  });
});
