// Streams against a real redis-server 7.0.15 (skipped loudly without one):
//   - the same command script gives the same replies and byte-identical INCR files (Redis
//     t_stream.c propagation: generated IDs, approximate trims rewritten as exact ones,
//     XREADGROUP / XCLAIM / XAUTOCLAIM as XCLAIMs, NOACK reads as XGROUP SETID/CREATECONSUMER);
//     delivery times are the servers' clocks, so 13-digit times of this run compare as <NOW>;
//   - redis-server loads what aofkv writes (AOF INCR, RESP base, RDB base) and aofkv loads what
//     redis-server writes (RDB base, INCR), with XINFO STREAM FULL equal but for seen-times.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Bin } from '../../src/bytes.ts';
import { openEngine, type Engine, type EngineOptions } from '../../src/engine.ts';
import { ErrorReply, type Reply } from '../../src/reply.ts';
import { canon, normalize } from '../differential/normalize.ts';
import { startRedis } from '../helpers/redis-server.ts';
import {
  AOF_DIR,
  copyDir,
  haveRedisTools,
  startRedisOnDir,
  tempRoot,
  waitForRedisRewrite,
  warnSkipped,
} from './interop-helpers.ts';

const HAVE_REDIS = haveRedisTools();
if (!HAVE_REDIS) warnSkipped('stream AOF / RDB interop');

const tmp = tempRoot('aofkv-streams-');
afterAll(() => tmp.remove());

/** A script exercising every propagation path of t_stream.c, errors included. */
function script(): Bin[][] {
  const c: Bin[][] = [];
  const add = (...argv: (string | number)[]) => c.push(argv.map(String));
  for (let i = 1; i <= 260; i++) {
    const fields = i % 7 === 0 ? ['other', 'x'.repeat(i % 90)] : ['f', String(i * 37), 'g', 'v'];
    add('XADD', 's', `${Math.ceil(i / 2)}-${i % 2}`, ...fields);
    if (i % 45 === 0) add('XDEL', 's', `${i / 3}-0`, `${i / 5}-1`, '999-0');
  }
  add('XADD', 's', '131-*', 'f', 'v');
  add('XADD', 's', '10000000000000-*', 'f', 'v');
  add('XADD', 's', '*', 'f', 'v');
  add('XADD', 's', 'MAXLEN', '~', '200', '*', 'f', 'v');
  add('XTRIM', 's', 'MAXLEN', '~', '150', 'LIMIT', '90');
  add('XTRIM', 's', 'MINID', '~', '60-0');
  add('XTRIM', 's', 'MINID', '61-1');
  add('XTRIM', 's', 'MAXLEN', '=', '140');
  add('XADD', 'e', 'MAXLEN', '0', '5-5', 'a', 'b');
  add('XTRIM', 's', 'MINID', '~', '0-1');
  add('XGROUP', 'CREATE', 's', 'g1', '0');
  add('XGROUP', 'CREATE', 's', 'g2', '$', 'ENTRIESREAD', '7');
  add('XGROUP', 'CREATE', 'm', 'g', '$', 'MKSTREAM');
  add('XGROUP', 'CREATECONSUMER', 's', 'g1', 'idle');
  add('XREADGROUP', 'GROUP', 'g1', 'alice', 'COUNT', '3', 'STREAMS', 's', '>');
  add('XREADGROUP', 'GROUP', 'g1', 'bob', 'COUNT', '2', 'STREAMS', 's', '>');
  add('XREADGROUP', 'GROUP', 'g1', 'alice', 'STREAMS', 's', '0');
  add('XREADGROUP', 'GROUP', 'g2', 'carol', 'NOACK', 'STREAMS', 's', '>');
  add('XADD', 's', '10000000000001-0', 'late', '1');
  add('XREADGROUP', 'GROUP', 'g2', 'carol', 'NOACK', 'COUNT', '1', 'STREAMS', 's', 'm', '>', '>');
  add('XACK', 's', 'g1', '66-0', '1-1');
  add('XCLAIM', 's', 'g1', 'dave', '0', '67-0', '070-1', 'JUSTID', 'RETRYCOUNT', '5');
  add('XCLAIM', 's', 'g1', 'dave', '0', '1-0', 'FORCE', 'TIME', '1000', 'JUSTID');
  add('XCLAIM', 's', 'g1', 'erin', '0', '100-1', 'FORCE', 'IDLE', '100000000000000');
  add('XCLAIM', 's', 'g1', 'dave', '3600000', '100-1', 'LASTID', '10000000000002-0');
  add('XCLAIM', 's', 'g1', 'dave', '0', '99999-0', 'LASTID', '10000000000003-0');
  add('XDEL', 's', '67-0', '100-1');
  add('XAUTOCLAIM', 's', 'g1', 'zed', '0', '0', 'COUNT', '3');
  add('XAUTOCLAIM', 's', 'g1', 'zed', '0', '0', 'JUSTID');
  add('XGROUP', 'SETID', 's', 'g1', '70-0', 'ENTRIESREAD', '3');
  add('XREADGROUP', 'GROUP', 'g1', 'frank', 'COUNT', '2', 'STREAMS', 's', '>');
  add('XGROUP', 'DELCONSUMER', 's', 'g1', 'bob');
  add('XGROUP', 'DESTROY', 's', 'g2');
  add('XSETID', 's', '20000000000000-5', 'ENTRIESADDED', '999', 'MAXDELETEDID', '99-0');
  add('XGROUP', 'CREATE', 's', 'g3', '-', 'MKSTREAM');
  add('XINFO', 'STREAM', 's');
  add('XINFO', 'GROUPS', 's');
  add('XPENDING', 's', 'g1');
  add('XPENDING', 's', 'g1', 'IDLE', '3600000', '-', '+', '10');
  return c;
}

