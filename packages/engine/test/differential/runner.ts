// Runs one generated stream against redis-server (over RESP) and aofkv (Server.execute, in
// process), comparing every reply, then compares the whole keyspace of all databases.
//
// Consecutive steps of the same client are pipelined to Redis; aofkv runs them one by one after
// the batch's replies arrived (the two sides are independent, only their order matters). Commands
// of the two clients are never in flight together, so cross-client order is the stream's order.
//
// Random commands are compared by invariant instead of equality, and then the states are made equal
// again so the stream can go on:
//   SPOP        same reply shape (nil/bulk, array length), popped members existed and are distinct;
//               then Redis is made to mirror aofkv (SADD back what Redis popped, SREM what aofkv
//               popped) and both sets must be equal.
//   SRANDMEMBER same reply shape, every member is in the set, distinct for a positive count.
//   RANDOMKEY   nil on both or a key that exists.
//   SCAN        the full iteration (following each side's own cursors) yields the same key set.
//   DBSIZE      compared after a full SCAN on both sides (through the side connections), which
//               deletes logically expired keys that active expiry had not reached yet.
//   ZRANGE BYLEX only compared when all scores in the key are equal (otherwise Redis's answer
//               depends on random skiplist levels); skipped on both sides otherwise (read-only).
// Errors of these commands are still compared exactly.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Bin } from '../../src/bytes.ts';
import { openEngine, type Engine } from '../../src/engine.ts';
import { ErrorReply, NilArrayReply, StatusReply, type Reply } from '../../src/reply.ts';
import type { Client } from '../../src/server.ts';
import type { RespClient } from './resp-client.ts';
import { generateStream, type Step, type StreamKind } from './generator.ts';
import { canon, normalize, repliesMatch, show, showCommand, sortReplies } from './normalize.ts';
import { Prng } from './prng.ts';

export interface LogLine {
  index: number;
  client: 0 | 1;
  argv: Bin[];
  redis: Reply;
  aofkv: Reply;
  note?: string;
}

export interface Mismatch {
  kind: StreamKind;
  seed: number;
  /** Length of the stream that was generated (the replay must generate the same one). */
  ops: number;
  /** Index of the failing step in the stream (steps.length for the final keyspace check). */
  index: number;
  client: 0 | 1;
  argv: Bin[];
  redis: Reply;
  aofkv: Reply;
  note: string;
  context: LogLine[];
  /** Full log of the seed up to the failure, written for replay. */
  logFile?: string;
}

export interface SeedResult {
  steps: number;
  mismatch: Mismatch | null;
}

/**
 * Per command name: how many replies were errors / not errors (DIFF_STATS, to tune the generator).
 */
export const replyStats = new Map<string, { ok: number; err: number }>();

const BATCH = 64;
const CONTEXT = 20;
const DATABASES = 16;

export class DiffRunner {
  private readonly redis: [RespClient, RespClient];
  private readonly redisDump: RespClient;

  /** Connections 0 and 1 are the stream's two clients; `dump` inspects state on the side. */
  constructor(redis: [RespClient, RespClient], redisDump: RespClient) {
    this.redis = redis;
    this.redisDump = redisDump;
  }

  /**
   * Commands left out of the streams even if aofkv knows them (DIFF_EXCLUDE: look past a known
   * bug).
   */
  exclude: ReadonlySet<string> = new Set();
  /**
   * Also compare the whole keyspace about every N steps (DIFF_CHECK_EVERY; 0 = only at the end).
   */
  checkEvery = 0;
  /** Write the seed's command log even when it passes (DIFF_LOG=1). */
  alwaysLog = false;

