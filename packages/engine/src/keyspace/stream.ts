// Stream value (Redis t_stream.c / stream.h `stream`): entries in nodes ordered by master ID (the
// rax of listpacks, see stream-node.ts), the metadata Redis 7.0 keeps (last_id, first_id,
// max_deleted_entry_id, entries_added) and the consumer groups. Deleting an entry only flags it,
// as Redis does, and a node goes away when its last live entry does, so the node layout (and with
// it approximate trimming) evolves as in Redis.

import type { Bin } from '../bytes.ts';
import type { ConsumerGroup } from './stream-groups.ts';
import { ID_MAX, idMs, type StreamId } from './stream-id.ts';
import {
  FLAG_DELETED,
  FLAG_SAMEFIELDS,
  STREAM_NODE_MAX_BYTES,
  STREAM_NODE_MAX_ENTRIES,
  StreamNode,
  type StreamEntry,
} from './stream-node.ts';

export type TrimStrategy = 'maxlen' | 'minid';

/** Redis streamAddTrimArgs, the part streamTrim reads. */
export interface TrimArgs {
  strategy: TrimStrategy;
  /** Only whole nodes are removed. */
  approx: boolean;
  /** Maximum entries to remove; 0 = no limit. */
  limit: number;
  maxlen: number;
  minid: StreamId;
}

export class RStream {
  readonly type = 'stream' as const;
  /** Nodes in master-ID order. */
  nodes: StreamNode[] = [];
  /** Live entries. */
  length = 0;
  lastId: StreamId = 0n;
  /** Redis first_id: the first live entry's ID (0-0 when empty). */
  firstId: StreamId = 0n;
  maxDeletedId: StreamId = 0n;
  entriesAdded = 0n;
  /** Consumer groups by name (Redis cgroups). */
  readonly groups = new Map<Bin, ConsumerGroup>();

  get size(): number {
    return this.length;
  }

  /** Groups in name (byte) order, as Redis's rax lists them. */
  sortedGroups(): [Bin, ConsumerGroup][] {
    return [...this.groups.keys()].sort().map((n) => [n, this.groups.get(n)!]);
  }

  /**
   * Redis streamAppendItem after the ID was chosen and checked (id > lastId): into the tail node
   * unless it is full by bytes or entries (stream-node-max-bytes / -max-entries), else into a
   * new node whose master fields are this entry's fields.
   */
  append(id: StreamId, fields: readonly Bin[]): void {
    let tail: StreamNode | undefined = this.nodes[this.nodes.length - 1];
    if (tail !== undefined) {
      let valueBytes = 0;
      for (const f of fields) valueBytes += f.length;
      if (tail.bytes + valueBytes >= STREAM_NODE_MAX_BYTES) tail = undefined;
      else if (tail.total >= STREAM_NODE_MAX_ENTRIES) tail = undefined;
    }
    let flags = 0;
    if (tail === undefined) {
      const master: Bin[] = [];
      for (let i = 0; i < fields.length; i += 2) master.push(fields[i]!);
      tail = new StreamNode(id, master);
      this.nodes.push(tail);
      flags = FLAG_SAMEFIELDS;
    } else if (tail.sameFields(fields)) {
      flags = FLAG_SAMEFIELDS;
    }
    tail.append(id, fields, flags);
    this.length++;
    this.entriesAdded++;
    this.lastId = id;
    if (this.length === 1) this.firstId = id;
  }

