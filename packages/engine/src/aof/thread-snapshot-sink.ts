// ThreadSnapshotSink: the main-thread side of the rewrite writer thread (rewrite-worker.ts).
// Batches are packed with msgpackr and their buffers transferred, not copied. At most
// MAX_IN_FLIGHT batches are outstanding, so a slow disk slows the snapshot walk instead of
// queueing the whole dataset in memory. A thread that dies or reports an error fails the rewrite.

import { Worker } from 'node:worker_threads';
import { Packr } from 'msgpackr';
import { resolveWorkerScript } from '@aofkv/bio-workers';
import type { PlainEntry } from './plain-entry.ts';
import type { SnapshotSink, SnapshotSinkOptions } from './snapshot-sink.ts';
import type { WriterReply, WriterRequest } from './rewrite-worker.ts';

const MAX_IN_FLIGHT = 4;

interface Waiter {
  resolve: (value: number) => void;
  reject: (err: Error) => void;
}

export class ThreadSnapshotSink implements SnapshotSink {
  private worker: Worker | null = null;
  private readonly packr = new Packr({ useRecords: false });
  private nextId = 1;
  private inFlight = 0;
  private failure: Error | null = null;
  private capacityWaiter: Waiter | null = null;
  private openWaiter: Waiter | null = null;
  private doneWaiter: Waiter | null = null;

  async open(tempPath: string, options: SnapshotSinkOptions): Promise<void> {
    const where = resolveWorkerScript(import.meta.url, './rewrite-worker');
    const worker = new Worker(where.url, { execArgv: where.execArgv });
    this.worker = worker;
    worker.on('message', (m: WriterReply) => this.onReply(m));
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => {
      if (this.doneWaiter !== null || this.inFlight > 0 || this.openWaiter !== null) {
        this.fail(new Error(`the rewrite writer thread exited (code ${code})`));
      }
    });
    const opened = new Promise<number>((resolve, reject) => (this.openWaiter = { resolve, reject }));
    this.post({ op: 'open', path: tempPath, ...options });
    await opened;
  }

  private post(m: WriterRequest, transfer: ArrayBuffer[] = []): void {
    this.worker!.postMessage(m, transfer);
  }

  private onReply(m: WriterReply): void {
    switch (m.op) {
      case 'opened':
        this.settle('openWaiter', 0);
        break;
      case 'ack':
        this.inFlight--;
        if (this.inFlight < MAX_IN_FLIGHT) this.settle('capacityWaiter', 0);
        break;
      case 'done':
        this.settle('doneWaiter', m.sizeBytes);
        break;
      case 'error':
        this.fail(Object.assign(new Error(m.message), { code: m.code }));
        break;
    }
  }

  private settle(which: 'openWaiter' | 'capacityWaiter' | 'doneWaiter', value: number): void {
    const w = this[which];
    this[which] = null;
    w?.resolve(value);
  }

  private fail(err: Error): void {
    if (this.failure !== null) return;
    this.failure = err;
    for (const which of ['openWaiter', 'capacityWaiter', 'doneWaiter'] as const) {
      const w = this[which];
      this[which] = null;
      w?.reject(err);
    }
  }

  async write(entries: PlainEntry[]): Promise<void> {
    if (this.failure !== null) throw this.failure;
    const packed = this.packr.pack(entries);
    // Copy into an exactly-sized buffer we own, so it can be transferred without copying again.
    const data = new Uint8Array(packed.length);
    data.set(packed);
    this.inFlight++;
    this.post({ op: 'batch', id: this.nextId++, data }, [data.buffer]);
    if (this.inFlight >= MAX_IN_FLIGHT) {
      await new Promise<number>((resolve, reject) => (this.capacityWaiter = { resolve, reject }));
    }
  }

  async finish(): Promise<number> {
    if (this.failure !== null) throw this.failure;
    const done = new Promise<number>((resolve, reject) => (this.doneWaiter = { resolve, reject }));
    this.post({ op: 'finish' });
    try {
      return await done;
    } finally {
      await this.terminate();
    }
  }

  async abort(): Promise<void> {
    this.fail(new Error('rewrite aborted'));
    const w = this.worker;
    if (w === null) return;
    // Let the thread close its fd first: threads share the process's fd table.
    await new Promise<void>((resolve) => {
      w.on('message', (m: WriterReply) => m.op === 'aborted' && resolve());
      w.once('exit', () => resolve());
      w.postMessage({ op: 'abort' } satisfies WriterRequest);
    });
    await this.terminate();
  }

  private async terminate(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w !== null) await w.terminate();
  }
}
