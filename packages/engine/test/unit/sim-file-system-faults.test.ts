import { describe, expect, it } from 'vitest';
import { isFsError, type FsError, type FsErrorCode } from '../../src/io/file-system.ts';
import { createPrng } from '../../src/testing/prng.ts';
import { SimClock } from '../../src/testing/sim-clock.ts';
import {
  SimFileSystem,
  type SimCrashOptions,
  type SimFsOpEvent,
} from '../../src/testing/sim-file-system.ts';

const DIR = '/data/appendonlydir';
const INCR = `${DIR}/appendonly.aof.1.incr.aof`;
const MANIFEST = `${DIR}/appendonly.aof.manifest`;
const TEMP_MANIFEST = `${DIR}/temp-appendonly.aof.manifest`;

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const LOSE_ALL: SimCrashOptions = {
  keepProbability: 0,
  tornProbability: 0,
  dirOpKeepProbability: 0,
};
const KEEP_ALL: SimCrashOptions = {
  keepProbability: 1,
  tornProbability: 0,
  dirOpKeepProbability: 1,
};

function freshFs(): SimFileSystem {
  const fs = new SimFileSystem();
  fs.mkdir(DIR);
  return fs;
}

function append(fs: SimFileSystem, fd: number, text: string): number {
  const data = bytes(text);
  return fs.write(fd, data, 0, data.length);
}

function fsErrorOf(action: () => unknown): FsError {
  try {
    action();
  } catch (error) {
    if (isFsError(error)) return error;
    throw error;
  }
  throw new Error('expected an FsError');
}

/** Creates INCR durably (name and content) with `synced`, then appends `unsynced` without sync. */
function incrWithTail(synced: string, unsynced: string[]): { fs: SimFileSystem; fd: number } {
  const fs = freshFs();
  const fd = fs.open(INCR, 'append');
  append(fs, fd, synced);
  fs.fdatasync(fd);
  fs.fsyncDir(DIR);
  for (const chunk of unsynced) append(fs, fd, chunk);
  return { fs, fd };
}

/** Redis's persistAofManifest: temp file, write, fdatasync, rename, optional fsync of the dir. */
function persistManifest(fs: SimFileSystem, content: string, syncDir: boolean): void {
  const fd = fs.open(TEMP_MANIFEST, 'write-truncate');
  append(fs, fd, content);
  fs.fdatasync(fd);
  fs.close(fd);
  fs.rename(TEMP_MANIFEST, MANIFEST);
  if (syncDir) fs.fsyncDir(DIR);
}

