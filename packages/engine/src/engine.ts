// DESIGN: Engine is the embedded server. It composes the command executor (Server), the AOF
// (AofPersistence, which owns all AOF state) and an event-loop driver that plays Redis's ae loop:
//
//   db.command()  → Server.execute() runs the command at once, synchronously, in call order;
//                   its reply is held, not delivered.
//   beforeSleep   → scheduled once per event-loop turn with setImmediate: flushes aof_buf
//                   (Redis flushAppendOnlyFile(0)); only then are the held replies delivered, so no
//                   write is acknowledged before its bytes were written (and fsynced under always).
//   cron          → every 1000/hz ms: active expiry and the AOF's periodic work (serverCron).
//
// Everything a turn produced shares one write (and one fsync under always): group commit.
//
// FATAL (appendfsync always could not write or fsync; DEBUG LOADAOF could not load): the AOF
// tells the engine once (AofPersistence onFatal), wherever it happened (a turn's flush, the cron,
// a command's forced flush, a rewrite's start). From then on no reply resolves: the held ones and
// every later command are rejected with ERR_ENGINE_FATAL, and only close() is left.

import { EventEmitter } from 'node:events';
import { posix as path } from 'node:path';
import { binToBuffer, binToUtf8, toBin, type Bin } from './bytes.ts';
import { resolveConfig, type EngineConfig } from './config.ts';
import { EngineError, ReplyError } from './errors.ts';
import { systemClock, type Clock } from './io/clock.ts';
import { ErrorReply, NilArrayReply, StatusReply, type Reply } from './reply.ts';
import { Server, type Client } from './server.ts';
import type { CommandSpec } from './commands/types.ts';
import { WAITAOF_AOF_DISABLED, buildEngineCommands } from './engine-commands.ts';
import { isFsError, type FileSystem } from './io/file-system.ts';
import { NodeFileSystem } from './io/node-file-system.ts';
import { createPiscinaBio, type BioClient, type BioEvent } from '@aofkv/bio-workers';
import { AofPersistence } from './aof/aof-persistence.ts';
import { LazyBio } from './aof/lazy-bio.ts';
import type { AofLogger, AofTraceEvent } from './aof/aof-writer.ts';
import type { RewriteScheduler } from './aof/rewrite/aof-rewrite.ts';
import type { LoadScheduler } from './aof/aof-loader.ts';
import type { SnapshotSink } from './aof/rewrite/snapshot-sink.ts';
import {
  acquireDirLock,
  describeHolder,
  lockFileName,
  readLockHolder,
  type DirLock,
} from './io/dir-lock.ts';
import { NodeProcessProbe, hasMachineBoot, type ProcessProbe } from './io/process-probe.ts';
import {
  NetworkServer,
  type ListenHandle,
  type ListenOptions,
  type NetworkEngine,
} from './net/network-server.ts';
import type { ClientConnection } from './net/client-connection.ts';
import { buildConnectionCommands } from './net/connection-commands.ts';
import {
  HELPER_COMMANDS,
  type Arg,
  type BufferReplyValue,
  type HelperCommand,
  type ReplyValue,
} from './helper-commands.ts';
import { WorkerHost } from './worker/worker-host.ts';
import { MessageChannel, type MessagePort } from 'node:worker_threads';

export { HELPER_COMMANDS, type HelperCommand };

export type { Arg, BufferReplyValue, ReplyValue };

export interface EngineOptions extends Partial<EngineConfig> {
  /** Time source (default: the system clock). */
  clock?: Clock;
  /** Random source in [0,1) for SPOP/SRANDMEMBER/RANDOMKEY (default Math.random). */
  random?: () => number;
  /** The file-system seam for all AOF I/O (default: the real file system). */
  fs?: FileSystem;
  /** Background jobs (default: piscina worker threads, started on first use). */
  bio?: BioClient;
  /** Load the data directory but never modify a file (no INCR opened, no truncation). */
  readOnly?: boolean;
  /** Log sink; by default log lines are only emitted as 'log' events on the engine. */
  logger?: AofLogger;
  /**
   * Run the cron from a timer every 1000/hz ms (default true). Simulations pass false and call
   * `engine.cron()` themselves after moving their clock.
   */
  autoCron?: boolean;
  /** How AOF rewrite slices are scheduled (simulations pass a ManualRewriteScheduler). */
  rewriteScheduler?: RewriteScheduler;
  /** Where a load pauses (simulations pause DEBUG LOADAOF at exact points). */
  loadScheduler?: LoadScheduler;
  /**
   * Where a rewrite writes its base (default: a writer thread on the real disk, inline otherwise).
   */
  makeSnapshotSink?: () => SnapshotSink;
  /**
   * Called while the AOF loads (at start-up and on DEBUG LOADAOF): once when loading starts, after
   * every batch of commands, and once when it ends. `loadedBytes` grows to `totalBytes` (the size
   * of base + INCR files) on a complete load. Attached before loading starts, which is why it is
   * an option: by the time openEngine() resolves the start-up load is over.
   */
  onLoadProgress?: (progress: LoadProgress) => void;
  /**
   * Who this process is and whether a lock's holder still runs (default: the real process table;
   * with a file system that knows its machine's boot, e.g. SimFileSystem, that boot id).
   */
  processProbe?: ProcessProbe;
}

