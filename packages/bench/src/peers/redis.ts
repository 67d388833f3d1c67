// Real Redis 7.0 as the reference: a redis-server of our own on a free 127.0.0.1 port with its own
// temp dir, driven by redis-benchmark. Only used when both binaries are on PATH; otherwise every
// Redis column reports "unavailable" and the bench goes on.
//
// Servers run in the foreground (no --daemonize) so we own the pid and stop exactly that process.
// Readiness is a PING answered with PONG: while loading a dataset Redis answers -LOADING, which is
// also how the load scenario times Redis's start-up.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { RespClient, RespError } from './resp-client.ts';
import type { LatencyEventRow } from '../systems/types.ts';

export interface RedisTools {
  version: string;
  serverPath: string;
  benchmarkPath: string;
}

export function findRedis(): { ok: true; tools: RedisTools } | { ok: false; reason: string } {
  const server = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (server.status !== 0) return { ok: false, reason: 'redis-server not on PATH' };
  const bench = spawnSync('redis-benchmark', ['--version'], { encoding: 'utf8' });
  if (bench.status !== 0) return { ok: false, reason: 'redis-benchmark not on PATH' };
  const version = /v=(\S+)/.exec(server.stdout)?.[1] ?? 'unknown';
  return {
    ok: true,
    tools: { version, serverPath: 'redis-server', benchmarkPath: 'redis-benchmark' },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  readonly port: number;
  readonly pid: number;
  readonly dir: string;
  readonly client: RespClient;
  /** ms from spawn to the first PONG (the load scenario's measure). */
  readonly readyAfterMs: number;
  log(): string;
  /** SIGTERM by pid (SIGKILL after 15 s) and wait for the exit. */
  stop(): Promise<void>;
}

export interface StartOptions {
  dir: string;
  /** Extra redis.conf directives as command-line arguments; they override the defaults. */
  args: string[];
  readyTimeoutMs?: number;
}

const live = new Set<ChildProcess>();
let exitHook = false;

export async function startRedisServer(options: StartOptions): Promise<RedisServer> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    try {
      return await startOnce(options, port);
    } catch (err) {
      if (attempt >= 4 || !(err instanceof Error && /Address already in use/.test(err.message)))
        throw err;
    }
  }
}

