// The RDB reader and writer against a real redis-server 7.0: fixtures are produced by the server
// itself (SAVE, and BGREWRITEAOF with aof-use-rdb-preamble yes) with every encoding forced by
// CONFIG SET and asserted with OBJECT ENCODING; aofkv loads them and must hold exactly what the
// live server holds. The other way, files aofkv writes must pass redis-check-rdb and load into a
// fresh redis-server (as dump.rdb and as an AOF base) with the same content. Skipped, loudly,
// when redis-server is not installed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bin } from '../../src/bytes.ts';
import { LoadingProgress, loadAppendOnlyFiles, type LoaderDeps } from '../../src/aof/aof-loader.ts';
import { parseManifest } from '../../src/aof/aof-manifest.ts';
import { checkAof } from '../../src/aof/check-aof.ts';
import { NodeFileSystem } from '../../src/io/node-file-system.ts';
import { RZSet } from '../../src/keyspace/zset.ts';
import { checkRdbFile, checkRdbPreamble } from '../../src/rdb/rdb-check.ts';
import { RdbError } from '../../src/rdb/rdb-errors.ts';
import { RdbType, loadRdbIntoServer } from '../../src/rdb/rdb-reader.ts';
import { writeRdbSnapshot } from '../../src/rdb/rdb-writer.ts';
import { StatusReply, type Reply } from '../../src/reply.ts';
import { Server } from '../../src/server.ts';
import {
  haveRedisServer,
  startRedis,
  type RedisInstance,
  type RespClient,
} from '../helpers/redis-server.ts';
import {
  RdbBuilder,
  encodeIntset,
  encodeZiplist,
  encodeZipmap,
  loadBuffer,
  type makeDbs,
  snapshotDbs,
  snapshotRedis,
  type Snapshot,
  asRedisLoadsIt,
} from './rdb-helpers.ts';

const HAVE_REDIS = haveRedisServer();
if (!HAVE_REDIS)
  console.warn(
    'redis-server not installed: the RDB interop tests against redis-server 7.0 are SKIPPED',
  );

