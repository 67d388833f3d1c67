// splitArgs is sdssplitargs (sds.c, Redis 7.0.15). Cases marked "observed" were piped into the real
// redis-cli 7.0.15 (e.g. `echo "\xZZ\q"` printed xZZq, `echo "a"b` printed "Invalid argument(s)");
// the others follow the C source line by line.
import { describe, expect, it } from 'vitest';
import { splitArgs } from '../../src/cli/split-args.ts';

describe('splitArgs (sdssplitargs)', () => {
  it('splits on blanks and skips leading/trailing/multiple blanks', () => {
    expect(splitArgs('set a 1')).toEqual(['set', 'a', '1']);
    expect(splitArgs('  get \t a  \r')).toEqual(['get', 'a']); // observed: "ping\r" answered PONG
    expect(splitArgs('')).toEqual([]);
    expect(splitArgs('   \t ')).toEqual([]);
  });

  it('double quotes: C escapes and \\xHH bytes (observed)', () => {
    expect(splitArgs(String.raw`set x "a\x00b\xff\n"`)).toEqual(['set', 'x', 'a\x00b\xff\n']);
    expect(splitArgs(String.raw`echo "\n\r\t\b\a\\\""`)).toEqual(['echo', '\n\r\t\b\x07\\"']);
    expect(splitArgs(String.raw`echo "\xZZ\q"`)).toEqual(['echo', 'xZZq']); // observed
    // one hex digit is not enough
    expect(splitArgs(String.raw`echo "\x4"`)).toEqual(['echo', 'x4']);
    // only lower-case x
    expect(splitArgs(String.raw`echo "\XAB\xaB"`)).toEqual(['echo', 'XAB\xab']);
    expect(splitArgs('echo "a b"')).toEqual(['echo', 'a b']);
    expect(splitArgs('echo ""')).toEqual(['echo', '']);
  });

  it("single quotes: only \\' is an escape (observed)", () => {
    expect(splitArgs(String.raw`set q 'it\'s'`)).toEqual(['set', 'q', "it's"]); // observed
    expect(splitArgs(String.raw`echo 'a\\b'`)).toEqual(['echo', 'a\\\\b']); // observed: a\\b
    expect(splitArgs(String.raw`echo '\n\x41'`)).toEqual(['echo', '\\n\\x41']);
    expect(splitArgs("echo ''")).toEqual(['echo', '']); // observed: an empty line
    expect(splitArgs(`echo '"'`)).toEqual(['echo', '"']);
  });

  it('a quote may open inside a token', () => {
    expect(splitArgs('echo ab"c d"')).toEqual(['echo', 'abc d']);
    expect(splitArgs("echo ab'c d'")).toEqual(['echo', 'abc d']);
  });

  it(
    'a closing quote must be followed by a blank or the end ' + '(observed: echo "a"b is invalid)',
    () => {
      expect(splitArgs('echo "a"b')).toBeNull(); // observed
      expect(splitArgs("echo 'a'b")).toBeNull();
      expect(splitArgs('echo "a"\tb')).toEqual(['echo', 'a', 'b']);
      expect(splitArgs('echo "a"\x0bb')).toEqual(['echo', 'a', 'b']); // \v is isspace()
    },
  );

  it('unbalanced quotes are an error (observed: set "unbalanced)', () => {
    expect(splitArgs('set "unbalanced')).toBeNull(); // observed
    expect(splitArgs("set 'unbalanced")).toBeNull();
    expect(splitArgs('set "ends with backslash\\')).toBeNull();
    expect(splitArgs("set 'escaped quote\\'")).toBeNull();
  });

  it(
    '\\v and \\f separate only between tokens, ' +
      'not inside one (observed: echo a<VT>b printed a<VT>b)',
    () => {
      expect(splitArgs('echo a\x0bb')).toEqual(['echo', 'a\x0bb']); // observed
      expect(splitArgs('echo \x0b\x0ca')).toEqual(['echo', 'a']);
    },
  );

  it(
    'stops at the first NUL byte, ' +
      'like the C string it works on (observed: "ping a\\0 b" echoed a)',
    () => {
      expect(splitArgs('ping a\x00 b')).toEqual(['ping', 'a']); // observed
      expect(splitArgs('echo "a\x00b"')).toBeNull(); // the quote is left open at the NUL
    },
  );

  it('keeps raw non-ASCII bytes unchanged', () => {
    expect(splitArgs('set \xc3\xa9 \xff\xfe')).toEqual(['set', '\xc3\xa9', '\xff\xfe']);
    expect(splitArgs('echo "\xc3\xa9 \\xc3\\xa9"')).toEqual(['echo', '\xc3\xa9 \xc3\xa9']);
  });
});
