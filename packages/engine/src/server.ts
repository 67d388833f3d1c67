// DESIGN: Server is the single-threaded command executor, the embedded analogue of Redis's
// processCommand() + call() + propagatePendingCommands(). It owns the databases, the command table,
// client transaction state (MULTI/EXEC/WATCH) and the propagation batch. It knows nothing about
// files: every write that must reach the AOF leaves through the PropagationSink
// (feedAppendOnlyFile), and the decision to refuse writes after a disk error comes from the
// WriteGate (MISCONF).
//
// One "execution unit" (a command, or a whole EXEC, or one active-expire deletion) collects the
// commands to propagate; when the unit ends they are fed to the sink, wrapped in MULTI/EXEC when
// there is more than one (Redis 7.0 propagatePendingCommands), never wrapped for expiry.

import type { Bin } from './bytes.ts';
import { Db, type CopyOnWrite, type KeyspaceHooks } from './keyspace/db.ts';
import { CommandError, ErrorReply, NIL_ARRAY, OK, QUEUED, type Reply } from './reply.ts';
import { buildCommandTable, type CommandTable } from './commands/registry.ts';
import {
  subcommandError,
  type ClientState,
  type CommandContext,
  type CommandSpec,
  type ServerView,
} from './commands/types.ts';
import { writeKeysOf } from './commands/write-keys.ts';

/** Redis feedAppendOnlyFile: receives every command that must reach the AOF. */
export interface PropagationSink {
  feed(dbId: number, argv: readonly Bin[]): void;
}

/** Answers "are writes refused because of a disk error?" (Redis writeCommandsDeniedByDiskError). */
export interface WriteGate {
  /** The full MISCONF error text, or null when writes are accepted. */
  deniedWriteError(): string | null;
}

export interface ServerOptions {
  databases: number;
  nowMs: () => number;
  random: () => number;
  lazyfreeLazyExpire: () => boolean;
  lazyfreeLazyUserDel: () => boolean;
  /** Redis: the default user has a password (requirepass), so clients must AUTH. */
  passwordRequired?: () => boolean;
  /** Extra commands (server/AOF commands implemented by the engine). */
  extraCommands?: readonly CommandSpec[];
}

export interface WatchedKey {
  db: Db;
  key: Bin;
  /** The key was already logically expired when WATCH ran (Redis watchedKey.expired). */
  expired: boolean;
}

export class Client implements ClientState {
  readonly id: number;
  dbIndex: number;
  name: Bin | null = null;
  resp: 2 | 3 = 2;
  authenticated = true;
  closeAfterReply = false;
  noReply = false;
  lastCommand: string | null = null;
  inMulti = false;
  /** Redis's fake AOF client (CLIENT_ID_AOF): runs while loading, never refused with LOADING. */
  isAofClient = false;
  /** Redis CLIENT_DIRTY_EXEC: a command failed to queue; EXEC will abort. */
  dirtyExec = false;
  /** Redis CLIENT_DIRTY_CAS: a watched key changed; EXEC will return a nil array. */
  dirtyCas = false;
  /** Queued commands and whether any of them is a write (Redis mstate.cmd_flags & CMD_WRITE). */
  queue: { spec: CommandSpec; argv: Bin[] }[] = [];
  queueHasWrite = false;
  readonly watched: WatchedKey[] = [];
  /** Redis c->woff: the AOF stream offset right after this client's last propagated write. */
  woffBytes = 0;
  /** Set by WAITAOF when it must block; the engine takes it after the command ran. */
  blockForAof: { numlocal: number; waitReplicas: boolean; timeoutMs: number } | null = null;

  constructor(id: number, dbIndex: number) {
    this.id = id;
    this.dbIndex = dbIndex;
  }
}

const MULTI_ARGV: readonly Bin[] = ['MULTI'];
const EXEC_ARGV: readonly Bin[] = ['EXEC'];

