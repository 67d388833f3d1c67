// Shared by the interop suites: data directories moving between aofkv and redis-server 7.0.15.
//   - redisKeyspaceDump: a live server's whole keyspace, read over RESP with ordinary commands,
//     in exactly the canonical JSON that `aofkv dump` prints (dumpKeyspace), so "same keyspace"
//     is a string compare;
//   - startRedisOnDir / redisOutcome: start redis-server on a data directory the way the interop
//     tests need it (multi-part AOF, RESP base) and report whether it stayed up or exited, with
//     its log;
//   - aofkvOutcome: the same question asked of openEngine();
//   - fixture helpers that build directories from commands (encodeCommand), as Redis's tests do.

import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeCommand } from '../../src/aof/aof-buffer.ts';
import { checkAof } from '../../src/aof/check-aof.ts';
import { NodeFileSystem } from '../../src/io/node-file-system.ts';
import { parseDouble, type Bin } from '../../src/bytes.ts';
import { dumpKeyspace } from '../../src/cli/dump.ts';
import { openEngine, type Engine, type EngineOptions } from '../../src/engine.ts';
import { EngineError } from '../../src/errors.ts';
import { Db, type KeyspaceHooks } from '../../src/keyspace/db.ts';
import { RHash, RList, RSet, RZSet, type RedisValue } from '../../src/keyspace/values.ts';
import { ErrorReply, type StatusReply, type Reply } from '../../src/reply.ts';
import {
  haveRedisServer,
  RedisExitedError,
  startRedis,
  type RedisInstance,
  type RespClient,
} from '../helpers/redis-server.ts';

export { haveRedisServer };
export type { RedisInstance, RespClient };

/** redis-server and redis-check-aof are both needed by the interop suites. */
export function haveRedisTools(): boolean {
  return (
    haveRedisServer() &&
    spawnSync('redis-check-aof', ['--version'], { stdio: 'ignore' }).error === undefined
  );
}

/**
 * Say loudly that a suite is not run, so a green run without Redis is not mistaken for coverage.
 */
export function warnSkipped(suite: string): void {
  console.warn(
    `SKIPPED ${suite}: redis-server / redis-check-aof 7.0 are not installed; ` +
      `nothing is compared with Redis`,
  );
}

// ---- directories ---------------------------------------------------------------------------

/** A temp root for one test file; `dir()` hands out fresh subdirectories. */
export function tempRoot(prefix: string): {
  root: string;
  dir: (name?: string) => string;
  remove: () => void;
} {
  const root = mkdtempSync(join(tmpdir(), prefix));
  let n = 0;
  return {
    root,
    dir: (name = 'd') => {
      const d = join(root, `${++n}-${name}`);
      mkdirSync(d, { recursive: true });
      return d;
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

export const AOF_DIR = 'appendonlydir';
export const MANIFEST = 'appendonly.aof.manifest';

/** RESP of one command (the AOF encoding). */
export const cmd = (...argv: (string | number)[]): Buffer => encodeCommand(argv.map(String));

/** Concatenate fixture pieces: Buffers as they are, strings as latin1 bytes. */
export const cat = (...parts: (Buffer | string)[]): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)));

/** Write `files` (paths relative to `dir`) into `dir`, creating subdirectories. */
export function writeFiles(dir: string, files: Record<string, Buffer | string>): void {
  for (const [name, content] of Object.entries(files)) {
    const file = join(dir, name);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, content);
  }
}

/** Copy a whole data directory (each side of a comparison gets its own copy). */
export function copyDir(from: string, to: string): string {
  cpSync(from, to, { recursive: true });
  return to;
}

/** Every regular file under `dir` (relative name → bytes), for "did anything change" checks. */
export function filesOf(dir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  let names: string[];
  try {
    names = readdirSync(dir, { recursive: true }) as string[];
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    const file = join(dir, name);
    if (statSync(file).isFile()) out[name] = readFileSync(file);
  }
  return out;
}

/** The manifest text, or null when there is none. */
export function readManifest(dir: string, name = MANIFEST, aofDir = AOF_DIR): string | null {
  try {
    return readFileSync(join(dir, aofDir, name), 'latin1');
  } catch {
    return null;
  }
}

// ---- redis-server --------------------------------------------------------------------------

