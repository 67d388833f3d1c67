// The long double model against answers recorded from a real redis-server 7.0.15 (x86-64,
// 80-bit x87 long double): `SET k <a>` then `INCRBYFLOAT k <b>`. Several thousand random cases
// were also compared against the server while writing the module; this table keeps the ones that
// pin down each rule (rounding ties, subnormals, overflow, strtold syntax, formatting).

import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addLongDouble,
  formatLongDoubleHuman,
  incrByFloatText,
  parseLongDouble,
} from '../../src/keyspace/long-double.ts';
import { CommandError } from '../../src/reply.ts';

function incr(current: string, increment: string): string {
  try {
    return incrByFloatText(current, increment);
  } catch (err) {
    if (err instanceof CommandError) return err.message;
    throw err;
  }
}

/** [stored value, increment, what redis-server 7.0.15 replied] */
const REDIS_ANSWERS: readonly [string, string, string][] = [
  ['10.50', '0.1', '10.6'],
  ['10.6', '5.0e3', '5010.60000000000000009'],
  ['1.5', '5.0e3', '5001.5'],
  ['0', '3.0e3', '3000'],
  ['0.1', '0.2', '0.3'],
  ['0.1', '0.7', '0.8'],
  ['1', '0.1', '1.1'],
  ['100', '-0.1', '99.9'],
  ['-1.5', '1.5', '0'],
  ['1.5', '-1.5', '0'],
  ['0', '-0', '0'],
  ['-0', '-0', '0'],
  ['0', '0.000003814697265625', '0.00000381469726562'],
  ['0', '0.000011444091796875', '0.00001144409179688'],
  ['0', '-0.000000000000000001', '0'],
  ['0', '0.000000000000000005', '0'],
  ['0', '0.000000000000000015', '0.00000000000000002'],
  ['0', '0.00000000000000001', '0.00000000000000001'],
  ['0', '1e-17', '0.00000000000000001'],
  ['0', '123456789.123456789123456789', '123456789.12345678912242875'],
  ['0', '9223372036854775807', '9223372036854775807'],
  ['9223372036854775807', '1', '9223372036854775808'],
  ['0', '18446744073709551615', '18446744073709551615'],
  ['0', '3.6e-4951', '0'],
  ['0', '0x10', '16'],
  ['0', '0X1P-2', '0.25'],
  ['0', '0x.8', '0.5'],
  ['0', '-0x1.8p1', '-3'],
  ['0', '+.5', '0.5'],
  ['0', '5.', '5'],
  ['0', '1.e5', '100000'],
  ['0', '00012', '12'],
  ['0', '1e0000000000000000000000000005', '100000'],
  ['0', '0e999999999999', '0'],
  ['1', 'INF', 'ERR increment would produce NaN or Infinity'],
  ['1', '-Infinity', 'ERR increment would produce NaN or Infinity'],
  ['inf', '-inf', 'ERR increment would produce NaN or Infinity'],
  ['1.18e4932', '1.18e4932', 'ERR increment would produce NaN or Infinity'],
  ['-1.18e4932', '-1.18e4932', 'ERR increment would produce NaN or Infinity'],
  ['0', 'nan', 'ERR value is not a valid float'],
  ['0', 'NaN', 'ERR value is not a valid float'],
  ['0', 'abc', 'ERR value is not a valid float'],
  ['0', ' 1', 'ERR value is not a valid float'],
  ['0', '1 ', 'ERR value is not a valid float'],
  ['0', '1e', 'ERR value is not a valid float'],
  ['0', '0x', 'ERR value is not a valid float'],
  ['0', '0x1p', 'ERR value is not a valid float'],
  ['0', 'infin', 'ERR value is not a valid float'],
  ['0', '1e5000', 'ERR value is not a valid float'],
  ['0', '1e-5000', 'ERR value is not a valid float'],
  ['0', '', 'ERR value is not a valid float'],
  ['0', '.', 'ERR value is not a valid float'],
  ['0', '1_0', 'ERR value is not a valid float'],
  ['0', '0x1p16384', 'ERR value is not a valid float'],
  ['0', '0x1p-16446', 'ERR value is not a valid float'],
  ['3.0e3', '0.3', '3000.30000000000000004'],
  ['1e20', '1', '100000000000000000000'],
  ['1e-20', '1', '1'],
  ['12345678901234567890', '0.5', '12345678901234567890'],
];

