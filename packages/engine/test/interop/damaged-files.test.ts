// Damaged data directories must get the same outcome from aofkv as from redis-server 7.0.15:
// it starts or it refuses; when it starts, it holds the same keyspace and leaves the same files
// (a truncated tail cut at the same offset); when it refuses, Redis's log has the message
// Redis's tests grep for and aofkv throws the matching typed error. For the damage a file
// checker can see, aofkv check-aof and redis-check-aof also print the same and exit alike.
// Every fixture is built from commands (encodeCommand), as Redis's own tests build theirs, and
// each side gets its own copy. Skipped loudly when redis-server is not installed.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EngineErrorCode } from '../../src/errors.ts';
import {
  AOF_DIR,
  MANIFEST,
  aofkvOutcome,
  cat,
  cmd,
  engineDump,
  filesOf,
  haveRedisTools,
  normalizeCheckOutput,
  redisKeyspaceDump,
  redisOutcome,
  runOurCheckAof,
  runRedisCheckAof,
  tempRoot,
  warnSkipped,
  writeFiles,
} from './interop-helpers.ts';

const HAVE_REDIS = haveRedisTools();
if (!HAVE_REDIS) warnSkipped('damaged AOF outcomes, aofkv vs redis-server');

const tmp = tempRoot('aofkv-damaged-');
afterAll(() => tmp.remove());

type Expected =
  | { outcome: 'up'; keys: string[] }
  | { outcome: 'refused'; redisLog: RegExp; code: EngineErrorCode; message: RegExp };

interface Case {
  name: string;
  files: Record<string, Buffer | string>;
  /** aof-load-truncated (Redis's default is yes). */
  loadTruncated?: boolean;
  expected: Expected;
  /**
   * File to give both checkers (relative to the data dir); omitted when checking proves nothing
   * new.
   */
  check?: string;
}

const INCR = `${AOF_DIR}/appendonly.aof.1.incr.aof`;
const BASE = `${AOF_DIR}/appendonly.aof.1.base.aof`;
const MANIFEST_PATH = `${AOF_DIR}/${MANIFEST}`;
const INCR_ONLY = 'file appendonly.aof.1.incr.aof seq 1 type i\n';
const BASE_AND_INCR =
  'file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n';

/** Redis's test layout: one INCR file and a manifest naming only it. */
const incrOnly = (content: Buffer): Record<string, Buffer | string> => ({
  [INCR]: content,
  [MANIFEST_PATH]: INCR_ONLY,
});

const valid = cat(cmd('set', 'foo', 'hello'), cmd('set', 'bar', 'world'));
const baseData = cat(cmd('SELECT', 0), cmd('set', 'k1', 'v1'), cmd('set', 'k2', 'v2'));
const incrData = cmd('set', 'k3', 'v3');
/** A base + incr directory with the given manifest text. */
const withManifest = (manifest: string, extra: Record<string, Buffer | string> = {}) => ({
  [BASE]: baseData,
  [INCR]: incrData,
  [MANIFEST_PATH]: manifest,
  ...extra,
});

const truncatedEof = (code: EngineErrorCode = 'ERR_AOF_TRUNCATED'): Expected => ({
  outcome: 'refused',
  redisLog: /Unexpected end of file reading the append only file/,
  code,
  message: /Unexpected end of file reading the append only file appendonly\.aof\.1\.incr\.aof/,
});
const badFormat: Expected = {
  outcome: 'refused',
  redisLog: /Bad file format reading the append only file/,
  code: 'ERR_AOF_BAD_FORMAT',
  message: /Bad file format reading the append only file appendonly\.aof\.1\.incr\.aof/,
};
const manifestError = (redisReason: string): Expected => ({
  outcome: 'refused',
  redisLog: new RegExp(redisReason),
  code: 'ERR_AOF_MANIFEST',
  message: new RegExp(redisReason),
});

