// Issue 15: Redis 8.4's aof-load-corrupt-tail-max-size. With aof-load-truncated yes, a format
// error in the LAST file that starts within that many bytes of its end is cut like a torn tail
// (zero-filled or garbled tails left by a power cut); beyond the limit, in another file, or with
// the option at 0 (Redis 7.0), the load fails as before. The same rule in check-aof --fix.

import { describe, expect, it } from 'vitest';
import type { EngineError } from '@aofkv/engine';
import { openSimEngine, type SimEngine } from '@aofkv/engine/testing';
import { checkAof } from '../../src/aof/check-aof.ts';
import { createPrng } from '../../src/testing/prng.ts';

const INCR = '/data/appendonlydir/appendonly.aof.1.incr.aof';
const MANIFEST = '/data/appendonlydir/appendonly.aof.manifest';

/** A closed directory holding k1..k3 (always: every byte fsynced), plus `tail` appended. */
async function dirWithTail(tail: Buffer): Promise<{ s: SimEngine; validBytes: number }> {
  const s = await openSimEngine({ appendfsync: 'always' });
  for (const k of ['k1', 'k2', 'k3']) await s.engine.db(0).set(k, `v-${k}`);
  await s.engine.close();
  const validBytes = s.fs.fileContent(INCR).length;
  const fd = s.fs.open(INCR, 'append');
  s.fs.write(fd, tail, 0, tail.length);
  s.fs.fdatasync(fd);
  s.fs.close(fd);
  return { s, validBytes };
}

async function reopen(s: SimEngine, options: Record<string, unknown>) {
  const warnings: string[] = [];
  const opened = await openSimEngine({
    fs: s.fs,
    clock: s.clock,
    logger: (level, message) => void (level === 'warning' && warnings.push(message)),
    ...options,
  }).catch((e: unknown) => e);
  return { opened, warnings };
}

const ZEROS = Buffer.alloc(40);
const GARBLED = Buffer.concat([
  Buffer.from('*3\r\n$3\r\nSET\r\n$2\r\nk4'),
  Buffer.from([0x17, 0xff, 0x00, 0x41, 0x0d]),
]);