/** 13-digit numbers within the run are clock readings (delivery and seen times): <NOW>. */
function maskNow(text: string, fromMs: number, toMs: number): string {
  return text.replace(/\b1[0-9]{12}\b/g, (m) =>
    Number(m) >= fromMs - 5_000 && Number(m) <= toMs + 5_000 ? '<NOW>' : m,
  );
}

const readIncr = (dir: string): string => {
  const names = readdirSync(join(dir, AOF_DIR)).filter((n) => n.endsWith('.incr.aof'));
  return names
    .sort()
    .map((n) => readFileSync(join(dir, AOF_DIR, n), 'latin1'))
    .join('');
};

/** XINFO STREAM FULL with seen-times (not carried by the AOF) masked out. */
async function fullInfo(call: (argv: Bin[]) => Promise<Reply>, key: Bin): Promise<string> {
  const r = await call(['XINFO', 'STREAM', key, 'FULL', 'COUNT', '0']);
  return canon(r).replace(/"seen-time",:[0-9]+/g, '"seen-time",:<T>');
}

async function runEngine(dir: string, commands: Bin[][], options: EngineOptions = {}) {
  const engine = await openEngine({ dir, appendfsync: 'always', autoCron: false, ...options });
  const client = engine.server.createClient(0);
  const replies = commands.map((argv) => engine.server.execute(client, [...argv]));
  return { engine, replies };
}

async function infoOfAll(call: (argv: Bin[]) => Promise<Reply>): Promise<string[]> {
  return [await fullInfo(call, 's'), await fullInfo(call, 'm'), await fullInfo(call, 'e')];
}

const engineCall =
  (engine: Engine) =>
  async (argv: Bin[]): Promise<Reply> =>
    engine.server.execute(engine.server.createClient(0), [...argv]);

describe.skipIf(!HAVE_REDIS)('streams against redis-server 7.0.15', () => {
  it('same replies and byte-identical INCR files for every propagation path', async () => {
    const commands = script();
    const from = Date.now();
    const redis = await startRedis({ args: ['--appendonly', 'yes'], dir: tmp.dir('redis') });
    let redisReplies: Reply[];
    try {
      redisReplies = await redis.client.pipeline(commands);
    } finally {
      await redis.stop();
    }
    const ourDir = tmp.dir('aofkv');
    const { engine, replies } = await runEngine(ourDir, commands);
    await engine.close();
    const to = Date.now();
    commands.forEach((argv, i) => {
      const ours = maskNow(canon(normalize(argv, replies[i]!)), from, to);
      const theirs = maskNow(canon(normalize(argv, redisReplies[i]!)), from, to);
      // XINFO/XPENDING idle times are elapsed ms on each server's clock.
      const loose = (t: string) => t.replace(/"idle",:[0-9]+/g, '"idle",:<I>');
      expect(loose(ours), `${argv.join(' ')}`).toBe(loose(theirs));
    });
    expect(replies.some((r) => r instanceof ErrorReply)).toBe(true);
    expect(maskNow(readIncr(ourDir), from, to)).toBe(maskNow(readIncr(redis.dir), from, to));
  });

  // Both sides load the same files. (A replay is not always the live state: Redis propagates
  // XREADGROUP without the group's entries_read, so a counter invalidated by a tombstone comes back
  // as the last XGROUP SETID's value; aofkv replays it the same way.)
  it('redis-server loads what aofkv writes: INCR, RESP base and RDB base', async () => {
    const commands = script().filter((argv) => !argv[0]!.startsWith('XINFO'));
    for (const base of ['incr', 'resp', 'rdb'] as const) {
      const dir = tmp.dir(`w-${base}`);
      const options = { aofUseRdbPreamble: base === 'rdb' };
      const { engine } = await runEngine(dir, commands, options);
      if (base !== 'incr') {
        await engine.db(0).command('bgrewriteaof');
        await engine.aof!.waitForRewrite();
      }
      await engine.close();
      const copy = copyDir(dir, tmp.dir(`r-${base}`));
      const reopened = await openEngine({ dir, autoCron: false, ...options });
      const expected = await infoOfAll(engineCall(reopened));
      await reopened.close();
      const redis = await startRedisOnDir(copy);
      try {
        expect(await infoOfAll((argv) => redis.client.call(...argv))).toEqual(expected);
      } finally {
        await redis.stop();
      }
    }
  });

  it('aofkv loads what redis-server writes: an RDB base and an INCR', async () => {
    const commands = script().filter((argv) => !argv[0]!.startsWith('XINFO'));
    const dir = tmp.dir('from-redis');
    const args = ['--appendonly', 'yes', '--aof-use-rdb-preamble', 'yes'];
    const redis = await startRedis({ args, dir });
    try {
      await redis.client.pipeline(commands.slice(0, 200));
      await redis.client.call('BGREWRITEAOF');
      await waitForRedisRewrite(redis.client);
      await redis.client.pipeline(commands.slice(200));
    } finally {
      await redis.stop();
    }
    const engine = await openEngine({ dir: copyDir(dir, tmp.dir('copy')), autoCron: false });
    const redis2 = await startRedis({ args, dir: copyDir(dir, tmp.dir('copy2')) });
    try {
      const expected = await infoOfAll((argv) => redis2.client.call(...argv));
      expect(await infoOfAll(engineCall(engine))).toEqual(expected);
    } finally {
      await engine.close();
      await redis2.stop();
    }
  });
});
