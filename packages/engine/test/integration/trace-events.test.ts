// The embedders' tracing API: engine.on('trace') delivers the AOF writer's flush decisions and
// every bio job's phases to any number of listeners, and an observer already set on a bio passed
// to openEngine keeps receiving its events.
import { describe, expect, it } from 'vitest';
import { InlineBio } from '@aofkv/bio-workers';
import type { BioEvent } from '@aofkv/bio-workers';
import { openEngine, type EngineTraceEvent } from '@aofkv/engine';
import { openSimEngine, SimClock, SimFileSystem } from '@aofkv/engine/testing';

const describeEvent = (e: EngineTraceEvent) =>
  e.source === 'aof' ? `aof:${e.event.kind}` : `bio:${e.event.type}:${e.event.phase}`;

describe("engine.on('trace')", () => {
  it(
    'two listeners both see writes, ' +
      'the everysec fsync submit and the bio job from submit to finish',
    async () => {
      const s = await openSimEngine({ appendfsync: 'everysec' });
      const a: string[] = [];
      const b: EngineTraceEvent[] = [];
      s.engine.on('trace', (e: EngineTraceEvent) => a.push(describeEvent(e)));
      s.engine.on('trace', (e: EngineTraceEvent) => b.push(e));
      const db = s.engine.db(0);
      await db.set('k', 'v');
      s.clock.advance(1000);
      await db.set('k2', 'v'); // a new second: the write, then a background fsync
      s.bio.runAll();
      expect(a).toEqual([
        'aof:write',
        'aof:write',
        'bio:aofFsync:submit', // the writer reports its submit after the bio has taken the job
        'aof:fsync-submit',
        'bio:aofFsync:start',
        'bio:aofFsync:finish',
      ]);
      expect(b.map(describeEvent)).toEqual(a);
      const write = b[1]!;
      expect(
        write.source === 'aof' && write.event.kind === 'write' && write.event.bytes,
      ).toBeGreaterThan(0);
      const finish = b[5]!;
      expect(finish.source === 'bio' && finish.event.pending).toBe(0);
      await s.engine.close();
    },
  );

  it(
    'a bio observer set before openEngine keeps its ' +
      'events; a listener removed hears nothing more',
    async () => {
      const clock = new SimClock();
      const fs = new SimFileSystem();
      const bio = new InlineBio(
        { fsync: (fd) => fs.fdatasync(fd), close: (fd) => fs.close(fd) },
        { clock },
      );
      const own: BioEvent[] = [];
      bio.onEvent = (e) => own.push(e);
      const engine = await openEngine({
        dir: '/data',
        fs,
        clock,
        bio,
        appendfsync: 'always',
        autoCron: false,
      });
      const seen: string[] = [];
      const listener = (e: EngineTraceEvent) => seen.push(describeEvent(e));
      engine.on('trace', listener);
      const db = engine.db(0);
      await db.set('k', 'v');
      expect(seen).toEqual(['aof:write', 'aof:fsync-always']);
      // BGREWRITEAOF closes the old INCR in bio: both the embedder's observer and the trace see it.
      await db.command('bgrewriteaof');
      await engine.aof!.waitForRewrite();
      bio.runAll();
      // (the old INCR, then the retired base and INCR: three jobs, each submitted, started,
      // finished)
      const closes = seen.filter((x) => x.startsWith('bio:closeFile'));
      expect(closes.filter((x) => x === 'bio:closeFile:finish')).toHaveLength(3);
      expect(closes).toHaveLength(9);
      expect(
        own.filter((e) => e.type === 'closeFile').map((e) => `bio:closeFile:${e.phase}`),
      ).toEqual(closes);
      engine.off('trace', listener);
      const before = seen.length;
      await db.set('k', 'w');
      expect(seen.length).toBe(before);
      await engine.close();
    },
  );
});