describe('SimFileSystem crash: content', () => {
  it('keeps bytes made durable by fdatasync whatever the dice say', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const { fs } = incrWithTail('SYNCED;', ['one;', 'two;', 'three;']);
      fs.crash(createPrng(seed), { keepProbability: 0.3, tornProbability: 0.4 });
      const content = fs.fileContent(INCR).toString('latin1');
      expect(content.startsWith('SYNCED;'), `seed ${seed}`).toBe(true);
      expect(content.length).toBeLessThanOrEqual('SYNCED;one;two;three;'.length);
      fs.checkInvariants();
    }
  });

  it('drops every un-synced write when keepProbability and tornProbability are 0', () => {
    const { fs } = incrWithTail('A', ['B', 'C']);
    const report = fs.crash(createPrng(1), LOSE_ALL);
    expect(fs.fileContent(INCR).toString()).toBe('A');
    expect(report).toMatchObject({ writesKept: 0, writesTorn: 0, writesDropped: 2 });
  });

  it('keeps every un-synced write when keepProbability is 1', () => {
    const { fs } = incrWithTail('A', ['B', 'C']);
    const report = fs.crash(createPrng(1), KEEP_ALL);
    expect(fs.fileContent(INCR).toString()).toBe('ABC');
    expect(fs.durableContent(INCR)?.toString()).toBe('ABC');
    expect(report).toMatchObject({ writesKept: 2, writesTorn: 0, writesDropped: 0 });
  });

  it('a torn write without garbage leaves a strict prefix of itself', () => {
    const options = { keepProbability: 0, tornProbability: 1, garbageProbability: 0 };
    for (let seed = 1; seed <= 50; seed++) {
      const { fs } = incrWithTail('base|', ['0123456789']);
      const report = fs.crash(createPrng(seed), options);
      const content = fs.fileContent(INCR).toString();
      expect(report.writesTorn).toBe(1);
      expect(content.length).toBeLessThan('base|0123456789'.length);
      expect('base|0123456789'.startsWith(content)).toBe(true);
    }
  });

  it('a torn write with garbage keeps a prefix, then garbage, never past the write', () => {
    const options = { keepProbability: 0, tornProbability: 1, garbageProbability: 1 };
    let sawGarbage = false;
    for (let seed = 1; seed <= 50; seed++) {
      const { fs } = incrWithTail('base|', ['0123456789']);
      fs.crash(createPrng(seed), options);
      const content = fs.fileContent(INCR).toString('latin1');
      expect(content.startsWith('base|')).toBe(true);
      expect(content.length).toBeGreaterThan('base|'.length);
      expect(content.length).toBeLessThanOrEqual('base|0123456789'.length);
      if (!'base|0123456789'.startsWith(content)) sawGarbage = true;
    }
    expect(sawGarbage).toBe(true);
  });

  it('independent ordering may keep a later write after dropping an earlier one (a hole)', () => {
    const options = { keepProbability: 0.5, tornProbability: 0 };
    let sawHole = false;
    for (let seed = 1; seed <= 100 && !sawHole; seed++) {
      const { fs } = incrWithTail('', ['aaaa', 'bbbb']);
      fs.crash(createPrng(seed), options);
      sawHole = fs.fileContent(INCR).toString('latin1') === '\0\0\0\0bbbb';
    }
    expect(sawHole).toBe(true);
  });

  it("'prefix' ordering always leaves a prefix of what was written (a torn tail)", () => {
    const written = 'S;' + 'w1;w2;w3;w4;w5;';
    for (let seed = 1; seed <= 200; seed++) {
      const { fs } = incrWithTail('S;', ['w1;', 'w2;', 'w3;', 'w4;', 'w5;']);
      fs.crash(createPrng(seed), { writeOrdering: 'prefix', garbageProbability: 0 });
      const content = fs.fileContent(INCR).toString();
      expect(written.startsWith(content), `seed ${seed}: ${content}`).toBe(true);
      expect(content.startsWith('S;')).toBe(true);
    }
  });

  it('an un-synced ftruncate may be undone by a crash; a synced one survives', () => {
    const { fs, fd } = incrWithTail('SET a;SET b;', []);
    fs.ftruncate(fd, 6);
    fs.crash(createPrng(1), LOSE_ALL);
    expect(fs.fileContent(INCR).toString()).toBe('SET a;SET b;');

    const synced = incrWithTail('SET a;SET b;', []);
    synced.fs.ftruncate(synced.fd, 6);
    synced.fs.fdatasync(synced.fd);
    synced.fs.crash(createPrng(1), LOSE_ALL);
    expect(synced.fs.fileContent(INCR).toString()).toBe('SET a;');
  });

  it('the same seed gives the same post-crash bytes and report; seeds differ', () => {
    const run = (seed: number) => {
      const { fs } = incrWithTail('base;', ['alpha;', 'beta;', 'gamma;', 'delta;', 'epsilon;']);
      const other = fs.open(`${DIR}/other`, 'append');
      append(fs, other, 'other-data');
      const report = fs.crash(createPrng(seed));
      const files = fs.listAll().map((info) => [info.path, info.sizeBytes]);
      const content = fs.stat(INCR) === null ? null : fs.fileContent(INCR).toString('hex');
      return JSON.stringify({ report, files, content });
    };
    expect(run(42)).toBe(run(42));
    const outcomes = new Set(Array.from({ length: 20 }, (_, seed) => run(seed)));
    expect(outcomes.size).toBeGreaterThan(5);
  });

  it('invalidates every fd: later use is EBADF, fd numbers are not reused', () => {
    const { fs, fd } = incrWithTail('x', ['y']);
    const report = fs.crash(createPrng(7), KEEP_ALL);
    expect(report.fdsInvalidated).toBe(1);
    expect(fsErrorOf(() => append(fs, fd, 'z')).code).toBe('EBADF');
    expect(fs.openFds()).toEqual([]);
    expect(fs.open(INCR, 'append')).toBeGreaterThan(fd);
  });

  it('after a crash the visible state is durable: a second crash changes nothing', () => {
    const { fs } = incrWithTail('a', ['b', 'c', 'd']);
    fs.crash(createPrng(3));
    const before = fs.listAll();
    const contentBefore = fs.stat(INCR) === null ? null : fs.fileContent(INCR);
    fs.crash(createPrng(4), LOSE_ALL);
    expect(fs.listAll()).toEqual(before);
    expect(fs.stat(INCR) === null ? null : fs.fileContent(INCR)).toEqual(contentBefore);
    fs.checkInvariants();
  });
});

