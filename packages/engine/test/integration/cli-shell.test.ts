// `aofkv shell` end to end: as a child process exactly as `pnpm aofkv shell` runs it (tsx, source
// condition), with a command file on stdin; and in-process for the failure paths.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runShell } from '../../src/cli/shell.ts';
import { openSimEngine } from '../../src/testing/sim-engine.ts';
import { MAIN_TS, REPO_ROOT, memoryIo, runCliInProcess, spawnCli } from './cli-helpers.ts';

// biome-ignore lint/suspicious/noControlCharactersInRegex: strips the terminal's ESC sequences
const ESC_SEQUENCES = /\x1b\[[0-9;]*[A-Za-z]/g;

let tmp: string;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'aofkv-cli-shell-'));
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('aofkv shell (child process, piped stdin)', () => {
  it('runs a command file and prints the replies in redis-cli raw format', async () => {
    const dir = path.join(tmp, 'data');
    const input = [
      'ping',
      'echo "hello world"',
      'dbsize',
      'select 3',
      'multi',
      'echo a',
      'ping',
      'exec',
      'exec',
      'nosuchcommand x',
      'echo "unbalanced',
      '',
      '2 echo twice',
      'echo last', // no trailing newline: still a line
    ].join('\n');
    const r = await spawnCli(['shell', '--dir', dir, '--appendonly', 'no'], input);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.toString('latin1')).toBe(
      [
        'PONG',
        'hello world',
        '0',
        'OK',
        'OK',
        'QUEUED',
        'QUEUED',
        'a',
        'PONG',
        'ERR EXEC without MULTI',
        '',
        "ERR unknown command 'nosuchcommand', with args beginning with: 'x' ",
        '',
        'Invalid argument(s)',
        'twice',
        'twice',
        'last',
        '',
      ].join('\n'),
    );
    // The data directory was created although it did not exist.
    expect(await readdir(tmp)).toEqual(['data']);
  });

  it('round-trips arbitrary bytes (invalid UTF-8, NUL, CR) from stdin to stdout', async () => {
    const input = Buffer.concat([
      Buffer.from('echo '),
      Buffer.from([0xff, 0xfe, 0x80]),
      Buffer.from('\necho "\\x00\\r\\xc3"\n'),
    ]);
    const r = await spawnCli(['shell', '--dir', tmp, '--appendonly', 'no'], input);
    expect(r.code).toBe(0);
    expect(r.stdout).toEqual(Buffer.from([0xff, 0xfe, 0x80, 0x0a, 0x00, 0x0d, 0xc3, 0x0a]));
  });

  it(
    'persists writes in the AOF: a second session ' +
      "sees the first one's data; quit stops reading",
    async () => {
      const first = await spawnCli(
        ['shell', '--dir', tmp, '--appendonly', 'yes', '--appendfsync', 'always'],
        'set greeting "hi there"\nrpush l a b c\nquit\nset never 1\n',
      );
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(first.stdout.toString()).toBe('OK\n3\n');
      expect(await readdir(tmp)).toEqual(['appendonlydir']);

      const second = await spawnCli(
        ['shell', '--dir', tmp, '--appendonly', 'yes'],
        'get greeting\nlrange l 0 -1\nexists never\n',
      );
      expect(second.code).toBe(0);
      expect(second.stdout.toString()).toBe('hi there\na\nb\nc\n0\n');
    },
  );

  it('--no-raw prints the TTY format through a pipe', async () => {
    const r = await spawnCli(
      ['shell', '--dir', tmp, '--appendonly', 'no', '--no-raw'],
      'echo x\nexec\nping\n',
    );
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe('"x"\n(error) ERR EXEC without MULTI\nPONG\n');
  });

  it(
    'exits 1 with a message naming the option ' +
      'for a bad config value, without creating the dir',
    async () => {
      const dir = path.join(tmp, 'data');
      const r = await spawnCli(['shell', '--dir', dir, '--appendfsync', 'sometimes'], 'ping\n');
      expect(r.code).toBe(1);
      expect(r.stdout.length).toBe(0);
      expect(r.stderr).toContain("invalid value 'sometimes' for --appendfsync");
      expect(await readdir(tmp)).toEqual([]);
    },
  );

  it(
    'on SIGINT stops reading, closes the engine and exits 130; ' + 'what was acknowledged is kept',
    async () => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', '--conditions=@aofkv/source', MAIN_TS, 'shell', '--dir', tmp],
        {
          cwd: REPO_ROOT,
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      );
      let out = '';
      const acknowledged = new Promise<void>((resolve) => {
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (out === 'OK\n') resolve();
        });
      });
      const exited = new Promise<number | null>((resolve) =>
        child.once('close', (code) => resolve(code)),
      );
      child.stdin.write('set k v\n'); // stdin stays open: the shell is waiting for more
      await acknowledged;
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      const again = await spawnCli(['shell', '--dir', tmp], 'get k\n');
      expect(again.stdout.toString()).toBe('v\n');
    },
  );
});

