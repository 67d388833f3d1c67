// check-aof against the real redis-check-aof 7.0: the same damaged files must give the same
// stdout (modulo the program name) and the same exit code. Fixtures are built from commands, as
// Redis's own tests do. Skipped, loudly, when redis-check-aof is not installed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeCommand } from '../../src/aof/aof-buffer.ts';
import { runOurCheckAof, runRedisCheckAof } from '../interop/interop-helpers.ts';

const hasTool = spawnSync('redis-check-aof', ['--version']).error === undefined;
if (!hasTool)
  console.warn('redis-check-aof not installed: the check-aof differential tests are SKIPPED');

const root = mkdtempSync(join(tmpdir(), 'aofkv-check-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

const cmd = (...argv: string[]): Buffer => encodeCommand(argv);
const cat = (...parts: (Buffer | string)[]): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)));

/** Lines that name the program itself differ by design. */
const normalize = (s: string): string => s.replace(/redis-check-aof/g, 'aofkv check-aof');

/** Make two identical copies of a fixture (each tool may modify its copy). */
function fixture(files: Record<string, Buffer | string>): [string, string] {
  const dirs: string[] = [];
  for (const side of ['ours', 'redis']) {
    const dir = join(root, `${++counter}-${side}`);
    mkdirSync(join(dir, 'appendonlydir'), { recursive: true });
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    dirs.push(dir);
  }
  return [dirs[0]!, dirs[1]!];
}

async function compare(
  files: Record<string, Buffer | string>,
  target: string,
  flags: string[] = [],
  stdin = '',
) {
  const [ours, theirs] = fixture(files);
  const a = await runOurCheckAof([...flags, join(ours, target)], stdin);
  const b = runRedisCheckAof([...flags, join(theirs, target)], stdin);
  expect(normalize(a.stdout).replaceAll(ours, 'DIR')).toBe(
    normalize(b.stdout).replaceAll(theirs, 'DIR'),
  );
  expect(a.code).toBe(b.code);
  for (const name of Object.keys(files)) {
    expect(
      readFileSync(join(ours, name)).equals(readFileSync(join(theirs, name))),
      `${name} after the run`,
    ).toBe(true);
  }
  return a;
}

const manifest = (lines: string) => lines;
const valid = cat(cmd('SELECT', '0'), cmd('set', 'foo', 'hello'), cmd('set', 'bar', 'world'));

