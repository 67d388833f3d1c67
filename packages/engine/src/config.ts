// DESIGN: one typed table of every configuration option the engine has (Redis src/config.c):
// the Redis name, the camelCase option name used by openEngine(), the type, the default, whether
// CONFIG SET may change it at runtime, and how a value is parsed from text. Validation errors name
// the option. Runtime side effects of a change (switching fsync policy, turning the AOF on/off)
// are applied by the engine through the `onChange` listener, not here.

import { EngineError } from './errors.ts';

export type FsyncPolicy = 'always' | 'everysec' | 'no';

export interface EngineConfig {
  dir: string;
  appendonly: boolean;
  appendfsync: FsyncPolicy;
  appendfilename: string;
  appenddirname: string;
  aofUseRdbPreamble: boolean;
  aofLoadTruncated: boolean;
  aofLoadCorruptTailMaxSize: number;
  aofTimestampEnabled: boolean;
  aofDisableAutoGc: boolean;
  aofRewriteIncrementalFsync: boolean;
  autoAofRewritePercentage: number;
  autoAofRewriteMinSize: number;
  noAppendfsyncOnRewrite: boolean;
  hz: number;
  databases: number;
  lazyfreeLazyExpire: boolean;
  lazyfreeLazyUserDel: boolean;
  latencyMonitorThreshold: number;
  // The network server's options (engine.listen(), `aofkv server`); an embedded engine that
  // does not listen ignores them.
  requirepass: string;
  protectedMode: boolean;
  maxclients: number;
  timeout: number;
  protoMaxBulkLen: number;
  clientQueryBufferLimit: number;
  save: string;
}

type Kind = 'bool' | 'enum' | 'int' | 'memory' | 'string' | 'filename';

interface OptionSpec<K extends keyof EngineConfig = keyof EngineConfig> {
  readonly key: K;
  readonly redisName: string;
  readonly kind: Kind;
  readonly defaultValue: EngineConfig[K];
  readonly mutable: boolean;
  readonly enumValues?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  /** Redis DENY_LOADING_CONFIG: CONFIG SET answers LOADING while the dataset loads. */
  readonly denyLoading?: boolean;
}

const INT_MAX = 2147483647;

