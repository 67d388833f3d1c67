// Start a real redis-server for tests (differential and interop suites). Each server gets a free
// port on 127.0.0.1 and its own temp dir, persistence off unless the caller overrides it, and runs
// in the foreground so we own its pid. Readiness is a successful PING over a real connection
// (Redis answers -LOADING while it loads a dataset, so "port open" is not enough); between
// attempts we wait for the next line of server output or a short backoff, never a fixed sleep.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ErrorReply, StatusReply } from '../../src/reply.ts';
import { RespClient } from '../differential/resp-client.ts';

export { RespClient };

export interface StartRedisOptions {
  /** Extra command-line arguments, e.g. ['--appendonly', 'yes']; they override our defaults. */
  args?: string[];
  /** Data directory to use (kept on stop). Default: a fresh temp dir, removed on stop. */
  dir?: string;
  /** Give up when the server is not answering PING after this long (default 20 s). */
  readyTimeoutMs?: number;
}

export interface RedisInstance {
  port: number;
  dir: string;
  pid: number;
  /** A connected client (closed by stop()). */
  client: RespClient;
  /** Everything the server printed so far (for failure messages). */
  log(): string;
  /**
   * Resolves once the server's output matches `pattern` (already, or when it prints it); rejects
   * if the server exits first. Bounded by the test's own timeout.
   */
  waitForLog(pattern: RegExp): Promise<void>;
  /** SIGTERM, then wait for the process to exit (SIGKILL if it ignores us for 10 s). */
  stop(): Promise<void>;
}

/** True when `redis-server` can be run (checked once per process). */
export function haveRedisServer(): boolean {
  haveRedis ??= spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  return haveRedis;
}
let haveRedis: boolean | undefined;

/** Servers still running, killed if the test process exits without stopping them. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

export async function startRedis(options: StartRedisOptions = {}): Promise<RedisInstance> {
  // The port is picked by binding :0 and releasing it, so another process may grab it before
  // redis-server binds; that shows up as an early exit and we simply try another port.
  let lastError: Error | null = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await startOnce(options, await freePort());
    } catch (err) {
      lastError = err as Error;
      if (!(err instanceof PortInUseError)) throw err;
    }
  }
  throw lastError!;
}

class PortInUseError extends Error {}

/**
 * redis-server exited before it answered PING (it refused its data directory, a bad option, ...).
 * Interop tests expect this for damaged files: `output` is its log (stdout/stderr).
 */
export class RedisExitedError extends Error {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
  constructor(message: string, code: number | null, signal: NodeJS.Signals | null, output: string) {
    super(message);
    this.code = code;
    this.signal = signal;
    this.output = output;
  }
}

async function startOnce(options: StartRedisOptions, port: number): Promise<RedisInstance> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'aofkv-redis-')));
  const args = buildArgs(port, dir, options.args ?? []);
  const child = spawn('redis-server', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  installExitHook();
  live.add(child);

  let output = '';
  let wake: (() => void) | null = null;
  /** waitForLog callers; each returns true once satisfied (or failed) and is then dropped. */
  let logWaiters: ((exitedEarly: boolean) => boolean)[] = [];
  const notifyLogWaiters = (exitedEarly: boolean) => {
    logWaiters = logWaiters.filter((w) => !w(exitedEarly));
  };
  const onOutput = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.length > 256 * 1024) output = output.slice(-128 * 1024);
    wake?.();
    notifyLogWaiters(false);
  };
  const waitForLog = (pattern: RegExp): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const check = (exitedEarly: boolean): boolean => {
        if (pattern.test(output)) resolve();
        else if (exitedEarly)
          reject(new Error(`redis-server exited before printing ${pattern}:\n${output}`));
        else return false;
        return true;
      };
      if (!check(false)) logWaiters.push(check);
    });
  child.stdout!.on('data', onOutput);
  child.stderr!.on('data', onOutput);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      live.delete(child);
      wake?.();
      notifyLogWaiters(true);
      resolve();
    });
  });
  child.once('error', (err) => {
    output += `\nspawn error: ${err.message}`;
    exited ??= { code: -1, signal: null };
    live.delete(child);
    wake?.();
  });

  const stop = async () => {
    if (exited === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exitPromise;
      clearTimeout(timer);
    }
    if (ownDir) await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
  for (;;) {
    if (exited !== null) {
      if (ownDir) await rm(dir, { recursive: true, force: true });
      const e = exited as { code: number | null; signal: NodeJS.Signals | null };
      const why = `redis-server exited early (code ${e.code}, signal ${e.signal})`;
      if (/Address already in use/i.test(output))
        throw new PortInUseError(`${why}: port ${port} in use`);
      throw new RedisExitedError(`${why}\n${output}`, e.code, e.signal, output);
    }
    const client = await tryPing(port);
    if (client !== null) {
      return {
        port,
        dir,
        pid: child.pid!,
        client,
        log: () => output,
        waitForLog,
        stop: async () => {
          await client.close().catch(() => {});
          await stop();
        },
      };
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server on port ${port} did not answer PING in time\n${output}`);
    }
    // Wait for something to happen: more output (e.g. "Ready to accept connections"), the process
    // exiting, or a short backoff for the case where it is ready but printed nothing.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, 25);
      function done() {
        clearTimeout(timer);
        wake = null;
        resolve();
      }
      wake = done;
    });
  }
}

/** Connect and PING; null while the server is not (yet) accepting or still loading. */
async function tryPing(port: number): Promise<RespClient | null> {
  let client: RespClient;
  try {
    client = await RespClient.connect(port);
  } catch {
    return null;
  }
  try {
    const reply = await client.call('PING');
    if (reply instanceof StatusReply && reply.status === 'PONG') return client;
    if (!(reply instanceof ErrorReply)) throw new Error(`unexpected PING reply ${String(reply)}`);
  } catch {
    // connection dropped during startup: retry
  }
  await client.close().catch(() => {});
  return null;
}

function buildArgs(port: number, dir: string, extra: readonly string[]): string[] {
  // Caller arguments win: drop our default for every directive they set.
  const overridden = new Set(
    extra.filter((a) => a.startsWith('--')).map((a) => a.slice(2).toLowerCase()),
  );
  const defaults: [string, string][] = [
    ['port', String(port)],
    ['bind', '127.0.0.1'],
    ['dir', dir],
    ['save', ''],
    ['appendonly', 'no'],
    ['daemonize', 'no'],
    ['logfile', ''],
  ];
  const args: string[] = [];
  for (const [name, value] of defaults) {
    if (name === 'port' || name === 'dir' || !overridden.has(name)) args.push(`--${name}`, value);
  }
  return [...args, ...extra];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A crashed or interrupted test run must not leave redis-servers behind.
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}
