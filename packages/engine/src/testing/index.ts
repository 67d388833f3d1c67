// The simulation kit, exported as "@aofkv/engine/testing": the simulated disk and clock and the
// seeded PRNG that drives them. Production code never imports from here.

export { SimFileSystem, SimFaults } from './sim-file-system.ts';
export type {
  SimCountdownOptions,
  SimCrashOptions,
  SimCrashReport,
  SimFaultDecision,
  SimFaultHandle,
  SimFaultRule,
  SimFdatasync,
  SimFileInfo,
  SimFileSystemOptions,
  SimFsCall,
  SimFsOpEvent,
} from './sim-file-system.ts';
export { SimClock, SIM_CLOCK_EPOCH_MS } from './sim-clock.ts';
export { createPrng } from './prng.ts';
export type { Prng } from './prng.ts';
export { inspectAof, openSimEngine, waitForRewrite } from './sim-engine.ts';
export type { AofInspection, AofStateKind } from '../aof/aof-persistence.ts';
export type { AofWriterStats } from '../aof/aof-writer.ts';
export type { RewriteStats } from '../aof/rewrite/aof-rewrite.ts';
export type { LoadScheduler } from '../aof/aof-loader.ts';
export type { SimEngine, SimEngineOptions } from './sim-engine.ts';
// Encoders for tools that build data directories (the bench, interop tests).
export { AofBuffer, encodeCommand } from '../aof/aof-buffer.ts';
export { writeRdbSnapshot } from '../rdb/rdb-writer.ts';
export type { RewriteScheduler } from '../aof/rewrite/aof-rewrite.ts';
