// Connection commands with Redis 7.0's replies: AUTH, HELLO, QUIT, RESET, CLIENT, COMMAND and
// SHUTDOWN. They live in the engine's command table like every other command, so MULTI queues
// them and NOAUTH, arity and unknown-command errors come from the one dispatcher. What they need
// beyond the client (the registry of connections, CLIENT PAUSE, the password, the command table,
// shutting the engine down) they reach through ConnectionCommandHost.

import type { Bin } from '../bytes.ts';
import { parseLongLong } from '../bytes.ts';
import type { CommandTable } from '../commands/registry.ts';
import { cmd, type ClientState, type CommandSpec } from '../commands/types.ts';
import { writeKeysOf } from '../commands/write-keys.ts';
import {
  ERR,
  ErrorReply,
  MapReply,
  OK,
  StatusReply,
  fail,
  helpReply,
  type Reply,
} from '../reply.ts';
import type { ClientConnection } from './client-connection.ts';

const NO_KEYS = [0, 0, 0] as const;

export interface ConnectionCommandHost {
  /** The network server's connections (empty when the engine does not listen). */
  connections(): Iterable<ClientConnection>;
  /** Redis authRequired without the client: requirepass is set. */
  passwordRequired(): boolean;
  /** requirepass compared in constant time. */
  passwordMatches(candidate: Bin): boolean;
  pauseClients(kind: 'write' | 'all', endMs: number): void;
  unpauseClients(): void;
  nowMs(): number;
  commandTable(): CommandTable;
  /** SHUTDOWN: close the engine once this turn's replies are out. */
  shutdown(): void;
}

export function buildConnectionCommands(host: ConnectionCommandHost): CommandSpec[] {
  return [
    cmd('auth', -2, ['noscript', 'loading', 'stale', 'fast', 'no-auth'], NO_KEYS, (c, argv) =>
      authCommand(host, c.client, argv),
    ),
    cmd('hello', -1, ['noscript', 'loading', 'stale', 'fast', 'no-auth'], NO_KEYS, (c, argv) =>
      helloCommand(host, c.client, argv),
    ),
    cmd('quit', -1, ['noscript', 'loading', 'stale', 'fast', 'no-auth'], NO_KEYS, (c) => {
      c.client.closeAfterReply = true;
      return OK;
    }),
    cmd('reset', 1, ['noscript', 'loading', 'stale', 'fast', 'no-auth'], NO_KEYS, (c) => {
      // Redis clearClientConnectionState (the transaction part runs in the dispatcher).
      c.client.dbIndex = 0;
      c.client.resp = 2;
      c.client.name = null;
      c.client.authenticated = !host.passwordRequired();
      return new StatusReply('RESET');
    }),
    cmd('client', -2, ['admin', 'noscript', 'loading', 'stale'], NO_KEYS, (c, argv) =>
      clientCommand(host, c.client, argv),
    ),
    cmd('command', -1, ['loading', 'stale'], NO_KEYS, (_c, argv) => commandCommand(host, argv)),
    cmd('shutdown', -1, ['admin', 'noscript', 'loading', 'stale', 'no-multi'], NO_KEYS, (c, argv) =>
      shutdownCommand(host, c.client, argv),
    ),
  ];
}

/** Redis ACLAuthenticateUser for the one user this engine has: "default". */
function authenticate(host: ConnectionCommandHost, user: Bin, password: Bin): boolean {
  if (user !== 'default') return false;
  return !host.passwordRequired() || host.passwordMatches(password);
}

const WRONGPASS = 'WRONGPASS invalid username-password pair or user is disabled.';

function authCommand(host: ConnectionCommandHost, client: ClientState, argv: readonly Bin[]) {
  if (argv.length > 3) return new ErrorReply(ERR.syntax);
  if (argv.length === 2 && !host.passwordRequired()) {
    return new ErrorReply(
      'ERR AUTH <password> called without any password configured for the default user. ' +
        'Are you sure your configuration is correct?',
    );
  }
  const [user, password] = argv.length === 2 ? ['default', argv[1]!] : [argv[1]!, argv[2]!];
  if (!authenticate(host, user, password)) return new ErrorReply(WRONGPASS);
  client.authenticated = true;
  return OK;
}

