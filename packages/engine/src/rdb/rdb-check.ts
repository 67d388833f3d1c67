// RDB checking, as redis-check-rdb 7.0 does it (redis_check_rdb / redis_check_rdb_main): parse
// the whole RDB with the loader's own parser (so "check passes" and "load succeeds" agree), print
// the same progress lines — "[offset N] AUX FIELD k = 'v'", "Selecting DB ID n", "Checksum OK",
// "\o/ RDB looks OK! \o/", the [info] counters — and on damage the "--- RDB ERROR DETECTED ---"
// block with the offset, the phase, the key and its type.
//
// Offsets are redis-check-rdb's `processed_bytes`: how far the parser had consumed when it
// printed. Messages for the failures redis-check-rdb names itself (EOF, CRC, signature, version,
// invalid type) use its words; other damage is described in ours, since Redis's text for those
// includes its own source line numbers.
//
// Two uses: the RDB preamble of an AOF (redis-check-aof's checkRdb hook, which then continues
// with the RESP tail from where the RDB ended), and a standalone file check.

import type { Bin } from '../bytes.ts';
import type { FileSystem } from '../io/file-system.ts';
import { RespFileReader } from '../io/resp-file-reader.ts';
import type { ExpireMs } from '../keyspace/db.ts';
import type { RedisValue } from '../keyspace/values.ts';
import { RdbError, rdbTypeName } from './rdb-errors.ts';
import { RdbParser, type RdbVisitor } from './rdb-reader.ts';

export interface RdbCheckResult {
  ok: boolean;
  keys: number;
  expires: number;
  alreadyExpired: number;
  /** The damage found, null when ok. */
  error: RdbError | null;
}

export interface RdbCheckOptions {
  /** Shown in "Checking RDB file <name>" (redis-check-aof passes the file name it was given). */
  fileName: string;
  /** Receives each output line (without newline). */
  out: (line: string) => void;
  /** "Already expired" is counted against this time (default: now). */
  nowMs?: number;
}

/**
 * Check the RDB that starts at reader.position. On success the reader is left right after the
 * RDB (the checksum), so a caller can go on with an AOF tail.
 */
export function checkRdb(reader: RespFileReader, options: RdbCheckOptions): RdbCheckResult {
  const { out, fileName } = options;
  const now = options.nowMs ?? Date.now();
  out(`[offset ${reader.position}] Checking RDB file ${fileName}`);
  const parser = new RdbParser(reader, { fileName });
  const info = (msg: string) => out(`[offset ${parser.offset}] ${msg}`);
  let alreadyExpired = 0;
  const visitor: CheckVisitor = {
    aux: (key, value) => info(`AUX FIELD ${cString(key)} = '${cString(value)}'`),
    selectDb: (id) => info(`Selecting DB ID ${id}`),
    entry: (_key: Bin, _value: RedisValue, expireMs: ExpireMs) => {
      if (expireMs !== -1 && expireMs < now) alreadyExpired++;
      return true;
    },
    emptyKey: (_key, type) => {
      // redis-check-rdb fails on these (rdbLoadObject returns NULL), though the server skips them.
      parser.fail(
        `empty key: the ${rdbTypeName(type)} value holds no elements (redis-server would skip it)`,
      );
    },
    checksum: (result) => {
      if (result === 'ok') info('Checksum OK');
      else if (result === 'not-computed')
        info('RDB file was saved with checksum disabled: no check performed.');
    },
  };
  const counters = () => ({ keys: parser.keysRead, expires: parser.expiresRead, alreadyExpired });
  try {
    parser.readHeader();
    parser.run(visitor);
  } catch (err) {
    if (!(err instanceof RdbError)) throw err;
    printError(out, parser, err, counters());
    return { ok: false, ...counters(), error: err };
  }
  info('\\o/ RDB looks OK! \\o/');
  printInfo(out, counters());
  return { ok: true, ...counters(), error: null };
}

type CheckVisitor = Required<
  Pick<RdbVisitor, 'aux' | 'selectDb' | 'entry' | 'emptyKey' | 'checksum'>
>;

/** redis-check-aof's RDB preamble step: true when the preamble is sane (reader then after it). */
export function checkRdbPreamble(
  reader: RespFileReader,
  fileName: string,
  out: (line: string) => void,
  nowMs?: number,
): boolean {
  return checkRdb(reader, { fileName, out, ...(nowMs === undefined ? {} : { nowMs }) }).ok;
}

/** redis-check-rdb <file>: 0 when the file is a sane RDB, 1 otherwise. */
export function checkRdbFile(
  fs: FileSystem,
  filePath: string,
  out: (line: string) => void,
  nowMs?: number,
): number {
  const st = fs.stat(filePath);
  if (st === null) {
    out(`Cannot open file ${filePath}: No such file or directory`);
    return 1;
  }
  const fd = fs.open(filePath, 'read');
  try {
    const reader = new RespFileReader(fs, fd, st.sizeBytes);
    const result = checkRdb(reader, {
      fileName: filePath,
      out,
      ...(nowMs === undefined ? {} : { nowMs }),
    });
    return result.ok ? 0 : 1;
  } finally {
    fs.close(fd);
  }
}

function printError(
  out: (line: string) => void,
  parser: RdbParser,
  err: RdbError,
  counters: { keys: number; expires: number; alreadyExpired: number },
): void {
  out('--- RDB ERROR DETECTED ---');
  out(`[offset ${parser.offset}] ${checkMessage(err, parser)}`);
  out(`[additional info] While doing: ${parser.doing}`);
  if (parser.key !== null) out(`[additional info] Reading key '${cString(parser.key)}'`);
  // redis-check-rdb's key_type starts at 0 and becomes -1 only after the first complete key, so
  // an error before any key names "type 0 (string)"; we print the same.
  const type = parser.keyType ?? (parser.keysRead === 0 ? 0 : null);
  if (type !== null) out(`[additional info] Reading type ${type} ${rdbTypeName(type)}`);
  printInfo(out, counters);
}

/** redis-check-rdb's wording for the failures it names itself; ours (with offset) otherwise. */
function checkMessage(err: RdbError, parser: RdbParser): string {
  switch (err.kind) {
    case 'eof':
      return 'Unexpected EOF reading RDB file';
    case 'checksum':
      return 'RDB CRC error';
    case 'signature':
      return 'Wrong signature trying to load DB from file';
    case 'version':
      return parser.version === 0 && /version (\d+)/.test(err.reason)
        ? `Can't handle RDB format version ${/version (\d+)/.exec(err.reason)![1]}`
        : err.reason;
    default:
      return err.offset === parser.offset ? err.reason : `${err.reason} (at offset ${err.offset})`;
  }
}

function printInfo(
  out: (line: string) => void,
  c: { keys: number; expires: number; alreadyExpired: number },
): void {
  out(`[info] ${c.keys} keys read`);
  out(`[info] ${c.expires} expires`);
  out(`[info] ${c.alreadyExpired} already expired`);
}

/** printf("%s") of a byte string: stops at the first NUL. */
function cString(s: Bin): string {
  const nul = s.indexOf('\0');
  return nul === -1 ? s : s.slice(0, nul);
}
