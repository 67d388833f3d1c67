// Loading progress (spec §7.4): openEngine's onLoadProgress reports loadedBytes growing to
// totalBytes (base + INCR sizes) while the event loop keeps turning (the loader yields every
// ~50 ms); INFO's loading_* fields describe the load in flight and commands other than the
// loading-safe ones get -LOADING; the CLI's progress bar appears only on a terminal and only for
// loads longer than a second.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine, type Engine, type LoadProgress } from '../../src/engine.ts';
import { ReplyError } from '../../src/errors.ts';
import { loadProgressDisplay, SHOW_AFTER_MS } from '../../src/cli/load-progress.ts';
import { AOF_DIR, MANIFEST, cmd, tempRoot, writeFiles } from '../interop/interop-helpers.ts';

const tmp = tempRoot('aofkv-progress-');
afterAll(() => tmp.remove());

const COMMANDS = 120_000;
let dir: string;
let totalBytes: number;

beforeAll(() => {
  // Base + two INCR files, ~5 MB of SETs: ~120 batches of 1024 commands, and (even on a fast
  // machine) several of the loader's 50 ms slices.
  dir = tmp.dir('big');
  const third = COMMANDS / 3;
  const file = (from: number) => {
    const parts: Buffer[] = [];
    for (let i = from; i < from + third; i++) parts.push(cmd('SET', `key:${i}`, `value:${i}`));
    return Buffer.concat(parts);
  };
  const files = {
    [`${AOF_DIR}/appendonly.aof.1.base.aof`]: file(0),
    [`${AOF_DIR}/appendonly.aof.1.incr.aof`]: file(third),
    [`${AOF_DIR}/appendonly.aof.2.incr.aof`]: file(2 * third),
  };
  writeFiles(dir, files);
  writeFileSync(
    join(dir, AOF_DIR, MANIFEST),
    'file appendonly.aof.1.base.aof seq 1 type b\n' +
      'file appendonly.aof.1.incr.aof seq 1 type i\n' +
      'file appendonly.aof.2.incr.aof seq 2 type i\n',
  );
  totalBytes = Object.values(files).reduce((n, b) => n + b.length, 0);
});

describe('openEngine onLoadProgress', () => {
  it(
    'reports loadedBytes growing from 0 to totalBytes, ' + 'with the event loop turning in between',
    async () => {
      const reports: LoadProgress[] = [];
      let turns = 0;
      let loading = true;
      // Counts event-loop turns during the load: proof that the loader yields.
      const tick = () => {
        turns++;
        if (loading) setImmediate(tick);
      };
      setImmediate(tick);
      const engine = await openEngine({
        dir,
        readOnly: true,
        onLoadProgress: (p) => reports.push(p),
      });
      loading = false;
      try {
        expect(await engine.db(0).dbsize()).toBe(COMMANDS);
        expect(reports[0]).toEqual({ loadedBytes: 0, totalBytes });
        expect(reports.at(-1)).toEqual({ loadedBytes: totalBytes, totalBytes });
        for (let i = 1; i < reports.length; i++) {
          expect(reports[i]!.loadedBytes).toBeGreaterThanOrEqual(reports[i - 1]!.loadedBytes);
          expect(reports[i]!.totalBytes).toBe(totalBytes);
        }
        // One report per 1024 commands, plus start, per-file ends and stop.
        expect(new Set(reports.map((r) => r.loadedBytes)).size).toBeGreaterThan(
          COMMANDS / 1024 - 5,
        );
        expect(turns).toBeGreaterThan(1);
      } finally {
        await engine.close();
      }
    },
  );

  it(
    'INFO has loading:1 and the loading_* fields ' +
      'while a load runs; other commands get -LOADING',
    async () => {
      let engine: Engine | null = null;
      const samples: Record<string, string | number>[] = [];
      const seen: LoadProgress[] = [];
      // Set from inside the callback (an object, so TypeScript does not narrow it to its initial
      // value).
      const during: { get?: Promise<unknown>; info?: Promise<unknown> } = {};
      engine = await openEngine({
        dir,
        autoCron: false,
        // Ignored during the start-up load (no engine to ask yet); DEBUG LOADAOF below is observed.
        onLoadProgress: (p) => {
          if (engine === null) return;
          seen.push(p);
          const i = engine.aof!.info();
          if (i.loading === 1) samples.push(i);
          if (during.get === undefined && p.loadedBytes > 0 && p.loadedBytes < p.totalBytes) {
            // Another client's commands in the middle of the load, as Redis's clients see them.
            const db = engine.db(0);
            during.get = db.command('get', 'key:0').catch((e: unknown) => e);
            during.info = db.command('info', 'persistence');
          }
        },
      });
      try {
        await engine.debugLoadAof();
        expect(samples.length).toBeGreaterThan(10);
        const mid = samples.find(
          (s) => Number(s.loading_loaded_bytes) > 0 && Number(s.loading_loaded_bytes) < totalBytes,
        )!;
        expect(mid).toBeDefined();
        expect(mid.loading_total_bytes).toBe(totalBytes);
        expect(mid.loading_loaded_perc).toMatch(/^\d+\.\d\d%$/);
        expect(typeof mid.loading_eta_seconds).toBe('number');
        expect(Math.abs(Number(mid.loading_start_time) - Date.now() / 1000)).toBeLessThan(60);
        // The last report is the end of the load: loaded == total; then INFO says loading:0.
        expect(seen.at(-1)).toEqual({ loadedBytes: totalBytes, totalBytes });
        expect(engine.aof!.info().loading).toBe(0);
        expect(engine.aof!.info().loading_total_bytes).toBeUndefined();
        const getReply = await during.get;
        expect(getReply).toBeInstanceOf(ReplyError);
        expect((getReply as ReplyError).message).toBe(
          'LOADING Redis is loading the dataset in memory',
        );
        expect(await during.info).toMatch(/\r\nloading:1\r\n[\s\S]*loading_total_bytes:\d+\r\n/);
        expect(await engine.db(0).dbsize()).toBe(COMMANDS);
      } finally {
        await engine.close();
      }
    },
  );
});

