// The bio conformance suite, abstract-level style: a function of a factory, run on every BioClient
// implementation (piscina-bio.test.ts, inline-bio.test.ts). Real files in a temp dir; no sleeps:
// background work is awaited through drain() or a harness wait, and a job is held "running"
// through the harness (the injected fsync delay for threads, startNext for InlineBio).
import {
  closeSync,
  fstatSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BIO_JOB_TYPES, type BioClient, type BioEvent, type BioJobType } from '../src/index.ts';

/** Implementation-specific controls the suite needs; everything else goes through BioClient. */
export interface BioHarness {
  readonly bio: BioClient;
  /** Call before submitting: fsync jobs that start from now on stay running until release. */
  holdFsyncs(): void;
  /** Resolves once the oldest held fsync job is running (it is the only one submitted). */
  heldFsyncRunning(): Promise<void>;
  /** Lets held fsync jobs finish. */
  releaseFsyncs(): void;
  /** The next `count` fdatasyncs made by bio (fsync jobs and close jobs) fail with `code`. */
  failFsyncs(code: string, count: number): void;
  dispose(): Promise<void>;
}

export type BioHarnessFactory = () => BioHarness | Promise<BioHarness>;

/** An fd far above anything open in this process: fdatasync/close on it fail with EBADF. */
export const UNOPENED_FD = 2 ** 30;

