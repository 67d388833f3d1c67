// DESIGN: the RDB reader (Redis rdb.c: rdbLoadRio + rdbLoadObject), for the RDB bases and
// RDB-preamble AOFs that redis-server 7.0 writes (spec §1.7, §7.3).
//
// Layers, bottom up:
//   RdbInput     chunked, bounds-checked bytes + CRC-64 over what was consumed (rdb-input.ts)
//   primitives   rdbLoadType / rdbLoadLen / rdbGenericLoadStringObject / doubles / times
//   blobs        listpack, ziplist, intset, zipmap, LZF decoders (own files), each validating the
//                whole blob as Redis's deep integrity checks do before anything is trusted
//   objects      readObject(): one RDB object type → an engine value (RList/RSet/RHash/RZSet/Bin)
//   RdbParser    the opcode loop; reports what it reads to an RdbVisitor, a bounded number of
//                keys per run() call so an async caller can yield to the event loop between runs
//   loaders      loadRdbIntoServer (the AofLoader's loadRdb hook) and loadRdbSync insert into
//                Db.dict / Db.expires directly; rdb-check.ts drives the same parser to validate.
//
// Rules and where they come from:
//   - version: "REDIS" + 4 digits, 1..10 accepted (RDB_VERSION of 7.0 is 10), newer refused;
//   - keys whose TTL already passed are KEPT: AOF preamble loading skips rdbLoadRio's "drop expired
//     keys as master" rule (RDBFLAGS_AOF_PREAMBLE), and they expire later through the normal path;
//   - an empty collection is skipped with a log line, as rdbLoadObject's `emptykey` path does;
//   - a duplicate key, a duplicate member/field, or a NaN score is an error (Redis panics or
//     reports a corrupt RDB for each);
//   - FUNCTION2 libraries are skipped with a warning (aofkv has no FUNCTION); the 7.0-rc
//     FUNCTION opcode, MODULE_AUX, module values and streams are refused with a clear error;
//   - the CRC-64 after EOF (RDB ≥ 5) must match, unless it is 0 ("checksum disabled").
// Damaged input never crashes, hangs or allocates from an unchecked length: every declared length
// is compared with the bytes left in the file first, every loop consumes at least one byte per
// iteration, and every failure is an RdbError (ERR_RDB) with the file offset and the key.

import { constants as bufferConstants } from 'node:buffer';
import { latin1Slice, parseDouble, type Bin } from '../bytes.ts';
import type { RespFileReader } from '../io/resp-file-reader.ts';
import { toExpireMs, type Db, type ExpireMs } from '../keyspace/db.ts';
import { RList } from '../keyspace/list.ts';
import { SetMembers } from '../keyspace/set.ts';
import { RHash, RSet, type RedisValue } from '../keyspace/values.ts';
import { RZSet } from '../keyspace/zset.ts';
import { decodeIntset } from './intset.ts';
import { decodeListpack, type PackedEntry } from './listpack.ts';
import { lzfDecompress } from './lzf.ts';
import { BlobFormatError, RdbError, printableKey, type RdbErrorKind } from './rdb-errors.ts';
import { decodeStream, type StreamSource } from './rdb-stream.ts';
import { InputEofError, RdbInput } from './rdb-input.ts';
import { decodeZiplist } from './ziplist.ts';
import { decodeZipmap } from './zipmap.ts';
import { RDB_VERSION, RdbOpcode, RdbType } from './rdb-constants.ts';

export { RDB_VERSION, RdbOpcode, RdbType };

/** String encodings after an RDB_ENCVAL length byte (RDB_ENC_*). */
const ENC_INT8 = 0;
const ENC_INT16 = 1;
const ENC_INT32 = 2;
const ENC_LZF = 3;

/** Quicklist v2 node containers (QUICKLIST_NODE_CONTAINER_*). */
const CONTAINER_PLAIN = 1;
const CONTAINER_PACKED = 2;

/** The longest byte string a Bin (a V8 one-byte string) can hold. */
const MAX_BIN_LENGTH = bufferConstants.MAX_STRING_LENGTH;
const MAX_BLOB_LENGTH = bufferConstants.MAX_LENGTH;
/** LZF output per input byte is at most 264 bytes per 3-byte back reference. */
const LZF_MAX_RATIO = 88;

/** What the parser was doing, in redis-check-rdb's words (rdb_check_doing_string). */
export type RdbPhase =
  | 'start'
  | 'read-type'
  | 'read-expire'
  | 'read-key'
  | 'read-object-value'
  | 'check-sum'
  | 'read-len'
  | 'read-aux'
  | 'read-module-aux'
  | 'read-functions';