/** What onLoadProgress reports (Redis INFO loading_loaded_bytes / loading_total_bytes). */
export interface LoadProgress {
  readonly loadedBytes: number;
  readonly totalBytes: number;
}

interface HeldReply {
  reply: Reply;
  asBuffer: boolean;
  /** Deliver the Reply as it is, errors included (the worker-thread host converts it itself). */
  raw?: boolean;
  /** A pipeline's replies (`reply` is their array): delivered as [error | null, value] pairs. */
  batch: boolean;
  resolve: (value: never) => void;
  reject: (err: Error) => void;
}

type Lifecycle = 'open' | 'closing' | 'closed';

export class Engine extends EventEmitter implements NetworkEngine {
  readonly config: EngineConfig;
  readonly server: Server;
  readonly clock: Clock;
  /** The AOF subsystem (null only for engines built without persistence). */
  aof: AofPersistence | null = null;
  private lifecycle: Lifecycle = 'open';
  /** Set once the AOF stopped for good (see FATAL above); independent of the lifecycle. */
  private fatalCause: Error | null = null;
  private closing: Promise<void> | null = null;
  private held: HeldReply[] = [];
  /** Network clients whose encoded replies wait for this turn's AOF flush. */
  private heldOutputs: ClientConnection[] = [];
  /** Worker threads connected through connectWorker(). */
  private readonly workerHosts = new Set<WorkerHost>();
  /** The Redis-protocol server, created by the first listen(). */
  network: NetworkServer | null = null;
  private beforeSleepScheduled = false;
  private cronTimer: NodeJS.Timeout | null = null;
  /** The data directory's lock (null for readOnly engines); released by close(). */
  dirLock: DirLock | null = null;
  readonly startedAtMs: number;

  constructor(config: EngineConfig, clock: Clock, random: () => number) {
    super();
    this.config = config;
    this.clock = clock;
    this.startedAtMs = clock.nowMs();
    const extra: CommandSpec[] = [
      ...buildEngineCommands(this),
      ...buildConnectionCommands({
        connections: () => this.network?.clients.values() ?? [],
        passwordRequired: () => this.config.requirepass !== '',
        passwordMatches: (candidate) => this.networkServer().passwordMatches(candidate),
        pauseClients: (kind, endMs) => this.networkServer().pauseClients(kind, endMs),
        unpauseClients: () => this.network?.unpause(),
        nowMs: () => this.clock.nowMs(),
        commandTable: () => this.server.table,
        shutdown: () => this.shutdownFromCommand(),
      }),
    ];
    this.server = new Server({
      databases: config.databases,
      nowMs: () => clock.nowMs(),
      random,
      lazyfreeLazyExpire: () => this.config.lazyfreeLazyExpire,
      lazyfreeLazyUserDel: () => this.config.lazyfreeLazyUserDel,
      extraCommands: extra,
      passwordRequired: () => this.config.requirepass !== '',
    });
  }

  /**
   * Accept Redis-protocol clients (RESP2/RESP3, inline, pipelining) on TCP and/or a unix socket.
   * Their commands go through the same dispatcher and acknowledgement path as db() handles.
   * Resolves once listening; the handle's close() stops these listeners, engine.close() stops
   * all of them and disconnects every client first.
   */
  async listen(options: ListenOptions = {}): Promise<ListenHandle> {
    this.assertUsable();
    return this.networkServer().listen(options);
  }

