// DESIGN: a point-in-time view of the whole keyspace without fork(): key-level copy-on-write.
//
// Redis forks and lets the kernel freeze the dataset; the child writes the new base while the
// parent keeps serving. Node cannot fork, so the snapshot freezes keys one at a time instead:
//
//   * At start it records, per database, the key table (the dict Map object) and its expires Map.
//     A walker visits each table with a Map iterator, in slices, encoding each key it reaches
//     (snapshot-codec.ts) unless the key is already in the table's `written` set.
//   * Before anything changes a key the walker has not written yet (a write command on that key,
//     a deletion, a TTL change, a lazy or active expiry, MOVE/COPY into the table), the hook
//     `beforeChange` encodes the key's state right then, which is still its state at the start,
//     and adds it to `written`. A key that does not exist at that moment did not exist at the
//     start either (its deletion would have gone through the hook): it is only added to
//     `written`, so the walker skips it when the Map iterator reaches it later. The base's key
//     order does not matter, so a key written early by the hook needs no place in the walk.
//   * FLUSHDB/FLUSHALL do not clear a table the snapshot still needs: the Db gets fresh Maps and
//     the old ones stay with the snapshot, frozen (O(1), like the pages a fork would keep).
//     SWAPDB swaps table objects between Db instances; tables are tracked by identity, so the
//     walker still writes each one under the db index it had at the start.
//   * Keys already written need nothing: the snapshot has them.
//
// Nothing is held per key but a slot in `written` (InsertOnlyBinSet, sized once from the key
// count). INFO's aof_last_cow_size (Redis: the memory its fork's copy-on-write duplicated) reports
// those sets plus the bytes the hook encoded because a write came ahead of the walk (`cowBytes`).
// Transport buffers are not counted: at most one slice's encoding plus MAX_IN_FLIGHT chunks
// queued for the writer thread (thread-snapshot-sink.ts).
//
// Invariant (tested with concurrent random workloads): the entries encoded are exactly the
// keyspace as it was when the snapshot started, whatever commands ran meanwhile.

import type { Bin } from '../../bytes.ts';
import type { CopyOnWrite, Db, ExpireMs } from '../../keyspace/db.ts';
import type { RedisValue } from '../../keyspace/values.ts';
import { InsertOnlyBinSet } from './insert-only-bin-set.ts';
import { SnapshotEncoder } from './snapshot-codec.ts';

const DEADLINE_CHECK_KEYS = 32;
/** What a finished table's `written` becomes: its keys are no longer needed. */
const RELEASED = new InsertOnlyBinSet(0);

interface TableState {
  /** Db index at snapshot time. */
  readonly dbId: number;
  readonly dict: Map<Bin, RedisValue>;
  readonly expires: Map<Bin, ExpireMs>;
  readonly iterator: Iterator<[Bin, RedisValue]>;
  /** Keys encoded (by the walker or the hook) or known to postdate the start; dropped when done. */
  written: InsertOnlyBinSet;
  iterationDone: boolean;
}

export class RewriteSnapshot implements CopyOnWrite {
  private readonly tables: TableState[] = [];
  private readonly byDict = new Map<Map<Bin, RedisValue>, TableState>();
  private readonly encoder = new SnapshotEncoder();
  private tableIndex = 0;
  /** Keys the snapshot will contain at most: the key count at the start (progress). */
  readonly totalKeys: number;
  emittedKeys = 0;
  /** Keys encoded by the copy-on-write hook, and their encoded bytes. */
  savedKeys = 0;
  cowBytes = 0;
  /** Bytes of the written-keys sets (counted as each table's walk ends and its set is dropped). */
  private indexBytes = 0;

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
        written: new InsertOnlyBinSet(db.dict.size),
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
    if (t === undefined || t.iterationDone || !t.written.add(key)) return;
    const value = t.dict.get(key);
    if (value === undefined) return; // created after the start: the walker must skip it
    this.cowBytes += this.encoder.entry(t.dbId, key, value, t.expires.get(key) ?? -1);
    this.savedKeys++;
    this.emittedKeys++;
  }

  /** aof_last_cow_size: the written-keys sets plus what the hook encoded (see DESIGN). */
  get cowSizeBytes(): number {
    let n = this.cowBytes + this.indexBytes;
    for (let i = this.tableIndex; i < this.tables.length; i++) n += this.tables[i]!.written.bytes;
    return n;
  }

  ownsTables(db: Db): boolean {
    const t = this.byDict.get(db.dict);
    return t !== undefined && !t.iterationDone;
  }

  /**
   * Walk up to `maxEntries` keys (fewer when `deadline()` says stop). Returns how many were
   * encoded; `done` tells when the snapshot is complete.
   */
  walk(maxEntries: number, deadline: () => boolean = () => false): number {
    let n = 0;
    while (n < maxEntries && this.tableIndex < this.tables.length) {
      const t = this.tables[this.tableIndex]!;
      n += this.walkTable(t, maxEntries - n, deadline);
      if (t.iterationDone) {
        this.byDict.delete(t.dict);
        this.indexBytes += t.written.bytes;
        t.written = RELEASED;
        this.tableIndex++;
      }
      if (n > 0 && deadline()) break;
    }
    this.emittedKeys += n;
    return n;
  }

  /** Encoded bytes so far (walker and hook), in a transferable buffer; null when none. */
  takeEncoded(): Uint8Array<ArrayBuffer> | null {
    return this.encoder.take();
  }

  private walkTable(t: TableState, maxEntries: number, deadline: () => boolean): number {
    let n = 0;
    while (n < maxEntries) {
      // Collections make keys uneven: look at the clock every DEADLINE_CHECK_KEYS keys.
      if (n % DEADLINE_CHECK_KEYS === DEADLINE_CHECK_KEYS - 1 && deadline()) break;
      const step = t.iterator.next();
      if (step.done === true) {
        t.iterationDone = true;
        break;
      }
      const [key, live] = step.value;
      // Already written by the hook, or created after the start (or deleted and re-added after
      // its visit, which moves it to the end of the iteration).
      if (!t.written.add(key)) continue;
      this.encoder.entry(t.dbId, key, live, t.expires.get(key) ?? -1);
      n++;
    }
    return n;
  }
}
