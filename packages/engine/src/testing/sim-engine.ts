// openSimEngine: an engine on the simulated world — SimFileSystem, SimClock, InlineBio, and a
// cron driven by hand — so tests, the crash simulator and study mode control every write, every
// fsync and every second. Nothing runs on a timer: move the clock, call `tick()` (Redis serverCron
// followed by beforeSleep), drive bio jobs with `bio.runNext('aofFsync')`.

import { InlineBio } from '@aofkv/bio-workers';
import { openEngine, type Engine, type EngineOptions } from '../engine.ts';
import { SimClock } from './sim-clock.ts';
import { SimFileSystem, type SimFileSystemOptions } from './sim-file-system.ts';
import { ManualRewriteScheduler } from '../aof/rewrite/aof-rewrite.ts';
import type { AofInspection } from '../aof/aof-persistence.ts';

export interface SimEngine {
  engine: Engine;
  fs: SimFileSystem;
  clock: SimClock;
  bio: InlineBio;
  /** Absolute path of the AOF directory. */
  aofDir: string;
  /** One serverCron tick at the current simulated time. */
  tick(): void;
  /** Path of the INCR file currently being appended to. */
  currentIncrPath(): string;
  /** Rewrite slices run only when released: `rewrite.step()` runs one, `finishRewrite()` all. */
  rewrite: ManualRewriteScheduler;
  /** Run the current rewrite (if any) to its end, slice by slice. */
  finishRewrite(): Promise<void>;
  /** The AOF's state as the inspection API shows it (inspectAof). */
  inspect(): AofInspection;
}

export interface SimEngineOptions extends EngineOptions {
  fsOptions?: SimFileSystemOptions;
  clock?: SimClock;
  fs?: SimFileSystem;
}

export async function openSimEngine(options: SimEngineOptions = {}): Promise<SimEngine> {
  const clock = options.clock ?? new SimClock();
  const fs = options.fs ?? new SimFileSystem({ clock, ...options.fsOptions });
  const bio = new InlineBio(
    { fsync: (fd) => fs.fdatasync(fd), close: (fd) => fs.close(fd) },
    { clock },
  );
  const dir = options.dir ?? '/data';
  const { fsOptions: _ignored, ...engineOptions } = options;
  const rewrite = new ManualRewriteScheduler();
  const engine = await openEngine({
    ...engineOptions,
    dir,
    clock,
    fs,
    bio,
    autoCron: false,
    rewriteScheduler: rewrite,
  });
  const aofDir = `${dir}/${engine.config.appenddirname}`;
  return {
    engine,
    fs,
    clock,
    bio,
    aofDir,
    tick: () => engine.cron(),
    inspect: () => inspectAof(engine),
    rewrite,
    finishRewrite: async () => {
      while (inspectAof(engine).rewrite.inProgress) {
        rewrite.step();
        // Let the released slice (and the sink's promises) run before releasing the next one.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    },
    currentIncrPath: () => {
      const list = inspectAof(engine).manifest.incrList;
      return `${aofDir}/${list[list.length - 1]!.fileName}`;
    },
  };
}

/**
 * The inspection API: the AOF's state, manifest, writer and rewrite figures as copies. Tests and
 * tools read the engine through this instead of reaching into its parts.
 */
export function inspectAof(engine: Engine): AofInspection {
  if (engine.aof === null) throw new Error('this engine has no AOF');
  return engine.aof.inspect();
}

/** Resolves when no AOF rewrite runs any more (finished, failed or killed). */
export function waitForRewrite(engine: Engine): Promise<void> {
  if (engine.aof === null) throw new Error('this engine has no AOF');
  return engine.aof.waitForRewrite();
}