  private networkServer(): NetworkServer {
    this.network ??= new NetworkServer(this);
    return this.network;
  }

  // ---- NetworkEngine (what the network server uses) -----------------------------------------

  nowMs(): number {
    return this.clock.nowMs();
  }

  executeNetworkCommand(client: Client, argv: Bin[]): Reply {
    const err = this.usabilityError();
    if (err !== null) return new ErrorReply(`ERR ${err.message}`);
    return this.execute(client, argv);
  }

  holdOutput(conn: ClientConnection): void {
    this.heldOutputs.push(conn);
    this.scheduleBeforeSleep();
  }

  log(level: 'notice' | 'warning', message: string): void {
    this.emit('log', level, message);
  }

  /** SHUTDOWN: close after this turn's replies went out; 'shutdown' tells the embedder. */
  private shutdownFromCommand(): void {
    setImmediate(() => {
      const closed = this.close();
      this.emit('shutdown', closed);
      closed.catch(() => {
        // Reported to whoever awaits the promise passed with 'shutdown'.
      });
    });
  }

  /** A handle on database `index` with its own connection state (SELECT, MULTI, WATCH). */
  db(index = 0): DbHandle {
    this.assertUsable();
    if (!Number.isInteger(index) || index < 0 || index >= this.config.databases) {
      throw new EngineError(
        'ERR_INVALID_OPTION',
        `Database index ${index} is out of range 0..${this.config.databases - 1}`,
      );
    }
    return new DbHandle(this, this.server.createClient(index));
  }

  /** True once the engine refuses commands: closing, closed, or stopped by a fatal AOF error. */
  get closed(): boolean {
    return this.lifecycle !== 'open' || this.fatalCause !== null;
  }

  /** Run one command for `client` now; its reply is delivered after this turn's AOF flush. */
  submit(client: Client, argv: Bin[], asBuffer: boolean): Promise<never> {
    const usable = this.usabilityError();
    if (usable !== null) return Promise.reject(usable);
    const reply = this.execute(client, argv);
    const block = client.blockForAof;
    if (block !== null) {
      client.blockForAof = null;
      return this.blockForAof(client, block, asBuffer);
    }
    return new Promise<never>((resolve, reject) => {
      this.held.push({ reply, asBuffer, batch: false, resolve, reject });
      this.scheduleBeforeSleep();
    });
  }

  /**
   * Run several commands for `client` now, back to back (not atomically: that is MULTI); their
   * replies are delivered together after this turn's AOF flush, as [error | null, value] pairs.
   */
  submitBatch(
    client: Client,
    argvs: readonly Bin[][],
    asBuffer: boolean,
  ): Promise<[ReplyError | null, ReplyValue][]> {
    const usable = this.usabilityError();
    if (usable !== null) return Promise.reject(usable);
    const replies = this.executeBatch(client, argvs);
    return new Promise<never>((resolve, reject) => {
      this.held.push({ reply: replies, asBuffer, batch: true, resolve, reject });
      this.scheduleBeforeSleep();
    });
  }

  /** Each command of a pipeline or batch, in order. */
  private executeBatch(client: Client, argvs: readonly Bin[][]): Reply[] {
    const replies: Reply[] = new Array<Reply>(argvs.length);
    for (let i = 0; i < argvs.length; i++) {
      replies[i] = this.execute(client, argvs[i]!);
      // A batch is not a connection that can block: WAITAOF answers at once there.
      client.blockForAof = null;
    }
    return replies;
  }

  /** Server.execute plus Redis call()'s `c->woff = master_repl_offset` after a propagation. */
  private execute(client: Client, argv: Bin[]): Reply {
    const aof = this.aof;
    if (aof === null) return this.server.execute(client, argv);
    const before = aof.streamOffsetBytes;
    const reply = this.server.execute(client, argv);
    const after = aof.streamOffsetBytes;
    if (after !== before) client.woffBytes = after;
    return reply;
  }

  /** Redis blockForAofFsync: the WAITAOF reply comes when the AOF is fsynced, or at the timeout. */
  private blockForAof(
    client: Client,
    block: NonNullable<Client['blockForAof']>,
    asBuffer: boolean,
  ): Promise<never> {
    return new Promise<never>((resolve, reject) => {
      this.awaitAofForClient(client, block, (reply) => {
        if (reply instanceof Error) reject(reply);
        else deliver({ reply, asBuffer, batch: false, resolve, reject });
      });
    });
  }

