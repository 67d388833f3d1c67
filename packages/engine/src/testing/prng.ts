// A small seeded PRNG for simulations and tests: sfc32 (Chris Doty-Humphrey's Small Fast Chaotic
// generator, 128-bit state, a good PractRand record), seeded through splitmix32 so that nearby
// seeds (1, 2, 3 ...) give unrelated streams. Not cryptographic. The point is replay: the same seed
// always yields the same sequence on every platform, so a failing simulation is reproduced by its
// seed alone (print it on failure, accept SEED= to replay).
//
// Every helper consumes a fixed number of draws that does not depend on its arguments' values
// where possible (chance(0) still draws), so changing one probability in a configuration does not
// shift every later decision of a run.

import assert from 'node:assert/strict';

const kTwoPow32 = 0x1_0000_0000;

export interface Prng {
  /** The seed this generator was created with. */
  readonly seed: number;
  /** Uniform integer in [0, 2^32). */
  nextUint32(): number;
  /** Uniform float in [0, 1), 32 bits of resolution. */
  nextFloat(): number;
  /** Uniform integer in [0, maxExclusive), unbiased; 1 <= maxExclusive <= 2^32. */
  nextInt(maxExclusive: number): number;
  /** Uniform integer in [minInclusive, maxInclusive]. */
  nextIntBetween(minInclusive: number, maxInclusive: number): number;
  /** True with the given probability (0..1). Always consumes one draw. */
  chance(probability: number): boolean;
  /** A uniformly chosen element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T>(items: T[]): T[];
  /** `length` random bytes. */
  nextBytes(length: number): Uint8Array;
  /** An independent generator seeded from this one (for a sub-component's own stream). */
  fork(): Prng;
}

/** seed: a non-negative safe integer (all 53 bits are used). */
export function createPrng(seed: number): Prng {
  return new Sfc32(seed);
}

// splitmix32 (a 32-bit finaliser in the style of splitmix64): spreads seed bits over the state.
function splitmix32(state: { value: number }): number {
  state.value = (state.value + 0x9e3779b9) | 0;
  let z = state.value;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

class Sfc32 implements Prng {
  readonly seed: number;
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    const valid = Number.isSafeInteger(seed) && seed >= 0;
    assert(valid, `seed must be a non-negative safe integer: ${seed}`);
    this.seed = seed;
    const low = seed >>> 0;
    const high = Math.floor(seed / kTwoPow32) >>> 0;
    // One splitmix32 stream per half: a single step is a bijection, so `a` determines the low half
    // and `b` the high half, and distinct seeds can never share a stream.
    const lowMixer = { value: low };
    const highMixer = { value: high ^ 0x6a09e667 };
    this.#a = splitmix32(lowMixer);
    this.#b = splitmix32(highMixer);
    this.#c = (splitmix32(lowMixer) ^ splitmix32(highMixer)) >>> 0;
    this.#d = 1; // sfc32's counter; starting it at 1 is the reference seeding.
    // Discard the first outputs so the state is fully mixed (PractRand's seeding does 12 rounds).
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  nextFloat(): number {
    return this.nextUint32() / kTwoPow32;
  }

  nextInt(maxExclusive: number): number {
    assert(Number.isSafeInteger(maxExclusive), `maxExclusive must be an integer: ${maxExclusive}`);
    const inRange = maxExclusive >= 1 && maxExclusive <= kTwoPow32;
    assert(inRange, `maxExclusive out of range: ${maxExclusive}`);
    // Rejection sampling: drop the top partial bucket so every result is equally likely.
    const limit = kTwoPow32 - (kTwoPow32 % maxExclusive);
    for (;;) {
      const value = this.nextUint32();
      if (value < limit) return value % maxExclusive;
    }
  }

  nextIntBetween(minInclusive: number, maxInclusive: number): number {
    assert(Number.isSafeInteger(minInclusive) && Number.isSafeInteger(maxInclusive));
    assert(minInclusive <= maxInclusive, `empty range [${minInclusive}, ${maxInclusive}]`);
    return minInclusive + this.nextInt(maxInclusive - minInclusive + 1);
  }

  chance(probability: number): boolean {
    assert(probability >= 0 && probability <= 1, `probability must be in [0, 1]: ${probability}`);
    return this.nextFloat() < probability;
  }

  pick<T>(items: readonly T[]): T {
    assert(items.length > 0, 'pick() needs a non-empty array');
    return items[this.nextInt(items.length)] as T;
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const held = items[i] as T;
      items[i] = items[j] as T;
      items[j] = held;
    }
    return items;
  }

  nextBytes(length: number): Uint8Array {
    const valid = Number.isSafeInteger(length) && length >= 0;
    assert(valid, `length must be a non-negative integer: ${length}`);
    const bytes = new Uint8Array(length);
    for (let i = 0; i < length; i += 4) {
      let word = this.nextUint32();
      for (let k = i; k < Math.min(i + 4, length); k++) {
        bytes[k] = word & 0xff;
        word >>>= 8;
      }
    }
    return bytes;
  }

  fork(): Prng {
    // 21 + 32 bits: the child's seed stays a safe integer.
    const high = this.nextUint32() >>> 11;
    return new Sfc32(high * kTwoPow32 + this.nextUint32());
  }
}
