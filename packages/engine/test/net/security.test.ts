// Who may connect and what they may do: requirepass and AUTH, protected mode, maxclients, the
// idle timeout and the query-buffer limit, with Redis 7.0's replies.

import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { PROTECTED_MODE_DENIED } from '../../src/net/network-server.ts';
import { openSimEngine, type SimEngine } from '../../src/testing/index.ts';
import { openListeningEngine, RawClient, resp, type ListeningEngine } from './net-helpers.ts';

let current: SimEngine | ListeningEngine | null = null;
const clients: RawClient[] = [];

async function start(options: Parameters<typeof openListeningEngine>[0] = {}) {
  const engine = await openListeningEngine(options);
  current = engine;
  return engine;
}

async function connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
  const c = await RawClient.connect(port, host);
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await current?.engine.close();
  current = null;
});

const NOAUTH = '-NOAUTH Authentication required.\r\n';

describe('requirepass and AUTH', () => {
  it('refuses every command but AUTH, HELLO and QUIT until AUTH succeeds', async () => {
    const { port } = await start({ requirepass: 's3cret' });
    const c = await connect(port);
    expect(await c.exchange(resp('GET', 'k'), NOAUTH)).toBe(NOAUTH);
    expect(await c.exchange(resp('PING'), NOAUTH)).toBe(NOAUTH);
    // Unknown commands and wrong arity are checked first, as in Redis's processCommand.
    const unknown = "-ERR unknown command 'NOPE', with args beginning with: \r\n";
    expect(await c.exchange(resp('NOPE'), unknown)).toBe(unknown);
    const wrongpass = '-WRONGPASS invalid username-password pair or user is disabled.\r\n';
    expect(await c.exchange(resp('AUTH', 'wrong'), wrongpass)).toBe(wrongpass);
    expect(await c.exchange(resp('AUTH', 'nobody', 's3cret'), wrongpass)).toBe(wrongpass);
    expect(await c.exchange(resp('AUTH', 's3cret'), '+OK\r\n')).toBe('+OK\r\n');
    expect(await c.exchange(resp('PING'), '+PONG\r\n')).toBe('+PONG\r\n');
    // RESET makes the connection unauthenticated again.
    await c.exchange(resp('RESET'), '+RESET\r\n');
    expect(await c.exchange(resp('PING'), NOAUTH)).toBe(NOAUTH);
    expect(await c.exchange(resp('AUTH', 'default', 's3cret'), '+OK\r\n')).toBe('+OK\r\n');
  });

  it('HELLO authenticates with AUTH default <password>, or answers NOAUTH without it', async () => {
    const { port } = await start({ requirepass: 'pw' });
    const c = await connect(port);
    const out = await c.exchange(resp('HELLO', '3'), '-NOAUTH HELLO must be called');
    expect(out).toMatch(/^-NOAUTH HELLO must be called with the client already authenticated/);
    await c.until((t) => t.endsWith('\r\n'));
    const before = c.text.length;
    c.send(resp('HELLO', '3', 'AUTH', 'default', 'pw', 'SETNAME', 'me'));
    await c.until((t) => t.slice(before).includes('modules'));
    expect(c.text.slice(before).startsWith('%7\r\n')).toBe(true);
    expect(await c.exchange(resp('CLIENT', 'GETNAME'), '$2\r\nme\r\n')).toBe('$2\r\nme\r\n');
  });

  it('unauthenticated clients are held to the small request limits', async () => {
    const { port } = await start({ requirepass: 'pw' });
    const c = await connect(port);
    c.send('*20\r\n');
    expect(await c.untilClosed()).toBe('-ERR Protocol error: unauthenticated multibulk length\r\n');
  });

  it('AUTH without a configured password answers as Redis 7.0 does', async () => {
    const { port } = await start();
    const c = await connect(port);
    const expected =
      '-ERR AUTH <password> called without any password configured for the default user. ' +
      'Are you sure your configuration is correct?\r\n';
    expect(await c.exchange(resp('AUTH', 'x'), expected)).toBe(expected);
    // With no password, the default user accepts any password (nopass).
    expect(await c.exchange(resp('AUTH', 'default', 'x'), '+OK\r\n')).toBe('+OK\r\n');
  });
});

