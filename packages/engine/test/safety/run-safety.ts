// `pnpm test:safety`: runs the crash simulator and the safety suites, then prints their figures.
//   node --import tsx packages/engine/test/safety/run-safety.ts [--long] [extra vitest args]
// Each suite writes its counters to <report dir>/<suite>.json (test/safety/figures.ts); this
// script makes the directory, runs vitest with AOFKV_SAFETY_REPORT_DIR pointing at it, and sums
// up. It fails when vitest fails, when any acknowledged write was lost, or when an input ended in
// an untyped error, a hang or a crash.
//
// --long (or AOFKV_SAFETY_LONG=1) is the long run (FAULTS.md §4): every suite runs at the scale
// of test/safety/scale.ts, two test files at a time (vitest's default is one on 2 cores), and
// the run also fails when a figure falls short of its target (LONG_TARGETS). SEED, SIM_SEEDS,
// SIM_SEED_BASE, SIM_TRACE_FS, KILL9_RUNS, KILL9_SEED, BAD_INPUT_RUNS and FC_SEED pass through to
// the suites and win over either scale.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LONG_TARGETS } from './scale.ts';

interface Book {
  suite: string;
  elapsedMs: number;
  figures: Record<string, number>;
  notes: string[];
}

const SUITES = ['simulator', 'fault-countdown', 'kill9', 'bad-input'] as const;
type Suite = (typeof SUITES)[number];

const args = process.argv.slice(2);
const long = args.includes('--long') || process.env['AOFKV_SAFETY_LONG'] === '1';
const userArgs = args.filter((arg) => arg !== '--long');
const vitestArgs = [...userArgs];
// Two files at a time: the long run's suites take minutes each, and the machine has 2 cores.
if (long && !userArgs.some((arg) => arg.startsWith('--maxWorkers'))) {
  vitestArgs.push('--maxWorkers=2');
}

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..');
const reportDir = mkdtempSync(join(tmpdir(), 'aofkv-safety-'));
const started = performance.now();
const vitest = spawnSync(
  'npx',
  ['vitest', 'run', '--project', 'engine', 'test/sim', 'test/safety', ...vitestArgs],
  {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      AOFKV_SAFETY_REPORT_DIR: reportDir,
      ...(long ? { AOFKV_SAFETY_LONG: '1' } : {}),
    },
  },
);
const elapsedSec = (performance.now() - started) / 1000;

const books = new Map<string, Book>();
for (const file of readdirSync(reportDir)
  .filter((name) => name.endsWith('.json'))
  .sort()) {
  const book = JSON.parse(readFileSync(join(reportDir, file), 'utf8')) as Book;
  books.set(book.suite, book);
}
rmSync(reportDir, { recursive: true, force: true });

/** A figure as printed: digits grouped by thousands. */
const n = (value: number): string => value.toLocaleString('en-US');
const figure = (suite: Suite, name: string): number => books.get(suite)?.figures[name] ?? 0;
const f = (suite: Suite, name: string): string => n(figure(suite, name));
const sumOf = (suite: Suite, prefix: string): number =>
  Object.entries(books.get(suite)?.figures ?? {})
    .filter(([name]) => name.startsWith(prefix))
    .reduce((total, [, value]) => total + value, 0);
const s = (suite: Suite, prefix: string): string => n(sumOf(suite, prefix));
/** Figures whose names start with `prefix`, as "rest n, rest n". */
const listOf = (suite: Suite, prefix: string): string =>
  Object.entries(books.get(suite)?.figures ?? {})
    .filter(([name]) => name.startsWith(prefix))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `${name.slice(prefix.length)} ${n(value)}`)
    .join(', ') || 'none';

const lostAcked =
  figure('simulator', 'ackedLostViolations') +
  figure('fault-countdown', 'ackedLostViolations') +
  figure('kill9', 'ackedLostViolations');
const untypedErrors = figure('bad-input', 'untyped errors');
const hangs = figure('bad-input', 'hangs');
const crashes = figure('kill9', 'childCrashes');
const fuzzed = {
  aof: figure('bad-input', 'fuzzed AOF'),
  manifest: figure('bad-input', 'fuzzed manifest'),
  rdb: figure('bad-input', 'fuzzed RDB'),
};
const fuzzedTotal = fuzzed.aof + fuzzed.manifest + fuzzed.rdb;
const crashPoints = figure('simulator', 'crashes');
const killed = figure('kill9', 'runs');

/** Microseconds per input of a bad-input property (measured: its tests' time / its inputs). */
function costPerInput(property: string): string {
  const runs = figure('bad-input', `cost ${property} runs`);
  const ms = figure('bad-input', `cost ${property} ms`);
  return runs === 0 ? '-' : `${n(Math.round((ms * 1000) / runs))} µs`;
}

