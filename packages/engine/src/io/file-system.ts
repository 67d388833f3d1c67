// The engine's only door to files. Every AOF, manifest and base-file operation goes through a
// FileSystem, so the same engine code runs on the real disk (NodeFileSystem) and on a simulated
// disk that loses un-synced writes and injects faults (testing/sim-file-system.ts).
//
// DESIGN
// - Synchronous, like Redis: write(2), fdatasync(2) and rename(2) run on the engine's thread, and
//   the background fsync of `everysec` is the bio's business, not this interface's.
// - Semantics are POSIX-on-Linux, narrowed to what Redis 7.0 uses. `write` may be SHORT (it
//   returns the byte count, as write(2) does; the AOF writer handles partial writes per spec §4).
//   Writes go at the end of the file for 'append' fds and at the fd's position otherwise; `read`
//   is pread(2) and never moves the position. After `ftruncate` an 'append' fd continues at the
//   new end, while a positioned fd keeps its position (writing past the end leaves a zero-filled
//   hole).
// - Names are inode-like: an open fd keeps its file after `unlink` or after `rename` replaced the
//   name (Redis's bg_unlink depends on this).
// - Durability: nothing is durable until `fdatasync(fd)` (file content and size) and, for names,
//   until `fsyncDir(dir)` (creations, renames and unlinks in that directory).
// - Operating errors surface as FsError with a stable `code` ('ENOSPC', 'EIO', ...), the Linux
//   `errno` and the interface method as `syscall`. Misuse (negative lengths, buffer ranges out of
//   bounds) is a programmer error and throws an AssertionError instead.

import assert from 'node:assert/strict';

/**
 * 'read'           O_RDONLY; the file must exist.
 * 'append'         O_WRONLY|O_APPEND|O_CREAT, mode 0644 (Redis's INCR files).
 * 'write-truncate' O_WRONLY|O_TRUNC|O_CREAT, mode 0644 (manifest temp file, base file).
 * 'read-write'     O_RDWR; the file must exist (fopen "r+", as redis-check-aof uses).
 */
export type OpenMode = 'read' | 'append' | 'write-truncate' | 'read-write';

/** The interface's operations; also the `syscall` of an FsError and the `op` of a fault rule. */
export type FsOp =
  | 'open'
  | 'write'
  | 'read'
  | 'fdatasync'
  | 'ftruncate'
  | 'fileSize'
  | 'close'
  | 'stat'
  | 'rename'
  | 'link'
  | 'unlink'
  | 'mkdir'
  | 'readdir'
  | 'readFile'
  | 'truncate'
  | 'fsyncDir';

export const FS_OPS: readonly FsOp[] = [
  'open',
  'write',
  'read',
  'fdatasync',
  'ftruncate',
  'fileSize',
  'close',
  'stat',
  'rename',
  'link',
  'unlink',
  'mkdir',
  'readdir',
  'readFile',
  'truncate',
  'fsyncDir',
];

export interface FileStat {
  sizeBytes: number;
  isDirectory: boolean;
}

