// `pnpm test:safety`: runs the crash simulator and the safety suites, then prints their figures.
//   node --import tsx packages/engine/test/safety/run-safety.ts [extra vitest args]
// Each suite writes its counters to <report dir>/<suite>.json (test/safety/figures.ts); this
// script makes the directory, runs vitest with AOFKV_SAFETY_REPORT_DIR pointing at it, and sums
// up. It fails when vitest fails or when any acknowledged write was lost. SEED, SIM_SEEDS,
// SIM_SEED_BASE, KILL9_RUNS, BAD_INPUT_RUNS, FC_SEED and SIM_STRICT pass through to the suites.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Book {
  suite: string;
  figures: Record<string, number>;
}

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..');
const reportDir = mkdtempSync(join(tmpdir(), 'aofkv-safety-'));
const started = performance.now();
const vitest = spawnSync(
  'npx',
  ['vitest', 'run', '--project', 'engine', 'test/sim', 'test/safety', ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit', env: { ...process.env, AOFKV_SAFETY_REPORT_DIR: reportDir } },
);
const elapsedSec = (performance.now() - started) / 1000;

const books = new Map<string, Record<string, number>>();
for (const file of readdirSync(reportDir).filter((name) => name.endsWith('.json')).sort()) {
  const book = JSON.parse(readFileSync(join(reportDir, file), 'utf8')) as Book;
  books.set(book.suite, book.figures);
}
rmSync(reportDir, { recursive: true, force: true });

const figure = (suite: string, name: string): number => books.get(suite)?.[name] ?? 0;
const sumOf = (suite: string, prefix: string): number =>
  Object.entries(books.get(suite) ?? {})
    .filter(([name]) => name.startsWith(prefix))
    .reduce((total, [, value]) => total + value, 0);

const lostAcked =
  figure('simulator', 'ackedLostViolations') +
  figure('fault-countdown', 'ackedLostViolations') +
  figure('kill9', 'ackedLostViolations');

const lines = [
  '',
  `aofkv safety figures (${elapsedSec.toFixed(1)} s)`,
  `  simulator         seeds run ${figure('simulator', 'seeds')} (always ${figure('simulator', 'seeds_always')}, ` +
    `everysec ${figure('simulator', 'seeds_everysec')}, no ${figure('simulator', 'seeds_no')}), ` +
    `units executed ${figure('simulator', 'unitsExecuted')}, acknowledged ${figure('simulator', 'unitsAcked')}`,
  `                    crash points ${figure('simulator', 'crashes')} (after a clean close ` +
    `${figure('simulator', 'cleanRestarts')}, after a fatal stop ${figure('simulator', 'fatalStops')}), ` +
    `faults injected ${figure('simulator', 'faultsInjected')}, writes refused (MISCONF) ` +
    `${figure('simulator', 'unitsRefused')}, check-aof --fix repairs ${figure('simulator', 'checkAofRepairs')}, ` +
    `files cut by hand ${figure('simulator', 'manualRepairs')}`,
  `                    recoveries checked ${figure('simulator', 'stateChecks')}, units rolled back ` +
    `${figure('simulator', 'unitsRolledBack')} (of them acknowledged, allowed by everysec/no: ` +
    `${figure('simulator', 'ackedLostAllowed')}), torn bytes that parsed ` +
    `${figure('simulator', 'foreignBytesHarmless') + figure('simulator', 'foreignBytesChangedData')} ` +
    `(changed data: ${figure('simulator', 'foreignBytesChangedData')})`,
  '                    KNOWN BUG hits: dangling MULTI after a torn transaction ' +
    `${figure('simulator', 'knownBugDanglingMulti')}`,
  `  fault countdown   scenario variants ${figure('fault-countdown', 'scenarioVariants')}, runs ` +
    `${figure('fault-countdown', 'runs')}, faults injected ${figure('fault-countdown', 'faultsInjected')}, ` +
    `crash points ${figure('fault-countdown', 'crashes')}, outcomes: ok ${figure('fault-countdown', 'outcome ok')}, ` +
    `MISCONF ${figure('fault-countdown', 'outcome misconf')}, fatal ${figure('fault-countdown', 'outcome fatal')}, ` +
    `typed open/close errors ${sumOf('fault-countdown', 'outcome open:') + sumOf('fault-countdown', 'outcome close:')}`,
  `  kill -9           processes killed ${figure('kill9', 'runs')}, acknowledgements seen ` +
    `${figure('kill9', 'ackedSeen')}, commands recovered ${figure('kill9', 'commandsRecovered')}, ` +
    `acknowledged lost under everysec (allowed) ${figure('kill9', 'ackedLostAllowed')}`,
  `  bad input         mutated INCR files ${figure('bad-input', 'mutated INCR files')}, mutated manifests ` +
    `${figure('bad-input', 'mutated manifests')}, cut offsets ${figure('bad-input', 'cut offsets')}, ` +
    `loads ${sumOf('bad-input', 'load ')} (ok ${figure('bad-input', 'load ok')}, typed errors ` +
    `${sumOf('bad-input', 'load ') - figure('bad-input', 'load ok')}), check-aof runs ${sumOf('bad-input', 'check-aof')}`,
  `  ACKNOWLEDGED WRITES LOST: ${lostAcked}`,
  '',
];
console.log(lines.join('\n'));

const missing = ['simulator', 'fault-countdown', 'kill9', 'bad-input'].filter((suite) => !books.has(suite));
if (missing.length > 0 && process.argv.length <= 2) console.error(`no figures from: ${missing.join(', ')}`);
process.exitCode = vitest.status !== 0 || lostAcked !== 0 ? 1 : 0;
