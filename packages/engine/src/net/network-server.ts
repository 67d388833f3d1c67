// DESIGN: the engine's Redis-protocol front door (Redis networking.c's accept path and
// clientsCron): TCP and unix-socket listeners on node:net, the registry of connected clients,
// admission (maxclients, protected mode), idle timeouts, CLIENT PAUSE, and the counters INFO
// shows. It runs on the engine's thread and executes commands through the engine's dispatcher
// (see client-connection.ts for the acknowledgement rule).
//
// Lifecycle: listen() may be called several times (one handle per call, each closable alone);
// close() stops every listener, lets each client receive the replies already held for it, then
// closes the sockets. The engine calls close() first thing in its own close(), and fail() when
// the AOF stops for good (no held reply is ever sent then).

import { createHash, timingSafeEqual } from 'node:crypto';
import { lstatSync, rmSync } from 'node:fs';
import net from 'node:net';
import type { Bin } from '../bytes.ts';
import type { EngineConfig } from '../config.ts';
import type { CommandSpec } from '../commands/types.ts';
import type { Reply } from '../reply.ts';
import type { Client, Server } from '../server.ts';
import { ClientConnection, type ConnectionHost } from './client-connection.ts';

/** Where engine.listen() accepts connections. */
export interface ListenOptions {
  /** TCP port (default 6379); 0 picks a free port; null listens on no TCP port. */
  port?: number | null;
  /** Addresses to bind (Redis `bind`), default 127.0.0.1. */
  bind?: string | readonly string[];
  /** Path of a unix socket to listen on as well (Redis `unixsocket`). */
  unixsocket?: string;
}

/** What listen() resolves with. */
export interface ListenHandle {
  /** The TCP port actually bound (useful with port 0), or null without TCP. */
  readonly port: number | null;
  /** Every address listened on: `host:port` or the unix socket path. */
  readonly addresses: readonly string[];
  /** Stop accepting on these listeners (connected clients stay). */
  close(): Promise<void>;
}

/** What the network server needs from the engine. */
export interface NetworkEngine {
  readonly config: EngineConfig;
  readonly server: Server;
  nowMs(): number;
  /** Run a command through the engine's dispatcher (Server.execute with the engine's checks). */
  executeNetworkCommand(client: Client, argv: Bin[]): Reply;
  /** WAITAOF: the reply of `client`'s blocking wait, once the AOF is fsynced or it timed out. */
  blockNetworkClientForAof(client: Client, done: (reply: Reply) => void): void;
  /** Release `conn`'s output after this turn's AOF flush. */
  holdOutput(conn: ClientConnection): void;
  log(level: 'notice' | 'warning', message: string): void;
}

/** CLIENT PAUSE state (Redis pause_type / pause_end). */
interface PauseState {
  readonly kind: 'write' | 'all';
  readonly endMs: number;
  readonly timer: NodeJS.Timeout;
}

/** Redis stats shown by INFO clients / stats. */
export interface NetworkStats {
  connectionsReceived: number;
  rejectedConnections: number;
  inputBytes: number;
  outputBytes: number;
}

/** Samples per instantaneous metric (Redis STATS_METRIC_SAMPLES). */
const METRIC_SAMPLES = 16;

export class NetworkServer {
  readonly clients = new Map<number, ClientConnection>();
  readonly stats: NetworkStats = {
    connectionsReceived: 0,
    rejectedConnections: 0,
    inputBytes: 0,
    outputBytes: 0,
  };
  private readonly engine: NetworkEngine;
  private readonly listeners = new Set<net.Server>();
  private readonly host: ConnectionHost;
  private pause: PauseState | null = null;
  private readonly waiting = new Set<ClientConnection>();
  private closing: Promise<void> | null = null;
  /** Redis trackInstantaneousMetric for ops/sec: samples of (ops, ms) deltas. */
  private readonly opsSamples: number[] = [];
  private lastSampleMs: number;
  private lastSampleOps: number;
  private readonly inputKbpsSamples: number[] = [];
  private readonly outputKbpsSamples: number[] = [];
  private lastSampleInput = 0;
  private lastSampleOutput = 0;

  constructor(engine: NetworkEngine) {
    this.engine = engine;
    this.lastSampleMs = engine.nowMs();
    this.lastSampleOps = engine.server.commandsProcessed;
    const config = engine.config;
    this.host = {
      execute: (client, argv) => engine.executeNetworkCommand(client, argv),
      blockForAof: (client, done) => engine.blockNetworkClientForAof(client, done),
      holdOutput: (conn) => engine.holdOutput(conn),
      lookupCommand: (name) => engine.server.lookupCommand(name),
      mustWait: (client, spec) => this.mustWait(client, spec),
      waitForUnpause: (conn) => this.waiting.add(conn),
      protoMaxBulkLen: () => config.protoMaxBulkLen,
      clientQueryBufferLimit: () => config.clientQueryBufferLimit,
      authRequired: () => config.requirepass !== '',
      nowMs: () => engine.nowMs(),
      log: (level, message) => engine.log(level, message),
      removed: (conn) => this.removed(conn),
      stats: this.stats,
    };
  }

