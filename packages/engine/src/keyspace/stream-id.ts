// Stream IDs (Redis stream.h streamID: two unsigned 64-bit parts, ms and seq). One ID is held as a
// single 128-bit bigint, ms * 2^64 + seq: comparing two IDs is then one `<`, which is exactly
// Redis streamCompareID (and the order of the 16-byte big-endian rax keys), and an ID is a valid
// Map key by value.

import type { Bin } from '../bytes.ts';

export type StreamId = bigint;

const U64 = 1n << 64n;
const U64_MASK = U64 - 1n;
export const ID_MIN: StreamId = 0n;
/** UINT64_MAX-UINT64_MAX, the last possible ID. */
export const ID_MAX: StreamId = (1n << 128n) - 1n;
export const UINT64_MAX = U64_MASK;

export function makeId(ms: bigint, seq: bigint): StreamId {
  return (ms << 64n) | seq;
}

export function idMs(id: StreamId): bigint {
  return id >> 64n;
}

export function idSeq(id: StreamId): bigint {
  return id & U64_MASK;
}

/** Redis createStreamIDString: "<ms>-<seq>". */
export function formatId(id: StreamId): Bin {
  return `${id >> 64n}-${id & U64_MASK}`;
}

/** Redis streamIncrID: the successor, or null past the last possible ID. */
export function incrId(id: StreamId): StreamId | null {
  return id === ID_MAX ? null : id + 1n;
}

/** Redis streamDecrID: the predecessor, or null before 0-0. */
export function decrId(id: StreamId): StreamId | null {
  return id === 0n ? null : id - 1n;
}

/** The 16-byte big-endian rax key of an ID (streamEncodeID), as a Bin. */
export function encodeIdKey(id: StreamId): Buffer {
  const buf = Buffer.allocUnsafe(16);
  buf.writeBigUInt64BE(id >> 64n, 0);
  buf.writeBigUInt64BE(id & U64_MASK, 8);
  return buf;
}

export function decodeIdKey(buf: Buffer, offset: number): StreamId {
  return (buf.readBigUInt64BE(offset) << 64n) | buf.readBigUInt64BE(offset + 8);
}

const MAX_ULL_TEXT = 20;

/**
 * Redis string2ull: string2ll for the canonical form (negative values refused), else C's strtoull
 * in base 10, which also takes leading white space, a sign (a '-' negates modulo 2^64) and leading
 * zeros, and must consume the whole string. Null when invalid or out of range.
 */
export function string2ull(s: string): bigint | null {
  if (/^(0|-?[1-9][0-9]*)$/.test(s) && s.length <= MAX_ULL_TEXT) {
    const v = BigInt(s);
    if (v >= -(1n << 63n) && v < 1n << 63n) return v < 0n ? null : v;
  }
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/.exec(s);
  if (m === null) return null;
  const v = BigInt(m[2]!);
  if (v > U64_MASK) return null;
  return m[1] === '-' ? (U64 - v) & U64_MASK : v;
}

/** The parse result of an ID argument that may use the `<ms>-*` form. */
export interface ParsedId {
  id: StreamId;
  /** False for `<ms>-*` (the sequence is to be generated). */
  seqGiven: boolean;
}

/**
 * Redis streamGenericParseIDOrReply: "-" and "+" (unless strict), "<ms>", "<ms>-<seq>", and with
 * `allowSeqStar` "<ms>-*". `missingSeq` is the sequence of a bare "<ms>". Null when invalid.
 * The C code works on a NUL-terminated copy of at most 127 bytes, so a NUL ends the text.
 */
export function parseStreamId(
  text: Bin,
  missingSeq: bigint,
  strict: boolean,
  allowSeqStar = false,
): ParsedId | null {
  if (text.length > 127) return null;
  const nul = text.indexOf('\0');
  const buf = nul === -1 ? text : text.slice(0, nul);
  if (strict && (buf === '-' || buf === '+')) return null;
  if (buf === '-') return { id: ID_MIN, seqGiven: true };
  if (buf === '+') return { id: ID_MAX, seqGiven: true };
  const dash = buf.indexOf('-');
  const ms = string2ull(dash === -1 ? buf : buf.slice(0, dash));
  if (ms === null) return null;
  if (dash === -1) return { id: makeId(ms, missingSeq), seqGiven: true };
  const rest = buf.slice(dash + 1);
  if (allowSeqStar && rest === '*') return { id: makeId(ms, 0n), seqGiven: false };
  const seq = string2ull(rest);
  if (seq === null) return null;
  return { id: makeId(ms, seq), seqGiven: true };
}