const CASES: Case[] = [
  // ---- damaged files (spec §7.3) ----
  {
    name:
      'truncated bulk payload, aof-load-truncated yes: ' +
      'loads the complete commands, cuts the tail',
    files: incrOnly(cat(valid, cmd('set', 'cut', 'value').subarray(0, 27))),
    expected: { outcome: 'up', keys: ['bar', 'foo'] },
    check: MANIFEST_PATH,
  },
  {
    name: 'truncated bulk payload, aof-load-truncated no: refuses',
    files: incrOnly(cat(valid, cmd('set', 'cut', 'value').subarray(0, 27))),
    loadTruncated: false,
    expected: truncatedEof(),
  },
  {
    name: 'a file ending in a bare `*`: treated as a short read and cut',
    files: incrOnly(cat(valid, '*')),
    expected: { outcome: 'up', keys: ['bar', 'foo'] },
    check: MANIFEST_PATH,
  },
  {
    name: 'a truncated `*3` line without CRLF: cut',
    files: incrOnly(cat(valid, '*3')),
    expected: { outcome: 'up', keys: ['bar', 'foo'] },
    check: MANIFEST_PATH,
  },
  {
    name: 'a truncated `$` length line: cut; with aof-load-truncated no refused',
    files: incrOnly(cat(valid, '*3\r\n$3\r\nset\r\n$')),
    expected: { outcome: 'up', keys: ['bar', 'foo'] },
    check: MANIFEST_PATH,
  },
  {
    name: 'a truncated `$` length line, aof-load-truncated no: refuses',
    files: incrOnly(cat(valid, '*3\r\n$3\r\nset\r\n$')),
    loadTruncated: false,
    expected: truncatedEof(),
  },
  {
    name:
      'the very first command truncated: the file is cut to 0 bytes and the server starts ' +
      'empty',
    files: incrOnly(cmd('set', 'foo', 'hello').subarray(0, 20)),
    expected: { outcome: 'up', keys: [] },
  },
  {
    name:
      'unfinished MULTI, aof-load-truncated yes: ' +
      'the transaction is reverted and cut before MULTI',
    files: incrOnly(cat(valid, cmd('multi'), cmd('set', 'inside', 'tx'))),
    expected: { outcome: 'up', keys: ['bar', 'foo'] },
    check: MANIFEST_PATH,
  },
  {
    name: 'unfinished MULTI, aof-load-truncated no: refuses',
    files: incrOnly(cat(valid, cmd('multi'), cmd('set', 'inside', 'tx'))),
    loadTruncated: false,
    expected: truncatedEof(),
  },
  {
    name: 'a garbage line: bad format, fatal even with aof-load-truncated yes',
    files: incrOnly(cat(valid, '!!!\r\n', cmd('set', 'after', 'garbage'))),
    expected: badFormat,
    check: MANIFEST_PATH,
  },
  {
    name: '`*0`: an empty command is a format error',
    files: incrOnly(cat(valid, '*0\r\n')),
    expected: badFormat,
  },
  {
    name: 'a `*` count beyond int range (`*2147483648`) is a format error, not an allocation',
    files: incrOnly(cat(valid, '*2147483648\r\n$3\r\nget\r\n')),
    expected: badFormat,
  },
  {
    name: 'a declared length beyond the end of the file (`$999999999999`) is a short read: cut',
    files: incrOnly(cat(valid, '*2\r\n$3\r\nget\r\n$999999999999\r\nabc\r\n')),
    expected: { outcome: 'up', keys: ['bar', 'foo'] },
  },
  {
    name:
      'a payload not followed by CRLF: the server loader does not ' +
      'look at those two bytes; the checker does',
    files: incrOnly(cat(valid, '*3\r\n$3\r\nset\r\n$1\r\nx\r\n$1\r\nyXX')),
    expected: { outcome: 'up', keys: ['bar', 'foo', 'x'] },
    check: MANIFEST_PATH,
  },
  {
    name: 'an unknown command: fatal even with aof-load-truncated yes',
    files: incrOnly(cat(valid, cmd('bla', 'foo', 'hello'), cmd('set', 'after', 'bla'))),
    expected: {
      outcome: 'refused',
      redisLog: /Unknown command 'bla' reading the append only file/,
      code: 'ERR_AOF_UNKNOWN_COMMAND',
      message: /Unknown command 'bla' reading the append only file appendonly\.aof\.1\.incr\.aof/,
    },
    check: MANIFEST_PATH,
  },
  {
    name:
      'a command that fails when replayed (WRONGTYPE) is skipped: ' +
      'the fake client ignores its error',
    files: incrOnly(
      cat(valid, cmd('lpush', 'foo', 'x'), cmd('incr', 'bar'), cmd('set', 'after', 'errors')),
    ),
    expected: { outcome: 'up', keys: ['after', 'bar', 'foo'] },
  },
  {
    name: 'annotations: #TS lines and other # lines are skipped anywhere between commands',
    files: incrOnly(
      cat(
        '#TS:1628217470\r\n',
        cmd('set', 'a', '1'),
        '#TS:1628217471\r\n',
        '#any comment\r\n',
        cmd('set', 'b', '2'),
        '#TS:1628217472\r\n',
      ),
    ),
    expected: { outcome: 'up', keys: ['a', 'b'] },
    check: MANIFEST_PATH,
  },

  // ---- manifests (spec §1.5) ----
  {
    name: 'manifest with a blank line',
    files: withManifest(
      'file appendonly.aof.1.base.aof seq 1 type b\n\n' +
        'file appendonly.aof.1.incr.aof seq 1 type i\n',
    ),
    expected: manifestError('Invalid AOF manifest file format'),
    check: MANIFEST_PATH,
  },
  {
    name: 'manifest with a duplicate base',
    files: withManifest(
      `file appendonly.aof.1.base.aof seq 1 type b\n` +
        `file appendonly.aof.1.base.aof seq 1 type b\n${INCR_ONLY}`,
    ),
    expected: manifestError('Found duplicate base file information'),
    check: MANIFEST_PATH,
  },
  {
    name: 'manifest with a non-monotonic incr sequence',
    files: withManifest(
      'file appendonly.aof.1.base.aof seq 1 type b\n' +
        'file appendonly.aof.2.incr.aof seq 2 type i\n' +
        'file appendonly.aof.1.incr.aof seq 1 type i\n',
      {
        [`${AOF_DIR}/appendonly.aof.2.incr.aof`]: cmd('set', 'k4', 'v4'),
      },
    ),
    expected: manifestError('Found a non-monotonic sequence number'),
    check: MANIFEST_PATH,
  },
  {
    name: 'manifest with an unknown file type',
    files: withManifest(
      'file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type x\n',
    ),
    expected: manifestError('Unknown AOF file type'),
    check: MANIFEST_PATH,
  },
  {
    name: 'manifest with a missing key (`filx`)',
    files: withManifest(
      'file appendonly.aof.1.base.aof seq 1 type b\nfilx appendonly.aof.1.incr.aof seq 1 type i\n',
    ),
    expected: manifestError('Invalid AOF manifest file format'),
    check: MANIFEST_PATH,
  },
  {
    name: 'manifest with a line too short (no seq)',
    files: withManifest(
      'file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof type i\n',
    ),
    expected: manifestError('Invalid AOF manifest file format'),
    check: MANIFEST_PATH,
  },
  {
    name: 'manifest with a line too long (over 1024 bytes)',
    files: withManifest(
      `file appendonly.aof.1.base.aof seq 1 type b\nfile ${'a'.repeat(1030)} seq 1 type i\n`,
    ),
    expected: manifestError('The AOF manifest file contains too long line'),
    check: MANIFEST_PATH,
  },
  {
    name: 'manifest whose last line lacks its newline (read as a too long line)',
    files: withManifest(
      'file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i',
    ),
    expected: manifestError('The AOF manifest file contains too long line'),
    check: MANIFEST_PATH,
  },
  {
    name: 'manifest with an odd number of tokens',
    files: withManifest(
      'file appendonly.aof.1.base.aof seq 1 type b\n' +
        'file appendonly.aof.1.incr.aof seq 1 type i newkey\n',
    ),
    expected: manifestError('Invalid AOF manifest file format'),
    check: MANIFEST_PATH,
  },
  {
    name: 'manifest with unbalanced quotes',
    files: withManifest(
      'file "appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n',
    ),
    expected: manifestError('Invalid AOF manifest file format'),
  },
  {
    name: 'manifest with a non-numeric seq (atoll gives 0: missing)',
    files: withManifest(
      'file appendonly.aof.1.base.aof seq one type b\n' +
        'file appendonly.aof.1.incr.aof seq 1 type i\n',
    ),
    expected: manifestError('Invalid AOF manifest file format'),
  },
  {
    name: 'an empty (0-byte) manifest',
    files: withManifest(''),
    expected: manifestError('Found an empty AOF manifest'),
  },
  {
    name: 'manifest naming a file that does not exist',
    files: {
      [BASE]: baseData,
      [MANIFEST_PATH]:
        'file appendonly.aof.1.base.aof seq 1 type b\n' +
        'file appendonly.aof.1.incr.aof seq 1 type i\n' +
        'file appendonly.aof.2.incr.aof seq 2 type i\n',
      [`${AOF_DIR}/appendonly.aof.2.incr.aof`]: incrData,
    },
    expected: {
      outcome: 'refused',
      redisLog: /appendonly\.aof\.1\.incr\.aof .*No such file or directory/,
      code: 'ERR_AOF_MISSING_FILE',
      message: /appendonly\.aof\.1\.incr\.aof .*No such file or directory/,
    },
  },
  {
    // Redis's reader accepts the empty name; it then stats and reads "appendonlydir/", the
    // directory. aofkv calls it what it is, a file that does not exist (same refusal, own code).
    name: 'manifest naming the file "" as the base',
    files: withManifest('file "" seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n'),
    expected: {
      outcome: 'refused',
      redisLog: /Unrecoverable error reading the append only file : Is a directory/,
      code: 'ERR_AOF_MISSING_FILE',
      message: /Unable to obtain the AOF file "" length\. stat: No such file or directory/,
    },
    check: MANIFEST_PATH,
  },
  {
    name: 'manifest naming a file with `../` (a path, not a file name)',
    files: withManifest(
      'file ../appendonly.aof.1.base.aof seq 1 type b\n' +
        'file appendonly.aof.1.incr.aof seq 1 type i\n',
    ),
    expected: manifestError("File can't be a path, just a filename"),
    check: MANIFEST_PATH,
  },

  // ---- manifests both accept (Appendix A) ----
  {
    name:
      'accepted manifest variants: comment line, CRLF, quoted name, ' +
      'upper-case and unknown keys, `type incr`',
    files: withManifest(
      '# a comment\r\nFILE "appendonly.aof.1.base.aof" SEQ 1 TYPE base newkey newvalue\r\n' +
        'file appendonly.aof.1.incr.aof seq 1 type incr\r\n',
    ),
    expected: { outcome: 'up', keys: ['k1', 'k2', 'k3'] },
    check: MANIFEST_PATH,
  },
  {
    name: 'manifest with an incr seq of 0 or less (fails the monotonic check)',
    files: withManifest(
      'file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq -1 type i\n',
    ),
    expected: manifestError('Found a non-monotonic sequence number'),
  },
  {
    name: 'a negative base seq is accepted',
    files: withManifest(
      'file appendonly.aof.1.base.aof seq -3 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n',
    ),
    expected: { outcome: 'up', keys: ['k1', 'k2', 'k3'] },
  },
  {
    name:
      'history entries left in the manifest: the files are ' +
      'deleted at start and the manifest rewritten',
    files: withManifest(
      'file appendonly.aof.1.base.aof seq 1 type b\n' +
        'file appendonly.aof.0.base.aof seq 5 type h\n' +
        'file appendonly.aof.0.incr.aof seq 7 type h\n' +
        'file appendonly.aof.1.incr.aof seq 1 type i\n',
      { [`${AOF_DIR}/appendonly.aof.0.incr.aof`]: cmd('set', 'old', 'history') },
    ),
    expected: { outcome: 'up', keys: ['k1', 'k2', 'k3'] },
  },
  {
    name: 'a history entry named "": nothing is deleted, the line is dropped',
    files: withManifest(
      'file appendonly.aof.1.base.aof seq 1 type b\nfile "" seq 5 type h\n' +
        'file appendonly.aof.1.incr.aof seq 1 type i\n',
    ),
    expected: { outcome: 'up', keys: ['k1', 'k2', 'k3'] },
  },
  {
    name: 'a pre-7.0 appendonly.aof next to a comments-only manifest is upgraded too',
    files: { 'appendonly.aof': baseData, [MANIFEST_PATH]: '# nothing yet\n' },
    expected: { outcome: 'up', keys: ['k1', 'k2'] },
  },
  {
    name: 'a comments-only manifest is "no AOF": both start empty and write base 1 + incr 1',
    files: { [MANIFEST_PATH]: '# nothing here\n' },
    expected: { outcome: 'up', keys: [] },
  },
  {
    name: 'an empty AOF directory: both start and create base 1 + incr 1',
    files: { [`${AOF_DIR}/.keep`]: '' },
    expected: { outcome: 'up', keys: [] },
  },
  {
    name: 'a pre-7.0 appendonly.aof in the data dir is moved into the AOF dir as base 1',
    files: { 'appendonly.aof': baseData },
    expected: { outcome: 'up', keys: ['k1', 'k2'] },
    check: 'appendonly.aof',
  },
  {
    name: 'a truncated pre-7.0 appendonly.aof: moved in as base 1, then cut like any last file',
    files: { 'appendonly.aof': cat(baseData, cmd('set', 'cut', 'value').subarray(0, 27)) },
    expected: { outcome: 'up', keys: ['k1', 'k2'] },
    check: 'appendonly.aof',
  },
];

