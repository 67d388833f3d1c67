// better-sqlite3 12.x: SQLite in WAL mode with synchronous FULL (the WAL is fsynced at every
// commit: durable), NORMAL (fsynced at checkpoints: bounded loss) or OFF (never: OS-buffered).
// Its API is synchronous on the calling thread, so group commit is ours to do: one transaction per
// event turn (TurnBatcher).
import type { KvWrite } from '../workload.ts';
import type { Durability, WriteSystem } from '../systems/types.ts';
import { importOptional, type Loaded } from './optional.ts';
import { TurnBatchedKvSystem } from './turn-batcher.ts';

interface Statement {
  run(...params: string[]): unknown;
}
interface SqliteDb {
  pragma(source: string): unknown;
  exec(source: string): unknown;
  prepare(source: string): Statement;
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
  close(): unknown;
}
type SqliteCtor = new (path: string) => SqliteDb;

export type SqliteMode = 'WAL FULL' | 'WAL NORMAL' | 'WAL OFF';
export const SQLITE_MODES: readonly SqliteMode[] = ['WAL FULL', 'WAL NORMAL', 'WAL OFF'];

const DURABILITY: Record<SqliteMode, Durability> = {
  'WAL FULL': 'durable',
  'WAL NORMAL': 'bounded-loss',
  'WAL OFF': 'os-buffered',
};

export async function loadSqlite(): Promise<Loaded<SqliteCtor>> {
  const loaded = await importOptional('better-sqlite3');
  if (!loaded.ok) return loaded;
  const ctor = loaded.module.default;
  if (typeof ctor !== 'function') return { ok: false, reason: 'better-sqlite3: no default export' };
  try {
    // The native addon loads lazily at the first construction; a failed build shows up here.
    new (ctor as SqliteCtor)(':memory:').close();
  } catch (err) {
    return {
      ok: false,
      reason: `better-sqlite3: ${err instanceof Error ? err.message.split('\n')[0]! : String(err)}`,
    };
  }
  return { ok: true, module: ctor as SqliteCtor };
}

export class SqliteSystem extends TurnBatchedKvSystem implements WriteSystem {
  readonly system = 'better-sqlite3';
  readonly mode: SqliteMode;
  readonly durability: Durability;
  private readonly db: SqliteDb;

  constructor(ctor: SqliteCtor, mode: SqliteMode, path: string) {
    const db = new ctor(path);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${mode.split(' ')[1]!}`);
    db.exec('CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID');
    const put = db.prepare(
      'INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v',
    );
    const del = db.prepare('DELETE FROM kv WHERE k = ?');
    const commit = db.transaction((items: KvWrite[]) => {
      for (const w of items) {
        if (w.del) del.run(w.key);
        else put.run(w.key, w.value);
      }
    });
    super((items) => commit(items));
    this.mode = mode;
    this.durability = DURABILITY[mode];
    this.db = db;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
