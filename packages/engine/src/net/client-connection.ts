// DESIGN: one network client (Redis `client` with a connection): its socket, its query buffer
// (RespRequestParser) and its command state (a server Client: db, MULTI/WATCH, name, protocol,
// authentication).
//
// Commands run at once, in arrival order, through the engine's dispatcher (the same
// Server.execute the embedded API uses); their replies are encoded into `pendingOutput` and held.
// The connection then asks the engine to release it after this event-loop turn's AOF flush
// (Engine.holdOutput), exactly like an embedded caller's promise: the socket sees a write's reply
// only after the write reached the AOF (and was fsynced under always), and every client's
// commands of one turn share that flush (group commit). This is Redis's order too: replies sit in
// the client's buffer until beforeSleep has run flushAppendOnlyFile and then
// handleClientsWithPendingWrites.
//
// Bounds: input is parsed from what arrived (see the parser); a client whose unparsed input
// exceeds client-query-buffer-limit is closed. Output: when replies not yet taken by the kernel
// exceed OUTPUT_HIGH_WATER_BYTES, the connection stops running commands and stops reading until
// the socket drains, so a client that sends but never reads holds at most that much plus one
// reply (Redis would keep buffering for the normal class, whose output limit is 0 by default).

import type { Socket } from 'node:net';
import type { Bin } from '../bytes.ts';
import type { Client } from '../server.ts';
import type { CommandSpec } from '../commands/types.ts';
import type { Reply } from '../reply.ts';
import { encodeError, encodeReply } from './resp-encoder.ts';
import { NEED_MORE, ProtocolError, RespRequestParser } from './resp-request-parser.ts';

/** Output not yet taken by the kernel above which a client's input is paused. */
export const OUTPUT_HIGH_WATER_BYTES = 1024 * 1024;

/** What a connection needs from the network server that owns it. */
export interface ConnectionHost {
  /** Run one command through the engine's dispatcher; the reply is held (see DESIGN). */
  execute(client: Client, argv: Bin[]): Reply;
  /** WAITAOF blocked `client` (client.blockForAof): `done` gets its reply later. */
  blockForAof(client: Client, done: (reply: Reply) => void): void;
  /** Release `conn`'s output after this turn's AOF flush. */
  holdOutput(conn: ClientConnection): void;
  /** The command `argv[0]` names, for CLIENT PAUSE decisions. */
  lookupCommand(name: Bin): CommandSpec | undefined;
  /** CLIENT PAUSE: must this command wait? */
  mustWait(client: Client, spec: CommandSpec | undefined): boolean;
  /** The connection waits for CLIENT UNPAUSE (or the pause's end). */
  waitForUnpause(conn: ClientConnection): void;
  protoMaxBulkLen(): number;
  clientQueryBufferLimit(): number;
  authRequired(): boolean;
  nowMs(): number;
  log(level: 'notice' | 'warning', message: string): void;
  /** The connection is gone (closed by either side). */
  removed(conn: ClientConnection): void;
  readonly stats: { inputBytes: number; outputBytes: number };
}

type ConnectionState = 'open' | 'closing' | 'closed';

export class ClientConnection {
  readonly socket: Socket;
  readonly client: Client;
  readonly createdAtMs: number;
  lastInteractionMs: number;
  /** Redis addr= and laddr= (ip:port, [ipv6]:port, or path:0 for a unix socket). */
  readonly peerId: string;
  readonly sockName: string;
  readonly fd: number;
  readonly isUnixSocket: boolean;
  private readonly host: ConnectionHost;
  private readonly parser: RespRequestParser;
  /** Encoded replies waiting for this turn's AOF flush. */
  private pendingOutput = '';
  private outputHeld = false;
  /** A command held back by CLIENT PAUSE, run first when the pause ends. */
  private waitingArgv: Bin[] | null = null;
  /** Input processing stopped until the socket drains (output above the high-water mark). */
  private stalledOnOutput = false;
  /** WAITAOF blocked this client: its next commands wait for that reply. */
  private blockedOnAof = false;
  private state: ConnectionState = 'open';

