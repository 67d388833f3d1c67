// Commands that need the whole engine rather than the keyspace: CONFIG, INFO, BGREWRITEAOF and
// LATENCY. They see the engine through EngineCommandHost, so this module does not import the
// engine that registers them.

import type { Bin } from './bytes.ts';
import {
  CONFIG_TABLE,
  formatOptionValue,
  optionByRedisName,
  parseOptionText,
  type EngineConfig,
} from './config.ts';
import type { AofPersistence } from './aof/aof-persistence.ts';
import type { Clock } from './io/clock.ts';
import type { Server } from './server.ts';
import { ErrorReply, OK, StatusReply, fail, type Reply } from './reply.ts';
import { cmd, type ClientState, type CommandSpec } from './commands/types.ts';
import { argLongLong } from './commands/args.ts';
import { globMatch } from './glob.ts';
import type { NetworkServer } from './net/network-server.ts';

const NO_KEYS = [0, 0, 0] as const;

/** What these commands need from the engine (Engine implements it). */
export interface EngineCommandHost {
  readonly config: EngineConfig;
  readonly aof: AofPersistence | null;
  readonly clock: Clock;
  readonly server: Server;
  readonly startedAtMs: number;
  /** The Redis-protocol server, when the engine listens. */
  readonly network: NetworkServer | null;
  /** Apply a CONFIG SET change's side effects; a listener that throws refuses the change. */
  emit(event: 'configChanged', key: keyof EngineConfig, previous: unknown): boolean;
}

type Engine = EngineCommandHost;

export function buildEngineCommands(engine: Engine): CommandSpec[] {
  return [
    cmd('config', -2, ['admin', 'loading', 'stale'], NO_KEYS, (_c, argv) =>
      configCommand(engine, argv),
    ),
    cmd('info', -1, ['loading', 'stale'], NO_KEYS, (_c, argv) => infoText(engine, argv.slice(1))),
    cmd('bgrewriteaof', 1, ['admin', 'noscript'], NO_KEYS, () => bgrewriteaof(engine)),
    cmd('latency', -2, ['admin', 'loading', 'stale'], NO_KEYS, (_c, argv) =>
      latencyCommand(engine, argv),
    ),
    cmd('waitaof', 4, ['noscript'], NO_KEYS, (c, argv) => waitaofCommand(engine, c.client, argv)),
  ];
}

export const WAITAOF_AOF_DISABLED =
  'ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.';

/**
 * Redis 7.2 waitaofCommand: WAITAOF numlocal numreplicas timeout, reply [numlocal, numreplicas]
 * acknowledged. Answers at once when satisfied, or inside MULTI (CLIENT_DENY_BLOCKING);
 * otherwise asks the engine to block the client (client.blockForAof), which then replies when
 * the AOF is fsynced up to the client's last write, or at the timeout. There are no replicas:
 * numreplicas > 0 always waits for the timeout and counts 0.
 */
function waitaofCommand(engine: Engine, client: ClientState, argv: readonly Bin[]): Reply {
  const numlocal = argRangeLong(argv[1]!, 0, 1);
  const numreplicas = argLongLong(argv[2]!);
  if (numreplicas < 0n) fail('ERR value is out of range, must be positive');
  const timeout = argLongLong(argv[3]!, 'ERR timeout is not an integer or out of range');
  if (timeout < 0n) fail('ERR timeout is negative');
  if (timeout > BigInt(Number.MAX_SAFE_INTEGER) - BigInt(Math.ceil(engine.clock.nowMs())))
    fail('ERR timeout is out of range');
  const aof = engine.aof;
  if (numlocal > 0 && (aof === null || !aof.aofEnabled)) fail(WAITAOF_AOF_DISABLED);
  // Redis: fsynced_reploff is -1 while the AOF is off, so nothing counts as fsynced then.
  const acklocal = aof?.aofEnabled === true && aof.fsyncedOffsetBytes >= client.woffBytes ? 1 : 0;
  const satisfied = acklocal >= numlocal && numreplicas === 0n;
  if (!satisfied && !client.inMulti && !engine.server.inExec) {
    client.blockForAof = { numlocal, waitReplicas: numreplicas > 0n, timeoutMs: Number(timeout) };
  }
  return [acklocal, 0];
}

/** Redis getRangeLongFromObjectOrReply(min, max) with its default messages. */
function argRangeLong(s: Bin, min: number, max: number): number {
  const v = argLongLong(s);
  if (v < BigInt(min) || v > BigInt(max))
    fail(`ERR value is out of range, value must between ${min} and ${max}`);
  return Number(v);
}

