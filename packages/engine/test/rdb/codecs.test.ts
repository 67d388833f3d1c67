// Unit tests of the RDB building blocks: CRC-64 (Redis's check value), LZF (round trip and
// hostile input), and the blob decoders (listpack, ziplist, intset, zipmap) — every encoding, and
// every kind of damage lpValidateIntegrity / ziplistValidateIntegrity would catch.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Crc64, crc64 } from '../../src/rdb/crc64.ts';
import { decodeIntset } from '../../src/rdb/intset.ts';
import {
  backlenSize,
  decodeListpack,
  encodeListpack,
  type PackedEntry,
} from '../../src/rdb/listpack.ts';
import { lzfCompress, lzfDecompress } from '../../src/rdb/lzf.ts';
import { BlobFormatError } from '../../src/rdb/rdb-errors.ts';
import { decodeZiplist } from '../../src/rdb/ziplist.ts';
import { decodeZipmap } from '../../src/rdb/zipmap.ts';
import { encodeIntset, encodeZiplist, encodeZipmap } from './rdb-helpers.ts';

const bin = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
const asText = (entries: PackedEntry[]): string[] =>
  entries.map((e) => (typeof e === 'number' ? String(e) : e));

/** Strings that exercise every integer and string encoding of listpack and ziplist. */
const SAMPLE_ITEMS = [
  '0',
  '1',
  '12',
  '13',
  '127',
  '128',
  '-1',
  '-128',
  '-129',
  '4095',
  '4096',
  '-4096',
  '-4097',
  '32767',
  '32768',
  '-32768',
  '-32769',
  '8388607',
  '8388608',
  '-8388608',
  '-8388609',
  '2147483647',
  '2147483648',
  '-2147483648',
  '-2147483649',
  '9007199254740993',
  '9223372036854775807',
  '-9223372036854775808',
  '9223372036854775808',
  '007',
  '-0',
  '+1',
  '1.5',
  '',
  'a',
  'x'.repeat(63),
  'y'.repeat(64),
  'z'.repeat(4095),
  'w'.repeat(4096),
  'v'.repeat(16384),
  '\x00\xff\x01binary',
];

describe('crc64 (Redis crc64_jones)', () => {
  it('matches the check value of Redis crc64.c', () => {
    expect(crc64(Buffer.from('123456789'))).toBe(0xe9c6d914c4b8d9can);
    expect(crc64(Buffer.alloc(0))).toBe(0n);
  });

  it('is the same fed in any split', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.nat(300), { maxLength: 6 }),
        (data, cuts) => {
          const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
          const c = new Crc64();
          let prev = 0;
          for (const p of [...points, data.length]) {
            c.update(data, prev, p);
            prev = p;
          }
          expect(c.digest()).toBe(crc64(data));
          expect(c.matches(c.digestBytes(), 0)).toBe(true);
        },
      ),
    );
  });
});

describe('LZF', () => {
  it('round-trips compressible data', () => {
    const data = Buffer.from('abcabcabcabcabcabc'.repeat(50) + 'x'.repeat(1000), 'latin1');
    const packed = lzfCompress(data, 0, data.length, data.length - 4)!;
    expect(packed).not.toBeNull();
    expect(packed.length).toBeLessThan(data.length / 5);
    expect(lzfDecompress(packed, 0, packed.length, data.length)!.equals(data)).toBe(true);
  });

  it('round-trips arbitrary data or declines to compress it', () => {
    const data = fc.oneof(
      fc.uint8Array({ maxLength: 2000 }),
      fc.array(fc.constantFrom(0, 1, 97), { maxLength: 20000 }).map((a) => Uint8Array.from(a)),
    );
    fc.assert(
      fc.property(data, (input) => {
        const max = input.length + 64;
        const packed = lzfCompress(input, 0, input.length, max);
        if (input.length === 0) expect(packed).toBeNull();
        if (packed === null) return;
        expect(packed.length).toBeLessThanOrEqual(max);
        expect(bin(lzfDecompress(packed, 0, packed.length, input.length)!)).toBe(bin(input));
      }),
    );
  });

  it('never reads or writes out of range on hostile input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(3000), (input, outLen) => {
        const out = lzfDecompress(input, 0, input.length, outLen);
        if (out !== null) expect(out.length).toBe(outLen);
      }),
    );
    // A back reference before the start of the output, and a run longer than the output.
    expect(lzfDecompress(Buffer.from([0x20, 0x00]), 0, 2, 3)).toBeNull();
    expect(lzfDecompress(Buffer.from([0x01, 0x61, 0x62]), 0, 3, 1)).toBeNull();
    expect(lzfDecompress(Buffer.from([0x00, 0x61, 0xe0, 0xff, 0x00]), 0, 5, 10)).toBeNull();
    // Declared length longer than what the stream produces.
    expect(lzfDecompress(Buffer.from([0x00, 0x61]), 0, 2, 2)).toBeNull();
  });
});

