import type { CommandSpec } from './types.ts';

export const listCommands: CommandSpec[] = [];