describe('INCRBYFLOAT arithmetic (x87 long double)', () => {
  it.each(REDIS_ANSWERS)('%j + %j → %j, as redis-server 7.0.15 answers', (a, b, expected) => {
    expect(incr(a, b)).toBe(expected);
  });

  it('prints large magnitudes as the full fixed-notation expansion of the binary value', () => {
    expect(incr('0', '1e300')).toBe(
      '10000000000000000000089973240795591938705239442732907479382600823212656465961809357558' +
        '49152083750497190350372508614274835903592556184672983913096260520748646287327135641843' +
        '65329408425510760601678972665293237003055138294762099454029477278188962060617926761162' +
        '7097410650567187386105690089424915104006144',
    );
    expect(incr('0', '-1e300')).toBe(`-${incr('0', '1e300')}`);
    expect(incr('0', '1e308')).toBe(
      '999999999999999999966858796558456456605600998474155672077970479949217348688380618721001' +
        '269218885393204467472250540132231521347495939605835974208144301964187679591000196031907' +
        '786631096045071066679391533957889389145605435630612683649016186302170865892534448816237' +
        '91300855757318142424510452728255046343928578048',
    );
    // Near the top of the range (~1.19e4932) the text is 4933 digits long.
    const huge = incr('0', '1.18e4932');
    expect(huge.length).toBe(4933);
    expect(createHash('sha256').update(huge).digest('hex')).toBe(
      'c9fb919511e23feeeb328fba5a5d442f724eee273008dc23058ec372cf677358',
    );
  });

  it('uses a custom message for an unparsable current value (HINCRBYFLOAT)', () => {
    expect(() => incrByFloatText('abc', '1', 'ERR hash value is not a float')).toThrow(
      'ERR hash value is not a float',
    );
    // The current value is parsed first, as in Redis incrbyfloatCommand.
    expect(() => incrByFloatText('abc', 'xyz')).toThrow('ERR value is not a valid float');
    expect(() => incrByFloatText('1', 'xyz', 'ERR hash value is not a float')).toThrow(
      'ERR value is not a valid float',
    );
  });

  it('adds integers below 2^63 exactly (a 64-bit mantissa holds them)', () => {
    const big = fc.bigInt({ min: -(1n << 62n), max: 1n << 62n });
    fc.assert(
      fc.property(big, big, (a, b) => {
        expect(incr(a.toString(), b.toString())).toBe((a + b).toString());
      }),
      { numRuns: 300 },
    );
  });

  it('prints the exact decimal sum of two short decimals below 16 in magnitude', () => {
    // Below 2^5 each of the three roundings (two parses, one add) is at most 2^-60, so the total
    // error stays under half a unit of the 17th decimal and "%.17Lf" prints the exact sum.
    const dec = fc.tuple(fc.integer({ min: -15, max: 15 }), fc.integer({ min: 0, max: 99 }));
    fc.assert(
      fc.property(dec, dec, ([ai, af], [bi, bf]) => {
        const a = `${ai}.${String(af).padStart(2, '0')}`;
        const b = `${bi}.${String(bf).padStart(2, '0')}`;
        const cents = toCents(a) + toCents(b);
        expect(incr(a, b)).toBe(centsText(cents));
      }),
      { numRuns: 300 },
    );
  });
});

function toCents(s: string): number {
  const neg = s.startsWith('-');
  const [i, f] = s.replace('-', '').split('.');
  const v = Number(i) * 100 + Number(f);
  return neg ? -v : v;
}

function centsText(c: number): string {
  const neg = c < 0;
  const a = Math.abs(c);
  const text = `${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`
    .replace(/0+$/, '')
    .replace(/\.$/, '');
  if (text === '0') return '0';
  return neg ? `-${text}` : text;
}