describe('aofkv shell (in-process failure paths)', () => {
  it(
    'stops with exit code 1 when the AOF fails under appendfsync always; ' +
      'the failed write is not acknowledged',
    async () => {
      const m = memoryIo('ping\nset a 1\nping\n');
      const code = await runShell(['--appendfsync', 'always'], m.io, async (options) => {
        const sim = await openSimEngine({
          appendfsync: options.appendfsync,
          logger: options.logger,
          dir: '/data',
          appendonly: true,
        });
        sim.fs.faults.add({ op: 'write', error: 'EIO' });
        return sim.engine;
      });
      expect(code).toBe(1);
      expect(m.stdout().toString()).toBe('PONG\n');
      // The AOF's own warnings come first (stderr), then the shell's reason for stopping.
      expect(m.stderr()).toMatch(/^aofkv: Error writing to the AOF file/);
      expect(m.stderr()).toMatch(/^aofkv shell: .*fatal AOF error/m);
    },
  );

  it('exits 1 with the reason when the data directory cannot be opened', async () => {
    const file = path.join(tmp, 'a-file');
    await writeFile(file, 'not a directory');
    const r = await runCliInProcess(['shell', '--dir', file, '--appendonly', 'yes'], 'ping\n');
    expect(r.code).toBe(1);
    expect(r.stdout.length).toBe(0);
    expect(r.stderr).toContain(`aofkv shell: cannot open the data directory '${file}'`);
  });
});

describe('aofkv shell (interactive: stdin is a terminal)', () => {
  it(
    'prompts like redis-cli, ' +
      'tracks SELECT and MULTI in the prompt, and keeps the history file',
    async () => {
      const histfile = path.join(tmp, 'history');
      // A terminal as readline sees one: streams with isTTY (no setRawMode, so no raw mode).
      const stdin = Object.assign(new PassThrough(), { isTTY: true as const });
      const m = memoryIo('', { AOFKV_HISTFILE: histfile });
      const stdout = Object.assign(m.io.stdout, { isTTY: true as const });
      const prompts = promptCounter(stdout);
      const done = runShell(['--dir', path.join(tmp, 'data'), '--appendonly', 'no'], {
        ...m.io,
        stdin,
        stdout,
      });
      // Type each line once the previous reply and the next prompt are on the screen, as a person
      // would; lines typed ahead are echoed by readline before the replies arrive.
      const lines = ['echo "a b"', 'select 3', 'multi', 'ping', 'exec', 'get nope', 'quit'];
      for (let i = 0; i < lines.length; i++) {
        await prompts.reach(i + 1);
        stdin.write(`${lines[i]}\r`);
      }
      expect(await done).toBe(0);
      // Without readline's cursor control sequences the screen reads like a redis-cli session.
      const screen = m.stdout().toString('latin1').replace(ESC_SEQUENCES, '');
      expect(screen).toBe(
        'aofkv> echo "a b"\r\n"a b"\n' +
          'aofkv> select 3\r\nOK\n' +
          'aofkv[3]> multi\r\nOK\n' +
          'aofkv[3](TX)> ping\r\nQUEUED\n' +
          'aofkv[3](TX)> exec\r\n1) PONG\n' +
          'aofkv[3]> get nope\r\n(nil)\n' +
          'aofkv[3]> quit\r\n',
      );
      expect(await readFile(histfile, 'utf8')).toBe(lines.map((l) => `${l}\n`).join(''));
    },
  );

  it('loads the history file and ends at end of input (Ctrl-D) with exit code 0', async () => {
    const histfile = path.join(tmp, 'history');
    await writeFile(histfile, 'old one\nold two\n');
    const stdin = Object.assign(new PassThrough(), { isTTY: true as const });
    const m = memoryIo('', { AOFKV_HISTFILE: histfile });
    const done = runShell(['--dir', path.join(tmp, 'data'), '--appendonly', 'no'], {
      ...m.io,
      stdin,
    });
    stdin.write('ping\r');
    stdin.end();
    expect(await done).toBe(0);
    expect(await readFile(histfile, 'utf8')).toBe('old one\nold two\nping\n');
  });
});

/** Counts prompts ("> " after a prompt name) written to `out`; `reach(n)` resolves at the n-th. */
function promptCounter(out: NodeJS.EventEmitter) {
  let screen = '';
  let waiter: { n: number; resolve: () => void } | null = null;
  const count = () => (screen.match(/aofkv(\[\d+\])?(\(TX\))?> /g) ?? []).length;
  out.on('data', (chunk: Buffer) => {
    screen += chunk.toString('latin1');
    if (waiter !== null && count() >= waiter.n) {
      waiter.resolve();
      waiter = null;
    }
  });
  return {
    reach(n: number): Promise<void> {
      if (count() >= n) return Promise.resolve();
      return new Promise((resolve) => {
        waiter = { n, resolve };
      });
    },
  };
}