  constructor(socket: Socket, client: Client, host: ConnectionHost, isUnixSocket: boolean) {
    this.socket = socket;
    this.client = client;
    this.host = host;
    this.isUnixSocket = isUnixSocket;
    this.createdAtMs = host.nowMs();
    this.lastInteractionMs = this.createdAtMs;
    this.peerId = isUnixSocket
      ? `${socket.localAddress ?? ''}:0`
      : formatAddr(socket.remoteAddress, socket.remotePort);
    this.sockName = isUnixSocket ? this.peerId : formatAddr(socket.localAddress, socket.localPort);
    this.fd = socketFd(socket);
    this.parser = new RespRequestParser({
      protoMaxBulkLen: () => host.protoMaxBulkLen(),
      authRequired: () => !client.authenticated && host.authRequired(),
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', () => {
      // ECONNRESET and friends: the 'close' that follows cleans up.
    });
    socket.on('close', () => this.onClose());
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** CLIENT LIST qbuf / qbuf-free / argv-mem / omem. */
  get queryBufferBytes(): number {
    return this.parser.bufferedBytes;
  }
  get queryBufferFreeBytes(): number {
    return this.parser.freeBytes;
  }
  get argvBytes(): number {
    return this.parser.partialArgvBytes;
  }
  get outputBytes(): number {
    return this.pendingOutput.length + this.socket.writableLength;
  }
  get isWaitingForUnpause(): boolean {
    return this.waitingArgv !== null;
  }

  private onData(chunk: Buffer): void {
    if (this.state !== 'open') return;
    this.host.stats.inputBytes += chunk.length;
    this.lastInteractionMs = this.host.nowMs();
    this.parser.append(chunk);
    if (this.parser.bufferedBytes > this.host.clientQueryBufferLimit()) {
      // Redis readQueryFromClient: logged, closed without a reply.
      this.host.log(
        'warning',
        `Closing client that reached max query buffer length: ${this.describe()}`,
      );
      this.destroy();
      return;
    }
    this.processInput();
  }

  /** Redis processInputBuffer: run every whole command received, in order. */
  processInput(): void {
    while (this.state === 'open' && !this.client.closeAfterReply && !this.blockedOnAof) {
      if (this.outputBytes > OUTPUT_HIGH_WATER_BYTES) {
        this.stallOnOutput();
        break;
      }
      let argv = this.waitingArgv;
      this.waitingArgv = null;
      if (argv === null) {
        const next = this.parser.next();
        if (next === NEED_MORE) break;
        if (next instanceof ProtocolError) {
          this.protocolError(next.message);
          break;
        }
        argv = next;
      }
      if (this.host.mustWait(this.client, this.host.lookupCommand(argv[0]!))) {
        this.waitingArgv = argv;
        this.socket.pause();
        this.host.waitForUnpause(this);
        break;
      }
      this.run(argv);
    }
    if (this.pendingOutput.length > 0 || this.client.closeAfterReply) this.holdOutput();
    if (this.parser.bufferedBytes === 0) this.parser.shrink();
  }

  private run(argv: Bin[]): void {
    const name = argv[0]!;
    // Redis securityWarningCommand: an HTTP request (cross-protocol scripting) closes the
    // connection without a reply.
    if (name.length <= 5) {
      const lower = name.toLowerCase();
      if (lower === 'host:' || lower === 'post') {
        this.host.log('warning', 'Possible SECURITY ATTACK detected. Connection aborted.');
        this.destroy();
        return;
      }
    }
    const reply = this.host.execute(this.client, argv);
    if (this.client.blockForAof !== null) {
      this.blockOnAof();
      return;
    }
    if (!this.client.noReply) this.pendingOutput += encodeReply(reply, this.client.resp);
  }

  /**
   * Redis blockClient(BLOCKED_WAITAOF): nothing more of this client runs until the reply of its
   * WAITAOF; commands it pipelined behind it wait in the input buffer.
   */
  private blockOnAof(): void {
    this.blockedOnAof = true;
    this.socket.pause();
    this.host.blockForAof(this.client, (reply) => {
      this.blockedOnAof = false;
      if (this.state !== 'open') return;
      this.pendingOutput += encodeReply(reply, this.client.resp);
      this.holdOutput();
      if (!this.stalledOnOutput && this.waitingArgv === null) this.socket.resume();
      this.processInput();
    });
  }

  /** Redis setProtocolError: reply, then close after the reply; read nothing more. */
  private protocolError(message: string): void {
    this.pendingOutput += encodeError(message);
    this.client.closeAfterReply = true;
    this.socket.pause();
  }

  private holdOutput(): void {
    if (this.outputHeld) return;
    this.outputHeld = true;
    this.host.holdOutput(this);
  }

  /** Called by the engine after this turn's AOF flush: the replies may go out now. */
  release(): void {
    this.outputHeld = false;
    if (this.state !== 'open') return;
    const out = this.pendingOutput;
    this.pendingOutput = '';
    if (out.length > 0) {
      this.host.stats.outputBytes += out.length;
      this.socket.write(out, 'latin1');
    }
    if (this.client.closeAfterReply) {
      this.closeAfterWrite();
      return;
    }
    if (this.stalledOnOutput && this.socket.writableLength <= OUTPUT_HIGH_WATER_BYTES) {
      this.onDrain();
    }
  }

  /** The engine stopped (fatal AOF error): nothing held is ever sent. */
  fail(): void {
    this.outputHeld = false;
    this.pendingOutput = '';
    this.destroy();
  }

  private stallOnOutput(): void {
    this.stalledOnOutput = true;
    this.socket.pause();
  }

  private onDrain(): void {
    if (!this.stalledOnOutput || this.state !== 'open') return;
    if (this.outputBytes > OUTPUT_HIGH_WATER_BYTES) return;
    this.stalledOnOutput = false;
    if (this.waitingArgv === null && !this.client.closeAfterReply) this.socket.resume();
    this.processInput();
  }

  /** CLIENT UNPAUSE or the pause's end: run the held command and what followed it. */
  unpause(): void {
    if (this.state !== 'open' || this.waitingArgv === null) return;
    if (!this.stalledOnOutput) this.socket.resume();
    this.processInput();
  }

  /** End the connection once what was written has been sent (QUIT, protocol errors). */
  private closeAfterWrite(): void {
    this.state = 'closing';
    // Redis closes the fd once the reply is written; the peer need not answer the FIN.
    this.socket.destroySoon();
    // A client that never reads would keep a half-closed socket forever.
    const timer = setTimeout(() => this.destroy(), CLOSE_AFTER_REPLY_GRACE_MS);
    timer.unref();
    this.socket.once('close', () => clearTimeout(timer));
  }

  /** Close now (CLIENT KILL, idle timeout, limits, engine shutdown). */
  destroy(): void {
    if (this.state === 'closed') return;
    this.socket.destroy();
    this.onClose();
  }

  /** Close after delivering what is pending (engine.close()). */
  closeGracefully(): void {
    if (this.state !== 'open') return;
    if (this.outputHeld) this.client.closeAfterReply = true;
    else this.closeAfterWrite();
  }

  private onClose(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.pendingOutput = '';
    this.waitingArgv = null;
    this.host.removed(this);
  }

  private describe(): string {
    return `id=${this.client.id} addr=${this.peerId} laddr=${this.sockName}`;
  }
}

const CLOSE_AFTER_REPLY_GRACE_MS = 10_000;

/** Redis anetFormatAddr: ip:port, with brackets around an IPv6 address. */
function formatAddr(ip: string | undefined, port: number | undefined): string {
  const host = ip ?? '?';
  return host.includes(':') ? `[${host}]:${port ?? 0}` : `${host}:${port ?? 0}`;
}

/** The socket's file descriptor (CLIENT LIST fd=), -1 when Node does not expose it. */
function socketFd(socket: Socket): number {
  const handle = (socket as unknown as { _handle?: { fd?: unknown } })._handle;
  return typeof handle?.fd === 'number' ? handle.fd : -1;
}
