// The per-line behaviour of the shell (redis-cli 7.0.15 repl()). Expected outputs marked
// "observed" were printed by the real redis-cli for the same input lines.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HELP_TEXT, ShellSession, parseRepeatCount } from '../../src/cli/shell-session.ts';
import type { OutputMode } from '../../src/cli/redis-cli-format.ts';
import { openEngine, type Engine } from '../../src/engine.ts';

let dir: string;
let engine: Engine;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'aofkv-cli-session-'));
  engine = await openEngine({ dir, appendonly: false });
});

afterEach(async () => {
  await engine.close();
  await rm(dir, { recursive: true, force: true });
});

function session(mode: OutputMode = 'raw', nowMs?: () => number) {
  let out = '';
  let err = '';
  const s = new ShellSession(engine, {
    mode,
    write: async (b) => {
      out += b;
    },
    warn: async (t) => {
      err += t;
    },
    ...(nowMs !== undefined ? { nowMs } : {}),
  });
  const run = async (...lines: string[]) => {
    const outcomes = [];
    for (const l of lines) outcomes.push(await s.line(l));
    return outcomes;
  };
  return { s, run, out: () => out, err: () => err };
}

describe('ShellSession', () => {
  it('a leading count repeats the command (observed: "3 ping", "+2 echo x")', async () => {
    const t = session();
    await t.run('3 ping', '+2 echo x', '007 echo y');
    expect(t.out()).toBe(`PONG\nPONG\nPONG\nx\nx\n${'y\n'.repeat(7)}`);
  });

  it('refuses a zero, negative, empty or overflowing count (observed)', async () => {
    const t = session();
    await t.run('0 ping', '"" ping', '-1 ping', '99999999999999999999 ping');
    expect(t.out()).toBe('Invalid redis-cli repeat command option value.\n'.repeat(4));
  });

  it('a lone number is a command (observed: " 3" → unknown command \'3\')', async () => {
    const t = session();
    await t.run(' 3');
    expect(t.out()).toBe("ERR unknown command '3', with args beginning with: \n\n");
  });

  it(
    'prints "Invalid argument(s)" for bad ' + 'quoting and ignores blank lines (observed)',
    async () => {
      const t = session();
      await t.run('set "unbalanced', '', '   ', '\r', 'echo "a"b', '\0ping');
      expect(t.out()).toBe('Invalid argument(s)\nInvalid argument(s)\n');
    },
  );

  it('quit and exit end the session, in any case and with arguments', async () => {
    const t = session();
    expect(await t.run('ping', 'QUIT')).toEqual(['continue', 'quit']);
    expect(await t.run('exit now')).toEqual(['quit']);
    expect(await t.run('"quit"')).toEqual(['quit']);
  });

  it('handles redis-cli preferences and local commands like redis-cli (observed)', async () => {
    const t = session();
    await t.run(
      ':set hints',
      ':set nohints',
      ':set foo',
      ':foo',
      'restart',
      'clear',
      'help',
      '3 help',
    );
    expect(t.out()).toBe(
      "unknown redis-cli preference 'foo'\n" +
        "unknown redis-cli internal command ':foo'\n" +
        "Use 'restart' only in Lua debugging mode.\n" +
        '\x1b[H\x1b[2J' +
        HELP_TEXT +
        HELP_TEXT,
    );
  });

  it('CONNECT is not sent to the engine; it is explained on stderr', async () => {
    const t = session();
    await t.run('connect localhost 6379');
    expect(t.out()).toBe('');
    expect(t.err()).toContain('CONNECT is not supported');
  });

  it('keeps the prompt in step with the client: [db] after SELECT, (TX) inside MULTI', async () => {
    const t = session('tty');
    expect(t.s.prompt()).toBe('aofkv> ');
    await t.run('select 3');
    expect(t.s.prompt()).toBe('aofkv[3]> ');
    await t.run('multi');
    expect(t.s.prompt()).toBe('aofkv[3](TX)> ');
    await t.run('select 0'); // only queued: the db is still 3
    expect(t.s.prompt()).toBe('aofkv[3](TX)> ');
    await t.run('exec');
    expect(t.s.prompt()).toBe('aofkv> ');
    await t.run('select 99');
    expect(t.s.prompt()).toBe('aofkv> ');
    expect(t.out()).toBe('OK\nOK\nQUEUED\n1) OK\n(error) ERR DB index is out of range\n');
  });

  it('passes arguments as raw bytes and prints binary replies unchanged', async () => {
    const t = session();
    await t.run('echo "\\xff\\x00\\xc3\\xa9"', 'echo \xff\xfe');
    expect(t.out()).toBe('\xff\x00\xc3\xa9\n\xff\xfe\n');
  });

  it('in TTY mode notes commands that took 500 ms or more, like redis-cli', async () => {
    const times = [1000, 1600, 2000, 2100];
    const t = session('tty', () => times.shift()!);
    await t.run('ping', 'ping');
    expect(t.out()).toBe('PONG\n(0.60s)\nPONG\n');
    const raw = session('raw', () => [0, 5000].shift() ?? 5000);
    await raw.run('ping');
    expect(raw.out()).toBe('PONG\n');
  });
});

describe('parseRepeatCount (strtol semantics of repl())', () => {
  it.each([
    ['3', 3],
    ['+2', 2],
    ['007', 7],
    [' \t3', 3],
    ['9223372036854775807', 2 ** 63], // the nearest double
    ['0', 'invalid'],
    ['-1', 'invalid'],
    ['', 'invalid'],
    ['\0x', 'invalid'],
    ['9223372036854775808', 'invalid'],
    ['ping', 'none'],
    ['3a', 'none'],
    ['+', 'none'],
    [' ', 'none'],
    ['3 ', 'none'],
  ] as const)('%j → %j', (word, expected) => {
    expect(parseRepeatCount(word)).toBe(expected);
  });
});
