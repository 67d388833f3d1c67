// DESIGN: an exact software model of the x87 80-bit `long double` that Redis 7.0 (built for x86-64
// Linux) uses for INCRBYFLOAT and HINCRBYFLOAT. Redis parses with strtold (util.c string2ld), adds
// two long doubles, and prints with "%.17Lf" followed by trailing-zero removal (util.c ld2string,
// LD_STR_HUMAN). JS numbers are 64-bit doubles, so `10.5 + 5000` style sums would print different
// digits; here every value is kept as sign × mantissa × 2^exp with a 64-bit mantissa, and each
// step (decimal → binary, addition, binary → decimal) is done exactly with BigInt and then rounded
// once, round-half-to-even, as glibc and the x87 FPU do in the default rounding mode.
//
// x87 extended format facts used below: 64-bit significand with an explicit integer bit, so a
// normal value is m × 2^e with 2^63 ≤ m < 2^64; the smallest normal is 2^-16382, subnormals go down
// to 2^-16445 (m < 2^63 at the minimum exponent), and values ≥ 2^16384 overflow to infinity.

import { ERR, fail } from '../reply.ts';

/** A long double: finite (value = (-1)^neg × mant × 2^exp, 0 ≤ mant < 2^64), ±infinity or NaN. */
export type LongDouble =
  | { readonly kind: 'finite'; readonly neg: boolean; readonly mant: bigint; readonly exp: number }
  | { readonly kind: 'inf'; readonly neg: boolean }
  | { readonly kind: 'nan' };

const MANT_BITS = 64;
/** Exponent (of the mantissa's lowest bit) of subnormals and of the smallest normal numbers. */
const MIN_EXP = -16445;
/** m × 2^e overflows when bitLength(m) + e exceeds this (the value would be ≥ 2^16384). */
const MAX_BINARY_MAGNITUDE = 16384;
/** Redis util.h MAX_LONG_DOUBLE_CHARS: string2ld refuses strings of this length or longer. */
const MAX_LONG_DOUBLE_CHARS = 5 * 1024;
/** Digits printed after the point by "%.17Lf". */
const FRACTION_DIGITS = 17;
const TEN_POW_FRACTION = 10n ** BigInt(FRACTION_DIGITS);

const ZERO: LongDouble = { kind: 'finite', neg: false, mant: 0n, exp: 0 };

export function isFiniteLongDouble(v: LongDouble): boolean {
  return v.kind === 'finite';
}

/** Number of significant bits of a non-negative bigint (0 for 0n). */
function bitLength(n: bigint): number {
  if (n === 0n) return 0;
  // toString(16) is linear and cheap; every hex digit but the first holds exactly 4 bits.
  const hex = n.toString(16);
  return (hex.length - 1) * 4 + (32 - Math.clz32(parseInt(hex[0]!, 16)));
}

/**
 * Round the exact value (n + δ) × 2^e, where 0 ≤ δ < 1 and `sticky` says whether δ > 0, to the
 * nearest long double, ties to even, with gradual underflow and overflow to infinity.
 * When `sticky` is true, n must carry at least MANT_BITS + 2 bits so that δ only breaks ties.
 */
function roundToLongDouble(neg: boolean, n: bigint, e: number, sticky: boolean): LongDouble {
  if (n === 0n) return { kind: 'finite', neg, mant: 0n, exp: 0 };
  const bits = bitLength(n);
  // Drop enough low bits to fit 64 bits, but never go below the subnormal exponent.
  const shift = Math.max(bits - MANT_BITS, MIN_EXP - e);
  let mant = n;
  let exp = e;
  if (shift > 0) {
    // below half the smallest subnormal
    if (shift > bits) return { kind: 'finite', neg, mant: 0n, exp: 0 };
    const s = BigInt(shift);
    mant = n >> s;
    const rest = n - (mant << s);
    const half = 1n << (s - 1n);
    if (rest > half || (rest === half && (sticky || (mant & 1n) === 1n))) mant += 1n;
    exp = e + shift;
    if (mant >> BigInt(MANT_BITS) !== 0n) {
      mant >>= 1n; // rounding carried into a 65th bit: 2^64 × 2^exp = 2^63 × 2^(exp+1)
      exp += 1;
    }
  }
  if (mant === 0n) return { kind: 'finite', neg, mant: 0n, exp: 0 };
  if (bitLength(mant) + exp > MAX_BINARY_MAGNITUDE) return { kind: 'inf', neg };
  return { kind: 'finite', neg, mant, exp };
}

