// A stream value in RDB form (Redis rdb.c rdbSaveObject / rdbLoadObject for OBJ_STREAM,
// RDB_TYPE_STREAM_LISTPACKS_2; type 15 is read too). Layout after the type byte and key:
//
//   len(nodes), then per node: string(16-byte big-endian master ID), string(listpack)
//   len(length) len(last.ms) len(last.seq) len(first.ms) len(first.seq)
//   len(max-deleted.ms) len(max-deleted.seq) len(entries-added)          (first/max/added: v2)
//   len(groups), per group: string(name) len(last.ms) len(last.seq) len(entries-read) (v2)
//     len(pel) then per entry: 16-byte ID, ms-time (8 bytes LE), len(delivery count)
//     len(consumers), per consumer: string(name) ms-time(seen) len(pel) then 16-byte IDs
//
// The listpack of a node holds the master entry and the entries as described in
// keyspace/stream-node.ts. The same bytes are the snapshot's plain form of a stream (see
// keyspace/plain-entry.ts), so the rewrite's writer thread gets a stream as one string.
//
// Decoding is bounded: every count is consumed element by element from input that must exist,
// and everything a later command relies on is checked (IDs strictly increasing, node counters
// matching the entries, the stream length matching the live entries, every pending entry owned
// by exactly one consumer), failing with a message that names the node, group or consumer.

import type { Bin } from '../bytes.ts';
import { ConsumerGroup, type Nack } from '../keyspace/stream-groups.ts';
import {
  decodeIdKey,
  formatId,
  idMs,
  idSeq,
  makeId,
  type StreamId,
} from '../keyspace/stream-id.ts';
import { FLAG_DELETED, FLAG_SAMEFIELDS, StreamNode } from '../keyspace/stream-node.ts';
import { RStream } from '../keyspace/stream.ts';
import { decodeListpack, encodeListpack, type PackedEntry } from './listpack.ts';

// ---- encoding -------------------------------------------------------------------------------

class PayloadBuilder {
  private parts: Buffer[] = [];

  len(n: number | bigint): void {
    const v = BigInt(n);
    if (v < 64n) this.parts.push(Buffer.from([Number(v)]));
    else if (v < 16384n) this.parts.push(Buffer.from([0x40 | Number(v >> 8n), Number(v & 0xffn)]));
    else if (v <= 0xffffffffn) {
      const b = Buffer.allocUnsafe(5);
      b[0] = 0x80;
      b.writeUInt32BE(Number(v), 1);
      this.parts.push(b);
    } else {
      const b = Buffer.allocUnsafe(9);
      b[0] = 0x81;
      b.writeBigUInt64BE(BigInt.asUintN(64, v), 1);
      this.parts.push(b);
    }
  }

  bytes(b: Buffer): void {
    this.len(b.length);
    this.parts.push(b);
  }

  bin(s: Bin): void {
    this.bytes(Buffer.from(s, 'latin1'));
  }

  raw(b: Buffer): void {
    this.parts.push(b);
  }

  msTime(ms: number): void {
    const b = Buffer.allocUnsafe(8);
    b.writeBigInt64LE(BigInt(ms), 0);
    this.parts.push(b);
  }

