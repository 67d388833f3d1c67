// Reply formatting against bytes captured from the real redis-cli 7.0.15 talking to redis-server
// 7.0.15: the "raw" column is what `redis-cli < cmds` printed with stdout on a pipe, the "tty"
// column what it printed with FAKETTY=1 (redis-cli's switch that forces the TTY format while
// stdout is a pipe; the same output was checked interactively under tmux). Every expected string
// below was observed, except where a comment says the case comes from reading redis-cli.c.
import { describe, expect, it } from 'vitest';
import {
  formatReply,
  formatRaw,
  formatTty,
  isVerbatimCommand,
  quoteBytes,
} from '../../src/cli/redis-cli-format.ts';
import { ErrorReply, NIL_ARRAY, StatusReply, type Reply } from '../../src/reply.ts';

const ok = new StatusReply('OK');
const letters = 'abcdefghijk'.split('');

interface Observed {
  what: string;
  command: string;
  reply: Reply;
  raw: string;
  tty: string;
}

// Byte strings are latin1 Bins: '\xff' is the byte 0xff.
const OBSERVED: Observed[] = [
  { what: 'status', command: 'set k v', reply: ok, raw: 'OK\n', tty: 'OK\n' },
  {
    what: 'PONG status',
    command: 'ping',
    reply: new StatusReply('PONG'),
    raw: 'PONG\n',
    tty: 'PONG\n',
  },
  {
    what: 'bulk string with every escape class',
    command: String.raw`echo "q\\ \" \n \r \t \a \b \x00 \x7f \xff \xc3\xa9 \x01 ~"`,
    reply: 'q\\ " \n \r \t \x07 \b \x00 \x7f \xff \xc3\xa9 \x01 ~',
    raw: 'q\\ " \n \r \t \x07 \b \x00 \x7f \xff \xc3\xa9 \x01 ~\n',
    tty: '"q\\\\ \\" \\n \\r \\t \\a \\b \\x00 \\x7f \\xff \\xc3\\xa9 \\x01 ~"\n',
  },
  { what: 'bulk string', command: 'get k', reply: 'v', raw: 'v\n', tty: '"v"\n' },
  { what: 'empty bulk string', command: "echo ''", reply: '', raw: '\n', tty: '""\n' },
  { what: 'nil', command: 'get nope', reply: null, raw: '\n', tty: '(nil)\n' },
  {
    what: 'negative integer',
    command: 'incrby n -42',
    reply: -42,
    raw: '-42\n',
    tty: '(integer) -42\n',
  },
  {
    what: 'integer beyond 2^53 (bigint)',
    command: 'incrby big 9223372036854775807',
    reply: 9223372036854775807n,
    raw: '9223372036854775807\n',
    tty: '(integer) 9223372036854775807\n',
  },
  {
    what: 'array of 11: index column two wide',
    command: 'lrange l10 0 -1',
    reply: letters,
    raw: letters.map((l) => `${l}\n`).join(''),
    tty: letters.map((l, i) => `${String(i + 1).padStart(2)}) "${l}"\n`).join(''),
  },
  {
    what: 'empty array',
    command: 'lrange nope 0 -1',
    reply: [],
    raw: '\n',
    tty: '(empty array)\n',
  },
  {
    what: 'array of one',
    command: 'exec (after echo x)',
    reply: ['x'],
    raw: 'x\n',
    tty: '1) "x"\n',
  },
  {
    what: 'error',
    command: 'foo bar',
    reply: new ErrorReply("ERR unknown command 'foo', with args beginning with: 'bar' "),
    raw: "ERR unknown command 'foo', with args beginning with: 'bar' \n\n",
    tty: "(error) ERR unknown command 'foo', with args beginning with: 'bar' \n",
  },
  {
    what: 'nil array (EXEC after a WATCHed key changed)',
    command: 'exec',
    reply: NIL_ARRAY,
    raw: '\n',
    tty: '(nil)\n',
  },
  {
    what: 'EXEC: nested array, nil, empty array, error, status',
    command: 'exec',
    reply: [
      letters,
      null,
      [],
      new ErrorReply('ERR value is not an integer or out of range'),
      new StatusReply('PONG'),
    ],
    raw: `${letters.join('\n')}\n\n\nERR value is not an integer or out of range\n\nPONG\n`,
    tty:
      '1)  1) "a"\n' +
      letters
        .slice(1)
        .map((l, i) => `   ${String(i + 2).padStart(2)}) "${l}"\n`)
        .join('') +
      '2) (nil)\n3) (empty array)\n' +
      '4) (error) ERR value is not an integer or out of range\n5) PONG\n',
  },
  {
    what: 'three levels of nesting',
    command: `eval "return {1,{2,{3,'a'}},{}}" 0`,
    reply: [1, [2, [3, 'a']], []],
    raw: '1\n2\n3\na\n\n',
    tty:
      '1) (integer) 1\n' +
      '2) 1) (integer) 2\n' +
      '   2) 1) (integer) 3\n' +
      '      2) "a"\n' +
      '3) (empty array)\n',
  },
  {
    what: 'nested arrays under a two-wide index column',
    command: `eval "return {{'a','b'},2,3,4,5,6,7,8,9,10,{'x',{'y'}}}" 0`,
    reply: [['a', 'b'], 2, 3, 4, 5, 6, 7, 8, 9, 10, ['x', ['y']]],
    raw: 'a\nb\n2\n3\n4\n5\n6\n7\n8\n9\n10\nx\ny\n',
    tty:
      ' 1) 1) "a"\n    2) "b"\n' +
      [2, 3, 4, 5, 6, 7, 8, 9, 10]
        .map((n) => `${String(n).padStart(2)}) (integer) ${n}\n`)
        .join('') +
      '11) 1) "x"\n    2) 1) "y"\n',
  },
  {
    what: 'error and status inside an array',
    command: `eval "return {{err='ERR inner'},{ok='FINE'},{}}" 0`,
    reply: [new ErrorReply('ERR inner'), new StatusReply('FINE'), []],
    raw: 'ERR inner\n\nFINE\n\n',
    tty: '1) (error) ERR inner\n2) FINE\n3) (empty array)\n',
  },
  {
    what: 'nil inside an array',
    command: `eval "return {false,'x'}" 0`,
    reply: [null, 'x'],
    raw: '\nx\n',
    tty: '1) (nil)\n2) "x"\n',
  },
  {
    what: 'bulk string with a NUL byte',
    command: `eval "return 'a'..string.char(0)..'b'" 0`,
    reply: 'a\x00b',
    raw: 'a\x00b\n',
    tty: '"a\\x00b"\n',
  },
];

