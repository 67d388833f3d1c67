// Helpers for the CLI tests: run `aofkv ...` in-process on in-memory streams, or as a real child
// process exactly as `pnpm aofkv` runs it (node --import tsx --conditions=@aofkv/source main.ts).

import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/cli/router.ts';
import type { CliIo } from '../../src/cli/io.ts';

export interface CliResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const MAIN_TS = path.join(REPO_ROOT, 'packages/engine/src/cli/main.ts');

/** In-memory streams for a subcommand; `input` is stdin's whole content. */
export function memoryIo(input: string | Buffer, env: Record<string, string> = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const io: CliIo = {
    stdin: Readable.from([typeof input === 'string' ? Buffer.from(input, 'latin1') : input]),
    stdout,
    stderr,
    env,
  };
  return {
    io,
    stdout: () => Buffer.concat(out),
    stderr: () => Buffer.concat(err).toString('utf8'),
  };
}

/** `aofkv <argv>` in this process, stdin from `input` (a latin1 byte string or a Buffer). */
export async function runCliInProcess(
  argv: string[],
  input: string | Buffer = '',
): Promise<CliResult> {
  const m = memoryIo(input);
  const code = await runCli(argv, m.io);
  return { code, stdout: m.stdout(), stderr: m.stderr() };
}

/** `aofkv <argv>` as a child process with stdin from `input`, stdout/stderr piped. */
export function spawnCli(
  argv: string[],
  input: string | Buffer = '',
  env: NodeJS.ProcessEnv = process.env,
): Promise<CliResult> {
  return collect(
    spawn(process.execPath, ['--import', 'tsx', '--conditions=@aofkv/source', MAIN_TS, ...argv], {
      cwd: REPO_ROOT,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
    input,
  );
}

/** Whether `redis-cli` can be run. */
export function haveRedisCli(): boolean {
  return spawnSync('redis-cli', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Pipe `input` into `redis-cli -p port`. stdout is a pipe, so redis-cli prints its raw format;
 * with `fakeTty` it gets FAKETTY=1, its own switch for the TTY format on a pipe (redis-cli.c main).
 */
export function pipeIntoRedisCli(
  port: number,
  input: string | Buffer,
  options: { fakeTty?: boolean } = {},
): Promise<CliResult> {
  const env = { ...process.env };
  if (options.fakeTty === true) env['FAKETTY'] = '1';
  else delete env['FAKETTY'];
  return collect(
    spawn('redis-cli', ['-p', String(port)], { env, stdio: ['pipe', 'pipe', 'pipe'] }),
    input,
  );
}

/** Feed `input` to a piped child's stdin and gather its exit code, stdout and stderr. */
function collect(
  child: ChildProcessWithoutNullStreams,
  input: string | Buffer,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.once('error', reject);
    child.once('close', (code) =>
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
    child.stdin.end(typeof input === 'string' ? Buffer.from(input, 'latin1') : input);
  });
}
