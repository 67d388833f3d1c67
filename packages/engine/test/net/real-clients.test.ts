// Real Redis clients against engine.listen(): redis-cli (commands on stdin, and --pipe),
// redis-benchmark, and ioredis (including MULTI/WATCH across two connections and AUTH). The
// engine runs on the real file system in a temp dir; clients run as child processes (spawned
// asynchronously: the engine serves them from this process's event loop).

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { openEngine, type Engine, type EngineTraceEvent } from '../../src/engine.ts';

const haveTool = (name: string) => spawnSync(name, ['--version'], { stdio: 'ignore' }).status === 0;
const haveRedisCli = haveTool('redis-cli');
const haveBenchmark = haveTool('redis-benchmark');

let engine: Engine | null = null;
let dir: string | null = null;
const ioClients: Redis[] = [];

async function start(options: Parameters<typeof openEngine>[0] = {}): Promise<number> {
  dir = mkdtempSync(join(tmpdir(), 'aofkv-clients-'));
  engine = await openEngine({ dir, ...options });
  const handle = await engine.listen({ port: 0 });
  return handle.port!;
}

afterEach(async () => {
  for (const c of ioClients.splice(0)) c.disconnect();
  await engine?.close();
  engine = null;
  if (dir !== null) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

/** Run a client process to its end without blocking this event loop. */
function runTool(
  cmd: string,
  args: readonly string[],
  input: string | Buffer = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('latin1')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('latin1')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

function io(port: number, options: RedisOptions = {}): Redis {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    ...options,
  });
  ioClients.push(client);
  return client;
}

describe.skipIf(!haveRedisCli)('redis-cli', () => {
  it('runs commands read from stdin and prints what redis-server would make it print', async () => {
    const port = await start();
    const input =
      'SET greeting "hello world"\nGET greeting\nINCR n\nLPUSH l a b\n' +
      'LRANGE l 0 -1\nGET missing\nHSET h f v\nHGETALL h\nNOSUCH x\n';
    const r = await runTool('redis-cli', ['-p', String(port)], input);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'OK\nhello world\n1\n2\nb\na\n\n1\nf\nv\n' +
        "ERR unknown command 'NOSUCH', with args beginning with: 'x' \n\n",
    );
  });

  it('--pipe: 20000 commands in RESP, every reply counted, no error', async () => {
    const port = await start();
    let input = '';
    for (let i = 0; i < 20_000; i++) {
      const k = `key:${i}`;
      const v = `value-${i}`;
      input += `*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$${v.length}\r\n${v}\r\n`;
    }
    const r = await runTool('redis-cli', ['-p', String(port), '--pipe'], input);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('errors: 0, replies: 20000');
    expect(await engine!.db(0).dbsize()).toBe(20_000);
    expect(await engine!.db(0).get('key:19999')).toBe('value-19999');
  });

  it('-a authenticates; without it commands answer NOAUTH', async () => {
    const port = await start({ requirepass: 'pw' });
    const denied = await runTool('redis-cli', ['-p', String(port)], 'PING\n');
    expect(denied.stdout).toBe('NOAUTH Authentication required.\n\n');
    const ok = await runTool(
      'redis-cli',
      ['-p', String(port), '-a', 'pw', '--no-auth-warning'],
      'PING\n',
    );
    expect(ok.stdout).toBe('PONG\n');
  });
});

describe.skipIf(!haveBenchmark)('redis-benchmark', () => {
  it("completes every test of the issue's mix, pipelined and not, with no error", async () => {
    const port = await start();
    for (const pipeline of ['16', '1']) {
      const r = await runTool('redis-benchmark', [
        '-p',
        String(port),
        '-t',
        'set,get,incr,lpush,rpop,sadd,hset,zadd',
        '-n',
        '5000',
        '-c',
        '20',
        '-P',
        pipeline,
        '-d',
        '100',
        '-r',
        '100000',
        '--csv',
      ]);
      expect(r.code).toBe(0);
      expect(r.stderr).not.toContain('Could not fetch server CONFIG');
      const rows = r.stdout.trim().split('\n').slice(1);
      expect(rows.map((row) => row.split(',')[0])).toEqual([
        '"SET"',
        '"GET"',
        '"INCR"',
        '"LPUSH"',
        '"RPOP"',
        '"SADD"',
        '"HSET"',
        '"ZADD"',
      ]);
      for (const row of rows) expect(Number(JSON.parse(row.split(',')[1]!))).toBeGreaterThan(0);
    }
    // -r 100000 spreads the keys: counter:000000012345 and the like.
    const counters = (await engine!.db(0).command('keys', 'counter:*')) as string[];
    expect(counters.length).toBeGreaterThan(100);
  });
});