describe('SimFileSystem crash: directory entries', () => {
  it('an un-synced create may vanish, even after fdatasync of the file', () => {
    const fs = freshFs();
    const fd = fs.open(INCR, 'append');
    append(fs, fd, 'data');
    fs.fdatasync(fd);
    expect(fs.durableContent(INCR)).toBeNull();
    const report = fs.crash(createPrng(1), LOSE_ALL);
    expect(fs.stat(INCR)).toBeNull();
    expect(report).toMatchObject({ dirOpsDropped: 1, filesDiscarded: 1 });
  });

  it('fsyncDir makes a create durable; the content is what was fdatasynced', () => {
    const fs = freshFs();
    const fd = fs.open(INCR, 'append');
    append(fs, fd, 'synced;');
    fs.fsyncDir(DIR);
    fs.fdatasync(fd);
    append(fs, fd, 'lost;');
    fs.crash(createPrng(1), LOSE_ALL);
    expect(fs.fileContent(INCR).toString()).toBe('synced;');
  });

  it('an un-fsynced rename over the manifest may be undone by a crash', () => {
    const fs = freshFs();
    persistManifest(fs, 'old\n', true);
    persistManifest(fs, 'new\n', false);
    expect(fs.fileContent(MANIFEST).toString()).toBe('new\n');
    expect(fs.durableContent(MANIFEST)?.toString()).toBe('old\n');
    fs.crash(createPrng(1), LOSE_ALL);
    expect(fs.fileContent(MANIFEST).toString()).toBe('old\n');
  });

  it('a rename followed by fsyncDir survives every crash', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const fs = freshFs();
      persistManifest(fs, 'old\n', true);
      persistManifest(fs, 'new\n', true);
      fs.crash(createPrng(seed));
      expect(fs.fileContent(MANIFEST).toString()).toBe('new\n');
      expect(fs.stat(TEMP_MANIFEST)).toBeNull();
    }
  });

  it('a crash shows the old or the new manifest, never a mix or nothing', () => {
    const seen = new Set<string>();
    for (let seed = 1; seed <= 100; seed++) {
      const fs = freshFs();
      persistManifest(fs, 'old\n', true);
      persistManifest(fs, 'new\n', false);
      fs.crash(createPrng(seed));
      seen.add(fs.fileContent(MANIFEST).toString());
    }
    expect([...seen].sort()).toEqual(['new\n', 'old\n']);
  });

  it('an un-synced unlink may be undone: the file comes back with its durable content', () => {
    const { fs, fd } = incrWithTail('kept', ['lost']);
    fs.close(fd);
    fs.unlink(INCR);
    expect(fs.stat(INCR)).toBeNull();
    fs.crash(createPrng(1), LOSE_ALL);
    expect(fs.fileContent(INCR).toString()).toBe('kept');
  });

  it('a created then unlinked file (both un-synced) returns when only the create survives', () => {
    let resurrected = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const fs = freshFs();
      const fd = fs.open(`${DIR}/temp-rewrite.aof`, 'append');
      append(fs, fd, 'base');
      fs.fdatasync(fd);
      fs.close(fd);
      fs.unlink(`${DIR}/temp-rewrite.aof`);
      fs.checkInvariants();
      const report = fs.crash(createPrng(seed), { dirOpKeepProbability: 0.5 });
      if (report.dirOpsKept !== 1) continue;
      resurrected++;
      expect(fs.fileContent(`${DIR}/temp-rewrite.aof`).toString()).toBe('base');
    }
    expect(resurrected).toBeGreaterThan(0);
  });

  it('an unlinked, still open file is gone after the crash once the unlink is durable', () => {
    const { fs, fd } = incrWithTail('kept', []);
    fs.unlink(INCR);
    fs.fsyncDir(DIR);
    expect(fsErrorOf(() => fs.fileContent(INCR)).code).toBe('ENOENT');
    const report = fs.crash(createPrng(1), KEEP_ALL);
    expect(report.filesDiscarded).toBe(1);
    expect(fs.stat(INCR)).toBeNull();
    expect(fsErrorOf(() => fs.fileSize(fd)).code).toBe('EBADF');
  });

  it('fsyncDir commits the directory log up to its last entry for that directory', () => {
    const fs = freshFs();
    fs.mkdir('/data/other');
    fs.close(fs.open('/data/other/early', 'append'));
    fs.close(fs.open(`${DIR}/mine`, 'append'));
    fs.close(fs.open('/data/other/late', 'append'));
    expect(fs.unsyncedDirOpCount).toBe(3);
    fs.fsyncDir(DIR);
    expect(fs.unsyncedDirOpCount).toBe(1);
    fs.crash(createPrng(1), LOSE_ALL);
    expect(fs.readdir('/data/other')).toEqual(['early']);
    expect(fs.readdir(DIR)).toEqual(['mine']);
  });

  it('directory operations survive as a prefix: a rename never outlives its create', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const fs = freshFs();
      fs.close(fs.open(`${DIR}/temp`, 'append'));
      fs.rename(`${DIR}/temp`, `${DIR}/final`);
      fs.close(fs.open(`${DIR}/after`, 'append'));
      const report = fs.crash(createPrng(seed));
      const names = fs.readdir(DIR);
      const expected = [[], ['temp'], ['final'], ['after', 'final']][report.dirOpsKept];
      expect(names, `seed ${seed}`).toEqual(expected);
      fs.checkInvariants();
    }
  });
});

