// DESIGN: Redis loadAppendOnlyFiles / loadSingleAppendOnlyFile (spec §7.2–§7.4). Every file of the
// manifest's load order (base, then INCRs) is replayed through the normal command executor with
// the server in loading mode: nothing propagates, nothing expires. Outcomes and messages follow
// Redis; each fatal outcome is a typed AofLoadError naming the file, the byte offset and what to
// do.
//
// Deliberate deviation: Redis physically truncates a damaged non-last file before failing; we
// fail without touching it (the spec calls that an upstream quirk), so a failed start never edits
// a file that a user may still want to repair by hand.

import { posix as path } from 'node:path';
import { latin1Slice } from '../bytes.ts';
import { EngineError, type EngineErrorCode } from '../errors.ts';
import type { FileStat, FileSystem } from '../io/file-system.ts';
import type { Server } from '../server.ts';
import type { AofManifest } from './aof-manifest.ts';
import { RespFileReader, parseLeadingInt } from '../io/resp-file-reader.ts';
import { CommandNameCache } from './command-name-cache.ts';
import type { AofLogger } from './aof-writer.ts';

export type FileLoadOutcome =
  | { kind: 'ok' }
  | { kind: 'empty' }
  | { kind: 'not-exist' }
  | { kind: 'truncated'; validUpTo: number; fileSize: number };

export type LoadOutcome = 'ok' | 'not-exist' | 'empty' | 'truncated';

export class AofLoadError extends EngineError {
  readonly file: string;
  readonly offset: number;
  constructor(code: EngineErrorCode, message: string, file: string, offset: number) {
    super(code, message);
    this.file = file;
    this.offset = offset;
  }
}

/** INFO loading_* (spec §7.4). */
export class LoadingProgress {
  loading = false;
  startTimeSec = 0;
  totalBytes = 0;
  loadedBytes = 0;
  listener: ((p: LoadingProgress) => void) | null = null;

  start(totalBytes: number, nowMs: number): void {
    this.loading = true;
    this.startTimeSec = Math.floor(nowMs / 1000);
    this.totalBytes = totalBytes;
    this.loadedBytes = 0;
    this.listener?.(this);
  }

  add(bytes: number): void {
    this.loadedBytes += bytes;
    this.listener?.(this);
  }

  stop(): void {
    this.loading = false;
    this.listener?.(this);
  }
}

export interface LoaderDeps {
  fs: FileSystem;
  server: Server;
  log: AofLogger;
  loadTruncated: boolean;
  /**
   * Redis 8.4 aof-load-corrupt-tail-max-size (0 = off, Redis 7.0's behaviour): with
   * loadTruncated, a format error in the LAST file that starts within this many bytes of its end
   * is cut off like a torn tail (a power cut's zero-filled or garbled tail).
   */
  corruptTailMaxBytes?: number;
  /** False for read-only loads: a truncated tail is skipped in memory, the file is left alone. */
  truncateOnDisk: boolean;
  progress: LoadingProgress;
  nowMs: () => number;
  /** Handles a file that starts with the RDB magic; returns the offset where RESP resumes. */
  loadRdb: ((reader: RespFileReader, fileName: string) => Promise<void>) | null;
  /** Where the replay pauses (default: TimedLoadScheduler). */
  scheduler?: LoadScheduler;
  /**
   * Asked after every pause: true stops the load with ERR_ENGINE_CLOSED (close() while loading).
   */
  aborted?: () => boolean;
}

/**
 * Where a load pauses: after every `everyCommands` commands the replay reports progress and awaits
 * pause(). Simulations pause at exact points and run other work (the cron, CONFIG SET, close)
 * inside the load, as a long load in production lets the event loop do.
 */
export interface LoadScheduler {
  readonly everyCommands: number;
  pause(): Promise<void> | void;
}

/** Yield to the event loop when more than YIELD_EVERY_MS passed since the last yield. */
export class TimedLoadScheduler implements LoadScheduler {
  readonly everyCommands = 1024;
  private lastYieldMs = performance.now();

  pause(): Promise<void> | void {
    if (performance.now() - this.lastYieldMs <= YIELD_EVERY_MS) return;
    return new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      this.lastYieldMs = performance.now();
    });
  }
}

const CHECK_AOF_HINT =
  'Make a backup of your AOF file, then use `aofkv check-aof --fix <filename.manifest>` (or ' +
  'redis-check-aof --fix) to repair it, or set aofLoadTruncated to load the valid part';

/** Yield to the event loop this often while loading, so progress can be shown. */
const YIELD_EVERY_MS = 50;

