// SimFileSystem: an in-memory, deterministic FileSystem that can lose what was not synced, tear
// writes, and fail any call on demand. The crash-safety simulator and the fault-countdown tests run
// the engine on it; test/conformance/file-system.suite.ts keeps it honest against the real disk.
//
// DESIGN (the fault model; after SQLite's crash VFS, src/test6.c, and TigerBeetle's
// src/testing/storage.zig)
//
// Files are inodes. A directory maps names to inode ids, an fd points at an inode, so an fd keeps
// its file across unlink and across a rename that replaced its name, as on Linux.
//
// Every inode has two contents:
// - visible: what read/readFile/fileSize see now (the page cache);
// - durable: what is on the platter.
// plus the ordered list of content operations (writes, truncates, O_TRUNC) issued since the last
// fdatasync. Invariant: visible == durable + pending operations replayed in order.
// fdatasync(fd) replays the pending list onto durable and empties it.
//
// Every directory has visible and durable entries, and the file system keeps ONE ordered log of
// un-synced directory operations (create, rename, unlink). fsyncDir(dir) makes durable every
// logged operation up to and including the last one that touches `dir`: a prefix of the log,
// which is what a journaling file system (ext4, xfs) commits. fdatasync does NOT make a new file's
// name durable (POSIX; ext4 happens to, we do not rely on it).
//
// crash(rng, options) is a power loss. It
// 1. keeps a random prefix of the directory-operation log (each next operation survives with
//    dirOpKeepProbability; the first loss ends the prefix), so a rename is all-or-nothing and
//    never reordered before the create it depends on;
// 2. discards every inode that no durable name reaches (un-synced creations, unlinked-but-open
//    files, temp files whose creation was lost);
// 3. for each surviving inode, resolves every pending content operation independently, in order:
//    KEPT (keepProbability), TORN (tornProbability: a random prefix of the write lands, optionally
//    followed by random garbage over the rest of its range), or DROPPED (the remainder). Truncates
//    are kept or dropped. writeOrdering 'prefix' instead keeps pending operations only up to the
//    first one that is torn or dropped (a clean "torn tail", as ordered-mode appends behave).
//    A dropped write in the middle leaves a zero-filled hole if a later one extends the file.
// 4. makes the result both visible and durable, and invalidates every fd (EBADF forever: fd
//    numbers are never reused, unlike a real kernel, so a stale fd is always caught).
//
// GUARANTEES: bytes made durable by a completed fdatasync are never changed by a crash unless a
// later write or truncate of the same range was pending; names made durable by fsyncDir survive;
// the same seed and the same history give the same post-crash bytes.
//
// SIMPLIFICATIONS: directories are durable as soon as mkdir returns (Redis never fsyncs a parent
// after mkdir; modelling it would only flag that); renaming directories is not supported (Redis
// renames only files); because fsyncDir commits a prefix of one log, fsyncDir(a) also makes
// earlier operations in other directories durable (as ext4's journal does; POSIX promises less,
// so a missing fsyncDir(b) followed by fsyncDir(a) goes unnoticed); open('read') of a directory
// fails with EISDIR where Linux succeeds; a failed fdatasync leaves the pending writes pending
// (the "fsyncgate" behaviour, where Linux marks them clean and a later fsync reports success
// without writing them, is not modelled).
//
// FAULTS (SimFaults): rules that fail matching calls with an errno or turn writes short, and an
// SQLite-style countdown (failNthCall) that fails the n-th call from now, once or persistently.
// A call is counted, and checked for faults, before any real check (EBADF, ENOENT): an injected
// fault has no side effect, except that close() releases the fd whatever it reports. A disk-size
// limit makes writes short and then fail with ENOSPC, as a full disk does; it is not counted as
// an injection.
//
// TIME: the file system takes no time by itself. fdatasync has a configured duration
// (fsyncDurationMs) that a simulated bio reads: it calls startFdatasync(fd), which captures the
// writes issued so far, advances its SimClock by `durationMs`, then calls complete(), which makes
// exactly those writes durable (writes issued meanwhile stay pending, as with a real fsync in
// flight) or throws the injected error. A crash before complete() means the fsync never finished.

import assert from 'node:assert/strict';
import { posix } from 'node:path';
import type { Clock } from '../io/clock.ts';
import {
  FS_OPS,
  FsError,
  assertBufferRange,
  assertFileOffset,
  assertOpenMode,
  isFsError,
  isReadableMode,
  isWritableMode,
  type FileStat,
  type FileSystem,
  type FsErrorCode,
  type FsOp,
  type OpenMode,
} from '../io/file-system.ts';
import type { Prng } from './prng.ts';

// Limits (a runaway simulated workload should fail loudly, not eat the test machine's memory).
const kMaxFileSizeBytes = 1024 * 1024 * 1024;
const kDefaultMaxOpenFiles = 1024;
// 0, 1 and 2 are stdio on a real process; starting at 3 keeps fds looking familiar in traces.
const kFirstFd = 3;
const kInjectedDetail = '[injected by SimFileSystem]';

function assertNever(value: never): never {
  throw new Error(`unexpected value: ${String(value)}`);
}

// ---------------------------------------------------------------------------------------------
// Byte storage

