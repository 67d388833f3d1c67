// The FileSystem conformance suite (abstract-level style): one function of a factory, run on
// every implementation (node-file-system.test.ts, sim-file-system.test.ts). What it pins is the
// subset of POSIX-on-Linux the engine relies on; where the simulation deliberately differs (see
// the SIMPLIFICATIONS in sim-file-system.ts) the suite stays silent.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsError, isFsError, type FileSystem, type FsErrorCode } from '../../src/io/file-system.ts';

export interface FileSystemFixture {
  fs: FileSystem;
  /** An existing, empty directory the tests may use. */
  root: string;
  cleanup(): void;
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (buf: Uint8Array): string => new TextDecoder().decode(buf);

function catchError(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

function expectFsError(action: () => unknown, code: FsErrorCode, syscall: string): FsError {
  const error = catchError(action);
  expect(isFsError(error), `expected an FsError, got ${String(error)}`).toBe(true);
  const fsError = error as FsError;
  expect(fsError.code).toBe(code);
  expect(fsError.syscall).toBe(syscall);
  return fsError;
}

export function runFileSystemConformance(name: string, makeFs: () => FileSystemFixture): void {
  describe(`FileSystem conformance: ${name}`, () => {
    let fixture: FileSystemFixture;
    let fs: FileSystem;
    const at = (...names: string[]): string => [fixture.root, ...names].join('/');

    function writeAll(path: string, content: string): void {
      const fd = fs.open(path, 'write-truncate');
      const data = bytes(content);
      expect(fs.write(fd, data, 0, data.length)).toBe(data.length);
      fs.close(fd);
    }

    function readAt(fd: number, position: number, length: number): string {
      const buf = new Uint8Array(length);
      const count = fs.read(fd, buf, 0, length, position);
      return text(buf.subarray(0, count));
    }

    beforeEach(() => {
      fixture = makeFs();
      fs = fixture.fs;
    });

    afterEach(() => {
      fixture.cleanup();
    });

    describe('open modes', () => {
      it("'append' creates the file and every write lands at the end", () => {
        const fd = fs.open(at('a.aof'), 'append');
        expect(fs.write(fd, bytes('abc'), 0, 3)).toBe(3);
        expect(fs.write(fd, bytes('xdefx'), 1, 3)).toBe(3);
        expect(fs.fileSize(fd)).toBe(6);
        fs.close(fd);
        const again = fs.open(at('a.aof'), 'append');
        fs.write(again, bytes('gh'), 0, 2);
        fs.close(again);
        expect(fs.readFile(at('a.aof')).toString()).toBe('abcdefgh');
      });

      it("'write-truncate' creates or empties the file and writes from offset 0", () => {
        writeAll(at('m'), 'a long first version');
        writeAll(at('m'), 'short');
        expect(fs.readFile(at('m')).toString()).toBe('short');
        expect(fs.stat(at('m'))).toEqual({ sizeBytes: 5, isDirectory: false });
      });

      it("'read' and 'read-write' refuse a missing file with ENOENT and do not create it", () => {
        const error = expectFsError(() => fs.open(at('missing'), 'read'), 'ENOENT', 'open');
        expect(error.errno).toBe(2);
        expect(error.path).toBe(at('missing'));
        expect(error.message).toContain('ENOENT');
        expectFsError(() => fs.open(at('missing'), 'read-write'), 'ENOENT', 'open');
        expect(fs.stat(at('missing'))).toBeNull();
      });

      it("'read-write' overwrites from position 0 without truncating", () => {
        writeAll(at('f'), 'abcdef');
        const fd = fs.open(at('f'), 'read-write');
        fs.write(fd, bytes('XY'), 0, 2);
        fs.write(fd, bytes('Z'), 0, 1);
        expect(readAt(fd, 0, 10)).toBe('XYZdef');
        fs.close(fd);
      });

      it('opening inside a missing directory fails with ENOENT, under a file with ENOTDIR', () => {
        expectFsError(() => fs.open(at('nodir', 'x'), 'append'), 'ENOENT', 'open');
        writeAll(at('plain'), 'x');
        expectFsError(() => fs.open(at('plain', 'x'), 'append'), 'ENOTDIR', 'open');
      });

      it('opening a directory for writing fails with EISDIR', () => {
        fs.mkdir(at('d'));
        expectFsError(() => fs.open(at('d'), 'append'), 'EISDIR', 'open');
        expectFsError(() => fs.open(at('d'), 'write-truncate'), 'EISDIR', 'open');
      });
    });

    describe('read and write', () => {
      it('read is positional (pread): it never moves the write position', () => {
        writeAll(at('f'), '0123456789');
        const fd = fs.open(at('f'), 'read');
        expect(readAt(fd, 3, 4)).toBe('3456');
        expect(readAt(fd, 0, 2)).toBe('01');
        expect(readAt(fd, 8, 100)).toBe('89');
        expect(readAt(fd, 10, 5)).toBe('');
        expect(readAt(fd, 50, 5)).toBe('');
        fs.close(fd);
      });

      it('read fills the buffer from the given offset', () => {
        writeAll(at('f'), 'abc');
        const fd = fs.open(at('f'), 'read');
        const buf = new Uint8Array(5).fill(46); // '.'
        expect(fs.read(fd, buf, 2, 3, 0)).toBe(3);
        expect(text(buf)).toBe('..abc');
        fs.close(fd);
      });

      it('write copies the bytes: reusing the buffer afterwards changes nothing', () => {
        const fd = fs.open(at('f'), 'append');
        const reused = Buffer.from('first');
        fs.write(fd, reused, 0, 5);
        reused.write('XXXXX');
        fs.write(fd, reused.subarray(1), 1, 2);
        reused.write('YYYYY');
        fs.close(fd);
        expect(fs.readFile(at('f')).toString()).toBe('firstXX');
      });

      it('a zero-length write returns 0 and changes nothing', () => {
        const fd = fs.open(at('f'), 'append');
        expect(fs.write(fd, new Uint8Array(0), 0, 0)).toBe(0);
        expect(fs.fileSize(fd)).toBe(0);
        fs.close(fd);
      });

      it('writing a read-only fd or reading a write-only fd fails with EBADF', () => {
        writeAll(at('f'), 'abc');
        const reader = fs.open(at('f'), 'read');
        expectFsError(() => fs.write(reader, bytes('x'), 0, 1), 'EBADF', 'write');
        const appender = fs.open(at('f'), 'append');
        expectFsError(() => fs.read(appender, new Uint8Array(1), 0, 1, 0), 'EBADF', 'read');
        fs.close(reader);
        fs.close(appender);
      });

      it('fdatasync succeeds on an open fd, and reading back shows the data', () => {
        const fd = fs.open(at('f'), 'append');
        fs.write(fd, bytes('durable'), 0, 7);
        fs.fdatasync(fd);
        fs.close(fd);
        expect(fs.readFile(at('f')).toString()).toBe('durable');
      });

      it('rejects buffer ranges outside the buffer as programmer errors, not FsErrors', () => {
        const fd = fs.open(at('f'), 'append');
        const error = catchError(() => fs.write(fd, new Uint8Array(2), 1, 2));
        expect(isFsError(error)).toBe(false);
        fs.close(fd);
      });
    });

    describe('truncation', () => {
      it('ftruncate then append continues at the new end', () => {
        const fd = fs.open(at('a.aof'), 'append');
        fs.write(fd, bytes('SET a 1;SET b'), 0, 13);
        fs.ftruncate(fd, 8);
        expect(fs.fileSize(fd)).toBe(8);
        fs.write(fd, bytes('SET c 3;'), 0, 8);
        fs.close(fd);
        expect(fs.readFile(at('a.aof')).toString()).toBe('SET a 1;SET c 3;');
      });

      it('a positioned fd keeps its position after ftruncate, leaving a zero-filled hole', () => {
        const fd = fs.open(at('f'), 'write-truncate');
        fs.write(fd, bytes('0123456789'), 0, 10);
        fs.ftruncate(fd, 4);
        fs.write(fd, bytes('ab'), 0, 2);
        fs.close(fd);
        const content = fs.readFile(at('f'));
        expect(content.length).toBe(12);
        expect(content.subarray(0, 4).toString()).toBe('0123');
        expect([...content.subarray(4, 10)]).toEqual([0, 0, 0, 0, 0, 0]);
        expect(content.subarray(10).toString()).toBe('ab');
      });

      it('ftruncate can extend a file with zeros', () => {
        const fd = fs.open(at('f'), 'append');
        fs.write(fd, bytes('ab'), 0, 2);
        fs.ftruncate(fd, 5);
        fs.close(fd);
        expect([...fs.readFile(at('f'))]).toEqual([97, 98, 0, 0, 0]);
      });

      it('ftruncate on a read-only fd fails with EINVAL (Linux)', () => {
        writeAll(at('f'), 'abc');
        const fd = fs.open(at('f'), 'read');
        expectFsError(() => fs.ftruncate(fd, 1), 'EINVAL', 'ftruncate');
        fs.close(fd);
      });

      it('truncate by path shrinks the file; a missing file is ENOENT', () => {
        writeAll(at('f'), 'abcdef');
        fs.truncate(at('f'), 2);
        expect(fs.readFile(at('f')).toString()).toBe('ab');
        expectFsError(() => fs.truncate(at('missing'), 0), 'ENOENT', 'truncate');
      });
    });

    describe('names', () => {
      it('link gives a file a second name, and fails with EEXIST when that name exists', () => {
        writeAll(at('temp'), 'content');
        fs.link(at('temp'), at('lock'));
        expect(fs.readFile(at('lock')).toString()).toBe('content');
        writeAll(at('other'), 'other');
        expectFsError(() => fs.link(at('other'), at('lock')), 'EEXIST', 'link');
        expect(fs.readFile(at('lock')).toString()).toBe('content');
        fs.unlink(at('temp'));
        expect(fs.readFile(at('lock')).toString()).toBe('content');
        expectFsError(() => fs.link(at('missing'), at('x')), 'ENOENT', 'link');
      });

      it('rename replaces an existing target atomically and removes the source name', () => {
        writeAll(at('temp-x.manifest'), 'new');
        writeAll(at('x.manifest'), 'old');
        fs.rename(at('temp-x.manifest'), at('x.manifest'));
        expect(fs.readFile(at('x.manifest')).toString()).toBe('new');
        expect(fs.stat(at('temp-x.manifest'))).toBeNull();
      });

      it('an fd keeps its file across a rename that replaced its name', () => {
        writeAll(at('old'), 'old content');
        const reader = fs.open(at('old'), 'read');
        writeAll(at('new'), 'new');
        fs.rename(at('new'), at('old'));
        expect(readAt(reader, 0, 100)).toBe('old content');
        fs.close(reader);
      });

      it('writes through an fd follow the file to its new name', () => {
        const fd = fs.open(at('temp.incr'), 'append');
        fs.write(fd, bytes('ab'), 0, 2);
        fs.rename(at('temp.incr'), at('x.1.incr.aof'));
        fs.write(fd, bytes('cd'), 0, 2);
        fs.close(fd);
        expect(fs.readFile(at('x.1.incr.aof')).toString()).toBe('abcd');
      });

      it('rename of a missing source is ENOENT and names both paths', () => {
        const error = expectFsError(() => fs.rename(at('nope'), at('yes')), 'ENOENT', 'rename');
        expect(error.path).toBe(at('nope'));
        expect(error.dest).toBe(at('yes'));
      });

      it('rename into a missing directory is ENOENT, onto a directory is EISDIR', () => {
        writeAll(at('f'), 'x');
        expectFsError(() => fs.rename(at('f'), at('nodir', 'f')), 'ENOENT', 'rename');
        fs.mkdir(at('d'));
        expectFsError(() => fs.rename(at('f'), at('d')), 'EISDIR', 'rename');
        expect(fs.readFile(at('f')).toString()).toBe('x');
      });

      it('rename of a file onto itself is a no-op', () => {
        writeAll(at('f'), 'same');
        fs.rename(at('f'), at('f'));
        expect(fs.readFile(at('f')).toString()).toBe('same');
      });

      it('unlink removes the name; an open fd still reads the file (bg_unlink)', () => {
        writeAll(at('history.aof'), 'bytes');
        const fd = fs.open(at('history.aof'), 'read');
        fs.unlink(at('history.aof'));
        expect(fs.stat(at('history.aof'))).toBeNull();
        expect(fs.readdir(fixture.root)).toEqual([]);
        expect(readAt(fd, 0, 10)).toBe('bytes');
        fs.close(fd);
      });

      it('unlink of a missing file is ENOENT, of a directory is EISDIR', () => {
        expectFsError(() => fs.unlink(at('missing')), 'ENOENT', 'unlink');
        fs.mkdir(at('d'));
        expectFsError(() => fs.unlink(at('d')), 'EISDIR', 'unlink');
      });
    });

    describe('stat, readdir, readFile', () => {
      it('stat returns null for a missing path and the size of a file', () => {
        expect(fs.stat(at('missing'))).toBeNull();
        expect(fs.stat(at('nodir', 'missing'))).toBeNull();
        writeAll(at('f'), '12345');
        expect(fs.stat(at('f'))).toEqual({ sizeBytes: 5, isDirectory: false });
        expect(fs.stat(fixture.root)?.isDirectory).toBe(true);
      });

      it('stat through a file is ENOTDIR, not null', () => {
        writeAll(at('f'), 'x');
        expectFsError(() => fs.stat(at('f', 'x')), 'ENOTDIR', 'stat');
      });

      it('fileSize follows writes and truncates of the fd', () => {
        const fd = fs.open(at('f'), 'append');
        expect(fs.fileSize(fd)).toBe(0);
        fs.write(fd, bytes('abcd'), 0, 4);
        expect(fs.fileSize(fd)).toBe(4);
        fs.ftruncate(fd, 1);
        expect(fs.fileSize(fd)).toBe(1);
        fs.close(fd);
      });

      it('readdir lists files and directories, sorted', () => {
        writeAll(at('b.aof'), '');
        writeAll(at('a.manifest'), '');
        fs.mkdir(at('c-dir'));
        expect(fs.readdir(fixture.root)).toEqual(['a.manifest', 'b.aof', 'c-dir']);
        fs.unlink(at('b.aof'));
        expect(fs.readdir(fixture.root)).toEqual(['a.manifest', 'c-dir']);
      });

      it('readdir of a missing directory is ENOENT, of a file is ENOTDIR', () => {
        expectFsError(() => fs.readdir(at('missing')), 'ENOENT', 'readdir');
        writeAll(at('f'), 'x');
        expectFsError(() => fs.readdir(at('f')), 'ENOTDIR', 'readdir');
      });

      it('readFile returns a Buffer; missing is ENOENT, a directory is EISDIR', () => {
        writeAll(at('f'), 'file appendonly.aof.1.base.rdb seq 1 type b\n');
        const content = fs.readFile(at('f'));
        expect(Buffer.isBuffer(content)).toBe(true);
        expect(content.toString()).toBe('file appendonly.aof.1.base.rdb seq 1 type b\n');
        expectFsError(() => fs.readFile(at('missing')), 'ENOENT', 'readFile');
        expectFsError(() => fs.readFile(fixture.root), 'EISDIR', 'readFile');
      });
    });

    describe('directories', () => {
      it('mkdir is recursive and idempotent', () => {
        fs.mkdir(at('a', 'b', 'c'));
        fs.mkdir(at('a', 'b', 'c'));
        fs.mkdir(at('a'));
        expect(fs.readdir(at('a'))).toEqual(['b']);
        expect(fs.stat(at('a', 'b', 'c'))?.isDirectory).toBe(true);
      });

      it('mkdir over a file is EEXIST, through a file is ENOTDIR', () => {
        writeAll(at('f'), 'x');
        expectFsError(() => fs.mkdir(at('f')), 'EEXIST', 'mkdir');
        expectFsError(() => fs.mkdir(at('f', 'sub')), 'ENOTDIR', 'mkdir');
      });

      it('fsyncDir succeeds on a directory; missing is ENOENT, a file is ENOTDIR', () => {
        fs.fsyncDir(fixture.root);
        expectFsError(() => fs.fsyncDir(at('missing')), 'ENOENT', 'fsyncDir');
        writeAll(at('f'), 'x');
        expectFsError(() => fs.fsyncDir(at('f')), 'ENOTDIR', 'fsyncDir');
      });
    });

    describe('closed descriptors', () => {
      it('every fd operation fails with EBADF after close', () => {
        const fd = fs.open(at('f'), 'append');
        fs.close(fd);
        expectFsError(() => fs.write(fd, bytes('x'), 0, 1), 'EBADF', 'write');
        expectFsError(() => fs.read(fd, new Uint8Array(1), 0, 1, 0), 'EBADF', 'read');
        expectFsError(() => fs.fdatasync(fd), 'EBADF', 'fdatasync');
        expectFsError(() => fs.ftruncate(fd, 0), 'EBADF', 'ftruncate');
        expectFsError(() => fs.fileSize(fd), 'EBADF', 'fileSize');
        const error = expectFsError(() => fs.close(fd), 'EBADF', 'close');
        expect(error.errno).toBe(9);
        expect(error).toBeInstanceOf(FsError);
      });
    });
  });
}
