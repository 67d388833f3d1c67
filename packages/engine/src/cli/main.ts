#!/usr/bin/env node
// Entry point of the `aofkv` command (`pnpm aofkv ...` runs this file through tsx). Everything
// testable lives in router.ts; this file only binds the process's streams and exit code.

import { runCli } from './router.ts';

// `aofkv dump | head` closes our stdout early: stop quietly instead of dying on EPIPE.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

// SIGINT/SIGTERM: let the running subcommand stop reading and close the engine (flush, fsync),
// then exit with 128 + the signal number. A second signal exits at once.
const interrupt = new AbortController();
let signalExitCode: number | null = null;
for (const [name, number] of [
  ['SIGINT', 2],
  ['SIGTERM', 15],
] as const) {
  process.on(name, () => {
    if (signalExitCode !== null) process.exit(128 + number);
    signalExitCode = 128 + number;
    interrupt.abort();
  });
}

let code: number;
try {
  code = await runCli(process.argv.slice(2), {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    signal: interrupt.signal,
  });
  if (signalExitCode !== null) code = signalExitCode;
} catch (err) {
  process.stderr.write(
    `aofkv: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  code = 70; // EX_SOFTWARE: a bug, not a usage or data problem
}
// Exit explicitly once stdout is flushed: a TTY stdin in raw mode or a worker thread must not keep
// the process alive after the session ended.
process.stdout.write('', () => process.exit(code));
