// Stream commands on the injected clock: replies and what reaches the AOF (Redis 7.0 t_stream.c
// propagation), plus the stream value's own structure (node layout, RDB payload round trip).
// Replies and AOF bytes against a real redis-server are in test/interop/stream-aof.test.ts and
// the differential suite.

import { describe, expect, it } from 'vitest';
import { dumpStream } from '../../src/cli/dump.ts';
import type { RStream } from '../../src/keyspace/stream.ts';
import {
  encodeNodeListpack,
  decodeStreamPayload,
  encodeStreamPayload,
} from '../../src/rdb/rdb-stream.ts';
import { NIL_ARRAY, StatusReply } from '../../src/reply.ts';
import { OK, T0, WRONGTYPE_MESSAGE, err, openCommandEngine } from '../helpers/command-engine.ts';

describe('XADD', () => {
  it('generates IDs from the clock, never going back, and propagates the ID it chose', async () => {
    const t = await openCommandEngine();
    expect(t.run('XADD', 's', '*', 'f', 'v')).toBe(`${T0}-0`);
    expect(t.run('XADD', 's', '*', 'f', 'v')).toBe(`${T0}-1`);
    t.advance(5);
    expect(t.run('XADD', 's', `${T0 + 5}-*`, 'f', 'v')).toBe(`${T0 + 5}-0`);
    expect(t.run('XADD', 's', `${T0 + 5}-*`, 'f', 'v')).toBe(`${T0 + 5}-1`);
    expect(t.run('XADD', 's', '1-1', 'f', 'v')).toEqual(
      err('ERR The ID specified in XADD is equal or smaller than the target stream top item'),
    );
    expect(t.run('XADD', 's', '0-0', 'f', 'v')).toEqual(
      err('ERR The ID specified in XADD must be greater than 0-0'),
    );
    expect(t.run('XADD', 's', 'x-1', 'f', 'v')).toEqual(
      err('ERR Invalid stream ID specified as stream command argument'),
    );
    expect(t.run('XADD', 's', '*', 'f')).toEqual(
      err("ERR wrong number of arguments for 'xadd' command"),
    );
    expect(t.run('XADD', 'none', 'NOMKSTREAM', '*', 'f', 'v')).toBe(null);
    expect(t.aof()).toEqual([
      ['XADD', 's', `${T0}-0`, 'f', 'v'],
      ['XADD', 's', `${T0}-1`, 'f', 'v'],
      ['XADD', 's', `${T0 + 5}-0`, 'f', 'v'],
      ['XADD', 's', `${T0 + 5}-1`, 'f', 'v'],
    ]);
    t.run('SET', 'str', 'x');
    expect(t.run('XADD', 'str', '*', 'f', 'v')).toEqual(err(WRONGTYPE_MESSAGE));
    expect(t.run('TYPE', 's')).toEqual(new StatusReply('stream'));
  });

  it('fills nodes of 100 entries: MAXLEN ~ removes whole nodes, written as MAXLEN =', async () => {
    const t = await openCommandEngine();
    for (let i = 1; i <= 250; i++) t.run('XADD', 's', `${i}-0`, 'f', String(i));
    t.aof();
    const s = t.e.server.dbs[0]!.dict.get('s') as RStream;
    expect(s.nodes.map((n) => n.live)).toEqual([100, 100, 50]);
    expect(t.run('XTRIM', 's', 'MAXLEN', '~', '120')).toBe(100);
    expect(t.aof()).toEqual([['XTRIM', 's', 'MAXLEN', '=', '150']]);
    expect(t.run('XADD', 's', 'MINID', '~', '230', '251-0', 'f', 'v')).toBe('251-0');
    expect(t.aof()).toEqual([['XADD', 's', 'MINID', '=', '201-0', '251-0', 'f', 'v']]);
    expect(t.run('XLEN', 's')).toBe(51);
    // An exact trim is written as typed, and only when it deleted something.
    expect(t.run('XTRIM', 's', 'MAXLEN', '60')).toBe(0);
    expect(t.run('XTRIM', 's', 'MINID', '210')).toBe(9);
    expect(t.aof()).toEqual([['XTRIM', 's', 'MINID', '210']]);
  });

  it('measures nodes in listpack bytes exactly as the listpack it writes', async () => {
    const t = await openCommandEngine();
    for (let i = 1; i <= 60; i++) {
      t.run('XADD', 's', `${i}-${i}`, 'field', 'x'.repeat(i * 3), String(i * 1000), '-7');
    }
    t.run('XDEL', 's', '3-3', '40-40');
    const s = t.e.server.dbs[0]!.dict.get('s') as RStream;
    expect(s.nodes.length).toBeGreaterThan(1);
    for (const node of s.nodes) expect(encodeNodeListpack(node).length).toBe(node.bytes);
  });
});