  /**
   * The WAITAOF wait of `client` (blockForAof): calls `done` once with the reply, or with the
   * error that ended the wait (an fsync error, the engine closing).
   */
  private awaitAofForClient(
    client: Client,
    block: NonNullable<Client['blockForAof']>,
    done: (reply: Reply | Error) => void,
  ): void {
    const aof = this.aof!;
    const target = client.woffBytes;
    // With numreplicas > 0 only the timeout ends the wait: there are no replicas to count.
    const waitFor = block.waitReplicas ? Number.POSITIVE_INFINITY : target;
    aof.waitDurable(waitFor, 'command', block.timeoutMs, (outcome) => {
      switch (outcome.kind) {
        case 'durable':
        case 'timeout':
          done([aof.fsyncedOffsetBytes >= target ? 1 : 0, 0]);
          return;
        case 'aof-disabled':
          done(new ErrorReply(WAITAOF_AOF_DISABLED));
          return;
        case 'error':
          done(outcome.error);
          return;
      }
    });
  }

  /**
   * A network client's WAITAOF (client.blockForAof set by its last command): the connection
   * stops reading until `done` gets the reply, as Redis blocks the client.
   */
  blockNetworkClientForAof(client: Client, done: (reply: Reply) => void): void {
    const block = client.blockForAof;
    client.blockForAof = null;
    if (block === null) return;
    this.awaitAofForClient(client, block, (reply) =>
      done(reply instanceof Error ? new ErrorReply(`ERR ${reply.message}`) : reply),
    );
  }

  /**
   * submit()/submitBatch() for a caller that converts replies itself (the worker-thread host):
   * resolves with the raw Reply (an array of them for a batch), error replies included, at the
   * same moment submit() would.
   */
  submitRaw(client: Client, argvs: readonly Bin[][]): Promise<Reply[]> {
    const usable = this.usabilityError();
    if (usable !== null) return Promise.reject(usable);
    const replies = this.executeBatch(client, argvs);
    return new Promise<never>((resolve, reject) => {
      this.held.push({ reply: replies, asBuffer: false, batch: true, raw: true, resolve, reject });
      this.scheduleBeforeSleep();
    });
  }

  /**
   * Resolves once everything executed on this engine so far (by any handle) is fsynced to the
   * AOF: Redis 7.2's WAITAOF for the whole stream. See DbHandle.waitAof().
   */
  waitAof(): Promise<void> {
    const usable = this.usabilityError();
    if (usable !== null) return Promise.reject(usable);
    if (this.aof === null) {
      return Promise.reject(new EngineError('ERR_NOT_SUPPORTED', 'This engine has no AOF'));
    }
    return this.waitAofThrough(this.aof.streamOffsetBytes);
  }