function elapsedOf(suite: Suite): string {
  const book = books.get(suite);
  return book === undefined ? 'no figures' : `${(book.elapsedMs / 1000).toFixed(1)} s`;
}

function simulatorLines(): string[] {
  const sim = (name: string) => f('simulator', name);
  const tornParsed =
    figure('simulator', 'foreignBytesHarmless') + figure('simulator', 'foreignBytesChangedData');
  return [
    `  simulator         seeds run ${sim('seeds')} (always ${sim('seeds_always')}, everysec ` +
      `${sim('seeds_everysec')}, no ${sim('seeds_no')}), units executed ${sim('unitsExecuted')}, ` +
      `acknowledged ${sim('unitsAcked')}`,
    `                    crash points ${sim('crashes')} (after a clean close ` +
      `${sim('cleanRestarts')}, after a fatal stop ${sim('fatalStops')}), faults injected ` +
      `${sim('faultsInjected')}, writes refused (MISCONF) ${sim('unitsRefused')}, check-aof ` +
      `--fix repairs ${sim('checkAofRepairs')}, files cut by hand ${sim('manualRepairs')}`,
    `                    recoveries checked ${sim('stateChecks')}, units rolled back ` +
      `${sim('unitsRolledBack')} (of them acknowledged, allowed by everysec/no: ` +
      `${sim('ackedLostAllowed')}), torn bytes that parsed ${n(tornParsed)} ` +
      `(changed data: ${sim('foreignBytesChangedData')})`,
    '                    dangling MULTI after a torn transaction (fixed; the driver fails on ' +
      `one) ${sim('knownBugDanglingMulti')}`,
    `  rewrites (sim)    started ${sim('rewritesStarted')} (automatic ${sim('rewritesAuto')}), ` +
      `refused at start ${sim('rewritesStartFailed')}, completed ${sim('rewritesCompleted')} ` +
      `(new base loaded alone = model at its INCR's start: ${sim('basesChecked')}), failed ` +
      `${sim('rewritesFailed')}, crashed during ${sim('crashesDuringRewrite')}; recoveries of a ` +
      `manifest with several INCRs ${sim('recoveriesMultiIncr')}`,
    `                    power cuts ${sim('powerCuts')} (${sim('powerCutsInRewrite')} in a ` +
      `rewrite), cut at: temp base open ${sim('cutTempOpen')}, walk/base write+fsync ` +
      `${sim('cutTempWrite')}, base rename ${sim('cutBaseRename')}, manifest persist ` +
      `${sim('cutManifest')}, history/temp unlink ${sim('cutUnlink')}, other opens ` +
      `${sim('cutOpen')}, INCR write/fsync ${sim('cutIncrIo')}, other ${sim('cutOther')}`,
  ];
}

function countdownLines(): string[] {
  const fc = (name: string) => f('fault-countdown', name);
  const typedOpenClose =
    sumOf('fault-countdown', 'outcome open:') + sumOf('fault-countdown', 'outcome close:');
  return [
    `  fault countdown   scenario variants ${fc('scenarioVariants')}, runs ${fc('runs')}, ` +
      `faults injected ${fc('faultsInjected')}, crash points ${fc('crashes')}, outcomes: ok ` +
      `${fc('outcome ok')}, MISCONF ${fc('outcome misconf')}, fatal ${fc('outcome fatal')}, ` +
      `typed open/close errors ${n(typedOpenClose)}`,
    '                    rewrite rows (start, start in a turn, walk, rename, manifest, ' +
      `history): runs ${s('fault-countdown', 'runs rewrite')}, rewrites ok ` +
      `${fc('outcome rewrite:ok')}, aof_last_bgrewrite_status:err ${fc('outcome rewrite:err')}, ` +
      `temp bases left after a refused unlink ${fc('tempBaseLeftAfterFailedUnlink')}`,
  ];
}

