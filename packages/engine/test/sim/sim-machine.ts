// One simulated machine for the crash simulator: openSimEngine's world (engine on SimFileSystem +
// SimClock + InlineBio, cron driven by hand, rewrite walk released slice by slice), with a choice
// of background-fsync semantics.
//
// InlineBio performs a job's fdatasync when the job FINISHES, so everything written while the job
// was "running" becomes durable too: kinder than a real disk. With `exactFsync` the machine uses
// SimFileSystem's two-phase fdatasync instead: InlineBio's 'start' event calls
// fs.startFdatasync(fd), which captures the writes issued so far, and the job's fsync op completes
// exactly that capture, so writes issued while the fsync runs stay un-synced and a crash may lose
// them (SimFileSystem DESIGN, TIME). The simulator picks one per seed; its durability floor only
// counts the offset recorded at submission, a lower bound under both. A closeFile job's fsync (the
// old INCR, closed with fsync when a rewrite switches to a new INCR) is a plain fdatasync at the
// job's finish in both modes: the simulator runs those jobs start-to-finish in one go.
//
// The rewrite: the machine's ManualRewriteScheduler holds the walk between slices; `rewrite.step()`
// releases one slice of at most `sliceEntries` keys and `settle()` lets its promises (the inline
// base writer, the done handler) run. `onIncrSwitch` reports each switch to a new INCR file at the
// moment it happens (the writer's 'incr-switch' trace event), with what it knew about the old file.

import { InlineBio, type BioEvent, type BioJobType } from '@aofkv/bio-workers';
import { openEngine, type Engine, type EngineOptions, type EngineTraceEvent } from '@aofkv/engine';
import { inspectAof } from '@aofkv/engine/testing';
import { ManualRewriteScheduler } from '../../src/aof/rewrite/aof-rewrite.ts';
import type { SimClock } from '../../src/testing/sim-clock.ts';
import type { SimFdatasync, SimFileSystem } from '../../src/testing/sim-file-system.ts';
import { FsError, type FileSystem, type FsOp } from '../../src/io/file-system.ts';
import { InProcessWriter, ThreadSnapshotSink } from '../../src/aof/rewrite/thread-snapshot-sink.ts';
import { RewriteWriterTasks } from '../../src/aof/rewrite/rewrite-writer-tasks.ts';

/** What the writer knew when it left an INCR file for a new one. */
export interface IncrSwitch {
  fromFd: number;
  /** aof_last_incr_size of the old file: where its stream ends. */
  fromSizeBytes: number;
  toFd: number;
  /** Path of the new file; null when the AOF was turned off (no file any more). */
  toPath: string | null;
  /** Bytes still in aof_buf at the switch: they will be written to the NEW file. */
  bufferedBytes: number;
}

export interface SimMachine {
  engine: Engine;
  bio: SimBio;
  /**
   * The process dies (a crash): from now on every file-system call of this engine fails, as a
   * dead process makes none. Its promises may still run (a killed rewrite's tail); they must not
   * touch the disk the next process uses.
   */
  kill(): void;
  fs: SimFileSystem;
  rewrite: ManualRewriteScheduler;
  /** One serverCron tick at the current simulated time. */
  tick(): void;
  /** Path of the INCR file the writer appends to (its fd's path). */
  currentIncrPath(): string;
  /** Lets released rewrite slices and their promises run to their next wait. */
  settle(): Promise<void>;
  /** Observer of this machine's bio events (set by the driver). */
  onBioEvent: ((event: BioEvent) => void) | null;
  /** Observer of INCR switches (set by the driver). */
  onIncrSwitch: ((event: IncrSwitch) => void) | null;
  /**
   * Called at every pause of a load (DEBUG LOADAOF: every `loadPauseEvery` commands); the load
   * goes on when the returned promise settles. Set by the driver to act in the middle of a load.
   */
  onLoadPause: (() => Promise<void> | void) | null;
}

export interface SimMachineOptions extends EngineOptions {
  fs: SimFileSystem;
  clock: SimClock;
  exactFsync: boolean;
  /** Keys per rewrite walk slice (small values interleave the walk with many turns). */
  sliceEntries?: number;
  /** Commands between two pauses of a load (default: the engine's timed pauses). */
  loadPauseEvery?: number;
  /**
   * How the rewrite writes its base: 'inline' (InlineSnapshotSink) or 'writer-tasks' (the writer
   * thread's protocol, ThreadSnapshotSink with the writer's tasks run in-process).
   */
  rewriteSink?: 'inline' | 'writer-tasks';
}

export const DATA_DIR = '/data';
export const AOF_DIR = `${DATA_DIR}/appendonlydir`;
export const MANIFEST_PATH = `${AOF_DIR}/appendonly.aof.manifest`;