describe('listpack', () => {
  it('decodes every encoding (round trip through the test encoder)', () => {
    const lp = encodeListpack(SAMPLE_ITEMS);
    const out: PackedEntry[] = [];
    expect(decodeListpack(lp, 0, lp.length, out)).toBe(SAMPLE_ITEMS.length);
    expect(asText(out)).toEqual(SAMPLE_ITEMS);
    // Integers come back as numbers when they are safe integers, else as their decimal text.
    expect(out[0]).toBe(0);
    expect(out[SAMPLE_ITEMS.indexOf('9223372036854775807')]).toBe('9223372036854775807');
    expect(out[SAMPLE_ITEMS.indexOf('007')]).toBe('007');
  });

  it('round-trips arbitrary strings', () => {
    const item = fc.oneof(
      fc.string({ unit: 'binary-ascii', maxLength: 200 }),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
      fc.integer().map(String),
    );
    fc.assert(
      fc.property(fc.array(item, { maxLength: 50 }), (items) => {
        const lp = encodeListpack(items);
        const out: PackedEntry[] = [];
        decodeListpack(lp, 0, lp.length, out);
        expect(asText(out)).toEqual(items);
      }),
    );
  });

  it('uses the backlen sizes of lpEncodeBacklen', () => {
    expect(
      [127, 128, 16382, 16383, 2097150, 2097151, 268435454, 268435455].map(backlenSize),
    ).toEqual([1, 2, 2, 3, 3, 4, 4, 5]);
  });

  /** `mutate` changes the listpack in place, or returns another buffer to decode instead. */
  const damage = (mutate: (lp: Buffer) => Buffer | undefined, reason: RegExp) => {
    const original = encodeListpack(['a', '1000', 'hello', 'x'.repeat(200)]);
    const lp = mutate(original) ?? original;
    expect(() => decodeListpack(lp, 0, lp.length, [])).toThrow(BlobFormatError);
    expect(() => decodeListpack(lp, 0, lp.length, [])).toThrow(reason);
  };

  it('rejects each kind of damage with a BlobFormatError', () => {
    damage((lp) => lp.subarray(0, 5), /shorter than its header/);
    damage((lp) => void lp.writeUInt32LE(lp.length + 1, 0), /header says/);
    damage((lp) => void (lp[lp.length - 1] = 0), /does not end with 0xFF/);
    damage((lp) => void lp.writeUInt16LE(3, 4), /header says 3 elements but it holds 4/);
    damage((lp) => void (lp[6] = 0xf5), /invalid encoding byte 0xf5/);
    damage((lp) => void (lp[6] = 0x80 | 40), /runs past|backlen/); // string length beyond its entry
    damage((lp) => void (lp[8] = 5), /backlen says 5/); // 'a' entry: 0x81 'a' backlen=2
    damage((lp) => {
      // A 32-bit string length far beyond the blob.
      const bad = Buffer.from(lp);
      bad[6] = 0xf0;
      bad.writeUInt32LE(0x7fffffff, 7);
      return bad;
    }, /runs past the end/);
  });

  it('accepts an unknown (65535) element count', () => {
    const lp = encodeListpack(['a', 'b']);
    lp.writeUInt16LE(0xffff, 4);
    const out: PackedEntry[] = [];
    expect(decodeListpack(lp, 0, lp.length, out)).toBe(2);
  });

  it('never throws anything but BlobFormatError on mutated input', () => {
    const base = encodeListpack(SAMPLE_ITEMS.slice(0, 30));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.nat(255)), { minLength: 1, maxLength: 4 }),
        (flips) => {
          const lp = Buffer.from(base);
          for (const [at, v] of flips) lp[at] = v;
          try {
            decodeListpack(lp, 0, lp.length, []);
          } catch (err) {
            expect(err).toBeInstanceOf(BlobFormatError);
          }
        },
      ),
    );
  });
});

