// The progress bar the CLI shows while a data directory loads (shell start-up, dump). Fed by
// openEngine's onLoadProgress; drawn by cli-progress on stderr, so stdout (replies, the JSON dump)
// never carries it. It appears only when stderr is a terminal and only once a load has run for a
// second: short loads, pipes and CI logs see nothing at all.

import cliProgress from 'cli-progress';
import type { LoadProgress } from '../engine.ts';
import type { CliOutput } from './io.ts';

/** A load shorter than this shows no bar. */
export const SHOW_AFTER_MS = 1000;

export interface LoadProgressDisplay {
  /** Pass as openEngine's onLoadProgress. */
  readonly onLoadProgress: (progress: LoadProgress) => void;
  /** Remove the bar (if one is shown); call once openEngine has resolved or rejected. */
  stop(): void;
}

export interface LoadProgressOptions {
  /** Milliseconds clock (default performance.now); tests pass a fake one. */
  readonly nowMs?: () => number;
}

const MB = 1024 * 1024;

export function loadProgressDisplay(
  stream: CliOutput,
  options: LoadProgressOptions = {},
): LoadProgressDisplay {
  if (stream.isTTY !== true) return { onLoadProgress: () => {}, stop: () => {} };
  const nowMs = options.nowMs ?? (() => performance.now());
  let startedMs: number | null = null;
  let bar: cliProgress.SingleBar | null = null;
  let stopped = false;

  const payload = (p: LoadProgress) => ({
    loadedMb: (p.loadedBytes / MB).toFixed(1),
    totalMb: (p.totalBytes / MB).toFixed(1),
  });

  return {
    onLoadProgress(p) {
      if (stopped) return;
      startedMs ??= nowMs();
      if (bar === null) {
        if (nowMs() - startedMs < SHOW_AFTER_MS || p.loadedBytes >= p.totalBytes) return;
        bar = new cliProgress.SingleBar(
          {
            stream: stream as NodeJS.WritableStream,
            format:
              'Loading AOF [{bar}] {percentage}% | {loadedMb}/{totalMb} MB | ETA {eta_formatted}',
            hideCursor: true,
            clearOnComplete: true,
            // main.ts handles SIGINT/SIGTERM and closes the engine; we are stopped from there.
            gracefulExit: false,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(p.totalBytes, p.loadedBytes, payload(p));
        return;
      }
      bar.setTotal(p.totalBytes);
      bar.update(p.loadedBytes, payload(p));
    },
    stop() {
      stopped = true;
      bar?.stop();
      bar = null;
    },
  };
}