/** Receives what the parser reads. Only `entry` is required. */
export interface RdbVisitor {
  aux?(key: Bin, value: Bin): void;
  selectDb?(id: number): void;
  /**
   * A key and its decoded value; expireMs is -1 without a TTL (a bigint only beyond 2^53 ms, as
   * in Db.expires). Return false to reject the key as
   * a duplicate (the parser then fails with the key and offset).
   */
  entry(key: Bin, value: RedisValue, expireMs: ExpireMs): boolean;
  /** A key whose value is an empty collection: Redis skips it (rdbLoadObject's emptykey). */
  emptyKey?(key: Bin, rdbType: number): void;
  /** A FUNCTION2 library (its source code), which aofkv cannot load. */
  functionLibrary?(code: Bin): void;
  /** After EOF: the stored checksum was verified, was 0 (not computed), or the version has none. */
  checksum?(result: 'ok' | 'not-computed' | 'absent'): void;
}

export interface RdbParserOptions {
  /** Name used in error messages. */
  fileName?: string | null;
  /** SELECTDB beyond this is refused, as Redis refuses a db index >= `databases`. */
  databases?: number;
  /** Read-ahead size (default 1 MiB); tests use tiny chunks to cross every refill boundary. */
  chunkBytes?: number;
}

/** The opcode loop (Redis rdbLoadRio). */
export class RdbParser {
  readonly input: RdbInput;
  readonly fileName: string | null;
  private readonly databases: number;
  /** File offset where the RDB starts (0, or wherever the reader was). */
  readonly startOffset: number;
  version = 0;
  dbId = 0;
  doing: RdbPhase = 'start';
  /** The key whose value is being read (redis-check-rdb's rdbstate.key). */
  key: Bin | null = null;
  /** Its RDB type (rdbstate.key_type). */
  keyType: number | null = null;
  keysRead = 0;
  expiresRead = 0;
  done = false;
  private expireMs: ExpireMs = -1;
  /** Set by readCount when a declared element count cannot fit in the rest of the file. */
  private impossibleCount: string | null = null;
  // The last string read by loadStringBytes (avoids an object per string).
  private sBuf: Buffer = Buffer.alloc(0);
  private sStart = 0;
  private sEnd = 0;
  private sOffset = 0;
  private sCompressed = false;

  constructor(reader: RespFileReader, options: RdbParserOptions = {}) {
    this.startOffset = reader.position;
    this.input = new RdbInput(reader, options.chunkBytes);
    this.fileName = options.fileName ?? null;
    this.databases = options.databases ?? Infinity;
  }

  /** Offset of the next byte (redis-check-rdb's processed_bytes, for the preamble: absolute). */
  get offset(): number {
    return this.input.offset;
  }

  // ---- errors --------------------------------------------------------------------------------

  fail(reason: string, offset = this.input.offset, kind: RdbErrorKind = 'format'): never {
    throw new RdbError({
      offset,
      reason,
      kind,
      fileName: this.fileName,
      key: this.key,
      rdbType: this.keyType,
    });
  }

  /** Turn lower-level failures into RdbError with the current key and phase. */
  private translate(err: unknown): unknown {
    if (err instanceof RdbError) return err;
    if (err instanceof InputEofError) {
      const why = this.impossibleCount === null ? '' : ` (${this.impossibleCount})`;
      return new RdbError({
        offset: err.offset,
        reason:
          `unexpected end of file: ${err.wanted} more bytes needed, ` +
          `${err.available} left${why}`,
        kind: 'eof',
        fileName: this.fileName,
        key: this.key,
        rdbType: this.keyType,
      });
    }
    if (err instanceof BlobFormatError || err instanceof RangeError) {
      // A decoder that read out of range would be a bug here; report it as damage, not a crash.
      return new RdbError(
        {
          offset: this.input.offset,
          reason: err.message,
          fileName: this.fileName,
          key: this.key,
          rdbType: this.keyType,
        },
        { cause: err },
      );
    }
    return err;
  }

  // ---- header and opcode loop ----------------------------------------------------------------

  /** "REDIS" + 4-digit version (Redis rdbLoadRio's first read). */
  readHeader(): void {
    try {
      const inp = this.input;
      const at = inp.take(9);
      const magic = latin1Slice(inp.buf, at, at + 5);
      if (magic !== 'REDIS') {
        this.fail(
          `wrong signature ${JSON.stringify(magic)}: not an RDB file`,
          this.startOffset,
          'signature',
        );
      }
      const digits = latin1Slice(inp.buf, at + 5, at + 9);
      if (!/^[0-9]{4}$/.test(digits)) {
        this.fail(
          `bad RDB version field ${JSON.stringify(digits)}`,
          this.startOffset + 5,
          'version',
        );
      }
      const version = Number(digits);
      if (version < 1 || version > RDB_VERSION) {
        this.fail(
          `can't handle RDB format version ${version} ` +
            `(this reader supports 1..${RDB_VERSION}, i.e. files from Redis <= 7.0)`,
          this.startOffset + 5,
          'version',
        );
      }
      this.version = version;
    } catch (err) {
      throw this.translate(err);
    }
  }