export function runBioConformance(name: string, factory: BioHarnessFactory): void {
  describe(`bio conformance: ${name}`, () => {
    let dir = '';
    let files: TempFiles;
    let harness: BioHarness;
    let bio: BioClient;
    let events: BioEvent[];

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'aofkv-bio-'));
    });
    afterAll(() => {
      rmSync(dir, { recursive: true, force: true });
    });
    beforeEach(async () => {
      files = new TempFiles(dir);
      harness = await factory();
      bio = harness.bio;
      events = [];
      bio.onEvent = (event) => events.push(event);
    });
    afterEach(async () => {
      harness.releaseFsyncs();
      await harness.dispose();
      files.closeRemaining();
    });

    describe('ordering', () => {
      it('runs 50 fsync jobs in submission order, one at a time', async () => {
        const fds = files.openMany(50);
        for (const fd of fds) bio.submitFsync(fd);
        await bio.drain();
        expectSerialFifo(events, 'aofFsync', fds);
      });

      it('runs 20 close jobs in submission order, one at a time', async () => {
        const fds = files.openMany(20);
        for (const [index, fd] of fds.entries()) {
          bio.submitClose(files.handOver(fd), index % 2 === 0);
        }
        await bio.drain();
        expectSerialFifo(events, 'closeFile', fds);
      });
    });

    describe('pending counts', () => {
      it('returns every type to 0 once its jobs have finished', async () => {
        const [a, b, c, d] = files.openMany(4);
        bio.submitFsync(a!);
        bio.submitFsync(b!);
        bio.submitClose(files.handOver(c!), false);
        bio.submitClose(files.handOver(d!), true);
        expect(bio.pending('lazyFree')).toBe(0);
        await bio.drain();
        for (const type of BIO_JOB_TYPES) expect(bio.pending(type)).toBe(0);
        const submits = events.filter((e) => e.phase === 'submit');
        expect(submits.every((e) => e.pending >= 1)).toBe(true);
      });

      it('counts the held job and the queued ones exactly (1, 2, 3 up; 2, 1, 0 down)', async () => {
        const fds = files.openMany(3);
        harness.holdFsyncs();
        bio.submitFsync(fds[0]!);
        await harness.heldFsyncRunning();
        bio.submitFsync(fds[1]!);
        bio.submitFsync(fds[2]!);
        expect(bio.pending('aofFsync')).toBe(3);
        harness.releaseFsyncs();
        await bio.drain();
        const ofType = events.filter((e) => e.type === 'aofFsync');
        expect(ofType.filter((e) => e.phase === 'submit').map((e) => e.pending)).toEqual([1, 2, 3]);
        expect(ofType.filter((e) => e.phase === 'finish').map((e) => e.pending)).toEqual([2, 1, 0]);
      });

      it('keeps a running fsync pending until its syscall is done', async () => {
        const fd = files.open();
        harness.holdFsyncs();
        bio.submitFsync(fd);
        expect(bio.pending('aofFsync')).toBe(1);
        await harness.heldFsyncRunning();
        await turnEventLoop(20);
        expect(bio.pending('aofFsync')).toBe(1);
        expect(phasesOf(events, 'aofFsync')).not.toContain('finish');
        harness.releaseFsyncs();
        await bio.drain();
        expect(bio.pending('aofFsync')).toBe(0);
        expect(phasesOf(events, 'aofFsync')).toEqual(['submit', 'start', 'finish']);
      });

      it('does not count a close-with-fsync as an AOF fsync', async () => {
        bio.submitClose(files.handOver(files.open()), true);
        expect(bio.pending('aofFsync')).toBe(0);
        expect(bio.pending('closeFile')).toBe(1);
        await bio.drain();
        expect(bio.pending('closeFile')).toBe(0);
      });
    });

    describe('types are independent', () => {
      it('closes files while an fsync is stuck', async () => {
        const [slow, closed] = files.openMany(2);
        harness.holdFsyncs();
        bio.submitFsync(slow!);
        await harness.heldFsyncRunning();
        bio.submitClose(files.handOver(closed!), false);
        await bio.drain('closeFile');
        expect(bio.pending('closeFile')).toBe(0);
        expect(bio.pending('aofFsync')).toBe(1);
        expect(finishOf(events, 'closeFile', closed!).error).toBeUndefined();
        harness.releaseFsyncs();
        await bio.drain();
        expect(bio.pending('aofFsync')).toBe(0);
      });
    });

    describe('close jobs', () => {
      it('fsyncs before closing when asked, and the fd is closed afterwards', async () => {
        const fd = files.open();
        const file = fstatSync(fd);
        bio.submitClose(files.handOver(fd), true);
        await bio.drain();
        // Had close run first, the fdatasync would have failed with EBADF and been reported.
        expect(finishOf(events, 'closeFile', fd).error).toBeUndefined();
        expectNoLongerOpen(fd, file);
      });

      it('ignores a failed fsync of a close job for the fsync status, but reports it', async () => {
        const fd = files.open();
        const file = fstatSync(fd);
        harness.failFsyncs('EIO', 1);
        bio.submitClose(files.handOver(fd), true);
        await bio.drain();
        expect(finishOf(events, 'closeFile', fd).error).toBe('fdatasync: EIO');
        expect(bio.fsyncStatus()).toEqual({ ok: true });
        expectNoLongerOpen(fd, file);
      });

      it('does not fsync when not asked (an armed fault stays for the next fsync)', async () => {
        const [closed, synced] = files.openMany(2);
        harness.failFsyncs('EIO', 1);
        bio.submitClose(files.handOver(closed!), false);
        await bio.drain();
        expect(finishOf(events, 'closeFile', closed!).error).toBeUndefined();
        bio.submitFsync(synced!);
        await bio.drain();
        expect(bio.fsyncStatus()).toEqual({ ok: false, errno: 5, code: 'EIO' });
      });

      it('reports a failed close without touching the fsync status', async () => {
        bio.submitClose(UNOPENED_FD, false);
        await bio.drain();
        expect(finishOf(events, 'closeFile', UNOPENED_FD).error).toBe('close: EBADF');
        expect(bio.fsyncStatus()).toEqual({ ok: true });
      });
    });

    describe('fsync status (aof_bio_fsync_status / errno)', () => {
      it('starts ok', () => {
        expect(bio.fsyncStatus()).toEqual({ ok: true });
      });

      it('records a failed fsync with errno and code; a later success clears it', async () => {
        const fd = files.open();
        harness.failFsyncs('EIO', 1);
        bio.submitFsync(fd);
        await bio.drain();
        expect(bio.fsyncStatus()).toEqual({ ok: false, errno: 5, code: 'EIO' });
        expect(finishOf(events, 'aofFsync', fd).error).toBe('fdatasync: EIO');
        bio.submitFsync(fd);
        await bio.drain();
        expect(bio.fsyncStatus()).toEqual({ ok: true });
      });

      it('keeps the errno of the latest failure', async () => {
        const fd = files.open();
        harness.failFsyncs('EIO', 1);
        bio.submitFsync(fd);
        await bio.drain();
        harness.failFsyncs('ENOSPC', 1);
        bio.submitFsync(fd);
        await bio.drain();
        expect(bio.fsyncStatus()).toEqual({ ok: false, errno: 28, code: 'ENOSPC' });
      });

      it('ignores EBADF and EINVAL: status stays ok, the event names the errno', async () => {
        const devNull = files.openDevNull();
        bio.submitFsync(UNOPENED_FD);
        bio.submitFsync(devNull);
        await bio.drain();
        expect(bio.fsyncStatus()).toEqual({ ok: true });
        expect(finishOf(events, 'aofFsync', UNOPENED_FD).error).toBe('fdatasync: EBADF');
        expect(finishOf(events, 'aofFsync', devNull).error).toBe('fdatasync: EINVAL');
      });

      it(
        'resetFsyncStatus clears a recorded failure ' +
          '(startAppendOnly); a later failure sets it again',
        async () => {
          const fd = files.open();
          harness.failFsyncs('EIO', 1);
          bio.submitFsync(fd);
          await bio.drain();
          expect(bio.fsyncStatus()).toEqual({ ok: false, errno: 5, code: 'EIO' });
          bio.resetFsyncStatus();
          expect(bio.fsyncStatus()).toEqual({ ok: true });
          harness.failFsyncs('ENOSPC', 1);
          bio.submitFsync(fd);
          await bio.drain();
          expect(bio.fsyncStatus()).toEqual({ ok: false, errno: 28, code: 'ENOSPC' });
        },
      );

      it('treats EBADF as success even after a failure (bio.c takes the OK branch)', async () => {
        const fd = files.open();
        harness.failFsyncs('EIO', 1);
        bio.submitFsync(fd);
        bio.submitFsync(UNOPENED_FD);
        await bio.drain();
        expect(bio.fsyncStatus()).toEqual({ ok: true });
      });
    });

    describe('drain and close', () => {
      it('drain waits for every job submitted before the call', async () => {
        const fds = files.openMany(15);
        for (const fd of fds.slice(0, 10)) bio.submitFsync(fd);
        for (const fd of fds.slice(10)) bio.submitClose(files.handOver(fd), true);
        await bio.drain();
        expect(events.filter((e) => e.phase === 'finish')).toHaveLength(15);
        expect(bio.pending('aofFsync') + bio.pending('closeFile')).toBe(0);
      });

      it('drain with nothing submitted resolves', async () => {
        await bio.drain();
        await bio.drain('aofFsync');
        expect(events).toEqual([]);
      });

      it('close finishes queued jobs, is idempotent, and refuses new jobs', async () => {
        const fds = files.openMany(5);
        for (const fd of fds) bio.submitFsync(fd);
        const first = bio.close();
        const second = bio.close();
        await Promise.all([first, second]);
        await bio.close();
        expect(events.filter((e) => e.phase === 'finish')).toHaveLength(5);
        expect(bio.pending('aofFsync')).toBe(0);
        expect(() => bio.submitFsync(fds[0]!)).toThrow(withCode('BIO_CLOSED'));
        expect(() => bio.submitClose(fds[0]!, false)).toThrow(withCode('BIO_CLOSED'));
      });

      it('rejects an invalid fd synchronously, counting nothing', () => {
        for (const fd of [-1, 1.5, Number.NaN, 2 ** 31]) {
          expect(() => bio.submitFsync(fd)).toThrow(withCode('BIO_INVALID_FD'));
        }
        expect(bio.pending('aofFsync')).toBe(0);
        expect(events).toEqual([]);
      });
    });

    describe('events', () => {
      it('reports submit, start and finish of every job, in order, times ascending', async () => {
        const fds = files.openMany(6);
        for (const fd of fds.slice(0, 3)) bio.submitFsync(fd);
        for (const fd of fds.slice(3)) bio.submitClose(files.handOver(fd), false);
        await bio.drain();
        const jobIds = [...new Set(events.map((e) => e.jobId))];
        expect(jobIds).toHaveLength(6);
        for (const jobId of jobIds) {
          const own = events.filter((e) => e.jobId === jobId);
          expect(own.map((e) => e.phase)).toEqual(['submit', 'start', 'finish']);
          expect(new Set(own.map((e) => `${e.type}:${e.fd}`)).size).toBe(1);
          expect(own[1]!.atMs).toBeGreaterThanOrEqual(own[0]!.atMs);
          expect(own[2]!.atMs).toBeGreaterThanOrEqual(own[1]!.atMs);
          expect(own.every((e) => e.error === undefined)).toBe(true);
        }
        expect(events.filter((e) => e.phase === 'submit').map((e) => e.fd)).toEqual(fds);
      });

      it('lets the observer be replaced or removed at any time', async () => {
        bio.onEvent = null;
        bio.submitFsync(files.open());
        await bio.drain();
        expect(events).toEqual([]);
      });
    });
  });
}