/** A growable byte array whose bytes past `length` are always zero (so extending reads zeros). */
class ByteStore {
  #bytes = new Uint8Array(0);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  view(): Uint8Array {
    return this.#bytes.subarray(0, this.#length);
  }

  write(offsetBytes: number, data: Uint8Array): void {
    if (data.length === 0) return;
    const endBytes = offsetBytes + data.length;
    this.#reserve(endBytes);
    this.#bytes.set(data, offsetBytes);
    this.#length = Math.max(this.#length, endBytes);
  }

  truncate(lengthBytes: number): void {
    if (lengthBytes < this.#length) {
      this.#bytes.fill(0, lengthBytes, this.#length);
    } else {
      this.#reserve(lengthBytes);
    }
    this.#length = lengthBytes;
  }

  /** pread semantics: copies up to `length` bytes from `position`; returns the count. */
  read(position: number, target: Uint8Array, targetOffset: number, length: number): number {
    if (position >= this.#length) return 0;
    const count = Math.min(length, this.#length - position);
    target.set(this.#bytes.subarray(position, position + count), targetOffset);
    return count;
  }

  clone(): ByteStore {
    const copy = new ByteStore();
    copy.write(0, this.view());
    return copy;
  }

  #reserve(capacityBytes: number): void {
    assert(capacityBytes <= kMaxFileSizeBytes, 'simulated file exceeds its size limit');
    if (capacityBytes <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.max(capacityBytes, this.#bytes.length * 2, 64));
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
  }
}

// ---------------------------------------------------------------------------------------------
// Model

type ContentOp =
  | { kind: 'write'; seq: number; offsetBytes: number; data: Uint8Array }
  | { kind: 'truncate'; seq: number; lengthBytes: number };

type DirOp =
  | { kind: 'link'; dir: string; name: string; inodeId: number }
  | { kind: 'unlink'; dir: string; name: string }
  | {
      kind: 'rename';
      sourceDir: string;
      sourceName: string;
      targetDir: string;
      targetName: string;
      inodeId: number;
    };

interface Inode {
  readonly id: number;
  visible: ByteStore;
  durable: ByteStore;
  pending: ContentOp[];
}

interface DirNode {
  readonly path: string;
  visible: Map<string, number>;
  durable: Map<string, number>;
  /** Child directory names; directories are durable at once (see SIMPLIFICATIONS). */
  readonly subdirs: Set<string>;
}

interface OpenFile {
  readonly inode: Inode;
  readonly mode: OpenMode;
  /** Normalised path at open time; matched by `pathIncludes` rules for fd calls. */
  readonly path: string;
  positionBytes: number;
}

function applyContentOp(store: ByteStore, op: ContentOp): void {
  switch (op.kind) {
    case 'write':
      store.write(op.offsetBytes, op.data);
      return;
    case 'truncate':
      store.truncate(op.lengthBytes);
      return;
    default:
      assertNever(op);
  }
}

function dirOpTouches(op: DirOp, dir: string): boolean {
  switch (op.kind) {
    case 'link':
    case 'unlink':
      return op.dir === dir;
    case 'rename':
      return op.sourceDir === dir || op.targetDir === dir;
    default:
      return assertNever(op);
  }
}

/** Applies a directory operation to one generation (visible or durable) of the entries. */
function applyDirOp(op: DirOp, entriesOf: (dir: string) => Map<string, number>): void {
  switch (op.kind) {
    case 'link':
      entriesOf(op.dir).set(op.name, op.inodeId);
      return;
    case 'unlink':
      entriesOf(op.dir).delete(op.name);
      return;
    case 'rename':
      entriesOf(op.sourceDir).delete(op.sourceName);
      entriesOf(op.targetDir).set(op.targetName, op.inodeId);
      return;
    default:
      assertNever(op);
  }
}

// ---------------------------------------------------------------------------------------------
// Faults

/** What a fault rule's `when` sees about a call. fd calls carry the path the fd was opened with. */
export interface SimFsCall {
  readonly op: FsOp;
  /** 1-based index among all calls made on this file system (equals callCount after it). */
  readonly callIndex: number;
  readonly path: string | undefined;
  readonly dest: string | undefined;
  readonly fd: number | undefined;
  /** Requested length for write/read. */
  readonly lengthBytes: number | undefined;
}

export interface SimFaultRule {
  op: FsOp | readonly FsOp[] | 'any';
  /** Fail the call with this code. Exactly one of `error` and `shortBytes`. */
  error?: FsErrorCode;
  /** write only: write at most this many bytes (>= 1) and return the count. */
  shortBytes?: number;
  /** Keep firing on every matching call until removed. Default: fire once. */
  persistent?: boolean;
  /** Match only calls whose (normalised) path or dest contains this string. */
  pathIncludes?: string;
  when?: (call: SimFsCall) => boolean;
}

export interface SimFaultHandle {
  readonly firedCount: number;
  readonly active: boolean;
  remove(): void;
}

export interface SimCountdownOptions {
  /** Default 'EIO'. */
  error?: FsErrorCode;
  /** Fail every matching call from the n-th on (SQLite's persistent mode). Default false. */
  persistent?: boolean;
  /** Count and fail only these operations. Default: every operation. */
  ops?: readonly FsOp[];
}

export type SimFaultDecision =
  | { kind: 'none' }
  | { kind: 'error'; code: FsErrorCode }
  | { kind: 'short'; maxBytes: number };

interface ActiveRule {
  readonly ops: ReadonlySet<FsOp> | null;
  readonly rule: SimFaultRule;
  firedCount: number;
  active: boolean;
}

interface Countdown {
  readonly ops: ReadonlySet<FsOp> | null;
  readonly error: FsErrorCode;
  readonly persistent: boolean;
  remainingCalls: number;
}

function toOpSet(op: FsOp | readonly FsOp[] | 'any'): ReadonlySet<FsOp> | null {
  if (op === 'any') return null;
  const ops = typeof op === 'string' ? [op] : op;
  assert(ops.length > 0, 'a fault rule needs at least one op');
  for (const each of ops) assert(FS_OPS.includes(each), `unknown op: ${String(each)}`);
  return new Set(ops);
}

function validateRule(rule: SimFaultRule, ops: ReadonlySet<FsOp> | null): void {
  const hasError = rule.error !== undefined;
  const hasShort = rule.shortBytes !== undefined;
  assert(hasError !== hasShort, 'a fault rule needs exactly one of `error` and `shortBytes`');
  if (rule.shortBytes !== undefined) {
    assert(ops !== null && ops.size === 1 && ops.has('write'), 'shortBytes applies to write only');
    // A write(2) that returns 0 makes write loops (Redis aofWrite) spin; real disks fail instead.
    const valid = Number.isSafeInteger(rule.shortBytes) && rule.shortBytes >= 1;
    assert(valid, 'shortBytes must be an integer >= 1');
  }
}

/** Fault rules and the countdown of one SimFileSystem. */
export class SimFaults {
  #rules: ActiveRule[] = [];
  #countdown: Countdown | null = null;
  #injectedCount = 0;

  /** Number of faults injected so far (rules and countdown; not disk-full). */
  get injectedCount(): number {
    return this.#injectedCount;
  }

  get activeRuleCount(): number {
    return this.#rules.length;
  }

  get countdownArmed(): boolean {
    return this.#countdown !== null;
  }

  add(rule: SimFaultRule): SimFaultHandle {
    const ops = toOpSet(rule.op);
    validateRule(rule, ops);
    const active: ActiveRule = { ops, rule: { ...rule }, firedCount: 0, active: true };
    this.#rules.push(active);
    return {
      get firedCount() {
        return active.firedCount;
      },
      get active() {
        return active.active;
      },
      remove: () => this.#remove(active),
    };
  }

  /**
   * Fails the n-th matching call counted from now (n = 1: the next one). Replaces any armed
   * countdown. Loop n = 1, 2, ... until a run ends with `injectedCount` unchanged.
   */
  failNthCall(n: number, options: SimCountdownOptions = {}): void {
    assert(Number.isSafeInteger(n) && n >= 1, `n must be an integer >= 1: ${n}`);
    this.#countdown = {
      ops: options.ops === undefined ? null : toOpSet(options.ops),
      error: options.error ?? 'EIO',
      persistent: options.persistent ?? false,
      remainingCalls: n,
    };
  }

  /** Removes every rule and the countdown. */
  clear(): void {
    for (const rule of this.#rules) rule.active = false;
    this.#rules = [];
    this.#countdown = null;
  }

  /** Called by SimFileSystem once per call, before the call does anything. */
  decide(call: SimFsCall): SimFaultDecision {
    const fromCountdown = this.#decideCountdown(call);
    if (fromCountdown !== null) return this.#inject(fromCountdown);
    for (const active of this.#rules) {
      if (!this.#matches(active, call)) continue;
      active.firedCount++;
      if (active.rule.persistent !== true) this.#remove(active);
      const { error, shortBytes } = active.rule;
      if (error !== undefined) return this.#inject({ kind: 'error', code: error });
      assert(shortBytes !== undefined);
      return this.#inject({ kind: 'short', maxBytes: shortBytes });
    }
    return { kind: 'none' };
  }

  #decideCountdown(call: SimFsCall): SimFaultDecision | null {
    const countdown = this.#countdown;
    if (countdown === null) return null;
    if (countdown.ops !== null && !countdown.ops.has(call.op)) return null;
    if (countdown.remainingCalls > 1) {
      countdown.remainingCalls--;
      return null;
    }
    if (!countdown.persistent) this.#countdown = null;
    return { kind: 'error', code: countdown.error };
  }

  #matches(active: ActiveRule, call: SimFsCall): boolean {
    if (active.ops !== null && !active.ops.has(call.op)) return false;
    const fragment = active.rule.pathIncludes;
    if (fragment !== undefined) {
      const hit = call.path?.includes(fragment) === true || call.dest?.includes(fragment) === true;
      if (!hit) return false;
    }
    return active.rule.when === undefined || active.rule.when(call);
  }

  #inject(decision: SimFaultDecision): SimFaultDecision {
    this.#injectedCount++;
    return decision;
  }

  #remove(active: ActiveRule): void {
    active.active = false;
    this.#rules = this.#rules.filter((each) => each !== active);
  }
}

