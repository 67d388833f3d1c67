// DESIGN: the engine from a worker thread (`@aofkv/engine/worker`). The main thread calls
// engine.connectWorker() and transfers the port; the worker calls connectEngine(port) and gets
// db(n) handles with the embedded API: command / commandBuffer, the ioredis-style helpers,
// hgetall, multi(), pipeline(), ReplyError. Every call is one message; a pipeline or a MULTI
// block is one message too, so it runs back to back in one event-loop turn of the engine, as it
// does in-process. A promise settles when the engine's reply arrives, which is after the AOF
// write (and fsync under always) that holds the command: the embedded acknowledgement rule.
//
// Arguments cross as Bin strings (structured clone copies strings; Node has no zero-copy path for
// them), bulk replies come back as Bin strings and become UTF-8 text or Buffers here.

import type { MessagePort } from 'node:worker_threads';
import { binToBuffer, binToUtf8, toBin, type Bin } from '../bytes.ts';
import { EngineError, ReplyError, type EngineErrorCode } from '../errors.ts';
import {
  HELPER_COMMANDS,
  type Arg,
  type BufferReplyValue,
  type HelperCommand,
  type ReplyValue,
} from '../helper-commands.ts';
import type { WireReply, WireRequest, WireResponse } from './wire.ts';

export type { Arg, BufferReplyValue, ReplyValue };

interface Pending {
  resolve: (replies: WireReply[]) => void;
  reject: (err: Error) => void;
}

/** The worker's connection to the engine: one port, any number of db() handles. */
export class RemoteEngine {
  private readonly port: MessagePort;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private nextHandle = 1;
  private closedError: Error | null = null;
  /** Requests of this tick, posted as one message by flush(). */
  private outbox: WireRequest[] = [];

  constructor(port: MessagePort) {
    this.port = port;
    port.on('message', (responses: WireResponse[]) => {
      for (const response of responses) this.onResponse(response);
    });
    port.on('close', () =>
      this.fail(new EngineError('ERR_ENGINE_CLOSED', 'The engine closed the worker connection')),
    );
    // Idle, the port must not keep the worker alive; a pending request does (see send()).
    port.unref();
  }

  /** A handle with its own connection state (SELECT, MULTI, WATCH), starting in db `index`. */
  db(index = 0): RemoteDb {
    return new RemoteDb(this, this.nextHandle++, index);
  }

  /** Close the connection: pending calls reject, the engine forgets this worker's handles. */
  close(): void {
    this.port.close();
  }

