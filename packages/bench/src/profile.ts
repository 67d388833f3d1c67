// `pnpm bench profile`: where aofkv's write path spends its time. A child process runs one write
// cell (the same harness as the bench) under `node --cpu-prof`; the parent reads the .cpuprofile,
// keeps only the samples inside the measured window (the child prints the window's bounds on the
// monotonic clock V8's profiler also uses, so start-up, module loading and the warm-up are left
// out) and aggregates them by function and file:
//   self       samples whose top frame is the function
//   inclusive  samples with the function anywhere on the stack (counted once per sample)
// plus a breakdown by area (engine, bio-workers, bench harness (and tinybench), node internals, GC,
// idle). Line numbers are those of tsx's transpiled output (close to, not equal to, the source).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { openEngine } from '@aofkv/engine';
import { AofkvSystem, type AofkvMode } from './systems/aofkv.ts';
import { collectGarbage, measureClosedLoop, progress } from './harness.ts';
import { copyDataset, generateDataset } from './scenarios/dataset.ts';
import { backgroundLoad } from './scenarios/load-rewrite.ts';
import type { Workload } from './workload.ts';

export type ProfileTarget = 'write' | 'load' | 'rewrite';

export interface ProfileOptions {
  /**
   * write: one write cell; load: openEngine on a generated AOF; rewrite: BGREWRITEAOF under load.
   */
  target: ProfileTarget;
  keys: number;
  policy: AofkvMode;
  inFlight: number;
  workload: Workload;
  seconds: number;
  outDir: string;
  dataDir: string;
  child: boolean;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  /** µs on the monotonic clock (CLOCK_MONOTONIC, as process.hrtime). */
  startTime?: number;
}

/** The measured window, in µs of process.hrtime (printed by the child as `WINDOW start end`). */
export interface ProfileWindow {
  startUs: number;
  endUs: number;
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

export async function runProfile(o: ProfileOptions): Promise<string> {
  if (o.child) return runChild(o);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const what =
    o.target === 'write' ? `${o.policy}-${o.workload}-${o.inFlight}` : `${o.target}-${o.keys}`;
  const dir = path.resolve(o.outDir, `profile-${what}-${stamp}`);
  fs.mkdirSync(dir, { recursive: true });
  const main = fileURLToPath(new URL('./main.ts', import.meta.url));
  const args = [
    '--cpu-prof',
    '--cpu-prof-dir',
    dir,
    '--cpu-prof-interval',
    '200',
    '--import',
    'tsx',
    '--conditions=@aofkv/source',
    main,
    'profile',
    '--child',
    '--target',
    o.target,
    '--keys',
    String(o.keys),
    '--policy',
    o.policy,
    '--in-flight',
    String(o.inFlight),
    '--workload',
    o.workload,
    '--seconds',
    String(o.seconds),
    '--data-dir',
    o.dataDir,
  ];
  progress(`profile: node ${args.join(' ')}`);
  const childOut = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: path.dirname(main),
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`profile child exited ${code}`)),
    );
  });
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  // The profile of the main thread is the largest (worker threads write their own files).
  const biggest = files
    .map((f) => path.join(dir, f))
    .sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
  if (biggest === undefined) throw new Error(`no .cpuprofile written in ${dir}`);
  const profile = JSON.parse(fs.readFileSync(biggest, 'utf8')) as CpuProfile;
  const m = /^WINDOW (\d+) (\d+)$/m.exec(childOut);
  const window = m === null ? null : { startUs: Number(m[1]), endUs: Number(m[2]) };
  const report = childOut.replace(/^WINDOW .*$/m, '').trim();
  return (
    `${report}\n\n${analyzeProfile(profile, window)}\n\n` +
    `Profile: ${biggest} (open in Chrome DevTools › Performance, or speedscope)`
  );
}