/** Commands a client in MULTI runs at once instead of queueing (Redis processCommand). */
const NOT_QUEUED = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);

/** How many command-name spellings lookupCommand remembers. */
const SPELLINGS_CACHED = 4096;

export class Server implements KeyspaceHooks, ServerView {
  readonly dbs: Db[];
  readonly table: CommandTable;
  /** lookupCommand's cache: spelling as sent -> spec, or null for no such command. */
  private readonly specBySpelling = new Map<Bin, CommandSpec | null>();
  /** Redis server.dirty: number of changes since start. */
  dirtyCount = 0;
  loading = false;
  sink: PropagationSink | null = null;
  gate: WriteGate | null = null;
  /** Redis server.stat_expiredkeys. */
  expiredKeys = 0;
  commandsProcessed = 0;
  /** Redis server.in_exec: EXEC is running its queued commands. */
  inExec = false;
  /** The running AOF rewrite's snapshot hook, or null. */
  copyOnWrite: CopyOnWrite | null = null;

  private readonly options: ServerOptions;
  private nextClientId = 1;
  /** Time of the running command (Redis caches mstime for the whole call). */
  private callTimeMs = 0;
  /**
   * Commands queued for propagation in the current execution unit: slots [0, pendingCount) of two
   * parallel arrays reused by every unit, so queueing a command allocates nothing.
   */
  private readonly pendingDbIds: number[] = [];
  private readonly pendingArgvs: (readonly Bin[] | null)[] = [];
  private pendingCount = 0;
  private unitDepth = 0;
  private readonly watchedKeys = new Map<Db, Map<Bin, Set<Client>>>();

  constructor(options: ServerOptions) {
    this.options = options;
    this.dbs = Array.from({ length: options.databases }, (_, i) => new Db(i, this));
    this.table = buildCommandTable(options.extraCommands);
  }

  // ---- KeyspaceHooks -------------------------------------------------------------------------

  nowMs(): number {
    return this.unitDepth > 0 ? this.callTimeMs : this.options.nowMs();
  }

  isLoading(): boolean {
    return this.loading;
  }

  /** Redis deleteExpiredKeyAndPropagate → propagateDeletion: DEL or UNLINK, in the current unit. */
  onKeyExpired(db: Db, key: Bin): void {
    this.expiredKeys++;
    const lazy = this.options.lazyfreeLazyExpire();
    this.queuePropagation(db.id, [lazy ? 'UNLINK' : 'DEL', key]);
  }

  signalModifiedKey(db: Db, key: Bin): void {
    const byKey = this.watchedKeys.get(db);
    if (byKey === undefined || byKey.size === 0) return; // nobody WATCHes in this db: one check
    const clients = byKey.get(key);
    if (clients === undefined) return;
    for (const client of [...clients]) {
      const wk = client.watched.find((w) => w.db === db && w.key === key);
      if (wk?.expired) {
        // Redis touchWatchedKey: a key already expired at WATCH time that is now really gone
        // has logically not changed; the flag is cleared instead of failing the transaction.
        if (!db.dict.has(key)) {
          wk.expired = false;
          continue;
        }
      }
      client.dirtyCas = true;
      this.unwatchAll(client);
    }
  }

  // ---- ServerView ----------------------------------------------------------------------------

  dbAt(index: number): Db {
    const db = this.dbs[index];
    if (db === undefined) throw new CommandError('ERR DB index is out of range');
    return db;
  }

  random(): number {
    return this.options.random();
  }

  lazyfreeLazyUserDel(): boolean {
    return this.options.lazyfreeLazyUserDel();
  }

  lazyfreeLazyExpire(): boolean {
    return this.options.lazyfreeLazyExpire();
  }