export async function openSimMachine(options: SimMachineOptions): Promise<SimMachine> {
  const { fs, clock, exactFsync, sliceEntries, loadPauseEvery, rewriteSink, ...engineOptions } =
    options;
  /** The aofFsync job running now (one bio thread per job type, so at most one). */
  let running: SimFdatasync | null = null;
  /** A closeFile job with fsync that started and is being finished now (fd). */
  let closing: number | null = null;
  const fsync = (fd: number): void => {
    if (!exactFsync || closing === fd) {
      fs.fdatasync(fd);
      return;
    }
    const started = running;
    running = null;
    if (started === null || started.fd !== fd)
      throw new Error(`no fdatasync was started for fd ${fd}`);
    started.complete();
  };
  const bio = new SimBio({ fsync, close: (fd) => fs.close(fd) }, { clock });
  const machine = { onBioEvent: null, onIncrSwitch: null, onLoadPause: null } as SimMachine;
  bio.onEvent = (event) => {
    if (exactFsync && event.type === 'aofFsync' && event.phase === 'start')
      running = fs.startFdatasync(event.fd);
    if (event.type === 'closeFile') closing = event.phase === 'start' ? event.fd : null;
    if (event.type === 'aofFsync' && event.phase === 'finish') bio.releaseDrains();
    machine.onBioEvent?.(event);
  };
  const rewrite = new ManualRewriteScheduler(
    sliceEntries === undefined ? {} : { maxEntriesPerSlice: sliceEntries },
  );
  const process = processView(fs);
  const engine = await openEngine({
    ...engineOptions,
    dir: DATA_DIR,
    clock,
    fs: process.fs,
    bio,
    autoCron: false,
    rewriteScheduler: rewrite,
    ...(rewriteSink === 'writer-tasks'
      ? {
          makeSnapshotSink: () =>
            new ThreadSnapshotSink(new InProcessWriter(new RewriteWriterTasks(process.fs))),
        }
      : {}),
    ...(loadPauseEvery !== undefined
      ? { loadScheduler: { everyCommands: loadPauseEvery, pause: () => machine.onLoadPause?.() } }
      : {}),
  });
  const pathOfFd = (fd: number): string => {
    const open = fs.openFds().find((f) => f.fd === fd);
    if (open === undefined) throw new Error(`fd ${fd} is not open`);
    return open.path;
  };
  // The writer reports every switch of its file as a trace event, before it appends to the new one.
  engine.on('trace', (e: EngineTraceEvent) => {
    if (e.source !== 'aof' || e.event.kind !== 'incr-switch') return;
    const { fromFd, fromSizeBytes, toFd, bufferedBytes } = e.event;
    machine.onIncrSwitch?.({
      fromFd,
      fromSizeBytes,
      toFd,
      toPath: toFd === -1 ? null : pathOfFd(toFd),
      bufferedBytes,
    });
  });
  return Object.assign(machine, {
    engine,
    kill: process.kill,
    fs,
    bio,
    rewrite,
    tick: () => engine.cron(),
    currentIncrPath: () => {
      const path = inspectAof(engine).incrPath;
      if (path === null) throw new Error('the writer has no file');
      return path;
    },
    settle: () => new Promise<void>((resolve) => setImmediate(resolve)),
  });
}

/**
 * The file system as one process sees it: the simulated disk, until kill() — then every call
 * fails with EIO without touching the disk.
 */
function processView(disk: SimFileSystem): { fs: FileSystem; kill: () => void } {
  let alive = true;
  const fs = new Proxy(disk, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (!alive)
          throw new FsError('EIO', String(property) as FsOp, { detail: 'the process is dead' });
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as FileSystem;
  return { fs, kill: () => void (alive = false) };
}

/**
 * InlineBio whose drain('aofFsync') — a rewrite's presync waiting for its fsync — completes when
 * the simulator's bio steps have run the job, not at the call: the presync stays open across
 * steps, as it does while a real fsync thread is busy, so the swarm can act inside it (switch
 * appendfsync, close, kill the rewrite). Every other drain runs the jobs at the call.
 */
export class SimBio extends InlineBio {
  readonly #waiting: (() => void)[] = [];

  override drain(type?: BioJobType): Promise<void> {
    if (type !== 'aofFsync' || this.pending('aofFsync') === 0) return super.drain(type);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Called when an fsync job finished: a drain waiting for none pending completes. */
  releaseDrains(): void {
    if (this.pending('aofFsync') !== 0) return;
    for (const resolve of this.#waiting.splice(0)) resolve();
  }
}
