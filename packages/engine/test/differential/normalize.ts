// How replies are compared and shown.
//
// Comparison is structural on the raw Reply shapes (reply.ts), through a canonical text encoding
// that keeps every distinction a client could see: status vs bulk ("+OK" vs "$OK"), nil bulk vs
// nil array, and number vs bigint (aofkv promises bigint exactly outside ±2^53; the RESP parser
// applies the same rule to Redis's integers, so a 2^63-1 that aofkv lost to a double shows up).
//
// Normalization removes what Redis does not promise:
//   - element order of replies that come from a hash table (SMEMBERS, SINTER/SUNION/SDIFF, KEYS,
//     HKEYS, HVALS; HGETALL as sorted field/value pairs): sorted on both sides;
//   - TTL/PTTL/EXPIRETIME/PEXPIRETIME of keys whose TTL was set relative to "now": the two
//     servers ran the command some milliseconds apart, so positive values match within a tolerance
//     (1 s / 1000 ms; negative answers -1/-2 must be exact). EXPIRETIME/PEXPIRETIME of times set
//     from the generator's absolute timestamps are compared exactly (isGeneratedAbsoluteMs), and
//     so catch precision loss near 2^63.
// Inside EXEC each element is compared with the rule of the command queued at that position.

import type { Bin } from '../../src/bytes.ts';
import { ErrorReply, NilArrayReply, StatusReply, type Reply } from '../../src/reply.ts';
import { isGeneratedAbsoluteMs } from './generator.ts';

const UNORDERED = new Set(['smembers', 'sinter', 'sunion', 'sdiff', 'keys', 'hkeys', 'hvals']);
const PAIRS = new Set(['hgetall']);
const TTL_TOLERANCE: Record<string, number> = {
  ttl: 1,
  expiretime: 1,
  pttl: 1000,
  pexpiretime: 1000,
};

/** Canonical text of a reply: equal text ⇔ a client could not tell the replies apart. */
export function canon(r: Reply): string {
  if (typeof r === 'string') return `$${JSON.stringify(r)}`;
  if (typeof r === 'number') return `:${r}`;
  if (typeof r === 'bigint') return `:${r}n`;
  if (r === null) return '$nil';
  if (r instanceof NilArrayReply) return '*nil';
  if (r instanceof StatusReply) return `+${JSON.stringify(r.status)}`;
  if (r instanceof ErrorReply) return `-${JSON.stringify(r.message)}`;
  if (Array.isArray(r)) return `[${r.map(canon).join(',')}]`;
  return `?${String(r)}`; // a handler returned something that is not a Reply at all
}

/** Apply the order normalization for the command `argv` (a no-op for ordered replies). */
export function normalize(argv: readonly Bin[], r: Reply): Reply {
  if (!Array.isArray(r)) return r;
  const name = argv[0]!.toLowerCase();
  if (UNORDERED.has(name)) return sortReplies(r);
  if (name === 'xinfo' || name === 'xpending') return maskStreamTimes(r, name === 'xpending');
  if (PAIRS.has(name)) {
    const pairs: Reply[][] = [];
    for (let i = 0; i < r.length; i += 2) pairs.push(r.slice(i, i + 2));
    pairs.sort((a, b) => cmpText(canon(a), canon(b)));
    return pairs.flat();
  }
  return r;
}

/**
 * Stream replies carry times of each server's own clock: idle times, seen-times and delivery
 * times. Masked: the value after an "idle" field, XPENDING rows' idle column, and any integer
 * within an hour of now (a delivery or seen time set from the clock).
 */
function maskStreamTimes(r: Reply[], pendingRows: boolean): Reply[] {
  const now = Date.now();
  const mask = (x: Reply): Reply => {
    if (typeof x === 'number' && Math.abs(x - now) < 3_600_000) return '<now>';
    if (!Array.isArray(x)) return x;
    const out = x.map(mask);
    for (let i = 0; i + 1 < out.length; i++) if (out[i] === 'idle') out[i + 1] = '<idle>';
    return out;
  };
  const out = r.map(mask);
  if (!pendingRows) return out;
  return out.map((row) =>
    Array.isArray(row) && row.length === 4 && typeof row[2] === 'number'
      ? [row[0]!, row[1]!, '<idle>', row[3]!]
      : row,
  );
}

