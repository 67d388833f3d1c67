import type { CommandSpec } from './types.ts';

export const stringCommands: CommandSpec[] = [];
