// One simulated machine for the crash simulator: openSimEngine's world (engine on SimFileSystem +
// SimClock + InlineBio, cron driven by hand), with a choice of background-fsync semantics.
//
// InlineBio performs a job's fdatasync when the job FINISHES, so everything written while the job
// was "running" becomes durable too: kinder than a real disk. With `exactFsync` the machine uses
// SimFileSystem's two-phase fdatasync instead: InlineBio's 'start' event calls
// fs.startFdatasync(fd), which captures the writes issued so far, and the job's fsync op completes
// exactly that capture, so writes issued while the fsync runs stay un-synced and a crash may lose
// them (SimFileSystem DESIGN, TIME). The simulator picks one per seed; its durability floor only
// counts the offset recorded at submission, a lower bound under both.

import { InlineBio, type BioEvent } from '@aofkv/bio-workers';
import { openEngine, type Engine, type EngineOptions } from '@aofkv/engine';
import type { SimClock } from '../../src/testing/sim-clock.ts';
import type { SimFdatasync, SimFileSystem } from '../../src/testing/sim-file-system.ts';

export interface SimMachine {
  engine: Engine;
  fs: SimFileSystem;
  bio: InlineBio;
  /** One serverCron tick at the current simulated time. */
  tick(): void;
  /** Path of the INCR file currently being appended to. */
  currentIncrPath(): string;
  /** Observer of this machine's bio events (set by the simulator). */
  onBioEvent: ((event: BioEvent) => void) | null;
}

export interface SimMachineOptions extends EngineOptions {
  fs: SimFileSystem;
  clock: SimClock;
  exactFsync: boolean;
}

const DATA_DIR = '/data';
export const AOF_DIR = `${DATA_DIR}/appendonlydir`;
export const MANIFEST_PATH = `${AOF_DIR}/appendonly.aof.manifest`;

export async function openSimMachine(options: SimMachineOptions): Promise<SimMachine> {
  const { fs, clock, exactFsync, ...engineOptions } = options;
  /** The aofFsync job running now (one bio thread per job type, so at most one). */
  let running: SimFdatasync | null = null;
  const fsync = (fd: number): void => {
    if (!exactFsync) return fs.fdatasync(fd);
    const started = running;
    running = null;
    if (started === null || started.fd !== fd) throw new Error(`no fdatasync was started for fd ${fd}`);
    started.complete();
  };
  const bio = new InlineBio({ fsync, close: (fd) => fs.close(fd) }, { clock });
  const machine = { onBioEvent: null } as SimMachine;
  bio.onEvent = (event) => {
    if (exactFsync && event.type === 'aofFsync' && event.phase === 'start') running = fs.startFdatasync(event.fd);
    machine.onBioEvent?.(event);
  };
  const engine = await openEngine({ ...engineOptions, dir: DATA_DIR, clock, fs, bio, autoCron: false });
  const aofDir = `${DATA_DIR}/${engine.config.appenddirname}`;
  return Object.assign(machine, {
    engine,
    fs,
    bio,
    tick: () => engine.cron(),
    currentIncrPath: () => {
      const list = engine.aof!.manifest.incrList;
      return `${aofDir}/${list[list.length - 1]!.fileName}`;
    },
  });
}