  /**
   * Read opcodes until EOF + checksum or until `maxKeys` keys were read. Returns true when the
   * RDB is complete (the underlying reader is then positioned right after it).
   */
  run(visitor: RdbVisitor, maxKeys = Infinity): boolean {
    if (this.done) return true;
    try {
      let keys = 0;
      while (keys < maxKeys) {
        if (this.step(visitor)) {
          this.done = true;
          this.input.finish();
          return true;
        }
        if (this.doing === 'read-object-value') keys++;
      }
      return false;
    } catch (err) {
      throw this.translate(err);
    }
  }

  /** One opcode or one key. True after EOF. */
  private step(visitor: RdbVisitor): boolean {
    const inp = this.input;
    this.doing = 'read-type';
    this.key = null;
    this.keyType = null;
    this.impossibleCount = null;
    const typeOffset = inp.offset;
    const type = inp.u8();
    switch (type) {
      case RdbOpcode.EXPIRETIME: {
        this.doing = 'read-expire';
        const at = inp.take(4);
        this.expireMs = inp.buf.readInt32LE(at) * 1000;
        return false;
      }
      case RdbOpcode.EXPIRETIME_MS: {
        this.doing = 'read-expire';
        const at = inp.take(8);
        this.expireMs = toExpireMs(inp.buf.readBigInt64LE(at));
        return false;
      }
      case RdbOpcode.FREQ:
        inp.take(1);
        return false;
      case RdbOpcode.IDLE:
        this.readLen();
        return false;
      case RdbOpcode.EOF:
        this.readChecksum(visitor);
        return true;
      case RdbOpcode.SELECTDB: {
        this.doing = 'read-len';
        const at = inp.offset;
        const id = this.readLen();
        if (id >= this.databases) {
          this.fail(
            `the file selects database ${id} but this engine has ${this.databases} databases ` +
              '(raise the databases option to load it)',
            at,
          );
        }
        this.dbId = id;
        visitor.selectDb?.(id);
        return false;
      }
      case RdbOpcode.RESIZEDB:
        this.doing = 'read-len';
        this.readLen();
        this.readLen();
        return false;
      case RdbOpcode.AUX: {
        this.doing = 'read-aux';
        const key = this.readBin();
        const value = this.readBin();
        visitor.aux?.(key, value);
        return false;
      }
      case RdbOpcode.MODULE_AUX:
        this.doing = 'read-module-aux';
        return this.fail(
          'the file holds module data (MODULE_AUX), which aofkv cannot load',
          typeOffset,
          'unsupported',
        );
      case RdbOpcode.FUNCTION_PRE_GA:
        return this.fail(
          'the file holds functions in the Redis 7.0 release-candidate format (FUNCTION opcode), ' +
            'which Redis 7.0 itself refuses; re-save it with a released Redis',
          typeOffset,
          'unsupported',
        );
      case RdbOpcode.FUNCTION2: {
        this.doing = 'read-functions';
        // Read whether or not the visitor wants it (an optional call skips its argument): the
        // library's code must be consumed either way.
        const code = this.readBin();
        visitor.functionLibrary?.(code);
        return false;
      }
      default:
        this.readKeyValue(type, typeOffset, visitor);
        return false;
    }
  }

  private readKeyValue(type: number, typeOffset: number, visitor: RdbVisitor): void {
    if (!isObjectType(type)) this.fail(`Invalid object type: ${type}`, typeOffset, 'format');
    this.keyType = type;
    this.doing = 'read-key';
    const key = this.readBin();
    this.key = key;
    this.keysRead++;
    this.doing = 'read-object-value';
    const value = this.readObject(type);
    const expireMs = this.expireMs;
    this.expireMs = -1;
    if (expireMs !== -1) this.expiresRead++;
    if (value === null) {
      visitor.emptyKey?.(key, type);
      return;
    }
    if (!visitor.entry(key, value, expireMs)) {
      this.fail(
        `duplicate key '${printableKey(key)}' in database ${this.dbId}`,
        typeOffset,
        'duplicate',
      );
    }
  }

  /** After the EOF opcode: the 8-byte CRC-64 of everything before it (RDB version >= 5). */
  private readChecksum(visitor: RdbVisitor): void {
    if (this.version < 5) {
      visitor.checksum?.('absent');
      return;
    }
    this.doing = 'check-sum';
    const inp = this.input;
    inp.syncCrc();
    const at = inp.take(8);
    inp.skipCrc();
    const stored = inp.buf.readBigUInt64LE(at);
    if (stored === 0n) {
      visitor.checksum?.('not-computed');
      return;
    }
    if (!inp.crc.matches(inp.buf, at)) {
      const expected = inp.crc.digest();
      this.fail(
        `wrong RDB checksum: computed ${expected.toString(16).padStart(16, '0')}, ` +
          `stored ${stored.toString(16).padStart(16, '0')}`,
        at,
        'checksum',
      );
    }
    visitor.checksum?.('ok');
  }

  // ---- primitives ----------------------------------------------------------------------------