/** Redis loadAppendOnlyFiles: load base + INCRs in manifest order. */
export async function loadAppendOnlyFiles(
  deps: LoaderDeps,
  m: AofManifest,
  aofDir: string,
): Promise<LoadOutcome> {
  if (m.isEmpty) return 'not-exist';
  const files = m.loadOrder();
  let total = 0;
  for (const f of files) {
    const st = statListedFile(deps.fs, aofDir, f.fileName);
    if (st === null) {
      throw new AofLoadError(
        'ERR_AOF_MISSING_FILE',
        `Unable to obtain the AOF file ${shownName(f.fileName)} length. ` +
          'stat: No such file or directory ' +
          `(listed in the manifest of ${aofDir}; restore the file or fix the manifest)`,
        f.fileName,
        0,
      );
    }
    total += st.sizeBytes;
  }
  if (total === 0) return 'empty';
  deps.progress.start(total, deps.nowMs());
  deps.server.loading = true;
  let outcome: LoadOutcome = 'ok';
  try {
    for (let i = 0; i < files.length; i++) {
      const f = files[i]!;
      const isLast = i === files.length - 1;
      const r = await loadSingleAppendOnlyFile(deps, aofDir, f.fileName, isLast);
      if (r.kind === 'truncated') outcome = 'truncated';
      if (r.kind === 'not-exist') {
        const message = `The AOF file ${shownName(f.fileName)} does not exist`;
        throw new AofLoadError('ERR_AOF_MISSING_FILE', message, f.fileName, 0);
      }
    }
  } finally {
    deps.server.loading = false;
    deps.progress.stop();
  }
  return outcome;
}

/**
 * Redis getAppendOnlyFileSize's stat of a file the manifest lists. The manifest reader accepts a
 * name of "" (as Redis's does), which joins to the AOF directory itself; no file can have that
 * name, so it is missing. (Redis stats the directory, then fails reading it with EISDIR.)
 */
function statListedFile(fs: FileSystem, aofDir: string, fileName: string): FileStat | null {
  return fileName === '' ? null : fs.stat(path.join(aofDir, fileName));
}

/** A file name as messages show it: "" visibly, where Redis prints nothing. */
function shownName(fileName: string): string {
  return fileName === '' ? '""' : fileName;
}

interface ParseState {
  /** Offset after the last complete command (maintained only with aofLoadTruncated, as Redis). */
  validUpTo: number;
  validBeforeMulti: number;
}

/** Redis loadSingleAppendOnlyFile. */
export async function loadSingleAppendOnlyFile(
  deps: LoaderDeps,
  aofDir: string,
  fileName: string,
  isLast: boolean,
): Promise<FileLoadOutcome> {
  const filePath = path.join(aofDir, fileName);
  const st = statListedFile(deps.fs, aofDir, fileName);
  if (st === null) return { kind: 'not-exist' };
  if (st.sizeBytes === 0) return { kind: 'empty' };
  const fd = deps.fs.open(filePath, 'read');
  try {
    const reader = new RespFileReader(deps.fs, fd, st.sizeBytes);
    const magic = reader.readExact(Math.min(5, st.sizeBytes));
    reader.position = 0;
    if (magic !== null && magic.length === 5 && magic.toString('latin1') === 'REDIS') {
      if (deps.loadRdb === null) {
        throw new AofLoadError(
          'ERR_NOT_SUPPORTED',
          `${fileName} is an RDB file (aof-use-rdb-preamble); loading ` +
            `RDB bases is not supported yet`,
          fileName,
          0,
        );
      }
      await deps.loadRdb(reader, fileName);
      deps.progress.add(reader.position);
    }
    return await replayResp(deps, reader, filePath, fileName, isLast);
  } finally {
    deps.fs.close(fd);
  }
}

/** Argument counts up to this get an array of their size at once (pushes would regrow it). */
const PRESIZED_ARGV_MAX = 64;

