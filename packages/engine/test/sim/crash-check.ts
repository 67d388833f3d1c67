// What a crash may take away, and the verdict on what it did take.
//
// DurabilityTracker follows one engine incarnation and maps the AOF byte stream to units of the
// model's history. After each unit runs (synchronously inside submit), the writer's logical end of
// stream — bytes already in the INCR file plus bytes still in aof_buf — is where that unit's
// propagated commands end; aof_buf is written in order, so byte offset B of the INCR file holds
// exactly the units whose end is <= B. From that it derives the FLOOR: the number of units no
// crash may lose, per policy (FAULTS.md "Guarantees"):
//   always    every acknowledged unit (its reply was delivered only after write + fdatasync);
//   everysec  every unit whose bytes end at or before the offset of a COMPLETED background fsync.
//             The offset is the one recorded when the fsync was SUBMITTED (Redis sets
//             aof_last_incr_fsync_offset at submission), counted only once the job finished
//             without error. InlineBio really syncs at finish time, so more may be durable: this is
//             a lower bound, correct under both semantics;
//   no        nothing beyond what was durable when the incarnation started;
// and for every policy: everything present when the incarnation started (a crash leaves visible ==
// durable), and everything after a clean close (close flushes and fsyncs).
//
// judgeRecovery() compares the INCR file as the engine wrote it (`intended`, the visible bytes just
// before the crash) with what the crash left (`survived`) and with how much of it the loader
// accepted (`loadedBytes`, the file size once the engine reopened, after its truncation of a torn
// tail or after a check-aof --fix):
//   loadedBytes <= common prefix  →  the loaded commands are exactly a prefix of what was written,
//                                    so the state must equal the model after unitsAt(loadedBytes)
//                                    units, and that must be >= the floor;
//   loadedBytes >  common prefix  →  the loader accepted bytes the engine never wrote (a torn write
//                                    whose garbage or zero-filled hole still parses: the format has
//                                    no checksum, Redis is the same). Then only the bytes before the
//                                    damage are trustworthy, and they must still cover the floor.

import type { BioEvent } from '@aofkv/bio-workers';
import type { FsyncPolicy } from '@aofkv/engine';

/** After `units` units of the history, the stream of the INCR file ends at `offsetBytes`. */
interface Mark {
  readonly offsetBytes: number;
  readonly units: number;
}

export class DurabilityTracker {
  readonly fileName: string;
  readonly #marks: Mark[];
  readonly #startUnits: number;
  /** Per history index: was this unit acknowledged (reply delivered)? */
  readonly #acked: boolean[] = [];
  #ackedUnits: number;
  #bioDurableOffsetBytes: number;
  #allDurableUnits = 0;
  readonly #submittedFsyncs = new Map<number, number>();

  /**
   * A new incarnation: the first `units` units are in the file's first `offsetBytes` bytes, of
   * which the last `offsetBytes - commandsEndBytes` hold no command (annotations only: a torn
   * `#TS:` line the loader kept, which a later load may cut without losing anything).
   */
  constructor(fileName: string, offsetBytes: number, units: number, commandsEndBytes = offsetBytes) {
    this.fileName = fileName;
    this.#marks = [{ offsetBytes: commandsEndBytes, units }];
    if (commandsEndBytes !== offsetBytes) this.#marks.push({ offsetBytes, units });
    this.#startUnits = units;
    this.#ackedUnits = units;
    this.#bioDurableOffsetBytes = offsetBytes;
    for (let i = 0; i < units; i++) this.#acked.push(false);
  }

  get units(): number {
    return this.#marks[this.#marks.length - 1]!.units;
  }

  /** A unit ran; its propagated bytes (possibly none) end at `streamEndBytes`. Returns its index. */
  recordUnit(streamEndBytes: number): number {
    const last = this.#marks[this.#marks.length - 1]!;
    if (streamEndBytes < last.offsetBytes) {
      throw new Error(`AOF stream went backwards: ${streamEndBytes} < ${last.offsetBytes}`);
    }
    this.#marks.push({ offsetBytes: streamEndBytes, units: last.units + 1 });
    this.#acked.push(false);
    return last.units;
  }

  /** The reply of unit `index` was delivered (not refused, not lost to a fatal stop). */
  recordAck(index: number): void {
    this.#acked[index] = true;
    this.#ackedUnits = Math.max(this.#ackedUnits, index + 1);
  }

  /** Observer for the incarnation's InlineBio; `writtenBytes` reads aof_last_incr_size. */
  onBioEvent(event: BioEvent, writtenBytes: () => number): void {
    if (event.type !== 'aofFsync') return;
    if (event.phase === 'submit') {
      // Emitted inside submitFsync, right before the writer sets its fsync offset to this size.
      this.#submittedFsyncs.set(event.jobId, writtenBytes());
    } else if (event.phase === 'finish') {
      const offsetBytes = this.#submittedFsyncs.get(event.jobId);
      this.#submittedFsyncs.delete(event.jobId);
      if (offsetBytes !== undefined && event.error === undefined) {
        this.#bioDurableOffsetBytes = Math.max(this.#bioDurableOffsetBytes, offsetBytes);
      }
    }
  }

  /** A clean close flushed and fsynced everything. */
  markAllDurable(): void {
    this.#allDurableUnits = this.units;
  }