  id(id: StreamId): void {
    const b = Buffer.allocUnsafe(16);
    b.writeBigUInt64BE(idMs(id), 0);
    b.writeBigUInt64BE(idSeq(id), 8);
    this.parts.push(b);
  }

  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** The listpack of one node, exactly as Redis lays it out. */
export function encodeNodeListpack(node: StreamNode): Buffer {
  const items: Bin[] = [String(node.live), String(node.deleted), String(node.masterFields.length)];
  for (const f of node.masterFields) items.push(f);
  items.push('0');
  const mMs = idMs(node.masterId);
  const mSeq = idSeq(node.masterId);
  for (const e of node.entries) {
    const same = (e.flags & FLAG_SAMEFIELDS) !== 0;
    const n = e.fields.length / 2;
    items.push(String(e.flags));
    items.push(String(BigInt.asIntN(64, idMs(e.id) - mMs)));
    items.push(String(BigInt.asIntN(64, idSeq(e.id) - mSeq)));
    if (!same) items.push(String(n));
    for (let i = 0; i < e.fields.length; i += 2) {
      if (!same) items.push(e.fields[i]!);
      items.push(e.fields[i + 1]!);
    }
    items.push(String(same ? n + 3 : 2 * n + 4));
  }
  return encodeListpack(items);
}

/** The RDB_TYPE_STREAM_LISTPACKS_2 value of `s` (what follows the type byte and the key). */
export function encodeStreamPayload(s: RStream): Buffer {
  const out = new PayloadBuilder();
  out.len(s.nodes.length);
  for (const node of s.nodes) {
    const key = Buffer.allocUnsafe(16);
    key.writeBigUInt64BE(idMs(node.masterId), 0);
    key.writeBigUInt64BE(idSeq(node.masterId), 8);
    out.bytes(key);
    out.bytes(encodeNodeListpack(node));
  }
  out.len(s.length);
  out.len(idMs(s.lastId));
  out.len(idSeq(s.lastId));
  out.len(idMs(s.firstId));
  out.len(idSeq(s.firstId));
  out.len(idMs(s.maxDeletedId));
  out.len(idSeq(s.maxDeletedId));
  out.len(s.entriesAdded);
  const groups = s.sortedGroups();
  out.len(groups.length);
  for (const [name, g] of groups) {
    out.bin(name);
    out.len(idMs(g.lastId));
    out.len(idSeq(g.lastId));
    out.len(BigInt.asUintN(64, g.entriesRead));
    out.len(g.pel.size);
    for (const [id, nack] of g.pel) {
      out.id(id);
      out.msTime(nack.deliveryTime);
      out.len(nack.deliveryCount);
    }
    const consumers = g.sortedConsumers();
    out.len(consumers.length);
    for (const c of consumers) {
      out.bin(c.name);
      out.msTime(c.seenTime);
      out.len(c.pel.size);
      for (const [id] of c.pel) out.id(id);
    }
  }
  return out.done();
}

// ---- decoding -------------------------------------------------------------------------------

/** What the stream decoder reads through: the RDB parser, or a plain buffer. */
export interface StreamSource {
  /** rdbLoadLen with the full unsigned 64-bit range. */
  len64(): bigint;
  /** A string (any RDB string encoding) as a Bin. */
  bin(): Bin;
  /** A string as bytes: [buffer, start, end), valid until the next read. */
  blob(): [Buffer, number, number];
  /** `n` raw bytes: returns the offset of the first in `buffer()`. */
  rawBytes(n: number): [Buffer, number];
  /** rdbLoadMillisecondTime: 8 bytes, little-endian signed. */
  msTime(): number;
  /** Report damage at the current position (throws). */
  fail(reason: string): never;
}

function toBig(e: PackedEntry, src: StreamSource, what: string): bigint {
  if (typeof e === 'number') return BigInt(e);
  if (/^-?[0-9]+$/.test(e)) return BigInt(e);
  return src.fail(`stream listpack: ${what} is not an integer`);
}

function toNum(e: PackedEntry, src: StreamSource, what: string, max: number): number {
  const v = toBig(e, src, what);
  if (v < 0n || v > BigInt(max)) src.fail(`stream listpack: ${what} ${v} is out of range`);
  return Number(v);
}

const binOf = (e: PackedEntry): Bin => (typeof e === 'number' ? String(e) : e);

/** Decode one node's listpack (streamValidateListpackIntegrity's checks, deep). */
function decodeNode(src: StreamSource, masterId: StreamId, where: string): StreamNode {
  const [buf, start, end] = src.blob();
  const items: PackedEntry[] = [];
  try {
    decodeListpack(buf, start, end, items);
  } catch (err) {
    src.fail(`${where}: ${(err as Error).message}`);
  }
  let p = 0;
  const next = (what: string): PackedEntry => {
    const e = items[p++];
    if (e === undefined) src.fail(`${where}: listpack ends inside the ${what}`);
    return e;
  };
  const live = toNum(next('count'), src, `${where} count`, 2 ** 32);
  const deleted = toNum(next('deleted count'), src, `${where} deleted count`, 2 ** 32);
  const nMaster = toNum(next('master field count'), src, `${where} master fields`, items.length);
  const masterFields: Bin[] = [];
  for (let i = 0; i < nMaster; i++) masterFields.push(binOf(next('master fields')));
  if (toBig(next('master terminator'), src, 'master terminator') !== 0n) {
    src.fail(`${where}: the master entry does not end with 0`);
  }
  const node = new StreamNode(masterId, masterFields);
  const mMs = idMs(masterId);
  const mSeq = idSeq(masterId);
  let prev = -1n;
  let liveSeen = 0;
  let deletedSeen = 0;
  while (p < items.length) {
    const flags = toNum(next('entry flags'), src, `${where} entry flags`, 3);
    const ms = BigInt.asUintN(64, mMs + toBig(next('ms delta'), src, 'ms delta'));
    const seq = BigInt.asUintN(64, mSeq + toBig(next('seq delta'), src, 'seq delta'));
    const id = makeId(ms, seq);
    if (id <= prev || id < masterId) {
      src.fail(`${where}: entry ${formatId(id)} is out of order`);
    }
    prev = id;
    const same = (flags & FLAG_SAMEFIELDS) !== 0;
    const n = same
      ? nMaster
      : toNum(next('field count'), src, `${where} field count`, items.length);
    const fields: Bin[] = [];
    for (let i = 0; i < n; i++) {
      fields.push(same ? masterFields[i]! : binOf(next('fields')));
      fields.push(binOf(next('values')));
    }
    const lpCount = toNum(next('lp-count'), src, `${where} lp-count`, items.length);
    if (lpCount !== (same ? n + 3 : 2 * n + 4)) {
      src.fail(`${where}: entry ${formatId(id)} has lp-count ${lpCount}`);
    }
    node.entries.push({ id, fields, flags });
    if ((flags & FLAG_DELETED) !== 0) deletedSeen++;
    else liveSeen++;
  }
  if (node.entries.length === 0) src.fail(`${where}: empty listpack inside stream`);
  if (liveSeen !== live || deletedSeen !== deleted) {
    src.fail(
      `${where}: master entry counts ${live} live and ${deleted} deleted, ` +
        `the listpack holds ${liveSeen} and ${deletedSeen}`,
    );
  }
  node.live = live;
  node.deleted = deleted;
  node.bytes = end - start;
  return node;
}

const MAX_COUNT = Number.MAX_SAFE_INTEGER;

function count(src: StreamSource, what: string): number {
  const n = src.len64();
  if (n > BigInt(MAX_COUNT)) src.fail(`${what} ${n} is absurd`);
  return Number(n);
}

/** Read an ID as two lengths (ms, seq). */
function lenId(src: StreamSource): StreamId {
  const ms = src.len64();
  const seq = src.len64();
  return makeId(ms, seq);
}

/** Redis rdbLoadObject for RDB_TYPE_STREAM_LISTPACKS (v2 = false) and _2 (v2 = true). */
export function decodeStream(src: StreamSource, v2: boolean): RStream {
  const s = new RStream();
  const nodes = count(src, 'stream node count');
  let lastEntry = -1n;
  let live = 0;
  for (let i = 0; i < nodes; i++) {
    const [kbuf, kstart, kend] = src.blob();
    if (kend - kstart !== 16) src.fail('stream node key entry is not the size of a stream ID');
    const masterId = decodeIdKey(kbuf, kstart);
    if (masterId <= lastEntry) src.fail(`stream node ${formatId(masterId)} is out of order`);
    const node = decodeNode(src, masterId, `stream node ${formatId(masterId)}`);
    lastEntry = node.lastId();
    live += node.live;
    s.nodes.push(node);
  }
  const length = count(src, 'stream length');
  if (length !== live) {
    src.fail(`stream length ${length} does not match its ${live} live entries`);
  }
  s.length = length;
  s.lastId = lenId(src);
  if (v2) {
    s.firstId = lenId(src);
    s.maxDeletedId = lenId(src);
    s.entriesAdded = src.len64();
  } else {
    s.entriesAdded = BigInt(length);
    s.firstId = length === 0 ? 0n : s.edgeId(true, true);
  }
  if (lastEntry > s.lastId) {
    src.fail(`stream last ID ${formatId(s.lastId)} is below its entry ${formatId(lastEntry)}`);
  }
  const groups = count(src, 'stream consumer group count');
  for (let i = 0; i < groups; i++) decodeGroup(src, s, v2);
  return s;
}

function decodeGroup(src: StreamSource, s: RStream, v2: boolean): void {
  const name = src.bin();
  const lastId = lenId(src);
  const entriesRead = v2
    ? BigInt.asIntN(64, src.len64())
    : s.estimateDistanceFromFirstEverEntry(lastId);
  if (s.groups.has(name)) src.fail(`duplicated consumer group name '${name}'`);
  const g = new ConsumerGroup(lastId, entriesRead);
  s.groups.set(name, g);
  const pel = count(src, `PEL size of group '${name}'`);
  for (let j = 0; j < pel; j++) {
    const [buf, at] = src.rawBytes(16);
    const id = decodeIdKey(buf, at);
    const deliveryTime = src.msTime();
    const deliveryCount = src.len64();
    if (g.pel.has(id)) src.fail(`duplicated PEL entry ${formatId(id)} in group '${name}'`);
    g.pel.set(id, { deliveryTime, deliveryCount, consumer: null });
  }
  const consumers = count(src, `consumer count of group '${name}'`);
  for (let j = 0; j < consumers; j++) {
    const cname = src.bin();
    const consumer = g.createConsumer(cname, 0);
    if (consumer === null) src.fail(`duplicate consumer '${cname}' in group '${name}'`);
    consumer.seenTime = src.msTime();
    const n = count(src, `PEL size of consumer '${cname}'`);
    for (let k = 0; k < n; k++) {
      const [buf, at] = src.rawBytes(16);
      const id = decodeIdKey(buf, at);
      const nack: Nack | undefined = g.pel.get(id);
      if (nack === undefined) {
        src.fail(`consumer '${cname}' entry ${formatId(id)} is not in the group's PEL`);
      }
      if (nack.consumer !== null || consumer.pel.has(id)) {
        src.fail(`PEL entry ${formatId(id)} of group '${name}' has two owners`);
      }
      nack.consumer = consumer;
      consumer.pel.set(id, nack);
    }
  }
  for (const [id, nack] of g.pel) {
    if (nack.consumer === null)
      src.fail(`PEL entry ${formatId(id)} of group '${name}' has no consumer`);
  }
}

/** A StreamSource over an in-memory payload (the snapshot's plain form). */
export class BufferStreamSource implements StreamSource {
  private readonly buf: Buffer;
  private pos = 0;
  constructor(buf: Buffer) {
    this.buf = buf;
  }

