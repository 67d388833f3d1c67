// `aofkv dump [--dir D] [--appenddirname N] [--appendfilename F]`: open the data directory with
// the engine in read-only mode (load everything, write nothing: no INCR file opened, no truncation,
// nothing created) and print dumpKeyspace() of what was loaded.

import fs from 'node:fs';
import { openEngine, type Engine, type EngineOptions } from '../engine.ts';
import { parseCommandArgs } from './config-args.ts';
import { DUMP_FORMAT, dumpKeyspace } from './dump.ts';
import { writeText, type CliIo } from './io.ts';
import { loadProgressDisplay } from './load-progress.ts';

export const DUMP_USAGE =
  'Usage: aofkv dump [--dir DIR] [--appenddirname NAME] [--appendfilename NAME]\n' +
  `
Loads the data directory DIR (default ./data) without modifying any file and prints the whole
keyspace as canonical JSON (format "${DUMP_FORMAT}") on stdout.
`;

const DUMP_OPTIONS = ['dir', 'appenddirname', 'appendfilename'];

export async function runDump(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(args, { command: 'dump', configNames: DUMP_OPTIONS });
  if (parsed.flags.has('help')) {
    await writeText(io.stdout, DUMP_USAGE);
    return 0;
  }
  const dir = parsed.config.dir ?? './data';
  // A missing directory is a mistake (a typo in --dir), not an empty data set; and dump must not
  // create anything.
  if (!isDirectory(dir)) {
    await writeText(io.stderr, `aofkv dump: '${dir}' is not a directory\n`);
    return 1;
  }
  // A bar on stderr for loads that take more than a second (only when stderr is a terminal).
  const progress = loadProgressDisplay(io.stderr);
  const options: EngineOptions = {
    ...parsed.config,
    dir,
    appendonly: true,
    readOnly: true,
    logger: (level, message) => {
      if (level === 'warning') io.stderr.write(`aofkv: ${message}\n`);
    },
    onLoadProgress: progress.onLoadProgress,
  };
  let engine: Engine;
  try {
    engine = await openEngine(options);
  } catch (err) {
    progress.stop(); // clear the bar before the message
    await writeText(
      io.stderr,
      `aofkv dump: cannot load '${dir}': ${err instanceof Error ? err.message : String(err)}\n`,
    );
    return 1;
  }
  progress.stop();
  try {
    await writeText(io.stdout, `${dumpKeyspace(engine.server.dbs)}\n`);
  } finally {
    await engine.close();
  }
  return 0;
}

function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