/** A non-loopback IPv4 address of this machine, if it has one. */
function externalAddress(): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

describe('protected mode', () => {
  const external = externalAddress();

  it.skipIf(external === undefined)(
    'bound to every address without a password, remote clients get DENIED',
    async () => {
      const sim = await openSimEngine();
      current = sim;
      const handle = await sim.engine.listen({ port: 0, bind: '0.0.0.0' });
      const remote = await connect(handle.port!, external);
      expect(await remote.untilClosed()).toBe(PROTECTED_MODE_DENIED);
      // Loopback clients are served.
      const local = await connect(handle.port!);
      expect(await local.exchange(resp('PING'), '+PONG\r\n')).toBe('+PONG\r\n');
      // With a password, remote clients may connect (and must AUTH).
      await local.exchange(resp('CONFIG', 'SET', 'requirepass', 'pw'), '+OK\r\n');
      const remote2 = await connect(handle.port!, external);
      expect(await remote2.exchange(resp('PING'), NOAUTH)).toBe(NOAUTH);
      const info = await local.exchange(resp('INFO', 'stats'), 'rejected_connections:1');
      expect(info).toContain('rejected_connections:1');
    },
  );

  it('binds 127.0.0.1 by default', async () => {
    const sim = await openSimEngine();
    current = sim;
    const handle = await sim.engine.listen({ port: 0 });
    expect(handle.addresses).toEqual([`127.0.0.1:${handle.port}`]);
  });
});

describe('limits', () => {
  it('maxclients: one client too many gets the error and is closed', async () => {
    const { port } = await start({ maxclients: 3 });
    const kept = [await connect(port), await connect(port), await connect(port)];
    await kept[2]!.exchange(resp('PING'), '+PONG\r\n');
    const extra = await connect(port);
    expect(await extra.untilClosed()).toBe('-ERR max number of clients reached\r\n');
    const info = await kept[0]!.exchange(resp('INFO', 'stats'), 'rejected_connections:1');
    expect(info).toContain('rejected_connections:1');
  });

  it('timeout: an idle client is closed by the cron, an active one is not', async () => {
    const sim = await start({ timeout: 1 });
    const idle = await connect(sim.port);
    const active = await connect(sim.port);
    await active.exchange(resp('PING'), '+PONG\r\n');
    sim.clock.advance(600);
    await active.exchange(resp('PING'), '+PONG\r\n');
    sim.clock.advance(600);
    sim.tick();
    await idle.untilClosed();
    expect(idle.closed).toBe(true);
    expect(await active.exchange(resp('PING'), '+PONG\r\n')).toBe('+PONG\r\n');
  });

  it('client-query-buffer-limit: a client over it is closed without a reply', async () => {
    const sim = await start({ clientQueryBufferLimit: 1024 * 1024 });
    const c = await connect(sim.port);
    c.send(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n`);
    await c.flood('q'.repeat(64 * 1024));
    await c.untilClosed();
    expect(c.text).toBe('');
    const other = await connect(sim.port);
    expect(await other.exchange(resp('EXISTS', 'k'), ':0\r\n')).toBe(':0\r\n');
  });

  it('proto-max-bulk-len is read at each request (CONFIG SET applies at once)', async () => {
    const sim = await start();
    const c = await connect(sim.port);
    await c.exchange(resp('CONFIG', 'SET', 'proto-max-bulk-len', '1mb'), '+OK\r\n');
    const before = c.text.length;
    c.send('*1\r\n$1048577\r\n');
    await c.untilClosed();
    expect(c.text.slice(before)).toBe('-ERR Protocol error: invalid bulk length\r\n');
  });
});