  /** The first TCP port listened on (INFO tcp_port), or null. */
  tcpPort: number | null = null;

  get isClosing(): boolean {
    return this.closing !== null;
  }

  async listen(options: ListenOptions): Promise<ListenHandle> {
    if (this.closing !== null) throw new Error('the network server is closing');
    const port = options.port === undefined ? 6379 : options.port;
    const binds =
      options.bind === undefined
        ? ['127.0.0.1']
        : typeof options.bind === 'string'
          ? options.bind.split(/\s+/).filter((b) => b.length > 0)
          : [...options.bind];
    const opened: net.Server[] = [];
    const addresses: string[] = [];
    let boundPort: number | null = null;
    try {
      if (port !== null) {
        for (const bind of binds) {
          // Redis `bind -::1`: a leading '-' makes the address optional.
          const optional = bind.startsWith('-');
          const address = optional ? bind.slice(1) : bind;
          const server = this.createListener(false);
          try {
            await listenOn(server, { port: boundPort ?? port, host: address });
          } catch (err) {
            if (optional) continue;
            throw err;
          }
          opened.push(server);
          const info = server.address() as net.AddressInfo;
          boundPort ??= info.port;
          addresses.push(`${info.address}:${info.port}`);
        }
      }
      if (options.unixsocket !== undefined) {
        removeStaleSocket(options.unixsocket);
        const server = this.createListener(true);
        await listenOn(server, { path: options.unixsocket });
        opened.push(server);
        addresses.push(options.unixsocket);
      }
    } catch (err) {
      await Promise.all(opened.map((s) => closeListener(s)));
      throw err;
    }
    for (const s of opened) this.listeners.add(s);
    this.tcpPort ??= boundPort;
    return {
      port: boundPort,
      addresses,
      close: async () => {
        await Promise.all(
          opened.map((s) => {
            this.listeners.delete(s);
            return closeListener(s);
          }),
        );
      },
    };
  }

  private createListener(isUnixSocket: boolean): net.Server {
    const server = net.createServer({ noDelay: true, pauseOnConnect: false }, (socket) =>
      this.accept(socket, isUnixSocket),
    );
    server.on('error', (err) => this.engine.log('warning', `listener error: ${err.message}`));
    return server;
  }

  /** Redis acceptCommonHandler + clientAcceptHandler. */
  private accept(socket: net.Socket, isUnixSocket: boolean): void {
    socket.on('error', () => {});
    if (this.closing !== null) {
      socket.destroy();
      return;
    }
    const config = this.engine.config;
    if (this.clients.size >= config.maxclients) {
      this.stats.rejectedConnections++;
      socket.end('-ERR max number of clients reached\r\n');
      return;
    }
    if (config.protectedMode && config.requirepass === '' && !isLocal(socket, isUnixSocket)) {
      this.stats.rejectedConnections++;
      socket.end(PROTECTED_MODE_DENIED);
      return;
    }
    this.stats.connectionsReceived++;
    const client = this.engine.server.createClient(0);
    // Redis createClient: clientSetDefaultAuth, authenticated iff the default user has no
    // password at connection time.
    client.authenticated = config.requirepass === '';
    const conn = new ClientConnection(socket, client, this.host, isUnixSocket);
    this.clients.set(client.id, conn);
  }

  private removed(conn: ClientConnection): void {
    this.clients.delete(conn.client.id);
    this.waiting.delete(conn);
    // Redis freeClient: unwatch and drop the transaction.
    this.engine.server.resetTransaction(conn.client);
  }

  // ---- CLIENT PAUSE (Redis pauseClients / unpauseClients) ---------------------------------

  /** Redis processCommand's pause check: paused-all, or paused-write and a command that writes. */
  private mustWait(client: Client, spec: CommandSpec | undefined): boolean {
    const pause = this.pause;
    if (pause === null || spec === undefined) return false;
    if (this.engine.nowMs() >= pause.endMs) {
      this.unpause();
      return false;
    }
    if (pause.kind === 'all') return true;
    return (
      spec.flags.includes('write') ||
      spec.flags.includes('may-replicate') ||
      (spec.name === 'exec' && client.inMulti && client.queueHasWrite)
    );
  }

  pauseClients(kind: 'write' | 'all', endMs: number): void {
    // Redis keeps the later end and the stricter kind of overlapping pauses.
    const current = this.pause;
    const end = current === null ? endMs : Math.max(current.endMs, endMs);
    const strict = current?.kind === 'all' || kind === 'all' ? 'all' : 'write';
    if (current !== null) clearTimeout(current.timer);
    const timer = setTimeout(() => this.unpause(), Math.max(0, end - this.engine.nowMs()));
    timer.unref();
    this.pause = { kind: strict, endMs: end, timer };
  }

