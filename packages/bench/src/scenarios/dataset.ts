// A generated Redis 7.0 AOF directory of `keys` mixed keys, written as RESP by the engine's own
// encoder (AofBuffer, the same code that fills aof_buf), with a manifest that names one INCR file:
//
//   appendonlydir/appendonly.aof.manifest   "file appendonly.aof.1.incr.aof seq 1 type i"
//   appendonlydir/appendonly.aof.1.incr.aof SELECT 0, then one command per key
//
// Both aofkv and redis-server load exactly these bytes. The mix follows the project's snapshot
// benchmark: 70 % 100-byte strings, 10 % 5-field hashes, 10 % 5-element lists, 5 % 5-member sets,
// 5 % 5-member sorted sets. String keys are `key:<12 digits>` numbered from 0, so a
// `redis-benchmark -r <stringKeys>` load (and ours) overwrites existing keys during a rewrite.

import fs from 'node:fs';
import path from 'node:path';
import { AofBuffer } from '@aofkv/engine/testing';
import { keyName } from '../workload.ts';

export interface Dataset {
  dir: string;
  aofDir: string;
  aofBytes: number;
  keys: number;
  commands: number;
  stringKeys: number;
}

const CHUNK_BYTES = 8 << 20;

export async function generateDataset(dir: string, keys: number): Promise<Dataset> {
  const aofDir = path.join(dir, 'appendonlydir');
  fs.mkdirSync(aofDir, { recursive: true });
  const incr = path.join(aofDir, 'appendonly.aof.1.incr.aof');
  fs.writeFileSync(
    path.join(aofDir, 'appendonly.aof.manifest'),
    'file appendonly.aof.1.incr.aof seq 1 type i\n',
  );
  const fd = fs.openSync(incr, 'w');
  const buf = new AofBuffer(CHUNK_BYTES + (1 << 16));
  let bytes = 0;
  let commands = 0;
  const counts = { string: 0, hash: 0, list: 0, set: 0, zset: 0 };
  const flush = () => {
    const view = buf.view();
    fs.writeSync(fd, view, 0, view.length);
    bytes += view.length;
    buf.clear();
  };
  const pad = 'v'.repeat(88);
  const small = (i: number, j: number) => `e${j}-${String(i).padStart(10, '0')}`; // 14 bytes
  try {
    buf.appendCommand(['SELECT', '0']);
    commands++;
    for (let i = 0; i < keys; i++) {
      const slot = i % 20;
      if (slot < 14) {
        buf.appendCommand([
          'SET',
          keyName('key:', counts.string),
          pad + String(i).padStart(12, '0'),
        ]);
        counts.string++;
      } else if (slot < 16) {
        const argv = ['HSET', keyName('hash:', counts.hash)];
        for (let j = 0; j < 5; j++) argv.push(`field${j}`, small(i, j));
        buf.appendCommand(argv);
        counts.hash++;
      } else if (slot < 18) {
        const argv = ['RPUSH', keyName('list:', counts.list)];
        for (let j = 0; j < 5; j++) argv.push(small(i, j));
        buf.appendCommand(argv);
        counts.list++;
      } else if (slot < 19) {
        const argv = ['SADD', keyName('set:', counts.set)];
        for (let j = 0; j < 5; j++) argv.push(small(i, j));
        buf.appendCommand(argv);
        counts.set++;
      } else {
        const argv = ['ZADD', keyName('zset:', counts.zset)];
        for (let j = 0; j < 5; j++) argv.push(String(j * 1.5), small(i, j));
        buf.appendCommand(argv);
        counts.zset++;
      }
      commands++;
      if (buf.length >= CHUNK_BYTES) flush();
    }
    flush();
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return { dir, aofDir, aofBytes: bytes, keys, commands, stringKeys: counts.string };
}

/** A fresh copy of the dataset directory (each load must start from the untouched files). */
export function copyDataset(ds: Dataset, to: string): string {
  fs.rmSync(to, { recursive: true, force: true });
  fs.cpSync(ds.dir, to, { recursive: true });
  return to;
}
