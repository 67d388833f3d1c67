// A command with the wrong number of arguments inside an AOF (review finding 12). The loader ran
// it through Server.execute, which answers an arity error as an error reply that the loader
// ignores, so `*2 SET onlykey` vanished without a word. Redis 7.0.15 does not check arity while
// loading and crashes on it; aofkv refuses it the way it refuses an unknown command: a warning and
// a typed AofLoadError (ERR_AOF_BAD_ARITY) naming the file and the offset of the command, fatal
// even with aofLoadTruncated, and the file is left as it is.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AofLoadError } from '../../src/aof/aof-loader.ts';
import { openEngine, type EngineOptions } from '../../src/engine.ts';
import { AOF_DIR, MANIFEST, cat, cmd, tempRoot, writeFiles } from '../interop/interop-helpers.ts';

const tmp = tempRoot('aofkv-arity-');
afterAll(() => tmp.remove());

const BASE = 'appendonly.aof.1.base.aof';
const INCR1 = 'appendonly.aof.1.incr.aof';
const INCR2 = 'appendonly.aof.2.incr.aof';

/** Commands at their exact (GET) and minimum (RPUSH) arity: these must load. */
const valid = cat(cmd('set', 'foo', 'hello'), cmd('get', 'foo'), cmd('rpush', 'list', 'a'));
/** The finding's example: SET (arity 3) with its key only. */
const setKeyOnly = Buffer.from('*2\r\n$3\r\nSET\r\n$7\r\nonlykey\r\n', 'latin1');
const after = cmd('set', 'after', '1');

interface Refusal {
  error: AofLoadError;
  logs: string[];
}

/** Open `files` (names inside the AOF dir) and expect the load to be refused. */
async function refusedLoad(
  files: Record<string, Buffer | string>,
  options: EngineOptions = {},
): Promise<Refusal> {
  const dir = tmp.dir();
  const paths = Object.fromEntries(Object.entries(files).map(([n, c]) => [`${AOF_DIR}/${n}`, c]));
  writeFiles(dir, paths);
  const logs: string[] = [];
  const logger = (level: string, message: string) => void logs.push(`${level}: ${message}`);
  let error: unknown = null;
  try {
    const engine = await openEngine({ dir, autoCron: false, logger, ...options });
    await engine.close();
  } catch (err) {
    error = err;
  }
  expect(error, 'the engine loaded a file it must refuse').toBeInstanceOf(AofLoadError);
  // A refusal edits nothing.
  for (const [name, content] of Object.entries(paths)) {
    expect(readFileSync(join(dir, name))).toEqual(Buffer.from(content));
  }
  return { error: error as AofLoadError, logs };
}

function expectBadArity(r: Refusal, command: string, file: string, offset: number): void {
  expect(r.error.code).toBe('ERR_AOF_BAD_ARITY');
  expect(r.error.file).toBe(file);
  expect(r.error.offset).toBe(offset);
  expect(r.error.message).toContain(
    `Wrong number of arguments for '${command}' command reading the append only file ${file} ` +
      `at offset ${offset}`,
  );
  expect(r.logs).toContainEqual(
    `warning: Wrong number of arguments for '${command}' command reading the append only file ` +
      `${file} at offset ${offset}`,
  );
}

const incrOnly = (incr: Buffer) => ({
  [INCR1]: incr,
  [MANIFEST]: `file ${INCR1} seq 1 type i\n`,
});

describe('loader: a command with the wrong number of arguments is refused (finding 12)', () => {
  it('in the last INCR, even with aofLoadTruncated', async () => {
    const incr = cat(valid, setKeyOnly, after);
    const r = await refusedLoad(incrOnly(incr), { aofLoadTruncated: true });
    expectBadArity(r, 'set', INCR1, valid.length);
  });

  it('as the very last command of the last INCR (no torn-tail leniency)', async () => {
    const r = await refusedLoad(incrOnly(cat(valid, setKeyOnly)), { aofLoadTruncated: true });
    expectBadArity(r, 'set', INCR1, valid.length);
  });

  it('in an INCR that is not the last', async () => {
    const r = await refusedLoad({
      [INCR1]: cat(valid, setKeyOnly, after),
      [INCR2]: cmd('set', 'later', '2'),
      [MANIFEST]: `file ${INCR1} seq 1 type i\nfile ${INCR2} seq 2 type i\n`,
    });
    expectBadArity(r, 'set', INCR1, valid.length);
  });

  it('in a RESP base file', async () => {
    const base = cat(cmd('SELECT', '0'), valid);
    const r = await refusedLoad({
      [BASE]: cat(base, setKeyOnly, after),
      [INCR1]: cmd('set', 'later', '2'),
      [MANIFEST]: `file ${BASE} seq 1 type b\nfile ${INCR1} seq 1 type i\n`,
    });
    expectBadArity(r, 'set', BASE, base.length);
  });

  it('inside a MULTI block, at the queued command, not at EXEC', async () => {
    const prefix = cat(valid, cmd('MULTI'), cmd('set', 'a', '1'));
    const incr = cat(prefix, cmd('incr'), cmd('EXEC'), after);
    const r = await refusedLoad(incrOnly(incr));
    expectBadArity(r, 'incr', INCR1, prefix.length);
  });

  it('a fixed-arity command with too many arguments', async () => {
    const r = await refusedLoad(incrOnly(cat(valid, cmd('GET', 'foo', 'extra'), after)));
    expectBadArity(r, 'get', INCR1, valid.length);
  });

  it('a variadic command below its minimum (RPUSH needs a key and one element)', async () => {
    const r = await refusedLoad(incrOnly(cat(valid, cmd('RPUSH', 'list'), after)));
    expectBadArity(r, 'rpush', INCR1, valid.length);
  });

  it('a readOnly load refuses the same way and leaves the file alone', async () => {
    const r = await refusedLoad(incrOnly(cat(valid, setKeyOnly, after)), { readOnly: true });
    expectBadArity(r, 'set', INCR1, valid.length);
  });

  it('the same commands at their exact and minimum arity load', async () => {
    const dir = tmp.dir();
    writeFiles(dir, {
      [`${AOF_DIR}/${INCR1}`]: cat(valid, cmd('rpush', 'list', 'b', 'c'), after),
      [`${AOF_DIR}/${MANIFEST}`]: `file ${INCR1} seq 1 type i\n`,
    });
    const engine = await openEngine({ dir, autoCron: false, readOnly: true });
    const db = engine.db(0);
    expect(await db.get('foo')).toBe('hello');
    expect(await db.command('LRANGE', 'list', '0', '-1')).toEqual(['a', 'b', 'c']);
    expect(await db.get('after')).toBe('1');
    await engine.close();
  });
});