  async runSeed(kind: StreamKind, seed: number, ops: number): Promise<SeedResult> {
    await this.resetRedis();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'aofkv-diff-'));
    const rng = new Prng(seed ^ 0x5eed);
    const engine = await openEngine({ appendonly: false, dir, random: () => rng.float() });
    try {
      const seedRun = new SeedRun(this, engine, kind, seed, ops);
      const steps = generateStream({
        seed,
        kind,
        ops,
        supported: (name) => engine.server.table.has(name),
        exclude: this.exclude,
      });
      const mismatch = await seedRun.run(steps);
      if (mismatch !== null) mismatch.logFile = await seedRun.writeLog(mismatch);
      else if (this.alwaysLog) await seedRun.writeLog(null);
      return { steps: steps.length, mismatch };
    } finally {
      await engine.close();
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async resetRedis(): Promise<void> {
    // RESET leaves MULTI, drops WATCHes and selects db 0, whatever a failed seed left behind.
    for (const c of [...this.redis, this.redisDump]) await c.call('RESET');
    await this.redisDump.call('FLUSHALL');
  }

  redisClient(c: 0 | 1): RespClient {
    return this.redis[c];
  }

  get dump(): RespClient {
    return this.redisDump;
  }
}

class SeedRun {
  private readonly log: LogLine[] = [];
  private readonly clients: [Client, Client];
  private readonly dumpClient: Client;
  /** Commands queued in MULTI per client (tracked from Redis's replies), null outside MULTI. */
  private readonly queued: [Bin[][] | null, Bin[][] | null] = [null, null];
  private readonly runner: DiffRunner;
  private readonly engine: Engine;
  private readonly kind: StreamKind;
  private readonly seed: number;
  private readonly ops: number;

  constructor(runner: DiffRunner, engine: Engine, kind: StreamKind, seed: number, ops: number) {
    this.runner = runner;
    this.engine = engine;
    this.kind = kind;
    this.seed = seed;
    this.ops = ops;
    this.clients = [engine.server.createClient(0), engine.server.createClient(0)];
    this.dumpClient = engine.server.createClient(0);
  }

  async run(steps: Step[]): Promise<Mismatch | null> {
    let i = 0;
    while (i < steps.length) {
      const first = steps[i]!;
      if (first.special !== undefined) {
        const m = await this.special(i, first);
        if (m !== null) return m;
        i++;
        continue;
      }
      let j = i + 1;
      while (
        j < steps.length &&
        j - i < BATCH &&
        steps[j]!.special === undefined &&
        steps[j]!.client === first.client
      )
        j++;
      const batch = steps.slice(i, j);
      const redisReplies = await this.runner
        .redisClient(first.client)
        .pipeline(batch.map((s) => s.argv));
      for (let k = 0; k < batch.length; k++) {
        const m = this.compareOne(i + k, batch[k]!, redisReplies[k]!);
        if (m !== null) return m;
      }
      i = j;
      // Optional intermediate keyspace checks localize a silent divergence (a write that replied
      // right but stored something else); never inside MULTI, where nothing has run yet.
      const every = this.runner.checkEvery;
      if (
        every > 0 &&
        Math.floor(i / every) !== Math.floor((i - batch.length) / every) &&
        this.queued.every((q) => q === null)
      ) {
        const m = await this.compareKeyspace(i);
        if (m !== null) return m;
      }
    }
    return this.compareKeyspace(steps.length);
  }

  private aofkv(client: Client, argv: readonly Bin[]): Reply {
    try {
      return this.engine.server.execute(client, [...argv]);
    } catch (err) {
      // A handler that throws (instead of replying with an error) is a bug worth seeing in full.
      return new ErrorReply(`<aofkv threw> ${(err as Error).stack ?? String(err)}`);
    }
  }

  private compareOne(index: number, step: Step, redis: Reply): Mismatch | null {
    const aofkv = this.aofkv(this.clients[step.client], step.argv);
    const name = step.argv[0]!.toLowerCase();
    let queuedForExec: Bin[][] | undefined;
    const q = this.queued[step.client];
    if (q === null) {
      if (name === 'multi' && redis instanceof StatusReply && redis.status === 'OK')
        this.queued[step.client] = [];
    } else if (name === 'exec' || name === 'discard') {
      queuedForExec = q;
      this.queued[step.client] = null;
    } else if (redis instanceof StatusReply && redis.status === 'QUEUED') {
      q.push(step.argv);
    }
    this.record({ index, client: step.client, argv: step.argv, redis, aofkv });
    if (repliesMatch(step.argv, aofkv, redis, queuedForExec)) return null;
    return this.mismatch(index, step, redis, aofkv, 'replies differ');
  }

