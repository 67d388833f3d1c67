// The rewrite snapshot's wire format (aof/snapshot-codec.ts): what SnapshotEncoder writes from
// live values must decode (msgpackr, on the writer's side) to exactly the plain entry of the same
// key, for every byte value, every length class of the MessagePack headers, every value type and
// every kind of expiry. And the snapshot's written-keys set (InsertOnlyBinSet) against a Set.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeSnapshotChunk, SnapshotEncoder } from '../../src/aof/rewrite/snapshot-codec.ts';
import { InsertOnlyBinSet } from '../../src/aof/rewrite/insert-only-bin-set.ts';
import { plainScore, PLAIN_ZSET, type PlainEntry } from '../../src/keyspace/plain-entry.ts';
import { toPlainEntry } from '../../src/aof/rewrite/to-plain-entry.ts';
import type { ExpireMs } from '../../src/keyspace/db.ts';
import {
  RHash,
  RList,
  RSet,
  RZSet,
  SetMembers,
  type RedisValue,
} from '../../src/keyspace/values.ts';

/** The plain entry with zset scores as numbers (toPlainEntry marks -0 as '-0' for msgpackr). */
function normalized(e: PlainEntry): PlainEntry {
  if (e[2] !== PLAIN_ZSET) return e;
  const data = (e[3] as (string | number)[]).map((v, i) => (i % 2 === 1 ? plainScore(v) : v));
  return [e[0], e[1], e[2], data, e[4]];
}

function roundTrip(items: [number, string, RedisValue, ExpireMs][], initialBytes?: number): void {
  const enc = new SnapshotEncoder(initialBytes);
  let bytes = 0;
  for (const [db, key, value, exp] of items) bytes += enc.entry(db, key, value, exp);
  expect(enc.length).toBe(bytes);
  const chunk = enc.take();
  if (items.length === 0) {
    expect(chunk).toBeNull();
    return;
  }
  expect(enc.length).toBe(0);
  expect(enc.take()).toBeNull();
  const decoded = decodeSnapshotChunk(chunk!);
  const expected = items.map(([db, key, value, exp]) =>
    normalized(toPlainEntry(db, key, value, exp)),
  );
  expect(decoded.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    // toEqual treats -0 and 0 alike; Object.is per score catches a lost sign.
    expect(decoded[i]).toEqual(expected[i]);
    if (expected[i]![2] === PLAIN_ZSET) {
      const a = decoded[i]![3] as number[];
      const b = expected[i]![3] as number[];
      for (let j = 1; j < b.length; j += 2) expect(Object.is(a[j], b[j])).toBe(true);
    }
  }
}

const allBytes = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');
const bin = (n: number, c = 'x') => c.repeat(n);

