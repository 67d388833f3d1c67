// The data directory's lock (src/io/dir-lock.ts) on the simulated disk, with a fake process
// table: who wins, what a loser is told, takeover of stale locks, and every interleaving of two
// openers (the second runs whole at each file-system call of the first) and every death of an
// opener part way (the next opener must still get the directory).

import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/errors.ts';
import { acquireDirLock, type DirLock, lockFileName } from '../../src/io/dir-lock.ts';
import { FsError, type FileSystem, type FsOp } from '../../src/io/file-system.ts';
import type { ProcessIdentity, ProcessProbe } from '../../src/io/process-probe.ts';
import { createPrng } from '../../src/testing/prng.ts';
import { SimFileSystem } from '../../src/testing/sim-file-system.ts';

const DIR = '/data';
const LOCK_NAME = lockFileName('appendonly.aof');
const LOCK_PATH = `${DIR}/${LOCK_NAME}`;
const NOW_MS = Date.UTC(2026, 0, 2, 3, 4, 5);

/** A process table: pids alive until killed; start time = pid * 10. */
class FakeProcesses {
  readonly alive = new Set<number>();
  readonly host: string;
  constructor(host = 'host-a') {
    this.host = host;
  }

  spawn(pid: number): ProcessProbe {
    this.alive.add(pid);
    const self: ProcessIdentity = { pid, host: this.host, startTime: `${pid * 10}`, bootId: 'b' };
    return {
      self: () => self,
      liveness: (holder) => {
        if (holder.host !== this.host) return 'unknown';
        const startMatches = holder.startTime === '' || holder.startTime === `${holder.pid * 10}`;
        const running = this.alive.has(holder.pid) && startMatches;
        return running ? 'alive' : 'dead';
      },
    };
  }
}

function newDisk(): SimFileSystem {
  const fs = new SimFileSystem();
  fs.mkdir(DIR);
  return fs;
}

function acquire(fs: FileSystem, probe: ProcessProbe): DirLock {
  return acquireDirLock({ fs, probe, dir: DIR, lockName: LOCK_NAME, nowMs: () => NOW_MS });
}

function attempt(fs: FileSystem, probe: ProcessProbe): DirLock | EngineError {
  try {
    return acquire(fs, probe);
  } catch (err) {
    if (err instanceof EngineError) return err;
    throw err;
  }
}

function lockRecord(fs: SimFileSystem): { pid: number; nonce: string } {
  return JSON.parse(fs.readFile(LOCK_PATH).toString()) as { pid: number; nonce: string };
}

/** Lock files other than the lock itself (temp files, claims). */
function leftovers(fs: SimFileSystem): string[] {
  return fs.readdir(DIR).filter((name) => name.startsWith(LOCK_NAME) && name !== LOCK_NAME);
}

function writeFile(fs: SimFileSystem, path: string, bytes: Buffer): void {
  const fd = fs.open(path, 'write-truncate');
  fs.write(fd, bytes, 0, bytes.length);
  fs.fdatasync(fd);
  fs.close(fd);
}