describe('XRANGE / XREVRANGE / XDEL / XSETID', () => {
  it('ranges with exclusive bounds and COUNT, and keeps the deletion metadata', async () => {
    const t = await openCommandEngine();
    for (let i = 1; i <= 5; i++) t.run('XADD', 's', `${i}-0`, 'n', String(i));
    expect(t.run('XRANGE', 's', '(1-0', '(4', 'COUNT', '2')).toEqual([
      ['2-0', ['n', '2']],
      ['3-0', ['n', '3']],
    ]);
    expect(t.run('XREVRANGE', 's', '+', '-', 'COUNT', '1')).toEqual([['5-0', ['n', '5']]]);
    expect(t.run('XRANGE', 's', '-', '+', 'COUNT', '0')).toBe(NIL_ARRAY);
    expect(t.run('XRANGE', 's', '(18446744073709551615-18446744073709551615', '+')).toEqual(
      err('ERR invalid start ID for the interval'),
    );
    expect(t.run('XDEL', 's', '1-0', '3-0', '9-0')).toBe(2);
    const info = t.run('XINFO', 'STREAM', 's') as unknown[];
    expect(info.slice(8, 14)).toEqual([
      'max-deleted-entry-id',
      '3-0',
      'entries-added',
      5,
      'recorded-first-entry-id',
      '2-0',
    ]);
    expect(t.run('XSETID', 's', '4-0')).toEqual(
      err('ERR The ID specified in XSETID is smaller than the target stream top item'),
    );
    expect(t.run('XSETID', 's', '9-0', 'ENTRIESADDED', '7', 'MAXDELETEDID', '8-0')).toEqual(OK);
    expect(t.run('XSETID', 'nokey', '9-0')).toEqual(err('ERR no such key'));
  });
});

describe('consumer groups', () => {
  it('XREADGROUP is written as one XCLAIM per delivered entry, in MULTI/EXEC', async () => {
    const t = await openCommandEngine();
    t.run('XADD', 's', '1-0', 'a', '1');
    t.run('XADD', 's', '2-0', 'b', '2');
    expect(t.run('XGROUP', 'CREATE', 's', 'g', '0')).toEqual(OK);
    t.aof();
    t.advance(7);
    expect(t.run('XREADGROUP', 'GROUP', 'g', 'alice', 'STREAMS', 's', '>')).toEqual([
      [
        's',
        [
          ['1-0', ['a', '1']],
          ['2-0', ['b', '2']],
        ],
      ],
    ]);
    const time = String(T0 + 7);
    const claim = (id: string, last: string) => [
      'XCLAIM',
      's',
      'g',
      'alice',
      '0',
      id,
      'TIME',
      time,
      'RETRYCOUNT',
      '1',
      'FORCE',
      'JUSTID',
      'LASTID',
      last,
    ];
    expect(t.aof()).toEqual([['MULTI'], claim('1-0', '1-0'), claim('2-0', '2-0'), ['EXEC']]);
    // History reads change delivery counts but are not propagated (Redis only bumps dirty).
    expect(t.run('XREADGROUP', 'GROUP', 'g', 'alice', 'STREAMS', 's', '0')).toHaveLength(1);
    expect(t.aof()).toEqual([]);
    expect(t.run('XPENDING', 's', 'g', '-', '+', '10')).toEqual([
      ['1-0', 'alice', 0, 2],
      ['2-0', 'alice', 0, 2],
    ]);
  });

  it('NOACK reads are written as XGROUP CREATECONSUMER and XGROUP SETID ENTRIESREAD', async () => {
    const t = await openCommandEngine();
    t.run('XADD', 's', '1-0', 'a', '1');
    t.run('XGROUP', 'CREATE', 's', 'g', '0');
    t.aof();
    t.run('XREADGROUP', 'GROUP', 'g', 'bob', 'NOACK', 'STREAMS', 's', '>');
    expect(t.aof()).toEqual([
      ['MULTI'],
      ['XGROUP', 'CREATECONSUMER', 's', 'g', 'bob'],
      ['XGROUP', 'SETID', 's', 'g', '1-0', 'ENTRIESREAD', '1'],
      ['EXEC'],
    ]);
  });

  it('XAUTOCLAIM claims idle entries, drops deleted ones, and writes both as XCLAIMs', async () => {
    const t = await openCommandEngine();
    for (let i = 1; i <= 3; i++) t.run('XADD', 's', `${i}-0`, 'n', String(i));
    t.run('XGROUP', 'CREATE', 's', 'g', '0');
    t.run('XREADGROUP', 'GROUP', 'g', 'a', 'STREAMS', 's', '>');
    t.run('XDEL', 's', '2-0');
    t.aof();
    t.advance(1000);
    expect(t.run('XAUTOCLAIM', 's', 'g', 'b', '500', '0', 'COUNT', '2', 'JUSTID')).toEqual([
      '3-0',
      ['1-0'],
      ['2-0'],
    ]);
    const fed = t.aof();
    expect(fed.map((argv) => [argv[0], argv[3], argv[5], argv[9]])).toEqual([
      ['MULTI', undefined, undefined, undefined],
      ['XCLAIM', 'b', '1-0', '1'],
      ['XCLAIM', 'a', '2-0', '1'],
      ['EXEC', undefined, undefined, undefined],
    ]);
    expect(t.run('XPENDING', 's', 'g')).toEqual([
      2,
      '1-0',
      '3-0',
      [
        ['a', '1'],
        ['b', '1'],
      ],
    ]);
  });

  it('XCLAIM moves ownership, FORCE creates entries, the group state survives COPY', async () => {
    const t = await openCommandEngine();
    t.run('XADD', 's', '1-0', 'a', '1');
    t.run('XADD', 's', '2-0', 'b', '2');
    t.run('XGROUP', 'CREATE', 's', 'g', '$');
    expect(
      t.run('XCLAIM', 's', 'g', 'c', '0', '1-0', '2-0', 'FORCE', 'TIME', '5', 'RETRYCOUNT', '3'),
    ).toEqual([
      ['1-0', ['a', '1']],
      ['2-0', ['b', '2']],
    ]);
    expect(t.run('XCLAIM', 's', 'g', 'c', '0', '1-0', 'BOGUS')).toEqual(
      err("ERR Unrecognized XCLAIM option 'BOGUS'"),
    );
    expect(t.run('XCLAIM', 's', 'nog', 'c', '0', '1-0')).toEqual(
      err("NOGROUP No such key 's' or consumer group 'nog'"),
    );
    expect(t.run('COPY', 's', 'd')).toBe(1);
    const s = t.e.server.dbs[0]!.dict.get('s') as RStream;
    const d = t.e.server.dbs[0]!.dict.get('d') as RStream;
    expect(dumpStream(d)).toEqual(dumpStream(s));
    t.run('XACK', 'd', 'g', '1-0');
    expect(dumpStream(d)).not.toEqual(dumpStream(s));
  });
});

