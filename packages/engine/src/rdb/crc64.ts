// CRC-64 as Redis computes it for RDB checksums (Redis crc64.c, "crc64_jones"): the Jones
// polynomial 0xad93d23594c935a9, reflected input and output, initial value 0, no final XOR.
// Check value: crc64(0, "123456789") = 0xe9c6d914c4b8d9ca.
//
// JavaScript has no fast 64-bit integers (BigInt arithmetic allocates), so the register is kept
// as two uint32 halves and the table lookups are split the same way. Slicing-by-8: eight tables
// let one step consume 8 input bytes with 8 lookups instead of 8 dependent table steps; a CRC
// over a multi-GB RDB must not be the bottleneck of loading it.

/**
 * The reflected form of 0xad93d23594c935a9 (bit order reversed), used by the LSB-first algorithm.
 */
const POLY_REFLECTED_HI = 0x95ac9329;
const POLY_REFLECTED_LO = 0xac4bc9b5;

// TABLE_HI[k * 256 + i] / TABLE_LO[...]: the CRC of byte i followed by k zero bytes.
const TABLE_HI = new Int32Array(8 * 256);
const TABLE_LO = new Int32Array(8 * 256);

function buildTables(): void {
  for (let i = 0; i < 256; i++) {
    let hi = 0;
    let lo = i;
    for (let bit = 0; bit < 8; bit++) {
      const lsb = lo & 1;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi = hi >>> 1;
      if (lsb !== 0) {
        hi = (hi ^ POLY_REFLECTED_HI) >>> 0;
        lo = (lo ^ POLY_REFLECTED_LO) >>> 0;
      }
    }
    TABLE_HI[i] = hi;
    TABLE_LO[i] = lo;
  }
  for (let k = 1; k < 8; k++) {
    for (let i = 0; i < 256; i++) {
      const prevHi = TABLE_HI[(k - 1) * 256 + i]!;
      const prevLo = TABLE_LO[(k - 1) * 256 + i]!;
      const idx = prevLo & 0xff;
      // One more zero byte: shift right by 8 and fold the byte that fell out through the table.
      TABLE_LO[k * 256 + i] = (((prevLo >>> 8) | (prevHi << 24)) ^ TABLE_LO[idx]!) >>> 0;
      TABLE_HI[k * 256 + i] = ((prevHi >>> 8) ^ TABLE_HI[idx]!) >>> 0;
    }
  }
}
buildTables();

/** An incremental CRC-64 (Jones) register. */
export class Crc64 {
  private hi = 0;
  private lo = 0;

  /** Feed buf[start, end). */
  update(buf: Uint8Array, start = 0, end = buf.length): void {
    // The halves stay signed int32 inside the loop: `>>> 0` conversions would push V8 off its
    // small-integer fast path (measured: 3-5x slower). Only digest() reads them as unsigned.
    let hi = this.hi;
    let lo = this.lo;
    let i = start;
    const TH = TABLE_HI;
    const TL = TABLE_LO;
    const fastEnd = end - 8;
    while (i <= fastEnd) {
      const l = lo ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
      const h = hi ^ (buf[i + 4]! | (buf[i + 5]! << 8) | (buf[i + 6]! << 16) | (buf[i + 7]! << 24));
      const a = 1792 + (l & 0xff);
      const b = 1536 + ((l >>> 8) & 0xff);
      const c = 1280 + ((l >>> 16) & 0xff);
      const d = 1024 + (l >>> 24);
      const e = 768 + (h & 0xff);
      const f = 512 + ((h >>> 8) & 0xff);
      const g = 256 + ((h >>> 16) & 0xff);
      const k = h >>> 24;
      lo = TL[a]! ^ TL[b]! ^ TL[c]! ^ TL[d]! ^ TL[e]! ^ TL[f]! ^ TL[g]! ^ TL[k]!;
      hi = TH[a]! ^ TH[b]! ^ TH[c]! ^ TH[d]! ^ TH[e]! ^ TH[f]! ^ TH[g]! ^ TH[k]!;
      i += 8;
    }
    for (; i < end; i++) {
      const idx = (lo ^ buf[i]!) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ TL[idx]!;
      hi = (hi >>> 8) ^ TH[idx]!;
    }
    this.hi = hi | 0;
    this.lo = lo | 0;
  }

  /** The register as an unsigned 64-bit value. */
  digest(): bigint {
    return (BigInt(this.hi >>> 0) << 32n) | BigInt(this.lo >>> 0);
  }

  /** The register in the byte order the RDB stores it (little-endian, Redis memrev64ifbe). */
  digestBytes(): Buffer {
    const out = Buffer.allocUnsafe(8);
    out.writeInt32LE(this.lo, 0);
    out.writeInt32LE(this.hi, 4);
    return out;
  }

  /** True when the register equals the 8 little-endian bytes at buf[offset]. */
  matches(buf: Uint8Array, offset: number): boolean {
    const lo =
      buf[offset]! | (buf[offset + 1]! << 8) | (buf[offset + 2]! << 16) | (buf[offset + 3]! << 24);
    const hi =
      buf[offset + 4]! |
      (buf[offset + 5]! << 8) |
      (buf[offset + 6]! << 16) |
      (buf[offset + 7]! << 24);
    return lo === this.lo && hi === this.hi;
  }
}

/** Redis crc64(crc, s, l) for a fresh register (crc = 0). */
export function crc64(buf: Uint8Array, start = 0, end = buf.length): bigint {
  const c = new Crc64();
  c.update(buf, start, end);
  return c.digest();
}
