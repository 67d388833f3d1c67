// Issue 15, the lock through the engine's lifecycle on the simulated disk: a fatal stop keeps it
// until close(), a power loss leaves the lock of a dead holder that the restart takes over, and
// an open that fails after locking leaves no lock behind.

import { describe, expect, it } from 'vitest';
import { EngineError } from '@aofkv/engine';
import { openSimEngine } from '@aofkv/engine/testing';
import { createPrng } from '../../src/testing/prng.ts';

const LOCK_PATH = '/data/appendonly.aof.lock';

describe('directory lock through the engine lifecycle', () => {
  it('a fatal stop keeps the lock until close()', async () => {
    const s = await openSimEngine({ appendfsync: 'always' });
    const fatal = new Promise((resolve) => s.engine.once('fatal', resolve));
    s.fs.faults.add({ op: 'fdatasync', error: 'EIO' });
    await expect(s.engine.db(0).set('k', 'v')).rejects.toThrow();
    await fatal;
    const second = await openSimEngine({ fs: s.fs, clock: s.clock }).catch((e: unknown) => e);
    expect((second as EngineError).code).toBe('ERR_DIR_LOCKED');
    expect(s.fs.stat(LOCK_PATH)).not.toBeNull();
    await s.engine.close();
    expect(s.fs.stat(LOCK_PATH)).toBeNull();
    const again = await openSimEngine({ fs: s.fs, clock: s.clock });
    await again.engine.close();
  });

  it('a power loss leaves a dead holder’s lock; the restart takes it over, says so', async () => {
    const s = await openSimEngine({ appendfsync: 'always' });
    await s.engine.db(0).set('k', 'v');
    const holder = JSON.parse(s.fs.fileContent(LOCK_PATH).toString()) as { nonce: string };
    s.fs.crash(createPrng(7), { keepProbability: 0, dirOpKeepProbability: 0 });
    expect(s.fs.stat(LOCK_PATH)).not.toBeNull(); // durable: it survived the power loss
    const warnings: string[] = [];
    const again = await openSimEngine({
      fs: s.fs,
      clock: s.clock,
      logger: (level, message) => void (level === 'warning' && warnings.push(message)),
    });
    expect(await again.engine.db(0).get('k')).toBe('v');
    const now = JSON.parse(s.fs.fileContent(LOCK_PATH).toString()) as { nonce: string };
    expect(now.nonce).not.toBe(holder.nonce);
    expect(now.nonce).toBe(again.engine.dirLock!.record.nonce);
    expect(warnings.some((w) => w.startsWith('Took over the lock of /data'))).toBe(true);
    await again.engine.close();
  });

  it('an open that fails after taking the lock releases it', async () => {
    const s = await openSimEngine({ appendfsync: 'always' });
    await s.engine.db(0).set('k', 'v');
    await s.engine.close();
    // A manifest naming a file that does not exist: the load fails (ERR_AOF_MISSING_FILE).
    const fd = s.fs.open('/data/appendonlydir/appendonly.aof.manifest', 'write-truncate');
    const text = Buffer.from('file missing.aof seq 1 type b\n');
    s.fs.write(fd, text, 0, text.length);
    s.fs.close(fd);
    const failed = await openSimEngine({ fs: s.fs, clock: s.clock }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(EngineError);
    expect((failed as EngineError).code).not.toBe('ERR_DIR_LOCKED');
    expect(s.fs.stat(LOCK_PATH)).toBeNull();
  });
});
