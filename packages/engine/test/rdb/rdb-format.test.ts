// The RDB reader and writer without a real server: every object type and opcode from hand-built
// files, writer → reader round trips (property-based), the streaming encoder, short writes, the
// RESP tail after a preamble, and the typed errors for each kind of damage.
// (test/rdb/redis-interop.test.ts checks the same formats against a real redis-server 7.0.)
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDouble17g, type Bin } from '../../src/bytes.ts';
import { RList } from '../../src/keyspace/list.ts';
import { SetMembers } from '../../src/keyspace/set.ts';
import { RHash, RSet, type RedisValue } from '../../src/keyspace/values.ts';
import { RZSet } from '../../src/keyspace/zset.ts';
import { EngineError } from '../../src/errors.ts';
import {
  LoadingProgress,
  loadSingleAppendOnlyFile,
  type LoaderDeps,
} from '../../src/aof/aof-loader.ts';
import { Server } from '../../src/server.ts';
import { checkRdb } from '../../src/rdb/rdb-check.ts';
import { RdbError } from '../../src/rdb/rdb-errors.ts';
import { encodeListpack } from '../../src/rdb/listpack.ts';
import { lzfCompress } from '../../src/rdb/lzf.ts';
import { loadRdbIntoServer, RdbType } from '../../src/rdb/rdb-reader.ts';
import { toPlainEntry } from '../../src/aof/rewrite/to-plain-entry.ts';
import {
  RdbBaseWriter,
  RdbEncoder,
  encodeRdb,
  writeRdbSnapshot,
  type RdbWriteOptions,
} from '../../src/rdb/rdb-writer.ts';
import { SimFileSystem } from '../../src/testing/sim-file-system.ts';
import {
  RdbBuilder,
  encodeIntset,
  encodeZiplist,
  encodeZipmap,
  loadBuffer,
  makeDbs,
  readerOver,
  richRdb,
  snapshotDbs,
  asRedisLoadsIt,
} from './rdb-helpers.ts';

const WRITE_OPTIONS: RdbWriteOptions = {
  aofBase: true,
  ctimeSec: 1_700_000_000,
  usedMem: 1_000_000,
};

/** Load and expect an RdbError; returns it. */
function loadError(content: Uint8Array, options: Parameters<typeof loadBuffer>[1] = {}): RdbError {
  try {
    loadBuffer(content, options);
  } catch (err) {
    expect(err).toBeInstanceOf(RdbError);
    expect(err).toBeInstanceOf(EngineError);
    const e = err as RdbError;
    expect(e.code).toBe('ERR_RDB');
    expect(Number.isSafeInteger(e.offset)).toBe(true);
    expect(e.offset).toBeGreaterThanOrEqual(0);
    expect(e.offset).toBeLessThanOrEqual(content.length);
    expect(e.message).toContain(`offset ${e.offset}`);
    return e;
  }
  throw new Error('expected the load to fail');
}

function valueOfKey(content: Buffer, key: Bin, db = 0): RedisValue {
  const { dbs } = loadBuffer(content);
  const v = dbs[db]!.dict.get(key);
  if (v === undefined) throw new Error(`key ${key} not loaded`);
  return v;
}

const header = () => new RdbBuilder().aux('redis-ver', '7.0.15').selectDb(0);

