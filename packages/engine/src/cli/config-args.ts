// Command-line arguments of the aofkv subcommands: a few boolean flags of the subcommand itself
// plus Redis configuration directives written like redis-server's command line,
// `--<redis-config-name> VALUE` or `--<redis-config-name>=VALUE` (e.g. `--appendfsync always`).
// Names and values go through the engine's config table (config.ts), so every option the engine
// knows is accepted with its Redis name and parsed exactly as CONFIG SET parses it.
//
// node:util parseArgs tokenizes (strict:false lets the config names through without declaring
// each one); we pair each unknown option with the argument after it by index, so a value may
// start with a dash (`--hz -1` reaches the range check instead of becoming an option).

import { parseArgs } from 'node:util';
import { CONFIG_TABLE, optionByRedisName, parseOptionText, type EngineConfig } from '../config.ts';

/** A mistake on the command line: printed with the subcommand's usage hint, exit code 1. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

export interface ArgSpec {
  /** Subcommand name, for messages. */
  readonly command: string;
  /** Boolean flags of the subcommand (`--help` is always accepted, also as `-h`). */
  readonly flags?: readonly string[];
  /** Redis config names accepted (default: every name in the config table). */
  readonly configNames?: readonly string[];
  /** Whether positional arguments are allowed (default false). */
  readonly positionals?: boolean;
  /** Options of the subcommand itself that take a value (`--port 6379`). */
  readonly valueOptions?: readonly string[];
}

export interface ParsedArgs {
  /** openEngine options from the config directives, keyed by the camelCase option name. */
  readonly config: Partial<EngineConfig>;
  readonly flags: ReadonlySet<string>;
  readonly positionals: readonly string[];
  /** Values of the subcommand's own valueOptions, by name (the last one given wins). */
  readonly values: ReadonlyMap<string, string>;
}

type ConfigValue = EngineConfig[keyof EngineConfig];

export function parseCommandArgs(args: readonly string[], spec: ArgSpec): ParsedArgs {
  const flagNames = new Set(['help', ...(spec.flags ?? [])]);
  const allowed = new Set(spec.configNames ?? CONFIG_TABLE.map((o) => o.redisName));
  const declared: Record<string, { type: 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const f of flagNames) declared[f] ??= { type: 'boolean' };

  const { tokens } = parseArgs({
    args: [...args],
    options: declared,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const config: Record<string, ConfigValue> = {};
  const flags = new Set<string>();
  const positionals: string[] = [];
  const values = new Map<string, string>();
  const valueNames = new Set(spec.valueOptions ?? []);
  const consumed = new Set<number>();
  let afterTerminator = false;

  for (const token of tokens) {
    if (consumed.has(token.index)) continue;
    if (token.kind === 'option-terminator') {
      afterTerminator = true;
      continue;
    }
    if (token.kind === 'positional') {
      if (!afterTerminator && spec.positionals !== true) {
        throw new CliUsageError(`unexpected argument '${token.value}'`);
      }
      positionals.push(token.value);
      continue;
    }
    if (flagNames.has(token.name)) {
      if (token.inlineValue === true)
        throw new CliUsageError(`option ${token.rawName} does not take a value`);
      flags.add(token.name);
      continue;
    }
    if (valueNames.has(token.name) && token.rawName.startsWith('--')) {
      const next = args[token.index + 1];
      if (token.inlineValue === true) {
        values.set(token.name, token.value ?? '');
      } else if (next === undefined) {
        throw new CliUsageError(`option ${token.rawName} needs a value`);
      } else {
        values.set(token.name, next);
        consumed.add(token.index + 1);
      }
      continue;
    }
    const option = token.rawName.startsWith('--') ? optionByRedisName(token.name) : undefined;
    if (option === undefined || !allowed.has(option.redisName)) {
      throw new CliUsageError(
        `unknown option '${token.rawName}': not an option of 'aofkv ${spec.command}'` +
          (option === undefined ? ' nor a Redis config option this engine knows' : ''),
      );
    }
    let text: string;
    if (token.inlineValue === true) {
      text = token.value ?? '';
    } else {
      const next = args[token.index + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        throw new CliUsageError(
          `option ${token.rawName} needs a value (write ${token.rawName}=VALUE ` +
            `for a value that starts with '--')`,
        );
      }
      text = next;
      consumed.add(token.index + 1);
    }
    try {
      config[option.key] = parseOptionText(option, text);
    } catch (err) {
      throw new CliUsageError(
        `invalid value '${text}' for ${token.rawName}: ${(err as Error).message}`,
      );
    }
  }
  return { config: config as Partial<EngineConfig>, flags, positionals, values };
}
