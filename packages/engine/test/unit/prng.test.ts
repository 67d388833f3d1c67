import { describe, expect, it } from 'vitest';
import { createPrng } from '../../src/testing/prng.ts';

describe('prng (sfc32 seeded through splitmix32)', () => {
  it('is pinned: seed 1 always yields the same first outputs (replays stay valid)', () => {
    const prng = createPrng(1);
    const outputs = [prng.nextUint32(), prng.nextUint32(), prng.nextUint32(), prng.nextUint32()];
    expect(outputs).toEqual([580066920, 3938386327, 1223119387, 3759793642]);
  });

  it('replays: the same seed gives the same sequence across every helper', () => {
    const run = (seed: number) => {
      const prng = createPrng(seed);
      return [
        prng.nextFloat(),
        prng.nextInt(7),
        prng.nextIntBetween(-3, 3),
        prng.chance(0.5),
        prng.pick(['a', 'b', 'c']),
        prng.shuffle([1, 2, 3, 4, 5]),
        [...prng.nextBytes(6)],
        prng.fork().nextUint32(),
      ];
    };
    expect(run(1234)).toEqual(run(1234));
    expect(run(1234)).not.toEqual(run(1235));
  });

  it('uses every bit of the seed: seeds differing only above bit 32 differ', () => {
    const first = (seed: number) => createPrng(seed).nextUint32();
    expect(first(2 ** 32)).not.toBe(first(0));
    expect(first(2 ** 52 + 1)).not.toBe(first(1));
    expect(createPrng(Number.MAX_SAFE_INTEGER).seed).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('keeps helpers in range and roughly uniform', () => {
    const prng = createPrng(99);
    const counts = [0, 0, 0, 0, 0];
    for (let i = 0; i < 50_000; i++) {
      const value = prng.nextInt(5);
      counts[value] = (counts[value] ?? 0) + 1;
      const float = prng.nextFloat();
      expect(float >= 0 && float < 1).toBe(true);
    }
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(500);
    expect(prng.nextInt(1)).toBe(0);
    expect(prng.nextInt(2 ** 32)).toBeLessThan(2 ** 32);
  });

  it('chance(0) is never true, chance(1) always, and both consume one draw', () => {
    const a = createPrng(5);
    const b = createPrng(5);
    expect(a.chance(0)).toBe(false);
    expect(b.chance(1)).toBe(true);
    expect(a.nextUint32()).toBe(b.nextUint32());
  });

  it('rejects bad arguments as programmer errors', () => {
    const prng = createPrng(1);
    expect(() => createPrng(-1)).toThrow();
    expect(() => createPrng(1.5)).toThrow();
    expect(() => prng.nextInt(0)).toThrow();
    expect(() => prng.nextInt(2 ** 32 + 1)).toThrow();
    expect(() => prng.pick([])).toThrow();
    expect(() => prng.chance(1.5)).toThrow();
  });
});