describe('RDB reader: object types', () => {
  it('reads strings: raw, int8/16/32, LZF, binary', () => {
    const lzfData = Buffer.from('compress me '.repeat(20), 'latin1');
    const packed = lzfCompress(lzfData, 0, lzfData.length, lzfData.length)!;
    const file = header()
      .key(0, 'raw')
      .str('hello')
      .key(0, 'i8')
      .u8(0xc0, 0x85) // -123
      .key(0, 'i16')
      .u8(0xc1, 0x39, 0x30) // 12345
      .key(0, 'i32')
      .u8(0xc2)
      .raw(Buffer.from([0x00, 0x00, 0x00, 0x80])) // -2147483648
      .key(0, 'lzf')
      .u8(0xc3)
      .len(packed.length)
      .len(lzfData.length)
      .raw(packed)
      .key(0, 'bin')
      .str('\x00\xff\r\n')
      .key(0, 'empty')
      .str('')
      .end();
    const { dbs, summary } = loadBuffer(file);
    const d = dbs[0]!.dict;
    expect(d.get('raw')).toBe('hello');
    expect(d.get('i8')).toBe('-123');
    expect(d.get('i16')).toBe('12345');
    expect(d.get('i32')).toBe('-2147483648');
    expect(d.get('lzf')).toBe(lzfData.toString('latin1'));
    expect(d.get('bin')).toBe('\x00\xff\r\n');
    expect(d.get('empty')).toBe('');
    expect(summary.keysLoaded).toBe(7);
    expect(summary.checksum).toBe('ok');
    expect(summary.endOffset).toBe(file.length);
  });

  it('reads 14-bit, 32-bit and 64-bit lengths', () => {
    const mid = 'm'.repeat(300);
    const big = 'b'.repeat(70000);
    const file = header()
      .key(0, 'mid')
      .str(mid)
      .key(0, 'big')
      .str(big)
      .key(0, 'len64')
      .len(5n)
      .raw('fives')
      .end();
    const { dbs } = loadBuffer(file, { chunkBytes: 1000 });
    expect(dbs[0]!.dict.get('mid')).toBe(mid);
    expect(dbs[0]!.dict.get('big')).toBe(big);
    expect(dbs[0]!.dict.get('len64')).toBe('fives');
  });

  it('reads the plain types: linked list (1), set (2), zset v1 (3), hash (4), zset v2 (5)', () => {
    const file = header()
      .key(RdbType.LIST, 'list')
      .len(3)
      .str('a')
      .u8(0xc0, 7)
      .str('c')
      .key(RdbType.SET, 'iset')
      .len(3)
      .str('3')
      .str('1')
      .str('2')
      .key(RdbType.SET, 'hset')
      .len(2)
      .str('x')
      .str('1')
      .key(RdbType.ZSET, 'z1')
      .len(4)
      .str('a')
      .u8(3)
      .raw('1.5')
      .str('b')
      .u8(254)
      .str('c')
      .u8(255)
      .str('d')
      .u8(3)
      .raw('1e3')
      .key(RdbType.HASH, 'hash')
      .len(2)
      .str('f1')
      .str('v1')
      .str('f2')
      .u8(0xc0, 2)
      .key(RdbType.ZSET_2, 'z2')
      .len(3)
      .str('m1')
      .binaryDouble(-0)
      .str('m2')
      .binaryDouble(2.5)
      .str('m3')
      .binaryDouble(-Infinity)
      .end();
    const { dbs } = loadBuffer(file);
    const d = dbs[0]!.dict;
    expect((d.get('list') as RList).toArray()).toEqual(['a', '7', 'c']);
    const iset = d.get('iset') as RSet;
    expect([...iset.members]).toEqual(['1', '2', '3']);
    expect(iset.encoding).toBe('intset');
    expect((d.get('hset') as RSet).encoding).toBe('hashtable');
    const z1 = d.get('z1') as RZSet;
    expect([...z1]).toEqual(
      [
        ['d', 1000],
        ['c', -Infinity],
        ['a', 1.5],
        ['b', Infinity],
      ].sort((x, y) => (x[1] as number) - (y[1] as number)),
    );
    expect(z1.encoding).toBe('listpack'); // converted after loading, as Redis does when it fits
    expect([...(d.get('hash') as RHash).map]).toEqual([
      ['f1', 'v1'],
      ['f2', '2'],
    ]);
    const z2 = d.get('z2') as RZSet;
    expect([...z2].map(([m, s]) => [m, formatDouble17g(s)])).toEqual([
      ['m3', '-inf'],
      ['m1', '0'],
      ['m2', '2.5'],
    ]);
  });

  it('keeps a big skiplist zset as skiplist and a big set as hashtable', () => {
    const b = header().key(RdbType.ZSET_2, 'z').len(200);
    for (let i = 0; i < 200; i++) b.str(`m${i}`).binaryDouble(i);
    b.key(RdbType.SET, 's').len(600);
    for (let i = 0; i < 600; i++) b.str(String(i));
    const { dbs } = loadBuffer(b.end());
    expect((dbs[0]!.dict.get('z') as RZSet).encoding).toBe('skiplist');
    expect((dbs[0]!.dict.get('s') as RSet).encoding).toBe('hashtable');
    expect((dbs[0]!.dict.get('s') as RSet).size).toBe(600);
  });

  it('reads the compact types: listpack hash (16) / zset (17) / set (20), intset (11)', () => {
    const file = header()
      .key(RdbType.HASH_LISTPACK, 'h')
      .str(encodeListpack(['f', 'v', 'n', '42']))
      .key(RdbType.ZSET_LISTPACK, 'z')
      .str(encodeListpack(['a', '1', 'b', '2.5', 'c', '-3', 'd', 'inf']))
      .key(RdbType.SET_LISTPACK, 's')
      .str(encodeListpack(['x', '5']))
      .key(RdbType.SET_INTSET, 'i16')
      .str(encodeIntset([5n, -3n, 1000n], 2))
      .key(RdbType.SET_INTSET, 'i64')
      .str(encodeIntset([2n ** 62n, -(2n ** 63n)], 8))
      .end();
    const { dbs } = loadBuffer(file);
    const d = dbs[0]!.dict;
    expect([...(d.get('h') as RHash).map]).toEqual([
      ['f', 'v'],
      ['n', '42'],
    ]);
    expect([...(d.get('z') as RZSet)]).toEqual([
      ['c', -3],
      ['a', 1],
      ['b', 2.5],
      ['d', Infinity],
    ]);
    expect((d.get('z') as RZSet).encoding).toBe('listpack');
    expect([...(d.get('s') as RSet).members].sort()).toEqual(['5', 'x']);
    expect([...(d.get('i16') as RSet).members]).toEqual(['-3', '5', '1000']);
    expect([...(d.get('i64') as RSet).members]).toEqual([
      '-9223372036854775808',
      '4611686018427387904',
    ]);
  });

  it(
    'reads quicklist v2 (18): PACKED and PLAIN nodes, ' +
      'LZF-compressed nodes, empty nodes skipped',
    () => {
      const lp = encodeListpack(['a'.repeat(30), 'b'.repeat(30), '1', '2']);
      const packed = lzfCompress(lp, 0, lp.length, lp.length)!;
      const file = header()
        .key(RdbType.LIST_QUICKLIST_2, 'ql')
        .len(4)
        .len(2)
        .str(encodeListpack(['x', '-7']))
        .len(1)
        .str('a plain node holds one big element')
        .len(2)
        .u8(0xc3)
        .len(packed.length)
        .len(lp.length)
        .raw(packed)
        .len(2)
        .str(encodeListpack([]))
        .end();
      expect((valueOfKey(file, 'ql') as RList).toArray()).toEqual([
        'x',
        '-7',
        'a plain node holds one big element',
        'a'.repeat(30),
        'b'.repeat(30),
        '1',
        '2',
      ]);
    },
  );

  it(
    'reads the pre-7.0 types: ziplist list (10) / zset ' +
      '(12) / hash (13), quicklist v1 (14), zipmap (9)',
    () => {
      const file = header()
        .key(RdbType.LIST_ZIPLIST, 'zl')
        .str(encodeZiplist(['a', '1', '-100000', 'bb']))
        .key(RdbType.ZSET_ZIPLIST, 'zz')
        .str(encodeZiplist(['one', '1', 'two', '2.5']))
        .key(RdbType.HASH_ZIPLIST, 'zh')
        .str(encodeZiplist(['f1', 'v1', 'f2', '99']))
        .key(RdbType.LIST_QUICKLIST, 'q1')
        .len(3)
        .str(encodeZiplist(['p', 'q']))
        .str(encodeZiplist([]))
        .str(encodeZiplist(['7']))
        .key(RdbType.HASH_ZIPMAP, 'zm')
        .str(
          encodeZipmap(
            [
              ['k', 'v'],
              ['k2', 'v2'],
            ],
            2,
          ),
        )
        .end();
      const { dbs } = loadBuffer(file);
      const d = dbs[0]!.dict;
      expect((d.get('zl') as RList).toArray()).toEqual(['a', '1', '-100000', 'bb']);
      expect([...(d.get('zz') as RZSet)]).toEqual([
        ['one', 1],
        ['two', 2.5],
      ]);
      expect([...(d.get('zh') as RHash).map]).toEqual([
        ['f1', 'v1'],
        ['f2', '99'],
      ]);
      expect((d.get('q1') as RList).toArray()).toEqual(['p', 'q', '7']);
      expect([...(d.get('zm') as RHash).map]).toEqual([
        ['k', 'v'],
        ['k2', 'v2'],
      ]);
    },
  );

  it('handles opcodes: expiry (ms and s), IDLE, FREQ, RESIZEDB, unknown AUX, several dbs', () => {
    const past = Date.now() - 3_600_000;
    const file = new RdbBuilder()
      .aux('redis-ver', '7.0.15')
      .aux('aof-base', '1')
      .aux('aof-preamble', '0')
      .aux('some-future-field', 'ignored')
      .selectDb(0)
      .u8(0xfb)
      .len(2)
      .len(1)
      .expireMs(past)
      .key(0, 'expired-but-kept')
      .str('v')
      .u8(0xf8)
      .len(12345)
      .u8(0xf9, 7)
      .key(0, 'lru-lfu')
      .str('v')
      .selectDb(9)
      .expireSec(2_000_000_000)
      .key(0, 'sec')
      .str('v')
      .end();
    const { dbs, summary } = loadBuffer(file);
    expect(dbs[0]!.expires.get('expired-but-kept')).toBe(past); // AOF preamble rule: kept
    expect(dbs[0]!.expires.has('lru-lfu')).toBe(false);
    expect(dbs[9]!.expires.get('sec')).toBe(2_000_000_000_000);
    expect(summary.aux.get('aof-base')).toBe('1');
    expect(summary.aux.get('some-future-field')).toBe('ignored');
    expect(summary.expiresLoaded).toBe(2);
  });

  it('accepts a zero checksum (not computed) and versions without a checksum', () => {
    const logs: string[] = [];
    const zero = header().key(0, 'k').str('v').end('zero');
    expect(loadBuffer(zero, { log: (_l, m) => logs.push(m) }).summary.checksum).toBe(
      'not-computed',
    );
    expect(logs.some((m) => /checksum disabled/.test(m))).toBe(true);
    const v4 = new RdbBuilder('0004').selectDb(0).key(0, 'k').str('v').end('none');
    const { summary, dbs } = loadBuffer(v4);
    expect(summary.checksum).toBe('absent');
    expect(dbs[0]!.dict.get('k')).toBe('v');
  });

  it('skips FUNCTION2 libraries with a warning and empty keys with a notice', () => {
    const logs: string[] = [];
    const file = header()
      .u8(245)
      .str('#!lua name=mylib\nredis.register_function("f", function() return 1 end)')
      .key(RdbType.SET, 'empty-set')
      .len(0)
      .key(RdbType.HASH_LISTPACK, 'empty-hash')
      .str(encodeListpack([]))
      .key(0, 'k')
      .str('v')
      .end();
    const { dbs, summary } = loadBuffer(file, { log: (level, m) => logs.push(`${level}: ${m}`) });
    expect(summary.functionsSkipped).toBe(1);
    expect(summary.emptyKeysSkipped).toBe(2);
    expect([...dbs[0]!.dict.keys()]).toEqual(['k']);
    expect(logs).toContain(
      'warning: Skipping a function library in test.rdb ' +
        '(aofkv has no FUNCTION support): #!lua name=mylib',
    );
    expect(logs).toContain('notice: rdbLoadObject skipping empty key: empty-set');
  });

  it('leaves the reader right after the RDB, so the RESP tail of a preamble AOF follows', () => {
    const rdb = header().key(0, 'k').str('v').end();
    const tail = Buffer.from('*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n', 'latin1');
    for (const chunkBytes of [1, 7, 64, 1 << 20]) {
      const { reader, summary } = loadBuffer(Buffer.concat([rdb, tail]), {
        chunkBytes,
        windowBytes: 64,
      });
      expect(summary.endOffset).toBe(rdb.length);
      expect(reader.position).toBe(rdb.length);
      expect(reader.readLine()!.toString('latin1')).toBe('*2\r\n');
    }
  });

  it(
    'plugs into the AOF loader: an old-style preamble AOF ' + '(RDB + RESP tail) loads both parts',
    async () => {
      const rdb = header()
        .expireMs(Date.now() - 1000)
        .key(0, 'from-rdb')
        .str('1')
        .selectDb(2)
        .key(RdbType.LIST, 'l')
        .len(1)
        .str('x')
        .end();
      const tail = Buffer.from(
        '*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n*3\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$1\r\ny\r\n*3\r\n' +
          '$3\r\nSET\r\n$4\r\ntail\r\n$1\r\n2\r\n',
        'latin1',
      );
      const fs = new SimFileSystem();
      fs.mkdir('/d');
      const fd = fs.open('/d/appendonly.aof', 'write-truncate');
      const content = Buffer.concat([rdb, tail]);
      fs.write(fd, content, 0, content.length);
      fs.close(fd);
      const server = new Server({
        databases: 16,
        nowMs: () => Date.now(),
        random: Math.random,
        lazyfreeLazyExpire: () => false,
        lazyfreeLazyUserDel: () => false,
      });
      const progress = new LoadingProgress();
      progress.start(content.length, Date.now());
      server.loading = true;
      const deps: LoaderDeps = {
        fs,
        server,
        log: () => {},
        loadTruncated: false,
        truncateOnDisk: false,
        progress,
        nowMs: () => Date.now(),
        loadRdb: async (reader, fileName) => {
          await loadRdbIntoServer(reader, fileName, server);
        },
      };
      expect(await loadSingleAppendOnlyFile(deps, '/d', 'appendonly.aof', true)).toEqual({
        kind: 'ok',
      });
      server.loading = false;
      expect(server.dbs[0]!.dict.get('from-rdb')).toBe('1');
      // already expired, kept by the load
      expect(server.dbs[0]!.expires.has('from-rdb')).toBe(true);
      expect((server.dbs[2]!.dict.get('l') as RList).toArray()).toEqual(['x', 'y']);
      expect(server.dbs[2]!.dict.get('tail')).toBe('2');
      expect(progress.loadedBytes).toBe(content.length);
    },
  );

  it('loads asynchronously with yields and progress', async () => {
    const b = header();
    for (let i = 0; i < 10000; i++) b.key(0, `k${i}`).str(`v${i}`);
    const file = b.end();
    const dbs = makeDbs();
    const offsets: number[] = [];
    const summary = await loadRdbIntoServer(
      readerOver(file),
      'x.rdb',
      { dbs },
      { yieldEveryMs: 0, onProgress: (o) => offsets.push(o) },
    );
    expect(summary.keysLoaded).toBe(10000);
    expect(dbs[0]!.dict.size).toBe(10000);
    expect(offsets.length).toBeGreaterThan(1);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
  });
});

