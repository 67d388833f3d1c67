import type { CommandSpec } from './types.ts';

export const hashCommands: CommandSpec[] = [];
