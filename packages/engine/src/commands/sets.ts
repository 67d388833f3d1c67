import type { CommandSpec } from './types.ts';

export const setCommands: CommandSpec[] = [];
