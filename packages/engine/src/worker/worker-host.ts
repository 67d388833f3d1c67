// DESIGN: the engine's side of a worker thread's connection (Engine.connectWorker). Each request
// from the worker runs at once through Engine.submitRaw, the same dispatcher and held-reply path
// as db() handles, so its replies are posted back only after this turn's AOF write (and fsync
// under always), together with every other caller's commands of the turn (group commit).
// Handles are connection states: the worker's db(n) gets its own Client (SELECT, MULTI, WATCH),
// created when its first request arrives. Messages are batched both ways: the requests a worker
// makes in one tick travel together, and so do the replies of one engine turn.

import type { MessagePort } from 'node:worker_threads';
import { EngineError } from '../errors.ts';
import type { Reply } from '../reply.ts';
import type { Client } from '../server.ts';
import { toWire, type WireRequest, type WireResponse } from './wire.ts';

/** What the host needs from the engine. */
export interface WorkerHostEngine {
  readonly server: { createClient(dbIndex: number): Client; resetTransaction(c: Client): void };
  submitRaw(client: Client, argvs: WireRequest['argvs']): Promise<Reply[]>;
}

export class WorkerHost {
  private readonly engine: WorkerHostEngine;
  private readonly port: MessagePort;
  private readonly clients = new Map<number, Client>();
  private pending = 0;
  private closing = false;
  /** Responses of this turn, posted as one message (see reply()). */
  private outbox: WireResponse[] = [];
  private readonly onClosed: (host: WorkerHost) => void;

  constructor(engine: WorkerHostEngine, port: MessagePort, onClosed: (host: WorkerHost) => void) {
    this.engine = engine;
    this.port = port;
    this.onClosed = onClosed;
    // The worker batches the requests of one of its ticks into one message.
    port.on('message', (requests: WireRequest[]) => {
      for (const request of requests) this.onRequest(request);
    });
    port.on('close', () => this.closed());
    // A worker that is idle must not keep the main thread's event loop alive.
    port.unref();
  }

  private onRequest(request: WireRequest): void {
    let client = this.clients.get(request.handle);
    if (client === undefined) {
      try {
        client = this.engine.server.createClient(request.db);
      } catch (err) {
        this.reply({ id: request.id, error: errorOf(err) });
        return;
      }
      this.clients.set(request.handle, client);
    }
    this.pending++;
    this.engine.submitRaw(client, request.argvs).then(
      (replies) => this.settled({ id: request.id, replies: replies.map(toWire) }),
      (err: unknown) => this.settled({ id: request.id, error: errorOf(err) }),
    );
  }

  private settled(response: WireResponse): void {
    this.pending--;
    this.reply(response);
  }

  /**
   * Queue a response; the first of a turn schedules one post for all: the engine delivers a
   * turn's replies back to back after its AOF flush, so they leave in one message.
   */
  private reply(response: WireResponse): void {
    if (this.outbox.length === 0) queueMicrotask(() => this.flush());
    this.outbox.push(response);
  }

  private flush(): void {
    const batch = this.outbox;
    this.outbox = [];
    this.port.postMessage(batch);
    if (this.closing && this.pending === 0) this.port.close();
  }

  /** engine.close(): answer what was already run, then close the port. */
  closeAfterPending(): void {
    this.closing = true;
    if (this.pending === 0 && this.outbox.length === 0) this.port.close();
  }

  private closed(): void {
    for (const client of this.clients.values()) this.engine.server.resetTransaction(client);
    this.clients.clear();
    this.onClosed(this);
  }
}

function errorOf(err: unknown): { code: string; message: string } {
  if (err instanceof EngineError) return { code: err.code, message: err.message };
  return { code: 'ERR_WORKER_HOST', message: err instanceof Error ? err.message : String(err) };
}