describe('SimFileSystem fdatasync in flight (simulated bio)', () => {
  it('makes durable only the writes issued before it started', () => {
    const clock = new SimClock();
    const fs = new SimFileSystem({ clock, fsyncDurationMs: 25 });
    fs.mkdir(DIR);
    const fd = fs.open(INCR, 'append');
    fs.fsyncDir(DIR);
    append(fs, fd, 'before;');
    const fsync = fs.startFdatasync(fd);
    expect(fsync.durationMs).toBe(25);
    expect(fs.fdatasyncDurationMs(fd)).toBe(25);
    append(fs, fd, 'during;');
    clock.advance(fsync.durationMs);
    fsync.complete();
    expect(fs.durableContent(INCR)?.toString()).toBe('before;');
    expect(fs.fileContent(INCR).toString()).toBe('before;during;');
  });

  it('reports an injected failure at complete() and leaves the writes un-synced', () => {
    const fs = freshFs();
    const fd = fs.open(INCR, 'append');
    append(fs, fd, 'data');
    fs.faults.add({ op: 'fdatasync', error: 'EIO' });
    const fsync = fs.startFdatasync(fd);
    expect(fsErrorOf(() => fsync.complete()).code).toBe('EIO');
    expect(fs.durableContent(INCR)).toBeNull();
    fs.fsyncDir(DIR);
    expect(fs.durableContent(INCR)?.toString()).toBe('');
  });

  it('reports EBADF at complete() for an fd that was not open', () => {
    const fs = freshFs();
    const fsync = fs.startFdatasync(99);
    expect(fsErrorOf(() => fsync.complete()).code).toBe('EBADF');
  });

  it('refuses to complete after a crash (the fsync never finished)', () => {
    const { fs, fd } = incrWithTail('a', ['b']);
    const fsync = fs.startFdatasync(fd);
    fs.crash(createPrng(1));
    expect(() => fsync.complete()).toThrow(/after a crash/);
  });
});