export function sortReplies(r: readonly Reply[]): Reply[] {
  return [...r].sort((a, b) => cmpText(canon(a), canon(b)));
}

function cmpText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Do the aofkv reply `a` and the Redis reply `r` to `argv` match? `queued` lists the commands
 * queued before an EXEC (to compare EXEC's elements per command).
 */
export function repliesMatch(
  argv: readonly Bin[],
  a: Reply,
  r: Reply,
  queued?: readonly (readonly Bin[])[],
): boolean {
  const name = argv[0]!.toLowerCase();
  if (
    name === 'exec' &&
    queued !== undefined &&
    Array.isArray(a) &&
    Array.isArray(r) &&
    a.length === r.length &&
    r.length === queued.length
  ) {
    return a.every((ai, i) => repliesMatch(queued[i]!, ai, r[i]!));
  }
  const tol = TTL_TOLERANCE[name];
  if (tol !== undefined && isInteger(a) && isInteger(r)) return timesMatch(name, a, r, tol);
  return canon(normalize(argv, a)) === canon(normalize(argv, r));
}

function isInteger(x: Reply): x is number | bigint {
  return typeof x === 'bigint' || (typeof x === 'number' && Number.isInteger(x));
}

function timesMatch(name: string, a: number | bigint, r: number | bigint, tol: number): boolean {
  // aofkv's reply must still be well-formed: bigint exactly when outside ±(2^53-1).
  const wellFormed =
    typeof a === 'number' ? Number.isSafeInteger(a) : !Number.isSafeInteger(Number(a));
  if (!wellFormed) return false;
  const A = BigInt(a);
  const R = BigInt(r);
  if (A < 0n || R < 0n) return A === R;
  if (name === 'expiretime' && isGeneratedAbsoluteMs(R * 1000n)) return A === R;
  if (name === 'pexpiretime' && isGeneratedAbsoluteMs(R)) return A === R;
  const d = A - R;
  return d >= -BigInt(tol) && d <= BigInt(tol);
}

// ---- Display ------------------------------------------------------------------------------------

/** A reply on one line, redis-cli style: "abc", (integer) 3, (nil), (error) ERR ..., [..]. */
export function show(r: Reply, maxLen = 600): string {
  const s = showInner(r);
  return s.length > maxLen ? `${s.slice(0, maxLen)}… (${s.length} chars)` : s;
}

function showInner(r: Reply): string {
  if (typeof r === 'string') return quote(r);
  if (typeof r === 'number') return `(integer) ${r}`;
  if (typeof r === 'bigint') return `(integer) ${r}n`;
  if (r === null) return '(nil)';
  if (r instanceof NilArrayReply) return '(nil array)';
  if (r instanceof StatusReply) return `+${escapeBin(r.status)}`;
  if (r instanceof ErrorReply) return `(error) ${escapeBin(r.message)}`;
  if (Array.isArray(r)) return `[${r.map(showInner).join(', ')}]`;
  return `<not a Reply: ${String(r)}>`;
}

/** A command as it could be pasted into redis-cli (double quotes with \xHH escapes as needed). */
export function showCommand(argv: readonly Bin[], maxArgLen = 200): string {
  return argv
    .map((arg) => {
      const q = /^[A-Za-z0-9_.:+\-*?[\]{}^<>=!@#$%&|/,;~`()]+$/.test(arg) ? arg : quote(arg);
      return q.length > maxArgLen ? `${q.slice(0, maxArgLen)}…(${arg.length} bytes)` : q;
    })
    .join(' ');
}

/** redis-cli sdscatrepr quoting of a byte string. */
export function quote(b: Bin): string {
  return `"${escapeBin(b)}"`;
}

/** The inside of quote(): printable ASCII as is, everything else escaped. */
function escapeBin(b: Bin): string {
  let out = '';
  for (let i = 0; i < b.length; i++) {
    const c = b.charCodeAt(i);
    const ch = b[i]!;
    if (ch === '\\' || ch === '"') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else out += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return out;
}