export interface RedisDirOptions {
  appendfsync?: 'always' | 'everysec' | 'no';
  loadTruncated?: boolean;
  timestamps?: boolean;
  appendfilename?: string;
  appenddirname?: string;
  /** Further `--name value` arguments. */
  extra?: string[];
}

/** redis-server's command line for a multi-part AOF with a RESP base on `dir`. */
export function redisAofArgs(o: RedisDirOptions = {}): string[] {
  return [
    '--appendonly',
    'yes',
    '--appendfilename',
    o.appendfilename ?? 'appendonly.aof',
    '--appenddirname',
    o.appenddirname ?? AOF_DIR,
    '--aof-use-rdb-preamble',
    'no',
    '--appendfsync',
    o.appendfsync ?? 'always',
    '--aof-load-truncated',
    o.loadTruncated === false ? 'no' : 'yes',
    '--aof-timestamp-enabled',
    o.timestamps === true ? 'yes' : 'no',
    // No automatic rewrite in the middle of a test (Redis's own start_server_aof does the same).
    '--auto-aof-rewrite-percentage',
    '0',
    ...(o.extra ?? []),
  ];
}

export function startRedisOnDir(dir: string, o: RedisDirOptions = {}): Promise<RedisInstance> {
  return startRedis({ dir, args: redisAofArgs(o) });
}

export type RedisOutcome =
  | { kind: 'up'; redis: RedisInstance }
  | { kind: 'exited'; code: number | null; log: string };

/** Start redis-server on `dir` and see whether it stays up (answers PING) or exits (and why). */
export async function redisOutcome(dir: string, o: RedisDirOptions = {}): Promise<RedisOutcome> {
  try {
    return { kind: 'up', redis: await startRedisOnDir(dir, o) };
  } catch (err) {
    if (err instanceof RedisExitedError) return { kind: 'exited', code: err.code, log: err.output };
    throw err;
  }
}

/** Send a command that must succeed. */
export async function call(client: RespClient, ...argv: (Bin | number)[]): Promise<Reply> {
  const reply = await client.call(...argv);
  if (reply instanceof ErrorReply) throw new Error(`${argv.join(' ')}: ${reply.message}`);
  return reply;
}

/** One INFO field of a live server. */
export async function redisInfoField(client: RespClient, field: string): Promise<string | null> {
  const text = (await call(client, 'INFO', 'persistence')) as Bin;
  const m = new RegExp(`^${field}:(.*)\\r$`, 'm').exec(text);
  return m === null ? null : m[1]!;
}

/** Poll (over real round trips, no timers) until no AOF rewrite is running or scheduled. */
export async function waitForRedisRewrite(client: RespClient, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const running = await redisInfoField(client, 'aof_rewrite_in_progress');
    const scheduled = await redisInfoField(client, 'aof_rewrite_scheduled');
    if (running === '0' && scheduled === '0') return;
    if (Date.now() > deadline)
      throw new Error('redis-server: the AOF rewrite did not finish in time');
  }
}

const loadedHooks: KeyspaceHooks = {
  nowMs: () => 0,
  isLoading: () => true,
  onKeyExpired: () => {},
  signalModifiedKey: () => {},
};

/**
 * A live server's whole keyspace in the canonical dump format: SELECT 0..n-1, KEYS *, TYPE, the
 * type's read command and PEXPIRETIME, rebuilt as Db objects and printed by dumpKeyspace itself,
 * so both sides are formatted by one function. Zset scores go through parseDouble, i.e. they
 * compare as numbers, not as Redis's %.17g text. Pipelined per db (a few round trips each).
 * Leaves the connection on db 0.
 */
export async function redisKeyspaceDump(client: RespClient, databases = 16): Promise<string> {
  const dbs: Db[] = [];
  for (let i = 0; i < databases; i++) {
    const db = new Db(i, loadedHooks);
    dbs.push(db);
    const [, keysReply] = await pipelineOk(client, [
      ['SELECT', String(i)],
      ['KEYS', '*'],
    ]);
    const keys = keysReply as Bin[];
    if (keys.length === 0) continue;
    const types = (
      await pipelineOk(
        client,
        keys.map((k) => ['TYPE', k]),
      )
    ).map((r) => (r as StatusReply).status);
    const reads = await pipelineOk(
      client,
      keys.flatMap((k, j) => [readCommand(types[j]!, k), ['PEXPIRETIME', k]]),
    );
    keys.forEach((key, j) => {
      db.dict.set(key, toValue(types[j]!, reads[2 * j]!));
      const at = reads[2 * j + 1] as number | bigint;
      if (at >= 0) db.expires.set(key, at);
    });
  }
  await call(client, 'SELECT', 0);
  return dumpKeyspace(dbs);
}