  private record(line: LogLine): void {
    this.log.push(line);
    const name = line.argv[0]!.toLowerCase();
    const stat = replyStats.get(name) ?? { ok: 0, err: 0 };
    if (line.redis instanceof ErrorReply) stat.err++;
    else stat.ok++;
    replyStats.set(name, stat);
  }

  private mismatch(index: number, step: Step, redis: Reply, aofkv: Reply, note: string): Mismatch {
    return {
      kind: this.kind,
      seed: this.seed,
      ops: this.ops,
      index,
      client: step.client,
      argv: step.argv,
      redis,
      aofkv,
      note,
      context: this.log.filter((l) => l.index < index).slice(-CONTEXT),
    };
  }

  // ---- Random commands --------------------------------------------------------------------------

  private async special(index: number, step: Step): Promise<Mismatch | null> {
    const client = this.clients[step.client];
    const redisConn = this.runner.redisClient(step.client);
    const argv = step.argv;
    const db = client.dbIndex;
    const key = argv[1] ?? '';

    if (step.special === 'lex') {
      if (!(await this.lexComparable(db, key))) {
        this.log.push({
          index,
          client: step.client,
          argv,
          redis: null,
          aofkv: null,
          note: 'skipped: unequal scores',
        });
        return null;
      }
      return this.compareOne(index, step, await redisConn.call(...argv));
    }

    if (step.special === 'scan') return this.scan(index, step);

    if (step.special === 'dbsize') {
      if (!this.engine.server.table.has('scan')) {
        this.log.push({
          index,
          client: step.client,
          argv,
          redis: null,
          aofkv: null,
          note: 'skipped: aofkv has no SCAN to settle expired keys',
        });
        return null;
      }
      await this.settleExpired(db);
      return this.compareOne(index, step, await redisConn.call(...argv));
    }

    const pre =
      step.special === 'randomkey'
        ? await this.readBoth(db, ['KEYS', '*'])
        : await this.readBoth(db, ['SMEMBERS', key]);
    const redis = await redisConn.call(...argv);
    const aofkv = this.aofkv(client, argv);
    this.record({
      index,
      client: step.client,
      argv,
      redis,
      aofkv,
      note: 'random: compared by invariant',
    });
    const fail = (note: string) => this.mismatch(index, step, redis, aofkv, note);
    if (canon(normalize(['smembers'], pre.aofkv)) !== canon(normalize(['smembers'], pre.redis))) {
      return fail(
        `state before the command already differed: ` +
          `redis ${show(pre.redis)} aofkv ${show(pre.aofkv)}`,
      );
    }
    if (redis instanceof ErrorReply || aofkv instanceof ErrorReply || !sameShape(redis, aofkv)) {
      return repliesMatch(argv, aofkv, redis) ? null : fail('replies differ (shape or error)');
    }
    const universe = new Set(Array.isArray(pre.aofkv) ? (pre.aofkv as Bin[]) : []);
    const picked = Array.isArray(aofkv) ? (aofkv as Bin[]) : aofkv === null ? [] : [aofkv as Bin];
    for (const m of picked) {
      if (!universe.has(m))
        return fail(
          `aofkv returned ${show(m)}, which was not in the ` +
            `${step.special === 'randomkey' ? 'keyspace' : 'set'} before`,
        );
    }
    const distinct =
      step.special === 'spop' ||
      (step.special === 'srandmember' && argv.length > 2 && !argv[2]!.startsWith('-'));
    if (distinct && new Set(picked).size !== picked.length)
      return fail('aofkv returned duplicate members');

    if (step.special === 'spop') {
      // Make Redis mirror aofkv: put back what Redis popped, remove what aofkv popped.
      const redisPicked = Array.isArray(redis)
        ? (redis as Bin[])
        : redis === null
          ? []
          : [redis as Bin];
      if (canon(sortReplies(redisPicked)) !== canon(sortReplies(picked))) {
        await this.runner.dump.call('SELECT', db);
        if (redisPicked.length > 0) await this.runner.dump.call('SADD', key, ...redisPicked);
        if (picked.length > 0) await this.runner.dump.call('SREM', key, ...picked);
      }
      const post = await this.readBoth(db, ['SMEMBERS', key]);
      if (
        canon(normalize(['smembers'], post.aofkv)) !== canon(normalize(['smembers'], post.redis))
      ) {
        return fail(
          `after SPOP (and re-syncing Redis to aofkv's choice) the sets differ: ` +
            `redis ${show(post.redis)} aofkv ${show(post.aofkv)}`,
        );
      }
    }
    return null;
  }

