// Figures for the `pnpm test:safety` summary. Each suite adds its counters under its own name;
// when AOFKV_SAFETY_REPORT_DIR is set (by test/safety/run-safety.ts) they are written there as
// <suite>.json when the suite ends, with the suite's elapsed time (from when its module loaded).
// In a plain `vitest run` nothing is written.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Figures = Record<string, number>;

export class FigureBook {
  readonly suite: string;
  readonly figures: Figures = {};
  readonly notes: string[] = [];
  private readonly startedMs = performance.now();

  constructor(suite: string) {
    this.suite = suite;
  }

  add(name: string, amount = 1): void {
    this.figures[name] = (this.figures[name] ?? 0) + amount;
  }

  addAll(figures: Readonly<Record<string, number>>): void {
    for (const [name, amount] of Object.entries(figures)) this.add(name, amount);
  }

  max(name: string, value: number): void {
    this.figures[name] = Math.max(this.figures[name] ?? 0, value);
  }

  note(text: string): void {
    this.notes.push(text);
  }

  /** Writes the book if the summary runner asked for it. */
  flush(): void {
    const dir = process.env['AOFKV_SAFETY_REPORT_DIR'];
    if (dir === undefined || dir === '') return;
    const elapsedMs = Math.round(performance.now() - this.startedMs);
    const body = { suite: this.suite, elapsedMs, figures: this.figures, notes: this.notes };
    writeFileSync(join(dir, `${this.suite}.json`), `${JSON.stringify(body, null, 2)}\n`);
  }
}
