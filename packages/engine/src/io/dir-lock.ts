// One writer per data directory: the lock file `<dir>/<appendfilename>.lock` (by default
// `appendonly.aof.lock`). Per appendfilename rather than per dir because Redis lets two servers
// share a dir when their appendfilename differs (its test "Multi Part AOF can upgrade when two
// redis share the same server dir"): every file of an AOF (legacy file, manifest, base, INCR)
// is named after appendfilename, so that name is what one writer owns. Redis locks nothing because
// one server owns its dir; an embedded engine has no such guarantee (two processes, a restart
// that overlaps the old one, two openEngine calls), and two writers appending to one INCR file,
// or one retiring files the other still writes, lose data. LevelDB's LOCK plays the same part.
//
// DESIGN (Node has no flock, and every byte goes through the FileSystem seam, so the simulator's
// crashes reach the lock too)
// - The lock file holds JSON {pid, host, startTime, bootId, since, nonce}. It is never written in
//   place: its content goes to a temp file of our own (fdatasync'd), and link(2) gives that file
//   the lock's name. link fails with EEXIST when the name exists, so "create, complete, only if
//   absent" is one atomic step and no reader ever sees a half-written lock.
// - A holder is alive unless the ProcessProbe is certain it is dead (another boot, no such pid, a
//   zombie, a pid reused by a process with another start time). A holder on another host, or
//   this very process (a second openEngine), is alive: never displaced.
// - A stale lock (dead holder, or unreadable bytes after a power cut) is taken over without
//   letting two takers both win. Removing it is the dangerous step: a taker that read "stale X"
//   must never remove the lock a faster taker already put in X's place. So removal needs a CLAIM:
//   link(temp, `aofkv.lock.claim-<X>-<g>`), exclusive by the same EEXIST rule, where X is the
//   stale lock's nonce (or content hash) and g the claim's generation. Only the claimer of X reads
//   the lock again and, if it is still X, unlinks it; nobody else can remove X meanwhile (X's
//   holder is dead, and a new lock cannot appear while the name exists), so what it unlinks is X.
//   Then it links its own lock like any opener, and may still lose that race to a fresh opener,
//   which is then a live holder. A taker that finds a live claim gives up (ERR_DIR_LOCKED: the
//   claimer is about to hold the dir). A claim whose claimer died is skipped by claiming the next
//   generation, again exclusively, so one dead taker cannot wedge the directory.
// - Leftovers: temp and claim files of dead processes are removed by the next holder. Claims of X
//   are harmless once X is gone (nonces are never reused): a late claimer reads the lock, sees it
//   is not X, and drops its claim.
// - Release (close) unlinks the lock only if it still holds our nonce, then fsyncs the dir. A
//   process that dies keeps its lock file; the next opener takes it over as above.

import { createHash, randomBytes } from 'node:crypto';
import { posix as path } from 'node:path';
import { EngineError } from '../errors.ts';
import { isFsError, type FileSystem } from './file-system.ts';
import type { Liveness, ProcessIdentity, ProcessProbe } from './process-probe.ts';

/** The lock file's name for an AOF named `appendfilename`. */
export function lockFileName(appendfilename: string): string {
  return `${appendfilename}.lock`;
}
const TEMP_INFIX = '.tmp-';
const CLAIM_INFIX = '.claim-';
const LOCK_FORMAT = 'aofkv-lock/1';
/** A lock file is a few hundred bytes; anything larger is not ours and is read as garbled. */
const LOCK_FILE_MAX_BYTES = 4096;
/** Rounds of link → read → claim before giving up (each lost round means another opener won). */
const ACQUIRE_ROUNDS_MAX = 8;
/** Dead claimers skipped before the takeover gives up and asks for a hand. */
const CLAIM_GENERATIONS_MAX = 16;

export interface LockRecord extends ProcessIdentity {
  /** ISO time the lock was taken. */
  readonly since: string;
  /** Unique per acquisition: tells this lock from any earlier one of the same process. */
  readonly nonce: string;
}

export interface DirLockDeps {
  fs: FileSystem;
  probe: ProcessProbe;
  dir: string;
  /** lockFileName(appendfilename). */
  lockName: string;
  nowMs: () => number;
}

/** What a look at the lock file found (readOnly opens and the CLI only report it). */
export interface LockHolder {
  readonly record: LockRecord;
  readonly liveness: Liveness;
  readonly lockPath: string;
}