describe('parseLongDouble (strtold as wrapped by Redis string2ld)', () => {
  it('refuses what Redis refuses', () => {
    for (const s of [
      '',
      ' 1',
      '1 ',
      '\t1',
      '1\n',
      'nan',
      '-nan',
      'nan(123)',
      '1e',
      '1e+',
      '0x',
      '0xg',
      '+',
      '-',
      '.',
      'e5',
      '1..2',
      '1,5',
      '١',
    ]) {
      expect(parseLongDouble(s), JSON.stringify(s)).toBeNull();
    }
    expect(parseLongDouble('1\u0000')).toBeNull();
    expect(parseLongDouble('1'.repeat(5120))).toBeNull(); // MAX_LONG_DOUBLE_CHARS
    expect(parseLongDouble(`0.${'1'.repeat(5117)}`)).not.toBeNull(); // 5119 characters
  });

  it('rounds to a 64-bit mantissa, ties to even', () => {
    // 2^64 + 1 is a tie between 2^64 and 2^64 + 2: even mantissa wins (2^64).
    expect(parseLongDouble('18446744073709551617')).toEqual(
      parseLongDouble('18446744073709551616'),
    );
    // 2^64 + 3 is a tie between 2^64 + 2 and 2^64 + 4: 2^64 + 4 has the even mantissa.
    expect(parseLongDouble('18446744073709551619')).toEqual(
      parseLongDouble('18446744073709551620'),
    );
    // Just above the tie rounds up.
    expect(parseLongDouble('18446744073709551617.0000000001')).toEqual(
      parseLongDouble('18446744073709551618'),
    );
  });

  it('keeps subnormals and refuses values that round to zero or overflow', () => {
    const minSub = parseLongDouble('0x1p-16445');
    expect(minSub).toEqual({ kind: 'finite', neg: false, mant: 1n, exp: -16445 });
    expect(parseLongDouble('0x1.0000001p-16446')).toEqual(minSub); // above half: rounds up
    expect(parseLongDouble('0x1p-16446')).toBeNull(); // exactly half: ties to even zero
    const max = { kind: 'finite', neg: false, mant: (1n << 64n) - 1n, exp: 16320 };
    expect(parseLongDouble('0x1.fffffffffffffffep16383')).toEqual(max);
    expect(parseLongDouble('0x1.fffffffffffffffe7p16383')).toEqual(max); // below half an ulp more
    // the tie rounds up to 2^16384
    expect(parseLongDouble('0x1.ffffffffffffffffp16383')).toBeNull();
    expect(parseLongDouble('0e-99999')).toEqual({ kind: 'finite', neg: false, mant: 0n, exp: 0 });
  });

  it('accepts infinities in strtold spellings', () => {
    expect(parseLongDouble('inf')).toEqual({ kind: 'inf', neg: false });
    expect(parseLongDouble('+Infinity')).toEqual({ kind: 'inf', neg: false });
    expect(parseLongDouble('-INF')).toEqual({ kind: 'inf', neg: true });
  });
});

describe('addLongDouble and formatLongDoubleHuman', () => {
  const ld = (s: string) => parseLongDouble(s)!;

  it('follows IEEE rules for zeros, infinities and NaN', () => {
    expect(addLongDouble(ld('-0'), ld('-0'))).toEqual({
      kind: 'finite',
      neg: true,
      mant: 0n,
      exp: 0,
    });
    expect(addLongDouble(ld('-0'), ld('0'))).toEqual({
      kind: 'finite',
      neg: false,
      mant: 0n,
      exp: 0,
    });
    expect(addLongDouble(ld('inf'), ld('-inf'))).toEqual({ kind: 'nan' });
    expect(addLongDouble(ld('inf'), ld('1'))).toEqual({ kind: 'inf', neg: false });
    expect(addLongDouble(ld('1.18e4932'), ld('1.18e4932'))).toEqual({ kind: 'inf', neg: false });
  });

  it('formats with 17 decimals rounded half-even, then strips zeros; -0 becomes 0', () => {
    expect(formatLongDoubleHuman(ld('0.5'))).toBe('0.5');
    expect(formatLongDoubleHuman(ld('-0'))).toBe('0');
    expect(formatLongDoubleHuman(ld('-1e-30'))).toBe('0');
    expect(formatLongDoubleHuman(ld('-2.5'))).toBe('-2.5');
    // 5 × 2^-59 has more than 17 decimals and no tie: rounds to nearest.
    expect(formatLongDoubleHuman(ld('0x5p-59'))).toBe('0.00000000000000001');
    // 2^-18 = 0.000003814697265625 (18 decimals, ends in 5): the tie goes to the even digit 2.
    expect(formatLongDoubleHuman(ld('0x1p-18'))).toBe('0.00000381469726562');
    expect(formatLongDoubleHuman(ld('0x3p-18'))).toBe('0.00001144409179688');
    expect(formatLongDoubleHuman({ kind: 'inf', neg: true })).toBe('-inf');
  });
});