describe('RDB payload of a stream', () => {
  async function richStream(): Promise<RStream> {
    const t = await openCommandEngine();
    for (let i = 1; i <= 230; i++) t.run('XADD', 's', `${i}-${i % 3}`, 'k', 'v'.repeat(i % 50));
    t.run('XDEL', 's', '5-2', '150-0');
    t.run('XGROUP', 'CREATE', 's', 'g1', '0');
    t.run('XGROUP', 'CREATE', 's', 'g2', '$', 'ENTRIESREAD', '-1');
    t.run('XREADGROUP', 'GROUP', 'g1', 'alice', 'COUNT', '3', 'STREAMS', 's', '>');
    t.run('XGROUP', 'CREATECONSUMER', 's', 'g2', 'idle');
    return t.e.server.dbs[0]!.dict.get('s') as RStream;
  }

  it('round-trips nodes, metadata, groups, PELs and consumers', async () => {
    const s = await richStream();
    const back = decodeStreamPayload(encodeStreamPayload(s));
    expect(dumpStream(back)).toEqual(dumpStream(s));
    expect(back.nodes.map((n) => [n.masterId, n.live, n.deleted, n.bytes])).toEqual(
      s.nodes.map((n) => [n.masterId, n.live, n.deleted, n.bytes]),
    );
    expect(back.groups.get('g2')!.consumers.get('idle')!.seenTime).toBe(T0);
  });

  it('refuses every truncation and corrupted byte with an error, never a crash', async () => {
    const payload = encodeStreamPayload(await richStream());
    for (let n = 0; n < payload.length; n += 7) {
      expect(() => decodeStreamPayload(payload.subarray(0, n))).toThrow(/bad stream payload/);
    }
    for (let i = 0; i < payload.length; i += 13) {
      const bad = Buffer.from(payload);
      bad[i] = bad[i]! ^ 0x5a;
      try {
        decodeStreamPayload(bad);
      } catch (e) {
        expect((e as Error).message).toMatch(/bad stream payload|listpack/);
      }
    }
  });
});