async function pipelineOk(client: RespClient, commands: Bin[][]): Promise<Reply[]> {
  const replies = await client.pipeline(commands);
  replies.forEach((r, j) => {
    if (r instanceof ErrorReply) throw new Error(`${commands[j]!.join(' ')}: ${r.message}`);
  });
  return replies;
}

function readCommand(type: string, key: Bin): Bin[] {
  switch (type) {
    case 'string':
      return ['GET', key];
    case 'list':
      return ['LRANGE', key, '0', '-1'];
    case 'hash':
      return ['HGETALL', key];
    case 'set':
      return ['SMEMBERS', key];
    case 'zset':
      return ['ZRANGE', key, '0', '-1', 'WITHSCORES'];
    default:
      throw new Error(`unexpected type ${type} for key ${JSON.stringify(key)}`);
  }
}

function toValue(type: string, reply: Reply): RedisValue {
  switch (type) {
    case 'list':
      return RList.from(reply as Bin[]);
    case 'hash': {
      const flat = reply as Bin[];
      const map = new Map<Bin, Bin>();
      for (let j = 0; j < flat.length; j += 2) map.set(flat[j]!, flat[j + 1]!);
      return new RHash(map);
    }
    case 'set': {
      const set = new RSet();
      for (const m of reply as Bin[]) set.members.add(m);
      return set;
    }
    case 'zset': {
      const z = new RZSet(false);
      const flat = reply as Bin[];
      for (let j = 0; j < flat.length; j += 2) z.add(flat[j]!, parseDouble(flat[j + 1]!)!);
      return z;
    }
    default:
      return reply as Bin;
  }
}

// ---- aofkv ---------------------------------------------------------------------------------

export type AofkvOutcome =
  | { kind: 'up'; engine: Engine; logs: string[] }
  | { kind: 'refused'; error: EngineError; logs: string[] };

/** openEngine() on `dir`, like redisOutcome: it opens, or refuses with a typed error. */
export async function aofkvOutcome(
  dir: string,
  options: EngineOptions = {},
): Promise<AofkvOutcome> {
  const logs: string[] = [];
  try {
    const engine = await openEngine({
      dir,
      autoCron: false,
      // A RESP base when one is created, as redis-server is started here (--aof-use-rdb-preamble
      // no).
      aofUseRdbPreamble: false,
      logger: (_level, message) => logs.push(message),
      ...options,
    });
    return { kind: 'up', engine, logs };
  } catch (err) {
    if (err instanceof EngineError) return { kind: 'refused', error: err, logs };
    throw err;
  }
}

/** The canonical dump of what an engine holds. */
export const engineDump = (engine: Engine): string => dumpKeyspace(engine.server.dbs);

// ---- redis-check-aof -----------------------------------------------------------------------

export interface ToolRun {
  code: number;
  stdout: string;
}

export function runRedisCheckAof(args: string[], stdin = ''): ToolRun {
  const r = spawnSync('redis-check-aof', args, { input: stdin, encoding: 'latin1' });
  return { code: r.status ?? -1, stdout: r.stdout };
}

// ---- a workload both sides can run ----------------------------------------------------------

/** Every byte value, so binary keys and values cover NUL, CR, LF and invalid UTF-8. */
export const ALL_BYTES: Bin = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString(
  'latin1',
);

/**
 * Phase `n` of a deterministic workload (commands as byte strings): every type in all 16 dbs,
 * relative and absolute expiry (an hour or more ahead, so nothing expires during a test; plus a
 * key expired at once, which becomes a DEL), binary keys and values, a value larger than the
 * loaders' 1 MiB read window, collections above the rewrite's 64-items-per-command batching,
 * transactions across dbs, and the key-space commands (RENAME, MOVE, COPY, SWAPDB, FLUSHDB).
 * `nowMs` anchors the absolute expiry times.
 */
