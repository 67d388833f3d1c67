// SetMembers: the member collection of a set value, with the Set<Bin> API plus O(1) random access.
//
// Two encodings, mirroring Redis 7.0 (t_set.c setTypeCreate/setTypeAdd/setTypeConvert):
//   - intset: every member is a canonical 64-bit integer and there are at most
//     set-max-intset-entries (512) of them. Members are kept sorted by numeric value, which is the
//     order Redis replies in (SMEMBERS, SUNION, SRANDMEMBER with a big count ...) and the only set
//     order clients can rely on. Lookup is a binary search; insertion shifts, like intsetAdd.
//   - hashtable: a dense array plus member → index map. Removal swaps the last member into the
//     hole, so the array stays dense and a random member is one index away (SPOP, SRANDMEMBER).
//     Redis's hashtable order is seeded per process, so no order here can match it.
// The conversion to hashtable is one-way, as in Redis: removing the non-integer members later does
// not bring the intset back; only building a new set (SINTERSTORE, SPOP's rebuild ...) does.
//
// Unlike a JS Set, do not add or delete members while iterating: a removal moves another member
// into the visited slot.

import type { Bin } from '../bytes.ts';

/** Redis set-max-intset-entries default. */
export const SET_MAX_INTSET_ENTRIES = 512;

export class SetMembers implements Set<Bin> {
  /** The members; sorted by integer value while the encoding is intset. */
  private items: Bin[] = [];
  /** member → position in `items`; null while the encoding is intset. */
  private index: Map<Bin, number> | null = null;

  get size(): number {
    return this.items.length;
  }

  get encoding(): 'intset' | 'hashtable' {
    return this.index === null ? 'intset' : 'hashtable';
  }

  has(member: Bin): boolean {
    if (this.index !== null) return this.index.has(member);
    return isIntsetValue(member) && this.search(member) >= 0;
  }

  add(member: Bin): this {
    this.addMember(member);
    return this;
  }

  /** Redis setTypeAdd: true when the member was not there before. */
  addMember(member: Bin): boolean {
    const index = this.index;
    if (index !== null) {
      if (index.has(member)) return false;
      index.set(member, this.items.length);
      this.items.push(member);
      return true;
    }
    if (!isIntsetValue(member)) {
      this.convertToHashtable();
      return this.addMember(member);
    }
    const pos = this.search(member);
    if (pos >= 0) return false;
    this.items.splice(-pos - 1, 0, member);
    if (this.items.length > SET_MAX_INTSET_ENTRIES) this.convertToHashtable();
    return true;
  }

  delete(member: Bin): boolean {
    const index = this.index;
    if (index !== null) {
      const i = index.get(member);
      if (i === undefined) return false;
      index.delete(member);
      const last = this.items.pop()!;
      if (i < this.items.length) {
        this.items[i] = last;
        index.set(last, i);
      }
      return true;
    }
    if (!isIntsetValue(member)) return false;
    const pos = this.search(member);
    if (pos < 0) return false;
    this.items.splice(pos, 1);
    return true;
  }

  clear(): void {
    this.items = [];
    if (this.index !== null) this.index.clear();
  }

  /** Member at position 0 <= i < size (iteration order). */
  at(i: number): Bin | undefined {
    return this.items[i];
  }

  /** A uniformly chosen member (Redis setTypeRandomElement); undefined when empty. */
  random(random: () => number): Bin | undefined {
    const n = this.items.length;
    if (n === 0) return undefined;
    return this.items[Math.min(n - 1, Math.floor(random() * n))];
  }

  /** The members in iteration order, as a new array. */
  toArray(): Bin[] {
    return this.items.slice();
  }

  /** An independent copy with the same encoding (Redis setTypeDup). */
  clone(): SetMembers {
    const copy = new SetMembers();
    copy.items = this.items.slice();
    copy.index = this.index === null ? null : new Map(this.index);
    return copy;
  }

  forEach(callback: (value: Bin, key: Bin, set: Set<Bin>) => void, thisArg?: unknown): void {
    for (const m of this.items) callback.call(thisArg, m, m, this);
  }

  values(): SetIterator<Bin> {
    return this.items.values();
  }

  keys(): SetIterator<Bin> {
    return this.items.values();
  }

  entries(): SetIterator<[Bin, Bin]> {
    return this.items.map((m): [Bin, Bin] => [m, m]).values();
  }

  [Symbol.iterator](): SetIterator<Bin> {
    return this.items.values();
  }

  /**
   * Members in an order that survives changes (for SSCAN): a hashtable set's member → index map
   * iterates in insertion order and its iterator skips deletions and reaches later additions,
   * whereas `items` moves a member into a removed one's slot. Null for an intset (SSCAN returns
   * it whole, as Redis does).
   */
  stableMembers(): MapIterator<Bin> | null {
    return this.index === null ? null : this.index.keys();
  }

  get [Symbol.toStringTag](): string {
    return 'SetMembers';
  }

  /** Redis setTypeConvert(OBJ_ENCODING_HT). */
  private convertToHashtable(): void {
    const index = new Map<Bin, number>();
    const items = this.items;
    for (let i = 0; i < items.length; i++) index.set(items[i]!, i);
    this.index = index;
  }

  /** Binary search in the sorted intset: the position, or -(insertion point + 1). */
  private search(member: Bin): number {
    const items = this.items;
    let lo = 0;
    let hi = items.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const cmp = compareIntText(items[mid]!, member);
      if (cmp === 0) return mid;
      if (cmp < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -(lo + 1);
  }
}

/**
 * Redis isSdsRepresentableAsLongLong (string2ll): a canonical signed 64-bit decimal integer; no
 * sign other than a leading '-', no leading zeros, no "-0". Written without BigInt: SADD calls it
 * for every member of an intset.
 */
export function isIntsetValue(s: Bin): boolean {
  const len = s.length;
  if (len === 0 || len > 20) return false;
  const neg = s.charCodeAt(0) === 45;
  const start = neg ? 1 : 0;
  if (start === len) return false;
  const first = s.charCodeAt(start);
  if (first === 48) return len === 1; // "0" alone; "01", "-0" are not integers for Redis
  if (first < 49 || first > 57) return false;
  for (let i = start + 1; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  const digits = len - start;
  if (digits < 19) return true;
  if (digits > 19) return false;
  // 19 digits: compare with |LLONG_MIN| / LLONG_MAX as strings of equal length.
  return neg ? s.slice(1) <= '9223372036854775808' : s <= '9223372036854775807';
}

/** Numeric order of two canonical integer strings, without parsing them. */
function compareIntText(a: Bin, b: Bin): number {
  const aNeg = a.charCodeAt(0) === 45;
  const bNeg = b.charCodeAt(0) === 45;
  if (aNeg !== bNeg) return aNeg ? -1 : 1;
  // Same sign: more digits means larger magnitude; equal length compares like the digits do.
  // For negatives a larger magnitude is the smaller number, hence the flip.
  if (a.length !== b.length) return a.length < b.length !== aNeg ? -1 : 1;
  if (a === b) return 0;
  return a < b !== aNeg ? -1 : 1;
}