  /** One request: argvs run back to back; resolves with their raw replies. */
  send(handle: number, db: number, argvs: Bin[][]): Promise<WireReply[]> {
    if (this.closedError !== null) return Promise.reject(this.closedError);
    const id = this.nextId++;
    const request: WireRequest = { id, handle, db, argvs };
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.port.ref();
      this.pending.set(id, { resolve, reject });
      // One message per tick: the calls a burst of promise continuations makes travel together.
      if (this.outbox.length === 0) queueMicrotask(() => this.flush());
      this.outbox.push(request);
    });
  }

  private flush(): void {
    const batch = this.outbox;
    this.outbox = [];
    if (this.closedError === null) this.port.postMessage(batch);
  }

  private onResponse(response: WireResponse): void {
    const p = this.pending.get(response.id);
    if (p === undefined) return;
    this.pending.delete(response.id);
    if (this.pending.size === 0) this.port.unref();
    if ('replies' in response) p.resolve(response.replies);
    else p.reject(new EngineError(response.error.code as EngineErrorCode, response.error.message));
  }

  private fail(err: Error): void {
    this.closedError ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

/** Connect a worker thread to the engine whose connectWorker() made `port`. */
export function connectEngine(port: MessagePort): RemoteEngine {
  return new RemoteEngine(port);
}

export class RemoteDbBase {
  readonly remote: RemoteEngine;
  readonly handle: number;
  private readonly startDb: number;

  constructor(remote: RemoteEngine, handle: number, startDb: number) {
    this.remote = remote;
    this.handle = handle;
    this.startDb = startDb;
  }

  /** Run argvs back to back (one message); the raw replies. */
  run(argvs: Bin[][]): Promise<WireReply[]> {
    return this.remote.send(this.handle, this.startDb, argvs);
  }

  async command(name: string, ...args: Arg[]): Promise<ReplyValue> {
    const [reply] = await this.run([toArgv(toBin(name), args)]);
    return settle(toJs(reply!)) as ReplyValue;
  }

  async commandBuffer(name: string, ...args: Arg[]): Promise<BufferReplyValue> {
    const [reply] = await this.run([toArgv(toBin(name), args)]);
    return settle(toBuffers(reply!));
  }

  getBuffer(key: Arg): Promise<Buffer | null> {
    return this.commandBuffer('get', key) as Promise<Buffer | null>;
  }

  async hgetall(key: Arg): Promise<Record<string, string>> {
    const flat = (await this.command('hgetall', key)) as string[];
    const out: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
    return out;
  }

  select(index: number): Promise<ReplyValue> {
    return this.command('select', index);
  }

  multi(): RemoteTransaction {
    return new RemoteTransaction(this);
  }

  pipeline(): RemotePipeline {
    return new RemotePipeline(this);
  }
}

type HelperMethods = { [K in HelperCommand]: (...args: Arg[]) => Promise<ReplyValue> };
export type RemoteDb = RemoteDbBase & HelperMethods;
// eslint-disable-next-line @typescript-eslint/no-redeclare
export const RemoteDb = RemoteDbBase as unknown as new (
  remote: RemoteEngine,
  handle: number,
  startDb: number,
) => RemoteDb;

for (const name of HELPER_COMMANDS) {
  Object.defineProperty(RemoteDbBase.prototype, name, {
    value: async function (this: RemoteDbBase, ...args: Arg[]) {
      const [reply] = await this.run([toArgv(name, args)]);
      return settle(toJs(reply!));
    },
    writable: true,
    configurable: true,
  });
}

abstract class RemoteQueue {
  protected readonly db: RemoteDbBase;
  protected readonly queued: Bin[][] = [];
  constructor(db: RemoteDbBase) {
    this.db = db;
  }
  command(name: string, ...args: Arg[]): this {
    this.queued.push(toArgv(toBin(name), args));
    return this;
  }
  get length(): number {
    return this.queued.length;
  }
}

for (const name of HELPER_COMMANDS) {
  Object.defineProperty(RemoteQueue.prototype, name, {
    value: function (this: RemoteQueue, ...args: Arg[]) {
      (this as unknown as { queued: Bin[][] }).queued.push(toArgv(name, args));
      return this;
    },
    writable: true,
    configurable: true,
  });
}

/** MULTI ... EXEC as one message: `[error | null, value]` pairs, or null if a WATCH failed. */
export class RemoteTransactionBase extends RemoteQueue {
  async exec(): Promise<[ReplyError | null, ReplyValue][] | null> {
    const replies = await this.db.run([['MULTI'], ...this.queued.splice(0), ['EXEC']]);
    const exec = toJs(replies[replies.length - 1]!);
    if (exec instanceof ReplyError) throw exec;
    if (exec === null) return null;
    return (exec as ReplyValue[]).map((v) => (v instanceof ReplyError ? [v, null] : [null, v]));
  }
}
export type RemoteTransaction = RemoteTransactionBase & {
  [K in HelperCommand]: (...args: Arg[]) => RemoteTransaction;
};
// eslint-disable-next-line @typescript-eslint/no-redeclare
export const RemoteTransaction = RemoteTransactionBase as unknown as new (
  db: RemoteDbBase,
) => RemoteTransaction;

/** Commands run back to back with one acknowledgement: `[error | null, value]` pairs. */
export class RemotePipelineBase extends RemoteQueue {
  async exec(): Promise<[ReplyError | null, ReplyValue][]> {
    const replies = await this.db.run(this.queued.splice(0));
    return replies.map((r) => {
      const v = toJs(r);
      return v instanceof ReplyError ? [v, null] : [null, v];
    });
  }
}
export type RemotePipeline = RemotePipelineBase & {
  [K in HelperCommand]: (...args: Arg[]) => RemotePipeline;
};
// eslint-disable-next-line @typescript-eslint/no-redeclare
export const RemotePipeline = RemotePipelineBase as unknown as new (
  db: RemoteDbBase,
) => RemotePipeline;

function toArgv(name: Bin, args: readonly Arg[]): Bin[] {
  const argv: Bin[] = new Array<Bin>(args.length + 1);
  argv[0] = name;
  for (let i = 0; i < args.length; i++) argv[i + 1] = toBin(args[i]!);
  return argv;
}

/** A top-level error reply rejects, as in the embedded API. */
function settle<T>(value: T): T {
  if (value instanceof ReplyError) throw value;
  return value;
}

function toJs(reply: WireReply): ReplyValue {
  if (typeof reply === 'string') return binToUtf8(reply);
  if (reply === null || typeof reply !== 'object') return reply;
  if (Array.isArray(reply)) return reply.map(toJs);
  if ('s' in reply) return reply.s;
  if ('e' in reply) return new ReplyError(reply.e);
  return null;
}

function toBuffers(reply: WireReply): BufferReplyValue {
  if (typeof reply === 'string') return binToBuffer(reply);
  if (reply === null || typeof reply !== 'object') return reply;
  if (Array.isArray(reply)) return reply.map(toBuffers);
  if ('s' in reply) return reply.s;
  if ('e' in reply) return new ReplyError(reply.e);
  return null;
}