  /** Index of the node that may hold `id`: the last node whose master ID is <= id, or -1. */
  private nodeIndexFor(id: StreamId): number {
    let lo = 0;
    let hi = this.nodes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.nodes[mid]!.masterId <= id) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /**
   * Entries with start <= id <= end in ascending (or with `rev` descending) order, skipping
   * flagged-deleted ones unless `tombstones` (Redis streamIterator).
   */
  *range(start: StreamId, end: StreamId, rev = false, tombstones = false): Generator<StreamEntry> {
    if (start > end || this.nodes.length === 0) return;
    if (!rev) {
      let n = Math.max(0, this.nodeIndexFor(start));
      let i = this.nodes[n]!.lowerBound(start);
      for (; n < this.nodes.length; n++, i = 0) {
        const node = this.nodes[n]!;
        for (; i < node.entries.length; i++) {
          const e = node.entries[i]!;
          if (e.id > end) return;
          if (e.id >= start && (tombstones || (e.flags & FLAG_DELETED) === 0)) yield e;
        }
      }
    } else {
      let n = this.nodeIndexFor(end);
      if (n < 0) return;
      for (; n >= 0; n--) {
        const node = this.nodes[n]!;
        for (let i = node.entries.length - 1; i >= 0; i--) {
          const e = node.entries[i]!;
          if (e.id < start) return;
          if (e.id <= end && (tombstones || (e.flags & FLAG_DELETED) === 0)) yield e;
        }
      }
    }
  }

  /** The live entry with this ID (Redis streamEntryExists + lookup). */
  find(id: StreamId): StreamEntry | undefined {
    const n = this.nodeIndexFor(id);
    if (n < 0) return undefined;
    const node = this.nodes[n]!;
    const i = node.lowerBound(id);
    const e = node.entries[i];
    return e !== undefined && e.id === id && (e.flags & FLAG_DELETED) === 0 ? e : undefined;
  }

  /**
   * Redis streamDeleteItem (streamIteratorRemoveEntry): flag the entry deleted, or drop the whole
   * node when it was the node's last live entry. Does not update first_id / max_deleted_entry_id.
   */
  deleteEntry(id: StreamId): boolean {
    const n = this.nodeIndexFor(id);
    if (n < 0) return false;
    const node = this.nodes[n]!;
    const i = node.lowerBound(id);
    const e = node.entries[i];
    if (e === undefined || e.id !== id || (e.flags & FLAG_DELETED) !== 0) return false;
    if (node.live === 1) this.nodes.splice(n, 1);
    else node.markDeleted(i);
    this.length--;
    return true;
  }

  /** Redis streamGetEdgeID: the first or last ID, tombstones included unless skipped. */
  edgeId(first: boolean, skipTombstones: boolean): StreamId {
    const it = this.range(0n, ID_MAX, !first, !skipTombstones).next();
    if (it.done === true) return first ? ID_MAX : 0n;
    return it.value.id;
  }

  /** Redis streamLastValidID: the last live ID (0-0 when empty). */
  lastValidId(): StreamId {
    const it = this.range(0n, ID_MAX, true).next();
    return it.done === true ? 0n : it.value.id;
  }

  /** Redis streamTrim: returns the number of entries removed. */
  trim(args: TrimArgs): number {
    let deleted = 0;
    while (this.nodes.length > 0) {
      if (args.strategy === 'maxlen' && this.length <= args.maxlen) break;
      const node = this.nodes[0]!;
      const entries = node.live;
      if (args.limit !== 0 && deleted + entries > args.limit) break;
      const removeNode =
        args.strategy === 'maxlen'
          ? this.length - entries >= args.maxlen
          : node.lastId() < args.minid;
      if (removeNode) {
        this.nodes.shift();
        this.length -= entries;
        deleted += entries;
        continue;
      }
      if (args.approx) break;
      let live = node.live;
      let dead = node.deleted;
      for (const e of node.entries) {
        const stop = args.strategy === 'maxlen' ? this.length <= args.maxlen : e.id >= args.minid;
        if (stop) break;
        if ((e.flags & FLAG_DELETED) === 0) {
          e.flags |= FLAG_DELETED;
          live--;
          dead++;
          this.length--;
          deleted++;
        }
      }
      node.setCounts(live, dead);
      break;
    }
    if (this.length === 0) this.firstId = 0n;
    else if (deleted > 0) this.firstId = this.edgeId(true, true);
    return deleted;
  }