  /** Make both sides delete the logically expired keys of `db` (SCAN expires what it visits). */
  private async settleExpired(db: number): Promise<void> {
    const fullScan = async (call: (argv: Bin[]) => Reply | Promise<Reply>) => {
      let cursor = '0';
      for (let n = 0; n < 100_000; n++) {
        const r = await call(['SCAN', cursor, 'COUNT', '1000']);
        if (!Array.isArray(r) || typeof r[0] !== 'string' || r[0] === '0') return;
        cursor = r[0];
      }
    };
    await this.runner.dump.call('SELECT', db);
    await fullScan((argv) => this.runner.dump.call(...argv));
    this.aofkv(this.dumpClient, ['SELECT', String(db)]);
    await fullScan((argv) => this.aofkv(this.dumpClient, argv));
  }

  /** Is ZRANGE ... BYLEX on `key` well defined (not a zset, or all scores equal)? */
  private async lexComparable(db: number, key: Bin): Promise<boolean> {
    await this.runner.dump.call('SELECT', db);
    const [type, range] = await this.runner.dump.pipeline([
      ['TYPE', key],
      ['ZRANGE', key, '0', '-1', 'WITHSCORES'],
    ]);
    if (!(type instanceof StatusReply) || type.status !== 'zset' || !Array.isArray(range))
      return true;
    // Scores as doubles (Number() does not read Redis's "inf"/"-inf"); a Set treats -0 and 0 as
    // one value, like Redis's score comparison.
    const toDouble = (s: Reply) => (s === 'inf' ? Infinity : s === '-inf' ? -Infinity : Number(s));
    const scores = new Set(range.filter((_, i) => i % 2 === 1).map(toDouble));
    return scores.size <= 1;
  }

  private async scan(index: number, step: Step): Promise<Mismatch | null> {
    const client = this.clients[step.client];
    const redisConn = this.runner.redisClient(step.client);
    const redisKeys = new Set<Bin>();
    const aofkvKeys = new Set<Bin>();
    // SCAN cursor 0 [options]; HSCAN/SSCAN/ZSCAN key cursor: HSCAN and ZSCAN return pairs.
    const name = step.argv[0]!.toLowerCase();
    const cursorAt = name === 'scan' ? 1 : 2;
    const pairs = name === 'hscan' || name === 'zscan';
    const iterate = async (
      call: (argv: Bin[]) => Reply | Promise<Reply>,
      into: Set<Bin>,
    ): Promise<Reply> => {
      const argv = [...step.argv];
      let first: Reply = null;
      for (let n = 0; n < 100_000; n++) {
        const reply = await call(argv);
        if (n === 0) first = reply;
        if (
          !Array.isArray(reply) ||
          reply.length !== 2 ||
          typeof reply[0] !== 'string' ||
          !Array.isArray(reply[1])
        )
          return reply;
        const items = reply[1] as Bin[];
        if (pairs)
          for (let i = 0; i + 1 < items.length; i += 2) into.add(`${items[i]}\0${items[i + 1]}`);
        else for (const k of items) into.add(k);
        if (reply[0] === '0') return first;
        argv[cursorAt] = reply[0];
      }
      return new ErrorReply('<differential: SCAN did not finish after 100000 calls>');
    };
    const redis = await iterate((argv) => redisConn.call(...argv), redisKeys);
    const aofkv = await iterate((argv) => this.aofkv(client, argv), aofkvKeys);
    this.record({
      index,
      client: step.client,
      argv: step.argv,
      redis,
      aofkv,
      note: 'first SCAN reply of a full iteration',
    });
    if (redis instanceof ErrorReply || aofkv instanceof ErrorReply || !Array.isArray(aofkv)) {
      return repliesMatch(step.argv, aofkv, redis)
        ? null
        : this.mismatch(index, step, redis, aofkv, 'SCAN replies differ');
    }
    // A walk from another cursor than 0 (a mutated argument) covers what Redis's bucket cursor
    // happens to cover: only well-formedness is compared then.
    if (!/^0*$/.test(step.argv[cursorAt]!)) return null;
    const r = [...redisKeys].sort();
    const a = [...aofkvKeys].sort();
    if (canon(r) === canon(a)) return null;
    return this.mismatch(
      index,
      step,
      r,
      a,
      'a full SCAN iteration returned different key sets (shown instead of the first reply)',
    );
  }