/** A file system that fails every call once `dead()` is true: the process is gone. */
function processView(fs: FileSystem, dead: () => boolean): FileSystem {
  return new Proxy(fs, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (dead()) throw new FsError('EIO', String(property) as FsOp, { detail: 'dead' });
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

describe('directory lock: one writer', () => {
  it('a second opener fails at once with ERR_DIR_LOCKED naming the holder and what to do', () => {
    const fs = newDisk();
    const processes = new FakeProcesses();
    const held = acquire(fs, processes.spawn(100));
    const second = attempt(fs, processes.spawn(200));
    expect(second).toBeInstanceOf(EngineError);
    const error = second as EngineError;
    expect(error.code).toBe('ERR_DIR_LOCKED');
    expect(error.message).toContain('pid 100 on host host-a');
    expect(error.message).toContain(`since ${new Date(NOW_MS).toISOString()}`);
    expect(error.message).toContain(LOCK_PATH);
    expect(error.message).toContain('readOnly');
    expect(lockRecord(fs).nonce).toBe(held.record.nonce);
    expect(leftovers(fs)).toEqual([]);
  });

  it('the same process opening twice is refused too (its pid is alive)', () => {
    const fs = newDisk();
    const probe = new FakeProcesses().spawn(100);
    acquire(fs, probe);
    expect((attempt(fs, probe) as EngineError).code).toBe('ERR_DIR_LOCKED');
  });

  it('release removes the lock (only its own) and the directory can be locked again', () => {
    const fs = newDisk();
    const processes = new FakeProcesses();
    const first = acquire(fs, processes.spawn(100));
    expect(first.release()).toBe(true);
    expect(fs.stat(LOCK_PATH)).toBeNull();
    const second = acquire(fs, processes.spawn(200));
    expect(first.release()).toBe(true); // idempotent, and does not touch the new holder's lock
    expect(lockRecord(fs).nonce).toBe(second.record.nonce);
  });

  it('a holder on another host is never displaced: the message says it cannot be checked', () => {
    const fs = newDisk();
    acquire(fs, new FakeProcesses('host-b').spawn(100));
    const error = attempt(fs, new FakeProcesses('host-a').spawn(100)) as EngineError;
    expect(error.code).toBe('ERR_DIR_LOCKED');
    expect(error.message).toContain('host-b');
    expect(error.message).toContain('cannot be checked');
  });
});

describe('directory lock: stale locks are taken over', () => {
  it('the lock of a dead holder is taken over; tookOverFrom names it', () => {
    const fs = newDisk();
    const processes = new FakeProcesses();
    acquire(fs, processes.spawn(100));
    processes.alive.delete(100);
    const lock = acquire(fs, processes.spawn(200));
    expect(lock.tookOverFrom?.pid).toBe(100);
    expect(lockRecord(fs).pid).toBe(200);
    expect(leftovers(fs)).toEqual([]);
  });

  it('a reused pid (same pid, other start time) does not keep a dead holder alive', () => {
    const fs = newDisk();
    const processes = new FakeProcesses();
    const record = {
      format: 'aofkv-lock/1',
      pid: 300,
      host: 'host-a',
      startTime: '1',
      bootId: 'b',
      since: 'x',
      nonce: 'abcd',
    };
    writeFile(fs, LOCK_PATH, Buffer.from(JSON.stringify(record)));
    processes.spawn(300); // pid 300 runs, started at 3000, not at 1
    expect(acquire(fs, processes.spawn(400)).tookOverFrom?.pid).toBe(300);
  });

  it.each([
    ['zeros', Buffer.alloc(64)],
    ['garbage', Buffer.from('{"format":"aofkv-lock/1","pid":')],
    ['empty', Buffer.alloc(0)],
    ['too large', Buffer.alloc(10_000, 0x20)],
  ])('a lock file of %s (a power cut) is stale and taken over', (_name, bytes) => {
    const fs = newDisk();
    writeFile(fs, LOCK_PATH, bytes);
    const lock = acquire(fs, new FakeProcesses().spawn(100));
    expect(lock.tookOverFrom).toBeNull();
    expect(lockRecord(fs).pid).toBe(100);
  });

  it('a claim by a live taker stops a second taker; a dead claimer is skipped', () => {
    const fs = newDisk();
    const processes = new FakeProcesses();
    const dead = acquire(fs, processes.spawn(100));
    processes.alive.delete(100);
    const claimer = processes.spawn(150);
    const claimBytes = Buffer.from(
      JSON.stringify({
        format: 'aofkv-lock/1',
        ...claimer.self(),
        since: 'x',
        nonce: 'c1a1',
      }),
    );
    const claimPath = `${LOCK_PATH}.claim-${dead.record.nonce}-1`;
    writeFile(fs, claimPath, claimBytes);
    const error = attempt(fs, processes.spawn(200)) as EngineError;
    expect(error.code).toBe('ERR_DIR_LOCKED');
    expect(error.message).toContain('being taken over');
    expect(error.message).toContain('pid 150');
    processes.alive.delete(150);
    const lock = acquire(fs, processes.spawn(200));
    expect(lock.tookOverFrom?.pid).toBe(100);
    expect(leftovers(fs)).toEqual([]);
  });
});

type Start = 'fresh' | 'stale' | 'garbled';

function prepare(start: Start): { fs: SimFileSystem; processes: FakeProcesses } {
  const fs = newDisk();
  const processes = new FakeProcesses();
  if (start === 'stale') {
    acquire(fs, processes.spawn(1));
    processes.alive.delete(1);
  } else if (start === 'garbled') {
    writeFile(fs, LOCK_PATH, Buffer.alloc(32, 0));
  }
  return { fs, processes };
}

/** How many file-system calls one opener makes alone from this start. */
function callsAlone(start: Start): number {
  const { fs, processes } = prepare(start);
  const before = fs.callCount;
  acquire(fs, processes.spawn(100));
  return fs.callCount - before;
}

describe('directory lock: races (every interleaving of two openers)', () => {
  for (const start of ['fresh', 'stale', 'garbled'] as const) {
    it(`${start}: B runs whole after each call of A; exactly one of them holds the dir`, () => {
      const total = callsAlone(start);
      expect(total).toBeGreaterThan(2);
      for (let k = 1; k <= total; k++) {
        const { fs, processes } = prepare(start);
        const probeA = processes.spawn(100);
        const probeB = processes.spawn(200);
        const first = fs.callCount;
        let b: DirLock | EngineError | null = null;
        fs.onOp = (event) => {
          if (b !== null || event.callIndex !== first + k) return;
          b = new EngineError('ERR_DIR_LOCKED', 'placeholder'); // no re-entry while B runs
          b = attempt(fs, probeB);
        };
        const a = attempt(fs, probeA);
        fs.onOp = undefined;
        const results = [a, b] as (DirLock | EngineError | null)[];
        const winners = results.filter((r): r is DirLock => r !== null && !(r instanceof Error));
        const context = `${start}, B at call ${k} of ${total}`;
        expect(winners.length, context).toBe(1);
        for (const r of results) {
          if (r instanceof EngineError) expect(r.code, context).toBe('ERR_DIR_LOCKED');
        }
        expect(lockRecord(fs).nonce, context).toBe(winners[0]!.record.nonce);
        expect(leftovers(fs), context).toEqual([]);
      }
    });

    it(`${start}: A dies after each of its calls; the next opener gets the dir`, () => {
      const total = callsAlone(start);
      for (let k = 1; k <= total; k++) {
        for (const powerCut of [false, true]) {
          const { fs, processes } = prepare(start);
          let dead = false;
          const first = fs.callCount;
          fs.onOp = (event) => {
            if (event.callIndex === first + k) dead = true;
          };
          let a: unknown;
          try {
            a = acquire(
              processView(fs, () => dead),
              processes.spawn(100),
            );
          } catch (err) {
            a = err;
          }
          fs.onOp = undefined;
          processes.alive.delete(100);
          if (powerCut) fs.crash(createPrng(k), { keepProbability: 0.5 });
          const context = `${start}, A died at call ${k} of ${total}, power cut ${powerCut}`;
          if (!dead) expect(a, context).not.toBeInstanceOf(Error);
          const b = acquire(fs, processes.spawn(200));
          expect(lockRecord(fs).nonce, context).toBe(b.record.nonce);
          expect(leftovers(fs), context).toEqual([]);
        }
      }
    });
  }
});