const root = mkdtempSync(join(tmpdir(), 'aofkv-rdb-interop-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirCounter = 0;
const freshDir = () => {
  const d = join(root, String(++dirCounter));
  mkdirSync(d, { recursive: true });
  return d;
};

const FUTURE = Date.now() + 86_400_000 * 365;

/** Small thresholds so a handful of elements reaches every encoding. */
const ENCODING_CONFIG: [string, string][] = [
  ['list-max-listpack-size', '4'],
  ['list-compress-depth', '1'],
  ['set-max-intset-entries', '10'],
  ['hash-max-listpack-entries', '8'],
  ['hash-max-listpack-value', '16'],
  ['zset-max-listpack-entries', '8'],
  ['zset-max-listpack-value', '16'],
];

/** Commands that build one key per encoding, and the OBJECT ENCODING each must report. */
function fixtureCommands(): {
  commands: Bin[][];
  encodings: [db: number, key: Bin, encoding: string][];
} {
  const commands: Bin[][] = [];
  const encodings: [number, Bin, string][] = [];
  const at = (db: number, ...cmds: Bin[][]) => commands.push(['SELECT', String(db)], ...cmds);
  const expect = (db: number, key: Bin, enc: string) => encodings.push([db, key, enc]);
  // Strings: int8/16/32 (the RDB int encodings), 64-bit and non-canonical numbers (raw),
  // binary, empty, LZF-compressible (> 20 bytes), incompressible, long.
  const ints = [
    '0',
    '-1',
    '100',
    '-128',
    '30000',
    '-32768',
    '2000000000',
    '-2147483648',
    '9000000000',
    '007',
    '-0',
    '1.5',
  ];
  at(0, ...ints.map((v, i) => ['SET', `str:int:${i}`, v]));
  at(
    0,
    ['SET', 'str:binary', '\x00\xff\r\n\x01binary\x7f\x80'],
    ['SET', 'str:empty', ''],
    ['SET', 'str:lzf', 'abcdefgh'.repeat(100)],
    [
      'SET',
      'str:random',
      Array.from({ length: 200 }, (_, i) => String.fromCharCode((i * 7919) % 256)).join(''),
    ],
    ['SET', 'str:long', 'q'.repeat(200_000)],
    ['SET', '\x00\xffbinary-key', 'v'],
  );
  expect(0, 'str:int:2', 'int');
  expect(0, 'str:lzf', 'raw');
  // Lists: one listpack node with every integer width; many nodes with compressed inner nodes;
  // PLAIN nodes for elements above the packed threshold (lowered with DEBUG).
  at(
    0,
    ['RPUSH', 'list:small', '1', '-200', '70000', '-5000000000', 'text'],
    [
      'RPUSH',
      'list:multi',
      ...Array.from({ length: 40 }, (_, i) => `element-number-${i}-padding-padding`),
    ],
    ['DEBUG', 'QUICKLIST-PACKED-THRESHOLD', '100'],
    ['RPUSH', 'list:plain', 'small', 'P'.repeat(500), 'small2', 'Q'.repeat(1000)],
    ['DEBUG', 'QUICKLIST-PACKED-THRESHOLD', '1073741824'],
  );
  for (const k of ['list:small', 'list:multi', 'list:plain']) expect(0, k, 'quicklist');
  // Sets: intset of each width, and hashtable sets (too many entries, or not integers).
  at(
    1,
    ['SADD', 'set:int16', '1', '-2', '300'],
    ['SADD', 'set:int32', '1', '70000', '-70000'],
    ['SADD', 'set:int64', '1', '5000000000', '-9223372036854775808', '9223372036854775807'],
    ['SADD', 'set:big', ...Array.from({ length: 30 }, (_, i) => String(i * 3))],
    ['SADD', 'set:text', 'a', 'b', '\x00'],
  );
  for (const k of ['set:int16', 'set:int32', 'set:int64']) expect(1, k, 'intset');
  expect(1, 'set:big', 'hashtable');
  expect(1, 'set:text', 'hashtable');
  // Hashes: listpack, hashtable by count, hashtable by value length.
  at(
    5,
    ['HSET', 'hash:small', 'f1', 'v1', 'n', '12345', 'neg', '-7', 'empty', ''],
    [
      'HSET',
      'hash:many',
      ...Array.from({ length: 20 }, (_, i) => [`field${i}`, `value${i}`]).flat(),
    ],
    ['HSET', 'hash:longvalue', 'f', 'x'.repeat(100)],
  );
  expect(5, 'hash:small', 'listpack');
  expect(5, 'hash:many', 'hashtable');
  expect(5, 'hash:longvalue', 'hashtable');
  // Sorted sets: listpack (integer and float scores, inf), skiplist by count and by member length,
  // and -0 kept by the skiplist.
  at(
    15,
    [
      'ZADD',
      'zset:small',
      '1',
      'a',
      '2.5',
      'b',
      '-3',
      'c',
      'inf',
      'd',
      '-inf',
      'e',
      '5000000000',
      'f',
    ],
    ['ZADD', 'zset:many', ...Array.from({ length: 20 }, (_, i) => [String(i / 3), `m${i}`]).flat()],
    ['ZADD', 'zset:longmember', '1', 'm'.repeat(100)],
    // More than 128 entries: a skiplist under the default thresholds too (aofkv's are fixed), so
    // both sides keep the -0 that a listpack would turn into 0.
    [
      'ZADD',
      'zset:negzero',
      ...Array.from({ length: 130 }, (_, i) => [String(i), `z${i}`]).flat(),
      '-0',
      'zero',
    ],
  );
  expect(15, 'zset:small', 'listpack');
  expect(15, 'zset:many', 'skiplist');
  expect(15, 'zset:longmember', 'skiplist');
  expect(15, 'zset:negzero', 'skiplist');
  // Expiry in ms on several types and dbs.
  at(0, ['PEXPIREAT', 'str:lzf', String(FUTURE)], ['PEXPIREAT', 'list:multi', String(FUTURE + 1)]);
  at(5, ['PEXPIREAT', 'hash:many', String(FUTURE + 2)]);
  at(15, ['PEXPIREAT', 'zset:small', String(FUTURE + 3)]);
  at(0);
  return { commands, encodings };
}

async function call(client: RespClient, ...argv: (Bin | number)[]): Promise<Reply> {
  const reply = await client.call(...argv);
  if (reply !== null && typeof reply === 'object' && 'message' in reply)
    throw new Error(`${argv.join(' ')}: ${reply.message}`);
  return reply;
}

async function fillFixture(redis: RedisInstance): Promise<void> {
  const { client } = redis;
  for (const [k, v] of ENCODING_CONFIG) await call(client, 'CONFIG', 'SET', k, v);
  const { commands, encodings } = fixtureCommands();
  for (const cmd of commands) await call(client, ...cmd);
  for (const [db, key, enc] of encodings) {
    await call(client, 'SELECT', db);
    expect(await call(client, 'OBJECT', 'ENCODING', key), `OBJECT ENCODING ${key}`).toBe(enc);
  }
  await call(client, 'SELECT', 0);
}

function redisCheckRdb(file: string): { code: number; lines: string[] } {
  const r = spawnSync('redis-check-rdb', [file], { encoding: 'latin1' });
  return { code: r.status ?? -1, lines: r.stdout.split('\n').filter((l) => l.length > 0) };
}

function ourCheckRdb(file: string): { code: number; lines: string[] } {
  const lines: string[] = [];
  const code = checkRdbFile(new NodeFileSystem(), file, (l) => lines.push(l));
  return { code, lines };
}

describe.skipIf(!HAVE_REDIS)('RDB interop with redis-server 7.0', () => {
  let redis: RedisInstance;
  let dump: Buffer;
  let live: Snapshot;

  beforeAll(async () => {
    redis = await startRedis({
      args: ['--enable-debug-command', 'yes', '--rdbcompression', 'yes'],
    });
    await fillFixture(redis);
    expect(await call(redis.client, 'SAVE')).toEqual(new StatusReply('OK'));
    dump = readFileSync(join(redis.dir, 'dump.rdb'));
    live = await snapshotRedis(redis.client);
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('loads dump.rdb with every encoding and holds exactly what the server holds', () => {
    for (const chunkBytes of [1 << 20, 17]) {
      const { dbs, summary } = loadBuffer(dump, { chunkBytes });
      expect(summary.checksum).toBe('ok');
      expect(summary.aux.get('redis-ver')).toBe('7.0.15');
      expect(snapshotDbs(dbs)).toEqual(live);
    }
    // Spot checks that the snapshot really covers the interesting bits.
    const { dbs } = loadBuffer(dump);
    expect(dbs[0]!.dict.get('str:long')).toBe('q'.repeat(200_000));
    expect(dbs[0]!.expires.get('str:lzf')).toBe(FUTURE);
    const negzero = dbs[15]!.dict.get('zset:negzero') as RZSet;
    expect(Object.is(negzero.score('zero'), -0)).toBe(true);
    expect(negzero.encoding).toBe('skiplist');
  });

  it('our RDB check prints exactly what redis-check-rdb prints', () => {
    const file = join(redis.dir, 'dump.rdb');
    expect(ourCheckRdb(file)).toEqual(redisCheckRdb(file));
  });

  it(
    'on truncated dumps our check reports the same offset, ' + 'key and type as redis-check-rdb',
    () => {
      const dir = freshDir();
      const cuts = new Set<number>([9, 10, 40, 81, dump.length - 9, dump.length - 1]);
      for (let i = 0; cuts.size < 40; i++) cuts.add(10 + ((i * 7919 + 13) % (dump.length - 20)));
      for (const cut of cuts) {
        const file = join(dir, `cut-${cut}.rdb`);
        writeFileSync(file, dump.subarray(0, cut));
        expect(ourCheckRdb(file), `cut at ${cut}`).toEqual(redisCheckRdb(file));
      }
    },
  );

  it(
    'check-aof on old-style RDB-preamble AOFs prints ' +
      'what redis-check-aof prints (sane and damaged)',
    async () => {
      const tail = Buffer.from(
        '*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$1\r\nk\r\n$1\r\nv\r\n',
        'latin1',
      );
      const crcBroken = Buffer.from(dump);
      crcBroken[crcBroken.length - 1] ^= 0xff;
      const cases: [string, Buffer][] = [
        ['sane.aof', Buffer.concat([dump, tail])],
        ['truncated.aof', dump.subarray(0, dump.length - 100)],
        ['crc.aof', Buffer.concat([crcBroken, tail])],
      ];
      for (const [name, content] of cases) {
        const file = join(freshDir(), name);
        writeFileSync(file, content);
        const theirs = spawnSync('redis-check-aof', [file], { encoding: 'latin1' });
        let ours = '';
        const out = (line: string) => {
          ours += `${line}\n`;
        };
        const code = await checkAof(
          [file],
          new NodeFileSystem(),
          { out, prompt: async () => null },
          (reader) => checkRdbPreamble(reader, file, out),
        );
        expect(ours, name).toBe(theirs.stdout);
        expect(code, name).toBe(theirs.status);
      }
    },
  );

  it(
    'loads the RDB base of a BGREWRITEAOF ' + '(aof-use-rdb-preamble yes) and the INCR after it',
    async () => {
      const aof = await startRedis({
        // appendfsync no: with everysec Redis may postpone the write of the INCR (spec §3) while
        // the bio still fsyncs the old one, and we read the files right after the replies.
        args: [
          '--appendonly',
          'yes',
          '--aof-use-rdb-preamble',
          'yes',
          '--appendfsync',
          'no',
          '--enable-debug-command',
          'yes',
        ],
      });
      try {
        await fillFixture(aof);
        await call(aof.client, 'BGREWRITEAOF');
        // Logged by backgroundRewriteDoneHandler after the new base and manifest are in place.
        await aof.waitForLog(/Background AOF rewrite finished successfully/);
        // Commands after the rewrite go to the new INCR file.
        await call(aof.client, 'SET', 'after-rewrite', '1');
        await call(aof.client, 'RPUSH', 'list:small', 'tail');
        await call(aof.client, 'SELECT', 3);
        await call(aof.client, 'HSET', 'db3hash', 'f', 'v');
        await call(aof.client, 'SELECT', 0);
        const aofDir = join(aof.dir, 'appendonlydir');
        const manifestText = readFileSync(join(aofDir, 'appendonly.aof.manifest'), 'latin1');
        const manifest = parseManifest(manifestText);
        expect(manifest.base!.fileName).toMatch(/\.base\.rdb$/);
        const base = readFileSync(join(aofDir, manifest.base!.fileName));
        expect(loadBuffer(base).summary.aux.get('aof-base')).toBe('1');

        const server = new Server({
          databases: 16,
          nowMs: () => Date.now(),
          random: Math.random,
          lazyfreeLazyExpire: () => false,
          lazyfreeLazyUserDel: () => false,
        });
        const deps: LoaderDeps = {
          fs: new NodeFileSystem(),
          server,
          log: () => {},
          loadTruncated: false,
          truncateOnDisk: false,
          progress: new LoadingProgress(),
          nowMs: () => Date.now(),
          loadRdb: async (reader, fileName) => {
            await loadRdbIntoServer(reader, fileName, server);
          },
        };
        expect(await loadAppendOnlyFiles(deps, manifest, aofDir)).toBe('ok');
        expect(snapshotDbs(server.dbs)).toEqual(await snapshotRedis(aof.client));

        // redis-check-aof and our check-aof (with the RDB hook) print the same thing.
        const theirs = spawnSync('redis-check-aof', [join(aofDir, 'appendonly.aof.manifest')], {
          encoding: 'latin1',
        });
        let ours = '';
        const out = (line: string) => {
          ours += `${line}\n`;
        };
        const code = await checkAof(
          [join(aofDir, 'appendonly.aof.manifest')],
          new NodeFileSystem(),
          { out, prompt: async () => null },
          (reader) => checkRdbPreamble(reader, manifest.base!.fileName, out),
        );
        expect(ours).toBe(theirs.stdout);
        expect(code).toBe(theirs.status);
      } finally {
        await aof.stop();
      }
    },
  );

  it(
    'writes RDB files that redis-check-rdb ' + 'accepts and redis-server loads (as dump.rdb)',
    async () => {
      const { dbs } = loadBuffer(dump);
      addGeneratedKeys(dbs);
      const dir = freshDir();
      const file = join(dir, 'aofkv.rdb');
      const fs = new NodeFileSystem();
      const fd = fs.open(file, 'write-truncate');
      writeRdbSnapshot(fs, fd, dbs, { aofBase: false, ctimeSec: Math.floor(Date.now() / 1000) });
      fs.close(fd);
      const check = redisCheckRdb(file);
      expect(check.code, check.lines.join('\n')).toBe(0);
      expect(ourCheckRdb(file)).toEqual(check);
      const loaded = await startRedis({ dir, args: ['--dbfilename', 'aofkv.rdb'] });
      try {
        expect(await snapshotRedis(loaded.client)).toEqual(snapshotDbs(asRedisLoadsIt(dbs)));
        // Redis re-derives its compact encodings from the plain RDB types we write.
        const encodingOf = async (db: number, key: Bin) => {
          await call(loaded.client, 'SELECT', db);
          return call(loaded.client, 'OBJECT', 'ENCODING', key);
        };
        expect(await encodingOf(1, 'set:int16')).toBe('intset');
        expect(await encodingOf(5, 'hash:small')).toBe('listpack');
        expect(await encodingOf(15, 'zset:small')).toBe('listpack');
        expect(await encodingOf(15, 'zset:many')).toBe('listpack'); // default thresholds here
        expect(await encodingOf(0, 'gen:bigzset')).toBe('skiplist');
      } finally {
        await loaded.stop();
      }
    },
  );

  it(
    'writes an AOF base (appendonly.aof.1.base.rdb) that ' + 'redis-server loads at startup',
    async () => {
      const { dbs } = loadBuffer(dump);
      addGeneratedKeys(dbs);
      const dir = freshDir();
      const aofDir = join(dir, 'appendonlydir');
      mkdirSync(aofDir);
      const fs = new NodeFileSystem();
      const fd = fs.open(join(aofDir, 'appendonly.aof.1.base.rdb'), 'write-truncate');
      writeRdbSnapshot(fs, fd, dbs, { aofBase: true, ctimeSec: Math.floor(Date.now() / 1000) });
      fs.close(fd);
      writeFileSync(join(aofDir, 'appendonly.aof.1.incr.aof'), '');
      writeFileSync(
        join(aofDir, 'appendonly.aof.manifest'),
        'file appendonly.aof.1.base.rdb seq 1 type b\n' +
          'file appendonly.aof.1.incr.aof seq 1 type i\n',
      );
      const loaded = await startRedis({ dir, args: ['--appendonly', 'yes'] });
      try {
        expect(await snapshotRedis(loaded.client)).toEqual(snapshotDbs(asRedisLoadsIt(dbs)));
        expect(readdirSync(aofDir)).toContain('appendonly.aof.1.base.rdb');
      } finally {
        await loaded.stop();
      }
    },
  );

  it(
    'pre-7.0 encodings (ziplist, zipmap, quicklist v1, ' +
      'intset, zset v1) load the same in redis-server',
    async () => {
      // Redis 7.0 no longer writes these, but still loads them: a file crafted by the test encoders
      // must pass redis-check-rdb and give the server the same content aofkv loads.
      const items = [
        'a',
        '0',
        '12',
        '13',
        '-1',
        '127',
        '-128',
        '300',
        '-40000',
        '70000',
        '9000000000',
        'x'.repeat(70),
        'y'.repeat(20000),
      ];
      const file = new RdbBuilder('0009')
        .aux('redis-ver', '6.2.0')
        .selectDb(0)
        .key(RdbType.LIST_ZIPLIST, 'ziplist-list')
        .str(encodeZiplist(items))
        .key(RdbType.LIST_QUICKLIST, 'quicklist-v1')
        .len(2)
        .str(encodeZiplist(items.slice(0, 5)))
        .str(encodeZiplist(items.slice(5)))
        .key(RdbType.HASH_ZIPLIST, 'ziplist-hash')
        .str(encodeZiplist(['f1', 'v1', 'n', '-5', 'big', 'z'.repeat(300)]))
        .key(RdbType.ZSET_ZIPLIST, 'ziplist-zset')
        .str(encodeZiplist(['m3', '-7', 'm1', '1', 'm2', '2.5', 'm4', '9000000000']))
        .key(RdbType.HASH_ZIPMAP, 'zipmap-hash')
        .str(
          encodeZipmap(
            [
              ['k1', 'v1'],
              ['k2', 'w'.repeat(300)],
            ],
            1,
          ),
        )
        .key(RdbType.SET_INTSET, 'intset64')
        .str(encodeIntset([-(2n ** 63n), 0n, 2n ** 63n - 1n], 8))
        .key(RdbType.ZSET, 'zset-v1')
        .len(3)
        .str('a')
        .u8(3)
        .raw('1.5')
        .str('b')
        .u8(254)
        .str('c')
        .u8(4)
        .raw('-1e3')
        .selectDb(7)
        .expireMs(FUTURE)
        .key(RdbType.SET, 'plain-set')
        .len(2)
        .str('p')
        .str('q')
        .end();
      const dir = freshDir();
      writeFileSync(join(dir, 'legacy.rdb'), file);
      const check = redisCheckRdb(join(dir, 'legacy.rdb'));
      expect(check.code, check.lines.join('\n')).toBe(0);
      expect(ourCheckRdb(join(dir, 'legacy.rdb'))).toEqual(check);
      const ours = snapshotDbs(loadBuffer(file).dbs);
      const loaded = await startRedis({ dir, args: ['--dbfilename', 'legacy.rdb'] });
      try {
        expect(await snapshotRedis(loaded.client)).toEqual(ours);
      } finally {
        await loaded.stop();
      }
    },
  );

  it('fuzz on the server-written dump: flips and cuts give success or ERR_RDB', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(dump.length - 1), fc.nat(255)), { maxLength: 3 }),
        fc.option(fc.nat(dump.length), { nil: undefined }),
        fc.boolean(),
        (flips, cut, zeroChecksum) => {
          const bytes = Buffer.from(dump);
          if (zeroChecksum) bytes.fill(0, bytes.length - 8);
          for (const [at, v] of flips) bytes[at] = v;
          const started = performance.now();
          try {
            loadBuffer(cut === undefined ? bytes : bytes.subarray(0, cut));
          } catch (err) {
            if (!(err instanceof RdbError)) throw err;
          }
          expect(performance.now() - started).toBeLessThan(2000);
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** More keys for the writer tests: many dbs, big collections, binary data, TTLs. */
function addGeneratedKeys(dbs: ReturnType<typeof makeDbs>): void {
  for (let i = 0; i < 3000; i++) {
    const db = dbs[i % 16]!;
    db.dict.set(
      `gen:str:${i}`,
      i % 3 === 0 ? String(i * 1000003) : `value-${i}-${'x'.repeat(i % 40)}`,
    );
    if (i % 7 === 0) db.expires.set(`gen:str:${i}`, FUTURE + i);
  }
  const z = new RZSet(false);
  for (let i = 0; i < 1000; i++) z.add(`member-${i}`, i % 2 === 0 ? i / 7 : -i);
  z.add('negzero', -0);
  dbs[0]!.dict.set('gen:bigzset', z);
  dbs[2]!.dict.set('gen:binary\x00\xff', '\x00\x01\x02\xff\xfe');
}