describe('SimFileSystem fault rules', () => {
  it('a one-shot write EIO fails once, writes nothing, then writes succeed', () => {
    const fs = freshFs();
    const fd = fs.open(INCR, 'append');
    const rule = fs.faults.add({ op: 'write', error: 'EIO' });
    const error = fsErrorOf(() => append(fs, fd, 'lost'));
    expect(error).toMatchObject({ code: 'EIO', errno: 5, syscall: 'write' });
    expect(error.message).toContain('injected');
    expect(fs.fileSize(fd)).toBe(0);
    expect(append(fs, fd, 'ok')).toBe(2);
    expect(rule.firedCount).toBe(1);
    expect(rule.active).toBe(false);
    expect(fs.injectedCount).toBe(1);
  });

  it('a persistent ENOSPC fails every matching call until removed', () => {
    const fs = freshFs();
    const fd = fs.open(INCR, 'append');
    const rule = fs.faults.add({ op: 'write', error: 'ENOSPC', persistent: true });
    for (let i = 0; i < 3; i++) expect(fsErrorOf(() => append(fs, fd, 'x')).code).toBe('ENOSPC');
    rule.remove();
    expect(append(fs, fd, 'x')).toBe(1);
    expect(rule.firedCount).toBe(3);
  });

  it('pathIncludes matches fd calls by the path the fd was opened with', () => {
    const fs = freshFs();
    const incr = fs.open(INCR, 'append');
    const other = fs.open(`${DIR}/temp-rewrite.aof`, 'append');
    fs.faults.add({
      op: ['write', 'fdatasync'],
      error: 'EIO',
      pathIncludes: 'incr',
      persistent: true,
    });
    expect(append(fs, other, 'fine')).toBe(4);
    fs.fdatasync(other);
    expect(fsErrorOf(() => append(fs, incr, 'x')).code).toBe('EIO');
    expect(fsErrorOf(() => fs.fdatasync(incr)).code).toBe('EIO');
  });

  it('when() sees the call and can pick, e.g., the third write', () => {
    const fs = freshFs();
    const fd = fs.open(INCR, 'append');
    const seen: number[] = [];
    let writes = 0;
    fs.faults.add({
      op: 'write',
      error: 'EIO',
      when: (call) => {
        seen.push(call.lengthBytes ?? -1);
        return ++writes === 3;
      },
    });
    append(fs, fd, 'a');
    append(fs, fd, 'bb');
    expect(fsErrorOf(() => append(fs, fd, 'ccc')).code).toBe('EIO');
    append(fs, fd, 'dddd');
    expect(seen).toEqual([1, 2, 3]);
    expect(fs.fileContent(INCR).toString()).toBe('abbdddd');
  });

  it('a short write writes only shortBytes and returns that count', () => {
    const fs = freshFs();
    const fd = fs.open(INCR, 'append');
    fs.faults.add({ op: 'write', shortBytes: 3 });
    expect(append(fs, fd, '*2\r\n$3\r\nSET')).toBe(3);
    expect(fs.fileContent(INCR).toString()).toBe('*2\r');
    expect(append(fs, fd, 'rest')).toBe(4);
  });

  it('rejects malformed rules as programmer errors', () => {
    const fs = freshFs();
    expect(() => fs.faults.add({ op: 'write' })).toThrow(/exactly one/);
    const both = { op: 'write', error: 'EIO', shortBytes: 1 } as const;
    expect(() => fs.faults.add(both)).toThrow(/exactly one/);
    expect(() => fs.faults.add({ op: 'fdatasync', shortBytes: 1 })).toThrow(/write only/);
    expect(() => fs.faults.add({ op: 'write', shortBytes: 0 })).toThrow(/>= 1/);
  });

  it('injected rename, open and unlink failures have no side effect', () => {
    const fs = freshFs();
    persistManifest(fs, 'old\n', true);
    fs.faults.add({ op: ['rename', 'open', 'unlink'], error: 'EIO', persistent: true });
    expect(fsErrorOf(() => fs.rename(MANIFEST, `${DIR}/x`)).code).toBe('EIO');
    expect(fsErrorOf(() => fs.open(`${DIR}/new`, 'append')).code).toBe('EIO');
    expect(fsErrorOf(() => fs.unlink(MANIFEST)).code).toBe('EIO');
    expect(fs.readdir(DIR)).toEqual(['appendonly.aof.manifest']);
    expect(fs.unsyncedDirOpCount).toBe(0);
  });

  it('an injected close error still releases the fd, as close(2) does', () => {
    const fs = freshFs();
    const fd = fs.open(INCR, 'append');
    fs.faults.add({ op: 'close', error: 'EIO' });
    expect(fsErrorOf(() => fs.close(fd)).code).toBe('EIO');
    expect(fs.openFds()).toEqual([]);
    expect(fsErrorOf(() => fs.close(fd)).code).toBe('EBADF');
  });

  it('faults.clear() removes every rule and the countdown', () => {
    const fs = freshFs();
    fs.faults.add({ op: 'any', error: 'EIO', persistent: true });
    fs.failNthCall(1);
    fs.faults.clear();
    expect(fs.faults.activeRuleCount).toBe(0);
    expect(fs.faults.countdownArmed).toBe(false);
    fs.close(fs.open(INCR, 'append'));
  });
});

