// A BioClient that starts the real one on first use. Engines that never write an AOF (appendonly
// no, read-only loads, most unit tests) then never pay for starting worker threads; pending counts
// and statuses of a bio that was never started are trivially zero / ok.

import type { BioClient, BioEvent, BioJobType, FsyncStatus } from '@aofkv/bio-workers';

export class LazyBio implements BioClient {
  private inner: BioClient | null = null;
  private readonly factory: () => BioClient;
  private observer: ((e: BioEvent) => void) | null = null;

  constructor(factory: () => BioClient) {
    this.factory = factory;
  }

  private get bio(): BioClient {
    if (this.inner === null) {
      this.inner = this.factory();
      this.inner.onEvent = this.observer;
    }
    return this.inner;
  }

  get onEvent(): ((e: BioEvent) => void) | null {
    return this.observer;
  }

  set onEvent(fn: ((e: BioEvent) => void) | null) {
    this.observer = fn;
    if (this.inner !== null) this.inner.onEvent = fn;
  }

  get started(): boolean {
    return this.inner !== null;
  }

  submitFsync(fd: number): void {
    this.bio.submitFsync(fd);
  }

  submitClose(fd: number, needFsync: boolean): void {
    this.bio.submitClose(fd, needFsync);
  }

  pending(type: BioJobType): number {
    return this.inner === null ? 0 : this.inner.pending(type);
  }

  fsyncStatus(): FsyncStatus {
    return this.inner === null ? { ok: true } : this.inner.fsyncStatus();
  }

  resetFsyncStatus(): void {
    this.inner?.resetFsyncStatus();
  }

  drain(type?: BioJobType): Promise<void> {
    return this.inner === null ? Promise.resolve() : this.inner.drain(type);
  }

  close(): Promise<void> {
    return this.inner === null ? Promise.resolve() : this.inner.close();
  }
}
