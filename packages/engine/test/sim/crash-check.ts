// What a crash may take away, and the verdict on what it did take.
//
// DurabilityTracker follows one engine incarnation and maps the AOF byte stream to units of the
// model's history, file by file. The stream goes to whichever INCR file is current (the last `i`
// entry of the manifest); a rewrite switches to a new INCR file and, when it succeeds, a new BASE
// replaces everything before that INCR. So the tracker keeps one SEGMENT per INCR file: the number
// of units whose bytes lie in earlier files (`startUnits`) and marks "after u units, this file's
// stream ends at byte B". After each unit runs (synchronously inside submit), the writer's logical
// end of stream — bytes already in the current INCR plus bytes still in aof_buf — is where that
// unit's propagated commands end. aof_buf is written in order, so byte B of an INCR file holds
// exactly the units whose end is <= B. At a switch (sim-machine.ts onIncrSwitch) the old file's
// stream ends at aof_last_incr_size; bytes still in aof_buf go to the new file.
//
// The BASE a rewrite produces is the dataset when its new INCR began, i.e. after the startUnits of
// the first INCR the manifest lists with it. So a recovered manifest [base, F1, ..., Fk] must load
// exactly: startUnits(F1), then every unit of F1..F(k-1) in full, then a prefix of Fk.
//
// The FLOOR is the number of units no crash may lose, per policy (FAULTS.md "Guarantees"):
//   always    every acknowledged unit (its reply was delivered only after write + fdatasync);
//   everysec  every unit whose bytes end at or before the offset of a COMPLETED fsync OF ITS OWN
//             FILE. A background fsync job counts with the offset recorded when it was SUBMITTED
//             (Redis sets aof_last_incr_fsync_offset at submission), once it finished without
//             error; the bio close-with-fsync job of an INCR a rewrite left counts for that file's
//             whole content, once its fdatasync succeeded. Whatever the semantics of the simulated
//             bio, this is a lower bound. An fsync covers only the file it was issued for: a unit
//             of a new INCR that is covered makes the floor include every earlier unit, in older
//             INCR files too ("some prefix containing every fsync-covered unit");
//   no        the same fsync credit (only the close jobs and clean closes fsync anything);
// and for every policy: everything loaded when the incarnation started (a crash leaves visible ==
// durable), and everything after a clean close (close flushes and fsyncs).
//
// judgeRecovery() compares, per INCR file of the recovered manifest, the file as the engine wrote
// it (`intended`, the visible bytes just before the crash) with what the crash left (`survived`)
// and with how much of it the loader accepted (`loadedBytes`, the file size once the engine
// reopened, after its truncation of a torn tail or after a check-aof --fix):
//   loadedBytes <= common prefix  →  the loaded commands are exactly a prefix of what was written
//                                    to that file;
//   loadedBytes >  common prefix  →  the loader accepted bytes the engine never wrote (a torn write
//                                    whose garbage or zero-filled hole still parses: the format has
//                                    no checksum, Redis is the same). Then only the bytes before
//                                    the damage are trustworthy, and they must still cover the
//                                    floor.
// A file that is not the last one and did not load in full is a GAP unless every later file
// loaded no command: the keyspace would be "prefix of Fj, then Fj+1" — no prefix of the history.

import type { BioEvent } from '@aofkv/bio-workers';

/** After `units` units of the history, the stream of the file ends at `offsetBytes`. */
interface Mark {
  readonly offsetBytes: number;
  readonly units: number;
}

/** One INCR file as this incarnation knows it. */
class Segment {
  readonly fileName: string;
  /** Units whose bytes are in earlier files (for a base + this file: the base's units). */
  readonly startUnits: number;
  /** Where this incarnation's knowledge of the file begins (its size when opened or created). */
  readonly firstOffsetBytes: number;
  readonly marks: Mark[];
  /** Bytes made durable by a completed fsync of this file (what the incarnation found counts). */
  syncedBytes: number;
  /** The size the file was left at by a switch to a newer INCR (null while current). */
  finalSizeBytes: number | null = null;