export function workloadPhase(n: number, nowMs: number): Bin[][] {
  const c: Bin[][] = [];
  const add = (...argv: (string | number)[]) => c.push(argv.map(String));
  const hour = 3_600_000;
  for (let db = 0; db < 16; db++) {
    add('SELECT', db);
    add('SET', `str:${n}`, `v${n}:${db}`);
    add('RPUSH', 'list', `a${n}`, `b${n}`, String(db));
    add('HSET', 'hash', `f${n}`, `v${db}`, 'common', String(n));
    add('SADD', 'set', `m${n}`, String(db * 1000 + n));
    add('ZADD', 'zset', n + db / 10, `m${n}`);
    add('INCR', 'counter');
  }
  add('SELECT', 0);
  // Binary keys and values; an empty value; a 1.5 MiB value.
  c.push(['SET', `bin\x00\xff\r\n:${n}`, ALL_BYTES.repeat(2)]);
  c.push(['SET', `\xc3\xa9t\xc3\xa9:${n}`, '\xef\xbb\xbfbom and \xe2\x82\xac']);
  add('SET', `empty:${n}`, '');
  if (n === 1) c.push(['SET', 'big', 'x'.repeat(1_500_000)]);
  add('APPEND', 'appended', `+${n}`);
  add('SETRANGE', 'ranged', n * 3, 'abc');
  add('INCRBYFLOAT', 'float', '1.25');
  add('INCRBY', 'int', -(2 ** 40));
  // Expiry.
  add('SET', `ttl:${n}`, 'v', 'EX', 86_400);
  add('SET', `pttl:${n}`, 'v', 'PX', 2 * hour);
  add('SET', `abs:${n}`, 'v');
  add('PEXPIREAT', `abs:${n}`, nowMs + 48 * hour + n);
  add('RPUSH', `list-ttl:${n}`, 'x');
  add('EXPIRE', `list-ttl:${n}`, 7200);
  add('SET', 'persisted', n);
  add('EXPIRE', 'persisted', 100);
  add('PERSIST', 'persisted');
  add('SET', `gone:${n}`, 'v');
  add('PEXPIREAT', `gone:${n}`, 1); // in the past: deleted at once, propagated as DEL
  add('SETEX', `setex:${n}`, 9000, 'v');
  add('GETEX', `str:${n}`, 'PX', 3 * hour);
  // Lists.
  add('LPUSH', 'list2', ...Array.from({ length: 150 }, (_, i) => `e${n}:${i}`));
  add('LPOP', 'list2', 3);
  add('RPOP', 'list2');
  add('LTRIM', 'list2', 0, 120);
  add('LINSERT', 'list2', 'BEFORE', `e${n}:100`, 'inserted');
  add('LSET', 'list2', 0, `head${n}`);
  add('LMOVE', 'list2', `moved:${n}`, 'LEFT', 'RIGHT');
  add('LREM', 'list2', 0, `e${n}:50`);
  // Hashes: more fields than one rewrite command holds.
  const fields: string[] = [];
  for (let i = 0; i < 130; i++) fields.push(`field${i}`, `${n}:${i}`);
  add('HSET', 'bighash', ...fields);
  add('HDEL', 'bighash', 'field7', 'field8');
  add('HINCRBY', 'bighash', 'counter', n);
  add('HINCRBYFLOAT', 'bighash', 'float', '0.1');
  add('HSETNX', 'bighash', `nx${n}`, 'v');
  c.push(['HSET', 'binhash', `f\x00${n}`, ALL_BYTES]);
  // Sets: integers (intset in Redis) and strings, above 64 members.
  add('SADD', 'intset', ...Array.from({ length: 100 }, (_, i) => String(i * n)));
  add('SADD', 'bigset', ...Array.from({ length: 100 }, (_, i) => `s${n}:${i}`));
  add('SREM', 'bigset', `s${n}:3`, `s${n}:4`);
  add('SMOVE', 'bigset', `smoved:${n}`, `s${n}:5`);
  add('SINTERSTORE', `inter:${n}`, 'bigset', 'bigset');
  // Sorted sets: the awkward doubles.
  add(
    'ZADD',
    'scores',
    'inf',
    'pinf',
    '-inf',
    'ninf',
    0,
    'zero',
    '-0',
    'negzero',
    '1e-300',
    'tiny',
    '1.5e300',
    'huge',
  );
  add(
    'ZADD',
    'scores',
    '0.1',
    `tenth${n}`,
    '3.141592653589793',
    'pi',
    '-2.5',
    `neg${n}`,
    '123456789012345678',
    'bigint',
  );
  add('ZINCRBY', 'scores', '0.2', `tenth${n}`);
  add(
    'ZADD',
    'bigzset',
    ...Array.from({ length: 100 }, (_, i) => [String(i / 7), `z${n}:${i}`]).flat(),
  );
  add('ZREM', 'bigzset', `z${n}:1`);
  add('ZPOPMIN', 'bigzset', 2);
  add('ZUNIONSTORE', `union:${n}`, 2, 'scores', 'zset', 'WEIGHTS', 2, 1);
  // Transactions, one of them across dbs.
  add('MULTI');
  add('SET', `tx:${n}`, 'a');
  add('SELECT', 3);
  add('SET', `tx:${n}`, 'b');
  add('RPUSH', 'txlist', n);
  add('SELECT', 0);
  add('EXEC');
  // Key-space commands.
  add('SET', `torename:${n}`, 'v');
  add('RENAME', `torename:${n}`, `renamed:${n}`);
  add('SET', `tomove:${n}`, 'v');
  add('MOVE', `tomove:${n}`, 7);
  add('COPY', 'bighash', `copied:${n}`, 'DB', 9);
  add('SELECT', 14);
  add('SET', `doomed:${n}`, 'v');
  add('FLUSHDB');
  add('SET', `after-flush:${n}`, 'v');
  add('SELECT', 0);
  add('SWAPDB', 12, 13);
  add('DEL', `empty:${n - 1}`);
  add('UNLINK', `str:${n - 1}`);
  return c;
}

