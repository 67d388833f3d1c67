import { describe, expect, it } from 'vitest';
import { CliUsageError, parseCommandArgs } from '../../src/cli/config-args.ts';
import { runCliInProcess } from '../integration/cli-helpers.ts';

const shell = { command: 'shell', flags: ['raw', 'no-raw'] } as const;

describe('parseCommandArgs: --<redis-config-name> VALUE', () => {
  it('maps Redis names to engine options and parses values with the config table', () => {
    const parsed = parseCommandArgs(
      [
        '--dir',
        '/tmp/x',
        '--appendfsync',
        'always',
        '--appendonly',
        'yes',
        '--aof-use-rdb-preamble',
        'no',
        '--auto-aof-rewrite-min-size',
        '1mb',
        '--hz=20',
      ],
      shell,
    );
    expect(parsed.config).toEqual({
      dir: '/tmp/x',
      appendfsync: 'always',
      appendonly: true,
      aofUseRdbPreamble: false,
      autoAofRewriteMinSize: 1024 * 1024,
      hz: 20,
    });
    expect(parsed.flags.size).toBe(0);
  });

  it(
    'accepts names case-insensitively like CONFIG SET, ' + 'and the last of a repeated option wins',
    () => {
      expect(
        parseCommandArgs(['--APPENDFSYNC', 'No', '--appendfsync', 'everysec'], shell).config,
      ).toEqual({ appendfsync: 'everysec' });
    },
  );

  it('takes the next argument as the value even when it starts with one dash', () => {
    expect(() => parseCommandArgs(['--hz', '-1'], shell)).toThrow(
      "invalid value '-1' for --hz: argument must be between 1 and 500 inclusive",
    );
    expect(parseCommandArgs(['--dir', '-weird-'], shell).config).toEqual({ dir: '-weird-' });
    expect(parseCommandArgs(['--dir', ''], shell).config).toEqual({ dir: '' });
  });

  it('reads the subcommand flags', () => {
    const parsed = parseCommandArgs(['--raw', '-h'], shell);
    expect([...parsed.flags].sort()).toEqual(['help', 'raw']);
  });

  it('names the option in every error', () => {
    const cases: [string[], string][] = [
      [
        ['--appendfsync', 'sometimes'],
        "invalid value 'sometimes' for --appendfsync: argument(s) must be one of the " +
          'following: always, everysec, no',
      ],
      [
        ['--appendonly', 'maybe'],
        "invalid value 'maybe' for --appendonly: argument must be 'yes' or 'no'",
      ],
      [
        ['--appendfilename', 'a/b'],
        "invalid value 'a/b' for --appendfilename: appendfilename can't be a path, just a filename",
      ],
      [
        ['--no-such-option', '1'],
        "unknown option '--no-such-option': not an option of 'aofkv shell' " +
          'nor a Redis config option this engine knows',
      ],
      [['-x'], "unknown option '-x'"],
      [['--dir'], 'option --dir needs a value'],
      [['--dir', '--appendonly', 'yes'], 'option --dir needs a value'],
      [['--raw=1'], 'option --raw does not take a value'],
      [['positional'], "unexpected argument 'positional'"],
    ];
    for (const [args, message] of cases) {
      expect(() => parseCommandArgs(args, shell), args.join(' ')).toThrow(CliUsageError);
      expect(() => parseCommandArgs(args, shell), args.join(' ')).toThrow(message);
    }
  });

  it('restricts config names when the subcommand asks for it', () => {
    const dump = { command: 'dump', configNames: ['dir', 'appenddirname', 'appendfilename'] };
    expect(
      parseCommandArgs(['--appenddirname', 'd', '--appendfilename', 'f'], dump).config,
    ).toEqual({
      appenddirname: 'd',
      appendfilename: 'f',
    });
    expect(() => parseCommandArgs(['--appendonly', 'no'], dump)).toThrow(
      "unknown option '--appendonly': not an option of 'aofkv dump'",
    );
  });
});

describe('aofkv command router', () => {
  it('prints usage and fails without a command, succeeds with --help', async () => {
    const none = await runCliInProcess([]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('Usage: aofkv <command>');
    const help = await runCliInProcess(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout.toString()).toMatch(/shell .*\n.*dump /);
  });

  it('refuses an unknown command', async () => {
    const r = await runCliInProcess(['nope']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("aofkv: unknown command 'nope'");
  });

  it(
    'reports a bad option with the subcommand ' + 'name and exit code 1, before opening anything',
    async () => {
      const r = await runCliInProcess(['shell', '--appendfsync', 'sometimes']);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        "aofkv shell: invalid value 'sometimes' for --appendfsync: argument(s) must be one " +
          "of the following: always, everysec, no\nRun 'aofkv shell --help' for usage.\n",
      );
      expect(r.stdout.length).toBe(0);
    },
  );

  it('subcommand --help lists the options', async () => {
    const shellHelp = await runCliInProcess(['shell', '--help']);
    expect(shellHelp.code).toBe(0);
    expect(shellHelp.stdout.toString()).toContain('--appendfsync');
    const dumpHelp = await runCliInProcess(['dump', '-h']);
    expect(dumpHelp.code).toBe(0);
    expect(dumpHelp.stdout.toString()).toContain('--appenddirname');
  });
});