  /** Redis rdbLoadLen for a plain length (an encoded-value marker is an error here). */
  readLen(): number {
    const at = this.input.offset;
    const b = this.input.u8();
    const len = this.lengthAfter(b, at);
    if (len < 0)
      return this.fail(`expected a length, found an encoded-value marker 0x${b.toString(16)}`, at);
    return len;
  }

  /**
   * The length that first byte `b` (read at `at`) starts (Redis rdbLoadLenByRef), reading any
   * further bytes it needs; -1 when `b` is an encoded-value marker (RDB_ENCVAL) instead.
   */
  private lengthAfter(b: number, at: number): number {
    switch (b >> 6) {
      case 0:
        return b & 0x3f;
      case 1:
        return ((b & 0x3f) << 8) | this.input.u8();
      case 2:
        return this.readWideLen(b, at);
      default:
        return -1;
    }
  }

  /** RDB_32BITLEN / RDB_64BITLEN: big-endian, as rdbSaveLen writes them. */
  private readWideLen(b: number, at: number): number {
    const inp = this.input;
    if (b === 0x80) {
      const p = inp.take(4);
      return inp.buf.readUInt32BE(p);
    }
    if (b === 0x81) {
      const p = inp.take(8);
      const v = inp.buf.readBigUInt64BE(p);
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`absurd 64-bit length ${v}`, at);
      return Number(v);
    }
    return this.fail(`invalid length encoding byte 0x${b.toString(16)}`, at);
  }

  /**
   * A length that counts elements of at least `minBytes` each. Nothing is allocated from it, and
   * every element consumes bytes, so an impossible count simply runs into the end of the file;
   * the failure is reported there (the offset redis-check-rdb reports too), with this count
   * remembered to explain it.
   */
  private readCount(minBytes: number, what: string): number {
    const n = this.readLen();
    const remaining = this.input.remaining;
    this.impossibleCount =
      n * minBytes > remaining
        ? `the ${what} declares ${n} elements but only ${remaining} bytes remained after its count`
        : null;
    return n;
  }

  /** Redis rdbGenericLoadStringObject as a Bin (latin1 byte string). */
  readBin(): Bin {
    const inp = this.input;
    const at = inp.offset;
    const b = inp.u8();
    const len = this.lengthAfter(b, at);
    if (len < 0) return this.readEncodedBin(b & 0x3f, at);
    if (len > MAX_BIN_LENGTH) this.tooLong(len, at);
    const p = inp.take(len);
    return latin1Slice(inp.buf, p, p + len);
  }

  private readEncodedBin(enc: number, at: number): Bin {
    const inp = this.input;
    switch (enc) {
      case ENC_INT8: {
        const p = inp.take(1);
        return String(inp.buf.readInt8(p));
      }
      case ENC_INT16: {
        const p = inp.take(2);
        return String(inp.buf.readInt16LE(p));
      }
      case ENC_INT32: {
        const p = inp.take(4);
        return String(inp.buf.readInt32LE(p));
      }
      case ENC_LZF: {
        this.readLzf(at, MAX_BIN_LENGTH);
        return latin1Slice(this.sBuf, this.sStart, this.sEnd);
      }
      default:
        return this.fail(`unknown string encoding ${enc}`, at);
    }
  }

  private tooLong(len: number, at: number): never {
    const remaining = this.input.remaining;
    // Reported where the data would start (after the length), like any other truncation.
    if (len > remaining) {
      this.fail(
        `string declares ${len} bytes but only ${remaining} remain in the file`,
        this.input.offset,
        'eof',
      );
    }
    return this.fail(
      `string of ${len} bytes is longer than this engine can hold (${MAX_BIN_LENGTH})`,
      at,
      'unsupported',
    );
  }

  /**
   * A string as raw bytes, for blobs (listpack, ziplist, intset, zipmap): sets sBuf/sStart/sEnd,
   * a view valid until the next read, plus where it starts in the file and whether it was LZF.
   */
  private loadStringBytes(): void {
    const inp = this.input;
    const at = inp.offset;
    const b = inp.u8();
    this.sCompressed = false;
    const len = this.lengthAfter(b, at);
    if (len < 0) {
      const enc = b & 0x3f;
      if (enc === ENC_LZF) {
        this.readLzf(at, MAX_BLOB_LENGTH);
        return;
      }
      // An integer where a blob belongs: decode it to its text, the blob check then fails.
      const text = Buffer.from(this.readEncodedBin(enc, at), 'latin1');
      this.setString(text, 0, text.length, at + 1, false);
      return;
    }
    const dataOffset = inp.offset;
    const p = inp.take(len);
    this.setString(inp.buf, p, p + len, dataOffset, false);
  }

  private setString(
    buf: Buffer,
    start: number,
    end: number,
    fileOffset: number,
    compressed: boolean,
  ): void {
    this.sBuf = buf;
    this.sStart = start;
    this.sEnd = end;
    this.sOffset = fileOffset;
    this.sCompressed = compressed;
  }

  /**
   * Redis rdbLoadLzfStringObject: compressed length, original length, data. As in Redis the
   * compressed bytes are read first (a truncated file fails there); the original length is then
   * checked against what LZF can produce from them before anything of that size is allocated.
   */
  private readLzf(at: number, maxLen: number): void {
    const inp = this.input;
    const clen = this.readLen();
    const ulen = this.readLen();
    const dataAt = inp.offset;
    const p = inp.take(clen);
    if (ulen > maxLen) {
      this.fail(
        `compressed string of ${ulen} bytes is longer than this engine can hold`,
        at,
        'unsupported',
      );
    }
    if (ulen > clen * LZF_MAX_RATIO) {
      this.fail(
        `compressed string claims ${ulen} bytes from ${clen} compressed bytes, ` +
          `more than LZF can produce`,
        at,
      );
    }
    const out = lzfDecompress(inp.buf, p, p + clen, ulen);
    if (out === null) this.fail('invalid LZF compressed string', dataAt);
    this.setString(out, 0, ulen, dataAt, true);
  }

  /** Redis rdbLoadDoubleValue: the text form of ZSET (type 3) scores. */
  private readStringDouble(): number {
    const inp = this.input;
    const at = inp.offset;
    const len = inp.u8();
    if (len === 253) return NaN;
    if (len === 254) return Infinity;
    if (len === 255) return -Infinity;
    const p = inp.take(len);
    const text = latin1Slice(inp.buf, p, p + len);
    const value = parseScanfDouble(text);
    if (value === null) this.fail(`invalid double ${JSON.stringify(text)}`, at);
    return value;
  }

  // ---- objects (Redis rdbLoadObject) ---------------------------------------------------------

  /** One value of the given type; null for an empty collection (Redis's emptykey). */
  private readObject(type: number): RedisValue | null {
    switch (type) {
      case RdbType.STRING:
        return this.readBin();
      case RdbType.LIST:
        return this.readLinkedList();
      case RdbType.SET:
        return this.readHashtableSet();
      case RdbType.ZSET:
      case RdbType.ZSET_2:
        return this.readSkiplistZset(type === RdbType.ZSET_2);
      case RdbType.HASH:
        return this.readHashtableHash();
      case RdbType.LIST_QUICKLIST:
      case RdbType.LIST_QUICKLIST_2:
        return this.readQuicklist(type === RdbType.LIST_QUICKLIST_2);
      case RdbType.LIST_ZIPLIST:
        return listFrom(this.decodeBlob('ziplist', decodeZiplist));
      case RdbType.SET_INTSET:
        return this.readIntset();
      case RdbType.SET_LISTPACK:
        return this.setFrom(this.decodeBlob('listpack', decodeListpack));
      case RdbType.ZSET_ZIPLIST:
        return this.zsetFromPairs(this.decodeBlob('ziplist', decodeZiplist));
      case RdbType.ZSET_LISTPACK:
        return this.zsetFromPairs(this.decodeBlob('listpack', decodeListpack));
      case RdbType.HASH_ZIPLIST:
        return this.hashFromPairs(this.decodeBlob('ziplist', decodeZiplist));
      case RdbType.HASH_LISTPACK:
        return this.hashFromPairs(this.decodeBlob('listpack', decodeListpack));
      case RdbType.HASH_ZIPMAP:
        return this.hashFromPairs(this.decodeBlob('zipmap', decodeZipmap));
      case RdbType.STREAM_LISTPACKS:
      case RdbType.STREAM_LISTPACKS_2:
        return decodeStream(this.streamSource, type === RdbType.STREAM_LISTPACKS_2);
      case RdbType.STREAM_LISTPACKS_3:
        return this.fail(
          'the key holds a Redis 7.2 stream (type 21), which a Redis 7.0 reader cannot load',
          this.input.offset,
          'unsupported',
        );
      default:
        return this.fail(
          'the key holds a module value, which aofkv cannot load (no module support)',
          this.input.offset,
          'unsupported',
        );
    }
  }

  /** The parser's primitives as the stream decoder reads them (rdb-stream.ts). */
  private readonly streamSource: StreamSource = {
    len64: () => {
      const at = this.input.offset;
      const b = this.input.u8();
      if (b === 0x81) {
        const p = this.input.take(8);
        return this.input.buf.readBigUInt64BE(p);
      }
      const len = this.lengthAfter(b, at);
      if (len < 0)
        this.fail(`expected a length, found an encoded-value marker 0x${b.toString(16)}`, at);
      return BigInt(len);
    },
    bin: () => this.readBin(),
    blob: () => {
      this.loadStringBytes();
      return [this.sBuf, this.sStart, this.sEnd];
    },
    rawBytes: (n) => [this.input.buf, this.input.take(n)],
    msTime: () => {
      const p = this.input.take(8);
      return Number(this.input.buf.readBigInt64LE(p));
    },
    fail: (reason) => this.fail(`bad stream: ${reason}`),
  };

  /** Read a string and decode it as a blob; decoder errors get the blob's file offset. */
  private decodeBlob<T>(
    kind: string,
    decode: (buf: Buffer, start: number, end: number, out: T[]) => number,
  ): T[] {
    this.loadStringBytes();
    const out: T[] = [];
    try {
      decode(this.sBuf, this.sStart, this.sEnd, out);
    } catch (err) {
      if (!(err instanceof BlobFormatError)) throw err;
      const where = this.sCompressed
        ? {
            offset: this.sOffset,
            note: ` (byte ${err.relativeOffset} of the decompressed ${kind})`,
          }
        : { offset: this.sOffset + err.relativeOffset, note: '' };
      this.fail(`bad ${kind}: ${err.message}${where.note}`, where.offset);
    }
    return out;
  }

  /** RDB_TYPE_LIST: a count, then the elements (quicklistPushTail per element in Redis). */
  private readLinkedList(): RList | null {
    const n = this.readCount(1, 'list');
    if (n === 0) return null;
    const items: Bin[] = [];
    for (let i = 0; i < n; i++) items.push(this.readBin());
    return RList.from(items);
  }

  /** RDB_TYPE_LIST_QUICKLIST(_2): nodes of ziplists, or of PLAIN/PACKED listpack containers. */
  private readQuicklist(v2: boolean): RList | null {
    const nodes = this.readCount(v2 ? 2 : 1, 'quicklist');
    const items: PackedEntry[] = [];
    for (let i = 0; i < nodes; i++) {
      if (!v2) {
        this.decodeInto('ziplist', decodeZiplist, items);
        continue;
      }
      const at = this.input.offset;
      const container = this.readLen();
      if (container === CONTAINER_PLAIN) items.push(this.readBin());
      else if (container === CONTAINER_PACKED) this.decodeInto('listpack', decodeListpack, items);
      else
        this.fail(`quicklist node container ${container} is neither PLAIN (1) nor PACKED (2)`, at);
      // Redis skips empty nodes silently; an all-empty list becomes an empty key below.
    }
    return listFrom(items);
  }

  private decodeInto(
    kind: string,
    decode: (buf: Buffer, s: number, e: number, out: PackedEntry[]) => number,
    into: PackedEntry[],
  ): void {
    for (const e of this.decodeBlob(kind, decode)) into.push(e);
  }

  /** RDB_TYPE_SET: setTypeAdd per member; intset while every member is an integer (<= 512). */
  private readHashtableSet(): RSet | null {
    const n = this.readCount(1, 'set');
    if (n === 0) return null;
    const members = new SetMembers();
    for (let i = 0; i < n; i++) {
      const at = this.input.offset;
      const m = this.readBin();
      if (!members.addMember(m)) this.fail(`duplicate set member '${printableKey(m)}'`, at);
    }
    return new RSet(members);
  }

  private readIntset(): RSet | null {
    const items = this.decodeBlob<Bin>('intset', decodeIntset);
    if (items.length === 0) return null;
    const members = new SetMembers();
    // Ascending integers: each addMember appends at the end of the sorted intset.
    for (const m of items) members.addMember(m);
    return new RSet(members);
  }

  private setFrom(entries: PackedEntry[]): RSet | null {
    if (entries.length === 0) return null;
    const members = new SetMembers();
    for (const e of entries) {
      const m = typeof e === 'number' ? String(e) : e;
      if (!members.addMember(m))
        this.fail(`bad set listpack: duplicate member '${printableKey(m)}'`, this.sOffset);
    }
    return new RSet(members);
  }

  /** RDB_TYPE_ZSET / ZSET_2: a skiplist, converted to listpack afterwards if it fits (Redis). */
  private readSkiplistZset(binaryScores: boolean): RZSet | null {
    const n = this.readCount(binaryScores ? 9 : 2, 'sorted set');
    if (n === 0) return null;
    const zset = new RZSet(false);
    for (let i = 0; i < n; i++) {
      const at = this.input.offset;
      const member = this.readBin();
      let score: number;
      if (binaryScores) {
        const p = this.input.take(8);
        score = this.input.buf.readDoubleLE(p);
      } else {
        score = this.readStringDouble();
      }
      if (Number.isNaN(score))
        this.fail(`sorted set member '${printableKey(member)}' has a NaN score`, at);
      if (!zset.add(member, score))
        this.fail(`duplicate sorted set member '${printableKey(member)}'`, at);
    }
    zset.convertToListpackIfFits();
    return zset;
  }

  private zsetFromPairs(entries: PackedEntry[]): RZSet | null {
    if (entries.length === 0) return null;
    if (entries.length % 2 !== 0)
      this.fail('bad sorted set blob: odd number of elements', this.sOffset);
    const zset = new RZSet(true);
    for (let i = 0; i < entries.length; i += 2) {
      const e = entries[i]!;
      const member = typeof e === 'number' ? String(e) : e;
      const score = scoreOf(entries[i + 1]!);
      if (score === null || Number.isNaN(score)) {
        this.fail(
          `bad sorted set blob: member '${printableKey(member)}' has an invalid score`,
          this.sOffset,
        );
      }
      if (!zset.add(member, score)) {
        this.fail(`bad sorted set blob: duplicate member '${printableKey(member)}'`, this.sOffset);
      }
    }
    return zset;
  }

  /** RDB_TYPE_HASH: field, value pairs. */
  private readHashtableHash(): RHash | null {
    const n = this.readCount(2, 'hash');
    if (n === 0) return null;
    const map = new Map<Bin, Bin>();
    for (let i = 0; i < n; i++) {
      const at = this.input.offset;
      const field = this.readBin();
      const value = this.readBin();
      if (map.has(field)) this.fail(`duplicate hash field '${printableKey(field)}'`, at);
      map.set(field, value);
    }
    return new RHash(map);
  }

  private hashFromPairs(entries: PackedEntry[]): RHash | null {
    if (entries.length === 0) return null;
    if (entries.length % 2 !== 0) this.fail('bad hash blob: odd number of elements', this.sOffset);
    const map = new Map<Bin, Bin>();
    for (let i = 0; i < entries.length; i += 2) {
      const f = entries[i]!;
      const v = entries[i + 1]!;
      const field = typeof f === 'number' ? String(f) : f;
      if (map.has(field))
        this.fail(`bad hash blob: duplicate field '${printableKey(field)}'`, this.sOffset);
      map.set(field, typeof v === 'number' ? String(v) : v);
    }
    return new RHash(map);
  }
}