  /** Run a read-only command in `db` on both sides through the dump connections. */
  private async readBoth(db: number, argv: Bin[]): Promise<{ redis: Reply; aofkv: Reply }> {
    const [, redis] = await this.runner.dump.pipeline([['SELECT', String(db)], argv]);
    this.aofkv(this.dumpClient, ['SELECT', String(db)]);
    return { redis: redis!, aofkv: this.aofkv(this.dumpClient, argv) };
  }

  // ---- Whole keyspace ---------------------------------------------------------------------------

  /**
   * Compare every key of every database: the key lists (KEYS *), then per key TYPE, PEXPIRETIME
   * and the contents (GET / LRANGE / HGETALL / SMEMBERS / ZRANGE WITHSCORES, normalized like the
   * replies). Redis is asked in a few pipelines (all KEYS at once, then per non-empty db).
   */
  private async compareKeyspace(index: number): Promise<Mismatch | null> {
    const has = (name: string) => this.engine.server.table.has(name);
    if (!has('keys') || !has('type')) return null; // nothing to enumerate aofkv's keys with yet
    const CONTENT: Record<string, (k: Bin) => Bin[]> = {
      string: (k) => ['GET', k],
      list: (k) => ['LRANGE', k, '0', '-1'],
      hash: (k) => ['HGETALL', k],
      set: (k) => ['SMEMBERS', k],
      zset: (k) => ['ZRANGE', k, '0', '-1', 'WITHSCORES'],
      stream: (k) => ['XINFO', 'STREAM', k, 'FULL', 'COUNT', '0'],
    };
    const fake = (argv: Bin[]): Step => ({ client: 0, argv });
    const allKeys = await this.runner.dump.pipeline(
      Array.from({ length: DATABASES }, (_, db) => [
        ['SELECT', String(db)],
        ['KEYS', '*'],
      ]).flat(),
    );
    for (let db = 0; db < DATABASES; db++) {
      const rk = sortReplies(asArray(allKeys[db * 2 + 1]!)) as Bin[];
      this.aofkv(this.dumpClient, ['SELECT', String(db)]);
      const ak = sortReplies(asArray(this.aofkv(this.dumpClient, ['KEYS', '*']))) as Bin[];
      if (canon(rk) !== canon(ak)) {
        const onlyR = rk.filter((k) => !ak.includes(k));
        const onlyA = ak.filter((k) => !rk.includes(k));
        return this.mismatch(
          index,
          fake(['KEYS', '*']),
          rk,
          ak,
          `keyspace of db ${db}: keys only in redis ${show(onlyR)}, only in aofkv ${show(onlyA)}`,
        );
      }
      if (rk.length === 0) continue;
      const types = (
        await this.runner.dump.pipeline([['SELECT', String(db)], ...rk.map((k) => ['TYPE', k])])
      ).slice(1);
      const probes: Bin[][] = [];
      for (let i = 0; i < rk.length; i++) {
        const key = rk[i]!;
        const rType = types[i]!;
        const aType = this.aofkv(this.dumpClient, ['TYPE', key]);
        if (canon(rType) !== canon(aType)) {
          return this.mismatch(
            index,
            fake(['TYPE', key]),
            rType,
            aType,
            `keyspace of db ${db}: types differ`,
          );
        }
        if (has('pexpiretime')) probes.push(['PEXPIRETIME', key]);
        const typeName = rType instanceof StatusReply ? rType.status : '';
        const content = CONTENT[typeName]?.(key);
        if (content !== undefined && has(content[0]!.toLowerCase())) probes.push(content);
      }
      const redisProbes = (
        await this.runner.dump.pipeline([['SELECT', String(db)], ...probes])
      ).slice(1);
      for (let i = 0; i < probes.length; i++) {
        const probe = probes[i]!;
        const a = this.aofkv(this.dumpClient, probe);
        if (!repliesMatch(probe, a, redisProbes[i]!)) {
          return this.mismatch(
            index,
            fake(probe),
            redisProbes[i]!,
            a,
            `keyspace of db ${db}: ${show(probe[1]!)} differs`,
          );
        }
      }
    }
    return null;
  }

