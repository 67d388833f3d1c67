// Review finding 6: the rewrite snapshot codec wrote the db id as a single byte (a positive fixint)
// although `databases` accepts up to INT_MAX. With a key in db 128..255 every rewrite failed (0x80
// and up are other MessagePack types, so the writer could not decode the chunk); with db >= 256
// the byte wrapped and the key silently moved to db mod 256 in the new base. Each case here
// rewrites keys spread over high dbs, reopens from the rewritten files alone, and expects every
// key back in its own db, for both base formats (RDB preamble and RESP).

import { describe, expect, it } from 'vitest';
import { openSimEngine, type SimEngine } from '@aofkv/engine/testing';

const DATABASES = 1024;

/** Each case: db ids whose keys a rewrite must keep where they are. */
const CASES = [
  // 128..255 are not fixints: the writer could not decode the chunk, every rewrite failed.
  { name: 'dbs 128..255 and 1023', ids: [5, 127, 128, 130, 255, 1023] },
  // 256 → 0, 300 → 44, 513 → 1: the rewrite "succeeded" and the keys moved db.
  { name: 'dbs 256 and beyond', ids: [0, 5, 256, 300, 513] },
];

async function fillAndRewrite(ids: number[], aofUseRdbPreamble: boolean): Promise<SimEngine> {
  const sim = await openSimEngine({ databases: DATABASES, aofUseRdbPreamble });
  for (const id of ids) {
    const db = sim.engine.db(id);
    await db.set(`key-${id}`, `value-${id}`);
    await db.command('RPUSH', `list-${id}`, 'a', String(id));
  }
  expect(await sim.engine.db(0).command('BGREWRITEAOF')).toBe(
    'Background append only file rewriting started',
  );
  await sim.finishRewrite();
  expect(sim.engine.aof!.info().aof_last_bgrewrite_status).toBe('ok');
  // The rewrite moved everything into the new base: the new INCR has nothing to replay.
  expect(sim.fs.fileContent(sim.currentIncrPath()).length).toBe(0);
  return sim;
}

describe('rewrite with keys in dbs beyond 127 (finding 6)', () => {
  for (const aofUseRdbPreamble of [true, false]) {
    const format = aofUseRdbPreamble ? 'an RDB' : 'a RESP';
    for (const { name, ids } of CASES) {
      it(`${format} base keeps every key in its own db after a reopen: ${name}`, async () => {
        const sim = await fillAndRewrite(ids, aofUseRdbPreamble);
        await sim.engine.close();

        const again = await openSimEngine({ fs: sim.fs, clock: sim.clock, databases: DATABASES });
        for (const id of ids) {
          const db = again.engine.db(id);
          expect(await db.get(`key-${id}`)).toBe(`value-${id}`);
          expect(await db.command('LRANGE', `list-${id}`, '0', '-1')).toEqual(['a', String(id)]);
        }
        // No key anywhere else: a wrapped db id would put one in a db that had none.
        for (let id = 0; id < DATABASES; id++) {
          const expected = ids.includes(id) ? 2 : 0;
          expect(await again.engine.db(id).command('DBSIZE'), `db ${id}`).toBe(expected);
        }
        await again.engine.close();
      });
    }
  }
});
