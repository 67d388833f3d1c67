// Uniform random access to a db's keys (Redis dictGetFairRandomKey, for RANDOMKEY), which a JS
// Map cannot give: a dense array of the keys plus key → position. Removal moves the last key into
// the hole, so the array stays dense and a pick is one index. A Db builds it on the first
// RANDOMKEY (O(n) once) and keeps it up to date from then on, so a keyspace nobody samples pays
// neither the memory nor the upkeep.

import type { Bin } from '../bytes.ts';

export class KeySampler {
  private readonly keys: Bin[] = [];
  private readonly pos = new Map<Bin, number>();

  static of(keys: Iterable<Bin>): KeySampler {
    const sampler = new KeySampler();
    for (const key of keys) sampler.add(key);
    return sampler;
  }

  get size(): number {
    return this.keys.length;
  }

  add(key: Bin): void {
    if (this.pos.has(key)) return;
    this.pos.set(key, this.keys.length);
    this.keys.push(key);
  }

  delete(key: Bin): void {
    const i = this.pos.get(key);
    if (i === undefined) return;
    this.pos.delete(key);
    const last = this.keys.pop()!;
    if (i < this.keys.length) {
      this.keys[i] = last;
      this.pos.set(last, i);
    }
  }

  /** The key at uniform position `r` in [0, 1); undefined when empty. */
  pick(r: number): Bin | undefined {
    return this.keys[Math.floor(r * this.keys.length)];
  }
}