  /** Resolves once the AOF stream is fsynced up to `targetBytes` (see AofPersistence). */
  waitAofThrough(targetBytes: number): Promise<void> {
    const usable = this.usabilityError();
    if (usable !== null) return Promise.reject(usable);
    const aof = this.aof;
    if (aof === null || !aof.aofEnabled) {
      return Promise.reject(
        new EngineError(
          'ERR_AOF_DISABLED',
          'waitAof() cannot be used while appendonly is disabled (Redis: WAITAOF cannot be ' +
            'used when numlocal is set but appendonly is disabled)',
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      aof.waitDurable(targetBytes, 'embedded', 0, (outcome) => {
        if (outcome.kind === 'durable') resolve();
        else if (outcome.kind === 'error') reject(outcome.error);
        else reject(new EngineError('ERR_AOF_DISABLED', 'waitAof(): the AOF was turned off'));
      });
    });
  }

  /**
   * A MessagePort to hand to a worker thread (transfer it): `connectEngine(port)` from
   * `@aofkv/engine/worker` gives the worker db() handles on this engine, with the embedded API's
   * acknowledgement rule. The port closes with the engine.
   */
  connectWorker(): MessagePort {
    this.assertUsable();
    const { port1, port2 } = new MessageChannel();
    this.workerHosts.add(new WorkerHost(this, port1, (host) => this.workerHosts.delete(host)));
    return port2;
  }

  private scheduleBeforeSleep(): void {
    if (this.beforeSleepScheduled) return;
    this.beforeSleepScheduled = true;
    setImmediate(() => this.beforeSleep());
  }

  /**
   * Redis beforeSleep: flush the AOF, then deliver this turn's replies — unless the AOF stopped
   * (now, or earlier in this turn from the cron or a command): then none is ever delivered.
   */
  beforeSleep(): void {
    this.beforeSleepScheduled = false;
    const held = this.held;
    this.held = [];
    const outputs = this.heldOutputs;
    this.heldOutputs = [];
    if (this.fatalCause === null) this.aof?.beforeSleep();
    if (this.fatalCause !== null) {
      const cause = this.fatalError();
      for (const h of held) h.reject(cause);
      for (const o of outputs) o.fail();
      return;
    }
    // Redis handleClientsWithPendingWrites, after flushAppendOnlyFile.
    for (const o of outputs) o.release();
    for (const h of held) {
      try {
        deliver(h);
      } catch (err) {
        // A reply that cannot be converted must not leave the other callers waiting forever.
        h.reject(err as Error);
      }
    }
  }

  /** The AOF stopped for good (Redis exits): refuse everything from now on. Called by the AOF. */
  enterFatal(cause: Error): void {
    if (this.fatalCause !== null) return;
    this.fatalCause = cause;
    this.stopCron();
    // Redis exits: every connection drops and nothing held is sent.
    this.network?.fail();
    this.emit('fatal', cause);
  }

  startCron(): void {
    if (this.cronTimer !== null) return;
    this.cronTimer = setInterval(() => this.cron(), Math.max(1, Math.floor(1000 / this.config.hz)));
    this.cronTimer.unref();
  }

  private stopCron(): void {
    if (this.cronTimer !== null) clearInterval(this.cronTimer);
    this.cronTimer = null;
  }

  /** Redis serverCron: active expiry and the AOF's periodic duties. */
  cron(): void {
    if (this.closed) return;
    this.server.activeExpireCycle(ACTIVE_EXPIRE_KEYS_PER_TICK);
    this.network?.cron();
    this.aof?.cron();
  }

  /**
   * Redis DEBUG LOADAOF for tests and tools: flush, empty the keyspace and load the AOF again from
   * disk. A load that fails stops the engine, as it makes Redis exit; a refusal (aof_buf could not
   * be written, see AofPersistence.debugLoadAof) changes nothing.
   */
  async debugLoadAof(): Promise<void> {
    this.assertUsable();
    if (this.aof === null) throw new EngineError('ERR_NOT_SUPPORTED', 'This engine has no AOF');
    await this.aof.debugLoadAof();
  }

  /**
   * Flush and fsync everything, stop timers and workers. Idempotent: later calls return the same
   * promise. Rejects with ERR_AOF_NOT_PERSISTED (after releasing everything) when something
   * executed could not be made durable; see FAULTS.md.
   */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    this.lifecycle = 'closing';
    this.stopCron();
    // Listeners first: no new client, and each connected one gets what is held for it.
    const networkClosed = this.network?.close();
    for (const host of [...this.workerHosts]) host.closeAfterPending();
    // Deliver replies of commands already run in this turn before shutting the AOF.
    if (this.held.length > 0 || this.heldOutputs.length > 0) this.beforeSleep();
    try {
      await networkClosed;
      await this.aof?.close();
    } finally {
      this.lifecycle = 'closed';
      // Last: until every file is closed, this engine still owns the directory.
      this.dirLock?.release();
    }
  }

  private assertUsable(): void {
    const err = this.usabilityError();
    if (err !== null) throw err;
  }

  private fatalError(): EngineError {
    const cause = this.fatalCause!;
    return new EngineError(
      'ERR_ENGINE_FATAL',
      `The engine stopped after a fatal AOF error and refuses every command: ${cause.message}`,
      { cause },
    );
  }

  private usabilityError(): EngineError | null {
    if (this.lifecycle !== 'open') {
      return new EngineError(
        'ERR_ENGINE_CLOSED',
        'The engine is closed; open a new one with openEngine()',
      );
    }
    return this.fatalCause === null ? null : this.fatalError();
  }
}

/** Redis ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP is 20 per db per loop; we bound a whole tick. */
const ACTIVE_EXPIRE_KEYS_PER_TICK = 200;

