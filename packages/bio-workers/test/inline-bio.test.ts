import { closeSync, fdatasyncSync } from 'node:fs';
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { InlineBio, type BioEvent } from '../src/index.ts';
import { runBioConformance, withCode, type BioHarness } from './bio-conformance.ts';

/** Real fs calls, with a countdown of injected fdatasync failures in front of them. */
function inlineHarness(): BioHarness {
  const fault = { code: '', remaining: 0 };
  const bio = new InlineBio({
    fsync(fd) {
      if (fault.remaining > 0) {
        fault.remaining--;
        throw fsError(fault.code);
      }
      fdatasyncSync(fd);
    },
    close: (fd) => closeSync(fd),
  });
  return {
    bio,
    holdFsyncs() {},
    async heldFsyncRunning() {
      expect(bio.startNext('aofFsync')).toBe(true);
    },
    releaseFsyncs() {
      if (bio.isRunning('aofFsync')) bio.finishRunning('aofFsync');
    },
    failFsyncs(code, count) {
      fault.code = code;
      fault.remaining = count;
    },
    dispose: () => bio.close(),
  };
}

/** Shaped like node:fs errors: string code plus negative errno. */
function fsError(code: string): Error {
  const errno = (constants.errno as Record<string, number>)[code] ?? 5;
  return Object.assign(new Error(`${code}: injected`), { code, errno: -errno });
}

runBioConformance('InlineBio', inlineHarness);

describe('InlineBio: driven by the test', () => {
  function recordingBio(clockMs = { now: 1000 }) {
    const calls: string[] = [];
    const events: BioEvent[] = [];
    const bio = new InlineBio(
      {
        fsync: (fd) => void calls.push(`fsync ${fd}`),
        close: (fd) => void calls.push(`close ${fd}`),
      },
      { clock: { nowMs: () => clockMs.now } },
    );
    bio.onEvent = (e) => events.push(e);
    return { bio, calls, events, clockMs };
  }

  it('runs nothing until driven; the syscall happens at finish, not at start', () => {
    const { bio, calls } = recordingBio();
    bio.submitFsync(7);
    expect(calls).toEqual([]);
    const type = 'aofFsync';
    const state = () => [bio.pending(type), bio.queued(type), bio.isRunning(type)];
    expect(state()).toEqual([1, 1, false]);
    expect(bio.startNext('aofFsync')).toBe(true);
    expect(calls).toEqual([]);
    expect(state()).toEqual([1, 0, true]);
    bio.finishRunning('aofFsync');
    expect(calls).toEqual(['fsync 7']);
    expect(bio.pending('aofFsync')).toBe(0);
  });

  it('runs one job per type at a time', () => {
    const { bio } = recordingBio();
    bio.submitFsync(1);
    bio.submitFsync(2);
    bio.startNext('aofFsync');
    expect(() => bio.startNext('aofFsync')).toThrow(withCode('BIO_JOB_RUNNING'));
    expect(() => bio.finishRunning('closeFile')).toThrow(withCode('BIO_NO_SUCH_JOB'));
    expect(bio.startNext('closeFile')).toBe(false);
    expect(bio.runNext('closeFile')).toBe(false);
  });

  it('runNext finishes the running job first, then starts the next one', () => {
    const { bio, calls } = recordingBio();
    bio.submitFsync(1);
    bio.submitFsync(2);
    bio.startNext('aofFsync');
    expect(bio.runNext('aofFsync')).toBe(true);
    expect(calls).toEqual(['fsync 1']);
    expect(bio.runNext('aofFsync')).toBe(true);
    expect(calls).toEqual(['fsync 1', 'fsync 2']);
    expect(bio.runNext('aofFsync')).toBe(false);
  });

  it('runAll empties every queue, close-with-fsync doing fsync then close', () => {
    const { bio, calls } = recordingBio();
    bio.submitFsync(1);
    bio.submitClose(2, true);
    bio.submitClose(3, false);
    expect(bio.runAll()).toBe(3);
    expect(calls).toEqual(['fsync 2', 'close 2', 'close 3', 'fsync 1']);
  });

  it('drain(type) runs only that type', async () => {
    const { bio, calls } = recordingBio();
    bio.submitFsync(1);
    bio.submitClose(2, false);
    await bio.drain('closeFile');
    expect(calls).toEqual(['close 2']);
    expect(bio.pending('aofFsync')).toBe(1);
  });

  it('drain also runs jobs that observers submit while it runs', async () => {
    const { bio, calls } = recordingBio();
    bio.onEvent = (e) => {
      if (e.type === 'aofFsync' && e.phase === 'finish') bio.submitClose(e.fd, false);
    };
    bio.submitFsync(4);
    await bio.drain();
    expect(calls).toEqual(['fsync 4', 'close 4']);
    expect(bio.pending('closeFile')).toBe(0);
  });

  it('stamps events with the injected clock', () => {
    const { bio, events, clockMs } = recordingBio();
    bio.submitFsync(1);
    clockMs.now = 1500;
    bio.startNext('aofFsync');
    clockMs.now = 2600;
    bio.finishRunning('aofFsync');
    expect(events.map((e) => [e.phase, e.atMs, e.pending])).toEqual([
      ['submit', 1000, 1],
      ['start', 1500, 1],
      ['finish', 2600, 0],
    ]);
  });

  it('lets an op bug propagate, after retiring the job', () => {
    const bio = new InlineBio({
      fsync: () => {
        throw new TypeError('bug in the op');
      },
      close: () => {},
    });
    bio.submitFsync(1);
    expect(() => bio.runNext('aofFsync')).toThrow(TypeError);
    expect(bio.pending('aofFsync')).toBe(0);
    expect(bio.isRunning('aofFsync')).toBe(false);
    expect(bio.fsyncStatus()).toEqual({ ok: true });
  });

  it('accepts errors that carry only a code', async () => {
    const bio = new InlineBio({
      fsync: () => {
        throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
      },
      close: () => {},
    });
    bio.submitFsync(1);
    await bio.drain();
    expect(bio.fsyncStatus()).toEqual({ ok: false, errno: 28, code: 'ENOSPC' });
  });
});
