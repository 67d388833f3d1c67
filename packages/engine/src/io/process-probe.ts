// Who a process is, and whether the process a lock file names still runs: the directory lock's
// only door to the operating system's process table (the simulator passes its own).
//
// DESIGN
// - An identity is more than a pid, because pids are reused: {pid, host, startTime, bootId}.
//   On Linux, startTime is field 22 of /proc/<pid>/stat (clock ticks since boot, fixed for the
//   life of a process) and bootId is /proc/sys/kernel/random/boot_id (new at every boot). A pid
//   that runs now with another start time, or any pid named by a lock of an earlier boot, is
//   another process: the holder is dead.
// - Liveness has three answers. 'dead' only when that is certain (a different boot, no such pid,
//   a zombie, a different start time). 'unknown' when this host cannot tell (the lock was taken on
//   another host, e.g. over a network file system): the lock treats it as alive and never
//   displaces it. Without /proc (not Linux), a running pid counts as alive.

import fs from 'node:fs';
import os from 'node:os';

export interface ProcessIdentity {
  readonly pid: number;
  readonly host: string;
  /** /proc/<pid>/stat starttime, as text; '' when it cannot be read. */
  readonly startTime: string;
  /** /proc/sys/kernel/random/boot_id; '' when it cannot be read. */
  readonly bootId: string;
}

export type Liveness = 'alive' | 'dead' | 'unknown';

export interface ProcessProbe {
  /** This process. */
  self(): ProcessIdentity;
  /** Whether the process `holder` names still runs (see DESIGN). */
  liveness(holder: ProcessIdentity): Liveness;
}

/** A FileSystem that knows the boot of the machine it belongs to (SimFileSystem does). */
export interface MachineBootSource {
  readonly bootId: string;
}

export function hasMachineBoot(value: object): value is MachineBootSource {
  return typeof (value as Partial<MachineBootSource>).bootId === 'string';
}

/** The real process table. `bootId` overrides the machine's boot id (a simulated disk's). */
export class NodeProcessProbe implements ProcessProbe {
  readonly #bootId: () => string;
  #self: ProcessIdentity | null = null;

  constructor(bootId?: () => string) {
    this.#bootId = bootId ?? readBootId;
  }

  self(): ProcessIdentity {
    this.#self ??= {
      pid: process.pid,
      host: os.hostname(),
      startTime: readStartTime(process.pid) ?? '',
      bootId: this.#bootId(),
    };
    return { ...this.#self, bootId: this.#bootId() };
  }

  liveness(holder: ProcessIdentity): Liveness {
    const me = this.self();
    if (holder.host !== me.host) return 'unknown';
    if (holder.bootId !== '' && me.bootId !== '' && holder.bootId !== me.bootId) return 'dead';
    if (!pidExists(holder.pid)) return 'dead';
    const stat = readProcStat(holder.pid);
    if (stat === null) return 'alive'; // no /proc: a running pid is all we can know
    if (stat.state === 'Z' || stat.state === 'X') return 'dead';
    if (holder.startTime !== '' && stat.startTime !== holder.startTime) return 'dead';
    return 'alive';
  }
}

function pidExists(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readBootId(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim();
  } catch {
    return '';
  }
}

function readStartTime(pid: number): string | null {
  return readProcStat(pid)?.startTime ?? null;
}

/** State (field 3) and starttime (field 22) of /proc/<pid>/stat; null without /proc. */
function readProcStat(pid: number): { state: string; startTime: string } | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // Field 2 (comm) is in parentheses and may hold spaces or ')': split after the LAST ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const startTime = fields[19];
  if (state === undefined || startTime === undefined) return null;
  return { state, startTime };
}