/** HELLO [protover [AUTH username password] [SETNAME clientname]] (Redis helloCommand). */
function helloCommand(
  host: ConnectionCommandHost,
  client: ClientState,
  argv: readonly Bin[],
): Reply {
  let version = 0;
  let next = 1;
  if (argv.length >= 2) {
    const v = parseLongLong(argv[next++]!);
    if (v === null) return new ErrorReply('ERR Protocol version is not an integer or out of range');
    if (v < 2n || v > 3n) return new ErrorReply('NOPROTO unsupported protocol version');
    version = Number(v);
  }
  let name: Bin | null | undefined;
  for (let j = next; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = argv[j]!.toLowerCase();
    if (opt === 'auth' && more >= 2) {
      if (!authenticate(host, argv[j + 1]!, argv[j + 2]!)) return new ErrorReply(WRONGPASS);
      client.authenticated = true;
      j += 2;
    } else if (opt === 'setname' && more >= 1) {
      const candidate = argv[j + 1]!;
      if (!validClientName(candidate)) return new ErrorReply(BAD_CLIENT_NAME);
      name = candidate.length === 0 ? null : candidate;
      j++;
    } else {
      return new ErrorReply(`ERR Syntax error in HELLO option '${argv[j]!}'`);
    }
  }
  if (!client.authenticated && host.passwordRequired()) {
    return new ErrorReply(
      'NOAUTH HELLO must be called with the client already authenticated, otherwise the ' +
        'HELLO AUTH <user> <pass> option can be used to authenticate the client and select ' +
        'the RESP protocol version at the same time',
    );
  }
  if (name !== undefined) client.name = name;
  if (version !== 0) client.resp = version as 2 | 3;
  return MapReply.fromEntries([
    ['server', 'redis'],
    ['version', REDIS_VERSION],
    ['proto', client.resp],
    ['id', client.id],
    ['mode', 'standalone'],
    ['role', 'master'],
    ['modules', []],
  ]);
}

export const REDIS_VERSION = '7.0.15';

const BAD_CLIENT_NAME = 'ERR Client names cannot contain spaces, newlines or special characters.';

/** Redis clientSetName: printable ASCII without spaces ('!'..'~'); empty clears the name. */
function validClientName(name: Bin): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 33 || c > 126) return false;
  }
  return true;
}

/** Redis 7.0 CLIENT subcommand arities (their own command-table entries there). */
const CLIENT_SUBCOMMANDS: Record<string, number> = {
  id: 2,
  info: 2,
  list: -2,
  kill: -3,
  setname: 3,
  getname: 2,
  pause: -3,
  unpause: 2,
  reply: 3,
  'no-evict': 3,
  help: 2,
};

