// aofkv as a write system: one engine per mode on the real disk, with the real piscina bio, a
// counting file system, the latency monitor at 1 ms and automatic rewrites off (a rewrite starting
// in the middle of a cell would measure the rewrite, not the policy).

import {
  openEngine,
  type DbHandle,
  type Engine,
  type EngineTraceEvent,
  type ReplyValue,
} from '@aofkv/engine';
import { createPiscinaBio, type PiscinaBio } from '@aofkv/bio-workers';
import { CountingFileSystem } from '../counting-fs.ts';
import { keyNames, newOp, opGenerator, type Workload } from '../workload.ts';
import type { Durability, LatencyEventRow, WindowCounters, WriteSystem } from './types.ts';

export type AofkvMode = 'always' | 'everysec' | 'no' | 'off';
export const AOFKV_MODES: readonly AofkvMode[] = ['always', 'everysec', 'no', 'off'];

const DURABILITY: Record<AofkvMode, Durability> = {
  always: 'durable',
  everysec: 'bounded-loss',
  no: 'os-buffered',
  off: 'memory',
};

export class AofkvSystem implements WriteSystem {
  readonly system = 'aofkv';
  readonly mode: string;
  readonly durability: Durability;
  readonly engine: Engine;
  readonly fs: CountingFileSystem;
  readonly bio: PiscinaBio;
  private readonly db: DbHandle;
  private bioFsyncs = 0;
  private fsyncs0 = 0;
  private bytes0 = 0;
  private bioFsyncs0 = 0;

  private constructor(mode: AofkvMode, engine: Engine, fs: CountingFileSystem, bio: PiscinaBio) {
    this.mode = mode === 'off' ? 'appendonly no' : mode;
    this.durability = DURABILITY[mode];
    this.engine = engine;
    this.fs = fs;
    this.bio = bio;
    this.db = engine.db(0);
    engine.on('trace', (e: EngineTraceEvent) => {
      if (e.source === 'bio' && e.event.type === 'aofFsync' && e.event.phase === 'finish')
        this.bioFsyncs++;
    });
  }

  static async open(mode: AofkvMode, dir: string): Promise<AofkvSystem> {
    const fs = new CountingFileSystem();
    const bio = createPiscinaBio();
    const engine = await openEngine({
      dir,
      fs,
      bio,
      appendonly: mode !== 'off',
      appendfsync: mode === 'off' ? 'everysec' : mode,
      latencyMonitorThreshold: 1,
      autoAofRewritePercentage: 0,
    });
    return new AofkvSystem(mode, engine, fs, bio);
  }

  makeOp(workload: Workload, seed: number): () => Promise<unknown> {
    const db = this.db;
    const n = keyNames();
    const next = opGenerator(workload, seed);
    const op = newOp();
    if (workload === 'set') {
      return () => {
        next(op);
        return db.set(n.strings[op.key]!, n.values[op.value]!);
      };
    }
    return (): Promise<ReplyValue> => {
      next(op);
      switch (op.kind) {
        case 'set':
          return db.set(n.strings[op.key]!, n.values[op.value]!);
        case 'hset':
          return db.hset(n.hashes[op.key]!, n.subs[op.sub]!, n.values[op.value]!);
        case 'rpush':
          return db.rpush(n.lists[op.key]!, n.values[op.value]!);
        case 'lpop':
          return db.lpop(n.lists[op.key]!);
        case 'sadd':
          return db.sadd(n.sets[op.key]!, n.subs[op.sub]!);
        case 'zadd':
          return db.zadd(n.zsets[op.key]!, op.score, n.subs[op.sub]!);
      }
    };
  }

  makePipelinedSetOp(seed: number, batch: number): () => Promise<unknown> {
    const db = this.db;
    const n = keyNames();
    const next = opGenerator('set', seed);
    const op = newOp();
    return () => {
      const p = db.pipeline();
      for (let i = 0; i < batch; i++) {
        next(op);
        p.set(n.strings[op.key]!, n.values[op.value]!);
      }
      return p.exec();
    };
  }

  async beginWindow(): Promise<void> {
    await this.db.command('latency', 'reset');
    this.fsyncs0 = this.fs.fdatasyncCalls;
    this.bytes0 = this.fs.bytesWritten;
    this.bioFsyncs0 = this.bioFsyncs;
  }

  async endWindow(): Promise<WindowCounters> {
    // Background fsyncs submitted during the window finish a little later; waiting for them makes
    // the count complete (they belong to the window's writes).
    await this.bio.drain('aofFsync');
    const fsyncs = this.fs.fdatasyncCalls - this.fsyncs0 + (this.bioFsyncs - this.bioFsyncs0);
    return {
      fsyncs,
      bytesWritten: this.fs.bytesWritten - this.bytes0,
      latencyEvents: parseLatencyLatest(await this.db.command('latency', 'latest')),
    };
  }

  async close(): Promise<void> {
    await this.engine.close();
  }
}

/** LATENCY LATEST rows: [event, unix time, latest ms, max ms]. */
export function parseLatencyLatest(reply: ReplyValue | unknown): LatencyEventRow[] {
  if (!Array.isArray(reply)) return [];
  const rows: LatencyEventRow[] = [];
  for (const row of reply as unknown[]) {
    if (!Array.isArray(row) || row.length < 4) continue;
    rows.push({ event: String(row[0]), latestMs: Number(row[2]), maxMs: Number(row[3]) });
  }
  return rows;
}