// ---- Parsing: glibc strtold as wrapped by Redis string2ld ------------------------------------

const DECIMAL_RE = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const HEX_RE = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?$/;
const INF_RE = /^([+-]?)(?:inf|infinity)$/i;
/** Exponents are saturated here: beyond it every nonzero value over- or underflows anyway. */
const EXPONENT_CLAMP = 1_000_000_000;

/** A decimal exponent string (digits with optional sign) clamped to ±EXPONENT_CLAMP. */
function parseExponent(text: string | undefined): number {
  if (text === undefined) return 0;
  const neg = text.startsWith('-');
  const digits = text.replace(/^[+-]/, '').replace(/^0+/, '');
  const v = digits.length > 10 ? EXPONENT_CLAMP : Math.min(Number(digits || '0'), EXPONENT_CLAMP);
  return neg ? -v : v;
}

/**
 * Redis string2ld: the whole string must be a number strtold accepts (decimal, hex float,
 * inf/infinity); no leading space, not NaN, not out of range (overflow, or a nonzero value that
 * rounds to zero). Returns null when Redis would refuse the string.
 */
export function parseLongDouble(s: string): LongDouble | null {
  if (s.length === 0 || s.length >= MAX_LONG_DOUBLE_CHARS) return null;
  let v: LongDouble | null;
  const dec = DECIMAL_RE.exec(s);
  if (dec !== null) {
    const intPart = dec[2]!;
    const fracPart = dec[3] ?? '';
    if (intPart.length === 0 && fracPart.length === 0) return null; // ".", "e5", "+"
    v = decimalToLongDouble(
      dec[1] === '-',
      intPart + fracPart,
      parseExponent(dec[4]) - fracPart.length,
    );
  } else {
    const hex = HEX_RE.exec(s);
    if (hex !== null) {
      const intPart = hex[2]!;
      const fracPart = hex[3] ?? '';
      // strtold needs a hex digit after "0x"; otherwise it stops after the "0" and Redis refuses.
      if (intPart.length === 0 && fracPart.length === 0) return null;
      const mant = BigInt(`0x${intPart}${fracPart}`);
      v = binaryToLongDouble(hex[1] === '-', mant, parseExponent(hex[4]) - 4 * fracPart.length);
    } else {
      const inf = INF_RE.exec(s);
      // NaN spellings parse in strtold but Redis refuses them (isnan); anything else is junk.
      return inf === null ? null : { kind: 'inf', neg: inf[1] === '-' };
    }
  }
  return v;
}

/** (-1)^neg × mant × 2^exp2 rounded; null for strtold's ERANGE cases that Redis refuses. */
function binaryToLongDouble(neg: boolean, mant: bigint, exp2: number): LongDouble | null {
  if (mant === 0n) return { kind: 'finite', neg, mant: 0n, exp: 0 };
  return checkRange(roundToLongDouble(neg, mant, exp2, false));
}

/** Overflow to ±inf and underflow of a nonzero value to 0 set ERANGE: string2ld refuses both. */
function checkRange(v: LongDouble): LongDouble | null {
  if (v.kind === 'inf') return null;
  if (v.kind === 'finite' && v.mant === 0n) return null;
  return v;
}

/** (-1)^neg × digits × 10^exp10, correctly rounded (glibc strtold is exact). */
function decimalToLongDouble(neg: boolean, digitText: string, exp10: number): LongDouble | null {
  let digits = digitText.replace(/^0+/, '');
  if (digits.length === 0) return { kind: 'finite', neg, mant: 0n, exp: 0 }; // an exact zero
  const trailing = digits.length - digits.replace(/0+$/, '').length;
  if (trailing > 0) {
    digits = digits.slice(0, digits.length - trailing);
    exp10 += trailing;
  }
  // The value lies in [10^(magnitude-1), 10^magnitude). The largest long double is ~1.19e4932 and
  // half the smallest subnormal ~1.8e-4951, so outside these bounds the answer is known.
  const magnitude = digits.length + exp10;
  if (magnitude > 4935) return null; // overflow
  if (magnitude < -4952) return null; // rounds to zero
  const d = BigInt(digits);
  if (exp10 >= 0) return checkRange(roundToLongDouble(neg, d * 10n ** BigInt(exp10), 0, false));
  // Divide by 10^-exp10 keeping at least 66 quotient bits; the remainder only breaks ties.
  const divisor = 10n ** BigInt(-exp10);
  const extra = Math.max(0, MANT_BITS + 3 + bitLength(divisor) - bitLength(d));
  const scaled = d << BigInt(extra);
  const q = scaled / divisor;
  const sticky = q * divisor !== scaled;
  return checkRange(roundToLongDouble(neg, q, -extra, sticky));
}

