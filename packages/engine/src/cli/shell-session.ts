// One shell connection: what redis-cli 7.0.15's repl() does with each input line, in both the
// interactive and the piped mode (redis-cli runs the same loop for both; only line input differs):
//   - the line is split with sdssplitargs; bad quoting prints "Invalid argument(s)";
//   - a blank line does nothing;
//   - a leading integer is a repeat count ("3 ping" sends PING three times); a count that is 0,
//     negative, out of range or empty prints "Invalid redis-cli repeat command option value.";
//   - quit / exit end the session (checked on the first word, before the repeat count is dropped);
//   - ":set hints" and friends are redis-cli preferences, "restart" is for the Lua debugger,
//     "clear" writes the clear-screen escape, "help" / "?" print help locally;
//   - everything else goes to the server, one reply at a time, printed with cliFormatReply.
// Replies are awaited one by one, so output order is the command order.

import type { Bin } from '../bytes.ts';
import type { Engine } from '../engine.ts';
import type { Client } from '../server.ts';
import { cString, formatReply, type OutputMode } from './redis-cli-format.ts';
import { runCommand } from './run-command.ts';
import { splitArgs } from './split-args.ts';

export type LineOutcome = 'continue' | 'quit';

export interface SessionOptions {
  readonly mode: OutputMode;
  /** Where replies go (bytes, written as latin1). */
  readonly write: (bytes: Bin) => Promise<void>;
  /** Where notes about unsupported redis-cli features go (stderr). */
  readonly warn: (text: string) => Promise<void>;
  /**
   * Milliseconds clock for the "(0.53s)" slow-command note of the TTY mode (default
   * performance.now).
   */
  readonly nowMs?: () => number;
  /** Interrupts a long repeat ("1000000 incr n") between two commands. */
  readonly signal?: AbortSignal;
}

export const HELP_TEXT =
  'aofkv shell: a redis-cli 7.0 compatible shell on an embedded aofkv engine\n' +
  'Type Redis commands, e.g. SET key value; see https://redis.io/commands\n' +
  '      "N command" runs a command N times\n' +
  '      "quit" to exit\n';

export class ShellSession {
  readonly engine: Engine;
  readonly client: Client;
  private readonly options: SessionOptions;

  constructor(engine: Engine, options: SessionOptions) {
    this.engine = engine;
    this.options = options;
    this.client = engine.db(0).client;
  }

  /** redis-cli cliRefreshPrompt with "aofkv" for host:port: `aofkv[3](TX)> `. */
  prompt(): string {
    const db = this.client.dbIndex;
    return `aofkv${db !== 0 ? `[${db}]` : ''}${this.client.inMulti ? '(TX)' : ''}> `;
  }

  /** Process one input line (bytes, without its "\n"). Rejects only on engine failures. */
  async line(line: Bin): Promise<LineOutcome> {
    const { write } = this.options;
    if (cString(line) === '') return 'continue';
    const argv = splitArgs(line);
    if (argv === null) {
      await write('Invalid argument(s)\n');
      return 'continue';
    }
    if (argv.length === 0) return 'continue';

    let repeat = 1;
    let skip = 0;
    if (argv.length > 1) {
      const count = parseRepeatCount(argv[0]!);
      if (count === 'invalid') {
        await write('Invalid redis-cli repeat command option value.\n');
        return 'continue';
      }
      if (count !== 'none') {
        repeat = count;
        skip = 1;
      }
    }

    const first = cString(argv[0]!).toLowerCase();
    if (first === 'quit' || first === 'exit') return 'quit';
    if (first.startsWith(':')) {
      await write(preferenceReply(argv));
      return 'continue';
    }
    if (first === 'restart') {
      await write("Use 'restart' only in Lua debugging mode.\n");
      return 'continue';
    }
    if (argv.length === 3 && first === 'connect') {
      await this.options.warn(
        'aofkv shell: CONNECT is not supported (the shell runs on an embedded engine)\n',
      );
      return 'continue';
    }
    if (argv.length === 1 && first === 'clear') {
      // linenoiseClearScreen writes this even when stdout is not a TTY
      await write('\x1b[H\x1b[2J');
      return 'continue';
    }
    await this.issue(argv.slice(skip), repeat);
    return 'continue';
  }

  /** redis-cli issueCommandRepeat + cliSendCommand. */
  private async issue(argv: Bin[], repeat: number): Promise<void> {
    const { write, mode } = this.options;
    const name = cString(argv[0]!).toLowerCase();
    if (name === 'help' || name === '?') {
      await write(HELP_TEXT);
      return;
    }
    const now = this.options.nowMs ?? (() => performance.now());
    const start = now();
    for (let i = 0; i < repeat && this.options.signal?.aborted !== true; i++) {
      const reply = await runCommand(this.engine, this.client, argv);
      await write(formatReply(reply, mode, argv));
    }
    const elapsed = now() - start;
    if (elapsed >= 500 && mode === 'tty') await write(`(${(elapsed / 1000).toFixed(2)}s)\n`);
  }
}

/**
 * repl()'s repeat prefix: `strtol(argv[0], &end, 10)` with `*end == '\0'` (so the whole word is
 * an optionally blank-prefixed, signed decimal, or empty). 'none' when the word is not a number;
 * 'invalid' when it is one but not in 1..LONG_MAX.
 */
export function parseRepeatCount(word: Bin): number | 'none' | 'invalid' {
  const s = cString(word);
  if (s === '') return 'invalid'; // strtol("") converts nothing and leaves *end == '\0': repeat 0
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)$/.exec(s);
  if (m === null) return 'none';
  const n = BigInt(m[1]!);
  if (n <= 0n || n > 9223372036854775807n) return 'invalid';
  return Number(n);
}

/** redis-cli cliSetPreferences(argv, argc, interactive=1). */
function preferenceReply(argv: readonly Bin[]): string {
  const cmd = cString(argv[0]!);
  if (cmd.toLowerCase() === ':set' && argv.length >= 2) {
    const pref = cString(argv[1]!);
    const lower = pref.toLowerCase();
    if (lower === 'hints' || lower === 'nohints') return ''; // accepted; this shell shows no hints
    return `unknown redis-cli preference '${pref}'\n`;
  }
  return `unknown redis-cli internal command '${cmd}'\n`;
}