  touchAllWatchedKeysInDb(emptied: Db, replacedWith: Db | null): void {
    const keys = this.watchedKeys.get(emptied);
    if (keys === undefined) return;
    for (const [key, clients] of [...keys]) {
      const existsInEmptied = emptied.dict.has(key);
      const existsInReplacement = replacedWith?.dict.has(key);
      if (!existsInEmptied && !existsInReplacement) continue;
      for (const client of [...clients]) {
        const wk = client.watched.find((w) => w.db === emptied && w.key === key);
        if (wk?.expired) {
          if (!existsInReplacement) {
            // Expired at WATCH time and not replaced: logically unchanged (Redis 7.0).
            wk.expired = false;
            continue;
          }
          wk.expired = false;
          if (replacedWith?.isExpired(key)) continue;
        }
        client.dirtyCas = true;
        this.unwatchAll(client);
      }
    }
  }

  swapDbs(a: number, b: number): void {
    const dbA = this.dbAt(a);
    const dbB = this.dbAt(b);
    this.touchAllWatchedKeysInDb(dbA, dbB);
    this.touchAllWatchedKeysInDb(dbB, dbA);
    [dbA.dict, dbB.dict] = [dbB.dict, dbA.dict];
    [dbA.expires, dbB.expires] = [dbB.expires, dbA.expires];
    dbA.expireCursor = null;
    dbB.expireCursor = null;
    dbA.tablesReplaced();
    dbB.tablesReplaced();
  }

  /** Attach (or detach with null) a rewrite snapshot to every database. */
  setCopyOnWrite(cow: CopyOnWrite | null): void {
    this.copyOnWrite = cow;
    for (const db of this.dbs) db.cow = cow;
  }

  // ---- Clients and commands ------------------------------------------------------------------

  createClient(dbIndex = 0): Client {
    this.dbAt(dbIndex);
    return new Client(this.nextClientId++, dbIndex);
  }

  /**
   * Redis lookupCommand: the command `raw` names, in any letter case. Each spelling is lowered
   * once: a write path sees the same few names ("SET", "set") millions of times. Bounded, since
   * a client can send any bytes as a name.
   */
  lookupCommand(raw: Bin): CommandSpec | undefined {
    let spec = this.specBySpelling.get(raw);
    if (spec === undefined) {
      spec = this.table.get(raw.toLowerCase()) ?? null;
      if (this.specBySpelling.size < SPELLINGS_CACHED) this.specBySpelling.set(raw, spec);
    }
    return spec ?? undefined;
  }

  /**
   * Redis processCommand for one client request: lookup, arity, MISCONF, MULTI queueing, call().
   * Never throws for bad input: errors come back as ErrorReply. `known`: the spec of argv[0] when
   * the caller already looked it up (the AOF loader does).
   */
  execute(client: Client, argv: Bin[], known?: CommandSpec): Reply {
    this.commandsProcessed++;
    if (argv.length === 0) return new ErrorReply('ERR empty command');
    const spec = known ?? this.lookupCommand(argv[0]!);
    if (spec === undefined) {
      return this.reject(client, unknownCommandError(argv));
    }
    client.lastCommand = spec.name;
    if (this.loading && !client.isAofClient && !spec.flags.includes('loading')) {
      return this.reject(client, 'LOADING Redis is loading the dataset in memory', spec);
    }
    if ((spec.arity > 0 && argv.length !== spec.arity) || argv.length < -spec.arity) {
      return this.reject(client, `ERR wrong number of arguments for '${spec.name}' command`, spec);
    }
    if (spec.subcommands !== undefined) {
      const error = subcommandError(spec, argv);
      if (error !== null) return this.reject(client, error, spec);
    }
    // Redis processCommand: authRequired(c) and the command is not CMD_NO_AUTH.
    if (!client.authenticated && !spec.flags.includes('no-auth') && this.authRequired()) {
      return this.reject(client, 'NOAUTH Authentication required.', spec);
    }
    // Redis never refuses the AOF client: the loader calls the command directly, not through
    // processCommand, so a pending disk error cannot make DEBUG LOADAOF skip commands.
    const isWrite =
      spec.flags.includes('write') ||
      (spec.name === 'exec' && client.inMulti && client.queueHasWrite);
    if ((isWrite || spec.name === 'ping') && !client.isAofClient) {
      const denied = this.gate?.deniedWriteError() ?? null;
      if (denied !== null) return this.reject(client, denied, spec);
    }
    if (client.inMulti && !NOT_QUEUED.has(spec.name)) {
      if (spec.flags.includes('no-multi')) {
        return this.reject(client, `ERR Command not allowed inside a transaction`, spec);
      }
      client.queue.push({ spec, argv });
      if (spec.flags.includes('write')) client.queueHasWrite = true;
      return QUEUED;
    }
    switch (spec.name) {
      case 'multi':
        return this.multi(client);
      case 'exec':
        return this.exec(client);
      case 'discard':
        return this.discard(client);
      case 'watch':
        return this.watch(client, argv);
      case 'reset':
        // Redis clearClientConnectionState: discardTransaction, then the connection fields.
        this.discardTransaction(client);
        return this.callAsUnit(client, spec, argv);
      case 'unwatch':
        // Redis unwatchCommand also forgets that a watched key changed.
        this.unwatchAll(client);
        client.dirtyCas = false;
        return OK;
      default:
        return this.callAsUnit(client, spec, argv);
    }
  }

