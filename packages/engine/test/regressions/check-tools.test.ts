// Disagreements between the checkers (check-aof, redis-check-rdb) and the loader that the long
// run's fuzzing found (FAULTS.md §5, K1 and K2), each reduced to a deterministic reproduction.

import { describe, expect, it } from 'vitest';
import { InlineBio } from '@aofkv/bio-workers';
import { openEngine } from '@aofkv/engine';
import { SimFileSystem } from '@aofkv/engine/testing';
import { checkAof } from '../../src/aof/check-aof.ts';
import { encodeCommand } from '../../src/aof/aof-buffer.ts';
import { checkRdb } from '../../src/rdb/rdb-check.ts';
import { loadBuffer, readerOver } from '../rdb/rdb-helpers.ts';

const DIR = '/data/appendonlydir';
const MANIFEST = `${DIR}/appendonly.aof.manifest`;
const INCR = `${DIR}/appendonly.aof.1.incr.aof`;

function diskWith(incr: Buffer): SimFileSystem {
  const fs = new SimFileSystem();
  fs.mkdir(DIR);
  const write = (path: string, data: Buffer) => {
    const fd = fs.open(path, 'write-truncate');
    fs.write(fd, data, 0, data.length);
    fs.close(fd);
  };
  write(MANIFEST, Buffer.from('file appendonly.aof.1.incr.aof seq 1 type i\n'));
  write(INCR, incr);
  return fs;
}

async function fix(fs: SimFileSystem): Promise<number> {
  const io = { out: () => {}, prompt: async () => 'y' };
  return checkAof(['--fix', MANIFEST], fs, io);
}

/** A strict start (aof-load-truncated no) on the disk; the keys of db 0. */
async function strictLoad(fs: SimFileSystem): Promise<number> {
  const engine = await openEngine({
    dir: '/data',
    fs,
    aofLoadTruncated: false,
    autoCron: false,
    readOnly: true,
    bio: new InlineBio({ fsync: () => {}, close: () => {} }),
  });
  try {
    return (await engine.db(0).dbsize()) as number;
  } finally {
    await engine.close();
  }
}

const SET = (k: string) => encodeCommand(['SET', k, 'v']);

describe('K1: check-aof --fix and an annotation without its newline', () => {
  it('a torn #TS: line at the end is cut by --fix, so a strict load accepts the file', async () => {
    const fs = diskWith(Buffer.concat([SET('a'), Buffer.from('#TS:17000')]));
    expect(await fix(fs)).toBe(0);
    expect(fs.fileContent(INCR)).toEqual(SET('a'));
    expect(await strictLoad(fs)).toBe(1);
  });

  it(
    'an annotation longer than one 1023-byte line is cut whole, ' + 'not after its first piece',
    async () => {
      const long = Buffer.from(`##${'x'.repeat(5000)}\r\n`);
      const fs = diskWith(Buffer.concat([SET('a'), long, SET('b')]));
      expect(await fix(fs)).toBe(0);
      expect(fs.fileContent(INCR)).toEqual(SET('a'));
      expect(await strictLoad(fs)).toBe(1);
    },
  );
});

describe('K2: redis-check-rdb reads a FUNCTION2 library', () => {
  it('calls an RDB holding a function library sane, as the loader reads it', () => {
    const code = '#!lua name=lib\nreturn 1'; // shorter than 64 bytes: a 6-bit length
    const rdb = Buffer.concat([
      Buffer.from('REDIS0010'),
      Buffer.from([0xf5, code.length]), // FUNCTION2, then the code as a string (6-bit length)
      Buffer.from(code),
      Buffer.from([0xff]), // EOF
      Buffer.alloc(8), // checksum 0: not checked
    ]);
    expect(loadBuffer(rdb).summary).toBeDefined();
    expect(checkRdb(readerOver(rdb), { fileName: 'f.rdb', out: () => {}, nowMs: 0 }).ok).toBe(true);
  });
});