  constructor(fileName: string, startUnits: number, firstOffsetBytes: number, marks: Mark[]) {
    this.fileName = fileName;
    this.startUnits = startUnits;
    this.firstOffsetBytes = firstOffsetBytes;
    this.marks = marks;
    this.syncedBytes = firstOffsetBytes;
  }

  get lastMark(): Mark {
    return this.marks[this.marks.length - 1]!;
  }

  /** The same stream under another name (the first rewrite renames its temp INCR). */
  renamed(fileName: string): Segment {
    const copy = new Segment(fileName, this.startUnits, this.firstOffsetBytes, this.marks);
    copy.syncedBytes = this.syncedBytes;
    copy.finalSizeBytes = this.finalSizeBytes;
    return copy;
  }

  /** Units whose bytes all lie within the first `offsetBytes` bytes; null if before our start. */
  unitsAt(offsetBytes: number): number | null {
    let units: number | null = null;
    for (const mark of this.marks) {
      if (mark.offsetBytes > offsetBytes) break;
      units = mark.units;
    }
    return units;
  }

  /** Units no crash may lose because an fsync of this file covered them (null: none). */
  fsyncFloor(): number | null {
    return this.syncedBytes > this.firstOffsetBytes ? this.unitsAt(this.syncedBytes) : null;
  }
}

/** How an incarnation begins: the recovered manifest's INCR files, in order. */
export interface IncarnationFile {
  fileName: string;
  /** Units loaded before this file (the base's units for the first). */
  startUnits: number;
  sizeBytes: number;
}

export class DurabilityTracker {
  readonly #segments = new Map<string, Segment>();
  /** The file the writer appends to; null while no file receives the stream (AOF off). */
  #current: Segment | null;
  readonly #startUnits: number;
  /** Units of the history (all executed units of the lineage). */
  #units: number;
  /** Per history index: was this unit acknowledged (reply delivered)? */
  readonly #acked: boolean[] = [];
  /** One past the last unit acknowledged under always while the AOF was ON (see recordAck). */
  #coveredUnits: number;
  /** Acknowledged under always while WAIT_REWRITE: covered once that first rewrite installs. */
  #pendingCoverUnits = 0;
  #allDurableUnits = 0;
  /** Units acknowledged before an engine.waitAof() that resolved (issue 15). */
  #waitedUnits = 0;
  /** Units made durable by an installed base (the dataset it holds). */
  #baseDurableUnits = 0;
  /** Switches of the writer's file seen (a new temp INCR may reuse the old one's name). */
  #switches = 0;
  /** Units each base this lineage knows holds (its dataset), by file name. */
  readonly #baseUnits = new Map<string, number>();
  /** Open fds of this incarnation's INCR files (the current one, and old ones until closed). */
  readonly #fdSegments = new Map<number, Segment>();
  readonly #submittedFsyncs = new Map<number, { segment: Segment; offsetBytes: number }>();
  readonly #closeJobs = new Map<number, Segment>();

