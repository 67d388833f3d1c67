// The aofkv command line: `aofkv <subcommand> [args...]`. Each subcommand is one entry in
// SUBCOMMANDS (name, one-line summary, run function); adding one (e.g. check-aof) is adding an
// entry. A subcommand parses its own arguments (config-args.ts) and resolves with the exit code;
// CliUsageError from it is reported here with a pointer to --help, exit code 1.

import { runCheckAof } from './check-aof-command.ts';
import { CliUsageError } from './config-args.ts';
import { runDump } from './dump-command.ts';
import { writeText, type CliIo, type SubcommandRun } from './io.ts';
import { runServer } from './server-command.ts';
import { runShell } from './shell.ts';

export interface Subcommand {
  readonly name: string;
  readonly summary: string;
  readonly run: SubcommandRun;
}

export const SUBCOMMANDS: readonly Subcommand[] = [
  { name: 'server', summary: 'a Redis-protocol server on an engine', run: runServer },
  { name: 'shell', summary: 'a redis-cli compatible shell on an embedded engine', run: runShell },
  {
    name: 'dump',
    summary: 'print the keyspace of a data directory as canonical JSON (read-only)',
    run: runDump,
  },
  {
    name: 'check-aof',
    summary: 'check (and with --fix repair) an AOF like redis-check-aof',
    run: runCheckAof,
  },
];

export function usage(): string {
  const width = Math.max(...SUBCOMMANDS.map((c) => c.name.length));
  const lines = SUBCOMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return (
    `Usage: aofkv <command> [options]\n\nCommands:\n${lines.join('\n')}\n\n` +
    `Run 'aofkv <command> --help' for the options of a command.\n`
  );
}

/** Run `aofkv <argv...>`; resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    await writeText(name === undefined ? io.stderr : io.stdout, usage());
    return name === undefined ? 1 : 0;
  }
  const sub = SUBCOMMANDS.find((c) => c.name === name);
  if (sub === undefined) {
    await writeText(io.stderr, `aofkv: unknown command '${name}'\n\n${usage()}`);
    return 1;
  }
  try {
    return await sub.run(rest, io);
  } catch (err) {
    if (err instanceof CliUsageError) {
      await writeText(
        io.stderr,
        `aofkv ${sub.name}: ${err.message}\nRun 'aofkv ${sub.name} --help' for usage.\n`,
      );
      return 1;
    }
    throw err;
  }
}
