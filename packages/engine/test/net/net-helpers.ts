// Helpers for the network server's tests: an engine on the simulated disk and clock that listens
// on a free loopback port, and a raw socket that sends exact bytes and collects what comes back.
// Waiting is always on a condition (bytes received, socket closed), never on a timer.

import net from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { startRedis, type RedisInstance } from '../helpers/redis-server.ts';
import { openSimEngine, type SimEngine, type SimEngineOptions } from '../../src/testing/index.ts';
import type { ListenHandle } from '../../src/net/network-server.ts';

export interface ListeningEngine extends SimEngine {
  handle: ListenHandle;
  port: number;
}

export async function openListeningEngine(
  options: SimEngineOptions = {},
): Promise<ListeningEngine> {
  const sim = await openSimEngine(options);
  const handle = await sim.engine.listen({ port: 0 });
  return { ...sim, handle, port: handle.port! };
}

/** A socket that records every byte received and whether the server closed it. */
export class RawClient {
  readonly socket: net.Socket;
  private received = Buffer.alloc(0);
  private closedFlag = false;
  private readonly waiters: (() => void)[] = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closedFlag = true;
      this.wake();
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
    });
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Everything received so far, as latin1 text. */
  get text(): string {
    return this.received.toString('latin1');
  }

  send(bytes: string | Buffer): void {
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** Resolves once the received text satisfies `done` (or the socket closed). */
  async until(done: (text: string) => boolean): Promise<string> {
    while (!done(this.text) && !this.closedFlag) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return this.text;
  }

  /** Resolves once at least `n` bytes arrived (or the socket closed). */
  untilBytes(n: number): Promise<string> {
    return this.until((t) => t.length >= n);
  }

  /** Resolves once the server closed the connection. */
  async untilClosed(): Promise<string> {
    await this.until(() => false);
    return this.text;
  }

  /** Send and wait for `replies` complete top-level RESP2 replies of simple shapes. */
  async exchange(bytes: string, expected: string): Promise<string> {
    const before = this.received.length;
    this.send(bytes);
    await this.until((t) => t.length - before >= expected.length);
    return this.text.slice(before);
  }

  /**
   * Write `chunk` again and again, each write after the previous one reached the kernel, until
   * the server closes the connection or `stop` says so.
   */
  async flood(chunk: string, stop: () => boolean = () => false): Promise<void> {
    while (!this.closedFlag && !this.socket.destroyed && !stop()) {
      const failed = await new Promise<boolean>((resolve) =>
        this.socket.write(Buffer.from(chunk, 'latin1'), (err) => resolve(err != null)),
      );
      if (failed) break;
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** A RESP2 multibulk request. */
export function resp(...argv: string[]): string {
  let out = `*${argv.length}\r\n`;
  for (const a of argv) out += `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`;
  return out;
}

/** Send `input` on a new connection; everything received until the server closed it. */
export async function sendUntilClosed(port: number, input: string): Promise<string> {
  const c = await RawClient.connect(port);
  c.send(input);
  const text = await c.untilClosed();
  c.close();
  return text;
}

/** A redis-server 7.0 and an aofkv server, side by side (call inside a describe). */
export interface ServerPair {
  readonly redis: RedisInstance;
  readonly aofkv: ListeningEngine;
}

/** Starts both servers before the describe's tests and stops them after. */
export function redisAndAofkv(): ServerPair {
  let redis: RedisInstance | undefined;
  let aofkv: ListeningEngine | undefined;
  beforeAll(async () => {
    redis = await startRedis();
    aofkv = await openListeningEngine();
  });
  afterAll(async () => {
    await redis?.stop();
    await aofkv?.engine.close();
  });
  return {
    get redis() {
      return redis!;
    },
    get aofkv() {
      return aofkv!;
    },
  };
}
