// What the write scenario needs from a system under test (aofkv or an embedded peer).

import type { Workload } from '../workload.ts';

/**
 * Durability classes, to compare systems "at equal durability":
 *   durable       acknowledged only after fsync (aofkv always, lmdb overlappingSync:false,
 *                 classic-level sync:true, SQLite WAL synchronous=FULL)
 *   bounded-loss  acknowledged before fsync, fsynced by the system shortly after (aofkv everysec,
 *                 lmdb default overlappingSync (put resolves at commit, the flush follows),
 *                 SQLite WAL synchronous=NORMAL: the WAL is fsynced at checkpoints)
 *   os-buffered   written to the OS, never fsynced by the system (aofkv appendfsync no,
 *                 lmdb noSync, classic-level sync:false, SQLite synchronous=OFF)
 *   memory        nothing written (aofkv appendonly no)
 */
export type Durability = 'durable' | 'bounded-loss' | 'os-buffered' | 'memory';
export const DURABILITY_ORDER: readonly Durability[] = [
  'durable',
  'bounded-loss',
  'os-buffered',
  'memory',
];

export interface LatencyEventRow {
  event: string;
  latestMs: number;
  maxMs: number;
}

/** Counters read at the end of a measurement window (since beginWindow()). */
export interface WindowCounters {
  /** fdatasync calls, main thread and background; null when the system cannot tell. */
  fsyncs: number | null;
  /** Bytes the system appended to its log (aofkv: AOF bytes); null when unknown. */
  bytesWritten: number | null;
  /** LATENCY LATEST rows (aofkv, Redis); empty for peers. */
  latencyEvents: LatencyEventRow[];
}

export interface WriteSystem {
  /** 'aofkv', 'lmdb', 'classic-level', 'better-sqlite3'. */
  readonly system: string;
  /** The durability knob as the system spells it, e.g. 'everysec', 'sync:true', 'WAL FULL'. */
  readonly mode: string;
  readonly durability: Durability;
  /** An operation function for the workload; each call performs one write and acknowledges it. */
  makeOp(workload: Workload, seed: number): () => Promise<unknown>;
  /**
   * Optional: an operation that performs `batch` SETs (the 'set' workload's sequence) with one
   * acknowledgment, as a client pipeline does (aofkv: db.pipeline()).
   */
  makePipelinedSetOp?(seed: number, batch: number): () => Promise<unknown>;
  beginWindow(): Promise<void>;
  endWindow(): Promise<WindowCounters>;
  close(): Promise<void>;
}

/** A system that could not be loaded (missing optional dependency, failed native build). */
export interface Unavailable {
  system: string;
  reason: string;
}
