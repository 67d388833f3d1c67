// DESIGN: keys and values are binary-safe. Inside the engine every byte string is a JS string whose
// code units are the bytes (0..255), i.e. a "latin1 string" (`Bin`). V8 stores such strings one
// byte per character, Map lookups on them are fast, and comparing two of them with < orders them
// exactly like memcmp orders the bytes, which is what Redis does for lexicographic ranges and
// sorting. Conversions happen only at the API edge (toBin / binToUtf8) and when bytes go to disk.

/** A byte string: each UTF-16 code unit holds one byte (0..255). */
export type Bin = string;

// biome-ignore lint/suspicious/noControlCharactersInRegex: ASCII includes the control bytes
const ASCII_ONLY = /^[\x00-\x7f]*$/;

// Node's Buffer#latin1Slice / #latin1Write: undocumented but present since the first Buffer (as
// binarySlice/binaryWrite before that); looked up once, with the public call as the fallback.
interface Latin1Methods {
  latin1Slice(start: number, end: number): string;
  latin1Write(s: string, offset: number, length: number): number;
}
const hasLatin1Methods =
  typeof (Buffer.prototype as unknown as Partial<Latin1Methods>).latin1Slice === 'function' &&
  typeof (Buffer.prototype as unknown as Partial<Latin1Methods>).latin1Write === 'function';

/**
 * buf[start, end) as a Bin; the caller guarantees 0 <= start <= end <= buf.length.
 * Buffer#toString('latin1', ...) spends about as long checking its arguments and dispatching on
 * the encoding as copying a short string; the AOF and RDB loaders call this for every key,
 * argument and element they read.
 */
export const latin1Slice: (buf: Buffer, start: number, end: number) => Bin = hasLatin1Methods
  ? (buf, start, end) => (buf as Buffer & Latin1Methods).latin1Slice(start, end)
  : (buf, start, end) => buf.toString('latin1', start, end);

/** Write a Bin into buf at offset (room checked by the caller); returns the bytes written. */
export const latin1Write: (buf: Buffer, s: Bin, offset: number) => number = hasLatin1Methods
  ? (buf, s, offset) => (buf as Buffer & Latin1Methods).latin1Write(s, offset, s.length)
  : (buf, s, offset) => buf.write(s, offset, s.length, 'latin1');

/** User string (UTF-8 text), Buffer or number → Bin. ASCII strings pass through unchanged. */
export function toBin(value: string | Buffer | Uint8Array | number | bigint): Bin {
  if (typeof value === 'string') {
    return ASCII_ONLY.test(value) ? value : Buffer.from(value, 'utf8').toString('latin1');
  }
  if (typeof value === 'number' || typeof value === 'bigint') return formatArgNumber(value);
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1');
}

function formatArgNumber(n: number | bigint): string {
  if (typeof n === 'bigint') return n.toString();
  if (Number.isInteger(n)) return Number.isSafeInteger(n) ? String(n) : BigInt(n).toString();
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  return formatDouble17g(n);
}

/** Bin → JS string decoding the bytes as UTF-8 (invalid sequences become U+FFFD). */
export function binToUtf8(b: Bin): string {
  return ASCII_ONLY.test(b) ? b : Buffer.from(b, 'latin1').toString('utf8');
}

export function binToBuffer(b: Bin): Buffer {
  return Buffer.from(b, 'latin1');
}

export function bufferToBin(buf: Uint8Array, start = 0, end = buf.length): Bin {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
}

export const LLONG_MAX = 9223372036854775807n;
export const LLONG_MIN = -9223372036854775808n;

/**
 * Redis `string2ll`: a strict base-10 signed 64-bit integer. No spaces, no '+', no leading zeros
 * (except "0" itself), no "-0", at most 20 characters. Returns null when the string is not one.
 */
export function parseLongLong(s: string): bigint | null {
  const len = s.length;
  if (len === 0 || len > 20) return null;
  if (len === 1 && s.charCodeAt(0) === 48) return 0n;
  let i = 0;
  if (s.charCodeAt(0) === 45) {
    i = 1;
    if (len === 1) return null;
  }
  const first = s.charCodeAt(i);
  if (first < 49 || first > 57) return null; // 1..9: no leading zero, no "-0"
  for (let j = i + 1; j < len; j++) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) return null;
  }
  const v = BigInt(s);
  if (v > LLONG_MAX || v < LLONG_MIN) return null;
  return v;
}

/** Like parseLongLong but returns a JS number; null if not an integer or not a safe integer. */
export function parseSafeInt(s: string): number | null {
  const len = s.length;
  if (len === 0 || len > 16) {
    if (len === 0) return null;
    const big = parseLongLong(s);
    if (
      big === null ||
      big > BigInt(Number.MAX_SAFE_INTEGER) ||
      big < BigInt(Number.MIN_SAFE_INTEGER)
    )
      return null;
    return Number(big);
  }
  if (len === 1) {
    const c = s.charCodeAt(0);
    return c >= 48 && c <= 57 ? c - 48 : null;
  }
  let i = 0;
  let neg = false;
  if (s.charCodeAt(0) === 45) {
    neg = true;
    i = 1;
  }
  const first = s.charCodeAt(i);
  if (first < 49 || first > 57) return null;
  let v = 0;
  for (; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return null;
    v = v * 10 + (c - 48);
  }
  // 16 digits can exceed 2^53: the sum above is then inexact, but it stays above the safe range.
  if (v > Number.MAX_SAFE_INTEGER) return null;
  return neg ? -v : v;
}