export interface FileSystem {
  /** Returns a file descriptor. Creates the file for 'append' and 'write-truncate'. */
  open(path: string, mode: OpenMode): number;
  /** Writes buf[offset, offset+length). May write fewer bytes (short write): returns the count. */
  write(fd: number, buf: Uint8Array, offset: number, length: number): number;
  /** pread(2): reads up to `length` bytes at file `position` into buf[offset..]; 0 at EOF. */
  read(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number;
  /** Redis's redis_fsync on Linux: makes the file's content and size durable. */
  fdatasync(fd: number): void;
  ftruncate(fd: number, lengthBytes: number): void;
  /** fstat(2) size in bytes. */
  fileSize(fd: number): number;
  /** Releases the fd even when it reports an error, as close(2) does on Linux. */
  close(fd: number): void;
  /** null when the path does not exist (ENOENT); other failures (ENOTDIR, EIO) throw. */
  stat(path: string): FileStat | null;
  /** Atomically replaces `to` if it exists. Durable after fsyncDir of both directories. */
  rename(from: string, to: string): void;
  /**
   * link(2): a second name for an existing file. Fails with EEXIST when `to` exists, so it is an
   * atomic "create with this content, only if absent" (the directory lock relies on it).
   * Durable after fsyncDir of `to`'s directory.
   */
  link(existing: string, to: string): void;
  unlink(path: string): void;
  /** Recursive; succeeds when the directory already exists, EEXIST when a file is in the way. */
  mkdir(path: string): void;
  /** Entry names (files and directories), sorted by code unit. */
  readdir(path: string): string[];
  /** Whole content of a small file (the manifest). */
  readFile(path: string): Buffer;
  truncate(path: string, lengthBytes: number): void;
  /** Redis's fsyncFileDir: makes the directory's entries (creates, renames, unlinks) durable. */
  fsyncDir(path: string): void;
}

// Linux errno numbers and glibc strerror() texts. Fixed here rather than read from the platform
// so the simulated and real file systems report identical errors, and so MISCONF replies carry
// the same text as Redis on Linux:
//   "MISCONF Errors writing to the AOF file: No space left on device".
const ERRNO_TABLE = {
  EPERM: { errno: 1, text: 'Operation not permitted' },
  ENOENT: { errno: 2, text: 'No such file or directory' },
  EINTR: { errno: 4, text: 'Interrupted system call' },
  EIO: { errno: 5, text: 'Input/output error' },
  EBADF: { errno: 9, text: 'Bad file descriptor' },
  EAGAIN: { errno: 11, text: 'Resource temporarily unavailable' },
  EACCES: { errno: 13, text: 'Permission denied' },
  EEXIST: { errno: 17, text: 'File exists' },
  EXDEV: { errno: 18, text: 'Invalid cross-device link' },
  ENOTDIR: { errno: 20, text: 'Not a directory' },
  EISDIR: { errno: 21, text: 'Is a directory' },
  EINVAL: { errno: 22, text: 'Invalid argument' },
  ENFILE: { errno: 23, text: 'Too many open files in system' },
  EMFILE: { errno: 24, text: 'Too many open files' },
  EFBIG: { errno: 27, text: 'File too large' },
  ENOSPC: { errno: 28, text: 'No space left on device' },
  EROFS: { errno: 30, text: 'Read-only file system' },
  ENAMETOOLONG: { errno: 36, text: 'File name too long' },
  ENOTEMPTY: { errno: 39, text: 'Directory not empty' },
  ELOOP: { errno: 40, text: 'Too many levels of symbolic links' },
  EDQUOT: { errno: 122, text: 'Disk quota exceeded' },
} as const satisfies Record<string, { errno: number; text: string }>;

/** A known errno name, or 'EUNKNOWN' for a platform code outside the table (see FsError.cause). */
export type FsErrorCode = keyof typeof ERRNO_TABLE | 'EUNKNOWN';

export function isKnownFsErrorCode(code: string): code is keyof typeof ERRNO_TABLE {
  return Object.hasOwn(ERRNO_TABLE, code);
}

/** strerror(3) text for a code, as glibc prints it. */
export function strerror(code: FsErrorCode): string {
  return code === 'EUNKNOWN' ? 'Unknown error' : ERRNO_TABLE[code].text;
}

/** Positive Linux errno for a code (0 for 'EUNKNOWN'). */
export function errnoOf(code: FsErrorCode): number {
  return code === 'EUNKNOWN' ? 0 : ERRNO_TABLE[code].errno;
}

export interface FsErrorOptions {
  path?: string;
  dest?: string;
  /** Overrides the table's errno (used for EUNKNOWN, where the platform's number is kept). */
  errno?: number;
  cause?: unknown;
  /** Appended to the message, e.g. "[injected]" for simulated faults. */
  detail?: string;
}

const kFsErrorBrand = Symbol.for('aofkv.FsError');

/** An operating error of a FileSystem call. Callers branch on `code`. */
export class FsError extends Error {
  readonly code: FsErrorCode;
  /** Positive Linux errno, like Redis's `errno` (Node reports it negated; we do not). */
  readonly errno: number;
  readonly syscall: FsOp;
  readonly path: string | undefined;
  readonly dest: string | undefined;

  constructor(code: FsErrorCode, syscall: FsOp, options: FsErrorOptions = {}) {
    super(formatMessage(code, syscall, options), { cause: options.cause });
    this.name = 'FsError';
    this.code = code;
    this.errno = options.errno ?? errnoOf(code);
    this.syscall = syscall;
    this.path = options.path;
    this.dest = options.dest;
    Object.defineProperty(this, kFsErrorBrand, { value: true });
  }
}

function formatMessage(code: FsErrorCode, syscall: FsOp, options: FsErrorOptions): string {
  // Node's shape ("ENOENT: no such file ..., open '/x'") with glibc's text.
  let message = `${code}: ${strerror(code)}, ${syscall}`;
  if (options.path !== undefined) message += ` '${options.path}'`;
  if (options.dest !== undefined) message += ` -> '${options.dest}'`;
  if (options.detail !== undefined) message += ` ${options.detail}`;
  return message;
}

/** True for an FsError, also one from a duplicate copy of this module (Symbol.for brand). */
export function isFsError(value: unknown): value is FsError {
  if (!(value instanceof Error)) return false;
  return (value as unknown as Record<symbol, unknown>)[kFsErrorBrand] === true;
}

// Shared argument checks, so both implementations reject misuse identically. Misuse is a
// programmer error (AssertionError), not an FsError.
export function assertBufferRange(buf: Uint8Array, offset: number, length: number): void {
  assert(buf instanceof Uint8Array, 'buf must be a Uint8Array');
  assertFileOffset(offset, 'offset');
  assertFileOffset(length, 'length');
  const endOffset = offset + length;
  assert(endOffset <= buf.length, `offset + length (${endOffset}) exceeds buf (${buf.length})`);
}

export function assertFileOffset(value: number, name: string): void {
  const valid = Number.isSafeInteger(value) && value >= 0;
  assert(valid, `${name} must be a non-negative integer: ${value}`);
}

export function assertOpenMode(mode: OpenMode): void {
  assert(
    mode === 'read' || mode === 'append' || mode === 'write-truncate' || mode === 'read-write',
    `unknown open mode: ${String(mode)}`,
  );
}

export function isWritableMode(mode: OpenMode): boolean {
  return mode !== 'read';
}

export function isReadableMode(mode: OpenMode): boolean {
  return mode === 'read' || mode === 'read-write';
}
