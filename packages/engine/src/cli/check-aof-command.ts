// `aofkv check-aof [--fix] [--truncate-to-timestamp T] [-y] <manifest|file>`: redis-check-aof 7.0
// on the real file system (src/aof/check-aof.ts does the work and owns the argument rules, so
// the accepted command lines and the exit codes are exactly redis-check-aof's; `-y` answers the
// --fix prompt in advance, for scripts). Report lines go to stdout, as redis-check-aof prints
// them; the `Continue? [y/N]:` prompt is answered with one line read from stdin (end of input
// counts as "no", as fgets returning NULL does in redis-check-aof).

import readline from 'node:readline';
import { checkAof, type CheckIo } from '../aof/check-aof.ts';
import { describeHolder, findLockHolderOf } from '../io/dir-lock.ts';
import { NodeFileSystem } from '../io/node-file-system.ts';
import { NodeProcessProbe } from '../io/process-probe.ts';
import { writeText, type CliIo } from './io.ts';

export const CHECK_AOF_USAGE =
  'Usage: aofkv check-aof [--fix | --truncate-to-timestamp T] [-y] ' +
  '[--corrupt-tail-max-size N] <file.manifest | file.aof>\n' +
  `
Checks a multi-part AOF (give the manifest) or a single pre-7.0 AOF file the way redis-check-aof
7.0 does, with the same report and exit code (0: valid or repaired, 1: not valid or not repaired).
  --fix                        cut the last file back to its last complete command (asks first)
  --truncate-to-timestamp T    cut the last file at the first #TS: annotation later than T
  -y, --yes                    answer yes to the --fix question
  --corrupt-tail-max-size N    Redis 8.4's aof-load-corrupt-tail-max-size for --fix: refuse to cut
                               a format error that starts more than N bytes before the end of
                               the last file (0, the default: cut at any error, as Redis 7.0)
`;

export async function runCheckAof(args: readonly string[], io: CliIo): Promise<number> {
  if (args.length === 1 && (args[0] === '--help' || args[0] === '-h')) {
    await writeText(io.stdout, CHECK_AOF_USAGE);
    return 0;
  }
  const fs = new NodeFileSystem();
  // The engine's lock: a check only reads (say so, the last file may grow meanwhile); a repair
  // would cut a file under a live writer, so it is refused. redis-check-aof has no such lock.
  const target = args[args.length - 1];
  const holder = target === undefined ? null : findLockHolderOf(fs, new NodeProcessProbe(), target);
  if (holder !== null) {
    const modifies = args.includes('--fix') || args.includes('--truncate-to-timestamp');
    const who = `${describeHolder(holder.record)} (lock file ${holder.lockPath})`;
    if (modifies) {
      await writeText(
        io.stderr,
        `aofkv check-aof: refusing to modify the AOF: an engine is writing it, ${who}. ` +
          'Close that engine first.\n',
      );
      return 1;
    }
    await writeText(
      io.stderr,
      `aofkv check-aof: warning: an engine is writing this AOF, ${who}; checking it anyway ` +
        '(its last file may grow while it is read)\n',
    );
  }
  // Lines are written as they come (the report may be long); awaited before returning.
  let pending: Promise<void> = Promise.resolve();
  const out = (text: string) => {
    pending = pending.then(() => writeText(io.stdout, text));
  };
  const checkIo: CheckIo = {
    out: (line) => out(`${line}\n`),
    prompt: async (question) => {
      out(question);
      await pending;
      return readOneLine(io);
    },
  };
  const code = await checkAof(args, fs, checkIo);
  await pending;
  return code;
}

/** The next line of stdin (without its newline), or null at end of input. */
async function readOneLine(io: CliIo): Promise<string | null> {
  const rl = readline.createInterface({ input: io.stdin, terminal: false, crlfDelay: Infinity });
  try {
    for await (const line of rl) return line;
    return null;
  } finally {
    rl.close();
  }
}
