// LZF, the compressor Redis uses for RDB strings (rdbcompression yes; Redis lzf_c.c / lzf_d.c by
// Marc Lehmann). Written from the format:
//   control byte c < 32:   a literal run of c + 1 bytes follows;
//   otherwise:             a back reference: length = c >> 5 (7 means "add the next byte"), plus 2;
//                          distance = ((c & 0x1f) << 8 | next byte) + 1, counted back from the
//                          current output end. The copy may overlap its own output (run-length).
// Decompression is fully bounds-checked: a reference before the start of the output, a run past
// either end, or an output of a different length than declared is an error (null), never a
// read or write out of range. Redis (rdbLoadLzfStringObject) requires the exact declared length.

/** lzf_decompress into exactly `outLen` bytes; null when the input is corrupt. */
export function lzfDecompress(
  input: Uint8Array,
  start: number,
  end: number,
  outLen: number,
): Buffer | null {
  const out = Buffer.allocUnsafe(outLen);
  let ip = start;
  let op = 0;
  while (ip < end) {
    const ctrl = input[ip++]!;
    if (ctrl < 32) {
      const run = ctrl + 1;
      if (op + run > outLen || ip + run > end) return null;
      // Literal runs are at most 32 bytes: a loop beats copy()'s call overhead here.
      for (let k = 0; k < run; k++) out[op++] = input[ip++]!;
      continue;
    }
    let len = ctrl >>> 5;
    if (len === 7) {
      if (ip >= end) return null;
      len += input[ip++]!;
    }
    if (ip >= end) return null;
    const distance = ((ctrl & 0x1f) << 8) + input[ip++]! + 1;
    len += 2;
    let ref = op - distance;
    if (ref < 0 || op + len > outLen) return null;
    for (let k = 0; k < len; k++) out[op++] = out[ref++]!;
  }
  return op === outLen ? out : null;
}

/** Redis LZF parameters: 2^16 hash slots, literal runs up to 32, references up to 8 KiB back. */
const HASH_LOG = 16;
const HASH_SIZE = 1 << HASH_LOG;
const MAX_LIT = 1 << 5;
const MAX_OFF = 1 << 13;
const MAX_REF = (1 << 8) + (1 << 3);

let hashTable: Int32Array | null = null;

/**
 * lzf_compress: compress input[start, end) into at most `maxOut` bytes. Returns null when the
 * result would not fit (the caller then stores the string uncompressed, as Redis does).
 * Any valid LZF stream is acceptable to the decoder, so this greedy single-pass matcher does not
 * need to produce Redis's exact bytes; it only needs to be correct and reasonably effective.
 */
export function lzfCompress(
  input: Uint8Array,
  start: number,
  end: number,
  maxOut: number,
  scratch?: Buffer,
): Buffer | null {
  const inLen = end - start;
  if (inLen <= 0 || maxOut <= 0) return null;
  // `scratch` (at least maxOut bytes) avoids an allocation per call; the result is then a view of
  // it.
  const out =
    scratch !== undefined && scratch.length >= maxOut ? scratch : Buffer.allocUnsafe(maxOut);
  // Positions are stored + 1 so that 0 means "empty". The table is not cleared between calls
  // (that would cost a 256 KiB memset per string): a stale entry is only used if it lies before
  // `ip` within this input and its 3 bytes match, so it is then a genuine match in this input.
  const table = (hashTable ??= new Int32Array(HASH_SIZE));
  let op = 1; // out[0] is reserved for the first literal run's control byte
  let litStart = 0; // index in `out` of the current literal run's control byte
  let lit = 0;
  let ip = start;
  const matchEnd = end - 2; // a match needs 3 bytes
  while (ip < end) {
    // The last two bytes cannot start a match (it needs 3): they can only be literals.
    if (ip < matchEnd) {
      const h = hash3(input, ip);
      const candidate = table[h]! - 1;
      table[h] = ip + 1;
      const distance = ip - candidate - 1;
      if (
        candidate >= start &&
        distance >= 0 &&
        distance < MAX_OFF &&
        input[candidate] === input[ip] &&
        input[candidate + 1] === input[ip + 1] &&
        input[candidate + 2] === input[ip + 2]
      ) {
        let len = 3;
        const maxLen = Math.min(MAX_REF, end - ip);
        while (len < maxLen && input[candidate + len] === input[ip + len]) len++;
        // Close the pending literal run (drop its control byte if empty), then emit the reference.
        if (lit === 0) op--;
        else out[litStart] = lit - 1;
        const code = len - 2;
        const need = code < 7 ? 2 : 3;
        if (op + need + 1 > maxOut) return null;
        if (code < 7) {
          out[op++] = (code << 5) | (distance >>> 8);
        } else {
          out[op++] = (7 << 5) | (distance >>> 8);
          out[op++] = code - 7;
        }
        out[op++] = distance & 0xff;
        litStart = op++;
        lit = 0;
        // Index the positions inside the match so later data can refer into it.
        const stop = Math.min(ip + len, matchEnd);
        for (let p = ip + 1; p < stop; p++) table[hash3(input, p)] = p + 1;
        ip += len;
        continue;
      }
    }
    if (op >= maxOut) return null;
    out[op++] = input[ip++]!;
    if (++lit === MAX_LIT) {
      out[litStart] = MAX_LIT - 1;
      if (op >= maxOut) return null;
      litStart = op++;
      lit = 0;
    }
  }
  if (lit === 0) op--;
  else out[litStart] = lit - 1;
  return out.subarray(0, op);
}

function hash3(input: Uint8Array, p: number): number {
  const v = (input[p]! << 16) | (input[p + 1]! << 8) | input[p + 2]!;
  return (Math.imul(v, 0x9e3779b1) >>> (32 - HASH_LOG)) & (HASH_SIZE - 1);
}