/**
 * Redis `string2d`/`strtod` as used by getDoubleFromObject: the whole string must be a float, no
 * leading space, not NaN. Accepts "inf", "+inf", "-inf", "infinity" (case-insensitive), hex floats
 * are not supported (rare). Returns null when invalid.
 */
export function parseDouble(s: string): number | null {
  const len = s.length;
  if (len === 0 || len > 5000) return null;
  const c0 = s.charCodeAt(0);
  // isspace: strtod would skip it, Redis refuses
  if (c0 === 32 || (c0 >= 9 && c0 <= 13)) return null;
  if (!FLOAT_RE.test(s)) {
    const lower = s.toLowerCase();
    if (lower === 'inf' || lower === '+inf' || lower === 'infinity' || lower === '+infinity')
      return Infinity;
    if (lower === '-inf' || lower === '-infinity') return -Infinity;
    return null;
  }
  const v = Number(s);
  return Number.isNaN(v) ? null : v;
}
const FLOAT_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** %.17g by JS's exact rounding, which breaks exact ties upward (C rounds them to even). */
function formatDouble17gNearest(d: number): string {
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  if (Number.isNaN(d)) return 'nan';
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  const exp = d.toExponential(16); // 17 significant digits, exact rounding
  const ePos = exp.indexOf('e');
  const x = Number(exp.slice(ePos + 1));
  if (x < -4 || x >= 17) {
    let mant = exp.slice(0, ePos);
    if (mant.includes('.')) mant = mant.replace(/0+$/, '').replace(/\.$/, '');
    const ax = Math.abs(x);
    return `${mant}e${x < 0 ? '-' : '+'}${ax < 10 ? '0' : ''}${ax}`;
  }
  let fixed = d.toFixed(16 - x);
  if (fixed.includes('.')) fixed = fixed.replace(/0+$/, '').replace(/\.$/, '');
  return fixed;
}

/**
 * Redis addReplyDouble (7.0): printf "%.17g" ("inf"/"-inf" for infinities). On top of the
 * exact-rounding formatter: a fast path for safe integers (printed exactly by both), and glibc's
 * rounding of exact ties. V8's toExponential rounds a tie away from zero, printf rounds it to
 * even, e.g. 562949953421312.125 (18 significant digits, the last a 5) is "562949953421312.12"
 * in Redis. Checked against C's %.17g on 800k doubles, including 57k ties.
 */
export function formatDouble17g(d: number): string {
  if (Number.isSafeInteger(d) && d !== 0) return String(d);
  const s = formatDouble17gNearest(d);
  // integers >= 2^53 are even: no tie
  if (!Number.isFinite(d) || d === 0 || Number.isInteger(d)) return s;
  return roundTieToEven(d) ?? s;
}

/**
 * The %.17g text when `d`'s exact decimal expansion is a tie whose 17th digit is even, else null.
 */
function roundTieToEven(d: number): string | null {
  const e18 = d.toExponential(17); // 18 significant digits, exact when the expansion has 18
  const ePos = e18.indexOf('e');
  if (e18.charCodeAt(ePos - 1) !== 53) return null; // a tie ends in 5
  const exp = Number(e18.slice(ePos + 1));
  // d = N / 2^k exactly; its decimal expansion has k fractional digits, exp + 1 + k in all.
  let k = 0;
  for (let v = Math.abs(d); !Number.isInteger(v); v *= 2) k++;
  if (exp + 1 + k !== 18) return null;
  const neg = d < 0;
  const digits = e18.slice(neg ? 1 : 0, ePos).replace('.', '');
  if ((digits.charCodeAt(16) - 48) % 2 !== 0) return null; // odd: rounding up is right
  return (neg ? '-' : '') + formatG17(digits.slice(0, 17), exp);
}

/** %g layout of 17 significant digits with decimal exponent `exp`: trailing zeros dropped. */
function formatG17(digits: string, exp: number): string {
  const trimmed = digits.replace(/0+$/, '');
  if (exp < -4 || exp >= 17) {
    const mant = trimmed.length > 1 ? `${trimmed[0]}.${trimmed.slice(1)}` : trimmed;
    const ax = Math.abs(exp);
    return `${mant}e${exp < 0 ? '-' : '+'}${ax < 10 ? '0' : ''}${ax}`;
  }
  if (exp < 0) return `0.${'0'.repeat(-exp - 1)}${trimmed}`;
  const intPart = trimmed.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = trimmed.slice(exp + 1);
  return frac.length > 0 ? `${intPart}.${frac}` : intPart;
}

/** Compare two Bin strings as memcmp would: -1, 0, 1. */
export function compareBin(a: Bin, b: Bin): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * An expiry kept as a double, as exact 64-bit text. Expiry times beyond 2^53 ms (year 287396) are
 * stored as the nearest double; the largest ones round up past LLONG_MAX, so they are clamped back
 * to it. This keeps `PXAT 9223372036854775807` exact and every written PEXPIREAT loadable.
 */
export function expireMsToBigInt(ms: number | bigint): bigint {
  const v = BigInt(ms);
  return v > LLONG_MAX ? LLONG_MAX : v;
}

export function formatExpireMs(ms: number | bigint): string {
  return typeof ms === 'number' && Number.isSafeInteger(ms)
    ? String(ms)
    : expireMsToBigInt(ms).toString();
}