/**
 * Run commands on an engine through one connection, `perTurn` of them per event-loop turn (each
 * turn is one AOF write, like one batch of client input in Redis). Any error reply fails.
 */
export async function runOnEngine(
  engine: Engine,
  commands: readonly Bin[][],
  perTurn = 25,
): Promise<void> {
  const { client } = engine.db(0);
  for (let i = 0; i < commands.length; i += perTurn) {
    const batch = commands.slice(i, i + perTurn);
    const settled = await Promise.allSettled(
      batch.map((argv) => engine.submit(client, [...argv], false)),
    );
    settled.forEach((r, j) => {
      if (r.status === 'rejected')
        throw new Error(`aofkv: ${describeCommand(batch[j]!)}: ${(r.reason as Error).message}`);
      assertNoErrorValue(r.value, batch[j]!);
    });
  }
}

function assertNoErrorValue(value: unknown, argv: Bin[]): void {
  if (value instanceof Error) throw new Error(`aofkv: ${describeCommand(argv)}: ${value.message}`);
  if (Array.isArray(value)) for (const v of value) assertNoErrorValue(v, argv);
}

/** The same on a live redis-server, pipelined. */
export async function runOnRedis(client: RespClient, commands: readonly Bin[][]): Promise<void> {
  const replies = await client.pipeline(commands);
  for (const [j, reply] of replies.entries()) assertNoErrorReply(reply, commands[j]!);
}

function assertNoErrorReply(reply: Reply, argv: Bin[]): void {
  if (reply instanceof ErrorReply)
    throw new Error(`redis: ${describeCommand(argv)}: ${reply.message}`);
  if (Array.isArray(reply)) for (const r of reply) assertNoErrorReply(r, argv);
}

function describeCommand(argv: Bin[]): string {
  return JSON.stringify(argv.slice(0, 4).map((a) => (a.length > 40 ? `${a.slice(0, 40)}…` : a)));
}

/** aofkv's checker, in process, with the same stdout shape as the real tool. */
export async function runOurCheckAof(args: string[], stdin = ''): Promise<ToolRun> {
  let stdout = '';
  const code = await checkAof(args, new NodeFileSystem(), {
    out: (line) => {
      stdout += `${line}\n`;
    },
    prompt: async (q) => {
      stdout += q;
      return stdin.length > 0 ? stdin.split('\n')[0]! : null;
    },
  });
  return { code, stdout };
}

/** Lines that name the program itself differ by design; paths differ per copy. */
export function normalizeCheckOutput(stdout: string, dir: string): string {
  return stdout.replaceAll(dir, 'DIR').replace(/redis-check-aof/g, 'aofkv check-aof');
}
