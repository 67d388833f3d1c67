// classic-level 3.x: LevelDB (an LSM tree with a write-ahead log). `sync:true` fsyncs the log
// before the batch resolves (durable); `sync:false` leaves it to the OS. One batch per event turn
// (TurnBatcher) gives it the same group commit aofkv gets.
import { kvOpMaker, type KvWrite, type Workload } from '../workload.ts';
import type { Durability, WindowCounters, WriteSystem } from '../systems/types.ts';
import { importOptional, type Loaded } from './optional.ts';
import { TurnBatcher } from './turn-batcher.ts';

interface BatchOp {
  type: 'put' | 'del';
  key: string;
  value?: string;
}
interface ClassicLevelDb {
  open(): Promise<void>;
  batch(ops: BatchOp[], options: { sync: boolean }): Promise<void>;
  close(): Promise<void>;
}
type ClassicLevelCtor = new (path: string, options: Record<string, unknown>) => ClassicLevelDb;

export type ClassicMode = 'sync:true' | 'sync:false';
export const CLASSIC_MODES: readonly ClassicMode[] = ['sync:true', 'sync:false'];

export async function loadClassicLevel(): Promise<Loaded<ClassicLevelCtor>> {
  const loaded = await importOptional('classic-level');
  if (!loaded.ok) return loaded;
  const ctor = loaded.module.ClassicLevel;
  if (typeof ctor !== 'function') return { ok: false, reason: "classic-level: no 'ClassicLevel' export" };
  return { ok: true, module: ctor as ClassicLevelCtor };
}

export class ClassicLevelSystem implements WriteSystem {
  readonly system = 'classic-level';
  readonly mode: ClassicMode;
  readonly durability: Durability;
  private readonly db: ClassicLevelDb;
  private readonly batcher: TurnBatcher<KvWrite>;

  private constructor(mode: ClassicMode, db: ClassicLevelDb) {
    this.mode = mode;
    this.durability = mode === 'sync:true' ? 'durable' : 'os-buffered';
    this.db = db;
    const sync = mode === 'sync:true';
    this.batcher = new TurnBatcher<KvWrite>((items) =>
      db.batch(
        items.map((w) => (w.del ? { type: 'del', key: w.key } : { type: 'put', key: w.key, value: w.value })),
        { sync },
      ),
    );
  }

  static async open(ctor: ClassicLevelCtor, mode: ClassicMode, path: string): Promise<ClassicLevelSystem> {
    const db = new ctor(path, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await db.open();
    return new ClassicLevelSystem(mode, db);
  }

  makeOp(workload: Workload, seed: number): () => Promise<unknown> {
    return kvOpMaker(workload, seed, (w) => this.batcher.submit(w));
  }

  async beginWindow(): Promise<void> {}

  async endWindow(): Promise<WindowCounters> {
    return { fsyncs: null, bytesWritten: null, latencyEvents: [] };
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