function clientCommand(
  host: ConnectionCommandHost,
  client: ClientState,
  argv: readonly Bin[],
): Reply {
  const sub = argv[1]!.toLowerCase();
  const arity = CLIENT_SUBCOMMANDS[sub];
  if (arity === undefined) {
    return new ErrorReply(`ERR unknown subcommand '${argv[1]!.slice(0, 128)}'. Try CLIENT HELP.`);
  }
  if ((arity > 0 && argv.length !== arity) || argv.length < -arity) {
    return new ErrorReply(`ERR wrong number of arguments for 'client|${sub}' command`);
  }
  switch (sub) {
    case 'id':
      return client.id;
    case 'info': {
      const own = findConnection(host, client.id);
      return own === undefined ? '' : `${clientInfoLine(own, host.nowMs())}\n`;
    }
    case 'list':
      return clientList(host, argv);
    case 'kill':
      return clientKill(host, client, argv);
    case 'setname': {
      if (!validClientName(argv[2]!)) return new ErrorReply(BAD_CLIENT_NAME);
      client.name = argv[2]!.length === 0 ? null : argv[2]!;
      return OK;
    }
    case 'getname':
      return client.name;
    case 'pause': {
      let kind: 'write' | 'all' = 'all';
      if (argv.length === 4) {
        const mode = argv[3]!.toLowerCase();
        if (mode === 'write') kind = 'write';
        else if (mode !== 'all')
          return new ErrorReply('ERR CLIENT PAUSE mode must be WRITE or ALL');
      } else if (argv.length > 4) {
        return new ErrorReply(ERR.syntax);
      }
      const ms = parseLongLong(argv[2]!);
      if (ms === null) return new ErrorReply('ERR timeout is not an integer or out of range');
      if (ms < 0n) return new ErrorReply('ERR timeout is negative');
      host.pauseClients(kind, host.nowMs() + Number(ms));
      return OK;
    }
    case 'unpause':
      host.unpauseClients();
      return OK;
    case 'reply':
    case 'no-evict': {
      const v = argv[2]!.toLowerCase();
      if (v === 'on') return OK;
      return new ErrorReply(ERR.syntax);
    }
    default:
      // Redis's CLIENT HELP text, for the subcommands this server has.
      return helpReply([
        'CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
        'GETNAME',
        '    Return the name of the current connection.',
        'ID',
        '    Return the ID of the current connection.',
        'INFO',
        '    Return information about the current client connection.',
        'KILL <ip:port>',
        '    Kill connection made from <ip:port>.',
        'KILL <option> <value> [<option> <value> [...]]',
        '    Kill connections. Options are:',
        '    * ADDR (<ip:port>|<unixsocket>:0)',
        '      Kill connections made from the specified address',
        '    * LADDR (<ip:port>|<unixsocket>:0)',
        '      Kill connections made to specified local address',
        '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
        '      Kill connections by type.',
        '    * USER <username>',
        '      Kill connections authenticated by <username>.',
        '    * SKIPME (YES|NO)',
        '      Skip killing current connection (default: yes).',
        'LIST [options ...]',
        '    Return information about client connections. Options:',
        '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
        '      Return clients of specified type.',
        'UNPAUSE',
        '    Stop the current client pause, resuming traffic.',
        'PAUSE <timeout> [WRITE|ALL]',
        '    Suspend all, or just write, clients for <timeout> milliseconds.',
        'SETNAME <name>',
        '    Assign the name <name> to the current connection.',
        'HELP',
        '    Prints this help.',
      ]);
  }
}

function findConnection(host: ConnectionCommandHost, id: number): ClientConnection | undefined {
  for (const conn of host.connections()) if (conn.client.id === id) return conn;
  return undefined;
}

const CLIENT_TYPES = new Set(['normal', 'master', 'replica', 'slave', 'pubsub']);

function clientList(host: ConnectionCommandHost, argv: readonly Bin[]): Reply {
  const now = host.nowMs();
  let out = '';
  if (argv.length === 4 && argv[2]!.toLowerCase() === 'type') {
    const type = argv[3]!.toLowerCase();
    if (!CLIENT_TYPES.has(type)) return new ErrorReply(`ERR Unknown client type '${argv[3]!}'`);
    if (type !== 'normal') return '';
  } else if (argv.length > 3 && argv[2]!.toLowerCase() === 'id') {
    for (const text of argv.slice(3)) {
      const id = parseLongLong(text);
      if (id === null) return new ErrorReply('ERR Invalid client ID');
      const conn = findConnection(host, Number(id));
      if (conn !== undefined) out += `${clientInfoLine(conn, now)}\n`;
    }
    return out;
  } else if (argv.length !== 2) {
    return new ErrorReply(ERR.syntax);
  }
  for (const conn of host.connections()) out += `${clientInfoLine(conn, now)}\n`;
  return out;
}

/** Redis catClientInfoString (7.0 field order). */
export function clientInfoLine(conn: ClientConnection, nowMs: number): string {
  const c = conn.client;
  let flags = '';
  if (c.inMulti) flags += 'x';
  if (conn.isWaitingForUnpause) flags += 'b';
  if (c.dirtyCas) flags += 'd';
  if (c.closeAfterReply) flags += 'c';
  if (conn.isUnixSocket) flags += 'U';
  if (flags === '') flags = 'N';
  const age = Math.floor((nowMs - conn.createdAtMs) / 1000);
  const idle = Math.floor((nowMs - conn.lastInteractionMs) / 1000);
  const qbuf = conn.queryBufferBytes;
  const omem = conn.outputBytes;
  return (
    `id=${c.id} addr=${conn.peerId} laddr=${conn.sockName} fd=${conn.fd} ` +
    `name=${c.name ?? ''} age=${age} idle=${idle} flags=${flags} db=${c.dbIndex} ` +
    `sub=0 psub=0 ssub=0 multi=${c.inMulti ? c.queue.length : -1} qbuf=${qbuf} ` +
    `qbuf-free=${conn.queryBufferFreeBytes} argv-mem=${conn.argvBytes} multi-mem=0 ` +
    `rbs=1024 rbp=0 obl=0 oll=0 omem=${omem} tot-mem=${qbuf + omem} events=r ` +
    `cmd=${c.lastCommand ?? 'NULL'} user=default redir=-1 resp=${c.resp}`
  );
}