export const CONFIG_TABLE: readonly OptionSpec[] = [
  { key: 'dir', redisName: 'dir', kind: 'string', defaultValue: './data', mutable: false },
  {
    key: 'appendonly',
    redisName: 'appendonly',
    kind: 'bool',
    defaultValue: true,
    mutable: true,
    denyLoading: true,
  },
  {
    key: 'appendfsync',
    redisName: 'appendfsync',
    kind: 'enum',
    enumValues: ['always', 'everysec', 'no'],
    defaultValue: 'everysec',
    mutable: true,
  },
  {
    key: 'appendfilename',
    redisName: 'appendfilename',
    kind: 'filename',
    defaultValue: 'appendonly.aof',
    mutable: false,
  },
  {
    key: 'appenddirname',
    redisName: 'appenddirname',
    kind: 'filename',
    defaultValue: 'appendonlydir',
    mutable: false,
  },
  {
    key: 'aofUseRdbPreamble',
    redisName: 'aof-use-rdb-preamble',
    kind: 'bool',
    defaultValue: true,
    mutable: true,
  },
  {
    key: 'aofLoadTruncated',
    redisName: 'aof-load-truncated',
    kind: 'bool',
    defaultValue: true,
    mutable: true,
  },
  {
    // Redis 8.4: a format error this close to the end of the last file is a corrupt tail.
    key: 'aofLoadCorruptTailMaxSize',
    redisName: 'aof-load-corrupt-tail-max-size',
    kind: 'memory',
    defaultValue: 0,
    mutable: true,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
  },
  {
    key: 'aofTimestampEnabled',
    redisName: 'aof-timestamp-enabled',
    kind: 'bool',
    defaultValue: false,
    mutable: true,
  },
  {
    key: 'aofDisableAutoGc',
    redisName: 'aof-disable-auto-gc',
    kind: 'bool',
    defaultValue: false,
    mutable: true,
  },
  {
    key: 'aofRewriteIncrementalFsync',
    redisName: 'aof-rewrite-incremental-fsync',
    kind: 'bool',
    defaultValue: true,
    mutable: true,
  },
  {
    key: 'autoAofRewritePercentage',
    redisName: 'auto-aof-rewrite-percentage',
    kind: 'int',
    defaultValue: 100,
    mutable: true,
    min: 0,
    max: INT_MAX,
  },
  {
    key: 'autoAofRewriteMinSize',
    redisName: 'auto-aof-rewrite-min-size',
    kind: 'memory',
    defaultValue: 64 * 1024 * 1024,
    mutable: true,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
  },
  {
    key: 'noAppendfsyncOnRewrite',
    redisName: 'no-appendfsync-on-rewrite',
    kind: 'bool',
    defaultValue: false,
    mutable: true,
  },
  { key: 'hz', redisName: 'hz', kind: 'int', defaultValue: 10, mutable: true, min: 1, max: 500 },
  {
    key: 'databases',
    redisName: 'databases',
    kind: 'int',
    defaultValue: 16,
    mutable: false,
    min: 1,
    max: INT_MAX,
  },
  {
    key: 'lazyfreeLazyExpire',
    redisName: 'lazyfree-lazy-expire',
    kind: 'bool',
    defaultValue: false,
    mutable: true,
  },
  {
    key: 'lazyfreeLazyUserDel',
    redisName: 'lazyfree-lazy-user-del',
    kind: 'bool',
    defaultValue: false,
    mutable: true,
  },
  {
    key: 'latencyMonitorThreshold',
    redisName: 'latency-monitor-threshold',
    kind: 'int',
    defaultValue: 0,
    mutable: true,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
  },
  {
    key: 'requirepass',
    redisName: 'requirepass',
    kind: 'string',
    defaultValue: '',
    mutable: true,
  },
  {
    key: 'protectedMode',
    redisName: 'protected-mode',
    kind: 'bool',
    defaultValue: true,
    mutable: true,
  },
  {
    key: 'maxclients',
    redisName: 'maxclients',
    kind: 'int',
    defaultValue: 10000,
    mutable: true,
    min: 1,
    max: INT_MAX,
  },
  {
    key: 'timeout',
    redisName: 'timeout',
    kind: 'int',
    defaultValue: 0,
    mutable: true,
    min: 0,
    max: INT_MAX,
  },
  {
    key: 'protoMaxBulkLen',
    redisName: 'proto-max-bulk-len',
    kind: 'memory',
    defaultValue: 512 * 1024 * 1024,
    mutable: true,
    min: 1024 * 1024,
    max: Number.MAX_SAFE_INTEGER,
  },
  {
    key: 'clientQueryBufferLimit',
    redisName: 'client-query-buffer-limit',
    kind: 'memory',
    defaultValue: 1024 * 1024 * 1024,
    mutable: true,
    min: 1024 * 1024,
    max: Number.MAX_SAFE_INTEGER,
  },
  // Redis `save` (RDB snapshot points). aofkv writes no RDB snapshots, so it has no effect; it
  // exists because clients read it (redis-benchmark's CONFIG GET save) and tests set it to "".
  { key: 'save', redisName: 'save', kind: 'string', defaultValue: '', mutable: true },
];

const BY_KEY = new Map<string, OptionSpec>(CONFIG_TABLE.map((o) => [o.key, o]));
const BY_REDIS_NAME = new Map<string, OptionSpec>(CONFIG_TABLE.map((o) => [o.redisName, o]));

export function optionByRedisName(name: string): OptionSpec | undefined {
  return BY_REDIS_NAME.get(name.toLowerCase());
}

export function optionByKey(key: string): OptionSpec | undefined {
  return BY_KEY.get(key);
}

export function defaultConfig(): EngineConfig {
  const out: Record<string, unknown> = {};
  for (const o of CONFIG_TABLE) out[o.key] = o.defaultValue;
  return out as unknown as EngineConfig;
}

