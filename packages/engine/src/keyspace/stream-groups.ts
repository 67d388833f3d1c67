// Consumer groups of a stream (Redis stream.h streamCG, streamConsumer, streamNACK). Redis keeps
// groups and consumers in radix trees keyed by name and PELs in radix trees keyed by the 16-byte
// big-endian ID, so every listing is in byte order of the name or in ID order; here names live in
// Maps sorted when listed (a Bin compares like memcmp) and a PEL is an IdMap.

import type { Bin } from '../bytes.ts';
import type { StreamId } from './stream-id.ts';

/** An ordered map keyed by stream ID: O(1) lookup, ordered iteration, O(log n) seek. */
export class IdMap<V> {
  private readonly map = new Map<StreamId, V>();
  /** The keys in ascending order. Appends (the usual case: new deliveries) are O(1). */
  private readonly keys: StreamId[] = [];

  get size(): number {
    return this.map.size;
  }

  get(id: StreamId): V | undefined {
    return this.map.get(id);
  }

  has(id: StreamId): boolean {
    return this.map.has(id);
  }

  set(id: StreamId, value: V): void {
    if (!this.map.has(id)) {
      const keys = this.keys;
      if (keys.length === 0 || keys[keys.length - 1]! < id) keys.push(id);
      else keys.splice(this.lowerBound(id), 0, id);
    }
    this.map.set(id, value);
  }

  delete(id: StreamId): boolean {
    if (!this.map.delete(id)) return false;
    this.keys.splice(this.lowerBound(id), 1);
    return true;
  }

  /** Index of the first key >= id. */
  lowerBound(id: StreamId): number {
    const keys = this.keys;
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid]! < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  keyAt(index: number): StreamId | undefined {
    return this.keys[index];
  }

  first(): StreamId | undefined {
    return this.keys[0];
  }

  last(): StreamId | undefined {
    return this.keys[this.keys.length - 1];
  }

  /** Entries with key >= start in ascending order (a snapshot: safe to modify the map). */
  *from(start: StreamId): Generator<[StreamId, V]> {
    const keys = this.keys.slice(this.lowerBound(start));
    for (const id of keys) {
      const v = this.map.get(id);
      if (v !== undefined) yield [id, v];
    }
  }

  *[Symbol.iterator](): Generator<[StreamId, V]> {
    yield* this.from(0n);
  }
}

/** A pending entry (Redis streamNACK). */
export interface Nack {
  /** Last delivery time in Unix ms. */
  deliveryTime: number;
  /** Number of deliveries (a 64-bit counter: RETRYCOUNT may set any non-negative value). */
  deliveryCount: bigint;
  /** Null only for a moment inside XCLAIM FORCE (Redis streamCreateNACK(NULL)). */
  consumer: Consumer | null;
}

export class Consumer {
  readonly name: Bin;
  /** Redis seen_time: the last time the consumer was looked up with a refresh. */
  seenTime: number;
  readonly pel = new IdMap<Nack>();
  constructor(name: Bin, seenTime: number) {
    this.name = name;
    this.seenTime = seenTime;
  }
}

/** Redis SCG_INVALID_ENTRIES_READ. */
export const ENTRIES_READ_INVALID = -1n;

export class ConsumerGroup {
  lastId: StreamId;
  /** Redis entries_read; ENTRIES_READ_INVALID when unknown. */
  entriesRead: bigint;
  readonly pel = new IdMap<Nack>();
  readonly consumers = new Map<Bin, Consumer>();

  constructor(lastId: StreamId, entriesRead: bigint) {
    this.lastId = lastId;
    this.entriesRead = entriesRead;
  }

  /** Consumers in name (byte) order, as Redis's rax lists them. */
  sortedConsumers(): Consumer[] {
    return [...this.consumers.keys()].sort().map((n) => this.consumers.get(n)!);
  }

  /** Redis streamCreateConsumer: null when it exists already. */
  createConsumer(name: Bin, nowMs: number): Consumer | null {
    if (this.consumers.has(name)) return null;
    const consumer = new Consumer(name, nowMs);
    this.consumers.set(name, consumer);
    return consumer;
  }

  /** Redis streamDelConsumer: its pending entries leave the group PEL too. */
  deleteConsumer(consumer: Consumer): void {
    for (const [id] of consumer.pel) this.pel.delete(id);
    this.consumers.delete(consumer.name);
  }

  /** Remove a pending entry from the group and from its consumer. */
  ack(id: StreamId): boolean {
    const nack = this.pel.get(id);
    if (nack === undefined) return false;
    this.pel.delete(id);
    nack.consumer?.pel.delete(id);
    return true;
  }

  /** Deep copy (Redis streamDup copies groups, consumers and shared NACKs). */
  clone(): ConsumerGroup {
    const copy = new ConsumerGroup(this.lastId, this.entriesRead);
    const byName = new Map<Consumer, Consumer>();
    for (const [name, c] of this.consumers) {
      const cc = new Consumer(name, c.seenTime);
      copy.consumers.set(name, cc);
      byName.set(c, cc);
    }
    for (const [id, nack] of this.pel) {
      const owner = nack.consumer === null ? null : (byName.get(nack.consumer) ?? null);
      const n: Nack = {
        deliveryTime: nack.deliveryTime,
        deliveryCount: nack.deliveryCount,
        consumer: owner,
      };
      copy.pel.set(id, n);
      owner?.pel.set(id, n);
    }
    return copy;
  }
}
