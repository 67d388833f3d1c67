// Entry point of `pnpm bench`:
//   pnpm bench [--quick] [--rounds N] [--cell-ms MS] [--slices N] [--keys N] [--load-rounds N]
//              [--skip lmdb,classic-level,better-sqlite3,redis] [--only writes,load]
//              [--out DIR] [--data-dir DIR]
//   pnpm bench study [--fsync-delay-ms 3000] [--rate 1000] [--seconds 8] [--policy everysec]
//                    [--sim]
//   pnpm bench profile [--target write|load|rewrite] [--policy everysec] [--in-flight 64]
//                      [--workload set] [--seconds 5] [--keys 1000000]
// Reports go to stdout, progress to stderr.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import os from 'node:os';
import { defaultBenchOptions, runBench } from './bench.ts';
import { runStudy } from './study.ts';
import { runProfile } from './profile.ts';

const USAGE = `Usage:
  pnpm bench [--quick] [--rounds N] [--cell-ms MS] [--slices N] [--keys N] [--load-rounds N]
             [--skip lmdb,classic-level,better-sqlite3,redis] [--only writes,load,rdb-load]
             [--out DIR] [--data-dir DIR]
  pnpm bench study [--fsync-delay-ms 3000] [--rate 1000] [--seconds 8] [--policy everysec] [--sim]
  pnpm bench profile [--target write|load|rewrite] [--policy everysec] [--in-flight 64]
                     [--workload set] [--seconds 5] [--keys 1000000]
Reports go to stdout and bench-results/, progress to stderr. See packages/bench/README.md.`;

/** A wrong command line: reported as its message and the usage, not as a stack trace. */
class UsageError extends Error {}

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DEFAULT_OUT = path.join(REPO_ROOT, 'bench-results');

function list(value: string | undefined): Set<string> {
  return new Set(
    (value ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  );
}

function int(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`--${name} expects a non-negative integer, got '${value}'`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  // pnpm forwards a literal "--" when given one; it means nothing here.
  const args = argv.filter((a) => a !== '--');
  const sub = args[0] !== undefined && !args[0].startsWith('-') ? args[0] : 'bench';
  const rest = sub === 'bench' && args[0] !== 'bench' ? args : args.slice(1);
  const commandLine = `pnpm bench ${args.join(' ')}`.trim();
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (sub === 'bench') {
    const { values } = parseArgs({
      args: rest,
      strict: true,
      options: {
        quick: { type: 'boolean', default: false },
        rounds: { type: 'string' },
        'cell-ms': { type: 'string' },
        slices: { type: 'string' },
        keys: { type: 'string' },
        'load-rounds': { type: 'string' },
        skip: { type: 'string' },
        only: { type: 'string' },
        out: { type: 'string' },
        'data-dir': { type: 'string' },
      },
    });
    const d = defaultBenchOptions(values.quick);
    const outcome = await runBench({
      ...d,
      rounds: Math.max(1, int(values.rounds, 'rounds', d.rounds)),
      cellMs: Math.max(10, int(values['cell-ms'], 'cell-ms', d.cellMs)),
      slices: Math.max(1, int(values.slices, 'slices', d.slices)),
      keys: Math.max(20, int(values.keys, 'keys', d.keys)),
      loadRounds: Math.max(1, int(values['load-rounds'], 'load-rounds', d.loadRounds)),
      skip: list(values.skip),
      only: list(values.only),
      outDir: values.out ?? DEFAULT_OUT,
      dataDir: values['data-dir'] ?? os.tmpdir(),
      commandLine,
    });
    process.stdout.write(`${outcome.markdown}\n`);
    return 0;
  }
  if (sub === 'study') {
    const { values } = parseArgs({
      args: rest,
      strict: true,
      options: {
        'fsync-delay-ms': { type: 'string' },
        rate: { type: 'string' },
        seconds: { type: 'string' },
        policy: { type: 'string' },
        sim: { type: 'boolean', default: false },
        out: { type: 'string' },
        'data-dir': { type: 'string' },
      },
    });
    const policy = values.policy ?? 'everysec';
    if (policy !== 'everysec' && policy !== 'always' && policy !== 'no')
      throw new UsageError(`--policy must be always, everysec or no, got '${policy}'`);
    const outcome = await runStudy({
      fsyncDelayMs: int(values['fsync-delay-ms'], 'fsync-delay-ms', 3000),
      rate: Math.max(1, int(values.rate, 'rate', 1000)),
      seconds: Math.max(1, int(values.seconds, 'seconds', 8)),
      policy,
      sim: values.sim,
      outDir: values.out ?? DEFAULT_OUT,
      dataDir: values['data-dir'] ?? os.tmpdir(),
    });
    process.stdout.write(`${outcome.summary}\n`);
    return 0;
  }
  if (sub === 'profile') {
    const { values } = parseArgs({
      args: rest,
      strict: true,
      options: {
        policy: { type: 'string' },
        'in-flight': { type: 'string' },
        workload: { type: 'string' },
        seconds: { type: 'string' },
        out: { type: 'string' },
        'data-dir': { type: 'string' },
        child: { type: 'boolean', default: false },
        target: { type: 'string' },
        keys: { type: 'string' },
      },
    });
    const target = values.target ?? 'write';
    if (target !== 'write' && target !== 'load' && target !== 'rewrite')
      throw new UsageError('--target must be write, load or rewrite');
    const policy = values.policy ?? 'everysec';
    if (policy !== 'everysec' && policy !== 'always' && policy !== 'no' && policy !== 'off')
      throw new UsageError('--policy must be always, everysec, no or off');
    const workload = values.workload ?? 'set';
    if (workload !== 'set' && workload !== 'mixed')
      throw new UsageError('--workload must be set or mixed');
    const text = await runProfile({
      target,
      keys: Math.max(20, int(values.keys, 'keys', 1_000_000)),
      policy,
      inFlight: Math.max(1, int(values['in-flight'], 'in-flight', 64)),
      workload,
      seconds: Math.max(1, int(values.seconds, 'seconds', 5)),
      outDir: values.out ?? DEFAULT_OUT,
      dataDir: values['data-dir'] ?? os.tmpdir(),
      child: values.child,
    });
    process.stdout.write(`${text}\n`);
    return 0;
  }
  throw new UsageError(`unknown subcommand '${sub}' (bench, study, profile)`);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const code = (err as { code?: unknown }).code;
    if (
      err instanceof UsageError ||
      (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))
    ) {
      process.stderr.write(`pnpm bench: ${(err as Error).message}\n${USAGE}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
