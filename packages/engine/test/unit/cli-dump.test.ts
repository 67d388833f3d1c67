import { describe, expect, it } from 'vitest';
import { DUMP_FORMAT, dumpBytes, dumpKeyspace } from '../../src/cli/dump.ts';
import { Db, type KeyspaceHooks } from '../../src/keyspace/db.ts';
import { RHash, RList, RSet, RZSet } from '../../src/keyspace/values.ts';

const hooks: KeyspaceHooks = {
  nowMs: () => 0,
  isLoading: () => false,
  onKeyExpired: () => {},
  signalModifiedKey: () => {},
};

function dbs(count = 16): Db[] {
  return Array.from({ length: count }, (_, i) => new Db(i, hooks));
}

function parse(json: string): { format: string; dbs: Record<string, unknown[]> } {
  return JSON.parse(json) as { format: string; dbs: Record<string, unknown[]> };
}

describe('dumpKeyspace', () => {
  it('lists all databases, even empty, in numeric order', () => {
    const json = dumpKeyspace(dbs());
    expect(json).toBe(
      `{"format":"${DUMP_FORMAT}",` +
        `"dbs":{${Array.from({ length: 16 }, (_, i) => `"${i}":[]`).join(',')}}}`,
    );
  });

  it('sorts keys by raw bytes (memcmp order), not by UTF-16 or locale', () => {
    const all = dbs();
    const db = all[0]!;
    // "B" < "a" < "b" < "é" (c3 a9) < 0xff; "a" < "a\0".
    for (const k of ['\xff', 'b', '\xc3\xa9', 'a\x00', 'a', 'B']) db.dict.set(k, 'v');
    const keys = (parse(dumpKeyspace(all)).dbs['0'] as { key: unknown }[]).map((e) => e.key);
    expect(keys).toEqual(['B', 'a', 'a\u0000', 'b', 'é', { base64: '/w==' }]);
  });

  it('writes each type in its canonical form', () => {
    const all = dbs();
    const db = all[3]!;
    db.dict.set('s', 'hello');
    db.dict.set('l', RList.from(['c', 'a', 'b']));
    db.dict.set(
      'h',
      new RHash(
        new Map([
          ['f2', 'v2'],
          ['f1', 'v1'],
          ['f10', ''],
        ]),
      ),
    );
    const set = new RSet();
    for (const m of ['z', '10', 'a', '2']) set.members.add(m);
    db.dict.set('set', set);
    const z = new RZSet();
    z.add('b', 2);
    z.add('c', 1);
    z.add('a', 1);
    z.add('neg', -1.5);
    db.dict.set('z', z);
    expect(parse(dumpKeyspace(all)).dbs['3']).toEqual([
      {
        key: 'h',
        type: 'hash',
        value: [
          ['f1', 'v1'],
          ['f10', ''],
          ['f2', 'v2'],
        ],
        expire_ms: null,
      },
      { key: 'l', type: 'list', value: ['c', 'a', 'b'], expire_ms: null },
      { key: 's', type: 'string', value: 'hello', expire_ms: null },
      { key: 'set', type: 'set', value: ['10', '2', 'a', 'z'], expire_ms: null },
      {
        key: 'z',
        type: 'zset',
        value: [
          ['neg', -1.5],
          ['a', 1],
          ['c', 1],
          ['b', 2],
        ],
        expire_ms: null,
      },
    ]);
  });

  it('zset scores: infinities as strings, -0 as 0, big and tiny numbers as JSON numbers', () => {
    const all = dbs(1);
    // A set big enough for the skiplist encoding keeps -0 (a listpack would already store 0).
    const z = new RZSet(false);
    z.add('i', Infinity);
    z.add('j', -Infinity);
    z.add('negzero', -0);
    z.add('tiny', 5e-324);
    z.add('big', 1.7976931348623157e308);
    all[0]!.dict.set('z', z);
    const json = dumpKeyspace(all);
    expect(json).toContain(
      '"value":[["j","-inf"],["negzero",0],["tiny",5e-324],["big",' +
        '1.7976931348623157e+308],["i","inf"]]',
    );
  });

  it('writes absolute expiry times and keeps keys whose time has passed', () => {
    const all = dbs(1);
    const db = all[0]!;
    db.dict.set('future', 'x');
    db.expires.set('future', 4102444800000);
    db.dict.set('past', 'y');
    db.expires.set('past', 1);
    const entries = parse(dumpKeyspace(all)).dbs['0'] as {
      key: string;
      expire_ms: number | null;
    }[];
    expect(entries.map((e) => [e.key, e.expire_ms])).toEqual([
      ['future', 4102444800000],
      ['past', 1],
    ]);
  });

  it('does not expire or change anything while dumping', () => {
    const all = dbs(1);
    const db = all[0]!;
    db.dict.set('gone', 'x');
    db.expires.set('gone', 1);
    dumpKeyspace(all);
    expect(db.dict.has('gone')).toBe(true);
    expect(db.expires.get('gone')).toBe(1);
  });

  it('byte strings: valid UTF-8 as text, anything else as base64', () => {
    expect(dumpBytes('plain')).toBe('plain');
    expect(dumpBytes('\x00\x7f')).toBe('\u0000\u007f');
    expect(dumpBytes('\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80')).toBe('é€😀');
    expect(dumpBytes('\xff')).toEqual({ base64: '/w==' });
    expect(dumpBytes('\xc3')).toEqual({ base64: 'ww==' }); // truncated sequence
    expect(dumpBytes('\xc0\xaf')).toEqual({ base64: 'wK8=' }); // overlong encoding of "/"
    expect(dumpBytes('\xed\xa0\x80')).toEqual({ base64: '7aCA' }); // an encoded surrogate (CESU-8)
    // A leading byte order mark is content: it must survive (TextDecoder would drop it by default).
    expect(dumpBytes('\xef\xbb\xbfx')).toBe('\ufeffx');
  });

  it('escapes JSON special characters and binary values inside collections', () => {
    const all = dbs(1);
    all[0]!.dict.set('q"\\\n', RList.from(['\xff\x00', 'ok']));
    const json = dumpKeyspace(all);
    expect(json).toContain(
      '{"key":"q\\"\\\\\\n","type":"list","value":[{"base64":"/wA="},"ok"],"expire_ms":null}',
    );
  });
});