  /**
   * A new incarnation: `units` units are loaded from `files` (the manifest's INCR list) on top of
   * `base` (null: none). The writer appends to the last file through `fd`, or to nothing (`fd`
   * -1: the AOF is off or waits for its first rewrite). The last file's final
   * `sizeBytes - commandsEndBytes` bytes hold no command (annotations only: a torn `#TS:` line the
   * loader kept, which a later load may cut without losing anything).
   */
  constructor(
    files: readonly IncarnationFile[],
    units: number,
    fd: number,
    commandsEndBytes: number,
    base: string | null = null,
  ) {
    files.forEach((file, i) => {
      const last = i === files.length - 1;
      const endUnits = last ? units : files[i + 1]!.startUnits;
      const marks: Mark[] = [];
      if (last && commandsEndBytes !== file.sizeBytes)
        marks.push({ offsetBytes: commandsEndBytes, units });
      marks.push({ offsetBytes: file.sizeBytes, units: endUnits });
      const first = last ? Math.min(commandsEndBytes, file.sizeBytes) : file.sizeBytes;
      const segment = new Segment(file.fileName, file.startUnits, first, marks);
      segment.syncedBytes = file.sizeBytes;
      if (!last) segment.finalSizeBytes = file.sizeBytes;
      this.#segments.set(file.fileName, segment);
    });
    if (base !== null) this.#baseUnits.set(base, files[0]?.startUnits ?? units);
    const lastFile = files[files.length - 1];
    this.#current =
      fd === -1 || lastFile === undefined ? null : this.#segments.get(lastFile.fileName)!;
    if (this.#current !== null) this.#fdSegments.set(fd, this.#current);
    this.#startUnits = units;
    this.#units = units;
    this.#coveredUnits = units;
    for (let i = 0; i < units; i++) this.#acked.push(false);
  }

  get units(): number {
    return this.#units;
  }

  /** How many times the writer changed files in this incarnation. */
  get switches(): number {
    return this.#switches;
  }

  /** Name of the file the stream goes to, or null while the AOF is off. */
  get currentFileName(): string | null {
    return this.#current?.fileName ?? null;
  }

  /**
   * Names of the INCR files this incarnation knows (any of them may be in a recovered manifest).
   */
  get fileNames(): string[] {
    return [...this.#segments.keys()];
  }

  segment(fileName: string): Segment | undefined {
    return this.#segments.get(fileName);
  }

  /** Units the base `fileName` holds, if this lineage knows that base. */
  baseUnits(fileName: string): number | undefined {
    return this.#baseUnits.get(fileName);
  }

  /**
   * A unit ran; its propagated bytes (possibly none) end at `streamEndBytes` of the current file
   * (ignored while the AOF is off: the unit is in no file). Returns its history index.
   */
  recordUnit(streamEndBytes: number): number {
    const index = this.#units++;
    this.#acked.push(false);
    const current = this.#current;
    if (current === null) return index;
    const last = current.lastMark;
    if (streamEndBytes < last.offsetBytes) {
      throw new Error(
        `AOF stream went backwards in ${current.fileName}: ${streamEndBytes} < ${last.offsetBytes}`,
      );
    }
    if (streamEndBytes === last.offsetBytes) {
      // A unit that propagated nothing is present exactly when the unit before it is: it counts
      // from where that one's bytes end, not from the stream's end, which may lie past annotation
      // bytes (a `#TS:` line a repair left after the last command) that a later load may cut.
      const marks = current.marks;
      let first = marks.length - 1;
      while (first > 0 && marks[first - 1]!.units === last.units) first--;
      for (let i = first; i < marks.length; i++) marks[i] = { ...marks[i]!, units: this.#units };
      return index;
    }
    current.marks.push({ offsetBytes: streamEndBytes, units: this.#units });
    return index;
  }

  /**
   * The reply of unit `index` was delivered. Under appendfsync always it was written and
   * fsynced first: no crash may lose it when the AOF was ON (`aofState` 'on'); in WAIT_REWRITE it
   * went to the temp INCR and is covered once the first rewrite installs it; while the AOF is off
   * nothing covers it (it will be in the base of the next first rewrite).
   */
  recordAck(index: number, always: boolean, aofState: 'on' | 'wait-rewrite' | 'off'): void {
    this.#acked[index] = true;
    if (!always) return;
    if (aofState === 'on') this.#coveredUnits = Math.max(this.#coveredUnits, index + 1);
    else if (aofState === 'wait-rewrite')
      this.#pendingCoverUnits = Math.max(this.#pendingCoverUnits, index + 1);
  }

  /**
   * The writer left its file for `toFileName` (fd `toFd`; null: no file any more, the AOF was
   * turned off). The old file's stream ends at `fromSizeBytes`; units whose bytes were still in
   * aof_buf (`bufferedBytes`) land in the new file. A switch from no file (the first rewrite after
   * appendonly yes) starts the new file after every unit so far: they are all in its base.
   */
  switchIncr(
    fromFd: number,
    fromSizeBytes: number,
    toFd: number,
    toFileName: string | null,
    bufferedBytes: number,
  ): void {
    this.#switches++;
    const old =
      this.#current !== null && this.#fdSegments.get(fromFd) === this.#current
        ? this.#current
        : null;
    let startUnits = this.#units;
    let moved: Mark[] = [];
    if (old !== null) {
      // The stream may have grown past the last unit (the cron's active expiry propagates DELs).
      if (old.lastMark.offsetBytes > fromSizeBytes + bufferedBytes) {
        throw new Error(
          `switch from ${old.fileName}: the last unit ends at ${old.lastMark.offsetBytes}, ` +
            `but the writer's stream ends at ${fromSizeBytes} + ${bufferedBytes} buffered`,
        );
      }
      // Units entirely within the old file's bytes stay there; the rest move, shifted, to the new
      // file.
      const keep = old.marks.filter((m) => m.offsetBytes <= fromSizeBytes);
      moved = old.marks.slice(keep.length);
      startUnits = keep[keep.length - 1]?.units ?? old.startUnits;
      old.marks.length = keep.length;
      if (old.marks.length === 0)
        old.marks.push({ offsetBytes: old.firstOffsetBytes, units: old.startUnits });
      old.finalSizeBytes = fromSizeBytes;
      this.#fdSegments.set(fromFd, old);
    }
    if (toFileName === null) {
      // The AOF was turned off: what was buffered is discarded, not written anywhere.
      this.#current = null;
      return;
    }
    const next = new Segment(toFileName, startUnits, 0, [
      { offsetBytes: 0, units: startUnits },
      ...moved.map((m) => ({ offsetBytes: m.offsetBytes - fromSizeBytes, units: m.units })),
    ]);
    this.#segments.set(toFileName, next);
    this.#current = next;
    this.#fdSegments.set(toFd, next);
  }

  /**
   * A rewrite renamed its temp base to `baseFile`, which holds the first `units` units. Not yet a
   * guarantee (that is baseInstalled), but what that base holds if a crash brings back a manifest
   * naming it: a done handler can fail after its manifest's rename (the directory fsync, then the
   * restore, failed), and the power cut may then keep that manifest.
   */
  baseWritten(baseFile: string, units: number): void {
    this.#baseUnits.set(baseFile, units);
  }

  /**
   * A rewrite installed base `baseFile`, holding the first `units` units, in a persisted
   * manifest (base fsynced, renamed, directory fsynced): no crash may lose those units. When it
   * was the first rewrite after appendonly yes, its temp INCR `fromTemp` is now `toIncr`, and the
   * writes acknowledged under always in it are covered too.
   */
  baseInstalled(
    baseFile: string,
    units: number,
    firstRewrite: { fromTemp: string; toIncr: string } | null,
  ): void {
    this.#baseUnits.set(baseFile, units);
    this.#baseDurableUnits = Math.max(this.#baseDurableUnits, units);
    if (firstRewrite === null) return;
    const temp = this.#segments.get(firstRewrite.fromTemp);
    if (temp === undefined) throw new Error(`no segment for ${firstRewrite.fromTemp}`);
    this.#segments.delete(firstRewrite.fromTemp);
    const renamed = temp.renamed(firstRewrite.toIncr);
    this.#segments.set(firstRewrite.toIncr, renamed);
    for (const [fd, segment] of this.#fdSegments)
      if (segment === temp) this.#fdSegments.set(fd, renamed);
    if (this.#current === temp) this.#current = renamed;
    this.#coveredUnits = Math.max(this.#coveredUnits, this.#pendingCoverUnits);
  }

  /**
   * The done handler of a first rewrite renamed the temp INCR to `toIncr` (seen on the file
   * system as it happens). If the handler then fails, a crash may still leave a manifest that
   * names `toIncr`: the judge must know it as the temp INCR's stream. Fsyncs of it still do not
   * count (floorUnits): no manifest is known to list it until baseInstalled.
   */
  tempIncrRenamed(fromTemp: string, toIncr: string): void {
    const temp = this.#segments.get(fromTemp);
    if (temp !== undefined) this.#segments.set(toIncr, temp);
  }

  /**
   * The first rewrite after appendonly yes failed: its temp INCR is gone and nothing feeds the
   * writer's file until the next one starts; what it would have covered is not covered.
   */
  firstRewriteAbandoned(): void {
    this.#pendingCoverUnits = 0;
    if (this.#current?.fileName.startsWith('temp-') === true) this.#current = null;
  }

  /** Observer for the incarnation's InlineBio; `writtenBytes` reads aof_last_incr_size. */
  onBioEvent(event: BioEvent, writtenBytes: () => number): void {
    if (event.type === 'aofFsync') {
      if (event.phase === 'submit') {
        // Emitted inside submitFsync, right before the writer sets its fsync offset to this size;
        // the job syncs the file of that fd.
        const segment = this.#fdSegments.get(event.fd);
        if (segment !== undefined)
          this.#submittedFsyncs.set(event.jobId, { segment, offsetBytes: writtenBytes() });
      } else if (event.phase === 'finish') {
        const submitted = this.#submittedFsyncs.get(event.jobId);
        this.#submittedFsyncs.delete(event.jobId);
        if (submitted !== undefined && event.error === undefined) {
          const { segment, offsetBytes } = submitted;
          segment.syncedBytes = Math.max(segment.syncedBytes, offsetBytes);
        }
      }
      return;
    }
    if (event.type !== 'closeFile') return;
    if (event.phase === 'submit') {
      const segment = this.#fdSegments.get(event.fd);
      // Only an INCR the writer left: history files and temp files are closed without fsync.
      if (segment !== undefined && segment !== this.#current)
        this.#closeJobs.set(event.jobId, segment);
    } else if (event.phase === 'finish') {
      const segment = this.#closeJobs.get(event.jobId);
      this.#closeJobs.delete(event.jobId);
      if (segment === undefined) return;
      this.#fdSegments.delete(event.fd);
      // close(2) errors do not undo a completed fdatasync; an fdatasync error does.
      if (event.error?.includes('fdatasync') === true) return;
      segment.syncedBytes = Math.max(
        segment.syncedBytes,
        segment.finalSizeBytes ?? segment.syncedBytes,
      );
    }
  }

  /**
   * DEBUG LOADAOF replaced the dataset with what the files hold: the first `units` units. The
   * files are unchanged, so what was durable stays so; units after them are gone from history.
   */
  rollbackTo(units: number): void {
    if (units > this.#units) throw new Error(`rollbackTo(${units}) beyond ${this.#units} units`);
    this.#units = units;
    this.#acked.length = units;
    this.#coveredUnits = Math.min(this.#coveredUnits, units);
    this.#pendingCoverUnits = Math.min(this.#pendingCoverUnits, units);
    this.#allDurableUnits = Math.min(this.#allDurableUnits, units);
    this.#waitedUnits = Math.min(this.#waitedUnits, units);
    this.#baseDurableUnits = Math.min(this.#baseDurableUnits, units);
  }

  /** waitAof() resolved: the first `units` units (all acknowledged before the call) are durable. */
  markDurableThrough(units: number): void {
    this.#waitedUnits = Math.max(this.#waitedUnits, Math.min(units, this.#units));
  }

  /** A clean close flushed and fsynced everything it had. */
  markAllDurable(): void {
    this.#allDurableUnits = this.units;
  }

  /** Units no crash may lose now. */
  floorUnits(): number {
    let floor = Math.max(
      this.#startUnits,
      this.#allDurableUnits,
      this.#waitedUnits,
      this.#coveredUnits,
      this.#baseDurableUnits,
    );
    // Completed fsyncs count under any policy (per file; see the header), except for a temp INCR:
    // no manifest lists it until the first rewrite renames it in (baseInstalled).
    for (const segment of this.#segments.values()) {
      if (!segment.fileName.startsWith('temp-')) floor = Math.max(floor, segment.fsyncFloor() ?? 0);
    }
    return floor;
  }

  /** Where the bytes of the first `units` units end: "<file> byte <offset>". */
  describeUnits(units: number): string {
    for (const segment of this.#segments.values()) {
      const mark = segment.marks.find((m) => m.units === units);
      if (mark !== undefined) return `${segment.fileName} byte ${mark.offsetBytes}`;
    }
    return `(${units} units: before this incarnation, or in a base)`;
  }

  /** Acknowledged units at index >= `units` (lost if the recovered state has `units` units). */
  ackedFrom(units: number): number {
    return this.#acked.slice(units).filter(Boolean).length;
  }
}

/** One INCR file of the recovered manifest: as written, as the crash left it, as loaded. */
export interface FileEvidence {
  /** The file as the engine had written it (visible bytes before the crash; null: no such file). */
  intended: Buffer | null;
  /** The file right after the crash, before the loader looked at it (null: gone). */
  survived: Buffer | null;
  /** Size of the file once the engine reopened (after load truncation or check-aof --fix). */
  loadedBytes: number;
  /** Offset after the last complete command among the loaded bytes. */
  loadedCommandsEnd: number;
  /**
   * The file did not exist after the crash: the recovering engine created it (an INCR named
   * anew after every INCR had become history). It holds nothing of the lineage, whatever an
   * older file of the same name held.
   */
  createdAtOpen?: boolean;
}

export interface RecoveryEvidence {
  /** The base of the manifest the engine loaded (null: none). */
  baseFile: string | null;
  /** The INCR files of the manifest the engine loaded, in load order. */
  incrFiles: readonly string[];
  files: ReadonlyMap<string, FileEvidence>;
}

export type Verdict =
  /** The loaded bytes are exactly a prefix of what was written: state must be model[units]. */
  | { kind: 'prefix'; units: number; floor: number; files: IncarnationFile[] }
  /** The loader accepted bytes never written, after `trustedUnits`; the floor is still intact. */
  | {
      kind: 'foreign-bytes';
      trustedUnits: number;
      candidateUnits: number | null;
      floor: number;
      trustedBytes: number;
    }
  /** A guarantee was broken. */
  | { kind: 'violation'; message: string; floor: number };

export function commonPrefixBytes(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

export function judgeRecovery(tracker: DurabilityTracker, evidence: RecoveryEvidence): Verdict {
  const floor = tracker.floorUnits();
  const violation = (message: string): Verdict => ({ kind: 'violation', floor, message });
  const floorText = () =>
    `${floor} units were guaranteed (the floor ends at ${tracker.describeUnits(floor)})`;
  const { incrFiles } = evidence;
  // No INCR at all: a manifest of a base alone (a rewrite while the AOF was off), reloaded by
  // DEBUG LOADAOF with the AOF still off. What the base holds: known from the base itself (a
  // rewrite of this lineage installed it, or the incarnation began with it), else from the first
  // INCR's start.
  const baseUnits = evidence.baseFile === null ? undefined : tracker.baseUnits(evidence.baseFile);
  const firstIsNew =
    incrFiles.length === 0 || evidence.files.get(incrFiles[0]!)?.createdAtOpen === true;
  const firstStart = firstIsNew ? undefined : tracker.segment(incrFiles[0]!)?.startUnits;
  const startUnits = baseUnits ?? firstStart ?? (evidence.baseFile === null ? 0 : undefined);
  if (startUnits === undefined) {
    throw new Error(
      `the recovered manifest names ${evidence.baseFile} and ${incrFiles[0] ?? 'no INCR'}, ` +
        `which this lineage never wrote`,
    );
  }
  let units = startUnits;
  /** First file that did not load in full while later files follow: everything after is a gap. */
  let cutShort: string | null = null;
  const files: IncarnationFile[] = [];
  for (let i = 0; i < incrFiles.length; i++) {
    const name = incrFiles[i]!;
    const last = i === incrFiles.length - 1;
    const ev = evidence.files.get(name);
    if (ev?.createdAtOpen === true) {
      files.push({ fileName: name, startUnits: units, sizeBytes: ev.loadedBytes });
      continue;
    }
    const segment = tracker.segment(name);
    if (ev === undefined || ev.survived === null)
      throw new Error(`no evidence for ${name}, which the recovered manifest lists`);
    if (segment === undefined) {
      // Created and named by a persisted manifest, but the writer never switched to it (the
      // rewrite's start failed or was cut after the manifest's rename): nothing was written to it.
      if (ev.loadedCommandsEnd > 0) {
        throw new Error(
          `the recovered manifest names ${name}, which this lineage never wrote, ` +
            `and it loaded commands`,
        );
      }
      files.push({ fileName: name, startUnits: units, sizeBytes: ev.loadedBytes });
      continue;
    }
    if (ev.intended === null) throw new Error(`no record of what the engine wrote to ${name}`);
    if (cutShort !== null) {
      // Later files may follow a file that lost its tail only if they hold no command at all.
      if (ev.loadedCommandsEnd > 0) {
        return violation(
          `GAP: ${cutShort} did not load in full (it lost un-synced bytes), ` +
            `yet the later INCR ${name} loaded ${ev.loadedCommandsEnd} bytes of commands: ` +
            `the keyspace is no prefix of the history`,
        );
      }
      files.push({ fileName: name, startUnits: units, sizeBytes: ev.loadedBytes });
      continue;
    }
    if (segment.startUnits !== units) {
      throw new Error(
        `${name} follows ${units} loaded units but holds the units after ${segment.startUnits}`,
      );
    }
    files.push({ fileName: name, startUnits: units, sizeBytes: ev.loadedBytes });
    const trustedBytes = commonPrefixBytes(ev.intended, ev.survived);
    if (ev.loadedBytes > trustedBytes) {
      const trustedUnits = segment.unitsAt(trustedBytes);
      if (trustedUnits === null || trustedUnits < floor) {
        return violation(
          `bytes the engine never wrote were loaded from offset ${trustedBytes} of ${name}, ` +
            `before the end of the guaranteed units: ${floorText()}`,
        );
      }
      const candidateUnits =
        last && ev.loadedBytes <= ev.intended.length ? segment.unitsAt(ev.loadedBytes) : null;
      return { kind: 'foreign-bytes', trustedUnits, candidateUnits, floor, trustedBytes };
    }
    const loaded = segment.unitsAt(ev.loadedBytes);
    if (loaded === null) {
      return violation(
        `${name} loaded ${ev.loadedBytes} bytes, less than it held when this incarnation began ` +
          `(${segment.firstOffsetBytes}): ${floorText()}`,
      );
    }
    units = loaded;
    if (!last && ev.loadedBytes < ev.intended.length)
      cutShort = `${name} (${ev.loadedBytes} of ${ev.intended.length} bytes)`;
  }
  if (units < floor) {
    return violation(
      `recovered ${units} units but ${floorText()}; ` +
        `${tracker.ackedFrom(units)} acknowledged units lost`,
    );
  }
  return { kind: 'prefix', units, floor, files };
}

export interface AofScan {
  /** Offset after the last complete command (annotations after it do not count). */
  lastCommandEnd: number;
  /** Where the MULTI starts if the bytes end inside a MULTI block, else null. */
  danglingMultiStart: number | null;
  /** A header that is not `*<count>` or an annotation (zeros, garbage). */
  malformed: boolean;
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
  let malformed = false;
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
    if (!header.startsWith('*') || !Number.isFinite(argc)) malformed = true;
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
  return { lastCommandEnd, danglingMultiStart, malformed };
}