describe.skipIf(!haveBenchmark)('group commit across clients', () => {
  it('50 clients, one command each in flight, share AOF writes and fsyncs (always)', async () => {
    const port = await start({ appendfsync: 'always' });
    let writes = 0;
    let fsyncs = 0;
    engine!.on('trace', (e: EngineTraceEvent) => {
      if (e.source !== 'aof') return;
      if (e.event.kind === 'write') writes++;
      if (e.event.kind === 'fsync-always') fsyncs++;
    });
    const requests = 5000;
    const r = await runTool('redis-benchmark', [
      '-p',
      String(port),
      '-t',
      'set',
      '-n',
      String(requests),
      '-c',
      '50',
      '-P',
      '1',
      '-q',
    ]);
    expect(r.code).toBe(0);
    // One write (and one fdatasync) per event-loop turn for every client's commands of the turn:
    // with 50 clients waiting, a turn carries many of them.
    expect(writes).toBeGreaterThan(0);
    expect(writes).toBeLessThan(requests / 4);
    expect(fsyncs).toBeLessThanOrEqual(writes);
  });
});

describe('ioredis', () => {
  it('strings, binary values, hashes, pipelines', async () => {
    const port = await start();
    const c = io(port);
    await c.connect();
    expect(await c.set('a', '1')).toBe('OK');
    expect(await c.incrby('a', 41)).toBe(42);
    const bin = Buffer.from([0, 255, 13, 10, 128]);
    await c.set('bin', bin);
    expect(await c.getBuffer('bin')).toEqual(bin);
    await c.hset('h', { f1: 'v1', f2: 'v2' });
    expect(await c.hgetall('h')).toEqual({ f1: 'v1', f2: 'v2' });
    const results = await c.pipeline().set('p', 'x').get('p').del('p').exec();
    expect(results).toEqual([
      [null, 'OK'],
      [null, 'x'],
      [null, 1],
    ]);
    await expect(c.call('NOSUCH')).rejects.toThrow(/unknown command 'NOSUCH'/);
  });

  it('MULTI/WATCH across two connections', async () => {
    const port = await start();
    const a = io(port);
    const b = io(port);
    await Promise.all([a.connect(), b.connect()]);
    await a.set('balance', '10');
    await a.watch('balance');
    await b.incrby('balance', 5); // another client changes the watched key
    expect(await a.multi().decrby('balance', 3).exec()).toBeNull();
    await a.watch('balance');
    expect(await a.multi().decrby('balance', 3).get('balance').exec()).toEqual([
      [null, 12],
      [null, '12'],
    ]);
    expect(await b.get('balance')).toBe('12');
  });

  it('AUTH: the right password connects, a wrong one is refused', async () => {
    const port = await start({ requirepass: 's3cret' });
    const good = io(port, { password: 's3cret' });
    await good.connect();
    expect(await good.ping()).toBe('PONG');
    const bad = io(port, { password: 'nope' });
    const errors: Error[] = [];
    bad.on('error', (err: Error) => errors.push(err));
    await expect(bad.connect()).rejects.toThrow();
    expect(errors.map((e) => e.message).join('\n')).toMatch(/^WRONGPASS invalid username-password/);
    // ioredis 6 opens with HELLO; unauthenticated, that is NOAUTH (redis-server 7.0 does the same).
    const none = io(port);
    const noneErrors: Error[] = [];
    none.on('error', (err: Error) => noneErrors.push(err));
    await expect(none.connect()).rejects.toThrow();
    expect(noneErrors.map((e) => e.message).join('\n')).toMatch(/^NOAUTH HELLO must be called/);
  });
});
