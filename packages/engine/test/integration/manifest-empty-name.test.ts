// `file ""` in the manifest (review, smaller finding). aofkv refused it as a manifest format
// error; Redis 7.0.15's reader accepts it (it checks that the key was present, not that the name
// is non-empty), and the start then fails on the file: a file named "" does not exist. (Redis
// itself stats and reads "appendonlydir/", the directory, and exits with "Unrecoverable error
// reading the append only file : Is a directory"; aofkv reports it as the missing file it is.)
// A history entry named "" is harmless: both delete nothing and drop the line.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AofLoadError } from '../../src/aof/aof-loader.ts';
import { openEngine, type EngineOptions } from '../../src/engine.ts';
import { openSimEngine } from '../../src/testing/sim-engine.ts';
import { SimFileSystem } from '../../src/testing/sim-file-system.ts';
import { AOF_DIR, MANIFEST, cat, cmd, tempRoot, writeFiles } from '../interop/interop-helpers.ts';

const tmp = tempRoot('aofkv-empty-name-');
afterAll(() => tmp.remove());

const BASE = 'appendonly.aof.1.base.aof';
const INCR1 = 'appendonly.aof.1.incr.aof';
const baseData = cat(cmd('SELECT', '0'), cmd('set', 'k1', 'v1'));
const incrData = cmd('set', 'k2', 'v2');

/** A data dir with a base, an INCR and `manifest`. */
function dataDir(manifest: string): string {
  const dir = tmp.dir();
  writeFiles(dir, {
    [`${AOF_DIR}/${BASE}`]: baseData,
    [`${AOF_DIR}/${INCR1}`]: incrData,
    [`${AOF_DIR}/${MANIFEST}`]: manifest,
  });
  return dir;
}

async function refused(dir: string, options: EngineOptions = {}): Promise<AofLoadError> {
  let error: unknown = null;
  try {
    const engine = await openEngine({ dir, autoCron: false, ...options });
    await engine.close();
  } catch (err) {
    error = err;
  }
  expect(error, 'the engine opened with a manifest naming ""').toBeInstanceOf(AofLoadError);
  return error as AofLoadError;
}

function expectMissingEmptyName(error: AofLoadError): void {
  expect(error.code).toBe('ERR_AOF_MISSING_FILE');
  expect(error.file).toBe('');
  expect(error.offset).toBe(0);
  expect(error.message).toContain('Unable to obtain the AOF file "" length');
  expect(error.message).toContain('No such file or directory');
}

describe('manifest naming the file "" (Redis accepts the line, the load fails)', () => {
  for (const readOnly of [false, true]) {
    const how = readOnly ? 'a readOnly load' : 'a start';
    it(`${how}: a BASE named "" is a missing file`, async () => {
      const manifest = `file "" seq 1 type b\nfile ${INCR1} seq 1 type i\n`;
      const dir = dataDir(manifest);
      expectMissingEmptyName(await refused(dir, { readOnly }));
      // Refused before anything was written: the manifest is as it was.
      expect(readFileSync(join(dir, AOF_DIR, MANIFEST), 'latin1')).toBe(manifest);
    });

    it(`${how}: an INCR named "" after a good one is a missing file`, async () => {
      const manifest =
        `file ${BASE} seq 1 type b\n` + `file ${INCR1} seq 1 type i\nfile "" seq 2 type i\n`;
      const dir = dataDir(manifest);
      expectMissingEmptyName(await refused(dir, { readOnly }));
      expect(readFileSync(join(dir, AOF_DIR, MANIFEST), 'latin1')).toBe(manifest);
    });
  }

  it('a HISTORY entry named "" deletes nothing and its line is dropped (as Redis)', async () => {
    const dir = dataDir(
      `file ${BASE} seq 1 type b\nfile "" seq 5 type h\nfile ${INCR1} seq 1 type i\n`,
    );
    const engine = await openEngine({ dir, autoCron: false, aofUseRdbPreamble: false });
    expect(await engine.db(0).get('k1')).toBe('v1');
    expect(await engine.db(0).get('k2')).toBe('v2');
    await engine.close();
    expect(readFileSync(join(dir, AOF_DIR, MANIFEST), 'latin1')).toBe(
      `file ${BASE} seq 1 type b\nfile ${INCR1} seq 1 type i\n`,
    );
    expect(readdirSync(join(dir, AOF_DIR)).sort()).toEqual([BASE, INCR1, MANIFEST]);
  });

  it('kept as history (aofDisableAutoGc), it is written as `file ""` and reloads', async () => {
    const fs = new SimFileSystem();
    const aofDir = `/data/${AOF_DIR}`;
    fs.mkdir('/data');
    fs.mkdir(aofDir);
    const files: Record<string, string | Buffer> = {
      [BASE]: baseData,
      [INCR1]: incrData,
      [MANIFEST]: `file ${BASE} seq 1 type b\nfile "" seq 5 type h\nfile ${INCR1} seq 1 type i\n`,
    };
    for (const [name, content] of Object.entries(files)) {
      const bytes = Buffer.from(content);
      const fd = fs.open(`${aofDir}/${name}`, 'write-truncate');
      fs.write(fd, bytes, 0, bytes.length);
      fs.close(fd);
    }
    const sim = await openSimEngine({ fs, aofDisableAutoGc: true, autoAofRewritePercentage: 0 });
    await sim.engine.db(0).command('BGREWRITEAOF');
    await sim.finishRewrite();
    expect(sim.engine.aof!.info().aof_last_bgrewrite_status).toBe('ok');
    await sim.engine.close();
    // Redis 7.0.15 writes `file  seq 5 type h` here, which its next start refuses.
    expect(fs.fileContent(`${aofDir}/${MANIFEST}`).toString('latin1')).toContain(
      'file "" seq 5 type h\n',
    );
    const again = await openSimEngine({ fs, clock: sim.clock, aofDisableAutoGc: true });
    expect(await again.engine.db(0).get('k1')).toBe('v1');
    expect(await again.engine.db(0).get('k2')).toBe('v2');
    await again.engine.close();
  });
});
