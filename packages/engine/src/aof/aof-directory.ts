// DESIGN: the AOF directory as files (Redis aof.c's manifest and file-name functions): the
// manifest in memory and on disk, the names of base, INCR, history and temp files, and the file
// work of start-up (legacy upgrade, the first base and INCR), of a rewrite's start (a new INCR
// listed in the manifest before the writer switches to it) and of its end (the new base renamed
// in, older files retired to history and deleted in the background).
//
// The manifest in memory is private and is only ever replaced by a persisted copy: every change
// clones it, persists the clone (temp file, fsync, rename, fsync of the directory) and adopts it
// only then (Redis aofManifestDup / aofManifestFreeAndUpdate), so memory never runs ahead of the
// disk. A persist that failed AFTER its rename (the directory fsync failed) has already put the
// new manifest in place: it is written back (restoreAfterFailedPersist), and while that cannot be
// made sure the manifest is "in doubt" and writes are refused until the cron's retry succeeds.
//
// Owned by AofPersistence, which decides WHEN each of these happens; this module knows nothing of
// the AOF state, the writer or the dataset.

import { posix as path } from 'node:path';
import type { BioClient } from '@aofkv/bio-workers';
import { isFsError, type FileSystem } from '../io/file-system.ts';
import {
  AofManifest,
  loadManifestFromDisk,
  manifestName,
  newBaseFile,
  newIncrFile,
  persistManifest,
  tempIncrName,
  type AofInfo,
  type AofNames,
} from './aof-manifest.ts';
import { closeQuietly, type AofLogger } from './aof-writer.ts';
import type { LatencyMonitor } from './latency-monitor.ts';

export interface AofDirectoryDeps {
  fs: FileSystem;
  bio: BioClient;
  log: AofLogger;
  latency: LatencyMonitor;
  /** The data directory (`dir`): where the legacy file and the temp bases live. */
  dir: string;
  names: AofNames;
}

/** How the writer should continue after the INCR of a rewrite's start was opened. */
export interface OpenedIncr {
  fd: number;
  fileName: string;
}

export class AofDirectory {
  readonly names: AofNames;
  private manifest = new AofManifest();
  /**
   * Set (to the error code) when a manifest persist at a rewrite's start failed after its rename
   * and the old manifest could not be written back: the manifest on disk may list an INCR newer
   * than the one the writer appends to. Writes are refused (MISCONF) while it is set.
   */
  private inDoubt: string | null = null;
  /**
   * The highest base and INCR sequence numbers of a manifest that may have reached the disk
   * without becoming the one in memory (its persist failed after the rename, and the old one could
   * not be written back). Never handed out again (see nextFreeName): that manifest may name them.
   */
  private doubtfulBaseSeq = 0;
  private doubtfulIncrSeq = 0;
  private readonly deps: AofDirectoryDeps;

  constructor(deps: AofDirectoryDeps) {
    this.deps = deps;
    this.names = deps.names;
  }

  /** The manifest in memory (read only: changes go through the operations below). */
  get current(): Readonly<AofManifest> {
    return this.manifest;
  }

  get manifestInDoubt(): string | null {
    return this.inDoubt;
  }

  file(name: string): string {
    return path.join(this.names.aofDir, name);
  }

  manifestPath(): string {
    return this.file(manifestName(this.names));
  }

  /** Redis aofLoadManifestFromDisk. */
  reload(): void {
    this.manifest = loadManifestFromDisk(this.deps.fs, this.names);
  }

  totalSizeBytes(): number {
    let total = 0;
    for (const f of this.manifest.loadOrder()) total += this.sizeOf(f.fileName);
    return total;
  }

  baseSizeBytes(): number {
    const base = this.manifest.base;
    return base === null ? 0 : this.sizeOf(base.fileName);
  }

  /** A file's size for INFO and the auto-rewrite estimate; 0 when it cannot be read. */
  private sizeOf(fileName: string): number {
    try {
      return this.deps.fs.stat(this.file(fileName))?.sizeBytes ?? 0;
    } catch {
      return 0;
    }
  }

  /** The next base of `next`, never a name a manifest in doubt may hold. */
  private nameBase(next: AofManifest, rdb: boolean): AofInfo {
    return newBaseFile(next, this.names, rdb, this.doubtfulBaseSeq);
  }

