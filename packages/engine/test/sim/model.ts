// The reference model (TigerBeetle's "auditor"): a second engine, in memory only (appendonly no),
// that executes every unit the engine under test executed, in the same order and at the same
// simulated time, plus the history of those units.
//
// Because the engine is deterministic, "the state after the first k units" is simply "replay the
// first k units of the history on a fresh model engine, each at its recorded time". That is all a
// crash check needs: the recovered engine must equal some prefix of the history. The live model
// also answers every unit as it runs, so replies are compared turn by turn and a divergence is
// caught where it happens rather than at the next crash.
//
// Time: the model has its own SimClock, set to the unit's recorded time before each unit, so
// relative TTLs (EXPIRE 3, SET PX 500) become the same absolute times the AOF recorded.

import { InlineBio } from '@aofkv/bio-workers';
import { openEngine, type DbHandle, type Engine } from '@aofkv/engine';
import { SimClock } from '../../src/testing/sim-clock.ts';
import { SimFileSystem } from '../../src/testing/sim-file-system.ts';
import { dumpKeyspace, restoreCommands, type DumpLine } from './dump.ts';
import type { Unit } from './workload.ts';

/** A unit of the history: workload units, or a keyspace restore (see restoreFrom). */
export type HistoryEntry =
  | { readonly kind: 'unit'; readonly atMs: number; readonly unit: Unit }
  | { readonly kind: 'restore'; readonly atMs: number; readonly lines: readonly DumpLine[] };

/** A settled reply, comparable across engines. */
export type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

export function settle(promise: Promise<unknown>): Promise<Settled> {
  return promise.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}

/** JSON of a settled reply; errors become their message (replies inside EXEC results included). */
export function replyText(settled: Settled): string {
  const replacer = (_key: string, v: unknown) => {
    if (v instanceof Error) return `<error ${v.message}>`;
    if (typeof v === 'bigint') return `${v}n`;
    return v;
  };
  if (settled.ok) return JSON.stringify(settled.value, replacer) ?? 'undefined';
  const error = settled.error;
  return `<rejected ${error instanceof Error ? error.message : String(error)}>`;
}

/** Submits a unit on the handle of its db. Runs synchronously inside submit (see engine.ts). */
export function submitUnit(handles: readonly DbHandle[], unit: Unit): Promise<unknown> {
  const handle = handles[unit.db];
  if (handle === undefined) throw new Error(`no handle for db ${unit.db}`);
  if (unit.kind === 'command') {
    const [name, ...args] = unit.command;
    return handle.command(name as string, ...args);
  }
  const tx = handle.multi();
  for (const [name, ...args] of unit.commands) tx.command(name as string, ...args);
  return tx.exec();
}

export function handlesOf(engine: Engine): DbHandle[] {
  return Array.from({ length: engine.config.databases }, (_, db) => engine.db(db));
}

export class ReferenceModel {
  readonly #databases: number;
  #history: HistoryEntry[] = [];
  #clock = new SimClock();
  #engine!: Engine;
  #handles: DbHandle[] = [];

  private constructor(databases: number) {
    this.#databases = databases;
  }

  static async create(databases: number): Promise<ReferenceModel> {
    const model = new ReferenceModel(databases);
    await model.#fresh();
    return model;
  }

  /** Units in the history (the state of the live model is the state after all of them). */
  get length(): number {
    return this.#history.length;
  }

  get history(): readonly HistoryEntry[] {
    return this.#history;
  }

  /** Runs units on the live model, appends them to the history; resolves with their replies. */
  async apply(units: readonly Unit[], atMs: number): Promise<Settled[]> {
    const entries = units.map((unit): HistoryEntry => ({ kind: 'unit', atMs, unit }));
    const replies = this.#submitAll(entries);
    this.#history.push(...entries);
    return Promise.all(replies);
  }

  /** Rebuilds the live model as the state after the first `units` entries; drops the rest. */
  async rollbackTo(units: number): Promise<void> {
    if (units < 0 || units > this.#history.length) {
      throw new Error(`rollbackTo(${units}) outside the history of ${this.#history.length} units`);
    }
    this.#history = this.#history.slice(0, units);
    await this.#fresh();
    await Promise.all(this.#submitAll(this.#history));
  }

  /** Forgets the history: the model becomes `lines` (a dump), as one restore entry. */
  async restoreFrom(lines: readonly DumpLine[], atMs: number): Promise<void> {
    this.#history = [{ kind: 'restore', atMs, lines }];
    await this.#fresh();
    await Promise.all(this.#submitAll(this.#history));
  }

  dump(nowMs: number): DumpLine[] {
    return dumpKeyspace(this.#engine, nowMs);
  }

  /** The dump of the state after the first `units` entries (on a throwaway engine). */
  async dumpAfter(units: number, nowMs: number): Promise<DumpLine[]> {
    if (units < 0 || units > this.#history.length) {
      throw new Error(`dumpAfter(${units}) outside the history of ${this.#history.length} units`);
    }
    const other = await ReferenceModel.create(this.#databases);
    try {
      other.#history = this.#history.slice(0, units);
      await Promise.all(other.#submitAll(other.#history));
      return other.dump(nowMs);
    } finally {
      await other.close();
    }
  }

  async close(): Promise<void> {
    await this.#engine.close();
  }

  async #fresh(): Promise<void> {
    if (this.#engine !== undefined) await this.#engine.close();
    this.#engine = await openEngine({
      appendonly: false,
      databases: this.#databases,
      clock: this.#clock,
      fs: new SimFileSystem(),
      bio: new InlineBio({ fsync: () => {}, close: () => {} }),
      autoCron: false,
    });
    this.#handles = handlesOf(this.#engine);
  }

  /** Submits every entry now (execution is synchronous), each at its own time. */
  #submitAll(entries: readonly HistoryEntry[]): Promise<Settled>[] {
    const replies: Promise<Settled>[] = [];
    for (const entry of entries) {
      this.#clock.set(entry.atMs);
      if (entry.kind === 'unit') {
        replies.push(settle(submitUnit(this.#handles, entry.unit)));
        continue;
      }
      const restored = restoreCommands(entry.lines).map(({ db, argv }) =>
        submitUnit(this.#handles, { kind: 'command', db, command: argv }),
      );
      replies.push(settle(Promise.all(restored)));
    }
    return replies;
  }
}