describe.skipIf(!hasTool)('check-aof: same output and exit code as redis-check-aof 7.0', () => {
  it('Test redis-check-aof for old style resp AOF', async () => {
    const r = await compare({ 'appendonly.aof': valid }, 'appendonly.aof');
    expect(r.stdout).toContain('Start checking Old-Style AOF');
    expect(r.code).toBe(0);
  });

  it('Short read: Utility should confirm the AOF is not valid', async () => {
    const truncated = cat(valid, cmd('set', 'foo', 'hello').subarray(0, 20));
    const r = await compare(
      {
        'appendonlydir/appendonly.aof.1.incr.aof': truncated,
        'appendonlydir/appendonly.aof.manifest': manifest(
          'file appendonly.aof.1.incr.aof seq 1 type i\n',
        ),
      },
      'appendonlydir/appendonly.aof.manifest',
    );
    expect(r.stdout).toContain('not valid');
    expect(r.code).toBe(1);
  });

  it('Short read: Utility should show the abnormal line num in AOF', async () => {
    const r = await compare(
      {
        'appendonlydir/appendonly.aof.1.incr.aof': cat(cmd('set', 'foo', 'hello'), '!!!'),
        'appendonlydir/appendonly.aof.manifest': 'file appendonly.aof.1.incr.aof seq 1 type i\n',
      },
      'appendonlydir/appendonly.aof.manifest',
    );
    expect(r.stdout).toContain('ok_up_to_line=8');
  });

  it('Short read: Utility should be able to fix the AOF', async () => {
    const r = await compare(
      {
        'appendonlydir/appendonly.aof.1.incr.aof': cat(valid, cmd('set', 'x', 'y').subarray(0, 17)),
        'appendonlydir/appendonly.aof.manifest': 'file appendonly.aof.1.incr.aof seq 1 type i\n',
      },
      'appendonlydir/appendonly.aof.manifest',
      ['--fix'],
      'y\n',
    );
    expect(r.stdout).toContain('Successfully truncated AOF');
  });

  it('declining the --fix prompt leaves the file alone and exits 1', async () => {
    const r = await compare(
      { 'appendonly.aof': cat(valid, '*3\r\n$3') },
      'appendonly.aof',
      ['--fix'],
      'n\n',
    );
    expect(r.code).toBe(1);
  });

  it('an unfinished MULTI is cut back to before its MULTI', async () => {
    await compare(
      { 'appendonly.aof': cat(valid, cmd('MULTI'), cmd('set', 'a', 'b')) },
      'appendonly.aof',
    );
    await compare(
      { 'appendonly.aof': cat(valid, cmd('MULTI'), cmd('set', 'a', 'b')) },
      'appendonly.aof',
      ['--fix'],
      'y\n',
    );
  });

  it('nested MULTI and a stray EXEC are errors', async () => {
    await compare(
      { 'appendonly.aof': cat(valid, cmd('MULTI'), cmd('MULTI'), cmd('EXEC')) },
      'appendonly.aof',
    );
    await compare({ 'appendonly.aof': cat(valid, cmd('EXEC')) }, 'appendonly.aof');
  });

  it(
    'a payload not followed by CRLF, a wrong prefix, ' + 'garbage and a truncated `*` line',
    async () => {
      await compare({ 'appendonly.aof': cat(valid, '*1\r\n$4\r\nPINGxx') }, 'appendonly.aof');
      await compare({ 'appendonly.aof': cat(valid, '*1\r\n#4\r\nPING\r\n') }, 'appendonly.aof');
      await compare({ 'appendonly.aof': cat(valid, 'garbage\r\n') }, 'appendonly.aof');
      await compare({ 'appendonly.aof': cat(valid, '*') }, 'appendonly.aof');
      await compare(
        { 'appendonly.aof': cat(valid, '*2\r\n$999999999999\r\nabc') },
        'appendonly.aof',
      );
    },
  );

  it('an empty file is reported as empty', async () => {
    await compare({ 'appendonly.aof': '' }, 'appendonly.aof');
  });

  it('Test redis-check-aof for Multi Part AOF with resp AOF base', async () => {
    const r = await compare(
      {
        'appendonlydir/appendonly.aof.1.base.aof': valid,
        'appendonlydir/appendonly.aof.1.incr.aof': cmd('set', 'k', 'v'),
        'appendonlydir/appendonly.aof.manifest':
          'file appendonly.aof.1.base.aof seq 1 type b\n' +
          'file appendonly.aof.1.incr.aof seq 1 type i\n',
      },
      'appendonlydir/appendonly.aof.manifest',
    );
    expect(r.stdout).toContain('All AOF files and manifest are valid');
  });

  it(
    'Test redis-check-aof only truncates the ' + 'last file for Multi Part AOF in fix mode',
    async () => {
      const r = await compare(
        {
          'appendonlydir/appendonly.aof.1.base.aof': cat(valid, cmd('MULTI'), cmd('set', 'a', 'b')),
          'appendonlydir/appendonly.aof.1.incr.aof': cmd('set', 'k', 'v'),
          'appendonlydir/appendonly.aof.manifest':
            'file appendonly.aof.1.base.aof seq 1 type b\n' +
            'file appendonly.aof.1.incr.aof seq 1 type i\n',
        },
        'appendonlydir/appendonly.aof.manifest',
        ['--fix'],
        'y\n',
      );
      expect(r.stdout).toMatch(/Failed to truncate AOF .* because it is not the last file/);
    },
  );

  it('Truncate AOF to specific timestamp (all four cut points)', async () => {
    const ts = cat(
      '#TS:1628217470\r\n',
      cmd('set', 'foo1', 'bar1'),
      '#TS:1628217471\r\n',
      cmd('set', 'foo2', 'bar2'),
      '#TS:1628217472\r\n',
      cmd('set', 'foo3', 'bar3'),
      '#TS:1628217473\r\n',
    );
    const files = {
      'appendonlydir/appendonly.aof.1.incr.aof': ts,
      'appendonlydir/appendonly.aof.manifest': 'file appendonly.aof.1.incr.aof seq 1 type i\n',
    };
    for (const t of ['1628217473', '1628217471', '1628217470', '1628217469']) {
      await compare(files, 'appendonlydir/appendonly.aof.manifest', ['--truncate-to-timestamp', t]);
    }
    await compare(files, 'appendonlydir/appendonly.aof.manifest', [
      '--truncate-to-timestamp',
      '12x',
    ]);
  });

  it(
    'Test redis-check-aof only truncates the last file ' +
      'for Multi Part AOF in truncate-to-timestamp mode',
    async () => {
      await compare(
        {
          'appendonlydir/appendonly.aof.1.base.aof': cat(
            '#TS:1628217470\r\n',
            cmd('set', 'a', '1'),
            '#TS:1628217475\r\n',
            cmd('set', 'b', '2'),
          ),
          'appendonlydir/appendonly.aof.1.incr.aof': cmd('set', 'k', 'v'),
          'appendonlydir/appendonly.aof.manifest':
            'file appendonly.aof.1.base.aof seq 1 type b\n' +
            'file appendonly.aof.1.incr.aof seq 1 type i\n',
        },
        'appendonlydir/appendonly.aof.manifest',
        ['--truncate-to-timestamp', '1628217471'],
      );
    },
  );

  it('`file ""` in a manifest: its path is the AOF directory, which cannot be opened', async () => {
    // redis-check-aof 7.0 builds "<dir>/" (makePath), reads it as not-RDB, then fails to open it
    // for the check: "Cannot open file <dir>/: Is a directory, aborting...", exit 1.
    const incr = 'appendonlydir/appendonly.aof.1.incr.aof';
    const target = 'appendonlydir/appendonly.aof.manifest';
    const incrLine = 'file appendonly.aof.1.incr.aof seq 1 type i\n';
    const asBase = await compare(
      { [incr]: cmd('set', 'k', 'v'), [target]: `file "" seq 1 type b\n${incrLine}` },
      target,
    );
    expect(asBase.stdout).toMatch(/Cannot open file .*appendonlydir\/: Is a directory, aborting/);
    const asIncr = await compare(
      { [incr]: cmd('set', 'k', 'v'), [target]: `${incrLine}file "" seq 2 type i\n` },
      target,
      ['--fix'],
      'y\n',
    );
    expect(asIncr.code).toBe(1);
  });

  it('bad arguments print the usage and exit 1', async () => {
    const a = await runOurCheckAof([]);
    const b = runRedisCheckAof([]);
    expect(a.code).toBe(1);
    expect(b.code).toBe(1);
    expect(a.stdout).toMatch(/^Usage: /);
  });
});
