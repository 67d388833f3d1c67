import type { CommandSpec } from './types.ts';

export const keyCommands: CommandSpec[] = [];
