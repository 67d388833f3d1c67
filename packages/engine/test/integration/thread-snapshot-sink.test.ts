// ThreadSnapshotSink with the real writer thread (aof/rewrite-worker.ts) on the real disk: the temp
// base's fd is closed however the rewrite ends. Review finding 10: when the thread's final write
// or fsync failed (ENOSPC), its module-level sink kept the fd open, finish() destroyed the pool
// without asking the thread to close it, and the later abort() found no pool. The pool does not
// track unmanaged fds, so the fd outlived the thread and a deleted temp base kept its disk space
// until the process exited. The temp path here is a symlink to /dev/full, where every write
// fails with ENOSPC; threads share the process's fd table, so /proc/self/fd shows the leak.

import { mkdtempSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SnapshotEncoder } from '../../src/aof/rewrite/snapshot-codec.ts';
import type { SnapshotSinkOptions } from '../../src/aof/rewrite/snapshot-sink.ts';
import { ThreadSnapshotSink } from '../../src/aof/rewrite/thread-snapshot-sink.ts';

const RESP_BASE: SnapshotSinkOptions = {
  timestampSec: null,
  incrementalFsync: false,
  rdbCtimeSec: null,
};

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'aofkv-sink-'));
  dirs.push(d);
  return d;
}

/** A temp base path whose writes all fail with ENOSPC. */
function fullDiskPath(): string {
  const path = join(tempDir(), 'temp-rewriteaof-1.aof');
  symlinkSync('/dev/full', path);
  return path;
}

/** The fds of this process (all threads) open on `target`. */
function fdsOpenOn(target: string): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === target) out.push(fd);
    } catch {
      // Closed between readdir and readlink (the directory's own fd, for one).
    }
  }
  return out;
}

/** One encoded chunk of `keys` string keys, each value `valueBytes` long. */
function chunk(keys: number, valueBytes: number): Uint8Array<ArrayBuffer> {
  const enc = new SnapshotEncoder();
  for (let i = 0; i < keys; i++) enc.entry(0, `key:${i}`, 'v'.repeat(valueBytes), -1);
  return enc.take()!;
}

describe('ThreadSnapshotSink: a failed rewrite closes the temp base (finding 10)', () => {
  it('ENOSPC on the final write: finish rejects, abort resolves, no fd is left open', async () => {
    expect(fdsOpenOn('/dev/full')).toEqual([]);
    const sink = new ThreadSnapshotSink();
    await sink.open(fullDiskPath(), RESP_BASE);
    // Small enough to stay buffered in the thread until finish writes it out.
    await sink.write(chunk(100, 10));
    await expect(sink.finish()).rejects.toThrow();
    await sink.abort();
    expect(fdsOpenOn('/dev/full')).toEqual([]);
  });

  it('ENOSPC while writing a batch: finish rejects, abort resolves, no fd left open', async () => {
    expect(fdsOpenOn('/dev/full')).toEqual([]);
    const sink = new ThreadSnapshotSink();
    await sink.open(fullDiskPath(), RESP_BASE);
    // Over the base writer's 1 MiB write-out threshold: the batch task itself hits ENOSPC.
    await sink.write(chunk(3, 1 << 20)).catch(() => undefined);
    await expect(sink.finish()).rejects.toThrow();
    await sink.abort();
    expect(fdsOpenOn('/dev/full')).toEqual([]);
  });

  it('a successful rewrite leaves no fd on the new base', async () => {
    const path = join(tempDir(), 'temp-rewriteaof-1.aof');
    const sink = new ThreadSnapshotSink();
    await sink.open(path, RESP_BASE);
    await sink.write(chunk(100, 10));
    const sizeBytes = await sink.finish();
    expect(sizeBytes).toBe(statSync(path).size);
    expect(sizeBytes).toBeGreaterThan(0);
    expect(fdsOpenOn(path)).toEqual([]);
    await sink.abort();
  });
});
