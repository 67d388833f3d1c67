// `aofkv server [--dir D] [--port 6379] [--bind 127.0.0.1] [--unixsocket PATH]
// [--requirepass P] [--<redis-config-name> VALUE ...]`: a Redis-protocol server on an engine.
// It runs until SHUTDOWN, SIGINT or SIGTERM, then closes the engine (listeners and clients
// first, then the AOF: write, fsync), and exits 0 when everything executed was persisted.

import { CONFIG_TABLE } from '../config.ts';
import { openEngine, type Engine, type EngineOptions } from '../engine.ts';
import { CliUsageError, parseCommandArgs } from './config-args.ts';
import { writeText, type CliIo } from './io.ts';

export const SERVER_USAGE =
  'Usage: aofkv server [--dir DIR] [--port PORT] [--bind ADDR ...] [--unixsocket PATH]\n' +
  '                    [--requirepass PASSWORD] [--<redis-config-name> VALUE ...]\n' +
  `
Serves the engine whose data lives in DIR (default ./data) over the Redis protocol (RESP2,
RESP3 after HELLO 3, inline commands, pipelining): redis-cli, redis-benchmark, ioredis and other
Redis clients connect to it. Listens on 127.0.0.1:6379 by default; --port 0 picks a free port
(the log line says which). --bind takes one or more space-separated addresses. Bound to a
non-loopback address without --requirepass, protected mode refuses remote clients (as Redis
does; --protected-mode no turns it off).

Stops on SHUTDOWN, SIGINT or SIGTERM after making the AOF durable.

Redis config options: ${CONFIG_TABLE.map((o) => `--${o.redisName}`).join(' ')}
`;

export type ServerEngineOpener = (options: EngineOptions) => Promise<Engine>;

export async function runServer(
  args: readonly string[],
  io: CliIo,
  open: ServerEngineOpener = openEngine,
): Promise<number> {
  const parsed = parseCommandArgs(args, {
    command: 'server',
    valueOptions: ['port', 'bind', 'unixsocket'],
  });
  if (parsed.flags.has('help')) {
    await writeText(io.stdout, SERVER_USAGE);
    return 0;
  }
  const portText = parsed.values.get('port') ?? '6379';
  const port = /^\d+$/.test(portText) ? Number(portText) : Number.NaN;
  if (!Number.isInteger(port) || port > 65535) {
    throw new CliUsageError(`invalid port '${portText}': expected 0..65535`);
  }
  const log = (level: string, message: string) => {
    io.stderr.write(`aofkv server: ${level === 'warning' ? '# ' : ''}${message}\n`);
  };
  let engine: Engine;
  try {
    engine = await open({ ...parsed.config, logger: log });
  } catch (err) {
    await writeText(io.stderr, `aofkv server: cannot open the engine: ${message(err)}\n`);
    return 1;
  }
  const stopped = new Promise<Promise<void>>((resolve) => {
    engine.once('shutdown', (closed: Promise<void>) => resolve(closed));
    io.signal?.addEventListener('abort', () => resolve(engine.close()), { once: true });
    engine.once('fatal', () => resolve(engine.close()));
  });
  try {
    const unixsocket = parsed.values.get('unixsocket');
    const handle = await engine.listen({
      port: port === 0 && unixsocket !== undefined && !parsed.values.has('port') ? null : port,
      bind: parsed.values.get('bind') ?? '127.0.0.1',
      ...(unixsocket !== undefined ? { unixsocket } : {}),
    });
    await writeText(
      io.stderr,
      `aofkv server: ready to accept connections on ${handle.addresses.join(', ')}\n`,
    );
  } catch (err) {
    await writeText(io.stderr, `aofkv server: cannot listen: ${message(err)}\n`);
    await engine.close().catch(() => {});
    return 1;
  }
  try {
    await await stopped;
  } catch (err) {
    await writeText(io.stderr, `aofkv server: closing the engine failed: ${message(err)}\n`);
    return 1;
  }
  await writeText(io.stderr, 'aofkv server: the AOF is durable; bye\n');
  return 0;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
