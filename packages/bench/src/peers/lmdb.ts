// lmdb-js 3.x: a memory-mapped B+tree. Puts are batched per event turn into one transaction on a
// writer thread. Durability modes (guide §5):
//   overlappingSync:false   the put promise resolves after the commit was synced: durable
//   default (overlapping)   the put resolves at commit, the fsync follows (db.flushed):
//                           bounded loss
//   noSync:true             never synced: OS-buffered
import { kvOpMaker, type Workload } from '../workload.ts';
import type { Durability, WindowCounters, WriteSystem } from '../systems/types.ts';
import { importOptional, type Loaded } from './optional.ts';

interface LmdbDatabase {
  put(key: string, value: string): Promise<boolean>;
  remove(key: string): Promise<boolean>;
  close(): Promise<void>;
  flushed: Promise<boolean>;
}
type LmdbOpen = (options: Record<string, unknown>) => LmdbDatabase;

export type LmdbMode = 'overlappingSync:false' | 'overlappingSync' | 'noSync';
export const LMDB_MODES: readonly LmdbMode[] = [
  'overlappingSync:false',
  'overlappingSync',
  'noSync',
];

const DURABILITY: Record<LmdbMode, Durability> = {
  'overlappingSync:false': 'durable',
  overlappingSync: 'bounded-loss',
  noSync: 'os-buffered',
};

export async function loadLmdb(): Promise<Loaded<LmdbOpen>> {
  const loaded = await importOptional('lmdb');
  if (!loaded.ok) return loaded;
  const open = loaded.module.open;
  if (typeof open !== 'function') return { ok: false, reason: "lmdb: no 'open' export" };
  return { ok: true, module: open as LmdbOpen };
}

export class LmdbSystem implements WriteSystem {
  readonly system = 'lmdb';
  readonly mode: LmdbMode;
  readonly durability: Durability;
  private readonly db: LmdbDatabase;

  constructor(open: LmdbOpen, mode: LmdbMode, path: string) {
    this.mode = mode;
    this.durability = DURABILITY[mode];
    this.db = open({
      path,
      encoding: 'string',
      ...(mode === 'overlappingSync:false' ? { overlappingSync: false } : {}),
      ...(mode === 'noSync' ? { noSync: true } : {}),
    });
  }

  makeOp(workload: Workload, seed: number): () => Promise<unknown> {
    const db = this.db;
    return kvOpMaker(workload, seed, (w) => (w.del ? db.remove(w.key) : db.put(w.key, w.value)));
  }

  async beginWindow(): Promise<void> {
    await this.db.flushed;
  }

  async endWindow(): Promise<WindowCounters> {
    return { fsyncs: null, bytesWritten: null, latencyEvents: [] };
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