function deliver(h: HeldReply): void {
  const { reply } = h;
  if (h.raw === true) {
    (h.resolve as (v: unknown) => void)(reply);
    return;
  }
  if (h.batch) {
    const convert = h.asBuffer ? toBufferValue : toJsValue;
    const pairs = (reply as Reply[]).map((r) =>
      r instanceof ErrorReply ? [new ReplyError(r.message), null] : [null, convert(r)],
    );
    (h.resolve as (v: unknown) => void)(pairs);
    return;
  }
  if (reply instanceof ErrorReply) {
    h.reject(new ReplyError(reply.message));
    return;
  }
  (h.resolve as (v: unknown) => void)(h.asBuffer ? toBufferValue(reply) : toJsValue(reply));
}

export function toJsValue(reply: Reply): ReplyValue {
  if (typeof reply === 'string') return binToUtf8(reply);
  if (typeof reply === 'number' || typeof reply === 'bigint' || reply === null) return reply;
  if (reply instanceof StatusReply) return reply.status;
  if (reply instanceof ErrorReply) return new ReplyError(reply.message);
  if (reply instanceof NilArrayReply) return null;
  return reply.map(toJsValue);
}

export function toBufferValue(reply: Reply): BufferReplyValue {
  if (typeof reply === 'string') return binToBuffer(reply);
  if (typeof reply === 'number' || typeof reply === 'bigint' || reply === null) return reply;
  if (reply instanceof StatusReply) return reply.status;
  if (reply instanceof ErrorReply) return new ReplyError(reply.message);
  if (reply instanceof NilArrayReply) return null;
  return reply.map(toBufferValue);
}

type HelperMethods = { [K in HelperCommand]: (...args: Arg[]) => Promise<ReplyValue> };

/**
 * A connection-like handle on the engine. `command()` is generic and returns Redis-shaped replies;
 * the helpers are named like ioredis methods; `*Buffer` variants return bulk strings as Buffers.
 */
export class DbHandleBase {
  readonly engine: Engine;
  readonly client: Client;

  constructor(engine: Engine, client: Client) {
    this.engine = engine;
    this.client = client;
  }

  /** The database this handle currently addresses (changes with SELECT). */
  get index(): number {
    return this.client.dbIndex;
  }

  command(name: string, ...args: Arg[]): Promise<ReplyValue> {
    return this.engine.submit(this.client, toArgv(toBin(name), args), false);
  }

  commandBuffer(name: string, ...args: Arg[]): Promise<BufferReplyValue> {
    return this.engine.submit(this.client, toArgv(toBin(name), args), true);
  }

  getBuffer(key: Arg): Promise<Buffer | null> {
    return this.commandBuffer('get', key) as Promise<Buffer | null>;
  }

  /** HGETALL as an object, like ioredis. */
  async hgetall(key: Arg): Promise<Record<string, string>> {
    const flat = (await this.command('hgetall', key)) as string[];
    const out: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
    return out;
  }

  /** Start a transaction: queue commands, then `exec()` runs them atomically (MULTI ... EXEC). */
  multi(): Transaction {
    return new Transaction(this);
  }

  /** Queue commands to run back to back with one acknowledgment (see Pipeline). */
  pipeline(): Pipeline {
    return new Pipeline(this);
  }

  select(index: number): Promise<ReplyValue> {
    return this.command('select', index);
  }

  /**
   * Resolves when everything this handle has had acknowledged is fsynced to the AOF (Redis 7.2
   * WAITAOF 1 0 0 for this connection): at once under always; otherwise a background fsync is
   * started if none is under way. Never blocks the event loop. Rejects with EngineError
   * ERR_AOF_FSYNC (the fsync failed), ERR_AOF_WRITE (the bytes could not be written),
   * ERR_AOF_DISABLED (appendonly is off), ERR_ENGINE_FATAL or ERR_ENGINE_CLOSED.
   */
  waitAof(): Promise<void> {
    return this.engine.waitAofThrough(this.client.woffBytes);
  }
}

export type DbHandle = DbHandleBase & HelperMethods;
// eslint-disable-next-line @typescript-eslint/no-redeclare
export const DbHandle = DbHandleBase as unknown as new (engine: Engine, client: Client) => DbHandle;

for (const name of HELPER_COMMANDS) {
  Object.defineProperty(DbHandleBase.prototype, name, {
    // Straight to submit, not through command(name, ...args): one rest array per call, not two.
    value: function (this: DbHandleBase, ...args: Arg[]) {
      return this.engine.submit(this.client, toArgv(name, args), false);
    },
    writable: true,
    configurable: true,
  });
}

