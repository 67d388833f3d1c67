// Errors of the RDB reader. Every damaged-input case ends in an RdbError (EngineError code
// 'ERR_RDB') that says where (byte offset in the file), what was wrong, and for a value which key
// and RDB type it belonged to, so a user can find the spot with a hex dump or redis-check-rdb.

import { EngineError } from '../errors.ts';
import type { Bin } from '../bytes.ts';

/**
 * What kind of damage: the file ends early ('eof'), the checksum does not match, the magic or the
 * version is wrong, the content is malformed ('format'), a key appears twice, or the file holds
 * something aofkv cannot represent ('unsupported': streams, modules, pre-GA functions).
 */
export type RdbErrorKind =
  | 'eof'
  | 'checksum'
  | 'signature'
  | 'version'
  | 'format'
  | 'duplicate'
  | 'unsupported';

export interface RdbErrorDetails {
  /** File offset of the read that failed (Redis's rio processed_bytes). */
  offset: number;
  /** What is wrong, without location. */
  reason: string;
  kind?: RdbErrorKind;
  fileName?: string | null;
  /** The key whose value was being read, if any. */
  key?: Bin | null;
  /** The RDB object type byte of that value, if known. */
  rdbType?: number | null;
}

export class RdbError extends EngineError {
  readonly offset: number;
  readonly reason: string;
  readonly kind: RdbErrorKind;
  readonly fileName: string | null;
  readonly key: Bin | null;
  readonly rdbType: number | null;

  constructor(details: RdbErrorDetails, options?: { cause?: unknown }) {
    super('ERR_RDB', formatRdbError(details), options);
    this.name = 'RdbError';
    this.offset = details.offset;
    this.reason = details.reason;
    this.kind = details.kind ?? 'format';
    this.fileName = details.fileName ?? null;
    this.key = details.key ?? null;
    this.rdbType = details.rdbType ?? null;
  }
}

function formatRdbError(d: RdbErrorDetails): string {
  let msg = `Bad RDB${d.fileName ? ` ${d.fileName}` : ''} at offset ${d.offset}: ${d.reason}`;
  if (d.key !== undefined && d.key !== null) {
    msg += ` (key '${printableKey(d.key)}'`;
    if (d.rdbType !== undefined && d.rdbType !== null)
      msg += `, RDB type ${d.rdbType} ${rdbTypeName(d.rdbType)}`;
    msg += ')';
  }
  return msg;
}

/** A key for a message: control and non-ASCII bytes escaped, long keys shortened. */
export function printableKey(key: Bin): string {
  const shown = key.length > 128 ? key.slice(0, 128) : key;
  let out = '';
  for (let i = 0; i < shown.length; i++) {
    const c = shown.charCodeAt(i);
    out +=
      c >= 0x20 && c < 0x7f && c !== 0x27 && c !== 0x5c
        ? shown[i]
        : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return key.length > 128 ? `${out}...(${key.length} bytes)` : out;
}

/** redis-check-rdb's names for the object types (rdb_type_string). */
const TYPE_NAMES: readonly string[] = [
  'string',
  'list-linked',
  'set-hashtable',
  'zset-v1',
  'hash-hashtable',
  'zset-v2',
  'module-pre-release',
  'module-value',
  '',
  'hash-zipmap',
  'list-ziplist',
  'set-intset',
  'zset-ziplist',
  'hash-ziplist',
  'quicklist',
  'stream',
  'hash-listpack',
  'zset-listpack',
  'quicklist-v2',
  'stream-v2',
  'set-listpack',
  'stream-v3',
];

export function rdbTypeName(type: number): string {
  return `(${TYPE_NAMES[type] ?? 'unknown'})`;
}

/**
 * Thrown by the blob decoders (listpack, ziplist, intset, zipmap, LZF) with an offset relative to
 * the blob; the reader turns it into an RdbError with the file offset and the key.
 */
export class BlobFormatError extends Error {
  readonly relativeOffset: number;
  constructor(reason: string, relativeOffset: number) {
    super(reason);
    this.name = 'BlobFormatError';
    this.relativeOffset = relativeOffset;
  }
}
