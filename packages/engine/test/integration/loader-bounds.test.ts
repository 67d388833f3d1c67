// Hostile sizes in an AOF: lengths and counts far beyond the file, beyond int range, negative,
// and a 100 MB line without a newline. The loader must answer with a typed error or a truncation
// (as Redis does where Redis survives), never allocate by a length the file declares before the
// bytes exist, and never hang. Allocation is observed two ways: the largest buffer the loader
// reads into (a recording file system) and the process's RSS. (Property-based fuzzing of the
// loader lives elsewhere; these are the named worst cases.)
import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openEngine, type Engine } from '../../src/engine.ts';
import { EngineError } from '../../src/errors.ts';
import { NodeFileSystem } from '../../src/io/node-file-system.ts';
import { AOF_DIR, MANIFEST, cat, cmd, tempRoot, writeFiles } from '../interop/interop-helpers.ts';

const tmp = tempRoot('aofkv-bounds-');
afterAll(() => tmp.remove());

const INCR = `${AOF_DIR}/appendonly.aof.1.incr.aof`;
const valid = cat(cmd('set', 'foo', 'hello'), cmd('set', 'bar', 'world'));
const MB = 1024 * 1024;

/** The real file system, remembering the largest buffer anything read into. */
class RecordingFs extends NodeFileSystem {
  largestReadBuffer = 0;
  override read(
    fd: number,
    buf: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): number {
    this.largestReadBuffer = Math.max(this.largestReadBuffer, buf.length);
    return super.read(fd, buf, offset, length, position);
  }
}

interface Loaded {
  outcome: { kind: 'up'; engine: Engine } | { kind: 'refused'; error: EngineError };
  largestReadBuffer: number;
  rssGrowth: number;
  elapsedMs: number;
}

/** Open a data dir whose only INCR file is already on disk; measure reads, RSS and time. */
async function load(dir: string, aofLoadTruncated = true): Promise<Loaded> {
  const fs = new RecordingFs();
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sample = () => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  };
  const started = performance.now();
  let outcome: Loaded['outcome'];
  try {
    const engine = await openEngine({
      dir,
      fs,
      aofLoadTruncated,
      autoCron: false,
      onLoadProgress: sample,
      logger: sample,
    });
    outcome = { kind: 'up', engine };
  } catch (err) {
    if (!(err instanceof EngineError)) throw err;
    outcome = { kind: 'refused', error: err };
  }
  sample();
  return {
    outcome,
    largestReadBuffer: fs.largestReadBuffer,
    rssGrowth: rssPeak - rssBefore,
    elapsedMs: performance.now() - started,
  };
}

/** A data dir with `incr` as its only INCR file. */
function dataDir(incr: Buffer): string {
  const dir = tmp.dir();
  writeFiles(dir, {
    [INCR]: incr,
    [`${AOF_DIR}/${MANIFEST}`]: 'file appendonly.aof.1.incr.aof seq 1 type i\n',
  });
  return dir;
}

async function expectRefused(incr: Buffer, code: string, aofLoadTruncated = true): Promise<Loaded> {
  const dir = dataDir(incr);
  const r = await load(dir, aofLoadTruncated);
  if (r.outcome.kind === 'up') {
    await r.outcome.engine.close();
    throw new Error('the engine loaded a file it must refuse');
  }
  expect(r.outcome.error.code).toBe(code);
  expect(readFileSync(join(dir, INCR))).toEqual(incr); // a refusal edits nothing
  expect(r.largestReadBuffer).toBeLessThanOrEqual(MB);
  return r;
}

describe('loader: declared sizes beyond the file', () => {
  for (const declared of ['999999999999', '2000000000']) {
    it(
      `\`$${declared}\` with 3 bytes behind it is a short read: ` +
        `cut with aofLoadTruncated, refused without`,
      async () => {
        const damaged = cat(valid, `*2\r\n$3\r\nget\r\n$${declared}\r\nabc\r\n`);
        const dir = dataDir(damaged);
        const r = await load(dir, true);
        expect(r.outcome.kind).toBe('up');
        if (r.outcome.kind === 'up') {
          expect(await r.outcome.engine.db(0).get('bar')).toBe('world');
          await r.outcome.engine.close();
        }
        expect(statSync(join(dir, INCR)).size).toBe(valid.length);
        expect(r.largestReadBuffer).toBeLessThanOrEqual(MB);
        expect(r.rssGrowth).toBeLessThan(64 * MB);

        const refused = await expectRefused(damaged, 'ERR_AOF_TRUNCATED', false);
        expect(refused.outcome.kind === 'refused' && refused.outcome.error.message).toMatch(
          /Unexpected end of file/,
        );
      },
    );
  }

  it(
    '`*1000000` with one argument behind it is a short read, ' + 'not a million-slot array',
    async () => {
      const dir = dataDir(cat(valid, '*1000000\r\n$3\r\nget\r\n'));
      const r = await load(dir, true);
      expect(r.outcome.kind).toBe('up');
      if (r.outcome.kind === 'up') await r.outcome.engine.close();
      expect(statSync(join(dir, INCR)).size).toBe(valid.length);
    },
  );
});