  /** Redis streamRangeHasTombstones (`start` defaults to 0-0, `end` to the maximum). */
  rangeHasTombstones(start: StreamId, end: StreamId = ID_MAX): boolean {
    if (this.length === 0 || this.maxDeletedId === 0n) return false;
    if (this.firstId > this.maxDeletedId) return false;
    return start <= this.maxDeletedId && this.maxDeletedId <= end;
  }

  /** Redis streamEstimateDistanceFromFirstEverEntry; -1n for "not obtainable". */
  estimateDistanceFromFirstEverEntry(id: StreamId): bigint {
    if (this.entriesAdded === 0n) return 0n;
    if (this.length === 0 && id <= this.lastId) return this.entriesAdded;
    if (id === this.lastId) return this.entriesAdded;
    if (id > this.lastId) return -1n;
    if (this.maxDeletedId === 0n || this.maxDeletedId < this.firstId) {
      if (id < this.firstId) return this.entriesAdded - BigInt(this.length);
      if (id === this.firstId) return this.entriesAdded - BigInt(this.length) + 1n;
    }
    return -1n;
  }

  /** Redis streamReplyWithCGLag's value: the group's lag, or null when not obtainable. */
  groupLag(group: ConsumerGroup): bigint | null {
    if (this.entriesAdded === 0n) return 0n;
    if (group.entriesRead !== -1n && !this.rangeHasTombstones(group.lastId)) {
      return this.entriesAdded - group.entriesRead;
    }
    const entriesRead = this.estimateDistanceFromFirstEverEntry(group.lastId);
    return entriesRead === -1n ? null : this.entriesAdded - entriesRead;
  }

  /** Redis streamDup (COPY): same entries, node layout, metadata and groups. */
  clone(): RStream {
    const copy = new RStream();
    for (const node of this.nodes) {
      const n = new StreamNode(node.masterId, node.masterFields);
      for (const e of node.entries) n.entries.push({ id: e.id, fields: e.fields, flags: e.flags });
      n.live = node.live;
      n.deleted = node.deleted;
      n.bytes = node.bytes;
      copy.nodes.push(n);
    }
    copy.length = this.length;
    copy.lastId = this.lastId;
    copy.firstId = this.firstId;
    copy.maxDeletedId = this.maxDeletedId;
    copy.entriesAdded = this.entriesAdded;
    for (const [name, g] of this.groups) copy.groups.set(name, g.clone());
    return copy;
  }

  /** Number of rax nodes Redis would report (radix-tree-nodes), see raxNodeCount. */
  raxNodes(): number {
    return raxNodeCount(this.nodes.map((n) => n.masterId));
  }
}

/**
 * The node count of a Redis rax holding these 16-byte keys (big-endian IDs), computed for the
 * compressed radix tree Redis builds: a chain of single-child bytes is one compressed node, a
 * branching point is one node with a child per distinct byte, every key ends in a leaf node, and
 * the empty tree is its head node.
 */
export function raxNodeCount(ids: readonly StreamId[]): number {
  if (ids.length === 0) return 1;
  const keys = ids.map((id) => {
    const b = Buffer.allocUnsafe(16);
    b.writeBigUInt64BE(idMs(id), 0);
    b.writeBigUInt64BE(id & ((1n << 64n) - 1n), 8);
    return b;
  });
  const count = (group: Buffer[], depth: number): number => {
    if (depth === 16) return 1;
    let common = depth;
    while (common < 16 && group.every((k) => k[common] === group[0]![common])) common++;
    if (common === 16) return 2; // one compressed node, then the leaf
    const byByte = new Map<number, Buffer[]>();
    for (const k of group) {
      const b = k[common]!;
      let list = byByte.get(b);
      if (list === undefined) byByte.set(b, (list = []));
      list.push(k);
    }
    let total = common > depth ? 2 : 1; // compressed prefix node, then the branching node
    for (const sub of byByte.values()) total += count(sub, common + 1);
    return total;
  };
  return count(keys, 0);
}