// ---------------------------------------------------------------------------------------------
// Crash

export interface SimCrashOptions {
  /** Probability that an un-synced write or truncate survives whole. Default 0.5. */
  keepProbability?: number;
  /** Probability that an un-synced write is torn. Default 0.2. Dropped = the rest. */
  tornProbability?: number;
  /** Probability that a torn write is followed by garbage over part of its range. Default 0.5. */
  garbageProbability?: number;
  /** 'independent' (default): each pending operation on its own; 'prefix': stop at first loss. */
  writeOrdering?: 'independent' | 'prefix';
  /** Probability that each next logged directory operation survives. Default 0.5. */
  dirOpKeepProbability?: number;
  /**
   * Probability that a DROPPED write still grows the file, with zeros where its bytes should be:
   * the size was journaled, the data blocks were not (ext4 delayed allocation, XFS), which leaves
   * a zero-filled tail after a power cut. Default 0 (the draw is then not made).
   */
  zeroFillProbability?: number;
}

export interface SimCrashReport {
  writesKept: number;
  writesTorn: number;
  writesDropped: number;
  truncatesKept: number;
  truncatesDropped: number;
  dirOpsKept: number;
  dirOpsDropped: number;
  /** Dropped writes whose range became zeros (zeroFillProbability). */
  writesZeroFilled: number;
  /** Files (inodes) that existed before the crash and have no durable name after it. */
  filesDiscarded: number;
  /** Open fds invalidated by the crash. */
  fdsInvalidated: number;
}

type CrashSettings = Required<SimCrashOptions>;

function resolveCrashSettings(options: SimCrashOptions): CrashSettings {
  const settings: CrashSettings = {
    keepProbability: options.keepProbability ?? 0.5,
    tornProbability: options.tornProbability ?? 0.2,
    garbageProbability: options.garbageProbability ?? 0.5,
    writeOrdering: options.writeOrdering ?? 'independent',
    dirOpKeepProbability: options.dirOpKeepProbability ?? 0.5,
    zeroFillProbability: options.zeroFillProbability ?? 0,
  };
  for (const key of [
    'keepProbability',
    'tornProbability',
    'garbageProbability',
    'dirOpKeepProbability',
    'zeroFillProbability',
  ] as const) {
    const value = settings[key];
    assert(value >= 0 && value <= 1, `${key} must be in [0, 1]: ${value}`);
  }
  const keepOrTorn = settings.keepProbability + settings.tornProbability;
  assert(keepOrTorn <= 1 + 1e-9, 'keepProbability + tornProbability must be <= 1');
  assert(settings.writeOrdering === 'independent' || settings.writeOrdering === 'prefix');
  return settings;
}

type WriteFate = 'kept' | 'torn' | 'dropped' | 'zero-filled';

/** Applies one pending content operation to the durable store under the crash's dice. */
function resolveContentOp(
  store: ByteStore,
  op: ContentOp,
  rng: Prng,
  settings: CrashSettings,
): WriteFate {
  if (op.kind === 'truncate') {
    if (!rng.chance(settings.keepProbability)) return 'dropped';
    store.truncate(op.lengthBytes);
    return 'kept';
  }
  const draw = rng.nextFloat();
  if (draw < settings.keepProbability) {
    store.write(op.offsetBytes, op.data);
    return 'kept';
  }
  if (draw >= settings.keepProbability + settings.tornProbability) {
    if (settings.zeroFillProbability > 0 && rng.chance(settings.zeroFillProbability)) {
      store.write(op.offsetBytes, new Uint8Array(op.data.length));
      return 'zero-filled';
    }
    return 'dropped';
  }
  const keptBytes = rng.nextInt(op.data.length);
  store.write(op.offsetBytes, op.data.subarray(0, keptBytes));
  if (rng.chance(settings.garbageProbability)) {
    const garbageBytes = 1 + rng.nextInt(op.data.length - keptBytes);
    store.write(op.offsetBytes + keptBytes, rng.nextBytes(garbageBytes));
  }
  return 'torn';
}