// ---- helpers ------------------------------------------------------------------------------------

/** Redis 7.0 rdbIsObjectType, plus 20 (set-listpack, Redis 7.2) and 21 (refused as a stream). */
function isObjectType(t: number): boolean {
  return (t >= 0 && t <= 7) || (t >= 9 && t <= 21);
}

function listFrom(entries: PackedEntry[]): RList | null {
  if (entries.length === 0) return null;
  const items = new Array<Bin>(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    items[i] = typeof e === 'number' ? String(e) : e;
  }
  return RList.from(items);
}

/** zzlGetScore: an integer entry as a double, a string entry through strtod. */
function scoreOf(e: PackedEntry): number | null {
  if (typeof e === 'number') return e;
  return parseScanfDouble(e);
}

const SCANF_DOUBLE =
  /^[ \t\n\v\f\r]*([+-]?(?:inf(?:inity)?|nan|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?))/i;

/** sscanf("%lg") / strtod on the leading part of `text`; null when nothing parses. */
function parseScanfDouble(text: string): number | null {
  const exact = parseDouble(text);
  if (exact !== null) return exact;
  const m = SCANF_DOUBLE.exec(text);
  if (m === null) return null;
  const t = m[1]!.toLowerCase().replace(/^\+/, '');
  if (t.endsWith('nan')) return NaN;
  if (t.startsWith('inf')) return Infinity;
  if (t.startsWith('-inf')) return -Infinity;
  return Number(t);
}