async function startOnce(options: StartOptions, port: number): Promise<RedisServer> {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    options.dir,
    '--save',
    '',
    '--daemonize',
    'no',
    '--protected-mode',
    'no',
    '--logfile',
    '',
    ...options.args,
  ];
  const t0 = performance.now();
  const child = spawn('redis-server', args, {
    cwd: options.dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  if (!exitHook) {
    exitHook = true;
    // A crash of the bench must not leave servers behind.
    process.on('exit', () => {
      for (const c of live) if (c.pid !== undefined && c.exitCode === null) c.kill('SIGKILL');
    });
  }
  let output = '';
  const onOutput = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-64 * 1024);
  };
  child.stdout!.on('data', onOutput);
  child.stderr!.on('data', onOutput);
  let exited: number | null = null;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exited = code ?? -1;
      live.delete(child);
      resolve();
    }),
  );
  const deadline = t0 + (options.readyTimeoutMs ?? 120_000);
  let client: RespClient | null = null;
  let ready = false;
  // Poll every 2 ms: loading a small dataset takes tens of ms, so coarser polling would dominate.
  while (!ready && performance.now() < deadline) {
    if (exited !== null)
      throw new Error(`redis-server exited (${exited}) before answering PING:\n${output}`);
    try {
      client ??= await RespClient.connect(port);
      const pong = await client.call('PING');
      if (pong === 'PONG') {
        ready = true;
        break;
      }
      if (!(pong instanceof RespError && pong.message.startsWith('LOADING'))) {
        throw new Error(`unexpected PING reply ${String(pong)}`);
      }
    } catch (err) {
      if (client !== null && !(err instanceof RespError)) {
        client.close();
        client = null;
      }
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  const readyAfterMs = performance.now() - t0;
  if (!ready || client === null) {
    child.kill('SIGKILL');
    throw new Error(`redis-server did not answer PING in time:\n${output}`);
  }
  const pid = child.pid!;
  const connected = client;
  return {
    port,
    pid,
    dir: options.dir,
    client: connected,
    readyAfterMs,
    log: () => output,
    stop: async () => {
      connected.close();
      if (exited === null) {
        process.kill(pid, 'SIGTERM');
        const timer = setTimeout(() => {
          if (exited === null) process.kill(pid, 'SIGKILL');
        }, 15_000);
        await exitedPromise;
        clearTimeout(timer);
      }
    },
  };
}

export interface RedisBenchmarkResult {
  requests: number;
  rps: number;
  avgMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  wallMs: number;
}

export interface RedisBenchmarkOptions {
  port: number;
  requests: number;
  pipeline: number;
  clients: number;
  keySpace: number;
}

/** `redis-benchmark -t set -d 100 -r R -n N -P p -c c -q --csv`, parsed. */
export function redisBenchmarkArgs(o: RedisBenchmarkOptions): string[] {
  return [
    '-h',
    '127.0.0.1',
    '-p',
    String(o.port),
    '-t',
    'set',
    '-d',
    '100',
    '-r',
    String(o.keySpace),
    '-n',
    String(o.requests),
    '-P',
    String(o.pipeline),
    '-c',
    String(o.clients),
    '-q',
    '--csv',
  ];
}

export async function runRedisBenchmark(o: RedisBenchmarkOptions): Promise<RedisBenchmarkResult> {
  const args = redisBenchmarkArgs(o);
  const t0 = performance.now();
  const { code, stdout, stderr } = await run('redis-benchmark', args);
  const wallMs = performance.now() - t0;
  if (code !== 0) throw new Error(`redis-benchmark exited ${code}: ${stderr}`);
  const parsed = parseBenchmarkCsv(stdout);
  if (parsed === null) throw new Error(`cannot parse redis-benchmark output:\n${stdout}`);
  return { requests: o.requests, wallMs, ...parsed };
}

/** A benchmark that runs until stopped (background load during BGREWRITEAOF). */
export function startBackgroundBenchmark(o: RedisBenchmarkOptions): { stop: () => Promise<void> } {
  const child = spawn('redis-benchmark', redisBenchmarkArgs(o), { stdio: 'ignore' });
  live.add(child);
  const done = new Promise<void>((resolve) =>
    child.once('exit', () => {
      live.delete(child);
      resolve();
    }),
  );
  return {
    stop: async () => {
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
      await done;
    },
  };
}

export function parseBenchmarkCsv(
  text: string,
): Omit<RedisBenchmarkResult, 'requests' | 'wallMs'> | null {
  // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms",
  // "p99_latency_ms","max_latency_ms"
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0);
  const header = lines.find((l) => l.startsWith('"test"'));
  const row = lines.find((l) => l.startsWith('"SET'));
  if (header === undefined || row === undefined) return null;
  const cols = header.split(',').map((c) => c.replace(/"/g, ''));
  const vals = row.split(',').map((c) => c.replace(/"/g, ''));
  const get = (name: string) => Number(vals[cols.indexOf(name)]);
  const rps = get('rps');
  if (!Number.isFinite(rps)) return null;
  return {
    rps,
    avgMs: get('avg_latency_ms'),
    p50Ms: get('p50_latency_ms'),
    p99Ms: get('p99_latency_ms'),
    maxMs: get('max_latency_ms'),
  };
}

function run(
  cmd: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => {
      live.delete(child);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** utime + stime of a process in ms, from /proc (Linux); NaN elsewhere. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[11]) + Number(rest[12]);
    return (ticks * 1000) / clockTicksPerSecond();
  } catch {
    return Number.NaN;
  }
}

let clkTck: number | null = null;
function clockTicksPerSecond(): number {
  if (clkTck === null) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(out.stdout?.trim());
    clkTck = Number.isFinite(n) && n > 0 ? n : 100;
  }
  return clkTck;
}

export async function latencyLatest(client: RespClient): Promise<LatencyEventRow[]> {
  const reply = await client.call('LATENCY', 'LATEST');
  if (!Array.isArray(reply)) return [];
  return reply.flatMap((row) =>
    Array.isArray(row) && row.length >= 4
      ? [{ event: String(row[0]), latestMs: Number(row[2]), maxMs: Number(row[3]) }]
      : [],
  );
}
