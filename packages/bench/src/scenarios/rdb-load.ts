// DESIGN: RDB base loading speed, aofkv next to redis-server on the same file (issue 5). The
// dataset generator writes a RESP AOF; aofkv loads it once and writes the same keyspace as an
// RDB v10 base (`appendonly.aof.1.base.rdb` + a manifest naming only it). Each round then times,
// on a fresh copy, aofkv opening it read-only and redis-server starting on it (until PING answers
// PONG, not -LOADING). MB/s = RDB bytes / time; keys/s = keys / time. Medians over the rounds.

import fs from 'node:fs';
import path from 'node:path';
import { NodeFileSystem, openEngine } from '@aofkv/engine';
import { writeRdbSnapshot } from '@aofkv/engine/testing';
import { generateDataset } from './dataset.ts';
import { findRedis, startRedisServer } from '../peers/redis.ts';
import { median } from '../stats.ts';

export interface RdbLoadRun {
  round: number;
  system: 'aofkv' | 'redis';
  loadMs: number;
  mbPerSec: number;
  keysPerSec: number;
}

export interface RdbLoadResult {
  keys: number;
  rdbBytes: number;
  runs: RdbLoadRun[];
  redisUnavailable: string | null;
}

const BASE = 'appendonly.aof.1.base.rdb';

/** Build the RDB directory from a generated RESP dataset; returns its path and sizes. */
async function buildRdbDir(
  work: string,
  keys: number,
): Promise<{ dir: string; rdbBytes: number; keys: number }> {
  const ds = await generateDataset(path.join(work, 'rdb-src'), keys);
  const engine = await openEngine({ dir: ds.dir, readOnly: true });
  const dir = path.join(work, 'rdb-dataset');
  const aofDir = path.join(dir, 'appendonlydir');
  fs.mkdirSync(aofDir, { recursive: true });
  const nfs = new NodeFileSystem();
  const fd = nfs.open(path.join(aofDir, BASE), 'write-truncate');
  try {
    writeRdbSnapshot(nfs, fd, engine.server.dbs, {
      aofBase: true,
      ctimeSec: Math.floor(Date.now() / 1000),
    });
  } finally {
    nfs.close(fd);
  }
  fs.writeFileSync(path.join(aofDir, 'appendonly.aof.manifest'), `file ${BASE} seq 1 type b\n`);
  const loaded = Number(await engine.db(0).dbsize());
  await engine.close();
  fs.rmSync(ds.dir, { recursive: true, force: true });
  return { dir, rdbBytes: fs.statSync(path.join(aofDir, BASE)).size, keys: loaded };
}

function copyDir(from: string, to: string): void {
  fs.rmSync(to, { recursive: true, force: true });
  fs.cpSync(from, to, { recursive: true });
}

export async function runRdbLoad(
  work: string,
  options: { keys: number; rounds: number; skipRedis: boolean },
): Promise<RdbLoadResult> {
  const src = await buildRdbDir(work, options.keys);
  const redis = options.skipRedis
    ? ({ ok: false, reason: 'skipped (--skip)' } as const)
    : findRedis();
  const runs: RdbLoadRun[] = [];
  const rate = (system: 'aofkv' | 'redis', round: number, loadMs: number): RdbLoadRun => ({
    round,
    system,
    loadMs,
    mbPerSec: src.rdbBytes / 1e6 / (loadMs / 1000),
    keysPerSec: src.keys / (loadMs / 1000),
  });
  for (let round = 1; round <= options.rounds; round++) {
    const copy = path.join(work, 'rdb-copy');
    copyDir(src.dir, copy);
    const t0 = performance.now();
    const engine = await openEngine({ dir: copy, readOnly: true });
    runs.push(rate('aofkv', round, performance.now() - t0));
    await engine.close();
    if (redis.ok) {
      copyDir(src.dir, copy);
      const server = await startRedisServer({
        dir: copy,
        args: [
          '--appendonly',
          'yes',
          '--appenddirname',
          'appendonlydir',
          '--appendfilename',
          'appendonly.aof',
        ],
        readyTimeoutMs: 600_000,
      });
      runs.push(rate('redis', round, server.readyAfterMs));
      await server.stop();
    }
    fs.rmSync(copy, { recursive: true, force: true });
  }
  fs.rmSync(src.dir, { recursive: true, force: true });
  return {
    keys: src.keys,
    rdbBytes: src.rdbBytes,
    runs,
    redisUnavailable: redis.ok ? null : redis.reason,
  };
}

export function rdbLoadSection(r: RdbLoadResult): string {
  const lines = [
    `## RDB base load: ${r.keys.toLocaleString('en-US')} mixed keys, ` +
      `${(r.rdbBytes / 1e6).toFixed(1)} MB RDB v10 file`,
    '',
    '| system | rounds | load time | MB/s | keys/s |',
    '|---|---|---|---|---|',
  ];
  for (const system of ['aofkv', 'redis'] as const) {
    const runs = r.runs.filter((x) => x.system === system);
    if (runs.length === 0) continue;
    lines.push(
      `| ${system} | ${runs.length} | ${median(runs.map((x) => x.loadMs)).toFixed(0)} ms | ` +
        `${median(runs.map((x) => x.mbPerSec)).toFixed(1)} | ` +
        `${Math.round(median(runs.map((x) => x.keysPerSec))).toLocaleString('en-US')} |`,
    );
  }
  const a = median(r.runs.filter((x) => x.system === 'aofkv').map((x) => x.mbPerSec));
  const b = median(r.runs.filter((x) => x.system === 'redis').map((x) => x.mbPerSec));
  if (Number.isFinite(a) && Number.isFinite(b))
    lines.push('', `aofkv / redis-server RDB load speed: ${(a / b).toFixed(2)}×`);
  if (r.redisUnavailable !== null)
    lines.push('', `redis-server unavailable: ${r.redisUnavailable}`);
  return `${lines.join('\n')}\n`;
}