  // ---- Reporting --------------------------------------------------------------------------------

  async writeLog(m: Mismatch | null): Promise<string> {
    const file = path.join(os.tmpdir(), `aofkv-diff-${this.kind}-seed${this.seed}.log`);
    const outcome = m === null ? 'passed' : `failure at step ${m.index}`;
    const lines = [
      `# aofkv differential log: stream ${this.kind}, seed ${this.seed}, ` +
        `${this.ops} ops; ${outcome}`,
    ];
    for (const l of this.log) {
      lines.push(
        `#${l.index} [c${l.client}] ` +
          `${showCommand(l.argv, 10_000)}${l.note ? `   (${l.note})` : ''}`,
      );
      lines.push(`    redis: ${show(l.redis, 100_000)}`);
      if (canon(l.redis) !== canon(l.aofkv)) lines.push(`    aofkv: ${show(l.aofkv, 100_000)}`);
    }
    if (m !== null) lines.push('', formatMismatch(m));
    await writeFile(file, `${lines.join('\n')}\n`);
    return file;
  }
}

function asArray(r: Reply): Reply[] {
  return Array.isArray(r) ? r : [];
}

function sameShape(a: Reply, b: Reply): boolean {
  if (Array.isArray(a) || Array.isArray(b))
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length;
  if (a === null || b === null) return a === b;
  if (a instanceof NilArrayReply || b instanceof NilArrayReply) return a === b;
  return typeof a === typeof b;
}

/** A mismatch as the report prints it: how to replay, the command, both replies, the context. */
export function formatMismatch(m: Mismatch): string {
  const out = [
    `MISMATCH stream=${m.kind} seed=${m.seed} step=${m.index} client=${m.client}: ${m.note}`,
    `  replay:  SEED=${m.seed} DIFF_STREAM=${m.kind} DIFF_OPS=${m.ops} npx vitest ` +
      `run --project engine test/differential`,
    `  command: ${showCommand(m.argv)}`,
    `  redis:   ${show(m.redis)}`,
    `  aofkv:   ${show(m.aofkv)}`,
  ];
  if (m.logFile !== undefined) out.push(`  full log: ${m.logFile}`);
  if (m.context.length > 0) {
    out.push(`  previous ${m.context.length} commands (redis replies):`);
    for (const l of m.context) {
      const diff = canon(l.redis) !== canon(l.aofkv) ? `   aofkv: ${show(l.aofkv, 160)}` : '';
      out.push(
        `    #${l.index} [c${l.client}] ${showCommand(l.argv, 60)} -> ` +
          `${show(l.redis, 160)}${diff}${l.note ? ` (${l.note})` : ''}`,
      );
    }
  }
  return out.join('\n');
}