// ---- loading into the keyspace ------------------------------------------------------------------

export type RdbLogger = (level: 'notice' | 'warning' | 'verbose', message: string) => void;

export interface RdbLoadOptions {
  log?: RdbLogger;
  /** Yield to the event loop when a load has run this long without yielding (default 50 ms). */
  yieldEveryMs?: number;
  /** Called after each batch of keys with the current file offset (INFO loading_loaded_bytes). */
  onProgress?: (offset: number) => void;
  /** Read-ahead size (default 1 MiB). */
  chunkBytes?: number;
  /** The engine's clock, for the "RDB age" log line (default Date.now). */
  nowMs?: () => number;
}

/** Anything that has Redis's databases (Server does). */
export interface RdbLoadTarget {
  readonly dbs: readonly Db[];
}

export interface RdbLoadSummary {
  version: number;
  /** AUX fields as read (redis-ver, ctime, aof-base, aof-preamble, ...). */
  aux: Map<string, Bin>;
  keysLoaded: number;
  /** Keys loaded with a TTL (including TTLs already in the past: they are kept). */
  expiresLoaded: number;
  emptyKeysSkipped: number;
  functionsSkipped: number;
  checksum: 'ok' | 'not-computed' | 'absent';
  startOffset: number;
  /** Offset right after the RDB (where a RESP tail begins). */
  endOffset: number;
}