describe('loader: counts and lengths out of range are format errors', () => {
  // Redis 7.0.15 reads these with atoi/strtol: `*2147483648` wraps negative (format error, as
  // here); a 20-digit `$` length saturates and Redis tries to allocate it; a negative `$` length
  // crashes redis-server 7.0.15 (SIGSEGV in sdsnewlen, so there is no Redis outcome to compare
  // with). aofkv refuses all of them with ERR_AOF_BAD_FORMAT and names the offset of the bad line.
  const bulk = '*2\r\n$3\r\nget\r\n'; // the bad `$` line starts right after this
  const cases: [string, string, number][] = [
    ['`*2147483648` (beyond int)', '*2147483648\r\n$3\r\nget\r\n', 0],
    ['a 20-digit `*` count', '*99999999999999999999\r\n$3\r\nget\r\n', 0],
    ['`*-1`', '*-1\r\n', 0],
    ['`*-2147483649`', '*-2147483649\r\n$3\r\nget\r\n', 0],
    ['`*0`', '*0\r\n', 0],
    ['a 20-digit `$` length', `${bulk}$99999999999999999999\r\nabc\r\n`, bulk.length],
    ['`$-1` (a RESP null is no argument)', `${bulk}$-1\r\n`, bulk.length],
    ['`$-5`', `${bulk}$-5\r\nabc\r\n`, bulk.length],
  ];
  for (const [name, tail, badAt] of cases) {
    it(`${name}: ERR_AOF_BAD_FORMAT even with aofLoadTruncated`, async () => {
      const r = await expectRefused(cat(valid, tail), 'ERR_AOF_BAD_FORMAT');
      expect(r.outcome.kind === 'refused' && r.outcome.error.message).toMatch(
        new RegExp(
          `Bad file format reading the append only file ` +
            `appendonly\\.aof\\.1\\.incr\\.aof at offset ${valid.length + badAt}:`,
        ),
      );
    });
  }
});

describe('loader: a 100 MB line without a newline', () => {
  /** valid + `head` + `fill` repeated to 100 MB, written in 1 MB chunks (never one JS string). */
  function hugeLineDir(head: string, fill: number): { dir: string; size: number } {
    const dir = dataDir(cat(valid, head));
    const file = join(dir, INCR);
    const chunk = Buffer.alloc(MB, fill);
    const fd = openSync(file, 'a');
    try {
      for (let i = 0; i < 100; i++) writeSync(fd, chunk);
    } finally {
      closeSync(fd);
    }
    return { dir, size: statSync(file).size };
  }

  const cases: [string, string, number, string | null][] = [
    ['garbage bytes', '', 0x78, 'ERR_AOF_BAD_FORMAT'],
    ['a `*` count of 100 M digits', '*', 0x39, 'ERR_AOF_BAD_FORMAT'],
    ['a `$` length of 100 M digits', '*1\r\n$', 0x39, 'ERR_AOF_BAD_FORMAT'],
    // fgets hands the line over in 1023-byte pieces: the first is an annotation, the second is not.
    ['an annotation followed by 100 MB of text', '#', 0x78, 'ERR_AOF_BAD_FORMAT'],
    // ... unless every piece starts with '#': then all 100 MB are skipped, as Redis skips them,
    // and — unlike Redis — the unterminated last piece is cut as a torn tail (see aof-loader.ts),
    // so the next command appended to the file is not glued to it.
    ['100 MB of `#`', '', 0x23, null],
  ];
  for (const [name, head, fill, code] of cases) {
    it(`${name}: ${code ?? 'loads'} in bounded memory and time`, async () => {
      const { dir, size } = hugeLineDir(head, fill);
      const r = await load(dir, true);
      try {
        if (code === null) {
          expect(r.outcome.kind).toBe('up');
          if (r.outcome.kind === 'up')
            expect(await r.outcome.engine.db(0).get('foo')).toBe('hello');
          expect(statSync(join(dir, INCR)).size).toBe(size - 100 * MB); // back to the last command
        } else {
          expect(r.outcome.kind === 'refused' && r.outcome.error.code).toBe(code);
        }
        expect(r.largestReadBuffer).toBeLessThanOrEqual(MB);
        expect(r.rssGrowth).toBeLessThan(48 * MB);
        expect(r.elapsedMs).toBeLessThan(20_000);
      } finally {
        if (r.outcome.kind === 'up') await r.outcome.engine.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