  /** Redis authRequired(c) without the client part: a password is set. */
  authRequired(): boolean {
    return this.options.passwordRequired?.() === true;
  }

  /** Redis discardTransaction, for RESET and for connections that go away. */
  resetTransaction(client: Client): void {
    this.discardTransaction(client);
  }

  /** Redis createAOFClient: the client the loader replays files through. */
  createAofClient(): Client {
    const client = this.createClient(0);
    client.isAofClient = true;
    return client;
  }

  /**
   * Redis rejectCommand: reply with an error and, inside MULTI, doom the transaction. A rejected
   * EXEC ends the transaction instead (Redis execCommandAbort): "EXECABORT Transaction discarded
   * because of: <error>", and the client is out of MULTI.
   */
  private reject(client: Client, message: string, spec?: CommandSpec): ErrorReply {
    if (spec?.name === 'exec' && client.inMulti) {
      this.discardTransaction(client);
      return new ErrorReply(`EXECABORT Transaction discarded because of: ${message}`);
    }
    if (client.inMulti) client.dirtyExec = true;
    return new ErrorReply(message);
  }

  /** Redis call(): run the handler, then queue its argv for propagation if it changed data. */
  private call(client: Client, spec: CommandSpec, argv: Bin[]): Reply {
    const dirtyBefore = this.dirtyCount;
    const db = this.dbs[client.dbIndex]!;
    const ctx = new CallContext(this, db, client, this.callTimeMs, argv);
    const cow = this.copyOnWrite;
    if (cow !== null && spec.flags.includes('write')) {
      // Handlers may change a looked-up value in place: let the rewrite snapshot save each key
      // this command can touch before the handler runs.
      for (const key of writeKeysOf(spec.name, spec.firstKey, spec.lastKey, spec.keyStep, argv)) {
        cow.beforeChange(db, key);
      }
    }
    let reply: Reply;
    try {
      reply = spec.handler(ctx, argv);
    } catch (err) {
      if (err instanceof CommandError) return err.reply;
      throw err;
    }
    if (!ctx.prevented && (ctx.forced || this.dirtyCount !== dirtyBefore)) {
      this.queuePropagation(db.id, ctx.propagateArgv);
    }
    return reply;
  }

  /**
   * One execution unit: fixes the command time, collects propagated commands and feeds them
   * when the outermost unit ends (Redis propagatePendingCommands).
   */
  runUnit<T>(body: () => T, wrapInMulti = true): T {
    this.beginUnit();
    try {
      return body();
    } finally {
      this.endUnit(wrapInMulti);
    }
  }