describe('redis-cli reply formatting (observed from redis-cli 7.0.15)', () => {
  for (const c of OBSERVED) {
    it(`raw: ${c.what}`, () => {
      expect(formatReply(c.reply, 'raw')).toBe(c.raw);
    });
    it(`tty: ${c.what}`, () => {
      expect(formatReply(c.reply, 'tty')).toBe(c.tty);
    });
  }

  it('INFO with no matching section prints nothing at all in both modes (verbatim output)', () => {
    // Observed: `info nosuchsection` followed by `ping` printed only "PONG\n", raw and tty.
    expect(formatReply('', 'raw', ['info', 'nosuchsection'])).toBe('');
    expect(formatReply('', 'tty', ['INFO', 'nosuchsection'])).toBe('');
  });

  it('LATENCY DOCTOR text is printed unquoted and without an added newline in both modes', () => {
    // Observed: the doctor's text (which ends in "\n") came out byte for byte, in tty mode too.
    const text = "I'm sorry, Dave, I can't do that.\n";
    expect(formatReply(text, 'tty', ['latency', 'doctor'])).toBe(text);
    expect(formatReply(text, 'raw', ['LATENCY', 'DOCTOR'])).toBe(text);
    // Only the two-argument form is verbatim (cliSendCommand checks argc == 2).
    expect(isVerbatimCommand(['latency', 'doctor', 'x'])).toBe(false);
  });
});

describe(
  'redis-cli reply formatting (from redis-cli.c, ' + 'not observable through redis-server)',
  () => {
    it('TTY mode prints statuses and errors as C strings: cut at the first NUL', () => {
      // cliFormatReplyTTY uses sdscat(r->str) and "%s"; the raw mode uses the length. Redis's own
      // replies never contain NUL in a status or error, so this cannot be captured from a server.
      expect(formatTty(new StatusReply('a\0b'), '')).toBe('a\n');
      expect(formatTty(new ErrorReply('ERR a\0b'), '')).toBe('(error) ERR a\n');
      expect(formatRaw(new StatusReply('a\0b'))).toBe('a\0b');
      expect(formatRaw(new ErrorReply('ERR a\0b'))).toBe('ERR a\0b\n');
    });

    it('quotes every byte outside 0x20..0x7e as a lower-case \\xHH escape', () => {
      let all = '';
      for (let b = 0; b < 256; b++) all += String.fromCharCode(b);
      const quoted = quoteBytes(all);
      expect(quoted).toMatch(/^"[\x20-\x7e]*"$/);
      expect(quoted).toContain('\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\a\\b\\t\\n\\x0b\\x0c\\r\\x0e');
      expect(quoted).toContain(' !\\"#');
      expect(quoted).toContain('[\\\\]');
      expect(quoted).toContain('}~\\x7f\\x80\\x81');
      expect(quoted.endsWith('\\xfe\\xff"')).toBe(true);
    });
  },
);
