// `aofkv shell [--dir D] [--raw|--no-raw] [--<redis-config-name> VALUE ...]`: a redis-cli on an
// embedded engine. As in redis-cli, stdin decides how lines are read (a TTY gets a line editor
// with a prompt and history, anything else is read line by line with no prompt) and stdout decides
// how replies look (TTY: the human format; otherwise the raw format), so
//   pnpm aofkv shell --appendonly no < cmds.txt    and    redis-cli < cmds.txt
// print the same bytes. --raw / --no-raw force the output format, like redis-cli's.

import readline from 'node:readline';
import { addAbortSignal, Readable } from 'node:stream';
import { CONFIG_TABLE } from '../config.ts';
import { openEngine, type Engine, type EngineOptions } from '../engine.ts';
import { CliUsageError, parseCommandArgs } from './config-args.ts';
import { historyPath, loadHistory, saveHistory } from './history.ts';
import { readByteLines } from './input-lines.ts';
import { writeBytes, writeText, type CliIo } from './io.ts';
import { loadProgressDisplay } from './load-progress.ts';
import type { OutputMode } from './redis-cli-format.ts';
import { ShellSession } from './shell-session.ts';

export const SHELL_USAGE =
  'Usage: aofkv shell [--dir DIR] [--raw | --no-raw] [--<redis-config-name> VALUE ...]\n' +
  `
A redis-cli compatible shell on an embedded engine whose data lives in DIR (default ./data,
created if missing). Any Redis configuration directive the engine knows can be given the way
redis-server takes it, e.g. --appendonly yes --appendfsync always --aof-use-rdb-preamble no.

With a terminal on stdin: a prompt (aofkv[db]>), line editing and history in ~/.aofkv_history
(AOFKV_HISTFILE overrides it, /dev/null disables it). Otherwise one command per line is read from
stdin. Replies are printed like redis-cli prints them: human-readable on a terminal, raw when
stdout is a pipe or file; --raw / --no-raw force one or the other.

Redis config options: ${CONFIG_TABLE.map((o) => `--${o.redisName}`).join(' ')}
`;

/** How the shell gets its engine; tests substitute an engine on the simulated file system. */
export type EngineOpener = (options: EngineOptions) => Promise<Engine>;

export async function runShell(
  args: readonly string[],
  io: CliIo,
  open: EngineOpener = openEngine,
): Promise<number> {
  const parsed = parseCommandArgs(args, { command: 'shell', flags: ['raw', 'no-raw'] });
  if (parsed.flags.has('help')) {
    await writeText(io.stdout, SHELL_USAGE);
    return 0;
  }
  if (parsed.flags.has('raw') && parsed.flags.has('no-raw'))
    throw new CliUsageError('--raw and --no-raw exclude each other');
  const mode: OutputMode = parsed.flags.has('raw')
    ? 'raw'
    : parsed.flags.has('no-raw') || io.stdout.isTTY === true
      ? 'tty'
      : 'raw';

  // A bar on stderr while a large data directory loads (only on a terminal, after a second).
  const progress = loadProgressDisplay(io.stderr);
  const options: EngineOptions = {
    ...parsed.config,
    // Loading and AOF warnings (truncated file loaded anyway, ...) are worth seeing; Redis logs
    // them on the server's side, so they go to stderr and never mix with the replies.
    logger: (level, message) => {
      if (level === 'warning') io.stderr.write(`aofkv: ${message}\n`);
    },
    onLoadProgress: progress.onLoadProgress,
  };
  let engine: Engine;
  try {
    // openEngine creates the data directory (and the AOF directory) when they are missing.
    engine = await open(options);
  } catch (err) {
    progress.stop(); // clear the bar before the message
    await writeText(
      io.stderr,
      `aofkv shell: cannot open the data directory '${options.dir ?? './data'}': ${message(err)}\n`,
    );
    return 1;
  }
  progress.stop();

  const session = new ShellSession(engine, {
    mode,
    write: (bytes) => writeBytes(io.stdout, bytes),
    warn: (text) => writeText(io.stderr, text),
    ...(io.signal !== undefined ? { signal: io.signal } : {}),
  });
  let code = 0;
  try {
    if (io.stdin.isTTY === true) await interactive(session, io);
    else await piped(session, io);
  } catch (err) {
    // Only engine failures reach here (a fatal AOF error under appendfsync always, ...): the
    // command that hit it was not acknowledged, so nothing was printed for it.
    await writeText(io.stderr, `aofkv shell: ${message(err)}\n`);
    code = 1;
  }
  try {
    await engine.close();
  } catch (err) {
    await writeText(io.stderr, `aofkv shell: closing the engine failed: ${message(err)}\n`);
    code = 1;
  }
  return code;
}

async function piped(session: ShellSession, io: CliIo): Promise<void> {
  const { signal } = io;
  // An interrupt destroys stdin, which ends the loop below with an AbortError.
  if (signal !== undefined && io.stdin instanceof Readable) addAbortSignal(signal, io.stdin);
  try {
    for await (const line of readByteLines(io.stdin)) {
      if (signal?.aborted === true || (await session.line(line)) === 'quit') return;
    }
  } catch (err) {
    if (signal?.aborted !== true) throw err;
  }
}

async function interactive(session: ShellSession, io: CliIo): Promise<void> {
  const file = historyPath(io.env);
  const rl = readline.createInterface({
    input: io.stdin,
    output: io.stdout,
    terminal: true,
    prompt: session.prompt(),
    // readline keeps history newest first.
    history: loadHistory(file).reverse(),
    historySize: 100,
  });
  rl.on('history', (entries: string[]) => saveHistory(file, [...entries].reverse()));
  // Ctrl-C leaves like redis-cli (linenoise returns NULL and repl() ends); Ctrl-D closes too.
  rl.on('SIGINT', () => rl.close());
  io.signal?.addEventListener('abort', () => rl.close(), { once: true });
  try {
    rl.prompt();
    for await (const text of rl) {
      // The terminal sends UTF-8; the command gets those bytes.
      const line = Buffer.from(text, 'utf8').toString('latin1');
      if ((await session.line(line)) === 'quit') return;
      rl.setPrompt(session.prompt());
      rl.prompt();
    }
  } finally {
    rl.close();
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
