// InlineSnapshotSink (aof/snapshot-sink.ts) on the simulated disk: the temp base's fd is closed
// whatever way the rewrite ends. Review finding 10: when the final write or fsync failed (ENOSPC),
// finish() threw before close(), leaving the fd open; in the writer thread nothing closed it
// later, so the deleted temp base kept its disk space until the process exited.

import { describe, expect, it } from 'vitest';
import {
  InlineSnapshotSink,
  type SnapshotSinkOptions,
} from '../../src/aof/rewrite/snapshot-sink.ts';
import { SnapshotEncoder } from '../../src/aof/rewrite/snapshot-codec.ts';
import type { FsOp } from '../../src/io/file-system.ts';
import { SimFileSystem } from '../../src/testing/sim-file-system.ts';

const TEMP = '/data/temp-rewriteaof-1.aof';
const RESP_BASE: SnapshotSinkOptions = {
  timestampSec: null,
  incrementalFsync: false,
  rdbCtimeSec: null,
};
const RDB_BASE: SnapshotSinkOptions = { ...RESP_BASE, rdbCtimeSec: 1_700_000_000 };

function chunk(): Uint8Array<ArrayBuffer> {
  const enc = new SnapshotEncoder();
  for (let i = 0; i < 100; i++) enc.entry(0, `key:${i}`, `value:${i}`, -1);
  return enc.take()!;
}

function tempFds(fs: SimFileSystem): number[] {
  return fs
    .openFds()
    .filter((f) => f.path === TEMP)
    .map((f) => f.fd);
}

describe('InlineSnapshotSink: a failed finish closes the temp file (finding 10)', () => {
  const cases: { op: FsOp; base: SnapshotSinkOptions; name: string }[] = [
    { op: 'fdatasync', base: RESP_BASE, name: 'final fdatasync, RESP base' },
    { op: 'write', base: RESP_BASE, name: 'final write, RESP base' },
    { op: 'fdatasync', base: RDB_BASE, name: 'final fdatasync, RDB base' },
    { op: 'write', base: RDB_BASE, name: 'final write, RDB base' },
  ];
  for (const { op, base, name } of cases) {
    it(`ENOSPC on the ${name}: finish rejects and closes the fd, abort stays safe`, async () => {
      const fs = new SimFileSystem();
      fs.mkdir('/data');
      // Another open file: a second close of the temp fd must not touch it.
      const other = fs.open('/data/other', 'append');
      const sink = new InlineSnapshotSink(fs);
      await sink.open(TEMP, base);
      await sink.write(chunk()); // buffered: the writers write out at 1 MiB or at finish
      expect(tempFds(fs)).toHaveLength(1);
      const fault = fs.faults.add({ op, error: 'ENOSPC', pathIncludes: 'temp-', persistent: true });

      await expect(sink.finish()).rejects.toMatchObject({ code: 'ENOSPC' });
      expect(fault.firedCount).toBeGreaterThan(0);
      expect(tempFds(fs)).toEqual([]);

      await expect(sink.abort()).resolves.toBeUndefined();
      expect(fs.openFds().map((f) => f.fd)).toEqual([other]);
    });
  }

  it('a successful finish closes the temp file once; a later abort closes nothing', async () => {
    const fs = new SimFileSystem();
    fs.mkdir('/data');
    const sink = new InlineSnapshotSink(fs);
    await sink.open(TEMP, RESP_BASE);
    await sink.write(chunk());
    const size = await sink.finish();
    expect(size).toBe(fs.fileContent(TEMP).length);
    expect(tempFds(fs)).toEqual([]);
    const other = fs.open('/data/other', 'append');
    await sink.abort();
    expect(fs.openFds().map((f) => f.fd)).toEqual([other]);
  });
});