async function replayResp(
  deps: LoaderDeps,
  reader: RespFileReader,
  filePath: string,
  fileName: string,
  isLast: boolean,
): Promise<FileLoadOutcome> {
  const { server } = deps;
  const client = server.createAofClient();
  const names = new CommandNameCache();
  const state: ParseState = { validUpTo: 0, validBeforeMulti: 0 };
  let reported = reader.position;
  const scheduler = deps.scheduler ?? new TimedLoadScheduler();
  let untilPause = scheduler.everyCommands;
  for (;;) {
    if (--untilPause === 0) {
      untilPause = scheduler.everyCommands;
      deps.progress.add(reader.position - reported);
      reported = reader.position;
      await scheduler.pause();
      if (deps.aborted?.() === true) {
        throw new EngineError(
          'ERR_ENGINE_CLOSED',
          `Loading ${fileName} was stopped: the engine is closing`,
        );
      }
    }
    const commandStart = reader.position;
    // Offsets into reader.buffer, not Buffer views: see RespFileReader.buffer.
    let lineLength = reader.nextLine();
    if (lineLength < 0) break; // clean EOF
    let buf = reader.buffer;
    let at = reader.lineStart;
    if (buf[at] === 35) {
      // '#': an annotation. One that the file ends in the middle of is a torn tail too: kept,
      // the next command appended to the file would be glued to it and the file would no longer
      // load (Redis 7.0 keeps it; we cut it like any other torn tail).
      if (buf[at + lineLength - 1] !== 10 && reader.atEof) {
        return tornTail(deps, state, client.inMulti, filePath, fileName, isLast, reader.position);
      }
      continue;
    }
    // Not '*': a format error (a corrupt tail, when aof-load-corrupt-tail-max-size allows).
    if (buf[at] !== 42)
      return corruptTail(deps, state, client.inMulti, filePath, fileName, isLast, commandStart);
    if (lineLength === 1)
      return tornTail(deps, state, client.inMulti, filePath, fileName, isLast, reader.position);
    const argc = parseLeadingInt(buf, at + 1, at + lineLength);
    if (!(argc >= 1) || argc > 0x7fffffff)
      return corruptTail(deps, state, client.inMulti, filePath, fileName, isLast, commandStart);
    // A fresh array per command (not a reused one): MULTI queues keep the argv they are given.
    // Sized from argc only when that is small: argc is a declared count, not yet a fact.
    const argv: string[] = argc <= PRESIZED_ARGV_MAX ? new Array<string>(argc) : [];
    for (let j = 0; j < argc; j++) {
      lineLength = reader.nextLine();
      if (lineLength < 0)
        return tornTail(deps, state, client.inMulti, filePath, fileName, isLast, reader.position);
      buf = reader.buffer;
      at = reader.lineStart;
      if (buf[at] !== 36)
        return corruptTail(
          deps,
          state,
          client.inMulti,
          filePath,
          fileName,
          isLast,
          reader.position - lineLength,
        ); // not '$'
      const len = parseLeadingInt(buf, at + 1, at + lineLength);
      if (!(len >= 0) || !Number.isFinite(len))
        return corruptTail(
          deps,
          state,
          client.inMulti,
          filePath,
          fileName,
          isLast,
          reader.position - lineLength,
        );
      const start = reader.nextExact(len);
      if (start < 0)
        return tornTail(deps, state, client.inMulti, filePath, fileName, isLast, reader.position);
      argv[j] =
        j === 0
          ? names.get(reader.buffer, start, len)
          : latin1Slice(reader.buffer, start, start + len);
      // Redis discards the two bytes after the payload without checking they are CRLF.
      if (!reader.skip(2))
        return tornTail(deps, state, client.inMulti, filePath, fileName, isLast, reader.position);
    }
    const spec = server.lookupCommand(argv[0]!);
    if (spec === undefined) {
      deps.log('warning', `Unknown command '${argv[0]}' reading the append only file ${fileName}`);
      throw new AofLoadError(
        'ERR_AOF_UNKNOWN_COMMAND',
        `Unknown command '${argv[0]}' reading the append only file ` +
          `${fileName} at offset ${commandStart}`,
        fileName,
        commandStart,
      );
    }
    if (!arityAccepts(spec.arity, argc)) throw badArity(deps, spec.name, fileName, commandStart);
    if (spec.name === 'multi') state.validBeforeMulti = state.validUpTo;
    server.execute(client, argv, spec);
    if (deps.loadTruncated) state.validUpTo = reader.position;
  }
  deps.progress.add(reader.position - reported);
  if (client.inMulti) {
    deps.log('warning', `Revert incomplete MULTI/EXEC transaction in AOF file ${fileName}`);
    state.validUpTo = state.validBeforeMulti;
    return unexpectedEof(deps, state, filePath, fileName, isLast, reader.position);
  }
  return { kind: 'ok' };
}

/** Redis's arity rule (processCommand): N = exactly N arguments with the name, -N = at least N. */
function arityAccepts(arity: number, argc: number): boolean {
  return arity > 0 ? argc === arity : argc >= -arity;
}

/**
 * A command with the wrong number of arguments. Redis 7.0 does not check arity while loading and
 * crashes inside the command; executing it here would only produce an error reply, which the
 * loader ignores, so the command would vanish silently. Refused like an unknown command instead.
 * check-aof checks the RESP framing only (as redis-check-aof does), so it cannot repair this.
 */
function badArity(deps: LoaderDeps, name: string, fileName: string, offset: number): AofLoadError {
  const what =
    `Wrong number of arguments for '${name}' command reading the append only file ${fileName} ` +
    `at offset ${offset}`;
  deps.log('warning', what);
  return new AofLoadError(
    'ERR_AOF_BAD_ARITY',
    `${what}. Make a backup of your AOF file, then remove that command from it by hand or ` +
      'restore the file from a backup (check-aof checks the RESP framing only and cannot fix it)',
    fileName,
    offset,
  );
}

