// `aofkv check-aof` through the CLI router: the report on stdout, the [y/N] prompt answered from
// stdin (or by -y), the exit code, the file repaired on disk — and, when redis-check-aof is
// installed, the same report and exit code as the real tool. Two cases run as a real child process
// (node + tsx, as `pnpm aofkv` runs it: real stdin, real exit code); the rest in-process on memory
// streams, which exercises the same code without paying a process start each.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openEngine } from '../../src/engine.ts';
import {
  AOF_DIR,
  MANIFEST,
  cat,
  cmd,
  copyDir,
  normalizeCheckOutput,
  runRedisCheckAof,
  tempRoot,
  writeFiles,
} from '../interop/interop-helpers.ts';
import { runCliInProcess, spawnCli } from './cli-helpers.ts';

const hasRedisCheckAof = runRedisCheckAof(['--version']).code !== -1;
if (!hasRedisCheckAof)
  console.warn('redis-check-aof not installed: cli check-aof is NOT compared with it');

const tmp = tempRoot('aofkv-cli-check-');
afterAll(() => tmp.remove());

const INCR = `${AOF_DIR}/appendonly.aof.1.incr.aof`;
const valid = cat(cmd('SELECT', '0'), cmd('set', 'foo', 'hello'), cmd('set', 'bar', 'world'));
const truncated = cat(valid, cmd('set', 'cut', 'value').subarray(0, 20));

/** A data dir whose only INCR file is `incr`; returns the dir and its manifest path. */
function dataDir(incr: Buffer): { dir: string; manifest: string } {
  const dir = tmp.dir();
  writeFiles(dir, {
    [INCR]: incr,
    [`${AOF_DIR}/${MANIFEST}`]: 'file appendonly.aof.1.incr.aof seq 1 type i\n',
  });
  return { dir, manifest: join(dir, AOF_DIR, MANIFEST) };
}

describe('aofkv check-aof', () => {
  it('reports a valid multi-part AOF with exit code 0, like redis-check-aof', async () => {
    const { dir, manifest } = dataDir(valid);
    const r = await spawnCli(['check-aof', manifest]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toContain('All AOF files and manifest are valid');
    if (hasRedisCheckAof) {
      const theirs = copyDir(dir, tmp.dir('redis'));
      const real = runRedisCheckAof([join(theirs, AOF_DIR, MANIFEST)]);
      expect(normalizeCheckOutput(r.stdout.toString('latin1'), dir)).toBe(
        normalizeCheckOutput(real.stdout, theirs),
      );
    }
  });

  it('exits 1 for a damaged AOF without --fix and leaves it alone', async () => {
    const { manifest, dir } = dataDir(truncated);
    const r = await runCliInProcess(['check-aof', manifest]);
    expect(r.code).toBe(1);
    expect(r.stdout.toString()).toContain('is not valid. Use the --fix option to try fixing it.');
    expect(readFileSync(join(dir, INCR))).toEqual(truncated);
  });

  it(
    '--fix asks on stdin; "y" cuts the file back to its ' +
      'last complete command and the data dir loads again',
    async () => {
      const { dir, manifest } = dataDir(truncated);
      const r = await spawnCli(['check-aof', '--fix', manifest], 'y\n');
      expect(r.code).toBe(0);
      const out = r.stdout.toString();
      expect(out).toContain('Continue? [y/N]: ');
      expect(out).toContain('Successfully truncated AOF appendonly.aof.1.incr.aof');
      expect(statSync(join(dir, INCR)).size).toBe(valid.length);
      const engine = await openEngine({
        dir,
        aofLoadTruncated: false,
        autoCron: false,
        readOnly: true,
      });
      expect(await engine.db(0).get('bar')).toBe('world');
      await engine.close();
    },
  );

  it('--fix with no answer (end of input) aborts with exit code 1', async () => {
    const { dir, manifest } = dataDir(truncated);
    const r = await runCliInProcess(['check-aof', '--fix', manifest], '');
    expect(r.code).toBe(1);
    expect(r.stdout.toString()).toMatch(/Continue\? \[y\/N\]: Aborting\.\.\.\n$/);
    expect(readFileSync(join(dir, INCR))).toEqual(truncated);
  });

  it('--fix -y repairs without reading stdin', async () => {
    const { dir, manifest } = dataDir(truncated);
    const r = await runCliInProcess(['check-aof', '--fix', '-y', manifest]);
    expect(r.code).toBe(0);
    expect(statSync(join(dir, INCR)).size).toBe(valid.length);
  });

  it('--truncate-to-timestamp cuts at the first later #TS: annotation', async () => {
    const { dir, manifest } = dataDir(
      cat('#TS:100\r\n', cmd('set', 'a', '1'), '#TS:200\r\n', cmd('set', 'b', '2')),
    );
    const r = await runCliInProcess(['check-aof', '--truncate-to-timestamp', '150', manifest]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toContain(
      'Successfully truncated AOF appendonly.aof.1.incr.aof to timestamp 150',
    );
    expect(readFileSync(join(dir, INCR))).toEqual(cat('#TS:100\r\n', cmd('set', 'a', '1')));
  });

  it(
    'prints the usage with exit code 1 for a wrong ' + 'command line, and with 0 for --help',
    async () => {
      const bad = await runCliInProcess(['check-aof']);
      expect(bad.code).toBe(1);
      expect(bad.stdout.toString()).toMatch(/^Usage: aofkv check-aof /);
      const help = await runCliInProcess(['check-aof', '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout.toString()).toMatch(/^Usage: aofkv check-aof /);
    },
  );
});
