// The loader reads the same few command names ("SET", "HSET", "MULTI"...) millions of times.
// Making a fresh string of each costs a native call (latin1Slice) and a new string whose hash
// lookupCommand must compute again. This cache hands back one string per distinct name: the bytes
// are hashed in JS, the candidate is checked byte for byte, and only a miss slices. Bounded, since
// a damaged or hostile file can name anything.

import { latin1Slice, type Bin } from '../bytes.ts';

/** Names longer than this are sliced every time (no command name is this long). */
export const MAX_NAME_BYTES = 24;
/** Distinct names kept; later ones are sliced every time. */
export const MAX_NAMES = 256;

export class CommandNameCache {
  private readonly byHash = new Map<number, Bin>();

  /** buf[start, start + len) as a Bin; the same string object for the same bytes while cached. */
  get(buf: Buffer, start: number, len: number): Bin {
    if (len > MAX_NAME_BYTES) return latin1Slice(buf, start, start + len);
    const h = hashNameBytes(buf, start, len);
    const cached = this.byHash.get(h);
    if (cached !== undefined && sameBytes(cached, buf, start, len)) return cached;
    const name = latin1Slice(buf, start, start + len);
    // A colliding name is not cached (the first one keeps the slot): still correct, just sliced.
    if (cached === undefined && this.byHash.size < MAX_NAMES) this.byHash.set(h, name);
    return name;
  }
}

/** FNV-1a over the bytes, seeded with the length (exported for the collision test). */
export function hashNameBytes(buf: Uint8Array, start: number, len: number): number {
  let h = 0x811c9dc5 ^ len;
  for (let i = 0; i < len; i++) h = Math.imul(h ^ buf[start + i]!, 0x01000193);
  return h;
}

function sameBytes(s: Bin, buf: Uint8Array, start: number, len: number): boolean {
  if (s.length !== len) return false;
  for (let i = 0; i < len; i++) if (s.charCodeAt(i) !== buf[start + i]) return false;
  return true;
}