function countFate(report: SimCrashReport, op: ContentOp, fate: WriteFate): void {
  if (op.kind === 'truncate') {
    if (fate === 'kept') report.truncatesKept++;
    else report.truncatesDropped++;
    return;
  }
  if (fate === 'kept') report.writesKept++;
  else if (fate === 'torn') report.writesTorn++;
  else if (fate === 'zero-filled') report.writesZeroFilled++;
  else report.writesDropped++;
}

// ---------------------------------------------------------------------------------------------
// The file system

/** What onOp receives after every FileSystem call, successful or not. */
export interface SimFsOpEvent {
  op: FsOp;
  callIndex: number;
  /** Time of the call's return from the injected clock; null without a clock. */
  atMs: number | null;
  /** For startFdatasync()/complete(): when the fsync started. */
  startedAtMs?: number | null;
  path?: string;
  dest?: string;
  fd?: number;
  /** File offset written or read. */
  offsetBytes?: number;
  lengthBytes?: number;
  /** Bytes actually written or read. */
  resultBytes?: number;
  errorCode?: FsErrorCode;
  /** True when the call failed or was shortened by an injected fault. */
  injected: boolean;
}

export interface SimFileSystemOptions {
  /** Timestamps trace events; the file system itself never waits. */
  clock?: Clock;
  onOp?: (event: SimFsOpEvent) => void;
  /** Simulated duration of one fdatasync, for a simulated bio (see DESIGN: TIME). Default 0. */
  fsyncDurationMs?: number;
  /** Writes past this much total file data become short, then fail with ENOSPC. Default: none. */
  diskSizeLimitBytes?: number | null;
  /** open() fails with EMFILE beyond this many open fds. Default 1024. */
  maxOpenFiles?: number;
}

/** An fdatasync in flight: see DESIGN (TIME). */
export interface SimFdatasync {
  readonly fd: number;
  readonly durationMs: number;
  /** Makes the writes issued before the start durable, or throws its FsError. Call once. */
  complete(): void;
}

export interface SimFileInfo {
  path: string;
  kind: 'file' | 'directory';
  sizeBytes: number;
  /** Un-synced writes and truncates of the file. */
  unsyncedOpCount: number;
}

interface CallRecord {
  op: FsOp;
  callIndex: number;
  /** The paths as the caller gave them (used in error messages, like Node). */
  givenPath: string | undefined;
  givenDest: string | undefined;
  path: string | undefined;
  dest: string | undefined;
  fd: number | undefined;
  lengthBytes: number | undefined;
  offsetBytes: number | undefined;
  resultBytes: number | undefined;
  injected: boolean;
}

type Lookup =
  | { kind: 'missing'; parent: DirNode; name: string }
  | { kind: 'dir'; dir: DirNode }
  | { kind: 'file'; parent: DirNode; name: string; inode: Inode };

export class SimFileSystem implements FileSystem {
  readonly faults = new SimFaults();
  onOp: ((event: SimFsOpEvent) => void) | undefined;
  readonly #clock: Clock | undefined;
  readonly #maxOpenFiles: number;
  #fsyncDurationMs = 0;
  #diskSizeLimitBytes: number | null = null;

  readonly #dirs = new Map<string, DirNode>();
  readonly #inodes = new Map<number, Inode>();
  readonly #fds = new Map<number, OpenFile>();
  #dirOps: DirOp[] = [];
  #nextInodeId = 1;
  #nextFd = kFirstFd;
  #nextSeq = 1;
  #callCount = 0;
  /** Bumped by crash(); an fdatasync started before a crash cannot complete after it. */
  #crashGeneration = 0;