describe('SnapshotEncoder → decodeSnapshotChunk', () => {
  it(
    'strings of every byte value, ' +
      'and lengths at each header boundary (ASCII and 2-byte UTF-8)',
    () => {
      const lengths = [
        0, 1, 15, 16, 31, 32, 63, 64, 127, 128, 255, 256, 32767, 32768, 65535, 65536, 70000,
      ];
      const items: [number, string, RedisValue, ExpireMs][] = [[0, allBytes, allBytes, -1]];
      for (const n of lengths) {
        items.push([1, `a${n}`, bin(n), -1]);
        items.push([2, bin(n, 'é'), bin(n, '\xff'), -1]);
      }
      // A tiny initial buffer makes every entry grow it.
      roundTrip(items, 8);
    },
  );

  it('lists, sets (intset and hashtable), hashes and zsets, at array header boundaries', () => {
    const items: [number, string, RedisValue, ExpireMs][] = [];
    for (const n of [0, 1, 7, 8, 15, 16, 40000]) {
      items.push([0, `l${n}`, RList.from(Array.from({ length: n }, (_, i) => `e${i}\x80`)), -1]);
      const ints = new SetMembers();
      const strs = new SetMembers();
      for (let i = 0; i < n; i++) {
        ints.add(String(i * 7 - 3));
        strs.add(`m${i}\xfe`);
      }
      items.push([3, `si${n}`, new RSet(ints), -1], [3, `ss${n}`, new RSet(strs), -1]);
      items.push([
        5,
        `h${n}`,
        new RHash(
          new Map(Array.from({ length: n }, (_, i): [string, string] => [`f${i}`, `v${i}\x00`])),
        ),
        -1,
      ]);
      const z = new RZSet();
      for (let i = 0; i < n; i++) z.add(`z${i}`, i % 3 === 0 ? -i / 3 : i * 1.25);
      items.push([15, `z${n}`, z, -1]);
    }
    const special = new RZSet();
    special.add('neg-zero', -0);
    special.add('inf', Infinity);
    special.add('-inf', -Infinity);
    special.add('tiny', 5e-324);
    items.push([0, 'special', special, -1]);
    roundTrip(items);
  });

  it(
    'expiry times: none, 0, around 2^32, ' +
      'the largest safe integer, negatives, and bigints beyond 2^53',
    () => {
      const times: ExpireMs[] = [
        -1,
        0,
        1,
        2 ** 32 - 1,
        2 ** 32,
        1_795_000_000_000,
        Number.MAX_SAFE_INTEGER,
        -2,
        -(2 ** 40),
        2n ** 53n + 1n,
        2n ** 63n - 1n,
        -(2n ** 63n),
      ];
      roundTrip(times.map((t, i): [number, string, RedisValue, ExpireMs] => [0, `k${i}`, 'v', t]));
    },
  );

  it('db ids at every MessagePack unsigned-integer boundary, up to INT_MAX (databases max)', () => {
    // databases accepts up to INT_MAX, so a db id is any uint32 below 2^31: positive fixint up
    // to 127, then uint8, uint16 and uint32.
    const ids = [0, 1, 127, 128, 200, 255, 256, 1023, 65535, 65536, 70000, 2 ** 31 - 1];
    const items = ids.map((db): [number, string, RedisValue, ExpireMs] => [db, `k${db}`, 'v', -1]);
    roundTrip(items, 8);
  });

  it('writes the db id in the smallest MessagePack unsigned-integer format', () => {
    const dbIdBytes = (db: number): number[] => {
      const enc = new SnapshotEncoder();
      enc.entry(db, 'k', 'v', -1);
      const chunk = enc.take()!;
      // fixarray(5), then the db id, then the key 'k' as fixstr (0xa1 0x6b).
      const keyAt = chunk.indexOf(0xa1, 1);
      return [...chunk.subarray(1, keyAt)];
    };
    expect(dbIdBytes(127)).toEqual([0x7f]);
    expect(dbIdBytes(128)).toEqual([0xcc, 0x80]);
    expect(dbIdBytes(255)).toEqual([0xcc, 0xff]);
    expect(dbIdBytes(256)).toEqual([0xcd, 0x01, 0x00]);
    expect(dbIdBytes(65536)).toEqual([0xce, 0x00, 0x01, 0x00, 0x00]);
  });

  it('random keys, values and TTLs round-trip (property)', () => {
    const binArb = fc
      .array(fc.integer({ min: 0, max: 255 }), { maxLength: 80 })
      .map((codes) => String.fromCharCode(...codes));
    const valueArb: fc.Arbitrary<RedisValue> = fc.oneof(
      binArb,
      fc.array(binArb, { maxLength: 20 }).map((a) => RList.from(a)),
      fc.uniqueArray(binArb, { maxLength: 20 }).map((a) => {
        const m = new SetMembers();
        for (const x of a) m.add(x);
        return new RSet(m);
      }),
      fc
        .array(fc.tuple(binArb, binArb), { maxLength: 20 })
        .map((pairs) => new RHash(new Map(pairs))),
      fc.array(fc.tuple(binArb, fc.double({ noNaN: true })), { maxLength: 20 }).map((pairs) => {
        const z = new RZSet();
        for (const [m, sc] of pairs) z.add(m, sc);
        return z;
      }),
    );
    const expireArb = fc.oneof(
      fc.constant<ExpireMs>(-1),
      fc.maxSafeNat(),
      fc.bigInt({ min: 2n ** 53n + 1n, max: 2n ** 63n - 1n }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 15 }), binArb, valueArb, expireArb), {
          maxLength: 30,
        }),
        (items) => {
          roundTrip(items, 16);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('InsertOnlyBinSet', () => {
  it('agrees with a Set through growth, including keys that differ only in one byte', () => {
    const set = new InsertOnlyBinSet(0); // expects nothing: grows several times
    const model = new Set<string>();
    for (let i = 0; i < 20000; i++) {
      const key = i % 2 === 0 ? `key:${i % 7000}` : `key:${i % 7000}\xff`;
      expect(set.add(key)).toBe(!model.has(key));
      model.add(key);
    }
    expect(set.size).toBe(model.size);
    // Everything added is found again (add says "already there") after the growth.
    for (const key of model) expect(set.add(key)).toBe(false);
    expect(set.add('')).toBe(true);
    expect(set.add('')).toBe(false);
  });

  it('sized from the expected count, it holds that many keys without growing its table', () => {
    const set = new InsertOnlyBinSet(50000);
    const bytes = set.bytes;
    for (let i = 0; i < 50000; i++) set.add(`k${i}`);
    // Only key pages were added: the probe table (the first term) kept its size.
    expect(set.bytes - bytes).toBe(Math.ceil(50000 / 16384) * 16384 * 8);
  });
});
