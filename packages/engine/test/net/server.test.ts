// The Redis-protocol server end to end on real sockets: RESP2/RESP3, inline, pipelining,
// per-connection state, the acknowledgement rule, connection commands and shutdown.

import { afterEach, describe, expect, it } from 'vitest';
import type { EngineTraceEvent } from '../../src/engine.ts';
import { openListeningEngine, RawClient, resp, type ListeningEngine } from './net-helpers.ts';

let current: ListeningEngine | null = null;
const clients: RawClient[] = [];

async function start(options: Parameters<typeof openListeningEngine>[0] = {}) {
  current = await openListeningEngine(options);
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

describe('network server: protocol', () => {
  it('answers RESP2 multibulk and inline commands, pipelined, in order', async () => {
    const { port } = await start();
    const c = await connect(port);
    const pipeline = `${resp('SET', 'k', 'v')}GET k\r\n${resp('INCR', 'n')}PING\n`;
    const out = await c.exchange(pipeline, '+OK\r\n$1\r\nv\r\n:1\r\n+PONG\r\n');
    expect(out).toBe('+OK\r\n$1\r\nv\r\n:1\r\n+PONG\r\n');
  });

  it('parses a command that arrives one byte at a time', async () => {
    const { port } = await start();
    const c = await connect(port);
    const bytes = resp('SET', 'slow', 'x'.repeat(100)) + resp('GET', 'slow');
    for (const ch of bytes) {
      c.send(ch);
      // Each byte in its own write; the server must keep its place between reads.
      await new Promise<void>((resolve) => c.socket.write('', () => resolve()));
    }
    const expected = `+OK\r\n$100\r\n${'x'.repeat(100)}\r\n`;
    expect(await c.untilBytes(expected.length)).toBe(expected);
  });

  it('keeps binary arguments byte for byte', async () => {
    const { port } = await start();
    const c = await connect(port);
    const value = '\x00\r\n\xff\x80';
    const out = await c.exchange(
      resp('SET', 'b', value) + resp('GET', 'b'),
      `+OK\r\n$5\r\n${value}\r\n`,
    );
    expect(out).toBe(`+OK\r\n$5\r\n${value}\r\n`);
  });

  it('HELLO 3 switches the connection to RESP3 (map reply, _ for nil)', async () => {
    const { port } = await start();
    const c = await connect(port);
    const hello = await c.exchange(resp('HELLO', '3'), '%7\r\n');
    await c.until((t) => t.includes('$7\r\nmodules\r\n*0\r\n'));
    expect(hello.startsWith('%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n')).toBe(true);
    expect(c.text).toContain('$5\r\nproto\r\n:3\r\n');
    const before = c.text.length;
    c.send(resp('GET', 'missing'));
    await c.untilBytes(before + 3);
    expect(c.text.slice(before)).toBe('_\r\n');
  });

  it('keeps state per connection: SELECT, CLIENT SETNAME, protocol', async () => {
    const { port } = await start();
    const a = await connect(port);
    const b = await connect(port);
    await a.exchange(resp('SELECT', '3') + resp('SET', 'k', 'in3'), '+OK\r\n+OK\r\n');
    expect(await b.exchange(resp('GET', 'k'), '$-1\r\n')).toBe('$-1\r\n');
    await a.exchange(resp('CLIENT', 'SETNAME', 'alpha'), '+OK\r\n');
    expect(await a.exchange(resp('CLIENT', 'GETNAME'), '$5\r\nalpha\r\n')).toBe('$5\r\nalpha\r\n');
    expect(await b.exchange(resp('CLIENT', 'GETNAME'), '$-1\r\n')).toBe('$-1\r\n');
  });

  it('MULTI/WATCH across two connections: a write by another client aborts EXEC', async () => {
    const { port } = await start();
    const a = await connect(port);
    const b = await connect(port);
    await a.exchange(
      resp('WATCH', 'w') + resp('MULTI') + resp('SET', 'w', 'a'),
      '+OK\r\n+OK\r\n+QUEUED\r\n',
    );
    await b.exchange(resp('SET', 'w', 'b'), '+OK\r\n');
    expect(await a.exchange(resp('EXEC'), '*-1\r\n')).toBe('*-1\r\n');
    expect(await b.exchange(resp('GET', 'w'), '$1\r\nb\r\n')).toBe('$1\r\nb\r\n');
    // Without an intervening write the transaction runs.
    await a.exchange(
      resp('WATCH', 'w') + resp('MULTI') + resp('INCR', 'c'),
      '+OK\r\n+OK\r\n+QUEUED\r\n',
    );
    expect(await a.exchange(resp('EXEC'), '*1\r\n:1\r\n')).toBe('*1\r\n:1\r\n');
  });

  it('a write is answered only after the AOF write that holds it', async () => {
    const { port, engine, fs } = await start({ appendfsync: 'always' });
    const events: string[] = [];
    engine.on('trace', (e: EngineTraceEvent) => {
      if (e.source === 'aof') events.push(`aof:${e.event.kind}`);
    });
    const c = await connect(port);
    c.socket.on('data', () => events.push('reply'));
    await c.exchange(resp('SET', 'durable', '1'), '+OK\r\n');
    const firstReply = events.indexOf('reply');
    expect(firstReply).toBeGreaterThan(0);
    expect(events.slice(0, firstReply)).toEqual(['aof:write', 'aof:fsync-always']);
    // And the bytes are on the simulated disk, fsynced, by then.
    expect(fs.durableContent(current!.currentIncrPath())!.toString('latin1')).toContain('durable');
  });

  it('QUIT replies +OK and closes; RESET restores the connection state', async () => {
    const { port } = await start();
    const a = await connect(port);
    const out = await a.exchange(
      resp('SELECT', '2') + resp('CLIENT', 'SETNAME', 'n') + resp('MULTI') + resp('RESET'),
      '+OK\r\n+OK\r\n+OK\r\n+RESET\r\n',
    );
    expect(out).toBe('+OK\r\n+OK\r\n+OK\r\n+RESET\r\n');
    expect(
      await a.exchange(resp('CLIENT', 'GETNAME') + resp('SET', 'r', '0'), '$-1\r\n+OK\r\n'),
    ).toBe('$-1\r\n+OK\r\n');
    const q = await connect(port);
    q.send(resp('QUIT') + resp('PING'));
    expect(await q.untilClosed()).toBe('+OK\r\n');
  });
});

describe('network server: WAITAOF blocks the connection (Redis blockForAofFsync)', () => {
  it('answers once the background fsync ran; commands pipelined behind it wait', async () => {
    const s = await start({ appendfsync: 'everysec' });
    const c = await connect(s.port);
    c.send(resp('SET', 'k', 'v') + resp('WAITAOF', '1', '0', '0') + resp('GET', 'k'));
    await c.until((t) => t.startsWith('+OK\r\n'));
    // WAITAOF submitted a background fsync at once; until it runs, nothing more is answered.
    for (let turns = 0; s.bio.pending('aofFsync') === 0 && turns < 1000; turns++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    expect(s.bio.pending('aofFsync')).toBe(1);
    expect(c.text).toBe('+OK\r\n');
    s.bio.runNext('aofFsync');
    const out = await c.until((t) => t.length >= '+OK\r\n*2\r\n:1\r\n:0\r\n$1\r\nv\r\n'.length);
    expect(out).toBe('+OK\r\n*2\r\n:1\r\n:0\r\n$1\r\nv\r\n');
  });
});