  constructor(options: SimFileSystemOptions = {}) {
    this.#clock = options.clock;
    this.onOp = options.onOp;
    this.#maxOpenFiles = options.maxOpenFiles ?? kDefaultMaxOpenFiles;
    assert(Number.isSafeInteger(this.#maxOpenFiles) && this.#maxOpenFiles >= 1);
    this.fsyncDurationMs = options.fsyncDurationMs ?? 0;
    this.diskSizeLimitBytes = options.diskSizeLimitBytes ?? null;
    this.#dirs.set('/', { path: '/', visible: new Map(), durable: new Map(), subdirs: new Set() });
  }

  // ----- configuration and counters -----

  get fsyncDurationMs(): number {
    return this.#fsyncDurationMs;
  }

  set fsyncDurationMs(value: number) {
    assert(Number.isFinite(value) && value >= 0, `fsyncDurationMs must be >= 0: ${value}`);
    this.#fsyncDurationMs = value;
  }

  get diskSizeLimitBytes(): number | null {
    return this.#diskSizeLimitBytes;
  }

  set diskSizeLimitBytes(value: number | null) {
    assert(value === null || (Number.isSafeInteger(value) && value >= 0), 'bad diskSizeLimitBytes');
    this.#diskSizeLimitBytes = value;
  }

  /**
   * The boot of the simulated machine this disk belongs to: a crash() is a power loss, so the
   * machine boots again with a new id. The directory lock compares it with its holder's
   * (MachineBootSource), so a lock taken before a simulated power loss is stale after it.
   */
  get bootId(): string {
    return `sim-boot-${this.#crashGeneration}`;
  }

  /** FileSystem calls made so far (all ops, successful or not; test helpers excluded). */
  get callCount(): number {
    return this.#callCount;
  }

  /** Faults injected so far (same as faults.injectedCount). */
  get injectedCount(): number {
    return this.faults.injectedCount;
  }

  /** Shorthand for faults.failNthCall. */
  failNthCall(n: number, options: SimCountdownOptions = {}): void {
    this.faults.failNthCall(n, options);
  }

  /** How long the simulated bio should let an fdatasync of this fd take. */
  fdatasyncDurationMs(fd: number): number {
    assert(Number.isSafeInteger(fd));
    return this.#fsyncDurationMs;
  }

  // ----- FileSystem: fd operations -----

  open(path: string, mode: OpenMode): number {
    assertOpenMode(mode);
    const call = this.#startPathCall('open', path);
    return this.#traced(call, () => {
      this.#injectFaults(call);
      if (this.#fds.size >= this.#maxOpenFiles) throw this.#error('EMFILE', call);
      const found = this.#lookup(path, call);
      if (found.kind === 'dir') throw this.#error('EISDIR', call);
      const inode = this.#inodeForOpen(found, mode, call);
      const fd = this.#nextFd++;
      this.#fds.set(fd, { inode, mode, path: call.path ?? path, positionBytes: 0 });
      call.fd = fd;
      return fd;
    });
  }

  write(fd: number, buf: Uint8Array, offset: number, length: number): number {
    assertBufferRange(buf, offset, length);
    const call = this.#startFdCall('write', fd, length);
    return this.#traced(call, () => {
      const maxBytes = this.#injectFaults(call);
      const file = this.#requireFd(fd, call);
      if (!isWritableMode(file.mode)) throw this.#error('EBADF', call);
      const offsetBytes = file.mode === 'append' ? file.inode.visible.length : file.positionBytes;
      let countBytes = maxBytes === null ? length : Math.min(length, maxBytes);
      countBytes = this.#fitOnDisk(file.inode, offsetBytes, countBytes, call);
      if (offsetBytes + countBytes > kMaxFileSizeBytes) throw this.#error('EFBIG', call);
      // Copy, as write(2) copies into the page cache: Buffer#slice would keep a view of the
      // caller's buffer, which the AOF writer reuses for the next turn.
      const data = Uint8Array.prototype.slice.call(buf, offset, offset + countBytes);
      if (countBytes > 0) {
        this.#recordContentOp(file.inode, { kind: 'write', seq: 0, offsetBytes, data });
      }
      file.positionBytes = offsetBytes + countBytes;
      call.offsetBytes = offsetBytes;
      call.resultBytes = countBytes;
      return countBytes;
    });
  }

  read(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
    assertBufferRange(buf, offset, length);
    assertFileOffset(position, 'position');
    const call = this.#startFdCall('read', fd, length);
    return this.#traced(call, () => {
      this.#injectFaults(call);
      const file = this.#requireFd(fd, call);
      if (!isReadableMode(file.mode)) throw this.#error('EBADF', call);
      const countBytes = file.inode.visible.read(position, buf, offset, length);
      call.offsetBytes = position;
      call.resultBytes = countBytes;
      return countBytes;
    });
  }

  fdatasync(fd: number): void {
    this.startFdatasync(fd).complete();
  }

  /** An fdatasync that takes simulated time: see DESIGN (TIME). Counts as one 'fdatasync' call. */
  startFdatasync(fd: number): SimFdatasync {
    const call = this.#startFdCall('fdatasync', fd, undefined);
    const startedAtMs = this.#clock?.nowMs() ?? null;
    const generation = this.#crashGeneration;
    const uptoSeq = this.#nextSeq - 1;
    let failure: unknown = null;
    let inode: Inode | null = null;
    try {
      this.#injectFaults(call);
      inode = this.#requireFd(fd, call).inode;
    } catch (error) {
      failure = error;
    }
    let completed = false;
    return {
      fd,
      durationMs: this.#fsyncDurationMs,
      complete: () => {
        assert(!completed, 'SimFdatasync.complete() called twice');
        assert(generation === this.#crashGeneration, 'an fdatasync cannot complete after a crash');
        completed = true;
        this.#traced(
          call,
          () => {
            if (failure !== null) throw failure;
            assert(inode !== null);
            this.#syncInode(inode, uptoSeq);
          },
          startedAtMs,
        );
      },
    };
  }

  ftruncate(fd: number, lengthBytes: number): void {
    assertFileOffset(lengthBytes, 'lengthBytes');
    const call = this.#startFdCall('ftruncate', fd, undefined);
    this.#traced(call, () => {
      this.#injectFaults(call);
      const file = this.#requireFd(fd, call);
      // Linux reports EINVAL, not EBADF, for ftruncate on an fd not open for writing.
      if (!isWritableMode(file.mode)) throw this.#error('EINVAL', call);
      this.#truncateInode(file.inode, lengthBytes, call);
    });
  }

  fileSize(fd: number): number {
    const call = this.#startFdCall('fileSize', fd, undefined);
    return this.#traced(call, () => {
      this.#injectFaults(call);
      return this.#requireFd(fd, call).inode.visible.length;
    });
  }

  close(fd: number): void {
    const call = this.#startFdCall('close', fd, undefined);
    this.#traced(call, () => {
      let injected: unknown = null;
      try {
        this.#injectFaults(call);
      } catch (error) {
        injected = error;
      }
      // close(2) on Linux releases the fd even when it reports an error.
      const released = this.#fds.delete(fd);
      if (released) this.#collectGarbage();
      if (injected !== null) throw injected;
      if (!released) throw this.#error('EBADF', call);
    });
  }

  // ----- FileSystem: path operations -----

  stat(path: string): FileStat | null {
    const call = this.#startPathCall('stat', path);
    return this.#traced(call, () => {
      this.#injectFaults(call);
      const found = this.#lookupOrNull(path, call);
      if (found === null) return null;
      switch (found.kind) {
        case 'missing':
          return null;
        case 'dir':
          return { sizeBytes: 0, isDirectory: true };
        case 'file':
          return { sizeBytes: found.inode.visible.length, isDirectory: false };
        default:
          return assertNever(found);
      }
    });
  }

  rename(from: string, to: string): void {
    const call = this.#startPathCall('rename', from, to);
    this.#traced(call, () => {
      this.#injectFaults(call);
      const source = this.#lookup(from, call);
      if (source.kind === 'missing') throw this.#error('ENOENT', call);
      if (source.kind === 'dir') {
        throw new Error(`SimFileSystem does not model renaming directories: ${from}`);
      }
      const target = this.#lookup(to, call);
      if (target.kind === 'dir') throw this.#error('EISDIR', call);
      if (target.kind === 'file' && target.inode === source.inode) return;
      this.#logDirOp({
        kind: 'rename',
        sourceDir: source.parent.path,
        sourceName: source.name,
        targetDir: target.parent.path,
        targetName: target.name,
        inodeId: source.inode.id,
      });
      this.#collectGarbage();
    });
  }

  link(existing: string, to: string): void {
    const call = this.#startPathCall('link', existing, to);
    this.#traced(call, () => {
      this.#injectFaults(call);
      const source = this.#lookup(existing, call);
      if (source.kind === 'missing') throw this.#error('ENOENT', call);
      if (source.kind === 'dir') throw this.#error('EPERM', call);
      const target = this.#lookup(to, call);
      if (target.kind !== 'missing') throw this.#error('EEXIST', call);
      this.#logDirOp({
        kind: 'link',
        dir: target.parent.path,
        name: target.name,
        inodeId: source.inode.id,
      });
    });
  }

  unlink(path: string): void {
    const call = this.#startPathCall('unlink', path);
    this.#traced(call, () => {
      this.#injectFaults(call);
      const found = this.#lookupExisting(path, call);
      if (found.kind === 'dir') throw this.#error('EISDIR', call);
      this.#logDirOp({ kind: 'unlink', dir: found.parent.path, name: found.name });
      this.#collectGarbage();
    });
  }

  mkdir(path: string): void {
    const call = this.#startPathCall('mkdir', path);
    this.#traced(call, () => {
      this.#injectFaults(call);
      if (path === '') throw this.#error('ENOENT', call);
      const target = this.#normalize(path);
      let parent = this.#rootDir();
      const names = target.split('/').filter((name) => name !== '');
      names.forEach((name, index) => {
        const childPath = posix.join(parent.path, name);
        if (parent.visible.has(name)) {
          throw this.#error(index === names.length - 1 ? 'EEXIST' : 'ENOTDIR', call);
        }
        parent = this.#dirs.get(childPath) ?? this.#createDir(parent, name);
      });
    });
  }

  readdir(path: string): string[] {
    const call = this.#startPathCall('readdir', path);
    return this.#traced(call, () => {
      this.#injectFaults(call);
      const found = this.#lookupExisting(path, call);
      if (found.kind === 'file') throw this.#error('ENOTDIR', call);
      return [...found.dir.visible.keys(), ...found.dir.subdirs].sort();
    });
  }

  readFile(path: string): Buffer {
    const call = this.#startPathCall('readFile', path);
    return this.#traced(call, () => {
      this.#injectFaults(call);
      const found = this.#lookupExisting(path, call);
      if (found.kind === 'dir') throw this.#error('EISDIR', call);
      call.resultBytes = found.inode.visible.length;
      return Buffer.from(found.inode.visible.view());
    });
  }

  truncate(path: string, lengthBytes: number): void {
    assertFileOffset(lengthBytes, 'lengthBytes');
    const call = this.#startPathCall('truncate', path);
    this.#traced(call, () => {
      this.#injectFaults(call);
      const found = this.#lookupExisting(path, call);
      if (found.kind === 'dir') throw this.#error('EISDIR', call);
      this.#truncateInode(found.inode, lengthBytes, call);
    });
  }

  fsyncDir(path: string): void {
    const call = this.#startPathCall('fsyncDir', path);
    this.#traced(call, () => {
      this.#injectFaults(call);
      const found = this.#lookupExisting(path, call);
      if (found.kind === 'file') throw this.#error('ENOTDIR', call);
      this.#commitDirOpsThrough(found.dir.path);
    });
  }

  // ----- crash -----

  /** Power loss: see DESIGN. Deterministic for a given rng state and history. */
  crash(rng: Prng, options: SimCrashOptions = {}): SimCrashReport {
    const settings = resolveCrashSettings(options);
    const report: SimCrashReport = {
      writesKept: 0,
      writesTorn: 0,
      writesDropped: 0,
      writesZeroFilled: 0,
      truncatesKept: 0,
      truncatesDropped: 0,
      dirOpsKept: 0,
      dirOpsDropped: 0,
      filesDiscarded: 0,
      fdsInvalidated: this.#fds.size,
    };
    const liveBefore = this.#liveInodeIds();
    this.#crashDirOps(rng, settings, report);
    const survivors = this.#durablyNamedInodeIds();
    const ids = [...this.#inodes.keys()].sort((a, b) => a - b);
    for (const id of ids) {
      const inode = this.#inodes.get(id);
      assert(inode !== undefined);
      if (survivors.has(id)) {
        this.#crashInode(inode, rng, settings, report);
      } else {
        if (liveBefore.has(id)) report.filesDiscarded++;
        this.#inodes.delete(id);
      }
    }
    for (const dir of this.#dirs.values()) dir.visible = new Map(dir.durable);
    this.#fds.clear();
    this.#crashGeneration++;
    return report;
  }

  #crashDirOps(rng: Prng, settings: CrashSettings, report: SimCrashReport): void {
    let index = 0;
    while (index < this.#dirOps.length && rng.chance(settings.dirOpKeepProbability)) {
      applyDirOp(this.#dirOps[index] as DirOp, (dir) => this.#dirNode(dir).durable);
      index++;
    }
    report.dirOpsKept += index;
    report.dirOpsDropped += this.#dirOps.length - index;
    this.#dirOps = [];
  }

  #crashInode(inode: Inode, rng: Prng, settings: CrashSettings, report: SimCrashReport): void {
    let intact = true;
    for (const op of inode.pending) {
      const skip = settings.writeOrdering === 'prefix' && !intact;
      const fate = skip ? 'dropped' : resolveContentOp(inode.durable, op, rng, settings);
      if (fate !== 'kept') intact = false;
      countFate(report, op, fate);
    }
    inode.pending = [];
    inode.visible = inode.durable.clone();
  }

  // ----- test helpers (not counted, never faulted) -----

  /** Visible content of a file (what a read would return now). Throws ENOENT/EISDIR. */
  fileContent(path: string): Buffer {
    const call = this.#helperCall(path);
    const found = this.#lookupExisting(path, call);
    if (found.kind === 'dir') throw this.#error('EISDIR', call);
    return Buffer.from(found.inode.visible.view());
  }

  /**
   * What `path` would hold after a crash that loses everything un-synced: the durable content of
   * the inode its durable name points to, or null when no durable name exists.
   */
  durableContent(path: string): Buffer | null {
    const target = this.#normalize(path);
    const dir = this.#dirs.get(posix.dirname(target));
    const inodeId = dir?.durable.get(posix.basename(target));
    if (inodeId === undefined) return null;
    const inode = this.#inodes.get(inodeId);
    assert(inode !== undefined, 'a durable name points at a live inode');
    return Buffer.from(inode.durable.view());
  }

  /** Every visible directory and file, sorted by path. */
  listAll(): SimFileInfo[] {
    const entries: SimFileInfo[] = [];
    for (const dir of this.#dirs.values()) {
      entries.push({ path: dir.path, kind: 'directory', sizeBytes: 0, unsyncedOpCount: 0 });
      for (const [name, inodeId] of dir.visible) {
        const inode = this.#inodes.get(inodeId);
        assert(inode !== undefined);
        entries.push({
          path: posix.join(dir.path, name),
          kind: 'file',
          sizeBytes: inode.visible.length,
          unsyncedOpCount: inode.pending.length,
        });
      }
    }
    return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  openFds(): { fd: number; path: string; mode: OpenMode }[] {
    return [...this.#fds].map(([fd, file]) => ({ fd, path: file.path, mode: file.mode }));
  }

  /** Logged directory operations not yet made durable by fsyncDir. */
  get unsyncedDirOpCount(): number {
    return this.#dirOps.length;
  }

  /** Total size of files that are reachable by name or open (what counts against the limit). */
  diskUsageBytes(): number {
    let totalBytes = 0;
    for (const id of this.#liveInodeIds()) {
      totalBytes += (this.#inodes.get(id) as Inode).visible.length;
    }
    return totalBytes;
  }

  /** Asserts the model's invariants (visible == durable + pending, for content and names). */
  checkInvariants(): void {
    for (const inode of this.#inodes.values()) {
      const replayed = inode.durable.clone();
      for (const op of inode.pending) applyContentOp(replayed, op);
      assert.deepEqual(replayed.view(), inode.visible.view(), `inode ${inode.id} diverged`);
    }
    const replayed = new Map<string, Map<string, number>>();
    for (const dir of this.#dirs.values()) replayed.set(dir.path, new Map(dir.durable));
    for (const op of this.#dirOps) {
      applyDirOp(op, (dir) => replayed.get(dir) ?? assert.fail(`unknown dir ${dir}`));
    }
    for (const dir of this.#dirs.values()) {
      assert.deepEqual(replayed.get(dir.path), dir.visible, `directory ${dir.path} diverged`);
    }
    for (const file of this.#fds.values()) assert(this.#inodes.get(file.inode.id) === file.inode);
  }

  // ----- call plumbing -----

  #startPathCall(op: FsOp, path: string, dest?: string): CallRecord {
    assert(typeof path === 'string', 'path must be a string');
    const call = this.#newCall(op);
    call.givenPath = path;
    call.givenDest = dest;
    call.path = path === '' ? '' : this.#normalize(path);
    call.dest = dest === undefined || dest === '' ? dest : this.#normalize(dest);
    return call;
  }

  #startFdCall(op: FsOp, fd: number, lengthBytes: number | undefined): CallRecord {
    assert(Number.isSafeInteger(fd), `fd must be an integer: ${fd}`);
    const call = this.#newCall(op);
    call.fd = fd;
    call.path = this.#fds.get(fd)?.path;
    call.lengthBytes = lengthBytes;
    return call;
  }

  #newCall(op: FsOp): CallRecord {
    this.#callCount++;
    return this.#callRecord(op, this.#callCount);
  }

  #callRecord(op: FsOp, callIndex: number): CallRecord {
    return {
      op,
      callIndex,
      givenPath: undefined,
      givenDest: undefined,
      path: undefined,
      dest: undefined,
      fd: undefined,
      lengthBytes: undefined,
      offsetBytes: undefined,
      resultBytes: undefined,
      injected: false,
    };
  }

  /** A record for test helpers' errors: not a FileSystem call, so not counted. */
  #helperCall(path: string): CallRecord {
    const call = this.#callRecord('stat', 0);
    call.givenPath = path;
    return call;
  }

  /** Throws an injected error, or returns the byte limit of an injected short write (or null). */
  #injectFaults(call: CallRecord): number | null {
    const decision = this.faults.decide(call);
    switch (decision.kind) {
      case 'none':
        return null;
      case 'error':
        call.injected = true;
        throw this.#error(decision.code, call, kInjectedDetail);
      case 'short':
        call.injected = true;
        return decision.maxBytes;
      default:
        return assertNever(decision);
    }
  }

  #traced<T>(call: CallRecord, body: () => T, startedAtMs?: number | null): T {
    let result: T;
    try {
      result = body();
    } catch (error) {
      this.#emit(call, error, startedAtMs);
      throw error;
    }
    this.#emit(call, null, startedAtMs);
    return result;
  }

  #emit(call: CallRecord, error: unknown, startedAtMs: number | null | undefined): void {
    const listener = this.onOp;
    if (listener === undefined) return;
    const event: SimFsOpEvent = {
      op: call.op,
      callIndex: call.callIndex,
      atMs: this.#clock?.nowMs() ?? null,
      injected: call.injected,
    };
    if (startedAtMs !== undefined) event.startedAtMs = startedAtMs;
    if (call.path !== undefined) event.path = call.path;
    if (call.dest !== undefined) event.dest = call.dest;
    if (call.fd !== undefined) event.fd = call.fd;
    if (call.offsetBytes !== undefined) event.offsetBytes = call.offsetBytes;
    if (call.lengthBytes !== undefined) event.lengthBytes = call.lengthBytes;
    if (call.resultBytes !== undefined) event.resultBytes = call.resultBytes;
    if (isFsError(error)) event.errorCode = error.code;
    listener(event);
  }

  #error(code: FsErrorCode, call: CallRecord, detail?: string): FsError {
    // Like Node: path calls name their path (and rename its dest); fd calls name none.
    return new FsError(code, call.op, { path: call.givenPath, dest: call.givenDest, detail });
  }

  // ----- lookup -----

  #normalize(path: string): string {
    return posix.resolve('/', path);
  }

  #rootDir(): DirNode {
    return this.#dirNode('/');
  }

  #dirNode(path: string): DirNode {
    const dir = this.#dirs.get(path);
    assert(dir !== undefined, `no such directory in the model: ${path}`);
    return dir;
  }

  /** Resolves a path; a missing or non-directory ancestor throws ENOENT or ENOTDIR. */
  #lookup(path: string, call: CallRecord): Lookup {
    if (path === '') throw this.#error('ENOENT', call);
    const target = this.#normalize(path);
    const dir = this.#dirs.get(target);
    if (dir !== undefined) return { kind: 'dir', dir };
    const parent = this.#parentDir(target, call);
    const name = posix.basename(target);
    const inodeId = parent.visible.get(name);
    if (inodeId === undefined) return { kind: 'missing', parent, name };
    const inode = this.#inodes.get(inodeId);
    assert(inode !== undefined, 'a visible name points at a live inode');
    return { kind: 'file', parent, name, inode };
  }

  /** Like #lookup, but a missing ancestor gives null (stat's ENOENT) instead of throwing. */
  #lookupOrNull(path: string, call: CallRecord): Lookup | null {
    try {
      return this.#lookup(path, call);
    } catch (error) {
      if (isFsError(error) && error.code === 'ENOENT') return null;
      throw error;
    }
  }

  #lookupExisting(path: string, call: CallRecord): Exclude<Lookup, { kind: 'missing' }> {
    const found = this.#lookup(path, call);
    if (found.kind === 'missing') throw this.#error('ENOENT', call);
    return found;
  }

  #parentDir(target: string, call: CallRecord): DirNode {
    let dir = this.#rootDir();
    const names = posix
      .dirname(target)
      .split('/')
      .filter((name) => name !== '');
    for (const name of names) {
      const child = this.#dirs.get(posix.join(dir.path, name));
      if (child === undefined) {
        throw this.#error(dir.visible.has(name) ? 'ENOTDIR' : 'ENOENT', call);
      }
      dir = child;
    }
    return dir;
  }

  #requireFd(fd: number, call: CallRecord): OpenFile {
    const file = this.#fds.get(fd);
    if (file === undefined) throw this.#error('EBADF', call);
    return file;
  }

  // ----- mutation -----

  #inodeForOpen(found: Lookup, mode: OpenMode, call: CallRecord): Inode {
    assert(found.kind !== 'dir');
    if (found.kind === 'file') {
      if (mode === 'write-truncate') this.#truncateInode(found.inode, 0, call);
      return found.inode;
    }
    if (mode === 'read' || mode === 'read-write') throw this.#error('ENOENT', call);
    const inode: Inode = {
      id: this.#nextInodeId++,
      visible: new ByteStore(),
      durable: new ByteStore(),
      pending: [],
    };
    this.#inodes.set(inode.id, inode);
    this.#logDirOp({ kind: 'link', dir: found.parent.path, name: found.name, inodeId: inode.id });
    return inode;
  }

  #createDir(parent: DirNode, name: string): DirNode {
    const path = posix.join(parent.path, name);
    const dir: DirNode = { path, visible: new Map(), durable: new Map(), subdirs: new Set() };
    this.#dirs.set(path, dir);
    parent.subdirs.add(name);
    return dir;
  }

  #truncateInode(inode: Inode, lengthBytes: number, call: CallRecord): void {
    if (lengthBytes > kMaxFileSizeBytes) throw this.#error('EFBIG', call);
    this.#recordContentOp(inode, { kind: 'truncate', seq: 0, lengthBytes });
  }

  #recordContentOp(inode: Inode, op: ContentOp): void {
    const recorded: ContentOp = { ...op, seq: this.#nextSeq++ };
    applyContentOp(inode.visible, recorded);
    inode.pending.push(recorded);
  }

  #logDirOp(op: DirOp): void {
    applyDirOp(op, (dir) => this.#dirNode(dir).visible);
    this.#dirOps.push(op);
  }

  /** Makes durable the pending content operations with seq <= uptoSeq (all that were issued). */
  #syncInode(inode: Inode, uptoSeq: number): void {
    let count = 0;
    while (count < inode.pending.length && (inode.pending[count] as ContentOp).seq <= uptoSeq) {
      applyContentOp(inode.durable, inode.pending[count] as ContentOp);
      count++;
    }
    inode.pending.splice(0, count);
  }

  /** fsyncDir: commits the log prefix that ends with the last operation touching `dir`. */
  #commitDirOpsThrough(dir: string): void {
    let end = 0;
    this.#dirOps.forEach((op, index) => {
      if (dirOpTouches(op, dir)) end = index + 1;
    });
    for (const op of this.#dirOps.slice(0, end)) {
      applyDirOp(op, (path) => this.#dirNode(path).durable);
    }
    this.#dirOps = this.#dirOps.slice(end);
    this.#collectGarbage();
  }

  /** Shortens a write that would grow the files past the disk limit; ENOSPC if nothing fits. */
  #fitOnDisk(inode: Inode, offsetBytes: number, lengthBytes: number, call: CallRecord): number {
    const limitBytes = this.#diskSizeLimitBytes;
    if (limitBytes === null || lengthBytes === 0) return lengthBytes;
    const sizeBytes = inode.visible.length;
    const growthBytes = Math.max(0, offsetBytes + lengthBytes - sizeBytes);
    const availableBytes = Math.max(0, limitBytes - this.diskUsageBytes());
    if (growthBytes <= availableBytes) return lengthBytes;
    const fitBytes = Math.max(0, sizeBytes + availableBytes - offsetBytes);
    if (fitBytes === 0) throw this.#error('ENOSPC', call);
    return fitBytes;
  }

  /** Inodes reachable by a visible name or an open fd (the ones a running process can see). */
  #liveInodeIds(): Set<number> {
    const ids = new Set<number>();
    for (const dir of this.#dirs.values()) for (const id of dir.visible.values()) ids.add(id);
    for (const file of this.#fds.values()) ids.add(file.inode.id);
    return ids;
  }

  #durablyNamedInodeIds(): Set<number> {
    const ids = new Set<number>();
    for (const dir of this.#dirs.values()) for (const id of dir.durable.values()) ids.add(id);
    return ids;
  }

  /** Forgets inodes that neither the running process nor any possible crash outcome can reach. */
  #collectGarbage(): void {
    const keep = this.#liveInodeIds();
    for (const id of this.#durablyNamedInodeIds()) keep.add(id);
    for (const op of this.#dirOps) if (op.kind !== 'unlink') keep.add(op.inodeId);
    for (const id of [...this.#inodes.keys()]) if (!keep.has(id)) this.#inodes.delete(id);
  }
}
