// The real FileSystem: synchronous node:fs calls on the calling thread, as Redis calls write(2)
// and fsync(2) from its main thread. Each method is a thin translation; the only policy here is
// error mapping (every Node system error becomes an FsError with the interface's `syscall`, the
// Linux errno as a positive number and the Node error as `cause`) and fsyncDir's tolerance of file
// systems that cannot fsync a directory (Redis's fsyncFileDir ignores EINVAL and EBADF there).

import fs from 'node:fs';
import {
  FsError,
  assertBufferRange,
  assertFileOffset,
  assertOpenMode,
  errnoOf,
  isKnownFsErrorCode,
  type FileStat,
  type FileSystem,
  type FsOp,
  type OpenMode,
} from './file-system.ts';

// Mode 0644, as Redis creates AOF and manifest files.
const kCreateModeBits = 0o644;

const kOpenFlags: Record<OpenMode, string> = {
  read: 'r',
  append: 'a',
  'write-truncate': 'w',
  'read-write': 'r+',
};

interface NodeSystemError extends Error {
  code: string;
  errno: number;
  syscall: string;
}

function isNodeSystemError(error: unknown): error is NodeSystemError {
  if (!(error instanceof Error)) return false;
  const fields = error as Partial<NodeSystemError>;
  return (
    typeof fields.code === 'string' &&
    typeof fields.errno === 'number' &&
    typeof fields.syscall === 'string'
  );
}

/** Converts a Node system error into an FsError; anything else (a bug) is rethrown untouched. */
export function toFsError(error: unknown, syscall: FsOp, path?: string, dest?: string): unknown {
  if (!isNodeSystemError(error)) return error;
  const code = isKnownFsErrorCode(error.code) ? error.code : 'EUNKNOWN';
  const errno = code === 'EUNKNOWN' ? Math.abs(error.errno) : errnoOf(code);
  return new FsError(code, syscall, { path, dest, errno, cause: error });
}

export class NodeFileSystem implements FileSystem {
  open(path: string, mode: OpenMode): number {
    assertOpenMode(mode);
    return this.#call('open', path, () => fs.openSync(path, kOpenFlags[mode], kCreateModeBits));
  }

  write(fd: number, buf: Uint8Array, offset: number, length: number): number {
    assertBufferRange(buf, offset, length);
    // One write(2): Node does not loop, so a short count reaches the caller as Redis sees it.
    return this.#call('write', undefined, () => fs.writeSync(fd, buf, offset, length));
  }

  read(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
    assertBufferRange(buf, offset, length);
    assertFileOffset(position, 'position');
    return this.#call('read', undefined, () => fs.readSync(fd, buf, offset, length, position));
  }

  fdatasync(fd: number): void {
    this.#call('fdatasync', undefined, () => fs.fdatasyncSync(fd));
  }

  ftruncate(fd: number, lengthBytes: number): void {
    assertFileOffset(lengthBytes, 'lengthBytes');
    this.#call('ftruncate', undefined, () => fs.ftruncateSync(fd, lengthBytes));
  }

  fileSize(fd: number): number {
    return this.#call('fileSize', undefined, () => fs.fstatSync(fd).size);
  }

  close(fd: number): void {
    this.#call('close', undefined, () => fs.closeSync(fd));
  }

  stat(path: string): FileStat | null {
    return this.#call('stat', path, () => {
      const stats = fs.statSync(path, { throwIfNoEntry: false });
      if (stats === undefined) return null;
      return { sizeBytes: stats.size, isDirectory: stats.isDirectory() };
    });
  }

  rename(from: string, to: string): void {
    try {
      fs.renameSync(from, to);
    } catch (error) {
      throw toFsError(error, 'rename', from, to);
    }
  }

  link(existing: string, to: string): void {
    try {
      fs.linkSync(existing, to);
    } catch (error) {
      throw toFsError(error, 'link', existing, to);
    }
  }

  unlink(path: string): void {
    this.#call('unlink', path, () => fs.unlinkSync(path));
  }

  mkdir(path: string): void {
    this.#call('mkdir', path, () => {
      fs.mkdirSync(path, { recursive: true });
    });
  }

  readdir(path: string): string[] {
    // Sorted so both implementations list in the same order (the OS order is arbitrary).
    return this.#call('readdir', path, () => fs.readdirSync(path).sort());
  }

  readFile(path: string): Buffer {
    return this.#call('readFile', path, () => fs.readFileSync(path));
  }

  truncate(path: string, lengthBytes: number): void {
    assertFileOffset(lengthBytes, 'lengthBytes');
    this.#call('truncate', path, () => fs.truncateSync(path, lengthBytes));
  }

  fsyncDir(path: string): void {
    // O_DIRECTORY makes a file path fail with ENOTDIR, as in the simulated file system.
    const flags = fs.constants.O_RDONLY | fs.constants.O_DIRECTORY;
    const dirFd = this.#call('fsyncDir', path, () => fs.openSync(path, flags));
    try {
      fs.fsyncSync(dirFd);
    } catch (error) {
      const mapped = toFsError(error, 'fsyncDir', path);
      // Some file systems cannot fsync a directory; Redis treats that as success.
      const unsupported =
        mapped instanceof FsError && (mapped.code === 'EINVAL' || mapped.code === 'EBADF');
      if (!unsupported) throw mapped;
    } finally {
      fs.closeSync(dirFd);
    }
  }

  #call<T>(syscall: FsOp, path: string | undefined, action: () => T): T {
    try {
      return action();
    } catch (error) {
      throw toFsError(error, syscall, path);
    }
  }
}