/** Keys parsed between checks of the yield clock. */
const KEYS_PER_BATCH = 4096;

/**
 * The AofLoader's `loadRdb` hook: read the RDB that starts at reader.position into target.dbs
 * and leave reader.position right after its checksum. Throws RdbError on damaged input.
 */
export async function loadRdbIntoServer(
  reader: RespFileReader,
  fileName: string,
  target: RdbLoadTarget,
  options: RdbLoadOptions = {},
): Promise<RdbLoadSummary> {
  const load = new KeyspaceLoad(reader, fileName, target, options);
  const yieldEveryMs = options.yieldEveryMs ?? 50;
  let lastYield = performance.now();
  while (!load.parser.run(load, KEYS_PER_BATCH)) {
    options.onProgress?.(load.parser.offset);
    if (performance.now() - lastYield >= yieldEveryMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      lastYield = performance.now();
    }
  }
  return load.finish();
}

/** The same load without yielding (tools, tests, benchmarks). */
export function loadRdbSync(
  reader: RespFileReader,
  fileName: string,
  target: RdbLoadTarget,
  options: RdbLoadOptions = {},
): RdbLoadSummary {
  const load = new KeyspaceLoad(reader, fileName, target, options);
  load.parser.run(load);
  return load.finish();
}

/** RdbVisitor that inserts into the databases (Redis dbAddRDBLoad + setExpire). */
class KeyspaceLoad implements RdbVisitor {
  readonly parser: RdbParser;
  private readonly target: RdbLoadTarget;
  private readonly log: RdbLogger;
  private readonly nowMs: () => number;
  private readonly fileName: string;
  private readonly auxFields = new Map<string, Bin>();
  private keys = 0;
  private expires = 0;
  private empty = 0;
  private functions = 0;
  private checksumResult: RdbLoadSummary['checksum'] = 'absent';