  unpause(): void {
    if (this.pause !== null) clearTimeout(this.pause.timer);
    this.pause = null;
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const conn of waiting) conn.unpause();
  }

  get pausedKind(): 'write' | 'all' | null {
    return this.pause?.kind ?? null;
  }

  // ---- AUTH --------------------------------------------------------------------------------

  /** Compare a password with requirepass in constant time (hashes of equal length). */
  passwordMatches(candidate: Bin): boolean {
    const expected = this.engine.config.requirepass;
    const a = createHash('sha256').update(Buffer.from(candidate, 'latin1')).digest();
    const b = createHash('sha256').update(Buffer.from(expected, 'utf8')).digest();
    return timingSafeEqual(a, b) && expected !== '';
  }

  // ---- Cron (Redis clientsCron + trackInstantaneousMetric) ---------------------------------

  cron(): void {
    const now = this.engine.nowMs();
    const idleMs = this.engine.config.timeout * 1000;
    if (idleMs > 0) {
      for (const conn of this.clients.values()) {
        // Redis clientsCronHandleTimeout: paused clients are blocked, never timed out.
        if (conn.isWaitingForUnpause) continue;
        if (now - conn.lastInteractionMs > idleMs) {
          this.engine.log('notice', 'Closing idle client');
          conn.destroy();
        }
      }
    }
    if (this.pause !== null && now >= this.pause.endMs) this.unpause();
    const elapsed = now - this.lastSampleMs;
    if (elapsed >= 100) {
      const ops = this.engine.server.commandsProcessed;
      pushSample(this.opsSamples, ((ops - this.lastSampleOps) * 1000) / elapsed);
      pushSample(
        this.inputKbpsSamples,
        (this.stats.inputBytes - this.lastSampleInput) / 1024 / (elapsed / 1000),
      );
      pushSample(
        this.outputKbpsSamples,
        (this.stats.outputBytes - this.lastSampleOutput) / 1024 / (elapsed / 1000),
      );
      this.lastSampleOps = ops;
      this.lastSampleInput = this.stats.inputBytes;
      this.lastSampleOutput = this.stats.outputBytes;
      this.lastSampleMs = now;
    }
  }

  /** Redis getInstantaneousMetric: the mean of the last samples. */
  instantaneous(): { opsPerSec: number; inputKbps: number; outputKbps: number } {
    return {
      opsPerSec: Math.round(mean(this.opsSamples)),
      inputKbps: mean(this.inputKbpsSamples),
      outputKbps: mean(this.outputKbpsSamples),
    };
  }

  // ---- Shutdown ----------------------------------------------------------------------------

  /** Stop listening, deliver what is held, close every client. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    if (this.pause !== null) clearTimeout(this.pause.timer);
    this.pause = null;
    const listeners = [...this.listeners];
    this.listeners.clear();
    const closed = Promise.all(listeners.map((s) => closeListener(s)));
    for (const conn of [...this.clients.values()]) conn.closeGracefully();
    await closed;
  }

  /** The engine stopped for good: drop every connection, send nothing held. */
  fail(): void {
    this.closing ??= Promise.resolve();
    for (const s of this.listeners) s.close();
    this.listeners.clear();
    for (const conn of [...this.clients.values()]) conn.fail();
  }
}

function pushSample(samples: number[], value: number): void {
  samples.push(value);
  if (samples.length > METRIC_SAMPLES) samples.shift();
}

function mean(samples: readonly number[]): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (const s of samples) sum += s;
  return sum / samples.length;
}

/** Redis islocalClient: loopback addresses and unix sockets. */
function isLocal(socket: net.Socket, isUnixSocket: boolean): boolean {
  if (isUnixSocket) return true;
  const ip = socket.remoteAddress ?? '';
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}

function listenOn(server: net.Server, options: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen({ ...options, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeListener(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

/** Redis anetUnixServer unlinks the path first; only a socket is removed, never a file. */
function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) rmSync(path, { force: true });
  } catch {
    // Missing: nothing to remove.
  }
}

/** Redis 7.0 clientAcceptHandler's protected-mode reply. */
export const PROTECTED_MODE_DENIED =
  '-DENIED Redis is running in protected mode because protected ' +
  'mode is enabled and no password is set for the default user. ' +
  'In this mode connections are only accepted from the loopback interface. ' +
  'If you want to connect from external computers to Redis you ' +
  'may adopt one of the following solutions: ' +
  '1) Just disable protected mode sending the command ' +
  "'CONFIG SET protected-mode no' from the loopback interface " +
  'by connecting to Redis from the same host the server is ' +
  'running, however MAKE SURE Redis is not publicly accessible ' +
  'from internet if you do so. Use CONFIG REWRITE to make this ' +
  'change permanent. ' +
  '2) Alternatively you can just disable the protected mode by ' +
  'editing the Redis configuration file, and setting the protected ' +
  "mode option to 'no', and then restarting the server. " +
  '3) If you started the server manually just for testing, restart ' +
  "it with the '--protected-mode no' option. " +
  '4) Setup a an authentication password for the default user. ' +
  'NOTE: You only need to do one of the above things in order for ' +
  'the server to start accepting connections from the outside.\r\n';