describe('SimFileSystem disk-size limit', () => {
  it('fills the remaining space with a short write, then fails with ENOSPC', () => {
    const fs = new SimFileSystem({ diskSizeLimitBytes: 10 });
    fs.mkdir(DIR);
    const fd = fs.open(INCR, 'append');
    expect(append(fs, fd, '123456')).toBe(6);
    expect(append(fs, fd, 'abcdef')).toBe(4);
    const error = fsErrorOf(() => append(fs, fd, 'x'));
    expect(error).toMatchObject({ code: 'ENOSPC', errno: 28 });
    expect(error.message).toContain('No space left on device');
    expect(fs.injectedCount).toBe(0);
    expect(fs.diskUsageBytes()).toBe(10);
  });

  it('overwrites inside a file need no space; truncating frees space', () => {
    const fs = new SimFileSystem({ diskSizeLimitBytes: 4 });
    fs.mkdir(DIR);
    const fd = fs.open(INCR, 'append');
    append(fs, fd, 'abcd');
    const rw = fs.open(INCR, 'read-write');
    expect(append(fs, rw, 'XY')).toBe(2);
    fs.ftruncate(fd, 1);
    expect(append(fs, fd, '123')).toBe(3);
    expect(fs.fileContent(INCR).toString()).toBe('X123');
  });

  it('an unlinked file holds its space until its last fd is closed', () => {
    const fs = new SimFileSystem({ diskSizeLimitBytes: 4 });
    fs.mkdir(DIR);
    const old = fs.open(`${DIR}/old`, 'append');
    append(fs, old, 'full');
    fs.unlink(`${DIR}/old`);
    const fd = fs.open(INCR, 'append');
    expect(fsErrorOf(() => append(fs, fd, 'x')).code).toBe('ENOSPC');
    fs.close(old);
    expect(append(fs, fd, 'x')).toBe(1);
    fs.diskSizeLimitBytes = null;
    expect(append(fs, fd, 'no limit now')).toBe(12);
  });
});

describe('SimFileSystem countdown (SQLite-style)', () => {
  /** A manifest persist with a trailing read-back: 7 calls when nothing fails. */
  function scenario(fs: SimFileSystem): 'ok' | FsErrorCode {
    try {
      persistManifest(fs, 'file appendonly.aof.1.base.rdb seq 1 type b\n', true);
      fs.readFile(MANIFEST);
      return 'ok';
    } catch (error) {
      if (isFsError(error)) return error.code;
      throw error;
    }
  }

  it('fails the n-th call from now, for n = 1, 2, ... until a run injects nothing', () => {
    const failedOps: string[] = [];
    for (let n = 1; ; n++) {
      const fs = freshFs();
      const callsBefore = fs.callCount;
      const events: SimFsOpEvent[] = [];
      fs.onOp = (event) => events.push(event);
      fs.failNthCall(n, { error: 'ENOSPC' });
      const outcome = scenario(fs);
      if (fs.injectedCount === 0) {
        expect(outcome).toBe('ok');
        expect(fs.callCount - callsBefore).toBe(n - 1);
        break;
      }
      expect(outcome).toBe('ENOSPC');
      const injected = events.filter((event) => event.injected);
      expect(injected).toHaveLength(1);
      expect(injected[0]?.callIndex).toBe(callsBefore + n);
      failedOps.push(injected[0]?.op ?? '?');
      fs.checkInvariants();
    }
    expect(failedOps).toEqual([
      'open',
      'write',
      'fdatasync',
      'close',
      'rename',
      'fsyncDir',
      'readFile',
    ]);
  });

  it('persistent mode fails every call from the n-th on', () => {
    const fs = freshFs();
    const fd = fs.open(INCR, 'append');
    fs.failNthCall(2, { persistent: true });
    expect(append(fs, fd, 'a')).toBe(1);
    expect(fsErrorOf(() => append(fs, fd, 'b')).code).toBe('EIO');
    expect(fsErrorOf(() => fs.fdatasync(fd)).code).toBe('EIO');
    expect(fsErrorOf(() => fs.stat(INCR)).code).toBe('EIO');
    expect(fs.injectedCount).toBe(3);
  });

  it('ops restricts what the countdown counts and fails', () => {
    const fs = freshFs();
    const fd = fs.open(INCR, 'append');
    fs.failNthCall(2, { ops: ['fdatasync'] });
    append(fs, fd, 'a');
    fs.fdatasync(fd);
    append(fs, fd, 'b');
    expect(fsErrorOf(() => fs.fdatasync(fd)).code).toBe('EIO');
    fs.fdatasync(fd);
    expect(fs.injectedCount).toBe(1);
  });
});