  /** The next INCR of `next`, never a name a manifest in doubt may hold. */
  private nameIncr(next: AofManifest): AofInfo {
    return newIncrFile(next, this.names, this.doubtfulIncrSeq);
  }

  /** A persist of `next` failed and could not be undone: the manifest on disk may be `next`. */
  private markInDoubt(next: AofManifest, err: unknown): void {
    this.inDoubt = isFsError(err) ? err.code : 'EIO';
    this.doubtfulBaseSeq = Math.max(this.doubtfulBaseSeq, next.currBaseFileSeq);
    this.doubtfulIncrSeq = Math.max(this.doubtfulIncrSeq, next.currIncrFileSeq);
  }

  // ---- start-up -------------------------------------------------------------------------------

  /** The legacy single-file AOF `<dir>/<appendfilename>`. */
  legacyPath(): string {
    return path.join(this.deps.dir, this.names.fileName);
  }

  /** Redis loadAppendOnlyFiles' upgrade condition (spec §1.6). */
  legacyUpgradeNeeded(): boolean {
    const { fs } = this.deps;
    if (fs.stat(this.legacyPath()) === null) return false;
    const m = this.manifest;
    const dirMissing = fs.stat(this.names.aofDir) === null;
    const interrupted =
      m.base !== null &&
      m.base.fileName === this.names.fileName &&
      m.incrList.length === 0 &&
      fs.stat(this.file(this.names.fileName)) === null;
    return dirMissing || m.isEmpty || interrupted;
  }

  /** Redis aofUpgradePrepare: move `<dir>/{F}` into the AOF directory as the base. */
  upgradeLegacyIfNeeded(): void {
    if (!this.legacyUpgradeNeeded()) return;
    const { fs } = this.deps;
    fs.mkdir(this.names.aofDir);
    const next = this.manifest.clone();
    next.base = { fileName: this.names.fileName, fileSeq: 1, fileType: 'b' };
    next.currBaseFileSeq = 1;
    next.dirty = true;
    persistManifest(fs, this.names, next);
    this.manifest = next;
    fs.rename(this.legacyPath(), this.file(this.names.fileName));
    fs.fsyncDir(this.names.aofDir);
    this.deps.log(
      'notice',
      `Successfully migrated an old-style AOF into the AOF directory (${this.names.aofDir})`,
    );
  }

  /**
   * Redis aofOpenIfNeededOnServerStart: with no base and no INCR, write a base of the dataset
   * (`writeBase` into the fd of a temp file); then open the last INCR, or create the first one,
   * for appending, and persist the manifest naming it. Returns the INCR's fd and size.
   */
  openOnServerStart(
    rdbBase: boolean,
    writeBase: (fd: number) => void,
  ): { fd: number; sizeBytes: number } {
    const { fs } = this.deps;
    fs.mkdir(this.names.aofDir);
    const next = this.manifest.clone();
    if (next.isEmpty) {
      const base = this.nameBase(next, rdbBase);
      this.writeTempThenRename(this.file(base.fileName), writeBase);
      this.deps.log('notice', `Creating AOF base file ${base.fileName} on server start`);
    }
    const hadIncr = next.incrList.length > 0;
    const incr = hadIncr ? next.incrList[next.incrList.length - 1]! : this.nameIncr(next);
    // Deviation: Redis opens a new INCR without O_TRUNC too. A file of that name that the
    // manifest does not list (a history file whose unlink failed, once every INCR became
    // history and the sequence started again) would then be appended to, and its stale commands
    // replayed on top of the base at the next start. A new INCR starts empty.
    const path = this.file(incr.fileName);
    const fd = hadIncr ? fs.open(path, 'append') : openTruncatedForAppend(fs, path);
    try {
      persistManifest(fs, this.names, next);
    } catch (err) {
      closeQuietly(fs, fd);
      throw err;
    }
    this.manifest = next;
    const verb = hadIncr ? 'Opening' : 'Creating';
    this.deps.log('notice', `${verb} AOF incr file ${incr.fileName} on server start`);
    return { fd, sizeBytes: fs.fileSize(fd) };
  }