/** Build the fixture twice; the first copy is aofkv's, the second redis-server's. */
function fixture(files: Record<string, Buffer | string>): [string, string] {
  const ours = tmp.dir('aofkv');
  const theirs = tmp.dir('redis');
  writeFiles(ours, files);
  writeFiles(theirs, files);
  return [ours, theirs];
}

describe.skipIf(!HAVE_REDIS)(
  'damaged data directories: aofkv and redis-server 7.0.15 agree',
  () => {
    for (const c of CASES) {
      it(c.name, async () => {
        const loadTruncated = c.loadTruncated ?? true;
        const [ours, theirs] = fixture(c.files);

        const a = await aofkvOutcome(ours, {
          aofLoadTruncated: loadTruncated,
          aofUseRdbPreamble: false,
        });
        let ourDump: string | null = null;
        if (a.kind === 'up') {
          ourDump = engineDump(a.engine);
          await a.engine.close();
        }
        const r = await redisOutcome(theirs, { loadTruncated });
        let theirDump: string | null = null;
        if (r.kind === 'up') {
          try {
            theirDump = await redisKeyspaceDump(r.redis.client);
          } finally {
            await r.redis.stop();
          }
        }

        if (c.expected.outcome === 'up') {
          expect(r.kind === 'exited' ? r.log : 'up', 'redis-server').toBe('up');
          expect(a.kind === 'refused' ? a.error.message : 'up', 'aofkv').toBe('up');
          expect(ourDump).toBe(theirDump);
          const db0 = (JSON.parse(ourDump!) as { dbs: Record<string, { key: string }[]> }).dbs[
            '0'
          ]!;
          expect(db0.map((e) => e.key)).toEqual(c.expected.keys);
          // Same files afterwards: a cut tail cut at the same offset, the same new files.
          expect(filesOf(ours)).toEqual(filesOf(theirs));
        } else {
          expect(r.kind, 'redis-server must refuse to start').toBe('exited');
          if (r.kind === 'exited') {
            expect(r.code).toBe(1);
            expect(r.log).toMatch(c.expected.redisLog);
          }
          expect(a.kind, 'aofkv must refuse to open').toBe('refused');
          if (a.kind === 'refused') {
            expect(a.error.code).toBe(c.expected.code);
            expect(a.error.message).toMatch(c.expected.message);
          }
          // A refused start leaves every file as it was.
          expect(filesOf(ours)).toEqual(filesOf(theirs));
        }

        if (c.check !== undefined) {
          const [ourCopy, theirCopy] = fixture(c.files);
          const mine = await runOurCheckAof([join(ourCopy, c.check)]);
          const real = runRedisCheckAof([join(theirCopy, c.check)]);
          expect(mine.code).toBe(real.code);
          if (c.expected.outcome === 'refused' && c.expected.code === 'ERR_AOF_MANIFEST') {
            // The same verdict (line, offending text, reason); the layout differs, see the skipped
            // test below.
            const theirs = manifestVerdict(real.stdout, 'redis');
            const ours = manifestVerdict(mine.stdout, 'aofkv');
            // Redis names no line for a too long line (it fails before it has one).
            if (
              typeof theirs !== 'string' &&
              theirs.line === undefined &&
              typeof ours !== 'string'
            ) {
              delete ours.line;
              delete ours.text;
            }
            expect(ours).toEqual(theirs);
          } else {
            expect(normalizeCheckOutput(mine.stdout, ourCopy)).toBe(
              normalizeCheckOutput(real.stdout, theirCopy),
            );
          }
          expect(filesOf(ourCopy)).toEqual(filesOf(theirCopy));
        }
      });
    }

    // Deliberate deviation (aof-loader.ts header): Redis physically truncates a damaged file that
    // is not the last one and then exits anyway; aofkv refuses without editing any file.
    it(
      'a truncated file that is not the last one: both refuse; ' +
        'Redis has cut it, aofkv has not (deliberate)',
      async () => {
        const damagedBase = cat(baseData, cmd('set', 'cut', 'value').subarray(0, 27));
        const files = { [BASE]: damagedBase, [INCR]: incrData, [MANIFEST_PATH]: BASE_AND_INCR };
        const [ours, theirs] = fixture(files);
        const a = await aofkvOutcome(ours, { aofLoadTruncated: true });
        const r = await redisOutcome(theirs, { loadTruncated: true });
        expect(r.kind).toBe('exited');
        if (r.kind === 'exited') expect(r.log).toMatch(/the truncated file is not the last file/);
        expect(a.kind).toBe('refused');
        if (a.kind === 'refused') {
          expect(a.error.code).toBe('ERR_AOF_LOAD');
          expect(a.error.message).toMatch(
            /the truncated file appendonly\.aof\.1\.base\.aof is not the last file/,
          );
        }
        expect(filesOf(theirs)[`${AOF_DIR}/appendonly.aof.1.base.aof`]).toEqual(baseData);
        expect(filesOf(ours)[`${AOF_DIR}/appendonly.aof.1.base.aof`]).toEqual(damagedBase);
      },
    );

    // BUG (check-aof.ts, reported): redis-check-aof prints a bad manifest through serverLog —
    // "<pid>:C <date> # " + "\n*** FATAL AOF MANIFEST FILE ERROR ***\n", "... # Reading the
    // manifest file, at line N", "... # >>> '<line>'", "... # <reason>", each followed by a blank
    // line — while aofkv check-aof prints "# Bad AOF manifest format", "# >>> N: <line>",
    // "# <reason>" (and names the line even for "too long line", where Redis names none). Same
    // verdict and exit code (asserted above), different text. Un-skip once the layout matches
    // (the pid/date prefix normalised away).
    it('check-aof prints a bad manifest with the same lines as redis-check-aof', async () => {
      const files = withManifest(
        'file appendonly.aof.1.base.aof seq 1 type b\n\n' +
          'file appendonly.aof.1.incr.aof seq 1 type i\n',
      );
      const [ours, theirs] = fixture(files);
      const mine = await runOurCheckAof([join(ours, MANIFEST_PATH)]);
      const real = runRedisCheckAof([join(theirs, MANIFEST_PATH)]);
      const dropLogPrefix = (s: string) => s.replace(/^\d+:C \d+ \w+ \d+ [\d:.]+ /gm, '');
      expect(dropLogPrefix(normalizeCheckOutput(mine.stdout, ours))).toBe(
        dropLogPrefix(normalizeCheckOutput(real.stdout, theirs)),
      );
    });
  },
);

/** What a checker said about a bad manifest, whatever its layout: line number, line, reason. */
function manifestVerdict(
  stdout: string,
  _tool: 'aofkv' | 'redis',
): { line?: number; text?: string; reason: string } | string {
  // Both tools print Redis's serverLog layout now.
  {
    const line = /Reading the manifest file, at line (\d+)/.exec(stdout);
    const text = /# >>> '(.*)'$/m.exec(stdout);
    const reason = /# ([^\n]*)\n\n$/.exec(stdout);
    if (reason === null || !stdout.includes('*** FATAL AOF MANIFEST FILE ERROR ***')) return stdout;
    if (line === null || text === null) return { reason: reason[1]! };
    return { line: Number(line[1]), text: text[1]!, reason: reason[1]! };
  }
}