/** Jobs of `type` started and finished in submission order, never overlapping. */
function expectSerialFifo(
  events: readonly BioEvent[],
  type: BioJobType,
  fds: readonly number[],
): void {
  const ofType = events.filter((e) => e.type === type);
  const starts = ofType.filter((e) => e.phase === 'start');
  const finishes = ofType.filter((e) => e.phase === 'finish');
  expect(starts.map((e) => e.fd)).toEqual(fds);
  expect(finishes.map((e) => e.fd)).toEqual(fds);
  expect(finishes.every((e) => e.error === undefined)).toBe(true);
  for (let i = 1; i < starts.length; i++) {
    expect(starts[i]!.jobId).toBeGreaterThan(starts[i - 1]!.jobId);
    expect(starts[i]!.atMs).toBeGreaterThanOrEqual(finishes[i - 1]!.atMs);
  }
  expect(finishes.at(-1)?.pending).toBe(0);
}

/**
 * `fd` no longer refers to `file`: it is closed (EBADF), or its number was already taken again by
 * a newer descriptor (piscina starting a worker thread opens some), which is another file. A bare
 * EBADF check fails in that second case although the close did happen.
 */
function expectNoLongerOpen(fd: number, file: Stats): void {
  let now: Stats;
  try {
    now = fstatSync(fd);
  } catch (err) {
    expect(err).toEqual(withCode('EBADF'));
    return;
  }
  expect({ dev: now.dev, ino: now.ino }).not.toEqual({ dev: file.dev, ino: file.ino });
}