  /** runUnit(() => call(...)) without allocating the closure: every plain command's path. */
  private callAsUnit(client: Client, spec: CommandSpec, argv: Bin[]): Reply {
    this.beginUnit();
    try {
      return this.call(client, spec, argv);
    } finally {
      this.endUnit(true);
    }
  }

  private beginUnit(): void {
    if (this.unitDepth === 0) this.callTimeMs = this.options.nowMs();
    this.unitDepth++;
  }

  private endUnit(wrapInMulti: boolean): void {
    this.unitDepth--;
    if (this.unitDepth === 0) this.propagatePending(wrapInMulti);
  }

  /** Redis alsoPropagate: queue a command for this unit's batch (nothing while loading). */
  queuePropagation(dbId: number, argv: readonly Bin[]): void {
    if (this.loading) return;
    const i = this.pendingCount++;
    this.pendingDbIds[i] = dbId;
    this.pendingArgvs[i] = argv;
  }

  private propagatePending(wrapInMulti: boolean): void {
    const n = this.pendingCount;
    if (n === 0) return;
    // The slots are reused at once: sink.feed only encodes (it never runs a command), so nothing
    // is queued while this batch is fed.
    this.pendingCount = 0;
    const dbIds = this.pendingDbIds;
    const argvs = this.pendingArgvs;
    const sink = this.sink;
    if (sink !== null) {
      const wrap = wrapInMulti && n > 1;
      if (wrap) sink.feed(dbIds[0]!, MULTI_ARGV);
      for (let i = 0; i < n; i++) sink.feed(dbIds[i]!, argvs[i]!);
      if (wrap) sink.feed(dbIds[n - 1]!, EXEC_ARGV);
    }
    // Drop the references so a large argument is not kept alive until the slot is reused.
    for (let i = 0; i < n; i++) argvs[i] = null;
  }

  // ---- Transactions (Redis multi.c) -----------------------------------------------------------

  private multi(client: Client): Reply {
    if (client.inMulti) return new ErrorReply('ERR MULTI calls can not be nested');
    client.inMulti = true;
    return OK;
  }

  private discard(client: Client): Reply {
    if (!client.inMulti) return new ErrorReply('ERR DISCARD without MULTI');
    this.discardTransaction(client);
    return OK;
  }

  private discardTransaction(client: Client): void {
    client.inMulti = false;
    client.dirtyExec = false;
    client.dirtyCas = false;
    client.queue = [];
    client.queueHasWrite = false;
    this.unwatchAll(client);
  }

  private exec(client: Client): Reply {
    if (!client.inMulti) return new ErrorReply('ERR EXEC without MULTI');
    if (this.isWatchedKeyExpired(client)) client.dirtyCas = true;
    if (client.dirtyExec || client.dirtyCas) {
      const reply = client.dirtyExec
        ? new ErrorReply('EXECABORT Transaction discarded because of previous errors.')
        : NIL_ARRAY;
      this.discardTransaction(client);
      return reply;
    }
    const queue = client.queue;
    this.unwatchAll(client);
    client.inMulti = false;
    client.queue = [];
    client.queueHasWrite = false;
    return this.runUnit(() => {
      const replies: Reply[] = [];
      this.inExec = true;
      try {
        for (const { spec, argv } of queue) replies.push(this.call(client, spec, argv));
      } finally {
        this.inExec = false;
      }
      return replies;
    });
  }

  private watch(client: Client, argv: Bin[]): Reply {
    if (client.inMulti) return new ErrorReply('ERR WATCH inside MULTI is not allowed');
    const db = this.dbs[client.dbIndex]!;
    for (let i = 1; i < argv.length; i++) {
      const key = argv[i]!;
      if (client.watched.some((w) => w.db === db && w.key === key)) continue;
      let byKey = this.watchedKeys.get(db);
      if (byKey === undefined) this.watchedKeys.set(db, (byKey = new Map()));
      let clients = byKey.get(key);
      if (clients === undefined) byKey.set(key, (clients = new Set()));
      clients.add(client);
      client.watched.push({ db, key, expired: this.runUnit(() => db.isExpired(key)) });
    }
    return OK;
  }

