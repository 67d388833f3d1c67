// The hook a point-in-time snapshot of the keyspace installs in every Db (the AOF rewrite's
// copy-on-write, aof/rewrite-snapshot.ts): Db calls it before anything changes a key, so the
// snapshot can save the key's state first. Defined here, with the keyspace that calls it, so the
// keyspace does not depend on the rewrite that implements it.

import type { Bin } from '../bytes.ts';
import type { Db } from './db.ts';

export interface CopyOnWrite {
  /** Save `key`'s current state before it changes (idempotent; cheap once written). */
  beforeChange(db: Db, key: Bin): void;
  /** True when `db`'s tables belong to the snapshot: the Db must replace them instead of clearing. */
  ownsTables(db: Db): boolean;
}