/** CLIENT KILL addr | CLIENT KILL <filter> <value> ... (Redis clientCommand "kill"). */
function clientKill(host: ConnectionCommandHost, self: ClientState, argv: readonly Bin[]): Reply {
  let addr: Bin | null = null;
  let laddr: Bin | null = null;
  let id = 0;
  let skipMe = true;
  let typeMatchesNone = false;
  if (argv.length === 3) {
    addr = argv[2]!;
    skipMe = false; // with the old form a client can kill itself
  } else {
    for (let i = 2; i < argv.length; i += 2) {
      const opt = argv[i]!.toLowerCase();
      const value = argv[i + 1];
      if (value === undefined) return new ErrorReply(ERR.syntax);
      if (opt === 'id') {
        const v = parseLongLong(value);
        if (v === null || v < 1n) return new ErrorReply('ERR client-id should be greater than 0');
        id = Number(v);
      } else if (opt === 'type') {
        const type = value.toLowerCase();
        if (!CLIENT_TYPES.has(type)) return new ErrorReply(`ERR Unknown client type '${value}'`);
        typeMatchesNone = type !== 'normal';
      } else if (opt === 'addr') {
        addr = value;
      } else if (opt === 'laddr') {
        laddr = value;
      } else if (opt === 'user') {
        if (value !== 'default') return new ErrorReply(`ERR No such user '${value}'`);
      } else if (opt === 'skipme') {
        const v = value.toLowerCase();
        if (v === 'yes') skipMe = true;
        else if (v === 'no') skipMe = false;
        else return new ErrorReply(ERR.syntax);
      } else {
        return new ErrorReply(ERR.syntax);
      }
    }
  }
  let killed = 0;
  let closeSelf = false;
  for (const conn of [...host.connections()]) {
    if (typeMatchesNone) break;
    if (addr !== null && conn.peerId !== addr) continue;
    if (laddr !== null && conn.sockName !== laddr) continue;
    if (id !== 0 && conn.client.id !== id) continue;
    const isSelf = conn.client.id === self.id;
    if (isSelf && skipMe) continue;
    if (isSelf) closeSelf = true;
    else conn.destroy();
    killed++;
  }
  if (closeSelf) self.closeAfterReply = true;
  if (argv.length === 3) return killed === 0 ? new ErrorReply('ERR No such client') : OK;
  return killed;
}

// ---- COMMAND (Redis 7.0 commandCommand and friends) ------------------------------------------

function commandCommand(host: ConnectionCommandHost, argv: readonly Bin[]): Reply {
  const table = host.commandTable();
  if (argv.length === 1) return [...table.values()].map(commandInfo);
  const sub = argv[1]!.toLowerCase();
  switch (sub) {
    case 'count':
      if (argv.length !== 2) return wrongSubArity('count');
      return table.size;
    case 'info': {
      const names = argv.length === 2 ? [...table.keys()] : argv.slice(2);
      return names.map((n) => {
        const spec = table.get(n.toLowerCase());
        return spec === undefined ? null : commandInfo(spec);
      });
    }
    case 'list':
      if (argv.length !== 2) return new ErrorReply(ERR.syntax);
      return [...table.keys()];
    case 'docs': {
      const names = argv.length === 2 ? [...table.keys()] : argv.slice(2);
      const out = new MapReply();
      for (const n of names) {
        const spec = table.get(n.toLowerCase());
        if (spec === undefined) continue;
        out.push(
          spec.name,
          MapReply.fromEntries([
            ['summary', ''],
            ['since', '1.0.0'],
            ['group', commandGroup(spec)],
          ]),
        );
      }
      return out;
    }
    case 'getkeys':
      if (argv.length < 4) return wrongSubArity('getkeys');
      return commandGetKeys(table, argv.slice(2));
    case 'help':
      // Redis's COMMAND HELP text, for the subcommands this server has.
      return helpReply([
        'COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
        '(no subcommand)',
        '    Return details about all Redis commands.',
        'COUNT',
        '    Return the total number of commands in this Redis server.',
        'LIST',
        '    Return a list of all commands in this Redis server.',
        'INFO [<command-name> ...]',
        '    Return details about multiple Redis commands.',
        '    If no command names are given, documentation details for all',
        '    commands are returned.',
        'DOCS [<command-name> ...]',
        '    Return documentation details about multiple Redis commands.',
        '    If no command names are given, documentation details for all',
        '    commands are returned.',
        'GETKEYS <full-command>',
        '    Return the keys from a full Redis command.',
        'HELP',
        '    Prints this help.',
      ]);
    default:
      return new ErrorReply(
        `ERR unknown subcommand '${argv[1]!.slice(0, 128)}'. Try COMMAND HELP.`,
      );
  }
}