function kill9Lines(): string[] {
  const k = (name: string) => f('kill9', name);
  return [
    `  kill -9           processes killed ${k('runs')} (always ${k('runs_always')}, everysec ` +
      `${k('runs_everysec')}; with CONFIG SET toggles ${k('runsWithToggles')}), ` +
      `acknowledgements seen ${k('ackedSeen')}, guaranteed ${k('guaranteedAcked')}, commands ` +
      `recovered ${k('commandsRecovered')}, acknowledged lost where allowed (everysec/no, AOF ` +
      `off or turning on) ${k('ackedLostAllowed')}`,
    `                    rewrites started ${k('rewrites_started')}, completed ` +
      `${k('rewrites_done')}, failed ${k('rewrites_failed')}, cancelled by appendonly ` +
      `${k('rewrites_cancelled')}; AOF turned back on (first rewrite done) ${k('aofTurnedOn')}`,
    `                    killed: on an acknowledgement ${k('kills_ack')}, at a manifest switch ` +
      `${k('kills_start')}, inside a rewrite ${k('kills_during')}, right after one ` +
      `${k('kills_done')}, after a toggle's reply ${k('kills_toggle')}, with appendonly no ` +
      `${k('kills_aof-off')}, after appendonly yes ${k('kills_aof-yes')}, inside the first ` +
      `rewrite after it ${k('kills_first-rewrite')}, right after that rewrite ` +
      `${k('kills_first-done')}, moment never came ${k('kills_fallback')}`,
    `                    at the kill: a rewrite running ${k('killedDuringRewrite')}, AOF off ` +
      `${k('killedWhileAofOff')}, AOF turning on ${k('killedWhileTurningOn')}, a toggle in ` +
      `flight ${k('killedWithToggleInFlight')}`,
    `                    toggles replied: ${listOf('kill9', 'toggle ')}`,
  ];
}

function badInputLines(): string[] {
  const b = (name: string) => f('bad-input', name);
  const loads = sumOf('bad-input', 'load ');
  return [
    `  bad input         fuzzed inputs ${n(fuzzedTotal)}: AOF ${n(fuzzed.aof)}, manifest ` +
      `${n(fuzzed.manifest)}, RDB ${n(fuzzed.rdb)}`,
    `                    AOF: INCR files loaded ${b('mutated INCR files')}, through check-aof ` +
      `--fix ${b('cost check-aof runs')}; RDB: bases through the engine ` +
      `${b('mutated RDB bases')}, files through the reader and check-rdb ${b('mutated RDB files')}`,
    `                    cost per input: INCR ${costPerInput('INCR')}, check-aof ` +
      `${costPerInput('check-aof')}, manifest ${costPerInput('manifest')}, RDB base ` +
      `${costPerInput('RDB base')}, RDB reader ${costPerInput('RDB reader')}`,
    `                    cut offsets ${b('cut offsets')}, loads ${n(loads)} (ok ${b('load ok')}, ` +
      `typed errors ${n(loads - figure('bad-input', 'load ok'))}), check-aof runs ` +
      `${s('bad-input', 'check-aof')}, RDB reads ${s('bad-input', 'rdb-read ')} (ok ` +
      `${b('rdb-read ok')}), redis-check-rdb runs ${s('bad-input', 'rdb-check ')}`,
  ];
}

interface Target {
  name: string;
  value: number;
  target: number;
}

const targets: Target[] = [
  { name: 'crash points', value: crashPoints, target: LONG_TARGETS.crashPoints },
  { name: 'kill -9 processes', value: killed, target: LONG_TARGETS.kill9Processes },
  { name: 'fuzzed inputs', value: fuzzedTotal, target: LONG_TARGETS.fuzzedInputs },
];
const shortfalls = targets.filter((t) => t.value < t.target);
const verdict = (t: Target): string => (t.value >= t.target ? 'met' : 'NOT MET');

const lines = [
  '',
  `aofkv safety figures${long ? ' (long run)' : ''} (${elapsedSec.toFixed(1)} s)`,
  `  elapsed per suite (module load to last test; suites run side by side in the long run): ` +
    SUITES.map((suite) => `${suite} ${elapsedOf(suite)}`).join(', '),
  ...simulatorLines(),
  ...countdownLines(),
  ...kill9Lines(),
  ...badInputLines(),
  `  untyped errors ${n(untypedErrors)}, hangs ${n(hangs)}, crashes ${n(crashes)}`,
  long
    ? '  long-run targets: ' +
      targets.map((t) => `${t.name} ${n(t.value)} / ${n(t.target)} ${verdict(t)}`).join(', ')
    : `  long-run targets (pnpm test:safety --long): ` +
      targets.map((t) => `${t.name} ${n(t.target)}`).join(', '),
  `  ACKNOWLEDGED WRITES LOST: ${n(lostAcked)}`,
  '',
];
console.log(lines.join('\n'));

for (const book of books.values()) {
  for (const note of book.notes) console.log(`note (${book.suite}): ${note}`);
}
const missing = SUITES.filter((suite) => !books.has(suite));
if (missing.length > 0 && userArgs.length === 0) {
  console.error(`no figures from: ${missing.join(', ')}`);
}
if (long && shortfalls.length > 0) {
  console.error(`long run short of its targets: ${shortfalls.map((t) => t.name).join(', ')}`);
}
const failed =
  vitest.status !== 0 ||
  lostAcked !== 0 ||
  untypedErrors + hangs + crashes !== 0 ||
  (long && shortfalls.length > 0);
process.exitCode = failed ? 1 : 0;
