// The streams and environment a subcommand runs with. main.ts passes the process's; tests pass
// PassThrough streams, so every subcommand runs in-process without a terminal.

import { once } from 'node:events';
import type { Bin } from '../bytes.ts';

export interface CliInput extends NodeJS.ReadableStream {
  readonly isTTY?: boolean;
}

export interface CliOutput extends NodeJS.WritableStream {
  readonly isTTY?: boolean;
}

export interface CliIo {
  readonly stdin: CliInput;
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborted when the user interrupts (SIGINT/SIGTERM): stop reading input, close cleanly. */
  readonly signal?: AbortSignal;
}

/** A subcommand: resolves with the process exit code. */
export type SubcommandRun = (args: readonly string[], io: CliIo) => Promise<number>;

/**
 * Write bytes (a Bin, written as latin1 so every byte passes unchanged), honouring backpressure.
 */
export async function writeBytes(out: CliOutput, bytes: Bin | Buffer): Promise<void> {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  if (buf.length === 0) return;
  if (!out.write(buf)) await once(out, 'drain');
}

/** Write UTF-8 text (messages, JSON). */
export async function writeText(out: CliOutput, text: string): Promise<void> {
  await writeBytes(out, Buffer.from(text, 'utf8'));
}