function wrongSubArity(sub: string): ErrorReply {
  return new ErrorReply(`ERR wrong number of arguments for 'command|${sub}' command`);
}

/** Redis addReplyCommandInfo (7.0): name, arity, flags, first/last/step, acl, tips, keys, subs. */
function commandInfo(spec: CommandSpec): Reply {
  const flags = spec.flags.map((f) => new StatusReply(f.replace('-', '_')));
  return [spec.name, spec.arity, flags, spec.firstKey, spec.lastKey, spec.keyStep, [], [], [], []];
}

function commandGroup(spec: CommandSpec): string {
  if (spec.firstKey === 0) return 'server';
  return 'generic';
}

/** COMMAND GETKEYS: the key arguments of a full command, from its key positions. */
function commandGetKeys(table: CommandTable, argv: readonly Bin[]): Reply {
  const spec = table.get(argv[0]!.toLowerCase());
  if (spec === undefined) return new ErrorReply('ERR Invalid command specified');
  if ((spec.arity > 0 && argv.length !== spec.arity) || argv.length < -spec.arity) {
    return new ErrorReply('ERR Invalid number of arguments specified for command');
  }
  const keys =
    numkeysCommandKeys(spec.name, argv) ??
    writeKeysOf(spec.name, spec.firstKey, spec.lastKey, spec.keyStep, argv);
  if (keys.length === 0) return new ErrorReply('ERR The command has no key arguments');
  return [...keys];
}

/**
 * Keys of the commands whose keys follow a count (Redis key specs with `keynum`), which the legacy
 * first/last/step positions cannot describe: ZUNIONSTORE dest numkeys key..., ZUNION numkeys ...
 */
function numkeysCommandKeys(name: string, argv: readonly Bin[]): Bin[] | null {
  const withDest = name === 'zunionstore' || name === 'zinterstore' || name === 'zdiffstore';
  const plain =
    name === 'zunion' ||
    name === 'zinter' ||
    name === 'zdiff' ||
    name === 'zintercard' ||
    name === 'sintercard';
  if (!withDest && !plain) return null;
  const countAt = withDest ? 2 : 1;
  const n = Number(argv[countAt]);
  const keys: Bin[] = withDest ? [argv[1]!] : [];
  if (!Number.isInteger(n) || n < 1) return keys;
  for (let i = countAt + 1; i < countAt + 1 + n && i < argv.length; i++) keys.push(argv[i]!);
  return keys;
}

/** SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT] (Redis 7.0 shutdownCommand's argument rules). */
function shutdownCommand(
  host: ConnectionCommandHost,
  client: ClientState,
  argv: readonly Bin[],
): Reply {
  let abort = false;
  for (let i = 1; i < argv.length; i++) {
    const opt = argv[i]!.toLowerCase();
    if (opt === 'abort') abort = true;
    else if (opt !== 'nosave' && opt !== 'save' && opt !== 'now' && opt !== 'force') {
      return new ErrorReply(ERR.syntax);
    }
  }
  if (abort) {
    if (argv.length !== 2) return new ErrorReply(ERR.syntax);
    fail('ERR No shutdown in progress.');
  }
  // Like Redis, a successful SHUTDOWN sends no reply: the connection closes as the server stops.
  client.noReply = true;
  client.closeAfterReply = true;
  host.shutdown();
  return OK;
}
