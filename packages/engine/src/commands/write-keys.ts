// Keys a write command may change in place, for a copy-on-write snapshot (the AOF rewrite's,
// keyspace/db.ts CopyOnWrite): the command table's key positions, plus the numkeys forms whose
// keys the table cannot describe (Redis's movablekeys). A fact of the command table.

import type { Bin } from '../bytes.ts';

/** The keys `argv` (a command of the table's `name`, with its key positions) may change. */
export function writeKeysOf(
  name: string,
  firstKey: number,
  lastKey: number,
  keyStep: number,
  argv: readonly Bin[],
): Bin[] {
  const keys: Bin[] = [];
  if (name === 'lmpop' || name === 'zmpop') {
    const n = Number(argv[1]);
    for (let i = 2; i < 2 + n && i < argv.length; i++) keys.push(argv[i]!);
    return keys;
  }
  if (name === 'xreadgroup') {
    // XREADGROUP ... STREAMS key ... id ...: the keys are the first half after STREAMS, which
    // Redis's key spec looks for from argument 4 on (after GROUP <group> <consumer> at least).
    let at = 4;
    while (at < argv.length && argv[at]!.toLowerCase() !== 'streams') at++;
    const n = Math.floor((argv.length - at - 1) / 2);
    for (let i = at + 1; i < at + 1 + n; i++) keys.push(argv[i]!);
    return keys;
  }
  if (
    name === 'zunionstore' ||
    name === 'zinterstore' ||
    name === 'zdiffstore' ||
    name === 'zrangestore'
  ) {
    if (argv.length > 1) keys.push(argv[1]!);
    return keys;
  }
  if (firstKey <= 0) return keys;
  const last = lastKey < 0 ? argv.length + lastKey : lastKey;
  for (let i = firstKey; i <= last && i < argv.length; i += Math.max(1, keyStep))
    keys.push(argv[i]!);
  return keys;
}
