// Line history of the interactive shell, kept like redis-cli keeps ~/.rediscli_history
// (REDISCLI_HISTFILE overrides it, "/dev/null" disables it): ~/.aofkv_history, overridden by
// AOFKV_HISTFILE. The history lives in the home directory, not in the data directory, so it is
// never mixed with the files of a data set (and survives `rm -rf data`). Like linenoise, the file
// is one entry per line, oldest first, at most 100 entries, rewritten after every line; a history
// file that cannot be read or written is silently ignored, as redis-cli does.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** linenoise LINENOISE_DEFAULT_HISTORY_MAX_LEN. */
export const HISTORY_MAX = 100;

/** The history file to use, or null when history is disabled. */
export function historyPath(env: Readonly<Record<string, string | undefined>>): string | null {
  const override = env['AOFKV_HISTFILE'];
  if (override !== undefined && override !== '') return override === '/dev/null' ? null : override;
  const home = env['HOME'] !== undefined && env['HOME'] !== '' ? env['HOME'] : os.homedir();
  return path.join(home, '.aofkv_history');
}

/** Entries oldest first (empty when there is no readable file). */
export function loadHistory(file: string | null): string[] {
  if (file === null) return [];
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const lines = text
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l !== '');
  return lines.slice(-HISTORY_MAX);
}

/** Write entries (oldest first). */
export function saveHistory(file: string | null, entries: readonly string[]): void {
  if (file === null) return;
  try {
    fs.writeFileSync(
      file,
      entries
        .slice(-HISTORY_MAX)
        .map((e) => `${e}\n`)
        .join(''),
      { mode: 0o600 },
    );
  } catch {
    // redis-cli ignores a history file it cannot write
  }
}
