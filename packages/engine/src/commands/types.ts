// The contract between the dispatcher (server.ts) and the command implementations.
// A handler gets a CommandContext and the argv (argv[0] is the command name as typed), returns a
// Reply, or throws CommandError (via `fail`) *before* it changed anything. Writes that changed the
// dataset call `c.dirty()`; the dispatcher then propagates `c.argv` (possibly rewritten with
// `c.rewriteArgv`, Redis's rewriteClientCommandVector) to the AOF, exactly as Redis's call() does.

import type { Bin } from '../bytes.ts';
import type { Db } from '../keyspace/db.ts';
import type { Reply } from '../reply.ts';

export type CommandFlag =
  | 'write'
  | 'readonly'
  | 'fast'
  | 'denyoom'
  | 'admin'
  | 'noscript'
  | 'loading'
  | 'stale'
  | 'no-multi' // refused inside MULTI (WATCH is special-cased like Redis)
  | 'touches-arbitrary-keys' // Redis CMD_TOUCHES_ARBITRARY_KEYS: never MULTI-wrapped
  | 'may-replicate'
  | 'no-auth'; // Redis CMD_NO_AUTH: runs before AUTH (AUTH, HELLO, QUIT)

export interface ClientState {
  /** Index of the selected database. */
  dbIndex: number;
  /** Unique id (Redis client id). */
  readonly id: number;
  /** CLIENT SETNAME (Redis c->name), null when unset. */
  name: Bin | null;
  /** Protocol version chosen with HELLO (Redis c->resp). */
  resp: 2 | 3;
  /** AUTH succeeded, or no password was required when the client connected. */
  authenticated: boolean;
  /** Redis CLIENT_CLOSE_AFTER_REPLY: QUIT, CLIENT KILL of itself. */
  closeAfterReply: boolean;
  /** SHUTDOWN succeeded: the client gets no reply, the server stops. */
  noReply: boolean;
  /** Name of the last command run (CLIENT LIST cmd=). */
  lastCommand: string | null;
  /** Redis CLIENT_MULTI. */
  readonly inMulti: boolean;
  /** Redis CLIENT_DIRTY_CAS. */
  readonly dirtyCas: boolean;
  /** Commands queued by MULTI. */
  readonly queue: readonly unknown[];
  /** Redis c->woff (see Client). */
  readonly woffBytes: number;
  /** WAITAOF asks the engine to block this client (Redis blockForAofFsync). */
  blockForAof: { numlocal: number; waitReplicas: boolean; timeoutMs: number } | null;
}

/** What handlers may reach beyond the selected Db. */
export interface ServerView {
  readonly dbs: readonly Db[];
  /** Throws "ERR DB index is out of range" for a bad index. */
  dbAt(index: number): Db;
  /** Redis server.in_exec: EXEC is running its queued commands (blocking is then refused). */
  readonly inExec: boolean;
  /** Uniform random in [0, 1): injected so simulations are deterministic. */
  random(): number;
  /** Redis touchAllWatchedKeysInDb(emptied, replaced_with). */
  touchAllWatchedKeysInDb(emptied: Db, replacedWith: Db | null): void;
  /** Swap the contents of two databases (SWAPDB). */
  swapDbs(a: number, b: number): void;
  /** lazyfree-lazy-user-del: DEL behaves like UNLINK, GETDEL propagates UNLINK. */
  lazyfreeLazyUserDel(): boolean;
  /** lazyfree-lazy-expire: expirations (and past-TTL EXPIREs) propagate UNLINK instead of DEL. */
  lazyfreeLazyExpire(): boolean;
  /** Redis server.loading: replaying the AOF. A past TTL then sets the TTL instead of deleting the
   * key (Redis checkAlreadyExpired), so the replay reproduces the writer's state exactly. */
  isLoading(): boolean;
}

export interface CommandContext {
  readonly db: Db;
  readonly server: ServerView;
  readonly client: ClientState;
  /** The command's cached time in ms (Redis server.mstime during call()). */
  readonly nowMs: number;
  /** The argv that will be propagated; initially what the client sent. */
  readonly argv: readonly Bin[];
  /** server.dirty += count (default 1): the command changed the dataset. */
  dirty(count?: number): void;
  /**
   * Replace the argv to propagate (Redis rewriteClientCommandVector / replaceClientCommandVector).
   */
  rewriteArgv(argv: Bin[]): void;
  /** Queue an extra command for the AOF (Redis alsoPropagate), in this unit's batch. */
  alsoPropagate(dbId: number, argv: Bin[]): void;
  /** Do not propagate this command itself (Redis preventCommandPropagation). */
  preventPropagation(): void;
  /** Propagate even if nothing changed (Redis forceCommandPropagation: FLUSHDB/FLUSHALL). */
  forcePropagation(): void;
}

export type CommandHandler = (c: CommandContext, argv: readonly Bin[]) => Reply;

export interface CommandSpec {
  /** Lower-case command name. */
  readonly name: string;
  /** Redis arity: N = exactly N args (incl. name), -N = at least N. */
  readonly arity: number;
  readonly flags: readonly CommandFlag[];
  /** Key positions (Redis legacy key specs): first, last (-1 = last arg), step; 0 = no keys. */
  readonly firstKey: number;
  readonly lastKey: number;
  readonly keyStep: number;
  readonly handler: CommandHandler;
  /**
   * A container command's subcommands (lower case) and their Redis arities: processCommand
   * refuses an unknown subcommand or a wrong argument count before queueing or running it.
   */
  readonly subcommands?: Readonly<Record<string, number>>;
}

/** Redis processCommand's error for a container command's subcommand, or null when it is fine. */
export function subcommandError(spec: CommandSpec, argv: readonly Bin[]): string | null {
  const table = spec.subcommands;
  if (table === undefined || argv.length < 2) return null;
  const sub = argv[1]!.toLowerCase();
  const arity = table[sub];
  if (arity === undefined) {
    const name = argv[1]!
      .slice(0, 128)
      .split('\0')[0]!
      .replace(/[\r\n]/g, ' ');
    return `ERR unknown subcommand '${name}'. Try ${argv[0]!.toUpperCase()} HELP.`;
  }
  if ((arity > 0 && argv.length !== arity) || argv.length < -arity) {
    return `ERR wrong number of arguments for '${spec.name}|${sub}' command`;
  }
  return null;
}

/** Convenience constructor keeping command tables short. */
export function cmd(
  name: string,
  arity: number,
  flags: readonly CommandFlag[],
  keys: readonly [number, number, number],
  handler: CommandHandler,
): CommandSpec {
  return { name, arity, flags, firstKey: keys[0], lastKey: keys[1], keyStep: keys[2], handler };
}