/** Redis bgrewriteaofCommand's replies. */
function bgrewriteaof(engine: Engine): Reply {
  const aof = engine.aof;
  if (aof === null) fail('ERR This engine has no AOF');
  switch (aof.bgrewriteaof()) {
    case 'in-progress':
      return new ErrorReply('ERR Background append only file rewriting already in progress');
    case 'scheduled':
      return new StatusReply('Background append only file rewriting scheduled');
    case 'started':
      return new StatusReply('Background append only file rewriting started');
    case 'failed':
      return new ErrorReply(
        "ERR Can't execute an AOF background rewriting. " +
          'Please check the server logs for more information.',
      );
  }
}

/** LATENCY LATEST | HISTORY <event> | RESET [event ...] (Redis latency.c, AOF events). */
function latencyCommand(engine: Engine, argv: readonly Bin[]): Reply {
  const monitor = engine.aof?.latency;
  const sub = argv[1]!.toLowerCase();
  if (monitor === undefined) return [];
  if (sub === 'latest' && argv.length === 2) return monitor.latest().map((row) => [...row]);
  if (sub === 'history' && argv.length === 3) {
    return monitor.history(argv[2]!).map((s) => [s.timeSec, s.latencyMs]);
  }
  if (sub === 'reset') return monitor.reset(argv.slice(2));
  return new ErrorReply(
    `ERR unknown subcommand or wrong number of arguments for ` +
      `'${argv[1]!.slice(0, 128)}'. Try LATENCY HELP.`,
  );
}

function configCommand(engine: Engine, argv: readonly Bin[]): Reply {
  const sub = argv[1]!.toLowerCase();
  switch (sub) {
    case 'get': {
      if (argv.length < 3) fail(`ERR wrong number of arguments for 'config|get' command`);
      const out: string[] = [];
      const seen = new Set<string>();
      for (const pattern of argv.slice(2)) {
        for (const o of CONFIG_TABLE) {
          if (seen.has(o.redisName) || !globMatch(pattern.toLowerCase(), o.redisName)) continue;
          seen.add(o.redisName);
          out.push(o.redisName, formatOptionValue(o, engine.config[o.key]));
        }
      }
      return out;
    }
    case 'set':
      return configSet(engine, argv);
    case 'resetstat':
      if (argv.length !== 2) fail(`ERR wrong number of arguments for 'config|resetstat' command`);
      engine.aof?.resetStats();
      return OK;
    case 'help':
      return [
        'CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
        'GET <pattern>',
        '    Return parameters matching the glob-like <pattern> and their values.',
        'SET <directive> <value>',
        '    Set the configuration <directive> to <value>.',
        'RESETSTAT',
        '    Reset statistics reported by the INFO command.',
        'HELP',
        '    Print this help.',
      ];
    default:
      return new ErrorReply(`ERR unknown subcommand '${argv[1]!.slice(0, 128)}'. Try CONFIG HELP.`);
  }
}

function configSet(engine: Engine, argv: readonly Bin[]): Reply {
  if (argv.length < 4 || argv.length % 2 !== 0)
    fail(`ERR wrong number of arguments for 'config|set' command`);
  // Redis 7.0 CONFIG SET is all-or-nothing: validate every pair before applying any.
  const changes: {
    key: keyof EngineConfig;
    value: EngineConfig[keyof EngineConfig];
    name: string;
  }[] = [];
  for (let i = 2; i < argv.length; i += 2) {
    const name = argv[i]!;
    const o = optionByRedisName(name);
    if (o === undefined)
      fail(`ERR Unknown option or number of arguments for CONFIG SET - '${name}'`);
    if (!o.mutable)
      fail(
        `ERR CONFIG SET failed (possibly related to argument '${name}') - ` +
          `can't set immutable config`,
      );
    // Redis DENY_LOADING_CONFIG: the LOADING error takes precedence over a plain ERR.
    if (o.denyLoading === true && engine.server.loading)
      fail('LOADING Redis is loading the dataset in memory');
    if (changes.some((c) => c.key === o.key))
      fail(`ERR CONFIG SET failed (possibly related to argument '${name}') - duplicate parameter`);
    let value: EngineConfig[keyof EngineConfig];
    try {
      value = parseOptionText(o, argv[i + 1]!);
    } catch (err) {
      fail(
        `ERR CONFIG SET failed (possibly related to argument '${name}') - ` +
          `${(err as Error).message}`,
      );
    }
    changes.push({ key: o.key, value, name });
  }
  const previous = changes.map((c) => ({ key: c.key, value: engine.config[c.key] }));
  for (const c of changes) (engine.config as unknown as Record<string, unknown>)[c.key] = c.value;
  try {
    for (const c of changes)
      engine.emit('configChanged', c.key, previous.find((p) => p.key === c.key)!.value);
  } catch (err) {
    for (const p of previous)
      (engine.config as unknown as Record<string, unknown>)[p.key] = p.value;
    const name = changes[0]!.name;
    fail(
      `ERR CONFIG SET failed (possibly related to argument '${name}') - ${(err as Error).message}`,
    );
  }
  return OK;
}