// ---- Arithmetic --------------------------------------------------------------------------------

/** a + b rounded once to a long double (x87 FADD in round-to-nearest). */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble {
  if (a.kind === 'nan' || b.kind === 'nan') return { kind: 'nan' };
  if (a.kind === 'inf') return b.kind === 'inf' && b.neg !== a.neg ? { kind: 'nan' } : a;
  if (b.kind === 'inf') return b;
  if (a.mant === 0n && b.mant === 0n) {
    // IEEE: -0 + -0 = -0, any other sum of zeros is +0.
    return a.neg && b.neg ? a : ZERO;
  }
  if (a.mant === 0n) return b;
  if (b.mant === 0n) return a;
  const e = Math.min(a.exp, b.exp);
  const ma = a.mant << BigInt(a.exp - e);
  const mb = b.mant << BigInt(b.exp - e);
  const sum = (a.neg ? -ma : ma) + (b.neg ? -mb : mb);
  if (sum === 0n) return ZERO; // x + (-x) is +0 when rounding to nearest
  return roundToLongDouble(sum < 0n, sum < 0n ? -sum : sum, e, false);
}

// ---- Formatting: glibc printf("%.17Lf") + Redis ld2string LD_STR_HUMAN --------------------------

/**
 * Redis ld2string(..., LD_STR_HUMAN): "%.17Lf" (exact decimal expansion rounded half-even to 17
 * fraction digits), then trailing zeros and a bare '.' removed, and "-0" turned into "0".
 * Infinities print as "inf"/"-inf" (Redis special-cases them); NaN as "nan".
 */
export function formatLongDoubleHuman(v: LongDouble): string {
  if (v.kind === 'nan') return 'nan';
  if (v.kind === 'inf') return v.neg ? '-inf' : 'inf';
  let intText: string;
  let fracText: string;
  if (v.exp >= 0) {
    intText = (v.mant << BigInt(v.exp)).toString();
    fracText = '';
  } else {
    const k = BigInt(-v.exp);
    const scaled = v.mant * TEN_POW_FRACTION;
    let q = scaled >> k;
    const rest = scaled - (q << k);
    const half = 1n << (k - 1n);
    if (rest > half || (rest === half && (q & 1n) === 1n)) q += 1n;
    const text = q.toString().padStart(FRACTION_DIGITS + 1, '0');
    intText = text.slice(0, text.length - FRACTION_DIGITS);
    fracText = text.slice(text.length - FRACTION_DIGITS).replace(/0+$/, '');
  }
  const body = fracText.length > 0 ? `${intText}.${fracText}` : intText;
  if (body === '0') return '0'; // "-0.000…" prints as "-0", which Redis rewrites to "0"
  return v.neg ? `-${body}` : body;
}

/**
 * INCRBYFLOAT's arithmetic on texts (Redis incrbyfloatCommand): parse the current value, then the
 * increment, add, refuse a non-finite result, and return the stored text. Throws CommandError:
 * `currentNotFloat` (default "ERR value is not a valid float") when the current value is not a
 * float, ERR.notFloat when the increment is not, ERR.nanOrInf when the sum is not finite.
 * A missing key counts as "0".
 *
 * HINCRBYFLOAT (t_hash.c) validates in another order: it parses the increment first and refuses an
 * infinite one with "ERR value is NaN or Infinity", then the field with "ERR hash value is not a
 * float"; callers can do that with parseLongDouble before calling this with their message.
 */
export function incrByFloatText(
  current: string,
  increment: string,
  currentNotFloat: string = ERR.notFloat,
): string {
  const value = parseLongDouble(current);
  if (value === null) fail(currentNotFloat);
  const incr = parseLongDouble(increment);
  if (incr === null) fail(ERR.notFloat);
  const sum = addLongDouble(value, incr);
  if (sum.kind !== 'finite') fail(ERR.nanOrInf);
  return formatLongDoubleHuman(sum);
}
