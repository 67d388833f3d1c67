// The write path with real threads and a real disk: a background fdatasync running in a piscina
// worker is seen by the main thread through the shared counters (Atomics), and it postpones the
// next write exactly as Redis's flushAppendOnlyFile does. The clock is simulated so the
// once-per-second rules are exact; the fsync itself is real, held long enough by the bio's
// fault-injection delay. Waits on the real condition (bio.drain()), never on a timer.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createPiscinaBio } from '@aofkv/bio-workers';
import { openEngine } from '@aofkv/engine';
import { inspectAof, SimClock } from '@aofkv/engine/testing';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('aof flush with a piscina bio on the real file system', () => {
  it('a real fsync in a worker postpones a real write until it finishes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aofkv-realbio-'));
    dirs.push(dir);
    const clock = new SimClock();
    const bio = createPiscinaBio({ fsyncDelayMs: 400 });
    const engine = await openEngine({ dir, bio, clock, autoCron: false, appendfsync: 'everysec' });
    const incr = join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof');
    const db = engine.db(0);
    clock.advance(1000);
    await db.set('a', '1'); // written, and the second's fsync goes to the worker
    expect(bio.pending('aofFsync')).toBe(1); // read synchronously from shared memory
    const sizeAfterA = statSync(incr).size;
    await db.set('b', '2'); // the fsync is still running: the write is postponed
    expect(statSync(incr).size).toBe(sizeAfterA);
    expect(inspectAof(engine).writer.flushPostponedStartSec).not.toBe(0);
    await bio.drain();
    expect(bio.pending('aofFsync')).toBe(0);
    engine.cron(); // Redis retries a postponed flush on every cron tick
    expect(statSync(incr).size).toBeGreaterThan(sizeAfterA);
    expect(inspectAof(engine).writer.delayedFsyncCount).toBe(0);
    await engine.close();
  });

  it('survives a restart: what was written is loaded again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aofkv-realbio-'));
    dirs.push(dir);
    const first = await openEngine({ dir, appendfsync: 'always' });
    const db = first.db(2);
    await db.set('k', 'v');
    await db.rpush('l', 'a', 'b');
    await first.close();
    const second = await openEngine({ dir });
    expect(await second.db(2).get('k')).toBe('v');
    expect(await second.db(2).lrange('l', 0, -1)).toEqual(['a', 'b']);
    await second.close();
  });
});
