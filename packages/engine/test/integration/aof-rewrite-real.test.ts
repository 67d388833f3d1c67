// BGREWRITEAOF with real threads on the real disk: the writer thread produces the base while the
// main thread keeps serving, and nothing is lost or duplicated across the INCR switch.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openEngine } from '@aofkv/engine';
import { dumpKeyspace } from '../../src/cli/dump.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'aofkv-rw-'));
  dirs.push(d);
  return d;
};

describe('aof rewrite on real threads', () => {
  it(
    'aof-race: 20000 INCRs from 20 concurrent callers ' +
      'with a rewrite in the middle, before and after a reload',
    async () => {
      const dir = tempDir();
      const engine = await openEngine({
        dir,
        appendfsync: 'everysec',
        autoAofRewritePercentage: 0,
      });
      const db = engine.db(0);
      let issued = 0;
      let rewriteReply: unknown = null;
      const caller = async () => {
        for (let i = 0; i < 1000; i++) {
          issued++;
          if (issued === 10_000) rewriteReply = await db.command('bgrewriteaof');
          await db.incr('foo');
        }
      };
      await Promise.all(Array.from({ length: 20 }, caller));
      expect(rewriteReply).toBe('Background append only file rewriting started');
      await engine.aof!.waitForRewrite();
      expect(engine.aof!.info().aof_last_bgrewrite_status).toBe('ok');
      expect(await db.get('foo')).toBe('20000');
      await engine.close();
      const manifest = readFileSync(
        join(dir, 'appendonlydir', 'appendonly.aof.manifest'),
        'latin1',
      );
      expect(manifest).toBe(
        'file appendonly.aof.2.base.rdb seq 2 type b\n' +
          'file appendonly.aof.2.incr.aof seq 2 type i\n',
      );
      const reopened = await openEngine({ dir });
      expect(await reopened.db(0).get('foo')).toBe('20000');
      await reopened.close();
    },
  );

  for (const aofUseRdbPreamble of [true, false]) {
    it(
      `a rewrite of mixed data through the writer thread reloads to the ` +
        `same keyspace (${aofUseRdbPreamble ? 'RDB' : 'RESP'} base)`,
      async () => {
        const dir = tempDir();
        const engine = await openEngine({ dir, autoAofRewritePercentage: 0, aofUseRdbPreamble });
        for (let d = 0; d < 3; d++) {
          const db = engine.db(d);
          const ops: Promise<unknown>[] = [];
          for (let i = 0; i < 2000; i++) {
            ops.push(db.set(`s${i}`, Buffer.from([i & 255, 0, 13, 10, 255])));
            if (i % 10 === 0)
              ops.push(db.rpush(`l${i % 7}`, i, `x${i}`), db.hset(`h${i % 5}`, `f${i}`, i));
            if (i % 13 === 0)
              ops.push(db.sadd(`set${i % 3}`, i), db.zadd(`z${i % 4}`, i / 7, `m${i}`));
            if (i % 17 === 0) ops.push(db.pexpire(`s${i}`, 3_600_000));
          }
          await Promise.all(ops);
        }
        await engine.db(0).command('bgrewriteaof');
        // Keep writing while the thread works: these land in the new INCR.
        await Promise.all(Array.from({ length: 200 }, (_, i) => engine.db(1).set(`during${i}`, i)));
        await engine.aof!.waitForRewrite();
        expect(engine.aof!.info().aof_last_bgrewrite_status).toBe('ok');
        const live = dumpKeyspace(engine.server.dbs);
        await engine.close();
        expect(readdirSync(dir).filter((n) => n.startsWith('temp-'))).toEqual([]);
        const reopened = await openEngine({ dir });
        expect(dumpKeyspace(reopened.server.dbs)).toBe(live);
        await reopened.close();
      },
    );
  }

  it(
    'closing the engine during a rewrite cancels it and ' +
      'leaves a loadable directory without temp files',
    async () => {
      const dir = tempDir();
      const engine = await openEngine({ dir, autoAofRewritePercentage: 0 });
      const db = engine.db(0);
      await Promise.all(Array.from({ length: 5000 }, (_, i) => db.set(`k${i}`, 'v'.repeat(100))));
      await db.command('bgrewriteaof');
      await engine.close();
      expect(readdirSync(dir).filter((n) => n.startsWith('temp-'))).toEqual([]);
      const reopened = await openEngine({ dir });
      expect(await reopened.db(0).dbsize()).toBe(5000);
      await reopened.close();
    },
  );
});
