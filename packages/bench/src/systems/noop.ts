// The load generator alone: an "operation" that does no storage work but is acknowledged the way
// aofkv acknowledges (all operations of an event-loop turn resolve together in a setImmediate), so
// its ops/s is the ceiling the harness itself puts on any in-process system, and its CPU µs/op is
// the harness's share of every other in-process row.
import { TurnBatcher } from '../peers/turn-batcher.ts';
import type { Workload } from '../workload.ts';
import type { Durability, WindowCounters, WriteSystem } from './types.ts';

export class NoopSystem implements WriteSystem {
  readonly system = 'harness';
  readonly mode = 'no-op (turn-batched ack)';
  readonly durability: Durability = 'memory';
  private readonly batcher = new TurnBatcher<number>(() => {});

  makeOp(_workload: Workload, _seed: number): () => Promise<unknown> {
    return () => this.batcher.submit(0);
  }

  async beginWindow(): Promise<void> {}

  async endWindow(): Promise<WindowCounters> {
    return { fsyncs: null, bytesWritten: null, latencyEvents: [] };
  }

  async close(): Promise<void> {}
}