describe('RDB reader: damaged input gives ERR_RDB with the offset', () => {
  const valid = header()
    .key(0, 'k')
    .str('value')
    .key(RdbType.HASH_LISTPACK, 'h')
    .str(encodeListpack(['f', 'v']))
    .end();

  it('bad magic and bad versions', () => {
    expect(loadError(Buffer.from('RADIS0010\xff', 'latin1')).kind).toBe('signature');
    const v11 = loadError(new RdbBuilder('0011').end());
    expect(v11.kind).toBe('version');
    expect(v11.message).toMatch(/can't handle RDB format version 11/);
    expect(loadError(new RdbBuilder('0000').end()).kind).toBe('version');
    expect(loadError(new RdbBuilder('00a1').end()).message).toMatch(/bad RDB version field/);
    expect(loadError(Buffer.from('REDIS', 'latin1')).kind).toBe('eof');
    expect(loadError(Buffer.alloc(0)).kind).toBe('eof');
  });

  it('truncation at every byte is an eof error at or before the cut', () => {
    for (let cut = 0; cut < valid.length; cut++) {
      const e = loadError(valid.subarray(0, cut));
      expect(e.kind, `cut at ${cut}`).toBe('eof');
      expect(e.offset).toBeLessThanOrEqual(cut);
    }
  });

  it('a flipped byte in the body is caught by the checksum', () => {
    const bad = Buffer.from(valid);
    bad[bad.indexOf('value') + 1] ^= 1;
    const e = loadError(bad);
    expect(e.kind).toBe('checksum');
    expect(e.offset).toBe(valid.length - 8);
    expect(e.message).toMatch(/wrong RDB checksum: computed [0-9a-f]{16}, stored [0-9a-f]{16}/);
  });

  it('absurd lengths are errors, never allocations', () => {
    const e1 = loadError(header().key(0, 'k').len(0xffffffff).end());
    expect(e1.kind).toBe('eof');
    expect(e1.message).toMatch(/4294967295/);
    expect(
      loadError(
        header()
          .key(0, 'k')
          .len(2n ** 50n)
          .end(),
      ).kind,
    ).toBe('eof');
    expect(
      loadError(
        header()
          .key(0, 'k')
          .len(2n ** 63n)
          .end(),
      ).message,
    ).toMatch(/absurd 64-bit length/);
    // Counts allocate nothing: an impossible one runs into the end of the file, and says so.
    expect(
      loadError(header().key(RdbType.LIST, 'l').len(0x7fffffff).str('a').str('b').body()).message,
    ).toMatch(
      new RegExp(
        String.raw`unexpected end of file: 1 more bytes needed, 0 left \(the list declares ` +
          String.raw`2147483647 elements but only 4 bytes remained after its count\)`,
      ),
    );
    expect(loadError(header().key(RdbType.HASH, 'h').len(1000).body()).message).toMatch(
      /the hash declares 1000 elements/,
    );
    // LZF claiming a huge output from a few bytes.
    const lzf = loadError(
      header().key(0, 'k').u8(0xc3).len(3).u8(0x80, 0x10, 0, 0, 0).raw('abc').end(),
    );
    expect(lzf.message).toMatch(/more than LZF can produce/);
    expect(lzf.key).toBe('k');
  });

  it('bad blobs name the key, the type and the offset inside the file', () => {
    const lp = encodeListpack(['f', 'v']);
    lp[lp.length - 2] = 9; // the backlen of 'v'
    const b = header();
    const lpAt = b.key(RdbType.HASH_LISTPACK, 'hkey').body().length + 1;
    const e = loadError(b.str(lp).end());
    expect(e.message).toMatch(/bad listpack: listpack backlen says 9/);
    expect(e.key).toBe('hkey');
    expect(e.rdbType).toBe(RdbType.HASH_LISTPACK);
    expect(e.offset).toBe(lpAt + lp.length - 2);
    expect(e.message).toContain("(key 'hkey', RDB type 16 (hash-listpack))");
    expect(
      loadError(
        header()
          .key(RdbType.SET_INTSET, 's')
          .str(encodeIntset([1n], 2).subarray(0, 9))
          .end(),
      ).message,
    ).toMatch(/bad intset/);
    expect(
      loadError(header().key(RdbType.LIST_ZIPLIST, 'z').str('notaziplist').end()).message,
    ).toMatch(/bad ziplist/);
    expect(
      loadError(
        header()
          .key(RdbType.HASH_LISTPACK, 'h')
          .str(encodeListpack(['odd']))
          .end(),
      ).message,
    ).toMatch(/odd number/);
    expect(
      loadError(header().key(RdbType.LIST_QUICKLIST_2, 'q').len(1).len(3).str('x').end()).message,
    ).toMatch(/container 3/);
  });

  it('unsupported content is refused clearly', () => {
    // Redis 7.2's stream type: streams of Redis 7.0 (types 15 and 19) load (rdb-stream tests).
    const stream = loadError(header().key(RdbType.STREAM_LISTPACKS_3, 'mystream').len(0).end());
    expect(stream.kind).toBe('unsupported');
    expect(stream.message).toMatch(/stream/);
    expect(stream.message).toContain("key 'mystream'");
    expect(loadError(header().key(RdbType.MODULE_2, 'mod').len(0).end()).message).toMatch(
      /module value/,
    );
    expect(loadError(header().u8(247).len(1).end()).message).toMatch(/MODULE_AUX/);
    expect(loadError(header().u8(246).str('x').end()).message).toMatch(/release-candidate/);
    expect(loadError(header().u8(8).str('k').end()).message).toMatch(/Invalid object type: 8/);
    expect(loadError(header().u8(100).end()).message).toMatch(/Invalid object type: 100/);
  });

  it('semantic damage: duplicates, NaN scores, db index, length marker', () => {
    expect(loadError(header().key(0, 'k').str('1').key(0, 'k').str('2').end()).kind).toBe(
      'duplicate',
    );
    expect(
      loadError(header().key(RdbType.SET, 's').len(2).str('a').str('a').end()).message,
    ).toMatch(/duplicate set member 'a'/);
    expect(
      loadError(header().key(RdbType.HASH, 'h').len(2).str('a').str('1').str('a').str('2').end())
        .message,
    ).toMatch(/duplicate hash field/);
    expect(
      loadError(header().key(RdbType.ZSET_2, 'z').len(1).str('m').binaryDouble(NaN).end()).message,
    ).toMatch(/NaN score/);
    expect(
      loadError(header().key(RdbType.ZSET, 'z').len(1).str('m').u8(253).end()).message,
    ).toMatch(/NaN score/);
    expect(
      loadError(header().key(RdbType.ZSET, 'z').len(1).str('m').u8(3).raw('abc').end()).message,
    ).toMatch(/invalid double/);
    expect(
      loadError(
        header()
          .key(RdbType.ZSET_LISTPACK, 'z')
          .str(encodeListpack(['m', 'x']))
          .end(),
      ).message,
    ).toMatch(/invalid score/);
    expect(loadError(new RdbBuilder().selectDb(16).end()).message).toMatch(
      /selects database 16 but this engine has 16/,
    );
    expect(loadError(new RdbBuilder().u8(0xfe, 0xc0).end()).message).toMatch(
      /encoded-value marker/,
    );
    expect(loadError(header().key(0, 'k').u8(0xc7).end()).message).toMatch(
      /unknown string encoding 7/,
    );
  });

  it('fuzz: flipped or cut bytes give success or ERR_RDB, quickly', () => {
    const rich = richRdb();
    const zeroSum = Buffer.concat([rich.subarray(0, rich.length - 8), Buffer.alloc(8)]);
    fc.assert(
      fc.property(
        fc.constantFrom(rich, zeroSum),
        fc.array(fc.tuple(fc.nat(rich.length - 1), fc.nat(255)), { maxLength: 4 }),
        fc.option(fc.nat(rich.length), { nil: undefined }),
        fc.constantFrom(1, 13, 1 << 20),
        (base, flips, cut, chunkBytes) => {
          const bytes = Buffer.from(base);
          for (const [at, v] of flips) bytes[at] = v;
          const input = cut === undefined ? bytes : bytes.subarray(0, cut);
          const started = performance.now();
          try {
            loadBuffer(input, { chunkBytes });
          } catch (err) {
            if (!(err instanceof RdbError)) throw err;
          }
          expect(performance.now() - started).toBeLessThan(1000);
        },
      ),
      { numRuns: 1500 },
    );
  });
});

// ---- writer ----------------------------------------------------------------------------------

const binString = fc
  .string({ unit: 'binary-ascii', maxLength: 40 })
  .map((s) => Buffer.from(s, 'binary').toString('latin1'));
const member = fc.oneof(
  binString,
  fc.integer().map(String),
  fc.constantFrom('0', '-1', '007', 'x'.repeat(100)),
);
const score = fc.oneof(
  fc.double({ noNaN: true }),
  fc.integer(),
  fc.constantFrom(0, -0, Infinity, -Infinity, 1.5),
);

const value: fc.Arbitrary<RedisValue> = fc.oneof(
  fc.oneof(
    binString,
    fc.integer().map(String),
    fc.constantFrom('a'.repeat(200), 'ab'.repeat(300), ''),
  ),
  fc.array(member, { minLength: 1, maxLength: 20 }).map((items) => RList.from(items)),
  fc.uniqueArray(member, { minLength: 1, maxLength: 20 }).map((items) => {
    const m = new SetMembers();
    for (const i of items) m.addMember(i);
    return new RSet(m);
  }),
  fc
    .uniqueArray(fc.tuple(member, member), { minLength: 1, maxLength: 20, selector: (p) => p[0] })
    .map((pairs) => new RHash(new Map(pairs))),
  fc
    .uniqueArray(fc.tuple(member, score), { minLength: 1, maxLength: 20, selector: (p) => p[0] })
    .map((pairs) => {
      const z = new RZSet(pairs.length <= 10);
      for (const [m, s] of pairs) z.add(m, s);
      return z;
    }),
);

const keyspace = fc.array(
  fc.tuple(
    fc.nat(15),
    binString,
    value,
    fc.option(fc.integer({ min: 0, max: 4_000_000_000_000 }), { nil: -1 }),
  ),
  { maxLength: 25 },
);

function buildDbs(entries: [number, Bin, RedisValue, number][]): ReturnType<typeof makeDbs> {
  const dbs = makeDbs();
  for (const [db, key, v, exp] of entries) {
    dbs[db]!.dict.set(key, v);
    if (exp !== -1) dbs[db]!.expires.set(key, exp);
    else dbs[db]!.expires.delete(key);
  }
  return dbs;
}

describe('RDB writer', () => {
  it('round-trips any keyspace through encodeRdb → load (every chunk size)', () => {
    fc.assert(
      fc.property(
        keyspace,
        fc.boolean(),
        fc.constantFrom(1, 5, 1 << 20),
        (entries, compression, chunkBytes) => {
          const dbs = buildDbs(entries);
          const file = encodeRdb(dbs, { ...WRITE_OPTIONS, compression });
          const loaded = loadBuffer(file, { chunkBytes });
          expect(snapshotDbs(loaded.dbs)).toEqual(snapshotDbs(asRedisLoadsIt(dbs)));
          expect(loaded.summary.checksum).toBe('ok');
          expect(loaded.summary.aux.get('aof-base')).toBe('1');
        },
      ),
      { numRuns: 150 },
    );
  });

  it(
    'keeps -0 in a big (skiplist) zset and ' +
      'turns it into 0 in a small one, as Redis does on load',
    () => {
      const dbs = makeDbs();
      const big = new RZSet(false);
      for (let i = 0; i < 200; i++) big.add(`m${i}`, i + 1);
      big.add('neg0', -0);
      big.add('inf', Infinity);
      big.add('ninf', -Infinity);
      const small = new RZSet(false);
      small.add('neg0', -0);
      dbs[0]!.dict.set('\x00\xff', big);
      dbs[0]!.dict.set('small', small);
      const { dbs: back } = loadBuffer(encodeRdb(dbs, WRITE_OPTIONS));
      const loaded = back[0]!.dict.get('\x00\xff') as RZSet;
      expect(loaded.encoding).toBe('skiplist');
      expect(Object.is(loaded.score('neg0'), -0)).toBe(true);
      expect(loaded.score('inf')).toBe(Infinity);
      expect(loaded.score('ninf')).toBe(-Infinity);
      // Redis converts a loaded skiplist that fits to listpack, which stores -0 as 0 (checked on
      // 7.0.15).
      const smallBack = back[0]!.dict.get('small') as RZSet;
      expect(smallBack.encoding).toBe('listpack');
      expect(Object.is(smallBack.score('neg0'), 0)).toBe(true);
    },
  );

  it(
    'uses int encoding for canonical 32-bit ' + 'integers and LZF for long compressible strings',
    () => {
      const dbs = makeDbs();
      dbs[0]!.dict.set('a', '-2147483648');
      dbs[0]!.dict.set('b', 'y'.repeat(1000));
      const file = encodeRdb(dbs, WRITE_OPTIONS);
      expect(file.includes(Buffer.from([0x00, 0x01, 0x61, 0xc2, 0x00, 0x00, 0x00, 0x80]))).toBe(
        true,
      );
      expect(file.length).toBeLessThan(200);
      const raw = encodeRdb(dbs, { ...WRITE_OPTIONS, compression: false });
      expect(raw.length).toBeGreaterThan(1000);
    },
  );

  it('writes the same keyspace from plain entries (the rewrite thread path)', () => {
    fc.assert(
      fc.property(keyspace, fc.constantFrom(1, 50, 1 << 20), (entries, flushAt) => {
        const dbs = buildDbs(entries);
        const enc = new RdbEncoder(WRITE_OPTIONS);
        const chunks: Buffer[] = [];
        for (const db of dbs) {
          for (const [k, v] of db.dict) {
            // Through a structured clone, as through msgpackr to the writer thread: plain data
            // only.
            enc.add(structuredClone(toPlainEntry(db.id, k, v, db.expires.get(k) ?? -1)));
            if (enc.pendingBytes >= flushAt) chunks.push(enc.takeChunk());
          }
        }
        chunks.push(enc.end());
        const file = Buffer.concat(chunks);
        expect(enc.bytesProduced).toBe(file.length);
        expect(snapshotDbs(loadBuffer(file).dbs)).toEqual(snapshotDbs(asRedisLoadsIt(dbs)));
        expect(checkRdb(readerOver(file), { fileName: 'x', out: () => {} }).ok).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('RdbBaseWriter streams plain entries to a file through short writes', () => {
    const dbs = makeDbs();
    for (let i = 0; i < 5000; i++)
      dbs[(i * 7) % 16]!.dict.set(`key:${i}`, `value:${i}`.repeat(i % 30));
    const fs = new SimFileSystem();
    fs.faults.add({ op: 'write', shortBytes: 1000, persistent: true });
    const fd = fs.open('/base.rdb', 'write-truncate');
    const writer = new RdbBaseWriter(fs, fd, WRITE_OPTIONS);
    for (const db of dbs) for (const [k, v] of db.dict) writer.add(toPlainEntry(db.id, k, v, -1));
    writer.finish();
    fs.close(fd);
    const written = fs.fileContent('/base.rdb');
    expect(written.length).toBe(writer.bytesWritten);
    expect(snapshotDbs(loadBuffer(written).dbs)).toEqual(snapshotDbs(dbs));
  });

  it('keeps expiry times beyond 2^53 ms exactly (bigint)', () => {
    const dbs = makeDbs();
    dbs[0]!.dict.set('far', 'v');
    dbs[0]!.expires.set('far', 2n ** 62n + 1n);
    dbs[0]!.dict.set('near', 'v');
    dbs[0]!.expires.set('near', 1_900_000_000_000);
    const { dbs: back } = loadBuffer(encodeRdb(dbs, WRITE_OPTIONS));
    expect(back[0]!.expires.get('far')).toBe(2n ** 62n + 1n);
    expect(back[0]!.expires.get('near')).toBe(1_900_000_000_000);
  });

  it('writeRdbSnapshot survives short writes and matches encodeRdb', () => {
    const dbs = makeDbs();
    for (let i = 0; i < 3000; i++) dbs[i % 3]!.dict.set(`key:${i}`, `value:${i}`.repeat(i % 50));
    const fs = new SimFileSystem();
    fs.faults.add({ op: 'write', shortBytes: 4093, persistent: true });
    const fd = fs.open('/base.rdb', 'write-truncate');
    const n = writeRdbSnapshot(fs, fd, dbs, WRITE_OPTIONS);
    fs.close(fd);
    const written = fs.fileContent('/base.rdb');
    expect(written.length).toBe(n);
    expect(written.equals(encodeRdb(dbs, WRITE_OPTIONS))).toBe(true);
    expect(snapshotDbs(loadBuffer(written).dbs)).toEqual(snapshotDbs(dbs));
  });

  it('an empty dataset is a small valid RDB with the aux fields of an AOF base', () => {
    const file = encodeRdb(makeDbs(), WRITE_OPTIONS);
    const lines: string[] = [];
    const result = checkRdb(readerOver(file), { fileName: 'base.rdb', out: (l) => lines.push(l) });
    expect(result.ok).toBe(true);
    expect(lines).toEqual([
      '[offset 0] Checking RDB file base.rdb',
      "[offset 27] AUX FIELD redis-ver = '7.0.15'",
      "[offset 41] AUX FIELD redis-bits = '64'",
      "[offset 53] AUX FIELD ctime = '1700000000'",
      "[offset 68] AUX FIELD used-mem = '1000000'",
      "[offset 80] AUX FIELD aof-base = '1'",
      `[offset ${file.length}] Checksum OK`,
      `[offset ${file.length}] \\o/ RDB looks OK! \\o/`,
      '[info] 0 keys read',
      '[info] 0 expires',
      '[info] 0 already expired',
    ]);
    expect(file.length).toBe(89); // the size Redis 7.0.15 gives an empty RDB base (spec §1.7)
  });

  it('SELECTDB carries db ids of each length class (6, 14, 32 bits), on both write paths', () => {
    // `databases` goes up to INT_MAX; rdbSaveLen / rdbLoadLen encode a db id like any length.
    const ids = [0, 63, 64, 255, 256, 16383, 16384, 70000];
    const dbs = makeDbs(70001);
    for (const id of ids) dbs[id]!.dict.set(`key-${id}`, `value-${id}`);
    const fromDbs = encodeRdb(dbs, WRITE_OPTIONS);
    const enc = new RdbEncoder(WRITE_OPTIONS);
    for (const id of ids) enc.add(toPlainEntry(id, `key-${id}`, `value-${id}`, -1));
    const fromPlain = enc.end();
    const selectDb = (...len: number[]) => Buffer.from([0xfe, ...len]);
    for (const file of [fromDbs, fromPlain]) {
      expect(file.includes(selectDb(0x3f))).toBe(true); // 63: 6-bit
      expect(file.includes(selectDb(0x40, 0x40))).toBe(true); // 64: 14-bit
      expect(file.includes(selectDb(0x41, 0x00))).toBe(true); // 256
      expect(file.includes(selectDb(0x7f, 0xff))).toBe(true); // 16383
      expect(file.includes(selectDb(0x80, 0x00, 0x00, 0x40, 0x00))).toBe(true); // 16384: 32-bit
      expect(file.includes(selectDb(0x80, 0x00, 0x01, 0x11, 0x70))).toBe(true); // 70000
      const loaded = loadBuffer(file, { databases: 70001 });
      expect(snapshotDbs(loaded.dbs)).toEqual(snapshotDbs(dbs));
      expect(checkRdb(readerOver(file), { fileName: 'x', out: () => {} }).ok).toBe(true);
    }
    expect(loadError(fromPlain, { databases: 16384 }).message).toMatch(
      /selects database 16384 but this engine has 16384/,
    );
  });

  it('the encoder refuses use after end()', () => {
    const enc = new RdbEncoder(WRITE_OPTIONS);
    enc.end();
    expect(() => enc.add([0, 'k', 0, 'v', -1])).toThrow(/end\(\) was already called/);
  });
});

describe('RDB check (redis-check-rdb lines)', () => {
  it('reports damage in redis-check-rdb form', () => {
    const file = header()
      .key(RdbType.ZSET_LISTPACK, 'z')
      .str(encodeListpack(['a', '1']))
      .end();
    const lines: string[] = [];
    const cut = file.subarray(0, file.length - 12);
    expect(checkRdb(readerOver(cut), { fileName: 'x', out: (l) => lines.push(l) }).ok).toBe(false);
    expect(lines.slice(-8)).toEqual([
      '--- RDB ERROR DETECTED ---',
      `[offset ${file.indexOf('z') + 1 + 1}] Unexpected EOF reading RDB file`,
      '[additional info] While doing: read-object-value',
      "[additional info] Reading key 'z'",
      '[additional info] Reading type 17 (zset-listpack)',
      '[info] 1 keys read',
      '[info] 0 expires',
      '[info] 0 already expired',
    ]);
  });
});
