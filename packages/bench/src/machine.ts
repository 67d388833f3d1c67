// What the results were measured on: enough to tell two result files apart and to explain a
// surprising number (a loaded machine, another disk, other package versions).
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import { packageVersion } from './peers/optional.ts';

export interface MachineInfo {
  os: string;
  kernel: string;
  arch: string;
  cpus: number;
  cpuModel: string;
  totalMemBytes: number;
  node: string;
  /** 1-minute load averages when the run started and ended (other tenants show up here). */
  loadAvgStart: number;
  loadAvgEnd: number | null;
  gitCommit: string | null;
  versions: Record<string, string | null>;
}

export async function machineInfo(): Promise<MachineInfo> {
  const names = [
    '@aofkv/engine',
    '@aofkv/bio-workers',
    'tinybench',
    'echarts',
    'lmdb',
    'classic-level',
    'better-sqlite3',
    'piscina',
  ];
  const versions: Record<string, string | null> = {};
  for (const n of names) versions[n] = await packageVersion(n);
  const git = spawnSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' });
  const cpus = os.cpus();
  return {
    os: `${os.type()} ${os.release()}`,
    kernel: os.version(),
    arch: os.arch(),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemBytes: os.totalmem(),
    node: process.version,
    loadAvgStart: os.loadavg()[0]!,
    loadAvgEnd: null,
    gitCommit: git.status === 0 ? git.stdout.trim() : null,
    versions,
  };
}