/** Matches a thrown error (or any object) by its `code`. */
export function withCode(code: string): unknown {
  return expect.objectContaining({ code });
}

function phasesOf(events: readonly BioEvent[], type: BioJobType): BioEvent['phase'][] {
  return events.filter((e) => e.type === type).map((e) => e.phase);
}

function finishOf(events: readonly BioEvent[], type: BioJobType, fd: number): BioEvent {
  const found = events.find((e) => e.type === type && e.fd === fd && e.phase === 'finish');
  if (found === undefined) throw new Error(`no finish event for ${type} fd ${fd}`);
  return found;
}

/** Lets queued callbacks run (not a sleep: no timer, no wall-clock condition). */
async function turnEventLoop(turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Files for one test. fds handed to close jobs become bio's; the rest are closed after the test.
 * An fd is never closed twice, because a number freed by bio may already belong to someone else.
 */
class TempFiles {
  readonly #dir: string;
  readonly #owned = new Set<number>();
  #count = 0;

  constructor(dir: string) {
    this.#dir = dir;
  }

  open(): number {
    const fd = openSync(join(this.#dir, `f${process.pid}-${++this.#count}.aof`), 'w');
    writeSync(fd, `*1\r\n$4\r\nPING\r\n`);
    this.#owned.add(fd);
    return fd;
  }

  openMany(count: number): number[] {
    return Array.from({ length: count }, () => this.open());
  }

  openDevNull(): number {
    const fd = openSync('/dev/null', 'r');
    this.#owned.add(fd);
    return fd;
  }

  handOver(fd: number): number {
    this.#owned.delete(fd);
    return fd;
  }

  closeRemaining(): void {
    for (const fd of this.#owned) closeSync(fd);
    this.#owned.clear();
  }
}
