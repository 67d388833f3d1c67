// Clients that try to make the server allocate, hang or stall: while each misbehaves, another
// client keeps being served, and what the server holds for the bad one stays bounded.

import net from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { OUTPUT_HIGH_WATER_BYTES } from '../../src/net/client-connection.ts';
import { openListeningEngine, RawClient, resp, type ListeningEngine } from './net-helpers.ts';

let current: ListeningEngine | null = null;
const clients: RawClient[] = [];

async function start(): Promise<ListeningEngine> {
  current = await openListeningEngine();
  return current;
}

async function connect(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await current?.engine.close();
  current = null;
});

/** The server-side connection of the most recently connected client. */
function lastConnection(engine: ListeningEngine['engine']) {
  const all = [...engine.network!.clients.values()];
  return all[all.length - 1]!;
}

async function served(c: RawClient, tag: string): Promise<void> {
  const expected = `$${tag.length}\r\n${tag}\r\n`;
  expect(await c.exchange(resp('ECHO', tag), expected)).toBe(expected);
}

describe('hostile clients', () => {
  it('a huge declared bulk with no body allocates nothing for it', async () => {
    const { port, engine } = await start();
    const hostile = await connect(port);
    hostile.send(`*2\r\n$3\r\nGET\r\n$500000000\r\n${'z'.repeat(1000)}`);
    const good = await connect(port);
    await served(good, 'after-huge-bulk');
    const conn = [...engine.network!.clients.values()][0]!;
    expect(conn.queryBufferBytes).toBeGreaterThan(0);
    expect(conn.queryBufferBytes + conn.queryBufferFreeBytes).toBeLessThan(64 * 1024);
  });

  it('an endless inline line is cut at 64 KiB with the protocol error', async () => {
    const { port } = await start();
    const hostile = await connect(port);
    await hostile.flood('y'.repeat(16 * 1024), () => hostile.text.length > 0);
    expect(await hostile.untilClosed()).toBe('-ERR Protocol error: too big inline request\r\n');
    const good = await connect(port);
    await served(good, 'after-endless-line');
  });

  it('a slow sender does not hold up other clients', async () => {
    const { port } = await start();
    const slow = await connect(port);
    const good = await connect(port);
    const bytes = resp('SET', 'slow', 'x'.repeat(50));
    for (let i = 0; i < bytes.length; i++) {
      slow.send(bytes[i]!);
      await served(good, `turn-${i}`);
    }
    expect(await slow.untilBytes(5)).toBe('+OK\r\n');
  });

  it('thousands of idle connections: all accepted, others still served', async () => {
    const { port, engine } = await start();
    const good = await connect(port);
    const idle: RawClient[] = [];
    // In batches the size of the listen backlog (511): a client counts as connected once the
    // kernel queued it, and a full accept queue would delay the rest by SYN retries.
    for (let batch = 0; batch < 8; batch++) {
      idle.push(...(await Promise.all(Array.from({ length: 250 }, () => connect(port)))));
      while (engine.network!.clients.size < idle.length + 1) await served(good, 'accepting');
    }
    await served(good, 'among-idle');
    expect(engine.network!.clients.size).toBe(idle.length + 1);
    const info = await good.exchange(resp('INFO', 'clients'), 'connected_clients:2001');
    expect(info).toContain('connected_clients:2001');
  });

  it('a client that never reads is stopped at the output bound', async () => {
    const { port, engine } = await start();
    const setup = await connect(port);
    await setup.exchange(resp('SET', 'big', 'b'.repeat(100_000)), '+OK\r\n');
    const hostile = await connect(port);
    const conn = lastConnection(engine);
    hostile.socket.pause(); // never read
    hostile.send(resp('GET', 'big').repeat(2000)); // 200 MB of replies requested
    // Wait until the server stops running its commands: input left unparsed.
    while (conn.queryBufferBytes === 0) await served(setup, 'probe');
    expect(conn.outputBytes).toBeLessThanOrEqual(OUTPUT_HIGH_WATER_BYTES + 200_000);
    await served(setup, 'still-served');
  });

  it('fuzzed RESP from many clients never stops the server', async () => {
    const { port, engine } = await start();
    const control = await connect(port);
    const token = fc.constantFrom(
      '*',
      '$',
      '\r\n',
      '\n',
      '-1',
      '0',
      '2',
      '3',
      '17',
      'PING',
      'SET',
      'GET',
      'k',
      '"',
      "'",
      '\x00',
      '\xff',
      ' ',
    );
    await fc.assert(
      fc.asyncProperty(fc.array(token, { maxLength: 80 }), async (tokens) => {
        const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: false });
        socket.on('error', () => {});
        socket.on('data', () => {});
        await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
        socket.end(Buffer.from(tokens.join(''), 'latin1'));
        await new Promise<void>((resolve) => socket.once('close', () => resolve()));
        await served(control, 'alive');
      }),
      { numRuns: 150 },
    );
    // Every fuzz connection is gone; only the control client remains.
    while (engine.network!.clients.size > 1) await served(control, 'draining');
    expect(engine.network!.clients.size).toBe(1);
  });
});
