// classic-level 3.x: LevelDB (an LSM tree with a write-ahead log). `sync:true` fsyncs the log
// before the batch resolves (durable); `sync:false` leaves it to the OS. One batch per event turn
// (TurnBatcher) gives it the same group commit aofkv gets.
import type { Durability, WriteSystem } from '../systems/types.ts';
import { importOptional, type Loaded } from './optional.ts';
import { TurnBatchedKvSystem } from './turn-batcher.ts';

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
  if (typeof ctor !== 'function')
    return { ok: false, reason: "classic-level: no 'ClassicLevel' export" };
  return { ok: true, module: ctor as ClassicLevelCtor };
}

export class ClassicLevelSystem extends TurnBatchedKvSystem implements WriteSystem {
  readonly system = 'classic-level';
  readonly mode: ClassicMode;
  readonly durability: Durability;
  private readonly db: ClassicLevelDb;

  private constructor(mode: ClassicMode, db: ClassicLevelDb) {
    const sync = mode === 'sync:true';
    super((items) =>
      db.batch(
        items.map((w) =>
          w.del ? { type: 'del', key: w.key } : { type: 'put', key: w.key, value: w.value },
        ),
        { sync },
      ),
    );
    this.mode = mode;
    this.durability = sync ? 'durable' : 'os-buffered';
    this.db = db;
  }

  static async open(
    ctor: ClassicLevelCtor,
    mode: ClassicMode,
    path: string,
  ): Promise<ClassicLevelSystem> {
    const db = new ctor(path, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await db.open();
    return new ClassicLevelSystem(mode, db);
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