describe('ziplist', () => {
  it('decodes every encoding, including 5-byte prevlen and 32-bit string lengths', () => {
    const zl = encodeZiplist(SAMPLE_ITEMS);
    const out: PackedEntry[] = [];
    expect(decodeZiplist(zl, 0, zl.length, out)).toBe(SAMPLE_ITEMS.length);
    expect(asText(out)).toEqual(SAMPLE_ITEMS);
    const empty = encodeZiplist([]);
    expect(decodeZiplist(empty, 0, empty.length, [])).toBe(0);
  });

  it('rejects each kind of damage with a BlobFormatError', () => {
    const good = encodeZiplist(['a', '5', 'hello', '100000']);
    const bad = (mutate: (zl: Buffer) => void, reason: RegExp) => {
      const zl = Buffer.from(good);
      mutate(zl);
      expect(() => decodeZiplist(zl, 0, zl.length, [])).toThrow(reason);
    };
    bad((zl) => zl.writeUInt32LE(999, 0), /header says 999 bytes/);
    bad((zl) => zl.writeUInt32LE(11, 4), /tail offset 11 does not point at the last entry/);
    bad((zl) => zl.writeUInt32LE(5000, 4), /tail offset 5000 is outside/);
    bad((zl) => zl.writeUInt16LE(7, 8), /header says 7 elements but it holds 4/);
    bad((zl) => (zl[zl.length - 1] = 1), /does not end with 0xFF/);
    bad((zl) => (zl[10] = 9), /previous entry has 9 bytes/);
    bad((zl) => (zl[11] = 0xc5), /invalid encoding byte 0xc5/);
    bad((zl) => (zl[11] = 0x3f), /runs past the end/);
    expect(() => decodeZiplist(Buffer.alloc(4), 0, 4, [])).toThrow(/shorter than its header/);
  });

  it('never throws anything but BlobFormatError on mutated input', () => {
    const base = encodeZiplist(SAMPLE_ITEMS.slice(0, 30));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.nat(255)), { minLength: 1, maxLength: 4 }),
        (flips) => {
          const zl = Buffer.from(base);
          for (const [at, v] of flips) zl[at] = v;
          try {
            decodeZiplist(zl, 0, zl.length, []);
          } catch (err) {
            expect(err).toBeInstanceOf(BlobFormatError);
          }
        },
      ),
    );
  });
});

describe('intset', () => {
  it('decodes 16, 32 and 64-bit intsets', () => {
    for (const [width, values] of [
      [2, [-32768n, -1n, 0n, 7n, 32767n]],
      [4, [-2147483648n, 5n, 2147483647n]],
      [8, [-(2n ** 63n), 0n, 2n ** 63n - 1n]],
    ] as const) {
      const blob = encodeIntset(values, width);
      const out: string[] = [];
      expect(decodeIntset(blob, 0, blob.length, out)).toBe(values.length);
      expect(out).toEqual(values.map(String));
    }
  });

  it('rejects bad widths, sizes and order', () => {
    const blob = encodeIntset([1n, 2n, 3n], 2);
    const bad = (mutate: (b: Buffer) => Buffer | undefined, reason: RegExp) =>
      expect(() => {
        const copy = Buffer.from(blob);
        const b = mutate(copy) ?? copy;
        decodeIntset(b, 0, b.length, []);
      }).toThrow(reason);
    bad((b) => void b.writeUInt32LE(3, 0), /invalid encoding 3/);
    bad((b) => void b.writeUInt32LE(4, 4), /header says 4 elements/);
    bad((b) => void b.writeUInt32LE(0xffffffff, 4), /header says 4294967295 elements/);
    bad((b) => void b.writeInt16LE(9, 8), /not strictly ascending/);
    bad((b) => b.subarray(0, 6), /shorter than its header/);
  });
});

describe('zipmap', () => {
  it('decodes pairs, long lengths and free space', () => {
    const pairs: [string, string][] = [
      ['f1', 'v1'],
      ['long', 'q'.repeat(300)],
      ['', 'empty field'],
    ];
    for (const free of [0, 3]) {
      const zm = encodeZipmap(pairs, free);
      const out: string[] = [];
      expect(decodeZipmap(zm, 0, zm.length, out)).toBe(3);
      expect(out).toEqual(pairs.flat());
    }
  });

  it('rejects damage', () => {
    const zm = encodeZipmap([['a', 'b']]);
    const bad = (mutate: (b: Buffer) => Buffer | undefined, reason: RegExp) =>
      expect(() => {
        const copy = Buffer.from(zm);
        const b = mutate(copy) ?? copy;
        decodeZipmap(b, 0, b.length, []);
      }).toThrow(reason);
    bad((b) => void (b[0] = 2), /header says 2 pairs/);
    bad((b) => void (b[1] = 50), /runs past the end/);
    bad((b) => b.subarray(0, b.length - 1), /runs past the end|does not end/);
  });
});
