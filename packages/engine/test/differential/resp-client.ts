// A deliberately tiny RESP2 client for tests that talk to a real redis-server. It exists so the
// differential suite compares against the exact bytes Redis sends, without a client library
// reshaping them (ioredis would turn +OK and bulk "OK" into the same JS string, numbers into
// strings, and decode binary as UTF-8). Replies are parsed straight into aofkv's raw Reply shapes
// (reply.ts), so both sides can be compared structurally:
//   +status → StatusReply     -error → ErrorReply     :int → number (bigint outside ±2^53)
//   $bulk   → Bin (latin1)    $-1    → null           *-1  → NilArrayReply     *n → Reply[]
// Commands are pipelined: every call writes at once and replies are matched to calls in order.

import net from 'node:net';
import type { Bin } from '../../src/bytes.ts';
import { ErrorReply, NIL_ARRAY, StatusReply, type Reply } from '../../src/reply.ts';

interface Pending {
  resolve: (reply: Reply) => void;
  reject: (err: Error) => void;
}

/** Thrown by parse() when the buffer does not yet hold a whole reply. */
const INCOMPLETE = Symbol('incomplete');

export class RespClient {
  private readonly socket: net.Socket;
  private readonly pending: Pending[] = [];
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private closedError: Error | null = null;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  /** Connect to host:port; rejects on ECONNREFUSED and friends (callers may retry). */
  static connect(port: number, host = '127.0.0.1'): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host });
      const onError = (err: Error) => {
        socket.destroy();
        reject(err);
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        resolve(new RespClient(socket));
      });
    });
  }

  /** Send one command (argv as Bin strings or numbers) and resolve with its reply. */
  call(...argv: (Bin | number | bigint)[]): Promise<Reply> {
    return this.pipeline([argv.map(String)]).then((r) => r[0]!);
  }

  /** Send many commands in one write; resolve with their replies in the same order. */
  pipeline(commands: readonly (readonly Bin[])[]): Promise<Reply[]> {
    if (this.closedError !== null) return Promise.reject(this.closedError);
    const promises = commands.map(
      () => new Promise<Reply>((resolve, reject) => this.pending.push({ resolve, reject })),
    );
    this.socket.write(Buffer.concat(commands.map(encodeCommand)));
    return Promise.all(promises);
  }

  /** Close the connection politely (pending calls are rejected). */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.end();
    });
  }

  private fail(err: Error): void {
    this.closedError ??= err;
    for (const p of this.pending.splice(0)) p.reject(err);
  }

  private onData(chunk: Buffer): void {
    this.buf =
      this.pos < this.buf.length ? Buffer.concat([this.buf.subarray(this.pos), chunk]) : chunk;
    this.pos = 0;
    for (;;) {
      const start = this.pos;
      let reply: Reply;
      try {
        reply = this.parse();
      } catch (err) {
        if (err === INCOMPLETE) {
          this.pos = start; // re-parse the whole reply when more bytes arrive
          return;
        }
        this.fail(err as Error);
        this.socket.destroy();
        return;
      }
      const p = this.pending.shift();
      if (p === undefined) {
        this.fail(new Error('reply without a pending command'));
        return;
      }
      p.resolve(reply);
      if (this.pos >= this.buf.length) return;
    }
  }

  /** Parse one reply at this.pos (advancing it) or throw INCOMPLETE. */
  private parse(): Reply {
    const line = this.readLine();
    const type = line[0];
    const rest = line.slice(1);
    switch (type) {
      case '+':
        return new StatusReply(rest);
      case '-':
        return new ErrorReply(rest);
      case ':':
        return parseInteger(rest);
      case '$': {
        const len = Number(rest);
        if (len === -1) return null;
        if (this.pos + len + 2 > this.buf.length) throw INCOMPLETE;
        const s = this.buf.toString('latin1', this.pos, this.pos + len);
        this.pos += len + 2;
        return s;
      }
      case '*': {
        const n = Number(rest);
        if (n === -1) return NIL_ARRAY;
        const out: Reply[] = new Array<Reply>(n);
        for (let i = 0; i < n; i++) out[i] = this.parse();
        return out;
      }
      default:
        throw new Error(`RESP protocol error: unexpected line ${JSON.stringify(line)}`);
    }
  }

  private readLine(): string {
    const end = this.buf.indexOf('\r\n', this.pos, 'latin1');
    if (end === -1) throw INCOMPLETE;
    const line = this.buf.toString('latin1', this.pos, end);
    this.pos = end + 2;
    return line;
  }
}

/** Integers as aofkv returns them: number when safe, bigint beyond ±(2^53-1). */
export function parseInteger(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

export function encodeCommand(argv: readonly Bin[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${argv.length}\r\n`, 'latin1')];
  for (const arg of argv) {
    const bytes = Buffer.from(arg, 'latin1');
    parts.push(Buffer.from(`$${bytes.length}\r\n`, 'latin1'), bytes, CRLF);
  }
  return Buffer.concat(parts);
}

const CRLF = Buffer.from('\r\n', 'latin1');
