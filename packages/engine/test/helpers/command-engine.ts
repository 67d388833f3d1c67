// The harness of the command unit tests: an engine without AOF on a hand-driven clock (expiry is
// tested by advancing it, never by sleeping) and a seeded random source, whose propagation is
// captured instead of written, plus a client to run commands through the dispatcher and see the
// raw Reply (status vs bulk, nil vs nil array, number vs bigint).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import {
  openEngine,
  type Arg,
  type DbHandle,
  type Engine,
  type EngineOptions,
} from '@aofkv/engine';
import { createPrng } from '@aofkv/engine/testing';
import { toBin } from '../../src/bytes.ts';
import { ErrorReply, StatusReply, type Reply } from '../../src/reply.ts';

export const T0 = 1_700_000_000_000;
export const OK = new StatusReply('OK');
export const WRONGTYPE_MESSAGE =
  'WRONGTYPE Operation against a key holding the wrong kind of value';
export const NOT_INT_MESSAGE = 'ERR value is not an integer or out of range';

export interface CommandEngine {
  e: Engine;
  /** A handle on db 0 (the embedded API: JS-shaped replies). */
  db: DbHandle;
  /** Run a command on one dispatcher client (it keeps SELECT/MULTI state) and return its Reply. */
  run(...args: Arg[]): Reply;
  /** [db id, argv] pairs fed to the AOF since the last fedSince() / aof(). */
  fedSince(): [number, string[]][];
  /** The argv lists fed to the AOF since the last call. */
  aof(): string[][];
  advance(ms: number): void;
  readonly now: number;
}

const open: Engine[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** Closed after each test. `seed` seeds SPOP/SRANDMEMBER/RANDOMKEY (default 1). */
export async function openCommandEngine(
  options: EngineOptions & { seed?: number } = {},
): Promise<CommandEngine> {
  const { seed = 1, ...engineOptions } = options;
  let now = T0;
  const prng = createPrng(seed);
  // A directory of its own: a test may run two engines at once, and each locks its directory.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aofkv-cmd-'));
  dirs.push(dir);
  const e = await openEngine({
    dir,
    appendonly: false,
    hz: 1,
    clock: { nowMs: () => now },
    random: () => prng.nextFloat(),
    ...engineOptions,
  });
  open.push(e);
  const fed: [number, string[]][] = [];
  e.server.sink = { feed: (dbId, argv) => fed.push([dbId, [...argv]]) };
  const client = e.server.createClient(0);
  return {
    e,
    db: e.db(0),
    run: (...args) =>
      e.server.execute(
        client,
        args.map((a) => toBin(a)),
      ),
    fedSince: () => fed.splice(0),
    aof: () => fed.splice(0).map(([, argv]) => argv),
    advance(ms: number): void {
      now += ms;
    },
    get now(): number {
      return now;
    },
  };
}

export const err = (message: string): ErrorReply => new ErrorReply(message);