/** Commands queued on a handle, run by `exec()`: the shared part of MULTI and pipelines. */
abstract class CommandQueue {
  protected readonly handle: DbHandleBase;
  protected readonly queued: Bin[][] = [];

  constructor(handle: DbHandleBase) {
    this.handle = handle;
  }

  command(name: string, ...args: Arg[]): this {
    return this.queue(toArgv(toBin(name), args));
  }

  protected queue(argv: Bin[]): this {
    this.queued.push(argv);
    return this;
  }

  get length(): number {
    return this.queued.length;
  }
}

for (const name of HELPER_COMMANDS) {
  Object.defineProperty(CommandQueue.prototype, name, {
    value: function (this: CommandQueue, ...args: Arg[]) {
      return this.queue(toArgv(name, args));
    },
    writable: true,
    configurable: true,
  });
}

/** An ioredis-like MULTI builder: results are `[error | null, value]` pairs, or null if aborted. */
export class TransactionBase extends CommandQueue {
  async exec(): Promise<[ReplyError | null, ReplyValue][] | null> {
    const { engine, client } = this.handle;
    // All commands run in this same turn, back to back, so nothing interleaves.
    const results = [
      engine.submit(client, ['MULTI'], false),
      ...this.queued.map((argv) => engine.submit(client, argv, false).catch((e: unknown) => e)),
      engine.submit(client, ['EXEC'], false),
    ];
    const settled = await Promise.all(results);
    const exec = settled[settled.length - 1] as ReplyValue;
    if (exec === null) return null;
    return (exec as ReplyValue[]).map((v) => (v instanceof ReplyError ? [v, null] : [null, v]));
  }
}

export type Transaction = TransactionBase & {
  [K in HelperCommand]: (...args: Arg[]) => Transaction;
};
// eslint-disable-next-line @typescript-eslint/no-redeclare
export const Transaction = TransactionBase as unknown as new (handle: DbHandleBase) => Transaction;

/**
 * An ioredis-like pipeline: the queued commands run back to back in one turn (other callers'
 * commands do not interleave, but it is not a transaction: each command succeeds or fails on
 * its own) and one promise resolves with every `[error | null, value]` pair, after the AOF write
 * (and fsync under always) that covers all of them. Redis clients pipeline to save round trips;
 * here it saves a promise per command, the largest fixed cost of a small write.
 */
export class PipelineBase extends CommandQueue {
  exec(): Promise<[ReplyError | null, ReplyValue][]> {
    return this.handle.engine.submitBatch(this.handle.client, this.queued.splice(0), false);
  }
}

export type Pipeline = PipelineBase & { [K in HelperCommand]: (...args: Arg[]) => Pipeline };
// eslint-disable-next-line @typescript-eslint/no-redeclare
export const Pipeline = PipelineBase as unknown as new (handle: DbHandleBase) => Pipeline;

/**
 * `name` is already a Bin: the helpers (db.set, pipeline.hset...) pass their ASCII names as they
 * are, command(name, ...) converts the caller's.
 */
function toArgv(name: Bin, args: readonly Arg[]): Bin[] {
  const argv: Bin[] = new Array<Bin>(args.length + 1);
  argv[0] = name;
  for (let i = 0; i < args.length; i++) argv[i + 1] = toBin(args[i]!);
  return argv;
}

/**
 * What an engine emits as 'trace' (`engine.on('trace', fn)`, any number of listeners): the AOF
 * writer's flush decisions (writes, postponements, forced writes, fsync submits, always-fsyncs,
 * write errors) and every bio job's submit/start/finish with the pending count. Study mode's
 * timeline is drawn from exactly these. Events come at most a few per event-loop turn, never
 * per command, and cost one listener-count check when nobody listens.
 */
export type EngineTraceEvent =
  | { source: 'aof'; event: AofTraceEvent }
  | { source: 'bio'; event: BioEvent };

/**
 * Route bio events to 'trace'. A bio passed in by the embedder keeps the observer it already has
 * (called first); one assigned to bio.onEvent after openEngine replaces this routing.
 */
function observeBioForTrace(engine: Engine, bio: BioClient): void {
  const prior = bio.onEvent;
  bio.onEvent = (event) => {
    prior?.(event);
    if (engine.listenerCount('trace') > 0)
      engine.emit('trace', { source: 'bio', event } satisfies EngineTraceEvent);
  };
}

