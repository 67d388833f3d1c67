// An insert-only set of Bin strings for the rewrite snapshot's "already written" keys.
//
// Why not a Set<Bin>: a Set that grows to a million keys reallocates its hash table a dozen
// times (~40 MB of large objects in all for 1M keys) and the last rehashes copy hundreds of
// thousands of entries in one go, a 10-20 ms stall in the middle of the walk. This set sizes its
// table once from the key count it is told to expect, keeps the probe table off the JS heap
// (Int32Array) and the keys in fixed pages of a plain array, so adding a key allocates nothing
// but a page every PAGE_SIZE keys. It grows (one rehash) only past 3/4 of its table, i.e. when
// far more keys are added than expected.
//
// Open addressing with linear probing; a slot holds 1 + the key's insertion index, 0 = empty.
// Keys are compared with ===, so a hash collision costs a probe, never a wrong answer.

import type { Bin } from '../../bytes.ts';

const PAGE_BITS = 14;
const PAGE_SIZE = 1 << PAGE_BITS;
const MIN_TABLE = 1 << 10;

/** FNV-1a over the code units, with a final avalanche step (the table uses the low bits). */
function hashBin(s: Bin): number {
  let h = 0x811c9dc5 ^ s.length;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
}

export class InsertOnlyBinSet {
  private table: Int32Array;
  private mask: number;
  private readonly pages: Bin[][] = [];
  private count = 0;

  constructor(expectedKeys: number) {
    let cap = MIN_TABLE;
    while (cap < expectedKeys * 2) cap *= 2;
    this.table = new Int32Array(cap);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Rough bytes held: the probe table plus the key pages' slots (the keys are shared). */
  get bytes(): number {
    return this.table.byteLength + this.pages.length * PAGE_SIZE * 8;
  }

  /** Add `key`; false when it was already there. */
  add(key: Bin): boolean {
    const table = this.table;
    let i = hashBin(key) & this.mask;
    for (; ; i = (i + 1) & this.mask) {
      const slot = table[i]!;
      if (slot === 0) break;
      if (this.keyAt(slot - 1) === key) return false;
    }
    const index = this.count++;
    const page = index >>> PAGE_BITS;
    if (page === this.pages.length) this.pages.push(new Array<Bin>(PAGE_SIZE));
    this.pages[page]![index & (PAGE_SIZE - 1)] = key;
    table[i] = index + 1;
    if (this.count * 4 > table.length * 3) this.grow();
    return true;
  }

  private keyAt(index: number): Bin {
    return this.pages[index >>> PAGE_BITS]![index & (PAGE_SIZE - 1)]!;
  }

  private grow(): void {
    const table = new Int32Array(this.table.length * 2);
    const mask = table.length - 1;
    for (let index = 0; index < this.count; index++) {
      let i = hashBin(this.keyAt(index)) & mask;
      while (table[i] !== 0) i = (i + 1) & mask;
      table[i] = index + 1;
    }
    this.table = table;
    this.mask = mask;
  }
}