/** INFO [section ...]: the sections an embedded engine has, in Redis's text format. */
export function infoText(engine: Engine, sections: readonly Bin[]): Bin {
  const wanted = new Set(sections.map((s) => s.toLowerCase()));
  const all =
    wanted.size === 0 || wanted.has('all') || wanted.has('everything') || wanted.has('default');
  const parts: string[] = [];
  const add = (title: string, fields: Record<string, string | number>) => {
    if (!all && !wanted.has(title.toLowerCase())) return;
    const lines = Object.entries(fields).map(([k, v]) => `${k}:${v}`);
    parts.push(`# ${title}\r\n${lines.join('\r\n')}${lines.length > 0 ? '\r\n' : ''}`);
  };
  const now = engine.clock.nowMs();
  const network = engine.network;
  const uptimeSec = Math.floor((now - engine.startedAtMs) / 1000);
  add('Server', {
    redis_version: '7.0.15',
    aofkv_version: '0.1.0',
    redis_mode: network === null ? 'embedded' : 'standalone',
    os: `${process.platform} ${process.arch}`,
    arch_bits: 64,
    process_id: process.pid,
    tcp_port: network?.tcpPort ?? 0,
    uptime_in_seconds: uptimeSec,
    uptime_in_days: Math.floor(uptimeSec / 86400),
    hz: engine.config.hz,
    configured_hz: engine.config.hz,
    executable: process.argv[1] ?? '',
  });
  let blocked = 0;
  let maxInput = 0;
  let maxOutput = 0;
  for (const conn of network?.clients.values() ?? []) {
    if (conn.isWaitingForUnpause) blocked++;
    maxInput = Math.max(maxInput, conn.queryBufferBytes);
    maxOutput = Math.max(maxOutput, conn.outputBytes);
  }
  add('Clients', {
    connected_clients: network?.clients.size ?? 0,
    cluster_connections: 0,
    maxclients: engine.config.maxclients,
    client_recent_max_input_buffer: maxInput,
    client_recent_max_output_buffer: maxOutput,
    blocked_clients: blocked,
    tracking_clients: 0,
    clients_in_timeout_table: 0,
  });
  const memory = process.memoryUsage();
  add('Memory', {
    used_memory: memory.heapUsed + memory.external,
    used_memory_rss: memory.rss,
    maxmemory: 0,
    maxmemory_policy: 'noeviction',
  });
  add('Persistence', engine.aof?.info() ?? { loading: 0, aof_enabled: 0 });
  const rates = network?.instantaneous() ?? { opsPerSec: 0, inputKbps: 0, outputKbps: 0 };
  add('Stats', {
    total_connections_received: network?.stats.connectionsReceived ?? 0,
    total_commands_processed: engine.server.commandsProcessed,
    instantaneous_ops_per_sec: rates.opsPerSec,
    total_net_input_bytes: network?.stats.inputBytes ?? 0,
    total_net_output_bytes: network?.stats.outputBytes ?? 0,
    instantaneous_input_kbps: rates.inputKbps.toFixed(2),
    instantaneous_output_kbps: rates.outputKbps.toFixed(2),
    rejected_connections: network?.stats.rejectedConnections ?? 0,
    expired_keys: engine.server.expiredKeys,
    evicted_keys: 0,
    pubsub_channels: 0,
    pubsub_patterns: 0,
  });
  add('Replication', { role: 'master', connected_slaves: 0 });
  const keyspace: Record<string, string> = {};
  for (const db of engine.server.dbs) {
    if (db.size > 0)
      keyspace[`db${db.id}`] = `keys=${db.size},expires=${db.expires.size},avg_ttl=0`;
  }
  add('Keyspace', keyspace);
  return parts.join('\r\n');
}
