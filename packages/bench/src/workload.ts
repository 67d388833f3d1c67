// The write workloads, shared by every system so they all do the same work.
//
//   set    SET of a 16-byte key ("key:" + 12 digits, exactly the keys `redis-benchmark -r 100000`
//          generates) to a 100-byte value, uniformly over 100,000 keys.
//   mixed  all five types: SET 30 %, HSET 20 %, RPUSH 10 %, LPOP 10 %, SADD 15 %, ZADD 15 %. Fields
//          and members come from small fixed sets and LPOP balances RPUSH, so the dataset stays
//          bounded however long a run is (a growing dataset would make later rounds slower).
//
// Embedded key-value peers have no lists or sorted sets; they get the closest single write: a put
// of `<key>:<field|member|slot>` (an LPOP becomes a delete of a list slot). Same count of writes,
// comparable bytes per write, one key touched per operation.
//
// Ops are described by a mutable record filled in place, so generating one costs a few integer
// operations and no allocation on every system alike.
//
// Values come from a pool of 1024 distinct 100-byte strings. A constant value would be unfair to
// the engines that compare before writing: SQLite does not even dirty a page when an UPDATE
// writes the bytes already there, so a commit of "SET k <same value>" writes nothing and needs no
// fsync (measured: 33k "durable" commits/s at 1 in flight, 6× the disk's fsync rate).

export type Workload = 'set' | 'mixed';
export const WORKLOADS: readonly Workload[] = ['set', 'mixed'];

export type OpKind = 'set' | 'hset' | 'rpush' | 'lpop' | 'sadd' | 'zadd';

export interface Op {
  kind: OpKind;
  /** Index into the key space of the kind's type. */
  key: number;
  /** Field / member / list slot index (0..SUB_COUNT-1). */
  sub: number;
  /** ZADD score. */
  score: number;
  /** Index into the value pool. */
  value: number;
}

/** RESP bytes of one SET of a 16-byte key to a 100-byte value, as aofkv and Redis append it. */
export const SET_AOF_BYTES =
  '*3\r\n$3\r\nSET\r\n$16\r\n'.length + 16 + '\r\n$100\r\n'.length + 100 + 2;

/** `redis-benchmark -r 100000`. */
export const KEY_SPACE = 100_000;
const SUB_COUNT = 16;
export const VALUE_BYTES = 100;
const VALUE_POOL = 1024;

/** xorshift32: tiny, fast and seedable, so every system sees the same op sequence. */
export function makeRandom(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** Fixed-width key names: `<prefix><zero-padded index>`, 16 bytes for "key:". */
export function keyName(prefix: string, index: number, width = 16): string {
  return prefix + String(index).padStart(width - prefix.length, '0');
}

/** Precomputed names so key formatting is not part of what is measured. */
export class KeyNames {
  readonly strings: string[];
  readonly hashes: string[];
  readonly lists: string[];
  readonly sets: string[];
  readonly zsets: string[];
  readonly subs: string[] = Array.from({ length: SUB_COUNT }, (_, i) => `m${i}`);
  /** Distinct 100-byte values (see the header). */
  readonly values: string[] = Array.from(
    { length: VALUE_POOL },
    (_, i) => 'v'.repeat(VALUE_BYTES - 12) + String(i).padStart(12, '0'),
  );

  constructor(count = KEY_SPACE) {
    this.strings = Array.from({ length: count }, (_, i) => keyName('key:', i));
    this.hashes = Array.from({ length: count }, (_, i) => keyName('hash:', i));
    this.lists = Array.from({ length: count }, (_, i) => keyName('list:', i));
    this.sets = Array.from({ length: count }, (_, i) => keyName('set:', i));
    this.zsets = Array.from({ length: count }, (_, i) => keyName('zset:', i));
  }
}

let sharedNames: KeyNames | null = null;
export function keyNames(): KeyNames {
  sharedNames ??= new KeyNames();
  return sharedNames;
}

/** Cumulative weights (out of 100) of the mixed workload. */
const MIXED: readonly [OpKind, number][] = [
  ['set', 30],
  ['hset', 50],
  ['rpush', 60],
  ['lpop', 70],
  ['sadd', 85],
  ['zadd', 100],
];

/** Returns a function that fills `op` with the next operation of the workload. */
export function opGenerator(workload: Workload, seed: number): (op: Op) => void {
  const rnd = makeRandom(seed);
  if (workload === 'set') {
    return (op) => {
      const r = rnd();
      op.kind = 'set';
      op.key = r % KEY_SPACE;
      op.value = (r >>> 20) % VALUE_POOL;
    };
  }
  return (op) => {
    const r = rnd();
    const pick = r % 100;
    let kind: OpKind = 'zadd';
    for (const [k, upTo] of MIXED) {
      if (pick < upTo) {
        kind = k;
        break;
      }
    }
    op.kind = kind;
    op.key = (r >>> 7) % KEY_SPACE;
    op.sub = (r >>> 24) % SUB_COUNT;
    op.score = (r >>> 20) % 1000;
    op.value = rnd() % VALUE_POOL;
  };
}

export function newOp(): Op {
  return { kind: 'set', key: 0, sub: 0, score: 0, value: 0 };
}

/** A key-value rendering of an op, for the embedded peers (see the header). */
export type KvWrite =
  | { del: false; key: string; value: string }
  | { del: true; key: string; value: '' };

function kvWriteOf(op: Op, names: KeyNames): KvWrite {
  switch (op.kind) {
    case 'set':
      return { del: false, key: names.strings[op.key]!, value: names.values[op.value]! };
    case 'hset':
      return {
        del: false,
        key: `${names.hashes[op.key]!}:${names.subs[op.sub]!}`,
        value: names.values[op.value]!,
      };
    case 'rpush':
      return {
        del: false,
        key: `${names.lists[op.key]!}:${op.sub}`,
        value: names.values[op.value]!,
      };
    case 'lpop':
      return { del: true, key: `${names.lists[op.key]!}:${op.sub}`, value: '' };
    case 'sadd':
      return { del: false, key: `${names.sets[op.key]!}:${names.subs[op.sub]!}`, value: '' };
    case 'zadd':
      return {
        del: false,
        key: `${names.zsets[op.key]!}:${names.subs[op.sub]!}`,
        value: String(op.score),
      };
  }
}

/**
 * A peer's operation: the workload's next op, rendered as a key-value write and handed to `write`.
 */
export function kvOpMaker(
  workload: Workload,
  seed: number,
  write: (w: KvWrite) => Promise<unknown>,
): () => Promise<unknown> {
  const names = keyNames();
  const next = opGenerator(workload, seed);
  const op = newOp();
  return () => {
    next(op);
    return write(kvWriteOf(op, names));
  };
}