function formatError(fileName: string, offset: number): AofLoadError {
  return new AofLoadError(
    'ERR_AOF_BAD_FORMAT',
    `Bad file format reading the append only file ${fileName} at offset ${offset}: ` +
      `${CHECK_AOF_HINT.split(', or set')[0]}`,
    fileName,
    offset,
  );
}

/**
 * An unexpected EOF in the middle of a command or annotation. Inside an unfinished MULTI the file
 * must be cut back to before the MULTI, not just to the last queued command: Redis 7.0 cuts at
 * the latter, which leaves a dangling MULTI that swallows (and on the next load reverts) every
 * command appended after the repair — acknowledged writes included. Valkey fixed this the same way.
 */
function tornTail(
  deps: LoaderDeps,
  state: ParseState,
  inMulti: boolean,
  filePath: string,
  fileName: string,
  isLast: boolean,
  offset: number,
): FileLoadOutcome {
  if (inMulti) state.validUpTo = state.validBeforeMulti;
  return unexpectedEof(deps, state, filePath, fileName, isLast, offset);
}

/**
 * A format error at `offset`. Redis 7.0 fails the load (fmterr). Redis 8.4's
 * aof-load-corrupt-tail-max-size: with aof-load-truncated, when the error is in the LAST file and
 * starts within that many bytes of its end, it is a corrupt tail (power loss leaves zero-filled or
 * garbled tails on many file systems, redis#5177): cut back to the last complete command (before
 * an unfinished MULTI) like a torn tail, with a warning naming the offset and the bytes dropped.
 */
function corruptTail(
  deps: LoaderDeps,
  state: ParseState,
  inMulti: boolean,
  filePath: string,
  fileName: string,
  isLast: boolean,
  offset: number,
): FileLoadOutcome {
  const maxBytes = deps.corruptTailMaxBytes ?? 0;
  if (maxBytes === 0 || !deps.loadTruncated || !isLast) throw formatError(fileName, offset);
  const size = deps.fs.stat(filePath)?.sizeBytes ?? 0;
  if (size - offset > maxBytes) throw formatError(fileName, offset);
  if (inMulti) state.validUpTo = state.validBeforeMulti;
  deps.log(
    'warning',
    `!!! Warning: corrupt tail in the AOF file ${fileName}: bad format at offset ${offset}, ` +
      `${size - offset} bytes before its end (aof-load-corrupt-tail-max-size ${maxBytes}) !!!`,
  );
  deps.log(
    'warning',
    `!!! Truncating the AOF ${fileName} at offset ${state.validUpTo}, dropping ` +
      `${size - state.validUpTo} bytes !!!`,
  );
  if (deps.truncateOnDisk) deps.fs.truncate(filePath, state.validUpTo);
  deps.log(
    'warning',
    `AOF ${fileName} loaded anyway because aof-load-truncated is enabled and the corrupt tail ` +
      'is within aof-load-corrupt-tail-max-size',
  );
  return { kind: 'truncated', validUpTo: state.validUpTo, fileSize: size };
}

/** Redis's uxeof label: cut back to the last complete command when allowed, else fail. */
function unexpectedEof(
  deps: LoaderDeps,
  state: ParseState,
  filePath: string,
  fileName: string,
  isLast: boolean,
  offset: number,
): FileLoadOutcome {
  if (deps.loadTruncated && isLast) {
    deps.log('warning', `!!! Warning: short read while loading the AOF file ${fileName}!!!`);
    deps.log('warning', `!!! Truncating the AOF ${fileName} at offset ${state.validUpTo} !!!`);
    const size = deps.fs.stat(filePath)?.sizeBytes ?? 0;
    if (deps.truncateOnDisk) deps.fs.truncate(filePath, state.validUpTo);
    deps.log('warning', `AOF ${fileName} loaded anyway because aof-load-truncated is enabled`);
    return { kind: 'truncated', validUpTo: state.validUpTo, fileSize: size };
  }
  if (deps.loadTruncated && !isLast) {
    throw new AofLoadError(
      'ERR_AOF_LOAD',
      `Fatal error: the truncated file ${fileName} is not the last file ` +
        `(damage at offset ${offset}); ` +
        'only the last file of the manifest may be truncated. Repair it with `aofkv check-aof`.',
      fileName,
      offset,
    );
  }
  throw new AofLoadError(
    'ERR_AOF_TRUNCATED',
    `Unexpected end of file reading the append only file ${fileName} at offset ` +
      `${offset}. ${CHECK_AOF_HINT}`,
    fileName,
    offset,
  );
}
