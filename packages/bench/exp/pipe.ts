import fs from 'node:fs';
import { openEngine } from '@aofkv/engine';
import { keyNames, newOp, opGenerator } from '../src/workload.ts';
const dir = '/tmp/pipe'; fs.rmSync(dir, { recursive: true, force: true });
const engine = await openEngine({ dir, appendonly: process.env.OFF ? false : true, appendfsync: 'everysec', autoAofRewritePercentage: 0 });
const db = engine.db(0);
const n = keyNames(); const next = opGenerator('set', 7); const o = newOp();
async function run(ms: number) {
  let stop = false; let ops = 0; setTimeout(() => { stop = true; }, ms);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 4 }, async () => { while (!stop) { const p = db.pipeline(); for (let i = 0; i < 16; i++) { next(o); p.set(n.strings[o.key]!, n.values[o.value]!); } await p.exec(); ops += 16; } }));
  return ops / (performance.now() - t0) * 1000;
}
const r = []; for (let i = 0; i < 4; i++) r.push(((await run(1500)) / 1e3).toFixed(0));
console.log(process.env.OFF ? 'off' : 'everysec', r.join(' '));
await engine.close();