describe('aof-load-corrupt-tail-max-size (Redis 8.4)', () => {
  it('0 (the default) keeps Redis 7.0: a zero-filled tail fails the load', async () => {
    const { s } = await dirWithTail(ZEROS);
    const { opened } = await reopen(s, {});
    expect((opened as EngineError).code).toBe('ERR_AOF_BAD_FORMAT');
  });

  for (const [name, tail] of [
    ['zero-filled', ZEROS],
    ['garbled', GARBLED],
  ] as const) {
    it(`a ${name} tail within the limit is cut; the warning names offset and bytes`, async () => {
      const { s, validBytes } = await dirWithTail(tail);
      const { opened, warnings } = await reopen(s, { aofLoadCorruptTailMaxSize: 64 });
      expect(opened).not.toBeInstanceOf(Error);
      const again = opened as SimEngine;
      expect(await again.engine.db(0).mget('k1', 'k2', 'k3')).toEqual(['v-k1', 'v-k2', 'v-k3']);
      expect(s.fs.fileContent(INCR).length).toBe(validBytes);
      const text = warnings.join('\n');
      expect(text).toContain(`at offset ${validBytes}`);
      expect(text).toContain(`dropping ${tail.length} bytes`);
      expect(text).toContain('aof-load-corrupt-tail-max-size 64');
      await again.engine.db(0).set('k5', 'v5'); // appends on a command boundary again
      await again.engine.close();
      const third = (await reopen(s, {})).opened as SimEngine;
      expect(await third.engine.db(0).get('k5')).toBe('v5');
      await third.engine.close();
    });
  }

  it('beyond the limit the load fails as before', async () => {
    const { s } = await dirWithTail(ZEROS);
    const { opened } = await reopen(s, { aofLoadCorruptTailMaxSize: 39 });
    expect((opened as EngineError).code).toBe('ERR_AOF_BAD_FORMAT');
    const { opened: exact } = await reopen(s, { aofLoadCorruptTailMaxSize: 40 });
    expect(exact).not.toBeInstanceOf(Error);
    await (exact as SimEngine).engine.close();
  });

  it('needs aof-load-truncated yes', async () => {
    const { s } = await dirWithTail(ZEROS);
    const { opened } = await reopen(s, {
      aofLoadCorruptTailMaxSize: 1024,
      aofLoadTruncated: false,
    });
    expect((opened as EngineError).code).toBe('ERR_AOF_BAD_FORMAT');
  });

  it('inside an unfinished MULTI the cut goes back to before the MULTI', async () => {
    const multi = Buffer.from('*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$2\r\nk9\r\n$1\r\nx\r\n');
    const { s, validBytes } = await dirWithTail(Buffer.concat([multi, Buffer.alloc(16)]));
    const { opened } = await reopen(s, { aofLoadCorruptTailMaxSize: 1024 });
    const again = opened as SimEngine;
    expect(await again.engine.db(0).get('k9')).toBeNull();
    expect(s.fs.fileContent(INCR).length).toBe(validBytes);
    await again.engine.close();
  });

  it('a format error in a file that is not the last one is never cut', async () => {
    const { s } = await dirWithTail(ZEROS);
    // A second INCR after the damaged one.
    const text = s.fs.fileContent(MANIFEST).toString();
    const manifest = `${text}file appendonly.aof.2.incr.aof seq 2 type i\n`;
    const fd = s.fs.open(MANIFEST, 'write-truncate');
    s.fs.write(fd, Buffer.from(manifest), 0, manifest.length);
    s.fs.close(fd);
    s.fs.close(s.fs.open('/data/appendonlydir/appendonly.aof.2.incr.aof', 'append'));
    const { opened } = await reopen(s, { aofLoadCorruptTailMaxSize: 1024 });
    expect((opened as EngineError).code).toBe('ERR_AOF_BAD_FORMAT');
  });

  it('CONFIG GET/SET aof-load-corrupt-tail-max-size; the next load uses the value', async () => {
    const { s } = await dirWithTail(Buffer.alloc(0));
    const again = (await reopen(s, {})).opened as SimEngine;
    const db = again.engine.db(0);
    expect(await db.command('CONFIG', 'GET', 'aof-load-corrupt-tail-max-size')).toEqual([
      'aof-load-corrupt-tail-max-size',
      '0',
    ]);
    expect(await db.command('CONFIG', 'SET', 'aof-load-corrupt-tail-max-size', '1kb')).toBe('OK');
    expect(again.engine.config.aofLoadCorruptTailMaxSize).toBe(1024);
    await expect(
      db.command('CONFIG', 'SET', 'aof-load-corrupt-tail-max-size', '-1'),
    ).rejects.toThrow(/aof-load-corrupt-tail-max-size/);
    await again.engine.close();
    // The value is read at each load: DEBUG LOADAOF of a zero-filled tail cuts it (and, as in
    // Redis, a DEBUG LOADAOF that had to truncate stops the engine) with the option set at
    // runtime; with 0 it is a format error.
    for (const [value, expected] of [
      ['64', /ended with 'truncated'/],
      ['0', /Bad file format/],
    ] as const) {
      const fd = s.fs.open(INCR, 'append');
      s.fs.write(fd, ZEROS, 0, ZEROS.length);
      s.fs.close(fd);
      const e = (await reopen(s, { aofLoadCorruptTailMaxSize: 64 })).opened as SimEngine;
      await e.engine.db(0).command('CONFIG', 'SET', 'aof-load-corrupt-tail-max-size', value);
      const fdAgain = s.fs.open(INCR, 'append');
      s.fs.write(fdAgain, ZEROS, 0, ZEROS.length);
      s.fs.close(fdAgain);
      await expect(e.engine.debugLoadAof()).rejects.toThrow(expected);
      await e.engine.close();
      s.fs.truncate(INCR, s.fs.fileContent(INCR).length - ZEROS.length * (value === '0' ? 1 : 0));
    }
  });

  it('a simulated power cut with zero-filled tails reopens with the option', async () => {
    const s = await openSimEngine({ appendfsync: 'everysec' });
    for (let i = 0; i < 20; i++) await s.engine.db(0).set(`k${i}`, 'v'.repeat(50));
    const report = s.fs.crash(createPrng(3), {
      keepProbability: 0,
      tornProbability: 0,
      zeroFillProbability: 1,
      dirOpKeepProbability: 1,
    });
    expect(report.writesZeroFilled).toBeGreaterThan(0);
    const content = s.fs.fileContent(INCR);
    expect(content.subarray(content.length - 8)).toEqual(Buffer.alloc(8));
    const { opened } = await reopen(s, { aofLoadCorruptTailMaxSize: content.length });
    expect(opened).not.toBeInstanceOf(Error);
    await (opened as SimEngine).engine.close();
  });
});

describe('check-aof --fix with --corrupt-tail-max-size', () => {
  async function check(s: SimEngine, args: string[]) {
    const lines: string[] = [];
    const code = await checkAof([...args, MANIFEST], s.fs, {
      out: (line) => void lines.push(line),
      prompt: async () => 'y',
    });
    return { code, text: lines.join('\n') };
  }

  it('within the limit it cuts; beyond it refuses; 0 is redis-check-aof 7.0', async () => {
    const { s, validBytes } = await dirWithTail(ZEROS);
    const deep = await check(s, ['--fix', '--corrupt-tail-max-size', '39']);
    expect(deep.code).toBe(1);
    expect(deep.text).toContain(`format error at offset ${validBytes} starts 40 bytes before`);
    expect(s.fs.fileContent(INCR).length).toBe(validBytes + 40);
    const near = await check(s, ['--fix', '--corrupt-tail-max-size', '40']);
    expect(near.code).toBe(0);
    expect(s.fs.fileContent(INCR).length).toBe(validBytes);
    const { s: s2, validBytes: v2 } = await dirWithTail(ZEROS);
    expect((await check(s2, ['--fix'])).code).toBe(0);
    expect(s2.fs.fileContent(INCR).length).toBe(v2);
  });

  it('a tail cut short by EOF is always fixed; a bad value is refused', async () => {
    const { s, validBytes } = await dirWithTail(
      Buffer.from('*3\r\n$3\r\nSET\r\n$2\r\nk4\r\n$10\r\nab'),
    );
    expect((await check(s, ['--fix', '--corrupt-tail-max-size', '1'])).code).toBe(0);
    expect(s.fs.fileContent(INCR).length).toBe(validBytes);
    const bad = await check(s, ['--fix', '--corrupt-tail-max-size', 'x']);
    expect(bad).toEqual({ code: 1, text: 'Invalid --corrupt-tail-max-size, aborting...' });
  });
});
