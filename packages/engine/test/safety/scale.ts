// How big the safety suites run. The default is the fast run of `pnpm test` and `pnpm test:safety`
// (~45 s); the long mode (`pnpm test:safety --long`, or AOFKV_SAFETY_LONG=1 with plain vitest)
// runs each suite at the scale that meets the long-run targets (FAULTS.md §4). An explicit
// SIM_SEEDS, KILL9_RUNS or BAD_INPUT_RUNS still wins over either.

/** AOFKV_SAFETY_LONG=1: the long run. */
export const LONG_MODE = process.env['AOFKV_SAFETY_LONG'] === '1';

/** What the long run must show in its figures; run-safety.ts fails the run when one falls short. */
export const LONG_TARGETS = {
  /** Simulated crash points (the simulator's `crashes`). */
  crashPoints: 10_000,
  /** Processes killed with SIGKILL on the real disk. */
  kill9Processes: 500,
  /** Fuzzed AOF, manifest and RDB inputs, all properties together. */
  fuzzedInputs: 1_000_000,
} as const;

/**
 * The long run's scales. A seed gives about 13 crash points (1,000 seeds: 13,152; 1,500:
 * 19,445), so 1,000 seeds would clear the 10,000 target by a third. The run takes 3,000 (about
 * 39,000 crash points, 5 min of one core) because the second core has that time to spare: kill -9
 * takes about 21 minutes on one core, bad input plus the simulator about as long on the other.
 * Bad input has five fuzzing properties of equal runs.
 */
export const LONG_SCALE = {
  simSeeds: 3_000,
  kill9Runs: LONG_TARGETS.kill9Processes,
  badInputRunsPerProperty: LONG_TARGETS.fuzzedInputs / 5,
} as const;

/** A non-negative integer from the environment, or null when unset. */
export function envInt(name: string): number | null {
  const text = process.env[name];
  if (text === undefined || text === '') return null;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${name} must be a non-negative integer: ${text}`);
  }
  return value;
}

/**
 * A per-test timeout. The long mode runs the suites side by side on 2 cores (and the kill -9
 * children besides), so a test there may take a few times its time alone.
 */
export function testTimeoutMs(aloneMs: number): number {
  return LONG_MODE ? aloneMs * 4 : aloneMs;
}