type LockRead =
  | { kind: 'missing' }
  | { kind: 'record'; record: LockRecord; id: string }
  | { kind: 'garbled'; id: string };

/** A held lock. release() is idempotent and never throws. */
export class DirLock {
  readonly lockPath: string;
  readonly record: LockRecord;
  /** The dead holder whose lock was taken over, if any (for the log). */
  readonly tookOverFrom: LockRecord | null;
  #released = false;
  readonly #fs: FileSystem;
  readonly #dir: string;

  constructor(
    fs: FileSystem,
    lockPath: string,
    record: LockRecord,
    tookOverFrom: LockRecord | null,
  ) {
    this.#fs = fs;
    this.#dir = path.dirname(lockPath);
    this.lockPath = lockPath;
    this.record = record;
    this.tookOverFrom = tookOverFrom;
  }

  get released(): boolean {
    return this.#released;
  }

  /** Removes the lock file if it is still ours. False when that failed (the file stays). */
  release(): boolean {
    if (this.#released) return true;
    this.#released = true;
    try {
      const current = readLock(this.#fs, this.lockPath);
      if (current.kind !== 'record' || current.record.nonce !== this.record.nonce) return true;
      this.#fs.unlink(this.lockPath);
      this.#fs.fsyncDir(this.#dir);
      return true;
    } catch {
      // A lock file left behind names this process, which is about to be gone: the next opener
      // takes it over as stale (or, if this process lives on, reports it as held).
      return false;
    }
  }
}

/**
 * Take the lock of `deps.dir` (which must exist). Throws EngineError ERR_DIR_LOCKED when another
 * live engine holds it, and FsError when the file system fails (nothing of ours is left then).
 */
export function acquireDirLock(deps: DirLockDeps): DirLock {
  const { fs, dir } = deps;
  const lockPath = path.join(dir, deps.lockName);
  const record: LockRecord = {
    ...deps.probe.self(),
    since: new Date(deps.nowMs()).toISOString(),
    nonce: randomBytes(8).toString('hex'),
  };
  const tempName = `${deps.lockName}${TEMP_INFIX}${tempTag(record)}-${record.nonce}`;
  const tempPath = path.join(dir, tempName);
  writeLockFile(fs, tempPath, record);
  let linked = false;
  try {
    let tookOverFrom: LockRecord | null = null;
    for (let round = 0; round < ACQUIRE_ROUNDS_MAX; round++) {
      if (tryLink(fs, tempPath, lockPath)) {
        linked = true;
        fs.unlink(tempPath);
        fs.fsyncDir(dir);
        const lock = new DirLock(fs, lockPath, record, tookOverFrom);
        removeLeftovers(deps, record.nonce);
        return lock;
      }
      const current = readLock(fs, lockPath);
      if (current.kind === 'missing') continue; // released or taken over meanwhile: link again
      if (current.kind === 'record') {
        const liveness = deps.probe.liveness(current.record);
        if (liveness !== 'dead')
          throw lockedError(dir, { record: current.record, liveness, lockPath });
        tookOverFrom = current.record;
      }
      removeStaleLock(deps, lockPath, tempPath, current.id);
    }
    throw new EngineError(
      'ERR_DIR_LOCKED',
      `Data directory ${dir} could not be locked: other engines opened it at the same time ` +
        `${ACQUIRE_ROUNDS_MAX} times in a row. Open it again.`,
    );
  } catch (err) {
    if (!linked) unlinkQuietly(fs, tempPath);
    throw err;
  }
}

/** Who holds the lock at `lockPath` (null: nobody, or a dead holder). Reads only; never throws. */
export function readLockHolder(
  fs: FileSystem,
  probe: ProcessProbe,
  lockPath: string,
): LockHolder | null {
  let current: LockRead;
  try {
    current = readLock(fs, lockPath);
  } catch {
    return null;
  }
  if (current.kind !== 'record') return null;
  const liveness = probe.liveness(current.record);
  return liveness === 'dead' ? null : { record: current.record, liveness, lockPath };
}

/** The holder in words, for messages: "pid 42 on host h (since 2026-...)". */
export function describeHolder(record: LockRecord): string {
  return `pid ${record.pid} on host ${record.host} (since ${record.since})`;
}

export function lockedError(dir: string, holder: LockHolder): EngineError {
  const who = describeHolder(holder.record);
  const advice =
    holder.liveness === 'unknown'
      ? 'That host is not this one, so whether the process still runs cannot be checked here. ' +
        `If it does not, delete ${holder.lockPath} and open again.`
      : 'Close that engine (engine.close()) or stop its process, then open again; to read the ' +
        'data while it runs, open with readOnly: true.';
  return new EngineError(
    'ERR_DIR_LOCKED',
    `Data directory ${dir} is locked by another engine: ${who}, lock file ${holder.lockPath}. ` +
      advice,
  );
}

/**
 * Claim the stale lock `staleId` and remove it if it is still there (see DESIGN). Returns after
 * removing it, or when it was already gone; throws ERR_DIR_LOCKED when a live taker claimed it.
 */
function removeStaleLock(deps: DirLockDeps, lockPath: string, tempPath: string, staleId: string) {
  const { fs, dir } = deps;
  for (let generation = 1; generation <= CLAIM_GENERATIONS_MAX; generation++) {
    const claimPath = path.join(dir, `${deps.lockName}${CLAIM_INFIX}${staleId}-${generation}`);
    if (!tryLink(fs, tempPath, claimPath)) {
      const claim = readLock(fs, claimPath);
      if (claim.kind === 'record') {
        const liveness = deps.probe.liveness(claim.record);
        if (liveness !== 'dead') {
          throw new EngineError(
            'ERR_DIR_LOCKED',
            `Data directory ${dir} is being taken over by another engine: ` +
              `${describeHolder(claim.record)} is replacing the stale lock ${lockPath}. ` +
              'Open again once it holds the directory (it will then report as the holder).',
          );
        }
      }
      continue; // a dead (or vanished) claimer: claim the next generation
    }
    try {
      const current = readLock(fs, lockPath);
      const stillStale =
        (current.kind === 'record' || current.kind === 'garbled') && current.id === staleId;
      if (stillStale) fs.unlink(lockPath);
    } finally {
      unlinkQuietly(fs, claimPath);
    }
    return;
  }
  throw new EngineError(
    'ERR_DIR_LOCKED',
    `Data directory ${dir}: ${CLAIM_GENERATIONS_MAX} engines died while taking over the stale ` +
      `lock ${lockPath}. Make sure no engine runs on this directory, delete the lock file and ` +
      `the ${deps.lockName}${CLAIM_INFIX}* files, and open again.`,
  );
}

/** Temp and claim files of processes that are gone (ours are not touched). */
function removeLeftovers(deps: DirLockDeps, ownNonce: string): void {
  const { fs, dir } = deps;
  let names: string[];
  try {
    names = fs.readdir(dir);
  } catch {
    return;
  }
  const tempPrefix = `${deps.lockName}${TEMP_INFIX}`;
  const claimPrefix = `${deps.lockName}${CLAIM_INFIX}`;
  for (const name of names) {
    if (!name.startsWith(tempPrefix) && !name.startsWith(claimPrefix)) continue;
    const filePath = path.join(dir, name);
    try {
      const read = readLock(fs, filePath);
      if (read.kind === 'missing') continue;
      if (read.kind === 'record') {
        // Ours (a claim whose unlink failed): the lock is held, so it is a leftover too.
        if (read.record.nonce === ownNonce) {
          fs.unlink(filePath);
          continue;
        }
        // A live process's temp file is in use by its opener; its claims are obsolete now that
        // we hold the lock (it will find the lock is not the one it claimed), but leave them to it.
        if (deps.probe.liveness(read.record) !== 'dead') continue;
      } else if (name.startsWith(tempPrefix) && !tempWriterIsDead(deps.probe, name, tempPrefix)) {
        // Unreadable: maybe a temp file its opener is still writing. Its name says who that is.
        continue;
      }
      fs.unlink(filePath);
    } catch {
      // Best effort: a leftover only costs a directory entry.
    }
  }
}

/**
 * What a temp file's name says about its writer: `<pid>-<boot hash>`, so an unreadable temp file
 * (being written, or torn by a power cut) can be told from one whose writer is gone.
 */
function tempTag(identity: ProcessIdentity): string {
  return `${identity.pid}-${bootHash(identity.bootId)}`;
}

function bootHash(bootId: string): string {
  return createHash('sha256').update(bootId).digest('hex').slice(0, 8);
}

function tempWriterIsDead(probe: ProcessProbe, name: string, tempPrefix: string): boolean {
  const match = /^(\d+)-([0-9a-f]{8})-/.exec(name.slice(tempPrefix.length));
  if (match === null) return true; // not a name we write: not anyone's temp file
  const me = probe.self();
  if (match[2] !== bootHash(me.bootId)) return true; // written before the last boot
  // The start time is not in the name: a running pid counts as the writer (a reused pid only
  // makes a leftover stay until that process ends).
  const writer = { pid: Number(match[1]), host: me.host, startTime: '', bootId: me.bootId };
  return probe.liveness(writer) === 'dead';
}

function writeLockFile(fs: FileSystem, filePath: string, record: LockRecord): void {
  const bytes = Buffer.from(`${JSON.stringify({ format: LOCK_FORMAT, ...record })}\n`, 'utf8');
  const fd = fs.open(filePath, 'write-truncate');
  try {
    let written = 0;
    while (written < bytes.length) {
      const n = fs.write(fd, bytes, written, bytes.length - written);
      if (n <= 0) throw new Error(`no progress writing ${filePath}`);
      written += n;
    }
    fs.fdatasync(fd);
  } catch (err) {
    closeQuietly(fs, fd);
    unlinkQuietly(fs, filePath);
    throw err;
  }
  fs.close(fd);
}

/** link(2); false on EEXIST. */
function tryLink(fs: FileSystem, from: string, to: string): boolean {
  try {
    fs.link(from, to);
    return true;
  } catch (err) {
    if (isFsError(err) && err.code === 'EEXIST') return false;
    throw err;
  }
}

function readLock(fs: FileSystem, filePath: string): LockRead {
  const st = fs.stat(filePath);
  if (st === null) return { kind: 'missing' };
  if (st.isDirectory || st.sizeBytes > LOCK_FILE_MAX_BYTES) {
    return { kind: 'garbled', id: `size${st.sizeBytes}` };
  }
  let bytes: Buffer;
  try {
    bytes = fs.readFile(filePath);
  } catch (err) {
    if (isFsError(err) && err.code === 'ENOENT') return { kind: 'missing' };
    throw err;
  }
  const record = parseRecord(bytes);
  if (record !== null) return { kind: 'record', record, id: record.nonce };
  return { kind: 'garbled', id: createHash('sha256').update(bytes).digest('hex').slice(0, 16) };
}

function parseRecord(bytes: Buffer): LockRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const isText = (x: unknown): x is string => typeof x === 'string';
  if (v.format !== LOCK_FORMAT || !Number.isSafeInteger(v.pid)) return null;
  if (!isText(v.host) || !isText(v.startTime) || !isText(v.bootId)) return null;
  if (!isText(v.since) || !isText(v.nonce) || !/^[0-9a-f]{1,64}$/.test(v.nonce)) return null;
  return {
    pid: v.pid as number,
    host: v.host,
    startTime: v.startTime,
    bootId: v.bootId,
    since: v.since,
    nonce: v.nonce,
  };
}

function unlinkQuietly(fs: FileSystem, filePath: string): void {
  try {
    fs.unlink(filePath);
  } catch {
    /* best effort */
  }
}

function closeQuietly(fs: FileSystem, fd: number): void {
  try {
    fs.close(fd);
  } catch {
    /* the fd is released anyway */
  }
}

/**
 * The live writer, if any, of the AOF that `aofPath` belongs to (a manifest, a base or INCR file,
 * or a legacy single file): a lock `<name>.lock` in the file's directory or its parent whose
 * `<name>` (the appendfilename) begins the file's name. For tools that take a path, not a dir.
 */
export function findLockHolderOf(
  fs: FileSystem,
  probe: ProcessProbe,
  aofPath: string,
): LockHolder | null {
  const fileName = path.basename(aofPath);
  const fileDir = path.dirname(aofPath);
  for (const dir of [fileDir, path.dirname(fileDir)]) {
    let names: string[];
    try {
      names = fs.readdir(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (!name.endsWith('.lock') || !fileName.startsWith(name.slice(0, -'.lock'.length))) continue;
      const holder = readLockHolder(fs, probe, path.join(dir, name));
      if (holder !== null) return holder;
    }
  }
  return null;
}
