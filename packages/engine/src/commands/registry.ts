// The command table: every command module contributes a list of specs; lookup is by lower-case
// name.
import type { CommandSpec } from './types.ts';
import { stringCommands } from './strings.ts';
import { keyCommands } from './keys.ts';
import { listCommands } from './lists.ts';
import { hashCommands } from './hashes.ts';
import { setCommands } from './sets.ts';
import { zsetCommands } from './zsets.ts';
import { streamCommands } from './streams.ts';
import { collectionScanCommands } from './collection-scan.ts';
import { streamGroupCommands } from './stream-groups.ts';
import { serverCommands } from './server-commands.ts';
import { objectCommands } from './object-command.ts';

export type CommandTable = ReadonlyMap<string, CommandSpec>;

export function buildCommandTable(extra: readonly CommandSpec[] = []): CommandTable {
  const table = new Map<string, CommandSpec>();
  const all = [
    ...stringCommands,
    ...keyCommands,
    ...listCommands,
    ...hashCommands,
    ...setCommands,
    ...zsetCommands,
    ...streamCommands,
    ...streamGroupCommands,
    ...collectionScanCommands,
    ...serverCommands,
    ...objectCommands,
    ...extra,
  ];
  for (const spec of all) {
    if (table.has(spec.name)) throw new Error(`duplicate command ${spec.name}`);
    table.set(spec.name, spec);
  }
  return table;
}