/** Open an engine: validate options, load the data directory, start the cron. */
export async function openEngine(options: EngineOptions = {}): Promise<Engine> {
  const config = resolveConfig(options as Record<string, unknown>);
  const clock = options.clock ?? systemClock;
  const engine = new Engine(config, clock, options.random ?? Math.random);
  const log: AofLogger = (level, message) => {
    options.logger?.(level, message);
    engine.emit('log', level, message);
  };
  const fs = options.fs ?? new NodeFileSystem();
  // One writer per directory: the lock comes before any other file is read or written.
  const dirLock = lockDataDir(config, fs, options, clock, log);
  const bio = options.bio ?? new LazyBio(() => createPiscinaBio());
  observeBioForTrace(engine, bio);
  const priorObserver = bio.onEvent;
  // A finished fsync may satisfy WAITAOF / waitAof() waiters: settle them without a cron tick.
  bio.onEvent = (event) => {
    priorObserver?.(event);
    if (event.type === 'aofFsync' && event.phase === 'finish') engine.aof?.settleWaiters();
  };
  const aof = new AofPersistence({
    config,
    fs,
    bio,
    clock,
    server: engine.server,
    log,
    readOnly: options.readOnly === true,
    onFatal: (error) => engine.enterFatal(error),
    ...(options.onLoadProgress !== undefined ? { onLoadProgress: options.onLoadProgress } : {}),
    ...(options.rewriteScheduler !== undefined
      ? { rewriteScheduler: options.rewriteScheduler }
      : {}),
    ...(options.loadScheduler !== undefined ? { loadScheduler: options.loadScheduler } : {}),
    ...(options.makeSnapshotSink !== undefined
      ? { makeSnapshotSink: options.makeSnapshotSink }
      : {}),
  });
  try {
    await aof.start();
  } catch (err) {
    await bio.close();
    dirLock?.release();
    // A file-system failure while opening is an operating error of the engine: give it a code.
    if (isFsError(err)) {
      throw new EngineError('ERR_AOF_OPEN', `Can't open the AOF in ${config.dir}: ${err.message}`, {
        cause: err,
      });
    }
    throw err;
  }
  engine.aof = aof;
  engine.dirLock = dirLock;
  aof.onTrace = (event) => {
    if (engine.listenerCount('trace') > 0)
      engine.emit('trace', { source: 'aof', event } satisfies EngineTraceEvent);
  };
  engine.server.sink = aof;
  engine.server.gate = aof;
  engine.on('configChanged', (key: string, previous: unknown) =>
    aof.onConfigChanged(key, previous),
  );
  if (!options.readOnly && options.autoCron !== false) engine.startCron();
  return engine;
}

/**
 * Take the data directory's lock (see io/dir-lock.ts); a readOnly open takes none but says in the
 * log when a writer holds it, since what it loads may then be a moment of a changing directory.
 */
function lockDataDir(
  config: EngineConfig,
  fs: FileSystem,
  options: EngineOptions,
  clock: Clock,
  log: AofLogger,
): DirLock | null {
  const { dir } = config;
  const lockName = lockFileName(config.appendfilename);
  const probe =
    options.processProbe ?? new NodeProcessProbe(hasMachineBoot(fs) ? () => fs.bootId : undefined);
  if (options.readOnly === true) {
    const holder = readLockHolder(fs, probe, path.join(dir, lockName));
    if (holder !== null) {
      log(
        'warning',
        `${dir} is locked by a writer, ${describeHolder(holder.record)}: reading it anyway, ` +
          'without the lock; what is loaded is the directory as it was at this moment',
      );
    }
    return null;
  }
  try {
    fs.mkdir(dir);
    const lock = acquireDirLock({ fs, probe, dir, lockName, nowMs: () => clock.nowMs() });
    if (lock.tookOverFrom !== null) {
      log(
        'warning',
        `Took over the lock of ${dir} from ${describeHolder(lock.tookOverFrom)}, ` +
          'which is no longer running',
      );
    }
    return lock;
  } catch (err) {
    if (isFsError(err)) {
      throw new EngineError(
        'ERR_AOF_OPEN',
        `Can't lock the data directory ${dir}: ${err.message}`,
        {
          cause: err,
        },
      );
    }
    throw err;
  }
}