  /** Units no crash may lose now, under `policy`. */
  floorUnits(policy: FsyncPolicy): number {
    let floor = Math.max(this.#startUnits, this.#allDurableUnits);
    if (policy === 'always') floor = Math.max(floor, this.#ackedUnits);
    // Completed background fsyncs count under any policy (only everysec submits them).
    floor = Math.max(floor, this.unitsAt(this.#bioDurableOffsetBytes) ?? this.#startUnits);
    return floor;
  }

  /** Units whose bytes all lie within the first `offsetBytes` bytes; null if before the start. */
  unitsAt(offsetBytes: number): number | null {
    let units: number | null = null;
    for (const mark of this.#marks) {
      if (mark.offsetBytes > offsetBytes) break;
      units = mark.units;
    }
    return units;
  }

  /** Where the bytes of the first `units` units end. */
  offsetOf(units: number): number {
    const mark = this.#marks.find((m) => m.units === units);
    if (mark === undefined) throw new Error(`no mark for ${units} units`);
    return mark.offsetBytes;
  }

  /** Acknowledged units at index >= `units` (lost if the recovered state has `units` units). */
  ackedFrom(units: number): number {
    return this.#acked.slice(units).filter(Boolean).length;
  }
}

export interface RecoveryEvidence {
  /** The INCR file as the engine had written it (visible bytes before the crash). */
  intended: Buffer;
  /** The INCR file right after the crash, before the loader looked at it. */
  survived: Buffer;
  /** Size of the INCR file once the engine reopened (after load truncation or check-aof --fix). */
  loadedBytes: number;
}

export type Verdict =
  /** The loaded bytes are exactly a prefix of what was written: state must be model[units]. */
  | { kind: 'prefix'; units: number; floor: number }
  /** The loader accepted bytes never written, after `trustedBytes`; the floor is still intact. */
  | { kind: 'foreign-bytes'; trustedUnits: number; candidateUnits: number | null; floor: number; trustedBytes: number }
  /** A guarantee was broken. */
  | { kind: 'violation'; message: string; floor: number };

export function commonPrefixBytes(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

export function judgeRecovery(
  tracker: DurabilityTracker,
  policy: FsyncPolicy,
  evidence: RecoveryEvidence,
): Verdict {
  const floor = tracker.floorUnits(policy);
  const trustedBytes = commonPrefixBytes(evidence.intended, evidence.survived);
  const { loadedBytes } = evidence;
  if (loadedBytes <= trustedBytes) {
    const units = tracker.unitsAt(loadedBytes);
    if (units === null || units < floor) {
      return {
        kind: 'violation',
        floor,
        message:
          `recovered ${units ?? 'less than the start of this incarnation: no'} units but ${floor} ` +
          `were guaranteed under ${policy} (loaded ${loadedBytes} bytes; the floor ends at byte ` +
          `${tracker.offsetOf(floor)}; ${tracker.ackedFrom(units ?? 0)} acknowledged units lost)`,
      };
    }
    return { kind: 'prefix', units, floor };
  }
  const trustedUnits = tracker.unitsAt(trustedBytes);
  if (trustedUnits === null || trustedUnits < floor) {
    return {
      kind: 'violation',
      floor,
      message:
        `bytes the engine never wrote were loaded from offset ${trustedBytes}, before the end ` +
        `of the guaranteed units (${floor} units, up to byte ${tracker.offsetOf(floor)}) under ${policy}`,
    };
  }
  const candidateUnits = loadedBytes <= evidence.intended.length ? tracker.unitsAt(loadedBytes) : null;
  return { kind: 'foreign-bytes', trustedUnits, candidateUnits, floor, trustedBytes };
}

export interface AofScan {
  /** Offset after the last complete command (annotations after it do not count). */
  lastCommandEnd: number;
  /** Where the MULTI starts if the bytes end inside a MULTI block, else null. */
  danglingMultiStart: number | null;
}

/**
 * Scans a file the loader accepted whole. Lines are read like the loader reads them (fgets of at
 * most 1023 bytes), so a torn `#TS:` annotation at the very end, which the loader skips as a
 * whole line, is skipped here too.
 */
export function scanAof(bytes: Buffer): AofScan {
  let position = 0;
  let lastCommandEnd = 0;
  let danglingMultiStart: number | null = null;
  const line = (): string => {
    const limit = Math.min(bytes.length, position + 1023);
    const newline = bytes.subarray(position, limit).indexOf(10);
    const end = newline === -1 ? limit : position + newline + 1;
    const text = bytes.toString('latin1', position, end);
    position = end;
    return text;
  };
  while (position < bytes.length) {
    const start = position;
    const header = line();
    if (header.startsWith('#')) continue;
    const argc = Number.parseInt(header.slice(1), 10);
    let name = '';
    for (let i = 0; i < argc; i++) {
      const length = Number.parseInt(line().slice(1), 10);
      if (i === 0) name = bytes.toString('latin1', position, position + length).toLowerCase();
      position += length + 2;
    }
    lastCommandEnd = position;
    if (name === 'multi') danglingMultiStart = start;
    else if (name === 'exec') danglingMultiStart = null;
  }
  return { lastCommandEnd, danglingMultiStart };
}
