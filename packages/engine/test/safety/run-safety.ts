// `pnpm test:safety`: runs the crash simulator and the safety suites, then prints their figures.
//   node --import tsx packages/engine/test/safety/run-safety.ts [extra vitest args]
// Each suite writes its counters to <report dir>/<suite>.json (test/safety/figures.ts); this
// script makes the directory, runs vitest with AOFKV_SAFETY_REPORT_DIR pointing at it, and sums
// up. It fails when vitest fails or when any acknowledged write was lost. SEED, SIM_SEEDS,
// SIM_SEED_BASE, SIM_TRACE_FS, KILL9_RUNS, KILL9_SEED, BAD_INPUT_RUNS and FC_SEED pass through to the suites.

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
  '                    dangling MULTI after a torn transaction (fixed; the driver fails on one) ' +
    `${figure('simulator', 'knownBugDanglingMulti')}`,
  `  rewrites (sim)    started ${figure('simulator', 'rewritesStarted')} (automatic ${figure('simulator', 'rewritesAuto')}), ` +
    `refused at start ${figure('simulator', 'rewritesStartFailed')}, completed ${figure('simulator', 'rewritesCompleted')} ` +
    `(new base loaded alone = model at its INCR's start: ${figure('simulator', 'basesChecked')}), failed ` +
    `${figure('simulator', 'rewritesFailed')}, crashed during ${figure('simulator', 'crashesDuringRewrite')}; ` +
    `recoveries of a manifest with several INCRs ${figure('simulator', 'recoveriesMultiIncr')}`,
  `                    power cuts ${figure('simulator', 'powerCuts')} (${figure('simulator', 'powerCutsInRewrite')} in a rewrite), ` +
    `cut at: temp base open ${figure('simulator', 'cutTempOpen')}, walk/base write+fsync ${figure('simulator', 'cutTempWrite')}, ` +
    `base rename ${figure('simulator', 'cutBaseRename')}, manifest persist ${figure('simulator', 'cutManifest')}, ` +
    `history/temp unlink ${figure('simulator', 'cutUnlink')}, other opens ${figure('simulator', 'cutOpen')}, ` +
    `INCR write/fsync ${figure('simulator', 'cutIncrIo')}, other ${figure('simulator', 'cutOther')}`,
  `  fault countdown   scenario variants ${figure('fault-countdown', 'scenarioVariants')}, runs ` +
    `${figure('fault-countdown', 'runs')}, faults injected ${figure('fault-countdown', 'faultsInjected')}, ` +
    `crash points ${figure('fault-countdown', 'crashes')}, outcomes: ok ${figure('fault-countdown', 'outcome ok')}, ` +
    `MISCONF ${figure('fault-countdown', 'outcome misconf')}, fatal ${figure('fault-countdown', 'outcome fatal')}, ` +
    `typed open/close errors ${sumOf('fault-countdown', 'outcome open:') + sumOf('fault-countdown', 'outcome close:')}`,
  `                    rewrite rows (start, start in a turn, walk, rename, manifest, history): runs ` +
    `${sumOf('fault-countdown', 'runs rewrite')}, rewrites ok ${figure('fault-countdown', 'outcome rewrite:ok')}, ` +
    `aof_last_bgrewrite_status:err ${figure('fault-countdown', 'outcome rewrite:err')}, temp bases left after a refused unlink ` +
    `${figure('fault-countdown', 'tempBaseLeftAfterFailedUnlink')}`,
  `  kill -9           processes killed ${figure('kill9', 'runs')}, acknowledgements seen ` +
    `${figure('kill9', 'ackedSeen')}, commands recovered ${figure('kill9', 'commandsRecovered')}, ` +
    `acknowledged lost under everysec (allowed) ${figure('kill9', 'ackedLostAllowed')}`,
  `                    rewrites started ${figure('kill9', 'rewritesStarted')}, completed ${figure('kill9', 'rewritesDone')}, ` +
    `failed ${figure('kill9', 'rewritesFailed')}; killed at a manifest switch ${figure('kill9', 'kills_start')}, ` +
    `inside a rewrite ${figure('kill9', 'kills_during')}, right after one ${figure('kill9', 'kills_done')}, ` +
    `on an acknowledgement ${figure('kill9', 'kills_ack')} (with a rewrite running: ${figure('kill9', 'killedDuringRewrite')} of all)`,
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
