// DESIGN: one Db = Redis's redisDb: a dict of key → value and a dict of key → absolute expiry (ms).
// Lookups expire keys lazily (Redis expireIfNeeded): a key whose time has passed is deleted and a
// DEL is propagated to the AOF through the hooks, except while loading, when nothing expires
// (Redis keyIsExpired returns 0 while server.loading). Db never reads a clock itself: time comes
// from the hooks (the command's cached time), so simulations can drive it.

import type { Bin } from '../bytes.ts';
import { KeySampler } from './key-sampler.ts';
import type { RedisValue } from './values.ts';

/**
 * An absolute expiry in Unix ms. A number while it is exact; a bigint beyond 2^53 ms (year 287396),
 * so that what Redis clients set (PXAT up to 2^63-1) is reported and persisted exactly. JS compares
 * numbers with bigints correctly, so time checks need no special case.
 */
export type ExpireMs = number | bigint;

/** Normalise: a bigint that fits in a safe integer becomes a number. */
export function toExpireMs(v: number | bigint): ExpireMs {
  if (typeof v === 'number') return v;
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(v)
    : v;
}

/**
 * The hook a point-in-time snapshot of the keyspace installs in every Db (the AOF rewrite's
 * copy-on-write, aof/rewrite/rewrite-snapshot.ts): Db calls it before anything changes a key, so
 * the snapshot can save the key's state first. Declared here, with the Db that calls it, so the
 * keyspace does not depend on the rewrite that implements it.
 */
export interface CopyOnWrite {
  /** Save `key`'s current state before it changes (idempotent; cheap once written). */
  beforeChange(db: Db, key: Bin): void;
  /**
   * True when `db`'s tables belong to the snapshot: the Db must replace them instead of clearing.
   */
  ownsTables(db: Db): boolean;
}

export interface KeyspaceHooks {
  /** The time the current command started (Redis caches mstime for the duration of a call). */
  nowMs(): number;
  isLoading(): boolean;
  /** Redis deleteExpiredKeyAndPropagate, after the key was removed. */
  onKeyExpired(db: Db, key: Bin): void;
  /** Redis signalModifiedKey: invalidates WATCH. */
  signalModifiedKey(db: Db, key: Bin): void;
}

export class Db {
  readonly id: number;
  /** Mutable only so SWAPDB can swap the tables in O(1), as Redis swaps dict pointers. */
  dict = new Map<Bin, RedisValue>();
  expires = new Map<Bin, ExpireMs>();
  private readonly hooks: KeyspaceHooks;
  /** Resumable cursor of the active expire cycle over `expires` (Map iterators survive edits). */
  expireCursor: Iterator<[Bin, ExpireMs]> | null = null;
  /**
   * The running AOF rewrite's copy-on-write hook (null when none runs): every mutation below calls
   * it first, so the rewrite's snapshot keeps the key's state as it was when the rewrite started.
   */
  cow: CopyOnWrite | null = null;
  /** RANDOMKEY's random access to the keys: built on first use, then kept in step (or dropped). */
  private sampler: KeySampler | null = null;

  constructor(id: number, hooks: KeyspaceHooks) {
    this.id = id;
    this.hooks = hooks;
  }

  get size(): number {
    return this.dict.size;
  }

  /** Redis keyIsExpired. */
  isExpired(key: Bin): boolean {
    // Most datasets have few or no TTLs: skip the lookup (a hash of the key) when there are none.
    if (this.expires.size === 0) return false;
    const when = this.expires.get(key);
    if (when === undefined || this.hooks.isLoading()) return false;
    return this.hooks.nowMs() > when;
  }

  /** Redis expireIfNeeded: true if the key was logically expired (and is now deleted). */
  expireIfNeeded(key: Bin): boolean {
    if (!this.isExpired(key)) return false;
    this.deleteExpired(key);
    return true;
  }

  /** Delete a key whose TTL passed and propagate the deletion (lazy or active expiry). */
  deleteExpired(key: Bin): void {
    this.cow?.beforeChange(this, key);
    this.dict.delete(key);
    this.sampler?.delete(key);
    this.expires.delete(key);
    this.hooks.signalModifiedKey(this, key);
    this.hooks.onKeyExpired(this, key);
  }

  lookupRead(key: Bin): RedisValue | undefined {
    if (this.expireIfNeeded(key)) return undefined;
    return this.dict.get(key);
  }

  lookupWrite(key: Bin): RedisValue | undefined {
    this.cow?.beforeChange(this, key);
    return this.lookupRead(key);
  }

  /** Redis dbExists after expireIfNeeded (EXISTS, lookups with LOOKUP_NOTOUCH). */
  exists(key: Bin): boolean {
    return this.lookupRead(key) !== undefined;
  }

  /** Redis setKey/genericSetKey: add or overwrite; drop the TTL unless keepTtl; signal WATCH. */
  setKey(key: Bin, value: RedisValue, keepTtl = false): void {
    this.cow?.beforeChange(this, key);
    this.dict.set(key, value);
    this.sampler?.add(key);
    if (!keepTtl && this.expires.size !== 0) this.expires.delete(key);
    this.hooks.signalModifiedKey(this, key);
  }

  /** Redis dbAdd: the key must not exist. Does not signal (callers signal once per command). */
  add(key: Bin, value: RedisValue): void {
    this.cow?.beforeChange(this, key);
    this.dict.set(key, value);
    this.sampler?.add(key);
  }

  /** A key was stored straight into `dict` (the RDB loader's fast path). */
  keyAdded(key: Bin): void {
    this.sampler?.add(key);
  }

  /** The tables were swapped or replaced (SWAPDB): the sampler no longer describes them. */
  tablesReplaced(): void {
    this.sampler = null;
  }

  /**
   * A uniformly random key (Redis dictGetFairRandomKey), O(1): the sampler is built on the first
   * call (O(n)) and kept up to date by every change after that.
   */
  randomKey(r: number): Bin | undefined {
    this.sampler ??= KeySampler.of(this.dict.keys());
    return this.sampler.pick(r);
  }

  /** Redis dbDelete (signalModifiedKey is left to the caller, as in Redis). */
  delete(key: Bin): boolean {
    this.cow?.beforeChange(this, key);
    if (!this.dict.delete(key)) return false;
    this.sampler?.delete(key);
    this.expires.delete(key);
    return true;
  }

  setExpire(key: Bin, whenMs: number | bigint): void {
    this.cow?.beforeChange(this, key);
    this.expires.set(key, toExpireMs(whenMs));
  }

  /** -1 when the key has no TTL (Redis getExpire). */
  getExpire(key: Bin): ExpireMs {
    return this.expires.get(key) ?? -1;
  }

  removeExpire(key: Bin): boolean {
    this.cow?.beforeChange(this, key);
    return this.expires.delete(key);
  }

  signalModified(key: Bin): void {
    this.hooks.signalModifiedKey(this, key);
  }

  clear(): number {
    const removed = this.dict.size;
    if (this.cow?.ownsTables(this) === true) {
      // The rewrite still reads these tables: hand them over and start fresh ones (O(1)).
      this.dict = new Map();
      this.expires = new Map();
    } else {
      this.dict.clear();
      this.expires.clear();
    }
    this.expireCursor = null;
    this.sampler = null;
    return removed;
  }
}