  private isWatchedKeyExpired(client: Client): boolean {
    return this.runUnit(() => client.watched.some((w) => !w.expired && w.db.isExpired(w.key)));
  }

  unwatchAll(client: Client): void {
    for (const w of client.watched) {
      const byKey = this.watchedKeys.get(w.db);
      const clients = byKey?.get(w.key);
      if (clients === undefined) continue;
      clients.delete(client);
      if (clients.size === 0) byKey!.delete(w.key);
    }
    client.watched.length = 0;
  }

  // ---- Active expiry (Redis activeExpireCycle, simplified to a resumable sweep) ---------------

  /**
   * Delete up to `budgetKeys` expired keys, visiting at most `budgetKeys * 4` TTL entries, resuming
   * where the last cycle stopped in each db. Each deletion is its own unit, never MULTI-wrapped.
   * Returns the number of keys deleted.
   */
  activeExpireCycle(budgetKeys: number): number {
    if (this.loading) return 0;
    let deleted = 0;
    let visits = budgetKeys * 4;
    const now = this.options.nowMs();
    for (const db of this.dbs) {
      if (db.expires.size === 0) continue;
      db.expireCursor ??= db.expires.entries();
      while (visits > 0 && deleted < budgetKeys) {
        const next = db.expireCursor.next();
        if (next.done === true) {
          db.expireCursor = null;
          break;
        }
        visits--;
        const [key, when] = next.value;
        if (now > when && db.expires.get(key) === when) {
          this.runUnit(() => db.deleteExpired(key), false);
          deleted++;
        }
      }
      if (visits === 0 || deleted >= budgetKeys) break;
    }
    return deleted;
  }

  /** FLUSHALL / DEBUG LOADAOF helper: empty every db, invalidating WATCH. */
  emptyAll(): number {
    let removed = 0;
    for (const db of this.dbs) {
      this.touchAllWatchedKeysInDb(db, null);
      removed += db.clear();
    }
    return removed;
  }
}

/** Redis processCommand's unknown-command text (args shown up to 128 characters). */
function unknownCommandError(argv: readonly Bin[]): string {
  let args = '';
  // %.*s stops at a NUL byte, as the C string formatting in Redis does.
  const cstr = (s: Bin, max: number) => s.slice(0, max).split('\0')[0]!;
  for (let i = 1; i < argv.length && args.length < 128; i++) {
    args += `'${cstr(argv[i]!, 128 - args.length)}' `;
  }
  const text = `ERR unknown command '${cstr(argv[0]!, 128)}', with args beginning with: ${args}`;
  return text.replace(/[\r\n]/g, ' ');
}

/**
 * The CommandContext of one call(): plain fields and prototype methods, so running a command
 * allocates one small object and no closures (this is the dispatch hot path).
 */
class CallContext implements CommandContext {
  readonly server: Server;
  readonly db: Db;
  readonly client: Client;
  readonly nowMs: number;
  readonly argv: readonly Bin[];
  /** What reaches the AOF: the client's argv unless the handler rewrote it. */
  propagateArgv: readonly Bin[];
  prevented = false;
  forced = false;

  constructor(server: Server, db: Db, client: Client, nowMs: number, argv: readonly Bin[]) {
    this.server = server;
    this.db = db;
    this.client = client;
    this.nowMs = nowMs;
    this.argv = argv;
    this.propagateArgv = argv;
  }

  dirty(count = 1): void {
    this.server.dirtyCount += count;
  }

  rewriteArgv(argv: Bin[]): void {
    this.propagateArgv = argv;
  }

  alsoPropagate(dbId: number, argv: Bin[]): void {
    this.server.queuePropagation(dbId, argv);
  }

  preventPropagation(): void {
    this.prevented = true;
  }

  forcePropagation(): void {
    this.forced = true;
  }
}
