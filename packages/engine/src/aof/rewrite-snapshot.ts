// DESIGN: a point-in-time view of the whole keyspace without fork(): key-level copy-on-write.
//
// Redis forks and lets the kernel freeze the dataset; the child writes the new base while the
// parent keeps serving. Node cannot fork, so the snapshot freezes keys one at a time instead:
//
//   * At start it records, per database, the key table (the dict Map object) and its expires Map.
//     A walker visits each table with a Map iterator, in slices, turning entries into plain data.
//   * Before anything changes a key the walker has not visited yet (a write command on that key,
//     a deletion, a TTL change, a lazy or active expiry, MOVE/COPY into the table), the hook
//     `beforeChange` saves the key's old state — its value as plain data and its TTL, or "absent"
//     when the key did not exist at the start. When the walker later reaches the key it emits the
//     saved state; keys deleted before the walker reached them are emitted at the end of their
//     table; keys that did not exist at the start are skipped.
//   * FLUSHDB/FLUSHALL do not clear a table the snapshot still needs: the Db gets fresh Maps and
//     the old ones stay with the snapshot, frozen (O(1), like the pages a fork would keep).
//     SWAPDB swaps table objects between Db instances; tables are tracked by identity, so the
//     walker still writes each one under the db index it had at the start.
//   * Keys already visited need nothing: the snapshot has them. Saved states are dropped as soon
//     as they are emitted, so extra memory = saved states of keys changed ahead of the walker +
//     the visited-key set: the analogue of Redis's copy-on-write size, reported as
//     aof_last_cow_size.
//
// Invariant (tested with concurrent random workloads): the entries emitted are exactly the
// keyspace as it was when the snapshot started, whatever commands ran meanwhile. Entries are
// serialised in the same turn they are read, so no live object is held across turns.

import type { Bin } from '../bytes.ts';
import type { Db, ExpireMs } from '../keyspace/db.ts';
import type { RedisValue } from '../keyspace/values.ts';
import { toPlainEntry, type PlainEntry } from './plain-entry.ts';

/** The hooks Db and the dispatcher call while a snapshot is active. */
export interface CopyOnWrite {
  /** Save `key`'s current state before it changes (idempotent; cheap once visited or saved). */
  beforeChange(db: Db, key: Bin): void;
  /** True when `db`'s tables belong to the snapshot: the Db must replace them instead of clearing. */
  ownsTables(db: Db): boolean;
}

const ABSENT = 0;
type Saved = PlainEntry | typeof ABSENT;

interface TableState {
  /** Db index at snapshot time. */
  readonly dbId: number;
  readonly dict: Map<Bin, RedisValue>;
  readonly expires: Map<Bin, ExpireMs>;
  readonly iterator: Iterator<[Bin, RedisValue]>;
  readonly visited: Set<Bin>;
  readonly saved: Map<Bin, Saved>;
  iterationDone: boolean;
}

/** Rough bytes of a plain entry, for aof_last_cow_size. */
function entryBytes(e: PlainEntry): number {
  const data = e[3];
  if (typeof data === 'string') return e[1].length + data.length + 32;
  let n = e[1].length + 32;
  for (const item of data) n += typeof item === 'string' ? item.length + 16 : 8;
  return n;
}

export class RewriteSnapshot implements CopyOnWrite {
  private readonly tables: TableState[] = [];
  private readonly byDict = new Map<Map<Bin, RedisValue>, TableState>();
  private tableIndex = 0;
  /** Keys the snapshot will contain at most: the key count at the start (progress). */
  readonly totalKeys: number;
  emittedKeys = 0;
  /** Bytes of saved states created so far (peak-ish; the cow-size analogue). */
  savedBytes = 0;
  savedKeys = 0;

