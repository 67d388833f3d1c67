// Who waits for the AOF to be fsynced up to a point of its stream: Redis 7.2's WAITAOF (clients
// blocked in BLOCKED_WAITAOF, unblocked by processClientsWaitingReplicas) and the embedded
// `waitAof()` promises.
//
// DESIGN
// - The AOF stream is measured in bytes fed since the engine started (Redis master_repl_offset,
//   counted by the writer across INCR files and rewrites). A waiter has a target offset: the end of
//   its client's last write (Redis c->woff) or, engine-wide, of everything executed so far.
// - The fsynced offset (Redis fsynced_reploff) is applied by AofPersistence only while the AOF is
//   ON, as Redis does: during WAIT_REWRITE the stream goes to a temp INCR no manifest lists yet.
// - settle() runs after each beforeSleep flush, each cron tick and each finished bio fsync: it
//   resolves every waiter whose target is fsynced and times out commands whose deadline passed.
//   Nothing here blocks; a waiter is two closures.
// - Failures: an embedded waiter is rejected (typed) when the fsync or write it depends on fails,
//   when the AOF is turned off, stops (fatal) or closes. A WAITAOF command keeps Redis's replies:
//   it waits until its timeout after a failed fsync (Redis retries nothing there either) and
//   answers the "appendonly is disabled" error when the AOF is turned off under it.

import type { EngineError } from '../errors.ts';

export type WaitOutcome =
  | { kind: 'durable' }
  | { kind: 'timeout' }
  | { kind: 'aof-disabled' }
  | { kind: 'error'; error: EngineError };

export interface DurabilityWaiter {
  /** Stream offset (bytes) that must be fsynced. */
  readonly targetBytes: number;
  /** Clock time at which a WAITAOF gives up (null: never). */
  readonly deadlineMs: number | null;
  /** 'embedded' promises reject on a failed fsync or write; 'command' waits for its timeout. */
  readonly kind: 'embedded' | 'command';
  /** Called exactly once. */
  readonly done: (outcome: WaitOutcome) => void;
}

export class DurabilityWaiters {
  #waiters: DurabilityWaiter[] = [];

  get size(): number {
    return this.#waiters.length;
  }

  add(waiter: DurabilityWaiter): void {
    this.#waiters.push(waiter);
  }

  /** The lowest target still waited for (null: none). */
  lowestTargetBytes(): number | null {
    let lowest: number | null = null;
    for (const w of this.#waiters)
      if (lowest === null || w.targetBytes < lowest) lowest = w.targetBytes;
    return lowest;
  }

  /** Resolve the waiters whose target is fsynced; time out commands past their deadline. */
  settle(fsyncedBytes: number, nowMs: number): void {
    this.#finish((w) => {
      if (w.targetBytes <= fsyncedBytes) return { kind: 'durable' };
      if (w.deadlineMs !== null && nowMs >= w.deadlineMs) return { kind: 'timeout' };
      return null;
    });
  }

  /** A write or fsync failed: embedded waiters beyond `fsyncedBytes` are rejected with it. */
  failEmbedded(error: EngineError, fsyncedBytes: number): void {
    this.#finish((w) =>
      w.kind === 'embedded' && w.targetBytes > fsyncedBytes ? { kind: 'error', error } : null,
    );
  }

  /** The AOF is being turned off: blocked WAITAOF commands answer Redis's error at once. */
  commandsAofDisabled(): void {
    this.#finish((w) => (w.kind === 'command' ? { kind: 'aof-disabled' } : null));
  }

  /** The AOF was turned off: commands answer Redis's error, promises reject with `error`. */
  aofDisabled(error: EngineError): void {
    this.#finish((w) =>
      w.kind === 'command' ? { kind: 'aof-disabled' } : { kind: 'error', error },
    );
  }

  /** Everyone still waiting gets `error` (a fatal stop, close()). */
  failAll(error: EngineError): void {
    this.#finish(() => ({ kind: 'error', error }));
  }

  #finish(decide: (w: DurabilityWaiter) => WaitOutcome | null): void {
    const done: [DurabilityWaiter, WaitOutcome][] = [];
    this.#waiters = this.#waiters.filter((w) => {
      const outcome = decide(w);
      if (outcome === null) return true;
      done.push([w, outcome]);
      return false;
    });
    // Called after the list is consistent: a callback may add a waiter.
    for (const [w, outcome] of done) w.done(outcome);
  }
}
