// Count-style argument parsing shared by the list, hash and set commands, with Redis's quirk that
// a custom message replaces *every* failure text (object.c getRangeLongFromObjectOrReply /
// getPositiveLongFromObjectOrReply pass their message to getLongFromObjectOrReply too, so
// "LPOP k abc" answers "ERR value is out of range, must be positive", not "not an integer").

import { parseLongLong, parseSafeInt, type Bin } from '../bytes.ts';
import { fail } from '../reply.ts';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Redis getRangeLongFromObjectOrReply(min, LONG_MAX, message): a 64-bit integer >= min, else
 * `message` for a non-integer and for a value below min alike. Values beyond 2^53 are clamped to
 * Number.MAX_SAFE_INTEGER: callers use them as counts, where "more than any list" is all that
 * matters.
 */
export function argLongAtLeast(s: Bin, min: number, message: string): number {
  const small = parseSafeInt(s);
  if (small !== null) {
    if (small < min) fail(message);
    return small;
  }
  const big = parseLongLong(s);
  if (big === null || big < BigInt(min)) fail(message);
  return big > MAX_SAFE ? Number.MAX_SAFE_INTEGER : Number(big);
}