  constructor(dbs: readonly Db[]) {
    let total = 0;
    for (const db of dbs) {
      if (db.dict.size === 0) continue;
      total += db.dict.size;
      const t: TableState = {
        dbId: db.id,
        dict: db.dict,
        expires: db.expires,
        iterator: db.dict.entries(),
        visited: new Set(),
        saved: new Map(),
        iterationDone: false,
      };
      this.tables.push(t);
      this.byDict.set(db.dict, t);
    }
    this.totalKeys = total;
  }

  get done(): boolean {
    return this.tableIndex >= this.tables.length;
  }

  beforeChange(db: Db, key: Bin): void {
    const t = this.byDict.get(db.dict);
    if (t === undefined || t.iterationDone || t.visited.has(key) || t.saved.has(key)) return;
    const value = t.dict.get(key);
    if (value === undefined) {
      t.saved.set(key, ABSENT);
      return;
    }
    const entry = toPlainEntry(t.dbId, key, value, t.expires.get(key) ?? -1);
    t.saved.set(key, entry);
    this.savedKeys++;
    this.savedBytes += entryBytes(entry);
  }

  ownsTables(db: Db): boolean {
    const t = this.byDict.get(db.dict);
    return t !== undefined && !t.iterationDone;
  }

  /**
   * Emit up to `maxEntries` entries (fewer when a table ends or `deadline()` says stop).
   * Returns an empty array only when the snapshot is complete.
   */
  next(maxEntries: number, deadline: () => boolean = () => false): PlainEntry[] {
    const out: PlainEntry[] = [];
    while (out.length < maxEntries && this.tableIndex < this.tables.length) {
      const t = this.tables[this.tableIndex]!;
      if (!t.iterationDone) this.walk(t, out, maxEntries);
      if (t.iterationDone) {
        this.emitDeletedAhead(t, out);
        this.release(t);
        this.tableIndex++;
      }
      if (out.length > 0 && deadline()) break;
    }
    this.emittedKeys += out.length;
    return out;
  }

  private walk(t: TableState, out: PlainEntry[], maxEntries: number): void {
    while (out.length < maxEntries) {
      const step = t.iterator.next();
      if (step.done === true) {
        t.iterationDone = true;
        return;
      }
      const [key, live] = step.value;
      // A key deleted and re-added after its visit shows up again in the iteration: skip it.
      if (t.visited.has(key)) continue;
      t.visited.add(key);
      const saved = t.saved.get(key);
      if (saved === undefined) {
        out.push(toPlainEntry(t.dbId, key, live, t.expires.get(key) ?? -1));
      } else {
        t.saved.delete(key);
        if (saved !== ABSENT) out.push(saved);
      }
    }
  }

  /** Keys that existed at the start but were deleted before the walker reached them. */
  private emitDeletedAhead(t: TableState, out: PlainEntry[]): void {
    for (const saved of t.saved.values()) if (saved !== ABSENT) out.push(saved);
    t.saved.clear();
  }

  private release(t: TableState): void {
    t.visited.clear();
    this.byDict.delete(t.dict);
  }
}

/**
 * Keys a write command may change in place, for the copy-on-write hook: the command table's key
 * positions, plus the numkeys forms whose keys the table cannot describe (Redis's movablekeys).
 */
export function writeKeysOf(
  name: string,
  firstKey: number,
  lastKey: number,
  keyStep: number,
  argv: readonly Bin[],
): Bin[] {
  const keys: Bin[] = [];
  if (name === 'lmpop' || name === 'zmpop') {
    const n = Number(argv[1]);
    for (let i = 2; i < 2 + n && i < argv.length; i++) keys.push(argv[i]!);
    return keys;
  }
  if (name === 'zunionstore' || name === 'zinterstore' || name === 'zdiffstore' || name === 'zrangestore') {
    if (argv.length > 1) keys.push(argv[1]!);
    return keys;
  }
  if (firstKey <= 0) return keys;
  const last = lastKey < 0 ? argv.length + lastKey : lastKey;
  for (let i = firstKey; i <= last && i < argv.length; i += Math.max(1, keyStep)) keys.push(argv[i]!);
  return keys;
}
