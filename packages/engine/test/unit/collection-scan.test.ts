// HSCAN / SSCAN / ZSCAN: Redis's guarantee under concurrent changes (every element present for
// the whole scan is returned), the compact encodings returned whole, and the argument errors.
// Replies against redis-server are compared by the differential suite.

import { describe, expect, it } from 'vitest';
import { err, openCommandEngine, type CommandEngine } from '../helpers/command-engine.ts';

type Kind = 'HSCAN' | 'SSCAN' | 'ZSCAN';

function fill(t: CommandEngine, kind: Kind, key: string, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    if (kind === 'HSCAN') t.run('HSET', key, `f${i}`, `v${i}`);
    else if (kind === 'SSCAN') t.run('SADD', key, `m${i}`);
    else t.run('ZADD', key, String(i % 17), `m${i}`);
  }
}

function remove(t: CommandEngine, kind: Kind, key: string, i: number): void {
  const name = kind === 'HSCAN' ? 'HDEL' : kind === 'SSCAN' ? 'SREM' : 'ZREM';
  t.run(name, key, kind === 'HSCAN' ? `f${i}` : `m${i}`);
}

describe('HSCAN / SSCAN / ZSCAN', () => {
  for (const kind of ['HSCAN', 'SSCAN', 'ZSCAN'] as const) {
    it(`${kind} returns every element present for the whole scan, amid changes`, async () => {
      const t = await openCommandEngine();
      fill(t, kind, 'k', 0, 600);
      const seen = new Set<string>();
      let cursor = '0';
      let calls = 0;
      let added = 600;
      do {
        const [next, items] = t.run(kind, 'k', cursor, 'COUNT', '7') as [string, string[]];
        const step = kind === 'SSCAN' ? 1 : 2;
        for (let i = 0; i < items.length; i += step) seen.add(items[i]!);
        cursor = next;
        calls++;
        // Delete elements 500..599 over the scan and add new ones.
        remove(t, kind, 'k', 500 + (calls % 100));
        fill(t, kind, 'k', added, added + 2);
        added += 2;
      } while (cursor !== '0' && calls < 10_000);
      expect(cursor).toBe('0');
      expect(calls).toBeGreaterThan(10);
      const prefix = kind === 'HSCAN' ? 'f' : 'm';
      for (let i = 0; i < 500; i++) expect(seen.has(`${prefix}${i}`), `${prefix}${i}`).toBe(true);
    });
  }

  it('returns a compact collection whole, in order, cursor 0, whatever COUNT says', async () => {
    const t = await openCommandEngine();
    t.run('HSET', 'h', 'b', '1', 'a', '2');
    t.run('SADD', 's', '10', '-3', '2');
    t.run('ZADD', 'z', '2', 'x', '1', 'y');
    expect(t.run('HSCAN', 'h', '0', 'COUNT', '1')).toEqual(['0', ['b', '1', 'a', '2']]);
    expect(t.run('SSCAN', 's', '0', 'MATCH', '*0')).toEqual(['0', ['10']]);
    expect(t.run('ZSCAN', 'z', '0')).toEqual(['0', ['y', '1', 'x', '2']]);
    expect(t.run('HSCAN', 'none', '0', 'BOGUS')).toEqual(['0', []]);
    expect(t.run('HSCAN', 'h', 'x')).toEqual(err('ERR invalid cursor'));
    expect(t.run('HSCAN', 'h', '0', 'TYPE', 'string')).toEqual(err('ERR syntax error'));
    expect(t.run('SSCAN', 'h', '0')).toEqual(
      err('WRONGTYPE Operation against a key holding the wrong kind of value'),
    );
  });
});
