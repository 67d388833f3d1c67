// The loader's command-name cache must never change what a name reads as: whatever the bytes
// (collisions, long names, more names than it keeps), get() is latin1Slice of them. Being a cache
// is checked too: the same bytes give back the same string object.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CommandNameCache,
  MAX_NAMES,
  MAX_NAME_BYTES,
  hashNameBytes,
} from '../../src/aof/command-name-cache.ts';

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');

/** `name` at an offset inside a larger buffer, as the loader's read window holds it. */
function framed(name: Uint8Array): { buf: Buffer; start: number } {
  const buf = Buffer.alloc(name.length + 7, 0x2a);
  buf.set(name, 3);
  return { buf, start: 3 };
}

describe('CommandNameCache', () => {
  it('returns the bytes as a Bin, the same string object each time for the same name', () => {
    const cache = new CommandNameCache();
    const a = framed(Buffer.from('SET'));
    const b = framed(Buffer.from('SET'));
    const first = cache.get(a.buf, a.start, 3);
    expect(first).toBe('SET');
    expect(cache.get(b.buf, b.start, 3)).toBe(first);
    expect(cache.get(framed(Buffer.from('set')).buf, 3, 3)).toBe('set');
  });

  it('keeps two names whose hashes collide apart', () => {
    // Birthday search over random 6-byte names: 300k of them in a 32-bit hash space hold about
    // ten colliding pairs. Seeded, so the run is reproducible.
    let seed = 0x2545f491;
    const next = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    const seen = new Map<number, Uint8Array>();
    let pair: [Uint8Array, Uint8Array] | null = null;
    for (let n = 0; n < 2_000_000 && pair === null; n++) {
      const a = next();
      const b = next();
      const name = Uint8Array.of(
        a & 0xff,
        (a >> 8) & 0xff,
        (a >> 16) & 0xff,
        a >>> 24,
        b & 0xff,
        (b >> 8) & 0xff,
      );
      const h = hashNameBytes(name, 0, name.length);
      const other = seen.get(h);
      if (other !== undefined && latin1(other) !== latin1(name)) pair = [other, name];
      else seen.set(h, name);
    }
    expect(pair).not.toBeNull();
    const [x, y] = pair!.map((b) => Buffer.from(b)) as [Buffer, Buffer];
    expect(hashNameBytes(x, 0, 6)).toBe(hashNameBytes(y, 0, 6));
    const cache = new CommandNameCache();
    for (let round = 0; round < 2; round++) {
      expect(cache.get(x, 0, 6)).toBe(latin1(x));
      expect(cache.get(y, 0, 6)).toBe(latin1(y));
    }
  });

  it('stays correct past its bounds: long names and more distinct names than it keeps', () => {
    const cache = new CommandNameCache();
    const long = Buffer.from('x'.repeat(MAX_NAME_BYTES + 1));
    expect(cache.get(long, 0, long.length)).toBe(long.toString('latin1'));
    for (let i = 0; i < MAX_NAMES * 2; i++) {
      const name = Buffer.from(`cmd${i}`);
      expect(cache.get(name, 0, name.length)).toBe(`cmd${i}`);
    }
    // A name cached before the cache filled up is still served.
    const early = Buffer.from('cmd0');
    expect(cache.get(early, 0, 4)).toBe('cmd0');
  });

  it('reads any bytes exactly like latin1Slice (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 30 }), { maxLength: 40 }), (names) => {
        const cache = new CommandNameCache();
        for (const round of [0, 1]) {
          for (const name of names) {
            const { buf, start } = framed(name);
            expect(cache.get(buf, start, name.length), `round ${round}`).toBe(latin1(name));
          }
        }
      }),
    );
  });
});