  /** Redis rewriteAppendOnlyFile(filename): a temp file in `dir`, fsynced, renamed in. */
  private writeTempThenRename(target: string, write: (fd: number) => void): void {
    const { fs } = this.deps;
    const tmp = path.join(this.deps.dir, `temp-rewriteaof-${process.pid}.aof`);
    const fd = fs.open(tmp, 'write-truncate');
    try {
      write(fd);
      fs.fdatasync(fd);
    } finally {
      fs.close(fd);
    }
    fs.rename(tmp, target);
    fs.fsyncDir(this.names.aofDir);
  }

  // ---- history and removal --------------------------------------------------------------------

  /** Redis aofDelHistoryFiles: unlink history files and persist the manifest without them. */
  deleteHistoryFiles(): void {
    if (this.manifest.historyList.length === 0) return;
    const next = this.manifest.clone();
    for (const h of next.historyList) {
      this.deps.log('notice', `Removing the history file ${h.fileName} in the background`);
      this.bgUnlink(this.file(h.fileName));
    }
    next.historyList = [];
    next.dirty = true;
    try {
      persistManifest(this.deps.fs, this.names, next);
      this.manifest = next;
    } catch {
      // Redis ignores failures here: the files are gone, the manifest still lists them as history.
    }
  }

  /** Redis bg_unlink: unlink now, let bio close the fd so the blocks are freed off this thread. */
  bgUnlink(filePath: string): void {
    const { fs, bio } = this.deps;
    let fd: number;
    try {
      fd = fs.open(filePath, 'read');
    } catch {
      unlinkQuietly(fs, filePath);
      return;
    }
    unlinkQuietly(fs, filePath);
    bio.submitClose(fd, false);
  }

  /** Redis aofDelTempIncrAofFile. */
  removeTempIncr(): void {
    this.deps.log('notice', 'Removing the temp incr aof file in background');
    this.bgUnlink(this.file(tempIncrName(this.names)));
  }

  // ---- a rewrite's start and end --------------------------------------------------------------

  /**
   * Redis openNewIncrAofForAppend's file work. Waiting for the first rewrite (appendonly was just
   * turned on): a temp INCR outside the manifest. Otherwise a new INCR, listed in a persisted
   * manifest before anything is written to it. Returns null when that failed (logged); then the
   * manifest on disk still ends with the INCR being appended to, unless it is in doubt.
   */
  openIncrForRewrite(firstRewrite: boolean): OpenedIncr | null {
    const { fs } = this.deps;
    let fd = -1;
    try {
      if (firstRewrite) {
        const fileName = tempIncrName(this.names);
        fd = openTruncatedForAppend(fs, this.file(fileName));
        return { fd, fileName };
      }
      const next = this.manifest.clone();
      const incr = this.nameIncr(next);
      fd = openTruncatedForAppend(fs, this.file(incr.fileName));
      this.persistOrRestore(next);
      this.manifest = next;
      this.deps.log('notice', `Creating AOF incr file ${incr.fileName} on background rewrite`);
      return { fd, fileName: incr.fileName };
    } catch (err) {
      closeQuietly(fs, fd);
      const message = (err as Error).message;
      this.deps.log('warning', `Can't open the append-only file for the rewrite: ${message}`);
      return null;
    }
  }

  /**
   * Redis backgroundRewriteDoneHandler's file work: rename the temp base in as the next base
   * (its suffix from aof-use-rdb-preamble now, as Redis names it at completion), rename the temp
   * INCR in when this was the first rewrite, retire the older INCRs (all of them when the AOF is
   * off) to history and persist the manifest. On failure (logged) nothing the manifest on disk
   * names is deleted and false is returned; the caller then deletes the history files on success.
   */
  installBase(
    tempPath: string,
    opts: { rdbSuffix: boolean; firstRewrite: boolean; aofOff: boolean },
  ): boolean {
    const { fs, latency } = this.deps;
    const next = this.manifest.clone();
    const base = this.nameBase(next, opts.rdbSuffix);
    const basePath = this.file(base.fileName);
    let newIncrPath: string | null = null;
    try {
      renameTimed(fs, latency, tempPath, basePath);
      if (opts.firstRewrite) {
        const incr = this.nameIncr(next);
        newIncrPath = this.file(incr.fileName);
        renameTimed(fs, latency, this.file(tempIncrName(this.names)), newIncrPath);
      }
      markRewrittenIncrAsHistory(next, opts.aofOff);
      persistManifest(fs, this.names, next);
    } catch (err) {
      this.deps.log('warning', `Error finishing the AOF rewrite: ${(err as Error).message}`);
      // If the failed persist got as far as its rename, the manifest on disk names the new base
      // (and INCR): put the old manifest back, and keep the files either one may name. Otherwise
      // they are orphans; bgUnlink tolerates files that do not exist.
      if (this.restoreAfterFailedPersist(err)) {
        this.bgUnlink(basePath);
        if (newIncrPath !== null) this.bgUnlink(newIncrPath);
      } else {
        // The manifest on disk may name the new base (and a first rewrite's renamed INCR) while
        // this process goes on with the old one: in doubt until the cron restores it.
        this.markInDoubt(next, err);
      }
      return false;
    }
    this.manifest = next;
    return true;
  }