describe('SimFileSystem trace', () => {
  it('reports every call with its time, sizes and outcome', () => {
    const clock = new SimClock(1_000);
    const events: SimFsOpEvent[] = [];
    const fs = new SimFileSystem({ clock, onOp: (event) => events.push(event) });
    fs.mkdir(DIR);
    const fd = fs.open(INCR, 'append');
    clock.advance(5);
    append(fs, fd, 'hello');
    fs.faults.add({ op: 'fdatasync', error: 'EIO' });
    clock.advance(1);
    expect(() => fs.fdatasync(fd)).toThrow();
    expect(events.map((event) => event.op)).toEqual(['mkdir', 'open', 'write', 'fdatasync']);
    expect(events[2]).toMatchObject({
      op: 'write',
      atMs: 1_005,
      fd,
      path: INCR,
      offsetBytes: 0,
      lengthBytes: 5,
      resultBytes: 5,
      injected: false,
    });
    expect(events[3]).toMatchObject({ atMs: 1_006, errorCode: 'EIO', injected: true });
    expect(events.map((event) => event.callIndex)).toEqual([1, 2, 3, 4]);
  });

  it('has null times without a clock, and helpers are neither traced nor counted', () => {
    const events: SimFsOpEvent[] = [];
    const fs = freshFs();
    fs.onOp = (event) => events.push(event);
    fs.close(fs.open(INCR, 'append'));
    const calls = fs.callCount;
    fs.fileContent(INCR);
    fs.durableContent(INCR);
    fs.listAll();
    expect(fs.callCount).toBe(calls);
    expect(events.every((event) => event.atMs === null)).toBe(true);
    expect(events).toHaveLength(2);
  });
});

describe('SimFileSystem helpers', () => {
  it('listAll shows directories and files with sizes and un-synced operation counts', () => {
    const fs = freshFs();
    const fd = fs.open(INCR, 'append');
    append(fs, fd, 'abc');
    expect(fs.listAll()).toEqual([
      { path: '/', kind: 'directory', sizeBytes: 0, unsyncedOpCount: 0 },
      { path: '/data', kind: 'directory', sizeBytes: 0, unsyncedOpCount: 0 },
      { path: DIR, kind: 'directory', sizeBytes: 0, unsyncedOpCount: 0 },
      { path: INCR, kind: 'file', sizeBytes: 3, unsyncedOpCount: 1 },
    ]);
    expect(fs.openFds()).toEqual([{ fd, path: INCR, mode: 'append' }]);
  });

  it('fileContent of a missing file is ENOENT; durableContent is null', () => {
    const fs = freshFs();
    expect(fsErrorOf(() => fs.fileContent(INCR)).code).toBe('ENOENT');
    expect(fs.durableContent(INCR)).toBeNull();
  });

  it('EMFILE beyond maxOpenFiles', () => {
    const fs = new SimFileSystem({ maxOpenFiles: 2 });
    fs.open('/a', 'append');
    fs.open('/b', 'append');
    expect(fsErrorOf(() => fs.open('/c', 'append')).code).toBe('EMFILE');
  });
});