/** Parse a Redis-style text value ("yes", "64mb", "everysec") for an option; throws a message. */
export function parseOptionText(o: OptionSpec, text: string): EngineConfig[keyof EngineConfig] {
  switch (o.kind) {
    case 'bool': {
      const t = text.toLowerCase();
      if (t === 'yes') return true;
      if (t === 'no') return false;
      throw new Error("argument must be 'yes' or 'no'");
    }
    case 'enum': {
      const t = text.toLowerCase();
      if (!o.enumValues!.includes(t))
        throw new Error(`argument(s) must be one of the following: ${o.enumValues!.join(', ')}`);
      return t as FsyncPolicy;
    }
    case 'int':
    case 'memory': {
      const n = o.kind === 'memory' ? parseMemory(text) : /^-?\d+$/.test(text) ? Number(text) : NaN;
      if (!Number.isSafeInteger(n)) throw new Error("argument couldn't be parsed into an integer");
      checkRange(o, n);
      return n;
    }
    case 'string':
      return text;
    case 'filename':
      checkFilename(o, text);
      return text;
  }
}

/** Redis memtoull: "64mb", "1gb", "100k", plain bytes. */
function parseMemory(text: string): number {
  const m = /^(\d+)(b|k|kb|m|mb|g|gb)?$/i.exec(text);
  if (m === null) return NaN;
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult: Record<string, number> = {
    b: 1,
    k: 1000,
    kb: 1024,
    m: 1e6,
    mb: 1024 ** 2,
    g: 1e9,
    gb: 1024 ** 3,
  };
  return Number(m[1]) * mult[unit]!;
}

function checkRange(o: OptionSpec, n: number): void {
  if ((o.min !== undefined && n < o.min) || (o.max !== undefined && n > o.max)) {
    throw new Error(`argument must be between ${o.min} and ${o.max} inclusive`);
  }
}

function checkFilename(o: OptionSpec, text: string): void {
  // Redis isValidAOFfilename / isValidAOFdirname.
  if (text.length === 0) throw new Error(`${o.redisName} can't be empty`);
  if (text.includes('/') || text.includes('\\')) {
    throw new Error(
      o.key === 'appenddirname'
        ? "appenddirname can't be a path, just a dirname"
        : "appendfilename can't be a path, just a filename",
    );
  }
}

/** openEngine() options that are not Redis configuration (injected services and switches). */
const NON_CONFIG_OPTIONS = new Set([
  'random',
  'clock',
  'fs',
  'bio',
  'readOnly',
  'logger',
  'autoCron',
  'rewriteScheduler',
  'loadScheduler',
  'makeSnapshotSink',
  'onLoadProgress',
  'processProbe',
]);

/** Validate the options object given to openEngine(); errors name the option. */
export function resolveConfig(input: Partial<Record<string, unknown>>): EngineConfig {
  const config = defaultConfig() as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    const o = BY_KEY.get(key);
    if (o === undefined) {
      if (NON_CONFIG_OPTIONS.has(key)) continue;
      throw new EngineError('ERR_INVALID_OPTION', `Unknown option '${key}'`);
    }
    config[key] = validateOptionValue(o, value);
  }
  return config as unknown as EngineConfig;
}

function validateOptionValue(o: OptionSpec, value: unknown): unknown {
  const bad = (why: string): never => {
    throw new EngineError(
      'ERR_INVALID_OPTION',
      `Invalid option '${o.key}' (${o.redisName}): ${why}`,
    );
  };
  try {
    switch (o.kind) {
      case 'bool':
        if (typeof value === 'boolean') return value;
        if (typeof value === 'string') return parseOptionText(o, value);
        return bad('expected a boolean');
      case 'enum':
        if (typeof value !== 'string') return bad(`expected one of ${o.enumValues!.join(', ')}`);
        return parseOptionText(o, value);
      case 'int':
      case 'memory':
        if (typeof value === 'number') {
          if (!Number.isSafeInteger(value)) return bad('expected an integer');
          checkRange(o, value);
          return value;
        }
        if (typeof value === 'string') return parseOptionText(o, value);
        return bad('expected an integer');
      case 'string':
      case 'filename':
        if (typeof value !== 'string') return bad('expected a string');
        return parseOptionText(o, value);
    }
  } catch (err) {
    if (err instanceof EngineError) throw err;
    return bad((err as Error).message);
  }
}

/** Text form of a value for CONFIG GET. */
export function formatOptionValue(o: OptionSpec, value: unknown): string {
  if (o.kind === 'bool') return value === true ? 'yes' : 'no';
  return String(value);
}
