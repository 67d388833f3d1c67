// The disk's physical limits, measured in the same run and directory as the systems, so every
// policy can be shown as a fraction of what the hardware allows:
//   fdatasync/s      append 100 bytes + fdatasync, back to back: the ceiling of a durable store
//                    that fsyncs once per acknowledged write (1 in flight); with group commit the
//                    ceiling is inFlight × this.
//   fdatasync/s in place  the same, but each 100-byte record overwrites the next 4 KiB page of
//                    an already written and synced 16 MiB file: no size change, so no metadata
//                    journal commit. This is the cheaper kind SQLite's WAL gets when it reuses its
//                    file (each commit writes the next frame); an append-only file never does.
//                    (Overwriting the *same* page each time would measure stable-page waits
//                    instead: the page is still under write-back from the previous fsync.)
//   fdatasync/s per 64-SET turn  the same with 64 × 144-byte appends (9.2 KB, what one turn of
//                    64 SETs in flight appends under always): more pages and a new block most
//                    times, so each fdatasync costs more than a 100-byte one. It bounds a group
//                    commit of 64 before any CPU is spent (T3's disk-only ceiling).
//   sequential MB/s  1 MiB appends, timed without and with a final fdatasync: the ceiling of the
//                    byte stream an AOF without fsync (no / everysec) can sustain.
import fs from 'node:fs';
import path from 'node:path';
import { SET_AOF_BYTES } from '../workload.ts';

/** What one event-loop turn of 64 SETs appends to the AOF. */
export const GROUP_COMMIT_TURN_BYTES = 64 * SET_AOF_BYTES;

export interface LimitSample {
  fdatasyncPerSec: number;
  fdatasyncP50Ms: number;
  fdatasyncInPlacePerSec: number;
  /** fdatasync/s when each one covers a GROUP_COMMIT_TURN_BYTES append. */
  fdatasyncTurnPerSec: number;
  seqWriteMBps: number;
  seqWriteSyncedMBps: number;
}

export function measureFdatasyncRate(
  dir: string,
  durationMs: number,
  inPlace = false,
  appendBytes = 100,
): { perSec: number; p50Ms: number } {
  const file = path.join(dir, inPlace ? 'limits-fdatasync-inplace.dat' : 'limits-fdatasync.dat');
  const buf = Buffer.alloc(appendBytes, 0x61);
  const inPlaceBytes = 16 << 20;
  if (inPlace) {
    fs.writeFileSync(file, Buffer.alloc(inPlaceBytes, 0x61));
    const f = fs.openSync(file, 'r+');
    fs.fdatasyncSync(f);
    fs.closeSync(f);
  }
  let offset = 0;
  const fd = fs.openSync(file, inPlace ? 'r+' : 'a');
  const times: number[] = [];
  const t0 = performance.now();
  try {
    let now = t0;
    while (now - t0 < durationMs) {
      const s = now;
      if (inPlace) {
        fs.writeSync(fd, buf, 0, buf.length, offset);
        offset = (offset + 4096) % inPlaceBytes;
      } else fs.writeSync(fd, buf);
      fs.fdatasyncSync(fd);
      now = performance.now();
      times.push(now - s);
    }
    const elapsed = now - t0;
    times.sort((a, b) => a - b);
    return {
      perSec: (times.length / elapsed) * 1000,
      p50Ms: times[times.length >> 1] ?? Number.NaN,
    };
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
}

export function measureSequentialWrite(
  dir: string,
  totalBytes: number,
): { mbps: number; syncedMbps: number } {
  const file = path.join(dir, 'limits-seq.dat');
  const chunk = Buffer.alloc(1 << 20, 0x62);
  const fd = fs.openSync(file, 'w');
  try {
    const t0 = performance.now();
    for (let written = 0; written < totalBytes; written += chunk.length) fs.writeSync(fd, chunk);
    const tWrite = performance.now() - t0;
    fs.fdatasyncSync(fd);
    const tSynced = performance.now() - t0;
    const mb = totalBytes / 1e6;
    return { mbps: mb / (tWrite / 1000), syncedMbps: mb / (tSynced / 1000) };
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
}

export function measureLimits(dir: string, fdatasyncMs: number, seqBytes: number): LimitSample {
  const f = measureFdatasyncRate(dir, fdatasyncMs);
  const inPlace = measureFdatasyncRate(dir, fdatasyncMs / 2, true);
  const turn = measureFdatasyncRate(dir, fdatasyncMs / 2, false, GROUP_COMMIT_TURN_BYTES);
  const s = measureSequentialWrite(dir, seqBytes);
  return {
    fdatasyncPerSec: f.perSec,
    fdatasyncP50Ms: f.p50Ms,
    fdatasyncInPlacePerSec: inPlace.perSec,
    fdatasyncTurnPerSec: turn.perSec,
    seqWriteMBps: s.mbps,
    seqWriteSyncedMBps: s.syncedMbps,
  };
}