  /**
   * Persist `next`; if that fails, make sure the manifest on disk is the one in memory again, or
   * mark it in doubt. Rethrows the persist's error.
   */
  private persistOrRestore(next: AofManifest): void {
    try {
      persistManifest(this.deps.fs, this.names, next);
    } catch (err) {
      // The writer stays on the current INCR: the manifest on disk must not name a newer one.
      if (!this.restoreAfterFailedPersist(err)) this.markInDoubt(next, err);
      throw err;
    }
    this.inDoubt = null;
  }

  /** serverCron: put the manifest in memory back on disk while it is in doubt. */
  retryManifestRestore(): void {
    if (this.inDoubt === null) return;
    const back = this.manifest.clone();
    back.dirty = true;
    try {
      persistManifest(this.deps.fs, this.names, back);
    } catch {
      return;
    }
    this.deps.log('notice', 'Restored the AOF manifest; writes are accepted again');
    this.inDoubt = null;
  }

  /**
   * persistManifest failed. If it failed at the directory fsync, its rename already replaced the
   * manifest on disk: write the one in memory back (best effort). True when the manifest on disk
   * is known to be the one in memory again (the failure came before the rename, or the restore
   * succeeded), so files only the failed manifest named may be deleted.
   */
  private restoreAfterFailedPersist(err: unknown): boolean {
    if (!isFsError(err) || err.syscall !== 'fsyncDir') return true;
    const back = this.manifest.clone();
    back.dirty = true;
    try {
      persistManifest(this.deps.fs, this.names, back);
    } catch (again) {
      const message = (again as Error).message;
      this.deps.log(
        'warning',
        `Can't restore the AOF manifest after a failed directory fsync: ${message}`,
      );
      return false;
    }
    // Its directory fsync committed the earlier rename too: the failed manifest cannot come back.
    this.deps.log('notice', 'Restored the AOF manifest after a failed directory fsync');
    return true;
  }
}

function renameTimed(fs: FileSystem, latency: LatencyMonitor, from: string, to: string): void {
  const t0 = performance.now();
  fs.rename(from, to);
  latency.addSampleIfNeeded('aof-rename', performance.now() - t0);
}

function unlinkQuietly(fs: FileSystem, filePath: string): void {
  try {
    fs.unlink(filePath);
  } catch {
    /* already gone, or the disk refused: Redis ignores both */
  }
}

/**
 * Redis opens a new INCR with O_WRONLY|O_TRUNC|O_CREAT|O_APPEND. The FileSystem seam has no such
 * mode, and 'write-truncate' alone writes at the fd's position: after a short write that the
 * writer cuts back with ftruncate, the next write would leave a zero-filled hole. So: create or
 * empty the file, then open it for appending.
 */
function openTruncatedForAppend(fs: FileSystem, filePath: string): number {
  closeQuietly(fs, fs.open(filePath, 'write-truncate'));
  return fs.open(filePath, 'append');
}

/**
 * Redis markRewrittenIncrAofAsHistory: every INCR but the last (all of them when the AOF is off)
 * becomes history, placed before older history entries, in ascending order.
 */
function markRewrittenIncrAsHistory(m: AofManifest, aofOff: boolean): void {
  const keep = aofOff ? 0 : Math.min(1, m.incrList.length);
  const retired = m.incrList.slice(0, m.incrList.length - keep);
  for (const r of retired) r.fileType = 'h';
  m.historyList = [...retired, ...m.historyList];
  m.incrList = m.incrList.slice(m.incrList.length - keep);
  m.dirty = true;
}
