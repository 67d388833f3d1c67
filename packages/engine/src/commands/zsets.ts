import type { CommandSpec } from './types.ts';

export const zsetCommands: CommandSpec[] = [];