describe('commands while loading', () => {
  // BUG (src/commands/server-commands.ts, reported): aofkv's PING carries the 'loading' flag, so
  // it answers PONG during a load; Redis 7.0's PING has only FAST and SENTINEL (ping.json), so it
  // answers -LOADING — which Redis's "EVAL timeout with slow verbatim Lua script from AOF" test and
  // every readiness probe rely on. Un-skip when 'loading' (and 'stale') are dropped from PING.
  it('PING gets -LOADING while the AOF loads, as in Redis 7.0', async () => {
    let engine: Engine | null = null;
    const during: { ping?: Promise<unknown> } = {};
    engine = await openEngine({
      dir,
      autoCron: false,
      onLoadProgress: (p) => {
        if (
          engine !== null &&
          during.ping === undefined &&
          p.loadedBytes > 0 &&
          p.loadedBytes < p.totalBytes
        ) {
          during.ping = engine
            .db(0)
            .command('ping')
            .catch((e: unknown) => e);
        }
      },
    });
    try {
      await engine.debugLoadAof();
      const reply = await during.ping;
      expect(reply).toBeInstanceOf(ReplyError);
      expect((reply as ReplyError).message).toBe('LOADING Redis is loading the dataset in memory');
    } finally {
      await engine.close();
    }
  });
});

/** A stream that says it is a terminal, collecting what is written to it. */
function fakeTerminal(isTTY: boolean): {
  stream: PassThrough & { isTTY: boolean; columns: number };
  text: () => string;
} {
  const stream = Object.assign(new PassThrough(), { isTTY, columns: 100 });
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('the CLI load progress bar', () => {
  it('stays hidden for the first second, then draws on stderr and clears itself on stop', () => {
    let now = 0;
    const term = fakeTerminal(true);
    const display = loadProgressDisplay(term.stream, { nowMs: () => now });
    display.onLoadProgress({ loadedBytes: 0, totalBytes: 10 * 1024 * 1024 });
    now = SHOW_AFTER_MS - 1;
    display.onLoadProgress({ loadedBytes: 1024 * 1024, totalBytes: 10 * 1024 * 1024 });
    expect(term.text()).toBe('');
    now = SHOW_AFTER_MS + 1;
    display.onLoadProgress({ loadedBytes: 2 * 1024 * 1024, totalBytes: 10 * 1024 * 1024 });
    expect(term.text()).toContain('Loading AOF [');
    expect(term.text()).toContain('20% | 2.0/10.0 MB');
    display.onLoadProgress({ loadedBytes: 10 * 1024 * 1024, totalBytes: 10 * 1024 * 1024 });
    display.stop();
    expect(term.text()).toContain('\x1B[?25h'); // the cursor is shown again
    expect(term.text().endsWith('\x1B[2K')).toBe(true); // and the bar's line cleared
    const after = term.text().length;
    display.onLoadProgress({ loadedBytes: 0, totalBytes: 1 }); // nothing after stop
    expect(term.text().length).toBe(after);
  });

  it(
    'never draws for a load that finishes within the first second, ' +
      'nor when stderr is not a terminal',
    () => {
      let now = 0;
      const quick = fakeTerminal(true);
      const a = loadProgressDisplay(quick.stream, { nowMs: () => now });
      a.onLoadProgress({ loadedBytes: 0, totalBytes: 100 });
      now = 900;
      a.onLoadProgress({ loadedBytes: 100, totalBytes: 100 });
      now = 1500; // the final report after the second: already complete, no bar
      a.onLoadProgress({ loadedBytes: 100, totalBytes: 100 });
      a.stop();
      expect(quick.text()).toBe('');

      const pipe = fakeTerminal(false);
      const b = loadProgressDisplay(pipe.stream, { nowMs: () => now });
      b.onLoadProgress({ loadedBytes: 0, totalBytes: 100 });
      now = 10_000;
      b.onLoadProgress({ loadedBytes: 50, totalBytes: 100 });
      b.stop();
      expect(pipe.text()).toBe('');
    },
  );
});