async function runChild(o: ProfileOptions): Promise<string> {
  if (o.target !== 'write') return runChildDataset(o);
  const dir = fs.mkdtempSync(path.join(o.dataDir, 'aofkv-profile-'));
  const sys = await AofkvSystem.open(o.policy, dir);
  try {
    await measureClosedLoop(sys.makeOp(o.workload, 7), { inFlight: o.inFlight, durationMs: 300 });
    await sys.beginWindow();
    const startUs = nowUs();
    const m = await measureClosedLoop(sys.makeOp(o.workload, 8), {
      inFlight: o.inFlight,
      durationMs: o.seconds * 1000,
    });
    const endUs = nowUs();
    const c = await sys.endWindow();
    return (
      `WINDOW ${startUs} ${endUs}\n` +
      `# Profile: aofkv ${sys.mode}, ${o.workload} @${o.inFlight} in flight, ${o.seconds} s\n\n` +
      `${Math.round(m.opsPerSec).toLocaleString('en-US')} ops/s, ` +
      `p50 ${m.latency.p50.toFixed(3)} ms, p99 ${m.latency.p99.toFixed(3)} ms, ` +
      `CPU ${m.cpuUsPerOp.toFixed(2)} µs/op (all threads), ${c.fsyncs ?? 0} fsyncs, ` +
      `event loop max ${m.eventLoopMaxMs.toFixed(1)} ms`
    );
  } finally {
    await sys.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * load / rewrite: generate the dataset outside the window, then profile the open or the rewrite.
 */
async function runChildDataset(o: ProfileOptions): Promise<string> {
  const root = fs.mkdtempSync(path.join(o.dataDir || os.tmpdir(), 'aofkv-profile-'));
  try {
    const ds = await generateDataset(path.join(root, 'dataset'), o.keys);
    const dir = copyDataset(ds, path.join(root, 'engine'));
    collectGarbage();
    let startUs = nowUs();
    const t0 = performance.now();
    const engine = await openEngine({ dir, appendfsync: 'everysec', autoAofRewritePercentage: 0 });
    const loadMs = performance.now() - t0;
    let endUs = nowUs();
    let line =
      `load ${loadMs.toFixed(0)} ms, ${(ds.aofBytes / 1e6 / (loadMs / 1000)).toFixed(1)} MB/s, ` +
      `${Math.round(ds.keys / (loadMs / 1000)).toLocaleString('en-US')} keys/s`;
    if (o.target === 'rewrite') {
      const db = engine.db(0);
      const load = backgroundLoad(db, ds.stringKeys);
      startUs = nowUs();
      const t1 = performance.now();
      await db.command('bgrewriteaof');
      await engine.aof!.waitForRewrite();
      const rewriteMs = (performance.now() - t1).toFixed(0);
      line = `BGREWRITEAOF under a 64-in-flight SET load: ${rewriteMs} ms`;
      endUs = nowUs();
      const { ops } = await load.stop();
      line += `, ${ops.toLocaleString('en-US')} SETs meanwhile`;
    }
    await engine.close();
    return (
      `WINDOW ${startUs} ${endUs}\n# Profile: aofkv ${o.target}, ` +
      `${ds.keys.toLocaleString('en-US')} keys, ${(ds.aofBytes / 1e6).toFixed(1)} MB\n\n${line}`
    );
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

function shortUrl(url: string): string {
  const m = /packages\/([^/]+)\/src\/(.*)$/.exec(url);
  if (m !== null) return `${m[1]}/${m[2]}`;
  const nm = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (nm !== null) return `npm:${nm[1]}`;
  if (url.startsWith('node:')) return url;
  return url === '' ? '(native)' : path.basename(url);
}

function area(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)') return 'idle';
  if (fn === '(program)') return 'program (native, unattributed)';
  if (url.includes('/packages/engine/')) return 'engine';
  if (url.includes('/packages/bio-workers/')) return 'bio-workers';
  if (url.includes('/packages/bench/') || url.includes('tinybench'))
    return 'bench harness + tinybench';
  if (url.startsWith('node:') || url === '') return 'node internals / native';
  return 'other';
}

export function analyzeProfile(p: CpuProfile, window: ProfileWindow | null = null): string {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const keyOf = (n: ProfileNode) =>
    `${n.callFrame.functionName || '(anonymous)'} — ` +
    `${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  const areas = new Map<string, number>();
  let total = 0;
  let t = p.startTime ?? 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (window !== null && (t < window.startUs || t > window.endUs)) continue;
    const dt = p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0;
    const node = byId.get(p.samples[i]!);
    if (node === undefined) continue;
    total += dt;
    const k = keyOf(node);
    self.set(k, (self.get(k) ?? 0) + dt);
    const a = area(node.callFrame.url, node.callFrame.functionName);
    areas.set(a, (areas.get(a) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const kk = keyOf(byId.get(id)!);
      if (seen.has(kk)) continue;
      seen.add(kk);
      incl.set(kk, (incl.get(kk) ?? 0) + dt);
    }
  }
  const pct = (v: number) => `${((v / total) * 100).toFixed(1)} %`;
  const top = (m: Map<string, number>, n: number, filter: (k: string) => boolean = () => true) =>
    [...m.entries()]
      .filter(([k]) => filter(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `| ${pct(v)} | ${k} |`);
  const isSource = (k: string) => /— (engine|bio-workers)\//.test(k);
  if (total === 0) return 'No samples in the measured window (clock mismatch?).';
  return [
    `Sampled ${(total / 1000).toFixed(0)} ms of main-thread ` +
      `time${window === null ? '' : ' inside the measured window'}.`,
    '',
    '| area | share |',
    '|---|---|',
    ...[...areas.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `| ${k} | ${pct(v)} |`),
    '',
    '| self | function — file:line |',
    '|---|---|',
    ...top(self, 25),
    '',
    '| inclusive | engine / bio-workers function — file:line |',
    '|---|---|',
    ...top(incl, 25, isSource),
  ].join('\n');
}