  constructor(
    reader: RespFileReader,
    fileName: string,
    target: RdbLoadTarget,
    options: RdbLoadOptions,
  ) {
    this.parser = new RdbParser(reader, {
      fileName,
      databases: target.dbs.length,
      ...(options.chunkBytes === undefined ? {} : { chunkBytes: options.chunkBytes }),
    });
    this.target = target;
    this.fileName = fileName;
    this.log = options.log ?? (() => {});
    this.nowMs = options.nowMs ?? Date.now;
    this.parser.readHeader();
  }

  aux(key: Bin, value: Bin): void {
    this.auxFields.set(key, value);
    // The lines Redis logs for the fields it understands (rdbLoadRio).
    if (key === 'redis-ver') this.log('notice', `Loading RDB produced by version ${value}`);
    else if (key === 'ctime') {
      const age = Math.floor(this.nowMs() / 1000) - Number(value);
      if (Number.isFinite(age)) this.log('notice', `RDB age ${Math.max(0, age)} seconds`);
    } else if (key === 'used-mem') {
      const mb = Number(value) / (1024 * 1024);
      if (Number.isFinite(mb))
        this.log('notice', `RDB memory usage when created ${mb.toFixed(2)} Mb`);
    }
  }

  entry(key: Bin, value: RedisValue, expireMs: ExpireMs): boolean {
    const db = this.target.dbs[this.parser.dbId]!;
    // Normally no rewrite runs while loading; if one does (DEBUG LOADAOF), its snapshot must hear
    // of every change, as Db.add would tell it.
    db.cow?.beforeChange(db, key);
    const dict = db.dict;
    const before = dict.size;
    // One hash operation instead of has() + set(): a duplicate shows as an unchanged size. The
    // overwritten value does not matter, the load fails on it (Redis panics).
    dict.set(key, value);
    if (dict.size === before) {
      this.log('warning', `RDB has duplicated key '${printableKey(key)}' in DB ${db.id}`);
      return false;
    }
    db.keyAdded(key);
    // Expired keys are kept: the preamble rule (RDBFLAGS_AOF_PREAMBLE); they expire later.
    if (expireMs !== -1) {
      db.expires.set(key, expireMs);
      this.expires++;
    }
    this.keys++;
    return true;
  }

  emptyKey(key: Bin): void {
    // rdbLoadRio logs the first 10 only; a few lines are enough to notice the damage.
    if (this.empty++ < 10)
      this.log('notice', `rdbLoadObject skipping empty key: ${printableKey(key)}`);
  }

  functionLibrary(code: Bin): void {
    this.functions++;
    const header = code.slice(0, Math.max(0, code.indexOf('\n'))) || code.slice(0, 80);
    this.log(
      'warning',
      `Skipping a function library in ${this.fileName} ` +
        `(aofkv has no FUNCTION support): ${printableKey(header)}`,
    );
  }

  checksum(result: RdbLoadSummary['checksum']): void {
    this.checksumResult = result;
    if (result === 'not-computed') {
      this.log('warning', 'RDB file was saved with checksum disabled: no check performed.');
    }
  }

  finish(): RdbLoadSummary {
    this.log('notice', `Done loading RDB, keys loaded: ${this.keys}, keys expired: 0.`);
    return {
      version: this.parser.version,
      aux: this.auxFields,
      keysLoaded: this.keys,
      expiresLoaded: this.expires,
      emptyKeysSkipped: this.empty,
      functionsSkipped: this.functions,
      checksum: this.checksumResult,
      startOffset: this.parser.startOffset,
      endOffset: this.parser.offset,
    };
  }
}