  get atEnd(): boolean {
    return this.pos === this.buf.length;
  }

  private need(n: number): number {
    if (this.pos + n > this.buf.length) this.fail(`stream payload ends early (${n} bytes needed)`);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  len64(): bigint {
    const b = this.buf[this.need(1)]!;
    switch (b >> 6) {
      case 0:
        return BigInt(b & 0x3f);
      case 1:
        return BigInt(((b & 0x3f) << 8) | this.buf[this.need(1)]!);
      default:
        if (b === 0x80) return BigInt(this.buf.readUInt32BE(this.need(4)));
        if (b === 0x81) return this.buf.readBigUInt64BE(this.need(8));
        return this.fail(`invalid length byte 0x${b.toString(16)}`);
    }
  }

  bin(): Bin {
    const [buf, start, end] = this.blob();
    return buf.toString('latin1', start, end);
  }

  blob(): [Buffer, number, number] {
    const n = this.len64();
    if (n > BigInt(this.buf.length)) this.fail(`string of ${n} bytes runs past the payload`);
    const at = this.need(Number(n));
    return [this.buf, at, at + Number(n)];
  }

  rawBytes(n: number): [Buffer, number] {
    return [this.buf, this.need(n)];
  }

  msTime(): number {
    return Number(this.buf.readBigInt64LE(this.need(8)));
  }

  fail(reason: string): never {
    throw new Error(`bad stream payload at byte ${this.pos}: ${reason}`);
  }
}

/** Decode a payload made by encodeStreamPayload. */
export function decodeStreamPayload(payload: Buffer): RStream {
  const src = new BufferStreamSource(payload);
  const s = decodeStream(src, true);
  if (!src.atEnd) src.fail('trailing bytes after the stream');
  return s;
}
