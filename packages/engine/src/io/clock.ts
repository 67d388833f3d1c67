// The engine's only source of time. Tests and simulations inject a SimClock (testing/) and move
// it explicitly; production uses the system clock.

export interface Clock {
  /** Wall-clock milliseconds since the Unix epoch (Redis mstime()). */
  nowMs(): number;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
};
