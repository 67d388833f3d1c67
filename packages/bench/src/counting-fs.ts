// The real file system with counters: how many fdatasync(2) calls the engine's main thread made
// (appendfsync always, shutdown) and how many bytes it appended. Background fsyncs run in the bio
// thread, outside this seam; they are counted from the bio's events (systems/aofkv.ts).
//
// It extends NodeFileSystem instead of wrapping it because the engine picks the rewrite's writer
// thread only for a NodeFileSystem (`instanceof`); a wrapper would silently move the rewrite onto
// the main thread and change what the rewrite scenario measures.

import { NodeFileSystem } from '@aofkv/engine';

export class CountingFileSystem extends NodeFileSystem {
  fdatasyncCalls = 0;
  fsyncDirCalls = 0;
  writeCalls = 0;
  bytesWritten = 0;

  override write(fd: number, buf: Uint8Array, offset: number, length: number): number {
    const n = super.write(fd, buf, offset, length);
    this.writeCalls++;
    this.bytesWritten += n;
    return n;
  }

  override fdatasync(fd: number): void {
    this.fdatasyncCalls++;
    super.fdatasync(fd);
  }

  override fsyncDir(path: string): void {
    this.fsyncDirCalls++;
    super.fsyncDir(path);
  }
}
